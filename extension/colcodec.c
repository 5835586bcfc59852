/*-------------------------------------------------------------------------
 *
 * colcodec.c
 *		Column chunk codec of packed flows partitions: the encoder and the
 *		Bloom filter of block summaries (see colcodec.h for the format and
 *		why it is shaped so, colcodec_internal.h for the bytes, and
 *		colcodec_decode.c for the decoder).
 *
 * The zstd compression context is kept for the life of the process
 * because creating one costs more than encoding a small chunk.
 *
 *-------------------------------------------------------------------------
 */
#include "colcodec.h"
#include "colcodec_internal.h"

#include <stdio.h>
#include <string.h>

#include <zlib.h>
#include <zstd.h>

#define DICT_SLOTS		1024

static ZSTD_CCtx *cctx;

uint32_t
cc_crc32(const uint8_t *bytes, size_t len)
{
	uLong		crc = crc32(0L, Z_NULL, 0);

	while (len > 0)
	{
		uInt		n = len > (1u << 30) ? (1u << 30) : (uInt) len;

		crc = crc32(crc, bytes, n);
		bytes += n;
		len -= n;
	}
	return (uint32_t) crc;
}

bool
cc_buf_reserve(CcBuf *buf, size_t len, const CcAlloc *mem)
{
	if (buf->len + len > buf->cap)
	{
		size_t		cap = buf->cap ? buf->cap : 4096;
		uint8_t    *n;

		while (cap < buf->len + len)
			cap *= 2;
		n = cc_alloc(mem, cap);
		if (!n)
			return false;
		if (buf->len)
			memcpy(n, buf->data, buf->len);
		cc_release(mem, buf->data);
		buf->data = n;
		buf->cap = cap;
	}
	return true;
}

bool
cc_buf_append(CcBuf *buf, const void *bytes, size_t len, const CcAlloc *mem)
{
	if (!cc_buf_reserve(buf, len, mem))
		return false;
	if (len)
		memcpy(buf->data + buf->len, bytes, len);
	buf->len += len;
	return true;
}

static uint64_t
fnv_bytes(uint64_t h, const uint8_t *p, size_t len)
{
	while (len--)
		h = (h ^ *p++) * 0x100000001b3ULL;
	return h;
}

static uint64_t
fmix64(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ULL;
	k ^= k >> 33;
	return k;
}

/*
 * Dictionary of the n records of rec (width w): fills dict and codes and
 * returns the number of distinct records, or 0 when there are more than
 * DICT_MAX.
 */
static int
build_dict(const uint8_t *rec, uint32_t n, uint32_t w, uint8_t *dict, uint8_t *codes)
{
	int16_t		slot[DICT_SLOTS];
	int			k = 0;

	memset(slot, -1, sizeof(slot));
	for (uint32_t i = 0; i < n; i++)
	{
		const uint8_t *r = rec + (size_t) i * w;
		uint32_t	h = (uint32_t) fmix64(fnv_bytes(0xcbf29ce484222325ULL, r, w)) & (DICT_SLOTS - 1);

		for (;;)
		{
			if (slot[h] < 0)
			{
				if (k == DICT_MAX)
					return 0;
				memcpy(dict + (size_t) k * w, r, w);
				slot[h] = (int16_t) k++;
				codes[i] = (uint8_t) slot[h];
				break;
			}
			if (memcmp(dict + (size_t) slot[h] * w, r, w) == 0)
			{
				codes[i] = (uint8_t) slot[h];
				break;
			}
			h = (h + 1) & (DICT_SLOTS - 1);
		}
	}
	return k;
}

/* Size of the planes layout of n records of width w. */
static size_t
planes_size(const uint8_t *rec, uint32_t n, uint32_t w, bool *constant)
{
	size_t		size = 0;

	for (uint32_t p = 0; p < w; p++)
	{
		constant[p] = true;
		for (uint32_t i = 1; i < n; i++)
			if (rec[(size_t) i * w + p] != rec[p])
			{
				constant[p] = false;
				break;
			}
		size += constant[p] ? 2 : 1 + (size_t) n;
	}
	return size;
}

/*
 * The groups layout of records whose first byte says their shape (an
 * address's family and prefix length): IPv4 rows among IPv6 ones make 12
 * of the 16 address planes vary in the planes layout, so every row pays 17
 * bytes to decompress and scatter; grouped, an IPv4 row's unused bytes are
 * constant planes of its group and cost nothing.  The size of that layout
 * (the first bytes' plane, then per group present, in ascending first
 * byte, its rows' other planes, constant ones as two bytes), with each
 * group's rows in count[first byte], its first row in first[first byte]
 * and its constant planes in constant[first byte][plane]; 0 when the first
 * byte is the same in every row, where it is the planes layout.
 */
