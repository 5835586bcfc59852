-- nf_filter and the planner: the rewrite gives index scans and partition
-- pruning; both function forms in views, CTEs, subqueries, joins, generic
-- plans; the errors of form 1; NULL semantics; privileges; lookup indexes.
SET timezone = 'UTC';
\set VERBOSITY terse

TRUNCATE nfpg.flows;
SELECT nfpg.ensure_partitions('2024-02-01 00:00+00', '2024-02-01 02:00+00') >= 0 AS partitions;
-- 30000 synthetic flows over three hours: 10.0.<i%100>.<i%200> -> 192.168.<i%50>.1
INSERT INTO nfpg.flows (first_seen, last_seen, proto, src_addr, dst_addr, src_port, dst_port,
						packets, bytes, exporter, src_as)
SELECT t, t + interval '1 s', CASE WHEN i % 3 = 0 THEN 17 ELSE 6 END,
	   format('10.0.%s.%s', i % 100, i % 200)::inet, format('192.168.%s.1', i % 50)::inet,
	   1024 + i % 5000, CASE WHEN i % 10 = 0 THEN 587 ELSE 443 END,
	   1 + i % 7, 100 * (1 + i % 7), '192.0.2.1', CASE WHEN i % 4 = 0 THEN NULL ELSE 65000 + i % 3 END
FROM generate_series(0, 29999) i, LATERAL (SELECT timestamptz '2024-02-01 00:00+00' + i * interval '360 ms') s(t);
-- the partitions are older than an hour: build their lookup indexes
SELECT nfpg.index_partitions() >= 3 AS indexed;
SELECT p.relid, p.indexed IS NOT NULL AS indexed, count(i.indexrelid) AS indexes
FROM nfpg.partitions p LEFT JOIN pg_index i ON i.indrelid = p.relid
WHERE p.lower_bound >= '2024-02-01' AND p.lower_bound < '2024-02-01 03:00'
GROUP BY 1, 2 ORDER BY 1;
SELECT nfpg.index_partitions() AS indexed_again;
ANALYZE nfpg.flows;
-- plans that do not depend on other tests' partitions or on parallelism
SET max_parallel_workers_per_gather = 0;
CREATE TEMP VIEW feb AS SELECT * FROM nfpg.flows
WHERE first_seen >= '2024-02-01 00:00+00' AND first_seen < '2024-02-01 03:00+00';

-- A host lookup: index scans (BitmapOr over src and dst), no call left.
EXPLAIN (COSTS OFF)
SELECT count(*) FROM feb WHERE nfpg.nf_filter('host 10.0.5.5');
SELECT count(*) FROM nfpg.flows WHERE nfpg.nf_filter('host 10.0.5.5');
SELECT count(*) FROM nfpg.flows WHERE src_addr = '10.0.5.5' OR dst_addr = '10.0.5.5';

-- A subnet: <<= on inet becomes a btree range scan.
EXPLAIN (COSTS OFF)
SELECT count(*) FROM feb f WHERE nfpg.nf_filter(f, 'src net 10.0.7.0/24');

-- A time window prunes partitions: only 2024-02-01 01:00 is scanned.
EXPLAIN (COSTS OFF)
SELECT count(*) FROM nfpg.flows
WHERE nfpg.nf_filter('proto tcp and dst port 587')
  AND first_seen >= '2024-02-01 01:00+00' AND first_seen < '2024-02-01 02:00+00';
SELECT count(*) FROM nfpg.flows
WHERE nfpg.nf_filter('proto tcp and dst port 587')
  AND first_seen >= '2024-02-01 01:00+00' AND first_seen < '2024-02-01 02:00+00';

-- The SELECT list shows the rewrite too.
EXPLAIN (COSTS OFF, VERBOSE)
SELECT nfpg.nf_filter(f, 'proto udp and src port 2000') FROM nfpg.flows_20240201_0000 f LIMIT 1;

