--------------------------------------------------------------------------------
-- 0.2 -> 0.3: coordinators (74_nodes.sql, assembled before this part)
--
-- The statistics read the flows through nf_topn_sql() / nf_flow_sources(),
-- which on a coordinator ask each node for its partial state; the scheduled
-- job keeps a coordinator's exporter lists instead of making partitions.
-- Profiles on a coordinator sum per node.  The functions below are the
-- 0.3 bodies of 30_stat.sql, 68_schedule.sql, 50_profiles.sql and
-- 36_present.sql (nfdump(): its one scan and -a/-A per node), and the web
-- page's series of 72_web.sql (summed per node).
--------------------------------------------------------------------------------

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
	RETURN QUERY EXECUTE format('SELECT * FROM unnest((%s))',
		nfpg.nf_topn_sql('nf_topn_records', format('%s %s %s %s', mode, coalesce(lower(order_by), '-'), top, names),
						 'flows, packets, bytes, out_packets, out_bytes, first_seen, last_seen, tcp_flags, src_tos, ' || keys,
						 nfpg.nf_stat_where(filter, t_from, t_to)))
		USING NULL::text, t_from, t_to;
END
$$;

CREATE OR REPLACE FUNCTION nfpg.nf_summary(filter text DEFAULT NULL, t_from timestamptz DEFAULT NULL,
	t_to timestamptz DEFAULT NULL)
