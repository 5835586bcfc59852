/*-------------------------------------------------------------------------
 *
 * stat.h
 *		The statistics engine behind nf_stat, nf_aggregate and nf_topn:
 *		a specification (what to group by and how to rank), a hash table
 *		of fixed-width binary keys with nfdump's per-key counters, and the
 *		top-N selection.
 *
 * One aggregate state holds one hash table.  Keys are encoded into fixed
 * slots (see stat_table.c) so that hashing and equality are a hash and a
 * memcmp over a few dozen bytes, with no detoasting, no per-group palloc
 * and no tuple handling: that is what made plain GROUP BY 1.3x to 2.9x
 * slower than nfdump.  Two-sided statistics (-s ip, port, as, ...) insert a
 * row once per side from the same transition call, so no UNION ALL doubles
 * the input.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NFPG_STAT_H
#define NFPG_STAT_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "fmgr.h"

#define STAT_MAX_KEYS		16
#define STAT_STATE_VERSION	1

/* What the aggregate computes; the first token of the specification. */
typedef enum StatMode
{
	STAT_ONE,					/* "stat": element statistic, one key per row */
	STAT_TWO,					/* "stat2": two-sided, keys = src half + dst half */
	STAT_AGG_DEFAULT,			/* "a": -a, 5-tuple, flags ORed, ToS of earliest */
	STAT_AGG_CUSTOM,			/* "A": -A fields, every other field zeroed */
	STAT_BIDIR,					/* "b": -b */
	STAT_BIDIR_GUESS			/* "B": -B, client/server direction guessed */
} StatMode;

/* Order keys, in nfdump's order (3.1) followed by the -O only ones. */
typedef enum StatOrder
{
	ORD_FLOWS, ORD_PACKETS, ORD_IPKG, ORD_OPKG, ORD_BYTES, ORD_IBYTE, ORD_OBYTE,
	ORD_PPS, ORD_IPPS, ORD_OPPS, ORD_BPS, ORD_IBPS, ORD_OBPS,
	ORD_BPP, ORD_IBPP, ORD_OBPP, ORD_TSTART, ORD_TEND, ORD_DURATION,
	ORD_NONE
} StatOrder;

/* Which counters an order key shows: input, output or both (3.1). */
typedef enum StatSide
{
	SIDE_IN, SIDE_OUT, SIDE_BOTH
} StatSide;

typedef enum StatRender
{
	RENDER_PLAIN, RENDER_MPLS, RENDER_HEX
} StatRender;

/* One key of the grouping; offsets are into the encoded key. */
typedef struct StatKeyDef
{
	Oid			type;
	int			offset;
	int			width;			/* slot width including the null byte */
	int			mask4;			/* -A ...ip4/L: L, else 0 */
	int			mask6;			/* -A ...ip6/L: L, else 0 */
	StatRender	render;
	char		name[NAMEDATALEN];
} StatKeyDef;

typedef struct StatSpec
{
	StatMode	mode;
	StatOrder	order;
	bool		ascending;
	int64		top;			/* 0: all */
	int			nkeys;			/* keys per side */
	int			keylen;			/* bytes of one encoded key */
	StatKeyDef	keys[STAT_MAX_KEYS];
	char	   *text;			/* the specification as given */
} StatSpec;

/*
 * One group.  The encoded key follows the fixed part.  Groups live in the
 * slots of an open-addressing table, entsize bytes each; a slot whose flow
 * count is 0 is empty (every group has at least one flow).
 */
typedef struct StatEntry
{
	uint32		hash;
	uint8		fwd_flags;		/* TCP flags ORed (canonical direction) */
	uint8		rev_flags;		/* -b: flags of records merged reversed */
	uint8		tos;			/* -a: ToS of the first record */
	uint8		reversed;		/* -b: the first record ran reversed */
	int64		flows;
	int64		pkts;
	int64		bytes;
	int64		opkts;
	int64		obytes;
	TimestampTz first;
	TimestampTz last;
	TimestampTz decider;		/* last seen of the record that set tos/reversed */
	char		key[FLEXIBLE_ARRAY_MEMBER];
} StatEntry;

typedef struct StatState
{
	StatSpec	spec;
	MemoryContext cxt;
	Size		entsize;
	uint64		nentries;		/* groups */
	uint64		nslots;			/* power of two, at least 2 * nentries */
	char	   *slots;			/* nslots entries of entsize bytes */
	/* totals over the records, not the keys (percentages, summary) */
	int64		t_records;
	int64		t_flows;
	int64		t_pkts;			/* in + out */
	int64		t_bytes;		/* in + out */
	TimestampTz t_first;
	TimestampTz t_last;
} StatState;

/* One input record, as the transition function hands it over. */
typedef struct StatRecord
{
	int64		flows;
	int64		pkts;
	int64		bytes;
	int64		opkts;
	int64		obytes;
	TimestampTz first;
	TimestampTz last;
	uint8		flags;
	uint8		tos;
} StatRecord;

#define STAT_SLOT(st, i)	((StatEntry *) ((st)->slots + (Size) (i) * (st)->entsize))
#define STAT_SLOT_USED(e)	((e)->flows != 0)

/* stat_spec.c */
extern void stat_spec_parse(StatSpec *spec, const char *text, int nargs, const Oid *types);
extern StatOrder stat_order_lookup(const char *name);
extern StatSide stat_order_side(StatOrder order);

/* stat_table.c */
extern StatState *stat_state_create(MemoryContext cxt, const StatSpec *spec);
extern void stat_encode_key(const StatSpec *spec, char *buf, FunctionCallInfo fcinfo,
							int first_arg);
extern void stat_add(StatState *st, const char *key, const StatRecord *rec, bool reversed);
extern void stat_merge(StatState *into, const StatState *from);
extern void stat_place(StatState *st, const StatEntry *e);
extern Datum stat_decode_key(const StatKeyDef *def, const char *slot, bool *isnull);
extern char *stat_render_key(const StatKeyDef *def, const char *slot);

/* stat_rank.c */
extern bool stat_output_reversed(const StatState *st, const StatEntry *e);
extern void stat_oriented(const StatState *st, const StatEntry *e, StatEntry *out);
extern uint32 *stat_rank(StatState *st, uint64 *count);
extern void stat_rates(const StatEntry *e, StatSide side, int64 *pkts, int64 *bytes,
					   int64 *pps, int64 *bps, int64 *bpp);

#endif							/* NFPG_STAT_H */
