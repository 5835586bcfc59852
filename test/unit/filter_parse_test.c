/*
 * filter_parse_test.c
 *		Unit tests of the PostgreSQL-free nfdump filter parser: the tree it
 *		builds for each kind of primitive (printed as an S-expression), the
 *		precedence rules, the errors and their positions, and the limits.
 */
#include <stdio.h>
#include <string.h>

#include "filter_ast.h"
#include "unit.h"

static const char *ops[] = {"=", "<", "<=", ">", ">="};

static void
dump(const NfNode *n, char *buf, size_t size)
{
	size_t		len = strlen(buf);
	char	   *out = buf + len;
	size_t		room = size - len;

	switch (n->type)
	{
		case NFN_AND:
		case NFN_OR:
		case NFN_NOT:
			snprintf(out, room, "(%s", n->type == NFN_AND ? "and" : n->type == NFN_OR ? "or" : "not");
			for (int k = 0; k < n->nchildren; k++)
			{
				strncat(buf, " ", size - strlen(buf) - 1);
				dump(n->children[k], buf, size);
			}
			strncat(buf, ")", size - strlen(buf) - 1);
			return;
		case NFN_CONST:
			snprintf(out, room, "%s", n->bval ? "true" : "false");
			return;
		case NFN_CMP:
			if (n->param)
				snprintf(out, room, "%s[%d]%s%llu", nf_fields[n->field].column, n->param,
						 ops[n->op], (unsigned long long) n->value);
			else
				snprintf(out, room, "%s%s%llu", nf_fields[n->field].column, ops[n->op],
						 (unsigned long long) n->value);
			return;
		case NFN_BITS:
			snprintf(out, room, "%s&%llu=%llu", nf_fields[n->field].column,
					 (unsigned long long) n->value, (unsigned long long) n->value2);
			return;
		case NFN_NUMLIST:
			snprintf(out, room, "%s{%d}", nf_fields[n->field].column, n->nvalues);
			return;
		case NFN_ADDR:
			snprintf(out, room, "%s~v%d/%d", nf_fields[n->field].column, n->addr.family, n->addr.bits);
			return;
		case NFN_ADDRLIST:
			snprintf(out, room, "%s~{%d}", nf_fields[n->field].column, n->naddrs);
			return;
		case NFN_MAC:
			snprintf(out, room, "%s=%02x:%02x", nf_fields[n->field].column, n->mac[0], n->mac[5]);
			return;
		case NFN_MPLS_ANY:
			snprintf(out, room, "mpls_any=%llu", (unsigned long long) n->value);
			return;
	}
}

static void
expect_tree(const char *filter, const char *tree)
{
	NfParseError err;
	NfFilter   *f = nf_filter_parse(filter, strlen(filter), &err);
	char		buf[1024] = "";

	CHECK(f != NULL, "%s: %s (pos %d)", filter, err.message, err.pos);
	if (f == NULL)
		return;
	dump(nf_filter_root(f), buf, sizeof(buf));
	CHECK(strcmp(buf, tree) == 0, "%s: got %s, want %s", filter, buf, tree);
	nf_filter_free(f);
}

static void
expect_error(const char *filter, const char *message, int pos)
{
	NfParseError err;
	NfFilter   *f = nf_filter_parse(filter, strlen(filter), &err);

	CHECK(f == NULL, "%s: accepted", filter);
	if (f)
	{
		nf_filter_free(f);
		return;
	}
	CHECK(strstr(err.message, message) != NULL, "%s: message '%s', want '%s'", filter, err.message, message);
	CHECK(pos == 0 || err.pos == pos, "%s: position %d, want %d", filter, err.pos, pos);
}

