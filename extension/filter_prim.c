/*-------------------------------------------------------------------------
 *
 * filter_prim.c
 *		The primitives of a filter on the fields every flow has: addresses,
 *		ports, protocols, TCP flags, ICMP type and code, counters, AS
 *		numbers, interfaces, VLANs, MACs; and a term, that is a primitive
 *		after its qualifiers ("src", "dst", "src or dst", "in", "out",
 *		"prev", "next").
 *
 * Each primitive checks which qualifiers it takes (fp_allow), as nfdump's
 * grammar does: a qualifier a primitive does not take is an error naming
 * it, not a filter that means something else.  The rarer primitives are in
 * filter_prim_more.c.
 *
 *-------------------------------------------------------------------------
 */
#include "filter_parse_internal.h"
#include "protocols.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Protocol names accepted without "proto" ("tcp and dst port 587") */
static const struct
{
	const char *name;
	int			code;
}			bare_protos[] = {
	{"icmp", 1}, {"tcp", 6}, {"udp", 17}, {"gre", 47}, {"esp", 50}, {"ah", 51},
	{"icmp6", 58}, {"sctp", 132},
};

void
fp_allow(Parser *p, const Quals *q, int mask)
{
	bool		ok = true;

	if (q->dir == Q_EITHER || q->dir == Q_BOTH)
		ok = (mask & ALLOW_DIR) != 0;
	else if (q->dir != Q_NONE)
		ok = (mask & (ALLOW_DIR | ALLOW_DIR1)) != 0;
	if (q->io && !(mask & ALLOW_IO))
		ok = false;
	if (q->adj && !(mask & ALLOW_ADJ))
		ok = false;
	if (!ok)
		fp_fail(p, q->tok, "This token is not expected here!");
}

static NfNode *
prim_ip(Parser *p, Quals *q)
{
	NfAddr		a;

	fp_allow(p, q, ALLOW_DIR);
	if (fp_is_kw(p, fp_cur(p), "in"))
	{
		int			n;
		NfAddr	   *list;

		fp_advance(p);
		list = fp_parse_addr_list(p, &n, true);
		return fp_pair(p, q->dir, fp_addrlist_node(p, NFF_SRC_ADDR, list, n),
					fp_addrlist_node(p, NFF_DST_ADDR, list, n));
	}
	if (fp_is_reserved(p, fp_cur(p)))
		fp_syntax_error(p, fp_cur(p));
	fp_parse_host_addr(p, fp_cur(p), &a, "Error parsing IP address. (nfpg does not resolve hostnames)");
	fp_advance(p);
	return fp_pair(p, q->dir, fp_addr_node(p, NFF_SRC_ADDR, &a), fp_addr_node(p, NFF_DST_ADDR, &a));
}

static NfNode *
prim_net(Parser *p, Quals *q)
{
	NfAddr		a;

	fp_allow(p, q, ALLOW_DIR);
	fp_parse_net(p, &a);
	return fp_pair(p, q->dir, fp_addr_node(p, NFF_SRC_ADDR, &a), fp_addr_node(p, NFF_DST_ADDR, &a));
}

/* next ip / bgpnext ip / router ip: a literal address, "next ip" also a list */
static NfNode *
prim_hop(Parser *p, Quals *q, NfFieldId field, bool list_ok)
{
	NfAddr		a;

	fp_allow(p, q, 0);
	fp_expect_kw(p, "ip");
	if (list_ok && fp_is_kw(p, fp_cur(p), "in"))
	{
		int			n;
		NfAddr	   *list;

		fp_advance(p);
		list = fp_parse_addr_list(p, &n, true);
		return fp_addrlist_node(p, field, list, n);
	}
	if (fp_is_reserved(p, fp_cur(p)))
		fp_syntax_error(p, fp_cur(p));
	fp_parse_host_addr(p, fp_cur(p), &a, "IP address required - hostname not allowed here.");
	fp_advance(p);
	return fp_addr_node(p, field, &a);
}

