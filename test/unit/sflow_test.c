/*
 * sflow_test.c
 *		sFlow v5 decoding: compact and expanded flow samples decoded from
 *		the sampled header (Ethernet, VLAN, IPv4, IPv6, TCP, UDP, ICMP) and
 *		from IPv4 data records, extended switch/router/gateway records,
 *		counter samples counted and not stored, sampling and upscaling,
 *		sequence failures, malformed lengths, truncation at every offset.
 */
#include "unit.h"
#include "flowtest.h"

static NfAddr from;

static size_t
open_len(Buf *b, uint32_t fmt)
{
	size_t		at;

	put32(b, fmt);
	at = b->n;
	put32(b, 0);
	return at;
}

static void
close_len(Buf *b, size_t at)
{
	uint32_t	n = (uint32_t) (b->n - at - 4);

	b->b[at] = (uint8_t) (n >> 24);
	b->b[at + 1] = (uint8_t) (n >> 16);
	b->b[at + 2] = (uint8_t) (n >> 8);
	b->b[at + 3] = (uint8_t) n;
}

static void
sflow_header(Buf *b, uint32_t seq, uint32_t nsamples)
{
	b->n = 0;
	put32(b, 5);
	put32(b, 1);
	put32(b, 0xc0000201);
	put32(b, 7);				/* sub-agent */
	put32(b, seq);
	put32(b, 123456);
	put32(b, nsamples);
}

static const uint8_t eth_tcp[] = {
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,	/* dst, src */
	0x81, 0x00, 0x00, 0x64, 0x08, 0x00,	/* VLAN 100, IPv4 */
	0x45, 0x48, 0x00, 0x3c, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x06, 0x00, 0x00,
	0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
	0x9c, 0x40, 0x01, 0xbb, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x12, 0x04, 0x00
};

static void
raw_record(Buf *b, uint32_t proto, uint32_t frame_len, const uint8_t *h, size_t n)
{
	size_t		at = open_len(b, 1);

	put32(b, proto);
	put32(b, frame_len);
	put32(b, 4);
	put32(b, (uint32_t) n);
	putbytes(b, h, n);
	while (n++ % 4)
		put8(b, 0);
	close_len(b, at);
}

static void
compact_sample(Buf *b)
{
	size_t		s = open_len(b, 1),
				r;

	put32(b, 1);				/* sequence */
	put32(b, 3);				/* source id */
	put32(b, 400);				/* rate */
	put32(b, 4000);
	put32(b, 0);
	put32(b, 5);				/* input */
	put32(b, 0x80000006);		/* output, format bits set */
	put32(b, 4);
	raw_record(b, 1, 1518, eth_tcp, sizeof(eth_tcp));
	r = open_len(b, 1001);
	put32(b, 100); put32(b, 0); put32(b, 200); put32(b, 0);
	close_len(b, r);
	r = open_len(b, 1002);
	put32(b, 1); put32(b, 0x0a0000fe); put32(b, 24); put32(b, 16);
	close_len(b, r);
	r = open_len(b, 1003);
	put32(b, 1); put32(b, 0x0a0000fd);
	put32(b, 65000); put32(b, 65001); put32(b, 65002);
	put32(b, 2);				/* path segments */
	put32(b, 2); put32(b, 2); put32(b, 3356); put32(b, 1299);
	put32(b, 2); put32(b, 1); put32(b, 15169);
	put32(b, 0); put32(b, 0);
	close_len(b, r);
	close_len(b, s);
}

static void
expanded_sample(Buf *b)
{
	static const uint8_t ip6_udp[] = {
		0x60, 0x00, 0x00, 0x00, 0x00, 0x10, 0x11, 0x40,
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
		0x14, 0xe9, 0x00, 0x35, 0x00, 0x10, 0x00, 0x00
	};
	static const uint8_t ip4_icmp[] = {
		0x45, 0x00, 0x00, 0x1c, 0, 0, 0, 0, 0x40, 0x01, 0, 0,
		10, 0, 0, 1, 10, 0, 0, 2, 0x03, 0x03, 0, 0
	};
	size_t		s = open_len(b, 3);

	put32(b, 1); put32(b, 0); put32(b, 3);
	put32(b, 1000);				/* rate */
	put32(b, 9999); put32(b, 0);
	put32(b, 0); put32(b, 7); put32(b, 0); put32(b, 8);
	put32(b, 1);
	raw_record(b, 12, 100, ip6_udp, sizeof(ip6_udp));
	close_len(b, s);
	s = open_len(b, 3);
	put32(b, 2); put32(b, 0); put32(b, 3);
	put32(b, 1000);
	put32(b, 9999); put32(b, 0);
	put32(b, 0); put32(b, 7); put32(b, 0); put32(b, 8);
	put32(b, 1);
	raw_record(b, 11, 46, ip4_icmp, sizeof(ip4_icmp));
	close_len(b, s);
}

