--------------------------------------------------------------------------------
-- Links between profiles, channels, series, plugins and alerts; compiled filters
--
-- Dropping a profile drops its channels, series, slot bookkeeping, plugin
-- registrations and runs, alerts (and their logs) and host-class counts;
-- dropping a plugin or an alert drops its runs or log.  These links are kept
-- by the triggers below, not by foreign keys: the tables' rows are the
-- user's and pg_dump dumps them (93_config_dump.sql), and pg_restore -j
-- loads the tables in parallel in no guaranteed order, so a foreign key
-- checked during that load would refuse the series of a profile not yet
-- restored.  New rows are checked where they are made: nf_channel_add,
-- nf_alert_create and nf_plugin_register refuse an unknown profile.
--------------------------------------------------------------------------------

CREATE FUNCTION nfpg.profile_deleted()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	DELETE FROM nfpg.profile_channels WHERE profile = OLD.profile;
	DELETE FROM nfpg.profile_series WHERE profile = OLD.profile;
	DELETE FROM nfpg.profile_slots WHERE profile = OLD.profile;
	DELETE FROM nfpg.plugin_profiles WHERE profile = OLD.profile;
	DELETE FROM nfpg.plugin_runs WHERE profile = OLD.profile;
	DELETE FROM nfpg.alerts WHERE profile = OLD.profile;
	DELETE FROM nfpg.hostclass_series WHERE profile = OLD.profile;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION nfpg.profile_deleted() IS 'Trigger: a deleted profile takes its channels, series, slots, plugin registrations and runs, alerts and host-class counts with it';

CREATE FUNCTION nfpg.plugin_deleted()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	DELETE FROM nfpg.plugin_profiles WHERE plugin = OLD.plugin;
	DELETE FROM nfpg.plugin_runs WHERE plugin = OLD.plugin;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION nfpg.plugin_deleted() IS 'Trigger: a deleted plugin takes its registrations and runs with it';

CREATE FUNCTION nfpg.alert_deleted()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	DELETE FROM nfpg.alert_log WHERE alert = OLD.alert;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION nfpg.alert_deleted() IS 'Trigger: a deleted alert takes its log with it';

CREATE TRIGGER profile_deleted AFTER DELETE ON nfpg.profiles
	FOR EACH ROW EXECUTE FUNCTION nfpg.profile_deleted();
CREATE TRIGGER plugin_deleted AFTER DELETE ON nfpg.plugins
	FOR EACH ROW EXECUTE FUNCTION nfpg.plugin_deleted();
CREATE TRIGGER alert_deleted AFTER DELETE ON nfpg.alerts
	FOR EACH ROW EXECUTE FUNCTION nfpg.alert_deleted();

-- A stored filter_sql is what gets spliced into the queries nf_run runs
-- (as the job's owner), so it is never taken from whoever wrote the row:
-- it is always compiled here from the row's nfdump filter text.  A member
-- of nfpg_admin may then edit these tables directly without being able to
-- inject SQL.  pg_restore's COPY recompiles the same text to the same SQL.
CREATE FUNCTION nfpg.filter_compiled()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	NEW.filter_sql := nfpg.nf_filter_sql(NEW.filter);
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION nfpg.filter_compiled() IS 'Trigger: filter_sql is always the compilation of the row''s filter text, whoever writes the row';

CREATE TRIGGER filter_compiled BEFORE INSERT OR UPDATE ON nfpg.profiles
	FOR EACH ROW EXECUTE FUNCTION nfpg.filter_compiled();
CREATE TRIGGER filter_compiled BEFORE INSERT OR UPDATE ON nfpg.profile_channels
	FOR EACH ROW EXECUTE FUNCTION nfpg.filter_compiled();
CREATE TRIGGER filter_compiled BEFORE INSERT OR UPDATE ON nfpg.alerts
	FOR EACH ROW EXECUTE FUNCTION nfpg.filter_compiled();
