/*-------------------------------------------------------------------------
 *
 * colcodec_decode.c
 *		The decoder of column chunks (colcodec.h; the bytes are described in
 *		colcodec_internal.h): a whole chunk, or only the rows a scan selected.
 *
 * The decoder trusts nothing: the checksum is tested first, so damage is
 * reported as damage, and every length is checked against what is left
 * before it is used, so a forged chunk with a valid checksum cannot make it
 * read or write out of bounds.  A selection of rows is checked the same way
 * as the whole chunk: all of the body's lengths, and each selected row
 * against the chunk's rows.
 *
 * Decoding a selection is for scans that have tested their conditions on
 * a block already (pack_rowfilter.c): the body must still be decompressed
 * whole, but a selected row's record is gathered straight from the planes
 * (its byte in each) or the dictionary (its code), so nothing is built for
 * the other rows.  Two things need every row: a delta-coded integer is the
 * sum of the deltas before it, and a byte string's place the sum of the
 * lengths before it.
 *
 * The zstd decompression context is kept for the life of the process
 * because creating one costs more than decoding a small chunk.
 *
 *-------------------------------------------------------------------------
 */
#include "colcodec.h"
#include "colcodec_internal.h"

#include <stdio.h>
#include <string.h>

#include <zstd.h>

static ZSTD_DCtx *dctx;

/* One group of the groups layout: its rows' constant bytes and varying planes. */
typedef struct Group
{
	uint32_t	count;			/* its rows */
	const uint32_t *rows;		/* their row numbers (whole chunk) */
	uint32_t	nvary;
	uint8_t		tmpl[CC_MAX_WIDTH];
	uint8_t		vary[CC_MAX_WIDTH];
	const uint8_t *plane[CC_MAX_WIDTH];
} Group;

/*
 * The record tmpl of w bytes in each of m rows: doubling copies, a few large
 * memcpy calls.  tmpl is not const: with const, GCC 12 cannot see that the
 * caller filled all w bytes, and warns.
 */
static void
fill_records(uint8_t *rec, uint8_t *tmpl, uint32_t w, uint32_t m)
{
	size_t		total = (size_t) m * w;

	if (m == 0)
		return;
	memcpy(rec, tmpl, w);
	for (size_t done = w; done < total; done *= 2)
		memcpy(rec + done, rec, done < total - done ? done : total - done);
}

/* Copy a record of w <= CC_MAX_WIDTH bytes with fixed-size moves. */
static inline void
copy_record(uint8_t *dst, const uint8_t *src, uint32_t w)
{
	if (w >= 16)
	{
		memcpy(dst, src, 16);
		memcpy(dst + w - 16, src + w - 16, 16);
	}
	else if (w >= 8)
	{
		memcpy(dst, src, 8);
		memcpy(dst + w - 8, src + w - 8, 8);
	}
	else
		for (uint32_t b = 0; b < w; b++)
			dst[b] = src[b];
}

/*
 * The varying planes into m records of width w: byte vary[q] of record
 * to[j] (j when to is NULL) is plane[q][from[j]] (j when from is NULL).
 * Four adjacent planes (the bytes of an IPv4 address) are stored with one
 * 4-byte store a record instead of four byte stores, each pass striding
 * the whole array.  Inline, so that each caller's NULLs leave no test in
 * the loops.
 */
static inline __attribute__((always_inline)) void
scatter_planes(uint8_t *rec, uint32_t w, uint32_t nvary, const uint8_t *vary,
			   const uint8_t *const *plane, const uint32_t *to, const uint32_t *from, uint32_t m)
{
	for (uint32_t q = 0; q < nvary;)
	{
		uint8_t    *o = rec + vary[q];

		if (q + 3 < nvary && vary[q + 3] == vary[q] + 3)
		{
			const uint8_t *p0 = plane[q],
					   *p1 = plane[q + 1],
					   *p2 = plane[q + 2],
					   *p3 = plane[q + 3];

			for (uint32_t j = 0; j < m; j++)
			{
				uint32_t	k = from ? from[j] : j;
				uint8_t		b[4] = {p0[k], p1[k], p2[k], p3[k]};

				memcpy(o + (size_t) (to ? to[j] : j) * w, b, 4);
			}
			q += 4;
		}
		else
		{
			const uint8_t *pl = plane[q];

			for (uint32_t j = 0; j < m; j++)
				o[(size_t) (to ? to[j] : j) * w] = pl[from ? from[j] : j];
			q++;
		}
	}
}

