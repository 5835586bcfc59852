/*-------------------------------------------------------------------------
 *
 * pack_columns.c
 *		PostgreSQL values of a flows column to and from codec chunks
 *		(colcodec.h), for packed partitions.
 *
 * The mapping is by type, so a column added to nfpg.flows later is packed
 * without a change here: integers and timestamps are CC_INT, inet a 17-byte
 * record (a code byte: the prefix length for IPv4, 64 + the prefix length
 * for IPv6, then the address in 16 bytes, IPv4 zero-padded), macaddr a
 * 6-byte record, and any other type its binary send form (typsend), read
 * back with typreceive: portable across hosts, like COPY BINARY.  Two
 * columns are special by name, because flows are packed in time order
 * within each port run (pack_build.c): first_seen is delta-coded (a run's
 * deltas are small, a jump back between runs costs a few bytes once), and
 * last_seen and received are
 * stored as their distance from first_seen (a flow's duration, the export
 * delay), which are small numbers whatever the hour; or as the values
 * themselves, delta-coded, when that is smaller (a chunk's tag says which).
 *
 * The inet record keeps the prefix length, so a value comes back exactly
 * (10.0.0.0/8 stays /8); the same record is the Bloom key of an address.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/socket.h>

#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "utils/inet.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "pack.h"
#include "stat.h"

static void *
pack_alloc(void *ctx, size_t size)
{
	return palloc_extended(size, MCXT_ALLOC_HUGE);
}

static void
pack_free(void *ctx, void *ptr)
{
	pfree(ptr);
}

const CcAlloc *
pack_palloc(void)
{
	static const CcAlloc mem = {pack_alloc, pack_free, NULL};

	return &mem;
}

/*
 * The block arena of a scan.  What a scan decodes for a block (the TOAST
 * ranges read, the codec's arrays, the rows' Datums and the inet and
 * macaddr values built from them) lives until the next block, so it is
 * carved from one buffer that is reused block after block and grows to the
 * largest block's need.  Allocated and freed one by one, these large pieces
 * went back and forth through malloc, which handed the pages back to the
 * kernel and faulted them in again for every block.
 *
 * A scan that has read its last block hands its arena to the next scan of
 * the same query in the same process: a lookup over a packed day is 24
 * partition scans, one after the other in each parallel worker, and an
 * arena of their own made each of them fault its buffer in afresh (a third
 * of the query's page faults).  An arena lives in a context of its own under
 * the query's, and leaves the spare list when that context goes, so it is
 * never handed to a scan of another query; scans that run at the same time
 * (a join of two packed partitions) each have their own.
 */
struct PackArena
{
	CcAlloc		alloc;			/* the codec's view: release is a no-op */
	MemoryContext query_cxt;	/* whose scans may take it */
	MemoryContext cxt;			/* its own, under query_cxt: where the buffer lives */
	MemoryContext spill;		/* what did not fit, until the next reset */
	MemoryContextCallback forget;
	char	   *buf;
	Size		cap;
	Size		used;
	Size		spilled;
};

#define SPARE_ARENAS	4
static PackArena *spare[SPARE_ARENAS];

static void *
arena_alloc(void *ctx, size_t size)
{
	PackArena  *a = ctx;
	void	   *p;

	size = MAXALIGN(size);
	if (size <= a->cap - a->used)
	{
		p = a->buf + a->used;
		a->used += size;
		return p;
	}
	a->spilled += size;
	return MemoryContextAllocExtended(a->spill, size, MCXT_ALLOC_HUGE);
}

/* The arena's context is going (its query ends): off the spare list. */
static void
arena_forget(void *arg)
{
	for (int i = 0; i < SPARE_ARENAS; i++)
		if (spare[i] == arg)
			spare[i] = NULL;
}

