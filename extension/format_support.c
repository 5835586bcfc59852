/*-------------------------------------------------------------------------
 *
 * format_support.c
 *		nf_format's planner support: a scan reads only the columns the
 *		format prints.
 *
 * nf_format(f, 'line') takes the whole row, so without help the planner
 * asks the scan for every column of nfpg.flows.  A heap scan hardly
 * notices; a packed hour (pack_fdw.c) decodes 41 columns where 'line'
 * prints ten, and decoding is its work: measured over a packed day, the
 * rows of `host X` took 244 ms with nf_format(f, 'line') and 148 ms with
 * the ten columns named.  So the support function, at the planner's
 * constant folding (SupportRequestSimplify), rewrites
 *	 nf_format(f, 'line')  into  nf_format_columns('line', false, false,
 *	 <column set>, f.first_seen, f.last_seen, f.packets, ...)
 * passing the columns fmt_columns() says the format reads (format_token.c)
 * one by one (format.c).  The planner then asks the scan for those columns
 * only, and no row is formed for nf_format to take apart again (0.9
 * rewrote into nf_format(ROW(f.first_seen, NULL, ...)::nfpg.flow, 'line'),
 * whose forming and deforming were a fifth of a query printing flows).
 * Where a printed column has a type nf_format_columns does not take (a
 * view's bytes::numeric, which nf_format reads as zero), or nf_format_columns
 * does not exist yet (a 0.10 library before ALTER EXTENSION UPDATE), the
 * ROW() form is written instead: a typed NULL in the columns not printed,
 * which nf_format reads as absent fields it never prints.  Either way the
 * answer is the same text, byte for byte.
 *
 * What is rewritten, and what is left alone:
 *	 - the format must be a constant (a prepared statement's custom plan has
 *	   it as one); csv, pipe and json print every field and are left;
 *	 - a whole-row Var of a named row type (a table or a function returning
 *	   nfpg.flow), of this query level;
 *	 - a ROW() constructor, which is what a whole-row reference to a simple
 *	   subquery becomes when the planner pulls the subquery up (nfdump()'s
 *	   record dump selects from one): its fields are named by the row type or
 *	   by the constructor; a field whose expression is volatile is kept (in
 *	   the ROW() form, which evaluates it);
 *	 - not a whole-row Var of a query with outer joins: on the nullable side
 *	   the row itself is NULL, which nf_format (STRICT) returns as NULL,
 *	   while a ROW() of NULL columns would print a record of zeros.
 * Column privileges are checked as before: the parser recorded the
 * whole-row reference, and the executor checks what the parser recorded.
 * An unknown format is the same error as at run time, raised while
 * planning, as PostgreSQL's constant folding raises 1/0.
 *
 *-------------------------------------------------------------------------
 */
#include "format.h"

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "nodes/makefuncs.h"
#include "parser/parse_func.h"
#include "nodes/nodeFuncs.h"
#include "nodes/pathnodes.h"
#include "nodes/supportnodes.h"
#include "optimizer/optimizer.h"
#include "parser/parsetree.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"

PG_FUNCTION_INFO_V1(nf_format_support);

/* The FlowCol of a column name, or -1. */
static int
flow_col(const char *name)
{
	for (int c = 0; c < FLOW_NCOLS; c++)
		if (strcmp(flow_col_name(c), name) == 0)
			return c;
	return -1;
}

/* Does the format read the column of this name? (not a flow column: no) */
static bool
needed(uint64 cols, const char *name)
{
	int			c = flow_col(name);

	return c >= 0 && (cols & FLOW_COL_BIT(c));
}

static bool
has_outer_join(PlannerInfo *root)
{
	ListCell   *lc;

	foreach(lc, root->parse->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);

		if (rte->rtekind == RTE_JOIN && rte->jointype != JOIN_INNER)
			return true;
	}
	return false;
}

