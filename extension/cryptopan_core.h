/*-------------------------------------------------------------------------
 *
 * cryptopan_core.h
 *		Crypto-PAn prefix-preserving IP address anonymization, without
 *		PostgreSQL: shared by the SQL function anonymize() and the loader.
 *
 * Crypto-PAn (Fan, Xu, Ammar, Moon) maps addresses one-to-one so that two
 * addresses sharing their first k bits map to two addresses that share
 * exactly their first k bits.  It is what nfdump's nfanon implements; for
 * IPv4 the results here equal nfanon's.
 *
 * The key is 32 bytes: bytes 0-15 are the AES-128 key K, bytes 16-31 are
 * encrypted once with K to give the 128-bit pad P.  Bit i of the output
 * (i = 0 is the most significant bit) is bit i of the input XOR the top bit
 * of AES_K(first i bits of the address, then bits i..127 of P).  IPv6 is the
 * same over 128 bits, as in every published implementation (yacryptopan,
 * libanon, Yawning/cryptopan); nfanon 1.7.1's IPv6 is NOT standard and is
 * not reproduced.  ::ffff:a.b.c.d is IPv6: give it to cryptopan_anon_v6.
 * Addresses are network-order bytes, so results do not depend on the host.
 *
 * Usage (the loader's ingest-time option does exactly this):
 *
 *		uint8_t		key[CRYPTOPAN_KEY_LEN];
 *		CryptoPan  *cp = malloc(sizeof(CryptoPan));
 *		int			rc;
 *
 *		rc = cryptopan_parse_key(text, strlen(text), key, NULL);
 *		if (rc == CRYPTOPAN_OK)
 *			rc = cryptopan_init(cp, key);
 *		explicit_bzero(key, sizeof(key));
 *		if (rc != CRYPTOPAN_OK)
 *			die("anonymization key: %s", cryptopan_strerror(rc));
 *		...
 *		cryptopan_anon_v4(cp, rec->src_addr.addr, rec->src_addr.addr);	(in place is fine)
 *		cryptopan_anon_v6(cp, rec->dst_addr.addr, rec->dst_addr.addr);
 *		...
 *		cryptopan_free(cp);
 *		free(cp);
 *
 * cryptopan_strerror() never contains key material, so its text can go to
 * logs and clients.  A key is read from a file with cryptopan_parse_key() on
 * the file's first line without its line ending.
 *
 * Speed: the n blocks of one address do not depend on each other, so they
 * are built first and encrypted in one EVP call (AES-NI pipelines them).  The
 * first 16 output bits depend only on the first 15 input bits, so init()
 * precomputes them for all 65536 16-bit prefixes (65535 AES blocks, about a
 * millisecond with AES-NI): an IPv4 address then costs 16 blocks and an IPv6
 * address 112.  Flow data repeats addresses (exporters, next hops, busy
 * hosts), so the last results are also kept in a direct-mapped table of
 * 4096 entries per family, looked up before any AES.
 *
 * Memory: a CryptoPan is about 300 KiB; allocate it, never on the stack.
 *
 * Threads: the OpenSSL context and the table of recent results change on
 * every call; use one CryptoPan per thread.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NFPG_CRYPTOPAN_CORE_H
#define NFPG_CRYPTOPAN_CORE_H

#include <stddef.h>
#include <stdint.h>

#define CRYPTOPAN_KEY_LEN	32		/* bytes of a Crypto-PAn key */
#define CRYPTOPAN_HEAD_BITS 16		/* output bits taken from the prefix table */
#define CRYPTOPAN_CACHE_BITS 12		/* 4096 recent results kept per family */

/* Results of the functions below; cryptopan_strerror() explains them. */
typedef enum CryptoPanStatus
{
	CRYPTOPAN_OK = 0,
	CRYPTOPAN_ERR_KEY_LENGTH,	/* text key neither 32 chars nor 0x + 64 hex */
	CRYPTOPAN_ERR_KEY_HEX,		/* 0x key with a character that is not hex */
	CRYPTOPAN_ERR_NOMEM,		/* OpenSSL could not allocate its context */
	CRYPTOPAN_ERR_CRYPTO		/* OpenSSL refused AES-128-ECB */
} CryptoPanStatus;

/* One remembered result (in -> out) of each family. */
typedef struct CryptoPanRecent4
{
	uint8_t		in[4];
	uint8_t		out[4];
} CryptoPanRecent4;

typedef struct CryptoPanRecent6
{
	uint8_t		in[16];
	uint8_t		out[16];
} CryptoPanRecent6;

/* A prepared key.  Treat the fields as private. */
typedef struct CryptoPan
{
	void	   *evp;			/* EVP_CIPHER_CTX, AES-128-ECB, no padding */
	uint8_t		pad[16];		/* P = AES_K(key[16..31]) */
	uint8_t		mask[128][16];	/* mask[i]: the top i bits of a block set */
	uint8_t		pad_low[128][16];	/* P & ~mask[i] */
	uint16_t	head[1 << CRYPTOPAN_HEAD_BITS]; /* flip bits 0..15 by top 16
												 * address bits */
	CryptoPanRecent4 recent4[1 << CRYPTOPAN_CACHE_BITS];	/* recent results, */
	CryptoPanRecent6 recent6[1 << CRYPTOPAN_CACHE_BITS];	/* direct-mapped */
} CryptoPan;

/*
 * Parse a key written as nfanon's -K accepts it: exactly 32 characters,
 * taken as the 32 key bytes, or "0x"/"0X" followed by exactly 64 hex digits
 * (either case).  Anything else is an error; a 64-digit hex key without 0x
 * is rejected as nfanon does.  Unlike nfanon, a key whose first byte is zero
 * is valid.  On CRYPTOPAN_ERR_KEY_HEX, *errpos (if not NULL) is set to the
 * 0-based offset of the offending character.
 */
extern CryptoPanStatus cryptopan_parse_key(const char *text, size_t len,
										   uint8_t key[CRYPTOPAN_KEY_LEN],
										   size_t *errpos);

/*
 * Prepare cp for key: AES key schedule, pad, prefix table, table of recent
 * results (about 2 ms).  On failure cp holds nothing to free.
 */
extern CryptoPanStatus cryptopan_init(CryptoPan *cp,
									  const uint8_t key[CRYPTOPAN_KEY_LEN]);

/* Release an initialized cp's OpenSSL context and wipe cp (not free it). */
extern void cryptopan_free(CryptoPan *cp);

/* Anonymize 4 / 16 network-order bytes; out may be the same as in. */
extern CryptoPanStatus cryptopan_anon_v4(CryptoPan *cp, const uint8_t in[4],
										 uint8_t out[4]);
extern CryptoPanStatus cryptopan_anon_v6(CryptoPan *cp, const uint8_t in[16],
										 uint8_t out[16]);

/* A sentence for a status, without key material. */
extern const char *cryptopan_strerror(CryptoPanStatus status);

#endif							/* NFPG_CRYPTOPAN_CORE_H */
