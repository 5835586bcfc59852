-- Host-behaviour classes (Traffic, Responder, Connector and every
-- combination) and related filters, on a hand-made slot whose answer is
-- known: a worm W, a web server S, a client C1, an uploader U and a mail
-- relay M that is in all three classes.
SET timezone = 'UTC';
\set VERBOSITY terse
TRUNCATE nfpg.flows;
DELETE FROM nfpg.profiles;
DELETE FROM nfpg.plugins;
UPDATE nfpg.settings SET partition_width = '1 hour', premake = '0';
UPDATE nfpg.nfsen_settings SET slot_delay = '5 minutes', max_size = NULL, max_lifetime = NULL,
	traffic_ratio = DEFAULT, traffic_min_bytes = DEFAULT,
	responder_min_peers = DEFAULT, connector_min_peers = DEFAULT;
SELECT traffic_ratio, traffic_min_bytes, responder_min_peers, connector_min_peers FROM nfpg.nfsen_settings;
SELECT nfpg.ensure_partitions('2024-03-11 12:00+00', '2024-03-11 13:59+00') >= 0 AS partitions;
CREATE TEMP TABLE f (t text, proto int, src inet, dst inet, sp int, dp int, flags int, pk int, by bigint);
INSERT INTO f
-- W 10.9.9.9 scans 12 outside hosts on 445: 6 bare SYNs, 6 sessions of 5000
-- bytes; 3 of those answer with 100 bytes.
SELECT '12:01', 6, '10.9.9.9', ('203.0.113.' || i)::inet, 3000 + i, 445,
	   CASE WHEN i <= 6 THEN 27 ELSE 2 END, CASE WHEN i <= 6 THEN 10 ELSE 1 END,
	   CASE WHEN i <= 6 THEN 5000 ELSE 48 END FROM generate_series(1, 12) i
UNION ALL SELECT '12:01', 6, ('203.0.113.' || i)::inet, '10.9.9.9', 445, 3000 + i, 18, 2, 100
	FROM generate_series(1, 3) i
-- S 198.51.100.10 serves 15 clients: 500 bytes in, 20000 out each.
UNION ALL SELECT '12:02', 6, ('10.5.0.' || i)::inet, '198.51.100.10', 50000 + i, 443, 27, 5, 500
	FROM generate_series(1, 15) i
UNION ALL SELECT '12:02', 6, '198.51.100.10', ('10.5.0.' || i)::inet, 443, 50000 + i, 27, 20, 20000
	FROM generate_series(1, 15) i
-- C1 10.1.1.1 opens 11 connections: 500 bytes out, 2000 back each.
UNION ALL SELECT '12:03', 6, '10.1.1.1', ('192.0.2.' || i)::inet, 40000 + i, 443, 27, 5, 500
	FROM generate_series(1, 11) i
UNION ALL SELECT '12:03', 6, ('192.0.2.' || i)::inet, '10.1.1.1', 443, 40000 + i, 27, 5, 2000
	FROM generate_series(1, 11) i
-- U 10.2.2.2 uploads 50000 bytes, gets 1000 back.
UNION ALL SELECT '12:03', 6, '10.2.2.2', '192.0.2.100', 41000, 22, 27, 40, 50000
UNION ALL SELECT '12:03', 6, '192.0.2.100', '10.2.2.2', 22, 41000, 27, 10, 1000
-- M 198.51.100.25 takes mail from 10 clients and relays to 10 servers.
UNION ALL SELECT '12:04', 6, ('10.6.0.' || i)::inet, '198.51.100.25', 52000 + i, 25, 27, 5, 500
	FROM generate_series(1, 10) i
UNION ALL SELECT '12:04', 6, '198.51.100.25', ('10.6.0.' || i)::inet, 25, 52000 + i, 27, 5, 2000
	FROM generate_series(1, 10) i
UNION ALL SELECT '12:04', 6, '198.51.100.25', ('198.18.0.' || i)::inet, 33000 + i, 25, 27, 10, 5000
	FROM generate_series(1, 10) i
-- Later: two of W's targets reach a web server at 12:03, one at 13:00, a
-- host that is not a target too; W itself tries 139.
UNION ALL SELECT '12:03', 6, ('203.0.113.' || i)::inet, '172.16.17.18', 4444, 80, 27, 3, 300
	FROM generate_series(1, 2) i
