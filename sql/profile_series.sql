-- Profiles and channels: definitions, filter validation, 5-minute series
-- checked against direct counts, idempotent rebuilds, pending slots and
-- drill-down to flows and Top-N.
SET timezone = 'UTC';
\set VERBOSITY terse
TRUNCATE nfpg.flows;
DELETE FROM nfpg.profiles;
UPDATE nfpg.settings SET partition_width = '1 hour', premake = '0';
UPDATE nfpg.nfsen_settings SET slot_delay = '5 minutes', max_size = NULL, max_lifetime = NULL;
SELECT nfpg.ensure_partitions('2024-03-11 09:00+00', '2024-03-11 10:30+00') >= 0 AS partitions;

-- 1200 flows, one every 3 seconds from 09:00 to 10:00, cycling through
-- TCP, UDP, ICMP, ICMPv6 and GRE, ports 80/443/587/53, 7 sources, 5 targets.
INSERT INTO nfpg.flows (first_seen, last_seen, proto, src_addr, dst_addr, src_port, dst_port,
						packets, bytes, exporter)
SELECT t, t + interval '2 seconds', p.proto,
	   CASE WHEN p.proto = 58 THEN '2001:db8::' || (i % 7 + 1) ELSE '10.0.0.' || (i % 7 + 1) END::inet,
	   CASE WHEN p.proto = 58 THEN '2001:db8:1::' || (i % 5 + 10) ELSE '192.0.2.' || (i % 5 + 10) END::inet,
	   CASE WHEN p.proto IN (6, 17) THEN 40000 + i ELSE 0 END,
	   CASE WHEN p.proto IN (6, 17) THEN (ARRAY[80, 443, 587, 53])[i % 4 + 1] ELSE 0 END,
	   i % 10 + 1, (i % 10 + 1) * 100, '192.0.2.1'
  FROM generate_series(0, 1199) i,
	   LATERAL (SELECT '2024-03-11 09:00+00'::timestamptz + i * interval '3 seconds' AS t) ts,
	   LATERAL (SELECT (ARRAY[6, 6, 6, 17, 17, 1, 58, 47])[i % 8 + 1]::smallint AS proto) p;
SELECT proto, count(*), sum(packets), sum(bytes) FROM nfpg.flows GROUP BY proto ORDER BY proto;

-- A historical profile of everything with two channels, and a continuous one.
SELECT nfpg.nf_profile_create('all', 'any', '2024-03-11 09:00+00', '2024-03-11 10:00+00',
							  description => 'every flow, 09:00-10:00');
SELECT nfpg.nf_channel_add('all', 'tcp', 'proto tcp');
SELECT nfpg.nf_channel_add('all', 'web', 'dst port 80', -1::smallint, '#ff0000');
SELECT nfpg.nf_profile_create('mail', 'proto tcp and dst port 587', '2024-03-11 09:03+00');
SELECT profile, filter, kind, tstart, tend, filter_sql IS NOT NULL AS compiled FROM nfpg.profiles ORDER BY 1;
SELECT profile, channel, filter, sign, colour FROM nfpg.profile_channels ORDER BY 1, 2;

-- Bad filters are rejected when the profile or channel is created.
SELECT nfpg.nf_profile_create('bad', 'proto tcp and dst prt 587');
SELECT nfpg.nf_channel_add('all', 'bad', 'proto tcp and');
SELECT nfpg.nf_profile_create('Bad name!', 'any');
SELECT nfpg.nf_profile_create('half', 'any', tend => '2024-03-11 10:00+00');
SELECT count(*) AS profiles FROM nfpg.profiles;

-- Pending slots at 09:27: slots that ended at least slot_delay ago.
SELECT nfpg.nf_profile_pending('all', '2024-03-11 09:27+00');
SELECT nfpg.nf_profile_pending('mail', '2024-03-11 09:27+00');

