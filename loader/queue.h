/*-------------------------------------------------------------------------
 *
 * queue.h
 *		The bounded queues between nfpgd's threads.
 *
 * PacketRing carries datagrams from the receiver to the decoder: one
 * producer, one consumer, variable-size records in a fixed byte ring, so a
 * burst costs memory up to a set limit, then (optionally) disk up to a
 * second limit, and then drops (counted) instead of blocking the receiver.  PtrQueue carries finished batches from the decoder
 * to the writers: bounded, several consumers.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NFPG_QUEUE_H
#define NFPG_QUEUE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "flowrec.h"

/* One received datagram, as stored in the ring. */
typedef struct Packet
{
	uint32_t	len;			/* payload bytes */
	uint32_t	reclen;			/* whole record, aligned; 0 marks a wrap */
	int64_t		received_ms;
	NfAddr		from;
	uint8_t		data[];
} Packet;

typedef struct PacketRing
{
	pthread_mutex_t lock;
	pthread_cond_t nonempty;
	uint8_t    *buf;
	size_t		size;
	size_t		head;			/* next write offset (producer) */
	size_t		tail;			/* next read offset (consumer) */
	size_t		used;			/* bytes between tail and head, incl. wrap waste */
	uint64_t	packets;		/* records currently queued in memory */
	bool		closed;

	/* Overflow file: records that did not fit, in arrival order. */
	int			ov_fd;			/* -1: no overflow, full ring drops */
	uint64_t	ov_max;
	bool		ov_active;		/* newer records are in the file */
	uint64_t	ov_write;		/* file offset of the next record written */
	uint64_t	ov_read;		/* file offset of the next record to decode */
	uint64_t	ov_punched;		/* file space before this offset is given back */
	bool		ov_punched_ok;	/* hole punching works on this file system */
	uint8_t    *ov_buf;			/* consumer's read buffer */
	uint64_t	ov_buf_start;	/* file offset of ov_buf[0] */
	size_t		ov_buf_len;
} PacketRing;

extern int	packet_ring_init(PacketRing *r, size_t size);
extern void packet_ring_destroy(PacketRing *r);
extern int	packet_ring_set_overflow(PacketRing *r, int fd, uint64_t max_bytes);
extern bool packet_ring_pressed(PacketRing *r);
extern bool packet_ring_push(PacketRing *r, const uint8_t *data, uint32_t len,
							 const NfAddr *from, int64_t received_ms);
extern int	packet_ring_push_many(PacketRing *r, int n, uint8_t *const *data,
								  const uint32_t *len, const NfAddr *from,
								  int64_t received_ms);
extern const Packet *packet_ring_peek(PacketRing *r, int timeout_ms);
extern void packet_ring_release(PacketRing *r, const Packet *p);
extern void packet_ring_close(PacketRing *r);
extern bool packet_ring_finished(PacketRing *r);
extern size_t packet_ring_used(PacketRing *r);

typedef struct PtrQueue
{
	pthread_mutex_t lock;
	pthread_cond_t nonempty;
	pthread_cond_t nonfull;
	void	  **items;
	size_t		cap;
	size_t		head;
	size_t		count;
	bool		closed;
} PtrQueue;

extern int	ptr_queue_init(PtrQueue *q, size_t cap);
extern void ptr_queue_destroy(PtrQueue *q);
extern bool ptr_queue_try_push(PtrQueue *q, void *item);
extern bool ptr_queue_push_wait(PtrQueue *q, void *item, int timeout_ms);
extern void *ptr_queue_pop(PtrQueue *q, int timeout_ms, bool *closed);
extern void ptr_queue_close(PtrQueue *q);
extern size_t ptr_queue_count(PtrQueue *q);

#endif							/* NFPG_QUEUE_H */
