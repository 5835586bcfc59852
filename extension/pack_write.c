/*-------------------------------------------------------------------------
 *
 * pack_write.c
 *		What a packed partition (pack_fdw.c) does besides scanning: late
 *		flows, TRUNCATE, ANALYZE.
 *
 * A packed hour is never rewritten in place.  Flows that arrive for it
 * after packing -- routed by an INSERT or COPY into nfpg.flows, or the
 * loader's COPY into the partition itself -- are appended to its plain
 * P_late table, which every scan reads after the segments and the next
 * nfpg.pack_partition() merges.  UPDATE and DELETE are refused (the wrapper
 * says it can only insert): unpack, change, pack.  TRUNCATE empties the
 * segments and the late rows in the transaction of the TRUNCATE.  ANALYZE
 * samples the hour through the wrapper itself, reading a bounded number of
 * flows (below), so the planner has statistics for packed hours too.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "foreign/fdwapi.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/sampling.h"

#include "pack.h"

/* ---------- ANALYZE ---------- */

#define SAMPLE_READ_ROWS	300000	/* about how many flows ANALYZE decodes */
#define SAMPLE_WINDOWS		30

/* Feed the rows of one query (SPI) into the reservoir. */
static void
sample_query(const char *sql, int nargs, Oid *types, Datum *args, MemoryContext caller,
			 ReservoirState rs, HeapTuple *rows, int targrows, int *n, double *seen, double *skip)
{
	Portal		portal = SPI_cursor_open_with_args(NULL, sql, nargs, types, args, NULL, true, 0);

	for (;;)
	{
		SPI_cursor_fetch(portal, true, 10000);
		if (SPI_processed == 0)
			break;
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			int			k = -1;

			if (*n < targrows)
				k = (*n)++;
			else
			{
				if (*skip < 0)
					*skip = reservoir_get_next_S(rs, *seen, targrows);
				if (*skip <= 0)
				{
					k = (int) (targrows * sampler_random_fract(&rs->randstate));
					heap_freetuple(rows[k]);
				}
				*skip -= 1;
			}
			if (k >= 0)
			{
				MemoryContext old = MemoryContextSwitchTo(caller);

				rows[k] = heap_copytuple(SPI_tuptable->vals[i]);
				MemoryContextSwitchTo(old);
			}
			*seen += 1;
		}
		SPI_freetuptable(SPI_tuptable);
		CHECK_FOR_INTERRUPTS();
	}
	SPI_cursor_close(portal);
}

/*
 * A random sample of the partition's flows for ANALYZE, so the planner has
 * statistics for packed hours and ANALYZE nfpg.flows counts them.  Rows are
 * read through this wrapper with SPI and sampled as file_fdw does (Vitter's
 * reservoir).  A large hour is not decoded whole: the sample comes from
 * SAMPLE_WINDOWS short first_seen windows, one at a random place in each
 * equal slice of the hour, together about SAMPLE_READ_ROWS flows; block
 * skipping on first_seen makes that cost what it reads.  The total is the
 * segments' row count plus the late rows.
 */
static int
pack_sample_rows(Relation rel, int elevel, HeapTuple *rows, int targrows,
				 double *totalrows, double *totaldeadrows)
{
	MemoryContext caller = CurrentMemoryContext;
	ReservoirStateData rstate;
	PackOptions o;
	double		seen = 0;
	double		skip = -1;
	int			n = 0;
	char	   *ft;
	char	   *sql;
	bool		isnull;
	int64		lo,
				hi;
	double		segrows,
				laterows;

	pack_get_options(RelationGetRelid(rel), &o);
	ft = psprintf("%s.%s", quote_identifier(get_namespace_name(RelationGetNamespace(rel))),
				  quote_identifier(RelationGetRelationName(rel)));
	reservoir_init_selection_state(&rstate, targrows);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/* the tables the options name, resolved and checked, never the option text */
	{
		Relation	seg = pack_open_storage(rel, o.segments, AccessShareLock);
		Relation	late = pack_open_storage(rel, o.late, AccessShareLock);

		sql = psprintf("SELECT min(seg_first_min), max(seg_first_max), coalesce(sum(seg_rows), 0)::float8, "
					   "(SELECT count(*) FROM %s.%s)::float8 FROM %s.%s",
					   quote_identifier(get_namespace_name(RelationGetNamespace(late))),
					   quote_identifier(RelationGetRelationName(late)),
					   quote_identifier(get_namespace_name(RelationGetNamespace(seg))),
					   quote_identifier(RelationGetRelationName(seg)));
		table_close(seg, NoLock);
		table_close(late, NoLock);
	}
	if (SPI_execute(sql, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "nfpg: cannot read the segments of %s", ft);
	lo = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	hi = isnull ? 0 : DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	segrows = DatumGetFloat8(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull));
	laterows = DatumGetFloat8(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 4, &isnull));
	SPI_freetuptable(SPI_tuptable);

	if (segrows <= SAMPLE_READ_ROWS || hi <= lo)
		sample_query(psprintf("SELECT * FROM %s", ft), 0, NULL, NULL, caller, &rstate, rows, targrows, &n, &seen, &skip);
	else
	{
		double		slice = (double) (hi - lo) / SAMPLE_WINDOWS;
		double		width = slice * SAMPLE_READ_ROWS / segrows;
		Oid			types[2] = {TIMESTAMPTZOID, TIMESTAMPTZOID};

		sql = psprintf("SELECT * FROM %s WHERE first_seen >= $1 AND first_seen < $2", ft);
		for (int w = 0; w < SAMPLE_WINDOWS; w++)
		{
			int64		from = lo + (int64) (w * slice + (slice - width) * sampler_random_fract(&rstate.randstate));
			Datum		args[2] = {Int64GetDatum(from), Int64GetDatum(from + (int64) width + 1)};

			sample_query(sql, 2, types, args, caller, &rstate, rows, targrows, &n, &seen, &skip);
		}
	}
	SPI_finish();
	*totalrows = Max(segrows + laterows, n);
	*totaldeadrows = 0;
	ereport(elevel,
			(errmsg("\"%s\": read %.0f of about %.0f flows (packed), %d in the sample",
					RelationGetRelationName(rel), seen, *totalrows, n)));
	return n;
}

