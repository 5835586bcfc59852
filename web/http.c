/*
 * http.c: nfpg-web's HTTP layer on libmicrohttpd.
 *
 * One handler receives every request.  Static files are a fixed list (no
 * path from the URL ever reaches the file system), API requests go to
 * endpoints.c.  A POST body is read with libmicrohttpd's own form parser
 * (application/x-www-form-urlencoded only), capped at a few kilobytes.
 *
 * Every answer carries headers that keep the page to itself: a Content
 * Security Policy allowing only its own scripts and styles, no framing, no
 * MIME sniffing, and no caching of API answers (they hold the role's data).
 * Errors are JSON objects {"error": ..., "position": ..., ...} so the page
 * can show them; a database error keeps PostgreSQL's message, detail, hint
 * and the error position (nf_filter reports where a filter went wrong).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web.h"

#define MAX_BODY	16384
#define MAX_FIELDS	16

/* ---------------------------------------------------------------- answers */

static void
add_security_headers(struct MHD_Response *r)
{
	MHD_add_response_header(r, "Content-Security-Policy",
							"default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
}

enum MHD_Result
web_send(struct MHD_Connection *c, unsigned int status, const char *ctype,
		 const char *body, size_t len, const char *set_cookie)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, (void *) body, MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", ctype);
	add_security_headers(r);
	if (strncmp(ctype, "application/json", 16) == 0)
		MHD_add_response_header(r, "Cache-Control", "no-store");
	if (set_cookie)
		MHD_add_response_header(r, "Set-Cookie", set_cookie);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* A JSON string literal for s (quotes included); malloc'd. */
char *
json_quote(const char *s)
{
	size_t		n = strlen(s);
	char	   *out = malloc(n * 6 + 3);
	char	   *o = out;

	if (out == NULL)
		return NULL;
	*o++ = '"';
	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
	{
		switch (*p)
		{
			case '"': *o++ = '\\'; *o++ = '"'; break;
			case '\\': *o++ = '\\'; *o++ = '\\'; break;
			case '\n': *o++ = '\\'; *o++ = 'n'; break;
			case '\r': *o++ = '\\'; *o++ = 'r'; break;
			case '\t': *o++ = '\\'; *o++ = 't'; break;
			default:
				if (*p < 0x20)
					o += sprintf(o, "\\u%04x", *p);
				else
					*o++ = (char) *p;
		}
	}
	*o++ = '"';
	*o = '\0';
	return out;
}

/* Appends ,"key":"value" to buf when value is set. */
static void
add_field(char *buf, size_t size, const char *key, const char *value)
{
	char	   *q;
	size_t		used = strlen(buf);

	if (value == NULL || *value == '\0')
		return;
	q = json_quote(value);
	if (q == NULL)
		return;
	snprintf(buf + used, size - used, ",\"%s\":%s", key, q);
	free(q);
}

enum MHD_Result
web_error(struct MHD_Connection *c, unsigned int status, const char *message)
{
	char		body[4096];
	char	   *q = json_quote(message);
	enum MHD_Result ret;

	snprintf(body, sizeof(body), "{\"error\":%s}", q ? q : "\"error\"");
	free(q);
	ret = web_send(c, status, "application/json; charset=utf-8", body, strlen(body), NULL);
	return ret;
}

/*
 * The HTTP status of a database error: the request's fault (4xx) for bad
 * values, unknown names, refused rights and limits; 504 for the statement
 * timeout; 503 when the connection is gone; 500 only for what is left.
 */
static unsigned int
status_of(const char *sqlstate)
{
	if (sqlstate == NULL)
		return 503;
	if (strcmp(sqlstate, "42501") == 0)
		return 403;						/* insufficient_privilege */
	if (strcmp(sqlstate, "42704") == 0 || strcmp(sqlstate, "23503") == 0)
		return 404;						/* undefined_object (profile), missing referent */
	if (strcmp(sqlstate, "57014") == 0)
		return 504;						/* statement_timeout */
	if (strcmp(sqlstate, "23505") == 0)
		return 409;						/* duplicate (profile name) */
	if (strncmp(sqlstate, "22", 2) == 0 || strncmp(sqlstate, "P0", 2) == 0 ||
		strncmp(sqlstate, "0A", 2) == 0 || strncmp(sqlstate, "23", 2) == 0 ||
		strcmp(sqlstate, "54000") == 0 || strcmp(sqlstate, "42601") == 0 ||
		strcmp(sqlstate, "25006") == 0)
		return 400;						/* data, raise, unsupported, check, limit, syntax, read-only */
	if (strncmp(sqlstate, "08", 2) == 0 || strncmp(sqlstate, "57", 2) == 0)
		return 503;
	return 500;
}

enum MHD_Result
web_pg_error(struct MHD_Connection *c, const PGresult *res, const PGconn *conn)
{
	char		body[8192];
	const char *sqlstate = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *pos = res ? PQresultErrorField(res, PG_DIAG_INTERNAL_POSITION) : NULL;
	char	   *q;

	if (msg == NULL)
		msg = PQerrorMessage(conn);
	q = json_quote(msg);
	snprintf(body, sizeof(body), "{\"error\":%s", q ? q : "\"database error\"");
	free(q);
	if (res)
	{
		add_field(body, sizeof(body), "detail", PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL));
		add_field(body, sizeof(body), "hint", PQresultErrorField(res, PG_DIAG_MESSAGE_HINT));
		add_field(body, sizeof(body), "sqlstate", sqlstate);
		add_field(body, sizeof(body), "query", PQresultErrorField(res, PG_DIAG_INTERNAL_QUERY));
	}
	if (pos)
		snprintf(body + strlen(body), sizeof(body) - strlen(body), ",\"position\":%d", atoi(pos));
	strncat(body, "}", sizeof(body) - strlen(body) - 1);
	return web_send(c, status_of(sqlstate), "application/json; charset=utf-8", body, strlen(body), NULL);
}

