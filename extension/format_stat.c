/*-------------------------------------------------------------------------
 *
 * format_stat.c
 *		The text of nfdump 1.7.1's statistics output: one row of an -s
 *		table as -o line (plain), csv or pipe print it, and nfdump's
 *		scaled numbers ("440.8 M") for psql users.
 *
 * nf_stat() computes the rows; these functions only print them, with the
 * widths, duration forms, percentages (printf's %4.1f rounding, as nfdump)
 * and protocol column of nfstat.c's PrintStatLine / PrintCvsStatLine /
 * PrintPipeStatLine.  The numbers go through format_token.c's fmt_number,
 * the one copy of nfdump's format_number in nfpg; nfpg-dump prints what
 * these functions return and formats nothing itself.
 *
 *-------------------------------------------------------------------------
 */
#include "format.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include "fmgr.h"
#include "port/pg_bswap.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(nf_number);
PG_FUNCTION_INFO_V1(nf_stat_line);

/* nfpg.nf_number(n, plain): nfdump's summary form, "440.8 M", "52413" */
Datum
nf_number(PG_FUNCTION_ARGS)
{
	char		buf[32];

	fmt_number(buf, sizeof(buf), PG_GETARG_INT64(0), PG_NARGS() > 1 && PG_GETARG_BOOL(1), false);
	PG_RETURN_TEXT_P(cstring_to_text(buf));
}

/* util.c DurationString: "    HH:MM:SS.mmm", "%2dd HH:MM:SS.mmm" from a day */
static void
put_duration_string(StringInfo out, double duration)
{
	int			days = duration / 86400;
	int			sum = 86400 * days;
	int			hours = (duration - sum) / 3600;
	int			min;
	double		sec;

	sum += 3600 * hours;
	min = (duration - sum) / 60;
	sec = duration - sum - 60 * min;
	if (days == 0)
		appendStringInfo(out, "    %02d:%02d:%06.3f", hours, min, sec);
	else
		appendStringInfo(out, "%2dd %02d:%02d:%06.3f", days, hours, min, sec);
}

static int64
epoch_msec(TimestampTz ts)
{
	return ts / 1000 + INT64CONST(946684800000);
}

/* The value as nfdump prints it: MPLS labels right-aligned in 8. */
static char *
stat_value(const char *kind, const char *value)
{
	long long	label, exp, eos;

	if (strcmp(kind, "mpls") == 0 && sscanf(value, "%lld-%lld-%lld", &label, &exp, &eos) == 3)
		return psprintf("%8lld-%1lld-%1lld", label, exp, eos);
	return pstrdup(value);
}

/* -o pipe: "af|first|last|proto|key...|flows|packets|bytes|pps|bps|bpp" */
static void
pipe_line(StringInfo out, const char *kind, const char *value, int proto, int64 first,
		  int64 last, int64 flows, int64 packets, int64 bytes, int64 pps, int64 bps, int64 bpp)
{
	unsigned char a[16];

	if (strcmp(kind, "addr") == 0)
	{
		uint32		w[4] = {0, 0, 0, 0};
		int			af = AF_INET;

		if (inet_pton(AF_INET, value, a) == 1)
			w[3] = pg_ntoh32(*(uint32 *) a);
		else if (inet_pton(AF_INET6, value, a) == 1)
		{
			af = AF_INET6;
			for (int i = 0; i < 4; i++)
				w[i] = pg_ntoh32(*(uint32 *) (a + 4 * i));
		}
		appendStringInfo(out, "%d|%lld|%lld|%d|%u|%u|%u|%u", af, (long long) first,
						 (long long) last, proto, w[0], w[1], w[2], w[3]);
	}
	else
		appendStringInfo(out, "%d|%lld|%lld|%d|%llu", AF_UNSPEC, (long long) first,
						 (long long) last, proto, strtoull(value, NULL, 0));
	appendStringInfo(out, "|%lld|%lld|%lld|%u|%u|%u", (long long) flows, (long long) packets,
					 (long long) bytes, (uint32) pps, (uint32) bps, (uint32) bpp);
}

/*
 * nfpg.nf_stat_line(mode, kind, value, proto, first_seen, last_seen, flows,
 *		flows_pct, packets, packets_pct, bytes, bytes_pct, pps, bps, bpp,
 *		plain, long_v6)
 * mode: line, csv or pipe; kind: addr (an IP address key), mpls, or any
 * other word; proto NULL prints "any"; plain is -N, long_v6 is -6.
 */
