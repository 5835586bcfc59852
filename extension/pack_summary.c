/*-------------------------------------------------------------------------
 *
 * pack_summary.c
 *		Per-block summaries of a packed segment: what lets a selective
 *		filter skip blocks without decoding them (and without btrees).
 *
 * For every block (a few thousand flows) the segment's seg_summary keeps
 *	 - the row count and the first_seen range (time windows inside an hour;
 *	   rows are packed by 5-minute slot (pack_build.c), so a block spans
 *	   one slot, rarely two);
 *	 - the set of IP protocols present, exact (256 bits);
 *	 - one Bloom filter (colcodec.h) of the block's source and destination
 *	   addresses and ports, each key tagged with its column, sized to 16
 *	   bits per distinct key (~0.06 % false positives).  This is nfdump
 *	   1.8's nfmeta idea (a Bloom filter per data block), extended to ports
 *	   because "dst port 587" is as selective as a host in flow data.
 *
 * Read in parts.  The filters are about 5 bytes a flow, and a lookup over a
 * day used to fetch and check all of them (58 MB for 24M flows at 0.5's 8
 * bits a key), most of its time, where it needs per block only the few bits
 * its keys probe.  So each block's filter is split into 1 << log2parts
 * parts by the key's hash (cc_bloom_part), and part p of every block of the
 * segment is stored contiguously after the blocks' heads, with its own
 * CRC-32C: a scan reads the head, then only the parts of its keys, as TOAST
 * slices of the uncompressed (STORAGE EXTERNAL) value; a scan with no
 * address or port condition reads the head alone.  A segment picks log2parts so that a
 * block's part keeps about 512 bits or more (at most 256 parts).
 *
 * Layout "NFB3", little-endian: magic, the CRC-32C of the rest of the head,
 * u32 nblocks, u32 log2parts, u32 probes; per block u32 rows, i64 first_min,
 * i64 first_max, 32 protocol bytes, u32 bits of each of its parts; per part
 * its CRC-32C; then the parts, each the blocks' bits in block order.
 * Summaries written before 0.6 ("NFB2", CRC-32C of the whole; "NFB1",
 * zlib's CRC-32, before 0.5: per block its head and its whole filter, 4
 * probes) are read whole, as before.  A damaged summary, or a damaged part
 * the scan reads, is an error naming the partition, like a damaged column
 * chunk.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/detoast.h"
#include "access/heaptoast.h"
#include "port/pg_crc32c.h"
#include "utils/memutils.h"

#include "pack.h"

#define SUMMARY_MAGIC	"NFB3"
#define SUMMARY_MAGIC_V2	"NFB2"	/* 0.5: whole, CRC-32C */
#define SUMMARY_MAGIC_V1	"NFB1"	/* before 0.5: whole, zlib's CRC-32 */
#define SUMMARY_HEAD	20
#define SUMMARY_HEAD_V1 12
#define PROBES_V1		4		/* NFB1 and NFB2 */
#define BLOCK_HEAD		(4 + 8 + 8 + 32 + 4)
#define MAX_LOG2PARTS	8
#define MIN_PART_BITS	512

/*
 * The keys of a block are sorted to drop duplicates: PostgreSQL's sort
 * template, specialised for uint64 (qsort's comparator call per comparison
 * was a fifth of packing's time).
 */
#define ST_SORT sort_keys
#define ST_ELEMENT_TYPE uint64
#define ST_COMPARE(a, b) (*(a) < *(b) ? -1 : *(a) > *(b))
#define ST_SCOPE static
#define ST_DEFINE
#include "lib/sort_template.h"

