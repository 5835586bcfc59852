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
