/*-------------------------------------------------------------------------
 *
 * import_progress.h
 *		nfpg-import's progress bar and its closing summary.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NFPG_IMPORT_PROGRESS_H
#define NFPG_IMPORT_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct Progress
{
	bool		bar;			/* draw it: stderr is a terminal and not -q */
	bool		drawn;			/* a bar is on the screen */
	int			files_total;
	uint64_t	bytes_total;
	int			files_done;
	uint64_t	bytes_done;		/* of finished files */
	uint64_t	flows;
	int64_t		start_ns;
	int64_t		next_draw_ns;
} Progress;

extern void progress_start(Progress *p, bool bar, int files, uint64_t bytes);

/* Now within a file: bytes_in_file of it read so far. */
extern void progress_update(Progress *p, uint64_t bytes_in_file, uint64_t flows_in_file);
extern void progress_file_done(Progress *p, uint64_t size, uint64_t flows);

/* Print a message line, keeping the bar below it. */
extern void progress_say(Progress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Take the bar off the screen. */
extern void progress_end(Progress *p);

extern double progress_seconds(const Progress *p);

/* "12.3 M", as nfdump scales numbers */
extern const char *progress_scaled(double v, char *buf, size_t len);

#endif							/* NFPG_IMPORT_PROGRESS_H */
