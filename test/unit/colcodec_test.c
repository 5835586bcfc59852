/*
 * colcodec_test.c
 *		Unit test of the packed-partition column codec (extension/colcodec.c,
 *		colcodec_decode.c, colcodec_frames.c).
 *
 * 1. Round trips of every kind and layout: sorted timestamps delta-coded,
 *    counters, low-cardinality ports (dictionary), extreme values
 *    (INT64_MIN/MAX, wrapping deltas), NULLs in some rows, in every row, in
 *    the first rows; IPv4/IPv6 records (IPv4 among IPv6 in the groups
 *    layout); byte strings; 0 and 1 rows.
 * 2. The encodings do what they are for: a sorted timestamp column costs
 *    under 2 bytes a row, a port column with few values under 1.2 bytes.
 * 3. Damage: every single flipped bit of a chunk is refused with a message
 *    (checksum), and truncated or extended chunks too.
 * 4. Forged chunks with a valid checksum but lying lengths are refused,
 *    never read out of bounds (run under SANITIZE=1 to see).
 * 5. The Bloom filter: no false negatives, false positives near the design
 *    rate.
 * 6. Decoding a selection of rows (cc_decode_rows, what a scan does after
 *    its row pre-filter) gives exactly those rows of the full decode, for
 *    every case of 1.: a sparse, a dense, an empty and a repeating
 *    selection; a row beyond the chunk is refused.  Every case of 1. and 6.
 *    runs again with the column in frames of 1,000 rows.
 * 7. Framed chunks: a selection decodes from the frame table and its frames
 *    alone (the rest of the buffer garbage), damage in another frame does
 *    not stop it, damage in the table does; forged tables (frames of two
 *    kinds, counts that do not add up, a frame inside a frame, a frame of
 *    an unknown kind under an empty selection) are refused;
 *    few rows or an all-NULL column are not framed.
 */
#include <stdlib.h>
#include <string.h>

#include "colcodec.h"
#include "unit.h"

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;

static uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

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
static bool
same_row(const CcColumn *a, uint32_t i, const CcColumn *b, uint32_t j)
{
	bool		n1 = a->isnull && a->isnull[i];
	bool		n2 = b->isnull && b->isnull[j];

	if (n1 != n2)
		return false;
	if (n1)
		return true;
	if (a->kind == CC_INT)
		return a->ints[i] == b->ints[j];
	if (a->kind == CC_FIXED)
		return memcmp(a->data + (size_t) i * a->width, b->data + (size_t) j * a->width, a->width) == 0;
	return a->offsets[i + 1] - a->offsets[i] == b->offsets[j + 1] - b->offsets[j] &&
		memcmp(a->data + a->offsets[i], b->data + b->offsets[j], a->offsets[i + 1] - a->offsets[i]) == 0;
}

/* Decode the rows of sel from chunk and compare them with those rows of in. */
static void
check_selection(const char *what, const CcColumn *in, const CcBuf *chunk, const uint32_t *sel, uint32_t nsel)
{
	CcColumn	dec;
	char		err[200] = "";

	CHECK(cc_decode_rows(chunk->data, chunk->len, &mem, sel, nsel, &dec, err, sizeof(err)),
		  "%s: decoding %u selected rows failed: %s", what, nsel, err);
	if (err[0])
		return;
	CHECK(dec.nrows == nsel && dec.chunk_rows == in->nrows, "%s: selection of %u rows: nrows %u, chunk_rows %u",
		  what, nsel, dec.nrows, dec.chunk_rows);
	for (uint32_t k = 0; k < nsel && dec.nrows == nsel; k++)
		if (!same_row(in, sel[k], &dec, k))
		{
			CHECK(false, "%s: selected row %u (row %u) differs", what, k, sel[k]);
			break;
		}
	free_col(&dec);
}

/*
 * Encode (plain, or in frames of frame_rows rows), decode (whole and
 * selections) and compare; returns the chunk length.
 */
