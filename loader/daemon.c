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
	s->flow_window_past = d->cfg.flow_window_past;
	s->flow_window_future = d->cfg.flow_window_future;
	pthread_mutex_unlock(&d->cfg_lock);
}

/*
 * The datagram queue's overflow file, spool_dir/.overflow: emptied at start
 * (what a crash left there was never decoded, and its order relative to a
 * new stream's templates is unknown).  It is opened without following a
 * symbolic link and must be a regular file of ours: were spool_dir
 * writable by others, a link planted there would make us truncate and
 * overwrite its target.
 */
static int
open_overflow(Daemon *d, const Config *cfg)
{
	struct stat st;
	int			fd;

	fd = openat(d->spool.dirfd, ".overflow", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 && errno == ELOOP)
	{
		log_error("the queue overflow file %s/.overflow is a symbolic link; refusing to follow it "
				  "(remove it, and make %s writable by nfpgd only)", cfg->spool_dir, cfg->spool_dir);
		return -1;
	}
	if (fd < 0 || fstat(fd, &st) != 0)
	{
		log_error("cannot open the queue overflow file %s/.overflow: %s", cfg->spool_dir, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || st.st_nlink != 1)
	{
		log_error("the queue overflow file %s/.overflow is not a regular file of nfpgd's own "
				  "(or has other links); refusing to use it", cfg->spool_dir);
		close(fd);
		return -1;
	}
	if (st.st_size > 0)
		log_warning("discarding %lld bytes of undecoded datagrams left in %s/.overflow",
					(long long) st.st_size, cfg->spool_dir);
	if (ftruncate(fd, 0) != 0 ||
		packet_ring_set_overflow(&d->ring, fd, (uint64_t) cfg->queue_overflow_bytes) < 0)
	{
		log_error("cannot use the queue overflow file %s/.overflow: %s", cfg->spool_dir, strerror(errno));
		close(fd);
		return -1;
	}
	return 0;
}

/*
 * spool_dir/quarantine: batches of flows outside the first_seen window.
 * Like the spool, but never replayed; a symbolic link there is refused.
 */
static int
open_quarantine(Daemon *d, const Config *cfg)
{
	char		path[4096],
				err[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s/quarantine", cfg->spool_dir);
	if (lstat(path, &st) == 0 && !S_ISDIR(st.st_mode))
	{
		log_error("%s is not a directory (a symbolic link?); refusing to use it", path);
		return -1;
	}
	if (spool_open(&d->quarantine, path, err, sizeof(err)) < 0)
	{
		log_error("%s", err);
		return -1;
	}
	spool_set_limits(&d->quarantine, cfg->quarantine_max_bytes, cfg->spool_compression);
	return 0;
}

/* A spool directory others may write to is where links get planted. */
static void
check_spool_dir(const Config *cfg)
{
	struct stat st;

	if (stat(cfg->spool_dir, &st) == 0 &&
		((st.st_mode & (S_IWGRP | S_IWOTH)) || st.st_uid != geteuid()))
		log_warning("spool directory %s is writable by other users or not owned by nfpgd; "
					"make it nfpgd's own, mode 0700", cfg->spool_dir);
}

/*
 * Everything that can fail for a configuration reason happens here, before
 * any thread starts: sockets, spool directory, anonymization key.
 */
int
daemon_init(Daemon *d, const Config *cfg)
{
	char		err[512];

	AllowList  *allow;

	pthread_mutex_init(&d->cfg_lock, NULL);
	pthread_mutex_init(&d->replay_lock, NULL);
	pthread_mutex_init(&d->allow_lock, NULL);
	exporter_reports_init(&d->reports);
	sources_init(&d->sources);
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
	check_spool_dir(cfg);
	if (cfg->queue_overflow_bytes > 0 && open_overflow(d, cfg) < 0)
		return -1;
	if (open_quarantine(d, cfg) < 0)
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
	if (receiver_allow_build(d, cfg->allow_exporters, &allow, err, sizeof(err)) < 0)
	{
		log_error("%s", err);
		return -1;
	}
	receiver_allow_install(d, allow, false);
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
	{
		close(d->listeners[i].fd);
		allow_list_free(&d->listeners[i].allow);
	}
	receiver_allow_free(d, d->allow_pending);
	if (d->ring.ov_fd >= 0)
		close(d->ring.ov_fd);
	anonymizer_free(d->anonymizer);
	spool_close(&d->spool);
	spool_close(&d->quarantine);
	free(writer_threads);
	free(writer_starts);
}
