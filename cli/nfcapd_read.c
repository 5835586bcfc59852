/*-------------------------------------------------------------------------
 *
 * nfcapd_read.c
 *		nfcapd files: headers, the layout-2 appendix, the block walk and
 *		the state records (exporters, samplers, exporter statistics).
 *
 * Layout 1 (nfdump 1.6): a 140-byte header (flags with one compression
 * bit, the block count, the ident), the 136-byte stat record, then blocks
 * to the end of the file.  Layout 2 (nfdump 1.7): a 40-byte header (the
 * compression as a number, the block count, the appendix offset), the data
 * blocks, then the appendix: one block holding the ident and the stat
 * record, written when the file is closed.  A block is a 12-byte header
 * (records, stored size, type) and the payload.
 *
 * What a file's header promises is checked against what is there: a
 * layout-2 file whose appendix offset lies past its end was cut short; a
 * file with fewer blocks than announced lost its tail; one never closed
 * (nfcapd.current.*, NumBlocks still 0) may still be growing.  Each is a
 * block error: the caller decides whether the blocks read are worth
 * keeping (nfpg-import only with --salvage).
 *
 * The size limits are nfdump's: a stored block may hold at most 5 MiB, and
 * decompresses into at most 10 MiB (1.6's reader allowed twice its 5 MiB
 * buffer for the output).
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "nfcapd_int.h"

#define MAGIC				0xA50C
#define MAGIC_SWAPPED		0x0CA5
#define HEADER_V1_LEN		140
#define STAT_V1_LEN			136
#define HEADER_V2_LEN		40
#define BLOCK_HEADER_LEN	12
#define MAX_STORED_BLOCK	(5u << 20)
#define MAX_BLOCK			(10u << 20)

/* Block types. */
#define BLOCK_V15			1
#define BLOCK_V16			2
#define BLOCK_V17			3
#define BLOCK_ARRAY			4

/* Layout-1 flag bits that name a compression. */
#define V1_FLAG_LZO			0x01
#define V1_FLAG_BZ2			0x08
#define V1_FLAG_LZ4			0x10

bool
nfcapd_reader_init(NfcapdReader *r)
{
	memset(r, 0, sizeof(*r));
	r->buf_cap = MAX_BLOCK;
	r->buf = malloc(r->buf_cap);
	r->maps = malloc(sizeof(NfcapdExtMap) * NFCAPD_MAX_MAPS);
	return r->buf != NULL && r->maps != NULL;
}

void
nfcapd_reader_free(NfcapdReader *r)
{
	free(r->buf);
	free(r->maps);
	r->buf = NULL;
	r->maps = NULL;
}

static bool
fail(NfcapdReader *r, const char *fmt, ...)
{
	va_list		ap;
	int			n = snprintf(r->error, sizeof(r->error), "%s: ", r->name);

	va_start(ap, fmt);
	vsnprintf(r->error + n, sizeof(r->error) - n, fmt, ap);
	va_end(ap);
	return false;
}

/* A block error: the message names the file, the block and its offset. */
static NfcapdStatus
block_error(NfcapdReader *r, const char *fmt, ...)
{
	va_list		ap;
	int			n = snprintf(r->error, sizeof(r->error), "%s: block %u at offset %zu: ",
							 r->name, r->block, r->block_off);

	va_start(ap, fmt);
	vsnprintf(r->error + n, sizeof(r->error) - n, fmt, ap);
	va_end(ap);
	r->bad_blocks++;
	r->rec_left = 0;
	return NFCAPD_BLOCK_ERROR;
}

void
nfcapd_reason(NfcapdReader *r, const char *fmt, ...)
{
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(r->reason, sizeof(r->reason), fmt, ap);
	va_end(ap);
}

/* A record skipped: counted, and the first one's reason kept. */
static void
skipped(NfcapdReader *r)
{
	if (r->skipped++ == 0)
		snprintf(r->warning, sizeof(r->warning), "%s: block %u: %s", r->name, r->block, r->reason);
}

