/*-------------------------------------------------------------------------
 *
 * elements.c
 *		Data records of NetFlow v9 and IPFIX, decoded with their template.
 *
 * Each field of a record is applied to an ElemState (the FlowRec being
 * filled plus what is only known once the whole record has been read: the
 * time stamps in their various encodings, ICMP type/code, the sampler).
 * Then a flow record is finished and emitted, or, for options templates,
 * the exporter's samplers and systemInitTimeMilliseconds are updated.
 *
 * The element map follows nfcapd 1.7.1 (docs/loader-fields.md) with what
 * users mean where 1.7.1 loses it: ICMP type/code from #11 or #139 when #32
 * is absent, flowStart/EndSeconds, micro/nanosecond stamps, #21/#22 with
 * systemInitTimeMilliseconds in the right order, the Cisco sampler layouts.
 * Enterprise elements are skipped by length, except the IPFIX reverse PEN
 * 29305 counters, which become out counters.  Unknown elements are skipped.
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "templates.h"
#include "wire.h"

#define PEN_REVERSE		29305
#define NTP_UNIX_OFFSET	2208988800LL	/* seconds from 1900 to 1970 */
#define MAX_MS			253402300799999LL	/* 9999-12-31: keeps sums in range */

typedef struct ElemState
{
	FlowRec		r;
	const TimeBase *tb;
	bool		has_first,
				has_last;		/* absolute stamps, Unix ms */
	int64_t		first,
				last;
	bool		has_first_up,
				has_last_up;	/* sysUptime-relative stamps (#22, #21) */
	uint32_t	first_up,
				last_up;
	bool		has_dur;
	int64_t		dur_ms;
	bool		has_init;
	int64_t		init_ms;
	bool		has_icmp,
				has_icmp_tc;
	uint16_t	icmp;
	uint8_t		icmp_type,
				icmp_code;
	bool		has_bytes,
				has_packets,
				has_engine;
	bool		has_sampler_id;
	uint32_t	sampler_id;
	uint32_t	interval;		/* #34 / #50 */
	uint32_t	pkt_interval,	/* #305 */
				pkt_space;		/* #306 */
} ElemState;

static void
set_addr(NfAddr *a, const uint8_t *v, size_t n)
{
	if (n == 4 || n == 16)
	{
		a->family = n == 4 ? 4 : 6;
		memcpy(a->addr, v, n);
	}
}

static void
set_mac(FlowRec *r, uint8_t *mac, uint32_t bit, const uint8_t *v, size_t n)
{
	if (n == 6)
	{
		memcpy(mac, v, 6);
		r->present |= bit;
	}
}

/* An NTP-format stamp (RFC 7011 dateTimeMicro/Nanoseconds) in Unix ms. */
static int64_t
ntp_ms(uint64_t v)
{
	return ((int64_t) (v >> 32) - NTP_UNIX_OFFSET) * 1000 +
		(int64_t) (((v & 0xffffffffu) * 1000) >> 32);
}

static void
apply_reverse(ElemState *s, uint16_t type, uint64_t u)
{
	switch (type)
	{
		case 1:
		case 23:
		case 85:
			s->r.out_bytes = u;
			s->r.present |= FR_OUT_BYTES;
			break;
		case 2:
		case 24:
		case 86:
			s->r.out_packets = u;
			s->r.present |= FR_OUT_PACKETS;
			break;
	}
}

