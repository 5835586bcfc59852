-- Top-N statistics computed inside the scan of packed hours (pack_agg.c):
-- with partitionwise aggregation, each packed hour returns the partial state
-- of nf_topn / nf_topn_records, handed to the Finalize Aggregate by
-- reference in the same process or serialized from a parallel worker.  Two
-- hours of 6000 flows are packed (blocks of 256 rows, 4 per segment), late
-- flows land in the first after packing, a third hour stays a heap
-- partition.  Every statistic below gives the same answer (the final
-- array, md5) as the same aggregate over a heap copy of the flows, and the
-- plan says how many scans aggregated (2 when pushed down, 0 when not):
--   1. nf_topn: one- and two-sided statistics, per protocol, integer, MAC
--      and inet keys, every order; integer keys counted directly, mixed
--      with values beyond the direct array (bytes) and NULLs (src_as);
--      nf_topn_records: -a, -A with masks, -b, -B; top 0 (all groups);
--   2. with conditions: filters the pre-filter understands, ones it does
--      not, a time window, one that no row passes (a NULL state); ones it
--      holds whole (not, bpp, NULLs), where it alone decides ("exact"); a
--      row-level security policy, evaluated before the query's condition;
--   3. in parallel workers (forced): the same answers, a Parallel Foreign
--      Scan that aggregates;
--   4. shapes kept on the row scan, answered as before: an expression key
--      (srcnet), GROUP BY, FILTER beside a second aggregate, a correlated
--      condition;
--   5. nf_stat and nf_aggregate switch partitionwise aggregation on for
--      their query only, and answer as they do once the hours are unpacked;
--   6. (before 5 unpacks) count(*), count(column), min and max of integer
--      and time columns computed in the scan: serial and parallel, NULLs,
--      conditions (exact, row by row, none passing), the late rows, under a
--      row-level security policy; shapes left to the executor.
SET timezone = 'UTC';
\set VERBOSITY terse

TRUNCATE nfpg.flows;
SELECT nfpg.ensure_partitions('2024-02-21 10:00+00', '2024-02-21 12:59+00') >= 0 AS partitions;
INSERT INTO nfpg.flows (first_seen, last_seen, packets, bytes, out_packets, out_bytes, flows,
	src_as, dst_as, src_port, dst_port, proto, tcp_flags, src_tos, src_addr, dst_addr, exporter,
	in_src_mac)
SELECT t, t + (g % 900) * interval '1 ms', 1 + g % 40, 40 + (g * 7919) % 90000,
	CASE WHEN g % 3 = 0 THEN g % 7 END, CASE WHEN g % 3 = 0 THEN g % 700 END,
	CASE WHEN g % 13 = 0 THEN 0 ELSE 1 + g % 3 END,
	CASE WHEN g % 3 > 0 THEN g % 50 END, 3356,
	(g * 37) % 65536, (ARRAY[80, 443, 53, 25, 587, 8080, 65535, 0])[1 + (g / 3) % 8],
	(ARRAY[6, 17, 1, 6, 58, 47, 6, 17])[1 + g % 8], g % 64, g % 4,
	CASE WHEN g % 97 = 1 THEN '10.7.7.7'::inet
		 WHEN g % 113 = 4 THEN '2001:db8::7'::inet
		 WHEN g % 10 = 0 THEN ('2001:db8:' || to_hex(g % 16) || '::' || to_hex(g % 40))::inet
		 ELSE ('10.' || (g / 256) % 4 || '.' || g % 256 || '.' || (g * 3) % 7)::inet END,
	CASE WHEN g % 89 = 2 THEN '10.7.7.7'::inet
		 WHEN g % 10 = 5 THEN ('2001:db8:ff::' || to_hex(g % 64))::inet
		 ELSE ('192.168.' || (g * 13) % 16 || '.' || (g * 7) % 9)::inet END,
	('172.16.0.' || g % 3)::inet,
	CASE WHEN g % 5 = 0 THEN ('08:00:2b:01:02:' || lpad(to_hex(g % 7), 2, '0'))::macaddr END
