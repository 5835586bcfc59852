/*-------------------------------------------------------------------------
 *
 * allow.h
 *		The exporter allow-list: which source addresses a listener takes
 *		datagrams from (allow.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef NFPG_ALLOW_H
#define NFPG_ALLOW_H

#include <stdbool.h>
#include <stddef.h>
#include "flowrec.h"

#define ALLOW_LISTENER_LEN	80

/* An address prefix: addr with its first `bits` bits significant. */
typedef struct AllowPrefix
{
	NfAddr		addr;
	uint8_t		bits;
} AllowPrefix;

/* One entry of the allow_exporters setting. */
typedef struct AllowEntry
{
	AllowPrefix prefix;
	char		listener[ALLOW_LISTENER_LEN];	/* "" = every listener */
} AllowEntry;

/* What one listener accepts; n == 0 accepts every exporter. */
typedef struct AllowList
{
	int			n;
	AllowPrefix *prefixes;
} AllowList;

/*
 * Parse "ADDR[/LEN][@LISTEN] ..." (entries separated by blanks or commas)
 * into a malloc'ed array; 0, or -1 with a message naming the bad entry.
 */
extern int	allow_parse(const char *text, AllowEntry **entries, int *n,
						char *err, size_t errlen);

/* Does entry e apply to the listener bound as `spec` (a listen entry) on `port`? */
extern bool allow_entry_for(const AllowEntry *e, const char *spec, unsigned port);

extern bool allow_prefix_contains(const AllowPrefix *p, const NfAddr *a);
extern bool allow_match(const AllowList *l, const NfAddr *a);
extern void allow_format(const AllowPrefix *p, char *buf, size_t len);
extern void allow_list_free(AllowList *l);

#endif							/* NFPG_ALLOW_H */
