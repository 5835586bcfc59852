/*-------------------------------------------------------------------------
 *
 * nfpg-import.c
 *		nfpg-import: load nfcapd files (nfdump 1.6 and 1.7, NfSen trees)
 *		into nfpg.flows.
 *
 *	  nfpg-import [-d conninfo] [-r file]... [-R dir]... [-N nfsen-dir]
 *				  [-x [source=]address]... [--salvage] [--force] [-n] [-q|-v]
 *
 * Each file is loaded whole or not at all, in one transaction with its row
 * in nfpg.imported_files (import_db.c), so an interrupted run is resumed by
 * running it again: the files already committed are recognised by their
 * content and skipped.  A file that cannot be read is reported with the
 * reason, naming the block where it went wrong, and the run goes on with
 * the next file; --salvage loads what is readable in damaged files.
 *
 * Flows keep the exporter their file names for them (its exporter records:
 * address, NetFlow version, source id), or the one -x gives their source
 * directory.  Exit status: 0 if every file was imported or had been
 * before, 1 if some file was not (damaged, foreign, changed), 2 if the
 * run could not start or lost its database.
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <openssl/evp.h>

#include "import_db.h"
#include "import_files.h"
#include "import_progress.h"

#define MAX_EXPORTER_MAPS	256
#define DEFAULT_BATCH_ROWS	20000

typedef struct ExporterMap
{
	const char *source;			/* "" for every file */
	NfAddr		addr;
} ExporterMap;

typedef struct Options
{
	const char *conninfo;
	bool		salvage;
	bool		force;
	bool		dry_run;
	bool		quiet;
	bool		verbose;
	long		batch_rows;
	ExporterMap exporters[MAX_EXPORTER_MAPS];
	int			n_exporters;
} Options;

typedef struct Totals
{
	int			imported;
	int			salvaged;
	int			already;
	int			changed;
	int			failed;
	uint64_t	flows;
	uint64_t	bytes;			/* of flows */
	uint64_t	file_bytes;
} Totals;

/* What one file yielded. */
typedef struct FileResult
{
	uint64_t	flows;
	uint64_t	packets;
	uint64_t	bytes;
	int64_t		first_ms;
	int64_t		last_ms;
	char		problems[1024];
} FileResult;

static void
usage(FILE *out)
{
	fprintf(out,
			"nfpg-import: load nfcapd files (nfdump 1.6 and 1.7) into nfpg.flows\n\n"
			"usage: nfpg-import [option]... [file|dir]...\n"
			"  -r, --read FILE          an nfcapd file (repeatable)\n"
			"  -R, --read-dir DIR       every nfcapd file under DIR, as nfdump -R reads it\n"
			"  -N, --nfsen DIR          an NfSen profiles-data directory (or NfSen's BASEDIR):\n"
			"                           every channel of the profile given by --profile\n"
			"      --profile NAME       the NfSen profile to import (default: live)\n"
			"  -x, --exporter [SOURCE=]ADDR\n"
			"                           exporter address for the flows of SOURCE (an NfSen\n"
			"                           channel or a -R directory's name), or of every file\n"
			"  -d, --dbname CONNINFO    database (default: the PG* environment)\n"
			"      --salvage            load the readable blocks of damaged files\n"
			"      --force              load files whose content or path was imported before\n"
			"  -n, --dry-run            read and check the files, load nothing (no database)\n"
			"  -b, --batch ROWS         rows per COPY (default %d)\n"
			"  -q, --quiet              no progress bar\n"
			"  -v, --verbose            one line per file\n"
			"  -h, --help\n",
			DEFAULT_BATCH_ROWS);
}

static bool
parse_exporter(Options *o, const char *arg)
{
	const char *eq = strchr(arg, '=');
	ExporterMap *m;
	char		buf[64];
	const char *addr = eq ? eq + 1 : arg;

	if (o->n_exporters == MAX_EXPORTER_MAPS || strlen(addr) >= sizeof(buf))
		return false;
	m = &o->exporters[o->n_exporters];
	snprintf(buf, sizeof(buf), "%s", addr);
	if (inet_pton(AF_INET, buf, m->addr.addr) == 1)
		m->addr.family = 4;
	else if (inet_pton(AF_INET6, buf, m->addr.addr) == 1)
		m->addr.family = 6;
	else
		return false;
	m->source = eq ? strndup(arg, eq - arg) : "";
	o->n_exporters++;
	return true;
}

