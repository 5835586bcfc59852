--------------------------------------------------------------------------------
-- Grants of the foundation's objects to the roles of 05_roles.sql
--------------------------------------------------------------------------------

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
