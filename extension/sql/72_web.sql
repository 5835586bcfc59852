--------------------------------------------------------------------------------
-- The web console's queries (nfpg-web, web/): NfSen's pictures as functions
--
-- nfpg-web calls only these functions and the ones they build on, with bind
-- parameters; no SQL comes from the browser.  They are ordinary STABLE
-- plpgsql functions, not SECURITY DEFINER: they run with the rights of the
-- role that logged in to the page, so column grants, row-level security and
-- anonymized views hold in the page exactly as in psql.  Grafana panels can
-- call the same functions (web/grafana/).
--
-- Filters are compiled by nf_filter_sql() and only the compiled condition is
-- spliced into the statement (format %s), as nf_stat does; every value
-- travels as a parameter (USING).  A drill-down filter is compiled alone
-- first, so an error's position refers to the text the user typed, not to
-- the profile filter it is combined with.
--
-- plpgsql, not LANGUAGE sql: the tables they read (nfpg.flows,
-- nfpg.profile_series) are user data created by nfpg.setup(), after this
-- script.
--------------------------------------------------------------------------------

-- The 'live' profile (all flows) the overview shows by default; setup()
-- calls it.  Idempotent: an existing 'live' profile is left as it is.
CREATE FUNCTION nfpg.nf_live_profile(tstart timestamptz DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM nfpg.profiles p WHERE p.profile = 'live') THEN
		PERFORM nfpg.nf_profile_create('live', 'any', tstart, NULL, NULL, 'All flows (created by nfpg.setup)');
	END IF;
	RETURN 'live';
END
$$;
COMMENT ON FUNCTION nfpg.nf_live_profile(timestamptz) IS 'Create the continuous profile ''live'' (filter any) unless it exists; the web overview''s default profile';

-- NfSen's graph data as rates: per channel and slot, flows/s, packets/s and
-- bits/s in total and per protocol (a slot is 300 s).
CREATE FUNCTION nfpg.nf_profile_rates(profile text, from_ts timestamptz, to_ts timestamptz)
RETURNS TABLE (channel text, slot timestamptz,
			   flows double precision, flows_tcp double precision, flows_udp double precision,
			   flows_icmp double precision, flows_other double precision,
			   packets double precision, packets_tcp double precision, packets_udp double precision,
			   packets_icmp double precision, packets_other double precision,
			   bits double precision, bits_tcp double precision, bits_udp double precision,
			   bits_icmp double precision, bits_other double precision)
LANGUAGE plpgsql STABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM nfpg.profiles p WHERE p.profile = $1) THEN
		RAISE EXCEPTION 'profile "%" does not exist', $1 USING ERRCODE = 'undefined_object';
	END IF;
	RETURN QUERY
	SELECT s.channel, s.slot,
		   s.flows::float8 / 300, s.flows_tcp::float8 / 300, s.flows_udp::float8 / 300,
		   s.flows_icmp::float8 / 300, s.flows_other::float8 / 300,
		   s.packets::float8 / 300, s.packets_tcp::float8 / 300, s.packets_udp::float8 / 300,
		   s.packets_icmp::float8 / 300, s.packets_other::float8 / 300,
		   s.bytes::float8 * 8 / 300, s.bytes_tcp::float8 * 8 / 300, s.bytes_udp::float8 * 8 / 300,
		   s.bytes_icmp::float8 * 8 / 300, s.bytes_other::float8 * 8 / 300
	  FROM nfpg.profile_series s
	 WHERE s.profile = $1 AND s.slot >= $2 AND s.slot < $3
	 ORDER BY s.channel, s.slot;
END
$$;
COMMENT ON FUNCTION nfpg.nf_profile_rates(text, timestamptz, timestamptz) IS 'The series of a profile''s slots in [from_ts, to_ts), every channel, as flows/s, packets/s and bits/s in total and per protocol';

-- NfSen's statistics summary: per channel, the sums over a window of slots.
CREATE FUNCTION nfpg.nf_profile_totals(profile text, from_ts timestamptz, to_ts timestamptz)
RETURNS TABLE (channel text, slots bigint,
			   flows numeric, flows_tcp numeric, flows_udp numeric, flows_icmp numeric, flows_other numeric,
			   packets numeric, packets_tcp numeric, packets_udp numeric, packets_icmp numeric, packets_other numeric,
			   bytes numeric, bytes_tcp numeric, bytes_udp numeric, bytes_icmp numeric, bytes_other numeric)
