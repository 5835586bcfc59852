/*-------------------------------------------------------------------------
 *
 * filter_addr.c
 *		Addresses in a filter: a host, a prefix ("net 10.0.0.0/8", "net
 *		10.0.0.0 255.0.0.0", abbreviated "172.16/16"), lists of them in
 *		brackets, lists of numbers, and the nodes they become.
 *
 * Host names are refused: nfdump resolves them when it parses, and a
 * filter's meaning must not depend on DNS, nor a query wait on it.  The
 * bits of a prefix past its length are cleared, as nfdump clears them.
 *
 *-------------------------------------------------------------------------
 */
#include "filter_parse_internal.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parse a complete address; hostnames are refused (nfpg never resolves). */
void
fp_parse_host_addr(Parser *p, const Tok *t, NfAddr *a, const char *hostmsg)
{
	char		buf[64];
	int			dots = 0;
	bool		v4chars = true;

	if (t->type != T_WORD || !fp_word_text(p, t, buf, sizeof(buf)))
		fp_syntax_error(p, t);
	memset(a, 0, sizeof(*a));
	if (strchr(buf, ':'))
	{
		if (inet_pton(AF_INET6, buf, a->addr) != 1)
			fp_fail(p, t, "Error parsing IP address.");
		a->family = 6;
		a->bits = 128;
		return;
	}
	for (char *c = buf; *c; c++)
	{
		if (*c == '.')
			dots++;
		else if (!isdigit((unsigned char) *c))
			v4chars = false;
	}
	if (!v4chars)
		fp_fail(p, t, "%s", hostmsg);
	if (dots < 3)
		fp_fail(p, t, "incomplete IP address");
	if (inet_pton(AF_INET, buf, a->addr) != 1)
		fp_fail(p, t, "Error parsing IP address.");
	a->family = 4;
	a->bits = 32;
}

static void
mask_host_bits(NfAddr *a)
{
	int			nbytes = a->family == 4 ? 4 : 16;

	for (int k = 0; k < nbytes; k++)
	{
		int			keep = a->bits - 8 * k;

		if (keep <= 0)
			a->addr[k] = 0;
		else if (keep < 8)
			a->addr[k] &= (uint8_t) (0xFF << (8 - keep));
	}
}

/*
 * Parse A/L where A may be abbreviated (172.16/16, 2001:db8/32); L may not
 * exceed the bits actually written.  The current token is A.
 */
void
fp_parse_prefix(Parser *p, NfAddr *a)
{
	const Tok  *t = fp_cur(p);
	const Tok  *bits_tok;
	char		buf[64];
	int			written;
	uint64_t	len;

	if (t->type != T_WORD || !fp_word_text(p, t, buf, sizeof(buf)) ||
		fp_word_number(p, t, &len))
		fp_syntax_error(p, t);
	memset(a, 0, sizeof(*a));
	if (strchr(buf, ':'))
	{
		char		full[70];
		int			colons = 0;

		for (char *c = buf; *c; c++)
			colons += *c == ':';
		written = strstr(buf, "::") ? 128 : 16 * (colons + 1);
		snprintf(full, sizeof(full), "%s%s", buf, written < 128 ? "::" : "");
		if (inet_pton(AF_INET6, full, a->addr) != 1)
			fp_fail(p, t, "Error parsing IP address.");
		a->family = 6;
	}
	else
	{
		int			octets = 0;
		char	   *c = buf;

		while (*c)
		{
			unsigned long v;
			char	   *end;

			if (!isdigit((unsigned char) *c) || octets == 4)
				fp_fail(p, t, "Error parsing IP address.");
			v = strtoul(c, &end, 10);
			if (v > 255 || end - c > 3)
				fp_fail(p, t, "Error parsing IP address.");
			a->addr[octets++] = (uint8_t) v;
			c = end;
			if (*c == '.' && c[1] != '\0')
				c++;
			else if (*c != '\0')
				fp_fail(p, t, "Error parsing IP address.");
		}
		written = 8 * octets;
		a->family = 4;
	}
	fp_advance(p);
	fp_expect(p, T_SLASH);
	bits_tok = fp_cur(p);
	len = fp_parse_number(p, 128, "Netbits");
	if ((int) len > written)
		fp_fail(p, bits_tok, "Too many netbits for this IP address");
	a->bits = (int) len;
	mask_host_bits(a);
}

