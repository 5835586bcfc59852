/*
 * ipfix_test.c
 *		IPFIX decoding: flowgen's pcap against its CSV, variable-length
 *		fields (1- and 3-byte lengths), enterprise elements (skipped; the
 *		reverse PEN gives out counters), template withdrawal (one and all),
 *		options templates for sampling and systemInitTimeMilliseconds, every
 *		time encoding, sequence numbers counting records, malformed
 *		messages, truncation at every offset.
 */
#include "unit.h"
#include "flowtest.h"

static const DecodeOptions no_opts = {0};
static NfAddr from;

#define SECS	1700000000u

static void
ipfix_header(Buf *b, uint32_t seq, uint32_t odid)
{
	b->n = 0;
	put16(b, 10);
	put16(b, 0);				/* patched by finish() */
	put32(b, SECS);
	put32(b, seq);
	put32(b, odid);
}

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
	patch16(b, at + 2, (uint32_t) (b->n - at));
}

/* Field specifier; pen != 0 sets the enterprise bit. */
static void
field(Buf *b, uint16_t type, uint16_t len, uint32_t pen)
{
	put16(b, pen ? type | 0x8000 : type);
	put16(b, len);
	if (pen)
		put32(b, pen);
}

static DecodeResult
feed(ExporterTable *t, Buf *b, Collect *c)
{
	patch16(b, 2, (uint32_t) b->n);
	return decode_datagram(t, b->b, b->n, &from, 99, collect_emit, c);
}

static void
test_flowgen(void)
{
	ExporterTable *t = exporter_table_new(&no_opts);
	Collect		c = {0};
	int			not_ok = 0;
	size_t		nexp;
	int			n = replay_pcap(t, "ipfix.pcap", &c, &not_ok);
	int			bad = compare_csv(&c, "ipfix.csv", &nexp);
	DrainSum	d = drain_sum(t);

	CHECK(n > 0, "ipfix.pcap not found");
	CHECK(not_ok == 0, "%d datagrams not OK", not_ok);
	CHECK(bad == 0 && nexp == 600 && c.n == 600,
		  "flowgen ipfix: %d mismatches, %zu expected, %zu decoded", bad, nexp, c.n);
	CHECK(d.exporters == 3 && d.failures == 0 && d.templates == 6, "exporters %d failures %llu",
		  d.exporters, (unsigned long long) d.failures);
	CHECK(c.n > 0 && c.recs[0].export_version == 10 && !(c.recs[0].present & FR_ENGINE),
		  "version 10, no engine");
	free(c.recs);
	exporter_table_free(t);
}

/* Template 256: addresses, a varlen, proto, packets, an enterprise varlen, bytes, reverse counters */
static void
put_var_template(Buf *b)
{
	size_t		at = open_set(b, 2);

	put16(b, 256);
	put16(b, 10);
	field(b, 8, 4, 0);
	field(b, 12, 4, 0);
	field(b, 82, 0xffff, 0);	/* interfaceName */
	field(b, 4, 1, 0);
	field(b, 2, 4, 0);
	field(b, 18, 0xffff, 6871);	/* yaf payload: enterprise, variable */
	field(b, 100, 4, 9);		/* some Cisco enterprise element */
	field(b, 1, 4, 0);
	field(b, 1, 8, 29305);		/* reverse octetDeltaCount */
	field(b, 2, 8, 29305);
	close_set(b, at);
}

static void
put_var_record(Buf *b, size_t namelen, size_t payloadlen)
{
	put32(b, 0x0a000001);
	put32(b, 0x0a000002);
	if (namelen < 255)
		put8(b, (uint32_t) namelen);
	else
	{
		put8(b, 255);
		put16(b, (uint32_t) namelen);
	}
	for (size_t i = 0; i < namelen; i++)
		put8(b, 'x');
	put8(b, 17);
	put32(b, 7);
	put8(b, (uint32_t) payloadlen);
	for (size_t i = 0; i < payloadlen; i++)
		put8(b, 0xee);
	put32(b, 0xdeadbeef);
	put32(b, 700);
	put64(b, 1234);
	put64(b, 5);
}

