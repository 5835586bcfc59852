/*-------------------------------------------------------------------------
 *
 * format.h
 *		nf_format(): nfdump 1.7.1's record output formats, byte for byte.
 *
 * format_row.c reads an nfpg.flows row into a FlowRec (absent fields read
 * as zero, as nfdump prints them); format_token.c renders the tokens of
 * `-o fmt:` and the csv/pipe layouts, with the field writers of
 * format_field.c; format.c parses format strings and is the SQL entry
 * point.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NFPG_FORMAT_H
#define NFPG_FORMAT_H

#include "postgres.h"

#include "access/htup.h"
#include "access/tupdesc.h"
#include "datatype/timestamp.h"
#include "lib/stringinfo.h"

/* An address as nfdump holds it: family 4 or 6, 16 bytes (IPv4 in 0..3). */
typedef struct FlowAddr
{
	int			family;
	uint8		bytes[16];
} FlowAddr;

typedef struct FlowRec
{
	TimestampTz first;
	TimestampTz last;
	TimestampTz received;
	int64		pkts, bytes, opkts, obytes, flows;
	int64		src_as, dst_as, next_as, prev_as, source_id;
	int64		src_port, dst_port, in_if, out_if, src_vlan, dst_vlan;
	int64		proto, tcp_flags, src_tos, dst_tos, src_mask, dst_mask;
	int64		engine_type, engine_id, fwd_status, direction, export_version;
	FlowAddr	src, dst, next_hop, bgp_next_hop, exporter;
	uint8		mac[4][6];		/* in_src, out_dst, in_dst, out_src */
	int64		mpls[10];
	uint64		present;		/* bit FLOW_HAS(column index of format_row.c): not NULL */
} FlowRec;

/* Tokens of fmt: (reference 5.2); FT_TEXT is literal text. */
typedef enum FmtToken
{
	FT_TEXT,
	FT_TS, FT_TE, FT_TR, FT_TSR, FT_TER, FT_TRR, FT_TD, FT_TDS, FT_PR,
	FT_SA, FT_DA, FT_SAP, FT_DAP, FT_GSA, FT_GDA, FT_GSAP, FT_GDAP, FT_SN, FT_DN,
	FT_SP, FT_DP, FT_IT, FT_IC, FT_NH, FT_NHB, FT_RA, FT_SAS, FT_DAS, FT_NAS, FT_PAS,
	FT_IN, FT_OUT, FT_INAM, FT_ONAM, FT_PKT, FT_IPKT, FT_OPKT, FT_BYT, FT_IBYT, FT_OBYT,
	FT_FL, FT_FLG, FT_TOS, FT_STOS, FT_DTOS, FT_DIR, FT_SMK, FT_DMK, FT_FWD, FT_BFD,
	FT_END, FT_SVLN, FT_DVLN, FT_ISMC, FT_ODMC, FT_IDMC, FT_OSMC, FT_MPLS1, FT_MPLS,
	FT_BPS, FT_PPS, FT_BPP, FT_ENG, FT_EXP, FT_NFV, FT_CNT, FT_LBL, FT_SC, FT_DC,
	FT_SLOC, FT_DLOC, FT_CL, FT_SL, FT_AL, FT_IPL, FT_OPL, FT_NBID, FT_NBNAM, FT_JA3,
	FT_SNI, FT_ODID, FT_OPID, FT_VRF, FT_IVRF, FT_EVRF, FT_IVRFNAM, FT_EVRFNAM, FT_NL,
	/* NSEL / NEL, always absent in nfpg.flows */
	FT_NFC, FT_TEVT, FT_EVT, FT_XEVT, FT_SGT, FT_MSEC, FT_IACL, FT_EACL,
	FT_XSA, FT_XDA, FT_XSP, FT_XDP, FT_XSAP, FT_XDAP, FT_UNAME, FT_NEVT,
	FT_PBSTART, FT_PBEND, FT_PBSTEP, FT_PBSIZE
} FmtToken;

typedef struct FmtItem
{
	FmtToken	token;
	int			arg;			/* FT_MPLS1: label index 0..8; FT_TEXT: strlen(text) */
	char	   *text;			/* FT_TEXT */
} FmtItem;

typedef enum FmtKind
{
	FMT_TOKENS, FMT_CSV, FMT_PIPE, FMT_JSON
} FmtKind;

typedef struct FmtSpec
{
	FmtKind		kind;
	bool		long_v6;		/* -6 / line6...: IPv6 addresses in full */
	bool		plain;			/* -N: counters unscaled, protocol numbers */
	int			nitems;
	FmtItem    *items;
} FmtSpec;

/*
 * The nfpg.flows columns nf_format reads (format_row.c finds them by name:
 * flow_col_name), numbered for FlowRec.present and for the column sets of
 * fmt_columns.
 */