/*
 * The plane tags of bytes from..w-1 of count records (colcodec_internal.h):
 * a constant plane's byte into tmpl, a varying plane's byte number into
 * vary and where its count bytes start into plane.  False with a message
 * when the body is short or a tag unknown.
 */
static bool
read_planes(const uint8_t *body, size_t len, size_t *pos, uint32_t from, uint32_t w,
			uint32_t count, uint8_t *tmpl, uint8_t *vary, const uint8_t **plane,
			uint32_t *nvary, char *err, size_t errlen)
{
	size_t		p = *pos;

	*nvary = 0;
	for (uint32_t b = from; b < w; b++)
	{
		if (len - p < 1)
			goto short_body;
		if (body[p] == 0)
		{
			if (len - p < 2)
				goto short_body;
			tmpl[b] = body[p + 1];
			p += 2;
		}
		else if (body[p] == 1)
		{
			p++;
			if (len - p < count)
				goto short_body;
			tmpl[b] = 0;
			vary[*nvary] = (uint8_t) b;
			plane[(*nvary)++] = body + p;
			p += count;
		}
		else
		{
			snprintf(err, errlen, "bad plane tag %u", body[p]);
			return false;
		}
	}
	*pos = p;
	return true;

short_body:
	snprintf(err, errlen, "chunk body too short");
	return false;
}

/*
 * The records of the groups layout (colcodec_internal.h), as get_records
 * below.  A whole chunk is built group by group: the largest group's
 * template (its constant bytes) copied into every row, the others' into
 * each of their rows, then each group's varying planes scattered.  A selection
 * is built row by row, a row's place in its group counted on the way.
 */
