/*
 * spool_test.c
 *		The spool: a batch survives the round trip bit for bit; files come
 *		back oldest first; a corrupt or truncated file is refused (never
 *		replayed) and can be quarantined; a crash's leftover temporary file
 *		is removed at start; the size limit refuses new batches; the file
 *		is a plain bzip2 stream of a COPY binary file with our header.
 */
#define _GNU_SOURCE				/* memmem */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spool.h"
#include "unit.h"

static char dir[64];

static Batch *
make_batch(uint64_t seq, int rows)
{
	Batch	   *b = batch_new("test-host", INT64_C(1700000000000), seq, 0);

	for (int i = 0; i < rows; i++)
	{
		FlowRec		r = {0};

		r.first_ms = INT64_C(1710147600000) + i * 1000 + (int64_t) seq * 3600000;
		r.last_ms = r.first_ms + 5;
		r.packets = i;
		r.bytes = i * 100;
		r.flows = 1;
		r.proto = 6;
		r.src_addr.family = r.dst_addr.family = r.exporter.family = 4;
		r.src_addr.addr[3] = (uint8_t) i;
		r.src_as = (uint32_t) i;
		r.present = (i % 7 == 3) ? FR_SRC_AS : 0;	/* an optional column */
		batch_add(b, &r);
	}
	return b;
}

static void
path_of(const char *name, char *out, size_t len)
{
	snprintf(out, len, "%s/%s", dir, name);
}

static void
test_round_trip(Spool *s)
{
	char		err[256],
				name[SPOOL_NAME_LEN];
	Batch	   *b = make_batch(1, 5000),
			   *back;
	uint64_t	files,
				bytes;

	CHECK(spool_write(s, b, err, sizeof(err)) == SPOOL_OK, "write: %s", err);
	spool_usage(s, &files, &bytes);
	CHECK(files == 1 && bytes > 0, "usage %llu files %llu bytes",
		  (unsigned long long) files, (unsigned long long) bytes);
	CHECK(bytes < b->rows.len / 3, "bzip2 should compress %zu bytes well, got %llu",
		  b->rows.len, (unsigned long long) bytes);
	CHECK(spool_oldest(s, name, sizeof(name)) == 1, "oldest");
	back = spool_read(s, name, err, sizeof(err));
	CHECK(back != NULL, "read: %s", err);
	if (back)
	{
		CHECK(strcmp(back->id, b->id) == 0, "id %s vs %s", back->id, b->id);
		CHECK(strcmp(back->key, b->key) == 0, "key %s vs %s", back->key, b->key);
		CHECK(back->rows.cols == b->rows.cols, "columns %llx vs %llx",
			  (unsigned long long) back->rows.cols, (unsigned long long) b->rows.cols);
		CHECK(back->rows.rows == 5000 && back->rows.len == b->rows.len &&
			  memcmp(back->rows.data, b->rows.data, b->rows.len) == 0, "rows differ");
		CHECK(back->min_first_ms == b->min_first_ms && back->max_first_ms == b->max_first_ms,
			  "time range");
		CHECK(back->n_hours == b->n_hours && back->n_hours == 2 &&
			  back->hours[0] == b->hours[0] && back->hours[1] == b->hours[1], "hours");
	}
	batch_free(back);
	CHECK(spool_remove(s, name) == 0, "remove");
	spool_usage(s, &files, &bytes);
	CHECK(files == 0 && bytes == 0, "usage after remove");
	batch_free(b);
}

static void
test_order(Spool *s)
{
	char		err[256],
				name[SPOOL_NAME_LEN];
	static const uint64_t written[] = {30, 2, 11, 100, 7},
				expected[] = {2, 7, 11, 30, 100};

	for (int i = 0; i < 5; i++)
	{
		Batch	   *b = make_batch(written[i], 10);

		spool_write(s, b, err, sizeof(err));
		batch_free(b);
	}
	for (int i = 0; i < 5; i++)
	{
		Batch	   *b = make_batch(expected[i], 0);
		Batch	   *back;

		CHECK(spool_oldest(s, name, sizeof(name)) == 1, "oldest %d", i);
		back = spool_read(s, name, err, sizeof(err));
		CHECK(back && strcmp(back->id, b->id) == 0, "replay %d: got %s, want %s", i,
			  back ? back->id : err, b->id);
		batch_free(back);
		batch_free(b);
		spool_remove(s, name);
	}
	CHECK(spool_oldest(s, name, sizeof(name)) == 0, "empty after replay");
}

/* Damage a spool file in place at offset, or truncate it to offset. */
static void
damage(const char *name, off_t offset, bool truncate_it)
{
	char		path[256];
	int			fd;

	path_of(name, path, sizeof(path));
	fd = open(path, O_RDWR);
	if (truncate_it)
		CHECK(ftruncate(fd, offset) == 0, "truncate");
	else
	{
		unsigned char c;

		CHECK(pread(fd, &c, 1, offset) == 1, "read byte");
		c ^= 0x5a;
		CHECK(pwrite(fd, &c, 1, offset) == 1, "write byte");
	}
	close(fd);
}