/* ROW(needed columns of the whole-row Var v, NULL for the rest), or NULL. */
static Node *
prune_var(Var *v, uint64 cols)
{
	TupleDesc	desc;
	RowExpr    *row;

	if (v->varattno != 0 || v->varlevelsup != 0 || v->vartype == RECORDOID ||
		!type_is_rowtype(v->vartype))
		return NULL;
	desc = lookup_rowtype_tupdesc(v->vartype, -1);
	row = makeNode(RowExpr);
	row->row_typeid = v->vartype;
	row->row_format = COERCE_IMPLICIT_CAST;
	row->location = -1;
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute a = TupleDescAttr(desc, i);
		Node	   *arg;

		if (a->attisdropped)
			arg = (Node *) makeNullConst(INT4OID, -1, InvalidOid);
		else if (needed(cols, NameStr(a->attname)))
			arg = (Node *) makeVar(v->varno, a->attnum, a->atttypid, a->atttypmod,
								   a->attcollation, 0);
		else
			arg = (Node *) makeNullConst(a->atttypid, a->atttypmod, a->attcollation);
		row->args = lappend(row->args, arg);
	}
	ReleaseTupleDesc(desc);
	return (Node *) row;
}

/* The ROW() r with NULL for the fields the format does not read, or NULL. */
static Node *
prune_row(RowExpr *r, uint64 cols)
{
	RowExpr    *row = copyObject(r);
	TupleDesc	desc = NULL;
	ListCell   *lc;
	int			i = 0;
	bool		changed = false;

	if (r->row_typeid != RECORDOID)
		desc = lookup_rowtype_tupdesc(r->row_typeid, -1);
	else if (list_length(r->colnames) != list_length(r->args))
		return NULL;
	foreach(lc, row->args)
	{
		Node	   *arg = lfirst(lc);
		const char *name;

		if (desc)
		{
			Form_pg_attribute a = TupleDescAttr(desc, i);

			name = a->attisdropped ? NULL : NameStr(a->attname);
		}
		else
			name = strVal(list_nth(r->colnames, i));
		i++;
		if (name == NULL || IsA(arg, Const) || needed(cols, name) ||
			contain_volatile_functions(arg))
			continue;
		lfirst(lc) = makeNullConst(exprType(arg), exprTypmod(arg), exprCollation(arg));
		changed = true;
	}
	if (desc)
		ReleaseTupleDesc(desc);
	return changed ? (Node *) row : NULL;
}

/*
 * nf_format_columns(format, plain, long_v6, columns, <the columns read>) in
 * place of nf_format(row, format[, plain, long_v6]), where row is a
 * whole-row Var or a ROW() and every column the format reads has a type
 * nf_format_columns takes; else NULL, and the ROW() pruning below is used.
 * fields[] are the row's fields by FlowCol (NULL: not in the row type).
 */
static Node *
columns_call(FuncExpr *fn, Node **fields, uint64 cols)
{
	FuncExpr   *call;
	Oid			argtypes[5] = {TEXTOID, BOOLOID, BOOLOID, INT8OID, ANYOID};
	Oid			funcid;
	List	   *args = NIL;
	int64		mask = 0;

	funcid = LookupFuncName(list_make2(makeString(get_namespace_name(get_func_namespace(fn->funcid))),
									   makeString("nf_format_columns")), 5, argtypes, true);
	if (!OidIsValid(funcid))
		return NULL;			/* the library is newer than the SQL (before ALTER EXTENSION UPDATE) */
	for (int c = 0; c < FLOW_NCOLS; c++)
	{
		if (!(cols & FLOW_COL_BIT(c)) || fields[c] == NULL)
			continue;
		if (!flow_rec_type_ok(c, exprType(fields[c])))
			return NULL;
		mask |= FLOW_COL_BIT(c);
		args = lappend(args, fields[c]);
	}
	if (args == NIL)
		return NULL;			/* a VARIADIC call needs an argument */
	args = list_concat(list_make4(lsecond(fn->args),
								  list_length(fn->args) > 2 ? lthird(fn->args) : makeBoolConst(false, false),
								  list_length(fn->args) > 3 ? lfourth(fn->args) : makeBoolConst(false, false),
								  makeConst(INT8OID, -1, InvalidOid, 8, Int64GetDatum(mask), false, true)),
					   args);
	call = makeFuncExpr(funcid, TEXTOID, args, fn->funccollid, fn->inputcollid, COERCE_EXPLICIT_CALL);
	call->location = fn->location;
	return (Node *) call;
}

