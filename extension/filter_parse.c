/*-------------------------------------------------------------------------
 *
 * filter_parse.c
 *		Lexer and recursive-descent parser of the nfdump 1.7.1 filter
 *		language, producing the tree of filter_ast.h.
 *
 * This file must not include postgres.h: the unit tests and the fuzzer link
 * it on its own.  Errors unwind with longjmp to nf_filter_parse(), which
 * frees the arena; nothing outside the arena is ever allocated, so an error
 * leaks nothing.  Input length and nesting depth are bounded, long and/or
 * chains are built iteratively, so no input can exhaust the stack.
 *
 * Semantics follow nfdump 1.7.1 (docs/filter.md, and the reference notes
 * section 1); primitives whose field nfpg never stores (NSEL, latency,
 * payload, tunnels, ...) read the field as absent, that is as zero, and fold
 * to a constant exactly as nfdump does on records without that field.
 *
 *-------------------------------------------------------------------------
 */
#include "filter_ast.h"
#include "protocols.h"

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

/* Protocol names accepted without "proto" ("tcp and dst port 587") */
static const struct
{
	const char *name;
	int			code;
}			bare_protos[] = {
	{"icmp", 1}, {"tcp", 6}, {"udp", 17}, {"gre", 47}, {"esp", 50}, {"ah", 51},
	{"icmp6", 58}, {"sctp", 132},
};

/* Words that can never be a value (nfdump 1.7.1's scanner keywords). */
static const char *const reserved[] = {
	"and", "or", "not", "any", "ip", "host", "net", "port", "src", "dst", "in",
	"out", "proto", "ipv4", "ipv6", "inet", "inet6", "ident", "count",
	"nfversion", "sysid", "tun", "tunip", "next", "bgpnext", "router", "prev",
	"previous", "icmp-type", "icmp-code", "flags", "packets", "bytes", "flows",
	"duration", "pps", "bps", "bpp", "tos", "as", "if", "vlan", "mac", "mpls",
	"mask", "engine-type", "engine-id", "fwdstat", "dir", "flowdir", "ingress",
	"egress", "latency", "observation", "payload", "geo", "flowlabel", "asa",
	"event", "xevent", "xip", "nip", "xnet", "xport", "nport", "nat", "pblock",
	"eq", "gt", "lt", "ge", "le", "ignore", "invalid", "create", "add", "term",
	"delete", "deny", "denied", "acl", "ace", "xace", "vrf",
};

/* ASCII only: the backend's locale must not change what a filter means */
#define isdigit(c)	((c) >= '0' && (c) <= '9')
#define isalpha(c)	(((c) | 0x20) >= 'a' && ((c) | 0x20) <= 'z')
#define isalnum(c)	(isdigit(c) || isalpha(c))
#define isxdigit(c)	(isdigit(c) || (((c) | 0x20) >= 'a' && ((c) | 0x20) <= 'f'))
#define isspace(c)	((c) == ' ' || ((c) >= '\t' && (c) <= '\r'))
#define isprint(c)	((c) >= 0x20 && (c) < 0x7f)
#define tolower(c)	((c) | 0x20)

typedef enum TokType
{
	T_END, T_WORD, T_QUOTED, T_LPAREN, T_RPAREN, T_LBRACK, T_RBRACK, T_COMMA,
	T_SLASH, T_PERCENT, T_BANG, T_ANDAND, T_OROR, T_EQ, T_LT, T_LE, T_GT, T_GE,
	T_BAD
} TokType;

typedef struct Tok
{
	TokType		type;
	int			start;			/* byte offset */
	int			len;
} Tok;

typedef struct Chunk
{
	struct Chunk *next;
	size_t		used;
	size_t		size;
	max_align_t data[];
} Chunk;

struct NfFilter
{
	Chunk	   *chunks;
	NfNode	   *root;
};

typedef enum Qual
{
	Q_NONE, Q_SRC, Q_DST, Q_EITHER, Q_BOTH
} Qual;

typedef struct Parser
{
	const char *text;
	int			len;
	Tok		   *toks;
	int			ntoks;
	int			i;
	int			depth;
	NfFilter   *f;
	NfParseError *err;
	jmp_buf		jb;
} Parser;

/* ---------------------------------------------------------------- arena */