PackArena *
pack_arena_take(MemoryContext query_cxt)
{
	MemoryContext cxt;
	PackArena  *a;

	for (int i = 0; i < SPARE_ARENAS; i++)
		if (spare[i] && spare[i]->query_cxt == query_cxt)
		{
			a = spare[i];
			spare[i] = NULL;
			return a;
		}
	cxt = AllocSetContextCreate(query_cxt, "nfpg packed block arena", ALLOCSET_DEFAULT_SIZES);
	a = MemoryContextAllocZero(cxt, sizeof(PackArena));
	a->alloc.alloc = arena_alloc;
	a->alloc.ctx = a;
	a->query_cxt = query_cxt;
	a->cxt = cxt;
	a->spill = AllocSetContextCreate(cxt, "nfpg packed block spill", ALLOCSET_DEFAULT_SIZES);
	a->forget.func = arena_forget;
	a->forget.arg = a;
	MemoryContextRegisterResetCallback(cxt, &a->forget);
	return a;
}

void
pack_arena_give(PackArena *a)
{
	pack_arena_reset(a);
	for (int i = 0; i < SPARE_ARENAS; i++)
		if (spare[i] == NULL)
		{
			spare[i] = a;
			return;
		}
	/* the list is full: the arena goes with its query */
}

const CcAlloc *
pack_arena_alloc(PackArena *a)
{
	return &a->alloc;
}

void *
pack_arena_palloc(PackArena *a, Size size)
{
	return arena_alloc(a, size);
}

void
pack_arena_reset(PackArena *a)
{
	if (a->spilled > 0)
	{
		MemoryContextReset(a->spill);
		if (a->buf)
			pfree(a->buf);
		/* doubled at least: each new buffer is faulted in afresh */
		a->cap = Max(a->used + a->spilled, 2 * a->cap);
		a->buf = MemoryContextAllocExtended(a->cxt, a->cap, MCXT_ALLOC_HUGE);
		a->spilled = 0;
	}
	a->used = 0;
}

void
pack_layout_init(PackLayout *layout, TupleDesc desc)
{
	memset(layout, 0, sizeof(*layout));
	layout->ncols = desc->natts;
	layout->cols = palloc0(sizeof(PackCol) * desc->natts);
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		PackCol    *c = &layout->cols[i];

		if (att->attisdropped)
			continue;
		c->attnum = i + 1;
		c->name = pstrdup(NameStr(att->attname));
		c->typid = att->atttypid;
		c->typmod = att->atttypmod;
		switch (att->atttypid)
		{
			case TIMESTAMPTZOID:
				if (strcmp(c->name, "first_seen") == 0)
				{
					c->how = PACK_TIME_SORTED;
					layout->first_seen = i + 1;
				}
				else
					c->how = PACK_INT64;
				break;
			case INT8OID:
				c->how = PACK_INT64;
				break;
			case INT4OID:
				c->how = PACK_INT32;
				break;
			case INT2OID:
				c->how = PACK_INT16;
				break;
			case INETOID:
				c->how = PACK_INET;
				break;
			case MACADDROID:
				c->how = PACK_MAC;
				break;
			default:
				{
					Oid			fn;
					bool		varlena;

					c->how = PACK_BLOB;
					getTypeBinaryOutputInfo(c->typid, &fn, &varlena);
					fmgr_info(fn, &c->send);
					getTypeBinaryInputInfo(c->typid, &fn, &c->ioparam);
					fmgr_info(fn, &c->recv);
				}
		}
		if (strcmp(c->name, "proto") == 0 && c->how == PACK_INT16)
			layout->proto = i + 1;
		else if (strcmp(c->name, "src_addr") == 0 && c->how == PACK_INET)
			layout->src_addr = i + 1;
		else if (strcmp(c->name, "dst_addr") == 0 && c->how == PACK_INET)
			layout->dst_addr = i + 1;
		else if (strcmp(c->name, "src_port") == 0 && c->how == PACK_INT32)
			layout->src_port = i + 1;
		else if (strcmp(c->name, "dst_port") == 0 && c->how == PACK_INT32)
			layout->dst_port = i + 1;
	}
	/* durations and delays only when first_seen is there to add them to */
	if (layout->first_seen)
		for (int i = 0; i < desc->natts; i++)
		{
			PackCol    *c = &layout->cols[i];

			if (c->name && c->typid == TIMESTAMPTZOID &&
				(strcmp(c->name, "last_seen") == 0 || strcmp(c->name, "received") == 0))
				c->how = PACK_TIME_REL;
		}
}

