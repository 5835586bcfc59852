-- Row pre-filter of packed scans (pack_rowfilter.c, cc_decode_rows in
-- colcodec_decode.c): in a block that is read, the scan tests the conditions
-- it understands on the decoded column arrays and builds rows only for those
-- that may pass.  It must never drop a row that matches.  One hour of 6000
-- flows is packed in blocks of 256 rows (4 per segment); every condition below
-- gives the same rows on the packed hour as on the same rows in a heap table
-- (EXCEPT ALL both ways, whole rows: every column, NULLs included, decoded for
-- the selected rows only), serial and parallel, and EXPLAIN ANALYZE shows how
-- many rows the pre-filter dropped:
--   1. IPv4 and IPv6 hosts, an address present only as destination, an
--      address with a prefix length, 0.0.0.0/0 (a record of zero bytes);
--   2. ports in ANY lists (with an impossible port, across integer types),
--      protocol sets, protocol and port together;
--   3. first_seen boundaries (<, <=, =, >=, >, commuted) on rows that share
--      the boundary time, inside a block and at a block's edge;
--   4. other integer columns (rows only: no block summary covers them):
--      every operator, int2/int4/int8 columns and constants mixed, NULL-able
--      columns, constants out of the column's range, BETWEEN, ANY; after an
--      address or port equality (tested first), columns decoded for the rows
--      it kept only, NULL-able ones too;
--   5. conditions it does not understand, alone (nothing dropped) or next to
--      ones it does (IS NULL, an expression, OR with an unknown branch);
--   6. prepared statements with parameters, generic and custom plans, one
--      plan executed with two values;
--   7. unpacked again, the hour holds the same rows.
SET timezone = 'UTC';
\set VERBOSITY terse

TRUNCATE nfpg.flows;
SELECT nfpg.ensure_partitions('2024-02-20 10:00+00', '2024-02-20 11:00+00') >= 0 AS partitions;
-- Rows g and g + 1 (g even) share first_seen: 10:00 + (g / 2) * 1.2 s, so rows
-- 2000-2001 start at 10:20:00 (inside block 7) and rows 2048-2049 at
-- 10:20:28.8, the first rows of block 8.  10.7.7.7 is a source in some rows and
-- a destination in others, 10.9.9.9 only a destination, 2001:db8::7 both;
-- 10.7.7.7/24, 2001:db8::7/64 and 0.0.0.0/0 are sources now and then.
INSERT INTO nfpg.flows (first_seen, last_seen, received, packets, bytes, source_id, src_as, dst_as,
	src_port, dst_port, in_if, out_if, proto, tcp_flags, src_addr, dst_addr, exporter, next_hop,
	in_src_mac, mpls_labels, sampling_interval)
SELECT t, t + (g % 900) * interval '1 ms', t + (g % 5) * interval '1 s', 1 + g % 40, 40 + (g * 7919) % 90000,
	g % 2, CASE WHEN g % 3 > 0 THEN g % 500 END, 3356,
	(g * 37) % 65536, (ARRAY[80, 443, 53, 25, 587, 8080, 65535, 0])[1 + (g / 3) % 8], g % 4,
	CASE WHEN g % 4 = 0 THEN 9 END, (ARRAY[6, 17, 1, 6, 58, 47, 6, 17])[1 + g % 8], g % 64,
	CASE WHEN g % 97 = 1 THEN '10.7.7.7'::inet
		 WHEN g % 211 = 5 THEN '10.7.7.7/24'::inet
		 WHEN g % 301 = 7 THEN '0.0.0.0/0'::inet
		 WHEN g % 113 = 4 THEN '2001:db8::7'::inet
		 WHEN g % 223 = 8 THEN '2001:db8::7/64'::inet
		 WHEN g % 10 = 0 THEN ('2001:db8:' || to_hex(g % 16) || '::' || to_hex(g))::inet
		 ELSE ('10.' || (g / 256) % 256 || '.' || g % 256 || '.' || (g * 3) % 256)::inet END,
	CASE WHEN g % 89 = 2 THEN '10.7.7.7'::inet
		 WHEN g % 101 = 3 THEN '10.9.9.9'::inet
		 WHEN g % 131 = 6 THEN '2001:db8::7'::inet
		 WHEN g % 10 = 5 THEN ('2001:db8:ff::' || to_hex(g % 4096))::inet
		 ELSE ('192.168.' || (g * 13) % 256 || '.' || (g * 7) % 256)::inet END,
	('172.16.0.' || g % 3)::inet, CASE WHEN g % 2 = 0 THEN '10.0.0.1'::inet END,
	CASE WHEN g % 5 = 0 THEN ('08:00:2b:01:02:' || lpad(to_hex(g % 256), 2, '0'))::macaddr END,
	CASE WHEN g % 7 = 0 THEN ARRAY[g * 16, g * 16 + 1] END, CASE WHEN g % 11 = 0 THEN 100 END
