/*-------------------------------------------------------------------------
 *
 * netflow_v5.c
 *		NetFlow v5 and v7 datagrams to flow records.
 *
 * Both versions share a 24-byte header and fixed-size records (48 bytes for
 * v5, 52 for v7, whose first 48 bytes are laid out as v5's).  Semantics
 * follow nfcapd 1.7.1: times from the header's boot time with its 2^32 wrap
 * rules, the sequence check "this flow_sequence = previous + previous
 * count", ICMP type/code moved from the source port (a Cisco habit), the
 * exporter identity (address, engine_type<<8 | engine_id).  Deviation: the
 * masks, which nfcapd drops, are stored; every field v5 carries is stored
 * as sent (zeros included), so the columns are never NULL for v5.
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "exporter.h"
#include "wire.h"

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

static void
v5_record(DecodeCtx *c, const uint8_t *p, int64_t boot_ms, uint32_t uptime,
		  uint16_t sampling, const uint8_t engine[2], int64_t received_ms)
{
	FlowRec		r;

	memset(&r, 0, sizeof(r));
	r.src_addr.family = r.dst_addr.family = r.next_hop.family = 4;
	memcpy(r.src_addr.addr, p, 4);
	memcpy(r.dst_addr.addr, p + 4, 4);
	memcpy(r.next_hop.addr, p + 8, 4);
	r.in_if = get_u16(p + 12);
	r.out_if = get_u16(p + 14);
	r.packets = get_u32(p + 16);
	r.bytes = get_u32(p + 20);
	netflow_uptime_times(boot_ms, uptime, get_u32(p + 24), get_u32(p + 28),
						 &r.first_ms, &r.last_ms);
	r.src_port = get_u16(p + 32);
	r.dst_port = get_u16(p + 34);
	r.tcp_flags = p[37];
	r.proto = p[38];
	r.src_tos = p[39];
	r.src_as = get_u16(p + 40);
	r.dst_as = get_u16(p + 42);
	r.src_mask = p[44];
	r.dst_mask = p[45];
	r.present = FR_SRC_AS | FR_DST_AS | FR_IN_IF | FR_OUT_IF | FR_SRC_MASK | FR_DST_MASK;
	if (engine)
	{
		r.engine_type = engine[0];
		r.engine_id = engine[1];
		r.present |= FR_ENGINE;
	}
	if (r.proto == 1 && r.src_port != 0)
	{
		/* ICMP type/code in the source port, byte-swapped (nfcapd's fix) */
		r.dst_port = (uint16_t) ((r.src_port >> 8) | (r.src_port << 8));
		r.src_port = 0;
	}
	if (sampling > 0)
	{
		r.sampling = sampling;
		r.present |= FR_SAMPLING;
	}
	r.flows = 1;
	r.received_ms = received_ms;
	decode_emit(c, &r);
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
	boot_ms = (int64_t) get_u32(buf + 8) * 1000 + get_u32(buf + 12) / 1000000 - uptime;
	for (size_t i = 0; i < count; i++)
		v5_record(c, buf + V5_HEADER_LEN + i * reclen, boot_ms, uptime,
				  sampling, engine, received_ms);
	return DECODE_OK;
}
