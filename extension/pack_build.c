/*-------------------------------------------------------------------------
 *
 * pack_build.c
 *		nfpg.pack_build(): write the segments of a packed partition.
 *
 * Reads every row of a flows relation (a heap partition, or a packed one
 * being re-packed with its late rows) in first_seen order, has pack_order.c
 * put each 5-minute slot in port runs (by service port, then first_seen),
 * cuts the rows into blocks of block_rows and the blocks into segments of
 * segment_blocks, and inserts one row per segment into the segment table
 * (pack.h).
 *
 * It is only the writing half: nfpg.pack_partition() (66_pack.sql) creates
 * the tables, calls this, and swaps the partitions, all in one transaction,
 * so a crash or an error anywhere leaves the heap partition as it was.
 * Rows are read through SPI with a cursor, one block per fetch; memory stays
 * at about one slot of rows (at most a million, pack_order.c) and one
 * segment of compressed columns.
 *
 * It also counts the distinct addresses and ports of the partition
 * (PostgreSQL's HyperLogLog, fed the keys the block summaries hash anyway)
 * and returns them as n_distinct values, which pack_partition() sets on the
 * packed partition's columns for ANALYZE: from its sample of 30,000 flows
 * ANALYZE finds about a tenth of an hour's addresses, and the planner then
 * costed a host lookup as reading eight times the blocks it reads.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "pack.h"

PG_FUNCTION_INFO_V1(nfpg_pack_build);
PG_FUNCTION_INFO_V1(nfpg_pack_build_0_6);

typedef struct SegWriter
{
	PackLayout	layout;
	int			natts;
	int			segment_blocks;
	int			level;			/* zstd */
	const char *relname;		/* for errors */
	SPIPlanPtr	insert;
	int			nargs;
	int		   *argcol;			/* argument i+5 <- flows attnum */
	/* the segment being built */
	int			seg_no;
	int			nblocks;
	int64		rows;
	int64		first_min;
	int64		first_max;
	CcBuf	   *chunks;			/* per attribute */
	uint32	  **chunk_len;		/* per attribute, per block */
	PackSummaryBuild summary;
	hyperLogLogState distinct[PACK_DISTINCT_KEYS];
	MemoryContext segcxt;
} SegWriter;

static void
flush_segment(SegWriter *w)
{
	MemoryContext old = MemoryContextSwitchTo(w->segcxt);
	Datum	   *args = palloc(sizeof(Datum) * w->nargs);
	char	   *nulls = palloc(w->nargs);
	int			rc;

	memset(nulls, ' ', w->nargs);
	args[0] = Int32GetDatum(w->seg_no);
	args[1] = Int32GetDatum((int32) w->rows);
	args[2] = Int64GetDatum(w->first_min);
	args[3] = Int64GetDatum(w->first_max);
	if (!w->layout.first_seen)
		nulls[2] = nulls[3] = 'n';
	args[4] = PointerGetDatum(pack_summary_finish(&w->summary));
	for (int i = 5; i < w->nargs; i++)
	{
		int			a = w->argcol[i] - 1;
		CcBuf	   *c = &w->chunks[a];
		size_t		len = 4 + 4 * (size_t) w->nblocks + c->len;
		bytea	   *b = palloc(VARHDRSZ + len);
		uint8	   *p = (uint8 *) VARDATA(b);

		SET_VARSIZE(b, VARHDRSZ + len);
		cc_put32(p, (uint32) w->nblocks);
		for (int k = 0; k < w->nblocks; k++)
			cc_put32(p + 4 + 4 * k, w->chunk_len[a][k]);
		memcpy(p + 4 + 4 * w->nblocks, c->data, c->len);
		args[i] = PointerGetDatum(b);
	}
	rc = SPI_execute_plan(w->insert, args, nulls, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "nfpg pack: inserting a segment failed: %s", SPI_result_code_string(rc));

	MemoryContextSwitchTo(old);
	MemoryContextReset(w->segcxt);
	w->seg_no++;
	w->nblocks = 0;
	w->rows = 0;
}

static void
start_segment(SegWriter *w)
{
	MemoryContext old = MemoryContextSwitchTo(w->segcxt);

	w->chunks = palloc0(sizeof(CcBuf) * w->natts);
	w->chunk_len = palloc0(sizeof(uint32 *) * w->natts);
	for (int a = 0; a < w->natts; a++)
		w->chunk_len[a] = palloc0(sizeof(uint32) * w->segment_blocks);
	memset(&w->summary, 0, sizeof(w->summary));
	w->summary.distinct = w->distinct;
	MemoryContextSwitchTo(old);
}

