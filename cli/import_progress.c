/*-------------------------------------------------------------------------
 *
 * import_progress.c
 *		A one-line progress bar on a terminal: files, flows, rate and the
 *		time left, by bytes of input (the only total known in advance).
 *
 * The bar is redrawn at most five times a second, on stderr and only when
 * stderr is a terminal, so logs and pipes see just the messages and the
 * summary.  Messages clear the bar, print, and let the next update draw
 * it again below them.
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "import_progress.h"

#define BAR_WIDTH	24

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void
progress_start(Progress *p, bool bar, int files, uint64_t bytes)
{
	memset(p, 0, sizeof(*p));
	p->bar = bar;
	p->files_total = files;
	p->bytes_total = bytes;
	p->start_ns = now_ns();
}

double
progress_seconds(const Progress *p)
{
	return (now_ns() - p->start_ns) / 1e9;
}

const char *
progress_scaled(double v, char *buf, size_t len)
{
	static const char units[] = " kMGTP";
	int			u = 0;

	while (v >= 1000 && u < 5)
	{
		v /= 1000;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, "%.1f %c", v, units[u]);
	return buf;
}

void
progress_end(Progress *p)
{
	if (p->drawn)
		fputs("\r\033[K", stderr);
	p->drawn = false;
}

void
progress_update(Progress *p, uint64_t bytes_in_file, uint64_t flows_in_file)
{
	int64_t		now = now_ns();
	double		secs,
				frac;
	uint64_t	done = p->bytes_done + bytes_in_file,
				flows = p->flows + flows_in_file;
	char		bar[BAR_WIDTH + 1],
				f[32],
				rate[32];
	int			filled;

	if (!p->bar || now < p->next_draw_ns)
		return;
	p->next_draw_ns = now + 200000000;
	secs = (now - p->start_ns) / 1e9;
	frac = p->bytes_total ? (double) done / p->bytes_total : 1;
	if (frac > 1)
		frac = 1;
	filled = (int) (frac * BAR_WIDTH);
	memset(bar, '#', filled);
	memset(bar + filled, '.', BAR_WIDTH - filled);
	bar[BAR_WIDTH] = '\0';
	fprintf(stderr, "\r\033[K[%s] %3.0f%%  file %d/%d  %s flows  %s flows/s",
			bar, frac * 100, p->files_done + 1 > p->files_total ? p->files_total : p->files_done + 1,
			p->files_total, progress_scaled((double) flows, f, sizeof(f)),
			progress_scaled(secs > 0 ? flows / secs : 0, rate, sizeof(rate)));
	if (frac > 0.01 && frac < 1)
	{
		int			left = (int) (secs / frac - secs);

		fprintf(stderr, "  %d:%02d:%02d left", left / 3600, left / 60 % 60, left % 60);
	}
	p->drawn = true;
}

void
progress_file_done(Progress *p, uint64_t size, uint64_t flows)
{
	p->files_done++;
	p->bytes_done += size;
	p->flows += flows;
	p->next_draw_ns = 0;
	progress_update(p, 0, 0);
}

void
progress_say(Progress *p, const char *fmt, ...)
{
	va_list		ap;

	progress_end(p);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	p->next_draw_ns = 0;
}
