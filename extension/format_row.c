/*-------------------------------------------------------------------------
 *
 * format_row.c
 *		Read an nfpg.flows row (or any row type with the same column
 *		names) into a FlowRec for nf_format.
 *
 * Columns are found by name once per row type, so nf_format also works on
 * the rows nf_aggregate returns and on views that keep the column names.
 * A column that is missing or NULL reads as zero (0.0.0.0 for addresses),
 * which is how nfdump prints a field the exporter did not send.
 *
 *-------------------------------------------------------------------------
 */
#include "format.h"

#include <sys/socket.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/inet.h"

/* Column names, in FlowCol order. */
static const char *const col_names[] = {
	"first_seen", "last_seen", "received", "packets", "bytes", "out_packets",
	"out_bytes", "flows", "src_as", "dst_as", "next_as", "prev_as", "source_id",
	"src_port", "dst_port", "in_if", "out_if", "src_vlan", "dst_vlan", "proto",
	"tcp_flags", "src_tos", "dst_tos", "src_mask", "dst_mask", "engine_type",
	"engine_id", "fwd_status", "direction", "export_version", "src_addr",
	"dst_addr", "next_hop", "bgp_next_hop", "exporter", "in_src_mac",
	"out_dst_mac", "in_dst_mac", "out_src_mac", "mpls_labels"
};

StaticAssertDecl(lengthof(col_names) == FLOW_NCOLS, "column table out of step");

const char *
flow_col_name(FlowCol c)
{
	return col_names[c];
}

void
flow_cols_init(FlowCols *cols, TupleDesc desc)
{
	cols->typid = desc->tdtypeid;
	for (int c = 0; c < FLOW_NCOLS; c++)
	{
		cols->att[c] = -1;
		for (int i = 0; i < desc->natts; i++)
		{
			Form_pg_attribute a = TupleDescAttr(desc, i);

			if (!a->attisdropped && strcmp(NameStr(a->attname), col_names[c]) == 0)
				cols->att[c] = i;
		}
	}
}

static int64
as_int(Datum d, Oid type)
{
	switch (type)
	{
		case INT2OID:
			return DatumGetInt16(d);
		case INT4OID:
			return DatumGetInt32(d);
		case INT8OID:
		case TIMESTAMPTZOID:
		case TIMESTAMPOID:
			return DatumGetInt64(d);
		default:
			return 0;
	}
}

static void
as_addr(Datum d, FlowAddr *a)
{
	inet	   *ip = DatumGetInetPP(d);

	a->family = ip_family(ip) == PGSQL_AF_INET ? 4 : 6;
	memcpy(a->bytes, ip_addr(ip), a->family == 4 ? 4 : 16);
}

static void
as_mpls(Datum d, int64 *labels)
{
	ArrayType  *arr = DatumGetArrayTypeP(d);
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	if (ARR_ELEMTYPE(arr) != INT4OID)
		return;
	deconstruct_array(arr, INT4OID, 4, true, TYPALIGN_INT, &elems, &nulls, &n);
	for (int i = 0; i < n && i < 10; i++)
		labels[i] = nulls[i] ? 0 : DatumGetInt32(elems[i]);
}

/* A record with no field present: what nfdump prints for a field not sent. */
void
flow_rec_init(FlowRec *r)
{
	memset(r, 0, sizeof(*r));
	/* an absent receive time is nfdump's 0: the Unix epoch, not PostgreSQL's */
	r->received = INT64CONST(-946684800000000);
}

