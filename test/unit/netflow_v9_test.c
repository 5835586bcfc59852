/*
 * netflow_v9_test.c
 *		NetFlow v9 decoding: every field flowgen sends (its pcap against its
 *		CSV), crafted templates for every other element we map, data before
 *		its template, options-template sampling (the Cisco layouts nfcapd
 *		1.7.1 ignores), ICMP in L4_DST_PORT, time wraps, sequence failures,
 *		malformed templates and flowsets, truncation at every offset.
 */
#include "unit.h"
#include "flowtest.h"

static const DecodeOptions no_opts = {0};
static NfAddr from;

#define SECS	1700000000u
#define UPTIME	3600000u		/* boot = SECS*1000 - 1 h */
#define BOOT	(SECS * 1000LL - UPTIME)

static void
v9_header(Buf *b, uint16_t count, uint32_t seq, uint32_t source_id)
{
	b->n = 0;
	put16(b, 9);
	put16(b, count);
	put32(b, UPTIME);
	put32(b, SECS);
	put32(b, seq);
	put32(b, source_id);
}

/* Open a flowset; close_set() pads it to 4 bytes and patches its length. */
static size_t
open_set(Buf *b, uint16_t id)
{
	size_t		at = b->n;

	put16(b, id);
	put16(b, 0);
	return at;
}

static void
close_set(Buf *b, size_t at)
{
	while ((b->n - at) % 4)
		put8(b, 0);
	patch16(b, at + 2, (uint32_t) (b->n - at));
}

static void
tmpl(Buf *b, uint16_t id, const uint16_t (*f)[2], int n)
{
	put16(b, id);
	put16(b, n);
	for (int i = 0; i < n; i++)
	{
		put16(b, f[i][0]);
		put16(b, f[i][1]);
	}
}

static DecodeResult
feed(ExporterTable *t, Buf *b, Collect *c)
{
	return decode_datagram(t, b->b, b->n, &from, 77, collect_emit, c);
}

static void
test_flowgen(void)
{
	ExporterTable *t = exporter_table_new(&no_opts);
	Collect		c = {0};
	int			not_ok = 0;
	size_t		nexp;
	int			n = replay_pcap(t, "v9.pcap", &c, &not_ok);
	int			bad = compare_csv(&c, "v9.csv", &nexp);

	CHECK(n > 0, "v9.pcap not found");
	CHECK(not_ok == 0, "%d datagrams not OK", not_ok);
	CHECK(bad == 0 && nexp == 600 && c.n == 600,
		  "flowgen v9: %d mismatches, %zu expected, %zu decoded", bad, nexp, c.n);
	{
		DrainSum	d = drain_sum(t);

		CHECK(d.exporters == 3 && d.failures == 0 && d.flows == 600 && d.templates == 6,
			  "flowgen v9 exporters %d failures %llu templates %u", d.exporters,
			  (unsigned long long) d.failures, d.templates);
	}
	for (size_t i = 0; i < c.n; i++)
		if (c.recs[i].export_version != 9 || c.recs[i].engine_id != c.recs[i].source_id)
		{
			CHECK(0, "record %zu: version/engine", i);
			break;
		}
	free(c.recs);
	exporter_table_free(t);
}

/* Every element of the map that flowgen does not send, in one template. */
static const uint16_t all_fields[][2] = {
	{8, 4}, {12, 4}, {4, 1}, {1, 4}, {2, 4}, {3, 4}, {5, 1}, {6, 1}, {7, 2}, {11, 2},
	{9, 1}, {13, 1}, {10, 4}, {14, 4}, {15, 4}, {16, 4}, {17, 4}, {18, 4},
	{22, 4}, {21, 4}, {23, 8}, {24, 8}, {38, 1}, {39, 1}, {55, 1},
	{56, 6}, {57, 6}, {80, 6}, {81, 6}, {58, 2}, {59, 2}, {61, 1},
	{70, 3}, {71, 3}, {72, 3}, {89, 1}, {128, 4}, {129, 4}, {999, 5}
};

