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
} ExporterStats;

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
