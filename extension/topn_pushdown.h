/*-------------------------------------------------------------------------
 *
 * topn_pushdown.h
 *		What the two scans that compute nfdump's statistics themselves share
 *		(pack_agg.c over a packed partition, heap_agg.c over a row-store
 *		one): which partial aggregates they take, how many groups the
 *		leader will merge, which columns feed which argument, and the
 *		statistic's state as the scan builds it; and which plain count,
 *		min and max a packed partition's scan takes.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NFPG_TOPN_PUSHDOWN_H
#define NFPG_TOPN_PUSHDOWN_H

#include "nodes/extensible.h"
#include "nodes/pathnodes.h"
#include "optimizer/planner.h"

#include "stat.h"

#define TOPN_MAX_ARGS	(STAT_RECORD_ARGS + 2 * STAT_MAX_KEYS)

/* Whether aggfnoid is nfpg.nf_topn, nf_topn_summary or nf_topn_records. */
extern bool topn_is_aggregate(Oid aggfnoid);

/*
 * A partial aggregate a scan can compute: one nf_topn or nf_topn_records
 * over plain columns of the partition, under conditions the scan can
 * evaluate alone (quals: the partition's, security barriers first).
 */
extern bool topn_pushdown_match(PlannerInfo *root, UpperRelationKind stage,
								RelOptInfo *input_rel, RelOptInfo *output_rel, void *extra,
								Aggref **agg, List **quals);
/*
 * count(*), count(column), min(column), max(column) of integer or time
 * columns, the only aggregates of the query, under the same conditions:
 * pack_agg.c computes them in a packed partition's scan.  kinds gets a
 * SimpleAggKind per aggregate, atts its column (1-based; 0 for count(*)).
 */
typedef enum SimpleAggKind
{
	SIMPLE_COUNT_ROWS,
	SIMPLE_COUNT,
	SIMPLE_MIN,
	SIMPLE_MAX
} SimpleAggKind;

extern bool simple_pushdown_match(PlannerInfo *root, UpperRelationKind stage,
								  RelOptInfo *input_rel, RelOptInfo *output_rel, void *extra,
								  List **kinds, List **atts, List **quals);
/* The groups the partial states of rel will hold, at most its rows. */
extern double topn_estimate_groups(PlannerInfo *root, Aggref *ag, RelOptInfo *rel);
/* The cost of merging groups from workers + 1 processes in the leader. */
extern Cost topn_merge_cost(double groups, int workers);
/*
 * Per argument after the specification, the attribute (1-based) it reads,
 * 0 for one the statistic ignores; adds them to *attrs (offset by
 * FirstLowInvalidHeapAttributeNumber, as pull_varattnos) when attrs is set.
 */
extern List *topn_arg_attributes(Aggref *ag, Index rti, Bitmapset **attrs);
extern char *topn_spec_text(Aggref *ag);

/* The statistic as a scan builds it. */
typedef struct TopnInScan
{
	char	   *spec;			/* the specification, for EXPLAIN */
	StatSpec	parsed;
	MemoryContext cxt;			/* the state's */
	StatState  *st;
	int			nargs;			/* STAT_RECORD_ARGS counters, then the keys */
	NullableDatum args[TOPN_MAX_ARGS];	/* one flow, for stat_add_args */
	int			nlive;			/* the arguments read from columns: */
	int			live[TOPN_MAX_ARGS];	/* their numbers */
	int			argatt[TOPN_MAX_ARGS];	/* and their attributes, 0-based */
} TopnInScan;

extern void topn_in_scan_begin(TopnInScan *t, List *argatts, const char *spec, TupleDesc desc,
							   MemoryContext parent);
extern void topn_in_scan_reset(TopnInScan *t);
/* The scan's one row: the partial state, or NULL when no flow was added. */
extern Datum topn_in_scan_result(TopnInScan *t, bool *isnull);

/* heap_agg.c: the custom scan over row-store partitions, and its hook */
extern void heap_agg_init(void);
/* heap_agg_scan.c: its executor */
extern CustomScanMethods heap_agg_scan_methods;

#endif							/* NFPG_TOPN_PUSHDOWN_H */
