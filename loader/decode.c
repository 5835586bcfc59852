/*-------------------------------------------------------------------------
 *
 * decode.c
 *		Datagram dispatch, the exporter table and the decoders' counters.
 *
 * decode_datagram() looks at the version field and hands the datagram to
 * the protocol's decoder.  The exporter table maps an exporter identity
 * (address, version, source id) to its state; it is a chained hash table of
 * fixed width, bounded at DECODE_MAX_EXPORTERS entries so that spoofed
 * sources cannot exhaust memory.  decode_emit() is the last step of every
 * record: it stamps the exporter, applies the sampling rules of nfcapd's
 * -s option and the optional upscaling, and counts the flow.
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>

#include "exporter.h"
#include "templates.h"
#include "wire.h"

#define EXP_BUCKETS		4096	/* power of two */

struct ExporterTable
{
	DecodeOptions opts;
	Exporter   *buckets[EXP_BUCKETS];
	Exporter   *last;			/* most recently used: exporters send in bursts */
	uint32_t	count;
	uint64_t	rejected[DECODE_UNKNOWN_VERSION + 1];
	uint64_t	dropped[DROP_NREASONS];
	uint64_t	pending;
	int64_t		mem[2];			/* bytes by MemKind */
};

static const char *const drop_names[DROP_NREASONS] = {
	[DROP_SHORT_HEADER] = "short header",
	[DROP_TRUNCATED] = "truncated",
	[DROP_BAD_LENGTH] = "bad length",
	[DROP_BAD_TEMPLATE] = "bad template",
	[DROP_BAD_RECORD] = "bad record",
	[DROP_NO_TEMPLATE] = "no template",
	[DROP_UNKNOWN_VERSION] = "unknown version",
	[DROP_TOO_MANY_EXPORTERS] = "too many exporters",
	[DROP_TOO_MANY_TEMPLATES] = "too many templates",
	[DROP_BAD_SAMPLE] = "bad sflow sample",
};

ExporterTable *
exporter_table_new(const DecodeOptions *opts)
{
	ExporterTable *t = calloc(1, sizeof(ExporterTable));

	if (t && opts)
		t->opts = *opts;
	return t;
}

void
exporter_table_free(ExporterTable *t)
{
	if (!t)
		return;
	for (int i = 0; i < EXP_BUCKETS; i++)
	{
		Exporter   *e = t->buckets[i];

		while (e)
		{
			Exporter   *next = e->next;

			tcache_free(e->templates);
			free(e);
			e = next;
		}
	}
	free(t);
}

static uint32_t
exporter_hash(const NfAddr *a, uint8_t version, uint32_t source_id)
{
	uint32_t	h = 2166136261u;	/* FNV-1a */
	int			n = a->family == 6 ? 16 : 4;

	for (int i = 0; i < n; i++)
		h = (h ^ a->addr[i]) * 16777619u;
	h = (h ^ version) * 16777619u;
	for (int i = 0; i < 4; i++)
		h = (h ^ ((source_id >> (8 * i)) & 0xff)) * 16777619u;
	return h & (EXP_BUCKETS - 1);
}

static bool
exporter_is(const Exporter *e, const NfAddr *a, uint8_t version, uint32_t source_id)
{
	return e->stats.version == version && e->stats.source_id == source_id &&
		e->stats.addr.family == a->family &&
		memcmp(e->stats.addr.addr, a->addr, a->family == 6 ? 16 : 4) == 0;
}

/*
 * Find or create the exporter of the datagram being decoded and count the
 * datagram.  NULL when the table is full (counted as a drop).
 */
Exporter *
exporter_lookup(DecodeCtx *c, uint32_t source_id, int64_t now_ms)
{
	ExporterTable *t = c->table;
	Exporter   *e = t->last;
	uint32_t	h;

	if (!e || !exporter_is(e, c->from, c->version, source_id))
	{
		h = exporter_hash(c->from, c->version, source_id);
		for (e = t->buckets[h]; e; e = e->next)
			if (exporter_is(e, c->from, c->version, source_id))
				break;
		if (!e)
		{
			if (t->count >= DECODE_MAX_EXPORTERS ||
				!(e = calloc(1, sizeof(Exporter))))
			{
				decode_drop(c, DROP_TOO_MANY_EXPORTERS);
				return NULL;
			}
			e->stats.addr = *c->from;
			e->stats.version = c->version;
			e->stats.source_id = source_id;
			e->stats.first_seen_ms = now_ms;
			e->next = t->buckets[h];
			t->buckets[h] = e;
			t->count++;
		}
		t->last = e;
	}
	e->stats.packets++;
	if (now_ms > e->stats.last_seen_ms)
		e->stats.last_seen_ms = now_ms;
	c->exp = e;
	return e;
}

void
decode_drop(DecodeCtx *c, DecodeDrop why)
{
	c->table->dropped[why]++;
}

void
exporter_table_pending_add(ExporterTable *t, int64_t delta)
{
	t->pending += delta;
}

bool
exporter_table_charge(ExporterTable *t, MemKind kind, int64_t bytes)
{
	int64_t		limit = kind == MEM_TEMPLATES ? DECODE_MAX_TEMPLATE_BYTES : DECODE_MAX_PENDING_BYTES;

	if (bytes > 0 && t->mem[kind] + bytes > limit)
		return false;
	t->mem[kind] += bytes;
	return true;
}

