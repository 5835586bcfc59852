/*-------------------------------------------------------------------------
 *
 * pack_plan.c
 *		Planning a scan of a packed partition (the nfpg_packed wrapper of
 *		pack_fdw.c): its size, its cost, its serial and parallel paths, and
 *		the plan, which names the columns the scan must decode.
 *
 * A packed scan's cost is the flows it decodes, not the flows the hour
 * holds: the block summaries (pack_skip.c) rule out blocks before they are
 * read.  The estimate below says how many, so that a lookup over a packed
 * day is costed as the lookup it is (and not compiled with JIT, nor handed
 * to workers that would spend more opening partitions than scanning them).
 * The statistics computed inside the scan plan themselves in pack_agg.c,
 * from the same estimate.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/table.h"
#include "foreign/fdwapi.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/paths.h"
#include "optimizer/planmain.h"
#include "optimizer/restrictinfo.h"
#include "utils/rel.h"

#include "pack_scan.h"

/*
 * The planner's estimate of a scan: the flows it decodes.  A block is read
 * when its summary may match (pack_skip.c), so the conditions the summaries
 * decide shrink the work, not only the rows returned: first_seen ranges by
 * their selectivity (a block spans one 5-minute slot), and addresses, ports
 * and protocols by the chance that a block of BLOCK_ROWS holds a match
 * (Poisson, matches spread over the hour), plus the Bloom filter's false
 * positives.  Without this the planner costs `host X` over a packed day as
 * a scan of every flow and compiles it with JIT, 0.2 s of a 0.7 s query.
 * Of the flows decoded, the row pre-filter (pack_rowfilter.c) builds only
 * those that pass the conditions it holds whole: the others cost the
 * decoding of the columns the conditions read, not a row.
 * In an hour packed in port runs (option order), the flows of a port are
 * not spread: they fill a run in each 5-minute slot, so a port condition
 * reads the blocks its matches fill plus about one a slot, where Poisson
 * would say every block holds one (`dst port 587` over a day: 13 blocks an
 * hour of 122, and an estimate of all of them compiled the query with JIT).
 * BLOCK_ROWS is pack_partition's default, SLOTS an hour's (the default
 * partition width); the estimate is coarse anyway.
 */
#define BLOCK_ROWS	8192
#define SLOTS		(USECS_PER_HOUR / PACK_SLOT_USEC)

/*
 * A parallel worker is a backend of its own: for each packed partition it
 * joins it opens four relations (the foreign table, the segment table, its
 * TOAST table and index, the late table) and faults in their pages, about
 * 5 ms a partition (performance.md, lookups over a packed day), which
 * parallel_setup_cost, counted once a plan, does not cover.  Without it a
 * host lookup over a day ran in workers in 207 ms against 113 ms serial.
 * Counted as half of parallel_setup_cost (500 by default), so that it
 * follows that setting.
 */
#define WORKER_OPEN_COST	(parallel_setup_cost * 0.5)
#define BLOOM_FALSE_POSITIVES	0.001	/* colcodec.h: 16 bits a key, 8 probes (0.5: 0.025) */

static PackEstimate *
estimate_decoded(PlannerInfo *root, RelOptInfo *baserel, Relation ft, double rows, double late_rows,
				 bool port_runs)
{
	PackEstimate *e = palloc(sizeof(PackEstimate));
	PackLayout	layout;
	List	   *time_quals = NIL,
			   *port_quals = NIL,
			   *block_quals = NIL,
			   *row_quals = NIL;
	ListCell   *lc;
	double		share = 1.0;

	pack_layout_init(&layout, RelationGetDescr(ft));
	foreach(lc, baserel->baserestrictinfo)
	{
		RestrictInfo *ri = lfirst(lc);
		bool		exact;
		PackSkip   *skip = pack_skip_compile(list_make1(ri->clause), &layout, NULL, &exact);

		if (exact)
			row_quals = lappend(row_quals, ri);
		switch (pack_skip_decides(skip))
		{
			case PACK_DECIDE_TIME:
				time_quals = lappend(time_quals, ri);
				break;
			case PACK_DECIDE_PORTS:
				if (port_runs)
				{
					port_quals = lappend(port_quals, ri);
					break;
				}
				/* FALLTHROUGH */
			case PACK_DECIDE_BLOCK:
				block_quals = lappend(block_quals, ri);
				break;
			case PACK_DECIDE_ROWS:
				break;
		}
	}
	e->blocks = Max(1.0, ceil(rows / BLOCK_ROWS));
	if (time_quals)
		share = Max(clauselist_selectivity(root, time_quals, baserel->relid, JOIN_INNER, NULL),
					1.0 / e->blocks);
	if (block_quals)
	{
		double		per_block = rows / e->blocks *
			clauselist_selectivity(root, block_quals, baserel->relid, JOIN_INNER, NULL);

		share *= Min(1.0, 1.0 - exp(-per_block) + BLOOM_FALSE_POSITIVES);
	}
	if (port_quals)
	{
		double		slots = Min(SLOTS, e->blocks);
		double		matches = rows * clauselist_selectivity(root, port_quals, baserel->relid, JOIN_INNER, NULL);

		share *= Min(1.0, (Min(slots, matches) + matches / BLOCK_ROWS) / e->blocks + BLOOM_FALSE_POSITIVES);
	}
	e->decoded = rows * share + late_rows;
	e->built = rows * share *
		(row_quals ? clauselist_selectivity(root, row_quals, baserel->relid, JOIN_INNER, NULL) : 1.0) +
		late_rows;
	return e;
}