static bool
packAnalyzeForeignTable(Relation relation, AcquireSampleRowsFunc *func, BlockNumber *totalpages)
{
	PackOptions o;
	Relation	seg;

	pack_get_options(RelationGetRelid(relation), &o);
	seg = pack_open_storage(relation, o.segments, AccessShareLock);
	*totalpages = Max(1, RelationGetNumberOfBlocks(seg));
	table_close(seg, AccessShareLock);
	*func = pack_sample_rows;
	return true;
}

/* ---------- writing: late flows, TRUNCATE ---------- */

static int
packIsForeignRelUpdatable(Relation rel)
{
	return 1 << CMD_INSERT;
}

static void
begin_insert(ResultRelInfo *rinfo)
{
	Relation	ft = rinfo->ri_RelationDesc;
	PackOptions o;
	Relation	late;

	pack_get_options(RelationGetRelid(ft), &o);
	late = pack_open_storage(ft, o.late, RowExclusiveLock);
	pack_check_late_layout(ft, late);
	rinfo->ri_FdwState = late;
}

static void
packBeginForeignModify(ModifyTableState *mtstate, ResultRelInfo *rinfo, List *fdw_private,
					   int subplan_index, int eflags)
{
	if (!(eflags & EXEC_FLAG_EXPLAIN_ONLY))
		begin_insert(rinfo);
}

static void
packBeginForeignInsert(ModifyTableState *mtstate, ResultRelInfo *rinfo)
{
	begin_insert(rinfo);
}

static TupleTableSlot *
packExecForeignInsert(EState *estate, ResultRelInfo *rinfo, TupleTableSlot *slot, TupleTableSlot *planSlot)
{
	Relation	late = rinfo->ri_FdwState;
	HeapTuple	tup;

	slot_getallattrs(slot);
	tup = heap_form_tuple(RelationGetDescr(late), slot->tts_values, slot->tts_isnull);
	heap_insert(late, tup, GetCurrentCommandId(true), 0, NULL);
	heap_freetuple(tup);
	return slot;
}

static void
packEndForeignInsert(EState *estate, ResultRelInfo *rinfo)
{
	if (rinfo->ri_FdwState)
		table_close((Relation) rinfo->ri_FdwState, NoLock);
	rinfo->ri_FdwState = NULL;
}

static void
packExecForeignTruncate(List *rels, DropBehavior behavior, bool restart_seqs)
{
	ListCell   *lc;

	SPI_connect();
	foreach(lc, rels)
	{
		Relation	ft = lfirst(lc);
		PackOptions o;
		Relation	seg,
					late;
		char	   *sql;

		pack_get_options(RelationGetRelid(ft), &o);
		seg = pack_open_storage(ft, o.segments, AccessExclusiveLock);
		late = pack_open_storage(ft, o.late, AccessExclusiveLock);
		sql = psprintf("TRUNCATE %s.%s, %s.%s",
					   quote_identifier(get_namespace_name(RelationGetNamespace(seg))),
					   quote_identifier(RelationGetRelationName(seg)),
					   quote_identifier(get_namespace_name(RelationGetNamespace(late))),
					   quote_identifier(RelationGetRelationName(late)));
		table_close(seg, NoLock);
		table_close(late, NoLock);
		if (SPI_execute(sql, false, 0) != SPI_OK_UTILITY)
			elog(ERROR, "nfpg: %s failed", sql);
	}
	SPI_finish();
}

void
pack_fdw_write_routines(FdwRoutine *r)
{
	r->AnalyzeForeignTable = packAnalyzeForeignTable;
	r->IsForeignRelUpdatable = packIsForeignRelUpdatable;
	r->BeginForeignModify = packBeginForeignModify;
	r->ExecForeignInsert = packExecForeignInsert;
	r->EndForeignModify = packEndForeignInsert;
	r->BeginForeignInsert = packBeginForeignInsert;
	r->EndForeignInsert = packEndForeignInsert;
	r->ExecForeignTruncate = packExecForeignTruncate;
}
