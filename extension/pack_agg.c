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
 * count, min and max.  The same scan computes plain count(*), count(column),
 * min and max of integer and time columns (simple_pushdown_match,
 * topn_pushdown.c), any number of them, as a row of their partial states:
 * count's int8, min's and max's the column's own value, which Finalize
 * combines as it combines workers' rows.  count(*) of a block without
 * conditions adds the block's row count and decodes nothing; min and max
 * run over the decoded array.  nfpg-dump's Summary asks "how many flows,
 * from when to when" of every flow it reads: over a packed day 0.27 s
 * where nf_topn_summary, summing every counter of every flow, took 0.67 s.
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

/* A plain count, min or max computed in the scan (simple_pushdown_match). */
typedef struct SimpleAgg
{
	SimpleAggKind kind;
	int			att;			/* 0-based; -1 for count(*) */
	int64		count;
	int64		value;			/* min or max so far: a Datum of an integer or a time */
	bool		seen;
} SimpleAgg;

typedef struct PackAgg
{
	TopnInScan	t;
	int			nsimple;		/* > 0: these aggregates instead of t */
	SimpleAgg  *simple;
	int			nquals;
	ExprState  *qual;			/* the partition's conditions, or NULL */
	ExprContext *qualcxt;
	TupleTableSlot *row;		/* one row of the partition, for qual */
	bool		done;
} PackAgg;

/* ---------- planning ---------- */

/*
 * The scan that aggregates, serial and (when the row scan would be) as a
 * partial path of parallel workers; a statistic's workers hand the leader
 * their groups to merge (topn_merge_cost), count, min and max a value each.
 */
static void
add_scan_paths(PlannerInfo *root, RelOptInfo *input_rel, RelOptInfo *output_rel, Cost run,
			   List *priv, Aggref *topn)
{
	ForeignPath *path;

	path = create_foreign_upper_path(root, output_rel, output_rel->reltarget, 1,
									 10, 10 + run, NIL, NULL, priv);
	add_path(output_rel, (Path *) path);
	if (output_rel->consider_parallel && input_rel->partial_pathlist != NIL)
	{
		Path	   *scan = linitial(input_rel->partial_pathlist);
		int			workers = scan->parallel_workers;
		double		divisor = workers + Max(0.0, 1.0 - 0.3 * workers);
		Cost		merge = topn ? topn_merge_cost(topn_estimate_groups(root, topn, input_rel), workers) : 0;

		path = create_foreign_upper_path(root, output_rel, output_rel->reltarget, 1,
										 10, 10 + run / divisor + merge, NIL, NULL, priv);
		path->path.parallel_aware = true;
		path->path.parallel_safe = true;
		path->path.parallel_workers = workers;
		add_partial_path(output_rel, (Path *) path);
	}
}

void
pack_agg_upper_paths(PlannerInfo *root, UpperRelationKind stage, RelOptInfo *input_rel,
					 RelOptInfo *output_rel, void *extra)
{
	PackEstimate *e = input_rel->fdw_private;
	Aggref	   *ag;
	List	   *quals,
			   *kinds,
			   *atts;
	Cost		run;

	/*
	 * Cheaper than the scan's tuples plus a transition call each, which is
	 * what it replaces; the blocks as for the row scan, and the conditions
	 * on the rows the row pre-filter lets through.  count, min and max add
	 * a flow to no group: a tenth of a tuple where a statistic costs a
	 * quarter (count(*) without conditions decodes nothing at all).
	 */
	if (topn_pushdown_match(root, stage, input_rel, output_rel, extra, &ag, &quals))
	{
		run = e->blocks * cpu_operator_cost + e->decoded * (cpu_tuple_cost * 0.25) +
			e->built * list_length(quals) * cpu_operator_cost;
		add_scan_paths(root, input_rel, output_rel, run,
					   list_make2(makeInteger(input_rel->relid), quals), ag);
	}
	else if (simple_pushdown_match(root, stage, input_rel, output_rel, extra, &kinds, &atts, &quals))
	{
		run = e->blocks * cpu_operator_cost + e->decoded * (cpu_tuple_cost * 0.1) +
			e->built * list_length(quals) * cpu_operator_cost;
		add_scan_paths(root, input_rel, output_rel, run,
					   list_make4(makeInteger(input_rel->relid), quals, kinds, atts), NULL);
	}
}

