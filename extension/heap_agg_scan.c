/*-------------------------------------------------------------------------
 *
 * heap_agg_scan.c
 *		The executor's side of the scan that computes a statistic over a
 *		row-store partition (planned by heap_agg.c): read the heap, keep
 *		the columns the statistic and its conditions use, add the flows
 *		to the statistic a batch at a time.
 *
 * The statistic reads out_packets and out_bytes, the 27th and 28th of 41
 * columns, behind four addresses of variable width: a deform of every
 * attribute before them was 60 % of -s dstport's time.  So the scan reads
 * the fixed-width attributes before the tuple's first NULL at their
 * offsets and walks only from there (deform_needed), asks for the next
 * tuple's cache lines while it reads one, and hands the flows to
 * stat_add_columns in batches.
 *
 * The conditions are the packed scans' row pre-filter (pack_rowfilter.c)
 * when it decides them alone, run on the batch's arrays; otherwise the
 * executor evaluates them on each tuple, security barriers first.
 *
 * In parallel, the processes share one parallel heap scan and each
 * returns its own partial state (topn_in_scan_result).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/socket.h>

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/tupmacs.h"
#include "catalog/pg_type.h"
#include "commands/explain.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/extensible.h"
#include "port/pg_bitutils.h"
#include "utils/inet.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "pack.h"
#include "topn_pushdown.h"

/* Flows copied into the arrays before they are added (a cache's worth). */
#define HEAP_AGG_BATCH	512

typedef struct HeapAggState
{
	CustomScanState css;
	TopnInScan	t;
	Oid			relid;
	int			nquals;
	ExprState  *qual;			/* the partition's conditions, or NULL */
	PackSkip   *skip;			/* or the row pre-filter, deciding them alone */
	CcColumn   *cols;			/* per attribute: the batch's values it reads */
	int			nfilter;
	int		   *filter;			/* those attributes */
	int16	   *filter_len;		/* and their lengths (2, 4 or 8 bytes; -1: inet) */
	uint32	   *sel;			/* the batch's rows that pass */
	Relation	rel;
	TupleTableSlot *row;		/* the heap tuple being read */
	TableScanDesc scan;
	int			maxatt;			/* the last attribute the statistic reads */
	int		   *need;			/* the attributes it reads, ascending */
	int			nneed;
	int			nfixed;			/* attributes before the first of variable width */
	int		   *fixed_off;		/* their offsets in a tuple without NULLs before them */
	Datum	   *values;			/* one tuple's attributes (deform_needed) */
	bool	   *isnull;
	bool		addr[TOPN_MAX_ARGS];	/* per live argument: an address key */
	/* the batch: per argument, its values (or address slots) and nulls */
	int			n;
	Datum	   *vals[TOPN_MAX_ARGS];
	bool	   *nulls[TOPN_MAX_ARGS];
	uint8	   *addrs[TOPN_MAX_ARGS];
	bool		done;
} HeapAggState;

static CustomExecMethods heap_agg_exec_methods;

static Node *
heap_agg_create_state(CustomScan *cs)
{
	HeapAggState *h = palloc0(sizeof(HeapAggState));

	NodeSetTag(h, T_CustomScanState);
	h->css.methods = &heap_agg_exec_methods;
	return (Node *) h;
}

/* What deform_needed reads: the attributes, and the offsets of the fixed-width ones. */
static void
plan_deform(HeapAggState *h, TupleDesc desc)
{
	int			off = 0;

	h->values = palloc0(sizeof(Datum) * desc->natts);
	h->isnull = palloc0(sizeof(bool) * desc->natts);
	h->fixed_off = palloc(sizeof(int) * (desc->natts + 1));
	for (h->nfixed = 0; h->nfixed < desc->natts; h->nfixed++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, h->nfixed);

		if (att->attlen <= 0)
			break;
		off = att_align_nominal(off, att->attalign);
		h->fixed_off[h->nfixed] = off;
		off += att->attlen;
	}
	h->fixed_off[h->nfixed] = off;	/* where the walk past them starts */
	h->need = palloc(sizeof(int) * desc->natts);
	for (int i = 0; i < h->maxatt; i++)
	{
		bool		read = h->skip && h->cols[i].isnull;

		for (int j = 0; j < h->t.nlive && !read; j++)
			read = h->t.argatt[j] == i;
		if (read)
			h->need[h->nneed++] = i;
	}
}

