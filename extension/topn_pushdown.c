/*-------------------------------------------------------------------------
 *
 * topn_pushdown.c
 *		Which partial aggregates a scan may compute itself, and the
 *		statistic's state as it builds it: the part of aggregation in the
 *		scan that does not depend on how the partition stores its flows.
 *
 * With enable_partitionwise_aggregate, an aggregate over nfpg.flows is
 * planned as a partial aggregate per partition under one Finalize
 * Aggregate, and the planner asks, per partition, for paths that compute
 * the partial aggregate (UPPERREL_PARTIAL_GROUP_AGG): a foreign table's
 * wrapper through GetForeignUpperPaths (a packed hour, pack_agg.c), any
 * other relation through create_upper_paths_hook (a row-store hour,
 * heap_agg.c).  Both answer with a scan whose one output column is the
 * partial state, merged by Finalize as parallel workers' states are.
 *
 * The shape they take: a single nf_topn, nf_topn_summary or
 * nf_topn_records aggregate (one partial state, three final functions), no
 * GROUP BY, HAVING, FILTER, ORDER BY or DISTINCT, its specification a
 * constant and its other arguments plain columns of the partition.  The
 * partition's conditions are evaluated in the scan, security barrier
 * conditions first, as the executor would; a condition with a subplan or
 * an executor parameter keeps the ordinary plan.
 *
 * A packed partition's scan also takes plain count(*), count(column), min
 * and max of integer and time columns, in the same shape (any number of
 * them): their partial states are plain values, and "how many flows, from
 * when to when" is what nfpg-dump's Summary asks of every flow it reads
 * (pack_agg.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/parallel.h"
#include "access/sysattr.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/selfuncs.h"

#include "topn_pushdown.h"

bool
topn_is_aggregate(Oid aggfnoid)
{
	char	   *name = get_func_name(aggfnoid);
	Oid			nsp = get_namespace_oid("nfpg", true);

	return name && OidIsValid(nsp) && get_func_namespace(aggfnoid) == nsp &&
		(strcmp(name, "nf_topn") == 0 || strcmp(name, "nf_topn_summary") == 0 ||
		 strcmp(name, "nf_topn_records") == 0);
}

/* A condition the scan cannot evaluate alone: a subplan or an executor parameter. */
static bool
needs_executor(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Param))
		return ((Param *) node)->paramkind != PARAM_EXTERN;
	if (IsA(node, SubPlan) || IsA(node, AlternativeSubPlan) || IsA(node, SubLink))
		return true;
	return expression_tree_walker(node, needs_executor, context);
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
 * The shape both kinds of aggregate in a scan need: a partial aggregate of
 * one simple relation, no GROUP BY or HAVING, and conditions the scan can
 * evaluate alone, returned in *quals with security barriers first.
 */
static bool
pushdown_shape(PlannerInfo *root, UpperRelationKind stage, RelOptInfo *input_rel,
			   void *extra, List **quals)
{
	GroupPathExtraData *gx = extra;
	Query	   *parse = root->parse;
	ListCell   *lc;
	int			maxlevel = 0;
	Bitmapset  *attrs = NULL;

	if (stage != UPPERREL_PARTIAL_GROUP_AGG || !IS_SIMPLE_REL(input_rel) ||
		input_rel->rtekind != RTE_RELATION || gx == NULL)
		return false;
	if (parse->groupClause || parse->groupingSets || gx->havingQual)
		return false;
	foreach(lc, input_rel->baserestrictinfo)
	{
		RestrictInfo *ri = lfirst(lc);

		if (needs_executor((Node *) ri->clause, NULL))
			return false;
		maxlevel = Max(maxlevel, (int) ri->security_level);
		pull_varattnos((Node *) ri->clause, input_rel->relid, &attrs);
	}
	if (bms_next_member(attrs, -1) >= 0 &&
		bms_next_member(attrs, -1) + FirstLowInvalidHeapAttributeNumber <= 0)
		return false;			/* a whole-row or system column */
	*quals = NIL;
	for (int level = 0; level <= maxlevel; level++)
		foreach(lc, input_rel->baserestrictinfo)
		{
			RestrictInfo *ri = lfirst(lc);

			if ((int) ri->security_level == level)
				*quals = lappend(*quals, ri->clause);
		}
	return true;
}

/* A plain aggregate: no FILTER, ORDER BY, DISTINCT or VARIADIC, of this level. */
static bool
plain_aggref(Node *node)
{
	Aggref	   *ag = (Aggref *) node;

	return IsA(node, Aggref) && !ag->aggfilter && !ag->aggorder && !ag->aggdistinct &&
		!ag->aggvariadic && ag->agglevelsup == 0;
}

