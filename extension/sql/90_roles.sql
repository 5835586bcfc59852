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

-- SECURITY DEFINER functions are for the loader and the owner only.
REVOKE ALL ON FUNCTION nfpg.create_partition(timestamptz, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION nfpg.make_partitions(timestamptz, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION nfpg.ensure_partitions(timestamptz, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION nfpg.rescue_default() FROM PUBLIC;
REVOKE ALL ON FUNCTION nfpg.exporter_report(inet, bigint, smallint, timestamptz, bigint, bigint, bigint, integer, integer) FROM PUBLIC;

GRANT USAGE ON SCHEMA nfpg TO nfpg_loader, nfpg_reader;
GRANT INSERT ON nfpg.flows TO nfpg_loader;
GRANT EXECUTE ON FUNCTION nfpg.ensure_partitions(timestamptz, timestamptz) TO nfpg_loader;
GRANT EXECUTE ON FUNCTION nfpg.exporter_report(inet, bigint, smallint, timestamptz, bigint, bigint, bigint, integer, integer) TO nfpg_loader;

GRANT SELECT ON nfpg.flows, nfpg.exporters, nfpg.partitions, nfpg.settings TO nfpg_reader;
