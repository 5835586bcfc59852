--------------------------------------------------------------------------------
-- Roles
--
-- nfpg_loader is what nfpgd logs in as (through a LOGIN role that is a member
-- of it): it can append flows and report exporters and partitions, but it
-- cannot read flows, change or drop anything.  nfpg_reader can query.
-- nfpg_admin manages profiles, channels, alerts and plugins (no superuser).
-- nfpg_owner owns nfpg.flows, its partitions and the SECURITY DEFINER
-- functions the loader calls: those run with its rights, which are exactly
-- what loading needs, never a superuser's.  Nobody logs in as nfpg_owner.
--
-- Roles are cluster-wide, so they survive DROP EXTENSION and are reused by
-- every database of the cluster that has nfpg: a member of nfpg_reader can
-- read flows in each of them it may CONNECT to.  To scope rights to one
-- database, grant them to a role of your own with nfpg.grant_access()
-- (95_setup.sql) instead of membership; docs/operations.md.
--------------------------------------------------------------------------------

DO $$
DECLARE
	r	text;
BEGIN
	FOREACH r IN ARRAY ARRAY['nfpg_loader', 'nfpg_reader', 'nfpg_admin', 'nfpg_owner'] LOOP
		IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r) THEN
			EXECUTE format('CREATE ROLE %I NOLOGIN', r);
		END IF;
	END LOOP;
END
$$;
