/*
 * fuzz_smtp_parse.c - libFuzzer harness for smtp_parse.c: one raw command
 * line through smtp_parse_line(), then its arguments through
 * smtp_parse_mail_rcpt(), smtp_addr_parse_path() and smtp_parse_params(),
 * as the session does. Besides crashes, it aborts when a documented
 * guarantee fails (CRLF only at the end, slices inside the line...).
 */
#include "core/common.h"

#include "core/limits.h"
#include "smtp/smtp_addr.h"
#include "smtp/smtp_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* s lies within [lo, lo + len). */
static void
within(struct str s, const char *lo, size_t len)
{
	if (s.len == 0)
		return;
	if (s.p < lo || s.p + s.len > lo + len)
		abort();
}

static void
check_params(struct str args, const char *line, size_t len, bool utf8)
{
	struct smtp_param params[SMTP_PARAMS_MAX];
	size_t n = 99, i, j;

	if (smtp_parse_params(args, params, ARRAY_LEN(params), &n, utf8) != 0) {
		if (n != 0)
			abort();
		return;
	}
	if (n > ARRAY_LEN(params))
		abort();
	for (i = 0; i < n; i++) {
		struct smtp_param *p = &params[i];

		within(p->key, line, len);
		if (p->key.len == 0 || !ascii_isalnum(p->key.p[0]))
			abort();
		for (j = 0; j < p->key.len; j++)
			if (!ascii_isalnum(p->key.p[j]) && p->key.p[j] != '-')
				abort();
		if (p->value.p == NULL)
			continue;
		within(p->value, line, len);
		if (p->value.len == 0)
			abort();
		for (j = 0; j < p->value.len; j++) {
			unsigned char c = (unsigned char)p->value.p[j];

			if (c == '=' || c <= ' ' || c == 0x7f ||
			    (c >= 0x80 && !utf8))
				abort();
		}
	}
}

static void
check_mail_rcpt(struct str args, const char *kw, int flags, const char *line,
    size_t len)
{
	struct smtp_addr addr;
	struct str rest;

	if (smtp_parse_mail_rcpt(args, kw, &rest) != 0)
		return;
	within(rest, line, len);
	if (rest.len == 0 || rest.p[0] != '<')
		abort();
	if (smtp_addr_parse_path(&rest, flags, &addr) != SMTP_ADDR_OK)
		return;
	within(rest, line, len);
	if (rest.p[-1] != '>')
		abort();
	if (strnlen(addr.local, sizeof(addr.local)) == sizeof(addr.local) ||
	    strnlen(addr.domain, sizeof(addr.domain)) == sizeof(addr.domain))
		abort();
	check_params(rest, line, len, (flags & SMTP_ADDR_UTF8) != 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *line = (const char *)data;
	struct smtp_cmd cmd;
	size_t i;

	if (smtp_parse_line(line, size, &cmd) != SMTP_PARSE_OK)
		return 0;
	/* RFC 5321 2.3.8: CRLF at the end and nowhere else, no NUL. */
	if (size < 3 || line[size - 2] != '\r' || line[size - 1] != '\n')
		abort();
	for (i = 0; i + 2 < size; i++)
		if (line[i] == '\r' || line[i] == '\n' || line[i] == '\0')
			abort();
	if (cmd.name.p != line || cmd.name.len == 0)
		abort();
	within(cmd.name, line, size - 2);
	within(cmd.args, line, size - 2);
	for (i = 0; i < cmd.name.len; i++)
		if (!ascii_isalpha(cmd.name.p[i]))
			abort();
	if (cmd.verb >= SMTP_VERB_COUNT)
		abort();
	if (cmd.verb != SMTP_VERB_UNKNOWN &&
	    !str_caseeq_cstr(cmd.name, smtp_verb_name(cmd.verb)))
		abort();

	check_params(cmd.args, line, size, false);
	check_params(cmd.args, line, size, true);
	check_mail_rcpt(cmd.args, "FROM", SMTP_ADDR_STRICT | SMTP_ADDR_NULL_OK,
	    line, size);
	check_mail_rcpt(cmd.args, "FROM", SMTP_ADDR_STRICT | SMTP_ADDR_NULL_OK |
	    SMTP_ADDR_UTF8, line, size);
	check_mail_rcpt(cmd.args, "TO", SMTP_ADDR_STRICT |
	    SMTP_ADDR_POSTMASTER, line, size);
	check_mail_rcpt(cmd.args, "TO", 0, line, size);
	return 0;
}
