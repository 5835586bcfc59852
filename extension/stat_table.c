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
 * The groups live in the slots themselves (open addressing, linear probing,
 * load at most one half, doubling when full), so finding a group costs one
 * cache miss on a large table, not two: on millions of groups the table is
 * far larger than the CPU caches and the misses are the cost.  Memory is
 * "huge" allocations in the aggregate's context: a state may exceed 1 GB in
 * the leader, but a serialized one may not (bytea limit).
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
#include "common/hashfn.h"
#include "utils/builtins.h"
#include "utils/inet.h"

/* small: nf_topn in a GROUP BY has one state per group */
#define INITIAL_SLOTS	16

StatState *
stat_state_create(MemoryContext cxt, const StatSpec *spec)
{
	MemoryContext old = MemoryContextSwitchTo(cxt);
	StatState  *st = palloc0(sizeof(StatState));

	st->spec = *spec;
	st->spec.text = pstrdup(spec->text);
	st->cxt = cxt;
	st->entsize = MAXALIGN(offsetof(StatEntry, key) + spec->keylen);
	st->nslots = INITIAL_SLOTS;
	st->slots = MemoryContextAllocExtended(cxt, st->nslots * st->entsize,
										   MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	st->t_first = DT_NOEND;
	st->t_last = DT_NOBEGIN;
	MemoryContextSwitchTo(old);
	return st;
}

/* Keys are short and fixed-size; PostgreSQL's hash_bytes mixes them well. */
static inline uint32
hash_key(const char *key, int len)
{
	return hash_bytes((const unsigned char *) key, len);
}

/* Keep the top `keep` bits of an address of `len` bytes. */
static void
mask_bits(unsigned char *addr, int len, int keep)
{
	for (int i = 0; i < len; i++)
	{
		int			b = keep - i * 8;

		if (b <= 0)
			addr[i] = 0;
		else if (b < 8)
			addr[i] &= (unsigned char) (0xFF << (8 - b));
	}
}

/*
 * inet slot: family, bits, 16 bytes.  Masks follow nfdump: srcip4/L clears
 * the low 32-L bits of any address (IPv6 too), srcip6/L keeps L bits of a
 * 128-bit address in which IPv4 sits in the low 32 bits.
 */
static void
encode_inet(const StatKeyDef *def, char *slot, inet *ip)
{
	unsigned char *out = (unsigned char *) slot;
	bool		v4 = ip_family(ip) == PGSQL_AF_INET;
	int			len = v4 ? 4 : 16;
	int			keep = v4 ? 32 : 128;

	out[0] = ip_family(ip);
	memcpy(out + 2, ip_addr(ip), len);
	if (def->mask4)
		keep = v4 ? def->mask4 : 96 + def->mask4;
	else if (def->mask6)
		keep = v4 ? Max(0, def->mask6 - 96) : def->mask6;
	if (keep < (v4 ? 32 : 128))
		mask_bits(out + 2, len, keep);
	out[1] = (def->mask4 || def->mask6) ? keep : ip_bits(ip);
}

static void
encode_one(const StatKeyDef *def, char *slot, Datum d, bool isnull)
{
	memset(slot, 0, def->width);
	if (isnull)
	{
		/* nfdump reads an absent field as 0 (0.0.0.0 for addresses) */
		if (def->type == INETOID || def->type == CIDROID)
		{
			slot[1] = PGSQL_AF_INET;
			slot[2] = 32;
		}
		return;
	}
	slot++;
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
 * Encode spec->nkeys arguments starting at argument first_arg into buf.
 * NULL is read as zero, so an absent field and 0 are one group, as in
 * nfdump.  (The null byte of a slot is therefore always 0 today.)
 */
void
stat_encode_key(const StatSpec *spec, char *buf, FunctionCallInfo fcinfo,
				int first_arg)
{
	for (int i = 0; i < spec->nkeys; i++)
	{
		const StatKeyDef *def = &spec->keys[i];
		NullableDatum *a = &fcinfo->args[first_arg + i];

		encode_one(def, buf + def->offset, a->value, a->isnull);
	}
}

/* Put a group known to be absent into its slot (no growth check). */
void
stat_place(StatState *st, const StatEntry *e)
{
	uint64		mask = st->nslots - 1;
	uint64		j;

	for (j = e->hash & mask; STAT_SLOT_USED(STAT_SLOT(st, j)); j = (j + 1) & mask)
		;
	memcpy(STAT_SLOT(st, j), e, st->entsize);
	st->nentries++;
}

static void
grow_slots(StatState *st)
{
	char	   *old = st->slots;
	uint64		oldn = st->nslots;

	/* slot numbers are ranked as uint32 */
	if (oldn >= ((uint64) 1 << 31))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("nf_topn: more than 2 billion groups")));
	st->nslots *= 2;
	st->slots = MemoryContextAllocExtended(st->cxt, st->nslots * st->entsize,
										   MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	st->nentries = 0;
	for (uint64 i = 0; i < oldn; i++)
	{
		StatEntry  *e = (StatEntry *) (old + i * st->entsize);

		if (STAT_SLOT_USED(e))
			stat_place(st, e);
	}
	pfree(old);
}

/*
 * Find the group of key, creating an empty one (flow count 0, which the
 * caller makes at least 1 at once) if absent.
 */
static StatEntry *
lookup(StatState *st, const char *key, uint32 hash, bool *found)
{
	uint64		mask;
	uint64		j;
	StatEntry  *e;

	/* keep the load factor at or below one half */
	if ((st->nentries + 1) * 2 > st->nslots)
		grow_slots(st);
	mask = st->nslots - 1;
	for (j = hash & mask;; j = (j + 1) & mask)
	{
		e = STAT_SLOT(st, j);
		if (!STAT_SLOT_USED(e))
			break;
		if (e->hash == hash && memcmp(e->key, key, st->spec.keylen) == 0)
		{
			*found = true;
			return e;
		}
	}
	st->nentries++;
	e->hash = hash;
	memcpy(e->key, key, st->spec.keylen);
	e->first = DT_NOEND;
	e->last = DT_NOBEGIN;
	*found = false;
	return e;
}

/*
 * Add one record under key.  reversed (-b): the record runs against the
 * key's canonical direction, so its in counters are the bucket's out.
 */
void
stat_add(StatState *st, const char *key, const StatRecord *r, bool reversed)
{
	bool		found;
	StatEntry  *e = lookup(st, key, hash_key(key, st->spec.keylen), &found);

	e->flows += r->flows;
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
	 * reads; nfcapd writes records as exporters expire them, so that is
	 * the record that ended first.
	 */
	if (!found || r->last < e->decider)
	{
		e->tos = r->tos;
		e->reversed = reversed;
		e->decider = r->last;
	}
	if (r->first < e->first)
		e->first = r->first;
	if (r->last > e->last)
		e->last = r->last;
}

/* Merge every entry and the totals of `from` into `into` (combine). */
void
stat_merge(StatState *into, const StatState *from)
{
	for (uint64 i = 0; i < from->nslots; i++)
	{
		const StatEntry *f = STAT_SLOT(from, i);
		bool		found;
		StatEntry  *e;

		if (!STAT_SLOT_USED(f))
			continue;
		e = lookup(into, f->key, f->hash, &found);

		if (!found || f->decider < e->decider)
		{
			e->tos = f->tos;
			e->reversed = f->reversed;
			e->decider = f->decider;
		}
		e->flows += f->flows;
		e->pkts += f->pkts;
		e->bytes += f->bytes;
		e->opkts += f->opkts;
		e->obytes += f->obytes;
		e->fwd_flags |= f->fwd_flags;
		e->rev_flags |= f->rev_flags;
		e->first = Min(e->first, f->first);
		e->last = Max(e->last, f->last);
	}
	into->t_records += from->t_records;
	into->t_flows += from->t_flows;
	into->t_pkts += from->t_pkts;
	into->t_bytes += from->t_bytes;
	into->t_first = Min(into->t_first, from->t_first);
	into->t_last = Max(into->t_last, from->t_last);
}

/* The SQL value of one key slot. */
Datum
stat_decode_key(const StatKeyDef *def, const char *slot, bool *isnull)
{
	*isnull = slot[0] != 0;
	if (*isnull)
		return (Datum) 0;
	slot++;
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
 * A key as nfdump prints it in -s tables: addresses without a mask, absent
 * values as zero, MPLS entries as label-exp-eos, ids in hex.
 */
char *
stat_render_key(const StatKeyDef *def, const char *slot)
{
	const unsigned char *v = (const unsigned char *) slot + 1;
	bool		null = slot[0] != 0;
	int64		n = 0;

	switch (def->type)
	{
		case INETOID:
		case CIDROID:
			{
				char		buf[64];

				if (null)
					return pstrdup("0.0.0.0");
				pg_inet_net_ntop(v[0], v + 2, v[0] == PGSQL_AF_INET ? 32 : 128,
								 buf, sizeof(buf));
				return pstrdup(buf);
			}
		case MACADDROID:
			if (null)
				return pstrdup("00:00:00:00:00:00");
			return psprintf("%02x:%02x:%02x:%02x:%02x:%02x",
							 v[0], v[1], v[2], v[3], v[4], v[5]);
		case BOOLOID:
			return pstrdup(!null && v[0] ? "1" : "0");
		default:
			if (!null)
				memcpy(&n, v, 8);
			if (def->render == RENDER_MPLS)
				return psprintf("%lld-%lld-%lld", (long long) (n >> 4),
								(long long) ((n >> 1) & 7), (long long) (n & 1));
			if (def->render == RENDER_HEX)
				return psprintf("0x%09llx", (long long) n);
			return psprintf("%lld", (long long) n);
	}
}