bool
topn_pushdown_match(PlannerInfo *root, UpperRelationKind stage, RelOptInfo *input_rel,
					RelOptInfo *output_rel, void *extra, Aggref **agg, List **quals)
{
	Aggref	   *ag;
	Const	   *spec;
	ListCell   *lc;

	if (stage != UPPERREL_PARTIAL_GROUP_AGG || list_length(output_rel->reltarget->exprs) != 1)
		return false;
	ag = linitial(output_rel->reltarget->exprs);
	if (!plain_aggref((Node *) ag) ||
		list_length(ag->args) < 2 + STAT_RECORD_ARGS || !topn_is_aggregate(ag->aggfnoid))
		return false;
	spec = (Const *) ((TargetEntry *) linitial(ag->args))->expr;
	if (!IsA(spec, Const) || spec->constisnull || spec->consttype != TEXTOID)
		return false;
	for_each_from(lc, ag->args, 1)
		if (column_of(((TargetEntry *) lfirst(lc))->expr, input_rel->relid) < 0)
			return false;
	if (!pushdown_shape(root, stage, input_rel, extra, quals))
		return false;
	*agg = ag;
	return true;
}

bool
simple_pushdown_match(PlannerInfo *root, UpperRelationKind stage, RelOptInfo *input_rel,
					  RelOptInfo *output_rel, void *extra, List **kinds, List **atts,
					  List **quals)
{
	ListCell   *lc;

	*kinds = *atts = NIL;
	if (stage != UPPERREL_PARTIAL_GROUP_AGG || output_rel->reltarget->exprs == NIL)
		return false;
	foreach(lc, output_rel->reltarget->exprs)
	{
		Aggref	   *ag = lfirst(lc);
		SimpleAggKind kind;
		int			att = 0;

		if (!plain_aggref((Node *) ag))
			return false;
		switch (ag->aggfnoid)
		{
			case F_COUNT_:
				kind = SIMPLE_COUNT_ROWS;
				break;
			case F_COUNT_ANY:
				kind = SIMPLE_COUNT;
				break;
			case F_MIN_INT2:
			case F_MIN_INT4:
			case F_MIN_INT8:
			case F_MIN_TIMESTAMP:
			case F_MIN_TIMESTAMPTZ:
				kind = SIMPLE_MIN;
				break;
			case F_MAX_INT2:
			case F_MAX_INT4:
			case F_MAX_INT8:
			case F_MAX_TIMESTAMP:
			case F_MAX_TIMESTAMPTZ:
				kind = SIMPLE_MAX;
				break;
			default:
				return false;
		}
		if (kind != SIMPLE_COUNT_ROWS)
		{
			/* min(int8) of an int8 column: a column of another type comes cast, not plain */
			if (list_length(ag->args) != 1)
				return false;
			att = column_of(((TargetEntry *) linitial(ag->args))->expr, input_rel->relid);
			if (att <= 0)
				return false;
		}
		*kinds = lappend_int(*kinds, kind);
		*atts = lappend_int(*atts, att);
	}
	return pushdown_shape(root, stage, input_rel, extra, quals);
}

/*
 * The planner's statistics serve for ports, protocols and the like, but not
 * always for addresses: ANALYZE samples a packed hour in short time
 * windows, and from them estimated 29k distinct sources where 10M flowgen
 * flows have 1.5M.  Flow data has about one distinct address per few
 * flows, so an address key counts as rows / 8 distinct values; two-sided
 * statistics count both sides.
 */
