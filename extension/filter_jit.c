/*-------------------------------------------------------------------------
 *
 * filter_jit.c
 *		No JIT for plans with big expressions: an ExecutorStart hook runs a
 *		plan without JIT when its expressions hold more than
 *		nfpg.jit_max_terms terms (comparisons and function calls).
 *
 * Why: LLVM compiles a plan's expressions without ever checking for
 * interrupts, and its time grows faster than the expression: a filter of
 * 1,000 "port N" terms ran 1.6 s without JIT and 50 s with it; 12,000 terms
 * kept a leader and two workers compiling for over 7 minutes, deaf to
 * cancel and terminate, until a SIGKILL restarted the whole cluster.
 * Measured here (PostgreSQL 15, jit_above_cost = 0): 100 OR-ed comparisons
 * take 1.2 s of uninterruptible JIT with inlining and optimisation, 800
 * take 1 s even without them; a filter needs a few terms.  So a plan with
 * more than nfpg.jit_max_terms terms (default 100) runs interpreted, which
 * checks for interrupts on every row: statement_timeout and
 * pg_cancel_backend work again.  nfpg.filter_max_terms (filter_limit.c)
 * bounds the filters themselves.
 *
 * Why the executor and not the planner: the first nf_filter() of a session
 * loads this library from inside the planning of that very statement (the
 * planner calls the support function), so a planner_hook installed by
 * _PG_init would miss exactly the first query -- the only query of
 * nfpg-dump and of a web request.  ExecutorStart comes later for that
 * statement too, and sees every plan whoever built it: a filter rewritten
 * by the planner, the SQL nf_stat, profiles and alerts build from
 * nf_filter_sql() and EXECUTE, a cached plan of a prepared statement, a
 * hand-written condition of the same size.
 * Why not SET jit = off on our functions: nf_filter() in a user's own
 * statement is planned and run by that statement, out of reach of any
 * function's SET clause; and a SET LOCAL issued while planning would
 * change the rest of the user's transaction.
 * Parallel workers take the JIT flags of the leader's executor state
 * (ExecInitParallelPlan passes es_jit_flags), so clearing the flags before
 * the leader's executor starts keeps the workers from compiling too.
 * The plan's flags are cleared only around the executor start and then
 * restored, so a cached plan is judged again, under the current setting,
 * at each execution.  Only plans the planner chose to compile (cost above
 * jit_above_cost) are walked: every other query pays one test.  Plans of
 * other SQL in the same backend are judged alike: a plan that big is as
 * slow to compile whoever wrote it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "executor/executor.h"
#include "filter_plan.h"
#include "jit/jit.h"
#include "miscadmin.h"
#include "nodes/plannodes.h"
#include "utils/guc.h"

static int	jit_max_terms = 100;
static ExecutorStart_hook_type prev_executor_start = NULL;

static int	plan_terms(Plan *plan);

#define TERMS(x) nf_expr_terms((Node *) (x))

static int
plans_terms(List *plans)
{
	int			n = 0;
	ListCell   *lc;

	foreach(lc, plans)
		n += plan_terms(lfirst(lc));
	return n;
}

/*
 * The terms of the expressions a plan tree evaluates.  The plans of
 * SubPlans and InitPlans are not in the tree: see stmt_terms().
 */
