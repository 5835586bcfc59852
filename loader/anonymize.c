/*-------------------------------------------------------------------------
 *
 * anonymize.c
 *		The loader's privacy option: Crypto-PAn over every address of a
 *		flow before it is encoded, so real addresses never reach the
 *		database, the spool or the logs.
 *
 * The key is read from the first line of a file (nfanon's key syntax: 32
 * characters, or 0x and 64 hex digits) and wiped from memory once the
 * cipher is prepared; no message ever contains it.  Source, destination,
 * next hop and BGP next hop are anonymized; the exporter address is kept,
 * since operators need to know which router sent what.  The same key gives
 * the same mapping as nfpg.anonymize() in SQL, so anonymized data can be
 * queried with anonymized literals.
 *
 * Only the batcher thread calls anonymize_flow (a CryptoPan is per thread).
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anonymize.h"
#include "cryptopan_core.h"

struct Anonymizer
{
	CryptoPan	cp;
};

Anonymizer *
anonymizer_open(const char *key_file, char *err, size_t errlen)
{
	char		line[256];
	uint8_t		key[CRYPTOPAN_KEY_LEN];
	FILE	   *f = fopen(key_file, "r");
	Anonymizer *a;
	CryptoPanStatus rc;

	if (f == NULL)
	{
		snprintf(err, errlen, "cannot open key file %s: %s", key_file, strerror(errno));
		return NULL;
	}
	if (fgets(line, sizeof(line), f) == NULL)
		line[0] = '\0';
	fclose(f);
	line[strcspn(line, "\r\n")] = '\0';

	rc = cryptopan_parse_key(line, strlen(line), key, NULL);
	explicit_bzero(line, sizeof(line));
	a = malloc(sizeof(Anonymizer));
	if (a == NULL)
		rc = CRYPTOPAN_ERR_NOMEM;
	if (rc == CRYPTOPAN_OK)
		rc = cryptopan_init(&a->cp, key);
	explicit_bzero(key, sizeof(key));
	if (rc != CRYPTOPAN_OK)
	{
		snprintf(err, errlen, "key file %s: %s", key_file, cryptopan_strerror(rc));
		free(a);
		return NULL;
	}
	return a;
}

void
anonymizer_free(Anonymizer *a)
{
	if (a == NULL)
		return;
	cryptopan_free(&a->cp);
	free(a);
}

static void
anonymize_addr(Anonymizer *a, NfAddr *addr)
{
	if (addr->family == 4)
		cryptopan_anon_v4(&a->cp, addr->addr, addr->addr);
	else if (addr->family == 6)
		cryptopan_anon_v6(&a->cp, addr->addr, addr->addr);
}

void
anonymize_flow(Anonymizer *a, FlowRec *r)
{
	anonymize_addr(a, &r->src_addr);
	anonymize_addr(a, &r->dst_addr);
	anonymize_addr(a, &r->next_hop);
	anonymize_addr(a, &r->bgp_next_hop);
}
