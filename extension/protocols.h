/*-------------------------------------------------------------------------
 *
 * protocols.h
 *		nfdump's IP protocol short names, shared by the filter parser
 *		("proto TCP") and the output formats ("TCP" in -o line).
 *
 * PostgreSQL-free, so the parser and its unit tests can use it.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NFPG_PROTOCOLS_H
#define NFPG_PROTOCOLS_H

/* The short name nfdump 1.7.1 prints for a protocol, or NULL (printed as a number). */
extern const char *proto_short_name(unsigned int proto);

/* The protocol a name stands for (case-insensitive, first match), or -1. */
extern int	proto_number(const char *name);

#endif							/* NFPG_PROTOCOLS_H */
