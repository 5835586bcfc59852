/*-------------------------------------------------------------------------
 *
 * sflow.c
 *		sFlow version 5 datagrams to flow records.
 *
 * Every flow sample (compact, format 1, or expanded, format 3) becomes one
 * record, as in sfcapd: its addresses, ports, protocol, ToS, TCP flags,
 * VLAN and MACs come from the sampled packet header (Ethernet with up to
 * two VLAN tags, IPv4, IPv6 with extension headers, TCP, UDP, ICMP), or
 * from IPv4/IPv6 data records when the agent sends those instead; masks,
 * next hops, AS numbers and VLANs from the extended router, gateway and
 * switch records.  first = last = receive time (sFlow carries none);
 * packets = 1 and bytes = the sampled frame length, with the sampling rate
 * stored (the decoder's upscale option multiplies, as sfcapd always does).
 * ICMP type/code go to dst_port as type*256+code, like NetFlow (sfcapd
 * 1.7.1 puts them in the two ports).  Counter samples are counted per
 * agent, not stored.  Exporter identity: (address, sub-agent id); the
 * datagram sequence number must grow by one.
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "exporter.h"
#include "wire.h"

#define SFLOW_FLOW_SAMPLE		1
#define SFLOW_COUNTER_SAMPLE	2
#define SFLOW_FLOW_SAMPLE_EXP	3
#define SFLOW_COUNTER_SAMPLE_EXP 4
#define SFLOW_MAX_ASPATH_SEGS	64

/* A bounds-checked reader over XDR (big-endian, 4-byte aligned) data. */
typedef struct Cursor
{
	const uint8_t *p;
	size_t		left;
	bool		bad;
} Cursor;

static uint32_t
cur_u32(Cursor *cu)
{
	uint32_t	v;

	if (cu->left < 4)
	{
		cu->bad = true;
		return 0;
	}
	v = get_u32(cu->p);
	cu->p += 4;
	cu->left -= 4;
	return v;
}

/* n bytes (XDR opaque: the cursor moves by n rounded up to 4). */
static const uint8_t *
cur_bytes(Cursor *cu, size_t n)
{
	const uint8_t *v = cu->p;
	size_t		padded = (n + 3) & ~(size_t) 3;

	if (cu->bad || n > cu->left || padded > cu->left)
	{
		cu->bad = true;
		return NULL;
	}
	cu->p += padded;
	cu->left -= padded;
	return v;
}

/* An sFlow address: type 1 IPv4, 2 IPv6. */
static bool
cur_addr(Cursor *cu, NfAddr *a)
{
	uint32_t	type = cur_u32(cu);
	const uint8_t *v;

	if (type != 1 && type != 2)
	{
		cu->bad = cu->bad || type != 0;
		return false;
	}
	v = cur_bytes(cu, type == 1 ? 4 : 16);
	if (!v)
		return false;
	a->family = type == 1 ? 4 : 6;
	memcpy(a->addr, v, type == 1 ? 4 : 16);
	return true;
}

static void
transport(FlowRec *r, const uint8_t *p, size_t n)
{
	switch (r->proto)
	{
		case 6:
			if (n >= 14)
				r->tcp_flags = p[13];
			/* FALLTHROUGH */
		case 17:
		case 132:
			if (n >= 4)
			{
				r->src_port = get_u16(p);
				r->dst_port = get_u16(p + 2);
			}
			break;
		case 1:
		case 58:
			if (n >= 2)
				r->dst_port = (uint16_t) (p[0] << 8 | p[1]);
			break;
	}
}

static bool
sampled_ipv4(FlowRec *r, const uint8_t *p, size_t n)
{
	size_t		ihl;

	if (n < 20 || p[0] >> 4 != 4)
		return false;
	ihl = (size_t) (p[0] & 15) * 4;
	r->src_tos = p[1];
	r->proto = p[9];
	r->src_addr.family = r->dst_addr.family = 4;
	memcpy(r->src_addr.addr, p + 12, 4);
	memcpy(r->dst_addr.addr, p + 16, 4);
	if ((get_u16(p + 6) & 0x1fff) == 0 && ihl >= 20 && ihl <= n)
		transport(r, p + ihl, n - ihl);
	return true;
}

static bool
sampled_ipv6(FlowRec *r, const uint8_t *p, size_t n)
{
	uint8_t		nh;
	size_t		off = 40;

	if (n < 40 || p[0] >> 4 != 6)
		return false;
	r->src_tos = (uint8_t) (get_u32(p) >> 20);
	r->src_addr.family = r->dst_addr.family = 6;
	memcpy(r->src_addr.addr, p + 8, 16);
	memcpy(r->dst_addr.addr, p + 24, 16);
	nh = p[6];
	for (int i = 0; i < 8 && n - off >= 8; i++)
	{
		if (nh == 0 || nh == 43 || nh == 60)	/* hop-by-hop, routing, dst opts */
		{
			size_t		hlen = ((size_t) p[off + 1] + 1) * 8;

			nh = p[off];
			if (hlen > n - off)
			{
				off = n;
				break;
			}
			off += hlen;
		}
		else if (nh == 44)		/* fragment: ports only in the first */
		{
			bool		first = (get_u16(p + off + 2) & 0xfff8) == 0;

			nh = p[off];
			off = first ? off + 8 : n;
		}
		else
			break;
	}
	r->proto = nh;
	transport(r, p + off, n - off);
	return true;
}

