/*-------------------------------------------------------------------------
 *
 * pack_fdw.c
 *		The nfpg_packed foreign-data wrapper: a finished hour of flows kept
 *		in compressed columns, still a partition of nfpg.flows.
 *
 * Design.  A packed hour is a FOREIGN TABLE partition of nfpg.flows whose
 * wrapper is this file (as cstore_fdw attached its files), but whose bytes
 * live in two ordinary heap tables (pack.h): P_seg, one row per segment of
 * up to ~130k flows holding each column's compressed chunks as bytea plus
 * per-block summaries, and P_late, a plain row table for flows that arrive
 * after packing.  Why this shape, against the alternatives
 * (/work/shared/reference/columnar-in-postgres.md):
 *	 - heap storage: WAL, streaming replication, PITR, pg_basebackup and
 *	   pg_dump work with no code of ours, and packing is one transaction
 *	   (nfpg.pack_partition builds the segments, then detaches the heap
 *	   partition and attaches the foreign one; a crash anywhere before
 *	   COMMIT leaves the heap partition authoritative).  cstore_fdw's own
 *	   files had none of that.
 *	 - a foreign table rather than an empty heap partition plus a planner
 *	   hook and a CustomScan (TimescaleDB's shape): the rows of a packed hour
 *	   can only be reached through this wrapper, and PostgreSQL loads the
 *	   library itself to run it.  With a hook, a session in which the
 *	   library was not loaded first (no shared_preload_libraries, a plain
 *	   psql or pg_dump) would plan a scan of the empty heap partition and
 *	   silently answer with no rows.  nfpg does not require preloading.
 *	 - not a table access method: 40+ callbacks, no parallel scan in Citus,
 *	   and TimescaleDB removed its own.
 *	 The price of a foreign partition, accepted: no index on it (its block
 *	 summaries do that job), UPDATE and DELETE through nfpg.flows fail while
 *	 a packed hour is in range (unpack first; flows are not edited in
 *	 place), and pg_dump writes the foreign table without rows, which is
 *	 right because P_seg and P_late hold them and are dumped as tables.
 *
 * Scan.  Only the columns the query uses (target list and quals) are
 * fetched (pack_fetch.c: the block's slice of the TOASTed segment column)
 * and decoded, a block at a time into Datum arrays (the block's memory is
 * reused from block to block; an integer column's codec array serves as
 * its Datum array); rows are returned from those arrays as virtual tuples,
 * or added to a statistic in the scan (pack_agg.c).  Before a block is
 * decoded its summary is tested against the quals (pack_skip.c: first_seen
 * ranges, the exact protocol set, a Bloom filter of addresses and ports);
 * a whole segment is first tested on its
 * first_seen range without reading its summary.  In a block that may
 * match, the columns those conditions read are decoded as the same
 * conditions are tested on their arrays row by row (pack_rowfilter.c: an
 * address or port equality first, the others on the rows it kept only);
 * values are built for the rows that pass only, the other columns decoded
 * for those rows only, and the rows that fail are not returned.  All quals are
 * still evaluated by the executor on the rows returned.  Then the late rows.
 * EXPLAIN shows the segments and blocks read and skipped, and the rows the
 * pre-filter dropped.
 *
 * Parallel scan: the partial path hands out segments from a counter in
 * dynamic shared memory (like Hydra's stripes); the late table goes to
 * whoever claims the unit after the last segment.  Segments read in the
 * same order in every process, so the counter is all they share.
 *
 * Writes (pack_write.c).  INSERT and COPY routed to a packed hour (late
 * flows, or the loader's COPY into the partition) go to P_late; the next
 * pack merges them.  TRUNCATE empties both tables; ANALYZE samples.  A
 * damaged chunk or summary is an ERROR naming the partition
 * (pack_columns.c, pack_summary.c).
 *
 * The options naming the storage tables, and the checks on those tables,
 * are in pack_storage.c; the scan's estimate, cost and paths in pack_plan.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "commands/explain.h"
#include "foreign/fdwapi.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/shm_toc.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/regproc.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "pack_scan.h"
#include "stat.h"

StaticAssertDecl(SIZEOF_DATUM == sizeof(int64), "a codec's int64 array is read as Datums");

PG_FUNCTION_INFO_V1(nfpg_packed_handler);

/* ---------- scanning ---------- */

