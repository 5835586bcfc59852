/*-------------------------------------------------------------------------
 *
 * exporter.h
 *		Per-exporter state and the decoding context, shared by the decoders.
 *
 * Internal to the loader's decoders (decode.c, netflow_v5.c for v1/v5/v7,
 * netflow_v9.c, ipfix.c, sflow.c, templates.c, elements.c); the daemon sees
 * only decode.h.
 *
 * An Exporter is one identity: (UDP source address, export version, source
 * id / observation domain / engine tag / sFlow sub-agent).  nfcapd keys its
 * exporters the same way; the version is part of the key because sequence
 * numbers and templates of different protocols never mix.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NFPG_EXPORTER_H
#define NFPG_EXPORTER_H

#include <stdbool.h>
#include "decode.h"

#define EXP_MAX_SAMPLERS	16

typedef struct TemplateCache TemplateCache;

/* A sampler announced by options data: records naming `id` use `interval`. */
typedef struct Sampler
{
	uint32_t	id;
	uint32_t	interval;
} Sampler;

typedef struct Exporter
{
	struct Exporter *next;		/* hash chain */
	ExporterStats stats;		/* packets, flows, failures, counter_samples: deltas */
	bool		seq_valid;
	uint32_t	seq_next;		/* the sequence number the next datagram must carry */
	TemplateCache *templates;	/* v9 and IPFIX */
	uint32_t	generic_sampling;	/* options #34 without a sampler id; 0 = none */
	int			n_samplers;
	Sampler		samplers[EXP_MAX_SAMPLERS];
	bool		has_init_time;	/* IPFIX systemInitTimeMilliseconds from options */
	int64_t		init_time_ms;
} Exporter;

/*
 * What a data record's times are relative to: the export header of the
 * datagram that carried it (kept with data sets that wait for a template).
 */
typedef struct TimeBase
{
	int64_t		export_ms;		/* header export time, Unix ms */
	uint32_t	uptime_ms;		/* v9 header sysUptime */
	bool		has_uptime;
	int64_t		received_ms;
} TimeBase;

/* One decode_datagram() call. */
typedef struct DecodeCtx
{
	ExporterTable *table;
	const DecodeOptions *opts;
	Exporter   *exp;
	const NfAddr *from;
	FlowEmit	emit;
	void	   *arg;
	uint8_t		version;		/* export_version of the records */
	uint64_t	records;		/* data records decoded from this datagram */
} DecodeCtx;

/* decode.c */
extern Exporter *exporter_lookup(DecodeCtx *c, uint32_t source_id, int64_t now_ms);
extern void decode_drop(DecodeCtx *c, DecodeDrop why);
extern void decode_emit(DecodeCtx *c, FlowRec *r);
extern void exporter_set_sampler(Exporter *e, bool has_id, uint32_t id, uint32_t interval);
extern uint32_t exporter_sampling_for(const Exporter *e, bool has_id, uint32_t id);
extern void exporter_table_pending_add(ExporterTable *t, int64_t delta);

/*
 * Memory held for all exporters of a table, bounded so that many (spoofed)
 * exporters cannot exhaust it: templates and waiting data sets.
 */
#define DECODE_MAX_TEMPLATE_BYTES	(128 * 1024 * 1024)
#define DECODE_MAX_PENDING_BYTES	(32 * 1024 * 1024)

typedef enum MemKind
{
	MEM_TEMPLATES,
	MEM_PENDING
} MemKind;

/* Charge (or with bytes < 0 release) memory; false, charging nothing, past the bound. */
extern bool exporter_table_charge(ExporterTable *t, MemKind kind, int64_t bytes);

/* netflow_v5.c: sysUptime-relative stamps to Unix ms, with nfcapd's wrap rules */
extern void netflow_uptime_times(int64_t boot_ms, uint32_t uptime, uint32_t first,
								 uint32_t last, int64_t *first_ms, int64_t *last_ms);

/* The per-protocol decoders: buf holds the whole datagram. */
extern DecodeResult decode_netflow_v1(DecodeCtx *c, const uint8_t *buf, size_t len,
									  int64_t received_ms);
extern DecodeResult decode_netflow_v5(DecodeCtx *c, const uint8_t *buf, size_t len,
									  int64_t received_ms);
extern DecodeResult decode_netflow_v9(DecodeCtx *c, const uint8_t *buf, size_t len,
									  int64_t received_ms);
extern DecodeResult decode_ipfix(DecodeCtx *c, const uint8_t *buf, size_t len,
								 int64_t received_ms);
extern DecodeResult decode_sflow(DecodeCtx *c, const uint8_t *buf, size_t len,
								 int64_t received_ms);

#endif							/* NFPG_EXPORTER_H */