static int
plan_terms(Plan *plan)
{
	int			n;

	if (plan == NULL)
		return 0;
	check_stack_depth();
	n = TERMS(plan->targetlist) + TERMS(plan->qual) +
		plan_terms(plan->lefttree) + plan_terms(plan->righttree);
	switch (nodeTag(plan))
	{
		case T_IndexScan:
			n += TERMS(((IndexScan *) plan)->indexqualorig) +
				TERMS(((IndexScan *) plan)->indexorderbyorig);
			break;
		case T_IndexOnlyScan:
			n += TERMS(((IndexOnlyScan *) plan)->recheckqual);
			break;
		case T_BitmapHeapScan:
			n += TERMS(((BitmapHeapScan *) plan)->bitmapqualorig);
			break;
		case T_TidScan:
			n += TERMS(((TidScan *) plan)->tidquals);
			break;
		case T_TidRangeScan:
			n += TERMS(((TidRangeScan *) plan)->tidrangequals);
			break;
		case T_FunctionScan:
			n += TERMS(((FunctionScan *) plan)->functions);
			break;
		case T_ValuesScan:
			n += TERMS(((ValuesScan *) plan)->values_lists);
			break;
		case T_NestLoop:
			n += TERMS(((Join *) plan)->joinqual);
			break;
		case T_MergeJoin:
			n += TERMS(((Join *) plan)->joinqual) + TERMS(((MergeJoin *) plan)->mergeclauses);
			break;
		case T_HashJoin:
			n += TERMS(((Join *) plan)->joinqual) + TERMS(((HashJoin *) plan)->hashclauses);
			break;
		case T_Hash:
			n += TERMS(((Hash *) plan)->hashkeys);
			break;
		case T_Memoize:
			n += TERMS(((Memoize *) plan)->param_exprs);
			break;
		case T_Result:
			n += TERMS(((Result *) plan)->resconstantqual);
			break;
		case T_WindowAgg:
			n += TERMS(((WindowAgg *) plan)->runCondition);
			break;
		case T_Limit:
			n += TERMS(((Limit *) plan)->limitOffset) + TERMS(((Limit *) plan)->limitCount);
			break;
		case T_ModifyTable:
			n += TERMS(((ModifyTable *) plan)->withCheckOptionLists) +
				TERMS(((ModifyTable *) plan)->returningLists) +
				TERMS(((ModifyTable *) plan)->onConflictSet) +
				TERMS(((ModifyTable *) plan)->onConflictWhere);
			break;
		case T_ForeignScan:
			n += TERMS(((ForeignScan *) plan)->fdw_recheck_quals);
			break;
		case T_CustomScan:
			n += TERMS(((CustomScan *) plan)->custom_exprs) +
				plans_terms(((CustomScan *) plan)->custom_plans);
			break;
		case T_Append:
			n += plans_terms(((Append *) plan)->appendplans);
			break;
		case T_MergeAppend:
			n += plans_terms(((MergeAppend *) plan)->mergeplans);
			break;
		case T_BitmapAnd:
			n += plans_terms(((BitmapAnd *) plan)->bitmapplans);
			break;
		case T_BitmapOr:
			n += plans_terms(((BitmapOr *) plan)->bitmapplans);
			break;
		case T_SubqueryScan:
			n += plan_terms(((SubqueryScan *) plan)->subplan);
			break;
		default:
			break;
	}
	return n;
}

static int
stmt_terms(PlannedStmt *stmt)
{
	return plan_terms(stmt->planTree) + plans_terms(stmt->subplans);
}

static void
executor_start(QueryDesc *queryDesc, int eflags)
{
	if (prev_executor_start)
		prev_executor_start(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);
}

static void
nf_executor_start(QueryDesc *queryDesc, int eflags)
{
	PlannedStmt *stmt = queryDesc->plannedstmt;
	int			flags = stmt->jitFlags;

	if (!(flags & PGJIT_PERFORM) || jit_max_terms < 0 || stmt_terms(stmt) <= jit_max_terms)
	{
		executor_start(queryDesc, eflags);
		return;
	}
	stmt->jitFlags = PGJIT_NONE;
	PG_TRY();
	{
		executor_start(queryDesc, eflags);
	}
	PG_FINALLY();
	{
		stmt->jitFlags = flags;
	}
	PG_END_TRY();
}

void
nf_filter_jit_init(void)
{
	DefineCustomIntVariable("nfpg.jit_max_terms",
							"Plans with more terms (comparisons and function calls) than this run without JIT.",
							"JIT compilation cannot be cancelled and grows faster than the expression; -1 leaves JIT to PostgreSQL's settings.",
							&jit_max_terms,
							100, -1, INT_MAX,
							PGC_USERSET, 0,
							NULL, NULL, NULL);
	prev_executor_start = ExecutorStart_hook;
	ExecutorStart_hook = nf_executor_start;
}