/* Remember the interval of sampler `id`, or the exporter-wide one. */
void
exporter_set_sampler(Exporter *e, bool has_id, uint32_t id, uint32_t interval)
{
	int			i;

	if (!has_id)
	{
		e->generic_sampling = interval;
		return;
	}
	for (i = 0; i < e->n_samplers; i++)
		if (e->samplers[i].id == id)
			break;
	if (i == e->n_samplers)
	{
		if (e->n_samplers == EXP_MAX_SAMPLERS)
			i = EXP_MAX_SAMPLERS - 1;	/* keep the newest */
		else
			e->n_samplers++;
	}
	e->samplers[i].id = id;
	e->samplers[i].interval = interval;
}

/* The sampling interval a record naming sampler `id` (if any) was taken at. */
uint32_t
exporter_sampling_for(const Exporter *e, bool has_id, uint32_t id)
{
	if (has_id)
		for (int i = 0; i < e->n_samplers; i++)
			if (e->samplers[i].id == id)
				return e->samplers[i].interval;
	return e->generic_sampling;
}

/*
 * Finish a record and hand it to the caller.  Sampling follows nfcapd: -s -N
 * (default_sampling < 0) overrides, else what the exporter said, else -s N;
 * an interval of 1 is no sampling.
 * Addresses are NOT NULL columns: a record without one gets 0.0.0.0 / ::.
 */
void
decode_emit(DecodeCtx *c, FlowRec *r)
{
	const DecodeOptions *o = &c->table->opts;
	uint32_t	n = 0;

	if (o->default_sampling < 0)
		n = (uint32_t) -(int64_t) o->default_sampling;
	else if ((r->present & FR_SAMPLING) && r->sampling > 0)
		n = r->sampling;
	else if (o->default_sampling > 1)
		n = (uint32_t) o->default_sampling;
	r->present &= ~FR_SAMPLING;
	r->sampling = 0;
	if (n > 1)					/* 1 in 1 is unsampled: NULL */
	{
		r->sampling = n;
		r->present |= FR_SAMPLING;
		if (o->upscale)
		{
			r->packets *= n;
			r->bytes *= n;
			r->out_packets *= n;
			r->out_bytes *= n;
		}
	}
	c->exp->stats.sampling = n > 1 ? n : 0;

	if (r->src_addr.family == 0)
		r->src_addr.family = r->dst_addr.family ? r->dst_addr.family : 4;
	if (r->dst_addr.family == 0)
		r->dst_addr.family = r->src_addr.family;
	r->exporter = *c->from;
	r->export_version = c->version;
	r->source_id = c->exp->stats.source_id;
	c->exp->stats.flows++;
	c->records++;
	c->emit(c->arg, r);
}

DecodeResult
decode_datagram(ExporterTable *t, const uint8_t *buf, size_t len,
				const NfAddr *from, int64_t received_ms,
				FlowEmit emit, void *arg)
{
	static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	DecodeCtx	c = {.table = t, .opts = &t->opts, .from = from, .emit = emit, .arg = arg};
	NfAddr		v4;
	DecodeResult r;
	uint16_t	version;

	/* a dual-stack socket reports IPv4 exporters as ::ffff:a.b.c.d */
	if (from->family == 6 && memcmp(from->addr, v4mapped, 12) == 0)
	{
		memset(&v4, 0, sizeof(v4));
		v4.family = 4;
		memcpy(v4.addr, from->addr + 12, 4);
		c.from = &v4;
	}

	if (len < 4)
	{
		decode_drop(&c, DROP_SHORT_HEADER);
		r = DECODE_TRUNCATED;
	}
	else
	{
		version = get_u16(buf);
		if (version == 0 && get_u32(buf) == 5)
			version = 0x85;		/* sFlow's version is 32 bits wide */
		c.version = (uint8_t) version;
		switch (version)
		{
			case 1:
				r = decode_netflow_v1(&c, buf, len, received_ms);
				break;
			case 5:
			case 7:
				r = decode_netflow_v5(&c, buf, len, received_ms);
				break;
			case 9:
				r = decode_netflow_v9(&c, buf, len, received_ms);
				break;
			case 10:
				r = decode_ipfix(&c, buf, len, received_ms);
				break;
			case 0x85:
				r = decode_sflow(&c, buf, len, received_ms);
				break;
			default:
				decode_drop(&c, DROP_UNKNOWN_VERSION);
				r = DECODE_UNKNOWN_VERSION;
				break;
		}
	}
	if (r != DECODE_OK)
		t->rejected[r]++;
	return r;
}

void
exporter_table_drain(ExporterTable *t,
					 void (*fn) (void *arg, const ExporterStats *s),
					 void *arg)
{
	for (int i = 0; i < EXP_BUCKETS; i++)
		for (Exporter *e = t->buckets[i]; e; e = e->next)
		{
			e->stats.templates = tcache_count(e->templates);
			fn(arg, &e->stats);
			e->stats.packets = 0;
			e->stats.flows = 0;
			e->stats.sequence_failures = 0;
			e->stats.counter_samples = 0;
		}
}

uint64_t
exporter_table_rejected(const ExporterTable *t, DecodeResult why)
{
	if ((int) why < 0 || why > DECODE_UNKNOWN_VERSION)
		return 0;
	return t->rejected[why];
}

uint64_t
exporter_table_dropped(const ExporterTable *t, DecodeDrop why)
{
	if ((int) why < 0 || why >= DROP_NREASONS)
		return 0;
	return t->dropped[why];
}

const char *
decode_drop_name(DecodeDrop why)
{
	if ((int) why < 0 || why >= DROP_NREASONS)
		return "unknown";
	return drop_names[why];
}

uint64_t
exporter_table_pending(const ExporterTable *t)
{
	return t->pending;
}
