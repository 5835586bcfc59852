--------------------------------------------------------------------------------
-- 0.2 -> 0.3: coordinators (74_nodes.sql, assembled before this part)
--
-- The statistics read the flows through nf_topn_sql() / nf_flow_sources(),
-- which on a coordinator ask each node for its partial state; the scheduled
-- job keeps a coordinator's exporter lists instead of making partitions.
-- The functions below are the 0.3 bodies of 30_stat.sql and 68_schedule.sql.
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
	-- coordinator, which ships the aggregates), then of the sources.
	SELECT string_agg(format('SELECT sum(greatest(flows, 1)) AS fl,'
		' sum(bytes + coalesce(out_bytes, 0)) AS byt, sum(packets + coalesce(out_packets, 0)) AS pkt,'
		' min(first_seen) AS fs, max(last_seen) AS ls, count(*) AS n FROM %s WHERE %s',
		src, nfpg.nf_stat_where(filter, t_from, t_to)), ' UNION ALL ')
	  INTO parts FROM nfpg.nf_flow_sources() src;
	RETURN QUERY EXECUTE format(
		'WITH t AS (SELECT sum(fl)::bigint AS fl, sum(byt)::bigint AS byt, sum(pkt)::bigint AS pkt,'
		' (extract(epoch FROM max(ls)) * 1000 - extract(epoch FROM min(fs)) * 1000) / 1000.0 AS span,'
		' min(fs) AS fs, max(ls) AS ls, sum(n)::bigint AS n FROM (%s) p)'
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
