-- Packed partitions (66_pack.sql, pack_*.c, colcodec.c): a partition packed
-- into compressed column segments holds exactly the rows it held, and every
-- query over nfpg.flows answers the same as on the heap partition:
--   1. the 25 nfdump reference records (hour 09:00) and 30000 synthetic flows
--      with every column type, NULLs, IPv6, prefixes, MPLS (hour 11:00);
--   2. packed: the same rows (EXCEPT ALL both ways), whole rows and single
--      columns; the nfdump filter corpus in its four forms gives the same
--      answer as on the heap (which filter_corpus checks against nfdump);
--      nf_stat, nf_aggregate and nf_format the same results;
--   3. selective filters skip blocks (EXPLAIN ANALYZE), answers unchanged;
--      a parallel plan gives the serial answers;
--   4. late flows land in the side table, are read, and a re-pack merges them;
--   5. a reader role reads packed flows through nfpg.flows but not the
--      storage tables; a flipped byte is an error naming the partition;
--   6. unpack gives the heap partition back with the same rows; pack and
--      unpack are idempotent; aging and TRUNCATE handle packed partitions.
SET timezone = 'UTC';
\set VERBOSITY terse

TRUNCATE nfpg.flows;
SELECT nfpg.ensure_partitions('2024-01-15 09:00+00', '2024-01-15 11:00+00') >= 0 AS partitions;
CREATE TEMP TABLE ref (id int, LIKE nfpg.flows INCLUDING DEFAULTS);
\copy ref (id,first_seen,last_seen,proto,src_addr,dst_addr,src_port,dst_port,packets,bytes,out_packets,out_bytes,flows,tcp_flags,src_tos,dst_tos,src_as,dst_as,next_as,prev_as,in_if,out_if,src_mask,dst_mask,next_hop,bgp_next_hop,exporter,src_vlan,dst_vlan,in_src_mac,out_dst_mac,in_dst_mac,out_src_mac,mpls_labels,engine_type,engine_id,fwd_status,direction,export_version,source_id) FROM 'test/data/ref25.csv' WITH (FORMAT csv, HEADER)
-- the record number travels in "received" (2000-01-01 + id seconds), as in filter_corpus
INSERT INTO nfpg.flows SELECT first_seen, last_seen, timestamptz '2000-01-01 00:00+00' + id * interval '1 s',
	packets, bytes, source_id, src_as, dst_as, src_port, dst_port, in_if, out_if, flows, proto, tcp_flags,
	src_tos, src_mask, dst_mask, engine_type, engine_id, export_version, src_addr, dst_addr, exporter,
	next_hop, next_as, prev_as, out_packets, out_bytes, sampling_interval, src_vlan, dst_vlan, dst_tos,
	fwd_status, direction, bgp_next_hop, in_src_mac, out_dst_mac, in_dst_mac, out_src_mac, mpls_labels
FROM ref;
INSERT INTO nfpg.flows (first_seen, last_seen, received, packets, bytes, source_id, src_as, dst_as,
	src_port, dst_port, in_if, out_if, flows, proto, tcp_flags, src_tos, src_mask, dst_mask,
	src_addr, dst_addr, exporter, next_hop, out_bytes, in_src_mac, mpls_labels, sampling_interval, direction)