/*
 * The partition's conditions as the packed scans' row pre-filter
 * (pack_rowfilter.c), when it decides all of them alone (nf_filter's
 * comparisons of times, addresses, ports, protocols, counters and bpp under
 * and, or, not: pack_skip_compile's exact): the batch's columns it reads are
 * kept as its arrays (64-bit integers, 17-byte address records) and it picks
 * the batch's rows that pass, a tight loop a condition instead of the
 * executor's expressions a tuple.  False, and nothing set, otherwise.
 */
static bool
plan_rowfilter(HeapAggState *h, List *quals, TupleDesc desc, EState *estate)
{
	PackLayout	layout;
	bool		exact;
	bool	   *reads = palloc0(sizeof(bool) * desc->natts);
	PackSkip   *skip;

	pack_layout_init(&layout, desc);
	skip = pack_skip_compile(quals, &layout, estate->es_param_list_info, &exact);
	if (skip == NULL || !exact)
		return false;
	pack_skip_columns(skip, reads);
	for (int i = 0; i < desc->natts; i++)
		if (reads[i] && layout.cols[i].how != PACK_INET && layout.cols[i].how != PACK_INT16 &&
			layout.cols[i].how != PACK_INT32 && layout.cols[i].how != PACK_INT64 &&
			layout.cols[i].how != PACK_TIME_SORTED && layout.cols[i].how != PACK_TIME_REL)
			return false;
	h->skip = skip;
	h->cols = palloc0(sizeof(CcColumn) * desc->natts);
	h->filter = palloc(sizeof(int) * desc->natts);
	h->filter_len = palloc(sizeof(int16) * desc->natts);
	for (int i = 0; i < desc->natts; i++)
	{
		CcColumn   *c = &h->cols[i];

		if (!reads[i])
			continue;
		if (layout.cols[i].how == PACK_INET)
		{
			c->kind = CC_FIXED;
			c->width = PACK_INET_WIDTH;
			c->data = palloc(PACK_INET_WIDTH * HEAP_AGG_BATCH);
		}
		else
		{
			c->kind = CC_INT;
			c->ints = palloc(sizeof(int64) * HEAP_AGG_BATCH);
		}
		c->isnull = palloc(sizeof(bool) * HEAP_AGG_BATCH);
		h->filter_len[h->nfilter] = TupleDescAttr(desc, i)->attlen;
		h->filter[h->nfilter++] = i;
		h->maxatt = Max(h->maxatt, i + 1);
	}
	h->sel = palloc(sizeof(uint32) * HEAP_AGG_BATCH);
	return true;
}

