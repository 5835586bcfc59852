/*
 * netflow_v1_test.c
 *		NetFlow v1 decoding: every field of crafted records (padding filled
 *		with junk that must be ignored), the uptime-wrap rules, the exporter
 *		identity, nfcapd's record-count limit, several PDUs in one datagram,
 *		and truncation at every offset with the exact number of records
 *		each prefix must yield.
 */
#include "unit.h"
#include "flowtest.h"

#define V1_HDR	16
#define V1_REC	48

static const DecodeOptions no_opts = {0};

static void
v1_header(Buf *b, uint16_t count, uint32_t uptime, uint32_t secs, uint32_t nsecs)
{
	put16(b, 1);
	put16(b, count);
	put32(b, uptime);
	put32(b, secs);
	put32(b, nsecs);
}

/* A record from 10.0.0.<n>; every byte the format leaves unused is 0xee. */
static void
v1_rec(Buf *b, uint8_t n, uint32_t first, uint32_t last, uint8_t proto,
	   uint16_t sport, uint16_t dport)
{
	put32(b, 0x0a000000 | n);	/* srcaddr */
	put32(b, 0xc0a80102);		/* dstaddr 192.168.1.2 */
	put32(b, 0xc0000201);		/* nexthop 192.0.2.1 */
	put16(b, 3);				/* input */
	put16(b, 65535);			/* output */
	put32(b, 10);				/* dPkts */
	put32(b, 4000000000u);		/* dOctets */
	put32(b, first);
	put32(b, last);
	put16(b, sport);
	put16(b, dport);
	put16(b, 0xeeee);			/* pad1 (v5 has tcp_flags at its second byte) */
	put8(b, proto);
	put8(b, 0x48);				/* tos */
	put8(b, 0x1b);				/* tcp_flags FSPA */
	for (int i = 0; i < 7; i++)
		put8(b, 0xee);			/* pad2, reserved (v5 has AS and masks here) */
}

static void
test_fields(void)
{
	DecodeOptions o = {.upscale = 1};
	ExporterTable *t = exporter_table_new(&o);
	Collect		c = {0};
	Buf			b = {.n = 0};
	NfAddr		from = addr4("192.0.2.7");
	FlowRec    *r;
	char		s[64];
	DrainSum	d;

	/* boot = 1700000000.250 s - 1000 s uptime */
	v1_header(&b, 3, 1000000, 1700000000, 250999999);
	v1_rec(&b, 1, 990000, 999000, 6, 40000, 443);
	v1_rec(&b, 2, 995000, 996000, 1, 0x0308, 0);	/* Cisco: ICMP 3/8 swapped in srcport */
	v1_rec(&b, 3, 995000, 996000, 1, 0, 0x0b00);	/* ICMP as it should be: untouched */
	CHECK(b.n == V1_HDR + 3 * V1_REC, "datagram length %zu", b.n);
	CHECK(decode_datagram(t, b.b, b.n, &from, 42, collect_emit, &c) == DECODE_OK, "decode");
	CHECK(c.n == 3, "records %zu", c.n);
	if (c.n != 3)
		return;
	r = &c.recs[0];
	check_netflow_first_record(r);
	CHECK(r->in_if == 3 && r->out_if == 65535 &&
		  (r->present & (FR_IN_IF | FR_OUT_IF)) == (FR_IN_IF | FR_OUT_IF), "if %u %u", r->in_if, r->out_if);
	CHECK(r->packets == 10 && r->bytes == 4000000000u, "counters %llu %llu",
		  (unsigned long long) r->packets, (unsigned long long) r->bytes);
	CHECK(r->src_port == 40000 && r->dst_port == 443, "ports %u %u", r->src_port, r->dst_port);
	CHECK(r->proto == 6 && r->src_tos == 0x48 && r->tcp_flags == 0x1b,
		  "proto %u tos %u flags %u", r->proto, r->src_tos, r->tcp_flags);
	CHECK(!(r->present & (FR_SRC_AS | FR_DST_AS | FR_SRC_MASK | FR_DST_MASK | FR_ENGINE | FR_SAMPLING)),
		  "v1 has no AS, masks, engine, sampling (present %#x)", (unsigned) r->present);
	CHECK(r->src_as == 0 && r->dst_as == 0 && r->src_mask == 0 && r->dst_mask == 0 &&
		  r->engine_type == 0 && r->engine_id == 0 && r->sampling == 0, "padding not read as v5 fields");
	CHECK(r->export_version == 1 && r->source_id == 0 && r->flows == 1, "version %u source %u flows %llu",
		  r->export_version, r->source_id, (unsigned long long) r->flows);
	CHECK(r->out_packets == 0 && r->out_bytes == 0 && r->n_mpls == 0, "nothing else set");
	r = &c.recs[1];
	CHECK(strcmp(addr_str(&r->src_addr, s), "10.0.0.2") == 0, "record 2 src %s", s);
	CHECK(r->src_port == 0 && r->dst_port == 0x0803, "ICMP swap: %u %u", r->src_port, r->dst_port);
	r = &c.recs[2];
	CHECK(r->src_port == 0 && r->dst_port == 0x0b00, "ICMP in dstport kept: %u %u", r->src_port, r->dst_port);

	/* one exporter (address, version 1, source id 0), no sequence accounting */
	collect_reset(&c);
	b.b[3] = 1;					/* the same header saying 1 record */
	CHECK(decode_datagram(t, b.b, V1_HDR + V1_REC, &from, 43, collect_emit, &c) == DECODE_OK &&
		  c.n == 1, "second datagram");
	d = drain_sum(t);
	CHECK(d.exporters == 1 && d.packets == 2 && d.flows == 4 && d.failures == 0 && d.sampling == 0,
		  "drain: %d exporters, %llu packets, %llu flows, %llu failures", d.exporters,
		  (unsigned long long) d.packets, (unsigned long long) d.flows, (unsigned long long) d.failures);
	free(c.recs);
	exporter_table_free(t);
}

