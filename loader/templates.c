/*-------------------------------------------------------------------------
 *
 * templates.c
 *		Template cache of one exporter: parse, store, withdraw, and hold
 *		data sets that arrive before their template.
 *
 * Templates are indexed directly by id (a lazily allocated page of 256
 * slots per high byte), so a lookup per data set costs two loads.  A
 * template with a zero-length field, a v9 field of length 0xffff, more than
 * TEMPLATE_MAX_FIELDS fields or records longer than a datagram can carry is
 * rejected (and an older template of that id forgotten: the exporter no
 * longer means it).  Data sets without a known template are kept, bounded
 * per exporter, and decoded when the template arrives; nfcapd drops them.
 * This is what makes the first datagrams after a collector restart count.
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>

#include "templates.h"
#include "wire.h"

#define IPFIX_ENTERPRISE_BIT	0x8000

typedef struct Pending
{
	uint16_t	set_id;
	uint32_t	len;
	TimeBase	tb;
	uint8_t    *data;
} Pending;

struct TemplateCache
{
	uint32_t	count;
	Template  **page[256];		/* page[id >> 8][id & 0xff] */
	int			n_pending;
	size_t		pending_bytes;
	Pending		pending[PENDING_MAX_SETS];	/* oldest first */
};

static TemplateCache *
tcache_of(DecodeCtx *c)
{
	if (!c->exp->templates)
		c->exp->templates = calloc(1, sizeof(TemplateCache));
	return c->exp->templates;
}

void
tcache_free(TemplateCache *tc)
{
	if (!tc)
		return;
	for (int i = 0; i < 256; i++)
	{
		if (!tc->page[i])
			continue;
		for (int j = 0; j < 256; j++)
			free(tc->page[i][j]);
		free(tc->page[i]);
	}
	for (int i = 0; i < tc->n_pending; i++)
		free(tc->pending[i].data);
	free(tc);
}

uint32_t
tcache_count(const TemplateCache *tc)
{
	return tc ? tc->count : 0;
}

const Template *
tcache_get(const TemplateCache *tc, uint16_t id)
{
	if (!tc || !tc->page[id >> 8])
		return NULL;
	return tc->page[id >> 8][id & 0xff];
}

static int64_t
template_size(const Template *t)
{
	return (int64_t) (sizeof(Template) + t->nfields * sizeof(TemplateField));
}

static void
tcache_remove(ExporterTable *et, TemplateCache *tc, uint16_t id)
{
	Template  **slot;

	if (!tc->page[id >> 8])
		return;
	slot = &tc->page[id >> 8][id & 0xff];
	if (*slot)
	{
		exporter_table_charge(et, MEM_TEMPLATES, -template_size(*slot));
		free(*slot);
		*slot = NULL;
		tc->count--;
	}
}

/* IPFIX "withdraw all": every template, or every options template. */
static void
tcache_remove_all(ExporterTable *et, TemplateCache *tc, bool options)
{
	for (int i = 1; i < 256; i++)
		for (int j = 0; tc->page[i] && j < 256; j++)
		{
			Template   *t = tc->page[i][j];

			if (t && t->options == options)
				tcache_remove(et, tc, (uint16_t) (i << 8 | j));
		}
}

static bool
same_template(const Template *a, const Template *b)
{
	return a->nfields == b->nfields && a->nscope == b->nscope &&
		a->options == b->options &&
		memcmp(a->fields, b->fields, a->nfields * sizeof(TemplateField)) == 0;
}

/*
 * Store t (taking ownership); a template of the same id is replaced.  False
 * when the exporter or the table has no room left.
 */
