/*-------------------------------------------------------------------------
 *
 * stat_remote.c
 *		Top-N partial states that cross the network: the merge aggregates
 *		nfpg.nf_topn_merge(bytea) and nfpg.nf_topn_records_merge(bytea).
 *
 * A coordinator (74_nodes.sql) answers nf_stat() and nf_aggregate() over
 * flows held by several nfpg servers.  postgres_fdw in PostgreSQL 15 pushes
 * only complete aggregates to a remote server, never partial ones, so the
 * partial state is made a complete aggregate of its own:
 * nfpg.nf_topn_state() has nf_topn's transition function and, as its final
 * function, nf_topn_state_final: the bytes a parallel worker would hand
 * its leader, compressed with zstd, since they cross a network and not
 * shared memory, and written in base64, since postgres_fdw moves results as
 * text (a bytea would travel as hex, twice its size; encode() around the
 * aggregate would run on the coordinator, as postgres_fdw ships no function
 * whose input collation, here that of 'base64', is not a column's).  Each
 * node computes it over its flows, in parallel if its planner likes, and
 * the coordinator receives one value per node instead of the rows.
 *
 * The merge aggregates take those values: each is decoded, decompressed and
 * turned back into a state (stat_state_from_bytes, which checks every
 * length, since an SQL caller can pass any bytes) and appended to the first as a run, exactly as
 * combine does with workers' states; the final functions of nf_topn and
 * nf_topn_records then merge the runs in one pass and rank.  So a Top-N over
 * three nodes is computed by the same code, on the same groups, as over one
 * server: the answer is the same, not an approximation.
 *
 * All states of one merge must come from one specification; a node running
 * another nfpg release would make a different one, so a mismatch is an
 * error, not a silent mix.
 *
 *-------------------------------------------------------------------------
 */
#include "stat.h"

#include <zstd.h>

#include "common/base64.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

PG_FUNCTION_INFO_V1(nf_topn_state_final);
PG_FUNCTION_INFO_V1(nf_topn_merge_trans);

/*
 * Level 3 (zstd's default): on encoded groups it halves the bytes at a few
 * hundred MB/s, small next to building the state.
 */
#define STATE_ZSTD_LEVEL	3

/*
 * Final function of nf_topn_state: the serialized state, compressed, as
 * base64 text.
 */
Datum
nf_topn_state_final(PG_FUNCTION_ARGS)
{
	bytea	   *raw;
	char	   *packed;
	text	   *out;
	size_t		bound,
				n;
	int			len;

	if (!AggCheckCallContext(fcinfo, NULL))
		elog(ERROR, "nf_topn_state_final called in non-aggregate context");
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	raw = stat_serialize((StatState *) PG_GETARG_POINTER(0));
	bound = ZSTD_compressBound(VARSIZE(raw) - VARHDRSZ);
	/* base64 makes 4 bytes of 3: the text must fit in a 1 GB value */
	if (bound / 3 * 4 + 4 + VARHDRSZ > MaxAllocSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("nf_topn_state: a partial state of %zu bytes is too large to send",
						(size_t) VARSIZE(raw)),
				 errhint("Narrow the time window or group more coarsely.")));
	packed = palloc(bound);
	n = ZSTD_compress(packed, bound, VARDATA(raw), VARSIZE(raw) - VARHDRSZ, STATE_ZSTD_LEVEL);
	if (ZSTD_isError(n))
		elog(ERROR, "nf_topn_state: zstd: %s", ZSTD_getErrorName(n));
	pfree(raw);
	out = palloc(VARHDRSZ + pg_b64_enc_len(n));
	len = pg_b64_encode(packed, n, VARDATA(out), pg_b64_enc_len(n));
	if (len < 0)
		elog(ERROR, "nf_topn_state: base64 encoding failed");
	SET_VARSIZE(out, VARHDRSZ + len);
	pfree(packed);
	PG_RETURN_TEXT_P(out);
}

/*
 * A state as nf_topn_state_final wrote it, as the serialized bytes.  The
 * frame's declared size is checked against what PostgreSQL can allocate,
 * and the decompressed length against it, since the text may come from
 * any SQL caller.
 */
static bytea *
inflate_state(text *in)
{
	int			b64len = VARSIZE_ANY_EXHDR(in);
	char	   *src = palloc(pg_b64_dec_len(b64len));
	int			len = pg_b64_decode(VARDATA_ANY(in), b64len, src, pg_b64_dec_len(b64len));
	unsigned long long size;
	bytea	   *out;
	size_t		n;

	if (len < 0)
		elog(ERROR, "nf_topn: corrupt serialized state");
	size = ZSTD_getFrameContentSize(src, len);
	if (size == ZSTD_CONTENTSIZE_UNKNOWN || size == ZSTD_CONTENTSIZE_ERROR ||
		size > MaxAllocHugeSize - VARHDRSZ)
		elog(ERROR, "nf_topn: corrupt serialized state");
	out = palloc_extended(VARHDRSZ + size, MCXT_ALLOC_HUGE);
	n = ZSTD_decompress(VARDATA(out), size, src, len);
	if (ZSTD_isError(n) || n != size)
		elog(ERROR, "nf_topn: corrupt serialized state");
	pfree(src);
	SET_VARSIZE(out, VARHDRSZ + n);
	return out;
}

static void
check_same_spec(const StatState *a, const StatState *b)
{
	bool		same = strcmp(a->spec.text, b->spec.text) == 0 &&
		a->spec.nkeys == b->spec.nkeys;

	for (int i = 0; same && i < a->spec.nkeys; i++)
		same = a->spec.keys[i].type == b->spec.keys[i].type;
	if (!same)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("nf_topn_merge: partial states of different statistics (\"%s\" and \"%s\")",
						a->spec.text, b->spec.text),
				 errhint("Every node must run the same nfpg release as the coordinator.")));
}

/*
 * Transition of nf_topn_merge and nf_topn_records_merge: add one serialized
 * partial state.  A NULL state (a node without matching flows) adds nothing.
 */
Datum
nf_topn_merge_trans(PG_FUNCTION_ARGS)
{
	MemoryContext cxt;
	StatState  *st = PG_ARGISNULL(0) ? NULL : (StatState *) PG_GETARG_POINTER(0);
	StatState  *add;

	if (!AggCheckCallContext(fcinfo, &cxt))
		elog(ERROR, "nf_topn_merge_trans called in non-aggregate context");
	if (PG_ARGISNULL(1))
	{
		if (st == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(st);
	}
	add = stat_state_from_bytes(cxt, inflate_state(PG_GETARG_TEXT_PP(1)));
	if (st == NULL)
		PG_RETURN_POINTER(add);
	check_same_spec(st, add);
	stat_combine(st, add);
	PG_RETURN_POINTER(st);
}
