/*-------------------------------------------------------------------------
 *
 * exporter_reports.c
 *		Per-exporter counters on their way from the batcher to
 *		nfpg.exporter_report().
 *
 * The batcher drains the decoders' ExporterTable every exporter_interval
 * and adds the deltas here; a writer takes them all and reports them.  If
 * the database is down the writer hands them back and they are merged with
 * newer deltas, so nothing is counted twice or lost while it is down (the
 * list is per exporter, so it stays small).
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>

#include "daemon.h"

void
exporter_reports_init(ExporterReports *r)
{
	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->lock, NULL);
}

static bool
same_exporter(const ExporterStats *a, const ExporterStats *b)
{
	return a->source_id == b->source_id && a->addr.family == b->addr.family &&
		memcmp(a->addr.addr, b->addr.addr, sizeof(a->addr.addr)) == 0;
}

/* Merge delta s into the list: counts add up, the rest is the newer value. */
static void
merge_locked(ExporterReports *r, const ExporterStats *s)
{
	for (int i = 0; i < r->n; i++)
	{
		ExporterStats *e = &r->items[i];

		if (!same_exporter(e, s))
			continue;
		e->packets += s->packets;
		e->flows += s->flows;
		e->sequence_failures += s->sequence_failures;
		if (s->last_seen_ms >= e->last_seen_ms)
		{
			e->last_seen_ms = s->last_seen_ms;
			e->version = s->version;
			e->templates = s->templates;
			e->sampling = s->sampling;
		}
		if (s->first_seen_ms < e->first_seen_ms)
			e->first_seen_ms = s->first_seen_ms;
		return;
	}
	if (r->n == r->cap)
	{
		int			cap = r->cap ? r->cap * 2 : 16;
		ExporterStats *items = realloc(r->items, cap * sizeof(ExporterStats));

		if (items == NULL)
			return;				/* counters only: losing a delta is tolerable */
		r->items = items;
		r->cap = cap;
	}
	r->items[r->n++] = *s;
}

void
exporter_reports_add(ExporterReports *r, const ExporterStats *s)
{
	pthread_mutex_lock(&r->lock);
	merge_locked(r, s);
	pthread_mutex_unlock(&r->lock);
}

/* Take every pending report; the caller frees *out or returns it. */
int
exporter_reports_take(ExporterReports *r, ExporterStats **out)
{
	int			n;

	pthread_mutex_lock(&r->lock);
	*out = r->items;
	n = r->n;
	r->items = NULL;
	r->n = r->cap = 0;
	pthread_mutex_unlock(&r->lock);
	return n;
}

/* Give back the reports items[from..n-1] that could not be sent. */
void
exporter_reports_return(ExporterReports *r, ExporterStats *items, int from, int n)
{
	pthread_mutex_lock(&r->lock);
	for (int i = from; i < n; i++)
		merge_locked(r, &items[i]);
	pthread_mutex_unlock(&r->lock);
	free(items);
}
