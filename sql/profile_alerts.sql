-- Alerts: absolute thresholds and change against a rolling average, over a
-- profile's series or over an extra filter; every evaluation is logged and
-- the ones that fire are sent with NOTIFY (received here by LISTEN; psql
-- prints them into a file, read back with the PID masked).
SET timezone = 'UTC';
\set VERBOSITY terse
TRUNCATE nfpg.flows;
DELETE FROM nfpg.profiles;
UPDATE nfpg.settings SET partition_width = '1 hour', premake = '0';
UPDATE nfpg.nfsen_settings SET slot_delay = '5 minutes', max_size = NULL, max_lifetime = NULL;
SELECT nfpg.ensure_partitions('2024-03-11 09:00+00', '2024-03-11 10:00+00') >= 0 AS partitions;
-- Two submission flows per slot from 09:00 to 09:55 (1000 bytes each), and
-- in the 09:30 slot thirty more from 10.0.0.66 (2000 bytes each).
INSERT INTO nfpg.flows (first_seen, last_seen, proto, src_addr, dst_addr, src_port, dst_port,
						packets, bytes, exporter)
SELECT '2024-03-11 09:00+00'::timestamptz + i * interval '150 seconds',
	   '2024-03-11 09:00+00'::timestamptz + i * interval '150 seconds', 6,
	   '10.0.0.1', '192.0.2.25', 40000 + i, 587, 10, 1000, '192.0.2.254'
  FROM generate_series(0, 23) i;
INSERT INTO nfpg.flows (first_seen, last_seen, proto, src_addr, dst_addr, src_port, dst_port,
						packets, bytes, exporter)
SELECT '2024-03-11 09:30+00'::timestamptz + i * interval '5 seconds',
	   '2024-03-11 09:30+00'::timestamptz + i * interval '5 seconds', 6,
	   '10.0.0.66', ('192.0.2.' || (100 + i))::inet, 50000 + i, 587, 20, 2000, '192.0.2.254'
  FROM generate_series(0, 29) i;
SELECT nfpg.nf_profile_create('mail', 'proto tcp and dst port 587', '2024-03-11 09:00+00');
SELECT nfpg.nf_channel_add('mail', 'inside', 'src net 10.0.0.0/8');

SELECT nfpg.nf_alert_create('mail_flows', 'mail', 'flows', '>', 20);
SELECT nfpg.nf_alert_create('mail_jump', 'mail', 'bytes_tcp', '>', 100, average_slots => 3,
							description => 'TCP bytes more than double the last 15 minutes');
SELECT nfpg.nf_alert_create('one_host', 'mail', 'packets', '>=', 1,
							filter => 'src ip 10.0.0.66', notify_channel => 'nfpg_host');
SELECT nfpg.nf_alert_create('inside_quiet', 'mail', 'flows', '<', 2, channel => 'inside');
SELECT nfpg.nf_alert_create('bad_metric', 'mail', 'octets', '>', 1);
SELECT nfpg.nf_alert_create('bad_op', 'mail', 'flows', '!=', 1);
SELECT nfpg.nf_alert_create('bad_channel', 'mail', 'flows', '>', 1, channel => 'outside');
SELECT nfpg.nf_alert_create('bad_filter', 'mail', 'flows', '>', 1, filter => 'src ipp 1.2.3.4');
SELECT alert, profile, channel, filter, metric, op, threshold, average_slots, notify_channel
  FROM nfpg.alerts ORDER BY alert;

LISTEN nfpg_alert;
LISTEN nfpg_host;
\o results/profile_alerts.notify
SELECT slots, alerts_fired FROM nfpg.nf_run('2024-03-11 10:07+00');
SELECT slots, alerts_fired FROM nfpg.nf_run('2024-03-11 10:07+00');
\o
CREATE TEMP TABLE notify_out (line text);
\copy notify_out FROM 'results/profile_alerts.notify'
SELECT regexp_replace(line, 'PID [0-9]+', 'PID n') AS output FROM notify_out;
UNLISTEN *;

-- The log: every alert evaluated once per slot; reference is the threshold
-- or the threshold applied to the average of the previous three slots.
SELECT alert, slot, value, round(reference, 2) AS reference, fired FROM nfpg.alert_log
 ORDER BY alert, slot;
-- The rolling average checked by hand for the 09:30 slot: the three slots
-- before it had 2000 bytes each, so the reference is 2 x 2000.
SELECT avg(bytes_tcp) * 2 AS reference_0930 FROM nfpg.profile_series
 WHERE profile = 'mail' AND channel = '*' AND slot >= '2024-03-11 09:15+00' AND slot < '2024-03-11 09:30+00';
SELECT packets AS one_host_packets_0930 FROM (
	SELECT sum(packets) AS packets FROM nfpg.flows
	 WHERE src_addr = '10.0.0.66' AND first_seen >= '2024-03-11 09:30+00' AND first_seen < '2024-03-11 09:35+00') x;

-- A disabled alert is not evaluated.
UPDATE nfpg.alerts SET enabled = false WHERE alert = 'inside_quiet';
SELECT slots, alerts_fired FROM nfpg.nf_run('2024-03-11 10:12+00');
SELECT alert, count(*) FROM nfpg.alert_log GROUP BY 1 ORDER BY 1;
SELECT nfpg.nf_profile_drop('mail');
SELECT count(*) AS alerts_left FROM nfpg.alerts;
