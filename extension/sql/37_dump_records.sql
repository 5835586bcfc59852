--------------------------------------------------------------------------------
-- A plain dump's records, streamed: the query behind nfdump()'s records
--
-- nfdump() is a plpgsql set-returning function, and PostgreSQL keeps all a
-- plpgsql function returns (a tuplestore, written to a temporary file past
-- work_mem) before its caller sees the first line: `nfpg-dump -q` over a
-- day wrote every line of the day to disk, then read it back, before it
-- printed one (a fifth of its time for the 200,000 lines of `proto tcp and
-- dst port 587`; for an unfiltered day, 3.4 GB of temporary file).  With -q
-- and no -c, a plain dump's output is its records alone (and "No matching
-- flows" when there are none), so
--   nfdump_records(filter => 'proto tcp and dst port 587', quiet options...)
-- returns the query nfdump() runs for those records, with the values of its
-- parameters $2 to $5 ($1 is unused: text), and nfpg-dump runs it itself:
-- the lines stream from the query's parallel plan to the terminal as they
-- come.  The query is made by nf_dump_records_sql(), the same function
-- nfdump() makes its own with, from SQL this extension wrote (the compiled
-- filter, the -O terms, quoted literals): the two cannot print different
-- records, and no user text is pasted into it.
--------------------------------------------------------------------------------

CREATE FUNCTION nfpg.nf_row_place(tid)
RETURNS bigint AS 'MODULE_PATHNAME', 'nf_row_place'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION nfpg.nf_row_place(tid) IS 'A row''s place (ctid) as a bigint in ctid''s order, which sorts fast: the last key of nfdump()''s record order';

-- Which flows stand for nfdump's input files: the scope filter (-M's
-- exporters) and the received-time range of -r/-R file names, as $4 and $5.
CREATE FUNCTION nfpg.nf_dump_scope(scope text, scope_from timestamptz, scope_to timestamptz)
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT CASE WHEN scope IS NOT NULL THEN '(' || nfpg.nf_filter_sql(scope) || ')' ELSE 'true' END
	|| CASE WHEN scope_from IS NOT NULL THEN ' AND received >= $4' ELSE '' END
	|| CASE WHEN scope_to IS NOT NULL THEN ' AND received < $5' ELSE '' END
$$;
COMMENT ON FUNCTION nfpg.nf_dump_scope(text, timestamptz, timestamptz) IS 'Internal to nfdump(): the condition on nfpg.flows for the flows that stand for the input files (parameters $4, $5)';

-- The records of a plain dump: in the order nfcapd wrote them (received,
-- then the partition and the row's place in it: the same order from run to
-- run, where rows loaded together in several partitions tie on received),
-- or by -O and then so, the first top of them with -O -n;
-- src, the rows read (-c's subquery), else those of the scope that pass.
-- json_end: a json dump's objects are joined by "," and the last followed
-- by json_end.  The sort keys come first in the rows sorted: every row of a
-- load ties on received, and the keys after it are read from each row
-- compared, which is quick at fixed places before the line, slow after it.
CREATE FUNCTION nfpg.nf_dump_records_sql(fmt text, plain boolean, long_v6 boolean,
	print_order text, top integer, json_end text, src text, scope_w text, pass text)
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT format('SELECT line FROM (SELECT received, rpart, rid, nfpg.nf_format(f, %L, %L, %L)%s AS line'
	' FROM %s ORDER BY %s received, rpart, rid %s) r',
	fmt, plain, long_v6,
	CASE WHEN json_end IS NOT NULL THEN format(' || CASE WHEN lead(true) OVER (ORDER BY %s received, rpart, rid) IS NULL'
		' THEN %L ELSE '','' END', nfpg.nf_record_order(print_order), json_end) ELSE '' END,
	coalesce(src, '(SELECT *, tableoid AS rpart, nfpg.nf_row_place(ctid) AS rid FROM nfpg.flows WHERE ' || scope_w || ' AND ' || pass || ') f'),
	nfpg.nf_record_order(print_order),
	CASE WHEN print_order IS NOT NULL AND top > 0 THEN 'LIMIT ' || top ELSE '' END)
$$;
COMMENT ON FUNCTION nfpg.nf_dump_records_sql(text, boolean, boolean, text, integer, text, text, text, text) IS 'Internal to nfdump() and nfdump_records(): the query of a plain dump''s records';

CREATE FUNCTION nfpg.nfdump_records(filter text DEFAULT NULL, time_window text DEFAULT NULL,
	print_order text DEFAULT NULL, top integer DEFAULT NULL, format text DEFAULT NULL,
	scope text DEFAULT NULL, scope_from timestamptz DEFAULT NULL, scope_to timestamptz DEFAULT NULL,
	plain boolean DEFAULT false, long_v6 boolean DEFAULT false,
	OUT query text, OUT param2 timestamptz, OUT param3 timestamptz, OUT param4 timestamptz,
	OUT param5 timestamptz, OUT no_match text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	fmt		text := coalesce(format, 'nsel');
BEGIN
	IF time_window IS NOT NULL THEN
		SELECT w.t_from, w.t_to INTO param2, param3 FROM nfpg.nf_time_window(time_window) w;
	END IF;
	PERFORM nfpg.nf_format_header(fmt, long_v6);	-- a bad format fails here, as in nfdump()
	query := nfpg.nf_dump_records_sql(fmt, plain, long_v6, print_order, coalesce(top, 0),
		CASE WHEN fmt = 'json' THEN '' END, NULL, nfpg.nf_dump_scope(scope, scope_from, scope_to),
		nfpg.nf_stat_where(filter, param2, param3));
	param4 := scope_from;
	param5 := scope_to;
	no_match := 'No matching flows';
END
$$;
COMMENT ON FUNCTION nfpg.nfdump_records(text, text, text, integer, text, text, timestamptz, timestamptz, boolean, boolean) IS
'What nfdump(..., quiet => true) prints for a plain dump (no -s, -a, -A, -c, -l, -L), as a query to run: query, with $1 NULL::text and $2 .. $5 param2 .. param5; no_match when it returns no row.  nfpg-dump -q runs it so the records stream';