static void *
palloc_arena(Parser *p, size_t size)
{
	Chunk	   *c = p->f->chunks;

	size = (size + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
	if (c == NULL || c->size - c->used < size)
	{
		size_t		csize = size > 16384 ? size : 16384;

		c = malloc(sizeof(Chunk) + csize);
		if (c == NULL)
		{
			p->err->pos = 0;
			snprintf(p->err->message, sizeof(p->err->message), "out of memory");
			longjmp(p->jb, 1);
		}
		c->next = p->f->chunks;
		c->used = 0;
		c->size = csize;
		p->f->chunks = c;
	}
	c->used += size;
	return memset((char *) c->data + c->used - size, 0, size);
}

void
nf_filter_free(NfFilter *filter)
{
	if (filter == NULL)
		return;
	while (filter->chunks)
	{
		Chunk	   *next = filter->chunks->next;

		free(filter->chunks);
		filter->chunks = next;
	}
	free(filter);
}

const NfNode *
nf_filter_root(const NfFilter *filter)
{
	return filter->root;
}

/* --------------------------------------------------------------- errors */

static const Tok *
cur(Parser *p)
{
	return &p->toks[p->i];
}

static const Tok *
peek(Parser *p, int k)
{
	int			j = p->i + k;

	return &p->toks[j < p->ntoks ? j : p->ntoks - 1];
}

static void
advance(Parser *p)
{
	if (p->i < p->ntoks - 1)
		p->i++;
}

static void fail(Parser *p, const Tok *t, const char *fmt,...) __attribute__((noreturn, format(printf, 3, 4)));

static void
fail(Parser *p, const Tok *t, const char *fmt,...)
{
	char		msg[160];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p->err->pos = t->start + 1;
	if (t->type == T_END)
		snprintf(p->err->message, sizeof(p->err->message), "%s at end of filter", msg);
	else
		snprintf(p->err->message, sizeof(p->err->message), "%s at '%.*s'", msg,
				 t->len > 40 ? 40 : t->len, p->text + t->start);
	longjmp(p->jb, 1);
}

static void syntax_error(Parser *p, const Tok *t) __attribute__((noreturn));

static void
syntax_error(Parser *p, const Tok *t)
{
	fail(p, t, "syntax error");
}

/* ---------------------------------------------------------------- lexer */

static bool
is_word_char(unsigned char c)
{
	return isalnum(c) || c == '_' || c == ':' || c == '.' || c == '-';
}

static void
lex(Parser *p)
{
	int			n = 0;
	int			i = 0;

	/* at most one token per byte, plus the end marker */
	p->toks = palloc_arena(p, sizeof(Tok) * (p->len + 1));
	while (i < p->len)
	{
		unsigned char c = p->text[i];
		Tok		   *t = &p->toks[n];

		if (isspace(c))
		{
			i++;
			continue;
		}
		if (c == '#')
		{
			while (i < p->len && p->text[i] != '\n')
				i++;
			continue;
		}
		t->start = i;
		t->len = 1;
		if (is_word_char(c))
		{
			t->type = T_WORD;
			while (i + t->len < p->len && is_word_char(p->text[i + t->len]))
				t->len++;
		}
		else if (c == '\'' || c == '"')
		{
			/* quoted word, printable ASCII, ends at the next same quote */
			t->type = T_QUOTED;
			while (i + t->len < p->len && p->text[i + t->len] != c &&
				   isprint((unsigned char) p->text[i + t->len]))
				t->len++;
			if (i + t->len >= p->len || p->text[i + t->len] != c)
			{
				t->type = T_BAD;
				p->ntoks = n + 1;
				fail(p, t, "unterminated or non-printable quoted string");
			}
			t->len++;
		}
		else
		{
			char		d = i + 1 < p->len ? p->text[i + 1] : '\0';

			switch (c)
			{
				case '(': t->type = T_LPAREN; break;
				case ')': t->type = T_RPAREN; break;
				case '[': t->type = T_LBRACK; break;
				case ']': t->type = T_RBRACK; break;
				case ',': t->type = T_COMMA; break;
				case '/': t->type = T_SLASH; break;
				case '%': t->type = T_PERCENT; break;
				case '!': t->type = T_BANG; break;
				case '&': t->type = d == '&' ? T_ANDAND : T_BAD; break;
				case '|': t->type = d == '|' ? T_OROR : T_BAD; break;
				case '=': t->type = T_EQ; break;
				case '<': t->type = d == '=' ? T_LE : T_LT; break;
				case '>': t->type = d == '=' ? T_GE : T_GT; break;
				default: t->type = T_BAD; break;
			}
			if (t->type == T_ANDAND || t->type == T_OROR || t->type == T_LE ||
				t->type == T_GE || (c == '=' && d == '='))
				t->len = 2;
			if (t->type == T_BAD)
			{
				p->ntoks = n + 1;
				fail(p, t, "syntax error");
			}
		}
		i += t->len;
		n++;
	}
	p->toks[n].type = T_END;
	p->toks[n].start = p->len;
	p->toks[n].len = 0;
	p->ntoks = n + 1;
}

/* ------------------------------------------------------- token helpers */

static bool
is_kw(Parser *p, const Tok *t, const char *kw)
{
	size_t		n = strlen(kw);

	return t->type == T_WORD && (size_t) t->len == n &&
		strncasecmp(p->text + t->start, kw, n) == 0;
}

static bool
is_reserved(Parser *p, const Tok *t)
{
	for (size_t k = 0; k < sizeof(reserved) / sizeof(reserved[0]); k++)
		if (is_kw(p, t, reserved[k]))
			return true;
	return false;
}

static bool
is_or(Parser *p, const Tok *t)
{
	return t->type == T_OROR || is_kw(p, t, "or");
}

static bool
is_and(Parser *p, const Tok *t)
{
	return t->type == T_ANDAND || is_kw(p, t, "and");
}

/* Is every byte of the token in set?  (The text is not NUL-terminated.) */
static bool
all_in(Parser *p, const Tok *t, const char *set)
{
	for (int k = 0; k < t->len; k++)
		if (strchr(set, p->text[t->start + k]) == NULL || p->text[t->start + k] == '\0')
			return false;
	return true;
}

static void
expect(Parser *p, TokType type)
{
	if (cur(p)->type != type)
		syntax_error(p, cur(p));
	advance(p);
}

static void
expect_kw(Parser *p, const char *kw)
{
	if (!is_kw(p, cur(p), kw))
		syntax_error(p, cur(p));
	advance(p);
}

/* Copy a word into buf (NUL-terminated); false when it does not fit. */
static bool
word_text(Parser *p, const Tok *t, char *buf, size_t size)
{
	if ((size_t) t->len >= size)
		return false;
	memcpy(buf, p->text + t->start, t->len);
	buf[t->len] = '\0';
	return true;
}

/*
 * A number: decimal with at most one SI scale letter (k m g t), or 0x hex.
 * Returns false if the word is not a number at all.
 */
static bool
word_number(Parser *p, const Tok *t, uint64_t *out)
{
	const char *s = p->text + t->start;
	int			n = t->len;
	uint64_t	v = 0;
	uint64_t	scale = 1;

	if (t->type != T_WORD)
		return false;
	if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
	{
		if (n > 18)
			fail(p, t, "number out of range");
		for (int k = 2; k < n; k++)
		{
			if (!isxdigit((unsigned char) s[k]))
				return false;
			v = v * 16 + (isdigit((unsigned char) s[k]) ? s[k] - '0' : (tolower(s[k]) - 'a' + 10));
		}
		*out = v;
		return true;
	}
	if (!isdigit((unsigned char) s[0]))
		return false;
	if (!isdigit((unsigned char) s[n - 1]))
	{
		switch (s[n - 1])
		{
			case 'k': case 'K': scale = 1000ULL; break;
			case 'm': case 'M': scale = 1000000ULL; break;
			case 'g': case 'G': scale = 1000000000ULL; break;
			case 't': case 'T': scale = 1000000000000ULL; break;
			default: return false;
		}
		n--;
	}
	for (int k = 0; k < n; k++)
	{
		if (!isdigit((unsigned char) s[k]))
			return false;
		if (v > (UINT64_MAX - (s[k] - '0')) / 10)
			fail(p, t, "number out of range");
		v = v * 10 + (s[k] - '0');
	}
	if (v > UINT64_MAX / scale)
		fail(p, t, "number out of range");
	*out = v * scale;
	return true;
}

static uint64_t
parse_number(Parser *p, uint64_t max, const char *what)
{
	const Tok  *t = cur(p);
	uint64_t	v;

	if (!word_number(p, t, &v))
		syntax_error(p, t);
	if (v > max)
		fail(p, t, "%s out of range 0..%llu", what, (unsigned long long) max);
	advance(p);
	return v;
}

static bool
is_comp(Parser *p, const Tok *t)
{
	return t->type == T_EQ || t->type == T_LT || t->type == T_LE ||
		t->type == T_GT || t->type == T_GE || is_kw(p, t, "eq") ||
		is_kw(p, t, "gt") || is_kw(p, t, "lt") || is_kw(p, t, "ge") ||
		is_kw(p, t, "le");
}

static NfCmp
parse_comp(Parser *p)
{
	const Tok  *t = cur(p);
	NfCmp		op = NFC_EQ;

	if (!is_comp(p, t))
		return NFC_EQ;
	if (t->type == T_LT || is_kw(p, t, "lt"))
		op = NFC_LT;
	else if (t->type == T_LE || is_kw(p, t, "le"))
		op = NFC_LE;
	else if (t->type == T_GT || is_kw(p, t, "gt"))
		op = NFC_GT;
	else if (t->type == T_GE || is_kw(p, t, "ge"))
		op = NFC_GE;
	advance(p);
	return op;
}

/* Equality-only primitives reject any comparator, as 1.7.1 does. */
static void
no_comp(Parser *p)
{
	if (is_comp(p, cur(p)))
		syntax_error(p, cur(p));
}

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

static NfNode *
node(Parser *p, NfNodeType type)
{
	NfNode	   *n = palloc_arena(p, sizeof(NfNode));

	n->type = type;
	n->pos = cur(p)->start + 1;
	return n;
}

static NfNode *
node_const(Parser *p, bool b)
{
	NfNode	   *n = node(p, NFN_CONST);

	n->bval = b;
	return n;
}

static NfNode *
node_cmp(Parser *p, NfFieldId field, NfCmp op, uint64_t v)
{
	NfNode	   *n = node(p, NFN_CMP);

	n->field = field;
	n->op = op;
	n->value = v;
	return n;
}

static NfNode *
node_bool(Parser *p, NfNodeType type, NfNode *a, NfNode *b)
{
	NfNode	   *n = node(p, type);

	n->nchildren = b ? 2 : 1;
	n->children = palloc_arena(p, sizeof(NfNode *) * 2);
	n->children[0] = a;
	n->children[1] = b;
	return n;
}

/* Apply a src/dst qualifier to the two one-sided tests. */
static NfNode *
pair(Parser *p, Qual q, NfNode *src, NfNode *dst)
{
	switch (q)
	{
		case Q_SRC: return src;
		case Q_DST: return dst;
		case Q_BOTH: return node_bool(p, NFN_AND, src, dst);
		default: return node_bool(p, NFN_OR, src, dst);
	}
}

static NfNode *
pair_cmp(Parser *p, Qual q, NfFieldId src, NfFieldId dst, NfCmp op, uint64_t v)
{
	return pair(p, q, node_cmp(p, src, op, v), node_cmp(p, dst, op, v));
}

/* A field nfpg never stores reads as zero, as an absent field does in nfdump. */
static NfNode *
absent(Parser *p, NfCmp op, uint64_t v)
{
	return node_const(p, nf_cmp_holds(0, op, v));
}

/* proto tcp or proto udp: used by flags and ICMP primitives */
static NfNode *
proto_is(Parser *p, uint64_t a, uint64_t b)
{
	NfNode	   *n = node_cmp(p, NFF_PROTO, NFC_EQ, a);

	return b ? node_bool(p, NFN_OR, n, node_cmp(p, NFF_PROTO, NFC_EQ, b)) : n;
}

/* ----------------------------------------------------------- addresses */

/* Parse a complete address; hostnames are refused (nfpg never resolves). */
static void
parse_host_addr(Parser *p, const Tok *t, NfAddr *a, const char *hostmsg)
{
	char		buf[64];
	int			dots = 0;
	bool		v4chars = true;

	if (t->type != T_WORD || !word_text(p, t, buf, sizeof(buf)))
		syntax_error(p, t);
	memset(a, 0, sizeof(*a));
	if (strchr(buf, ':'))
	{
		if (inet_pton(AF_INET6, buf, a->addr) != 1)
			fail(p, t, "Error parsing IP address.");
		a->family = 6;
		a->bits = 128;
		return;
	}
	for (char *c = buf; *c; c++)
	{
		if (*c == '.')
			dots++;
		else if (!isdigit((unsigned char) *c))
			v4chars = false;
	}
	if (!v4chars)
		fail(p, t, "%s", hostmsg);
	if (dots < 3)
		fail(p, t, "incomplete IP address");
	if (inet_pton(AF_INET, buf, a->addr) != 1)
		fail(p, t, "Error parsing IP address.");
	a->family = 4;
	a->bits = 32;
}

static void
mask_host_bits(NfAddr *a)
{
	int			nbytes = a->family == 4 ? 4 : 16;

	for (int k = 0; k < nbytes; k++)
	{
		int			keep = a->bits - 8 * k;

		if (keep <= 0)
			a->addr[k] = 0;
		else if (keep < 8)
			a->addr[k] &= (uint8_t) (0xFF << (8 - keep));
	}
}

/*
 * Parse A/L where A may be abbreviated (172.16/16, 2001:db8/32); L may not
 * exceed the bits actually written.  The current token is A.
 */
static void
parse_prefix(Parser *p, NfAddr *a)
{
	const Tok  *t = cur(p);
	const Tok  *bits_tok;
	char		buf[64];
	int			written;
	uint64_t	len;

	if (t->type != T_WORD || !word_text(p, t, buf, sizeof(buf)) ||
		word_number(p, t, &len))
		syntax_error(p, t);
	memset(a, 0, sizeof(*a));
	if (strchr(buf, ':'))
	{
		char		full[70];
		int			colons = 0;

		for (char *c = buf; *c; c++)
			colons += *c == ':';
		written = strstr(buf, "::") ? 128 : 16 * (colons + 1);
		snprintf(full, sizeof(full), "%s%s", buf, written < 128 ? "::" : "");
		if (inet_pton(AF_INET6, full, a->addr) != 1)
			fail(p, t, "Error parsing IP address.");
		a->family = 6;
	}
	else
	{
		int			octets = 0;
		char	   *c = buf;

		while (*c)
		{
			unsigned long v;
			char	   *end;

			if (!isdigit((unsigned char) *c) || octets == 4)
				fail(p, t, "Error parsing IP address.");
			v = strtoul(c, &end, 10);
			if (v > 255 || end - c > 3)
				fail(p, t, "Error parsing IP address.");
			a->addr[octets++] = (uint8_t) v;
			c = end;
			if (*c == '.' && c[1] != '\0')
				c++;
			else if (*c != '\0')
				fail(p, t, "Error parsing IP address.");
		}
		written = 8 * octets;
		a->family = 4;
	}
	advance(p);
	expect(p, T_SLASH);
	bits_tok = cur(p);
	len = parse_number(p, 128, "Netbits");
	if ((int) len > written)
		fail(p, bits_tok, "Too many netbits for this IP address");
	a->bits = (int) len;
	mask_host_bits(a);
}

/* net A/L or net A M (dotted IPv4 netmask) */
static void
parse_net(Parser *p, NfAddr *a)
{
	const Tok  *t = cur(p);
	const Tok  *m = peek(p, 1);
	NfAddr		mask;
	uint32_t	mv;
	int			bits = 0;

	if (m->type == T_SLASH)
	{
		parse_prefix(p, a);
		return;
	}
	if (m->type != T_WORD || is_reserved(p, m))
		syntax_error(p, m);
	parse_host_addr(p, t, a, "IP address required - hostname not allowed here.");
	if (a->family != 4)
		fail(p, m, "IP netmask syntax valid only for IPv4");
	parse_host_addr(p, m, &mask, "Error parsing IP netmask.");
	if (mask.family != 4)
		fail(p, m, "IP netmask syntax valid only for IPv4");
	mv = (uint32_t) mask.addr[0] << 24 | mask.addr[1] << 16 | mask.addr[2] << 8 | mask.addr[3];
	while (bits < 32 && (mv & (0x80000000U >> bits)))
		bits++;
	if (bits < 32 && (mv << bits) != 0)
		fail(p, m, "netmask must be contiguous");
	a->bits = bits;
	mask_host_bits(a);
	advance(p);
	advance(p);
}

/*
 * [ A A/L, A ... ]: blanks or commas separate; as in 1.7.1 a prefix may not
 * follow a comma, and an empty list or a trailing comma is an error.
 */
static NfAddr *
parse_addr_list(Parser *p, int *count, bool prefixes)
{
	int			cap = 8;
	int			n = 0;
	bool		after_comma = false;
	NfAddr	   *list = palloc_arena(p, sizeof(NfAddr) * cap);

	expect(p, T_LBRACK);
	for (;;)
	{
		const Tok  *t = cur(p);

		if (t->type == T_RBRACK || t->type == T_COMMA)
		{
			if (n == 0 || after_comma)
				syntax_error(p, t);
			advance(p);
			if (t->type == T_RBRACK)
				break;
			after_comma = true;
			continue;
		}
		if (n == cap)
		{
			NfAddr	   *bigger = palloc_arena(p, sizeof(NfAddr) * cap * 2);

			memcpy(bigger, list, sizeof(NfAddr) * cap);
			list = bigger;
			cap *= 2;
		}
		if (peek(p, 1)->type == T_SLASH && prefixes)
		{
			if (after_comma)
				syntax_error(p, peek(p, 1));
			parse_prefix(p, &list[n++]);
		}
		else
		{
			if (t->type != T_WORD || is_reserved(p, t))
				syntax_error(p, t);
			parse_host_addr(p, t, &list[n++],
							"Error parsing IP address. (nfpg does not resolve hostnames)");
			advance(p);
		}
		after_comma = false;
	}
	*count = n;
	return list;
}

static uint64_t *
parse_num_list(Parser *p, int *count, uint64_t max, const char *what)
{
	int			cap = 8;
	int			n = 0;
	bool		after_comma = false;
	uint64_t   *list = palloc_arena(p, sizeof(uint64_t) * cap);

	expect(p, T_LBRACK);
	for (;;)
	{
		const Tok  *t = cur(p);

		if (t->type == T_RBRACK || t->type == T_COMMA)
		{
			if (n == 0 || after_comma)
				syntax_error(p, t);
			advance(p);
			if (t->type == T_RBRACK)
				break;
			after_comma = true;
			continue;
		}
		if (n == cap)
		{
			uint64_t   *bigger = palloc_arena(p, sizeof(uint64_t) * cap * 2);

			memcpy(bigger, list, sizeof(uint64_t) * cap);
			list = bigger;
			cap *= 2;
		}
		list[n++] = parse_number(p, max, what);
		after_comma = false;
	}
	*count = n;
	return list;
}

static NfNode *
addr_node(Parser *p, NfFieldId field, const NfAddr *a)
{
	NfNode	   *n = node(p, NFN_ADDR);

	n->field = field;
	n->addr = *a;
	return n;
}

static NfNode *
addrlist_node(Parser *p, NfFieldId field, NfAddr *list, int count)
{
	NfNode	   *n = node(p, NFN_ADDRLIST);

	n->field = field;
	n->addrs = list;
	n->naddrs = count;
	return n;
}

static NfNode *
numlist_node(Parser *p, NfFieldId field, uint64_t *list, int count)
{
	NfNode	   *n = node(p, NFN_NUMLIST);

	n->field = field;
	n->values = list;
	n->nvalues = count;
	return n;
}

/* An address primitive of a field nfpg does not store (absent = 0.0.0.0). */
static NfNode *
absent_addr(Parser *p, const NfAddr *list, int count)
{
	NfAddr		zero = {.family = 4, .bits = 32};

	for (int k = 0; k < count; k++)
		if (nf_addr_contains(&list[k], &zero))
			return node_const(p, true);
	return node_const(p, false);
}

/* ---------------------------------------------------------- primitives */

typedef struct Quals
{
	const Tok  *tok;			/* first qualifier token, for errors */
	Qual		dir;			/* src / dst / src or dst / src and dst */
	int			io;				/* 0, 'i' (in), 'o' (out) */
	int			adj;			/* 0, 'p' (prev), 'n' (next) */
} Quals;

enum
{
	ALLOW_DIR = 1, ALLOW_IO = 2, ALLOW_ADJ = 4, ALLOW_DIR1 = 8
};

static void
allow(Parser *p, const Quals *q, int mask)
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
		fail(p, q->tok, "This token is not expected here!");
}

