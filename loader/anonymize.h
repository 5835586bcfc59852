/*-------------------------------------------------------------------------
 *
 * anonymize.h
 *		Crypto-PAn anonymization of flow addresses at ingest.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NFPG_ANONYMIZE_H
#define NFPG_ANONYMIZE_H

#include <stddef.h>
#include "flowrec.h"

typedef struct Anonymizer Anonymizer;

extern Anonymizer *anonymizer_open(const char *key_file, char *err, size_t errlen);
extern void anonymizer_free(Anonymizer *a);
extern void anonymize_flow(Anonymizer *a, FlowRec *r);

#endif							/* NFPG_ANONYMIZE_H */
