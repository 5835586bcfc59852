/*-------------------------------------------------------------------------
 *
 * addr_text.h
 *		An IPv4 or IPv6 address as text, the characters glibc's inet_ntop
 *		writes, without its sprintf.
 *
 * PostgreSQL-free, so that its unit test can hold it to inet_ntop itself.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NFPG_ADDR_TEXT_H
#define NFPG_ADDR_TEXT_H

#include <stdint.h>

/* "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255" and a NUL */
#define ADDR_TEXT_MAX	46

/*
 * Write the address (4 bytes when v4, else 16) at out, which has room for
 * ADDR_TEXT_MAX bytes, NUL-terminated; returns its length.
 */
extern int	addr_text(int v4, const uint8_t *bytes, char *out);

#endif							/* NFPG_ADDR_TEXT_H */