UNION ALL SELECT '13:00', 6, '203.0.113.3', '172.16.17.18', 4444, 80, 27, 3, 300
UNION ALL SELECT '12:03', 6, '203.0.113.200', '172.16.17.18', 4444, 80, 27, 3, 300
UNION ALL SELECT '12:04', 6, '10.9.9.9', '203.0.113.50', 3100, 139, 2, 1, 48;
INSERT INTO nfpg.flows (first_seen, last_seen, proto, src_addr, dst_addr, src_port, dst_port,
						tcp_flags, packets, bytes, exporter)
SELECT ('2024-03-11 ' || t || '+00')::timestamptz, ('2024-03-11 ' || t || '+00')::timestamptz,
	   proto, src, dst, sp, dp, flags, pk, by, '192.0.2.254' FROM f;

-- The hosts of the 12:00 slot in any class, with the numbers that put them there.
SELECT host, traffic AS t, responder AS r, connector AS c, bytes_sent, bytes_received,
	   peers_answered, peers_contacted
  FROM nfpg.nf_hostclass('2024-03-11 12:00+00', '2024-03-11 12:05+00') ORDER BY host;
-- Cardinalities: T = {W,S,U,M}, R = {S,M}, C = {W,C1,M}, TR = {S,M}, TC = {W,M},
-- RC = {M}, TRC = {M}; the 13:00 slot has one flow and no class.
SELECT * FROM nfpg.nf_hostclass_counts('2024-03-11 12:00+00', '2024-03-11 12:10+00');
-- Thresholds as arguments: with 13 peers needed only W (13 peers) stays a Connector.
SELECT slot, t, c, tc FROM nfpg.nf_hostclass_counts('2024-03-11 12:00+00', '2024-03-11 12:05+00',
	connector_min_peers => 13);
-- A filter restricts the flows looked at.
SELECT host, t, r, c FROM (
	SELECT host, traffic AS t, responder AS r, connector AS c
	  FROM nfpg.nf_hostclass('2024-03-11 12:00+00', '2024-03-11 12:05+00', 'dst port 445')) x ORDER BY host;

-- As a plugin, per profile slot.
SELECT nfpg.nf_profile_create('live', 'any', '2024-03-11 12:00+00', '2024-03-11 12:10+00');
SELECT nfpg.nf_plugin_register('hostclass', 'nfpg.hostclass_plugin(text, timestamptz)', '{live}');
SELECT slots, plugin_failures, errors FROM nfpg.nf_run('2024-03-11 12:30+00');
SELECT * FROM nfpg.hostclass_series ORDER BY slot;

-- Related filters: destinations A of port-445 flows of more than 600 bytes,
-- then A as the source of web flows to 172.16.17.18 within 10 minutes.
SELECT * FROM nfpg.nf_related('dst port 445 and bytes > 600',
							  'src ip A and dst ip 172.16.17.18 and dst port 80',
							  '2024-03-11 12:00+00', '2024-03-11 12:05+00', '10 minutes');
-- Within two hours the third target is found as well.
SELECT host, related_seen FROM nfpg.nf_related('dst port 445 and bytes > 600',
							  'src ip A and dst ip 172.16.17.18 and dst port 80',
							  '2024-03-11 12:00+00', '2024-03-11 12:05+00', '2 hours');
-- A on the source side: hosts that sent to 445 and then tried 139.
SELECT * FROM nfpg.nf_related('dst port 445', 'src ip A and dst port 139',
							  '2024-03-11 12:00+00', '2024-03-11 12:05+00', '10 minutes', 'src');
-- The second filter must name A; A is only an address.
SELECT * FROM nfpg.nf_related('dst port 445', 'dst port 139', '2024-03-11 12:00+00', '2024-03-11 13:00+00');
SELECT * FROM nfpg.nf_related('dst port 445', 'src ip A', '2024-03-11 12:00+00', '2024-03-11 13:00+00',
							  a_side => 'both');
SELECT nfpg.nf_related_sql('src ip A and dst port 80') ~ 'related_host' AS uses_a;
DELETE FROM nfpg.profiles;
DELETE FROM nfpg.plugins;
