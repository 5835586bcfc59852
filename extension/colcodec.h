/*-------------------------------------------------------------------------
 *
 * colcodec.h
 *		Column chunk codec of packed flows partitions, without PostgreSQL:
 *		shared by the packed-partition storage (pack_*.c), its unit test and
 *		its fuzzer.
 *
 * A chunk is the values of one column over one block of rows (a few
 * thousand flows), encoded for what the column holds and then compressed
 * with zstd.  Three kinds of column exist:
 *
 *	 CC_INT    64-bit integers (timestamps, counters, ports, AS numbers).
 *			   Optionally delta-coded (a column mostly ascending: first_seen),
 *			   then frame-of-reference: the block minimum is subtracted, so a
 *			   port needs 2 bytes and a sorted timestamp 1-3; then divided by
 *			   the values' greatest common divisor (timestamps of millisecond
 *			   precision kept in microseconds lose their three zero digits);
 *	 CC_FIXED  fixed-width records (addresses as 17 bytes: a family/prefix
 *			   byte then 16 address bytes; MAC addresses as 6 bytes);
 *	 CC_BLOB   variable-length byte strings (anything else, e.g. MPLS stacks).
 *
 * Integers become 8-byte little-endian records, so all kinds share the
 * layouts, chosen per chunk by the smaller result:
 *	 dictionary  at most 256 distinct records: the records, then one code
 *				 byte per row (exporters, protocols, ports, flags, ToS);
 *	 planes		 the records "byte-transposed": byte 0 of every row, then
 *				 byte 1 of every row, ...; a plane whose bytes are all equal
 *				 (the zero high bytes of a small integer, the 12 unused bytes
 *				 of an IPv4 address in 16) is stored as one byte.  Keeping
 *				 equal-significance bytes together is what lets zstd find the
 *				 shared prefixes of addresses and the slow-moving high bytes of
 *				 counters (the idea of ClickHouse's T64 and of Blosc's shuffle);
 *	 groups		 fixed-width records grouped by their first byte (an address's
 *				 family and prefix length), each group in planes of its own
 *				 rows: an IPv4 address among IPv6 ones keeps 4 varying bytes,
 *				 not 16, which is less to store and to decompress.
 * NULLs are a bitmap; a column NULL in every row of the block costs only the
 * header.  The body is compressed with zstd at the caller's level, or kept
 * raw when zstd does not make it smaller.
 *
 * Every chunk carries a CRC-32 (zlib) of everything after the checksum
 * field and its own lengths, so cc_decode() rejects a damaged chunk (a
 * flipped byte anywhere) with a message instead of decoding garbage; with
 * a valid checksum, every length is still checked before it is used, so a
 * forged chunk cannot make it read or write out of bounds (the fuzzer's
 * job).  All numbers are little-endian on disk, whatever the host.
 *
 * The same file holds the block summary helpers (a Bloom filter of
 * addresses and ports): see cc_bloom_*.
 *
 * Memory: all allocation goes through the CcAlloc given by the caller
 * (palloc in the backend, malloc in tests), so a backend error unwinds
 * without leaks; decoded arrays belong to the caller.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NFPG_COLCODEC_H
#define NFPG_COLCODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CC_INT			1
#define CC_FIXED		2
#define CC_BLOB			3

#define CC_MAX_WIDTH	32		/* widest fixed record */
#define CC_MAX_ROWS		(1u << 20)	/* rows in one chunk */

/* encoding options */
#define CC_OPT_DELTA	0x01	/* CC_INT: code differences of consecutive rows */

#define CC_HEADER_LEN	48

typedef struct CcAlloc
{
	void	   *(*alloc) (void *ctx, size_t size);	/* may return NULL */
	void		(*release) (void *ctx, void *ptr);	/* may be a no-op */
	void	   *ctx;
} CcAlloc;

/*
 * One column over nrows rows.  For encoding the caller fills it; cc_decode
 * fills it with arrays from the allocator.  isnull is NULL when no row is
 * NULL; the value of a NULL row is unspecified on decode (0 / zeroes).
 */
typedef struct CcColumn
{
	int			kind;			/* CC_INT, CC_FIXED, CC_BLOB */
	uint32_t	nrows;
	uint32_t	width;			/* CC_FIXED: bytes per record */
	bool	   *isnull;
	int64_t    *ints;			/* CC_INT: nrows values */
	uint8_t    *data;			/* CC_FIXED: nrows * width; CC_BLOB: bytes */
	uint32_t   *offsets;		/* CC_BLOB: nrows + 1 offsets into data */
	uint8_t		tag;			/* the caller's, kept in the header (e.g. which transform it applied) */
	uint32_t	chunk_rows;		/* decode: the chunk's rows (nrows when not a selection) */
} CcColumn;

/* A growable output buffer. */
typedef struct CcBuf
{
	uint8_t    *data;
	size_t		len;
	size_t		cap;
} CcBuf;

/*
 * Encode col into out (appended); returns the chunk length, or 0 with a
 * message in err.
 */
extern size_t cc_encode(const CcColumn *col, int options, int zstd_level,
						const CcAlloc *mem, CcBuf *out, char *err, size_t errlen);

