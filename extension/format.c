/*-------------------------------------------------------------------------
 *
 * format.c
 *		nfpg.nf_format(flow, format): one flow record as nfdump -o prints
 *		it.  Parses the format (line, long, extended, biline, bilong, the
 *		same with a trailing 6 for full IPv6, csv, pipe, fmt:..., or any
 *		text starting with %) and renders it with format_token.c.
 *
 * Two SQL entry points share the rendering: nf_format takes the row, and
 * nf_format_columns, which nf_format's planner support writes in its place
 * (format_support.c), the printed columns one by one.  The parsed format
 * and the column map are cached in fn_extra, so a query formatting a
 * million rows parses once.  As in nfdump, a token is % followed by letters
 * (and one digit for %mpls1..9), a predefined format name used as a token
 * (%line) expands in place, and an unknown token is an error that names
 * its position.
 *
 *-------------------------------------------------------------------------
 */
#include "format.h"

#include "funcapi.h"
#include "port/pg_bitutils.h"
#include "utils/builtins.h"
#include "utils/typcache.h"

PG_FUNCTION_INFO_V1(nf_format);
PG_FUNCTION_INFO_V1(nf_format_columns);
PG_FUNCTION_INFO_V1(nf_proto_name);

typedef struct TokenName
{
	const char *name;
	FmtToken	token;
} TokenName;

static const TokenName token_names[] = {
	{"ts", FT_TS}, {"tfs", FT_TS}, {"te", FT_TE}, {"tr", FT_TR}, {"tsr", FT_TSR},
	{"ter", FT_TER}, {"trr", FT_TRR}, {"td", FT_TD}, {"tds", FT_TDS}, {"pr", FT_PR},
	{"sa", FT_SA}, {"da", FT_DA}, {"sap", FT_SAP}, {"dap", FT_DAP}, {"gsa", FT_GSA},
	{"gda", FT_GDA}, {"gsap", FT_GSAP}, {"gdap", FT_GDAP}, {"sn", FT_SN}, {"dn", FT_DN},
	{"sp", FT_SP}, {"dp", FT_DP}, {"it", FT_IT}, {"ic", FT_IC}, {"nh", FT_NH},
	{"nhb", FT_NHB}, {"ra", FT_RA}, {"sas", FT_SAS}, {"das", FT_DAS}, {"nas", FT_NAS},
	{"pas", FT_PAS}, {"in", FT_IN}, {"out", FT_OUT}, {"inam", FT_INAM}, {"onam", FT_ONAM},
	{"pkt", FT_PKT}, {"ipkt", FT_IPKT}, {"opkt", FT_OPKT}, {"byt", FT_BYT},
	{"ibyt", FT_IBYT}, {"obyt", FT_OBYT}, {"fl", FT_FL}, {"flg", FT_FLG}, {"tos", FT_TOS},
	{"stos", FT_STOS}, {"dtos", FT_DTOS}, {"dir", FT_DIR}, {"smk", FT_SMK}, {"dmk", FT_DMK},
	{"fwd", FT_FWD}, {"bfd", FT_BFD}, {"end", FT_END}, {"svln", FT_SVLN}, {"dvln", FT_DVLN},
	{"ismc", FT_ISMC}, {"odmc", FT_ODMC}, {"idmc", FT_IDMC}, {"osmc", FT_OSMC},
	{"mpls", FT_MPLS}, {"bps", FT_BPS}, {"pps", FT_PPS}, {"bpp", FT_BPP}, {"eng", FT_ENG},
	{"exp", FT_EXP}, {"nfv", FT_NFV}, {"cnt", FT_CNT}, {"lbl", FT_LBL}, {"sc", FT_SC},
	{"dc", FT_DC}, {"sloc", FT_SLOC}, {"dloc", FT_DLOC}, {"cl", FT_CL}, {"sl", FT_SL},
	{"al", FT_AL}, {"ipl", FT_IPL}, {"opl", FT_OPL}, {"nbid", FT_NBID}, {"nbnam", FT_NBNAM},
	{"ja3", FT_JA3}, {"sni", FT_SNI}, {"odid", FT_ODID}, {"opid", FT_OPID}, {"vrf", FT_VRF},
	{"ivrf", FT_IVRF}, {"evrf", FT_EVRF}, {"ivrfnam", FT_IVRFNAM}, {"evrfnam", FT_EVRFNAM},
	{"n", FT_NL}, {"nfc", FT_NFC}, {"tevt", FT_TEVT}, {"evt", FT_EVT}, {"xevt", FT_XEVT},
	{"sgt", FT_SGT}, {"msec", FT_MSEC}, {"iacl", FT_IACL}, {"eacl", FT_EACL},
	{"xsa", FT_XSA}, {"xda", FT_XDA}, {"xsp", FT_XSP}, {"xdp", FT_XDP}, {"xsap", FT_XSAP},
	{"xdap", FT_XDAP}, {"uname", FT_UNAME}, {"nevt", FT_NEVT}, {"nsa", FT_XSA},
	{"nda", FT_XDA}, {"nsp", FT_XSP}, {"ndp", FT_XDP}, {"nsap", FT_XSAP}, {"ndap", FT_XDAP},
	{"pbstart", FT_PBSTART}, {"pbend", FT_PBEND}, {"pbstep", FT_PBSTEP}, {"pbsize", FT_PBSIZE}
};

