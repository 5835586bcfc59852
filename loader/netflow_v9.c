/*-------------------------------------------------------------------------
 *
 * netflow_v9.c
 *		NetFlow v9 (RFC 3954) datagrams to flow records.
 *
 * A datagram is a 20-byte header and flowsets: id 0 templates, id 1
 * options templates, ids >= 256 data; ids 2-255 are reserved and skipped.
 * Exporter identity is (address, source id); the sequence number counts
 * datagrams, and a datagram that does not carry the previous one plus one
 * is a sequence failure, as nfcapd counts it.  Times are relative to the
 * header's sysUptime (elements.c).  A flowset shorter than its own header
 * ends the datagram (MALFORMED), one longer than the datagram too
 * (TRUNCATED); what was decoded before stays.
 *
 *-------------------------------------------------------------------------
 */
#include "templates.h"
#include "wire.h"

#define V9_HEADER_LEN	20
#define MAX_ADDED		64		/* templates per datagram replayed from pending */

/* Template flowsets, data flowsets; returns how the walk ended. */
static DecodeResult
v9_flowsets(DecodeCtx *c, const uint8_t *p, size_t len, const TimeBase *tb,
			uint16_t *added, int *n_added)
{
	size_t		off = 0;

	while (len - off >= 4)
	{
		uint16_t	id = get_u16(p + off);
		uint16_t	slen = get_u16(p + off + 2);
		const uint8_t *body = p + off + 4;

		if (slen < 4)
		{
			decode_drop(c, DROP_BAD_LENGTH);
			return DECODE_MALFORMED;
		}
		if (slen > len - off)
		{
			decode_drop(c, DROP_TRUNCATED);
			return DECODE_TRUNCATED;
		}
		if (id == 0 || id == 1)
		{
			if (!templates_parse_set(c, id, body, slen - 4, added, n_added, MAX_ADDED))
				return DECODE_MALFORMED;
		}
		else if (id >= 256)
		{
			const Template *t = tcache_get(c->exp->templates, id);

			if (!t)
				pending_add(c, id, body, slen - 4, tb);
			else if (!data_set_decode(c, t, body, slen - 4, tb))
				return DECODE_MALFORMED;
		}
		off += slen;
	}
	return DECODE_OK;
}

DecodeResult
decode_netflow_v9(DecodeCtx *c, const uint8_t *buf, size_t len, int64_t received_ms)
{
	TimeBase	tb;
	Exporter   *e;
	uint32_t	seq;
	uint16_t	added[MAX_ADDED];
	int			n_added = 0;
	DecodeResult r;

	if (len < V9_HEADER_LEN)
	{
		decode_drop(c, DROP_SHORT_HEADER);
		return DECODE_TRUNCATED;
	}
	e = exporter_lookup(c, get_u32(buf + 16), received_ms);
	if (!e)
		return DECODE_MALFORMED;
	seq = get_u32(buf + 12);
	if (e->seq_valid && seq != e->seq_next)
		e->stats.sequence_failures++;
	e->seq_valid = true;
	e->seq_next = seq + 1;

	tb.uptime_ms = get_u32(buf + 4);
	tb.has_uptime = true;
	tb.export_ms = (int64_t) get_u32(buf + 8) * 1000;
	tb.received_ms = received_ms;
	r = v9_flowsets(c, buf + V9_HEADER_LEN, len - V9_HEADER_LEN, &tb, added, &n_added);
	for (int i = 0; i < n_added; i++)
		pending_replay(c, added[i]);
	return r;
}
