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
 * function, nf_topn's serialize function; its result is the bytea a
 * parallel worker would hand its leader.  Each node computes it over its
 * flows, in parallel if its planner likes, and the coordinator receives one
 * bytea per node instead of the rows.
 *
 * The merge aggregates take those bytea values: each is turned back into a
 * state (stat_state_from_bytes, which checks every length, since an SQL
 * caller can pass any bytes) and appended to the first as a run, exactly as
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

#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(nf_topn_merge_trans);

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
	add = stat_state_from_bytes(cxt, PG_GETARG_BYTEA_PP(1));
	if (st == NULL)
		PG_RETURN_POINTER(add);
	check_same_spec(st, add);
	stat_combine(st, add);
	PG_RETURN_POINTER(st);
}
