/*-------------------------------------------------------------------------
 *
 * stat_merge.c
 *		Partial states as sorted runs, and the one-pass merge of runs that
 *		replaces re-inserting every partial group into one hash table.
 *
 * In a parallel plan each worker (and the leader) aggregates its share of
 * the flows into a table of its own, and PostgreSQL hands the partial
 * states to the leader, which combines them one by one.  For -s ip each
 * partial table holds nearly every address, so combining by lookup meant a
 * serial re-insertion of millions of groups into a table far larger than
 * the caches: half the run time of the parallel plan, which came out slower
 * than the serial one.
 *
 * Instead each partial state leaves its worker as a run: its groups ordered
 * by (hash, key).  The ordering is nearly free, because the index places a
 * group at the top bits of its hash: reading the index in slot order gives
 * the groups by hash up to the short displacements of linear probing, which
 * an insertion sort removes (stat_sorted_run).  Combining states in the
 * leader only appends runs (stat_combine); the final function merges all
 * runs in one sequential pass, adding up equal keys as they meet
 * (stat_merge_runs), and ranks the merged groups.  The leader's serial work
 * is then a streaming pass over the partial groups, with no hash table,
 * while the ordering is done by the workers, in parallel.
 *
 *-------------------------------------------------------------------------
 */
#include "stat.h"

#include "utils/memutils.h"

/* (hash, key) order of two groups of st. */
static inline int
group_cmp(const StatState *st, uint32 ha, const StatEntry *a, uint32 hb, const StatEntry *b)
{
	if (ha != hb)
		return ha < hb ? -1 : 1;
	return memcmp(STAT_KEY(st, a), STAT_KEY(st, b), st->spec.keylen);
}

/*
 * The table's groups as slots in ascending (hash, key) order; *n gets their
 * number.  The caller frees the array (stat_free).
 */
static StatSlot *
sorted_slots(StatState *st, uint64 *count)
{
	uint64		n = 0;
	uint64		first_empty = 0;
	StatSlot   *order = stat_alloc(st, Max(st->nentries, 1) * sizeof(StatSlot), false);

	/*
	 * Slot order is home order, except that a cluster running past the end
	 * of the index wraps round to its start: those slots, before the first
	 * empty one, whose home lies after them, go last.
	 */
	while (st->index[first_empty].ref)
		first_empty++;
	for (uint64 j = 0; j < first_empty; j++)
		if ((st->index[j].hash >> st->shift) <= j)
			order[n++] = st->index[j];
	for (uint64 j = first_empty; j < st->nslots; j++)
		if (st->index[j].ref)
			order[n++] = st->index[j];
	for (uint64 j = 0; j < first_empty; j++)
		if ((st->index[j].hash >> st->shift) > j)
			order[n++] = st->index[j];
	Assert(n == st->nentries);

	/* insertion sort: groups are out of place only within a cluster */
	for (uint64 i = 1; i < n; i++)
	{
		StatSlot	s = order[i];
		uint64		j = i;

		while (j > 0 &&
			   group_cmp(st, order[j - 1].hash, stat_entry(st, order[j - 1].ref - 1),
						 s.hash, stat_entry(st, s.ref - 1)) > 0)
		{
			order[j] = order[j - 1];
			j--;
		}
		order[j] = s;
	}
	*count = n;
	return order;
}

/*
 * Encode the groups (the merged ones if the runs were merged, else the
 * table's) as a run at out, which has room for stat_run_bound bytes; first
 * seen is encoded from base, at most the earliest.  Returns the bytes used.
 */
Size
stat_encode_groups(StatState *st, char *out, TimestampTz base)
{
	char	   *p = out;
	uint32		prev = 0;

	if (st->dense)
	{
		for (uint64 i = 0; i < st->ndense; i++)
		{
			p = stat_run_encode(st, p, prev, st->dense_hashes[i], stat_group(st, i), base);
			prev = st->dense_hashes[i];
		}
	}
	else if (st->nentries > 0)
	{
		uint64		n;
		StatSlot   *order = sorted_slots(st, &n);

		for (uint64 i = 0; i < n; i++)
		{
			if (i + 8 < n)
				__builtin_prefetch(stat_entry(st, order[i + 8].ref - 1));
			p = stat_run_encode(st, p, prev, order[i].hash, stat_entry(st, order[i].ref - 1), base);
			prev = order[i].hash;
		}
		stat_free(st, order);
	}
	return p - out;
}

/* Add a run of n groups (kept by reference: the caller keeps it alive). */
void
stat_add_run(StatState *st, uint64 n, TimestampTz base, const char *data, const char *end)
{
	if (n == 0)
		return;
	if (st->nruns == st->maxruns)
	{
		st->maxruns = Max(4, 2 * st->maxruns);
		st->runs = st->runs ?
			repalloc(st->runs, st->maxruns * sizeof(StatRun)) :
			MemoryContextAlloc(st->cxt, st->maxruns * sizeof(StatRun));
	}
	st->runs[st->nruns].n = n;
	st->runs[st->nruns].base = base;
	st->runs[st->nruns].data = data;
	st->runs[st->nruns].end = end;
	st->nruns++;
}

