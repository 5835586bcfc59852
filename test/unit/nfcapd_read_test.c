/*
 * nfcapd_read_test.c
 *		The nfcapd file reader (cli/nfcapd_*.c) on known files.
 *
 * test/data/nfcapd/v17-plain.nf is the file nfcapd 1.7.1 wrote in the
 * reference's worked example (12 NetFlow v9 flows, uncompressed), whose
 * every byte the reference decodes; v16-synthetic.nf is its first flow as
 * an nfdump 1.6 (layout 1) file, which nfdump 1.7.1 reads as that flow.
 *
 *	1. Every field of the first flow and the IPv6 flow, the exporter, the
 *	   ident and stat record, against the reference's decoding.
 *	2. The 1.6 file gives the same flow (and its extension-27 receive time).
 *	3. The same blocks compressed with each codec library (LZO1X-1, bzip2,
 *	   LZ4, ZSTD; layout 1's flag bits and layout 2's numbers) read as the
 *	   same flows.
 *	4. Every truncation of the file: never a crash, never a flow that was not
 *	   in the file, and an error for every cut but the full length.
 *	5. Damage: a record of size 0, a block that does not decompress, an
 *	   unknown extension map, foreign and byte-swapped headers, a file never
 *	   closed -- each reported as the reader's protocol says.
 */
#include <stdlib.h>
#include <string.h>

#include <bzlib.h>
#include <lz4.h>
#include <lzo/lzo1x.h>
#include <zstd.h>

#include "nfcapd_read.h"
#include "unit.h"

static NfcapdReader r;
static char first_error[NFCAPD_ERROR_LEN];

static uint8_t *
load(const char *name, size_t *len)
{
	const char *dirs[] = {"test/data/nfcapd/", "../data/nfcapd/"};

	for (int i = 0; i < 2; i++)
	{
		char		path[256];
		FILE	   *f;
		uint8_t    *buf;

		snprintf(path, sizeof(path), "%s%s", dirs[i], name);
		if ((f = fopen(path, "rb")) == NULL)
			continue;
		fseek(f, 0, SEEK_END);
		*len = (size_t) ftell(f);
		rewind(f);
		buf = malloc(*len);
		if (fread(buf, 1, *len, f) != *len)
			abort();
		fclose(f);
		return buf;
	}
	fprintf(stderr, "cannot find %s\n", name);
	exit(1);
}

/* Read a whole file: its flows into out (up to max), the block errors counted. */
static int
read_all(const uint8_t *data, size_t len, FlowRec *out, int max, int *errors)
{
	FlowRec		f;
	NfcapdStatus st;
	int			n = 0;

	*errors = 0;
	first_error[0] = '\0';
	if (!nfcapd_open(&r, data, len, "test"))
		return -1;
	while ((st = nfcapd_next(&r, &f)) != NFCAPD_END)
	{
		if (st == NFCAPD_BLOCK_ERROR)
		{
			if ((*errors)++ == 0)
				snprintf(first_error, sizeof(first_error), "%s", r.error);
		}
		else if (n < max)
			out[n++] = f;
		else
			n++;
	}
	return n;
}

static bool
same_flow(const FlowRec *a, const FlowRec *b)
{
	return memcmp(a, b, sizeof(FlowRec)) == 0;
}