static void
put_all_record(Buf *b)
{
	static const uint8_t mac[4][6] = {{1, 2, 3, 4, 5, 6}, {7, 8, 9, 10, 11, 12},
	{13, 14, 15, 16, 17, 18}, {19, 20, 21, 22, 23, 24}};

	put32(b, 0x0a0a0001);
	put32(b, 0x0a140001);
	put8(b, 6);
	put32(b, 1500);
	put32(b, 3);
	put32(b, 5);
	put8(b, 8);
	put8(b, 0x12);
	put16(b, 33000);
	put16(b, 25);
	put8(b, 16);
	put8(b, 24);
	put32(b, 3);
	put32(b, 4);
	put32(b, 0x0aff0001);
	put32(b, 65010);
	put32(b, 4200000000u);
	put32(b, 0x0afe0001);
	put32(b, UPTIME - 2000);	/* first */
	put32(b, UPTIME - 1000);	/* last */
	put64(b, 300);
	put64(b, 2);
	put8(b, 10);
	put8(b, 20);
	put8(b, 0x30);
	for (int i = 0; i < 4; i++)
		putbytes(b, mac[i], 6);
	put16(b, 10);
	put16(b, 20);
	put8(b, 1);
	put8(b, 0x00); put8(b, 0x06); put8(b, 0x42);	/* label 100, exp 1, bos 0 */
	put8(b, 0x00); put8(b, 0x0c); put8(b, 0x84);	/* label 200, exp 2 */
	put8(b, 0x49); put8(b, 0x3e); put8(b, 0x07);	/* label 300000, exp 3, bos 1 */
	put8(b, 64);
	put32(b, 65011);
	put32(b, 65009);
	put32(b, 0);				/* unknown element 999, 5 bytes */
	put8(b, 0);
}

static void
test_all_fields(void)
{
	ExporterTable *t = exporter_table_new(&no_opts);
	Collect		c = {0};
	Buf			b;
	size_t		at;
	FlowRec    *r;
	char		s[64];
	static const uint8_t mac2[6] = {7, 8, 9, 10, 11, 12};

	v9_header(&b, 2, 0, 0x0102);
	at = open_set(&b, 0);
	tmpl(&b, 300, all_fields, sizeof(all_fields) / sizeof(all_fields[0]));
	close_set(&b, at);
	at = open_set(&b, 300);
	put_all_record(&b);
	close_set(&b, at);
	CHECK(feed(t, &b, &c) == DECODE_OK, "decode");
	CHECK(c.n == 1, "records %zu", c.n);
	if (c.n != 1)
		return;
	r = &c.recs[0];
	CHECK(strcmp(addr_str(&r->src_addr, s), "10.10.0.1") == 0, "src %s", s);
	CHECK(strcmp(addr_str(&r->dst_addr, s), "10.20.0.1") == 0, "dst %s", s);
	CHECK(r->proto == 6 && r->bytes == 1500 && r->packets == 3 && r->flows == 5, "counters");
	CHECK(r->src_tos == 8 && r->tcp_flags == 0x12 && r->src_port == 33000 && r->dst_port == 25, "tos/flags/ports");
	CHECK(r->src_mask == 16 && r->dst_mask == 24 && (r->present & FR_SRC_MASK), "masks");
	CHECK(r->in_if == 3 && r->out_if == 4 && (r->present & FR_IN_IF) && (r->present & FR_OUT_IF), "ifs");
	CHECK(strcmp(addr_str(&r->next_hop, s), "10.255.0.1") == 0, "nh %s", s);
	CHECK(strcmp(addr_str(&r->bgp_next_hop, s), "10.254.0.1") == 0, "bgp nh %s", s);
	CHECK(r->src_as == 65010 && r->dst_as == 4200000000u, "as");
	CHECK(r->first_ms == BOOT + UPTIME - 2000 && r->last_ms == BOOT + UPTIME - 1000, "times %lld %lld",
		  (long long) r->first_ms, (long long) r->last_ms);
	CHECK(r->out_bytes == 300 && r->out_packets == 2 &&
		  (r->present & (FR_OUT_BYTES | FR_OUT_PACKETS)) == (FR_OUT_BYTES | FR_OUT_PACKETS), "out");
	CHECK(r->engine_type == 10 && r->engine_id == 20, "engine from #38/#39, not source id");
	CHECK(r->source_id == 0x0102, "source id");
	CHECK(r->dst_tos == 0x30 && (r->present & FR_DST_TOS), "dst tos");
	CHECK(memcmp(r->out_dst_mac, mac2, 6) == 0 && r->in_src_mac[0] == 1 &&
		  r->in_dst_mac[0] == 13 && r->out_src_mac[0] == 19 &&
		  (r->present & FR_OUT_SRC_MAC), "macs");
	CHECK(r->src_vlan == 10 && r->dst_vlan == 20 && (r->present & FR_DST_VLAN), "vlans");
	CHECK(r->direction == 1 && (r->present & FR_DIRECTION), "direction");
	CHECK(r->n_mpls == 3 && r->mpls[0] == (100 << 4 | 1 << 1) && r->mpls[1] == (200 << 4 | 2 << 1) &&
		  r->mpls[2] == (300000u << 4 | 3 << 1 | 1), "mpls %u %x %x %x", r->n_mpls,
		  r->mpls[0], r->mpls[1], r->mpls[2]);
	CHECK(r->fwd_status == 64 && (r->present & FR_FWD_STATUS), "fwd status");
	CHECK(r->next_as == 65011 && r->prev_as == 65009 && (r->present & FR_PREV_AS), "adjacent as");
	CHECK(!(r->present & FR_SAMPLING), "unsampled");
	free(c.recs);
	exporter_table_free(t);
}

