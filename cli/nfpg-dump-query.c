/*-------------------------------------------------------------------------
 *
 * nfpg-dump-query.c
 *		From nfdump's options to one call of nfpg.nfdump(): the file names
 *		of -r/-R/-M become the flows that stand for those files, every
 *		option becomes a bound parameter.
 *
 * nfcapd names a file after the start of the slot in which it *received*
 * the flows (nfcapd.YYYYMMDDhhmm, local time, one slot per rotation
 * interval, 300 s unless NFPG_DUMP_INTERVAL says otherwise).  So
 *   -r dir/nfcapd.A           flows received in [A, A + interval)
 *   -R dir/nfcapd.A:nfcapd.B  flows received in [A, B + interval)
 *   -R dir/nfcapd.A           flows received from A on
 *   -R dir, -r other names    every flow
 *   -M /x/profile/s1:s2       the channels s1, s2 of the NfSen profile (or
 *                             exporter addresses), nfpg.nf_dump_sources()
 * The SQL text below is constant; user input only ever travels as a
 * parameter.  A quiet plain dump runs the query nfpg.nfdump_records()
 * returns (dump_run_records), which the extension made as nfdump() makes
 * its own, so its records stream rather than wait for the whole output.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nfpg-dump.h"

/* Append element to a text[] literal, quoted and escaped. */
void
dump_array_element(char *array, const char *element)
{
	char	   *p = array + strlen(array);

	*p++ = '"';
	for (const char *s = element; *s; s++)
	{
		if (*s == '"' || *s == '\\')
			*p++ = '\\';
		*p++ = *s;
	}
	*p++ = '"';
	*p = '\0';
}

int
dump_plain_mode(const DumpOptions *o)
{
	return o->format == NULL || (strcmp(o->format, "csv") != 0 && strcmp(o->format, "pipe") != 0 &&
								 strcmp(o->format, "json") != 0);
}

static void
print_error(const PGresult *res)
{
	const char *m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	const char *d = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);

	fprintf(stderr, "%s\n", m ? m : PQresultErrorMessage(res));
	if (d)
		fprintf(stderr, "%s\n", d);
}

int
dump_check_filter(PGconn *conn, const char *filter)
{
	const char *params[1] = {filter};
	PGresult   *res = PQexecParams(conn, "SELECT nfpg.nf_filter_sql($1)", 1, NULL, params,
								   NULL, NULL, 0);
	int			rc = PQresultStatus(res) == PGRES_TUPLES_OK ? 0 : 1;

	if (rc)
		print_error(res);
	PQclear(res);
	return rc;
}

/* "nfcapd.YYYYMMDDhhmm" anywhere at the start of a path's last part: epoch, or -1 */
static long long
file_time(const char *name)
{
	const char *base = strrchr(name, '/');
	struct tm	tm;
	int			n = 0;

	base = base ? base + 1 : name;
	if (strncmp(base, "nfcapd.", 7) != 0)
		return -1;
	base += 7;
	while (base[n] >= '0' && base[n] <= '9')
		n++;
	if (n != 12 && n != 14)
		return -1;
	memset(&tm, 0, sizeof(tm));
	if (sscanf(base, "%4d%2d%2d%2d%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
			   &tm.tm_min) != 5)
		return -1;
	if (n == 14)
		tm.tm_sec = atoi(base + 12);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	tm.tm_isdst = -1;
	return (long long) mktime(&tm);
}

int
dump_map_files(DumpOptions *o)
{
	const char *iv = getenv("NFPG_DUMP_INTERVAL");
	long long	interval = iv ? atoll(iv) : 300;

	o->scope_from = o->scope_to = -1;
	if (interval <= 0)
	{
		fprintf(stderr, "NFPG_DUMP_INTERVAL must be a number of seconds > 0\n");
		return 1;
	}
	if (o->single_file)
	{
		o->scope_from = file_time(o->single_file);
		if (o->scope_from >= 0)
			o->scope_to = o->scope_from + interval;
	}
	else if (o->multiple_files)
	{
		const char *colon = strchr(o->multiple_files, ':');
		char	   *first = strdup(o->multiple_files);

		if (colon)
			first[colon - o->multiple_files] = '\0';
		o->scope_from = file_time(first);
		if (colon)
		{
			long long	last = file_time(colon + 1);

			if (o->scope_from < 0 || last < 0)
			{
				fprintf(stderr, "nfpg-dump: -R %s: file names must be nfcapd.YYYYMMDDhhmm to stand for a time range\n",
						o->multiple_files);
				free(first);
				return 1;
			}
			o->scope_to = last + interval;
		}
		free(first);
	}
	return 0;
}

static const char *
num(char *buf, long long v, int present)
{
	if (!present)
		return NULL;
	snprintf(buf, 32, "%lld", v);
	return buf;
}

int
dump_info(PGconn *conn, const DumpOptions *o)
{
	char		b1[32], b2[32];
	const char *params[3] = {
		o->multiple_dirs, num(b1, o->scope_from, o->scope_from >= 0),
		num(b2, o->scope_to, o->scope_to >= 0)
	};
	PGresult   *res = PQexecParams(conn,
		"SELECT * FROM nfpg.nfdump_info(CASE WHEN $1::text IS NULL THEN NULL ELSE nfpg.nf_dump_sources($1) END,"
		" to_timestamp($2::float8), to_timestamp($3::float8))", 3, NULL, params, NULL, NULL, 0);

	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		print_error(res);
		PQclear(res);
		return 250;
	}
	for (int i = 0; i < PQntuples(res); i++)
		printf("%s\n", PQgetvalue(res, i, 0));
	PQclear(res);
	return 0;
}