-- Views, subqueries, CTEs, joins: same answer as the plain SQL.
CREATE TEMP VIEW v_flows AS SELECT first_seen, proto, src_addr, dst_addr, src_port, dst_port FROM nfpg.flows;
CREATE TEMP VIEW v_distinct AS SELECT DISTINCT proto, src_addr, dst_addr, src_port, dst_port FROM nfpg.flows;
SELECT
  (SELECT count(*) FROM nfpg.flows WHERE proto = 17 AND dst_port = 443) AS plain,
  (SELECT count(*) FROM v_flows WHERE nfpg.nf_filter('proto udp and dst port 443')) AS view1,
  (SELECT count(*) FROM v_flows v WHERE nfpg.nf_filter(v, 'proto udp and dst port 443')) AS view2,
  (SELECT count(*) FROM v_distinct v WHERE nfpg.nf_filter(v, 'proto udp and dst port 443')) AS distinct2,
  (SELECT count(*) FROM v_distinct WHERE nfpg.nf_filter('proto udp and dst port 443')) AS distinct1,
  (SELECT count(*) FROM (SELECT * FROM nfpg.flows OFFSET 0) s WHERE nfpg.nf_filter(s, 'proto udp and dst port 443')) AS subquery,
  (WITH c AS MATERIALIZED (SELECT * FROM nfpg.flows) SELECT count(*) FROM c WHERE nfpg.nf_filter('proto udp and dst port 443')) AS cte1,
  (WITH c AS MATERIALIZED (SELECT * FROM nfpg.flows) SELECT count(*) FROM c WHERE nfpg.nf_filter(c, 'proto udp and dst port 443')) AS cte2,
  (SELECT count(*) FROM nfpg.flows_20240201_0000 p WHERE nfpg.nf_filter(p, 'proto udp and dst port 443'))
   + (SELECT count(*) FROM nfpg.flows_20240201_0100 p WHERE nfpg.nf_filter(p, 'proto udp and dst port 443'))
   + (SELECT count(*) FROM nfpg.flows_20240201_0200 p WHERE nfpg.nf_filter('proto udp and dst port 443')) AS partitions;
EXPLAIN (COSTS OFF)
SELECT count(*) FROM v_flows WHERE nfpg.nf_filter('dst port 587')
  AND first_seen >= '2024-02-01 00:00+00' AND first_seen < '2024-02-01 01:00+00';
-- A join with a table that has no flow columns; a self join names the rows.
CREATE TEMP TABLE watch (port int);
INSERT INTO watch VALUES (587);
SELECT count(*) FROM nfpg.flows f JOIN watch w ON f.dst_port = w.port WHERE nfpg.nf_filter('proto tcp');
SELECT count(*) FROM nfpg.flows a JOIN nfpg.flows b ON a.first_seen = b.first_seen
WHERE nfpg.nf_filter(a, 'host 10.0.5.5') AND nfpg.nf_filter(b, 'proto tcp');

-- Form 1 errors: ambiguous, no flow relation, no row (CHECK constraint).
SELECT count(*) FROM nfpg.flows a JOIN nfpg.flows b ON a.src_addr = b.dst_addr WHERE nfpg.nf_filter('proto tcp');
SELECT nfpg.nf_filter('proto tcp');
CREATE TEMP TABLE chk (proto smallint, CHECK (nfpg.nf_filter('proto tcp')));
INSERT INTO chk VALUES (6);
-- form 2 works in a CHECK constraint (root is NULL there, still rewritten)
CREATE TEMP TABLE chk2 (src_addr inet, dst_addr inet, src_port int, dst_port int, proto smallint,
						CHECK (nfpg.nf_filter(chk2, 'proto tcp or proto udp')));
INSERT INTO chk2 VALUES ('10.0.0.1', '10.0.0.2', 1, 2, 6);
INSERT INTO chk2 VALUES ('10.0.0.1', '10.0.0.2', 1, 2, 47);
-- a row without a column the filter needs
SELECT count(*) FROM v_flows v WHERE nfpg.nf_filter(v, 'bytes > 10');

-- Generic plans: the filter is a parameter; form 1 hands over to form 2,
-- evaluated at run time, with the same answers as the rewritten custom plan.
SET plan_cache_mode = force_generic_plan;
PREPARE q1(text) AS SELECT count(*) FROM feb WHERE nfpg.nf_filter($1);
PREPARE q2(text) AS SELECT count(*) FROM feb f WHERE nfpg.nf_filter(f, $1);
EXPLAIN (COSTS OFF) EXECUTE q1('dst port 587');
EXECUTE q1('dst port 587');
EXECUTE q2('dst port 587');
EXECUTE q1('not src as 65001 and packets > 3');
EXECUTE q2('not src as 65001 and packets > 3');
RESET plan_cache_mode;
SELECT count(*) FROM feb WHERE nfpg.nf_filter('not src as 65001 and packets > 3');
SELECT count(*) FROM feb WHERE NOT (coalesce(src_as, 0) = 65001) AND packets > 3;