typedef enum FlowCol
{
	FLOW_COL_FIRST, FLOW_COL_LAST, FLOW_COL_RECEIVED, FLOW_COL_PKTS, FLOW_COL_BYTES,
	FLOW_COL_OPKTS, FLOW_COL_OBYTES, FLOW_COL_FLOWS, FLOW_COL_SRC_AS, FLOW_COL_DST_AS,
	FLOW_COL_NEXT_AS, FLOW_COL_PREV_AS, FLOW_COL_SOURCE_ID, FLOW_COL_SRC_PORT,
	FLOW_COL_DST_PORT, FLOW_COL_IN_IF, FLOW_COL_OUT_IF, FLOW_COL_SRC_VLAN,
	FLOW_COL_DST_VLAN, FLOW_COL_PROTO, FLOW_COL_FLAGS, FLOW_COL_SRC_TOS,
	FLOW_COL_DST_TOS, FLOW_COL_SRC_MASK, FLOW_COL_DST_MASK, FLOW_COL_ENGINE_TYPE,
	FLOW_COL_ENGINE_ID, FLOW_COL_FWD, FLOW_COL_DIRECTION, FLOW_COL_VERSION,
	FLOW_COL_SRC, FLOW_COL_DST, FLOW_COL_NEXT_HOP, FLOW_COL_BGP_NEXT_HOP,
	FLOW_COL_EXPORTER, FLOW_COL_MAC0, FLOW_COL_MAC1, FLOW_COL_MAC2, FLOW_COL_MAC3,
	FLOW_COL_MPLS, FLOW_NCOLS
} FlowCol;

#define FLOW_COL_BIT(c)	(UINT64CONST(1) << (c))

/* format_row.c */
typedef struct FlowCols
{
	Oid			typid;
	int			att[FLOW_NCOLS];
} FlowCols;
extern const char *flow_col_name(FlowCol c);
extern void flow_cols_init(FlowCols *cols, TupleDesc desc);
extern void flow_rec_init(FlowRec *r);
extern void flow_rec_set(FlowRec *r, FlowCol c, Datum v, Oid type);
extern void flow_rec_finish(FlowRec *r);
extern bool flow_rec_type_ok(FlowCol c, Oid type);
extern void flow_rec_read(const FlowCols *cols, TupleDesc desc, HeapTupleHeader row, Datum *v,
						  bool *nulls, FlowRec *r);

/* format.c */
extern void fmt_parse_format(const char *format, FmtSpec *spec);

/* format_header.c */
extern void fmt_render_header(StringInfo out, const FmtSpec *spec);

/* format_token.c */
extern int	fmt_proto_name(int64 proto, char *buf, size_t len);
/*
 * format_field.c: one field's characters.  fmt_text_at writes n bytes of s
 * padded to width at p, which has room for both, and returns the end;
 * fmt_room makes room for a field of up to FMT_FIELD_MAX bytes at the end
 * of a StringInfo and fmt_done takes the end back.
 */
#define FMT_FIELD_MAX	64

static inline char *
fmt_room(StringInfo out)
{
	if (out->maxlen - out->len <= FMT_FIELD_MAX)
		enlargeStringInfo(out, FMT_FIELD_MAX);
	return out->data + out->len;
}

static inline void
fmt_done(StringInfo out, char *end)
{
	out->len = end - out->data;
	*end = '\0';
}

extern char *fmt_text_at(char *p, const char *s, int n, int width);
extern void fmt_put_text(StringInfo out, const char *s, int n, int width);
extern void fmt_put_int(StringInfo out, int64 v, int width);
extern void fmt_put_seconds(StringInfo out, int64 ms);
extern void fmt_put_time(StringInfo out, TimestampTz ts, bool ms);
extern void fmt_put_duration(StringInfo out, const FlowRec *r);
extern int	fmt_number(char *buf, size_t len, int64 v, bool plain, bool fixed);
/* buf has room for ADDR_TEXT_MAX (addr_text.h) bytes; returns the length */
extern int	fmt_addr_text(const FlowAddr *a, char *buf);
extern void fmt_render_token(StringInfo out, const FmtItem *item, const FlowRec *r, bool long_v6,
							 bool plain);
extern void fmt_render_csv(StringInfo out, const FlowRec *r);
extern void fmt_render_pipe(StringInfo out, const FlowRec *r);
extern void fmt_flags_text(int64 flags, char *buf);
extern uint64 fmt_columns(const FmtSpec *spec);

/* format_json.c */
extern void fmt_render_json(StringInfo out, const FlowRec *r);

#define FLOW_HAS(r, c)	(((r)->present >> (c)) & 1)

#endif							/* NFPG_FORMAT_H */