static size_t
check_chunk(const char *what, const CcColumn *in, int options, uint32_t frame_rows, CcBuf *keep)
{
	CcBuf		out = {0};
	CcColumn	dec;
	char		err[200] = "";
	size_t		len = frame_rows ? cc_encode_frames(in, options, 3, frame_rows, &mem, &out, err, sizeof(err)) :
		cc_encode(in, options, 3, &mem, &out, err, sizeof(err));
	uint32_t   *sel = malloc((in->nrows + 2) * sizeof(uint32_t));
	uint32_t	nsel = 0;

	CHECK(len > 0 && len == out.len, "%s: encode failed: %s", what, err);
	if (len == 0)
		return 0;
	CHECK(cc_decode(out.data, out.len, &mem, &dec, err, sizeof(err)), "%s: decode failed: %s", what, err);
	CHECK(dec.kind == in->kind && dec.nrows == in->nrows, "%s: kind/rows", what);
	for (uint32_t i = 0; i < in->nrows; i++)
		if (!same_row(in, i, &dec, i))
		{
			CHECK(false, "%s: row %u differs", what, i);
			break;
		}
	free_col(&dec);
	/* no selection with a row count, as a scan passes it when every row passed */
	CHECK(cc_decode_rows(out.data, out.len, &mem, NULL, in->nrows, &dec, err, sizeof(err)) &&
		  dec.nrows == in->nrows, "%s: decode without a selection failed: %s", what, err);
	free_col(&dec);

	/* sparse (about 1 row in 50, the last row always), dense, none, a repeat */
	for (uint32_t i = 0; i < in->nrows; i++)
		if (rng() % 50 == 0 || i + 1 == in->nrows)
			sel[nsel++] = i;
	check_selection(what, in, &out, sel, nsel);
	nsel = 0;
	for (uint32_t i = 0; i < in->nrows; i++)
		if (rng() % 4)
			sel[nsel++] = i;
	check_selection(what, in, &out, sel, nsel);
	check_selection(what, in, &out, sel, 0);
	if (in->nrows > 0)
	{
		sel[0] = sel[1] = in->nrows - 1;
		check_selection(what, in, &out, sel, 2);
		sel[0] = in->nrows;
		CHECK(!cc_decode_rows(out.data, out.len, &mem, sel, 1, &dec, err, sizeof(err)),
			  "%s: a row beyond the chunk selected", what);
	}
	free(sel);
	if (keep)
		*keep = out;
	else
		free(out.data);
	return len;
}

/* check_chunk plain, then in frames of 1,000 rows; returns the plain chunk's length. */
static size_t
roundtrip(const char *what, const CcColumn *in, int options, CcBuf *keep)
{
	char		framed[100];
	size_t		len = check_chunk(what, in, options, 0, keep);

	snprintf(framed, sizeof(framed), "%s, framed", what);
	check_chunk(framed, in, options, 1000, NULL);
	return len;
}

static void
test_ints(void)
{
	enum {N = 8192};
	int64_t    *v = malloc(N * 8);
	bool	   *nulls = calloc(N, 1);
	CcColumn	c = {CC_INT, N, 0, NULL, v, NULL, NULL, 0, 0};
	size_t		len;

	/* sorted timestamps (microseconds), a few per millisecond */
	v[0] = 1700000000000000LL;
	for (int i = 1; i < N; i++)
		v[i] = v[i - 1] + (int64_t) (rng() % 3000);
	len = roundtrip("sorted timestamps", &c, CC_OPT_DELTA, NULL);
	CHECK(len < 2 * N, "sorted timestamps take %zu bytes for %d rows", len, N);

	/* ports from a small set: dictionary */
	for (int i = 0; i < N; i++)
		v[i] = (int64_t[]) {80, 443, 53, 25, 587, 22, 8080, 123}[rng() % 8];
	len = roundtrip("ports", &c, 0, NULL);
	CHECK(len < 1.2 * N, "ports take %zu bytes for %d rows", len, N);

	/* random counters, extremes, wrapping deltas */
	for (int i = 0; i < N; i++)
		v[i] = (int64_t) rng();
	v[0] = INT64_MIN;
	v[1] = INT64_MAX;
	v[2] = INT64_MIN;
	roundtrip("random", &c, 0, NULL);
	roundtrip("random delta", &c, CC_OPT_DELTA, NULL);

	/* NULLs: some rows, the first rows, every row */
	for (int i = 0; i < N; i++)
		nulls[i] = i < 5 || rng() % 7 == 0;
	c.isnull = nulls;
	roundtrip("some null", &c, 0, NULL);
	roundtrip("some null delta", &c, CC_OPT_DELTA, NULL);
	memset(nulls, 1, N);
	len = roundtrip("all null", &c, 0, NULL);
	CHECK(len == CC_HEADER_LEN, "all-null chunk is %zu bytes", len);

	/* tiny */
	c.isnull = NULL;
	c.nrows = 1;
	roundtrip("one row", &c, CC_OPT_DELTA, NULL);
	c.nrows = 0;
	roundtrip("no row", &c, 0, NULL);
	free(v);
	free(nulls);
}