SELECT t, t + (g % 5000) * interval '1 ms', t + (g % 7) * interval '1 s', 1 + g % 100,
	40 + (g * 7919) % 150000, g % 3, nullif(g % 65000, 0) * (g % 3 > 0)::int, 3356,
	(g * 31) % 65536, (ARRAY[80, 443, 53, 25, 587, 0])[1 + g % 6], g % 4, 2, 1 + (g % 50 = 0)::int,
	(ARRAY[6, 17, 1, 6, 58, 47])[1 + g % 6], g % 64, (g % 4) * 32, 24, 16,
	CASE WHEN g % 10 = 0 THEN ('2001:db8:' || to_hex(g % 16) || '::' || to_hex(g))::inet
		 ELSE ('10.' || (g / 65536) % 256 || '.' || (g / 256) % 256 || '.' || g % 256)::inet END,
	CASE WHEN g % 10 = 5 THEN ('2001:db8:ff::' || to_hex(g % 4096) || '/64')::inet
		 ELSE ('192.168.' || (g * 13) % 256 || '.' || (g * 7) % 256)::inet END,
	('172.16.0.' || g % 3)::inet, CASE WHEN g % 2 = 0 THEN '10.0.0.0/8'::inet END,
	CASE WHEN g % 9 = 0 THEN g * 1000000000::bigint END,
	CASE WHEN g % 5 = 0 THEN ('08:00:2b:01:02:' || lpad(to_hex(g % 256), 2, '0'))::macaddr END,
	CASE WHEN g % 7 = 0 THEN ARRAY[g * 16, g * 16 + 1] END, CASE WHEN g % 11 = 0 THEN 100 END,
	(g % 2)::smallint
FROM generate_series(1, 30000) g,
	 LATERAL (SELECT timestamptz '2024-01-15 11:00+00' + (g * 7919 % 3600000) * interval '1 ms' AS t) x;
SELECT count(*) AS flows, count(DISTINCT tableoid) AS partitions FROM nfpg.flows;
CREATE TEMP TABLE before AS SELECT * FROM nfpg.flows;