static bool
get_groups(const uint8_t *body, size_t len, size_t *pos, uint32_t n, uint32_t w,
		   const uint32_t *sel, uint32_t m, uint8_t *rec, const CcAlloc *mem,
		   char *err, size_t errlen)
{
	size_t		p = *pos;
	const uint8_t *first;
	uint32_t	count[256] = {0};
	Group	   *of[256];
	Group	   *groups = NULL;
	uint32_t   *rows = NULL;
	int			ng = 0;

	if (len - p < n)
		goto short_body;
	first = body + p;
	p += n;
	{
		/* four histograms: one counter bumped row after row waits on itself */
		uint32_t	c4[4][256] = {{0}};
		uint32_t	i = 0;

		for (; i + 4 <= n; i += 4)
		{
			c4[0][first[i]]++;
			c4[1][first[i + 1]]++;
			c4[2][first[i + 2]]++;
			c4[3][first[i + 3]]++;
		}
		for (; i < n; i++)
			c4[0][first[i]]++;
		for (int v = 0; v < 256; v++)
		{
			count[v] = c4[0][v] + c4[1][v] + c4[2][v] + c4[3][v];
			ng += count[v] > 0;
		}
	}
	groups = cc_alloc(mem, (size_t) ng * sizeof(Group));
	if (!groups)
	{
		snprintf(err, errlen, "out of memory");
		return false;
	}
	ng = 0;
	for (int v = 0; v < 256; v++)
	{
		Group	   *g;

		if (count[v] == 0)
			continue;
		g = of[v] = &groups[ng];
		g->count = count[v];
		g->tmpl[0] = (uint8_t) v;
		ng++;
		if (!read_planes(body, len, &p, 1, w, g->count, g->tmpl, g->vary, g->plane, &g->nvary,
						 err, errlen))
			goto fail;
	}

	if (!sel)
	{
		int			base = 0;

		/* room for two lists of every row: each is written one past its end */
		rows = cc_alloc(mem, ((size_t) n + 1) * 2 * sizeof(uint32_t));
		if (!rows)
		{
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		if (ng <= 2)
		{
			/*
			 * IPv4 and IPv6, the usual case: both lists written for every
			 * row and the right one's end moved, counters in registers.
			 */
			uint32_t   *ra = rows,
					   *rb = rows + n + 1;
			uint32_t	ka = 0,
						kb = 0;
			uint8_t		va = groups[0].tmpl[0];

			for (uint32_t i = 0; i < n; i++)
			{
				uint32_t	a = first[i] == va;

				ra[ka] = i;
				rb[kb] = i;
				ka += a;
				kb += 1 - a;
			}
			groups[0].rows = ra;
			if (ng == 2)
				groups[1].rows = rb;
		}
		else
		{
			uint32_t	at[256];
			uint32_t	end = 0;

			for (int v = 0; v < 256; v++)
			{
				at[v] = end;
				if (count[v])
					of[v]->rows = rows + end;
				end += count[v];
			}
			for (uint32_t i = 0; i < n; i++)
				rows[at[first[i]]++] = i;
		}
		/* the largest group's template into every row, sequentially */
		for (int k = 1; k < ng; k++)
			if (groups[k].count > groups[base].count)
				base = k;
		fill_records(rec, groups[base].tmpl, w, n);
		for (int k = 0; k < ng; k++)
		{
			const Group *g = &groups[k];
			const uint32_t *r = g->rows;

			for (uint32_t j = 0; j < g->count && k != base; j++)
				copy_record(rec + (size_t) r[j] * w, g->tmpl, w);
			scatter_planes(rec, w, g->nvary, g->vary, g->plane, r, NULL, g->count);
		}
	}
	else
	{
		uint32_t	seen[256] = {0};
		uint32_t	next = 0;	/* rows [0, next) are counted in seen ... */
		uint32_t	ka = 0;		/* ... or, of two groups, those of the first here */
		uint8_t		va = groups[0].tmpl[0];

		for (uint32_t i = 0; i < m; i++)
		{
			uint32_t	r = sel[i];
			const Group *g;
			uint32_t	k;
			uint8_t    *o = rec + (size_t) i * w;

			if (r < next)
			{
				snprintf(err, errlen, "selected rows not in ascending order");
				goto fail;
			}
			g = of[first[r]];
			if (ng <= 2)
			{
				while (next < r)
					ka += first[next++] == va;
				k = first[r] == va ? ka : r - ka;
			}
			else
			{
				while (next < r)
					seen[first[next++]]++;
				k = seen[first[r]];
			}
			copy_record(o, g->tmpl, w);
			for (uint32_t q = 0; q < g->nvary; q++)
				o[g->vary[q]] = g->plane[q][k];
		}
	}
	cc_release(mem, rows);
	cc_release(mem, groups);
	*pos = p;
	return true;

short_body:
	snprintf(err, errlen, "chunk body too short");
fail:
	cc_release(mem, rows);
	cc_release(mem, groups);
	return false;
}

/*
 * Read the records of the m rows sel[0..m) (every row when sel is NULL, m ==
 * n) of n records of width w from body[*pos..len) into rec; *pos moves past
 * all n.  Lengths are checked for all n, so a selection reads the same bytes
 * a full decode would have been allowed to.
 */
static bool
get_records(const uint8_t *body, size_t len, size_t *pos, int layout, uint32_t n, uint32_t w,
			const uint32_t *sel, uint32_t m, uint8_t *rec, const CcAlloc *mem, char *err, size_t errlen)
{
	size_t		p = *pos;

	if (layout == CCL_DICT)
	{
		uint32_t	k;
		const uint8_t *dict;

		if (len - p < 2)
			goto short_body;
		k = (uint32_t) body[p] + 1;
		p += 2;
		if (len - p < (size_t) k * w + n)
			goto short_body;
		dict = body + p;
		p += (size_t) k * w;
		for (uint32_t i = 0; i < m; i++)
		{
			uint8_t		c = body[p + (sel ? sel[i] : i)];

			if (c >= k)
			{
				snprintf(err, errlen, "dictionary code %u out of range (%u entries)", c, k);
				return false;
			}
			memcpy(rec + (size_t) i * w, dict + (size_t) c * w, w);
		}
		p += n;
	}
	else if (layout == CCL_PLANES)
	{
		/*
		 * Most planes are constant (the zero high bytes of a small integer,
		 * the unused bytes of an IPv4 address in 16): a template record holds
		 * them, copied into every row, and only the planes that vary are
		 * then read byte by byte.
		 */
		uint8_t		tmpl[CC_MAX_WIDTH];
		uint8_t		vary[CC_MAX_WIDTH];	/* the varying planes ... */
		const uint8_t *plane[CC_MAX_WIDTH];	/* ... and their bytes */
		uint32_t	nvary;

		if (!read_planes(body, len, &p, 0, w, n, tmpl, vary, plane, &nvary, err, errlen))
			return false;
		fill_records(rec, tmpl, w, m);
		if (sel)
			scatter_planes(rec, w, nvary, vary, plane, NULL, sel, m);
		else
			scatter_planes(rec, w, nvary, vary, plane, NULL, NULL, m);
	}
	else if (layout == CCL_GROUPS && w > 1)
		return get_groups(body, len, pos, n, w, sel, m, rec, mem, err, errlen);
	else
	{
		snprintf(err, errlen, "unknown layout %d", layout);
		return false;
	}
	*pos = p;
	return true;

short_body:
	snprintf(err, errlen, "chunk body too short");
	return false;
}

bool
cc_decode(const uint8_t *chunk, size_t len, const CcAlloc *mem,
		  CcColumn *col, char *err, size_t errlen)
{
	return cc_decode_rows(chunk, len, mem, NULL, 0, col, err, errlen);
}

bool
cc_decode_rows(const uint8_t *chunk, size_t len, const CcAlloc *mem,
			   const uint32_t *sel, uint32_t nsel, CcColumn *col, char *err, size_t errlen)
{
	if (cc_is_framed(chunk, len))
		return cc_frames_decode_rows(chunk, len, mem, sel, nsel, col, err, errlen);
	return cc_decode_into(chunk, len, mem, sel, nsel, col, NULL, err, errlen);
}

/*
 * Where a frame's rows go in an array of into's column, made when the first
 * frame needs it.  The NULL flags are made zeroed: frames without NULLs do
 * not write theirs.
 */
static void *
into_array(const CcInto *into, const CcAlloc *mem, void **array, size_t width, bool zeroed)
{
	if (!*array)
	{
		*array = cc_alloc(mem, (size_t) into->total * width);
		if (*array && zeroed)
			memset(*array, 0, (size_t) into->total * width);
	}
	return *array ? (uint8_t *) *array + (size_t) into->at * width : NULL;
}

bool
cc_decode_into(const uint8_t *chunk, size_t len, const CcAlloc *mem,
			   const uint32_t *sel, uint32_t nsel, CcColumn *col, const CcInto *into,
			   char *err, size_t errlen)
{
	bool	   *isnull;
	int64_t    *ints;
	uint32_t	n,
				m,
				w,
				rawlen,
				stored,
				bloblen;
	int			kind = 0,
				layout,
				flags;
	const uint8_t *body;
	uint8_t    *raw = NULL;
	uint8_t    *rec = NULL;
	size_t		pos = 0;

	memset(col, 0, sizeof(*col));
	if (len < CC_HEADER_LEN || memcmp(chunk, CC_MAGIC, 4) != 0)
	{
		snprintf(err, errlen, "not a column chunk (bad magic or %zu bytes)", len);
		return false;
	}
	if (cc_get32(chunk + 4) != cc_crc32(chunk + 8, len - 8))
	{
		snprintf(err, errlen, "checksum mismatch");
		return false;
	}
	kind = chunk[8];
	layout = chunk[9];
	flags = chunk[10];
	n = cc_get32(chunk + 12);
	w = cc_get32(chunk + 16);
	rawlen = cc_get32(chunk + 20);
	stored = cc_get32(chunk + 24);
	bloblen = kind == CC_BLOB ? cc_get32(chunk + 44) : 0;
	if (n > CC_MAX_ROWS || stored != len - CC_HEADER_LEN ||
		!((kind == CC_INT && w == 8) || (kind == CC_BLOB && w == 4) ||
		  (kind == CC_FIXED && w >= 1 && w <= CC_MAX_WIDTH)) ||
		bloblen > (1u << 30) || (kind != CC_BLOB && bloblen))
	{
		snprintf(err, errlen, "inconsistent chunk header");
		return false;
	}
	/* a frame writes into the arrays of its chunk's kind and width only */
	if (into && (kind == CC_BLOB || kind != into->col->kind ||
				 (kind == CC_FIXED && w != into->col->width) || into->at > into->total ||
				 (sel ? nsel : n) > into->total - into->at))
	{
		snprintf(err, errlen, "frame does not match the chunk");
		return false;
	}
	if (sel)
	{
		for (uint32_t i = 0; i < nsel; i++)
			if (sel[i] >= n)
			{
				snprintf(err, errlen, "row %u selected from a chunk of %u rows", sel[i], n);
				return false;
			}
		m = nsel;
	}
	else
		m = n;
	col->kind = kind;
	col->tag = chunk[11];
	col->nrows = m;
	col->chunk_rows = n;
	col->width = kind == CC_FIXED ? w : 0;

	if (flags & CCF_ALLNULL)
	{
		if (rawlen != 0 || n == 0)
		{
			snprintf(err, errlen, "inconsistent chunk header");
			return false;
		}
		isnull = into ? into_array(into, mem, (void **) &into->col->isnull, sizeof(bool), true) :
			(col->isnull = cc_alloc(mem, m * sizeof(bool)));
		if (!isnull)
			goto nomem;
		memset(isnull, 1, m * sizeof(bool));
		/* the values of NULL rows are zeroes, in a frame as in a chunk */
		if (into)
		{
			uint8_t    *v = into_array(into, mem, kind == CC_INT ? (void **) &into->col->ints :
									   (void **) &into->col->data, kind == CC_INT ? 8 : w, false);

			if (!v)
				goto nomem;
			memset(v, 0, (size_t) m * (kind == CC_INT ? 8 : w));
		}
	}

	/* the body, decompressed */
	body = chunk + CC_HEADER_LEN;
	if (flags & CCF_ZSTD)
	{
		size_t		got;

		/* no layout is larger than this: refuse to allocate more */
		if ((uint64_t) rawlen > (uint64_t) (n + 7) / 8 + 2 + (uint64_t) DICT_MAX * w +
			(uint64_t) (n + 1) * w + (uint64_t) n + bloblen)
		{
			snprintf(err, errlen, "inconsistent chunk header");
			goto fail;
		}
		raw = cc_alloc(mem, rawlen);
		if (!raw)
			goto nomem;
		if (!dctx && !(dctx = ZSTD_createDCtx()))
			goto nomem;
		got = ZSTD_decompressDCtx(dctx, raw, rawlen, body, stored);
		if (ZSTD_isError(got) || got != rawlen)
		{
			snprintf(err, errlen, "zstd: %s", ZSTD_isError(got) ? ZSTD_getErrorName(got) : "wrong length");
			goto fail;
		}
		body = raw;
	}
	else if (rawlen != stored)
	{
		snprintf(err, errlen, "inconsistent chunk header");
		goto fail;
	}
	if (flags & CCF_ALLNULL)
	{
		cc_release(mem, raw);	/* a forged all-NULL chunk may claim a compressed body */
		return true;
	}

	if (flags & CCF_NULLS)
	{
		if (rawlen < (n + 7) / 8)
			goto short_body;
		isnull = into ? into_array(into, mem, (void **) &into->col->isnull, sizeof(bool), true) :
			(col->isnull = cc_alloc(mem, m * sizeof(bool)));
		if (!isnull)
			goto nomem;
		for (uint32_t i = 0; i < m; i++)
		{
			uint32_t	r = sel ? sel[i] : i;

			isnull[i] = (body[r / 8] >> (r % 8)) & 1;
		}
		pos = (n + 7) / 8;
	}

	/* deltas and string lengths: every record; the others: the selected ones */
	if (!sel || (kind == CC_INT && !(flags & CCF_DELTA)) || kind == CC_FIXED)
	{
		rec = into && kind == CC_FIXED ? into_array(into, mem, (void **) &into->col->data, w, false) :
			cc_alloc(mem, (size_t) m * w);
		if (!rec)
			goto nomem;
		if (!get_records(body, rawlen, &pos, layout, n, w, sel, m, rec, mem, err, errlen))
			goto fail;
	}
	else
	{
		rec = cc_alloc(mem, (size_t) n * w);
		if (!rec)
			goto nomem;
		if (!get_records(body, rawlen, &pos, layout, n, w, NULL, n, rec, mem, err, errlen))
			goto fail;
	}

	if (kind == CC_INT)
	{
		uint64_t	base = cc_get64(chunk + 28);
		uint64_t	v = cc_get64(chunk + 36);
		uint64_t	scale = cc_get32(chunk + 44);

		ints = into ? into_array(into, mem, (void **) &into->col->ints, 8, false) :
			(col->ints = cc_alloc(mem, (size_t) m * 8));
		if (!ints)
			goto nomem;
		if (!(flags & CCF_DELTA))
			for (uint32_t i = 0; i < m; i++)
				ints[i] = (int64_t) (cc_get64(rec + (size_t) i * 8) * (scale ? scale : 1) + base);
		else
		{
			uint32_t	k = 0;

			/* row 0 holds a zero delta: the first value */
			for (uint32_t i = 0; i < n && k < m; i++)
			{
				v += cc_get64(rec + (size_t) i * 8) * (scale ? scale : 1) + base;
				if (!sel)
					ints[k++] = (int64_t) v;
				else
					while (k < m && sel[k] == i)
						ints[k++] = (int64_t) v;
			}
			if (k < m)
			{
				snprintf(err, errlen, "selected rows not in ascending order");
				goto fail;
			}
		}
		cc_release(mem, rec);
	}
	else if (kind == CC_FIXED)
		col->data = into ? NULL : rec;	/* into: rec is the chunk's array */
	else
	{
		uint32_t	off = 0,
					out = 0;
		uint32_t   *offsets = cc_alloc(mem, ((size_t) n + 1) * sizeof(uint32_t));

		if (!offsets)
			goto nomem;
		for (uint32_t i = 0; i < n; i++)
		{
			uint32_t	l = cc_get32(rec + (size_t) i * 4);

			offsets[i] = off;
			if (l > bloblen - off)
			{
				cc_release(mem, offsets);
				goto short_body;
			}
			off += l;
		}
		offsets[n] = off;
		if (off != bloblen || rawlen - pos != bloblen)
		{
			cc_release(mem, offsets);
			goto short_body;
		}
		col->offsets = offsets;
		if (sel)
		{
			/* the selected strings, one after the other */
			col->offsets = cc_alloc(mem, ((size_t) m + 1) * sizeof(uint32_t));
			if (!col->offsets)
			{
				cc_release(mem, offsets);
				goto nomem;
			}
			for (uint32_t i = 0; i < m; i++)
			{
				col->offsets[i] = out;
				out += offsets[sel[i] + 1] - offsets[sel[i]];
			}
			col->offsets[m] = out;
		}
		col->data = cc_alloc(mem, sel ? out : bloblen);
		if (!col->data)
		{
			if (sel)
				cc_release(mem, offsets);
			goto nomem;
		}
		if (!sel)
			memcpy(col->data, body + pos, bloblen);
		else
		{
			for (uint32_t i = 0; i < m; i++)
				memcpy(col->data + col->offsets[i], body + pos + offsets[sel[i]],
					   col->offsets[i + 1] - col->offsets[i]);
			cc_release(mem, offsets);
		}
		pos += bloblen;
		cc_release(mem, rec);
	}
	rec = NULL;
	if (pos != rawlen)
		goto short_body;
	cc_release(mem, raw);
	return true;

short_body:
	snprintf(err, errlen, "chunk body does not match its header");
	goto fail;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	cc_release(mem, raw);
	if (!(into && kind == CC_FIXED))
		cc_release(mem, rec);
	cc_release(mem, col->isnull);
	cc_release(mem, col->ints);
	cc_release(mem, col->data);
	cc_release(mem, col->offsets);
	memset(col, 0, sizeof(*col));
	return false;
}
