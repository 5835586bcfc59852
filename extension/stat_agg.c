/*-------------------------------------------------------------------------
 *
 * stat_agg.c
 *		SQL interface of the statistics aggregates nfpg.nf_topn() and
 *		nfpg.nf_topn_records(): transition, combine, serialize, deserialize.
 *		The final functions are in stat_final.c.
 *
 * Transition arguments (after the state):
 *		1 spec text, 2 flows int, 3 packets, 4 bytes, 5 out_packets,
 *		6 out_bytes bigint, 7 first, 8 last timestamptz, 9 tcp_flags,
 *		10 tos smallint, 11... VARIADIC "any" keys.
 * NULL counters count as 0 and a NULL or zero flow count as 1, as nfdump
 * reads absent fields.  The specification is read once, on the first row
 * of a group; it is part of the serialized state, so partial states built
 * in parallel workers carry it to the leader.
 *
 * Serialized state (bytea), all in native byte order: workers and leader
 * share one machine, and the nodes of a coordinator (stat_remote.c) are
 * refused unless they share its byte order, which the version byte's top
 * bit records:
 *		uint8 version | byte order, int32 spec length, spec text, int32 key count,
 *		Oid key types[key count], int64 totals x4, TimestampTz first, last,
 *		uint64 group count n, then the n groups encoded in ascending (hash,
 *		key) order: a run (stat_run.c, stat_merge.c).
 *
 *-------------------------------------------------------------------------
 */
#include "stat.h"

#include "catalog/pg_type.h"

#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#define FIRST_KEY_ARG	(2 + STAT_RECORD_ARGS)

#ifdef WORDS_BIGENDIAN
#define STATE_BIG_ENDIAN	0x80
#else
#define STATE_BIG_ENDIAN	0
#endif

PG_FUNCTION_INFO_V1(nf_topn_trans);
PG_FUNCTION_INFO_V1(nf_topn_combine);
PG_FUNCTION_INFO_V1(nf_topn_serial);
PG_FUNCTION_INFO_V1(nf_topn_deserial);

static MemoryContext
agg_context(FunctionCallInfo fcinfo, const char *fn)
{
	MemoryContext cxt;

	if (!AggCheckCallContext(fcinfo, &cxt))
		elog(ERROR, "%s called in non-aggregate context", fn);
	return cxt;
}

static StatState *
init_state(FunctionCallInfo fcinfo, MemoryContext cxt)
{
	StatSpec	spec;
	Oid			types[2 * STAT_MAX_KEYS];
	int			nargs = PG_NARGS() - FIRST_KEY_ARG;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("nf_topn: the specification must not be NULL")));
	if (nargs < 1 || nargs > 2 * STAT_MAX_KEYS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("nf_topn: between 1 and %d keys are needed", STAT_MAX_KEYS)));
	for (int i = 0; i < nargs; i++)
		types[i] = get_fn_expr_argtype(fcinfo->flinfo, FIRST_KEY_ARG + i);
	stat_spec_parse(&spec, text_to_cstring(PG_GETARG_TEXT_PP(1)), nargs, types);
	return stat_state_create(cxt, &spec);
}

/*
 * -b: TCP and UDP records are keyed by the smaller of (src, sport) and
 * (dst, dport), so both directions of a connection meet in one bucket;
 * returns true when the record runs against that canonical order.
 */
static bool
canonical_bidir(const StatSpec *spec, char *key)
{
	const StatKeyDef *k = spec->keys;
	char		swapped[STAT_MAX_KEYS * 32];
	int64		proto;

	memcpy(&proto, key + k[4].offset, 8);
	if (proto != 6 && proto != 17)
		return false;
	memcpy(swapped, key, spec->keylen);
	memcpy(swapped + k[0].offset, key + k[1].offset, k[0].width);
	memcpy(swapped + k[1].offset, key + k[0].offset, k[0].width);
	memcpy(swapped + k[2].offset, key + k[3].offset, k[2].width);
	memcpy(swapped + k[3].offset, key + k[2].offset, k[2].width);
	if (memcmp(swapped, key, spec->keylen) >= 0)
		return false;
	memcpy(key, swapped, spec->keylen);
	return true;
}

