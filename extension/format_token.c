/*-------------------------------------------------------------------------
 *
 * format_token.c
 *		Render one nfdump output token, and the csv and pipe layouts, the
 *		way nfdump 1.7.1 prints them (widths, number scaling, IPv6
 *		condensing, ICMP type.code, flag letters).
 *
 * Every width below was checked against nfdump 1.7.1's output on the same
 * records (test/integration/stat_nfdump_diff.sh keeps checking it).
 * Fields nfpg.flows does not store (latency, NSEL/NEL, payload, geo, VRF,
 * labels) print what nfdump prints for a record without them.  Times are
 * printed in the session's TimeZone, as nfdump prints local time.
 * fmt_columns() says which columns a format reads, so that the planner can
 * ask a scan for those only (format_support.c); it sits beside the
 * renderer it describes.
 *
 *-------------------------------------------------------------------------
 */
#include "format.h"
#include "addr_text.h"
#include "protocols.h"

#include "port/pg_bswap.h"
#include "utils/builtins.h"

#define EPOCH_MS_2000	INT64CONST(946684800000)

/* The protocol's name, or its number; returns the length. */
int
fmt_proto_name(int64 proto, char *buf, size_t len)
{
	const char *name = proto >= 0 && proto <= 255 ? proto_short_name(proto) : NULL;
	int			n;

	if (name)
		n = strlcpy(buf, name, len);
	else
		n = snprintf(buf, len, "%lld", (long long) proto);
	return Min(n, (int) len - 1);
}

static bool
is_icmp(const FlowRec *r)
{
	return r->proto == 1 || r->proto == 58;
}

static int64
epoch_ms(TimestampTz ts)
{
	return ts / 1000 + EPOCH_MS_2000;
}

/* A counter in a fixed-width column. */
static void
put_number(StringInfo out, int64 v, int width, bool plain)
{
	char		buf[32];

	fmt_done(out, fmt_text_at(fmt_room(out), buf, fmt_number(buf, sizeof(buf), v, plain, true), width));
}

/* An address, IPv6 condensed to first7..last7 unless long_v6 (at most 45 bytes). */
static char *
addr_at(char *p, const FlowAddr *a, bool long_v6)
{
	char		buf[ADDR_TEXT_MAX];
	int			n = fmt_addr_text(a, buf);

	if (long_v6)
		return fmt_text_at(p, buf, n, 39);
	if (n > 16)
	{
		memcpy(p, buf, 7);
		p[7] = p[8] = '.';
		memcpy(p + 9, buf + n - 7, 7);
		return p + 16;
	}
	return fmt_text_at(p, buf, n, 16);
}

static void
put_addr(StringInfo out, const FlowAddr *a, bool long_v6)
{
	fmt_done(out, addr_at(fmt_room(out), a, long_v6));
}

static void
masked(const FlowAddr *a, int64 bits, FlowAddr *m)
{
	int			keep = (int) bits;

	*m = *a;
	for (int i = 0; i < (a->family == 4 ? 4 : 16); i++)
	{
		int			b = keep - i * 8;

		if (b <= 0)
			m->bytes[i] = 0;
		else if (b < 8)
			m->bytes[i] &= (uint8) (0xFF << (8 - b));
	}
}

/*
 * "addr:port" (IPv4) or "addr.port" (IPv6); port (n bytes, at most
 * 2 * MAXINT8LEN + 1) left-aligned in 5.
 */
static void
put_addr_port(StringInfo out, const FlowAddr *a, const char *port, int n, bool long_v6)
{
	char	   *p = addr_at(fmt_room(out), a, long_v6);

	*p++ = a->family == 4 ? ':' : '.';
	fmt_done(out, p);
	fmt_done(out, fmt_text_at(fmt_room(out), port, n, -5));
}

