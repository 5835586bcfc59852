-- Roles: nfpg_admin manages profiles without being a superuser and cannot
-- turn the scheduled job against its owner; grant_access() scopes rights to
-- this database.
CREATE ROLE regress_admin LOGIN IN ROLE nfpg_admin;
CREATE ROLE regress_site_reader LOGIN;
CREATE SCHEMA regress_adm AUTHORIZATION regress_admin;
CREATE FUNCTION regress_adm_secret(profile text, slot timestamptz) RETURNS void LANGUAGE sql AS 'SELECT';
REVOKE EXECUTE ON FUNCTION regress_adm_secret(text, timestamptz) FROM PUBLIC;
SET SESSION AUTHORIZATION regress_admin;
SELECT nfpg.nf_profile_create('adm', 'proto tcp', '2024-01-01 00:00+00');
SELECT nfpg.nf_channel_add('adm', 'web', 'dst port 443');
-- A hand-written filter_sql is never kept: it is compiled from the filter.
UPDATE nfpg.profiles SET filter_sql = 'true) OR (SELECT pg_sleep(1) IS NULL' WHERE profile = 'adm';
SELECT filter, filter_sql FROM nfpg.profiles WHERE profile = 'adm';
INSERT INTO nfpg.profiles (profile, filter, filter_sql, tstart) VALUES ('adm2', 'proto udp', 'anything', '2024-01-01');
SELECT filter_sql FROM nfpg.profiles WHERE profile = 'adm2';
-- A plugin the admin wrote runs as the admin, even when a superuser's job calls it.
CREATE TABLE regress_adm.log (who text, profile text);
CREATE FUNCTION regress_adm.plugin(profile text, slot timestamptz) RETURNS void
LANGUAGE sql AS $$ INSERT INTO regress_adm.log VALUES (current_user, profile) $$;
SELECT nfpg.nf_plugin_register('mine', 'regress_adm.plugin(text, timestamptz)', '{adm}');
-- not a function it may call
SELECT nfpg.nf_plugin_register('theirs', 'regress_adm_secret(text, timestamptz)', '{adm}');
-- partitions and aging stay with the owner
SELECT nfpg.ensure_partitions(now());
SELECT nfpg.nf_expire();
RESET SESSION AUTHORIZATION;
SELECT nfpg.nf_plugins_run('adm', '2024-01-01 00:00+00');
SELECT who, profile FROM regress_adm.log;
SELECT current_user = (SELECT rolname FROM pg_roles WHERE oid = 10) AS back_to_superuser;
-- Rights in this database only, without membership in nfpg_reader.
SELECT nfpg.grant_access('regress_site_reader', 'reader') > 10 AS granted;
SELECT nfpg.grant_access('regress_site_reader', 'writer');
SELECT pg_has_role('regress_site_reader', 'nfpg_reader', 'MEMBER') AS member;
SET SESSION AUTHORIZATION regress_site_reader;
SELECT count(*) >= 0 AS reads_flows FROM nfpg.flows;
SELECT count(*) AS profiles FROM nfpg.profiles WHERE profile LIKE 'adm%';
DELETE FROM nfpg.profiles;
RESET SESSION AUTHORIZATION;
-- a dropped profile takes its channels and plugin registration along
SELECT nfpg.nf_profile_drop('adm'), nfpg.nf_profile_drop('adm2');
SELECT (SELECT count(*) FROM nfpg.profile_channels WHERE profile = 'adm') AS channels,
	   (SELECT count(*) FROM nfpg.plugin_profiles WHERE profile = 'adm') AS plugin_profiles,
	   (SELECT count(*) FROM nfpg.plugin_runs WHERE profile = 'adm') AS plugin_runs;
DELETE FROM nfpg.plugins WHERE plugin = 'mine';
DROP SCHEMA regress_adm CASCADE;
DROP FUNCTION regress_adm_secret(text, timestamptz);
DROP OWNED BY regress_site_reader;
DROP ROLE regress_admin, regress_site_reader;
