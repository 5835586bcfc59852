/*-------------------------------------------------------------------------
 *
 * decode.h
 *		Export datagrams in, flow records out.
 *
 * decode_datagram() is the one entry point the daemon calls; it dispatches
 * on the datagram's version field to the per-protocol decoders
 * (netflow_v5.c, netflow_v9.c, ipfix.c, sflow.c).  Everything the decoders
 * remember between datagrams -- templates, sequence numbers, sampling
 * options, counters -- lives in an ExporterTable, keyed by exporter
 * identity (address, source id / observation domain).  No I/O happens here:
 * the decoders are pure functions of (table, bytes), so they are unit-tested
 * and fuzzed directly.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NFPG_DECODE_H
#define NFPG_DECODE_H

#include <stddef.h>
#include "flowrec.h"

typedef enum DecodeResult
{
	DECODE_OK = 0,
	DECODE_TRUNCATED,			/* shorter than its headers / lengths claim */
	DECODE_MALFORMED,			/* impossible lengths, zero-length sets, ... */
	DECODE_UNKNOWN_VERSION
} DecodeResult;

/* Receives each decoded record; the record is only valid during the call. */
typedef void (*FlowEmit) (void *arg, const FlowRec *rec);

typedef struct ExporterTable ExporterTable;

typedef struct DecodeOptions
{
	int			upscale;		/* multiply packets/bytes by the sampling interval */
	int			default_sampling;	/* nfcapd -s N: used when the exporter says nothing; <0 overrides */
} DecodeOptions;

/* Per-exporter counters, as reported to nfpg.exporters. */
typedef struct ExporterStats
{
	NfAddr		addr;
	uint32_t	source_id;
	uint8_t		version;
	int64_t		first_seen_ms;
	int64_t		last_seen_ms;
	uint64_t	packets;		/* datagrams */
	uint64_t	flows;
	uint64_t	sequence_failures;
	uint32_t	templates;
	uint32_t	sampling;		/* 0: unsampled */
	uint64_t	counter_samples;	/* sFlow counter samples (delta; not stored as flows) */
} ExporterStats;

/*
 * Why input was dropped, finer than DecodeResult: a datagram may lose one
 * set and keep the others.  Counted since the table was created.
 */
typedef enum DecodeDrop
{
	DROP_SHORT_HEADER = 0,		/* datagram shorter than its version's header */
	DROP_TRUNCATED,				/* records or sets running past the datagram's end */
	DROP_BAD_LENGTH,			/* impossible length: set < 4 bytes, header length < header */
	DROP_BAD_TEMPLATE,			/* zero or huge field length, too many fields, bad id */
	DROP_BAD_RECORD,			/* variable-length field running past its set */
	DROP_NO_TEMPLATE,			/* data set evicted from the pending buffer, template never came */
	DROP_UNKNOWN_VERSION,
	DROP_TOO_MANY_EXPORTERS,	/* exporter table full (DECODE_MAX_EXPORTERS) */
	DROP_TOO_MANY_TEMPLATES,	/* per-exporter template cache full */
	DROP_BAD_SAMPLE,			/* sFlow sample or flow record with impossible lengths */
	DROP_NREASONS
} DecodeDrop;

#define DECODE_MAX_EXPORTERS	8192

/* Events dropped for `why` since the table was created. */
extern uint64_t exporter_table_dropped(const ExporterTable *t, DecodeDrop why);
extern const char *decode_drop_name(DecodeDrop why);

/* Data sets waiting for their template, over all exporters (for statistics). */
extern uint64_t exporter_table_pending(const ExporterTable *t);

extern ExporterTable *exporter_table_new(const DecodeOptions *opts);
extern void exporter_table_free(ExporterTable *t);

extern DecodeResult decode_datagram(ExporterTable *t, const uint8_t *buf, size_t len,
									const NfAddr *from, int64_t received_ms,
									FlowEmit emit, void *arg);

/*
 * Calls fn for every exporter with the counts accumulated since the previous
 * call (packets, flows, sequence_failures are deltas; the rest is current),
 * then zeroes the deltas.
 */
extern void exporter_table_drain(ExporterTable *t,
								 void (*fn) (void *arg, const ExporterStats *s),
								 void *arg);

/* Datagrams rejected as a whole, by reason, since the table was created. */
extern uint64_t exporter_table_rejected(const ExporterTable *t, DecodeResult why);

#endif							/* NFPG_DECODE_H */