/* Add the record to its direct group, if its key has one (stat_use_direct). */
static inline bool
add_direct(StatState *st, const NullableDatum *key, const StatRecord *r, StatSide side)
{
	Oid			type = st->spec.keys[0].type;
	int64		v = key->isnull ? 0 :
		type == INT2OID ? DatumGetInt16(key->value) :
		type == INT4OID ? DatumGetInt32(key->value) : DatumGetInt64(key->value);

	if (v < 0 || v >= STAT_DIRECT_KEYS)
		return false;
	stat_apply_stat(stat_direct_entry(st, v), r, side);
	return true;
}

/*
 * Add the record under the key encoded in key: local, or the batch slot
 * stat_pending_key gave (batched when the table is large).
 */
static void
add_encoded(StatState *st, char *key, const char *local, const StatRecord *r)
{
	bool		rev = false;

	if (st->spec.mode == STAT_BIDIR || st->spec.mode == STAT_BIDIR_GUESS)
		rev = canonical_bidir(&st->spec, key);
	if (key == local)
		stat_add(st, key, r, rev);
	else
		stat_add_pending(st, r, rev);
}

/* Encode the keys at keys[] and add the record. */
static void
add_record(StatState *st, const NullableDatum *keys, const StatRecord *r)
{
	char		local[STAT_MAX_KEYS * 32];
	char	   *key;

	if (st->direct && add_direct(st, keys, r, st->side))
		return;
	key = stat_pending_key(st);
	if (key == NULL)
		key = local;
	stat_encode_key(&st->spec, key, keys);
	add_encoded(st, key, local, r);
}

/*
 * The record of one flow from its arguments 0 .. STAT_RECORD_ARGS - 1,
 * ISNULL(i) and VALUE(i) reading argument i: NULL counters count as 0 and
 * a NULL or zero flow count as 1, as nfdump reads absent fields.
 */
#define READ_RECORD(r, ISNULL, VALUE) \
	do { \
		(r)->flows = Max(ISNULL(0) ? 0 : DatumGetInt32(VALUE(0)), 1); \
		(r)->pkts = ISNULL(1) ? 0 : DatumGetInt64(VALUE(1)); \
		(r)->bytes = ISNULL(2) ? 0 : DatumGetInt64(VALUE(2)); \
		(r)->opkts = ISNULL(3) ? 0 : DatumGetInt64(VALUE(3)); \
		(r)->obytes = ISNULL(4) ? 0 : DatumGetInt64(VALUE(4)); \
		(r)->first = ISNULL(5) ? DT_NOEND : DatumGetTimestampTz(VALUE(5)); \
		(r)->last = ISNULL(6) ? DT_NOBEGIN : DatumGetTimestampTz(VALUE(6)); \
		(r)->flags = ISNULL(7) ? 0 : (uint8) DatumGetInt16(VALUE(7)); \
		(r)->tos = ISNULL(8) ? 0 : (uint8) DatumGetInt16(VALUE(8)); \
	} while (0)

/* The totals over the records (percentages, the summary line). */
static inline void
add_totals(StatState *st, const StatRecord *r)
{
	st->t_records++;
	st->t_flows += r->flows;
	st->t_pkts += r->pkts + r->opkts;
	st->t_bytes += r->bytes + r->obytes;
	st->t_first = Min(st->t_first, r->first);
	st->t_last = Max(st->t_last, r->last);
}

/*
 * Add one flow, given as the transition function's arguments after the
 * specification: flows, packets, bytes, out_packets, out_bytes, first,
 * last, tcp_flags, tos, then the keys (both sides' for stat2).  Also the
 * path of a packed scan's late rows (pack_agg.c).
 */
