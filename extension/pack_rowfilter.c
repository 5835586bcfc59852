/*-------------------------------------------------------------------------
 *
 * pack_rowfilter.c
 *		Which rows of a block that a packed scan reads can pass the query's
 *		conditions: the row pre-filter.
 *
 * Block skipping (pack_skip.c) decides from a block's summary whether any
 * row of it may match; a lookup still reads many blocks in which only a few
 * rows do (a busy host is in most blocks of the hour, port 587 in every
 * one, and a Bloom filter has false positives).  Building a tuple for every
 * row of such a block, with an inet value palloc'd for each address and
 * every column decoded, and letting the executor reject it, cost more than
 * the rest of the lookup.  So the scan first decodes only the columns the
 * conditions read, keeps them as the codec's arrays (int64 values, 17-byte
 * address records: colcodec.h), and this file evaluates pack_skip.c's tree
 * on them; the scan then builds values for the selected rows only, and
 * decodes the other columns for those rows only (cc_decode_rows).
 *
 * The evaluation works on a selection vector, the ascending row numbers
 * still in play, as column stores do (MonetDB/X100): a leaf is a tight
 * loop that keeps the rows it accepts; AND narrows the selection child by
 * child, so later children test only what earlier ones kept; OR runs each
 * child on the rows no earlier child accepted and merges them in order.
 * The packed scan goes one step further (pack_rowfilter_lazy): the columns
 * of an AND's children are decoded as the children are tested, an address
 * or port equality first, and the later children's columns for the rows
 * kept so far only, that is the frames that hold them (colcodec_frames.c).
 * "proto tcp and dst port 587 and bytes > 600" over a packed day decoded
 * three columns of every block it read, where the port keeps one flow in
 * a hundred (53 ms serial on the benchmark's day, now 42; with "and
 * packets > 2" too, 74 ms, now 44).
 *
 * It answers "maybe" exactly where pack_skip.c does, so the rows it keeps
 * are a superset of the rows the quals accept, and exactly those when
 * pack_skip_compile() left nothing out:
 *	 - a leaf is exact: an address is equal when its 17-byte record is (the
 *	   record holds family, prefix length and the whole address, all of what
 *	   inet equality compares); a port, a protocol set, a first_seen or other
 *	   integer comparison compares the stored values, which are the column's
 *	   values as 64-bit integers (int2, int4 and int8 constants alike);
 *	 - what the tree does not understand is not in it (an unknown conjunct)
 *	   or makes its OR unknown, as for blocks;
 *	 - a NULL passes no leaf: the tree has no NOT (the planner pushes NOT
 *	   into the comparisons: <>, >=, <> ALL), so it is AND and OR of
 *	   comparisons, and there (Kleene's logic) a NULL comparison can make
 *	   the whole true only if true and false both would; counting it false
 *	   keeps every row the quals accept, and no other.
 * The executor still evaluates every qual on the rows a row scan returns:
 * the pre-filter changes the work, never the answer.  The scan that
 * aggregates (pack_agg.c) skips that step when the tree is exact.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/stratnum.h"

#include "pack.h"

static inline bool
is_null(const CcColumn *c, uint32 row)
{
	return c->isnull && c->isnull[row];
}

static inline bool
compare_passes(int64 v, int strategy, int64 t)
{
	switch (strategy)
	{
		case PACK_NE_STRATEGY:
			return v != t;
		case BTLessStrategyNumber:
			return v < t;
		case BTLessEqualStrategyNumber:
			return v <= t;
		case BTEqualStrategyNumber:
			return v == t;
		case BTGreaterEqualStrategyNumber:
			return v >= t;
		case BTGreaterStrategyNumber:
			return v > t;
	}
	return true;
}

/*
 * Keep the rows row_ of sel[0..n) for which cond holds, branch-free (the
 * row is stored, the count advances by the condition), and return how many.
 */
