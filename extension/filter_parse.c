/*-------------------------------------------------------------------------
 *
 * filter_parse.c
 *		Recursive-descent parser of the nfdump 1.7.1 filter language,
 *		producing the tree of filter_ast.h: nf_filter_parse(), the and/or/not
 *		expressions, and the node makers the primitives build with.
 *
 * The parser is five files (filter_parse_internal.h lists them), none of
 * which includes postgres.h: the unit tests and the fuzzer link them on
 * their own.  Errors unwind with longjmp to nf_filter_parse(), which frees
 * the arena; nothing outside the arena is ever allocated, so an error leaks
 * nothing.  Input length and nesting depth are bounded, long and/or chains
 * are built iteratively, so no input can exhaust the stack.
 *
 * Semantics follow nfdump 1.7.1 (docs/filter.md, and the reference notes
 * section 1); primitives whose field nfpg never stores (NSEL, latency,
 * payload, tunnels, ...) read the field as absent, that is as zero, and fold
 * to a constant exactly as nfdump does on records without that field.
 *
 *-------------------------------------------------------------------------
 */
#include "filter_parse_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const NfField nf_fields[NFF_NUM_FIELDS] = {
	[NFF_PROTO] = {"proto", NFK_INT, false},
	[NFF_SRC_PORT] = {"src_port", NFK_INT, false},
	[NFF_DST_PORT] = {"dst_port", NFK_INT, false},
	[NFF_TCP_FLAGS] = {"tcp_flags", NFK_INT, false},
	[NFF_SRC_TOS] = {"src_tos", NFK_INT, false},
	[NFF_DST_TOS] = {"dst_tos", NFK_INT, true},
	[NFF_PACKETS] = {"packets", NFK_INT, false},
	[NFF_BYTES] = {"bytes", NFK_INT, false},
	[NFF_OUT_PACKETS] = {"out_packets", NFK_INT, true},
	[NFF_OUT_BYTES] = {"out_bytes", NFK_INT, true},
	[NFF_FLOWS] = {"flows", NFK_INT, false},
	[NFF_SRC_AS] = {"src_as", NFK_INT, true},
	[NFF_DST_AS] = {"dst_as", NFK_INT, true},
	[NFF_NEXT_AS] = {"next_as", NFK_INT, true},
	[NFF_PREV_AS] = {"prev_as", NFK_INT, true},
	[NFF_IN_IF] = {"in_if", NFK_INT, true},
	[NFF_OUT_IF] = {"out_if", NFK_INT, true},
	[NFF_SRC_VLAN] = {"src_vlan", NFK_INT, true},
	[NFF_DST_VLAN] = {"dst_vlan", NFK_INT, true},
	[NFF_SRC_MASK] = {"src_mask", NFK_INT, true},
	[NFF_DST_MASK] = {"dst_mask", NFK_INT, true},
	[NFF_ENGINE_TYPE] = {"engine_type", NFK_INT, true},
	[NFF_ENGINE_ID] = {"engine_id", NFK_INT, true},
	[NFF_FWD_STATUS] = {"fwd_status", NFK_INT, true},
	[NFF_DIRECTION] = {"direction", NFK_INT, true},
	[NFF_EXPORT_VERSION] = {"export_version", NFK_INT, true},
	[NFF_SRC_ADDR] = {"src_addr", NFK_INET, false},
	[NFF_DST_ADDR] = {"dst_addr", NFK_INET, false},
	[NFF_NEXT_HOP] = {"next_hop", NFK_INET, true},
	[NFF_BGP_NEXT_HOP] = {"bgp_next_hop", NFK_INET, true},
	[NFF_EXPORTER] = {"exporter", NFK_INET, false},
	[NFF_IN_SRC_MAC] = {"in_src_mac", NFK_MAC, true},
	[NFF_IN_DST_MAC] = {"in_dst_mac", NFK_MAC, true},
	[NFF_OUT_SRC_MAC] = {"out_src_mac", NFK_MAC, true},
	[NFF_OUT_DST_MAC] = {"out_dst_mac", NFK_MAC, true},
	[NFF_FAMILY] = {"family", NFK_DERIVED, false},
	[NFF_DURATION] = {"flow_duration", NFK_DERIVED, false},
	[NFF_PPS] = {"flow_pps", NFK_DERIVED, false},
	[NFF_BPS] = {"flow_bps", NFK_DERIVED, false},
	[NFF_BPP] = {"flow_bpp", NFK_DERIVED, false},
	[NFF_MPLS_LABEL] = {"mpls_label", NFK_DERIVED, false},
	[NFF_MPLS_EXP] = {"mpls_exp", NFK_DERIVED, false},
	[NFF_MPLS_EOS] = {"mpls_eos_label", NFK_DERIVED, false},
};

