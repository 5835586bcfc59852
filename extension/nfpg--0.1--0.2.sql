\echo Use "ALTER EXTENSION nfpg UPDATE" to load this file. \quit
--------------------------------------------------------------------------------
-- Roles
--
-- nfpg_loader is what nfpgd logs in as (through a LOGIN role that is a member
-- of it): it can append flows and report exporters and partitions, but it
-- cannot read flows, change or drop anything.  nfpg_reader can query.
-- nfpg_admin manages profiles, channels, alerts and plugins (no superuser).
-- nfpg_owner owns nfpg.flows, its partitions and the SECURITY DEFINER
-- functions the loader calls: those run with its rights, which are exactly
-- what loading needs, never a superuser's.  Nobody logs in as nfpg_owner.
--
-- Roles are cluster-wide, so they survive DROP EXTENSION and are reused by
-- every database of the cluster that has nfpg: a member of nfpg_reader can
-- read flows in each of them it may CONNECT to.  To scope rights to one
-- database, grant them to a role of your own with nfpg.grant_access()
-- (95_setup.sql) instead of membership; docs/operations.md.
--------------------------------------------------------------------------------

DO $$
DECLARE
	r	text;
BEGIN
	FOREACH r IN ARRAY ARRAY['nfpg_loader', 'nfpg_reader', 'nfpg_admin', 'nfpg_owner'] LOOP
		IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r) THEN
			EXECUTE format('CREATE ROLE %I NOLOGIN', r);
		END IF;
	END LOOP;
END
$$;
--------------------------------------------------------------------------------
-- Flows
--
-- One row per flow record, the fields of an nfdump 1.7 record that exporters
-- send.  The fields nearly every exporter sends come first, ordered 8-byte,
-- 4-byte, 2-byte, then variable width, so no alignment padding is wasted and
-- PostgreSQL finds the hot columns (addresses, ports, counters) at cached
-- offsets: once a row has a NULL, every later column must be walked to.
-- Fields most exporters leave out follow, NULL at the cost of one bit.
-- PostgreSQL has no unsigned types: a uint16 (ports) needs integer, a uint32
-- (AS numbers, source ids) needs bigint.
--
-- The extension owns the code, the user owns the data.  CREATE EXTENSION
-- makes the row type nfpg.flow; nfpg.setup() (95_setup.sql) makes the table
-- nfpg.flows as a typed table OF nfpg.flow, so:
--   * pg_dump dumps nfpg.flows and its partitions as the user's tables, and
--     pg_restore recreates them after CREATE EXTENSION has made the type;
--   * the table depends on the type, so DROP EXTENSION nfpg refuses to run
--     without CASCADE while flows exist;
--   * functions taking or returning flows (nf_format, nf_aggregate, ...) are
--     declared on nfpg.flow, and a row of nfpg.flows is accepted wherever an
--     nfpg.flow is, as PostgreSQL coerces a typed table's rows to its type.
-- NOT NULL, defaults and CHECKs are the table's (setup()); the type only
-- names and types the columns.
--------------------------------------------------------------------------------

CREATE TYPE nfpg.flow AS (
	first_seen				timestamptz,
	last_seen				timestamptz,
	received				timestamptz,
	packets					bigint,
	bytes					bigint,
	source_id				bigint,
	src_as					bigint,
	dst_as					bigint,
	src_port				integer,
	dst_port				integer,
	in_if					integer,
	out_if					integer,
	flows					integer,
	proto					smallint,
	tcp_flags				smallint,
	src_tos					smallint,
	src_mask				smallint,
	dst_mask				smallint,
	engine_type				smallint,
	engine_id				smallint,
	export_version			smallint,
	src_addr				inet,
	dst_addr				inet,
	exporter				inet,
	next_hop				inet,
	next_as					bigint,
	prev_as					bigint,
	out_packets				bigint,
	out_bytes				bigint,
	sampling_interval		integer,
	src_vlan				integer,
	dst_vlan				integer,
	dst_tos					smallint,
	fwd_status				smallint,
	direction				smallint,
	bgp_next_hop			inet,
	in_src_mac				macaddr,
	out_dst_mac				macaddr,
	in_dst_mac				macaddr,
	out_src_mac				macaddr,
	mpls_labels				integer[]
);
COMMENT ON TYPE nfpg.flow IS 'One flow record (nfdump record): the row type of nfpg.flows, taken by nf_format() and returned by nf_aggregate()';
COMMENT ON COLUMN nfpg.flow.first_seen IS 'Time the first packet of the flow was seen (ms precision; nfdump "Date first seen")';
COMMENT ON COLUMN nfpg.flow.last_seen IS 'Time the last packet of the flow was seen (ms precision; nfdump "Date last seen")';
COMMENT ON COLUMN nfpg.flow.received IS 'Collector clock when the datagram carrying the record arrived';
COMMENT ON COLUMN nfpg.flow.packets IS 'Packets in the flow (input counter), multiplied by the sampling interval when upscaling is on';
COMMENT ON COLUMN nfpg.flow.bytes IS 'Bytes in the flow (input counter), multiplied by the sampling interval when upscaling is on';
COMMENT ON COLUMN nfpg.flow.src_as IS 'Source BGP autonomous system number (uint32); NULL when the exporter does not send it';
COMMENT ON COLUMN nfpg.flow.dst_as IS 'Destination BGP autonomous system number (uint32)';
COMMENT ON COLUMN nfpg.flow.next_as IS 'BGP next adjacent AS (IPFIX/v9 element 128)';
COMMENT ON COLUMN nfpg.flow.prev_as IS 'BGP previous adjacent AS (IPFIX/v9 element 129)';
COMMENT ON COLUMN nfpg.flow.out_packets IS 'Output (post / reverse) packet counter when the exporter sends one';
COMMENT ON COLUMN nfpg.flow.out_bytes IS 'Output (post / reverse) byte counter when the exporter sends one';
COMMENT ON COLUMN nfpg.flow.source_id IS 'NetFlow v9 source id, IPFIX observation domain id, v5 engine type<<8|engine id, sFlow sub-agent id';
COMMENT ON COLUMN nfpg.flow.src_port IS 'Source transport port; 0 for ICMP';
COMMENT ON COLUMN nfpg.flow.dst_port IS 'Destination transport port; for ICMP/ICMPv6 type*256+code, as nfdump stores it';
COMMENT ON COLUMN nfpg.flow.in_if IS 'Input interface SNMP ifIndex';
COMMENT ON COLUMN nfpg.flow.out_if IS 'Output interface SNMP ifIndex';
COMMENT ON COLUMN nfpg.flow.flows IS 'Number of flows this record stands for (1 unless the exporter aggregates)';
COMMENT ON COLUMN nfpg.flow.sampling_interval IS 'Packet sampling interval that applied (1 in N); NULL when unsampled';
COMMENT ON COLUMN nfpg.flow.src_vlan IS 'Source (or dot1q) VLAN id';
COMMENT ON COLUMN nfpg.flow.dst_vlan IS 'Destination (or post dot1q) VLAN id';
COMMENT ON COLUMN nfpg.flow.proto IS 'IP protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6, ...)';
COMMENT ON COLUMN nfpg.flow.tcp_flags IS 'Cumulative TCP flags (FIN 1, SYN 2, RST 4, PSH 8, ACK 16, URG 32, ECE 64, CWR 128)';
COMMENT ON COLUMN nfpg.flow.src_tos IS 'Source type of service byte';
COMMENT ON COLUMN nfpg.flow.dst_tos IS 'Destination (post) type of service byte';
COMMENT ON COLUMN nfpg.flow.src_mask IS 'Source prefix length from the exporter routing table';
COMMENT ON COLUMN nfpg.flow.dst_mask IS 'Destination prefix length from the exporter routing table';
COMMENT ON COLUMN nfpg.flow.engine_type IS 'Exporter engine type (v5 header, element 38, or high byte of the v9 source id)';
COMMENT ON COLUMN nfpg.flow.engine_id IS 'Exporter engine id (v5 header, element 39, or low byte of the v9 source id)';
COMMENT ON COLUMN nfpg.flow.fwd_status IS 'Forwarding status (element 89)';
COMMENT ON COLUMN nfpg.flow.direction IS 'Flow direction (element 61): 0 ingress, 1 egress';
COMMENT ON COLUMN nfpg.flow.export_version IS 'Export protocol: 1, 5, 7, 9, 10 (IPFIX), 0x85 (sFlow v5, as nfdump marks it)';
COMMENT ON COLUMN nfpg.flow.src_addr IS 'Source IP address (IPv4 or IPv6)';
COMMENT ON COLUMN nfpg.flow.dst_addr IS 'Destination IP address (IPv4 or IPv6)';
COMMENT ON COLUMN nfpg.flow.next_hop IS 'IP next hop';
COMMENT ON COLUMN nfpg.flow.bgp_next_hop IS 'BGP next hop';
COMMENT ON COLUMN nfpg.flow.exporter IS 'Exporter (router) address: the UDP source address of the datagram';
COMMENT ON COLUMN nfpg.flow.in_src_mac IS 'Incoming source MAC address (element 56)';
COMMENT ON COLUMN nfpg.flow.out_dst_mac IS 'Outgoing destination MAC address (element 57)';
COMMENT ON COLUMN nfpg.flow.in_dst_mac IS 'Incoming destination MAC address (element 80)';
COMMENT ON COLUMN nfpg.flow.out_src_mac IS 'Outgoing source MAC address (element 81)';
COMMENT ON COLUMN nfpg.flow.mpls_labels IS 'MPLS label stack, top first; each entry is the 24-bit stack entry (label<<4 | exp<<1 | bottom-of-stack)';
--------------------------------------------------------------------------------
-- Collector counters
--
-- What nfpgd refused, dropped, spooled or lost, in SQL rather than only in
-- its log: per loader instance in total, and per source address for what
-- can be pinned on one (datagrams denied by the allow-list, dropped because
-- the queue was full, rejected by the decoders, flows outside the first_seen
-- window).  nfpgd reports every exporter_interval and at exit through
-- collector_report() and collector_report_source(), the only way the loader
-- role can touch the table; nfpg_reader reads nfpg.collector_stats.
--
-- nfpgd sends its counts since it started, whole, so a report that fails
-- loses nothing and a report sent twice counts nothing twice.  Each run of a
-- loader (its boot time) has its own rows; the first report of a new run
-- folds the rows of the earlier runs into one row per address with boot
-- '-infinity', so totals survive restarts and the table stays small.  The
-- table is capped (10,000 rows): a loader role cannot grow it without bound.
-- Like the other loader functions, the two run as nfpg_owner (90_grants.sql),
-- which may change exactly this table here; every name is qualified.
--------------------------------------------------------------------------------

CREATE TABLE nfpg.collector_counters (
	instance			text NOT NULL,
	boot				timestamptz NOT NULL,
	exporter			inet,
	since				timestamptz NOT NULL,
	updated				timestamptz NOT NULL,
	denied				bigint NOT NULL DEFAULT 0,
	rejected			bigint NOT NULL DEFAULT 0,
	queue_drops			bigint NOT NULL DEFAULT 0,
	out_of_window		bigint NOT NULL DEFAULT 0,
	datagrams			bigint,
	flows				bigint,
	socket_drops		bigint,
	loaded_flows		bigint,
	spooled_flows		bigint,
	replayed_flows		bigint,
	lost_flows			bigint,
	failed_batches		bigint,
	duplicate_batches	bigint,
	queue_bytes			bigint,
	queued_batches		bigint,
	spool_files			bigint,
	spool_bytes			bigint,
	quarantine_files	bigint,
	quarantine_bytes	bigint,
	writers_connected	integer,
	CONSTRAINT collector_counters_key UNIQUE NULLS NOT DISTINCT (instance, boot, exporter)
);
COMMENT ON TABLE nfpg.collector_counters IS 'nfpgd''s counters per loader run, in total (exporter NULL) and per source address; read nfpg.collector_stats';
COMMENT ON COLUMN nfpg.collector_counters.boot IS 'Start of the nfpgd run the counts are from; -infinity: the earlier runs, folded';
COMMENT ON COLUMN nfpg.collector_counters.exporter IS 'Source address the counts are for; NULL: the whole collector';

-- The totals of one run (exporter NULL), and the gauges.
CREATE FUNCTION nfpg.collector_report(
	p_instance text, p_boot timestamptz,
	p_datagrams bigint, p_flows bigint, p_denied bigint, p_rejected bigint,
	p_queue_drops bigint, p_socket_drops bigint, p_out_of_window bigint,
	p_loaded_flows bigint, p_spooled_flows bigint, p_replayed_flows bigint,
	p_lost_flows bigint, p_failed_batches bigint, p_duplicate_batches bigint,
	p_queue_bytes bigint, p_queued_batches bigint, p_spool_files bigint, p_spool_bytes bigint,
	p_quarantine_files bigint, p_quarantine_bytes bigint, p_writers_connected integer)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF p_instance IS NULL OR p_boot IS NULL OR NOT pg_catalog.isfinite(p_boot) THEN
		RAISE EXCEPTION 'collector_report: instance and a finite boot time are required'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	UPDATE nfpg.collector_counters c SET
		updated = pg_catalog.now(), datagrams = p_datagrams, flows = p_flows, denied = p_denied,
		rejected = p_rejected, queue_drops = p_queue_drops, socket_drops = p_socket_drops,
		out_of_window = p_out_of_window, loaded_flows = p_loaded_flows,
		spooled_flows = p_spooled_flows, replayed_flows = p_replayed_flows,
		lost_flows = p_lost_flows, failed_batches = p_failed_batches,
		duplicate_batches = p_duplicate_batches, queue_bytes = p_queue_bytes,
		queued_batches = p_queued_batches, spool_files = p_spool_files,
		spool_bytes = p_spool_bytes, quarantine_files = p_quarantine_files,
		quarantine_bytes = p_quarantine_bytes, writers_connected = p_writers_connected
	 WHERE c.instance = p_instance AND c.boot = p_boot AND c.exporter IS NULL;
	IF FOUND THEN
		RETURN;
	END IF;

	-- The first report of a new run: fold the earlier runs into one row per address.
	WITH old AS (
		DELETE FROM nfpg.collector_counters c
		 WHERE c.instance = p_instance AND c.boot < p_boot
		RETURNING c.*)
	INSERT INTO nfpg.collector_counters AS f
		(instance, boot, exporter, since, updated, denied, rejected, queue_drops, out_of_window,
		 datagrams, flows, socket_drops, loaded_flows, spooled_flows, replayed_flows,
		 lost_flows, failed_batches, duplicate_batches)
	SELECT p_instance, '-infinity', o.exporter, min(o.since), max(o.updated),
		   sum(o.denied), sum(o.rejected), sum(o.queue_drops), sum(o.out_of_window),
		   sum(o.datagrams), sum(o.flows), sum(o.socket_drops), sum(o.loaded_flows),
		   sum(o.spooled_flows), sum(o.replayed_flows), sum(o.lost_flows),
		   sum(o.failed_batches), sum(o.duplicate_batches)
	  FROM old o
	 GROUP BY o.exporter;

	IF (SELECT pg_catalog.count(*) FROM nfpg.collector_counters) >= 10000 THEN
		RAISE EXCEPTION 'nfpg.collector_counters is full (10000 rows)'
			USING ERRCODE = 'program_limit_exceeded';
	END IF;
	INSERT INTO nfpg.collector_counters
		(instance, boot, exporter, since, updated, datagrams, flows, denied, rejected,
		 queue_drops, socket_drops, out_of_window, loaded_flows, spooled_flows,
		 replayed_flows, lost_flows, failed_batches, duplicate_batches, queue_bytes,
		 queued_batches, spool_files, spool_bytes, quarantine_files, quarantine_bytes,
		 writers_connected)
	VALUES (p_instance, p_boot, NULL, p_boot, pg_catalog.now(), p_datagrams, p_flows, p_denied,
			p_rejected, p_queue_drops, p_socket_drops, p_out_of_window, p_loaded_flows,
			p_spooled_flows, p_replayed_flows, p_lost_flows, p_failed_batches,
			p_duplicate_batches, p_queue_bytes, p_queued_batches, p_spool_files, p_spool_bytes,
			p_quarantine_files, p_quarantine_bytes, p_writers_connected);
