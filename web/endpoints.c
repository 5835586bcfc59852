/*
 * endpoints.c: nfpg-web's fixed JSON API.
 *
 * Each endpoint is one fixed SQL statement over the extension's functions
 * (extension/sql/72_web.sql and the nf_* functions they build on) and a
 * list of named request parameters that become its bind parameters $1, $2,
 * ... in order.  The browser chooses values, never SQL: values are sent with
 * PQexecParams as text, and PostgreSQL's own input functions check them (a
 * malformed time or number is a 22xxx error, answered 400 with the
 * message).  The database builds the JSON (json_agg), so the daemon only
 * passes it through.
 *
 * Reads are GET; the states that change (login, logout, saving a profile)
 * are POST and must carry the header X-Requested-With: nfpg, which a page
 * of another origin cannot add without a CORS preflight that nfpg-web never
 * grants.  Together with the SameSite=Strict cookie that rules out
 * cross-site request forgery.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web.h"

#define MAX_PARAMS	9
#define MAX_VALUE	4096

/*
 * A parameter spec is "name", "name=default" or "!name" (required).  An
 * empty value counts as absent: the default, or NULL.
 */
struct endpoint
{
	const char *name;
	bool		post;
	const char *sql;
	const char *params[MAX_PARAMS];
};

#define WINDOW "profile=live", "filter", "!from", "!to"

static const struct endpoint endpoints[] = {
	{"me", false,
		"SELECT json_build_object('role', current_user, 'database', current_database(),"
		" 'timezone', current_setting('TimeZone'), 'statement_timeout', current_setting('statement_timeout'),"
		" 'version', (SELECT extversion FROM pg_extension WHERE extname = 'nfpg'))", {NULL}},
	{"profiles", false,
		"SELECT coalesce(json_agg(json_build_object('profile', p.profile, 'filter', p.filter,"
		" 'kind', p.kind, 'tstart', p.tstart, 'tend', p.tend, 'description', p.description,"
		" 'last_slot', (SELECT max(b.slot) FROM nfpg.profile_slots b WHERE b.profile = p.profile),"
		" 'channels', (SELECT coalesce(json_agg(json_build_object('channel', c.channel, 'filter', c.filter,"
		"   'sign', c.sign, 'colour', c.colour) ORDER BY c.channel), '[]')"
		"   FROM nfpg.profile_channels c WHERE c.profile = p.profile))"
		" ORDER BY p.profile <> 'live', p.profile), '[]') FROM nfpg.profiles p", {NULL}},
	{"lastslot", false,
		"SELECT json_build_object('slot', max(slot), 'built', max(built)) FROM nfpg.profile_slots", {NULL}},
	{"rates", false,
		"SELECT coalesce(json_agg(r), '[]') FROM nfpg.nf_profile_rates($1, $2::timestamptz, $3::timestamptz) r",
		{"profile=live", "!from", "!to"}},
	{"totals", false,
		"SELECT coalesce(json_agg(r), '[]') FROM nfpg.nf_profile_totals($1, $2::timestamptz, $3::timestamptz) r",
		{"profile=live", "!from", "!to"}},
	{"stat", false,
		"SELECT coalesce(json_agg(s), '[]') FROM nfpg.nf_stat($5, $6, $7::integer,"
		" nfpg.nf_drill_filter($1, $2), $3::timestamptz, $4::timestamptz) s",
		{WINDOW, "stat=ip", "order=flows", "n=10"}},
	{"aggregate", false,
		"SELECT json_build_object('header', nfpg.nf_format_header($8), 'rows',"
		" (SELECT coalesce(json_agg(a), '[]') FROM nfpg.nf_aggregate_list($5, $6, $7::integer,"
		" nfpg.nf_drill_filter($1, $2), $3::timestamptz, $4::timestamptz, $8) a))",
		{WINDOW, "fields", "order=bytes", "n=10", "format=line"}},
	{"flows", false,
		"SELECT json_build_object('header', nfpg.nf_format_header($5), 'rows',"
		" (SELECT coalesce(json_agg(f), '[]') FROM nfpg.nf_flow_list(nfpg.nf_drill_filter($1, $2),"
		" $3::timestamptz, $4::timestamptz, $5, $6::integer) f))",
		{WINDOW, "format=line", "limit=100"}},
	{"graph", false,
		"SELECT coalesce(json_agg(g), '[]') FROM nfpg.nf_filter_series(nfpg.nf_drill_filter($1, $2),"
		" $3::timestamptz, $4::timestamptz, $5::interval, $6::interval) g",
		{WINDOW, "bucket=5 minutes", "shift=0"}},
	{"topseries", false,
		"SELECT coalesce(json_agg(t), '[]') FROM nfpg.nf_topn_series($5, $6, $7::integer,"
		" nfpg.nf_drill_filter($1, $2), $3::timestamptz, $4::timestamptz, $8::interval) t",
		{WINDOW, "stat=dstport", "order=bytes", "n=10", "bucket=5 minutes"}},
	{"exporters", false,
		"SELECT coalesce(json_agg(e ORDER BY e.exporter, e.export_version, e.source_id), '[]')"
		" FROM (SELECT host(exporter) AS exporter, source_id, export_version, first_seen, last_seen,"
		" packets, flows, sequence_failures, templates, sampling_interval FROM nfpg.exporters) e", {NULL}},
	/* nfpgd's own counters (17_counters.sql): per instance, its total row first */
	{"collector", false,
		"SELECT coalesce(json_agg(c ORDER BY c.instance, c.exporter NULLS FIRST), '[]')"
		" FROM (SELECT instance, host(exporter) AS exporter, running_since, updated, datagrams, flows,"
		" denied, rejected, out_of_window, queue_drops, socket_drops, loaded_flows, spooled_flows,"
		" replayed_flows, lost_flows, failed_batches, spool_files, quarantine_files"
		" FROM nfpg.collector_stats) c", {NULL}},
	{"alerts", false,
		"SELECT coalesce(json_agg(a), '[]') FROM (SELECT l.alert, a.profile, a.metric, a.op, a.threshold,"
		" l.slot, l.value, l.reference, l.fired, l.evaluated FROM nfpg.alert_log l JOIN nfpg.alerts a"
		" USING (alert) ORDER BY l.evaluated DESC LIMIT 200) a", {NULL}},
	{"plugins", false,
		"SELECT coalesce(json_agg(p), '[]') FROM (SELECT plugin, profile, slot, status, message, ran,"
		" extract(epoch FROM duration) AS seconds FROM nfpg.plugin_runs ORDER BY ran DESC LIMIT 200) p", {NULL}},
	{"runs", false,
		"SELECT coalesce(json_agg(r), '[]') FROM (SELECT run, started, finished, run_time, slots,"
		" plugin_failures, alerts_fired, partitions_dropped, series_deleted, indexed, errors"
		" FROM nfpg.runs ORDER BY run DESC LIMIT 50) r", {NULL}},
	{"save_profile", true,
		"SELECT json_build_object('profile', nfpg.nf_profile_create($1, $2, $3::timestamptz, NULL, NULL, $4))",
		{"!name", "!filter", "from", "description"}},
};