LANGUAGE plpgsql STABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM nfpg.profiles p WHERE p.profile = $1) THEN
		RAISE EXCEPTION 'profile "%" does not exist', $1 USING ERRCODE = 'undefined_object';
	END IF;
	RETURN QUERY
	SELECT s.channel, count(*),
		   sum(s.flows), sum(s.flows_tcp), sum(s.flows_udp), sum(s.flows_icmp), sum(s.flows_other),
		   sum(s.packets), sum(s.packets_tcp), sum(s.packets_udp), sum(s.packets_icmp), sum(s.packets_other),
		   sum(s.bytes), sum(s.bytes_tcp), sum(s.bytes_udp), sum(s.bytes_icmp), sum(s.bytes_other)
	  FROM nfpg.profile_series s
	 WHERE s.profile = $1 AND s.slot >= $2 AND s.slot < $3
	 GROUP BY s.channel ORDER BY s.channel;
END
$$;
COMMENT ON FUNCTION nfpg.nf_profile_totals(text, timestamptz, timestamptz) IS 'Per channel, the number of built slots and the sums of flows, packets and bytes (total and per protocol) over the slots in [from_ts, to_ts)';

-- The nfdump filter of a drill-down: the profile's filter and the one typed.
CREATE FUNCTION nfpg.nf_drill_filter(profile text, filter text)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	base	text := nfpg.nf_profile_filter(coalesce(profile, 'live'));
BEGIN
	IF filter IS NULL OR btrim(filter) = '' THEN
		RETURN base;
	END IF;
	PERFORM nfpg.nf_filter_sql(filter);		-- errors name positions in the typed text
	IF btrim(lower(base)) = 'any' THEN
		RETURN filter;
	END IF;
	RETURN format('(%s) and (%s)', base, filter);
END
$$;
COMMENT ON FUNCTION nfpg.nf_drill_filter(text, text) IS 'The nfdump filter selecting a profile''s flows that also match filter (validated alone first, so errors give positions in it)';

-- Buckets of [from_ts, to_ts): bucket width between 1 minute and 1 day, and
-- no more than 20000 of them (a year of 30-minute points), so a mistyped
-- window cannot make the server build millions of rows.
CREATE FUNCTION nfpg.nf_web_buckets(from_ts timestamptz, to_ts timestamptz, bucket interval)
RETURNS SETOF timestamptz
LANGUAGE plpgsql IMMUTABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF bucket < interval '1 minute' OR bucket > interval '1 day' THEN
		RAISE EXCEPTION 'bucket % is outside 1 minute .. 1 day', bucket USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF to_ts <= from_ts THEN
		RAISE EXCEPTION 'the window ends (%) before it starts (%)', to_ts, from_ts USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF extract(epoch FROM to_ts - from_ts) / extract(epoch FROM bucket) > 20000 THEN
		RAISE EXCEPTION 'window of % would need more than 20000 buckets of %', to_ts - from_ts, bucket
			USING ERRCODE = 'program_limit_exceeded';
	END IF;
	RETURN QUERY SELECT generate_series(date_bin(bucket, from_ts, '2000-01-01 00:00+00'),
										to_ts - interval '1 microsecond', bucket);
END
$$;
COMMENT ON FUNCTION nfpg.nf_web_buckets(timestamptz, timestamptz, interval) IS 'The buckets (aligned to 2000-01-01 UTC, like 5-minute slots) overlapping [from_ts, to_ts); checks the width and count';

-- "Graph any filter": a series straight from nfpg.flows for a filter typed
-- now.  Flows count in the bucket of their first_seen, as in profile_series.
-- With shift, the window [from_ts - shift, to_ts - shift) is counted and its
-- buckets are reported shifted forward: the previous-period overlay.
CREATE FUNCTION nfpg.nf_filter_series(filter text, from_ts timestamptz, to_ts timestamptz,
									  bucket interval DEFAULT '5 minutes',
									  shift interval DEFAULT '0')
RETURNS TABLE (slot timestamptz, flows bigint, packets bigint, bytes bigint,
			   flows_s double precision, packets_s double precision, bits_s double precision)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	cond	text := nfpg.nf_filter_sql(coalesce(nullif(btrim(filter), ''), 'any'));
	secs	double precision := extract(epoch FROM bucket);
	parts	text;
