--------------------------------------------------------------------------------
-- Statistics and aggregation: nfdump -s, -a, -A, -b, -B
--
-- One C aggregate does the work (stat_*.c): a hash table on fixed binary
-- keys with nfdump's counters, parallel safe (combine, serialize,
-- deserialize), ranked by a bounded heap in the final function.
--   nfpg.nf_topn(spec, counters..., VARIADIC keys)          -> nfpg.stat_row[]
--   nfpg.nf_topn_records(spec, counters..., VARIADIC keys)  -> nfpg.flows[]
-- nf_stat(), nf_aggregate() and nf_summary() build the query around them
-- from nfdump's words.  docs/statistics.md has every nfdump command line
-- next to its nfpg query.
--------------------------------------------------------------------------------

CREATE TYPE nfpg.stat_row AS (
	value				text,
	proto				smallint,
	first_seen			timestamptz,
	last_seen			timestamptz,
	duration			interval,
	flows				bigint,
	flows_pct			double precision,
	packets				bigint,
	packets_pct			double precision,
	bytes				bigint,
	bytes_pct			double precision,
	pps					bigint,
	bps					bigint,
	bpp					bigint
);
COMMENT ON TYPE nfpg.stat_row IS 'One row of an nfdump -s table: the key as nfdump prints it, its protocol (NULL = any), time span, counters with percentages of the run totals, and rates';

-- The transition function's planner support loads the library while a
-- statistic is planned, so that the scans that aggregate are offered from a
-- session's first query on (topn_pushdown.c).
CREATE FUNCTION nfpg.nf_topn_support(internal)
RETURNS internal AS 'MODULE_PATHNAME', 'nf_topn_support' LANGUAGE C STRICT;
COMMENT ON FUNCTION nfpg.nf_topn_support(internal) IS 'Planner support of nf_topn_trans: loads the library before the grouping is planned';

CREATE FUNCTION nfpg.nf_topn_trans(internal, text, integer, bigint, bigint, bigint, bigint,
	timestamptz, timestamptz, smallint, smallint, VARIADIC "any")
RETURNS internal AS 'MODULE_PATHNAME', 'nf_topn_trans' LANGUAGE C PARALLEL SAFE
SUPPORT nfpg.nf_topn_support;
COMMENT ON FUNCTION nfpg.nf_topn_trans(internal, text, integer, bigint, bigint, bigint, bigint, timestamptz, timestamptz, smallint, smallint, "any") IS 'Transition function of nf_topn and nf_topn_records';

CREATE FUNCTION nfpg.nf_topn_combine(internal, internal)
RETURNS internal AS 'MODULE_PATHNAME', 'nf_topn_combine' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION nfpg.nf_topn_combine(internal, internal) IS 'Combine function of nf_topn and nf_topn_records (merges partial hash tables)';

CREATE FUNCTION nfpg.nf_topn_serial(internal)
RETURNS bytea AS 'MODULE_PATHNAME', 'nf_topn_serial' LANGUAGE C STRICT PARALLEL SAFE;
COMMENT ON FUNCTION nfpg.nf_topn_serial(internal) IS 'Serialize function of nf_topn and nf_topn_records';

CREATE FUNCTION nfpg.nf_topn_deserial(bytea, internal)
RETURNS internal AS 'MODULE_PATHNAME', 'nf_topn_deserial' LANGUAGE C STRICT PARALLEL SAFE;
COMMENT ON FUNCTION nfpg.nf_topn_deserial(bytea, internal) IS 'Deserialize function of nf_topn and nf_topn_records';

CREATE FUNCTION nfpg.nf_topn_final(internal)
RETURNS nfpg.stat_row[] AS 'MODULE_PATHNAME', 'nf_topn_final' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION nfpg.nf_topn_final(internal) IS 'Final function of nf_topn: the top groups as nfdump -s rows';

CREATE FUNCTION nfpg.nf_topn_records_final(internal)
RETURNS nfpg.flow[] AS 'MODULE_PATHNAME', 'nf_topn_records_final' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION nfpg.nf_topn_records_final(internal) IS 'Final function of nf_topn_records: the top groups as aggregated flow records';

