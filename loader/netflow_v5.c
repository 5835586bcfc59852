/*-------------------------------------------------------------------------
 *
 * netflow_v5.c
 *		NetFlow v1, v5 and v7 datagrams to flow records.
 *
 * The three versions share fixed-size records whose first 36 bytes are laid
 * out alike (addresses, interfaces, counters, uptime stamps, ports); v5 and
 * v7 share a 24-byte header (48-byte records for v5, 52 for v7), v1 -- their
 * ancestor -- has a 16-byte header (the first 16 bytes of v5's: no sequence
 * number, engine or sampling) and 48-byte records without AS numbers or
 * masks.  Semantics follow nfcapd 1.7.1: times from the header's boot time
 * with its 2^32 wrap rules, the v5/v7 sequence check "this flow_sequence =
 * previous + previous count", ICMP type/code moved from the source port (a
 * Cisco habit), the exporter identity (address, engine_type<<8 | engine_id;
 * v1 and v7: address only), at most 24 records per v1 PDU and several v1
 * PDUs per datagram.  Deviations: the v5 masks, which nfcapd drops, are
 * stored; v1 uses v5's uptime-wrap slack, which nfcapd's v1 decoder lacks;
 * an empty v1 PDU is malformed.  Every field a version carries is stored as
 * sent (zeros included), so its columns are never NULL.
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "exporter.h"
#include "wire.h"

#define V1_HEADER_LEN	16
#define V1_RECORD_LEN	48
#define V1_MAX_RECORDS	24		/* nfcapd refuses a PDU with more */
#define V5_HEADER_LEN	24
#define V5_RECORD_LEN	48
#define V7_RECORD_LEN	52
#define WRAP_MS			0x100000000LL
#define UPTIME_SLACK_MS	100000	/* Cisco bug CSCei12353, as nfcapd allows */

/*
 * First/last from the sysUptime-relative stamps: a First above Last means
 * First was taken before uptime wrapped; a Last well above the header's
 * uptime means uptime wrapped after the flow ended.
 */
void
netflow_uptime_times(int64_t boot_ms, uint32_t uptime, uint32_t first,
					 uint32_t last, int64_t *first_ms, int64_t *last_ms)
{
	*first_ms = boot_ms + first;
	*last_ms = boot_ms + last;
	if (first > last)
		*first_ms -= WRAP_MS;
	if (last > uptime && last - uptime > UPTIME_SLACK_MS)
	{
		*first_ms -= WRAP_MS;
		*last_ms -= WRAP_MS;
	}
}

static void
v5_sequence(Exporter *e, uint32_t seq, uint16_t count)
{
	if (e->seq_valid && seq != e->seq_next)
		e->stats.sequence_failures++;
	e->seq_valid = true;
	e->seq_next = seq + count;
}

/* Boot time in Unix ms from the header fields v1, v5 and v7 share. */
static int64_t
header_boot_ms(const uint8_t *h)
{
	return (int64_t) get_u32(h + 8) * 1000 + get_u32(h + 12) / 1000000 - get_u32(h + 4);
}

/* A record's first 36 bytes, the same in v1, v5 and v7. */
static void
record_common(FlowRec *r, const uint8_t *p, int64_t boot_ms, uint32_t uptime)
{
	memset(r, 0, sizeof(*r));
	r->src_addr.family = r->dst_addr.family = r->next_hop.family = 4;
	memcpy(r->src_addr.addr, p, 4);
	memcpy(r->dst_addr.addr, p + 4, 4);
	memcpy(r->next_hop.addr, p + 8, 4);
	r->in_if = get_u16(p + 12);
	r->out_if = get_u16(p + 14);
	r->packets = get_u32(p + 16);
	r->bytes = get_u32(p + 20);
	netflow_uptime_times(boot_ms, uptime, get_u32(p + 24), get_u32(p + 28),
						 &r->first_ms, &r->last_ms);
	r->src_port = get_u16(p + 32);
	r->dst_port = get_u16(p + 34);
	r->present = FR_IN_IF | FR_OUT_IF;
}

static void
record_emit(DecodeCtx *c, FlowRec *r, int64_t received_ms)
{
	if (r->proto == 1 && r->src_port != 0)
	{
		/* ICMP type/code in the source port, byte-swapped (nfcapd's fix) */
		r->dst_port = (uint16_t) ((r->src_port >> 8) | (r->src_port << 8));
		r->src_port = 0;
	}
	r->flows = 1;
	r->received_ms = received_ms;
	decode_emit(c, r);
}

