/*-------------------------------------------------------------------------
 *
 * log.h
 *		Leveled, thread-safe logging to stderr or syslog for nfpgd.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NFPG_LOG_H
#define NFPG_LOG_H

typedef enum LogLevel
{
	LOG_LVL_ERROR = 0,
	LOG_LVL_WARNING,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG
} LogLevel;

extern void log_setup(int use_syslog, const char *ident, const char *facility, LogLevel level);
extern int	log_level_parse(const char *name, LogLevel *out);
extern void log_msg(LogLevel level, const char *fmt,...) __attribute__((format(printf, 2, 3)));

#define log_error(...)		log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warning(...)	log_msg(LOG_LVL_WARNING, __VA_ARGS__)
#define log_info(...)		log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...)		log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif							/* NFPG_LOG_H */
