-- nfpg 0.1 install script, assembled by the Makefile from extension/sql/*.sql.
\echo Use "CREATE EXTENSION nfpg" to load this file. \quit

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
--------------------------------------------------------------------------------

CREATE TABLE nfpg.flows (
	-- nearly always sent: fixed width first, so reading a row finds them at cached offsets
	first_seen			timestamptz NOT NULL,
	last_seen			timestamptz NOT NULL,
	received			timestamptz NOT NULL DEFAULT now(),
	packets				bigint NOT NULL DEFAULT 0,
	bytes				bigint NOT NULL DEFAULT 0,
	source_id			bigint NOT NULL DEFAULT 0,
	src_as				bigint,
	dst_as				bigint,
	src_port			integer NOT NULL DEFAULT 0,
	dst_port			integer NOT NULL DEFAULT 0,
	in_if				integer,
	out_if				integer,
	flows				integer NOT NULL DEFAULT 1,
	proto				smallint NOT NULL,
	tcp_flags			smallint NOT NULL DEFAULT 0,
	src_tos				smallint NOT NULL DEFAULT 0,
	src_mask			smallint,
	dst_mask			smallint,
	engine_type			smallint,
	engine_id			smallint,
	export_version		smallint,
	src_addr			inet NOT NULL,
	dst_addr			inet NOT NULL,
	exporter			inet NOT NULL,
	next_hop			inet,
	-- rarely sent: NULL costs one bit, and a NULL makes every later column slower to reach
	next_as				bigint,
	prev_as				bigint,
	out_packets			bigint,
	out_bytes			bigint,
	sampling_interval	integer,
	src_vlan			integer,
	dst_vlan			integer,
	dst_tos				smallint,
	fwd_status			smallint,
	direction			smallint,
	bgp_next_hop		inet,
	in_src_mac			macaddr,
	out_dst_mac			macaddr,
	in_dst_mac			macaddr,
	out_src_mac			macaddr,
	mpls_labels			integer[],
	CONSTRAINT flows_proto_range CHECK (proto BETWEEN 0 AND 255),
	CONSTRAINT flows_port_range CHECK (src_port BETWEEN 0 AND 65535 AND dst_port BETWEEN 0 AND 65535)
) PARTITION BY RANGE (first_seen);

COMMENT ON TABLE nfpg.flows IS 'One row per flow record (nfdump record), partitioned by first_seen; its row type is the flow type taken by nf_filter() and nf_format()';
COMMENT ON COLUMN nfpg.flows.first_seen IS 'Time the first packet of the flow was seen (ms precision; nfdump "Date first seen")';
COMMENT ON COLUMN nfpg.flows.last_seen IS 'Time the last packet of the flow was seen (ms precision; nfdump "Date last seen")';
COMMENT ON COLUMN nfpg.flows.received IS 'Collector clock when the datagram carrying the record arrived';
COMMENT ON COLUMN nfpg.flows.packets IS 'Packets in the flow (input counter), multiplied by the sampling interval when upscaling is on';
COMMENT ON COLUMN nfpg.flows.bytes IS 'Bytes in the flow (input counter), multiplied by the sampling interval when upscaling is on';
COMMENT ON COLUMN nfpg.flows.src_as IS 'Source BGP autonomous system number (uint32); NULL when the exporter does not send it';
COMMENT ON COLUMN nfpg.flows.dst_as IS 'Destination BGP autonomous system number (uint32)';
COMMENT ON COLUMN nfpg.flows.next_as IS 'BGP next adjacent AS (IPFIX/v9 element 128)';
COMMENT ON COLUMN nfpg.flows.prev_as IS 'BGP previous adjacent AS (IPFIX/v9 element 129)';
COMMENT ON COLUMN nfpg.flows.out_packets IS 'Output (post / reverse) packet counter when the exporter sends one';
COMMENT ON COLUMN nfpg.flows.out_bytes IS 'Output (post / reverse) byte counter when the exporter sends one';
COMMENT ON COLUMN nfpg.flows.source_id IS 'NetFlow v9 source id, IPFIX observation domain id, v5 engine type<<8|engine id, sFlow sub-agent id';
COMMENT ON COLUMN nfpg.flows.src_port IS 'Source transport port; 0 for ICMP';
COMMENT ON COLUMN nfpg.flows.dst_port IS 'Destination transport port; for ICMP/ICMPv6 type*256+code, as nfdump stores it';
COMMENT ON COLUMN nfpg.flows.in_if IS 'Input interface SNMP ifIndex';
COMMENT ON COLUMN nfpg.flows.out_if IS 'Output interface SNMP ifIndex';
COMMENT ON COLUMN nfpg.flows.flows IS 'Number of flows this record stands for (1 unless the exporter aggregates)';
COMMENT ON COLUMN nfpg.flows.sampling_interval IS 'Packet sampling interval that applied (1 in N); NULL when unsampled';
COMMENT ON COLUMN nfpg.flows.src_vlan IS 'Source (or dot1q) VLAN id';
COMMENT ON COLUMN nfpg.flows.dst_vlan IS 'Destination (or post dot1q) VLAN id';
COMMENT ON COLUMN nfpg.flows.proto IS 'IP protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6, ...)';
COMMENT ON COLUMN nfpg.flows.tcp_flags IS 'Cumulative TCP flags (FIN 1, SYN 2, RST 4, PSH 8, ACK 16, URG 32, ECE 64, CWR 128)';
COMMENT ON COLUMN nfpg.flows.src_tos IS 'Source type of service byte';
COMMENT ON COLUMN nfpg.flows.dst_tos IS 'Destination (post) type of service byte';
COMMENT ON COLUMN nfpg.flows.src_mask IS 'Source prefix length from the exporter routing table';
COMMENT ON COLUMN nfpg.flows.dst_mask IS 'Destination prefix length from the exporter routing table';
COMMENT ON COLUMN nfpg.flows.engine_type IS 'Exporter engine type (v5 header, element 38, or high byte of the v9 source id)';
COMMENT ON COLUMN nfpg.flows.engine_id IS 'Exporter engine id (v5 header, element 39, or low byte of the v9 source id)';
COMMENT ON COLUMN nfpg.flows.fwd_status IS 'Forwarding status (element 89)';
COMMENT ON COLUMN nfpg.flows.direction IS 'Flow direction (element 61): 0 ingress, 1 egress';
COMMENT ON COLUMN nfpg.flows.export_version IS 'Export protocol: 1, 5, 7, 9, 10 (IPFIX), 0x85 (sFlow v5, as nfdump marks it)';
COMMENT ON COLUMN nfpg.flows.src_addr IS 'Source IP address (IPv4 or IPv6)';
COMMENT ON COLUMN nfpg.flows.dst_addr IS 'Destination IP address (IPv4 or IPv6)';
COMMENT ON COLUMN nfpg.flows.next_hop IS 'IP next hop';
COMMENT ON COLUMN nfpg.flows.bgp_next_hop IS 'BGP next hop';
COMMENT ON COLUMN nfpg.flows.exporter IS 'Exporter (router) address: the UDP source address of the datagram';
COMMENT ON COLUMN nfpg.flows.in_src_mac IS 'Incoming source MAC address (element 56)';
COMMENT ON COLUMN nfpg.flows.out_dst_mac IS 'Outgoing destination MAC address (element 57)';
COMMENT ON COLUMN nfpg.flows.in_dst_mac IS 'Incoming destination MAC address (element 80)';
COMMENT ON COLUMN nfpg.flows.out_src_mac IS 'Outgoing source MAC address (element 81)';
COMMENT ON COLUMN nfpg.flows.mpls_labels IS 'MPLS label stack, top first; each entry is the 24-bit stack entry (label<<4 | exp<<1 | bottom-of-stack)';
--------------------------------------------------------------------------------
-- Roles
--
-- nfpg_loader is what nfpgd logs in as (through a LOGIN role that is a member
-- of it): it can append flows and report exporters and partitions, but it
-- cannot read flows, change or drop anything.  nfpg_reader can query.
-- Roles are cluster-wide, so they survive DROP EXTENSION and are reused.
--------------------------------------------------------------------------------

DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'nfpg_loader') THEN
		CREATE ROLE nfpg_loader NOLOGIN;
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'nfpg_reader') THEN
		CREATE ROLE nfpg_reader NOLOGIN;
	END IF;
END
$$;
--------------------------------------------------------------------------------
-- Partitions
--
-- Partitions are created ahead of need by ensure_partitions() (the loader
-- calls it as time advances; pg_cron may too).  A row for which no partition
-- exists yet lands in the default partition and is moved into its proper
-- partition when that partition is created, so nothing is ever rejected.
-- Partitions are built with CREATE TABLE + ATTACH, which locks the parent in
-- SHARE UPDATE EXCLUSIVE mode only: running COPYs and queries go on.
-- nfpg.partitions records every partition's bounds, so the width can change
-- without new partitions overlapping old ones.
--------------------------------------------------------------------------------

CREATE TABLE nfpg.settings (
	singleton			boolean PRIMARY KEY DEFAULT true CHECK (singleton),
	partition_width		interval NOT NULL DEFAULT '1 hour'
		CHECK (partition_width >= '1 minute' AND partition_width <= '31 days'),
	premake				interval NOT NULL DEFAULT '3 hours'
		CHECK (premake >= '0')
);
INSERT INTO nfpg.settings DEFAULT VALUES;
COMMENT ON TABLE nfpg.settings IS 'Installation settings (one row)';
COMMENT ON COLUMN nfpg.settings.partition_width IS 'Time span of a new flows partition; partitions are aligned to multiples of it since the epoch';
COMMENT ON COLUMN nfpg.settings.premake IS 'How far ahead of the newest flow ensure_partitions() creates partitions';

CREATE TABLE nfpg.partitions (
	relid				regclass PRIMARY KEY,
	lower_bound			timestamptz NOT NULL,
	upper_bound			timestamptz NOT NULL,
	created				timestamptz NOT NULL DEFAULT now(),
	indexed				timestamptz,
	CHECK (lower_bound < upper_bound),
	EXCLUDE USING gist (tstzrange(lower_bound, upper_bound) WITH &&)
);
COMMENT ON TABLE nfpg.partitions IS 'Every partition of nfpg.flows except the default one, with its time range';
COMMENT ON COLUMN nfpg.partitions.indexed IS 'When the lookup indexes were built on this partition (NULL: only BRIN on time)';

CREATE TABLE nfpg.flows_default PARTITION OF nfpg.flows DEFAULT;
COMMENT ON TABLE nfpg.flows_default IS 'Flows for which no time partition existed when they arrived; emptied by ensure_partitions()';

-- Every partition, present and future, gets a BRIN index on time: flows
-- arrive roughly in time order, so a tiny BRIN serves time windows.
CREATE INDEX flows_first_seen_brin ON nfpg.flows USING brin (first_seen) WITH (pages_per_range = 32);

CREATE FUNCTION nfpg.partition_slot(ts timestamptz, width interval)
RETURNS timestamptz
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN to_timestamp(floor(extract(epoch FROM ts) / extract(epoch FROM width)) * extract(epoch FROM width));
COMMENT ON FUNCTION nfpg.partition_slot(timestamptz, interval) IS 'Start of the partition slot of the given width that contains ts';

CREATE FUNCTION nfpg.create_partition(lo timestamptz, hi timestamptz)
RETURNS regclass
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	part		text := format('flows_%s', to_char(lo AT TIME ZONE 'UTC', 'YYYYMMDD_HH24MI'));
	rel			regclass;
	rescued		bigint := 0;
BEGIN
	-- Rows already waiting in the default partition for this range would
	-- make ATTACH fail; take them out and put them back once it exists.
	IF EXISTS (SELECT 1 FROM nfpg.flows_default WHERE first_seen >= lo AND first_seen < hi) THEN
		CREATE TEMP TABLE IF NOT EXISTS nfpg_rescue (LIKE nfpg.flows) ON COMMIT DROP;
		WITH moved AS (
			DELETE FROM nfpg.flows_default WHERE first_seen >= lo AND first_seen < hi RETURNING *)
		INSERT INTO nfpg_rescue SELECT * FROM moved;
		GET DIAGNOSTICS rescued = ROW_COUNT;
	END IF;

	EXECUTE format('CREATE TABLE nfpg.%I (LIKE nfpg.flows INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part);
	rel := format('nfpg.%I', part)::regclass;
	-- The CHECK lets ATTACH skip scanning the new (empty) table.
	EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I CHECK (first_seen >= %L AND first_seen < %L)',
				   rel, part || '_range', lo, hi);
	EXECUTE format('ALTER TABLE nfpg.flows ATTACH PARTITION %s FOR VALUES FROM (%L) TO (%L)', rel, lo, hi);
	EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', rel, part || '_range');
	-- The loader COPYs into partitions directly (nfpg.loader_target).
	EXECUTE format('GRANT INSERT ON %s TO nfpg_loader', rel);
	INSERT INTO nfpg.partitions (relid, lower_bound, upper_bound) VALUES (rel, lo, hi);

	IF rescued > 0 THEN
		INSERT INTO nfpg.flows SELECT * FROM nfpg_rescue;
		TRUNCATE nfpg_rescue;
		RAISE NOTICE 'moved % flows from nfpg.flows_default into %', rescued, rel;
	END IF;
	RETURN rel;
END
$$;
COMMENT ON FUNCTION nfpg.create_partition(timestamptz, timestamptz) IS 'Create one flows partition for [lo, hi), moving matching rows out of the default partition';

CREATE FUNCTION nfpg.make_partitions(from_ts timestamptz, to_ts timestamptz)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	width		interval := (SELECT partition_width FROM nfpg.settings);
	slot		timestamptz := nfpg.partition_slot(from_ts, width);
	hi			timestamptz;
	taken_hi	timestamptz;
	made		integer := 0;
BEGIN
	-- One creator at a time; the others wait and then find the work done.
	PERFORM pg_advisory_xact_lock('nfpg.flows'::regclass::oid::bigint);
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

CREATE FUNCTION nfpg.ensure_partitions(from_ts timestamptz, to_ts timestamptz DEFAULT NULL)
RETURNS integer
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
RETURN nfpg.make_partitions(from_ts, coalesce(to_ts, from_ts) + (SELECT premake FROM nfpg.settings));
COMMENT ON FUNCTION nfpg.ensure_partitions(timestamptz, timestamptz) IS 'Create the missing partitions covering [from_ts, to_ts] plus the premake window; the loader calls it as time advances';

CREATE FUNCTION nfpg.rescue_default()
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	lo		timestamptz;
	made	integer := 0;
BEGIN
	-- Only the slots that hold rows, not everything between oldest and newest.
	FOR lo IN SELECT DISTINCT nfpg.partition_slot(f.first_seen, s.partition_width)
			  FROM nfpg.flows_default f, nfpg.settings s ORDER BY 1
	LOOP
		made := made + nfpg.make_partitions(lo, lo);
	END LOOP;
	RETURN made;
END
$$;
COMMENT ON FUNCTION nfpg.rescue_default() IS 'Create partitions for every row waiting in nfpg.flows_default, moving the rows into them';
--------------------------------------------------------------------------------
-- Exporters
--
-- One row per exporter identity (address, protocol version, source id /
-- observation domain) -- the version too, as nfcapd keeps v5, v9 and IPFIX
-- exporters apart even on one router -- kept by the loader through exporter_report(), which adds the counts seen
-- since its previous report.
--------------------------------------------------------------------------------

CREATE TABLE nfpg.exporters (
	exporter			inet NOT NULL,
	source_id			bigint NOT NULL,
	export_version		smallint NOT NULL,
	first_seen			timestamptz NOT NULL,
	last_seen			timestamptz NOT NULL,
	packets				bigint NOT NULL DEFAULT 0,
	flows				bigint NOT NULL DEFAULT 0,
	sequence_failures	bigint NOT NULL DEFAULT 0,
	templates			integer NOT NULL DEFAULT 0,
	sampling_interval	integer,
	PRIMARY KEY (exporter, export_version, source_id)
);
COMMENT ON TABLE nfpg.exporters IS 'Exporters seen by the loader, one row per address, protocol version and source id / observation domain';
COMMENT ON COLUMN nfpg.exporters.exporter IS 'UDP source address of the exporter';
COMMENT ON COLUMN nfpg.exporters.source_id IS 'NetFlow v9 source id, IPFIX observation domain id, v5 engine type<<8|engine id, sFlow sub-agent id';
COMMENT ON COLUMN nfpg.exporters.export_version IS 'Export protocol: 1, 5, 7, 9, 10 (IPFIX) or 0x85 (sFlow v5)';
COMMENT ON COLUMN nfpg.exporters.first_seen IS 'When the loader first heard from this exporter';
COMMENT ON COLUMN nfpg.exporters.last_seen IS 'When the loader last heard from this exporter';
COMMENT ON COLUMN nfpg.exporters.packets IS 'Export datagrams received';
COMMENT ON COLUMN nfpg.exporters.flows IS 'Flow records received';
COMMENT ON COLUMN nfpg.exporters.sequence_failures IS 'Sequence number gaps, counted as nfcapd counts them';
COMMENT ON COLUMN nfpg.exporters.templates IS 'Templates currently known (v9 / IPFIX)';
COMMENT ON COLUMN nfpg.exporters.sampling_interval IS 'Sampling interval announced by the exporter (1 in N); NULL when unsampled';

CREATE FUNCTION nfpg.exporter_report(exporter inet, source_id bigint, export_version smallint,
									 seen timestamptz, packets bigint, flows bigint,
									 sequence_failures bigint, templates integer,
									 sampling_interval integer)
RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	INSERT INTO nfpg.exporters AS e
		(exporter, source_id, export_version, first_seen, last_seen, packets, flows,
		 sequence_failures, templates, sampling_interval)
	VALUES (exporter, source_id, export_version, seen, seen, packets, flows,
			sequence_failures, templates, sampling_interval)
	ON CONFLICT ON CONSTRAINT exporters_pkey DO UPDATE SET
		last_seen = greatest(e.last_seen, excluded.last_seen),
		packets = e.packets + excluded.packets,
		flows = e.flows + excluded.flows,
		sequence_failures = e.sequence_failures + excluded.sequence_failures,
		templates = excluded.templates,
		sampling_interval = excluded.sampling_interval;
END;
COMMENT ON FUNCTION nfpg.exporter_report(inet, bigint, smallint, timestamptz, bigint, bigint, bigint, integer, integer) IS 'Add the loader''s counts since its last report to an exporter''s row';
--------------------------------------------------------------------------------
-- Loader bookkeeping
--
-- nfpgd loads every batch of flows in one transaction together with a call
-- to loader_batch_claim(batch id).  A batch that is retried -- from the
-- loader's spool after an outage, or after the loader died between COMMIT
-- and deleting its spool file -- finds its id already claimed and is
-- skipped, so every flow is loaded exactly once.  Ids are kept for
-- batch_log_keep days (the loader calls loader_batches_expire hourly).
--------------------------------------------------------------------------------

CREATE TABLE nfpg.loader_batches (
	batch_id			text PRIMARY KEY,
	flows				bigint NOT NULL,
	loaded				timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE nfpg.loader_batches IS 'Batches of flows the loader has committed, by id, so a retried batch is never loaded twice';
COMMENT ON COLUMN nfpg.loader_batches.batch_id IS 'Loader instance name / boot time in ms - batch sequence number';
COMMENT ON COLUMN nfpg.loader_batches.flows IS 'Rows in the batch';
COMMENT ON COLUMN nfpg.loader_batches.loaded IS 'When the batch was committed';

-- VOLATILE (it writes) and not STRICT-sensitive: a NULL id is refused by
-- the primary key.
CREATE FUNCTION nfpg.loader_batch_claim(batch_id text, flows bigint)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	INSERT INTO nfpg.loader_batches (batch_id, flows) VALUES ($1, $2)
	ON CONFLICT ON CONSTRAINT loader_batches_pkey DO NOTHING;
	RETURN FOUND;
END
$$;
COMMENT ON FUNCTION nfpg.loader_batch_claim(text, bigint) IS 'Record a batch id in the current transaction; false if it was already loaded (the loader then skips the batch)';

CREATE FUNCTION nfpg.loader_batches_expire(keep interval)
RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	WITH gone AS (DELETE FROM nfpg.loader_batches WHERE loaded < now() - keep RETURNING 1)
	SELECT count(*) FROM gone;
END;
COMMENT ON FUNCTION nfpg.loader_batches_expire(interval) IS 'Forget loaded batch ids older than keep; returns how many were removed';

-- The partition that holds every flow starting in [first_min, first_max],
-- for the loader to COPY into directly: through the parent, COPY routes
-- and copies every row once more.  Only partitions that are
-- attached and registered qualify; NULL sends the batch through nfpg.flows.
-- So does a login role without INSERT on nfpg.flows: revoking that still
-- stops the loader, although partitions grant INSERT themselves.
-- The name comes back qualified and quoted (regclass output with nfpg off
-- the search_path).
CREATE FUNCTION nfpg.loader_target(first_min timestamptz, first_max timestamptz)
RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT p.relid::text
	  FROM nfpg.partitions p
	  JOIN pg_inherits i ON i.inhrelid = p.relid AND i.inhparent = 'nfpg.flows'::regclass
	 WHERE p.lower_bound <= first_min AND p.upper_bound > first_max
	   AND pg_catalog.has_table_privilege(session_user, 'nfpg.flows', 'INSERT');
END;
COMMENT ON FUNCTION nfpg.loader_target(timestamptz, timestamptz) IS 'The attached partition of nfpg.flows holding first_seen values first_min to first_max, or NULL (the loader then COPYs into nfpg.flows)';

REVOKE ALL ON FUNCTION nfpg.loader_batch_claim(text, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION nfpg.loader_target(timestamptz, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION nfpg.loader_batches_expire(interval) FROM PUBLIC;

GRANT EXECUTE ON FUNCTION nfpg.loader_batch_claim(text, bigint) TO nfpg_loader;
GRANT EXECUTE ON FUNCTION nfpg.loader_target(timestamptz, timestamptz) TO nfpg_loader;
GRANT EXECUTE ON FUNCTION nfpg.loader_batches_expire(interval) TO nfpg_loader;
--------------------------------------------------------------------------------
-- nfdump filters
--
-- nf_filter(f, 'proto tcp and dst port 587') and nf_filter('...') accept the
-- nfdump 1.7.1 filter language (docs/filter.md).  A planner support function
-- replaces each call by plain comparisons of columns with constants, so
-- indexes and partition pruning apply; where it cannot (the filter is a
-- parameter) the same compiled expression is evaluated at run time.
-- nf_filter_sql() shows the SQL a filter becomes.
--------------------------------------------------------------------------------

CREATE FUNCTION nfpg.nf_filter_support(internal)
RETURNS internal
LANGUAGE C STRICT
AS 'MODULE_PATHNAME', 'nf_filter_support';
COMMENT ON FUNCTION nfpg.nf_filter_support(internal) IS 'Planner support of nf_filter(): rewrites the call into column comparisons';

-- IMMUTABLE: the result depends on the row and the text only (no time zone,
-- no hostname resolution), which also allows it in index predicates.
CREATE FUNCTION nfpg.nf_filter(flow record, filter text)
RETURNS boolean
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE COST 1000
SUPPORT nfpg.nf_filter_support
AS 'MODULE_PATHNAME', 'nf_filter_row';
COMMENT ON FUNCTION nfpg.nf_filter(record, text) IS 'True when the flow row matches the nfdump filter; rewritten by the planner into column comparisons';

-- STABLE, not IMMUTABLE: an immutable call with a constant argument would be
-- folded before the support function could bind it to its relation.
CREATE FUNCTION nfpg.nf_filter(filter text)
RETURNS boolean
LANGUAGE C STRICT STABLE PARALLEL SAFE COST 1000
SUPPORT nfpg.nf_filter_support
AS 'MODULE_PATHNAME', 'nf_filter_text';
COMMENT ON FUNCTION nfpg.nf_filter(text) IS 'nfdump filter on the one flow relation of the query level; rewritten by the planner (see nf_filter(record, text))';

CREATE FUNCTION nfpg.nf_filter_sql(filter text)
RETURNS text
LANGUAGE C STRICT STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'nf_filter_sql';
COMMENT ON FUNCTION nfpg.nf_filter_sql(text) IS 'The SQL condition (over unqualified nfpg.flows columns) an nfdump filter becomes';

-- Derived values the compiled filters read (nfdump 1.7.1 arithmetic).
CREATE FUNCTION nfpg.flow_duration(first_seen timestamptz, last_seen timestamptz)
RETURNS bigint LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF
AS 'MODULE_PATHNAME', 'nf_flow_duration';
COMMENT ON FUNCTION nfpg.flow_duration(timestamptz, timestamptz) IS 'Flow duration in ms as nfdump computes it (a negative duration reads as the largest bigint)';

CREATE FUNCTION nfpg.flow_pps(packets bigint, first_seen timestamptz, last_seen timestamptz)
RETURNS bigint LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF
AS 'MODULE_PATHNAME', 'nf_flow_pps';
COMMENT ON FUNCTION nfpg.flow_pps(bigint, timestamptz, timestamptz) IS 'Packets per second, 1000*packets/duration_ms (integer), 0 for a zero or negative duration';

CREATE FUNCTION nfpg.flow_bps(bytes bigint, first_seen timestamptz, last_seen timestamptz)
RETURNS bigint LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF
AS 'MODULE_PATHNAME', 'nf_flow_bps';
COMMENT ON FUNCTION nfpg.flow_bps(bigint, timestamptz, timestamptz) IS 'Bits per second, 8000*bytes/duration_ms (integer), 0 for a zero or negative duration';

CREATE FUNCTION nfpg.flow_bpp(bytes bigint, packets bigint)
RETURNS bigint LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF
AS 'MODULE_PATHNAME', 'nf_flow_bpp';
COMMENT ON FUNCTION nfpg.flow_bpp(bigint, bigint) IS 'Bytes per packet (integer), 0 without packets';

-- Not STRICT: an absent stack (NULL) reads as all zero entries.
CREATE FUNCTION nfpg.mpls_label(mpls_labels integer[], k integer)
RETURNS integer LANGUAGE C IMMUTABLE PARALLEL SAFE LEAKPROOF
AS 'MODULE_PATHNAME', 'nf_mpls_label';
COMMENT ON FUNCTION nfpg.mpls_label(integer[], integer) IS 'Label (20 bit) of MPLS stack entry k (1..10); 0 when absent';

CREATE FUNCTION nfpg.mpls_exp(mpls_labels integer[], k integer)
RETURNS integer LANGUAGE C IMMUTABLE PARALLEL SAFE LEAKPROOF
AS 'MODULE_PATHNAME', 'nf_mpls_exp';
COMMENT ON FUNCTION nfpg.mpls_exp(integer[], integer) IS 'Experimental bits of MPLS stack entry k (1..10); 0 when absent';

CREATE FUNCTION nfpg.mpls_eos_label(mpls_labels integer[])
RETURNS bigint LANGUAGE C IMMUTABLE PARALLEL SAFE LEAKPROOF
AS 'MODULE_PATHNAME', 'nf_mpls_eos_label';
COMMENT ON FUNCTION nfpg.mpls_eos_label(integer[]) IS 'Label of the first bottom-of-stack entry; 4278190080 (0xFF000000) when none, as in nfdump';

CREATE FUNCTION nfpg.mpls_has_label(mpls_labels integer[], label integer)
RETURNS boolean LANGUAGE C IMMUTABLE PARALLEL SAFE LEAKPROOF
AS 'MODULE_PATHNAME', 'nf_mpls_has_label';
COMMENT ON FUNCTION nfpg.mpls_has_label(integer[], integer) IS 'True when any entry of the MPLS stack carries the label';

--------------------------------------------------------------------------------
-- Lookup indexes
--
-- The lookups operators make all day are one host, one subnet, one port over
-- hours or days.  Partitions still written to keep only the BRIN on time, so
-- ingest stays fast; once a partition is older than older_than its btree
-- indexes on the addresses and ports are built (<<= on inet becomes a btree
-- range scan).  Meant for pg_cron:
--   SELECT cron.schedule('nfpg-index', '*/10 * * * *', 'SELECT nfpg.index_partitions()');
--
-- Rows arrive in time order, so the flows of one host are spread over
-- nearly every page of a partition and a lookup reads about one page per
-- matching row.  With sort_by_source the partition is first rewritten
-- (CLUSTER) in the order (5-minute slot, src_addr): the source side of a
-- host, subnet or scanner lookup then reads a few runs of adjacent pages,
-- while the time BRIN still narrows a window to 5-minute slots.  CLUSTER
-- holds an ACCESS EXCLUSIVE lock on the partition while it rewrites it, so
-- queries reading that partition wait; hence it is not the default.
--------------------------------------------------------------------------------

