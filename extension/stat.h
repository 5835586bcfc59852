/*-------------------------------------------------------------------------
 *
 * stat.h
 *		The statistics engine behind nf_stat, nf_aggregate and nf_topn:
 *		a specification (what to group by and how to rank), a hash table
 *		of fixed-width binary keys with nfdump's per-key counters, and the
 *		top-N selection.
 *
 * A transition state is a hash table (stat_table.c); keys are encoded into
 * fixed slots so that hashing and equality are a hash and a memcmp over a
 * few dozen bytes, with no detoasting, no per-group palloc and no tuple
 * handling: that is what made plain GROUP BY 1.3x to 2.9x slower than
 * nfdump.  Two-sided statistics (-s ip, port, as, ...) insert a row once per
 * side from the same transition call, so no UNION ALL doubles the input.
 * Partial states of parallel plans travel as sorted, encoded runs
 * (stat_run.c) that the leader merges in one pass (stat_merge.c); large
 * memory is mapped and kept by the session (stat_mem.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef NFPG_STAT_H
#define NFPG_STAT_H

#include "postgres.h"

#include <sys/socket.h>

#include "datatype/timestamp.h"
#include "fmgr.h"
#include "port/pg_bswap.h"
#include "utils/inet.h"

#define STAT_MAX_KEYS		16
#define STAT_STATE_VERSION	3

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
	int			width;			/* bytes of the encoded value */
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

/*
 * One group: counters, then (record modes) the fields nfdump keeps per
 * aggregated record, then the encoded key at StatState.keyoff.  The -s
 * statistics (stat, stat2) show one side of the packet and byte counters,
 * chosen by the order key (stat_order_side), so they add up that side only
 * and their key follows the first five fields: a group keyed on an address
 * is 40 + 18 bytes, one cache line.  The record modes keep both sides, the
 * flags and the ToS.
 */
typedef struct StatEntry
{
	int64		flows;
	int64		pkts;			/* stat modes: the order's side; records: in */
	int64		bytes;
	TimestampTz first;
	TimestampTz last;
	/* record modes (a, A, b, B) only: stat modes keep their key here */
	int64		opkts;
	int64		obytes;
	TimestampTz decider;		/* last seen of the record that set tos/reversed */
	TimestampTz decider_first;	/* and its first seen */
	uint8		fwd_flags;		/* TCP flags ORed (canonical direction) */
	uint8		rev_flags;		/* -b: flags of records merged reversed */
	uint8		tos;			/* -a: ToS of the first record */
	uint8		reversed;		/* -b: the first record ran reversed */
} StatEntry;

#define STAT_STAT_FIELDS	offsetof(StatEntry, opkts)
#define STAT_RECORD_FIELDS	(offsetof(StatEntry, reversed) + 1)

/* One slot of the hash index: a group's hash and its number + 1 (0: empty). */
typedef struct StatSlot
{
	uint32		hash;
	uint32		ref;
} StatSlot;

/*
 * A run: groups in ascending (hash, key) order, encoded (stat_run.c), as a
 * partial state arrives from a parallel worker, ready to be merged with
 * other runs in one pass.
 */
typedef struct StatRun
{
	uint64		n;
	TimestampTz base;			/* first seen is encoded from here */
	const char *data;
	const char *end;
} StatRun;

/* A large block of the state's memory (stat_mem.c). */
typedef struct StatBlock
{
	void	   *ptr;
	Size		size;
} StatBlock;

#define STAT_CHUNK0_BITS	4	/* chunk c holds 16 << c groups */
#define STAT_MAX_CHUNKS		28	/* 16 * (2^28 - 1) groups: above the 2^31 limit */
#define STAT_BATCH			64	/* records buffered for one prefetched pass */
#define STAT_DIRECT_KEYS	65536	/* integer keys counted in an array (stat_use_direct) */

/*
 * An address in the form of an unmasked key slot: family (PGSQL_AF_INET or
 * PGSQL_AF_INET6), prefix bits, 16 bytes (IPv4 in the first 4, zeros
 * after).  A scan that holds addresses in a binary form of its own hands
 * them to stat_add_columns as such slots, and no inet is built.
 */
#define STAT_ADDR_WIDTH		18

/*
 * The aggregate state.  As a transition state it is a hash table: groups
 * stored densely in chunks that never move (chunk c holds 16 << c groups),
 * found through an open-addressing index of 8-byte slots whose home is the
 * top bits of the hash.  Combined states are a list of sorted runs, merged
 * in one pass by the final function (stat_merge.c).
 */