-- NULL semantics: an absent (NULL) field reads as 0, every result is true or
-- false, and the rewritten and run-time forms agree row by row.
CREATE TEMP TABLE nulls AS
SELECT * FROM nfpg.flows LIMIT 0;
INSERT INTO nulls (first_seen, last_seen, proto, src_addr, dst_addr, exporter, src_as, dst_tos, next_hop, in_src_mac, mpls_labels)
VALUES ('2024-02-01', '2024-02-01', 6, '10.0.0.1', '10.0.0.2', '192.0.2.1', NULL, NULL, NULL, NULL, NULL),
	   ('2024-02-01', '2024-02-01', 6, '10.0.0.1', '10.0.0.2', '192.0.2.1', 0, 0, '0.0.0.0', '00:00:00:00:00:00', '{}'),
	   ('2024-02-01', '2024-02-01', 6, '10.0.0.1', '10.0.0.2', '192.0.2.1', 7, 7, '10.0.0.9', '00:00:00:00:00:07', '{33}');
CREATE TEMP TABLE null_filters (f text);
INSERT INTO null_filters VALUES ('src as 0'), ('not src as 0'), ('src as 7'), ('not src as 7'),
	('src as > 0'), ('src as < 1'), ('as in [0 7]'), ('not as in [7]'), ('dst tos 0'), ('not dst tos 7'),
	('next ip 0.0.0.0'), ('not next ip 10.0.0.9'), ('next ip in [0.0.0.0/8]'), ('mac 00:00:00:00:00:00'),
	('not in src mac 00:00:00:00:00:07'), ('mpls label1 2'), ('mpls eos > 5'), ('mpls any 2'),
	('not mpls any 2'), ('not (src as 7 or dst tos 7)');
SELECT n.f,
	   string_agg(coalesce(nfpg.nf_filter(r, n.f)::text, 'NULL'), ' ' ORDER BY r.src_as NULLS FIRST) AS runtime
