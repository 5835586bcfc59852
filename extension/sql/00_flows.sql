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
