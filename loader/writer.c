/*-------------------------------------------------------------------------
 *
 * writer.c
 *		The writer threads: batches into nfpg.flows with binary COPY,
 *		into the spool when the database cannot take them, and back out of
 *		the spool when it can.
 *
 * Exactly once.  Every batch is loaded in one transaction:
 *
 *	  BEGIN;
 *	  SELECT nfpg.loader_batch_claim($id, $rows);	-- false: already loaded
 *	  SELECT nfpg.loader_target($first, $last);		-- the batch's partition
 *	  COPY <that partition, or nfpg.flows> (...) FROM STDIN (FORMAT binary);
 *	  COMMIT;
 *
 * so the batch id and its rows commit together or not at all.  Any failure
 * (connection lost, server restarting, disk full, statement_timeout because
 * the server is slow, even a COMMIT whose outcome is unknown) sends the
 * batch to the spool; replaying it later either loads it or finds its id
 * claimed and just deletes the file.  A spool file is deleted only after
 * its transaction committed or was found committed, so a loader killed at
 * any point replays at most what is not in the table yet.
 *
 * Data errors (SQLSTATE classes 22 and 23) would fail forever: such a batch
 * is moved to the spool's failed/ directory and logged instead.
 *
 * The role needs only INSERT on nfpg.flows and its partitions and EXECUTE
 * on the loader functions (membership in nfpg_loader); it cannot read flows.  Partitions
 * are asked for, per hour the batch touches, with
 * nfpg.ensure_partitions($1, $2) before the COPY; all values travel as
 * parameters, none is pasted into SQL.
 *
 * Writer 0 also reports exporter counters and nfpgd's own counters
 * (counters_report.c), and expires old batch ids.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <libpq-fe.h>

#include "copy_send.h"
#include "daemon.h"
#include "log.h"

#define ENSURED_CACHE	64
#define TARGET_LEN		COPY_TARGET_LEN

typedef enum Outcome
{
	LOADED,						/* committed now */
	ALREADY_LOADED,				/* its id was committed before */
	RETRY_LATER,				/* database unavailable / failed: keep the batch */
	REJECTED					/* the data itself is refused */
} Outcome;

typedef struct Writer
{
	Daemon	   *d;
	int			index;
	PGconn	   *conn;
	Settings	set;
	char		conninfo[2048]; /* what conn was opened with */
	int64_t		next_connect;	/* monotonic ms */
	int64_t		next_report;
	int64_t		next_expire;
	int64_t		next_rescan;
	int64_t		ensured[ENSURED_CACHE]; /* hour starts already ensured */
	int			n_ensured;
	bool		outage_logged;
	bool		counters_failed;	/* the last counters report failed (logged) */
	char		error[512];
	char		sqlstate[6];	/* of the last error, "" if none */
} Writer;

static void
remember_error(Writer *w, const char *what, const PGresult *res)
{
	copy_error(w->conn, res, what, w->error, sizeof(w->error), w->sqlstate);
}

static void
disconnect(Writer *w)
{
	if (w->conn == NULL)
		return;
	PQfinish(w->conn);
	w->conn = NULL;
	atomic_fetch_sub(&w->d->stats.db_connected, 1);
}

/* Give up on the connection for retry_interval seconds. */
static void
mark_down(Writer *w)
{
	disconnect(w);
	w->next_connect = mono_ms() + w->set.retry_interval * 1000;
	if (!w->outage_logged)
	{
		log_warning("writer %d: database unavailable (%s); spooling to %s", w->index,
					w->error, w->d->spool.dir);
		w->outage_logged = true;
	}
}

