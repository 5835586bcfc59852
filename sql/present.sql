-- nfdump's presentation in SQL (36_present.sql, format_stat.c,
-- format_header.c).  Expected lines are nfdump 1.7.1's: the -s lines are the
-- reference outputs of nfdump-1.7.md Appendix A (13 NetFlow v5 records),
-- the headers those nfdump prints for the same formats.
SET timezone = 'UTC';
\set VERBOSITY terse
-- scaled numbers, as the Summary line prints them
SELECT nfpg.nf_number(440760799), nfpg.nf_number(1500158926), nfpg.nf_number(2000186),
	nfpg.nf_number(999999), nfpg.nf_number(0), nfpg.nf_number(440760799, plain => true);
-- -s lines: reference "nfdump -r v5file -s ip -n 3" and "-s proto"
SELECT nfpg.nf_stat_line('line', 'addr', '10.0.0.1', NULL, '2024-01-15 09:59:00', '2024-01-15 09:59:26',
	4, 400.0 / 13, 22, 2200.0 / 2000186, 17400, 1740000.0 / 1500158926, 0, 5353, 790, false, false);
SELECT nfpg.nf_stat_line('line', 'other', '6', 6::smallint, '2024-01-15 09:58:50', '2024-01-15 09:59:59',
	8, 800.0 / 13, 2000029, 200002900.0 / 2000186, 1500018320, 150001832000.0 / 1500158926, 28985, 173915167, 749, false, false);
SELECT nfpg.nf_stat_line('csv', 'addr', '10.0.0.1', NULL, '2024-01-15 09:59:00', '2024-01-15 09:59:26',
	4, 400.0 / 13, 22, 2200.0 / 2000186, 17400, 1740000.0 / 1500158926, 0, 5353, 790, false, false);
SELECT nfpg.nf_stat_line('pipe', 'addr', '10.0.0.1', NULL, '2024-01-15 09:59:00', '2024-01-15 09:59:26',
	4, 400.0 / 13, 22, 2200.0 / 2000186, 17400, 1740000.0 / 1500158926, 0, 5353, 790, false, false);
-- -N: plain numbers, the duration in seconds, the protocol number
SELECT nfpg.nf_stat_line('line', 'other', '6', 6::smallint, '2024-01-15 09:58:50', '2024-01-15 09:59:59',
	8, 800.0 / 13, 2000029, 200002900.0 / 2000186, 1500018320, 150001832000.0 / 1500158926, 28985, 173915167, 749, true, false);
SELECT nfpg.nf_stat_line('html', 'other', '6', NULL, now(), now(), 1, 1, 1, 1, 1, 1, 1, 1, 1, false, false);
-- nfdump's -s spelling: orders in nfdump's print order, the last direction
SELECT * FROM nfpg.nf_stat_spec('ip:p/bytes/flows:a');
SELECT * FROM nfpg.nf_stat_spec('ip');
SELECT * FROM nfpg.nf_stat_spec('ip/bits');
SELECT * FROM nfpg.nf_stat_title('dstport:p') a, nfpg.nf_stat_title('nhbip') b, nfpg.nf_stat_title('mpls10') c;
-- nfdump's -t format, in the session time zone, with its checks
SELECT nfpg.nf_time('2024/03/11.09:00'), nfpg.nf_time('2024/03'), nfpg.nf_time('2024/03/11.09:00:59');
SELECT * FROM nfpg.nf_time_window('2024/03/11.09:00-2024/03/11.10:00');
SELECT nfpg.nf_time('2024/13/01');
SELECT nfpg.nf_time('2024-03-11 09:00');
SELECT nfpg.nf_time('1969/12/31');
-- headers of any format: the -A auto format, -6, pipe has none
SELECT nfpg.nf_format_header(nfpg.nf_aggregate_format('srcip4/24,dstport'), false);
SELECT nfpg.nf_aggregate_format('srcip4/24,dstport');
SELECT nfpg.nf_format_header('fmt:%ts %sa -> %da %byt', false);
SELECT nfpg.nf_format_header('fmt:%sa %nh', true);
SELECT nfpg.nf_format_header('extended', false) = nfpg.nf_format_header('extended') AS same_as_before;
SELECT nfpg.nf_format_header('pipe', false) IS NULL AS pipe_has_none;
SELECT nfpg.nf_format_header('fmt:%foo', false);
-- -l / -L and -O words
SELECT * FROM nfpg.nf_limit('+10k', 'packets') p, nfpg.nf_limit('-1m', 'bytes') b;
SELECT * FROM nfpg.nf_limit('1x', 'bytes');
SELECT nfpg.nf_record_order('tstart'), nfpg.nf_record_order('bytes:a');
SELECT nfpg.nf_record_order('sideways');