static bool
tcache_put(ExporterTable *et, TemplateCache *tc, Template *t)
{
	Template  **pg = tc->page[t->id >> 8];
	Template  **slot;
	int64_t		delta;

	if (!pg)
	{
		/* pages are kept until the exporter goes: charged once */
		if (!exporter_table_charge(et, MEM_TEMPLATES, 256 * sizeof(Template *)) ||
			!(pg = tc->page[t->id >> 8] = calloc(256, sizeof(Template *))))
		{
			free(t);
			return false;
		}
	}
	slot = &pg[t->id & 0xff];
	if (*slot && same_template(*slot, t))
	{
		free(t);				/* a refresh: keep the old copy */
		return true;
	}
	delta = template_size(t) - (*slot ? template_size(*slot) : 0);
	if ((!*slot && tc->count >= TEMPLATE_MAX_PER_EXPORTER) ||
		!exporter_table_charge(et, MEM_TEMPLATES, delta))
	{
		free(t);
		return false;
	}
	if (*slot)
		free(*slot);
	else
		tc->count++;
	*slot = t;
	return true;
}

/*
 * Parse the fields of one template record starting at p[off] (after its
 * header); returns the template or NULL, and sets *end past the record
 * (0 when the record runs past the set: the rest of the set is unusable).
 */
static Template *
template_fields(DecodeCtx *c, uint16_t id, uint16_t nfields, uint16_t nscope,
				bool options, const uint8_t *p, size_t len, size_t off,
				size_t *end)
{
	bool		ipfix = c->version == 10;
	bool		bad = nfields == 0 || nfields > TEMPLATE_MAX_FIELDS || nscope > nfields;
	Template   *t;

	*end = 0;
	if ((len - off) / 4 < nfields)
		return NULL;
	t = malloc(sizeof(Template) + (size_t) nfields * sizeof(TemplateField));
	if (!t)
		return NULL;
	memset(t, 0, sizeof(Template));
	t->id = id;
	t->nfields = nfields;
	t->nscope = nscope;
	t->options = options;
	t->ipfix = ipfix;
	for (int i = 0; i < nfields; i++)
	{
		TemplateField *f = &t->fields[i];

		if (len - off < 4)
		{
			free(t);
			return NULL;
		}
		f->type = get_u16(p + off);
		f->len = get_u16(p + off + 2);
		f->pen = 0;
		off += 4;
		if (ipfix && (f->type & IPFIX_ENTERPRISE_BIT))
		{
			if (len - off < 4)
			{
				free(t);
				return NULL;
			}
			f->type &= ~IPFIX_ENTERPRISE_BIT;
			f->pen = get_u32(p + off);
			off += 4;
		}
		if (f->len == 0 || (f->len == TEMPLATE_VARLEN && !ipfix))
			bad = true;
		else if (f->len == TEMPLATE_VARLEN)
		{
			t->has_varlen = true;
			t->min_len += 1;
		}
		else
			t->min_len += f->len;
	}
	*end = off;
	if (bad || t->min_len > 65535)
	{
		free(t);
		return NULL;
	}
	return t;
}

/* Header of one template record: id, field counts; 0 = padding / end. */
static size_t
template_header(bool ipfix, bool options, const uint8_t *p, size_t left,
				uint16_t *id, uint16_t *nfields, uint16_t *nscope, bool *bad)
{
	*id = get_u16(p);
	*nfields = get_u16(p + 2);
	*nscope = 0;
	*bad = false;
	if (ipfix && *nfields == 0)
		return 4;				/* withdrawal */
	if (!ipfix && *id == 0)
		return 0;				/* v9 padding */
	if (!options)
		return 4;
	if (left < 6)
		return 0;
	if (ipfix)
		*nscope = get_u16(p + 4);
	else
	{
		/* v9 counts scope and option fields in bytes */
		uint16_t	scope_len = *nfields,
					opt_len = get_u16(p + 4);

		if (scope_len % 4 || opt_len % 4)
			*bad = true;
		*nscope = scope_len / 4;
		*nfields = (uint16_t) (scope_len / 4 + opt_len / 4);
	}
	return 6;
}

