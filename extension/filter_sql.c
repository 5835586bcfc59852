/*-------------------------------------------------------------------------
 *
 * filter_sql.c
 *		nf_filter_sql(text): the SQL condition an nfdump filter becomes,
 *		over unqualified nfpg.flows column names.
 *
 * The text is deparsed from the same expression tree the planner rewrite
 * uses (filter_plan.c), with ruleutils: constants are quoted literals and
 * the filter text itself never reaches the output, so the result is safe to
 * embed with format('... WHERE %s', nfpg.nf_filter_sql($1)).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "filter_plan.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"

PG_FUNCTION_INFO_V1(nf_filter_sql);

Datum
nf_filter_sql(PG_FUNCTION_ARGS)
{
	text	   *filter = PG_GETARG_TEXT_PP(0);
	Oid			nspid = get_func_namespace(fcinfo->flinfo->fn_oid);
	Oid			relid = get_relname_relid("flows", nspid);
	Relation	rel;
	NfColumns  *cols;
	Expr	   *expr;

	if (!OidIsValid(relid))
		elog(ERROR, "nf_filter_sql: relation flows not found in the extension's schema");
	rel = table_open(relid, AccessShareLock);
	cols = nf_columns_of_tupdesc(RelationGetDescr(rel), 1, 0);
	table_close(rel, AccessShareLock);
	expr = nf_filter_expr(filter, cols, nspid);
	PG_RETURN_TEXT_P(cstring_to_text(deparse_expression((Node *) expr,
														deparse_context_for("flows", relid),
														false, false)));
}
