/*-------------------------------------------------------------------------
 *
 * filter_eval.c
 *		Run-time evaluation of nf_filter() when the planner could not rewrite
 *		the call (the filter is a parameter, a generic plan, a column of
 *		another table, a row on the nullable side of an outer join).
 *
 * It compiles the filter with the same code as the planner rewrite
 * (filter_plan.c), for the row type it is given, and runs that expression
 * with the executor; so both paths give identical results, NULLs included.
 * The compiled expression is cached per call site until the filter text or
 * the row type changes.  Value lists get the hash tables the planner would
 * give them (convert_saop_to_hashed_saop); the expression is initialised
 * without a parent plan, which PostgreSQL never JIT-compiles, so a big
 * filter here costs time per row but stays cancellable.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "executor/executor.h"
#include "executor/tuptable.h"
#include "filter_plan.h"
#include "fmgr.h"
#include "optimizer/optimizer.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/typcache.h"

PG_FUNCTION_INFO_V1(nf_filter_row);
PG_FUNCTION_INFO_V1(nf_filter_text);

typedef struct EvalCache
{
	MemoryContext cxt;			/* holds everything below */
	text	   *filter;
	Oid			type;
	int32		typmod;
	ExprState  *state;
	ExprContext *econtext;
	TupleTableSlot *slot;
} EvalCache;

static EvalCache *
compile(FunctionCallInfo fcinfo, text *filter, Oid type, int32 typmod)
{
	EvalCache  *c = fcinfo->flinfo->fn_extra;
	MemoryContext cxt;
	MemoryContext old;
	TupleDesc	tupdesc;
	Expr	   *expr;

	if (c && c->type == type && c->typmod == typmod &&
		VARSIZE_ANY(c->filter) == VARSIZE_ANY(filter) &&
		memcmp(c->filter, filter, VARSIZE_ANY(filter)) == 0)
		return c;
	if (c)
	{
		MemoryContextDelete(c->cxt);
		fcinfo->flinfo->fn_extra = NULL;
	}
	cxt = AllocSetContextCreate(fcinfo->flinfo->fn_mcxt, "nf_filter", ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(cxt);
	c = palloc0(sizeof(EvalCache));
	c->cxt = cxt;
	c->filter = palloc(VARSIZE_ANY(filter));
	memcpy(c->filter, filter, VARSIZE_ANY(filter));
	c->type = type;
	c->typmod = typmod;
	tupdesc = lookup_rowtype_tupdesc_copy(type, typmod);
	/* varno 1: the executor reads such Vars from the scan slot */
	expr = nf_filter_expr(filter, nf_columns_of_tupdesc(tupdesc, 1, 0),
						  get_func_namespace(fcinfo->flinfo->fn_oid));
	convert_saop_to_hashed_saop((Node *) expr);
	c->state = ExecInitExpr(expr, NULL);
	c->slot = MakeSingleTupleTableSlot(tupdesc, &TTSOpsHeapTuple);
	c->econtext = CreateStandaloneExprContext();
	MemoryContextSwitchTo(old);
	fcinfo->flinfo->fn_extra = c;
	return c;
}

/* nf_filter(row record, filter text) */
Datum
nf_filter_row(PG_FUNCTION_ARGS)
{
	HeapTupleHeader td = PG_GETARG_HEAPTUPLEHEADER(0);
	text	   *filter = PG_GETARG_TEXT_PP(1);
	EvalCache  *c = compile(fcinfo, filter, HeapTupleHeaderGetTypeId(td),
							HeapTupleHeaderGetTypMod(td));
	HeapTupleData tuple;
	Datum		result;
	bool		isnull;

	tuple.t_len = HeapTupleHeaderGetDatumLength(td);
	ItemPointerSetInvalid(&tuple.t_self);
	tuple.t_tableOid = InvalidOid;
	tuple.t_data = td;
	ExecStoreHeapTuple(&tuple, c->slot, false);
	ResetExprContext(c->econtext);
	c->econtext->ecxt_scantuple = c->slot;
	result = ExecEvalExprSwitchContext(c->state, c->econtext, &isnull);
	ExecClearTuple(c->slot);
	if (isnull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(result);
}

/*
 * nf_filter(filter text): the planner always rewrites or replaces the call,
 * so reaching the body means there was no query level to bind to.
 */
Datum
nf_filter_text(PG_FUNCTION_ARGS)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("nf_filter(text) was not rewritten by the planner"),
			 errdetail("No row argument: here (a CHECK constraint, an index predicate, a query without a flow relation) the filter has no row to apply to."),
			 errhint("Use nf_filter(f, '...') with the row of the flows relation.")));
	PG_RETURN_NULL();
}
