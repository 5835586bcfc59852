/*-------------------------------------------------------------------------
 *
 * copy_send.h
 *		Sending encoded rows to PostgreSQL with COPY ... FROM STDIN
 *		(FORMAT binary): what nfpgd's writers and nfpg-import share.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NFPG_COPY_SEND_H
#define NFPG_COPY_SEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "copybuf.h"

#define COPY_TARGET_LEN		160		/* "schema"."partition", both quoted */

/* Epoch milliseconds as a timestamptz literal for a text parameter. */
extern void copy_format_ts(int64_t ms, char *buf, size_t len);

/*
 * "what: message" (its first line) of res, or of conn when res is NULL, into
 * err, and the SQLSTATE (or "") into sqlstate[6].
 */
extern void copy_error(PGconn *conn, const PGresult *res, const char *what,
					   char *err, size_t errlen, char *sqlstate);

/*
 * COPY rows into target (a qualified, quoted name); false with "COPY:
 * message" in err and the SQLSTATE (or "") in sqlstate[6].
 */
extern bool copy_send(PGconn *conn, const char *target, const CopyBuf *rows,
					  char *err, size_t errlen, char *sqlstate);

#endif							/* NFPG_COPY_SEND_H */
