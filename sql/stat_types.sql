-- nf_stat: every statistic type and every order key of nfdump -s on a fixed
-- dataset: test/data/stat_flows.csv, 400 flowgen flows (seed 5, 2 exporters,
-- 10 minutes, IPv4 and IPv6, TCP/UDP/ICMP/GRE/ESP).  The same flows sent as
-- NetFlow v9 to nfcapd 1.7.1 give, for every type and order key below, the
-- same groups and values with `nfdump -s TYPE/ORDER -n 0 -o csv` (checked with
-- test/integration/stat_compare.py; stat_nfdump_diff.sh repeats it on fresh
-- flows).  Ties are broken by the key here and arbitrarily by nfdump.
SET timezone = 'UTC';
\set VERBOSITY terse
TRUNCATE nfpg.flows;
\set csv test/data/stat_flows.csv
\set ECHO none
\o /dev/null
\i test/tools/load_flowgen_csv.sql
\o
\set ECHO all
SELECT count(*) AS flows, sum(packets) AS packets, sum(bytes) AS bytes FROM nfpg.flows;

-- A compact view of one table: rank, key, protocol, counters, percentages at
-- nfdump's one decimal (printf's %4.1f rounds halves to even, as round(float8) does), rates.
CREATE FUNCTION pg_temp.pct(x double precision) RETURNS numeric
LANGUAGE sql RETURN (round(x * 10) / 10)::numeric(4, 1);
CREATE FUNCTION pg_temp.top(t text, o text DEFAULT 'flows', n int DEFAULT 5)
RETURNS TABLE (r bigint, value text, pr text, first_seen text, duration interval, flows bigint,
	flp numeric, packets bigint, pkp numeric, bytes bigint, byp numeric, pps bigint, bps bigint, bpp bigint)
LANGUAGE sql AS $$
	SELECT rank, value, coalesce(nfpg.nf_proto_name(proto), 'any'), to_char(first_seen, 'HH24:MI:SS.MS'),
		duration, flows, pg_temp.pct(flows_pct), packets, pg_temp.pct(packets_pct),
		bytes, pg_temp.pct(bytes_pct), pps, bps, bpp
	FROM nfpg.nf_stat(t, o, n)
$$;

-- addresses, one- and two-sided
SELECT * FROM pg_temp.top('srcip');
SELECT * FROM pg_temp.top('dstip');
SELECT * FROM pg_temp.top('ip');
SELECT * FROM pg_temp.top('nhip');
SELECT * FROM pg_temp.top('nhbip');
SELECT * FROM pg_temp.top('router');
-- ports (ICMP type*256+code counts as a destination port), per protocol with :p
SELECT * FROM pg_temp.top('srcport');
SELECT * FROM pg_temp.top('dstport');
SELECT * FROM pg_temp.top('port');
SELECT * FROM pg_temp.top('dstport:p');
SELECT * FROM pg_temp.top('port:p');
SELECT * FROM pg_temp.top('proto');
-- type of service, direction
SELECT * FROM pg_temp.top('tos');
SELECT * FROM pg_temp.top('srctos');
SELECT * FROM pg_temp.top('dsttos');
SELECT * FROM pg_temp.top('dir');
-- autonomous systems
SELECT * FROM pg_temp.top('srcas');
SELECT * FROM pg_temp.top('dstas');
SELECT * FROM pg_temp.top('as');
SELECT * FROM pg_temp.top('prevas');
SELECT * FROM pg_temp.top('nextas');
-- interfaces, masks, VLANs
SELECT * FROM pg_temp.top('inif');
SELECT * FROM pg_temp.top('outif');
SELECT * FROM pg_temp.top('if');
SELECT * FROM pg_temp.top('srcmask');
SELECT * FROM pg_temp.top('dstmask');
SELECT * FROM pg_temp.top('mask');
SELECT * FROM pg_temp.top('srcvlan');
SELECT * FROM pg_temp.top('dstvlan');
SELECT * FROM pg_temp.top('vlan');
-- MACs and MPLS (absent in v9 flowgen flows: one zero group, as nfdump)
SELECT * FROM pg_temp.top('insrcmac');
SELECT * FROM pg_temp.top('outdstmac');
SELECT * FROM pg_temp.top('indstmac');
SELECT * FROM pg_temp.top('outsrcmac');
SELECT * FROM pg_temp.top('srcmac');
SELECT * FROM pg_temp.top('dstmac');
SELECT * FROM pg_temp.top('outmac');
SELECT * FROM pg_temp.top('inmac');
SELECT * FROM pg_temp.top('mpls1');
SELECT * FROM pg_temp.top('mpls10');
-- -s record: the 5-tuple, proto in its column
SELECT * FROM pg_temp.top('record', 'bytes');