/* The v5 wrap rules, slack included (nfcapd's v1 decoder has none: a deviation). */
static void
test_times(void)
{
	ExporterTable *t = exporter_table_new(&no_opts);
	Collect		c = {0};
	Buf			b = {.n = 0};
	NfAddr		from = addr4("192.0.2.7");
	int64_t		boot = 1700000000000LL - 5000;
	int64_t		boot2 = 1700000000000LL - 1000000;
	const int64_t wrap = 0x100000000LL;

	v1_header(&b, 2, 5000, 1700000000, 0);
	v1_rec(&b, 1, 0xfffff000u, 1000, 6, 1, 2);	/* First > Last: wrapped in between */
	v1_rec(&b, 2, 0xffff0000u, 0xffff8000u, 6, 1, 2);	/* wrapped after the flow ended */
	v1_header(&b, 2, 1000000, 1700000000, 0);
	v1_rec(&b, 3, 1000000, 1050000, 6, 1, 2);	/* Last 50 s after uptime: within the slack */
	v1_rec(&b, 4, 1000000, 1100001, 6, 1, 2);	/* 100.001 s after: taken as a wrap */
	CHECK(decode_datagram(t, b.b, b.n, &from, 1, collect_emit, &c) == DECODE_OK, "decode");
	CHECK(c.n == 4, "records %zu", c.n);
	if (c.n == 4)
	{
		CHECK(c.recs[0].first_ms == boot + 0xfffff000LL - wrap &&
			  c.recs[0].last_ms == boot + 1000, "wrap 1: %lld %lld",
			  (long long) c.recs[0].first_ms, (long long) c.recs[0].last_ms);
		CHECK(c.recs[1].first_ms == boot + 0xffff0000LL - wrap &&
			  c.recs[1].last_ms == boot + 0xffff8000LL - wrap, "wrap 2");
		CHECK(c.recs[2].first_ms == boot2 + 1000000 && c.recs[2].last_ms == boot2 + 1050000,
			  "slack: %lld %lld", (long long) c.recs[2].first_ms, (long long) c.recs[2].last_ms);
		CHECK(c.recs[3].first_ms == boot2 + 1000000 - wrap &&
			  c.recs[3].last_ms == boot2 + 1100001 - wrap, "beyond the slack");
	}
	free(c.recs);
	exporter_table_free(t);
}