static const struct endpoint *
find_endpoint(const char *name)
{
	for (size_t i = 0; i < sizeof(endpoints) / sizeof(endpoints[0]); i++)
		if (strcmp(endpoints[i].name, name) == 0)
			return &endpoints[i];
	return NULL;
}

static enum MHD_Result
bad_param(struct MHD_Connection *c, const char *fmt, const char *name)
{
	char		msg[256];

	snprintf(msg, sizeof(msg), fmt, name);
	return web_error(c, MHD_HTTP_BAD_REQUEST, msg);
}

/* BEGIN/COMMIT around a state change; the session is read-only otherwise. */
static bool
simple(PGconn *conn, const char *sql)
{
	PGresult   *r = PQexec(conn, sql);
	bool		ok = PQresultStatus(r) == PGRES_COMMAND_OK;

	PQclear(r);
	return ok;
}

static enum MHD_Result
run_endpoint(struct MHD_Connection *c, const struct endpoint *e, struct session *s,
			 const char *(*form)(void *, const char *), void *ctx)
{
	const char *values[MAX_PARAMS];
	char		names[MAX_PARAMS][64];
	int			n = 0;
	PGconn	   *conn = session_conn(s);
	PGresult   *res;
	enum MHD_Result ret;

	for (; n < MAX_PARAMS && e->params[n]; n++)
	{
		const char *spec = e->params[n];
		bool		required = spec[0] == '!';
		const char *eq;
		const char *v;

		if (required)
			spec++;
		eq = strchr(spec, '=');
		snprintf(names[n], sizeof(names[n]), "%.*s", (int) (eq ? eq - spec : (long) strlen(spec)), spec);
		v = form(ctx, names[n]);
		if (v && *v == '\0')
			v = NULL;
		if (v && strlen(v) > MAX_VALUE)
			return bad_param(c, "parameter '%s' is too long", names[n]);
		if (v == NULL && eq)
			v = eq + 1;
		if (v == NULL && required)
			return bad_param(c, "parameter '%s' is required", names[n]);
		values[n] = v;
	}
	if (e->post && !simple(conn, "BEGIN READ WRITE"))
		return web_pg_error(c, NULL, conn);
	res = PQexecParams(conn, e->sql, n, NULL, values, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 || PQnfields(res) != 1)
	{
		if (e->post)
			simple(conn, "ROLLBACK");
		ret = web_pg_error(c, res, conn);
		PQclear(res);
		return ret;
	}
	if (e->post && !simple(conn, "COMMIT"))
	{
		PQclear(res);
		return web_pg_error(c, NULL, conn);
	}
	ret = web_send(c, MHD_HTTP_OK, "application/json; charset=utf-8",
				   PQgetvalue(res, 0, 0), PQgetlength(res, 0, 0), NULL);
	PQclear(res);
	return ret;
}