static NfNode *
prim_port(Parser *p, Quals *q)
{
	NfCmp		op;
	uint64_t	v;

	fp_allow(p, q, ALLOW_DIR);
	if (fp_is_kw(p, fp_cur(p), "in"))
	{
		int			n;
		uint64_t   *list;

		fp_advance(p);
		if (fp_is_kw(p, fp_cur(p), "pblock"))
		{
			/* the NAT port block nfpg never stores is [0, 0] */
			fp_advance(p);
			return fp_pair_cmp(p, q->dir, NFF_SRC_PORT, NFF_DST_PORT, NFC_EQ, 0);
		}
		list = fp_parse_num_list(p, &n, 65535, "Port number");
		return fp_pair(p, q->dir, fp_numlist_node(p, NFF_SRC_PORT, list, n),
					fp_numlist_node(p, NFF_DST_PORT, list, n));
	}
	op = fp_parse_comp(p);
	v = fp_parse_number(p, 65535, "Port number");
	return fp_pair_cmp(p, q->dir, NFF_SRC_PORT, NFF_DST_PORT, op, v);
}

static NfNode *
prim_proto(Parser *p, bool tunnel)
{
	const Tok  *t = fp_cur(p);
	uint64_t	v;
	char		buf[8];
	int			n;

	fp_no_comp(p);
	if (fp_word_number(p, t, &v))
	{
		if (v > 255)
			fp_fail(p, t, "Protocol number > 255");
	}
	else
	{
		if (t->type != T_WORD || fp_is_reserved(p, t))
			fp_syntax_error(p, t);
		n = fp_word_text(p, t, buf, sizeof(buf)) ? proto_number(buf) : -1;
		if (n < 0)
			fp_fail(p, t, "Unknown protocol");
		v = n;
	}
	fp_advance(p);
	if (tunnel)
		return fp_absent(p, NFC_EQ, v);
	return fp_node_cmp(p, NFF_PROTO, NFC_EQ, v);
}

/* flags LETTERS (all set), flags comp N (whole byte); both imply TCP */
static NfNode *
prim_flags(Parser *p)
{
	const Tok  *t = fp_cur(p);
	NfNode	   *test;
	uint64_t	v;

	if (fp_is_comp(p, t) || fp_word_number(p, t, &v))
	{
		NfCmp		op = fp_parse_comp(p);
		const Tok  *nt = fp_cur(p);

		if (!fp_word_number(p, nt, &v))
			fp_syntax_error(p, nt);
		if (v > 63)
			fp_fail(p, nt, "Flags must be 0..63");
		fp_advance(p);
		test = fp_node_cmp(p, NFF_TCP_FLAGS, op, v);
	}
	else if (t->type == T_WORD)
	{
		static const char letters[] = "FSRPAUX";
		static const int bits[] = {0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x3F};
		unsigned	seen = 0;

		v = 0;
		if (t->len > 7)
			fp_fail(p, t, "Too many flags");
		for (int k = 0; k < t->len; k++)
		{
			char		c = p->text[t->start + k];
			const char *at = strchr(letters, c);

			/* "flags as" is SYN+ACK although "as" is a keyword */
			if (fp_is_kw(p, t, "as"))
				at = strchr(letters, k == 0 ? 'A' : 'S');
			if (c == '\0' || at == NULL || (seen & (1u << (at - letters))))
				fp_fail(p, t, "Too many flags");
			seen |= 1u << (at - letters);
			v |= bits[at - letters];
		}
		fp_advance(p);
		test = fp_node(p, NFN_BITS);
		test->field = NFF_TCP_FLAGS;
		test->value = v;
		test->value2 = v;
	}
	else
		fp_syntax_error(p, t);
	return fp_node_bool(p, NFN_AND, fp_proto_is(p, 6, 0), test);
}

static NfNode *
prim_icmp(Parser *p, bool type)
{
	uint64_t	v;
	NfNode	   *test;

	fp_no_comp(p);
	v = fp_parse_number(p, 255, type ? "ICMP type" : "ICMP code");
	if (type)
		test = fp_node_bool(p, NFN_AND, fp_node_cmp(p, NFF_DST_PORT, NFC_GE, v * 256),
						 fp_node_cmp(p, NFF_DST_PORT, NFC_LE, v * 256 + 255));
	else
	{
		test = fp_node(p, NFN_BITS);
		test->field = NFF_DST_PORT;
		test->value = 0xFF;
		test->value2 = v;
	}
	return fp_node_bool(p, NFN_AND, fp_proto_is(p, 1, 58), test);
}

