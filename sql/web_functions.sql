-- The web console's functions (72_web.sql) on a hand-made hour whose answers
-- are known: 3 TCP flows to 10.0.0.1:443 and 2 UDP flows to 10.0.0.2:53 in
-- slot 12:00, 1 ICMP flow in slot 12:05, one GRE flow in slot 12:10.
SET timezone = 'UTC';
\set VERBOSITY terse
TRUNCATE nfpg.flows;
DELETE FROM nfpg.profiles;
UPDATE nfpg.settings SET partition_width = '1 hour', premake = '0';
SELECT nfpg.ensure_partitions('2024-05-01 12:00+00', '2024-05-01 12:59+00') >= 0 AS partitions;
INSERT INTO nfpg.flows (first_seen, last_seen, proto, src_addr, dst_addr, src_port, dst_port, packets, bytes, exporter)
VALUES ('2024-05-01 12:00:10+00', '2024-05-01 12:00:20+00', 6, '192.0.2.1', '10.0.0.1', 40001, 443, 10, 3000, '127.0.0.1'),
	   ('2024-05-01 12:01:00+00', '2024-05-01 12:01:30+00', 6, '192.0.2.2', '10.0.0.1', 40002, 443, 20, 6000, '127.0.0.1'),
	   ('2024-05-01 12:02:00+00', '2024-05-01 12:02:01+00', 6, '192.0.2.1', '10.0.0.1', 40003, 443, 30, 9000, '127.0.0.1'),
	   ('2024-05-01 12:03:00+00', '2024-05-01 12:03:00+00', 17, '192.0.2.3', '10.0.0.2', 5353, 53, 1, 100, '127.0.0.1'),
	   ('2024-05-01 12:04:00+00', '2024-05-01 12:04:00+00', 17, '192.0.2.3', '10.0.0.2', 5354, 53, 1, 200, '127.0.0.1'),
	   ('2024-05-01 12:06:00+00', '2024-05-01 12:06:00+00', 1, '192.0.2.4', '10.0.0.1', 0, 2048, 3, 252, '127.0.0.1'),
	   ('2024-05-01 12:11:00+00', '2024-05-01 12:11:00+00', 47, '192.0.2.5', '10.0.0.3', 0, 0, 6, 600, '127.0.0.1');

-- the live profile: made once, then left alone
SELECT nfpg.nf_live_profile('2024-05-01 12:00+00'), nfpg.nf_live_profile();
SELECT profile, filter, kind, tstart FROM nfpg.profiles;
SELECT nfpg.nf_profile_build('live', '2024-05-01 12:00+00', '2024-05-01 12:15+00');

-- rates: sums / 300 s, bits = bytes * 8
SELECT slot, flows * 300 AS flows, flows_tcp * 300 AS tcp, flows_udp * 300 AS udp,
	   flows_icmp * 300 AS icmp, flows_other * 300 AS other, bits * 300 / 8 AS bytes
  FROM nfpg.nf_profile_rates('live', '2024-05-01 12:00+00', '2024-05-01 12:15+00') ORDER BY slot;
SELECT channel, slots, flows, flows_tcp, flows_udp, packets, bytes, bytes_icmp, bytes_other
  FROM nfpg.nf_profile_totals('live', '2024-05-01 12:00+00', '2024-05-01 12:10+00');
SELECT * FROM nfpg.nf_profile_rates('nosuch', '2024-05-01 12:00+00', '2024-05-01 12:15+00');

-- drill-down filters: combined with the profile's, errors at the typed position
SELECT nfpg.nf_profile_create('https', 'proto tcp and port 443', '2024-05-01 12:00+00');
SELECT nfpg.nf_drill_filter('live', 'dst port 53'), nfpg.nf_drill_filter('live', '  '),
	   nfpg.nf_drill_filter('https', 'src ip 192.0.2.1'), nfpg.nf_drill_filter('https', NULL);
SELECT nfpg.nf_drill_filter('https', 'src ip 192.0.2.1 and nonsense');

