/*-------------------------------------------------------------------------
 *
 * config.c
 *		The table of nfpgd's settings and the parser of its config file.
 *
 * Like pgbouncer, every setting is one row of a table: name, type, where
 * it lives in Config, its default, whether SIGHUP may change it in a
 * running daemon, and its bounds.  The file parser, the -o KEY=VALUE flag,
 * the reload logic and the documentation all work from this one table.
 *
 * File syntax: "key = value" per line; a line whose first non-blank
 * character is '#' or ';' is a comment.  Everything after the '=' is the
 * value, trimmed, so a conninfo needs no quoting; a value wholly enclosed in
 * single or double quotes loses them (to keep leading or trailing blanks).
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"

#define OFF(field)	offsetof(Config, field)
#define SEC_MAX		(86400 * 365)

const ConfigKey config_keys[] = {
	{"listen", CFG_STRING, OFF(listen), "127.0.0.1:9995", false, 0, 0,
	"UDP addresses to receive exports on: ADDR:PORT, [ADDR6]:PORT or *:PORT, separated by spaces or commas"},
	{"allow_exporters", CFG_STRING, OFF(allow_exporters), "", true, 0, 0,
	"take datagrams only from these sources: ADDR[/LEN][@LISTEN], separated by spaces or commas; LISTEN (a listen entry or a port) limits an entry to that listener; empty: any source"},
	{"rcvbuf", CFG_SIZE, OFF(rcvbuf), "8M", false, 0, INT32_MAX,
	"SO_RCVBUF of each socket (bytes); capped by net.core.rmem_max unless running with CAP_NET_ADMIN"},
	{"conninfo", CFG_STRING, OFF(conninfo), "", true, 0, 0,
	"libpq connection string; empty: PGHOST, PGPORT, PGDATABASE, PGUSER ... from the environment"},
	{"writers", CFG_INT, OFF(writers), "2", false, 1, 16,
	"writer threads, each with its own database connection and COPY stream"},
	{"queue_size", CFG_SIZE, OFF(queue_bytes), "64M", false, 1 << 20, INT64_C(1) << 40,
	"memory for datagrams received but not yet decoded; when full, datagrams are dropped and counted"},
	{"queue_overflow", CFG_SIZE, OFF(queue_overflow_bytes), "1G", false, 0, INT64_MAX,
	"disk (a file in spool_dir) for datagrams that do not fit in queue_size, counted by backlog; 0 = none: drop instead"},
	{"batch_queue", CFG_INT, OFF(batch_queue), "8", false, 1, 4096,
	"finished batches waiting for a writer; when full, the decoder waits while the datagram queue is less than 3/4 full, then spools"},
	{"batch_flows", CFG_INT, OFF(batch_flows), "20000", true, 1, 10000000,
	"flows per COPY batch"},
	{"flush_interval", CFG_INT, OFF(flush_interval_ms), "1000", true, 10, 3600000,
	"milliseconds after which a batch is sent even if not full"},
	{"spool_dir", CFG_STRING, OFF(spool_dir), "/var/spool/nfpgd", false, 0, 0,
	"directory for batches that could not be written to the database"},
	{"spool_max_size", CFG_SIZE, OFF(spool_max_bytes), "0", true, 0, INT64_MAX,
	"stop spooling (and drop, counted) beyond this many bytes; 0 = until the disk is full"},
	{"spool_compression", CFG_INT, OFF(spool_compression), "1", true, 1, 9,
	"bzip2 block size level (1-9) of spool files"},
	{"retry_interval", CFG_INT, OFF(retry_interval), "5", true, 1, 3600,
	"seconds between attempts to reach the database while it is down"},
	{"statement_timeout", CFG_INT, OFF(statement_timeout), "60", true, 0, 86400,
	"seconds a COPY may take before the batch is spooled instead (0 = no limit)"},
	{"stats_interval", CFG_INT, OFF(stats_interval), "60", true, 0, 86400,
	"seconds between statistics lines in the log (0 = never)"},
	{"exporter_interval", CFG_INT, OFF(exporter_interval), "10", true, 1, 86400,
	"seconds between reports of per-exporter counters to nfpg.exporters"},
	{"partition_future_limit", CFG_INT, OFF(partition_future_limit), "86400", true, 0, SEC_MAX,
	"do not create partitions for flows more than this many seconds in the future (they go to nfpg.flows_default)"},
	{"flow_window_past", CFG_INT, OFF(flow_window_past), "0", true, 0, INT32_MAX,
	"flows whose first_seen is more than this many seconds before their arrival go to spool_dir/quarantine, not nfpg.flows (0 = no bound)"},
	{"flow_window_future", CFG_INT, OFF(flow_window_future), "86400", true, 0, INT32_MAX,
	"flows whose first_seen is more than this many seconds after their arrival go to spool_dir/quarantine, not nfpg.flows (0 = no bound)"},
	{"quarantine_max_size", CFG_SIZE, OFF(quarantine_max_bytes), "256M", true, 0, INT64_MAX,
	"stop keeping quarantined flows (count them as lost) beyond this many bytes in spool_dir/quarantine; 0 = until the disk is full"},
	{"batch_log_keep", CFG_INT, OFF(batch_log_keep), "7", true, 1, 3650,
	"days that nfpg.loader_batches remembers loaded batch ids"},
	{"instance", CFG_STRING, OFF(instance), "", false, 0, 0,
	"name of this loader in batch ids; empty: the host name"},
	{"pidfile", CFG_STRING, OFF(pidfile), "", false, 0, 0,
	"write the process id here (empty: no pidfile)"},
	{"syslog", CFG_BOOL, OFF(syslog), "off", true, 0, 0,
	"log to syslog instead of stderr"},
	{"syslog_ident", CFG_STRING, OFF(syslog_ident), "nfpgd", false, 0, 0,
	"syslog program name"},
	{"syslog_facility", CFG_STRING, OFF(syslog_facility), "daemon", false, 0, 0,
	"syslog facility (daemon, user, local0 ... local7)"},
	{"log_level", CFG_STRING, OFF(log_level), "info", true, 0, 0,
	"error, warning, info or debug"},
	{"sampling_upscale", CFG_BOOL, OFF(sampling_upscale), "off", false, 0, 0,
	"multiply packets and bytes by the sampling interval, as nfcapd does"},
	{"default_sampling", CFG_INT, OFF(default_sampling), "0", false, INT32_MIN, INT32_MAX,
	"sampling interval assumed when the exporter announces none; negative: override the exporter's (nfcapd -s)"},
	{"anonymize_key_file", CFG_STRING, OFF(anonymize_key_file), "", false, 0, 0,
	"anonymize addresses with Crypto-PAn using the key in this file (empty: off)"},
	{NULL}
};

static void *
field_ptr(const Config *c, const ConfigKey *k)
{
	return (char *) c + k->offset;
}

const ConfigKey *
config_find(const char *name)
{
	for (const ConfigKey *k = config_keys; k->name; k++)
		if (strcmp(k->name, name) == 0)
			return k;
	return NULL;
}

static int
parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = {"on", "true", "yes", "1"};
	static const char *const no[] = {"off", "false", "no", "0"};

	for (int i = 0; i < 4; i++)
	{
		if (strcasecmp(v, yes[i]) == 0)
			return *out = true, 0;
		if (strcasecmp(v, no[i]) == 0)
			return *out = false, 0;
	}
	return -1;
}

/* An integer with an optional k/M/G (powers of 1024) suffix for sizes. */
static int
parse_int(const char *v, bool size, int64_t *out)
{
	char	   *end;
	long long	n;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno || end == v)
		return -1;
	if (size && *end)
	{
		int			shift = 0;

		switch (toupper((unsigned char) *end))
		{
			case 'K':
				shift = 10;
				break;
			case 'M':
				shift = 20;
				break;
			case 'G':
				shift = 30;
				break;
			default:
				return -1;
		}
		end++;
		if (toupper((unsigned char) *end) == 'B')
			end++;
		if (n > (INT64_MAX >> shift) || n < -(INT64_MAX >> shift))
			return -1;
		n <<= shift;
	}
	if (*end)
		return -1;
	*out = n;
	return 0;
}