-- over flows: the three reference records of format_output, on a day of their own
TRUNCATE nfpg.flows;
SELECT nfpg.ensure_partitions('2024-02-20 09:00+00', '2024-02-20 11:00+00') > 0 AS partitions;
INSERT INTO nfpg.flows (first_seen, last_seen, received, proto, src_addr, src_port, dst_addr, dst_port,
	packets, bytes, tcp_flags, src_tos, exporter, export_version) VALUES
	('2024-02-20 09:59:00+00', '2024-02-20 09:59:02+00', '2024-02-20 10:00:00+00', 6, '10.0.0.1', 40000, '172.16.5.5', 80, 10, 5000, 27, 0, '127.0.0.1', 5),
	('2024-02-20 10:00:01+00', '2024-02-20 10:00:01.5+00', '2024-02-20 10:00:02+00', 17, '2001:db8::1', 40001, '2001:db8:1::53', 53, 1, 120, 0, 0, '127.0.0.1', 10),
	('2024-02-20 09:59:15+00', '2024-02-20 09:59:18+00', '2024-02-20 10:00:00.5+00', 1, '10.0.0.3', 0, '8.8.4.4', 2048, 4, 336, 0, 0, '127.0.0.1', 5);
-- -N on records
SELECT nfpg.nf_format(f, 'line', true, false) FROM nfpg.flows f ORDER BY received;
-- the whole output of "nfdump -o line" (read order: received)
SELECT * FROM nfpg.nfdump(format => 'line');
SELECT * FROM nfpg.nfdump(format => 'line', record_limit => 1, filter => 'proto icmp');
SELECT * FROM nfpg.nfdump(stats => '{proto/bytes}', top => 2, quiet => true);
SELECT * FROM nfpg.nfdump(stats => '{ip}', format => 'csv', top => 2);
SELECT * FROM nfpg.nfdump(format => 'line', filter => 'proto 200');
-- -q: the records alone, or "No matching flows" (told from the rows printed:
-- no count is made first)
SELECT * FROM nfpg.nfdump(format => 'line', quiet => true, filter => 'proto udp or proto icmp');
SELECT * FROM nfpg.nfdump(format => 'line', quiet => true, filter => 'proto 200');
SELECT * FROM nfpg.nfdump(format => 'json', quiet => true, filter => 'proto 200');
-- nfdump_records(): the query of a quiet plain dump's records, which
-- nfpg-dump -q runs itself so that they stream, and its parameters: the same
-- lines as nfdump(quiet => true), in the same order, or none and no_match
SELECT query, param2, param3, param4, param5, no_match
  FROM nfpg.nfdump_records(filter => 'proto udp', format => 'line', time_window => '2024/02/20.10:00-2024/02/20.11:00');
CREATE FUNCTION pg_temp.streamed(filter text, fmt text, print_order text DEFAULT NULL,
	top integer DEFAULT NULL, time_window text DEFAULT NULL) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
	r	record;
BEGIN
	SELECT * INTO r FROM nfpg.nfdump_records(filter => filter, format => fmt, print_order => print_order,
		top => top, time_window => time_window);
	RETURN QUERY EXECUTE r.query USING NULL::text, r.param2, r.param3, r.param4, r.param5;
	IF NOT FOUND THEN
		RETURN NEXT r.no_match;
	END IF;
END
$$;
SELECT f, o, w, (SELECT array_agg(l) FROM pg_temp.streamed(f, o, p, n, w) l) =
	   (SELECT array_agg(l) FROM nfpg.nfdump(filter => f, format => o, print_order => p, top => n,
											 time_window => w, quiet => true) l) AS same_lines,
	   (SELECT count(*) FROM pg_temp.streamed(f, o, p, n, w) l WHERE l <> 'No matching flows') AS lines
  FROM (VALUES ('proto udp or proto icmp', 'line', NULL, NULL, NULL),
			   (NULL, 'json', NULL, NULL, NULL),
			   (NULL, 'csv', 'bytes', 2, NULL),
			   ('not proto udp', 'fmt:%ts %sa %byt', NULL, NULL, '2024/02/20.09:59:10-2024/02/20.10:00:00'),
			   ('proto 200', 'line', NULL, NULL, NULL)) v(f, o, p, n, w);
SELECT right(l, 2) AS json_object_ends FROM pg_temp.streamed(NULL, 'json') l;
SELECT * FROM nfpg.nfdump_records(format => 'fmt:%foo');
SELECT * FROM nfpg.nfdump(stats => '{ip/bits}');
SELECT * FROM nfpg.nfdump(stats => '{foo}');
SELECT * FROM nfpg.nfdump(format => 'line', packet_limit => '+1');
SELECT * FROM nfpg.nfdump(format => 'json', record_limit => 2);
-- typed Top-N
SELECT rank, value, addr, num, proto, flows, flows_pct, bytes_pct FROM nfpg.nf_top('ip/bytes', 3);
SELECT rank, value, num, proto FROM nfpg.nf_top('dstport:p/flows', 2, 'proto tcp or proto udp', '2024/02/20.09:00-2024/02/20.11:00');
SELECT value FROM nfpg.nf_stat('ip/bytes', top => 1);
-- -I ignores the filter; every line of it
SELECT * FROM nfpg.nfdump_info();
TRUNCATE nfpg.flows;
