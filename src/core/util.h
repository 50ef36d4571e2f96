/*
 * util.h - small helpers that fit nowhere else: random ids, time formats.
 */
#ifndef FACTEUR_UTIL_H
#define FACTEUR_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* 16 lowercase hex digits from the kernel's random source, NUL-ended. */
#define ID_LEN 16
void util_random_id(char out[ID_LEN + 1]);
uint64_t util_random_u64(void);
/* RFC 5322 3.3 date-time in UTC: "Sun, 29 Nov 2026 15:08:19 +0000". */
void util_rfc5322_date(time_t t, char *out, size_t size);
/* snprintf that may cut: for diagnostics, where a cut text is fine. */
void util_fmt_cut(char *out, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Monotonic milliseconds. */
uint64_t util_now_ms(void);

#endif
