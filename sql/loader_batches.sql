-- The loader's exactly-once bookkeeping: nfpg.loader_batch_claim() records a
-- batch id once, in the caller's transaction; loader_batches_expire() forgets
-- old ids; nfpg_loader may call both but cannot read or change the table.
-- And loader_target(), the partition a batch can be COPYed into directly.
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

-- loader_target(): the one attached partition that holds a batch's
-- first_seen range, so the loader can COPY into it without routing.
TRUNCATE nfpg.flows;
SELECT nfpg.ensure_partitions('2031-05-01 10:00+00', '2031-05-01 11:00+00') > 0 AS made;
SELECT nfpg.loader_target('2031-05-01 10:00+00', '2031-05-01 10:59:59.999+00') AS whole_hour,
       nfpg.loader_target('2031-05-01 10:20+00', '2031-05-01 10:20+00') AS one_instant,
       nfpg.loader_target('2031-05-01 10:59+00', '2031-05-01 11:01+00') AS spans_two,
       nfpg.loader_target('2031-05-01 11:00+00', '2031-05-01 11:00:00.001+00') AS next_hour,
       nfpg.loader_target('1999-01-01 00:00+00', '1999-01-01 00:01+00') AS none_there;
-- A detached partition is still registered but no longer a target.
ALTER TABLE nfpg.flows DETACH PARTITION nfpg.flows_20310501_1100;
SELECT nfpg.loader_target('2031-05-01 11:10+00', '2031-05-01 11:20+00') AS detached;
ALTER TABLE nfpg.flows ATTACH PARTITION nfpg.flows_20310501_1100
	FOR VALUES FROM ('2031-05-01 11:00+00') TO ('2031-05-01 12:00+00');
-- The loader may call it and insert into the partition, not read it; a row
-- outside the partition's range is refused (the loader then retries the
-- batch through nfpg.flows).
SET ROLE nfpg_loader;
SELECT nfpg.loader_target('2031-05-01 10:00+00', '2031-05-01 10:30+00') AS as_loader;
INSERT INTO nfpg.flows_20310501_1000 (first_seen, last_seen, packets, bytes, proto, src_addr, dst_addr, exporter)
VALUES ('2031-05-01 10:30+00', '2031-05-01 10:31+00', 1, 40, 6, '10.0.0.1', '10.0.0.2', '127.0.0.1');
INSERT INTO nfpg.flows_20310501_1000 (first_seen, last_seen, packets, bytes, proto, src_addr, dst_addr, exporter)
VALUES ('2031-05-01 11:30+00', '2031-05-01 11:31+00', 1, 40, 6, '10.0.0.1', '10.0.0.2', '127.0.0.1');
SELECT count(*) FROM nfpg.flows_20310501_1000;
RESET ROLE;
SELECT count(*) AS direct_rows FROM nfpg.flows WHERE first_seen >= '2031-05-01' AND first_seen < '2031-05-02';
-- Revoking INSERT on nfpg.flows still stops a loader login: no target,
-- so the batch goes through nfpg.flows, where it is refused.
CREATE ROLE regress_target_login LOGIN IN ROLE nfpg_loader;
SET SESSION AUTHORIZATION regress_target_login;
SELECT nfpg.loader_target('2031-05-01 10:00+00', '2031-05-01 10:30+00') AS granted;
RESET SESSION AUTHORIZATION;
REVOKE INSERT ON nfpg.flows FROM nfpg_loader;
SET SESSION AUTHORIZATION regress_target_login;
SELECT nfpg.loader_target('2031-05-01 10:00+00', '2031-05-01 10:30+00') AS revoked;
RESET SESSION AUTHORIZATION;
GRANT INSERT ON nfpg.flows TO nfpg_loader;
DROP ROLE regress_target_login;
TRUNCATE nfpg.flows;

SELECT obj_description('nfpg.loader_batches'::regclass) IS NOT NULL AS table_commented,
       obj_description('nfpg.loader_batch_claim(text, bigint)'::regprocedure) IS NOT NULL AS claim_commented,
       obj_description('nfpg.loader_batches_expire(interval)'::regprocedure) IS NOT NULL AS expire_commented,
       obj_description('nfpg.loader_target(timestamptz, timestamptz)'::regprocedure) IS NOT NULL AS target_commented;
TRUNCATE nfpg.loader_batches;
