/*-------------------------------------------------------------------------
 *
 * cryptopan_core.c
 *		Crypto-PAn on OpenSSL's AES-128 (EVP, ECB); no PostgreSQL.
 *
 * The algorithm and the API are described in cryptopan_core.h.  Notation
 * here: a = the address (n = 32 or 128 bits, bit 0 = MSB), P = the pad,
 * B_i = the first i bits of a followed by bits i..127 of P, and
 * f_i = top bit of AES_K(B_i); the result is a XOR f_0 f_1 ... f_{n-1}.
 *
 * Every B_i is known before any AES is done, so the blocks of one address
 * are built into one buffer and encrypted by a single EVP_EncryptUpdate,
 * which lets AES-NI work on several blocks at once.  f_0..f_15 depend only
 * on a's first 15 bits; cp->head holds them for every 16-bit prefix (the
 * same table serves IPv4 and IPv6, as B_i for i < 16 does not depend on the
 * family), so only B_16..B_{n-1} are encrypted per address.
 *
 *-------------------------------------------------------------------------
 */
#include "cryptopan_core.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#define AES_BLOCK			16
#define HEAD_CHUNK			256		/* blocks per EVP call building head[] */

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

CryptoPanStatus
cryptopan_parse_key(const char *text, size_t len,
					uint8_t key[CRYPTOPAN_KEY_LEN], size_t *errpos)
{
	if (len == CRYPTOPAN_KEY_LEN)
	{
		memcpy(key, text, CRYPTOPAN_KEY_LEN);
		return CRYPTOPAN_OK;
	}
	if (len != 2 + 2 * CRYPTOPAN_KEY_LEN || text[0] != '0' ||
		(text[1] != 'x' && text[1] != 'X'))
		return CRYPTOPAN_ERR_KEY_LENGTH;

	for (size_t i = 2; i < len; i++)
	{
		if (hex_value(text[i]) < 0)
		{
			if (errpos)
				*errpos = i;
			return CRYPTOPAN_ERR_KEY_HEX;
		}
	}
	for (int i = 0; i < CRYPTOPAN_KEY_LEN; i++)
		key[i] = (uint8_t) (hex_value(text[2 + 2 * i]) << 4 |
							hex_value(text[3 + 2 * i]));
	return CRYPTOPAN_OK;
}

/* Encrypt nblocks 16-byte blocks of buf in place. */
static CryptoPanStatus
encrypt_blocks(CryptoPan *cp, uint8_t *buf, int nblocks)
{
	int			outl;

	if (EVP_EncryptUpdate(cp->evp, buf, &outl, buf, nblocks * AES_BLOCK) != 1 ||
		outl != nblocks * AES_BLOCK)
		return CRYPTOPAN_ERR_CRYPTO;
	return CRYPTOPAN_OK;
}

/*
 * Fill cp->head: head[x] = f_0..f_15 (f_0 in the top bit) of any address
 * whose first 16 bits are x.  Level i computes f_i for each i-bit prefix p,
 * kept in head[p << (16 - i)], and copies the grown value to both children
 * (2p and 2p+1 at level i + 1), so the table is built in place with 2^16 - 1
 * AES blocks, encrypted HEAD_CHUNK at a time.
 */
static CryptoPanStatus
build_head(CryptoPan *cp)
{
	uint8_t		blk[HEAD_CHUNK][AES_BLOCK];
	uint32_t	pad_top = (uint32_t) cp->pad[0] << 8 | cp->pad[1];

	memset(cp->head, 0, sizeof(cp->head));
	for (int i = 0; i < CRYPTOPAN_HEAD_BITS; i++)
	{
		uint32_t	keep = (0xFFFF0000u >> i) & 0xFFFF; /* top i of 16 bits */
		uint32_t	nprefix = 1u << i;

		for (uint32_t p0 = 0; p0 < nprefix; p0 += HEAD_CHUNK)
		{
			uint32_t	n = nprefix - p0 < HEAD_CHUNK ? nprefix - p0 : HEAD_CHUNK;
			CryptoPanStatus rc;

			for (uint32_t k = 0; k < n; k++)
			{
				uint32_t	x = ((p0 + k) << (16 - i)) & 0xFFFF;
				uint32_t	top = (x & keep) | (pad_top & ~keep);

				memcpy(blk[k], cp->pad, AES_BLOCK);
				blk[k][0] = (uint8_t) (top >> 8);
				blk[k][1] = (uint8_t) top;
			}
			if ((rc = encrypt_blocks(cp, blk[0], (int) n)) != CRYPTOPAN_OK)
				return rc;
			for (uint32_t k = 0; k < n; k++)
			{
				uint32_t	idx = ((p0 + k) << (16 - i)) & 0xFFFF;
				uint16_t	h = cp->head[idx] | (uint16_t) ((blk[k][0] >> 7) << (15 - i));

				cp->head[idx] = h;
				cp->head[idx | (1u << (15 - i))] = h;
			}
		}
	}
	return CRYPTOPAN_OK;
}

