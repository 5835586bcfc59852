/*
 * queue_test.c
 *		The packet ring (wrap-around, refusal when full, order, in-place
 *		records), its overflow file (order across ring and file, return to
 *		the ring once drained, limit), and the batch queue (bound, order,
 *		close), including a producer and a consumer thread racing over a
 *		small ring with and without an overflow file.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "queue.h"
#include "unit.h"

static const NfAddr from4 = {.family = 4, .addr = {127, 0, 0, 1}};

static void
fill(uint8_t *buf, uint32_t len, uint32_t seq)
{
	for (uint32_t i = 0; i < len; i++)
		buf[i] = (uint8_t) (seq * 31 + i);
}

static int
check_payload(const Packet *p, uint32_t seq)
{
	for (uint32_t i = 0; i < p->len; i++)
		if (p->data[i] != (uint8_t) (seq * 31 + i))
			return 0;
	return 1;
}

static void
test_ring_basic(void)
{
	PacketRing	r;
	uint8_t		buf[1500];
	const Packet *p;
	int			pushed = 0;

	CHECK(packet_ring_init(&r, 8192) == 0, "init");
	/* Fill until refused: a full ring never blocks and never overwrites. */
	for (uint32_t i = 0; i < 100; i++)
	{
		fill(buf, 1000, i);
		if (!packet_ring_push(&r, buf, 1000, &from4, 1000 + i))
			break;
		pushed++;
	}
	CHECK(pushed > 0 && pushed < 100, "pushed %d of 100 into 8 KiB", pushed);
	for (int i = 0; i < pushed; i++)
	{
		p = packet_ring_peek(&r, 0);
		CHECK(p && p->len == 1000 && p->received_ms == 1000 + i && check_payload(p, i) &&
			  p->from.family == 4, "record %d", i);
		if (p)
			packet_ring_release(&r, p);
	}
	CHECK(packet_ring_peek(&r, 10) == NULL, "empty ring times out");
	CHECK(packet_ring_used(&r) == 0, "used %zu after draining", packet_ring_used(&r));
	packet_ring_close(&r);
	CHECK(packet_ring_finished(&r), "closed and empty is finished");
	packet_ring_destroy(&r);
}

/* Sizes that do not divide the ring: records wrap at every offset. */
static void
test_ring_wrap(void)
{
	PacketRing	r;
	uint8_t		buf[3000];
	uint32_t	seq = 0,
				next = 0;
	int			bad = 0;

	packet_ring_init(&r, 10000);
	for (int round = 0; round < 5000; round++)
	{
		uint32_t	len = 1 + (round * 7919) % 2999;

		fill(buf, len, seq);
		if (packet_ring_push(&r, buf, len, &from4, seq))
			seq++;
		if (round % 3 != 0)
		{
			const Packet *p = packet_ring_peek(&r, 0);

			if (p)
			{
				bad += p->received_ms != next || !check_payload(p, next);
				next++;
				packet_ring_release(&r, p);
			}
		}
	}
	for (const Packet *p; (p = packet_ring_peek(&r, 0)) != NULL; next++)
	{
		bad += p->received_ms != next || !check_payload(p, next);
		packet_ring_release(&r, p);
	}
	CHECK(bad == 0, "%d records out of order or corrupted", bad);
	CHECK(next == seq, "consumed %u of %u", next, seq);
	CHECK(packet_ring_used(&r) == 0, "used %zu", packet_ring_used(&r));
	packet_ring_destroy(&r);
}

