/*
 * template_fuzz.c
 *		libFuzzer harness for the NetFlow v9 / IPFIX template cache across
 *		several exporters.
 *
 * decode_fuzz.c feeds one exporter; here an input is a sequence of up to
 * MAX_DATAGRAMS records
 *
 *	  selector (1 byte) | length (2 bytes, big endian) | datagram
 *
 * whose selector picks, for that datagram, the sending address (bits 0-1:
 * one of four, the fourth being the first one written as an IPv4-mapped
 * IPv6 address, which nfpgd must treat as the same exporter), the protocol
 * (bit 2: v9 or IPFIX, written into the version field) and, when bit 3 is
 * set, a source id / observation domain 0-3 (bits 4-5) written over the
 * header's, so that the same template ids collide across exporters and
 * domains as they do on real networks.
 *
 * Besides "no crash, no leak, no undefined behaviour", the harness checks
 * the property the cache's key exists for, isolation: what an exporter's
 * datagrams decode to must not depend on what other exporters -- other
 * addresses, the other protocol, other domains of the same address -- sent
 * in between.  The sequence is decoded once through one ExporterTable, then
 * each exporter's datagrams alone through a fresh table, with the same
 * receive times; the flows (count and a hash of every field) and the
 * counters of every exporter must be the same both ways, or the harness
 * aborts.  test/fuzz/run.sh builds and runs it as "templates".
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"

#define MAX_DATAGRAMS	16
#define N_ADDRS			4
#define N_KEYS			32		/* distinct (address, version, source id) seen */

typedef struct Datagram
{
	const uint8_t *data;
	size_t		len;
	uint8_t		sel;
} Datagram;

/* What one exporter identity produced. */
typedef struct Outcome
{
	int			addr;			/* 0..2: the normalised address */
	uint8_t		version;
	uint32_t	source_id;
	uint64_t	flows;			/* records emitted */
	uint64_t	hash;			/* of every record, in order */
	uint64_t	packets;		/* from exporter_table_drain() */
	uint64_t	drained_flows;
	uint64_t	seq_failures;
	uint32_t	templates;
} Outcome;

typedef struct Run
{
	Outcome		out[N_KEYS];
	int			n;
} Run;

static const NfAddr addrs[N_ADDRS] = {
	{.family = 4, .addr = {192, 0, 2, 1}},
	{.family = 4, .addr = {198, 51, 100, 7}},
	{.family = 6, .addr = {0x20, 0x01, 0x0d, 0xb8, [15] = 1}},
	{.family = 6, .addr = {[10] = 0xff, [11] = 0xff, 192, 0, 2, 1}},	/* = addrs[0] */
};

static int
addr_index(const NfAddr *a)
{
	for (int i = 0; i < 3; i++)
		if (a->family == addrs[i].family &&
			memcmp(a->addr, addrs[i].addr, a->family == 6 ? 16 : 4) == 0)
			return i;
	abort();					/* a record stamped with an address nobody sent from */
}

static Outcome *
outcome(Run *run, int addr, uint8_t version, uint32_t source_id)
{
	for (int i = 0; i < run->n; i++)
		if (run->out[i].addr == addr && run->out[i].version == version &&
			run->out[i].source_id == source_id)
			return &run->out[i];
	if (run->n == N_KEYS)
		abort();				/* cannot happen: 3 addresses x 2 versions x ids in <= 16 datagrams */
	memset(&run->out[run->n], 0, sizeof(Outcome));
	run->out[run->n].addr = addr;
	run->out[run->n].version = version;
	run->out[run->n].source_id = source_id;
	return &run->out[run->n++];
}

static uint64_t
mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	return h * 0xff51afd7ed558ccdULL;
}

static uint64_t
mix_addr(uint64_t h, const NfAddr *a)
{
	h = mix(h, a->family);
	for (int i = 0; i < (a->family == 6 ? 16 : a->family == 4 ? 4 : 0); i++)
		h = mix(h, a->addr[i]);
	return h;
}

/* Every field of the record, named one by one (padding is not data). */
static void
emit(void *arg, const FlowRec *r)
{
	Run		   *run = arg;
	Outcome    *o = outcome(run, addr_index(&r->exporter), r->export_version, r->source_id);
	uint64_t	h = o->hash;

	h = mix(h, (uint64_t) r->first_ms);
	h = mix(h, (uint64_t) r->last_ms);
	h = mix(h, (uint64_t) r->received_ms);
	h = mix(h, r->packets);
	h = mix(h, r->bytes);
	h = mix(h, r->present & FR_OUT_PACKETS ? r->out_packets : 0);
	h = mix(h, r->present & FR_OUT_BYTES ? r->out_bytes : 0);
	h = mix(h, r->present);
	h = mix(h, (uint64_t) r->src_as << 32 | r->dst_as);
	h = mix(h, (uint64_t) r->next_as << 32 | r->prev_as);
	h = mix(h, (uint64_t) r->in_if << 32 | r->out_if);
	h = mix(h, (uint64_t) r->flows << 32 | r->sampling);
	h = mix(h, (uint64_t) r->src_port << 48 | (uint64_t) r->dst_port << 32 |
			(uint64_t) r->src_vlan << 16 | r->dst_vlan);
	h = mix(h, (uint64_t) r->proto << 56 | (uint64_t) r->tcp_flags << 48 |
			(uint64_t) r->src_tos << 40 | (uint64_t) r->dst_tos << 32 |
			(uint64_t) r->src_mask << 24 | (uint64_t) r->dst_mask << 16 |
			(uint64_t) r->engine_type << 8 | r->engine_id);
	h = mix(h, (uint64_t) r->fwd_status << 16 | (uint64_t) r->direction << 8 | r->n_mpls);
	for (int i = 0; i < r->n_mpls && i < FR_MAX_MPLS; i++)
		h = mix(h, r->mpls[i]);
	h = mix_addr(h, &r->src_addr);
	h = mix_addr(h, &r->dst_addr);
	h = mix_addr(h, &r->next_hop);
	h = mix_addr(h, &r->bgp_next_hop);
	for (int i = 0; i < 6; i++)
		h = mix(h, (uint64_t) r->in_src_mac[i] << 24 | (uint64_t) r->out_dst_mac[i] << 16 |
				(uint64_t) r->in_dst_mac[i] << 8 | r->out_src_mac[i]);
	o->hash = h;
	o->flows++;
}