static void
read_stat_v1(NfcapdReader *r, const uint8_t *s)
{
	uint32_t	first = le32(s + 120),
				last = le32(s + 124);

	/* nfcapd 1.6 writes a placeholder until it closes the file */
	if (first == 0x7FFFFFFF && le16(s + 128) == 999)
		return;
	r->stat.flows = le64(s);
	r->stat.bytes = le64(s + 8);
	r->stat.packets = le64(s + 16);
	r->stat.first_ms = (int64_t) first * 1000 + le16(s + 128);
	r->stat.last_ms = (int64_t) last * 1000 + le16(s + 130);
	r->stat.sequence_failures = le32(s + 132);
	r->has_stat = true;
}

static void
read_stat_v2(NfcapdReader *r, const uint8_t *s)
{
	r->stat.flows = le64(s);
	r->stat.bytes = le64(s + 8);
	r->stat.packets = le64(s + 16);
	r->stat.first_ms = (int64_t) le64(s + 120);
	r->stat.last_ms = (int64_t) le64(s + 128);
	r->stat.sequence_failures = le64(s + 136);
	r->has_stat = true;
}

static void
copy_ident(NfcapdReader *r, const uint8_t *p, size_t n)
{
	if (n >= sizeof(r->ident))
		n = sizeof(r->ident) - 1;
	memcpy(r->ident, p, n);
	r->ident[n] = '\0';
	r->ident[strlen(r->ident)] = '\0';
}

static bool
open_v1(NfcapdReader *r)
{
	uint32_t	flags,
				comp;

	if (r->len < HEADER_V1_LEN + STAT_V1_LEN)
		return fail(r, "nfdump 1.6 file cut short in its header (%zu bytes)", r->len);
	flags = le32(r->data + 4);
	comp = flags & (V1_FLAG_LZO | V1_FLAG_BZ2 | V1_FLAG_LZ4);
	if (comp == 0)
		r->compression = NFCAPD_NONE;
	else if (comp == V1_FLAG_LZO)
		r->compression = NFCAPD_LZO;
	else if (comp == V1_FLAG_BZ2)
		r->compression = NFCAPD_BZ2;
	else if (comp == V1_FLAG_LZ4)
		r->compression = NFCAPD_LZ4;
	else
		return fail(r, "nfdump 1.6 header names several compressions (flags 0x%x)", flags);
	r->num_blocks = le32(r->data + 8);
	copy_ident(r, r->data + 12, 128);
	read_stat_v1(r, r->data + HEADER_V1_LEN);
	r->pos = HEADER_V1_LEN + STAT_V1_LEN;
	r->end = r->len;
	/* 1.6 writes the block count when it closes the file */
	r->closed = r->num_blocks > 0 || r->len == r->pos;
	return true;
}

/*
 * The appendix (layout 2): ident and stat records in ordinary blocks.
 * False if it is cut short or does not decompress.
 */
static bool
read_appendix(NfcapdReader *r, size_t off, unsigned nblocks)
{
	for (unsigned b = 0; b < nblocks; b++)
	{
		uint32_t	nrec,
					size;
		long		n;
		const uint8_t *p;
		char		err[256];

		if (r->len - off < BLOCK_HEADER_LEN)
			return false;
		nrec = le32(r->data + off);
		size = le32(r->data + off + 4);
		if (size > r->len - off - BLOCK_HEADER_LEN || size > MAX_STORED_BLOCK)
			return false;
		n = nfcapd_decompress(r->compression, r->data + off + BLOCK_HEADER_LEN, size,
							  r->buf, r->buf_cap, err, sizeof(err));
		if (n < 0)
			return false;
		off += BLOCK_HEADER_LEN + size;
		p = r->buf;
		for (uint32_t i = 0; i < nrec && r->buf + n - p >= 4; i++)
		{
			uint16_t	type = le16(p),
						rsize = le16(p + 2);

			if (rsize < 4 || rsize > r->buf + n - p)
				return false;
			if (type == REC_IDENT)
				copy_ident(r, p + 4, rsize - 4);
			else if (type == REC_STAT && rsize >= 4 + 144)
				read_stat_v2(r, p + 4);
			p += rsize;
		}
	}
	return true;
}