static NfNode *
prim_counter(Parser *p, Quals *q, NfFieldId in, NfFieldId out)
{
	NfCmp		op;
	uint64_t	v;

	fp_allow(p, q, ALLOW_IO);
	op = fp_parse_comp(p);
	v = fp_parse_number(p, UINT64_MAX, "Counter");
	return fp_node_cmp(p, q->io == 'o' ? out : in, op, v);
}

/* field comp N with a range limit */
NfNode *
fp_prim_simple(Parser *p, NfFieldId field, bool comp, uint64_t max, const char *what)
{
	NfCmp		op = NFC_EQ;
	uint64_t	v;

	if (comp)
		op = fp_parse_comp(p);
	else
		fp_no_comp(p);
	v = fp_parse_number(p, max, what);
	return fp_node_cmp(p, field, op, v);
}

static NfNode *
prim_as(Parser *p, Quals *q)
{
	NfCmp		op;
	uint64_t	v;

	fp_allow(p, q, ALLOW_DIR | ALLOW_ADJ);
	if (fp_is_kw(p, fp_cur(p), "in"))
	{
		int			n;
		uint64_t   *list;

		if (q->adj)
			fp_fail(p, q->tok, "This token is not expected here!");
		fp_advance(p);
		list = fp_parse_num_list(p, &n, UINT32_MAX, "AS number");
		return fp_pair(p, q->dir, fp_numlist_node(p, NFF_SRC_AS, list, n),
					fp_numlist_node(p, NFF_DST_AS, list, n));
	}
	op = fp_parse_comp(p);
	v = fp_parse_number(p, UINT32_MAX, "AS number");
	if (q->adj)
		return fp_node_cmp(p, q->adj == 'p' ? NFF_PREV_AS : NFF_NEXT_AS, op, v);
	return fp_pair_cmp(p, q->dir, NFF_SRC_AS, NFF_DST_AS, op, v);
}

static NfNode *
prim_mac(Parser *p, Quals *q)
{
	const Tok  *t = fp_cur(p);
	NfNode	   *n[4];
	uint8_t		mac[6];
	char		buf[32];
	char	   *c = buf;
	/* fields: in src, in dst, out src, out dst */
	static const NfFieldId fields[4] = {NFF_IN_SRC_MAC, NFF_IN_DST_MAC, NFF_OUT_SRC_MAC, NFF_OUT_DST_MAC};
	NfNode	   *res = NULL;

	fp_allow(p, q, ALLOW_IO | ALLOW_DIR1);
	if (t->type != T_WORD || !fp_word_text(p, t, buf, sizeof(buf)))
		fp_syntax_error(p, t);
	for (int k = 0; k < 6; k++)
	{
		char	   *end;
		unsigned long v;

		if (!isxdigit((unsigned char) c[0]))
			fp_fail(p, t, "Invalid MAC address format");
		v = strtoul(c, &end, 16);
		if (end - c > 2 || v > 255 || (k < 5 && *end != ':') || (k == 5 && *end != '\0'))
			fp_fail(p, t, "Invalid MAC address format");
		mac[k] = (uint8_t) v;
		c = end + (k < 5);
	}
	fp_advance(p);
	for (int k = 0; k < 4; k++)
	{
		bool		in_side = k < 2;
		bool		src_side = k % 2 == 0;

		n[k] = NULL;
		if ((q->io == 'i' && !in_side) || (q->io == 'o' && in_side) ||
			(q->dir == Q_SRC && !src_side) || (q->dir == Q_DST && src_side))
			continue;
		n[k] = fp_node(p, NFN_MAC);
		n[k]->field = fields[k];
		memcpy(n[k]->mac, mac, 6);
		res = res ? fp_node_bool(p, NFN_OR, res, n[k]) : n[k];
	}
	return res;
}

