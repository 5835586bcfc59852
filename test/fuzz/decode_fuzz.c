/*
 * decode_fuzz.c
 *		libFuzzer harness for the decoders, one binary per protocol.
 *
 * An input is a sequence of datagrams, each prefixed by a 2-byte big-endian
 * length, decoded in order through one fresh ExporterTable, so the fuzzer
 * can build template-then-data (or data-then-template) sequences.  Built
 * with -DFUZZ_VERSION=1, 5, 7, 9, 10 or 0x85, the version field of every
 * datagram is forced to it, so each binary fuzzes one decoder's body.
 * test/fuzz/run.sh builds and runs them.
 */
#include <stdint.h>
#include <string.h>

#include "decode.h"

#define MAX_DATAGRAMS	8

static uint64_t sink;

static void
emit(void *arg, const FlowRec *r)
{
	/* touch the record so ASan sees reads of every field */
	sink += r->first_ms + r->packets + r->bytes + r->src_addr.addr[15] + r->n_mpls;
}

static void
drain(void *arg, const ExporterStats *s)
{
	sink += s->flows + s->templates;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[65536];
	DecodeOptions opts = {.upscale = 1};
	ExporterTable *t = exporter_table_new(&opts);
	NfAddr		from = {.family = 4, .addr = {192, 0, 2, 1}};

	for (int i = 0; i < MAX_DATAGRAMS && size >= 2; i++)
	{
		size_t		n = (size_t) data[0] << 8 | data[1];

		data += 2;
		size -= 2;
		if (n > size)
			n = size;
		memcpy(buf, data, n);
#if FUZZ_VERSION == 0x85
		if (n >= 4)
			memcpy(buf, "\0\0\0\5", 4);
#else
		if (n >= 2)
		{
			buf[0] = (uint8_t) (FUZZ_VERSION >> 8);
			buf[1] = (uint8_t) FUZZ_VERSION;
		}
#endif
		decode_datagram(t, buf, n, &from, 1700000000000LL + i, emit, NULL);
		data += n;
		size -= n;
	}
	exporter_table_drain(t, drain, NULL);
	exporter_table_free(t);
	return 0;
}