END
$$;
COMMENT ON FUNCTION nfpg.collector_report(text, timestamptz, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, integer) IS 'nfpgd: set the totals of one loader run (counts since its start, and the current queue and spool sizes)';

-- One source address's counts in one run; after collector_report() of that run.
CREATE FUNCTION nfpg.collector_report_source(
	p_instance text, p_boot timestamptz, p_exporter inet,
	p_denied bigint, p_rejected bigint, p_queue_drops bigint, p_out_of_window bigint)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF p_instance IS NULL OR p_boot IS NULL OR NOT pg_catalog.isfinite(p_boot) OR p_exporter IS NULL THEN
		RAISE EXCEPTION 'collector_report_source: instance, a finite boot time and an address are required'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	UPDATE nfpg.collector_counters c SET
		updated = pg_catalog.now(), denied = p_denied, rejected = p_rejected,
		queue_drops = p_queue_drops, out_of_window = p_out_of_window
	 WHERE c.instance = p_instance AND c.boot = p_boot AND c.exporter = p_exporter;
	IF FOUND THEN
		RETURN;
	END IF;
	IF (SELECT pg_catalog.count(*) FROM nfpg.collector_counters) >= 10000 THEN
		RAISE EXCEPTION 'nfpg.collector_counters is full (10000 rows)'
			USING ERRCODE = 'program_limit_exceeded';
	END IF;
	INSERT INTO nfpg.collector_counters
		(instance, boot, exporter, since, updated, denied, rejected, queue_drops, out_of_window)
	VALUES (p_instance, p_boot, p_exporter, p_boot, pg_catalog.now(), p_denied, p_rejected,
			p_queue_drops, p_out_of_window);
END
$$;
COMMENT ON FUNCTION nfpg.collector_report_source(text, timestamptz, inet, bigint, bigint, bigint, bigint) IS 'nfpgd: set one source address''s counts in one loader run';

-- Every run added up; the gauges are the current run's (folded rows have none).
CREATE VIEW nfpg.collector_stats AS
SELECT c.instance,
	   c.exporter,
	   pg_catalog.min(c.since) AS since,
	   pg_catalog.max(c.boot) FILTER (WHERE c.boot > '-infinity') AS running_since,
	   pg_catalog.max(c.updated) AS updated,
	   pg_catalog.sum(c.datagrams)::bigint AS datagrams,
	   pg_catalog.sum(c.flows)::bigint AS flows,
	   pg_catalog.sum(c.denied)::bigint AS denied,
	   pg_catalog.sum(c.rejected)::bigint AS rejected,
	   pg_catalog.sum(c.queue_drops)::bigint AS queue_drops,
	   pg_catalog.sum(c.socket_drops)::bigint AS socket_drops,
	   pg_catalog.sum(c.out_of_window)::bigint AS out_of_window,
	   pg_catalog.sum(c.loaded_flows)::bigint AS loaded_flows,
	   pg_catalog.sum(c.spooled_flows)::bigint AS spooled_flows,
	   pg_catalog.sum(c.replayed_flows)::bigint AS replayed_flows,
	   pg_catalog.sum(c.lost_flows)::bigint AS lost_flows,
	   pg_catalog.sum(c.failed_batches)::bigint AS failed_batches,
	   pg_catalog.sum(c.duplicate_batches)::bigint AS duplicate_batches,
	   pg_catalog.max(c.queue_bytes) AS queue_bytes,
	   pg_catalog.max(c.queued_batches) AS queued_batches,
	   pg_catalog.max(c.spool_files) AS spool_files,
	   pg_catalog.max(c.spool_bytes) AS spool_bytes,
	   pg_catalog.max(c.quarantine_files) AS quarantine_files,
	   pg_catalog.max(c.quarantine_bytes) AS quarantine_bytes,
	   pg_catalog.max(c.writers_connected) AS writers_connected
  FROM nfpg.collector_counters c
 GROUP BY c.instance, c.exporter;
COMMENT ON VIEW nfpg.collector_stats IS 'nfpgd''s counters per loader instance, in total (exporter NULL) and per source address, added up over its runs (docs/loader.md)';
COMMENT ON COLUMN nfpg.collector_stats.since IS 'Start of the first run counted';
COMMENT ON COLUMN nfpg.collector_stats.running_since IS 'Start of the current (or last) run; NULL for an address the current run has not counted';
COMMENT ON COLUMN nfpg.collector_stats.updated IS 'Time of the last report';
COMMENT ON COLUMN nfpg.collector_stats.datagrams IS 'Datagrams received (all sources, allowed or not)';
COMMENT ON COLUMN nfpg.collector_stats.flows IS 'Flows decoded';
COMMENT ON COLUMN nfpg.collector_stats.denied IS 'Datagrams from sources outside allow_exporters, dropped before decoding';
COMMENT ON COLUMN nfpg.collector_stats.rejected IS 'Datagrams the decoders refused (malformed, unknown version)';
COMMENT ON COLUMN nfpg.collector_stats.queue_drops IS 'Datagrams dropped because the datagram queue and its overflow file were full';
COMMENT ON COLUMN nfpg.collector_stats.socket_drops IS 'Datagrams the kernel dropped (socket receive buffer full)';
COMMENT ON COLUMN nfpg.collector_stats.out_of_window IS 'Flows whose first_seen was outside the accepted window, kept in spool_dir/quarantine instead of nfpg.flows';
COMMENT ON COLUMN nfpg.collector_stats.loaded_flows IS 'Flows committed directly';
COMMENT ON COLUMN nfpg.collector_stats.spooled_flows IS 'Flows written to the spool';
COMMENT ON COLUMN nfpg.collector_stats.replayed_flows IS 'Flows committed from the spool';
COMMENT ON COLUMN nfpg.collector_stats.lost_flows IS 'Flows neither committed nor spooled (spool full or unwritable)';
COMMENT ON COLUMN nfpg.collector_stats.failed_batches IS 'Batches moved to spool_dir/failed (corrupt, or refused by the database)';
COMMENT ON COLUMN nfpg.collector_stats.duplicate_batches IS 'Spooled batches found already loaded';
COMMENT ON COLUMN nfpg.collector_stats.queue_bytes IS 'Datagram bytes waiting to be decoded, at the last report';
COMMENT ON COLUMN nfpg.collector_stats.queued_batches IS 'Batches waiting for a writer, at the last report';
COMMENT ON COLUMN nfpg.collector_stats.spool_files IS 'Spool files waiting for replay, at the last report';
COMMENT ON COLUMN nfpg.collector_stats.quarantine_files IS 'Files in spool_dir/quarantine, at the last report';
COMMENT ON COLUMN nfpg.collector_stats.writers_connected IS 'Writers with a database connection, at the last report';

