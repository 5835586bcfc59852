/*-------------------------------------------------------------------------
 *
 * main.c
 *		nfpgd: receive NetFlow/IPFIX/sFlow exports and load them into
 *		PostgreSQL (nfpg.flows) with binary COPY.
 *
 * This file is the process: options, config loading, pidfile, signals and
 * the statistics line.  The main thread starts the workers (daemon.c) and
 * then only waits for signals:
 *
 *	  SIGHUP			re-read the config file (and re-apply the flags);
 *						reloadable keys take effect, others are reported
 *	  SIGTERM, SIGINT	stop receiving, decode and write everything already
 *						received (to the database, or the spool), then exit
 *	  a second one		stop faster: whatever is still queued goes to the
 *						spool instead of the database
 *
 * nfpgd does not fork: run it under systemd (nfpgd.service) or a shell.
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "pidfile.h"

#define NFPGD_VERSION "0.13"
#define MAX_FLAGS	64

typedef struct Flag
{
	const char *key;
	const char *value;
} Flag;

static Flag flags[MAX_FLAGS];
static int	n_flags;
static const char *config_path;

static Daemon daemon_state;
static Pidfile pidfile = {.fd = -1};

static void
usage(FILE *out)
{
	fprintf(out,
			"nfpgd " NFPGD_VERSION " - NetFlow/IPFIX/sFlow collector loading into PostgreSQL\n\n"
			"Usage: nfpgd [OPTION]...\n\n"
			"  -c, --config=FILE         read settings from FILE (key = value lines)\n"
			"  -l, --listen=ADDR:PORT    UDP address(es) to listen on (default 127.0.0.1:9995)\n"
			"  -n, --allow=PREFIX[@LISTEN]  take datagrams only from these exporters (repeatable)\n"
			"  -d, --conninfo=CONNINFO   libpq connection string (default: PG* environment)\n"
			"  -s, --spool-dir=DIR       spool directory (default /var/spool/nfpgd)\n"
			"  -B, --rcvbuf=BYTES        socket receive buffer (default 8M)\n"
			"  -p, --pidfile=FILE        write the process id to FILE\n"
			"  -S, --syslog              log to syslog instead of stderr\n"
			"  -v, --verbose             log at debug level\n"
			"  -o, --set=KEY=VALUE       set any config key (repeatable)\n"
			"  -t, --check               check the configuration, print it and exit\n"
			"  -V, --version             print the version and exit\n"
			"  -h, --help                this help\n\n"
			"Flags override the config file.  Signals: SIGHUP reloads, SIGTERM flushes and exits.\n"
			"See nfpgd(8) and docs/loader.md.\n");
}

static void
add_flag(const char *key, const char *value)
{
	if (n_flags == MAX_FLAGS)
	{
		fprintf(stderr, "nfpgd: too many options\n");
		exit(2);
	}
	flags[n_flags].key = key;
	flags[n_flags].value = value;
	n_flags++;
}

/* Several -l (or -n) flags add up to one list, replacing the file's. */
static void
add_to_list(const char *key, char *list, size_t size, const char *item)
{
	size_t		n = strlen(list);

	if (n == 0)
		add_flag(key, list);
	if (n + strlen(item) + 2 > size)
	{
		fprintf(stderr, "nfpgd: the %s flags are too long\n", key);
		exit(2);
	}
	snprintf(list + n, size - n, "%s%s", n ? " " : "", item);
}

static void
add_set_flag(char *arg)
{
	char	   *eq = strchr(arg, '=');

	if (eq == NULL)
	{
		fprintf(stderr, "nfpgd: -o wants KEY=VALUE, not \"%s\"\n", arg);
		exit(2);
	}
	*eq = '\0';
	add_flag(arg, eq + 1);
}

/* Defaults, then the file, then the flags; -1 with a message on error. */
static int
load_config(Config *c, char *err, size_t errlen)
{
	config_init(c);
	if (config_path && config_load_file(c, config_path, err, errlen) < 0)
		return -1;
	for (int i = 0; i < n_flags; i++)
		if (config_set(c, flags[i].key, flags[i].value, err, errlen) < 0)
			return -1;
	return 0;
}

static void
apply_logging(const Config *c)
{
	LogLevel	level = LOG_LVL_INFO;

	if (!log_level_parse(c->log_level, &level))
		log_warning("log_level \"%s\" unknown; using info", c->log_level);
	log_setup(c->syslog, c->syslog_ident, c->syslog_facility, level);
}

static void
print_config(const Config *c)
{
	char		buf[2048];

	for (const ConfigKey *k = config_keys; k->name; k++)
	{
		config_format_value(c, k, buf, sizeof(buf));
		/* A password in the conninfo is not for the terminal. */
		if (strcmp(k->name, "conninfo") == 0 && strstr(buf, "password"))
			snprintf(buf, sizeof(buf), "(contains a password; not shown)");
		printf("%s = %s\n", k->name, buf);
	}
}

