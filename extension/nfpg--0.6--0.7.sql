\echo Use "ALTER EXTENSION nfpg UPDATE" to load this file. \quit
--------------------------------------------------------------------------------
-- 0.6 -> 0.7: row-store hours compute their share of a statistic in their scan
--
-- nf_stat and nf_aggregate now switch partitionwise aggregation on for every
-- query, not only when packed hours exist: a row-store hour's partial
-- aggregate is computed by a custom scan (heap_agg.c) that reads the heap and
-- adds the flows' columns to the statistic itself; nf_topn_trans gets a
-- planner support function whose call loads the library, whose planner hook
-- offers that scan.  nf_topn_plan() replaces nf_topn_plan_packed(); nf_stat
-- and nf_aggregate below are the 0.7 bodies of 30_stat.sql (they call
-- nf_topn_plan).  nfdump() (nfpg-dump) takes
-- its Summary and -s tables from nf_topn_summary, an nf_topn that also
-- returns the totals, which the scans compute too (nf_dump_summary, the 0.7
-- body of nfdump() from 36_present.sql).
--------------------------------------------------------------------------------

-- The transition function's planner support loads the library while a
-- statistic is planned, so that the scans that aggregate are offered from a
-- session's first query on (topn_pushdown.c).
CREATE FUNCTION nfpg.nf_topn_support(internal)
RETURNS internal AS 'MODULE_PATHNAME', 'nf_topn_support' LANGUAGE C STRICT;
COMMENT ON FUNCTION nfpg.nf_topn_support(internal) IS 'Planner support of nf_topn_trans: loads the library before the grouping is planned';
ALTER FUNCTION nfpg.nf_topn_trans(internal, text, integer, bigint, bigint, bigint, bigint,
	timestamptz, timestamptz, smallint, smallint, "any") SUPPORT nfpg.nf_topn_support;

DROP FUNCTION nfpg.nf_topn_plan_packed();
CREATE FUNCTION nfpg.nf_topn_plan()
RETURNS text
AS 'MODULE_PATHNAME', 'nf_topn_plan'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION nfpg.nf_topn_plan() IS 'Switch partitionwise aggregation on for this transaction, so that every partition computes its share of a Top-N statistic in its scan; returns the previous setting';

CREATE OR REPLACE FUNCTION nfpg.nf_stat(stat_type text, order_by text DEFAULT 'flows', top integer DEFAULT 10,
	filter text DEFAULT NULL, t_from timestamptz DEFAULT NULL, t_to timestamptz DEFAULT NULL)