bool
nf_cmp_holds(uint64_t a, NfCmp op, uint64_t b)
{
	switch (op)
	{
		case NFC_EQ: return a == b;
		case NFC_LT: return a < b;
		case NFC_LE: return a <= b;
		case NFC_GT: return a > b;
		case NFC_GE: return a >= b;
	}
	return false;
}

bool
nf_addr_contains(const NfAddr *prefix, const NfAddr *addr)
{
	int			bits = prefix->bits;

	if (prefix->family != addr->family || addr->bits < bits)
		return false;
	if (memcmp(prefix->addr, addr->addr, bits / 8) != 0)
		return false;
	if (bits % 8)
	{
		uint8_t		m = (uint8_t) (0xFF << (8 - bits % 8));

		return (prefix->addr[bits / 8] & m) == (addr->addr[bits / 8] & m);
	}
	return true;
}

/* --------------------------------------------------------- node makers */

NfNode *
fp_node(Parser *p, NfNodeType type)
{
	NfNode	   *n = fp_palloc_arena(p, sizeof(NfNode));

	n->type = type;
	n->pos = fp_cur(p)->start + 1;
	return n;
}

NfNode *
fp_node_const(Parser *p, bool b)
{
	NfNode	   *n = fp_node(p, NFN_CONST);

	n->bval = b;
	return n;
}

NfNode *
fp_node_cmp(Parser *p, NfFieldId field, NfCmp op, uint64_t v)
{
	NfNode	   *n = fp_node(p, NFN_CMP);

	n->field = field;
	n->op = op;
	n->value = v;
	return n;
}

NfNode *
fp_node_bool(Parser *p, NfNodeType type, NfNode *a, NfNode *b)
{
	NfNode	   *n = fp_node(p, type);

	n->nchildren = b ? 2 : 1;
	n->children = fp_palloc_arena(p, sizeof(NfNode *) * 2);
	n->children[0] = a;
	n->children[1] = b;
	return n;
}

/* Apply a src/dst qualifier to the two one-sided tests. */
NfNode *
fp_pair(Parser *p, Qual q, NfNode *src, NfNode *dst)
{
	switch (q)
	{
		case Q_SRC: return src;
		case Q_DST: return dst;
		case Q_BOTH: return fp_node_bool(p, NFN_AND, src, dst);
		default: return fp_node_bool(p, NFN_OR, src, dst);
	}
}

NfNode *
fp_pair_cmp(Parser *p, Qual q, NfFieldId src, NfFieldId dst, NfCmp op, uint64_t v)
{
	return fp_pair(p, q, fp_node_cmp(p, src, op, v), fp_node_cmp(p, dst, op, v));
}

/* A field nfpg never stores reads as zero, as an absent field does in nfdump. */
NfNode *
fp_absent(Parser *p, NfCmp op, uint64_t v)
{
	return fp_node_const(p, nf_cmp_holds(0, op, v));
}

/* proto tcp or proto udp: used by flags and ICMP primitives */
NfNode *
fp_proto_is(Parser *p, uint64_t a, uint64_t b)
{
	NfNode	   *n = fp_node_cmp(p, NFF_PROTO, NFC_EQ, a);

	return b ? fp_node_bool(p, NFN_OR, n, fp_node_cmp(p, NFF_PROTO, NFC_EQ, b)) : n;
}

/* ---------------------------------------------------------- expressions */

static NfNode *parse_or(Parser *p);