void
pack_inet_record(Datum d, uint8 *rec)
{
	inet	   *ip = DatumGetInetPP(d);
	int			family = ip_family(ip);

	memset(rec, 0, PACK_INET_WIDTH);
	rec[0] = (uint8) (family == PGSQL_AF_INET6 ? 64 + ip_bits(ip) : ip_bits(ip));
	memcpy(rec + 1, ip_addr(ip), family == PGSQL_AF_INET6 ? 16 : 4);
}

void
pack_encode_column(const PackLayout *layout, const PackCol *col,
				   Datum *values, bool *nulls, int natts, int n,
				   int level, CcBuf *out)
{
	CcColumn	cc = {0};
	int			a = col->attnum - 1;
	int			f = layout->first_seen - 1;
	int			options = 0;
	char		err[200];
	size_t		start = out->len;

	cc.nrows = n;
	cc.isnull = palloc(n * sizeof(bool));
	for (int i = 0; i < n; i++)
		cc.isnull[i] = nulls[i * natts + a];
	switch (col->how)
	{
		case PACK_TIME_SORTED:
			options = CC_OPT_DELTA;
			/* FALLTHROUGH */
		case PACK_INT64:
		case PACK_INT32:
		case PACK_INT16:
		case PACK_TIME_REL:
			cc.kind = CC_INT;
			cc.ints = palloc(n * sizeof(int64));
			for (int i = 0; i < n; i++)
			{
				Datum		d = values[i * natts + a];

				if (cc.isnull[i])
					cc.ints[i] = 0;
				else if (col->how == PACK_INT32)
					cc.ints[i] = DatumGetInt32(d);
				else if (col->how == PACK_INT16)
					cc.ints[i] = DatumGetInt16(d);
				else if (col->how == PACK_TIME_REL && !nulls[i * natts + f])
					cc.ints[i] = (int64) ((uint64) DatumGetInt64(d) - (uint64) DatumGetInt64(values[i * natts + f]));
				else
					cc.ints[i] = DatumGetInt64(d);
			}
			break;
		case PACK_INET:
		case PACK_MAC:
			cc.kind = CC_FIXED;
			cc.width = col->how == PACK_INET ? PACK_INET_WIDTH : 6;
			cc.data = palloc0((size_t) n * cc.width);
			for (int i = 0; i < n; i++)
			{
				if (cc.isnull[i])
					continue;
				if (col->how == PACK_INET)
					pack_inet_record(values[i * natts + a], cc.data + (size_t) i * cc.width);
				else
					memcpy(cc.data + (size_t) i * 6, DatumGetPointer(values[i * natts + a]), 6);
			}
			break;
		case PACK_BLOB:
			{
				StringInfoData buf;

				initStringInfo(&buf);
				cc.kind = CC_BLOB;
				cc.offsets = palloc((n + 1) * sizeof(uint32));
				for (int i = 0; i < n; i++)
				{
					cc.offsets[i] = buf.len;
					if (!cc.isnull[i])
					{
						bytea	   *b = SendFunctionCall((FmgrInfo *) &col->send, values[i * natts + a]);

						/* not freed: a send function may return its argument (byteasend) */
						appendBinaryStringInfo(&buf, VARDATA(b), VARSIZE(b) - VARHDRSZ);
					}
				}
				cc.offsets[n] = buf.len;
				cc.data = (uint8 *) buf.data;
			}
			break;
	}
	if (cc_encode_frames(&cc, options, level, PACK_FRAME_ROWS, pack_palloc(), out, err, sizeof(err)) == 0)
		elog(ERROR, "nfpg pack: column %s: %s", col->name, err);
	if (col->how == PACK_TIME_REL)
	{
		/*
		 * The distance from first_seen is small when the column follows the
		 * flow (last_seen, an exporter's receive time); when it does not
		 * (received set at load time), the value itself, delta-coded, is
		 * smaller.  Keep the smaller; the tag tells the decoder.
		 */
		size_t		rel_len = out->len - start;
		CcBuf		abs = {0};

		for (int i = 0; i < n; i++)
			cc.ints[i] = cc.isnull[i] ? 0 : DatumGetInt64(values[i * natts + a]);
		cc.tag = PACK_TAG_ABSOLUTE;
		if (cc_encode_frames(&cc, CC_OPT_DELTA, level, PACK_FRAME_ROWS, pack_palloc(), &abs, err,
							 sizeof(err)) == 0)
			elog(ERROR, "nfpg pack: column %s: %s", col->name, err);
		if (abs.len < rel_len)
		{
			out->len = start;
			if (!cc_buf_append(out, abs.data, abs.len, pack_palloc()))
				elog(ERROR, "out of memory");
		}
		pfree(abs.data);
	}
	pfree(cc.isnull);
	if (cc.ints)
		pfree(cc.ints);
	if (cc.data)
		pfree(cc.data);
	if (cc.offsets)
		pfree(cc.offsets);
}

