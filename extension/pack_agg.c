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
 * How PostgreSQL lets it.  With enable_partitionwise_aggregate, an
 * aggregate over nfpg.flows is planned as a partial aggregate per
 * partition under one Finalize Aggregate, and for a foreign partition the
 * planner asks its wrapper for a path that computes the partial aggregate
 * (GetForeignUpperPaths, UPPERREL_PARTIAL_GROUP_AGG).  This file answers
 * with a ForeignScan whose one output column is the partial state:
 * Finalize merges it with the heap partitions' states exactly as it merges
 * parallel workers'.  A parallel worker serializes its state
 * (nf_topn_serial's format); in the process that runs Finalize the state
 * is handed over by reference (stat_handoff, stat_agg.c).  A partial
 * (parallel-aware) path is offered too: each process claims segments from
 * the shared counter (pack_fdw.c) and returns its own state; its cost
 * counts the groups the leader will have to merge.  The rows reach the
 * statistic as columns (stat_add_columns): integers read in place from the
 * codec's arrays, addresses as key slots built from the stored records
 * (pack_address_slots), a small integer key counted in an array
 * (stat_use_direct).  nf_stat and nf_aggregate switch partitionwise
 * aggregation on for their query when packed partitions exist
 * (30_stat.sql).  A custom scan under a planner hook would need the
 * library preloaded; a wrapper's callbacks are always there (the design
 * note in pack_fdw.c).
 *
 * What is pushed down: a single nf_topn or nf_topn_records aggregate, no
 * GROUP BY, HAVING, FILTER, ORDER BY or DISTINCT, whose specification is a
 * constant and whose other arguments are plain columns.  The partition's
 * conditions are all evaluated in the scan: first on the decoded arrays
 * (block summaries and the row pre-filter, as for a row scan), then as the
 * planner's expressions on each row that may pass, security barrier
 * conditions first, as the executor would.  When the pre-filter holds every
 * condition whole (pack_skip_compile's exact: nf_filter's comparisons of
 * times, addresses, ports, protocols, counters and bpp under and, or, not)
 * the rows it keeps are the answer and the second step is skipped: the
 * port scan's filter no longer builds a row per candidate flow for the
 * executor.  Late rows always take the second step.  A condition with a
 * subplan or an executor parameter keeps the ordinary plan, and so does
 * anything else outside that shape.  nfdump(), the web page's series and expressions
 * such as srcnet's mask are planned as before.
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
#include "stat.h"

typedef struct PackAgg
{
	char	   *spec;			/* the specification, for EXPLAIN */
	int			nquals;
	StatSpec	parsed;
	MemoryContext cxt;			/* the state's */
	StatState  *st;
	int			nargs;			/* STAT_RECORD_ARGS counters, then the keys */
	NullableDatum *args;
	int			nlive;			/* the arguments read from columns: */
	int			live[2 + STAT_RECORD_ARGS + 2 * STAT_MAX_KEYS];	/* their numbers */
	int		   *argatt;			/* and their attributes, 0-based */
	ExprState  *qual;			/* the partition's conditions, or NULL */
	ExprContext *qualcxt;
	TupleTableSlot *row;		/* one row of the partition, for qual */
	bool		done;
} PackAgg;

/* ---------- planning ---------- */

/* Whether aggfnoid is nfpg.nf_topn or nfpg.nf_topn_records. */
static bool
is_topn(Oid aggfnoid)
{
	char	   *name = get_func_name(aggfnoid);
	Oid			nsp = get_namespace_oid("nfpg", true);

	return name && OidIsValid(nsp) && get_func_namespace(aggfnoid) == nsp &&
		(strcmp(name, "nf_topn") == 0 || strcmp(name, "nf_topn_records") == 0);
}

/* A condition the scan can evaluate alone: no subplan, no executor parameter. */
static bool
scan_evaluable(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Param))
		return ((Param *) node)->paramkind != PARAM_EXTERN;
	if (IsA(node, SubPlan) || IsA(node, AlternativeSubPlan) || IsA(node, SubLink))
		return true;
	return expression_tree_walker(node, scan_evaluable, context);
}

/* A plain column of relation rti, or -1. */
static int
column_of(Expr *e, Index rti)
{
	Var		   *v = (Var *) e;

	if (!IsA(e, Var) || v->varno != (int) rti || v->varlevelsup != 0 || v->varattno <= 0)
		return -1;
	return v->varattno;
}

/*
 * The groups of the statistic, at most the rows that pass.  The planner's
 * statistics serve for ports, protocols and the like, but not for
 * addresses: ANALYZE samples a packed hour in short time windows, and from
 * them estimated 29k distinct sources where 10M flowgen flows have 1.5M.
 * Flow data has about one distinct address per few flows, so an address
 * key counts as rows / 8 distinct values; two-sided statistics count both
 * sides.
 */
