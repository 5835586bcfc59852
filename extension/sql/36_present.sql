--------------------------------------------------------------------------------
-- nfdump's presentation: its spelling, its time format, its text
--
-- nf_stat and nf_format return nfdump's numbers; this file gives psql users
-- and nfpg-dump nfdump's *words* for them:
--   nf_number(440760799)                  -> '440.8 M'  (the summary form)
--   nf_time('2024/03/11.09:00')           -> nfdump -t time, session TimeZone
--   nf_top('ip/bytes', 10, 'proto tcp', '2024/03/11.09:00-2024/03/11.10:00')
--                                         -> typed rows: inet / bigint keys,
--                                            'any' or protocol names, percentages
--                                            rounded as nfdump prints them
--   nfdump(stats => '{ip/bytes}', ...)    -> the lines nfdump 1.7.1 prints,
--                                            headers and Summary included
-- nfdump() is what the nfpg-dump command line calls: it runs the statistics,
-- the aggregation and the summary in one scan, and every character it
-- returns is rendered by the C formatters (format*.c), the one copy of
-- nfdump's output rules in nfpg.  Objects here reference nfpg.flows only
-- inside plpgsql bodies, so the extension script does not need the table.
--------------------------------------------------------------------------------

CREATE FUNCTION nfpg.nf_number(n bigint, plain boolean DEFAULT false)
RETURNS text AS 'MODULE_PATHNAME', 'nf_number'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION nfpg.nf_number(bigint, boolean) IS
'A counter as nfdump''s summary prints it: 440.8 M, 1.5 G (decimal M/G/T from a million up); plain => true (-N) prints the integer';

CREATE FUNCTION nfpg.nf_format(flow record, format text, plain boolean, long_v6 boolean)
RETURNS text AS 'MODULE_PATHNAME', 'nf_format'
LANGUAGE C STABLE STRICT PARALLEL SAFE COST 100 SUPPORT nfpg.nf_format_support;
COMMENT ON FUNCTION nfpg.nf_format(record, text, boolean, boolean) IS
'nf_format with nfdump''s -N (plain: counters unscaled, protocol numbers, durations in seconds) and -6 (long_v6: IPv6 addresses in full)';

CREATE FUNCTION nfpg.nf_format_header(format text, long_v6 boolean)
RETURNS text AS 'MODULE_PATHNAME', 'nf_format_header_full'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION nfpg.nf_format_header(text, boolean) IS
'The header line nfdump prints above records in any format, fmt: included (column titles, literal text as blanks); NULL for pipe';

CREATE FUNCTION nfpg.nf_stat_line(mode text, kind text, value text, proto smallint,
	first_seen timestamptz, last_seen timestamptz, flows bigint, flows_pct double precision,
	packets bigint, packets_pct double precision, bytes bigint, bytes_pct double precision,
	pps bigint, bps bigint, bpp bigint, plain boolean, long_v6 boolean)
RETURNS text AS 'MODULE_PATHNAME', 'nf_stat_line'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION nfpg.nf_stat_line(text, text, text, smallint, timestamptz, timestamptz, bigint, double precision, bigint, double precision, bigint, double precision, bigint, bigint, bigint, boolean, boolean) IS
'One row of nf_stat as nfdump -s prints it: mode line, csv or pipe; kind addr (IP key), mpls or other; proto NULL = any';

-- nfdump's -t time: yyyy[/MM[/dd[.hh[:mm[:ss]]]]] in the session TimeZone
-- (nfdump reads local time), with nfdump's range checks and messages.
CREATE FUNCTION nfpg.nf_time(t text)
RETURNS timestamptz
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	m	text[] := regexp_match(t, '^([0-9]{4})(?:/([0-9]{2})(?:/([0-9]{2})(?:\.([0-9]{2})(?::([0-9]{2})(?::([0-9]{2}))?)?)?)?)?$');
	v	integer[];
	lo	integer[] := '{1970,1,1,0,0,0}';
	hi	integer[] := '{2038,12,31,23,59,59}';
	nm	text[] := '{Year,Month,Day,Hour,Minute,Seconds}';
BEGIN
	IF m IS NULL THEN
		RAISE EXCEPTION 'Time format error: ''%'' unexpected.', t
			USING ERRCODE = 'invalid_datetime_format',
				  HINT = 'nfdump''s format is yyyy/MM/dd.hh:mm:ss, trailing parts optional.';
	END IF;
	FOR i IN 1..6 LOOP
		v[i] := coalesce(m[i]::integer, CASE WHEN i <= 3 THEN 1 ELSE 0 END);
		IF v[i] < lo[i] OR v[i] > hi[i] THEN
			RAISE EXCEPTION '% out of range: ''%''', nm[i], v[i] USING ERRCODE = 'datetime_field_overflow';
		END IF;
	END LOOP;
	RETURN make_timestamptz(v[1], v[2], v[3], v[4], v[5], v[6]);
END
$$;
COMMENT ON FUNCTION nfpg.nf_time(text) IS 'An nfdump -t time (yyyy/MM/dd.hh:mm:ss, trailing parts optional) in the session TimeZone';

-- nfdump -t window: "T" (from T on) or "T1-T2".
CREATE FUNCTION nfpg.nf_time_window(time_window text, OUT t_from timestamptz, OUT t_to timestamptz)
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF length(time_window) < 4 THEN
		RAISE EXCEPTION 'Time string format error ''%''', time_window USING ERRCODE = 'invalid_datetime_format';
	END IF;
	t_from := nfpg.nf_time(split_part(time_window, '-', 1));
	IF position('-' IN time_window) > 0 THEN
		t_to := nfpg.nf_time(substr(time_window, position('-' IN time_window) + 1));
	END IF;
END
$$;
COMMENT ON FUNCTION nfpg.nf_time_window(text) IS 'nfdump -t T1[-T2] as (t_from, t_to), for nf_stat/nf_aggregate/nf_summary';

-- nfdump -s spelling: type[:p][/order[:a|:d]][/order...].  Orders come back
-- in nfdump's table order (it prints them in that order, whatever the
-- command line's), the direction is the last one given.
CREATE FUNCTION nfpg.nf_stat_spec(spec text, OUT stat_type text, OUT orders text[], OUT ascending boolean)
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	known	text[] := '{flows,packets,ipkg,opkg,bytes,ibyte,obyte,pps,ipps,opps,bps,ibps,obps,bpp,ibpp,obpp}';
	parts	text[] := string_to_array(lower(spec), '/');
	o		text;
BEGIN
	stat_type := parts[1];
	ascending := false;
	IF cardinality(parts) = 1 THEN
		orders := '{flows}';
		RETURN;
	END IF;
	FOREACH o IN ARRAY parts[2:] LOOP
		ascending := o LIKE '%:a';
		IF o !~ '^[a-z]+(:[ad])?$' OR NOT split_part(o, ':', 1) = ANY (known) THEN
			RAISE EXCEPTION 'Unknown stat: ''%''!', spec USING ERRCODE = 'invalid_parameter_value';
		END IF;
	END LOOP;
	SELECT array_agg(k ORDER BY i) INTO orders
	FROM unnest(known) WITH ORDINALITY AS u(k, i)
	WHERE k = ANY (SELECT split_part(x, ':', 1) FROM unnest(parts[2:]) x);
