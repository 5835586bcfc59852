-- The merge of partial states in parallel plans.  150,000 flows: 50,000
-- connections (IPv4 and IPv6), three times over, each time a request and a
-- reply, spread over the whole table so that every worker sees most keys.
-- The partial tables grow past the batched-insert threshold and into mapped
-- memory, and the leader merges four or five runs of tens of thousands of
-- groups.  All records of a connection end at the same moment, so -a and -b
-- decide ToS and direction by their tie rule.  Forced plans with four
-- workers, with and without the leader, must give the serial plan's rows,
-- every one of them; the serial -s ip must give the plain GROUP BY's sums.
SET timezone = 'UTC';
\set VERBOSITY terse
TRUNCATE nfpg.flows;
SELECT nfpg.ensure_partitions('2024-02-01 10:00+00', '2024-02-01 11:00+00') > 0 AS partitions;
INSERT INTO nfpg.flows (first_seen, last_seen, proto, src_addr, dst_addr, src_port, dst_port,
	packets, bytes, tcp_flags, src_tos, flows, exporter, export_version)
SELECT t0 + i * interval '1 ms', t0 + interval '200 s' + c % 7 * interval '1 s',
	CASE WHEN c % 11 = 0 THEN 17 ELSE 6 END,
	CASE WHEN r THEN b ELSE a END, CASE WHEN r THEN a ELSE b END,
	CASE WHEN r THEN pb ELSE pa END, CASE WHEN r THEN pa ELSE pb END,
	1 + (i * 7) % 50, 40 + (i * 7919) % 150000, i % 64, (i % 4) * 8, 1 + i % 3, '127.0.0.1', 9
FROM generate_series(0, 149999) i,
	LATERAL (SELECT i / 2 % 50000 AS c, i % 2 = 1 AS r) k,
	LATERAL (SELECT CASE WHEN c % 7 = 0 THEN '2001:db8::'::inet ELSE '10.0.0.0'::inet END + c AS a,
		'192.168.0.0'::inet + (c * 31) % 5000 AS b, 1024 + (c * 13) % 60000 AS pa,
		CASE WHEN c % 3 = 0 THEN 443 ELSE (c * 17) % 1000 END AS pb) e,
	(SELECT timestamptz '2024-02-01 10:00+00' AS t0) t;
ANALYZE nfpg.flows;

-- the answers of the serial plan
SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE s_ip AS SELECT * FROM nfpg.nf_stat('ip', 'bytes', 0);
CREATE TEMP TABLE s_ip10 AS SELECT * FROM nfpg.nf_stat('ip', 'flows', 10);
CREATE TEMP TABLE s_port AS SELECT * FROM nfpg.nf_stat('dstport', 'packets', 0);
CREATE TEMP TABLE s_net AS SELECT * FROM nfpg.nf_aggregate('srcip4/24,dstip6/64', 'bytes', 0);
CREATE TEMP TABLE s_a AS SELECT * FROM nfpg.nf_aggregate(NULL, 'bytes', 0);
CREATE TEMP TABLE s_b AS SELECT * FROM nfpg.nf_aggregate(bidirectional => true);
CREATE TEMP TABLE s_bg AS SELECT * FROM nfpg.nf_aggregate(guess_direction => true);
SELECT (SELECT count(*) FROM s_ip) AS ip_groups, (SELECT count(*) FROM s_port) AS ports,
	(SELECT count(*) FROM s_net) AS nets, (SELECT count(*) FROM s_a) AS a_records,
	(SELECT count(*) FROM s_b) AS b_records, (SELECT count(*) FROM s_bg) AS bg_records;

-- -s ip against plain SQL: every address, both sides counted
SELECT count(*) AS ip_rows,
	count(*) FILTER (WHERE s.value IS NULL OR g.ip IS NULL) AS unmatched,
	count(*) FILTER (WHERE (s.flows, s.packets, s.bytes) IS DISTINCT FROM (g.f, g.p, g.b)) AS wrong
FROM s_ip s FULL JOIN (
	SELECT host(ip) AS ip, sum(flows) AS f, sum(packets) AS p, sum(bytes) AS b
	FROM (SELECT src_addr AS ip, flows, packets, bytes FROM nfpg.flows
		  UNION ALL SELECT dst_addr, flows, packets, bytes FROM nfpg.flows) x
	GROUP BY ip) g ON g.ip = s.value;

