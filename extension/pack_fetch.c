/*-------------------------------------------------------------------------
 *
 * pack_fetch.c
 *		A block's chunk of a segment column, fetched from TOAST for a scan
 *		of a packed partition.
 *
 * A column value of P_seg is the chunks of the segment's blocks (pack.h),
 * stored EXTERNAL: uncompressed TOAST, so any byte range of it can be read
 * from the TOAST rows that hold the range alone.  Detoasting the whole
 * value for every column of every segment a scan touched copied (and
 * allocated) the whole segment, which a lookup that reads a few blocks of a
 * segment, or builds rows for a few columns only, did not need.  So the
 * chunk index at the head of the value is read once per segment, and then
 * each block's chunk alone, when the block is read and the column needed
 * for it: the blocks the summaries rule out are never fetched, nor the
 * columns of a block in which no row passes the scan's conditions.
 * Fetching the rest of a segment in one piece once a column had been needed
 * twice was tried, and was slower on 1M-flow lookups (the larger allocation
 * per segment cost more than the index descents it saved).
 *
 * The ranges are read here, not through detoast_attr_slice(), because a
 * lookup over a packed day reads some 7,000 of them: each call of that
 * opened the TOAST table and its index, began and ended an index scan and
 * returned a fresh palloc'd copy, and the copies, allocated and freed
 * block after block, made malloc hand pages back to the kernel and fault
 * them in again.  A PackFetch opens the TOAST table and index once, keeps
 * one index scan that each range rescans (the same keys and checks as
 * heap_fetch_toast_slice: chunk_id, a chunk_seq range, every chunk there and
 * of its size), and writes the bytes straight into the caller's buffer,
 * which a scan carves from its block arena.  A value that is not an
 * uncompressed out-of-line datum of this TOAST table (a small segment's,
 * kept inline) goes through detoast_attr_slice() as before.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/detoast.h"
#include "access/genam.h"
#include "access/heaptoast.h"
#include "access/htup_details.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/toast_internals.h"
#include "executor/tuptable.h"
#include "utils/fmgroids.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "pack.h"

struct PackFetch
{
	const PackLayout *layout;	/* column names, for errors */
	const AttrNumber *segatt;	/* per attribute: its column in P_seg */
	const char *where;			/* the partition's name, for errors */
	MemoryContext cxt;			/* the scan's */
	MemoryContext segcxt;		/* reset for every segment */
	HeapTuple	seg;
	TupleDesc	desc;
	int			nblocks;
	uint32	  **off;			/* per attribute: where each block's chunk starts, and the end */
	/* the TOAST table, opened at the first range read from it */
	Oid			toastrelid;
	Relation	toastrel;
	Relation   *toastidxs;
	int			ntoastidxs;
	IndexScanDesc scan;
	TupleTableSlot *slot;
	SnapshotData snapshot;
};

PackFetch *
pack_fetch_create(MemoryContext cxt, Relation segrel, const PackLayout *layout,
				  const AttrNumber *segatt, const char *where)
{
	PackFetch  *f = MemoryContextAllocZero(cxt, sizeof(PackFetch));

	f->layout = layout;
	f->segatt = segatt;
	f->where = where;
	f->cxt = cxt;
	f->toastrelid = segrel->rd_rel->reltoastrelid;
	f->segcxt = AllocSetContextCreate(cxt, "nfpg packed segment columns", ALLOCSET_DEFAULT_SIZES);
	f->off = MemoryContextAllocZero(cxt, sizeof(uint32 *) * layout->ncols);
	return f;
}

void
pack_fetch_end(PackFetch *f)
{
	if (f == NULL || f->toastrel == NULL)
		return;
	index_endscan(f->scan);
	ExecDropSingleTupleTableSlot(f->slot);
	toast_close_indexes(f->toastidxs, f->ntoastidxs, NoLock);
	table_close(f->toastrel, NoLock);
	f->toastrel = NULL;
}

void
pack_fetch_segment(PackFetch *f, HeapTuple seg, TupleDesc desc, int nblocks)
{
	MemoryContextReset(f->segcxt);
	memset(f->off, 0, sizeof(uint32 *) * f->layout->ncols);
	f->seg = seg;
	f->desc = desc;
	f->nblocks = nblocks;
}