typedef struct StatState
{
	StatSpec	spec;
	MemoryContext cxt;
	Size		keyoff;			/* where the key starts in a group */
	Size		entsize;		/* bytes of one group */
	StatSide	side;			/* the counters the order shows (stat modes) */
	/* the hash table */
	uint64		nentries;		/* groups */
	uint64		nslots;			/* index slots: a power of two, >= 2 * groups */
	int			shift;			/* home slot = hash >> shift */
	StatSlot   *index;
	char	   *chunks[STAT_MAX_CHUNKS];
	/* direct groups of a small integer key, or NULL (stat_use_direct) */
	char	   *direct;
	/* records waiting for a batched insert (large tables only) */
	int			npending;
	char	   *pend_keys;		/* STAT_BATCH keys */
	StatRecord *pend_recs;
	bool	   *pend_rev;
	/* the runs of a combined state */
	int			nruns;
	int			maxruns;
	StatRun    *runs;
	/* the runs merged: groups to rank instead of the table's, and hashes */
	const char *dense;
	const uint32 *dense_hashes;
	uint64		ndense;
	/* large blocks, returned to the backend's cache when cxt goes */
	int			nblocks;
	int			maxblocks;
	StatBlock  *blocks;
	/* totals over the records, not the keys (percentages, summary) */
	int64		t_records;
	int64		t_flows;
	int64		t_pkts;			/* in + out */
	int64		t_bytes;		/* in + out */
	TimestampTz t_first;
	TimestampTz t_last;
} StatState;

#define STAT_KEY(st, e)		((char *) (e) + (st)->keyoff)

/* Group number i of the table: chunk c holds numbers 16 * (2^c - 1) on. */
static inline StatEntry *
stat_entry(const StatState *st, uint64 i)
{
	uint64		q = (i >> STAT_CHUNK0_BITS) + 1;
	int			c = 63 - __builtin_clzll(q);
	uint64		off = i - ((((uint64) 1 << c) - 1) << STAT_CHUNK0_BITS);

	return (StatEntry *) (st->chunks[c] + off * st->entsize);
}

/* Group number i of what is ranked: the dense groups, else the table's. */
static inline StatEntry *
stat_group(const StatState *st, uint64 i)
{
	if (st->dense)
		return (StatEntry *) (st->dense + i * st->entsize);
	return stat_entry(st, i);
}

/*
 * Whether a record (last and first seen, direction rev, ToS tos) comes
 * before the one that set e's ToS and direction: the earlier end, as nfcapd
 * writes records; on a tie the earlier start (a request before its reply),
 * then the canonical direction and the lower ToS, so that the choice does
 * not depend on the order in which records or partial states arrive.
 */
static inline bool
stat_decides(TimestampTz last, TimestampTz first, bool rev, uint8 tos, const StatEntry *e)
{
	if (last != e->decider)
		return last < e->decider;
	if (first != e->decider_first)
		return first < e->decider_first;
	if (rev != (e->reversed != 0))
		return !rev;
	return tos < e->tos;
}

/* Add a record to a group of a statistic (-s): the order's side only. */
static inline void
stat_apply_stat(StatEntry *e, const StatRecord *r, StatSide side)
{
	e->flows += r->flows;
	if (r->first < e->first)
		e->first = r->first;
	if (r->last > e->last)
		e->last = r->last;
	switch (side)
	{
		case SIDE_IN:
			e->pkts += r->pkts;
			e->bytes += r->bytes;
			break;
		case SIDE_OUT:
			e->pkts += r->opkts;
			e->bytes += r->obytes;
			break;
		case SIDE_BOTH:
			e->pkts += r->pkts + r->opkts;
			e->bytes += r->bytes + r->obytes;
			break;
	}
}

/*
 * Key encoding and the batch, inline: a scan that aggregates calls them
 * for every flow, and across files a call goes through the PLT.
 */

/* Keep the top `keep` bits of an address of `len` bytes. */
static inline void
stat_mask_bits(unsigned char *addr, int len, int keep)
{
	if (len == 4)
	{
		/* IPv4 (-A srcip4/24): one word, big-endian as the address */
		uint32		a;

		memcpy(&a, addr, 4);
		a &= pg_hton32(keep <= 0 ? 0 : ~(uint32) 0 << (32 - keep));
		memcpy(addr, &a, 4);
		return;
	}
	for (int i = 0; i < len; i++)
	{
		int			b = keep - i * 8;

		if (b <= 0)
			addr[i] = 0;
		else if (b < 8)
			addr[i] &= (unsigned char) (0xFF << (8 - b));
	}
}

/*
 * An inet key slot, zeroed by the caller: family, bits, 16 bytes.  Masks
 * follow nfdump: srcip4/L clears the low 32-L bits of any address (IPv6
 * too), srcip6/L keeps L bits of a 128-bit address in which IPv4 sits in
 * the low 32 bits.
 */
static inline void
stat_encode_address(const StatKeyDef *def, char *slot, int family, int bits,
					const unsigned char *addr)
{
	unsigned char *out = (unsigned char *) slot;
	bool		v4 = family == PGSQL_AF_INET;
	int			len = v4 ? 4 : 16;
	int			keep = v4 ? 32 : 128;

	out[0] = family;
	memcpy(out + 2, addr, len);
	if (def->mask4)
		keep = v4 ? def->mask4 : 96 + def->mask4;
	else if (def->mask6)
		keep = v4 ? Max(0, def->mask6 - 96) : def->mask6;
	if (keep < (v4 ? 32 : 128))
		stat_mask_bits(out + 2, len, keep);
	out[1] = (def->mask4 || def->mask6) ? keep : bits;
}

