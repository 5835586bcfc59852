/*-------------------------------------------------------------------------
 *
 * queue.c
 *		Bounded queues: the datagram ring and the batch queue.
 *
 * The ring keeps records contiguous: a record that does not fit before the
 * end of the buffer is preceded by a wrap marker (reclen 0) and written at
 * offset 0, so the consumer decodes in place with no copy.  The consumer
 * peeks a record, decodes it, then releases it; only then can the producer
 * reuse its bytes.  Pushing never waits: a full ring refuses the record and
 * the receiver counts a drop.
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "queue.h"

#define ALIGN8(x)	(((x) + 7) & ~(size_t) 7)

static void
deadline_after(struct timespec *ts, int timeout_ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += timeout_ms / 1000;
	ts->tv_nsec += (long) (timeout_ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L)
	{
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

int
packet_ring_init(PacketRing *r, size_t size)
{
	memset(r, 0, sizeof(*r));
	r->size = ALIGN8(size);
	r->buf = malloc(r->size);
	if (r->buf == NULL)
		return -1;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->nonempty, NULL);
	return 0;
}

void
packet_ring_destroy(PacketRing *r)
{
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->nonempty);
	free(r->buf);
	r->buf = NULL;
}

/*
 * Find room for a record of reclen bytes; returns its offset or -1.  Called
 * with the lock held.
 */
static long
ring_reserve(PacketRing *r, size_t reclen)
{
	size_t		to_end = r->size - r->head;
	size_t		need = reclen;

	if (to_end < reclen)
		need += to_end;			/* the tail end is wasted by a wrap */
	if (r->used + need > r->size)
		return -1;
	if (to_end < reclen)
	{
		if (to_end >= sizeof(Packet))
			((Packet *) (r->buf + r->head))->reclen = 0;
		r->used += to_end;
		r->head = 0;
	}
	return (long) r->head;
}

/*
 * Append n datagrams in order under one lock (the receiver hands over a
 * whole recvmmsg batch at once); returns how many fit.  The rest are the
 * caller's to count as dropped.  Copying under the lock is safe and short:
 * the consumer only reads records before head.
 */
int
packet_ring_push_many(PacketRing *r, int n, uint8_t *const *data, const uint32_t *len,
					  const NfAddr *from, int64_t received_ms)
{
	int			pushed = 0;

	pthread_mutex_lock(&r->lock);
	while (pushed < n && !r->closed)
	{
		size_t		reclen = ALIGN8(sizeof(Packet) + len[pushed]);
		long		off = ring_reserve(r, reclen);
		Packet	   *p;

		if (off < 0)
			break;
		p = (Packet *) (r->buf + off);
		p->len = len[pushed];
		p->reclen = (uint32_t) reclen;
		p->received_ms = received_ms;
		p->from = from[pushed];
		memcpy(p->data, data[pushed], len[pushed]);
		r->head = (size_t) off + reclen;
		if (r->head == r->size)
			r->head = 0;
		r->used += reclen;
		r->packets++;
		pushed++;
	}
	if (pushed)
		pthread_cond_signal(&r->nonempty);
	pthread_mutex_unlock(&r->lock);
	return pushed;
}

bool
packet_ring_push(PacketRing *r, const uint8_t *data, uint32_t len,
				 const NfAddr *from, int64_t received_ms)
{
	uint8_t    *d = (uint8_t *) data;

	return packet_ring_push_many(r, 1, &d, &len, from, received_ms) == 1;
}

/*
 * The oldest record, or NULL after timeout_ms or once the ring is closed
 * and empty.  The record stays valid until packet_ring_release().
 */
const Packet *
packet_ring_peek(PacketRing *r, int timeout_ms)
{
	const Packet *p = NULL;
	struct timespec deadline;

	deadline_after(&deadline, timeout_ms);
	pthread_mutex_lock(&r->lock);
	while (r->packets == 0 && !r->closed)
		if (pthread_cond_timedwait(&r->nonempty, &r->lock, &deadline) == ETIMEDOUT)
			break;
	if (r->packets > 0)
	{
		size_t		to_end = r->size - r->tail;

		/* Skip the wasted end of the buffer before a wrapped record. */
		if (to_end < sizeof(Packet) || ((Packet *) (r->buf + r->tail))->reclen == 0)
		{
			r->used -= to_end;
			r->tail = 0;
		}
		p = (const Packet *) (r->buf + r->tail);
	}
	pthread_mutex_unlock(&r->lock);
	return p;
}