void
pack_summary_add_block(PackSummaryBuild *sb, const PackLayout *layout,
					   Datum *values, bool *nulls, int natts, int n)
{
	uint8		head[BLOCK_HEAD] = {0};
	int64		lo = PG_INT64_MAX,
				hi = PG_INT64_MIN;
	uint64	   *keys = palloc(sizeof(uint64) * 4 * Max(n, 1));
	int			nkeys = 0,
				distinct = 0;

	for (int i = 0; i < n; i++)
	{
		Datum	   *row = values + (size_t) i * natts;
		bool	   *nul = nulls + (size_t) i * natts;

		if (layout->first_seen && !nul[layout->first_seen - 1])
		{
			int64		t = DatumGetInt64(row[layout->first_seen - 1]);

			lo = Min(lo, t);
			hi = Max(hi, t);
		}
		if (layout->proto)
		{
			int			p = nul[layout->proto - 1] ? -1 : DatumGetInt16(row[layout->proto - 1]);

			if (p < 0 || p > 255)	/* NULL or out of range: "any" */
				memset(head + 20, 0xff, 32);
			else
				head[20 + p / 8] |= (uint8) (1 << (p % 8));
		}
		else
			memset(head + 20, 0xff, 32);
		for (int side = 0; side < 2; side++)
		{
			int			a = side ? layout->dst_addr : layout->src_addr;
			int			p = side ? layout->dst_port : layout->src_port;

			if (a && !nul[a - 1])
			{
				uint8		rec[PACK_INET_WIDTH];

				pack_inet_record(row[a - 1], rec);
				keys[nkeys] = cc_hash(side ? 'd' : 's', rec, PACK_INET_WIDTH);
				addHyperLogLog(&sb->distinct[side * 2], (uint32) (keys[nkeys++] >> 32));
			}
			if (p && !nul[p - 1])
			{
				uint8		port[4];

				cc_put32(port, (uint32) DatumGetInt32(row[p - 1]));
				keys[nkeys] = cc_hash(side ? 'D' : 'S', port, 4);
				addHyperLogLog(&sb->distinct[side * 2 + 1], (uint32) (keys[nkeys++] >> 32));
			}
		}
	}
	sort_keys(keys, nkeys);
	for (int i = 0; i < nkeys; i++)
		if (i == 0 || keys[i] != keys[i - 1])
			keys[distinct++] = keys[i];

	cc_put32(head, (uint32) n);
	cc_put64(head + 4, (uint64) (n ? lo : 0));
	cc_put64(head + 12, (uint64) (n ? hi : 0));
	if (!cc_buf_append(&sb->head, head, BLOCK_HEAD, pack_palloc()))
		elog(ERROR, "out of memory");
	if (sb->nblocks == sb->cap)
	{
		sb->cap = Max(16, sb->cap * 2);
		sb->keys = sb->keys ? repalloc(sb->keys, sizeof(uint64 *) * sb->cap) :
			palloc(sizeof(uint64 *) * sb->cap);
		sb->nkeys = sb->nkeys ? repalloc(sb->nkeys, sizeof(uint32) * sb->cap) :
			palloc(sizeof(uint32) * sb->cap);
	}
	sb->keys[sb->nblocks] = keys;
	sb->nkeys[sb->nblocks] = (uint32) distinct;
	sb->nblocks++;
}

static uint32
summary_crc32c(const uint8 *p, size_t len)
{
	pg_crc32c	crc;

	INIT_CRC32C(crc);
	COMP_CRC32C(crc, p, len);
	FIN_CRC32C(crc);
	return crc;
}

/* Bits of each part of a block with nkeys distinct keys: ~16 a key, >= 64. */
static uint32
part_bits(uint32 nkeys, int log2parts)
{
	uint64		bits = ((uint64) nkeys * CC_BLOOM_BITS_PER_KEY) >> log2parts;

	return (uint32) Max(64, (bits + 63) / 64 * 64);
}