static void
packGetForeignRelSize(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid)
{
	PackOptions o;
	Relation	late;
	Relation	ft = table_open(foreigntableid, NoLock);
	double		late_rows;

	pack_get_options(foreigntableid, &o);
	late = pack_open_storage(ft, o.late, AccessShareLock);
	late_rows = late->rd_rel->reltuples > 0 ? late->rd_rel->reltuples : 0;
	table_close(late, AccessShareLock);
	baserel->tuples = Max(o.rows + late_rows, 1);
	baserel->rows = clamp_row_est(baserel->tuples *
								  clauselist_selectivity(root, baserel->baserestrictinfo, 0, JOIN_INNER, NULL));
	baserel->fdw_private = estimate_decoded(root, baserel, ft, o.rows, late_rows, o.port_runs);
	table_close(ft, NoLock);
}

static void
packGetForeignPaths(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid)
{
	/*
	 * Testing a block's summary costs about an operator; decoding the
	 * columns the pre-filter reads and testing them about as much per flow
	 * as a heap tuple's deform (measured: 60 to 90 ns); building a row as
	 * much again, and every qual is evaluated on the rows built.
	 */
	PackEstimate *e = baserel->fdw_private;
	Cost		run = e->blocks * cpu_operator_cost +
		e->decoded * (cpu_tuple_cost * 0.5) +
		e->built * (cpu_tuple_cost * 0.5) +
		e->built * list_length(baserel->baserestrictinfo) * cpu_operator_cost;
	ForeignPath *path;

	path = create_foreignscan_path(root, baserel, NULL, baserel->rows, 10, 10 + run,
								   NIL, NULL, NULL, NIL);

	/*
	 * A scan that costs less than a worker's opening of the partition is
	 * not handed whole to a worker (as a Parallel Append would): in a
	 * parallel plan it takes its partial path below, which counts the
	 * opening, and a plan of such scans stays serial.
	 */
	if (run < WORKER_OPEN_COST)
		path->path.parallel_safe = false;
	add_path(baserel, (Path *) path);
	if (baserel->consider_parallel && max_parallel_workers_per_gather > 0)
	{
		/* one worker per segment at most; a segment is ~131k flows */
		int			workers = Min(max_parallel_workers_per_gather,
								  Max(1, (int) (baserel->tuples / 131072)));
		double		divisor = workers + Max(0.0, 1.0 - 0.3 * workers);

		path = create_foreignscan_path(root, baserel, NULL, clamp_row_est(baserel->rows / divisor),
									   10 + WORKER_OPEN_COST, 10 + WORKER_OPEN_COST + run / divisor,
									   NIL, NULL, NULL, NIL);
		path->path.parallel_aware = true;
		path->path.parallel_safe = true;
		path->path.parallel_workers = workers;
		add_partial_path(baserel, (Path *) path);
	}
}

static ForeignScan *
packGetForeignPlan(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid,
				   ForeignPath *best_path, List *tlist, List *scan_clauses, Plan *outer_plan)
{
	Bitmapset  *attrs = NULL;
	List	   *need = NIL;
	ListCell   *lc;
	int			x = -1;

	if (IS_UPPER_REL(baserel))
		return pack_agg_plan(root, baserel, best_path, tlist, outer_plan);
	pull_varattnos((Node *) baserel->reltarget->exprs, baserel->relid, &attrs);
	foreach(lc, scan_clauses)
		pull_varattnos((Node *) ((RestrictInfo *) lfirst(lc))->clause, baserel->relid, &attrs);
	while ((x = bms_next_member(attrs, x)) >= 0)
	{
		int			attno = x + FirstLowInvalidHeapAttributeNumber;

		if (attno == 0)
		{
			need = list_make1_int(0);	/* the whole row */
			break;
		}
		if (attno > 0)
			need = lappend_int(need, attno);
	}
	scan_clauses = extract_actual_clauses(scan_clauses, false);
	return make_foreignscan(tlist, scan_clauses, baserel->relid, NIL,
							list_make1(need), NIL, NIL, outer_plan);
}

static bool
packIsForeignScanParallelSafe(PlannerInfo *root, RelOptInfo *rel, RangeTblEntry *rte)
{
	return true;
}

void
pack_fdw_plan_routines(FdwRoutine *r)
{
	r->GetForeignRelSize = packGetForeignRelSize;
	r->GetForeignPaths = packGetForeignPaths;
	r->GetForeignPlan = packGetForeignPlan;
	r->IsForeignScanParallelSafe = packIsForeignScanParallelSafe;
}