SELECT pg_catalog.pg_extension_config_dump('nfpg.collector_counters', '');
GRANT SELECT, INSERT, UPDATE, DELETE ON nfpg.collector_counters TO nfpg_owner;
ALTER FUNCTION nfpg.collector_report(text, timestamptz, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, integer) OWNER TO nfpg_owner;
ALTER FUNCTION nfpg.collector_report_source(text, timestamptz, inet, bigint, bigint, bigint, bigint) OWNER TO nfpg_owner;
REVOKE ALL ON FUNCTION nfpg.collector_report(text, timestamptz, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION nfpg.collector_report_source(text, timestamptz, inet, bigint, bigint, bigint, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION nfpg.collector_report(text, timestamptz, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, integer) TO nfpg_loader;
GRANT EXECUTE ON FUNCTION nfpg.collector_report_source(text, timestamptz, inet, bigint, bigint, bigint, bigint) TO nfpg_loader;
GRANT SELECT ON nfpg.collector_stats TO nfpg_reader;
--------------------------------------------------------------------------------
-- Imported nfcapd files (nfpg-import)
--
-- nfpg-import loads each nfcapd file in one transaction that also records
-- the file here, keyed by its content (SHA-256 and size): a file whose
-- content is recorded is not loaded again, whatever its path now, and a
-- path recorded with other content is reported as changed (nfcapd 1.7
-- appends to a file when a collector restarts within its time slot).  An
-- import that is interrupted loses only the file it was loading, which the
-- next run loads again.
--
-- The table is bookkeeping that belongs to the installation, so it is part
-- of the extension but dumped with the data (pg_extension_config_dump).
-- nfpg-import runs as a member of nfpg_loader and reaches it only through
-- the two functions below.
--------------------------------------------------------------------------------

CREATE TABLE nfpg.imported_files (
	sha256				bytea NOT NULL CHECK (length(sha256) = 32),
	size				bigint NOT NULL CHECK (size >= 0),
	path				text NOT NULL,
	status				text NOT NULL CHECK (status IN ('complete', 'salvaged')),
	flows				bigint NOT NULL,
	packets				bigint NOT NULL,
	bytes				bigint NOT NULL,
	first_seen			timestamptz,
	last_seen			timestamptz,
	layout				smallint NOT NULL CHECK (layout IN (1, 2)),
	compression			text NOT NULL,
	ident				text,
	problems			text,
	imported			timestamptz NOT NULL DEFAULT now(),
	imported_by			name NOT NULL DEFAULT session_user,
	PRIMARY KEY (sha256, size)
);
CREATE INDEX imported_files_path ON nfpg.imported_files (path);
SELECT pg_catalog.pg_extension_config_dump('nfpg.imported_files', '');

COMMENT ON TABLE nfpg.imported_files IS 'nfcapd files loaded by nfpg-import, one row per file content';
COMMENT ON COLUMN nfpg.imported_files.sha256 IS 'SHA-256 of the file''s bytes: the same content is never imported twice';
COMMENT ON COLUMN nfpg.imported_files.size IS 'File size in bytes';
COMMENT ON COLUMN nfpg.imported_files.path IS 'Path the file was imported from (absolute)';
COMMENT ON COLUMN nfpg.imported_files.status IS 'complete, or salvaged: a damaged file of which only the readable blocks were loaded (nfpg-import --salvage)';
COMMENT ON COLUMN nfpg.imported_files.flows IS 'Flow records loaded from the file';
COMMENT ON COLUMN nfpg.imported_files.packets IS 'Sum of their packets';
COMMENT ON COLUMN nfpg.imported_files.bytes IS 'Sum of their bytes';
COMMENT ON COLUMN nfpg.imported_files.first_seen IS 'Earliest first_seen of the flows loaded';
COMMENT ON COLUMN nfpg.imported_files.last_seen IS 'Latest last_seen of the flows loaded';
COMMENT ON COLUMN nfpg.imported_files.layout IS 'nfcapd file layout: 1 (nfdump 1.6) or 2 (nfdump 1.7)';
COMMENT ON COLUMN nfpg.imported_files.compression IS 'Block compression: none, LZO, bzip2, LZ4 or ZSTD';
COMMENT ON COLUMN nfpg.imported_files.ident IS 'The file''s ident string (nfcapd -I, the NfSen source)';
COMMENT ON COLUMN nfpg.imported_files.problems IS 'What was wrong with the file (damaged blocks, skipped records), NULL if nothing';
COMMENT ON COLUMN nfpg.imported_files.imported IS 'When the file was committed';
COMMENT ON COLUMN nfpg.imported_files.imported_by IS 'The role that imported it';

-- Called first in a file's transaction.  The advisory lock makes a second
-- importer of the same content wait for the first one's outcome.
CREATE FUNCTION nfpg.import_check(path text, size bigint, sha256 bytea,
								  OUT state text, OUT other_path text, OUT other_imported timestamptz)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM pg_advisory_xact_lock(hashtextextended(encode(import_check.sha256, 'hex'), 0));
	PERFORM pg_advisory_xact_lock(hashtextextended(import_check.path, 0));
	SELECT 'imported', f.path, f.imported INTO state, other_path, other_imported
	  FROM nfpg.imported_files f
	 WHERE f.sha256 = import_check.sha256 AND f.size = import_check.size;
	IF FOUND THEN
		RETURN;
	END IF;
	SELECT 'changed', f.path, f.imported INTO state, other_path, other_imported
	  FROM nfpg.imported_files f
	 WHERE f.path = import_check.path
	 ORDER BY f.imported DESC LIMIT 1;
	IF NOT FOUND THEN
		state := 'new';
	END IF;
END
$$;
COMMENT ON FUNCTION nfpg.import_check(text, bigint, bytea) IS 'Whether a file''s content was imported (state imported, with where and when), its path was imported with other content (changed), or neither (new); locks the file for the transaction';

CREATE FUNCTION nfpg.import_record(path text, size bigint, sha256 bytea, status text,
								   flows bigint, packets bigint, bytes bigint,
								   first_seen timestamptz, last_seen timestamptz,
								   layout smallint, compression text, ident text, problems text)
RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
	INSERT INTO nfpg.imported_files (sha256, size, path, status, flows, packets, bytes,
									 first_seen, last_seen, layout, compression, ident, problems)
	VALUES ($3, $2, $1, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13);
$$;
COMMENT ON FUNCTION nfpg.import_record(text, bigint, bytea, text, bigint, bigint, bigint, timestamptz, timestamptz, smallint, text, text, text) IS 'Record a file as imported, in the transaction that loaded its flows';

-- Like the loader's functions (90_grants.sql), these run as nfpg_owner,
-- which may read and add rows of nfpg.imported_files and nothing more here.
GRANT SELECT, INSERT ON nfpg.imported_files TO nfpg_owner;
ALTER FUNCTION nfpg.import_check(text, bigint, bytea) OWNER TO nfpg_owner;
ALTER FUNCTION nfpg.import_record(text, bigint, bytea, text, bigint, bigint, bigint, timestamptz, timestamptz, smallint, text, text, text) OWNER TO nfpg_owner;
REVOKE ALL ON FUNCTION nfpg.import_check(text, bigint, bytea) FROM PUBLIC;
REVOKE ALL ON FUNCTION nfpg.import_record(text, bigint, bytea, text, bigint, bigint, bigint, timestamptz, timestamptz, smallint, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION nfpg.import_check(text, bigint, bytea) TO nfpg_loader;
GRANT EXECUTE ON FUNCTION nfpg.import_record(text, bigint, bytea, text, bigint, bigint, bigint, timestamptz, timestamptz, smallint, text, text, text) TO nfpg_loader;
GRANT SELECT ON nfpg.imported_files TO nfpg_reader, nfpg_admin;
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
LANGUAGE C STABLE STRICT PARALLEL SAFE;
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
	rec_orders	text[];
	rec_asc		boolean := false;
	flow_stat	boolean := false;
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
	IF scope IS NOT NULL THEN
		scope_w := '(' || nfpg.nf_filter_sql(scope) || ')';
	END IF;
	IF scope_from IS NOT NULL THEN
		scope_w := scope_w || ' AND received >= $4';
	END IF;
	IF scope_to IS NOT NULL THEN
		scope_w := scope_w || ' AND received < $5';
	END IF;
	pass := nfpg.nf_stat_where(filter, t_from, t_to);
	src := 'nfpg.flows WHERE ' || scope_w;
	IF record_limit > 0 THEN
		-- -c: the first N passing records in the order nfcapd wrote them
		src := format('(SELECT *, ctid AS rid FROM nfpg.flows WHERE %s AND %s ORDER BY received, ctid LIMIT %s) f',
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
		q := q || format(', %L, to_jsonb(nfpg.nf_topn(%L, flows, packets, bytes, out_packets, out_bytes,'
			 ' first_seen, last_seen, tcp_flags, src_tos, %s) FILTER (WHERE %s))', 's' || i,
			 format('%s %s%s %s %s', CASE WHEN k.two_sided THEN 'stat2' ELSE 'stat' END,
					split_part(st, '|', 2), CASE split_part(st, '|', 3) WHEN 'a' THEN ':a' ELSE '' END,
					CASE WHEN p_lim IS NOT NULL OR b_lim IS NOT NULL THEN 0 ELSE top END, k.fields),
			 k.keys, pass);
		i := i + 1;
	END LOOP;
	EXECUTE q || ') FROM ' || src INTO res USING NULL::text, t_from, t_to, scope_from, scope_to;
	IF record_limit > 0 THEN
		-- nfdump stops reading at the N-th passing record
		EXECUTE format('SELECT count(*) FROM (SELECT sum((%s)::int) OVER (ORDER BY received, ctid'
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
	IF cardinality(elements) = 0 AND NOT flow_stat AND aggregate IS NULL AND fields IS NULL THEN
		-- the records in the order nfcapd wrote them, or sorted by -O
		RETURN QUERY EXECUTE format('SELECT nfpg.nf_format(f, %L, %L, %L)%s FROM %s ORDER BY %s received, rid %s',
			fmt, plain, long_v6,
			CASE WHEN json_end IS NOT NULL THEN format(' || CASE WHEN lead(true) OVER (ORDER BY %s received, rid) IS NULL'
				' THEN %L ELSE '','' END', nfpg.nf_record_order(print_order), json_end) ELSE '' END,
			CASE WHEN record_limit > 0 THEN src ELSE '(SELECT *, ctid AS rid FROM nfpg.flows WHERE ' || scope_w || ' AND ' || pass || ') f' END,
			nfpg.nf_record_order(print_order),
			CASE WHEN print_order IS NOT NULL AND top > 0 THEN 'LIMIT ' || top ELSE '' END)
			USING NULL::text, t_from, t_to, scope_from, scope_to;
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
				'WITH a AS (SELECT * FROM unnest((SELECT nfpg.nf_topn_records(%L, flows, packets, bytes,'
				' out_packets, out_bytes, first_seen, last_seen, tcp_flags, src_tos, %s) FROM %s AND %s))'
				' WITH ORDINALITY AS r)%s'
				' SELECT nfpg.nf_format(m, %L, %L, %L)%s FROM (SELECT %s, a.ordinality FROM a %s) m ORDER BY ordinality',
				format('%s %s%s %s %s', agg_mode, ord, CASE WHEN flow_stat AND rec_asc THEN ':a' ELSE '' END, top, names),
				keys, CASE WHEN record_limit > 0 THEN src || ' WHERE true' ELSE src END, pass,
				CASE WHEN agg_mode = 'A' THEN '' ELSE format(
					', s AS (SELECT DISTINCT ON (src_addr, dst_addr, src_port, dst_port, proto) * FROM %s'
					' WHERE (src_addr, dst_addr, src_port, dst_port, proto) IN'
					' (SELECT src_addr, dst_addr, src_port, dst_port, proto FROM a)'
					' ORDER BY src_addr, dst_addr, src_port, dst_port, proto, received, rid)',
					CASE WHEN record_limit > 0 THEN src
						 ELSE '(SELECT *, ctid AS rid FROM nfpg.flows WHERE ' || scope_w || ' AND ' || pass || ') f' END) END,
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
--------------------------------------------------------------------------------
-- Links between profiles, channels, series, plugins and alerts; compiled filters
--
-- Dropping a profile drops its channels, series, slot bookkeeping, plugin
-- registrations and runs, alerts (and their logs) and host-class counts;
-- dropping a plugin or an alert drops its runs or log.  These links are kept
-- by the triggers below, not by foreign keys: the tables' rows are the
-- user's and pg_dump dumps them (93_config_dump.sql), and pg_restore -j
-- loads the tables in parallel in no guaranteed order, so a foreign key
-- checked during that load would refuse the series of a profile not yet
-- restored.  New rows are checked where they are made: nf_channel_add,
-- nf_alert_create and nf_plugin_register refuse an unknown profile.
--------------------------------------------------------------------------------

CREATE FUNCTION nfpg.profile_deleted()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	DELETE FROM nfpg.profile_channels WHERE profile = OLD.profile;
	DELETE FROM nfpg.profile_series WHERE profile = OLD.profile;
	DELETE FROM nfpg.profile_slots WHERE profile = OLD.profile;
	DELETE FROM nfpg.plugin_profiles WHERE profile = OLD.profile;
	DELETE FROM nfpg.plugin_runs WHERE profile = OLD.profile;
	DELETE FROM nfpg.alerts WHERE profile = OLD.profile;
	DELETE FROM nfpg.hostclass_series WHERE profile = OLD.profile;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION nfpg.profile_deleted() IS 'Trigger: a deleted profile takes its channels, series, slots, plugin registrations and runs, alerts and host-class counts with it';

CREATE FUNCTION nfpg.plugin_deleted()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	DELETE FROM nfpg.plugin_profiles WHERE plugin = OLD.plugin;
	DELETE FROM nfpg.plugin_runs WHERE plugin = OLD.plugin;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION nfpg.plugin_deleted() IS 'Trigger: a deleted plugin takes its registrations and runs with it';

CREATE FUNCTION nfpg.alert_deleted()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	DELETE FROM nfpg.alert_log WHERE alert = OLD.alert;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION nfpg.alert_deleted() IS 'Trigger: a deleted alert takes its log with it';

CREATE TRIGGER profile_deleted AFTER DELETE ON nfpg.profiles
	FOR EACH ROW EXECUTE FUNCTION nfpg.profile_deleted();
CREATE TRIGGER plugin_deleted AFTER DELETE ON nfpg.plugins
	FOR EACH ROW EXECUTE FUNCTION nfpg.plugin_deleted();
CREATE TRIGGER alert_deleted AFTER DELETE ON nfpg.alerts
	FOR EACH ROW EXECUTE FUNCTION nfpg.alert_deleted();

-- A stored filter_sql is what gets spliced into the queries nf_run runs
-- (as the job's owner), so it is never taken from whoever wrote the row:
-- it is always compiled here from the row's nfdump filter text.  A member
-- of nfpg_admin may then edit these tables directly without being able to
-- inject SQL.  pg_restore's COPY recompiles the same text to the same SQL.
CREATE FUNCTION nfpg.filter_compiled()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	NEW.filter_sql := nfpg.nf_filter_sql(NEW.filter);
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION nfpg.filter_compiled() IS 'Trigger: filter_sql is always the compilation of the row''s filter text, whoever writes the row';

CREATE TRIGGER filter_compiled BEFORE INSERT OR UPDATE ON nfpg.profiles
	FOR EACH ROW EXECUTE FUNCTION nfpg.filter_compiled();
CREATE TRIGGER filter_compiled BEFORE INSERT OR UPDATE ON nfpg.profile_channels
	FOR EACH ROW EXECUTE FUNCTION nfpg.filter_compiled();
CREATE TRIGGER filter_compiled BEFORE INSERT OR UPDATE ON nfpg.alerts
	FOR EACH ROW EXECUTE FUNCTION nfpg.filter_compiled();
--------------------------------------------------------------------------------
-- Packed partitions: finished hours in compressed columns
--
-- nfpg.pack_partition(p) turns a finished heap partition of nfpg.flows into a
-- packed one: a foreign table of the nfpg_packed wrapper (pack_fdw.c explains
-- why a foreign table) whose flows live in two heap tables, p_seg (segments of
-- compressed column chunks, one row per ~131k flows) and p_late (flows that
-- arrive later).  nfpg.flows stays one table: every query reads packed hours
-- through it, unchanged.  nfpg.unpack_partition(p) gives the heap partition
-- back, row for row.
--
-- Both are one transaction: the segments are built while the heap partition
-- is locked against writers (SHARE), then the heap partition is dropped and
-- the foreign one created in its place.  A crash or error before COMMIT
-- leaves the heap partition as it was; calling either again is harmless
-- (pack of a packed partition merges its late flows into new segments;
-- unpack of a heap partition does nothing).
-- The swap takes an ACCESS EXCLUSIVE lock on nfpg.flows for a moment (DROP
-- and CREATE ... PARTITION OF); lock_timeout bounds the wait, and a pack
-- that times out is simply tried again by the next scheduled run.
--
-- The storage tables are user data created here, not by CREATE EXTENSION,
-- so pg_dump dumps them (and the foreign tables without rows), and a
-- restore brings the packed hours back.
--------------------------------------------------------------------------------

CREATE FUNCTION nfpg.nfpg_packed_handler()
RETURNS fdw_handler
LANGUAGE C STRICT
AS 'MODULE_PATHNAME', 'nfpg_packed_handler';

CREATE FUNCTION nfpg.nfpg_packed_validator(text[], oid)
RETURNS void
LANGUAGE C STRICT
AS 'MODULE_PATHNAME', 'nfpg_packed_validator';

CREATE FOREIGN DATA WRAPPER nfpg_packed
	HANDLER nfpg.nfpg_packed_handler
	VALIDATOR nfpg.nfpg_packed_validator;
COMMENT ON FOREIGN DATA WRAPPER nfpg_packed IS 'Packed (compressed, column-wise) partitions of nfpg.flows';
CREATE SERVER nfpg_packed FOREIGN DATA WRAPPER nfpg_packed;
COMMENT ON SERVER nfpg_packed IS 'The one server of packed nfpg.flows partitions; used by nfpg.pack_partition() only';

CREATE FUNCTION nfpg.pack_build(src regclass, dst regclass, block_rows integer, segment_blocks integer,
								zstd_level integer)
RETURNS bigint
LANGUAGE C STRICT
AS 'MODULE_PATHNAME', 'nfpg_pack_build';
COMMENT ON FUNCTION nfpg.pack_build(regclass, regclass, integer, integer, integer) IS 'Internal to pack_partition(): write the rows of src, sorted on first_seen, as compressed segments into the segment table dst';
REVOKE ALL ON FUNCTION nfpg.pack_build(regclass, regclass, integer, integer, integer) FROM PUBLIC;

-- Grant on a relation what acl (the replaced partition's relacl) granted to others than owner.
CREATE FUNCTION nfpg.pack_copy_grants(acl aclitem[], owner oid, to_rel regclass)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	g		record;
BEGIN
	FOR g IN SELECT a.privilege_type, a.grantee FROM aclexplode(acl) a WHERE a.grantee <> owner
	LOOP
		EXECUTE format('GRANT %s ON %s TO %s', g.privilege_type, to_rel,
					   CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(g.grantee::regrole::text) END);
	END LOOP;
END
$$;
REVOKE ALL ON FUNCTION nfpg.pack_copy_grants(aclitem[], oid, regclass) FROM PUBLIC;

CREATE FUNCTION nfpg.pack_partition(part regclass, zstd_level integer DEFAULT 3,
									block_rows integer DEFAULT 8192, segment_blocks integer DEFAULT 16)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	p			nfpg.partitions;
	name		text;
	kind		"char";
	cols		text;
	seg			text;
	late		text;
	suffix		text := '';
	new_rel		regclass;
	acl			aclitem[];
	owner		oid;
	n			bigint;
	t0			timestamptz := clock_timestamp();
BEGIN
	PERFORM pg_advisory_xact_lock('nfpg.flows'::regclass::oid::bigint);
	SELECT * INTO p FROM nfpg.partitions WHERE relid = part;
	SELECT c.relname, c.relkind INTO name, kind FROM pg_class c
	 WHERE c.oid = part AND c.relnamespace = 'nfpg'::regnamespace;
	IF p.relid IS NULL OR name IS NULL THEN
		RAISE EXCEPTION '% is not a time partition of nfpg.flows', part
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF kind = 'f' THEN
		-- repack: read the packed rows and the late ones, build beside them
		suffix := '_next';
		EXECUTE format('LOCK TABLE nfpg.%I IN SHARE MODE', name || '_late');
	ELSE
		EXECUTE format('LOCK TABLE %s IN SHARE MODE', part);
	END IF;
	seg := name || '_seg' || suffix;
	late := name || '_late' || suffix;

	-- segments: metadata, then one bytea per flows column, named as the column
	SELECT string_agg(format('%I bytea', a.attname), ', ' ORDER BY a.attnum) INTO cols
	  FROM pg_attribute a
	 WHERE a.attrelid = 'nfpg.flows'::regclass AND a.attnum > 0 AND NOT a.attisdropped;
	EXECUTE format('CREATE TABLE nfpg.%I (seg_no integer NOT NULL, seg_rows integer NOT NULL, '
				   'seg_first_min timestamptz, seg_first_max timestamptz, seg_summary bytea NOT NULL, %s)',
				   seg, cols);
	-- the chunks are compressed already: no second try by TOAST
	SELECT string_agg(format('ALTER COLUMN %I SET STORAGE EXTERNAL', a.attname), ', ') INTO cols
	  FROM pg_attribute a
	 WHERE a.attrelid = format('nfpg.%I', seg)::regclass AND a.attnum > 0 AND a.atttypid = 'bytea'::regtype;
	EXECUTE format('ALTER TABLE nfpg.%I %s', seg, cols);
	EXECUTE format('CREATE TABLE nfpg.%I (LIKE nfpg.flows INCLUDING DEFAULTS)', late);

	n := nfpg.pack_build(part, format('nfpg.%I', seg)::regclass, block_rows, segment_blocks, zstd_level);

	SET LOCAL lock_timeout = '30s';
	IF kind = 'f' THEN
		EXECUTE format('DROP TABLE nfpg.%I, nfpg.%I', name || '_seg', name || '_late');
		EXECUTE format('ALTER TABLE nfpg.%I RENAME TO %I', seg, name || '_seg');
		EXECUTE format('ALTER TABLE nfpg.%I RENAME TO %I', late, name || '_late');
		EXECUTE format('ALTER FOREIGN TABLE %s OPTIONS (SET rows %L)', part, n::text);
		new_rel := part;
	ELSE
		-- keep the grants of the heap partition (the loader's INSERT)
		SELECT c.relacl, c.relowner INTO acl, owner FROM pg_class c WHERE c.oid = part;
		EXECUTE format('DROP TABLE %s', part);
		EXECUTE format('CREATE FOREIGN TABLE nfpg.%I PARTITION OF nfpg.flows FOR VALUES FROM (%L) TO (%L) '
					   'SERVER nfpg_packed OPTIONS (segments %L, late %L, rows %L)',
					   name, p.lower_bound, p.upper_bound,
					   format('nfpg.%I', seg), format('nfpg.%I', late), n::text);
		new_rel := format('nfpg.%I', name)::regclass;
		PERFORM nfpg.pack_copy_grants(acl, owner, new_rel);
		UPDATE nfpg.partitions SET relid = new_rel WHERE relid = p.relid;
	END IF;
	RAISE LOG 'nfpg: packed % (% flows) in %', new_rel, n, clock_timestamp() - t0;
	RETURN n;
END
$$;
COMMENT ON FUNCTION nfpg.pack_partition(regclass, integer, integer, integer) IS 'Pack a partition of nfpg.flows into compressed column segments (a packed partition), or re-pack a packed one merging its late flows; one transaction; returns the flows packed';
REVOKE ALL ON FUNCTION nfpg.pack_partition(regclass, integer, integer, integer) FROM PUBLIC;

CREATE FUNCTION nfpg.unpack_partition(part regclass)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	p			nfpg.partitions;
	name		text;
	kind		"char";
	heap		text;
	new_rel		regclass;
	n			bigint;
BEGIN
	PERFORM pg_advisory_xact_lock('nfpg.flows'::regclass::oid::bigint);
	SELECT * INTO p FROM nfpg.partitions WHERE relid = part;
	SELECT c.relname, c.relkind INTO name, kind FROM pg_class c
	 WHERE c.oid = part AND c.relnamespace = 'nfpg'::regnamespace;
	IF p.relid IS NULL OR name IS NULL THEN
		RAISE EXCEPTION '% is not a time partition of nfpg.flows', part
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF kind <> 'f' THEN
		RETURN 0;				-- a heap partition already
	END IF;
	EXECUTE format('LOCK TABLE nfpg.%I IN SHARE MODE', name || '_late');
	heap := name || '_unpacking';
	EXECUTE format('CREATE TABLE nfpg.%I (LIKE nfpg.flows INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', heap);
	EXECUTE format('INSERT INTO nfpg.%I SELECT * FROM %s', heap, part);
	GET DIAGNOSTICS n = ROW_COUNT;
	new_rel := format('nfpg.%I', heap)::regclass;
	PERFORM nfpg.pack_copy_grants(c.relacl, c.relowner, new_rel) FROM pg_class c WHERE c.oid = part;

	SET LOCAL lock_timeout = '30s';
	EXECUTE format('DROP FOREIGN TABLE %s', part);
	EXECUTE format('DROP TABLE nfpg.%I, nfpg.%I', name || '_seg', name || '_late');
	EXECUTE format('ALTER TABLE %s RENAME TO %I', new_rel, name);
	-- the CHECK lets ATTACH skip scanning the table (as create_partition does)
	EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I CHECK (first_seen >= %L AND first_seen < %L)',
				   new_rel, name || '_range', p.lower_bound, p.upper_bound);
	EXECUTE format('ALTER TABLE nfpg.flows ATTACH PARTITION %s FOR VALUES FROM (%L) TO (%L)',
				   new_rel, p.lower_bound, p.upper_bound);
	EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', new_rel, name || '_range');
	-- lookup indexes are rebuilt by the next index_partitions()
	UPDATE nfpg.partitions SET relid = new_rel, indexed = NULL WHERE relid = p.relid;
	RETURN n;
END
$$;
COMMENT ON FUNCTION nfpg.unpack_partition(regclass) IS 'Turn a packed partition back into a heap partition with exactly its flows (packed and late); returns the flows; nothing for a heap partition';
REVOKE ALL ON FUNCTION nfpg.unpack_partition(regclass) FROM PUBLIC;

CREATE FUNCTION nfpg.pack_status()
RETURNS TABLE (partition regclass, lower_bound timestamptz, upper_bound timestamptz, packed boolean,
			   flows bigint, late_flows bigint, segments bigint, bytes bigint, bytes_per_flow numeric)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r			record;
BEGIN
	FOR r IN SELECT p.relid, p.lower_bound AS lo, p.upper_bound AS hi, c.relkind, c.relname
			   FROM nfpg.partitions p JOIN pg_class c ON c.oid = p.relid ORDER BY p.lower_bound
	LOOP
		partition := r.relid;
		lower_bound := r.lo;
		upper_bound := r.hi;
		packed := r.relkind = 'f';
		IF packed THEN
			EXECUTE format('SELECT coalesce(sum(seg_rows), 0), count(*) FROM nfpg.%I', r.relname || '_seg')
			   INTO flows, segments;
			EXECUTE format('SELECT count(*) FROM nfpg.%I', r.relname || '_late') INTO late_flows;
			bytes := pg_total_relation_size(format('nfpg.%I', r.relname || '_seg'))
					 + pg_total_relation_size(format('nfpg.%I', r.relname || '_late'));
			flows := flows + late_flows;
		ELSE
			EXECUTE format('SELECT count(*) FROM %s', r.relid) INTO flows;
			late_flows := 0;
			segments := NULL;
			bytes := pg_total_relation_size(r.relid);
		END IF;
		bytes_per_flow := round(bytes::numeric / nullif(flows, 0), 2);
		RETURN NEXT;
	END LOOP;
END
$$;
COMMENT ON FUNCTION nfpg.pack_status() IS 'Every partition of nfpg.flows: packed or not, flows (late ones apart), segments, bytes on disk all-in (tables, TOAST, indexes) and bytes per flow';
REVOKE ALL ON FUNCTION nfpg.pack_status() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION nfpg.pack_status() TO nfpg_reader, nfpg_admin;

CREATE FUNCTION nfpg.pack_partitions(older_than interval DEFAULT '2 hours', max_partitions integer DEFAULT 4,
									 now timestamptz DEFAULT now())
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	p			record;
	n			bigint;
	done		integer := 0;
	has_rows	boolean;
	msg			text;
BEGIN
	-- newest finished hours first (they are the ones queried most), a few
	-- per call: a backlog is worked off over the scheduled runs
	FOR p IN SELECT r.relid, c.relkind, c.relname FROM nfpg.partitions r JOIN pg_class c ON c.oid = r.relid
			  WHERE r.upper_bound <= now - older_than
			  ORDER BY r.upper_bound DESC
	LOOP
		EXIT WHEN done >= max_partitions;
		-- packed ones with late flows to merge; heap ones with flows
		EXECUTE format('SELECT EXISTS (SELECT 1 FROM nfpg.%I)',
					   CASE WHEN p.relkind = 'f' THEN p.relname || '_late' ELSE p.relname END) INTO has_rows;
		CONTINUE WHEN NOT has_rows;
		BEGIN
			n := nfpg.pack_partition(p.relid);
			RAISE NOTICE 'nfpg: packed nfpg.% (% flows)', p.relname, n;
			done := done + 1;
		EXCEPTION WHEN OTHERS THEN
			GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
			RAISE WARNING 'nfpg: nfpg.% not packed: %', p.relname, msg;
		END;
	END LOOP;
	RETURN done;
END
$$;
COMMENT ON FUNCTION nfpg.pack_partitions(interval, integer, timestamptz) IS 'Pack the partitions that ended more than older_than before now and hold flows not packed yet (heap partitions, or late flows of packed ones); newest first, at most max_partitions; returns how many were packed';
REVOKE ALL ON FUNCTION nfpg.pack_partitions(interval, integer, timestamptz) FROM PUBLIC;

-- Aging (60_aging.sql) and the other places that size or drop partitions
-- go through these two, which know that a packed partition's flows live in
-- its storage tables.
CREATE FUNCTION nfpg.partition_size(part regclass)
RETURNS bigint
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	name		text;
	kind		"char";
BEGIN
	SELECT c.relname, c.relkind INTO name, kind FROM pg_class c WHERE c.oid = part;
	IF kind = 'f' THEN
		RETURN coalesce(pg_total_relation_size(to_regclass(format('nfpg.%I', name || '_seg'))), 0)
			 + coalesce(pg_total_relation_size(to_regclass(format('nfpg.%I', name || '_late'))), 0);
	END IF;
	RETURN pg_total_relation_size(part);
END
$$;
COMMENT ON FUNCTION nfpg.partition_size(regclass) IS 'Disk usage of a flows partition, all-in (tables, TOAST, indexes), packed or not';

CREATE FUNCTION nfpg.drop_partition(part regclass)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	name		text;
	kind		"char";
BEGIN
	SELECT c.relname, c.relkind INTO name, kind FROM pg_class c WHERE c.oid = part;
	DELETE FROM nfpg.partitions WHERE relid = part;
	IF kind = 'f' THEN
		EXECUTE format('DROP FOREIGN TABLE %s', part);
		EXECUTE format('DROP TABLE IF EXISTS nfpg.%I, nfpg.%I', name || '_seg', name || '_late');
	ELSE
		EXECUTE format('DROP TABLE %s', part);
	END IF;
END
$$;
COMMENT ON FUNCTION nfpg.drop_partition(regclass) IS 'Drop a flows partition, with the storage tables of a packed one, and forget it in nfpg.partitions';
REVOKE ALL ON FUNCTION nfpg.drop_partition(regclass) FROM PUBLIC;

-- The packing functions run as nfpg_owner, which owns nfpg.flows and its
-- partitions (05_roles.sql, 95_setup.sql): the foreign partitions and their
-- storage tables get the same owner, which pack_fdw.c checks.
GRANT USAGE ON FOREIGN SERVER nfpg_packed TO nfpg_owner;
DO $$
DECLARE
	f	regprocedure;
BEGIN
	FOREACH f IN ARRAY ARRAY[
		'nfpg.pack_partition(regclass, integer, integer, integer)',
		'nfpg.unpack_partition(regclass)',
		'nfpg.pack_partitions(interval, integer, timestamptz)',
		'nfpg.pack_status()']::regprocedure[]
	LOOP
		EXECUTE format('ALTER FUNCTION %s OWNER TO nfpg_owner', f);
	END LOOP;
END
$$;
GRANT EXECUTE ON FUNCTION nfpg.pack_build(regclass, regclass, integer, integer, integer),
	nfpg.pack_copy_grants(aclitem[], oid, regclass) TO nfpg_owner;
--------------------------------------------------------------------------------
-- The web console's queries (nfpg-web, web/): NfSen's pictures as functions
--
-- nfpg-web calls only these functions and the ones they build on, with bind
-- parameters; no SQL comes from the browser.  They are ordinary STABLE
-- plpgsql functions, not SECURITY DEFINER: they run with the rights of the
-- role that logged in to the page, so column grants, row-level security and
-- anonymized views hold in the page exactly as in psql.  Grafana panels can
-- call the same functions (web/grafana/).
--
-- Filters are compiled by nf_filter_sql() and only the compiled condition is
-- spliced into the statement (format %s), as nf_stat does; every value
-- travels as a parameter (USING).  A drill-down filter is compiled alone
-- first, so an error's position refers to the text the user typed, not to
-- the profile filter it is combined with.
--
-- plpgsql, not LANGUAGE sql: the tables they read (nfpg.flows,
-- nfpg.profile_series) are user data created by nfpg.setup(), after this
-- script.
--------------------------------------------------------------------------------

-- The 'live' profile (all flows) the overview shows by default; setup()
-- calls it.  Idempotent: an existing 'live' profile is left as it is.
CREATE FUNCTION nfpg.nf_live_profile(tstart timestamptz DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM nfpg.profiles p WHERE p.profile = 'live') THEN
		PERFORM nfpg.nf_profile_create('live', 'any', tstart, NULL, NULL, 'All flows (created by nfpg.setup)');
	END IF;
	RETURN 'live';
END
$$;
COMMENT ON FUNCTION nfpg.nf_live_profile(timestamptz) IS 'Create the continuous profile ''live'' (filter any) unless it exists; the web overview''s default profile';

-- NfSen's graph data as rates: per channel and slot, flows/s, packets/s and
-- bits/s in total and per protocol (a slot is 300 s).
CREATE FUNCTION nfpg.nf_profile_rates(profile text, from_ts timestamptz, to_ts timestamptz)
RETURNS TABLE (channel text, slot timestamptz,
			   flows double precision, flows_tcp double precision, flows_udp double precision,
			   flows_icmp double precision, flows_other double precision,
			   packets double precision, packets_tcp double precision, packets_udp double precision,
			   packets_icmp double precision, packets_other double precision,
			   bits double precision, bits_tcp double precision, bits_udp double precision,
			   bits_icmp double precision, bits_other double precision)
LANGUAGE plpgsql STABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM nfpg.profiles p WHERE p.profile = $1) THEN
		RAISE EXCEPTION 'profile "%" does not exist', $1 USING ERRCODE = 'undefined_object';
	END IF;
	RETURN QUERY
	SELECT s.channel, s.slot,
		   s.flows::float8 / 300, s.flows_tcp::float8 / 300, s.flows_udp::float8 / 300,
		   s.flows_icmp::float8 / 300, s.flows_other::float8 / 300,
		   s.packets::float8 / 300, s.packets_tcp::float8 / 300, s.packets_udp::float8 / 300,
		   s.packets_icmp::float8 / 300, s.packets_other::float8 / 300,
		   s.bytes::float8 * 8 / 300, s.bytes_tcp::float8 * 8 / 300, s.bytes_udp::float8 * 8 / 300,
		   s.bytes_icmp::float8 * 8 / 300, s.bytes_other::float8 * 8 / 300
	  FROM nfpg.profile_series s
	 WHERE s.profile = $1 AND s.slot >= $2 AND s.slot < $3
	 ORDER BY s.channel, s.slot;
END
$$;
COMMENT ON FUNCTION nfpg.nf_profile_rates(text, timestamptz, timestamptz) IS 'The series of a profile''s slots in [from_ts, to_ts), every channel, as flows/s, packets/s and bits/s in total and per protocol';

-- NfSen's statistics summary: per channel, the sums over a window of slots.
CREATE FUNCTION nfpg.nf_profile_totals(profile text, from_ts timestamptz, to_ts timestamptz)
RETURNS TABLE (channel text, slots bigint,
			   flows numeric, flows_tcp numeric, flows_udp numeric, flows_icmp numeric, flows_other numeric,
			   packets numeric, packets_tcp numeric, packets_udp numeric, packets_icmp numeric, packets_other numeric,
			   bytes numeric, bytes_tcp numeric, bytes_udp numeric, bytes_icmp numeric, bytes_other numeric)
LANGUAGE plpgsql STABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM nfpg.profiles p WHERE p.profile = $1) THEN
		RAISE EXCEPTION 'profile "%" does not exist', $1 USING ERRCODE = 'undefined_object';
	END IF;
	RETURN QUERY
	SELECT s.channel, count(*),
		   sum(s.flows), sum(s.flows_tcp), sum(s.flows_udp), sum(s.flows_icmp), sum(s.flows_other),
		   sum(s.packets), sum(s.packets_tcp), sum(s.packets_udp), sum(s.packets_icmp), sum(s.packets_other),
		   sum(s.bytes), sum(s.bytes_tcp), sum(s.bytes_udp), sum(s.bytes_icmp), sum(s.bytes_other)
	  FROM nfpg.profile_series s
	 WHERE s.profile = $1 AND s.slot >= $2 AND s.slot < $3
	 GROUP BY s.channel ORDER BY s.channel;
END
$$;
COMMENT ON FUNCTION nfpg.nf_profile_totals(text, timestamptz, timestamptz) IS 'Per channel, the number of built slots and the sums of flows, packets and bytes (total and per protocol) over the slots in [from_ts, to_ts)';

-- The nfdump filter of a drill-down: the profile's filter and the one typed.
CREATE FUNCTION nfpg.nf_drill_filter(profile text, filter text)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	base	text := nfpg.nf_profile_filter(coalesce(profile, 'live'));
BEGIN
	IF filter IS NULL OR btrim(filter) = '' THEN
		RETURN base;
	END IF;
	PERFORM nfpg.nf_filter_sql(filter);		-- errors name positions in the typed text
	IF btrim(lower(base)) = 'any' THEN
		RETURN filter;
	END IF;
	RETURN format('(%s) and (%s)', base, filter);
END
$$;
COMMENT ON FUNCTION nfpg.nf_drill_filter(text, text) IS 'The nfdump filter selecting a profile''s flows that also match filter (validated alone first, so errors give positions in it)';

-- Buckets of [from_ts, to_ts): bucket width between 1 minute and 1 day, and
-- no more than 20000 of them (a year of 30-minute points), so a mistyped
-- window cannot make the server build millions of rows.
CREATE FUNCTION nfpg.nf_web_buckets(from_ts timestamptz, to_ts timestamptz, bucket interval)
RETURNS SETOF timestamptz
LANGUAGE plpgsql IMMUTABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF bucket < interval '1 minute' OR bucket > interval '1 day' THEN
		RAISE EXCEPTION 'bucket % is outside 1 minute .. 1 day', bucket USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF to_ts <= from_ts THEN
		RAISE EXCEPTION 'the window ends (%) before it starts (%)', to_ts, from_ts USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF extract(epoch FROM to_ts - from_ts) / extract(epoch FROM bucket) > 20000 THEN
		RAISE EXCEPTION 'window of % would need more than 20000 buckets of %', to_ts - from_ts, bucket
			USING ERRCODE = 'program_limit_exceeded';
	END IF;
	RETURN QUERY SELECT generate_series(date_bin(bucket, from_ts, '2000-01-01 00:00+00'),
										to_ts - interval '1 microsecond', bucket);
END
$$;
COMMENT ON FUNCTION nfpg.nf_web_buckets(timestamptz, timestamptz, interval) IS 'The buckets (aligned to 2000-01-01 UTC, like 5-minute slots) overlapping [from_ts, to_ts); checks the width and count';

-- "Graph any filter": a series straight from nfpg.flows for a filter typed
-- now.  Flows count in the bucket of their first_seen, as in profile_series.
-- With shift, the window [from_ts - shift, to_ts - shift) is counted and its
-- buckets are reported shifted forward: the previous-period overlay.
CREATE FUNCTION nfpg.nf_filter_series(filter text, from_ts timestamptz, to_ts timestamptz,
									  bucket interval DEFAULT '5 minutes',
									  shift interval DEFAULT '0')
RETURNS TABLE (slot timestamptz, flows bigint, packets bigint, bytes bigint,
			   flows_s double precision, packets_s double precision, bits_s double precision)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	cond	text := nfpg.nf_filter_sql(coalesce(nullif(btrim(filter), ''), 'any'));
	secs	double precision := extract(epoch FROM bucket);
BEGIN
	RETURN QUERY EXECUTE format($q$
		SELECT b.slot + $5, coalesce(m.flows, 0)::bigint, coalesce(m.packets, 0)::bigint,
			   coalesce(m.bytes, 0)::bigint,
			   coalesce(m.flows, 0) / $4, coalesce(m.packets, 0) / $4, coalesce(m.bytes, 0) * 8 / $4
		  FROM nfpg.nf_web_buckets($1, $2, $3) b(slot)
		  LEFT JOIN (SELECT date_bin($3, first_seen, '2000-01-01 00:00+00') AS slot,
							sum(flows) AS flows, sum(packets) AS packets, sum(bytes) AS bytes
					   FROM nfpg.flows
					  WHERE first_seen >= $1 AND first_seen < $2 AND (%s)
					  GROUP BY 1) m USING (slot)
		 ORDER BY b.slot
	$q$, cond)
	USING from_ts - shift, to_ts - shift, bucket, secs, shift;
END
$$;
COMMENT ON FUNCTION nfpg.nf_filter_series(text, timestamptz, timestamptz, interval, interval) IS 'Series of the flows matching an nfdump filter with first_seen in [from_ts - shift, to_ts - shift), per bucket (shifted forward by shift): sums and flows/s, packets/s, bits/s';

-- Top-N over time (NfSen's PortTracker, for any filter): the top keys of a
-- one-sided nfdump -s statistic over the whole window, then per bucket the
-- rate of each and of everything else ("Other", which includes flows
-- without the field).  Two-sided statistics (ip, port, as: a flow counts for
-- its source and its destination) do not add up to the total, so they are
-- refused: use srcip/dstip, srcport/dstport, srcas/dstas.
CREATE FUNCTION nfpg.nf_topn_series(stat_type text, order_by text, top integer, filter text,
									from_ts timestamptz, to_ts timestamptz,
									bucket interval DEFAULT '5 minutes')
RETURNS TABLE (slot timestamptz, key text, rank integer, value double precision)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	k		record := nfpg.nf_stat_keys(stat_type);
	cond	text := nfpg.nf_filter_sql(coalesce(nullif(btrim(filter), ''), 'any'));
	keyexpr	text;
	metric	text;
BEGIN
	IF k.two_sided OR k.keys LIKE '%,%' THEN
		RAISE EXCEPTION 'nf_topn_series: statistic "%" is two-sided or composite', stat_type
			USING ERRCODE = 'feature_not_supported',
				  HINT = 'Use a one-sided statistic: srcip, dstip, srcport, dstport, srcas, dstas, proto, inif, outif, router, ...';
	END IF;
	metric := CASE lower(order_by) WHEN 'flows' THEN 'flows' WHEN 'packets' THEN 'packets'
								   WHEN 'bytes' THEN 'bytes * 8' END;
	IF metric IS NULL THEN
		RAISE EXCEPTION 'nf_topn_series: order "%" is not flows, packets or bytes', order_by
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF top IS NULL OR top < 1 OR top > 50 THEN
		RAISE EXCEPTION 'nf_topn_series: top must be 1 .. 50' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	-- keys print as nfdump prints them: addresses without a /32, protocols by name
	keyexpr := CASE
		WHEN k.keys = 'proto' THEN 'nfpg.nf_proto_name(proto)'
		WHEN EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = 'nfpg.flows'::regclass
						AND a.attname = k.keys AND a.atttypid = 'inet'::regtype) THEN format('host(%s)', k.keys)
		ELSE format('(%s)::text', k.keys) END;
	RETURN QUERY EXECUTE format($q$
		WITH m AS MATERIALIZED (
			SELECT date_bin($3, first_seen, '2000-01-01 00:00+00') AS slot, %s AS key, sum(%s) AS v
			  FROM nfpg.flows
			 WHERE first_seen >= $1 AND first_seen < $2 AND (%s)
			 GROUP BY 1, 2),
		t AS (
			SELECT m.key, row_number() OVER (ORDER BY sum(m.v) DESC, m.key)::integer AS rank
			  FROM m WHERE m.key IS NOT NULL GROUP BY m.key ORDER BY sum(m.v) DESC, m.key LIMIT $4)
		SELECT m.slot, coalesce(t.key, 'Other'), coalesce(t.rank, $4 + 1),
			   sum(m.v)::double precision / $5
		  FROM m LEFT JOIN t USING (key)
		 GROUP BY 1, 2, 3 ORDER BY 1, 3
	$q$, keyexpr, metric, cond)
	USING from_ts, to_ts, bucket, top, extract(epoch FROM bucket)::double precision;
END
$$;
COMMENT ON FUNCTION nfpg.nf_topn_series(text, text, integer, text, timestamptz, timestamptz, interval) IS 'Top-N over time: the top keys of a one-sided -s statistic in [from_ts, to_ts) by flows, packets or bytes, and per bucket the rate (flows/s, packets/s, bits/s) of each and of the rest as ''Other''';

-- "List flows" of the details page: nfdump -o FORMAT -c LIMIT over the -t
-- window, in time order.  Only the columns the caller may read are selected
-- (nf_format prints the others as absent), so a column grant shows in the
-- page as it does in psql; the address, port and AS fields come back apart
-- for the page's drill-down links.
CREATE FUNCTION nfpg.nf_flow_list(filter text, from_ts timestamptz, to_ts timestamptz,
								  format text DEFAULT 'line', lim integer DEFAULT 100)
RETURNS TABLE (line text, src_addr text, dst_addr text, src_port integer, dst_port integer,
			   src_as bigint, dst_as bigint, proto smallint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	cols	text;
BEGIN
	IF lim IS NULL OR lim < 1 OR lim > 10000 THEN
		RAISE EXCEPTION 'nf_flow_list: limit must be 1 .. 10000' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO cols
	  FROM pg_attribute a
	 WHERE a.attrelid = 'nfpg.flows'::regclass AND a.attnum > 0 AND NOT a.attisdropped
	   AND has_column_privilege('nfpg.flows'::regclass, a.attnum, 'SELECT');
	IF cols IS NULL THEN
		RAISE EXCEPTION 'permission denied for table flows' USING ERRCODE = 'insufficient_privilege';
	END IF;
	RETURN QUERY EXECUTE format($q$
		SELECT nfpg.nf_format(r, $4), j->>'src_addr', j->>'dst_addr', (j->>'src_port')::integer,
			   (j->>'dst_port')::integer, (j->>'src_as')::bigint, (j->>'dst_as')::bigint,
			   (j->>'proto')::smallint
		  FROM (SELECT %s FROM nfpg.flows WHERE %s ORDER BY first_seen LIMIT $5) r,
			   LATERAL to_jsonb(r) j
	$q$, cols, nfpg.nf_stat_where(coalesce(nullif(btrim(filter), ''), 'any'), from_ts, to_ts))
	USING NULL::text, from_ts, to_ts, format, lim;
END
$$;
COMMENT ON FUNCTION nfpg.nf_flow_list(text, timestamptz, timestamptz, text, integer) IS 'nfdump -o format -c lim over the flows matching filter inside [from_ts, to_ts] (-t), in time order, with the address, port and AS fields apart; reads only the columns the caller may select';

-- Aggregated records (nfdump -A/-a ... -o FORMAT) with their fields apart.
CREATE FUNCTION nfpg.nf_aggregate_list(fields text, order_by text, top integer, filter text,
									   from_ts timestamptz, to_ts timestamptz, format text DEFAULT 'line')
RETURNS TABLE (line text, src_addr text, dst_addr text, src_port integer, dst_port integer,
			   src_as bigint, dst_as bigint, proto smallint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN QUERY
	SELECT nfpg.nf_format(a, format), host(a.src_addr), host(a.dst_addr), a.src_port, a.dst_port,
		   a.src_as, a.dst_as, a.proto
	  FROM nfpg.nf_aggregate(nullif(btrim(fields), ''), order_by, top,
							 coalesce(nullif(btrim(filter), ''), 'any'), from_ts, to_ts) a;
END
$$;
COMMENT ON FUNCTION nfpg.nf_aggregate_list(text, text, integer, text, timestamptz, timestamptz, text) IS 'nf_aggregate (nfdump -A fields / -a) rendered by nf_format, with the address, port and AS fields apart';

REVOKE ALL ON FUNCTION nfpg.nf_live_profile(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION nfpg.nf_profile_rates(text, timestamptz, timestamptz),
	nfpg.nf_profile_totals(text, timestamptz, timestamptz),
	nfpg.nf_drill_filter(text, text),
	nfpg.nf_web_buckets(timestamptz, timestamptz, interval),
	nfpg.nf_filter_series(text, timestamptz, timestamptz, interval, interval),
	nfpg.nf_topn_series(text, text, integer, text, timestamptz, timestamptz, interval),
	nfpg.nf_flow_list(text, timestamptz, timestamptz, text, integer),
	nfpg.nf_aggregate_list(text, text, integer, text, timestamptz, timestamptz, text)
	TO nfpg_reader;
--------------------------------------------------------------------------------
-- What pg_dump keeps
--
-- The tables of the extension hold the user's configuration and bookkeeping:
-- settings, the partition registry, exporters, loader batch ids, profiles
-- and their channels, series and slots, plugins, alerts and their logs, host
-- classes, scheduled runs.  pg_dump skips an extension's objects (CREATE
-- EXTENSION remakes them) unless they are marked here, in which case it dumps
-- their rows after CREATE EXTENSION, so pg_restore brings every row back.
-- pg_dump orders the rows of tables linked by foreign keys by those keys.
-- nfpg.flows and its partitions are not the extension's at all (setup(),
-- 95_setup.sql): pg_dump dumps them as any table.
--------------------------------------------------------------------------------

-- One call per statement: each call rewrites the pg_extension row.
DO $$
DECLARE
	t	regclass;
BEGIN
	FOREACH t IN ARRAY ARRAY['nfpg.settings', 'nfpg.partitions', 'nfpg.exporters', 'nfpg.loader_batches',
							 'nfpg.nfsen_settings', 'nfpg.profiles', 'nfpg.profile_channels',
							 'nfpg.profile_series', 'nfpg.profile_slots', 'nfpg.plugins',
							 'nfpg.plugin_profiles', 'nfpg.plugin_runs', 'nfpg.alerts', 'nfpg.alert_log',
							 'nfpg.hostclass_series', 'nfpg.runs', 'nfpg.runs_run_seq']::regclass[]
	LOOP
		PERFORM pg_catalog.pg_extension_config_dump(t, '');
	END LOOP;
END
$$;
--------------------------------------------------------------------------------
-- setup(): the user's data, made once per database
--
-- CREATE EXTENSION nfpg installs code and the (dumped) configuration tables;
-- it does not make nfpg.flows.  If it did, pg_restore -- which runs CREATE
-- EXTENSION and then the dump's own CREATE TABLE nfpg.flows -- would fail,
-- and DROP EXTENSION would drop every flow with the extension.  So:
--
--   CREATE EXTENSION nfpg;
--   SELECT nfpg.setup();
--
-- setup() makes nfpg.flows as a typed table of the extension's nfpg.flow,
-- its default partition and time BRIN index, owned by nfpg_owner (the role
-- the partition functions run as), with the loader's and readers' grants,
-- the settings rows and the live profile (every flow, for the web page's
-- overview).  It is idempotent: on a restored database, or run
-- twice, it only adds what is missing.  A dump restores everything setup()
-- made, so it is never needed after pg_restore.
--------------------------------------------------------------------------------

CREATE FUNCTION nfpg.setup()
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	made		text[] := '{}';
	col			record;
BEGIN
	INSERT INTO nfpg.settings DEFAULT VALUES ON CONFLICT DO NOTHING;
	IF FOUND THEN made := made || 'nfpg.settings row'::text; END IF;
	INSERT INTO nfpg.nfsen_settings DEFAULT VALUES ON CONFLICT DO NOTHING;
	IF FOUND THEN made := made || 'nfpg.nfsen_settings row'::text; END IF;

	IF to_regclass('nfpg.flows') IS NULL THEN
		CREATE TABLE nfpg.flows OF nfpg.flow (
			first_seen WITH OPTIONS NOT NULL,
			last_seen WITH OPTIONS NOT NULL,
			received WITH OPTIONS NOT NULL DEFAULT now(),
			packets WITH OPTIONS NOT NULL DEFAULT 0,
			bytes WITH OPTIONS NOT NULL DEFAULT 0,
			source_id WITH OPTIONS NOT NULL DEFAULT 0,
			src_port WITH OPTIONS NOT NULL DEFAULT 0,
			dst_port WITH OPTIONS NOT NULL DEFAULT 0,
			flows WITH OPTIONS NOT NULL DEFAULT 1,
			proto WITH OPTIONS NOT NULL,
			tcp_flags WITH OPTIONS NOT NULL DEFAULT 0,
			src_tos WITH OPTIONS NOT NULL DEFAULT 0,
			src_addr WITH OPTIONS NOT NULL,
			dst_addr WITH OPTIONS NOT NULL,
			exporter WITH OPTIONS NOT NULL,
			CONSTRAINT flows_proto_range CHECK (proto BETWEEN 0 AND 255),
			CONSTRAINT flows_port_range CHECK (src_port BETWEEN 0 AND 65535 AND dst_port BETWEEN 0 AND 65535)
		) PARTITION BY RANGE (first_seen);
		COMMENT ON TABLE nfpg.flows IS 'One row per flow record (nfdump record), partitioned by first_seen; a typed table of nfpg.flow, made by nfpg.setup()';
		-- The columns' documentation lives on the type, in 00_flows.sql.
		FOR col IN SELECT a.attname, d.description
					 FROM pg_catalog.pg_attribute a
					 JOIN pg_catalog.pg_description d
					   ON d.classoid = 'pg_catalog.pg_class'::regclass
					  AND d.objoid = 'nfpg.flow'::regclass AND d.objsubid = a.attnum
					WHERE a.attrelid = 'nfpg.flow'::regclass AND a.attnum > 0
		LOOP
			EXECUTE format('COMMENT ON COLUMN nfpg.flows.%I IS %L', col.attname, col.description);
		END LOOP;
		CREATE TABLE nfpg.flows_default PARTITION OF nfpg.flows DEFAULT;
		COMMENT ON TABLE nfpg.flows_default IS 'Flows for which no time partition existed when they arrived (emptied by ensure_partitions()), and flows outside the accepted window of nfpg.settings';
		-- Every partition, present and future, gets a BRIN index on time:
		-- flows arrive roughly in time order, so a tiny BRIN serves windows.
		CREATE INDEX flows_first_seen_brin ON nfpg.flows USING brin (first_seen) WITH (pages_per_range = 32);
		ALTER TABLE nfpg.flows OWNER TO nfpg_owner;
		ALTER TABLE nfpg.flows_default OWNER TO nfpg_owner;
		GRANT INSERT ON nfpg.flows TO nfpg_loader;
		GRANT SELECT ON nfpg.flows TO nfpg_reader, nfpg_admin;
		made := made || 'nfpg.flows'::text;
	END IF;
	-- NfSen's first profile: every flow, for the overview.
	IF NOT EXISTS (SELECT 1 FROM nfpg.profiles WHERE profile = 'live') THEN
		PERFORM nfpg.nf_live_profile();
		made := made || 'the live profile'::text;
	END IF;
	RETURN CASE WHEN cardinality(made) = 0 THEN 'nothing to do: nfpg is set up'
				ELSE 'made ' || array_to_string(made, ', ') END;
END
$$;
COMMENT ON FUNCTION nfpg.setup() IS 'Make the user''s data objects of nfpg in this database (nfpg.flows, its default partition, the settings rows, the live profile) when missing; run once after CREATE EXTENSION nfpg, never needed after pg_restore';
REVOKE ALL ON FUNCTION nfpg.setup() FROM PUBLIC;
--------------------------------------------------------------------------------
-- Rights scoped to one database
--
-- nfpg_reader, nfpg_loader and nfpg_admin are roles of the cluster: a member
-- of nfpg_reader reads flows in every nfpg database of the cluster it can
-- connect to.  grant_access() gives a role of your own the rights one of
-- them has, in this database only (docs/operations.md, "Roles"):
--   CREATE ROLE site_a_reader LOGIN PASSWORD '...';
--   SELECT nfpg.grant_access('site_a_reader', 'reader');   -- in site_a only
-- It copies the grants the group role holds on schema nfpg's tables,
-- columns and functions at the time of the call; partitions made later give
-- INSERT to every role that may insert into nfpg.flows (create_partition).
--------------------------------------------------------------------------------

CREATE FUNCTION nfpg.grant_access(to_role regrole, access text)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	from_role	regrole;
	g			record;
	n			integer := 0;
BEGIN
	from_role := CASE access WHEN 'reader' THEN 'nfpg_reader'::regrole WHEN 'loader' THEN 'nfpg_loader'::regrole
							 WHEN 'admin' THEN 'nfpg_admin'::regrole END;
	IF from_role IS NULL THEN
		RAISE EXCEPTION 'access must be reader, loader or admin, not "%"', access
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	EXECUTE format('GRANT USAGE ON SCHEMA nfpg TO %s', to_role);
	FOR g IN
		SELECT format('GRANT %s ON %s TO %s', x.privilege_type, c.oid::regclass, to_role) AS stmt
		  FROM pg_class c, aclexplode(c.relacl) x
		 WHERE c.relnamespace = 'nfpg'::regnamespace AND x.grantee = from_role
		UNION ALL
		SELECT format('GRANT %s (%I) ON %s TO %s', x.privilege_type, a.attname, a.attrelid::regclass, to_role)
		  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid, aclexplode(a.attacl) x
		 WHERE c.relnamespace = 'nfpg'::regnamespace AND x.grantee = from_role
		UNION ALL
		SELECT format('GRANT EXECUTE ON FUNCTION %s TO %s', p.oid::regprocedure, to_role)
		  FROM pg_proc p, aclexplode(p.proacl) x
		 WHERE p.pronamespace = 'nfpg'::regnamespace AND x.grantee = from_role
	LOOP
		EXECUTE g.stmt;
		n := n + 1;
	END LOOP;
	RETURN n;
END
$$;
COMMENT ON FUNCTION nfpg.grant_access(regrole, text) IS 'Give a role, in this database only, the rights nfpg_reader, nfpg_loader or nfpg_admin hold here (access: reader, loader, admin); returns how many grants were made';
REVOKE ALL ON FUNCTION nfpg.grant_access(regrole, text) FROM PUBLIC;
--------------------------------------------------------------------------------
-- nfpg 0.1 -> 0.2: the user's data leaves the extension
--
-- Run after the files new in 0.2 (the nfpg.flow type, roles, config dump
-- marks, setup()) and before the grants (Makefile).  0.1 made nfpg.flows in
-- CREATE EXTENSION, so pg_dump skipped it, DROP EXTENSION dropped it and its
-- partitions, and the extension's tables were not dumped.  Here the table
-- leaves the extension, becomes a typed table of nfpg.flow and, with its
-- partitions, passes to nfpg_owner; the functions that named its row type
-- take nfpg.flow instead; the partition functions lose their temporary
-- table and gain the accepted time window.  Every row stays where it is.
--------------------------------------------------------------------------------

ALTER EXTENSION nfpg DROP TABLE nfpg.flows;
ALTER EXTENSION nfpg DROP TABLE nfpg.flows_default;
ALTER TABLE nfpg.flows OF nfpg.flow;
COMMENT ON TABLE nfpg.flows IS 'One row per flow record (nfdump record), partitioned by first_seen; a typed table of nfpg.flow, made by nfpg.setup()';
COMMENT ON TABLE nfpg.flows_default IS 'Flows for which no time partition existed when they arrived (emptied by ensure_partitions()), and flows outside the accepted window of nfpg.settings';
DO $$
DECLARE
	r	regclass;
BEGIN
	FOR r IN SELECT inhrelid::regclass FROM pg_catalog.pg_inherits WHERE inhparent = 'nfpg.flows'::regclass LOOP
		EXECUTE format('ALTER TABLE %s OWNER TO nfpg_owner', r);
	END LOOP;
END
$$;
ALTER TABLE nfpg.flows OWNER TO nfpg_owner;
GRANT SELECT ON nfpg.flows TO nfpg_admin;

ALTER TABLE nfpg.settings
	ADD COLUMN accept_past interval NOT NULL DEFAULT '10 years' CHECK (accept_past >= '1 hour'),
	ADD COLUMN accept_future interval NOT NULL DEFAULT '1 day' CHECK (accept_future >= '1 hour');
COMMENT ON TABLE nfpg.settings IS 'Installation settings (one row, made by nfpg.setup())';
COMMENT ON COLUMN nfpg.settings.accept_past IS 'Partitions are made only for times after now() minus this; older flows stay in nfpg.flows_default';
COMMENT ON COLUMN nfpg.settings.accept_future IS 'Partitions are made only for times before now() plus this; later flows stay in nfpg.flows_default';

-- The row type of nfpg.flows is no longer the extension's: nfpg.flow instead;
-- nf_format(record, text) takes its rows.
DROP FUNCTION nfpg.nf_format(nfpg.flows, text);
COMMENT ON FUNCTION nfpg.nf_format(record, text) IS
'One flow as nfdump -o prints it: line, long, extended, biline, bilong, gline, glong, nsel, nel (add 6 for full IPv6), csv, pipe, or fmt:<%tokens> (STABLE: times follow the session TimeZone). Takes a row of nfpg.flows, nf_aggregate() or any row with nfpg.flows column names (columns it lacks print as absent fields)';
DROP AGGREGATE nfpg.nf_topn_records(text, integer, bigint, bigint, bigint, bigint, timestamptz, timestamptz, smallint, smallint, "any");
DROP FUNCTION nfpg.nf_topn_records_final(internal);
DROP FUNCTION nfpg.nf_aggregate(text, text, integer, text, timestamptz, timestamptz, boolean, boolean);
DROP FUNCTION nfpg.nf_profile_flows(text, timestamptz, timestamptz, text);

CREATE FUNCTION nfpg.nf_topn_records_final(internal)
RETURNS nfpg.flow[] AS 'MODULE_PATHNAME', 'nf_topn_records_final' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION nfpg.nf_topn_records_final(internal) IS 'Final function of nf_topn_records: the top groups as aggregated flow records';

CREATE AGGREGATE nfpg.nf_topn_records(spec text, flows integer, packets bigint, bytes bigint,
	out_packets bigint, out_bytes bigint, first_seen timestamptz, last_seen timestamptz,
	tcp_flags smallint, tos smallint, VARIADIC keys "any") (
	SFUNC = nfpg.nf_topn_trans,
	STYPE = internal,
	FINALFUNC = nfpg.nf_topn_records_final,
	COMBINEFUNC = nfpg.nf_topn_combine,
	SERIALFUNC = nfpg.nf_topn_serial,
	DESERIALFUNC = nfpg.nf_topn_deserial,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE nfpg.nf_topn_records(text, integer, bigint, bigint, bigint, bigint, timestamptz, timestamptz, smallint, smallint, "any") IS
'Aggregated flow records (nfdump -a/-A/-b/-B) ranked by an order key, parallel safe. spec = ''a|A|b|B ORDER[:a|:d] N COLUMN[/4:L|/6:L],...'' naming the nfpg.flows column each key fills';

CREATE FUNCTION nfpg.nf_aggregate(fields text DEFAULT NULL, order_by text DEFAULT NULL,
	top integer DEFAULT 0, filter text DEFAULT NULL, t_from timestamptz DEFAULT NULL,
	t_to timestamptz DEFAULT NULL, bidirectional boolean DEFAULT false,
	guess_direction boolean DEFAULT false)
RETURNS SETOF nfpg.flow
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	mode	text;
	keys	text;
	names	text;
	k		record;
	seen	text[] := '{}';
BEGIN
	IF top IS NULL OR top < 0 THEN
		RAISE EXCEPTION 'nf_aggregate: top must be 0 (all) or more' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF order_by IS NOT NULL AND order_by !~ '^[a-z]+(:[ad])?$' THEN
		RAISE EXCEPTION 'nf_aggregate: bad order key "%"', order_by USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF fields IS NOT NULL AND (bidirectional OR guess_direction) THEN
		RAISE EXCEPTION 'nf_aggregate: can not set custom aggregation in bidir mode'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF fields IS NULL THEN
		mode := CASE WHEN guess_direction THEN 'B' WHEN bidirectional THEN 'b' ELSE 'a' END;
		keys := 'src_addr, dst_addr, src_port, dst_port, proto';
		names := 'src_addr,dst_addr,src_port,dst_port,proto';
	ELSE
		mode := 'A';
		FOREACH fields IN ARRAY string_to_array(fields, ',') LOOP
			k := nfpg.nf_aggregate_key(fields);
			IF split_part(k.spec, '/', 1) = ANY (seen) THEN
				RAISE EXCEPTION 'nf_aggregate: duplicate aggregation mask "%"', btrim(fields)
					USING ERRCODE = 'invalid_parameter_value';
			END IF;
			seen := seen || split_part(k.spec, '/', 1);
			keys := concat_ws(', ', keys, k.expr);
			names := concat_ws(',', names, k.spec);
		END LOOP;
		IF keys IS NULL THEN
			RAISE EXCEPTION 'nf_aggregate: no aggregation field in "%"', fields
				USING ERRCODE = 'invalid_parameter_value',
					  HINT = 'Name fields as nfdump -A does, e.g. ''srcip,dstport'', or pass NULL for -a.';
		END IF;
	END IF;
	RETURN QUERY EXECUTE format(
		'SELECT * FROM unnest((SELECT nfpg.nf_topn_records($1, flows, packets, bytes, out_packets,'
		' out_bytes, first_seen, last_seen, tcp_flags, src_tos, %s) FROM nfpg.flows WHERE %s))',
		keys, nfpg.nf_stat_where(filter, t_from, t_to))
		USING format('%s %s %s %s', mode, coalesce(lower(order_by), '-'), top, names), t_from, t_to;
END
$$;
COMMENT ON FUNCTION nfpg.nf_aggregate(text, text, integer, text, timestamptz, timestamptz, boolean, boolean) IS
'nfdump -a (fields NULL), -A fields (e.g. ''srcip4/24,dstport''), -b (bidirectional), -B (guess_direction), ordered like -O/-s record (order_by, default tstart) and limited to top (0 = all); returns aggregated nfpg.flows rows for nf_format()';

CREATE FUNCTION nfpg.nf_profile_flows(profile text, from_ts timestamptz, to_ts timestamptz,
									  channel text DEFAULT '*')
RETURNS SETOF nfpg.flow
LANGUAGE plpgsql STABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN QUERY EXECUTE format(
		'SELECT * FROM nfpg.flows WHERE first_seen >= $1 AND first_seen < $2 AND (%s) ORDER BY first_seen',
		nfpg.nf_profile_condition(profile, channel))
	USING from_ts, to_ts;
END
$$;
COMMENT ON FUNCTION nfpg.nf_profile_flows(text, timestamptz, timestamptz, text) IS 'Drill-down: the flows of a profile (or one of its channels) with first_seen in [from_ts, to_ts), in time order';

GRANT EXECUTE ON FUNCTION nfpg.nf_aggregate(text, text, integer, text, timestamptz, timestamptz, boolean, boolean)
	TO nfpg_reader;

-- ensure_partitions and loader_target change language: SQL (BEGIN ATOMIC) bodies cannot be
-- replaced by plpgsql ones in place.
DROP FUNCTION nfpg.ensure_partitions(timestamptz, timestamptz);
DROP FUNCTION nfpg.loader_target(timestamptz, timestamptz);
CREATE FUNCTION nfpg.loader_target(first_min timestamptz, first_max timestamptz)
RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	-- plpgsql, not a SQL-standard body: nfpg.flows is the user's table, made
	-- by setup() after CREATE EXTENSION, so it cannot be bound at creation.
	RETURN (SELECT p.relid::text
			  FROM nfpg.partitions p
			  JOIN pg_inherits i ON i.inhrelid = p.relid AND i.inhparent = 'nfpg.flows'::regclass
			 WHERE p.lower_bound <= first_min AND p.upper_bound > first_max
			   AND pg_catalog.has_table_privilege(session_user, 'nfpg.flows', 'INSERT'));
END
$$;
COMMENT ON FUNCTION nfpg.loader_target(timestamptz, timestamptz) IS 'The attached partition of nfpg.flows holding first_seen values first_min to first_max, or NULL (the loader then COPYs into nfpg.flows)';
GRANT EXECUTE ON FUNCTION nfpg.loader_target(timestamptz, timestamptz) TO nfpg_loader;
CREATE FUNCTION nfpg.ensure_partitions(from_ts timestamptz, to_ts timestamptz DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s		nfpg.settings;
	lo		timestamptz;
	hi		timestamptz;
BEGIN
	SELECT * INTO STRICT s FROM nfpg.settings;
	lo := greatest(from_ts, now() - s.accept_past);
	hi := least(coalesce(to_ts, from_ts) + s.premake, now() + s.accept_future);
	IF lo IS NULL OR hi IS NULL OR lo > hi THEN
		RETURN 0;
	END IF;
	RETURN nfpg.make_partitions(lo, hi);
END
$$;
COMMENT ON FUNCTION nfpg.ensure_partitions(timestamptz, timestamptz) IS 'Create the missing partitions covering [from_ts, to_ts] plus the premake window, within the accepted window of settings.accept_past/accept_future; the loader calls it as time advances';

CREATE OR REPLACE FUNCTION nfpg.create_partition(lo timestamptz, hi timestamptz)
RETURNS regclass
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	part		text := format('flows_%s', to_char(lo AT TIME ZONE 'UTC', 'YYYYMMDD_HH24MI'));
	rel			regclass;
	rescued		bigint;
	grantee		regrole;
BEGIN
	EXECUTE format('CREATE TABLE nfpg.%I (LIKE nfpg.flows INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part);
	rel := format('nfpg.%I', part)::regclass;
	-- Rows already waiting in the default partition for this range would
	-- make ATTACH fail: move them into the new table before it is attached.
	EXECUTE format('WITH moved AS (DELETE FROM nfpg.flows_default WHERE first_seen >= $1 AND first_seen < $2 RETURNING *)'
				   ' INSERT INTO %s SELECT * FROM moved', rel) USING lo, hi;
	GET DIAGNOSTICS rescued = ROW_COUNT;
	-- The CHECK lets ATTACH skip scanning the new table.
	EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I CHECK (first_seen >= %L AND first_seen < %L)',
				   rel, part || '_range', lo, hi);
	EXECUTE format('ALTER TABLE nfpg.flows ATTACH PARTITION %s FOR VALUES FROM (%L) TO (%L)', rel, lo, hi);
	EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', rel, part || '_range');
	-- The loader COPYs into partitions directly (nfpg.loader_target): every
	-- role that may insert into nfpg.flows may insert into its partitions.
	FOR grantee IN SELECT DISTINCT a.grantee::regrole
					 FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a
					WHERE c.oid = 'nfpg.flows'::regclass AND a.privilege_type = 'INSERT' AND a.grantee <> 0
	LOOP
		EXECUTE format('GRANT INSERT ON %s TO %s', rel, grantee);
	END LOOP;
	INSERT INTO nfpg.partitions (relid, lower_bound, upper_bound) VALUES (rel, lo, hi);
	IF rescued > 0 THEN
		RAISE NOTICE 'moved % flows from nfpg.flows_default into %', rescued, rel;
	END IF;
	RETURN rel;
END
$$;
COMMENT ON FUNCTION nfpg.create_partition(timestamptz, timestamptz) IS 'Create one flows partition for [lo, hi), moving matching rows out of the default partition';

CREATE OR REPLACE FUNCTION nfpg.make_partitions(from_ts timestamptz, to_ts timestamptz)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	width		interval := (SELECT partition_width FROM nfpg.settings);
	slot		timestamptz := nfpg.partition_slot(from_ts, width);
	hi			timestamptz;
	taken_hi	timestamptz;
	made		integer := 0;
	gone		record;
BEGIN
	-- One creator at a time; the others wait and then find the work done.
	PERFORM pg_advisory_xact_lock('nfpg.flows'::regclass::oid::bigint);
	-- A registered partition that was dropped or detached by hand would keep
	-- its slot taken forever and its flows in flows_default: forget it, so
	-- the slot is made again below.
	FOR gone IN DELETE FROM nfpg.partitions p
				 WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_inherits i
									WHERE i.inhrelid = p.relid AND i.inhparent = 'nfpg.flows'::regclass)
				RETURNING p.lower_bound, p.upper_bound
	LOOP
		RAISE WARNING 'nfpg: the partition for [%, %) is no longer attached to nfpg.flows; it will be made again',
			gone.lower_bound, gone.upper_bound;
	END LOOP;
	WHILE slot <= to_ts LOOP
		SELECT max(upper_bound) INTO taken_hi FROM nfpg.partitions
		 WHERE lower_bound <= slot AND upper_bound > slot;
		IF taken_hi IS NOT NULL THEN
			slot := taken_hi;
			CONTINUE;
		END IF;
		-- Clip against a neighbour made when the width was different.
		SELECT least(slot + width, min(lower_bound)) INTO hi FROM nfpg.partitions
		 WHERE lower_bound > slot;
		hi := coalesce(hi, slot + width);
		PERFORM nfpg.create_partition(slot, hi);
		made := made + 1;
		slot := hi;
	END LOOP;
	RETURN made;
END
$$;
COMMENT ON FUNCTION nfpg.make_partitions(timestamptz, timestamptz) IS 'Create the missing partitions covering [from_ts, to_ts]; returns how many were created';

CREATE OR REPLACE FUNCTION nfpg.rescue_default()
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	lo		timestamptz;
	made	integer := 0;
BEGIN
	-- Only the slots that hold rows, not everything between oldest and newest.
	FOR lo IN SELECT DISTINCT nfpg.partition_slot(f.first_seen, s.partition_width)
			  FROM nfpg.flows_default f, nfpg.settings s
			 WHERE f.first_seen >= now() - s.accept_past AND f.first_seen < now() + s.accept_future
			 ORDER BY 1
	LOOP
		made := made + nfpg.make_partitions(lo, lo);
	END LOOP;
	RETURN made;
END
$$;
COMMENT ON FUNCTION nfpg.rescue_default() IS 'Create partitions for the rows waiting in nfpg.flows_default within the accepted window, moving the rows into them';

CREATE OR REPLACE FUNCTION nfpg.loader_batches_expire(keep interval)
RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	WITH gone AS (DELETE FROM nfpg.loader_batches
				   WHERE loaded < now() - greatest(keep, interval '1 day') RETURNING 1)
	SELECT count(*) FROM gone;
END;
COMMENT ON FUNCTION nfpg.loader_batches_expire(interval) IS 'Forget loaded batch ids older than keep (at least one day); returns how many were removed';

-- nf_schedule checks that its job can connect; schedule_status() reports.
DROP FUNCTION nfpg.nf_schedule(text);
-- pg_cron runs a job by connecting to the database as the job's owner.  By
-- default it connects over TCP to localhost, which on a stock cluster asks
-- for a password that pg_cron does not have: every run then fails before
-- nf_run starts, visible only in cron.job_run_details.  Two settings avoid
-- that without storing a password: cron.use_background_workers = on (jobs
-- run in background workers, no connection at all; the choice the demo and
-- docs/operations.md make) or cron.host set to the socket directory (peer or
-- trust on the socket).  nf_schedule refuses a setup whose job cannot
-- connect, naming the setting, unless check is false (a .pgpass file of the
-- server's OS user, which nfpg cannot see, makes TCP work too).
CREATE FUNCTION nfpg.nf_schedule(schedule text DEFAULT '*/5 * * * *', check_connection boolean DEFAULT true)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	job			bigint;
	host		text := current_setting('cron.host', true);
	trusted		boolean;
BEGIN
	IF to_regnamespace('cron') IS NULL THEN
		RAISE EXCEPTION 'pg_cron is not installed in this database'
			USING ERRCODE = 'undefined_object',
				  HINT = 'Preload pg_cron (shared_preload_libraries), set cron.database_name to this database, then CREATE EXTENSION pg_cron.';
	END IF;
	IF check_connection AND current_setting('cron.use_background_workers', true) IS DISTINCT FROM 'on'
	   AND left(coalesce(host, 'localhost'), 1) <> '/' THEN
		-- Would the first pg_hba.conf line for a TCP connection from the
		-- server to itself let the job in without a password?
		BEGIN
			SELECT r.auth_method = 'trust' INTO trusted
			  FROM pg_catalog.pg_hba_file_rules r
			 WHERE r.type LIKE 'host%' AND r.error IS NULL
			   AND ('all' = ANY (r.database) OR current_database() = ANY (r.database))
			   AND ('all' = ANY (r.user_name) OR current_user = ANY (r.user_name))
			   AND CASE WHEN r.address IN ('all', 'samehost', 'samenet', 'localhost') THEN true
						WHEN r.address ~ '^[0-9.]+$'
							THEN (inet '127.0.0.1' & r.netmask::inet) = (r.address::inet & r.netmask::inet)
						WHEN r.address ~ '^[0-9a-fA-F:]+$'
							THEN (inet '::1' & r.netmask::inet) = (r.address::inet & r.netmask::inet)
						ELSE false END
			 ORDER BY r.line_number LIMIT 1;
		EXCEPTION WHEN insufficient_privilege THEN
			trusted := NULL;		-- pg_hba.conf unreadable: cannot tell
		END;
		IF NOT coalesce(trusted, true) THEN
			RAISE EXCEPTION 'pg_cron would connect to "%" over TCP, and pg_hba.conf asks that connection for a password pg_cron does not have: the job would never run',
				coalesce(host, 'localhost')
				USING ERRCODE = 'object_not_in_prerequisite_state',
					  HINT = 'Set cron.use_background_workers = on (and max_worker_processes high enough) in postgresql.conf and restart, or set cron.host to the socket directory; or call nf_schedule(..., check_connection => false) if the server''s OS user has a .pgpass file.';
		END IF;
	END IF;
	EXECUTE 'SELECT cron.schedule($1, $2, $3)' INTO job USING 'nfpg', schedule, 'SELECT nfpg.nf_run()';
	RETURN job;
END
$$;
COMMENT ON FUNCTION nfpg.nf_schedule(text, boolean) IS 'Create (or change) the one pg_cron job "nfpg" that runs nf_run(); default every 5 minutes; refuses when the job could not connect (check_connection)';

-- The scheduler's health in one row: a job that pg_cron cannot start never
-- reaches nf_run, so nfpg.runs alone cannot show it.
CREATE FUNCTION nfpg.schedule_status(OUT jobid bigint, OUT schedule text, OUT active boolean,
									 OUT mode text, OUT last_attempt timestamptz, OUT last_status text,
									 OUT last_message text, OUT last_run_finished timestamptz, OUT problem text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	mode := CASE WHEN current_setting('cron.use_background_workers', true) = 'on' THEN 'background worker'
				 ELSE 'connection to ' || coalesce(current_setting('cron.host', true), 'localhost') END;
	SELECT max(r.finished) INTO last_run_finished FROM nfpg.runs r;
	IF to_regnamespace('cron') IS NULL THEN
		problem := 'pg_cron is not installed in this database';
		RETURN;
	END IF;
	EXECUTE 'SELECT jobid, schedule, active FROM cron.job WHERE jobname = $1 ORDER BY jobid LIMIT 1'
		INTO jobid, schedule, active USING 'nfpg';
	IF jobid IS NULL THEN
		problem := 'no job: run SELECT nfpg.nf_schedule()';
		RETURN;
	END IF;
	EXECUTE 'SELECT start_time, status, return_message FROM cron.job_run_details WHERE jobid = $1
			 ORDER BY runid DESC LIMIT 1'
		INTO last_attempt, last_status, last_message USING jobid;
	problem := CASE
		WHEN NOT active THEN 'the job is not active'
		WHEN last_status = 'failed' THEN 'the last attempt failed: ' || coalesce(last_message, '')
		WHEN last_attempt < now() - interval '15 minutes' OR (last_attempt IS NULL
			 AND coalesce(last_run_finished, '-infinity') < now() - interval '15 minutes')
			THEN 'no attempt in the last 15 minutes'
		END;
END
$$;
COMMENT ON FUNCTION nfpg.schedule_status() IS 'Health of the scheduled job: pg_cron''s job, its last attempt and message (a failed connection shows here), the last finished nf_run, and the problem if any';

REVOKE ALL ON FUNCTION nfpg.nf_schedule(text, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION nfpg.schedule_status() TO nfpg_reader, nfpg_admin;

-- Foreign keys between the dumped tables become triggers (58_profile_links.sql):
-- pg_restore -j loads those tables in parallel.  The functions that make
-- rows check the profile instead.
ALTER TABLE nfpg.profile_channels DROP CONSTRAINT profile_channels_profile_fkey;
ALTER TABLE nfpg.profile_series DROP CONSTRAINT profile_series_profile_fkey;
ALTER TABLE nfpg.profile_slots DROP CONSTRAINT profile_slots_profile_fkey;
ALTER TABLE nfpg.plugin_profiles DROP CONSTRAINT plugin_profiles_plugin_fkey;
ALTER TABLE nfpg.plugin_profiles DROP CONSTRAINT plugin_profiles_profile_fkey;
ALTER TABLE nfpg.plugin_runs DROP CONSTRAINT plugin_runs_plugin_fkey;
ALTER TABLE nfpg.plugin_runs DROP CONSTRAINT plugin_runs_profile_fkey;
ALTER TABLE nfpg.alerts DROP CONSTRAINT alerts_profile_fkey;
ALTER TABLE nfpg.alert_log DROP CONSTRAINT alert_log_alert_fkey;
ALTER TABLE nfpg.hostclass_series DROP CONSTRAINT hostclass_series_profile_fkey;
CREATE OR REPLACE FUNCTION nfpg.nf_channel_add(profile text, channel text, filter text,
									sign smallint DEFAULT 1, colour text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	compiled	text := nfpg.nf_filter_sql(filter);
BEGIN
	IF NOT EXISTS (SELECT 1 FROM nfpg.profiles p WHERE p.profile = $1) THEN
		RAISE EXCEPTION 'profile "%" does not exist', $1 USING ERRCODE = 'undefined_object';
	END IF;
	INSERT INTO nfpg.profile_channels (profile, channel, filter, filter_sql, sign, colour)
	VALUES (profile, channel, filter, compiled, sign, colour);
	RETURN channel;
END
$$;
COMMENT ON FUNCTION nfpg.nf_channel_add(text, text, text, smallint, text) IS 'Add a channel (sub-filter within the profile filter) to a profile; slots built before it have no rows for it until rebuilt';

CREATE OR REPLACE FUNCTION nfpg.nf_alert_create(alert text, profile text, metric text, op text,
									 threshold numeric, channel text DEFAULT '*',
									 average_slots integer DEFAULT NULL,
									 filter text DEFAULT NULL,
									 notify_channel text DEFAULT 'nfpg_alert',
									 description text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM nfpg.profiles p WHERE p.profile = $2) THEN
		RAISE EXCEPTION 'profile "%" does not exist', $2 USING ERRCODE = 'undefined_object';
	END IF;
	IF filter IS NULL AND channel <> '*' AND NOT EXISTS (
		SELECT 1 FROM nfpg.profile_channels c WHERE c.profile = $2 AND c.channel = $6) THEN
		RAISE EXCEPTION 'profile "%" has no channel "%"', $2, $6 USING ERRCODE = 'undefined_object';
	END IF;
	INSERT INTO nfpg.alerts (alert, profile, channel, filter, filter_sql, metric, op, threshold,
							 average_slots, notify_channel, description)
	VALUES (alert, profile, channel, filter, nfpg.nf_filter_sql(filter), metric, op, threshold,
			average_slots, notify_channel, description);
	RETURN alert;
END
$$;
COMMENT ON FUNCTION nfpg.nf_alert_create(text, text, text, text, numeric, text, integer, text, text, text) IS 'Define an alert on a profile: metric op threshold (absolute, or percent change against the average of average_slots previous slots), over a channel''s series or over flows matching filter';

CREATE OR REPLACE FUNCTION nfpg.nf_plugin_register(plugin text, function regprocedure,
										profiles text[], description text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_proc WHERE oid = function AND pronargs = 2
					  AND proargtypes[0] = 'text'::regtype AND proargtypes[1] = 'timestamptz'::regtype) THEN
		RAISE EXCEPTION 'plugin function % must take (text, timestamp with time zone)', function
			USING ERRCODE = 'invalid_function_definition';
	END IF;
	-- The plugin will run with the rights of its function's owner: a role
	-- may only register what it could call itself.
	IF NOT has_function_privilege(function, 'EXECUTE') THEN
		RAISE EXCEPTION 'permission denied to register plugin function %', function
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	IF EXISTS (SELECT 1 FROM unnest(profiles) x WHERE x NOT IN (SELECT p.profile FROM nfpg.profiles p)) THEN
		RAISE EXCEPTION 'profile "%" does not exist',
			(SELECT x FROM unnest(profiles) x WHERE x NOT IN (SELECT p.profile FROM nfpg.profiles p) LIMIT 1)
			USING ERRCODE = 'undefined_object';
	END IF;
	INSERT INTO nfpg.plugins AS p (plugin, function, description)
	VALUES (plugin, function, description)
	ON CONFLICT ON CONSTRAINT plugins_pkey
	DO UPDATE SET function = excluded.function, description = excluded.description;
	INSERT INTO nfpg.plugin_profiles (plugin, profile)
	SELECT plugin, unnest(profiles)
	ON CONFLICT DO NOTHING;
	RETURN plugin;
END
$$;
COMMENT ON FUNCTION nfpg.nf_plugin_register(text, regprocedure, text[], text) IS 'Register (or update) a plugin function f(profile text, slot timestamptz) for the given profiles';

-- Plugins run with the rights of their function's owner (nfpg_admin).
CREATE OR REPLACE FUNCTION nfpg.nf_plugin_call(plugin text, function regprocedure, profile text, slot timestamptz)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	t0			timestamptz := clock_timestamp();
	state		text;
	msg			text;
	owner		text;
	prev_role	text := current_setting('role');
BEGIN
	BEGIN
		SELECT p.proowner::regrole::text INTO owner FROM pg_proc p WHERE p.oid = function;
		IF NOT FOUND THEN
			RAISE EXCEPTION 'the plugin function no longer exists' USING ERRCODE = 'undefined_function';
		END IF;
		-- With the lesser rights of the job's owner (often a superuser) and
		-- the function's owner: a plugin written by an nfpg_admin member runs
		-- as that member.  An error rolls the subtransaction back, the role
		-- setting included.
		IF owner <> current_user AND NOT (SELECT r.rolsuper FROM pg_roles r WHERE r.rolname = owner) THEN
			PERFORM set_config('role', owner, true);
		END IF;
		EXECUTE format('SELECT %s($1, $2)', function::oid::regproc) USING profile, slot;
		PERFORM set_config('role', prev_role, true);
	EXCEPTION WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
		RAISE WARNING 'plugin "%" failed for profile "%" slot %: %', plugin, profile, slot, msg;
		INSERT INTO nfpg.plugin_runs VALUES (plugin, profile, slot, 'failed', state || ': ' || msg,
											 t0, clock_timestamp() - t0);
		RETURN false;
	END;
	INSERT INTO nfpg.plugin_runs VALUES (plugin, profile, slot, 'ok', NULL, t0, clock_timestamp() - t0);
	RETURN true;
END
$$;
COMMENT ON FUNCTION nfpg.nf_plugin_call(text, regprocedure, text, timestamptz) IS 'Call one plugin for one slot in a subtransaction and log the outcome; false when it failed';

-- nf_stat accepts nfdump's spelling 'ip/bytes' (the order after the slash wins)
CREATE OR REPLACE FUNCTION nfpg.nf_stat(stat_type text, order_by text DEFAULT 'flows', top integer DEFAULT 10,
	filter text DEFAULT NULL, t_from timestamptz DEFAULT NULL, t_to timestamptz DEFAULT NULL)
RETURNS TABLE (rank bigint, value text, proto smallint, first_seen timestamptz, last_seen timestamptz,
	duration interval, flows bigint, flows_pct double precision, packets bigint,
	packets_pct double precision, bytes bigint, bytes_pct double precision,
	pps bigint, bps bigint, bpp bigint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	k		record;
	spec	text;
BEGIN
	-- nfdump's spelling 'ip/bytes': the order after the slash wins
	IF position('/' IN stat_type) > 0 THEN
		order_by := split_part(stat_type, '/', 2);
		stat_type := split_part(stat_type, '/', 1);
	END IF;
	k := nfpg.nf_stat_keys(stat_type);
	IF top IS NULL OR top < 0 THEN
		RAISE EXCEPTION 'nf_stat: top must be 0 (all) or more' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF order_by IS NULL OR order_by !~ '^[a-z]+(:[ad])?$' THEN
		RAISE EXCEPTION 'nf_stat: bad order key "%"', order_by USING ERRCODE = 'invalid_parameter_value';
	END IF;
	spec := format('%s %s %s %s', CASE WHEN k.two_sided THEN 'stat2' ELSE 'stat' END,
				   lower(order_by), top, k.fields);
	RETURN QUERY EXECUTE format(
		'SELECT s.ord, s.value, s.proto, s.first_seen, s.last_seen, s.duration, s.flows,'
		' s.flows_pct, s.packets, s.packets_pct, s.bytes, s.bytes_pct, s.pps, s.bps, s.bpp'
		' FROM unnest((SELECT nfpg.nf_topn($1, flows, packets, bytes, out_packets, out_bytes,'
		' first_seen, last_seen, tcp_flags, src_tos, %s) FROM nfpg.flows WHERE %s))'
		' WITH ORDINALITY AS s(value, proto, first_seen, last_seen, duration, flows, flows_pct,'
		' packets, packets_pct, bytes, bytes_pct, pps, bps, bpp, ord)',
		k.keys, nfpg.nf_stat_where(filter, t_from, t_to))
		USING spec, t_from, t_to;
END
$$;
COMMENT ON FUNCTION nfpg.nf_stat(text, text, integer, text, timestamptz, timestamptz) IS
'nfdump -s stat_type/order_by -n top [filter] [-t t_from-t_to]: the Top-N table with nfdump''s counting rules, percentages and rates (order_by may end in :a or :d; top 0 = all)';

-- Packed partitions (66_pack.sql, new in 0.2): aging sizes and drops them
-- with their storage tables, and nf_run packs one finished partition per run
-- when nfpg.pack_after is set.  (Copies of 60_aging.sql and 68_schedule.sql.)
CREATE OR REPLACE FUNCTION nfpg.nf_expire(now timestamptz DEFAULT now())
RETURNS TABLE (partition text, lower_bound timestamptz, upper_bound timestamptz,
			   size bigint, reason text)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '30s'
AS $$
DECLARE
	s			nfpg.nfsen_settings;
	total		bigint;
	p			record;
	over_size	boolean;
	over_age	boolean;
BEGIN
	SELECT * INTO s FROM nfpg.nfsen_settings;
	IF s.max_size IS NULL AND s.max_lifetime IS NULL THEN
		RETURN;
	END IF;
	PERFORM pg_advisory_xact_lock('nfpg.flows'::regclass::oid::bigint);

	SELECT coalesce(sum(nfpg.partition_size(r.relid)), 0) + pg_total_relation_size('nfpg.flows_default')
	  INTO total FROM nfpg.partitions r;
	-- 1. Is a limit reached at all?
	IF NOT ((s.max_size IS NOT NULL AND total >= s.max_size)
			OR (s.max_lifetime IS NOT NULL AND EXISTS (
				SELECT 1 FROM nfpg.partitions r WHERE r.upper_bound <= now - s.max_lifetime))) THEN
		RETURN;
	END IF;
	-- 2. Drop oldest first down to the watermark.
	FOR p IN SELECT r.relid, r.lower_bound, r.upper_bound, nfpg.partition_size(r.relid) AS bytes
			   FROM nfpg.partitions r WHERE r.upper_bound <= now ORDER BY r.lower_bound
	LOOP
		over_size := s.max_size IS NOT NULL AND total >= s.max_size * s.watermark / 100.0;
		over_age := s.max_lifetime IS NOT NULL
					AND p.upper_bound <= now - s.max_lifetime * s.watermark / 100.0;
		EXIT WHEN NOT (over_size OR over_age);
		partition := p.relid::text;
		lower_bound := p.lower_bound;
		upper_bound := p.upper_bound;
		size := p.bytes;
		reason := CASE WHEN over_size THEN 'size' ELSE 'lifetime' END;
		PERFORM nfpg.drop_partition(p.relid);	-- packed or not (66_pack.sql)
		total := total - p.bytes;
		RETURN NEXT;
	END LOOP;
END
$$;
CREATE OR REPLACE FUNCTION nfpg.nf_run(now timestamptz DEFAULT now())
RETURNS nfpg.runs
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r			nfpg.runs;
	p			record;
	u			record;
	n			integer;
	msg			text;
BEGIN
	r.run_time := now;
	r.started := clock_timestamp();
	r.slots := 0;
	r.plugin_failures := 0;
	r.alerts_fired := 0;
	r.partitions_dropped := 0;
	r.series_deleted := 0;
	r.errors := '{}';
	IF NOT pg_try_advisory_xact_lock('nfpg.profiles'::regclass::oid::bigint) THEN
		r.errors := ARRAY['another nf_run was active; nothing done'];
		RETURN r;
	END IF;

	-- 1. Partitions ahead of the data.
	BEGIN
		PERFORM nfpg.ensure_partitions(now);
	EXCEPTION WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
		r.errors := r.errors || ('partitions: ' || msg);
	END;

	-- 2. Profiles, their plugins and alerts.
	FOR p IN SELECT x.profile FROM nfpg.profiles x ORDER BY x.profile LOOP
		BEGIN
			u := nfpg.nf_profile_update(p.profile, now);
			r.slots := r.slots + u.slots;
			r.plugin_failures := r.plugin_failures + u.plugin_failures;
			r.alerts_fired := r.alerts_fired + u.alerts_fired;
		EXCEPTION WHEN OTHERS THEN
			GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
			RAISE WARNING 'profile "%" not updated: %', p.profile, msg;
			r.errors := r.errors || format('profile %s: %s', p.profile, msg);
		END;
	END LOOP;

	-- 3. Seal finished partitions.
	IF to_regproc('nfpg.index_partitions') IS NULL THEN
		r.indexed := 'skipped: nfpg.index_partitions() not installed';
	ELSE
		BEGIN
			EXECUTE 'SELECT nfpg.index_partitions()' INTO n;
			r.indexed := format('ok: %s partitions indexed', n);
		EXCEPTION WHEN OTHERS THEN
			GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
			r.indexed := 'failed';
			r.errors := r.errors || ('index: ' || msg);
		END;
	END IF;
	IF nullif(current_setting('nfpg.pack_after', true), '') IS NOT NULL THEN
		BEGIN
			n := nfpg.pack_partitions(current_setting('nfpg.pack_after')::interval, 1, now);
			r.indexed := r.indexed || format('; packed %s partitions', n);
		EXCEPTION WHEN OTHERS THEN
			GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
			r.errors := r.errors || ('pack: ' || msg);
		END;
	END IF;

	-- 4. Aging.
	BEGIN
		SELECT count(*) INTO r.partitions_dropped FROM nfpg.nf_expire(now);
		r.series_deleted := nfpg.nf_expire_series(now);
	EXCEPTION WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
		r.errors := r.errors || ('aging: ' || msg);
	END;

	r.finished := clock_timestamp();
	INSERT INTO nfpg.runs (started, finished, run_time, slots, plugin_failures, alerts_fired,
						   partitions_dropped, series_deleted, indexed, errors)
	VALUES (r.started, r.finished, r.run_time, r.slots, r.plugin_failures, r.alerts_fired,
			r.partitions_dropped, r.series_deleted, r.indexed, r.errors)
	RETURNING run INTO r.run;
	RETURN r;
END
$$;
COMMENT ON COLUMN nfpg.runs.indexed IS 'Outcome of the partition index step: how many partitions were indexed, or why it was skipped; and how many were packed when nfpg.pack_after is set';
--------------------------------------------------------------------------------
-- Grants of the foundation's objects to the roles of 05_roles.sql
--
-- The SECURITY DEFINER functions the loader calls run as nfpg_owner, which
-- owns nfpg.flows and its partitions (setup(), create_partition()) and may
-- change exactly the bookkeeping tables they keep: a flaw in one of them
-- gives its caller nfpg_owner's rights, never a superuser's.
--------------------------------------------------------------------------------

GRANT USAGE, CREATE ON SCHEMA nfpg TO nfpg_owner;
GRANT SELECT, INSERT, UPDATE, DELETE ON nfpg.settings, nfpg.partitions, nfpg.exporters,
	nfpg.loader_batches TO nfpg_owner;

DO $$
DECLARE
	f	regprocedure;
BEGIN
	FOREACH f IN ARRAY ARRAY[
		'nfpg.create_partition(timestamptz, timestamptz)',
		'nfpg.make_partitions(timestamptz, timestamptz)',
		'nfpg.ensure_partitions(timestamptz, timestamptz)',
		'nfpg.rescue_default()',
		'nfpg.index_partitions(interval, integer, boolean)',
		'nfpg.exporter_report(inet, bigint, smallint, timestamptz, bigint, bigint, bigint, integer, integer)',
		'nfpg.loader_batch_claim(text, bigint)',
		'nfpg.loader_batches_expire(interval)',
		'nfpg.loader_target(timestamptz, timestamptz)']::regprocedure[]
	LOOP
		EXECUTE format('ALTER FUNCTION %s OWNER TO nfpg_owner', f);
		EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
	END LOOP;
END
$$;

GRANT USAGE ON SCHEMA nfpg TO nfpg_loader, nfpg_reader, nfpg_admin;
GRANT EXECUTE ON FUNCTION nfpg.ensure_partitions(timestamptz, timestamptz) TO nfpg_loader;
GRANT EXECUTE ON FUNCTION nfpg.exporter_report(inet, bigint, smallint, timestamptz, bigint, bigint, bigint, integer, integer) TO nfpg_loader;

GRANT SELECT ON nfpg.exporters, nfpg.partitions, nfpg.settings TO nfpg_reader, nfpg_admin;
--------------------------------------------------------------------------------
-- Grants for the NfSen objects (50_profiles .. 68_schedule)
--
-- Readers see profiles, series, alerts, plugin runs, host classes and runs.
-- nfpg_admin manages them without being a superuser: it may call the
-- functions that create, build and drop profiles, channels, alerts and
-- plugins, and edit their tables.  What nf_run later executes with the job
-- owner's rights cannot be smuggled in that way: a stored filter_sql is
-- always recompiled from the filter text (58_profile_links.sql), and a
-- plugin runs with the rights of its function's owner, which an admin can
-- only register when it may execute the function itself (55_plugins_alerts).
-- Partitions, aging and the schedule stay with the owner.
--------------------------------------------------------------------------------

GRANT SELECT ON nfpg.nfsen_settings, nfpg.profiles, nfpg.profile_channels, nfpg.profile_series,
	nfpg.profile_slots, nfpg.plugins, nfpg.plugin_profiles, nfpg.plugin_runs, nfpg.alerts,
	nfpg.alert_log, nfpg.hostclass_series, nfpg.runs
	TO nfpg_reader, nfpg_admin;
GRANT INSERT, UPDATE, DELETE ON nfpg.profiles, nfpg.profile_channels, nfpg.profile_series,
	nfpg.profile_slots, nfpg.plugins, nfpg.plugin_profiles, nfpg.plugin_runs, nfpg.alerts,
	nfpg.alert_log, nfpg.hostclass_series
	TO nfpg_admin;
GRANT UPDATE (slot_delay, traffic_ratio, traffic_min_bytes, responder_min_peers, connector_min_peers)
	ON nfpg.nfsen_settings TO nfpg_admin;
GRANT EXECUTE ON FUNCTION
	nfpg.nf_profile_create(text, text, timestamptz, timestamptz, interval, text),
	nfpg.nf_channel_add(text, text, text, smallint, text),
	nfpg.nf_channel_drop(text, text),
	nfpg.nf_profile_drop(text),
	nfpg.nf_profile_build_slots(text, timestamptz[]),
	nfpg.nf_profile_build(text, timestamptz, timestamptz),
	nfpg.nf_plugin_register(text, regprocedure, text[], text),
	nfpg.nf_plugin_call(text, regprocedure, text, timestamptz),
	nfpg.nf_plugins_run(text, timestamptz),
	nfpg.nf_alert_create(text, text, text, text, numeric, text, integer, text, text, text),
	nfpg.nf_alerts_run(text, timestamptz),
	nfpg.nf_profile_update(text, timestamptz),
	nfpg.hostclass_plugin(text, timestamptz)
	TO nfpg_admin;