bytea *
pack_summary_finish(PackSummaryBuild *sb)
{
	int			nblocks = sb->nblocks;
	uint64		allkeys = 0;
	int			log2parts = 0;
	uint32		nparts;
	size_t		headlen,
				partlen = 0,
				len;
	uint32	   *bits = palloc(sizeof(uint32) * Max(nblocks, 1));
	uint32	   *off = palloc(sizeof(uint32) * Max(nblocks, 1));
	bytea	   *b;
	uint8	   *p;

	for (int i = 0; i < nblocks; i++)
		allkeys += sb->nkeys[i];
	while (log2parts < MAX_LOG2PARTS && nblocks > 0 &&
		   allkeys * CC_BLOOM_BITS_PER_KEY / nblocks >> (log2parts + 1) >= MIN_PART_BITS)
		log2parts++;
	nparts = 1u << log2parts;
	for (int i = 0; i < nblocks; i++)
	{
		bits[i] = part_bits(sb->nkeys[i], log2parts);
		off[i] = (uint32) partlen;
		partlen += bits[i] / 8;
	}
	headlen = SUMMARY_HEAD + (size_t) nblocks * BLOCK_HEAD + (size_t) nparts * 4;
	len = headlen + nparts * partlen;
	if (len > MaxAllocSize - VARHDRSZ)
		elog(ERROR, "nfpg pack: a segment's block summary would be %zu bytes", len);
	b = palloc0(VARHDRSZ + len);
	SET_VARSIZE(b, VARHDRSZ + len);
	p = (uint8 *) VARDATA(b);

	memcpy(p, SUMMARY_MAGIC, 4);
	cc_put32(p + 8, (uint32) nblocks);
	cc_put32(p + 12, (uint32) log2parts);
	cc_put32(p + 16, CC_BLOOM_PROBES);
	memcpy(p + SUMMARY_HEAD, sb->head.data, (size_t) nblocks * BLOCK_HEAD);
	for (int i = 0; i < nblocks; i++)
	{
		uint8	   *body = p + headlen + off[i];

		cc_put32(p + SUMMARY_HEAD + (size_t) i * BLOCK_HEAD + 52, bits[i]);
		for (uint32 k = 0; k < sb->nkeys[i]; k++)
		{
			uint64		h = sb->keys[i][k];

			cc_bloom_add(body + cc_bloom_part(h, log2parts) * partlen, bits[i], CC_BLOOM_PROBES, h);
		}
	}
	for (uint32 k = 0; k < nparts; k++)
		cc_put32(p + headlen - 4 * (nparts - k),
				 summary_crc32c(p + headlen + k * partlen, partlen));
	cc_put32(p + 4, summary_crc32c(p + 8, headlen - 8));
	pfree(bits);
	pfree(off);
	return b;
}

static void
damaged(const char *where, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("packed flows partition %s is damaged: block summary %s", where, what)));
}

/* Bytes [from, from + len) of the summary, read as a slice. */
static const uint8 *
summary_slice(struct varlena *v, size_t from, size_t len, const char *where)
{
	struct varlena *s = detoast_attr_slice(v, (int32) from, (int32) len);

	if (VARSIZE_ANY_EXHDR(s) != len)
		damaged(where, "does not match its length");
	return (const uint8 *) VARDATA_ANY(s);
}

/* A summary as 0.5 and earlier wrote it: read and checked whole. */
static int
read_whole(struct varlena *v, PackBlockInfo **blocks, const char *where)
{
	struct varlena *d = detoast_attr(v);
	const uint8 *p = (const uint8 *) VARDATA_ANY(d);
	size_t		len = VARSIZE_ANY_EXHDR(d);
	size_t		pos = SUMMARY_HEAD_V1;
	uint32		nblocks;
	PackBlockInfo *b;
	const uint8 **whole = palloc(sizeof(uint8 *));

	if (len < SUMMARY_HEAD_V1 ||
		!(memcmp(p, SUMMARY_MAGIC_V2, 4) == 0 ? cc_get32(p + 4) == summary_crc32c(p + 8, len - 8) :
		  memcmp(p, SUMMARY_MAGIC_V1, 4) == 0 && cc_get32(p + 4) == cc_crc32(p + 8, len - 8)) ||
		(nblocks = cc_get32(p + 8)) > 65536)
		damaged(where, "checksum mismatch");
	*whole = p;
	b = palloc0(sizeof(PackBlockInfo) * Max(nblocks, 1));
	for (uint32 i = 0; i < nblocks; i++)
	{
		if (len - pos < BLOCK_HEAD)
			damaged(where, "does not match its length");
		b[i].rows = cc_get32(p + pos);
		b[i].first_min = (int64) cc_get64(p + pos + 4);
		b[i].first_max = (int64) cc_get64(p + pos + 12);
		b[i].protos = p + pos + 20;
		b[i].bloom_bits = cc_get32(p + pos + 52);
		pos += BLOCK_HEAD;
		if (b[i].bloom_bits % 64 != 0 || len - pos < b[i].bloom_bits / 8 || b[i].rows > CC_MAX_ROWS)
			damaged(where, "does not match its length");
		b[i].parts = whole;
		b[i].probes = PROBES_V1;
		b[i].bloom_off = (uint32) pos;
		pos += b[i].bloom_bits / 8;
	}
	if (pos != len)
		damaged(where, "does not match its length");
	*blocks = b;
	return (int) nblocks;
}