/* One block of rows, in port-run order (pack_order.c): encoded into the segment. */
static void
write_block(void *arg, Datum *values, bool *nulls, int n)
{
	SegWriter  *w = arg;
	MemoryContext old = MemoryContextSwitchTo(w->segcxt);

	/* chunks grow in the segment's context */
	for (int a = 0; a < w->natts; a++)
	{
		CcBuf	   *c = &w->chunks[a];
		size_t		before = c->len;

		if (!w->layout.cols[a].name)
			continue;
		pack_encode_column(&w->layout, &w->layout.cols[a], values, nulls, w->natts, n, w->level, c);
		w->chunk_len[a][w->nblocks] = (uint32) (c->len - before);
	}
	pack_summary_add_block(&w->summary, &w->layout, values, nulls, w->natts, n);
	MemoryContextSwitchTo(old);
	for (int i = 0; i < n; i++)
	{
		int64		t;

		if (nulls[(size_t) i * w->natts + w->layout.first_seen - 1])
			elog(ERROR, "nfpg pack: a row of %s has no first_seen", w->relname);
		t = DatumGetInt64(values[(size_t) i * w->natts + w->layout.first_seen - 1]);
		if (w->rows == 0 && i == 0)
			w->first_min = w->first_max = t;
		w->first_min = Min(w->first_min, t);
		w->first_max = Max(w->first_max, t);
	}
	w->rows += n;
	w->nblocks++;
	if (w->nblocks == w->segment_blocks)
	{
		flush_segment(w);
		start_segment(w);
	}
}

/*
 * The result of pack_build: the flows packed, and the n_distinct of each key
 * column as ANALYZE stores it (a count, or minus a fraction of the rows when
 * above a tenth of them, so that it scales with late rows).
 */
static Datum
build_result(FunctionCallInfo fcinfo, SegWriter *w, int64 total)
{
	TupleDesc	desc;
	int			attnos[PACK_DISTINCT_KEYS] = {w->layout.src_addr, w->layout.src_port,
		w->layout.dst_addr, w->layout.dst_port};
	Datum		names[PACK_DISTINCT_KEYS];
	Datum		counts[PACK_DISTINCT_KEYS];
	int			n = 0;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "nfpg pack: pack_build must return a record");
	for (int i = 0; i < PACK_DISTINCT_KEYS && total > 0; i++)
	{
		double		d;

		if (!attnos[i])
			continue;
		d = Max(1.0, estimateHyperLogLog(&w->distinct[i]));
		if (d > 0.1 * (double) total)
			d = -Min(1.0, d / (double) total);
		names[n] = CStringGetTextDatum(w->layout.cols[attnos[i] - 1].name);
		counts[n++] = Float8GetDatum(d);
	}
	values[0] = Int64GetDatum(total);
	values[1] = PointerGetDatum(construct_array(names, n, TEXTOID, -1, false, TYPALIGN_INT));
	values[2] = PointerGetDatum(construct_array(counts, n, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	return HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls));
}

/*
 * Pack: the arguments of nfpg.pack_build(src regclass, dst regclass,
 * block_rows int, segment_blocks int, zstd_level int); returns the flows.
 */
