/*-------------------------------------------------------------------------
 *
 * batch.h
 *		A batch: the unit nfpgd COPYs, spools and replays.
 *
 * A batch is a run of encoded rows plus an id that is unique across
 * restarts and loader instances ("instance/boot-sequence").  The id is
 * recorded in nfpg.loader_batches in the same transaction as the COPY, so
 * a batch is loaded exactly once however often it is retried.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NFPG_BATCH_H
#define NFPG_BATCH_H

#include <stdint.h>
#include "copybuf.h"

#define BATCH_ID_LEN		128
#define BATCH_KEY_LEN		32
#define BATCH_MAX_HOURS		8
#define MS_PER_HOUR			INT64_C(3600000)

typedef struct Batch
{
	char		id[BATCH_ID_LEN];	/* instance/key */
	char		key[BATCH_KEY_LEN]; /* boot-sequence: sorts in creation order */
	CopyBuf		rows;
	int64_t		min_first_ms;
	int64_t		max_first_ms;
	int64_t		hours[BATCH_MAX_HOURS]; /* distinct hour starts of first_seen */
	int			n_hours;
	int64_t		created_ms;		/* monotonic clock */
} Batch;

/* The start of the UTC hour holding ms (epoch milliseconds, negative too). */
extern int64_t batch_floor_hour(int64_t ms);
extern Batch *batch_new(const char *instance, int64_t boot_ms, uint64_t seq, size_t cap);
extern Batch *batch_new_with_id(const char *id, const char *key);
extern void batch_free(Batch *b);
extern void batch_add(Batch *b, const FlowRec *r);
extern void batch_note_time(Batch *b, int64_t first_ms);

#endif							/* NFPG_BATCH_H */