END
$$;
COMMENT ON FUNCTION nfpg.nf_stat_spec(text) IS 'Split nfdump''s -s spelling (''ip:p/bytes/flows:a'') into the type, its order keys in nfdump''s print order, and the direction';

-- The column title of a statistic (nfstat.c StatParameters) and its key kind.
CREATE FUNCTION nfpg.nf_stat_title(stat_type text, OUT title text, OUT kind text)
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN (SELECT ROW(t, CASE WHEN s IN ('srcip', 'dstip', 'ip', 'nhip', 'nhbip', 'router') THEN 'addr'
						  WHEN s ~ '^mpls' THEN 'mpls' ELSE 'other' END)
	FROM (SELECT regexp_replace(lower(stat_type), ':p$', '') AS s) x,
	LATERAL (SELECT CASE s
		WHEN 'srcip' THEN 'Src IP Addr' WHEN 'dstip' THEN 'Dst IP Addr' WHEN 'ip' THEN 'IP Addr'
		WHEN 'nhip' THEN 'Nexthop IP' WHEN 'nhbip' THEN 'Nexthop BGP IP' WHEN 'router' THEN 'Router IP'
		WHEN 'srcport' THEN 'Src Port' WHEN 'dstport' THEN 'Dst Port' WHEN 'port' THEN 'Port'
		WHEN 'proto' THEN 'Protocol' WHEN 'tos' THEN 'Tos' WHEN 'srctos' THEN 'Tos'
		WHEN 'dsttos' THEN 'Dst Tos' WHEN 'dir' THEN 'Dir' WHEN 'srcas' THEN 'Src AS'
		WHEN 'dstas' THEN 'Dst AS' WHEN 'prevas' THEN 'Prev AS' WHEN 'nextas' THEN 'Next AS'
		WHEN 'as' THEN 'AS' WHEN 'inif' THEN 'Input If' WHEN 'outif' THEN 'Output If'
		WHEN 'if' THEN 'In/Out If' WHEN 'srcmask' THEN 'Src Mask' WHEN 'dstmask' THEN 'Dst Mask'
		WHEN 'mask' THEN 'Mask' WHEN 'srcvlan' THEN 'Src Vlan' WHEN 'dstvlan' THEN 'Dst Vlan'
		WHEN 'vlan' THEN 'Vlan' WHEN 'insrcmac' THEN 'In Src Mac' WHEN 'outdstmac' THEN 'Out Dst Mac'
		WHEN 'indstmac' THEN 'In Dst Mac' WHEN 'outsrcmac' THEN 'Out Src Mac'
		WHEN 'srcmac' THEN 'Src Mac' WHEN 'dstmac' THEN 'Dst Mac' WHEN 'inmac' THEN 'In Src Mac'
		WHEN 'outmac' THEN 'Out Src Mac' WHEN 'mpls10' THEN 'MPLS lab 10' WHEN 'odid' THEN 'obs domainID'
		ELSE CASE WHEN s ~ '^mpls[1-9]$' THEN ' MPLS lab ' || substr(s, 5) END END AS t) y);
COMMENT ON FUNCTION nfpg.nf_stat_title(text) IS 'The column title nfdump prints for an -s statistic (''IP Addr'', ''Dst Port'', ...) and the kind of its key (addr, mpls, other)';

-- Typed Top-N: nfdump's -s in nfdump's spelling, for queries rather than eyes.
CREATE FUNCTION nfpg.nf_top(stat text, top integer DEFAULT 10, filter text DEFAULT NULL,
	time_window text DEFAULT NULL)
RETURNS TABLE (rank bigint, value text, addr inet, num bigint, proto text, first_seen timestamptz,
	last_seen timestamptz, duration interval, flows bigint, flows_pct numeric, packets bigint,
	packets_pct numeric, bytes bigint, bytes_pct numeric, pps bigint, bps bigint, bpp bigint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s		record := nfpg.nf_stat_spec(stat);
	k		record;
	t_from	timestamptz;
	t_to	timestamptz;
BEGIN
	SELECT * INTO k FROM nfpg.nf_stat_title(s.stat_type);
	IF time_window IS NOT NULL THEN
		SELECT w.t_from, w.t_to INTO t_from, t_to FROM nfpg.nf_time_window(time_window) w;
	END IF;
	RETURN QUERY
	SELECT r.rank, r.value,
		CASE WHEN k.kind = 'addr' THEN r.value::inet END,
		CASE WHEN r.value ~ '^[0-9]+$' THEN r.value::bigint END,
		CASE WHEN r.proto IS NULL THEN 'any' ELSE nfpg.nf_proto_name(r.proto) END,
		r.first_seen, r.last_seen, r.duration, r.flows,
		to_char(r.flows_pct, 'FM9990.0')::numeric, r.packets,
		to_char(r.packets_pct, 'FM9990.0')::numeric, r.bytes,
		to_char(r.bytes_pct, 'FM9990.0')::numeric, r.pps, r.bps, r.bpp
	FROM nfpg.nf_stat(s.stat_type, s.orders[1] || CASE WHEN s.ascending THEN ':a' ELSE '' END, top,
					  filter, t_from, t_to) r;
END
$$;
COMMENT ON FUNCTION nfpg.nf_top(text, integer, text, text) IS
'nfdump -s in its own spelling (''ip/bytes'', ''dstport:p/flows'') and -t format, with typed columns: addr (inet) for address keys, num (bigint) for ports, AS, interfaces...; proto as nfdump names it (''any'' when not per protocol); percentages rounded as nfdump prints them';

-- The lines nfdump prints after its output: "Summary: ..." (csv: a Summary
-- block), "Time window: ..." (the span of the flows read, clipped by -t) and
-- "Total flows processed: ..."; Blocks skipped and Bytes read describe
-- nfdump's files and print 0 (nfpg-dump adds nfdump's "Sys:" timing line).
CREATE FUNCTION nfpg.nf_summary_lines(mode text, plain boolean, processed bigint, passed bigint,
	flows bigint, bytes bigint, packets bigint, p_first timestamptz, p_last timestamptz,
	s_first timestamptz, s_last timestamptz, t_from timestamptz, t_to timestamptz)
RETURNS SETOF text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	ms		double precision := (extract(epoch FROM p_last) * 1000 - extract(epoch FROM p_first) * 1000);
	dur		double precision := coalesce(round(ms) / 1000.0, 0);
	bps		bigint := 0;
	pps		bigint := 0;
	bpp		bigint := 0;
	w1		timestamptz;
	w2		timestamptz;
