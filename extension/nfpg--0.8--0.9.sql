\echo Use "ALTER EXTENSION nfpg UPDATE" to load this file. \quit
--------------------------------------------------------------------------------
-- 0.8 -> 0.9: addresses of packed hours grouped by family; level -1 by default
--
-- The column codec (colcodec.h) has a third layout, in which fixed-width
-- records are grouped by their first byte (an address's family and prefix
-- length) and each group is byte-transposed on its own, so an IPv4 address
-- among IPv6 ones keeps 4 varying bytes rather than 16: a packed hour about
-- 5 % smaller on flowgen traffic, its addresses decoded faster (docs/
-- packing.md).  Hours packed before keep their layout and are read as
-- before until packed again; a library before 0.9 refuses an hour packed by
-- 0.9 with an error naming the partition ("unknown layout 2"), so a
-- downgrade needs the hours packed since the update unpacked first.
--
-- A new install packs at zstd level -1 when no level is given: with the
-- grouped addresses it keeps 31 bytes a flow (below nfdump's 40 in LZ4
-- files) and its statistics take under half of nfdump's CPU, where level 3
-- keeps 26 and two of them take a little more.  This database keeps the
-- level it has (the row of nfpg.settings is not touched): 3, unless it was
-- changed; docs/packing.md shows the UPDATE that switches.
--------------------------------------------------------------------------------

ALTER TABLE nfpg.settings ALTER COLUMN pack_zstd_level SET DEFAULT -1;
COMMENT ON COLUMN nfpg.settings.pack_zstd_level IS 'zstd level of pack_partition() when none is given, as the scheduled pack job calls it: -1 to -7 (zstd''s fast levels: literals not entropy-coded, read faster), or 1 to 19 (a packed hour about a sixth smaller at 3); -1 on a new install, 3 on one updated from 0.8';
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
