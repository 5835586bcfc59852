/*-------------------------------------------------------------------------
 *
 * colcodec_frames.c
 *		Framed column chunks: a block's column cut into frames of a few
 *		thousand rows, each an ordinary chunk (colcodec.c), so that a scan
 *		that wants a few rows of a block reads, checks and decompresses
 *		only the frames that hold them.
 *
 * Why.  A packed hour is ordered by 5-minute slot and service port
 * (pack_order.c), so the flows of "dst port 587" are one run of a few
 * hundred rows in a block of 8,192.  A chunk is one zstd frame over
 * byte-transposed planes: to read any row of it, all of it is fetched
 * from TOAST, checksummed and decompressed.  For such a lookup those three
 * were most of the time spent decoding.  Cutting the chunk into frames of
 * 2,048 rows lets the scan fetch the frame table and then only the frames
 * its selected rows fall in (pack_fetch.c): a run of 700 rows reads one
 * frame, sometimes two, of four.
 *
 * What it costs.  Each frame repeats a chunk header and starts zstd and
 * the dictionaries afresh: a packed hour grows by about 4 % at 2,048 rows
 * (the benchmark's day, 30.6 -> 31.8 bytes a flow); 1,024 rows cost twice
 * that in the columns a lookup prints, for little more speed.  Decoding a
 * whole framed chunk costs about what one chunk did (integers a little
 * more, addresses less: the smaller frames stay in cache), and the
 * statistics, which read every row, measured no slower.
 *
 * Bytes, little-endian:
 *	  0 magic "NFF1"		  4 crc32 of bytes 8 .. the end of the table
 *	  8 nrows				 12 rows per frame (the last frame may have fewer)
 *	 16 nframes				 20 the byte length of each frame, nframes x 4
 * then the frames, in row order, each a chunk of colcodec_internal.h.  The
 * checksum covers the table only: each frame checks its own bytes, so a
 * selection can be decoded from a buffer in which only the table and the
 * frames it reads were filled.  All frames of a chunk must agree on kind,
 * width and the caller's tag; a frame inside a frame is refused.
 *
 *-------------------------------------------------------------------------
 */
#include "colcodec.h"
#include "colcodec_internal.h"

#include <stdio.h>
#include <string.h>

#define FRAMES_HEAD		20

size_t
cc_frames_head_len(uint32_t nframes)
{
	return FRAMES_HEAD + 4 * (size_t) nframes;
}

bool
cc_is_framed(const uint8_t *chunk, size_t len)
{
	return len >= 4 && memcmp(chunk, CC_FRAMES_MAGIC, 4) == 0;
}

/* Rows a..a+n of col, as a column of its own sharing col's arrays. */
static void
rows_view(const CcColumn *col, uint32_t a, uint32_t n, CcColumn *v)
{
	*v = *col;
	v->nrows = n;
	v->isnull = col->isnull ? col->isnull + a : NULL;
	if (col->kind == CC_INT)
		v->ints = col->ints + a;
	else if (col->kind == CC_FIXED)
		v->data = col->data + (size_t) a * col->width;
	else
		v->offsets = col->offsets + a;	/* the strings stay where they are in data */
}