/* Predefined formats (reference 5.1). */
static const struct
{
	const char *name;
	const char *fmt;
}			predefined[] = {
	{"line", "%ts %td %pr %sap -> %dap %pkt %byt %fl"},
	{"long", "%ts %td %pr %sap -> %dap %flg %tos %pkt %byt %fl"},
	{"extended", "%ts %td %pr %sap -> %dap %flg %tos %pkt %byt %pps %bps %bpp %fl"},
	{"biline", "%ts %td %pr %sap <-> %dap %opkt %ipkt %obyt %ibyt %fl"},
	{"bilong", "%ts %td %pr %sap <-> %dap %flg %tos %opkt %ipkt %obyt %ibyt %fl"},
	{"gline", "%ts %td %pr %gsap -> %gdap %pkt %byt %fl"},
	{"glong", "%ts %td %pr %gsap -> %gdap %flg %tos %pkt %byt %fl"},
	{"nsel", "%tevt %evt %xevt %pr %sap -> %dap %xsap -> %xdap %ibyt %obyt"},
	{"nel", "%tevt %nevt %pr %sap -> %dap %nsap -> %ndap"}
};


static const char *
predefined_format(const char *name, int len)
{
	for (int i = 0; i < (int) lengthof(predefined); i++)
		if ((int) strlen(predefined[i].name) == len &&
			strncmp(predefined[i].name, name, len) == 0)
			return predefined[i].fmt;
	return NULL;
}

static void
add_item(List **items, FmtToken token, int arg, char *text)
{
	FmtItem    *it = palloc(sizeof(FmtItem));

	it->token = token;
	it->arg = arg;
	it->text = text;
	*items = lappend(*items, it);
}

/* Parse fmt into items; base is fmt's offset in the user's text (errors). */
static void
parse_tokens(const char *fmt, List **items, int base, int depth)
{
	const char *p = fmt;

	while (*p)
	{
		const char *q = strchr(p, '%');
		int			len = 0;
		const char *pre;
		int			i;

		if (q == NULL)
			q = p + strlen(p);
		if (q > p)
			add_item(items, FT_TEXT, q - p, pnstrdup(p, q - p));
		if (*q == '\0')
			break;
		while (isalpha((unsigned char) q[1 + len]))
			len++;
		if (len == 2 && strncmp(q + 1, "ja3", 3) == 0)
			len = 3;			/* the one token with a digit */
		/* %mpls1..%mpls9: one digit (so %mpls10 is %mpls1 then "0", as 1.7.1) */
		if (len == 4 && strncmp(q + 1, "mpls", 4) == 0 && q[5] >= '1' && q[5] <= '9')
		{
			add_item(items, FT_MPLS1, q[5] - '1', NULL);
			p = q + 6;
			continue;
		}
		if (depth == 0 && (pre = predefined_format(q + 1, len)))
		{
			parse_tokens(pre, items, base, depth + 1);
			p = q + 1 + len;
			continue;
		}
		for (i = 0; i < (int) lengthof(token_names); i++)
			if ((int) strlen(token_names[i].name) == len &&
				strncmp(token_names[i].name, q + 1, len) == 0)
				break;
		if (i == (int) lengthof(token_names))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("Output format parse error at: %s", q),
					 errdetail("Unknown token at position %d of the format.",
							   (int) (base + (q - fmt)) + 1)));
		add_item(items, token_names[i].token, 0, NULL);
		p = q + 1 + len;
	}
}

