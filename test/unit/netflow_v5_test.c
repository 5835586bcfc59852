/*
 * netflow_v5_test.c
 *		NetFlow v5 / v7 decoding: every field flowgen sends (its pcap against
 *		its CSV), crafted records for the rest (masks, engine, sampling, ICMP,
 *		time wraps), sequence failures, truncation at every offset.
 */
#include "unit.h"
#include "flowtest.h"

static const DecodeOptions no_opts = {0};

/* A v5 header; records follow with v5_rec(). */
static void
v5_header(Buf *b, uint16_t version, uint16_t count, uint32_t uptime, uint32_t secs,
		  uint32_t nsecs, uint32_t seq, uint8_t etype, uint8_t eid, uint16_t sampling)
{
	b->n = 0;
	put16(b, version);
	put16(b, count);
	put32(b, uptime);
	put32(b, secs);
	put32(b, nsecs);
	put32(b, seq);
	put8(b, etype);
	put8(b, eid);
	put16(b, sampling);
}

static void
v5_rec(Buf *b, uint32_t first, uint32_t last, uint8_t proto, uint16_t sport, uint16_t dport)
{
	put32(b, 0x0a000001);		/* 10.0.0.1 */
	put32(b, 0xc0a80102);		/* 192.168.1.2 */
	put32(b, 0xc0000201);		/* 192.0.2.1 */
	put16(b, 3);				/* input */
	put16(b, 4);				/* output */
	put32(b, 10);				/* packets */
	put32(b, 5000);				/* bytes */
	put32(b, first);
	put32(b, last);
	put16(b, sport);
	put16(b, dport);
	put8(b, 0);
	put8(b, 0x1b);				/* FSPA */
	put8(b, proto);
	put8(b, 0x48);				/* tos */
	put16(b, 65001);
	put16(b, 65002);
	put8(b, 24);
	put8(b, 16);
	put16(b, 0);
}

static void
test_flowgen(void)
{
	ExporterTable *t = exporter_table_new(&no_opts);
	Collect		c = {0};
	int			not_ok = 0;
	size_t		nexp;
	int			n = replay_pcap(t, "v5.pcap", &c, &not_ok);
	int			bad = compare_csv(&c, "v5.csv", &nexp);

	CHECK(n > 0, "v5.pcap not found");
	CHECK(not_ok == 0, "%d datagrams not OK", not_ok);
	CHECK(bad == 0 && nexp == 400 && c.n == 400,
		  "flowgen v5: %d mismatches, %zu expected, %zu decoded", bad, nexp, c.n);
	for (size_t i = 0; i < c.n; i++)
	{
		FlowRec    *r = &c.recs[i];

		if (r->export_version != 5 || r->engine_id != r->source_id || r->engine_type != 0 ||
			!(r->present & FR_ENGINE) || (r->present & FR_SAMPLING) || r->flows != 1)
		{
			CHECK(0, "record %zu: version %u engine %u/%u", i, r->export_version,
				  r->engine_type, r->engine_id);
			break;
		}
	}
	free(c.recs);
	exporter_table_free(t);
}

static int	drained;
static uint64_t drained_failures,
			drained_packets,
			drained_flows;

static void
drain_fn(void *arg, const ExporterStats *s)
{
	drained++;
	drained_failures += s->sequence_failures;
	drained_packets += s->packets;
	drained_flows += s->flows;
}

static void
test_fields(void)
{
	DecodeOptions o = {.upscale = 1};
	ExporterTable *t = exporter_table_new(&o);
	Collect		c = {0};
	Buf			b;
	NfAddr		from = addr4("192.0.2.7");
	FlowRec    *r;

	/* boot = 1700000000.250 s - 1000 s uptime */
	v5_header(&b, 5, 2, 1000000, 1700000000, 250000000, 7, 1, 9, 0x4000 | 10);
	v5_rec(&b, 990000, 999000, 6, 40000, 443);
	v5_rec(&b, 995000, 996000, 1, 0x0308, 0);	/* Cisco: ICMP 3/8 swapped in srcport */
	CHECK(decode_datagram(t, b.b, b.n, &from, 42, collect_emit, &c) == DECODE_OK, "decode");
	CHECK(c.n == 2, "records %zu", c.n);
	if (c.n != 2)
		return;
	r = &c.recs[0];
	check_netflow_first_record(r);
	CHECK(r->in_if == 3 && r->out_if == 4, "if %u %u", r->in_if, r->out_if);
	CHECK(r->packets == 100 && r->bytes == 50000, "upscaled %llu %llu",
		  (unsigned long long) r->packets, (unsigned long long) r->bytes);
	CHECK(r->sampling == 10 && (r->present & FR_SAMPLING), "sampling %u", r->sampling);
	CHECK(r->src_port == 40000 && r->dst_port == 443, "ports");
	CHECK(r->tcp_flags == 0x1b && r->proto == 6 && r->src_tos == 0x48, "flags/proto/tos");
	CHECK(r->src_as == 65001 && r->dst_as == 65002, "as");
	CHECK(r->src_mask == 24 && r->dst_mask == 16 &&
		  (r->present & (FR_SRC_MASK | FR_DST_MASK)) == (FR_SRC_MASK | FR_DST_MASK), "masks stored");
	CHECK(r->engine_type == 1 && r->engine_id == 9 && r->source_id == (1 << 8 | 9), "engine/source id");
	CHECK(r->export_version == 5 && r->flows == 1, "version/flows");
	r = &c.recs[1];
	CHECK(r->src_port == 0 && r->dst_port == 0x0803, "ICMP swap: %u %u", r->src_port, r->dst_port);

	/* sequence: 7+2 = 9 expected; 9 ok, then 20 is a failure */
	v5_header(&b, 5, 1, 1000000, 1700000000, 0, 9, 1, 9, 0);
	v5_rec(&b, 1, 2, 17, 1, 2);
	decode_datagram(t, b.b, b.n, &from, 43, collect_emit, &c);
	b.b[16] = 0; b.b[17] = 0; b.b[18] = 0; b.b[19] = 20;
	decode_datagram(t, b.b, b.n, &from, 44, collect_emit, &c);
	drained = 0;
	drained_failures = drained_packets = drained_flows = 0;
	exporter_table_drain(t, drain_fn, NULL);
	CHECK(drained == 1 && drained_failures == 1 && drained_packets == 3 && drained_flows == 4,
		  "drain: %d exporters, %llu failures, %llu packets, %llu flows", drained,
		  (unsigned long long) drained_failures, (unsigned long long) drained_packets,
		  (unsigned long long) drained_flows);
	exporter_table_drain(t, drain_fn, NULL);
	CHECK(drained == 2 && drained_packets == 3, "deltas zeroed");
	free(c.recs);
	exporter_table_free(t);
}