static void
test_fixed_blob(void)
{
	enum {N = 5000};
	uint8_t    *rec = calloc(N, 17);
	bool	   *nulls = calloc(N, 1);
	uint32_t   *off = malloc((N + 1) * 4);
	uint8_t    *bytes = malloc(N * 12);
	CcColumn	c = {CC_FIXED, N, 17, NULL, NULL, rec, NULL, 0, 0};
	size_t		len;

	/* IPv4 from a /16 with a few hundred hosts: 17-byte records */
	for (int i = 0; i < N; i++)
	{
		uint8_t    *r = rec + i * 17;

		r[0] = 32;
		r[1] = 10;
		r[2] = 200;
		r[3] = (uint8_t) (rng() % 3);
		r[4] = (uint8_t) rng();
	}
	len = roundtrip("ipv4", &c, 0, NULL);
	CHECK(len < 3 * N, "ipv4 records take %zu bytes for %d rows", len, N);
	/* mixed IPv6 with NULLs */
	for (int i = 0; i < N; i += 3)
	{
		rec[i * 17] = 64 + 128;
		for (int b = 1; b < 17; b++)
			rec[i * 17 + b] = (uint8_t) rng();
		nulls[i] = rng() % 5 == 0;
	}
	c.isnull = nulls;
	roundtrip("ipv6 mixed", &c, 0, NULL);

	/*
	 * One row in seven IPv6 (flowgen's share), the rest IPv4: the groups
	 * layout, whose body keeps 4 bytes of an IPv4 row and 16 of an IPv6
	 * one beside the first byte (planes would keep 17 of every row).
	 */
	{
		CcBuf		chunk = {0};
		uint32_t	v6 = 0;

		c.isnull = NULL;
		for (int i = 0; i < N; i++)
		{
			uint8_t    *r = rec + i * 17;

			memset(r, 0, 17);
			r[0] = 32;
			r[1] = 10;
			r[2] = (uint8_t) (rng() % 4);
			r[3] = (uint8_t) rng();
			r[4] = (uint8_t) rng();
			if (rng() % 7 == 0)
			{
				r[0] = 64 + 128;
				r[1] = 0x20;
				r[2] = 0x01;
				for (int b = 3; b < 17; b++)
					r[b] = (uint8_t) rng();
				v6++;
			}
		}
		roundtrip("ipv4 and ipv6", &c, 0, &chunk);
		CHECK(chunk.len > CC_HEADER_LEN && chunk.data[9] == 2,
			  "ipv4 and ipv6: layout %d, not the groups layout", chunk.len > 9 ? chunk.data[9] : -1);
		CHECK(cc_get32(chunk.data + 20) <= N + 64 + 3 * (N - v6) + 14 * v6,
			  "ipv4 and ipv6: body of %u bytes for %u IPv4 and %u IPv6 rows", cc_get32(chunk.data + 20),
			  N - v6, v6);
		free(chunk.data);
	}

	/* byte strings of 0..12 bytes, some NULL */
	off[0] = 0;
	for (int i = 0; i < N; i++)
	{
		int			l = (int) (rng() % 13);

		for (int b = 0; b < l; b++)
			bytes[off[i] + b] = (uint8_t) rng();
		off[i + 1] = off[i] + l;
	}
	c = (CcColumn) {CC_BLOB, N, 0, nulls, NULL, bytes, off, 0, 0};
	roundtrip("blob", &c, 0, NULL);
	c.isnull = NULL;
	roundtrip("blob no null", &c, 0, NULL);
	free(rec);
	free(nulls);
	free(off);
	free(bytes);
}