void
stat_add_args(StatState *st, const NullableDatum *a)
{
	StatRecord	r;

#define ARG_ISNULL(i)	(a[i].isnull)
#define ARG_VALUE(i)	(a[i].value)
	READ_RECORD(&r, ARG_ISNULL, ARG_VALUE);
	add_totals(st, &r);
	add_record(st, a + STAT_RECORD_ARGS, &r);
	if (st->spec.mode == STAT_TWO)
		add_record(st, a + STAT_RECORD_ARGS + st->spec.nkeys, &r);
}

/*
 * Argument i of flow k in the loops below, which hold the arrays in locals
 * col[] and isnull[] (isnull[i] NULL when col[i] is): absent when NULL.
 */
#define DIRECT_VALUE(i, k, absent) \
	(col[i] == NULL || isnull[i][k] ? (absent) : (int64) col[i][k])
/* READ_RECORD's argument readers for flow k of those locals */
#define LOCAL_ISNULL(i)		(col[i] == NULL || isnull[i][k])
#define LOCAL_VALUE(i)		(col[i][k])

/*
 * The loop of stat_add_columns for any specification: the flows k =
 * rows[j] (or j), j < n.  The caller's arrays of column pointers are copied
 * into locals first: PostgreSQL builds with -fno-strict-aliasing, a key is
 * encoded through a char pointer, and read in place every pointer was
 * loaded again for every flow and key.  An integer key is encoded here,
 * an address from its slot (stat_encode_addr), anything else by
 * stat_encode_value.
 */
static void
add_generic_columns(StatState *st, int n, const uint32 *rows, Datum *const *vals,
					bool *const *nulls, const uint8 *const *addrs)
{
	int			nsides = st->spec.mode == STAT_TWO ? 2 : 1;
	int			nkeys = st->spec.nkeys;
	int			nargs = STAT_RECORD_ARGS + nsides * nkeys;
	const Datum *col[STAT_RECORD_ARGS + 2 * STAT_MAX_KEYS];
	const bool *isnull[STAT_RECORD_ARGS + 2 * STAT_MAX_KEYS];
	const uint8 *addr[STAT_RECORD_ARGS + 2 * STAT_MAX_KEYS];
	char		local[STAT_MAX_KEYS * 32];
	StatRecord	r;

	for (int i = 0; i < nargs; i++)
	{
		col[i] = vals[i];
		addr[i] = addrs[i];
		/* an argument not read at all (neither form) is NULL */
		isnull[i] = vals[i] || addrs[i] ? nulls[i] : NULL;
	}
	for (int j = 0; j < n; j++)
	{
		int			k = rows ? (int) rows[j] : j;

		READ_RECORD(&r, LOCAL_ISNULL, LOCAL_VALUE);
		add_totals(st, &r);
		for (int s = 0; s < nsides; s++)
		{
			int			first = STAT_RECORD_ARGS + s * nkeys;
			char	   *key;

			if (st->direct)
			{
				NullableDatum d;

				d.isnull = isnull[first] == NULL || isnull[first][k];
				d.value = d.isnull ? 0 : col[first][k];
				if (add_direct(st, &d, &r, st->side))
					continue;
			}
			key = stat_pending_key(st);
			if (key == NULL)
				key = local;
			for (int i = 0; i < nkeys; i++)
			{
				const StatKeyDef *def = &st->spec.keys[i];
				int			a = first + i;
				bool		null = isnull[a] == NULL || isnull[a][k];

				if (null)
					stat_encode_value(def, key + def->offset, (Datum) 0, true);
				else if (addr[a])
					stat_encode_addr(def, key + def->offset, addr[a] + (Size) k * STAT_ADDR_WIDTH);
				else if (def->type == INT2OID || def->type == INT4OID || def->type == INT8OID)
				{
					/* read in place as int64 (pack_scan.h), as stat_encode_value would */
					int64		v = def->type == INT2OID ? DatumGetInt16(col[a][k]) :
						def->type == INT4OID ? DatumGetInt32(col[a][k]) : DatumGetInt64(col[a][k]);

					memcpy(key + def->offset, &v, 8);
				}
				else
					stat_encode_value(def, key + def->offset, col[a][k], false);
			}
			add_encoded(st, key, local, &r);
		}
	}
}

