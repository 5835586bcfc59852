/*-------------------------------------------------------------------------
 *
 * filter_plan.c
 *		Compile a parsed nfdump filter into an expression of plain column
 *		comparisons with constants (Vars, Consts, OpExprs, BoolExprs).
 *
 * The planner support function returns this tree in place of the nf_filter()
 * call, so btree/BRIN indexes and partition pruning see ordinary quals; the
 * run-time evaluator executes the very same tree, and nf_filter_sql() deparses
 * it, so the three can never disagree.  The tree is not simplified again by
 * the planner: every OpExpr carries its opfuncid and every Const its type.
 *
 * NULL semantics: nfdump reads an absent field as zero.  A nullable column
 * is therefore compared as if NULL were 0, and each leaf is two-valued:
 *	 "col op C" becomes (col op C OR col IS NULL) when 0 op C holds,
 *	 and (col op C AND col IS NOT NULL) otherwise.
 * Both forms stay indexable, and "not" means what nfdump means by it.
 *
 * Values of one field OR-ed together become one col = ANY(array) (see
 * "value lists" below), and the result must not exceed
 * nfpg.filter_max_terms (filter_limit.c): a filter's size is bounded
 * however it reaches the server.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/socket.h>

#include "access/stratnum.h"
#include "catalog/namespace.h"
#include "catalog/pg_operator_d.h"
#include "catalog/pg_type_d.h"
#include "filter_plan.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "parser/parse_func.h"
#include "parser/parse_oper.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inet.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"

typedef struct Builder
{
	NfColumns  *cols;
	Oid			nspid;			/* the extension's schema, for helpers */
} Builder;

static Expr *build(Builder *b, const NfNode *n);

/* ------------------------------------------------------------- parsing */

NfFilter *
nf_parse_or_error(text *filter)
{
	NfParseError err;
	NfFilter   *f;
	char	   *s = VARDATA_ANY(filter);
	int			len = VARSIZE_ANY_EXHDR(filter);

	f = nf_filter_parse(s, len, &err);
	if (f == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("nf_filter: %s (position %d)", err.message, err.pos),
				 internalerrposition(err.pos),
				 internalerrquery(text_to_cstring(filter))));
	return f;
}

/* ------------------------------------------------------------- columns */

NfColumns *
nf_columns_of_tupdesc(TupleDesc tupdesc, Index varno, Index levelsup)
{
	NfColumns  *cols = palloc(sizeof(NfColumns));

	cols->n = 0;
	cols->names = palloc(sizeof(char *) * (tupdesc->natts + 1));
	cols->exprs = palloc(sizeof(Expr *) * (tupdesc->natts + 1));
	for (int k = 0; k < tupdesc->natts; k++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, k);

		if (att->attisdropped)
			continue;
		cols->names[cols->n] = pstrdup(NameStr(att->attname));
		cols->exprs[cols->n] = (Expr *) makeVar(varno, att->attnum, att->atttypid,
												att->atttypmod, att->attcollation,
												levelsup);
		cols->n++;
	}
	return cols;
}

static Expr *
column(Builder *b, const char *name)
{
	for (int k = 0; k < b->cols->n; k++)
		if (strcmp(b->cols->names[k], name) == 0)
			return copyObject(b->cols->exprs[k]);
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_COLUMN),
			 errmsg("nf_filter: the row has no column \"%s\"", name),
			 errhint("nf_filter() works on rows of nfpg.flows, or of views and subqueries that keep its column names.")));
	return NULL;
}

static Expr *
typed_column(Builder *b, const char *name, Oid t1, Oid t2, Oid t3)
{
	Expr	   *e = column(b, name);
	Oid			type = exprType((Node *) e);

	if (type != t1 && type != t2 && type != t3)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("nf_filter: column \"%s\" has type %s, not the type of nfpg.flows.%s",
						name, format_type_be(type), name)));
	return e;
}

/* ------------------------------------------------------------ builders */

