/*-------------------------------------------------------------------------
 *
 * stat_rank.c
 *		Rank the groups of a statistics state: nfdump's order values and
 *		rates, the -b/-B output direction, and the top-N selection.
 *
 * Top N uses a bounded heap (O(groups * log N)), so ranking a million
 * groups for the top 10 costs one pass; N = 0 sorts everything.  Ties are
 * broken by the encoded key, so results are deterministic (nfdump breaks
 * them by hash order).
 *
 *-------------------------------------------------------------------------
 */
#include "stat.h"

typedef struct Ranked
{
	double		value;
	uint32		index;
} Ranked;

static int64
int64_key(const StatState *st, const StatEntry *e, int k)
{
	int64		v;

	memcpy(&v, STAT_KEY(st, e) + st->spec.keys[k].offset, 8);
	return v;
}

/*
 * -b: a bucket prints in the direction of its earliest record.  -B also
 * turns TCP/UDP buckets so that the client (high port) is the source.
 */
bool
stat_output_reversed(const StatState *st, const StatEntry *e)
{
	bool		rev = e->reversed;
	int64		sp,
				dp,
				proto;

	if (st->spec.mode != STAT_BIDIR_GUESS)
		return st->spec.mode == STAT_BIDIR && rev;
	proto = int64_key(st, e, 4);
	sp = int64_key(st, e, rev ? 3 : 2);
	dp = int64_key(st, e, rev ? 2 : 3);
	if ((proto == 6 || proto == 17) &&
		((sp < 1024 && dp >= 1024) || (sp < 32768 && dp >= 32768) ||
		 (sp < 49152 && dp >= 49152)))
		rev = !rev;
	return rev;
}

/* The counters of e in its output direction (the key is not copied). */
void
stat_oriented(const StatState *st, const StatEntry *e, StatEntry *out)
{
	memcpy(out, e, st->keyoff);
	if (stat_output_reversed(st, e))
	{
		out->pkts = e->opkts;
		out->bytes = e->obytes;
		out->opkts = e->pkts;
		out->obytes = e->bytes;
		out->fwd_flags = e->rev_flags;
		out->rev_flags = e->fwd_flags;
	}
}

/*
 * The packets and bytes the order key's side shows: the -s statistics add
 * up only that side; the record modes keep both.
 */
static void
side_counters(const StatState *st, const StatEntry *e, int64 *pkts, int64 *bytes)
{
	StatSide	side = stat_order_side(st->spec.order);

	if (st->spec.mode <= STAT_TWO)
		side = SIDE_IN;
	*pkts = side == SIDE_IN ? e->pkts : side == SIDE_OUT ? e->opkts : e->pkts + e->opkts;
	*bytes = side == SIDE_IN ? e->bytes : side == SIDE_OUT ? e->obytes : e->bytes + e->obytes;
}

/*
 * Counters and rates of a row as nfdump prints them: rates over the span
 * min(first)..max(last), 0 for a zero span, truncated to integers.
 */
void
stat_rates(const StatState *st, const StatEntry *e, int64 *pkts, int64 *bytes,
		   int64 *pps, int64 *bps, int64 *bpp)
{
	double		duration = ((e->last - e->first) / 1000) / 1000.0;

	side_counters(st, e, pkts, bytes);
	*pps = duration > 0 ? (int64) (*pkts / duration) : 0;
	*bps = duration > 0 ? (int64) (8.0 * *bytes / duration) : 0;
	*bpp = *pkts ? *bytes / *pkts : 0;
}

