/*-------------------------------------------------------------------------
 *
 * heap_agg.c
 *		nfdump's statistics computed inside the scan of a row-store
 *		partition (the open hour): a custom scan that reads the heap and
 *		adds each flow's columns to the statistic, one row per process.
 *		This file plans it; heap_agg_scan.c runs it.
 *
 * Why.  Over a row-store hour the ordinary plan is a Partial Aggregate
 * over a Seq Scan: for every flow the executor deforms the tuple,
 * evaluates the aggregate's 11 to 13 argument expressions and calls the
 * transition function, which decodes them again into a record.  For
 * -s dstport that was four fifths of the time; nfdump's whole work per
 * flow is a hash of the key and five additions.  This scan reads the
 * tuples itself, copies the columns the statistic reads into arrays of a
 * batch (addresses as key slots, integers as they are) and hands the
 * batch to stat_add_columns, the loop the packed scan uses (pack_agg.c).
 *
 * How PostgreSQL lets it.  For a foreign partition the planner asks the
 * wrapper for a path computing its partial aggregate (pack_agg.c); for a
 * heap table nobody is asked.  So this file's create_upper_paths_hook,
 * called when the grouping is planned (UPPERREL_GROUP_AGG), takes the
 * partially aggregated paths the planner made again, with each Partial
 * Aggregate over a Seq Scan of a heap table replaced by this scan:
 *   - partitionwise (Append of per-partition Partial Aggregates, what
 *     nf_stat and nf_aggregate ask for): the partition's aggregate;
 *   - a Partial Aggregate over an Append of Seq Scans (no partitionwise
 *     aggregation, or a query that reads one partition): pushed below the
 *     Append, each partition given the partially grouped relation and
 *     target that partitionwise aggregation would have given it;
 * and finalizes them as the planner does; add_path keeps the cheapest.
 * The scan is costed as the Seq Scan plus a quarter of what the Partial
 * Aggregate adds, so an index scan the planner prefers for a selective
 * filter stays the plan.  A partial (parallel-aware) path shares a
 * parallel heap scan among the processes, each returning its own state.
 * The hook is the library's, which PostgreSQL loads on first use in a
 * session: nf_topn_trans's planner support function (topn_pushdown.c) is
 * asked for the transition's cost before the grouping is planned, and
 * calling it loads the library, so even a session's first nf_topn query is
 * planned with the hook.
 *
 * The scan is for heap tables only (it reads the tuples' bytes as heap
 * lays them out), not for TABLESAMPLE, and evaluates the partition's
 * conditions itself, security barriers first (topn_pushdown_match;
 * heap_agg_scan.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_class.h"
#include "nodes/extensible.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/appendinfo.h"
#include "optimizer/pathnode.h"
#include "optimizer/planmain.h"
#include "optimizer/tlist.h"
#include "parser/parsetree.h"
#include "utils/rel.h"

#include "topn_pushdown.h"


static create_upper_paths_hook_type prev_upper_paths = NULL;
static CustomPathMethods heap_agg_path_methods;

/* ---------- planning ---------- */

/* Whether relation rti is a heap table read whole (no TABLESAMPLE). */
static bool
is_heap_table(PlannerInfo *root, Index rti)
{
	RangeTblEntry *rte = planner_rt_fetch(rti, root);
	Relation	rel;
	bool		heap;

	if (rte->rtekind != RTE_RELATION || rte->relkind != RELKIND_RELATION ||
		rte->tablesample != NULL)
		return false;
	rel = table_open(rte->relid, NoLock);	/* the planner holds its lock */
	heap = rel->rd_tableam == GetHeapamTableAmRoutine();
	table_close(rel, NoLock);
	return heap;
}

