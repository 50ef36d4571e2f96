/*
 * crc32.h - CRC-32 (the IEEE 802.3 polynomial, as zlib and gzip compute
 * it): detects a torn write in the queue's envelope records. Not a MAC:
 * nothing hostile writes there.
 */
#ifndef FACTEUR_CRC32_H
#define FACTEUR_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* Continues crc over p; start with crc32_update(0, ...). */
uint32_t crc32_update(uint32_t crc, const void *p, size_t len);

#endif
