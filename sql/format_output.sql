-- nf_format: every output format of nfdump -o, byte for byte.  Part 1 uses
-- the reference records of nfdump-1.7.md 5.1 (the lines quoted there are
-- nfdump 1.7.1's); part 2 the flowgen flows of test/data/stat_flows.csv,
-- whose every line in every format equals nfdump's on the same flows
-- (test/integration/stat_nfdump_diff.sh checks that on fresh flows).
SET timezone = 'UTC';
\set VERBOSITY terse
TRUNCATE nfpg.flows;
SELECT nfpg.ensure_partitions('2024-01-15 09:00+00', '2024-01-15 11:00+00') > 0 AS partitions;
INSERT INTO nfpg.flows (first_seen, last_seen, proto, src_addr, src_port, dst_addr, dst_port,
	packets, bytes, tcp_flags, src_tos, exporter, export_version) VALUES
	('2024-01-15 09:59:00+00', '2024-01-15 09:59:02+00', 6, '10.0.0.1', 40000, '172.16.5.5', 80, 10, 5000, 27, 0, '127.0.0.1', 5),
	('2024-01-15 10:00:01+00', '2024-01-15 10:00:01.5+00', 17, '2001:db8::1', 40001, '2001:db8:1::53', 53, 1, 120, 0, 0, '127.0.0.1', 10),
	('2024-01-15 09:59:15+00', '2024-01-15 09:59:18+00', 1, '10.0.0.3', 0, '8.8.4.4', 2048, 4, 336, 0, 0, '127.0.0.1', 5);
-- reference 5.1:
-- Date first seen             Duration     Proto      Src IP Addr:Port          Dst IP Addr:Port   Packets    Bytes Flows
-- 2024-01-15 09:59:00.000     00:00:02.000 TCP           10.0.0.1:40000 ->       172.16.5.5:80          10     5000     1
-- 2024-01-15 10:00:01.000     00:00:00.500 UDP        2001:db8::1.40001 ->   2001:db8:1::53.53           1      120     1
-- 2024-01-15 09:59:15.000     00:00:03.000 ICMP          10.0.0.3:0     ->          8.8.4.4:8.0          4      336     1
SELECT nfpg.nf_format_header('line');
SELECT nfpg.nf_format(f, 'line') FROM nfpg.flows f ORDER BY export_version, first_seen;
-- Date first seen             Duration     Proto      Src IP Addr:Port          Dst IP Addr:Port     Flags Tos  Packets    Bytes      pps      bps    Bpp Flows
-- 2024-01-15 09:59:00.000     00:00:02.000 TCP           10.0.0.1:40000 ->       172.16.5.5:80    ...AP.SF   0       10     5000        5    20000    500     1
SELECT nfpg.nf_format_header('extended');
SELECT nfpg.nf_format(f, 'extended') FROM nfpg.flows f WHERE proto = 6;

-- Part 2: the flowgen flows, the first 8 by start time in each format
TRUNCATE nfpg.flows;
\set csv test/data/stat_flows.csv
\set ECHO none
\o /dev/null
\i test/tools/load_flowgen_csv.sql
\o
\set ECHO all
UPDATE nfpg.flows SET engine_type = source_id >> 8, engine_id = source_id & 255;
CREATE TEMP VIEW sample AS
SELECT f FROM nfpg.flows f WHERE proto IN (1, 58, 47, 50) OR src_port IN (443, 53)
ORDER BY first_seen, src_addr LIMIT 8;
SELECT nfpg.nf_format(s.f, 'line') FROM sample s;
SELECT nfpg.nf_format(s.f, 'long') FROM sample s;
SELECT nfpg.nf_format(s.f, 'extended') FROM sample s;
SELECT nfpg.nf_format(s.f, 'biline') FROM sample s;
SELECT nfpg.nf_format(s.f, 'bilong') FROM sample s;
SELECT nfpg.nf_format(s.f, 'line6') FROM sample s;
SELECT nfpg.nf_format(s.f, 'extended6') FROM sample s;
SELECT nfpg.nf_format(s.f, 'gline') FROM sample s;
SELECT nfpg.nf_format(s.f, 'nsel') FROM sample s;
SELECT nfpg.nf_format(s.f, 'nel') FROM sample s;
SELECT nfpg.nf_format(s.f, 'pipe') FROM sample s;
-- csv without its last column (the collector's receive time)
SELECT nfpg.nf_format_header('csv');
SELECT regexp_replace(nfpg.nf_format(s.f, 'csv'), ',[^,]*$', '') FROM sample s;
-- fmt: every token, one per line for the first flow
SELECT tok, nfpg.nf_format(s.f, 'fmt:[' || tok || ']')
FROM (SELECT * FROM sample LIMIT 1) s,
	unnest(string_to_array('%ts %te %td %tds %pr %sa %da %sap %dap %sn %dn %gsa %gda %gsap %gdap %sp %dp %it %ic %nh %nhb %ra %sas %das %nas %pas %in %out %pkt %ipkt %opkt %byt %ibyt %obyt %fl %flg %tos %stos %dtos %dir %smk %dmk %fwd %svln %dvln %ismc %odmc %idmc %osmc %mpls1 %mpls9 %mpls %bps %pps %bpp %eng %exp %nfv %cnt %lbl %tsr %ter %odid %opid %vrf %ivrf %evrf %ivrfnam %evrfnam %inam %onam %cl %sl %al %bfd %end %sc %dc %sloc %dloc %nbid %nbnam %ja3 %sni %nfc %tevt %evt %xevt %sgt %msec %iacl %eacl %xsa %xda %xsp %xdp %xsap %xdap %uname %nevt %nsa %nda %nsp %ndp %nsap %ndap %pbstart %pbend %pbstep %pbsize %tfs', ' ')) tok;
-- ICMP: type.code in %dap and %dp, type and code in %it %ic
SELECT nfpg.nf_format(f, 'fmt:%pr|%dap|%dp|%it|%ic') FROM nfpg.flows f WHERE proto IN (1, 58) ORDER BY first_seen LIMIT 4;
-- %line inside fmt:, a format without fmt: starting with %, %mpls10 = %mpls1 then 0
SELECT nfpg.nf_format(s.f, 'fmt:%line %ra') FROM sample s LIMIT 1;
SELECT nfpg.nf_format(s.f, '%ts %sa') FROM sample s LIMIT 1;
SELECT nfpg.nf_format(s.f, 'fmt:%mpls10') FROM sample s LIMIT 1;
-- number scaling (reference 3.4: integers below a million, then decimal M/G/T, no K)
SELECT v, nfpg.nf_format(jsonb_populate_record(s.f, jsonb_build_object('packets', v, 'bytes', v)),
	'fmt:%pkt|%byt|%fl')
FROM (SELECT f FROM nfpg.flows f ORDER BY first_seen LIMIT 1) s,
	(VALUES (999999), (1000000), (1500000000), (2500000000000)) t(v);
-- any row with nfpg.flows column names: a subquery, missing columns print as absent
SELECT nfpg.nf_format(r, 'fmt:%ts %pr %sap -> %dap %pkt %byt %flg %sas')
FROM (SELECT first_seen, proto, src_addr, src_port, dst_addr, dst_port, packets, bytes
	  FROM nfpg.flows ORDER BY first_seen LIMIT 2) r;
-- times follow the session time zone, as nfdump prints local time
SET timezone = 'Europe/Zurich';
SELECT nfpg.nf_format(s.f, 'fmt:%ts %te') FROM sample s LIMIT 1;
RESET timezone;
-- errors
SELECT nfpg.nf_format(s.f, 'fmt:%ts %foo') FROM sample s LIMIT 1;
SELECT nfpg.nf_format(s.f, 'nosuch') FROM sample s LIMIT 1;

-- Planner support (format_support.c): with a constant format the planner
-- hands nf_format only the columns the format prints (NULL in the others),
-- so a scan decodes those only.  Every token and every predefined format
-- prints the same from those columns as from the whole row: a format that
-- is not a constant (a scalar subquery here) is not pruned.  Half the flows
-- get every other column filled, so a column missed by fmt_columns shows.
UPDATE nfpg.flows SET received = last_seen + interval '3 s', out_packets = packets + 1,
	out_bytes = bytes * 2, next_as = 3356, prev_as = 174, src_vlan = 10, dst_vlan = 20,
	dst_tos = 8, fwd_status = 64, direction = 1, bgp_next_hop = '192.0.2.77',
	in_src_mac = '00:11:22:33:44:55', out_dst_mac = '66:77:88:99:aa:bb',
	in_dst_mac = '02:00:00:00:00:01', out_src_mac = '02:00:00:00:00:02',
	mpls_labels = '{1001,1002,1003}', next_hop = coalesce(next_hop, '10.255.0.1')
WHERE src_port % 2 = 0;
CREATE TEMP TABLE fmt_tokens AS
SELECT unnest(string_to_array('%ts %te %tr %td %tds %pr %sa %da %sap %dap %sn %dn %gsa %gda %gsap %gdap %sp %dp %it %ic %nh %nhb %ra %sas %das %nas %pas %in %out %pkt %ipkt %opkt %byt %ibyt %obyt %fl %flg %tos %stos %dtos %dir %smk %dmk %fwd %svln %dvln %ismc %odmc %idmc %osmc %mpls1 %mpls3 %mpls %bps %pps %bpp %eng %exp %nfv %cnt %lbl %tsr %ter %trr %bfd %end %n %tfs %xsap', ' ')) AS fmt
UNION ALL
SELECT unnest('{line,long,extended,biline,bilong,gline,glong,nsel,nel,line6,long6,extended6}'::text[]);
DO $$
DECLARE
	f text;
	n bigint;
	checked int := 0;
BEGIN
	FOR f IN SELECT fmt FROM fmt_tokens LOOP
		EXECUTE format('SELECT count(*) FROM (SELECT nfpg.nf_format(f, %1$L) a, nfpg.nf_format(f, (SELECT %1$L::text)) b,'
					   ' nfpg.nf_format(f, %1$L, true, true) c, nfpg.nf_format(f, (SELECT %1$L::text), true, true) d'
					   ' FROM nfpg.flows f) x WHERE a IS DISTINCT FROM b OR c IS DISTINCT FROM d', f) INTO n;
		IF n > 0 THEN
			RAISE WARNING 'format %: % flows print differently from the columns it reads', f, n;
		END IF;
		checked := checked + 1;
	END LOOP;
	RAISE NOTICE '% formats compared on % flows', checked, (SELECT count(*) FROM nfpg.flows);
END
$$;
-- what the scan is asked for: the printed columns
EXPLAIN (VERBOSE, COSTS OFF) SELECT nfpg.nf_format(f, 'fmt:%ts %sap %byt') FROM nfpg.flows_20240311_0900 f;
-- nfdump()'s shape, a subquery the planner pulls up: its ROW() is pruned too
EXPLAIN (VERBOSE, COSTS OFF) SELECT nfpg.nf_format(f, 'fmt:%pr %pkt', false, false)
FROM (SELECT *, ctid AS rid FROM nfpg.flows_20240311_0900) f ORDER BY rid;
-- the function the planner writes: its column set must match its arguments
SELECT nfpg.nf_format_columns('fmt:%pkt|%byt|%sa', false, false, 8 | 16 | 1073741824, 5::bigint, NULL::bigint, '10.1.2.3'::inet);
SELECT nfpg.nf_format_columns('fmt:%pkt', false, false, 8, 5, 6);
SELECT nfpg.nf_format_columns('fmt:%pkt', false, false, 8 | 16, 5);
SELECT nfpg.nf_format_columns('fmt:%pkt', false, false, 8, '10.1.2.3'::inet);
SELECT nfpg.nf_format_columns('fmt:%pkt', false, false, NULL, 5) IS NULL AS strict_head;
-- a ROW() of the user's: fields nf_format does not know are dropped, a
-- volatile one is kept
EXPLAIN (VERBOSE, COSTS OFF) SELECT nfpg.nf_format(ROW(f.packets, random()), 'fmt:%pkt') FROM nfpg.flows_20240311_0900 f;
-- left alone: csv (every field), a format that is not a constant, an outer
-- join (a missing row is NULL, not a record of zeros)
EXPLAIN (VERBOSE, COSTS OFF) SELECT nfpg.nf_format(f, 'csv'), nfpg.nf_format(f, (SELECT 'line'))
FROM nfpg.flows_20240311_0900 f;
SELECT count(*) FILTER (WHERE nfpg.nf_format(f, 'line') IS NULL) AS null_rows, count(*) AS rows
FROM (VALUES (1), (2)) v(i) LEFT JOIN nfpg.flows f ON f.src_port = -v.i;
-- column privileges are checked as the query was written: a role that may
-- read only the printed columns still may not take the whole row
CREATE ROLE fmt_some_columns;
GRANT USAGE ON SCHEMA nfpg TO fmt_some_columns;
GRANT SELECT (first_seen, bytes, proto, src_addr, src_port, dst_port) ON nfpg.flows_20240311_0900 TO fmt_some_columns;
SET ROLE fmt_some_columns;
SELECT count(nfpg.nf_format(f, 'fmt:%ts %sap %byt')) FROM nfpg.flows_20240311_0900 f;
SELECT count(nfpg.nf_format(ROW(f.first_seen, f.bytes), 'fmt:%ts %byt')) FROM nfpg.flows_20240311_0900 f;
RESET ROLE;
DROP OWNED BY fmt_some_columns;
DROP ROLE fmt_some_columns;
-- an unknown constant format is the run-time error, raised while planning
SELECT nfpg.nf_format(f, 'fmt:%ts %foo') FROM nfpg.flows f WHERE false;

-- the edges of the fields written at a pointer (format_field.c): a record
-- that ends before it starts, by days too; a year past 9999 and one before
-- year 1; a protocol without a name, plain and named; the IPv6 shapes
-- inet_ntop condenses differently (::, ::1, mapped and compatible IPv4, a
-- single zero group), condensed and in full; ICMP type.code; counters
-- scaled and not; literal text longer than a field
SELECT nfpg.nf_format(t, 'fmt:%ts|%te|%td|%pr|%sap|%dap|%pkt|%byt') AS line,
	   nfpg.nf_format(t, 'fmt:%td|%pr|%sap|%dap|%pkt|%byt', true, true) AS plain_long
  FROM (VALUES
	('2024-03-11 10:00:01.5+00'::timestamptz, '2024-03-11 09:59:58.25+00'::timestamptz, 6::smallint,
	 '::'::inet, '::1'::inet, 443, 6::bigint, 999999::bigint),
	('2024-03-11 10:00:00+00', '2024-03-08 09:00:00.001+00', 300, '::ffff:10.1.2.3', '::10.1.2.3', 0,
	 1000000, 70000000),
	('10000-01-01 00:00:00.123+00', '10000-01-03 01:02:03.456+00', 58, '2001:db8:0:1:1:1:1:1',
	 '2001:db8::1:0:0:1', 771, 12, 4500000000000),
	('0044-03-15 12:00:00+00 BC', '0044-03-15 12:00:01+00 BC', 1, '255.255.255.255', '0.0.0.0', 2048,
	 1, 40)
  ) t(first_seen, last_seen, proto, src_addr, dst_addr, dst_port, packets, bytes);
SELECT nfpg.nf_format(t, 'fmt:' || repeat('literal text longer than a field ', 4) || '%ts') AS long_text
  FROM (VALUES ('2024-03-11 10:00:01.5+00'::timestamptz)) t(first_seen);

-- leave no partitions behind for the tests that follow
TRUNCATE nfpg.flows;
DO $$
DECLARE
	parts regclass[] := ARRAY(SELECT relid FROM nfpg.partitions);
	p regclass;
BEGIN
	DELETE FROM nfpg.partitions;
	FOREACH p IN ARRAY parts LOOP
		EXECUTE format('DROP TABLE %s', p);
	END LOOP;
END
$$;
