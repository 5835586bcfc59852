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

void
flow_rec_read(const FlowCols *cols, TupleDesc desc, HeapTupleHeader row, FlowRec *r)
{
	HeapTupleData tuple;
	Datum	   *v = palloc(desc->natts * sizeof(Datum));
	bool	   *nulls = palloc(desc->natts * sizeof(bool));
	int64	   *ints[] = {
		&r->first, &r->last, &r->received, &r->pkts, &r->bytes, &r->opkts,
		&r->obytes, &r->flows, &r->src_as, &r->dst_as, &r->next_as, &r->prev_as,
		&r->source_id, &r->src_port, &r->dst_port, &r->in_if, &r->out_if,
		&r->src_vlan, &r->dst_vlan, &r->proto, &r->tcp_flags, &r->src_tos,
		&r->dst_tos, &r->src_mask, &r->dst_mask, &r->engine_type, &r->engine_id,
		&r->fwd_status, &r->direction, &r->export_version
	};
	FlowAddr   *addrs[] = {&r->src, &r->dst, &r->next_hop, &r->bgp_next_hop, &r->exporter};

	tuple.t_len = HeapTupleHeaderGetDatumLength(row);
	ItemPointerSetInvalid(&tuple.t_self);
	tuple.t_tableOid = InvalidOid;
	tuple.t_data = row;
	heap_deform_tuple(&tuple, desc, v, nulls);

	memset(r, 0, sizeof(*r));
	/* an absent receive time is nfdump's 0: the Unix epoch, not PostgreSQL's */
	r->received = INT64CONST(-946684800000000);
	for (int c = 0; c < FLOW_NCOLS; c++)
	{
		int			i = cols->att[c];

		if (i < 0 || nulls[i])
			continue;
		r->present |= UINT64CONST(1) << c;
		if (c <= FLOW_COL_VERSION)
			*ints[c] = as_int(v[i], TupleDescAttr(desc, i)->atttypid);
		else if (c <= FLOW_COL_EXPORTER)
			as_addr(v[i], addrs[c - FLOW_COL_SRC]);
		else if (c <= FLOW_COL_MAC3)
			memcpy(r->mac[c - FLOW_COL_MAC0], DatumGetPointer(v[i]), 6);
		else
			as_mpls(v[i], r->mpls);
	}
	for (int k = 0; k < (int) lengthof(addrs); k++)
		if (addrs[k]->family == 0)
			addrs[k]->family = 4;
	pfree(v);
	pfree(nulls);
}
