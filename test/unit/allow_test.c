/*
 * allow_test.c
 *		The exporter allow-list (loader/allow.c): parsing of
 *		allow_exporters, with the messages a bad entry gets, prefix
 *		matching for IPv4 and IPv6 at byte and bit boundaries, host bits,
 *		which listener an entry applies to, and the empty list accepting all.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "allow.h"
#include "unit.h"

static NfAddr
addr(const char *text)
{
	NfAddr		a = {0};

	if (inet_pton(AF_INET, text, a.addr) == 1)
		a.family = 4;
	else if (inet_pton(AF_INET6, text, a.addr) == 1)
		a.family = 6;
	return a;
}

static void
test_parse(void)
{
	AllowEntry *e;
	int			n;
	char		err[256],
				buf[64];

	CHECK(allow_parse("192.0.2.1, 10.1.2.3/8\t2001:db8::/32@*:2055,198.51.100.0/23@9995",
					  &e, &n, err, sizeof(err)) == 0, "parse: %s", err);
	CHECK(n == 4, "4 entries, not %d", n);
	if (n == 4)
	{
		CHECK(e[0].prefix.bits == 32 && e[0].listener[0] == '\0', "a bare address is a /32 for every listener");
		allow_format(&e[1].prefix, buf, sizeof(buf));
		CHECK(strcmp(buf, "10.0.0.0/8") == 0, "host bits cleared: %s", buf);
		CHECK(e[2].prefix.addr.family == 6 && e[2].prefix.bits == 32 &&
			  strcmp(e[2].listener, "*:2055") == 0, "IPv6 prefix for one listener");
		allow_format(&e[3].prefix, buf, sizeof(buf));
		CHECK(strcmp(buf, "198.51.100.0/23") == 0 && strcmp(e[3].listener, "9995") == 0, "%s", buf);
		CHECK(allow_entry_for(&e[0], "127.0.0.1:9995", 9995), "an entry without @ applies to all");
		CHECK(allow_entry_for(&e[2], "*:2055", 2055), "@spec names the listen entry");
		CHECK(!allow_entry_for(&e[2], "*:2056", 2056), "... and no other");
		CHECK(allow_entry_for(&e[3], "[::]:9995", 9995), "@port names every listener on it");
		CHECK(!allow_entry_for(&e[3], "[::]:99950", 9995 + 1), "... and no other port");
	}
	free(e);

	CHECK(allow_parse("", &e, &n, err, sizeof(err)) == 0 && n == 0, "empty: no entries");
	free(e);

	CHECK(allow_parse("10.0.0.0/33", &e, &n, err, sizeof(err)) < 0 && strstr(err, "0-32"),
		  "IPv4 length > 32: %s", err);
	CHECK(allow_parse("2001:db8::/129", &e, &n, err, sizeof(err)) < 0 && strstr(err, "0-128"),
		  "IPv6 length > 128: %s", err);
	CHECK(allow_parse("10.0.0.0/", &e, &n, err, sizeof(err)) < 0, "empty length");
	CHECK(allow_parse("10.0.0.0/-1", &e, &n, err, sizeof(err)) < 0, "negative length");
	CHECK(allow_parse("192.0.2.1 router1", &e, &n, err, sizeof(err)) < 0 &&
		  strstr(err, "\"router1\"") && strstr(err, "host names"), "host name refused: %s", err);
	CHECK(allow_parse("192.0.2.1@", &e, &n, err, sizeof(err)) < 0 && strstr(err, "listener"),
		  "empty listener: %s", err);
}

static void
test_match(void)
{
	AllowPrefix p[4] = {0};
	AllowList	l = {.n = 4, .prefixes = p};
	AllowList	none = {0};
	NfAddr		a;

	p[0].addr = addr("192.0.2.1");
	p[0].bits = 32;
	p[1].addr = addr("10.0.0.0");
	p[1].bits = 8;
	p[2].addr = addr("198.51.100.0");
	p[2].bits = 23;				/* 198.51.100.0 - 198.51.101.255 */
	p[3].addr = addr("2001:db8::");
	p[3].bits = 33;

	CHECK(allow_match(&l, (a = addr("192.0.2.1"), &a)), "exact host");
	CHECK(!allow_match(&l, (a = addr("192.0.2.2"), &a)), "neighbour host");
	CHECK(allow_match(&l, (a = addr("10.255.255.255"), &a)), "in /8");
	CHECK(!allow_match(&l, (a = addr("11.0.0.0"), &a)), "past /8");
	CHECK(allow_match(&l, (a = addr("198.51.101.200"), &a)), "in /23 (bit boundary)");
	CHECK(!allow_match(&l, (a = addr("198.51.102.0"), &a)), "past /23");
	CHECK(allow_match(&l, (a = addr("2001:db8:7fff::1"), &a)), "in /33");
	CHECK(!allow_match(&l, (a = addr("2001:db8:8000::1"), &a)), "past /33");
	CHECK(!allow_match(&l, (a = addr("::ffff:192.0.2.1"), &a)),
		  "an IPv6 address is not an IPv4 one (the receiver unmaps ::ffff: first)");
	CHECK(allow_match(&none, (a = addr("203.0.113.9"), &a)), "an empty list takes every source");

	p[0].addr = addr("0.0.0.0");
	p[0].bits = 0;
	l.n = 1;
	CHECK(allow_match(&l, (a = addr("203.0.113.9"), &a)), "0.0.0.0/0: every IPv4 source");
	CHECK(!allow_match(&l, (a = addr("2001:db8::1"), &a)), "... but no IPv6 one");
}

int
main(void)
{
	test_parse();
	test_match();
	return unit_report("allow_test");
}
