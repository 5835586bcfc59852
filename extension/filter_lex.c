/*-------------------------------------------------------------------------
 *
 * filter_lex.c
 *		The filter parser's memory, errors and tokens: the arena every node
 *		is allocated from, the error that names a position, the lexer, and
 *		the tests on tokens the grammar is written with.
 *
 * A filter is cut into tokens in one pass before parsing (the grammar looks
 * ahead a few tokens: "src net 10.0.0.0/8", "port in [ ... ]"), each a type
 * and a byte range of the text, so that an error can name the position of
 * the token it is about.  Words are compared without case, as nfdump's
 * scanner does; the words of reserved[] are never values.  Characters are
 * classified as ASCII (filter_parse_internal.h): the backend's locale must
 * not change what a filter means.
 *
 *-------------------------------------------------------------------------
 */
#include "filter_parse_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Words that can never be a value (nfdump 1.7.1's scanner keywords). */
static const char *const reserved[] = {
	"and", "or", "not", "any", "ip", "host", "net", "port", "src", "dst", "in",
	"out", "proto", "ipv4", "ipv6", "inet", "inet6", "ident", "count",
	"nfversion", "sysid", "tun", "tunip", "next", "bgpnext", "router", "prev",
	"previous", "icmp-type", "icmp-code", "flags", "packets", "bytes", "flows",
	"duration", "pps", "bps", "bpp", "tos", "as", "if", "vlan", "mac", "mpls",
	"mask", "engine-type", "engine-id", "fwdstat", "dir", "flowdir", "ingress",
	"egress", "latency", "observation", "payload", "geo", "flowlabel", "asa",
	"event", "xevent", "xip", "nip", "xnet", "xport", "nport", "nat", "pblock",
	"eq", "gt", "lt", "ge", "le", "ignore", "invalid", "create", "add", "term",
	"delete", "deny", "denied", "acl", "ace", "xace", "vrf",
};

/* ---------------------------------------------------------------- arena */

