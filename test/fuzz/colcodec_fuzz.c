/*
 * colcodec_fuzz.c
 *		libFuzzer target for the column chunk codec of packed partitions
 *		(extension/colcodec.c, colcodec_decode.c, colcodec_frames.c).
 *
 * Build and run: test/fuzz/run_colcodec.sh [SECONDS], which does
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iextension \
 *     test/fuzz/colcodec_fuzz.c extension/colcodec.c extension/colcodec_decode.c \
 *     extension/colcodec_frames.c \
 *     -lzstd -lz -o colcodec_fuzz
 *
 * The first input byte picks the mode:
 *   even: the rest is a stored chunk, plain or framed.  Its checksums (a
 *         framed chunk's table and frames too) are made valid first, so
 *         the fuzzer gets past it into the header and body parsers, which
 *         must refuse any lie without reading or writing out of bounds; a
 *         chunk that decodes must encode and decode again to the same values,
 *         and a selection of its rows (every other one, as a scan decodes
 *         after its row pre-filter) must decode to those rows; a selection
 *         of a chunk that does not decode must be as safe.
 *   odd:  the rest is values (kind, width, NULLs and data taken from the
 *         bytes) that must survive encode -> decode unchanged, in every
 *         layout the encoder picks, plain and in frames.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "colcodec.h"

static void *
m_alloc(void *ctx, size_t n)
{
	return malloc(n);
}

static void
m_free(void *ctx, void *p)
{
	free(p);
}

static const CcAlloc mem = {m_alloc, m_free, NULL};

static void
free_col(CcColumn *c)
{
	free(c->isnull);
	free(c->ints);
	free(c->data);
	free(c->offsets);
}

/* Is row i of a the same as row j of b? */
static int
same_row(const CcColumn *a, uint32_t i, const CcColumn *b, uint32_t j)
{
	int			na = a->isnull && a->isnull[i],
				nb = b->isnull && b->isnull[j];

	if (na != nb)
		return 0;
	if (na)
		return 1;
	if (a->kind == CC_INT)
		return a->ints[i] == b->ints[j];
	if (a->kind == CC_FIXED)
		return memcmp(a->data + (size_t) i * a->width, b->data + (size_t) j * a->width, a->width) == 0;
	return a->offsets[i + 1] - a->offsets[i] == b->offsets[j + 1] - b->offsets[j] &&
		memcmp(a->data + a->offsets[i], b->data + b->offsets[j], a->offsets[i + 1] - a->offsets[i]) == 0;
}

static int
same(const CcColumn *a, const CcColumn *b)
{
	if (a->kind != b->kind || a->nrows != b->nrows)
		return 0;
	for (uint32_t i = 0; i < a->nrows; i++)
		if (!same_row(a, i, b, i))
			return 0;
	return 1;
}

/* decode every other row of chunk; when whole (its full decode) is given, compare */
static void
selection(const uint8_t *chunk, size_t len, const CcColumn *whole)
{
	uint32_t	n = whole ? whole->nrows : 3;
	uint32_t   *sel = malloc(((size_t) n / 2 + 1) * sizeof(uint32_t));
	uint32_t	nsel = 0;
	CcColumn	part;
	char		err[200];

	for (uint32_t i = 0; i < n; i += 2)
		sel[nsel++] = i;
	if (cc_decode_rows(chunk, len, &mem, sel, nsel, &part, err, sizeof(err)))
	{
		if (whole && (part.kind != whole->kind || part.nrows != nsel))
			abort();
		for (uint32_t k = 0; whole && k < nsel; k++)
			if (!same_row(whole, sel[k], &part, k))
				abort();
		free_col(&part);
	}
	else if (whole)
		abort();				/* the whole chunk decoded: so must any part of it */
	free(sel);
}

/*
 * encode col (in frames of frame_rows rows, or plain with 0), decode it,
 * compare; abort on any difference
 */
static void
roundtrip(const CcColumn *col, int options, uint32_t frame_rows)
{
	CcBuf		out = {0};
	CcColumn	dec;
	char		err[200];

	if (cc_encode_frames(col, options, 1, frame_rows, &mem, &out, err, sizeof(err)) == 0)
		abort();
	if (!cc_decode(out.data, out.len, &mem, &dec, err, sizeof(err)) || !same(col, &dec))
		abort();
	free_col(&dec);
	free(out.data);
}

