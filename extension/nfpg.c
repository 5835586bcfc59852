/*-------------------------------------------------------------------------
 *
 * nfpg.c
 *		Module magic and initialisation of the nfpg extension.
 *
 * Each concern (filter, statistics, output formats, Crypto-PAn) lives in a
 * file of its own; this file marks the library as a PostgreSQL module and
 * calls the initialisers of the files that define settings or hooks.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "filter_plan.h"
#include "fmgr.h"

#include "stat.h"
#include "topn_pushdown.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	nf_filter_limit_init();
	nf_filter_jit_init();
	stat_mem_init();
	heap_agg_init();
}
