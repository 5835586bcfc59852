/*-------------------------------------------------------------------------
 *
 * pidfile.h
 *		nfpgd's pidfile, created and removed safely (pidfile.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef NFPG_PIDFILE_H
#define NFPG_PIDFILE_H

#include <stddef.h>
#include <sys/types.h>

typedef struct Pidfile
{
	int			fd;				/* open and locked while we run; -1: none */
	dev_t		dev;
	ino_t		ino;
	char	   *path;
} Pidfile;

/* Create or take over path for this process; 0, or -1 with a message. */
extern int	pidfile_open(Pidfile *pf, const char *path, char *err, size_t errlen);

/* Remove the pidfile if it is still the one we wrote; release it. */
extern void pidfile_close(Pidfile *pf);

#endif							/* NFPG_PIDFILE_H */
