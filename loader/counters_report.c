/*-------------------------------------------------------------------------
 *
 * counters_report.c
 *		nfpgd's counters into nfpg.collector_counters, for operators to
 *		read in nfpg.collector_stats.
 *
 * Writer 0 calls counters_report() every exporter_interval and once more
 * at exit.  One transaction carries the totals of this run
 * (nfpg.collector_report: datagrams, drops, rejects, the first_seen window,
 * spool and queue figures) and the per-address counts of sources.c
 * (nfpg.collector_report_source).  Every figure is the count since nfpgd
 * started, sent whole: a failed report is simply superseded by the next
 * one, and the database adds the runs up (17_counters.sql).  The run is
 * identified by the instance name and the start time.  All values travel
 * as parameters.
 *
 *-------------------------------------------------------------------------
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "daemon.h"

#define TOTAL_PARAMS	22
#define SOURCE_PARAMS	7
#define NUM_LEN			24

static void
format_boot(int64_t ms, char *buf, size_t len)
{
	time_t		secs = (time_t) (ms / 1000);
	struct tm	tm;
	size_t		n;

	gmtime_r(&secs, &tm);
	n = strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%03d+00", (int) (ms % 1000));
}

static bool
run(PGconn *conn, const char *sql, int n, const char *const *params, ExecStatusType expect,
	char *err, size_t errlen)
{
	PGresult   *res = PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);
	bool		ok = PQresultStatus(res) == expect;

	if (!ok)
	{
		snprintf(err, errlen, "%s", PQresultErrorMessage(res));
		err[strcspn(err, "\n")] = '\0';
	}
	PQclear(res);
	return ok;
}

static bool
report_totals(Daemon *d, PGconn *conn, const char *boot, char *err, size_t errlen)
{
	Stats	   *st = &d->stats;
	uint64_t	files,
				bytes,
				qfiles,
				qbytes;
	uint64_t	v[TOTAL_PARAMS - 2];
	char		num[TOTAL_PARAMS - 2][NUM_LEN];
	const char *params[TOTAL_PARAMS] = {d->instance, boot};

	spool_usage(&d->spool, &files, &bytes);
	spool_usage(&d->quarantine, &qfiles, &qbytes);
	v[0] = atomic_load(&st->rx_packets);
	v[1] = atomic_load(&st->flows);
	v[2] = atomic_load(&st->denied);
	v[3] = atomic_load(&st->rejected);
	v[4] = atomic_load(&st->rx_queue_drops);
	v[5] = atomic_load(&st->rx_socket_drops);
	v[6] = atomic_load(&st->out_of_window);
	v[7] = atomic_load(&st->db_flows);
	v[8] = atomic_load(&st->spooled_flows);
	v[9] = atomic_load(&st->replayed_flows);
	v[10] = atomic_load(&st->lost_flows);
	v[11] = atomic_load(&st->quarantined);
	v[12] = atomic_load(&st->duplicate_batches);
	v[13] = packet_ring_used(&d->ring);
	v[14] = ptr_queue_count(&d->batches);
	v[15] = files;
	v[16] = bytes;
	v[17] = qfiles;
	v[18] = qbytes;
	v[19] = (uint64_t) atomic_load(&st->db_connected);
	for (int i = 0; i < TOTAL_PARAMS - 2; i++)
	{
		snprintf(num[i], NUM_LEN, "%llu", (unsigned long long) v[i]);
		params[i + 2] = num[i];
	}
	return run(conn, "SELECT nfpg.collector_report($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, "
			   "$12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)",
			   TOTAL_PARAMS, params, PGRES_TUPLES_OK, err, errlen);
}

static bool
report_sources(Daemon *d, PGconn *conn, const char *boot, char *err, size_t errlen)
{
	static SourceStats items[SOURCES_MAX];	/* writer 0 only */
	int			n = sources_snapshot(&d->sources, items, SOURCES_MAX);

	for (int i = 0; i < n; i++)
	{
		char		addr[INET6_ADDRSTRLEN],
					num[SRC_NCOUNTERS][NUM_LEN];
		const char *params[SOURCE_PARAMS] = {d->instance, boot, addr};

		inet_ntop(items[i].addr.family == 6 ? AF_INET6 : AF_INET, items[i].addr.addr,
				  addr, sizeof(addr));
		for (int c = 0; c < SRC_NCOUNTERS; c++)
		{
			snprintf(num[c], NUM_LEN, "%llu", (unsigned long long) items[i].count[c]);
			params[3 + c] = num[c];
		}
		if (!run(conn, "SELECT nfpg.collector_report_source($1, $2, $3, $4, $5, $6, $7)",
				 SOURCE_PARAMS, params, PGRES_TUPLES_OK, err, errlen))
			return false;
	}
	return true;
}

/* One report in one transaction; false with a message if it failed. */
bool
counters_report(Daemon *d, PGconn *conn, char *err, size_t errlen)
{
	char		boot[40];
	bool		ok;

	format_boot(d->boot_ms, boot, sizeof(boot));
	if (!run(conn, "BEGIN", 0, NULL, PGRES_COMMAND_OK, err, errlen))
		return false;
	ok = report_totals(d, conn, boot, err, errlen) &&
		report_sources(d, conn, boot, err, errlen) &&
		run(conn, "COMMIT", 0, NULL, PGRES_COMMAND_OK, err, errlen);
	if (!ok)
		PQclear(PQexec(conn, "ROLLBACK"));
	return ok;
}
