/*-------------------------------------------------------------------------
 *
 * pack.h
 *		Packed (compressed, column-wise) flows partitions: what the files
 *		pack_columns.c, pack_summary.c, pack_skip.c, pack_rowfilter.c,
 *		pack_build.c, pack_storage.c, pack_fetch.c, pack_fdw.c, pack_plan.c
 *		and pack_write.c share.
 *		The design is described at the top of pack_fdw.c.
 *
 * Storage of one packed partition P (created by nfpg.pack_partition(),
 * 66_pack.sql), all ordinary heap tables:
 *	 P          the foreign table, a partition of nfpg.flows (FDW nfpg_packed)
 *	 P_seg      one row per segment: seg_no, seg_rows, seg_first_min,
 *				seg_first_max, seg_summary (per-block summaries), then one
 *				bytea per flows column, named as the column
 *	 P_late     flows that arrived for P after it was packed (LIKE nfpg.flows)
 * A column value of P_seg is the column's chunks for the segment's blocks:
 *	 u32 nblocks, u32 chunk length x nblocks, the chunks (colcodec.h).
 *
 *-------------------------------------------------------------------------
 */
#ifndef NFPG_PACK_H
#define NFPG_PACK_H

#include "access/htup.h"
#include "access/tupdesc.h"
#include "fmgr.h"
#include "lib/hyperloglog.h"
#include "storage/lockdefs.h"
#include "utils/relcache.h"
#include "nodes/params.h"
#include "nodes/pg_list.h"

#include "colcodec.h"

/* metadata columns of P_seg */
#define PACK_SEG_NO			"seg_no"
#define PACK_SEG_ROWS		"seg_rows"
#define PACK_SEG_FIRST_MIN	"seg_first_min"
#define PACK_SEG_FIRST_MAX	"seg_first_max"
#define PACK_SEG_SUMMARY	"seg_summary"

/* How one flows column is turned into a codec column. */
typedef enum PackHow
{
	PACK_INT64,					/* int8, timestamptz */
	PACK_INT32,
	PACK_INT16,
	PACK_TIME_SORTED,			/* first_seen: ascending within a run, delta-coded */
	PACK_TIME_REL,				/* last_seen, received: minus first_seen */
	PACK_INET,					/* 17-byte record: family/bits code, 16 address bytes */
	PACK_MAC,					/* 6-byte record */
	PACK_BLOB					/* anything else: the type's binary send form */
} PackHow;

#define PACK_INET_WIDTH	17

/* chunk tags (CcColumn.tag) */
#define PACK_TAG_ABSOLUTE	1		/* a PACK_TIME_REL column stored as its values */

typedef struct PackCol
{
	int			attnum;			/* in the flows tuple descriptor (1-based) */
	const char *name;
	Oid			typid;
	PackHow		how;
	FmgrInfo	send;			/* PACK_BLOB */
	FmgrInfo	recv;
	Oid			ioparam;
	int32		typmod;
} PackCol;

/* The flows layout: one PackCol per live attribute, plus where first_seen is. */
typedef struct PackLayout
{
	int			ncols;
	PackCol    *cols;			/* indexed by attnum - 1; dropped ones have name NULL */
	int			first_seen;		/* attnum, or 0 */
	int			proto;
	int			src_addr,
				dst_addr,
				src_port,
				dst_port;
} PackLayout;

extern void pack_layout_init(PackLayout *layout, TupleDesc desc);
extern const CcAlloc *pack_palloc(void);

/*
 * Encode attribute col of the n rows values[i * natts + col->attnum - 1]
 * (first_seen values for PACK_TIME_REL in the same rows) into out.
 */
extern void pack_encode_column(const PackLayout *layout, const PackCol *col,
							   Datum *values, bool *nulls, int natts, int n,
							   int level, CcBuf *out);

/*
 * Decode one chunk of col (expect_rows rows) in two steps: the chunk's
 * codec arrays (every row, or when sel is given only the rows sel[0..nsel),
 * ascending, into arrays of nsel), then the values of its rows sel[0..n)
 * (rows 0..n when sel is NULL).  first holds the decoded first_seen of the
 * same rows for PACK_TIME_REL.  The codec's arrays and the values that
 * need memory (inet, macaddr) come from mem and are not freed: a scan gives
 * its block arena.  where names the partition in the error about a damaged
 * chunk.
 */
extern void pack_decode_chunk(const PackCol *col, const uint8 *chunk, size_t len, int expect_rows,
							  const uint32 *sel, int nsel, const CcAlloc *mem, CcColumn *cc,
							  const char *where);
extern void pack_column_values(const PackCol *col, const CcColumn *cc, const uint32 *sel, int n,
							   const Datum *first, const CcAlloc *mem,
							   Datum *values, bool *nulls, const char *where);