static enum MHD_Result
login(struct MHD_Connection *c, const char *(*form)(void *, const char *), void *ctx)
{
	const char *user = form(ctx, "user");
	const char *password = form(ctx, "password");
	char		token[65];
	char		err[512];
	char		cookie[256];
	char		body[512];
	char	   *q;

	if (user == NULL || *user == '\0' || password == NULL || *password == '\0')
		return web_error(c, MHD_HTTP_BAD_REQUEST, "user and password are required");
	if (strlen(user) > 63 || strlen(password) > 1024)
		return web_error(c, MHD_HTTP_BAD_REQUEST, "user or password too long");
	if (session_login(user, password, form(ctx, "tz"), token, err, sizeof(err)) != 0)
	{
		/* the reason goes to the person who tried, never the password */
		fprintf(stderr, "nfpg-web: login of \"%s\" refused: %s\n", user, err);
		return web_error(c, MHD_HTTP_UNAUTHORIZED, err);
	}
	snprintf(cookie, sizeof(cookie), "nfpg_session=%s; Path=/; HttpOnly; SameSite=Strict%s",
			 token, web_cfg.tls ? "; Secure" : "");
	explicit_bzero(token, sizeof(token));
	q = json_quote(user);
	snprintf(body, sizeof(body), "{\"role\":%s}", q ? q : "null");
	free(q);
	return web_send(c, MHD_HTTP_OK, "application/json; charset=utf-8", body, strlen(body), cookie);
}

enum MHD_Result
endpoint_dispatch(struct MHD_Connection *c, const char *name, bool post,
				  const char *(*form)(void *, const char *), void *ctx)
{
	const char *token = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "nfpg_session");
	const struct endpoint *e;
	struct session *s;
	enum MHD_Result ret;

	if (post)
	{
		const char *xrw = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Requested-With");

		if (xrw == NULL || strcmp(xrw, "nfpg") != 0)
			return web_error(c, MHD_HTTP_FORBIDDEN, "POST needs the header X-Requested-With: nfpg");
		if (strcmp(name, "login") == 0)
			return login(c, form, ctx);
		if (strcmp(name, "logout") == 0)
		{
			session_logout(token);
			return web_send(c, MHD_HTTP_OK, "application/json; charset=utf-8", "{}", 2,
							"nfpg_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
		}
	}
	e = find_endpoint(name);
	if (e == NULL)
		return web_error(c, MHD_HTTP_NOT_FOUND, "no such endpoint");
	if (e->post != post)
		return web_error(c, MHD_HTTP_METHOD_NOT_ALLOWED,
						 e->post ? "this endpoint changes state: use POST" : "this endpoint is read with GET");
	s = session_acquire(token);
	if (s == NULL)
		return web_error(c, MHD_HTTP_UNAUTHORIZED, "not logged in");
	ret = run_endpoint(c, e, s, form, ctx);
	session_release(s);
	return ret;
}
