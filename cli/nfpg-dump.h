/*-------------------------------------------------------------------------
 *
 * nfpg-dump.h
 *		nfpg-dump's options and the functions that turn them into calls of
 *		the extension (nfpg-dump-query.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef NFPG_DUMP_H
#define NFPG_DUMP_H

#include <libpq-fe.h>

#define NFPG_DUMP_VERSION "0.13"

typedef struct DumpOptions
{
	const char *stats;			/* a text[] literal of the -s specs, or NULL */
	int			top;			/* -n */
	int			top_set;
	const char *filter;
	const char *time_window;	/* -t */
	const char *aggregate;		/* -a, -b, -B: "a", "b", "B" */
	const char *fields;			/* -A */
	const char *print_order;	/* -O */
	const char *format;			/* -o */
	int			record_limit;	/* -c */
	const char *packet_limit;	/* -l */
	const char *byte_limit;		/* -L */
	const char *single_file;	/* -r */
	const char *multiple_files; /* -R */
	const char *multiple_dirs;	/* -M */
	int			plain;			/* -N */
	int			long_v6;		/* -6 */
	int			quiet;			/* -q */
	/* from the file names: the received-time range standing for the files */
	long long	scope_from;		/* epoch seconds, -1: none */
	long long	scope_to;
} DumpOptions;

typedef int (*RowPrinter) (PGconn *conn, const char *sql, int nparams, const Oid *types,
						   const char *const *params, long long *rows);

extern int	dump_result_error(const PGresult *res);
extern int	dump_check_filter(PGconn *conn, const char *filter);
extern int	dump_map_files(DumpOptions *o);
extern int	dump_info(PGconn *conn, const DumpOptions *o);
extern void dump_follow_tz(PGconn *conn);
extern int	dump_streams(const DumpOptions *o);
extern int	dump_run(PGconn *conn, DumpOptions *o, RowPrinter print);
extern int	dump_run_records(PGconn *conn, DumpOptions *o, RowPrinter print);
extern void dump_array_element(char *array, const char *element);
extern int	dump_plain_mode(const DumpOptions *o);

#endif							/* NFPG_DUMP_H */
