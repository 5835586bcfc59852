/*-------------------------------------------------------------------------
 *
 * copybuf.h
 *		Binary COPY encoding of FlowRecs as rows of nfpg.flows.
 *
 * A CopyBuf holds tuples only; the 19-byte file header and the 2-byte
 * trailer are added by whoever sends or stores the stream, so a batch can
 * be spooled and replayed without re-encoding.
 *
 * A CopyBuf sends only the columns some row of it has a value for: the
 * COPY's column list is built from CopyBuf.cols.  Columns no exporter
 * fills (MACs, MPLS, VLANs, ... for most) then cost neither bytes on the
 * wire nor a field parse in the backend (a fifth of the bytes for a
 * typical NetFlow v9 template).
 *
 *-------------------------------------------------------------------------
 */
#ifndef NFPG_COPYBUF_H
#define NFPG_COPYBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "flowrec.h"

typedef struct CopyBuf
{
	char	   *data;
	size_t		len;
	size_t		cap;
	uint64_t	rows;
	uint64_t	cols;			/* the columns each row has, a bit per column */
} CopyBuf;

/* The COPY FORMAT binary signature, flags and extension length. */
#define COPYBUF_HEADER_LEN	19
#define COPYBUF_TRAILER_LEN 2
extern const char copybuf_header[COPYBUF_HEADER_LEN];
extern const char copybuf_trailer[COPYBUF_TRAILER_LEN];

/* Every column of nfpg.flows the loader fills. */
extern const uint64_t copybuf_all_columns;

/* Room for copybuf_column_list() of every column. */
#define COPYBUF_COLUMN_LIST_LEN	1024

/* Upper bound on the encoded size of one row. */
#define COPYBUF_MAX_ROW		1024

extern void copybuf_init(CopyBuf *b, size_t initial);
extern void copybuf_free(CopyBuf *b);
extern void copybuf_reset(CopyBuf *b);
extern void copybuf_add_flow(CopyBuf *b, const FlowRec *r);
extern bool copybuf_column_list(uint64_t cols, char *out, size_t len);
extern bool copybuf_parse_columns(const char *list, uint64_t *cols);

#endif							/* NFPG_COPYBUF_H */
