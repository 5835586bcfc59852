/*-------------------------------------------------------------------------
 *
 * filter_func.c
 *		Helper functions the compiled filters call for values nfdump derives
 *		from several fields: duration, pps, bps, bpp and the MPLS stack.
 *
 * They follow nfdump 1.7.1's arithmetic (integer division, 0 when the
 * divisor is 0).  nfdump keeps the duration unsigned, so a record whose last
 * packet precedes its first has a huge duration: flow_duration() returns
 * the largest bigint for it, and pps/bps come out as 0.  The MPLS helpers
 * read an absent stack (NULL) or an absent entry as 0, as nfdump does.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type_d.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(nf_flow_duration);
PG_FUNCTION_INFO_V1(nf_flow_pps);
PG_FUNCTION_INFO_V1(nf_flow_bps);
PG_FUNCTION_INFO_V1(nf_flow_bpp);
PG_FUNCTION_INFO_V1(nf_mpls_label);
PG_FUNCTION_INFO_V1(nf_mpls_exp);
PG_FUNCTION_INFO_V1(nf_mpls_eos_label);
PG_FUNCTION_INFO_V1(nf_mpls_has_label);

#define MPLS_MAX 10
#define MPLS_NO_EOS INT64CONST(0xFF000000)	/* nfdump's value without bottom of stack */

/* duration in ms; negative means nfdump's unsigned wrap-around */
static int64
duration_ms(TimestampTz first, TimestampTz last)
{
	return (last - first) / 1000;
}

Datum
nf_flow_duration(PG_FUNCTION_ARGS)
{
	int64		d = duration_ms(PG_GETARG_TIMESTAMPTZ(0), PG_GETARG_TIMESTAMPTZ(1));

	PG_RETURN_INT64(d < 0 ? PG_INT64_MAX : d);
}

static int64
rate(int64 count, int64 factor, TimestampTz first, TimestampTz last)
{
	int64		d = duration_ms(first, last);

	return d > 0 ? (int64) ((uint64) count * factor / (uint64) d) : 0;
}

Datum
nf_flow_pps(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(rate(PG_GETARG_INT64(0), 1000, PG_GETARG_TIMESTAMPTZ(1), PG_GETARG_TIMESTAMPTZ(2)));
}

Datum
nf_flow_bps(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(rate(PG_GETARG_INT64(0), 8000, PG_GETARG_TIMESTAMPTZ(1), PG_GETARG_TIMESTAMPTZ(2)));
}

Datum
nf_flow_bpp(PG_FUNCTION_ARGS)
{
	int64		bytes = PG_GETARG_INT64(0);
	int64		packets = PG_GETARG_INT64(1);

	PG_RETURN_INT64(packets > 0 ? bytes / packets : 0);
}

/* Stack entries (label<<4 | exp<<1 | bos) into out[]; absent ones are 0. */
static void
mpls_entries(FunctionCallInfo fcinfo, int32 out[MPLS_MAX])
{
	memset(out, 0, sizeof(int32) * MPLS_MAX);
	if (!PG_ARGISNULL(0))
	{
		ArrayType  *a = PG_GETARG_ARRAYTYPE_P(0);
		Datum	   *elems;
		bool	   *nulls;
		int			n;

		deconstruct_array(a, INT4OID, 4, true, TYPALIGN_INT, &elems, &nulls, &n);
		for (int k = 0; k < n && k < MPLS_MAX; k++)
			out[k] = nulls[k] ? 0 : DatumGetInt32(elems[k]);
	}
}

static int32
mpls_entry(FunctionCallInfo fcinfo)
{
	int32		e[MPLS_MAX];
	int32		k = PG_ARGISNULL(1) ? 0 : PG_GETARG_INT32(1);

	mpls_entries(fcinfo, e);
	return k >= 1 && k <= MPLS_MAX ? e[k - 1] : 0;
}

Datum
nf_mpls_label(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32((mpls_entry(fcinfo) >> 4) & 0xFFFFF);
}

Datum
nf_mpls_exp(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32((mpls_entry(fcinfo) >> 1) & 0x7);
}

Datum
nf_mpls_eos_label(PG_FUNCTION_ARGS)
{
	int32		e[MPLS_MAX];

	mpls_entries(fcinfo, e);
	for (int k = 0; k < MPLS_MAX; k++)
		if (e[k] & 1)
			PG_RETURN_INT64((e[k] >> 4) & 0xFFFFF);
	PG_RETURN_INT64(MPLS_NO_EOS);
}

Datum
nf_mpls_has_label(PG_FUNCTION_ARGS)
{
	int32		e[MPLS_MAX];
	int32		label = PG_ARGISNULL(1) ? -1 : PG_GETARG_INT32(1);
	int			n = 0;

	mpls_entries(fcinfo, e);
	/* entries after the bottom of stack are not part of the stack */
	while (n < MPLS_MAX && e[n] != 0)
		if (e[n++] & 1)
			break;
	for (int k = 0; k < n; k++)
		if (((e[k] >> 4) & 0xFFFFF) == label)
			PG_RETURN_BOOL(true);
	PG_RETURN_BOOL(false);
}