static int
cmp_seg(const void *a, const void *b, void *arg)
{
	PackScan   *s = arg;
	bool		isnull;
	int32		x = DatumGetInt32(heap_getattr(*(HeapTuple *) a, s->a_no, RelationGetDescr(s->segrel), &isnull));
	int32		y = DatumGetInt32(heap_getattr(*(HeapTuple *) b, s->a_no, RelationGetDescr(s->segrel), &isnull));

	return x < y ? -1 : x > y;
}

static AttrNumber
seg_attnum(PackScan *s, const char *name, Oid type)
{
	AttrNumber	a = get_attnum(RelationGetRelid(s->segrel), name);

	if (a == InvalidAttrNumber || TupleDescAttr(RelationGetDescr(s->segrel), a - 1)->atttypid != type)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("segment table %s of packed partition %s has no column %s of the expected type",
						RelationGetRelationName(s->segrel), s->where, name)));
	return a;
}

PackScan *
pack_scan_begin(ForeignScanState *node, Relation ft, List *need, List *quals, int eflags)
{
	EState	   *estate = node->ss.ps.state;
	PackScan   *s = palloc0(sizeof(PackScan));
	List	   *names;
	ListCell   *lc;

	node->fdw_state = s;
	s->ftrel = ft;
	s->where = quote_qualified_identifier(get_namespace_name(RelationGetNamespace(ft)), RelationGetRelationName(ft));
	pack_get_options(RelationGetRelid(ft), &s->options);
	names = stringToQualifiedNameList(s->options.segments);
	s->segname = strVal(llast(names));
	s->natts = RelationGetDescr(ft)->natts;
	pack_layout_init(&s->layout, RelationGetDescr(ft));
	s->skip = pack_skip_compile(quals, &s->layout, estate->es_param_list_info, &s->skip_exact);
	s->nhashes = pack_skip_hashes(s->skip, &s->hashes);
	s->snapshot = estate->es_snapshot;
	s->scancxt = estate->es_query_cxt;
	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
		return s;

	s->need = palloc0(sizeof(bool) * s->natts);
	foreach(lc, need)
	{
		int			a = lfirst_int(lc);

		if (a == 0)
			memset(s->need, true, sizeof(bool) * s->natts);
		else if (a <= s->natts)
			s->need[a - 1] = true;
	}
	s->order = palloc(sizeof(int) * s->natts);
	for (int a = 0; a < s->natts; a++)
	{
		PackCol    *c = &s->layout.cols[a];

		if (!c->name)
			s->need[a] = false;
		else if (s->need[a] && c->how == PACK_TIME_REL)
			s->need[s->layout.first_seen - 1] = true;
	}
	/*
	 * Decode the columns the block conditions read first (phase 1), then the
	 * rest for the rows that pass them: a block whose rows all fail the
	 * conditions is left after the first phase.  first_seen comes before
	 * the columns stored relative to it (PACK_TIME_REL, which no condition
	 * reads: pack_skip.c compares integer columns only): at the head of
	 * phase 1 when a condition reads it, else at the head of phase 2, where
	 * it is decoded for the selected rows only (decoded whole, it was a
	 * quarter of what `dst port 587` over a packed day spent decoding the
	 * columns of its lines).
	 */
	{
		bool	   *skipcol = palloc0(sizeof(bool) * s->natts);
		int			fs = s->layout.first_seen - 1;

		pack_skip_columns(s->skip, skipcol);
		for (int a = 0; a < s->natts; a++)
			if (skipcol[a] && s->layout.cols[a].name)
				s->need[a] = true;
		for (int pass = 0; pass < 2; pass++)
		{
			if (fs >= 0 && s->need[fs] && skipcol[fs] == (pass == 0))
				s->order[s->norder++] = fs;
			for (int a = 0; a < s->natts; a++)
				if (s->need[a] && a != fs && skipcol[a] == (pass == 0))
					s->order[s->norder++] = a;
			if (pass == 0)
				s->nphase1 = s->norder;
		}
	}
	s->cc = palloc0(sizeof(CcColumn) * s->natts);
	s->vals = palloc0(sizeof(Datum *) * s->natts);
	s->nulls = palloc0(sizeof(bool *) * s->natts);
	s->addrs = palloc0(sizeof(uint8 *) * s->natts);
	s->segcxt = AllocSetContextCreate(estate->es_query_cxt, "nfpg packed segment", ALLOCSET_DEFAULT_SIZES);
	s->blockcxt = AllocSetContextCreate(estate->es_query_cxt, "nfpg packed block", ALLOCSET_DEFAULT_SIZES);
	return s;
}