/* nfdump reads and prints local time: the session follows TZ */
void
dump_follow_tz(PGconn *conn)
{
	const char *tz = getenv("TZ");

	if (tz && *tz && getenv("PGTZ") == NULL)
	{
		const char *p[1] = {tz[0] == ':' ? tz + 1 : tz};

		PQclear(PQexecParams(conn, "SELECT pg_catalog.set_config('timezone', $1, false)", 1, NULL,
							 p, NULL, NULL, 0));
	}
}

int
dump_run(PGconn *conn, DumpOptions *o, RowPrinter print)
{
	char		top[32], cnt[32], b1[32], b2[32];
	const char *params[17];
	long long	rows = 0;

	params[0] = o->stats;
	params[1] = num(top, o->top, o->top_set);
	params[2] = o->filter;
	params[3] = o->time_window;
	params[4] = o->aggregate;
	params[5] = o->fields;
	params[6] = o->print_order;
	params[7] = o->format;
	params[8] = num(cnt, o->record_limit, 1);
	params[9] = o->packet_limit;
	params[10] = o->byte_limit;
	params[11] = o->multiple_dirs;
	params[12] = num(b1, o->scope_from, o->scope_from >= 0);
	params[13] = num(b2, o->scope_to, o->scope_to >= 0);
	params[14] = o->plain ? "true" : "false";
	params[15] = o->long_v6 ? "true" : "false";
	params[16] = o->quiet ? "true" : "false";
	return print(conn,
		"SELECT * FROM nfpg.nfdump(stats => $1::text[], top => $2::integer, filter => $3,"
		" time_window => $4, aggregate => $5, fields => $6, print_order => $7, format => $8,"
		" record_limit => $9::integer, packet_limit => $10, byte_limit => $11,"
		" scope => CASE WHEN $12::text IS NULL THEN NULL ELSE nfpg.nf_dump_sources($12) END,"
		" scope_from => to_timestamp($13::float8), scope_to => to_timestamp($14::float8),"
		" plain => $15::boolean, long_v6 => $16::boolean, quiet => $17::boolean)",
		17, NULL, params, &rows);
}

/*
 * With -q and no -s, -a, -A, -b, -B, -c, -l or -L, nfdump prints the
 * records alone (or "No matching flows").
 */
int
dump_streams(const DumpOptions *o)
{
	return o->quiet && o->stats == NULL && o->aggregate == NULL && o->fields == NULL &&
		o->record_limit == 0 && o->packet_limit == NULL && o->byte_limit == NULL;
}

/*
 * Such a dump streams: nfpg.nfdump() would keep every line it returns (a
 * plpgsql function's result is kept whole, on disk past work_mem) before
 * the first reached us.  nfpg.nfdump_records() gives the query nfdump()
 * runs for the records, made by the same function, and the values of its
 * parameters; it is run here, and its rows printed as they come.  The query
 * is the extension's (SQL it compiled from the filter, literals it quoted):
 * nothing of the user's is pasted into it here either.  A database not yet
 * updated to 0.13 has no nfdump_records(): nfdump() prints the dump.
 */
int
dump_run_records(PGconn *conn, DumpOptions *o, RowPrinter print)
{
	/* $1 text (unused), $2 .. $5 timestamptz: -t's window and the files' range */
	static const Oid types[5] = {25, 1184, 1184, 1184, 1184};
	char		top[32], b1[32], b2[32];
	const char *params[10];
	const char *qp[5] = {NULL};
	long long	rows = 0;
	PGresult   *res;
	int			rc;

	params[0] = o->filter;
	params[1] = o->time_window;
	params[2] = o->print_order;
	params[3] = num(top, o->top, o->top_set);
	params[4] = o->format;
	params[5] = o->multiple_dirs;
	params[6] = num(b1, o->scope_from, o->scope_from >= 0);
	params[7] = num(b2, o->scope_to, o->scope_to >= 0);
	params[8] = o->plain ? "true" : "false";
	params[9] = o->long_v6 ? "true" : "false";
	res = PQexecParams(conn,
		"SELECT query, param2, param3, param4, param5, no_match FROM nfpg.nfdump_records("
		"filter => $1, time_window => $2, print_order => $3, top => $4::integer, format => $5,"
		" scope => CASE WHEN $6::text IS NULL THEN NULL ELSE nfpg.nf_dump_sources($6) END,"
		" scope_from => to_timestamp($7::float8), scope_to => to_timestamp($8::float8),"
		" plain => $9::boolean, long_v6 => $10::boolean)",
		10, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

		/* an extension before 0.13 has no nfdump_records(): nfdump() prints the same */
		if (state && strcmp(state, "42883") == 0)
		{
			PQclear(res);
			return dump_run(conn, o, print);
		}
		rc = dump_result_error(res);
		PQclear(res);
		return rc;
	}
	for (int k = 1; k < 5; k++)
		qp[k] = PQgetisnull(res, 0, k) ? NULL : PQgetvalue(res, 0, k);
	rc = print(conn, PQgetvalue(res, 0, 0), 5, types, qp, &rows);
	if (rc == 0 && rows == 0)
		printf("%s\n", PQgetvalue(res, 0, 5));
	PQclear(res);
	return rc;
}