/* An inet column's decoded rows as statistic key slots (STAT_ADDR_WIDTH bytes each). */
extern void pack_address_slots(const PackCol *col, const CcColumn *cc, int n, uint8 *slots,
							   const char *where);

/*
 * A scan's block arena (pack_columns.c): an allocator for what is read and
 * decoded for one block, all of it released at once by pack_arena_reset().
 * pack_arena_take() reuses an arena a finished scan of the same query (its
 * es_query_cxt) gave back with pack_arena_give(), or makes one.
 */
typedef struct PackArena PackArena;

extern PackArena *pack_arena_take(MemoryContext query_cxt);
extern void pack_arena_give(PackArena *a);
extern const CcAlloc *pack_arena_alloc(PackArena *a);
extern void *pack_arena_palloc(PackArena *a, Size size);
extern void pack_arena_reset(PackArena *a);

/* The 17-byte record of an inet datum (the Bloom key of an address). */
extern void pack_inet_record(Datum d, uint8 *rec);

/* The options of a packed foreign table, its storage tables (pack_storage.c). */
typedef struct PackOptions
{
	char	   *segments;		/* qualified name of P_seg */
	char	   *late;			/* qualified name of P_late */
	double		rows;			/* flows in the segments when packed */
	bool		port_runs;		/* order 'slot_port' (0.10): pack_build.c's order */
} PackOptions;

/*
 * The order pack_build() writes rows in since 0.10 (option order
 * 'slot_port'): by 5-minute slot, then by service port (the lower of the
 * two ports), then first_seen.  Hours packed before are in first_seen order.
 */
#define PACK_ORDER_SLOT_PORT	"slot_port"
#define PACK_SLOT_USEC			INT64CONST(300000000)	/* 5 minutes */

/*
 * Since 0.11 a block's column is stored in frames of this many rows
 * (colcodec_frames.c): a scan that wants a run of a port's flows fetches
 * and decompresses the frames that hold them, not the whole block.
 */
#define PACK_FRAME_ROWS			2048

/* Port runs (pack_order.c): rows in first_seen order in, blocks out. */
typedef struct PackOrder PackOrder;
typedef void (*PackBlockFn) (void *arg, Datum *values, bool *nulls, int n);
extern PackOrder *pack_order_begin(const PackLayout *layout, TupleDesc desc, int block_rows,
								   PackBlockFn fn, void *arg);
extern void pack_order_put(PackOrder *o, HeapTuple tuple);
extern void pack_order_end(PackOrder *o);

extern void pack_get_options(Oid relid, PackOptions *o);
extern Relation pack_open_storage(Relation ftrel, const char *name, LOCKMODE mode);
extern void pack_check_late_layout(Relation ftrel, Relation late);

/*
 * A scan's access to the column chunks of one segment (pack_fetch.c):
 * pack_fetch_segment() for each segment read, then the chunk of attribute
 * a (0-based) for block b, in memory from mem; pack_fetch_end() closes the
 * TOAST table the ranges were read from.
 */
typedef struct PackFetch PackFetch;

extern PackFetch *pack_fetch_create(MemoryContext cxt, Relation segrel, const PackLayout *layout,
									const AttrNumber *segatt, const char *where);
extern void pack_fetch_end(PackFetch *f);
extern void pack_fetch_segment(PackFetch *f, HeapTuple seg, TupleDesc desc, int nblocks);
extern const uint8 *pack_fetch_chunk(PackFetch *f, int a, int b, const CcAlloc *mem, size_t *len);
/* The same for decoding the rows sel[0..nsel) only (ascending): a framed chunk's frames that hold them. */
extern const uint8 *pack_fetch_chunk_rows(PackFetch *f, int a, int b, const uint32 *sel, int nsel,
										  const CcAlloc *mem, size_t *len);

/* INSERT, COPY, TRUNCATE and ANALYZE callbacks (pack_write.c) */
struct FdwRoutine;
extern void pack_fdw_write_routines(struct FdwRoutine *r);

/* Block summaries (pack_summary.c) */
typedef struct PackBlockInfo
{
	uint32		rows;
	int64		first_min;
	int64		first_max;
	const uint8 *protos;		/* 32-byte bitmap, or NULL: unknown */
	/*
	 * The block's Bloom filter, in 1 << log2parts parts of bloom_bits bits:
	 * part p at parts[p] + bloom_off, or unknown where parts or parts[p] is
	 * NULL (a part the scan did not read).
	 */
	const uint8 *const *parts;
	uint32		bloom_off;
	uint32		bloom_bits;
	int			log2parts;
	int			probes;
} PackBlockInfo;

/*
 * The key columns whose distinct values pack_build counts for the planner,
 * in this order: src_addr, src_port, dst_addr, dst_port.
 */