/*
 * Open the storage tables and read the segment rows, at the first read of
 * the scan, not at its start: every process of a parallel plan starts every
 * partition's scan under a Parallel Append (ExecInitAppend starts all its
 * subplans), and a lookup over a packed day has each of them read a third of
 * the 24 hours.  Opening 48 storage tables in each process (a relation cache
 * entry built for each in every new worker) and copying every hour's segment
 * rows cost more than the hours they read.
 */
void
pack_scan_open(PackScan *s)
{
	MemoryContext old = MemoryContextSwitchTo(s->scancxt);
	TableScanDesc scan;
	HeapTuple	tup;
	int			cap = 16;

	s->segrel = pack_open_storage(s->ftrel, s->options.segments, AccessShareLock);
	s->laterel = pack_open_storage(s->ftrel, s->options.late, AccessShareLock);
	pack_check_late_layout(s->ftrel, s->laterel);
	s->segatt = palloc0(sizeof(AttrNumber) * s->natts);
	for (int a = 0; a < s->natts; a++)
		if (s->need[a])
			s->segatt[a] = seg_attnum(s, s->layout.cols[a].name, BYTEAOID);
	s->a_no = seg_attnum(s, PACK_SEG_NO, INT4OID);
	s->a_rows = seg_attnum(s, PACK_SEG_ROWS, INT4OID);
	s->a_fmin = seg_attnum(s, PACK_SEG_FIRST_MIN, TIMESTAMPTZOID);
	s->a_fmax = seg_attnum(s, PACK_SEG_FIRST_MAX, TIMESTAMPTZOID);
	s->a_summary = seg_attnum(s, PACK_SEG_SUMMARY, BYTEAOID);

	/* the segment rows: small (the columns are TOAST pointers), read them all */
	s->segs = palloc(sizeof(HeapTuple) * cap);
	scan = table_beginscan(s->segrel, s->snapshot, 0, NULL);
	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		if (s->nsegs == cap)
			s->segs = repalloc(s->segs, sizeof(HeapTuple) * (cap *= 2));
		s->segs[s->nsegs++] = heap_copytuple(tup);
	}
	table_endscan(scan);
	qsort_arg(s->segs, s->nsegs, sizeof(HeapTuple), cmp_seg, s);
	s->fetch = pack_fetch_create(s->scancxt, s->segrel, &s->layout, s->segatt, s->where);
	MemoryContextSwitchTo(old);
}

static void
packBeginForeignScan(ForeignScanState *node, int eflags)
{
	ForeignScan *plan = (ForeignScan *) node->ss.ps.plan;

	if (plan->scan.scanrelid == 0)
		pack_agg_begin(node, eflags);	/* an aggregate computed in the scan */
	else
		pack_scan_begin(node, node->ss.ss_currentRelation, linitial(plan->fdw_private),
						plan->scan.plan.qual, eflags);
}

static int
claim_unit(PackScan *s)
{
	if (s->shared)
		return (int) pg_atomic_fetch_add_u32(&s->shared->next_unit, 1);
	return s->next_local++;
}

static void
add_count(PackScan *s, int what, uint64 n)
{
	if (s->shared)
		pg_atomic_fetch_add_u64(what == 0 ? &s->shared->segs_skipped :
								what == 1 ? &s->shared->blocks_read :
								what == 2 ? &s->shared->blocks_skipped : &s->shared->rows_filtered, n);
	else if (what == 0)
		s->segs_skipped += n;
	else if (what == 1)
		s->blocks_read += n;
	else if (what == 2)
		s->blocks_skipped += n;
	else
		s->rows_filtered += n;
}

