/*-------------------------------------------------------------------------
 *
 * format_header.c
 *		The header line nfdump 1.7.1 prints above records: for fmt:
 *		formats (and the predefined formats built from them) each token
 *		contributes its column title, literal text contributes as many
 *		blanks, and an address token gets 23 more blanks in front when
 *		IPv6 addresses print in full (-6, line6).
 *
 * nfdump builds this line while it parses the format; here it is built from
 * the parsed FmtSpec, so nf_format and the header always agree on what a
 * format means.  The titles are nfdump's, blanks included: scripts find
 * columns by them.
 *
 *-------------------------------------------------------------------------
 */
#include "format.h"

#include "fmgr.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(nf_format_header_full);

typedef struct TokenHeader
{
	FmtToken	token;
	bool		is_address;
	const char *title;
} TokenHeader;

static const TokenHeader headers[] = {
	{FT_NFV, false, "Ver"}, {FT_CNT, false, "Count"},
	{FT_TS, false, "Date first seen        "}, {FT_TSR, false, "Date first seen (raw)    "},
	{FT_TE, false, "Date last seen         "}, {FT_TER, false, "Date last seen (raw)     "},
	{FT_TR, false, "Date flow received     "}, {FT_TRR, false, "Date flow received (raw)  "},
	{FT_TD, false, "    Duration    "}, {FT_TDS, false, "    Duration    "},
	{FT_EXP, false, "Exp ID"}, {FT_PR, false, "Proto"},
	{FT_SA, true, "     Src IP Addr"}, {FT_DA, true, "     Dst IP Addr"},
	{FT_GSA, true, "     Src IP Addr(..)"}, {FT_GDA, true, "     Dst IP Addr(..)"},
	{FT_SN, true, "        Src Network"}, {FT_DN, true, "        Dst Network"},
	{FT_NH, true, "     Next-hop IP"}, {FT_NHB, true, " BGP next-hop IP"},
	{FT_RA, true, "       Router IP"},
	{FT_SAP, true, "     Src IP Addr:Port "}, {FT_DAP, true, "     Dst IP Addr:Port "},
	{FT_GSAP, true, "     Src IP Addr(..):Port "}, {FT_GDAP, true, "     Dst IP Addr(..):Port "},
	{FT_SP, false, "Src Pt"}, {FT_DP, false, "Dst Pt"}, {FT_IT, false, "ICMP-T"},
	{FT_IC, false, "ICMP-C"}, {FT_SAS, false, "Src AS"}, {FT_DAS, false, "Dst AS"},
	{FT_NAS, false, "Next AS"}, {FT_PAS, false, "Prev AS"}, {FT_IN, false, " Input"},
	{FT_INAM, false, " Input interface name"}, {FT_OUT, false, "Output"},
	{FT_ONAM, false, "Output interface name"}, {FT_PKT, false, " Packets"},
	{FT_IPKT, false, "  In Pkt"}, {FT_OPKT, false, " Out Pkt"}, {FT_BYT, false, "   Bytes"},
	{FT_IBYT, false, " In Byte"}, {FT_OBYT, false, "Out Byte"}, {FT_FL, false, "Flows"},
	{FT_FLG, false, "   Flags"}, {FT_TOS, false, "Tos"}, {FT_STOS, false, "STos"},
	{FT_DTOS, false, "DTos"}, {FT_DIR, false, "Dir"}, {FT_SMK, false, "SMask"},
	{FT_DMK, false, "DMask"}, {FT_FWD, false, "Fwd"}, {FT_BFD, false, "Bfd"},
	{FT_END, false, "End"}, {FT_SVLN, false, "SVlan"}, {FT_DVLN, false, "DVlan"},
	{FT_ISMC, false, "  In src MAC Addr"}, {FT_ODMC, false, " Out dst MAC Addr"},
	{FT_IDMC, false, "  In dst MAC Addr"}, {FT_OSMC, false, " Out src MAC Addr"},
	{FT_MPLS, false, "                                               MPLS labels 1-10                                                                   "},
	{FT_BPS, false, "     bps"}, {FT_PPS, false, "     pps"}, {FT_BPP, false, "   Bpp"},
	{FT_ENG, false, " engine"}, {FT_LBL, false, "           label"}, {FT_SC, false, "SC"},
	{FT_DC, false, "DC"}, {FT_SLOC, false, "Src IP location info"},
	{FT_DLOC, false, "Src IP location info"}, {FT_NL, false, ""}, {FT_IPL, false, ""},
	{FT_OPL, false, ""}, {FT_NBID, false, "nbar ID"},
	{FT_JA3, false, "                             ja3"}, {FT_SNI, false, "sni name"},
	{FT_NBNAM, false, "nbar name"}, {FT_ODID, false, "obsDomainID"},
	{FT_OPID, false, "  obsPointID"}, {FT_VRF, false, "  I-VRF-ID"}, {FT_IVRF, false, "  I-VRF-ID"},
	{FT_IVRFNAM, false, "  I-VRF-Name"}, {FT_EVRF, false, "  E-VRF-ID"},
	{FT_EVRFNAM, false, "  E-VRF-Name"}, {FT_NFC, false, "   Conn-ID"},
	{FT_TEVT, false, "Event time             "}, {FT_EVT, false, " Event"},
	{FT_XEVT, false, " XEvent"}, {FT_SGT, false, "  SGT  "}, {FT_MSEC, false, "   Event Time"},
	{FT_IACL, false, "Ingress ACL                     "},
	{FT_EACL, false, "Egress ACL                      "},
	{FT_XSA, false, "   X-late Src IP"}, {FT_XDA, false, "   X-late Dst IP"},
	{FT_XSP, false, "XsPort"}, {FT_XDP, false, "XdPort"},
	{FT_XSAP, true, "   X-Src IP Addr:Port "}, {FT_XDAP, true, "   X-Dst IP Addr:Port "},
	{FT_UNAME, false, "UserName"}, {FT_NEVT, false, " Event"}, {FT_PBSTART, false, "Pb-Start"},
	{FT_PBEND, false, "Pb-End"}, {FT_PBSTEP, false, "Pb-Step"}, {FT_PBSIZE, false, "Pb-Size"},
	{FT_CL, false, "C Latency"}, {FT_SL, false, "S latency"}, {FT_AL, false, "A latency"}
};

