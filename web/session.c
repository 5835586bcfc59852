/*
 * session.c: logins, each with its own open database connection.
 *
 * The person at the page logs in with a PostgreSQL role and its password;
 * nfpg-web opens a connection as that role and keeps it for the session, so
 * every query runs under the role's own grants and row-level security
 * policies, and no request pays for a new backend (with its parallel
 * workers, about half a second before the first row).  The daemon itself
 * has no database identity at all.
 *
 * A login is refused unless the server actually checked the password
 * (PQconnectionUsedPassword): with "trust" in pg_hba.conf anyone could
 * otherwise log in as anyone.  Superusers bypass row-level security and
 * are refused unless --allow-superuser is given.
 *
 * Every connection sets statement_timeout, so no request can hold a
 * backend longer than that, and default_transaction_read_only, so a GET
 * can never change data even through a function; the one state-changing
 * endpoint opens a READ WRITE transaction explicitly.
 *
 * The session token is 32 random bytes from getrandom(2), sent as an
 * HttpOnly SameSite=Strict cookie; it is compared in constant time and
 * never logged.  A session is reference counted: a
 * logout or expiry while a request still uses the connection closes it when
 * that request finishes.  One request at a time uses a connection (libpq
 * connections are not shared between threads): the session's mutex.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "web.h"

struct session
{
	char		token[65];
	char		role[128];
	PGconn	   *conn;
	time_t		last_used;
	int			refs;
	bool		dead;
	pthread_mutex_t lock;			/* held while a request uses conn */
};

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct session **table;		/* web_cfg.max_sessions slots */

static bool
token_equal(const char *a, const char *b)
{
	unsigned char diff = 0;

	for (int i = 0; i < 64; i++)
		diff |= (unsigned char) a[i] ^ (unsigned char) b[i];
	return diff == 0;
}

static void
session_free(struct session *s)
{
	if (s->conn)
		PQfinish(s->conn);
	pthread_mutex_destroy(&s->lock);
	explicit_bzero(s->token, sizeof(s->token));
	free(s);
}

/* Under table_lock: drop a session from the table; freed once unused. */
static void
session_kill(int slot)
{
	struct session *s = table[slot];

	table[slot] = NULL;
	s->dead = true;
	if (s->refs == 0)
		session_free(s);
}

/* Under table_lock: expire idle sessions; returns a free slot or -1. */
static int
free_slot(void)
{
	time_t		now = time(NULL);
	int			found = -1;

	if (table == NULL)
		table = calloc(web_cfg.max_sessions, sizeof(*table));
	for (int i = 0; i < web_cfg.max_sessions; i++)
	{
		if (table[i] && table[i]->refs == 0 && now - table[i]->last_used > web_cfg.idle_timeout_s)
			session_kill(i);
		if (table[i] == NULL && found < 0)
			found = i;
	}
	return found;
}