static NfNode *
prim_ip(Parser *p, Quals *q)
{
	NfAddr		a;

	allow(p, q, ALLOW_DIR);
	if (is_kw(p, cur(p), "in"))
	{
		int			n;
		NfAddr	   *list;

		advance(p);
		list = parse_addr_list(p, &n, true);
		return pair(p, q->dir, addrlist_node(p, NFF_SRC_ADDR, list, n),
					addrlist_node(p, NFF_DST_ADDR, list, n));
	}
	if (is_reserved(p, cur(p)))
		syntax_error(p, cur(p));
	parse_host_addr(p, cur(p), &a, "Error parsing IP address. (nfpg does not resolve hostnames)");
	advance(p);
	return pair(p, q->dir, addr_node(p, NFF_SRC_ADDR, &a), addr_node(p, NFF_DST_ADDR, &a));
}

static NfNode *
prim_net(Parser *p, Quals *q)
{
	NfAddr		a;

	allow(p, q, ALLOW_DIR);
	parse_net(p, &a);
	return pair(p, q->dir, addr_node(p, NFF_SRC_ADDR, &a), addr_node(p, NFF_DST_ADDR, &a));
}

/* next ip / bgpnext ip / router ip: a literal address, "next ip" also a list */
static NfNode *
prim_hop(Parser *p, Quals *q, NfFieldId field, bool list_ok)
{
	NfAddr		a;

	allow(p, q, 0);
	expect_kw(p, "ip");
	if (list_ok && is_kw(p, cur(p), "in"))
	{
		int			n;
		NfAddr	   *list;

		advance(p);
		list = parse_addr_list(p, &n, true);
		return addrlist_node(p, field, list, n);
	}
	if (is_reserved(p, cur(p)))
		syntax_error(p, cur(p));
	parse_host_addr(p, cur(p), &a, "IP address required - hostname not allowed here.");
	advance(p);
	return addr_node(p, field, &a);
}

