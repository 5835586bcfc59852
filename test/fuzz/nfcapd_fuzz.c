/*
 * nfcapd_fuzz.c
 *		libFuzzer harness for the nfcapd file reader (cli/nfcapd_*.c).
 *
 * An input is a whole nfcapd file: header, blocks in any of the five
 * compressions (the fuzzer reaches each codec by mutating the header's
 * method), records.  Every flow is read to the end, block errors and all,
 * as nfpg-import reads a file; one reader serves every input, as it serves
 * every file of an import, so state left over from one file would show.
 * test/fuzz/run.sh builds and runs it ("run.sh 600 nfcapd").
 */
#include <stdint.h>
#include <stdlib.h>

#include "nfcapd_read.h"

static uint64_t sink;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static NfcapdReader r;
	static int	ready;
	FlowRec		f;
	NfcapdStatus st;
	int			errors = 0;

	if (!ready)
	{
		if (!nfcapd_reader_init(&r))
			abort();
		ready = 1;
	}
	if (!nfcapd_open(&r, data, size, "fuzz"))
		return 0;
	while ((st = nfcapd_next(&r, &f)) != NFCAPD_END)
	{
		/* every error must move the reader on: a few thousand at most */
		if (st == NFCAPD_BLOCK_ERROR && ++errors > 1000000)
			abort();
		if (st == NFCAPD_FLOW)
			sink += f.first_ms + f.packets + f.bytes + f.src_addr.addr[15] + f.exporter.addr[0] +
				f.n_mpls + f.in_src_mac[5];
	}
	sink += r.stat.flows + r.n_exporters + r.ident[0];
	return 0;
}