static void
heap_agg_begin(CustomScanState *node, EState *estate, int eflags)
{
	HeapAggState *h = (HeapAggState *) node;
	CustomScan *cs = (CustomScan *) node->ss.ps.plan;
	List	   *quals = lsecond(cs->custom_private);
	List	   *argatts = lthird(cs->custom_private);
	TupleDesc	desc;

	h->relid = linitial_oid(linitial(cs->custom_private));
	h->rel = table_open(h->relid, AccessShareLock);
	h->t.spec = strVal(lfourth(cs->custom_private));
	h->nquals = list_length(quals);
	desc = RelationGetDescr(h->rel);
	if (quals != NIL)
		plan_rowfilter(h, quals, desc, estate);
	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
		return;

	topn_in_scan_begin(&h->t, argatts, h->t.spec, desc, estate->es_query_cxt);
	h->row = ExecInitExtraTupleSlot(estate, desc, table_slot_callbacks(h->rel));
	if (quals != NIL && h->skip == NULL)
	{
		/*
		 * The conditions read the partition's tuples, not the scan's output
		 * row: compile them for that slot (the executor deforms by the
		 * parent's description of its scan slot).
		 */
		PlanState  *ps = &node->ss.ps;
		TupleDesc	scandesc = ps->scandesc;
		const TupleTableSlotOps *scanops = ps->scanops;
		bool		fixed = ps->scanopsfixed,
					set = ps->scanopsset;

		ps->scandesc = desc;
		ps->scanops = h->row->tts_ops;
		ps->scanopsfixed = ps->scanopsset = true;
		h->qual = ExecInitQual(quals, ps);
		ps->scandesc = scandesc;
		ps->scanops = scanops;
		ps->scanopsfixed = fixed;
		ps->scanopsset = set;
	}
	for (int i = 0; i < h->t.nlive; i++)
	{
		int			arg = h->t.live[i];
		Oid			type = TupleDescAttr(desc, h->t.argatt[i])->atttypid;

		h->maxatt = Max(h->maxatt, h->t.argatt[i] + 1);
		h->addr[i] = type == INETOID || type == CIDROID;
		h->nulls[arg] = palloc(sizeof(bool) * HEAP_AGG_BATCH);
		if (h->addr[i])
			h->addrs[arg] = palloc0(STAT_ADDR_WIDTH * HEAP_AGG_BATCH);
		else
			h->vals[arg] = palloc(sizeof(Datum) * HEAP_AGG_BATCH);
	}
	plan_deform(h, desc);
}

/* An integer or timestamp attribute of attlen bytes as the row pre-filter reads it. */
static inline int64
integer_value(Datum d, int attlen)
{
	return attlen == 2 ? DatumGetInt16(d) : attlen == 4 ? DatumGetInt32(d) : DatumGetInt64(d);
}

/* An inet as a key slot (STAT_ADDR_WIDTH): family, bits, the address. */
static inline void
address_slot(uint8 *slot, Datum d)
{
	inet	   *ip = DatumGetInetPP(d);
	int			size = ip_addrsize(ip);

	slot[0] = ip_family(ip);
	slot[1] = ip_bits(ip);
	memcpy(slot + 2, ip_addr(ip), size);
	memset(slot + 2 + size, 0, 16 - size);
}

/*
 * The attributes up to h->maxatt of the heap tuple tup into h->values and
 * h->isnull, as heap_deform_tuple would, without visiting the fixed-width
 * attributes before the first NULL: those are read at their offsets.  The
 * statistic reads out_packets and out_bytes, the 27th and 28th of 41
 * columns, and a deform that visits every attribute before them took 60 %
 * of -s dstport's time.  False for a tuple shorter than h->maxatt (a
 * column added since it was written), which the slot reads instead.
 */