#define SELECT_WHERE(cond) \
	do { \
		for (int k = 0; k < n; k++) \
		{ \
			uint32		row_ = sel[k]; \
			sel[m] = row_; \
			m += (cond) ? 1 : 0; \
		} \
		return m; \
	} while (0)

/* Keep in sel[0..n) the rows leaf s accepts; returns how many. */
static int
select_leaf(const PackSkip *s, const CcColumn *c, uint32 *sel, int n)
{
	int			m = 0;

	/* a column NULL in every row has no values, and no row passes */
	if (c->ints == NULL && c->data == NULL)
		return 0;
	switch (s->kind)
	{
		case SK_TIME:
		case SK_INT:
			if (c->isnull)
			{
				for (int k = 0; k < n; k++)
					if (!c->isnull[sel[k]] && compare_passes(c->ints[sel[k]], s->strategy, s->t))
						sel[m++] = sel[k];
				return m;
			}
			/* no NULLs: one loop per comparison, each a compare and a store */
			switch (s->strategy)
			{
				case PACK_NE_STRATEGY:
					SELECT_WHERE(c->ints[row_] != s->t);
				case BTLessStrategyNumber:
					SELECT_WHERE(c->ints[row_] < s->t);
				case BTLessEqualStrategyNumber:
					SELECT_WHERE(c->ints[row_] <= s->t);
				case BTEqualStrategyNumber:
					SELECT_WHERE(c->ints[row_] == s->t);
				case BTGreaterEqualStrategyNumber:
					SELECT_WHERE(c->ints[row_] >= s->t);
				case BTGreaterStrategyNumber:
					SELECT_WHERE(c->ints[row_] > s->t);
			}
			return n;
		case SK_PROTO:
			for (int k = 0; k < n; k++)
			{
				int64		p = c->ints[sel[k]];

				if (!is_null(c, sel[k]) && p >= 0 && p <= 255 && (s->protos[p / 8] & (1 << (p % 8))))
					sel[m++] = sel[k];
			}
			return m;
		case SK_KEY:
			if (s->is_addr)
			{
				Assert(c->kind == CC_FIXED && c->width == PACK_INET_WIDTH);
				for (int k = 0; k < n; k++)
					if (memcmp(c->data + (size_t) sel[k] * PACK_INET_WIDTH, s->rec, PACK_INET_WIDTH) == 0 &&
						!is_null(c, sel[k]))
						sel[m++] = sel[k];
			}
			else
			{
				for (int k = 0; k < n; k++)
					if (c->ints[sel[k]] == s->t && !is_null(c, sel[k]))
						sel[m++] = sel[k];
			}
			return m;
		default:
			return n;
	}
}

/* Keep the rows whose bytes per packet, as nfpg.flow_bpp() computes it, pass. */
static int
select_bpp(const PackSkip *s, const CcColumn *bytes, const CcColumn *packets, uint32 *sel, int n)
{
	int			m = 0;

	if (bytes->ints == NULL || packets->ints == NULL)
		return 0;				/* NULL in every row */
	for (int k = 0; k < n; k++)
	{
		uint32		r = sel[k];
		int64		p = packets->ints[r];

		if (!is_null(bytes, r) && !is_null(packets, r) &&
			compare_passes(p > 0 ? bytes->ints[r] / p : 0, s->strategy, s->t))
			sel[m++] = r;
	}
	return m;
}