CREATE AGGREGATE nfpg.nf_topn(spec text, flows integer, packets bigint, bytes bigint,
	out_packets bigint, out_bytes bigint, first_seen timestamptz, last_seen timestamptz,
	tcp_flags smallint, tos smallint, VARIADIC keys "any") (
	SFUNC = nfpg.nf_topn_trans,
	STYPE = internal,
	FINALFUNC = nfpg.nf_topn_final,
	COMBINEFUNC = nfpg.nf_topn_combine,
	SERIALFUNC = nfpg.nf_topn_serial,
	DESERIALFUNC = nfpg.nf_topn_deserial,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE nfpg.nf_topn(text, integer, bigint, bigint, bigint, bigint, timestamptz, timestamptz, smallint, smallint, "any") IS
'Exact Top-N statistic usable in any GROUP BY, parallel safe. spec = ''stat|stat2 ORDER[:a|:d] N [FIELD,...]'' (docs/statistics.md); keys are inet, integer, smallint, bigint, macaddr or boolean expressions (stat2: source half then destination half)';

CREATE AGGREGATE nfpg.nf_topn_records(spec text, flows integer, packets bigint, bytes bigint,
	out_packets bigint, out_bytes bigint, first_seen timestamptz, last_seen timestamptz,
	tcp_flags smallint, tos smallint, VARIADIC keys "any") (
	SFUNC = nfpg.nf_topn_trans,
	STYPE = internal,
	FINALFUNC = nfpg.nf_topn_records_final,
	COMBINEFUNC = nfpg.nf_topn_combine,
	SERIALFUNC = nfpg.nf_topn_serial,
	DESERIALFUNC = nfpg.nf_topn_deserial,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE nfpg.nf_topn_records(text, integer, bigint, bigint, bigint, bigint, timestamptz, timestamptz, smallint, smallint, "any") IS
'Aggregated flow records (nfdump -a/-A/-b/-B) ranked by an order key, parallel safe. spec = ''a|A|b|B ORDER[:a|:d] N COLUMN[/4:L|/6:L],...'' naming the nfpg.flows column each key fills';

-- nfdump's statistic and its Summary line in one aggregate: the top groups
-- and the totals of every flow added (what passed the filter).  nfdump()
-- (nfpg-dump) takes both from it, and a partition's scan computes it itself
-- as it does nf_topn (heap_agg.c, pack_agg.c): one partial state, its own
-- final function.
CREATE TYPE nfpg.stat_summary AS (
	rows				nfpg.stat_row[],
	passed				bigint,
	flows				bigint,
	bytes				bigint,
	packets				bigint,
	first_seen			timestamptz,
	last_seen			timestamptz
);
COMMENT ON TYPE nfpg.stat_summary IS 'An nfdump -s table (rows) and the totals of the flows it counted: records, flows, bytes and packets (both directions), first and last seen (NULL when none)';

CREATE FUNCTION nfpg.nf_topn_summary_final(internal)
RETURNS nfpg.stat_summary AS 'MODULE_PATHNAME', 'nf_topn_summary_final' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION nfpg.nf_topn_summary_final(internal) IS 'Final function of nf_topn_summary: the top groups and the totals';

CREATE AGGREGATE nfpg.nf_topn_summary(spec text, flows integer, packets bigint, bytes bigint,
	out_packets bigint, out_bytes bigint, first_seen timestamptz, last_seen timestamptz,
	tcp_flags smallint, tos smallint, VARIADIC keys "any") (
	SFUNC = nfpg.nf_topn_trans,
	STYPE = internal,
	FINALFUNC = nfpg.nf_topn_summary_final,
	COMBINEFUNC = nfpg.nf_topn_combine,
	SERIALFUNC = nfpg.nf_topn_serial,
	DESERIALFUNC = nfpg.nf_topn_deserial,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE nfpg.nf_topn_summary(text, integer, bigint, bigint, bigint, bigint, timestamptz, timestamptz, smallint, smallint, "any") IS
'nf_topn with the totals of the flows it counted (nfpg.stat_summary): nfdump''s -s table and its Summary line in one pass';

-- The WHERE clause shared by nf_stat, nf_aggregate and nf_summary: the
-- filter is translated by nf_filter_sql() (never pasted); the time window
-- ($2, $3) is nfdump -t: the flow lies entirely inside.
CREATE FUNCTION nfpg.nf_stat_where(filter text, t_from timestamptz, t_to timestamptz)
RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	w	text := 'true';
BEGIN
	IF filter IS NOT NULL THEN
		w := '(' || nfpg.nf_filter_sql(filter) || ')';
	END IF;
	IF t_from IS NOT NULL THEN
		w := w || ' AND first_seen >= $2';
	END IF;
	IF t_to IS NOT NULL THEN
		w := w || ' AND first_seen <= $3 AND last_seen <= $3';
	END IF;
	RETURN w;
END
$$;
COMMENT ON FUNCTION nfpg.nf_stat_where(text, timestamptz, timestamptz) IS 'WHERE clause over nfpg.flows for an nfdump filter and -t window (parameters $2, $3); used by nf_stat and nf_aggregate';

-- nfdump -s type -> (two-sided?, key expressions, field names for the spec)
CREATE FUNCTION nfpg.nf_stat_keys(stat_type text, OUT two_sided boolean, OUT keys text, OUT fields text)
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	t		text := lower(stat_type);
	with_p	boolean := false;
	src		text;
	dst		text;
	f		text;
BEGIN
	IF t LIKE '%:p' THEN
		t := left(t, -2);
		with_p := true;
	END IF;
	two_sided := false;
	CASE
		WHEN t = 'ip'     THEN src := 'src_addr';   dst := 'dst_addr';
		WHEN t = 'port'   THEN src := 'src_port';   dst := 'dst_port';
		WHEN t = 'as'     THEN src := 'src_as';     dst := 'dst_as';
		WHEN t = 'if'     THEN src := 'in_if';      dst := 'out_if';
		WHEN t = 'mask'   THEN src := 'src_mask';   dst := 'dst_mask';
		WHEN t = 'vlan'   THEN src := 'src_vlan';   dst := 'dst_vlan';
		WHEN t = 'srcmac' THEN src := 'in_src_mac'; dst := 'out_src_mac';
		WHEN t = 'dstmac' THEN src := 'out_dst_mac'; dst := 'in_dst_mac';
		WHEN t = 'outmac' THEN src := 'out_src_mac'; dst := 'out_dst_mac';
		ELSE
			src := CASE t
				WHEN 'srcip' THEN 'src_addr'		WHEN 'dstip' THEN 'dst_addr'
				WHEN 'nhip' THEN 'next_hop'			WHEN 'nhbip' THEN 'bgp_next_hop'
				WHEN 'router' THEN 'exporter'
				WHEN 'srcport' THEN 'src_port'		WHEN 'dstport' THEN 'dst_port'
				WHEN 'proto' THEN 'proto'
				WHEN 'tos' THEN 'src_tos'			WHEN 'srctos' THEN 'src_tos'
				WHEN 'dsttos' THEN 'dst_tos'		WHEN 'dir' THEN 'direction'
				WHEN 'srcas' THEN 'src_as'			WHEN 'dstas' THEN 'dst_as'
				WHEN 'prevas' THEN 'prev_as'		WHEN 'nextas' THEN 'next_as'
				WHEN 'inif' THEN 'in_if'			WHEN 'outif' THEN 'out_if'
				WHEN 'srcmask' THEN 'src_mask'		WHEN 'dstmask' THEN 'dst_mask'
				WHEN 'srcvlan' THEN 'src_vlan'		WHEN 'dstvlan' THEN 'dst_vlan'
				WHEN 'insrcmac' THEN 'in_src_mac'	WHEN 'inmac' THEN 'in_src_mac'
				WHEN 'outdstmac' THEN 'out_dst_mac'	WHEN 'indstmac' THEN 'in_dst_mac'
				WHEN 'outsrcmac' THEN 'out_src_mac'
				WHEN 'odid' THEN 'source_id'
				WHEN 'record' THEN 'src_addr, dst_addr, src_port, dst_port, proto'
				ELSE NULL END;
			IF src IS NULL AND t ~ '^mpls([1-9]|10)$' THEN
				src := format('mpls_labels[%s]', substr(t, 5));
			END IF;
	END CASE;
	IF src IS NULL THEN
		IF t IN ('cl', 'sl', 'al', 'nbar', 'ja3', 'srcgeo', 'dstgeo', 'geo', 'opid', 'ivrf', 'evrf',
				 'event', 'nevent', 'xevent', 'xsrcip', 'xdstip', 'xsrcport', 'xdstport', 'iacl',
				 'iace', 'ixace', 'eacl', 'eace', 'exace', 'nsrcip', 'ndstip', 'nsrcport', 'ndstport') THEN
			RAISE EXCEPTION 'nf_stat: statistic "%" needs a field nfpg.flows does not store', stat_type
				USING ERRCODE = 'feature_not_supported';
		END IF;
		RAISE EXCEPTION 'nf_stat: unknown statistic "%"', stat_type
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Types are those of nfdump -s: ip, srcip, dstip, port, srcport, dstport, proto, as, if, tos, mask, vlan, router, record, ...';
	END IF;
	f := CASE WHEN t = 'record' THEN 'src_addr,dst_addr,src_port,dst_port,proto'
			  WHEN t ~ '^mpls' THEN src || ':mpls'
			  WHEN t = 'odid' THEN 'source_id:hex'
			  ELSE src END;
	f := replace(replace(f, '[', '_'), ']', '');
	IF dst IS NOT NULL THEN
		two_sided := true;
		keys := src || (CASE WHEN with_p THEN ', proto' ELSE '' END)
			 || ', ' || dst || (CASE WHEN with_p THEN ', proto' ELSE '' END);
	ELSE
		keys := src || (CASE WHEN with_p AND t <> 'proto' THEN ', proto' ELSE '' END);
	END IF;
	fields := f || (CASE WHEN with_p AND t NOT IN ('proto', 'record') THEN ',proto' ELSE '' END);
END
$$;
COMMENT ON FUNCTION nfpg.nf_stat_keys(text) IS 'The nfpg.flows key expressions of an nfdump -s statistic type (with :p for per-protocol)';

-- Every partition computes its share of a Top-N statistic inside its scan,
-- a packed hour in its wrapper's scan (pack_agg.c), a row-store hour in a
-- custom scan (heap_agg.c), which PostgreSQL plans only with partitionwise
-- aggregation: a partial aggregate per partition, merged by one Finalize
-- Aggregate.  nf_stat and nf_aggregate switch it on for their query.
-- Returns the setting to put back afterwards.
CREATE FUNCTION nfpg.nf_topn_plan()
RETURNS text
AS 'MODULE_PATHNAME', 'nf_topn_plan'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION nfpg.nf_topn_plan() IS 'Switch partitionwise aggregation on for this transaction, so that every partition computes its share of a Top-N statistic in its scan; returns the previous setting';

CREATE FUNCTION nfpg.nf_stat(stat_type text, order_by text DEFAULT 'flows', top integer DEFAULT 10,
	filter text DEFAULT NULL, t_from timestamptz DEFAULT NULL, t_to timestamptz DEFAULT NULL)
RETURNS TABLE (rank bigint, value text, proto smallint, first_seen timestamptz, last_seen timestamptz,
	duration interval, flows bigint, flows_pct double precision, packets bigint,
	packets_pct double precision, bytes bigint, bytes_pct double precision,
	pps bigint, bps bigint, bpp bigint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	k		record;
	spec	text;
	prev	text;
BEGIN
	-- nfdump's spelling 'ip/bytes': the order after the slash wins
	IF position('/' IN stat_type) > 0 THEN
		order_by := split_part(stat_type, '/', 2);
		stat_type := split_part(stat_type, '/', 1);
	END IF;
	k := nfpg.nf_stat_keys(stat_type);
	IF top IS NULL OR top < 0 THEN
		RAISE EXCEPTION 'nf_stat: top must be 0 (all) or more' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF order_by IS NULL OR order_by !~ '^[a-z]+(:[ad])?$' THEN
		RAISE EXCEPTION 'nf_stat: bad order key "%"', order_by USING ERRCODE = 'invalid_parameter_value';
	END IF;
	spec := format('%s %s %s %s', CASE WHEN k.two_sided THEN 'stat2' ELSE 'stat' END,
				   lower(order_by), top, k.fields);
	prev := nfpg.nf_topn_plan();
	RETURN QUERY EXECUTE format(
		'SELECT s.ord, s.value, s.proto, s.first_seen, s.last_seen, s.duration, s.flows,'
		' s.flows_pct, s.packets, s.packets_pct, s.bytes, s.bytes_pct, s.pps, s.bps, s.bpp'
		' FROM unnest((%s))'
		' WITH ORDINALITY AS s(value, proto, first_seen, last_seen, duration, flows, flows_pct,'
		' packets, packets_pct, bytes, bytes_pct, pps, bps, bpp, ord)',
		nfpg.nf_topn_sql('nf_topn', spec, 'flows, packets, bytes, out_packets, out_bytes,'
						 ' first_seen, last_seen, tcp_flags, src_tos, ' || k.keys,
						 nfpg.nf_stat_where(filter, t_from, t_to)))
		USING NULL::text, t_from, t_to;
	PERFORM set_config('enable_partitionwise_aggregate', prev, true);
END
$$;
COMMENT ON FUNCTION nfpg.nf_stat(text, text, integer, text, timestamptz, timestamptz) IS
'nfdump -s stat_type/order_by -n top [filter] [-t t_from-t_to]: the Top-N table with nfdump''s counting rules, percentages and rates (order_by may end in :a or :d; top 0 = all)';

-- nfdump -A field -> (key expression, nfpg.flows column, spec mask)
CREATE FUNCTION nfpg.nf_aggregate_key(field text, OUT expr text, OUT spec text)
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	f		text := lower(btrim(field));
	m		text[];
	col		text;
	maxbits	integer;
BEGIN
	m := regexp_match(f, '^(src|dst)ip([46])/([0-9]+)$');
	IF m IS NOT NULL THEN
		maxbits := CASE m[2] WHEN '4' THEN 32 ELSE 128 END;
		IF m[3]::int < 1 OR m[3]::int > maxbits THEN
			RAISE EXCEPTION 'nf_aggregate: % bits out of range in "%"', m[3], field
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
		expr := m[1] || '_addr';
		spec := format('%s/%s:%s', expr, m[2], m[3]);
		RETURN;
	END IF;
	IF f ~ '^(src|dst)ip[46]?(/.*)?$' AND f NOT IN ('srcip', 'dstip') THEN
		RAISE EXCEPTION 'nf_aggregate: "%" needs src4/dst4 or src6/dst6 with a number of subnet bits, e.g. srcip4/24', field
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF f IN ('srcnet', 'dstnet') THEN
		col := left(f, 3);
		-- the masked address as a host address: nfdump keys on the address only
		expr := format('set_masklen(network(set_masklen(%1$s_addr, coalesce(%1$s_mask, 0)))::inet,'
					   ' CASE family(%1$s_addr) WHEN 4 THEN 32 ELSE 128 END)', col);
		spec := col || '_addr';
		RETURN;
	END IF;
	col := CASE f
		WHEN 'srcip' THEN 'src_addr'		WHEN 'dstip' THEN 'dst_addr'
		WHEN 'srcport' THEN 'src_port'		WHEN 'dstport' THEN 'dst_port'
		WHEN 'proto' THEN 'proto'
		WHEN 'tos' THEN 'src_tos'			WHEN 'srctos' THEN 'src_tos'
		WHEN 'dsttos' THEN 'dst_tos'
		WHEN 'srcas' THEN 'src_as'			WHEN 'dstas' THEN 'dst_as'
		WHEN 'nextas' THEN 'next_as'		WHEN 'prevas' THEN 'prev_as'
		WHEN 'inif' THEN 'in_if'			WHEN 'outif' THEN 'out_if'
		WHEN 'srcvlan' THEN 'src_vlan'		WHEN 'dstvlan' THEN 'dst_vlan'
		WHEN 'srcmask' THEN 'src_mask'		WHEN 'dstmask' THEN 'dst_mask'
		WHEN 'next' THEN 'next_hop'			WHEN 'bgpnext' THEN 'bgp_next_hop'
		WHEN 'router' THEN 'exporter'
		WHEN 'insrcmac' THEN 'in_src_mac'	WHEN 'outdstmac' THEN 'out_dst_mac'
		WHEN 'indstmac' THEN 'in_dst_mac'	WHEN 'outsrcmac' THEN 'out_src_mac'
		WHEN 'odid' THEN 'source_id'
		ELSE NULL END;
	IF col IS NULL THEN
		RAISE EXCEPTION 'nf_aggregate: unknown or unsupported aggregation field "%"', field
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Fields are those of nfdump -A: srcip, dstip, srcip4/L, dstip6/L, srcnet, srcport, dstport, proto, tos, srcas, inif, srcvlan, srcmask, next, router, ...';
	END IF;
	expr := col;
	spec := col;
END
$$;
COMMENT ON FUNCTION nfpg.nf_aggregate_key(text) IS 'The nfpg.flows key expression and spec field of one nfdump -A aggregation field';

CREATE FUNCTION nfpg.nf_aggregate(fields text DEFAULT NULL, order_by text DEFAULT NULL,
	top integer DEFAULT 0, filter text DEFAULT NULL, t_from timestamptz DEFAULT NULL,
	t_to timestamptz DEFAULT NULL, bidirectional boolean DEFAULT false,
	guess_direction boolean DEFAULT false)
RETURNS SETOF nfpg.flow
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	mode	text;
	keys	text;
	names	text;
	k		record;
	seen	text[] := '{}';
	prev	text;
BEGIN
	IF top IS NULL OR top < 0 THEN
		RAISE EXCEPTION 'nf_aggregate: top must be 0 (all) or more' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF order_by IS NOT NULL AND order_by !~ '^[a-z]+(:[ad])?$' THEN
		RAISE EXCEPTION 'nf_aggregate: bad order key "%"', order_by USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF fields IS NOT NULL AND (bidirectional OR guess_direction) THEN
		RAISE EXCEPTION 'nf_aggregate: can not set custom aggregation in bidir mode'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF fields IS NULL THEN
		mode := CASE WHEN guess_direction THEN 'B' WHEN bidirectional THEN 'b' ELSE 'a' END;
		keys := 'src_addr, dst_addr, src_port, dst_port, proto';
		names := 'src_addr,dst_addr,src_port,dst_port,proto';
	ELSE
		mode := 'A';
		FOREACH fields IN ARRAY string_to_array(fields, ',') LOOP
			k := nfpg.nf_aggregate_key(fields);
			IF split_part(k.spec, '/', 1) = ANY (seen) THEN
				RAISE EXCEPTION 'nf_aggregate: duplicate aggregation mask "%"', btrim(fields)
					USING ERRCODE = 'invalid_parameter_value';
			END IF;
			seen := seen || split_part(k.spec, '/', 1);
			keys := concat_ws(', ', keys, k.expr);
			names := concat_ws(',', names, k.spec);
		END LOOP;
		IF keys IS NULL THEN
			RAISE EXCEPTION 'nf_aggregate: no aggregation field in "%"', fields
				USING ERRCODE = 'invalid_parameter_value',
					  HINT = 'Name fields as nfdump -A does, e.g. ''srcip,dstport'', or pass NULL for -a.';
		END IF;
	END IF;
	prev := nfpg.nf_topn_plan();
	RETURN QUERY EXECUTE format('SELECT * FROM unnest((%s))',
		nfpg.nf_topn_sql('nf_topn_records', format('%s %s %s %s', mode, coalesce(lower(order_by), '-'), top, names),
						 'flows, packets, bytes, out_packets, out_bytes, first_seen, last_seen, tcp_flags, src_tos, ' || keys,
						 nfpg.nf_stat_where(filter, t_from, t_to)))
		USING NULL::text, t_from, t_to;
	PERFORM set_config('enable_partitionwise_aggregate', prev, true);
END
$$;
COMMENT ON FUNCTION nfpg.nf_aggregate(text, text, integer, text, timestamptz, timestamptz, boolean, boolean) IS
'nfdump -a (fields NULL), -A fields (e.g. ''srcip4/24,dstport''), -b (bidirectional), -B (guess_direction), ordered like -O/-s record (order_by, default tstart) and limited to top (0 = all); returns aggregated nfpg.flows rows for nf_format()';

CREATE FUNCTION nfpg.nf_summary(filter text DEFAULT NULL, t_from timestamptz DEFAULT NULL,
	t_to timestamptz DEFAULT NULL)
RETURNS TABLE (flows bigint, bytes bigint, packets bigint, avg_bps bigint, avg_pps bigint,
	avg_bpp bigint, first_seen timestamptz, last_seen timestamptz, records bigint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	parts	text;
BEGIN
	-- Sums, minima and maxima of each source (one per node on a
	-- coordinator, which ships the aggregates), then of the sources.  The
	-- per-source aggregates avoid greatest() and coalesce(), which
	-- postgres_fdw in PostgreSQL 15 does not ship: a flow count below 1
	-- counts as 1, a NULL out counter as 0, as nfdump reads them.
	SELECT string_agg(format('SELECT sum(flows) FILTER (WHERE flows >= 1) AS fl, count(*) FILTER (WHERE flows >= 1) AS nfl,'
		' sum(bytes) AS byt, sum(out_bytes) AS obyt, sum(packets) AS pkt, sum(out_packets) AS opkt,'
		' min(first_seen) AS fs, max(last_seen) AS ls, count(*) AS n FROM %s WHERE %s',
		src, nfpg.nf_stat_where(filter, t_from, t_to)), ' UNION ALL ')
	  INTO parts FROM nfpg.nf_flow_sources() src;
	RETURN QUERY EXECUTE format(
		-- the sources' columns summed in their order: a subquery read in
		-- another order is not a bare foreign scan, and the nodes would be
		-- queried one after the other instead of at once
		'WITH s AS (SELECT sum(fl) AS fl, sum(nfl) AS nfl, sum(byt) AS byt, sum(obyt) AS obyt, sum(pkt) AS pkt,'
		' sum(opkt) AS opkt, min(fs) AS fs, max(ls) AS ls, sum(n) AS n FROM (%s) p),'
		' t AS (SELECT (coalesce(fl, 0) + n - nfl)::bigint AS fl,'
		' (byt + coalesce(obyt, 0))::bigint AS byt, (pkt + coalesce(opkt, 0))::bigint AS pkt,'
		' (extract(epoch FROM ls) * 1000 - extract(epoch FROM fs) * 1000) / 1000.0 AS span,'
		' fs, ls, n::bigint AS n FROM s)'
		' SELECT coalesce(fl, 0), coalesce(byt, 0), coalesce(pkt, 0),'
		' CASE WHEN span > 0 THEN trunc(8 * byt / span)::bigint ELSE 0 END,'
		' CASE WHEN span > 0 THEN trunc(pkt / span)::bigint ELSE 0 END,'
		' CASE WHEN pkt > 0 THEN byt / pkt ELSE 0 END, fs, ls, coalesce(n, 0) FROM t',
		parts)
		USING NULL::text, t_from, t_to;
END
$$;
COMMENT ON FUNCTION nfpg.nf_summary(text, timestamptz, timestamptz) IS
'nfdump''s summary line for the flows passing a filter: total flows (sum of flow counts), bytes and packets (in + out), avg bps/pps/bpp over the span, first/last seen, record count';

GRANT EXECUTE ON FUNCTION nfpg.nf_stat(text, text, integer, text, timestamptz, timestamptz),
	nfpg.nf_aggregate(text, text, integer, text, timestamptz, timestamptz, boolean, boolean),
	nfpg.nf_summary(text, timestamptz, timestamptz) TO nfpg_reader;
