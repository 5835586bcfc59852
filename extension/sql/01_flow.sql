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
