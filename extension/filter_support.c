/*-------------------------------------------------------------------------
 *
 * filter_support.c
 *		Planner support function of nf_filter(): SupportRequestSimplify
 *		replaces the call by the compiled filter (filter_plan.c), so the
 *		planner sees plain column comparisons (indexes, partition pruning,
 *		real statistics).
 *
 * nf_filter(row record, filter text): the row may be a whole-row Var of a
 * table, partition or view, a record Var of a subquery or CTE, or, after a
 * view or subquery was flattened, a RowExpr of its fields.  Anything else
 * (a PlaceHolderVar on the nullable side of an outer join, a Param filter) is
 * left to the run-time evaluator, which executes the same tree.
 *
 * nf_filter(filter text) binds to the one flow relation of its query level
 * (after flattening) and is rewritten as the two-argument form; when the
 * filter is not a constant it becomes a call of the two-argument function.
 * The columns it reads are added to the relation's selectedCols, so column
 * privileges are checked as if the user had written them.
 * See docs/filter.md and the planner notes for the reasoning.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_class_d.h"
#include "catalog/pg_type_d.h"
#include "filter_plan.h"
#include "fmgr.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/supportnodes.h"
#include "optimizer/optimizer.h"
#include "optimizer/prep.h"
#include "parser/parse_func.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteHandler.h"
#include "access/relation.h"
#include "access/sysattr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/typcache.h"
#include "miscadmin.h"

PG_FUNCTION_INFO_V1(nf_filter_support);

/* Columns every flow relation has; used to find it in form 1. */
static const char *const marker_columns[] = {"src_addr", "dst_addr", "src_port", "dst_port", "proto"};

static NfColumns *
columns_of_names(List *names, List *exprs)
{
	NfColumns  *cols = palloc(sizeof(NfColumns));
	int			n = list_length(exprs);
	ListCell   *lc;

	cols->n = 0;
	cols->names = palloc(sizeof(char *) * (n + 1));
	cols->exprs = palloc(sizeof(Expr *) * (n + 1));
	foreach(lc, exprs)
	{
		int			k = foreach_current_index(lc);

		if (k >= list_length(names))
			break;
		cols->names[cols->n] = strVal(list_nth(names, k));
		cols->exprs[cols->n] = lfirst(lc);
		cols->n++;
	}
	return cols;
}

/* A record-typed whole-row Var of a subquery or CTE: read its RTE. */
static NfColumns *
columns_of_record_var(PlannerInfo *root, Var *var)
{
	List	   *exprs = NIL;
	RangeTblEntry *rte;

	for (Index up = 0; root && up < var->varlevelsup; up++)
		root = root->parent_root;
	if (root == NULL || var->varno <= 0 || var->varno > list_length(root->parse->rtable))
		return NULL;
	rte = rt_fetch(var->varno, root->parse->rtable);
	if (rte->rtekind == RTE_SUBQUERY)
	{
		ListCell   *lc;
		AttrNumber	attno = 0;

		foreach(lc, rte->subquery->targetList)
		{
			TargetEntry *te = lfirst(lc);

			if (te->resjunk)
				continue;
			exprs = lappend(exprs, makeVar(var->varno, ++attno, exprType((Node *) te->expr),
										   exprTypmod((Node *) te->expr),
										   exprCollation((Node *) te->expr), var->varlevelsup));
		}
	}
	else if (rte->rtekind == RTE_CTE)
	{
		ListCell   *t,
				   *m,
				   *c;
		AttrNumber	attno = 0;

		forthree(t, rte->coltypes, m, rte->coltypmods, c, rte->colcollations)
			exprs = lappend(exprs, makeVar(var->varno, ++attno, lfirst_oid(t), lfirst_int(m),
										   lfirst_oid(c), var->varlevelsup));
	}
	else
		return NULL;
	return columns_of_names(rte->eref->colnames, exprs);
}

/* A RowExpr of a flattened view or subquery: its fields are the columns. */
static NfColumns *
columns_of_rowexpr(RowExpr *row)
{
	List	   *names = row->colnames;

	if (contain_volatile_functions((Node *) row))
		return NULL;			/* the fields would be evaluated twice */
	if (row->row_typeid != RECORDOID)
	{
		TupleDesc	tupdesc = lookup_rowtype_tupdesc(row->row_typeid, -1);

		names = NIL;
		for (int k = 0; k < tupdesc->natts; k++)
			names = lappend(names, makeString(pstrdup(NameStr(TupleDescAttr(tupdesc, k)->attname))));
		ReleaseTupleDesc(tupdesc);
	}
	return columns_of_names(names, row->args);
}

