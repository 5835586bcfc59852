/*-------------------------------------------------------------------------
 *
 * filter_prim_more.c
 *		The rarer primitives of a filter: MPLS labels, forwarding status,
 *		flow direction, payload, ASA and NAT events and translated
 *		addresses, ingress/egress VRFs, ident, geo.
 *
 * Most of them are on fields nfpg does not store (NSEL, NEL, payload,
 * labels): they parse exactly as in nfdump 1.7.1, so that a filter that
 * nfdump accepts is accepted here, and read the field as absent (zero),
 * which folds to the constant nfdump computes on records without it.
 * Those nfpg cannot answer at all (geo, ident) are errors that say so.
 *
 *-------------------------------------------------------------------------
 */
#include "filter_parse_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct
{
	const char *name;
	int			code;
}			fwd_names[] = {
	{"Ukwn", 0}, {"Forw", 1}, {"Frag", 2}, {"Drop", 16}, {"DaclD", 17},
	{"Daclp", 18}, {"Noroute", 19}, {"Dadj", 20}, {"Dfrag", 21}, {"Dbadh", 22},
	{"Dbadtlen", 23}, {"Dbadhlen", 24}, {"DbadTTL", 25}, {"Dpolicy", 26},
	{"Dwred", 27}, {"Drpf", 28}, {"Dforus", 29}, {"DbadOf", 30}, {"Dhw", 31},
	{"Term", 128}, {"Tadj", 129}, {"TincAdj", 130}, {"Tforus", 131},
};

NfNode *
fp_prim_mpls(Parser *p)
{
	const Tok  *t = fp_cur(p);
	char		buf[16];
	NfCmp		op;
	uint64_t	v;

	if (fp_is_kw(p, t, "any"))
	{
		NfNode	   *n;

		fp_advance(p);
		fp_no_comp(p);
		v = fp_parse_number(p, 0xFFFFF, "MPLS label");
		n = fp_node(p, NFN_MPLS_ANY);
		n->value = v;
		return n;
	}
	if (fp_is_kw(p, t, "eos"))
	{
		fp_advance(p);
		op = fp_parse_comp(p);
		v = fp_parse_number(p, 0xFFFFF, "MPLS label");
		return fp_node_cmp(p, NFF_MPLS_EOS, op, v);
	}
	if (fp_word_text(p, t, buf, sizeof(buf)) &&
		(strncasecmp(buf, "label", 5) == 0 || strncasecmp(buf, "exp", 3) == 0))
	{
		bool		label = strncasecmp(buf, "label", 5) == 0;
		const char *digits = buf + (label ? 5 : 3);
		char	   *end;
		long		k = strtol(digits, &end, 10);
		NfNode	   *n;

		if (!isdigit((unsigned char) *digits) || *end != '\0')
			fp_fail(p, t, "Unknown MPLS option");
		if (k < 1 || k > 10)
			fp_fail(p, t, "MPLS label out of range 1..10");
		fp_advance(p);
		op = fp_parse_comp(p);
		if (label)
			v = fp_parse_number(p, 0xFFFFF, "MPLS label");
		else
		{
			const Tok  *nt = fp_cur(p);

			if (!fp_word_number(p, nt, &v))
				fp_syntax_error(p, nt);
			if (v > 7)
				fp_fail(p, nt, "MPLS exp value out of range");
			fp_advance(p);
		}
		n = fp_node_cmp(p, label ? NFF_MPLS_LABEL : NFF_MPLS_EXP, op, v);
		n->param = (int) k;
		return n;
	}
	fp_fail(p, t, "Unknown MPLS option");
}

