/*-------------------------------------------------------------------------
 *
 * batch.c
 *		Building batches of encoded flows.
 *
 * Besides the rows, a batch remembers which hours its flows start in, so
 * the writer can ask for exactly the partitions it needs before COPYing
 * (a flow whose hour is not among the first BATCH_MAX_HOURS still lands
 * safely in nfpg.flows_default).
 *
 * Freed batches are kept in a small pool and reused: a batch's buffer is
 * megabytes, and a fresh one costs a page fault per 4 KiB on first touch.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>

#include "batch.h"

#define POOL_SIZE	16

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static Batch *pool[POOL_SIZE];
static int	pool_count;

static Batch *
batch_alloc(size_t cap)
{
	Batch	   *b = NULL;
	CopyBuf		rows = {0};

	pthread_mutex_lock(&pool_lock);
	if (pool_count > 0)
		b = pool[--pool_count];
	pthread_mutex_unlock(&pool_lock);
	if (b)
	{
		rows = b->rows;
		copybuf_reset(&rows);
		memset(b, 0, sizeof(Batch));
		b->rows = rows;
	}
	else
	{
		b = calloc(1, sizeof(Batch));
		if (b == NULL)
			abort();
		copybuf_init(&b->rows, cap);
	}
	b->min_first_ms = INT64_MAX;
	b->max_first_ms = INT64_MIN;
	return b;
}

Batch *
batch_new(const char *instance, int64_t boot_ms, uint64_t seq, size_t cap)
{
	Batch	   *b = batch_alloc(cap);

	snprintf(b->key, sizeof(b->key), "%013lld-%012llu", (long long) boot_ms,
			 (unsigned long long) seq);
	snprintf(b->id, sizeof(b->id), "%s/%s", instance, b->key);
	return b;
}

Batch *
batch_new_with_id(const char *id, const char *key)
{
	Batch	   *b = batch_alloc(COPYBUF_MAX_ROW);

	snprintf(b->id, sizeof(b->id), "%s", id);
	snprintf(b->key, sizeof(b->key), "%s", key);
	return b;
}

void
batch_free(Batch *b)
{
	if (b == NULL)
		return;
	pthread_mutex_lock(&pool_lock);
	if (pool_count < POOL_SIZE)
	{
		pool[pool_count++] = b;
		b = NULL;
	}
	pthread_mutex_unlock(&pool_lock);
	if (b)
	{
		copybuf_free(&b->rows);
		free(b);
	}
}

int64_t
batch_floor_hour(int64_t ms)
{
	int64_t		h = ms / MS_PER_HOUR;

	if (ms < 0 && h * MS_PER_HOUR != ms)
		h--;
	return h * MS_PER_HOUR;
}

void
batch_note_time(Batch *b, int64_t first_ms)
{
	int64_t		hour = batch_floor_hour(first_ms);

	if (first_ms < b->min_first_ms)
		b->min_first_ms = first_ms;
	if (first_ms > b->max_first_ms)
		b->max_first_ms = first_ms;
	/* Flows mostly arrive in time order: the last hour is the usual hit. */
	for (int i = b->n_hours - 1; i >= 0; i--)
		if (b->hours[i] == hour)
			return;
	if (b->n_hours < BATCH_MAX_HOURS)
		b->hours[b->n_hours++] = hour;
}

void
batch_add(Batch *b, const FlowRec *r)
{
	copybuf_add_flow(&b->rows, r);
	batch_note_time(b, r->first_ms);
}