static void
check_reference(const uint8_t *data, size_t len, FlowRec *flows)
{
	int			errors;
	int			n = read_all(data, len, flows, 16, &errors);
	const FlowRec *f = &flows[0],
			   *v6 = &flows[10];
	static const uint8_t src6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0x10, 0, 0x10, 0, 0, 0, 0, 0, 0x03, 0x07, 0x57};
	static const uint8_t dst6[16] = {0x26, 0, 0x1f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x05};

	CHECK(n == 12 && errors == 0, "12 flows, no error: %d, %d (%s)", n, errors, r.error);
	CHECK(r.layout == 2 && r.compression == NFCAPD_NONE && strcmp(r.ident, "demo") == 0,
		  "header: layout %d compression %d ident %s", r.layout, r.compression, r.ident);
	CHECK(r.has_stat && r.stat.flows == 12 && r.stat.bytes == 32563 && r.stat.packets == 78 &&
		  r.stat.first_ms == 1710147600499 && r.stat.last_ms == 1710147612984,
		  "stat record %llu/%llu/%llu", (unsigned long long) r.stat.flows,
		  (unsigned long long) r.stat.bytes, (unsigned long long) r.stat.packets);
	CHECK(r.n_exporters == 1 && r.exporters[0].version == 9 && r.exporters[0].id == 1 &&
		  r.exporters[0].packets == 2 && r.exporters[0].flows == 12,
		  "exporter record and its statistics");
	CHECK(f->first_ms == 1710147600499 && f->last_ms == 1710147600658 &&
		  f->received_ms == 1796316654267, "times");
	CHECK(f->packets == 4 && f->bytes == 436 && f->src_port == 41006 && f->dst_port == 443 &&
		  f->proto == 6 && f->tcp_flags == 0x1b && f->src_tos == 0, "counters and ports");
	CHECK(f->src_addr.family == 4 && memcmp(f->src_addr.addr, "\x0a\x0a\x1f\xad", 4) == 0 &&
		  memcmp(f->dst_addr.addr, "\x97\x65\x00\x23", 4) == 0, "IPv4 addresses");
	CHECK(f->in_if == 10 && f->out_if == 2 && f->src_mask == 16 && f->dst_mask == 16 &&
		  (f->present & (FR_IN_IF | FR_OUT_IF | FR_SRC_MASK | FR_DST_MASK)) ==
		  (FR_IN_IF | FR_OUT_IF | FR_SRC_MASK | FR_DST_MASK), "interfaces and masks");
	CHECK(!(f->present & (FR_DST_TOS | FR_DIRECTION | FR_FWD_STATUS)),
		  "zero dst tos, direction, forwarding status are NULL");
	CHECK(f->src_as == 64500 && f->dst_as == 54113 && (f->present & FR_SRC_AS), "AS numbers");
	CHECK(f->next_hop.family == 4 && memcmp(f->next_hop.addr, "\xc0\x00\x02\x05", 4) == 0, "next hop");
	CHECK(f->exporter.family == 4 && memcmp(f->exporter.addr, "\x7f\x00\x00\x01", 4) == 0 &&
		  f->source_id == 1 && f->export_version == 9, "exporter 127.0.0.1, v9, source id 1");
	CHECK(f->engine_type == 0 && f->engine_id == 1 && (f->present & FR_ENGINE), "engine");
	CHECK(f->flows == 1 && f->bgp_next_hop.family == 0 && f->n_mpls == 0, "defaults");
	CHECK(v6->src_addr.family == 6 && memcmp(v6->src_addr.addr, src6, 16) == 0 &&
		  memcmp(v6->dst_addr.addr, dst6, 16) == 0 && v6->proto == 17 && v6->src_port == 51262 &&
		  v6->dst_port == 3478, "IPv6 flow");
	CHECK(v6->next_hop.family == 6 && v6->next_hop.addr[0] == 0x20 && v6->next_hop.addr[15] == 5,
		  "IPv6 next hop 2001:db8:ffff::5");
}

static void
check_v16(const FlowRec *first)
{
	size_t		len;
	uint8_t    *data = load("v16-synthetic.nf", &len);
	FlowRec		f[2],
				want = *first;
	int			errors,
				n = read_all(data, len, f, 2, &errors);

	CHECK(n == 1 && errors == 0, "1.6 file: one flow (%d, %d: %s)", n, errors, r.error);
	CHECK(r.layout == 1 && strcmp(r.ident, "legacy") == 0 && r.stat.flows == 1 &&
		  r.stat.first_ms == 1710147600499, "1.6 header and stat record");
	/* what 1.6 does not carry: the engine (no extension 25); its receive time is ext 27 */
	want.received_ms = 1710147612345;
	want.engine_id = 0;
	want.present &= ~FR_ENGINE;
	CHECK(n == 1 && same_flow(&f[0], &want), "1.6 flow equals the 1.7 flow");
	free(data);
}

