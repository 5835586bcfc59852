/*-------------------------------------------------------------------------
 *
 * format_field.c
 *		The characters of one field of nfdump's output: padded text and
 *		integers, times, durations, scaled counters, addresses.
 *
 * nf_format writes a line of a dozen fields per flow, and a lookup that
 * prints a hundred thousand flows is mostly nf_format.  Written with
 * appendStringInfo, each field went through PostgreSQL's vsnprintf (and an
 * address through glibc's inet_ntop, which formats with sprintf): most of
 * nf_format's time.  The writers here produce the same characters
 * ("%*s", "%-*s", "%*lld", "%02d", "%16.3f" of whole milliseconds) from
 * integers; a number nfdump prints with a fraction it rounds through a
 * double (the M/G/T scaling of counters) keeps printf, whose ties integer
 * arithmetic would not reproduce.  format_token.c puts them together.
 *
 * Each field is written at a pointer with room for FMT_FIELD_MAX bytes
 * (fmt_*_at; fmt_text_at is shared with format_token.c), and its
 * StringInfo face (fmt_put_*) makes that room once: one test for room a
 * field, no StringInfo call per piece, no strlen of what was just written,
 * addresses by addr_text.c instead of inet_ntop.  The 209,340 lines of
 * `dst port 587` over a day, formatted from a table, took 154-166 ms and
 * take 120-126, best of 25 runs each (a one-off experiment, performance.md).
 *
 *-------------------------------------------------------------------------
 */
#include "format.h"
#include "addr_text.h"

#include "pgtime.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

/* n bytes of s right-aligned in width, or left-aligned in -width. */
char *
fmt_text_at(char *p, const char *s, int n, int width)
{
	int			pad = Max((width < 0 ? -width : width) - n, 0);

	if (width > 0)
	{
		memset(p, ' ', pad);
		p += pad;
	}
	memcpy(p, s, n);
	p += n;
	if (width < 0)
	{
		memset(p, ' ', pad);
		p += pad;
	}
	return p;
}

void
fmt_put_text(StringInfo out, const char *s, int n, int width)
{
	/* appendStringInfoSpaces writes its spaces one by one */
	enlargeStringInfo(out, Max(width < 0 ? -width : width, n));
	fmt_done(out, fmt_text_at(out->data + out->len, s, n, width));
}

/* "%*lld" (width < 0: "%-*lld"), |width| <= FMT_FIELD_MAX - MAXINT8LEN */
static char *
fmt_int_at(char *p, int64 v, int width)
{
	char		buf[MAXINT8LEN + 1];

	return fmt_text_at(p, buf, pg_lltoa(v, buf), width);
}

void
fmt_put_int(StringInfo out, int64 v, int width)
{
	fmt_done(out, fmt_int_at(fmt_room(out), v, width));
}

/* "%02d" of 0..99 */
static inline char *
two_digits(char *p, int v)
{
	p[0] = (char) ('0' + v / 10);
	p[1] = (char) ('0' + v % 10);
	return p + 2;
}

/* "%03d" of 0..999 */
static inline char *
three_digits(char *p, int v)
{
	p[0] = (char) ('0' + v / 100);
	return two_digits(p + 1, v % 100);
}

/*
 * "%16.3f" of a duration of ms milliseconds as seconds: ms / 1000.0 is
 * within half an ulp of the three-decimal number ms / 1000, which is what
 * printf rounds it to, so the digits come from the integer.
 */
static char *
fmt_seconds_at(char *p, int64 ms)
{
	char		buf[MAXINT8LEN + 8];
	int			n;
	uint64		a = ms < 0 ? -(uint64) ms : (uint64) ms;

	n = ms < 0 ? 1 : 0;
	buf[0] = '-';
	n += pg_ulltoa_n(a / 1000, buf + n);
	buf[n++] = '.';
	three_digits(buf + n, (int) (a % 1000));
	return fmt_text_at(p, buf, n + 3, 16);
}

void
fmt_put_seconds(StringInfo out, int64 ms)
{
	fmt_done(out, fmt_seconds_at(fmt_room(out), ms));
}

/*
 * "YYYY-MM-DD hh:mm:ss[.mmm]" in the session time zone.  Flows printed one
 * after another mostly start in the same second (a lookup over a packed
 * hour prints a port's flows in time order), so the characters of the last
 * second are kept: timestamp2tm's calendar arithmetic was a tenth of a
 * printed line.  The key includes the time zone, which SET can change
 * between two rows of a cursor.
 */
