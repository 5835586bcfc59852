/*
 * decode_test.c
 *		Dispatch and the exporter table: version detection, unknown
 *		versions, exporter identity (address, version, source id), the
 *		bound on exporters, counters by reason, default sampling.
 */
#include "unit.h"
#include "flowtest.h"

static void
v5_one(Buf *b, uint8_t engine_id)
{
	b->n = 0;
	put16(b, 5);
	put16(b, 1);
	put32(b, 1000);
	put32(b, 1700000000);
	put32(b, 0);
	put32(b, 0);
	put8(b, 0);
	put8(b, engine_id);
	put16(b, 0);
	for (int i = 0; i < 12; i++)
		put32(b, i == 4 ? 2 : 1);
}

static void
test_dispatch(void)
{
	ExporterTable *t = exporter_table_new(NULL);
	Collect		c = {0};
	NfAddr		a = addr4("192.0.2.1");
	static const uint16_t versions[] = {0, 2, 6, 8, 11, 0xffff};
	uint8_t		buf[64] = {0};

	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++)
	{
		buf[0] = (uint8_t) (versions[i] >> 8);
		buf[1] = (uint8_t) versions[i];
		CHECK(decode_datagram(t, buf, sizeof(buf), &a, 1, collect_emit, &c) == DECODE_UNKNOWN_VERSION,
			  "version %u", versions[i]);
	}
	buf[0] = 0;
	buf[1] = 1;					/* v1 goes to its decoder: a count of 0 is malformed */
	CHECK(decode_datagram(t, buf, sizeof(buf), &a, 1, collect_emit, &c) == DECODE_MALFORMED, "v1");
	buf[0] = buf[1] = buf[2] = 0;
	buf[3] = 4;					/* sFlow v4 */
	CHECK(decode_datagram(t, buf, sizeof(buf), &a, 1, collect_emit, &c) == DECODE_UNKNOWN_VERSION, "sflow 4");
	CHECK(exporter_table_rejected(t, DECODE_UNKNOWN_VERSION) == 7, "counted");
	for (size_t n = 0; n < 4; n++)
		CHECK(decode_datagram(t, buf, n, &a, 1, collect_emit, &c) == DECODE_TRUNCATED, "len %zu", n);
	CHECK(exporter_table_dropped(t, DROP_SHORT_HEADER) == 4, "short headers");
	CHECK(strcmp(decode_drop_name(DROP_NO_TEMPLATE), "no template") == 0 &&
		  strcmp(decode_drop_name(DROP_NREASONS), "unknown") == 0, "names");
	CHECK(c.n == 0, "no records");
	free(c.recs);
	exporter_table_free(t);
}

static void
test_identity(void)
{
	DecodeOptions o = {.default_sampling = 8};
	ExporterTable *t = exporter_table_new(&o);
	Collect		c = {0};
	NfAddr		a = addr4("192.0.2.1"),
				b6 = {.family = 6, .addr = {0x20, 0x01, 0x0d, 0xb8, [15] = 1}};
	Buf			b;
	DrainSum	d;

	v5_one(&b, 1);
	decode_datagram(t, b.b, b.n, &a, 1, collect_emit, &c);
	decode_datagram(t, b.b, b.n, &b6, 1, collect_emit, &c);
	v5_one(&b, 2);
	decode_datagram(t, b.b, b.n, &a, 1, collect_emit, &c);
	decode_datagram(t, b.b, b.n, &a, 2, collect_emit, &c);
	{
		NfAddr		mapped = {.family = 6, .addr = {[10] = 0xff, [11] = 0xff, 192, 0, 2, 1}};
		char		s[64];

		decode_datagram(t, b.b, b.n, &mapped, 2, collect_emit, &c);
		CHECK(c.n == 5 && strcmp(addr_str(&c.recs[4].exporter, s), "192.0.2.1") == 0,
			  "v4-mapped exporter address is IPv4: %s", s);
	}
	d = drain_sum(t);
	CHECK(d.exporters == 3 && d.flows == 5, "3 identities: %d", d.exporters);
	CHECK(d.failures == 2, "engine 2 sent seq 0 three times: %llu", (unsigned long long) d.failures);
	CHECK(c.n == 5 && c.recs[1].exporter.family == 6 && c.recs[0].sampling == 8 &&
		  c.recs[0].packets == 2, "-s 8 recorded, not upscaled");

	/* the table is bounded */
	for (uint32_t i = 0; i < DECODE_MAX_EXPORTERS + 10; i++)
	{
		NfAddr		x = {.family = 4, .addr = {10, (uint8_t) (i >> 16), (uint8_t) (i >> 8), (uint8_t) i}};

		decode_datagram(t, b.b, b.n, &x, 3, collect_emit, &c);
	}
	d = drain_sum(t);
	CHECK(d.exporters == DECODE_MAX_EXPORTERS, "bounded: %d", d.exporters);
	CHECK(exporter_table_dropped(t, DROP_TOO_MANY_EXPORTERS) == 13, "refused: %llu",
		  (unsigned long long) exporter_table_dropped(t, DROP_TOO_MANY_EXPORTERS));
	free(c.recs);
	exporter_table_free(t);
}