/* Column c of the record from a value of type type (flow_rec_type_ok). */
void
flow_rec_set(FlowRec *r, FlowCol c, Datum v, Oid type)
{
	static const size_t ints[] = {
		offsetof(FlowRec, first), offsetof(FlowRec, last), offsetof(FlowRec, received),
		offsetof(FlowRec, pkts), offsetof(FlowRec, bytes), offsetof(FlowRec, opkts),
		offsetof(FlowRec, obytes), offsetof(FlowRec, flows), offsetof(FlowRec, src_as),
		offsetof(FlowRec, dst_as), offsetof(FlowRec, next_as), offsetof(FlowRec, prev_as),
		offsetof(FlowRec, source_id), offsetof(FlowRec, src_port), offsetof(FlowRec, dst_port),
		offsetof(FlowRec, in_if), offsetof(FlowRec, out_if), offsetof(FlowRec, src_vlan),
		offsetof(FlowRec, dst_vlan), offsetof(FlowRec, proto), offsetof(FlowRec, tcp_flags),
		offsetof(FlowRec, src_tos), offsetof(FlowRec, dst_tos), offsetof(FlowRec, src_mask),
		offsetof(FlowRec, dst_mask), offsetof(FlowRec, engine_type), offsetof(FlowRec, engine_id),
		offsetof(FlowRec, fwd_status), offsetof(FlowRec, direction), offsetof(FlowRec, export_version)
	};
	static const size_t addrs[] = {
		offsetof(FlowRec, src), offsetof(FlowRec, dst), offsetof(FlowRec, next_hop),
		offsetof(FlowRec, bgp_next_hop), offsetof(FlowRec, exporter)
	};

	StaticAssertStmt(lengthof(ints) == FLOW_COL_VERSION + 1, "integer columns out of step");
	StaticAssertStmt(lengthof(addrs) == FLOW_COL_EXPORTER - FLOW_COL_SRC + 1, "address columns out of step");
	r->present |= FLOW_COL_BIT(c);
	if (c <= FLOW_COL_VERSION)
		*(int64 *) ((char *) r + ints[c]) = as_int(v, type);
	else if (c <= FLOW_COL_EXPORTER)
		as_addr(v, (FlowAddr *) ((char *) r + addrs[c - FLOW_COL_SRC]));
	else if (c <= FLOW_COL_MAC3)
		memcpy(r->mac[c - FLOW_COL_MAC0], DatumGetPointer(v), 6);
	else
		as_mpls(v, r->mpls);
}

/* Absent addresses print as 0.0.0.0. */
void
flow_rec_finish(FlowRec *r)
{
	FlowAddr   *addrs[] = {&r->src, &r->dst, &r->next_hop, &r->bgp_next_hop, &r->exporter};

	for (int k = 0; k < (int) lengthof(addrs); k++)
		if (addrs[k]->family == 0)
			addrs[k]->family = 4;
}

/*
 * Can column c be read from a value of this type?  Integers and times for
 * the counters and numbers, inet or cidr for addresses, macaddr, int[] for
 * MPLS labels.  The row path reads another integer type as zero (a view
 * may have a column of the name and another type); nf_format's planner
 * support passes columns one by one only when they have these types.
 */
bool
flow_rec_type_ok(FlowCol c, Oid type)
{
	if (c <= FLOW_COL_VERSION)
		return type == INT2OID || type == INT4OID || type == INT8OID ||
			type == TIMESTAMPTZOID || type == TIMESTAMPOID;
	if (c <= FLOW_COL_EXPORTER)
		return type == INETOID || type == CIDROID;
	if (c <= FLOW_COL_MAC3)
		return type == MACADDROID;
	return type == INT4ARRAYOID;
}

void
flow_rec_read(const FlowCols *cols, TupleDesc desc, HeapTupleHeader row, Datum *v, bool *nulls,
			  FlowRec *r)
{
	HeapTupleData tuple;

	tuple.t_len = HeapTupleHeaderGetDatumLength(row);
	ItemPointerSetInvalid(&tuple.t_self);
	tuple.t_tableOid = InvalidOid;
	tuple.t_data = row;
	heap_deform_tuple(&tuple, desc, v, nulls);

	flow_rec_init(r);
	for (int c = 0; c < FLOW_NCOLS; c++)
	{
		int			i = cols->att[c];

		if (i < 0 || nulls[i])
			continue;
		flow_rec_set(r, c, v[i], TupleDescAttr(desc, i)->atttypid);
	}
	flow_rec_finish(r);
}