-- Run at 09:27, then at 10:20 (late: it catches up), then again (nothing left).
SELECT slots, plugin_failures, alerts_fired, errors FROM nfpg.nf_run('2024-03-11 09:27+00');
SELECT slots, plugin_failures, alerts_fired, errors FROM nfpg.nf_run('2024-03-11 10:20+00');
SELECT slots, plugin_failures, alerts_fired, errors FROM nfpg.nf_run('2024-03-11 10:20+00');
SELECT profile, count(*), min(slot), max(slot) FROM nfpg.profile_slots GROUP BY 1 ORDER BY 1;
SELECT profile, channel, count(*) FROM nfpg.profile_series GROUP BY 1, 2 ORDER BY 1, 2;

-- The first slots, in full.
SELECT * FROM nfpg.profile_series WHERE slot < '2024-03-11 09:10+00' ORDER BY profile, channel, slot;

-- Every series value equals a direct count over nfpg.flows (no row differs).
CREATE TEMP VIEW direct AS
SELECT p.profile, c.channel, nfpg.nf_slot(f.first_seen) AS slot,
	   sum(flows) AS flows,
	   coalesce(sum(flows) FILTER (WHERE f.proto = 6), 0) AS flows_tcp, coalesce(sum(flows) FILTER (WHERE f.proto = 17), 0) AS flows_udp,
	   coalesce(sum(flows) FILTER (WHERE f.proto IN (1, 58)), 0) AS flows_icmp,
	   coalesce(sum(flows) FILTER (WHERE f.proto NOT IN (1, 6, 17, 58)), 0) AS flows_other,
	   sum(packets) AS packets,
	   coalesce(sum(packets) FILTER (WHERE f.proto = 6), 0) AS packets_tcp, coalesce(sum(packets) FILTER (WHERE f.proto = 17), 0) AS packets_udp,
	   coalesce(sum(packets) FILTER (WHERE f.proto IN (1, 58)), 0) AS packets_icmp,
	   coalesce(sum(packets) FILTER (WHERE f.proto NOT IN (1, 6, 17, 58)), 0) AS packets_other,
	   sum(bytes) AS bytes,
	   coalesce(sum(bytes) FILTER (WHERE f.proto = 6), 0) AS bytes_tcp, coalesce(sum(bytes) FILTER (WHERE f.proto = 17), 0) AS bytes_udp,
	   coalesce(sum(bytes) FILTER (WHERE f.proto IN (1, 58)), 0) AS bytes_icmp,
	   coalesce(sum(bytes) FILTER (WHERE f.proto NOT IN (1, 6, 17, 58)), 0) AS bytes_other
  FROM nfpg.flows f
  JOIN (VALUES ('all', '*'), ('all', 'tcp'), ('all', 'web'), ('mail', '*')) c(profile, channel) ON true
  JOIN nfpg.profiles p ON p.profile = c.profile
 WHERE CASE c.channel WHEN '*' THEN true WHEN 'tcp' THEN f.proto = 6 ELSE f.dst_port = 80 END
   AND (p.profile = 'all' OR (f.proto = 6 AND f.dst_port = 587))
   AND f.first_seen >= p.tstart AND f.first_seen < coalesce(p.tend, '2024-03-11 10:10+00')
 GROUP BY 1, 2, 3;
SELECT 'missing or different' AS problem, * FROM (
	SELECT profile, channel, slot, flows, flows_tcp, flows_udp, flows_icmp, flows_other,
		   packets, packets_tcp, packets_udp, packets_icmp, packets_other,
		   bytes, bytes_tcp, bytes_udp, bytes_icmp, bytes_other FROM direct
	EXCEPT
	SELECT profile, channel, slot, flows, flows_tcp, flows_udp, flows_icmp, flows_other,
		   packets, packets_tcp, packets_udp, packets_icmp, packets_other,
		   bytes, bytes_tcp, bytes_udp, bytes_icmp, bytes_other FROM nfpg.profile_series) d;
