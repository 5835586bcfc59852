-- Top-N statistics computed inside the scan of row-store hours (heap_agg.c):
-- with partitionwise aggregation, the Partial Aggregate over a Seq Scan of
-- each heap partition is replaced by a custom scan that reads the heap and
-- adds the flows to the statistic itself.  Every statistic below gives the
-- same answer (the final array, md5) as the same aggregate over a heap copy
-- of the flows (a temporary table: the ordinary plan), and the plan says
-- whether the scans aggregated:
--   1. nf_topn: one- and two-sided statistics, per protocol, integer, MAC
--      and inet keys (IPv4 and IPv6), every order, NULLs; nf_topn_records:
--      -a, -A with masks, -b, -B; top 0;
--   2. with conditions: nf_filter's, a time window, one no row passes (a
--      NULL state), decided by the packed scans' row pre-filter on the
--      batch's arrays ('row filter') or by the executor on each tuple; a
--      row-level security policy, evaluated before the query's condition;
--   3. in parallel workers (forced): a Parallel Custom Scan, same answers;
--   4. partitions laid out differently: one with a dropped column before
--      the others (every attribute number shifts), one whose first rows
--      were written before most columns existed (shorter tuples, a missing
--      NOT NULL value from a default);
--   5. shapes kept on the ordinary plan: partitionwise aggregation off, an
--      index scan for a selective condition, GROUP BY, FILTER, an
--      expression key;
--   6. nf_stat and nf_aggregate take the scan for their query;
--   7. so does a new session's first query (the library loads as it plans)
--      with partitionwise aggregation on.
SET timezone = 'UTC';
\set VERBOSITY terse

TRUNCATE nfpg.flows;
SELECT nfpg.ensure_partitions('2024-02-22 10:00+00', '2024-02-22 12:59+00') >= 0 AS partitions;

