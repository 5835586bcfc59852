/*-------------------------------------------------------------------------
 *
 * addr_text.c
 *		An IPv4 or IPv6 address as text, character for character what
 *		glibc's inet_ntop writes, which is what nfdump prints.
 *
 * A lookup that prints a hundred thousand flows writes two addresses a
 * line, and glibc's inet_ntop formats IPv4 with sprintf and each group of
 * an IPv6 address with its own sprintf("%x"): measured on the lines of
 * `dst port 587` over a day (nine flows in ten IPv6), a tenth of nf_format.
 * The rules are inet_ntop's, which differ from RFC 5952 in two places:
 *	 - the longest run of two or more zero groups becomes "::", the first
 *	   of equal runs (RFC 5952 too), and a single zero group stays "0";
 *	 - an address whose first 96 bits are zero with one of its last two
 *	   groups not zero (::a.b.c.d, IPv4-compatible), or whose first 80 bits
 *	   are zero followed by ffff (::ffff:a.b.c.d, IPv4-mapped), ends in
 *	   dotted IPv4; ::1 and :: do not.
 * test/unit/addr_text_test.c compares every address it builds with
 * inet_ntop's.
 *
 *-------------------------------------------------------------------------
 */
#include "addr_text.h"

#include <string.h>

static const char hexdigits[] = "0123456789abcdef";

/*
 * Each octet's digits and a dot, built once: a dotted address is four
 * 4-byte copies, without the branches of writing 1, 2 or 3 digits, which
 * a run of random addresses mispredicts.
 */
static char octet_text[256][4];
static uint8_t octet_len[256];

static void
build_octets(void)
{
	for (int v = 0; v < 256; v++)
	{
		char	   *p = octet_text[v];

		if (v >= 100)
			*p++ = (char) ('0' + v / 100);
		if (v >= 10)
			*p++ = (char) ('0' + v / 10 % 10);
		*p++ = (char) ('0' + v % 10);
		*p = '.';
		octet_len[v] = (uint8_t) (p - octet_text[v]);
	}
}

/* a.b.c.d at p; returns the end (a byte past it is written too) */
static char *
put_v4(char *p, const uint8_t *b)
{
	if (octet_len[0] == 0)
		build_octets();
	for (int i = 0; i < 4; i++)
	{
		memcpy(p, octet_text[b[i]], 4);
		p += octet_len[b[i]] + 1;
	}
	return p - 1;
}

/* a 16-bit group in hex without leading zeros */
static char *
put_group(char *p, unsigned int g)
{
	int			shift = 12;

	while (shift > 0 && (g >> shift) == 0)
		shift -= 4;
	for (; shift >= 0; shift -= 4)
		*p++ = hexdigits[(g >> shift) & 0xF];
	return p;
}

int
addr_text(int v4, const uint8_t *b, char *out)
{
	unsigned int g[8];
	int			run_at = -1,
				run_len = 0;
	char	   *p = out;

	if (v4)
	{
		p = put_v4(p, b);
		*p = '\0';
		return (int) (p - out);
	}
	for (int i = 0; i < 8; i++)
		g[i] = (unsigned int) b[2 * i] << 8 | b[2 * i + 1];

	/* the longest run of zero groups, the first of equal ones */
	for (int i = 0; i < 8;)
	{
		int			j = i;

		while (j < 8 && g[j] == 0)
			j++;
		if (j - i > run_len)
		{
			run_at = i;
			run_len = j - i;
		}
		i = j > i ? j : i + 1;
	}
	if (run_len < 2)
		run_at = -1;

	for (int i = 0; i < 8; i++)
	{
		if (i == run_at)
		{
			*p++ = ':';
			if (i + run_len == 8)
				*p++ = ':';		/* a trailing run: "x::" (or "::") */
			i += run_len - 1;
			continue;
		}
		if (i > 0)
			*p++ = ':';
		if (i == 6 && run_at == 0 && (run_len == 6 || (run_len == 5 && g[5] == 0xffff)))
		{
			p = put_v4(p, b + 12);
			break;
		}
		p = put_group(p, g[i]);
	}
	*p = '\0';
	return (int) (p - out);
}