static int
overflow_file(void)
{
	char		path[64];
	int			fd;

	snprintf(path, sizeof(path), "/tmp/nfpg-queue-test.%d", (int) getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	unlink(path);
	return fd;
}

static off_t
file_size(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 ? st.st_size : -1;
}

static void
test_overflow(void)
{
	PacketRing	r;
	uint8_t		buf[2000];
	int			fd = overflow_file(),
				bad = 0;
	uint32_t	next = 0;

	packet_ring_init(&r, 8192);
	CHECK(packet_ring_set_overflow(&r, fd, 1 << 20) == 0, "overflow on");
	/* 200 records of 1-2 KB: most go to the file, none is refused. */
	for (uint32_t i = 0; i < 200; i++)
	{
		uint32_t	len = 1000 + (i * 37) % 1000;

		fill(buf, len, i);
		CHECK(packet_ring_push(&r, buf, len, &from4, i), "push %u refused", i);
	}
	CHECK(file_size(fd) > 100000, "file holds the excess (%lld bytes)", (long long) file_size(fd));
	CHECK(packet_ring_pressed(&r) == false, "1 MiB overflow is not pressed");
	/* Pushes while the file is in use go to the file too: order is kept. */
	for (const Packet *p; (p = packet_ring_peek(&r, 0)) != NULL; next++)
	{
		bad += p->received_ms != next || !check_payload(p, next);
		packet_ring_release(&r, p);
		if (next == 50)
		{
			fill(buf, 100, 200);
			packet_ring_push(&r, buf, 100, &from4, 200);
		}
	}
	CHECK(bad == 0 && next == 201, "%d wrong, %u of 201 read back in order", bad, next);
	CHECK(file_size(fd) == 0, "file truncated once drained");
	CHECK(packet_ring_used(&r) == 0, "empty");
	fill(buf, 100, 7);
	packet_ring_push(&r, buf, 100, &from4, 7);
	CHECK(file_size(fd) == 0, "ring used again after the file drained");
	packet_ring_release(&r, packet_ring_peek(&r, 0));

	/* The file's limit: beyond it, records are refused (counted drops). */
	{
		int			refused = 0;

		for (uint32_t i = 0; i < 2000; i++)
			refused += !packet_ring_push(&r, buf, 1500, &from4, i);
		CHECK(refused > 0 && packet_ring_pressed(&r), "limit reached: %d refused", refused);
	}
	packet_ring_destroy(&r);
	close(fd);
}

/*
 * A long overload: the reader never quite catches up, so the file is never
 * truncated.  Far more than the limit passes through it with a small
 * backlog, and nothing is refused; the space already read is given back.
 */
static void
test_overflow_long(void)
{
	PacketRing	r;
	uint8_t		buf[1000];
	int			fd = overflow_file(),
				refused = 0,
				bad = 0;
	uint32_t	pushed = 0,
				next = 0;
	struct stat st;

	packet_ring_init(&r, 8192);
	packet_ring_set_overflow(&r, fd, 4 << 20);
	while (pushed < 300)
	{
		fill(buf, sizeof(buf), pushed);
		refused += !packet_ring_push(&r, buf, sizeof(buf), &from4, pushed++);
	}
	while (pushed < 200000)		/* about 200 MB through a 4 MiB limit */
	{
		const Packet *p = packet_ring_peek(&r, 0);

		bad += p == NULL || p->received_ms != next || !check_payload(p, next);
		if (p)
			packet_ring_release(&r, p);
		next++;
		fill(buf, sizeof(buf), pushed);
		refused += !packet_ring_push(&r, buf, sizeof(buf), &from4, pushed++);
	}
	CHECK(refused == 0 && bad == 0, "%d refused, %d read wrong", refused, bad);
	CHECK(file_size(fd) > (off_t) 100 << 20, "the file was never truncated (%lld bytes)",
		  (long long) file_size(fd));
	CHECK(fstat(fd, &st) == 0 && st.st_blocks * 512 < (off_t) 80 << 20,
		  "read space given back: %lld bytes allocated", (long long) st.st_blocks * 512);
	CHECK(!packet_ring_pressed(&r), "a small backlog is not pressure");
	packet_ring_destroy(&r);
	close(fd);
}

typedef struct Race
{
	PacketRing	ring;
	uint32_t	sent;
	uint32_t	dropped;
} Race;

static void *
producer(void *arg)
{
	Race	   *rc = arg;
	uint8_t		buf[1400];

	for (uint32_t i = 0; i < 200000; i++)
	{
		uint32_t	len = 64 + i % 1300;

		fill(buf, len, rc->sent);
		if (packet_ring_push(&rc->ring, buf, len, &from4, rc->sent))
			rc->sent++;
		else
			rc->dropped++;
	}
	packet_ring_close(&rc->ring);
	return NULL;
}

static void
test_ring_threads(bool overflow)
{
	Race		rc = {0};
	pthread_t	t;
	uint32_t	got = 0;
	int			bad = 0,
				fd = -1;

	packet_ring_init(&rc.ring, 64 * 1024);
	if (overflow)
	{
		fd = overflow_file();
		packet_ring_set_overflow(&rc.ring, fd, UINT64_C(1) << 32);
	}
	pthread_create(&t, NULL, producer, &rc);
	while (!packet_ring_finished(&rc.ring))
	{
		const Packet *p = packet_ring_peek(&rc.ring, 100);

		if (p == NULL)
			continue;
		bad += p->received_ms != got || !check_payload(p, got);
		got++;
		packet_ring_release(&rc.ring, p);
	}
	pthread_join(t, NULL);
	CHECK(bad == 0, "%d records wrong", bad);
	CHECK(got == rc.sent, "received %u, sent %u (dropped %u)", got, rc.sent, rc.dropped);
	CHECK(!overflow || rc.dropped == 0, "%u dropped despite the overflow file", rc.dropped);
	packet_ring_destroy(&rc.ring);
	if (fd >= 0)
		close(fd);
}

static void
test_ptr_queue(void)
{
	PtrQueue	q;
	int			items[5];
	bool		closed;

	ptr_queue_init(&q, 3);
	CHECK(ptr_queue_try_push(&q, &items[0]) && ptr_queue_try_push(&q, &items[1]) &&
		  ptr_queue_try_push(&q, &items[2]), "push up to capacity");
	CHECK(!ptr_queue_try_push(&q, &items[3]), "push beyond capacity refused");
	CHECK(ptr_queue_count(&q) == 3, "count");
	CHECK(ptr_queue_pop(&q, 0, &closed) == &items[0] && !closed, "fifo 0");
	CHECK(ptr_queue_try_push(&q, &items[3]), "room again after a pop");
	CHECK(ptr_queue_pop(&q, 0, &closed) == &items[1], "fifo 1");
	ptr_queue_close(&q);
	CHECK(!ptr_queue_try_push(&q, &items[4]), "closed queue refuses");
	CHECK(ptr_queue_pop(&q, 0, &closed) == &items[2] && !closed, "drains after close");
	CHECK(ptr_queue_pop(&q, 0, &closed) == &items[3] && !closed, "drains after close");
	CHECK(ptr_queue_pop(&q, 0, &closed) == NULL && closed, "closed and empty");
	ptr_queue_destroy(&q);
}

int
main(void)
{
	test_ring_basic();
	test_ring_wrap();
	test_ring_threads(false);
	test_ring_threads(true);
	test_overflow();
	test_overflow_long();
	test_ptr_queue();
	return unit_report("queue_test");
}