static void
enter(Parser *p)
{
	if (++p->depth > NF_FILTER_MAX_DEPTH)
		fp_fail(p, fp_cur(p), "filter nested deeper than %d levels", NF_FILTER_MAX_DEPTH);
}

static NfNode *
parse_primary(Parser *p)
{
	NfNode	   *e;

	if (fp_cur(p)->type == T_PERCENT)
	{
		fp_advance(p);
		fp_parse_label(p);
		if (fp_cur(p)->type != T_LPAREN)
			fp_syntax_error(p, fp_cur(p));
	}
	if (fp_cur(p)->type != T_LPAREN)
		return fp_parse_term(p);
	fp_advance(p);
	enter(p);
	e = parse_or(p);
	p->depth--;
	fp_expect(p, T_RPAREN);
	if (fp_cur(p)->type == T_PERCENT)
	{
		fp_advance(p);
		fp_parse_label(p);
	}
	return e;
}

static NfNode *
parse_unary(Parser *p)
{
	NfNode	   *e;

	if (fp_cur(p)->type != T_BANG && !fp_is_kw(p, fp_cur(p), "not"))
		return parse_primary(p);
	fp_advance(p);
	enter(p);
	e = fp_node_bool(p, NFN_NOT, parse_unary(p), NULL);
	p->depth--;
	return e;
}

/* Append to an n-ary node, doubling its child array as needed. */
static void
add_child(Parser *p, NfNode *n, int *cap, NfNode *child)
{
	if (n->nchildren == *cap)
	{
		NfNode	  **bigger = fp_palloc_arena(p, sizeof(NfNode *) * *cap * 2);

		memcpy(bigger, n->children, sizeof(NfNode *) * *cap);
		n->children = bigger;
		*cap *= 2;
	}
	n->children[n->nchildren++] = child;
}

static NfNode *
parse_and(Parser *p)
{
	NfNode	   *first = parse_unary(p);
	NfNode	   *n;
	int			cap = 4;

	if (!fp_is_and(p, fp_cur(p)))
		return first;
	n = fp_node(p, NFN_AND);
	n->children = fp_palloc_arena(p, sizeof(NfNode *) * cap);
	add_child(p, n, &cap, first);
	while (fp_is_and(p, fp_cur(p)))
	{
		fp_advance(p);
		add_child(p, n, &cap, parse_unary(p));
	}
	return n;
}

static NfNode *
parse_or(Parser *p)
{
	NfNode	   *first = parse_and(p);
	NfNode	   *n;
	int			cap = 4;

	if (!fp_is_or(p, fp_cur(p)))
		return first;
	n = fp_node(p, NFN_OR);
	n->children = fp_palloc_arena(p, sizeof(NfNode *) * cap);
	add_child(p, n, &cap, first);
	while (fp_is_or(p, fp_cur(p)))
	{
		fp_advance(p);
		add_child(p, n, &cap, parse_and(p));
	}
	return n;
}

NfFilter *
nf_filter_parse(const char *text, size_t len, NfParseError *err)
{
	Parser		p;
	NfFilter   *volatile f;

	memset(err, 0, sizeof(*err));
	if (len > NF_FILTER_MAX_LENGTH)
	{
		err->pos = NF_FILTER_MAX_LENGTH + 1;
		snprintf(err->message, sizeof(err->message),
				 "filter longer than %d bytes", NF_FILTER_MAX_LENGTH);
		return NULL;
	}
	f = calloc(1, sizeof(NfFilter));
	if (f == NULL)
	{
		snprintf(err->message, sizeof(err->message), "out of memory");
		return NULL;
	}
	memset(&p, 0, sizeof(p));
	p.text = text;
	p.len = (int) len;
	p.f = f;
	p.err = err;
	if (setjmp(p.jb) != 0)
	{
		nf_filter_free(f);
		return NULL;
	}
	fp_lex(&p);
	if (fp_cur(&p)->type == T_END)
		f->root = fp_node_const(&p, true);
	else
	{
		f->root = parse_or(&p);
		if (fp_cur(&p)->type != T_END)
			fp_syntax_error(&p, fp_cur(&p));
	}
	return f;
}
