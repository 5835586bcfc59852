/*-------------------------------------------------------------------------
 *
 * config.h
 *		nfpgd settings: one table of keys, read from a config file and
 *		overridden by command-line flags.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NFPG_CONFIG_H
#define NFPG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct Config
{
	char	   *listen;			/* "addr:port [addr:port ...]" */
	char	   *allow_exporters;	/* "prefix[@listen] ..."; empty: any source */
	int64_t		rcvbuf;
	char	   *conninfo;
	int			writers;
	int64_t		queue_bytes;
	int64_t		queue_overflow_bytes;
	int			batch_queue;
	int			batch_flows;
	int			flush_interval_ms;
	char	   *spool_dir;
	int64_t		spool_max_bytes;
	int			spool_compression;
	int			retry_interval;
	int			statement_timeout;
	int			stats_interval;
	int			exporter_interval;
	int			partition_future_limit;
	int			flow_window_past;	/* seconds; 0: no bound */
	int			flow_window_future;
	int64_t		quarantine_max_bytes;
	int			batch_log_keep;
	char	   *instance;
	char	   *pidfile;
	bool		syslog;
	char	   *syslog_ident;
	char	   *syslog_facility;
	char	   *log_level;
	bool		sampling_upscale;
	int			default_sampling;
	char	   *anonymize_key_file;
} Config;

typedef enum ConfigType
{
	CFG_STRING,
	CFG_INT,
	CFG_SIZE,					/* bytes; k, M, G suffixes */
	CFG_BOOL
} ConfigType;

typedef struct ConfigKey
{
	const char *name;
	ConfigType	type;
	size_t		offset;
	const char *default_value;
	bool		reloadable;
	int64_t		min;
	int64_t		max;
	const char *help;
} ConfigKey;

extern const ConfigKey config_keys[];

extern void config_init(Config *c);
extern void config_free(Config *c);
extern int	config_set(Config *c, const char *key, const char *value, char *err, size_t errlen);
extern int	config_load_file(Config *c, const char *path, char *err, size_t errlen);
extern bool config_key_equal(const Config *a, const Config *b, const ConfigKey *k);
extern const ConfigKey *config_find(const char *name);
extern void config_format_value(const Config *c, const ConfigKey *k, char *buf, size_t len);

#endif							/* NFPG_CONFIG_H */
