/*
 * addr_text_test.c
 *		Unit test of extension/addr_text.c: every address below is written
 *		by addr_text and by glibc's inet_ntop, and the two texts must be the
 *		same bytes.
 *
 * 1. Hand-picked: ::, ::1, 1::, ::ffff:a.b.c.d, ::a.b.c.d, ::0.0.1.0 style
 *    edges, a single zero group, two equal runs, a run at the end.
 * 2. Every address whose eight groups are each 0, 1, 0xffff or 0xabcd
 *    (65,536 addresses: every placement of zero runs, the IPv4-mapped and
 *    -compatible shapes and their near misses).
 * 3. A million random addresses, groups zero half of the time.
 * 4. IPv4: every first octet with random others, and the edges.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

#include "addr_text.h"
#include "unit.h"

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;

static uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static int	mismatches;

static void
same(int v4, const uint8_t *b)
{
	char		ours[ADDR_TEXT_MAX + 8],
				glibc[INET6_ADDRSTRLEN];
	int			n;

	memset(ours, 'X', sizeof(ours));
	n = addr_text(v4, b, ours);
	inet_ntop(v4 ? AF_INET : AF_INET6, b, glibc, sizeof(glibc));
	/* one CHECK per shape would be millions: count, and show the first few */
	if (strcmp(ours, glibc) != 0 || n != (int) strlen(glibc) || n >= ADDR_TEXT_MAX)
	{
		if (mismatches++ < 10)
			CHECK(0, "addr_text wrote \"%s\" (%d), inet_ntop \"%s\"", ours, n, glibc);
	}
}

static void
groups(const unsigned int *g, uint8_t *b)
{
	for (int i = 0; i < 8; i++)
	{
		b[2 * i] = (uint8_t) (g[i] >> 8);
		b[2 * i + 1] = (uint8_t) g[i];
	}
}

int
main(void)
{
	static const unsigned int picked[][8] = {
		{0, 0, 0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 1}, {1, 0, 0, 0, 0, 0, 0, 0},
		{0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304}, {0, 0, 0, 0, 0, 0, 0x0102, 0x0304},
		{0, 0, 0, 0, 0, 0, 0x0001, 0}, {0, 0, 0, 0, 0, 0, 0, 0x0100},
		{0, 0, 0, 0, 0, 0xfffe, 0x0102, 0x0304}, {0, 0, 0, 0, 1, 0xffff, 0x0102, 0x0304},
		{0x2001, 0xdb8, 0, 1, 0, 0, 0, 1}, {0x2001, 0xdb8, 0, 0, 1, 0, 0, 1},
		{0x2001, 0xdb8, 1, 0, 1, 0, 1, 0}, {0xfe80, 0, 0, 0, 0x1234, 0x5678, 0x9abc, 0xdef0},
		{0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff},
		{0x2001, 0xdb8, 0, 0, 0, 0, 0, 0}, {0, 0, 1, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 0xffff, 0xffff},
	};
	static const unsigned int values[4] = {0, 1, 0xffff, 0xabcd};
	uint8_t		b[16];
	int			before;

	for (size_t k = 0; k < sizeof(picked) / sizeof(picked[0]); k++)
	{
		groups(picked[k], b);
		same(0, b);
	}
	CHECK(mismatches == 0, "%d hand-picked addresses differ", mismatches);

	before = mismatches;
	for (unsigned int m = 0; m < 65536; m++)
	{
		unsigned int g[8];

		for (int i = 0; i < 8; i++)
			g[i] = values[(m >> (2 * i)) & 3];
		groups(g, b);
		same(0, b);
	}
	CHECK(mismatches == before, "%d of the 65,536 group patterns differ", mismatches - before);

	before = mismatches;
	for (int k = 0; k < 1000000; k++)
	{
		uint64_t	x = rng(),
					y = rng();
		unsigned int g[8];

		for (int i = 0; i < 8; i++)
			g[i] = (x >> (8 * i)) & 1 ? 0 : (unsigned int) (y >> (8 * i)) & 0xffff;
		groups(g, b);
		same(0, b);
	}
	CHECK(mismatches == before, "%d of a million random addresses differ", mismatches - before);

	before = mismatches;
	for (int first = 0; first < 256; first++)
		for (int k = 0; k < 64; k++)
		{
			uint64_t	x = rng();

			b[0] = (uint8_t) first;
			b[1] = (uint8_t) x;
			b[2] = (uint8_t) (x >> 8);
			b[3] = (uint8_t) (x >> 16);
			if (k < 4)
				b[1] = b[2] = b[3] = k == 0 ? 0 : k == 1 ? 255 : k == 2 ? 9 : 100;
			same(1, b);
		}
	CHECK(mismatches == before, "%d IPv4 addresses differ", mismatches - before);
	return unit_report("addr_text_test");
}
