/*
 * flowtest.h
 *		Helpers for the decoder unit tests: collect decoded records, read
 *		flowgen's pcap files, print records as flowgen's CSV, build
 *		datagrams byte by byte.
 */
#ifndef NFPG_FLOWTEST_H
#define NFPG_FLOWTEST_H

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "unit.h"

/* Every record a decoder emitted. */
typedef struct Collect
{
	FlowRec    *recs;
	size_t		n,
				cap;
} Collect;

static inline void
collect_emit(void *arg, const FlowRec *rec)
{
	Collect    *c = arg;

	if (c->n == c->cap)
	{
		c->cap = c->cap ? c->cap * 2 : 64;
		c->recs = realloc(c->recs, c->cap * sizeof(FlowRec));
	}
	c->recs[c->n++] = *rec;
}

static inline void
collect_reset(Collect *c)
{
	c->n = 0;
}

static inline NfAddr
addr4(const char *s)
{
	NfAddr		a = {.family = 4};

	inet_pton(AF_INET, s, a.addr);
	return a;
}

static inline const char *
addr_str(const NfAddr *a, char *buf)
{
	if (a->family == 6)
		inet_ntop(AF_INET6, a->addr, buf, 64);
	else if (a->family == 4)
		inet_ntop(AF_INET, a->addr, buf, 64);
	else
		strcpy(buf, "-");
	return buf;
}

/* A record as a line of flowgen's CSV (same columns, same formatting). */
static inline void
rec_csv(const FlowRec *r, char *out, size_t n)
{
	char		s[64],
				d[64],
				h[64];

	snprintf(out, n, "%lld,%lld,%u,%s,%s,%u,%u,%u,%u,%llu,%llu,%u,%u,%u,%u,%s,%u,%u,%u",
			 (long long) r->first_ms, (long long) r->last_ms, r->proto,
			 addr_str(&r->src_addr, s), addr_str(&r->dst_addr, d),
			 r->src_port, r->dst_port, r->tcp_flags, r->src_tos,
			 (unsigned long long) r->packets, (unsigned long long) r->bytes,
			 r->src_as, r->dst_as, r->in_if, r->out_if,
			 r->next_hop.family ? addr_str(&r->next_hop, h) : (r->src_addr.family == 6 ? "::" : "0.0.0.0"),
			 r->src_mask, r->dst_mask, r->source_id);
}

static inline int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Open a test data file from the top of the tree or from test/unit. */
static inline FILE *
open_data(const char *name)
{
	char		path[512];
	FILE	   *f;

	snprintf(path, sizeof(path), "test/data/decoders/%s", name);
	if ((f = fopen(path, "rb")))
		return f;
	snprintf(path, sizeof(path), "../data/decoders/%s", name);
	return fopen(path, "rb");
}

/*
 * Feed every UDP payload of a flowgen pcap (LINKTYPE_RAW, IPv4) to the
 * decoder; returns the number of datagrams, -1 if the file is missing.
 */
static inline int
replay_pcap(ExporterTable *t, const char *name, Collect *c, int *not_ok)
{
	FILE	   *f = open_data(name);
	uint8_t		gh[24],
				rh[16],
				pkt[70000];
	int			n = 0;
	NfAddr		from = addr4("127.0.0.1");

	if (!f)
		return -1;
	if (fread(gh, 1, 24, f) != 24)
	{
		fclose(f);
		return -1;
	}
	while (fread(rh, 1, 16, f) == 16)
	{
		uint32_t	incl = rh[8] | rh[9] << 8 | rh[10] << 16 | (uint32_t) rh[11] << 24;
		uint32_t	ts = rh[0] | rh[1] << 8 | rh[2] << 16 | (uint32_t) rh[3] << 24;
		size_t		ihl;

		if (incl > sizeof(pkt) || fread(pkt, 1, incl, f) != incl)
			break;
		ihl = (pkt[0] & 15) * 4;
		if (decode_datagram(t, pkt + ihl + 8, incl - ihl - 8, &from,
							(int64_t) ts * 1000, collect_emit, c) != DECODE_OK)
			(*not_ok)++;
		n++;
	}
	fclose(f);
	return n;
}

/*
 * Compare the decoded records with a flowgen CSV as multisets of lines;
 * prints the first differences.  Returns the number of mismatched lines.
 */
