/*-------------------------------------------------------------------------
 *
 * stat_final.c
 *		Final functions of the statistics aggregates: the ranked groups as
 *		an array of nfpg.stat_row (nf_topn: nfdump -s tables; with the
 *		totals, nf_topn_summary) or of nfpg.flows rows (nf_topn_records:
 *		-a, -A, -b, -B, -s record).
 *
 * Aggregated records follow nfdump (reference 4.1): counters are summed,
 * first/last widened, the flow count summed; with -a and -b the TCP flags
 * are ORed and the ToS is that of the earliest record; with -A every field
 * that is not part of the key is zero (NULL for addresses and optional
 * fields, which nf_format prints as zero).
 *
 *-------------------------------------------------------------------------
 */
#include "stat.h"

#include <sys/socket.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/inet.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

PG_FUNCTION_INFO_V1(nf_topn_final);
PG_FUNCTION_INFO_V1(nf_topn_summary_final);
PG_FUNCTION_INFO_V1(nf_topn_records_final);

/* Columns of nfpg.stat_row, in order. */
enum
{
	SR_VALUE, SR_PROTO, SR_FIRST, SR_LAST, SR_DURATION, SR_FLOWS, SR_FLOWS_PCT,
	SR_PACKETS, SR_PACKETS_PCT, SR_BYTES, SR_BYTES_PCT, SR_PPS, SR_BPS, SR_BPP,
	SR_NATTS
};

/* Columns of nfpg.stat_summary, in order. */
enum
{
	SS_ROWS, SS_PASSED, SS_FLOWS, SS_BYTES, SS_PACKETS, SS_FIRST, SS_LAST, SS_NATTS
};

/* The element type of the final function's array result and its tupdesc. */
static TupleDesc
result_rowtype(FunctionCallInfo fcinfo, Oid *elemtype)
{
	Oid			rettype = get_fn_expr_rettype(fcinfo->flinfo);

	*elemtype = OidIsValid(rettype) ? get_element_type(rettype) : InvalidOid;
	if (!OidIsValid(*elemtype))
		elog(ERROR, "nf_topn: cannot determine the result type");
	return lookup_rowtype_tupdesc_copy(*elemtype, -1);
}

static Datum
make_array(Datum *elems, int n, Oid elemtype)
{
	int16		typlen;
	bool		typbyval;
	char		typalign;

	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	return PointerGetDatum(construct_array(elems, n, elemtype, typlen, typbyval, typalign));
}

static double
percent(int64 part, int64 total)
{
	return total ? 100.0 * part / total : 0;
}

/* The -s value: the first key, other keys but proto appended after a blank. */
static text *
render_value(const StatState *st, const StatEntry *e, int *proto_key)
{
	StringInfoData buf;

	initStringInfo(&buf);
	*proto_key = -1;
	for (int i = 0; i < st->spec.nkeys; i++)
	{
		const StatKeyDef *def = &st->spec.keys[i];

		if (strcmp(def->name, "proto") == 0)
		{
			*proto_key = i;
			if (i > 0)
				continue;
		}
		if (buf.len)
			appendStringInfoChar(&buf, ' ');
		appendStringInfoString(&buf, stat_render_key(def, STAT_KEY(st, e) + def->offset));
	}
	return cstring_to_text_with_len(buf.data, buf.len);
}

static HeapTuple
stat_row(const StatState *st, const StatEntry *e, TupleDesc desc)
{
	Datum		v[SR_NATTS];
	bool		nulls[SR_NATTS] = {0};
	int64		pkts,
				bytes,
				pps,
				bps,
				bpp;
	int			proto_key;
	Interval   *dur = palloc0(sizeof(Interval));

	stat_rates(st, e, &pkts, &bytes, &pps, &bps, &bpp);
	v[SR_VALUE] = PointerGetDatum(render_value(st, e, &proto_key));
	if (proto_key >= 0)
	{
		int64		p;

		memcpy(&p, STAT_KEY(st, e) + st->spec.keys[proto_key].offset, 8);
		v[SR_PROTO] = Int16GetDatum((int16) p);
	}
	else
		nulls[SR_PROTO] = true;
	v[SR_FIRST] = TimestampTzGetDatum(e->first);
	v[SR_LAST] = TimestampTzGetDatum(e->last);
	dur->time = e->last - e->first;
	v[SR_DURATION] = IntervalPGetDatum(dur);
	v[SR_FLOWS] = Int64GetDatum(e->flows);
	v[SR_FLOWS_PCT] = Float8GetDatum(percent(e->flows, st->t_flows));
	v[SR_PACKETS] = Int64GetDatum(pkts);
	v[SR_PACKETS_PCT] = Float8GetDatum(percent(pkts, st->t_pkts));
	v[SR_BYTES] = Int64GetDatum(bytes);
	v[SR_BYTES_PCT] = Float8GetDatum(percent(bytes, st->t_bytes));
	v[SR_PPS] = Int64GetDatum(pps);
	v[SR_BPS] = Int64GetDatum(bps);
	v[SR_BPP] = Int64GetDatum(bpp);
	return heap_form_tuple(desc, v, nulls);
}

