/*-------------------------------------------------------------------------
 *
 * filter_limit.c
 *		nfpg.filter_max_terms: the bound on the size of a compiled filter.
 *
 * A filter may be 256 KiB of text (filter_parse.c), and 256 KiB of terms
 * compiled one comparison each is an expression of some 24,000 nodes: work
 * no user can stop once it started, in the planner and above all in JIT
 * (LLVM never checks for interrupts; such a filter kept a leader and two
 * workers compiling for over 7 minutes, deaf to cancel and terminate).
 * Lists of values are compiled into arrays (filter_plan.c), so "port 1 or
 * port 2 or ..." stays small however long it is; a filter still grows with
 * the number of *different* tests (ranges, networks, many columns).  Past
 * nfpg.filter_max_terms it is refused, with its size and the limit in the
 * message, at the one place all three paths compile a filter (the planner
 * rewrite, the run-time evaluator, nf_filter_sql()), so every way in is
 * bounded alike.  The limit is an ordinary user setting: someone who needs
 * a bigger filter raises it for the session or the role; JIT stays off for
 * big plans whatever the limit (filter_jit.c).
 *
 * A term is one comparison, IS [NOT] NULL test or function call of the
 * compiled expression: what the executor (or JIT) evaluates one by one.
 * A column = ANY(array) counts once, however long the array.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "filter_plan.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "utils/guc.h"

static int	filter_max_terms = 2000;

static bool
count_terms(Node *node, int *count)
{
	if (node == NULL)
		return false;
	check_stack_depth();
	switch (nodeTag(node))
	{
		case T_OpExpr:
		case T_DistinctExpr:
		case T_NullIfExpr:
		case T_ScalarArrayOpExpr:
		case T_FuncExpr:
		case T_NullTest:
		case T_BooleanTest:
			(*count)++;
			break;
		default:
			break;
	}
	return expression_tree_walker(node, count_terms, count);
}

/* The terms of an expression (or a list of them). */
int
nf_expr_terms(Node *expr)
{
	int			count = 0;

	count_terms(expr, &count);
	return count;
}

void
nf_filter_check_terms(Node *expr)
{
	int			terms = nf_expr_terms(expr);

	if (terms > filter_max_terms)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("nf_filter: the filter compiles to %d terms, more than nfpg.filter_max_terms (%d)",
						terms, filter_max_terms),
				 errdetail("A term is one comparison or function call of the SQL condition the filter becomes; the values of one field listed with \"or\" or \"in [ ... ]\" count as one term."),
				 errhint("Shorten the filter, or raise the limit: SET nfpg.filter_max_terms = %d.",
						 terms)));
}

void
nf_filter_limit_init(void)
{
	DefineCustomIntVariable("nfpg.filter_max_terms",
							"Largest number of terms (comparisons and function calls) an nfdump filter may compile to.",
							"Bigger filters are refused: planning and running an expression that size takes long and cannot always be cancelled.",
							&filter_max_terms,
							2000, 1, INT_MAX,
							PGC_USERSET, 0,
							NULL, NULL, NULL);
}
