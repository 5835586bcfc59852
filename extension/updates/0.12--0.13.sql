--------------------------------------------------------------------------------
-- 0.12 -> 0.13: a plain dump's records stream to nfpg-dump -q
--
-- nfdump_records() (37_dump_records.sql, new) gives the query of a quiet
-- plain dump's records and the values of its parameters; nfpg-dump -q runs
-- it itself, so the lines stream from the query's plan instead of being
-- kept whole by the plpgsql function first.  nfdump() now makes the same
-- query with the same function (nf_dump_records_sql) and its scope
-- condition with nf_dump_scope(): its output does not change.
--------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION nfpg.nfdump(stats text[] DEFAULT NULL, top integer DEFAULT NULL,
	filter text DEFAULT NULL, time_window text DEFAULT NULL, aggregate text DEFAULT NULL,
	fields text DEFAULT NULL, print_order text DEFAULT NULL, format text DEFAULT NULL,
	record_limit integer DEFAULT 0, packet_limit text DEFAULT NULL, byte_limit text DEFAULT NULL,
	scope text DEFAULT NULL, scope_from timestamptz DEFAULT NULL, scope_to timestamptz DEFAULT NULL,
	plain boolean DEFAULT false, long_v6 boolean DEFAULT false, quiet boolean DEFAULT false)
RETURNS SETOF text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	t_from		timestamptz;
	t_to		timestamptz;
	fmt			text := format;
	mode		text;
	st			text;
	sp			record;
	k			record;
	ti			record;
	ord			text;
	elements	text[] := '{}';		-- "type|order|a|d" of each element table
	el_specs	text[] := '{}';		-- their nf_topn specifications
	el_keys		text[] := '{}';		-- and key expressions
	rec_orders	text[];
	rec_asc		boolean := false;
	flow_stat	boolean := false;
	plain_dump	boolean;			-- records printed one by one, no -s, -a, -A
	agg_mode	text;
	keys		text;
	names		text;
	pass		text;
	scope_w		text := 'true';
	src			text;
	q			text;
	res			jsonb;
	pl			record;
	bl			record;
	json_end	text;
	p_lim		bigint;
	p_more		boolean;
	b_lim		bigint;
	b_more		boolean;
	n			integer;
	line		text;
	r			record;
	i			integer;
