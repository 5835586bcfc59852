/*-------------------------------------------------------------------------
 *
 * pack_order.c
 *		The order pack_build() writes an hour's rows in: port runs.
 *
 * Rows are written by 5-minute slot of first_seen (NfSen's time slot), then
 * by service port (the lower of the two ports: 587 for a client's flow to a
 * mail server and for the server's answer), then first_seen.  Sorted on
 * first_seen alone, as before 0.10, every block of an hour held the same
 * mix of ports, so `dst port 587` (70 flows in a block of 8,192) decoded
 * every block of a day, a full scan's work.  In port runs a port's flows
 * fill a few blocks of each slot, which the block summaries' Bloom filters
 * tell apart (docs/packing.md, "Port runs").  The slot keeps what time
 * windows skip on: a block spans one slot, rarely two.
 *
 * The rows arrive in first_seen order (a heap partition's index gives it
 * without a sort), so slots arrive one after the other, and each is sorted
 * here on its own, in memory: a slot of a 10M-flow hour is 830,000 rows.
 * Asking PostgreSQL for the whole order instead (ORDER BY date_bin(...),
 * least(...), first_seen) sorted the hour's 41-column rows through a
 * tape sort on disk: packing took three times as long.  A slot of more than
 * SORT_ROWS rows (over 3,500 flows a second) is sorted in pieces of that
 * many, so memory stays at about one piece of rows (some 200 MB at the
 * heap's 170 bytes a flow).
 *
 * Blocks are cut every block_rows rows of the whole order, across slots, as
 * before: the rows of a slot that do not fill a block wait for the next
 * slot's, copied aside.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "miscadmin.h"
#include "utils/memutils.h"

#include "pack.h"

#define SORT_ROWS	(1 << 20)

typedef struct OrderRow
{
	int32		port;			/* least(src_port, dst_port); -1: NULL */
	uint32		seq;			/* arrival: equal keys keep it */
	int64		first;
	HeapTuple	tuple;
} OrderRow;

#define ST_SORT sort_rows
#define ST_ELEMENT_TYPE OrderRow
#define ST_COMPARE(a, b) \
	((a)->port != (b)->port ? ((a)->port < (b)->port ? -1 : 1) : \
	 (a)->first != (b)->first ? ((a)->first < (b)->first ? -1 : 1) : \
	 ((a)->seq > (b)->seq) - ((a)->seq < (b)->seq))
#define ST_SCOPE static
#define ST_DEFINE
#include "lib/sort_template.h"

struct PackOrder
{
	const PackLayout *layout;
	TupleDesc	desc;
	int			natts;
	int			block_rows;
	PackBlockFn fn;
	void	   *arg;
	/* the piece being gathered: rows of one slot */
	OrderRow   *rows;
	int			nrows;
	int			cap;
	int64		slot;
	MemoryContext piececxt;
	/* rows of earlier pieces waiting to fill a block, in order */
	HeapTuple  *carry;
	int			ncarry;
	MemoryContext carrycxt;
	MemoryContext blockcxt;
	MemoryContext cxt;			/* the contexts' parent: the writer's SPI calls switch contexts */
};

PackOrder *
pack_order_begin(const PackLayout *layout, TupleDesc desc, int block_rows,
				 PackBlockFn fn, void *arg)
{
	PackOrder  *o = palloc0(sizeof(PackOrder));

	o->layout = layout;
	o->desc = desc;
	o->natts = desc->natts;
	o->block_rows = block_rows;
	o->fn = fn;
	o->arg = arg;
	o->cxt = CurrentMemoryContext;
	o->cap = block_rows;
	o->rows = palloc(sizeof(OrderRow) * o->cap);
	o->piececxt = AllocSetContextCreate(CurrentMemoryContext, "nfpg pack piece", ALLOCSET_DEFAULT_SIZES);
	o->carry = palloc(sizeof(HeapTuple) * block_rows);
	o->carrycxt = AllocSetContextCreate(CurrentMemoryContext, "nfpg pack carry", ALLOCSET_DEFAULT_SIZES);
	o->blockcxt = AllocSetContextCreate(CurrentMemoryContext, "nfpg pack block", ALLOCSET_DEFAULT_SIZES);
	return o;
}