/* v1 and v5 from one address are two exporters; -s -N applies to v1 too. */
static void
test_identity_and_options(void)
{
	DecodeOptions o = {.upscale = 1, .default_sampling = -4};
	ExporterTable *t = exporter_table_new(&o);
	Collect		c = {0};
	Buf			b = {.n = 0};
	NfAddr		from = addr4("192.0.2.8");
	DrainSum	d;

	v1_header(&b, 1, 1000, 1700000000, 0);
	v1_rec(&b, 1, 100, 200, 17, 53, 53);
	CHECK(decode_datagram(t, b.b, b.n, &from, 1, collect_emit, &c) == DECODE_OK, "v1");
	b.b[1] = 5;					/* now the first 24 bytes as a v5 datagram of 0 records */
	b.b[3] = 0;
	decode_datagram(t, b.b, 24, &from, 1, collect_emit, &c);
	CHECK(c.n == 1 && c.recs[0].sampling == 4 && (c.recs[0].present & FR_SAMPLING) &&
		  c.recs[0].packets == 40 && c.recs[0].bytes == 16000000000ULL, "-s -4 overrides and upscales");
	d = drain_sum(t);
	CHECK(d.exporters == 2 && d.packets == 2, "v1 and v5 exporters apart: %d", d.exporters);
	free(c.recs);
	exporter_table_free(t);
}

/* A datagram of `count` records but with `count_field` in its header. */
static void
v1_datagram(Buf *b, uint16_t count_field, int records)
{
	b->n = 0;
	v1_header(b, count_field, 1000000, 1700000000, 0);
	for (int i = 0; i < records; i++)
		v1_rec(b, (uint8_t) i, 990000, 999000, 17, (uint16_t) i, 53);
}

/* Decode buf and return the result; records emitted and exporters created. */
static DecodeResult
decode_count(const uint8_t *buf, size_t len, DecodeDrop why, size_t *records,
			 int *exporters, uint64_t *drops)
{
	ExporterTable *t = exporter_table_new(&no_opts);
	Collect		c = {0};
	NfAddr		from = addr4("192.0.2.9");
	DecodeResult r = decode_datagram(t, buf, len, &from, 1, collect_emit, &c);

	*records = c.n;
	*exporters = drain_sum(t).exporters;
	*drops = exporter_table_dropped(t, why);
	free(c.recs);
	exporter_table_free(t);
	return r;
}

static void
test_counts(void)
{
	Buf			b;
	size_t		n;
	int			e;
	uint64_t	drops;

	v1_datagram(&b, 24, 24);
	CHECK(decode_count(b.b, b.n, DROP_BAD_LENGTH, &n, &e, &drops) == DECODE_OK && n == 24 && e == 1,
		  "24 records (nfcapd's maximum): %zu", n);
	v1_datagram(&b, 25, 25);
	CHECK(decode_count(b.b, b.n, DROP_BAD_LENGTH, &n, &e, &drops) == DECODE_MALFORMED &&
		  n == 0 && e == 0 && drops == 1, "25 records: dropped as nfcapd does (%zu, %d)", n, e);
	v1_datagram(&b, 65535, 25);
	CHECK(decode_count(b.b, b.n, DROP_BAD_LENGTH, &n, &e, &drops) == DECODE_MALFORMED &&
		  n == 0 && drops == 1, "count 65535");
	v1_datagram(&b, 0, 0);
	CHECK(decode_count(b.b, b.n, DROP_BAD_LENGTH, &n, &e, &drops) == DECODE_MALFORMED &&
		  n == 0 && e == 0 && drops == 1, "count 0: malformed");
	v1_datagram(&b, 3, 2);
	CHECK(decode_count(b.b, b.n, DROP_TRUNCATED, &n, &e, &drops) == DECODE_TRUNCATED &&
		  n == 0 && e == 0 && drops == 1, "count 3, 2 records: whole PDU dropped");
	CHECK(decode_count(b.b, 15, DROP_SHORT_HEADER, &n, &e, &drops) == DECODE_TRUNCATED &&
		  n == 0 && drops == 1, "15 bytes: short header");
	CHECK(decode_count(b.b, 3, DROP_SHORT_HEADER, &n, &e, &drops) == DECODE_TRUNCATED &&
		  n == 0 && drops == 1, "3 bytes: short header");
}

/*
 * Several PDUs in one datagram (nfcapd reads them so): each with its own
 * time base; the first bad one ends the datagram, keeping what came before.
 */