CREATE FUNCTION pg_temp.rec_id(received timestamptz) RETURNS int
LANGUAGE sql IMMUTABLE RETURN extract(epoch FROM received - timestamptz '2000-01-01 00:00+00')::int;
CREATE TEMP TABLE corpus (n serial, line text);
\copy corpus (line) FROM 'test/data/nfdump-ref/filters.txt' WITH (FORMAT text, DELIMITER E'\x01')
-- One filter over the reference hour, in the given form (filter_corpus.sql).
CREATE FUNCTION pg_temp.run(filter text, form text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	ids		text;
	q		text := 'SELECT coalesce(string_agg(id::text, '','' ORDER BY id), ''-'') FROM (SELECT pg_temp.rec_id(received) AS id FROM nfpg.flows f WHERE first_seen < ''2024-01-15 11:00+00'' AND %s) s';
BEGIN
	IF form = 'runtime' THEN
		EXECUTE format(q, 'nfpg.nf_filter(f, $1)') INTO ids USING filter;
	ELSE
		EXECUTE format(q, CASE form
			WHEN 'rewrite' THEN format('nfpg.nf_filter(%L)', filter)
			WHEN 'rowform' THEN format('nfpg.nf_filter(f, %L)', filter)
			WHEN 'sqltext' THEN nfpg.nf_filter_sql(filter) END) INTO ids;
	END IF;
	RETURN ids;
EXCEPTION WHEN OTHERS THEN
	RETURN 'ERROR: ' || SQLERRM;
END
$$;
CREATE FUNCTION pg_temp.answers() RETURNS TABLE (n int, form text, answer text)
LANGUAGE sql AS $$
	SELECT c.n, f.form, pg_temp.run(c.line, f.form)
	FROM corpus c, unnest(ARRAY['rewrite', 'rowform', 'runtime', 'sqltext']) f(form)
$$;
-- What the statistics say on the heap partitions.
CREATE FUNCTION pg_temp.stats() RETURNS TABLE (what text, line text)
LANGUAGE sql AS $$
	SELECT 's ' || t, s::text FROM unnest(ARRAY['ip', 'dstport', 'proto', 'srcas', 'inmac', 'mpls1', 'nhip']) t,
		LATERAL nfpg.nf_stat(t, 'bytes', 0) s
	UNION ALL
	SELECT 'A /24', nfpg.nf_format(a, 'extended') FROM nfpg.nf_aggregate('srcip4/24,dstip4/24', 'bytes', 15) a
	UNION ALL
	SELECT 'port scan', nfpg.nf_format(a, 'line') FROM nfpg.nf_aggregate('srcip,dstport', 'packets', 0,
		'not proto icmp and bytes < 100 and bpp < 100 and packets < 5 and not port 80 and not port 53') a
	UNION ALL
	SELECT 'format', nfpg.nf_format(f, 'extended') FROM nfpg.flows f
	UNION ALL
	SELECT 'summary', s::text FROM nfpg.nf_summary() s
$$;
CREATE TEMP TABLE heap_answers AS SELECT * FROM pg_temp.answers();
CREATE TEMP TABLE heap_stats AS SELECT * FROM pg_temp.stats();

-- 2. pack, with small blocks and segments so that there are many of each;
-- 11:00 at zstd's fast level -1 (literals not entropy-coded)
SELECT p.lower_bound, nfpg.pack_partition(p.relid, CASE p.lower_bound WHEN '2024-01-15 09:00+00' THEN 3 ELSE -1 END, 1024, 4) AS packed
FROM nfpg.partitions p WHERE p.lower_bound IN ('2024-01-15 09:00+00', '2024-01-15 11:00+00') ORDER BY 1;
SELECT partition, packed, flows, late_flows, segments, bytes > 0 AS has_bytes
FROM nfpg.pack_status() WHERE lower_bound::date = '2024-01-15' ORDER BY lower_bound;
SELECT c.relkind, s.srvname FROM pg_class c JOIN pg_foreign_table ft ON ft.ftrelid = c.oid
JOIN pg_foreign_server s ON s.oid = ft.ftserver WHERE c.oid = 'nfpg.flows_20240115_1100'::regclass;
-- ANALYZE samples packed hours too (statistics for the planner)
ANALYZE nfpg.flows_20240115_1100;
SELECT count(*) AS columns_with_stats FROM pg_stats WHERE schemaname = 'nfpg' AND tablename = 'flows_20240115_1100';
-- the distinct addresses and ports counted while packing (HyperLogLog) are
-- the columns' n_distinct, which ANALYZE keeps: within 5 % of the truth
-- (ANALYZE's own estimate from its sample is a tenth of it on a real hour)
SELECT t.col, t.d AS distinct_values,
	   EXISTS (SELECT FROM pg_options_to_table(a.attoptions) o WHERE o.option_name = 'n_distinct') AS option_set,
	   abs(CASE WHEN s.n_distinct < 0 THEN -s.n_distinct * t.n ELSE s.n_distinct END - t.d) <= greatest(1, 0.05 * t.d) AS within_5pct
FROM (SELECT 'src_addr' AS col, count(DISTINCT src_addr) AS d, count(*) AS n FROM before WHERE first_seen >= '2024-01-15 11:00+00'
	  UNION ALL SELECT 'dst_addr', count(DISTINCT dst_addr), count(*) FROM before WHERE first_seen >= '2024-01-15 11:00+00'
	  UNION ALL SELECT 'src_port', count(DISTINCT src_port), count(*) FROM before WHERE first_seen >= '2024-01-15 11:00+00'
	  UNION ALL SELECT 'dst_port', count(DISTINCT dst_port), count(*) FROM before WHERE first_seen >= '2024-01-15 11:00+00') t
JOIN pg_stats s ON s.schemaname = 'nfpg' AND s.tablename = 'flows_20240115_1100' AND s.attname = t.col
JOIN pg_attribute a ON a.attrelid = 'nfpg.flows_20240115_1100'::regclass AND a.attname = t.col
ORDER BY 1;
SELECT (SELECT count(*) FROM (SELECT * FROM before EXCEPT ALL SELECT * FROM nfpg.flows) a) AS missing,
	   (SELECT count(*) FROM (SELECT * FROM nfpg.flows EXCEPT ALL SELECT * FROM before) b) AS extra;
-- a few columns only, and whole rows as a record
SELECT (SELECT sum(bytes) FROM before) = (SELECT sum(bytes) FROM nfpg.flows) AS bytes_same,
	   (SELECT count(DISTINCT mpls_labels) FROM before) = (SELECT count(DISTINCT mpls_labels) FROM nfpg.flows) AS mpls_same,
	   (SELECT string_agg(f::text, ';' ORDER BY f::text) FROM nfpg.flows f WHERE proto = 47)
	 = (SELECT string_agg(b::text, ';' ORDER BY b::text) FROM before b WHERE proto = 47) AS rows_same;
SELECT count(*) AS answers, count(*) FILTER (WHERE h.answer IS DISTINCT FROM p.answer) AS differ
FROM heap_answers h JOIN pg_temp.answers() p USING (n, form);
SELECT count(*) AS stat_lines,
	   (SELECT count(*) FROM (SELECT * FROM heap_stats EXCEPT ALL SELECT * FROM pg_temp.stats()) a) AS missing,
	   (SELECT count(*) FROM (SELECT * FROM pg_temp.stats() EXCEPT ALL SELECT * FROM heap_stats) b) AS extra
FROM heap_stats;

-- 3. block skipping: what EXPLAIN ANALYZE reports for the packed 11:00 hour
CREATE FUNCTION pg_temp.scan(cond text, is_filter boolean DEFAULT true,
	part text DEFAULT 'nfpg.flows_20240115_1100') RETURNS TABLE (rows_out bigint, blocks_read bigint, blocks_skipped bigint, segments_skipped bigint)
LANGUAGE plpgsql AS $$
DECLARE
	plan	json;
	node	json;
BEGIN
	EXECUTE format('EXPLAIN (ANALYZE, FORMAT JSON, COSTS OFF, TIMING OFF) SELECT * FROM %s WHERE %s', part::regclass,
				   CASE WHEN is_filter THEN nfpg.nf_filter_sql(cond) ELSE cond END) INTO plan;
	node := plan -> 0 -> 'Plan';
	rows_out := (node ->> 'Actual Rows')::bigint;
	blocks_read := (node ->> 'Blocks Read')::bigint;
	blocks_skipped := (node ->> 'Blocks Skipped')::bigint;
	segments_skipped := (node ->> 'Segments Skipped')::bigint;
	RETURN NEXT;
END
$$;
SELECT f, s.*, s.rows_out = (SELECT count(*) FROM before b WHERE b.first_seen >= '2024-01-15 11:00+00'
	AND nfpg.nf_filter(b, f)) AS same_rows
FROM unnest(ARRAY['host 10.0.1.5', 'src ip 192.168.13.7', 'proto gre', 'proto tcp and dst port 587',
	'dst port 9999', 'any', 'net 10.0.0.0/24', 'host 10.0.1.5 or port 12345']) f, LATERAL pg_temp.scan(f) s;
-- a time window inside the hour skips whole segments without reading them
SELECT s.*, s.rows_out = (SELECT count(*) FROM before WHERE first_seen >= '2024-01-15 11:50+00'
	AND first_seen < '2024-01-15 11:55+00') AS same_rows
FROM pg_temp.scan($q$first_seen >= '2024-01-15 11:50+00' AND first_seen < '2024-01-15 11:55+00'$q$, false) s;
SELECT count(*) AS window_rows,
	   count(*) = (SELECT count(*) FROM before WHERE first_seen >= '2024-01-15 11:50+00' AND first_seen < '2024-01-15 11:55+00') AS same
FROM nfpg.flows WHERE first_seen >= '2024-01-15 11:50+00' AND first_seen < '2024-01-15 11:55+00';
-- parallel: workers share out the segments; the answers are the serial ones
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT count(*), sum(bytes) FROM nfpg.flows_20240115_1100;
CREATE TEMP TABLE par AS SELECT proto, count(*) AS n, sum(bytes) AS b, sum(packets) AS p FROM nfpg.flows GROUP BY proto;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
SET max_parallel_workers_per_gather = 0;
SELECT count(*) AS groups,
	   (SELECT count(*) FROM (SELECT * FROM par EXCEPT ALL
			SELECT proto, count(*), sum(bytes), sum(packets) FROM before GROUP BY proto) d) AS differ
FROM par;
RESET max_parallel_workers_per_gather;

-- 4. late flows for a packed hour: into the side table, read by every query, merged by a re-pack
INSERT INTO nfpg.flows (first_seen, last_seen, proto, src_addr, dst_addr, src_port, dst_port, exporter, packets, bytes)
VALUES ('2024-01-15 11:30+00', '2024-01-15 11:31+00', 6, '10.99.99.99', '10.88.88.88', 1234, 587, '172.16.0.9', 3, 300);
COPY nfpg.flows_20240115_1100 (first_seen, last_seen, proto, src_addr, dst_addr, exporter) FROM stdin;
2024-01-15 11:40:00+00	2024-01-15 11:40:01+00	17	10.99.99.98	10.88.88.87	172.16.0.9
\.
SELECT flows, late_flows FROM nfpg.pack_status() WHERE partition = 'nfpg.flows_20240115_1100'::regclass;
SELECT count(*) AS late_seen FROM nfpg.flows WHERE nfpg.nf_filter('src net 10.99.99.96/30');
INSERT INTO before SELECT * FROM nfpg.flows WHERE src_addr <<= '10.99.99.96/30';
SELECT nfpg.pack_partitions('0', 10) AS repacked;
SELECT flows, late_flows FROM nfpg.pack_status() WHERE partition = 'nfpg.flows_20240115_1100'::regclass;
SELECT (SELECT count(*) FROM (SELECT * FROM before EXCEPT ALL SELECT * FROM nfpg.flows) a) AS missing,
	   (SELECT count(*) FROM (SELECT * FROM nfpg.flows EXCEPT ALL SELECT * FROM before) b) AS extra;
-- nothing to do a second time (no late flows): packing is idempotent
SELECT nfpg.pack_partitions('0', 10) AS repacked_again;
-- rows cannot be changed in a packed hour: unpack first
UPDATE nfpg.flows SET bytes = 0 WHERE first_seen >= '2024-01-15 11:00+00';

-- 5. privileges: readers see packed flows through nfpg.flows, not the storage
CREATE ROLE pack_reader IN ROLE nfpg_reader;
GRANT USAGE ON SCHEMA nfpg TO pack_reader;
GRANT SELECT ON nfpg.flows TO pack_reader;
SET ROLE pack_reader;
SELECT count(*) AS reader_sees FROM nfpg.flows WHERE nfpg.nf_filter('proto gre');
SELECT count(*) FROM nfpg.flows_20240115_1100_seg;
RESET ROLE;
DROP OWNED BY pack_reader;
DROP ROLE pack_reader;
-- a flipped byte in a column chunk, then in a block summary: an error naming the partition
CREATE TEMP TABLE saved AS SELECT seg_no, dst_port, seg_summary FROM nfpg.flows_20240115_1100_seg WHERE seg_no = 0;
UPDATE nfpg.flows_20240115_1100_seg
   SET dst_port = set_byte(dst_port, 200, get_byte(dst_port, 200) # 16) WHERE seg_no = 0;
SELECT count(*) FROM nfpg.flows WHERE dst_port = 587;
SELECT count(*) FROM nfpg.flows WHERE bytes > 0;
UPDATE nfpg.flows_20240115_1100_seg s SET dst_port = v.dst_port FROM saved v WHERE s.seg_no = v.seg_no;
UPDATE nfpg.flows_20240115_1100_seg
   SET seg_summary = set_byte(seg_summary, 30, get_byte(seg_summary, 30) # 1) WHERE seg_no = 0;
SELECT count(*) FROM nfpg.flows WHERE dst_port = 587;
UPDATE nfpg.flows_20240115_1100_seg s SET seg_summary = v.seg_summary FROM saved v WHERE s.seg_no = v.seg_no;
SELECT count(*) AS repaired FROM nfpg.flows WHERE dst_port = 587;
-- a block's column of more than 2,048 rows is stored in frames (NFF1: a table
-- of their lengths, then frames of 2,048 rows, each a chunk), so a lookup
-- reads only the frames that hold its rows: a flipped byte in the table, or in
-- a frame read, is an error too
CREATE TEMP TABLE saved_addr AS SELECT seg_no, src_addr,
	get_byte(src_addr, 4) + 256 * get_byte(src_addr, 5) + 65536 * get_byte(src_addr, 6) AS len0
	FROM nfpg.flows_20240115_1100_seg WHERE seg_no = 0;
SELECT encode(substr(src_addr, 21, 4), 'escape') AS block0_magic,
	   get_byte(src_addr, 36) AS frames FROM saved_addr;
UPDATE nfpg.flows_20240115_1100_seg SET src_addr = set_byte(src_addr, 20 + 13, get_byte(src_addr, 20 + 13) # 1)
 WHERE seg_no = 0;
SELECT count(*) FROM nfpg.flows WHERE family(src_addr) = 4;
UPDATE nfpg.flows_20240115_1100_seg s SET src_addr = v.src_addr FROM saved_addr v WHERE s.seg_no = v.seg_no;
UPDATE nfpg.flows_20240115_1100_seg s SET src_addr = set_byte(s.src_addr, 20 + v.len0 - 1, get_byte(s.src_addr, 20 + v.len0 - 1) # 1)
  FROM saved_addr v WHERE s.seg_no = v.seg_no;
SELECT count(*) FROM nfpg.flows WHERE family(src_addr) = 4;
UPDATE nfpg.flows_20240115_1100_seg s SET src_addr = v.src_addr FROM saved_addr v WHERE s.seg_no = v.seg_no;
SELECT count(*) AS repaired FROM nfpg.flows WHERE family(src_addr) = 4;
-- a value cut short (the TOAST rows of its end gone): its chunk index points
-- past its end, an error naming the partition and column
UPDATE nfpg.flows_20240115_1100_seg s SET src_addr = substr(s.src_addr, 1, 20 + v.len0 + 100)
  FROM saved_addr v WHERE s.seg_no = v.seg_no;
SELECT count(*) FROM nfpg.flows WHERE family(src_addr) = 4;
UPDATE nfpg.flows_20240115_1100_seg s SET src_addr = v.src_addr FROM saved_addr v WHERE s.seg_no = v.seg_no;
-- summaries are written as NFB3: the blocks' heads, then their Bloom filters
-- cut in parts by key, each part with its CRC-32C, read as TOAST slices.  A
-- flipped byte in the parts is found by a lookup, which reads the part of its
-- key; a query with no address or port condition reads the heads alone.
SELECT DISTINCT convert_from(substring(seg_summary from 1 for 4), 'SQL_ASCII') AS summary_format
FROM nfpg.flows_20240115_1100_seg;
CREATE FUNCTION pg_temp.u32(b bytea, pos int) RETURNS bigint LANGUAGE sql IMMUTABLE
RETURN get_byte(b, pos) + 256::bigint * get_byte(b, pos + 1) + 65536::bigint * get_byte(b, pos + 2)
	   + 16777216::bigint * get_byte(b, pos + 3);
-- the first byte of every part flipped
CREATE FUNCTION pg_temp.flip_parts(b bytea) RETURNS bytea LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	nblocks int := pg_temp.u32(b, 8);
	nparts int := 1 << pg_temp.u32(b, 12)::int;
	headlen int := 20 + nblocks * 56 + nparts * 4;
	partlen int := 0;
BEGIN
	FOR i IN 0 .. nblocks - 1 LOOP
		partlen := partlen + pg_temp.u32(b, 20 + i * 56 + 52)::int / 8;
	END LOOP;
	FOR k IN 0 .. nparts - 1 LOOP
		b := set_byte(b, headlen + k * partlen, get_byte(b, headlen + k * partlen) # 1);
	END LOOP;
	RETURN b;
END
$$;
SELECT pg_temp.u32(seg_summary, 12) > 0 AS in_parts FROM nfpg.flows_20240115_1100_seg WHERE seg_no = 0;
UPDATE nfpg.flows_20240115_1100_seg SET seg_summary = pg_temp.flip_parts(seg_summary) WHERE seg_no = 0;
SELECT count(*) FROM nfpg.flows WHERE dst_port = 587;
SELECT count(*) = (SELECT count(*) FROM before WHERE proto = 6 AND bytes > 1000) AS no_key_reads_no_part
FROM nfpg.flows WHERE proto = 6 AND bytes > 1000;
UPDATE nfpg.flows_20240115_1100_seg s SET seg_summary = v.seg_summary FROM saved v WHERE s.seg_no = v.seg_no;
SELECT count(*) AS repaired FROM nfpg.flows WHERE dst_port = 587;

-- an hour packed by 0.5 (NFB2: per block its head and its whole filter,
-- CRC-32C of the whole; test/data/pack-summary-nfb2.hex, 700 flows in 3
-- blocks of 256) and one before 0.5 (NFB1: zlib's CRC-32, rebuilt here from
-- it) are read whole, as before: the same answers; a flipped byte is found
SELECT nfpg.ensure_partitions('2024-01-15 13:00+00', '2024-01-15 13:00+00') >= 0 AS partitions;
INSERT INTO nfpg.flows (first_seen, last_seen, proto, src_addr, dst_addr, src_port, dst_port, packets, bytes, exporter)
SELECT timestamptz '2024-01-15 13:00+00' + g * interval '5 s', timestamptz '2024-01-15 13:00+00' + g * interval '5 s' + interval '2 s',
	(ARRAY[6, 17, 1, 6])[1 + g % 4], ('10.5.' || g % 7 || '.' || g % 50)::inet,
	CASE WHEN g % 9 = 0 THEN ('2001:db8::' || to_hex(g))::inet ELSE ('192.0.2.' || g % 20)::inet END,
	1024 + g, CASE WHEN g % 10 = 0 THEN 587 ELSE 443 END, 1 + g % 9, 60 + g * 3, '127.0.0.1'
FROM generate_series(1, 700) g;
CREATE TEMP TABLE old_lookups (f text, heap bigint, nfb3 bigint, nfb2 bigint, nfb1 bigint);
INSERT INTO old_lookups (f) VALUES ('host 10.5.3.17'), ('host 10.5.3.18'), ('dst port 587'), ('src port 1500'),
	('dst ip 2001:db8::2b5'), ('dst ip 2001:db8::2b6'), ('proto udp and dst host 192.0.2.5'), ('port 9999');
CREATE FUNCTION pg_temp.count_1300(f text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	n	bigint;
BEGIN
	EXECUTE 'SELECT count(*) FROM nfpg.flows_20240115_1300 WHERE ' || nfpg.nf_filter_sql(f) INTO n;
	RETURN n;
END
$$;
UPDATE old_lookups SET heap = pg_temp.count_1300(f);
SELECT nfpg.pack_partition('nfpg.flows_20240115_1300', 3, 256, 16) AS packed;
UPDATE old_lookups SET nfb3 = pg_temp.count_1300(f);
CREATE TEMP TABLE nfb2 (hex text);
\copy nfb2 FROM 'test/data/pack-summary-nfb2.hex'
UPDATE nfpg.flows_20240115_1300_seg SET seg_summary = (SELECT decode(hex, 'hex') FROM nfb2);
SELECT convert_from(substring(seg_summary from 1 for 4), 'SQL_ASCII') AS summary_format
FROM nfpg.flows_20240115_1300_seg;
UPDATE old_lookups SET nfb2 = pg_temp.count_1300(f);
UPDATE nfpg.flows_20240115_1300_seg SET seg_summary = set_byte(seg_summary, 30, get_byte(seg_summary, 30) # 1);
SELECT pg_temp.count_1300('host 10.5.3.17');
CREATE FUNCTION pg_temp.as_nfb1(b bytea) RETURNS bytea LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	crc bigint := 4294967295;
BEGIN
	FOR i IN 8 .. length(b) - 1 LOOP
		crc := crc # get_byte(b, i);
		FOR k IN 1 .. 8 LOOP
			crc := (crc >> 1) # (3988292384 * (crc & 1));	-- 0xEDB88320
		END LOOP;
	END LOOP;
	crc := crc # 4294967295;
	b := overlay(b placing 'NFB1'::bytea from 1 for 4);
	FOR i IN 0 .. 3 LOOP
		b := set_byte(b, 4 + i, ((crc >> (8 * i)) & 255)::int);
	END LOOP;
	RETURN b;
END
$$;
UPDATE nfpg.flows_20240115_1300_seg SET seg_summary = pg_temp.as_nfb1((SELECT decode(hex, 'hex') FROM nfb2));
SELECT convert_from(substring(seg_summary from 1 for 4), 'SQL_ASCII') AS summary_format
FROM nfpg.flows_20240115_1300_seg;
UPDATE old_lookups SET nfb1 = pg_temp.count_1300(f);
SELECT *, heap = nfb3 AND heap = nfb2 AND heap = nfb1 AS same FROM old_lookups;
SELECT s.* FROM pg_temp.scan('port 9999', true, 'nfpg.flows_20240115_1300') s;
UPDATE nfpg.flows_20240115_1300_seg SET seg_summary = set_byte(seg_summary, 30, get_byte(seg_summary, 30) # 1);
SELECT pg_temp.count_1300('host 10.5.3.17');
UPDATE nfpg.flows_20240115_1300_seg SET seg_summary = (SELECT decode(hex, 'hex') FROM nfb2);
SELECT nfpg.unpack_partition('nfpg.flows_20240115_1300') AS unpacked;
DELETE FROM nfpg.flows WHERE first_seen >= '2024-01-15 13:00+00';

-- 6. unpack: heap partitions again, the same rows; unpacking a heap partition does nothing
SELECT p.lower_bound, nfpg.unpack_partition(p.relid) AS unpacked
FROM nfpg.partitions p WHERE p.lower_bound IN ('2024-01-15 09:00+00', '2024-01-15 11:00+00') ORDER BY 1;
SELECT nfpg.unpack_partition('nfpg.flows_20240115_1100') AS again;
SELECT c.relkind, to_regclass('nfpg.flows_20240115_1100_seg') AS seg FROM pg_class c WHERE c.oid = 'nfpg.flows_20240115_1100'::regclass;
SELECT has_table_privilege('nfpg_loader', 'nfpg.flows_20240115_1100', 'INSERT') AS loader_keeps_insert;
SELECT (SELECT count(*) FROM (SELECT * FROM before EXCEPT ALL SELECT * FROM nfpg.flows) a) AS missing,
	   (SELECT count(*) FROM (SELECT * FROM nfpg.flows EXCEPT ALL SELECT * FROM before) b) AS extra;
-- only partitions of nfpg.flows; only zstd's levels
SELECT nfpg.pack_partition('pg_class');
SELECT nfpg.pack_partition('nfpg.flows_20240115_0900', 0);
SELECT nfpg.pack_partition('nfpg.flows_20240115_0900', -8);
-- the level of a pack without one (the scheduled job's) is a setting
UPDATE nfpg.settings SET pack_zstd_level = 0;
SELECT pack_zstd_level FROM nfpg.settings;

-- aging drops packed partitions with their storage; TRUNCATE empties them
SELECT nfpg.pack_partition('nfpg.flows_20240115_0900') AS packed, nfpg.pack_partition('nfpg.flows_20240115_1100') AS packed;
SELECT nfpg.partition_size('nfpg.flows_20240115_1100') > 0 AS sized;
TRUNCATE nfpg.flows;
SELECT count(*) AS after_truncate FROM nfpg.flows;
SELECT nfpg.drop_partition('nfpg.flows_20240115_0900');
SELECT to_regclass('nfpg.flows_20240115_0900_seg') AS seg_gone, to_regclass('nfpg.flows_20240115_0900_late') AS late_gone;
SELECT nfpg.unpack_partition('nfpg.flows_20240115_1100') AS unpacked_empty;
-- leave every partition a heap partition for the tests that follow
SELECT count(nfpg.unpack_partition(relid)) > 0 AS unpacked FROM nfpg.partitions;
SELECT count(*) AS packed_left FROM nfpg.pack_status() WHERE packed;