/* Counters, addresses, ports: the fields every flow template has. */
static bool
apply_basic(ElemState *s, uint16_t type, const uint8_t *v, size_t n, uint64_t u)
{
	FlowRec    *r = &s->r;

	switch (type)
	{
		case 1:
			r->bytes = u;
			s->has_bytes = true;
			break;
		case 85:				/* octetTotalCount; 231 NSEL forward bytes */
		case 231:
			if (!s->has_bytes)
				r->bytes = u;
			break;
		case 2:
			r->packets = u;
			s->has_packets = true;
			break;
		case 86:				/* packetTotalCount; 298 initiatorPackets */
		case 298:
			if (!s->has_packets)
				r->packets = u;
			break;
		case 3:
			if (u > 0)
				r->flows = u > UINT32_MAX ? UINT32_MAX : (uint32_t) u;
			break;
		case 4:
			r->proto = (uint8_t) u;
			break;
		case 5:
			r->src_tos = (uint8_t) u;
			break;
		case 6:
			r->tcp_flags = (uint8_t) u;
			break;
		case 7:
			r->src_port = (uint16_t) u;
			break;
		case 11:
			r->dst_port = (uint16_t) u;
			break;
		case 8:
		case 27:
			set_addr(&r->src_addr, v, n);
			break;
		case 12:
		case 28:
			set_addr(&r->dst_addr, v, n);
			break;
		case 15:
		case 62:
			set_addr(&r->next_hop, v, n);
			break;
		case 18:
		case 63:
			set_addr(&r->bgp_next_hop, v, n);
			break;
		case 23:
		case 171:
		case 232:
			r->out_bytes = u;
			r->present |= FR_OUT_BYTES;
			break;
		case 24:
		case 172:
		case 299:
			r->out_packets = u;
			r->present |= FR_OUT_PACKETS;
			break;
		default:
			return false;
	}
	return true;
}

/* Routing, interfaces, layer 2, MPLS, engine, direction. */
static bool
apply_routing(ElemState *s, uint16_t type, const uint8_t *v, size_t n, uint64_t u)
{
	FlowRec    *r = &s->r;

	switch (type)
	{
		case 9:
		case 29:
			r->src_mask = (uint8_t) u;
			r->present |= FR_SRC_MASK;
			break;
		case 13:
		case 30:
			r->dst_mask = (uint8_t) u;
			r->present |= FR_DST_MASK;
			break;
		case 10:
			r->in_if = (uint32_t) u;
			r->present |= FR_IN_IF;
			break;
		case 14:
			r->out_if = (uint32_t) u;
			r->present |= FR_OUT_IF;
			break;
		case 16:
			r->src_as = (uint32_t) u;
			r->present |= FR_SRC_AS;
			break;
		case 17:
			r->dst_as = (uint32_t) u;
			r->present |= FR_DST_AS;
			break;
		case 128:
			r->next_as = (uint32_t) u;
			r->present |= FR_NEXT_AS;
			break;
		case 129:
			r->prev_as = (uint32_t) u;
			r->present |= FR_PREV_AS;
			break;
		case 55:
			r->dst_tos = (uint8_t) u;
			r->present |= FR_DST_TOS;
			break;
		case 56:
			set_mac(r, r->in_src_mac, FR_IN_SRC_MAC, v, n);
			break;
		case 57:
			set_mac(r, r->out_dst_mac, FR_OUT_DST_MAC, v, n);
			break;
		case 80:
			set_mac(r, r->in_dst_mac, FR_IN_DST_MAC, v, n);
			break;
		case 81:
			set_mac(r, r->out_src_mac, FR_OUT_SRC_MAC, v, n);
			break;
		case 58:
		case 243:
			r->src_vlan = (uint16_t) (u & 0xfff);
			r->present |= FR_SRC_VLAN;
			break;
		case 59:
		case 254:
			r->dst_vlan = (uint16_t) (u & 0xfff);
			r->present |= FR_DST_VLAN;
			break;
		case 61:
			r->direction = (uint8_t) u;
			r->present |= FR_DIRECTION;
			break;
		case 89:
			r->fwd_status = (uint8_t) u;
			r->present |= FR_FWD_STATUS;
			break;
		case 38:
			r->engine_type = (uint8_t) u;
			r->present |= FR_ENGINE;
			s->has_engine = true;
			break;
		case 39:
			r->engine_id = (uint8_t) u;
			r->present |= FR_ENGINE;
			s->has_engine = true;
			break;
		default:
			if (type >= 70 && type <= 79)
			{
				int			i = type - 70;

				r->mpls[i] = (uint32_t) (u & 0xffffff);
				if (r->n_mpls < i + 1)
					r->n_mpls = (uint8_t) (i + 1);
				break;
			}
			return false;
	}
	return true;
}

