/*-------------------------------------------------------------------------
 *
 * copybuf.c
 *		Encode flow records as COPY ... (FORMAT binary) tuples for
 *		nfpg.flows.
 *
 * Binary COPY skips PostgreSQL's text parsing of inet and timestamps,
 * which dominates text COPY (about 1.5x faster on this schema).  The wire
 * format of each type is the type's send function:
 *
 *	  bigint/integer/smallint	8/4/2 bytes, network order
 *	  timestamptz				int8 microseconds since 2000-01-01 00:00 UTC
 *	  inet						family (2 = v4, 3 = v6), prefix bits, is_cidr,
 *								address length, address bytes
 *	  macaddr					6 bytes
 *	  integer[]					ndim, has-nulls flag, element type oid, then per
 *								dimension length and lower bound, then each
 *								element as length + value
 *
 * Every tuple starts with its field count; a field is its byte length
 * followed by the bytes, or length -1 for NULL.  The columns are named
 * once, below, in encoding order; a buffer carries the subset in its cols.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "copybuf.h"

const char	copybuf_header[COPYBUF_HEADER_LEN] = "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0";
const char	copybuf_trailer[COPYBUF_TRAILER_LEN] = "\377\377";

/* The columns in encoding order; a bit per column in CopyBuf.cols. */
enum
{
	COL_FIRST_SEEN, COL_LAST_SEEN, COL_RECEIVED, COL_PACKETS, COL_BYTES,
	COL_SRC_AS, COL_DST_AS, COL_NEXT_AS, COL_PREV_AS, COL_OUT_PACKETS,
	COL_OUT_BYTES, COL_SOURCE_ID, COL_SRC_PORT, COL_DST_PORT, COL_IN_IF,
	COL_OUT_IF, COL_FLOWS, COL_SAMPLING, COL_SRC_VLAN, COL_DST_VLAN,
	COL_PROTO, COL_TCP_FLAGS, COL_SRC_TOS, COL_DST_TOS, COL_SRC_MASK,
	COL_DST_MASK, COL_ENGINE_TYPE, COL_ENGINE_ID, COL_FWD_STATUS, COL_DIRECTION,
	COL_EXPORT_VERSION, COL_SRC_ADDR, COL_DST_ADDR, COL_NEXT_HOP, COL_BGP_NEXT_HOP,
	COL_EXPORTER, COL_IN_SRC_MAC, COL_OUT_DST_MAC, COL_IN_DST_MAC, COL_OUT_SRC_MAC,
	COL_MPLS_LABELS, COPYBUF_NCOLUMNS
};

static const char *const column_names[COPYBUF_NCOLUMNS] = {
	"first_seen", "last_seen", "received", "packets", "bytes",
	"src_as", "dst_as", "next_as", "prev_as", "out_packets",
	"out_bytes", "source_id", "src_port", "dst_port", "in_if",
	"out_if", "flows", "sampling_interval", "src_vlan", "dst_vlan",
	"proto", "tcp_flags", "src_tos", "dst_tos", "src_mask",
	"dst_mask", "engine_type", "engine_id", "fwd_status", "direction",
	"export_version", "src_addr", "dst_addr", "next_hop", "bgp_next_hop",
	"exporter", "in_src_mac", "out_dst_mac", "in_dst_mac", "out_src_mac",
	"mpls_labels"
};

#define COL(c)		(UINT64_C(1) << (c))

/* Columns every row fills; the others are sent only if a row has them. */
#define REQUIRED_COLUMNS \
	(COL(COL_FIRST_SEEN) | COL(COL_LAST_SEEN) | COL(COL_RECEIVED) | COL(COL_PACKETS) | \
	 COL(COL_BYTES) | COL(COL_SOURCE_ID) | COL(COL_SRC_PORT) | COL(COL_DST_PORT) | \
	 COL(COL_FLOWS) | COL(COL_PROTO) | COL(COL_TCP_FLAGS) | COL(COL_SRC_TOS) | \
	 COL(COL_EXPORT_VERSION) | COL(COL_SRC_ADDR) | COL(COL_DST_ADDR) | COL(COL_EXPORTER))

