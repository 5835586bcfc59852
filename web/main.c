/*
 * main.c: nfpg-web, NfSen's pages for nfpg -- options and the daemon's life.
 *
 *   nfpg-web [--listen 127.0.0.1:8080] [--conninfo 'host=127.0.0.1 dbname=nfpg']
 *            [--static DIR] [--chartjs FILE] [--statement-timeout MS]
 *            [--idle-timeout S] [--max-sessions N] [--allow-superuser]
 *            [--tls-cert FILE --tls-key FILE] [--pidfile FILE]
 *
 * It listens on the loopback address unless told otherwise: the page shows
 * flows, so exposing it is a decision (put a TLS reverse proxy in front, or
 * give it a certificate; docs/web.md).  libmicrohttpd runs one thread per
 * connection, which suits requests that mostly wait for the database; the
 * main thread only waits for SIGTERM/SIGINT and then closes every session.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "web.h"

#ifndef NFPG_WEB_STATIC
#define NFPG_WEB_STATIC "/usr/local/share/nfpg-web"
#endif

struct web_config web_cfg = {
	.conninfo = "host=127.0.0.1 dbname=nfpg",
	.static_dir = NFPG_WEB_STATIC,
	.chartjs = "/usr/share/javascript/chart.js/chart.min.js",
	.statement_timeout_ms = 30000,
	.idle_timeout_s = 8 * 3600,
	.max_sessions = 64,
};

static void
usage(FILE *f)
{
	fprintf(f,
			"usage: nfpg-web [options]\n"
			"  -l, --listen ADDR:PORT       address to listen on (127.0.0.1:8080; [::1]:8080 for IPv6)\n"
			"  -d, --conninfo CONNINFO      database to log users in to, without user\n"
			"                               (host=127.0.0.1 dbname=nfpg); needs password auth\n"
			"  -S, --static DIR             the page's files (%s)\n"
			"      --chartjs FILE           Chart.js (/usr/share/javascript/chart.js/chart.min.js)\n"
			"  -t, --statement-timeout MS   limit of every query (30000)\n"
			"      --idle-timeout S         close a login unused this long (28800)\n"
			"      --max-sessions N         logins open at once (64)\n"
			"      --allow-superuser        let superusers log in (they bypass row-level security)\n"
			"      --tls-cert FILE, --tls-key FILE   serve HTTPS (PEM)\n"
			"      --pidfile FILE           write the process id\n",
			NFPG_WEB_STATIC);
}

static char *
read_file(const char *path)
{
	FILE	   *f = fopen(path, "rb");
	char	   *buf;
	long		len;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	buf = malloc(len + 1);
	if (buf && fread(buf, 1, len, f) == (size_t) len)
		buf[len] = '\0';
	else
	{
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/* "127.0.0.1:8080" or "[::1]:8080" into a socket address. */
static int
parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char		host[128];
	const char *colon;
	long		port;
	struct sockaddr_in *in4 = (struct sockaddr_in *) ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) ss;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[')
	{
		const char *end = strchr(s, ']');

		if (end == NULL || end[1] != ':' || (size_t) (end - s - 1) >= sizeof(host))
			return -1;
		snprintf(host, sizeof(host), "%.*s", (int) (end - s - 1), s + 1);
		colon = end + 1;
	}
	else
	{
		colon = strrchr(s, ':');
		if (colon == NULL || (size_t) (colon - s) >= sizeof(host))
			return -1;
		snprintf(host, sizeof(host), "%.*s", (int) (colon - s), s);
	}
	port = strtol(colon + 1, NULL, 10);
	if (port < 1 || port > 65535)
		return -1;
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1)
	{
		in4->sin_family = AF_INET;
		in4->sin_port = htons(port);
		*len = sizeof(*in4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1)
	{
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		*len = sizeof(*in6);
		return 0;
	}
	return -1;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"listen", required_argument, NULL, 'l'},
		{"conninfo", required_argument, NULL, 'd'},
		{"static", required_argument, NULL, 'S'},
		{"chartjs", required_argument, NULL, 'c'},
		{"statement-timeout", required_argument, NULL, 't'},
		{"idle-timeout", required_argument, NULL, 'i'},
		{"max-sessions", required_argument, NULL, 'm'},
		{"allow-superuser", no_argument, NULL, 'U'},
		{"tls-cert", required_argument, NULL, 'C'},
		{"tls-key", required_argument, NULL, 'K'},
		{"pidfile", required_argument, NULL, 'p'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	const char *listen = "127.0.0.1:8080";
	const char *cert_file = NULL;
	const char *key_file = NULL;
	const char *pidfile = NULL;
	char	   *cert = NULL;
	char	   *key = NULL;
	struct sockaddr_storage ss;
	socklen_t	sslen;
	struct MHD_Daemon *d;
	unsigned int flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
		MHD_USE_ERROR_LOG;
	sigset_t	set;
	int			sig;
	int			o;

	while ((o = getopt_long(argc, argv, "l:d:S:t:h", opts, NULL)) != -1)
	{
		switch (o)
		{
			case 'l': listen = optarg; break;
			case 'd': web_cfg.conninfo = optarg; break;
			case 'S': web_cfg.static_dir = optarg; break;
			case 'c': web_cfg.chartjs = optarg; break;
			case 't': web_cfg.statement_timeout_ms = atoi(optarg); break;
			case 'i': web_cfg.idle_timeout_s = atoi(optarg); break;
			case 'm': web_cfg.max_sessions = atoi(optarg); break;
			case 'U': web_cfg.allow_superuser = true; break;
			case 'C': cert_file = optarg; break;
			case 'K': key_file = optarg; break;
			case 'p': pidfile = optarg; break;
			case 'h': usage(stdout); return 0;
			default: usage(stderr); return 2;
		}
	}
	if (optind < argc || web_cfg.statement_timeout_ms <= 0 || web_cfg.idle_timeout_s <= 0 ||
		web_cfg.max_sessions <= 0)
	{
		usage(stderr);
		return 2;
	}
	if (parse_listen(listen, &ss, &sslen) != 0)
	{
		fprintf(stderr, "nfpg-web: cannot listen on \"%s\": give ADDR:PORT\n", listen);
		return 2;
	}
	if ((cert_file == NULL) != (key_file == NULL))
	{
		fprintf(stderr, "nfpg-web: --tls-cert and --tls-key go together\n");
		return 2;
	}
	if (cert_file)
	{
		cert = read_file(cert_file);
		key = read_file(key_file);
		if (cert == NULL || key == NULL)
		{
			fprintf(stderr, "nfpg-web: cannot read the TLS certificate or key\n");
			return 1;
		}
		flags |= MHD_USE_TLS;
		web_cfg.tls = true;
	}
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;

	/* SIGTERM/SIGINT are waited for below; every thread inherits the mask */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (cert)
		d = MHD_start_daemon(flags, 0, NULL, NULL, web_handle, NULL,
							 MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &ss,
							 MHD_OPTION_NOTIFY_COMPLETED, web_request_done, NULL,
							 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) 120,
							 MHD_OPTION_CONNECTION_LIMIT, (unsigned int) 256,
							 MHD_OPTION_HTTPS_MEM_CERT, cert,
							 MHD_OPTION_HTTPS_MEM_KEY, key,
							 MHD_OPTION_END);
	else
		d = MHD_start_daemon(flags, 0, NULL, NULL, web_handle, NULL,
							 MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &ss,
							 MHD_OPTION_NOTIFY_COMPLETED, web_request_done, NULL,
							 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) 120,
							 MHD_OPTION_CONNECTION_LIMIT, (unsigned int) 256,
							 MHD_OPTION_END);
	if (d == NULL)
	{
		fprintf(stderr, "nfpg-web: cannot listen on %s\n", listen);
		return 1;
	}
	if (pidfile)
	{
		FILE	   *f = fopen(pidfile, "w");

		if (f)
		{
			fprintf(f, "%ld\n", (long) getpid());
			fclose(f);
		}
	}
	/* not the conninfo: whatever an administrator put in it stays out of logs */
	fprintf(stderr, "nfpg-web: listening on %s://%s/\n", cert ? "https" : "http", listen);

	sigwait(&set, &sig);
	fprintf(stderr, "nfpg-web: signal %d, stopping\n", sig);
	MHD_stop_daemon(d);
	session_close_all();
	if (pidfile)
		unlink(pidfile);
	free(cert);
	if (key)
		explicit_bzero(key, strlen(key));
	free(key);
	return 0;
}