/*
 * pack_rowfilter_lazy()'s decode for the current block: the condition
 * columns marked in want, whole (rsel NULL) or for the rows rsel[0..n) of
 * it, which are then spread to their row numbers: the filter and the
 * values built after it read a condition column by row number.
 */
static void
decode_condition_columns(void *arg, const bool *want, const uint32 *rsel, int n)
{
	PackScan   *s = arg;
	int			rows = (int) s->blocks[s->block].rows;
	const CcAlloc *mem = pack_arena_alloc(s->arena);

	for (int a = 0; a < s->natts; a++)
	{
		const PackCol *col = &s->layout.cols[a];
		CcColumn   *cc = &s->cc[a];
		CcColumn	part;
		const uint8 *chunk;
		size_t		len;

		if (!want[a])
			continue;
		if (rsel == NULL || col->how == PACK_BLOB)
		{
			chunk = pack_fetch_chunk(s->fetch, a, s->block, mem, &len);
			pack_decode_chunk(col, chunk, len, rows, NULL, 0, mem, cc, s->where);
			continue;
		}
		chunk = pack_fetch_chunk_rows(s->fetch, a, s->block, rsel, n, mem, &len);
		pack_decode_chunk(col, chunk, len, rows, rsel, n, mem, &part, s->where);
		*cc = part;
		cc->nrows = rows;
		if (part.isnull)
		{
			cc->isnull = pack_arena_palloc(s->arena, sizeof(bool) * rows);
			for (int k = 0; k < n; k++)
				cc->isnull[rsel[k]] = part.isnull[k];
		}
		if (part.ints)
		{
			cc->ints = pack_arena_palloc(s->arena, sizeof(int64) * rows);
			for (int k = 0; k < n; k++)
				cc->ints[rsel[k]] = part.ints[k];
		}
		else if (part.data)
		{
			cc->data = pack_arena_palloc(s->arena, (Size) part.width * rows);
			for (int k = 0; k < n; k++)
				memcpy(cc->data + (Size) rsel[k] * part.width, part.data + (Size) k * part.width,
					   part.width);
		}
	}
}

/*
 * Decode the current block: the columns the conditions read, as the row
 * pre-filter tests them (pack_rowfilter_lazy), then values of the rows it
 * keeps (all rows without conditions) only.  Returns how many rows are
 * selected.
 */
static int
decode_block(PackScan *s, int rows)
{
	const uint32 *sel = NULL;
	int			n = rows;
	int			f = s->layout.first_seen - 1;
	const CcAlloc *mem = pack_arena_alloc(s->arena);
	size_t		len;
	const uint8 *chunk;

	/* the block's arrays, from its arena like everything decoded for it */
	s->sel = pack_arena_palloc(s->arena, sizeof(uint32) * rows);
	s->no_nulls = pack_arena_palloc(s->arena, sizeof(bool) * rows);
	memset(s->no_nulls, 0, sizeof(bool) * rows);
	if (s->skip)
	{
		n = pack_rowfilter_lazy(s->skip, s->cc, s->natts, rows, s->sel, decode_condition_columns, s);
		add_count(s, 3, rows - n);
		if (n == 0)
			return 0;
		if (n < rows)
			sel = s->sel;		/* else every row: decoded straight, not gathered */
	}
	/* first_seen is before the columns stored relative to it: its values are there for them */
	for (int k = 0; k < s->norder; k++)
	{
		int			a = s->order[k];
		const PackCol *col = &s->layout.cols[a];
		CcColumn	cc;
		const uint32 *rowsel = NULL;

		if (k < s->nphase1)
		{
			cc = s->cc[a];		/* decoded by row number: the selected rows are picked */
			rowsel = sel;
		}
		else
		{
			chunk = sel ? pack_fetch_chunk_rows(s->fetch, a, s->block, sel, n, mem, &len) :
				pack_fetch_chunk(s->fetch, a, s->block, mem, &len);
			pack_decode_chunk(col, chunk, len, rows, sel, n, mem, &cc, s->where);
		}

		/* addresses for a statistic: key slots, no inet (pack_agg.c) */
		if (s->addr_cols && s->addr_cols[a] && rowsel == NULL)
		{
			s->addrs[a] = pack_arena_palloc(s->arena, (Size) STAT_ADDR_WIDTH * n);
			pack_address_slots(col, &cc, n, s->addrs[a], s->where);
			s->vals[a] = NULL;
			s->nulls[a] = cc.isnull ? cc.isnull : s->no_nulls;
			continue;
		}

		/*
		 * An integer column's codec array is its Datum array already (a
		 * Datum of an int2, int4 or int8 is its int64 value): use it in
		 * place unless rows are picked from it.
		 */
		if (rowsel == NULL && cc.ints != NULL &&
			(col->how == PACK_INT64 || col->how == PACK_TIME_SORTED ||
			 col->how == PACK_INT32 || col->how == PACK_INT16))
		{
			s->vals[a] = (Datum *) cc.ints;
			s->nulls[a] = cc.isnull ? cc.isnull : s->no_nulls;
			continue;
		}
		s->vals[a] = pack_arena_palloc(s->arena, sizeof(Datum) * n);
		s->nulls[a] = pack_arena_palloc(s->arena, sizeof(bool) * n);
		pack_column_values(col, &cc, rowsel, n, f >= 0 ? s->vals[f] : NULL, mem,
						   s->vals[a], s->nulls[a], s->where);
	}
	s->rowsel = sel;
	return n;
}