static bool
open_v2(NfcapdReader *r)
{
	uint64_t	off_appendix;
	unsigned	appendix_blocks;

	if (r->len < HEADER_V2_LEN)
		return fail(r, "nfdump 1.7 file cut short in its header (%zu bytes)", r->len);
	r->compression = r->data[16];
	if (!nfcapd_codec_available(r->compression))
		return fail(r, "unknown compression method %d", r->compression);
	if (r->data[17] != 0)
		return fail(r, "encrypted (method %d), which nfdump does not define", r->data[17]);
	appendix_blocks = le16(r->data + 18);
	off_appendix = le64(r->data + 24);
	r->num_blocks = le32(r->data + 36);
	r->pos = HEADER_V2_LEN;
	r->end = r->len;
	if (off_appendix == 0)
		r->closed = false;		/* still being written, or its writer died */
	else if (off_appendix < HEADER_V2_LEN || off_appendix >= r->len)
	{
		r->closed = true;		/* closed, then cut: blocks count tells the loss */
		r->appendix_lost = true;
		r->end = r->len;
	}
	else
	{
		r->closed = true;
		r->end = (size_t) off_appendix;
		r->appendix_lost = !read_appendix(r, (size_t) off_appendix, appendix_blocks);
	}
	return true;
}

bool
nfcapd_open(NfcapdReader *r, const uint8_t *data, size_t len, const char *name)
{
	uint16_t	magic,
				version;

	r->name = name;
	r->data = data;
	r->len = len;
	r->layout = 0;
	r->compression = NFCAPD_NONE;
	r->num_blocks = 0;
	r->closed = false;
	r->appendix_lost = false;
	r->ident[0] = '\0';
	memset(&r->stat, 0, sizeof(r->stat));
	r->has_stat = false;
	r->pos = r->end = 0;
	r->block = 0;
	r->stop = false;
	r->rec = r->rec_end = NULL;
	r->rec_left = 0;
	r->block_off = 0;
	r->n_exporters = 0;
	r->last_exporter = -1;
	r->n_maps = 0;
	r->last_map = -1;
	r->flows = r->skipped = r->bad_blocks = r->no_exporter = 0;
	r->error[0] = r->warning[0] = '\0';

	if (len == 0)
		return fail(r, "empty file");
	if (len < 4)
		return fail(r, "not an nfcapd file (%zu bytes)", len);
	magic = le16(data);
	version = le16(data + 2);
	if (magic == MAGIC_SWAPPED)
		return fail(r, "written on a big-endian host, which nfdump itself cannot read");
	if (magic != MAGIC)
		return fail(r, "not an nfcapd file (magic 0x%04x)", magic);
	r->layout = version;
	if (version == 1)
		return open_v1(r);
	if (version == 2)
		return open_v2(r);
	return fail(r, "unknown nfcapd layout version %u", version);
}

/* Find the exporter with this sysid, or -1; the last hit is tried first. */
static int
find_exporter(NfcapdReader *r, uint16_t sysid)
{
	if (r->last_exporter >= 0 && r->exporters[r->last_exporter].sysid == sysid)
		return r->last_exporter;
	for (int i = 0; i < r->n_exporters; i++)
		if (r->exporters[i].sysid == sysid)
			return r->last_exporter = i;
	return -1;
}

void
nfcapd_set_exporter(NfcapdReader *r, uint16_t sysid, FlowRec *out)
{
	int			i = find_exporter(r, sysid);
	NfcapdExporter *e;

	if (i < 0)
	{
		out->exporter.family = 0;
		return;
	}
	e = &r->exporters[i];
	out->exporter = e->addr;
	out->source_id = e->id;
	if (out->export_version == 0)
		out->export_version = (uint8_t) e->version;
	if (e->sampling > 1)
	{
		out->sampling = e->sampling;
		out->present |= FR_SAMPLING;
	}
}