/* Primitives after their qualifiers; kw is the current token. */
static NfNode *
parse_primitive(Parser *p, Quals *q)
{
	const Tok  *kw = fp_cur(p);

#define KW(s) fp_is_kw(p, kw, s)
	if (kw->type != T_WORD)
		fp_syntax_error(p, kw);
	fp_advance(p);
	if (KW("ip") || KW("host"))
		return prim_ip(p, q);
	if (KW("net"))
		return prim_net(p, q);
	if (KW("port"))
		return prim_port(p, q);
	if (KW("as"))
		return prim_as(p, q);
	if (KW("tos"))
	{
		NfCmp		op;
		uint64_t	v;

		fp_allow(p, q, ALLOW_DIR);
		op = fp_parse_comp(p);
		v = fp_parse_number(p, 255, "TOS");
		/* no qualifier tests only the source ToS */
		return fp_pair_cmp(p, q->dir == Q_NONE ? Q_SRC : q->dir, NFF_SRC_TOS, NFF_DST_TOS, op, v);
	}
	if (KW("vlan") || KW("mask"))
	{
		bool		vlan = KW("vlan");
		uint64_t	v;

		fp_allow(p, q, ALLOW_DIR);
		fp_no_comp(p);
		v = fp_parse_number(p, vlan ? 65535 : 255, vlan ? "VLAN" : "Mask");
		return fp_pair_cmp(p, q->dir, vlan ? NFF_SRC_VLAN : NFF_SRC_MASK,
						vlan ? NFF_DST_VLAN : NFF_DST_MASK, NFC_EQ, v);
	}
	if (KW("mac"))
		return prim_mac(p, q);
	if (KW("if"))
	{
		uint64_t	v;

		fp_allow(p, q, ALLOW_IO);
		fp_no_comp(p);
		v = fp_parse_number(p, UINT32_MAX, "Interface");
		if (q->io)
			return fp_node_cmp(p, q->io == 'i' ? NFF_IN_IF : NFF_OUT_IF, NFC_EQ, v);
		return fp_pair_cmp(p, Q_EITHER, NFF_IN_IF, NFF_OUT_IF, NFC_EQ, v);
	}
	if (KW("packets"))
		return prim_counter(p, q, NFF_PACKETS, NFF_OUT_PACKETS);
	if (KW("bytes"))
		return prim_counter(p, q, NFF_BYTES, NFF_OUT_BYTES);
	if (KW("geo"))
		return fp_prim_geo(p, q, kw);
	if (KW("tunip") || KW("xip") || KW("nip") || KW("xnet"))
		return fp_prim_xaddr(p, q, KW("xnet"), KW("xip") || KW("nip"));
	if (KW("xport") || KW("nport"))
	{
		NfCmp		op;

		fp_allow(p, q, ALLOW_DIR);
		op = fp_parse_comp(p);
		return fp_absent(p, op, fp_parse_number(p, 65535, "Port number"));
	}

	/* everything below takes no qualifier */
	fp_allow(p, q, 0);
	if (KW("any"))
		return fp_node_const(p, true);
	if (KW("ipv4") || KW("inet"))
		return fp_node_cmp(p, NFF_FAMILY, NFC_EQ, 4);
	if (KW("ipv6") || KW("inet6"))
		return fp_node_cmp(p, NFF_FAMILY, NFC_EQ, 6);
	if (KW("proto"))
		return prim_proto(p, false);
	if (KW("tun"))
	{
		fp_expect_kw(p, "proto");
		return prim_proto(p, true);
	}
	if (KW("next"))
		return prim_hop(p, q, NFF_NEXT_HOP, true);
	if (KW("bgpnext"))
		return prim_hop(p, q, NFF_BGP_NEXT_HOP, false);
	if (KW("router"))
		return prim_hop(p, q, NFF_EXPORTER, false);
	if (KW("flags"))
		return prim_flags(p);
	if (KW("icmp-type") || KW("icmp-code"))
		return prim_icmp(p, KW("icmp-type"));
	if (KW("flows"))
		return fp_prim_simple(p, NFF_FLOWS, true, UINT64_MAX, "Flows");
	if (KW("duration"))
		return fp_prim_simple(p, NFF_DURATION, true, UINT64_MAX, "Duration");
	if (KW("pps"))
		return fp_prim_simple(p, NFF_PPS, true, UINT64_MAX, "pps");
	if (KW("bps"))
		return fp_prim_simple(p, NFF_BPS, true, UINT64_MAX, "bps");
	if (KW("bpp"))
		return fp_prim_simple(p, NFF_BPP, true, UINT64_MAX, "bpp");
	if (KW("mpls"))
		return fp_prim_mpls(p);
	if (KW("engine-type") || KW("engine-id"))
		return fp_prim_simple(p, KW("engine-type") ? NFF_ENGINE_TYPE : NFF_ENGINE_ID,
						   true, 255, "Engine");
	if (KW("fwdstat"))
		return fp_prim_fwdstat(p);
	if (KW("dir") || KW("flowdir"))
		return fp_prim_dir(p);
	if (KW("nfversion"))
		return fp_prim_simple(p, NFF_EXPORT_VERSION, true, 10, "Netflow version");
	if (KW("client") || KW("server") || KW("app"))
	{
		NfCmp		op;

		fp_expect_kw(p, "latency");
		op = fp_parse_comp(p);
		return fp_absent(p, op, fp_parse_number(p, UINT64_MAX, "Latency"));
	}
	if (KW("observation"))
	{
		if (!fp_is_kw(p, fp_cur(p), "domain") && !fp_is_kw(p, fp_cur(p), "point"))
			fp_syntax_error(p, fp_cur(p));
		fp_advance(p);
		fp_expect_kw(p, "id");
		fp_no_comp(p);
		return fp_absent(p, NFC_EQ, fp_parse_number(p, UINT64_MAX, "Observation id"));
	}
	if (KW("ingress") || KW("egress"))
		return fp_prim_ingress_egress(p, KW("ingress"));
	if (KW("payload"))
		return fp_prim_payload(p);
	if (KW("flowlabel"))
	{
		fp_parse_label(p);
		return fp_node_const(p, false);
	}
	if (KW("asa"))
		return fp_prim_asa(p);
	if (KW("nat"))
		return fp_prim_nat(p);
	if (KW("pblock"))
	{
		NfCmp		op;

		if (!fp_is_kw(p, fp_cur(p), "start") && !fp_is_kw(p, fp_cur(p), "end") &&
			!fp_is_kw(p, fp_cur(p), "step") && !fp_is_kw(p, fp_cur(p), "size"))
			fp_syntax_error(p, fp_cur(p));
		fp_advance(p);
		op = fp_parse_comp(p);
		return fp_absent(p, op, fp_parse_number(p, 65536, "Port block"));
	}
	if (KW("ident"))
		return fp_prim_ident(p, kw);
	if (KW("count"))
		return fp_prim_unsupported(p, kw, "count is not supported: a table has no read order");
	if (KW("sysid"))
		return fp_prim_unsupported(p, kw, "sysid is not supported: use router ip");
	/* nfpg extension: the common protocols also stand alone, as in tcpdump */
	for (size_t k = 0; k < sizeof(bare_protos) / sizeof(bare_protos[0]); k++)
		if (KW(bare_protos[k].name))
			return fp_node_cmp(p, NFF_PROTO, NFC_EQ, bare_protos[k].code);
#undef KW
	fp_syntax_error(p, kw);
}

