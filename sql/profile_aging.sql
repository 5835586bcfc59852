-- Aging: max lifetime and max size drop whole partitions, oldest first, down
-- to the watermark; the current partition is never dropped; profile series
-- age separately.  The test works in December 2000 and runs aging "at" a
-- time in 2000, so no partition of another test (all later) is a candidate.
SET timezone = 'UTC';
\set VERBOSITY terse
TRUNCATE nfpg.flows;
DELETE FROM nfpg.profiles;
UPDATE nfpg.settings SET partition_width = '1 hour', premake = '0';
UPDATE nfpg.nfsen_settings SET slot_delay = '5 minutes', max_size = NULL, max_lifetime = NULL,
							   watermark = 95;
-- Eight hourly partitions, 2000-12-31 00:00 .. 08:00, 100 flows in each.
SELECT nfpg.ensure_partitions('2000-12-31 00:00+00', '2000-12-31 07:59+00');
INSERT INTO nfpg.flows (first_seen, last_seen, proto, src_addr, dst_addr, packets, bytes, exporter)
SELECT '2000-12-31 00:00+00'::timestamptz + i * interval '36 seconds',
	   '2000-12-31 00:00+00'::timestamptz + i * interval '36 seconds', 17,
	   '10.0.0.1', '10.0.0.2', 1, 100, '192.0.2.254'
  FROM generate_series(0, 799) i;
CREATE TEMP VIEW mine AS
SELECT relid, lower_bound, upper_bound FROM nfpg.partitions WHERE lower_bound < '2001-01-01+00';
SELECT relid, lower_bound, upper_bound FROM mine ORDER BY lower_bound;

-- No limits: nothing happens.
SELECT * FROM nfpg.nf_expire('2000-12-31 07:30+00');

-- Lifetime 4 hours at 07:30 (running partition 07:00-08:00): a partition is
-- older than that when it ended by 03:30, so 00:00, 01:00 and 02:00 go.  The
-- watermark then drops down to 95% of the lifetime (3h48m: ended by 03:42).
UPDATE nfpg.nfsen_settings SET max_lifetime = '4 hours';
SELECT partition, lower_bound, upper_bound, reason FROM nfpg.nf_expire('2000-12-31 07:30+00');
SELECT relid, lower_bound FROM mine ORDER BY lower_bound;
SELECT count(*) AS flows, min(first_seen) FROM nfpg.flows;
-- The dropped tables are gone from the catalog too.
SELECT count(*) AS tables_left FROM pg_class WHERE relname IN ('flows_20001231_0000', 'flows_20001231_0100', 'flows_20001231_0200');
-- Within the lifetime again: nothing more.
SELECT * FROM nfpg.nf_expire('2000-12-31 07:30+00');

-- Size: a limit just below the current total drops exactly the oldest
-- partition (watermark 100: stop as soon as the total is below the limit).
UPDATE nfpg.nfsen_settings SET max_lifetime = NULL, watermark = 100;
SELECT sum(pg_total_relation_size(relid)) + pg_total_relation_size('nfpg.flows_default') AS total,
	   (SELECT pg_total_relation_size(relid) FROM mine ORDER BY lower_bound LIMIT 1) AS oldest
  FROM nfpg.partitions \gset
UPDATE nfpg.nfsen_settings SET max_size = :total - :oldest + 1;
SELECT partition, lower_bound, reason FROM nfpg.nf_expire('2000-12-31 07:30+00');
SELECT relid, lower_bound FROM mine ORDER BY lower_bound;

-- A tiny limit drops every partition that has ended, oldest first, but the
-- newest one (still running at 07:30) is kept.
UPDATE nfpg.nfsen_settings SET max_size = 1;
SELECT partition, lower_bound, reason FROM nfpg.nf_expire('2000-12-31 07:30+00');
SELECT relid, lower_bound, upper_bound FROM mine ORDER BY lower_bound;
SELECT count(*) AS flows, min(first_seen), max(first_seen) FROM nfpg.flows;

-- nf_run applies aging too, and counts what it dropped.
UPDATE nfpg.nfsen_settings SET max_size = NULL, max_lifetime = '1 hour', watermark = 95;
SELECT nfpg.ensure_partitions('2000-12-31 08:00+00', '2000-12-31 09:30+00');
SELECT partitions_dropped, errors FROM nfpg.nf_run('2000-12-31 10:30+00');
SELECT relid, lower_bound FROM mine ORDER BY lower_bound;
UPDATE nfpg.nfsen_settings SET max_size = NULL, max_lifetime = NULL, watermark = 95;

-- Profile series age by the profile's own series_lifetime, not with the flows.
SELECT nfpg.nf_profile_create('keep', 'any', '2000-12-31 00:00+00', '2000-12-31 08:00+00');
SELECT nfpg.nf_profile_create('short', 'any', '2000-12-31 00:00+00', '2000-12-31 08:00+00',
							  series_lifetime => '2 hours');
SELECT nfpg.nf_profile_build('keep', '2000-12-31 00:00+00', '2000-12-31 08:00+00'),
	   nfpg.nf_profile_build('short', '2000-12-31 00:00+00', '2000-12-31 08:00+00');
SELECT nfpg.nf_expire_series('2000-12-31 08:00+00') AS deleted;
SELECT profile, count(*), min(slot), max(slot) FROM nfpg.profile_series GROUP BY 1 ORDER BY 1;
DELETE FROM nfpg.profiles;