FROM generate_series(0, 8999) g,
	 LATERAL (SELECT timestamptz '2024-02-21 10:00+00' + (g / 2) * interval '2.4 s' AS t) x;
SELECT nfpg.pack_partition('nfpg.flows_20240221_1000', 3, 256, 4) AS packed;
SELECT nfpg.pack_partition('nfpg.flows_20240221_1100', 3, 256, 4) AS packed;
-- late flows for the first packed hour: they are read from its heap side table
INSERT INTO nfpg.flows (first_seen, last_seen, packets, bytes, src_port, dst_port, proto, src_addr, dst_addr, exporter)
SELECT timestamptz '2024-02-21 10:30+00' + g * interval '1 s', timestamptz '2024-02-21 10:31+00', 3, 300 + g,
	1024 + g, 587, 6, '10.7.7.7', ('192.168.0.' || g % 3)::inet, '172.16.0.9'
FROM generate_series(1, 50) g;
CREATE TEMP TABLE heap_copy AS SELECT * FROM nfpg.flows;
SELECT count(*) AS flows, count(*) FILTER (WHERE first_seen >= '2024-02-21 12:00+00') AS heap_hour FROM heap_copy;
SELECT relkind, count(*) FROM pg_class c JOIN pg_inherits i ON i.inhrelid = c.oid
 WHERE i.inhparent = 'nfpg.flows'::regclass AND c.relname LIKE 'flows_20240221%' GROUP BY 1 ORDER BY 1;

-- The aggregate agg(spec, counters, keys) over nfpg.flows and over the heap
-- copy, under the condition cond: 'same' or 'DIFFERENT', and how many scans
-- of packed hours aggregated in the plan (and whether the heap hours did
-- too, heap_agg.c: how many there are depends on the date).
CREATE FUNCTION pg_temp.same(agg text, spec text, keys text, cond text DEFAULT 'true')
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	q		text := nfpg.nf_topn_sql(agg, spec, 'flows, packets, bytes, out_packets, out_bytes,'
				' first_seen, last_seen, tcp_flags, src_tos, ' || keys, cond);
	plan	text := '';
	line	text;
	a		text;
	b		text;
BEGIN
	FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
		plan := plan || line || E'\n';
	END LOOP;
	EXECUTE format('SELECT md5((%s)::text)', q) INTO a;
	EXECUTE format('SELECT md5((%s)::text)', replace(q, 'FROM nfpg.flows', 'FROM pg_temp.heap_copy')) INTO b;
	RETURN CASE WHEN a = b THEN 'same' ELSE 'DIFFERENT' END || ', '
		|| regexp_count(plan, 'Packed Partition: [^\n]*\n *Aggregate in Scan') || ' in scan'
		|| CASE WHEN plan LIKE '%NfpgHeapAggregate%' THEN ', heap hours too' ELSE '' END
		|| CASE WHEN plan LIKE '%Parallel Foreign Scan%' THEN ', parallel' ELSE '' END
		|| CASE WHEN plan LIKE '%Conditions Decided: by the row filter%' THEN ', exact pre-filter' ELSE '' END;
END
$$;

SET enable_partitionwise_aggregate = on;

-- 1. statistics and aggregations, serial
SET max_parallel_workers_per_gather = 0;
SELECT spec, pg_temp.same('nf_topn', spec, keys) FROM (VALUES
	('stat2 bytes 10 src_addr', 'src_addr, dst_addr'),
	('stat flows 10 dst_port', 'dst_port'),
	('stat2 packets:a 5 src_port', 'src_port, src_port'),
	('stat2 flows 0 src_addr,proto', 'src_addr, proto, dst_addr, proto'),
	('stat bpp 10 proto', 'proto'),
	('stat bytes:a 10 src_tos', 'src_tos'),
	('stat2 bps 10 src_as', 'src_as, dst_as'),
	('stat pps 10 in_src_mac', 'in_src_mac'),
	('stat flows 0 bytes', 'bytes'),
	('stat2 flows 0 port', 'src_port, dst_port'),
	('stat flows 0 src_addr,dst_addr,src_port,dst_port,proto', 'src_addr, dst_addr, src_port, dst_port, proto')
) v(spec, keys);
SELECT spec, pg_temp.same('nf_topn_records', spec, keys) FROM (VALUES
	('a - 0 src_addr,dst_addr,src_port,dst_port,proto', 'src_addr, dst_addr, src_port, dst_port, proto'),
	('A bytes 15 src_addr/4:24,dst_addr/4:24', 'src_addr, dst_addr'),
	('A packets 10 src_addr/6:48,dst_port', 'src_addr, dst_port'),
	('b flows 0 src_addr,dst_addr,src_port,dst_port,proto', 'src_addr, dst_addr, src_port, dst_port, proto'),
	('B tstart 20 src_addr,dst_addr,src_port,dst_port,proto', 'src_addr, dst_addr, src_port, dst_port, proto')
) v(spec, keys);