/* -x for this source, else -x without a source, else NULL. */
static const NfAddr *
exporter_for(const Options *o, const char *source)
{
	const NfAddr *any = NULL;

	for (int i = 0; i < o->n_exporters; i++)
	{
		if (o->exporters[i].source[0] == '\0')
			any = &o->exporters[i].addr;
		else if (strcmp(o->exporters[i].source, source) == 0)
			return &o->exporters[i].addr;
	}
	return any;
}

static void
sha256(const uint8_t *data, size_t len, uint8_t out[32])
{
	unsigned int n = 32;

	if (EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) != 1)
		abort();
}

/* The ident as text PostgreSQL takes: printable ASCII only. */
static void
clean_ident(char *s)
{
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e)
			*s = '?';
}

static void
add_problem(FileResult *res, const char *msg)
{
	size_t		n = strlen(res->problems);

	if (n < sizeof(res->problems) - 1)
		snprintf(res->problems + n, sizeof(res->problems) - n, "%s%s", n ? "; " : "", msg);
}

/*
 * Decode the open file r into batches and, unless dry_run, COPY them.
 * False on a database error (db->error says it).
 */
static bool
load_flows(NfcapdReader *r, const Options *o, const ImportFile *f, ImportDb *db,
		   Progress *prog, FileResult *res)
{
	const NfAddr *exporter = exporter_for(o, f->source);
	Batch	   *b = batch_new_with_id("", "");
	FlowRec		rec;
	NfcapdStatus st;
	bool		ok = true;

	res->first_ms = INT64_MAX;
	res->last_ms = INT64_MIN;
	while (ok && (st = nfcapd_next(r, &rec)) != NFCAPD_END)
	{
		if (st == NFCAPD_BLOCK_ERROR)
		{
			progress_say(prog, "nfpg-import: %s", r->error);
			add_problem(res, r->error + strlen(f->path) + 2);
			continue;
		}
		if (exporter)
			rec.exporter = *exporter;
		res->flows++;
		res->packets += rec.packets;
		res->bytes += rec.bytes;
		if (rec.first_ms < res->first_ms)
			res->first_ms = rec.first_ms;
		if (rec.last_ms > res->last_ms)
			res->last_ms = rec.last_ms;
		if (o->dry_run)
		{
			/* -n reads and checks: no rows to encode */
			if (res->flows % o->batch_rows == 0)
				progress_update(prog, r->pos, res->flows);
			continue;
		}
		batch_add(b, &rec);
		if (b->rows.rows >= (uint64_t) o->batch_rows)
		{
			ok = idb_load(db, b);
			batch_free(b);
			b = batch_new_with_id("", "");
			progress_update(prog, r->pos, res->flows);
		}
	}
	if (ok && !o->dry_run)
		ok = idb_load(db, b);
	batch_free(b);
	if (r->no_exporter > 0 && exporter == NULL)
	{
		char		msg[200];

		snprintf(msg, sizeof(msg), "%llu flows without an exporter record: exporter from the "
				 "address nfcapd received them from, source id 0",
				 (unsigned long long) r->no_exporter);
		progress_say(prog, "nfpg-import: %s: %s", f->path, msg);
		add_problem(res, msg);
	}
	return ok;
}

/* What became of a file. */
typedef enum Outcome
{
	DONE, SALVAGED, ALREADY, CHANGED, FAILED,
	DB_LOST						/* connection lost or privileges missing: stop */
} Outcome;

