--------------------------------------------------------------------------------
-- Grants for the NfSen objects (50_profiles .. 68_schedule): readers see
-- profiles, series, alerts, plugin runs, host classes and runs.  Changing
-- them stays with the owner, since nf_run executes the stored compiled
-- filters and registered plugin functions with the job owner's rights.
-- After 90_roles.sql, which creates the roles.
--------------------------------------------------------------------------------

GRANT SELECT ON nfpg.nfsen_settings, nfpg.profiles, nfpg.profile_channels, nfpg.profile_series,
	nfpg.profile_slots, nfpg.plugins, nfpg.plugin_profiles, nfpg.plugin_runs, nfpg.alerts,
	nfpg.alert_log, nfpg.hostclass_series, nfpg.runs
	TO nfpg_reader;