-- 2. conditions
-- (no flow has port 4242: for an estimate of no rows both plans cost the
-- same, and which one wins depends on how many heap hours exist, so only
-- its answer is shown)
SELECT cond, CASE WHEN cond = 'dst_port = 4242' THEN split_part(s, ',', 1) ELSE s END AS same
  FROM (SELECT cond, pg_temp.same('nf_topn', 'stat2 bytes 10 src_addr', 'src_addr, dst_addr', cond) AS s FROM (VALUES
	(nfpg.nf_filter_sql('host 10.7.7.7')),
	(nfpg.nf_filter_sql('proto tcp and dst port 587')),
	(nfpg.nf_filter_sql('net 10.1.0.0/16 or src port > 60000')),
	('bytes % 3 = 0 AND src_port IS NOT NULL'),
	('first_seen >= ''2024-02-21 10:20+00'' AND first_seen < ''2024-02-21 12:10+00'''),
	('dst_port = 4242'),
	-- not, bpp: the pre-filter holds the whole condition and decides alone
	(nfpg.nf_filter_sql('not proto icmp and bytes < 100 and bpp < 100 and packets < 5 and not port 80 and not port 53')),
	(nfpg.nf_filter_sql('bpp > 1000 or not (port 53 or proto udp)')),
	-- NULLs: src_as and out_packets are NULL in a third of the flows, out_packets 0 in some
	('NOT (src_as = 7) AND NOT (first_seen = ''2024-02-21 10:00:00+00'')'),
	('nfpg.flow_bpp(bytes, out_packets) < 50 OR NOT (out_bytes >= 300)'),
	-- not exact: an address under NOT, IS NULL under NOT
	(nfpg.nf_filter_sql('not host 10.7.7.7 and not proto tcp')),
	('NOT (out_packets < 3 OR out_packets IS NULL)')
) v(cond)) x;
SELECT pg_temp.same('nf_topn_records', 'A packets 10 src_addr,dst_port', 'src_addr, dst_port',
	nfpg.nf_filter_sql('proto tcp and flags S and not flags AR'));

-- row-level security: the policy's condition is evaluated before the query's
-- own (a function that fails on a row of another protocol would see one)
CREATE ROLE nfpg_pack_agg_limited;
GRANT USAGE ON SCHEMA nfpg TO nfpg_pack_agg_limited;
GRANT SELECT ON nfpg.flows TO nfpg_pack_agg_limited;
ALTER TABLE nfpg.flows ENABLE ROW LEVEL SECURITY;
CREATE POLICY only_udp ON nfpg.flows TO nfpg_pack_agg_limited USING (proto = 17);
CREATE FUNCTION public.pack_agg_udp_only(p smallint) RETURNS boolean LANGUAGE plpgsql COST 0.0000001 AS $$
BEGIN
	IF p <> 17 THEN
		RAISE EXCEPTION 'the query''s condition saw a row of protocol %', p;
	END IF;
	RETURN true;
END
$$;
SET ROLE nfpg_pack_agg_limited;
EXPLAIN (COSTS OFF) SELECT nfpg.nf_topn('stat2 bytes 10 src_addr', flows, packets, bytes, out_packets,
	out_bytes, first_seen, last_seen, tcp_flags, src_tos, src_addr, dst_addr) FROM nfpg.flows
 WHERE public.pack_agg_udp_only(proto) AND first_seen < '2024-02-21 12:00+00' AND first_seen >= '2024-02-21 10:00+00';