static Outcome
import_file(NfcapdReader *r, const Options *o, const ImportFile *f, ImportDb *db,
			Progress *prog, FileResult *res)
{
	int			fd = open(f->path, O_RDONLY);
	struct stat st;
	uint8_t    *data = NULL;
	uint8_t		hash[32];
	ImportCheck check;
	Outcome		out = FAILED;
	bool		damaged;

	memset(res, 0, sizeof(*res));
	if (fd < 0 || fstat(fd, &st) != 0)
	{
		progress_say(prog, "nfpg-import: %s: %s", f->path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return FAILED;
	}
	if (st.st_size > 0 &&
		(data = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED)
	{
		progress_say(prog, "nfpg-import: %s: %s", f->path, strerror(errno));
		close(fd);
		return FAILED;
	}
	close(fd);
	madvise(data, st.st_size, MADV_SEQUENTIAL);

	if (!o->dry_run)
	{
		sha256(data, st.st_size, hash);
		/* cheap look first: most files of a resumed run are done */
		if (!idb_check(db, f->path, st.st_size, hash, false, &check))
			goto db_error;
		if (check.state == IMPORT_DONE && !o->force)
		{
			if (o->verbose)
				progress_say(prog, "nfpg-import: %s: imported before (%s, %s)", f->path,
							 check.other_path, check.other_when);
			out = ALREADY;
			goto done;
		}
		if (check.state == IMPORT_CHANGED && !o->force)
		{
			progress_say(prog, "nfpg-import: %s: changed since it was imported on %s; "
						 "not imported again (--force loads it, adding its flows again)",
						 f->path, check.other_when);
			out = CHANGED;
			goto done;
		}
	}
	if (!nfcapd_open(r, data, st.st_size, f->path))
	{
		progress_say(prog, "nfpg-import: %s; skipped", r->error);
		goto done;
	}
	if (!o->dry_run)
	{
		if (r->has_stat && r->stat.flows > 0 &&
			!idb_prepare_partitions(db, r->stat.first_ms, r->stat.last_ms))
			goto db_error;
		if (!idb_check(db, f->path, st.st_size, hash, true, &check))
			goto db_error;
		if ((check.state == IMPORT_DONE || check.state == IMPORT_CHANGED) && !o->force)
		{
			/* another import got there in between */
			idb_rollback(db);
			out = check.state == IMPORT_DONE ? ALREADY : CHANGED;
			goto done;
		}
	}
	if (!load_flows(r, o, f, db, prog, res))
		goto db_error;

	damaged = r->bad_blocks > 0;
	if (damaged && !o->salvage)
	{
		idb_rollback(db);
		progress_say(prog, "nfpg-import: %s: not imported (%llu damaged block%s; --salvage "
					 "loads the %llu readable flows)", f->path,
					 (unsigned long long) r->bad_blocks, r->bad_blocks == 1 ? "" : "s",
					 (unsigned long long) res->flows);
		goto done;
	}
	if (r->skipped > 0)
	{
		char		msg[700];

		snprintf(msg, sizeof(msg), "%llu records skipped, the first: %s",
				 (unsigned long long) r->skipped, r->warning);
		progress_say(prog, "nfpg-import: %s", msg);
		add_problem(res, msg);
	}
	if (!o->dry_run)
	{
		ImportRecord rec = {
			.path = f->path, .size = st.st_size, .sha256 = hash, .salvaged = damaged,
			.flows = res->flows, .packets = res->packets, .bytes = res->bytes,
			.first_ms = res->first_ms, .last_ms = res->last_ms, .layout = r->layout,
			.compression = nfcapd_compression_name(r->compression), .ident = r->ident,
			.problems = res->problems[0] ? res->problems : NULL,
		};

		clean_ident(r->ident);
		if (!idb_exporters(db, r, res->flows ? res->last_ms : r->stat.last_ms,
						   exporter_for(o, f->source)) ||
			!idb_commit(db, &rec))
			goto db_error;
	}
	out = damaged ? SALVAGED : DONE;
	if (o->verbose)
		progress_say(prog, "nfpg-import: %s: %s%llu flows (layout %d, %s)", f->path,
					 damaged ? "salvaged " : "", (unsigned long long) res->flows, r->layout,
					 nfcapd_compression_name(r->compression));
	goto done;

db_error:
	progress_say(prog, "nfpg-import: %s: %s", f->path, db->error);
	idb_rollback(db);
	/* no connection, or a role without nfpg_loader's rights: no file can load */
	out = PQstatus(db->conn) != CONNECTION_OK || strcmp(db->sqlstate, "42501") == 0 ?
		DB_LOST : FAILED;
done:
	if (data)
		munmap(data, st.st_size);
	return out;
}

static void
summary(const Totals *t, const Progress *p, const Options *o)
{
	double		secs = progress_seconds(p);
	char		b1[32],
				b2[32];

	fprintf(stderr, "nfpg-import: %d file%s: %d %s, %d salvaged, %d imported before, "
			"%d changed, %d failed\n", p->files_total, p->files_total == 1 ? "" : "s",
			t->imported, o->dry_run ? "read" : "imported", t->salvaged, t->already, t->changed,
			t->failed);
	fprintf(stderr, "nfpg-import: %llu flows, %s bytes of flows, %s bytes of files "
			"in %.1f s: %.0f flows/s\n", (unsigned long long) t->flows,
			progress_scaled((double) t->bytes, b1, sizeof(b1)),
			progress_scaled((double) t->file_bytes, b2, sizeof(b2)), secs,
			secs > 0 ? t->flows / secs : 0);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"read", required_argument, NULL, 'r'},
		{"read-dir", required_argument, NULL, 'R'},
		{"nfsen", required_argument, NULL, 'N'},
		{"profile", required_argument, NULL, 'P'},
		{"exporter", required_argument, NULL, 'x'},
		{"dbname", required_argument, NULL, 'd'},
		{"salvage", no_argument, NULL, 'S'},
		{"force", no_argument, NULL, 'F'},
		{"dry-run", no_argument, NULL, 'n'},
		{"batch", required_argument, NULL, 'b'},
		{"quiet", no_argument, NULL, 'q'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	static Options o = {.batch_rows = DEFAULT_BATCH_ROWS};
	static NfcapdReader reader;
	FileList	files = {0};
	const char *nfsen[64];
	int			n_nfsen = 0,
				c;
	const char *profile = "live";
	char		err[4200];
	bool		ok = true;
	ImportDb	db = {0};
	Progress	prog;
	Totals		t = {0};
	bool		lost = false;

	while ((c = getopt_long(argc, argv, "r:R:N:x:d:nb:qvh", longopts, NULL)) != -1)
	{
		switch (c)
		{
			case 'r':
				ok = files_add_file(&files, optarg, err, sizeof(err));
				break;
			case 'R':
				ok = files_add_dir(&files, optarg, NULL, err, sizeof(err));
				break;
			case 'N':
				if (n_nfsen < 64)
					nfsen[n_nfsen++] = optarg;
				break;
			case 'P':
				profile = optarg;
				break;
			case 'x':
				if (!parse_exporter(&o, optarg))
				{
					fprintf(stderr, "nfpg-import: -x %s: not [SOURCE=]IPv4-or-IPv6-address\n", optarg);
					return 2;
				}
				break;
			case 'd':
				o.conninfo = optarg;
				break;
			case 'S':
				o.salvage = true;
				break;
			case 'F':
				o.force = true;
				break;
			case 'n':
				o.dry_run = true;
				break;
			case 'b':
				o.batch_rows = strtol(optarg, NULL, 10);
				if (o.batch_rows < 1)
				{
					fprintf(stderr, "nfpg-import: -b %s: not a positive number\n", optarg);
					return 2;
				}
				break;
			case 'q':
				o.quiet = true;
				break;
			case 'v':
				o.verbose = true;
				break;
			case 'h':
				usage(stdout);
				return 0;
			default:
				usage(stderr);
				return 2;
		}
		if (!ok)
		{
			fprintf(stderr, "nfpg-import: %s\n", err);
			return 2;
		}
	}
	for (int i = 0; ok && i < n_nfsen; i++)
		ok = files_add_nfsen(&files, nfsen[i], profile, err, sizeof(err));
	for (int i = optind; ok && i < argc; i++)
	{
		struct stat st;

		ok = stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode) ?
			files_add_dir(&files, argv[i], NULL, err, sizeof(err)) :
			files_add_file(&files, argv[i], err, sizeof(err));
	}
	if (!ok)
	{
		fprintf(stderr, "nfpg-import: %s\n", err);
		return 2;
	}
	files_sort(&files);
	if (files.n == 0)
	{
		fprintf(stderr, "nfpg-import: no files to import (-r FILE, -R DIR or -N NFSEN-DIR)\n");
		return 2;
	}
	if (!nfcapd_reader_init(&reader))
	{
		fprintf(stderr, "nfpg-import: out of memory\n");
		return 2;
	}
	if (!o.dry_run && !idb_connect(&db, o.conninfo))
	{
		fprintf(stderr, "nfpg-import: %s\n", db.error);
		return 2;
	}

	progress_start(&prog, !o.quiet && isatty(STDERR_FILENO), files.n, files.bytes);
	for (int i = 0; i < files.n; i++)
	{
		FileResult res;
		Outcome		out = import_file(&reader, &o, &files.files[i], &db, &prog, &res);

		switch (out)
		{
			case DONE:
				t.imported++;
				break;
			case SALVAGED:
				t.salvaged++;
				break;
			case ALREADY:
				t.already++;
				break;
			case CHANGED:
				t.changed++;
				break;
			case FAILED:
			case DB_LOST:
				t.failed++;
				break;
		}
		if (out == DONE || out == SALVAGED)
		{
			t.flows += res.flows;
			t.bytes += res.bytes;
		}
		t.file_bytes += files.files[i].size;
		progress_file_done(&prog, files.files[i].size, out == DONE || out == SALVAGED ? res.flows : 0);
		if (out == DB_LOST)
		{
			lost = true;
			progress_say(&prog, "nfpg-import: stopping: the database cannot take files "
						 "(run the same command again to go on)");
			break;
		}
	}
	progress_end(&prog);
	summary(&t, &prog, &o);
	idb_close(&db);
	nfcapd_reader_free(&reader);
	files_free(&files);
	if (lost)
		return 2;
	return t.failed || t.changed ? 1 : 0;
}