/* Claim segments until one may hold matches; false when none is left. */
static bool
next_segment(PackScan *s)
{
	TupleDesc	sd;

	if (s->segrel == NULL)
		pack_scan_open(s);
	sd = RelationGetDescr(s->segrel);
	MemoryContextReset(s->segcxt);
	s->seg = NULL;
	for (;;)
	{
		int			u = claim_unit(s);
		HeapTuple	t;
		bool		isnull;
		PackBlockInfo whole = {0};
		MemoryContext old;

		if (u >= s->nsegs)
		{
			if (u == s->nsegs)	/* the late rows are this process's */
			{
				/* ForeignNext calls us in the per-tuple context: the scan must outlive it */
				old = MemoryContextSwitchTo(s->scancxt);
				s->latescan = table_beginscan(s->laterel, s->snapshot, 0, NULL);
				MemoryContextSwitchTo(old);
			}
			return false;
		}
		t = s->segs[u];
		whole.rows = DatumGetInt32(heap_getattr(t, s->a_rows, sd, &isnull));
		whole.first_min = DatumGetInt64(heap_getattr(t, s->a_fmin, sd, &isnull));
		whole.first_max = DatumGetInt64(heap_getattr(t, s->a_fmax, sd, &isnull));
		if (s->skip && !pack_skip_maybe(s->skip, &whole))
		{
			add_count(s, 0, 1);
			continue;
		}
		old = MemoryContextSwitchTo(s->segcxt);
		s->nblocks = pack_summary_read((struct varlena *) DatumGetPointer(heap_getattr(t, s->a_summary, sd, &isnull)),
									   s->hashes, s->nhashes, &s->blocks, s->where);
		MemoryContextSwitchTo(old);
		pack_fetch_segment(s->fetch, t, sd, s->nblocks);
		s->seg = t;
		s->seg_no = DatumGetInt32(heap_getattr(t, s->a_no, sd, &isnull));
		s->block = 0;
		return true;
	}
}

/*
 * Decode the next block that may hold matches; false when none is left,
 * and then the late rows are this process's if s->latescan is set.
 */
