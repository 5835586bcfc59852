-- Coordinators (74_nodes.sql, stat_remote.c): a database whose nfpg.flows
-- is made of other nfpg servers.  Here the "node" is this regression
-- database itself, reached through postgres_fdw over the instance's own
-- socket, and the coordinator a second database; test/integration/
-- scale_out.sh runs three real nodes.
-- Flows of three exporters of their own (198.18.0.0/15), removed at the end.
INSERT INTO nfpg.flows (first_seen, last_seen, packets, bytes, src_port, dst_port, proto,
	src_addr, dst_addr, exporter, tcp_flags)
SELECT t, t + (i % 50) * interval '1 s', 1 + i % 17, 40 + (i * 37) % 1500, (i * 7) % 65536,
	   (ARRAY[80, 443, 53, 587, 25, 22])[1 + i % 6], (ARRAY[6, 17, 1])[1 + i % 3],
	   ('10.' || (i % 5) || '.' || (i % 211) || '.' || (i % 97))::inet,
	   ('192.168.' || (i % 13) || '.' || (i % 251))::inet, ('198.18.0.' || (1 + i % 3))::inet, i % 64
  FROM generate_series(1, 20000) i,
	   LATERAL (SELECT timestamptz '2026-11-30 10:00' + (i % 7200) * interval '1 s' AS t) x;
SELECT count(*) AS flows, count(DISTINCT exporter) AS exporters FROM nfpg.flows;

-- Partial states: one node's state, merged, ranks as nf_topn does.
SELECT nfpg.nf_topn_merge(s) = (SELECT nfpg.nf_topn('stat bytes 5 dst_port', flows, packets, bytes,
		out_packets, out_bytes, first_seen, last_seen, tcp_flags, src_tos, dst_port) FROM nfpg.flows) AS merge_equals_local
  FROM (SELECT nfpg.nf_topn_state(convert_to('stat bytes 5 dst_port', 'UTF8'), flows, packets, bytes,
		out_packets, out_bytes, first_seen, last_seen, tcp_flags, src_tos, dst_port) FROM nfpg.flows) n(s);
-- Two halves of the flows merged equal the whole, for records too.
SELECT nfpg.nf_topn_records_merge(s) = (SELECT nfpg.nf_topn_records('A packets 0 src_addr/4:16', flows, packets, bytes,
		out_packets, out_bytes, first_seen, last_seen, tcp_flags, src_tos, src_addr) FROM nfpg.flows) AS halves_equal_whole
  FROM (SELECT nfpg.nf_topn_state(convert_to('A packets 0 src_addr/4:16', 'UTF8'), flows, packets, bytes,
		out_packets, out_bytes, first_seen, last_seen, tcp_flags, src_tos, src_addr)
		  FROM nfpg.flows GROUP BY (hashint8(bytes) & 1)) n(s);
-- A node without matching flows sends NULL: nothing is added.
SELECT cardinality(nfpg.nf_topn_merge(s)) AS rows_from_nothing
  FROM (VALUES (NULL::text), (NULL::text)) n(s);
-- Bytes that are not a state, and states of two statistics, are refused.
SELECT nfpg.nf_topn_merge(s) FROM (VALUES ('bm90IGEgc3RhdGU=')) n(s);
SELECT nfpg.nf_topn_merge(s) FROM (VALUES ('not base64!')) n(s);
SELECT nfpg.nf_topn_merge(s) FROM (VALUES (substring((SELECT nfpg.nf_topn_state(convert_to('stat flows 3 proto', 'UTF8'), flows, packets, bytes,
		out_packets, out_bytes, first_seen, last_seen, tcp_flags, src_tos, proto) FROM nfpg.flows) FROM 1 FOR 40))) n(s);
SELECT nfpg.nf_topn_merge(s) FROM (
	SELECT nfpg.nf_topn_state(convert_to('stat flows 3 proto', 'UTF8'), flows, packets, bytes,
		out_packets, out_bytes, first_seen, last_seen, tcp_flags, src_tos, proto) FROM nfpg.flows
	UNION ALL
	SELECT nfpg.nf_topn_state(convert_to('stat bytes 3 proto', 'UTF8'), flows, packets, bytes,
		out_packets, out_bytes, first_seen, last_seen, tcp_flags, src_tos, proto) FROM nfpg.flows) n(s);

