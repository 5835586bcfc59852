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
 * Unless there is an overflow file.  Then a record that does not fit goes
 * to the end of the file, and so does every later record until the
 * consumer has read the file to its end (order matters: a v9 template must
 * be decoded before the data it describes).  The consumer takes the ring's
 * records first (they are older), then the file's, through a read buffer;
 * when it catches up, the file is truncated and the ring is used again.
 * Under a long overload it may never catch up: the limit then applies to
 * the backlog (written, not yet read), and the part already read is given
 * back to the file system with hole punching as the reader moves on.
 * Appending to a file costs about what a memory copy does (the page cache
 * takes it), so a burst the database cannot absorb at once is bounded by
 * disk space, not memory.  A crash loses the file's datagrams, like the
 * ring's.
 *
 *-------------------------------------------------------------------------
 */
#define _GNU_SOURCE				/* fallocate */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "queue.h"

#define ALIGN8(x)	(((x) + 7) & ~(size_t) 7)
#define OV_BUF_SIZE	(4u << 20)	/* > largest record */
#define OV_PUNCH	(64u << 20) /* give back read file space in such steps */

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
	r->ov_fd = -1;
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
	free(r->ov_buf);
	r->buf = NULL;
	r->ov_buf = NULL;
}

/* Let records that do not fit go to fd (an empty file), up to max_bytes. */
int
packet_ring_set_overflow(PacketRing *r, int fd, uint64_t max_bytes)
{
	r->ov_buf = malloc(OV_BUF_SIZE);
	if (r->ov_buf == NULL)
		return -1;
	r->ov_fd = fd;
	r->ov_max = max_bytes;
	r->ov_punched_ok = true;	/* until fallocate says otherwise */
	return 0;
}

/*
 * Bytes of the overflow file that count against its limit: the unread
 * backlog, or everything written if read space cannot be given back.
 * Called with the lock held.
 */
static uint64_t
overflow_backlog(const PacketRing *r)
{
	return r->ov_punched_ok ? r->ov_write - r->ov_read : r->ov_write;
}

/* Append one record to the overflow file (lock held); false if full. */
static bool
overflow_append(PacketRing *r, const uint8_t *data, uint32_t len, const NfAddr *from,
				int64_t received_ms)
{
	Packet		hdr = {0};
	static const uint8_t pad[16];
	size_t		reclen = ALIGN8(sizeof(Packet) + len);
	struct iovec iov[3];

	if (r->ov_fd < 0 || overflow_backlog(r) + reclen > r->ov_max)
		return false;
	hdr.len = len;
	hdr.reclen = (uint32_t) reclen;
	hdr.received_ms = received_ms;
	hdr.from = *from;
	iov[0].iov_base = &hdr;
	iov[0].iov_len = offsetof(Packet, data);
	iov[1].iov_base = (void *) data;
	iov[1].iov_len = len;
	iov[2].iov_base = (void *) pad;
	iov[2].iov_len = reclen - offsetof(Packet, data) - len;
	if (pwritev(r->ov_fd, iov, 3, (off_t) r->ov_write) != (ssize_t) reclen)
		return false;
	r->ov_write += reclen;
	r->ov_active = true;
	return true;
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
		long		off = r->ov_active ? -1 : ring_reserve(r, reclen);
		Packet	   *p;

		if (off < 0)
		{
			if (!overflow_append(r, data[pushed], len[pushed], &from[pushed], received_ms))
				break;
			pushed++;
			continue;
		}
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
 * The next record of the overflow file, read through ov_buf; end is the
 * file's end when the lock was dropped (only the producer moves it, and
 * only forward).  Called without the lock: only the consumer reads.
 */
static const Packet *
overflow_peek(PacketRing *r, uint64_t end)
{
	const Packet *p = NULL;

	if (r->ov_read >= r->ov_buf_start &&
		r->ov_read - r->ov_buf_start + sizeof(Packet) <= r->ov_buf_len)
	{
		uint64_t	rel = r->ov_read - r->ov_buf_start;

		p = (const Packet *) (r->ov_buf + rel);
		if (rel + p->reclen > r->ov_buf_len)
			p = NULL;			/* only partly in the buffer */
	}
	if (p == NULL)
	{
		size_t		want = end - r->ov_read > OV_BUF_SIZE ? OV_BUF_SIZE : end - r->ov_read;
		ssize_t		got = pread(r->ov_fd, r->ov_buf, want, (off_t) r->ov_read);

		r->ov_buf_start = r->ov_read;
		r->ov_buf_len = got > 0 ? (size_t) got : 0;
		p = (const Packet *) r->ov_buf;
		if (r->ov_buf_len < sizeof(Packet) || p->reclen > r->ov_buf_len)
			return NULL;		/* unreadable: the caller retries */
	}
	return p;
}

static void
overflow_release(PacketRing *r, const Packet *p)
{
	pthread_mutex_lock(&r->lock);
	r->ov_read += p->reclen;
	if (r->ov_read - r->ov_punched >= OV_PUNCH && r->ov_punched_ok)
	{
		uint64_t	upto = r->ov_read / OV_PUNCH * OV_PUNCH;

		if (fallocate(r->ov_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					  (off_t) r->ov_punched, (off_t) (upto - r->ov_punched)) == 0)
			r->ov_punched = upto;
		else
			r->ov_punched_ok = false;	/* the limit counts the whole file */
	}
	if (r->ov_read == r->ov_write)
	{
		/* Caught up: back to the ring, and give the disk space back. */
		r->ov_active = false;
		r->ov_read = r->ov_write = r->ov_punched = 0;
		r->ov_buf_len = 0;
		r->ov_buf_start = 0;
		if (ftruncate(r->ov_fd, 0) != 0)
			r->ov_max = 0;		/* cannot reuse the file: overflow off */
	}
	pthread_mutex_unlock(&r->lock);
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
	while (r->packets == 0 && !r->ov_active && !r->closed)
		if (pthread_cond_timedwait(&r->nonempty, &r->lock, &deadline) == ETIMEDOUT)
			break;
	if (r->packets == 0 && r->ov_active)
	{
		uint64_t	end = r->ov_write;

		pthread_mutex_unlock(&r->lock);
		return overflow_peek(r, end);
	}
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
	if (r->ov_buf && (const uint8_t *) p >= r->ov_buf &&
		(const uint8_t *) p < r->ov_buf + OV_BUF_SIZE)
	{
		overflow_release(r, p);
		return;
	}
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
	done = r->closed && r->packets == 0 && !r->ov_active;
	pthread_mutex_unlock(&r->lock);
	return done;
}

size_t
packet_ring_used(PacketRing *r)
{
	size_t		used;

	pthread_mutex_lock(&r->lock);
	used = r->used + (r->ov_write - r->ov_read);
	pthread_mutex_unlock(&r->lock);
	return used;
}

/*
 * True when the queue is nearly full: the ring is 3/4 full and there is no
 * overflow file, or the overflow file's backlog is 3/4 of its limit.  The batcher then spools
 * instead of waiting for the writers.
 */
bool
packet_ring_pressed(PacketRing *r)
{
	bool		pressed;

	pthread_mutex_lock(&r->lock);
	if (r->ov_fd >= 0 && r->ov_max > 0)
		pressed = overflow_backlog(r) > r->ov_max / 4 * 3;
	else
		pressed = r->used > r->size / 4 * 3;
	pthread_mutex_unlock(&r->lock);
	return pressed;
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
