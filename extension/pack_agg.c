/*-------------------------------------------------------------------------
 *
 * pack_agg.c
 *		nfdump's statistics computed inside the scan of a packed partition:
 *		the partial state of nf_topn / nf_topn_records built straight from
 *		the decoded column arrays, one row per process, no tuple per flow.
 *
 * Why.  Over a packed hour, nf_stat('ip') spent most of its time not in
 * decoding but in handing 10M virtual tuples to the executor, which
 * evaluates the aggregate's 11 argument expressions and calls the
 * transition function once per flow.  The scan has the values in arrays
 * already; it can add them to the statistic's hash table itself.
 *
 * How PostgreSQL lets it.  With enable_partitionwise_aggregate the planner
 * asks a foreign partition's wrapper for a path that computes the partial
 * aggregate (GetForeignUpperPaths, UPPERREL_PARTIAL_GROUP_AGG; the shape
 * taken and what the two scans that aggregate share are in
 * topn_pushdown.c).  This file answers with a ForeignScan whose one output
 * column is the partial state.  A partial (parallel-aware) path is offered
 * too: each process claims segments from the shared counter (pack_fdw.c)
 * and returns its own state; its cost counts the groups the leader will
 * have to merge.  The rows reach the statistic as columns
 * (stat_add_columns): integers read in place from the codec's arrays,
 * addresses as key slots built from the stored records
 * (pack_address_slots), a small integer key counted in an array
 * (stat_use_direct).  A wrapper's callbacks are there whether or not the
 * library was loaded before planning, which a planner hook is not (the
 * design note in pack_fdw.c; heap_agg.c has to rely on that).
 *
 * The partition's conditions are all evaluated in the scan: first on the
 * decoded arrays (block summaries and the row pre-filter, as for a row
 * scan), then as the planner's expressions on each row that may pass,
 * security barrier conditions first.  When the pre-filter holds every
 * condition whole (pack_skip_compile's exact: nf_filter's comparisons of
 * times, addresses, ports, protocols, counters and bpp under and, or, not)
 * the rows it keeps are the answer and the second step is skipped: the
 * port scan's filter no longer builds a row per candidate flow for the
 * executor.  Late rows always take the second step.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/parallel.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/explain.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/planmain.h"
#include "optimizer/restrictinfo.h"
#include "utils/selfuncs.h"
#include "parser/parsetree.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "pack_scan.h"
#include "topn_pushdown.h"

typedef struct PackAgg
{
	TopnInScan	t;
	int			nquals;
	ExprState  *qual;			/* the partition's conditions, or NULL */
	ExprContext *qualcxt;
	TupleTableSlot *row;		/* one row of the partition, for qual */
	bool		done;
} PackAgg;

/* ---------- planning ---------- */

void
pack_agg_upper_paths(PlannerInfo *root, UpperRelationKind stage, RelOptInfo *input_rel,
					 RelOptInfo *output_rel, void *extra)
{
	PackEstimate *e = input_rel->fdw_private;
	Aggref	   *ag;
	List	   *quals;
	Cost		run;
	ForeignPath *path;
	List	   *priv;

	if (!topn_pushdown_match(root, stage, input_rel, output_rel, extra, &ag, &quals))
		return;

	/*
	 * Cheaper than the scan's tuples plus a transition call each, which is
	 * what it replaces; the blocks as for the row scan, and the conditions
	 * on the rows the row pre-filter lets through.
	 */
	run = e->blocks * cpu_operator_cost + e->decoded * (cpu_tuple_cost * 0.25) +
		e->built * list_length(quals) * cpu_operator_cost;
	priv = list_make2(makeInteger(input_rel->relid), quals);
	path = create_foreign_upper_path(root, output_rel, output_rel->reltarget, 1,
									 10, 10 + run, NIL, NULL, priv);
	add_path(output_rel, (Path *) path);

	/* in parallel when the row scan would be (topn_merge_cost) */
	if (output_rel->consider_parallel && input_rel->partial_pathlist != NIL)
	{
		Path	   *scan = linitial(input_rel->partial_pathlist);
		int			workers = scan->parallel_workers;
		double		divisor = workers + Max(0.0, 1.0 - 0.3 * workers);
		Cost		merge = topn_merge_cost(topn_estimate_groups(root, ag, input_rel), workers);

		path = create_foreign_upper_path(root, output_rel, output_rel->reltarget, 1,
										 10, 10 + run / divisor + merge, NIL, NULL, priv);
		path->path.parallel_aware = true;
		path->path.parallel_safe = true;
		path->path.parallel_workers = workers;
		add_partial_path(output_rel, (Path *) path);
	}
}

