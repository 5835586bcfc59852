/*-------------------------------------------------------------------------
 *
 * nfcapd_int.h
 *		What the pieces of the nfcapd reader share: little-endian field
 *		loads, the codec entry point and the two record decoders.
 *
 * nfcapd files are raw host memory of a little-endian writer, unaligned
 * wherever a record or element has an odd length (the appendix stat record,
 * labels), so every field is loaded byte by byte; callers check the length
 * first.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NFPG_NFCAPD_INT_H
#define NFPG_NFCAPD_INT_H

#include <string.h>

#include "nfcapd_read.h"

static inline uint16_t
le16(const uint8_t *p)
{
	return (uint16_t) (p[0] | p[1] << 8);
}

static inline uint32_t
le32(const uint8_t *p)
{
	return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static inline uint64_t
le64(const uint8_t *p)
{
	return (uint64_t) le32(p) | (uint64_t) le32(p + 4) << 32;
}

/* An IPv4 address stored as a host-order u32. */
static inline void
addr_v4(NfAddr *a, const uint8_t *p)
{
	uint32_t	v = le32(p);

	a->family = 4;
	a->addr[0] = (uint8_t) (v >> 24);
	a->addr[1] = (uint8_t) (v >> 16);
	a->addr[2] = (uint8_t) (v >> 8);
	a->addr[3] = (uint8_t) v;
	memset(a->addr + 4, 0, 12);
}

/* An IPv6 address stored as two host-order u64, high half first. */
static inline void
addr_v6(NfAddr *a, const uint8_t *p)
{
	a->family = 6;
	for (int half = 0; half < 2; half++)
	{
		uint64_t	v = le64(p + 8 * half);

		for (int i = 0; i < 8; i++)
			a->addr[8 * half + i] = (uint8_t) (v >> (56 - 8 * i));
	}
}

/* Record types (nfdump's id.h). */
#define REC_EXTENSION_MAP	2
#define REC_EXPORTER_INFO	7
#define REC_EXPORTER_STAT	8
#define REC_SAMPLER_V0		9
#define REC_COMMON_V1		10
#define REC_V3				11
#define REC_SAMPLER			15
#define REC_IDENT			0x8001
#define REC_STAT			0x8002

/* Outcome of decoding one flow record. */
typedef enum RecResult
{
	REC_OK,						/* *out filled */
	REC_SKIP,					/* record not usable; nfcapd_reason says why */
	REC_CORRUPT					/* the record contradicts its own length */
} RecResult;

/*
 * Decompress in[0..in_len) with method into out[0..cap); the output length,
 * or -1 with a reason in err.
 */
extern long nfcapd_decompress(int method, const uint8_t *in, size_t in_len,
							  uint8_t *out, size_t cap, char *err, size_t errlen);
extern bool nfcapd_codec_available(int method);

extern RecResult nfcapd_v1_record(NfcapdReader *r, const uint8_t *p, size_t len, FlowRec *out);
extern RecResult nfcapd_v3_record(NfcapdReader *r, const uint8_t *p, size_t len, FlowRec *out);
extern bool nfcapd_v1_map(NfcapdReader *r, const uint8_t *p, size_t len);

/* The exporter a flow names, with its address set on *out; counts misses. */
extern void nfcapd_set_exporter(NfcapdReader *r, uint16_t sysid, FlowRec *out);

/* Why the record at hand is skipped or corrupt (r->reason). */
extern void nfcapd_reason(NfcapdReader *r, const char *fmt, ...)
			__attribute__((format(printf, 2, 3)));

#endif							/* NFPG_NFCAPD_INT_H */
