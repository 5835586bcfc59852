/*-------------------------------------------------------------------------
 *
 * pack_fetch.c
 *		A block's chunk of a segment column, fetched from TOAST for a scan
 *		of a packed partition.
 *
 * A column value of P_seg is the chunks of the segment's blocks (pack.h),
 * stored EXTERNAL: uncompressed TOAST, so PostgreSQL can fetch any byte
 * range of it reading only the TOAST rows that hold the range.  Detoasting
 * the whole value for every column of every segment a scan touched copied
 * (and allocated) the whole segment, which a lookup that reads a few blocks
 * of a segment, or builds rows for a few columns only, did not need.  So
 * the chunk index at the head of the value is read once per segment, and
 * then each block's chunk alone, when the block is read and the column
 * needed for it: the blocks the summaries rule out are never fetched, nor
 * the columns of a block in which no row passes the scan's conditions.
 * Each slice costs an index descent into the TOAST table; fetching the rest
 * of a segment in one piece once a column had been needed twice was tried,
 * and was slower on 1M-flow lookups (the larger allocation per segment cost
 * more than the descents it saved).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/detoast.h"
#include "access/heaptoast.h"
#include "access/htup_details.h"
#include "utils/memutils.h"

#include "pack.h"

struct PackFetch
{
	const PackLayout *layout;	/* column names, for errors */
	const AttrNumber *segatt;	/* per attribute: its column in P_seg */
	const char *where;			/* the partition's name, for errors */
	MemoryContext segcxt;		/* reset for every segment */
	HeapTuple	seg;
	TupleDesc	desc;
	int			nblocks;
	uint32	  **off;			/* per attribute: where each block's chunk starts, and the end */
};

PackFetch *
pack_fetch_create(MemoryContext cxt, const PackLayout *layout, const AttrNumber *segatt,
				  const char *where)
{
	PackFetch  *f = MemoryContextAllocZero(cxt, sizeof(PackFetch));

	f->layout = layout;
	f->segatt = segatt;
	f->where = where;
	f->segcxt = AllocSetContextCreate(cxt, "nfpg packed segment columns", ALLOCSET_DEFAULT_SIZES);
	f->off = MemoryContextAllocZero(cxt, sizeof(uint32 *) * layout->ncols);
	return f;
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
damaged(PackFetch *f, int a)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("packed flows partition %s is damaged: column %s has a bad chunk index",
					f->where, f->layout->cols[a].name)));
}

/* A slice of the value, checked to be there whole. */
static const uint8 *
slice(PackFetch *f, int a, struct varlena *v, uint32 from, uint32 len)
{
	struct varlena *s = detoast_attr_slice(v, (int32) from, (int32) len);

	if (VARSIZE_ANY_EXHDR(s) != len)
		damaged(f, a);
	return (const uint8 *) VARDATA_ANY(s);
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
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("packed flows partition %s is damaged: column %s missing", f->where,
						f->layout->cols[a].name)));
	if (off == NULL)
	{
		size_t		total = toast_raw_datum_size(PointerGetDatum(v)) - VARHDRSZ;
		size_t		head = 4 + 4 * (size_t) f->nblocks;
		MemoryContext old;
		const uint8 *p;

		if (total < head || total > PG_UINT32_MAX)
			damaged(f, a);
		old = MemoryContextSwitchTo(f->segcxt);
		p = slice(f, a, v, 0, (uint32) head);
		if (cc_get32(p) != (uint32) f->nblocks)
			damaged(f, a);
		off = palloc(sizeof(uint32) * (f->nblocks + 1));
		off[0] = (uint32) head;
		for (int k = 0; k < f->nblocks; k++)
		{
			if (cc_get32(p + 4 + 4 * k) > total - off[k])
				damaged(f, a);
			off[k + 1] = off[k] + cc_get32(p + 4 + 4 * k);
		}
		MemoryContextSwitchTo(old);
		f->off[a] = off;
	}
	*from = off[b];
	*len = off[b + 1] - off[b];
	return v;
}

/*
 * The chunk of attribute a (0-based) for block b of the current segment,
 * in the caller's memory context.
 */
const uint8 *
pack_fetch_chunk(PackFetch *f, int a, int b, size_t *len)
{
	uint32		from,
				n;
	struct varlena *v = chunk_place(f, a, b, &from, &n);

	*len = n;
	return slice(f, a, v, from, n);
}

/*
 * The same for decoding rows sel[0..nsel) of it.  A framed chunk
 * (colcodec_frames.c) is read as its frame table, then the frames that
 * hold those rows, into a buffer of the chunk's length whose other bytes
 * are left unset: cc_decode_rows reads nothing else for that selection.
 * That is two slices for one, worth it when the chunk spans several TOAST
 * rows (about 2 kB each); a plain chunk costs the peek at its header.
 */
#define PEEK_BYTES	64			/* a frame table of up to 11 frames (4 in a block of 8,192) */
#define PEEK_FROM	(4 * TOAST_MAX_CHUNK_SIZE)

const uint8 *
pack_fetch_chunk_rows(PackFetch *f, int a, int b, const uint32 *sel, int nsel, size_t *len)
{
	uint32		from,
				n;
	struct varlena *v = chunk_place(f, a, b, &from, &n);
	const uint8 *head;
	uint8	   *buf;
	size_t		lo,
				hi;

	*len = n;
	if (n < PEEK_FROM || nsel <= 0)
		return slice(f, a, v, from, n);
	head = slice(f, a, v, from, PEEK_BYTES);
	if (!cc_frames_span(head, PEEK_BYTES, n, sel, (uint32) nsel, &lo, &hi))
		return slice(f, a, v, from, n);
	buf = palloc(n);
	memcpy(buf, head, PEEK_BYTES);
	memcpy(buf + lo, slice(f, a, v, from + (uint32) lo, (uint32) (hi - lo)), hi - lo);
	return buf;
}