/* nfdump's sort value: rates in their integer forms per millisecond span. */
static double
order_value(const StatState *st, const StatEntry *e)
{
	int64		span = (e->last - e->first) / 1000;
	int64		pkts,
				bytes;

	side_counters(st, e, &pkts, &bytes);
	switch (st->spec.order)
	{
		case ORD_FLOWS:
			return e->flows;
		case ORD_PACKETS:
		case ORD_IPKG:
		case ORD_OPKG:
			return pkts;
		case ORD_BYTES:
		case ORD_IBYTE:
		case ORD_OBYTE:
			return bytes;
		case ORD_PPS:
		case ORD_IPPS:
		case ORD_OPPS:
			return span > 0 ? (double) ((1000 * pkts) / span) : 0;
		case ORD_BPS:
		case ORD_IBPS:
		case ORD_OBPS:
			return span > 0 ? (double) ((8000 * bytes) / span) : 0;
		case ORD_BPP:
		case ORD_IBPP:
		case ORD_OBPP:
			return pkts ? (double) (bytes / pkts) : 0;
		case ORD_TSTART:
			return (double) e->first;
		case ORD_TEND:
			return (double) e->last;
		case ORD_DURATION:
			return (double) (e->last - e->first);
		case ORD_NONE:
			break;
	}
	return 0;
}

/* < 0 when a ranks before b. */
static int
rank_cmp(const Ranked *a, const Ranked *b, const StatState *st)
{
	if (a->value != b->value)
		return (a->value > b->value) == st->spec.ascending ? 1 : -1;
	return memcmp(STAT_KEY(st, stat_group(st, a->index)), STAT_KEY(st, stat_group(st, b->index)),
				  st->spec.keylen);
}

static int
rank_qsort_cmp(const void *a, const void *b, void *arg)
{
	return rank_cmp(a, b, arg);
}

/* Sift heap[i] down in a heap whose root ranks last. */
static void
sift_down(Ranked *heap, uint64 n, uint64 i, const StatState *st)
{
	for (;;)
	{
		uint64		worst = i,
					l = 2 * i + 1,
					r = l + 1;
		Ranked		tmp;

		if (l < n && rank_cmp(&heap[l], &heap[worst], st) > 0)
			worst = l;
		if (r < n && rank_cmp(&heap[r], &heap[worst], st) > 0)
			worst = r;
		if (worst == i)
			return;
		tmp = heap[i];
		heap[i] = heap[worst];
		heap[worst] = tmp;
		i = worst;
	}
}

/*
 * The group numbers (stat_group) of the top spec.top groups (all if 0),
 * best first.  Returns a palloc'd array; *count gets its length.
 */
uint32 *
stat_rank(StatState *st, uint64 *count)
{
	uint64		n;
	uint64		k;
	Ranked	   *heap;
	uint64		used = 0;
	uint32	   *result;

	/* the records still queued, the runs of a combined state merged */
	stat_settle(st);
	if (st->nruns > 0)
		stat_merge_runs(st);
	n = stat_ngroups(st);
	k = (st->spec.top > 0 && (uint64) st->spec.top < n) ? (uint64) st->spec.top : n;
	heap = palloc_extended(Max(k, 1) * sizeof(Ranked), MCXT_ALLOC_HUGE);

	for (uint64 i = 0; i < n; i++)
	{
		StatEntry	o;
		Ranked		c;

		if (st->spec.mode > STAT_TWO)
		{
			stat_oriented(st, stat_group(st, i), &o);
			c.value = order_value(st, &o);
		}
		else
			c.value = order_value(st, stat_group(st, i));
		c.index = (uint32) i;
		if (used < k)
		{
			heap[used++] = c;
			if (used == k)
				for (uint64 j = k / 2 + 1; j-- > 0;)
					sift_down(heap, k, j, st);
		}
		else if (k > 0 && rank_cmp(&c, &heap[0], st) < 0)
		{
			heap[0] = c;
			sift_down(heap, k, 0, st);
		}
	}
	qsort_arg(heap, used, sizeof(Ranked), rank_qsort_cmp, st);
	result = palloc_extended(Max(used, 1) * sizeof(uint32), MCXT_ALLOC_HUGE);
	for (uint64 i = 0; i < used; i++)
		result[i] = heap[i].index;
	pfree(heap);
	*count = used;
	return result;
}