static void
v5_record(DecodeCtx *c, const uint8_t *p, int64_t boot_ms, uint32_t uptime,
		  uint16_t sampling, const uint8_t engine[2], int64_t received_ms)
{
	FlowRec		r;

	record_common(&r, p, boot_ms, uptime);
	r.tcp_flags = p[37];
	r.proto = p[38];
	r.src_tos = p[39];
	r.src_as = get_u16(p + 40);
	r.dst_as = get_u16(p + 42);
	r.src_mask = p[44];
	r.dst_mask = p[45];
	r.present |= FR_SRC_AS | FR_DST_AS | FR_SRC_MASK | FR_DST_MASK;
	if (engine)
	{
		r.engine_type = engine[0];
		r.engine_id = engine[1];
		r.present |= FR_ENGINE;
	}
	if (sampling > 0)
	{
		r.sampling = sampling;
		r.present |= FR_SAMPLING;
	}
	record_emit(c, &r, received_ms);
}

DecodeResult
decode_netflow_v5(DecodeCtx *c, const uint8_t *buf, size_t len, int64_t received_ms)
{
	size_t		reclen = c->version == 5 ? V5_RECORD_LEN : V7_RECORD_LEN;
	uint16_t	count;
	uint32_t	uptime;
	int64_t		boot_ms;
	uint16_t	sampling = 0;
	const uint8_t *engine = NULL;
	uint32_t	source_id = 0;
	Exporter   *e;

	if (len < V5_HEADER_LEN)
	{
		decode_drop(c, DROP_SHORT_HEADER);
		return DECODE_TRUNCATED;
	}
	count = get_u16(buf + 2);
	if (len < V5_HEADER_LEN + (size_t) count * reclen)
	{
		/* nfcapd drops the whole datagram too */
		decode_drop(c, DROP_TRUNCATED);
		return DECODE_TRUNCATED;
	}
	if (c->version == 5)
	{
		engine = buf + 20;
		source_id = (uint32_t) engine[0] << 8 | engine[1];
		sampling = get_u16(buf + 22) & 0x3fff;
	}
	e = exporter_lookup(c, source_id, received_ms);
	if (!e)
		return DECODE_MALFORMED;
	v5_sequence(e, get_u32(buf + 16), count);

	uptime = get_u32(buf + 4);
	boot_ms = header_boot_ms(buf);
	for (size_t i = 0; i < count; i++)
		v5_record(c, buf + V5_HEADER_LEN + i * reclen, boot_ms, uptime,
				  sampling, engine, received_ms);
	return DECODE_OK;
}

/* v1 records: prot and tos where v5 has them, tcp_flags at 40 (v5: 37). */
static void
v1_record(DecodeCtx *c, const uint8_t *p, int64_t boot_ms, uint32_t uptime,
		  int64_t received_ms)
{
	FlowRec		r;

	record_common(&r, p, boot_ms, uptime);
	r.proto = p[38];
	r.src_tos = p[39];
	r.tcp_flags = p[40];
	record_emit(c, &r, received_ms);
}

/*
 * Check the v1 PDU at the start of buf (len bytes left): a whole header, a
 * count from 1 to 24 and every record present.  Counts the drop if not.
 */
static DecodeResult
v1_check(DecodeCtx *c, const uint8_t *buf, size_t len)
{
	uint16_t	count;

	if (len < V1_HEADER_LEN)
	{
		decode_drop(c, DROP_SHORT_HEADER);
		return DECODE_TRUNCATED;
	}
	count = get_u16(buf + 2);
	if (count == 0 || count > V1_MAX_RECORDS)
	{
		decode_drop(c, DROP_BAD_LENGTH);
		return DECODE_MALFORMED;
	}
	if (len < V1_HEADER_LEN + (size_t) count * V1_RECORD_LEN)
	{
		decode_drop(c, DROP_TRUNCATED);
		return DECODE_TRUNCATED;
	}
	return DECODE_OK;
}

/*
 * NetFlow v1.  As nfcapd reads it, a datagram is one or more v1 PDUs back to
 * back (header, then its records); bytes after a PDU are read as the next
 * one.  Decoding stops at the first bad PDU, keeping the ones before it; a
 * bad first PDU drops the datagram before its exporter is counted.  No
 * sequence number, so no sequence failures; source id 0.
 */
DecodeResult
decode_netflow_v1(DecodeCtx *c, const uint8_t *buf, size_t len, int64_t received_ms)
{
	size_t		off = 0;
	DecodeResult res;

	do
	{
		const uint8_t *h = buf + off;
		uint16_t	count;
		int64_t		boot_ms;

		if ((res = v1_check(c, h, len - off)) != DECODE_OK)
			return res;
		if (off == 0 && !exporter_lookup(c, 0, received_ms))
			return DECODE_MALFORMED;
		count = get_u16(h + 2);
		boot_ms = header_boot_ms(h);
		for (size_t i = 0; i < count; i++)
			v1_record(c, h + V1_HEADER_LEN + i * V1_RECORD_LEN, boot_ms,
					  get_u32(h + 4), received_ms);
		off += V1_HEADER_LEN + (size_t) count * V1_RECORD_LEN;
	} while (off < len);
	return DECODE_OK;
}
