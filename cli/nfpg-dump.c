/*-------------------------------------------------------------------------
 *
 * nfpg-dump.c
 *		nfdump 1.7.1's command line over an nfpg database.
 *
 * Scripts and NfSen plugins call `nfdump -R dir -s ip/bytes -n 10 filter`
 * and parse what it prints.  nfpg-dump takes the same options, turns the
 * files it is given into the flows that stand for them (docs/
 * coming-from-nfdump.md has the mapping), and prints the lines the
 * extension's nfpg.nfdump() renders: every character of the output,
 * headers and Summary included, comes from the extension's formatters,
 * so nfpg-dump and SELECT * FROM nfpg.nfdump(...) cannot disagree.  This
 * program only parses options, binds them as parameters (no user text is
 * ever pasted into SQL), streams rows to stdout and adds nfdump's "Sys:"
 * timing line.
 *
 * Connection: libpq's environment and service file (PGHOST, PGDATABASE,
 * PGSERVICE, ~/.pg_service.conf, ~/.pgpass).  Exit codes are nfdump's:
 * 0 done, 254 a bad filter, 1 a bad option value (-s, -t, -O, -A...), 255
 * an option nfpg-dump does not take, 250 the database could not be read.
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "nfpg-dump.h"

#define EXIT_FILTER		254
#define EXIT_USAGE		255
#define EXIT_DATABASE	250
#define MAX_STATS		16

static void
usage(const char *name)
{
	printf("usage %s [options] [\"filter\"]\n"
		   "-h\t\tthis text you see right here\n"
		   "-V\t\tPrint version and exit.\n"
		   "-a\t\tAggregate netflow data.\n"
		   "-A <expr>[/net]\tHow to aggregate: ',' sep list of tags see nfdump(1)\n"
		   "\t\tor subnet aggregation: srcip4/24, srcip6/64.\n"
		   "-b\t\tAggregate netflow records as bidirectional flows.\n"
		   "-B\t\tAggregate netflow records as bidirectional flows - Guess direction.\n"
		   "-r <file>\tread the flows nfcapd would have written to <file> (nfcapd.YYYYMMDDhhmm)\n"
		   "-R <expr>\tread the flows of a sequence of files: dir, dir/file, dir/file1:file2\n"
		   "-M <expr>\tread the sources (NfSen channels or exporter addresses) /profile/src1:src2\n"
		   "-f\t\tread netflow filter from file\n"
		   "-n\t\tDefine number of top N for stat or sorted output.\n"
		   "-c\t\tLimit number of matching records\n"
		   "-N\t\tPrint plain numbers\n"
		   "-s <expr>[/<order>]\tGenerate statistics for <expr> any valid record element.\n"
		   "\t\tand ordered by <order>: packets, bytes, flows, bps pps and bpp.\n"
		   "-q\t\tQuiet: Do not print the header and bottom stat lines.\n"
		   "-l <expr>\tSet limit on packets for line and packed output format.\n"
		   "-L <expr>\tSet limit on bytes for line and packed output format.\n"
		   "-I \t\tPrint netflow summary statistics info from file or range of files (-r, -R).\n"
		   "-O <order> Sort order for aggregated flows - tstart, tend, flows, packets bps pps bbp etc.\n"
		   "-o <mode>\tUse <mode> to print out netflow records:\n"
		   "\t\t line     Standard output line format.\n"
		   "\t\t long     Standard output line format with additional fields.\n"
		   "\t\t extended Even more information.\n"
		   "\t\t csv      ',' separated, machine parseable output format.\n"
		   "\t\t pipe     '|' separated legacy machine parseable output format.\n"
		   "\t\t json     json output format.\n"
		   "\t\t fmt:...  your own format with %%tokens.\n"
		   "\t\t\tmode may be extended by '6' for full IPv6 listing. e.g.long6, extended6.\n"
		   "-6\t\tprint full IPv6 addresses.\n"
		   "-E <file>\tPrint exporter and sampling info for collected flows.\n"
		   "-Z\t\tCheck filter syntax and exit.\n"
		   "-t <time>\ttime window for filtering packets\n"
		   "\t\tyyyy/MM/dd.hh:mm:ss[-yyyy/MM/dd.hh:mm:ss]\n"
		   "The database is found the libpq way: PGHOST, PGDATABASE, PGSERVICE, ...\n"
		   "NFPG_DUMP_INTERVAL: seconds one nfcapd file covers (default 300).\n",
		   name);
}

static long long processed;		/* from the "Total flows processed" line */

static void
log_error(const char *msg)
{
	fprintf(stderr, "%s\n", msg);
}