double
topn_estimate_groups(PlannerInfo *root, Aggref *ag, RelOptInfo *rel)
{
	bool		two = strncmp(topn_spec_text(ag), "stat2 ", 6) == 0;
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

/*
 * Each process returns its state, which the leader then merges.  A state
 * holds up to one group per distinct key, and encoding, decoding and
 * merging a group costs about what adding a flow does (measured: 2M flows,
 * 1M groups of -A /24 pairs), so a statistic of many groups is cheaper
 * serial on few cores, one of few groups (ports, protocols) cheaper in
 * parallel.
 */
Cost
topn_merge_cost(double groups, int workers)
{
	return groups * (workers + 1) * (cpu_tuple_cost * 0.25);
}

char *
topn_spec_text(Aggref *ag)
{
	Const	   *spec = (Const *) ((TargetEntry *) linitial(ag->args))->expr;

	return TextDatumGetCString(spec->constvalue);
}

List *
topn_arg_attributes(Aggref *ag, Index rti, Bitmapset **attrs)
{
	bool		stat = strncmp(topn_spec_text(ag), "stat", 4) == 0;
	List	   *argatts = NIL;
	ListCell   *lc;

	for_each_from(lc, ag->args, 1)
	{
		int			att = column_of(((TargetEntry *) lfirst(lc))->expr, rti);

		/* statistics (-s) keep no flags or ToS: those columns are not read */
		if (stat && (foreach_current_index(lc) == 1 + STAT_ARG_FLAGS ||
					 foreach_current_index(lc) == 1 + STAT_ARG_TOS))
			att = 0;
		argatts = lappend_int(argatts, att);
		if (att > 0 && attrs)
			*attrs = bms_add_member(*attrs, att - FirstLowInvalidHeapAttributeNumber);
	}
	return argatts;
}

/*
 * nf_topn_plan(): switch partitionwise aggregation on for this transaction,
 * so that each partition computes its part of nf_stat's or nf_aggregate's
 * statistic in its scan; returns the previous setting, for the caller to
 * put back.
 */
PG_FUNCTION_INFO_V1(nf_topn_plan);
Datum
nf_topn_plan(PG_FUNCTION_ARGS)
{
	char	   *prev = GetConfigOptionByName("enable_partitionwise_aggregate", NULL, false);

	(void) set_config_option("enable_partitionwise_aggregate", "on", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_LOCAL, true, 0, false);
	PG_RETURN_TEXT_P(cstring_to_text(prev));
}

/*
 * nf_topn_trans's planner support function.  The planner asks it for the
 * transition's cost (SupportRequestCost) while it plans any query with
 * nf_topn, nf_topn_summary or nf_topn_records, before it plans the
 * grouping; calling it loads this library, and with it the hook that
 * offers the row-store partitions' scans (heap_agg.c), so that even a
 * session's first nf_topn query is planned with them.  It answers
 * nothing: the transition is costed from its procost, as before.
 */
PG_FUNCTION_INFO_V1(nf_topn_support);
Datum
nf_topn_support(PG_FUNCTION_ARGS)
{
	PG_RETURN_POINTER(NULL);
}

/* ---------- execution ---------- */

void
topn_in_scan_begin(TopnInScan *t, List *argatts, const char *spec, TupleDesc desc,
				   MemoryContext parent)
{
	Oid			types[2 * STAT_MAX_KEYS];
	int			nkeys;

	t->spec = pstrdup(spec);
	t->nargs = list_length(argatts);
	nkeys = t->nargs - STAT_RECORD_ARGS;
	if (nkeys < 1 || nkeys > 2 * STAT_MAX_KEYS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("nf_topn: between 1 and %d keys are needed", STAT_MAX_KEYS)));
	t->nlive = 0;
	for (int i = 0; i < t->nargs; i++)
	{
		int			att = list_nth_int(argatts, i);

		t->args[i].value = (Datum) 0;
		t->args[i].isnull = true;	/* an argument the statistic does not read */
		if (att > 0)
		{
			t->live[t->nlive] = i;
			t->argatt[t->nlive++] = att - 1;
		}
	}
	for (int i = 0; i < nkeys; i++)
		types[i] = TupleDescAttr(desc, list_nth_int(argatts, STAT_RECORD_ARGS + i) - 1)->atttypid;
	stat_spec_parse(&t->parsed, t->spec, nkeys, types);
	t->cxt = AllocSetContextCreate(parent, "nfpg aggregate in scan", ALLOCSET_DEFAULT_SIZES);
	t->st = stat_state_create(t->cxt, &t->parsed);
	stat_use_direct(t->st);
}

/* A rescan starts from an empty state. */
void
topn_in_scan_reset(TopnInScan *t)
{
	if (t->st == NULL)
		return;
	MemoryContextReset(t->cxt);
	t->st = stat_state_create(t->cxt, &t->parsed);
	stat_use_direct(t->st);
}

/*
 * A parallel worker serializes its state (nf_topn_serial's format); in the
 * process that runs Finalize it is handed over by reference (stat_handoff).
 * No flow added gives NULL, as a partial aggregate over no rows.
 */
Datum
topn_in_scan_result(TopnInScan *t, bool *isnull)
{
	*isnull = t->st->t_records == 0;
	if (*isnull)
		return (Datum) 0;
	return PointerGetDatum(IsParallelWorker() ? stat_serialize(t->st) : stat_handoff(t->st));
}
