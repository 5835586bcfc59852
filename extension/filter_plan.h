/*-------------------------------------------------------------------------
 *
 * filter_plan.h
 *		Turning a parsed nfdump filter into a PostgreSQL expression tree
 *		over the columns of a flow row (filter_plan.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef NFPG_FILTER_PLAN_H
#define NFPG_FILTER_PLAN_H

#include "postgres.h"

#include "filter_ast.h"
#include "access/tupdesc.h"
#include "nodes/primnodes.h"

/*
 * The columns of the row a filter is applied to: for each name, the
 * expression that reads it (a Var, or a field of a flattened view's row).
 */
typedef struct NfColumns
{
	int			n;
	char	  **names;
	Expr	  **exprs;
} NfColumns;

extern NfFilter *nf_parse_or_error(text *filter);
extern Expr *nf_filter_expr(text *filter, NfColumns *cols, Oid nspid);
extern NfColumns *nf_columns_of_tupdesc(TupleDesc tupdesc, Index varno, Index levelsup);

/* filter_limit.c: the bound on a compiled filter, and the JIT guard */
extern int	nf_expr_terms(Node *expr);
extern void nf_filter_check_terms(Node *expr);
extern void nf_filter_limit_init(void);
extern void nf_filter_jit_init(void);

#endif
