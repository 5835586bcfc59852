/*-------------------------------------------------------------------------
 *
 * filter_parse_internal.h
 *		What the files of the filter parser share: the parser's state, its
 *		tokens, and the helpers one file makes for the others (all named
 *		fp_*).  Users of the parser need filter_ast.h only.
 *
 *	 filter_lex.c		the parser's arena, its errors, the lexer, token tests
 *	 filter_addr.c		addresses, prefixes and lists of them
 *	 filter_prim.c		the primitives on addresses, ports, protocols, counters
 *	 filter_prim_more.c	the rest: MPLS, NSEL/NAT, payload, ident, geo ...
 *	 filter_parse.c		nodes, and/or/not expressions, nf_filter_parse()
 *
 * Like them, this header must not include postgres.h (the unit tests and
 * the fuzzer link the parser on its own).
 *
 *-------------------------------------------------------------------------
 */
#ifndef NFPG_FILTER_PARSE_INTERNAL_H
#define NFPG_FILTER_PARSE_INTERNAL_H

#include "filter_ast.h"

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>

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

/* The qualifiers read before a primitive ("src", "in", "prev" ...). */
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

/* filter_lex.c: the arena, errors, lexer and token tests */
extern void *fp_palloc_arena(Parser *p, size_t size);
extern const Tok *fp_cur(Parser *p);
extern const Tok *fp_peek(Parser *p, int k);
extern void fp_advance(Parser *p);
extern void fp_fail(Parser *p, const Tok *t, const char *fmt,...) __attribute__((noreturn, format(printf, 3, 4)));
extern void fp_syntax_error(Parser *p, const Tok *t) __attribute__((noreturn));
extern void fp_lex(Parser *p);
extern bool fp_is_kw(Parser *p, const Tok *t, const char *kw);
extern bool fp_is_reserved(Parser *p, const Tok *t);
extern bool fp_is_or(Parser *p, const Tok *t);
extern bool fp_is_and(Parser *p, const Tok *t);
extern bool fp_all_in(Parser *p, const Tok *t, const char *set);
extern void fp_expect(Parser *p, TokType type);
extern void fp_expect_kw(Parser *p, const char *kw);
extern bool fp_word_text(Parser *p, const Tok *t, char *buf, size_t size);
extern bool fp_word_number(Parser *p, const Tok *t, uint64_t *out);
extern uint64_t fp_parse_number(Parser *p, uint64_t max, const char *what);
extern bool fp_is_comp(Parser *p, const Tok *t);
extern NfCmp fp_parse_comp(Parser *p);
extern void fp_no_comp(Parser *p);

/* filter_parse.c: node makers */
extern NfNode *fp_node(Parser *p, NfNodeType type);
extern NfNode *fp_node_const(Parser *p, bool b);
extern NfNode *fp_node_cmp(Parser *p, NfFieldId field, NfCmp op, uint64_t v);
extern NfNode *fp_node_bool(Parser *p, NfNodeType type, NfNode *a, NfNode *b);
extern NfNode *fp_pair(Parser *p, Qual q, NfNode *src, NfNode *dst);
extern NfNode *fp_pair_cmp(Parser *p, Qual q, NfFieldId src, NfFieldId dst, NfCmp op, uint64_t v);
extern NfNode *fp_absent(Parser *p, NfCmp op, uint64_t v);
extern NfNode *fp_proto_is(Parser *p, uint64_t a, uint64_t b);

/* filter_addr.c: addresses */
extern void fp_parse_host_addr(Parser *p, const Tok *t, NfAddr *a, const char *hostmsg);
extern void fp_parse_prefix(Parser *p, NfAddr *a);
extern void fp_parse_net(Parser *p, NfAddr *a);
extern NfAddr *fp_parse_addr_list(Parser *p, int *count, bool prefixes);
extern uint64_t *fp_parse_num_list(Parser *p, int *count, uint64_t max, const char *what);
extern NfNode *fp_addr_node(Parser *p, NfFieldId field, const NfAddr *a);
extern NfNode *fp_addrlist_node(Parser *p, NfFieldId field, NfAddr *list, int count);
extern NfNode *fp_numlist_node(Parser *p, NfFieldId field, uint64_t *list, int count);
extern NfNode *fp_absent_addr(Parser *p, const NfAddr *list, int count);

/* filter_prim.c: primitives */
extern void fp_allow(Parser *p, const Quals *q, int mask);
extern NfNode *fp_prim_simple(Parser *p, NfFieldId field, bool comp, uint64_t max, const char *what);
extern NfNode *fp_parse_term(Parser *p);

/* filter_prim_more.c: the other primitives */
extern NfNode *fp_prim_mpls(Parser *p);
extern NfNode *fp_prim_fwdstat(Parser *p);
extern NfNode *fp_prim_dir(Parser *p);
extern NfNode *fp_prim_payload(Parser *p);
extern void fp_parse_label(Parser *p);
extern NfNode *fp_prim_asa(Parser *p);
extern NfNode *fp_prim_nat(Parser *p);
extern NfNode *fp_prim_ingress_egress(Parser *p, bool ingress);
extern NfNode *fp_prim_xaddr(Parser *p, Quals *q, bool net, bool list_ok);
extern NfNode *fp_prim_unsupported(Parser *p, const Tok *t, const char *why);
extern NfNode *fp_prim_ident(Parser *p, const Tok *kw);
extern NfNode *fp_prim_geo(Parser *p, Quals *q, const Tok *kw);

#endif							/* NFPG_FILTER_PARSE_INTERNAL_H */