void
fmt_parse_format(const char *format, FmtSpec *spec)
{
	List	   *items = NIL;
	int			n = strlen(format);
	char	   *name = pstrdup(format);
	const char *pre;
	ListCell   *lc;
	int			i = 0;

	memset(spec, 0, sizeof(*spec));
	if (strcmp(format, "csv") == 0)
		spec->kind = FMT_CSV;
	else if (strcmp(format, "pipe") == 0)
		spec->kind = FMT_PIPE;
	else if (strcmp(format, "json") == 0)
		spec->kind = FMT_JSON;
	if (spec->kind != FMT_TOKENS)
		return;

	/* line6, long6, ...: full-length IPv6 */
	if (n > 1 && format[n - 1] == '6' && predefined_format(format, n - 1))
	{
		spec->long_v6 = true;
		name[n - 1] = '\0';
	}
	if ((pre = predefined_format(name, strlen(name))))
		parse_tokens(pre, &items, 0, 1);
	else if (strncmp(format, "fmt:", 4) == 0)
		parse_tokens(format + 4, &items, 4, 0);
	else if (format[0] == '%')
		parse_tokens(format, &items, 0, 0);
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("nf_format: unknown output format \"%s\"", format),
				 errhint("Formats are line, long, extended, biline, bilong, gline, glong, nsel, nel (each also with a trailing 6), csv, pipe and fmt:<tokens>.")));

	spec->nitems = list_length(items);
	spec->items = palloc(Max(spec->nitems, 1) * sizeof(FmtItem));
	foreach(lc, items)
		spec->items[i++] = *(FmtItem *) lfirst(lc);
}

/*
 * What fn_extra keeps between rows: the parsed format, and how the values
 * reach a FlowRec, either a row type's column map (nf_format) or the
 * columns of the arguments (nf_format_columns).  A query formatting a
 * million rows parses once; a row costs the comparison of the format's
 * bytes with the cached ones.
 */
typedef struct FormatCache
{
	text	   *format;			/* with plain and long_v6: the format */
	bool		plain;
	bool		long_v6;
	FmtSpec		spec;
	/* nf_format: the row type, its columns, room to deform a row */
	Oid			typid;
	int32		typmod;
	FlowCols	cols;
	TupleDesc	desc;
	Datum	   *values;
	bool	   *nulls;
	/* nf_format_columns: argument 4 + i is column argcol[i] of type argtype[i] */
	int64		mask;
	int			nargs;
	FlowCol    *argcol;
	Oid		   *argtype;
} FormatCache;

static bool
same_format(const FormatCache *c, const text *format, bool plain, bool long_v6)
{
	return c && c->plain == plain && c->long_v6 == long_v6 &&
		VARSIZE_ANY_EXHDR(format) == VARSIZE_ANY_EXHDR(c->format) &&
		memcmp(VARDATA_ANY(format), VARDATA_ANY(c->format), VARSIZE_ANY_EXHDR(format)) == 0;
}

static FormatCache *
new_cache(FunctionCallInfo fcinfo, const text *format, bool plain, bool long_v6)
{
	FormatCache *c = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(FormatCache));
	MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);

	c->format = (text *) pg_detoast_datum_copy((struct varlena *) format);
	fmt_parse_format(text_to_cstring(format), &c->spec);
	c->plain = c->spec.plain = plain;
	c->long_v6 = long_v6;
	c->spec.long_v6 |= long_v6;
	MemoryContextSwitchTo(old);
	return c;
}

/*
 * The record's line, written into the text value it is returned as (a
 * StringInfo whose first VARHDRSZ bytes become the header): no copy.
 */
static text *
render(const FmtSpec *spec, const FlowRec *r)
{
	StringInfoData out;

	initStringInfo(&out);
	out.len = VARHDRSZ;
	switch (spec->kind)
	{
		case FMT_CSV:
			fmt_render_csv(&out, r);
			break;
		case FMT_PIPE:
			fmt_render_pipe(&out, r);
			break;
		case FMT_JSON:
			fmt_render_json(&out, r);
			break;
		case FMT_TOKENS:
			for (int i = 0; i < spec->nitems; i++)
				fmt_render_token(&out, &spec->items[i], r, spec->long_v6, spec->plain);
			break;
	}
	SET_VARSIZE(out.data, out.len);
	return (text *) out.data;
}