static const uint16_t small_fields[][2] = {{8, 4}, {12, 4}, {4, 1}, {11, 2}, {2, 4}, {1, 4}, {48, 1}};

static void
put_small(Buf *b, uint8_t proto, uint16_t dport, uint8_t sampler)
{
	put32(b, 0x0a000001);
	put32(b, 0x0a000002);
	put8(b, proto);
	put16(b, dport);
	put32(b, 10);
	put32(b, 1000);
	put8(b, sampler);
}

/* Data first, template later: decoded when the template arrives. */
static void
test_data_before_template(void)
{
	ExporterTable *t = exporter_table_new(&no_opts);
	Collect		c = {0};
	Buf			b;
	size_t		at;

	v9_header(&b, 2, 0, 1);
	at = open_set(&b, 301);
	put_small(&b, 1, 0x0303, 0);	/* ICMP in L4_DST_PORT only (pmacct) */
	put_small(&b, 17, 53, 0);
	close_set(&b, at);
	CHECK(feed(t, &b, &c) == DECODE_OK && c.n == 0, "buffered, not decoded");
	CHECK(exporter_table_pending(t) == 1, "one set pending");
	v9_header(&b, 1, 1, 1);
	at = open_set(&b, 0);
	tmpl(&b, 301, small_fields, 7);
	close_set(&b, at);
	CHECK(feed(t, &b, &c) == DECODE_OK, "template");
	CHECK(c.n == 2 && exporter_table_pending(t) == 0, "decoded on template arrival: %zu", c.n);
	if (c.n == 2)
	{
		CHECK(c.recs[0].dst_port == 0x0303 && c.recs[0].proto == 1, "ICMP from L4_DST_PORT");
		CHECK(c.recs[0].first_ms == SECS * 1000LL, "no time element: export time");
		CHECK(c.recs[1].dst_port == 53 && c.recs[1].bytes == 1000, "second record");
	}
	/* a template that never comes: 20 sets for 16 slots, 4 evicted */
	for (int i = 0; i < 20; i++)
	{
		v9_header(&b, 1, 2 + i, 1);
		at = open_set(&b, 400);
		put_small(&b, 6, 80, 0);
		close_set(&b, at);
		feed(t, &b, &c);
	}
	CHECK(exporter_table_pending(t) == 16 && exporter_table_dropped(t, DROP_NO_TEMPLATE) == 4,
		  "bounded pending: %llu pending, %llu dropped",
		  (unsigned long long) exporter_table_pending(t),
		  (unsigned long long) exporter_table_dropped(t, DROP_NO_TEMPLATE));
	free(c.recs);
	exporter_table_free(t);
}

