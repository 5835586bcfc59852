/*-------------------------------------------------------------------------
 *
 * spool.c
 *		The spool directory: batches written safely to disk while
 *		PostgreSQL is unreachable, slow or refusing, and read back in order.
 *
 * A spool file is a bzip2 stream whose content is a complete, valid
 * COPY (FORMAT binary) file for nfpg.flows: the 11-byte signature, flags,
 * a header extension, the tuples and the trailer.  The header extension
 * (which PostgreSQL skips) carries the batch id, the row count, the time
 * range, a CRC-32 of the tuples and, readable in the clear, the column list
 * of the tuples, so an operator can also load a file by hand:
 * bzcat F | psql -c "COPY nfpg.flows (<that list>) FROM STDIN (FORMAT binary)".
 *
 * Writing is crash-safe: the file is built under a dot-name, fsync'ed,
 * renamed to its final name and the directory fsync'ed; a dot-file left
 * by a crash is deleted at start.  Files are created with O_EXCL and
 * opened with O_NOFOLLOW: a name that exists, or a symbolic link planted
 * in the directory, is an error, never a file written or read through.  Integrity is checked twice on reading:
 * bzip2's own block and stream CRCs, then the CRC-32 of the tuples.  A
 * file that fails either is moved to failed/ and reported, never replayed.
 *
 * File names are batch keys (boot time, sequence), so sorting names sorts
 * batches by creation and replay goes oldest first.
 *
 *-------------------------------------------------------------------------
 */
#include <bzlib.h>
#include <stdbool.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spool.h"

#define SPOOL_MAGIC			"NFPGD\002"
#define SPOOL_MAGIC_LEN		6
#define SIGNATURE_LEN		11	/* "PGCOPY\n\377\r\n\0" */
#define FAILED_DIR			"failed"

/* CRC-32 (IEEE 802.3, as zlib's crc32), table-driven. */
static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void
crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++)
	{
		uint32_t	c = i;

		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

static uint32_t
crc32_of(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t	c = 0xFFFFFFFFu;

	pthread_once(&crc_once, crc_init);
	while (len--)
		c = crc_table[(c ^ *p++) & 0xFF] ^ (c >> 8);
	return c ^ 0xFFFFFFFFu;
}

static uint8_t *
put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
	return p + 4;
}