NfNode *
fp_parse_term(Parser *p)
{
	const Tok  *t = fp_cur(p);
	Quals		q = {t, Q_NONE, 0, 0};

	if (fp_is_kw(p, t, "src") || fp_is_kw(p, t, "dst"))
	{
		bool		src = fp_is_kw(p, t, "src");
		const Tok  *n1 = fp_peek(p, 1);
		const Tok  *n2 = fp_peek(p, 2);

		q.dir = src ? Q_SRC : Q_DST;
		fp_advance(p);
		if ((fp_is_or(p, n1) || fp_is_and(p, n1)) && fp_is_kw(p, n2, src ? "dst" : "src"))
		{
			q.dir = fp_is_or(p, n1) ? Q_EITHER : Q_BOTH;
			fp_advance(p);
			fp_advance(p);
		}
	}
	else if (fp_is_kw(p, t, "in") || fp_is_kw(p, t, "out"))
	{
		q.io = fp_is_kw(p, t, "in") ? 'i' : 'o';
		fp_advance(p);
		if (fp_is_kw(p, fp_cur(p), "src") || fp_is_kw(p, fp_cur(p), "dst"))
		{
			if (!fp_is_kw(p, fp_peek(p, 1), "mac"))
				fp_syntax_error(p, fp_cur(p));
			q.dir = fp_is_kw(p, fp_cur(p), "src") ? Q_SRC : Q_DST;
			fp_advance(p);
		}
	}
	else if (fp_is_kw(p, t, "prev") || fp_is_kw(p, t, "previous") ||
			 (fp_is_kw(p, t, "next") && fp_is_kw(p, fp_peek(p, 1), "as")))
	{
		q.adj = fp_is_kw(p, t, "next") ? 'n' : 'p';
		fp_advance(p);
	}
	return parse_primitive(p, &q);
}
