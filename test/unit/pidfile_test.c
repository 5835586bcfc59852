/*
 * pidfile_test.c
 *		nfpgd's pidfile (loader/pidfile.c): created when absent; refused
 *		with a clear message, and left untouched, when it names a running
 *		process, holds something else, is a symbolic link or is locked by
 *		another nfpgd; taken over in place when its process is dead;
 *		removed at exit only if it is still the file we wrote.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pidfile.h"
#include "unit.h"

static char dir[64],
			path[128],
			victim[128];

static void
put(const char *p, const char *text)
{
	FILE	   *f = fopen(p, "w");

	fputs(text, f);
	fclose(f);
}

static const char *
get(const char *p)
{
	static char buf[128];
	FILE	   *f = fopen(p, "r");
	size_t		n = 0;

	buf[0] = '\0';
	if (f)
	{
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return f ? buf : NULL;
}

static bool
exists(const char *p)
{
	struct stat st;

	return lstat(p, &st) == 0;
}

/* A pid that was ours a moment ago and is dead now. */
static long
dead_pid(void)
{
	pid_t		child = fork();

	if (child == 0)
		_exit(0);
	waitpid(child, NULL, 0);
	return (long) child;
}

static void
test_fresh(void)
{
	Pidfile		pf = {.fd = -1};
	char		err[256],
				want[32];

	snprintf(want, sizeof(want), "%ld\n", (long) getpid());
	CHECK(pidfile_open(&pf, path, err, sizeof(err)) == 0, "fresh: %s", err);
	CHECK(get(path) && strcmp(get(path), want) == 0, "holds our pid: %s", get(path));
	pidfile_close(&pf);
	CHECK(!exists(path), "removed at exit");
}

static void
test_refused(void)
{
	Pidfile		pf = {.fd = -1},
				other = {.fd = -1};
	char		err[256],
				text[32];

	/* a running process: our parent */
	snprintf(text, sizeof(text), "%ld\n", (long) getppid());
	put(path, text);
	CHECK(pidfile_open(&pf, path, err, sizeof(err)) < 0 && strstr(err, "running"),
		  "live pid refused: %s", err);
	CHECK(strcmp(get(path), text) == 0, "live pid's file untouched");
	pidfile_close(&pf);
	CHECK(exists(path), "a refused pidfile is not deleted");

	put(path, "not a pid\n");
	CHECK(pidfile_open(&pf, path, err, sizeof(err)) < 0 && strstr(err, "does not hold a process id"),
		  "foreign content refused: %s", err);
	CHECK(strcmp(get(path), "not a pid\n") == 0, "foreign file untouched");
	unlink(path);

	put(victim, "precious\n");
	CHECK(symlink(victim, path) == 0, "symlink");
	CHECK(pidfile_open(&pf, path, err, sizeof(err)) < 0 && strstr(err, "symbolic link"),
		  "symlink refused: %s", err);
	CHECK(strcmp(get(victim), "precious\n") == 0, "link target untouched");
	unlink(path);
	unlink(victim);
	CHECK(symlink(victim, path) == 0, "dangling symlink");
	CHECK(pidfile_open(&pf, path, err, sizeof(err)) < 0 && strstr(err, "symbolic link"),
		  "dangling symlink refused: %s", err);
	CHECK(!exists(victim), "no file created through a dangling link");
	unlink(path);

	/* another nfpgd holds it (its lock), even though the pid would be ours */
	CHECK(pidfile_open(&other, path, err, sizeof(err)) == 0, "first: %s", err);
	CHECK(pidfile_open(&pf, path, err, sizeof(err)) < 0 && strstr(err, "already running"),
		  "locked pidfile refused: %s", err);
	pidfile_close(&other);
}

static void
test_stale(void)
{
	Pidfile		pf = {.fd = -1};
	char		err[256],
				text[32],
				want[32];

	snprintf(text, sizeof(text), "%ld\n", dead_pid());
	snprintf(want, sizeof(want), "%ld\n", (long) getpid());
	put(path, text);
	CHECK(pidfile_open(&pf, path, err, sizeof(err)) == 0, "dead pid taken over: %s", err);
	CHECK(strcmp(get(path), want) == 0, "now holds our pid: %s", get(path));
	pidfile_close(&pf);
	CHECK(!exists(path), "removed at exit");

	put(path, "");
	CHECK(pidfile_open(&pf, path, err, sizeof(err)) == 0, "empty file taken over: %s", err);
	pidfile_close(&pf);

	/* replaced behind our back: not ours to delete */
	CHECK(pidfile_open(&pf, path, err, sizeof(err)) == 0, "open: %s", err);
	put(victim, "someone else's\n");
	CHECK(rename(victim, path) == 0, "replace");
	pidfile_close(&pf);
	CHECK(get(path) && strcmp(get(path), "someone else's\n") == 0, "a replaced pidfile is kept");
	unlink(path);
}

int
main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/pidfile_test.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 2;
	snprintf(path, sizeof(path), "%s/nfpgd.pid", dir);
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	test_fresh();
	test_refused();
	test_stale();
	rmdir(dir);
	return unit_report("pidfile_test");
}
