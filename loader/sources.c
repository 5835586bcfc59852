/*-------------------------------------------------------------------------
 *
 * sources.c
 *		Counters per source address: datagrams denied by the allow-list,
 *		dropped because the queue was full, rejected by the decoders, and
 *		flows kept out of the tables by the first_seen window.
 *
 * These are what an operator asks "which exporter is it?" about, and they
 * arise before (or without) an exporter identity: a denied or dropped
 * datagram is never decoded.  So they are kept by address, apart from the
 * decoders' per-exporter state, by whichever thread sees the event (the
 * receiver, the batcher) under one mutex; events are rare on a healthy
 * collector, and the receiver takes the lock once per batch of datagrams.
 *
 * Spoofed sources must not grow memory or the SQL table without bound: the
 * first SOURCES_MAX addresses are counted one by one, any further address
 * only in the totals (daemon.h's Stats), which the callers keep as well.  Counts are since nfpgd started; the
 * report to SQL (counters_report.c) sends them whole, so a lost report
 * loses nothing.
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "sources.h"

void
sources_init(SourceTable *t)
{
	memset(t, 0, sizeof(*t));
	pthread_mutex_init(&t->lock, NULL);
	memset(t->slot, 0xff, sizeof(t->slot));
}

static uint32_t
addr_hash(const NfAddr *a)
{
	uint32_t	h = 2166136261u;	/* FNV-1a */

	for (int i = 0; i < (a->family == 6 ? 16 : 4); i++)
		h = (h ^ a->addr[i]) * 16777619u;
	return h ^ a->family;
}

static bool
same_addr(const NfAddr *a, const NfAddr *b)
{
	return a->family == b->family && memcmp(a->addr, b->addr, a->family == 6 ? 16 : 4) == 0;
}

void
sources_add(SourceTable *t, const NfAddr *a, SourceCounter c, uint64_t n)
{
	uint32_t	h = addr_hash(a) & (SOURCES_SLOTS - 1);

	pthread_mutex_lock(&t->lock);
	/* linear probing; the table never fills (SOURCES_SLOTS > SOURCES_MAX) */
	for (;;)
	{
		int			i = t->slot[h];

		if (i < 0)
		{
			if (t->n == SOURCES_MAX)
				break;			/* counted in the totals (Stats) only */
			i = t->n++;
			memset(&t->items[i], 0, sizeof(SourceStats));
			t->items[i].addr.family = a->family;
			memcpy(t->items[i].addr.addr, a->addr, a->family == 6 ? 16 : 4);
			t->slot[h] = (int16_t) i;
		}
		if (same_addr(&t->items[i].addr, a))
		{
			t->items[i].count[c] += n;
			break;
		}
		h = (h + 1) & (SOURCES_SLOTS - 1);
	}
	pthread_mutex_unlock(&t->lock);
}

/* Copy up to max addresses' counts; returns how many. */
int
sources_snapshot(SourceTable *t, SourceStats *out, int max)
{
	int			n;

	pthread_mutex_lock(&t->lock);
	n = t->n < max ? t->n : max;
	memcpy(out, t->items, n * sizeof(SourceStats));
	pthread_mutex_unlock(&t->lock);
	return n;
}