CREATE TEMP TABLE rls_answer AS
SELECT md5(nfpg.nf_topn('stat2 bytes 10 src_addr', flows, packets, bytes, out_packets, out_bytes,
	first_seen, last_seen, tcp_flags, src_tos, src_addr, dst_addr)::text) AS answer
  FROM nfpg.flows WHERE public.pack_agg_udp_only(proto);
RESET ROLE;
SELECT answer = (SELECT md5(nfpg.nf_topn('stat2 bytes 10 src_addr', flows, packets, bytes, out_packets,
		out_bytes, first_seen, last_seen, tcp_flags, src_tos, src_addr, dst_addr)::text)
	  FROM heap_copy WHERE proto = 17) AS same_as_the_udp_flows
  FROM rls_answer;
DROP TABLE rls_answer;
DROP POLICY only_udp ON nfpg.flows;
ALTER TABLE nfpg.flows DISABLE ROW LEVEL SECURITY;
DROP FUNCTION public.pack_agg_udp_only(smallint);
REVOKE ALL ON nfpg.flows FROM nfpg_pack_agg_limited;
REVOKE ALL ON SCHEMA nfpg FROM nfpg_pack_agg_limited;
DROP ROLE nfpg_pack_agg_limited;

-- 3. parallel workers, forced (a statistic of many groups is costed serial:
-- expensive conditions tip it)
SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET cpu_operator_cost = 10;
SELECT spec, pg_temp.same('nf_topn', spec, keys, 'bytes > 0 AND packets > 0') FROM (VALUES
	('stat2 bytes 10 src_addr', 'src_addr, dst_addr'),
	('stat flows 10 dst_port', 'dst_port')
) v(spec, keys);
SELECT pg_temp.same('nf_topn_records', 'A bytes 15 src_addr/4:24,dst_addr/4:24', 'src_addr, dst_addr',
	nfpg.nf_filter_sql('not proto icmp'));
RESET cpu_operator_cost;
EXPLAIN (COSTS OFF) SELECT nfpg.nf_topn('stat flows 10 dst_port', flows, packets, bytes, out_packets,
	out_bytes, first_seen, last_seen, tcp_flags, src_tos, dst_port) FROM nfpg.flows
 WHERE first_seen >= '2024-02-21 10:00+00' AND first_seen < '2024-02-21 12:00+00';
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
SET max_parallel_workers_per_gather = 0;

-- 4. shapes the scan does not aggregate: planned and answered as before
SELECT pg_temp.same('nf_topn_records', 'A bytes 10 src_addr',
	'set_masklen(network(set_masklen(src_addr, 16))::inet, 32)');
CREATE FUNCTION pg_temp.by_hour(rel regclass) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
	EXECUTE format('SELECT string_agg(t::text, '';'' ORDER BY h) FROM (SELECT date_trunc(''hour'', first_seen) AS h,'
		' nfpg.nf_topn(''stat flows 0 proto'', flows, packets, bytes, out_packets, out_bytes,'
		' first_seen, last_seen, tcp_flags, src_tos, proto) AS t FROM %s GROUP BY 1) x', rel) INTO r;
	RETURN md5(r);
END
$$;
SELECT pg_temp.by_hour('nfpg.flows') = pg_temp.by_hour('pg_temp.heap_copy') AS group_by_same;
SELECT (SELECT sum(s.flows) FROM unnest(nfpg.nf_topn('stat flows 0 proto', flows, packets, bytes,
		out_packets, out_bytes, first_seen, last_seen, tcp_flags, src_tos, proto)
		FILTER (WHERE dst_port = 587)) s) AS flows_587,
	count(*) AS all_flows
  FROM nfpg.flows;