/* net A/L or net A M (dotted IPv4 netmask) */
void
fp_parse_net(Parser *p, NfAddr *a)
{
	const Tok  *t = fp_cur(p);
	const Tok  *m = fp_peek(p, 1);
	NfAddr		mask;
	uint32_t	mv;
	int			bits = 0;

	if (m->type == T_SLASH)
	{
		fp_parse_prefix(p, a);
		return;
	}
	if (m->type != T_WORD || fp_is_reserved(p, m))
		fp_syntax_error(p, m);
	fp_parse_host_addr(p, t, a, "IP address required - hostname not allowed here.");
	if (a->family != 4)
		fp_fail(p, m, "IP netmask syntax valid only for IPv4");
	fp_parse_host_addr(p, m, &mask, "Error parsing IP netmask.");
	if (mask.family != 4)
		fp_fail(p, m, "IP netmask syntax valid only for IPv4");
	mv = (uint32_t) mask.addr[0] << 24 | mask.addr[1] << 16 | mask.addr[2] << 8 | mask.addr[3];
	while (bits < 32 && (mv & (0x80000000U >> bits)))
		bits++;
	if (bits < 32 && (mv << bits) != 0)
		fp_fail(p, m, "netmask must be contiguous");
	a->bits = bits;
	mask_host_bits(a);
	fp_advance(p);
	fp_advance(p);
}

/*
 * [ A A/L, A ... ]: blanks or commas separate; as in 1.7.1 a prefix may not
 * follow a comma, and an empty list or a trailing comma is an error.
 */
NfAddr *
fp_parse_addr_list(Parser *p, int *count, bool prefixes)
{
	int			cap = 8;
	int			n = 0;
	bool		after_comma = false;
	NfAddr	   *list = fp_palloc_arena(p, sizeof(NfAddr) * cap);

	fp_expect(p, T_LBRACK);
	for (;;)
	{
		const Tok  *t = fp_cur(p);

		if (t->type == T_RBRACK || t->type == T_COMMA)
		{
			if (n == 0 || after_comma)
				fp_syntax_error(p, t);
			fp_advance(p);
			if (t->type == T_RBRACK)
				break;
			after_comma = true;
			continue;
		}
		if (n == cap)
		{
			NfAddr	   *bigger = fp_palloc_arena(p, sizeof(NfAddr) * cap * 2);

			memcpy(bigger, list, sizeof(NfAddr) * cap);
			list = bigger;
			cap *= 2;
		}
		if (fp_peek(p, 1)->type == T_SLASH && prefixes)
		{
			if (after_comma)
				fp_syntax_error(p, fp_peek(p, 1));
			fp_parse_prefix(p, &list[n++]);
		}
		else
		{
			if (t->type != T_WORD || fp_is_reserved(p, t))
				fp_syntax_error(p, t);
			fp_parse_host_addr(p, t, &list[n++],
							"Error parsing IP address. (nfpg does not resolve hostnames)");
			fp_advance(p);
		}
		after_comma = false;
	}
	*count = n;
	return list;
}

uint64_t *
fp_parse_num_list(Parser *p, int *count, uint64_t max, const char *what)
{
	int			cap = 8;
	int			n = 0;
	bool		after_comma = false;
	uint64_t   *list = fp_palloc_arena(p, sizeof(uint64_t) * cap);

	fp_expect(p, T_LBRACK);
	for (;;)
	{
		const Tok  *t = fp_cur(p);

		if (t->type == T_RBRACK || t->type == T_COMMA)
		{
			if (n == 0 || after_comma)
				fp_syntax_error(p, t);
			fp_advance(p);
			if (t->type == T_RBRACK)
				break;
			after_comma = true;
			continue;
		}
		if (n == cap)
		{
			uint64_t   *bigger = fp_palloc_arena(p, sizeof(uint64_t) * cap * 2);

			memcpy(bigger, list, sizeof(uint64_t) * cap);
			list = bigger;
			cap *= 2;
		}
		list[n++] = fp_parse_number(p, max, what);
		after_comma = false;
	}
	*count = n;
	return list;
}

NfNode *
fp_addr_node(Parser *p, NfFieldId field, const NfAddr *a)
{
	NfNode	   *n = fp_node(p, NFN_ADDR);

	n->field = field;
	n->addr = *a;
	return n;
}

NfNode *
fp_addrlist_node(Parser *p, NfFieldId field, NfAddr *list, int count)
{
	NfNode	   *n = fp_node(p, NFN_ADDRLIST);

	n->field = field;
	n->addrs = list;
	n->naddrs = count;
	return n;
}

NfNode *
fp_numlist_node(Parser *p, NfFieldId field, uint64_t *list, int count)
{
	NfNode	   *n = fp_node(p, NFN_NUMLIST);

	n->field = field;
	n->values = list;
	n->nvalues = count;
	return n;
}

/* An address primitive of a field nfpg does not store (absent = 0.0.0.0). */
NfNode *
fp_absent_addr(Parser *p, const NfAddr *list, int count)
{
	NfAddr		zero = {.family = 4, .bits = 32};

	for (int k = 0; k < count; k++)
		if (nf_addr_contains(&list[k], &zero))
			return fp_node_const(p, true);
	return fp_node_const(p, false);
}
