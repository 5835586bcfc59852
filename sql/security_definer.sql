-- The SECURITY DEFINER functions cannot be turned against their owner.
-- A login that is only a member of nfpg_loader shadows every table name of
-- schema nfpg with a temporary table (pg_temp is searched first for tables,
-- whatever a function's search_path says) whose triggers try to make the
-- login superuser, puts rows in the default partition (create_partition's
-- rescue path), and calls every function it may execute.  Nothing fires.
CREATE ROLE regress_evil LOGIN IN ROLE nfpg_loader;
-- Every SECURITY DEFINER function: owned by nfpg_owner (not a superuser),
-- search_path pinned, no temporary objects.
SELECT p.oid::regprocedure AS secdef, p.proowner::regrole AS owner,
	   p.proconfig, p.prosrc ~* 'temp' AS uses_temp
  FROM pg_proc p WHERE p.pronamespace = 'nfpg'::regnamespace AND p.prosecdef ORDER BY p.oid::regprocedure::text;
SELECT rolsuper FROM pg_roles WHERE rolname = 'nfpg_owner';
SET SESSION AUTHORIZATION regress_evil;
CREATE TABLE pg_temp.hits (what text);
CREATE FUNCTION pg_temp.evil() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO pg_temp.hits VALUES (TG_TABLE_NAME || ' ' || TG_OP || ' as ' || current_user);
	EXECUTE 'ALTER ROLE regress_evil SUPERUSER';
	RETURN NULL;
END $$;
DO $$
DECLARE
	t	text;
BEGIN
	FOR t IN SELECT relname FROM pg_class WHERE relnamespace = 'nfpg'::regnamespace AND relkind IN ('r', 'p')
			 UNION SELECT 'nfpg_rescue' LOOP
		EXECUTE format('CREATE TEMP TABLE %I (first_seen timestamptz)', t);
		EXECUTE format('CREATE TRIGGER evil AFTER INSERT OR UPDATE OR DELETE ON pg_temp.%I FOR EACH STATEMENT EXECUTE FUNCTION pg_temp.evil()', t);
	END LOOP;
END $$;
-- rows waiting in the default partition, then the functions
INSERT INTO nfpg.flows (first_seen, last_seen, proto, src_addr, dst_addr, exporter)
VALUES ('2030-06-01 10:10+00', '2030-06-01 10:11+00', 6, '10.0.0.1', '10.0.0.2', '192.0.2.1');
SELECT nfpg.ensure_partitions('2030-06-01 10:00+00', '2030-06-01 10:30+00') > 0 AS made;
SELECT nfpg.exporter_report('192.0.2.1', 0, 9::smallint, now(), 1, 1, 0, 1, NULL);
SELECT nfpg.loader_batch_claim('regress-evil-1', 1);
SELECT nfpg.loader_target('2030-06-01 10:10+00', '2030-06-01 10:20+00') IS NOT NULL AS target;
-- the loader cannot forget batch ids younger than a day
SELECT nfpg.loader_batches_expire('-100 years');
SELECT nfpg.collector_report('regress-evil', now(), 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1);
SELECT nfpg.collector_report_source('regress-evil', now(), '192.0.2.1', 1, 0, 0, 0);
SELECT count(*) AS hits FROM pg_temp.hits;
RESET SESSION AUTHORIZATION;
SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_evil';
SELECT count(*) AS kept FROM nfpg.loader_batches WHERE batch_id = 'regress-evil-1';
-- the rescued row is in its partition
SELECT tableoid::regclass FROM nfpg.flows WHERE first_seen = '2030-06-01 10:10+00';
-- The loader may not call the owner's functions directly.
SET SESSION AUTHORIZATION regress_evil;
SELECT nfpg.make_partitions('1990-01-01', '2090-01-01');
SELECT nfpg.create_partition('1990-01-01', '1990-01-02');
SELECT nfpg.rescue_default();
SELECT nfpg.index_partitions();
RESET SESSION AUTHORIZATION;
-- A partition dropped by hand is noticed, logged and made again.
DROP TABLE nfpg.flows_20300601_1000;
SELECT nfpg.ensure_partitions('2030-06-01 10:00+00', '2030-06-01 10:30+00') > 0 AS made_again;
SELECT count(*) AS registered FROM nfpg.partitions WHERE lower_bound = '2030-06-01 10:00+00'
   AND relid = 'nfpg.flows_20300601_1000'::regclass;
DO $$
DECLARE
	r	regclass;
BEGIN
	FOR r IN DELETE FROM nfpg.partitions WHERE lower_bound >= '2030-06-01' AND lower_bound < '2030-06-02' RETURNING relid LOOP
		EXECUTE format('DROP TABLE %s', r);
	END LOOP;
END $$;
DELETE FROM nfpg.loader_batches WHERE batch_id = 'regress-evil-1';
DELETE FROM nfpg.exporters WHERE exporter = '192.0.2.1';
DELETE FROM nfpg.collector_counters WHERE instance = 'regress-evil';
DROP OWNED BY regress_evil;
DROP ROLE regress_evil;