/* FlowRec presence bits and the columns they fill. */
static const struct
{
	uint32_t	present;
	uint64_t	cols;
}			optional_columns[] = {
	{FR_SRC_AS, COL(COL_SRC_AS)}, {FR_DST_AS, COL(COL_DST_AS)},
	{FR_NEXT_AS, COL(COL_NEXT_AS)}, {FR_PREV_AS, COL(COL_PREV_AS)},
	{FR_OUT_PACKETS, COL(COL_OUT_PACKETS)}, {FR_OUT_BYTES, COL(COL_OUT_BYTES)},
	{FR_IN_IF, COL(COL_IN_IF)}, {FR_OUT_IF, COL(COL_OUT_IF)},
	{FR_SAMPLING, COL(COL_SAMPLING)}, {FR_SRC_VLAN, COL(COL_SRC_VLAN)},
	{FR_DST_VLAN, COL(COL_DST_VLAN)}, {FR_DST_TOS, COL(COL_DST_TOS)},
	{FR_SRC_MASK, COL(COL_SRC_MASK)}, {FR_DST_MASK, COL(COL_DST_MASK)},
	{FR_ENGINE, COL(COL_ENGINE_TYPE) | COL(COL_ENGINE_ID)},
	{FR_FWD_STATUS, COL(COL_FWD_STATUS)}, {FR_DIRECTION, COL(COL_DIRECTION)},
	{FR_IN_SRC_MAC, COL(COL_IN_SRC_MAC)}, {FR_OUT_DST_MAC, COL(COL_OUT_DST_MAC)},
	{FR_IN_DST_MAC, COL(COL_IN_DST_MAC)}, {FR_OUT_SRC_MAC, COL(COL_OUT_SRC_MAC)},
};

const uint64_t copybuf_all_columns = COL(COPYBUF_NCOLUMNS) - 1;

/* Microseconds between the Unix epoch and PostgreSQL's (2000-01-01). */
#define PG_EPOCH_OFFSET_US	INT64_C(946684800000000)
#define PGSQL_AF_INET		2	/* AF_INET as PostgreSQL's inet stores it */
#define PGSQL_AF_INET6		3
#define INT4OID				23

void
copybuf_init(CopyBuf *b, size_t initial)
{
	b->cap = initial < COPYBUF_MAX_ROW ? COPYBUF_MAX_ROW : initial;
	b->data = malloc(b->cap);
	if (b->data == NULL)
		abort();
	b->len = 0;
	b->rows = 0;
	b->cols = REQUIRED_COLUMNS;
}

void
copybuf_free(CopyBuf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->rows = 0;
}

void
copybuf_reset(CopyBuf *b)
{
	b->len = 0;
	b->rows = 0;
	b->cols = REQUIRED_COLUMNS;
}

static void
reserve(CopyBuf *b, size_t more)
{
	if (b->len + more <= b->cap)
		return;
	while (b->len + more > b->cap)
		b->cap *= 2;
	b->data = realloc(b->data, b->cap);
	if (b->data == NULL)
		abort();				/* out of memory: nothing sensible is left */
}

static inline char *
put16(char *p, uint16_t v)
{
	p[0] = (char) (v >> 8);
	p[1] = (char) v;
	return p + 2;
}

static inline char *
put32(char *p, uint32_t v)
{
	p[0] = (char) (v >> 24);
	p[1] = (char) (v >> 16);
	p[2] = (char) (v >> 8);
	p[3] = (char) v;
	return p + 4;
}

static inline char *
put64(char *p, uint64_t v)
{
	p = put32(p, (uint32_t) (v >> 32));
	return put32(p, (uint32_t) v);
}

static inline char *
put_null(char *p)
{
	return put32(p, UINT32_MAX);
}

static inline char *
field_int8(char *p, uint64_t v)
{
	return put64(put32(p, 8), v);
}

static inline char *
field_int4(char *p, uint32_t v)
{
	return put32(put32(p, 4), v);
}

static inline char *
field_int2(char *p, uint16_t v)
{
	return put16(put32(p, 2), v);
}

/* Counters are unsigned 64-bit on the wire; bigint holds only 2^63-1. */
static inline char *
field_counter(char *p, uint64_t v)
{
	return field_int8(p, v > INT64_MAX ? (uint64_t) INT64_MAX : v);
}

static inline char *
field_time(char *p, int64_t ms)
{
	return field_int8(p, (uint64_t) (ms * 1000 - PG_EPOCH_OFFSET_US));
}

static inline char *
opt_int8(char *p, int present, uint64_t v)
{
	return present ? field_int8(p, v) : put_null(p);
}

static inline char *
opt_int4(char *p, int present, uint32_t v)
{
	return present ? field_int4(p, v) : put_null(p);
}

static inline char *
opt_int2(char *p, int present, uint16_t v)
{
	return present ? field_int2(p, v) : put_null(p);
}

/* A NOT NULL address column: an absent address is written as 0.0.0.0. */
static char *
field_inet(char *p, const NfAddr *a)
{
	int			v6 = a->family == 6;
	int			n = v6 ? 16 : 4;

	p = put32(p, 4 + n);
	*p++ = v6 ? PGSQL_AF_INET6 : PGSQL_AF_INET;
	*p++ = (char) (n * 8);
	*p++ = 0;					/* inet, not cidr */
	*p++ = (char) n;
	if (a->family == 0)
		memset(p, 0, n);
	else
		memcpy(p, a->addr, n);
	return p + n;
}

