-- Port runs (pack_build.c, 0.10): a packed hour holds its flows ordered by
-- 5-minute slot, then service port (the lower of the two ports), then
-- first_seen, and says so with the option order 'slot_port'.
--   1. an hour of 24,000 flows in which every port is spread over the whole
--      hour (ports cycle flow by flow, as real traffic mixes them), with the
--      answers of a mail server (src port 587) and flows in both directions;
--   2. packed (blocks of 256 rows): the same rows; the scan returns them in
--      slot, service port, first_seen order; the option is set;
--   3. `dst port 587` and `port 587` read the blocks of 587's runs only, a
--      port absent from the hour reads none, a 5-minute window reads about a
--      twelfth of the blocks: the same rows as on the heap;
--   4. the planner costs a port lookup from the runs, and as a scan of every
--      block once the option is gone (an hour packed by 0.9);
--   5. the option takes one value; a re-pack puts back a dropped option.
SET timezone = 'UTC';
\set VERBOSITY terse

TRUNCATE nfpg.flows;
SELECT nfpg.ensure_partitions('2024-05-06 10:00+00', '2024-05-06 10:00+00') >= 0 AS partitions;
-- flow i starts at 10:00 + i * 150 ms; every 40th flow goes to 587 and the
-- next is the server's answer; the others go to 80, 443, 53, 22 or a high port
INSERT INTO nfpg.flows (first_seen, last_seen, proto, src_addr, dst_addr, src_port, dst_port, exporter, packets, bytes)
SELECT t, t + interval '2 s', CASE WHEN i % 40 = 10 THEN 17 ELSE 6 END,
	CASE WHEN i % 40 = 1 THEN '192.0.2.25'::inet ELSE ('10.1.' || i % 200 || '.' || i % 251)::inet END,
	CASE WHEN i % 40 = 0 THEN '192.0.2.25'::inet ELSE ('172.16.' || i % 7 || '.' || i % 13)::inet END,
	CASE WHEN i % 40 = 1 THEN 587 ELSE 1024 + i % 60000 END,
	CASE i % 40 WHEN 0 THEN 587 WHEN 1 THEN 1024 + i % 60000 WHEN 10 THEN 53 WHEN 20 THEN 22
		ELSE CASE WHEN i % 3 = 0 THEN 80 WHEN i % 3 = 1 THEN 443 ELSE 30000 + i % 97 END END,
	'127.0.0.1', 1 + i % 9, 40 + i % 1400
FROM generate_series(0, 23999) i, LATERAL (SELECT timestamptz '2024-05-06 10:00+00' + i * interval '150 ms' AS t) x;
CREATE TEMP TABLE heap AS SELECT * FROM nfpg.flows;

-- 2. packed: the same rows, in port runs, and the option says so
SELECT nfpg.pack_partition('nfpg.flows_20240506_1000', -1, 256, 4) AS packed;
SELECT (SELECT count(*) FROM (SELECT * FROM heap EXCEPT ALL SELECT * FROM nfpg.flows) d) AS missing,
	   (SELECT count(*) FROM (SELECT * FROM nfpg.flows EXCEPT ALL SELECT * FROM heap) d) AS extra;
SELECT o FROM pg_foreign_table t, unnest(t.ftoptions) o
 WHERE t.ftrelid = 'nfpg.flows_20240506_1000'::regclass AND o LIKE 'order=%';
SET max_parallel_workers_per_gather = 0;
SELECT count(*) AS rows, count(*) FILTER (WHERE k < lag) AS out_of_order,
	   count(DISTINCT (slot, port)) AS runs
FROM (SELECT k, lag(k) OVER (ORDER BY n) AS lag, slot, port
	  FROM (SELECT row_number() OVER () AS n, date_bin('5 minutes', first_seen, '2000-01-01') AS slot,
				   least(src_port, dst_port) AS port,
				   ROW(date_bin('5 minutes', first_seen, '2000-01-01'), least(src_port, dst_port), first_seen) AS k
			FROM nfpg.flows_20240506_1000) s) o;

-- 3. what a lookup reads (EXPLAIN ANALYZE) and that it gives the heap's rows
CREATE FUNCTION pg_temp.plan(cond text, OUT rows_out bigint, OUT blocks_read bigint, OUT blocks_skipped bigint)
LANGUAGE plpgsql AS $$
DECLARE
	plan	json;
BEGIN
	EXECUTE 'EXPLAIN (ANALYZE, FORMAT JSON, COSTS OFF, TIMING OFF) SELECT * FROM nfpg.flows_20240506_1000 f WHERE '
		|| cond INTO plan;
	rows_out := (plan -> 0 -> 'Plan' ->> 'Actual Rows')::bigint;
	blocks_read := (plan -> 0 -> 'Plan' ->> 'Blocks Read')::bigint;
	blocks_skipped := (plan -> 0 -> 'Plan' ->> 'Blocks Skipped')::bigint;