/* Data sets waiting for templates are bounded over all exporters too. */
static void
test_memory_bound(void)
{
	ExporterTable *t = exporter_table_new(NULL);
	Collect		c = {0};
	static Buf	b;
	uint64_t	held;

	for (uint32_t e = 0; e < 600; e++)
	{
		NfAddr		x = {.family = 4, .addr = {10, 1, (uint8_t) (e >> 8), (uint8_t) e}};

		b.n = 0;
		put16(&b, 9);
		put16(&b, 16);
		put32(&b, 1000);
		put32(&b, 1700000000);
		put32(&b, 0);
		put32(&b, 0);
		for (int i = 0; i < 16; i++)
		{
			put16(&b, 300);
			put16(&b, 4000);
			memset(b.b + b.n, 0, 3996);
			b.n += 3996;
		}
		decode_datagram(t, b.b, b.n, &x, 1, collect_emit, &c);
	}
	held = exporter_table_pending(t);
	CHECK(held * 3996 <= 32 * 1024 * 1024 && held >= 8000,
		  "pending sets bounded by the table: %llu", (unsigned long long) held);
	CHECK(exporter_table_dropped(t, DROP_NO_TEMPLATE) == 600 * 16 - held, "the rest counted");
	free(c.recs);
	exporter_table_free(t);

	/* templates: 40 exporters x 512 templates of 1024 fields would be 160 MiB */
	t = exporter_table_new(NULL);
	for (uint32_t e = 0; e < 40; e++)
	{
		NfAddr		x = {.family = 4, .addr = {10, 2, 0, (uint8_t) e}};

		for (uint32_t id = 256; id < 256 + 512; id += 15)
		{
			b.n = 0;
			put16(&b, 9);
			put16(&b, 15);
			put32(&b, 1000);
			put32(&b, 1700000000);
			put32(&b, 0);
			put32(&b, 0);
			put16(&b, 0);
			put16(&b, 4 + 15 * (4 + 1024 * 4));
			for (uint32_t k = id; k < id + 15; k++)
			{
				put16(&b, k);
				put16(&b, 1024);
				for (int f = 0; f < 1024; f++)
				{
					put16(&b, 1);
					put16(&b, 4);
				}
			}
			decode_datagram(t, b.b, b.n, &x, 1, collect_emit, &c);
		}
	}
	{
		DrainSum	d = drain_sum(t);

		CHECK(d.templates > 10000 && (uint64_t) d.templates * (1024 * 4 + 16) <= 128u * 1024 * 1024,
			  "templates bounded by the table: %u", d.templates);
		CHECK(exporter_table_dropped(t, DROP_TOO_MANY_TEMPLATES) > 0, "refusals counted");
	}
	exporter_table_free(t);
}

int
main(void)
{
	test_dispatch();
	test_identity();
	test_memory_bound();
	return unit_report("decode_test");
}