/*
 * The blocks of a segment from its summary (the attribute as stored, a
 * TOAST pointer or inline), reading of the Bloom filters only the parts
 * the keys' hashes fall in; returns the number of blocks.
 */
int
pack_summary_read(struct varlena *v, const uint64 *hashes, int nhashes,
				  PackBlockInfo **blocks, const char *where)
{
	size_t		total = toast_raw_datum_size(PointerGetDatum(v)) - VARHDRSZ;
	size_t		first = Min(total, TOAST_MAX_CHUNK_SIZE);
	const uint8 *p = summary_slice(v, 0, first, where);
	uint32		nblocks,
				log2parts,
				probes,
				nparts;
	size_t		headlen,
				partlen = 0;
	const uint8 **parts;
	bool		want[1 << MAX_LOG2PARTS] = {0};
	int			nwant = 0;
	PackBlockInfo *b;

	if (first >= 4 && (memcmp(p, SUMMARY_MAGIC_V2, 4) == 0 || memcmp(p, SUMMARY_MAGIC_V1, 4) == 0))
		return read_whole(v, blocks, where);
	if (first < SUMMARY_HEAD || memcmp(p, SUMMARY_MAGIC, 4) != 0 ||
		(nblocks = cc_get32(p + 8)) > 65536 || (log2parts = cc_get32(p + 12)) > MAX_LOG2PARTS ||
		(probes = cc_get32(p + 16)) < 1 || probes > 32)
		damaged(where, "checksum mismatch");
	nparts = 1u << log2parts;
	headlen = SUMMARY_HEAD + (size_t) nblocks * BLOCK_HEAD + (size_t) nparts * 4;
	if (headlen > total)
		damaged(where, "does not match its length");
	if (headlen > first)
		p = summary_slice(v, 0, headlen, where);
	if (cc_get32(p + 4) != summary_crc32c(p + 8, headlen - 8))
		damaged(where, "checksum mismatch");

	parts = palloc0(sizeof(uint8 *) * nparts);
	b = palloc0(sizeof(PackBlockInfo) * Max(nblocks, 1));
	for (uint32 i = 0; i < nblocks; i++)
	{
		const uint8 *h = p + SUMMARY_HEAD + (size_t) i * BLOCK_HEAD;

		b[i].rows = cc_get32(h);
		b[i].first_min = (int64) cc_get64(h + 4);
		b[i].first_max = (int64) cc_get64(h + 12);
		b[i].protos = h + 20;
		b[i].bloom_bits = cc_get32(h + 52);
		if (b[i].bloom_bits % 64 != 0 || b[i].bloom_bits == 0 || b[i].rows > CC_MAX_ROWS)
			damaged(where, "does not match its length");
		b[i].parts = parts;
		b[i].bloom_off = (uint32) partlen;
		b[i].log2parts = (int) log2parts;
		b[i].probes = (int) probes;
		partlen += b[i].bloom_bits / 8;
	}
	if (total != headlen + nparts * partlen)
		damaged(where, "does not match its length");

	/* the parts the keys need; most of them: one slice for all */
	for (int k = 0; k < nhashes; k++)
	{
		uint32		part = cc_bloom_part(hashes[k], (int) log2parts);

		nwant += !want[part];
		want[part] = true;
	}
	if (nwant > 0 && (uint32) nwant * 4 > nparts)
	{
		const uint8 *all = summary_slice(v, headlen, nparts * partlen, where);

		for (uint32 k = 0; k < nparts; k++)
			parts[k] = all + k * partlen;
	}
	else
		for (uint32 k = 0; k < nparts; k++)
			if (want[k])
				parts[k] = summary_slice(v, headlen + k * partlen, partlen, where);
	for (uint32 k = 0; k < nparts; k++)
		if (parts[k] && cc_get32(p + headlen - 4 * (nparts - k)) != summary_crc32c(parts[k], partlen))
			damaged(where, "checksum mismatch");
	*blocks = b;
	return (int) nblocks;
}