static const TokenHeader *
header_of(FmtToken token)
{
	for (int i = 0; i < (int) lengthof(headers); i++)
		if (headers[i].token == token)
			return &headers[i];
	return NULL;
}

void
fmt_render_header(StringInfo out, const FmtSpec *spec)
{
	for (int i = 0; i < spec->nitems; i++)
	{
		const FmtItem *it = &spec->items[i];
		const TokenHeader *h;

		if (it->token == FT_TEXT)
		{
			appendStringInfoSpaces(out, strlen(it->text));
			continue;
		}
		if (it->token == FT_MPLS1)
		{
			appendStringInfo(out, " MPLS lbl %d ", it->arg + 1);
			continue;
		}
		h = header_of(it->token);
		if (h == NULL)
			continue;
		if (h->is_address && spec->long_v6)
			appendStringInfoSpaces(out, 23);
		appendStringInfoString(out, h->title);
	}
}

/*
 * nfpg.nf_format_header(format, long_v6): the header nfdump prints before
 * records in this format; csv has its own column list, pipe and json none
 * (NULL; json's "[" is nfdump()'s).
 */
Datum
nf_format_header_full(PG_FUNCTION_ARGS)
{
	char	   *format = text_to_cstring(PG_GETARG_TEXT_PP(0));
	FmtSpec		spec;
	StringInfoData out;

	fmt_parse_format(format, &spec);
	spec.long_v6 |= PG_GETARG_BOOL(1);
	if (spec.kind == FMT_PIPE || spec.kind == FMT_JSON)
		PG_RETURN_NULL();
	if (spec.kind == FMT_CSV)
		PG_RETURN_TEXT_P(cstring_to_text("ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt,in,out,sas,das,smk,dmk,dtos,dir,nh,nhb,svln,dvln,ismc,odmc,idmc,osmc,mpls1,mpls2,mpls3,mpls4,mpls5,mpls6,mpls7,mpls8,mpls9,mpls10,cl,sl,al,ra,eng,exid,tr"));
	initStringInfo(&out);
	fmt_render_header(&out, &spec);
	PG_RETURN_TEXT_P(cstring_to_text_with_len(out.data, out.len));
}