-- This database holds flows: it can not become a coordinator.
SELECT nfpg.is_coordinator();
SELECT nfpg.setup_coordinator();
SELECT nfpg.node_add('site_a');

-- The coordinator, with this database as its one node.  The node's answers
-- are kept to compare with the coordinator's.
SELECT split_part(current_setting('unix_socket_directories'), ',', 1) AS node_host,
	   current_setting('port') AS node_port, current_database() AS node_db,
	   (SELECT array_agg(DISTINCT exporter ORDER BY exporter) FROM nfpg.flows)::text AS node_exporters,
	   (SELECT md5(string_agg(s::text, '|' ORDER BY rank)) FROM nfpg.nf_stat('ip', 'bytes', 10) s) AS stat_ip,
	   (SELECT md5(string_agg(s::text, '|' ORDER BY rank)) FROM nfpg.nf_stat('dstport', 'flows', 0, 'proto tcp') s) AS stat_port,
	   (SELECT md5(string_agg(s::text, '|')) FROM nfpg.nf_aggregate('srcip4/24,dstport', 'bytes', 0) s) AS agg,
	   (SELECT s::text FROM nfpg.nf_summary('proto udp') s) AS summary,
	   (SELECT count(*) FROM nfpg.flows WHERE nfpg.nf_filter('proto tcp and not port 80')) AS filtered,
	   (SELECT md5(string_agg(l, '|')) FROM nfpg.nfdump(stats => '{ip/bytes,dstport/flows}', filter => 'not proto icmp') l
		 WHERE l NOT LIKE 'Sys:%') AS dump_stats,
	   (SELECT md5(string_agg(l, '|')) FROM nfpg.nfdump(fields => 'srcip4/24,proto', top => 20, print_order => 'bytes') l
		 WHERE l NOT LIKE 'Sys:%') AS dump_agg \gset
-- a node still at the previous release, without nf_topn_state
CREATE DATABASE nfpg_old_node;
\c nfpg_old_node
SET client_min_messages = warning;
CREATE EXTENSION nfpg VERSION '0.2';
RESET client_min_messages;
SELECT nfpg.setup() IS NOT NULL AS set_up;
\c :node_db
CREATE DATABASE nfpg_coordinator;
\c nfpg_coordinator
SET client_min_messages = warning;
CREATE EXTENSION postgres_fdw;
CREATE EXTENSION nfpg;
RESET client_min_messages;
SELECT nfpg.setup_coordinator();
SELECT nfpg.setup_coordinator();
SELECT nfpg.is_coordinator();
SELECT nfpg.node_add('site_a');
CREATE SERVER site_a FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host :'node_host', port :'node_port', dbname :'node_db');
CREATE USER MAPPING FOR PUBLIC SERVER site_a;
SELECT nfpg.node_add('Site A');
SELECT nfpg.node_add('site_a', exporters => :'node_exporters');
SELECT nfpg.node_add('site_a');
SELECT node, exporters = :'node_exporters' AS listed, partition,
	   options @> '{extensions=nfpg,async_capable=true}' AS options_set FROM nfpg.node_list();

-- The coordinator's answers are the node's.
SELECT md5(string_agg(s::text, '|' ORDER BY rank)) = :'stat_ip' AS stat_ip_equal FROM nfpg.nf_stat('ip', 'bytes', 10) s;
SELECT md5(string_agg(s::text, '|' ORDER BY rank)) = :'stat_port' AS stat_port_equal FROM nfpg.nf_stat('dstport', 'flows', 0, 'proto tcp') s;
SELECT md5(string_agg(s::text, '|')) = :'agg' AS aggregate_equal FROM nfpg.nf_aggregate('srcip4/24,dstport', 'bytes', 0) s;
SELECT s::text = :'summary' AS summary_equal FROM nfpg.nf_summary('proto udp') s;
SELECT count(*) = :filtered AS filter_equal FROM nfpg.flows WHERE nfpg.nf_filter('proto tcp and not port 80');
SELECT md5(string_agg(l, '|')) = :'dump_stats' AS nfdump_stats_equal
  FROM nfpg.nfdump(stats => '{ip/bytes,dstport/flows}', filter => 'not proto icmp') l WHERE l NOT LIKE 'Sys:%';