static Oid
cmp_operator(Oid ltype, Oid rtype, NfCmp op)
{
	static const int16 strategy[] = {
		[NFC_EQ] = BTEqualStrategyNumber, [NFC_LT] = BTLessStrategyNumber,
		[NFC_LE] = BTLessEqualStrategyNumber, [NFC_GT] = BTGreaterStrategyNumber,
		[NFC_GE] = BTGreaterEqualStrategyNumber
	};
	TypeCacheEntry *tc = lookup_type_cache(ltype, TYPECACHE_BTREE_OPFAMILY);
	Oid			opno = InvalidOid;

	if (OidIsValid(tc->btree_opf))
		opno = get_opfamily_member(tc->btree_opf, ltype, rtype, strategy[op]);
	if (!OidIsValid(opno))
		elog(ERROR, "nf_filter: no comparison operator for types %u and %u", ltype, rtype);
	return opno;
}

static Expr *
make_opexpr(Oid opno, Expr *left, Expr *right)
{
	OpExpr	   *e = (OpExpr *) make_opclause(opno, BOOLOID, false, left, right,
											 InvalidOid, InvalidOid);

	e->opfuncid = get_opcode(opno);
	return (Expr *) e;
}

/* A non-negative integer constant: int4 when it fits, else int8. */
static Const *
int_const(uint64 v)
{
	if (v <= PG_INT32_MAX)
		return makeConst(INT4OID, -1, InvalidOid, 4, Int32GetDatum((int32) v), false, true);
	return makeConst(INT8OID, -1, InvalidOid, 8, Int64GetDatum((int64) v), false, FLOAT8PASSBYVAL);
}

/* A constant of an integer column's own type (for & and arrays). */
static Datum
int_datum(Oid type, uint64 v)
{
	if (type == INT2OID)
		return Int16GetDatum((int16) v);
	if (type == INT4OID)
		return Int32GetDatum((int32) v);
	return Int64GetDatum((int64) v);
}

static uint64
int_type_max(Oid type)
{
	return type == INT2OID ? PG_INT16_MAX : type == INT4OID ? PG_INT32_MAX : PG_INT64_MAX;
}

static Expr *
bool_const(bool b)
{
	return (Expr *) makeBoolConst(b, false);
}

static Expr *
null_test(Expr *arg, NullTestType t)
{
	NullTest   *n = makeNode(NullTest);

	n->arg = arg;
	n->nulltesttype = t;
	n->argisrow = false;
	n->location = -1;
	return (Expr *) n;
}

/* Make a test on a nullable column two-valued, NULL reading as zero. */
static Expr *
guard(const NfField *f, Expr *test, Expr *col, bool zero_matches)
{
	if (!f->nullable)
		return test;
	if (zero_matches)
		return make_orclause(list_make2(test, null_test(col, IS_NULL)));
	return make_andclause(list_make2(test, null_test(col, IS_NOT_NULL)));
}

static Oid
helper(Builder *b, const char *name, int nargs, Oid *argtypes)
{
	List	   *qname = list_make2(makeString(get_namespace_name(b->nspid)),
								   makeString(pstrdup(name)));

	return LookupFuncName(qname, nargs, argtypes, false);
}

