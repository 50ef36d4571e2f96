/*
 * crc32.c - see crc32.h. Four bits at a time from a 16-entry table: a
 * few hundred bytes per envelope record do not need a faster method,
 * and a const table needs no initialisation shared between threads.
 */
#include "core/common.h"

#include "core/crc32.h"

static const uint32_t crc32_nibble[16] = {
	0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac,
	0x76dc4190, 0x6b6b51f4, 0x4db26158, 0x5005713c,
	0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c,
	0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
};

uint32_t
crc32_update(uint32_t crc, const void *p, size_t len)
{
	const unsigned char *s = p;

	crc = ~crc;
	while (len--) {
		crc ^= *s++;
		crc = (crc >> 4) ^ crc32_nibble[crc & 0x0f];
		crc = (crc >> 4) ^ crc32_nibble[crc & 0x0f];
	}
	return ~crc;
}
