-- nfpg.setup(): the user's data objects, made once after CREATE EXTENSION
-- (pg_regress created the extension).  Every later test uses nfpg.flows.
SELECT to_regclass('nfpg.flows') IS NULL AS no_flows_before_setup;
SELECT nfpg.setup();
-- idempotent
SELECT nfpg.setup();
-- a typed table of the extension's type, owned by nfpg_owner, not an
-- extension member (so pg_dump dumps it and DROP EXTENSION needs CASCADE)
SELECT c.reloftype::regtype AS of_type, c.relowner::regrole AS owner,
	   EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
				 AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e') AS extension_member
  FROM pg_class c WHERE c.oid = 'nfpg.flows'::regclass;
SELECT count(*) AS settings_rows FROM nfpg.settings;
SELECT count(*) AS nfsen_settings_rows FROM nfpg.nfsen_settings;
SELECT profile, filter, kind FROM nfpg.profiles;
-- the later tests make their own profiles
SELECT nfpg.nf_profile_drop('live');
-- the extension's tables are all marked for pg_dump
SELECT c.relname FROM pg_class c JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid
 AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
 JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'nfpg'
 WHERE c.relkind IN ('r', 'p', 'S') AND NOT c.oid = ANY (e.extconfig)
 ORDER BY 1;
-- DROP EXTENSION without CASCADE refuses while flows exist
\set VERBOSITY terse
DROP EXTENSION nfpg;
\set VERBOSITY default
SELECT to_regclass('nfpg.flows') IS NOT NULL AS flows_still_there;
-- Partitions are made only inside the accepted window (now() - 10 years to
-- now() + 1 day by default): a flow stamped 2089 stays in flows_default.
SELECT accept_past, accept_future FROM nfpg.settings;
SELECT nfpg.ensure_partitions('2089-01-01 00:00+00', '2089-01-02 00:00+00') AS far_future;
SELECT nfpg.ensure_partitions('1999-01-01 00:00+00') AS far_past;
SELECT count(*) AS partitions FROM nfpg.partitions;
-- The later tests use fixed dates from 2000 to 2031.
UPDATE nfpg.settings SET accept_past = '30 years', accept_future = '10 years';
