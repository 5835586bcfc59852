/*-------------------------------------------------------------------------
 *
 * pack_skip.c
 *		Which blocks of a packed partition a query's conditions can skip.
 *
 * nf_filter() is rewritten by the planner into plain conditions on columns
 * (20_filter.sql), so a scan of a packed partition sees quals such as
 *	 (src_addr = '10.1.2.3'::inet OR dst_addr = '10.1.2.3'::inet)
 *	 proto = 6 AND dst_port = 587
 *	 first_seen >= '...' AND first_seen < '...'
 *	 dst_port = ANY ('{25,587}')
 * This file turns the quals into a small tree that answers, from a block's
 * summary alone (pack_summary.c), "can a row of this block match?".  A
 * comparison of an integer column with a constant that the summaries do not
 * cover (bytes < 100, src_as = 3356, proto <> 1, port ranges: nf_filter()
 * writes those too) is in the tree as well: it answers "maybe" for a block,
 * and the row pre-filter (pack_rowfilter.c) tests it; so is nf_filter's
 * "bpp" (nfpg.flow_bpp(bytes, packets) <op> N).  NOT arrives pushed into
 * the comparisons by the planner (not proto icmp and not port 53: proto <> 1
 * AND src_port <> ALL ('{53}') AND ...).  It is conservative: anything it
 * does not understand (other columns, expressions, cross-type comparisons it
 * has no use for) answers "maybe", AND needs every child to say maybe, OR
 * any child.  A "no" is only given
 * when it is certain: an exact protocol set, a Bloom filter (no false
 * negatives), a first_seen range.  The executor still evaluates every qual
 * on the rows of the blocks that are read, so skipping changes the work,
 * never the answer.  In a block that is read, pack_rowfilter.c evaluates the
 * same tree row by row.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/nbtree.h"
#include "access/stratnum.h"
#include "catalog/namespace.h"
#include "catalog/pg_opfamily_d.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "utils/array.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"

#include "pack.h"

static PackSkip *
skip_node(PackSkipKind kind)
{
	PackSkip   *s = palloc0(sizeof(PackSkip));

	s->kind = kind;
	return s;
}

/* The attribute number of a plain column reference, or 0. */
static int
var_attno(Node *n)
{
	while (n && IsA(n, RelabelType))
		n = (Node *) ((RelabelType *) n)->arg;
	if (n && IsA(n, Var) && ((Var *) n)->varlevelsup == 0 && ((Var *) n)->varattno > 0)
		return ((Var *) n)->varattno;
	return 0;
}

static bool
int_const(Oid type, Datum d, int64 *v)
{
	switch (type)
	{
		case INT2OID:
			*v = DatumGetInt16(d);
			return true;
		case INT4OID:
			*v = DatumGetInt32(d);
			return true;
		case INT8OID:
			*v = DatumGetInt64(d);
			return true;
	}
	return false;
}

/*
 * The strategy of an integer comparison operator: 1-5 for the btree ones,
 * PACK_NE_STRATEGY for the negator of an equality, or 0.
 */
static int
int_strategy(Oid opno)
{
	int			strategy = get_op_opfamily_strategy(opno, INTEGER_BTREE_FAM_OID);
	Oid			neg;

	if (strategy != 0)
		return strategy;
	neg = get_negator(opno);
	if (OidIsValid(neg) && get_op_opfamily_strategy(neg, INTEGER_BTREE_FAM_OID) == BTEqualStrategyNumber)
		return PACK_NE_STRATEGY;
	return 0;
}