CREATE FUNCTION nfpg.index_partitions(older_than interval DEFAULT '1 hour', max_partitions integer DEFAULT 24,
									  sort_by_source boolean DEFAULT false)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	p		record;
	col		text;
	done	integer := 0;
BEGIN
	FOR p IN SELECT relid, replace(relid::regclass::text, 'nfpg.', '') AS name FROM nfpg.partitions
			 WHERE indexed IS NULL AND upper_bound <= now() - older_than
			 ORDER BY upper_bound DESC LIMIT max_partitions
	LOOP
		-- before the lookup indexes exist, which CLUSTER would rebuild
		IF sort_by_source THEN
			EXECUTE format('CREATE INDEX %I ON %s (date_bin(''5 minutes'', first_seen, ''2000-01-01 00:00+00''), src_addr)',
						   p.name || '_sort_idx', p.relid);
			EXECUTE format('CLUSTER %s USING %I', p.relid, p.name || '_sort_idx');
			EXECUTE format('DROP INDEX nfpg.%I', p.name || '_sort_idx');
		END IF;
		FOREACH col IN ARRAY ARRAY['src_addr', 'dst_addr', 'src_port', 'dst_port'] LOOP
			EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %s (%I)',
						   p.name || '_' || col || '_idx', p.relid, col);
		END LOOP;
		-- A closed partition gets no more rows: fresh statistics now give
		-- the planner good row estimates for the new indexes.  (VACUUM, which
		-- sets the visibility map for index-only scans, cannot run inside a
		-- function: autovacuum or a pg_cron job does it, docs/filter.md.)
		EXECUTE format('ANALYZE %s', p.relid);
		UPDATE nfpg.partitions SET indexed = now() WHERE relid = p.relid;
		done := done + 1;
	END LOOP;
	RETURN done;