RETURNS TABLE (flows bigint, bytes bigint, packets bigint, avg_bps bigint, avg_pps bigint,
	avg_bpp bigint, first_seen timestamptz, last_seen timestamptz, records bigint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	parts	text;
BEGIN
	-- Sums, minima and maxima of each source (one per node on a
	-- coordinator, which ships the aggregates), then of the sources.  The
	-- per-source aggregates avoid greatest() and coalesce(), which
	-- postgres_fdw in PostgreSQL 15 does not ship: a flow count below 1
	-- counts as 1, a NULL out counter as 0, as nfdump reads them.
	SELECT string_agg(format('SELECT sum(flows) FILTER (WHERE flows >= 1) AS fl, count(*) FILTER (WHERE flows >= 1) AS nfl,'
		' sum(bytes) AS byt, sum(out_bytes) AS obyt, sum(packets) AS pkt, sum(out_packets) AS opkt,'
		' min(first_seen) AS fs, max(last_seen) AS ls, count(*) AS n FROM %s WHERE %s',
		src, nfpg.nf_stat_where(filter, t_from, t_to)), ' UNION ALL ')
	  INTO parts FROM nfpg.nf_flow_sources() src;
	RETURN QUERY EXECUTE format(
		-- the sources' columns summed in their order: a subquery read in
		-- another order is not a bare foreign scan, and the nodes would be
		-- queried one after the other instead of at once
		'WITH s AS (SELECT sum(fl) AS fl, sum(nfl) AS nfl, sum(byt) AS byt, sum(obyt) AS obyt, sum(pkt) AS pkt,'
		' sum(opkt) AS opkt, min(fs) AS fs, max(ls) AS ls, sum(n) AS n FROM (%s) p),'
		' t AS (SELECT (coalesce(fl, 0) + n - nfl)::bigint AS fl,'
		' (byt + coalesce(obyt, 0))::bigint AS byt, (pkt + coalesce(opkt, 0))::bigint AS pkt,'
		' (extract(epoch FROM ls) * 1000 - extract(epoch FROM fs) * 1000) / 1000.0 AS span,'
		' fs, ls, n::bigint AS n FROM s)'
		' SELECT coalesce(fl, 0), coalesce(byt, 0), coalesce(pkt, 0),'
		' CASE WHEN span > 0 THEN trunc(8 * byt / span)::bigint ELSE 0 END,'
		' CASE WHEN span > 0 THEN trunc(pkt / span)::bigint ELSE 0 END,'
		' CASE WHEN pkt > 0 THEN byt / pkt ELSE 0 END, fs, ls, coalesce(n, 0) FROM t',
		parts)
		USING NULL::text, t_from, t_to;
END
$$;

CREATE OR REPLACE FUNCTION nfpg.nf_run(now timestamptz DEFAULT now())
RETURNS nfpg.runs
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r			nfpg.runs;
	p			record;
	u			record;
	n			integer;
	msg			text;
BEGIN
	r.run_time := now;
	r.started := clock_timestamp();
	r.slots := 0;
	r.plugin_failures := 0;
	r.alerts_fired := 0;
	r.partitions_dropped := 0;
	r.series_deleted := 0;
	r.errors := '{}';
	IF NOT pg_try_advisory_xact_lock('nfpg.profiles'::regclass::oid::bigint) THEN
		r.errors := ARRAY['another nf_run was active; nothing done'];
		RETURN r;
	END IF;

	-- 1. Partitions ahead of the data; on a coordinator, whose partitions
	-- are its nodes, the exporters the nodes have seen since.
	BEGIN
		IF nfpg.is_coordinator() THEN
			PERFORM nfpg.node_sync();
		ELSE
			PERFORM nfpg.ensure_partitions(now);
		END IF;
	EXCEPTION WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
		r.errors := r.errors || ('partitions: ' || msg);
	END;

	-- 2. Profiles, their plugins and alerts.
	FOR p IN SELECT x.profile FROM nfpg.profiles x ORDER BY x.profile LOOP
		BEGIN
			u := nfpg.nf_profile_update(p.profile, now);
			r.slots := r.slots + u.slots;
			r.plugin_failures := r.plugin_failures + u.plugin_failures;
			r.alerts_fired := r.alerts_fired + u.alerts_fired;
		EXCEPTION WHEN OTHERS THEN
			GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
			RAISE WARNING 'profile "%" not updated: %', p.profile, msg;
			r.errors := r.errors || format('profile %s: %s', p.profile, msg);
		END;
	END LOOP;

	-- 3. Seal finished partitions.
	IF to_regproc('nfpg.index_partitions') IS NULL THEN
		r.indexed := 'skipped: nfpg.index_partitions() not installed';
	ELSE
		BEGIN
			EXECUTE 'SELECT nfpg.index_partitions()' INTO n;
			r.indexed := format('ok: %s partitions indexed', n);
		EXCEPTION WHEN OTHERS THEN
			GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
			r.indexed := 'failed';
			r.errors := r.errors || ('index: ' || msg);
		END;
	END IF;
	IF nullif(current_setting('nfpg.pack_after', true), '') IS NOT NULL THEN
		BEGIN
			n := nfpg.pack_partitions(current_setting('nfpg.pack_after')::interval, 1, now);
			r.indexed := r.indexed || format('; packed %s partitions', n);
		EXCEPTION WHEN OTHERS THEN
			GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
			r.errors := r.errors || ('pack: ' || msg);
		END;
	END IF;

	-- 4. Aging.
	BEGIN
		SELECT count(*) INTO r.partitions_dropped FROM nfpg.nf_expire(now);
		r.series_deleted := nfpg.nf_expire_series(now);
	EXCEPTION WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
		r.errors := r.errors || ('aging: ' || msg);
	END;

	r.finished := clock_timestamp();
	INSERT INTO nfpg.runs (started, finished, run_time, slots, plugin_failures, alerts_fired,
						   partitions_dropped, series_deleted, indexed, errors)
	VALUES (r.started, r.finished, r.run_time, r.slots, r.plugin_failures, r.alerts_fired,
			r.partitions_dropped, r.series_deleted, r.indexed, r.errors)
	RETURNING run INTO r.run;
	RETURN r;
END
$$;

CREATE OR REPLACE FUNCTION nfpg.nf_profile_build_slots(profile text, slots timestamptz[])
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	cond		text := nfpg.nf_profile_condition(profile);
	names		text[] := ARRAY['*'];
	tests		text := '(1, true)';
	conds		text[] := ARRAY['true'];
	matched		text;
	lo			timestamptz;
	hi			timestamptz;
	ch			record;
BEGIN
	SELECT min(s), max(s) + interval '5 minutes' INTO lo, hi FROM unnest(slots) s;
	IF lo IS NULL THEN
		RETURN 0;
	END IF;
	FOR ch IN SELECT c.channel, c.filter_sql FROM nfpg.profile_channels c
			   WHERE c.profile = $1 ORDER BY c.channel
	LOOP
		names := names || ch.channel;
		conds := conds || ch.filter_sql;
		tests := tests || format(', (%s, %s)', cardinality(names), ch.filter_sql);
	END LOOP;

	-- m: per slot and channel index, the sums of the matching flows
	IF nfpg.is_coordinator() THEN
		-- each node's sums as one bare foreign scan (the channel index a
		-- constant of it), so the nodes are asked at once
		SELECT string_agg(format(
				'SELECT nfpg.nf_slot(first_seen) AS slot, %s AS idx,'
				' sum(flows) AS fl, sum(flows) FILTER (WHERE proto = 6) AS fl_tcp,'
				' sum(flows) FILTER (WHERE proto = 17) AS fl_udp, sum(flows) FILTER (WHERE proto IN (1, 58)) AS fl_icmp,'
				' sum(flows) FILTER (WHERE proto NOT IN (1, 6, 17, 58)) AS fl_other,'
				' sum(packets) AS pk, sum(packets) FILTER (WHERE proto = 6) AS pk_tcp,'
				' sum(packets) FILTER (WHERE proto = 17) AS pk_udp, sum(packets) FILTER (WHERE proto IN (1, 58)) AS pk_icmp,'
				' sum(packets) FILTER (WHERE proto NOT IN (1, 6, 17, 58)) AS pk_other,'
				' sum(bytes) AS by, sum(bytes) FILTER (WHERE proto = 6) AS by_tcp,'
				' sum(bytes) FILTER (WHERE proto = 17) AS by_udp, sum(bytes) FILTER (WHERE proto IN (1, 58)) AS by_icmp,'
				' sum(bytes) FILTER (WHERE proto NOT IN (1, 6, 17, 58)) AS by_other'
				' FROM %s WHERE first_seen >= $4 AND first_seen < $5 AND (%s) AND (%s) GROUP BY 1',
				c.idx, src, cond, c.test), ' UNION ALL ')
		  INTO matched
		  FROM unnest(conds) WITH ORDINALITY c(test, idx), nfpg.nf_flow_sources() src;
	ELSE
		matched := format('SELECT nfpg.nf_slot(first_seen) AS slot, t.idx, flows AS fl,'
			' CASE WHEN proto = 6 THEN flows END AS fl_tcp, CASE WHEN proto = 17 THEN flows END AS fl_udp,'
			' CASE WHEN proto IN (1, 58) THEN flows END AS fl_icmp,'
			' CASE WHEN proto NOT IN (1, 6, 17, 58) THEN flows END AS fl_other,'
			' packets AS pk, CASE WHEN proto = 6 THEN packets END AS pk_tcp,'
			' CASE WHEN proto = 17 THEN packets END AS pk_udp, CASE WHEN proto IN (1, 58) THEN packets END AS pk_icmp,'
			' CASE WHEN proto NOT IN (1, 6, 17, 58) THEN packets END AS pk_other,'
			' bytes AS by, CASE WHEN proto = 6 THEN bytes END AS by_tcp,'
			' CASE WHEN proto = 17 THEN bytes END AS by_udp, CASE WHEN proto IN (1, 58) THEN bytes END AS by_icmp,'
			' CASE WHEN proto NOT IN (1, 6, 17, 58) THEN bytes END AS by_other'
			' FROM nfpg.flows, LATERAL (VALUES %s) t(idx, hit)'
			' WHERE first_seen >= $4 AND first_seen < $5 AND (%s) AND t.hit', tests, cond);
	END IF;

	DELETE FROM nfpg.profile_series s WHERE s.profile = $1 AND s.slot = ANY (slots);
	EXECUTE format($q$
		INSERT INTO nfpg.profile_series
		SELECT $1, c.channel, s.slot,
			   coalesce(sum(m.fl), 0), coalesce(sum(m.fl_tcp), 0), coalesce(sum(m.fl_udp), 0),
			   coalesce(sum(m.fl_icmp), 0), coalesce(sum(m.fl_other), 0),
			   coalesce(sum(m.pk), 0), coalesce(sum(m.pk_tcp), 0), coalesce(sum(m.pk_udp), 0),
			   coalesce(sum(m.pk_icmp), 0), coalesce(sum(m.pk_other), 0),
			   coalesce(sum(m.by), 0), coalesce(sum(m.by_tcp), 0), coalesce(sum(m.by_udp), 0),
			   coalesce(sum(m.by_icmp), 0), coalesce(sum(m.by_other), 0)
		  FROM unnest($2::timestamptz[]) s(slot)
		 CROSS JOIN unnest($3::text[]) WITH ORDINALITY c(channel, idx)
		  LEFT JOIN (%s) m
			ON m.slot = s.slot AND m.idx = c.idx
		 GROUP BY c.channel, s.slot
	$q$, matched)
	USING profile, slots, names, lo, hi;

	INSERT INTO nfpg.profile_slots AS ps (profile, slot)
	SELECT $1, s FROM unnest(slots) s
	ON CONFLICT ON CONSTRAINT profile_slots_pkey DO UPDATE SET built = clock_timestamp();
	RETURN cardinality(slots);
