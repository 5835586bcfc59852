\echo Use "ALTER EXTENSION nfpg UPDATE" to load this file. \quit
--------------------------------------------------------------------------------
-- 0.11 -> 0.12: count, min and max in a packed hour's scan
--
-- The library computes count(*), count(column), min and max of integer and
-- time columns inside a packed hour's scan when the planner aggregates
-- partition by partition (enable_partitionwise_aggregate, which nfpg's own
-- functions turn on): no row per flow is built, and count(*) of an hour
-- without conditions decodes nothing.  nfpg.nfdump() (the function behind
-- nfpg-dump) now reads its Summary's "Total flows processed" and Time
-- window that way: over a packed day 0.67 -> 0.27 s.  The catalog changes
-- only by that function; a line's characters are written faster by the
-- library alone.
--------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION nfpg.nf_dump_summary(scope_w text, pass text, specs text[], keys text[],
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
	IF pass <> 'true' THEN
		-- what was read, over the scope: a packed hour counts its flows and
		-- finds their first and last times in its scan (pack_agg.c: over a
		-- packed day 0.27 s, where the statistic's scan, summing every
		-- counter too, took 0.67 s)
		EXECUTE format('SELECT jsonb_build_object(''processed'', count(*), ''s_first'', min(first_seen),'
					   ' ''s_last'', max(last_seen)) FROM nfpg.flows WHERE %s', scope_w)
			INTO read USING NULL::text, t_from, t_to, scope_from, scope_to;
	ELSE
		read := jsonb_build_object('processed', sm.passed, 's_first', sm.first_seen, 's_last', sm.last_seen);
	END IF;
	PERFORM set_config('enable_partitionwise_aggregate', prev, true);
	RETURN res || read;
END
$$;
COMMENT ON FUNCTION nfpg.nf_dump_summary(text, text, text[], text[], timestamptz, timestamptz, timestamptz, timestamptz) IS 'Internal to nfdump(): the Summary, time window and -s tables of the flows of a scope that pass a filter, from scans that aggregate';
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