SELECT sum(greatest(flows, 1)) FILTER (WHERE dst_port = 587) AS flows_587, count(*) AS all_flows FROM heap_copy;
SELECT p.port, (SELECT s.flows FROM unnest((SELECT nfpg.nf_topn('stat flows 1 dst_port', flows, packets,
		bytes, out_packets, out_bytes, first_seen, last_seen, tcp_flags, src_tos, dst_port)
		FROM nfpg.flows f WHERE f.dst_port = p.port)) s) AS flows,
	(SELECT sum(greatest(flows, 1)) FROM heap_copy h WHERE h.dst_port = p.port) AS heap_flows
  FROM (VALUES (587), (443)) p(port) ORDER BY 1;

-- 6. count, min and max in the scan: the same row as over the heap copy,
-- and how many scans of packed hours computed them
CREATE FUNCTION pg_temp.same_agg(aggs text, cond text DEFAULT 'true')
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	plan	text := '';
	line	text;
	a		text;
	b		text;
BEGIN
	FOR line IN EXECUTE format('EXPLAIN (COSTS OFF, VERBOSE) SELECT %s FROM nfpg.flows WHERE %s', aggs, cond) LOOP
		plan := plan || line || E'\n';
	END LOOP;
	EXECUTE format('SELECT md5(row(%s)::text) FROM nfpg.flows WHERE %s', aggs, cond) INTO a;
	EXECUTE format('SELECT md5(row(%s)::text) FROM pg_temp.heap_copy WHERE %s', aggs, cond) INTO b;
	RETURN CASE WHEN a = b THEN 'same' ELSE 'DIFFERENT' END || ', '
		|| regexp_count(plan, 'Aggregate in Scan: ') || ' in scan'
		|| CASE WHEN plan LIKE '%Parallel Foreign Scan%' THEN ', parallel' ELSE '' END;
END
$$;
SET enable_partitionwise_aggregate = on;
SELECT count(*), min(first_seen), max(last_seen) FROM nfpg.flows WHERE first_seen < '2024-02-21 12:00+00';
SELECT count(*), min(first_seen), max(last_seen) FROM heap_copy WHERE first_seen < '2024-02-21 12:00+00';
EXPLAIN (COSTS OFF, VERBOSE) SELECT count(*), min(first_seen), max(last_seen) FROM nfpg.flows
 WHERE first_seen >= '2024-02-21 10:00+00' AND first_seen < '2024-02-21 11:00+00';
SELECT aggs, cond, pg_temp.same_agg(aggs, cond) FROM (VALUES
	('count(*), min(first_seen), max(last_seen)', 'true'),
	('count(*)', 'true'),
	('count(out_packets), min(out_bytes), max(src_as), count(src_as)', 'true'),
	('min(proto), max(dst_port), min(src_port), max(tcp_flags)', 'true'),
	('max(bytes), min(packets), min(last_seen), max(first_seen)', 'true'),
	('count(*), min(first_seen), max(bytes)', nfpg.nf_filter_sql('proto tcp and dst port 587')),
	('count(*), max(src_port), max(bytes), min(last_seen)', 'bytes % 7 = 3'),
	('count(*), min(first_seen), max(src_as)', 'bytes % 7 = 9'),
	('count(*), min(first_seen)', 'first_seen >= ''2024-02-21 10:30+00'' AND first_seen < ''2024-02-21 10:31+00'''),
	('count(DISTINCT proto), sum(bytes)', 'true'),
	('min(src_addr), count(*)', 'true'),
	('count(*) FILTER (WHERE proto = 6)', 'true')
) v(aggs, cond);
-- no flow has port 4242 (the answer only: for an estimate of no rows both
-- plans cost the same, see 2.)
SELECT split_part(pg_temp.same_agg('count(*), min(first_seen), max(src_as)', 'dst_port = 4242'), ',', 1) AS no_row;
-- under a row-level security policy, evaluated before the query's condition
CREATE ROLE nfpg_pack_agg_counter;
GRANT USAGE ON SCHEMA nfpg TO nfpg_pack_agg_counter;
GRANT SELECT ON nfpg.flows TO nfpg_pack_agg_counter;
ALTER TABLE nfpg.flows ENABLE ROW LEVEL SECURITY;
CREATE POLICY only_udp ON nfpg.flows TO nfpg_pack_agg_counter USING (proto = 17);
SET ROLE nfpg_pack_agg_counter;
CREATE TEMP TABLE rls_counts AS
SELECT count(*) AS n, min(first_seen) AS first, max(bytes) AS most FROM nfpg.flows WHERE bytes > 1000;
EXPLAIN (COSTS OFF) SELECT count(*) FROM nfpg.flows
 WHERE bytes > 1000 AND first_seen >= '2024-02-21 10:00+00' AND first_seen < '2024-02-21 11:00+00';