static uint8_t *
put64(uint8_t *p, uint64_t v)
{
	return put32(put32(p, (uint32_t) (v >> 32)), (uint32_t) v);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

static uint64_t
get64(const uint8_t *p)
{
	return (uint64_t) get32(p) << 32 | get32(p + 4);
}

/*
 * The COPY header with our extension:  signature, flags, extension length,
 * then magic, id length, id, rows, tuple CRC, min/max first_seen, hour
 * count and hours, and the column list's length and text.  Returns its
 * length.
 */
static size_t
build_header(const Batch *b, uint8_t *out)
{
	uint8_t    *p = out + SIGNATURE_LEN + 8;
	size_t		idlen = strlen(b->id);
	char		cols[COPYBUF_COLUMN_LIST_LEN];

	memcpy(out, copybuf_header, SIGNATURE_LEN);
	memcpy(p, SPOOL_MAGIC, SPOOL_MAGIC_LEN);
	p += SPOOL_MAGIC_LEN;
	p = put32(p, (uint32_t) idlen);
	memcpy(p, b->id, idlen);
	p += idlen;
	p = put64(p, b->rows.rows);
	p = put32(p, crc32_of(b->rows.data, b->rows.len));
	p = put64(p, (uint64_t) b->min_first_ms);
	p = put64(p, (uint64_t) b->max_first_ms);
	p = put32(p, (uint32_t) b->n_hours);
	for (int i = 0; i < b->n_hours; i++)
		p = put64(p, (uint64_t) b->hours[i]);
	copybuf_column_list(b->rows.cols, cols, sizeof(cols));
	p = put32(p, (uint32_t) strlen(cols));
	memcpy(p, cols, strlen(cols));
	p += strlen(cols);
	put32(out + SIGNATURE_LEN, 0);	/* flags */
	put32(out + SIGNATURE_LEN + 4, (uint32_t) (p - out - SIGNATURE_LEN - 8));
	return p - out;
}

static void
set_err(char *err, size_t errlen, const char *what, const char *name)
{
	snprintf(err, errlen, "%s %s: %s", what, name, strerror(errno));
}

/*
 * Count the files waiting (and delete dot-files left by a crash when
 * starting).  Also called periodically: an operator may put files back.
 */
static int
count_existing(Spool *s, bool at_start)
{
	DIR		   *d = opendir(s->dir);
	struct dirent *e;
	size_t		sl = strlen(SPOOL_SUFFIX);
	uint64_t	files = 0,
				bytes = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
	{
		struct stat st;
		size_t		n = strlen(e->d_name);

		if (at_start && strncmp(e->d_name, ".tmp-", 5) == 0)
		{
			unlinkat(s->dirfd, e->d_name, 0);	/* a write cut short by a crash */
			continue;
		}
		if (e->d_name[0] == '.' || n <= sl || strcmp(e->d_name + n - sl, SPOOL_SUFFIX) != 0)
			continue;
		if (fstatat(s->dirfd, e->d_name, &st, 0) == 0)
		{
			files++;
			bytes += st.st_size;
		}
	}
	closedir(d);
	pthread_mutex_lock(&s->lock);
	s->files = files;
	s->bytes = bytes;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

void
spool_rescan(Spool *s)
{
	count_existing(s, false);
}

int
spool_open(Spool *s, const char *dir, char *err, size_t errlen)
{
	memset(s, 0, sizeof(*s));
	s->dirfd = -1;
	s->level = 1;
	pthread_mutex_init(&s->lock, NULL);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return set_err(err, errlen, "cannot create spool directory", dir), -1;
	s->dir = strdup(dir);
	s->dirfd = open(dir, O_RDONLY | O_DIRECTORY);
	if (s->dirfd < 0)
		return set_err(err, errlen, "cannot open spool directory", dir), -1;
	if (count_existing(s, true) < 0)
		return set_err(err, errlen, "cannot read spool directory", dir), -1;
	return 0;
}

void
spool_close(Spool *s)
{
	if (s->dirfd >= 0)
		close(s->dirfd);
	free(s->dir);
	pthread_mutex_destroy(&s->lock);
}

void
spool_set_limits(Spool *s, int64_t max_bytes, int level)
{
	pthread_mutex_lock(&s->lock);
	s->max_bytes = max_bytes;
	s->level = level;
	pthread_mutex_unlock(&s->lock);
}

/* Compress header, tuples and trailer into f; returns 0 or a BZ_ error. */
static int
write_stream(FILE *f, const Batch *b, int level)
{
	uint8_t		header[SIGNATURE_LEN + 8 + SPOOL_MAGIC_LEN + 4 + BATCH_ID_LEN + 32 +
					   BATCH_MAX_HOURS * 8 + 4 + COPYBUF_COLUMN_LIST_LEN];
	size_t		hlen = build_header(b, header);
	int			bzerr;
	BZFILE	   *bz = BZ2_bzWriteOpen(&bzerr, f, level, 0, 0);
	size_t		off = 0;

	if (bzerr != BZ_OK)
		return bzerr;
	BZ2_bzWrite(&bzerr, bz, header, (int) hlen);
	while (bzerr == BZ_OK && off < b->rows.len)
	{
		size_t		chunk = b->rows.len - off > (1 << 30) ? (1 << 30) : b->rows.len - off;

		BZ2_bzWrite(&bzerr, bz, b->rows.data + off, (int) chunk);
		off += chunk;
	}
	if (bzerr == BZ_OK)
		BZ2_bzWrite(&bzerr, bz, (void *) copybuf_trailer, COPYBUF_TRAILER_LEN);
	if (bzerr != BZ_OK)
	{
		BZ2_bzWriteClose(&bzerr, bz, 1, NULL, NULL);
		return BZ_IO_ERROR;
	}
	BZ2_bzWriteClose(&bzerr, bz, 0, NULL, NULL);
	return bzerr;
}

SpoolStatus
spool_write(Spool *s, const Batch *b, char *err, size_t errlen)
{
	char		name[SPOOL_NAME_LEN],
				tmp[SPOOL_NAME_LEN + 8];
	int			fd,
				level;
	FILE	   *f;
	struct stat st;

	pthread_mutex_lock(&s->lock);
	level = s->level;
	if (s->max_bytes > 0 && s->bytes >= (uint64_t) s->max_bytes)
	{
		pthread_mutex_unlock(&s->lock);
		snprintf(err, errlen, "spool is full (%llu bytes)", (unsigned long long) s->bytes);
		return SPOOL_FULL;
	}
	pthread_mutex_unlock(&s->lock);

	snprintf(name, sizeof(name), "%s%s", b->key, SPOOL_SUFFIX);
	snprintf(tmp, sizeof(tmp), ".tmp-%s", name);
	fd = openat(s->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || (f = fdopen(fd, "wb")) == NULL)
	{
		set_err(err, errlen, "cannot create spool file", tmp);
		if (fd >= 0)
			close(fd);
		return SPOOL_ERROR;
	}
	/* 1. compress and write; 2. flush and fsync; 3. rename; 4. fsync dir */
	if (write_stream(f, b, level) != BZ_OK || fflush(f) != 0 || fsync(fd) != 0 ||
		fstat(fd, &st) != 0)
	{
		set_err(err, errlen, "cannot write spool file", tmp);
		fclose(f);
		unlinkat(s->dirfd, tmp, 0);
		return SPOOL_ERROR;
	}
	fclose(f);
	if (renameat(s->dirfd, tmp, s->dirfd, name) != 0 || fsync(s->dirfd) != 0)
	{
		set_err(err, errlen, "cannot rename spool file", tmp);
		unlinkat(s->dirfd, tmp, 0);
		return SPOOL_ERROR;
	}
	pthread_mutex_lock(&s->lock);
	s->files++;
	s->bytes += st.st_size;
	pthread_mutex_unlock(&s->lock);
	return SPOOL_OK;
}

/* The name of the oldest spooled batch; returns 1 if there is one. */
int
spool_oldest(Spool *s, char *name, size_t len)
{
	DIR		   *d;
	struct dirent *e;
	size_t		sl = strlen(SPOOL_SUFFIX);
	int			found = 0;

	d = opendir(s->dir);
	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
	{
		size_t		n = strlen(e->d_name);

		if (e->d_name[0] == '.' || n <= sl || n >= len ||
			strcmp(e->d_name + n - sl, SPOOL_SUFFIX) != 0)
			continue;
		if (!found || strcmp(e->d_name, name) < 0)
			memcpy(name, e->d_name, n + 1);
		found = 1;
	}
	closedir(d);
	return found;
}

/* Decompress a whole file into memory; *len receives its size. */
static uint8_t *
read_stream(FILE *f, size_t *len)
{
	int			bzerr;
	BZFILE	   *bz = BZ2_bzReadOpen(&bzerr, f, 0, 0, NULL, 0);
	size_t		cap = 1 << 20,
				n = 0;
	uint8_t    *buf = malloc(cap);

	if (bzerr != BZ_OK || buf == NULL)
	{
		free(buf);
		return NULL;
	}
	for (;;)
	{
		int			got;

		if (cap - n < (1 << 16))
		{
			uint8_t    *nb = realloc(buf, cap *= 2);

			if (nb == NULL)
				break;
			buf = nb;
		}
		got = BZ2_bzRead(&bzerr, bz, buf + n, (int) (cap - n > INT32_MAX ? INT32_MAX : cap - n));
		if (bzerr != BZ_OK && bzerr != BZ_STREAM_END)
			break;				/* corrupt: CRC mismatch, truncation */
		n += got;
		if (bzerr == BZ_STREAM_END)
		{
			BZ2_bzReadClose(&bzerr, bz);
			*len = n;
			return buf;
		}
	}
	BZ2_bzReadClose(&bzerr, bz);
	free(buf);
	return NULL;
}

/*
 * Check the decompressed file and turn it into a Batch, reusing the buffer
 * for the rows.  Returns NULL (buffer freed) if anything is inconsistent.
 */
static Batch *
parse_file(uint8_t *buf, size_t len, const char *name)
{
	const uint8_t *p = buf + SIGNATURE_LEN + 8,
			   *end,
			   *collist;
	uint32_t	extlen,
				idlen,
				crc,
				nhours,
				collen;
	char		id[BATCH_ID_LEN],
				key[BATCH_KEY_LEN],
				colnames[COPYBUF_COLUMN_LIST_LEN];
	Batch	   *b;
	size_t		hdrlen,
				tuplen;
	uint64_t	rows,
				cols;

	if (len < SIGNATURE_LEN + 8 + COPYBUF_TRAILER_LEN ||
		memcmp(buf, copybuf_header, SIGNATURE_LEN) != 0)
		return NULL;
	extlen = get32(buf + SIGNATURE_LEN + 4);
	hdrlen = SIGNATURE_LEN + 8 + (size_t) extlen;
	if (extlen < SPOOL_MAGIC_LEN + 4 || hdrlen + COPYBUF_TRAILER_LEN > len ||
		memcmp(p, SPOOL_MAGIC, SPOOL_MAGIC_LEN) != 0 ||
		memcmp(buf + len - COPYBUF_TRAILER_LEN, copybuf_trailer, COPYBUF_TRAILER_LEN) != 0)
		return NULL;
	end = buf + hdrlen;
	p += SPOOL_MAGIC_LEN;
	idlen = get32(p);
	p += 4;
	if (idlen >= BATCH_ID_LEN || p + idlen + 8 + 4 + 16 + 4 > end)
		return NULL;
	memcpy(id, p, idlen);
	id[idlen] = '\0';
	p += idlen;
	rows = get64(p);
	crc = get32(p + 8);
	p += 12;
	tuplen = len - hdrlen - COPYBUF_TRAILER_LEN;
	if (crc32_of(end, tuplen) != crc)
		return NULL;

	nhours = get32(p + 16);
	if (nhours > BATCH_MAX_HOURS || p + 20 + 8 * nhours + 4 > end)
		return NULL;
	collist = p + 20 + 8 * nhours;
	collen = get32(collist);
	if (collen >= sizeof(colnames) || collist + 4 + collen > end)
		return NULL;
	memcpy(colnames, collist + 4, collen);
	colnames[collen] = '\0';
	if (!copybuf_parse_columns(colnames, &cols))
		return NULL;

	snprintf(key, sizeof(key), "%.*s", (int) (strlen(name) - strlen(SPOOL_SUFFIX)), name);
	b = batch_new_with_id(id, key);
	b->min_first_ms = (int64_t) get64(p);
	b->max_first_ms = (int64_t) get64(p + 8);
	for (uint32_t i = 0; i < nhours; i++)
		b->hours[b->n_hours++] = (int64_t) get64(p + 20 + 8 * i);

	/* The rows take over the file buffer. */
	memmove(buf, end, tuplen);
	copybuf_free(&b->rows);
	b->rows.data = (char *) buf;
	b->rows.len = tuplen;
	b->rows.cap = len;
	b->rows.rows = rows;
	b->rows.cols = cols;
	return b;
}

Batch *
spool_read(Spool *s, const char *name, char *err, size_t errlen)
{
	int			fd = openat(s->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	FILE	   *f;
	uint8_t    *buf;
	size_t		len;
	Batch	   *b;

	if (fd < 0 || (f = fdopen(fd, "rb")) == NULL)
	{
		set_err(err, errlen, "cannot open spool file", name);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	buf = read_stream(f, &len);
	fclose(f);
	if (buf == NULL)
	{
		snprintf(err, errlen, "spool file %s is corrupt (bzip2 stream)", name);
		return NULL;
	}
	b = parse_file(buf, len, name);
	if (b == NULL)
	{
		free(buf);
		snprintf(err, errlen, "spool file %s is corrupt (header or checksum)", name);
	}
	return b;
}

static void
forget(Spool *s, const struct stat *st)
{
	pthread_mutex_lock(&s->lock);
	if (s->files > 0)
		s->files--;
	s->bytes = s->bytes > (uint64_t) st->st_size ? s->bytes - st->st_size : 0;
	pthread_mutex_unlock(&s->lock);
}

int
spool_remove(Spool *s, const char *name)
{
	struct stat st;

	if (fstatat(s->dirfd, name, &st, 0) != 0 || unlinkat(s->dirfd, name, 0) != 0)
		return -1;
	forget(s, &st);
	return 0;
}

/* Move a file that can never be loaded to failed/, out of the replay path. */
int
spool_quarantine(Spool *s, const char *name)
{
	struct stat st,
				dst;
	char		dest[SPOOL_NAME_LEN + sizeof(FAILED_DIR) + 2];

	if (fstatat(s->dirfd, name, &st, 0) != 0)
		return -1;
	mkdirat(s->dirfd, FAILED_DIR, 0700);
	if (fstatat(s->dirfd, FAILED_DIR, &dst, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(dst.st_mode))
		return -1;				/* not a directory of ours: a link would move the file away */
	snprintf(dest, sizeof(dest), "%s/%s", FAILED_DIR, name);
	if (renameat(s->dirfd, name, s->dirfd, dest) != 0)
		return -1;
	forget(s, &st);
	return 0;
}

void
spool_usage(Spool *s, uint64_t *files, uint64_t *bytes)
{
	pthread_mutex_lock(&s->lock);
	*files = s->files;
	*bytes = s->bytes;
	pthread_mutex_unlock(&s->lock);
}
