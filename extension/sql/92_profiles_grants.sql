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