static inline char *
opt_inet(char *p, const NfAddr *a)
{
	return a->family ? field_inet(p, a) : put_null(p);
}

static inline char *
opt_mac(char *p, int present, const uint8_t *mac)
{
	if (!present)
		return put_null(p);
	p = put32(p, 6);
	memcpy(p, mac, 6);
	return p + 6;
}

static char *
field_mpls(char *p, const FlowRec *r)
{
	int			n = r->n_mpls > FR_MAX_MPLS ? FR_MAX_MPLS : r->n_mpls;

	if (n == 0)
		return put_null(p);
	p = put32(p, 20 + 8 * n);
	p = put32(p, 1);			/* one dimension */
	p = put32(p, 0);			/* no NULL elements */
	p = put32(p, INT4OID);
	p = put32(p, n);
	p = put32(p, 1);			/* lower bound */
	for (int i = 0; i < n; i++)
		p = field_int4(p, r->mpls[i]);
	return p;
}

/* The columns a row needs: the required ones and those it has values for. */
static uint64_t
row_columns(const FlowRec *r)
{
	uint64_t	cols = REQUIRED_COLUMNS;

	for (size_t i = 0; i < sizeof(optional_columns) / sizeof(optional_columns[0]); i++)
		if (r->present & optional_columns[i].present)
			cols |= optional_columns[i].cols;
	if (r->next_hop.family)
		cols |= COL(COL_NEXT_HOP);
	if (r->bgp_next_hop.family)
		cols |= COL(COL_BGP_NEXT_HOP);
	if (r->n_mpls)
		cols |= COL(COL_MPLS_LABELS);
	return cols;
}

static uint32_t
get32(const char *p)
{
	const uint8_t *u = (const uint8_t *) p;

	return (uint32_t) u[0] << 24 | u[1] << 16 | u[2] << 8 | u[3];
}

/*
 * Re-encode the rows so far with more columns (NULL in the old rows).
 * Rare: a batch's column set settles with the first row of each template.
 */
static void
widen(CopyBuf *b, uint64_t cols)
{
	int			added = __builtin_popcountll(cols & ~b->cols);
	size_t		cap = b->len + b->rows * 4 * added + COPYBUF_MAX_ROW;
	char	   *out,
			   *p;
	const char *in = b->data;

	/* a batch's first row sets its columns: nothing to re-encode */
	if (b->rows == 0)
	{
		b->cols = cols;
		return;
	}
	if (cap < b->cap)
		cap = b->cap;
	out = p = malloc(cap);
	if (out == NULL)
		abort();
	for (uint64_t row = 0; row < b->rows; row++)
	{
		p = put16(p, (uint16_t) __builtin_popcountll(cols));
		in += 2;
		for (int c = 0; c < COPYBUF_NCOLUMNS; c++)
		{
			if (b->cols & COL(c))
			{
				uint32_t	len = get32(in);
				size_t		n = 4 + (len == UINT32_MAX ? 0 : len);

				memcpy(p, in, n);
				p += n;
				in += n;
			}
			else if (cols & COL(c))
				p = put_null(p);
		}
	}
	free(b->data);
	b->data = out;
	b->len = p - out;
	b->cap = cap;
	b->cols = cols;
}

