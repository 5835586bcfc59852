/*-------------------------------------------------------------------------
 *
 * batcher.c
 *		The decoding thread: datagrams in, batches of COPY rows out.
 *
 * It owns the decoders' ExporterTable, so templates and sequence numbers
 * need no locking.  Each datagram is decoded in place in the packet ring;
 * every flow is (optionally anonymized and) encoded straight into the
 * current batch.  A batch is handed to the writers when it holds
 * batch_flows flows or is flush_interval old.
 *
 * If the writers are behind and the batch queue is full, the batcher waits
 * for room while the datagram queue (ring, then overflow file) is less than
 * 3/4 full: datagrams (about 46 bytes per flow) are the cheapest place to
 * keep a backlog, and bzip2 is far slower than COPY, so spooling a healthy
 * but busy database's backlog would only slow it down.  Past that point
 * batches go to the spool, so the receiver does not drop for the
 * database's sake.
 *
 *-------------------------------------------------------------------------
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "anonymize.h"
#include "daemon.h"
#include "log.h"

/* A row is about 330 bytes in binary COPY form. */
#define ROW_ESTIMATE	330

typedef struct Batcher
{
	Daemon	   *d;
	Settings	set;
	Batch	   *cur;
	Batch	   *quar;			/* out-of-window flows */
	uint64_t	seq;
	uint64_t	flows;			/* decoded, not yet added to the shared counter */
	bool		queue_full_logged;
	bool		window_logged;
	bool		quarantine_failed;	/* logged; again only after a success */
} Batcher;

static Batch *
new_batch(Batcher *bt)
{
	size_t		cap = (size_t) bt->set.batch_flows * ROW_ESTIMATE;
	Batch	   *b = batch_new(bt->d->instance, bt->d->boot_ms, bt->seq++,
							  cap > (64u << 20) ? (64u << 20) : cap);

	b->created_ms = mono_ms();
	return b;
}

/* Is first_seen outside the window around the flow's arrival? */
static bool
out_of_window(const Batcher *bt, const FlowRec *r)
{
	return (bt->set.flow_window_past > 0 &&
			r->first_ms < r->received_ms - (int64_t) bt->set.flow_window_past * 1000) ||
		(bt->set.flow_window_future > 0 &&
		 r->first_ms > r->received_ms + (int64_t) bt->set.flow_window_future * 1000);
}

/* Keep a batch of out-of-window flows in spool_dir/quarantine. */
static void
quarantine_flush(Batcher *bt)
{
	Batch	   *b = bt->quar;
	char		err[512];

	bt->quar = NULL;
	if (spool_write(&bt->d->quarantine, b, err, sizeof(err)) == SPOOL_OK)
		bt->quarantine_failed = false;
	else
	{
		atomic_fetch_add(&bt->d->stats.lost_flows, b->rows.rows);
		if (!bt->quarantine_failed)
			log_error("flows outside the first_seen window are lost (counted) until the "
					  "quarantine takes them again: %s", err);
		bt->quarantine_failed = true;
	}
	batch_free(b);
}

