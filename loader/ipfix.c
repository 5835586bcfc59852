/*-------------------------------------------------------------------------
 *
 * ipfix.c
 *		IPFIX (RFC 7011) messages to flow records.
 *
 * A message is a 16-byte header (version 10, message length, export time,
 * sequence number, observation domain id) and sets: 2 templates, 3 options
 * templates (both with withdrawals), >= 256 data.  Exporter identity is
 * (address, observation domain).  The sequence number counts data records
 * sent before the message; nfcapd expects the previous message's number
 * plus the records it decoded from it, and so do we (no failure before the
 * first data record).  Only the header's message length is decoded; bytes
 * after it are ignored.
 *
 *-------------------------------------------------------------------------
 */
#include "templates.h"
#include "wire.h"

#define IPFIX_HEADER_LEN	16
#define MAX_ADDED			64

static DecodeResult
ipfix_sets(DecodeCtx *c, const uint8_t *p, size_t len, const TimeBase *tb,
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
		if (id == 2 || id == 3)
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
decode_ipfix(DecodeCtx *c, const uint8_t *buf, size_t len, int64_t received_ms)
{
	TimeBase	tb = {0};
	Exporter   *e;
	uint16_t	mlen;
	uint32_t	seq;
	uint16_t	added[MAX_ADDED];
	int			n_added = 0;
	DecodeResult r;

	if (len < IPFIX_HEADER_LEN)
	{
		decode_drop(c, DROP_SHORT_HEADER);
		return DECODE_TRUNCATED;
	}
	mlen = get_u16(buf + 2);
	if (mlen < IPFIX_HEADER_LEN)
	{
		decode_drop(c, DROP_BAD_LENGTH);
		return DECODE_MALFORMED;
	}
	if (mlen > len)
	{
		decode_drop(c, DROP_TRUNCATED);
		return DECODE_TRUNCATED;
	}
	e = exporter_lookup(c, get_u32(buf + 12), received_ms);
	if (!e)
		return DECODE_MALFORMED;
	seq = get_u32(buf + 8);
	if (e->seq_valid && seq != e->seq_next)
		e->stats.sequence_failures++;

	tb.export_ms = (int64_t) get_u32(buf + 4) * 1000;
	tb.received_ms = received_ms;
	r = ipfix_sets(c, buf + IPFIX_HEADER_LEN, mlen - IPFIX_HEADER_LEN, &tb, added, &n_added);
	for (int i = 0; i < n_added; i++)
		pending_replay(c, added[i]);
	if (c->records > 0 || e->seq_valid)
	{
		e->seq_valid = true;
		e->seq_next = seq + (uint32_t) c->records;
	}
	return r;
}
