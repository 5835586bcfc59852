/*-------------------------------------------------------------------------
 *
 * copybuf.h
 *		Binary COPY encoding of FlowRecs as rows of nfpg.flows.
 *
 * A CopyBuf holds tuples only; the 19-byte file header and the 2-byte
 * trailer are added by whoever sends or stores the stream, so a batch can
 * be spooled, replayed and concatenated without re-encoding.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NFPG_COPYBUF_H
#define NFPG_COPYBUF_H

#include <stddef.h>
#include <stdint.h>
#include "flowrec.h"

typedef struct CopyBuf
{
	char	   *data;
	size_t		len;
	size_t		cap;
	uint64_t	rows;
} CopyBuf;

/* The COPY FORMAT binary signature, flags and extension length. */
#define COPYBUF_HEADER_LEN	19
#define COPYBUF_TRAILER_LEN 2
extern const char copybuf_header[COPYBUF_HEADER_LEN];
extern const char copybuf_trailer[COPYBUF_TRAILER_LEN];

/* The column list, in encoding order, for "COPY nfpg.flows (...)". */
extern const char copybuf_columns[];

/* Upper bound on the encoded size of one row. */
#define COPYBUF_MAX_ROW		1024

extern void copybuf_init(CopyBuf *b, size_t initial);
extern void copybuf_free(CopyBuf *b);
extern void copybuf_reset(CopyBuf *b);
extern void copybuf_add_flow(CopyBuf *b, const FlowRec *r);

#endif							/* NFPG_COPYBUF_H */