FROM generate_series(0, 5999) g,
	 LATERAL (SELECT timestamptz '2024-02-20 10:00+00' + (g / 2) * interval '1.2 s' AS t) x;
CREATE TEMP TABLE heap_copy AS SELECT * FROM nfpg.flows;
SELECT count(*) AS flows FROM heap_copy;
SELECT nfpg.pack_partition('nfpg.flows_20240220_1000', 3, 256, 4) AS packed;

-- What EXPLAIN ANALYZE of a query reports for its scan of the packed hour.
CREATE FUNCTION pg_temp.scan(query text, OUT blocks_read bigint, OUT prefiltered bigint)
LANGUAGE plpgsql AS $$
DECLARE
	plan	jsonb;
	scan	jsonb;
BEGIN
	EXECUTE 'EXPLAIN (ANALYZE, FORMAT JSON, COSTS OFF, TIMING OFF) ' || query INTO plan;
	scan := jsonb_path_query_first(plan, 'strict $.**?(@."Node Type" == "Foreign Scan")');
	blocks_read := (scan ->> 'Blocks Read')::bigint;
	prefiltered := (scan ->> 'Rows Filtered in Scan')::bigint;
END
$$;
-- For one condition: the rows it matches in the heap copy, the rows the
-- packed hour misses or adds (whole rows), and what EXPLAIN ANALYZE reports.
CREATE FUNCTION pg_temp.compare(cond text)
RETURNS TABLE (matching bigint, missing bigint, extra bigint, blocks_read bigint, prefiltered bigint)
LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE format('SELECT count(*) FROM heap_copy WHERE %s', cond) INTO matching;
	EXECUTE format('SELECT count(*) FROM (SELECT * FROM heap_copy WHERE %1$s
					EXCEPT ALL SELECT * FROM nfpg.flows_20240220_1000 WHERE %1$s) d', cond) INTO missing;
	EXECUTE format('SELECT count(*) FROM (SELECT * FROM nfpg.flows_20240220_1000 WHERE %1$s
					EXCEPT ALL SELECT * FROM heap_copy WHERE %1$s) d', cond) INTO extra;
	SELECT * FROM pg_temp.scan(format('SELECT * FROM nfpg.flows_20240220_1000 WHERE %s', cond))
		INTO blocks_read, prefiltered;
	RETURN NEXT;
