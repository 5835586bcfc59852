-- nf_filter's bounds: the values of one field OR-ed together compile to one
-- col = ANY(array) per column, with the same rows (NULLs included) as the
-- tests written one by one; nfpg.filter_max_terms refuses bigger filters on
-- every path, with the size, the limit and a hint; raising it lets them
-- through.  (JIT is tested with a JIT-enabled cluster in
-- test/integration/filter_jit.sh.)
SET timezone = 'UTC';
\set SHOW_CONTEXT never

-- Rows of nfpg.flows' shape, with NULLs, zeros and values in the nullable
-- columns; a table of its own, so other tests' flows do not matter.
CREATE TEMP TABLE lf (LIKE nfpg.flows INCLUDING DEFAULTS);
INSERT INTO lf (first_seen, last_seen, proto, src_addr, dst_addr, src_port, dst_port,
				packets, bytes, exporter, src_as, dst_as, in_if, out_if, next_hop)
SELECT timestamptz '2024-02-01 00:00+00' + i * interval '1 s',
	   timestamptz '2024-02-01 00:00+00' + i * interval '1 s',
	   (ARRAY[6, 17, 1, 58])[1 + i % 4],
	   format('10.0.%s.%s', i % 7, i % 11)::inet, format('10.0.%s.%s', i % 5, i % 3)::inet,
	   (ARRAY[0, 22, 80, 443, 8080])[1 + i % 5], (ARRAY[0, 53, 80, 443])[1 + i % 4],
	   1, 100, '192.0.2.1',
	   (ARRAY[NULL, 0, 65001, 65002]::bigint[])[1 + i % 4],
	   (ARRAY[NULL, 65001, 65003]::bigint[])[1 + i % 3],
	   (ARRAY[NULL, 0, 3]::int[])[1 + i % 3], (ARRAY[NULL, 3, 4]::int[])[1 + (i / 3) % 3],
	   (ARRAY[NULL, '0.0.0.0', '192.0.2.1']::inet[])[1 + i % 3]
FROM generate_series(0, 2999) i;

-- What the lists compile to.
SELECT nfpg.nf_filter_sql('port 80 or port 443 or port 8080');
SELECT nfpg.nf_filter_sql('host 10.0.0.1 or host 10.0.0.2 or net 10.0.1.0/24 or port 80');
SELECT nfpg.nf_filter_sql('dst port in [ 80 443 ] or dst port 22 or proto udp');
SELECT nfpg.nf_filter_sql('as 0 or as 65001');
SELECT nfpg.nf_filter_sql('not port 80 and not port 443 and proto tcp');
-- a column tested once keeps its shape
SELECT nfpg.nf_filter_sql('port 53 or host 10.0.0.1');

-- Merged filter = the same tests compiled one by one (each nf_filter call
-- below is rewritten on its own, so nothing is merged there), row by row,
-- NULLs included: no row where the two differ, and the count.
CREATE FUNCTION pg_temp.differ(filter text, parts text[], op text DEFAULT 'OR',
							   OUT differ bigint, OUT matched bigint)
LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE format('SELECT count(*) FILTER (WHERE nfpg.nf_filter(l, %L) IS DISTINCT FROM (%s)),
						   count(*) FILTER (WHERE nfpg.nf_filter(l, %L))
					FROM lf l',
				   filter,
				   (SELECT string_agg(format('nfpg.nf_filter(l, %L)', p), ' ' || op || ' ') FROM unnest(parts) p),
				   filter)
	INTO differ, matched;
