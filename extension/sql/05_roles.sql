--------------------------------------------------------------------------------
-- Roles
--
-- nfpg_loader is what nfpgd logs in as (through a LOGIN role that is a member
-- of it): it can append flows and report exporters and partitions, but it
-- cannot read flows, change or drop anything.  nfpg_reader can query.
-- Roles are cluster-wide, so they survive DROP EXTENSION and are reused.
--------------------------------------------------------------------------------

DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'nfpg_loader') THEN
		CREATE ROLE nfpg_loader NOLOGIN;
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'nfpg_reader') THEN
		CREATE ROLE nfpg_reader NOLOGIN;
	END IF;
END
$$;
