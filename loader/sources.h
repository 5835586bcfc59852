/*-------------------------------------------------------------------------
 *
 * sources.h
 *		Per-source-address counters of what nfpgd refused or lost
 *		(sources.c), reported to nfpg.collector_counters.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NFPG_SOURCES_H
#define NFPG_SOURCES_H

#include <pthread.h>
#include <stdint.h>
#include "flowrec.h"

#define SOURCES_MAX		256		/* addresses counted one by one */
#define SOURCES_SLOTS	512		/* hash slots, power of two, > SOURCES_MAX */

/* In the order nfpg.collector_report_source() takes them. */
typedef enum SourceCounter
{
	SRC_DENIED = 0,				/* datagrams from an address outside allow_exporters */
	SRC_REJECTED,				/* datagrams the decoders refused */
	SRC_QUEUE_DROPS,			/* datagrams dropped: the datagram queue was full */
	SRC_OUT_OF_WINDOW,			/* flows outside the first_seen window, quarantined */
	SRC_NCOUNTERS
} SourceCounter;

typedef struct SourceStats
{
	NfAddr		addr;
	uint64_t	count[SRC_NCOUNTERS];	/* since start */
} SourceStats;

typedef struct SourceTable
{
	pthread_mutex_t lock;
	int			n;
	int16_t		slot[SOURCES_SLOTS];	/* index into items, -1 = free */
	SourceStats items[SOURCES_MAX];
} SourceTable;

extern void sources_init(SourceTable *t);
extern void sources_add(SourceTable *t, const NfAddr *a, SourceCounter c, uint64_t n);
extern int	sources_snapshot(SourceTable *t, SourceStats *out, int max);

#endif							/* NFPG_SOURCES_H */