bool
pack_scan_next_block(PackScan *s)
{
	for (;;)
	{
		MemoryContext old;

		if (s->seg == NULL || s->block >= s->nblocks)
		{
			if (s->seg != NULL)
				s->block = 0;
			if (!next_segment(s))
			{
				/* the last block's rows are returned: the next scan may have the arena */
				if (s->arena)
					pack_arena_give(s->arena);
				s->arena = NULL;
				return false;
			}
		}
		if (s->skip && !pack_skip_maybe(s->skip, &s->blocks[s->block]))
		{
			add_count(s, 2, 1);
			s->block++;
			continue;
		}
		MemoryContextReset(s->blockcxt);
		if (s->arena == NULL)
			s->arena = pack_arena_take(s->scancxt);
		pack_arena_reset(s->arena);
		old = MemoryContextSwitchTo(s->blockcxt);
		add_count(s, 1, 1);
		s->rows = decode_block(s, (int) s->blocks[s->block].rows);
		s->row = 0;
		s->tid_block = PACK_TID_BLOCK(s->seg_no, s->block);
		MemoryContextSwitchTo(old);
		s->block++;
		if (s->rows > 0)
			return true;
	}
}

static TupleTableSlot *
packIterateForeignScan(ForeignScanState *node)
{
	PackScan   *s = node->fdw_state;
	TupleTableSlot *slot = node->ss.ss_ScanTupleSlot;

	ExecClearTuple(slot);
	if (s->agg)
		return pack_agg_iterate(node);
	if (s->done)
		return slot;
	while (s->latescan == NULL && s->row >= s->rows)
	{
		if (!pack_scan_next_block(s))
		{
			if (s->latescan == NULL)
			{
				s->done = true;
				return slot;
			}
		}
	}
	if (s->latescan == NULL)
	{
		/* the columns not read are NULL, set once: a row sets only its own */
		if (!s->unread_null)
		{
			for (int a = 0; a < s->natts; a++)
				if (!s->need[a])
					slot->tts_isnull[a] = true;
			s->unread_null = true;
		}
		for (int k = 0; k < s->norder; k++)
		{
			int			a = s->order[k];

			slot->tts_values[a] = s->vals[a][s->row];
			slot->tts_isnull[a] = s->nulls[a][s->row];
		}
		ExecStoreVirtualTuple(slot);
		/* the row's place, its ctid: ORDER BY received, ctid (nfdump()) is then one order */
		ItemPointerSet(&slot->tts_tid, s->tid_block,
					   (OffsetNumber) (s->rowsel ? s->rowsel[s->row] : (uint32) s->row));
		s->row++;
		return slot;
	}
	else
	{
		HeapTuple	tup = pack_scan_next_late(s);

		if (tup == NULL)
			return slot;
		heap_deform_tuple(tup, RelationGetDescr(s->laterel), slot->tts_values, slot->tts_isnull);
		s->unread_null = false;
		ExecStoreVirtualTuple(slot);
		slot->tts_tid = tup->t_self;
		return slot;
	}
}

HeapTuple
pack_scan_next_late(PackScan *s)
{
	HeapTuple	tup;

	if (s->latescan == NULL)
		return NULL;
	tup = heap_getnext(s->latescan, ForwardScanDirection);
	if (tup == NULL)
	{
		table_endscan(s->latescan);
		s->latescan = NULL;
		s->done = true;
	}
	return tup;
}

void
pack_scan_reset(PackScan *s)
{
	if (s->latescan)
		table_endscan(s->latescan);
	s->latescan = NULL;
	s->seg = NULL;
	s->rows = s->row = 0;
	s->next_local = 0;
	s->done = false;
	if (s->agg)
		pack_agg_rescan(s);
}

static void
packReScanForeignScan(ForeignScanState *node)
{
	pack_scan_reset(node->fdw_state);
}

static void
packEndForeignScan(ForeignScanState *node)
{
	PackScan   *s = node->fdw_state;

	if (s == NULL)
		return;
	if (s->latescan)
		table_endscan(s->latescan);
	pack_fetch_end(s->fetch);
	if (s->segrel)
	{
		table_close(s->segrel, NoLock);
		table_close(s->laterel, NoLock);
	}
	if (s->own_ftrel)
		table_close(s->ftrel, NoLock);
}