/* Header protocol 1: Ethernet, with up to two 802.1Q / 802.1ad tags. */
static bool
sampled_ethernet(FlowRec *r, const uint8_t *p, size_t n)
{
	uint16_t	type;
	size_t		off = 14;

	if (n < 14)
		return false;
	memcpy(r->out_dst_mac, p, 6);
	memcpy(r->in_src_mac, p + 6, 6);
	r->present |= FR_OUT_DST_MAC | FR_IN_SRC_MAC;
	type = get_u16(p + 12);
	for (int i = 0; i < 2 && (type == 0x8100 || type == 0x88a8) && n - off >= 4; i++)
	{
		if (i == 0)
		{
			r->src_vlan = get_u16(p + off) & 0xfff;
			r->present |= FR_SRC_VLAN;
		}
		type = get_u16(p + off + 2);
		off += 4;
	}
	if (type == 0x0800)
		return sampled_ipv4(r, p + off, n - off);
	if (type == 0x86dd)
		return sampled_ipv6(r, p + off, n - off);
	return false;
}

/* Flow record 1: the sampled packet's first bytes. */
static bool
raw_header(Cursor *cu, FlowRec *r)
{
	uint32_t	proto = cur_u32(cu);
	uint32_t	frame_len = cur_u32(cu);
	const uint8_t *h;
	uint32_t	hlen;

	cur_u32(cu);				/* stripped */
	hlen = cur_u32(cu);
	h = cur_bytes(cu, hlen);
	if (!h)
		return false;
	r->bytes = frame_len;
	switch (proto)
	{
		case 1:
			return sampled_ethernet(r, h, hlen);
		case 11:
			return sampled_ipv4(r, h, hlen);
		case 12:
			return sampled_ipv6(r, h, hlen);
	}
	return false;
}

/* Flow records 3 and 4: the agent decoded the packet itself. */
static bool
ip_data(Cursor *cu, FlowRec *r, bool v6)
{
	size_t		alen = v6 ? 16 : 4;
	const uint8_t *src,
			   *dst;
	uint32_t	len = cur_u32(cu);

	r->proto = (uint8_t) cur_u32(cu);
	src = cur_bytes(cu, alen);
	dst = cur_bytes(cu, alen);
	r->src_port = (uint16_t) cur_u32(cu);
	r->dst_port = (uint16_t) cur_u32(cu);
	r->tcp_flags = (uint8_t) cur_u32(cu);
	r->src_tos = (uint8_t) cur_u32(cu);
	if (cu->bad)
		return false;
	if (r->bytes == 0)
		r->bytes = len;
	r->src_addr.family = r->dst_addr.family = v6 ? 6 : 4;
	memcpy(r->src_addr.addr, src, alen);
	memcpy(r->dst_addr.addr, dst, alen);
	if (r->proto == 1 || r->proto == 58)
	{
		/* agents put the ICMP type in src_port and the code in dst_port */
		r->dst_port = (uint16_t) (r->src_port << 8 | (r->dst_port & 0xff));
		r->src_port = 0;
	}
	return true;
}

static void
ext_gateway(Cursor *cu, FlowRec *r)
{
	uint32_t	nseg;

	cur_addr(cu, &r->bgp_next_hop);
	cur_u32(cu);				/* the router's own AS */
	r->src_as = cur_u32(cu);
	cur_u32(cu);				/* src peer AS */
	r->present |= FR_SRC_AS;
	nseg = cur_u32(cu);
	for (uint32_t i = 0; i < nseg && i < SFLOW_MAX_ASPATH_SEGS && !cu->bad; i++)
	{
		uint32_t	n;

		cur_u32(cu);			/* segment type */
		n = cur_u32(cu);
		if (n > cu->left / 4)
		{
			cu->bad = true;
			break;
		}
		for (uint32_t j = 0; j < n; j++)
		{
			r->dst_as = cur_u32(cu);	/* the last AS of the path */
			r->present |= FR_DST_AS;
		}
	}
}