static void
damaged(PackFetch *f, int a, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("packed flows partition %s is damaged: column %s has %s",
					f->where, f->layout->cols[a].name, what)));
}

static void
open_toast(PackFetch *f)
{
	MemoryContext old = MemoryContextSwitchTo(f->cxt);
	int			valid;

	f->toastrel = table_open(f->toastrelid, AccessShareLock);
	valid = toast_open_indexes(f->toastrel, AccessShareLock, &f->toastidxs, &f->ntoastidxs);
	init_toast_snapshot(&f->snapshot);
	f->slot = table_slot_create(f->toastrel, NULL);
	/* chunk_id =, chunk_seq >=, chunk_seq <=: a rescan must keep the number of keys */
	f->scan = index_beginscan(f->toastrel, f->toastidxs[valid], &f->snapshot, 3, 0);
	MemoryContextSwitchTo(old);
}

/*
 * Bytes from .. from + len of value v (column a) into dst.  The checks are
 * heap_fetch_toast_slice's; a failing one names the partition and column.
 */
static void
read_range(PackFetch *f, int a, struct varlena *v, uint32 from, uint32 len, uint8 *dst)
{
	const int32 csize = (int32) TOAST_MAX_CHUNK_SIZE;
	struct varatt_external ptr = {0};
	ScanKeyData key[3];
	int32		size,
				first,
				last,
				expect;

	if (len == 0)
		return;
	if (VARATT_IS_EXTERNAL_ONDISK(v))
		VARATT_EXTERNAL_GET_POINTER(ptr, v);
	size = (int32) VARATT_EXTERNAL_GET_EXTSIZE(ptr);
	/* not out of line here, or compressed (VARATT_EXTERNAL_IS_COMPRESSED) */
	if (!VARATT_IS_EXTERNAL_ONDISK(v) || size < ptr.va_rawsize - (int32) VARHDRSZ ||
		ptr.va_toastrelid != f->toastrelid)
	{
		struct varlena *s = detoast_attr_slice(v, (int32) from, (int32) len);

		if (VARSIZE_ANY_EXHDR(s) != len)
			damaged(f, a, "a bad chunk index");
		memcpy(dst, VARDATA_ANY(s), len);
		pfree(s);
		return;
	}
	if ((int64) from + len > size)
		damaged(f, a, "a bad chunk index");
	if (f->toastrel == NULL)
		open_toast(f);
	first = (int32) from / csize;
	last = (int32) (from + len - 1) / csize;
	ScanKeyInit(&key[0], 1, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(ptr.va_valueid));
	ScanKeyInit(&key[1], 2, BTGreaterEqualStrategyNumber, F_INT4GE, Int32GetDatum(first));
	ScanKeyInit(&key[2], 2, BTLessEqualStrategyNumber, F_INT4LE, Int32GetDatum(last));
	index_rescan(f->scan, key, 3, NULL, 0);
	expect = first;
	while (index_getnext_slot(f->scan, ForwardScanDirection, f->slot))
	{
		int32		seq;
		struct varlena *chunk;
		const char *data;
		int32		n,
					want,
					lo,
					hi;

		slot_getsomeattrs(f->slot, 3);
		if (f->slot->tts_isnull[1] || f->slot->tts_isnull[2])
			damaged(f, a, "a TOAST row without its chunk");
		seq = DatumGetInt32(f->slot->tts_values[1]);
		chunk = (struct varlena *) DatumGetPointer(f->slot->tts_values[2]);
		if (!VARATT_IS_EXTENDED(chunk))
		{
			n = VARSIZE(chunk) - VARHDRSZ;
			data = VARDATA(chunk);
		}
		else if (VARATT_IS_SHORT(chunk))
		{
			n = VARSIZE_SHORT(chunk) - VARHDRSZ_SHORT;
			data = VARDATA_SHORT(chunk);
		}
		else
			damaged(f, a, "a TOAST chunk of a bad form");
		want = seq < (size - 1) / csize ? csize : size - seq * csize;
		if (seq != expect || seq > last || n != want)
			damaged(f, a, "a missing or wrong TOAST chunk");
		lo = seq == first ? (int32) from % csize : 0;
		hi = seq == last ? (int32) (from + len - 1) % csize : n - 1;
		memcpy(dst + ((int64) seq * csize - from) + lo, data + lo, hi - lo + 1);
		expect++;
	}
	if (expect != last + 1)
		damaged(f, a, "a missing TOAST chunk");
}