BEGIN
	-- per source (each node of a coordinator, which sums on the node), then added up
	SELECT string_agg(format('SELECT date_bin($3, first_seen, ''2000-01-01 00:00+00'') AS slot,'
							 ' sum(flows) AS flows, sum(packets) AS packets, sum(bytes) AS bytes'
							 ' FROM %s WHERE first_seen >= $1 AND first_seen < $2 AND (%s) GROUP BY 1',
							 src, cond), ' UNION ALL ')
	  INTO parts FROM nfpg.nf_flow_sources() src;
	RETURN QUERY EXECUTE format($q$
		SELECT b.slot + $5, coalesce(m.flows, 0)::bigint, coalesce(m.packets, 0)::bigint,
			   coalesce(m.bytes, 0)::bigint,
			   coalesce(m.flows, 0) / $4, coalesce(m.packets, 0) / $4, coalesce(m.bytes, 0) * 8 / $4
		  FROM nfpg.nf_web_buckets($1, $2, $3) b(slot)
		  LEFT JOIN (SELECT p.slot, sum(p.flows) AS flows, sum(p.packets) AS packets, sum(p.bytes) AS bytes
					   FROM (%s) p GROUP BY 1) m USING (slot)
		 ORDER BY b.slot
	$q$, parts)
	USING from_ts - shift, to_ts - shift, bucket, secs, shift;
END
$$;
COMMENT ON FUNCTION nfpg.nf_filter_series(text, timestamptz, timestamptz, interval, interval) IS 'Series of the flows matching an nfdump filter with first_seen in [from_ts - shift, to_ts - shift), per bucket (shifted forward by shift): sums and flows/s, packets/s, bits/s';

-- Top-N over time (NfSen's PortTracker, for any filter): the top keys of a
-- one-sided nfdump -s statistic over the whole window, then per bucket the
-- rate of each and of everything else ("Other", which includes flows
-- without the field).  Two-sided statistics (ip, port, as: a flow counts for
-- its source and its destination) do not add up to the total, so they are
-- refused: use srcip/dstip, srcport/dstport, srcas/dstas.
CREATE FUNCTION nfpg.nf_topn_series(stat_type text, order_by text, top integer, filter text,
									from_ts timestamptz, to_ts timestamptz,
									bucket interval DEFAULT '5 minutes')
RETURNS TABLE (slot timestamptz, key text, rank integer, value double precision)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	k		record := nfpg.nf_stat_keys(stat_type);
	cond	text := nfpg.nf_filter_sql(coalesce(nullif(btrim(filter), ''), 'any'));
	keyexpr	text;
	metric	text;
	parts	text;
BEGIN
	IF k.two_sided OR k.keys LIKE '%,%' THEN
		RAISE EXCEPTION 'nf_topn_series: statistic "%" is two-sided or composite', stat_type
			USING ERRCODE = 'feature_not_supported',
				  HINT = 'Use a one-sided statistic: srcip, dstip, srcport, dstport, srcas, dstas, proto, inif, outif, router, ...';
	END IF;
	metric := CASE lower(order_by) WHEN 'flows' THEN 'flows' WHEN 'packets' THEN 'packets'
								   WHEN 'bytes' THEN 'bytes * 8' END;
	IF metric IS NULL THEN
		RAISE EXCEPTION 'nf_topn_series: order "%" is not flows, packets or bytes', order_by
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF top IS NULL OR top < 1 OR top > 50 THEN
		RAISE EXCEPTION 'nf_topn_series: top must be 1 .. 50' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	-- keys print as nfdump prints them: addresses without a /32, protocols
	-- by name; printed after the sources' sums, as postgres_fdw ships no
	-- grouping by a cast to text
	keyexpr := CASE
		WHEN k.keys = 'proto' THEN 'nfpg.nf_proto_name(p.key)'
		WHEN EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = 'nfpg.flows'::regclass
						AND a.attname = k.keys AND a.atttypid = 'inet'::regtype) THEN 'host(p.key)'
		ELSE '(p.key)::text' END;
	SELECT string_agg(format('SELECT date_bin($3, first_seen, ''2000-01-01 00:00+00'') AS slot,'
							 ' %s AS key, sum(%s) AS v FROM %s'
							 ' WHERE first_seen >= $1 AND first_seen < $2 AND (%s) GROUP BY 1, 2',
							 k.keys, metric, src, cond), ' UNION ALL ')
	  INTO parts FROM nfpg.nf_flow_sources() src;
	RETURN QUERY EXECUTE format($q$
		WITH m AS MATERIALIZED (
			SELECT p.slot, %s AS key, sum(p.v) AS v FROM (%s) p GROUP BY 1, 2),
		t AS (
			SELECT m.key, row_number() OVER (ORDER BY sum(m.v) DESC, m.key)::integer AS rank
			  FROM m WHERE m.key IS NOT NULL GROUP BY m.key ORDER BY sum(m.v) DESC, m.key LIMIT $4)
		SELECT m.slot, coalesce(t.key, 'Other'), coalesce(t.rank, $4 + 1),
			   sum(m.v)::double precision / $5
		  FROM m LEFT JOIN t USING (key)
		 GROUP BY 1, 2, 3 ORDER BY 1, 3
	$q$, keyexpr, parts)
	USING from_ts, to_ts, bucket, top, extract(epoch FROM bucket)::double precision;