/*
 * The scan that computes output_rel's partial aggregate over seq, a Seq
 * Scan of a heap table, in place of a Partial Aggregate costing agg_cost
 * more than the Seq Scan; NULL when the aggregate or the conditions are not
 * of the shape (topn_pushdown_match).  It costs the Seq Scan and a quarter
 * of agg_cost: adding a flow from its columns measured a quarter of the
 * executor's argument evaluation and transition call (and a Partial
 * Aggregate's cost leaves out the merge of its groups in the leader, which
 * the scan's states need as much).
 */
static Path *
in_scan_path(PlannerInfo *root, Path *seq, RelOptInfo *output_rel, Cost agg_cost, void *extra)
{
	RelOptInfo *input_rel = seq->parent;
	CustomPath *cp;
	Aggref	   *ag;
	List	   *quals;

	if (seq->pathtype != T_SeqScan || seq->param_info != NULL ||
		!IS_SIMPLE_REL(input_rel) || input_rel->rtekind != RTE_RELATION ||
		!is_heap_table(root, input_rel->relid) ||
		!topn_pushdown_match(root, UPPERREL_PARTIAL_GROUP_AGG, input_rel, output_rel, extra,
							 &ag, &quals))
		return NULL;
	cp = makeNode(CustomPath);
	cp->path.pathtype = T_CustomScan;
	cp->path.parent = output_rel;
	cp->path.pathtarget = output_rel->reltarget;
	cp->path.rows = 1;
	cp->path.total_cost = seq->total_cost + agg_cost * 0.25;
	cp->path.startup_cost = cp->path.total_cost;
	cp->path.parallel_aware = seq->parallel_aware;
	cp->path.parallel_safe = seq->parallel_safe && output_rel->consider_parallel;
	cp->path.parallel_workers = seq->parallel_workers;
	cp->custom_private = list_make2(makeInteger(input_rel->relid), quals);
	cp->methods = &heap_agg_path_methods;
	return &cp->path;
}

/*
 * A copy of ap with subpaths in place of its own, whose costs went from
 * before to after in all: a Parallel Append's cost is its subpaths' shared
 * among the workers, so it is scaled, not summed.
 */
static AppendPath *
append_with(AppendPath *ap, List *subpaths, Cost before, Cost after)
{
	AppendPath *copy = makeNode(AppendPath);

	memcpy(copy, ap, sizeof(AppendPath));
	copy->subpaths = subpaths;
	copy->path.total_cost = before > 0 ? ap->path.total_cost * (after / before) : after;
	copy->path.startup_cost = Min(ap->path.startup_cost, copy->path.total_cost);
	return copy;
}

/*
 * A Partial Aggregate over an Append of Seq Scans of partitions (what the
 * planner makes without partitionwise aggregation, and keeps for a query
 * that reads one partition) as an Append of the partitions' scans that
 * aggregate: each child gets the partially grouped relation partitionwise
 * aggregation would give it, its target translated to the child's columns.
 */
static Path *
push_below_append(PlannerInfo *root, AggPath *agg, AppendPath *ap, void *extra)
{
	Cost		agg_cost = agg->path.total_cost - ap->path.total_cost;
	List	   *subpaths = NIL;
	Cost		before = 0,
				after = 0;
	AppendPath *copy;
	ListCell   *lc;

	if (ap->path.rows <= 0)
		return NULL;
	foreach(lc, ap->subpaths)
	{
		Path	   *seq = lfirst(lc);
		RelOptInfo *child = seq->parent;
		AppendRelInfo *appinfo;
		RelOptInfo *partial;
		Path	   *in_scan;

		if (child->reloptkind != RELOPT_OTHER_MEMBER_REL || root->append_rel_array == NULL ||
			(appinfo = root->append_rel_array[child->relid]) == NULL)
			return NULL;
		partial = fetch_upper_rel(root, UPPERREL_PARTIAL_GROUP_AGG, child->relids);
		if (partial->reltarget == NULL || partial->reltarget->exprs == NIL)
		{
			partial->reloptkind = RELOPT_OTHER_UPPER_REL;
			partial->consider_parallel = agg->path.parent->consider_parallel;
			partial->reltarget = copy_pathtarget(agg->path.pathtarget);
			partial->reltarget->exprs = (List *)
				adjust_appendrel_attrs(root, (Node *) agg->path.pathtarget->exprs, 1, &appinfo);
		}
		in_scan = in_scan_path(root, seq, partial, agg_cost * (seq->rows / ap->path.rows), extra);
		if (in_scan == NULL)
			return NULL;
		subpaths = lappend(subpaths, in_scan);
		before += seq->total_cost;
		after += in_scan->total_cost;
	}
	copy = append_with(ap, subpaths, before, after);
	copy->path.parent = agg->path.parent;
	copy->path.pathtarget = agg->path.pathtarget;
	copy->path.rows = list_length(subpaths);
	return &copy->path;
}