/* One "column op constant" condition, or NULL (maybe). */
static PackSkip *
leaf(const PackLayout *layout, int attno, Oid opno, bool commuted, Const *c, Datum value)
{
	Oid			fn = get_opcode(opno);
	PackSkip   *s;
	int64		v;
	int			strategy;

	if (attno == layout->first_seen && c->consttype == TIMESTAMPTZOID)
	{
		switch (fn)
		{
			case F_TIMESTAMPTZ_LT:
				strategy = BTLessStrategyNumber;
				break;
			case F_TIMESTAMPTZ_LE:
				strategy = BTLessEqualStrategyNumber;
				break;
			case F_TIMESTAMPTZ_EQ:
				strategy = BTEqualStrategyNumber;
				break;
			case F_TIMESTAMPTZ_GE:
				strategy = BTGreaterEqualStrategyNumber;
				break;
			case F_TIMESTAMPTZ_GT:
				strategy = BTGreaterStrategyNumber;
				break;
			case F_TIMESTAMPTZ_NE:
				strategy = PACK_NE_STRATEGY;	/* rows only: no block is skipped */
				break;
			default:
				return NULL;
		}
		if (commuted)
			strategy = BTCommuteStrategyNumber(strategy);
		s = skip_node(SK_TIME);
		s->attno = attno;
		s->strategy = strategy;
		s->t = DatumGetInt64(value);
		return s;
	}
	if ((attno == layout->src_addr || attno == layout->dst_addr) &&
		c->consttype == INETOID && fn == F_NETWORK_EQ)
	{
		uint8		rec[PACK_INET_WIDTH];

		pack_inet_record(value, rec);
		s = skip_node(SK_KEY);
		s->hash = cc_hash(attno == layout->dst_addr ? 'd' : 's', rec, PACK_INET_WIDTH);
		s->attno = attno;
		s->is_addr = true;
		memcpy(s->rec, rec, PACK_INET_WIDTH);
		return s;
	}
	if ((attno == layout->src_port || attno == layout->dst_port || attno == layout->proto) &&
		get_op_opfamily_strategy(opno, INTEGER_BTREE_FAM_OID) == BTEqualStrategyNumber &&
		int_const(c->consttype, value, &v))
	{
		if (attno == layout->proto)
		{
			s = skip_node(SK_PROTO);
			s->attno = attno;
			if (v >= 0 && v <= 255)
				s->protos[v / 8] |= (uint8) (1 << (v % 8));
			return s;			/* an impossible protocol matches no block */
		}
		if (v < 0 || v > 65535)
			return skip_node(SK_OR);	/* an empty OR: never */
		{
			uint8		port[4];

			cc_put32(port, (uint32) v);
			s = skip_node(SK_KEY);
			s->hash = cc_hash(attno == layout->dst_port ? 'D' : 'S', port, 4);
			s->attno = attno;
			s->t = v;
		}
		return s;
	}
	if (attno <= layout->ncols && (layout->cols[attno - 1].typid == INT2OID ||
								   layout->cols[attno - 1].typid == INT4OID ||
								   layout->cols[attno - 1].typid == INT8OID) &&
		int_const(c->consttype, value, &v) && (strategy = int_strategy(opno)) != 0)
	{
		if (commuted && strategy != PACK_NE_STRATEGY)
			strategy = BTCommuteStrategyNumber(strategy);
		s = skip_node(SK_INT);
		s->attno = attno;
		s->strategy = strategy;
		s->t = v;
		return s;
	}
	return NULL;
}

/* flow_bpp(bytes, packets) op constant, or NULL. */
static PackSkip *
bpp_leaf(int bytes, int packets, Oid opno, bool commuted, Const *c)
{
	PackSkip   *s;
	int64		v;
	int			strategy;

	if (!int_const(c->consttype, c->constvalue, &v) || (strategy = int_strategy(opno)) == 0)
		return NULL;
	if (commuted && strategy != PACK_NE_STRATEGY)
		strategy = BTCommuteStrategyNumber(strategy);
	s = skip_node(SK_BPP);
	s->attno = bytes;
	s->attno2 = packets;
	s->strategy = strategy;
	s->t = v;
	return s;
}

/*
 * A constant, or the value of an external parameter: a prepared statement's
 * generic plan has $1 where a custom plan has the value, and the value is
 * fixed for the execution, so the scan may use it as a constant (and does
 * it again for the next execution).  NULL when neither or NULL.
 */
static Const *
constant(Node *n, ParamListInfo params)
{
	Param	   *p;
	ParamExternData *prm,
				data;
	int16		typlen;
	bool		typbyval;

	if (IsA(n, Const))
		return ((Const *) n)->constisnull ? NULL : (Const *) n;
	if (!IsA(n, Param) || params == NULL)
		return NULL;
	p = (Param *) n;
	if (p->paramkind != PARAM_EXTERN || p->paramid <= 0 || p->paramid > params->numParams)
		return NULL;
	prm = params->paramFetch ? params->paramFetch(params, p->paramid, false, &data) :
		&params->params[p->paramid - 1];
	if (prm == NULL || prm->isnull || prm->ptype != p->paramtype)
		return NULL;
	get_typlenbyval(p->paramtype, &typlen, &typbyval);
	return makeConst(p->paramtype, p->paramtypmod, p->paramcollid, typlen, prm->value, false, typbyval);
}

/*
 * nfpg.flow_bpp(a, b) of two plain columns (nf_filter's "bpp"): their
 * attribute numbers, or false.
 */
static bool
bpp_call(Node *n, int *bytes, int *packets)
{
	FuncExpr   *f;
	char	   *name;

	if (n == NULL || !IsA(n, FuncExpr))
		return false;
	f = (FuncExpr *) n;
	if (list_length(f->args) != 2 || !(*bytes = var_attno(linitial(f->args))) ||
		!(*packets = var_attno(lsecond(f->args))))
		return false;
	name = get_func_name(f->funcid);
	return name && strcmp(name, "flow_bpp") == 0 &&
		get_func_namespace(f->funcid) == get_namespace_oid("nfpg", true);
}

