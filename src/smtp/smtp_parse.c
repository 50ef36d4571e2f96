/*
 * smtp_parse.c - see smtp_parse.h.
 */
#include "core/common.h"

#include "smtp/smtp_parse.h"

static const char *const smtp_verbs[SMTP_VERB_COUNT] = {
	[SMTP_VERB_UNKNOWN] = "",
	[SMTP_VERB_HELO] = "HELO",
	[SMTP_VERB_EHLO] = "EHLO",
	[SMTP_VERB_MAIL] = "MAIL",
	[SMTP_VERB_RCPT] = "RCPT",
	[SMTP_VERB_DATA] = "DATA",
	[SMTP_VERB_BDAT] = "BDAT",
	[SMTP_VERB_RSET] = "RSET",
	[SMTP_VERB_NOOP] = "NOOP",
	[SMTP_VERB_QUIT] = "QUIT",
	[SMTP_VERB_HELP] = "HELP",
	[SMTP_VERB_VRFY] = "VRFY",
	[SMTP_VERB_EXPN] = "EXPN",
	[SMTP_VERB_STARTTLS] = "STARTTLS",
	[SMTP_VERB_AUTH] = "AUTH",
};

const char *
smtp_verb_name(enum smtp_verb verb)
{
	return verb < SMTP_VERB_COUNT ? smtp_verbs[verb] : "";
}

/* RFC 5321 2.3.8: lines end in CRLF; bare CR and LF are not line ends. */
static enum smtp_parse_err
smtp_check_line_end(const char *line, size_t *len)
{
	size_t n = *len, i;

	if (n == 0 || line[n - 1] != '\n')
		return SMTP_PARSE_ERR_BARE_CR;	/* caller passes whole lines */
	if (n < 2 || line[n - 2] != '\r')
		return SMTP_PARSE_ERR_BARE_LF;
	n -= 2;
	for (i = 0; i < n; i++) {
		if (line[i] == '\0')
			return SMTP_PARSE_ERR_NUL;
		if (line[i] == '\r')
			return SMTP_PARSE_ERR_BARE_CR;
		if (line[i] == '\n')
			return SMTP_PARSE_ERR_BARE_LF;
	}
	*len = n;
	return SMTP_PARSE_OK;
}

enum smtp_parse_err
smtp_parse_line(const char *line, size_t len, struct smtp_cmd *cmd)
{
	enum smtp_parse_err err;
	struct str cur;
	size_t i, v;

	memset(cmd, 0, sizeof(*cmd));
	if ((err = smtp_check_line_end(line, &len)) != SMTP_PARSE_OK)
		return err;
	if (len == 0)
		return SMTP_PARSE_ERR_EMPTY;
	cur = str_make(line, len);
	for (i = 0; i < cur.len && cur.p[i] != ' '; i++)
		if (!ascii_isalpha(cur.p[i]))
			return SMTP_PARSE_ERR_SYNTAX;
	if (i == 0)
		return SMTP_PARSE_ERR_SYNTAX;
	cmd->name = str_make(cur.p, i);
	cmd->args = str_sub(cur, i < cur.len ? i + 1 : i, cur.len);
	cmd->verb = SMTP_VERB_UNKNOWN;
	for (v = 1; v < SMTP_VERB_COUNT; v++)
		if (str_caseeq_cstr(cmd->name, smtp_verbs[v]))
			cmd->verb = (enum smtp_verb)v;
	return SMTP_PARSE_OK;
}

static bool
smtp_keyword_char(char c, bool first)
{
	return ascii_isalnum(c) || (!first && c == '-');
}

static bool
smtp_value_char(unsigned char c, bool allow_utf8)
{
	return (c >= 33 && c <= 126 && c != '=') || (allow_utf8 && c >= 0x80);
}

/* Parses one "KEY[=VALUE]" word. */
static int
smtp_parse_param(struct str word, struct smtp_param *p, bool allow_utf8)
{
	long eq = str_chr(word, '=');
	size_t klen = eq < 0 ? word.len : (size_t)eq, i;

	if (klen == 0)
		return -1;
	for (i = 0; i < klen; i++)
		if (!smtp_keyword_char(word.p[i], i == 0))
			return -1;
	p->key = str_make(word.p, klen);
	p->value = STR_NULL;
	if (eq < 0)
		return 0;
	p->value = str_sub(word, klen + 1, word.len);
	if (p->value.len == 0)
		return -1;
	for (i = 0; i < p->value.len; i++)
		if (!smtp_value_char((unsigned char)p->value.p[i], allow_utf8))
			return -1;
	return 0;
}

int
smtp_parse_params(struct str s, struct smtp_param *params, size_t max,
    size_t *count_r, bool allow_utf8)
{
	struct str word;
	size_t n = 0;

	*count_r = 0;
	for (;;) {
		str_skip_ws(&s);
		if (s.len == 0)
			break;
		if (n == max || !str_take_word(&s, &word, s.len) ||
		    smtp_parse_param(word, &params[n], allow_utf8) == -1)
			return -1;
		n++;
	}
	*count_r = n;
	return 0;
}

int
smtp_parse_mail_rcpt(struct str args, const char *keyword, struct str *rest)
{
	if (!str_take_case(&args, keyword) || !str_take_char(&args, ':'))
		return -1;
	str_skip_ws(&args);
	if (args.len == 0 || args.p[0] != '<')
		return -1;
	*rest = args;
	return 0;
}
