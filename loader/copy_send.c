/*-------------------------------------------------------------------------
 *
 * copy_send.c
 *		One COPY of a CopyBuf's rows: the statement naming the columns the
 *		rows carry, the binary header, the rows in 1 MiB chunks, the
 *		trailer, and the server's verdict.
 *
 * The target's name goes into the statement's text, so callers pass only
 * names the database itself produced (regclass output of loader_target)
 * or constants; every value travels inside the COPY data.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "copy_send.h"

#define COPY_CHUNK		(1 << 20)

static const char copy_sql[] = "COPY %s (%s) FROM STDIN (FORMAT binary)";

void
copy_format_ts(int64_t ms, char *buf, size_t len)
{
	time_t		secs = (time_t) (ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
	struct tm	tm;
	size_t		n;

	gmtime_r(&secs, &tm);
	n = strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%03d+00", (int) (ms - (int64_t) secs * 1000));
}

void
copy_error(PGconn *conn, const PGresult *res, const char *what, char *err, size_t errlen, char *sqlstate)
{
	const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(conn);
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	snprintf(sqlstate, 6, "%s", state ? state : "");
	snprintf(err, errlen, "%s: %s", what, msg && *msg ? msg : "failed");
	err[strcspn(err, "\n")] = '\0';
}

bool
copy_send(PGconn *conn, const char *target, const CopyBuf *rows,
		  char *err, size_t errlen, char *sqlstate)
{
	char		cols[COPYBUF_COLUMN_LIST_LEN],
				sql[COPYBUF_COLUMN_LIST_LEN + COPY_TARGET_LEN + 64];
	PGresult   *res;
	bool		ok;

	copybuf_column_list(rows->cols, cols, sizeof(cols));
	snprintf(sql, sizeof(sql), copy_sql, target, cols);
	res = PQexec(conn, sql);
	ok = PQresultStatus(res) == PGRES_COPY_IN;
	if (!ok)
		copy_error(conn, res, "COPY", err, errlen, sqlstate);
	PQclear(res);
	if (!ok)
		return false;

	ok = PQputCopyData(conn, copybuf_header, COPYBUF_HEADER_LEN) == 1;
	for (size_t off = 0; ok && off < rows->len; off += COPY_CHUNK)
	{
		size_t		n = rows->len - off < COPY_CHUNK ? rows->len - off : COPY_CHUNK;

		ok = PQputCopyData(conn, rows->data + off, (int) n) == 1;
	}
	ok = ok && PQputCopyData(conn, copybuf_trailer, COPYBUF_TRAILER_LEN) == 1;
	if (!ok)
		copy_error(conn, NULL, "COPY", err, errlen, sqlstate);
	if (PQputCopyEnd(conn, ok ? NULL : "sending failed") != 1 && ok)
	{
		copy_error(conn, NULL, "COPY", err, errlen, sqlstate);
		ok = false;
	}

	/* The COPY's result, then NULL. */
	while ((res = PQgetResult(conn)) != NULL)
	{
		if (PQresultStatus(res) != PGRES_COMMAND_OK)
		{
			if (ok)
				copy_error(conn, res, "COPY", err, errlen, sqlstate);
			ok = false;
		}
		PQclear(res);
	}
	return ok;
}