static void
test_varlen_enterprise(void)
{
	ExporterTable *t = exporter_table_new(&no_opts);
	Collect		c = {0};
	Buf			b;
	size_t		at;

	ipfix_header(&b, 0, 1);
	put_var_template(&b);
	at = open_set(&b, 256);
	put_var_record(&b, 4, 0);
	put_var_record(&b, 300, 17);	/* 3-byte length form */
	put_var_record(&b, 0, 254);
	close_set(&b, at);
	CHECK(feed(t, &b, &c) == DECODE_OK, "decode");
	CHECK(c.n == 3, "records %zu", c.n);
	for (size_t i = 0; i < c.n; i++)
	{
		FlowRec    *r = &c.recs[i];

		CHECK(r->proto == 17 && r->packets == 7 && r->bytes == 700 && r->out_bytes == 1234 &&
			  r->out_packets == 5 && (r->present & FR_OUT_BYTES) && r->src_addr.addr[3] == 1 &&
			  r->dst_addr.addr[3] == 2, "record %zu: proto %u pkts %llu bytes %llu out %llu", i,
			  r->proto, (unsigned long long) r->packets, (unsigned long long) r->bytes,
			  (unsigned long long) r->out_bytes);
	}
	/* a variable length running past the set */
	ipfix_header(&b, 3, 1);
	at = open_set(&b, 256);
	put32(&b, 0x0a000001);
	put32(&b, 0x0a000002);
	put8(&b, 200);
	for (int i = 0; i < 10; i++)
		put32(&b, 0);
	close_set(&b, at);
	CHECK(feed(t, &b, &c) == DECODE_MALFORMED && exporter_table_dropped(t, DROP_BAD_RECORD) == 1,
		  "varlen overrun counted");
	CHECK(c.n == 3, "nothing emitted from it");
	free(c.recs);
	exporter_table_free(t);
}

static void
put_simple_template(Buf *b, uint16_t id)
{
	size_t		at = open_set(b, 2);

	put16(b, id);
	put16(b, 3);
	field(b, 8, 4, 0);
	field(b, 12, 4, 0);
	field(b, 2, 4, 0);
	close_set(b, at);
}

static void
put_simple_data(Buf *b, uint16_t id, uint32_t packets)
{
	size_t		at = open_set(b, id);

	put32(b, 0x0a000001);
	put32(b, 0x0a000002);
	put32(b, packets);
	close_set(b, at);
}

static void
test_withdrawal(void)
{
	ExporterTable *t = exporter_table_new(&no_opts);
	Collect		c = {0};
	Buf			b;
	size_t		at;

	ipfix_header(&b, 0, 2);
	put_simple_template(&b, 256);
	put_simple_template(&b, 257);
	put_simple_data(&b, 256, 1);
	CHECK(feed(t, &b, &c) == DECODE_OK && c.n == 1, "before withdrawal");
	ipfix_header(&b, 1, 2);
	at = open_set(&b, 2);
	put16(&b, 256);				/* withdraw 256 */
	put16(&b, 0);
	close_set(&b, at);
	put_simple_data(&b, 256, 2);
	put_simple_data(&b, 257, 3);
	CHECK(feed(t, &b, &c) == DECODE_OK, "withdrawal");
	CHECK(c.n == 2 && c.recs[1].packets == 3 && exporter_table_pending(t) == 1,
		  "256 withdrawn, 257 kept: %zu records", c.n);
	ipfix_header(&b, 2, 2);
	at = open_set(&b, 2);
	put16(&b, 2);				/* withdraw all templates */
	put16(&b, 0);
	close_set(&b, at);
	put_simple_data(&b, 257, 4);
	feed(t, &b, &c);
	CHECK(c.n == 2 && drain_sum(t).templates == 0, "all withdrawn");
	/* the template comes back: both waiting sets decode, in order */
	ipfix_header(&b, 3, 2);
	put_simple_template(&b, 256);
	put_simple_template(&b, 257);
	feed(t, &b, &c);
	CHECK(c.n == 4 && c.recs[2].packets == 2 && c.recs[3].packets == 4 &&
		  exporter_table_pending(t) == 0, "pending replayed: %zu", c.n);
	free(c.recs);
	exporter_table_free(t);
}