END
$$;
CREATE TEMP TABLE conds (n serial, cond text);
INSERT INTO conds (cond) VALUES
	-- 1. addresses
	($$src_addr = '10.7.7.7' OR dst_addr = '10.7.7.7'$$),
	($$dst_addr = '10.9.9.9'$$),
	($$src_addr = '10.9.9.9' OR dst_addr = '10.9.9.9'$$),
	($$src_addr = '10.9.9.9'$$),
	($$src_addr = '2001:db8::7' OR dst_addr = '2001:db8::7'$$),
	($$src_addr = '10.7.7.7/24'$$),
	($$src_addr = '10.7.7.7'$$),
	($$src_addr = '2001:db8::7/64' OR dst_addr = '2001:db8::7/64'$$),
	($$src_addr = '0.0.0.0/0'$$),
	-- 2. ports and protocols
	($$dst_port = ANY ('{25,587,70000}')$$),
	($$dst_port IN (65535, 0)$$),
	($$src_port = ANY (ARRAY[37, 74, 111, 2405]::bigint[])$$),
	($$proto IN (47, 58)$$),
	($$proto = 300$$),
	($$proto = 6 AND dst_port = 587$$),
	($$proto = 17 AND (src_addr = '10.7.7.7' OR dst_port = 53)$$),
	-- 3. first_seen boundaries: rows that share the time, inside a block and at its edge
	($$first_seen >= '2024-02-20 10:20:00+00' AND first_seen < '2024-02-20 10:20:28.8+00'$$),
	($$first_seen = '2024-02-20 10:20:00+00'$$),
	($$first_seen = '2024-02-20 10:20:28.8+00'$$),
	($$first_seen <= '2024-02-20 10:20:28.8+00' AND first_seen > '2024-02-20 10:20:00+00'$$),
	($$'2024-02-20 10:20:28.8+00' <= first_seen AND '2024-02-20 10:21+00' > first_seen$$),
	($$first_seen < '2024-02-20 10:00:01.2+00'$$),
	-- 4. other integer columns
	($$bytes < 1000$$),
	($$1000 > bytes AND packets >= 39$$),
	($$src_as = 499$$),
	($$src_as <> 5$$),
	($$src_as > 400 OR out_if = 9$$),
	($$out_if <= 9 AND tcp_flags <> 0$$),
	($$sampling_interval = 100$$),
	($$src_port BETWEEN 100 AND 200$$),
	($$dst_port < 1024 AND proto <> 1$$),
	($$bytes = ANY ('{40,41,7959}')$$),
	($$bytes < 5000000000 AND src_port < 5000000000$$),
	($$tcp_flags = 70000$$),
	($$NOT (dst_port = 587)$$),
	-- after an equality, the other columns are decoded for the rows it kept only
	($$proto = 6 AND src_as > 100 AND dst_port = 587$$),
	($$out_if <= 9 AND src_addr = '10.7.7.7'$$),
	-- 5. what it does not understand: kept, or left to the executor
	($$packets < 5 AND bytes < 2000 AND bytes / packets < 500 AND proto <> 1 AND dst_port <> 80$$),
	($$dst_port = 587 AND (src_as IS NULL OR src_as > 400)$$),
	($$dst_port = 587 AND next_hop IS NULL AND in_src_mac IS NOT NULL$$),
	($$dst_port = 587 OR next_hop IS NULL$$),
	($$bytes / packets > 1000$$),
	($$mpls_labels IS NOT NULL AND proto = 47$$);
SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE serial AS SELECT c.n, c.cond, s.* FROM conds c, LATERAL pg_temp.compare(c.cond) s;
SELECT n, matching, missing, extra, blocks_read, prefiltered, cond FROM serial ORDER BY n;
-- the same in a parallel plan: workers share the segments and count together
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT * FROM nfpg.flows_20240220_1000 WHERE dst_port = 587;
SELECT count(*) AS conditions, count(*) FILTER (WHERE (s.matching, s.missing, s.extra, s.blocks_read, s.prefiltered)
	IS DISTINCT FROM (p.matching, p.missing, p.extra, p.blocks_read, p.prefiltered)) AS differ
FROM serial s, LATERAL pg_temp.compare(s.cond) p;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;

-- 6. parameters: a custom plan has constants; a generic plan has $1, whose
-- value the scan takes at the start of each execution, so both skip blocks
-- and drop rows, and the second execution uses its own values
PREPARE host_q(inet) AS SELECT * FROM nfpg.flows WHERE src_addr = $1 OR dst_addr = $1;
PREPARE window_q(timestamptz, timestamptz, int) AS
	SELECT * FROM nfpg.flows WHERE first_seen >= $1 AND first_seen < $2 AND dst_port = $3;
CREATE FUNCTION pg_temp.same(got regclass, cond text, OUT got_rows bigint, OUT missing bigint, OUT extra bigint)
LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE format('SELECT count(*) FROM %s', got) INTO got_rows;
	EXECUTE format('SELECT count(*) FROM (SELECT * FROM heap_copy WHERE %2$s EXCEPT ALL SELECT * FROM %1$s) d',
				   got, cond) INTO missing;
	EXECUTE format('SELECT count(*) FROM (SELECT * FROM %1$s EXCEPT ALL SELECT * FROM heap_copy WHERE %2$s) d',
				   got, cond) INTO extra;
