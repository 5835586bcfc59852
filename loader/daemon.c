/*-------------------------------------------------------------------------
 *
 * daemon.c
 *		Starting and stopping nfpgd's threads, and what they share.
 *
 * Stopping is ordered so that nothing received is lost: the receiver
 * stops and drains its sockets, then closes the packet ring; the batcher
 * decodes what is left, hands over its last batch and closes the batch
 * queue; the writers COPY (or spool) every batch still queued and exit.
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "anonymize.h"
#include "daemon.h"
#include "log.h"

static pthread_t receiver_thread,
			batcher_thread;
static pthread_t *writer_threads;
static WriterStart *writer_starts;
static int	n_writers;

int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
daemon_settings(Daemon *d, Settings *s)
{
	pthread_mutex_lock(&d->cfg_lock);
	snprintf(s->conninfo, sizeof(s->conninfo), "%s", d->cfg.conninfo);
	s->batch_flows = d->cfg.batch_flows;
	s->flush_interval_ms = d->cfg.flush_interval_ms;
	s->retry_interval = d->cfg.retry_interval;
	s->statement_timeout = d->cfg.statement_timeout;
	s->exporter_interval = d->cfg.exporter_interval;
	s->partition_future_limit = d->cfg.partition_future_limit;
	s->batch_log_keep = d->cfg.batch_log_keep;
	pthread_mutex_unlock(&d->cfg_lock);
}

/*
 * The datagram queue's overflow file, spool_dir/.overflow: emptied at start
 * (what a crash left there was never decoded, and its order relative to a
 * new stream's templates is unknown).
 */
static int
open_overflow(Daemon *d, const Config *cfg)
{
	char		path[4096];
	struct stat st;
	int			fd;

	snprintf(path, sizeof(path), "%s/.overflow", cfg->spool_dir);
	if (stat(path, &st) == 0 && st.st_size > 0)
		log_warning("discarding %lld bytes of undecoded datagrams left in %s",
					(long long) st.st_size, path);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || packet_ring_set_overflow(&d->ring, fd, (uint64_t) cfg->queue_overflow_bytes) < 0)
	{
		log_error("cannot open the queue overflow file %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Everything that can fail for a configuration reason happens here, before
 * any thread starts: sockets, spool directory, anonymization key.
 */
int
daemon_init(Daemon *d, const Config *cfg)
{
	char		err[512];

	pthread_mutex_init(&d->cfg_lock, NULL);
	pthread_mutex_init(&d->replay_lock, NULL);
	exporter_reports_init(&d->reports);
	d->boot_ms = now_ms();
	if (cfg->instance[0])
		snprintf(d->instance, sizeof(d->instance), "%s", cfg->instance);
	else if (gethostname(d->instance, sizeof(d->instance)) != 0)
		snprintf(d->instance, sizeof(d->instance), "nfpgd");

	if (packet_ring_init(&d->ring, (size_t) cfg->queue_bytes) < 0 ||
		ptr_queue_init(&d->batches, cfg->batch_queue) < 0)
	{
		log_error("out of memory for queue_size %lld", (long long) cfg->queue_bytes);
		return -1;
	}
	if (spool_open(&d->spool, cfg->spool_dir, err, sizeof(err)) < 0)
	{
		log_error("%s", err);
		return -1;
	}
	spool_set_limits(&d->spool, cfg->spool_max_bytes, cfg->spool_compression);
	if (cfg->queue_overflow_bytes > 0 && open_overflow(d, cfg) < 0)
		return -1;
	if (cfg->anonymize_key_file[0])
	{
		d->anonymizer = anonymizer_open(cfg->anonymize_key_file, err, sizeof(err));
		if (d->anonymizer == NULL)
		{
			log_error("anonymization: %s", err);
			return -1;
		}
		log_info("anonymizing addresses with Crypto-PAn");
	}
	if (receiver_open(d, cfg->listen, cfg->rcvbuf) < 0)
		return -1;
	return 0;
}

int
daemon_start(Daemon *d, int writers)
{
	n_writers = writers;
	writer_threads = calloc(writers, sizeof(pthread_t));
	writer_starts = calloc(writers, sizeof(WriterStart));
	atomic_store(&d->running_writers, writers);
	for (int i = 0; i < writers; i++)
	{
		writer_starts[i].d = d;
		writer_starts[i].index = i;
		if (pthread_create(&writer_threads[i], NULL, writer_main, &writer_starts[i]) != 0)
			return -1;
	}
	if (pthread_create(&batcher_thread, NULL, batcher_main, d) != 0 ||
		pthread_create(&receiver_thread, NULL, receiver_main, d) != 0)
		return -1;
	for (int i = 0; i < d->n_listeners; i++)
		log_info("listening on %s", d->listeners[i].name);
	return 0;
}

/* Begin the orderly stop; the threads finish on their own. */
void
daemon_stop(Daemon *d)
{
	atomic_store(&d->stop_receiving, true);
}

bool
daemon_stopped(Daemon *d)
{
	return atomic_load(&d->running_writers) == 0;
}

void
daemon_join(Daemon *d)
{
	pthread_join(receiver_thread, NULL);
	pthread_join(batcher_thread, NULL);
	for (int i = 0; i < n_writers; i++)
		pthread_join(writer_threads[i], NULL);
	for (int i = 0; i < d->n_listeners; i++)
		close(d->listeners[i].fd);
	if (d->ring.ov_fd >= 0)
		close(d->ring.ov_fd);
	anonymizer_free(d->anonymizer);
	spool_close(&d->spool);
	free(writer_threads);
	free(writer_starts);
}