END
$$;
COMMENT ON FUNCTION nfpg.index_partitions(interval, integer, boolean) IS 'Build the host and port lookup indexes on partitions that ended more than older_than ago (newest first, at most max_partitions per call) and ANALYZE them, first rewriting each in (5-minute slot, src_addr) order when sort_by_source; returns how many were indexed';
REVOKE ALL ON FUNCTION nfpg.index_partitions(interval, integer, boolean) FROM PUBLIC;

--------------------------------------------------------------------------------
-- Statistics and aggregation: nfdump -s, -a, -A, -b, -B
--
-- One C aggregate does the work (stat_*.c): a hash table on fixed binary
-- keys with nfdump's counters, parallel safe (combine, serialize,
-- deserialize), ranked by a bounded heap in the final function.
--   nfpg.nf_topn(spec, counters..., VARIADIC keys)          -> nfpg.stat_row[]
--   nfpg.nf_topn_records(spec, counters..., VARIADIC keys)  -> nfpg.flows[]
-- nf_stat(), nf_aggregate() and nf_summary() build the query around them
-- from nfdump's words.  docs/statistics.md has every nfdump command line
-- next to its nfpg query.
--------------------------------------------------------------------------------

CREATE TYPE nfpg.stat_row AS (
	value				text,
	proto				smallint,
	first_seen			timestamptz,
	last_seen			timestamptz,
	duration			interval,
	flows				bigint,
	flows_pct			double precision,
	packets				bigint,
	packets_pct			double precision,
	bytes				bigint,
	bytes_pct			double precision,
	pps					bigint,
	bps					bigint,
	bpp					bigint
);
COMMENT ON TYPE nfpg.stat_row IS 'One row of an nfdump -s table: the key as nfdump prints it, its protocol (NULL = any), time span, counters with percentages of the run totals, and rates';

CREATE FUNCTION nfpg.nf_topn_trans(internal, text, integer, bigint, bigint, bigint, bigint,
	timestamptz, timestamptz, smallint, smallint, VARIADIC "any")
RETURNS internal AS 'MODULE_PATHNAME', 'nf_topn_trans' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION nfpg.nf_topn_trans(internal, text, integer, bigint, bigint, bigint, bigint, timestamptz, timestamptz, smallint, smallint, "any") IS 'Transition function of nf_topn and nf_topn_records';

CREATE FUNCTION nfpg.nf_topn_combine(internal, internal)
RETURNS internal AS 'MODULE_PATHNAME', 'nf_topn_combine' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION nfpg.nf_topn_combine(internal, internal) IS 'Combine function of nf_topn and nf_topn_records (merges partial hash tables)';

CREATE FUNCTION nfpg.nf_topn_serial(internal)
RETURNS bytea AS 'MODULE_PATHNAME', 'nf_topn_serial' LANGUAGE C STRICT PARALLEL SAFE;
COMMENT ON FUNCTION nfpg.nf_topn_serial(internal) IS 'Serialize function of nf_topn and nf_topn_records';

CREATE FUNCTION nfpg.nf_topn_deserial(bytea, internal)
RETURNS internal AS 'MODULE_PATHNAME', 'nf_topn_deserial' LANGUAGE C STRICT PARALLEL SAFE;
COMMENT ON FUNCTION nfpg.nf_topn_deserial(bytea, internal) IS 'Deserialize function of nf_topn and nf_topn_records';

CREATE FUNCTION nfpg.nf_topn_final(internal)
RETURNS nfpg.stat_row[] AS 'MODULE_PATHNAME', 'nf_topn_final' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION nfpg.nf_topn_final(internal) IS 'Final function of nf_topn: the top groups as nfdump -s rows';

CREATE FUNCTION nfpg.nf_topn_records_final(internal)
RETURNS nfpg.flows[] AS 'MODULE_PATHNAME', 'nf_topn_records_final' LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION nfpg.nf_topn_records_final(internal) IS 'Final function of nf_topn_records: the top groups as aggregated flow records';