static void
test_corruption(Spool *s)
{
	char		err[256],
				name[SPOOL_NAME_LEN],
				path[256];
	struct stat st;
	static const struct
	{
		double		where;		/* fraction of the file */
		bool		truncate_it;
	}			cases[] = {{0.5, false}, {0.9, false}, {0.02, false}, {0.5, true}, {0.0, true}};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		Batch	   *b = make_batch(500 + i, 2000),
				   *back;

		spool_write(s, b, err, sizeof(err));
		batch_free(b);
		spool_oldest(s, name, sizeof(name));
		path_of(name, path, sizeof(path));
		stat(path, &st);
		damage(name, (off_t) (st.st_size * cases[i].where), cases[i].truncate_it);
		back = spool_read(s, name, err, sizeof(err));
		CHECK(back == NULL, "case %zu: damaged file accepted", i);
		CHECK(back != NULL || strstr(err, "corrupt"), "case %zu: message \"%s\"", i, err);
		batch_free(back);
		CHECK(spool_quarantine(s, name) == 0, "quarantine");
		CHECK(spool_oldest(s, name, sizeof(name)) == 0, "quarantined file is not replayed");
	}
	snprintf(path, sizeof(path), "%s/failed", dir);
	CHECK(stat(path, &st) == 0 && S_ISDIR(st.st_mode), "failed/ exists");
}

static void
test_limit_and_restart(Spool *s)
{
	char		err[256],
				path[256],
				name[SPOOL_NAME_LEN];
	Batch	   *b = make_batch(900, 1000);
	Spool		again;
	uint64_t	files,
				bytes;
	FILE	   *f;

	spool_rescan(s);			/* truncation above made the byte count stale */
	spool_set_limits(s, 1, 9);
	CHECK(spool_write(s, b, err, sizeof(err)) == SPOOL_OK, "first write under the limit");
	CHECK(spool_write(s, b, err, sizeof(err)) == SPOOL_FULL, "second write over the limit");
	spool_set_limits(s, 0, 1);

	/* A temporary file left by a crash is removed when the spool opens. */
	snprintf(path, sizeof(path), "%s/.tmp-0000000000001-000000000001%s", dir, SPOOL_SUFFIX);
	f = fopen(path, "w");
	fputs("half written", f);
	fclose(f);
	CHECK(spool_open(&again, dir, err, sizeof(err)) == 0, "reopen: %s", err);
	CHECK(access(path, F_OK) != 0, "leftover temporary file removed");
	spool_usage(&again, &files, &bytes);
	CHECK(files == 1, "reopened spool sees %llu files", (unsigned long long) files);
	CHECK(spool_oldest(&again, name, sizeof(name)) == 1 && spool_remove(&again, name) == 0,
		  "remove");
	spool_close(&again);
	batch_free(b);
}

/* The file is bzip2 of "PGCOPY\n\377\r\n\0", flags, our extension, rows. */
static void
test_format(Spool *s)
{
	char		err[256],
				name[SPOOL_NAME_LEN],
				cmd[512];
	unsigned char head[400];
	const char *cols = "first_seen, last_seen, received, packets, bytes, source_id, src_port";
	Batch	   *b = make_batch(950, 3);
	FILE	   *p;

	spool_write(s, b, err, sizeof(err));
	spool_oldest(s, name, sizeof(name));
	snprintf(cmd, sizeof(cmd), "bzip2 -dc %s/%s", dir, name);
	p = popen(cmd, "r");
	CHECK(p && fread(head, 1, sizeof(head), p) == sizeof(head), "bzip2 -d reads it");
	if (p)
		pclose(p);
	CHECK(memcmp(head, "PGCOPY\n\377\r\n\0", 11) == 0, "COPY signature");
	CHECK(memcmp(head + 19, "NFPGD\002", 6) == 0, "header extension magic");
	CHECK(memmem(head, sizeof(head), cols, strlen(cols)) != NULL, "column list in the clear");
	spool_remove(s, name);
	batch_free(b);
}

/* Links under a spool file's names: refused, their targets untouched. */
static void
test_links(Spool *s)
{
	char		err[256],
				name[SPOOL_NAME_LEN],
				link[128],
				victim[128],
				buf[16] = "";
	Batch	   *b = make_batch(40, 10);
	FILE	   *f;

	snprintf(victim, sizeof(victim), "%s.victim", dir);
	f = fopen(victim, "w");
	fputs("precious", f);
	fclose(f);
	snprintf(link, sizeof(link), "%s/.tmp-%s%s", dir, b->key, SPOOL_SUFFIX);
	CHECK(symlink(victim, link) == 0, "symlink");
	CHECK(spool_write(s, b, err, sizeof(err)) == SPOOL_ERROR, "write through a planted link refused");
	f = fopen(victim, "r");
	CHECK(fread(buf, 1, sizeof(buf) - 1, f) == 8 && strcmp(buf, "precious") == 0,
		  "the link's target is untouched: %s", buf);
	fclose(f);
	unlink(link);

	snprintf(name, sizeof(name), "%s%s", b->key, SPOOL_SUFFIX);
	path_of(name, link, sizeof(link));
	CHECK(symlink(victim, link) == 0, "symlink");
	CHECK(spool_read(s, name, err, sizeof(err)) == NULL && strstr(err, "cannot open"),
		  "read through a link refused: %s", err);
	unlink(link);
	unlink(victim);
	batch_free(b);
}

int
main(void)
{
	Spool		s;
	char		err[256],
				cmd[128];

	snprintf(dir, sizeof(dir), "/tmp/nfpg-spool-test.%d", (int) getpid());
	CHECK(spool_open(&s, dir, err, sizeof(err)) == 0, "open: %s", err);
	test_round_trip(&s);
	test_order(&s);
	test_corruption(&s);
	test_limit_and_restart(&s);
	test_format(&s);
	test_links(&s);
	spool_close(&s);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return unit_report("spool_test");
}
