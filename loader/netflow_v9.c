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

/* Template flowsets, data flowsets; returns how the walk ended. */
DecodeResult
decode_netflow_v9(DecodeCtx *c, const uint8_t *buf, size_t len, int64_t received_ms)
{
	TimeBase	tb;
	Exporter   *e;
	uint32_t	seq;
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
	r = sets_decode(c, buf + V9_HEADER_LEN, len - V9_HEADER_LEN, &tb, 0);
	return r;
}