/* Narrow sel[0..n) to the rows s may accept; returns how many. */
static int
select_rows(const PackSkip *s, const CcColumn *cols, int nrows, uint32 *sel, int n)
{
	ListCell   *lc;

	switch (s->kind)
	{
		case SK_MAYBE:
			return n;
		case SK_AND:
			foreach(lc, s->children)
			{
				if (n == 0)
					break;
				n = select_rows(lfirst(lc), cols, nrows, sel, n);
			}
			return n;
		case SK_OR:
			{
				/* rest: the rows no child has accepted yet; hit: accepted */
				uint32	   *rest = palloc(sizeof(uint32) * Max(n, 1));
				uint32	   *part = palloc(sizeof(uint32) * Max(n, 1));
				bool	   *hit = palloc0(sizeof(bool) * Max(nrows, 1));
				int			nrest = n,
							m = 0;

				memcpy(rest, sel, sizeof(uint32) * n);
				foreach(lc, s->children)
				{
					int			npart,
								r = 0;

					if (nrest == 0)
						break;
					memcpy(part, rest, sizeof(uint32) * nrest);
					npart = select_rows(lfirst(lc), cols, nrows, part, nrest);
					if (npart == 0)
						continue;
					for (int k = 0; k < npart; k++)
						hit[part[k]] = true;
					for (int k = 0; k < nrest; k++)
						if (!hit[rest[k]])
							rest[r++] = rest[k];
					nrest = r;
				}
				for (int k = 0; k < n; k++)
					if (hit[sel[k]])
						sel[m++] = sel[k];
				pfree(rest);
				pfree(part);
				pfree(hit);
				return m;
			}
		case SK_BPP:
			return select_bpp(s, &cols[s->attno - 1], &cols[s->attno2 - 1], sel, n);
		default:
			return select_leaf(s, &cols[s->attno - 1], sel, n);
	}
}

/*
 * The conjuncts of an AND in the order they are tested: equality on an
 * address or a port first (rare in a block: "dst port 587" keeps one flow
 * in a hundred, "proto tcp" four in five), then the others as written.
 */
static int
conjunct_order(const PackSkip *s, const PackSkip **order)
{
	ListCell   *lc;
	int			n = 0;

	for (int pass = 0; pass < 2; pass++)
		foreach(lc, s->children)
		{
			const PackSkip *c = lfirst(lc);

			if ((c->kind == SK_KEY) == (pass == 0))
				order[n++] = c;
		}
	return n;
}

int
pack_rowfilter(const PackSkip *skip, const CcColumn *cols, int nrows, uint32 *sel)
{
	for (int i = 0; i < nrows; i++)
		sel[i] = (uint32) i;
	if (skip == NULL)
		return nrows;
	return select_rows(skip, cols, nrows, sel, nrows);
}

int
pack_rowfilter_lazy(const PackSkip *skip, const CcColumn *cols, int natts, int nrows, uint32 *sel,
					PackDecodeFn decode, void *arg)
{
	bool	   *want = palloc(sizeof(bool) * natts);
	bool	   *done = palloc0(sizeof(bool) * natts);
	const PackSkip **order;
	int			nchild,
				n = nrows;

	for (int i = 0; i < nrows; i++)
		sel[i] = (uint32) i;
	if (skip == NULL)
		return nrows;
	if (skip->kind != SK_AND)
	{
		memset(want, 0, sizeof(bool) * natts);
		pack_skip_columns(skip, want);
		decode(arg, want, NULL, nrows);
		return select_rows(skip, cols, nrows, sel, nrows);
	}

	/*
	 * A conjunct's columns are decoded when it is tested, for the rows the
	 * ones before it kept: in a block where "dst port 587" keeps a run of
	 * a few hundred flows, "proto tcp" reads the frames of that run.
	 */
	order = palloc(sizeof(PackSkip *) * list_length(skip->children));
	nchild = conjunct_order(skip, order);
	for (int k = 0; k < nchild && n > 0; k++)
	{
		bool		any = false;

		memset(want, 0, sizeof(bool) * natts);
		pack_skip_columns(order[k], want);
		for (int a = 0; a < natts; a++)
		{
			want[a] = want[a] && !done[a];
			done[a] |= want[a];
			any |= want[a];
		}
		if (any)
			decode(arg, want, n < nrows ? sel : NULL, n);
		n = select_rows(order[k], cols, nrows, sel, n);
	}
	return n;
}
