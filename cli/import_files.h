/*-------------------------------------------------------------------------
 *
 * import_files.h
 *		The list of files nfpg-import loads: from -r, -R and NfSen trees.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NFPG_IMPORT_FILES_H
#define NFPG_IMPORT_FILES_H

#include <stdbool.h>
#include <stdint.h>

typedef struct ImportFile
{
	char	   *path;			/* absolute */
	char	   *source;			/* NfSen channel / -R directory name, or "" */
	uint64_t	size;
} ImportFile;

typedef struct FileList
{
	ImportFile *files;
	int			n;
	int			cap;
	uint64_t	bytes;			/* sum of sizes */
	int			ignored;		/* files under directories that are not nfcapd files */
} FileList;

/* Add one file named on the command line; false with err if it cannot be. */
extern bool files_add_file(FileList *l, const char *path, char *err, size_t errlen);

/* Every closed nfcapd file under dir, recursively. */
extern bool files_add_dir(FileList *l, const char *dir, const char *source,
						  char *err, size_t errlen);

/*
 * An NfSen profile-data directory: every channel of one profile
 * (profiles-data/<profile>/<channel>/...), each file's source its channel.
 */
extern bool files_add_nfsen(FileList *l, const char *profiles_data, const char *profile,
							char *err, size_t errlen);

/* Sort by path (nfcapd names sort in time order) and drop repeats. */
extern void files_sort(FileList *l);
extern void files_free(FileList *l);

#endif							/* NFPG_IMPORT_FILES_H */
