/*-------------------------------------------------------------------------
 *
 * daemon.h
 *		What nfpgd's threads share: settings, queues, spool, counters.
 *
 * Threads and what they own:
 *	  receiver	the UDP sockets; pushes datagrams into the packet ring
 *	  batcher	the ExporterTable (decoder state); turns datagrams into
 *				batches of encoded rows and pushes them to the batch queue
 *	  writers	one database connection each; COPY batches, spool what the
 *				database does not take, replay the spool, report exporters
 *	  main		signals (SIGHUP reload, SIGTERM/SIGINT stop), statistics
 *
 * No thread ever waits for a slower one: a full ring drops datagrams
 * (counted), a full batch queue sends batches to the spool.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NFPG_DAEMON_H
#define NFPG_DAEMON_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "allow.h"
#include "config.h"
#include "decode.h"
#include "queue.h"
#include "sources.h"
#include "spool.h"

typedef atomic_uint_fast64_t Counter;

typedef struct Stats
{
	Counter		rx_packets;		/* datagrams received */
	Counter		rx_bytes;
	Counter		rx_queue_drops; /* datagrams dropped: ring full */
	Counter		rx_socket_drops;	/* datagrams the kernel dropped (SO_RXQ_OVFL) */
	Counter		rejected;		/* datagrams the decoders refused */
	Counter		denied;			/* datagrams from sources outside allow_exporters */
	Counter		out_of_window;	/* flows outside the first_seen window */
	Counter		flows;			/* flows decoded */
	Counter		db_flows;		/* flows committed directly */
	Counter		db_batches;
	Counter		spooled_flows;	/* flows written to the spool */
	Counter		spooled_batches;
	Counter		replayed_flows; /* flows committed from the spool */
	Counter		replayed_batches;
	Counter		duplicate_batches;	/* batches found already loaded */
	Counter		lost_flows;		/* flows neither committed nor spooled */
	Counter		quarantined;	/* spool files moved to failed/ */
	atomic_int	db_connected;	/* writers with a working connection */
} Stats;

/* Pending per-exporter deltas, merged until a writer reports them. */
typedef struct ExporterReports
{
	pthread_mutex_t lock;
	ExporterStats *items;
	int			n;
	int			cap;
} ExporterReports;

typedef struct Listener
{
	int			fd;
	char		name[80];
	char		spec[64];		/* the listen entry it was opened for */
	unsigned	port;
	uint32_t	last_overflow;	/* SO_RXQ_OVFL counter last seen */
	AllowList	allow;			/* sources it accepts; owned by the receiver */
} Listener;

typedef struct Daemon
{
	pthread_mutex_t cfg_lock;
	Config		cfg;			/* current settings; read under cfg_lock */

	PacketRing	ring;
	PtrQueue	batches;
	Spool		spool;
	Spool		quarantine;		/* spool_dir/quarantine: out-of-window flows, never replayed */
	pthread_mutex_t replay_lock;	/* one writer replays the spool at a time */
	Stats		stats;
	SourceTable sources;		/* per source address: denied, dropped, rejected ... */
	ExporterReports reports;

	Listener   *listeners;
	int			n_listeners;
	pthread_mutex_t allow_lock;
	AllowList  *allow_pending;	/* new lists from a reload, for the receiver */
	atomic_uint allow_generation;

	char		instance[64];
	int64_t		boot_ms;

	atomic_bool stop_receiving; /* SIGTERM: receiver finishes, the rest drain */
	atomic_bool fast_exit;		/* second SIGTERM: spool instead of COPY */
	atomic_int	running_writers;
	struct Anonymizer *anonymizer;	/* Crypto-PAn state, or NULL */
} Daemon;

/* What the writers and the batcher read from the settings at a time. */
typedef struct Settings
{
	char		conninfo[2048];
	int			batch_flows;
	int			flush_interval_ms;
	int			retry_interval;
	int			statement_timeout;
	int			exporter_interval;
	int			partition_future_limit;
	int			batch_log_keep;
	int			flow_window_past;
	int			flow_window_future;
} Settings;

extern int	daemon_init(Daemon *d, const Config *cfg);
extern int	daemon_start(Daemon *d, int writers);
extern void daemon_stop(Daemon *d);
extern bool daemon_stopped(Daemon *d);
extern void daemon_join(Daemon *d);
extern void daemon_settings(Daemon *d, Settings *s);

extern int64_t now_ms(void);
extern int64_t mono_ms(void);

typedef struct WriterStart
{
	Daemon	   *d;
	int			index;
} WriterStart;

extern int	receiver_open(Daemon *d, const char *listen, int64_t rcvbuf);
extern int	receiver_allow_build(Daemon *d, const char *text, AllowList **out,
								 char *err, size_t errlen);
extern void receiver_allow_install(Daemon *d, AllowList *lists, bool running);
extern void receiver_allow_free(Daemon *d, AllowList *lists);
extern void *receiver_main(void *arg);
extern void *batcher_main(void *arg);
extern void *writer_main(void *arg);

extern void exporter_reports_init(ExporterReports *r);
extern void exporter_reports_add(ExporterReports *r, const ExporterStats *s);
extern int	exporter_reports_take(ExporterReports *r, ExporterStats **out);
extern void exporter_reports_return(ExporterReports *r, ExporterStats *items, int from, int n);

extern void spool_batch(Daemon *d, Batch *b);

/* counters_report.c: the counters to nfpg.collector_counters (writer 0) */
struct pg_conn;
extern bool counters_report(Daemon *d, struct pg_conn *conn, char *err, size_t errlen);

#endif							/* NFPG_DAEMON_H */