/* An address key from its slot form (STAT_ADDR_WIDTH), masked as the key says. */
static inline void
stat_encode_addr(const StatKeyDef *def, char *slot, const uint8 *addr)
{
	memset(slot, 0, def->width);
	stat_encode_address(def, slot, addr[0], addr[1], addr + 2);
}

extern char *stat_pending_start(StatState *st);
extern void stat_flush(StatState *st);

/*
 * Where the next key is encoded: a batch slot once the table has outgrown
 * the caches, else NULL (add it with stat_add).
 */
static inline char *
stat_pending_key(StatState *st)
{
	if (st->pend_keys == NULL)
		return stat_pending_start(st);
	return st->pend_keys + st->npending * st->spec.keylen;
}

/* Queue the record whose key stat_pending_key placed; flush a full batch. */
static inline void
stat_add_pending(StatState *st, const StatRecord *r, bool reversed)
{
	st->pend_recs[st->npending] = *r;
	st->pend_rev[st->npending] = reversed;
	if (++st->npending == STAT_BATCH)
		stat_flush(st);
}

/* Ask for the cache line at p ahead of a write to it (a hint, or nothing). */
#if defined(__GNUC__) || defined(__clang__)
#define stat_prefetch(p)	__builtin_prefetch((p), 1)
#else
#define stat_prefetch(p)	((void) 0)
#endif

/* The direct group of integer key v (0 <= v < STAT_DIRECT_KEYS). */
static inline StatEntry *
stat_direct_entry(const StatState *st, int64 v)
{
	return (StatEntry *) (st->direct + (Size) v * STAT_STAT_FIELDS);
}

static inline uint64
stat_ngroups(const StatState *st)
{
	return st->dense ? st->ndense : st->nentries;
}

/* stat_mem.c */
extern void stat_mem_init(void);
extern void *stat_alloc(StatState *st, Size size, bool zero);
extern void stat_free(StatState *st, void *ptr);
extern void stat_adopt_blocks(StatState *into, StatState *from);
extern void stat_release(StatState *st);

/* stat_spec.c */
extern void stat_spec_parse(StatSpec *spec, const char *text, int nargs, const Oid *types);
extern StatOrder stat_order_lookup(const char *name);
extern StatSide stat_order_side(StatOrder order);

/* stat_table.c */
extern StatState *stat_state_create(MemoryContext cxt, const StatSpec *spec);
extern void stat_encode_key(const StatSpec *spec, char *buf, const NullableDatum *keys);
extern void stat_encode_value(const StatKeyDef *def, char *slot, Datum d, bool isnull);
extern void stat_table_reset(StatState *st);
extern void stat_add(StatState *st, const char *key, const StatRecord *rec, bool reversed);
extern void stat_use_direct(StatState *st);
extern void stat_settle(StatState *st);
extern Datum stat_decode_key(const StatKeyDef *def, const char *slot);
extern char *stat_render_key(const StatKeyDef *def, const char *slot);

/* stat_run.c */
extern Size stat_run_bound(const StatState *st, uint64 n);
extern char *stat_run_encode(const StatState *st, char *p, uint32 prev, uint32 h,
							 const StatEntry *e, TimestampTz base);
extern const char *stat_run_decode(const StatState *st, const char *p, const char *end,
								   uint32 *h, StatEntry *e, TimestampTz base);

/* stat_agg.c */
#define STAT_RECORD_ARGS	9	/* flows ... tos: the arguments before the keys */
#define STAT_ARG_FLAGS		7	/* tcp_flags and tos among them */
#define STAT_ARG_TOS		8
extern void stat_add_args(StatState *st, const NullableDatum *args);
extern void stat_add_columns(StatState *st, int n, const uint32 *rows, Datum *const *vals,
							 bool *const *nulls, const uint8 *const *addrs);
extern bytea *stat_serialize(StatState *st);
extern bytea *stat_handoff(StatState *st);
extern StatState *stat_state_from_bytes(MemoryContext cxt, bytea *in);

/* stat_merge.c */
extern Size stat_encode_groups(StatState *st, char *out, TimestampTz base);
extern void stat_add_run(StatState *st, uint64 n, TimestampTz base, const char *data,
						 const char *end);
extern void stat_combine(StatState *into, StatState *from);
extern void stat_merge_runs(StatState *st);

/* stat_rank.c */
extern bool stat_output_reversed(const StatState *st, const StatEntry *e);
extern void stat_oriented(const StatState *st, const StatEntry *e, StatEntry *out);
extern uint32 *stat_rank(StatState *st, uint64 *count);
extern void stat_rates(const StatState *st, const StatEntry *e, int64 *pkts, int64 *bytes,
					   int64 *pps, int64 *bps, int64 *bpp);

#endif							/* NFPG_STAT_H */