/* Run a statement with text parameters; true if it returned `expect`. */
static bool
exec_params(Writer *w, const char *sql, int n, const char *const *values,
			ExecStatusType expect, const char *what, char *out, size_t outlen)
{
	PGresult   *res = PQexecParams(w->conn, sql, n, NULL, values, NULL, NULL, 0);
	bool		ok = PQresultStatus(res) == expect;

	if (!ok)
		remember_error(w, what, res);
	else if (out && PQntuples(res) > 0)
		snprintf(out, outlen, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return ok;
}

static bool
connect_db(Writer *w)
{
	const char *keys[] = {"application_name", "connect_timeout", "dbname", NULL};
	const char *vals[] = {"nfpgd", "10", w->set.conninfo, NULL};
	char		timeout[32];
	const char *param[1] = {timeout};

	/* A reload that changed conninfo makes the writers reconnect. */
	if (w->conn && strcmp(w->conninfo, w->set.conninfo) == 0 && PQstatus(w->conn) == CONNECTION_OK)
		return true;
	disconnect(w);
	if (mono_ms() < w->next_connect)
		return false;
	if (w->set.conninfo[0] == '\0')
		keys[2] = NULL;			/* everything from PG* variables */
	w->conn = PQconnectdbParams(keys, vals, 1);
	atomic_fetch_add(&w->d->stats.db_connected, 1);
	memcpy(w->conninfo, w->set.conninfo, sizeof(w->conninfo));
	snprintf(timeout, sizeof(timeout), "%d", w->set.statement_timeout * 1000);
	if (PQstatus(w->conn) != CONNECTION_OK)
	{
		remember_error(w, "connect", NULL);
		mark_down(w);
		return false;
	}
	if (!exec_params(w, "SELECT pg_catalog.set_config('statement_timeout', $1, false)",
					 1, param, PGRES_TUPLES_OK, "set statement_timeout", NULL, 0))
	{
		mark_down(w);
		return false;
	}
	log_msg(w->outage_logged ? LOG_LVL_DEBUG : LOG_LVL_INFO,
			"writer %d: connected to the database", w->index);
	return true;
}

/* A batch went in: if this ends an outage, say so once. */
static void
mark_up(Writer *w)
{
	if (!w->outage_logged)
		return;
	log_info("writer %d: database available again", w->index);
	w->outage_logged = false;
}

static bool
hour_ensured(Writer *w, int64_t hour)
{
	for (int i = 0; i < w->n_ensured && i < ENSURED_CACHE; i++)
		if (w->ensured[i] == hour)
			return true;
	return false;
}

/* Create the partitions for every hour the batch touches, once per hour. */
static bool
ensure_partitions(Writer *w, const Batch *b)
{
	int64_t		limit = now_ms() + (int64_t) w->set.partition_future_limit * 1000;

	for (int i = 0; i < b->n_hours; i++)
	{
		int64_t		hour = b->hours[i];
		char		from[40],
					to[40];
		const char *params[2] = {from, to};

		if (hour > limit || hour_ensured(w, hour))
			continue;
		copy_format_ts(hour, from, sizeof(from));
		copy_format_ts(hour + MS_PER_HOUR - 1, to, sizeof(to));
		if (!exec_params(w, "SELECT nfpg.ensure_partitions($1, $2)", 2, params,
						 PGRES_TUPLES_OK, "ensure_partitions", NULL, 0))
			return false;
		w->ensured[w->n_ensured++ % ENSURED_CACHE] = hour;
	}
	return true;
}

/*
 * The partition that holds every flow of the batch, as the database names
 * it (nfpg.loader_target quotes it), or "" if the batch spans several.
 */
static bool
find_target(Writer *w, const Batch *b, char *target, size_t len)
{
	char		from[40],
				to[40];
	const char *params[2] = {from, to};

	copy_format_ts(b->min_first_ms, from, sizeof(from));
	copy_format_ts(b->max_first_ms, to, sizeof(to));
	target[0] = '\0';
	if (!exec_params(w, "SELECT nfpg.loader_target($1, $2)", 2, params,
					 PGRES_TUPLES_OK, "loader_target", target, len))
		return false;
	/* Goes into the COPY's text: anything but a plain qualified name is ignored. */
	if (target[strspn(target, "abcdefghijklmnopqrstuvwxyz0123456789_.")] != '\0')
		target[0] = '\0';
	return true;
}

static bool
send_copy(Writer *w, const Batch *b, const char *target)
{
	return copy_send(w->conn, target, &b->rows, w->error, sizeof(w->error), w->sqlstate);
}

/* SQLSTATE classes that retrying cannot fix: the rows themselves. */
static bool
is_data_error(const char *sqlstate)
{
	return strncmp(sqlstate, "22", 2) == 0 || strncmp(sqlstate, "23", 2) == 0;
}

/*
 * Load one batch in one transaction (see the file header), into its
 * partition if "direct" and one partition holds it, else into nfpg.flows.
 * Unless the outcome is LOADED or ALREADY_LOADED, the transaction is
 * rolled back or the connection is broken, and w->error says why.
 */
static Outcome
load_batch_into(Writer *w, const Batch *b, bool *direct)
{
	char		rows[24],
				claimed[8] = "",
				target[TARGET_LEN] = "";
	const char *params[2] = {b->id, rows};
	PGresult   *res;

	snprintf(rows, sizeof(rows), "%llu", (unsigned long long) b->rows.rows);
	if (!exec_params(w, "BEGIN", 0, NULL, PGRES_COMMAND_OK, "BEGIN", NULL, 0) ||
		!exec_params(w, "SELECT nfpg.loader_batch_claim($1, $2)", 2, params,
					 PGRES_TUPLES_OK, "loader_batch_claim", claimed, sizeof(claimed)) ||
		(*direct && !find_target(w, b, target, sizeof(target))))
		return RETRY_LATER;
	if (strcmp(claimed, "t") != 0)
	{
		PQclear(PQexec(w->conn, "ROLLBACK"));
		return ALREADY_LOADED;
	}
	*direct = target[0] != '\0';
	if (!send_copy(w, b, *direct ? target : "nfpg.flows"))
	{
		PQclear(PQexec(w->conn, "ROLLBACK"));
		return is_data_error(w->sqlstate) ? REJECTED : RETRY_LATER;
	}
	res = PQexec(w->conn, "COMMIT");
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
	{
		remember_error(w, "COMMIT", res);
		PQclear(res);
		return RETRY_LATER;		/* outcome unknown: the claim decides on replay */
	}
	PQclear(res);
	return LOADED;
}

/*
 * COPY into a partition skips tuple routing and the copy of every row
 * that routing makes (test/bench/copy_bench.sh measures it).  Should the
 * partition refuse the rows, the parent gets the last word.
 */
static Outcome
load_batch(Writer *w, const Batch *b)
{
	bool		direct = true;
	Outcome		o;

	if (!ensure_partitions(w, b))
		return RETRY_LATER;
	o = load_batch_into(w, b, &direct);
	if (o == REJECTED && direct)
	{
		log_warning("batch %s: its partition refused it (%s); loading it through nfpg.flows",
					b->id, w->error);
		direct = false;
		o = load_batch_into(w, b, &direct);
	}
	return o;
}

/* Spool a batch, counting it as spooled or, if even that fails, lost. */
void
spool_batch(Daemon *d, Batch *b)
{
	char		err[512];
	SpoolStatus st = spool_write(&d->spool, b, err, sizeof(err));

	if (st == SPOOL_OK)
	{
		atomic_fetch_add(&d->stats.spooled_batches, 1);
		atomic_fetch_add(&d->stats.spooled_flows, b->rows.rows);
	}
	else
	{
		atomic_fetch_add(&d->stats.lost_flows, b->rows.rows);
		log_error("batch %s: %llu flows lost: %s", b->id,
				  (unsigned long long) b->rows.rows, err);
	}
	batch_free(b);
}

/* A batch the database refuses for its content: keep it aside in failed/. */
static void
quarantine_batch(Writer *w, Batch *b)
{
	char		name[SPOOL_NAME_LEN],
				err[512];

	log_error("batch %s (%llu flows) rejected by the database: %s; moved to %s/failed",
			  b->id, (unsigned long long) b->rows.rows, w->error, w->d->spool.dir);
	snprintf(name, sizeof(name), "%s%s", b->key, SPOOL_SUFFIX);
	if (spool_write(&w->d->spool, b, err, sizeof(err)) != SPOOL_OK ||
		spool_quarantine(&w->d->spool, name) != 0)
	{
		atomic_fetch_add(&w->d->stats.lost_flows, b->rows.rows);
		log_error("batch %s: cannot keep rejected flows: %s", b->id, err);
	}
	else
		atomic_fetch_add(&w->d->stats.quarantined, 1);
	batch_free(b);
}

/* A fresh batch from the batcher: COPY it, or spool it. */
static void
write_batch(Writer *w, Batch *b)
{
	Outcome		o;

	if (atomic_load(&w->d->fast_exit) || !connect_db(w))
	{
		spool_batch(w->d, b);
		return;
	}
	o = load_batch(w, b);
	switch (o)
	{
		case LOADED:
		case ALREADY_LOADED:
			mark_up(w);
			atomic_fetch_add(&w->d->stats.db_batches, 1);
			atomic_fetch_add(&w->d->stats.db_flows, o == LOADED ? b->rows.rows : 0);
			batch_free(b);
			break;
		case RETRY_LATER:
			mark_down(w);
			spool_batch(w->d, b);
			break;
		case REJECTED:
			quarantine_batch(w, b);
			break;
	}
}

/* Replay the oldest spool file; false if there was nothing to do. */
static bool
replay_one(Writer *w)
{
	Spool	   *sp = &w->d->spool;
	char		name[SPOOL_NAME_LEN],
				err[512];
	Batch	   *b;
	Outcome		o;

	if (!spool_oldest(sp, name, sizeof(name)))
		return false;
	b = spool_read(sp, name, err, sizeof(err));
	if (b == NULL)
	{
		log_error("%s; moved to %s/failed", err, sp->dir);
		if (spool_quarantine(sp, name) == 0)
			atomic_fetch_add(&w->d->stats.quarantined, 1);
		return true;
	}
	o = load_batch(w, b);
	switch (o)
	{
		case LOADED:
			mark_up(w);
			atomic_fetch_add(&w->d->stats.replayed_batches, 1);
			atomic_fetch_add(&w->d->stats.replayed_flows, b->rows.rows);
			spool_remove(sp, name);
			break;
		case ALREADY_LOADED:
			mark_up(w);
			log_info("spooled batch %s was already loaded; removing %s", b->id, name);
			atomic_fetch_add(&w->d->stats.duplicate_batches, 1);
			spool_remove(sp, name);
			break;
		case RETRY_LATER:
			mark_down(w);
			break;
		case REJECTED:
			log_error("spooled batch %s rejected by the database: %s; moved to %s/failed",
					  b->id, w->error, sp->dir);
			if (spool_quarantine(sp, name) == 0)
				atomic_fetch_add(&w->d->stats.quarantined, 1);
			break;
	}
	batch_free(b);
	return o != RETRY_LATER;
}

/* One writer at a time replays, oldest file first. */
static bool
maybe_replay(Writer *w)
{
	uint64_t	files,
				bytes;
	bool		did = false;

	spool_usage(&w->d->spool, &files, &bytes);
	if (files == 0 || atomic_load(&w->d->fast_exit) || !connect_db(w))
		return false;
	if (pthread_mutex_trylock(&w->d->replay_lock) != 0)
		return false;
	did = replay_one(w);
	pthread_mutex_unlock(&w->d->replay_lock);
	return did;
}

static void
report_exporters(Writer *w)
{
	ExporterStats *items;
	int			n = exporter_reports_take(&w->d->reports, &items),
				i;

	for (i = 0; i < n && connect_db(w); i++)
	{
		ExporterStats *e = &items[i];
		char		addr[64],
					sid[16],
					ver[8],
					seen[40],
					pk[24],
					fl[24],
					sf[24],
					tm[16],
					sm[16];
		const char *params[9] = {addr, sid, ver, seen, pk, fl, sf, tm, e->sampling ? sm : NULL};

		inet_ntop(e->addr.family == 6 ? AF_INET6 : AF_INET, e->addr.addr, addr, sizeof(addr));
		snprintf(sid, sizeof(sid), "%u", e->source_id);
		snprintf(ver, sizeof(ver), "%u", e->version);
		copy_format_ts(e->last_seen_ms, seen, sizeof(seen));
		snprintf(pk, sizeof(pk), "%llu", (unsigned long long) e->packets);
		snprintf(fl, sizeof(fl), "%llu", (unsigned long long) e->flows);
		snprintf(sf, sizeof(sf), "%llu", (unsigned long long) e->sequence_failures);
		snprintf(tm, sizeof(tm), "%u", e->templates);
		snprintf(sm, sizeof(sm), "%u", e->sampling);
		if (!exec_params(w, "SELECT nfpg.exporter_report($1, $2, $3, $4, $5, $6, $7, $8, $9)",
						 9, params, PGRES_TUPLES_OK, "exporter_report", NULL, 0))
		{
			mark_down(w);
			break;
		}
	}
	if (n > 0)
		exporter_reports_return(&w->d->reports, items, i, n);
	else
		free(items);
}

static void
expire_batch_ids(Writer *w)
{
	char		days[16];
	const char *params[1] = {days};

	snprintf(days, sizeof(days), "%d", w->set.batch_log_keep);
	if (connect_db(w) &&
		!exec_params(w, "SELECT nfpg.loader_batches_expire(pg_catalog.make_interval(days => $1))",
					 1, params, PGRES_TUPLES_OK, "loader_batches_expire", NULL, 0))
		log_warning("writer %d: %s", w->index, w->error);
}

/* nfpgd's counters to nfpg.collector_counters; a failure is logged once. */
static void
report_counters(Writer *w)
{
	char		err[400];

	if (!connect_db(w))
		return;
	if (counters_report(w->d, w->conn, err, sizeof(err)))
	{
		w->counters_failed = false;
		return;
	}
	if (!w->counters_failed)
		log_warning("writer %d: cannot report counters to nfpg.collector_counters: %s",
					w->index, err);
	w->counters_failed = true;
	if (PQstatus(w->conn) != CONNECTION_OK)
	{
		snprintf(w->error, sizeof(w->error), "counters report: %s", err);
		mark_down(w);
	}
}

/* Writer 0's periodic chores. */
static void
chores(Writer *w, bool final)
{
	int64_t		now = mono_ms();

	if (w->index != 0)
		return;
	if (final || now >= w->next_report)
	{
		report_exporters(w);
		report_counters(w);
		w->next_report = now + w->set.exporter_interval * 1000;
	}
	if (!final && now >= w->next_rescan)
	{
		spool_rescan(&w->d->spool);
		w->next_rescan = now + 5000;
	}
	if (!final && now >= w->next_expire)
	{
		expire_batch_ids(w);
		w->next_expire = now + 3600 * 1000;
	}
}

void *
writer_main(void *arg)
{
	WriterStart *start = arg;
	Writer		w = {.d = start->d, .index = start->index};
	int64_t		next_settings = 0;
	bool		closed = false,
				replaying = false;

	daemon_settings(w.d, &w.set);
	w.next_report = mono_ms() + w.set.exporter_interval * 1000;
	while (!closed)
	{
		Batch	   *b = ptr_queue_pop(&w.d->batches, replaying ? 0 : 200, &closed);

		if (mono_ms() >= next_settings)
		{
			daemon_settings(w.d, &w.set);
			next_settings = mono_ms() + 1000;
		}
		if (b)
			write_batch(&w, b);
		if (!closed)
		{
			replaying = maybe_replay(&w);
			chores(&w, false);
		}
	}
	/* writer 0 reports last, so the final counts include every writer's work */
	while (w.index == 0 && atomic_load(&w.d->running_writers) > 1)
	{
		struct timespec pause = {0, 50 * 1000000L};

		nanosleep(&pause, NULL);
	}
	chores(&w, true);
	disconnect(&w);
	atomic_fetch_sub(&w.d->running_writers, 1);
	return NULL;
}