-- 4. (made first, filled with the others) an hour with a dropped column in
-- front, and one whose early rows have 10 of the 41 columns
CREATE TABLE nfpg.flows_heap_agg_dropped (dummy bigint, LIKE nfpg.flows INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
ALTER TABLE nfpg.flows_heap_agg_dropped DROP COLUMN dummy;
ALTER TABLE nfpg.flows ATTACH PARTITION nfpg.flows_heap_agg_dropped
	FOR VALUES FROM ('2024-02-22 18:00+00') TO ('2024-02-22 19:00+00');
-- the columns added after the first rows are NOT NULL with a default where
-- nfpg.flows' are NOT NULL (the first rows read it as a missing value)
DO $$
DECLARE
	r	record;
BEGIN
	CREATE TABLE nfpg.flows_heap_agg_short (first_seen timestamptz NOT NULL, last_seen timestamptz NOT NULL,
		received timestamptz NOT NULL, packets bigint NOT NULL, bytes bigint NOT NULL,
		source_id bigint NOT NULL, src_as bigint, dst_as bigint, src_port integer NOT NULL,
		dst_port integer NOT NULL);
	INSERT INTO nfpg.flows_heap_agg_short (first_seen, last_seen, received, packets, bytes, source_id, src_port, dst_port)
	SELECT t, t + interval '2 s', t, 1 + g % 5, 60 + g, 0, 1024 + g, (ARRAY[25, 587, 443])[1 + g % 3]
	  FROM generate_series(1, 300) g, LATERAL (SELECT timestamptz '2024-02-22 19:00+00' + g * interval '10 s') x(t);
	FOR r IN SELECT a.attname, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull,
					coalesce(pg_get_expr(d.adbin, d.adrelid),
							 CASE WHEN a.atttypid = 'inet'::regtype THEN '''10.99.0.1''' ELSE '6' END) AS def
			   FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
			  WHERE a.attrelid = 'nfpg.flows'::regclass AND a.attnum > 10 ORDER BY a.attnum LOOP
		EXECUTE format('ALTER TABLE nfpg.flows_heap_agg_short ADD COLUMN %I %s', r.attname, r.type)
			|| CASE WHEN r.attnotnull THEN ' NOT NULL DEFAULT ' || r.def ELSE '' END;
	END LOOP;
	-- nfpg.setup()'s checks, as it words them
	ALTER TABLE nfpg.flows_heap_agg_short
		ADD CONSTRAINT flows_proto_range CHECK (proto BETWEEN 0 AND 255),
		ADD CONSTRAINT flows_port_range CHECK (src_port BETWEEN 0 AND 65535 AND dst_port BETWEEN 0 AND 65535);
END
$$;
ALTER TABLE nfpg.flows ATTACH PARTITION nfpg.flows_heap_agg_short
	FOR VALUES FROM ('2024-02-22 19:00+00') TO ('2024-02-22 20:00+00');
SELECT c.relname, min(a.attnum) FILTER (WHERE a.attname = 'first_seen') AS first_seen_attnum,
	count(*) FILTER (WHERE a.atthasmissing) AS columns_with_missing_values
  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
 WHERE c.relname LIKE 'flows\_heap\_agg\_%' AND c.relkind = 'r' GROUP BY 1 ORDER BY 1;

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
FROM generate_series(0, 12999) g,
	 LATERAL (SELECT CASE WHEN g < 12000 THEN timestamptz '2024-02-22 10:00+00' + (g / 2) * interval '1.8 s'
						  WHEN g < 12500 THEN timestamptz '2024-02-22 18:00+00' + g * interval '0.1 s'
						  ELSE timestamptz '2024-02-22 19:30+00' + g * interval '0.1 s' END AS t) x;
ANALYZE nfpg.flows;
CREATE TEMP TABLE heap_copy AS SELECT * FROM nfpg.flows;
SELECT tableoid::regclass AS partition, count(*) FROM nfpg.flows
 WHERE first_seen >= '2024-02-22 10:00+00' GROUP BY 1 ORDER BY 1;

-- The aggregate agg(spec, counters, keys) over nfpg.flows and over the heap
-- copy, under the condition cond: 'same' or 'DIFFERENT', and whether the
-- partitions aggregated in their scans (how many there are depends on the
-- date: other tests make partitions around now()).
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
		|| CASE WHEN plan NOT LIKE '%NfpgHeapAggregate%' THEN 'not in scan'
				WHEN plan LIKE '%Partial Aggregate%' THEN 'partly in scan' ELSE 'in scan' END
		|| CASE WHEN plan LIKE '%Parallel Custom Scan%' THEN ', parallel' ELSE '' END
		|| CASE WHEN plan LIKE '%Conditions Decided: by the row filter%' THEN ', row filter' ELSE '' END;
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
	('stat flows 0 exporter', 'exporter'),
	('stat flows 0 src_addr,dst_addr,src_port,dst_port,proto', 'src_addr, dst_addr, src_port, dst_port, proto')
) v(spec, keys);
SELECT spec, pg_temp.same('nf_topn_records', spec, keys) FROM (VALUES
	('a - 0 src_addr,dst_addr,src_port,dst_port,proto', 'src_addr, dst_addr, src_port, dst_port, proto'),
	('A bytes 15 src_addr/4:24,dst_addr/4:24', 'src_addr, dst_addr'),
	('A packets 10 src_addr/6:48,dst_port', 'src_addr, dst_port'),
	('b flows 0 src_addr,dst_addr,src_port,dst_port,proto', 'src_addr, dst_addr, src_port, dst_port, proto'),
	('B tstart 20 src_addr,dst_addr,src_port,dst_port,proto', 'src_addr, dst_addr, src_port, dst_port, proto')
) v(spec, keys);
EXPLAIN (COSTS OFF) SELECT nfpg.nf_topn('stat flows 10 dst_port', flows, packets, bytes, out_packets,
	out_bytes, first_seen, last_seen, tcp_flags, src_tos, dst_port) FROM nfpg.flows
 WHERE first_seen >= '2024-02-22 18:00+00' AND first_seen < '2024-02-22 20:00+00';

-- 2. conditions
-- (no flow has port 4242: for an estimate of no rows the plans cost about
-- the same, so only its answer is shown)
SELECT cond, CASE WHEN cond = 'dst_port = 4242' THEN split_part(s, ',', 1) ELSE s END AS same
  FROM (SELECT cond, pg_temp.same('nf_topn', 'stat2 bytes 10 src_addr', 'src_addr, dst_addr', cond) AS s FROM (VALUES
	(nfpg.nf_filter_sql('proto tcp and dst port 587')),
	(nfpg.nf_filter_sql('net 10.1.0.0/16 or src port > 60000')),
	(nfpg.nf_filter_sql('not proto icmp and bytes < 100 and bpp < 100 and packets < 5 and not port 80 and not port 53')),
	('bytes % 3 = 0 AND src_port IS NOT NULL'),
	('first_seen >= ''2024-02-22 10:20+00'' AND first_seen < ''2024-02-22 19:10+00'''),
	('dst_port = 4242'),
	('NOT (out_packets < 3 OR out_packets IS NULL)')
) v(cond)) x;

