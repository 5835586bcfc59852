/*
 * filter_sql_fuzz.c
 *		libFuzzer harness for the whole filter-to-SQL path: parse, plan
 *		(filter_plan.c) and deparse (filter_sql.c).
 *
 * Only the parser is PostgreSQL-free.  Planning builds PostgreSQL
 * expression nodes, looks operators, functions and types up in the
 * catalogs and deparses with ruleutils, so it can only run inside a
 * backend.  The harness therefore parses every input in-process (that is
 * what libFuzzer's coverage sees and steers by) and sends each input that
 * parses, once, to a private server (test/fuzz/filter_sql_server.sh starts
 * it; NFPG_FUZZ_CONNINFO names it), where fz_check() (filter_sql_fuzz.sql)
 * computes the rows of a 63-row table that the filter matches three ways:
 *
 *	  planned	nf_filter(fz, 'literal'), rewritten by the support function
 *	  runtime	nf_filter(fz, value), evaluated per row by filter_eval.c
 *	  deparsed	WHERE <nf_filter_sql(filter)>, the text re-parsed by PostgreSQL
 *
 * The harness aborts (a finding) when
 *	  - the server connection breaks: the backend crashed;
 *	  - the three answers differ, or only some of them fail;
 *	  - they fail with an internal error (SQLSTATE class XX: elog(ERROR),
 *		"cache lookup failed" and the like) or a timeout;
 *	  - the parser accepted what the server's parser rejects as a syntax
 *		error (42601), or the other way round (only accepted inputs are sent).
 * A filter that all three refuse with one user-facing error (a value out of
 * range, a limit) is fine.  Inputs with a NUL byte cannot be text and are
 * only parsed.
 *
 * test/fuzz/run.sh builds and runs it as "filter-sql".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "filter_ast.h"

static PGconn *conn;
static unsigned long checked;	/* inputs sent to the server */

static void
report(void)
{
	fprintf(stderr, "filter-sql: %lu inputs checked on the server\n", checked);
}

static void
fail(const char *what, const char *detail)
{
	fprintf(stderr, "filter-sql: %s: %s\n", what, detail ? detail : "");
	abort();
}

static void
connect_once(void)
{
	const char *conninfo = getenv("NFPG_FUZZ_CONNINFO");
	PGresult   *res;

	if (conn)
		return;
	atexit(report);
	if (conninfo == NULL)
		fail("NFPG_FUZZ_CONNINFO is not set", "run through test/fuzz/run.sh filter-sql");
	conn = PQconnectdb(conninfo);
	if (PQstatus(conn) != CONNECTION_OK)
		fail("cannot connect", PQerrorMessage(conn));
	res = PQexec(conn, "SET statement_timeout = '10s'; SET client_min_messages = error");
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		fail("cannot set up the session", PQerrorMessage(conn));
	PQclear(res);
}

/* Is this SQLSTATE one a user may see for a filter the parser accepted? */
static bool
acceptable_error(const char *state)
{
	return strncmp(state, "XX", 2) != 0 &&	/* internal error */
		strcmp(state, "57014") != 0 &&	/* statement_timeout */
		strcmp(state, "42601") != 0 &&	/* the server's parser disagrees */
		strcmp(state, "42883") != 0 &&	/* deparsed SQL names a missing function */
		strcmp(state, "42703") != 0;	/* ... or column */
}

static void
check_on_server(const char *text, size_t len)
{
	char	   *filter = malloc(len + 1);
	const char *params[1] = {filter};
	PGresult   *res;
	char	   *planned,
			   *runtime,
			   *deparsed;
	char		detail[600];

	memcpy(filter, text, len);
	filter[len] = '\0';
	connect_once();
	res = PQexecParams(conn,
					   "SELECT r[1], r[2], r[3] FROM fz_check($1) r",
					   1, NULL, params, NULL, NULL, 0);
	if (PQstatus(conn) != CONNECTION_OK)
		fail("server connection lost (backend crash?)", PQerrorMessage(conn));
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

		/* not valid UTF-8 is refused before any filter code runs */
		if (state && strcmp(state, "22021") == 0)
		{
			PQclear(res);
			free(filter);
			return;
		}
		fail("fz_check failed", PQresultErrorMessage(res));
	}
	planned = PQgetvalue(res, 0, 0);
	runtime = PQgetvalue(res, 0, 1);
	deparsed = PQgetvalue(res, 0, 2);
	snprintf(detail, sizeof(detail), "planned %s, runtime %s, deparsed %s for \"%.400s\"",
			 planned, runtime, deparsed, filter);
	if (strcmp(planned, runtime) != 0 || strcmp(planned, deparsed) != 0)
		fail("the three evaluations disagree", detail);
	if (planned[0] == 'E' && !acceptable_error(planned + 1))
		fail("unacceptable error", detail);
	checked++;
	PQclear(res);
	free(filter);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	NfParseError err;
	NfFilter   *f = nf_filter_parse((const char *) data, size, &err);

	if (f == NULL)
	{
		if (err.message[0] == '\0' || err.pos < 0 || (size_t) err.pos > size + 1)
			abort();
		return 0;
	}
	nf_filter_free(f);
	if (memchr(data, '\0', size) == NULL)
		check_on_server((const char *) data, size);
	return 0;
}