static void
packExplainForeignScan(ForeignScanState *node, ExplainState *es)
{
	PackScan   *s = node->fdw_state;

	if (s->agg)
		pack_agg_explain(node, es);
	ExplainPropertyText("Packed Storage", s->segname, es);
	if (es->verbose || es->analyze)
		ExplainPropertyInteger("Block Filter Conditions", NULL, pack_skip_conditions(s->skip), es);
	if (es->analyze && s->need)
	{
		/* a parallel scan's counts were taken over by packShutdownForeignScan */
		uint64		ss = s->segs_skipped;
		uint64		br = s->blocks_read;
		uint64		bs = s->blocks_skipped;
		uint64		rf = s->rows_filtered;

		if (s->segrel == NULL)
			pack_scan_open(s);	/* other processes read it: count its segments */
		ExplainPropertyInteger("Segments", NULL, s->nsegs, es);
		ExplainPropertyInteger("Segments Skipped", NULL, ss, es);
		ExplainPropertyInteger("Blocks Read", NULL, br, es);
		ExplainPropertyInteger("Blocks Skipped", NULL, bs, es);
		ExplainPropertyInteger("Rows Filtered in Scan", NULL, rf, es);
	}
}

/* ---------- parallel scan ---------- */

/*
 * The parallel context, with its shared counters, is gone by the time EXPLAIN
 * ANALYZE prints the plan: Gather shuts it down at the end of the run (its
 * children first, this node among them).  Keep the counts in the scan state.
 */
static void
packShutdownForeignScan(ForeignScanState *node)
{
	PackScan   *s = node->fdw_state;

	if (s == NULL || s->shared == NULL)
		return;
	s->segs_skipped += pg_atomic_read_u64(&s->shared->segs_skipped);
	s->blocks_read += pg_atomic_read_u64(&s->shared->blocks_read);
	s->blocks_skipped += pg_atomic_read_u64(&s->shared->blocks_skipped);
	s->rows_filtered += pg_atomic_read_u64(&s->shared->rows_filtered);
	s->shared = NULL;
}

static Size
packEstimateDSMForeignScan(ForeignScanState *node, ParallelContext *pcxt)
{
	return sizeof(PackShared);
}

static void
packInitializeDSMForeignScan(ForeignScanState *node, ParallelContext *pcxt, void *coordinate)
{
	PackScan   *s = node->fdw_state;
	PackShared *sh = coordinate;

	pg_atomic_init_u32(&sh->next_unit, 0);
	pg_atomic_init_u64(&sh->segs_skipped, 0);
	pg_atomic_init_u64(&sh->blocks_read, 0);
	pg_atomic_init_u64(&sh->blocks_skipped, 0);
	pg_atomic_init_u64(&sh->rows_filtered, 0);
	s->shared = sh;
}

static void
packReInitializeDSMForeignScan(ForeignScanState *node, ParallelContext *pcxt, void *coordinate)
{
	PackShared *sh = coordinate;

	pg_atomic_write_u32(&sh->next_unit, 0);
	pack_scan_reset(node->fdw_state);
}

static void
packInitializeWorkerForeignScan(ForeignScanState *node, shm_toc *toc, void *coordinate)
{
	PackScan   *s = node->fdw_state;

	s->shared = coordinate;
}

Datum
nfpg_packed_handler(PG_FUNCTION_ARGS)
{
	FdwRoutine *r = makeNode(FdwRoutine);

	pack_fdw_plan_routines(r);	/* size, paths, plan: pack_plan.c */
	r->GetForeignUpperPaths = pack_agg_upper_paths;	/* pack_agg.c */
	r->BeginForeignScan = packBeginForeignScan;
	r->IterateForeignScan = packIterateForeignScan;
	r->ReScanForeignScan = packReScanForeignScan;
	r->EndForeignScan = packEndForeignScan;
	r->ExplainForeignScan = packExplainForeignScan;
	r->EstimateDSMForeignScan = packEstimateDSMForeignScan;
	r->InitializeDSMForeignScan = packInitializeDSMForeignScan;
	r->ReInitializeDSMForeignScan = packReInitializeDSMForeignScan;
	r->InitializeWorkerForeignScan = packInitializeWorkerForeignScan;
	r->ShutdownForeignScan = packShutdownForeignScan;
	pack_fdw_write_routines(r);	/* INSERT, COPY, TRUNCATE, ANALYZE: pack_write.c */
	PG_RETURN_POINTER(r);
}
