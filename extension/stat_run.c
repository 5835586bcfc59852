/*-------------------------------------------------------------------------
 *
 * stat_run.c
 *		The compact encoding of a run: the groups of a partial state, in
 *		(hash, key) order, as they travel from a parallel worker to the
 *		leader.
 *
 * A partial state crosses from a worker to the leader as one bytea, and the
 * leader copies it three times on the way (out of the tuple queue, into the
 * aggregate's slot, into the state) before the merge reads it: the leader's
 * serial work is proportional to these bytes.  A group as stored is 64
 * bytes or more; encoded it is about a third of that: the hash as the
 * difference from the previous one (the run is sorted by it), integers as
 * zigzag varints, an IPv4 address in 4 bytes, and the times as differences
 * (first from the run's earliest, last from first).  Differences are taken
 * modulo 2^64, so every value, the infinities included, comes back exact.
 *
 * Per group: varint hash difference; each key (inet: family, bits, 4 or
 * 16 address bytes; integers: zigzag varint; macaddr: 6 bytes; boolean: 1
 * byte); varints of flows, packets, bytes, first - base, last - first; the
 * record modes add out packets, out bytes, decider - last, its first seen -
 * decider and the four flag bytes.
 *
 *-------------------------------------------------------------------------
 */
#include "stat.h"

#include <sys/socket.h>

#include "catalog/pg_type.h"
#include "utils/inet.h"

static inline char *
put_varint(char *p, uint64 v)
{
	while (v >= 0x80)
	{
		*p++ = (char) (v | 0x80);
		v >>= 7;
	}
	*p++ = (char) v;
	return p;
}

static inline char *
put_signed(char *p, int64 v)
{
	return put_varint(p, ((uint64) v << 1) ^ (uint64) (v >> 63));
}

static inline const char *
get_varint(const char *p, const char *end, uint64 *v)
{
	uint64		r = 0;

	for (int s = 0; s < 70; s += 7)
	{
		uint8		b;

		if (p >= end)
			break;
		b = (uint8) *p++;
		r |= (uint64) (b & 0x7F) << s;
		if (b < 0x80)
		{
			*v = r;
			return p;
		}
	}
	elog(ERROR, "nf_topn: corrupt serialized state");
	return NULL;
}

static inline const char *
get_signed(const char *p, const char *end, int64 *v)
{
	uint64		u;

	p = get_varint(p, end, &u);
	*v = (int64) ((u >> 1) ^ (~(u & 1) + 1));
	return p;
}

/* a - b and a + d modulo 2^64: exact for any pair, infinities included */
static inline int64
diff(int64 a, int64 b)
{
	return (int64) ((uint64) a - (uint64) b);
}

static inline int64
sum(int64 a, int64 d)
{
	return (int64) ((uint64) a + (uint64) d);
}

/* The most bytes n groups of st can take encoded. */
Size
stat_run_bound(const StatState *st, uint64 n)
{
	Size		per = 5 + 10 * 9 + 4;

	for (int i = 0; i < st->spec.nkeys; i++)
		per += st->spec.keys[i].width + 2;
	return n * per;
}

/* Encode group e (hash h, following hash prev) at p; returns the end. */
char *
stat_run_encode(const StatState *st, char *p, uint32 prev, uint32 h,
				const StatEntry *e, TimestampTz base)
{
	const char *key = STAT_KEY(st, e);

	p = put_varint(p, h - prev);
	for (int i = 0; i < st->spec.nkeys; i++)
	{
		const StatKeyDef *def = &st->spec.keys[i];
		const char *v = key + def->offset;

		switch (def->type)
		{
			case INETOID:
			case CIDROID:
				{
					int			len = v[0] == PGSQL_AF_INET ? 4 : 16;

					memcpy(p, v, 2 + len);
					p += 2 + len;
					break;
				}
			case MACADDROID:
			case BOOLOID:
				memcpy(p, v, def->width);
				p += def->width;
				break;
			default:
				{
					int64		x;

					memcpy(&x, v, 8);
					p = put_signed(p, x);
					break;
				}
		}
	}
	p = put_signed(p, e->flows);
	p = put_signed(p, e->pkts);
	p = put_signed(p, e->bytes);
	p = put_signed(p, diff(e->first, base));
	p = put_signed(p, diff(e->last, e->first));
	if (st->spec.mode <= STAT_TWO)
		return p;
	p = put_signed(p, e->opkts);
	p = put_signed(p, e->obytes);
	p = put_signed(p, diff(e->decider, e->last));
	p = put_signed(p, diff(e->decider_first, e->decider));
	*p++ = (char) e->fwd_flags;
	*p++ = (char) e->rev_flags;
	*p++ = (char) e->tos;
	*p++ = (char) e->reversed;
	return p;
}

/*
 * Decode the group at p (before end) into e (entsize bytes, key included);
 * *h holds the previous hash and gets this one.  Returns where the next
 * group starts.  Malformed input raises an error.
 */
const char *
stat_run_decode(const StatState *st, const char *p, const char *end, uint32 *h,
				StatEntry *e, TimestampTz base)
{
	char	   *key = STAT_KEY(st, e);
	uint64		d;
	int64		x;

	memset(e, 0, st->entsize);
	p = get_varint(p, end, &d);
	*h += (uint32) d;
	for (int i = 0; i < st->spec.nkeys; i++)
	{
		const StatKeyDef *def = &st->spec.keys[i];
		char	   *v = key + def->offset;

		switch (def->type)
		{
			case INETOID:
			case CIDROID:
				{
					int			len;

					if (end - p < 6)
						elog(ERROR, "nf_topn: corrupt serialized state");
					len = p[0] == PGSQL_AF_INET ? 4 : 16;
					if (end - p < 2 + len)
						elog(ERROR, "nf_topn: corrupt serialized state");
					memcpy(v, p, 2 + len);
					p += 2 + len;
					break;
				}
			case MACADDROID:
			case BOOLOID:
				if (end - p < def->width)
					elog(ERROR, "nf_topn: corrupt serialized state");
				memcpy(v, p, def->width);
				p += def->width;
				break;
			default:
				p = get_signed(p, end, &x);
				memcpy(v, &x, 8);
				break;
		}
	}
	p = get_signed(p, end, &e->flows);
	p = get_signed(p, end, &e->pkts);
	p = get_signed(p, end, &e->bytes);
	p = get_signed(p, end, &x);
	e->first = sum(base, x);
	p = get_signed(p, end, &x);
	e->last = sum(e->first, x);
	if (st->spec.mode <= STAT_TWO)
		return p;
	p = get_signed(p, end, &e->opkts);
	p = get_signed(p, end, &e->obytes);
	p = get_signed(p, end, &x);
	e->decider = sum(e->last, x);
	p = get_signed(p, end, &x);
	e->decider_first = sum(e->decider, x);
	if (end - p < 4)
		elog(ERROR, "nf_topn: corrupt serialized state");
	e->fwd_flags = (uint8) p[0];
	e->rev_flags = (uint8) p[1];
	e->tos = (uint8) p[2];
	e->reversed = (uint8) p[3];
	return p + 4;
}
