--------------------------------------------------------------------------------
-- nfdump filters
--
-- nf_filter(f, 'proto tcp and dst port 587') and nf_filter('...') accept the
-- nfdump 1.7.1 filter language (docs/filter.md).  A planner support function
-- replaces each call by plain comparisons of columns with constants, so
-- indexes and partition pruning apply; where it cannot (the filter is a
-- parameter) the same compiled expression is evaluated at run time.
-- nf_filter_sql() shows the SQL a filter becomes.
--------------------------------------------------------------------------------

CREATE FUNCTION nfpg.nf_filter_support(internal)
RETURNS internal
LANGUAGE C STRICT
AS 'MODULE_PATHNAME', 'nf_filter_support';
COMMENT ON FUNCTION nfpg.nf_filter_support(internal) IS 'Planner support of nf_filter(): rewrites the call into column comparisons';

-- IMMUTABLE: the result depends on the row and the text only (no time zone,
-- no hostname resolution), which also allows it in index predicates.
CREATE FUNCTION nfpg.nf_filter(flow record, filter text)
RETURNS boolean
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE COST 1000
SUPPORT nfpg.nf_filter_support
AS 'MODULE_PATHNAME', 'nf_filter_row';
COMMENT ON FUNCTION nfpg.nf_filter(record, text) IS 'True when the flow row matches the nfdump filter; rewritten by the planner into column comparisons';

-- STABLE, not IMMUTABLE: an immutable call with a constant argument would be
-- folded before the support function could bind it to its relation.
CREATE FUNCTION nfpg.nf_filter(filter text)
RETURNS boolean
LANGUAGE C STRICT STABLE PARALLEL SAFE COST 1000
SUPPORT nfpg.nf_filter_support
AS 'MODULE_PATHNAME', 'nf_filter_text';
COMMENT ON FUNCTION nfpg.nf_filter(text) IS 'nfdump filter on the one flow relation of the query level; rewritten by the planner (see nf_filter(record, text))';

CREATE FUNCTION nfpg.nf_filter_sql(filter text)
RETURNS text
LANGUAGE C STRICT STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'nf_filter_sql';
COMMENT ON FUNCTION nfpg.nf_filter_sql(text) IS 'The SQL condition (over unqualified nfpg.flows columns) an nfdump filter becomes';

-- Derived values the compiled filters read (nfdump 1.7.1 arithmetic).
CREATE FUNCTION nfpg.flow_duration(first_seen timestamptz, last_seen timestamptz)
RETURNS bigint LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF
AS 'MODULE_PATHNAME', 'nf_flow_duration';
COMMENT ON FUNCTION nfpg.flow_duration(timestamptz, timestamptz) IS 'Flow duration in ms as nfdump computes it (a negative duration reads as the largest bigint)';

CREATE FUNCTION nfpg.flow_pps(packets bigint, first_seen timestamptz, last_seen timestamptz)
RETURNS bigint LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF
AS 'MODULE_PATHNAME', 'nf_flow_pps';
COMMENT ON FUNCTION nfpg.flow_pps(bigint, timestamptz, timestamptz) IS 'Packets per second, 1000*packets/duration_ms (integer), 0 for a zero or negative duration';

CREATE FUNCTION nfpg.flow_bps(bytes bigint, first_seen timestamptz, last_seen timestamptz)
RETURNS bigint LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF
AS 'MODULE_PATHNAME', 'nf_flow_bps';
COMMENT ON FUNCTION nfpg.flow_bps(bigint, timestamptz, timestamptz) IS 'Bits per second, 8000*bytes/duration_ms (integer), 0 for a zero or negative duration';

CREATE FUNCTION nfpg.flow_bpp(bytes bigint, packets bigint)
RETURNS bigint LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF
AS 'MODULE_PATHNAME', 'nf_flow_bpp';
COMMENT ON FUNCTION nfpg.flow_bpp(bigint, bigint) IS 'Bytes per packet (integer), 0 without packets';

-- Not STRICT: an absent stack (NULL) reads as all zero entries.
CREATE FUNCTION nfpg.mpls_label(mpls_labels integer[], k integer)
RETURNS integer LANGUAGE C IMMUTABLE PARALLEL SAFE LEAKPROOF
AS 'MODULE_PATHNAME', 'nf_mpls_label';
COMMENT ON FUNCTION nfpg.mpls_label(integer[], integer) IS 'Label (20 bit) of MPLS stack entry k (1..10); 0 when absent';