-- the row pre-filter's own cases (addresses, not, bpp, NULLs: the hour with
-- short tuples has no protocol or addresses): such selective conditions are
-- planned in the scan when aggregating is dearer
SET cpu_operator_cost = 10;
SELECT cond, pg_temp.same('nf_topn', 'stat2 bytes 10 src_addr', 'src_addr, dst_addr', cond) FROM (VALUES
	(nfpg.nf_filter_sql('host 10.7.7.7')),
	(nfpg.nf_filter_sql('not proto icmp and bytes < 100 and bpp < 100 and packets < 5 and not port 80 and not port 53')),
	(nfpg.nf_filter_sql('bpp > 1000 or not (port 53 or proto udp)')),
	('NOT (src_as = 7) AND NOT (first_seen = ''2024-02-22 10:00:00+00'')'),
	('nfpg.flow_bpp(bytes, out_packets) < 50 OR NOT (out_bytes >= 300)'),
	(nfpg.nf_filter_sql('not host 10.7.7.7 and not proto tcp')),
	(nfpg.nf_filter_sql('src net 2001:db8::/32 or dst port 587'))
) v(cond);
RESET cpu_operator_cost;

-- row-level security: the policy's condition is evaluated before the query's
-- own (a function that fails on a row of another protocol would see one)
CREATE ROLE nfpg_heap_agg_limited;
GRANT USAGE ON SCHEMA nfpg TO nfpg_heap_agg_limited;
GRANT SELECT ON nfpg.flows TO nfpg_heap_agg_limited;
ALTER TABLE nfpg.flows ENABLE ROW LEVEL SECURITY;
CREATE POLICY only_udp ON nfpg.flows TO nfpg_heap_agg_limited USING (proto = 17);
CREATE FUNCTION public.heap_agg_udp_only(p smallint) RETURNS boolean LANGUAGE plpgsql COST 0.0000001 AS $$
BEGIN
	IF p <> 17 THEN
		RAISE EXCEPTION 'the query''s condition saw a row of protocol %', p;
	END IF;
	RETURN true;
END
$$;
SET ROLE nfpg_heap_agg_limited;
CREATE TEMP TABLE rls_answer AS
SELECT md5(nfpg.nf_topn('stat2 bytes 10 src_addr', flows, packets, bytes, out_packets, out_bytes,
	first_seen, last_seen, tcp_flags, src_tos, src_addr, dst_addr)::text) AS answer,
	(SELECT count(*) FROM nfpg.flows) AS visible
  FROM nfpg.flows WHERE public.heap_agg_udp_only(proto);
EXPLAIN (COSTS OFF) SELECT nfpg.nf_topn('stat2 bytes 10 src_addr', flows, packets, bytes, out_packets,
	out_bytes, first_seen, last_seen, tcp_flags, src_tos, src_addr, dst_addr) FROM nfpg.flows
 WHERE public.heap_agg_udp_only(proto) AND first_seen >= '2024-02-22 12:00+00' AND first_seen < '2024-02-22 13:00+00';
RESET ROLE;
SELECT answer = (SELECT md5(nfpg.nf_topn('stat2 bytes 10 src_addr', flows, packets, bytes, out_packets,
		out_bytes, first_seen, last_seen, tcp_flags, src_tos, src_addr, dst_addr)::text)
	  FROM heap_copy WHERE proto = 17) AS same_as_the_udp_flows,
	visible = (SELECT count(*) FROM heap_copy WHERE proto = 17) AS policy_applied
  FROM rls_answer;
DROP TABLE rls_answer;
DROP POLICY only_udp ON nfpg.flows;
ALTER TABLE nfpg.flows DISABLE ROW LEVEL SECURITY;
DROP FUNCTION public.heap_agg_udp_only(smallint);
REVOKE ALL ON nfpg.flows FROM nfpg_heap_agg_limited;
REVOKE ALL ON SCHEMA nfpg FROM nfpg_heap_agg_limited;
DROP ROLE nfpg_heap_agg_limited;