size_t
cc_encode_frames(const CcColumn *col, int options, int zstd_level, uint32_t frame_rows,
				 const CcAlloc *mem, CcBuf *out, char *err, size_t errlen)
{
	uint32_t	n = col->nrows;
	uint32_t	nframes;
	size_t		start = out->len;
	size_t		head;
	uint8_t    *h;
	uint32_t	nulls = 0;

	if (col->isnull)
		for (uint32_t i = 0; i < n; i++)
			nulls += col->isnull[i];
	/* a column NULL in every row is a header alone, read by nobody's selection */
	if (frame_rows == 0 || n <= frame_rows || nulls == n)
		return cc_encode(col, options, zstd_level, mem, out, err, errlen);
	nframes = (n + frame_rows - 1) / frame_rows;
	if (nframes > CC_MAX_FRAMES)
	{
		snprintf(err, errlen, "%u frames of %u rows: more than %d", nframes, frame_rows, CC_MAX_FRAMES);
		return 0;
	}
	head = cc_frames_head_len(nframes);
	if (!cc_buf_reserve(out, head, mem))
	{
		snprintf(err, errlen, "out of memory");
		return 0;
	}
	out->len += head;
	for (uint32_t k = 0; k < nframes; k++)
	{
		CcColumn	v;
		uint32_t	a = k * frame_rows;
		size_t		len;

		rows_view(col, a, n - a < frame_rows ? n - a : frame_rows, &v);
		len = cc_encode(&v, options, zstd_level, mem, out, err, errlen);
		if (len == 0)
		{
			out->len = start;
			return 0;
		}
		cc_put32(out->data + start + FRAMES_HEAD + 4 * (size_t) k, (uint32_t) len);
	}
	h = out->data + start;
	memcpy(h, CC_FRAMES_MAGIC, 4);
	cc_put32(h + 8, n);
	cc_put32(h + 12, frame_rows);
	cc_put32(h + 16, nframes);
	cc_put32(h + 4, cc_crc32(h + 8, head - 8));
	return out->len - start;
}

/*
 * The frame table of a framed chunk of len bytes whose first have bytes
 * are at chunk: checked (checksum, counts, lengths adding up to len), its
 * frames' offsets in off[0..nframes] (off[nframes] == len).  off must
 * hold CC_MAX_FRAMES + 1 entries.
 */
static bool
read_table(const uint8_t *chunk, size_t have, size_t len, uint32_t *nrows, uint32_t *frame_rows,
		   uint32_t *nframes, size_t *off, char *err, size_t errlen)
{
	size_t		head;

	if (have < FRAMES_HEAD || have > len || !cc_is_framed(chunk, have))
	{
		snprintf(err, errlen, "not a framed chunk (%zu bytes)", len);
		return false;
	}
	*nrows = cc_get32(chunk + 8);
	*frame_rows = cc_get32(chunk + 12);
	*nframes = cc_get32(chunk + 16);
	if (*nframes == 0 || *nframes > CC_MAX_FRAMES || *nrows > CC_MAX_ROWS || *frame_rows == 0 ||
		(uint64_t) (*nframes - 1) * *frame_rows >= *nrows ||
		(uint64_t) *nframes * *frame_rows < *nrows)
	{
		snprintf(err, errlen, "inconsistent frame table");
		return false;
	}
	head = cc_frames_head_len(*nframes);
	if (have < head)
	{
		snprintf(err, errlen, "frame table of %zu bytes, %zu read", head, have);
		return false;
	}
	if (cc_get32(chunk + 4) != cc_crc32(chunk + 8, head - 8))
	{
		snprintf(err, errlen, "checksum mismatch in the frame table");
		return false;
	}
	off[0] = head;
	for (uint32_t k = 0; k < *nframes; k++)
	{
		uint32_t	l = cc_get32(chunk + FRAMES_HEAD + 4 * (size_t) k);

		if (l > len - off[k])
		{
			snprintf(err, errlen, "frame %u runs past the chunk", k);
			return false;
		}
		off[k + 1] = off[k] + l;
	}
	if (off[*nframes] != len)
	{
		snprintf(err, errlen, "frames do not fill the chunk");
		return false;
	}
	return true;
}

bool
cc_frames_span(const uint8_t *chunk, size_t have, size_t len, const uint32_t *sel, uint32_t nsel,
			   size_t *from, size_t *to)
{
	uint32_t	n,
				frame_rows,
				nframes,
				first,
				last;
	size_t		off[CC_MAX_FRAMES + 1];
	char		err[80];

	if (nsel == 0 || !read_table(chunk, have, len, &n, &frame_rows, &nframes, off, err, sizeof(err)))
		return false;
	/* sel is ascending: its first and last rows bound the frames it reads */
	first = sel[0] / frame_rows;
	last = sel[nsel - 1] / frame_rows;
	if (sel[nsel - 1] >= n || first > last)
		return false;
	*from = off[first];
	*to = off[last + 1];
	return true;
}