END
$$;
SELECT f, s.*, s.rows_out = (SELECT count(*) FROM heap h WHERE nfpg.nf_filter(h, f))
	AND NOT EXISTS (SELECT * FROM heap h WHERE nfpg.nf_filter(h, f)
					EXCEPT ALL SELECT * FROM nfpg.flows g WHERE nfpg.nf_filter(g, f)) AS same_rows
FROM unnest(ARRAY['proto tcp and dst port 587', 'port 587', 'src port 587', 'dst port 22',
	'dst port 8080', 'proto udp', 'any']) f, LATERAL pg_temp.plan(format('nfpg.nf_filter(f, %L)', f)) s;
-- a 5-minute slot (2,000 flows): its blocks, and one it shares with each neighbour
SELECT rows_out, blocks_read <= 94 / 12 + 2 AS a_slot
FROM pg_temp.plan($$first_seen >= '2024-05-06 10:25+00' AND first_seen < '2024-05-06 10:30+00'$$);

-- 4. the planner's estimate: a port lookup costs its runs, not the hour;
-- 11:00 holds 240,000 flows (30 blocks of pack_partition's default 8,192)
SELECT nfpg.ensure_partitions('2024-05-06 11:00+00', '2024-05-06 11:00+00') >= 0 AS partitions;
INSERT INTO nfpg.flows (first_seen, last_seen, proto, src_addr, dst_addr, src_port, dst_port, exporter)
SELECT t, t, 6, '10.0.0.1', '10.0.0.2', 1024 + i % 60000, CASE WHEN i % 40 = 0 THEN 587 ELSE 443 END, '127.0.0.1'
FROM generate_series(0, 239999) i, LATERAL (SELECT timestamptz '2024-05-06 11:00+00' + i * interval '15 ms' AS t) x;
SELECT nfpg.pack_partition('nfpg.flows_20240506_1100', -1) AS packed;
CREATE FUNCTION pg_temp.cost(cond text) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE
	plan	json;
BEGIN
	EXECUTE format('EXPLAIN (FORMAT JSON) SELECT * FROM nfpg.flows_20240506_1100 WHERE %s', cond) INTO plan;
	RETURN (plan -> 0 -> 'Plan' ->> 'Total Cost')::float8;
END
$$;
CREATE TEMP TABLE costs AS SELECT pg_temp.cost('dst_port = 587') / pg_temp.cost('true') AS runs;
ALTER FOREIGN TABLE nfpg.flows_20240506_1100 OPTIONS (DROP "order");
-- (about 0.22 of a scan's cost in runs, 0.52 spread: ANALYZE's sample moves them a little)
SELECT runs < 0.35 AS in_runs, pg_temp.cost('dst_port = 587') / pg_temp.cost('true') > 0.45 AS spread
FROM costs;

-- 5. the option takes one value; a re-pack sets it again
ALTER FOREIGN TABLE nfpg.flows_20240506_1000 OPTIONS (SET "order" 'first_seen');
ALTER FOREIGN TABLE nfpg.flows_20240506_1000 OPTIONS (DROP "order");
SELECT nfpg.pack_partition('nfpg.flows_20240506_1000', -1, 256, 4) AS repacked;
SELECT o FROM pg_foreign_table t, unnest(t.ftoptions) o
 WHERE t.ftrelid = 'nfpg.flows_20240506_1000'::regclass AND o LIKE 'order=%';
SELECT nfpg.pack_partition('nfpg.flows_20240506_1000', -1, 256, 4) AS repacked_again;
SELECT count(*) AS options FROM pg_foreign_table t, unnest(t.ftoptions) o
 WHERE t.ftrelid = 'nfpg.flows_20240506_1000'::regclass AND o LIKE 'order=%';
SELECT (SELECT count(*) FROM (SELECT * FROM heap EXCEPT ALL SELECT * FROM nfpg.flows_20240506_1000) d) AS missing,
	   (SELECT count(*) FROM (SELECT * FROM nfpg.flows_20240506_1000 EXCEPT ALL SELECT * FROM heap) d) AS extra;

RESET max_parallel_workers_per_gather;
-- leave no partition behind for the tests that follow
SELECT nfpg.drop_partition('nfpg.flows_20240506_1000'), nfpg.drop_partition('nfpg.flows_20240506_1100');
SELECT count(*) AS left_behind FROM nfpg.partitions WHERE lower_bound IN ('2024-05-06 10:00+00', '2024-05-06 11:00+00');
