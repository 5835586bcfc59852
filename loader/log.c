/*-------------------------------------------------------------------------
 *
 * log.c
 *		Leveled logging for nfpgd: one line per message, to stderr (with a
 *		UTC timestamp, for foreground runs and systemd's journal) or to
 *		syslog.
 *
 * Every thread logs; each message is formatted into one buffer and written
 * with a single call, so lines from different threads never interleave.
 * The settings are plain ints read without locks: a reload that changes
 * them races only with the choice of sink for one message.
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static int	log_to_syslog;
static LogLevel log_threshold = LOG_LVL_INFO;

static const char *const level_names[] = {"error", "warning", "info", "debug"};
static const int level_priorities[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};

static const struct
{
	const char *name;
	int			code;
}			facilities[] =
{
	{"daemon", LOG_DAEMON}, {"user", LOG_USER}, {"local0", LOG_LOCAL0},
	{"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2}, {"local3", LOG_LOCAL3},
	{"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5}, {"local6", LOG_LOCAL6},
	{"local7", LOG_LOCAL7},
};

static int
facility_code(const char *name)
{
	for (size_t i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++)
		if (name && strcasecmp(name, facilities[i].name) == 0)
			return facilities[i].code;
	return LOG_DAEMON;
}

/*
 * (Re)configure the sink.  Called at start and on every reload; openlog()
 * keeps a pointer to ident, so it must outlive the program (a config
 * string that is never freed while syslog is on).
 */
void
log_setup(int use_syslog, const char *ident, const char *facility, LogLevel level)
{
	if (log_to_syslog && !use_syslog)
		closelog();
	if (use_syslog)
		openlog(ident ? ident : "nfpgd", LOG_PID | LOG_NDELAY, facility_code(facility));
	log_to_syslog = use_syslog;
	log_threshold = level;
}

int
log_level_parse(const char *name, LogLevel *out)
{
	for (int i = 0; i <= LOG_LVL_DEBUG; i++)
		if (strcasecmp(name, level_names[i]) == 0)
		{
			*out = (LogLevel) i;
			return 1;
		}
	return 0;
}

void
log_msg(LogLevel level, const char *fmt,...)
{
	char		line[2048];
	int			n = 0;
	va_list		ap;

	if (level > log_threshold)
		return;
	if (!log_to_syslog)
	{
		struct timespec ts;
		struct tm	tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		n = (int) strftime(line, sizeof(line), "%Y-%m-%d %H:%M:%S", &tm);
		n += snprintf(line + n, sizeof(line) - n, ".%03ld UTC nfpgd[%d] %s: ",
					  ts.tv_nsec / 1000000, (int) getpid(), level_names[level]);
	}
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	if (n > (int) sizeof(line) - 2)
		n = (int) sizeof(line) - 2;

	if (log_to_syslog)
		syslog(level_priorities[level], "%s", line);
	else
	{
		line[n++] = '\n';
		if (write(STDERR_FILENO, line, n) < 0)
			return;				/* nowhere left to complain */
	}
}
