/*-------------------------------------------------------------------------
 *
 * cryptopan.c
 *		SQL functions nfpg.anonymize(inet, text) and nfpg.anonymize(inet,
 *		bytea): Crypto-PAn over the PostgreSQL-free core cryptopan_core.c.
 *
 * Preparing a key (AES key schedule, pad, the 65536-entry prefix table)
 * costs far more than anonymizing one address, and a query calls the
 * function once per row with the same key.  So prepared keys are kept for
 * the life of the backend in a small LRU cache keyed by the 32 key bytes,
 * and each call site remembers in fn_extra the key argument it last saw and
 * the cache slot it resolved to: for a run of rows with the same key, the
 * per-row cost is a memcmp and the AES work.
 *
 * The key never appears in an error message.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/socket.h>

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/inet.h"
#include "utils/memutils.h"

#include "cryptopan_core.h"

#define KEY_CACHE_SLOTS		4
#define KEY_TEXT_MAX		(2 + 2 * CRYPTOPAN_KEY_LEN)

/* One prepared key of the backend-wide cache. */
typedef struct KeySlot
{
	uint8		key[CRYPTOPAN_KEY_LEN];
	uint64		last_use;		/* key_clock at the last use; LRU eviction */
	CryptoPan  *cp;				/* NULL: slot is free */
} KeySlot;

static KeySlot key_cache[KEY_CACHE_SLOTS];
static uint64 key_clock;

/* fn_extra of a call site: the key argument seen last and where it went. */
typedef struct CallKey
{
	int			rawlen;			/* -1 until a key has been seen */
	char		raw[KEY_TEXT_MAX];	/* the argument's bytes */
	uint8		key[CRYPTOPAN_KEY_LEN]; /* the key they parse to */
	int			slot;			/* key_cache slot, valid if its key matches */
} CallKey;

static void
report_key_error(CryptoPanStatus rc, int keylen, size_t errpos)
{
	if (rc == CRYPTOPAN_ERR_KEY_HEX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid Crypto-PAn key: %s", cryptopan_strerror(rc)),
				 errdetail("Character %zu of the key is not a hex digit.", errpos + 1)));
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid Crypto-PAn key: %s", cryptopan_strerror(rc)),
			 errdetail("The key given is %d bytes long.", keylen)));
}

/* The slot of the prepared key, preparing it (evicting the LRU) if absent. */
static int
lookup_key(const uint8 key[CRYPTOPAN_KEY_LEN])
{
	int			victim = 0;
	CryptoPan  *cp;
	CryptoPanStatus rc;

	for (int i = 0; i < KEY_CACHE_SLOTS; i++)
	{
		if (key_cache[i].cp && memcmp(key_cache[i].key, key, CRYPTOPAN_KEY_LEN) == 0)
			return i;
		if (key_cache[i].cp == NULL ||
			(key_cache[victim].cp && key_cache[i].last_use < key_cache[victim].last_use))
			victim = i;
	}

	if (key_cache[victim].cp)
	{
		cp = key_cache[victim].cp;
		key_cache[victim].cp = NULL;
		cryptopan_free(cp);
		pfree(cp);
	}
	cp = MemoryContextAlloc(TopMemoryContext, sizeof(CryptoPan));
	if ((rc = cryptopan_init(cp, key)) != CRYPTOPAN_OK)
	{
		pfree(cp);
		ereport(ERROR,
				(errcode(rc == CRYPTOPAN_ERR_NOMEM ? ERRCODE_OUT_OF_MEMORY : ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
				 errmsg("could not prepare the Crypto-PAn key: %s", cryptopan_strerror(rc))));
	}
	memcpy(key_cache[victim].key, key, CRYPTOPAN_KEY_LEN);
	key_cache[victim].cp = cp;
	return victim;
}

/*
 * The prepared key for this row's key argument (raw, rawlen): text in
 * nfanon's syntax of at most KEY_TEXT_MAX bytes, or the 32 bytes of a bytea.
 */
static CryptoPan *
prepared_key(FunctionCallInfo fcinfo, const char *raw, int rawlen, bool is_text)
{
	CallKey    *ck = (CallKey *) fcinfo->flinfo->fn_extra;
	KeySlot    *slot;

	if (ck == NULL)
	{
		ck = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(CallKey));
		ck->rawlen = -1;
		fcinfo->flinfo->fn_extra = ck;
	}

	if (ck->rawlen != rawlen || memcmp(ck->raw, raw, rawlen) != 0)
	{
		if (is_text)
		{
			size_t		errpos = 0;
			CryptoPanStatus rc = cryptopan_parse_key(raw, rawlen, ck->key, &errpos);

			if (rc != CRYPTOPAN_OK)
				report_key_error(rc, rawlen, errpos);
		}
		else
			memcpy(ck->key, raw, CRYPTOPAN_KEY_LEN);
		memcpy(ck->raw, raw, rawlen);
		ck->rawlen = rawlen;
		ck->slot = lookup_key(ck->key);
	}

	slot = &key_cache[ck->slot];
	if (slot->cp == NULL || memcmp(slot->key, ck->key, CRYPTOPAN_KEY_LEN) != 0)
	{
		/* evicted by another call site since */
		ck->slot = lookup_key(ck->key);
		slot = &key_cache[ck->slot];
	}
	slot->last_use = ++key_clock;
	return slot->cp;
}

/* A new inet: addr anonymized, family and mask length kept. */
static inet *
anonymize_inet(CryptoPan *cp, inet *addr)
{
	inet	   *res = (inet *) palloc0(sizeof(inet));
	CryptoPanStatus rc;

	ip_family(res) = ip_family(addr);
	ip_bits(res) = ip_bits(addr);
	if (ip_family(addr) == PGSQL_AF_INET)
		rc = cryptopan_anon_v4(cp, ip_addr(addr), ip_addr(res));
	else
		rc = cryptopan_anon_v6(cp, ip_addr(addr), ip_addr(res));
	if (rc != CRYPTOPAN_OK)
		ereport(ERROR,
				(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
				 errmsg("could not anonymize address: %s", cryptopan_strerror(rc))));
	SET_INET_VARSIZE(res);
	return res;
}

PG_FUNCTION_INFO_V1(anonymize_inet_text);
Datum
anonymize_inet_text(PG_FUNCTION_ARGS)
{
	inet	   *addr = PG_GETARG_INET_PP(0);
	text	   *key = PG_GETARG_TEXT_PP(1);
	int			keylen = VARSIZE_ANY_EXHDR(key);
	CryptoPan  *cp;

	/* too long to be a key: reject before copying it anywhere */
	if (keylen > KEY_TEXT_MAX)
		report_key_error(CRYPTOPAN_ERR_KEY_LENGTH, keylen, 0);
	cp = prepared_key(fcinfo, VARDATA_ANY(key), keylen, true);
	PG_RETURN_INET_P(anonymize_inet(cp, addr));
}

PG_FUNCTION_INFO_V1(anonymize_inet_bytea);
Datum
anonymize_inet_bytea(PG_FUNCTION_ARGS)
{
	inet	   *addr = PG_GETARG_INET_PP(0);
	bytea	   *key = PG_GETARG_BYTEA_PP(1);
	int			keylen = VARSIZE_ANY_EXHDR(key);
	CryptoPan  *cp;

	if (keylen != CRYPTOPAN_KEY_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid Crypto-PAn key: a bytea key must be exactly 32 bytes"),
				 errdetail("The key given is %d bytes long.", keylen)));
	cp = prepared_key(fcinfo, VARDATA_ANY(key), keylen, false);
	PG_RETURN_INET_P(anonymize_inet(cp, addr));
}