static int64
pack_build(FunctionCallInfo fcinfo, SegWriter *wp)
{
	Oid			src = PG_GETARG_OID(0);
	Oid			dst = PG_GETARG_OID(1);
	int			block_rows = PG_GETARG_INT32(2);
	int			segment_blocks = PG_GETARG_INT32(3);
	int			level = PG_GETARG_INT32(4);
	SegWriter	w = {0};
	Relation	rel;
	StringInfoData sql;
	StringInfoData cols;
	StringInfoData params;
	Oid		   *argtypes;
	Portal		portal;
	int64		total = 0;
	PackOrder  *order;

	/*
	 * zstd's negative levels store literals without entropy coding: a
	 * packed hour about a fifth larger, decoded about twice as fast
	 * (docs/packing.md).  Level 0 would be zstd's default, 3: refused, so
	 * that what is asked for is what is written.
	 */
	if (block_rows < 256 || block_rows > 65536 || segment_blocks < 1 || segment_blocks > 1024 ||
		level < -7 || level == 0 || level > 19)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("block_rows must be 256 to 65536, segment_blocks 1 to 1024, zstd_level -7 to -1 or 1 to 19")));

	rel = table_open(src, AccessShareLock);
	pack_layout_init(&w.layout, RelationGetDescr(rel));
	w.natts = RelationGetDescr(rel)->natts;
	if (!w.layout.first_seen)
		elog(ERROR, "nfpg pack: %s has no first_seen timestamptz column", RelationGetRelationName(rel));

	/* INSERT INTO dst (seg_no, ..., <every live column>) VALUES ($1, ...) */
	initStringInfo(&cols);
	initStringInfo(&params);
	argtypes = palloc(sizeof(Oid) * (w.natts + 5));
	w.argcol = palloc0(sizeof(int) * (w.natts + 5));
	appendStringInfoString(&cols, PACK_SEG_NO ", " PACK_SEG_ROWS ", " PACK_SEG_FIRST_MIN ", "
						   PACK_SEG_FIRST_MAX ", " PACK_SEG_SUMMARY);
	appendStringInfoString(&params, "$1, $2, $3, $4, $5");
	argtypes[0] = INT4OID;
	argtypes[1] = INT4OID;
	argtypes[2] = TIMESTAMPTZOID;
	argtypes[3] = TIMESTAMPTZOID;
	argtypes[4] = BYTEAOID;
	w.nargs = 5;
	for (int a = 0; a < w.natts; a++)
	{
		PackCol    *c = &w.layout.cols[a];
		AttrNumber	da;

		if (!c->name)
			continue;
		da = get_attnum(dst, c->name);
		if (da == InvalidAttrNumber || get_atttype(dst, da) != BYTEAOID)
			elog(ERROR, "nfpg pack: segment table %s has no bytea column %s",
				 get_rel_name(dst), c->name);
		appendStringInfo(&cols, ", %s", quote_identifier(c->name));
		appendStringInfo(&params, ", $%d", w.nargs + 1);
		argtypes[w.nargs] = BYTEAOID;
		w.argcol[w.nargs++] = a + 1;
	}
	w.segment_blocks = segment_blocks;
	w.level = level;
	w.relname = RelationGetRelationName(rel);
	for (int i = 0; i < PACK_DISTINCT_KEYS; i++)
		initHyperLogLog(&w.distinct[i], 12);	/* ~1.6 % error */
	w.segcxt = AllocSetContextCreate(CurrentMemoryContext, "nfpg pack segment", ALLOCSET_DEFAULT_SIZES);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	initStringInfo(&sql);
	appendStringInfo(&sql, "INSERT INTO %s.%s (%s) VALUES (%s)",
					 quote_identifier(get_namespace_name(get_rel_namespace(dst))),
					 quote_identifier(get_rel_name(dst)), cols.data, params.data);
	w.insert = SPI_prepare(sql.data, w.nargs, argtypes);
	if (!w.insert)
		elog(ERROR, "nfpg pack: cannot prepare %s", sql.data);
	resetStringInfo(&sql);
	/* in first_seen order (a heap partition's index gives it); pack_order.c sorts each slot */
	appendStringInfo(&sql, "SELECT * FROM %s.%s ORDER BY %s",
					 quote_identifier(get_namespace_name(RelationGetNamespace(rel))),
					 quote_identifier(RelationGetRelationName(rel)),
					 quote_identifier(w.layout.cols[w.layout.first_seen - 1].name));
	portal = SPI_cursor_open_with_args(NULL, sql.data, 0, NULL, NULL, NULL, true, 0);

	start_segment(&w);
	order = pack_order_begin(&w.layout, RelationGetDescr(rel), block_rows, write_block, &w);
	for (;;)
	{
		/* kept aside: a segment written meanwhile (SPI's INSERT) resets SPI_tuptable */
		SPITupleTable *fetched;
		uint64		n;

		SPI_cursor_fetch(portal, true, block_rows);
		fetched = SPI_tuptable;
		n = SPI_processed;
		if (n == 0)
			break;
		for (uint64 i = 0; i < n; i++)
			pack_order_put(order, fetched->vals[i]);
		total += n;
		SPI_freetuptable(fetched);
		CHECK_FOR_INTERRUPTS();
	}
	pack_order_end(order);
	if (w.nblocks > 0)
		flush_segment(&w);
	SPI_cursor_close(portal);
	SPI_finish();
	table_close(rel, AccessShareLock);
	*wp = w;
	return total;
}

/* pack_build up to 0.5: returns bigint, the flows */
Datum
nfpg_pack_build(PG_FUNCTION_ARGS)
{
	SegWriter	w;

	PG_RETURN_INT64(pack_build(fcinfo, &w));
}

/* from 0.6: OUT flows bigint, OUT key_columns text[], OUT key_distinct float8[] */
Datum
nfpg_pack_build_0_6(PG_FUNCTION_ARGS)
{
	SegWriter	w;
	int64		total = pack_build(fcinfo, &w);

	return build_result(fcinfo, &w, total);
}