Datum
nf_format(PG_FUNCTION_ARGS)
{
	HeapTupleHeader row = PG_GETARG_HEAPTUPLEHEADER(0);
	text	   *format = PG_GETARG_TEXT_PP(1);
	/* nf_format(flow, format, plain, long_v6): nfdump's -N and -6 */
	bool		plain = PG_NARGS() > 2 && PG_GETARG_BOOL(2);
	bool		long_v6 = PG_NARGS() > 3 && PG_GETARG_BOOL(3);
	FormatCache *c = fcinfo->flinfo->fn_extra;
	Oid			typid = HeapTupleHeaderGetTypeId(row);
	int32		typmod = HeapTupleHeaderGetTypMod(row);
	FlowRec		r;

	if (!same_format(c, format, plain, long_v6) || c->typid != typid || c->typmod != typmod)
	{
		MemoryContext old;

		c = new_cache(fcinfo, format, plain, long_v6);
		old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
		c->desc = lookup_rowtype_tupdesc_copy(typid, typmod);
		flow_cols_init(&c->cols, c->desc);
		c->cols.typid = c->typid = typid;
		c->typmod = typmod;
		c->values = palloc(sizeof(Datum) * Max(c->desc->natts, 1));
		c->nulls = palloc(sizeof(bool) * Max(c->desc->natts, 1));
		MemoryContextSwitchTo(old);
		fcinfo->flinfo->fn_extra = c;
	}
	flow_rec_read(&c->cols, c->desc, row, c->values, c->nulls, &r);
	PG_RETURN_TEXT_P(render(&c->spec, &r));
}

/*
 * nfpg.nf_format_columns(format, plain, long_v6, columns, VARIADIC "any"):
 * nf_format of the columns a format reads, passed one by one.  nf_format's
 * planner support (format_support.c) writes it in place of nf_format(f,
 * format) where the scan gives the columns: the whole row is then neither
 * formed by the executor nor taken apart here, a fifth of the time of a
 * query that prints flows.  columns is the set of FlowCol bits (format.h)
 * of the arguments after it, in that order.  Called by hand with columns
 * that do not match its arguments, it is an error, never a wrong read.
 */
Datum
nf_format_columns(PG_FUNCTION_ARGS)
{
	text	   *format;
	bool		plain,
				long_v6;
	FormatCache *c = fcinfo->flinfo->fn_extra;
	FlowRec		r;

	for (int i = 0; i < 4; i++)
		if (PG_ARGISNULL(i))
			PG_RETURN_NULL();
	format = PG_GETARG_TEXT_PP(0);
	plain = PG_GETARG_BOOL(1);
	long_v6 = PG_GETARG_BOOL(2);
	if (!same_format(c, format, plain, long_v6) || c->mask != PG_GETARG_INT64(3))
	{
		int64		mask = PG_GETARG_INT64(3);
		int			n = 0;

		c = new_cache(fcinfo, format, plain, long_v6);
		c->mask = mask;
		c->nargs = PG_NARGS() - 4;
		c->argcol = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, sizeof(FlowCol) * Max(c->nargs, 1));
		c->argtype = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, sizeof(Oid) * Max(c->nargs, 1));
		for (int col = 0; col < FLOW_NCOLS; col++)
		{
			if (!(mask & FLOW_COL_BIT(col)))
				continue;
			if (n == c->nargs)
				break;
			c->argcol[n] = col;
			c->argtype[n] = get_fn_expr_argtype(fcinfo->flinfo, 4 + n);
			if (!flow_rec_type_ok(col, c->argtype[n]))
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("nf_format_columns: argument %d is of type %s, not one of column %s",
								5 + n, format_type_be(c->argtype[n]), flow_col_name(col))));
			n++;
		}
		if (n != c->nargs || (mask & ~(FLOW_COL_BIT(FLOW_NCOLS) - 1)) != 0 ||
			pg_popcount64((uint64) mask) != c->nargs)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("nf_format_columns: columns names %d columns, and %d values follow",
							pg_popcount64((uint64) mask), c->nargs)));
		fcinfo->flinfo->fn_extra = c;
	}
	flow_rec_init(&r);
	for (int i = 0; i < c->nargs; i++)
		if (!PG_ARGISNULL(4 + i))
			flow_rec_set(&r, c->argcol[i], PG_GETARG_DATUM(4 + i), c->argtype[i]);
	flow_rec_finish(&r);
	PG_RETURN_TEXT_P(render(&c->spec, &r));
}

/* nfpg.nf_proto_name(proto): the protocol as nfdump's %pr names it. */
Datum
nf_proto_name(PG_FUNCTION_ARGS)
{
	char		buf[16];

	fmt_proto_name(PG_GETARG_INT32(0), buf, sizeof(buf));
	PG_RETURN_TEXT_P(cstring_to_text(buf));
}