/*
 * Make the checksums of a stored chunk valid: a plain chunk's, or a framed
 * chunk's table and each of its frames' (as far as the bytes go).
 */
static void
fix_checksums(uint8_t *chunk, size_t len)
{
	if (len >= 20 && memcmp(chunk, "NFF1", 4) == 0)
	{
		uint32_t	nframes = cc_get32(chunk + 16);
		size_t		at;

		if (nframes > (len - 20) / 4)
			nframes = (uint32_t) ((len - 20) / 4);
		at = 20 + 4 * (size_t) nframes;
		for (uint32_t k = 0; k < nframes; k++)
		{
			uint32_t	l = cc_get32(chunk + 20 + 4 * k);

			if (l > len - at)
				break;
			if (l >= 8)
				cc_put32(chunk + at + 4, cc_crc32(chunk + at + 8, l - 8));
			at += l;
		}
		cc_put32(chunk + 4, cc_crc32(chunk + 8, 12 + 4 * (size_t) nframes));
	}
	else if (len >= 8)
		cc_put32(chunk + 4, cc_crc32(chunk + 8, len - 8));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		err[200];

	if (size < 2)
		return 0;
	if (data[0] % 2 == 0)
	{
		uint8_t    *chunk = malloc(size - 1);
		CcColumn	col;

		memcpy(chunk, data + 1, size - 1);
		fix_checksums(chunk, size - 1);
		if (cc_decode(chunk, size - 1, &mem, &col, err, sizeof(err)))
		{
			roundtrip(&col, 0, 0);
			selection(chunk, size - 1, &col);
			free_col(&col);
		}
		else
			selection(chunk, size - 1, NULL);
		free(chunk);
		return 0;
	}
	else
	{
		int			kind = 1 + (data[1] % 3);
		uint32_t	width = kind == CC_FIXED ? 1 + data[1] / 3 % CC_MAX_WIDTH : 8;
		const uint8_t *p = data + 2;
		size_t		left = size - 2;
		uint32_t	n = (uint32_t) (left / (width + 1));
		uint32_t	frame_rows;
		CcColumn	col = {0};

		col.kind = kind;
		col.nrows = n;
		col.width = kind == CC_FIXED ? width : 0;
		col.isnull = malloc(n + 1);
		for (uint32_t i = 0; i < n; i++)
			col.isnull[i] = p[i] < 16;
		p += n;
		if (kind == CC_INT)
		{
			col.ints = malloc(((size_t) n + 1) * 8);
			for (uint32_t i = 0; i < n; i++)
				col.ints[i] = (int64_t) cc_get64(p + (size_t) i * 8);
		}
		else if (kind == CC_FIXED)
		{
			col.data = malloc((size_t) n * width + 1);
			memcpy(col.data, p, (size_t) n * width);
		}
		else
		{
			/* byte strings: lengths from the bytes, data from the bytes */
			col.offsets = malloc(((size_t) n + 1) * 4);
			col.data = malloc(left + 1);
			memcpy(col.data, data + 2, left);
			col.offsets[0] = 0;
			for (uint32_t i = 0; i < n; i++)
			{
				uint32_t	l = p[i * 8] % 9;

				col.offsets[i + 1] = col.offsets[i] + l <= left ? col.offsets[i] + l : col.offsets[i];
			}
		}
		/* plain, and in frames of 1 to 64 rows (at most CC_MAX_FRAMES of them) */
		frame_rows = 1 + data[1] % 64;
		if (frame_rows < n / CC_MAX_FRAMES + 1)
			frame_rows = n / CC_MAX_FRAMES + 1;
		roundtrip(&col, 0, 0);
		roundtrip(&col, 0, frame_rows);
		if (kind == CC_INT)
		{
			roundtrip(&col, CC_OPT_DELTA, 0);
			roundtrip(&col, CC_OPT_DELTA, frame_rows);
		}
		free_col(&col);
	}
	return 0;
}