static char *
fmt_time_at(char *p, TimestampTz ts, bool ms)
{
	static int64 last_sec = PG_INT64_MIN;
	static pg_tz *last_tz = NULL;
	static char last_text[19];
	struct pg_tm tm;
	fsec_t		fsec;
	int			tz;
	int64		sec = ts / USECS_PER_SEC - (ts % USECS_PER_SEC < 0);
	int			usec = (int) (ts - sec * USECS_PER_SEC);

	if (sec == last_sec && session_timezone == last_tz)
	{
		memcpy(p, last_text, sizeof(last_text));
		p += sizeof(last_text);
		if (ms)
		{
			*p++ = '.';
			p = three_digits(p, usec / 1000);
		}
		return p;
	}
	if (timestamp2tm(ts, &tz, &tm, &fsec, NULL, NULL) != 0)
	{
		memcpy(p, "invalid time", 12);
		return p + 12;
	}
	if (tm.tm_year < 0 || tm.tm_year > 9999 || fsec < 0)
	{
		/* at most 6 + 15 + 4 characters: FMT_FIELD_MAX holds them */
		p += snprintf(p, FMT_FIELD_MAX, "%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year, tm.tm_mon,
					  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
		if (ms)
			p += snprintf(p, 8, ".%03d", fsec / 1000);
		return p;
	}
	else
	{
		char	   *start = p;

		p = two_digits(p, tm.tm_year / 100);
		p = two_digits(p, tm.tm_year % 100);
		*p++ = '-';
		p = two_digits(p, tm.tm_mon);
		*p++ = '-';
		p = two_digits(p, tm.tm_mday);
		*p++ = ' ';
		p = two_digits(p, tm.tm_hour);
		*p++ = ':';
		p = two_digits(p, tm.tm_min);
		*p++ = ':';
		p = two_digits(p, tm.tm_sec);
		Assert(p - start == sizeof(last_text));
		memcpy(last_text, start, sizeof(last_text));
		last_sec = sec;
		last_tz = session_timezone;
		if (ms)
		{
			*p++ = '.';
			p = three_digits(p, fsec / 1000);
		}
		return p;
	}
}

void
fmt_put_time(StringInfo out, TimestampTz ts, bool ms)
{
	fmt_done(out, fmt_time_at(fmt_room(out), ts, ms));
}

/* %td: "    HH:MM:SS.mmm", or with days "Nd HH:MM:SS.mmm", 16 wide. */
static char *
fmt_duration_at(char *p, const FlowRec *r)
{
	int64		ms = (r->last - r->first) / 1000;
	char		buf[64];
	int64		days = ms / 86400000;
	char	   *q = buf;

	ms %= 86400000;
	if (ms < 0 || days < 0)
	{
		/* a record that ends before it starts: printf's signs, as nfdump */
		int			n;

		if (days)
			n = snprintf(buf, sizeof(buf), "%lldd %02d:%02d:%02d.%03d", (long long) days,
						 (int) (ms / 3600000), (int) (ms / 60000 % 60), (int) (ms / 1000 % 60),
						 (int) (ms % 1000));
		else
			n = snprintf(buf, sizeof(buf), "%02d:%02d:%02d.%03d",
						 (int) (ms / 3600000), (int) (ms / 60000 % 60), (int) (ms / 1000 % 60),
						 (int) (ms % 1000));
		return fmt_text_at(p, buf, Min(n, (int) sizeof(buf) - 1), 16);
	}
	if (days)
	{
		q += pg_lltoa(days, q);
		*q++ = 'd';
		*q++ = ' ';
	}
	q = two_digits(q, (int) (ms / 3600000));
	*q++ = ':';
	q = two_digits(q, (int) (ms / 60000 % 60));
	*q++ = ':';
	q = two_digits(q, (int) (ms / 1000 % 60));
	*q++ = '.';
	q = three_digits(q, (int) (ms % 1000));
	return fmt_text_at(p, buf, q - buf, 16);
}

void
fmt_put_duration(StringInfo out, const FlowRec *r)
{
	fmt_done(out, fmt_duration_at(fmt_room(out), r));
}

/*
 * format_number of nfdump: -N (plain) prints the integer; otherwise values
 * from a million up are scaled by decimal M/G/T with one decimal, "%5.1f M"
 * in fixed-width columns and "%.1f M" in the summary line.
 */
int
fmt_number(char *buf, size_t len, int64 v, bool plain, bool fixed)
{
	double		f = (double) v;
	int			n;

	if (plain || (f < 1e6 && f > -1e15))
	{
		/* "%lld", or "%4.0f"/"%.0f" of an integral double: the same digits */
		char		digits[MAXINT8LEN + 1];
		int			pad;

		n = pg_lltoa(v, digits);
		pad = !plain && fixed && n < 4 ? 4 - n : 0;
		if ((size_t) (pad + n) >= len)
		{
			if (len > 0)
				buf[0] = '\0';
			return 0;
		}
		memset(buf, ' ', pad);
		memcpy(buf + pad, digits, n + 1);
		return pad + n;
	}
	else if (f >= 1e12)
		n = snprintf(buf, len, fixed ? "%5.1f T" : "%.1f T", f / 1e12);
	else if (f >= 1e9)
		n = snprintf(buf, len, fixed ? "%5.1f G" : "%.1f G", f / 1e9);
	else if (f >= 1e6)
		n = snprintf(buf, len, fixed ? "%5.1f M" : "%.1f M", f / 1e6);
	else
		n = snprintf(buf, len, fixed ? "%4.0f" : "%.0f", f);
	return Min(n, (int) len - 1);
}

/* An address as text (addr_text.c: inet_ntop's characters); returns its length. */
int
fmt_addr_text(const FlowAddr *a, char *buf)
{
	return addr_text(a->family == 4, a->bytes, buf);
}