/*
 * The plan: the partial Aggrefs are the scan's output columns
 * (fdw_scan_tlist, as postgres_fdw pushes an aggregate); fdw_private holds
 * what the scan needs: the attributes to decode, the partition, its
 * conditions (not fdw_exprs: they are evaluated on the partition's rows,
 * not on the scan's output), the arguments' attributes and the
 * specification, or for count, min and max their kinds.
 */
ForeignScan *
pack_agg_plan(PlannerInfo *root, RelOptInfo *rel, ForeignPath *best_path, List *tlist,
			  Plan *outer_plan)
{
	Index		rti = intVal(linitial(best_path->fdw_private));
	List	   *quals = copyObject(lsecond(best_path->fdw_private));
	bool		simple = list_length(best_path->fdw_private) == 4;
	Bitmapset  *attrs = NULL;
	List	   *need = NIL;
	List	   *argatts;
	Node	   *what;
	ListCell   *lc;
	int			x = -1;

	if (simple)
	{
		argatts = lfourth(best_path->fdw_private);
		what = (Node *) lthird(best_path->fdw_private);	/* the kinds */
		foreach(lc, argatts)
			if (lfirst_int(lc) > 0)
				attrs = bms_add_member(attrs, lfirst_int(lc) - FirstLowInvalidHeapAttributeNumber);
	}
	else
	{
		Aggref	   *ag = (Aggref *) ((TargetEntry *) linitial(tlist))->expr;

		Assert(list_length(tlist) == 1 && IsA(ag, Aggref));
		argatts = topn_arg_attributes(ag, rti, &attrs);
		what = (Node *) makeString(topn_spec_text(ag));
	}
	pull_varattnos((Node *) quals, rti, &attrs);
	while ((x = bms_next_member(attrs, x)) >= 0)
		need = lappend_int(need, x + FirstLowInvalidHeapAttributeNumber);
	/* planner-built operators may lack their function's OID until setrefs */
	fix_opfuncids((Node *) quals);
	return make_foreignscan(tlist, NIL, 0, NIL,
							list_make5(need, list_make1_oid(planner_rt_fetch(rti, root)->relid),
									   quals, argatts, what),
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
	a->nquals = list_length(quals);
	if (!IsA(list_nth(priv, 4), String))
	{
		List	   *kinds = list_nth(priv, 4);

		a->nsimple = list_length(kinds);
		a->simple = palloc0(sizeof(SimpleAgg) * a->nsimple);
		for (int i = 0; i < a->nsimple; i++)
		{
			a->simple[i].kind = list_nth_int(kinds, i);
			a->simple[i].att = list_nth_int(argatts, i) - 1;
		}
	}
	else
		a->t.spec = strVal(list_nth(priv, 4));
	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
		return;

	if (quals != NIL)
	{
		a->qual = ExecInitQual(quals, &node->ss.ps);
		a->qualcxt = CreateExprContext(estate);
	}
	a->row = ExecInitExtraTupleSlot(estate, desc, &TTSOpsVirtual);
	for (int i = 0; i < desc->natts; i++)
		a->row->tts_isnull[i] = true;
	if (a->nsimple > 0)
		return;

	topn_in_scan_begin(&a->t, argatts, a->t.spec, desc, estate->es_query_cxt);
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
}

/* Whether the row in a->row passes the conditions. */
static bool
row_passes(PackAgg *a)
{
	ResetExprContext(a->qualcxt);
	a->qualcxt->ecxt_scantuple = a->row;
	return ExecQual(a->qual, a->qualcxt);
}

/* One value (NULL or not) added to a count, min or max. */
static inline void
simple_add(SimpleAgg *g, Datum v, bool isnull)
{
	int64		x = (int64) v;	/* a Datum of an int2, int4, int8 or time is its value */

	if (g->kind == SIMPLE_COUNT_ROWS)
		g->count++;
	else if (isnull)
		return;
	else if (g->kind == SIMPLE_COUNT)
		g->count++;
	else if (!g->seen || (g->kind == SIMPLE_MIN ? x < g->value : x > g->value))
	{
		g->value = x;
		g->seen = true;
	}
}

/* Rows pass[0..n) of the block (0..n without pass) added to the counts, minima and maxima. */
static void
simple_add_block(PackScan *s, PackAgg *a, int n, const uint32 *pass)
{
	for (int i = 0; i < a->nsimple; i++)
	{
		SimpleAgg  *g = &a->simple[i];
		const Datum *v;
		const bool *isnull;

		if (g->kind == SIMPLE_COUNT_ROWS)
		{
			g->count += n;		/* nothing decoded for it */
			continue;
		}
		v = s->vals[g->att];
		isnull = s->nulls[g->att];
		for (int j = 0; j < n; j++)
		{
			int			r = pass ? (int) pass[j] : j;

			simple_add(g, v[r], isnull[r]);
		}
	}
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
	if (a->nsimple > 0)
		simple_add_block(s, a, n, pass);
	else
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
		for (int i = 0; i < a->nsimple; i++)
		{
			SimpleAgg  *g = &a->simple[i];

			simple_add(g, g->att >= 0 ? a->row->tts_values[g->att] : (Datum) 0,
					   g->att >= 0 ? a->row->tts_isnull[g->att] : false);
		}
		if (a->nsimple > 0)
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
	if (a->nsimple == 0)
		slot->tts_values[0] = topn_in_scan_result(&a->t, &slot->tts_isnull[0]);
	/* count's partial state over no rows is 0, min's and max's NULL */
	for (int i = 0; i < a->nsimple; i++)
	{
		SimpleAgg  *g = &a->simple[i];
		bool		count = g->kind == SIMPLE_COUNT_ROWS || g->kind == SIMPLE_COUNT;

		slot->tts_values[i] = count ? Int64GetDatum(g->count) : (Datum) g->value;
		slot->tts_isnull[i] = !count && !g->seen;
	}
	return ExecStoreVirtualTuple(slot);
}

/* A rescan starts from an empty state. */
void
pack_agg_rescan(PackScan *s)
{
	PackAgg    *a = s->agg;

	if (a->nsimple == 0)
		topn_in_scan_reset(&a->t);
	for (int i = 0; i < a->nsimple; i++)
	{
		a->simple[i].count = 0;
		a->simple[i].seen = false;
	}
	a->done = false;
}

void
pack_agg_explain(ForeignScanState *node, ExplainState *es)
{
	PackScan   *s = node->fdw_state;

	ExplainPropertyText("Packed Partition", s->where, es);
	if (s->agg->nsimple > 0)
	{
		StringInfoData what;

		initStringInfo(&what);
		for (int i = 0; i < s->agg->nsimple; i++)
		{
			SimpleAgg  *g = &s->agg->simple[i];
			static const char *const names[] = {"count", "count", "min", "max"};

			appendStringInfo(&what, "%s%s(%s)", i ? ", " : "", names[g->kind],
							 g->att < 0 ? "*" : NameStr(TupleDescAttr(RelationGetDescr(s->ftrel), g->att)->attname));
		}
		ExplainPropertyText("Aggregate in Scan", what.data, es);
	}
	else
		ExplainPropertyText("Aggregate in Scan", s->agg->t.spec, es);
	ExplainPropertyInteger("Conditions in Scan", NULL, s->agg->nquals, es);
	if (s->agg->nquals > 0)
		ExplainPropertyText("Conditions Decided", s->skip_exact ? "by the row filter" : "row by row", es);
}
