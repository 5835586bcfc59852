/*-------------------------------------------------------------------------
 *
 * nfcapd_v1.c
 *		nfdump 1.6's flow record (common record, type 10) and its
 *		extension maps (type 2) to FlowRecs.
 *
 * A 1.6 record is a 32-byte head (times in seconds plus milliseconds,
 * ports, protocol, flags, the exporter's sysid and the id of an extension
 * map), the three required extensions (addresses, packets, bytes, whose
 * widths the flags give) and then the optional extensions its map lists,
 * in the map's order, each of a fixed size.  Maps are state: a map record
 * defines (or redefines, in merged files) its id for the records after it,
 * so the table is overwritten in stream order and a record is decoded with
 * the map in force when it was read.  A record whose map is unknown cannot
 * be laid out and is skipped, as nfdump skips it.
 *
 * The extension sizes are nfdump 1.6.23's extension_descriptor table; the
 * ids nfpg.flows has no column for (NSEL/NEL, latency, usernames) are
 * still walked over by their size.
 *
 *-------------------------------------------------------------------------
 */
#include "nfcapd_int.h"

#define V1_HEAD_LEN		32
#define MAX_EXT_ID		49

/* Flag bits of byte 4. */
#define V1_IPV6			0x01
#define V1_PACKETS64	0x02
#define V1_BYTES64		0x04

/* Optional extension sizes by id; 0 = reserved (takes no room). */
static const uint8_t ext_size[MAX_EXT_ID + 1] = {
	[4] = 4, [5] = 8, [6] = 4, [7] = 8, [8] = 4, [9] = 4, [10] = 16, [11] = 4,
	[12] = 16, [13] = 4, [14] = 4, [15] = 8, [16] = 4, [17] = 8, [18] = 4, [19] = 8,
	[20] = 16, [21] = 16, [22] = 40, [23] = 4, [24] = 16, [25] = 4, [26] = 8, [27] = 8,
	[37] = 20, [38] = 4, [39] = 8, [40] = 32, [41] = 24, [42] = 24, [43] = 72,
	[45] = 24, [46] = 12, [48] = 8,
};

static int
find_map(NfcapdReader *r, uint16_t id)
{
	if (r->last_map >= 0 && r->maps[r->last_map].id == id)
		return r->last_map;
	for (int i = 0; i < r->n_maps; i++)
		if (r->maps[i].id == id)
			return r->last_map = i;
	return -1;
}

/* Record type 2.  False (with a reason) if the map cannot be used. */
bool
nfcapd_v1_map(NfcapdReader *r, const uint8_t *p, size_t len)
{
	NfcapdExtMap m = {0};
	int			i;

	if (len < 8)
	{
		nfcapd_reason(r, "extension map of %zu bytes", len);
		return false;
	}
	m.id = le16(p + 4);
	i = find_map(r, m.id);
	for (size_t off = 8; off + 2 <= len; off += 2)
	{
		uint16_t	ext = le16(p + off);

		if (ext == 0)
			break;
		if (ext > MAX_EXT_ID || ext < 4 || m.n == NFCAPD_MAX_MAP_EXT)
		{
			/* a later record using this id must not use the old layout */
			if (i >= 0)
				r->maps[i] = r->maps[--r->n_maps];
			r->last_map = -1;
			nfcapd_reason(r, "extension map %u lists extension %u, which nfdump 1.6 does not define",
						  m.id, ext);
			return false;
		}
		m.ext[m.n++] = (uint8_t) ext;
	}
	if (i < 0)
	{
		if (r->n_maps == NFCAPD_MAX_MAPS)
		{
			nfcapd_reason(r, "more than %d extension maps", NFCAPD_MAX_MAPS);
			return false;
		}
		i = r->n_maps++;
	}
	r->maps[i] = m;
	return true;
}

/* A 1.6 u64 sits on a 4-byte boundary only, low half first on LE. */
static uint64_t
counter(const uint8_t *p, bool wide)
{
	return wide ? le64(p) : le32(p);
}

static void
mac_pair(FlowRec *out, const uint8_t *v, uint8_t *a, uint32_t abit, uint8_t *b, uint32_t bbit)
{
	uint64_t	x = le64(v),
				y = le64(v + 8);

	for (int i = 0; i < 6; i++)
	{
		a[i] = (uint8_t) (x >> (40 - 8 * i));
		b[i] = (uint8_t) (y >> (40 - 8 * i));
	}
	if (x)
		out->present |= abit;
	if (y)
		out->present |= bbit;
}