/*
 * The loop of stat_add_columns for one integer key counted directly
 * (-s dstport, proto, tos; both sides for -s port): the same sums, with
 * the columns' arrays and the totals held in locals, and no key encoded:
 * a flow costs its loads and one group's update (a third of -s dstport's
 * time over a packed hour was the generic loop).  A flow whose key is
 * outside the direct range takes the generic path.
 */
static void
add_direct_columns(StatState *st, int n, const uint32 *rows, Datum *const *vals,
				   bool *const *nulls, const uint8 *const *addrs)
{
	int			nsides = st->spec.mode == STAT_TWO ? 2 : 1;
	StatSide	side = st->side;
	Oid			type = st->spec.keys[0].type;
	/* sign-extend an int2 or int4 key held in a Datum, as DatumGetInt16/32 */
	int			shift = type == INT2OID ? 48 : type == INT4OID ? 32 : 0;
	/* the order's side of the packets and bytes, without a branch a flow */
	int64		in_mask = side == SIDE_OUT ? 0 : -1;
	int64		out_mask = side == SIDE_IN ? 0 : -1;
	const Datum *col[STAT_RECORD_ARGS + 2];
	const bool *isnull[STAT_RECORD_ARGS + 2];
	int64		t_records = 0,
				t_flows = 0,
				t_pkts = 0,
				t_bytes = 0;
	TimestampTz t_first = st->t_first,
				t_last = st->t_last;

	for (int i = 0; i < STAT_RECORD_ARGS + nsides; i++)
	{
		col[i] = vals[i];
		isnull[i] = vals[i] ? nulls[i] : NULL;
	}

#define DIRECT_KEY(i, k) \
	((uint64) ((int64) ((uint64) DIRECT_VALUE(i, k, 0) << shift) >> shift))

	/*
	 * A direct group is a random slot of a 2.6 MB array, most often not in
	 * the cache: ask for the slot of the flow PREFETCH_AHEAD rows on while
	 * this one is added (half of -s dstport's time was the wait for it).
	 */
#define PREFETCH_AHEAD	16
	for (int j = 0; j < n; j++)
	{
		int			k = rows ? (int) rows[j] : j;
		uint64		v[2];
		int64		flows,
					pkts,
					bytes,
					opkts,
					obytes;
		TimestampTz first,
					last;

		if (j + PREFETCH_AHEAD < n)
		{
			uint64		a = DIRECT_KEY(STAT_RECORD_ARGS,
									   rows ? (int) rows[j + PREFETCH_AHEAD] : j + PREFETCH_AHEAD);

			if (a < STAT_DIRECT_KEYS)
				stat_prefetch(stat_direct_entry(st, (int64) a));
		}
		v[0] = DIRECT_KEY(STAT_RECORD_ARGS, k);
		v[1] = nsides == 2 ? DIRECT_KEY(STAT_RECORD_ARGS + 1, k) : 0;
		if (v[0] >= STAT_DIRECT_KEYS || v[1] >= STAT_DIRECT_KEYS)
		{
			uint32		row = (uint32) k;

			add_generic_columns(st, 1, &row, vals, nulls, addrs);
			continue;
		}
		flows = Max((int32) DIRECT_VALUE(0, k, 0), 1);
		pkts = DIRECT_VALUE(1, k, 0);
		bytes = DIRECT_VALUE(2, k, 0);
		opkts = DIRECT_VALUE(3, k, 0);
		obytes = DIRECT_VALUE(4, k, 0);
		first = DIRECT_VALUE(5, k, DT_NOEND);
		last = DIRECT_VALUE(6, k, DT_NOBEGIN);

		t_records++;
		t_flows += flows;
		t_pkts += pkts + opkts;
		t_bytes += bytes + obytes;
		t_first = Min(t_first, first);
		t_last = Max(t_last, last);
		/*
		 * stat_apply_stat's sums, with the side chosen by masks: calling it
		 * (a StatRecord and a switch per flow) measured 8-10 % slower.
		 */
		for (int s = 0; s < nsides; s++)
		{
			StatEntry  *e = stat_direct_entry(st, (int64) v[s]);

			e->flows += flows;
			e->first = Min(e->first, first);
			e->last = Max(e->last, last);
			e->pkts += (pkts & in_mask) + (opkts & out_mask);
			e->bytes += (bytes & in_mask) + (obytes & out_mask);
		}
	}
	st->t_records += t_records;
	st->t_flows += t_flows;
	st->t_pkts += t_pkts;
	st->t_bytes += t_bytes;
	st->t_first = Min(st->t_first, t_first);
	st->t_last = Max(st->t_last, t_last);
}