BEGIN
	IF time_window IS NOT NULL THEN
		SELECT w.t_from, w.t_to INTO t_from, t_to FROM nfpg.nf_time_window(time_window) w;
	END IF;
	IF record_limit IS NULL OR record_limit < 0 THEN
		RAISE EXCEPTION 'Option -c needs a number > 0' USING ERRCODE = 'invalid_parameter_value';
	END IF;

	-- -s: element statistics and -s record
	FOREACH st IN ARRAY coalesce(stats, '{}') LOOP
		sp := nfpg.nf_stat_spec(st);
		IF sp.stat_type = 'record' THEN
			flow_stat := true;
			rec_orders := sp.orders;
			rec_asc := sp.ascending;
			CONTINUE;
		END IF;
		IF (SELECT t.title FROM nfpg.nf_stat_title(sp.stat_type) t) IS NULL THEN
			RAISE EXCEPTION 'Unknown stat: ''%''!', st USING ERRCODE = 'invalid_parameter_value';
		END IF;
		PERFORM nfpg.nf_stat_keys(sp.stat_type);		-- types nfpg.flows cannot answer fail here
		FOREACH ord IN ARRAY sp.orders LOOP
			elements := elements || format('%s|%s|%s', sp.stat_type, ord, CASE WHEN sp.ascending THEN 'a' ELSE 'd' END);
		END LOOP;
	END LOOP;
	IF top IS NULL THEN
		top := CASE WHEN cardinality(stats) > 0 THEN 10 ELSE 0 END;
	END IF;
	IF print_order IS NOT NULL AND flow_stat THEN
		RAISE EXCEPTION '-s record and -O (-m) are mutually exclusive options' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF fields IS NOT NULL AND cardinality(elements) > 0 AND NOT flow_stat THEN
		RAISE WARNING 'Warning: Aggregation ignored for element statistics';
		fields := NULL;
	END IF;
	IF aggregate IS NOT NULL AND (flow_stat OR cardinality(elements) > 0) THEN
		RAISE WARNING 'Command line switch -s overwrites -a';
		aggregate := CASE WHEN aggregate IN ('b', 'B') THEN aggregate END;
	END IF;
	IF fmt IS NULL THEN
		fmt := CASE WHEN fields IS NOT NULL THEN nfpg.nf_aggregate_format(fields)
					WHEN aggregate IN ('b', 'B') THEN 'biline' ELSE 'nsel' END;
	END IF;
	mode := CASE WHEN fmt IN ('csv', 'pipe', 'json') THEN fmt ELSE 'line' END;
	-- json: "[", the objects joined by ",", "]" after the last (none with -q)
	IF mode = 'json' THEN
		json_end := CASE WHEN quiet THEN '' ELSE ']' END;
	END IF;
	PERFORM nfpg.nf_format_header(fmt, long_v6);	-- a bad format fails before any output

	-- -l / -L: printed first, applied to element statistics only (as 1.7.1)
	IF packet_limit IS NOT NULL OR byte_limit IS NOT NULL THEN
		IF cardinality(elements) = 0 AND NOT flow_stat AND aggregate IS NULL AND fields IS NULL THEN
			RAISE EXCEPTION 'Options -l and -L do not make sense for plain packet dumps.'
				USING ERRCODE = 'invalid_parameter_value',
					  HINT = 'Use -l and -L together with -s -S or -a. Use netflow filter syntax to limit the number of packets and bytes in netflow records.';
		END IF;
		IF byte_limit IS NOT NULL THEN
			bl := nfpg.nf_limit(byte_limit, 'bytes');
			b_lim := bl.lim;
			b_more := bl.more;
			RETURN NEXT bl.line;
		END IF;
		IF packet_limit IS NOT NULL THEN
			pl := nfpg.nf_limit(packet_limit, 'packets');
			p_lim := pl.lim;
			p_more := pl.more;
			RETURN NEXT pl.line;
		END IF;
	END IF;

	-- which rows stand for the input files, which pass
	scope_w := nfpg.nf_dump_scope(scope, scope_from, scope_to);
	pass := nfpg.nf_stat_where(filter, t_from, t_to);
	src := 'nfpg.flows WHERE ' || scope_w;
	IF record_limit > 0 THEN
		-- -c: the first N passing records in the order nfcapd wrote them
		src := format('(SELECT *, tableoid AS rpart, nfpg.nf_row_place(ctid) AS rid FROM nfpg.flows WHERE %s AND %s'
			' ORDER BY received, tableoid, nfpg.nf_row_place(ctid) LIMIT %s) f',
					  scope_w, pass, record_limit);
	END IF;

	-- the summary and every element table in one scan
	q := 'SELECT jsonb_build_object(''processed'', count(*), ''passed'', count(*) FILTER (WHERE ' || pass || '),'
		 ' ''flows'', sum(greatest(flows, 1)) FILTER (WHERE ' || pass || '),'
		 ' ''bytes'', sum(bytes + coalesce(out_bytes, 0)) FILTER (WHERE ' || pass || '),'
		 ' ''packets'', sum(packets + coalesce(out_packets, 0)) FILTER (WHERE ' || pass || '),'
		 ' ''p_first'', min(first_seen) FILTER (WHERE ' || pass || '),'
		 ' ''p_last'', max(last_seen) FILTER (WHERE ' || pass || '),'
		 ' ''s_first'', min(first_seen), ''s_last'', max(last_seen)';
	i := 0;
	FOREACH st IN ARRAY elements LOOP
		k := nfpg.nf_stat_keys(split_part(st, '|', 1));
		el_specs := el_specs || format('%s %s%s %s %s', CASE WHEN k.two_sided THEN 'stat2' ELSE 'stat' END,
					split_part(st, '|', 2), CASE split_part(st, '|', 3) WHEN 'a' THEN ':a' ELSE '' END,
					CASE WHEN p_lim IS NOT NULL OR b_lim IS NOT NULL THEN 0 ELSE top END, k.fields);
		el_keys := el_keys || k.keys;
		q := q || format(', %L, to_jsonb(nfpg.nf_topn(%L, flows, packets, bytes, out_packets, out_bytes,'
			 ' first_seen, last_seen, tcp_flags, src_tos, %s) FILTER (WHERE %s))', 's' || i,
			 el_specs[i + 1], k.keys, pass);
		i := i + 1;
	END LOOP;
	plain_dump := cardinality(elements) = 0 AND NOT flow_stat AND aggregate IS NULL AND fields IS NULL;
	IF quiet AND plain_dump AND record_limit = 0 THEN
		-- -q over a plain dump prints no Summary: nothing to count before the
		-- records (over a packed day that count read every flow, five times
		-- the records' own time); "No matching flows" is told by the rows
		-- the records' query returns
		res := NULL;
	ELSIF record_limit = 0 AND nfpg.is_coordinator() THEN
		-- the same numbers, each node's part computed on the node
		q := nfpg.nf_dump_nodes_sql(scope_w, pass, el_specs, el_keys);
		EXECUTE q INTO res USING NULL::text, t_from, t_to, scope_from, scope_to;
	ELSIF record_limit = 0 THEN
		-- the same numbers from scans that aggregate (heap_agg.c, pack_agg.c):
		-- each table an nf_topn_summary over the flows that pass, which also
		-- gives the Summary's totals (with no table, one by protocol gives
		-- them), and what was read in the time scope when the filter or -t
		-- leaves flows out
		res := nfpg.nf_dump_summary(scope_w, pass, el_specs, el_keys, t_from, t_to, scope_from, scope_to);
	ELSE
		q := q || ') FROM ' || src;
		EXECUTE q INTO res USING NULL::text, t_from, t_to, scope_from, scope_to;
	END IF;
	IF record_limit > 0 THEN
		-- nfdump stops reading at the N-th passing record
		EXECUTE format('SELECT count(*) FROM (SELECT sum((%s)::int) OVER (ORDER BY received, tableoid, nfpg.nf_row_place(ctid)'
					   ' ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS before FROM nfpg.flows WHERE %s) x'
					   ' WHERE coalesce(before, 0) < %s', pass, scope_w, record_limit)
			INTO n USING NULL::text, t_from, t_to, scope_from, scope_to;
		res := res || jsonb_build_object('processed', n);
		EXECUTE 'SELECT jsonb_build_object(''s_first'', min(first_seen), ''s_last'', max(last_seen)) FROM nfpg.flows WHERE '
			|| scope_w INTO q USING NULL::text, t_from, t_to, scope_from, scope_to;
		res := res || q::jsonb;
		pass := 'true';
	END IF;

	-- plain dump: the header before the records
	IF cardinality(elements) = 0 AND NOT flow_stat AND NOT quiet AND mode IN ('line', 'csv') THEN
		RETURN NEXT nfpg.nf_format_header(fmt, long_v6);
	END IF;
	IF NOT quiet AND mode = 'json' AND cardinality(elements) = 0 AND NOT flow_stat THEN
		RETURN NEXT '[';
	END IF;
	IF plain_dump THEN
		-- the records in the order nfcapd wrote them, or sorted by -O (the
		-- query nfdump_records() gives nfpg-dump -q to stream)
		RETURN QUERY EXECUTE nfpg.nf_dump_records_sql(fmt, plain, long_v6, print_order, top, json_end,
			CASE WHEN record_limit > 0 THEN src END, scope_w, pass)
			USING NULL::text, t_from, t_to, scope_from, scope_to;
		GET DIAGNOSTICS n = ROW_COUNT;
		res := coalesce(res, jsonb_build_object('passed', n));
	END IF;
	IF (res->>'passed')::bigint = 0 THEN
		RETURN NEXT 'No matching flows';
		IF json_end = ']' THEN
			RETURN NEXT ']';
		END IF;
	END IF;

	-- aggregated records: -a, -A, -b, -B, -O, -s record
	IF aggregate IS NOT NULL OR fields IS NOT NULL OR flow_stat THEN
		IF fields IS NOT NULL THEN
			agg_mode := 'A';
			FOREACH st IN ARRAY string_to_array(fields, ',') LOOP
				k := nfpg.nf_aggregate_key(st);
				IF split_part(k.spec, '/', 1) = ANY (string_to_array(names, ',')) THEN
					RAISE EXCEPTION 'Duplicate aggregation mask: %', btrim(st) USING ERRCODE = 'invalid_parameter_value';
				END IF;
				keys := concat_ws(', ', keys, k.expr);
				names := concat_ws(',', names, k.spec);
			END LOOP;
		ELSE
			agg_mode := CASE aggregate WHEN 'b' THEN 'b' WHEN 'B' THEN 'B' ELSE 'a' END;
			keys := 'src_addr, dst_addr, src_port, dst_port, proto';
			names := 'src_addr,dst_addr,src_port,dst_port,proto';
		END IF;
		FOREACH ord IN ARRAY CASE WHEN flow_stat THEN rec_orders ELSE ARRAY[coalesce(lower(print_order), '-')] END LOOP
			IF flow_stat AND NOT quiet AND mode = 'line' THEN
				RETURN NEXT CASE WHEN top <> 0 THEN format('Top %s flows ordered by %s:', top, ord)
							ELSE format('Top flows ordered by %s:', ord) END;
			END IF;
			IF flow_stat AND NOT quiet AND mode IN ('line', 'csv') THEN
				RETURN NEXT nfpg.nf_format_header(fmt, long_v6);
			END IF;
			IF flow_stat AND NOT quiet AND mode = 'json' THEN
				RETURN NEXT '[';
			END IF;
			RETURN QUERY EXECUTE format(
				'WITH a AS (SELECT * FROM unnest((%s)) WITH ORDINALITY AS r)%s'
				' SELECT nfpg.nf_format(m, %L, %L, %L)%s FROM (SELECT %s, a.ordinality FROM a %s) m ORDER BY ordinality',
				CASE WHEN record_limit > 0 OR NOT nfpg.is_coordinator() THEN
					format('SELECT nfpg.nf_topn_records(%L, flows, packets, bytes, out_packets, out_bytes,'
						   ' first_seen, last_seen, tcp_flags, src_tos, %s) FROM %s AND %s',
						   format('%s %s%s %s %s', agg_mode, ord, CASE WHEN flow_stat AND rec_asc THEN ':a' ELSE '' END, top, names),
						   keys, CASE WHEN record_limit > 0 THEN src || ' WHERE true' ELSE src END, pass)
				ELSE nfpg.nf_topn_sql('nf_topn_records',
						   format('%s %s%s %s %s', agg_mode, ord, CASE WHEN flow_stat AND rec_asc THEN ':a' ELSE '' END, top, names),
						   'flows, packets, bytes, out_packets, out_bytes, first_seen, last_seen, tcp_flags, src_tos, ' || keys,
						   scope_w || ' AND ' || pass) END,
				CASE WHEN agg_mode = 'A' THEN '' ELSE format(
					', s AS (SELECT DISTINCT ON (src_addr, dst_addr, src_port, dst_port, proto) * FROM %s'
					' WHERE (src_addr, dst_addr, src_port, dst_port, proto) IN'
					' (SELECT src_addr, dst_addr, src_port, dst_port, proto FROM a)'
					' ORDER BY src_addr, dst_addr, src_port, dst_port, proto, received, rpart, rid)',
					CASE WHEN record_limit > 0 THEN src
						 ELSE '(SELECT *, tableoid AS rpart, nfpg.nf_row_place(ctid) AS rid FROM nfpg.flows WHERE ' || scope_w || ' AND ' || pass || ') f' END) END,
				fmt, plain, long_v6,
				CASE WHEN json_end IS NOT NULL THEN format(' || CASE WHEN lead(true) OVER (ORDER BY ordinality) IS NULL'
					' THEN %L ELSE '','' END', json_end) ELSE '' END,
				nfpg.nf_record_columns(agg_mode),
				CASE WHEN agg_mode = 'A' THEN '' ELSE
					'LEFT JOIN s ON (s.src_addr, s.dst_addr, s.src_port, s.dst_port, s.proto)'
					' = (a.src_addr, a.dst_addr, a.src_port, a.dst_port, a.proto)' END)
				USING NULL::text, t_from, t_to, scope_from, scope_to;
		END LOOP;
	END IF;

	-- element statistics
	i := 0;
	FOREACH st IN ARRAY elements LOOP
		SELECT * INTO ti FROM nfpg.nf_stat_title(split_part(st, '|', 1));
		IF mode = 'line' AND NOT quiet THEN
			RETURN NEXT CASE WHEN top <> 0 THEN format('Top %s %s ordered by %s:', top, ti.title, split_part(st, '|', 2))
						ELSE format('Top %s ordered by %s:', ti.title, split_part(st, '|', 2)) END;
			RETURN NEXT format('Date first seen                 Duration Proto %s    Flows(%%)     Packets(%%)       Bytes(%%)         pps      bps   bpp',
				lpad(ti.title, CASE WHEN long_v6 AND ti.kind = 'addr' THEN 39 ELSE 17 END));
		ELSIF mode = 'csv' THEN
			RETURN NEXT CASE WHEN split_part(st, '|', 2) IN ('flows', 'ipkg', 'ibyte', 'ipps', 'ibps', 'ibpp')
								THEN 'ts,te,td,pr,val,fl,flP,ipkt,ipktP,ibyt,ibytP,ipps,ibps,ibpp'
							WHEN split_part(st, '|', 2) IN ('opkg', 'obyte', 'opps', 'obps', 'obpp')
								THEN 'ts,te,td,pr,val,fl,flP,opkt,opktP,obyt,obytP,opps,obps,obpp'
							ELSE 'ts,te,td,pr,val,fl,flP,pkt,pktP,byt,bytP,pps,bps,bpp' END;
		END IF;
		n := 0;
		FOR r IN SELECT * FROM jsonb_populate_recordset(NULL::nfpg.stat_row, coalesce(res->('s' || i), '[]')) LOOP
			IF b_lim IS NOT NULL AND ((b_more AND r.bytes <= b_lim) OR (NOT b_more AND r.bytes >= b_lim)) THEN
				CONTINUE;
			END IF;
			IF p_lim IS NOT NULL AND ((p_more AND r.packets <= p_lim) OR (NOT p_more AND r.packets >= p_lim)) THEN
				CONTINUE;
			END IF;
			n := n + 1;
			EXIT WHEN top > 0 AND n > top;
			IF mode = 'json' THEN
				RETURN NEXT 'Not yet implemented output format';
				CONTINUE;
			END IF;
			RETURN NEXT nfpg.nf_stat_line(mode, ti.kind, r.value, r.proto, r.first_seen, r.last_seen,
				r.flows, r.flows_pct, r.packets, r.packets_pct, r.bytes, r.bytes_pct, r.pps, r.bps, r.bpp,
				plain, long_v6);
		END LOOP;
		RETURN NEXT '';
		i := i + 1;
	END LOOP;

	IF mode = 'json' AND NOT quiet AND cardinality(elements) > 0 THEN
		RETURN NEXT ']';		-- nfdump's json epilog, even without its prolog
	END IF;

	IF NOT quiet THEN
		RETURN QUERY SELECT * FROM nfpg.nf_summary_lines(mode, plain, (res->>'processed')::bigint,
			(res->>'passed')::bigint, (res->>'flows')::bigint, (res->>'bytes')::bigint,
			(res->>'packets')::bigint, (res->>'p_first')::timestamptz, (res->>'p_last')::timestamptz,
			(res->>'s_first')::timestamptz, (res->>'s_last')::timestamptz, t_from, t_to);
	END IF;
END
$$;