NfNode *
fp_prim_fwdstat(Parser *p)
{
	const Tok  *t = fp_cur(p);
	uint64_t	v;
	char		buf[16];

	fp_no_comp(p);
	if (!fp_word_number(p, t, &v))
	{
		size_t		k;

		if (t->type != T_WORD)
			fp_syntax_error(p, t);
		for (k = 0; k < sizeof(fwd_names) / sizeof(fwd_names[0]); k++)
			if (fp_word_text(p, t, buf, sizeof(buf)) && strcasecmp(buf, fwd_names[k].name) == 0)
				break;
		if (k == sizeof(fwd_names) / sizeof(fwd_names[0]))
			fp_fail(p, t, "Unknown forwarding status");
		v = fwd_names[k].code;
	}
	else if (v > 255)
		fp_fail(p, t, "Forwarding status out of range 0..255");
	fp_advance(p);
	return fp_node_cmp(p, NFF_FWD_STATUS, NFC_EQ, v);
}

NfNode *
fp_prim_dir(Parser *p)
{
	fp_no_comp(p);
	if (fp_is_kw(p, fp_cur(p), "ingress") || fp_is_kw(p, fp_cur(p), "egress"))
	{
		uint64_t	v = fp_is_kw(p, fp_cur(p), "egress");

		fp_advance(p);
		return fp_node_cmp(p, NFF_DIRECTION, NFC_EQ, v);
	}
	return fp_prim_simple(p, NFF_DIRECTION, false, 2, "Direction");
}

/* payload content WORD | regex 'RE' [imsx] | ja3 defined|HASH: never stored */
NfNode *
fp_prim_payload(Parser *p)
{
	const Tok  *t;

	if (fp_is_kw(p, fp_cur(p), "content"))
	{
		fp_advance(p);
		t = fp_cur(p);
		if ((t->type != T_WORD && t->type != T_QUOTED) || t->len > 66)
			fp_syntax_error(p, t);
		fp_advance(p);
	}
	else if (fp_is_kw(p, fp_cur(p), "regex"))
	{
		fp_advance(p);
		fp_expect(p, T_QUOTED);
		t = fp_cur(p);
		if (t->type == T_WORD && fp_all_in(p, t, "ims") && !fp_is_reserved(p, t))
			fp_advance(p);
	}
	else if (fp_is_kw(p, fp_cur(p), "ja3"))
	{
		fp_advance(p);
		t = fp_cur(p);
		if (!fp_is_kw(p, t, "defined") &&
			!(t->type == T_WORD && t->len == 32 && fp_all_in(p, t, "0123456789abcdefABCDEF")))
			fp_syntax_error(p, t);
		fp_advance(p);
	}
	else
		fp_syntax_error(p, fp_cur(p));
	return fp_node_const(p, false);
}

/* label names of %LABEL and flowlabel */
void
fp_parse_label(Parser *p)
{
	const Tok  *t = fp_cur(p);

	if (t->type != T_WORD || fp_is_reserved(p, t))
		fp_syntax_error(p, t);
	if (t->len > 16)
		fp_fail(p, t, "Size flowlabel of range 1..16");
	fp_advance(p);
}

NfNode *
fp_prim_asa(Parser *p)
{
	static const char *const names[] = {"ignore", "create", "term", "delete", "deny"};
	static const int codes[] = {0, 1, 2, 2, 3};
	NfCmp		op;

	if (fp_is_kw(p, fp_cur(p), "xevent"))
	{
		fp_advance(p);
		op = fp_parse_comp(p);
		return fp_absent(p, op, fp_parse_number(p, 65535, "ASA xevent"));
	}
	fp_expect_kw(p, "event");
	for (int k = 0; k < 5; k++)
		if (fp_is_kw(p, fp_cur(p), names[k]))
		{
			fp_advance(p);
			return fp_absent(p, NFC_EQ, codes[k]);
		}
	if (fp_is_kw(p, fp_cur(p), "denied"))
	{
		fp_advance(p);
		if (fp_is_kw(p, fp_cur(p), "ingress") || fp_is_kw(p, fp_cur(p), "egress") ||
			fp_is_kw(p, fp_cur(p), "interface") || fp_is_kw(p, fp_cur(p), "nosyn"))
			fp_advance(p);
		else
			fp_parse_number(p, 65535, "ASA xevent");
		return fp_node_const(p, false);	/* event deny (3) never reads as 0 */
	}
	op = fp_parse_comp(p);
	return fp_absent(p, op, fp_parse_number(p, 255, "ASA event"));
}