static void
test_options(void)
{
	DecodeOptions o = {.upscale = 1};
	ExporterTable *t = exporter_table_new(&o);
	Collect		c = {0};
	Buf			b;
	size_t		at;
	int64_t		init = 1699990000123LL;

	ipfix_header(&b, 0, 3);
	at = open_set(&b, 3);
	put16(&b, 300);				/* selector 302 (scope), packet interval/space */
	put16(&b, 3);
	put16(&b, 1);
	field(&b, 302, 4, 0);
	field(&b, 305, 4, 0);
	field(&b, 306, 4, 0);
	put16(&b, 301);				/* ODID scope, systemInitTimeMilliseconds */
	put16(&b, 2);
	put16(&b, 1);
	field(&b, 149, 4, 0);
	field(&b, 160, 8, 0);
	close_set(&b, at);
	at = open_set(&b, 2);
	put16(&b, 400);
	put16(&b, 6);
	field(&b, 8, 4, 0);
	field(&b, 12, 4, 0);
	field(&b, 2, 4, 0);
	field(&b, 302, 1, 0);
	field(&b, 22, 4, 0);		/* flowStartSysUpTime */
	field(&b, 21, 4, 0);		/* flowEndSysUpTime */
	close_set(&b, at);
	at = open_set(&b, 300);
	put32(&b, 5);
	put32(&b, 1);
	put32(&b, 99);
	close_set(&b, at);
	at = open_set(&b, 301);
	put32(&b, 3);
	put64(&b, (uint64_t) init);
	close_set(&b, at);
	at = open_set(&b, 400);
	put32(&b, 0x0a000001);
	put32(&b, 0x0a000002);
	put32(&b, 3);
	put8(&b, 5);
	put32(&b, 1000);
	put32(&b, 5000);
	close_set(&b, at);
	CHECK(feed(t, &b, &c) == DECODE_OK, "decode");
	CHECK(c.n == 1, "records %zu", c.n);
	if (c.n == 1)
	{
		CHECK(c.recs[0].sampling == 100 && c.recs[0].packets == 300, "selector 5: 1 in %u, %llu packets",
			  c.recs[0].sampling, (unsigned long long) c.recs[0].packets);
		CHECK(c.recs[0].first_ms == init + 1000 && c.recs[0].last_ms == init + 5000,
			  "init-relative times in order: %lld %lld", (long long) c.recs[0].first_ms,
			  (long long) c.recs[0].last_ms);
	}
	/* sequence: 2 options records + 1 data record were in message 0 */
	ipfix_header(&b, 3, 3);
	feed(t, &b, &c);
	ipfix_header(&b, 4, 3);
	feed(t, &b, &c);
	CHECK(drain_sum(t).failures == 1, "sequence counts records");
	free(c.recs);
	exporter_table_free(t);
}