static NfNode *
prim_port(Parser *p, Quals *q)
{
	NfCmp		op;
	uint64_t	v;

	allow(p, q, ALLOW_DIR);
	if (is_kw(p, cur(p), "in"))
	{
		int			n;
		uint64_t   *list;

		advance(p);
		if (is_kw(p, cur(p), "pblock"))
		{
			/* the NAT port block nfpg never stores is [0, 0] */
			advance(p);
			return pair_cmp(p, q->dir, NFF_SRC_PORT, NFF_DST_PORT, NFC_EQ, 0);
		}
		list = parse_num_list(p, &n, 65535, "Port number");
		return pair(p, q->dir, numlist_node(p, NFF_SRC_PORT, list, n),
					numlist_node(p, NFF_DST_PORT, list, n));
	}
	op = parse_comp(p);
	v = parse_number(p, 65535, "Port number");
	return pair_cmp(p, q->dir, NFF_SRC_PORT, NFF_DST_PORT, op, v);
}

static NfNode *
prim_proto(Parser *p, bool tunnel)
{
	const Tok  *t = cur(p);
	uint64_t	v;
	char		buf[8];
	int			n;

	no_comp(p);
	if (word_number(p, t, &v))
	{
		if (v > 255)
			fail(p, t, "Protocol number > 255");
	}
	else
	{
		if (t->type != T_WORD || is_reserved(p, t))
			syntax_error(p, t);
		n = word_text(p, t, buf, sizeof(buf)) ? proto_number(buf) : -1;
		if (n < 0)
			fail(p, t, "Unknown protocol");
		v = n;
	}
	advance(p);
	if (tunnel)
		return absent(p, NFC_EQ, v);
	return node_cmp(p, NFF_PROTO, NFC_EQ, v);
}