void *
fp_palloc_arena(Parser *p, size_t size)
{
	Chunk	   *c = p->f->chunks;

	size = (size + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
	if (c == NULL || c->size - c->used < size)
	{
		size_t		csize = size > 16384 ? size : 16384;

		c = malloc(sizeof(Chunk) + csize);
		if (c == NULL)
		{
			p->err->pos = 0;
			snprintf(p->err->message, sizeof(p->err->message), "out of memory");
			longjmp(p->jb, 1);
		}
		c->next = p->f->chunks;
		c->used = 0;
		c->size = csize;
		p->f->chunks = c;
	}
	c->used += size;
	return memset((char *) c->data + c->used - size, 0, size);
}

void
nf_filter_free(NfFilter *filter)
{
	if (filter == NULL)
		return;
	while (filter->chunks)
	{
		Chunk	   *next = filter->chunks->next;

		free(filter->chunks);
		filter->chunks = next;
	}
	free(filter);
}

const NfNode *
nf_filter_root(const NfFilter *filter)
{
	return filter->root;
}

/* --------------------------------------------------------------- errors */

const Tok *
fp_cur(Parser *p)
{
	return &p->toks[p->i];
}

const Tok *
fp_peek(Parser *p, int k)
{
	int			j = p->i + k;

	return &p->toks[j < p->ntoks ? j : p->ntoks - 1];
}

void
fp_advance(Parser *p)
{
	if (p->i < p->ntoks - 1)
		p->i++;
}

void
fp_fail(Parser *p, const Tok *t, const char *fmt,...)
{
	char		msg[160];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p->err->pos = t->start + 1;
	if (t->type == T_END)
		snprintf(p->err->message, sizeof(p->err->message), "%s at end of filter", msg);
	else
		snprintf(p->err->message, sizeof(p->err->message), "%s at '%.*s'", msg,
				 t->len > 40 ? 40 : t->len, p->text + t->start);
	longjmp(p->jb, 1);
}

void
fp_syntax_error(Parser *p, const Tok *t)
{
	fp_fail(p, t, "syntax error");
}

/* ---------------------------------------------------------------- lexer */

static bool
is_word_char(unsigned char c)
{
	return isalnum(c) || c == '_' || c == ':' || c == '.' || c == '-';
}

void
fp_lex(Parser *p)
{
	int			n = 0;
	int			i = 0;

	/* at most one token per byte, plus the end marker */
	p->toks = fp_palloc_arena(p, sizeof(Tok) * (p->len + 1));
	while (i < p->len)
	{
		unsigned char c = p->text[i];
		Tok		   *t = &p->toks[n];

		if (isspace(c))
		{
			i++;
			continue;
		}
		if (c == '#')
		{
			while (i < p->len && p->text[i] != '\n')
				i++;
			continue;
		}
		t->start = i;
		t->len = 1;
		if (is_word_char(c))
		{
			t->type = T_WORD;
			while (i + t->len < p->len && is_word_char(p->text[i + t->len]))
				t->len++;
		}
		else if (c == '\'' || c == '"')
		{
			/* quoted word, printable ASCII, ends at the next same quote */
			t->type = T_QUOTED;
			while (i + t->len < p->len && p->text[i + t->len] != c &&
				   isprint((unsigned char) p->text[i + t->len]))
				t->len++;
			if (i + t->len >= p->len || p->text[i + t->len] != c)
			{
				t->type = T_BAD;
				p->ntoks = n + 1;
				fp_fail(p, t, "unterminated or non-printable quoted string");
			}
			t->len++;
		}
		else
		{
			char		d = i + 1 < p->len ? p->text[i + 1] : '\0';

			switch (c)
			{
				case '(': t->type = T_LPAREN; break;
				case ')': t->type = T_RPAREN; break;
				case '[': t->type = T_LBRACK; break;
				case ']': t->type = T_RBRACK; break;
				case ',': t->type = T_COMMA; break;
				case '/': t->type = T_SLASH; break;
				case '%': t->type = T_PERCENT; break;
				case '!': t->type = T_BANG; break;
				case '&': t->type = d == '&' ? T_ANDAND : T_BAD; break;
				case '|': t->type = d == '|' ? T_OROR : T_BAD; break;
				case '=': t->type = T_EQ; break;
				case '<': t->type = d == '=' ? T_LE : T_LT; break;
				case '>': t->type = d == '=' ? T_GE : T_GT; break;
				default: t->type = T_BAD; break;
			}
			if (t->type == T_ANDAND || t->type == T_OROR || t->type == T_LE ||
				t->type == T_GE || (c == '=' && d == '='))
				t->len = 2;
			if (t->type == T_BAD)
			{
				p->ntoks = n + 1;
				fp_fail(p, t, "syntax error");
			}
		}
		i += t->len;
		n++;
	}
	p->toks[n].type = T_END;
	p->toks[n].start = p->len;
	p->toks[n].len = 0;
	p->ntoks = n + 1;
}

/* ------------------------------------------------------- token helpers */

bool
fp_is_kw(Parser *p, const Tok *t, const char *kw)
{
	size_t		n = strlen(kw);

	return t->type == T_WORD && (size_t) t->len == n &&
		strncasecmp(p->text + t->start, kw, n) == 0;
}

bool
fp_is_reserved(Parser *p, const Tok *t)
{
	for (size_t k = 0; k < sizeof(reserved) / sizeof(reserved[0]); k++)
		if (fp_is_kw(p, t, reserved[k]))
			return true;
	return false;
}

bool
fp_is_or(Parser *p, const Tok *t)
{
	return t->type == T_OROR || fp_is_kw(p, t, "or");
}

bool
fp_is_and(Parser *p, const Tok *t)
{
	return t->type == T_ANDAND || fp_is_kw(p, t, "and");
}

/* Is every byte of the token in set?  (The text is not NUL-terminated.) */
bool
fp_all_in(Parser *p, const Tok *t, const char *set)
{
	for (int k = 0; k < t->len; k++)
		if (strchr(set, p->text[t->start + k]) == NULL || p->text[t->start + k] == '\0')
			return false;
	return true;
}

void
fp_expect(Parser *p, TokType type)
{
	if (fp_cur(p)->type != type)
		fp_syntax_error(p, fp_cur(p));
	fp_advance(p);
}

void
fp_expect_kw(Parser *p, const char *kw)
{
	if (!fp_is_kw(p, fp_cur(p), kw))
		fp_syntax_error(p, fp_cur(p));
	fp_advance(p);
}

/* Copy a word into buf (NUL-terminated); false when it does not fit. */
bool
fp_word_text(Parser *p, const Tok *t, char *buf, size_t size)
{
	if ((size_t) t->len >= size)
		return false;
	memcpy(buf, p->text + t->start, t->len);
	buf[t->len] = '\0';
	return true;
}

/*
 * A number: decimal with at most one SI scale letter (k m g t), or 0x hex.
 * Returns false if the word is not a number at all.
 */
bool
fp_word_number(Parser *p, const Tok *t, uint64_t *out)
{
	const char *s = p->text + t->start;
	int			n = t->len;
	uint64_t	v = 0;
	uint64_t	scale = 1;

	if (t->type != T_WORD)
		return false;
	if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
	{
		if (n > 18)
			fp_fail(p, t, "number out of range");
		for (int k = 2; k < n; k++)
		{
			if (!isxdigit((unsigned char) s[k]))
				return false;
			v = v * 16 + (isdigit((unsigned char) s[k]) ? s[k] - '0' : (tolower(s[k]) - 'a' + 10));
		}
		*out = v;
		return true;
	}
	if (!isdigit((unsigned char) s[0]))
		return false;
	if (!isdigit((unsigned char) s[n - 1]))
	{
		switch (s[n - 1])
		{
			case 'k': case 'K': scale = 1000ULL; break;
			case 'm': case 'M': scale = 1000000ULL; break;
			case 'g': case 'G': scale = 1000000000ULL; break;
			case 't': case 'T': scale = 1000000000000ULL; break;
			default: return false;
		}
		n--;
	}
	for (int k = 0; k < n; k++)
	{
		if (!isdigit((unsigned char) s[k]))
			return false;
		if (v > (UINT64_MAX - (s[k] - '0')) / 10)
			fp_fail(p, t, "number out of range");
		v = v * 10 + (s[k] - '0');
	}
	if (v > UINT64_MAX / scale)
		fp_fail(p, t, "number out of range");
	*out = v * scale;
	return true;
}

uint64_t
fp_parse_number(Parser *p, uint64_t max, const char *what)
{
	const Tok  *t = fp_cur(p);
	uint64_t	v;

	if (!fp_word_number(p, t, &v))
		fp_syntax_error(p, t);
	if (v > max)
		fp_fail(p, t, "%s out of range 0..%llu", what, (unsigned long long) max);
	fp_advance(p);
	return v;
}

bool
fp_is_comp(Parser *p, const Tok *t)
{
	return t->type == T_EQ || t->type == T_LT || t->type == T_LE ||
		t->type == T_GT || t->type == T_GE || fp_is_kw(p, t, "eq") ||
		fp_is_kw(p, t, "gt") || fp_is_kw(p, t, "lt") || fp_is_kw(p, t, "ge") ||
		fp_is_kw(p, t, "le");
}

NfCmp
fp_parse_comp(Parser *p)
{
	const Tok  *t = fp_cur(p);
	NfCmp		op = NFC_EQ;

	if (!fp_is_comp(p, t))
		return NFC_EQ;
	if (t->type == T_LT || fp_is_kw(p, t, "lt"))
		op = NFC_LT;
	else if (t->type == T_LE || fp_is_kw(p, t, "le"))
		op = NFC_LE;
	else if (t->type == T_GT || fp_is_kw(p, t, "gt"))
		op = NFC_GT;
	else if (t->type == T_GE || fp_is_kw(p, t, "ge"))
		op = NFC_GE;
	fp_advance(p);
	return op;
}

/* Equality-only primitives reject any comparator, as 1.7.1 does. */
void
fp_no_comp(Parser *p)
{
	if (fp_is_comp(p, fp_cur(p)))
		fp_syntax_error(p, fp_cur(p));
}