-- Series rows without matching flows are all zero (slots with nothing in them).
SELECT s.profile, s.channel, s.slot, s.flows, s.packets, s.bytes FROM nfpg.profile_series s
 WHERE NOT EXISTS (SELECT 1 FROM direct d WHERE (d.profile, d.channel, d.slot) = (s.profile, s.channel, s.slot))
 ORDER BY 1, 2, 3;
-- Totals over the hour agree with the flows.
SELECT sum(flows) AS flows, sum(packets) AS packets, sum(bytes) AS bytes
  FROM nfpg.profile_series WHERE profile = 'all' AND channel = '*';

-- Rebuilding is idempotent: same rows, same values.
CREATE TEMP TABLE before AS SELECT * FROM nfpg.profile_series;
SELECT nfpg.nf_profile_build('all', '2024-03-11 09:00+00', '2024-03-11 10:00+00') AS rebuilt;
SELECT nfpg.nf_profile_build('all', '2024-03-11 09:12+00', '2024-03-11 09:13+00') AS rebuilt;
SELECT count(*) AS differences FROM (
	(SELECT * FROM before EXCEPT SELECT * FROM nfpg.profile_series)
	UNION ALL
	(SELECT * FROM nfpg.profile_series EXCEPT SELECT * FROM before)) x;

-- Drill-down: the flows of a channel in a slot, in time order.
SELECT first_seen, proto, src_addr, dst_addr, dst_port, packets, bytes
  FROM nfpg.nf_profile_flows('all', '2024-03-11 09:00+00', '2024-03-11 09:01+00', 'web');
SELECT count(*), sum(bytes) FROM nfpg.nf_profile_flows('mail', '2024-03-11 09:05+00', '2024-03-11 09:10+00');
SELECT flows, bytes FROM nfpg.profile_series
 WHERE profile = 'mail' AND channel = '*' AND slot = '2024-03-11 09:05+00';
SELECT nfpg.nf_profile_condition('all', 'web') = format('(%s) AND (%s)', nfpg.nf_filter_sql('any'),
													   nfpg.nf_filter_sql('dst port 80')) AS condition;
-- Top-N of a channel: nf_stat (nfdump -s) over the profile's filter; the
-- window is nfdump's -t (flows wholly inside), here the 09:00 slot.
SELECT rank, value, flows, packets, bytes FROM nfpg.nf_profile_stat('all', 'srcip', '2024-03-11 09:00+00',
	'2024-03-11 09:04:59.999+00', 'bytes', 3, 'web');
SELECT host(src_addr), count(*), sum(packets), sum(bytes) FROM nfpg.flows
 WHERE dst_port = 80 AND first_seen >= '2024-03-11 09:00+00' AND last_seen < '2024-03-11 09:05+00'
 GROUP BY 1 ORDER BY 4 DESC LIMIT 3;
SELECT nfpg.nf_profile_filter('all', 'web');
SELECT * FROM nfpg.nf_profile_flows('all', '2024-03-11 09:00+00', '2024-03-11 10:00+00', 'nosuch');
SELECT * FROM nfpg.nf_profile_flows('nosuch', '2024-03-11 09:00+00', '2024-03-11 10:00+00');

-- Dropping a channel drops its series; dropping a profile drops everything.
SELECT nfpg.nf_channel_drop('all', 'web');
SELECT channel, count(*) FROM nfpg.profile_series WHERE profile = 'all' GROUP BY 1 ORDER BY 1;
SELECT nfpg.nf_profile_drop('mail');
SELECT count(*) AS mail_rows FROM nfpg.profile_series WHERE profile = 'mail';
SELECT count(*) AS mail_slots FROM nfpg.profile_slots WHERE profile = 'mail';

-- The job is created on demand only, and needs pg_cron in this database.
SELECT count(*) AS cron_installed FROM pg_extension WHERE extname = 'pg_cron';
SELECT nfpg.nf_schedule();
SELECT nfpg.nf_unschedule();