/* flags LETTERS (all set), flags comp N (whole byte); both imply TCP */
static NfNode *
prim_flags(Parser *p)
{
	const Tok  *t = cur(p);
	NfNode	   *test;
	uint64_t	v;

	if (is_comp(p, t) || word_number(p, t, &v))
	{
		NfCmp		op = parse_comp(p);
		const Tok  *nt = cur(p);

		if (!word_number(p, nt, &v))
			syntax_error(p, nt);
		if (v > 63)
			fail(p, nt, "Flags must be 0..63");
		advance(p);
		test = node_cmp(p, NFF_TCP_FLAGS, op, v);
	}
	else if (t->type == T_WORD)
	{
		static const char letters[] = "FSRPAUX";
		static const int bits[] = {0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x3F};
		unsigned	seen = 0;

		v = 0;
		if (t->len > 7)
			fail(p, t, "Too many flags");
		for (int k = 0; k < t->len; k++)
		{
			char		c = p->text[t->start + k];
			const char *at = strchr(letters, c);

			/* "flags as" is SYN+ACK although "as" is a keyword */
			if (is_kw(p, t, "as"))
				at = strchr(letters, k == 0 ? 'A' : 'S');
			if (c == '\0' || at == NULL || (seen & (1u << (at - letters))))
				fail(p, t, "Too many flags");
			seen |= 1u << (at - letters);
			v |= bits[at - letters];
		}
		advance(p);
		test = node(p, NFN_BITS);
		test->field = NFF_TCP_FLAGS;
		test->value = v;
		test->value2 = v;
	}
	else
		syntax_error(p, t);
	return node_bool(p, NFN_AND, proto_is(p, 6, 0), test);
}

static NfNode *
prim_icmp(Parser *p, bool type)
{
	uint64_t	v;
	NfNode	   *test;

	no_comp(p);
	v = parse_number(p, 255, type ? "ICMP type" : "ICMP code");
	if (type)
		test = node_bool(p, NFN_AND, node_cmp(p, NFF_DST_PORT, NFC_GE, v * 256),
						 node_cmp(p, NFF_DST_PORT, NFC_LE, v * 256 + 255));
	else
	{
		test = node(p, NFN_BITS);
		test->field = NFF_DST_PORT;
		test->value = 0xFF;
		test->value2 = v;
	}
	return node_bool(p, NFN_AND, proto_is(p, 1, 58), test);
}

static NfNode *
prim_counter(Parser *p, Quals *q, NfFieldId in, NfFieldId out)
{
	NfCmp		op;
	uint64_t	v;

	allow(p, q, ALLOW_IO);
	op = parse_comp(p);
	v = parse_number(p, UINT64_MAX, "Counter");
	return node_cmp(p, q->io == 'o' ? out : in, op, v);
}

/* field comp N with a range limit */
static NfNode *
prim_simple(Parser *p, NfFieldId field, bool comp, uint64_t max, const char *what)
{
	NfCmp		op = NFC_EQ;
	uint64_t	v;

	if (comp)
		op = parse_comp(p);
	else
		no_comp(p);
	v = parse_number(p, max, what);
	return node_cmp(p, field, op, v);
}

static NfNode *
prim_as(Parser *p, Quals *q)
{
	NfCmp		op;
	uint64_t	v;

	allow(p, q, ALLOW_DIR | ALLOW_ADJ);
	if (is_kw(p, cur(p), "in"))
	{
		int			n;
		uint64_t   *list;

		if (q->adj)
			fail(p, q->tok, "This token is not expected here!");
		advance(p);
		list = parse_num_list(p, &n, UINT32_MAX, "AS number");
		return pair(p, q->dir, numlist_node(p, NFF_SRC_AS, list, n),
					numlist_node(p, NFF_DST_AS, list, n));
	}
	op = parse_comp(p);
	v = parse_number(p, UINT32_MAX, "AS number");
	if (q->adj)
		return node_cmp(p, q->adj == 'p' ? NFF_PREV_AS : NFF_NEXT_AS, op, v);
	return pair_cmp(p, q->dir, NFF_SRC_AS, NFF_DST_AS, op, v);
}