bool
templates_parse_set(DecodeCtx *c, uint16_t set_id, const uint8_t *p,
					size_t len, uint16_t *added, int *n_added, int max_added)
{
	bool		ipfix = c->version == 10;
	bool		options = ipfix ? set_id == 3 : set_id == 1;
	TemplateCache *tc = tcache_of(c);
	size_t		off = 0;

	if (!tc)
		return false;
	while (len - off >= 4)
	{
		uint16_t	id,
					nfields,
					nscope;
		bool		bad;
		size_t		hlen = template_header(ipfix, options, p + off, len - off,
										   &id, &nfields, &nscope, &bad);
		size_t		end;
		Template   *t;

		if (hlen == 0)
			break;
		if (ipfix && nfields == 0)
		{
			if (id == set_id)
				tcache_remove_all(c->table, tc, options);
			else
				tcache_remove(c->table, tc, id);
			off += hlen;
			continue;
		}
		if (id < 256)
		{
			decode_drop(c, DROP_BAD_TEMPLATE);
			return false;
		}
		t = template_fields(c, id, nfields, nscope, options, p, len, off + hlen, &end);
		if (end == 0)
		{
			decode_drop(c, DROP_BAD_TEMPLATE);
			return false;
		}
		off = end;
		if (!t || bad)
		{
			free(t);
			decode_drop(c, DROP_BAD_TEMPLATE);
			tcache_remove(c->table, tc, id);
			continue;
		}
		if (!tcache_put(c->table, tc, t))
		{
			decode_drop(c, DROP_TOO_MANY_TEMPLATES);
			continue;
		}
		if (*n_added < max_added)
			added[(*n_added)++] = id;
	}
	return true;
}

static void
pending_forget(ExporterTable *t, TemplateCache *tc, int i)
{
	tc->pending_bytes -= tc->pending[i].len;
	exporter_table_charge(t, MEM_PENDING, -(int64_t) tc->pending[i].len);
	free(tc->pending[i].data);
	memmove(&tc->pending[i], &tc->pending[i + 1],
			(size_t) (tc->n_pending - i - 1) * sizeof(Pending));
	tc->n_pending--;
	exporter_table_pending_add(t, -1);
}

void
pending_add(DecodeCtx *c, uint16_t set_id, const uint8_t *p, size_t len,
			const TimeBase *tb)
{
	TemplateCache *tc = tcache_of(c);
	Pending    *pe;

	if (!tc || len > PENDING_MAX_BYTES)
	{
		decode_drop(c, DROP_NO_TEMPLATE);
		return;
	}
	while (tc->n_pending == PENDING_MAX_SETS ||
		   tc->pending_bytes + len > PENDING_MAX_BYTES)
	{
		decode_drop(c, DROP_NO_TEMPLATE);
		pending_forget(c->table, tc, 0);
	}
	pe = &tc->pending[tc->n_pending];
	if (!exporter_table_charge(c->table, MEM_PENDING, (int64_t) len))
	{
		decode_drop(c, DROP_NO_TEMPLATE);
		return;
	}
	pe->data = malloc(len ? len : 1);
	if (!pe->data)
	{
		exporter_table_charge(c->table, MEM_PENDING, -(int64_t) len);
		decode_drop(c, DROP_NO_TEMPLATE);
		return;
	}
	memcpy(pe->data, p, len);
	pe->set_id = set_id;
	pe->len = (uint32_t) len;
	pe->tb = *tb;
	tc->n_pending++;
	tc->pending_bytes += len;
	exporter_table_pending_add(c->table, 1);
}

void
pending_replay(DecodeCtx *c, uint16_t id)
{
	TemplateCache *tc = c->exp->templates;
	const Template *t = tcache_get(tc, id);
	int			i = 0;

	if (!t)
		return;
	while (i < tc->n_pending)
	{
		if (tc->pending[i].set_id != id)
		{
			i++;
			continue;
		}
		data_set_decode(c, t, tc->pending[i].data, tc->pending[i].len,
						&tc->pending[i].tb);
		pending_forget(c->table, tc, i);
	}
}
