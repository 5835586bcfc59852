-- The statistics aggregates in parallel: forced parallel plans show Partial
-- and Finalize Aggregate (over row-store partitions the partial aggregate is
-- computed in their scans, heap_agg.c), and give the same results as serial
-- plans.  With
-- parallel_leader_participation off every row goes through a worker, so the
-- results pass through nf_topn_serial, nf_topn_deserial and nf_topn_combine.
SET timezone = 'UTC';
\set VERBOSITY terse
TRUNCATE nfpg.flows;
\set csv test/data/stat_flows.csv
\set ECHO none
\o /dev/null
\i test/tools/load_flowgen_csv.sql
\o
\set ECHO all
ANALYZE nfpg.flows;

CREATE TEMP TABLE serial_stat AS
SELECT t, s.* FROM unnest(ARRAY['ip', 'dstport', 'srcas', 'proto']) t, nfpg.nf_stat(t, 'bytes', 0) s;
CREATE TEMP TABLE serial_agg AS
SELECT a.* FROM nfpg.nf_aggregate('srcip4/24,dstip4/24', 'bytes', 0) a;
CREATE TEMP TABLE serial_bidir AS
SELECT a.* FROM nfpg.nf_aggregate(bidirectional => true) a;

SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;

-- the plans, without the per-partition scans (how many partitions exist
-- depends on the premake setting): the scans that aggregate are shown once
CREATE FUNCTION pg_temp.plan(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
	line text;
	prev text;
BEGIN
	FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
		IF line !~ 'Seq Scan on|Partition: |in Scan: ' AND line IS DISTINCT FROM prev THEN
			RETURN NEXT line;
			prev := line;
		END IF;
	END LOOP;
END
$$;
SELECT pg_temp.plan($$SELECT nfpg.nf_topn('stat2 bytes 10 src_addr', flows, packets, bytes,
	out_packets, out_bytes, first_seen, last_seen, tcp_flags, src_tos, src_addr, dst_addr)
	FROM nfpg.flows$$);
-- in any GROUP BY: the top 3 destination ports of each exporter
SELECT pg_temp.plan($$SELECT source_id, nfpg.nf_topn('stat flows 3 dst_port', flows, packets,
	bytes, out_packets, out_bytes, first_seen, last_seen, tcp_flags, src_tos, dst_port)
	FROM nfpg.flows GROUP BY source_id$$);
SELECT source_id, t.value, t.flows, t.packets, t.bytes
FROM (SELECT source_id, nfpg.nf_topn('stat flows 3 dst_port', flows, packets, bytes, out_packets,
		out_bytes, first_seen, last_seen, tcp_flags, src_tos, dst_port) AS top
	  FROM nfpg.flows GROUP BY source_id) g, unnest(g.top) t
ORDER BY source_id, t.flows DESC, t.value;

-- the same as plain SQL
SELECT source_id, dst_port, flows, packets, bytes FROM (
	SELECT source_id, dst_port, count(*) AS flows, sum(packets) AS packets, sum(bytes) AS bytes,
		row_number() OVER (PARTITION BY source_id ORDER BY count(*) DESC, dst_port) AS r
	FROM nfpg.flows GROUP BY source_id, dst_port) g
WHERE r <= 3 ORDER BY source_id, r;

-- the same answers as the serial plans, row for row
CREATE TEMP TABLE parallel_stat AS
SELECT t, s.* FROM unnest(ARRAY['ip', 'dstport', 'srcas', 'proto']) t, nfpg.nf_stat(t, 'bytes', 0) s;
SELECT count(*) AS rows,
	(SELECT count(*) FROM (TABLE serial_stat EXCEPT ALL TABLE parallel_stat) d) AS missing,
	(SELECT count(*) FROM (TABLE parallel_stat EXCEPT ALL TABLE serial_stat) d) AS extra
FROM serial_stat;
CREATE TEMP TABLE parallel_agg AS
SELECT a.* FROM nfpg.nf_aggregate('srcip4/24,dstip4/24', 'bytes', 0) a;
SELECT count(*) AS rows,
	(SELECT count(*) FROM (SELECT * FROM serial_agg EXCEPT ALL SELECT * FROM parallel_agg) d) AS missing,
	(SELECT count(*) FROM (SELECT * FROM parallel_agg EXCEPT ALL SELECT * FROM serial_agg) d) AS extra
FROM serial_agg;
CREATE TEMP TABLE parallel_bidir AS
SELECT a.* FROM nfpg.nf_aggregate(bidirectional => true) a;
SELECT count(*) AS rows,
	(SELECT count(*) FROM (SELECT * FROM serial_bidir EXCEPT ALL SELECT * FROM parallel_bidir) d) AS missing,
	(SELECT count(*) FROM (SELECT * FROM parallel_bidir EXCEPT ALL SELECT * FROM serial_bidir) d) AS extra
FROM serial_bidir;
-- and the workers did run
CREATE FUNCTION pg_temp.workers_launched(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	plan json;
BEGIN
	EXECUTE 'EXPLAIN (ANALYZE, FORMAT JSON) ' || q INTO plan;
	RETURN plan->0->'Plan'->'Plans'->0->>'Workers Launched';
END
$$;
SELECT pg_temp.workers_launched($$SELECT nfpg.nf_topn('stat bytes 10 dst_port', flows, packets,
	bytes, out_packets, out_bytes, first_seen, last_seen, tcp_flags, src_tos, dst_port)
	FROM nfpg.flows$$) AS workers_launched;
RESET ALL;

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
