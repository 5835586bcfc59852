/*-------------------------------------------------------------------------
 *
 * format_json.c
 *		-o json: one record as nfdump 1.7.1's output_json.c prints it.
 *
 * nfdump prints one block of keys per extension the record carries, in
 * extension order; nfpg has no extensions but knows which columns are NULL,
 * so a block prints when the exporter sent any of its fields: interfaces,
 * masks, forwarding status, direction or destination ToS (EXflowMisc), out
 * counters (EXcntFlow), VLANs, AS numbers, BGP and IP next hops, the router
 * (always: the exporter), MPLS labels, MACs, adjacent AS numbers.
 * "export_sysid" is nfdump's own numbering of exporters; nfpg prints the
 * exporter's source id there.  The brackets and commas between records are
 * nfdump()'s (36_present.sql).
 *
 *-------------------------------------------------------------------------
 */
#include "format.h"
#include "addr_text.h"

#include "pgtime.h"
#include "utils/datetime.h"

/* "YYYY-MM-DDThh:mm:ss.mmm" in the session time zone */
static void
put_iso(StringInfo out, const char *key, TimestampTz ts)
{
	struct pg_tm tm;
	fsec_t		fsec;
	int			tz;

	if (timestamp2tm(ts, &tz, &tm, &fsec, NULL, NULL) != 0)
		memset(&tm, 0, sizeof(tm));
	appendStringInfo(out, "\t\"%s\" : \"%04d-%02d-%02dT%02d:%02d:%02d.%03d\",\n", key, tm.tm_year,
					 tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, fsec / 1000);
}

static void
put_ip(StringInfo out, const char *key4, const char *key6, const FlowAddr *a)
{
	char		buf[ADDR_TEXT_MAX];

	fmt_addr_text(a, buf);
	appendStringInfo(out, "\t\"%s\" : \"%s\",\n", a->family == 4 ? key4 : key6, buf);
}

/* src_net / dst_net: the address under its mask, "" when both masks are 0 */
static void
net_text(const FlowAddr *a, int64 bits, bool any_mask, char *buf, size_t len)
{
	FlowAddr	m = *a;
	int			total = a->family == 4 ? 32 : 128;

	buf[0] = '\0';
	if (!any_mask)
		return;
	for (int i = 0; i < total / 8; i++)
	{
		int			keep = (int) bits - 8 * i;

		if (keep <= 0)
			m.bytes[i] = 0;
		else if (keep < 8)
			m.bytes[i] &= (uint8) (0xff << (8 - keep));
	}
	Assert(len >= ADDR_TEXT_MAX);
	fmt_addr_text(&m, buf);
}