RESET ROLE;
SELECT r.n > 0 AS some, (r.n, r.first, r.most) = (h.n, h.first, h.most) AS same_as_the_udp_flows
  FROM rls_counts r, (SELECT count(*) AS n, min(first_seen) AS first, max(bytes) AS most
					  FROM heap_copy WHERE proto = 17 AND bytes > 1000) h;
DROP TABLE rls_counts;
DROP POLICY only_udp ON nfpg.flows;
ALTER TABLE nfpg.flows DISABLE ROW LEVEL SECURITY;
REVOKE ALL ON nfpg.flows FROM nfpg_pack_agg_counter;
REVOKE ALL ON SCHEMA nfpg FROM nfpg_pack_agg_counter;
DROP ROLE nfpg_pack_agg_counter;
-- in parallel workers, forced
SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SELECT aggs, cond, pg_temp.same_agg(aggs, cond) FROM (VALUES
	('count(*), min(first_seen), max(last_seen)', 'true'),
	('count(out_packets), max(bytes)', nfpg.nf_filter_sql('not proto icmp')),
	('count(*), min(first_seen), max(src_as)', 'bytes % 7 = 9')
) v(aggs, cond);
SELECT split_part(pg_temp.same_agg('count(*), min(first_seen)', 'dst_port = 4242'), ',', 1) AS no_row;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
SET max_parallel_workers_per_gather = 0;

-- 5. nf_stat / nf_aggregate: the setting for their query only, answers as unpacked
RESET enable_partitionwise_aggregate;
CREATE TEMP TABLE answers AS
SELECT 'ip' AS q, md5(string_agg(s::text, '|')) AS packed FROM nfpg.nf_stat('ip', 'bytes', 10) s
UNION ALL SELECT 'dstport 587', md5(string_agg(s::text, '|')) FROM nfpg.nf_stat('dstport', 'flows', 5, 'proto tcp', '2024-02-21 10:00+00', '2024-02-21 11:30+00') s
UNION ALL SELECT '-A', md5(string_agg(nfpg.nf_format(s, 'line')::text, '|')) FROM nfpg.nf_aggregate('srcip4/24,dstip4/24', 'bytes', 15) s
UNION ALL SELECT '-b', md5(string_agg(nfpg.nf_format(s, 'line')::text, '|')) FROM nfpg.nf_aggregate(NULL, 'flows', 20, bidirectional => true) s;
SHOW enable_partitionwise_aggregate;
SELECT nfpg.unpack_partition('nfpg.flows_20240221_1000') AS unpacked;
SELECT nfpg.unpack_partition('nfpg.flows_20240221_1100') AS unpacked;
SELECT a.q, a.packed = b.heap AS same FROM answers a JOIN (
	SELECT 'ip' AS q, md5(string_agg(s::text, '|')) AS heap FROM nfpg.nf_stat('ip', 'bytes', 10) s
	UNION ALL SELECT 'dstport 587', md5(string_agg(s::text, '|')) FROM nfpg.nf_stat('dstport', 'flows', 5, 'proto tcp', '2024-02-21 10:00+00', '2024-02-21 11:30+00') s
	UNION ALL SELECT '-A', md5(string_agg(nfpg.nf_format(s, 'line')::text, '|')) FROM nfpg.nf_aggregate('srcip4/24,dstip4/24', 'bytes', 15) s
	UNION ALL SELECT '-b', md5(string_agg(nfpg.nf_format(s, 'line')::text, '|')) FROM nfpg.nf_aggregate(NULL, 'flows', 20, bidirectional => true) s
) b USING (q) ORDER BY 1;
TRUNCATE nfpg.flows;
