/*-------------------------------------------------------------------------
 *
 * filter_ast.h
 *		Syntax tree of an nfdump 1.7 filter, as produced by filter_parse.c.
 *
 * The parser is PostgreSQL-free (unit tests and the fuzzer link it without
 * a server), so this header uses only the C library.  The tree is already
 * semantic: qualifiers such as "src or dst" are expanded into OR/AND nodes
 * and every leaf names one nfpg.flows field, so filter_plan.c only has to
 * turn leaves into comparisons.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NFPG_FILTER_AST_H
#define NFPG_FILTER_AST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NF_FILTER_MAX_LENGTH	(256 * 1024)	/* bytes of filter text */
#define NF_FILTER_MAX_DEPTH		100			/* nested '(' and 'not' */

/* Fields of nfpg.flows a leaf can test; see nf_fields[] for the columns. */
typedef enum NfFieldId
{
	NFF_PROTO,
	NFF_SRC_PORT,
	NFF_DST_PORT,
	NFF_TCP_FLAGS,
	NFF_SRC_TOS,
	NFF_DST_TOS,
	NFF_PACKETS,
	NFF_BYTES,
	NFF_OUT_PACKETS,
	NFF_OUT_BYTES,
	NFF_FLOWS,
	NFF_SRC_AS,
	NFF_DST_AS,
	NFF_NEXT_AS,
	NFF_PREV_AS,
	NFF_IN_IF,
	NFF_OUT_IF,
	NFF_SRC_VLAN,
	NFF_DST_VLAN,
	NFF_SRC_MASK,
	NFF_DST_MASK,
	NFF_ENGINE_TYPE,
	NFF_ENGINE_ID,
	NFF_FWD_STATUS,
	NFF_DIRECTION,
	NFF_EXPORT_VERSION,
	NFF_SRC_ADDR,
	NFF_DST_ADDR,
	NFF_NEXT_HOP,
	NFF_BGP_NEXT_HOP,
	NFF_EXPORTER,
	NFF_IN_SRC_MAC,
	NFF_IN_DST_MAC,
	NFF_OUT_SRC_MAC,
	NFF_OUT_DST_MAC,
	/* derived values, computed from one or more columns */
	NFF_FAMILY,					/* 4 or 6, from src_addr */
	NFF_DURATION,				/* ms, last_seen - first_seen */
	NFF_PPS,
	NFF_BPS,
	NFF_BPP,
	NFF_MPLS_LABEL,				/* param = stack position 1..10 */
	NFF_MPLS_EXP,				/* param = stack position 1..10 */
	NFF_MPLS_EOS,				/* label of the bottom-of-stack entry */
	NFF_NUM_FIELDS
} NfFieldId;

typedef enum NfFieldKind
{
	NFK_INT,					/* smallint, integer or bigint column */
	NFK_INET,
	NFK_MAC,
	NFK_DERIVED					/* computed by a helper function */
} NfFieldKind;

typedef struct NfField
{
	const char *column;			/* nfpg.flows column (derived: helper name) */
	NfFieldKind kind;
	bool		nullable;		/* NULL in nfpg.flows means absent = 0 */
} NfField;

extern const NfField nf_fields[NFF_NUM_FIELDS];

typedef enum NfCmp
{
	NFC_EQ,
	NFC_LT,
	NFC_LE,
	NFC_GT,
	NFC_GE
} NfCmp;

/* An IPv4 or IPv6 address or prefix; bits = prefix length (32/128: host) */
typedef struct NfAddr
{
	int			family;			/* 4 or 6 */
	int			bits;
	uint8_t		addr[16];		/* network byte order, host bits zero */
} NfAddr;

typedef enum NfNodeType
{
	NFN_AND,					/* children, all true */
	NFN_OR,						/* children, any true */
	NFN_NOT,					/* children[0] */
	NFN_CONST,					/* bval */
	NFN_CMP,					/* field(param) op value */
	NFN_BITS,					/* (field & value) == value2 */
	NFN_NUMLIST,				/* field = any of values[] */
	NFN_ADDR,					/* field in prefix addr (= when host) */
	NFN_ADDRLIST,				/* field in any of addrs[] */
	NFN_MAC,					/* field = mac */
	NFN_MPLS_ANY				/* any stack entry has label value */
} NfNodeType;

typedef struct NfNode
{
	NfNodeType	type;
	int			pos;			/* 1-based byte offset in the filter text */
	NfFieldId	field;
	int			param;
	NfCmp		op;
	bool		bval;
	uint64_t	value;
	uint64_t	value2;
	NfAddr		addr;
	uint8_t		mac[6];
	int			nchildren;
	struct NfNode **children;
	int			nvalues;
	uint64_t   *values;
	int			naddrs;
	NfAddr	   *addrs;
} NfNode;

/* A parsed filter; owns all its nodes. */
typedef struct NfFilter NfFilter;

typedef struct NfParseError
{
	int			pos;			/* 1-based byte offset of the offending token */
	char		message[256];
} NfParseError;

/*
 * Parse text (len bytes, need not be NUL-terminated).  Returns the filter,
 * or NULL with *err filled in.  An empty filter is "any".
 */
extern NfFilter *nf_filter_parse(const char *text, size_t len, NfParseError *err);
extern const NfNode *nf_filter_root(const NfFilter *filter);
extern void nf_filter_free(NfFilter *filter);

/* Helpers shared with the planner and the tests. */
extern bool nf_cmp_holds(uint64_t a, NfCmp op, uint64_t b);
extern bool nf_addr_contains(const NfAddr *prefix, const NfAddr *addr);

#endif