static void
counter_sample(Buf *b)
{
	size_t		s = open_len(b, 2),
				r;

	put32(b, 1); put32(b, 3); put32(b, 1);
	r = open_len(b, 1);
	for (int i = 0; i < 22; i++)
		put32(b, 0);
	close_len(b, r);
	close_len(b, s);
}

static void
test_compact(void)
{
	DecodeOptions o = {.upscale = 1};
	ExporterTable *t = exporter_table_new(&o);
	Collect		c = {0};
	Buf			b;
	FlowRec    *r;
	char		s[64];
	DrainSum	d;

	sflow_header(&b, 1, 2);
	compact_sample(&b);
	counter_sample(&b);
	CHECK(decode_datagram(t, b.b, b.n, &from, 5555, collect_emit, &c) == DECODE_OK, "decode");
	CHECK(c.n == 1, "records %zu", c.n);
	if (c.n != 1)
		return;
	r = &c.recs[0];
	CHECK(r->export_version == 0x85 && r->source_id == 7, "version/sub-agent");
	CHECK(r->first_ms == 5555 && r->last_ms == 5555 && r->received_ms == 5555, "times");
	CHECK(r->packets == 400 && r->bytes == 400 * 1518 && r->sampling == 400, "upscaled: %llu %llu",
		  (unsigned long long) r->packets, (unsigned long long) r->bytes);
	CHECK(strcmp(addr_str(&r->src_addr, s), "192.168.0.1") == 0, "src %s", s);
	CHECK(strcmp(addr_str(&r->dst_addr, s), "192.168.0.199") == 0, "dst %s", s);
	CHECK(r->proto == 6 && r->src_port == 40000 && r->dst_port == 443 && r->tcp_flags == 0x12 &&
		  r->src_tos == 0x48, "tcp: %u %u %u %x", r->proto, r->src_port, r->dst_port, r->tcp_flags);
	CHECK(r->in_if == 5 && r->out_if == 6, "ifs %u %u", r->in_if, r->out_if);
	CHECK(r->in_src_mac[0] == 0x66 && r->out_dst_mac[0] == 0x00 && r->out_dst_mac[5] == 0x55 &&
		  (r->present & FR_IN_SRC_MAC), "macs");
	CHECK(r->src_vlan == 100 && r->dst_vlan == 200, "vlans %u %u", r->src_vlan, r->dst_vlan);
	CHECK(r->src_mask == 24 && r->dst_mask == 16 &&
		  strcmp(addr_str(&r->next_hop, s), "10.0.0.254") == 0, "router: nh %s", s);
	CHECK(r->src_as == 65001 && r->dst_as == 15169 &&
		  strcmp(addr_str(&r->bgp_next_hop, s), "10.0.0.253") == 0, "gateway: %u %u", r->src_as, r->dst_as);
	d = drain_sum(t);
	CHECK(d.counter_samples == 1 && d.flows == 1 && d.packets == 1, "counter sample counted");
	free(c.recs);
	exporter_table_free(t);
}