/* ----------------------------------------------------------- static files */

static const struct
{
	const char *name;
	const char *ctype;
}			static_files[] = {
	{"index.html", "text/html; charset=utf-8"},
	{"app.js", "text/javascript; charset=utf-8"},
	{"charts.js", "text/javascript; charset=utf-8"},
	{"app.css", "text/css; charset=utf-8"},
	{"chart.min.js", "text/javascript; charset=utf-8"},
};

enum MHD_Result
web_static(struct MHD_Connection *c, const char *name)
{
	char		path[4096];
	FILE	   *f;
	char	   *buf;
	long		len;
	enum MHD_Result ret;

	for (size_t i = 0; i < sizeof(static_files) / sizeof(static_files[0]); i++)
	{
		if (strcmp(name, static_files[i].name) != 0)
			continue;
		if (strcmp(name, "chart.min.js") == 0)
			snprintf(path, sizeof(path), "%s", web_cfg.chartjs);
		else
			snprintf(path, sizeof(path), "%s/%s", web_cfg.static_dir, name);
		f = fopen(path, "rb");
		if (f == NULL)
		{
			fprintf(stderr, "nfpg-web: %s: %s\n", path, strerror(errno));
			return web_error(c, MHD_HTTP_NOT_FOUND, "static file missing on the server");
		}
		fseek(f, 0, SEEK_END);
		len = ftell(f);
		rewind(f);
		buf = malloc(len > 0 ? len : 1);
		if (buf == NULL || fread(buf, 1, len, f) != (size_t) len)
		{
			fclose(f);
			free(buf);
			return web_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot read static file");
		}
		fclose(f);
		ret = web_send(c, MHD_HTTP_OK, static_files[i].ctype, buf, len, NULL);
		free(buf);
		return ret;
	}
	return web_error(c, MHD_HTTP_NOT_FOUND, "no such file");
}

/* ---------------------------------------------------------- the handler */

struct request
{
	struct MHD_PostProcessor *pp;
	bool		post;
	bool		too_big;
	bool		not_form;			/* a body of this type is refused */
	bool		bad_type;
	size_t		body;
	int			nfields;
	char	   *keys[MAX_FIELDS];
	char	   *values[MAX_FIELDS];
};