CREATE AGGREGATE nfpg.nf_topn(spec text, flows integer, packets bigint, bytes bigint,
	out_packets bigint, out_bytes bigint, first_seen timestamptz, last_seen timestamptz,
	tcp_flags smallint, tos smallint, VARIADIC keys "any") (
	SFUNC = nfpg.nf_topn_trans,
	STYPE = internal,
	FINALFUNC = nfpg.nf_topn_final,
	COMBINEFUNC = nfpg.nf_topn_combine,
	SERIALFUNC = nfpg.nf_topn_serial,
	DESERIALFUNC = nfpg.nf_topn_deserial,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE nfpg.nf_topn(text, integer, bigint, bigint, bigint, bigint, timestamptz, timestamptz, smallint, smallint, "any") IS
'Exact Top-N statistic usable in any GROUP BY, parallel safe. spec = ''stat|stat2 ORDER[:a|:d] N [FIELD,...]'' (docs/statistics.md); keys are inet, integer, smallint, bigint, macaddr or boolean expressions (stat2: source half then destination half)';

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

-- The WHERE clause shared by nf_stat, nf_aggregate and nf_summary: the
-- filter is translated by nf_filter_sql() (never pasted); the time window
-- ($2, $3) is nfdump -t: the flow lies entirely inside.
CREATE FUNCTION nfpg.nf_stat_where(filter text, t_from timestamptz, t_to timestamptz)
RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	w	text := 'true';
BEGIN
	IF filter IS NOT NULL THEN
		w := '(' || nfpg.nf_filter_sql(filter) || ')';
	END IF;
	IF t_from IS NOT NULL THEN
		w := w || ' AND first_seen >= $2';
	END IF;
	IF t_to IS NOT NULL THEN
		w := w || ' AND first_seen <= $3 AND last_seen <= $3';
	END IF;
	RETURN w;
END
$$;
COMMENT ON FUNCTION nfpg.nf_stat_where(text, timestamptz, timestamptz) IS 'WHERE clause over nfpg.flows for an nfdump filter and -t window (parameters $2, $3); used by nf_stat and nf_aggregate';

-- nfdump -s type -> (two-sided?, key expressions, field names for the spec)
CREATE FUNCTION nfpg.nf_stat_keys(stat_type text, OUT two_sided boolean, OUT keys text, OUT fields text)
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	t		text := lower(stat_type);
	with_p	boolean := false;
	src		text;
	dst		text;
	f		text;
BEGIN
	IF t LIKE '%:p' THEN
		t := left(t, -2);
		with_p := true;
	END IF;
	two_sided := false;
	CASE
		WHEN t = 'ip'     THEN src := 'src_addr';   dst := 'dst_addr';
		WHEN t = 'port'   THEN src := 'src_port';   dst := 'dst_port';
		WHEN t = 'as'     THEN src := 'src_as';     dst := 'dst_as';
		WHEN t = 'if'     THEN src := 'in_if';      dst := 'out_if';
		WHEN t = 'mask'   THEN src := 'src_mask';   dst := 'dst_mask';
		WHEN t = 'vlan'   THEN src := 'src_vlan';   dst := 'dst_vlan';
		WHEN t = 'srcmac' THEN src := 'in_src_mac'; dst := 'out_src_mac';
		WHEN t = 'dstmac' THEN src := 'out_dst_mac'; dst := 'in_dst_mac';
		WHEN t = 'outmac' THEN src := 'out_src_mac'; dst := 'out_dst_mac';
		ELSE
			src := CASE t
				WHEN 'srcip' THEN 'src_addr'		WHEN 'dstip' THEN 'dst_addr'
				WHEN 'nhip' THEN 'next_hop'			WHEN 'nhbip' THEN 'bgp_next_hop'
				WHEN 'router' THEN 'exporter'
				WHEN 'srcport' THEN 'src_port'		WHEN 'dstport' THEN 'dst_port'
				WHEN 'proto' THEN 'proto'
				WHEN 'tos' THEN 'src_tos'			WHEN 'srctos' THEN 'src_tos'
				WHEN 'dsttos' THEN 'dst_tos'		WHEN 'dir' THEN 'direction'
				WHEN 'srcas' THEN 'src_as'			WHEN 'dstas' THEN 'dst_as'
				WHEN 'prevas' THEN 'prev_as'		WHEN 'nextas' THEN 'next_as'
				WHEN 'inif' THEN 'in_if'			WHEN 'outif' THEN 'out_if'
				WHEN 'srcmask' THEN 'src_mask'		WHEN 'dstmask' THEN 'dst_mask'
				WHEN 'srcvlan' THEN 'src_vlan'		WHEN 'dstvlan' THEN 'dst_vlan'
				WHEN 'insrcmac' THEN 'in_src_mac'	WHEN 'inmac' THEN 'in_src_mac'
				WHEN 'outdstmac' THEN 'out_dst_mac'	WHEN 'indstmac' THEN 'in_dst_mac'
				WHEN 'outsrcmac' THEN 'out_src_mac'
				WHEN 'odid' THEN 'source_id'
				WHEN 'record' THEN 'src_addr, dst_addr, src_port, dst_port, proto'
				ELSE NULL END;
			IF src IS NULL AND t ~ '^mpls([1-9]|10)$' THEN
				src := format('mpls_labels[%s]', substr(t, 5));
			END IF;
	END CASE;
	IF src IS NULL THEN
		IF t IN ('cl', 'sl', 'al', 'nbar', 'ja3', 'srcgeo', 'dstgeo', 'geo', 'opid', 'ivrf', 'evrf',
				 'event', 'nevent', 'xevent', 'xsrcip', 'xdstip', 'xsrcport', 'xdstport', 'iacl',
				 'iace', 'ixace', 'eacl', 'eace', 'exace', 'nsrcip', 'ndstip', 'nsrcport', 'ndstport') THEN
			RAISE EXCEPTION 'nf_stat: statistic "%" needs a field nfpg.flows does not store', stat_type
				USING ERRCODE = 'feature_not_supported';
		END IF;
		RAISE EXCEPTION 'nf_stat: unknown statistic "%"', stat_type
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Types are those of nfdump -s: ip, srcip, dstip, port, srcport, dstport, proto, as, if, tos, mask, vlan, router, record, ...';
	END IF;
	f := CASE WHEN t = 'record' THEN 'src_addr,dst_addr,src_port,dst_port,proto'
			  WHEN t ~ '^mpls' THEN src || ':mpls'
			  WHEN t = 'odid' THEN 'source_id:hex'
			  ELSE src END;
	f := replace(replace(f, '[', '_'), ']', '');
	IF dst IS NOT NULL THEN
		two_sided := true;
		keys := src || (CASE WHEN with_p THEN ', proto' ELSE '' END)
			 || ', ' || dst || (CASE WHEN with_p THEN ', proto' ELSE '' END);
	ELSE
		keys := src || (CASE WHEN with_p AND t <> 'proto' THEN ', proto' ELSE '' END);
	END IF;
	fields := f || (CASE WHEN with_p AND t NOT IN ('proto', 'record') THEN ',proto' ELSE '' END);
END
$$;
COMMENT ON FUNCTION nfpg.nf_stat_keys(text) IS 'The nfpg.flows key expressions of an nfdump -s statistic type (with :p for per-protocol)';

CREATE FUNCTION nfpg.nf_stat(stat_type text, order_by text DEFAULT 'flows', top integer DEFAULT 10,
	filter text DEFAULT NULL, t_from timestamptz DEFAULT NULL, t_to timestamptz DEFAULT NULL)
RETURNS TABLE (rank bigint, value text, proto smallint, first_seen timestamptz, last_seen timestamptz,
	duration interval, flows bigint, flows_pct double precision, packets bigint,
	packets_pct double precision, bytes bigint, bytes_pct double precision,
	pps bigint, bps bigint, bpp bigint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	k		record := nfpg.nf_stat_keys(stat_type);
	spec	text;
BEGIN
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

-- nfdump -A field -> (key expression, nfpg.flows column, spec mask)
CREATE FUNCTION nfpg.nf_aggregate_key(field text, OUT expr text, OUT spec text)
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	f		text := lower(btrim(field));
	m		text[];
	col		text;
	maxbits	integer;
BEGIN
	m := regexp_match(f, '^(src|dst)ip([46])/([0-9]+)$');
	IF m IS NOT NULL THEN
		maxbits := CASE m[2] WHEN '4' THEN 32 ELSE 128 END;
		IF m[3]::int < 1 OR m[3]::int > maxbits THEN
			RAISE EXCEPTION 'nf_aggregate: % bits out of range in "%"', m[3], field
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
		expr := m[1] || '_addr';
		spec := format('%s/%s:%s', expr, m[2], m[3]);
		RETURN;
	END IF;
	IF f ~ '^(src|dst)ip[46]?(/.*)?$' AND f NOT IN ('srcip', 'dstip') THEN
		RAISE EXCEPTION 'nf_aggregate: "%" needs src4/dst4 or src6/dst6 with a number of subnet bits, e.g. srcip4/24', field
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF f IN ('srcnet', 'dstnet') THEN
		col := left(f, 3);
		-- the masked address as a host address: nfdump keys on the address only
		expr := format('set_masklen(network(set_masklen(%1$s_addr, coalesce(%1$s_mask, 0)))::inet,'
					   ' CASE family(%1$s_addr) WHEN 4 THEN 32 ELSE 128 END)', col);
		spec := col || '_addr';
		RETURN;
	END IF;
	col := CASE f
		WHEN 'srcip' THEN 'src_addr'		WHEN 'dstip' THEN 'dst_addr'
		WHEN 'srcport' THEN 'src_port'		WHEN 'dstport' THEN 'dst_port'
		WHEN 'proto' THEN 'proto'
		WHEN 'tos' THEN 'src_tos'			WHEN 'srctos' THEN 'src_tos'
		WHEN 'dsttos' THEN 'dst_tos'
		WHEN 'srcas' THEN 'src_as'			WHEN 'dstas' THEN 'dst_as'
		WHEN 'nextas' THEN 'next_as'		WHEN 'prevas' THEN 'prev_as'
		WHEN 'inif' THEN 'in_if'			WHEN 'outif' THEN 'out_if'
		WHEN 'srcvlan' THEN 'src_vlan'		WHEN 'dstvlan' THEN 'dst_vlan'
		WHEN 'srcmask' THEN 'src_mask'		WHEN 'dstmask' THEN 'dst_mask'
		WHEN 'next' THEN 'next_hop'			WHEN 'bgpnext' THEN 'bgp_next_hop'
		WHEN 'router' THEN 'exporter'
		WHEN 'insrcmac' THEN 'in_src_mac'	WHEN 'outdstmac' THEN 'out_dst_mac'
		WHEN 'indstmac' THEN 'in_dst_mac'	WHEN 'outsrcmac' THEN 'out_src_mac'
		WHEN 'odid' THEN 'source_id'
		ELSE NULL END;
	IF col IS NULL THEN
		RAISE EXCEPTION 'nf_aggregate: unknown or unsupported aggregation field "%"', field
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Fields are those of nfdump -A: srcip, dstip, srcip4/L, dstip6/L, srcnet, srcport, dstport, proto, tos, srcas, inif, srcvlan, srcmask, next, router, ...';
	END IF;
	expr := col;
	spec := col;
END
$$;
COMMENT ON FUNCTION nfpg.nf_aggregate_key(text) IS 'The nfpg.flows key expression and spec field of one nfdump -A aggregation field';

CREATE FUNCTION nfpg.nf_aggregate(fields text DEFAULT NULL, order_by text DEFAULT NULL,
	top integer DEFAULT 0, filter text DEFAULT NULL, t_from timestamptz DEFAULT NULL,
	t_to timestamptz DEFAULT NULL, bidirectional boolean DEFAULT false,
	guess_direction boolean DEFAULT false)
RETURNS SETOF nfpg.flows
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

CREATE FUNCTION nfpg.nf_summary(filter text DEFAULT NULL, t_from timestamptz DEFAULT NULL,
	t_to timestamptz DEFAULT NULL)
RETURNS TABLE (flows bigint, bytes bigint, packets bigint, avg_bps bigint, avg_pps bigint,
	avg_bpp bigint, first_seen timestamptz, last_seen timestamptz, records bigint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN QUERY EXECUTE format(
		'WITH t AS (SELECT sum(greatest(flows, 1))::bigint AS fl,'
		' sum(bytes + coalesce(out_bytes, 0))::bigint AS byt,'
		' sum(packets + coalesce(out_packets, 0))::bigint AS pkt,'
		' (extract(epoch FROM max(last_seen)) * 1000 - extract(epoch FROM min(first_seen)) * 1000) / 1000.0 AS span,'
		' min(first_seen) AS fs, max(last_seen) AS ls, count(*) AS n'
		' FROM nfpg.flows WHERE %s)'
		' SELECT coalesce(fl, 0), coalesce(byt, 0), coalesce(pkt, 0),'
		' CASE WHEN span > 0 THEN trunc(8 * byt / span)::bigint ELSE 0 END,'
		' CASE WHEN span > 0 THEN trunc(pkt / span)::bigint ELSE 0 END,'
		' CASE WHEN pkt > 0 THEN byt / pkt ELSE 0 END, fs, ls, n FROM t',
		nfpg.nf_stat_where(filter, t_from, t_to))
		USING NULL::text, t_from, t_to;
END
$$;
COMMENT ON FUNCTION nfpg.nf_summary(text, timestamptz, timestamptz) IS
'nfdump''s summary line for the flows passing a filter: total flows (sum of flow counts), bytes and packets (in + out), avg bps/pps/bpp over the span, first/last seen, record count';

GRANT EXECUTE ON FUNCTION nfpg.nf_stat(text, text, integer, text, timestamptz, timestamptz),
	nfpg.nf_aggregate(text, text, integer, text, timestamptz, timestamptz, boolean, boolean),
	nfpg.nf_summary(text, timestamptz, timestamptz) TO nfpg_reader;
--------------------------------------------------------------------------------
-- Output formats: nfdump -o
--
-- nf_format(flow, format) renders one flow record exactly as nfdump 1.7.1's
-- -o line|long|extended|biline|bilong|csv|pipe|fmt:... prints it (format*.c),
-- so flows and aggregated records read in psql as they read in nfdump:
--   SELECT nfpg.nf_format(f, 'line') FROM nfpg.flows f WHERE ... ORDER BY first_seen;
--   SELECT nfpg.nf_format(a, 'extended') FROM nfpg.nf_aggregate('srcip4/24') a;
-- Times print in the session TimeZone (nfdump prints local time).
--------------------------------------------------------------------------------

CREATE FUNCTION nfpg.nf_format(flow nfpg.flows, format text)
RETURNS text
AS 'MODULE_PATHNAME', 'nf_format'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION nfpg.nf_format(nfpg.flows, text) IS
'One flow as nfdump -o prints it: line, long, extended, biline, bilong, gline, glong, nsel, nel (add 6 for full IPv6), csv, pipe, or fmt:<%tokens> (STABLE: times follow the session TimeZone)';

-- Any row with nfpg.flows column names (a view, a subquery, ROW(...)):
-- columns it lacks print as absent fields.
CREATE FUNCTION nfpg.nf_format(flow record, format text)
RETURNS text
AS 'MODULE_PATHNAME', 'nf_format'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION nfpg.nf_format(record, text) IS
'nf_format for any row whose columns are named like nfpg.flows columns (missing ones print as absent fields)';

CREATE FUNCTION nfpg.nf_format_header(format text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN CASE regexp_replace(format, '6$', '')
	WHEN 'line' THEN 'Date first seen             Duration     Proto      Src IP Addr:Port          Dst IP Addr:Port   Packets    Bytes Flows'
	WHEN 'long' THEN 'Date first seen             Duration     Proto      Src IP Addr:Port          Dst IP Addr:Port     Flags Tos  Packets    Bytes Flows'
	WHEN 'extended' THEN 'Date first seen             Duration     Proto      Src IP Addr:Port          Dst IP Addr:Port     Flags Tos  Packets    Bytes      pps      bps    Bpp Flows'
	WHEN 'csv' THEN 'ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt,in,out,sas,das,smk,dmk,dtos,dir,nh,nhb,svln,dvln,ismc,odmc,idmc,osmc,mpls1,mpls2,mpls3,mpls4,mpls5,mpls6,mpls7,mpls8,mpls9,mpls10,cl,sl,al,ra,eng,exid,tr'
	END;
COMMENT ON FUNCTION nfpg.nf_format_header(text) IS 'The header line nfdump prints before records in the line, long, extended and csv formats (NULL for others)';

CREATE FUNCTION nfpg.nf_proto_name(proto integer)
RETURNS text
AS 'MODULE_PATHNAME', 'nf_proto_name'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION nfpg.nf_proto_name(integer) IS 'Protocol name as nfdump prints it (TCP, UDP, ICMP, ICMP6, GRE, ...; the number when nfdump has no name)';

GRANT EXECUTE ON FUNCTION nfpg.nf_format(nfpg.flows, text), nfpg.nf_format(record, text),
	nfpg.nf_format_header(text),
	nfpg.nf_proto_name(integer) TO nfpg_reader;
--------------------------------------------------------------------------------
-- Anonymization (Crypto-PAn, as nfdump's nfanon)
--
-- anonymize(addr, key) maps addresses one-to-one and prefix-preserving: two
-- addresses that share their first k bits give two addresses that share
-- exactly their first k bits.  IPv4 results equal nfanon's; IPv6 is the
-- standard 128-bit Crypto-PAn (nfanon 1.7.1's IPv6 is not, and is not
-- copied).  The mask length is kept.  Prepared keys are cached per backend.
-- See docs/anonymize.md for publishing an anonymized view.
--------------------------------------------------------------------------------

CREATE FUNCTION nfpg.anonymize(addr inet, key text)
RETURNS inet
AS 'MODULE_PATHNAME', 'anonymize_inet_text'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION nfpg.anonymize(inet, text) IS
'Crypto-PAn prefix-preserving anonymization of an IPv4 or IPv6 address (mask length kept); key as nfanon -K takes it: exactly 32 characters, or 0x followed by 64 hex digits';

CREATE FUNCTION nfpg.anonymize(addr inet, key bytea)
RETURNS inet
AS 'MODULE_PATHNAME', 'anonymize_inet_bytea'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION nfpg.anonymize(inet, bytea) IS
'Crypto-PAn prefix-preserving anonymization of an IPv4 or IPv6 address (mask length kept); key as 32 bytes (AES-128 key, then pad seed)';

-- EXECUTE stays granted to PUBLIC (the default): the function reveals nothing
-- without the key, and a role still needs USAGE on schema nfpg to call it.
--------------------------------------------------------------------------------
-- Profiles (NfSen in SQL, part 1): profiles, channels, 5-minute series
--
-- A profile is a named nfdump filter over nfpg.flows; its channels are
-- sub-filters within it (NfSen's channels).  For every profile and every
-- 5-minute slot, nfpg.profile_series holds one row per channel, plus the
-- channel '*' for the whole profile, with flows, packets and bytes split
-- by protocol (TCP, UDP, ICMP incl. ICMPv6, other): the numbers behind
-- NfSen's graphs, in a plain table BI tools can chart.
--
-- A flow belongs to the slot of its first_seen (the partition key, so a slot
-- reads only its own partition).  A slot is built once it is finished:
-- slot_delay after its end, the time late flows need to arrive (flows are
-- exported when they end, up to an active timeout after they start).
--
-- Filters are compiled once, when the profile or channel is created, by
-- nf_filter_sql() into a SQL condition over nfpg.flows columns; that is what
-- gets stored and run.  Only compiled conditions are spliced into queries
-- (format %s); every value travels as a parameter (USING).  Building a slot
-- deletes and re-inserts its rows, so a rebuild is idempotent;
-- nfpg.profile_slots records which slots are done, so the scheduled run
-- (nf_run, 68_schedule.sql) processes each slot once even when late or
-- repeated.
--------------------------------------------------------------------------------

CREATE TABLE nfpg.nfsen_settings (
	singleton			boolean PRIMARY KEY DEFAULT true CHECK (singleton),
	slot_delay			interval NOT NULL DEFAULT '5 minutes' CHECK (slot_delay >= '0'),
	max_lifetime		interval CHECK (max_lifetime > '0'),
	max_size			bigint CHECK (max_size > 0),
	watermark			integer NOT NULL DEFAULT 95 CHECK (watermark BETWEEN 1 AND 100),
	traffic_ratio		numeric NOT NULL DEFAULT 3 CHECK (traffic_ratio > 0),
	traffic_min_bytes	bigint NOT NULL DEFAULT 10000 CHECK (traffic_min_bytes >= 0),
	responder_min_peers	integer NOT NULL DEFAULT 10 CHECK (responder_min_peers > 0),
	connector_min_peers	integer NOT NULL DEFAULT 10 CHECK (connector_min_peers > 0)
);
INSERT INTO nfpg.nfsen_settings DEFAULT VALUES;
COMMENT ON TABLE nfpg.nfsen_settings IS 'NfSen settings of the installation (one row): slot processing, aging, host-class thresholds';
COMMENT ON COLUMN nfpg.nfsen_settings.singleton IS 'Always true: keeps the table at one row';
COMMENT ON COLUMN nfpg.nfsen_settings.slot_delay IS 'How long after a 5-minute slot ends it is built, so late-exported flows are in';
COMMENT ON COLUMN nfpg.nfsen_settings.max_lifetime IS 'Aging: flows partitions whose data are all older than this are dropped (NULL: no limit; nfexpire -t)';
COMMENT ON COLUMN nfpg.nfsen_settings.max_size IS 'Aging: when the flows partitions take this many bytes or more, the oldest are dropped (NULL: no limit; nfexpire -s)';
COMMENT ON COLUMN nfpg.nfsen_settings.watermark IS 'Aging: once a limit is hit, drop down to this percentage of max_size and max_lifetime (nfexpire -w, default 95)';
COMMENT ON COLUMN nfpg.nfsen_settings.traffic_ratio IS 'Host classes: Traffic class when bytes sent >= traffic_ratio x bytes received';
COMMENT ON COLUMN nfpg.nfsen_settings.traffic_min_bytes IS 'Host classes: and at least this many bytes sent in the slot';
COMMENT ON COLUMN nfpg.nfsen_settings.responder_min_peers IS 'Host classes: Responder class when the host answered at least this many distinct peers in the slot';
COMMENT ON COLUMN nfpg.nfsen_settings.connector_min_peers IS 'Host classes: Connector class when the host opened connections to at least this many distinct peers in the slot';

CREATE TABLE nfpg.profiles (
	profile				text PRIMARY KEY CHECK (profile ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'),
	filter				text NOT NULL,
	filter_sql			text NOT NULL,
	kind				text NOT NULL DEFAULT 'continuous' CHECK (kind IN ('continuous', 'historical')),
	tstart				timestamptz NOT NULL,
	tend				timestamptz,
	series_lifetime		interval CHECK (series_lifetime > '0'),
	description			text,
	created				timestamptz NOT NULL DEFAULT now(),
	CHECK ((kind = 'historical') = (tend IS NOT NULL)),
	CHECK (tend IS NULL OR tend > tstart)
);
COMMENT ON TABLE nfpg.profiles IS 'NfSen profiles: named nfdump filters whose 5-minute series are kept in nfpg.profile_series';
COMMENT ON COLUMN nfpg.profiles.profile IS 'Profile name';
COMMENT ON COLUMN nfpg.profiles.filter IS 'nfdump filter of the profile, as given';
COMMENT ON COLUMN nfpg.profiles.filter_sql IS 'The filter compiled by nf_filter_sql(): a condition over nfpg.flows columns';
COMMENT ON COLUMN nfpg.profiles.kind IS 'continuous: kept current by nf_run every 5 minutes; historical: built once for [tstart, tend)';
COMMENT ON COLUMN nfpg.profiles.tstart IS 'First slot of the profile';
COMMENT ON COLUMN nfpg.profiles.tend IS 'End (exclusive) of a historical profile; NULL for a continuous one';
COMMENT ON COLUMN nfpg.profiles.series_lifetime IS 'Series slots older than this are deleted by nf_expire_series() (NULL: kept)';
COMMENT ON COLUMN nfpg.profiles.description IS 'Free text for people';
COMMENT ON COLUMN nfpg.profiles.created IS 'When the profile was created';

CREATE TABLE nfpg.profile_channels (
	profile				text NOT NULL REFERENCES nfpg.profiles ON DELETE CASCADE,
	channel				text NOT NULL CHECK (channel ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'),
	filter				text NOT NULL,
	filter_sql			text NOT NULL,
	sign				smallint NOT NULL DEFAULT 1 CHECK (sign IN (-1, 1)),
	colour				text,
	PRIMARY KEY (profile, channel)
);
COMMENT ON TABLE nfpg.profile_channels IS 'Channels of a profile (NfSen): sub-filters applied within the profile filter';
COMMENT ON COLUMN nfpg.profile_channels.profile IS 'The profile the channel belongs to';
COMMENT ON COLUMN nfpg.profile_channels.channel IS 'Channel name (''*'' is reserved for the whole profile)';
COMMENT ON COLUMN nfpg.profile_channels.filter IS 'nfdump filter of the channel, as given';
COMMENT ON COLUMN nfpg.profile_channels.filter_sql IS 'The channel filter compiled by nf_filter_sql()';
COMMENT ON COLUMN nfpg.profile_channels.sign IS 'NfSen graph side: 1 above the axis, -1 below';
COMMENT ON COLUMN nfpg.profile_channels.colour IS 'NfSen graph colour (e.g. #1f77b4), for front ends';

CREATE TABLE nfpg.profile_series (
	profile				text NOT NULL REFERENCES nfpg.profiles ON DELETE CASCADE,
	channel				text NOT NULL,
	slot				timestamptz NOT NULL,
	flows				bigint NOT NULL,
	flows_tcp			bigint NOT NULL,
	flows_udp			bigint NOT NULL,
	flows_icmp			bigint NOT NULL,
	flows_other			bigint NOT NULL,
	packets				bigint NOT NULL,
	packets_tcp			bigint NOT NULL,
	packets_udp			bigint NOT NULL,
	packets_icmp		bigint NOT NULL,
	packets_other		bigint NOT NULL,
	bytes				bigint NOT NULL,
	bytes_tcp			bigint NOT NULL,
	bytes_udp			bigint NOT NULL,
	bytes_icmp			bigint NOT NULL,
	bytes_other			bigint NOT NULL,
	PRIMARY KEY (profile, channel, slot)
);
COMMENT ON TABLE nfpg.profile_series IS 'Per profile, channel and 5-minute slot: flows, packets, bytes in total and by protocol (NfSen''s graph data); channel ''*'' is the whole profile';
COMMENT ON COLUMN nfpg.profile_series.profile IS 'Profile name';
COMMENT ON COLUMN nfpg.profile_series.channel IS 'Channel name, or ''*'' for the whole profile';
COMMENT ON COLUMN nfpg.profile_series.slot IS 'Start of the 5-minute slot; a flow counts in the slot of its first_seen';
COMMENT ON COLUMN nfpg.profile_series.flows IS 'Flows (sum of nfpg.flows.flows) of all protocols';
COMMENT ON COLUMN nfpg.profile_series.flows_tcp IS 'Flows with proto 6';
COMMENT ON COLUMN nfpg.profile_series.flows_udp IS 'Flows with proto 17';
COMMENT ON COLUMN nfpg.profile_series.flows_icmp IS 'Flows with proto 1 or 58 (ICMP, ICMPv6; as nfdump counts them)';
COMMENT ON COLUMN nfpg.profile_series.flows_other IS 'Flows of any other protocol';
COMMENT ON COLUMN nfpg.profile_series.packets IS 'Packets of all protocols';
COMMENT ON COLUMN nfpg.profile_series.packets_tcp IS 'Packets of TCP flows';
COMMENT ON COLUMN nfpg.profile_series.packets_udp IS 'Packets of UDP flows';
COMMENT ON COLUMN nfpg.profile_series.packets_icmp IS 'Packets of ICMP and ICMPv6 flows';
COMMENT ON COLUMN nfpg.profile_series.packets_other IS 'Packets of other protocols';
COMMENT ON COLUMN nfpg.profile_series.bytes IS 'Bytes of all protocols';
COMMENT ON COLUMN nfpg.profile_series.bytes_tcp IS 'Bytes of TCP flows';
COMMENT ON COLUMN nfpg.profile_series.bytes_udp IS 'Bytes of UDP flows';
COMMENT ON COLUMN nfpg.profile_series.bytes_icmp IS 'Bytes of ICMP and ICMPv6 flows';
COMMENT ON COLUMN nfpg.profile_series.bytes_other IS 'Bytes of other protocols';
CREATE INDEX profile_series_slot ON nfpg.profile_series (slot);
COMMENT ON INDEX nfpg.profile_series_slot IS 'Time-range queries over all profiles (dashboards, series aging)';

CREATE TABLE nfpg.profile_slots (
	profile				text NOT NULL REFERENCES nfpg.profiles ON DELETE CASCADE,
	slot				timestamptz NOT NULL,
	built				timestamptz NOT NULL DEFAULT clock_timestamp(),
	PRIMARY KEY (profile, slot)
);
COMMENT ON TABLE nfpg.profile_slots IS 'Bookkeeping: the slots of each profile that have been built (and whose plugins and alerts have run)';
COMMENT ON COLUMN nfpg.profile_slots.profile IS 'Profile name';
COMMENT ON COLUMN nfpg.profile_slots.slot IS 'Start of the built slot';
COMMENT ON COLUMN nfpg.profile_slots.built IS 'When the slot was last built';

--------------------------------------------------------------------------------
-- Slot arithmetic
--------------------------------------------------------------------------------

CREATE FUNCTION nfpg.nf_slot(ts timestamptz)
RETURNS timestamptz
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN nfpg.partition_slot(ts, '5 minutes');
COMMENT ON FUNCTION nfpg.nf_slot(timestamptz) IS 'Start of the 5-minute NfSen slot containing ts';

CREATE FUNCTION nfpg.nf_slots(from_ts timestamptz, to_ts timestamptz)
RETURNS SETOF timestamptz
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE ROWS 288
RETURN generate_series(nfpg.nf_slot(from_ts), to_ts - interval '1 microsecond', interval '5 minutes');
COMMENT ON FUNCTION nfpg.nf_slots(timestamptz, timestamptz) IS 'The 5-minute slots overlapping [from_ts, to_ts)';

--------------------------------------------------------------------------------
-- Defining profiles and channels
--------------------------------------------------------------------------------

-- The filter is compiled (and so validated: a bad filter raises the
-- compiler's error with its position) before anything is stored.
CREATE FUNCTION nfpg.nf_profile_create(profile text, filter text DEFAULT 'any',
									   tstart timestamptz DEFAULT NULL,
									   tend timestamptz DEFAULT NULL,
									   series_lifetime interval DEFAULT NULL,
									   description text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	compiled	text := nfpg.nf_filter_sql(filter);
	start_slot	timestamptz := nfpg.nf_slot(coalesce(tstart, now()));
BEGIN
	IF tend IS NOT NULL AND tstart IS NULL THEN
		RAISE EXCEPTION 'a historical profile needs tstart as well as tend'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	INSERT INTO nfpg.profiles (profile, filter, filter_sql, kind, tstart, tend, series_lifetime, description)
	VALUES (profile, filter, compiled,
			CASE WHEN tend IS NULL THEN 'continuous' ELSE 'historical' END,
			start_slot, tend, series_lifetime, description);
	RETURN profile;
END
$$;
COMMENT ON FUNCTION nfpg.nf_profile_create(text, text, timestamptz, timestamptz, interval, text) IS 'Create a profile: continuous from tstart (default now) when tend is NULL, else historical for [tstart, tend); the filter is validated and compiled';

CREATE FUNCTION nfpg.nf_channel_add(profile text, channel text, filter text,
									sign smallint DEFAULT 1, colour text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	compiled	text := nfpg.nf_filter_sql(filter);
BEGIN
	INSERT INTO nfpg.profile_channels (profile, channel, filter, filter_sql, sign, colour)
	VALUES (profile, channel, filter, compiled, sign, colour);
	RETURN channel;
END
$$;
COMMENT ON FUNCTION nfpg.nf_channel_add(text, text, text, smallint, text) IS 'Add a channel (sub-filter within the profile filter) to a profile; slots built before it have no rows for it until rebuilt';

CREATE FUNCTION nfpg.nf_channel_drop(profile text, channel text)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	DELETE FROM nfpg.profile_series s WHERE s.profile = $1 AND s.channel = $2;
	DELETE FROM nfpg.profile_channels c WHERE c.profile = $1 AND c.channel = $2;
	RETURN FOUND;
END
$$;
COMMENT ON FUNCTION nfpg.nf_channel_drop(text, text) IS 'Remove a channel and its series';

CREATE FUNCTION nfpg.nf_profile_drop(profile text)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	DELETE FROM nfpg.profiles p WHERE p.profile = $1;
	RETURN FOUND;
END
$$;
COMMENT ON FUNCTION nfpg.nf_profile_drop(text) IS 'Remove a profile with its channels, series, bookkeeping, plugin runs and alerts';

--------------------------------------------------------------------------------
-- Building series
--------------------------------------------------------------------------------

-- The compiled condition of a profile, or of one of its channels within it.
CREATE FUNCTION nfpg.nf_profile_condition(profile text, channel text DEFAULT '*')
RETURNS text
LANGUAGE plpgsql STABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	cond		text;
	chan_cond	text;
BEGIN
	SELECT p.filter_sql INTO cond FROM nfpg.profiles p WHERE p.profile = $1;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'profile "%" does not exist', $1 USING ERRCODE = 'undefined_object';
	END IF;
	IF $2 = '*' THEN
		RETURN cond;
	END IF;
	SELECT c.filter_sql INTO chan_cond FROM nfpg.profile_channels c
	 WHERE c.profile = $1 AND c.channel = $2;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'profile "%" has no channel "%"', $1, $2 USING ERRCODE = 'undefined_object';
	END IF;
	RETURN format('(%s) AND (%s)', cond, chan_cond);
END
$$;
COMMENT ON FUNCTION nfpg.nf_profile_condition(text, text) IS 'The SQL condition over nfpg.flows columns that selects a profile''s flows (channel ''*'') or a channel''s';

-- Rebuild the given slots of one profile in one pass over their flows:
-- every (slot, channel) pair gets a row, zeros where nothing matched, so
-- graphs have no holes.  Channel conditions are evaluated per row in a
-- VALUES list; a channel is named by its index, never by its text.
CREATE FUNCTION nfpg.nf_profile_build_slots(profile text, slots timestamptz[])
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	cond		text := nfpg.nf_profile_condition(profile);
	names		text[] := ARRAY['*'];
	tests		text := '(1, true)';
	lo			timestamptz;
	hi			timestamptz;
	ch			record;
BEGIN
	SELECT min(s), max(s) + interval '5 minutes' INTO lo, hi FROM unnest(slots) s;
	IF lo IS NULL THEN
		RETURN 0;
	END IF;
	FOR ch IN SELECT c.channel, c.filter_sql FROM nfpg.profile_channels c
			   WHERE c.profile = $1 ORDER BY c.channel
	LOOP
		names := names || ch.channel;
		tests := tests || format(', (%s, %s)', cardinality(names), ch.filter_sql);
	END LOOP;

	DELETE FROM nfpg.profile_series s WHERE s.profile = $1 AND s.slot = ANY (slots);
	EXECUTE format($q$
		INSERT INTO nfpg.profile_series
		SELECT $1, c.channel, s.slot,
			   coalesce(sum(m.flows), 0),
			   coalesce(sum(m.flows) FILTER (WHERE m.proto = 6), 0),
			   coalesce(sum(m.flows) FILTER (WHERE m.proto = 17), 0),
			   coalesce(sum(m.flows) FILTER (WHERE m.proto IN (1, 58)), 0),
			   coalesce(sum(m.flows) FILTER (WHERE m.proto NOT IN (1, 6, 17, 58)), 0),
			   coalesce(sum(m.packets), 0),
			   coalesce(sum(m.packets) FILTER (WHERE m.proto = 6), 0),
			   coalesce(sum(m.packets) FILTER (WHERE m.proto = 17), 0),
			   coalesce(sum(m.packets) FILTER (WHERE m.proto IN (1, 58)), 0),
			   coalesce(sum(m.packets) FILTER (WHERE m.proto NOT IN (1, 6, 17, 58)), 0),
			   coalesce(sum(m.bytes), 0),
			   coalesce(sum(m.bytes) FILTER (WHERE m.proto = 6), 0),
			   coalesce(sum(m.bytes) FILTER (WHERE m.proto = 17), 0),
			   coalesce(sum(m.bytes) FILTER (WHERE m.proto IN (1, 58)), 0),
			   coalesce(sum(m.bytes) FILTER (WHERE m.proto NOT IN (1, 6, 17, 58)), 0)
		  FROM unnest($2::timestamptz[]) s(slot)
		 CROSS JOIN unnest($3::text[]) WITH ORDINALITY c(channel, idx)
		  LEFT JOIN (SELECT nfpg.nf_slot(first_seen) AS slot, t.idx, proto, flows, packets, bytes
					   FROM nfpg.flows,
							LATERAL (VALUES %s) t(idx, hit)
					  WHERE first_seen >= $4 AND first_seen < $5 AND (%s) AND t.hit) m
			ON m.slot = s.slot AND m.idx = c.idx
		 GROUP BY c.channel, s.slot
	$q$, tests, cond)
	USING profile, slots, names, lo, hi;

	INSERT INTO nfpg.profile_slots AS ps (profile, slot)
	SELECT $1, s FROM unnest(slots) s
	ON CONFLICT ON CONSTRAINT profile_slots_pkey DO UPDATE SET built = clock_timestamp();
	RETURN cardinality(slots);
END
$$;
COMMENT ON FUNCTION nfpg.nf_profile_build_slots(text, timestamptz[]) IS 'Rebuild the series of the given slots of a profile (all channels) and mark them built; idempotent';

CREATE FUNCTION nfpg.nf_profile_build(profile text, from_ts timestamptz, to_ts timestamptz)
RETURNS integer
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
RETURN nfpg.nf_profile_build_slots(profile, ARRAY(SELECT nfpg.nf_slots(from_ts, to_ts)));
COMMENT ON FUNCTION nfpg.nf_profile_build(text, timestamptz, timestamptz) IS 'Rebuild a profile''s series for every slot overlapping [from_ts, to_ts) (plugins and alerts are not re-run); returns the number of slots';

-- Slots of a profile that are finished at "now" and not built yet: for a
-- continuous profile everything after its newest built slot, for a
-- historical one every missing slot of its window.
CREATE FUNCTION nfpg.nf_profile_pending(profile text, now timestamptz DEFAULT now())
RETURNS timestamptz[]
LANGUAGE sql STABLE STRICT
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT coalesce(array_agg(s ORDER BY s), '{}')
	  FROM nfpg.profiles p,
		   nfpg.nf_slots(CASE WHEN p.kind = 'continuous'
							  THEN coalesce((SELECT max(b.slot) + interval '5 minutes'
											   FROM nfpg.profile_slots b
											  WHERE b.profile = p.profile), p.tstart)
							  ELSE p.tstart END,
						 least(p.tend, nfpg.nf_slot(now - (SELECT slot_delay FROM nfpg.nfsen_settings))
									   - interval '5 minutes' + interval '1 microsecond')) s
	 WHERE p.profile = nf_profile_pending.profile
	   AND NOT EXISTS (SELECT 1 FROM nfpg.profile_slots b WHERE b.profile = p.profile AND b.slot = s);
END;
COMMENT ON FUNCTION nfpg.nf_profile_pending(text, timestamptz) IS 'Finished slots of a profile not built yet at time now (a slot is finished slot_delay after its end)';

--------------------------------------------------------------------------------
-- Drill-down: from a profile and a time range to its flows and Top-N
--------------------------------------------------------------------------------

CREATE FUNCTION nfpg.nf_profile_flows(profile text, from_ts timestamptz, to_ts timestamptz,
									  channel text DEFAULT '*')
RETURNS SETOF nfpg.flows
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

-- The nfdump filter text of a profile or of a channel within it, for
-- functions that take nfdump filters (nf_stat, nf_hostclass, ...).
CREATE FUNCTION nfpg.nf_profile_filter(profile text, channel text DEFAULT '*')
RETURNS text
LANGUAGE plpgsql STABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	f			text;
	chan_f		text;
BEGIN
	SELECT p.filter INTO f FROM nfpg.profiles p WHERE p.profile = $1;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'profile "%" does not exist', $1 USING ERRCODE = 'undefined_object';
	END IF;
	IF $2 = '*' THEN
		RETURN f;
	END IF;
	SELECT c.filter INTO chan_f FROM nfpg.profile_channels c WHERE c.profile = $1 AND c.channel = $2;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'profile "%" has no channel "%"', $1, $2 USING ERRCODE = 'undefined_object';
	END IF;
	RETURN format('(%s) and (%s)', f, chan_f);
END
$$;
COMMENT ON FUNCTION nfpg.nf_profile_filter(text, text) IS 'The nfdump filter of a profile (channel ''*'') or of one of its channels within it';

-- Top-N drill-down is nf_stat (nfdump -s) over the profile's filter; the
-- time window is nfdump's -t (flows lying entirely inside it).
CREATE FUNCTION nfpg.nf_profile_stat(profile text, stat_type text, from_ts timestamptz,
									 to_ts timestamptz, order_by text DEFAULT 'flows',
									 top integer DEFAULT 10, channel text DEFAULT '*')
RETURNS TABLE (rank bigint, value text, proto smallint, first_seen timestamptz,
			   last_seen timestamptz, duration interval, flows bigint,
			   flows_pct double precision, packets bigint, packets_pct double precision,
			   bytes bigint, bytes_pct double precision, pps bigint, bps bigint, bpp bigint)
LANGUAGE plpgsql STABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN QUERY SELECT * FROM nfpg.nf_stat(stat_type, order_by, top,
											nfpg.nf_profile_filter(profile, channel),
											from_ts, to_ts);
END
$$;
COMMENT ON FUNCTION nfpg.nf_profile_stat(text, text, timestamptz, timestamptz, text, integer, text) IS 'Drill-down: nfdump -s stat_type/order_by -n top over a profile''s (or channel''s) flows in the -t window [from_ts, to_ts]';

REVOKE ALL ON FUNCTION nfpg.nf_profile_create(text, text, timestamptz, timestamptz, interval, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION nfpg.nf_channel_add(text, text, text, smallint, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION nfpg.nf_channel_drop(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION nfpg.nf_profile_drop(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION nfpg.nf_profile_build_slots(text, timestamptz[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION nfpg.nf_profile_build(text, timestamptz, timestamptz) FROM PUBLIC;
--------------------------------------------------------------------------------
-- Profiles (NfSen in SQL, part 2): plugins and alerts
--
-- Plugins are NfSen's backend plugins: SQL functions f(profile text, slot
-- timestamptz) registered for profiles and called by nf_run once for every
-- new slot of those profiles, after the slot's series are built.  They run
-- with search_path = pg_catalog, pg_temp, like every nfpg function: a plugin
-- names its tables with their schema or sets its own search_path.  Each call
-- runs in its own subtransaction: a plugin that fails is rolled back, logged
-- in nfpg.plugin_runs and as a WARNING, and is not retried for that slot;
-- the other plugins and the rest of the run go on.
--
-- Alerts are conditions evaluated for every new slot of their profile, over
-- one of the profile's series (a channel's flows, packets, bytes, total or
-- per protocol) or over the flows of the slot matching an extra filter.  A
-- condition is an absolute threshold (value > 1000) or, with average_slots,
-- a change against the rolling average of the previous slots (value more
-- than threshold percent above it).  Every evaluation is stored in
-- nfpg.alert_log; when the condition holds the row says fired and a NOTIFY
-- carrying a JSON description goes to the alert's notification channel.
--------------------------------------------------------------------------------

CREATE TABLE nfpg.plugins (
	plugin				text PRIMARY KEY,
	function			regprocedure NOT NULL,
	enabled				boolean NOT NULL DEFAULT true,
	description			text
);
COMMENT ON TABLE nfpg.plugins IS 'Plugin registry: SQL functions f(profile text, slot timestamptz) called by nf_run for each new slot';
COMMENT ON COLUMN nfpg.plugins.plugin IS 'Plugin name';
COMMENT ON COLUMN nfpg.plugins.description IS 'Free text for people';
COMMENT ON COLUMN nfpg.plugins.function IS 'The function called as f(profile, slot)';
COMMENT ON COLUMN nfpg.plugins.enabled IS 'false: the plugin is skipped';

CREATE TABLE nfpg.plugin_profiles (
	plugin				text NOT NULL REFERENCES nfpg.plugins ON DELETE CASCADE,
	profile				text NOT NULL REFERENCES nfpg.profiles ON DELETE CASCADE,
	PRIMARY KEY (plugin, profile)
);
COMMENT ON TABLE nfpg.plugin_profiles IS 'Which profiles each plugin runs for';
COMMENT ON COLUMN nfpg.plugin_profiles.plugin IS 'Plugin name';
COMMENT ON COLUMN nfpg.plugin_profiles.profile IS 'A profile the plugin runs for';

CREATE TABLE nfpg.plugin_runs (
	plugin				text NOT NULL REFERENCES nfpg.plugins ON DELETE CASCADE,
	profile				text NOT NULL REFERENCES nfpg.profiles ON DELETE CASCADE,
	slot				timestamptz NOT NULL,
	status				text NOT NULL CHECK (status IN ('ok', 'failed')),
	message				text,
	ran					timestamptz NOT NULL DEFAULT clock_timestamp(),
	duration			interval,
	PRIMARY KEY (plugin, profile, slot)
);
COMMENT ON TABLE nfpg.plugin_runs IS 'One row per plugin call: its slot, status and, when it failed, the error';
COMMENT ON COLUMN nfpg.plugin_runs.plugin IS 'Plugin name';
COMMENT ON COLUMN nfpg.plugin_runs.profile IS 'Profile the call was for';
COMMENT ON COLUMN nfpg.plugin_runs.slot IS 'Slot the call was for';
COMMENT ON COLUMN nfpg.plugin_runs.status IS 'ok, or failed (rolled back, not retried for this slot)';
COMMENT ON COLUMN nfpg.plugin_runs.ran IS 'When the call started';
COMMENT ON COLUMN nfpg.plugin_runs.duration IS 'How long the call took';
COMMENT ON COLUMN nfpg.plugin_runs.message IS 'Error message (SQLSTATE: text) of a failed call';

CREATE FUNCTION nfpg.nf_plugin_register(plugin text, function regprocedure,
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

-- One plugin call, isolated: its effects are rolled back if it fails.
CREATE FUNCTION nfpg.nf_plugin_call(plugin text, function regprocedure, profile text, slot timestamptz)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	t0			timestamptz := clock_timestamp();
	state		text;
	msg			text;
BEGIN
	BEGIN
		IF NOT EXISTS (SELECT 1 FROM pg_proc WHERE oid = function) THEN
			RAISE EXCEPTION 'the plugin function no longer exists' USING ERRCODE = 'undefined_function';
		END IF;
		EXECUTE format('SELECT %s($1, $2)', function::oid::regproc) USING profile, slot;
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

-- Every enabled plugin of the profile that has not run for this slot yet.
CREATE FUNCTION nfpg.nf_plugins_run(profile text, slot timestamptz)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	p			record;
	failed		integer := 0;
BEGIN
	FOR p IN SELECT g.plugin, g.function FROM nfpg.plugins g
			   JOIN nfpg.plugin_profiles pp ON pp.plugin = g.plugin
			  WHERE pp.profile = $1 AND g.enabled
				AND NOT EXISTS (SELECT 1 FROM nfpg.plugin_runs r
								 WHERE r.plugin = g.plugin AND r.profile = $1 AND r.slot = $2)
			  ORDER BY g.plugin
	LOOP
		IF NOT nfpg.nf_plugin_call(p.plugin, p.function, profile, slot) THEN
			failed := failed + 1;
		END IF;
	END LOOP;
	RETURN failed;
END
$$;
COMMENT ON FUNCTION nfpg.nf_plugins_run(text, timestamptz) IS 'Run the plugins of a profile for one slot (each once); returns how many failed';

--------------------------------------------------------------------------------
-- Alerts
--------------------------------------------------------------------------------

CREATE TABLE nfpg.alerts (
	alert				text PRIMARY KEY,
	profile				text NOT NULL REFERENCES nfpg.profiles ON DELETE CASCADE,
	channel				text NOT NULL DEFAULT '*',
	filter				text,
	filter_sql			text,
	metric				text NOT NULL CHECK (metric ~ '^(flows|packets|bytes)(_tcp|_udp|_icmp|_other)?$'),
	op					text NOT NULL CHECK (op IN ('>', '>=', '<', '<=')),
	threshold			numeric NOT NULL,
	average_slots		integer CHECK (average_slots > 0),
	notify_channel		text NOT NULL DEFAULT 'nfpg_alert',
	enabled				boolean NOT NULL DEFAULT true,
	description			text,
	CHECK ((filter IS NULL) = (filter_sql IS NULL))
);
COMMENT ON TABLE nfpg.alerts IS 'Alert conditions, evaluated by nf_run for every new slot of their profile';
COMMENT ON COLUMN nfpg.alerts.alert IS 'Alert name';
COMMENT ON COLUMN nfpg.alerts.profile IS 'Profile whose slots the alert tests';
COMMENT ON COLUMN nfpg.alerts.enabled IS 'false: the alert is not evaluated';
COMMENT ON COLUMN nfpg.alerts.description IS 'Free text for people';
COMMENT ON COLUMN nfpg.alerts.channel IS 'Channel whose series is tested (''*'': the whole profile); ignored when filter is set';
COMMENT ON COLUMN nfpg.alerts.filter IS 'Optional nfdump filter: the value is then summed over the slot''s flows matching the profile and this filter';
COMMENT ON COLUMN nfpg.alerts.filter_sql IS 'The filter compiled by nf_filter_sql()';
COMMENT ON COLUMN nfpg.alerts.metric IS 'flows, packets or bytes, optionally _tcp, _udp, _icmp or _other';
COMMENT ON COLUMN nfpg.alerts.op IS 'Comparison of the value with the threshold: >, >=, <, <=';
COMMENT ON COLUMN nfpg.alerts.threshold IS 'Absolute threshold, or with average_slots a change in percent of the rolling average (100: double, -50: half)';
COMMENT ON COLUMN nfpg.alerts.average_slots IS 'NULL: absolute threshold; N: compare with the average of the N previous slots'' values';
COMMENT ON COLUMN nfpg.alerts.notify_channel IS 'LISTEN channel the NOTIFY goes to when the alert fires';

CREATE TABLE nfpg.alert_log (
	alert				text NOT NULL REFERENCES nfpg.alerts ON DELETE CASCADE,
	slot				timestamptz NOT NULL,
	value				numeric NOT NULL,
	reference			numeric,
	fired				boolean NOT NULL,
	evaluated			timestamptz NOT NULL DEFAULT clock_timestamp(),
	PRIMARY KEY (alert, slot)
);
COMMENT ON TABLE nfpg.alert_log IS 'Every evaluation of every alert: the slot, the value, the reference it was compared with, and whether it fired';
COMMENT ON COLUMN nfpg.alert_log.alert IS 'Alert name';
COMMENT ON COLUMN nfpg.alert_log.slot IS 'Slot evaluated';
COMMENT ON COLUMN nfpg.alert_log.evaluated IS 'When it was evaluated';
COMMENT ON COLUMN nfpg.alert_log.value IS 'The measured value of the slot';
COMMENT ON COLUMN nfpg.alert_log.reference IS 'What the value was compared with: the threshold, or the threshold applied to the rolling average (NULL: no history yet)';
COMMENT ON COLUMN nfpg.alert_log.fired IS 'The condition held: a NOTIFY was sent';

CREATE FUNCTION nfpg.nf_alert_create(alert text, profile text, metric text, op text,
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

-- The value of an alert's metric for one slot.  The metric is checked by the
-- table's CHECK; it picks a column or a fixed expression, never user text.
CREATE FUNCTION nfpg.nf_alert_value(a nfpg.alerts, slot timestamptz)
RETURNS numeric
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	counter		text := split_part(a.metric, '_', 1);
	protos		text := CASE split_part(a.metric, '_', 2)
						WHEN 'tcp' THEN 'proto = 6'
						WHEN 'udp' THEN 'proto = 17'
						WHEN 'icmp' THEN 'proto IN (1, 58)'
						WHEN 'other' THEN 'proto NOT IN (1, 6, 17, 58)'
						ELSE 'true' END;
	v			numeric;
BEGIN
	IF a.filter_sql IS NULL THEN
		EXECUTE format('SELECT %I FROM nfpg.profile_series WHERE profile = $1 AND channel = $2 AND slot = $3',
					   a.metric)
		INTO v USING a.profile, a.channel, slot;
	ELSE
		EXECUTE format('SELECT sum(%I) FROM nfpg.flows
						 WHERE first_seen >= $1 AND first_seen < $1 + interval ''5 minutes''
						   AND (%s) AND (%s) AND %s',
					   counter, nfpg.nf_profile_condition(a.profile), a.filter_sql, protos)
		INTO v USING slot;
	END IF;
	RETURN coalesce(v, 0);
END
$$;
COMMENT ON FUNCTION nfpg.nf_alert_value(nfpg.alerts, timestamptz) IS 'The value an alert tests for one slot';

CREATE FUNCTION nfpg.nf_alerts_run(profile text, slot timestamptz)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	a			nfpg.alerts;
	v			numeric;
	ref			numeric;
	hit			boolean;
	msg			text;
	fired		integer := 0;
BEGIN
	FOR a IN SELECT * FROM nfpg.alerts x
			  WHERE x.profile = $1 AND x.enabled
				AND NOT EXISTS (SELECT 1 FROM nfpg.alert_log l WHERE l.alert = x.alert AND l.slot = $2)
			  ORDER BY x.alert
	LOOP
		BEGIN
			v := nfpg.nf_alert_value(a, slot);
		EXCEPTION WHEN OTHERS THEN
			GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
			RAISE WARNING 'alert "%" not evaluated for slot %: %', a.alert, slot, msg;
			CONTINUE;
		END;
		IF a.average_slots IS NULL THEN
			ref := a.threshold;
		ELSE
			SELECT trim_scale(avg(l.value) * (1 + a.threshold / 100)) INTO ref FROM nfpg.alert_log l
			 WHERE l.alert = a.alert
			   AND l.slot >= $2 - a.average_slots * interval '5 minutes' AND l.slot < $2;
		END IF;
		hit := CASE a.op WHEN '>' THEN v > ref WHEN '>=' THEN v >= ref
						 WHEN '<' THEN v < ref WHEN '<=' THEN v <= ref END;
		hit := coalesce(hit, false);
		INSERT INTO nfpg.alert_log (alert, slot, value, reference, fired) VALUES (a.alert, $2, v, ref, hit);
		IF hit THEN
			PERFORM pg_notify(a.notify_channel, json_build_object(
				'alert', a.alert, 'profile', a.profile, 'channel', a.channel, 'slot', slot,
				'metric', a.metric, 'op', a.op, 'value', v, 'reference', ref)::text);
			fired := fired + 1;
		END IF;
	END LOOP;
	RETURN fired;
END
$$;
COMMENT ON FUNCTION nfpg.nf_alerts_run(text, timestamptz) IS 'Evaluate the alerts of a profile for one slot (each once), log them and NOTIFY the ones that fire; returns how many fired';

REVOKE ALL ON FUNCTION nfpg.nf_plugin_register(text, regprocedure, text[], text) FROM PUBLIC;
REVOKE ALL ON FUNCTION nfpg.nf_plugin_call(text, regprocedure, text, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION nfpg.nf_plugins_run(text, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION nfpg.nf_alert_create(text, text, text, text, numeric, text, integer, text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION nfpg.nf_alerts_run(text, timestamptz) FROM PUBLIC;
--------------------------------------------------------------------------------
-- Aging (NfSen / nfexpire in SQL)
--
-- nfexpire deletes whole 5-minute files, oldest first; nfpg drops whole
-- flows partitions, oldest first, so aging costs a catalog change instead
-- of a DELETE.  The limits live in nfpg.nfsen_settings, as nfexpire keeps
-- them in .nfstat:
--   max_size      the partitions' disk usage (tables, TOAST and indexes);
--   max_lifetime  a partition is older than it when all its data are, that
--                 is when its upper bound is;
--   watermark     nothing happens until a limit is reached; then partitions
--                 are dropped until the size is below watermark% of
--                 max_size and none is older than watermark% of
--                 max_lifetime (nfexpire -w; size before lifetime).
-- Only partitions that have ended are candidates: the current and future
-- partitions, and the default partition, are never dropped.
-- Dropping holds the same advisory lock as make_partitions (10_partitions.sql),
-- so partitions are never created and dropped at the same time.
--
-- Profile series age separately, per profile (series_lifetime), by
-- nf_expire_series(): series are small and usually outlive the flows.
--------------------------------------------------------------------------------

CREATE FUNCTION nfpg.nf_expire(now timestamptz DEFAULT now())
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

	SELECT coalesce(sum(pg_total_relation_size(r.relid)), 0) + pg_total_relation_size('nfpg.flows_default')
	  INTO total FROM nfpg.partitions r;
	-- 1. Is a limit reached at all?
	IF NOT ((s.max_size IS NOT NULL AND total >= s.max_size)
			OR (s.max_lifetime IS NOT NULL AND EXISTS (
				SELECT 1 FROM nfpg.partitions r WHERE r.upper_bound <= now - s.max_lifetime))) THEN
		RETURN;
	END IF;
	-- 2. Drop oldest first down to the watermark.
	FOR p IN SELECT r.relid, r.lower_bound, r.upper_bound, pg_total_relation_size(r.relid) AS bytes
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
		DELETE FROM nfpg.partitions r WHERE r.relid = p.relid;
		EXECUTE format('DROP TABLE %s', p.relid);
		total := total - p.bytes;
		RETURN NEXT;
	END LOOP;
END
$$;
COMMENT ON FUNCTION nfpg.nf_expire(timestamptz) IS 'Aging: drop the oldest ended flows partitions while nfsen_settings.max_size or max_lifetime is exceeded, down to the watermark; returns what was dropped';

CREATE FUNCTION nfpg.nf_expire_series(now timestamptz DEFAULT now())
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	p			record;
	n			bigint;
	total		bigint := 0;
BEGIN
	FOR p IN SELECT x.profile, now - x.series_lifetime AS cutoff FROM nfpg.profiles x
			  WHERE x.series_lifetime IS NOT NULL
	LOOP
		DELETE FROM nfpg.profile_series s WHERE s.profile = p.profile AND s.slot < p.cutoff;
		GET DIAGNOSTICS n = ROW_COUNT;
		total := total + n;
		DELETE FROM nfpg.plugin_runs s WHERE s.profile = p.profile AND s.slot < p.cutoff;
		DELETE FROM nfpg.alert_log l USING nfpg.alerts a
		 WHERE a.alert = l.alert AND a.profile = p.profile AND l.slot < p.cutoff;
		DELETE FROM nfpg.hostclass_series s WHERE s.profile = p.profile AND s.slot < p.cutoff;
	END LOOP;
	RETURN total;
END
$$;
COMMENT ON FUNCTION nfpg.nf_expire_series(timestamptz) IS 'Aging of profile data: delete the series, plugin runs, alert evaluations and host-class counts of slots older than each profile''s series_lifetime; returns the series rows deleted';

REVOKE ALL ON FUNCTION nfpg.nf_expire(timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION nfpg.nf_expire_series(timestamptz) FROM PUBLIC;
--------------------------------------------------------------------------------
-- Host-behaviour classes (worm outbreak detection, DDoSVax)
--
-- Dübendorfer and Plattner (ETH Zurich, DDoSVax project, 2005) detected
-- worm outbreaks in backbone flows by sorting hosts, per time slot, into
-- behaviour classes and watching the size of each class and of their
-- intersections: infected hosts run the same scanning code, so they change
-- class together, and a class combination that suddenly grows is an
-- outbreak.  nfpg computes, per 5-minute slot and host:
--   Traffic    sends considerably more than it receives:
--              bytes sent >= traffic_ratio x bytes received, and at least
--              traffic_min_bytes sent;
--   Responder  answers many requests: TCP/UDP flows it sends from the
--              service side (source port below destination port) reach at
--              least responder_min_peers distinct peers;
--   Connector  opens many connections: connection attempts it sends (TCP
--              flows with SYN and no ACK) and TCP/UDP flows it sends from
--              the client side (destination port below source port) reach
--              at least connector_min_peers distinct peers.
-- Flows are unidirectional, so the side of a flow is inferred: a bare SYN
-- opens a connection; otherwise the lower port is the service's.
-- Thresholds default to nfpg.nfsen_settings (3, 10000 bytes, 10 peers, 10
-- peers), chosen for a 5-minute slot at a campus border; every function
-- takes them as arguments too.  A scanning worm shows up in Traffic and
-- Connector but not Responder; busy servers in Traffic and Responder.
--------------------------------------------------------------------------------

CREATE FUNCTION nfpg.nf_hostclass(from_ts timestamptz, to_ts timestamptz,
								  filter text DEFAULT 'any',
								  traffic_ratio numeric DEFAULT NULL,
								  traffic_min_bytes bigint DEFAULT NULL,
								  responder_min_peers integer DEFAULT NULL,
								  connector_min_peers integer DEFAULT NULL)
RETURNS TABLE (slot timestamptz, host inet, traffic boolean, responder boolean, connector boolean,
			   bytes_sent numeric, bytes_received numeric, peers_answered bigint,
			   peers_contacted bigint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	s			nfpg.nfsen_settings;
BEGIN
	SELECT * INTO s FROM nfpg.nfsen_settings;
	RETURN QUERY EXECUTE format($q$
		WITH f AS (
			SELECT nfpg.nf_slot(first_seen) AS slot, src_addr, dst_addr, src_port, dst_port,
				   proto, tcp_flags, proto IN (6, 17) AS has_ports, bytes
			  FROM nfpg.flows
			 WHERE first_seen >= $1 AND first_seen < $2 AND (%s)),
		ends AS (
			SELECT slot, src_addr AS host, dst_addr AS peer, bytes AS sent, 0::bigint AS received,
				   CASE WHEN proto = 6 AND tcp_flags & 18 = 2 THEN 'c'
						WHEN has_ports AND dst_port < src_port THEN 'c'
						WHEN has_ports AND src_port < dst_port THEN 'r' END AS role
			  FROM f
			UNION ALL
			SELECT slot, dst_addr, src_addr, 0, bytes, NULL FROM f),
		h AS (
			SELECT slot, host, sum(sent) AS sent, sum(received) AS received,
				   count(DISTINCT peer) FILTER (WHERE role = 'r') AS answered,
				   count(DISTINCT peer) FILTER (WHERE role = 'c') AS contacted
			  FROM ends GROUP BY slot, host)
		SELECT * FROM (
			SELECT slot, host, sent >= $3 * received AND sent >= $4, answered >= $5,
				   contacted >= $6, sent, received, answered, contacted
			  FROM h) x(slot, host, t, r, c)
		 WHERE t OR r OR c
		 ORDER BY slot, host
	$q$, nfpg.nf_filter_sql(filter))
	USING from_ts, to_ts,
		  coalesce(traffic_ratio, s.traffic_ratio), coalesce(traffic_min_bytes, s.traffic_min_bytes),
		  coalesce(responder_min_peers, s.responder_min_peers),
		  coalesce(connector_min_peers, s.connector_min_peers);
END
$$;
COMMENT ON FUNCTION nfpg.nf_hostclass(timestamptz, timestamptz, text, numeric, bigint, integer, integer) IS 'Per 5-minute slot, the hosts in the Traffic, Responder or Connector class among the flows matching filter in [from_ts, to_ts); NULL thresholds take nfsen_settings';

CREATE FUNCTION nfpg.nf_hostclass_counts(from_ts timestamptz, to_ts timestamptz,
										 filter text DEFAULT 'any',
										 traffic_ratio numeric DEFAULT NULL,
										 traffic_min_bytes bigint DEFAULT NULL,
										 responder_min_peers integer DEFAULT NULL,
										 connector_min_peers integer DEFAULT NULL)
RETURNS TABLE (slot timestamptz, t bigint, r bigint, c bigint, tr bigint, tc bigint, rc bigint,
			   trc bigint)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT s.slot,
		   count(h.host) FILTER (WHERE h.traffic),
		   count(h.host) FILTER (WHERE h.responder),
		   count(h.host) FILTER (WHERE h.connector),
		   count(h.host) FILTER (WHERE h.traffic AND h.responder),
		   count(h.host) FILTER (WHERE h.traffic AND h.connector),
		   count(h.host) FILTER (WHERE h.responder AND h.connector),
		   count(h.host) FILTER (WHERE h.traffic AND h.responder AND h.connector)
	  FROM nfpg.nf_slots(from_ts, to_ts) s(slot)
	  LEFT JOIN nfpg.nf_hostclass(from_ts, to_ts, filter, traffic_ratio, traffic_min_bytes,
								  responder_min_peers, connector_min_peers) h ON h.slot = s.slot
	 GROUP BY s.slot
	 ORDER BY s.slot;
END;
COMMENT ON FUNCTION nfpg.nf_hostclass_counts(timestamptz, timestamptz, text, numeric, bigint, integer, integer) IS 'Per 5-minute slot, the cardinality of every host-class combination: T, R, C, T and R, T and C, R and C, all three';

CREATE TABLE nfpg.hostclass_series (
	profile				text NOT NULL REFERENCES nfpg.profiles ON DELETE CASCADE,
	slot				timestamptz NOT NULL,
	t					bigint NOT NULL,
	r					bigint NOT NULL,
	c					bigint NOT NULL,
	tr					bigint NOT NULL,
	tc					bigint NOT NULL,
	rc					bigint NOT NULL,
	trc					bigint NOT NULL,
	PRIMARY KEY (profile, slot)
);
COMMENT ON TABLE nfpg.hostclass_series IS 'Host-class cardinalities per profile and slot, kept by the hostclass plugin';
COMMENT ON COLUMN nfpg.hostclass_series.profile IS 'Profile whose flows were classified';
COMMENT ON COLUMN nfpg.hostclass_series.slot IS 'Start of the 5-minute slot';
COMMENT ON COLUMN nfpg.hostclass_series.t IS 'Hosts in the Traffic class';
COMMENT ON COLUMN nfpg.hostclass_series.r IS 'Hosts in the Responder class';
COMMENT ON COLUMN nfpg.hostclass_series.c IS 'Hosts in the Connector class';
COMMENT ON COLUMN nfpg.hostclass_series.tr IS 'Hosts in both Traffic and Responder';
COMMENT ON COLUMN nfpg.hostclass_series.tc IS 'Hosts in both Traffic and Connector';
COMMENT ON COLUMN nfpg.hostclass_series.rc IS 'Hosts in both Responder and Connector';
COMMENT ON COLUMN nfpg.hostclass_series.trc IS 'Hosts in all three classes';

-- A plugin (register it with nf_plugin_register) that keeps
-- nfpg.hostclass_series for the profiles it is registered for.
CREATE FUNCTION nfpg.hostclass_plugin(profile text, slot timestamptz)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	DELETE FROM nfpg.hostclass_series h WHERE h.profile = $1 AND h.slot = $2;
	INSERT INTO nfpg.hostclass_series
	SELECT $1, k.slot, k.t, k.r, k.c, k.tr, k.tc, k.rc, k.trc
	  FROM nfpg.nf_hostclass_counts($2, $2 + interval '5 minutes',
									(SELECT p.filter FROM nfpg.profiles p WHERE p.profile = $1)) k;
END
$$;
COMMENT ON FUNCTION nfpg.hostclass_plugin(text, timestamptz) IS 'Plugin: store the host-class cardinalities of a profile''s slot in nfpg.hostclass_series';

REVOKE ALL ON FUNCTION nfpg.hostclass_plugin(text, timestamptz) FROM PUBLIC;
--------------------------------------------------------------------------------
-- Related filters ("malware footprint tracking", from nfdump's todo list)
--
-- Two filters chained through a host: the hosts A at one end (src or dst)
-- of flows matching a first filter, that then, within a time window after
-- A's first match, appear in flows matching a second filter which names A:
--
--   SELECT * FROM nfpg.nf_related(
--       'dst port 445 and bytes > 600',                  -- A = its destination
--       'src ip A and dst ip 172.16.17.18 and dst port 80',
--       '2024-03-11 09:00Z', '2024-03-11 10:00Z', within => '30 minutes');
--
-- The second filter refers to A as an address: "ip A", "host A", "src ip A",
-- "dst host A" and so on.  It is compiled by nf_filter_sql with a stand-in
-- address (0.0.0.123, from 0.0.0.0/8, which never appears on the wire) in
-- place of A; the stand-in literal in the compiled condition is then
-- replaced by a reference to A's column, so the whole search is one join
-- that PostgreSQL can hash, not one query per host.
--------------------------------------------------------------------------------

CREATE FUNCTION nfpg.nf_related_sql(second_filter text)
RETURNS text
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	standin		text := regexp_replace(second_filter, '\m(ip|host)(\s+)A\M', '\1\2 0.0.0.123', 'gi');
	compiled	text;
	joined		text;
BEGIN
	IF standin = second_filter THEN
		RAISE EXCEPTION 'the second filter does not refer to A'
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Name the host found by the first filter as "src ip A", "dst ip A" or "ip A".';
	END IF;
	compiled := nfpg.nf_filter_sql(standin);
	joined := regexp_replace(compiled, '''0\.0\.0\.123(/32)?''(::(inet|cidr))?', '(related_host)', 'g');
	IF joined = compiled OR joined ~ '0\.0\.0\.123' THEN
		RAISE EXCEPTION 'cannot use A in the compiled second filter: %', compiled
			USING ERRCODE = 'feature_not_supported';
	END IF;
	RETURN joined;
END
$$;
COMMENT ON FUNCTION nfpg.nf_related_sql(text) IS 'The SQL condition of a related second filter, with A as the column related_host';

CREATE FUNCTION nfpg.nf_related(first_filter text, second_filter text,
								from_ts timestamptz, to_ts timestamptz,
								within interval DEFAULT '1 hour', a_side text DEFAULT 'dst')
RETURNS TABLE (host inet, first_seen timestamptz, related_seen timestamptz,
			   first_flows bigint, related_flows bigint)
LANGUAGE plpgsql STABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	side_col	text := CASE lower(a_side) WHEN 'src' THEN 'src_addr' WHEN 'dst' THEN 'dst_addr' END;
BEGIN
	IF side_col IS NULL THEN
		RAISE EXCEPTION 'a_side must be src or dst, not "%"', a_side
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	RETURN QUERY EXECUTE format($q$
		WITH a AS (
			SELECT %I AS related_host, min(first_seen) AS related_first, count(*) AS related_n
			  FROM nfpg.flows
			 WHERE first_seen >= $1 AND first_seen < $2 AND (%s)
			 GROUP BY 1)
		SELECT a.related_host, a.related_first, min(f.first_seen), a.related_n, count(*)
		  FROM a JOIN nfpg.flows f
			ON f.first_seen >= a.related_first AND f.first_seen <= a.related_first + $3
		 WHERE f.first_seen >= $1 AND f.first_seen <= $2 + $3 AND (%s)
		 GROUP BY a.related_host, a.related_first, a.related_n
		 ORDER BY a.related_first, a.related_host
	$q$, side_col, nfpg.nf_filter_sql(first_filter), nfpg.nf_related_sql(second_filter))
	USING from_ts, to_ts, within;
END
$$;
COMMENT ON FUNCTION nfpg.nf_related(text, text, timestamptz, timestamptz, interval, text) IS 'Related filters: hosts A (a_side of flows matching first_filter in [from_ts, to_ts)) for which second_filter, naming A, matches within "within" after A''s first match';
--------------------------------------------------------------------------------
-- The scheduled run (NfSen's nfsend loop): one pg_cron job
--
-- nf_run() does, in one transaction, what NfSen does every 5 minutes:
--   1. premake flows partitions (ensure_partitions);
--   2. for every profile, build the finished slots not built yet, then run
--      the profile's plugins and alerts for each of those slots in order;
--   3. seal finished partitions: nfpg.index_partitions() (20_filter.sql)
--      builds the host and port indexes of partitions that ended over an
--      hour ago (if it is missing, the step is skipped and says so);
--   4. aging: nf_expire() for flows, nf_expire_series() for profile data.
-- A slot is done when nfpg.profile_slots has it, and plugin runs and alert
-- evaluations are keyed by slot too, so a late run catches up every missed
-- slot and a repeated run finds nothing to do.  Two runs never overlap: the
-- second returns at once.  Each profile and each step runs in its own
-- subtransaction, so one failure is recorded in nfpg.runs and the rest of
-- the run goes on.
--
-- nf_schedule() creates the pg_cron job; it is not done by CREATE EXTENSION
-- because pg_cron lives in one database per cluster and must be created
-- there first.
--------------------------------------------------------------------------------

CREATE TABLE nfpg.runs (
	run					bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	started				timestamptz NOT NULL DEFAULT clock_timestamp(),
	finished			timestamptz,
	run_time			timestamptz NOT NULL,
	slots				integer NOT NULL DEFAULT 0,
	plugin_failures		integer NOT NULL DEFAULT 0,
	alerts_fired		integer NOT NULL DEFAULT 0,
	partitions_dropped	integer NOT NULL DEFAULT 0,
	series_deleted		bigint NOT NULL DEFAULT 0,
	indexed				text,
	errors				text[] NOT NULL DEFAULT '{}'
);
COMMENT ON TABLE nfpg.runs IS 'One row per nf_run(): what it did and what failed';
COMMENT ON COLUMN nfpg.runs.run IS 'Run number';
COMMENT ON COLUMN nfpg.runs.started IS 'When the run started';
COMMENT ON COLUMN nfpg.runs.finished IS 'When the run finished';
COMMENT ON COLUMN nfpg.runs.run_time IS 'The time the run worked for (its now argument)';
COMMENT ON COLUMN nfpg.runs.slots IS 'Profile slots built (summed over profiles)';
COMMENT ON COLUMN nfpg.runs.plugin_failures IS 'Plugin calls that failed';
COMMENT ON COLUMN nfpg.runs.alerts_fired IS 'Alerts that fired (and were sent with NOTIFY)';
COMMENT ON COLUMN nfpg.runs.partitions_dropped IS 'Flows partitions dropped by aging';
COMMENT ON COLUMN nfpg.runs.series_deleted IS 'Profile series rows deleted by series aging';
COMMENT ON COLUMN nfpg.runs.indexed IS 'Outcome of the partition index step: how many partitions were indexed, or why it was skipped';
COMMENT ON COLUMN nfpg.runs.errors IS 'Errors of steps that failed and were skipped (profile build, index, aging)';

-- One profile's pending slots: build, then plugins and alerts slot by slot.
CREATE FUNCTION nfpg.nf_profile_update(profile text, now timestamptz DEFAULT now(),
									   OUT slots integer, OUT plugin_failures integer,
									   OUT alerts_fired integer)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	pending		timestamptz[] := nfpg.nf_profile_pending(profile, now);
	s			timestamptz;
BEGIN
	slots := nfpg.nf_profile_build_slots(profile, pending);
	plugin_failures := 0;
	alerts_fired := 0;
	FOREACH s IN ARRAY pending LOOP
		plugin_failures := plugin_failures + nfpg.nf_plugins_run(profile, s);
		alerts_fired := alerts_fired + nfpg.nf_alerts_run(profile, s);
	END LOOP;
END
$$;
COMMENT ON FUNCTION nfpg.nf_profile_update(text, timestamptz) IS 'Build a profile''s finished slots not built yet and run its plugins and alerts for each';

CREATE FUNCTION nfpg.nf_run(now timestamptz DEFAULT now())
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
COMMENT ON FUNCTION nfpg.nf_run(timestamptz) IS 'The scheduled job: update continuous and pending historical profiles, run plugins and alerts, index finished partitions, apply aging; each slot once';

CREATE FUNCTION nfpg.nf_schedule(schedule text DEFAULT '*/5 * * * *')
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	job			bigint;
BEGIN
	IF to_regnamespace('cron') IS NULL THEN
		RAISE EXCEPTION 'pg_cron is not installed in this database'
			USING ERRCODE = 'undefined_object',
				  HINT = 'Preload pg_cron (shared_preload_libraries), set cron.database_name to this database, then CREATE EXTENSION pg_cron.';
	END IF;
	EXECUTE 'SELECT cron.schedule($1, $2, $3)' INTO job USING 'nfpg', schedule, 'SELECT nfpg.nf_run()';
	RETURN job;
END
$$;
COMMENT ON FUNCTION nfpg.nf_schedule(text) IS 'Create (or change) the one pg_cron job "nfpg" that runs nf_run(); default every 5 minutes';

CREATE FUNCTION nfpg.nf_unschedule()
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	gone		boolean := false;
BEGIN
	IF to_regnamespace('cron') IS NOT NULL THEN
		EXECUTE 'SELECT cron.unschedule(jobid) FROM cron.job WHERE jobname = $1 AND username = current_user'
		INTO gone USING 'nfpg';
	END IF;
	RETURN coalesce(gone, false);
END
$$;
COMMENT ON FUNCTION nfpg.nf_unschedule() IS 'Remove the pg_cron job created by nf_schedule(); false when there was none';

REVOKE ALL ON FUNCTION nfpg.nf_profile_update(text, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION nfpg.nf_run(timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION nfpg.nf_schedule(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION nfpg.nf_unschedule() FROM PUBLIC;
--------------------------------------------------------------------------------
-- Grants of the foundation's objects to the roles of 05_roles.sql
--------------------------------------------------------------------------------

-- SECURITY DEFINER functions are for the loader and the owner only.
REVOKE ALL ON FUNCTION nfpg.create_partition(timestamptz, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION nfpg.make_partitions(timestamptz, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION nfpg.ensure_partitions(timestamptz, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION nfpg.rescue_default() FROM PUBLIC;
REVOKE ALL ON FUNCTION nfpg.exporter_report(inet, bigint, smallint, timestamptz, bigint, bigint, bigint, integer, integer) FROM PUBLIC;

GRANT USAGE ON SCHEMA nfpg TO nfpg_loader, nfpg_reader;
GRANT INSERT ON nfpg.flows TO nfpg_loader;
GRANT EXECUTE ON FUNCTION nfpg.ensure_partitions(timestamptz, timestamptz) TO nfpg_loader;
GRANT EXECUTE ON FUNCTION nfpg.exporter_report(inet, bigint, smallint, timestamptz, bigint, bigint, bigint, integer, integer) TO nfpg_loader;

GRANT SELECT ON nfpg.flows, nfpg.exporters, nfpg.partitions, nfpg.settings TO nfpg_reader;
--------------------------------------------------------------------------------
-- Grants for the NfSen objects (50_profiles .. 68_schedule): readers see
-- profiles, series, alerts, plugin runs, host classes and runs.  Changing
-- them stays with the owner, since nf_run executes the stored compiled
-- filters and registered plugin functions with the job owner's rights.
-- After 90_roles.sql, which creates the roles.
--------------------------------------------------------------------------------

GRANT SELECT ON nfpg.nfsen_settings, nfpg.profiles, nfpg.profile_channels, nfpg.profile_series,
	nfpg.profile_slots, nfpg.plugins, nfpg.plugin_profiles, nfpg.plugin_runs, nfpg.alerts,
	nfpg.alert_log, nfpg.hostclass_series, nfpg.runs
	TO nfpg_reader;