-- 3. parallel workers, forced
SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SELECT spec, pg_temp.same('nf_topn', spec, keys, cond) FROM (VALUES
	('stat2 bytes 10 src_addr', 'src_addr, dst_addr', 'bytes > 0'),
	('stat flows 10 dst_port', 'dst_port', 'true'),
	('stat2 flows 0 port', 'src_port, dst_port', nfpg.nf_filter_sql('proto tcp or proto udp'))
) v(spec, keys, cond);
SELECT pg_temp.same('nf_topn_records', 'A bytes 15 src_addr/4:24,dst_addr/4:24', 'src_addr, dst_addr',
	nfpg.nf_filter_sql('not proto icmp'));
EXPLAIN (COSTS OFF) SELECT nfpg.nf_topn('stat flows 10 dst_port', flows, packets, bytes, out_packets,
	out_bytes, first_seen, last_seen, tcp_flags, src_tos, dst_port) FROM nfpg.flows
 WHERE first_seen >= '2024-02-22 10:00+00' AND first_seen < '2024-02-22 12:00+00';
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
SET max_parallel_workers_per_gather = 0;

-- 5. shapes kept on the ordinary plan, answered as before
SET enable_partitionwise_aggregate = off;
SELECT pg_temp.same('nf_topn', 'stat flows 10 dst_port', 'dst_port');
SET enable_partitionwise_aggregate = on;
CREATE INDEX flows_heap_agg_src ON nfpg.flows_20240222_1000 (src_addr);
ANALYZE nfpg.flows_20240222_1000;
SET enable_seqscan = off;
SELECT pg_temp.same('nf_topn', 'stat flows 10 dst_port', 'dst_port',
	'src_addr = ''10.7.7.7'' AND first_seen < ''2024-02-22 11:00+00''');
RESET enable_seqscan;
DROP INDEX nfpg.flows_heap_agg_src;
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

-- 6. nf_stat / nf_aggregate: their query is planned with the scan, and
-- answers as the heap copy
RESET enable_partitionwise_aggregate;
BEGIN;
SELECT nfpg.nf_topn_plan() AS previous;
EXPLAIN (COSTS OFF) SELECT nfpg.nf_topn('stat2 bytes 10 src_addr', flows, packets, bytes, out_packets,
	out_bytes, first_seen, last_seen, tcp_flags, src_tos, src_addr, dst_addr) FROM nfpg.flows
 WHERE first_seen >= '2024-02-22 18:00+00' AND first_seen < '2024-02-22 20:00+00';
COMMIT;
SELECT 'ip' AS q, md5(string_agg(s::text, '|')) = (SELECT md5(string_agg(t::text, '|'))
	FROM unnest((SELECT nfpg.nf_topn('stat2 bytes 10 src_addr', flows, packets, bytes, out_packets,
		out_bytes, first_seen, last_seen, tcp_flags, src_tos, src_addr, dst_addr) FROM heap_copy)) t)
	AS same_array
  FROM (SELECT value, proto, first_seen, last_seen, duration, flows, flows_pct, packets, packets_pct,
		bytes, bytes_pct, pps, bps, bpp FROM nfpg.nf_stat('ip', 'bytes', 10) ORDER BY rank) s;
SELECT nfpg.nf_filter_sql('dst port 25') AS port25 \gset
SELECT count(*) AS groups, sum(flows) AS flows FROM nfpg.nf_aggregate(NULL, 'flows', 0, 'dst port 25');
SELECT count(*) AS groups, sum(f) AS flows FROM (SELECT sum(greatest(flows, 1)) AS f FROM heap_copy
	WHERE :port25 GROUP BY src_addr, dst_addr, src_port, dst_port, proto) x;
SHOW enable_partitionwise_aggregate;

-- 7. a new session's first query: the planner hook is the library's, which
-- nf_topn_trans's planner support loads while the statistic is planned (a
-- setting loads nothing: partitionwise aggregation is what nf_stat asks for)
\c
SET enable_partitionwise_aggregate = on;
EXPLAIN (COSTS OFF) SELECT nfpg.nf_topn('stat flows 10 dst_port', flows, packets, bytes, out_packets,
	out_bytes, first_seen, last_seen, tcp_flags, src_tos, dst_port) FROM nfpg.flows
 WHERE first_seen >= '2024-02-22 18:00+00' AND first_seen < '2024-02-22 20:00+00';
DROP TABLE nfpg.flows_heap_agg_dropped, nfpg.flows_heap_agg_short;
TRUNCATE nfpg.flows;