END
$$;
SET plan_cache_mode = force_generic_plan;
CREATE TEMP TABLE generic_host AS EXECUTE host_q('10.7.7.7');
CREATE TEMP TABLE generic_window AS EXECUTE window_q('2024-02-20 10:20:00+00', '2024-02-20 10:40:00+00', 587);
SELECT 'generic' AS plan, s.*, g.* FROM pg_temp.scan($$EXECUTE host_q('10.7.7.7')$$) s,
	pg_temp.same('generic_host', $$src_addr = '10.7.7.7' OR dst_addr = '10.7.7.7'$$) g
UNION ALL
SELECT 'generic', s.*, g.* FROM pg_temp.scan($$EXECUTE window_q('2024-02-20 10:20:00+00', '2024-02-20 10:40:00+00', 587)$$) s,
	pg_temp.same('generic_window', $$first_seen >= '2024-02-20 10:20:00+00' AND first_seen < '2024-02-20 10:40:00+00' AND dst_port = 587$$) g;
-- the same generic plan, another address
CREATE TEMP TABLE generic_host2 AS EXECUTE host_q('10.9.9.9');
SELECT 'generic' AS plan, s.*, g.* FROM pg_temp.scan($$EXECUTE host_q('10.9.9.9')$$) s,
	pg_temp.same('generic_host2', $$src_addr = '10.9.9.9' OR dst_addr = '10.9.9.9'$$) g;
SET plan_cache_mode = force_custom_plan;
CREATE TEMP TABLE custom_host AS EXECUTE host_q('10.7.7.7');
CREATE TEMP TABLE custom_window AS EXECUTE window_q('2024-02-20 10:20:00+00', '2024-02-20 10:40:00+00', 587);
SELECT 'custom' AS plan, s.*, g.* FROM pg_temp.scan($$EXECUTE host_q('10.7.7.7')$$) s,
	pg_temp.same('custom_host', $$src_addr = '10.7.7.7' OR dst_addr = '10.7.7.7'$$) g
UNION ALL
SELECT 'custom', s.*, g.* FROM pg_temp.scan($$EXECUTE window_q('2024-02-20 10:20:00+00', '2024-02-20 10:40:00+00', 587)$$) s,
	pg_temp.same('custom_window', $$first_seen >= '2024-02-20 10:20:00+00' AND first_seen < '2024-02-20 10:40:00+00' AND dst_port = 587$$) g;
RESET plan_cache_mode;
DEALLOCATE host_q;
DEALLOCATE window_q;
-- PL/pgSQL variables are parameters too (in a generic plan, fetched through PL/pgSQL's hook)
CREATE FUNCTION pg_temp.by_vars(a inet, ports int[], lo bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	n		bigint;
BEGIN
	SELECT count(*) INTO n FROM nfpg.flows_20240220_1000
	WHERE (src_addr = a OR dst_addr = a OR dst_port = ANY (ports)) AND bytes >= lo;
	RETURN n;
END
$$;
SET plan_cache_mode = force_generic_plan;
SELECT pg_temp.by_vars('10.7.7.7', '{25,53}', 20000) AS by_vars,
	   (SELECT count(*) FROM heap_copy WHERE (src_addr = '10.7.7.7' OR dst_addr = '10.7.7.7'
		OR dst_port = ANY ('{25,53}')) AND bytes >= 20000) AS heap;
RESET plan_cache_mode;
-- nf_filter() with its text as a parameter is not rewritten: every row goes to the executor
SELECT count(*) AS nf_filter_param,
	   count(*) = (SELECT count(*) FROM heap_copy WHERE proto = 6 AND dst_port = 587) AS same
FROM nfpg.flows f WHERE nfpg.nf_filter(f, (SELECT 'proto tcp and dst port 587'));

-- 7. unpacked, the hour holds the same rows
SELECT nfpg.unpack_partition('nfpg.flows_20240220_1000') AS unpacked;
SELECT (SELECT count(*) FROM (SELECT * FROM heap_copy EXCEPT ALL SELECT * FROM nfpg.flows) a) AS missing,
	   (SELECT count(*) FROM (SELECT * FROM nfpg.flows EXCEPT ALL SELECT * FROM heap_copy) b) AS extra;
TRUNCATE nfpg.flows;