/* The port as nfdump prints it (ICMP: type.code); returns the length. */
static int
port_text(const FlowRec *r, bool dst, char *buf, size_t len)
{
	Assert(len >= 2 * MAXINT8LEN + 2);
	if (dst && is_icmp(r))
	{
		int			n = pg_lltoa(r->dst_port >> 8, buf);

		buf[n++] = '.';
		return n + pg_lltoa(r->dst_port & 0xFF, buf + n);
	}
	return pg_lltoa(dst ? r->dst_port : r->src_port, buf);
}

void
fmt_flags_text(int64 flags, char *buf)
{
	static const char letters[] = "CEUAPRSF";

	for (int i = 0; i < 8; i++)
		buf[i] = (flags & (0x80 >> i)) ? letters[i] : '.';
	buf[8] = '\0';
}

static void
put_mac(StringInfo out, const uint8 *m)
{
	appendStringInfo(out, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static void
put_mpls(StringInfo out, int64 e)
{
	appendStringInfo(out, "%8lld-%1lld-%1lld", (long long) (e >> 4),
					 (long long) ((e >> 1) & 7), (long long) (e & 1));
}

/* in-counter rates over the record's duration, 0 for a zero duration */
static void
rates(const FlowRec *r, int64 *pps, int64 *bps, int64 *bpp)
{
	double		duration = ((r->last - r->first) / 1000) / 1000.0;

	*pps = duration > 0 ? (int64) (r->pkts / duration) : 0;
	*bps = duration > 0 ? (int64) (8.0 * r->bytes / duration) : 0;
	*bpp = r->pkts ? r->bytes / r->pkts : 0;
}

static void
put_epoch(StringInfo out, TimestampTz ts, bool buggy_fraction)
{
	int64		ms = epoch_ms(ts);

	/* 1.7.1's %ter prints the milliseconds modulo 100 (reference 10.1 #13) */
	appendStringInfo(out, "%lld.%03lld", (long long) (ms / 1000),
					 (long long) (buggy_fraction ? ms % 100 : ms % 1000));
}

void
fmt_render_token(StringInfo out, const FmtItem *item, const FlowRec *r, bool long_v6,
				 bool plain)
{
	char		buf[64];
	int			n;
	int64		pps,
				bps,
				bpp;
	static const FlowAddr zero = {4, {0}};

	switch (item->token)
	{
		case FT_TEXT:
			if (item->arg <= FMT_FIELD_MAX)
			{
				char	   *p = fmt_room(out);

				memcpy(p, item->text, item->arg);
				fmt_done(out, p + item->arg);
			}
			else
				appendBinaryStringInfo(out, item->text, item->arg);
			break;
		case FT_TS:
			fmt_put_time(out, r->first, true);
			break;
		case FT_TE:
			fmt_put_time(out, r->last, true);
			break;
		case FT_TR:
			fmt_put_time(out, r->received, true);
			break;
		case FT_TSR:
			put_epoch(out, r->first, false);
			break;
		case FT_TER:
			put_epoch(out, r->last, true);
			break;
		case FT_TRR:
			put_epoch(out, r->received, false);
			break;
		case FT_TD:
			if (plain)
				fmt_put_seconds(out, (r->last - r->first) / 1000);
			else
				fmt_put_duration(out, r);
			break;
		case FT_TDS:
			fmt_put_seconds(out, (r->last - r->first) / 1000);
			break;
		case FT_PR:
			n = plain ? pg_lltoa(r->proto, buf) : fmt_proto_name(r->proto, buf, sizeof(buf));
			fmt_done(out, fmt_text_at(fmt_room(out), buf, n, -5));
			break;
		case FT_SA:
			put_addr(out, &r->src, long_v6);
			break;
		case FT_DA:
			put_addr(out, &r->dst, long_v6);
			break;
		case FT_SAP:
			n = port_text(r, false, buf, sizeof(buf));
			put_addr_port(out, &r->src, buf, n, long_v6);
			break;
		case FT_DAP:
			n = port_text(r, true, buf, sizeof(buf));
			put_addr_port(out, &r->dst, buf, n, long_v6);
			break;
		case FT_SN:
		case FT_DN:
			{
				bool		src = item->token == FT_SN;
				int64		bits = src ? r->src_mask : r->dst_mask;
				FlowAddr	m;

				/* a zero mask (absent) leaves the address as it is */
				if (bits > 0)
					masked(src ? &r->src : &r->dst, bits, &m);
				else
					m = src ? r->src : r->dst;
				put_addr(out, &m, long_v6);
				appendStringInfoChar(out, '/');
				fmt_put_int(out, bits, -2);
				break;
			}
		case FT_GSA:
		case FT_GDA:
			/* no geo database: nfdump prints "(..)" for the country */
			put_addr(out, item->token == FT_GSA ? &r->src : &r->dst, long_v6);
			appendStringInfoString(out, "(..)");
			break;
		case FT_GSAP:
		case FT_GDAP:
			{
				bool		src = item->token == FT_GSAP;
				const FlowAddr *a = src ? &r->src : &r->dst;

				put_addr(out, a, long_v6);
				(void) port_text(r, !src, buf, sizeof(buf));
				appendStringInfo(out, "(..)%c%-5s", a->family == 4 ? ':' : '.', buf);
				break;
			}
		case FT_SP:
		case FT_DP:
			n = port_text(r, item->token == FT_DP, buf, sizeof(buf));
			fmt_put_text(out, buf, n, 6);
			break;
		case FT_IT:
			fmt_put_int(out, (is_icmp(r) ? r->dst_port >> 8 : 0), 6);
			break;
		case FT_IC:
			fmt_put_int(out, (is_icmp(r) ? r->dst_port & 0xFF : 0), 6);
			break;
		case FT_NH:
			put_addr(out, &r->next_hop, long_v6);
			break;
		case FT_NHB:
			put_addr(out, &r->bgp_next_hop, long_v6);
			break;
		case FT_RA:
			put_addr(out, &r->exporter, long_v6);
			break;
		case FT_SAS:
			fmt_put_int(out, r->src_as, 6);
			break;
		case FT_DAS:
			fmt_put_int(out, r->dst_as, 6);
			break;
		case FT_NAS:
			fmt_put_int(out, r->next_as, 7);
			break;
		case FT_PAS:
			fmt_put_int(out, r->prev_as, 7);
			break;
		case FT_IN:
			fmt_put_int(out, r->in_if, 6);
			break;
		case FT_OUT:
			fmt_put_int(out, r->out_if, 6);
			break;
		case FT_PKT:
		case FT_IPKT:
			put_number(out, r->pkts, 8, plain);
			break;
		case FT_OPKT:
			put_number(out, r->opkts, 8, plain);
			break;
		case FT_BYT:
		case FT_IBYT:
			put_number(out, r->bytes, 8, plain);
			break;
		case FT_OBYT:
			put_number(out, r->obytes, 8, plain);
			break;
		case FT_FL:
			fmt_put_int(out, r->flows, 5);
			break;
		case FT_FLG:
			fmt_flags_text(r->proto == 6 ? r->tcp_flags : 0, buf);
			appendStringInfoString(out, buf);
			break;
		case FT_TOS:
			fmt_put_int(out, r->src_tos, 3);
			break;
		case FT_STOS:
			fmt_put_int(out, r->src_tos, 4);
			break;
		case FT_DTOS:
			fmt_put_int(out, r->dst_tos, 4);
			break;
		case FT_DIR:
			appendStringInfo(out, "%3c", r->direction ? 'E' : 'I');
			break;
		case FT_SMK:
			fmt_put_int(out, r->src_mask, 5);
			break;
		case FT_DMK:
			fmt_put_int(out, r->dst_mask, 5);
			break;
		case FT_FWD:
			fmt_put_int(out, r->fwd_status, 3);
			break;
		case FT_BFD:
		case FT_END:
			appendStringInfo(out, "%3d", 0);
			break;
		case FT_SVLN:
			fmt_put_int(out, r->src_vlan, 5);
			break;
		case FT_DVLN:
			fmt_put_int(out, r->dst_vlan, 5);
			break;
		case FT_ISMC:
		case FT_ODMC:
		case FT_IDMC:
		case FT_OSMC:
			put_mac(out, r->mac[item->token - FT_ISMC]);
			break;
		case FT_MPLS1:
			put_mpls(out, r->mpls[item->arg]);
			break;
		case FT_MPLS:
			for (int i = 0; i < 10; i++)
			{
				put_mpls(out, r->mpls[i]);
				appendStringInfoChar(out, ' ');
			}
			break;
		case FT_BPS:
		case FT_PPS:
		case FT_BPP:
			rates(r, &pps, &bps, &bpp);
			if (item->token == FT_BPP)
				fmt_put_int(out, bpp, 6);
			else
				put_number(out, item->token == FT_BPS ? bps : pps, 8, plain);
			break;
		case FT_ENG:
			appendStringInfo(out, "%3lld/%-3lld", (long long) r->engine_type,
							 (long long) r->engine_id);
			break;
		case FT_EXP:
			fmt_put_int(out, r->source_id, 6);
			break;
		case FT_NFV:
			appendStringInfo(out, "Nv%lld", (long long) r->export_version);
			break;
		case FT_CNT:
			appendStringInfo(out, "%5d", 0);
			break;
		case FT_LBL:
			appendStringInfo(out, "%16s", "<none>");
			break;
		case FT_SC:
		case FT_DC:
			appendStringInfoString(out, "..");
			break;
		case FT_CL:
		case FT_SL:
		case FT_AL:
			appendStringInfo(out, "%9.3f", 0.0);
			break;
		case FT_IPL:
		case FT_OPL:
		case FT_NL:
			appendStringInfoChar(out, '\n');
			break;
		case FT_NBID:
			appendStringInfoString(out, " 0..0");
			break;
		case FT_NBNAM:
			appendStringInfoString(out, "<no info>");
			break;
		case FT_JA3:
			appendStringInfo(out, "%32s", "");
			break;
		case FT_SNI:
			appendStringInfo(out, "%6s", "");
			break;
		case FT_ODID:
			appendStringInfo(out, "0x%09x", 0);
			break;
		case FT_OPID:
			appendStringInfo(out, "0x%010x", 0);
			break;
		case FT_VRF:
		case FT_IVRF:
		case FT_EVRF:
		case FT_NFC:
			appendStringInfo(out, "%10d", 0);
			break;
		case FT_TEVT:
			fmt_put_time(out, -EPOCH_MS_2000 * 1000, true);
			break;
		case FT_EVT:
		case FT_NEVT:
			appendStringInfoString(out, "INVALID");
			break;
		case FT_XEVT:
			appendStringInfoString(out, " Ignore");
			break;
		case FT_SGT:
			appendStringInfo(out, "%5d", 0);
			break;
		case FT_MSEC:
			appendStringInfo(out, "%13d", 0);
			break;
		case FT_IACL:
			appendStringInfo(out, "0x%-8x 0x%-8x 0x%-8x", 0, 0, 0);
			break;
		case FT_EACL:
			appendStringInfo(out, "%10d %10d %10d", 0, 0, 0);
			break;
		case FT_XSA:
		case FT_XDA:
			put_addr(out, &zero, long_v6);
			break;
		case FT_XSP:
		case FT_XDP:
			appendStringInfo(out, "%6d", 0);
			break;
		case FT_XSAP:
		case FT_XDAP:
			put_addr_port(out, &zero, "0", 1, long_v6);
			break;
		case FT_UNAME:
			appendStringInfoString(out, "<empty>");
			break;
		case FT_PBSTART:
		case FT_PBEND:
		case FT_PBSTEP:
		case FT_PBSIZE:
			appendStringInfo(out, "%7d", 0);
			break;
		case FT_INAM:
		case FT_ONAM:
		case FT_SLOC:
		case FT_DLOC:
		case FT_IVRFNAM:
		case FT_EVRFNAM:
			break;
	}
}

#define B(c)	FLOW_COL_BIT(FLOW_COL_##c)

/*
 * The columns fmt_render_token reads for a token: what nf_format's planner
 * support (format_support.c) lets a scan decode.  It must follow every
 * field the switch above reads, including the ones a field is printed
 * with (a port with the protocol, for ICMP; rates with the duration);
 * sql/format_output.sql renders every token from whole rows and from rows
 * holding only these columns, and compares.
 */
static uint64
token_columns(const FmtItem *item)
{
	const uint64 port_proto = B(PROTO) | B(SRC_PORT) | B(DST_PORT);

	switch (item->token)
	{
		case FT_TS:
		case FT_TSR:
			return B(FIRST);
		case FT_TE:
		case FT_TER:
			return B(LAST);
		case FT_TR:
		case FT_TRR:
			return B(RECEIVED);
		case FT_TD:
		case FT_TDS:
			return B(FIRST) | B(LAST);
		case FT_PR:
			return B(PROTO);
		case FT_SA:
		case FT_GSA:
			return B(SRC);
		case FT_DA:
		case FT_GDA:
			return B(DST);
		case FT_SAP:
		case FT_GSAP:
			return B(SRC) | port_proto;
		case FT_DAP:
		case FT_GDAP:
			return B(DST) | port_proto;
		case FT_SN:
			return B(SRC) | B(SRC_MASK);
		case FT_DN:
			return B(DST) | B(DST_MASK);
		case FT_SP:
		case FT_DP:
		case FT_IT:
		case FT_IC:
			return port_proto;
		case FT_NH:
			return B(NEXT_HOP);
		case FT_NHB:
			return B(BGP_NEXT_HOP);
		case FT_RA:
			return B(EXPORTER);
		case FT_SAS:
			return B(SRC_AS);
		case FT_DAS:
			return B(DST_AS);
		case FT_NAS:
			return B(NEXT_AS);
		case FT_PAS:
			return B(PREV_AS);
		case FT_IN:
			return B(IN_IF);
		case FT_OUT:
			return B(OUT_IF);
		case FT_PKT:
		case FT_IPKT:
			return B(PKTS);
		case FT_OPKT:
			return B(OPKTS);
		case FT_BYT:
		case FT_IBYT:
			return B(BYTES);
		case FT_OBYT:
			return B(OBYTES);
		case FT_FL:
			return B(FLOWS);
		case FT_FLG:
			return B(PROTO) | B(FLAGS);
		case FT_TOS:
		case FT_STOS:
			return B(SRC_TOS);
		case FT_DTOS:
			return B(DST_TOS);
		case FT_DIR:
			return B(DIRECTION);
		case FT_SMK:
			return B(SRC_MASK);
		case FT_DMK:
			return B(DST_MASK);
		case FT_FWD:
			return B(FWD);
		case FT_SVLN:
			return B(SRC_VLAN);
		case FT_DVLN:
			return B(DST_VLAN);
		case FT_ISMC:
		case FT_ODMC:
		case FT_IDMC:
		case FT_OSMC:
			return FLOW_COL_BIT(FLOW_COL_MAC0 + (item->token - FT_ISMC));
		case FT_MPLS1:
		case FT_MPLS:
			return B(MPLS);
		case FT_BPS:
		case FT_PPS:
		case FT_BPP:
			return B(FIRST) | B(LAST) | B(PKTS) | B(BYTES);
		case FT_ENG:
			return B(ENGINE_TYPE) | B(ENGINE_ID);
		case FT_EXP:
			return B(SOURCE_ID);
		case FT_NFV:
			return B(VERSION);
		default:
			return 0;			/* literal text, or a field nfpg.flows never has */
	}
}

uint64
fmt_columns(const FmtSpec *spec)
{
	uint64		cols = 0;

	if (spec->kind != FMT_TOKENS)
		return FLOW_COL_BIT(FLOW_NCOLS) - 1;	/* csv, pipe, json: every field */
	for (int i = 0; i < spec->nitems; i++)
		cols |= token_columns(&spec->items[i]);
	return cols;
}

#undef B

/* -o csv of 1.7.1: one line per record, no milliseconds in ts/te. */
void
fmt_render_csv(StringInfo out, const FlowRec *r)
{
	char		sa[ADDR_TEXT_MAX],
				da[ADDR_TEXT_MAX],
				nh[ADDR_TEXT_MAX],
				nhb[ADDR_TEXT_MAX],
				ra[ADDR_TEXT_MAX];
	char		pr[16],
				flg[9];

	fmt_addr_text(&r->src, sa);
	fmt_addr_text(&r->dst, da);
	fmt_addr_text(&r->next_hop, nh);
	fmt_addr_text(&r->bgp_next_hop, nhb);
	fmt_addr_text(&r->exporter, ra);
	fmt_proto_name(r->proto, pr, sizeof(pr));
	fmt_flags_text(r->tcp_flags, flg);

	fmt_put_time(out, r->first, false);
	appendStringInfoChar(out, ',');
	fmt_put_time(out, r->last, false);
	appendStringInfo(out, ",%.3f,%s,%s,%lld,%lld,%s,%s,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,"
					 "%lld,%lld,%lld,%lld,%lld,%lld,%s,%s,%lld,%lld,",
					 ((r->last - r->first) / 1000) / 1000.0, sa, da,
					 (long long) r->src_port, (long long) r->dst_port, pr, flg,
					 (long long) r->fwd_status, (long long) r->src_tos,
					 (long long) r->pkts, (long long) r->bytes, (long long) r->opkts,
					 (long long) r->obytes, (long long) r->in_if, (long long) r->out_if,
					 (long long) r->src_as, (long long) r->dst_as, (long long) r->src_mask,
					 (long long) r->dst_mask, (long long) r->dst_tos,
					 (long long) r->direction, nh, nhb,
					 (long long) r->src_vlan, (long long) r->dst_vlan);
	for (int i = 0; i < 4; i++)
	{
		put_mac(out, r->mac[i]);
		appendStringInfoChar(out, ',');
	}
	for (int i = 0; i < 10; i++)
		appendStringInfo(out, "%lld-%lld-%lld,", (long long) (r->mpls[i] >> 4),
						 (long long) ((r->mpls[i] >> 1) & 7), (long long) (r->mpls[i] & 1));
	appendStringInfo(out, "%9.3f,%9.3f,%9.3f,%s,%lld/%lld,%lld,", 0.0, 0.0, 0.0, ra,
					 (long long) r->engine_type, (long long) r->engine_id,
					 (long long) r->source_id);
	fmt_put_time(out, r->received, true);
}

static void
put_words(StringInfo out, const FlowAddr *a)
{
	uint32		w[4] = {0};

	if (a->family == 4)
		w[3] = pg_ntoh32(*(const uint32 *) a->bytes);
	else
		for (int i = 0; i < 4; i++)
			w[i] = pg_ntoh32(*(const uint32 *) (a->bytes + 4 * i));
	appendStringInfo(out, "%u|%u|%u|%u|", w[0], w[1], w[2], w[3]);
}

/* -o pipe: af|first|last|proto|src words|sport|dst words|dport|as|if|flags|tos|pkts|bytes */
void
fmt_render_pipe(StringInfo out, const FlowRec *r)
{
	appendStringInfo(out, "%d|%lld|%lld|%lld|", r->src.family == 4 ? 2 : 10,
					 (long long) epoch_ms(r->first), (long long) epoch_ms(r->last),
					 (long long) r->proto);
	put_words(out, &r->src);
	appendStringInfo(out, "%lld|", (long long) r->src_port);
	put_words(out, &r->dst);
	appendStringInfo(out, "%lld|%lld|%lld|%lld|%lld|%lld|%lld|%lld|%lld",
					 (long long) r->dst_port, (long long) r->src_as, (long long) r->dst_as,
					 (long long) r->in_if, (long long) r->out_if, (long long) r->tcp_flags,
					 (long long) r->src_tos, (long long) r->pkts, (long long) r->bytes);
}
