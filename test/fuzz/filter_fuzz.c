/*
 * filter_fuzz.c
 *		libFuzzer target for the PostgreSQL-free nfdump filter parser.
 *
 * Build and run: test/fuzz/run.sh [SECONDS] filter, which does
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iextension \
 *     test/fuzz/filter_fuzz.c extension/filter_lex.c extension/filter_addr.c \
 *     extension/filter_prim.c extension/filter_prim_more.c extension/filter_parse.c \
 *     extension/protocols.c -o filter_fuzz
 *   ./filter_fuzz -max_total_time=SECONDS -dict=test/fuzz/filter.dict \
 *     test/fuzz/corpus/filter test/fuzz/seeds/filter
 *
 * Every input must either parse into a tree whose nodes are sane or fail
 * with a message and a position inside the input; nothing may crash, leak
 * or read outside the buffer (the input is not NUL-terminated).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "filter_ast.h"

static void
walk(const NfNode *n, int depth)
{
	if (depth > 10 * NF_FILTER_MAX_DEPTH || n->pos < 1)
		abort();
	if (n->type == NFN_CMP && n->field >= NFF_NUM_FIELDS)
		abort();
	for (int k = 0; k < n->nchildren; k++)
		walk(n->children[k], depth + 1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	NfParseError err;
	NfFilter   *f = nf_filter_parse((const char *) data, size, &err);

	if (f == NULL)
	{
		if (err.message[0] == '\0' || err.pos < 0 || (size_t) err.pos > size + 1)
			abort();
		return 0;
	}
	walk(nf_filter_root(f), 0);
	nf_filter_free(f);
	return 0;
}