/*
 * path with the partial aggregates of heap tables under it computed in
 * their scans (copies of the Append and Gather above them, cheaper by what
 * the scans save), or NULL when there is none.
 */
static Path *
rewrite(PlannerInfo *root, Path *path, void *extra)
{
	if (IsA(path, AggPath))
	{
		AggPath    *agg = (AggPath *) path;

		if (agg->aggsplit != AGGSPLIT_INITIAL_SERIAL || agg->aggstrategy != AGG_PLAIN)
			return NULL;
		if (IsA(agg->subpath, AppendPath))
			return push_below_append(root, agg, (AppendPath *) agg->subpath, extra);
		return in_scan_path(root, agg->subpath, agg->path.parent,
							agg->path.total_cost - agg->subpath->total_cost, extra);
	}
	if (IsA(path, AppendPath))
	{
		AppendPath *ap = (AppendPath *) path;
		List	   *subpaths = NIL;
		Cost		before = 0,
					after = 0;
		bool		replaced = false;
		ListCell   *lc;

		foreach(lc, ap->subpaths)
		{
			Path	   *sub = lfirst(lc);
			Path	   *in_scan = rewrite(root, sub, extra);

			before += sub->total_cost;
			after += in_scan ? in_scan->total_cost : sub->total_cost;
			subpaths = lappend(subpaths, in_scan ? in_scan : sub);
			replaced |= in_scan != NULL;
		}
		if (!replaced)
			return NULL;
		return &append_with(ap, subpaths, before, after)->path;
	}
	if (IsA(path, GatherPath))
	{
		GatherPath *g = (GatherPath *) path;
		GatherPath *copy;
		Path	   *sub = rewrite(root, g->subpath, extra);

		if (sub == NULL)
			return NULL;
		copy = makeNode(GatherPath);
		memcpy(copy, g, sizeof(GatherPath));
		copy->subpath = sub;
		copy->path.startup_cost -= g->subpath->startup_cost - sub->startup_cost;
		copy->path.total_cost -= g->subpath->total_cost - sub->total_cost;
		return &copy->path;
	}
	return NULL;
}

/* The partially grouped relation of the grouping output_rel, or NULL. */
static RelOptInfo *
find_partial_rel(PlannerInfo *root, RelOptInfo *output_rel)
{
	ListCell   *lc;

	foreach(lc, root->upper_rels[UPPERREL_PARTIAL_GROUP_AGG])
	{
		RelOptInfo *rel = lfirst(lc);

		if (bms_equal(rel->relids, output_rel->relids))
			return rel;
	}
	return NULL;
}

/*
 * The planner asks a foreign table's wrapper for paths computing a
 * partition's partial aggregate, but no hook for a heap table's.  So when
 * the grouping is planned (UPPERREL_GROUP_AGG), the partially aggregated
 * paths (partitionwise: an Append of each partition's Partial Aggregate)
 * are taken again with the heap partitions' Partial Aggregate over Seq Scan
 * replaced by the scan that aggregates, and finalized as the planner
 * finalizes them; add_path keeps what is cheapest.
 */