static double
estimate_groups(PlannerInfo *root, Aggref *ag, RelOptInfo *rel)
{
	const char *spec = TextDatumGetCString(((Const *) ((TargetEntry *) linitial(ag->args))->expr)->constvalue);
	bool		two = strncmp(spec, "stat2 ", 6) == 0;
	int			nkeys = list_length(ag->args) - 1 - STAT_RECORD_ARGS;
	List	   *other = NIL;
	int			addrs = 0;
	double		groups = 1;
	ListCell   *lc;

	for_each_from(lc, ag->args, 1 + STAT_RECORD_ARGS)
	{
		Expr	   *e = ((TargetEntry *) lfirst(lc))->expr;

		if (two && foreach_current_index(lc) >= 1 + STAT_RECORD_ARGS + nkeys / 2)
			break;				/* one side: the other has as many */

		if (exprType((Node *) e) == INETOID || exprType((Node *) e) == CIDROID)
			addrs++;
		else
			other = lappend(other, e);
	}
	if (other != NIL)
		groups = estimate_num_groups(root, other, rel->rows, NULL, NULL);
	for (int i = 0; i < addrs; i++)
		groups *= Max(1.0, rel->rows / 8);
	if (two)
		groups *= 2;
	return Min(groups, rel->rows);
}

void
pack_agg_upper_paths(PlannerInfo *root, UpperRelationKind stage, RelOptInfo *input_rel,
					 RelOptInfo *output_rel, void *extra)
{
	GroupPathExtraData *gx = extra;
	PackEstimate *e = input_rel->fdw_private;
	Query	   *parse = root->parse;
	Aggref	   *ag;
	Const	   *spec;
	ListCell   *lc;
	List	   *quals = NIL;
	int			maxlevel = 0;
	Bitmapset  *attrs = NULL;
	Cost		run;
	ForeignPath *path;
	List	   *priv;

	if (stage != UPPERREL_PARTIAL_GROUP_AGG || !IS_SIMPLE_REL(input_rel) ||
		input_rel->rtekind != RTE_RELATION || gx == NULL)
		return;
	if (parse->groupClause || parse->groupingSets || gx->havingQual ||
		list_length(output_rel->reltarget->exprs) != 1)
		return;
	ag = linitial(output_rel->reltarget->exprs);
	if (!IsA(ag, Aggref) || ag->aggfilter || ag->aggorder || ag->aggdistinct ||
		ag->aggvariadic || ag->agglevelsup != 0 ||
		list_length(ag->args) < 2 + STAT_RECORD_ARGS || !is_topn(ag->aggfnoid))
		return;
	spec = (Const *) ((TargetEntry *) linitial(ag->args))->expr;
	if (!IsA(spec, Const) || spec->constisnull || spec->consttype != TEXTOID)
		return;
	for_each_from(lc, ag->args, 1)
		if (column_of(((TargetEntry *) lfirst(lc))->expr, input_rel->relid) < 0)
			return;

	/* every condition, security barriers first, as the executor orders them */
	foreach(lc, input_rel->baserestrictinfo)
	{
		RestrictInfo *ri = lfirst(lc);

		if (scan_evaluable((Node *) ri->clause, NULL))
			return;
		maxlevel = Max(maxlevel, (int) ri->security_level);
		pull_varattnos((Node *) ri->clause, input_rel->relid, &attrs);
	}
	if (bms_next_member(attrs, -1) >= 0 &&
		bms_next_member(attrs, -1) + FirstLowInvalidHeapAttributeNumber <= 0)
		return;					/* a whole-row or system column */
	for (int level = 0; level <= maxlevel; level++)
		foreach(lc, input_rel->baserestrictinfo)
		{
			RestrictInfo *ri = lfirst(lc);

			if ((int) ri->security_level == level)
				quals = lappend(quals, ri->clause);
		}

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

	/*
	 * In parallel when the row scan would be: each process returns its
	 * state, which the leader then merges.  A state holds up to one group
	 * per distinct key, and encoding, decoding and merging a group costs
	 * about what adding a flow does (measured: 2M flows, 1M groups of -A
	 * /24 pairs), so a statistic of many groups is cheaper serial on few
	 * cores, one of few groups (ports, protocols) cheaper in parallel.
	 */
	if (output_rel->consider_parallel && input_rel->partial_pathlist != NIL)
	{
		Path	   *scan = linitial(input_rel->partial_pathlist);
		int			workers = scan->parallel_workers;
		double		divisor = workers + Max(0.0, 1.0 - 0.3 * workers);
		double		groups = estimate_groups(root, ag, input_rel);
		Cost		merge = groups * (workers + 1) * (cpu_tuple_cost * 0.25);

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
	Const	   *spec = (Const *) ((TargetEntry *) linitial(ag->args))->expr;
	Bitmapset  *attrs = NULL;
	List	   *need = NIL;
	List	   *argatts = NIL;
	ListCell   *lc;
	int			x = -1;

	Assert(list_length(tlist) == 1 && IsA(ag, Aggref));
	for_each_from(lc, ag->args, 1)
	{
		int			att = column_of(((TargetEntry *) lfirst(lc))->expr, rti);

		/* statistics (-s) keep no flags or ToS: those columns are not decoded */
		if ((foreach_current_index(lc) == 1 + STAT_ARG_FLAGS ||
			 foreach_current_index(lc) == 1 + STAT_ARG_TOS) &&
			strncmp(TextDatumGetCString(spec->constvalue), "stat", 4) == 0)
			att = 0;
		argatts = lappend_int(argatts, att);
		if (att > 0)
			attrs = bms_add_member(attrs, att - FirstLowInvalidHeapAttributeNumber);
	}
	pull_varattnos((Node *) quals, rti, &attrs);
	while ((x = bms_next_member(attrs, x)) >= 0)
		need = lappend_int(need, x + FirstLowInvalidHeapAttributeNumber);
	/* planner-built operators may lack their function's OID until setrefs */
	fix_opfuncids((Node *) quals);
	return make_foreignscan(tlist, NIL, 0, NIL,
							list_make5(need, list_make1_oid(planner_rt_fetch(rti, root)->relid),
									   quals, argatts, makeString(TextDatumGetCString(spec->constvalue))),
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
	Oid			types[2 * STAT_MAX_KEYS];
	int			nkeys;
	ListCell   *lc;

	s->own_ftrel = true;
	s->agg = a;
	a->spec = strVal(list_nth(priv, 4));
	a->nquals = list_length(quals);
	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
		return;

	a->nargs = list_length(argatts);
	nkeys = a->nargs - STAT_RECORD_ARGS;
	if (nkeys > 2 * STAT_MAX_KEYS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("nf_topn: between 1 and %d keys are needed", STAT_MAX_KEYS)));
	a->argatt = palloc(sizeof(int) * a->nargs);
	a->args = palloc(sizeof(NullableDatum) * a->nargs);
	a->nlive = 0;
	for (int i = 0; i < a->nargs; i++)
	{
		int			att = list_nth_int(argatts, i);

		a->args[i].value = (Datum) 0;
		a->args[i].isnull = true;	/* an argument the statistic does not read */
		if (att > 0)
		{
			a->live[a->nlive] = i;
			a->argatt[a->nlive++] = att - 1;
		}
	}
	for (int i = 0; i < nkeys; i++)
		types[i] = TupleDescAttr(desc, list_nth_int(argatts, STAT_RECORD_ARGS + i) - 1)->atttypid;
	stat_spec_parse(&a->parsed, a->spec, nkeys, types);
	a->cxt = AllocSetContextCreate(estate->es_query_cxt, "nfpg packed aggregate",
								   ALLOCSET_DEFAULT_SIZES);
	a->st = stat_state_create(a->cxt, &a->parsed);
	stat_use_direct(a->st);
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
	for (int i = 0; i < nkeys; i++)
	{
		int			att = list_nth_int(argatts, STAT_RECORD_ARGS + i) - 1;

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

	for (int i = 0; i < a->nlive; i++)
	{
		vals[a->live[i]] = s->vals[a->argatt[i]];
		nulls[a->live[i]] = s->nulls[a->argatt[i]];
		addrs[a->live[i]] = s->vals[a->argatt[i]] ? NULL : s->addrs[a->argatt[i]];
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
	stat_add_columns(a->st, n, pass, vals, nulls, addrs);
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
		for (int i = 0; i < a->nlive; i++)
		{
			a->args[a->live[i]].value = a->row->tts_values[a->argatt[i]];
			a->args[a->live[i]].isnull = a->row->tts_isnull[a->argatt[i]];
		}
		stat_add_args(a->st, a->args);
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
	slot->tts_isnull[0] = a->st->t_records == 0;
	if (!slot->tts_isnull[0])
		slot->tts_values[0] = PointerGetDatum(IsParallelWorker() ? stat_serialize(a->st) :
											  stat_handoff(a->st));
	return ExecStoreVirtualTuple(slot);
}

/* A rescan starts from an empty state. */
void
pack_agg_rescan(PackScan *s)
{
	PackAgg    *a = s->agg;

	if (a->st == NULL)
		return;
	MemoryContextReset(a->cxt);
	a->st = stat_state_create(a->cxt, &a->parsed);
	stat_use_direct(a->st);
	a->done = false;
}

void
pack_agg_explain(ForeignScanState *node, ExplainState *es)
{
	PackScan   *s = node->fdw_state;

	ExplainPropertyText("Packed Partition", s->where, es);
	ExplainPropertyText("Aggregate in Scan", s->agg->spec, es);
	ExplainPropertyInteger("Conditions in Scan", NULL, s->agg->nquals, es);
	if (s->agg->nquals > 0)
		ExplainPropertyText("Conditions Decided", s->skip_exact ? "by the row filter" : "row by row", es);
}