/* The columns of the row argument of nf_filter(row, text), or NULL. */
static NfColumns *
columns_of_row(PlannerInfo *root, Node *arg)
{
	for (;;)
	{
		if (IsA(arg, RelabelType))
			arg = (Node *) ((RelabelType *) arg)->arg;
		else if (IsA(arg, ConvertRowtypeExpr))
			arg = (Node *) ((ConvertRowtypeExpr *) arg)->arg;
		else
			break;
	}
	if (IsA(arg, RowExpr))
		return columns_of_rowexpr((RowExpr *) arg);
	if (IsA(arg, Var) && ((Var *) arg)->varattno == 0)
	{
		Var		   *var = (Var *) arg;
		TupleDesc	tupdesc;
		NfColumns  *cols;

		if (var->vartype == RECORDOID)
			return columns_of_record_var(root, var);
		if (!OidIsValid(get_typ_typrelid(var->vartype)))
			return NULL;
		/* names, types and attnums from the catalog, never from eref */
		tupdesc = lookup_rowtype_tupdesc(var->vartype, -1);
		cols = nf_columns_of_tupdesc(tupdesc, var->varno, var->varlevelsup);
		ReleaseTupleDesc(tupdesc);
		return cols;
	}
	return NULL;
}

static Node *
simplify_row_form(PlannerInfo *root, Oid funcid, Node *row, Node *filter)
{
	NfColumns  *cols;

	if (!IsA(filter, Const) || ((Const *) filter)->constisnull)
		return NULL;
	cols = columns_of_row(root, row);
	if (cols == NULL)
		return NULL;
	return (Node *) nf_filter_expr(DatumGetTextPP(((Const *) filter)->constvalue), cols,
								   get_func_namespace(funcid));
}

static bool
is_flow_rte(RangeTblEntry *rte)
{
	for (size_t k = 0; k < lengthof(marker_columns); k++)
	{
		bool		found = false;

		if (rte->rtekind == RTE_RELATION)
			found = get_attnum(rte->relid, marker_columns[k]) != InvalidAttrNumber;
		else if (rte->rtekind == RTE_SUBQUERY || rte->rtekind == RTE_CTE)
		{
			ListCell   *lc;

			foreach(lc, rte->eref->colnames)
				found |= strcmp(strVal(lfirst(lc)), marker_columns[k]) == 0;
		}
		if (!found)
			return false;
	}
	return true;
}

/* The one flow relation in the (flattened) join tree of this query level. */
static Index
find_flow_relation(PlannerInfo *root)
{
	Relids		relids = get_relids_in_jointree((Node *) root->parse->jointree, false);
	Index		found = 0;
	StringInfoData names;
	int			count = 0;
	int			rti = -1;

	initStringInfo(&names);
	while ((rti = bms_next_member(relids, rti)) >= 0)
	{
		RangeTblEntry *rte = rt_fetch(rti, root->parse->rtable);

		if (!is_flow_rte(rte))
			continue;
		appendStringInfo(&names, "%s\"%s\"", count ? ", " : "", rte->eref->aliasname);
		found = rti;
		count++;
	}
	if (count == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("nf_filter(text): no flow relation in this query level"),
				 errhint("Use nf_filter(f, '...') with the row of the flows relation.")));
	if (count > 1)
		ereport(ERROR,
				(errcode(ERRCODE_AMBIGUOUS_COLUMN),
				 errmsg("nf_filter(text) is ambiguous: %d flow relations in this query level (%s)",
						count, names.data),
				 errhint("Name the row: nf_filter(f, '...'), or put the subquery behind OFFSET 0.")));
	return found;
}

/*
 * The user never wrote the columns the rewrite reads: add them to the
 * columns whose SELECT privilege the executor checks.  For a view the
 * planner did not flatten, the view's permission check lives on the view's
 * own entry inside the expanded subquery, whose columns are the outputs.
 */
static void
mark_selected(RangeTblEntry *rte, Node *result, Index rti)
{
	Bitmapset  *attrs = NULL;

	pull_varattnos(result, rti, &attrs);
	if (rte->rtekind == RTE_RELATION)
		rte->selectedCols = bms_add_members(rte->selectedCols, attrs);
	else if (rte->rtekind == RTE_SUBQUERY && rte->subquery != NULL &&
			 rte->subquery->rtable != NIL)
	{
		RangeTblEntry *view = rt_fetch(PRS2_OLD_VARNO, rte->subquery->rtable);

		if (view->rtekind == RTE_RELATION && view->relkind == RELKIND_VIEW &&
			view->requiredPerms != 0)
			view->selectedCols = bms_add_members(view->selectedCols, attrs);
	}
}

/*
 * The flow column attno of relation relid, as a flattened view exposes it:
 * the view's output of that name must be that very column (views may stack),
 * else the filter would read what the view hides or renames.  Returns the
 * view's attno, or raises an error.
 */
static AttrNumber
view_column(Oid viewid, Oid relid, AttrNumber attno)
{
	char	   *name = get_attname(relid, attno, false);
	Relation	view = relation_open(viewid, AccessShareLock);
	Query	   *q = get_view_query(view);
	ListCell   *lc;
	AttrNumber	found = InvalidAttrNumber;

	foreach(lc, q->targetList)
	{
		TargetEntry *te = lfirst(lc);
		Var		   *var = (Var *) te->expr;
		RangeTblEntry *src;

		if (te->resjunk || te->resname == NULL || strcmp(te->resname, name) != 0)
			continue;
		if (IsA(var, Var) && var->varlevelsup == 0 && var->varattno > 0)
		{
			src = rt_fetch(var->varno, q->rtable);
			if (src->rtekind == RTE_RELATION &&
				strcmp(get_attname(src->relid, var->varattno, false), name) == 0)
				found = te->resno;
		}
		break;
	}
	relation_close(view, AccessShareLock);
	if (found == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("nf_filter(text): view \"%s\" does not expose flow column \"%s\"",
						get_rel_name(viewid), name),
				 errhint("Use nf_filter(v, '...') with the row of the view.")));
	return found;
}