/*
 * The plan: the partial Aggref is the scan's one output column
 * (fdw_scan_tlist, as postgres_fdw pushes an aggregate); fdw_private holds
 * what the scan needs: the attributes to decode, the partition, its
 * conditions (not fdw_exprs: they are evaluated on the partition's rows,
 * not on the scan's output), the arguments' attributes and the
 * specification.
 */
ForeignScan *
pack_agg_plan(PlannerInfo *root, RelOptInfo *rel, ForeignPath *best_path, List *tlist,
			  Plan *outer_plan)
{
	Index		rti = intVal(linitial(best_path->fdw_private));
	List	   *quals = copyObject(lsecond(best_path->fdw_private));
	Aggref	   *ag = (Aggref *) ((TargetEntry *) linitial(tlist))->expr;
	Bitmapset  *attrs = NULL;
	List	   *need = NIL;
	List	   *argatts;
	int			x = -1;

	Assert(list_length(tlist) == 1 && IsA(ag, Aggref));
	argatts = topn_arg_attributes(ag, rti, &attrs);
	pull_varattnos((Node *) quals, rti, &attrs);
	while ((x = bms_next_member(attrs, x)) >= 0)
		need = lappend_int(need, x + FirstLowInvalidHeapAttributeNumber);
	/* planner-built operators may lack their function's OID until setrefs */
	fix_opfuncids((Node *) quals);
	return make_foreignscan(tlist, NIL, 0, NIL,
							list_make5(need, list_make1_oid(planner_rt_fetch(rti, root)->relid),
									   quals, argatts, makeString(topn_spec_text(ag))),
							tlist, NIL, outer_plan);
}

/* ---------- execution ---------- */

void
pack_agg_begin(ForeignScanState *node, int eflags)
{
	ForeignScan *plan = (ForeignScan *) node->ss.ps.plan;
	EState	   *estate = node->ss.ps.state;
	List	   *priv = plan->fdw_private;
	List	   *quals = lthird(priv);
	List	   *argatts = lfourth(priv);
	Relation	ft = table_open(linitial_oid(lsecond(priv)), AccessShareLock);
	PackScan   *s = pack_scan_begin(node, ft, linitial(priv), quals, eflags);
	PackAgg    *a = palloc0(sizeof(PackAgg));
	TupleDesc	desc = RelationGetDescr(ft);
	ListCell   *lc;

	s->own_ftrel = true;
	s->agg = a;
	a->t.spec = strVal(list_nth(priv, 4));
	a->nquals = list_length(quals);
	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
		return;

	topn_in_scan_begin(&a->t, argatts, a->t.spec, desc, estate->es_query_cxt);
	if (quals != NIL)
	{
		a->qual = ExecInitQual(quals, &node->ss.ps);
		a->qualcxt = CreateExprContext(estate);
	}
	/*
	 * Address keys that no condition reads are handed over as key slots, so
	 * that no inet is built for them (pack_address_slots).
	 */
	s->addr_cols = palloc0(sizeof(bool) * desc->natts);
	for (int i = STAT_RECORD_ARGS; i < a->t.nargs; i++)
	{
		int			att = list_nth_int(argatts, i) - 1;

		s->addr_cols[att] = s->layout.cols[att].how == PACK_INET;
	}
	foreach(lc, pull_var_clause((Node *) quals, 0))
	{
		Var		   *v = lfirst(lc);

		if (v->varattno > 0)
			s->addr_cols[v->varattno - 1] = false;
	}
	a->row = ExecInitExtraTupleSlot(estate, desc, &TTSOpsVirtual);
	for (int i = 0; i < desc->natts; i++)
		a->row->tts_isnull[i] = true;
}