/* Append part (rows of one frame) to out, at row at of total. */
static bool
append(CcColumn *out, const CcColumn *part, uint32_t at, uint32_t total, const CcAlloc *mem,
	   size_t *blob_cap)
{
	uint32_t	m = part->nrows;

	if (part->isnull && !out->isnull)
	{
		out->isnull = cc_alloc(mem, (size_t) total * sizeof(bool));
		if (!out->isnull)
			return false;
		memset(out->isnull, 0, (size_t) total * sizeof(bool));
	}
	if (out->isnull)
	{
		if (part->isnull)
			memcpy(out->isnull + at, part->isnull, m * sizeof(bool));
		else
			memset(out->isnull + at, 0, m * sizeof(bool));
	}
	if (out->kind == CC_INT)
	{
		if (!out->ints && !(out->ints = cc_alloc(mem, (size_t) total * 8)))
			return false;
		if (part->ints)
			memcpy(out->ints + at, part->ints, (size_t) m * 8);
		else
			memset(out->ints + at, 0, (size_t) m * 8);		/* an all-NULL frame */
	}
	else if (out->kind == CC_FIXED)
	{
		if (!out->data && !(out->data = cc_alloc(mem, (size_t) total * out->width)))
			return false;
		if (part->data)
			memcpy(out->data + (size_t) at * out->width, part->data, (size_t) m * out->width);
		else
			memset(out->data + (size_t) at * out->width, 0, (size_t) m * out->width);
	}
	else
	{
		uint32_t	base,
					add = part->offsets ? part->offsets[m] : 0;

		if (!out->offsets)
		{
			if (!(out->offsets = cc_alloc(mem, ((size_t) total + 1) * sizeof(uint32_t))))
				return false;
			out->offsets[0] = 0;
		}
		base = out->offsets[at];
		if ((uint64_t) base + add > (1u << 30))
			return false;
		if (base + add > *blob_cap)
		{
			size_t		cap = *blob_cap ? *blob_cap : 256;
			uint8_t    *d;

			while (cap < base + add)
				cap *= 2;
			if (!(d = cc_alloc(mem, cap)))
				return false;
			if (base)
				memcpy(d, out->data, base);
			cc_release(mem, out->data);
			out->data = d;
			*blob_cap = cap;
		}
		for (uint32_t i = 0; i < m; i++)
			out->offsets[at + i + 1] = base + (part->offsets ? part->offsets[i + 1] : 0);
		if (add)
			memcpy(out->data + base, part->data, add);
	}
	return true;
}

static void
release_col(const CcAlloc *mem, CcColumn *c)
{
	cc_release(mem, c->isnull);
	cc_release(mem, c->ints);
	cc_release(mem, c->data);
	cc_release(mem, c->offsets);
	memset(c, 0, sizeof(*c));
}

