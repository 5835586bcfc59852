/*-------------------------------------------------------------------------
 *
 * nfpg.c
 *		Module magic of the nfpg extension.
 *
 * Each concern (filter, statistics, output formats, Crypto-PAn) lives in a
 * file of its own; this file only marks the library as a PostgreSQL module
 * and defines the settings.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"

#include "stat.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/* Settings of the concerns that have any. */
void
_PG_init(void)
{
	stat_mem_init();
}