/* Time stamps, ICMP, sampling. */
static void
apply_meta(ElemState *s, uint16_t type, size_t n, uint64_t u)
{
	switch (type)
	{
		case 22:
			s->first_up = (uint32_t) u;
			s->has_first_up = true;
			break;
		case 21:
			s->last_up = (uint32_t) u;
			s->has_last_up = true;
			break;
		case 150:
		case 152:
		case 154:
		case 156:
		case 158:
		case 151:
		case 153:
		case 155:
		case 157:
		case 159:
			{
				int64_t		ms;

				if (type <= 151)
					ms = (int64_t) (u & 0xffffffffu) * 1000;
				else if (type <= 153)
					ms = u > MAX_MS ? MAX_MS : (int64_t) u;
				else if (type <= 157)
				{
					if (n != 8)
						return;
					ms = ntp_ms(u);
				}
				else
					ms = s->tb->export_ms - (int64_t) ((u & 0xffffffffu) / 1000);
				if (type % 2 == 0)
				{
					s->first = ms;
					s->has_first = true;
				}
				else
				{
					s->last = ms;
					s->has_last = true;
				}
				break;
			}
		case 160:
			s->init_ms = u > MAX_MS ? MAX_MS : (int64_t) u;
			s->has_init = true;
			break;
		case 161:
			s->dur_ms = (int64_t) (u & 0xffffffffu);
			s->has_dur = true;
			break;
		case 162:
			s->dur_ms = (int64_t) ((u & 0xffffffffu) / 1000);
			s->has_dur = true;
			break;
		case 32:
		case 139:
			s->icmp = (uint16_t) u;
			s->has_icmp = true;
			break;
		case 176:
		case 178:
			s->icmp_type = (uint8_t) u;
			s->has_icmp_tc = true;
			break;
		case 177:
		case 179:
			s->icmp_code = (uint8_t) u;
			s->has_icmp_tc = true;
			break;
		case 34:
		case 50:
			s->interval = (uint32_t) u;
			break;
		case 48:
		case 302:
			s->sampler_id = (uint32_t) u;
			s->has_sampler_id = true;
			break;
		case 305:
			s->pkt_interval = (uint32_t) u;
			break;
		case 306:
			s->pkt_space = (uint32_t) u;
			break;
	}
}

static void
elem_apply(ElemState *s, const TemplateField *f, const uint8_t *v, size_t n)
{
	uint64_t	u = get_uint(v, n);

	if (f->pen != 0)
	{
		if (f->pen == PEN_REVERSE)
			apply_reverse(s, f->type, u);
		return;
	}
	if (!apply_basic(s, f->type, v, n, u) && !apply_routing(s, f->type, v, n, u))
		apply_meta(s, f->type, n, u);
}

/*
 * Read one record; returns its length, or 0 when a variable-length field
 * runs past the end of the set.
 */
static size_t
record_decode(const Template *t, const uint8_t *p, size_t len, ElemState *s)
{
	size_t		off = 0;

	for (int i = 0; i < t->nfields; i++)
	{
		const TemplateField *f = &t->fields[i];
		size_t		flen = f->len;

		if (flen == TEMPLATE_VARLEN)
		{
			if (off >= len)
				return 0;
			flen = p[off++];
			if (flen == 255)
			{
				if (len - off < 2)
					return 0;
				flen = get_u16(p + off);
				off += 2;
			}
		}
		if (len - off < flen)
			return 0;
		/* v9 scope fields have their own type space (system, interface...) */
		if (t->ipfix || i >= t->nscope)
			elem_apply(s, f, p + off, flen);
		off += flen;
	}
	return off;
}