END
$$;
SELECT f, (pg_temp.differ(f, p, o)).*
FROM (VALUES
	('port 80 or port 443 or port 0', ARRAY['port 80', 'port 443', 'port 0'], 'OR'),
	('dst port in [ 80 443 ] or dst port 53 or src port 22', ARRAY['dst port in [ 80 443 ]', 'dst port 53', 'src port 22'], 'OR'),
	('src as 0 or src as 65001 or dst as 65003', ARRAY['src as 0', 'src as 65001', 'dst as 65003'], 'OR'),
	('as 65001 or as 65003', ARRAY['as 65001', 'as 65003'], 'OR'),
	('in if 0 or in if 4 or out if 4', ARRAY['in if 0', 'in if 4', 'out if 4'], 'OR'),
	('next ip 0.0.0.0 or next ip 192.0.2.2', ARRAY['next ip 0.0.0.0', 'next ip 192.0.2.2'], 'OR'),
	('next ip 192.0.2.1 or next ip 192.0.2.2', ARRAY['next ip 192.0.2.1', 'next ip 192.0.2.2'], 'OR'),
	('host 10.0.0.1 or host 10.0.1.2 or net 10.0.2.0/24 or ip in [ 10.0.3.3 10.0.4.0/24 ]',
	 ARRAY['host 10.0.0.1', 'host 10.0.1.2', 'net 10.0.2.0/24', 'ip in [ 10.0.3.3 10.0.4.0/24 ]'], 'OR'),
	('proto tcp or proto udp or proto 58', ARRAY['proto tcp', 'proto udp', 'proto 58'], 'OR'),
	('not port 80 and not port 443 and proto tcp', ARRAY['not port 80', 'not port 443', 'proto tcp'], 'AND'),
	('not as 65001 and not as 0', ARRAY['not as 65001', 'not as 0'], 'AND')
) AS t(f, p, o);

-- The null-extended row of an outer join (run-time form): both NULL.
SELECT nfpg.nf_filter(l, 'port 80 or port 443') IS NULL AS merged_null,
	   (nfpg.nf_filter(l, 'port 80') OR nfpg.nf_filter(l, 'port 443')) IS NULL AS parts_null
FROM (SELECT 1) x LEFT JOIN lf l ON false;

-- 12,000 "port N" terms (about 150 KB, nfdump's own syntax): two arrays, not
-- 24,000 comparisons, and the rows of the hand-written SQL.
CREATE TEMP TABLE big AS
SELECT string_agg(format('port %s', i), ' or ') AS ports,
	   string_agg(format('port > %s', i), ' or ') FILTER (WHERE i <= 1001) AS ranges,
	   string_agg(format('port > %s', i), ' or ') FILTER (WHERE i <= 1000) AS ranges_at_limit,
	   array_agg(i) AS list
FROM generate_series(1, 12000) i;
SELECT length(ports) > 140000 AS long_filter, nfpg.nf_filter_sql(ports) ~ '^\(\(src_port = ANY \(''\{1,2,3,.*,12000\}''::integer\[\]\)\) OR \(dst_port = ANY' AS two_arrays
FROM big;
SELECT (SELECT count(*) FROM lf WHERE nfpg.nf_filter((SELECT ports FROM big))) AS runtime,
	   (SELECT count(*) FROM lf, big WHERE nfpg.nf_filter(lf, big.ports)) AS runtime_row,
	   (SELECT count(*) FROM lf, big WHERE src_port = ANY (list) OR dst_port = ANY (list)) AS sql;
-- as a literal (the planner rewrite), through dynamic SQL
CREATE FUNCTION pg_temp.count_literal(filter text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
	EXECUTE format('SELECT count(*) FROM lf WHERE nfpg.nf_filter(%L)', filter) INTO n;
	RETURN n;
END
$$;
SELECT pg_temp.count_literal(ports) FROM big;

-- The limit: 1,001 "port > N" (2,002 comparisons) is refused on every path,
-- 1,000 (2,000) is not; the message gives the size, the limit and a hint.
SHOW nfpg.filter_max_terms;
SELECT pg_temp.count_literal(ranges) FROM big;
SELECT nfpg.nf_filter_sql(ranges) FROM big;
SELECT count(*) FROM lf, big WHERE nfpg.nf_filter(lf, big.ranges);
SELECT pg_temp.count_literal(ranges_at_limit) = (SELECT count(*) FROM lf WHERE src_port > 1 OR dst_port > 1) AS at_limit
FROM big;
-- a user raises it for the session
SET nfpg.filter_max_terms = 2002;
SELECT pg_temp.count_literal(ranges) = (SELECT count(*) FROM lf WHERE src_port > 1 OR dst_port > 1) AS raised,
	   length(nfpg.nf_filter_sql(ranges)) > 0 AS sql_raised,
	   (SELECT count(*) FROM lf, big b2 WHERE nfpg.nf_filter(lf, b2.ranges)) = (SELECT count(*) FROM lf WHERE src_port > 1 OR dst_port > 1) AS runtime_raised
FROM big;
RESET nfpg.filter_max_terms;
SET nfpg.filter_max_terms = 0;

-- The JIT guard's setting exists once the library is loaded.
SHOW nfpg.jit_max_terms;