/* One optional extension's data v into out. */
static void
extension(FlowRec *out, uint8_t ext, const uint8_t *v, NfAddr *router)
{
	switch (ext)
	{
		case 4:
			out->in_if = le16(v);
			out->out_if = le16(v + 2);
			out->present |= FR_IN_IF | FR_OUT_IF;
			break;
		case 5:
			out->in_if = le32(v);
			out->out_if = le32(v + 4);
			out->present |= FR_IN_IF | FR_OUT_IF;
			break;
		case 6:
			out->src_as = le16(v);
			out->dst_as = le16(v + 2);
			out->present |= FR_SRC_AS | FR_DST_AS;
			break;
		case 7:
			out->src_as = le32(v);
			out->dst_as = le32(v + 4);
			out->present |= FR_SRC_AS | FR_DST_AS;
			break;
		case 8:
			out->dst_tos = v[0];
			out->direction = v[1];
			out->src_mask = v[2];
			out->dst_mask = v[3];
			out->present |= FR_SRC_MASK | FR_DST_MASK;
			out->present |= (out->dst_tos ? FR_DST_TOS : 0) | (out->direction ? FR_DIRECTION : 0);
			break;
		case 9:
			addr_v4(&out->next_hop, v);
			break;
		case 10:
			addr_v6(&out->next_hop, v);
			break;
		case 11:
			addr_v4(&out->bgp_next_hop, v);
			break;
		case 12:
			addr_v6(&out->bgp_next_hop, v);
			break;
		case 13:
			out->src_vlan = le16(v);
			out->dst_vlan = le16(v + 2);
			out->present |= FR_SRC_VLAN | FR_DST_VLAN;
			break;
		case 14:
		case 15:
			out->out_packets = counter(v, ext == 15);
			out->present |= FR_OUT_PACKETS;
			break;
		case 16:
		case 17:
			out->out_bytes = counter(v, ext == 17);
			out->present |= FR_OUT_BYTES;
			break;
		case 18:
		case 19:
			{
				uint64_t	n = counter(v, ext == 19);

				out->flows = n == 0 ? 1 : n > UINT32_MAX ? UINT32_MAX : (uint32_t) n;
			}
			break;
		case 20:
			mac_pair(out, v, out->in_src_mac, FR_IN_SRC_MAC, out->out_dst_mac, FR_OUT_DST_MAC);
			break;
		case 21:
			mac_pair(out, v, out->in_dst_mac, FR_IN_DST_MAC, out->out_src_mac, FR_OUT_SRC_MAC);
			break;
		case 22:
			for (int i = 0; i < FR_MAX_MPLS; i++)
			{
				out->mpls[i] = le32(v + 4 * i) & 0xffffff;
				if (out->mpls[i])
					out->n_mpls = (uint8_t) (i + 1);
			}
			break;
		case 23:
			addr_v4(router, v);
			break;
		case 24:
			addr_v6(router, v);
			break;
		case 25:
			out->engine_type = v[2];
			out->engine_id = v[3];
			out->present |= FR_ENGINE;
			break;
		case 26:
			out->next_as = le32(v);
			out->prev_as = le32(v + 4);
			out->present |= FR_NEXT_AS | FR_PREV_AS;
			break;
		case 27:
			out->received_ms = (int64_t) le64(v);
			break;
	}
}

RecResult
nfcapd_v1_record(NfcapdReader *r, const uint8_t *p, size_t len, FlowRec *out)
{
	uint8_t		flags;
	int			mi;
	const NfcapdExtMap *m;
	size_t		off = V1_HEAD_LEN,
				need;
	NfAddr		router = {0};

	if (len < V1_HEAD_LEN)
	{
		nfcapd_reason(r, "1.6 flow record of %zu bytes", len);
		return REC_CORRUPT;
	}
	mi = find_map(r, le16(p + 6));
	if (mi < 0)
	{
		nfcapd_reason(r, "1.6 flow record uses extension map %u, not defined before it", le16(p + 6));
		return REC_SKIP;
	}
	m = &r->maps[mi];
	flags = p[4];				/* byte 5 is the NetFlow version since 1.6.19 */

	need = V1_HEAD_LEN + (flags & V1_IPV6 ? 32 : 8) + (flags & V1_PACKETS64 ? 8 : 4) +
		(flags & V1_BYTES64 ? 8 : 4);
	for (int i = 0; i < m->n; i++)
		need += ext_size[m->ext[i]];
	if (need > len)
	{
		nfcapd_reason(r, "1.6 flow record of %zu bytes, its extension map %u needs %zu",
					  len, m->id, need);
		return REC_CORRUPT;
	}

	memset(out, 0, sizeof(*out));
	out->flows = 1;
	out->export_version = p[5];
	out->first_ms = (int64_t) le32(p + 12) * 1000 + le16(p + 8);
	out->last_ms = (int64_t) le32(p + 16) * 1000 + le16(p + 10);
	out->fwd_status = p[20];
	if (out->fwd_status)
		out->present |= FR_FWD_STATUS;
	out->tcp_flags = p[21];
	out->proto = p[22];
	out->src_tos = p[23];
	out->src_port = le16(p + 24);
	out->dst_port = le16(p + 26);

	if (flags & V1_IPV6)
	{
		addr_v6(&out->src_addr, p + off);
		addr_v6(&out->dst_addr, p + off + 16);
		off += 32;
	}
	else
	{
		addr_v4(&out->src_addr, p + off);
		addr_v4(&out->dst_addr, p + off + 4);
		off += 8;
	}
	out->packets = counter(p + off, flags & V1_PACKETS64);
	off += flags & V1_PACKETS64 ? 8 : 4;
	out->bytes = counter(p + off, flags & V1_BYTES64);
	off += flags & V1_BYTES64 ? 8 : 4;
	for (int i = 0; i < m->n; i++)
	{
		extension(out, m->ext[i], p + off, &router);
		off += ext_size[m->ext[i]];
	}
	/* without extension 27 the collector's clock is unknown: the flow's end */
	if (out->received_ms == 0)
		out->received_ms = out->last_ms;

	nfcapd_set_exporter(r, le16(p + 28), out);
	if (out->exporter.family == 0)
	{
		r->no_exporter++;
		out->exporter = router;
	}
	return REC_OK;
}
