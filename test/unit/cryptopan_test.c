/*
 * cryptopan_test.c
 *		Unit test of the Crypto-PAn core (extension/cryptopan_core.c).
 *
 * 1. Every row of test/data/cryptopan.tsv (published and reference vectors,
 *    IPv4 and 128-bit IPv6), in place and out of place.
 * 2. Key parsing: nfanon's two forms, what nfanon rejects, zero first byte,
 *    error positions, and that no error text contains the key.
 * 3. The fast path (prefix table + batched blocks) against a plain
 *    one-block-at-a-time implementation of the paper, for random keys.
 * 4. Prefix preservation over random pairs: the common prefix length of the
 *    outputs equals that of the inputs, IPv4 and IPv6.
 * 5. IPv4 embedded in the top 32 bits of an IPv6 address gives the IPv4
 *    result in the top 32 bits.
 * 6. The table of recent results: addresses drawn again and again from a
 *    pool larger than the table (hits, misses and slot collisions) still
 *    give the paper's result.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "cryptopan_core.h"
#include "unit.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void
rng_bytes(uint8_t *buf, int n)
{
	for (int i = 0; i < n; i++)
		buf[i] = (uint8_t) rng();
}

static void
hex_to_bytes(const char *hex, uint8_t *out, int n)
{
	for (int i = 0; i < n; i++)
	{
		unsigned int v;

		sscanf(hex + 2 * i, "%2x", &v);
		out[i] = (uint8_t) v;
	}
}

static FILE *
open_vectors(void)
{
	const char *paths[] = {"test/data/cryptopan.tsv", "../data/cryptopan.tsv"};

	for (int i = 0; i < 2; i++)
	{
		FILE	   *f = fopen(paths[i], "r");

		if (f)
			return f;
	}
	return NULL;
}

/* 1. The vector file: key_hex, original, anonymized. */
static void
test_vectors(CryptoPan *cp)
{
	FILE	   *f = open_vectors();
	char		line[512];
	char		lastkey[65] = "";
	int			v4 = 0,
				v6 = 0;

	CHECK(f != NULL, "cannot open cryptopan.tsv");
	if (!f)
		return;
	CHECK(fgets(line, sizeof(line), f) && strncmp(line, "key_hex\t", 8) == 0,
		  "header line");
	while (fgets(line, sizeof(line), f))
	{
		char		keyhex[65],
					orig[64],
					want[64];
		uint8_t		a[16],
					b[16],
					w[16],
					key[CRYPTOPAN_KEY_LEN];
		int			v6row;

		if (sscanf(line, "%64s %63s %63s", keyhex, orig, want) != 3)
			continue;
		if (strcmp(keyhex, lastkey) != 0)
		{
			if (lastkey[0])
				cryptopan_free(cp);
			hex_to_bytes(keyhex, key, CRYPTOPAN_KEY_LEN);
			CHECK(cryptopan_init(cp, key) == CRYPTOPAN_OK, "init %s", keyhex);
			strcpy(lastkey, keyhex);
		}
		v6row = strchr(orig, ':') != NULL;
		CHECK(inet_pton(v6row ? AF_INET6 : AF_INET, orig, a) == 1, "%s", orig);
		CHECK(inet_pton(v6row ? AF_INET6 : AF_INET, want, w) == 1, "%s", want);
		if (v6row)
		{
			CHECK(cryptopan_anon_v6(cp, a, b) == CRYPTOPAN_OK, "v6 rc");
			CHECK(memcmp(b, w, 16) == 0, "%s -> %s (key %.8s...)", orig, want, keyhex);
			CHECK(cryptopan_anon_v6(cp, a, a) == CRYPTOPAN_OK && memcmp(a, w, 16) == 0,
				  "in place %s", orig);
			v6++;
		}
		else
		{
			CHECK(cryptopan_anon_v4(cp, a, b) == CRYPTOPAN_OK, "v4 rc");
			CHECK(memcmp(b, w, 4) == 0, "%s -> %s (key %.8s...)", orig, want, keyhex);
			CHECK(cryptopan_anon_v4(cp, a, a) == CRYPTOPAN_OK && memcmp(a, w, 4) == 0,
				  "in place %s", orig);
			v4++;
		}
	}
	fclose(f);
	if (lastkey[0])
		cryptopan_free(cp);
	CHECK(v4 == 119 && v6 == 72, "rows: %d IPv4, %d IPv6 (want 119, 72)", v4, v6);
}

static void
check_key(const char *text, CryptoPanStatus want, const char *want_hex)
{
	uint8_t		key[CRYPTOPAN_KEY_LEN],
				expect[CRYPTOPAN_KEY_LEN];
	size_t		pos = 9999;
	CryptoPanStatus rc = cryptopan_parse_key(text, strlen(text), key, &pos);

	CHECK(rc == want, "parse \"%s\": status %d, want %d", text, rc, want);
	if (rc == CRYPTOPAN_OK && want_hex)
	{
		hex_to_bytes(want_hex, expect, CRYPTOPAN_KEY_LEN);
		CHECK(memcmp(key, expect, CRYPTOPAN_KEY_LEN) == 0, "bytes of \"%s\"", text);
	}
}

