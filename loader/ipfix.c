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

DecodeResult
decode_ipfix(DecodeCtx *c, const uint8_t *buf, size_t len, int64_t received_ms)
{
	TimeBase	tb = {0};
	Exporter   *e;
	uint16_t	mlen;
	uint32_t	seq;
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
	r = sets_decode(c, buf + IPFIX_HEADER_LEN, mlen - IPFIX_HEADER_LEN, &tb, 2);
	if (c->records > 0 || e->seq_valid)
	{
		e->seq_valid = true;
		e->seq_next = seq + (uint32_t) c->records;
	}
	return r;
}