/* Record type 7.  A sysid seen again (merged files) takes the new values. */
static void
exporter_info(NfcapdReader *r, const uint8_t *p, size_t len)
{
	uint16_t	sysid,
				family;
	int			i;
	NfcapdExporter *e;

	if (len < 32)
	{
		nfcapd_reason(r, "exporter record of %zu bytes, 32 expected", len);
		skipped(r);
		return;
	}
	sysid = le16(p + 26);
	i = find_exporter(r, sysid);
	if (i < 0)
	{
		if (r->n_exporters == NFCAPD_MAX_EXPORTERS)
		{
			nfcapd_reason(r, "more than %d exporters", NFCAPD_MAX_EXPORTERS);
			skipped(r);
			return;
		}
		i = r->n_exporters++;
	}
	e = &r->exporters[i];
	memset(e, 0, sizeof(*e));
	e->sysid = sysid;
	e->version = (uint16_t) le32(p + 4);
	e->id = le32(p + 28);
	family = le16(p + 24);
	/* AF_INET is 2 everywhere; IPv4 sits in the low u64's low half */
	if (family == 2 || (le64(p + 8) == 0 && le64(p + 16) >> 32 == 0))
		addr_v4(&e->addr, p + 16);
	else
		addr_v6(&e->addr, p + 8);
}

/* Record type 8: per exporter, what the collector counted. */
static void
exporter_stat(NfcapdReader *r, const uint8_t *p, size_t len)
{
	uint32_t	n;

	if (len < 8 || (n = le32(p + 4)) > (len - 8) / 24)
	{
		nfcapd_reason(r, "exporter statistics record of %zu bytes is inconsistent", len);
		skipped(r);
		return;
	}
	for (uint32_t k = 0; k < n; k++)
	{
		const uint8_t *s = p + 8 + 24 * k;
		int			i = find_exporter(r, (uint16_t) le32(s));

		if (i < 0)
			continue;
		r->exporters[i].sequence_failures += le32(s + 4);
		r->exporters[i].packets += le64(s + 8);
		r->exporters[i].flows += le64(s + 16);
	}
}

/* Sampler records: type 9 (1.6) and 15 (1.7); the interval per exporter. */
static void
sampler(NfcapdReader *r, uint16_t type, const uint8_t *p, size_t len)
{
	uint32_t	interval;
	int			i;

	if (type == REC_SAMPLER_V0 && len >= 16)
	{
		interval = le32(p + 8);
		i = find_exporter(r, le16(p + 14));
	}
	else if (type == REC_SAMPLER && len >= 24)
	{
		uint32_t	pkt = le32(p + 16),
					space = le32(p + 20);

		/* take pkt packets, skip space: 1 in (pkt + space) / pkt */
		interval = pkt ? (uint32_t) (((uint64_t) pkt + space) / pkt) : 0;
		i = find_exporter(r, le16(p + 4));
	}
	else
	{
		nfcapd_reason(r, "sampler record of %zu bytes is too short", len);
		skipped(r);
		return;
	}
	if (i >= 0)
		r->exporters[i].sampling = interval;
}

/*
 * The next block's records into rec/rec_end (*have), NFCAPD_END after the
 * last block, NFCAPD_FLOW with *have false for a block without flows.
 */
