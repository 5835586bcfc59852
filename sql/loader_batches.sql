-- The loader's exactly-once bookkeeping: nfpg.loader_batch_claim() records a
-- batch id once, in the caller's transaction; loader_batches_expire() forgets
-- old ids; nfpg_loader may call both but cannot read or change the table.
SET timezone = 'UTC';
\set VERBOSITY terse
TRUNCATE nfpg.loader_batches;

-- First claim wins; a second claim of the same id is refused.
SELECT nfpg.loader_batch_claim('host/1700000000000-000000000001', 20000);
SELECT nfpg.loader_batch_claim('host/1700000000000-000000000001', 20000);
SELECT nfpg.loader_batch_claim('host/1700000000000-000000000002', 5);

-- A claim rolled back with its COPY leaves no trace: the batch can load later.
BEGIN;
SELECT nfpg.loader_batch_claim('host/1700000000000-000000000003', 7);
ROLLBACK;
SELECT nfpg.loader_batch_claim('host/1700000000000-000000000003', 7);
SELECT batch_id, flows FROM nfpg.loader_batches ORDER BY batch_id;

-- Expiry removes only ids older than the interval.
UPDATE nfpg.loader_batches SET loaded = now() - interval '8 days'
 WHERE batch_id = 'host/1700000000000-000000000001';
SELECT nfpg.loader_batches_expire(interval '7 days');
SELECT batch_id FROM nfpg.loader_batches ORDER BY batch_id;

-- The loader's privileges: claim and expire, nothing else.
SET ROLE nfpg_loader;
SELECT nfpg.loader_batch_claim('host/1700000000000-000000000004', 1);
SELECT nfpg.loader_batches_expire(interval '7 days');
SELECT count(*) FROM nfpg.loader_batches;
DELETE FROM nfpg.loader_batches;
INSERT INTO nfpg.loader_batches VALUES ('forged', 1);
RESET ROLE;

-- Nobody else may claim batches, even with access to the schema.
CREATE ROLE loader_batches_stranger;
GRANT USAGE ON SCHEMA nfpg TO loader_batches_stranger;
SET ROLE loader_batches_stranger;
SELECT nfpg.loader_batch_claim('host/1700000000000-000000000005', 1);
SELECT nfpg.loader_batches_expire(interval '0 days');
RESET ROLE;
REVOKE USAGE ON SCHEMA nfpg FROM loader_batches_stranger;
DROP ROLE loader_batches_stranger;
SELECT count(*) AS batches_left FROM nfpg.loader_batches;

SELECT obj_description('nfpg.loader_batches'::regclass) IS NOT NULL AS table_commented,
       obj_description('nfpg.loader_batch_claim(text, bigint)'::regprocedure) IS NOT NULL AS claim_commented,
       obj_description('nfpg.loader_batches_expire(interval)'::regprocedure) IS NOT NULL AS expire_commented;
TRUNCATE nfpg.loader_batches;