static size_t
groups_size(const uint8_t *rec, uint32_t n, uint32_t w, uint32_t *count, uint32_t *first,
			bool (*constant)[CC_MAX_WIDTH])
{
	size_t		size = n;
	int			groups = 0;

	memset(count, 0, 256 * sizeof(uint32_t));
	for (uint32_t i = 0; i < n; i++)
	{
		const uint8_t *r = rec + (size_t) i * w;
		uint8_t		g = r[0];

		if (count[g]++ == 0)
		{
			first[g] = i;
			memset(constant[g], true, CC_MAX_WIDTH);
			groups++;
		}
		else
		{
			const uint8_t *f = rec + (size_t) first[g] * w;

			for (uint32_t p = 1; p < w; p++)
				constant[g][p] = constant[g][p] && r[p] == f[p];
		}
	}
	if (groups < 2)
		return 0;
	for (int g = 0; g < 256; g++)
		for (uint32_t p = 1; p < w && count[g]; p++)
			size += constant[g][p] ? 2 : 1 + (size_t) count[g];
	return size;
}

/* Append plane p of the rows of rec whose first byte is g (any row when g < 0). */
static bool
put_plane(const uint8_t *rec, uint32_t n, uint32_t w, uint32_t p, int g, const CcAlloc *mem, CcBuf *body)
{
	uint8_t		plane[4096];
	uint32_t	m = 0;
	bool		ok = true;

	for (uint32_t i = 0; i < n && ok; i++)
	{
		const uint8_t *r = rec + (size_t) i * w;

		if (g >= 0 && r[0] != g)
			continue;
		plane[m++] = r[p];
		if (m == sizeof(plane))
		{
			ok = cc_buf_append(body, plane, m, mem);
			m = 0;
		}
	}
	return ok && cc_buf_append(body, plane, m, mem);
}

/*
 * Append the records of width w in the smaller layout; returns the layout
 * or -1.  grouped: try the groups layout too (fixed-width records).
 */
static int
put_records(const uint8_t *rec, uint32_t n, uint32_t w, bool grouped, const CcAlloc *mem, CcBuf *body)
{
	bool		constant[CC_MAX_WIDTH];
	size_t		psize = planes_size(rec, n, w, constant);
	uint8_t    *dict = cc_alloc(mem, (size_t) DICT_MAX * w);
	uint8_t    *codes = cc_alloc(mem, n);
	bool		(*gconst)[CC_MAX_WIDTH] = NULL;
	uint32_t	count[256],
				first[256];
	size_t		gsize = 0;
	int			k = 0;
	int			layout = CCL_PLANES;
	bool		ok = true;

	if (grouped && w > 1 && n > 0 && !constant[0])
		gconst = cc_alloc(mem, 256 * sizeof(*gconst));
	if (!dict || !codes || (grouped && w > 1 && n > 0 && !constant[0] && !gconst))
	{
		cc_release(mem, dict);
		cc_release(mem, codes);
		return -1;
	}
	if (n > 0 && psize > (size_t) n)	/* a dictionary can only beat planes above n bytes */
		k = build_dict(rec, n, w, dict, codes);
	if (gconst)
		gsize = groups_size(rec, n, w, count, first, gconst);
	if (k > 0 && 2 + (size_t) k * w + n < psize && (gsize == 0 || 2 + (size_t) k * w + n < gsize))
	{
		uint8_t		hdr[2] = {(uint8_t) (k - 1), 0};

		layout = CCL_DICT;
		ok = cc_buf_append(body, hdr, 2, mem) &&
			cc_buf_append(body, dict, (size_t) k * w, mem) &&
			cc_buf_append(body, codes, n, mem);
	}
	else if (gsize > 0 && gsize < psize)
	{
		layout = CCL_GROUPS;
		ok = put_plane(rec, n, w, 0, -1, mem, body);
		for (int g = 0; g < 256 && ok; g++)
			for (uint32_t p = 1; p < w && count[g] && ok; p++)
			{
				uint8_t		tag[2] = {0, rec[(size_t) first[g] * w + p]};

				if (gconst[g][p])
					ok = cc_buf_append(body, tag, 2, mem);
				else
				{
					tag[0] = 1;
					ok = cc_buf_append(body, tag, 1, mem) && put_plane(rec, n, w, p, g, mem, body);
				}
			}
	}
	else
	{
		for (uint32_t p = 0; p < w && ok; p++)
		{
			uint8_t		tag[2] = {constant[p] ? 0 : 1, n ? rec[p] : 0};

			if (constant[p])
				ok = cc_buf_append(body, tag, 2, mem);
			else
				ok = cc_buf_append(body, tag, 1, mem) && put_plane(rec, n, w, p, -1, mem, body);
		}
	}
	cc_release(mem, dict);
	cc_release(mem, codes);
	cc_release(mem, gconst);
	return ok ? layout : -1;
}

