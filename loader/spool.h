/*-------------------------------------------------------------------------
 *
 * spool.h
 *		Batches on disk while the database cannot take them.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NFPG_SPOOL_H
#define NFPG_SPOOL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include "batch.h"

#define SPOOL_SUFFIX		".copy.bz2"
#define SPOOL_NAME_LEN		(BATCH_KEY_LEN + 16)

typedef struct Spool
{
	char	   *dir;
	int			dirfd;
	pthread_mutex_t lock;
	uint64_t	files;			/* spooled batches waiting */
	uint64_t	bytes;
	int64_t		max_bytes;		/* 0: no limit */
	int			level;			/* bzip2 block size 1-9 */
} Spool;

typedef enum SpoolStatus
{
	SPOOL_OK = 0,
	SPOOL_ERROR = -1,			/* I/O error (disk full, permissions) */
	SPOOL_FULL = -2				/* spool_max_size reached */
} SpoolStatus;

extern int	spool_open(Spool *s, const char *dir, char *err, size_t errlen);
extern void spool_close(Spool *s);
extern void spool_set_limits(Spool *s, int64_t max_bytes, int level);
extern SpoolStatus spool_write(Spool *s, const Batch *b, char *err, size_t errlen);
extern int	spool_oldest(Spool *s, char *name, size_t len);
extern Batch *spool_read(Spool *s, const char *name, char *err, size_t errlen);
extern int	spool_remove(Spool *s, const char *name);
extern int	spool_quarantine(Spool *s, const char *name);
extern void spool_rescan(Spool *s);
extern void spool_usage(Spool *s, uint64_t *files, uint64_t *bytes);

#endif							/* NFPG_SPOOL_H */
