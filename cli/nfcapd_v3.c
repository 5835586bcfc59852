/*-------------------------------------------------------------------------
 *
 * nfcapd_v3.c
 *		nfdump 1.7's flow record (V3, type 11) to a FlowRec.
 *
 * A V3 record is a 12-byte header (element count, engine type and id,
 * the exporter's sysid, flags, NetFlow version) and a list of elements,
 * each {u16 id, u16 length incl. these 4 bytes}, in any order.  The ids
 * used here (1-18) mean the same in every 1.7 release; later ids changed
 * meaning between releases (34/35 in 1.7.8) and carry nothing nfpg.flows
 * stores, so unknown ids are skipped by their length.  An element shorter
 * than its id's layout is skipped too, and noted; one that runs past the
 * record makes the record, and so its block, corrupt.
 *
 * nfcapd writes an element when the exporter's template has any of its
 * fields, with 0 for the others.  Where 0 cannot be told from "not sent"
 * and is no value of its own (dst ToS, direction, forwarding status,
 * MACs), 0 is imported as NULL, which is what nfpgd stores when the
 * exporter does not send the field (docs/import.md).
 *
 *-------------------------------------------------------------------------
 */
#include "nfcapd_int.h"

#define V3_HEADER_LEN	12
#define V3_FLAG_EVENT	0x01

/* Element ids and their minimal lengths, header included. */
enum
{
	EX_GENERIC = 1, EX_IPV4 = 2, EX_IPV6 = 3, EX_MISC = 4, EX_CNT = 5, EX_VLAN = 6,
	EX_AS = 7, EX_BGP_NH4 = 8, EX_BGP_NH6 = 9, EX_NH4 = 10, EX_NH6 = 11,
	EX_RECV4 = 12, EX_RECV6 = 13, EX_MPLS = 14, EX_MAC = 15, EX_AS_ADJ = 16,
	EX_LAST_USED = 16
};

static const uint8_t min_len[EX_LAST_USED + 1] = {
	[EX_GENERIC] = 52, [EX_IPV4] = 12, [EX_IPV6] = 36, [EX_MISC] = 20, [EX_CNT] = 28,
	[EX_VLAN] = 12, [EX_AS] = 12, [EX_BGP_NH4] = 8, [EX_BGP_NH6] = 20, [EX_NH4] = 8,
	[EX_NH6] = 20, [EX_RECV4] = 8, [EX_RECV6] = 20, [EX_MPLS] = 44, [EX_MAC] = 36,
	[EX_AS_ADJ] = 12,
};

/* A MAC address nfdump keeps as the number its 6 bytes make. */
static void
set_mac(FlowRec *out, uint8_t *mac, uint32_t bit, uint64_t v)
{
	if (v == 0)
		return;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t) (v >> (40 - 8 * i));
	out->present |= bit;
}

static void
generic(FlowRec *out, const uint8_t *v)
{
	out->first_ms = (int64_t) le64(v);
	out->last_ms = (int64_t) le64(v + 8);
	out->received_ms = (int64_t) le64(v + 16);
	out->packets = le64(v + 24);
	out->bytes = le64(v + 32);
	out->src_port = le16(v + 40);
	out->dst_port = le16(v + 42);
	out->proto = v[44];
	out->tcp_flags = v[45];
	out->fwd_status = v[46];
	if (out->fwd_status)
		out->present |= FR_FWD_STATUS;
	out->src_tos = v[47];
}

static void
misc(FlowRec *out, const uint8_t *v)
{
	out->in_if = le32(v);
	out->out_if = le32(v + 4);
	out->src_mask = v[8];
	out->dst_mask = v[9];
	out->present |= FR_IN_IF | FR_OUT_IF | FR_SRC_MASK | FR_DST_MASK;
	out->direction = v[10];
	if (out->direction)
		out->present |= FR_DIRECTION;
	out->dst_tos = v[11];
	if (out->dst_tos)
		out->present |= FR_DST_TOS;
}

static void
mpls(FlowRec *out, const uint8_t *v)
{
	int			n = 0;

	for (int i = 0; i < FR_MAX_MPLS; i++)
	{
		out->mpls[i] = le32(v + 4 * i) & 0xffffff;
		if (out->mpls[i])
			n = i + 1;
	}
	out->n_mpls = (uint8_t) n;
}