int
session_login(const char *user, const char *password, const char *tz,
			  char token[65], char *err, size_t errlen)
{
	char		options[128];
	const char *keys[] = {"dbname", "user", "password", "options", "application_name",
						  "client_encoding", NULL};
	const char *vals[7];
	unsigned char rnd[32];
	PGconn	   *conn;
	PGresult   *res;
	struct session *s;
	int			slot;

	snprintf(options, sizeof(options), "-c statement_timeout=%d -c default_transaction_read_only=on",
			 web_cfg.statement_timeout_ms);
	vals[0] = web_cfg.conninfo;
	vals[1] = user;
	vals[2] = password;
	vals[3] = options;
	vals[4] = "nfpg-web";
	vals[5] = "UTF8";
	vals[6] = NULL;
	conn = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(conn) != CONNECTION_OK)
	{
		snprintf(err, errlen, "%s", PQerrorMessage(conn));
		err[strcspn(err, "\n")] = '\0';
		PQfinish(conn);
		return -1;
	}
	if (!PQconnectionUsedPassword(conn))
	{
		snprintf(err, errlen, "the database did not ask for a password; nfpg-web needs password "
				 "(scram-sha-256) authentication for its connections (pg_hba.conf)");
		PQfinish(conn);
		return -1;
	}
	if (!web_cfg.allow_superuser && PQparameterStatus(conn, "is_superuser") &&
		strcmp(PQparameterStatus(conn, "is_superuser"), "on") == 0)
	{
		snprintf(err, errlen, "superusers bypass row-level security and may not log in here "
				 "(nfpg-web --allow-superuser)");
		PQfinish(conn);
		return -1;
	}
	/* the browser's time zone, so times print as the user reads them; a
	 * name PostgreSQL does not know leaves the server's default */
	if (tz && *tz)
	{
		const char *p[1] = {tz};

		res = PQexecParams(conn, "SELECT set_config('TimeZone', $1, false)", 1, NULL, p, NULL, NULL, 0);
		PQclear(res);
	}
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
	{
		snprintf(err, errlen, "no randomness for a session token");
		PQfinish(conn);
		return -1;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL)
	{
		PQfinish(conn);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (int i = 0; i < 32; i++)
		sprintf(s->token + 2 * i, "%02x", rnd[i]);
	explicit_bzero(rnd, sizeof(rnd));
	res = PQexec(conn, "SELECT current_user");
	snprintf(s->role, sizeof(s->role), "%s",
			 PQresultStatus(res) == PGRES_TUPLES_OK ? PQgetvalue(res, 0, 0) : user);
	PQclear(res);
	s->conn = conn;
	s->last_used = time(NULL);
	pthread_mutex_init(&s->lock, NULL);

	pthread_mutex_lock(&table_lock);
	slot = free_slot();
	if (slot < 0)
	{
		pthread_mutex_unlock(&table_lock);
		session_free(s);
		snprintf(err, errlen, "too many sessions (--max-sessions)");
		return -1;
	}
	table[slot] = s;
	memcpy(token, s->token, 65);
	pthread_mutex_unlock(&table_lock);
	return 0;
}

struct session *
session_acquire(const char *token)
{
	struct session *s = NULL;

	if (token == NULL || strlen(token) != 64)
		return NULL;
	pthread_mutex_lock(&table_lock);
	if (table)
	{
		for (int i = 0; i < web_cfg.max_sessions; i++)
		{
			if (table[i] == NULL || !token_equal(table[i]->token, token))
				continue;
			if (time(NULL) - table[i]->last_used > web_cfg.idle_timeout_s && table[i]->refs == 0)
				session_kill(i);
			else
			{
				s = table[i];
				s->refs++;
			}
			break;
		}
	}
	pthread_mutex_unlock(&table_lock);
	if (s)
	{
		pthread_mutex_lock(&s->lock);
		/* a connection lost (server restart) is re-opened with its own parameters */
		if (PQstatus(s->conn) != CONNECTION_OK)
			PQreset(s->conn);
		s->last_used = time(NULL);
	}
	return s;
}

PGconn *
session_conn(struct session *s)
{
	return s->conn;
}

const char *
session_role(struct session *s)
{
	return s->role;
}

void
session_release(struct session *s)
{
	pthread_mutex_unlock(&s->lock);
	pthread_mutex_lock(&table_lock);
	s->refs--;
	if (s->dead && s->refs == 0)
		session_free(s);
	pthread_mutex_unlock(&table_lock);
}

void
session_logout(const char *token)
{
	if (token == NULL || strlen(token) != 64)
		return;
	pthread_mutex_lock(&table_lock);
	for (int i = 0; table && i < web_cfg.max_sessions; i++)
		if (table[i] && token_equal(table[i]->token, token))
		{
			session_kill(i);
			break;
		}
	pthread_mutex_unlock(&table_lock);
}

void
session_close_all(void)
{
	pthread_mutex_lock(&table_lock);
	for (int i = 0; table && i < web_cfg.max_sessions; i++)
		if (table[i])
			session_kill(i);
	pthread_mutex_unlock(&table_lock);
}
