/*-------------------------------------------------------------------------
 *
 * flowrec.h
 *		The flow record every decoder produces and the writer COPYs.
 *
 * One struct mirrors one row of nfpg.flows.  Decoders are pure functions
 * from a datagram's bytes (plus the exporter's state: templates, sequence
 * numbers) to an array of these; they never touch the network or the
 * database, so they can be unit-tested and fuzzed.  A field whose bit in
 * `present` is clear is written as NULL (or the column's default).
 *
 *-------------------------------------------------------------------------
 */
#ifndef NFPG_FLOWREC_H
#define NFPG_FLOWREC_H

#include <stdbool.h>
#include <stdint.h>

/* An IPv4 or IPv6 address; IPv4 uses the first 4 bytes of addr. */
typedef struct NfAddr
{
	uint8_t		family;			/* 0 = absent, 4 or 6 */
	uint8_t		addr[16];
} NfAddr;

/* Bits of FlowRec.present for the columns that may be NULL. */
#define FR_SRC_AS			(1u << 0)
#define FR_DST_AS			(1u << 1)
#define FR_NEXT_AS			(1u << 2)
#define FR_PREV_AS			(1u << 3)
#define FR_OUT_PACKETS		(1u << 4)
#define FR_OUT_BYTES		(1u << 5)
#define FR_IN_IF			(1u << 6)
#define FR_OUT_IF			(1u << 7)
#define FR_SAMPLING			(1u << 8)
#define FR_SRC_VLAN			(1u << 9)
#define FR_DST_VLAN			(1u << 10)
#define FR_DST_TOS			(1u << 11)
#define FR_SRC_MASK			(1u << 12)
#define FR_DST_MASK			(1u << 13)
#define FR_ENGINE			(1u << 14)	/* engine_type and engine_id */
#define FR_FWD_STATUS		(1u << 15)
#define FR_DIRECTION		(1u << 16)
#define FR_IN_SRC_MAC		(1u << 17)
#define FR_OUT_DST_MAC		(1u << 18)
#define FR_IN_DST_MAC		(1u << 19)
#define FR_OUT_SRC_MAC		(1u << 20)

#define FR_MAX_MPLS			10

typedef struct FlowRec
{
	int64_t		first_ms;		/* Unix epoch milliseconds */
	int64_t		last_ms;
	int64_t		received_ms;
	uint64_t	packets;
	uint64_t	bytes;
	uint64_t	out_packets;
	uint64_t	out_bytes;
	uint32_t	src_as;
	uint32_t	dst_as;
	uint32_t	next_as;
	uint32_t	prev_as;
	uint32_t	source_id;
	uint32_t	in_if;
	uint32_t	out_if;
	uint32_t	flows;			/* 1 unless the exporter aggregates */
	uint32_t	sampling;		/* 1 in N */
	uint32_t	present;		/* FR_* bits */
	uint32_t	mpls[FR_MAX_MPLS];	/* 24-bit stack entries, top first */
	uint16_t	src_port;
	uint16_t	dst_port;		/* ICMP: type * 256 + code */
	uint16_t	src_vlan;
	uint16_t	dst_vlan;
	uint8_t		proto;
	uint8_t		tcp_flags;
	uint8_t		src_tos;
	uint8_t		dst_tos;
	uint8_t		src_mask;
	uint8_t		dst_mask;
	uint8_t		engine_type;
	uint8_t		engine_id;
	uint8_t		fwd_status;
	uint8_t		direction;
	uint8_t		export_version; /* 5, 7, 9, 10, 0x85 */
	uint8_t		n_mpls;
	NfAddr		src_addr;
	NfAddr		dst_addr;
	NfAddr		next_hop;		/* family 0: NULL */
	NfAddr		bgp_next_hop;
	NfAddr		exporter;
	uint8_t		in_src_mac[6];
	uint8_t		out_dst_mac[6];
	uint8_t		in_dst_mac[6];
	uint8_t		out_src_mac[6];
} FlowRec;

#endif							/* NFPG_FLOWREC_H */