/*
 * Decode one chunk of exactly len bytes into col; returns true, or false
 * with a message in err (damaged or forged chunk, or out of memory).
 */
extern bool cc_decode(const uint8_t *chunk, size_t len, const CcAlloc *mem,
					  CcColumn *col, char *err, size_t errlen);

/*
 * The same for the rows sel[0..nsel) only (ascending row numbers of the
 * chunk, repeats allowed): col gets nsel rows, in that order.  A scan that
 * has already tested its conditions on a block decodes the other columns
 * only for the rows that passed: a selected record is gathered straight
 * from the planes or the dictionary, and nothing is spent on the others
 * beyond decompressing the body and checking its lengths.
 */
extern bool cc_decode_rows(const uint8_t *chunk, size_t len, const CcAlloc *mem,
						   const uint32_t *sel, uint32_t nsel,
						   CcColumn *col, char *err, size_t errlen);

/*
 * Framed chunks (colcodec_frames.c): a column of more than frame_rows rows
 * encoded as frames of frame_rows rows, each a chunk, behind a table of
 * their lengths, so that a selection reads only the frames that hold its
 * rows.  cc_decode and cc_decode_rows read framed and plain chunks alike.
 * A column of frame_rows rows or fewer, or entirely NULL, is encoded as a
 * plain chunk.
 */
#define CC_MAX_FRAMES	1024
extern size_t cc_encode_frames(const CcColumn *col, int options, int zstd_level, uint32_t frame_rows,
							   const CcAlloc *mem, CcBuf *out, char *err, size_t errlen);
extern bool cc_is_framed(const uint8_t *chunk, size_t len);
/* The bytes of a frame table of nframes frames (the first to fetch). */
extern size_t cc_frames_head_len(uint32_t nframes);

/*
 * Given the first have bytes of a chunk of len bytes: when it is framed and
 * its table is within them, the byte range [from, to) of the frames holding
 * the rows of sel[0..nsel) (ascending), which is all that
 * cc_decode_rows reads of the chunk besides the table for that selection;
 * false otherwise (a plain chunk, a damaged table: read it whole).
 */
extern bool cc_frames_span(const uint8_t *chunk, size_t have, size_t len, const uint32_t *sel,
						   uint32_t nsel, size_t *from, size_t *to);

/* Append bytes to a buffer, or make room for len more; false when out of memory. */
extern bool cc_buf_append(CcBuf *buf, const void *bytes, size_t len, const CcAlloc *mem);
extern bool cc_buf_reserve(CcBuf *buf, size_t len, const CcAlloc *mem);

/* CRC-32 (zlib's) of bytes. */
extern uint32_t cc_crc32(const uint8_t *bytes, size_t len);

/* Little-endian integers in byte strings. */
static inline uint32_t
cc_get32(const uint8_t *p)
{
	return (uint32_t) p[0] | ((uint32_t) p[1] << 8) | ((uint32_t) p[2] << 16) | ((uint32_t) p[3] << 24);
}

static inline uint64_t
cc_get64(const uint8_t *p)
{
	return (uint64_t) cc_get32(p) | ((uint64_t) cc_get32(p + 4) << 32);
}

static inline void
cc_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t) v;
	p[1] = (uint8_t) (v >> 8);
	p[2] = (uint8_t) (v >> 16);
	p[3] = (uint8_t) (v >> 24);
}

static inline void
cc_put64(uint8_t *p, uint64_t v)
{
	cc_put32(p, (uint32_t) v);
	cc_put32(p + 4, (uint32_t) (v >> 32));
}

/*
 * Bloom filter of a block's keys (addresses and ports, each tagged with its
 * column), as nfdump 1.8's nfmeta keeps per data block: a key that is not in
 * the filter is certainly not in the block.  nbits is a multiple of 64;
 * the probes' positions are derived Kirsch-Mitzenmacher style from one
 * 64-bit hash.
 * 16 bits per distinct key and 8 probes give ~0.06 % false positives; the
 * summaries of 0.5 and before used 8 bits and 4 probes (~2.4 %), and a
 * lookup over a day read a block in 20 for nothing.
 */
#define CC_BLOOM_PROBES		8
#define CC_BLOOM_BITS_PER_KEY 16

extern uint64_t cc_hash(uint8_t tag, const uint8_t *key, size_t len);
extern void cc_bloom_add(uint8_t *bits, uint32_t nbits, int probes, uint64_t hash);
extern bool cc_bloom_maybe(const uint8_t *bits, uint32_t nbits, int probes, uint64_t hash);

/*
 * A filter may be split into 1 << log2parts parts, a key living in one part
 * only, so that a lookup reads one part of each block's filter and not the
 * whole (pack_summary.c).  The part comes from all bits of the hash
 * (Fibonacci hashing), so the keys of one part still probe it at positions
 * as independent as in an undivided filter.
 */
static inline uint32_t
cc_bloom_part(uint64_t hash, int log2parts)
{
	return log2parts == 0 ? 0 :
		(uint32_t) ((hash * UINT64_C(0x9E3779B97F4A7C15)) >> (64 - log2parts));
}

#endif							/* NFPG_COLCODEC_H */
