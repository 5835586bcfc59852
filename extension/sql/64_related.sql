--------------------------------------------------------------------------------
-- Related filters ("malware footprint tracking", from nfdump's todo list)
--
-- Two filters chained through a host: the hosts A at one end (src or dst)
-- of flows matching a first filter, that then, within a time window after
-- A's first match, appear in flows matching a second filter which names A:
--
--   SELECT * FROM nfpg.nf_related(
--       'dst port 445 and bytes > 600',                  -- A = its destination
--       'src ip A and dst ip 172.16.17.18 and dst port 80',
--       '2024-03-11 09:00Z', '2024-03-11 10:00Z', within => '30 minutes');
--
-- The second filter refers to A as an address: "ip A", "host A", "src ip A",
-- "dst host A" and so on.  It is compiled by nf_filter_sql with a stand-in
-- address (0.0.0.123, from 0.0.0.0/8, which never appears on the wire) in
-- place of A; the stand-in literal in the compiled condition is then
-- replaced by a reference to A's column, so the whole search is one join
-- that PostgreSQL can hash, not one query per host.
--------------------------------------------------------------------------------

CREATE FUNCTION nfpg.nf_related_sql(second_filter text)
RETURNS text
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	standin		text := regexp_replace(second_filter, '\m(ip|host)(\s+)A\M', '\1\2 0.0.0.123', 'gi');
	compiled	text;
	joined		text;
BEGIN
	IF standin = second_filter THEN
		RAISE EXCEPTION 'the second filter does not refer to A'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Name the host found by the first filter as "src ip A", "dst ip A" or "ip A".';
	END IF;
	compiled := nfpg.nf_filter_sql(standin);
	joined := regexp_replace(compiled, '''0\.0\.0\.123(/32)?''(::(inet|cidr))?', '(related_host)', 'g');
	IF joined = compiled OR joined ~ '0\.0\.0\.123' THEN
		RAISE EXCEPTION 'cannot use A in the compiled second filter: %', compiled
			USING ERRCODE = 'feature_not_supported';
	END IF;
	RETURN joined;
END
$$;
COMMENT ON FUNCTION nfpg.nf_related_sql(text) IS 'The SQL condition of a related second filter, with A as the column related_host';

CREATE FUNCTION nfpg.nf_related(first_filter text, second_filter text,
								from_ts timestamptz, to_ts timestamptz,
								within interval DEFAULT '1 hour', a_side text DEFAULT 'dst')
RETURNS TABLE (host inet, first_seen timestamptz, related_seen timestamptz,
			   first_flows bigint, related_flows bigint)
LANGUAGE plpgsql STABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	side_col	text := CASE lower(a_side) WHEN 'src' THEN 'src_addr' WHEN 'dst' THEN 'dst_addr' END;
BEGIN
	IF side_col IS NULL THEN
		RAISE EXCEPTION 'a_side must be src or dst, not "%"', a_side
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	RETURN QUERY EXECUTE format($q$
		WITH a AS (
			SELECT %I AS related_host, min(first_seen) AS related_first, count(*) AS related_n
			  FROM nfpg.flows
			 WHERE first_seen >= $1 AND first_seen < $2 AND (%s)
			 GROUP BY 1)
		SELECT a.related_host, a.related_first, min(f.first_seen), a.related_n, count(*)
		  FROM a JOIN nfpg.flows f
			ON f.first_seen >= a.related_first AND f.first_seen <= a.related_first + $3
		 WHERE f.first_seen >= $1 AND f.first_seen <= $2 + $3 AND (%s)
		 GROUP BY a.related_host, a.related_first, a.related_n
		 ORDER BY a.related_first, a.related_host
	$q$, side_col, nfpg.nf_filter_sql(first_filter), nfpg.nf_related_sql(second_filter))
	USING from_ts, to_ts, within;
END
$$;
COMMENT ON FUNCTION nfpg.nf_related(text, text, timestamptz, timestamptz, interval, text) IS 'Related filters: hosts A (a_side of flows matching first_filter in [from_ts, to_ts)) for which second_filter, naming A, matches within "within" after A''s first match';
