/*-------------------------------------------------------------------------
 *
 * stat_table.c
 *		The hash table of the statistics aggregate: key encoding, insert,
 *		merge, and decoding keys back into SQL values.
 *
 * A key is the concatenation of fixed slots, one per key column, each a
 * null byte followed by the value in a fixed width (inet: family, bits and
 * 16 address bytes; integers as int64; macaddr 6 bytes).  Equal values give
 * equal bytes, so hashing and comparing a key is a hash and a memcmp.
 *
 * The groups are stored densely in chunks that never move, found through
 * an open-addressing index of 8-byte slots (hash and group number; linear
 * probing, load at most one half, doubled when full), so growing the table
 * rehashes the small index and copies no group.  On millions of groups the
 * table is far larger than the CPU caches and the misses are the cost: a
 * large table takes its records in batches whose misses overlap
 * (stat_flush).  Large blocks come from stat_mem.c: a state may exceed 1 GB
 * in the leader, but a serialized one may not (bytea limit).
 *
 * Counting rules are nfdump's (reference 3.3): a record adds its flow count
 * (at least 1), in and out packets and bytes, widens first/last, and ORs
 * its TCP flags.
 *
 *-------------------------------------------------------------------------
 */
#include "stat.h"

#include <sys/socket.h>

#include "catalog/pg_type.h"
#include "port/pg_bitutils.h"
#include "utils/builtins.h"
#include "utils/inet.h"

/*
 * Whether two keys are equal: eight bytes at a time, inline.  Keys are 8 to
 * a few dozen bytes (an address slot is 18), and the call to memcmp was a
 * tenth of -s ip's time.
 */
static inline bool
key_equal(const char *a, const char *b, int len)
{
	uint64		x,
				y;
	int			i = 0;

	for (; i + 8 <= len; i += 8)
	{
		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		if (x != y)
			return false;
	}
	for (; i < len; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

/* small: nf_topn in a GROUP BY has one state per group */
#define INITIAL_SLOTS	32
/* from this many groups on the table outgrows the caches: batch, prefetch */
#define BATCH_FROM		8192

StatState *
stat_state_create(MemoryContext cxt, const StatSpec *spec)
{
	MemoryContext old = MemoryContextSwitchTo(cxt);
	StatState  *st = palloc0(sizeof(StatState));

	st->spec = *spec;
	st->spec.text = pstrdup(spec->text);
	st->cxt = cxt;
	st->keyoff = spec->mode <= STAT_TWO ? STAT_STAT_FIELDS : STAT_RECORD_FIELDS;
	st->entsize = MAXALIGN(st->keyoff + spec->keylen);
	st->side = stat_order_side(spec->order);
	st->nslots = INITIAL_SLOTS;
	st->shift = 32 - pg_leftmost_one_pos64(INITIAL_SLOTS);
	st->index = palloc0(INITIAL_SLOTS * sizeof(StatSlot));
	st->t_first = DT_NOEND;
	st->t_last = DT_NOBEGIN;
	MemoryContextSwitchTo(old);
	return st;
}

/* Empty the table, giving its memory back for what follows. */
void
stat_table_reset(StatState *st)
{
	for (int c = 0; c < STAT_MAX_CHUNKS && st->chunks[c]; c++)
	{
		stat_free(st, st->chunks[c]);
		st->chunks[c] = NULL;
	}
	stat_free(st, st->index);
	st->nentries = 0;
	st->nslots = INITIAL_SLOTS;
	st->shift = 32 - pg_leftmost_one_pos64(INITIAL_SLOTS);
	st->index = MemoryContextAllocZero(st->cxt, INITIAL_SLOTS * sizeof(StatSlot));
}

/*
 * The hash of a key.  Keys are short, fixed-size and mostly zeros (an IPv4
 * address in 16 bytes): each 8 bytes are folded in by a multiplication,
 * and the result avalanched (murmur3's finalizer), so that the top
 * bits, a group's home slot, depend on every byte.  hash_bytes took 6 % of
 * -s ip's time, called through the PLT.  The hashes order the runs of
 * parallel and remote states (stat_merge.c): STAT_STATE_VERSION names
 * the function, so that no state hashed otherwise is merged.
 */
static inline uint32
hash_key(const char *key, int len)
{
	uint64		h = (uint64) len;
	int			i = 0;

	for (; i + 8 <= len; i += 8)
	{
		uint64		w;

		memcpy(&w, key + i, 8);
		h = (h ^ w) * UINT64CONST(0x9E3779B97F4A7C15);
		h ^= h >> 29;
	}
	if (i < len)
	{
		uint64		w = 0;

		for (int b = 0; i + b < len; b++)
			w |= (uint64) (unsigned char) key[i + b] << (8 * b);
		h = (h ^ w) * UINT64CONST(0x9E3779B97F4A7C15);
	}
	/* murmur3's 64-bit finalizer */
	h ^= h >> 33;
	h *= UINT64CONST(0xFF51AFD7ED558CCD);
	h ^= h >> 33;
	h *= UINT64CONST(0xC4CEB9FE1A85EC53);
	h ^= h >> 33;
	return (uint32) (h >> 32);
}

static void
encode_inet(const StatKeyDef *def, char *slot, inet *ip)
{
	stat_encode_address(def, slot, ip_family(ip), ip_bits(ip), ip_addr(ip));
}

void
stat_encode_value(const StatKeyDef *def, char *slot, Datum d, bool isnull)
{
	memset(slot, 0, def->width);
	if (isnull)
	{
		/* nfdump reads an absent field as 0 (0.0.0.0 for addresses) */
		if (def->type == INETOID || def->type == CIDROID)
		{
			slot[0] = PGSQL_AF_INET;
			slot[1] = 32;
		}
		return;
	}
	switch (def->type)
	{
		case INETOID:
		case CIDROID:
			encode_inet(def, slot, DatumGetInetPP(d));
			break;
		case INT2OID:
			{
				int64		v = DatumGetInt16(d);

				memcpy(slot, &v, 8);
				break;
			}
		case INT4OID:
			{
				int64		v = DatumGetInt32(d);

				memcpy(slot, &v, 8);
				break;
			}
		case INT8OID:
			{
				int64		v = DatumGetInt64(d);

				memcpy(slot, &v, 8);
				break;
			}
		case MACADDROID:
			memcpy(slot, DatumGetPointer(d), 6);
			break;
		case BOOLOID:
			slot[0] = DatumGetBool(d);
			break;
	}
}

/*
 * Encode the spec->nkeys values keys[] into buf.
 * NULL is read as zero, so an absent field and 0 are one group, as in
 * nfdump.
 */
void
stat_encode_key(const StatSpec *spec, char *buf, const NullableDatum *keys)
{
	for (int i = 0; i < spec->nkeys; i++)
	{
		const StatKeyDef *def = &spec->keys[i];

		stat_encode_value(def, buf + def->offset, keys[i].value, keys[i].isnull);
	}
}

/* Double the index, placing each slot again by its hash (no group moves). */
static void
grow_index(StatState *st)
{
	StatSlot   *old = st->index;
	uint64		oldn = st->nslots;
	uint64		mask;

	/* group numbers are ranked as uint32 */
	if (oldn >= ((uint64) 1 << 32))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("nf_topn: more than 2 billion groups")));
	st->nslots *= 2;
	st->shift--;
	mask = st->nslots - 1;
	st->index = stat_alloc(st, st->nslots * sizeof(StatSlot), true);
	for (uint64 i = 0; i < oldn; i++)
	{
		uint64		j;

		if (old[i].ref == 0)
			continue;
		for (j = old[i].hash >> st->shift; st->index[j].ref; j = (j + 1) & mask)
			;
		st->index[j] = old[i];
	}
	stat_free(st, old);
}