BEGIN
	flows := coalesce(flows, 0); bytes := coalesce(bytes, 0); packets := coalesce(packets, 0);
	IF dur > 0 THEN
		bps := trunc((bytes * 8) / dur);
		pps := trunc(packets / dur);
		bpp := CASE WHEN packets > 0 THEN bytes / packets ELSE 0 END;
	END IF;
	IF mode = 'csv' THEN
		RETURN NEXT 'Summary';
		RETURN NEXT 'flows,bytes,packets,avg_bps,avg_pps,avg_bpp';
		RETURN NEXT concat_ws(',', flows, bytes, packets, bps, pps, bpp);
		RETURN;
	END IF;
	IF mode <> 'line' THEN
		RETURN;
	END IF;
	RETURN NEXT format('Summary: total flows: %s, total bytes: %s, total packets: %s, avg bps: %s, avg pps: %s, avg bpp: %s',
		flows, nfpg.nf_number(bytes, plain), nfpg.nf_number(packets, plain), nfpg.nf_number(bps, plain),
		nfpg.nf_number(pps, plain), nfpg.nf_number(bpp, plain));
	IF s_last IS NULL THEN
		RETURN NEXT 'Time window: <unknown>';
	ELSE
		w1 := date_trunc('second', s_first);
		w2 := date_trunc('second', s_last);
		IF t_from IS NOT NULL AND t_from > w1 THEN w1 := t_from; END IF;
		IF t_to IS NOT NULL AND t_to < w2 THEN w2 := t_to; END IF;
		RETURN NEXT 'Time window: ' || to_char(w1, 'YYYY-MM-DD HH24:MI:SS') || ' - ' || to_char(w2, 'YYYY-MM-DD HH24:MI:SS');
	END IF;
	RETURN NEXT format('Total flows processed: %s, passed: %s, Blocks skipped: 0, Bytes read: 0', processed, passed);
END
$$;
COMMENT ON FUNCTION nfpg.nf_summary_lines(text, boolean, bigint, bigint, bigint, bigint, bigint, timestamptz, timestamptz, timestamptz, timestamptz, timestamptz, timestamptz) IS
'The summary lines nfdump prints after its output (Summary, Time window, Total flows processed; csv: the Summary block)';

-- nfdump -l / -L: "[+|-]N[b|k|m|g]" (more / less than N, decimal scale).
CREATE FUNCTION nfpg.nf_limit(spec text, unit text, OUT more boolean, OUT lim bigint, OUT line text)
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	m	text[] := regexp_match(spec, '^([+-]?)([0-9]+)([bBkKmMgG]?)$');
BEGIN
	IF m IS NULL THEN
		IF spec ~ '^[+-]?[0-9]+[A-Za-z]$' THEN
			RAISE EXCEPTION 'Can''t understand ''%'' in ''%''', right(spec, 1), spec
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
		RAISE EXCEPTION 'Can''t understand ''%''', spec USING ERRCODE = 'invalid_parameter_value';
	END IF;
	more := m[1] <> '-';
	lim := m[2]::bigint * CASE lower(m[3]) WHEN 'k' THEN 1000 WHEN 'm' THEN 1000000
									WHEN 'g' THEN 1000000000 ELSE 1 END;
	line := format('%s limit: %s %s %s', CASE unit WHEN 'bytes' THEN 'Byte' ELSE 'Packet' END,
				   CASE WHEN more THEN '>' ELSE '<' END, lim, unit);
END
$$;
COMMENT ON FUNCTION nfpg.nf_limit(text, text) IS 'nfdump''s -l / -L limit text as (more than?, limit, the line nfdump prints)';