void
packet_ring_release(PacketRing *r, const Packet *p)
{
	pthread_mutex_lock(&r->lock);
	r->tail += p->reclen;
	if (r->tail == r->size)
		r->tail = 0;
	r->used -= p->reclen;
	r->packets--;
	pthread_mutex_unlock(&r->lock);
}

void
packet_ring_close(PacketRing *r)
{
	pthread_mutex_lock(&r->lock);
	r->closed = true;
	pthread_cond_broadcast(&r->nonempty);
	pthread_mutex_unlock(&r->lock);
}

/* True once the ring is closed and every record has been released. */
bool
packet_ring_finished(PacketRing *r)
{
	bool		done;

	pthread_mutex_lock(&r->lock);
	done = r->closed && r->packets == 0;
	pthread_mutex_unlock(&r->lock);
	return done;
}

size_t
packet_ring_size(PacketRing *r)
{
	return r->size;
}

size_t
packet_ring_used(PacketRing *r)
{
	size_t		used;

	pthread_mutex_lock(&r->lock);
	used = r->used;
	pthread_mutex_unlock(&r->lock);
	return used;
}

int
ptr_queue_init(PtrQueue *q, size_t cap)
{
	memset(q, 0, sizeof(*q));
	q->items = calloc(cap, sizeof(void *));
	if (q->items == NULL)
		return -1;
	q->cap = cap;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->nonempty, NULL);
	pthread_cond_init(&q->nonfull, NULL);
	return 0;
}

void
ptr_queue_destroy(PtrQueue *q)
{
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->nonempty);
	pthread_cond_destroy(&q->nonfull);
	free(q->items);
	q->items = NULL;
}

/* Append unless full (or closed); never waits. */
bool
ptr_queue_try_push(PtrQueue *q, void *item)
{
	return ptr_queue_push_wait(q, item, 0);
}

/* Append, waiting up to timeout_ms for room; false if still full or closed. */
bool
ptr_queue_push_wait(PtrQueue *q, void *item, int timeout_ms)
{
	bool		ok;
	struct timespec deadline;

	if (timeout_ms > 0)
		deadline_after(&deadline, timeout_ms);
	pthread_mutex_lock(&q->lock);
	while (timeout_ms > 0 && q->count == q->cap && !q->closed)
		if (pthread_cond_timedwait(&q->nonfull, &q->lock, &deadline) == ETIMEDOUT)
			break;
	ok = q->count < q->cap && !q->closed;
	if (ok)
	{
		q->items[(q->head + q->count) % q->cap] = item;
		q->count++;
		pthread_cond_signal(&q->nonempty);
	}
	pthread_mutex_unlock(&q->lock);
	return ok;
}

/*
 * The oldest item, or NULL after timeout_ms; *closed is set once the queue
 * is closed and empty, which is the consumers' cue to finish.
 */
void *
ptr_queue_pop(PtrQueue *q, int timeout_ms, bool *closed)
{
	void	   *item = NULL;
	struct timespec deadline;

	deadline_after(&deadline, timeout_ms);
	pthread_mutex_lock(&q->lock);
	while (q->count == 0 && !q->closed)
		if (pthread_cond_timedwait(&q->nonempty, &q->lock, &deadline) == ETIMEDOUT)
			break;
	if (q->count > 0)
	{
		item = q->items[q->head];
		q->head = (q->head + 1) % q->cap;
		q->count--;
		pthread_cond_signal(&q->nonfull);
	}
	*closed = q->closed && q->count == 0 && item == NULL;
	pthread_mutex_unlock(&q->lock);
	return item;
}

void
ptr_queue_close(PtrQueue *q)
{
	pthread_mutex_lock(&q->lock);
	q->closed = true;
	pthread_cond_broadcast(&q->nonempty);
	pthread_cond_broadcast(&q->nonfull);
	pthread_mutex_unlock(&q->lock);
}

size_t
ptr_queue_count(PtrQueue *q)
{
	size_t		n;

	pthread_mutex_lock(&q->lock);
	n = q->count;
	pthread_mutex_unlock(&q->lock);
	return n;
}