CryptoPanStatus
cryptopan_init(CryptoPan *cp, const uint8_t key[CRYPTOPAN_KEY_LEN])
{
	EVP_CIPHER_CTX *evp;
	CryptoPanStatus rc;

	memset(cp, 0, offsetof(CryptoPan, head));
	if ((evp = EVP_CIPHER_CTX_new()) == NULL)
		return CRYPTOPAN_ERR_NOMEM;
	cp->evp = evp;
	if (EVP_EncryptInit_ex(evp, EVP_aes_128_ecb(), NULL, key, NULL) != 1 ||
		EVP_CIPHER_CTX_set_padding(evp, 0) != 1)
	{
		cryptopan_free(cp);
		return CRYPTOPAN_ERR_CRYPTO;
	}
	memcpy(cp->pad, key + 16, AES_BLOCK);
	if ((rc = encrypt_blocks(cp, cp->pad, 1)) != CRYPTOPAN_OK ||
		(rc = build_head(cp)) != CRYPTOPAN_OK)
	{
		cryptopan_free(cp);
		return rc;
	}
	return CRYPTOPAN_OK;
}

void
cryptopan_free(CryptoPan *cp)
{
	EVP_CIPHER_CTX_free(cp->evp);	/* wipes the key schedule */
	OPENSSL_cleanse(cp, sizeof(*cp));
}

/*
 * Fill blk with B_from .. B_{to-1} for the address addr; from and to are
 * multiples of 8, so the blocks go byte by byte: t holds addr's bytes before
 * byte j and the pad's after it, and the 8 blocks of byte j take its top b
 * bits from addr and the rest from the pad.
 */
static void
build_blocks(const uint8_t pad[AES_BLOCK], const uint8_t *addr, int from,
			 int to, uint8_t (*blk)[AES_BLOCK])
{
	uint8_t		t[AES_BLOCK];

	memcpy(t, pad, AES_BLOCK);
	memcpy(t, addr, from / 8);
	for (int j = from / 8; j < to / 8; j++)
	{
		for (int b = 0; b < 8; b++)
		{
			uint8_t		m = (uint8_t) (0xFF00 >> b);	/* top b bits */

			memcpy(*blk, t, AES_BLOCK);
			(*blk)[j] = (uint8_t) ((addr[j] & m) | (pad[j] & ~m));
			blk++;
		}
		t[j] = addr[j];
	}
}

/*
 * Anonymize an address of nbytes (4 or 16): head[] gives the flips of the
 * first two bytes, one EVP call the rest.
 */
static CryptoPanStatus
anonymize(CryptoPan *cp, const uint8_t *in, uint8_t *out, int nbytes)
{
	uint8_t		blk[128 - CRYPTOPAN_HEAD_BITS][AES_BLOCK];
	int			nblk = nbytes * 8 - CRYPTOPAN_HEAD_BITS;
	uint16_t	h = cp->head[in[0] << 8 | in[1]];
	CryptoPanStatus rc;

	build_blocks(cp->pad, in, CRYPTOPAN_HEAD_BITS, nbytes * 8, blk);
	if ((rc = encrypt_blocks(cp, blk[0], nblk)) != CRYPTOPAN_OK)
		return rc;

	out[0] = in[0] ^ (uint8_t) (h >> 8);
	out[1] = in[1] ^ (uint8_t) h;
	for (int j = 2; j < nbytes; j++)
	{
		const uint8_t (*b)[AES_BLOCK] = &blk[(j - 2) * 8];
		uint8_t		flip = 0;

		for (int k = 0; k < 8; k++)
			flip |= (uint8_t) ((b[k][0] >> 7) << (7 - k));
		out[j] = in[j] ^ flip;
	}
	return CRYPTOPAN_OK;
}

CryptoPanStatus
cryptopan_anon_v4(CryptoPan *cp, const uint8_t in[4], uint8_t out[4])
{
	return anonymize(cp, in, out, 4);
}

CryptoPanStatus
cryptopan_anon_v6(CryptoPan *cp, const uint8_t in[16], uint8_t out[16])
{
	return anonymize(cp, in, out, 16);
}

const char *
cryptopan_strerror(CryptoPanStatus status)
{
	switch (status)
	{
		case CRYPTOPAN_OK:
			return "no error";
		case CRYPTOPAN_ERR_KEY_LENGTH:
			return "neither exactly 32 characters nor 0x followed by exactly 64 hex digits";
		case CRYPTOPAN_ERR_KEY_HEX:
			return "a character after 0x is not a hex digit";
		case CRYPTOPAN_ERR_NOMEM:
			return "out of memory creating the OpenSSL cipher context";
		case CRYPTOPAN_ERR_CRYPTO:
			return "OpenSSL AES-128-ECB failed";
	}
	return "unknown Crypto-PAn error";
}
