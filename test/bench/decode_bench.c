/*
 * decode_bench.c
 *		How many flows per second the decoders turn into FlowRecs on one core,
 *		without sockets or the database: the datagrams of a flowgen pcap are
 *		loaded into memory and decoded ROUNDS times through one exporter table.
 *
 *   cc -O2 -I../../loader -I../unit -o decode_bench decode_bench.c \
 *      ../../loader/{decode,netflow_v5,netflow_v9,ipfix,sflow,templates,elements}.c
 *   ./decode_bench ../data/decoders/v9.pcap [ROUNDS]
 */
#include <time.h>

#include "flowtest.h"

#define MAX_DGRAMS	100000

static uint64_t flows;

static void
count(void *arg, const FlowRec *r)
{
	flows++;
}

int
main(int argc, char **argv)
{
	static uint8_t *dg[MAX_DGRAMS];
	static size_t len[MAX_DGRAMS];
	uint8_t		gh[24],
				rh[16];
	int			n = 0,
				rounds = argc > 2 ? atoi(argv[2]) : 2000;
	FILE	   *f = argc > 1 ? fopen(argv[1], "rb") : NULL;
	ExporterTable *t = exporter_table_new(NULL);
	NfAddr		from = addr4("127.0.0.1");
	struct timespec a,
				b;
	double		s;

	if (!f || fread(gh, 1, 24, f) != 24)
	{
		fprintf(stderr, "usage: decode_bench FLOWGEN.pcap [ROUNDS]\n");
		return 2;
	}
	while (n < MAX_DGRAMS && fread(rh, 1, 16, f) == 16)
	{
		uint32_t	incl = rh[8] | rh[9] << 8 | rh[10] << 16 | (uint32_t) rh[11] << 24;
		uint8_t    *p = malloc(incl);
		size_t		ihl;

		if (!p || fread(p, 1, incl, f) != incl)
			break;
		ihl = (p[0] & 15) * 4;
		dg[n] = p + ihl + 8;
		len[n++] = incl - ihl - 8;
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int r = 0; r < rounds; r++)
		for (int i = 0; i < n; i++)
			decode_datagram(t, dg[i], len[i], &from, 1, count, NULL);
	clock_gettime(CLOCK_MONOTONIC, &b);
	s = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
	printf("%s: %d datagrams x %d rounds, %llu flows in %.3f s: %.2f M flows/s\n",
		   argv[1], n, rounds, (unsigned long long) flows, s, flows / s / 1e6);
	return 0;
}
