-- index_partitions(sort_by_source => true): a closed partition is rewritten
-- in (5-minute slot, src_addr) order before its lookup indexes are built;
-- it keeps every row, and lookups and time windows give the same answers.
SET timezone = 'UTC';
\set VERBOSITY terse

TRUNCATE nfpg.flows;
SELECT nfpg.ensure_partitions('2024-03-01 00:00+00', '2024-03-01 00:59+00') >= 0 AS partitions;
-- 12000 flows in time order over one hour: 10.1.<i%40>.<i%250> -> 192.168.<i%30>.1
INSERT INTO nfpg.flows (first_seen, last_seen, proto, src_addr, dst_addr, src_port, dst_port,
						packets, bytes, exporter, src_as)
SELECT t, t + interval '2 s', CASE WHEN i % 4 = 0 THEN 17 ELSE 6 END,
	   format('10.1.%s.%s', i % 40, i % 250)::inet, format('192.168.%s.1', i % 30)::inet,
	   1024 + i % 3000, CASE WHEN i % 9 = 0 THEN 4899 ELSE 443 END,
	   1 + i % 5, 60 * (1 + i % 5), '192.0.2.1', CASE WHEN i % 3 = 0 THEN NULL ELSE 64500 END
FROM generate_series(0, 11999) i, LATERAL (SELECT timestamptz '2024-03-01 00:00+00' + i * interval '300 ms') s(t);
CREATE TEMP TABLE before AS SELECT * FROM nfpg.flows_20240301_0000;

SELECT nfpg.index_partitions('0', 1000, sort_by_source => true) >= 1 AS indexed;
SELECT indexed IS NOT NULL AS indexed FROM nfpg.partitions WHERE relid = 'nfpg.flows_20240301_0000'::regclass;
-- the lookup indexes and the BRIN remain, the sort index is gone
SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
WHERE i.indrelid = 'nfpg.flows_20240301_0000'::regclass ORDER BY 1;

-- every row is still there, unchanged
SELECT (SELECT count(*) FROM nfpg.flows_20240301_0000) AS rows,
	   (SELECT count(*) FROM (TABLE before EXCEPT ALL TABLE nfpg.flows_20240301_0000) d) AS lost,
	   (SELECT count(*) FROM (TABLE nfpg.flows_20240301_0000 EXCEPT ALL TABLE before) d) AS gained;

-- physical order: 5-minute slot, then source address
SELECT count(*) AS out_of_order
FROM (SELECT date_bin('5 minutes', first_seen, '2000-01-01 00:00+00') AS slot, src_addr,
			 lag(date_bin('5 minutes', first_seen, '2000-01-01 00:00+00')) OVER w AS prev_slot,
			 lag(src_addr) OVER w AS prev_addr
	  FROM nfpg.flows_20240301_0000 WINDOW w AS (ORDER BY ctid)) s
WHERE (slot, src_addr) < (prev_slot, prev_addr);
-- a subnet's sources in one slot are adjacent: 12 slots, a run of pages
-- each, where the time-ordered copy has them on every page
SELECT (SELECT count(DISTINCT (ctid::text::point)[0]) FROM nfpg.flows_20240301_0000
		WHERE src_addr <<= '10.1.3.0/24') <= 12 * 2 AS sorted_few_pages,
	   (SELECT count(DISTINCT (ctid::text::point)[0]) FROM before
		WHERE src_addr <<= '10.1.3.0/24') > 100 AS before_many_pages;

-- lookups and a time window agree with the unsorted copy
SELECT f, (SELECT count(*) FROM nfpg.flows WHERE nfpg.nf_filter(f)) AS nfpg,
	   (SELECT count(*) FROM before b WHERE nfpg.nf_filter(b, f)) AS before
FROM unnest(ARRAY['host 10.1.7.7', 'net 10.1.3.0/24', 'port 4899', 'src as 64500 and proto udp']) f;
SELECT count(*), sum(bytes) FROM nfpg.flows
WHERE first_seen >= '2024-03-01 00:20+00' AND first_seen < '2024-03-01 00:25+00';
SELECT count(*), sum(bytes) FROM before
WHERE first_seen >= '2024-03-01 00:20+00' AND first_seen < '2024-03-01 00:25+00';
-- the plans still use the lookup indexes
SET max_parallel_workers_per_gather = 0;
EXPLAIN (COSTS OFF)
SELECT count(*) FROM nfpg.flows_20240301_0000 f WHERE nfpg.nf_filter(f, 'host 10.1.7.7');
RESET max_parallel_workers_per_gather;
TRUNCATE nfpg.flows;