/* The fields of a whole-row Var by FlowCol, or false. */
static bool
var_fields(Var *v, Node **fields)
{
	TupleDesc	desc;

	if (v->varattno != 0 || v->varlevelsup != 0 || v->vartype == RECORDOID ||
		!type_is_rowtype(v->vartype))
		return false;
	desc = lookup_rowtype_tupdesc(v->vartype, -1);
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute a = TupleDescAttr(desc, i);
		int			c = a->attisdropped ? -1 : flow_col(NameStr(a->attname));

		if (c >= 0)
			fields[c] = (Node *) makeVar(v->varno, a->attnum, a->atttypid, a->atttypmod,
										 a->attcollation, 0);
	}
	ReleaseTupleDesc(desc);
	return true;
}

/*
 * The fields of a ROW() by FlowCol, or false where passing only the needed
 * ones would change what is evaluated (a volatile field the format does not
 * read) or which field is read (a name twice).
 */
static bool
row_fields(RowExpr *r, uint64 cols, Node **fields)
{
	TupleDesc	desc = NULL;
	ListCell   *lc;
	int			i = 0;
	bool		ok = true;

	if (r->row_typeid != RECORDOID)
		desc = lookup_rowtype_tupdesc(r->row_typeid, -1);
	else if (list_length(r->colnames) != list_length(r->args))
		return false;
	foreach(lc, r->args)
	{
		Node	   *arg = lfirst(lc);
		const char *name;
		int			c;

		if (desc)
		{
			Form_pg_attribute a = TupleDescAttr(desc, i);

			name = a->attisdropped ? NULL : NameStr(a->attname);
		}
		else
			name = strVal(list_nth(r->colnames, i));
		i++;
		c = name ? flow_col(name) : -1;
		if (c >= 0 && fields[c] != NULL)
			ok = false;
		else if (c >= 0)
			fields[c] = arg;
		if ((c < 0 || !(cols & FLOW_COL_BIT(c))) && contain_volatile_functions(arg))
			ok = false;
	}
	if (desc)
		ReleaseTupleDesc(desc);
	return ok;
}

Datum
nf_format_support(PG_FUNCTION_ARGS)
{
	Node	   *rawreq = (Node *) PG_GETARG_POINTER(0);
	SupportRequestSimplify *req;
	FuncExpr   *fn;
	Node	   *arg;
	Const	   *format;
	FmtSpec		spec;
	uint64		cols;
	Node	   *pruned = NULL;
	FuncExpr   *out;

	if (!IsA(rawreq, SupportRequestSimplify))
		PG_RETURN_POINTER(NULL);
	req = (SupportRequestSimplify *) rawreq;
	fn = req->fcall;
	if (req->root == NULL || list_length(fn->args) < 2 || !IsA(lsecond(fn->args), Const))
		PG_RETURN_POINTER(NULL);
	format = lsecond_node(Const, fn->args);
	arg = linitial(fn->args);
	if (format->constisnull ||
		!((IsA(arg, Var) && ((Var *) arg)->varattno == 0 && !has_outer_join(req->root)) ||
		  IsA(arg, RowExpr)))
		PG_RETURN_POINTER(NULL);
	fmt_parse_format(TextDatumGetCString(format->constvalue), &spec);
	cols = fmt_columns(&spec);
	if (cols == FLOW_COL_BIT(FLOW_NCOLS) - 1)
		PG_RETURN_POINTER(NULL);
	{
		Node	   *fields[FLOW_NCOLS] = {0};

		if (IsA(arg, Var) ? var_fields((Var *) arg, fields) : row_fields((RowExpr *) arg, cols, fields))
			pruned = columns_call(fn, fields, cols);
		if (pruned)
			PG_RETURN_POINTER(pruned);
	}
	pruned = IsA(arg, Var) ? prune_var((Var *) arg, cols) : prune_row((RowExpr *) arg, cols);
	if (pruned == NULL)
		PG_RETURN_POINTER(NULL);
	out = copyObject(fn);
	linitial(out->args) = pruned;
	PG_RETURN_POINTER(out);
}