/*
 * The loop of stat_add_columns for a statistic keyed on one unmasked
 * address given as slots (-s ip, srcip, dstip over a packed hour): the
 * record read with the arrays in locals, as above, and the key copied from
 * the slot, which is already the key's encoding (stat_encode_addr: family,
 * bits, the address, zeros after an IPv4 one, as both scans make their
 * slots: pack_address_slots, heap_agg_scan.c's address_slot).  The generic
 * loop, with its encoder per key, was a fifth of -s ip's time.
 */
static void
add_address_columns(StatState *st, int n, const uint32 *rows, Datum *const *vals,
					bool *const *nulls, const uint8 *const *addrs)
{
	int			nsides = st->spec.mode == STAT_TWO ? 2 : 1;
	const Datum *col[STAT_RECORD_ARGS];
	const bool *isnull[STAT_RECORD_ARGS];
	const uint8 *slot[2];
	const bool *slotnull[2];
	StatRecord	r;
	int64		t_records = 0,
				t_flows = 0,
				t_pkts = 0,
				t_bytes = 0;
	TimestampTz t_first = st->t_first,
				t_last = st->t_last;

	for (int i = 0; i < STAT_RECORD_ARGS; i++)
	{
		col[i] = vals[i];
		isnull[i] = vals[i] ? nulls[i] : NULL;
	}
	for (int s = 0; s < nsides; s++)
	{
		slot[s] = addrs[STAT_RECORD_ARGS + s];
		slotnull[s] = nulls[STAT_RECORD_ARGS + s];
	}
	for (int j = 0; j < n; j++)
	{
		int			k = rows ? (int) rows[j] : j;

		READ_RECORD(&r, LOCAL_ISNULL, LOCAL_VALUE);
		t_records++;
		t_flows += r.flows;
		t_pkts += r.pkts + r.opkts;
		t_bytes += r.bytes + r.obytes;
		t_first = Min(t_first, r.first);
		t_last = Max(t_last, r.last);
		for (int s = 0; s < nsides; s++)
		{
			char		local[STAT_ADDR_WIDTH];
			char	   *key = stat_pending_key(st);
			const uint8 *a = slot[s] + (Size) k * STAT_ADDR_WIDTH;

			if (key == NULL)
				key = local;
			if (slotnull[s][k])
				stat_encode_value(&st->spec.keys[0], key, (Datum) 0, true);
			else
				memcpy(key, a, STAT_ADDR_WIDTH);
			if (key == local)
				stat_add(st, key, &r, false);
			else
				stat_add_pending(st, &r, false);
		}
	}
	st->t_records += t_records;
	st->t_flows += t_flows;
	st->t_pkts += t_pkts;
	st->t_bytes += t_bytes;
	st->t_first = Min(st->t_first, t_first);
	st->t_last = Max(st->t_last, t_last);
}