/* A new, empty group of key (flow count 0: the caller adds a record). */
static StatEntry *
new_group(StatState *st, StatSlot *slot, const char *key, uint32 hash)
{
	uint64		i = st->nentries++;
	uint64		q = (i >> STAT_CHUNK0_BITS) + 1;
	StatEntry  *e;

	if (q == ((uint64) 1 << pg_leftmost_one_pos64(q)) && (i & ((1 << STAT_CHUNK0_BITS) - 1)) == 0)
	{
		/* i is the first group of chunk c */
		int			c = pg_leftmost_one_pos64(q);

		if (c >= STAT_MAX_CHUNKS)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("nf_topn: more than 2 billion groups")));
		st->chunks[c] = stat_alloc(st, ((Size) 1 << (c + STAT_CHUNK0_BITS)) * st->entsize, false);
	}
	e = stat_entry(st, i);
	memset(e, 0, st->keyoff);
	e->first = DT_NOEND;
	e->last = DT_NOBEGIN;
	memcpy(STAT_KEY(st, e), key, st->spec.keylen);
	slot->hash = hash;
	slot->ref = (uint32) (i + 1);
	return e;
}

/* Find the group of key, creating an empty one if absent. */
static StatEntry *
lookup(StatState *st, const char *key, uint32 hash, bool *found)
{
	uint64		mask;
	uint64		j;

	/* keep the load factor at or below one half */
	if ((st->nentries + 1) * 2 > st->nslots)
		grow_index(st);
	mask = st->nslots - 1;
	for (j = hash >> st->shift; st->index[j].ref; j = (j + 1) & mask)
	{
		if (st->index[j].hash == hash)
		{
			StatEntry  *e = stat_entry(st, st->index[j].ref - 1);

			if (key_equal(STAT_KEY(st, e), key, st->spec.keylen))
			{
				*found = true;
				return e;
			}
		}
	}
	*found = false;
	return new_group(st, &st->index[j], key, hash);
}