static void
test_times_icmp(void)
{
	ExporterTable *t = exporter_table_new(&no_opts);
	Collect		c = {0};
	Buf			b;
	size_t		at;
	const uint64_t ntp = (uint64_t) (SECS + 2208988800u) << 32;

	ipfix_header(&b, 0, 4);
	at = open_set(&b, 2);
	put16(&b, 256);				/* seconds */
	put16(&b, 5);
	field(&b, 8, 4, 0); field(&b, 12, 4, 0); field(&b, 4, 1, 0);
	field(&b, 150, 4, 0); field(&b, 151, 4, 0);
	put16(&b, 257);				/* NTP micro- and nanoseconds */
	put16(&b, 5);
	field(&b, 8, 4, 0); field(&b, 12, 4, 0); field(&b, 4, 1, 0);
	field(&b, 154, 8, 0); field(&b, 157, 8, 0);
	put16(&b, 258);				/* delta microseconds, ICMP type/code split */
	put16(&b, 7);
	field(&b, 8, 4, 0); field(&b, 12, 4, 0); field(&b, 4, 1, 0);
	field(&b, 158, 4, 0); field(&b, 159, 4, 0); field(&b, 176, 1, 0); field(&b, 177, 1, 0);
	put16(&b, 259);				/* start ms + duration, ICMPv6 #139 */
	put16(&b, 5);
	field(&b, 27, 16, 0); field(&b, 28, 16, 0); field(&b, 4, 1, 0);
	field(&b, 152, 8, 0); field(&b, 161, 4, 0);
	put16(&b, 260);
	put16(&b, 1);
	field(&b, 139, 2, 0);
	close_set(&b, at);
	at = open_set(&b, 256);
	put32(&b, 1); put32(&b, 2); put8(&b, 17);
	put32(&b, SECS - 10); put32(&b, SECS - 5);
	close_set(&b, at);
	at = open_set(&b, 257);
	put32(&b, 1); put32(&b, 2); put8(&b, 17);
	put64(&b, ntp | 0x80000000u);	/* + 0.5 s */
	put64(&b, ntp + ((uint64_t) 2 << 32));
	close_set(&b, at);
	at = open_set(&b, 258);
	put32(&b, 1); put32(&b, 2); put8(&b, 1);
	put32(&b, 3000000); put32(&b, 1000000);
	put8(&b, 3); put8(&b, 1);
	close_set(&b, at);
	CHECK(feed(t, &b, &c) == DECODE_OK, "decode");
	CHECK(c.n == 3, "records %zu", c.n);
	if (c.n == 3)
	{
		CHECK(c.recs[0].first_ms == (SECS - 10) * 1000LL && c.recs[0].last_ms == (SECS - 5) * 1000LL,
			  "seconds");
		CHECK(c.recs[1].first_ms == SECS * 1000LL + 500 && c.recs[1].last_ms == (SECS + 2) * 1000LL,
			  "ntp: %lld %lld", (long long) c.recs[1].first_ms, (long long) c.recs[1].last_ms);
		CHECK(c.recs[2].first_ms == SECS * 1000LL - 3000 && c.recs[2].last_ms == SECS * 1000LL - 1000,
			  "delta");
		CHECK(c.recs[2].dst_port == 0x0301, "icmp 176/177: %x", c.recs[2].dst_port);
	}
	free(c.recs);
	exporter_table_free(t);
}

static void
test_malformed(void)
{
	ExporterTable *t = exporter_table_new(&no_opts);
	Collect		c = {0};
	Buf			b;
	size_t		at;

	ipfix_header(&b, 0, 5);
	CHECK(decode_datagram(t, b.b, b.n, &from, 1, collect_emit, &c) == DECODE_MALFORMED,
		  "message length 0");
	patch16(&b, 2, 100);
	CHECK(decode_datagram(t, b.b, b.n, &from, 1, collect_emit, &c) == DECODE_TRUNCATED,
		  "message length beyond datagram");
	/* enterprise field specifier cut before its PEN; zero-length field */
	ipfix_header(&b, 0, 5);
	at = open_set(&b, 2);
	put16(&b, 256);
	put16(&b, 2);
	field(&b, 8, 0, 0);
	field(&b, 12, 4, 0);
	close_set(&b, at);
	CHECK(feed(t, &b, &c) == DECODE_OK && exporter_table_dropped(t, DROP_BAD_TEMPLATE) == 1,
		  "zero-length field");
	ipfix_header(&b, 0, 5);
	at = open_set(&b, 2);
	put16(&b, 256);
	put16(&b, 1);
	put16(&b, 0x8001);
	put16(&b, 4);
	close_set(&b, at);
	CHECK(feed(t, &b, &c) == DECODE_MALFORMED, "PEN missing");

	/* truncation at every offset */
	ipfix_header(&b, 0, 5);
	put_var_template(&b);
	at = open_set(&b, 256);
	put_var_record(&b, 4, 3);
	put_var_record(&b, 300, 0);
	close_set(&b, at);
	patch16(&b, 2, (uint32_t) b.n);
	CHECK(truncate_everywhere(&no_opts, b.b, b.n, 2) == 0, "truncation (message length kept)");
	for (size_t cut = 16; cut < b.n; cut++)
	{
		Buf			b2;

		memcpy(b2.b, b.b, cut);
		b2.n = cut;
		patch16(&b2, 2, (uint32_t) cut);
		if (decode_datagram(t, b2.b, b2.n, &from, 1, collect_emit, &c) == DECODE_UNKNOWN_VERSION)
			CHECK(0, "cut %zu", cut);
	}
	free(c.recs);
	exporter_table_free(t);
}

int
main(void)
{
	from = addr4("192.0.2.10");
	test_flowgen();
	test_varlen_enterprise();
	test_withdrawal();
	test_options();
	test_times_icmp();
	test_malformed();
	return unit_report("ipfix_test");
}