/* Data before its template in one datagram; a refresh that changes the layout. */
static void
test_same_datagram_and_refresh(void)
{
	static const uint16_t swapped[][2] = {{12, 4}, {8, 4}, {4, 1}, {11, 2}, {2, 4}, {1, 4}, {48, 1}};
	ExporterTable *t = exporter_table_new(&no_opts);
	Collect		c = {0};
	Buf			b;
	size_t		at;

	v9_header(&b, 2, 0, 1);
	at = open_set(&b, 301);
	put_small(&b, 17, 53, 0);
	close_set(&b, at);
	at = open_set(&b, 0);
	tmpl(&b, 301, small_fields, 7);
	close_set(&b, at);
	CHECK(feed(t, &b, &c) == DECODE_OK && c.n == 1 && exporter_table_pending(t) == 0,
		  "data before template, same datagram: %zu", c.n);
	v9_header(&b, 2, 1, 1);
	at = open_set(&b, 0);
	tmpl(&b, 301, swapped, 7);	/* same id, addresses swapped */
	close_set(&b, at);
	at = open_set(&b, 301);
	put_small(&b, 17, 53, 0);
	close_set(&b, at);
	feed(t, &b, &c);
	CHECK(c.n == 2 && c.recs[1].src_addr.addr[3] == 2 && c.recs[1].dst_addr.addr[3] == 1,
		  "refreshed layout applies");
	CHECK(drain_sum(t).templates == 1, "still one template");
	free(c.recs);
	exporter_table_free(t);
}

/* The three sampler layouts: #34+#35, #48+#49+#50, #34 alone. */
static void
test_sampling(void)
{
	DecodeOptions o = {.upscale = 1};
	ExporterTable *t = exporter_table_new(&o);
	Collect		c = {0};
	Buf			b;
	size_t		at;

	v9_header(&b, 3, 0, 5);
	at = open_set(&b, 0);
	tmpl(&b, 301, small_fields, 7);
	close_set(&b, at);
	at = open_set(&b, 1);
	put16(&b, 310);				/* Cisco: scope system, #48 #49 #50 */
	put16(&b, 4);
	put16(&b, 12);
	put16(&b, 1); put16(&b, 4);
	put16(&b, 48); put16(&b, 1);
	put16(&b, 49); put16(&b, 1);
	put16(&b, 50); put16(&b, 4);
	put16(&b, 311);				/* #34 + #35, no sampler id */
	put16(&b, 4);
	put16(&b, 8);
	put16(&b, 1); put16(&b, 4);
	put16(&b, 34); put16(&b, 4);
	put16(&b, 35); put16(&b, 1);
	close_set(&b, at);
	at = open_set(&b, 310);
	put32(&b, 0);
	put8(&b, 7);
	put8(&b, 2);
	put32(&b, 100);
	close_set(&b, at);
	at = open_set(&b, 311);
	put32(&b, 0);
	put32(&b, 50);
	put8(&b, 2);
	close_set(&b, at);
	at = open_set(&b, 301);
	put_small(&b, 6, 80, 7);	/* sampler 7: 1 in 100 */
	put_small(&b, 6, 80, 9);	/* unknown sampler: the generic 1 in 50 */
	close_set(&b, at);
	CHECK(feed(t, &b, &c) == DECODE_OK, "decode");
	CHECK(c.n == 2, "records %zu", c.n);
	if (c.n == 2)
	{
		CHECK(c.recs[0].sampling == 100 && c.recs[0].packets == 1000 && c.recs[0].bytes == 100000,
			  "sampler 7: %u %llu", c.recs[0].sampling, (unsigned long long) c.recs[0].packets);
		CHECK(c.recs[1].sampling == 50 && c.recs[1].packets == 500, "generic: %u", c.recs[1].sampling);
	}
	free(c.recs);
	exporter_table_free(t);
}