/*
 * Add one record to its group.  reversed (-b): the record runs against the
 * key's canonical direction, so its in counters are the bucket's out.
 * Counting rules are nfdump's (reference 3.3).
 */
static pg_attribute_always_inline void
apply(const StatState *st, StatEntry *e, const StatRecord *r, bool reversed, bool found)
{
	if (st->spec.mode <= STAT_TWO)
	{
		stat_apply_stat(e, r, st->side);
		return;
	}
	e->flows += r->flows;
	if (r->first < e->first)
		e->first = r->first;
	if (r->last > e->last)
		e->last = r->last;
	if (!reversed)
	{
		e->pkts += r->pkts;
		e->bytes += r->bytes;
		e->opkts += r->opkts;
		e->obytes += r->obytes;
		e->fwd_flags |= r->flags;
	}
	else
	{
		e->pkts += r->opkts;
		e->bytes += r->obytes;
		e->opkts += r->pkts;
		e->obytes += r->bytes;
		e->rev_flags |= r->flags;
	}

	/*
	 * nfdump keeps the ToS (-a) and direction (-b) of the first record it
	 * reads; nfcapd writes records as exporters expire them, so that is the
	 * record that ended first (stat_decides breaks ties).
	 */
	if (!found || stat_decides(r->last, r->first, reversed, r->tos, e))
	{
		e->tos = r->tos;
		e->reversed = reversed;
		e->decider = r->last;
		e->decider_first = r->first;
	}
}

/* Add one record under key, at once. */
void
stat_add(StatState *st, const char *key, const StatRecord *r, bool reversed)
{
	bool		found;
	StatEntry  *e = lookup(st, key, hash_key(key, st->spec.keylen), &found);

	apply(st, e, r, reversed, found);
}

/*
 * The first batch slot (stat_pending_key): made once the table has
 * outgrown the caches, else NULL.
 */
char *
stat_pending_start(StatState *st)
{
	if (st->nentries < BATCH_FROM)
		return NULL;
	st->pend_keys = MemoryContextAlloc(st->cxt, STAT_BATCH * st->spec.keylen);
	st->pend_recs = MemoryContextAlloc(st->cxt, STAT_BATCH * sizeof(StatRecord));
	st->pend_rev = MemoryContextAlloc(st->cxt, STAT_BATCH * sizeof(bool));
	return st->pend_keys;
}

/*
 * Insert the queued records in three passes, so that the cache misses of a
 * large table overlap instead of following one another: hash every key and
 * prefetch its home slot; find each key's slot by hash (new keys are
 * inserted here, in order, so a key twice in a batch makes one group) and
 * prefetch the group; then compare keys and add the records, in order.
 */
void
stat_flush(StatState *st)
{
	int			n = st->npending;
	int			keylen = st->spec.keylen;
	uint32		hash[STAT_BATCH];
	StatEntry  *cand[STAT_BATCH];
	bool		isnew[STAT_BATCH];

	if (n == 0)
		return;
	st->npending = 0;
	for (int i = 0; i < n; i++)
	{
		hash[i] = hash_key(st->pend_keys + i * keylen, keylen);
		__builtin_prefetch(&st->index[hash[i] >> st->shift]);
	}
	for (int i = 0; i < n; i++)
	{
		uint64		mask,
					j;

		if ((st->nentries + 1) * 2 > st->nslots)
			grow_index(st);
		mask = st->nslots - 1;
		for (j = hash[i] >> st->shift; st->index[j].ref && st->index[j].hash != hash[i];
			 j = (j + 1) & mask)
			;
		isnew[i] = st->index[j].ref == 0;
		if (isnew[i])
			cand[i] = new_group(st, &st->index[j], st->pend_keys + i * keylen, hash[i]);
		else
		{
			cand[i] = stat_entry(st, st->index[j].ref - 1);
			__builtin_prefetch(cand[i]);
			__builtin_prefetch((char *) cand[i] + st->entsize - 1);
		}
	}
	for (int i = 0; i < n; i++)
	{
		const char *key = st->pend_keys + i * keylen;
		StatEntry  *e = cand[i];
		bool		found = !isnew[i];

		/* a hash shared with another key: look it up in full */
		if (found && !key_equal(STAT_KEY(st, e), key, keylen))
			e = lookup(st, key, hash[i], &found);
		apply(st, e, &st->pend_recs[i], st->pend_rev[i], found);
	}
}

