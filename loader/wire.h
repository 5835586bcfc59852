/*-------------------------------------------------------------------------
 *
 * wire.h
 *		Big-endian field readers for the export decoders.
 *
 * Export protocols are big-endian and unaligned; these read through bytes,
 * so they are safe on any alignment.  Callers check lengths before reading.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NFPG_WIRE_H
#define NFPG_WIRE_H

#include <stddef.h>
#include <stdint.h>

static inline uint16_t
get_u16(const uint8_t *p)
{
	return (uint16_t) ((p[0] << 8) | p[1]);
}

static inline uint32_t
get_u32(const uint8_t *p)
{
	return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) |
		((uint32_t) p[2] << 8) | p[3];
}

static inline uint64_t
get_u64(const uint8_t *p)
{
	return ((uint64_t) get_u32(p) << 32) | get_u32(p + 4);
}

/*
 * An unsigned integer of any width, as v9 and IPFIX (reduced-size encoding)
 * send them: big-endian, 1 to 8 bytes; of a longer field the low 8 bytes.
 */
static inline uint64_t
get_uint(const uint8_t *p, size_t n)
{
	uint64_t	v = 0;

	if (n > 8)
	{
		p += n - 8;
		n = 8;
	}
	for (size_t i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

#endif							/* NFPG_WIRE_H */