CREATE FUNCTION nfpg.mpls_exp(mpls_labels integer[], k integer)
RETURNS integer LANGUAGE C IMMUTABLE PARALLEL SAFE LEAKPROOF
AS 'MODULE_PATHNAME', 'nf_mpls_exp';
COMMENT ON FUNCTION nfpg.mpls_exp(integer[], integer) IS 'Experimental bits of MPLS stack entry k (1..10); 0 when absent';

CREATE FUNCTION nfpg.mpls_eos_label(mpls_labels integer[])
RETURNS bigint LANGUAGE C IMMUTABLE PARALLEL SAFE LEAKPROOF
AS 'MODULE_PATHNAME', 'nf_mpls_eos_label';
COMMENT ON FUNCTION nfpg.mpls_eos_label(integer[]) IS 'Label of the first bottom-of-stack entry; 4278190080 (0xFF000000) when none, as in nfdump';

CREATE FUNCTION nfpg.mpls_has_label(mpls_labels integer[], label integer)
RETURNS boolean LANGUAGE C IMMUTABLE PARALLEL SAFE LEAKPROOF
AS 'MODULE_PATHNAME', 'nf_mpls_has_label';
COMMENT ON FUNCTION nfpg.mpls_has_label(integer[], integer) IS 'True when any entry of the MPLS stack carries the label';

--------------------------------------------------------------------------------
-- Lookup indexes
--
-- The lookups operators make all day are one host, one subnet, one port over
-- hours or days.  Partitions still written to keep only the BRIN on time, so
-- ingest stays fast; once a partition is older than older_than its btree
-- indexes on the addresses and ports are built (<<= on inet becomes a btree
-- range scan).  Meant for pg_cron:
--   SELECT cron.schedule('nfpg-index', '*/10 * * * *', 'SELECT nfpg.index_partitions()');
--
-- Rows arrive in time order, so the flows of one host are spread over
-- nearly every page of a partition and a lookup reads about one page per
-- matching row.  With sort_by_source the partition is first rewritten
-- (CLUSTER) in the order (5-minute slot, src_addr): the source side of a
-- host, subnet or scanner lookup then reads a few runs of adjacent pages,
-- while the time BRIN still narrows a window to 5-minute slots.  CLUSTER
-- holds an ACCESS EXCLUSIVE lock on the partition while it rewrites it, so
-- queries reading that partition wait; hence it is not the default.
--------------------------------------------------------------------------------

CREATE FUNCTION nfpg.index_partitions(older_than interval DEFAULT '1 hour', max_partitions integer DEFAULT 24,
									  sort_by_source boolean DEFAULT false)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	p		record;
	col		text;
	done	integer := 0;
BEGIN
	FOR p IN SELECT relid, replace(relid::regclass::text, 'nfpg.', '') AS name FROM nfpg.partitions
			 WHERE indexed IS NULL AND upper_bound <= now() - older_than
			 ORDER BY upper_bound DESC LIMIT max_partitions
	LOOP
		-- before the lookup indexes exist, which CLUSTER would rebuild
		IF sort_by_source THEN
			EXECUTE format('CREATE INDEX %I ON %s (date_bin(''5 minutes'', first_seen, ''2000-01-01 00:00+00''), src_addr)',
						   p.name || '_sort_idx', p.relid);
			EXECUTE format('CLUSTER %s USING %I', p.relid, p.name || '_sort_idx');
			EXECUTE format('DROP INDEX nfpg.%I', p.name || '_sort_idx');
		END IF;
		FOREACH col IN ARRAY ARRAY['src_addr', 'dst_addr', 'src_port', 'dst_port'] LOOP
			EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %s (%I)',
						   p.name || '_' || col || '_idx', p.relid, col);
		END LOOP;
		-- A closed partition gets no more rows: fresh statistics now give
		-- the planner good row estimates for the new indexes.  (VACUUM, which
		-- sets the visibility map for index-only scans, cannot run inside a
		-- function: autovacuum or a pg_cron job does it, docs/filter.md.)
		EXECUTE format('ANALYZE %s', p.relid);
		UPDATE nfpg.partitions SET indexed = now() WHERE relid = p.relid;
		done := done + 1;
	END LOOP;
	RETURN done;
END
$$;
COMMENT ON FUNCTION nfpg.index_partitions(interval, integer, boolean) IS 'Build the host and port lookup indexes on partitions that ended more than older_than ago (newest first, at most max_partitions per call) and ANALYZE them, first rewriting each in (5-minute slot, src_addr) order when sort_by_source; returns how many were indexed';
REVOKE ALL ON FUNCTION nfpg.index_partitions(interval, integer, boolean) FROM PUBLIC;

