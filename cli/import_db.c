/*-------------------------------------------------------------------------
 *
 * import_db.c
 *		Loading one nfcapd file in one transaction, the way nfpgd loads a
 *		batch: partitions first, then COPY into the partition that holds
 *		the rows, then the bookkeeping row, then COMMIT.
 *
 *	  (autocommit) SELECT nfpg.ensure_partitions($first, $last);
 *	  BEGIN;
 *	  SELECT * FROM nfpg.import_check($path, $size, $sha256);	-- new?
 *	  SELECT nfpg.loader_target($min, $max);	-- per batch of rows
 *	  COPY <that partition, or nfpg.flows> (...) FROM STDIN (FORMAT binary);
 *	  ...
 *	  SELECT nfpg.exporter_report(...);			-- per exporter of the file
 *	  SELECT nfpg.import_record($path, $size, $sha256, ...);
 *	  COMMIT;
 *
 * The partitions of the file's time range (from its stat record) are made
 * before the transaction, so the DDL commits at once and nfpgd, which may
 * be loading at the same time, never waits on an import for a partition.
 * A flow outside that range (a file without a stat record, or one that
 * lies) gets its partition inside the transaction, as nfpgd would.
 *
 * The SQL functions are nfpgd's (nfpg.ensure_partitions, loader_target,
 * exporter_report) plus the two of 17_import.sql; the COPY is
 * loader/copy_send.c, the rows loader/copybuf.c's encoding.  Every value
 * is a parameter; the only name put into SQL text is the partition name
 * loader_target returned.  The role needs what nfpgd's needs
 * (membership in nfpg_loader).
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>

#include "copy_send.h"
#include "import_db.h"

#define MAX_PREPARE_SPAN	(7 * 24 * MS_PER_HOUR)
#define FUTURE_LIMIT		(24 * MS_PER_HOUR)

static void
remember(ImportDb *db, const char *what, const PGresult *res)
{
	copy_error(db->conn, res, what, db->error, sizeof(db->error), db->sqlstate);
}

/* Run a statement with text parameters; true if it returned `expect`. */
static bool
exec(ImportDb *db, const char *sql, int n, const char *const *values,
	 ExecStatusType expect, const char *what, PGresult **out)
{
	PGresult   *res = PQexecParams(db->conn, sql, n, NULL, values, NULL, NULL, 0);
	bool		ok = PQresultStatus(res) == expect;

	if (!ok)
		remember(db, what, res);
	if (ok && out)
		*out = res;
	else
		PQclear(res);
	return ok;
}

bool
idb_connect(ImportDb *db, const char *conninfo)
{
	const char *keys[] = {"application_name", "dbname", NULL};
	const char *vals[] = {"nfpg-import", conninfo, NULL};

	memset(db, 0, sizeof(*db));
	if (conninfo == NULL || *conninfo == '\0')
		keys[1] = NULL;			/* everything from the PG* environment */
	db->conn = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(db->conn) != CONNECTION_OK)
	{
		remember(db, "connect", NULL);
		return false;
	}
	return true;
}

void
idb_close(ImportDb *db)
{
	if (db->conn)
		PQfinish(db->conn);
	db->conn = NULL;
}

static bool
hour_ensured(ImportDb *db, int64_t hour)
{
	int			n = db->n_ensured < IMPORT_ENSURED_CACHE ? db->n_ensured : IMPORT_ENSURED_CACHE;

	for (int i = 0; i < n; i++)
		if (db->ensured[i] == hour)
			return true;
	return false;
}

static void
note_ensured(ImportDb *db, int64_t hour)
{
	if (!hour_ensured(db, hour))
		db->ensured[db->n_ensured++ % IMPORT_ENSURED_CACHE] = hour;
}

static bool
ensure(ImportDb *db, int64_t from_ms, int64_t to_ms)
{
	char		from[40],
				to[40];
	const char *params[2] = {from, to};

	copy_format_ts(from_ms, from, sizeof(from));
	copy_format_ts(to_ms, to, sizeof(to));
	return exec(db, "SELECT nfpg.ensure_partitions($1, $2)", 2, params, PGRES_TUPLES_OK,
				"ensure_partitions", NULL);
}

bool
idb_prepare_partitions(ImportDb *db, int64_t first_ms, int64_t last_ms)
{
	int64_t		limit = (int64_t) time(NULL) * 1000 + FUTURE_LIMIT;
	int64_t		lo = batch_floor_hour(first_ms),
				hi = batch_floor_hour(last_ms);
	bool		all = true;

	/* a range too wide to trust is left to the per-batch hours */
	if (last_ms < first_ms || last_ms - first_ms > MAX_PREPARE_SPAN || hi > limit)
		return true;
	for (int64_t h = lo; h <= hi; h += MS_PER_HOUR)
		all = all && hour_ensured(db, h);
	if (all)
		return true;
	if (!ensure(db, lo, hi + MS_PER_HOUR - 1))
		return false;
	for (int64_t h = lo; h <= hi; h += MS_PER_HOUR)
		note_ensured(db, h);
	return true;
}

bool
idb_check(ImportDb *db, const char *path, uint64_t size, const uint8_t *sha256,
		  bool in_transaction, ImportCheck *out)
{
	char		sz[24],
				hex[2 + 64 + 1] = "\\x";
	const char *params[3] = {path, sz, hex};
	PGresult   *res = NULL;
	const char *state;

	snprintf(sz, sizeof(sz), "%llu", (unsigned long long) size);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 + 2 * i, 3, "%02x", sha256[i]);
	if (in_transaction && !exec(db, "BEGIN", 0, NULL, PGRES_COMMAND_OK, "BEGIN", NULL))
		return false;
	if (!exec(db, "SELECT state, other_path, other_imported FROM nfpg.import_check($1, $2, $3)",
			  3, params, PGRES_TUPLES_OK, "import_check", &res))
		return false;
	state = PQgetvalue(res, 0, 0);
	out->state = strcmp(state, "imported") == 0 ? IMPORT_DONE :
		strcmp(state, "changed") == 0 ? IMPORT_CHANGED : IMPORT_NEW;
	snprintf(out->other_path, sizeof(out->other_path), "%s", PQgetvalue(res, 0, 1));
	snprintf(out->other_when, sizeof(out->other_when), "%s", PQgetvalue(res, 0, 2));
	PQclear(res);
	return true;
}