-- graph any filter: zero-filled buckets; the shift moves the window back
SELECT slot, flows, packets, bytes, bits_s FROM nfpg.nf_filter_series('proto tcp or proto udp',
	'2024-05-01 12:00+00', '2024-05-01 12:10+00', '5 minutes');
SELECT slot, flows FROM nfpg.nf_filter_series('dst ip 10.0.0.1', '2024-05-01 12:00+00', '2024-05-01 12:04+00', '1 minute');
SELECT slot, flows FROM nfpg.nf_filter_series('any', '2024-05-01 12:05+00', '2024-05-01 12:15+00', '5 minutes', '5 minutes');
SELECT * FROM nfpg.nf_filter_series('any', '2024-05-01 12:00+00', '2024-05-01 12:10+00', '1 second');
SELECT * FROM nfpg.nf_filter_series('any', '2000-01-01 00:00+00', '2024-05-01 12:10+00', '1 minute');
SELECT * FROM nfpg.nf_filter_series('any', '2024-05-01 12:10+00', '2024-05-01 12:00+00');

-- Top-N over time: keys as nfdump prints them, Other, one-sided only
SELECT slot, key, rank, value * 300 AS flows FROM nfpg.nf_topn_series('dstip', 'flows', 1, NULL,
	'2024-05-01 12:00+00', '2024-05-01 12:15+00', '5 minutes');
SELECT key, rank, value * 300 AS flows FROM nfpg.nf_topn_series('proto', 'flows', 2, 'any',
	'2024-05-01 12:00+00', '2024-05-01 12:15+00', '15 minutes');
SELECT * FROM nfpg.nf_topn_series('ip', 'flows', 5, NULL, '2024-05-01 12:00+00', '2024-05-01 12:15+00');
SELECT * FROM nfpg.nf_topn_series('dstport', 'bps', 5, NULL, '2024-05-01 12:00+00', '2024-05-01 12:15+00');
SELECT * FROM nfpg.nf_topn_series('dstport', 'flows', 0, NULL, '2024-05-01 12:00+00', '2024-05-01 12:15+00');

-- flow lists: nfdump -t window, time order, fields apart
SELECT line, src_addr, dst_port, proto FROM nfpg.nf_flow_list('dst port 443', '2024-05-01 12:00+00', '2024-05-01 12:05+00', 'line', 2);
SELECT count(*) FROM nfpg.nf_flow_list('any', '2024-05-01 12:00+00', '2024-05-01 12:05+00', 'line', 100);
SELECT * FROM nfpg.nf_flow_list('any', '2024-05-01 12:00+00', '2024-05-01 12:05+00', 'line', 0);
SELECT line, src_addr FROM nfpg.nf_aggregate_list('srcip', 'bytes', 2, 'proto tcp', '2024-05-01 12:00+00', '2024-05-01 12:05+00', 'fmt:%sa %byt');

-- a role without src_addr/dst_addr: the list prints them absent; filters on them are refused
CREATE ROLE web_regress_nocol;
GRANT USAGE ON SCHEMA nfpg TO web_regress_nocol;
DO $$
BEGIN
	EXECUTE (SELECT format('GRANT SELECT (%s) ON nfpg.flows TO web_regress_nocol', string_agg(quote_ident(attname), ', '))
			   FROM pg_attribute WHERE attrelid = 'nfpg.flows'::regclass AND attnum > 0 AND NOT attisdropped
				AND attname NOT IN ('src_addr', 'dst_addr'));
END
$$;
SET ROLE web_regress_nocol;
SELECT line, src_addr, dst_port FROM nfpg.nf_flow_list('proto udp', '2024-05-01 12:00+00', '2024-05-01 12:05+00', 'line', 5);
SELECT count(*) FROM nfpg.nf_flow_list('src ip 192.0.2.3', '2024-05-01 12:00+00', '2024-05-01 12:05+00', 'line', 5);
SELECT * FROM nfpg.nf_live_profile();
RESET ROLE;
REVOKE ALL ON nfpg.flows FROM web_regress_nocol;
REVOKE ALL ON SCHEMA nfpg FROM web_regress_nocol;
DROP ROLE web_regress_nocol;
DELETE FROM nfpg.profiles;
TRUNCATE nfpg.flows;
