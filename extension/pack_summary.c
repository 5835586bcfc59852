/*-------------------------------------------------------------------------
 *
 * pack_summary.c
 *		Per-block summaries of a packed segment: what lets a selective
 *		filter skip blocks without decoding them (and without btrees).
 *
 * For every block (a few thousand flows) the segment's seg_summary keeps
 *	 - the row count and the first_seen range (time windows inside an hour;
 *	   rows are packed sorted on first_seen, so blocks barely overlap);
 *	 - the set of IP protocols present, exact (256 bits);
 *	 - one Bloom filter (colcodec.h) of the block's source and destination
 *	   addresses and ports, each key tagged with its column, sized to about
 *	   8 bits per distinct key (~2.4 % false positives).  This is nfdump
 *	   1.8's nfmeta idea (a Bloom filter per data block), extended to ports
 *	   because "dst port 587" is as selective as a host in flow data.
 * Layout, little-endian: "NFB2", the CRC-32C of the rest, u32 nblocks, then
 * per block u32 rows, i64 first_min, i64 first_max, 32 protocol bytes,
 * u32 bloom bits, the bloom bytes.  A damaged summary is an error naming
 * the partition, like a damaged column chunk.  A lookup over a day checks
 * the summaries of every segment (2.4 MB an hour of 1M flows), so the
 * checksum is PostgreSQL's CRC-32C, which the CPU computes (SSE 4.2) several
 * times faster than zlib's CRC-32; summaries written before 0.5 ("NFB1",
 * zlib's CRC-32) are read as they are.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "port/pg_crc32c.h"

#include "pack.h"

#define SUMMARY_MAGIC	"NFB2"
#define SUMMARY_MAGIC_ZLIB	"NFB1"	/* before 0.5: zlib's CRC-32 */
#define SUMMARY_HEAD	12
#define BLOCK_HEAD		(4 + 8 + 8 + 32 + 4)

static int
cmp_u64(const void *a, const void *b)
{
	uint64		x = *(const uint64 *) a,
				y = *(const uint64 *) b;

	return x < y ? -1 : x > y;
}

void
pack_summary_add_block(CcBuf *summary, const PackLayout *layout,
					   Datum *values, bool *nulls, int natts, int n)
{
	uint8		head[BLOCK_HEAD] = {0};
	int64		lo = PG_INT64_MAX,
				hi = PG_INT64_MIN;
	uint64	   *keys = palloc(sizeof(uint64) * 4 * Max(n, 1));
	int			nkeys = 0,
				distinct = 0;
	uint32		nbits;
	uint8	   *bits;
	const CcAlloc *mem = pack_palloc();

	if (summary->len == 0)
	{
		uint8		h[SUMMARY_HEAD] = {0};

		memcpy(h, SUMMARY_MAGIC, 4);
		cc_buf_append(summary, h, SUMMARY_HEAD, mem);
	}
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
				keys[nkeys++] = cc_hash(side ? 'd' : 's', rec, PACK_INET_WIDTH);
			}
			if (p && !nul[p - 1])
			{
				uint8		port[4];

				cc_put32(port, (uint32) DatumGetInt32(row[p - 1]));
				keys[nkeys++] = cc_hash(side ? 'D' : 'S', port, 4);
			}
		}
	}
	qsort(keys, nkeys, sizeof(uint64), cmp_u64);
	for (int i = 0; i < nkeys; i++)
		if (i == 0 || keys[i] != keys[i - 1])
			keys[distinct++] = keys[i];
	nbits = (uint32) Max(64, ((uint64) distinct * CC_BLOOM_BITS_PER_KEY + 63) / 64 * 64);
	bits = palloc0(nbits / 8);
	for (int i = 0; i < distinct; i++)
		cc_bloom_add(bits, nbits, keys[i]);

	cc_put32(head, (uint32) n);
	cc_put64(head + 4, (uint64) (n ? lo : 0));
	cc_put64(head + 12, (uint64) (n ? hi : 0));
	cc_put32(head + 52, nbits);
	if (!cc_buf_append(summary, head, BLOCK_HEAD, mem) || !cc_buf_append(summary, bits, nbits / 8, mem))
		elog(ERROR, "out of memory");
	pfree(bits);
	pfree(keys);
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

bytea *
pack_summary_finish(CcBuf *summary, int nblocks)
{
	bytea	   *b = palloc(VARHDRSZ + summary->len);

	cc_put32(summary->data + 8, (uint32) nblocks);
	cc_put32(summary->data + 4, summary_crc32c(summary->data + 8, summary->len - 8));
	memcpy(VARDATA(b), summary->data, summary->len);
	SET_VARSIZE(b, VARHDRSZ + summary->len);
	return b;
}

int
pack_summary_parse(const bytea *summary, PackBlockInfo **blocks, const char *where)
{
	const uint8 *p = (const uint8 *) VARDATA_ANY(summary);
	size_t		len = VARSIZE_ANY_EXHDR(summary);
	size_t		pos = SUMMARY_HEAD;
	uint32		nblocks;
	PackBlockInfo *b;

	if (len < SUMMARY_HEAD ||
		!(memcmp(p, SUMMARY_MAGIC, 4) == 0 ? cc_get32(p + 4) == summary_crc32c(p + 8, len - 8) :
		  memcmp(p, SUMMARY_MAGIC_ZLIB, 4) == 0 && cc_get32(p + 4) == cc_crc32(p + 8, len - 8)) ||
		(nblocks = cc_get32(p + 8)) > 65536)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("packed flows partition %s is damaged: block summary checksum mismatch", where)));
	b = palloc0(sizeof(PackBlockInfo) * Max(nblocks, 1));
	for (uint32 i = 0; i < nblocks; i++)
	{
		if (len - pos < BLOCK_HEAD)
			goto bad;
		b[i].rows = cc_get32(p + pos);
		b[i].first_min = (int64) cc_get64(p + pos + 4);
		b[i].first_max = (int64) cc_get64(p + pos + 12);
		b[i].protos = p + pos + 20;
		b[i].bloom_bits = cc_get32(p + pos + 52);
		pos += BLOCK_HEAD;
		if (b[i].bloom_bits % 64 != 0 || len - pos < b[i].bloom_bits / 8 || b[i].rows > CC_MAX_ROWS)
			goto bad;
		b[i].bloom = p + pos;
		pos += b[i].bloom_bits / 8;
	}
	if (pos != len)
		goto bad;
	*blocks = b;
	return (int) nblocks;

bad:
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("packed flows partition %s is damaged: block summary does not match its length", where)));
	return 0;
}