static void
drain(void *arg, const ExporterStats *s)
{
	Run		   *run = arg;
	Outcome    *o = outcome(run, addr_index(&s->addr), s->version, s->source_id);

	o->packets += s->packets;
	o->drained_flows += s->flows;
	o->seq_failures += s->sequence_failures;
	o->templates = s->templates;
}

/* The datagram as sent: version field and (optionally) domain rewritten. */
static size_t
prepare(const Datagram *g, uint8_t *buf)
{
	bool		ipfix = g->sel & 4;

	memcpy(buf, g->data, g->len);
	if (g->len >= 2)
	{
		buf[0] = 0;
		buf[1] = ipfix ? 10 : 9;
	}
	if (g->sel & 8)
	{
		size_t		at = ipfix ? 12 : 16;

		if (g->len >= at + 4)
		{
			memset(buf + at, 0, 3);
			buf[at + 3] = (g->sel >> 4) & 3;
		}
	}
	return g->len;
}

/*
 * The exporter identity a prepared datagram names: (address, version,
 * header source id / domain); -1 if it is too short to name one (the
 * decoders then return before looking an exporter up).
 */
static int64_t
identity(const Datagram *g, const uint8_t *buf, size_t len)
{
	int			a = g->sel & 3;
	bool		ipfix = g->sel & 4;
	size_t		at = ipfix ? 12 : 16;

	if (len < (ipfix ? 16 : 20))
		return -1;
	return (int64_t) (a == 3 ? 0 : a) << 33 | (int64_t) ipfix << 32 |
		((uint32_t) buf[at] << 24 | (uint32_t) buf[at + 1] << 16 |
		 (uint32_t) buf[at + 2] << 8 | buf[at + 3]);
}

/* Decode the datagrams of exporter `only` (-1: all). */
static void
decode_run(const Datagram *g, int n, int64_t only, Run *run)
{
	static uint8_t buf[65536];
	DecodeOptions opts = {.upscale = 1};
	ExporterTable *t = exporter_table_new(&opts);

	for (int i = 0; i < n; i++)
	{
		size_t		len = prepare(&g[i], buf);

		if (only >= 0 && identity(&g[i], buf, len) != only)
			continue;
		decode_datagram(t, buf, len, &addrs[g[i].sel & 3],
						1700000000000LL + 1000 * i, emit, run);
	}
	exporter_table_drain(t, drain, run);
	exporter_table_free(t);
}

static bool
same(const Outcome *a, const Outcome *b)
{
	return a->flows == b->flows && a->hash == b->hash && a->packets == b->packets &&
		a->drained_flows == b->drained_flows && a->seq_failures == b->seq_failures &&
		a->templates == b->templates;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Datagram	g[MAX_DATAGRAMS];
	int			n = 0;
	static Run	all,
				alone;

	while (n < MAX_DATAGRAMS && size >= 3)
	{
		size_t		len = (size_t) data[1] << 8 | data[2];

		g[n].sel = data[0];
		data += 3;
		size -= 3;
		if (len > size)
			len = size;
		g[n].data = data;
		g[n].len = len;
		data += len;
		size -= len;
		n++;
	}

	memset(&all, 0, sizeof(all));
	decode_run(g, n, -1, &all);
	for (int i = 0; i < n; i++)
	{
		static uint8_t buf[65536];
		int64_t		id = identity(&g[i], buf, prepare(&g[i], buf));
		bool		first = id >= 0;

		for (int k = 0; k < i && first; k++)
			first = identity(&g[k], buf, prepare(&g[k], buf)) != id;
		if (!first)
			continue;
		memset(&alone, 0, sizeof(alone));
		decode_run(g, n, id, &alone);
		/* it decodes to at most its own exporter, and exactly as among the others */
		if (alone.n > 1)
			abort();
		for (int k = 0; k < alone.n; k++)
			if (!same(&alone.out[k], outcome(&all, alone.out[k].addr, alone.out[k].version,
											 alone.out[k].source_id)))
				abort();
	}
	return 0;
}