static bool
deform_needed(HeapAggState *h, HeapTuple tuple)
{
	HeapTupleHeader tup = tuple->t_data;
	TupleDesc	desc = RelationGetDescr(h->rel);
	bits8	   *bp = tup->t_bits;
	bool		hasnulls = HeapTupleHasNulls(tuple);
	char	   *tp = (char *) tup + tup->t_hoff;
	int			start = Min(h->nfixed, h->maxatt);
	int			k = 0;
	uint32		off;

	/*
	 * A page is filled from its end, so the next tuple is most often the
	 * one just below this one: ask for it now (a fifth of the time was the
	 * wait for each tuple's first cache line).
	 */
	for (int b = 1; b <= 3; b++)
		__builtin_prefetch((char *) tup - 64 * b);
	if (HeapTupleHeaderGetNatts(tup) < h->maxatt)
		return false;
	/* the first NULL, a byte of the bitmap at a time */
	if (hasnulls)
		for (int b = 0; b * 8 < start; b++)
			if (bp[b] != 0xFF)
			{
				start = Min(start, b * 8 + pg_rightmost_one_pos32(~bp[b] & 0xFF));
				break;
			}
	/* needed attributes before it: at their offsets */
	for (; k < h->nneed && h->need[k] < start; k++)
	{
		int			i = h->need[k];

		h->values[i] = fetchatt(TupleDescAttr(desc, i), tp + h->fixed_off[i]);
		h->isnull[i] = false;
	}
	if (k == h->nneed)
		return true;
	/* the others: every attribute from the first NULL on is walked */
	off = h->fixed_off[start];
	for (int i = start; i < h->maxatt; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (hasnulls && att_isnull(i, bp))
		{
			h->isnull[i] = true;
			continue;
		}
		off = att_align_pointer(off, att->attalign, att->attlen, tp + off);
		h->values[i] = fetchatt(att, tp + off);
		h->isnull[i] = false;
		off = att_addlength_pointer(off, att->attlen, tp + off);
	}
	return true;
}

static void
flush_batch(HeapAggState *h)
{
	if (h->skip)
		stat_add_columns(h->t.st, pack_rowfilter(h->skip, h->cols, h->n, h->sel), h->sel,
						 h->vals, h->nulls, (const uint8 *const *) h->addrs);
	else
		stat_add_columns(h->t.st, h->n, NULL, h->vals, h->nulls, (const uint8 *const *) h->addrs);
	h->n = 0;
}

/* Read the partition, adding the flows that pass the conditions. */
static void
scan_all(HeapAggState *h)
{
	ExprContext *econtext = h->css.ss.ps.ps_ExprContext;
	TupleTableSlot *row = h->row;
	TopnInScan *t = &h->t;
	EState	   *estate = h->css.ss.ps.state;

	uint32		read = 0;

	if (h->scan == NULL)		/* not parallel, or no parallel context */
		h->scan = table_beginscan(h->rel, estate->es_snapshot, 0, NULL);
	while (table_scan_getnextslot(h->scan, ForwardScanDirection, row))
	{
		int			k = h->n;

		if ((++read & 4095) == 0)
			CHECK_FOR_INTERRUPTS();
		if (h->qual)
		{
			/* a reset of an untouched context costs a test */
			ResetExprContext(econtext);
			econtext->ecxt_scantuple = row;
			if (!ExecQual(h->qual, econtext))
				continue;
		}
		if (!deform_needed(h, ExecFetchSlotHeapTuple(row, false, NULL)))
		{
			slot_getsomeattrs(row, h->maxatt);
			memcpy(h->values, row->tts_values, sizeof(Datum) * h->maxatt);
			memcpy(h->isnull, row->tts_isnull, sizeof(bool) * h->maxatt);
		}
		for (int i = 0; i < t->nlive; i++)
		{
			int			arg = t->live[i];
			int			att = t->argatt[i];
			bool		isnull = h->isnull[att];

			h->nulls[arg][k] = isnull;
			if (!h->addr[i])
				h->vals[arg][k] = h->values[att];
			else if (!isnull)
				address_slot(h->addrs[arg] + (Size) k * STAT_ADDR_WIDTH, h->values[att]);
		}
		for (int i = 0; i < h->nfilter; i++)
		{
			int			att = h->filter[i];
			CcColumn   *c = &h->cols[att];

			c->isnull[k] = h->isnull[att];
			if (h->isnull[att])
				continue;
			if (c->kind == CC_FIXED)
				pack_inet_record(h->values[att], c->data + (Size) k * PACK_INET_WIDTH);
			else
				c->ints[k] = integer_value(h->values[att], h->filter_len[i]);
		}
		if (++h->n == HEAP_AGG_BATCH)
			flush_batch(h);
	}
	flush_batch(h);
	ResetExprContext(econtext);
}

