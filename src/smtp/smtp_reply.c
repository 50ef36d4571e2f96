/*
 * smtp_reply.c - formatting replies (RFC 5321 4.2, RFC 2034 enhanced codes).
 *
 * A reply text may contain '\n' to make a multi-line reply: every line but
 * the last gets "code-", the last "code ". With ENHANCEDSTATUSCODES every
 * line carries the enhanced code too (RFC 2034 3). Control characters from
 * client-supplied text never reach the wire: they are replaced by '?'.
 */
#include "core/common.h"

#include <stdarg.h>

#include "core/buf.h"
#include "core/log.h"
#include "net/conn.h"
#include "smtp/smtp_int.h"

#define SMTP_REPLY_MAX 4096

static void
smtp_vreply(struct smtp_session *s, int code, const char *enh,
    const char *fmt, va_list ap)
{
	char text[SMTP_REPLY_MAX];
	struct buf out;
	char *line, *next;
	int r = 0;
	size_t i;

	vsnprintf(text, sizeof(text), fmt, ap);
	for (i = 0; text[i]; i++)
		if ((unsigned char)text[i] < 0x20 && text[i] != '\n')
			text[i] = '?';
	buf_init(&out, SMTP_REPLY_MAX * 2);
	for (line = text; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		r |= buf_addf(&out, "%03d%c", code, next ? '-' : ' ');
		if (enh)
			r |= buf_addf(&out, "%s ", enh);
		r |= buf_addf(&out, "%s\r\n", line);
	}
	if (r == 0)
		conn_write(s->conn, buf_data(&out), buf_len(&out));
	buf_release(&out);
}

void
smtp_reply(struct smtp_session *s, int code, const char *enh,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	smtp_vreply(s, code, enh, fmt, ap);
	va_end(ap);
}

static void
smtp_vrefuse(struct smtp_session *s, const char *event, int code,
    const char *enh, const char *fmt, va_list ap)
{
	char text[SMTP_REPLY_MAX];

	vsnprintf(text, sizeof(text), fmt, ap);
	log_sess(LOG_LEVEL_INFO, s->id, "event=reject ip=%s reason=%s "
	    "code=%d reply=%s", s->client.ip, event, code, log_qs(text));
	smtp_reply(s, code, enh, "%s", text);
}

void
smtp_refuse(struct smtp_session *s, const char *event, int code,
    const char *enh, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	smtp_vrefuse(s, event, code, enh, fmt, ap);
	va_end(ap);
	smtp_error(s);
}

void
smtp_decline(struct smtp_session *s, const char *event, int code,
    const char *enh, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	smtp_vrefuse(s, event, code, enh, fmt, ap);
	va_end(ap);
}