static void
test_pdus(void)
{
	ExporterTable *t = exporter_table_new(&no_opts);
	Collect		c = {0};
	Buf			b = {.n = 0};
	NfAddr		from = addr4("192.0.2.10");
	size_t		n;
	int			e;
	uint64_t	drops;
	size_t		one;

	v1_header(&b, 1, 1000000, 1700000000, 0);
	v1_rec(&b, 1, 990000, 999000, 17, 1, 2);
	one = b.n;
	v1_header(&b, 2, 2000000, 1700000100, 500000000);
	v1_rec(&b, 2, 1990000, 1999000, 17, 1, 2);
	v1_rec(&b, 3, 1990000, 1999000, 17, 1, 2);
	CHECK(decode_datagram(t, b.b, b.n, &from, 1, collect_emit, &c) == DECODE_OK && c.n == 3,
		  "two PDUs: %zu records", c.n);
	if (c.n == 3)
	{
		CHECK(c.recs[0].first_ms == 1700000000000LL - 10000 &&
			  c.recs[1].first_ms == 1700000100500LL - 10000 &&
			  c.recs[2].last_ms == 1700000100500LL - 1000, "each PDU its own boot time");
		CHECK(c.recs[2].src_addr.addr[3] == 3 && c.recs[2].export_version == 1, "third record");
	}
	CHECK(drain_sum(t).packets == 1, "one datagram counted once");

	/* a PDU and then 5 bytes: the PDU's record kept, the rest a short header */
	memcpy(b.b + one, "\0\1\0\0\0", 5);
	CHECK(decode_count(b.b, one + 5, DROP_SHORT_HEADER, &n, &e, &drops) == DECODE_TRUNCATED &&
		  n == 1 && e == 1 && drops == 1, "trailing 5 bytes: %zu records, %llu drops", n,
		  (unsigned long long) drops);
	/* then a PDU claiming 25 records, then one claiming 0 */
	b.n = one;
	v1_header(&b, 25, 1, 1, 1);
	CHECK(decode_count(b.b, b.n, DROP_BAD_LENGTH, &n, &e, &drops) == DECODE_MALFORMED &&
		  n == 1 && drops == 1, "then count 25");
	b.n = one;
	v1_header(&b, 0, 1, 1, 1);
	v1_header(&b, 1, 1, 1, 1);
	v1_rec(&b, 4, 0, 0, 17, 1, 2);
	CHECK(decode_count(b.b, b.n, DROP_BAD_LENGTH, &n, &e, &drops) == DECODE_MALFORMED &&
		  n == 1 && drops == 1, "then an empty PDU: stop there (nfcapd goes on)");
	free(c.recs);
	exporter_table_free(t);
}

/*
 * Every prefix of a datagram of two PDUs (24 records, then 2): no crash, and
 * exactly the records of the whole PDUs in the prefix -- none while the
 * first is incomplete.
 */
static void
test_truncation(void)
{
	Buf			b;
	size_t		len1,
				n;
	int			e,
				bad = 0;
	uint64_t	drops;

	v1_datagram(&b, 24, 24);
	len1 = b.n;
	v1_header(&b, 2, 5, 6, 7);
	v1_rec(&b, 200, 1, 2, 6, 1, 2);
	v1_rec(&b, 201, 1, 2, 6, 1, 2);
	CHECK(truncate_everywhere(&no_opts, b.b, b.n, 26) == 0, "truncation: never too many records");
	for (size_t cut = 0; cut <= b.n; cut++)
	{
		uint8_t    *copy = malloc(cut ? cut : 1);
		size_t		want = cut < len1 ? 0 : cut < b.n ? 24 : 26;
		DecodeResult r;

		memcpy(copy, b.b, cut);
		r = decode_count(copy, cut, DROP_TRUNCATED, &n, &e, &drops);
		if (n != want || (r == DECODE_OK) != (cut == len1 || cut == b.n))
		{
			if (bad++ < 5)
				CHECK(0, "cut at %zu: %zu records (want %zu), result %d", cut, n, want, r);
		}
		free(copy);
	}
	CHECK(bad == 0, "%d prefixes decoded wrongly", bad);
}

int
main(void)
{
	test_fields();
	test_times();
	test_identity_and_options();
	test_counts();
	test_pdus();
	test_truncation();
	return unit_report("netflow_v1_test");
}