END
$$;

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
	ELSE
		q := q || ') FROM ' || src;
	END IF;
	EXECUTE q INTO res USING NULL::text, t_from, t_to, scope_from, scope_to;
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

CREATE OR REPLACE FUNCTION nfpg.nf_filter_series(filter text, from_ts timestamptz, to_ts timestamptz,
									  bucket interval DEFAULT '5 minutes',
									  shift interval DEFAULT '0')
RETURNS TABLE (slot timestamptz, flows bigint, packets bigint, bytes bigint,
			   flows_s double precision, packets_s double precision, bits_s double precision)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	cond	text := nfpg.nf_filter_sql(coalesce(nullif(btrim(filter), ''), 'any'));
	secs	double precision := extract(epoch FROM bucket);
	parts	text;
BEGIN
	-- per source (each node of a coordinator, which sums on the node), then added up
	SELECT string_agg(format('SELECT date_bin($3, first_seen, ''2000-01-01 00:00+00'') AS slot,'
							 ' sum(flows) AS flows, sum(packets) AS packets, sum(bytes) AS bytes'
							 ' FROM %s WHERE first_seen >= $1 AND first_seen < $2 AND (%s) GROUP BY 1',
							 src, cond), ' UNION ALL ')
	  INTO parts FROM nfpg.nf_flow_sources() src;
	RETURN QUERY EXECUTE format($q$
		SELECT b.slot + $5, coalesce(m.flows, 0)::bigint, coalesce(m.packets, 0)::bigint,
			   coalesce(m.bytes, 0)::bigint,
			   coalesce(m.flows, 0) / $4, coalesce(m.packets, 0) / $4, coalesce(m.bytes, 0) * 8 / $4
		  FROM nfpg.nf_web_buckets($1, $2, $3) b(slot)
		  LEFT JOIN (SELECT p.slot, sum(p.flows) AS flows, sum(p.packets) AS packets, sum(p.bytes) AS bytes
					   FROM (%s) p GROUP BY 1) m USING (slot)
		 ORDER BY b.slot
	$q$, parts)
	USING from_ts - shift, to_ts - shift, bucket, secs, shift;