/* The top groups of st (NULL: none) as an array of elemtype, nfpg.stat_row. */
static Datum
stat_rows(StatState *st, Oid elemtype)
{
	TupleDesc	desc = lookup_rowtype_tupdesc_copy(elemtype, -1);
	uint32	   *ranks;
	uint64		n = 0;
	Datum	   *elems;

	if (desc->natts != SR_NATTS)
		elog(ERROR, "nf_topn: result type must be nfpg.stat_row");
	if (st == NULL)
		return make_array(NULL, 0, elemtype);
	if (st->spec.order >= ORD_TSTART && st->spec.mode <= STAT_TWO)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("nf_topn: tstart, tend and duration are not valid orders for statistics")));
	ranks = stat_rank(st, &n);
	elems = palloc_extended(Max(n, 1) * sizeof(Datum), MCXT_ALLOC_HUGE);
	for (uint64 i = 0; i < n; i++)
		elems[i] = HeapTupleGetDatum(stat_row(st, stat_group(st, ranks[i]), desc));
	return make_array(elems, n, elemtype);
}

Datum
nf_topn_final(PG_FUNCTION_ARGS)
{
	StatState  *st = PG_ARGISNULL(0) ? NULL : (StatState *) PG_GETARG_POINTER(0);
	Oid			rettype = get_fn_expr_rettype(fcinfo->flinfo);
	Oid			elemtype = OidIsValid(rettype) ? get_element_type(rettype) : InvalidOid;

	if (!OidIsValid(elemtype))
		elog(ERROR, "nf_topn: cannot determine the result type");
	PG_RETURN_DATUM(stat_rows(st, elemtype));
}

/*
 * nf_topn_summary's final function: the top groups and the totals of every
 * flow added (nfdump's Summary line of what passed the filter), in the
 * nfpg.stat_summary row (rows, passed, flows, bytes, packets, first_seen,
 * last_seen).  nfdump() computes both in one aggregate, which a scan can
 * compute itself (heap_agg.c, pack_agg.c), where separate sums would read
 * every row through the executor.
 */
Datum
nf_topn_summary_final(PG_FUNCTION_ARGS)
{
	StatState  *st = PG_ARGISNULL(0) ? NULL : (StatState *) PG_GETARG_POINTER(0);
	TupleDesc	out;
	Datum		v[SS_NATTS];
	bool		nulls[SS_NATTS] = {0};
	Oid			elemtype;
	bool		none = st == NULL || st->t_records == 0;

	if (get_call_result_type(fcinfo, NULL, &out) != TYPEFUNC_COMPOSITE || out->natts != SS_NATTS ||
		!OidIsValid(elemtype = get_element_type(TupleDescAttr(out, SS_ROWS)->atttypid)))
		elog(ERROR, "nf_topn_summary: result type must be nfpg.stat_summary");
	v[SS_ROWS] = stat_rows(st, elemtype);
	v[SS_PASSED] = Int64GetDatum(none ? 0 : st->t_records);
	v[SS_FLOWS] = Int64GetDatum(none ? 0 : st->t_flows);
	v[SS_BYTES] = Int64GetDatum(none ? 0 : st->t_bytes);
	v[SS_PACKETS] = Int64GetDatum(none ? 0 : st->t_pkts);
	v[SS_FIRST] = TimestampTzGetDatum(none ? 0 : st->t_first);
	v[SS_LAST] = TimestampTzGetDatum(none ? 0 : st->t_last);
	/* as sum(), min() and max() over no flow */
	for (int i = SS_FLOWS; i < SS_NATTS; i++)
		nulls[i] = none;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(out), v, nulls)));
}

/* Attribute number (0-based) of a column of the result row type. */
static int
column_of(TupleDesc desc, const char *name)
{
	for (int i = 0; i < desc->natts; i++)
		if (strcmp(NameStr(TupleDescAttr(desc, i)->attname), name) == 0)
			return i;
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_COLUMN),
			 errmsg("nf_topn_records: the result row has no column \"%s\"", name)));
	return -1;
}

/* Store v (decoded with the key's type) into column col, converting ints. */
static void
put_column(TupleDesc desc, Datum *v, bool *nulls, int col, const StatKeyDef *def,
		   const char *slot)
{
	Oid			coltype = TupleDescAttr(desc, col)->atttypid;
	Datum		d = stat_decode_key(def, slot);

	nulls[col] = false;
	if (coltype != def->type &&
		(def->type == INT2OID || def->type == INT4OID || def->type == INT8OID))
	{
		int64		x;

		memcpy(&x, slot, 8);
		d = coltype == INT2OID ? Int16GetDatum((int16) x) :
			coltype == INT4OID ? Int32GetDatum((int32) x) : Int64GetDatum(x);
	}
	v[col] = d;
}