-- serial rows against the current plan's: "rows, missing, extra"
CREATE FUNCTION pg_temp.compare(serial regclass, q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	n bigint;
	missing bigint;
	extra bigint;
BEGIN
	EXECUTE 'CREATE TEMP TABLE cur AS ' || q;
	EXECUTE format('SELECT count(*) FROM %s', serial) INTO n;
	EXECUTE format('SELECT count(*) FROM (TABLE %s EXCEPT ALL TABLE cur) d', serial) INTO missing;
	EXECUTE format('SELECT count(*) FROM (TABLE cur EXCEPT ALL TABLE %s) d', serial) INTO extra;
	DROP TABLE cur;
	RETURN format('%s rows, %s missing, %s extra', n, missing, extra);
END
$$;
-- the workers the statistic's own query launched
CREATE FUNCTION pg_temp.workers(q text) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
	plan json;
BEGIN
	EXECUTE 'EXPLAIN (ANALYZE, FORMAT JSON) ' || q INTO plan;
	RETURN (regexp_match(plan::text, '"Workers Launched": ([0-9]+)'))[1]::int;
END
$$;

SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 4;
SET max_parallel_workers = 8;
SELECT pg_temp.workers($$SELECT nfpg.nf_topn('stat2 bytes 0 src_addr', flows, packets, bytes,
	out_packets, out_bytes, first_seen, last_seen, tcp_flags, src_tos, src_addr, dst_addr)
	FROM nfpg.flows$$) AS workers_launched;
SELECT pg_temp.compare('s_ip', $$SELECT * FROM nfpg.nf_stat('ip', 'bytes', 0)$$) AS ip;
SELECT pg_temp.compare('s_ip10', $$SELECT * FROM nfpg.nf_stat('ip', 'flows', 10)$$) AS ip_top10;
SELECT pg_temp.compare('s_port', $$SELECT * FROM nfpg.nf_stat('dstport', 'packets', 0)$$) AS dstport;
SELECT pg_temp.compare('s_net', $$SELECT * FROM nfpg.nf_aggregate('srcip4/24,dstip6/64', 'bytes', 0)$$) AS nets;
SELECT pg_temp.compare('s_a', $$SELECT * FROM nfpg.nf_aggregate(NULL, 'bytes', 0)$$) AS a;
SELECT pg_temp.compare('s_b', $$SELECT * FROM nfpg.nf_aggregate(bidirectional => true)$$) AS b;
SELECT pg_temp.compare('s_bg', $$SELECT * FROM nfpg.nf_aggregate(guess_direction => true)$$) AS bg;

-- every row through a worker: serialize, deserialize, merge only
SET parallel_leader_participation = off;
SELECT pg_temp.workers($$SELECT nfpg.nf_topn_records('b - 0 src_addr,dst_addr,src_port,dst_port,proto',
	flows, packets, bytes, out_packets, out_bytes, first_seen, last_seen, tcp_flags, src_tos,
	src_addr, dst_addr, src_port, dst_port, proto) FROM nfpg.flows$$) AS workers_launched;
SELECT pg_temp.compare('s_ip', $$SELECT * FROM nfpg.nf_stat('ip', 'bytes', 0)$$) AS ip;
SELECT pg_temp.compare('s_ip10', $$SELECT * FROM nfpg.nf_stat('ip', 'flows', 10)$$) AS ip_top10;
SELECT pg_temp.compare('s_net', $$SELECT * FROM nfpg.nf_aggregate('srcip4/24,dstip6/64', 'bytes', 0)$$) AS nets;
SELECT pg_temp.compare('s_b', $$SELECT * FROM nfpg.nf_aggregate(bidirectional => true)$$) AS b;

-- a session keeps its mapped memory for the next query, or not
SET nfpg.stat_memory_cache = 0;
SELECT pg_temp.compare('s_ip', $$SELECT * FROM nfpg.nf_stat('ip', 'bytes', 0)$$) AS ip_uncached;
-- mapped in transparent huge pages (off by default, stat_mem.c): the same
SET nfpg.stat_huge_pages = on;
SELECT pg_temp.compare('s_ip', $$SELECT * FROM nfpg.nf_stat('ip', 'bytes', 0)$$) AS ip_huge_pages;
RESET ALL;
SELECT pg_temp.compare('s_ip', $$SELECT * FROM nfpg.nf_stat('ip', 'bytes', 0)$$) AS ip_serial_again;
SHOW nfpg.stat_memory_cache;
SHOW nfpg.stat_huge_pages;

-- leave no partitions behind for the tests that follow
TRUNCATE nfpg.flows;
DO $$
DECLARE
	parts regclass[] := ARRAY(SELECT relid FROM nfpg.partitions);
	p regclass;
BEGIN
	DELETE FROM nfpg.partitions;
	FOREACH p IN ARRAY parts LOOP
		EXECUTE format('DROP TABLE %s', p);
	END LOOP;
END
$$;