static enum MHD_Result
collect_field(void *cls, enum MHD_ValueKind kind, const char *key, const char *filename,
			  const char *content_type, const char *transfer_encoding,
			  const char *data, uint64_t off, size_t size)
{
	struct request *rq = cls;
	int			i;

	for (i = 0; i < rq->nfields; i++)
		if (strcmp(rq->keys[i], key) == 0)
			break;
	if (i == rq->nfields)
	{
		if (rq->nfields == MAX_FIELDS)
			return MHD_YES;				/* ignored: no endpoint takes that many */
		rq->keys[i] = strdup(key);
		rq->values[i] = calloc(1, 1);
		rq->nfields++;
	}
	/* a long value arrives in pieces at increasing offsets */
	{
		size_t		have = strlen(rq->values[i]);
		char	   *v = realloc(rq->values[i], have + size + 1);

		if (v == NULL)
			return MHD_NO;
		memcpy(v + have, data, size);
		v[have + size] = '\0';
		rq->values[i] = v;
	}
	return MHD_YES;
}

static const char *
form_value(void *ctx, const char *key)
{
	struct request *rq = ctx;

	for (int i = 0; i < rq->nfields; i++)
		if (strcmp(rq->keys[i], key) == 0)
			return rq->values[i];
	return NULL;
}

struct get_ctx
{
	struct MHD_Connection *c;
};

static const char *
query_value(void *ctx, const char *key)
{
	return MHD_lookup_connection_value(((struct get_ctx *) ctx)->c, MHD_GET_ARGUMENT_KIND, key);
}

void
web_request_done(void *cls, struct MHD_Connection *c, void **con_cls,
				 enum MHD_RequestTerminationCode toe)
{
	struct request *rq = *con_cls;

	if (rq == NULL)
		return;
	if (rq->pp)
		MHD_destroy_post_processor(rq->pp);
	for (int i = 0; i < rq->nfields; i++)
	{
		free(rq->keys[i]);
		free(rq->values[i]);
	}
	free(rq);
	*con_cls = NULL;
}

enum MHD_Result
web_handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
		   const char *version, const char *upload_data, size_t *upload_data_size,
		   void **con_cls)
{
	struct request *rq = *con_cls;

	if (rq == NULL)
	{
		const char *ctype;

		rq = calloc(1, sizeof(*rq));
		if (rq == NULL)
			return MHD_NO;
		*con_cls = rq;
		rq->post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
		if (rq->post)
		{
			ctype = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
			if (ctype && strncmp(ctype, MHD_HTTP_POST_ENCODING_FORM_URLENCODED,
								 strlen(MHD_HTTP_POST_ENCODING_FORM_URLENCODED)) == 0)
				rq->pp = MHD_create_post_processor(c, 4096, collect_field, rq);
			else
				rq->not_form = true;	/* fine while there is no body (logout) */
		}
		return MHD_YES;
	}
	if (*upload_data_size > 0)
	{
		rq->body += *upload_data_size;
		if (rq->body > MAX_BODY)
			rq->too_big = true;
		else if (rq->not_form)
			rq->bad_type = true;
		else if (rq->pp && MHD_post_process(rq->pp, upload_data, *upload_data_size) != MHD_YES)
			rq->bad_type = true;
		*upload_data_size = 0;
		return MHD_YES;
	}

	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && !rq->post)
		return web_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and POST");
	if (strcmp(url, "/") == 0 && !rq->post)
		return web_static(c, "index.html");
	if (strncmp(url, "/static/", 8) == 0 && !rq->post)
		return web_static(c, url + 8);
	if (strncmp(url, "/api/", 5) != 0)
		return web_error(c, MHD_HTTP_NOT_FOUND, "no such page");
	if (rq->post)
	{
		if (rq->too_big)
			return web_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large");
		if (rq->bad_type)
			return web_error(c, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
							 "POST bodies are application/x-www-form-urlencoded");
		return endpoint_dispatch(c, url + 5, true, form_value, rq);
	}
	{
		struct get_ctx g = {c};

		return endpoint_dispatch(c, url + 5, false, query_value, &g);
	}
}
