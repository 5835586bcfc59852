--------------------------------------------------------------------------------
-- Grants of the foundation's objects to the roles of 05_roles.sql
--
-- The SECURITY DEFINER functions the loader calls run as nfpg_owner, which
-- owns nfpg.flows and its partitions (setup(), create_partition()) and may
-- change exactly the bookkeeping tables they keep: a flaw in one of them
-- gives its caller nfpg_owner's rights, never a superuser's.
--------------------------------------------------------------------------------

GRANT USAGE, CREATE ON SCHEMA nfpg TO nfpg_owner;
GRANT SELECT, INSERT, UPDATE, DELETE ON nfpg.settings, nfpg.partitions, nfpg.exporters,
	nfpg.loader_batches TO nfpg_owner;

DO $$
DECLARE
	f	regprocedure;
BEGIN
	FOREACH f IN ARRAY ARRAY[
		'nfpg.create_partition(timestamptz, timestamptz)',
		'nfpg.make_partitions(timestamptz, timestamptz)',
		'nfpg.ensure_partitions(timestamptz, timestamptz)',
		'nfpg.rescue_default()',
		'nfpg.index_partitions(interval, integer, boolean)',
		'nfpg.exporter_report(inet, bigint, smallint, timestamptz, bigint, bigint, bigint, integer, integer)',
		'nfpg.loader_batch_claim(text, bigint)',
		'nfpg.loader_batches_expire(interval)',
		'nfpg.loader_target(timestamptz, timestamptz)']::regprocedure[]
	LOOP
		EXECUTE format('ALTER FUNCTION %s OWNER TO nfpg_owner', f);
		EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
	END LOOP;
END
$$;

GRANT USAGE ON SCHEMA nfpg TO nfpg_loader, nfpg_reader, nfpg_admin;
GRANT EXECUTE ON FUNCTION nfpg.ensure_partitions(timestamptz, timestamptz) TO nfpg_loader;
GRANT EXECUTE ON FUNCTION nfpg.exporter_report(inet, bigint, smallint, timestamptz, bigint, bigint, bigint, integer, integer) TO nfpg_loader;

GRANT SELECT ON nfpg.exporters, nfpg.partitions, nfpg.settings, nfpg.nodes TO nfpg_reader, nfpg_admin;