static void
heap_agg_upper_paths(PlannerInfo *root, UpperRelationKind stage, RelOptInfo *input_rel,
					 RelOptInfo *output_rel, void *extra)
{
	GroupPathExtraData *gx = extra;
	RelOptInfo *partial;
	List	   *finals = NIL;
	ListCell   *lc;

	if (prev_upper_paths)
		prev_upper_paths(root, stage, input_rel, output_rel, extra);
	if (stage != UPPERREL_GROUP_AGG || gx == NULL || !gx->partial_costs_set ||
		!root->parse->hasAggs || root->parse->groupClause || root->parse->groupingSets ||
		gx->havingQual)
		return;
	/* the partial target holds the aggregates alone: one of the nf_topn family */
	partial = find_partial_rel(root, output_rel);
	if (partial == NULL || partial->reltarget == NULL ||
		list_length(partial->reltarget->exprs) != 1 ||
		!IsA(linitial(partial->reltarget->exprs), Aggref) ||
		!topn_is_aggregate(((Aggref *) linitial(partial->reltarget->exprs))->aggfnoid))
		return;
	foreach(lc, partial->pathlist)
	{
		Path	   *p = rewrite(root, lfirst(lc), extra);

		if (p)
			finals = lappend(finals, p);
	}
	/* the planner gathered the cheapest partial path only */
	foreach(lc, partial->partial_pathlist)
	{
		Path	   *p = rewrite(root, lfirst(lc), extra);

		/* one state a process */
		double		rows = p ? p->rows * (p->parallel_workers + 1) : 0;

		if (p)
			finals = lappend(finals, create_gather_path(root, partial, p, partial->reltarget,
														NULL, &rows));
	}
	foreach(lc, finals)
		lfirst(lc) = create_agg_path(root, output_rel, lfirst(lc), output_rel->reltarget,
									 AGG_PLAIN, AGGSPLIT_FINAL_DESERIAL, NIL, NIL,
									 &gx->agg_final_costs, 1);
	foreach(lc, finals)
		add_path(output_rel, lfirst(lc));
}

/*
 * The plan: the partial Aggref is the scan's one output column
 * (custom_scan_tlist); custom_private holds the partition, its conditions
 * (evaluated on the partition's tuples, not on the scan's output), the
 * arguments' attributes and the specification.
 */
static Plan *
heap_agg_plan(PlannerInfo *root, RelOptInfo *rel, CustomPath *best_path, List *tlist,
			  List *clauses, List *custom_plans)
{
	CustomScan *cs = makeNode(CustomScan);
	Index		rti = intVal(linitial(best_path->custom_private));
	List	   *quals = copyObject(lsecond(best_path->custom_private));
	Aggref	   *ag = (Aggref *) ((TargetEntry *) linitial(tlist))->expr;

	Assert(list_length(tlist) == 1 && IsA(ag, Aggref));
	/* planner-built operators may lack their function's OID until setrefs */
	fix_opfuncids((Node *) quals);
	cs->scan.plan.targetlist = tlist;
	cs->scan.scanrelid = 0;
	cs->custom_scan_tlist = tlist;
	cs->flags = best_path->flags;
	cs->custom_private = list_make4(list_make1_oid(planner_rt_fetch(rti, root)->relid),
									quals, topn_arg_attributes(ag, rti, NULL),
									makeString(topn_spec_text(ag)));
	cs->methods = &heap_agg_scan_methods;
	return &cs->scan.plan;
}

static CustomPathMethods heap_agg_path_methods = {
	.CustomName = "NfpgHeapAggregate",
	.PlanCustomPath = heap_agg_plan,
};

void
heap_agg_init(void)
{
	RegisterCustomScanMethods(&heap_agg_scan_methods);
	prev_upper_paths = create_upper_paths_hook;
	create_upper_paths_hook = heap_agg_upper_paths;
}
