/*-------------------------------------------------------------------------
 *
 * import_files.c
 *		Finding the files to import: named files, directory trees as
 *		nfdump -R reads them, and NfSen profile-data trees.
 *
 * A directory is read the way nfdump 1.7's -R reads one: every regular
 * file, recursively, except dot files (.nfstat) and the files a collector
 * or nfprofile is still writing (nfcapd.current.<pid>, nfprofile.<pid>),
 * which NfSen itself deletes as orphans on restart.  Anything else is
 * handed to the reader, so a foreign file in the tree is reported, not
 * silently passed over.
 *
 * An NfSen tree (profiles-data/<profile>/<channel>/YYYY/MM/DD/nfcapd.*)
 * is imported one profile at a time, "live" unless told otherwise: the
 * other profiles hold copies of live's flows filtered again, so importing
 * them too would load those flows twice.  Each channel is a source, which
 * nfpg-import's -x can give an exporter address.
 *
 * The list is sorted by path before anything is loaded, so a channel's
 * files go in time order (nfcapd's names sort that way), a file named
 * twice is loaded once, and the progress bar knows the total.
 *
 *-------------------------------------------------------------------------
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "import_files.h"

static char *
xstrdup(const char *s)
{
	char	   *p = strdup(s);

	if (p == NULL)
		abort();
	return p;
}

static void
add(FileList *l, const char *path, const char *source, uint64_t size)
{
	if (l->n == l->cap)
	{
		l->cap = l->cap ? l->cap * 2 : 256;
		l->files = realloc(l->files, sizeof(ImportFile) * l->cap);
		if (l->files == NULL)
			abort();
	}
	l->files[l->n].path = xstrdup(path);
	l->files[l->n].source = xstrdup(source);
	l->files[l->n].size = size;
	l->n++;
	l->bytes += size;
}

static bool
is_open_file(const char *name)
{
	return name[0] == '.' || strncmp(name, "nfcapd.current", 14) == 0 ||
		strncmp(name, "nfprofile.", 10) == 0;
}

bool
files_add_file(FileList *l, const char *path, char *err, size_t errlen)
{
	char		abs[PATH_MAX];
	struct stat st;

	if (realpath(path, abs) == NULL || stat(abs, &st) != 0)
	{
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return false;
	}
	if (!S_ISREG(st.st_mode))
	{
		snprintf(err, errlen, "%s: not a regular file (use -R for a directory)", path);
		return false;
	}
	add(l, abs, "", (uint64_t) st.st_size);
	return true;
}

static bool
walk(FileList *l, const char *dir, const char *source, int depth, char *err, size_t errlen)
{
	DIR		   *d = opendir(dir);
	struct dirent *e;
	bool		ok = true;

	if (d == NULL)
	{
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return false;
	}
	while (ok && (e = readdir(d)) != NULL)
	{
		char		path[PATH_MAX];
		struct stat st;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if ((size_t) snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= sizeof(path) ||
			stat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode))
		{
			/* NfSen's deepest layout is %Y/%m/%d/%H; links could loop */
			if (depth < 16)
				ok = walk(l, path, source, depth + 1, err, errlen);
		}
		else if (!S_ISREG(st.st_mode) || is_open_file(e->d_name))
			l->ignored++;
		else
			add(l, path, source, (uint64_t) st.st_size);
	}
	closedir(d);
	return ok;
}

bool
files_add_dir(FileList *l, const char *dir, const char *source, char *err, size_t errlen)
{
	char		abs[PATH_MAX];
	const char *base;

	if (realpath(dir, abs) == NULL)
	{
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return false;
	}
	base = strrchr(abs, '/');
	return walk(l, abs, source ? source : (base && base[1] ? base + 1 : abs), 0, err, errlen);
}

bool
files_add_nfsen(FileList *l, const char *profiles_data, const char *profile,
				char *err, size_t errlen)
{
	char		top[PATH_MAX],
				dir[PATH_MAX];
	struct stat st;
	DIR		   *d;
	struct dirent *e;
	int			channels = 0;
	bool		ok = true;

	/* NfSen's BASEDIR works too: its profiles-data is the default $PROFILEDATADIR */
	snprintf(top, sizeof(top), "%s/profiles-data", profiles_data);
	if (stat(top, &st) != 0 || !S_ISDIR(st.st_mode))
		snprintf(top, sizeof(top), "%s", profiles_data);
	if ((size_t) snprintf(dir, sizeof(dir), "%s/%s", top, profile) >= sizeof(dir) ||
		(d = opendir(dir)) == NULL)
	{
		snprintf(err, errlen, "%s: no NfSen profile \"%s\" there (%s)", profiles_data, profile,
				 strerror(errno));
		return false;
	}
	while (ok && (e = readdir(d)) != NULL)
	{
		char		chan[PATH_MAX];

		if (e->d_name[0] == '.' ||
			(size_t) snprintf(chan, sizeof(chan), "%s/%s", dir, e->d_name) >= sizeof(chan) ||
			stat(chan, &st) != 0 || !S_ISDIR(st.st_mode))
			continue;
		channels++;
		ok = files_add_dir(l, chan, e->d_name, err, errlen);
	}
	closedir(d);
	if (ok && channels == 0)
	{
		snprintf(err, errlen, "%s: profile \"%s\" has no channel directories", dir, profile);
		return false;
	}
	return ok;
}

static int
cmp_files(const void *a, const void *b)
{
	return strcmp(((const ImportFile *) a)->path, ((const ImportFile *) b)->path);
}

void
files_sort(FileList *l)
{
	int			out = 0;

	if (l->n == 0)
		return;
	qsort(l->files, l->n, sizeof(ImportFile), cmp_files);
	/* the same path named twice (-r f -R dir) is loaded once */
	for (int i = 0; i < l->n; i++)
	{
		if (out > 0 && strcmp(l->files[out - 1].path, l->files[i].path) == 0)
		{
			l->bytes -= l->files[i].size;
			free(l->files[i].path);
			free(l->files[i].source);
			continue;
		}
		l->files[out++] = l->files[i];
	}
	l->n = out;
}

void
files_free(FileList *l)
{
	for (int i = 0; i < l->n; i++)
	{
		free(l->files[i].path);
		free(l->files[i].source);
	}
	free(l->files);
	memset(l, 0, sizeof(*l));
}