/* Compress one payload with a codec, the way nfdump writes blocks. */
static size_t
compress_with(int method, const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
	static uint8_t wrk[LZO1X_1_MEM_COMPRESS];
	lzo_uint	lzo_len = cap;
	unsigned int bz_len = (unsigned int) cap;

	switch (method)
	{
		case NFCAPD_LZO:
			lzo_init();
			return lzo1x_1_compress(in, len, out, &lzo_len, wrk) == LZO_E_OK ? lzo_len : 0;
		case NFCAPD_BZ2:
			return BZ2_bzBuffToBuffCompress((char *) out, &bz_len, (char *) in, len, 9, 0, 0) ==
				BZ_OK ? bz_len : 0;
		case NFCAPD_LZ4:
			return (size_t) LZ4_compress_default((const char *) in, (char *) out, (int) len, (int) cap);
		case NFCAPD_ZSTD:
			return ZSTD_compress(out, cap, in, len, 3);
	}
	return 0;
}

/*
 * Rewrite a file with its blocks compressed: from `first_block` on, every
 * block (layout 2: the appendix too, its offset moved).
 */
static uint8_t *
recompress(const uint8_t *in, size_t len, int method, size_t *out_len)
{
	uint8_t    *out = malloc(len * 2 + 4096);
	int			layout = in[2];
	size_t		pos = layout == 1 ? 276 : 40,
				o = pos;
	uint32_t	blocks = layout == 1 ? in[8] : in[36];
	uint64_t	appendix = 0;

	memcpy(out, in, pos);
	for (uint32_t b = 0; pos + 12 <= len; b++)
	{
		uint32_t	size = in[pos + 4] | in[pos + 5] << 8 | in[pos + 6] << 16 | (uint32_t) in[pos + 7] << 24;
		size_t		n;

		if (layout == 2 && b == blocks)
			appendix = o;
		n = compress_with(method, in + pos + 12, size, out + o + 12, len * 2 - o);
		memcpy(out + o, in + pos, 12);
		out[o + 4] = (uint8_t) n;
		out[o + 5] = (uint8_t) (n >> 8);
		out[o + 6] = (uint8_t) (n >> 16);
		out[o + 7] = (uint8_t) (n >> 24);
		o += 12 + n;
		pos += 12 + size;
	}
	if (layout == 1)
		out[4] = method == NFCAPD_LZO ? 0x01 : method == NFCAPD_BZ2 ? 0x08 : 0x10;
	else
	{
		out[16] = (uint8_t) method;
		for (int i = 0; i < 8; i++)
			out[24 + i] = (uint8_t) (appendix >> (8 * i));
	}
	*out_len = o;
	return out;
}

static void
check_codecs(const uint8_t *plain, size_t len, const FlowRec *want)
{
	size_t		v16_len;
	uint8_t    *v16 = load("v16-synthetic.nf", &v16_len);
	FlowRec		v16_want;
	int			errors;

	read_all(v16, v16_len, &v16_want, 1, &errors);
	for (int m = NFCAPD_LZO; m <= NFCAPD_ZSTD; m++)
	{
		size_t		n;
		uint8_t    *file = recompress(plain, len, m, &n);
		FlowRec		got[16];
		int			k = read_all(file, n, got, 16, &errors);
		bool		same = k == 12;

		for (int i = 0; same && i < 12; i++)
			same = same_flow(&got[i], &want[i]);
		CHECK(same && errors == 0 && r.compression == m && strcmp(r.ident, "demo") == 0 &&
			  r.stat.flows == 12, "layout 2 with %s: %d flows, %d errors (%s)",
			  nfcapd_compression_name(m), k, errors, r.error);
		free(file);
		if (m == NFCAPD_ZSTD)
			continue;			/* nfdump 1.6 had no ZSTD */
		file = recompress(v16, v16_len, m, &n);
		k = read_all(file, n, got, 1, &errors);
		CHECK(k == 1 && errors == 0 && r.compression == m && same_flow(&got[0], &v16_want),
			  "layout 1 with %s", nfcapd_compression_name(m));
		free(file);
	}
	free(v16);
}