static void
test_times_and_sequence(void)
{
	static const uint16_t f[][2] = {{8, 4}, {12, 4}, {22, 4}, {21, 4}};
	ExporterTable *t = exporter_table_new(&no_opts);
	Collect		c = {0};
	Buf			b;
	size_t		at;
	DrainSum	d;

	v9_header(&b, 2, 10, 3);
	at = open_set(&b, 0);
	tmpl(&b, 260, f, 4);
	close_set(&b, at);
	at = open_set(&b, 260);
	put32(&b, 1); put32(&b, 2);
	put32(&b, 0xfffffc00u);		/* first before the uptime wrap */
	put32(&b, 500);
	close_set(&b, at);
	feed(t, &b, &c);
	CHECK(c.n == 1 && c.recs[0].first_ms == BOOT + 0xfffffc00LL - 0x100000000LL &&
		  c.recs[0].last_ms == BOOT + 500, "wrap");
	b.b[15] = 11;				/* seq 11: fine */
	feed(t, &b, &c);
	b.b[15] = 13;				/* seq 13: one failure */
	feed(t, &b, &c);
	d = drain_sum(t);
	CHECK(d.exporters == 1 && d.failures == 1 && d.packets == 3 && d.flows == 3 && d.templates == 1,
		  "drain: %d exporters, %llu failures, %llu packets", d.exporters,
		  (unsigned long long) d.failures, (unsigned long long) d.packets);
	free(c.recs);
	exporter_table_free(t);
}

static void
test_malformed(void)
{
	static const uint16_t zero[][2] = {{8, 4}, {12, 0}};
	static const uint16_t huge[][2] = {{8, 4}, {12, 0xffff}};
	static const uint16_t huge2[][2] = {{8, 40000}, {12, 40000}};
	ExporterTable *t = exporter_table_new(&no_opts);
	Collect		c = {0};
	Buf			b;
	size_t		at;

	v9_header(&b, 3, 0, 9);
	at = open_set(&b, 0);
	tmpl(&b, 500, zero, 2);
	tmpl(&b, 501, huge, 2);
	tmpl(&b, 502, huge2, 2);
	tmpl(&b, 503, small_fields, 7);
	close_set(&b, at);
	CHECK(feed(t, &b, &c) == DECODE_OK, "template set parsed");
	CHECK(exporter_table_dropped(t, DROP_BAD_TEMPLATE) == 3, "3 bad templates: %llu",
		  (unsigned long long) exporter_table_dropped(t, DROP_BAD_TEMPLATE));
	at = open_set(&b, 500);
	put32(&b, 1);
	close_set(&b, at);
	at = open_set(&b, 503);
	put_small(&b, 6, 1, 0);
	close_set(&b, at);
	feed(t, &b, &c);
	CHECK(c.n == 1, "only the good template decodes: %zu", c.n);

	/* a zero-length flowset must end the walk, not loop */
	v9_header(&b, 1, 0, 9);
	put16(&b, 503);
	put16(&b, 0);
	put32(&b, 0);
	CHECK(feed(t, &b, &c) == DECODE_MALFORMED, "zero-length flowset");
	/* a flowset claiming more than the datagram holds */
	v9_header(&b, 1, 0, 9);
	put16(&b, 503);
	put16(&b, 400);
	put32(&b, 0);
	CHECK(feed(t, &b, &c) == DECODE_TRUNCATED, "long flowset");
	/* a template claiming 1000 fields in 8 bytes */
	v9_header(&b, 1, 0, 9);
	at = open_set(&b, 0);
	put16(&b, 600);
	put16(&b, 1000);
	put32(&b, 0x00080004);
	close_set(&b, at);
	CHECK(feed(t, &b, &c) == DECODE_MALFORMED, "short template");
	/* loops of empty flowsets (4-byte sets of reserved ids) terminate */
	v9_header(&b, 1, 0, 9);
	for (int i = 0; i < 1000; i++)
	{
		put16(&b, 5);
		put16(&b, 4);
	}
	CHECK(feed(t, &b, &c) == DECODE_OK, "empty flowsets");

	/* truncation at every offset of template + data + options */
	v9_header(&b, 2, 0, 9);
	at = open_set(&b, 0);
	tmpl(&b, 300, all_fields, sizeof(all_fields) / sizeof(all_fields[0]));
	close_set(&b, at);
	at = open_set(&b, 300);
	put_all_record(&b);
	put_all_record(&b);
	close_set(&b, at);
	CHECK(truncate_everywhere(&no_opts, b.b, b.n, 2) == 0, "truncation");
	free(c.recs);
	exporter_table_free(t);
}

int
main(void)
{
	from = addr4("192.0.2.1");
	test_flowgen();
	test_all_fields();
	test_data_before_template();
	test_same_datagram_and_refresh();
	test_sampling();
	test_times_and_sequence();
	test_malformed();
	return unit_report("netflow_v9_test");
}