static NfNode *
prim_mac(Parser *p, Quals *q)
{
	const Tok  *t = cur(p);
	NfNode	   *n[4];
	uint8_t		mac[6];
	char		buf[32];
	char	   *c = buf;
	/* fields: in src, in dst, out src, out dst */
	static const NfFieldId fields[4] = {NFF_IN_SRC_MAC, NFF_IN_DST_MAC, NFF_OUT_SRC_MAC, NFF_OUT_DST_MAC};
	NfNode	   *res = NULL;

	allow(p, q, ALLOW_IO | ALLOW_DIR1);
	if (t->type != T_WORD || !word_text(p, t, buf, sizeof(buf)))
		syntax_error(p, t);
	for (int k = 0; k < 6; k++)
	{
		char	   *end;
		unsigned long v;

		if (!isxdigit((unsigned char) c[0]))
			fail(p, t, "Invalid MAC address format");
		v = strtoul(c, &end, 16);
		if (end - c > 2 || v > 255 || (k < 5 && *end != ':') || (k == 5 && *end != '\0'))
			fail(p, t, "Invalid MAC address format");
		mac[k] = (uint8_t) v;
		c = end + (k < 5);
	}
	advance(p);
	for (int k = 0; k < 4; k++)
	{
		bool		in_side = k < 2;
		bool		src_side = k % 2 == 0;

		n[k] = NULL;
		if ((q->io == 'i' && !in_side) || (q->io == 'o' && in_side) ||
			(q->dir == Q_SRC && !src_side) || (q->dir == Q_DST && src_side))
			continue;
		n[k] = node(p, NFN_MAC);
		n[k]->field = fields[k];
		memcpy(n[k]->mac, mac, 6);
		res = res ? node_bool(p, NFN_OR, res, n[k]) : n[k];
	}
	return res;
}

static NfNode *
prim_mpls(Parser *p)
{
	const Tok  *t = cur(p);
	char		buf[16];
	NfCmp		op;
	uint64_t	v;

	if (is_kw(p, t, "any"))
	{
		NfNode	   *n;

		advance(p);
		no_comp(p);
		v = parse_number(p, 0xFFFFF, "MPLS label");
		n = node(p, NFN_MPLS_ANY);
		n->value = v;
		return n;
	}
	if (is_kw(p, t, "eos"))
	{
		advance(p);
		op = parse_comp(p);
		v = parse_number(p, 0xFFFFF, "MPLS label");
		return node_cmp(p, NFF_MPLS_EOS, op, v);
	}
	if (word_text(p, t, buf, sizeof(buf)) &&
		(strncasecmp(buf, "label", 5) == 0 || strncasecmp(buf, "exp", 3) == 0))
	{
		bool		label = strncasecmp(buf, "label", 5) == 0;
		const char *digits = buf + (label ? 5 : 3);
		char	   *end;
		long		k = strtol(digits, &end, 10);
		NfNode	   *n;

		if (!isdigit((unsigned char) *digits) || *end != '\0')
			fail(p, t, "Unknown MPLS option");
		if (k < 1 || k > 10)
			fail(p, t, "MPLS label out of range 1..10");
		advance(p);
		op = parse_comp(p);
		if (label)
			v = parse_number(p, 0xFFFFF, "MPLS label");
		else
		{
			const Tok  *nt = cur(p);

			if (!word_number(p, nt, &v))
				syntax_error(p, nt);
			if (v > 7)
				fail(p, nt, "MPLS exp value out of range");
			advance(p);
		}
		n = node_cmp(p, label ? NFF_MPLS_LABEL : NFF_MPLS_EXP, op, v);
		n->param = (int) k;
		return n;
	}
	fail(p, t, "Unknown MPLS option");
}

static NfNode *
prim_fwdstat(Parser *p)
{
	const Tok  *t = cur(p);
	uint64_t	v;
	char		buf[16];

	no_comp(p);
	if (!word_number(p, t, &v))
	{
		size_t		k;

		if (t->type != T_WORD)
			syntax_error(p, t);
		for (k = 0; k < sizeof(fwd_names) / sizeof(fwd_names[0]); k++)
			if (word_text(p, t, buf, sizeof(buf)) && strcasecmp(buf, fwd_names[k].name) == 0)
				break;
		if (k == sizeof(fwd_names) / sizeof(fwd_names[0]))
			fail(p, t, "Unknown forwarding status");
		v = fwd_names[k].code;
	}
	else if (v > 255)
		fail(p, t, "Forwarding status out of range 0..255");
	advance(p);
	return node_cmp(p, NFF_FWD_STATUS, NFC_EQ, v);
}

static NfNode *
prim_dir(Parser *p)
{
	no_comp(p);
	if (is_kw(p, cur(p), "ingress") || is_kw(p, cur(p), "egress"))
	{
		uint64_t	v = is_kw(p, cur(p), "egress");

		advance(p);
		return node_cmp(p, NFF_DIRECTION, NFC_EQ, v);
	}
	return prim_simple(p, NFF_DIRECTION, false, 2, "Direction");
}

/* payload content WORD | regex 'RE' [imsx] | ja3 defined|HASH: never stored */
static NfNode *
prim_payload(Parser *p)
{
	const Tok  *t;

	if (is_kw(p, cur(p), "content"))
	{
		advance(p);
		t = cur(p);
		if ((t->type != T_WORD && t->type != T_QUOTED) || t->len > 66)
			syntax_error(p, t);
		advance(p);
	}
	else if (is_kw(p, cur(p), "regex"))
	{
		advance(p);
		expect(p, T_QUOTED);
		t = cur(p);
		if (t->type == T_WORD && all_in(p, t, "ims") && !is_reserved(p, t))
			advance(p);
	}
	else if (is_kw(p, cur(p), "ja3"))
	{
		advance(p);
		t = cur(p);
		if (!is_kw(p, t, "defined") &&
			!(t->type == T_WORD && t->len == 32 && all_in(p, t, "0123456789abcdefABCDEF")))
			syntax_error(p, t);
		advance(p);
	}
	else
		syntax_error(p, cur(p));
	return node_const(p, false);
}

/* label names of %LABEL and flowlabel */
static void
parse_label(Parser *p)
{
	const Tok  *t = cur(p);

	if (t->type != T_WORD || is_reserved(p, t))
		syntax_error(p, t);
	if (t->len > 16)
		fail(p, t, "Size flowlabel of range 1..16");
	advance(p);
}

static NfNode *
prim_asa(Parser *p)
{
	static const char *const names[] = {"ignore", "create", "term", "delete", "deny"};
	static const int codes[] = {0, 1, 2, 2, 3};
	NfCmp		op;

	if (is_kw(p, cur(p), "xevent"))
	{
		advance(p);
		op = parse_comp(p);
		return absent(p, op, parse_number(p, 65535, "ASA xevent"));
	}
	expect_kw(p, "event");
	for (int k = 0; k < 5; k++)
		if (is_kw(p, cur(p), names[k]))
		{
			advance(p);
			return absent(p, NFC_EQ, codes[k]);
		}
	if (is_kw(p, cur(p), "denied"))
	{
		advance(p);
		if (is_kw(p, cur(p), "ingress") || is_kw(p, cur(p), "egress") ||
			is_kw(p, cur(p), "interface") || is_kw(p, cur(p), "nosyn"))
			advance(p);
		else
			parse_number(p, 65535, "ASA xevent");
		return node_const(p, false);	/* event deny (3) never reads as 0 */
	}
	op = parse_comp(p);
	return absent(p, op, parse_number(p, 255, "ASA event"));
}