/*
 * The tree of n, or NULL when n is not understood.  *exact is cleared when
 * the tree accepts more rows than n does (a conjunct left out).
 */
static PackSkip *
compile(Node *n, const PackLayout *layout, ParamListInfo params, bool *exact)
{
	if (n == NULL)
		return NULL;
	if (IsA(n, BoolExpr))
	{
		BoolExpr   *b = (BoolExpr *) n;
		PackSkip   *s;
		ListCell   *lc;

		if (b->boolop == NOT_EXPR)
			return NULL;		/* what the planner could not push NOT into */
		s = skip_node(b->boolop == AND_EXPR ? SK_AND : SK_OR);
		foreach(lc, b->args)
		{
			PackSkip   *c = compile(lfirst(lc), layout, params, exact);

			if (c == NULL)
			{
				if (s->kind == SK_OR)
					return NULL;	/* one unknown branch: the OR may match */
				*exact = false;
				continue;		/* an unknown conjunct restricts nothing */
			}
			s->children = lappend(s->children, c);
		}
		if (s->kind == SK_AND && s->children == NIL)
			return NULL;
		return s;
	}
	if (IsA(n, OpExpr) && list_length(((OpExpr *) n)->args) == 2)
	{
		OpExpr	   *op = (OpExpr *) n;
		Node	   *l = linitial(op->args),
				   *r = lsecond(op->args);
		int			attno,
					packets;
		Const	   *c;

		if ((attno = var_attno(l)) && (c = constant(r, params)))
			return leaf(layout, attno, op->opno, false, c, c->constvalue);
		if ((attno = var_attno(r)) && (c = constant(l, params)))
			return leaf(layout, attno, op->opno, true, c, c->constvalue);
		if (bpp_call(l, &attno, &packets) && (c = constant(r, params)))
			return bpp_leaf(attno, packets, op->opno, false, c);
		if (bpp_call(r, &attno, &packets) && (c = constant(l, params)))
			return bpp_leaf(attno, packets, op->opno, true, c);
		return NULL;
	}
	if (IsA(n, ScalarArrayOpExpr))
	{
		ScalarArrayOpExpr *sa = (ScalarArrayOpExpr *) n;
		Node	   *l = linitial(sa->args),
				   *r = lsecond(sa->args);
		int			attno = var_attno(l);
		ArrayType  *arr;
		Datum	   *elems;
		bool	   *enulls;
		int			nelems;
		int16		typlen;
		bool		typbyval;
		char		typalign;
		PackSkip   *s;
		Const		elem;
		Const	   *array = constant(r, params);

		if (!attno || array == NULL)
			return NULL;
		arr = DatumGetArrayTypeP(array->constvalue);
		get_typlenbyvalalign(ARR_ELEMTYPE(arr), &typlen, &typbyval, &typalign);
		deconstruct_array(arr, ARR_ELEMTYPE(arr), typlen, typbyval, typalign, &elems, &enulls, &nelems);
		/* col = ANY: an OR of the elements; col <> ALL (a negated ANY): an AND */
		s = skip_node(sa->useOr ? SK_OR : SK_AND);
		memset(&elem, 0, sizeof(elem));
		elem.consttype = ARR_ELEMTYPE(arr);
		for (int i = 0; i < nelems; i++)
		{
			PackSkip   *c;

			if (enulls[i])
			{
				if (sa->useOr)
					continue;	/* col = NULL is never true */
				return skip_node(SK_OR);	/* col <> NULL neither: ALL never is */
			}
			c = leaf(layout, attno, sa->opno, false, &elem, elems[i]);
			if (c == NULL)
				return NULL;
			s->children = lappend(s->children, c);
		}
		if (s->kind == SK_AND && s->children == NIL)
			return NULL;		/* <> ALL ('{}') is true: restricts nothing */
		return s;
	}
	return NULL;
}

/*
 * The tree of a scan's quals (implicitly AND-ed), or NULL.  *exact (when
 * given) says whether every qual is in it whole, so that the rows
 * pack_rowfilter() keeps are exactly the rows the quals accept: a leaf
 * compares what the qual compares, and a NULL fails both.
 */
PackSkip *
pack_skip_compile(List *quals, const PackLayout *layout, ParamListInfo params, bool *exact)
{
	PackSkip   *s = skip_node(SK_AND);
	ListCell   *lc;
	bool		all = true;

	foreach(lc, quals)
	{
		PackSkip   *c = compile(lfirst(lc), layout, params, &all);

		if (c)
			s->children = lappend(s->children, c);
		else
			all = false;
	}
	if (exact)
		*exact = all && s->children;
	return s->children ? s : NULL;
}

