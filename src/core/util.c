/*
 * util.c - see util.h.
 */
#include "core/common.h"

#include <stdarg.h>
#include <sys/random.h>

#include "core/log.h"
#include "core/util.h"

uint64_t
util_random_u64(void)
{
	uint64_t v;

	if (getrandom(&v, sizeof(v), 0) != sizeof(v))
		fatal("getrandom failed");
	return v;
}

void
util_random_id(char out[ID_LEN + 1])
{
	snprintf(out, ID_LEN + 1, "%016llx",
	    (unsigned long long)util_random_u64());
}

void
util_rfc5322_date(time_t t, char *out, size_t size)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	if (strftime(out, size, "%a, %d %b %Y %H:%M:%S +0000", &tm) == 0 &&
	    size)
		out[0] = '\0';
}

uint64_t
util_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void
util_fmt_cut(char *out, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, size, fmt, ap);
	va_end(ap);
}