static void
test_times(void)
{
	ExporterTable *t = exporter_table_new(&no_opts);
	Collect		c = {0};
	Buf			b;
	NfAddr		from = addr4("192.0.2.7");
	int64_t		boot = 1700000000000LL - 5000;

	/* First > Last: the first stamp was taken before uptime wrapped */
	v5_header(&b, 5, 2, 5000, 1700000000, 0, 0, 0, 0, 0);
	v5_rec(&b, 0xfffff000u, 1000, 6, 1, 2);
	/* Last well beyond uptime: uptime wrapped after the flow ended */
	v5_rec(&b, 0xffff0000u, 0xffff8000u, 6, 1, 2);
	decode_datagram(t, b.b, b.n, &from, 1, collect_emit, &c);
	CHECK(c.n == 2, "records");
	if (c.n == 2)
	{
		CHECK(c.recs[0].first_ms == boot + 0xfffff000LL - 0x100000000LL &&
			  c.recs[0].last_ms == boot + 1000, "wrap 1: %lld %lld",
			  (long long) c.recs[0].first_ms, (long long) c.recs[0].last_ms);
		CHECK(c.recs[1].first_ms == boot + 0xffff0000LL - 0x100000000LL &&
			  c.recs[1].last_ms == boot + 0xffff8000LL - 0x100000000LL, "wrap 2");
	}
	free(c.recs);
	exporter_table_free(t);
}

static void
test_v7_and_options(void)
{
	DecodeOptions o = {.upscale = 1, .default_sampling = -4};
	ExporterTable *t = exporter_table_new(&o);
	Collect		c = {0};
	Buf			b;
	NfAddr		from = addr4("192.0.2.8");

	v5_header(&b, 7, 1, 1000, 1700000000, 0, 0, 0xaa, 0xbb, 0);
	v5_rec(&b, 100, 200, 17, 53, 53);
	put32(&b, 0);				/* v7 router_sc */
	CHECK(decode_datagram(t, b.b, b.n, &from, 1, collect_emit, &c) == DECODE_OK, "v7");
	CHECK(c.n == 1 && c.recs[0].export_version == 7 && c.recs[0].source_id == 0 &&
		  !(c.recs[0].present & FR_ENGINE), "v7 record");
	CHECK(c.n == 1 && c.recs[0].sampling == 4 && c.recs[0].packets == 40,
		  "-s -4 overrides and upscales");
	/* a v7 datagram claiming 2 records of 52 bytes but holding 1 */
	b.b[3] = 2;
	CHECK(decode_datagram(t, b.b, b.n, &from, 1, collect_emit, &c) == DECODE_TRUNCATED, "short v7");
	CHECK(exporter_table_rejected(t, DECODE_TRUNCATED) == 1, "rejected counted");
	free(c.recs);
	exporter_table_free(t);
}

static void
test_malformed(void)
{
	ExporterTable *t = exporter_table_new(&no_opts);
	Collect		c = {0};
	Buf			b;
	NfAddr		from = addr4("192.0.2.9");
	static const uint8_t junk[] = {0, 4, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21};

	CHECK(decode_datagram(t, junk, sizeof(junk), &from, 1, collect_emit, &c) == DECODE_UNKNOWN_VERSION,
		  "version 4");
	CHECK(decode_datagram(t, junk, 0, &from, 1, collect_emit, &c) == DECODE_TRUNCATED, "empty");
	CHECK(exporter_table_rejected(t, DECODE_UNKNOWN_VERSION) == 1 &&
		  exporter_table_dropped(t, DROP_UNKNOWN_VERSION) == 1, "unknown version counted");
	v5_header(&b, 5, 30, 1000, 1700000000, 0, 0, 0, 0, 0);
	for (int i = 0; i < 30; i++)
		v5_rec(&b, 1, 2, 6, 1, 2);
	CHECK(truncate_everywhere(&no_opts, b.b, b.n, 30) == 0, "truncation");
	CHECK(decode_datagram(t, b.b, b.n - 1, &from, 1, collect_emit, &c) == DECODE_TRUNCATED &&
		  c.n == 0, "one byte short: whole datagram dropped");
	CHECK(c.n == 0, "nothing emitted");
	free(c.recs);
	exporter_table_free(t);
}

int
main(void)
{
	test_flowgen();
	test_fields();
	test_times();
	test_v7_and_options();
	test_malformed();
	return unit_report("netflow_v5_test");
}