static TupleTableSlot *
heap_agg_next(ScanState *ss)
{
	HeapAggState *h = (HeapAggState *) ss;
	TupleTableSlot *slot = ss->ss_ScanTupleSlot;

	ExecClearTuple(slot);
	if (h->done)
		return slot;
	scan_all(h);
	h->done = true;
	slot->tts_values[0] = topn_in_scan_result(&h->t, &slot->tts_isnull[0]);
	return ExecStoreVirtualTuple(slot);
}

static bool
heap_agg_recheck(ScanState *ss, TupleTableSlot *slot)
{
	return true;
}

static TupleTableSlot *
heap_agg_exec(CustomScanState *node)
{
	return ExecScan(&node->ss, heap_agg_next, heap_agg_recheck);
}

static void
heap_agg_end(CustomScanState *node)
{
	HeapAggState *h = (HeapAggState *) node;

	if (h->scan)
		table_endscan(h->scan);
	if (h->t.cxt)
		MemoryContextDelete(h->t.cxt);
	table_close(h->rel, NoLock);
}

static void
heap_agg_rescan(CustomScanState *node)
{
	HeapAggState *h = (HeapAggState *) node;

	if (h->scan)
		table_rescan(h->scan, NULL);
	topn_in_scan_reset(&h->t);
	h->done = false;
}

/* ---------- parallel: one heap scan shared by the processes ---------- */

static Size
heap_agg_estimate_dsm(CustomScanState *node, ParallelContext *pcxt)
{
	HeapAggState *h = (HeapAggState *) node;

	return table_parallelscan_estimate(h->rel, node->ss.ps.state->es_snapshot);
}

static void
heap_agg_init_dsm(CustomScanState *node, ParallelContext *pcxt, void *coordinate)
{
	HeapAggState *h = (HeapAggState *) node;

	table_parallelscan_initialize(h->rel, coordinate, node->ss.ps.state->es_snapshot);
	h->scan = table_beginscan_parallel(h->rel, coordinate);
}

static void
heap_agg_reinit_dsm(CustomScanState *node, ParallelContext *pcxt, void *coordinate)
{
	HeapAggState *h = (HeapAggState *) node;

	table_parallelscan_reinitialize(h->rel, coordinate);
}

static void
heap_agg_init_worker(CustomScanState *node, shm_toc *toc, void *coordinate)
{
	HeapAggState *h = (HeapAggState *) node;

	h->scan = table_beginscan_parallel(h->rel, coordinate);
}

static void
heap_agg_explain(CustomScanState *node, List *ancestors, ExplainState *es)
{
	HeapAggState *h = (HeapAggState *) node;

	ExplainPropertyText("Partition", get_rel_name(h->relid), es);
	ExplainPropertyText("Aggregate in Scan", h->t.spec, es);
	ExplainPropertyInteger("Conditions in Scan", NULL, h->nquals, es);
	if (h->nquals > 0)
		ExplainPropertyText("Conditions Decided", h->skip ? "by the row filter" : "row by row", es);
}

CustomScanMethods heap_agg_scan_methods = {
	.CustomName = "NfpgHeapAggregate",
	.CreateCustomScanState = heap_agg_create_state,
};

static CustomExecMethods heap_agg_exec_methods = {
	.CustomName = "NfpgHeapAggregate",
	.BeginCustomScan = heap_agg_begin,
	.ExecCustomScan = heap_agg_exec,
	.EndCustomScan = heap_agg_end,
	.ReScanCustomScan = heap_agg_rescan,
	.EstimateDSMCustomScan = heap_agg_estimate_dsm,
	.InitializeDSMCustomScan = heap_agg_init_dsm,
	.ReInitializeDSMCustomScan = heap_agg_reinit_dsm,
	.InitializeWorkerCustomScan = heap_agg_init_worker,
	.ExplainCustomScan = heap_agg_explain,
};