static void
test_damage(void)
{
	enum {N = 700};
	int64_t		v[N];
	CcColumn	c = {CC_INT, N, 0, NULL, v, NULL, NULL, 0, 0};
	CcBuf		chunk;
	CcColumn	dec;
	char		err[200];
	int			refused = 0,
				tried = 0;

	for (int i = 0; i < N; i++)
		v[i] = (int64_t) (rng() % 100000);
	if (!roundtrip("damage base", &c, 0, &chunk))
		return;
	for (size_t byte = 0; byte < chunk.len; byte++)
		for (int bit = 0; bit < 8; bit++)
		{
			chunk.data[byte] ^= (uint8_t) (1 << bit);
			tried++;
			if (!cc_decode(chunk.data, chunk.len, &mem, &dec, err, sizeof(err)))
				refused++;
			else
				free_col(&dec);
			chunk.data[byte] ^= (uint8_t) (1 << bit);
		}
	CHECK(refused == tried, "%d of %d single-bit flips refused", refused, tried);
	CHECK(!cc_decode(chunk.data, chunk.len - 1, &mem, &dec, err, sizeof(err)), "truncated chunk accepted");
	CHECK(!cc_decode(chunk.data, 10, &mem, &dec, err, sizeof(err)), "10-byte chunk accepted");

	/* forged: lengths that lie, with the checksum made valid again */
	for (int t = 0; t < 2000; t++)
	{
		uint8_t    *f = malloc(chunk.len);
		int			at = 8 + (int) (rng() % (CC_HEADER_LEN - 8));

		memcpy(f, chunk.data, chunk.len);
		f[at] = (uint8_t) rng();
		if (rng() % 2)
			f[CC_HEADER_LEN + rng() % (chunk.len - CC_HEADER_LEN)] ^= (uint8_t) rng();
		cc_put32(f + 4, cc_crc32(f + 8, chunk.len - 8));
		if (cc_decode(f, chunk.len, &mem, &dec, err, sizeof(err)))
			free_col(&dec);
		free(f);
	}
	free(chunk.data);
}

/* A filter of KEYS keys at bits_per_key and probes: none missing, fp below max_fp_pct. */
static void
check_bloom(int bits_per_key, int probes, double max_fp_pct)
{
	enum {KEYS = 4000};
	uint32_t	nbits = KEYS * bits_per_key;
	uint8_t    *bits = calloc(nbits / 8, 1);
	int			fp = 0,
				missing = 0;

	for (uint32_t k = 0; k < KEYS; k++)
		cc_bloom_add(bits, nbits, probes, cc_hash('s', (uint8_t *) &k, 4));
	for (uint32_t k = 0; k < KEYS; k++)
		missing += !cc_bloom_maybe(bits, nbits, probes, cc_hash('s', (uint8_t *) &k, 4));
	for (uint32_t k = KEYS; k < 101 * KEYS; k++)
		fp += cc_bloom_maybe(bits, nbits, probes, cc_hash('s', (uint8_t *) &k, 4));
	CHECK(missing == 0, "%d keys missing from the filter", missing);
	CHECK(fp * 100.0 / (100 * KEYS) < max_fp_pct, "%d bits a key, %d probes: false positive rate %.3f %%",
		  bits_per_key, probes, fp * 100.0 / (100 * KEYS));
	/* the tag separates columns */
	fp = 0;
	for (uint32_t k = 0; k < KEYS; k++)
		fp += cc_bloom_maybe(bits, nbits, probes, cc_hash('d', (uint8_t *) &k, 4));
	CHECK(fp * 100.0 / KEYS < max_fp_pct * 2 + 0.1, "other tag: %d of %d present", fp, KEYS);
	free(bits);
}