/* Store value in key; returns 0, or -1 with a message in err. */
int
config_set(Config *c, const char *key, const char *value, char *err, size_t errlen)
{
	const ConfigKey *k = config_find(key);
	int64_t		n;

	if (k == NULL)
		return snprintf(err, errlen, "unknown setting \"%s\"", key), -1;
	switch (k->type)
	{
		case CFG_STRING:
			{
				char	  **s = field_ptr(c, k);
				char	   *copy = strdup(value);

				if (copy == NULL)
					return snprintf(err, errlen, "out of memory"), -1;
				free(*s);
				*s = copy;
				return 0;
			}
		case CFG_BOOL:
			if (parse_bool(value, field_ptr(c, k)) < 0)
				return snprintf(err, errlen, "%s: \"%s\" is not a boolean (on/off)", key, value), -1;
			return 0;
		case CFG_INT:
		case CFG_SIZE:
			if (parse_int(value, k->type == CFG_SIZE, &n) < 0)
				return snprintf(err, errlen, "%s: \"%s\" is not %s", key, value,
								k->type == CFG_SIZE ? "a size (bytes, or with k/M/G)" : "an integer"), -1;
			if (n < k->min || n > k->max)
				return snprintf(err, errlen, "%s: %s is outside [%lld, %lld]", key, value,
								(long long) k->min, (long long) k->max), -1;
			if (k->type == CFG_SIZE)
				*(int64_t *) field_ptr(c, k) = n;
			else
				*(int *) field_ptr(c, k) = (int) n;
			return 0;
	}
	return -1;
}