int
pack_skip_conditions(const PackSkip *skip)
{
	return skip ? list_length(skip->children) : 0;
}

static void
collect_hashes(const PackSkip *s, List **out)
{
	ListCell   *lc;

	if (s->kind == SK_KEY)
		*out = lappend(*out, (void *) &s->hash);
	foreach(lc, s->children)
		collect_hashes(lfirst(lc), out);
}

/*
 * The Bloom hashes of the tree's address and port leaves, which the scan
 * reads the parts of the block summaries for (pack_summary_read).
 */
int
pack_skip_hashes(const PackSkip *skip, uint64 **hashes)
{
	List	   *l = NIL;
	ListCell   *lc;
	int			n = 0;

	if (skip)
		collect_hashes(skip, &l);
	*hashes = palloc(sizeof(uint64) * Max(list_length(l), 1));
	foreach(lc, l)
		(*hashes)[n++] = *(const uint64 *) lfirst(lc);
	list_free(l);
	return n;
}

bool
pack_skip_maybe(const PackSkip *s, const PackBlockInfo *b)
{
	ListCell   *lc;

	if (s == NULL)
		return true;
	switch (s->kind)
	{
		case SK_MAYBE:
			return true;
		case SK_AND:
			foreach(lc, s->children)
				if (!pack_skip_maybe(lfirst(lc), b))
					return false;
			return true;
		case SK_OR:
			foreach(lc, s->children)
				if (pack_skip_maybe(lfirst(lc), b))
					return true;
			return false;
		case SK_TIME:
			if (b->rows == 0)
				return false;
			switch (s->strategy)
			{
				case BTLessStrategyNumber:
					return b->first_min < s->t;
				case BTLessEqualStrategyNumber:
					return b->first_min <= s->t;
				case BTEqualStrategyNumber:
					return b->first_min <= s->t && s->t <= b->first_max;
				case BTGreaterEqualStrategyNumber:
					return b->first_max >= s->t;
				case BTGreaterStrategyNumber:
					return b->first_max > s->t;
			}
			return true;
		case SK_PROTO:
			if (b->protos == NULL)
				return true;
			for (int i = 0; i < 32; i++)
				if (s->protos[i] & b->protos[i])
					return true;
			return false;
		case SK_KEY:
			{
				const uint8 *part = b->parts ? b->parts[cc_bloom_part(s->hash, b->log2parts)] : NULL;

				if (part == NULL)
					return true;
				return cc_bloom_maybe(part + b->bloom_off, b->bloom_bits, b->probes, s->hash);
			}
		case SK_INT:
		case SK_BPP:
			return true;		/* no summary of the column */
	}
	return true;
}

/*
 * What block summaries can decide of a condition, for the planner's estimate
 * of the blocks a scan reads (pack_plan.c): only first_seen ranges
 * (PACK_DECIDE_TIME), only ports (PACK_DECIDE_PORTS, which rows are packed
 * in runs of), every leaf summarised (PACK_DECIDE_BLOCK), or some leaf
 * known only per row (PACK_DECIDE_ROWS).
 */
PackDecide
pack_skip_decides(const PackSkip *s)
{
	PackDecide	d = PACK_DECIDE_TIME;
	ListCell   *lc;

	if (s == NULL)
		return PACK_DECIDE_ROWS;
	switch (s->kind)
	{
		case SK_TIME:
			return PACK_DECIDE_TIME;
		case SK_KEY:
			return s->is_addr ? PACK_DECIDE_BLOCK : PACK_DECIDE_PORTS;
		case SK_PROTO:
			return PACK_DECIDE_BLOCK;
		case SK_MAYBE:
		case SK_INT:
		case SK_BPP:
			return PACK_DECIDE_ROWS;
		case SK_AND:
		case SK_OR:
			if (s->children == NIL)
				return PACK_DECIDE_BLOCK;	/* an empty OR: no block */
			foreach(lc, s->children)
				d = Max(d, pack_skip_decides(lfirst(lc)));
			return d;
	}
	return PACK_DECIDE_ROWS;
}

/* Mark the columns the conditions read (attnum - 1). */
void
pack_skip_columns(const PackSkip *s, bool *cols)
{
	ListCell   *lc;

	if (s == NULL)
		return;
	if (s->attno > 0)
		cols[s->attno - 1] = true;
	if (s->attno2 > 0)
		cols[s->attno2 - 1] = true;
	foreach(lc, s->children)
		pack_skip_columns(lfirst(lc), cols);
}