static void
test_bloom(void)
{
	check_bloom(8, 4, 3.0);		/* summaries of 0.5 and before: ~2.4 % */
	check_bloom(CC_BLOOM_BITS_PER_KEY, CC_BLOOM_PROBES, 0.15);	/* ~0.06 % */
}

/* A framed chunk made by hand from chunks: its table, then the frames. */
static void
frame_by_hand(CcBuf *out, uint32_t nrows, uint32_t frame_rows, CcBuf *frames, uint32_t nframes)
{
	uint8_t		head[20 + 4 * 8];

	memcpy(head, "NFF1", 4);
	cc_put32(head + 8, nrows);
	cc_put32(head + 12, frame_rows);
	cc_put32(head + 16, nframes);
	for (uint32_t k = 0; k < nframes; k++)
		cc_put32(head + 20 + 4 * k, (uint32_t) frames[k].len);
	cc_put32(head + 4, cc_crc32(head + 8, 12 + 4 * nframes));
	out->len = 0;
	cc_buf_append(out, head, 20 + 4 * nframes, &mem);
	for (uint32_t k = 0; k < nframes; k++)
		cc_buf_append(out, frames[k].data, frames[k].len, &mem);
}

/*
 * 7. Framed chunks: what a scan relies on when it fetches only the frame
 * table and the frames that hold its rows (pack_fetch.c), and what the
 * decoder refuses.
 */