static inline int
compare_csv(const Collect *c, const char *csvname, size_t *n_expected)
{
	FILE	   *f = open_data(csvname);
	char	  **want = NULL,
			  **got;
	size_t		nw = 0,
				cap = 0;
	char		line[512];
	int			bad = 0;
	size_t		i,
				j;

	*n_expected = 0;
	if (!f)
		return -1;
	if (!fgets(line, sizeof(line), f))	/* header */
	{
		fclose(f);
		return -1;
	}
	while (fgets(line, sizeof(line), f))
	{
		line[strcspn(line, "\r\n")] = 0;
		if (nw == cap)
		{
			cap = cap ? cap * 2 : 256;
			want = realloc(want, cap * sizeof(char *));
		}
		want[nw++] = strdup(line);
	}
	fclose(f);
	got = malloc((c->n + 1) * sizeof(char *));
	for (i = 0; i < c->n; i++)
	{
		rec_csv(&c->recs[i], line, sizeof(line));
		got[i] = strdup(line);
	}
	qsort(want, nw, sizeof(char *), cmp_str);
	qsort(got, c->n, sizeof(char *), cmp_str);
	for (i = j = 0; i < nw || j < c->n;)
	{
		int			d = i == nw ? 1 : j == c->n ? -1 : strcmp(want[i], got[j]);

		if (d == 0)
		{
			i++;
			j++;
			continue;
		}
		if (bad++ < 5)
			fprintf(stderr, "  %s %s\n", d < 0 ? "missing:" : "extra:  ",
					d < 0 ? want[i] : got[j]);
		if (d < 0)
			i++;
		else
			j++;
	}
	for (i = 0; i < nw; i++)
		free(want[i]);
	for (i = 0; i < c->n; i++)
		free(got[i]);
	free(want);
	free(got);
	*n_expected = nw;
	return bad;
}

/* A datagram under construction, big-endian. */
typedef struct Buf
{
	uint8_t		b[65536];
	size_t		n;
} Buf;

static inline void
put8(Buf *b, uint32_t v)
{
	b->b[b->n++] = (uint8_t) v;
}

static inline void
put16(Buf *b, uint32_t v)
{
	put8(b, v >> 8);
	put8(b, v);
}

static inline void
put32(Buf *b, uint32_t v)
{
	put16(b, v >> 16);
	put16(b, v);
}

static inline void
put64(Buf *b, uint64_t v)
{
	put32(b, (uint32_t) (v >> 32));
	put32(b, (uint32_t) v);
}

static inline void
putbytes(Buf *b, const void *p, size_t n)
{
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

/* Patch a 16-bit length at offset at (set lengths, message lengths). */
static inline void
patch16(Buf *b, size_t at, uint32_t v)
{
	b->b[at] = (uint8_t) (v >> 8);
	b->b[at + 1] = (uint8_t) v;
}

/*
 * Decode every prefix of a datagram (truncation at every offset): none may
 * crash, and none may emit more records than the whole datagram does.
 */
static inline int
truncate_everywhere(const DecodeOptions *o, const uint8_t *buf, size_t len,
					size_t full_records)
{
	int			bad = 0;
	NfAddr		from = addr4("192.0.2.99");

	for (size_t cut = 0; cut < len; cut++)
	{
		ExporterTable *t = exporter_table_new(o);
		Collect		c = {0};
		uint8_t    *copy = malloc(cut ? cut : 1);

		memcpy(copy, buf, cut);
		decode_datagram(t, copy, cut, &from, 1000, collect_emit, &c);
		if (c.n > full_records)
			bad++;
		free(copy);
		free(c.recs);
		exporter_table_free(t);
	}
	return bad;
}

/* Drain the table and sum what every exporter reported. */
typedef struct DrainSum
{
	int			exporters;
	uint64_t	packets,
				flows,
				failures,
				counter_samples;
	uint32_t	templates,
				sampling;
} DrainSum;

static inline void
drain_add(void *arg, const ExporterStats *s)
{
	DrainSum   *d = arg;

	d->exporters++;
	d->packets += s->packets;
	d->flows += s->flows;
	d->failures += s->sequence_failures;
	d->counter_samples += s->counter_samples;
	d->templates += s->templates;
	d->sampling = s->sampling;
}

static inline DrainSum
drain_sum(ExporterTable *t)
{
	DrainSum	d = {0};

	exporter_table_drain(t, drain_add, &d);
	return d;
}

/*
 * The fields NetFlow v1, v5 and v7 records share, as the v1 and v5 tests
 * build their first record: boot 1700000000.250 s less 1000 s of uptime,
 * First 990000, Last 999000, 10.0.0.1 -> 192.168.1.2 via 192.0.2.1,
 * exported by 192.0.2.7 and received at 42.
 */
static inline void
check_netflow_first_record(const FlowRec *r)
{
	char		s[64];

	CHECK(r->first_ms == 1700000000250LL - 1000000 + 990000, "first %lld", (long long) r->first_ms);
	CHECK(r->last_ms == 1700000000250LL - 1000000 + 999000, "last %lld", (long long) r->last_ms);
	CHECK(r->received_ms == 42, "received");
	CHECK(strcmp(addr_str(&r->src_addr, s), "10.0.0.1") == 0, "src %s", s);
	CHECK(strcmp(addr_str(&r->dst_addr, s), "192.168.1.2") == 0, "dst %s", s);
	CHECK(strcmp(addr_str(&r->next_hop, s), "192.0.2.1") == 0, "nh %s", s);
	CHECK(strcmp(addr_str(&r->exporter, s), "192.0.2.7") == 0, "exporter %s", s);
}

#endif