static void
quarantine_flow(Batcher *bt, const FlowRec *rec)
{
	if (!bt->window_logged)
	{
		char		addr[INET6_ADDRSTRLEN];
		time_t		secs = (time_t) (rec->first_ms / 1000);
		struct tm	tm;
		char		when[32];

		inet_ntop(rec->exporter.family == 6 ? AF_INET6 : AF_INET, rec->exporter.addr,
				  addr, sizeof(addr));
		gmtime_r(&secs, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
		log_warning("a flow from %s starts at %s UTC, outside the first_seen window: such flows "
					"go to %s, not to the database (counted in nfpg.collector_stats.out_of_window; "
					"logged once)", addr, when, bt->d->quarantine.dir);
		bt->window_logged = true;
	}
	atomic_fetch_add(&bt->d->stats.out_of_window, 1);
	sources_add(&bt->d->sources, &rec->exporter, SRC_OUT_OF_WINDOW, 1);
	if (bt->quar == NULL)
		bt->quar = new_batch(bt);
	batch_add(bt->quar, rec);
	if (bt->quar->rows.rows >= (uint64_t) bt->set.batch_flows)
		quarantine_flush(bt);
}

static void
emit_flow(void *arg, const FlowRec *rec)
{
	Batcher    *bt = arg;
	FlowRec		anon;

	bt->flows++;
	if (bt->d->anonymizer)
	{
		anon = *rec;
		anonymize_flow(bt->d->anonymizer, &anon);
		rec = &anon;
	}
	if (out_of_window(bt, rec))
	{
		quarantine_flow(bt, rec);
		return;
	}
	if (bt->cur == NULL)
		bt->cur = new_batch(bt);
	batch_add(bt->cur, rec);
}

static void
hand_off(Batcher *bt)
{
	Batch	   *b = bt->cur;

	bt->cur = NULL;
	while (!atomic_load(&bt->d->fast_exit))
	{
		if (ptr_queue_push_wait(&bt->d->batches, b, 20))
		{
			bt->queue_full_logged = false;
			return;
		}
		if (packet_ring_pressed(&bt->d->ring))
			break;
	}
	if (!bt->queue_full_logged)
	{
		log_warning("writers are behind (batch queue full): spooling batches");
		bt->queue_full_logged = true;
	}
	spool_batch(bt->d, b);
}

static void
report_exporter(void *arg, const ExporterStats *s)
{
	exporter_reports_add(&((Daemon *) arg)->reports, s);
}

static void
decode_one(Batcher *bt, ExporterTable *table, const Packet *p)
{
	DecodeResult r = decode_datagram(table, p->data, p->len, &p->from, p->received_ms,
									 emit_flow, bt);

	if (r != DECODE_OK)
	{
		atomic_fetch_add(&bt->d->stats.rejected, 1);
		sources_add(&bt->d->sources, &p->from, SRC_REJECTED, 1);
	}
	if (bt->cur && bt->cur->rows.rows >= (uint64_t) bt->set.batch_flows)
		hand_off(bt);
}

void *
batcher_main(void *arg)
{
	Batcher		bt = {.d = arg};
	Daemon	   *d = bt.d;
	DecodeOptions opts = {0};
	ExporterTable *table;
	int64_t		next_settings = 0,
				next_drain;

	pthread_mutex_lock(&d->cfg_lock);
	opts.upscale = d->cfg.sampling_upscale;
	opts.default_sampling = d->cfg.default_sampling;
	pthread_mutex_unlock(&d->cfg_lock);
	table = exporter_table_new(&opts);
	daemon_settings(d, &bt.set);
	next_drain = mono_ms() + bt.set.exporter_interval * 1000;

	for (;;)
	{
		const Packet *p = packet_ring_peek(&d->ring, 50);
		int64_t		now = mono_ms();

		if (p)
		{
			decode_one(&bt, table, p);
			packet_ring_release(&d->ring, p);
		}
		if (bt.flows && (p == NULL || bt.flows >= 4096))
		{
			atomic_fetch_add(&d->stats.flows, bt.flows);
			bt.flows = 0;
		}
		if (bt.cur && now - bt.cur->created_ms >= bt.set.flush_interval_ms)
			hand_off(&bt);
		if (bt.quar && now - bt.quar->created_ms >= bt.set.flush_interval_ms)
			quarantine_flush(&bt);
		if (now >= next_drain)
		{
			exporter_table_drain(table, report_exporter, d);
			next_drain = now + bt.set.exporter_interval * 1000;
		}
		if (now >= next_settings)
		{
			daemon_settings(d, &bt.set);
			next_settings = now + 1000;
		}
		if (p == NULL && packet_ring_finished(&d->ring))
			break;
	}

	/* Stopping: the ring is empty and closed; flush what is left. */
	atomic_fetch_add(&d->stats.flows, bt.flows);
	if (bt.cur)
		hand_off(&bt);
	if (bt.quar)
		quarantine_flush(&bt);
	exporter_table_drain(table, report_exporter, d);
	exporter_table_free(table);
	ptr_queue_close(&d->batches);
	return NULL;
}