void
pack_decode_chunk(const PackCol *col, const uint8 *chunk, size_t len, int expect_rows,
				  const uint32 *sel, int nsel, const CcAlloc *mem, CcColumn *cc, const char *where)
{
	char		err[200] = "";

	if (!cc_decode_rows(chunk, len, mem, sel, (uint32) nsel, cc, err, sizeof(err)) ||
		(int) cc->chunk_rows != expect_rows ||
		(cc->kind != (col->how == PACK_INET || col->how == PACK_MAC ? CC_FIXED :
					  col->how == PACK_BLOB ? CC_BLOB : CC_INT)) ||
		(cc->kind == CC_FIXED && cc->width != (col->how == PACK_INET ? PACK_INET_WIDTH : 6)))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("packed flows partition %s is damaged: column %s: %s",
						where, col->name,
						err[0] ? err : cc->chunk_rows != (uint32) expect_rows ? "wrong row count" :
						"wrong kind of chunk"),
				 errhint("Restore the partition from a backup, or drop it; nfpg.unpack_partition() cannot read it either.")));
}

/* The family/prefix byte of a stored address record, or a damaged chunk. */
static inline void
check_address_code(const PackCol *col, uint8 code, const char *where)
{
	if (code > 64 + 128 || (code > 32 && code < 64))	/* IPv6: 64 + bits, IPv4: bits */
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("packed flows partition %s is damaged: column %s: bad address code %u",
						where, col->name, code)));
}

/*
 * The addresses of an inet column's decoded rows 0..n of cc as statistic
 * key slots (stat.h, STAT_ADDR_WIDTH bytes each): a scan that aggregates
 * builds no inet for them.  Rows that are NULL (cc->isnull) are left as
 * they are.
 */
void
pack_address_slots(const PackCol *col, const CcColumn *cc, int n, uint8 *slots, const char *where)
{
	if (cc->data == NULL)
		return;					/* NULL in every row */
	for (int k = 0; k < n; k++)
	{
		const uint8 *r = cc->data + (size_t) k * PACK_INET_WIDTH;
		uint8	   *slot = slots + (size_t) k * STAT_ADDR_WIDTH;
		bool		v6 = r[0] >= 64;

		if (cc->isnull && cc->isnull[k])
			continue;
		check_address_code(col, r[0], where);
		slot[0] = v6 ? PGSQL_AF_INET6 : PGSQL_AF_INET;
		slot[1] = v6 ? r[0] - 64 : r[0];
		memcpy(slot + 2, r + 1, 16);
	}
}

