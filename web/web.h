/*
 * web.h: what the parts of nfpg-web share -- its configuration and the
 * small interfaces between the HTTP layer (http.c), the sessions
 * (session.c) and the fixed JSON endpoints (endpoints.c).
 *
 * nfpg-web is deliberately thin: every answer is computed by the database
 * (the extension's functions, serialised with json_agg), under the role of
 * the person logged in, so the daemon holds no data and no privilege of its
 * own.  It parses requests, keeps one connection per login, and passes JSON
 * through.
 */
#ifndef NFPG_WEB_H
#define NFPG_WEB_H

#include <stdbool.h>
#include <stddef.h>
#include <microhttpd.h>
#include <libpq-fe.h>

struct web_config
{
	const char *conninfo;			/* base libpq conninfo: host, port, dbname (no user) */
	const char *static_dir;			/* index.html, app.js, app.css */
	const char *chartjs;			/* Chart.js file served as /static/chart.min.js */
	int			statement_timeout_ms;	/* every statement of every request */
	int			idle_timeout_s;		/* a login unused this long is closed */
	int			max_sessions;
	bool		allow_superuser;	/* superusers bypass RLS: refused unless asked */
	bool		tls;				/* cookies get Secure */
};

extern struct web_config web_cfg;

/* http.c: answers */
enum MHD_Result web_send(struct MHD_Connection *c, unsigned int status, const char *ctype,
						 const char *body, size_t len, const char *set_cookie);
enum MHD_Result web_error(struct MHD_Connection *c, unsigned int status, const char *message);
enum MHD_Result web_pg_error(struct MHD_Connection *c, const PGresult *res, const PGconn *conn);
enum MHD_Result web_static(struct MHD_Connection *c, const char *name);
char	   *json_quote(const char *s);

/* session.c: one database connection per login */
struct session;
int			session_login(const char *user, const char *password, const char *tz,
						  char token[65], char *err, size_t errlen);
struct session *session_acquire(const char *token);
PGconn	   *session_conn(struct session *s);
const char *session_role(struct session *s);
void		session_release(struct session *s);
void		session_logout(const char *token);
void		session_close_all(void);

/* http.c: libmicrohttpd's access handler and request clean-up */
enum MHD_Result web_handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
						   const char *version, const char *upload_data, size_t *upload_data_size,
						   void **con_cls);
void		web_request_done(void *cls, struct MHD_Connection *c, void **con_cls,
							 enum MHD_RequestTerminationCode toe);

/* endpoints.c: the fixed JSON API */
enum MHD_Result endpoint_dispatch(struct MHD_Connection *c, const char *url, bool post,
								  const char *(*form)(void *ctx, const char *key), void *ctx);

#endif