/*
 * SIGHUP: read the configuration again.  Reloadable keys are copied into
 * the running settings; a changed non-reloadable key is reported and
 * keeps its old value until restart.  A file with an error changes nothing.
 */
static void
reload(Daemon *d)
{
	Config		fresh;
	char		err[512],
				buf[2048];
	int			changed = 0;

	AllowList  *allow = NULL;
	bool		allow_changed;

	if (load_config(&fresh, err, sizeof(err)) < 0)
	{
		log_error("reload failed, keeping the current settings: %s", err);
		config_free(&fresh);
		return;
	}
	allow_changed = strcmp(fresh.allow_exporters, d->cfg.allow_exporters) != 0;
	if (allow_changed && receiver_allow_build(d, fresh.allow_exporters, &allow, err, sizeof(err)) < 0)
	{
		log_error("reload failed, keeping the current settings: %s", err);
		config_free(&fresh);
		return;
	}
	pthread_mutex_lock(&d->cfg_lock);
	for (const ConfigKey *k = config_keys; k->name; k++)
	{
		if (config_key_equal(&d->cfg, &fresh, k))
			continue;
		if (!k->reloadable)
		{
			log_warning("reload: %s changed; restart nfpgd to apply it", k->name);
			continue;
		}
		config_format_value(&fresh, k, buf, sizeof(buf));
		config_set(&d->cfg, k->name, buf, err, sizeof(err));
		log_info("reload: %s changed", k->name);
		changed++;
	}
	apply_logging(&d->cfg);
	spool_set_limits(&d->spool, d->cfg.spool_max_bytes, d->cfg.spool_compression);
	spool_set_limits(&d->quarantine, d->cfg.quarantine_max_bytes, d->cfg.spool_compression);
	pthread_mutex_unlock(&d->cfg_lock);
	if (allow_changed)
		receiver_allow_install(d, allow, true);
	config_free(&fresh);
	log_info("configuration reloaded (%d settings changed)", changed);
}

typedef struct Snapshot
{
	int64_t		at;
	uint64_t	flows;
	uint64_t	db_flows;
	uint64_t	drops;
} Snapshot;

static void
snapshot(Daemon *d, Snapshot *s)
{
	s->at = mono_ms();
	s->flows = atomic_load(&d->stats.flows);
	s->db_flows = atomic_load(&d->stats.db_flows) + atomic_load(&d->stats.replayed_flows);
	s->drops = atomic_load(&d->stats.rx_queue_drops) + atomic_load(&d->stats.rx_socket_drops);
}

/* The periodic one-line summary. */
static void
log_stats(Daemon *d, Snapshot *prev, const char *label)
{
	Snapshot	now;
	double		secs;
	uint64_t	files,
				bytes;
	Stats	   *st = &d->stats;

	snapshot(d, &now);
	secs = (now.at - prev->at) / 1000.0;
	if (secs <= 0)
		secs = 1;
	spool_usage(&d->spool, &files, &bytes);
	log_info("%s: %.0f flows/s in, %.0f flows/s to db, %llu drops (%llu queue, %llu socket), "
			 "%llu rejected datagrams, %llu denied, %llu flows out of window, "
			 "queue %zu KiB + %zu batches, spool %llu files %llu KiB, "
			 "%llu flows spooled, %llu replayed, %llu lost, db %d/%d connected",
			 label, (now.flows - prev->flows) / secs, (now.db_flows - prev->db_flows) / secs,
			 (unsigned long long) (now.drops - prev->drops),
			 (unsigned long long) atomic_load(&st->rx_queue_drops),
			 (unsigned long long) atomic_load(&st->rx_socket_drops),
			 (unsigned long long) atomic_load(&st->rejected),
			 (unsigned long long) atomic_load(&st->denied),
			 (unsigned long long) atomic_load(&st->out_of_window),
			 packet_ring_used(&d->ring) / 1024, ptr_queue_count(&d->batches),
			 (unsigned long long) files, (unsigned long long) bytes / 1024,
			 (unsigned long long) atomic_load(&st->spooled_flows),
			 (unsigned long long) atomic_load(&st->replayed_flows),
			 (unsigned long long) atomic_load(&st->lost_flows),
			 atomic_load(&st->db_connected), d->cfg.writers);
	*prev = now;
}

/* The totals since start, once at exit. */
static void
log_totals(Daemon *d)
{
	Stats	   *st = &d->stats;

	log_info("totals: %llu datagrams, %llu flows decoded, %llu to db directly, %llu spooled, "
			 "%llu replayed, %llu lost, %llu dropped datagrams (%llu queue, %llu socket), "
			 "%llu rejected datagrams, %llu denied datagrams, %llu flows out of window",
			 (unsigned long long) atomic_load(&st->rx_packets),
			 (unsigned long long) atomic_load(&st->flows),
			 (unsigned long long) atomic_load(&st->db_flows),
			 (unsigned long long) atomic_load(&st->spooled_flows),
			 (unsigned long long) atomic_load(&st->replayed_flows),
			 (unsigned long long) atomic_load(&st->lost_flows),
			 (unsigned long long) (atomic_load(&st->rx_queue_drops) + atomic_load(&st->rx_socket_drops)),
			 (unsigned long long) atomic_load(&st->rx_queue_drops),
			 (unsigned long long) atomic_load(&st->rx_socket_drops),
			 (unsigned long long) atomic_load(&st->rejected),
			 (unsigned long long) atomic_load(&st->denied),
			 (unsigned long long) atomic_load(&st->out_of_window));
}