void
fmt_render_json(StringInfo out, const FlowRec *r)
{
	char		flg[16];
	char		snet[ADDR_TEXT_MAX];
	char		dnet[ADDR_TEXT_MAX];
	bool		icmp = r->proto == 1 || r->proto == 58;

	appendStringInfo(out, "{\n\t\"type\" : \"FLOW\",\n\t\"sampled\" : 0,\n\t\"export_sysid\" : %lld,\n",
					 (long long) r->source_id);
	put_iso(out, "first", r->first);
	put_iso(out, "last", r->last);
	put_iso(out, "received", r->received);
	appendStringInfo(out, "\t\"in_packets\" : %lld,\n\t\"in_bytes\" : %lld,\n",
					 (long long) r->pkts, (long long) r->bytes);
	if (icmp)
		appendStringInfo(out, "\t\"proto\" : %lld,\n\t\"icmp_type\" : %lld,\n\t\"icmp_code\" : %lld,\n"
						 "\t\"src_tos\" : %lld,\n", (long long) r->proto,
						 (long long) (r->dst_port >> 8), (long long) (r->dst_port & 0xff),
						 (long long) r->src_tos);
	else
	{
		fmt_flags_text(r->tcp_flags, flg);
		appendStringInfo(out, "\t\"proto\" : %lld,\n\t\"tcp_flags\" : \"%s\",\n\t\"src_port\" : %lld,\n"
						 "\t\"dst_port\" : %lld,\n\t\"src_tos\" : %lld,\n", (long long) r->proto, flg,
						 (long long) r->src_port, (long long) r->dst_port, (long long) r->src_tos);
	}
	if (r->src.family == 4)
		appendStringInfoString(out, "\t\"src4_addr\" : \"");
	else
		appendStringInfoString(out, "\t\"src6_addr\" : \"");
	fmt_addr_text(&r->src, snet);
	fmt_addr_text(&r->dst, dnet);
	appendStringInfo(out, "%s\",\n\t\"dst%c_addr\" : \"%s\",\n", snet, r->src.family == 4 ? '4' : '6', dnet);
	if (FLOW_HAS(r, FLOW_COL_IN_IF) || FLOW_HAS(r, FLOW_COL_OUT_IF) || FLOW_HAS(r, FLOW_COL_SRC_MASK) ||
		FLOW_HAS(r, FLOW_COL_DST_MASK) || FLOW_HAS(r, FLOW_COL_FWD) ||
		FLOW_HAS(r, FLOW_COL_DIRECTION) || FLOW_HAS(r, FLOW_COL_DST_TOS))
	{
		bool		any_mask = r->src_mask || r->dst_mask;

		net_text(&r->src, r->src_mask, any_mask, snet, sizeof(snet));
		net_text(&r->dst, r->dst_mask, any_mask, dnet, sizeof(dnet));
		appendStringInfo(out, "\t\"input_snmp\" : %lld,\n\t\"output_snmp\" : %lld,\n"
						 "\t\"src_mask\" : %lld,\n\t\"dst_mask\" : %lld,\n\t\"src_net\" : \"%s\",\n"
						 "\t\"dst_net\" : \"%s\",\n\t\"fwd_status\" : %lld,\n\t\"direction\" : %lld,\n"
						 "\t\"dst_tos\" : %lld,\n", (long long) r->in_if, (long long) r->out_if,
						 (long long) r->src_mask, (long long) r->dst_mask, snet, dnet,
						 (long long) r->fwd_status, (long long) r->direction, (long long) r->dst_tos);
	}
	if (FLOW_HAS(r, FLOW_COL_OPKTS) || FLOW_HAS(r, FLOW_COL_OBYTES) || r->flows > 1)
		appendStringInfo(out, "\t\"out_packets\" : %lld,\n\t\"out_bytes\" : %lld,\n\t\"aggr_flows\" : %lld,\n",
						 (long long) r->opkts, (long long) r->obytes, (long long) r->flows);
	if (FLOW_HAS(r, FLOW_COL_SRC_VLAN) || FLOW_HAS(r, FLOW_COL_DST_VLAN))
		appendStringInfo(out, "\t\"src_vlan\" : %lld,\n\t\"dst_vlan\" : %lld,\n",
						 (long long) r->src_vlan, (long long) r->dst_vlan);
	if (FLOW_HAS(r, FLOW_COL_SRC_AS) || FLOW_HAS(r, FLOW_COL_DST_AS))
		appendStringInfo(out, "\t\"src_as\" : %lld,\n\t\"dst_as\" : %lld,\n",
						 (long long) r->src_as, (long long) r->dst_as);
	if (FLOW_HAS(r, FLOW_COL_BGP_NEXT_HOP))
		put_ip(out, "bgp4_next_hop", "bgp6_next_hop", &r->bgp_next_hop);
	if (FLOW_HAS(r, FLOW_COL_NEXT_HOP))
		put_ip(out, "ip4_next_hop", "ip6_next_hop", &r->next_hop);
	put_ip(out, "ip4_router", "ip6_router", &r->exporter);
	if (FLOW_HAS(r, FLOW_COL_MPLS))
		for (int i = 0; i < 10; i++)
			appendStringInfo(out, "\t\"mpls_%d\" : \"%lld-%lld-%lld\",\n", i + 1,
							 (long long) (r->mpls[i] >> 4), (long long) ((r->mpls[i] & 0xF) >> 1),
							 (long long) (r->mpls[i] & 1));
	if (FLOW_HAS(r, FLOW_COL_MAC0) || FLOW_HAS(r, FLOW_COL_MAC0 + 1) ||
		FLOW_HAS(r, FLOW_COL_MAC0 + 2) || FLOW_HAS(r, FLOW_COL_MAC0 + 3))
	{
		static const char *const keys[] = {"in_src_mac", "out_dst_mac", "in_dst_mac", "out_src_mac"};

		for (int i = 0; i < 4; i++)
			appendStringInfo(out, "\t\"%s\" : \"%02x:%02x:%02x:%02x:%02x:%02x\",\n", keys[i],
							 r->mac[i][0], r->mac[i][1], r->mac[i][2], r->mac[i][3], r->mac[i][4],
							 r->mac[i][5]);
	}
	if (FLOW_HAS(r, FLOW_COL_NEXT_AS) || FLOW_HAS(r, FLOW_COL_PREV_AS))
		appendStringInfo(out, "\t\"next_as\" : %lld,\n\t\"prev_as\" : %lld,\n",
						 (long long) r->next_as, (long long) r->prev_as);
	appendStringInfoString(out, "\t\"label\" : \"<none>\"\n}");
}