static NfNode *
prim_nat(Parser *p)
{
	static const char *const names[] = {"add", "create", "delete", "invalid"};
	static const int codes[] = {1, 1, 2, 0};
	NfCmp		op;

	expect_kw(p, "event");
	for (int k = 0; k < 4; k++)
		if (is_kw(p, cur(p), names[k]))
		{
			advance(p);
			return absent(p, NFC_EQ, codes[k]);
		}
	op = parse_comp(p);
	return absent(p, op, parse_number(p, 255, "NAT event"));
}

/* ingress|egress vrf|acl|ace|xace comp N (egress acl is broken in 1.7.1) */
static NfNode *
prim_ingress_egress(Parser *p, bool ingress)
{
	NfCmp		op;

	if (is_kw(p, cur(p), "vrf") ||
		(ingress && (is_kw(p, cur(p), "acl") || is_kw(p, cur(p), "ace") ||
					 is_kw(p, cur(p), "xace"))))
	{
		advance(p);
		op = parse_comp(p);
		return absent(p, op, parse_number(p, UINT32_MAX, "Value"));
	}
	fail(p, cur(p), "ingress/egress syntax error");
}

static NfNode *
prim_xaddr(Parser *p, Quals *q, bool net, bool list_ok)
{
	NfAddr		a;

	allow(p, q, ALLOW_DIR);
	if (net)
	{
		if (peek(p, 1)->type != T_SLASH)
			syntax_error(p, peek(p, 1));
		parse_prefix(p, &a);
		return absent_addr(p, &a, 1);
	}
	if (list_ok && is_kw(p, cur(p), "in"))
	{
		int			n;
		NfAddr	   *list;

		advance(p);
		list = parse_addr_list(p, &n, true);
		return absent_addr(p, list, n);
	}
	if (is_reserved(p, cur(p)))
		syntax_error(p, cur(p));
	parse_host_addr(p, cur(p), &a, "Error parsing IP address. (nfpg does not resolve hostnames)");
	advance(p);
	return absent_addr(p, &a, 1);
}

static NfNode *
prim_unsupported(Parser *p, const Tok *t, const char *why)
{
	fail(p, t, "%s", why);
}