/* Whether add_address_columns takes flows of st given as addrs. */
static bool
address_columns(const StatState *st, const uint8 *const *addrs)
{
	const StatKeyDef *def = &st->spec.keys[0];

	return st->spec.mode <= STAT_TWO && st->spec.nkeys == 1 &&
		st->spec.keylen == STAT_ADDR_WIDTH && def->width == STAT_ADDR_WIDTH &&
		def->mask4 == 0 && def->mask6 == 0 &&
		addrs[STAT_RECORD_ARGS] != NULL &&
		(st->spec.mode != STAT_TWO || addrs[STAT_RECORD_ARGS + 1] != NULL);
}

/*
 * The same for flows given as columns, as a scan that aggregates decodes
 * them (pack_agg.c): argument i of flow k is vals[i][k] (NULL when
 * nulls[i][k]), for k = rows[j] (or j when rows is NULL), j < n; vals[i]
 * is NULL for an argument the statistic does not read.  A key argument may
 * come as address slots instead (addrs[i], STAT_ADDR_WIDTH bytes a flow).
 * Integer keys are read in place as int64 values (pack_scan.h).
 */
void
stat_add_columns(StatState *st, int n, const uint32 *rows, Datum *const *vals,
				 bool *const *nulls, const uint8 *const *addrs)
{
	if (st->direct && addrs[STAT_RECORD_ARGS] == NULL &&
		(st->spec.mode != STAT_TWO || addrs[STAT_RECORD_ARGS + 1] == NULL))
	{
		add_direct_columns(st, n, rows, vals, nulls, addrs);
		return;
	}
	if (address_columns(st, addrs))
	{
		add_address_columns(st, n, rows, vals, nulls, addrs);
		return;
	}
	add_generic_columns(st, n, rows, vals, nulls, addrs);
}

Datum
nf_topn_trans(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = agg_context(fcinfo, "nf_topn_trans");
	StatState  *st;

	st = PG_ARGISNULL(0) ? init_state(fcinfo, cxt) : (StatState *) PG_GETARG_POINTER(0);
	stat_add_args(st, &fcinfo->args[2]);
	PG_RETURN_POINTER(st);
}

/*
 * Combine: the partial states become runs of one state, merged by the
 * final function in one pass (stat_merge.c).
 */
Datum
nf_topn_combine(PG_FUNCTION_ARGS)
{
	StatState  *a = PG_ARGISNULL(0) ? NULL : (StatState *) PG_GETARG_POINTER(0);
	StatState  *b = PG_ARGISNULL(1) ? NULL : (StatState *) PG_GETARG_POINTER(1);

	agg_context(fcinfo, "nf_topn_combine");
	if (a == NULL || b == NULL)
	{
		if (a == NULL && b == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(a ? a : b);
	}
	stat_combine(a, b);
	PG_RETURN_POINTER(a);
}

/* Append-only writer over a preallocated bytea. */
typedef struct Writer
{
	char	   *p;
} Writer;

static void
put(Writer *w, const void *src, Size len)
{
	memcpy(w->p, src, len);
	w->p += len;
}

/* Bytes of the header: the encoded groups follow. */
static Size
header_size(int speclen, int nkeys)
{
	return 1 + 4 + speclen + 4 + nkeys * sizeof(Oid) + 4 * sizeof(int64) +
		2 * sizeof(TimestampTz) + 8;
}

/*
 * The partial state as one encoded run (stat_run.c): the table's groups
 * ordered by (hash, key) here, in the worker, or a combined state's runs
 * merged.  First seen is encoded from the state's earliest.
 */
bytea *
stat_serialize(StatState *st)
{
	int32		speclen;
	int32		nkeys;
	uint64		n;
	Size		hdr,
				bound,
				size;
	bytea	   *out;
	Writer		w;
	uint8		version = STAT_STATE_VERSION | STATE_BIG_ENDIAN;

	stat_settle(st);
	if (st->nruns > 0)
		stat_merge_runs(st);
	n = stat_ngroups(st);
	speclen = strlen(st->spec.text);
	nkeys = st->spec.nkeys;
	hdr = header_size(speclen, nkeys);
	bound = VARHDRSZ + hdr + stat_run_bound(st, n);
	if (bound > MaxAllocHugeSize)
		bound = MaxAllocHugeSize;
	out = palloc_extended(bound, MCXT_ALLOC_HUGE);
	w.p = VARDATA(out);
	put(&w, &version, 1);
	put(&w, &speclen, 4);
	put(&w, st->spec.text, speclen);
	put(&w, &nkeys, 4);
	for (int i = 0; i < nkeys; i++)
		put(&w, &st->spec.keys[i].type, sizeof(Oid));
	put(&w, &st->t_records, 8);
	put(&w, &st->t_flows, 8);
	put(&w, &st->t_pkts, 8);
	put(&w, &st->t_bytes, 8);
	put(&w, &st->t_first, sizeof(TimestampTz));
	put(&w, &st->t_last, sizeof(TimestampTz));
	put(&w, &n, 8);
	size = VARHDRSZ + hdr + stat_encode_groups(st, w.p, st->t_first);
	if (size > MaxAllocSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("nf_topn: a partial state of " UINT64_FORMAT " groups is too large to pass between parallel workers or servers",
						n),
				 errhint("SET max_parallel_workers_per_gather = 0 for this query, narrow its time window, or group more coarsely.")));
	SET_VARSIZE(out, size);
	return out;
}