Datum
nf_stat_line(PG_FUNCTION_ARGS)
{
	const char *mode;
	const char *kind;
	char	   *value;
	bool		any_proto = PG_ARGISNULL(3);
	int			proto = any_proto ? 0 : PG_GETARG_INT16(3);
	TimestampTz first;
	TimestampTz last;
	int64		flows, packets, bytes, pps, bps, bpp;
	double		fpct, ppct, bpct, duration;
	bool		plain, long_v6;
	char		protostr[16];
	char		nf[32], np[32], nb[32], npps[32], nbps[32];
	StringInfoData out;

	for (int i = 0; i < 17; i++)
		if (i != 3 && PG_ARGISNULL(i))
			PG_RETURN_NULL();
	mode = text_to_cstring(PG_GETARG_TEXT_PP(0));
	kind = text_to_cstring(PG_GETARG_TEXT_PP(1));
	value = stat_value(kind, text_to_cstring(PG_GETARG_TEXT_PP(2)));
	first = PG_GETARG_TIMESTAMPTZ(4);
	last = PG_GETARG_TIMESTAMPTZ(5);
	flows = PG_GETARG_INT64(6);
	fpct = PG_GETARG_FLOAT8(7);
	packets = PG_GETARG_INT64(8);
	ppct = PG_GETARG_FLOAT8(9);
	bytes = PG_GETARG_INT64(10);
	bpct = PG_GETARG_FLOAT8(11);
	pps = PG_GETARG_INT64(12);
	bps = PG_GETARG_INT64(13);
	bpp = PG_GETARG_INT64(14);
	plain = PG_GETARG_BOOL(15);
	long_v6 = PG_GETARG_BOOL(16);
	duration = (epoch_msec(last) - epoch_msec(first)) / 1000.0;

	if (any_proto)
		strlcpy(protostr, "any", sizeof(protostr));
	else if (plain)
		snprintf(protostr, sizeof(protostr), "%-5d", proto);
	else
		fmt_proto_name(proto, protostr, sizeof(protostr));

	initStringInfo(&out);
	if (strcmp(mode, "pipe") == 0)
	{
		pipe_line(&out, kind, value, proto, epoch_msec(first), epoch_msec(last), flows,
				  packets, bytes, pps, bps, bpp);
		PG_RETURN_TEXT_P(cstring_to_text_with_len(out.data, out.len));
	}
	if (strcmp(mode, "csv") == 0)
	{
		fmt_put_time(&out, first, false);
		appendStringInfoChar(&out, ',');
		fmt_put_time(&out, last, false);
		appendStringInfo(&out, ",%.3f,%s,%s,%lld,%.1f,%lld,%.1f,%lld,%.1f,%lld,%lld,%u",
						 duration, protostr, value, (long long) flows, fpct,
						 (long long) packets, ppct, (long long) bytes, bpct,
						 (long long) pps, (long long) bps, (uint32) bpp);
		PG_RETURN_TEXT_P(cstring_to_text_with_len(out.data, out.len));
	}
	if (strcmp(mode, "line") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("nf_stat_line: mode must be line, csv or pipe, not \"%s\"", mode)));

	fmt_number(nf, sizeof(nf), flows, plain, true);
	fmt_number(np, sizeof(np), packets, plain, true);
	fmt_number(nb, sizeof(nb), bytes, plain, true);
	fmt_number(npps, sizeof(npps), pps, plain, true);
	fmt_number(nbps, sizeof(nbps), bps, plain, true);
	fmt_put_time(&out, first, true);
	appendStringInfoChar(&out, ' ');
	if (long_v6 && strcmp(kind, "addr") == 0)
		appendStringInfo(&out, "%9.3f %-5s %39s", duration, protostr, value);
	else
	{
		if (plain)
			appendStringInfo(&out, "%16.3f", duration);
		else
			put_duration_string(&out, duration);
		if (strcmp(kind, "addr") == 0 && strlen(value) > 16 && !long_v6)
		{
			/* CondenseV6: first 7 and last 7 characters */
			char	   *c = psprintf("%.7s..%s", value, value + strlen(value) - 7);

			value = c;
		}
		appendStringInfo(&out, " %-5s %17s", protostr, value);
	}
	appendStringInfo(&out, " %8s(%4.1f) %8s(%4.1f) %8s(%4.1f) %8s %8s %5u", nf, fpct, np, ppct,
					 nb, bpct, npps, nbps, (uint32) bpp);
	PG_RETURN_TEXT_P(cstring_to_text_with_len(out.data, out.len));
}