static NfNode *
prim_ident(Parser *p, const Tok *kw)
{
	const Tok  *t = cur(p);

	if (t->type != T_WORD || is_reserved(p, t))
		syntax_error(p, t);
	if (t->len > 255 ||
		!all_in(p, t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"))
		fail(p, t, "Illegal ident string");
	return prim_unsupported(p, kw, "ident is not supported: nfpg keeps no per-file ident");
}

static NfNode *
prim_geo(Parser *p, Quals *q, const Tok *kw)
{
	const Tok  *t = cur(p);

	allow(p, q, ALLOW_DIR);
	if (t->type != T_WORD || is_reserved(p, t))
		syntax_error(p, t);
	if (t->len != 2 || !isalpha((unsigned char) p->text[t->start]) ||
		!isalpha((unsigned char) p->text[t->start + 1]))
		fail(p, t, "Need a two letter geo country code");
	return prim_unsupported(p, kw, "geo is not supported: nfpg has no geo location database");
}

/* Primitives after their qualifiers; kw is the current token. */
static NfNode *
parse_primitive(Parser *p, Quals *q)
{
	const Tok  *kw = cur(p);

#define KW(s) is_kw(p, kw, s)
	if (kw->type != T_WORD)
		syntax_error(p, kw);
	advance(p);
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

		allow(p, q, ALLOW_DIR);
		op = parse_comp(p);
		v = parse_number(p, 255, "TOS");
		/* no qualifier tests only the source ToS */
		return pair_cmp(p, q->dir == Q_NONE ? Q_SRC : q->dir, NFF_SRC_TOS, NFF_DST_TOS, op, v);
	}
	if (KW("vlan") || KW("mask"))
	{
		bool		vlan = KW("vlan");
		uint64_t	v;

		allow(p, q, ALLOW_DIR);
		no_comp(p);
		v = parse_number(p, vlan ? 65535 : 255, vlan ? "VLAN" : "Mask");
		return pair_cmp(p, q->dir, vlan ? NFF_SRC_VLAN : NFF_SRC_MASK,
						vlan ? NFF_DST_VLAN : NFF_DST_MASK, NFC_EQ, v);
	}
	if (KW("mac"))
		return prim_mac(p, q);
	if (KW("if"))
	{
		uint64_t	v;

		allow(p, q, ALLOW_IO);
		no_comp(p);
		v = parse_number(p, UINT32_MAX, "Interface");
		if (q->io)
			return node_cmp(p, q->io == 'i' ? NFF_IN_IF : NFF_OUT_IF, NFC_EQ, v);
		return pair_cmp(p, Q_EITHER, NFF_IN_IF, NFF_OUT_IF, NFC_EQ, v);
	}
	if (KW("packets"))
		return prim_counter(p, q, NFF_PACKETS, NFF_OUT_PACKETS);
	if (KW("bytes"))
		return prim_counter(p, q, NFF_BYTES, NFF_OUT_BYTES);
	if (KW("geo"))
		return prim_geo(p, q, kw);
	if (KW("tunip") || KW("xip") || KW("nip") || KW("xnet"))
		return prim_xaddr(p, q, KW("xnet"), KW("xip") || KW("nip"));
	if (KW("xport") || KW("nport"))
	{
		NfCmp		op;

		allow(p, q, ALLOW_DIR);
		op = parse_comp(p);
		return absent(p, op, parse_number(p, 65535, "Port number"));
	}

	/* everything below takes no qualifier */
	allow(p, q, 0);
	if (KW("any"))
		return node_const(p, true);
	if (KW("ipv4") || KW("inet"))
		return node_cmp(p, NFF_FAMILY, NFC_EQ, 4);
	if (KW("ipv6") || KW("inet6"))
		return node_cmp(p, NFF_FAMILY, NFC_EQ, 6);
	if (KW("proto"))
		return prim_proto(p, false);
	if (KW("tun"))
	{
		expect_kw(p, "proto");
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
		return prim_simple(p, NFF_FLOWS, true, UINT64_MAX, "Flows");
	if (KW("duration"))
		return prim_simple(p, NFF_DURATION, true, UINT64_MAX, "Duration");
	if (KW("pps"))
		return prim_simple(p, NFF_PPS, true, UINT64_MAX, "pps");
	if (KW("bps"))
		return prim_simple(p, NFF_BPS, true, UINT64_MAX, "bps");
	if (KW("bpp"))
		return prim_simple(p, NFF_BPP, true, UINT64_MAX, "bpp");
	if (KW("mpls"))
		return prim_mpls(p);
	if (KW("engine-type") || KW("engine-id"))
		return prim_simple(p, KW("engine-type") ? NFF_ENGINE_TYPE : NFF_ENGINE_ID,
						   true, 255, "Engine");
	if (KW("fwdstat"))
		return prim_fwdstat(p);
	if (KW("dir") || KW("flowdir"))
		return prim_dir(p);
	if (KW("nfversion"))
		return prim_simple(p, NFF_EXPORT_VERSION, true, 10, "Netflow version");
	if (KW("client") || KW("server") || KW("app"))
	{
		NfCmp		op;

		expect_kw(p, "latency");
		op = parse_comp(p);
		return absent(p, op, parse_number(p, UINT64_MAX, "Latency"));
	}
	if (KW("observation"))
	{
		if (!is_kw(p, cur(p), "domain") && !is_kw(p, cur(p), "point"))
			syntax_error(p, cur(p));
		advance(p);
		expect_kw(p, "id");
		no_comp(p);
		return absent(p, NFC_EQ, parse_number(p, UINT64_MAX, "Observation id"));
	}
	if (KW("ingress") || KW("egress"))
		return prim_ingress_egress(p, KW("ingress"));
	if (KW("payload"))
		return prim_payload(p);
	if (KW("flowlabel"))
	{
		parse_label(p);
		return node_const(p, false);
	}
	if (KW("asa"))
		return prim_asa(p);
	if (KW("nat"))
		return prim_nat(p);
	if (KW("pblock"))
	{
		NfCmp		op;

		if (!is_kw(p, cur(p), "start") && !is_kw(p, cur(p), "end") &&
			!is_kw(p, cur(p), "step") && !is_kw(p, cur(p), "size"))
			syntax_error(p, cur(p));
		advance(p);
		op = parse_comp(p);
		return absent(p, op, parse_number(p, 65536, "Port block"));
	}
	if (KW("ident"))
		return prim_ident(p, kw);
	if (KW("count"))
		return prim_unsupported(p, kw, "count is not supported: a table has no read order");
	if (KW("sysid"))
		return prim_unsupported(p, kw, "sysid is not supported: use router ip");
	/* nfpg extension: the common protocols also stand alone, as in tcpdump */
	for (size_t k = 0; k < sizeof(bare_protos) / sizeof(bare_protos[0]); k++)
		if (KW(bare_protos[k].name))
			return node_cmp(p, NFF_PROTO, NFC_EQ, bare_protos[k].code);
#undef KW
	syntax_error(p, kw);
}

static NfNode *
parse_term(Parser *p)
{
	const Tok  *t = cur(p);
	Quals		q = {t, Q_NONE, 0, 0};

	if (is_kw(p, t, "src") || is_kw(p, t, "dst"))
	{
		bool		src = is_kw(p, t, "src");
		const Tok  *n1 = peek(p, 1);
		const Tok  *n2 = peek(p, 2);

		q.dir = src ? Q_SRC : Q_DST;
		advance(p);
		if ((is_or(p, n1) || is_and(p, n1)) && is_kw(p, n2, src ? "dst" : "src"))
		{
			q.dir = is_or(p, n1) ? Q_EITHER : Q_BOTH;
			advance(p);
			advance(p);
		}
	}
	else if (is_kw(p, t, "in") || is_kw(p, t, "out"))
	{
		q.io = is_kw(p, t, "in") ? 'i' : 'o';
		advance(p);
		if (is_kw(p, cur(p), "src") || is_kw(p, cur(p), "dst"))
		{
			if (!is_kw(p, peek(p, 1), "mac"))
				syntax_error(p, cur(p));
			q.dir = is_kw(p, cur(p), "src") ? Q_SRC : Q_DST;
			advance(p);
		}
	}
	else if (is_kw(p, t, "prev") || is_kw(p, t, "previous") ||
			 (is_kw(p, t, "next") && is_kw(p, peek(p, 1), "as")))
	{
		q.adj = is_kw(p, t, "next") ? 'n' : 'p';
		advance(p);
	}
	return parse_primitive(p, &q);
}

/* ---------------------------------------------------------- expressions */

static NfNode *parse_or(Parser *p);

static void
enter(Parser *p)
{
	if (++p->depth > NF_FILTER_MAX_DEPTH)
		fail(p, cur(p), "filter nested deeper than %d levels", NF_FILTER_MAX_DEPTH);
}

static NfNode *
parse_primary(Parser *p)
{
	NfNode	   *e;

	if (cur(p)->type == T_PERCENT)
	{
		advance(p);
		parse_label(p);
		if (cur(p)->type != T_LPAREN)
			syntax_error(p, cur(p));
	}
	if (cur(p)->type != T_LPAREN)
		return parse_term(p);
	advance(p);
	enter(p);
	e = parse_or(p);
	p->depth--;
	expect(p, T_RPAREN);
	if (cur(p)->type == T_PERCENT)
	{
		advance(p);
		parse_label(p);
	}
	return e;
}

static NfNode *
parse_unary(Parser *p)
{
	NfNode	   *e;

	if (cur(p)->type != T_BANG && !is_kw(p, cur(p), "not"))
		return parse_primary(p);
	advance(p);
	enter(p);
	e = node_bool(p, NFN_NOT, parse_unary(p), NULL);
	p->depth--;
	return e;
}

/* Append to an n-ary node, doubling its child array as needed. */
static void
add_child(Parser *p, NfNode *n, int *cap, NfNode *child)
{
	if (n->nchildren == *cap)
	{
		NfNode	  **bigger = palloc_arena(p, sizeof(NfNode *) * *cap * 2);

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

	if (!is_and(p, cur(p)))
		return first;
	n = node(p, NFN_AND);
	n->children = palloc_arena(p, sizeof(NfNode *) * cap);
	add_child(p, n, &cap, first);
	while (is_and(p, cur(p)))
	{
		advance(p);
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

	if (!is_or(p, cur(p)))
		return first;
	n = node(p, NFN_OR);
	n->children = palloc_arena(p, sizeof(NfNode *) * cap);
	add_child(p, n, &cap, first);
	while (is_or(p, cur(p)))
	{
		advance(p);
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
	lex(&p);
	if (cur(&p)->type == T_END)
		f->root = node_const(&p, true);
	else
	{
		f->root = parse_or(&p);
		if (cur(&p)->type != T_END)
			syntax_error(&p, cur(&p));
	}
	return f;
}
