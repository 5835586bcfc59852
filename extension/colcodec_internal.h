/*-------------------------------------------------------------------------
 *
 * colcodec_internal.h
 *		The bytes of a column chunk, shared by the encoder (colcodec.c) and
 *		the decoder (colcodec_decode.c); users of the codec need colcodec.h
 *		only.
 *
 * Chunk header, 48 bytes, little-endian:
 *	  0 magic "NFC1"		  4 crc32 of bytes 8..end
 *	  8 kind				  9 layout (0 planes, 1 dictionary, 2 groups)
 *	 10 flags				 11 the caller's tag
 *	 12 nrows				 16 record width
 *	 20 body length before compression
 *	 24 body length stored (after the header)
 *	 28 frame-of-reference base (CC_INT)
 *	 36 first value (CC_INT, delta-coded)
 *	 44 byte-string length (CC_BLOB), common divisor (CC_INT, 0 = none)
 * Body (decompressed): the NULL bitmap when some row is NULL, then the
 * records, then for CC_BLOB the bytes of the strings (the records are their
 * 4-byte lengths).  The records:
 *	 planes		 per byte of the record: 0 and the byte (constant), or 1 and
 *				 the byte of every row;
 *	 dictionary	 k - 1, 0, the k records, one code byte per row;
 *	 groups		 (CC_FIXED, 0.9) the first byte of every row, then for each
 *				 value of it present, ascending, the planes of bytes 1..w-1
 *				 of that value's rows only (0 and the byte, or 1 and the
 *				 byte of each of those rows, in row order).
 *
 *-------------------------------------------------------------------------
 */
#ifndef NFPG_COLCODEC_INTERNAL_H
#define NFPG_COLCODEC_INTERNAL_H

#include "colcodec.h"

#define CC_MAGIC		"NFC1"

#define CCF_NULLS		0x01	/* a NULL bitmap precedes the records */
#define CCF_DELTA		0x02	/* CC_INT delta-coded */
#define CCF_ALLNULL		0x04	/* every row NULL: no body */
#define CCF_ZSTD		0x08	/* body is one zstd frame */

#define CCL_PLANES		0
#define CCL_DICT		1
#define CCL_GROUPS		2

#define DICT_MAX		256

#define CC_FRAMES_MAGIC	"NFF1"	/* a framed chunk (colcodec_frames.c) */

/*
 * A frame of a framed chunk decoded straight into the chunk's column: its
 * rows go to rows at .. of col's arrays of total rows (CC_INT and
 * CC_FIXED), which the first frame to need them makes.
 */
typedef struct CcInto
{
	CcColumn   *col;
	uint32_t	at;
	uint32_t	total;
} CcInto;

/*
 * cc_decode_rows of a plain chunk (colcodec_decode.c); with into, the rows
 * go to into's column and col gets the chunk's kind, width, tag and row
 * counts only.
 */
extern bool cc_decode_into(const uint8_t *chunk, size_t len, const CcAlloc *mem,
						   const uint32_t *sel, uint32_t nsel, CcColumn *col, const CcInto *into,
						   char *err, size_t errlen);

/* cc_decode_rows of a framed chunk (colcodec_frames.c). */
extern bool cc_frames_decode_rows(const uint8_t *chunk, size_t len, const CcAlloc *mem,
								  const uint32_t *sel, uint32_t nsel, CcColumn *col,
								  char *err, size_t errlen);

static inline void *
cc_alloc(const CcAlloc *mem, size_t size)
{
	return mem->alloc(mem->ctx, size ? size : 1);
}

static inline void
cc_release(const CcAlloc *mem, void *ptr)
{
	if (ptr && mem->release)
		mem->release(mem->ctx, ptr);
}

#endif							/* NFPG_COLCODEC_INTERNAL_H */
