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
 * In front of that sits a direct-mapped table of recent results per family
 * (cp->recent4, cp->recent6), indexed by a hash of the address: a flow
 * table repeats the same exporters, next hops and busy hosts, and a hit
 * costs a hash and a compare instead of 16 or 112 AES blocks.  The table
 * starts filled with the true result for the all-zero address, so no slot
 * is ever "empty".
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

/* Big-endian 64-bit load and store, one instruction each with GCC/Clang. */
static inline uint64_t
load_be64(const uint8_t *p)
{
	uint64_t	v;

	memcpy(&v, p, sizeof(v));
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

static inline void
store_be64(uint8_t *p, uint64_t v)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	memcpy(p, &v, sizeof(v));
}

/* 16 bytes as one vector: GCC/Clang generic vectors (SSE2, NEON, ...). */
typedef uint64_t Vec128 __attribute__((vector_size(AES_BLOCK)));

static inline Vec128
load128(const uint8_t *p)
{
	Vec128		v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline void
store128(uint8_t *p, Vec128 v)
{
	memcpy(p, &v, sizeof(v));
}

/* mask[i] = the top i bits of a block set; pad_low[i] = P & ~mask[i]. */
static void
build_masks(CryptoPan *cp)
{
	for (int i = 0; i < 128; i++)
	{
		for (int j = 0; j < AES_BLOCK; j++)
		{
			int			bits = i - 8 * j;	/* of byte j, in the top i */
			uint8_t		m = bits >= 8 ? 0xFF : bits <= 0 ? 0 : (uint8_t) (0xFF00 >> bits);

			cp->mask[i][j] = m;
			cp->pad_low[i][j] = cp->pad[j] & (uint8_t) ~m;
		}
	}
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

/*
 * Fill blk with B_from .. B_{to-1} for the address a (16 bytes as a vector,
 * an IPv4 address in the first 4).  B_i = (a & M_i) | (P & ~M_i), on whole
 * 16-byte vectors: two loads, two operations and one store per block.
 */
static void
build_blocks(const CryptoPan *cp, Vec128 a, int from, int to,
			 uint8_t (*blk)[AES_BLOCK])
{
	for (int i = from; i < to; i++, blk++)
		store128(*blk, (a & load128(cp->mask[i])) | load128(cp->pad_low[i]));
}

/*
 * The top bits of n encrypted blocks as an n-bit number, first block most
 * significant (n <= 64); accumulated in a register, not in memory, which
 * would make every iteration wait for the previous one's store.
 */
static uint64_t
top_bits(uint8_t (*blk)[AES_BLOCK], int n)
{
	uint64_t	bits = 0;

	for (int k = 0; k < n; k++)
		bits = bits << 1 | (blk[k][0] >> 7);
	return bits;
}

/*
 * Anonymize an address of nbytes (4 or 16): head[] gives the flips of the
 * first 16 bits, one EVP call those of the rest.  The address goes straight
 * into a vector register, and head[] is read first, so that a cache miss on
 * it overlaps with the AES work.
 */
static CryptoPanStatus
anonymize(CryptoPan *cp, const uint8_t *in, uint8_t *out, int nbytes)
{
	uint8_t		blk[128 - CRYPTOPAN_HEAD_BITS][AES_BLOCK];
	uint64_t	head = cp->head[in[0] << 8 | in[1]];
	int			nbits = nbytes * 8;
	int			n_hi = (nbits < 64 ? nbits : 64) - CRYPTOPAN_HEAD_BITS;
	uint64_t	a_hi,
				a_lo = 0,
				flip_hi,
				flip_lo = 0;
	Vec128		a;
	CryptoPanStatus rc;

	if (nbytes == 4)
	{
		uint32_t	a4;
		uint64_t	w;

		/* a word whose first 4 bytes in memory are in[0..3], the rest 0 */
		memcpy(&a4, in, 4);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		w = a4;
#else
		w = (uint64_t) a4 << 32;
#endif
		a = (Vec128) {w, 0};
		a_hi = (uint64_t) in[0] << 56 | (uint64_t) in[1] << 48 |
			(uint64_t) in[2] << 40 | (uint64_t) in[3] << 32;
	}
	else
	{
		a = load128(in);
		a_hi = load_be64(in);
		a_lo = load_be64(in + 8);
	}
	build_blocks(cp, a, CRYPTOPAN_HEAD_BITS, nbits, blk);
	if ((rc = encrypt_blocks(cp, blk[0], nbits - CRYPTOPAN_HEAD_BITS)) != CRYPTOPAN_OK)
		return rc;

	/* flips of bits 0..63 left-aligned in flip_hi, 64..127 in flip_lo */
	flip_hi = head << 48 | top_bits(blk, n_hi) << (64 - CRYPTOPAN_HEAD_BITS - n_hi);
	if (nbits > 64)
		flip_lo = top_bits(blk + n_hi, 64);

	if (nbytes == 4)
	{
		uint64_t	r = a_hi ^ flip_hi;

		for (int j = 0; j < 4; j++)
			out[j] = (uint8_t) (r >> (56 - 8 * j));
	}
	else
	{
		store_be64(out, a_hi ^ flip_hi);
		store_be64(out + 8, a_lo ^ flip_lo);
	}
	return CRYPTOPAN_OK;
}

/* Slot of the table of recent results for an address (Fibonacci hashing). */
static inline uint32_t
recent_slot(const uint8_t *in, int nbytes)
{
	uint64_t	h;

	if (nbytes == 4)
		h = (uint64_t) in[0] << 24 | in[1] << 16 | in[2] << 8 | in[3];
	else
		h = load_be64(in) ^ load_be64(in + 8) * UINT64_C(0x9E3779B97F4A7C15);
	return (uint32_t) ((h * UINT64_C(0x9E3779B97F4A7C15)) >> (64 - CRYPTOPAN_CACHE_BITS));
}

CryptoPanStatus
cryptopan_anon_v4(CryptoPan *cp, const uint8_t in[4], uint8_t out[4])
{
	CryptoPanRecent4 *r = &cp->recent4[recent_slot(in, 4)];
	CryptoPanStatus rc = CRYPTOPAN_OK;

	if (memcmp(r->in, in, 4) != 0)
	{
		uint8_t		res[4];

		if ((rc = anonymize(cp, in, res, 4)) != CRYPTOPAN_OK)
			return rc;
		memcpy(r->in, in, 4);
		memcpy(r->out, res, 4);
	}
	memcpy(out, r->out, 4);
	return rc;
}

CryptoPanStatus
cryptopan_anon_v6(CryptoPan *cp, const uint8_t in[16], uint8_t out[16])
{
	CryptoPanRecent6 *r = &cp->recent6[recent_slot(in, 16)];
	CryptoPanStatus rc = CRYPTOPAN_OK;

	if (memcmp(r->in, in, 16) != 0)
	{
		uint8_t		res[16];

		if ((rc = anonymize(cp, in, res, 16)) != CRYPTOPAN_OK)
			return rc;
		memcpy(r->in, in, 16);
		memcpy(r->out, res, 16);
	}
	memcpy(out, r->out, 16);
	return rc;
}

/*
 * Fill the tables of recent results with a true entry, the all-zero address,
 * so that a lookup needs no "empty" flag.
 */
static CryptoPanStatus
init_recent(CryptoPan *cp)
{
	uint8_t		zero[16] = {0},
				anon4[4],
				anon6[16];
	CryptoPanStatus rc;

	if ((rc = anonymize(cp, zero, anon4, 4)) != CRYPTOPAN_OK ||
		(rc = anonymize(cp, zero, anon6, 16)) != CRYPTOPAN_OK)
		return rc;
	for (int i = 0; i < (1 << CRYPTOPAN_CACHE_BITS); i++)
	{
		memset(cp->recent4[i].in, 0, 4);
		memcpy(cp->recent4[i].out, anon4, 4);
		memset(cp->recent6[i].in, 0, 16);
		memcpy(cp->recent6[i].out, anon6, 16);
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
	if ((rc = encrypt_blocks(cp, cp->pad, 1)) != CRYPTOPAN_OK)
	{
		cryptopan_free(cp);
		return rc;
	}
	build_masks(cp);
	if ((rc = build_head(cp)) != CRYPTOPAN_OK ||
		(rc = init_recent(cp)) != CRYPTOPAN_OK)
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