static void
test_frames(void)
{
	enum {N = 10000, F = 1000};
	int64_t    *v = malloc(N * 8);
	bool	   *nulls = calloc(N, 1);
	CcColumn	c = {CC_INT, N, 0, NULL, v, NULL, NULL, 0, 0};
	CcBuf		chunk = {0},
				part[2] = {{0}},
				forged = {0};
	CcColumn	dec;
	char		err[200] = "";
	uint32_t	sel[101];
	size_t		from,
				to,
				head = cc_frames_head_len(N / F);
	uint8_t    *holes;

	for (int i = 0; i < N; i++)
		v[i] = 1000 + (int64_t) (rng() % 5000);
	CHECK(cc_encode_frames(&c, 0, 3, F, &mem, &chunk, err, sizeof(err)) > 0 &&
		  cc_is_framed(chunk.data, chunk.len), "frames: encode failed: %s", err);
	for (int i = 0; i <= 100; i++)
		sel[i] = 2500 + i;		/* frame 2 only */

	/* the span is frame 2's bytes; nothing else is needed to decode the rows */
	CHECK(cc_frames_span(chunk.data, 64, chunk.len, sel, 101, &from, &to) && from >= head && to <= chunk.len,
		  "frames: no span for a selection in one frame");
	CHECK(!cc_frames_span(chunk.data, head - 1, chunk.len, sel, 101, &from, &to),
		  "frames: a span from a table cut short");
	holes = malloc(chunk.len);
	memset(holes, 0xA5, chunk.len);
	memcpy(holes, chunk.data, head);
	memcpy(holes + from, chunk.data + from, to - from);
	CHECK(cc_decode_rows(holes, chunk.len, &mem, sel, 101, &dec, err, sizeof(err)),
		  "frames: the selection from the table and its frame alone failed: %s", err);
	for (int i = 0; i <= 100 && dec.nrows == 101; i++)
		if (dec.ints[i] != v[2500 + i])
		{
			CHECK(false, "frames: selected row %d differs", i);
			break;
		}
	free_col(&dec);
	CHECK(!cc_decode(holes, chunk.len, &mem, &dec, err, sizeof(err)), "frames: a whole decode of the holed chunk");

	/* damage in a frame the selection does not read, then in the table */
	memcpy(holes, chunk.data, chunk.len);
	holes[chunk.len - 3] ^= 0x10;
	CHECK(cc_decode_rows(holes, chunk.len, &mem, sel, 101, &dec, err, sizeof(err)),
		  "frames: damage in another frame failed the selection: %s", err);
	free_col(&dec);
	CHECK(!cc_decode(holes, chunk.len, &mem, &dec, err, sizeof(err)) && strstr(err, "checksum"),
		  "frames: damage in the last frame not found by a whole decode (%s)", err);
	memcpy(holes, chunk.data, chunk.len);
	holes[13] ^= 0x01;
	CHECK(!cc_decode_rows(holes, chunk.len, &mem, sel, 101, &dec, err, sizeof(err)) &&
		  strstr(err, "frame table"), "frames: damage in the table not found (%s)", err);

	/* forged tables with a valid checksum */
	c.nrows = F;
	cc_encode(&c, 0, 3, &mem, &part[0], err, sizeof(err));
	{
		uint8_t		rec[F * 4] = {0};
		CcColumn	fx = {CC_FIXED, F, 4, NULL, NULL, rec, NULL, 0, 0};

		cc_encode(&fx, 0, 3, &mem, &part[1], err, sizeof(err));
	}
	frame_by_hand(&forged, 2 * F, F, part, 2);
	CHECK(!cc_decode(forged.data, forged.len, &mem, &dec, err, sizeof(err)) && strstr(err, "match"),
		  "frames: frames of two kinds accepted (%s)", err);
	part[1].len = 0;
	cc_buf_append(&part[1], part[0].data, part[0].len, &mem);
	frame_by_hand(&forged, 2 * F + 1, F, part, 2);
	CHECK(!cc_decode(forged.data, forged.len, &mem, &dec, err, sizeof(err)),
		  "frames: a table of 2 frames for %d rows accepted", 2 * F + 1);
	frame_by_hand(&forged, 2 * F, F, part, 2);
	CHECK(cc_decode(forged.data, forged.len, &mem, &dec, err, sizeof(err)) && dec.nrows == 2 * F,
		  "frames: two good frames refused: %s", err);
	free_col(&dec);
	forged.len--;
	CHECK(!cc_decode(forged.data, forged.len, &mem, &dec, err, sizeof(err)),
		  "frames: frames not filling the chunk accepted");
	part[1].len = 0;
	cc_buf_append(&part[1], chunk.data, chunk.len, &mem);
	frame_by_hand(&forged, F + N, F, part, 2);
	CHECK(!cc_decode(forged.data, forged.len, &mem, &dec, err, sizeof(err)),
		  "frames: a framed chunk inside a frame accepted");
	/* an empty selection reads only the first frame's header: its kind is checked too */
	part[1].len = 0;
	cc_buf_append(&part[1], part[0].data, part[0].len, &mem);
	part[0].data[8] = 9;
	cc_put32(part[0].data + 4, cc_crc32(part[0].data + 8, part[0].len - 8));
	frame_by_hand(&forged, 2 * F, F, part, 2);
	CHECK(!cc_decode_rows(forged.data, forged.len, &mem, sel, 0, &dec, err, sizeof(err)),
		  "frames: a frame of kind 9 accepted by an empty selection");

	/* no frames where they would not help: few rows, or every row NULL */
	c.nrows = F;
	chunk.len = 0;
	cc_encode_frames(&c, 0, 3, F, &mem, &chunk, err, sizeof(err));
	CHECK(!cc_is_framed(chunk.data, chunk.len), "frames: a column of %d rows framed", F);
	c.nrows = N;
	memset(nulls, 1, N);
	c.isnull = nulls;
	chunk.len = 0;
	CHECK(cc_encode_frames(&c, 0, 3, F, &mem, &chunk, err, sizeof(err)) == CC_HEADER_LEN,
		  "frames: an all-NULL column framed");

	free(holes);
	free(chunk.data);
	free(part[0].data);
	free(part[1].data);
	free(forged.data);
	free(v);
	free(nulls);
}

int
main(void)
{
	test_ints();
	test_fixed_blob();
	test_damage();
	test_bloom();
	test_frames();
	return unit_report("colcodec_test");
}
