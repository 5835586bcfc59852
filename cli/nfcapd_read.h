/*-------------------------------------------------------------------------
 *
 * nfcapd_read.h
 *		Reading nfcapd files (nfdump 1.6 layout 1 and 1.7 layout 2) into
 *		FlowRecs, without PostgreSQL.
 *
 * The reader works on a file held in memory (nfpg-import maps it; the
 * fuzzer hands it a buffer), so every offset it follows is checked against
 * one length and nothing is read twice.  A file is a header and a run of
 * blocks; every block's payload is compressed on its own (nfcapd_codec.c),
 * then holds records.  Records are of two kinds: state (exporters, 1.6
 * extension maps, samplers), which applies to the records after it in the
 * stream, and flows, which the reader turns into FlowRecs (nfcapd_v1.c for
 * 1.6 common records, nfcapd_v3.c for 1.7 V3 records), with the exporter
 * address, protocol version and source id of their exporter record.
 *
 * Errors come at two levels.  A file the reader cannot start on (not an
 * nfcapd file, unknown compression, header cut short) fails nfcapd_open.
 * A bad block (cut short, fails to decompress, a record runs past its end)
 * is reported by nfcapd_next returning NFCAPD_BLOCK_ERROR with a message
 * naming the file, block number and offset; calling nfcapd_next again goes
 * on with the next block when the block boundaries can still be trusted,
 * or ends the file when they cannot.  Records the reader cannot place (a
 * 1.6 record whose extension map is unknown) are skipped and counted.
 *
 * Multi-byte fields are in the writer's byte order; nfdump never writes
 * anything else than x86/ARM little-endian files, and a file whose magic
 * reads byte-swapped is refused as "written on a big-endian host".
 *
 *-------------------------------------------------------------------------
 */
#ifndef NFPG_NFCAPD_READ_H
#define NFPG_NFCAPD_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flowrec.h"

/* Compression methods, as layout 2 numbers them. */
enum
{
	NFCAPD_NONE = 0, NFCAPD_LZO = 1, NFCAPD_BZ2 = 2, NFCAPD_LZ4 = 3, NFCAPD_ZSTD = 4
};

typedef enum NfcapdStatus
{
	NFCAPD_FLOW,				/* *out holds a flow */
	NFCAPD_END,					/* no more flows */
	NFCAPD_BLOCK_ERROR			/* a bad block; error says which; call again */
} NfcapdStatus;

/* The stat record: totals as the writer counted them. */
typedef struct NfcapdStat
{
	uint64_t	flows;
	uint64_t	bytes;
	uint64_t	packets;
	int64_t		first_ms;
	int64_t		last_ms;
	uint64_t	sequence_failures;
} NfcapdStat;

/* An exporter record (type 7) as the file's flows refer to it. */
typedef struct NfcapdExporter
{
	uint16_t	sysid;			/* the file's own number for it */
	uint16_t	version;		/* NetFlow version: 5, 9, 10, ... */
	uint32_t	id;				/* v9 source id / IPFIX domain / engine */
	uint32_t	sampling;		/* from a sampler record, 0 if none */
	NfAddr		addr;
	/* from the exporter stat record (type 8), if any */
	uint64_t	packets;
	uint64_t	flows;
	uint64_t	sequence_failures;
} NfcapdExporter;

#define NFCAPD_MAX_EXPORTERS	1024
#define NFCAPD_MAX_MAPS			4096
#define NFCAPD_MAX_MAP_EXT		64
#define NFCAPD_ERROR_LEN		512

/* A 1.6 extension map: the optional extensions of a record, in order. */
typedef struct NfcapdExtMap
{
	uint16_t	id;
	uint16_t	n;
	uint8_t		ext[NFCAPD_MAX_MAP_EXT];
} NfcapdExtMap;

typedef struct NfcapdReader
{
	/* the file */
	const char *name;
	const uint8_t *data;
	size_t		len;
	int			layout;			/* 1 or 2 */
	int			compression;	/* NFCAPD_* */
	uint32_t	num_blocks;		/* data blocks the header announces */
	bool		closed;			/* the writer finished the file */
	bool		appendix_lost;	/* layout 2: cut before its appendix */
	char		ident[128];
	NfcapdStat	stat;
	bool		has_stat;

	/* where we are */
	size_t		pos;			/* next block header */
	size_t		end;			/* where data blocks end */
	uint32_t	block;			/* blocks started so far */
	bool		stop;			/* block boundaries lost: no more blocks */
	const uint8_t *rec;			/* next record in the current block */
	const uint8_t *rec_end;
	uint32_t	rec_left;
	size_t		block_off;		/* file offset of the current block */

	/* state carried from record to record */
	NfcapdExporter exporters[NFCAPD_MAX_EXPORTERS];
	int			n_exporters;
	int			last_exporter;	/* index of the last lookup's hit */
	NfcapdExtMap *maps;			/* NFCAPD_MAX_MAPS of them */
	int			n_maps;
	int			last_map;

	/* counts */
	uint64_t	flows;
	uint64_t	skipped;		/* records that could not be placed */
	uint64_t	bad_blocks;
	uint64_t	no_exporter;	/* flows whose exporter record was missing */

	/* decompression output, reused from block to block and file to file */
	uint8_t    *buf;
	size_t		buf_cap;

	char		error[NFCAPD_ERROR_LEN];
	char		reason[256];	/* the record at hand's problem */
	char		warning[NFCAPD_ERROR_LEN];	/* first skipped record's reason */
} NfcapdReader;

/* One reader serves any number of files in turn; init once, free once. */
extern bool nfcapd_reader_init(NfcapdReader *r);
extern void nfcapd_reader_free(NfcapdReader *r);

/* Start on a file held in data[0..len); false with r->error if it is not one. */
extern bool nfcapd_open(NfcapdReader *r, const uint8_t *data, size_t len, const char *name);

/* The next flow; see the file header for the error protocol. */
extern NfcapdStatus nfcapd_next(NfcapdReader *r, FlowRec *out);

/* "none", "LZO", ... */
extern const char *nfcapd_compression_name(int method);

#endif							/* NFPG_NFCAPD_READ_H */