void
config_init(Config *c)
{
	char		err[256];

	memset(c, 0, sizeof(*c));
	for (const ConfigKey *k = config_keys; k->name; k++)
		if (config_set(c, k->name, k->default_value, err, sizeof(err)) < 0)
			abort();			/* a bad default is a programming error */
}

void
config_free(Config *c)
{
	for (const ConfigKey *k = config_keys; k->name; k++)
		if (k->type == CFG_STRING)
		{
			char	  **s = field_ptr(c, k);

			free(*s);
			*s = NULL;
		}
}

static char *
trim(char *s)
{
	char	   *e;

	while (isspace((unsigned char) *s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char) e[-1]))
		*--e = '\0';
	return s;
}

static char *
unquote(char *v)
{
	size_t		n = strlen(v);

	if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0])
	{
		v[n - 1] = '\0';
		return v + 1;
	}
	return v;
}

int
config_load_file(Config *c, const char *path, char *err, size_t errlen)
{
	FILE	   *f = fopen(path, "r");
	char		line[4096];
	int			lineno = 0;

	if (f == NULL)
		return snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno)), -1;
	while (fgets(line, sizeof(line), f))
	{
		char	   *s = trim(line),
				   *eq,
					msg[256];

		lineno++;
		if (*s == '\0' || *s == '#' || *s == ';')
			continue;
		eq = strchr(s, '=');
		if (eq == NULL)
		{
			snprintf(err, errlen, "%s:%d: expected \"key = value\"", path, lineno);
			fclose(f);
			return -1;
		}
		*eq = '\0';
		if (config_set(c, trim(s), unquote(trim(eq + 1)), msg, sizeof(msg)) < 0)
		{
			snprintf(err, errlen, "%s:%d: %s", path, lineno, msg);
			fclose(f);
			return -1;
		}
	}
	fclose(f);
	return 0;
}

bool
config_key_equal(const Config *a, const Config *b, const ConfigKey *k)
{
	switch (k->type)
	{
		case CFG_STRING:
			return strcmp(*(char **) field_ptr(a, k), *(char **) field_ptr(b, k)) == 0;
		case CFG_BOOL:
			return *(bool *) field_ptr(a, k) == *(bool *) field_ptr(b, k);
		case CFG_INT:
			return *(int *) field_ptr(a, k) == *(int *) field_ptr(b, k);
		case CFG_SIZE:
			return *(int64_t *) field_ptr(a, k) == *(int64_t *) field_ptr(b, k);
	}
	return false;
}

void
config_format_value(const Config *c, const ConfigKey *k, char *buf, size_t len)
{
	switch (k->type)
	{
		case CFG_STRING:
			snprintf(buf, len, "%s", *(char **) field_ptr(c, k));
			break;
		case CFG_BOOL:
			snprintf(buf, len, "%s", *(bool *) field_ptr(c, k) ? "on" : "off");
			break;
		case CFG_INT:
			snprintf(buf, len, "%d", *(int *) field_ptr(c, k));
			break;
		case CFG_SIZE:
			snprintf(buf, len, "%lld", (long long) *(int64_t *) field_ptr(c, k));
			break;
	}
}
