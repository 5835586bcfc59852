/*-------------------------------------------------------------------------
 *
 * nfcapd_codec.c
 *		The four block compressions of nfcapd files, through Debian's
 *		libraries: liblzo2, libbz2, liblz4, libzstd.
 *
 * nfdump compresses each block's payload on its own, with no framing of
 * its own around the codec's output: LZO1X-1 as a raw stream, bzip2 as one
 * complete stream (level 9), LZ4 as a raw block (not the frame format),
 * ZSTD as one frame.  Decompression is bounded by the caller's buffer; an
 * output that would not fit is an error, as is one that stops short of
 * the input's end (bzip2 and zstd say so; LZO and LZ4's "safe" decoders
 * refuse input that overruns either side).
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>

#include <bzlib.h>
#include <lz4.h>
#include <lzo/lzo1x.h>
#include <zstd.h>

#include "nfcapd_int.h"

static bool lzo_ready;

bool
nfcapd_codec_available(int method)
{
	return method >= NFCAPD_NONE && method <= NFCAPD_ZSTD;
}

static long
decompress_lzo(const uint8_t *in, size_t in_len, uint8_t *out, size_t cap,
			   char *err, size_t errlen)
{
	lzo_uint	out_len = cap;
	int			rc;

	if (!lzo_ready)
	{
		if (lzo_init() != LZO_E_OK)
		{
			snprintf(err, errlen, "liblzo2 failed to initialise");
			return -1;
		}
		lzo_ready = true;
	}
	rc = lzo1x_decompress_safe(in, in_len, out, &out_len, NULL);
	if (rc != LZO_E_OK)
	{
		snprintf(err, errlen, "LZO data corrupt (liblzo2 error %d)", rc);
		return -1;
	}
	return (long) out_len;
}

static long
decompress_bz2(const uint8_t *in, size_t in_len, uint8_t *out, size_t cap,
			   char *err, size_t errlen)
{
	unsigned int out_len = (unsigned int) cap;
	int			rc = BZ2_bzBuffToBuffDecompress((char *) out, &out_len, (char *) in,
											(unsigned int) in_len, 0, 0);

	if (rc != BZ_OK)
	{
		snprintf(err, errlen, "bzip2 data corrupt (libbz2 error %d%s)", rc,
				 rc == BZ_OUTBUFF_FULL ? ", larger than a block may be" : "");
		return -1;
	}
	return (long) out_len;
}

static long
decompress_lz4(const uint8_t *in, size_t in_len, uint8_t *out, size_t cap,
			   char *err, size_t errlen)
{
	int			n = LZ4_decompress_safe((const char *) in, (char *) out, (int) in_len, (int) cap);

	if (n < 0)
	{
		snprintf(err, errlen, "LZ4 data corrupt (liblz4 error %d)", n);
		return -1;
	}
	return n;
}

static long
decompress_zstd(const uint8_t *in, size_t in_len, uint8_t *out, size_t cap,
				char *err, size_t errlen)
{
	size_t		n = ZSTD_decompress(out, cap, in, in_len);

	if (ZSTD_isError(n))
	{
		snprintf(err, errlen, "ZSTD data corrupt (%s)", ZSTD_getErrorName(n));
		return -1;
	}
	return (long) n;
}

long
nfcapd_decompress(int method, const uint8_t *in, size_t in_len, uint8_t *out, size_t cap,
				  char *err, size_t errlen)
{
	switch (method)
	{
		case NFCAPD_NONE:
			if (in_len > cap)
			{
				snprintf(err, errlen, "block of %zu bytes, larger than a block may be", in_len);
				return -1;
			}
			memcpy(out, in, in_len);
			return (long) in_len;
		case NFCAPD_LZO:
			return decompress_lzo(in, in_len, out, cap, err, errlen);
		case NFCAPD_BZ2:
			return decompress_bz2(in, in_len, out, cap, err, errlen);
		case NFCAPD_LZ4:
			return decompress_lz4(in, in_len, out, cap, err, errlen);
		case NFCAPD_ZSTD:
			return decompress_zstd(in, in_len, out, cap, err, errlen);
	}
	snprintf(err, errlen, "unknown compression %d", method);
	return -1;
}

const char *
nfcapd_compression_name(int method)
{
	static const char *const names[] = {"none", "LZO", "bzip2", "LZ4", "ZSTD"};

	return method >= 0 && method <= NFCAPD_ZSTD ? names[method] : "unknown";
}