/*
 * Direct groups.  A statistic keyed on one integer (-s dstport, srcport,
 * port, proto, tos, ...) mostly sees values below STAT_DIRECT_KEYS; a scan
 * that aggregates by itself (pack_agg.c) asks for those to be counted in
 * an array indexed by the value: no hash, no probe, no key comparison, and
 * the array (2.5 MB) stays in the CPU's caches.  Other values go to the
 * hash table, which takes the array's groups in when the state is settled.
 * Not for the aggregate at large: nf_topn in a GROUP BY keeps a state per
 * group.
 */
void
stat_use_direct(StatState *st)
{
	Oid			type = st->spec.keys[0].type;

	if (st->spec.mode > STAT_TWO || st->spec.nkeys != 1 ||
		(type != INT2OID && type != INT4OID && type != INT8OID))
		return;
	st->direct = stat_alloc(st, (Size) STAT_DIRECT_KEYS * STAT_STAT_FIELDS, false);
	for (int64 v = 0; v < STAT_DIRECT_KEYS; v++)
	{
		StatEntry  *e = stat_direct_entry(st, v);

		e->flows = e->pkts = e->bytes = 0;
		e->first = DT_NOEND;
		e->last = DT_NOBEGIN;
	}
}

/*
 * Fold the direct groups and the queued records into the table: what every
 * reader of the groups (ranking, serializing, merging) calls first.
 */
void
stat_settle(StatState *st)
{
	char	   *direct = st->direct;
	const StatKeyDef *def = &st->spec.keys[0];
	char		key[STAT_MAX_KEYS * 32];

	stat_flush(st);
	if (direct == NULL)
		return;
	st->direct = NULL;
	memset(key, 0, st->spec.keylen);
	for (int64 v = 0; v < STAT_DIRECT_KEYS; v++)
	{
		StatEntry  *d = (StatEntry *) (direct + (Size) v * STAT_STAT_FIELDS);
		StatEntry  *e;
		bool		found;

		if (d->flows == 0)		/* a record adds at least one flow */
			continue;
		memcpy(key + def->offset, &v, 8);
		e = lookup(st, key, hash_key(key, st->spec.keylen), &found);
		e->flows += d->flows;
		e->pkts += d->pkts;
		e->bytes += d->bytes;
		e->first = Min(e->first, d->first);
		e->last = Max(e->last, d->last);
	}
	stat_free(st, direct);
}

/* The SQL value of one key slot. */
Datum
stat_decode_key(const StatKeyDef *def, const char *slot)
{
	switch (def->type)
	{
		case INETOID:
		case CIDROID:
			{
				inet	   *ip = palloc0(sizeof(inet));

				ip_family(ip) = (unsigned char) slot[0];
				ip_bits(ip) = (unsigned char) slot[1];
				memcpy(ip_addr(ip), slot + 2, ip_family(ip) == PGSQL_AF_INET ? 4 : 16);
				SET_INET_VARSIZE(ip);
				return InetPGetDatum(ip);
			}
		case INT2OID:
		case INT4OID:
		case INT8OID:
			{
				int64		v;

				memcpy(&v, slot, 8);
				return def->type == INT2OID ? Int16GetDatum((int16) v) :
					def->type == INT4OID ? Int32GetDatum((int32) v) : Int64GetDatum(v);
			}
		case MACADDROID:
			{
				char	   *m = palloc(6);

				memcpy(m, slot, 6);
				return PointerGetDatum(m);
			}
		case BOOLOID:
			return BoolGetDatum(slot[0] != 0);
	}
	return (Datum) 0;
}

/*
 * A key as nfdump prints it in -s tables: addresses without a mask, MPLS
 * entries as label-exp-eos, ids in hex.
 */
char *
stat_render_key(const StatKeyDef *def, const char *slot)
{
	const unsigned char *v = (const unsigned char *) slot;
	int64		n = 0;

	switch (def->type)
	{
		case INETOID:
		case CIDROID:
			{
				char		buf[64];

				pg_inet_net_ntop(v[0], v + 2, v[0] == PGSQL_AF_INET ? 32 : 128,
								 buf, sizeof(buf));
				return pstrdup(buf);
			}
		case MACADDROID:
			return psprintf("%02x:%02x:%02x:%02x:%02x:%02x",
							v[0], v[1], v[2], v[3], v[4], v[5]);
		case BOOLOID:
			return pstrdup(v[0] ? "1" : "0");
		default:
			memcpy(&n, v, 8);
			if (def->render == RENDER_MPLS)
				return psprintf("%lld-%lld-%lld", (long long) (n >> 4),
								(long long) ((n >> 1) & 7), (long long) (n & 1));
			if (def->render == RENDER_HEX)
				return psprintf("0x%09llx", (long long) n);
			return psprintf("%lld", (long long) n);
	}
}