static NfcapdStatus
next_block(NfcapdReader *r, bool *have)
{
	uint32_t	nrec,
				size;
	uint16_t	type,
				flags;
	const uint8_t *payload;
	int			method = r->compression;
	long		n;
	char		err[256];

	*have = false;
	if (r->stop || r->pos >= r->end || (r->layout == 2 && r->closed && r->block >= r->num_blocks))
		return NFCAPD_END;
	r->block_off = r->pos;
	r->block++;
	if (r->end - r->pos < BLOCK_HEADER_LEN)
	{
		r->stop = true;
		return block_error(r, "block header cut short (%zu bytes left): file truncated",
						   r->end - r->pos);
	}
	nrec = le32(r->data + r->pos);
	size = le32(r->data + r->pos + 4);
	type = le16(r->data + r->pos + 8);
	flags = le16(r->data + r->pos + 10);
	if (size > r->end - r->pos - BLOCK_HEADER_LEN)
	{
		r->stop = true;
		return block_error(r, "%u bytes announced, %zu left: file truncated", size,
						   r->end - r->pos - BLOCK_HEADER_LEN);
	}
	payload = r->data + r->pos + BLOCK_HEADER_LEN;
	r->pos += BLOCK_HEADER_LEN + size;
	if (size > MAX_STORED_BLOCK)
		return block_error(r, "%u bytes, larger than a block may be", size);
	if (type == BLOCK_ARRAY || nrec == 0)
		return NFCAPD_FLOW;		/* nothing for us: the caller asks again */
	if (type == BLOCK_V15)
		return block_error(r, "nfdump 1.5 block, which nfdump 1.6 and later cannot read either");
	if (type != BLOCK_V16 && type != BLOCK_V17)
		return block_error(r, "unknown block type %u", type);
	if (r->layout == 2 && (flags & 1))
		method = NFCAPD_NONE;	/* FLAG_BLOCK_UNCOMPRESSED */
	if (method == NFCAPD_NONE)
	{
		r->rec = payload;
		r->rec_end = payload + size;
	}
	else
	{
		n = nfcapd_decompress(method, payload, size, r->buf, r->buf_cap, err, sizeof(err));
		if (n < 0)
			return block_error(r, "%s", err);
		r->rec = r->buf;
		r->rec_end = r->buf + n;
	}
	r->rec_left = nrec;
	*have = true;
	return NFCAPD_FLOW;
}

/* After the last block: did the file hold what its header promised? */
static NfcapdStatus
finish(NfcapdReader *r)
{
	if (r->stop)
		return NFCAPD_END;
	r->stop = true;
	r->block_off = r->pos;
	if (!r->closed)
		return block_error(r, "file not closed by its writer (an nfcapd.current file, or "
						   "its collector died): %u blocks read", r->block);
	if (r->block < r->num_blocks)
		return block_error(r, "file truncated: %u of %u blocks present", r->block, r->num_blocks);
	if (r->appendix_lost)
		return block_error(r, "its appendix (ident, statistics) is missing or damaged: "
						   "file truncated after its last data block?");
	return NFCAPD_END;
}

NfcapdStatus
nfcapd_next(NfcapdReader *r, FlowRec *out)
{
	for (;;)
	{
		uint16_t	type,
					size;
		const uint8_t *p;
		RecResult	res;

		if (r->rec_left == 0)
		{
			bool		have;
			NfcapdStatus st = next_block(r, &have);

			if (st == NFCAPD_BLOCK_ERROR)
				return st;
			if (st == NFCAPD_END)
				return finish(r);
			continue;
		}
		if (r->rec_end - r->rec < 4)
			return block_error(r, "%u records announced, the block ends before them", r->rec_left);
		p = r->rec;
		type = le16(p);
		size = le16(p + 2);
		if (size < 4 || size > r->rec_end - p)
			return block_error(r, "record of type %u claims %u bytes, %td left in the block",
							   type, size, r->rec_end - p);
		r->rec += size;
		r->rec_left--;
		switch (type)
		{
			case REC_V3:
				res = nfcapd_v3_record(r, p, size, out);
				break;
			case REC_COMMON_V1:
				res = nfcapd_v1_record(r, p, size, out);
				break;
			case REC_EXTENSION_MAP:
				if (!nfcapd_v1_map(r, p, size))
					skipped(r);
				continue;
			case REC_EXPORTER_INFO:
				exporter_info(r, p, size);
				continue;
			case REC_EXPORTER_STAT:
				exporter_stat(r, p, size);
				continue;
			case REC_SAMPLER_V0:
			case REC_SAMPLER:
				sampler(r, type, p, size);
				continue;
			default:
				/* NBAR, interface and VRF names, later types: not flows */
				continue;
		}
		if (res == REC_OK)
		{
			r->flows++;
			return NFCAPD_FLOW;
		}
		if (res == REC_CORRUPT)
			return block_error(r, "%s", r->reason);
		skipped(r);
	}
}
