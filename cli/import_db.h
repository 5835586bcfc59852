/*-------------------------------------------------------------------------
 *
 * import_db.h
 *		nfpg-import's side of the database: one transaction per file.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NFPG_IMPORT_DB_H
#define NFPG_IMPORT_DB_H

#include <stdbool.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "batch.h"
#include "nfcapd_read.h"

#define IMPORT_ENSURED_CACHE	256

typedef struct ImportDb
{
	PGconn	   *conn;
	char		error[1024];
	char		sqlstate[6];
	int64_t		ensured[IMPORT_ENSURED_CACHE];	/* hour starts with partitions */
	int			n_ensured;
} ImportDb;

/* What nfpg.import_check says about a file. */
typedef enum ImportState
{
	IMPORT_NEW,
	IMPORT_DONE,				/* this content was imported (other_path, other_when) */
	IMPORT_CHANGED				/* this path was imported with other content */
} ImportState;

typedef struct ImportCheck
{
	ImportState state;
	char		other_path[4096];
	char		other_when[64];
} ImportCheck;

/* What nfpg.imported_files records about a file that was loaded. */
typedef struct ImportRecord
{
	const char *path;
	uint64_t	size;
	const uint8_t *sha256;
	bool		salvaged;
	uint64_t	flows;
	uint64_t	packets;
	uint64_t	bytes;
	int64_t		first_ms;		/* INT64_MAX if no flows */
	int64_t		last_ms;
	int			layout;
	const char *compression;
	const char *ident;
	const char *problems;		/* NULL if none */
} ImportRecord;

extern bool idb_connect(ImportDb *db, const char *conninfo);
extern void idb_close(ImportDb *db);

/* Outside any transaction: create the partitions for [first_ms, last_ms]. */
extern bool idb_prepare_partitions(ImportDb *db, int64_t first_ms, int64_t last_ms);

/* Ask about a file; in_transaction: BEGIN first and keep its lock. */
extern bool idb_check(ImportDb *db, const char *path, uint64_t size, const uint8_t *sha256,
					  bool in_transaction, ImportCheck *out);

/* COPY a batch into its partition (or nfpg.flows), inside the file's transaction. */
extern bool idb_load(ImportDb *db, const Batch *b);

/* Add the file's exporter statistics to nfpg.exporters (exporter: -x's address, or NULL). */
extern bool idb_exporters(ImportDb *db, const NfcapdReader *r, int64_t seen_ms,
						  const NfAddr *exporter);

/* Record the file and COMMIT. */
extern bool idb_commit(ImportDb *db, const ImportRecord *rec);
extern void idb_rollback(ImportDb *db);

#endif							/* NFPG_IMPORT_DB_H */