/* One flow record inside a flow sample; false when it is malformed. */
static bool
flow_record(Cursor *cu, FlowRec *r, bool *have_packet)
{
	uint32_t	fmt = cur_u32(cu);
	uint32_t	len = cur_u32(cu);
	const uint8_t *body = cur_bytes(cu, len);
	Cursor		rc = {body, len, false};

	if (!body || cu->bad)
		return false;
	if (fmt >> 12)
		return true;			/* enterprise formats: skipped */
	switch (fmt)
	{
		case 1:
			if (raw_header(&rc, r))
				*have_packet = true;
			break;
		case 2:
			cur_u32(&rc);
			{
				const uint8_t *src = cur_bytes(&rc, 6);
				const uint8_t *dst = cur_bytes(&rc, 6);

				if (src && dst)
				{
					memcpy(r->in_src_mac, src, 6);
					memcpy(r->out_dst_mac, dst, 6);
					r->present |= FR_IN_SRC_MAC | FR_OUT_DST_MAC;
				}
			}
			break;
		case 3:
		case 4:
			if (!*have_packet && ip_data(&rc, r, fmt == 4))
				*have_packet = true;
			break;
		case 1001:
			r->src_vlan = (uint16_t) (cur_u32(&rc) & 0xfff);
			cur_u32(&rc);
			r->dst_vlan = (uint16_t) (cur_u32(&rc) & 0xfff);
			if (!rc.bad)
				r->present |= FR_SRC_VLAN | FR_DST_VLAN;
			break;
		case 1002:
			cur_addr(&rc, &r->next_hop);
			r->src_mask = (uint8_t) cur_u32(&rc);
			r->dst_mask = (uint8_t) cur_u32(&rc);
			if (!rc.bad)
				r->present |= FR_SRC_MASK | FR_DST_MASK;
			break;
		case 1003:
			ext_gateway(&rc, r);
			break;
	}
	return true;
}

static bool
flow_sample(DecodeCtx *c, Cursor *cu, bool expanded, int64_t received_ms)
{
	FlowRec		r;
	uint32_t	rate,
				nrec;
	bool		have_packet = false;

	memset(&r, 0, sizeof(r));
	cur_u32(cu);				/* sample sequence */
	cur_u32(cu);				/* source id (type, index) */
	if (expanded)
		cur_u32(cu);
	rate = cur_u32(cu);
	cur_u32(cu);				/* sample pool */
	cur_u32(cu);				/* drops */
	if (expanded)
	{
		cur_u32(cu);
		r.in_if = cur_u32(cu);
		cur_u32(cu);
		r.out_if = cur_u32(cu);
	}
	else
	{
		r.in_if = cur_u32(cu) & 0x3fffffff;
		r.out_if = cur_u32(cu) & 0x3fffffff;
	}
	r.present |= FR_IN_IF | FR_OUT_IF;
	nrec = cur_u32(cu);
	for (uint32_t i = 0; i < nrec && !cu->bad; i++)
		if (!flow_record(cu, &r, &have_packet))
			return false;
	if (cu->bad)
		return false;
	if (!have_packet)
		return true;			/* nothing we can store (e.g. MPLS-only) */
	r.packets = 1;
	r.flows = 1;
	r.first_ms = r.last_ms = r.received_ms = received_ms;
	if (rate > 0)
	{
		r.sampling = rate;
		r.present |= FR_SAMPLING;
	}
	decode_emit(c, &r);
	return true;
}

DecodeResult
decode_sflow(DecodeCtx *c, const uint8_t *buf, size_t len, int64_t received_ms)
{
	Cursor		cu = {buf + 4, len - 4, false};
	NfAddr		agent;
	uint32_t	sub_agent,
				seq,
				nsamples;
	Exporter   *e;

	cur_addr(&cu, &agent);
	sub_agent = cur_u32(&cu);
	seq = cur_u32(&cu);
	cur_u32(&cu);				/* uptime */
	nsamples = cur_u32(&cu);
	if (cu.bad)
	{
		decode_drop(c, DROP_SHORT_HEADER);
		return DECODE_TRUNCATED;
	}
	e = exporter_lookup(c, sub_agent, received_ms);
	if (!e)
		return DECODE_MALFORMED;
	if (e->seq_valid && seq != e->seq_next)
		e->stats.sequence_failures++;
	e->seq_valid = true;
	e->seq_next = seq + 1;

	for (uint32_t i = 0; i < nsamples; i++)
	{
		uint32_t	fmt = cur_u32(&cu);
		uint32_t	slen = cur_u32(&cu);
		const uint8_t *body = cur_bytes(&cu, slen);
		Cursor		sc = {body, slen, false};
		bool		ok = true;

		if (!body || cu.bad)
		{
			decode_drop(c, DROP_TRUNCATED);
			return DECODE_TRUNCATED;
		}
		if (fmt == SFLOW_FLOW_SAMPLE || fmt == SFLOW_FLOW_SAMPLE_EXP)
			ok = flow_sample(c, &sc, fmt == SFLOW_FLOW_SAMPLE_EXP, received_ms);
		else if (fmt == SFLOW_COUNTER_SAMPLE || fmt == SFLOW_COUNTER_SAMPLE_EXP)
			e->stats.counter_samples++;
		if (!ok)
		{
			decode_drop(c, DROP_BAD_SAMPLE);
			return DECODE_MALFORMED;
		}
	}
	return DECODE_OK;
}
