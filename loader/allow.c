/*-------------------------------------------------------------------------
 *
 * allow.c
 *		The exporter allow-list (allow_exporters, nfpgd -n).
 *
 * Anyone who can send a UDP datagram to nfpgd's port could otherwise
 * create rows, partitions and nfpg.exporters entries at will (spoofed
 * sources cost nothing).  nfcapd answers this with its -n source list;
 * nfpgd takes a list of address prefixes, each for every listener or for
 * one ("10.0.0.0/8@*:2055", "192.0.2.1@9995"), and the receiver drops a
 * datagram from any other source before it is queued or decoded: it costs
 * a counter and nothing else, however many arrive.
 *
 * A listener's list is the entries without "@" plus its own.  A listener
 * whose list is empty accepts every exporter (nfpgd's behaviour without
 * the setting); the receiver logs at start which sources each accepts.
 * IPv4 entries match IPv4 exporters also when a dual-stack socket reports
 * them as ::ffff:a.b.c.d (receiver.c hands over the plain IPv4 address).
 * Host names are not accepted: a list that depends on DNS at start is a
 * list an attacker may influence.
 *
 * This file is PostgreSQL-free and has no state: parsing and matching only.
 *
 *-------------------------------------------------------------------------
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "allow.h"

/* Parse one "ADDR[/LEN][@LISTEN]" token (modified in place). */
static int
parse_entry(char *tok, AllowEntry *e, char *err, size_t errlen)
{
	char	   *at = strchr(tok, '@'),
			   *slash,
			   *end;
	uint8_t		buf[16];
	long		bits;
	int			max;

	memset(e, 0, sizeof(*e));
	if (at)
	{
		*at = '\0';
		if (at[1] == '\0' || strlen(at + 1) >= sizeof(e->listener))
			return snprintf(err, errlen, "allow_exporters: \"%s@%s\": bad listener", tok, at + 1), -1;
		snprintf(e->listener, sizeof(e->listener), "%s", at + 1);
	}
	slash = strchr(tok, '/');
	if (slash)
		*slash = '\0';
	if (inet_pton(AF_INET, tok, buf) == 1)
	{
		e->prefix.addr.family = 4;
		memcpy(e->prefix.addr.addr, buf, 4);
		max = 32;
	}
	else if (inet_pton(AF_INET6, tok, buf) == 1)
	{
		e->prefix.addr.family = 6;
		memcpy(e->prefix.addr.addr, buf, 16);
		max = 128;
	}
	else
		return snprintf(err, errlen,
						"allow_exporters: \"%s\" is not an IPv4 or IPv6 address (host names are not accepted)",
						tok), -1;
	bits = max;
	if (slash)
	{
		bits = strtol(slash + 1, &end, 10);
		if (slash[1] == '\0' || *end != '\0' || !isdigit((unsigned char) slash[1]) ||
			bits < 0 || bits > max)
			return snprintf(err, errlen, "allow_exporters: \"%s/%s\": prefix length must be 0-%d",
							tok, slash + 1, max), -1;
	}
	e->prefix.bits = (uint8_t) bits;
	/* Host bits are ignored, as PostgreSQL's cidr would refuse them: keep the network. */
	for (int i = 0; i < 16; i++)
	{
		int			keep = (int) bits - 8 * i;

		if (keep <= 0)
			e->prefix.addr.addr[i] = 0;
		else if (keep < 8)
			e->prefix.addr.addr[i] &= (uint8_t) (0xff << (8 - keep));
	}
	return 0;
}

int
allow_parse(const char *text, AllowEntry **entries, int *n, char *err, size_t errlen)
{
	char	   *copy = strdup(text ? text : ""),
			   *save = NULL;
	AllowEntry *list = NULL;
	int			count = 0,
				cap = 0;

	*entries = NULL;
	*n = 0;
	if (copy == NULL)
		return snprintf(err, errlen, "out of memory"), -1;
	for (char *tok = strtok_r(copy, " ,\t", &save); tok; tok = strtok_r(NULL, " ,\t", &save))
	{
		if (count == cap)
		{
			AllowEntry *grown = realloc(list, (cap = cap ? cap * 2 : 8) * sizeof(AllowEntry));

			if (grown == NULL)
			{
				snprintf(err, errlen, "out of memory");
				goto fail;
			}
			list = grown;
		}
		if (parse_entry(tok, &list[count], err, errlen) < 0)
			goto fail;
		count++;
	}
	free(copy);
	*entries = list;
	*n = count;
	return 0;

fail:
	free(copy);
	free(list);
	return -1;
}

bool
allow_entry_for(const AllowEntry *e, const char *spec, unsigned port)
{
	char	   *end;
	unsigned long p;

	if (e->listener[0] == '\0' || strcmp(e->listener, spec) == 0)
		return true;
	p = strtoul(e->listener, &end, 10);
	return isdigit((unsigned char) e->listener[0]) && *end == '\0' && p == port;
}

bool
allow_prefix_contains(const AllowPrefix *p, const NfAddr *a)
{
	int			full = p->bits / 8,
				rest = p->bits % 8;

	if (p->addr.family != a->family)
		return false;
	if (memcmp(p->addr.addr, a->addr, full) != 0)
		return false;
	return rest == 0 ||
		((p->addr.addr[full] ^ a->addr[full]) & (uint8_t) (0xff << (8 - rest))) == 0;
}

bool
allow_match(const AllowList *l, const NfAddr *a)
{
	if (l->n == 0)
		return true;
	for (int i = 0; i < l->n; i++)
		if (allow_prefix_contains(&l->prefixes[i], a))
			return true;
	return false;
}

void
allow_format(const AllowPrefix *p, char *buf, size_t len)
{
	char		addr[INET6_ADDRSTRLEN];

	inet_ntop(p->addr.family == 6 ? AF_INET6 : AF_INET, p->addr.addr, addr, sizeof(addr));
	snprintf(buf, len, "%s/%u", addr, p->bits);
}

void
allow_list_free(AllowList *l)
{
	free(l->prefixes);
	l->prefixes = NULL;
	l->n = 0;
}