END
$$;

CREATE OR REPLACE FUNCTION nfpg.nf_topn_series(stat_type text, order_by text, top integer, filter text,
									from_ts timestamptz, to_ts timestamptz,
									bucket interval DEFAULT '5 minutes')
RETURNS TABLE (slot timestamptz, key text, rank integer, value double precision)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	k		record := nfpg.nf_stat_keys(stat_type);
	cond	text := nfpg.nf_filter_sql(coalesce(nullif(btrim(filter), ''), 'any'));
	keyexpr	text;
	metric	text;
	parts	text;
BEGIN
	IF k.two_sided OR k.keys LIKE '%,%' THEN
		RAISE EXCEPTION 'nf_topn_series: statistic "%" is two-sided or composite', stat_type
			USING ERRCODE = 'feature_not_supported',
				  HINT = 'Use a one-sided statistic: srcip, dstip, srcport, dstport, srcas, dstas, proto, inif, outif, router, ...';
	END IF;
	metric := CASE lower(order_by) WHEN 'flows' THEN 'flows' WHEN 'packets' THEN 'packets'
								   WHEN 'bytes' THEN 'bytes * 8' END;
	IF metric IS NULL THEN
		RAISE EXCEPTION 'nf_topn_series: order "%" is not flows, packets or bytes', order_by
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF top IS NULL OR top < 1 OR top > 50 THEN
		RAISE EXCEPTION 'nf_topn_series: top must be 1 .. 50' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	-- keys print as nfdump prints them: addresses without a /32, protocols
	-- by name; printed after the sources' sums, as postgres_fdw ships no
	-- grouping by a cast to text
	keyexpr := CASE
		WHEN k.keys = 'proto' THEN 'nfpg.nf_proto_name(p.key)'
		WHEN EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = 'nfpg.flows'::regclass
						AND a.attname = k.keys AND a.atttypid = 'inet'::regtype) THEN 'host(p.key)'
		ELSE '(p.key)::text' END;
	SELECT string_agg(format('SELECT date_bin($3, first_seen, ''2000-01-01 00:00+00'') AS slot,'
							 ' %s AS key, sum(%s) AS v FROM %s'
							 ' WHERE first_seen >= $1 AND first_seen < $2 AND (%s) GROUP BY 1, 2',
							 k.keys, metric, src, cond), ' UNION ALL ')
	  INTO parts FROM nfpg.nf_flow_sources() src;
	RETURN QUERY EXECUTE format($q$
		WITH m AS MATERIALIZED (
			SELECT p.slot, %s AS key, sum(p.v) AS v FROM (%s) p GROUP BY 1, 2),
		t AS (
			SELECT m.key, row_number() OVER (ORDER BY sum(m.v) DESC, m.key)::integer AS rank
			  FROM m WHERE m.key IS NOT NULL GROUP BY m.key ORDER BY sum(m.v) DESC, m.key LIMIT $4)
		SELECT m.slot, coalesce(t.key, 'Other'), coalesce(t.rank, $4 + 1),
			   sum(m.v)::double precision / $5
		  FROM m LEFT JOIN t USING (key)
		 GROUP BY 1, 2, 3 ORDER BY 1, 3
	$q$, keyexpr, parts)
	USING from_ts, to_ts, bucket, top, extract(epoch FROM bucket)::double precision;
END
$$;