RETURNS TABLE (rank bigint, value text, proto smallint, first_seen timestamptz, last_seen timestamptz,
	duration interval, flows bigint, flows_pct double precision, packets bigint,
	packets_pct double precision, bytes bigint, bytes_pct double precision,
	pps bigint, bps bigint, bpp bigint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	k		record;
	spec	text;
	prev	text;
BEGIN
	-- nfdump's spelling 'ip/bytes': the order after the slash wins
	IF position('/' IN stat_type) > 0 THEN
		order_by := split_part(stat_type, '/', 2);
		stat_type := split_part(stat_type, '/', 1);
	END IF;
	k := nfpg.nf_stat_keys(stat_type);
	IF top IS NULL OR top < 0 THEN
		RAISE EXCEPTION 'nf_stat: top must be 0 (all) or more' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF order_by IS NULL OR order_by !~ '^[a-z]+(:[ad])?$' THEN
		RAISE EXCEPTION 'nf_stat: bad order key "%"', order_by USING ERRCODE = 'invalid_parameter_value';
	END IF;
	spec := format('%s %s %s %s', CASE WHEN k.two_sided THEN 'stat2' ELSE 'stat' END,
				   lower(order_by), top, k.fields);
	prev := nfpg.nf_topn_plan();
	RETURN QUERY EXECUTE format(
		'SELECT s.ord, s.value, s.proto, s.first_seen, s.last_seen, s.duration, s.flows,'
		' s.flows_pct, s.packets, s.packets_pct, s.bytes, s.bytes_pct, s.pps, s.bps, s.bpp'
		' FROM unnest((%s))'
		' WITH ORDINALITY AS s(value, proto, first_seen, last_seen, duration, flows, flows_pct,'
		' packets, packets_pct, bytes, bytes_pct, pps, bps, bpp, ord)',
		nfpg.nf_topn_sql('nf_topn', spec, 'flows, packets, bytes, out_packets, out_bytes,'
						 ' first_seen, last_seen, tcp_flags, src_tos, ' || k.keys,
						 nfpg.nf_stat_where(filter, t_from, t_to)))
		USING NULL::text, t_from, t_to;
	PERFORM set_config('enable_partitionwise_aggregate', prev, true);
END
$$;

CREATE OR REPLACE FUNCTION nfpg.nf_aggregate(fields text DEFAULT NULL, order_by text DEFAULT NULL,
	top integer DEFAULT 0, filter text DEFAULT NULL, t_from timestamptz DEFAULT NULL,
	t_to timestamptz DEFAULT NULL, bidirectional boolean DEFAULT false,
	guess_direction boolean DEFAULT false)
RETURNS SETOF nfpg.flow
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	mode	text;
	keys	text;
	names	text;
	k		record;
	seen	text[] := '{}';
	prev	text;
BEGIN
	IF top IS NULL OR top < 0 THEN
		RAISE EXCEPTION 'nf_aggregate: top must be 0 (all) or more' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF order_by IS NOT NULL AND order_by !~ '^[a-z]+(:[ad])?$' THEN
		RAISE EXCEPTION 'nf_aggregate: bad order key "%"', order_by USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF fields IS NOT NULL AND (bidirectional OR guess_direction) THEN
		RAISE EXCEPTION 'nf_aggregate: can not set custom aggregation in bidir mode'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF fields IS NULL THEN
		mode := CASE WHEN guess_direction THEN 'B' WHEN bidirectional THEN 'b' ELSE 'a' END;
		keys := 'src_addr, dst_addr, src_port, dst_port, proto';
		names := 'src_addr,dst_addr,src_port,dst_port,proto';
	ELSE
		mode := 'A';
		FOREACH fields IN ARRAY string_to_array(fields, ',') LOOP
			k := nfpg.nf_aggregate_key(fields);
			IF split_part(k.spec, '/', 1) = ANY (seen) THEN
				RAISE EXCEPTION 'nf_aggregate: duplicate aggregation mask "%"', btrim(fields)
					USING ERRCODE = 'invalid_parameter_value';
			END IF;
			seen := seen || split_part(k.spec, '/', 1);
			keys := concat_ws(', ', keys, k.expr);
			names := concat_ws(',', names, k.spec);
		END LOOP;
		IF keys IS NULL THEN
			RAISE EXCEPTION 'nf_aggregate: no aggregation field in "%"', fields
				USING ERRCODE = 'invalid_parameter_value',
					  HINT = 'Name fields as nfdump -A does, e.g. ''srcip,dstport'', or pass NULL for -a.';
		END IF;
	END IF;
	prev := nfpg.nf_topn_plan();
	RETURN QUERY EXECUTE format('SELECT * FROM unnest((%s))',
		nfpg.nf_topn_sql('nf_topn_records', format('%s %s %s %s', mode, coalesce(lower(order_by), '-'), top, names),
						 'flows, packets, bytes, out_packets, out_bytes, first_seen, last_seen, tcp_flags, src_tos, ' || keys,
						 nfpg.nf_stat_where(filter, t_from, t_to)))
		USING NULL::text, t_from, t_to;
	PERFORM set_config('enable_partitionwise_aggregate', prev, true);
END
$$;

-- nfdump's statistic and its Summary line in one aggregate: the top groups
-- and the totals of every flow added (what passed the filter).  nfdump()
-- (nfpg-dump) takes both from it, and a partition's scan computes it itself
-- as it does nf_topn (heap_agg.c, pack_agg.c): one partial state, its own
-- final function.
CREATE TYPE nfpg.stat_summary AS (
	rows				nfpg.stat_row[],
	passed				bigint,
	flows				bigint,
	bytes				bigint,
	packets				bigint,
	first_seen			timestamptz,
	last_seen			timestamptz
);
COMMENT ON TYPE nfpg.stat_summary IS 'An nfdump -s table (rows) and the totals of the flows it counted: records, flows, bytes and packets (both directions), first and last seen (NULL when none)';

CREATE FUNCTION nfpg.nf_topn_summary_final(internal)
RETURNS nfpg.stat_summary AS 'MODULE_PATHNAME', 'nf_topn_summary_final' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION nfpg.nf_topn_summary_final(internal) IS 'Final function of nf_topn_summary: the top groups and the totals';

CREATE AGGREGATE nfpg.nf_topn_summary(spec text, flows integer, packets bigint, bytes bigint,
	out_packets bigint, out_bytes bigint, first_seen timestamptz, last_seen timestamptz,
	tcp_flags smallint, tos smallint, VARIADIC keys "any") (
	SFUNC = nfpg.nf_topn_trans,
	STYPE = internal,
	FINALFUNC = nfpg.nf_topn_summary_final,
	COMBINEFUNC = nfpg.nf_topn_combine,
	SERIALFUNC = nfpg.nf_topn_serial,
	DESERIALFUNC = nfpg.nf_topn_deserial,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE nfpg.nf_topn_summary(text, integer, bigint, bigint, bigint, bigint, timestamptz, timestamptz, smallint, smallint, "any") IS
'nf_topn with the totals of the flows it counted (nfpg.stat_summary): nfdump''s -s table and its Summary line in one pass';

-- nfdump()'s numbers (the Summary, the time window and every -s table) for
-- the flows of the scope (scope_w) that pass (pass), as jsonb: one
-- nf_topn_summary a table, each computed in the partitions' scans, and the
-- flows read in the scope counted apart only when the filter or -t leaves
-- some out.  Both conditions are SQL this extension made (nf_stat_where,
-- nf_filter_sql), with $2 to $5 the time window and the scope's bounds.
CREATE FUNCTION nfpg.nf_dump_summary(scope_w text, pass text, specs text[], keys text[],
	t_from timestamptz, t_to timestamptz, scope_from timestamptz, scope_to timestamptz)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	res		jsonb := '{}';
	sm		nfpg.stat_summary;
	read	jsonb;
	prev	text := nfpg.nf_topn_plan();
BEGIN
	-- with no table, one by protocol gives the totals
	FOR i IN 1 .. greatest(cardinality(specs), 1) LOOP
		EXECUTE format('SELECT (s).* FROM (SELECT nfpg.nf_topn_summary(%L, flows, packets, bytes, out_packets,'
					   ' out_bytes, first_seen, last_seen, tcp_flags, src_tos, %s) AS s FROM nfpg.flows WHERE %s AND %s) x',
					   coalesce(specs[i], 'stat flows 1 proto'), coalesce(keys[i], 'proto'), scope_w, pass)
			INTO sm USING NULL::text, t_from, t_to, scope_from, scope_to;
		IF i <= cardinality(specs) THEN
			res := res || jsonb_build_object('s' || (i - 1), to_jsonb(sm.rows));
		END IF;
	END LOOP;
	res := res || jsonb_build_object('passed', sm.passed, 'flows', sm.flows, 'bytes', sm.bytes,
		'packets', sm.packets, 'p_first', sm.first_seen, 'p_last', sm.last_seen);
	IF pass = 'true' THEN
		read := jsonb_build_object('processed', sm.passed, 's_first', sm.first_seen, 's_last', sm.last_seen);
	ELSE
		EXECUTE 'SELECT jsonb_build_object(''processed'', count(*), ''s_first'', min(first_seen),'
				' ''s_last'', max(last_seen)) FROM nfpg.flows WHERE ' || scope_w
			INTO read USING NULL::text, t_from, t_to, scope_from, scope_to;
	END IF;
	PERFORM set_config('enable_partitionwise_aggregate', prev, true);
	RETURN res || read;
END
$$;
COMMENT ON FUNCTION nfpg.nf_dump_summary(text, text, text[], text[], timestamptz, timestamptz, timestamptz, timestamptz) IS 'Internal to nfdump(): the Summary, time window and -s tables of the flows of a scope that pass a filter, from scans that aggregate';

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
	IF scope IS NOT NULL THEN
		scope_w := '(' || nfpg.nf_filter_sql(scope) || ')';
	END IF;
	IF scope_from IS NOT NULL THEN
		scope_w := scope_w || ' AND received >= $4';
	END IF;
	IF scope_to IS NOT NULL THEN
		scope_w := scope_w || ' AND received < $5';
	END IF;
	pass := nfpg.nf_stat_where(filter, t_from, t_to);
	src := 'nfpg.flows WHERE ' || scope_w;
	IF record_limit > 0 THEN
		-- -c: the first N passing records in the order nfcapd wrote them
		src := format('(SELECT *, ctid AS rid FROM nfpg.flows WHERE %s AND %s ORDER BY received, ctid LIMIT %s) f',
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
	IF record_limit = 0 AND nfpg.is_coordinator() THEN
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
		EXECUTE format('SELECT count(*) FROM (SELECT sum((%s)::int) OVER (ORDER BY received, ctid'
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
	IF cardinality(elements) = 0 AND NOT flow_stat AND aggregate IS NULL AND fields IS NULL THEN
		-- the records in the order nfcapd wrote them, or sorted by -O
		RETURN QUERY EXECUTE format('SELECT nfpg.nf_format(f, %L, %L, %L)%s FROM %s ORDER BY %s received, rid %s',
			fmt, plain, long_v6,
			CASE WHEN json_end IS NOT NULL THEN format(' || CASE WHEN lead(true) OVER (ORDER BY %s received, rid) IS NULL'
				' THEN %L ELSE '','' END', nfpg.nf_record_order(print_order), json_end) ELSE '' END,
			CASE WHEN record_limit > 0 THEN src ELSE '(SELECT *, ctid AS rid FROM nfpg.flows WHERE ' || scope_w || ' AND ' || pass || ') f' END,
			nfpg.nf_record_order(print_order),
			CASE WHEN print_order IS NOT NULL AND top > 0 THEN 'LIMIT ' || top ELSE '' END)
			USING NULL::text, t_from, t_to, scope_from, scope_to;
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
					' ORDER BY src_addr, dst_addr, src_port, dst_port, proto, received, rid)',
					CASE WHEN record_limit > 0 THEN src
						 ELSE '(SELECT *, ctid AS rid FROM nfpg.flows WHERE ' || scope_w || ' AND ' || pass || ') f' END) END,
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
--------------------------------------------------------------------------------
-- Grants of the foundation's objects to the roles of 05_roles.sql
--
-- The SECURITY DEFINER functions the loader calls run as nfpg_owner, which
-- owns nfpg.flows and its partitions (setup(), create_partition()) and may
-- change exactly the bookkeeping tables they keep: a flaw in one of them
-- gives its caller nfpg_owner's rights, never a superuser's.
--------------------------------------------------------------------------------

GRANT USAGE, CREATE ON SCHEMA nfpg TO nfpg_owner;
GRANT SELECT, INSERT, UPDATE, DELETE ON nfpg.settings, nfpg.partitions, nfpg.exporters,
	nfpg.loader_batches TO nfpg_owner;

DO $$
DECLARE
	f	regprocedure;
BEGIN
	FOREACH f IN ARRAY ARRAY[
		'nfpg.create_partition(timestamptz, timestamptz)',
		'nfpg.make_partitions(timestamptz, timestamptz)',
		'nfpg.ensure_partitions(timestamptz, timestamptz)',
		'nfpg.rescue_default()',
		'nfpg.index_partitions(interval, integer, boolean)',
		'nfpg.exporter_report(inet, bigint, smallint, timestamptz, bigint, bigint, bigint, integer, integer)',
		'nfpg.loader_batch_claim(text, bigint)',
		'nfpg.loader_batches_expire(interval)',
		'nfpg.loader_target(timestamptz, timestamptz)']::regprocedure[]
	LOOP
		EXECUTE format('ALTER FUNCTION %s OWNER TO nfpg_owner', f);
		EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
	END LOOP;
END
$$;

GRANT USAGE ON SCHEMA nfpg TO nfpg_loader, nfpg_reader, nfpg_admin;
GRANT EXECUTE ON FUNCTION nfpg.ensure_partitions(timestamptz, timestamptz) TO nfpg_loader;
GRANT EXECUTE ON FUNCTION nfpg.exporter_report(inet, bigint, smallint, timestamptz, bigint, bigint, bigint, integer, integer) TO nfpg_loader;

GRANT SELECT ON nfpg.exporters, nfpg.partitions, nfpg.settings, nfpg.nodes TO nfpg_reader, nfpg_admin;
--------------------------------------------------------------------------------
-- Grants for the NfSen objects (50_profiles .. 68_schedule)
--
-- Readers see profiles, series, alerts, plugin runs, host classes and runs.
-- nfpg_admin manages them without being a superuser: it may call the
-- functions that create, build and drop profiles, channels, alerts and
-- plugins, and edit their tables.  What nf_run later executes with the job
-- owner's rights cannot be smuggled in that way: a stored filter_sql is
-- always recompiled from the filter text (58_profile_links.sql), and a
-- plugin runs with the rights of its function's owner, which an admin can
-- only register when it may execute the function itself (55_plugins_alerts).
-- Partitions, aging and the schedule stay with the owner.
--------------------------------------------------------------------------------

GRANT SELECT ON nfpg.nfsen_settings, nfpg.profiles, nfpg.profile_channels, nfpg.profile_series,
	nfpg.profile_slots, nfpg.plugins, nfpg.plugin_profiles, nfpg.plugin_runs, nfpg.alerts,
	nfpg.alert_log, nfpg.hostclass_series, nfpg.runs
	TO nfpg_reader, nfpg_admin;
GRANT INSERT, UPDATE, DELETE ON nfpg.profiles, nfpg.profile_channels, nfpg.profile_series,
	nfpg.profile_slots, nfpg.plugins, nfpg.plugin_profiles, nfpg.plugin_runs, nfpg.alerts,
	nfpg.alert_log, nfpg.hostclass_series
	TO nfpg_admin;
GRANT UPDATE (slot_delay, traffic_ratio, traffic_min_bytes, responder_min_peers, connector_min_peers)
	ON nfpg.nfsen_settings TO nfpg_admin;
GRANT EXECUTE ON FUNCTION
	nfpg.nf_profile_create(text, text, timestamptz, timestamptz, interval, text),
	nfpg.nf_channel_add(text, text, text, smallint, text),
	nfpg.nf_channel_drop(text, text),
	nfpg.nf_profile_drop(text),
	nfpg.nf_profile_build_slots(text, timestamptz[]),
	nfpg.nf_profile_build(text, timestamptz, timestamptz),
	nfpg.nf_plugin_register(text, regprocedure, text[], text),
	nfpg.nf_plugin_call(text, regprocedure, text, timestamptz),
	nfpg.nf_plugins_run(text, timestamptz),
	nfpg.nf_alert_create(text, text, text, text, numeric, text, integer, text, text, text),
	nfpg.nf_alerts_run(text, timestamptz),
	nfpg.nf_profile_update(text, timestamptz),
	nfpg.hostclass_plugin(text, timestamptz)
	TO nfpg_admin;
--------------------------------------------------------------------------------
-- What pg_dump keeps
--
-- The tables of the extension hold the user's configuration and bookkeeping:
-- settings, the partition registry, exporters, loader batch ids, profiles
-- and their channels, series and slots, plugins, alerts and their logs, host
-- classes, scheduled runs.  pg_dump skips an extension's objects (CREATE
-- EXTENSION remakes them) unless they are marked here, in which case it dumps
-- their rows after CREATE EXTENSION, so pg_restore brings every row back.
-- pg_dump orders the rows of tables linked by foreign keys by those keys.
-- nfpg.flows and its partitions are not the extension's at all (setup(),
-- 95_setup.sql): pg_dump dumps them as any table.
--------------------------------------------------------------------------------

-- One call per statement: each call rewrites the pg_extension row.
DO $$
DECLARE
	t	regclass;
BEGIN
	FOREACH t IN ARRAY ARRAY['nfpg.settings', 'nfpg.partitions', 'nfpg.exporters', 'nfpg.loader_batches',
							 'nfpg.nfsen_settings', 'nfpg.profiles', 'nfpg.profile_channels',
							 'nfpg.profile_series', 'nfpg.profile_slots', 'nfpg.plugins',
							 'nfpg.plugin_profiles', 'nfpg.plugin_runs', 'nfpg.alerts', 'nfpg.alert_log',
							 'nfpg.hostclass_series', 'nfpg.runs', 'nfpg.runs_run_seq', 'nfpg.nodes']::regclass[]
	LOOP
		PERFORM pg_catalog.pg_extension_config_dump(t, '');
	END LOOP;
END
$$;