/* The relative stamps #22/#21 in Unix ms, if a time base is known. */
static void
relative_times(DecodeCtx *c, ElemState *s)
{
	uint32_t	fu = s->has_first_up ? s->first_up : s->last_up;
	uint32_t	lu = s->has_last_up ? s->last_up : s->first_up;
	int64_t		f,
				l;

	if (s->has_init || (!s->tb->has_uptime && c->exp->has_init_time))
	{
		int64_t		init = s->has_init ? s->init_ms : c->exp->init_time_ms;

		f = init + fu;
		l = init + lu;
	}
	else if (s->tb->has_uptime)
		netflow_uptime_times(s->tb->export_ms - s->tb->uptime_ms, s->tb->uptime_ms,
							 fu, lu, &f, &l);
	else
		return;					/* IPFIX without systemInitTime: unusable */
	if (!s->has_first && s->has_first_up)
	{
		s->first = f;
		s->has_first = true;
	}
	if (!s->has_last && s->has_last_up)
	{
		s->last = l;
		s->has_last = true;
	}
}

/*
 * First and last seen.  A missing end comes from the other end and the
 * duration (or equals it); without any stamp the export time is used
 * (nfcapd writes 1970 there).
 */
static void
finish_times(DecodeCtx *c, ElemState *s)
{
	if ((!s->has_first || !s->has_last) && (s->has_first_up || s->has_last_up))
		relative_times(c, s);
	if (s->has_first && !s->has_last)
		s->last = s->first + (s->has_dur ? s->dur_ms : 0);
	else if (!s->has_first && s->has_last)
		s->first = s->last - (s->has_dur ? s->dur_ms : 0);
	else if (!s->has_first && !s->has_last)
		s->first = s->last = s->tb->export_ms;
	s->r.first_ms = s->first;
	s->r.last_ms = s->last;
}

/* The interval of a sampler described by #34/#50 or #305/#306. */
static uint32_t
elem_interval(const ElemState *s)
{
	if (s->interval > 0)
		return s->interval;
	if (s->pkt_interval > 0)
		return (uint32_t) (((uint64_t) s->pkt_interval + s->pkt_space) / s->pkt_interval);
	return 0;
}

static void
finish_flow(DecodeCtx *c, ElemState *s)
{
	FlowRec    *r = &s->r;
	uint32_t	n;

	finish_times(c, s);
	if (r->proto == 1 || r->proto == 58)
	{
		if (s->has_icmp)
			r->dst_port = s->icmp;
		else if (s->has_icmp_tc)
			r->dst_port = (uint16_t) (s->icmp_type << 8 | s->icmp_code);
	}
	if (c->version == 9 && !s->has_engine)
	{
		r->engine_type = (uint8_t) (c->exp->stats.source_id >> 8);
		r->engine_id = (uint8_t) c->exp->stats.source_id;
		r->present |= FR_ENGINE;
	}
	n = elem_interval(s);
	if (n == 0)
		n = exporter_sampling_for(c->exp, s->has_sampler_id, s->sampler_id);
	if (n > 0)
	{
		r->sampling = n;
		r->present |= FR_SAMPLING;
	}
	r->received_ms = s->tb->received_ms;
	decode_emit(c, r);
}

static void
finish_options(DecodeCtx *c, ElemState *s)
{
	uint32_t	n = elem_interval(s);

	c->records++;				/* IPFIX sequence numbers count these too */
	if (s->has_init)
	{
		c->exp->has_init_time = true;
		c->exp->init_time_ms = s->init_ms;
	}
	if (n > 0)
		exporter_set_sampler(c->exp, s->has_sampler_id, s->sampler_id, n);
}

bool
data_set_decode(DecodeCtx *c, const Template *t, const uint8_t *p, size_t len,
				const TimeBase *tb)
{
	size_t		off = 0;

	while (len - off >= t->min_len)
	{
		ElemState	s;
		size_t		n;

		memset(&s, 0, sizeof(s));
		s.tb = tb;
		s.r.flows = 1;
		n = record_decode(t, p + off, len - off, &s);
		if (n == 0)
		{
			if (len - off < 4)
				break;			/* padding */
			decode_drop(c, DROP_BAD_RECORD);
			return false;
		}
		off += n;
		if (t->options)
			finish_options(c, &s);
		else
			finish_flow(c, &s);
	}
	return true;
}