/* Whether the row in a->row passes the conditions. */
static bool
row_passes(PackAgg *a)
{
	ResetExprContext(a->qualcxt);
	a->qualcxt->ecxt_scantuple = a->row;
	return ExecQual(a->qual, a->qualcxt);
}

/* Add the decoded block's selected rows that pass the conditions to the state. */
static void
add_block(PackScan *s, PackAgg *a)
{
	Datum	   *vals[STAT_RECORD_ARGS + 2 * STAT_MAX_KEYS] = {0};
	bool	   *nulls[STAT_RECORD_ARGS + 2 * STAT_MAX_KEYS] = {0};
	const uint8 *addrs[STAT_RECORD_ARGS + 2 * STAT_MAX_KEYS] = {0};
	uint32	   *pass = NULL;
	int			n = s->rows;

	TopnInScan *t = &a->t;

	for (int i = 0; i < t->nlive; i++)
	{
		vals[t->live[i]] = s->vals[t->argatt[i]];
		nulls[t->live[i]] = s->nulls[t->argatt[i]];
		addrs[t->live[i]] = s->vals[t->argatt[i]] ? NULL : s->addrs[t->argatt[i]];
	}
	/* an exact pre-filter has selected exactly the rows that pass */
	if (a->qual && !s->skip_exact)
	{
		pass = s->sel;			/* free now: the block's values are built */
		n = 0;
		for (int r = 0; r < s->rows; r++)
		{
			ExecClearTuple(a->row);
			for (int k = 0; k < s->norder; k++)
			{
				int			att = s->order[k];

				if (s->vals[att] == NULL)
					continue;	/* address slots: no condition reads them */
				a->row->tts_values[att] = s->vals[att][r];
				a->row->tts_isnull[att] = s->nulls[att][r];
			}
			ExecStoreVirtualTuple(a->row);
			if (row_passes(a))
				pass[n++] = r;
		}
	}
	stat_add_columns(t->st, n, pass, vals, nulls, addrs);
}

/* The late rows, read from their heap table. */
static void
add_late(PackScan *s, PackAgg *a)
{
	HeapTuple	tup;

	while ((tup = pack_scan_next_late(s)) != NULL)
	{
		ExecClearTuple(a->row);
		heap_deform_tuple(tup, RelationGetDescr(s->laterel), a->row->tts_values, a->row->tts_isnull);
		ExecStoreVirtualTuple(a->row);
		if (a->qual && !row_passes(a))
			continue;
		for (int i = 0; i < a->t.nlive; i++)
		{
			a->t.args[a->t.live[i]].value = a->row->tts_values[a->t.argatt[i]];
			a->t.args[a->t.live[i]].isnull = a->row->tts_isnull[a->t.argatt[i]];
		}
		stat_add_args(a->t.st, a->t.args);
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * The one row of this process: the serialized partial state of what it
 * read, NULL when no row passed (as a partial aggregate over no rows).
 */
TupleTableSlot *
pack_agg_iterate(ForeignScanState *node)
{
	PackScan   *s = node->fdw_state;
	PackAgg    *a = s->agg;
	TupleTableSlot *slot = node->ss.ss_ScanTupleSlot;

	ExecClearTuple(slot);
	if (a->done)
		return slot;
	while (pack_scan_next_block(s))
	{
		add_block(s, a);
		CHECK_FOR_INTERRUPTS();
	}
	add_late(s, a);
	a->done = true;
	slot->tts_values[0] = topn_in_scan_result(&a->t, &slot->tts_isnull[0]);
	return ExecStoreVirtualTuple(slot);
}

/* A rescan starts from an empty state. */
void
pack_agg_rescan(PackScan *s)
{
	topn_in_scan_reset(&s->agg->t);
	s->agg->done = false;
}

void
pack_agg_explain(ForeignScanState *node, ExplainState *es)
{
	PackScan   *s = node->fdw_state;

	ExplainPropertyText("Packed Partition", s->where, es);
	ExplainPropertyText("Aggregate in Scan", s->agg->t.spec, es);
	ExplainPropertyInteger("Conditions in Scan", NULL, s->agg->nquals, es);
	if (s->agg->nquals > 0)
		ExplainPropertyText("Conditions Decided", s->skip_exact ? "by the row filter" : "row by row", es);
}