static void
test_expanded(void)
{
	DecodeOptions o = {0};
	ExporterTable *t = exporter_table_new(&o);
	Collect		c = {0};
	Buf			b;
	char		s[64];

	sflow_header(&b, 10, 2);
	expanded_sample(&b);
	CHECK(decode_datagram(t, b.b, b.n, &from, 1, collect_emit, &c) == DECODE_OK, "decode");
	CHECK(c.n == 2, "records %zu", c.n);
	if (c.n == 2)
	{
		FlowRec    *r = &c.recs[0];

		CHECK(r->src_addr.family == 6 && strcmp(addr_str(&r->dst_addr, s), "2001:db8::2") == 0 &&
			  r->proto == 17 && r->src_port == 5353 && r->dst_port == 53, "ipv6 udp");
		CHECK(r->packets == 1 && r->bytes == 100 && r->sampling == 1000, "not upscaled");
		CHECK(r->in_if == 7 && r->out_if == 8, "expanded ifs");
		r = &c.recs[1];
		CHECK(r->proto == 1 && r->src_port == 0 && r->dst_port == 0x0303, "icmp %u %x",
			  r->src_port, r->dst_port);
	}
	sflow_header(&b, 12, 0);	/* 11 is missing */
	decode_datagram(t, b.b, b.n, &from, 1, collect_emit, &c);
	CHECK(drain_sum(t).failures == 1, "sequence failure");
	free(c.recs);
	exporter_table_free(t);
}

static void
test_ip_data_record(void)
{
	ExporterTable *t = exporter_table_new(NULL);
	Collect		c = {0};
	Buf			b;
	size_t		s,
				r;

	sflow_header(&b, 1, 1);
	s = open_len(&b, 1);
	put32(&b, 1); put32(&b, 3); put32(&b, 10); put32(&b, 0); put32(&b, 0);
	put32(&b, 1); put32(&b, 2); put32(&b, 1);
	r = open_len(&b, 3);
	put32(&b, 84); put32(&b, 1); put32(&b, 0x0a000001); put32(&b, 0x0a000002);
	put32(&b, 8); put32(&b, 0); put32(&b, 0); put32(&b, 0);
	close_len(&b, r);
	close_len(&b, s);
	CHECK(decode_datagram(t, b.b, b.n, &from, 1, collect_emit, &c) == DECODE_OK && c.n == 1, "ip data");
	CHECK(c.n == 1 && c.recs[0].bytes == 84 && c.recs[0].dst_port == 0x0800 && c.recs[0].src_port == 0,
		  "icmp echo from ip data");
	free(c.recs);
	exporter_table_free(t);
}

static void
test_malformed(void)
{
	ExporterTable *t = exporter_table_new(NULL);
	Collect		c = {0};
	Buf			b;
	DecodeOptions o = {0};

	sflow_header(&b, 1, 1000000);	/* a million samples announced, none sent */
	CHECK(decode_datagram(t, b.b, b.n, &from, 1, collect_emit, &c) == DECODE_TRUNCATED, "nsamples");
	sflow_header(&b, 1, 1);
	put32(&b, 1);
	put32(&b, 0xfffffff0u);		/* sample length overflowing */
	put32(&b, 0);
	CHECK(decode_datagram(t, b.b, b.n, &from, 1, collect_emit, &c) == DECODE_TRUNCATED, "sample length");
	sflow_header(&b, 1, 1);
	{
		size_t		s = open_len(&b, 1);

		put32(&b, 1); put32(&b, 3); put32(&b, 10); put32(&b, 0); put32(&b, 0);
		put32(&b, 1); put32(&b, 2);
		put32(&b, 0xffffffffu);	/* records */
		close_len(&b, s);
	}
	CHECK(decode_datagram(t, b.b, b.n, &from, 1, collect_emit, &c) == DECODE_MALFORMED &&
		  exporter_table_dropped(t, DROP_BAD_SAMPLE) == 1, "record count");
	b.n = 0;
	put32(&b, 5);
	put32(&b, 9);				/* agent address type 9 */
	CHECK(decode_datagram(t, b.b, b.n, &from, 1, collect_emit, &c) == DECODE_TRUNCATED, "agent type");
	CHECK(c.n == 0, "nothing emitted");

	sflow_header(&b, 1, 4);
	compact_sample(&b);
	expanded_sample(&b);
	counter_sample(&b);
	CHECK(truncate_everywhere(&o, b.b, b.n, 3) == 0, "truncation");
	free(c.recs);
	exporter_table_free(t);
}

int
main(void)
{
	from = addr4("192.0.2.20");
	test_compact();
	test_expanded();
	test_ip_data_record();
	test_malformed();
	return unit_report("sflow_test");
}
