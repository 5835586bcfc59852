/*-------------------------------------------------------------------------
 *
 * nfpg.c
 *		Module magic of the nfpg extension.
 *
 * Each concern (filter, statistics, output formats, Crypto-PAn) lives in a
 * file of its own; this file only marks the library as a PostgreSQL module.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"

PG_MODULE_MAGIC;