SELECT md5(string_agg(l, '|')) = :'dump_agg' AS nfdump_aggregate_equal
  FROM nfpg.nfdump(fields => 'srcip4/24,proto', top => 20, print_order => 'bytes') l WHERE l NOT LIKE 'Sys:%';

-- The node computes the partial state; the coordinator only merges.
CREATE FUNCTION pg_temp.remote(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
	l	text;
BEGIN
	FOR l IN EXECUTE 'EXPLAIN (VERBOSE, COSTS OFF) ' || q LOOP
		IF l ~ 'Foreign Scan|Relations|Remote SQL' THEN
			RETURN NEXT regexp_replace(l, '\\x[0-9a-f]+', '\x...');
		END IF;
	END LOOP;
END
$$;
SELECT pg_temp.remote(nfpg.nf_topn_sql('nf_topn', 'stat bytes 10 src_addr',
	'flows, packets, bytes, out_packets, out_bytes, first_seen, last_seen, tcp_flags, src_tos, src_addr',
	nfpg.nf_stat_where('proto tcp and dst port 587', NULL, NULL)));
SELECT pg_temp.remote('SELECT count(*) FROM nfpg.flows WHERE nfpg.nf_filter(''host 10.0.0.1 and proto udp'')');
-- a condition on exporter prunes the node whose list lacks it
EXPLAIN (COSTS OFF) SELECT count(*) FROM nfpg.flows WHERE exporter = '198.51.100.99';

-- An exporter on two nodes would let pruning hide one of them.
CREATE SERVER site_b FOREIGN DATA WRAPPER postgres_fdw OPTIONS (dbname 'no_such_database');
CREATE USER MAPPING FOR PUBLIC SERVER site_b;
SELECT nfpg.node_check_exporters('site_b', (SELECT exporters[1:1] FROM nfpg.nodes WHERE node = 'site_a'));
-- A node that can not be reached is named, and so is one of another release.
SELECT nfpg.node_add('site_b', exporters => '{198.51.100.1}');
CREATE SERVER site_old FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host :'node_host', port :'node_port', dbname 'nfpg_old_node');
CREATE USER MAPPING FOR PUBLIC SERVER site_old;
SELECT nfpg.node_add('site_old', exporters => '{198.51.100.2}');
SELECT count(*) FROM nfpg.nodes;
-- node_sync lists what the node has reported since, once
\c :node_db
INSERT INTO nfpg.exporters (exporter, source_id, export_version, first_seen, last_seen)
VALUES ('198.19.0.9', 0, 9, now(), now());
\c nfpg_coordinator
SELECT * FROM nfpg.node_sync();
SELECT * FROM nfpg.node_sync();
SELECT exporters FROM nfpg.nodes;
EXPLAIN (COSTS OFF) SELECT count(*) FROM nfpg.flows WHERE exporter = '198.19.0.9';
-- the scheduled job of a coordinator: node lists and profiles, no partitions
SELECT r.errors, r.slots >= 0 AS profiles_updated FROM nfpg.nf_run() r;
SELECT count(*) AS partitions_made FROM nfpg.partitions;
SELECT nfpg.node_drain('site_a', 'site_a');
SELECT nfpg.node_remove('site_a');
SELECT nfpg.node_remove('site_a');
SELECT count(*) FROM nfpg.node_list();
SELECT count(*) FROM nfpg.nf_stat('ip', 'bytes', 10);
\c :node_db
DROP DATABASE nfpg_coordinator;
DROP DATABASE nfpg_old_node;
DELETE FROM nfpg.flows WHERE exporter <<= '198.18.0.0/15';
DELETE FROM nfpg.exporters WHERE exporter <<= '198.18.0.0/15';