/* Wait for signals until the workers have finished. */
static void
signal_loop(Daemon *d, const sigset_t *set)
{
	Snapshot	prev;
	int64_t		next_stats;
	int			stops = 0;

	snapshot(d, &prev);
	next_stats = prev.at + (int64_t) d->cfg.stats_interval * 1000;
	while (!daemon_stopped(d))
	{
		struct timespec wait = {0, 200 * 1000000L};
		int			sig = sigtimedwait(set, NULL, &wait);

		if (sig == SIGHUP)
			reload(d);
		else if (sig == SIGTERM || sig == SIGINT)
		{
			if (stops++ == 0)
			{
				log_info("received %s: flushing and stopping", strsignal(sig));
				daemon_stop(d);
			}
			else
			{
				log_info("received %s again: spooling what is left", strsignal(sig));
				atomic_store(&d->fast_exit, true);
			}
		}
		if (d->cfg.stats_interval > 0 && mono_ms() >= next_stats)
		{
			log_stats(d, &prev, "stats");
			next_stats = mono_ms() + (int64_t) d->cfg.stats_interval * 1000;
		}
	}
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"listen", required_argument, NULL, 'l'},
		{"allow", required_argument, NULL, 'n'},
		{"conninfo", required_argument, NULL, 'd'},
		{"spool-dir", required_argument, NULL, 's'},
		{"rcvbuf", required_argument, NULL, 'B'},
		{"pidfile", required_argument, NULL, 'p'},
		{"syslog", no_argument, NULL, 'S'},
		{"verbose", no_argument, NULL, 'v'},
		{"set", required_argument, NULL, 'o'},
		{"check", no_argument, NULL, 't'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	static char listen[4096],
				allow[4096];
	Daemon	   *d = &daemon_state;
	sigset_t	set;
	char		err[512];
	int			c,
				check_only = 0;

	while ((c = getopt_long(argc, argv, "c:l:n:d:s:B:p:Svo:tVh", longopts, NULL)) != -1)
	{
		switch (c)
		{
			case 'c': config_path = optarg; break;
			case 'l': add_to_list("listen", listen, sizeof(listen), optarg); break;
			case 'n': add_to_list("allow_exporters", allow, sizeof(allow), optarg); break;
			case 'd': add_flag("conninfo", optarg); break;
			case 's': add_flag("spool_dir", optarg); break;
			case 'B': add_flag("rcvbuf", optarg); break;
			case 'p': add_flag("pidfile", optarg); break;
			case 'S': add_flag("syslog", "on"); break;
			case 'v': add_flag("log_level", "debug"); break;
			case 'o': add_set_flag(optarg); break;
			case 't': check_only = 1; break;
			case 'V': puts("nfpgd " NFPGD_VERSION); return 0;
			case 'h': usage(stdout); return 0;
			default: usage(stderr); return 2;
		}
	}
	if (optind < argc)
	{
		fprintf(stderr, "nfpgd: unexpected argument \"%s\"\n", argv[optind]);
		return 2;
	}
	if (load_config(&d->cfg, err, sizeof(err)) < 0)
	{
		fprintf(stderr, "nfpgd: %s\n", err);
		return 2;
	}
	if (check_only)
	{
		AllowEntry *entries;
		int			n;

		if (allow_parse(d->cfg.allow_exporters, &entries, &n, err, sizeof(err)) < 0)
		{
			fprintf(stderr, "nfpgd: %s\n", err);
			return 2;
		}
		free(entries);
		print_config(&d->cfg);
		return 0;
	}
	apply_logging(&d->cfg);

	/* Signals are taken by the main thread only: block them everywhere. */
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (d->cfg.pidfile[0] && pidfile_open(&pidfile, d->cfg.pidfile, err, sizeof(err)) < 0)
	{
		log_error("%s", err);
		return 1;
	}
	if (daemon_init(d, &d->cfg) < 0 || daemon_start(d, d->cfg.writers) < 0)
	{
		pidfile_close(&pidfile);
		return 1;
	}
	log_info("nfpgd " NFPGD_VERSION " started (instance %s, %d writers, spool %s)",
			 d->instance, d->cfg.writers, d->cfg.spool_dir);

	signal_loop(d, &set);
	daemon_join(d);
	log_totals(d);
	pidfile_close(&pidfile);
	config_free(&d->cfg);
	return 0;
}