/* Deform n tuples and hand them to the writer as one block. */
static void
deform_block(PackOrder *o, HeapTuple *tuples, int n)
{
	MemoryContext old = MemoryContextSwitchTo(o->blockcxt);
	Datum	   *values = palloc(sizeof(Datum) * o->natts * n);
	bool	   *nulls = palloc(sizeof(bool) * o->natts * n);

	for (int i = 0; i < n; i++)
		heap_deform_tuple(tuples[i], o->desc, values + (size_t) i * o->natts,
						  nulls + (size_t) i * o->natts);
	MemoryContextSwitchTo(old);
	o->fn(o->arg, values, nulls, n);
	MemoryContextReset(o->blockcxt);
}

/* Sort the piece and write it after the carried rows; carry what is left. */
static void
finish_piece(PackOrder *o)
{
	HeapTuple  *block = palloc(sizeof(HeapTuple) * o->block_rows);
	int			n = o->ncarry;
	MemoryContext carrycxt,
				old;

	sort_rows(o->rows, o->nrows);
	memcpy(block, o->carry, sizeof(HeapTuple) * n);
	for (int i = 0; i < o->nrows; i++)
	{
		block[n++] = o->rows[i].tuple;
		if (n == o->block_rows)
		{
			deform_block(o, block, n);
			n = 0;
		}
		CHECK_FOR_INTERRUPTS();
	}
	/* the rest (carried rows included) into a fresh carry context */
	carrycxt = AllocSetContextCreate(o->cxt, "nfpg pack carry", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(carrycxt);
	for (int i = 0; i < n; i++)
		o->carry[i] = heap_copytuple(block[i]);
	MemoryContextSwitchTo(old);
	o->ncarry = n;
	MemoryContextDelete(o->carrycxt);
	o->carrycxt = carrycxt;
	MemoryContextReset(o->piececxt);
	o->nrows = 0;
	pfree(block);
}

/* The next row in first_seen order (copied). */
void
pack_order_put(PackOrder *o, HeapTuple tuple)
{
	bool		isnull,
				snull,
				dnull;
	int64		first = DatumGetInt64(heap_getattr(tuple, o->layout->first_seen, o->desc, &isnull));
	int64		slot;
	int32		sp = 0,
				dp = 0;
	OrderRow   *r;
	MemoryContext old;

	if (isnull)
		elog(ERROR, "nfpg pack: a row has no first_seen");
	slot = first / PACK_SLOT_USEC - (first % PACK_SLOT_USEC < 0);
	if (o->nrows > 0 && (slot != o->slot || o->nrows == SORT_ROWS))
		finish_piece(o);
	o->slot = slot;
	if (o->layout->src_port && o->layout->dst_port)
	{
		sp = DatumGetInt32(heap_getattr(tuple, o->layout->src_port, o->desc, &snull));
		dp = DatumGetInt32(heap_getattr(tuple, o->layout->dst_port, o->desc, &dnull));
		/* least() of SQL: a NULL port is ignored, two are -1 */
		sp = snull ? (dnull ? -1 : dp) : sp;
		dp = dnull ? sp : dp;
	}
	if (o->nrows == o->cap)
	{
		o->cap *= 2;
		o->rows = repalloc_huge(o->rows, sizeof(OrderRow) * o->cap);
	}
	r = &o->rows[o->nrows];
	r->port = Min(sp, dp);
	r->seq = (uint32) o->nrows;
	r->first = first;
	old = MemoryContextSwitchTo(o->piececxt);
	r->tuple = heap_copytuple(tuple);
	MemoryContextSwitchTo(old);
	o->nrows++;
}

/* Write what is left. */
void
pack_order_end(PackOrder *o)
{
	if (o->nrows > 0)
		finish_piece(o);
	if (o->ncarry > 0)
		deform_block(o, o->carry, o->ncarry);
	o->ncarry = 0;
}