NfNode *
fp_prim_nat(Parser *p)
{
	static const char *const names[] = {"add", "create", "delete", "invalid"};
	static const int codes[] = {1, 1, 2, 0};
	NfCmp		op;

	fp_expect_kw(p, "event");
	for (int k = 0; k < 4; k++)
		if (fp_is_kw(p, fp_cur(p), names[k]))
		{
			fp_advance(p);
			return fp_absent(p, NFC_EQ, codes[k]);
		}
	op = fp_parse_comp(p);
	return fp_absent(p, op, fp_parse_number(p, 255, "NAT event"));
}

/* ingress|egress vrf|acl|ace|xace comp N (egress acl is broken in 1.7.1) */
NfNode *
fp_prim_ingress_egress(Parser *p, bool ingress)
{
	NfCmp		op;

	if (fp_is_kw(p, fp_cur(p), "vrf") ||
		(ingress && (fp_is_kw(p, fp_cur(p), "acl") || fp_is_kw(p, fp_cur(p), "ace") ||
					 fp_is_kw(p, fp_cur(p), "xace"))))
	{
		fp_advance(p);
		op = fp_parse_comp(p);
		return fp_absent(p, op, fp_parse_number(p, UINT32_MAX, "Value"));
	}
	fp_fail(p, fp_cur(p), "ingress/egress syntax error");
}

NfNode *
fp_prim_xaddr(Parser *p, Quals *q, bool net, bool list_ok)
{
	NfAddr		a;

	fp_allow(p, q, ALLOW_DIR);
	if (net)
	{
		if (fp_peek(p, 1)->type != T_SLASH)
			fp_syntax_error(p, fp_peek(p, 1));
		fp_parse_prefix(p, &a);
		return fp_absent_addr(p, &a, 1);
	}
	if (list_ok && fp_is_kw(p, fp_cur(p), "in"))
	{
		int			n;
		NfAddr	   *list;

		fp_advance(p);
		list = fp_parse_addr_list(p, &n, true);
		return fp_absent_addr(p, list, n);
	}
	if (fp_is_reserved(p, fp_cur(p)))
		fp_syntax_error(p, fp_cur(p));
	fp_parse_host_addr(p, fp_cur(p), &a, "Error parsing IP address. (nfpg does not resolve hostnames)");
	fp_advance(p);
	return fp_absent_addr(p, &a, 1);
}

NfNode *
fp_prim_unsupported(Parser *p, const Tok *t, const char *why)
{
	fp_fail(p, t, "%s", why);
}

NfNode *
fp_prim_ident(Parser *p, const Tok *kw)
{
	const Tok  *t = fp_cur(p);

	if (t->type != T_WORD || fp_is_reserved(p, t))
		fp_syntax_error(p, t);
	if (t->len > 255 ||
		!fp_all_in(p, t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"))
		fp_fail(p, t, "Illegal ident string");
	return fp_prim_unsupported(p, kw, "ident is not supported: nfpg keeps no per-file ident");
}

NfNode *
fp_prim_geo(Parser *p, Quals *q, const Tok *kw)
{
	const Tok  *t = fp_cur(p);

	fp_allow(p, q, ALLOW_DIR);
	if (t->type != T_WORD || fp_is_reserved(p, t))
		fp_syntax_error(p, t);
	if (t->len != 2 || !isalpha((unsigned char) p->text[t->start]) ||
		!isalpha((unsigned char) p->text[t->start + 1]))
		fp_fail(p, t, "Need a two letter geo country code");
	return fp_prim_unsupported(p, kw, "geo is not supported: nfpg has no geo location database");
}