-- every order key, on a two-sided and a one-sided type
SELECT o, (pg_temp.top('ip', o, 3)).* FROM unnest(ARRAY['flows', 'packets', 'ipkg', 'opkg', 'bytes',
	'ibyte', 'obyte', 'pps', 'ipps', 'opps', 'bps', 'ibps', 'obps', 'bpp', 'ibpp', 'obpp']) o;
SELECT o, (pg_temp.top('dstport', o, 3)).* FROM unnest(ARRAY['flows', 'packets', 'ipkg', 'opkg',
	'bytes', 'ibyte', 'obyte', 'pps', 'ipps', 'opps', 'bps', 'ibps', 'obps', 'bpp', 'ibpp', 'obpp']) o;
-- ascending, and -n 0 (all)
SELECT * FROM pg_temp.top('proto', 'bytes:a');
SELECT count(*) AS groups, sum(flows) AS flows FROM nfpg.nf_stat('dstport', 'flows', 0);
SELECT count(*) AS groups, sum(flows) AS flows_twice FROM nfpg.nf_stat('ip', 'flows', 0);

-- the summary line (nfdump on the same flows: total flows: 400, total bytes:
-- 1.5 M, total packets: 4810, avg bps: 30019, avg pps: 11, avg bpp: 312)
SELECT * FROM nfpg.nf_summary();
-- time window (-t 2024/03/11.09:02:00-2024/03/11.09:04:00: nfdump 120 flows)
SELECT flows, records FROM nfpg.nf_summary(NULL, '2024-03-11 09:02:00+00', '2024-03-11 09:04:00+00');
SELECT sum(flows) FROM nfpg.nf_stat('proto', 'flows', 0, NULL, '2024-03-11 09:02:00+00', '2024-03-11 09:04:00+00');

-- a filter (nf_filter_sql) and the port-scan query.  nfdump on the same flows:
-- -s srcip/bytes -n 3 'proto tcp and dst port 443': 10.10.21.33 1 328 145632,
-- 157.240.190.146 1 24 24672, 163.12.208.66 1 18 12726; the port-scan
-- -A srcip,dstport -s record/packets -n 0 list: 67 records, 90 flows, 95 packets
SELECT rank, value, flows, packets, bytes FROM nfpg.nf_stat('srcip', 'bytes', 3, 'proto tcp and dst port 443');
SELECT count(*), sum(flows), sum(packets) FROM nfpg.nf_aggregate('srcip,dstport', 'packets', 0,
	'not proto icmp and bytes < 100 and bpp < 100 and packets < 5 and not port 80 and not port 53');
SELECT * FROM nfpg.nf_stat('ip', filter => 'proto tcp and');

-- errors
SELECT * FROM nfpg.nf_stat('nosuch');
SELECT * FROM nfpg.nf_stat('ja3');
SELECT * FROM nfpg.nf_stat('ip', 'nosuch');
SELECT * FROM nfpg.nf_stat('ip', 'tstart');
SELECT * FROM nfpg.nf_stat('ip', 'flows', -1);

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