/* Serialize: a partial state on its way from a parallel worker. */
Datum
nf_topn_serial(PG_FUNCTION_ARGS)
{
	agg_context(fcinfo, "nf_topn_serial");
	PG_RETURN_BYTEA_P(stat_serialize((StatState *) PG_GETARG_POINTER(0)));
}

static void
get(const char **p, void *dst, Size len)
{
	memcpy(dst, *p, len);
	*p += len;
}

/*
 * A serialized partial state as a state of its own in cxt: its run is
 * copied once into the state's memory (the tuple that brought it is gone
 * with the next one) and kept encoded, for the final merge.  The bytes may
 * come from another server (stat_remote.c), so every length is checked
 * before it is trusted.
 */
StatState *
stat_state_from_bytes(MemoryContext cxt, bytea *in)
{
	const char *p = VARDATA_ANY(in);
	const char *end = p + VARSIZE_ANY_EXHDR(in);
	uint8		version;
	int32		speclen;
	int32		nkeys;
	char	   *spectext;
	Oid			types[2 * STAT_MAX_KEYS];
	StatSpec	spec;
	StatState  *st;
	uint64		n;

	if (end - p < 9)
		elog(ERROR, "nf_topn: corrupt serialized state");
	get(&p, &version, 1);
	if ((version & 0x80) != STATE_BIG_ENDIAN)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("nf_topn: the partial state comes from a server of the other byte order")));
	version &= 0x7F;
	if (version != STAT_STATE_VERSION)
		elog(ERROR, "nf_topn: serialized state version %d, expected %d",
			 version, STAT_STATE_VERSION);
	get(&p, &speclen, 4);
	if (speclen < 0 || (Size) (end - p) < header_size(speclen, 0) - 5)
		elog(ERROR, "nf_topn: corrupt serialized state");
	spectext = pnstrdup(p, speclen);
	p += speclen;
	get(&p, &nkeys, 4);
	if (nkeys < 1 || nkeys > STAT_MAX_KEYS ||
		(Size) (end - p) < nkeys * sizeof(Oid) + 4 * sizeof(int64) + 2 * sizeof(TimestampTz) + 8)
		elog(ERROR, "nf_topn: corrupt serialized state");
	for (int i = 0; i < nkeys; i++)
		get(&p, &types[i], sizeof(Oid));
	/* a two-sided spec names both halves, with equal types */
	if (strncmp(spectext, "stat2 ", 6) == 0)
		memcpy(types + nkeys, types, nkeys * sizeof(Oid));
	stat_spec_parse(&spec, spectext, strncmp(spectext, "stat2 ", 6) == 0 ? 2 * nkeys : nkeys, types);
	st = stat_state_create(cxt, &spec);
	get(&p, &st->t_records, 8);
	get(&p, &st->t_flows, 8);
	get(&p, &st->t_pkts, 8);
	get(&p, &st->t_bytes, 8);
	get(&p, &st->t_first, sizeof(TimestampTz));
	get(&p, &st->t_last, sizeof(TimestampTz));
	get(&p, &n, 8);
	if (n > 0)
	{
		char	   *copy = stat_alloc(st, end - p, false);

		memcpy(copy, p, end - p);
		stat_add_run(st, n, st->t_first, copy, copy + (end - p));
	}
	return st;
}