/*
 * The column value of attribute a (0-based) in the current segment, and
 * where block b's chunk lies in it (off[b] .. off[b + 1]).
 */
static struct varlena *
chunk_place(PackFetch *f, int a, int b, uint32 *from, uint32 *len)
{
	uint32	   *off = f->off[a];
	bool		isnull;
	struct varlena *v = (struct varlena *) DatumGetPointer(heap_getattr(f->seg, f->segatt[a], f->desc, &isnull));

	if (isnull)
		damaged(f, a, "no value");
	if (off == NULL)
	{
		size_t		total = toast_raw_datum_size(PointerGetDatum(v)) - VARHDRSZ;
		size_t		head = 4 + 4 * (size_t) f->nblocks;
		uint8	   *p;

		if (total < head || total > PG_UINT32_MAX)
			damaged(f, a, "a bad chunk index");
		p = MemoryContextAlloc(f->segcxt, head);
		off = MemoryContextAlloc(f->segcxt, sizeof(uint32) * (f->nblocks + 1));
		read_range(f, a, v, 0, (uint32) head, p);
		if (cc_get32(p) != (uint32) f->nblocks)
			damaged(f, a, "a bad chunk index");
		off[0] = (uint32) head;
		for (int k = 0; k < f->nblocks; k++)
		{
			if (cc_get32(p + 4 + 4 * k) > total - off[k])
				damaged(f, a, "a bad chunk index");
			off[k + 1] = off[k] + cc_get32(p + 4 + 4 * k);
		}
		f->off[a] = off;
	}
	*from = off[b];
	*len = off[b + 1] - off[b];
	return v;
}

/* The chunk of attribute a (0-based) for block b of the current segment, in mem. */
const uint8 *
pack_fetch_chunk(PackFetch *f, int a, int b, const CcAlloc *mem, size_t *len)
{
	uint32		from,
				n;
	struct varlena *v = chunk_place(f, a, b, &from, &n);
	uint8	   *buf = mem->alloc(mem->ctx, Max(n, 1));

	read_range(f, a, v, from, n, buf);
	*len = n;
	return buf;
}

/*
 * The same for decoding rows sel[0..nsel) of it.  A framed chunk
 * (colcodec_frames.c) is read as its frame table, then the frames that
 * hold those rows, into a buffer of the chunk's length whose other bytes
 * are left unset: cc_decode_rows reads nothing else for that selection.
 * That is two ranges for one, worth it when the chunk spans several TOAST
 * rows (about 2 kB each); a plain chunk costs the peek at its header.
 */
#define PEEK_BYTES	64			/* a frame table of up to 11 frames (4 in a block of 8,192) */
#define PEEK_FROM	(4 * TOAST_MAX_CHUNK_SIZE)

const uint8 *
pack_fetch_chunk_rows(PackFetch *f, int a, int b, const uint32 *sel, int nsel,
					  const CcAlloc *mem, size_t *len)
{
	uint32		from,
				n;
	struct varlena *v = chunk_place(f, a, b, &from, &n);
	uint8	   *buf = mem->alloc(mem->ctx, Max(n, 1));
	size_t		lo,
				hi;

	*len = n;
	if (n < PEEK_FROM || nsel <= 0)
	{
		read_range(f, a, v, from, n, buf);
		return buf;
	}
	read_range(f, a, v, from, PEEK_BYTES, buf);
	if (!cc_frames_span(buf, PEEK_BYTES, n, sel, (uint32) nsel, &lo, &hi))
		read_range(f, a, v, from + PEEK_BYTES, n - PEEK_BYTES, buf + PEEK_BYTES);
	else if (hi > lo)
		read_range(f, a, v, from + (uint32) lo, (uint32) (hi - lo), buf + lo);
	return buf;
}