/* 2. Key syntax, as nfanon's ParseCryptoPAnKey (without its zero-byte bug). */
static void
test_parse_key(void)
{
	const char *hex = "1522178d33a4cf80130a5b1649907d10d8988f837979652762574c2d2a842202";
	char		buf[80];
	size_t		pos = 0;
	uint8_t		key[CRYPTOPAN_KEY_LEN];

	check_key("n1dn5emfcakghfo13nbsjfdk3mbuk83h", CRYPTOPAN_OK,
			  "6e31646e35656d6663616b6768666f31336e62736a66646b336d62756b383368");
	/* 32 characters are raw bytes even when they look like hex */
	check_key("00112233445566778899aabbccddeeff", CRYPTOPAN_OK,
			  "3030313132323333343435353636373738383939616162626363646465656666");
	snprintf(buf, sizeof(buf), "0x%s", hex);
	check_key(buf, CRYPTOPAN_OK, hex);
	snprintf(buf, sizeof(buf), "0X%s", "1522178D33A4CF80130A5B1649907D10D8988F837979652762574C2D2A842202");
	check_key(buf, CRYPTOPAN_OK, hex);
	/* first byte zero: nfanon refuses it, we do not */
	check_key("0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
			  CRYPTOPAN_OK, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");

	check_key("", CRYPTOPAN_ERR_KEY_LENGTH, NULL);
	check_key("n1dn5emfcakghfo13nbsjfdk3mbuk83", CRYPTOPAN_ERR_KEY_LENGTH, NULL);
	check_key("n1dn5emfcakghfo13nbsjfdk3mbuk83hx", CRYPTOPAN_ERR_KEY_LENGTH, NULL);
	check_key(hex, CRYPTOPAN_ERR_KEY_LENGTH, NULL); /* 64 hex without 0x */
	snprintf(buf, sizeof(buf), "0x%s0", hex);
	check_key(buf, CRYPTOPAN_ERR_KEY_LENGTH, NULL);
	snprintf(buf, sizeof(buf), "0x%.63s", hex);
	check_key(buf, CRYPTOPAN_ERR_KEY_LENGTH, NULL);
	snprintf(buf, sizeof(buf), "1x%s", hex);
	check_key(buf, CRYPTOPAN_ERR_KEY_LENGTH, NULL);
	snprintf(buf, sizeof(buf), "0x%s", hex);
	buf[40] = 'g';
	check_key(buf, CRYPTOPAN_ERR_KEY_HEX, NULL);
	CHECK(cryptopan_parse_key(buf, strlen(buf), key, &pos) == CRYPTOPAN_ERR_KEY_HEX && pos == 40,
		  "bad hex position %zu, want 40", pos);

	for (int s = CRYPTOPAN_OK; s <= CRYPTOPAN_ERR_CRYPTO; s++)
	{
		const char *msg = cryptopan_strerror((CryptoPanStatus) s);

		CHECK(msg && strstr(msg, "n1dn5") == NULL && strstr(msg, "1522") == NULL,
			  "message %d", s);
	}
}

/* The paper, one AES call per bit, no table: the oracle for test 3. */
static void
slow_anon(const uint8_t key[CRYPTOPAN_KEY_LEN], const uint8_t *in, uint8_t *out,
		  int nbytes)
{
	EVP_CIPHER_CTX *evp = EVP_CIPHER_CTX_new();
	uint8_t		pad[16],
				blk[16],
				enc[32];
	int			len;

	EVP_EncryptInit_ex(evp, EVP_aes_128_ecb(), NULL, key, NULL);
	EVP_CIPHER_CTX_set_padding(evp, 0);
	EVP_EncryptUpdate(evp, pad, &len, key + 16, 16);
	memcpy(out, in, nbytes);
	for (int i = 0; i < nbytes * 8; i++)
	{
		for (int bit = 0; bit < 128; bit++)
		{
			const uint8_t *src = bit < i ? in : pad;
			int			v = (src[bit / 8] >> (7 - bit % 8)) & 1;

			if (bit % 8 == 0)
				blk[bit / 8] = 0;
			blk[bit / 8] |= (uint8_t) (v << (7 - bit % 8));
		}
		EVP_EncryptUpdate(evp, enc, &len, blk, 16);
		out[i / 8] ^= (uint8_t) ((enc[0] >> 7) << (7 - i % 8));
	}
	EVP_CIPHER_CTX_free(evp);
}

/* 3. Fast path = paper, for random keys (one with a zero first byte). */
static void
test_against_slow(CryptoPan *cp)
{
	for (int k = 0; k < 6; k++)
	{
		uint8_t		key[CRYPTOPAN_KEY_LEN];

		rng_bytes(key, sizeof(key));
		if (k == 0)
			key[0] = 0;
		CHECK(cryptopan_init(cp, key) == CRYPTOPAN_OK, "init random key %d", k);
		for (int n = 0; n < 200; n++)
		{
			uint8_t		a[16],
						fast[16],
						slow[16];
			int			nbytes = n % 2 ? 16 : 4;

			rng_bytes(a, 16);
			if (n % 3 == 0)
				a[n % nbytes] = 0;	/* zero bytes are where broken code shows */
			if (nbytes == 4)
				cryptopan_anon_v4(cp, a, fast);
			else
				cryptopan_anon_v6(cp, a, fast);
			slow_anon(key, a, slow, nbytes);
			CHECK(memcmp(fast, slow, nbytes) == 0, "key %d address %d (%d bytes)", k, n, nbytes);
		}
		cryptopan_free(cp);
	}
}

static int
common_prefix(const uint8_t *a, const uint8_t *b, int nbytes)
{
	for (int i = 0; i < nbytes * 8; i++)
		if (((a[i / 8] ^ b[i / 8]) >> (7 - i % 8)) & 1)
			return i;
	return nbytes * 8;
}

/* 4. Random pairs sharing exactly k leading bits, every k from 0 to n. */
static void
test_prefix_preservation(CryptoPan *cp)
{
	uint8_t		key[CRYPTOPAN_KEY_LEN];
	int			bad = 0,
				pairs = 0;

	rng_bytes(key, sizeof(key));
	CHECK(cryptopan_init(cp, key) == CRYPTOPAN_OK, "init");
	for (int nbytes = 4; nbytes <= 16; nbytes += 12)
	{
		for (int n = 0; n < 20000; n++)
		{
			uint8_t		a[16],
						b[16],
						x[16],
						y[16];
			int			k = (int) (rng() % (nbytes * 8 + 1));

			rng_bytes(a, 16);
			rng_bytes(b, 16);
			if (n % 4 == 0)
				k = common_prefix(a, b, nbytes);	/* fully independent pair */
			else
			{
				/* b = a's first k bits, then a flipped bit k, then random */
				for (int i = 0; i < nbytes * 8; i++)
				{
					int			ab = (a[i / 8] >> (7 - i % 8)) & 1;
					int			bb = (b[i / 8] >> (7 - i % 8)) & 1;
					int			v = i < k ? ab : i == k ? !ab : bb;

					b[i / 8] = (uint8_t) ((b[i / 8] & ~(1 << (7 - i % 8))) | v << (7 - i % 8));
				}
			}
			if (nbytes == 4)
			{
				cryptopan_anon_v4(cp, a, x);
				cryptopan_anon_v4(cp, b, y);
			}
			else
			{
				cryptopan_anon_v6(cp, a, x);
				cryptopan_anon_v6(cp, b, y);
			}
			pairs++;
			if (common_prefix(a, b, nbytes) != k || common_prefix(x, y, nbytes) != k)
				bad++;
		}
	}
	CHECK(bad == 0, "%d of %d pairs lost their common prefix length", bad, pairs);
	cryptopan_free(cp);
}

/* 5. IPv4 a and IPv6 a<<96 agree on their top 32 bits. */
static void
test_v4_in_v6(CryptoPan *cp)
{
	uint8_t		key[CRYPTOPAN_KEY_LEN];

	rng_bytes(key, sizeof(key));
	CHECK(cryptopan_init(cp, key) == CRYPTOPAN_OK, "init");
	for (int n = 0; n < 1000; n++)
	{
		uint8_t		a[16] = {0},
					x[16],
					y[16];

		rng_bytes(a, 4);
		cryptopan_anon_v4(cp, a, x);
		cryptopan_anon_v6(cp, a, y);
		CHECK(memcmp(x, y, 4) == 0, "v4-in-v6 %d", n);
	}
	cryptopan_free(cp);
}

/* 6. Repeated addresses, through the table of recent results. */
#define POOL 6000
static void
test_recent(CryptoPan *cp)
{
	static uint8_t addr[POOL][16],
				want[POOL][16];
	uint8_t		key[CRYPTOPAN_KEY_LEN];
	int			bad = 0;

	rng_bytes(key, sizeof(key));
	CHECK(cryptopan_init(cp, key) == CRYPTOPAN_OK, "init");
	for (int i = 0; i < POOL; i++)
	{
		rng_bytes(addr[i], 16);
		if (i % 7 == 0)
			memset(addr[i], 0, 16);	/* the all-zero address the table starts with */
		slow_anon(key, addr[i], want[i], i % 2 ? 16 : 4);
	}
	for (int n = 0; n < 100000; n++)
	{
		int			i = (int) (rng() % (n < 50000 ? 64 : POOL));
		uint8_t		out[16];

		if (i % 2)
			cryptopan_anon_v6(cp, addr[i], out);
		else
			cryptopan_anon_v4(cp, addr[i], out);
		if (memcmp(out, want[i], i % 2 ? 16 : 4) != 0)
			bad++;
	}
	CHECK(bad == 0, "%d of 100000 repeated lookups wrong", bad);
	cryptopan_free(cp);
}

int
main(void)
{
	CryptoPan  *cp = malloc(sizeof(CryptoPan));

	test_vectors(cp);
	test_parse_key();
	test_against_slow(cp);
	test_prefix_preservation(cp);
	test_v4_in_v6(cp);
	test_recent(cp);
	free(cp);
	return unit_report("cryptopan_test");
}
