/*
 * log.c - see log.h.
 */
#include "core/common.h"

#include <stdarg.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"

static enum log_level log_min = LOG_LEVEL_INFO;

static const char *const log_names[] = { "debug", "info", "warn", "err" };

void
log_init(enum log_level min)
{
	log_min = min;
}

void
log_set_level(enum log_level min)
{
	log_min = min;
}

enum log_level
log_get_level(void)
{
	return log_min;
}

/*
 * One write(2) per line, so lines from the main thread and the I/O thread
 * never interleave mid-line.
 */
static void
log_vline(enum log_level level, const char *sid, const char *fmt, va_list ap)
{
	char line[2048];
	struct timespec ts;
	struct tm tm;
	size_t n;
	int r;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	r = snprintf(line, sizeof(line),
	    "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ facteur[%ld] %s ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000L, (long)getpid(),
	    log_names[level]);
	n = r > 0 ? (size_t)r : 0;
	if (sid != NULL) {
		r = snprintf(line + n, sizeof(line) - n, "sid=%s ", sid);
		n += r > 0 ? (size_t)r : 0;
	}
	if (n < sizeof(line)) {
		r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
		n += r > 0 ? (size_t)r : 0;
	}
	if (n >= sizeof(line) - 1)
		n = sizeof(line) - 2;	/* cut: keep it one line */
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, n) < 0) {
		/* nowhere left to report it */
	}
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if (level < log_min)
		return;
	va_start(ap, fmt);
	log_vline(level, NULL, fmt, ap);
	va_end(ap);
}

void
log_sess(enum log_level level, const char *sid, const char *fmt, ...)
{
	va_list ap;

	if (level < log_min)
		return;
	va_start(ap, fmt);
	log_vline(level, sid, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_msg(LOG_LEVEL_ERR, "event=fatal error=%s", log_qs(msg));
	exit(1);
}

static bool
log_plain(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '=';
}

const char *
log_q(const char *p, size_t len)
{
	static __thread char ring[6][LOG_Q_MAX * 4 + 8];
	static __thread unsigned next;
	char *out = ring[next++ % ARRAY_LEN(ring)];
	size_t i, o = 0, n = MIN(len, (size_t)LOG_Q_MAX);
	bool plain = len > 0 && len <= LOG_Q_MAX;

	for (i = 0; plain && i < len; i++)
		plain = log_plain((unsigned char)p[i]);
	if (plain) {
		memcpy(out, p, len);
		out[len] = '\0';
		return out;
	}
	out[o++] = '"';
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c < 0x20 || c >= 0x7f) {
			snprintf(out + o, 5, "\\x%02x", c);
			o += 4;
		} else {
			out[o++] = (char)c;
		}
	}
	if (len > n) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o++] = '"';
	out[o] = '\0';
	return out;
}

const char *
log_qs(const char *s)
{
	return log_q(s ? s : "", s ? strlen(s) : 0);
}