-- -O on records that are not aggregated: ORDER BY terms (tstart, tend
-- ascending, the others descending, as nfdump's order table says).
CREATE FUNCTION nfpg.nf_record_order(print_order text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	o	text := lower(split_part(print_order, ':', 1));
	d	text := lower(split_part(print_order, ':', 2));
	e	text;
BEGIN
	IF print_order IS NULL THEN
		RETURN '';
	END IF;
	e := CASE o
		WHEN 'tstart' THEN 'first_seen' WHEN 'tend' THEN 'last_seen'
		WHEN 'flows' THEN 'flows' WHEN 'packets' THEN 'packets + coalesce(out_packets, 0)'
		WHEN 'ipkg' THEN 'packets' WHEN 'opkg' THEN 'coalesce(out_packets, 0)'
		WHEN 'bytes' THEN 'bytes + coalesce(out_bytes, 0)' WHEN 'ibyte' THEN 'bytes'
		WHEN 'obyte' THEN 'coalesce(out_bytes, 0)'
		WHEN 'duration' THEN 'last_seen - first_seen'
		WHEN 'pps' THEN 'nfpg.flow_pps(packets, first_seen, last_seen)'
		WHEN 'bps' THEN 'nfpg.flow_bps(bytes, first_seen, last_seen)'
		WHEN 'bpp' THEN 'bytes / greatest(packets, 1)' END;
	IF e IS NULL OR d NOT IN ('', 'a', 'd') THEN
		RAISE EXCEPTION 'Unknown print order ''%''', print_order USING ERRCODE = 'invalid_parameter_value';
	END IF;
	RETURN e || CASE WHEN d = 'a' OR (d = '' AND o IN ('tstart', 'tend')) THEN ' ASC, ' ELSE ' DESC, ' END;
END
$$;
COMMENT ON FUNCTION nfpg.nf_record_order(text) IS 'ORDER BY terms for nfdump -O on records that are not aggregated';

-- The columns of an aggregated record as nfdump prints it.  -a, -b, -B
-- (and -s record) print the bucket's first record (s: the first received,
-- as nfcapd wrote it) with the bucket's counters, times and flags (a);
-- -A zeroes every field that is not a key, and a zeroed next hop prints
-- in the family of the key (:: for an IPv6 key), as nfdump's does.
CREATE FUNCTION nfpg.nf_record_columns(agg_mode text)
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN (SELECT string_agg(CASE
		WHEN agg_mode = 'A' AND a.attname = 'next_hop'
			THEN 'CASE WHEN family(a.src_addr) = 6 OR family(a.dst_addr) = 6 THEN inet ''::'' END'
		WHEN agg_mode = 'A' OR a.attname IN ('first_seen', 'last_seen', 'packets', 'bytes', 'out_packets',
			'out_bytes', 'flows', 'tcp_flags', 'src_addr', 'dst_addr', 'src_port', 'dst_port', 'proto')
			THEN 'a.' || quote_ident(a.attname)
		ELSE 's.' || quote_ident(a.attname) END || ' AS ' || quote_ident(a.attname), ', ' ORDER BY a.attnum)
	FROM pg_attribute a WHERE a.attrelid = 'nfpg.flow'::regclass AND a.attnum > 0 AND NOT a.attisdropped);
COMMENT ON FUNCTION nfpg.nf_record_columns(text) IS 'The select list nfdump() prints an aggregated record from: the first record''s fields with the bucket''s counters (-a, -b, -B), or the key alone (-A)';

-- The automatic -A format: "%ts %td " + one token per field + the counters.
CREATE FUNCTION nfpg.nf_aggregate_format(fields text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN 'fmt:%ts %td  ' || (SELECT string_agg(t || ' ', '' ORDER BY i)
	FROM unnest(string_to_array(lower(fields), ',')) WITH ORDINALITY AS u(f, i),
	LATERAL (SELECT CASE regexp_replace(btrim(f), '/.*$', '')
		WHEN 'srcip4' THEN '%sa' WHEN 'srcip6' THEN '%sa' WHEN 'srcip' THEN '%sa'
		WHEN 'dstip4' THEN '%da' WHEN 'dstip6' THEN '%da' WHEN 'dstip' THEN '%da'
		WHEN 'srcnet' THEN '%sn' WHEN 'dstnet' THEN '%dn' WHEN 'next' THEN '%nh'
		WHEN 'bgpnext' THEN '%nhb' WHEN 'router' THEN '%ra' WHEN 'insrcmac' THEN '%ismc'
		WHEN 'outdstmac' THEN '%odmc' WHEN 'indstmac' THEN '%idmc' WHEN 'outsrcmac' THEN '%osmc'
		WHEN 'srcas' THEN '%sas' WHEN 'dstas' THEN '%das' WHEN 'nextas' THEN '%nas'
		WHEN 'prevas' THEN '%pas' WHEN 'inif' THEN '%in' WHEN 'outif' THEN '%out'
		WHEN 'srcport' THEN '%sp' WHEN 'dstport' THEN '%dp' WHEN 'srcvlan' THEN '%svln'
		WHEN 'dstvlan' THEN '%dvln' WHEN 'srcmask' THEN '%smk' WHEN 'dstmask' THEN '%dmk'
		WHEN 'proto' THEN '%pr' WHEN 'tos' THEN '%tos' WHEN 'srctos' THEN '%stos'
		WHEN 'dsttos' THEN '%dtos' WHEN 'odid' THEN '%odid' END AS t) x)
	|| ' %pkt %byt %bps %bpp %fl';
COMMENT ON FUNCTION nfpg.nf_aggregate_format(text) IS 'The output format nfdump chooses for -A fields without -o';

/*
 * nfdump(...): nfdump 1.7.1's output for a command line, as lines of text.
 *   stats         -s specs ('ip/bytes', 'record/flows', ...)
 *   top           -n (NULL: 10 for statistics, 0 = all otherwise)
 *   filter        the filter (nfdump syntax); time_window: -t
 *   aggregate     'a', 'b' or 'B' (-a, -b, -B); fields: -A
 *   print_order   -O; format: -o (NULL: nfdump's choice, nsel as Debian's build)
 *   record_limit  -c; packet_limit, byte_limit: -l, -L
 *   scope, scope_from, scope_to: which flows stand for nfdump's input files
 *                 (an nfdump filter, e.g. exporters for -M, and a received
 *                 time range for -r/-R file names); nfpg-dump documents it
 *   plain, long_v6, quiet: -N, -6, -q
 * Statistics, their percentages and the Summary line come from one scan.
 */
-- nfdump()'s numbers (the Summary, the time window and every -s table) for
-- the flows of the scope (scope_w) that pass (pass), as jsonb: one
-- nf_topn_summary a table, each computed in the partitions' scans, and the
-- flows read in the scope counted apart only when the filter or -t leaves
-- some out.  Both conditions are SQL this extension made (nf_stat_where,
-- nf_filter_sql), with $2 to $5 the time window and the scope's bounds.
CREATE FUNCTION nfpg.nf_dump_summary(scope_w text, pass text, specs text[], keys text[],
	t_from timestamptz, t_to timestamptz, scope_from timestamptz, scope_to timestamptz)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	res		jsonb := '{}';
	sm		nfpg.stat_summary;
	read	jsonb;
	prev	text := nfpg.nf_topn_plan();
BEGIN
	-- with no table, one by protocol gives the totals
	FOR i IN 1 .. greatest(cardinality(specs), 1) LOOP
		EXECUTE format('SELECT (s).* FROM (SELECT nfpg.nf_topn_summary(%L, flows, packets, bytes, out_packets,'
					   ' out_bytes, first_seen, last_seen, tcp_flags, src_tos, %s) AS s FROM nfpg.flows WHERE %s AND %s) x',
					   coalesce(specs[i], 'stat flows 1 proto'), coalesce(keys[i], 'proto'), scope_w, pass)
			INTO sm USING NULL::text, t_from, t_to, scope_from, scope_to;
		IF i <= cardinality(specs) THEN
			res := res || jsonb_build_object('s' || (i - 1), to_jsonb(sm.rows));
		END IF;
	END LOOP;
	res := res || jsonb_build_object('passed', sm.passed, 'flows', sm.flows, 'bytes', sm.bytes,
		'packets', sm.packets, 'p_first', sm.first_seen, 'p_last', sm.last_seen);
	IF pass <> 'true' THEN
		-- what was read, over the scope: a packed hour counts its flows and
		-- finds their first and last times in its scan (pack_agg.c: over a
		-- packed day 0.27 s, where the statistic's scan, summing every
		-- counter too, took 0.67 s)
		EXECUTE format('SELECT jsonb_build_object(''processed'', count(*), ''s_first'', min(first_seen),'
					   ' ''s_last'', max(last_seen)) FROM nfpg.flows WHERE %s', scope_w)
			INTO read USING NULL::text, t_from, t_to, scope_from, scope_to;
	ELSE
		read := jsonb_build_object('processed', sm.passed, 's_first', sm.first_seen, 's_last', sm.last_seen);
	END IF;
	PERFORM set_config('enable_partitionwise_aggregate', prev, true);
	RETURN res || read;
END
$$;
COMMENT ON FUNCTION nfpg.nf_dump_summary(text, text, text[], text[], timestamptz, timestamptz, timestamptz, timestamptz) IS 'Internal to nfdump(): the Summary, time window and -s tables of the flows of a scope that pass a filter, from scans that aggregate';

CREATE FUNCTION nfpg.nfdump(stats text[] DEFAULT NULL, top integer DEFAULT NULL,
	filter text DEFAULT NULL, time_window text DEFAULT NULL, aggregate text DEFAULT NULL,
	fields text DEFAULT NULL, print_order text DEFAULT NULL, format text DEFAULT NULL,
	record_limit integer DEFAULT 0, packet_limit text DEFAULT NULL, byte_limit text DEFAULT NULL,
	scope text DEFAULT NULL, scope_from timestamptz DEFAULT NULL, scope_to timestamptz DEFAULT NULL,
	plain boolean DEFAULT false, long_v6 boolean DEFAULT false, quiet boolean DEFAULT false)
RETURNS SETOF text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	t_from		timestamptz;
	t_to		timestamptz;
	fmt			text := format;
	mode		text;
	st			text;
	sp			record;
	k			record;
	ti			record;
	ord			text;
	elements	text[] := '{}';		-- "type|order|a|d" of each element table
	el_specs	text[] := '{}';		-- their nf_topn specifications
	el_keys		text[] := '{}';		-- and key expressions
	rec_orders	text[];
	rec_asc		boolean := false;
	flow_stat	boolean := false;
	plain_dump	boolean;			-- records printed one by one, no -s, -a, -A
	agg_mode	text;
	keys		text;
	names		text;
	pass		text;
	scope_w		text := 'true';
	src			text;
	q			text;
	res			jsonb;
	pl			record;
	bl			record;
	json_end	text;
	p_lim		bigint;
	p_more		boolean;
	b_lim		bigint;
	b_more		boolean;
	n			integer;
	line		text;
	r			record;
	i			integer;
BEGIN
	IF time_window IS NOT NULL THEN
		SELECT w.t_from, w.t_to INTO t_from, t_to FROM nfpg.nf_time_window(time_window) w;
	END IF;
	IF record_limit IS NULL OR record_limit < 0 THEN
		RAISE EXCEPTION 'Option -c needs a number > 0' USING ERRCODE = 'invalid_parameter_value';
	END IF;

	-- -s: element statistics and -s record
	FOREACH st IN ARRAY coalesce(stats, '{}') LOOP
		sp := nfpg.nf_stat_spec(st);
		IF sp.stat_type = 'record' THEN
			flow_stat := true;
			rec_orders := sp.orders;
			rec_asc := sp.ascending;
			CONTINUE;
		END IF;
		IF (SELECT t.title FROM nfpg.nf_stat_title(sp.stat_type) t) IS NULL THEN
			RAISE EXCEPTION 'Unknown stat: ''%''!', st USING ERRCODE = 'invalid_parameter_value';
		END IF;
		PERFORM nfpg.nf_stat_keys(sp.stat_type);		-- types nfpg.flows cannot answer fail here
		FOREACH ord IN ARRAY sp.orders LOOP
			elements := elements || format('%s|%s|%s', sp.stat_type, ord, CASE WHEN sp.ascending THEN 'a' ELSE 'd' END);
		END LOOP;
	END LOOP;
	IF top IS NULL THEN
		top := CASE WHEN cardinality(stats) > 0 THEN 10 ELSE 0 END;
	END IF;
	IF print_order IS NOT NULL AND flow_stat THEN
		RAISE EXCEPTION '-s record and -O (-m) are mutually exclusive options' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF fields IS NOT NULL AND cardinality(elements) > 0 AND NOT flow_stat THEN
		RAISE WARNING 'Warning: Aggregation ignored for element statistics';
		fields := NULL;
	END IF;
	IF aggregate IS NOT NULL AND (flow_stat OR cardinality(elements) > 0) THEN
		RAISE WARNING 'Command line switch -s overwrites -a';
		aggregate := CASE WHEN aggregate IN ('b', 'B') THEN aggregate END;
	END IF;
	IF fmt IS NULL THEN
		fmt := CASE WHEN fields IS NOT NULL THEN nfpg.nf_aggregate_format(fields)
					WHEN aggregate IN ('b', 'B') THEN 'biline' ELSE 'nsel' END;
	END IF;
	mode := CASE WHEN fmt IN ('csv', 'pipe', 'json') THEN fmt ELSE 'line' END;
	-- json: "[", the objects joined by ",", "]" after the last (none with -q)
	IF mode = 'json' THEN
		json_end := CASE WHEN quiet THEN '' ELSE ']' END;
	END IF;
	PERFORM nfpg.nf_format_header(fmt, long_v6);	-- a bad format fails before any output

	-- -l / -L: printed first, applied to element statistics only (as 1.7.1)
	IF packet_limit IS NOT NULL OR byte_limit IS NOT NULL THEN
		IF cardinality(elements) = 0 AND NOT flow_stat AND aggregate IS NULL AND fields IS NULL THEN
			RAISE EXCEPTION 'Options -l and -L do not make sense for plain packet dumps.'
				USING ERRCODE = 'invalid_parameter_value',
					  HINT = 'Use -l and -L together with -s -S or -a. Use netflow filter syntax to limit the number of packets and bytes in netflow records.';
		END IF;
		IF byte_limit IS NOT NULL THEN
			bl := nfpg.nf_limit(byte_limit, 'bytes');
			b_lim := bl.lim;
			b_more := bl.more;
			RETURN NEXT bl.line;
		END IF;
		IF packet_limit IS NOT NULL THEN
			pl := nfpg.nf_limit(packet_limit, 'packets');
			p_lim := pl.lim;
			p_more := pl.more;
			RETURN NEXT pl.line;
		END IF;
	END IF;

	-- which rows stand for the input files, which pass
	scope_w := nfpg.nf_dump_scope(scope, scope_from, scope_to);
	pass := nfpg.nf_stat_where(filter, t_from, t_to);
	src := 'nfpg.flows WHERE ' || scope_w;
	IF record_limit > 0 THEN
		-- -c: the first N passing records in the order nfcapd wrote them
		src := format('(SELECT *, tableoid AS rpart, nfpg.nf_row_place(ctid) AS rid FROM nfpg.flows WHERE %s AND %s'
			' ORDER BY received, tableoid, nfpg.nf_row_place(ctid) LIMIT %s) f',
					  scope_w, pass, record_limit);
	END IF;

	-- the summary and every element table in one scan
	q := 'SELECT jsonb_build_object(''processed'', count(*), ''passed'', count(*) FILTER (WHERE ' || pass || '),'
		 ' ''flows'', sum(greatest(flows, 1)) FILTER (WHERE ' || pass || '),'
		 ' ''bytes'', sum(bytes + coalesce(out_bytes, 0)) FILTER (WHERE ' || pass || '),'
		 ' ''packets'', sum(packets + coalesce(out_packets, 0)) FILTER (WHERE ' || pass || '),'
		 ' ''p_first'', min(first_seen) FILTER (WHERE ' || pass || '),'
		 ' ''p_last'', max(last_seen) FILTER (WHERE ' || pass || '),'
		 ' ''s_first'', min(first_seen), ''s_last'', max(last_seen)';
	i := 0;
	FOREACH st IN ARRAY elements LOOP
		k := nfpg.nf_stat_keys(split_part(st, '|', 1));
		el_specs := el_specs || format('%s %s%s %s %s', CASE WHEN k.two_sided THEN 'stat2' ELSE 'stat' END,
					split_part(st, '|', 2), CASE split_part(st, '|', 3) WHEN 'a' THEN ':a' ELSE '' END,
					CASE WHEN p_lim IS NOT NULL OR b_lim IS NOT NULL THEN 0 ELSE top END, k.fields);
		el_keys := el_keys || k.keys;
		q := q || format(', %L, to_jsonb(nfpg.nf_topn(%L, flows, packets, bytes, out_packets, out_bytes,'
			 ' first_seen, last_seen, tcp_flags, src_tos, %s) FILTER (WHERE %s))', 's' || i,
			 el_specs[i + 1], k.keys, pass);
		i := i + 1;
	END LOOP;
	plain_dump := cardinality(elements) = 0 AND NOT flow_stat AND aggregate IS NULL AND fields IS NULL;
	IF quiet AND plain_dump AND record_limit = 0 THEN
		-- -q over a plain dump prints no Summary: nothing to count before the
		-- records (over a packed day that count read every flow, five times
		-- the records' own time); "No matching flows" is told by the rows
		-- the records' query returns
		res := NULL;
	ELSIF record_limit = 0 AND nfpg.is_coordinator() THEN
		-- the same numbers, each node's part computed on the node
		q := nfpg.nf_dump_nodes_sql(scope_w, pass, el_specs, el_keys);
		EXECUTE q INTO res USING NULL::text, t_from, t_to, scope_from, scope_to;
	ELSIF record_limit = 0 THEN
		-- the same numbers from scans that aggregate (heap_agg.c, pack_agg.c):
		-- each table an nf_topn_summary over the flows that pass, which also
		-- gives the Summary's totals (with no table, one by protocol gives
		-- them), and what was read in the time scope when the filter or -t
		-- leaves flows out
		res := nfpg.nf_dump_summary(scope_w, pass, el_specs, el_keys, t_from, t_to, scope_from, scope_to);
	ELSE
		q := q || ') FROM ' || src;
		EXECUTE q INTO res USING NULL::text, t_from, t_to, scope_from, scope_to;
	END IF;
	IF record_limit > 0 THEN
		-- nfdump stops reading at the N-th passing record
		EXECUTE format('SELECT count(*) FROM (SELECT sum((%s)::int) OVER (ORDER BY received, tableoid, nfpg.nf_row_place(ctid)'
					   ' ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS before FROM nfpg.flows WHERE %s) x'
					   ' WHERE coalesce(before, 0) < %s', pass, scope_w, record_limit)
			INTO n USING NULL::text, t_from, t_to, scope_from, scope_to;
		res := res || jsonb_build_object('processed', n);
		EXECUTE 'SELECT jsonb_build_object(''s_first'', min(first_seen), ''s_last'', max(last_seen)) FROM nfpg.flows WHERE '
			|| scope_w INTO q USING NULL::text, t_from, t_to, scope_from, scope_to;
		res := res || q::jsonb;
		pass := 'true';
	END IF;

	-- plain dump: the header before the records
	IF cardinality(elements) = 0 AND NOT flow_stat AND NOT quiet AND mode IN ('line', 'csv') THEN
		RETURN NEXT nfpg.nf_format_header(fmt, long_v6);
	END IF;
	IF NOT quiet AND mode = 'json' AND cardinality(elements) = 0 AND NOT flow_stat THEN
		RETURN NEXT '[';
	END IF;
	IF plain_dump THEN
		-- the records in the order nfcapd wrote them, or sorted by -O (the
		-- query nfdump_records() gives nfpg-dump -q to stream)
		RETURN QUERY EXECUTE nfpg.nf_dump_records_sql(fmt, plain, long_v6, print_order, top, json_end,
			CASE WHEN record_limit > 0 THEN src END, scope_w, pass)
			USING NULL::text, t_from, t_to, scope_from, scope_to;
		GET DIAGNOSTICS n = ROW_COUNT;
		res := coalesce(res, jsonb_build_object('passed', n));
	END IF;
	IF (res->>'passed')::bigint = 0 THEN
		RETURN NEXT 'No matching flows';
		IF json_end = ']' THEN
			RETURN NEXT ']';
		END IF;
	END IF;

	-- aggregated records: -a, -A, -b, -B, -O, -s record
	IF aggregate IS NOT NULL OR fields IS NOT NULL OR flow_stat THEN
		IF fields IS NOT NULL THEN
			agg_mode := 'A';
			FOREACH st IN ARRAY string_to_array(fields, ',') LOOP
				k := nfpg.nf_aggregate_key(st);
				IF split_part(k.spec, '/', 1) = ANY (string_to_array(names, ',')) THEN
					RAISE EXCEPTION 'Duplicate aggregation mask: %', btrim(st) USING ERRCODE = 'invalid_parameter_value';
				END IF;
				keys := concat_ws(', ', keys, k.expr);
				names := concat_ws(',', names, k.spec);
			END LOOP;
		ELSE
			agg_mode := CASE aggregate WHEN 'b' THEN 'b' WHEN 'B' THEN 'B' ELSE 'a' END;
			keys := 'src_addr, dst_addr, src_port, dst_port, proto';
			names := 'src_addr,dst_addr,src_port,dst_port,proto';
		END IF;
		FOREACH ord IN ARRAY CASE WHEN flow_stat THEN rec_orders ELSE ARRAY[coalesce(lower(print_order), '-')] END LOOP
			IF flow_stat AND NOT quiet AND mode = 'line' THEN
				RETURN NEXT CASE WHEN top <> 0 THEN format('Top %s flows ordered by %s:', top, ord)
							ELSE format('Top flows ordered by %s:', ord) END;
			END IF;
			IF flow_stat AND NOT quiet AND mode IN ('line', 'csv') THEN
				RETURN NEXT nfpg.nf_format_header(fmt, long_v6);
			END IF;
			IF flow_stat AND NOT quiet AND mode = 'json' THEN
				RETURN NEXT '[';
			END IF;
			RETURN QUERY EXECUTE format(
				'WITH a AS (SELECT * FROM unnest((%s)) WITH ORDINALITY AS r)%s'
				' SELECT nfpg.nf_format(m, %L, %L, %L)%s FROM (SELECT %s, a.ordinality FROM a %s) m ORDER BY ordinality',
				CASE WHEN record_limit > 0 OR NOT nfpg.is_coordinator() THEN
					format('SELECT nfpg.nf_topn_records(%L, flows, packets, bytes, out_packets, out_bytes,'
						   ' first_seen, last_seen, tcp_flags, src_tos, %s) FROM %s AND %s',
						   format('%s %s%s %s %s', agg_mode, ord, CASE WHEN flow_stat AND rec_asc THEN ':a' ELSE '' END, top, names),
						   keys, CASE WHEN record_limit > 0 THEN src || ' WHERE true' ELSE src END, pass)
				ELSE nfpg.nf_topn_sql('nf_topn_records',
						   format('%s %s%s %s %s', agg_mode, ord, CASE WHEN flow_stat AND rec_asc THEN ':a' ELSE '' END, top, names),
						   'flows, packets, bytes, out_packets, out_bytes, first_seen, last_seen, tcp_flags, src_tos, ' || keys,
						   scope_w || ' AND ' || pass) END,
				CASE WHEN agg_mode = 'A' THEN '' ELSE format(
					', s AS (SELECT DISTINCT ON (src_addr, dst_addr, src_port, dst_port, proto) * FROM %s'
					' WHERE (src_addr, dst_addr, src_port, dst_port, proto) IN'
					' (SELECT src_addr, dst_addr, src_port, dst_port, proto FROM a)'
					' ORDER BY src_addr, dst_addr, src_port, dst_port, proto, received, rpart, rid)',
					CASE WHEN record_limit > 0 THEN src
						 ELSE '(SELECT *, tableoid AS rpart, nfpg.nf_row_place(ctid) AS rid FROM nfpg.flows WHERE ' || scope_w || ' AND ' || pass || ') f' END) END,
				fmt, plain, long_v6,
				CASE WHEN json_end IS NOT NULL THEN format(' || CASE WHEN lead(true) OVER (ORDER BY ordinality) IS NULL'
					' THEN %L ELSE '','' END', json_end) ELSE '' END,
				nfpg.nf_record_columns(agg_mode),
				CASE WHEN agg_mode = 'A' THEN '' ELSE
					'LEFT JOIN s ON (s.src_addr, s.dst_addr, s.src_port, s.dst_port, s.proto)'
					' = (a.src_addr, a.dst_addr, a.src_port, a.dst_port, a.proto)' END)
				USING NULL::text, t_from, t_to, scope_from, scope_to;
		END LOOP;
	END IF;

	-- element statistics
	i := 0;
	FOREACH st IN ARRAY elements LOOP
		SELECT * INTO ti FROM nfpg.nf_stat_title(split_part(st, '|', 1));
		IF mode = 'line' AND NOT quiet THEN
			RETURN NEXT CASE WHEN top <> 0 THEN format('Top %s %s ordered by %s:', top, ti.title, split_part(st, '|', 2))
						ELSE format('Top %s ordered by %s:', ti.title, split_part(st, '|', 2)) END;
			RETURN NEXT format('Date first seen                 Duration Proto %s    Flows(%%)     Packets(%%)       Bytes(%%)         pps      bps   bpp',
				lpad(ti.title, CASE WHEN long_v6 AND ti.kind = 'addr' THEN 39 ELSE 17 END));
		ELSIF mode = 'csv' THEN
			RETURN NEXT CASE WHEN split_part(st, '|', 2) IN ('flows', 'ipkg', 'ibyte', 'ipps', 'ibps', 'ibpp')
								THEN 'ts,te,td,pr,val,fl,flP,ipkt,ipktP,ibyt,ibytP,ipps,ibps,ibpp'
							WHEN split_part(st, '|', 2) IN ('opkg', 'obyte', 'opps', 'obps', 'obpp')
								THEN 'ts,te,td,pr,val,fl,flP,opkt,opktP,obyt,obytP,opps,obps,obpp'
							ELSE 'ts,te,td,pr,val,fl,flP,pkt,pktP,byt,bytP,pps,bps,bpp' END;
		END IF;
		n := 0;
		FOR r IN SELECT * FROM jsonb_populate_recordset(NULL::nfpg.stat_row, coalesce(res->('s' || i), '[]')) LOOP
			IF b_lim IS NOT NULL AND ((b_more AND r.bytes <= b_lim) OR (NOT b_more AND r.bytes >= b_lim)) THEN
				CONTINUE;
			END IF;
			IF p_lim IS NOT NULL AND ((p_more AND r.packets <= p_lim) OR (NOT p_more AND r.packets >= p_lim)) THEN
				CONTINUE;
			END IF;
			n := n + 1;
			EXIT WHEN top > 0 AND n > top;
			IF mode = 'json' THEN
				RETURN NEXT 'Not yet implemented output format';
				CONTINUE;
			END IF;
			RETURN NEXT nfpg.nf_stat_line(mode, ti.kind, r.value, r.proto, r.first_seen, r.last_seen,
				r.flows, r.flows_pct, r.packets, r.packets_pct, r.bytes, r.bytes_pct, r.pps, r.bps, r.bpp,
				plain, long_v6);
		END LOOP;
		RETURN NEXT '';
		i := i + 1;
	END LOOP;

	IF mode = 'json' AND NOT quiet AND cardinality(elements) > 0 THEN
		RETURN NEXT ']';		-- nfdump's json epilog, even without its prolog
	END IF;

	IF NOT quiet THEN
		RETURN QUERY SELECT * FROM nfpg.nf_summary_lines(mode, plain, (res->>'processed')::bigint,
			(res->>'passed')::bigint, (res->>'flows')::bigint, (res->>'bytes')::bigint,
			(res->>'packets')::bigint, (res->>'p_first')::timestamptz, (res->>'p_last')::timestamptz,
			(res->>'s_first')::timestamptz, (res->>'s_last')::timestamptz, t_from, t_to);
	END IF;
END
$$;
COMMENT ON FUNCTION nfpg.nfdump(text[], integer, text, text, text, text, text, text, integer, text, text, text, timestamptz, timestamptz, boolean, boolean, boolean) IS
'nfdump 1.7.1''s output for a command line as lines of text (headers, records or statistics, Summary, Time window); the function behind nfpg-dump';

-- nfdump -M /data/<profile>/<channel1>:<channel2>: the channels of an NfSen
-- profile (nfpg.profile_channels) as one filter; a name that is an IP
-- address stands for that exporter (router ip).
CREATE FUNCTION nfpg.nf_dump_sources(path text)
RETURNS text
LANGUAGE plpgsql STABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	parts	text[] := string_to_array(rtrim(path, '/'), '/');
	last	text := parts[cardinality(parts)];
	prof	text := parts[cardinality(parts) - 1];
	src		text;
	f		text;
	terms	text[] := '{}';
BEGIN
	FOREACH src IN ARRAY string_to_array(last, ':') LOOP
		IF src ~ '^[0-9.]+$' OR src ~ ':' THEN
			terms := terms || format('router ip %s', src::inet);
			CONTINUE;
		END IF;
		SELECT c.filter INTO f FROM nfpg.profile_channels c WHERE c.profile = prof AND c.channel = src;
		IF NOT FOUND THEN
			RAISE EXCEPTION 'No such source: ''%'' (no channel % of profile %)', src, src, prof
				USING ERRCODE = 'undefined_object';
		END IF;
		terms := terms || ('(' || f || E'\n)');
	END LOOP;
	SELECT '(' || p.filter || E'\n) and ' INTO f FROM nfpg.profiles p WHERE p.profile = prof;
	RETURN coalesce(f, '') || '(' || array_to_string(terms, ' or ') || ')';
END
$$;
COMMENT ON FUNCTION nfpg.nf_dump_sources(text) IS 'The filter nfpg-dump applies for nfdump -M <profile dir>/<source>:<source>: the channels of that NfSen profile, or exporter addresses';

-- nfdump -I: the statistics nfcapd keeps in each file's header, over the
-- flows that stand for the files (the filter and -t do not apply, as in nfdump).
CREATE FUNCTION nfpg.nfdump_info(scope text DEFAULT NULL, scope_from timestamptz DEFAULT NULL,
	scope_to timestamptz DEFAULT NULL)
RETURNS SETOF text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	w	text := coalesce('(' || nfpg.nf_filter_sql(scope) || ')', 'true')
			|| CASE WHEN scope_from IS NOT NULL THEN ' AND received >= $1' ELSE '' END
			|| CASE WHEN scope_to IS NOT NULL THEN ' AND received < $2' ELSE '' END;
	r	record;
BEGIN
	EXECUTE 'SELECT coalesce(sum(greatest(flows, 1)), 0) AS fl,'
		' coalesce(sum(greatest(flows, 1)) FILTER (WHERE proto = 6), 0) AS fl_tcp,'
		' coalesce(sum(greatest(flows, 1)) FILTER (WHERE proto = 17), 0) AS fl_udp,'
		' coalesce(sum(greatest(flows, 1)) FILTER (WHERE proto IN (1, 58)), 0) AS fl_icmp,'
		' coalesce(sum(greatest(flows, 1)) FILTER (WHERE proto NOT IN (1, 6, 17, 58)), 0) AS fl_other,'
		' coalesce(sum(packets + coalesce(out_packets, 0)), 0) AS pk,'
		' coalesce(sum(packets + coalesce(out_packets, 0)) FILTER (WHERE proto = 6), 0) AS pk_tcp,'
		' coalesce(sum(packets + coalesce(out_packets, 0)) FILTER (WHERE proto = 17), 0) AS pk_udp,'
		' coalesce(sum(packets + coalesce(out_packets, 0)) FILTER (WHERE proto IN (1, 58)), 0) AS pk_icmp,'
		' coalesce(sum(packets + coalesce(out_packets, 0)) FILTER (WHERE proto NOT IN (1, 6, 17, 58)), 0) AS pk_other,'
		' coalesce(sum(bytes + coalesce(out_bytes, 0)), 0) AS byt,'
		' coalesce(sum(bytes + coalesce(out_bytes, 0)) FILTER (WHERE proto = 6), 0) AS byt_tcp,'
		' coalesce(sum(bytes + coalesce(out_bytes, 0)) FILTER (WHERE proto = 17), 0) AS byt_udp,'
		' coalesce(sum(bytes + coalesce(out_bytes, 0)) FILTER (WHERE proto IN (1, 58)), 0) AS byt_icmp,'
		' coalesce(sum(bytes + coalesce(out_bytes, 0)) FILTER (WHERE proto NOT IN (1, 6, 17, 58)), 0) AS byt_other,'
		' (extract(epoch FROM min(first_seen)) * 1000)::bigint AS f, (extract(epoch FROM max(last_seen)) * 1000)::bigint AS l'
		' FROM nfpg.flows WHERE ' || w INTO r USING scope_from, scope_to;
	RETURN NEXT 'Ident: none';
	RETURN NEXT 'Flows: ' || r.fl;
	RETURN NEXT 'Flows_tcp: ' || r.fl_tcp;
	RETURN NEXT 'Flows_udp: ' || r.fl_udp;
	RETURN NEXT 'Flows_icmp: ' || r.fl_icmp;
	RETURN NEXT 'Flows_other: ' || r.fl_other;
	RETURN NEXT 'Packets: ' || r.pk;
	RETURN NEXT 'Packets_tcp: ' || r.pk_tcp;
	RETURN NEXT 'Packets_udp: ' || r.pk_udp;
	RETURN NEXT 'Packets_icmp: ' || r.pk_icmp;
	RETURN NEXT 'Packets_other: ' || r.pk_other;
	RETURN NEXT 'Bytes: ' || r.byt;
	RETURN NEXT 'Bytes_tcp: ' || r.byt_tcp;
	RETURN NEXT 'Bytes_udp: ' || r.byt_udp;
	RETURN NEXT 'Bytes_icmp: ' || r.byt_icmp;
	RETURN NEXT 'Bytes_other: ' || r.byt_other;
	RETURN NEXT 'First: ' || coalesce(r.f / 1000, 0);
	RETURN NEXT 'Last: ' || coalesce(r.l / 1000, 0);
	RETURN NEXT 'msec_first: ' || coalesce(r.f % 1000, 0);
	RETURN NEXT 'msec_last: ' || coalesce(r.l % 1000, 0);
	RETURN NEXT 'Sequence failures: ' || (SELECT coalesce(sum(sequence_failures), 0) FROM nfpg.exporters);
END
$$;
COMMENT ON FUNCTION nfpg.nfdump_info(text, timestamptz, timestamptz) IS 'nfdump -I: flow, packet and byte counts per protocol class, first and last seen, sequence failures, of the flows standing for the files (filter and -t do not apply, as in nfdump)';

-- nfdump -E: the exporters, numbered (SysID) in the order their first flow arrived.
CREATE FUNCTION nfpg.nfdump_exporters()
RETURNS SETOF text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN NEXT 'Exporters:';
	RETURN NEXT '';
	RETURN QUERY
	SELECT format('SysID: %s, IP: %s, version: %s, ID: %s, Sequence failures: %s, packets: %s, flows: %s',
				  row_number() OVER (ORDER BY o.received, o.rid, e.first_seen),
				  lpad(host(e.exporter), CASE family(e.exporter) WHEN 4 THEN 16 ELSE 40 END),
				  e.export_version, lpad(e.source_id::text, 2), e.sequence_failures, e.packets, e.flows)
	FROM nfpg.exporters e
	LEFT JOIN (SELECT DISTINCT ON (exporter, export_version, source_id) exporter, export_version,
					  source_id, received, ctid AS rid
			   FROM nfpg.flows ORDER BY exporter, export_version, source_id, received, ctid) o
		USING (exporter, export_version, source_id)
	ORDER BY o.received, o.rid, e.first_seen;
END
$$;
COMMENT ON FUNCTION nfpg.nfdump_exporters() IS 'nfdump -E: every exporter with its version, source id, sequence failures, datagrams and flows';

GRANT EXECUTE ON FUNCTION nfpg.nf_number(bigint, boolean),
	nfpg.nf_format(record, text, boolean, boolean),
	nfpg.nf_format_header(text, boolean), nfpg.nf_time(text), nfpg.nf_time_window(text),
	nfpg.nf_stat_spec(text), nfpg.nf_stat_title(text),
	nfpg.nf_top(text, integer, text, text),
	nfpg.nf_stat_line(text, text, text, smallint, timestamptz, timestamptz, bigint, double precision, bigint, double precision, bigint, double precision, bigint, bigint, bigint, boolean, boolean),
	nfpg.nf_summary_lines(text, boolean, bigint, bigint, bigint, bigint, bigint, timestamptz, timestamptz, timestamptz, timestamptz, timestamptz, timestamptz),
	nfpg.nf_limit(text, text), nfpg.nf_record_order(text), nfpg.nf_aggregate_format(text),
	nfpg.nf_record_columns(text),
	nfpg.nfdump(text[], integer, text, text, text, text, text, text, integer, text, text, text, timestamptz, timestamptz, boolean, boolean, boolean),
	nfpg.nf_dump_sources(text), nfpg.nfdump_info(text, timestamptz, timestamptz), nfpg.nfdump_exporters()
	TO nfpg_reader;