/*
 * A partial state handed to the Finalize Aggregate of the same backend (a
 * packed scan that aggregates, pack_agg.c, outside a parallel worker)
 * travels by reference: encoding a run of a million groups only for this
 * process to decode and merge it again cost a third of the query.  The
 * bytea names a slot of this backend's table and carries a random token
 * drawn once per backend, so that bytes from anywhere else (a worker,
 * another server) are never taken for a pointer.  A slot is emptied when
 * its handle is read, and when the state's memory goes unread.
 */
#define HANDOFF_VERSION		0x7F	/* never a serialized state's */
#define HANDOFF_SLOTS		16
#define HANDOFF_LEN			(1 + 8 + 4)

static StatState *handoff[HANDOFF_SLOTS];
static uint64 handoff_token;

static void
handoff_forget(void *arg)
{
	for (int i = 0; i < HANDOFF_SLOTS; i++)
		if (handoff[i] == arg)
			handoff[i] = NULL;
}

bytea *
stat_handoff(StatState *st)
{
	MemoryContextCallback *cb;
	bytea	   *out;
	uint8		version = HANDOFF_VERSION;
	int32		i = 0;

	while (i < HANDOFF_SLOTS && handoff[i] != NULL)
		i++;
	if (i == HANDOFF_SLOTS || (handoff_token == 0 && !pg_strong_random(&handoff_token, 8)))
		return stat_serialize(st);
	handoff_token |= 1;			/* never 0: drawn */
	handoff[i] = st;
	cb = MemoryContextAlloc(st->cxt, sizeof(MemoryContextCallback));
	cb->func = handoff_forget;
	cb->arg = st;
	MemoryContextRegisterResetCallback(st->cxt, cb);
	out = palloc(VARHDRSZ + HANDOFF_LEN);
	SET_VARSIZE(out, VARHDRSZ + HANDOFF_LEN);
	memcpy(VARDATA(out), &version, 1);
	memcpy(VARDATA(out) + 1, &handoff_token, 8);
	memcpy(VARDATA(out) + 9, &i, 4);
	return out;
}

/* The state a handle of this backend names, or NULL. */
static StatState *
handoff_take(bytea *in)
{
	const char *p = VARDATA_ANY(in);
	uint64		token;
	int32		i;
	StatState  *st;

	if (VARSIZE_ANY_EXHDR(in) != HANDOFF_LEN || (uint8) p[0] != HANDOFF_VERSION ||
		handoff_token == 0)
		return NULL;
	memcpy(&token, p + 1, 8);
	memcpy(&i, p + 9, 4);
	if (token != handoff_token || i < 0 || i >= HANDOFF_SLOTS || handoff[i] == NULL)
		elog(ERROR, "nf_topn: a partial state handed over by reference is gone");
	st = handoff[i];
	handoff[i] = NULL;
	return st;
}

/* A partial state from a parallel worker, or from a packed scan here. */
Datum
nf_topn_deserial(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = agg_context(fcinfo, "nf_topn_deserial");
	bytea	   *in = PG_GETARG_BYTEA_PP(0);
	StatState  *st = handoff_take(in);

	PG_RETURN_POINTER(st ? st : stat_state_from_bytes(cxt, in));
}