/* A state's table becomes a run of its own. */
static void
table_to_run(StatState *st)
{
	char	   *buf;
	Size		len;

	stat_settle(st);
	if (st->nentries == 0)
		return;
	buf = stat_alloc(st, stat_run_bound(st, st->nentries), false);
	len = stat_encode_groups(st, buf, st->t_first);
	stat_add_run(st, st->nentries, st->t_first, buf, buf + len);
	stat_table_reset(st);
}

/*
 * Combine: from's groups and totals join into's, as runs (no group is
 * looked up here).  from's memory must live as long as into's: both are in
 * the aggregate's context.
 */
void
stat_combine(StatState *into, StatState *from)
{
	table_to_run(into);
	table_to_run(from);
	for (int i = 0; i < from->nruns; i++)
		stat_add_run(into, from->runs[i].n, from->runs[i].base, from->runs[i].data,
					 from->runs[i].end);
	stat_adopt_blocks(into, from);
	into->t_records += from->t_records;
	into->t_flows += from->t_flows;
	into->t_pkts += from->t_pkts;
	into->t_bytes += from->t_bytes;
	into->t_first = Min(into->t_first, from->t_first);
	into->t_last = Max(into->t_last, from->t_last);
}

/* Add group f into e, both of st (combine's counting rules). */
static void
merge_group(const StatState *st, StatEntry *e, const StatEntry *f)
{
	e->flows += f->flows;
	e->pkts += f->pkts;
	e->bytes += f->bytes;
	e->first = Min(e->first, f->first);
	e->last = Max(e->last, f->last);
	if (st->spec.mode <= STAT_TWO)
		return;
	e->opkts += f->opkts;
	e->obytes += f->obytes;
	e->fwd_flags |= f->fwd_flags;
	e->rev_flags |= f->rev_flags;
	if (stat_decides(f->decider, f->decider_first, f->reversed, f->tos, e))
	{
		e->tos = f->tos;
		e->reversed = f->reversed;
		e->decider = f->decider;
		e->decider_first = f->decider_first;
	}
}

/* The decoding position of one run in the merge. */
typedef struct Head
{
	const char *p;
	uint64		left;			/* groups after the current one */
	uint32		hash;
	StatEntry  *group;			/* the current group, decoded */
} Head;

/*
 * Merge the runs into the groups to rank: st->dense, dense_hashes and
 * ndense get them in (hash, key) order, and the runs are gone.  Each run is
 * decoded once, in order; the run with the least current group is found
 * with a small binary heap; equal keys are added up as they meet.
 */
void
stat_merge_runs(StatState *st)
{
	int			k;
	uint64		total = 0;
	uint64		out = 0;
	Head	   *heads;
	int		   *heap;
	int			nheap = 0;
	uint32	   *hashes;
	char	   *groups;
	StatEntry  *last = NULL;

	if (st->nentries > 0)
		table_to_run(st);
	k = st->nruns;
	if (k == 0)
		return;
	for (int r = 0; r < k; r++)
		total += st->runs[r].n;
	hashes = stat_alloc(st, total * sizeof(uint32), false);
	groups = stat_alloc(st, total * st->entsize, false);
	heads = palloc0(k * sizeof(Head));
	heap = palloc(k * sizeof(int));

#define HLESS(a, b) (group_cmp(st, heads[a].hash, heads[a].group, heads[b].hash, heads[b].group) < 0)
	for (int r = 0; r < k; r++)
	{
		int			i = nheap++;

		heads[r].group = palloc(st->entsize);
		heads[r].left = st->runs[r].n - 1;
		heads[r].p = stat_run_decode(st, st->runs[r].data, st->runs[r].end, &heads[r].hash,
									 heads[r].group, st->runs[r].base);
		heap[i] = r;
		while (i > 0 && HLESS(heap[i], heap[(i - 1) / 2]))
		{
			int			t = heap[i];

			heap[i] = heap[(i - 1) / 2];
			heap[(i - 1) / 2] = t;
			i = (i - 1) / 2;
		}
	}
	while (nheap > 0)
	{
		int			r = heap[0];
		Head	   *h = &heads[r];
		int			i = 0;

		if (last && h->hash == hashes[out - 1] &&
			memcmp(STAT_KEY(st, last), STAT_KEY(st, h->group), st->spec.keylen) == 0)
			merge_group(st, last, h->group);
		else
		{
			last = (StatEntry *) (groups + out * st->entsize);
			memcpy(last, h->group, st->entsize);
			hashes[out++] = h->hash;
		}
		if (h->left == 0)
			heap[0] = heap[--nheap];
		else
		{
			h->left--;
			h->p = stat_run_decode(st, h->p, st->runs[r].end, &h->hash, h->group,
								   st->runs[r].base);
		}
		/* sift the new head down */
		for (;;)
		{
			int			l = 2 * i + 1,
						m = i;

			if (l < nheap && HLESS(heap[l], heap[m]))
				m = l;
			if (l + 1 < nheap && HLESS(heap[l + 1], heap[m]))
				m = l + 1;
			if (m == i)
				break;
			r = heap[i];
			heap[i] = heap[m];
			heap[m] = r;
			i = m;
		}
	}
#undef HLESS
	for (int r = 0; r < k; r++)
	{
		pfree(heads[r].group);
		stat_free(st, (void *) st->runs[r].data);
	}
	pfree(heads);
	pfree(heap);
	st->nruns = 0;
	st->dense = groups;
	st->dense_hashes = hashes;
	st->ndense = out;
}