#define PACK_DISTINCT_KEYS	4

/* A segment's summary being built: the blocks' heads and their keys */
typedef struct PackSummaryBuild
{
	CcBuf		head;
	int			nblocks;
	int			cap;
	uint64	  **keys;			/* per block: its distinct keys' hashes */
	uint32	   *nkeys;
	hyperLogLogState *distinct; /* the partition's (pack_build.c), PACK_DISTINCT_KEYS */
} PackSummaryBuild;

extern void pack_summary_add_block(PackSummaryBuild *sb, const PackLayout *layout,
								   Datum *values, bool *nulls, int natts, int n);
extern bytea *pack_summary_finish(PackSummaryBuild *sb);
extern int	pack_summary_read(struct varlena *summary, const uint64 *hashes, int nhashes,
							  PackBlockInfo **blocks, const char *where);

/*
 * A query's conditions as pack_skip.c understands them: a tree of AND, OR
 * and leaves on first_seen, proto, addresses, ports, other integer columns
 * and bytes per packet (the planner has pushed NOT into the comparisons);
 * what it does not understand is left out (AND) or makes its OR unknown.  Built once per
 * scan by pack_skip.c, which answers per block from the summaries;
 * pack_rowfilter.c answers per row from the decoded columns.  When nothing
 * was left out (pack_skip_compile's *exact), the rows it keeps are exactly
 * the rows the conditions accept.
 */
typedef enum PackSkipKind
{
	SK_MAYBE,
	SK_AND,
	SK_OR,
	SK_TIME,					/* first_seen <strategy> t */
	SK_PROTO,					/* proto in the set */
	SK_KEY,						/* an address or a port (a Bloom key per block) */
	SK_INT,						/* integer column <strategy> t: rows only */
	SK_BPP						/* flow_bpp(bytes, packets) <strategy> t: rows only */
} PackSkipKind;

/* SK_INT's strategy for <>, beside the btree strategies 1-5 */
#define PACK_NE_STRATEGY	6

typedef struct PackSkip
{
	PackSkipKind kind;
	List	   *children;		/* SK_AND, SK_OR: PackSkip * */
	int			attno;			/* leaves: the column (SK_BPP: bytes) */
	int			attno2;			/* SK_BPP: packets */
	int			strategy;		/* SK_TIME, SK_INT */
	int64		t;				/* SK_TIME: the time; SK_KEY port: the port; SK_INT,
								 * SK_BPP: the value */
	uint8		protos[32];		/* SK_PROTO */
	uint64		hash;			/* SK_KEY: the Bloom hash */
	bool		is_addr;		/* SK_KEY: an address (else a port, in t) */
	uint8		rec[PACK_INET_WIDTH];	/* SK_KEY address: its 17-byte record */
} PackSkip;

/* What block summaries decide of a condition (pack_skip_decides), in this order */
typedef enum PackDecide
{
	PACK_DECIDE_TIME,
	PACK_DECIDE_PORTS,			/* ports only: rows are packed in port runs */
	PACK_DECIDE_BLOCK,
	PACK_DECIDE_ROWS
} PackDecide;

/* Block skipping (pack_skip.c) */
extern PackSkip *pack_skip_compile(List *quals, const PackLayout *layout, ParamListInfo params,
									bool *exact);
extern bool pack_skip_maybe(const PackSkip *skip, const PackBlockInfo *block);
extern int	pack_skip_conditions(const PackSkip *skip);
extern int	pack_skip_hashes(const PackSkip *skip, uint64 **hashes);
extern PackDecide pack_skip_decides(const PackSkip *skip);
extern void pack_skip_columns(const PackSkip *skip, bool *cols);

/*
 * Row pre-filter (pack_rowfilter.c): the rows of a decoded block that the
 * conditions may accept, as ascending row numbers in sel (room for nrows);
 * cols, indexed by attnum - 1, hold the columns pack_skip_columns() marks,
 * decoded whole.  Returns how many.
 */
extern int	pack_rowfilter(const PackSkip *skip, const CcColumn *cols, int nrows, uint32 *sel);

/*
 * The same for a block whose columns are not decoded yet: it has
 * decode(arg, want, rsel, n) fill the columns it needs as it tests them,
 * those marked in want (natts of them) for the rows rsel[0..n) at least
 * (every row when rsel is NULL), into cols indexed by row number.
 */
typedef void (*PackDecodeFn) (void *arg, const bool *want, const uint32 *rsel, int n);
extern int	pack_rowfilter_lazy(const PackSkip *skip, const CcColumn *cols, int natts, int nrows,
								uint32 *sel, PackDecodeFn decode, void *arg);

#endif							/* NFPG_PACK_H */