END
$$;
COMMENT ON FUNCTION nfpg.nf_topn_series(text, text, integer, text, timestamptz, timestamptz, interval) IS 'Top-N over time: the top keys of a one-sided -s statistic in [from_ts, to_ts) by flows, packets or bytes, and per bucket the rate (flows/s, packets/s, bits/s) of each and of the rest as ''Other''';

-- "List flows" of the details page: nfdump -o FORMAT -c LIMIT over the -t
-- window, in time order.  Only the columns the caller may read are selected
-- (nf_format prints the others as absent), so a column grant shows in the
-- page as it does in psql; the address, port and AS fields come back apart
-- for the page's drill-down links.
CREATE FUNCTION nfpg.nf_flow_list(filter text, from_ts timestamptz, to_ts timestamptz,
								  format text DEFAULT 'line', lim integer DEFAULT 100)
RETURNS TABLE (line text, src_addr text, dst_addr text, src_port integer, dst_port integer,
			   src_as bigint, dst_as bigint, proto smallint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	cols	text;
BEGIN
	IF lim IS NULL OR lim < 1 OR lim > 10000 THEN
		RAISE EXCEPTION 'nf_flow_list: limit must be 1 .. 10000' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO cols
	  FROM pg_attribute a
	 WHERE a.attrelid = 'nfpg.flows'::regclass AND a.attnum > 0 AND NOT a.attisdropped
	   AND has_column_privilege('nfpg.flows'::regclass, a.attnum, 'SELECT');
	IF cols IS NULL THEN
		RAISE EXCEPTION 'permission denied for table flows' USING ERRCODE = 'insufficient_privilege';
	END IF;
	RETURN QUERY EXECUTE format($q$
		SELECT nfpg.nf_format(r, $4), j->>'src_addr', j->>'dst_addr', (j->>'src_port')::integer,
			   (j->>'dst_port')::integer, (j->>'src_as')::bigint, (j->>'dst_as')::bigint,
			   (j->>'proto')::smallint
		  FROM (SELECT %s FROM nfpg.flows WHERE %s ORDER BY first_seen LIMIT $5) r,
			   LATERAL to_jsonb(r) j
	$q$, cols, nfpg.nf_stat_where(coalesce(nullif(btrim(filter), ''), 'any'), from_ts, to_ts))
	USING NULL::text, from_ts, to_ts, format, lim;
END
$$;
COMMENT ON FUNCTION nfpg.nf_flow_list(text, timestamptz, timestamptz, text, integer) IS 'nfdump -o format -c lim over the flows matching filter inside [from_ts, to_ts] (-t), in time order, with the address, port and AS fields apart; reads only the columns the caller may select';

-- Aggregated records (nfdump -A/-a ... -o FORMAT) with their fields apart.
CREATE FUNCTION nfpg.nf_aggregate_list(fields text, order_by text, top integer, filter text,
									   from_ts timestamptz, to_ts timestamptz, format text DEFAULT 'line')
RETURNS TABLE (line text, src_addr text, dst_addr text, src_port integer, dst_port integer,
			   src_as bigint, dst_as bigint, proto smallint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN QUERY
	SELECT nfpg.nf_format(a, format), host(a.src_addr), host(a.dst_addr), a.src_port, a.dst_port,
		   a.src_as, a.dst_as, a.proto
	  FROM nfpg.nf_aggregate(nullif(btrim(fields), ''), order_by, top,
							 coalesce(nullif(btrim(filter), ''), 'any'), from_ts, to_ts) a;
END
$$;
COMMENT ON FUNCTION nfpg.nf_aggregate_list(text, text, integer, text, timestamptz, timestamptz, text) IS 'nf_aggregate (nfdump -A fields / -a) rendered by nf_format, with the address, port and AS fields apart';

REVOKE ALL ON FUNCTION nfpg.nf_live_profile(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION nfpg.nf_profile_rates(text, timestamptz, timestamptz),
	nfpg.nf_profile_totals(text, timestamptz, timestamptz),
	nfpg.nf_drill_filter(text, text),
	nfpg.nf_web_buckets(timestamptz, timestamptz, interval),
	nfpg.nf_filter_series(text, timestamptz, timestamptz, interval, interval),
	nfpg.nf_topn_series(text, text, integer, text, timestamptz, timestamptz, interval),
	nfpg.nf_flow_list(text, timestamptz, timestamptz, text, integer),
	nfpg.nf_aggregate_list(text, text, integer, text, timestamptz, timestamptz, text)
	TO nfpg_reader;
