/*-------------------------------------------------------------------------
 *
 * pidfile.c
 *		The pidfile: one nfpgd per file, and no file that is not ours
 *		followed, overwritten or deleted.
 *
 * The path is usually in a directory other users may write to (/run, a
 * shared /tmp), so the rules are:
 *
 *	  1. Create it with O_CREAT | O_EXCL | O_NOFOLLOW: a file that does not
 *		 exist yet is ours.
 *	  2. If it exists, open it with O_NOFOLLOW (a symbolic link is refused:
 *		 following it could make us write through it) and require a regular
 *		 file.  Take an exclusive flock() without waiting: a running nfpgd
 *		 holds it for its whole life, so failing to get it means one runs.
 *		 Then read the pid: a live process is refused too (a pidfile from a
 *		 program that does not lock); text that is not a pid is refused, as
 *		 the file may be someone else's; an empty file (a start that died
 *		 before writing) or a dead pid is stale, and we take it over.
 *		 Taking over writes our pid into the same inode under the lock, so
 *		 two nfpgd starting at once cannot both win, and no unlink/create
 *		 window exists for a third party.
 *	  3. Keep the descriptor open and locked until exit.  At exit, unlink
 *		 the path only if it still names our inode: a pidfile replaced
 *		 behind our back is not ours to delete.
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pidfile.h"

/* Give up: the message, the descriptor closed, -1. */
static int
fail(Pidfile *pf, char *err, size_t errlen, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	if (pf->fd >= 0)
		close(pf->fd);
	pf->fd = -1;
	return -1;
}

/* The pid in the file: >0, 0 if empty, -1 if it is not a pid. */
static long
read_pid(int fd)
{
	char		buf[32];
	ssize_t		n = pread(fd, buf, sizeof(buf) - 1, 0);
	char	   *end;
	long		pid;

	if (n < 0)
		return -1;
	buf[n] = '\0';
	if (strspn(buf, " \t\n") == (size_t) n)
		return 0;
	pid = strtol(buf, &end, 10);
	if (end == buf || pid <= 0 || strspn(end, " \t\n") != strlen(end))
		return -1;
	return pid;
}

int
pidfile_open(Pidfile *pf, const char *path, char *err, size_t errlen)
{
	char		buf[32];
	struct stat st;
	int			n;
	long		old;

	pf->fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (pf->fd < 0 && errno != EEXIST)
		return fail(pf, err, errlen, "cannot create pidfile %s: %s", path, strerror(errno));
	if (pf->fd < 0)
	{
		pf->fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
		if (pf->fd < 0 && errno == ELOOP)
			return fail(pf, err, errlen, "pidfile %s is a symbolic link; refusing to follow it", path);
		if (pf->fd < 0)
			return fail(pf, err, errlen, "cannot open the existing pidfile %s: %s", path, strerror(errno));
		if (fstat(pf->fd, &st) != 0 || !S_ISREG(st.st_mode))
			return fail(pf, err, errlen, "pidfile %s exists and is not a regular file; refusing to use it", path);
		if (flock(pf->fd, LOCK_EX | LOCK_NB) != 0)
			return fail(pf, err, errlen, "pidfile %s is locked: nfpgd is already running (pid %ld)",
						path, read_pid(pf->fd));
		old = read_pid(pf->fd);
		if (old < 0)
			return fail(pf, err, errlen, "pidfile %s exists and does not hold a process id; "
						"refusing to overwrite it (remove it if it is stale)", path);
		if (old > 0 && (kill((pid_t) old, 0) == 0 || errno == EPERM))
			return fail(pf, err, errlen, "pidfile %s names process %ld, which is running; refusing to start",
						path, old);
		/* stale: ours now, in place */
		if (ftruncate(pf->fd, 0) != 0)
			return fail(pf, err, errlen, "cannot truncate the stale pidfile %s: %s", path, strerror(errno));
	}
	else if (flock(pf->fd, LOCK_EX | LOCK_NB) != 0)
		return fail(pf, err, errlen, "cannot lock the pidfile %s: %s", path, strerror(errno));
	n = snprintf(buf, sizeof(buf), "%ld\n", (long) getpid());
	if (pwrite(pf->fd, buf, n, 0) != n || fstat(pf->fd, &st) != 0)
		return fail(pf, err, errlen, "cannot write pidfile %s: %s", path, strerror(errno));
	pf->dev = st.st_dev;
	pf->ino = st.st_ino;
	pf->path = strdup(path);
	return 0;
}

void
pidfile_close(Pidfile *pf)
{
	struct stat st;

	if (pf->fd < 0)
		return;
	if (pf->path && lstat(pf->path, &st) == 0 && st.st_dev == pf->dev && st.st_ino == pf->ino)
		unlink(pf->path);
	close(pf->fd);
	pf->fd = -1;
	free(pf->path);
	pf->path = NULL;
}
