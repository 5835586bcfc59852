\echo Use "ALTER EXTENSION nfpg UPDATE" to load this file. \quit
--------------------------------------------------------------------------------
-- 0.3 -> 0.4: Top-N statistics computed inside the scan of packed hours
--
-- nf_stat and nf_aggregate switch partitionwise aggregation on for their
-- query when nfpg.flows has packed partitions (nf_topn_plan_packed), so
-- that each packed hour hands its partial state to the Finalize Aggregate
-- (pack_agg.c).  The functions below are the 0.4 bodies of 30_stat.sql.
--------------------------------------------------------------------------------

CREATE FUNCTION nfpg.nf_topn_plan_packed()
RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	prev	text := current_setting('enable_partitionwise_aggregate');
BEGIN
	IF EXISTS (SELECT 1 FROM pg_inherits i
				 JOIN pg_foreign_table ft ON ft.ftrelid = i.inhrelid
				 JOIN pg_foreign_server fs ON fs.oid = ft.ftserver
				 JOIN pg_foreign_data_wrapper w ON w.oid = fs.srvfdw
				WHERE i.inhparent = 'nfpg.flows'::regclass AND w.fdwname = 'nfpg_packed') THEN
		PERFORM set_config('enable_partitionwise_aggregate', 'on', true);
	END IF;
	RETURN prev;
END
$$;
COMMENT ON FUNCTION nfpg.nf_topn_plan_packed() IS 'Switch partitionwise aggregation on for this transaction when nfpg.flows has packed partitions, so that they aggregate in their scan; returns the previous setting';

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
	prev := nfpg.nf_topn_plan_packed();
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
	prev := nfpg.nf_topn_plan_packed();
	RETURN QUERY EXECUTE format('SELECT * FROM unnest((%s))',
		nfpg.nf_topn_sql('nf_topn_records', format('%s %s %s %s', mode, coalesce(lower(order_by), '-'), top, names),
						 'flows, packets, bytes, out_packets, out_bytes, first_seen, last_seen, tcp_flags, src_tos, ' || keys,
						 nfpg.nf_stat_where(filter, t_from, t_to)))
		USING NULL::text, t_from, t_to;
	PERFORM set_config('enable_partitionwise_aggregate', prev, true);
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