/* Append one row with the buffer's columns, widening them if it needs more. */
void
copybuf_add_flow(CopyBuf *b, const FlowRec *r)
{
	uint32_t	m = r->present;
	uint64_t	need = row_columns(r),
				c;
	char	   *p;

	if (need & ~b->cols)
		widen(b, b->cols | need);
	c = b->cols;
	reserve(b, COPYBUF_MAX_ROW);
	p = b->data + b->len;
	p = put16(p, (uint16_t) __builtin_popcountll(c));

	p = field_time(p, r->first_ms);
	p = field_time(p, r->last_ms);
	p = field_time(p, r->received_ms);
	p = field_counter(p, r->packets);
	p = field_counter(p, r->bytes);
	if (c & COL(COL_SRC_AS))
		p = opt_int8(p, m & FR_SRC_AS, r->src_as);
	if (c & COL(COL_DST_AS))
		p = opt_int8(p, m & FR_DST_AS, r->dst_as);
	if (c & COL(COL_NEXT_AS))
		p = opt_int8(p, m & FR_NEXT_AS, r->next_as);
	if (c & COL(COL_PREV_AS))
		p = opt_int8(p, m & FR_PREV_AS, r->prev_as);
	if (c & COL(COL_OUT_PACKETS))
		p = (m & FR_OUT_PACKETS) ? field_counter(p, r->out_packets) : put_null(p);
	if (c & COL(COL_OUT_BYTES))
		p = (m & FR_OUT_BYTES) ? field_counter(p, r->out_bytes) : put_null(p);
	p = field_int8(p, r->source_id);

	p = field_int4(p, r->src_port);
	p = field_int4(p, r->dst_port);
	if (c & COL(COL_IN_IF))
		p = opt_int4(p, m & FR_IN_IF, r->in_if);
	if (c & COL(COL_OUT_IF))
		p = opt_int4(p, m & FR_OUT_IF, r->out_if);
	p = field_int4(p, r->flows);
	if (c & COL(COL_SAMPLING))
		p = opt_int4(p, m & FR_SAMPLING, r->sampling);
	if (c & COL(COL_SRC_VLAN))
		p = opt_int4(p, m & FR_SRC_VLAN, r->src_vlan);
	if (c & COL(COL_DST_VLAN))
		p = opt_int4(p, m & FR_DST_VLAN, r->dst_vlan);

	p = field_int2(p, r->proto);
	p = field_int2(p, r->tcp_flags);
	p = field_int2(p, r->src_tos);
	if (c & COL(COL_DST_TOS))
		p = opt_int2(p, m & FR_DST_TOS, r->dst_tos);
	if (c & COL(COL_SRC_MASK))
		p = opt_int2(p, m & FR_SRC_MASK, r->src_mask);
	if (c & COL(COL_DST_MASK))
		p = opt_int2(p, m & FR_DST_MASK, r->dst_mask);
	if (c & COL(COL_ENGINE_TYPE))
		p = opt_int2(p, m & FR_ENGINE, r->engine_type);
	if (c & COL(COL_ENGINE_ID))
		p = opt_int2(p, m & FR_ENGINE, r->engine_id);
	if (c & COL(COL_FWD_STATUS))
		p = opt_int2(p, m & FR_FWD_STATUS, r->fwd_status);
	if (c & COL(COL_DIRECTION))
		p = opt_int2(p, m & FR_DIRECTION, r->direction);
	p = field_int2(p, r->export_version);

	p = field_inet(p, &r->src_addr);
	p = field_inet(p, &r->dst_addr);
	if (c & COL(COL_NEXT_HOP))
		p = opt_inet(p, &r->next_hop);
	if (c & COL(COL_BGP_NEXT_HOP))
		p = opt_inet(p, &r->bgp_next_hop);
	p = field_inet(p, &r->exporter);
	if (c & COL(COL_IN_SRC_MAC))
		p = opt_mac(p, m & FR_IN_SRC_MAC, r->in_src_mac);
	if (c & COL(COL_OUT_DST_MAC))
		p = opt_mac(p, m & FR_OUT_DST_MAC, r->out_dst_mac);
	if (c & COL(COL_IN_DST_MAC))
		p = opt_mac(p, m & FR_IN_DST_MAC, r->in_dst_mac);
	if (c & COL(COL_OUT_SRC_MAC))
		p = opt_mac(p, m & FR_OUT_SRC_MAC, r->out_src_mac);
	if (c & COL(COL_MPLS_LABELS))
		p = field_mpls(p, r);

	b->len = p - b->data;
	b->rows++;
}

/* "first_seen, last_seen, ..." for a column set; false if out is too small. */
bool
copybuf_column_list(uint64_t cols, char *out, size_t len)
{
	size_t		used = 0;

	out[0] = '\0';
	for (int c = 0; c < COPYBUF_NCOLUMNS; c++)
	{
		int			n;

		if (!(cols & COL(c)))
			continue;
		n = snprintf(out + used, len - used, "%s%s", used ? ", " : "", column_names[c]);
		if (n < 0 || (size_t) n >= len - used)
			return false;
		used += n;
	}
	return true;
}

/*
 * The column set of a list copybuf_column_list made; false unless every
 * name is known, in encoding order, and the required columns are there.
 */
bool
copybuf_parse_columns(const char *list, uint64_t *cols)
{
	int			next = 0;

	*cols = 0;
	while (*list)
	{
		size_t		n = strcspn(list, ",");

		while (next < COPYBUF_NCOLUMNS &&
			   !(strlen(column_names[next]) == n && strncmp(list, column_names[next], n) == 0))
			next++;
		if (next == COPYBUF_NCOLUMNS)
			return false;
		*cols |= COL(next++);
		list += n;
		if (*list == ',')
			list += strspn(list, ", ");
	}
	return (*cols & REQUIRED_COLUMNS) == REQUIRED_COLUMNS;
}