/* One element's payload v (its header stripped) into out. */
static void
element(FlowRec *out, uint16_t id, const uint8_t *v, NfAddr *received)
{
	switch (id)
	{
		case EX_GENERIC:
			generic(out, v);
			break;
		case EX_IPV4:
			addr_v4(&out->src_addr, v);
			addr_v4(&out->dst_addr, v + 4);
			break;
		case EX_IPV6:
			addr_v6(&out->src_addr, v);
			addr_v6(&out->dst_addr, v + 16);
			break;
		case EX_MISC:
			misc(out, v);
			break;
		case EX_CNT:
			out->flows = le64(v) ? (uint32_t) le64(v) : 1;
			out->out_packets = le64(v + 8);
			out->out_bytes = le64(v + 16);
			out->present |= FR_OUT_PACKETS | FR_OUT_BYTES;
			break;
		case EX_VLAN:
			out->src_vlan = (uint16_t) le32(v);
			out->dst_vlan = (uint16_t) le32(v + 4);
			out->present |= FR_SRC_VLAN | FR_DST_VLAN;
			break;
		case EX_AS:
			out->src_as = le32(v);
			out->dst_as = le32(v + 4);
			out->present |= FR_SRC_AS | FR_DST_AS;
			break;
		case EX_BGP_NH4:
			addr_v4(&out->bgp_next_hop, v);
			break;
		case EX_BGP_NH6:
			addr_v6(&out->bgp_next_hop, v);
			break;
		case EX_NH4:
			addr_v4(&out->next_hop, v);
			break;
		case EX_NH6:
			addr_v6(&out->next_hop, v);
			break;
		case EX_RECV4:
			addr_v4(received, v);
			break;
		case EX_RECV6:
			addr_v6(received, v);
			break;
		case EX_MPLS:
			mpls(out, v);
			break;
		case EX_MAC:
			set_mac(out, out->in_src_mac, FR_IN_SRC_MAC, le64(v));
			set_mac(out, out->out_dst_mac, FR_OUT_DST_MAC, le64(v + 8));
			set_mac(out, out->in_dst_mac, FR_IN_DST_MAC, le64(v + 16));
			set_mac(out, out->out_src_mac, FR_OUT_SRC_MAC, le64(v + 24));
			break;
		case EX_AS_ADJ:
			out->next_as = le32(v);
			out->prev_as = le32(v + 4);
			out->present |= FR_NEXT_AS | FR_PREV_AS;
			break;
	}
}

RecResult
nfcapd_v3_record(NfcapdReader *r, const uint8_t *p, size_t len, FlowRec *out)
{
	uint16_t	n;
	size_t		off = V3_HEADER_LEN;
	bool		has_generic = false;
	NfAddr		received = {0};

	if (len < V3_HEADER_LEN)
	{
		nfcapd_reason(r, "V3 record of %zu bytes", len);
		return REC_CORRUPT;
	}
	n = le16(p + 4);
	memset(out, 0, sizeof(*out));
	out->flows = 1;
	out->export_version = p[11];
	out->engine_type = p[6];
	out->engine_id = p[7];
	if (out->export_version != 10)		/* IPFIX has no engine; nfcapd writes 0 */
		out->present |= FR_ENGINE;

	for (uint16_t i = 0; i < n; i++)
	{
		uint16_t	id,
					elen;

		if (len - off < 4)
		{
			nfcapd_reason(r, "V3 record: element %u of %u starts past its %zu bytes", i + 1, n, len);
			return REC_CORRUPT;
		}
		id = le16(p + off);
		elen = le16(p + off + 2);
		if (elen < 4 || elen > len - off)
		{
			nfcapd_reason(r, "V3 record: element %u (id %u) of %u bytes runs past its %zu bytes",
						  i + 1, id, elen, len);
			return REC_CORRUPT;
		}
		if (id <= EX_LAST_USED && min_len[id] != 0)
		{
			if (elen < min_len[id])
			{
				nfcapd_reason(r, "V3 record: element id %u of %u bytes, %u expected",
							  id, elen, min_len[id]);
				return REC_SKIP;
			}
			element(out, id, p + off + 4, &received);
			has_generic |= id == EX_GENERIC;
		}
		off += elen;
	}
	if (!has_generic)
	{
		nfcapd_reason(r, "V3 record without times and counters (element 1)");
		return REC_SKIP;
	}
	if (out->received_ms == 0)	/* converted from 1.6 without extension 27 */
		out->received_ms = out->last_ms;
	nfcapd_set_exporter(r, le16(p + 8), out);
	if (out->exporter.family == 0)
	{
		r->no_exporter++;
		out->exporter = received;	/* the sender's address, as nfcapd saw it */
	}
	return REC_OK;
}
