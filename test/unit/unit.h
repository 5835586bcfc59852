/*
 * unit.h
 *		A dozen lines of test harness for the PostgreSQL-free unit tests.
 *
 * CHECK records a failure and goes on, so one run shows every broken case;
 * main() returns unit_report() so the runner sees the result.
 */
#ifndef NFPG_UNIT_H
#define NFPG_UNIT_H

#include <stdio.h>

static int	unit_checks;
static int	unit_failures;

#define CHECK(cond, ...) \
	do { \
		unit_checks++; \
		if (!(cond)) { \
			unit_failures++; \
			fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__); \
			fputc('\n', stderr); \
		} \
	} while (0)

static inline int
unit_report(const char *name)
{
	printf("%s: %d checks, %d failed\n", name, unit_checks, unit_failures);
	return unit_failures ? 1 : 0;
}

#endif