void
pack_column_values(const PackCol *col, const CcColumn *cc, const uint32 *sel, int n,
				   const Datum *first, const CcAlloc *mem, Datum *values, bool *nulls,
				   const char *where)
{
#define ROW(k) (sel ? sel[k] : (uint32) (k))
	for (int k = 0; k < n; k++)
		nulls[k] = cc->isnull ? cc->isnull[ROW(k)] : false;
	if (cc->ints == NULL && cc->data == NULL && cc->offsets == NULL)
		return;					/* NULL in every row: the chunk has no values */
	switch (col->how)
	{
		case PACK_INT64:
		case PACK_TIME_SORTED:
			for (int k = 0; k < n; k++)
				values[k] = Int64GetDatum(cc->ints[ROW(k)]);
			break;
		case PACK_INT32:
			for (int k = 0; k < n; k++)
				values[k] = Int32GetDatum((int32) cc->ints[ROW(k)]);
			break;
		case PACK_INT16:
			for (int k = 0; k < n; k++)
				values[k] = Int16GetDatum((int16) cc->ints[ROW(k)]);
			break;
		case PACK_TIME_REL:
			for (int k = 0; k < n; k++)
				values[k] = cc->tag == PACK_TAG_ABSOLUTE ? Int64GetDatum(cc->ints[ROW(k)]) :
					Int64GetDatum((int64) ((uint64) cc->ints[ROW(k)] + (uint64) DatumGetInt64(first[k])));
			break;
		case PACK_INET:
			{
				/* one allocation for the rows; 24 bytes keeps every inet 4-aligned */
				char	   *ips = mem->alloc(mem->ctx, (size_t) Max(n, 1) * 24);

				for (int k = 0; k < n; k++)
				{
					inet	   *ip = (inet *) (ips + (size_t) k * 24);
					const uint8 *r = cc->data + (size_t) ROW(k) * PACK_INET_WIDTH;
					bool		v6 = r[0] >= 64;

					if (nulls[k])
						continue;
					check_address_code(col, r[0], where);
					/* a 4-byte header first: the ip_* macros read it */
					SET_VARSIZE(ip, VARHDRSZ + sizeof(inet_struct));
					ip_family(ip) = v6 ? PGSQL_AF_INET6 : PGSQL_AF_INET;
					ip_bits(ip) = v6 ? r[0] - 64 : r[0];
					memcpy(ip_addr(ip), r + 1, v6 ? 16 : 4);
					SET_INET_VARSIZE(ip);
					values[k] = InetPGetDatum(ip);
				}
			}
			break;
		case PACK_MAC:
			{
				/* the values outlive the decoded chunk */
				uint8	   *macs = mem->alloc(mem->ctx, (size_t) Max(n, 1) * 6);

				for (int k = 0; k < n; k++)
				{
					memcpy(macs + (size_t) k * 6, cc->data + (size_t) ROW(k) * 6, 6);
					values[k] = PointerGetDatum(macs + (size_t) k * 6);
				}
			}
			break;
		case PACK_BLOB:
			for (int k = 0; k < n; k++)
			{
				StringInfoData buf;

				if (nulls[k])
					continue;
				/* typreceive wants its own terminated buffer */
				initStringInfo(&buf);
				appendBinaryStringInfo(&buf, (char *) cc->data + cc->offsets[ROW(k)],
									   cc->offsets[ROW(k) + 1] - cc->offsets[ROW(k)]);
				values[k] = ReceiveFunctionCall((FmgrInfo *) &col->recv, &buf, col->ioparam, col->typmod);
				pfree(buf.data);
			}
			break;
	}
#undef ROW
}