size_t
cc_encode(const CcColumn *col, int options, int zstd_level,
		  const CcAlloc *mem, CcBuf *out, char *err, size_t errlen)
{
	uint32_t	n = col->nrows;
	uint32_t	w;
	uint8_t		hdr[CC_HEADER_LEN] = {0};
	uint8_t    *rec = NULL;
	CcBuf		body = {0};
	uint64_t	base = 0,
				first = 0;
	uint32_t	bloblen = 0;
	uint64_t	scale = 0;
	int			flags = 0;
	int			layout = CCL_PLANES;
	uint32_t	nnull = 0;
	size_t		start = out->len;
	size_t		stored;

	if (n > CC_MAX_ROWS || (col->kind == CC_FIXED && (col->width == 0 || col->width > CC_MAX_WIDTH)) ||
		(col->kind != CC_INT && col->kind != CC_FIXED && col->kind != CC_BLOB))
	{
		snprintf(err, errlen, "cannot encode a column of kind %d, width %u, %u rows", col->kind, col->width, n);
		return 0;
	}
	w = col->kind == CC_INT ? 8 : col->kind == CC_BLOB ? 4 : col->width;
	if (col->isnull)
		for (uint32_t i = 0; i < n; i++)
			nnull += col->isnull[i];
	if (n > 0 && nnull == n)
		flags |= CCF_ALLNULL;
	else
	{
		if (nnull)
		{
			uint8_t    *bm = cc_alloc(mem, (n + 7) / 8);

			if (!bm)
				goto nomem;
			memset(bm, 0, (n + 7) / 8);
			for (uint32_t i = 0; i < n; i++)
				if (col->isnull[i])
					bm[i / 8] |= (uint8_t) (1 << (i % 8));
			flags |= CCF_NULLS;
			if (!cc_buf_append(&body, bm, (n + 7) / 8, mem))
				goto nomem;
			cc_release(mem, bm);
		}
		rec = cc_alloc(mem, (size_t) n * w);
		if (!rec)
			goto nomem;
		if (col->kind == CC_INT)
		{
			uint64_t   *u = cc_alloc(mem, (size_t) n * 8);
			uint64_t	prev = 0;
			bool		seen = false;

			if (!u)
				goto nomem;
			/* NULL rows repeat the previous value: a zero delta, the base */
			for (uint32_t i = 0; i < n; i++)
			{
				bool		null = col->isnull && col->isnull[i];
				uint64_t	v = null ? prev : (uint64_t) col->ints[i];

				if (!seen && !null)
				{
					/* rows before the first value take it too */
					for (uint32_t j = 0; j < i; j++)
						u[j] = v;
					first = v;
					seen = true;
				}
				u[i] = v;
				prev = v;
			}
			if (options & CC_OPT_DELTA)
			{
				flags |= CCF_DELTA;
				for (uint32_t i = n; i-- > 1;)
					u[i] -= u[i - 1];
				if (n)
					u[0] = 0;
			}
			/* frame of reference: subtract the minimum (signed) */
			for (uint32_t i = 0; i < n; i++)
				if (i == 0 || (int64_t) u[i] < (int64_t) base)
					base = u[i];
			/* then divide by the common divisor (stops early at 1) */
			for (uint32_t i = 0; i < n && scale != 1; i++)
			{
				uint64_t	a = u[i] - base,
							b = scale;

				while (b)
				{
					uint64_t	t = a % b;

					a = b;
					b = t;
				}
				scale = a;
			}
			if (scale > UINT32_MAX || scale == 0)
				scale = 1;
			for (uint32_t i = 0; i < n; i++)
				cc_put64(rec + (size_t) i * 8, (u[i] - base) / scale);
			cc_release(mem, u);
		}
		else if (col->kind == CC_FIXED)
		{
			for (uint32_t i = 0; i < n; i++)
			{
				if (col->isnull && col->isnull[i])
					memset(rec + (size_t) i * w, 0, w);
				else
					memcpy(rec + (size_t) i * w, col->data + (size_t) i * w, w);
			}
		}
		else
		{
			for (uint32_t i = 0; i < n; i++)
			{
				uint32_t	len = (col->isnull && col->isnull[i]) ? 0 : col->offsets[i + 1] - col->offsets[i];

				if (col->offsets[i + 1] < col->offsets[i] || (uint64_t) bloblen + len > (1u << 30))
				{
					snprintf(err, errlen, "byte strings of the column too long or badly ordered");
					cc_release(mem, rec);
					return 0;
				}
				cc_put32(rec + (size_t) i * 4, len);
				bloblen += len;
			}
		}
		layout = put_records(rec, n, w, col->kind == CC_FIXED, mem, &body);
		if (layout < 0)
			goto nomem;
		if (col->kind == CC_BLOB)
			for (uint32_t i = 0; i < n; i++)
				if (!(col->isnull && col->isnull[i]) &&
					!cc_buf_append(&body, col->data + col->offsets[i], col->offsets[i + 1] - col->offsets[i], mem))
					goto nomem;
		cc_release(mem, rec);
		rec = NULL;
	}

	/* header, then the body compressed when that makes it smaller */
	if (!cc_buf_append(out, hdr, CC_HEADER_LEN, mem))
		goto nomem;
	stored = body.len;
	if (body.len > 64)
	{
		size_t		bound = ZSTD_compressBound(body.len);
		size_t		got;

		if (!cctx && !(cctx = ZSTD_createCCtx()))
			goto nomem;
		if (!cc_buf_reserve(out, bound, mem))
			goto nomem;
		got = ZSTD_compressCCtx(cctx, out->data + out->len, out->cap - out->len,
								body.data, body.len, zstd_level);
		if (ZSTD_isError(got))
		{
			snprintf(err, errlen, "zstd: %s", ZSTD_getErrorName(got));
			cc_release(mem, body.data);
			return 0;
		}
		if (got < body.len)
		{
			flags |= CCF_ZSTD;
			stored = got;
			out->len += got;
		}
	}
	if (!(flags & CCF_ZSTD) && !cc_buf_append(out, body.data, body.len, mem))
		goto nomem;
	cc_release(mem, body.data);

	memcpy(hdr, CC_MAGIC, 4);
	hdr[8] = (uint8_t) col->kind;
	hdr[9] = (uint8_t) layout;
	hdr[10] = (uint8_t) flags;
	hdr[11] = col->tag;
	cc_put32(hdr + 12, n);
	cc_put32(hdr + 16, w);
	cc_put32(hdr + 20, (uint32_t) body.len);
	cc_put32(hdr + 24, (uint32_t) stored);
	cc_put64(hdr + 28, base);
	cc_put64(hdr + 36, first);
	cc_put32(hdr + 44, col->kind == CC_INT ? (uint32_t) scale : bloblen);
	memcpy(out->data + start, hdr, CC_HEADER_LEN);
	cc_put32(out->data + start + 4, cc_crc32(out->data + start + 8, out->len - start - 8));
	return out->len - start;

nomem:
	snprintf(err, errlen, "out of memory");
	cc_release(mem, rec);
	return 0;
}

uint64_t
cc_hash(uint8_t tag, const uint8_t *key, size_t len)
{
	return fmix64(fnv_bytes(fnv_bytes(0xcbf29ce484222325ULL, &tag, 1), key, len));
}

void
cc_bloom_add(uint8_t *bits, uint32_t nbits, int probes, uint64_t hash)
{
	uint64_t	h2 = ((hash >> 32) | (hash << 32)) | 1;

	for (int i = 0; i < probes; i++)
	{
		uint32_t	b = (uint32_t) ((hash + (uint64_t) i * h2) % nbits);

		bits[b / 8] |= (uint8_t) (1 << (b % 8));
	}
}

bool
cc_bloom_maybe(const uint8_t *bits, uint32_t nbits, int probes, uint64_t hash)
{
	uint64_t	h2 = ((hash >> 32) | (hash << 32)) | 1;

	if (nbits == 0)
		return false;
	for (int i = 0; i < probes; i++)
	{
		uint32_t	b = (uint32_t) ((hash + (uint64_t) i * h2) % nbits);

		if (!(bits[b / 8] & (1 << (b % 8))))
			return false;
	}
	return true;
}