/* The partition holding the whole batch, quoted by the database, or "". */
static bool
find_target(ImportDb *db, const Batch *b, char *target, size_t len)
{
	char		from[40],
				to[40];
	const char *params[2] = {from, to};
	PGresult   *res = NULL;

	copy_format_ts(b->min_first_ms, from, sizeof(from));
	copy_format_ts(b->max_first_ms, to, sizeof(to));
	if (!exec(db, "SELECT nfpg.loader_target($1, $2)", 2, params, PGRES_TUPLES_OK,
			  "loader_target", &res))
		return false;
	snprintf(target, len, "%s", PQntuples(res) > 0 ? PQgetvalue(res, 0, 0) : "");
	PQclear(res);
	/* it goes into the COPY's text: anything but a plain qualified name is ignored */
	if (target[strspn(target, "abcdefghijklmnopqrstuvwxyz0123456789_.")] != '\0')
		target[0] = '\0';
	return true;
}

bool
idb_load(ImportDb *db, const Batch *b)
{
	int64_t		limit = (int64_t) time(NULL) * 1000 + FUTURE_LIMIT;
	char		target[COPY_TARGET_LEN];

	if (b->rows.rows == 0)
		return true;
	for (int i = 0; i < b->n_hours; i++)
	{
		if (b->hours[i] > limit || hour_ensured(db, b->hours[i]))
			continue;
		if (!ensure(db, b->hours[i], b->hours[i] + MS_PER_HOUR - 1))
			return false;
		note_ensured(db, b->hours[i]);
	}
	if (!find_target(db, b, target, sizeof(target)))
		return false;
	return copy_send(db->conn, target[0] ? target : "nfpg.flows", &b->rows,
					 db->error, sizeof(db->error), db->sqlstate);
}

bool
idb_exporters(ImportDb *db, const NfcapdReader *r, int64_t seen_ms, const NfAddr *exporter)
{
	for (int i = 0; i < r->n_exporters; i++)
	{
		const NfcapdExporter *e = &r->exporters[i];
		char		addr[64],
					sid[16],
					ver[8],
					seen[40],
					pk[24],
					fl[24],
					sf[24],
					sm[16];
		const char *params[9] = {addr, sid, ver, seen, pk, fl, sf, "0", e->sampling > 1 ? sm : NULL};

		const NfAddr *a = exporter ? exporter : &e->addr;

		if (a->family == 0 || e->version > 0x7fff)
			continue;
		inet_ntop(a->family == 6 ? AF_INET6 : AF_INET, a->addr, addr, sizeof(addr));
		snprintf(sid, sizeof(sid), "%u", e->id);
		snprintf(ver, sizeof(ver), "%u", e->version);
		copy_format_ts(seen_ms, seen, sizeof(seen));
		snprintf(pk, sizeof(pk), "%llu", (unsigned long long) e->packets);
		snprintf(fl, sizeof(fl), "%llu", (unsigned long long) e->flows);
		snprintf(sf, sizeof(sf), "%llu", (unsigned long long) e->sequence_failures);
		snprintf(sm, sizeof(sm), "%u", e->sampling);
		if (!exec(db, "SELECT nfpg.exporter_report($1, $2, $3, $4, $5, $6, $7, $8, $9)",
				  9, params, PGRES_TUPLES_OK, "exporter_report", NULL))
			return false;
	}
	return true;
}

bool
idb_commit(ImportDb *db, const ImportRecord *rec)
{
	char		sz[24],
				hex[2 + 64 + 1] = "\\x",
				fl[24],
				pk[24],
				by[24],
				first[40],
				last[40],
				layout[8];
	bool		times = rec->flows > 0;
	const char *params[13] = {rec->path, sz, hex, rec->salvaged ? "salvaged" : "complete",
		fl, pk, by, times ? first : NULL, times ? last : NULL, layout, rec->compression,
	rec->ident && *rec->ident ? rec->ident : NULL, rec->problems};

	snprintf(sz, sizeof(sz), "%llu", (unsigned long long) rec->size);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 + 2 * i, 3, "%02x", rec->sha256[i]);
	snprintf(fl, sizeof(fl), "%llu", (unsigned long long) rec->flows);
	snprintf(pk, sizeof(pk), "%llu", (unsigned long long) rec->packets);
	snprintf(by, sizeof(by), "%llu", (unsigned long long) rec->bytes);
	if (times)
	{
		copy_format_ts(rec->first_ms, first, sizeof(first));
		copy_format_ts(rec->last_ms, last, sizeof(last));
	}
	snprintf(layout, sizeof(layout), "%d", rec->layout);
	if (!exec(db, "SELECT nfpg.import_record($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
			  13, params, PGRES_TUPLES_OK, "import_record", NULL))
		return false;
	return exec(db, "COMMIT", 0, NULL, PGRES_COMMAND_OK, "COMMIT", NULL);
}

void
idb_rollback(ImportDb *db)
{
	if (db->conn && PQtransactionStatus(db->conn) != PQTRANS_IDLE)
		PQclear(PQexec(db->conn, "ROLLBACK"));
}