FROM null_filters n, nulls r GROUP BY n.f ORDER BY n.f;
CREATE FUNCTION pg_temp.rewritten(f text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE res text;
BEGIN
	EXECUTE format('SELECT string_agg(coalesce(nfpg.nf_filter(r, %L)::text, ''NULL''), '' '' ORDER BY r.src_as NULLS FIRST) FROM nulls r', f) INTO res;
	RETURN res;
END $$;
SELECT n.f FROM null_filters n
WHERE pg_temp.rewritten(n.f) IS DISTINCT FROM
	  (SELECT string_agg(coalesce(nfpg.nf_filter(r, n.f)::text, 'NULL'), ' ' ORDER BY r.src_as NULLS FIRST) FROM nulls r);
SELECT nfpg.nf_filter_sql('not src as 7');

-- nf_filter_sql embeds in dynamic SQL: constants are literals, never the text.
SELECT nfpg.nf_filter_sql('proto tcp and dst port 587');
-- nfpg extension: the common protocol names stand alone (1.7.1 needs "proto")
SELECT nfpg.nf_filter_sql('tcp and dst port 587');
SELECT nfpg.nf_filter_sql('src net 10.0.7.0/24 or ip in [1.2.3.4 1.2.3.5 2001:db8::/32]');
SELECT nfpg.nf_filter_sql('flags SA and bytes > 1k and duration < 1000 and bpp > 100');
SELECT nfpg.nf_filter_sql('icmp-type 8 or mpls label1 16001 or in mac 00:11:22:33:44:55 or inet6');
SELECT nfpg.nf_filter_sql('payload content GET or port 80');
CREATE FUNCTION pg_temp.count_sql(f text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
	EXECUTE format('SELECT count(*) FROM nfpg.flows WHERE %s', nfpg.nf_filter_sql(f)) INTO n;
	RETURN n;
END $$;
SELECT pg_temp.count_sql('proto tcp and dst port 587') AS via_sql,
	   (SELECT count(*) FROM nfpg.flows WHERE nfpg.nf_filter('proto tcp and dst port 587')) AS via_filter;

-- Privileges: nf_filter reads no column the role may not read.
CREATE ROLE nfpg_filter_limited;
GRANT USAGE ON SCHEMA nfpg TO nfpg_filter_limited;
GRANT SELECT (first_seen, bytes) ON nfpg.flows TO nfpg_filter_limited;
SET ROLE nfpg_filter_limited;
SELECT count(*) FROM nfpg.flows WHERE proto = 17;
SELECT count(*) FROM nfpg.flows WHERE nfpg.nf_filter('proto udp');
SELECT count(*) FROM nfpg.flows f WHERE nfpg.nf_filter(f, 'proto udp');
PREPARE q3(text) AS SELECT count(*) FROM nfpg.flows WHERE nfpg.nf_filter($1);
SELECT count(*) FROM nfpg.flows WHERE nfpg.nf_filter('bytes > 500');
RESET ROLE;
GRANT SELECT (proto) ON nfpg.flows TO nfpg_filter_limited;
SET ROLE nfpg_filter_limited;
SELECT count(*) FROM nfpg.flows WHERE nfpg.nf_filter('proto udp');
SET plan_cache_mode = force_generic_plan;
EXECUTE q3('proto udp');
RESET plan_cache_mode;
RESET ROLE;
-- Through views: the user's rights are on the view's columns.  nf_filter(text)
-- binds to the flattened base relation, so a view that hides or renames a
-- column the filter reads is refused; nf_filter(v, ...) uses the view's names.
CREATE VIEW public.filter_v_some AS SELECT proto, src_addr, dst_addr, src_port, dst_port FROM nfpg.flows;
CREATE VIEW public.filter_v_distinct AS SELECT DISTINCT proto, src_addr, dst_addr, src_port, dst_port FROM nfpg.flows;
CREATE VIEW public.filter_v_hiding AS SELECT first_seen, bytes FROM nfpg.flows;
CREATE VIEW public.filter_v_renaming AS SELECT proto, src_addr, dst_addr, dst_port AS src_port, src_port AS dst_port FROM nfpg.flows;
CREATE VIEW public.filter_v_stacked AS SELECT * FROM public.filter_v_some WHERE proto = 6;
GRANT SELECT (proto, src_addr, dst_addr, src_port) ON public.filter_v_some, public.filter_v_distinct TO nfpg_filter_limited;
GRANT SELECT ON public.filter_v_hiding, public.filter_v_renaming, public.filter_v_stacked TO nfpg_filter_limited;
SET ROLE nfpg_filter_limited;
SELECT count(*) FROM public.filter_v_some WHERE nfpg.nf_filter('src port 2000');
SELECT count(*) FROM public.filter_v_some WHERE nfpg.nf_filter('dst port 587');
SELECT count(*) FROM public.filter_v_distinct WHERE nfpg.nf_filter('src port 2000');
SELECT count(*) FROM public.filter_v_distinct WHERE nfpg.nf_filter('dst port 587');
SELECT count(*) FROM public.filter_v_hiding WHERE nfpg.nf_filter('bytes > 500');
SELECT count(*) FROM public.filter_v_hiding WHERE nfpg.nf_filter('dst port 587');
SELECT count(*) FROM public.filter_v_renaming WHERE nfpg.nf_filter('dst port 587');
SELECT count(*) FROM public.filter_v_renaming v WHERE nfpg.nf_filter(v, 'src port 587');
SELECT count(*) FROM public.filter_v_stacked WHERE nfpg.nf_filter('dst port 587');
RESET ROLE;
DROP VIEW public.filter_v_stacked, public.filter_v_some, public.filter_v_distinct,
	public.filter_v_hiding, public.filter_v_renaming;
-- row-level security applies to the rewritten quals like to any other
ALTER TABLE nfpg.flows ENABLE ROW LEVEL SECURITY;
CREATE POLICY only_udp ON nfpg.flows TO nfpg_filter_limited USING (proto = 17);
GRANT SELECT ON nfpg.flows TO nfpg_filter_limited;
SET ROLE nfpg_filter_limited;
SELECT count(*) FROM nfpg.flows WHERE nfpg.nf_filter('any');
SELECT count(*) FROM nfpg.flows WHERE nfpg.nf_filter('proto tcp');
RESET ROLE;
DROP POLICY only_udp ON nfpg.flows;
ALTER TABLE nfpg.flows DISABLE ROW LEVEL SECURITY;
REVOKE ALL ON nfpg.flows FROM nfpg_filter_limited;
REVOKE ALL ON SCHEMA nfpg FROM nfpg_filter_limited;
DROP ROLE nfpg_filter_limited;
RESET max_parallel_workers_per_gather;

-- Leave the shared database as found: drop this test's partitions.
TRUNCATE nfpg.flows;
DO $$
DECLARE
	part	regclass;
BEGIN
	FOR part IN DELETE FROM nfpg.partitions
				WHERE lower_bound >= '2024-02-01 00:00+00' AND upper_bound <= '2024-02-02 00:00+00' RETURNING relid
	LOOP
		EXECUTE format('DROP TABLE %s', part);
	END LOOP;
END
$$;