static void
check_truncations(const uint8_t *data, size_t len, const FlowRec *want)
{
	int			bad = 0;

	for (size_t cut = 0; cut < len; cut++)
	{
		FlowRec		got[16];
		int			errors,
					n = read_all(data, cut, got, 16, &errors);

		/* a cut file is refused or reports an error; what it yields was in the file */
		if (n > 0 && errors == 0)
			bad++;
		for (int i = 0; i < n && i < 16; i++)
			if (!same_flow(&got[i], &want[i]))
				bad++;
	}
	CHECK(bad == 0, "%d truncations went unnoticed or invented flows", bad);
}

static void
check_damage(const uint8_t *data, size_t len)
{
	uint8_t    *d = malloc(len);
	FlowRec		got[16];
	int			errors,
				n;

	/* record 3 of the block (the second flow, at 0xD0) claims 0 bytes */
	memcpy(d, data, len);
	d[0xD2] = d[0xD3] = 0;
	n = read_all(d, len, got, 16, &errors);
	CHECK(n == 1 && errors == 1 && strstr(r.error, "test: block 1 at offset 40: record of type 11 claims 0 bytes"),
		  "record of size 0: %d flows, %s", n, r.error);

	/* the header says LZ4, the blocks are not: the data block and the appendix fail */
	memcpy(d, data, len);
	d[16] = NFCAPD_LZ4;
	n = read_all(d, len, got, 16, &errors);
	CHECK(n == 0 && errors == 2 && strstr(first_error, "block 1 at offset 40: LZ4 data corrupt") &&
		  strstr(r.error, "appendix"), "undecompressable blocks: %d flows, %d errors, %s", n, errors, first_error);

	/* never closed: NumBlocks 0, no appendix offset */
	memcpy(d, data, len);
	memset(d + 24, 0, 8);
	memset(d + 36, 0, 4);
	n = read_all(d, 0x68C, got, 16, &errors);
	CHECK(n == 12 && errors == 1 && strstr(r.error, "not closed"), "unclosed file: %s", r.error);

	/* the appendix cut off */
	n = read_all(data, 0x68C, got, 16, &errors);
	CHECK(n == 12 && errors == 1 && strstr(r.error, "appendix"), "lost appendix: %s", r.error);

	memcpy(d, data, len);
	d[0] = 0xa5;
	d[1] = 0x0c;
	CHECK(read_all(d, len, got, 16, &errors) < 0 && strstr(r.error, "big-endian"), "byte-swapped magic");
	memcpy(d, data, len);
	d[2] = 3;
	CHECK(read_all(d, len, got, 16, &errors) < 0 && strstr(r.error, "layout version 3"), "layout 3");
	memcpy(d, data, len);
	d[16] = 9;
	CHECK(read_all(d, len, got, 16, &errors) < 0 && strstr(r.error, "compression method 9"), "method 9");
	CHECK(read_all((const uint8_t *) "hello, world", 12, got, 16, &errors) < 0 &&
		  strcmp(r.error, "test: not an nfcapd file (magic 0x6568)") == 0, "foreign: %s", r.error);
	free(d);

	/* 1.6: the record names map 7, which no map record defined */
	{
		size_t		n16;
		uint8_t    *v16 = load("v16-synthetic.nf", &n16);

		v16[0x158 + 6] = 7;
		n = read_all(v16, n16, got, 1, &errors);
		CHECK(n == 0 && errors == 0 && r.skipped == 1 && strstr(r.warning, "extension map 7"),
			  "unknown extension map skipped: %s", r.warning);
		free(v16);
	}
}

int
main(void)
{
	size_t		len;
	uint8_t    *plain = load("v17-plain.nf", &len);
	FlowRec		flows[16];

	if (!nfcapd_reader_init(&r))
		return 1;
	check_reference(plain, len, flows);
	check_v16(&flows[0]);
	check_codecs(plain, len, flows);
	check_truncations(plain, len, flows);
	check_damage(plain, len);
	nfcapd_reader_free(&r);
	free(plain);
	return unit_report("nfcapd_read_test");
}