int
main(int argc, char **argv)
{
	/* grammar and precedence */
	expect_tree("", "true");
	expect_tree("  # only a comment\n", "true");
	expect_tree("any", "true");
	expect_tree("not any", "(not true)");
	expect_tree("proto tcp or proto udp and port 53",
				"(or proto=6 (and proto=17 (or src_port=53 dst_port=53)))");
	expect_tree("not port 80 and any", "(and (not (or src_port=80 dst_port=80)) true)");
	expect_tree("PROTO TCP", "proto=6");
	expect_tree("tcp and dst port 587", "(and proto=6 dst_port=587)");
	expect_tree("not icmp6", "(not proto=58)");
	expect_tree("proto tcp&&port=80", "(and proto=6 (or src_port=80 dst_port=80))");
	expect_tree("(proto tcp)and(port 80)", "(and proto=6 (or src_port=80 dst_port=80))");
	expect_tree("!port 80||port 443", "(or (not (or src_port=80 dst_port=80)) (or src_port=443 dst_port=443))");
	expect_tree("not not port 80", "(not (not (or src_port=80 dst_port=80)))");
	expect_tree("(port 80) %web", "(or src_port=80 dst_port=80)");
	expect_tree("%web (port 80)", "(or src_port=80 dst_port=80)");
	expect_tree("proto tcp # comment\n and port 22", "(and proto=6 (or src_port=22 dst_port=22))");

	/* qualifiers */
	expect_tree("src and dst ip 10.0.0.1", "(and src_addr~v4/32 dst_addr~v4/32)");
	expect_tree("dst or src host 10.0.0.1", "(or src_addr~v4/32 dst_addr~v4/32)");
	expect_tree("src port > 1024", "src_port>1024");
	expect_tree("tos 0", "src_tos=0");
	expect_tree("dst tos 48", "dst_tos=48");
	expect_tree("previous as 3320", "prev_as=3320");
	expect_tree("next as 13335", "next_as=13335");
	expect_tree("in if 1 and out if 2", "(and in_if=1 out_if=2)");
	expect_tree("if 1", "(or in_if=1 out_if=1)");
	expect_tree("out bytes = 0", "out_bytes=0");
	expect_tree("in mac 00:11:22:33:44:55", "(or in_src_mac=00:55 in_dst_mac=00:55)");
	expect_tree("dst mac 0:1:2:3:4:5", "(or in_dst_mac=00:05 out_dst_mac=00:05)");
	expect_tree("out src mac de:ad:be:ef:00:02", "out_src_mac=de:02");

	/* numbers */
	expect_tree("bytes>=1k", "bytes>=1000");
	expect_tree("bytes > 2g", "bytes>2000000000");
	expect_tree("bps > 10m", "flow_bps>10000000");
	expect_tree("as 0x789", "(or src_as=1929 dst_as=1929)");
	expect_tree("port 1k", "(or src_port=1000 dst_port=1000)");
	expect_tree("packets > 18446744073709551615", "packets>18446744073709551615");

	/* addresses */
	expect_tree("net 172.16/16", "(or src_addr~v4/16 dst_addr~v4/16)");
	expect_tree("src net 192.168.0.0 255.255.0.0", "src_addr~v4/16");
	expect_tree("src net 2001:db8/32", "src_addr~v6/32");
	expect_tree("net ::/0", "(or src_addr~v6/0 dst_addr~v6/0)");
	expect_tree("ip in [ 1.2.3.4 5.6.7.0/24 ]", "(or src_addr~{2} dst_addr~{2})");
	expect_tree("ip in [1.1.1.0/24,2.2.2.2]", "(or src_addr~{2} dst_addr~{2})");
	expect_tree("next ip in [ 192.0.2.1 192.0.2.2 ]", "next_hop~{2}");
	expect_tree("router ip 127.0.0.1", "exporter~v4/32");
	expect_tree("inet6", "family=6");

	/* flags, icmp, mpls */
	expect_tree("flags SA", "(and proto=6 tcp_flags&18=18)");
	expect_tree("flags as", "(and proto=6 tcp_flags&18=18)");
	expect_tree("flags SAX", "(and proto=6 tcp_flags&63=63)");
	expect_tree("flags = 18", "(and proto=6 tcp_flags=18)");
	expect_tree("icmp-type 8", "(and (or proto=1 proto=58) (and dst_port>=2048 dst_port<=2303))");
	expect_tree("icmp-code 3", "(and (or proto=1 proto=58) dst_port&255=3)");
	expect_tree("mpls label2 > 0", "mpls_label[2]>0");
	expect_tree("mpls exp3 < 4", "mpls_exp[3]<4");
	expect_tree("mpls eos > 5", "mpls_eos_label>5");
	expect_tree("mpls any 100", "mpls_any=100");

	/* fields nfpg does not store read as zero */
	expect_tree("server latency < 100", "true");
	expect_tree("asa event ignore", "true");
	expect_tree("asa event create", "false");
	expect_tree("pblock end < 2048", "true");
	expect_tree("src port in pblock", "src_port=0");
	expect_tree("xip 0.0.0.0", "true");
	expect_tree("payload content \"a b\"", "false");
	expect_tree("tun proto 0", "true");
	expect_tree("fwdstat drop", "fwd_status=16");
	expect_tree("dir egress", "direction=1");

	/* rejected, with the position of the offending token */
	expect_error("net 10/8", "syntax error at '10'", 5);
	expect_error("net 172.16/24", "Too many netbits", 12);
	expect_error("ip 172.16", "incomplete IP address", 4);
	expect_error("ip 1.2.3.4/24", "syntax error at '/'", 11);
	expect_error("ip in [1.1.1.1, 2.2.2.0/24]", "syntax error at '/'", 24);
	expect_error("ip in []", "syntax error at ']'", 8);
	expect_error("port in [80,]", "syntax error at ']'", 13);
	expect_error("port != 80", "syntax error at '!'", 6);
	expect_error("port -1", "syntax error at '-1'", 6);
	expect_error("flags s", "Too many flags", 7);
	expect_error("flags 64", "Flags must be 0..63", 7);
	expect_error("vlan > 3", "syntax error at '>'", 6);
	expect_error("in port 80", "This token is not expected here!", 1);
	expect_error("prev as in [1]", "This token is not expected here!", 1);
	expect_error("proto ipv6", "syntax error", 7);
	expect_error("proto ipv6-icmp", "Unknown protocol", 7);
	expect_error("proto 256", "Protocol number > 255", 7);
	expect_error("router ip localhost", "hostname not allowed", 11);
	expect_error("mac 00:11:22:33:44", "Invalid MAC address format", 5);
	expect_error("mpls label11 1", "MPLS label out of range 1..10", 6);
	expect_error("mpls exp1 8", "MPLS exp value out of range", 11);
	expect_error("egress acl 4", "ingress/egress syntax error", 8);
	expect_error("ident foo.bar", "Illegal ident string", 7);
	expect_error("geo D", "Need a two letter geo country code", 5);
	expect_error("(port 80", "syntax error at end of filter", 9);
	expect_error("ip 10.0.0.1 and", "syntax error at end of filter", 16);
	expect_error("port 99999999999999999999", "number out of range", 6);
	expect_error("payload content 'x", "unterminated", 17);
	expect_error("port 80 \x01", "syntax error", 9);

	/* limits: depth and length */
	{
		static char deep[4096];
		static char big[NF_FILTER_MAX_LENGTH + 2];
		NfParseError err;
		NfFilter   *f;
		int			n = 0;

		for (int k = 0; k < 150; k++)
			n += sprintf(deep + n, "(");
		n += sprintf(deep + n, "any");
		for (int k = 0; k < 150; k++)
			n += sprintf(deep + n, ")");
		expect_error(deep, "nested deeper than", 102);
		memset(big, ' ', sizeof(big));
		CHECK(nf_filter_parse(big, sizeof(big), &err) == NULL, "too long accepted");

		/* a long flat chain is fine (no recursion per operand) */
		n = 0;
		for (int k = 0; k < 5000 && n < NF_FILTER_MAX_LENGTH - 100; k++)
			n += sprintf(big + n, "%sport %d", k ? " or " : "", k);
		f = nf_filter_parse(big, n, &err);
		CHECK(f != NULL && nf_filter_root(f)->nchildren == 5000, "long chain: %s", err.message);
		nf_filter_free(f);
	}
	return unit_report("filter_parse_test");
}