bool
cc_frames_decode_rows(const uint8_t *chunk, size_t len, const CcAlloc *mem,
					  const uint32_t *sel, uint32_t nsel, CcColumn *col, char *err, size_t errlen)
{
	uint32_t	n,
				frame_rows,
				nframes,
				m,
				done = 0;
	size_t		off[CC_MAX_FRAMES + 1];
	size_t		blob_cap = 0;
	uint32_t   *rel = NULL;
	uint32_t	i = 0;
	bool		first = true;

	memset(col, 0, sizeof(*col));
	if (!read_table(chunk, len, len, &n, &frame_rows, &nframes, off, err, errlen))
		return false;
	for (uint32_t k = 0; sel && k < nsel; k++)
		if (sel[k] >= n)
		{
			snprintf(err, errlen, "row %u selected from a chunk of %u rows", sel[k], n);
			return false;
		}
		else if (k > 0 && sel[k] < sel[k - 1])
		{
			snprintf(err, errlen, "selected rows not in ascending order");
			return false;
		}
	m = sel ? nsel : n;
	if (sel && nsel > 0 && !(rel = cc_alloc(mem, (size_t) nsel * sizeof(uint32_t))))
		goto nomem;
	for (uint32_t k = 0; k < nframes; k++)
	{
		uint32_t	a = k * frame_rows;
		uint32_t	rows = n - a < frame_rows ? n - a : frame_rows;
		uint32_t	nrel = 0;
		CcColumn	part;

		if (sel)
		{
			/* this frame's selected rows, relative to it; none: not read at all */
			while (i < nsel && sel[i] < a + rows)
				rel[nrel++] = sel[i++] - a;
			if (nrel == 0)
				continue;
		}
		if (first)
		{
			/* the chunk's kind and width, which every frame must have */
			if (off[k + 1] - off[k] < CC_HEADER_LEN || memcmp(chunk + off[k], CC_MAGIC, 4) != 0)
			{
				snprintf(err, errlen, "frame %u is not a column chunk", k);
				goto fail;
			}
			col->kind = chunk[off[k] + 8];
			col->width = col->kind == CC_FIXED ? cc_get32(chunk + off[k] + 16) : 0;
			col->tag = chunk[off[k] + 11];
			first = false;
		}
		if (col->kind == CC_BLOB)
		{
			/* rare (MPLS stacks): decoded apart and appended */
			if (!cc_decode_into(chunk + off[k], off[k + 1] - off[k], mem, sel ? rel : NULL, nrel, &part,
								NULL, err, errlen))
				goto fail;
			if (part.kind != CC_BLOB || !append(col, &part, done, m, mem, &blob_cap))
			{
				release_col(mem, &part);
				snprintf(err, errlen, part.kind != CC_BLOB ? "frame %u does not match the chunk" :
						 "out of memory", k);
				goto fail;
			}
		}
		else
		{
			/* straight into the chunk's arrays */
			CcInto		into = {col, done, m};

			if (!cc_decode_into(chunk + off[k], off[k + 1] - off[k], mem, sel ? rel : NULL, nrel, &part,
								&into, err, errlen))
				goto fail;
		}
		if (part.chunk_rows != rows || part.tag != col->tag)
		{
			snprintf(err, errlen, "frame %u does not match the chunk", k);
			release_col(mem, &part);
			goto fail;
		}
		done += part.nrows;
		release_col(mem, &part);
	}
	cc_release(mem, rel);
	if (first)
	{
		/* nothing selected: the kind is still the chunk's (the first frame's header) */
		if (off[1] - off[0] < CC_HEADER_LEN || memcmp(chunk + off[0], CC_MAGIC, 4) != 0)
		{
			snprintf(err, errlen, "frame 0 is not a column chunk");
			goto fail;
		}
		col->kind = chunk[off[0] + 8];
		col->tag = chunk[off[0] + 11];
		col->width = col->kind == CC_FIXED ? cc_get32(chunk + off[0] + 16) : 0;
		if (col->kind < CC_INT || col->kind > CC_BLOB ||
			(col->kind == CC_FIXED && (col->width == 0 || col->width > CC_MAX_WIDTH)))
		{
			snprintf(err, errlen, "inconsistent chunk header");
			goto fail;
		}
	}
	if (col->kind == CC_BLOB && !col->offsets)
	{
		/* no string selected: the one offset of none */
		if (!(col->offsets = cc_alloc(mem, sizeof(uint32_t))))
			goto nomem;
		col->offsets[0] = 0;
	}
	if (col->kind == CC_BLOB && !col->data && !(col->data = cc_alloc(mem, 1)))
		goto nomem;				/* empty strings only: data is still somewhere, as in a chunk */
	col->nrows = m;
	col->chunk_rows = n;
	return true;

nomem:
	snprintf(err, errlen, "out of memory");
fail:
	cc_release(mem, rel);
	release_col(mem, col);
	return false;
}