/* Set a NOT NULL-ish column to zero of its type (nfdump zeroes non-keys). */
static void
zero_column(TupleDesc desc, Datum *v, bool *nulls, int col)
{
	switch (TupleDescAttr(desc, col)->atttypid)
	{
		case INT2OID:
			v[col] = Int16GetDatum(0);
			break;
		case INT4OID:
			v[col] = Int32GetDatum(0);
			break;
		case INT8OID:
			v[col] = Int64GetDatum(0);
			break;
		default:
			return;
	}
	nulls[col] = false;
}

/*
 * -A: addresses that are not part of the key print as zero of the record's
 * family, which nfdump takes from its first record: here the family of an
 * address key, else IPv6 for ICMPv6, else IPv4.
 */
static void
zero_addresses(const StatState *st, const StatEntry *e, TupleDesc desc, Datum *v, bool *nulls)
{
	int			family = PGSQL_AF_INET;
	int			cols[2] = {column_of(desc, "src_addr"), column_of(desc, "dst_addr")};

	for (int i = st->spec.nkeys - 1; i >= 0; i--)
	{
		const StatKeyDef *def = &st->spec.keys[i];
		const char *slot = STAT_KEY(st, e) + def->offset;
		int64		proto;

		if (def->type == INETOID || def->type == CIDROID)
			family = (unsigned char) slot[0];
		else if (strcmp(def->name, "proto") == 0 && family == PGSQL_AF_INET)
		{
			memcpy(&proto, slot, 8);
			if (proto == 58)
				family = PGSQL_AF_INET6;
		}
	}
	for (int i = 0; i < 2; i++)
	{
		inet	   *ip;

		if (!nulls[cols[i]])
			continue;
		ip = palloc0(sizeof(inet));
		ip_family(ip) = family;
		ip_bits(ip) = family == PGSQL_AF_INET ? 32 : 128;
		SET_INET_VARSIZE(ip);
		v[cols[i]] = InetPGetDatum(ip);
		nulls[cols[i]] = false;
	}
}

static HeapTuple
record_row(const StatState *st, const StatEntry *e, TupleDesc desc, Datum *v, bool *nulls)
{
	static const char *const zeroed[] = {"proto", "src_port", "dst_port", "tcp_flags",
	"src_tos", "source_id"};
	StatEntry	o;
	bool		rev = stat_output_reversed(st, e);
	bool		keep_first = st->spec.mode != STAT_AGG_CUSTOM;

	stat_oriented(st, e, &o);
	for (int i = 0; i < desc->natts; i++)
		nulls[i] = true;
	for (int i = 0; i < (int) lengthof(zeroed); i++)
		zero_column(desc, v, nulls, column_of(desc, zeroed[i]));
	for (int i = 0; i < st->spec.nkeys; i++)
	{
		int			src = i;

		/* -b/-B print the bucket turned round: swap addresses and ports */
		if (rev && i < 4)
			src = i ^ 1;
		put_column(desc, v, nulls, column_of(desc, st->spec.keys[i].name),
				   &st->spec.keys[src], STAT_KEY(st, e) + st->spec.keys[src].offset);
	}
#define SET(name, datum) \
	do { int c_ = column_of(desc, name); v[c_] = (datum); nulls[c_] = false; } while (0)
	SET("first_seen", TimestampTzGetDatum(o.first));
	SET("last_seen", TimestampTzGetDatum(o.last));
	SET("packets", Int64GetDatum(o.pkts));
	SET("bytes", Int64GetDatum(o.bytes));
	SET("out_packets", Int64GetDatum(o.opkts));
	SET("out_bytes", Int64GetDatum(o.obytes));
	SET("flows", Int32GetDatum((int32) Min(o.flows, PG_INT32_MAX)));
	if (keep_first)
	{
		SET("tcp_flags", Int16GetDatum(o.fwd_flags));
		SET("src_tos", Int16GetDatum(o.tos));
	}
#undef SET
	if (!keep_first)
		zero_addresses(st, e, desc, v, nulls);
	return heap_form_tuple(desc, v, nulls);
}

Datum
nf_topn_records_final(PG_FUNCTION_ARGS)
{
	StatState  *st = PG_ARGISNULL(0) ? NULL : (StatState *) PG_GETARG_POINTER(0);
	Oid			elemtype;
	TupleDesc	desc = result_rowtype(fcinfo, &elemtype);
	uint32	   *ranks;
	uint64		n = 0;
	Datum	   *elems;
	Datum	   *v = palloc(desc->natts * sizeof(Datum));
	bool	   *nulls = palloc(desc->natts * sizeof(bool));

	if (st == NULL)
		PG_RETURN_DATUM(make_array(NULL, 0, elemtype));
	if (st->spec.mode <= STAT_TWO)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("nf_topn_records: mode must be a, A, b or B")));
	ranks = stat_rank(st, &n);
	elems = palloc_extended(Max(n, 1) * sizeof(Datum), MCXT_ALLOC_HUGE);
	for (uint64 i = 0; i < n; i++)
		elems[i] = HeapTupleGetDatum(record_row(st, stat_group(st, ranks[i]), desc, v, nulls));
	PG_RETURN_DATUM(make_array(elems, n, elemtype));
}
