/*
 * pop3_reply.c - status lines (RFC 1939 3): "+OK text" and "-ERR text",
 * with the response codes of RFC 2449 8 and RFC 3206 in brackets after
 * "-ERR". A status line stays within 512 octets (RFC 2449 4); control
 * characters never reach the wire (they become '?').
 */
#include "core/common.h"

#include <stdarg.h>

#include "core/limits.h"
#include "core/log.h"
#include "net/conn.h"
#include "pop3/pop3_int.h"

/* Room for the text once "-ERR [SYS/TEMP] " and CRLF are added. */
#define POP3_TEXT_MAX (POP3_REPLY_LINE_MAX - 32)

static void
pop3_status(struct pop3_session *s, const char *status, const char *code,
    const char *fmt, va_list ap)
{
	char text[POP3_TEXT_MAX];
	size_t i;

	vsnprintf(text, sizeof(text), fmt, ap);
	for (i = 0; text[i]; i++)
		if ((unsigned char)text[i] < 0x20 || text[i] == 0x7f)
			text[i] = '?';
	if (code)
		conn_printf(s->conn, "%s [%s] %s\r\n", status, code, text);
	else
		conn_printf(s->conn, "%s %s\r\n", status, text);
}

void
pop3_ok(struct pop3_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pop3_status(s, "+OK", NULL, fmt, ap);
	va_end(ap);
}

void
pop3_err(struct pop3_session *s, const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pop3_status(s, "-ERR", code, fmt, ap);
	va_end(ap);
}

void
pop3_refuse(struct pop3_session *s, const char *reason, const char *code,
    const char *fmt, ...)
{
	char text[POP3_TEXT_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	log_sess(LOG_LEVEL_INFO, s->id, "event=reject ip=%s reason=%s "
	    "reply=%s", s->client.ip, reason, log_qs(text));
	pop3_err(s, code, "%s", text);
	pop3_error(s);
}

void
pop3_raw(struct pop3_session *s, const char *fmt, ...)
{
	char line[POP3_REPLY_LINE_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > 0)
		conn_write(s->conn, line, MIN((size_t)n, sizeof(line) - 1));
}