/* The server's message without libpq's "ERROR:  " prefix. */
static void
log_result_error(const PGresult *res)
{
	const char *m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	const char *d = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
	const char *h = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);

	fprintf(stderr, "%s\n", m ? m : PQresultErrorMessage(res));
	if (d)
		fprintf(stderr, "%s\n", d);
	if (h)
		fprintf(stderr, "%s\n", h);
}

static char *
read_file(const char *path)
{
	FILE	   *f = fopen(path, "r");
	char	   *buf;
	long		n;

	if (f == NULL)
	{
		fprintf(stderr, "Can't open filter file '%s': %s\n", path, strerror(errno));
		exit(EXIT_USAGE);
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc(n + 1);
	if (buf == NULL || fread(buf, 1, n, f) != (size_t) n)
	{
		fprintf(stderr, "Error reading filter file %s: %s\n", path, strerror(errno));
		exit(EXIT_USAGE);
	}
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* The error of a statement, told as nfdump would; nfdump's exit code for it. */
int
dump_result_error(const PGresult *res)
{
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

	fflush(stdout);
	log_result_error(res);
	/* a filter the parser refused: nfdump's 254; a bad option value: its 1 */
	if (state && strcmp(state, "42601") == 0)
		return EXIT_FILTER;
	if (state && (strcmp(state, "22023") == 0 || strncmp(state, "22007", 5) == 0 ||
				  strcmp(state, "22008") == 0 || strcmp(state, "0A000") == 0))
		return EXIT_FAILURE;
	return EXIT_DATABASE;
}

/*
 * Run one statement with text parameters (of the given types, or inferred
 * where types is NULL) and stream its one-column rows to stdout, a line
 * each, without holding the whole result in memory; *rows counts them.
 */
static int
print_rows(PGconn *conn, const char *sql, int nparams, const Oid *types,
		   const char *const *params, long long *rows)
{
	PGresult   *res;
	int			rc = 0;

	if (!PQsendQueryParams(conn, sql, nparams, types, params, NULL, NULL, 0) ||
		!PQsetSingleRowMode(conn))
	{
		fprintf(stderr, "%s", PQerrorMessage(conn));
		return EXIT_DATABASE;
	}
	while ((res = PQgetResult(conn)) != NULL)
	{
		ExecStatusType st = PQresultStatus(res);

		if (st == PGRES_SINGLE_TUPLE)
		{
			const char *line = PQgetvalue(res, 0, 0);

			if (strncmp(line, "Total flows processed: ", 23) == 0)
				processed = atoll(line + 23);
			fputs(line, stdout);
			fputc('\n', stdout);
			(*rows)++;
		}
		else if (st != PGRES_TUPLES_OK && rc == 0)
			rc = dump_result_error(res);
		PQclear(res);
	}
	return rc;
}

static double
seconds(struct timeval tv)
{
	return tv.tv_sec + tv.tv_usec / 1000000.0;
}

int
main(int argc, char **argv)
{
	DumpOptions o;
	const char *stats[MAX_STATS];
	int			nstats = 0;
	char	   *ffile = NULL;
	char	   *exporters_file = NULL;
	int			syntax_only = 0, print_info = 0;
	int			c, rc;
	PGconn	   *conn;
	struct timeval t0, t1;
	struct rusage ru;
	char		stats_array[8192] = "{";

	memset(&o, 0, sizeof(o));
	gettimeofday(&t0, NULL);
	while ((c = getopt(argc, argv, "6aA:Bbc:C:D:E:G:s:ghn:i:jf:qyzr:v:w:J:M:NImO:R:XZt:TVv:x:l:L:o:")) != EOF)
	{
		switch (c)
		{
			case 'h':
				usage(argv[0]);
				exit(EXIT_SUCCESS);
			case 'a':
				o.aggregate = "a";
				break;
			case 'A':
				if (o.fields)
				{
					log_error("Multiple aggregation masks not allowed");
					exit(EXIT_FAILURE);
				}
				if (strlen(optarg) > 64)
				{
					log_error("Aggregate mask format length error");
					exit(EXIT_FAILURE);
				}
				o.fields = optarg;
				break;
			case 'B':
				o.aggregate = "B";
				break;
			case 'b':
				if (o.aggregate == NULL || strcmp(o.aggregate, "B") != 0)
					o.aggregate = "b";
				break;
			case 'c':
				o.record_limit = atoi(optarg);
				if (o.record_limit <= 0)
				{
					log_error("Option -c needs a number > 0\n");
					exit(EXIT_FAILURE);
				}
				break;
			case 'E':
				exporters_file = optarg;
				break;
			case 's':
				if (nstats == MAX_STATS)
				{
					fprintf(stderr, "Too many stat options! Stats are limited to %i stats per single run!\n", MAX_STATS);
					exit(EXIT_FAILURE);
				}
				stats[nstats++] = optarg;
				break;
			case 'V':
				printf("%s: Version: NSEL-NEL1.7.1 (nfpg %s)\n", argv[0], NFPG_DUMP_VERSION);
				exit(EXIT_SUCCESS);
			case 'l':
				o.packet_limit = optarg;
				break;
			case 'L':
				o.byte_limit = optarg;
				break;
			case 'N':
				o.plain = 1;
				break;
			case 'f':
				ffile = optarg;
				break;
			case 't':
				o.time_window = optarg;
				break;
			case 'r':
				o.single_file = optarg;
				break;
			case 'R':
				if (o.multiple_files)
					fprintf(stderr, "Multiple files option already set: %s\n", o.multiple_files);
				else
					o.multiple_files = optarg;
				break;
			case 'M':
				o.multiple_dirs = optarg;
				break;
			case 'm':
				o.print_order = "tstart";
				log_error("Option -m deprecated. Use '-O tstart' instead");
				break;
			case 'I':
				print_info = 1;
				break;
			case 'o':
				o.format = optarg;
				break;
			case 'O':
				o.print_order = optarg;
				break;
			case 'n':
				o.top = atoi(optarg);
				o.top_set = 1;
				if (o.top < 0)
				{
					fprintf(stderr, "TopnN number %i out of range\n", o.top);
					exit(EXIT_FAILURE);
				}
				break;
			case 'q':
				o.quiet = 1;
				break;
			case 'Z':
				syntax_only = 1;
				break;
			case '6':
				o.long_v6 = 1;
				break;
			case '?':
				/* an unknown option: nfdump prints its usage and exits 0 */
				usage(argv[0]);
				exit(EXIT_SUCCESS);
			default:
				/* -w, -J, -i, -x, -v, -X, -C, -D, -G, -g, -j, -y, -z, -T change or inspect files */
				fprintf(stderr, "%s: option -%c works on nfcapd files and has no meaning over a database\n",
						argv[0], c);
				exit(EXIT_USAGE);
		}
	}

	/* the filter: the remaining arguments joined by blanks, else -f file */
	if (optind < argc)
	{
		size_t		len = 1;
		char	   *f;

		for (int i = optind; i < argc; i++)
			len += strlen(argv[i]) + 1;
		f = calloc(1, len);
		for (int i = optind; i < argc; i++)
		{
			if (i > optind)
				strcat(f, " ");
			strcat(f, argv[i]);
		}
		o.filter = f;
	}
	else if (ffile)
		o.filter = read_file(ffile);

	conn = PQconnectdb("");
	if (PQstatus(conn) != CONNECTION_OK)
	{
		fprintf(stderr, "%s", PQerrorMessage(conn));
		exit(EXIT_DATABASE);
	}
	PQclear(PQexec(conn, "SET search_path = pg_catalog, pg_temp"));

	/* nfdump compiles the filter first: -Z stops here, a bad one exits 254 */
	if (o.filter && dump_check_filter(conn, o.filter) != 0)
		exit(EXIT_FILTER);
	if (syntax_only)
		exit(EXIT_SUCCESS);

	if (exporters_file)
	{
		long long	rows = 0;

		rc = print_rows(conn, "SELECT * FROM nfpg.nfdump_exporters()", 0, NULL, NULL, &rows);
		exit(rc);
	}
	if (!o.single_file && !o.multiple_files && !o.multiple_dirs)
	{
		usage(argv[0]);
		exit(EXIT_SUCCESS);
	}
	if (o.single_file && o.multiple_files)
	{
		log_error("-r and -R are mutually exclusive. Please specify either -r or -R");
		exit(EXIT_FAILURE);
	}
	if (dump_map_files(&o) != 0)
		exit(EXIT_USAGE);

	if (print_info)
	{
		rc = dump_info(conn, &o);
		exit(rc);
	}

	for (int i = 0; i < nstats; i++)
	{
		if (i > 0)
			strcat(stats_array, ",");
		if (strlen(stats_array) + 2 * strlen(stats[i]) + 4 >= sizeof(stats_array))
			break;
		dump_array_element(stats_array, stats[i]);
	}
	strcat(stats_array, "}");
	o.stats = nstats ? stats_array : NULL;

	dump_follow_tz(conn);
	rc = dump_streams(&o) ? dump_run_records(conn, &o, print_rows) : dump_run(conn, &o, print_rows);

	if (rc == 0 && !o.quiet && dump_plain_mode(&o))
	{
		double		wall;

		gettimeofday(&t1, NULL);
		getrusage(RUSAGE_SELF, &ru);
		wall = seconds(t1) - seconds(t0);
		printf("Sys: %.4fs User: %.4fs Wall: %.4fs flows/second: %-.1f Runtime: %.4fs\n",
			   seconds(ru.ru_stime), seconds(ru.ru_utime), wall,
			   wall > 0 ? processed / wall : 0, wall);
	}
	PQfinish(conn);
	return rc;
}