static Expr *
call(Builder *b, const char *name, Oid rettype, List *args)
{
	Oid			argtypes[3];
	int			n = 0;
	ListCell   *lc;

	foreach(lc, args)
		argtypes[n++] = exprType(lfirst(lc));
	return (Expr *) makeFuncExpr(helper(b, name, n, argtypes), rettype, args,
								 InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
}

/* The expression a derived field (or a plain integer column) reads. */
static Expr *
field_expr(Builder *b, NfFieldId field, int param)
{
	const NfField *f = &nf_fields[field];

	switch (field)
	{
		case NFF_FAMILY:
			return (Expr *) makeFuncExpr(F_FAMILY, INT4OID,
										 list_make1(typed_column(b, "src_addr", INETOID, INETOID, INETOID)),
										 InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
		case NFF_DURATION:
			return call(b, f->column, INT8OID,
						list_make2(typed_column(b, "first_seen", TIMESTAMPTZOID, TIMESTAMPTZOID, TIMESTAMPTZOID),
								   typed_column(b, "last_seen", TIMESTAMPTZOID, TIMESTAMPTZOID, TIMESTAMPTZOID)));
		case NFF_PPS:
		case NFF_BPS:
			return call(b, f->column, INT8OID,
						list_make3(typed_column(b, field == NFF_PPS ? "packets" : "bytes", INT8OID, INT8OID, INT8OID),
								   typed_column(b, "first_seen", TIMESTAMPTZOID, TIMESTAMPTZOID, TIMESTAMPTZOID),
								   typed_column(b, "last_seen", TIMESTAMPTZOID, TIMESTAMPTZOID, TIMESTAMPTZOID)));
		case NFF_BPP:
			return call(b, f->column, INT8OID,
						list_make2(typed_column(b, "bytes", INT8OID, INT8OID, INT8OID),
								   typed_column(b, "packets", INT8OID, INT8OID, INT8OID)));
		case NFF_MPLS_LABEL:
		case NFF_MPLS_EXP:
			return call(b, f->column, INT4OID,
						list_make2(typed_column(b, "mpls_labels", INT4ARRAYOID, INT4ARRAYOID, INT4ARRAYOID),
								   int_const(param)));
		case NFF_MPLS_EOS:
			return call(b, f->column, INT8OID,
						list_make1(typed_column(b, "mpls_labels", INT4ARRAYOID, INT4ARRAYOID, INT4ARRAYOID)));
		default:
			return typed_column(b, f->column, INT2OID, INT4OID, INT8OID);
	}
}

static Expr *
build_cmp(Builder *b, const NfNode *n)
{
	Expr	   *col;
	Const	   *c;

	/* no stored value exceeds int8, so such a constant decides alone */
	if (n->value > PG_INT64_MAX)
		return bool_const(n->op == NFC_LT || n->op == NFC_LE);
	col = field_expr(b, n->field, n->param);
	c = int_const(n->value);
	return guard(&nf_fields[n->field],
				 make_opexpr(cmp_operator(exprType((Node *) col), c->consttype, n->op),
						 col, (Expr *) c),
				 col, nf_cmp_holds(0, n->op, n->value));
}

/* (col & mask) = value */
static Expr *
build_bits(Builder *b, const NfNode *n)
{
	Expr	   *col = field_expr(b, n->field, 0);
	Oid			type = exprType((Node *) col);
	Oid			andop;
	Expr	   *masked;
	Const	   *value = int_const(n->value2);

	andop = LookupOperName(NULL, list_make2(makeString("pg_catalog"), makeString("&")),
						   type, type, false, -1);
	masked = make_opexpr(andop, col,
					 (Expr *) makeConst(type, -1, InvalidOid, get_typlen(type),
										int_datum(type, n->value), false, true));
	((OpExpr *) masked)->opresulttype = type;
	return guard(&nf_fields[n->field],
				 make_opexpr(cmp_operator(type, value->consttype, NFC_EQ), masked, (Expr *) value),
				 col, n->value2 == 0);
}

/* col = ANY('{...}'), values the column cannot hold left out */
static Expr *
build_numlist(Builder *b, const NfNode *n)
{
	Expr	   *col = field_expr(b, n->field, 0);
	Oid			type = exprType((Node *) col);
	Datum	   *elems = palloc(sizeof(Datum) * n->nvalues);
	int			count = 0;
	bool		zero = false;
	int16		typlen;
	bool		typbyval;
	char		typalign;
	ScalarArrayOpExpr *sa;

	for (int k = 0; k < n->nvalues; k++)
	{
		zero |= n->values[k] == 0;
		if (n->values[k] <= int_type_max(type))
			elems[count++] = int_datum(type, n->values[k]);
	}
	if (count == 0)
		return bool_const(false);
	get_typlenbyvalalign(type, &typlen, &typbyval, &typalign);
	sa = makeNode(ScalarArrayOpExpr);
	sa->opno = cmp_operator(type, type, NFC_EQ);
	sa->opfuncid = get_opcode(sa->opno);
	sa->useOr = true;
	sa->inputcollid = InvalidOid;
	sa->args = list_make2(col,
						  makeConst(get_array_type(type), -1, InvalidOid, -1,
									PointerGetDatum(construct_array(elems, count, type, typlen,
																	typbyval, typalign)),
									false, false));
	sa->location = -1;
	return guard(&nf_fields[n->field], (Expr *) sa, col, zero);
}

static Datum
inet_datum(const NfAddr *a)
{
	inet	   *res = palloc0(sizeof(inet));

	ip_family(res) = a->family == 4 ? PGSQL_AF_INET : PGSQL_AF_INET6;
	ip_bits(res) = a->bits;
	memcpy(ip_addr(res), a->addr, a->family == 4 ? 4 : 16);
	SET_INET_VARSIZE(res);
	return InetPGetDatum(res);
}

/* col = A for a host, col <<= A for a network */
static Expr *
addr_test(Expr *col, const NfAddr *a)
{
	bool		host = a->bits == (a->family == 4 ? 32 : 128);
	Const	   *c = makeConst(INETOID, -1, InvalidOid, -1, inet_datum(a), false, false);

	return make_opexpr(host ? cmp_operator(INETOID, INETOID, NFC_EQ) : OID_INET_SUBEQ_OP,
				   col, (Expr *) c);
}

static Expr *
build_addr(Builder *b, const NfNode *n)
{
	const NfField *f = &nf_fields[n->field];
	Expr	   *col = typed_column(b, f->column, INETOID, INETOID, INETOID);
	NfAddr		zero = {.family = 4, .bits = 32};

	return guard(f, addr_test(col, &n->addr), col, nf_addr_contains(&n->addr, &zero));
}

/* hosts as one col = ANY('{...}'::inet[]), each network as col <<= net */
static Expr *
build_addrlist(Builder *b, const NfNode *n)
{
	const NfField *f = &nf_fields[n->field];
	Expr	   *col = typed_column(b, f->column, INETOID, INETOID, INETOID);
	NfAddr		zero = {.family = 4, .bits = 32};
	Datum	   *hosts = palloc(sizeof(Datum) * n->naddrs);
	int			nhosts = 0;
	bool		zero_matches = false;
	List	   *tests = NIL;

	for (int k = 0; k < n->naddrs; k++)
	{
		const NfAddr *a = &n->addrs[k];

		zero_matches |= nf_addr_contains(a, &zero);
		if (a->bits == (a->family == 4 ? 32 : 128))
			hosts[nhosts++] = inet_datum(a);
		else
			tests = lappend(tests, addr_test(copyObject(col), a));
	}
	if (nhosts == 1)
		tests = lcons(make_opexpr(cmp_operator(INETOID, INETOID, NFC_EQ), copyObject(col),
							  (Expr *) makeConst(INETOID, -1, InvalidOid, -1, hosts[0], false, false)),
					  tests);
	else if (nhosts > 1)
	{
		ScalarArrayOpExpr *sa = makeNode(ScalarArrayOpExpr);

		sa->opno = cmp_operator(INETOID, INETOID, NFC_EQ);
		sa->opfuncid = get_opcode(sa->opno);
		sa->useOr = true;
		sa->args = list_make2(copyObject(col),
							  makeConst(INETARRAYOID, -1, InvalidOid, -1,
										PointerGetDatum(construct_array(hosts, nhosts, INETOID, -1, false, TYPALIGN_INT)),
										false, false));
		sa->location = -1;
		tests = lcons(sa, tests);
	}
	return guard(f, list_length(tests) == 1 ? linitial(tests) : make_orclause(tests),
				 col, zero_matches);
}

static Expr *
build_mac(Builder *b, const NfNode *n)
{
	const NfField *f = &nf_fields[n->field];
	Expr	   *col = typed_column(b, f->column, MACADDROID, MACADDROID, MACADDROID);
	macaddr    *m = palloc(sizeof(macaddr));
	static const uint8 zero[6];

	m->a = n->mac[0];
	m->b = n->mac[1];
	m->c = n->mac[2];
	m->d = n->mac[3];
	m->e = n->mac[4];
	m->f = n->mac[5];
	return guard(f, make_opexpr(cmp_operator(MACADDROID, MACADDROID, NFC_EQ), col,
							(Expr *) makeConst(MACADDROID, -1, InvalidOid, sizeof(macaddr),
											   PointerGetDatum(m), false, false)),
				 col, memcmp(n->mac, zero, 6) == 0);
}

/* ---------------------------------------------------------- value lists */

/*
 * "port 1 or port 2 or ...", "host A or host B", "dst port in [...] or dst
 * port 25": an OR of one-value tests becomes one col = ANY(array) per column
 * (hosts: col = ANY(inet[]), networks stay one <<= each) instead of a chain
 * of comparisons.  The expression then stays small however many values a
 * filter lists, so neither the planner nor JIT sees thousands of terms, the
 * executor probes a hash table (PostgreSQL hashes constant arrays of 9 or
 * more elements) and a btree index on the column still serves the test.
 * The result is the same row for row: OR is associative and commutative,
 * each leaf is two-valued (the NULL guard), and col = ANY('{a,b}') is
 * col = a OR col = b in three-valued logic too.  An AND of "not" terms is
 * merged the same way through De Morgan (not A and not B = not (A or B),
 * which also holds in three-valued logic): "not port 1 and not port 2".
 * Only an OR in which some column gets two or more such tests is
 * restructured; every other filter keeps the shape it was written in.
 */
typedef enum ListKind
{
	LK_NONE = -1,
	LK_NUM,						/* integer column = value(s) */
	LK_ADDR,					/* address column in host(s) or prefix(es) */
	LK_NUM_KINDS
} ListKind;

static ListKind
list_kind(const NfNode *n)
{
	switch (n->type)
	{
		case NFN_CMP:
			return n->op == NFC_EQ && nf_fields[n->field].kind == NFK_INT ? LK_NUM : LK_NONE;
		case NFN_NUMLIST:
			return LK_NUM;
		case NFN_ADDR:
		case NFN_ADDRLIST:
			return LK_ADDR;
		default:
			return LK_NONE;
	}
}

static int
list_size(const NfNode *n)
{
	return n->type == NFN_NUMLIST ? n->nvalues : n->type == NFN_ADDRLIST ? n->naddrs : 1;
}

/* The operands of nested n-ary nodes of one type, in order. */
static List *
flatten(const NfNode *n, NfNodeType type, List *out)
{
	check_stack_depth();
	if (n->type != type)
		return lappend(out, (void *) n);
	for (int k = 0; k < n->nchildren; k++)
		out = flatten(n->children[k], type, out);
	return out;
}

static NfNode *
synthetic(NfNodeType type, int pos, List *children)
{
	NfNode	   *n = palloc0(sizeof(NfNode));
	ListCell   *lc;

	n->type = type;
	n->pos = pos;
	n->children = palloc(sizeof(NfNode *) * Max(list_length(children), 1));
	foreach(lc, children)
		n->children[n->nchildren++] = lfirst(lc);
	return n;
}

/*
 * The operands of an OR with the one-value tests of each column merged into
 * one list node (at the place of the first), or NIL when no column has two.
 */
static List *
merge_or(const NfNode *or)
{
	List	   *leaves = flatten(or, NFN_OR, NIL);
	int			members[LK_NUM_KINDS][NFF_NUM_FIELDS] = {{0}};
	int			size[LK_NUM_KINDS][NFF_NUM_FIELDS] = {{0}};
	NfNode	   *merged[LK_NUM_KINDS][NFF_NUM_FIELDS] = {{0}};
	bool		any = false;
	List	   *out = NIL;
	ListCell   *lc;

	foreach(lc, leaves)
	{
		const NfNode *n = lfirst(lc);
		ListKind	k = list_kind(n);

		if (k == LK_NONE)
			continue;
		any |= ++members[k][n->field] > 1;
		size[k][n->field] += list_size(n);
	}
	if (!any)
		return NIL;
	foreach(lc, leaves)
	{
		const NfNode *n = lfirst(lc);
		ListKind	k = list_kind(n);
		NfNode	   *m;

		if (k == LK_NONE || members[k][n->field] < 2)
		{
			out = lappend(out, (void *) n);
			continue;
		}
		m = merged[k][n->field];
		if (m == NULL)
		{
			m = synthetic(k == LK_NUM ? NFN_NUMLIST : NFN_ADDRLIST, n->pos, NIL);
			m->field = n->field;
			if (k == LK_NUM)
				m->values = palloc(sizeof(uint64) * size[k][n->field]);
			else
				m->addrs = palloc(sizeof(NfAddr) * size[k][n->field]);
			merged[k][n->field] = m;
			out = lappend(out, m);
		}
		switch (n->type)
		{
			case NFN_CMP:
				m->values[m->nvalues++] = n->value;
				break;
			case NFN_NUMLIST:
				memcpy(m->values + m->nvalues, n->values, sizeof(uint64) * n->nvalues);
				m->nvalues += n->nvalues;
				break;
			case NFN_ADDR:
				m->addrs[m->naddrs++] = n->addr;
				break;
			default:
				memcpy(m->addrs + m->naddrs, n->addrs, sizeof(NfAddr) * n->naddrs);
				m->naddrs += n->naddrs;
				break;
		}
	}
	return out;
}

/*
 * The operands of an AND with its "not" terms merged into one not (A or B
 * ...) when that OR merges lists, or NIL.
 */
static List *
merge_and(const NfNode *and)
{
	List	   *leaves = flatten(and, NFN_AND, NIL);
	List	   *negated = NIL;
	List	   *merged;
	List	   *out = NIL;
	int			first = -1;
	ListCell   *lc;

	foreach(lc, leaves)
	{
		const NfNode *n = lfirst(lc);

		if (n->type != NFN_NOT)
			continue;
		if (first < 0)
			first = foreach_current_index(lc);
		negated = lappend(negated, n->children[0]);
	}
	if (list_length(negated) < 2)
		return NIL;
	merged = merge_or(synthetic(NFN_OR, and->pos, negated));
	if (merged == NIL)
		return NIL;
	foreach(lc, leaves)
	{
		const NfNode *n = lfirst(lc);

		if (foreach_current_index(lc) == first)
			out = lappend(out, synthetic(NFN_NOT, n->pos,
										 list_make1(synthetic(NFN_OR, n->pos, merged))));
		else if (n->type != NFN_NOT)
			out = lappend(out, (void *) n);
	}
	return out;
}

/* AND / OR with lists merged and constant children folded away */
static Expr *
build_bool(Builder *b, const NfNode *n)
{
	bool		is_and = n->type == NFN_AND;
	List	   *children = is_and ? merge_and(n) : merge_or(n);
	List	   *args = NIL;
	ListCell   *lc;

	if (children == NIL)
		for (int k = 0; k < n->nchildren; k++)
			children = lappend(children, n->children[k]);
	foreach(lc, children)
	{
		Expr	   *e = build(b, lfirst(lc));

		if (IsA(e, Const))
		{
			if (DatumGetBool(((Const *) e)->constvalue) != is_and)
				return e;		/* false in AND, true in OR decides */
			continue;			/* true in AND, false in OR is neutral */
		}
		args = lappend(args, e);
	}
	if (args == NIL)
		return bool_const(is_and);
	if (list_length(args) == 1)
		return linitial(args);
	return is_and ? make_andclause(args) : make_orclause(args);
}

static Expr *
build(Builder *b, const NfNode *n)
{
	Expr	   *e;

	check_stack_depth();
	CHECK_FOR_INTERRUPTS();
	switch (n->type)
	{
		case NFN_AND:
		case NFN_OR:
			return build_bool(b, n);
		case NFN_NOT:
			e = build(b, n->children[0]);
			if (IsA(e, Const))
				return bool_const(!DatumGetBool(((Const *) e)->constvalue));
			return make_notclause(e);
		case NFN_CONST:
			return bool_const(n->bval);
		case NFN_CMP:
			return build_cmp(b, n);
		case NFN_BITS:
			return build_bits(b, n);
		case NFN_NUMLIST:
			return build_numlist(b, n);
		case NFN_ADDR:
			return build_addr(b, n);
		case NFN_ADDRLIST:
			return build_addrlist(b, n);
		case NFN_MAC:
			return build_mac(b, n);
		case NFN_MPLS_ANY:
			return call(b, "mpls_has_label", BOOLOID,
						list_make2(typed_column(b, "mpls_labels", INT4ARRAYOID, INT4ARRAYOID, INT4ARRAYOID),
								   int_const(n->value)));
	}
	elog(ERROR, "nf_filter: unknown node type %d", (int) n->type);
	return NULL;
}

/*
 * Parse a filter and compile it for the given row columns; nspid is the
 * schema of the extension (helper functions are looked up there, never
 * through search_path).  Raises an error for a bad filter, and for one that
 * compiles to more terms than nfpg.filter_max_terms (filter_limit.c).
 */
Expr *
nf_filter_expr(text *filter, NfColumns *cols, Oid nspid)
{
	NfFilter   *f = nf_parse_or_error(filter);
	Builder		b = {cols, nspid};
	Expr	   *volatile e = NULL;

	PG_TRY();
	{
		e = build(&b, nf_filter_root(f));
	}
	PG_FINALLY();
	{
		nf_filter_free(f);
	}
	PG_END_TRY();
	nf_filter_check_terms((Node *) e);
	return e;
}