/* Does view viewid read relation relid, directly or through other views? */
static bool
view_reads(Oid viewid, Oid relid, int depth)
{
	Relation	view;
	ListCell   *lc;
	bool		reads = false;

	check_stack_depth();
	view = relation_open(viewid, AccessShareLock);
	foreach(lc, get_view_query(view)->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);

		if (rte->rtekind != RTE_RELATION || rte->relid == viewid)
			continue;			/* the view's own OLD/NEW entries */
		if (rte->relid == relid ||
			(rte->relkind == RELKIND_VIEW && depth < 32 && view_reads(rte->relid, relid, depth + 1)))
		{
			reads = true;
			break;
		}
	}
	relation_close(view, AccessShareLock);
	return reads;
}

/* The run-time form reads the whole row: the view must expose all of it. */
static void
mark_all_view_columns(RangeTblEntry *view, Oid relid)
{
	Relation	rel = relation_open(relid, AccessShareLock);
	TupleDesc	tupdesc = RelationGetDescr(rel);

	for (int k = 0; k < tupdesc->natts; k++)
		if (!TupleDescAttr(tupdesc, k)->attisdropped)
			view->selectedCols = bms_add_member(view->selectedCols,
												view_column(view->relid, relid, k + 1) -
												FirstLowInvalidHeapAttributeNumber);
	relation_close(rel, AccessShareLock);
}

/*
 * A view flattened into this query level leaves its permission entry (the
 * view relation, not in the join tree) in the range table, and its base
 * relation is read with the view owner's rights.  The user's rights are on
 * the view: require SELECT on the view columns the filter reads.
 */
static void
mark_flattened_views(PlannerInfo *root, RangeTblEntry *flow, Node *result, Index rti)
{
	Bitmapset  *attrs = NULL;
	ListCell   *lc;

	if (flow->rtekind != RTE_RELATION)
		return;
	pull_varattnos(result, rti, &attrs);
	foreach(lc, root->parse->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);
		int			k = -1;

		if (rte->rtekind != RTE_RELATION || rte->relkind != RELKIND_VIEW ||
			!(rte->requiredPerms & ACL_SELECT) || !view_reads(rte->relid, flow->relid, 0))
			continue;
		while ((k = bms_next_member(attrs, k)) >= 0)
		{
			AttrNumber	attno = k + FirstLowInvalidHeapAttributeNumber;

			if (attno == 0)
				mark_all_view_columns(rte, flow->relid);
			else
				rte->selectedCols = bms_add_member(rte->selectedCols,
												   view_column(rte->relid, flow->relid, attno) -
												   FirstLowInvalidHeapAttributeNumber);
		}
	}
}

static Node *
simplify_text_form(PlannerInfo *root, FuncExpr *fcall)
{
	Node	   *filter = linitial(fcall->args);
	Oid			nspid = get_func_namespace(fcall->funcid);
	Index		rti;
	RangeTblEntry *rte;
	Var		   *row;
	Node	   *result = NULL;

	if (root == NULL)
		return NULL;			/* CHECK or index predicate: the body raises */
	rti = find_flow_relation(root);
	rte = rt_fetch(rti, root->parse->rtable);
	row = makeWholeRowVar(rte, rti, 0, false);
	if (IsA(filter, Const))
		result = simplify_row_form(root, fcall->funcid, (Node *) row, filter);
	if (result == NULL)
	{
		/* hand over to nf_filter(record, text), evaluated at run time */
		Oid			argtypes[2] = {RECORDOID, TEXTOID};
		Oid			rowfn = LookupFuncName(list_make2(makeString(get_namespace_name(nspid)),
													  makeString("nf_filter")),
										   2, argtypes, false);

		result = (Node *) makeFuncExpr(rowfn, BOOLOID, list_make2(row, filter),
									   InvalidOid, fcall->inputcollid, COERCE_EXPLICIT_CALL);
	}
	mark_selected(rte, result, rti);
	mark_flattened_views(root, rte, result, rti);
	return result;
}

Datum
nf_filter_support(PG_FUNCTION_ARGS)
{
	Node	   *rawreq = (Node *) PG_GETARG_POINTER(0);
	SupportRequestSimplify *req;
	FuncExpr   *fcall;

	if (!IsA(rawreq, SupportRequestSimplify))
		PG_RETURN_POINTER(NULL);
	req = (SupportRequestSimplify *) rawreq;
	fcall = req->fcall;
	if (list_length(fcall->args) == 2)
		PG_RETURN_POINTER(simplify_row_form(req->root, fcall->funcid,
											linitial(fcall->args), lsecond(fcall->args)));
	PG_RETURN_POINTER(simplify_text_form(req->root, fcall));
}
