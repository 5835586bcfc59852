/*-------------------------------------------------------------------------
 *
 * pack_scan.h
 *		The scan of a packed partition, shared by the row scan (pack_fdw.c)
 *		and the scan that aggregates as it reads (pack_agg.c): the state,
 *		and the steps both take: open, decode the next block that may hold
 *		matches, read the late rows, close.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NFPG_PACK_SCAN_H
#define NFPG_PACK_SCAN_H

#include "access/relscan.h"
#include "foreign/fdwapi.h"
#include "nodes/execnodes.h"
#include "nodes/pathnodes.h"
#include "port/atomics.h"
#include "utils/snapshot.h"

#include "pack.h"

/*
 * The planner's estimate of a packed partition's scan (pack_plan.c's
 * GetForeignRelSize, in the RelOptInfo's fdw_private): the work both scans
 * are costed by.
 */
typedef struct PackEstimate
{
	double		blocks;			/* in the segments */
	double		decoded;		/* flows decoded: in the blocks read, and late */
	double		built;			/* of those, the rows the row pre-filter lets through */
} PackEstimate;

/*
 * The ctid of a packed row is its place in the storage: block (segment
 * seg_no << 10 | block number in it, a segment has at most 1,024 blocks)
 * with the high bit set, so that it is told from a late row's heap ctid;
 * offset, its row in the block (0 to 65,535).  nfdump() orders records by
 * received, then ctid: in a packed hour that is the order pack_build()
 * wrote, the same from run to run.
 */
#define PACK_TID_BLOCK(seg_no, block) \
	((BlockNumber) (0x80000000u | ((uint32) (seg_no) << 10) | (uint32) (block)))

typedef struct PackShared
{
	pg_atomic_uint32 next_unit;
	pg_atomic_uint64 segs_skipped;
	pg_atomic_uint64 blocks_read;
	pg_atomic_uint64 blocks_skipped;
	pg_atomic_uint64 rows_filtered;
} PackShared;

typedef struct PackScan
{
	Relation	ftrel;			/* the packed partition */
	bool		own_ftrel;		/* opened here (an aggregate in the scan) */
	PackOptions options;
	const char *segname;		/* P_seg's name, for EXPLAIN */
	Relation	segrel;			/* NULL until the first read (pack_scan_open) */
	Relation	laterel;
	char	   *where;			/* the partition's name, for errors */
	PackLayout	layout;
	int			natts;
	bool	   *need;			/* per attribute (0-based) */
	int		   *order;			/* attributes to decode, first_seen first */
	int			norder;
	int			nphase1;		/* order[0..nphase1): what the conditions read */
	AttrNumber *segatt;			/* per attribute: its column in P_seg */
	AttrNumber	a_no,
				a_rows,
				a_fmin,
				a_fmax,
				a_summary;
	PackSkip   *skip;
	bool		skip_exact;		/* the pre-filter keeps exactly the rows the quals accept */
	uint64	   *hashes;			/* the Bloom hashes of its address and port leaves */
	int			nhashes;
	HeapTuple  *segs;
	int			nsegs;
	int			next_local;
	PackShared *shared;
	/* the segment being read */
	HeapTuple	seg;
	int32		seg_no;
	PackBlockInfo *blocks;
	int			nblocks;
	int			block;
	PackFetch  *fetch;			/* the segment's column chunks (pack_fetch.c) */
	/* the block being returned: its selected rows */
	CcColumn   *cc;				/* per attribute: order[0..nphase1) decoded whole */
	uint32	   *sel;			/* the rows of the block that may pass the quals */
	Datum	  **vals;			/* per attribute: the selected rows' values, */
	bool	  **nulls;			/* in the arena or the codec's arrays (decode_block) */
	bool	   *addr_cols;		/* per attribute: as address slots (pack_agg.c), or NULL */
	uint8	  **addrs;			/* per attribute: its rows' slots instead of vals */
	bool	   *no_nulls;		/* all false */
	const uint32 *rowsel;		/* the block's rows s->vals holds, or NULL: all */
	BlockNumber tid_block;		/* the block's rows' ctid block: PACK_TID_BLOCK */
	int			rows;
	int			row;
	bool		unread_null;	/* the slot's columns not in order[] are NULL */
	/* after the segments */
	TableScanDesc latescan;
	bool		done;
	/* counts for EXPLAIN ANALYZE when not parallel */
	uint64		segs_skipped;
	uint64		blocks_read;
	uint64		blocks_skipped;
	uint64		rows_filtered;
	Snapshot	snapshot;
	MemoryContext scancxt;		/* the query's: for what lives as long as the scan */
	MemoryContext segcxt;
	MemoryContext blockcxt;
	PackArena  *arena;			/* what is read and decoded for the block; NULL after the last */
	/* aggregation in the scan (pack_agg.c) */
	struct PackAgg *agg;
} PackScan;

/*
 * Open the scan of partition ft reading attributes need (an IntList of
 * attnums, 0 for all) under the conditions quals; sets node->fdw_state.
 */
extern PackScan *pack_scan_begin(ForeignScanState *node, Relation ft, List *need,
								 List *quals, int eflags);
/* Open its storage and read its segment rows: done by the first read. */
extern void pack_scan_open(PackScan *s);
/* Decode the next block that may hold matches into s->vals; false at the end. */
extern bool pack_scan_next_block(PackScan *s);
/* The next late row (after the last block), or NULL. */
extern HeapTuple pack_scan_next_late(PackScan *s);
extern void pack_scan_reset(PackScan *s);

/* The planning callbacks (pack_plan.c) */
extern void pack_fdw_plan_routines(FdwRoutine *r);

/* Aggregation in the scan (pack_agg.c) */
extern void pack_agg_upper_paths(PlannerInfo *root, UpperRelationKind stage,
								 RelOptInfo *input_rel, RelOptInfo *output_rel, void *extra);
extern ForeignScan *pack_agg_plan(PlannerInfo *root, RelOptInfo *rel, ForeignPath *best_path,
								  List *tlist, Plan *outer_plan);
extern void pack_agg_begin(ForeignScanState *node, int eflags);
extern TupleTableSlot *pack_agg_iterate(ForeignScanState *node);
extern void pack_agg_rescan(PackScan *s);
extern void pack_agg_explain(ForeignScanState *node, struct ExplainState *es);

#endif							/* NFPG_PACK_SCAN_H */
