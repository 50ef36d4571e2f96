/*
 * smtp_parse.h - SMTP command lines and ESMTP parameters. Pure functions
 * over bytes: no sockets, no allocation, no logging (fuzz/fuzz_smtp_parse.c).
 *
 * smtp_parse_line() takes one raw line as read from the wire, its LF
 * included, and checks what RFC 5321 2.3.8 demands of it: CRLF at the end
 * and nowhere else, no NUL. Then it splits "VERB[ SP args]" (RFC 5321
 * 4.1.1). The returned args slice points into the line.
 */
#ifndef FACTEUR_SMTP_PARSE_H
#define FACTEUR_SMTP_PARSE_H

#include "core/str.h"

enum smtp_verb {
	SMTP_VERB_UNKNOWN,
	SMTP_VERB_HELO,
	SMTP_VERB_EHLO,
	SMTP_VERB_MAIL,
	SMTP_VERB_RCPT,
	SMTP_VERB_DATA,
	SMTP_VERB_BDAT,
	SMTP_VERB_RSET,
	SMTP_VERB_NOOP,
	SMTP_VERB_QUIT,
	SMTP_VERB_HELP,
	SMTP_VERB_VRFY,
	SMTP_VERB_EXPN,
	SMTP_VERB_STARTTLS,
	SMTP_VERB_AUTH,
	SMTP_VERB_COUNT
};

enum smtp_parse_err {
	SMTP_PARSE_OK,
	SMTP_PARSE_ERR_BARE_LF,		/* line ends in LF without CR */
	SMTP_PARSE_ERR_BARE_CR,		/* CR not followed by LF */
	SMTP_PARSE_ERR_NUL,
	SMTP_PARSE_ERR_EMPTY,
	SMTP_PARSE_ERR_SYNTAX,		/* verb not letters, bad separator */
};

struct smtp_cmd {
	enum smtp_verb	 verb;
	struct str	 name;		/* the verb as sent */
	struct str	 args;		/* after the first space, may be empty */
};

enum smtp_parse_err smtp_parse_line(const char *line, size_t len,
    struct smtp_cmd *cmd);
const char *smtp_verb_name(enum smtp_verb verb);

/* ESMTP parameters: "KEY[=VALUE]" separated by spaces (RFC 5321 4.1.2). */
struct smtp_param {
	struct str	 key;
	struct str	 value;		/* p == NULL when there is no '=' */
};

/*
 * Splits s into at most max params. 0, or -1 on syntax error or too many.
 * RFC 5321 4.1.2: esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-"),
 * esmtp-value = 1*(%d33-60 / %d62-126); RFC 6531 3.3 allows UTF-8 in
 * values when allow_utf8.
 */
int smtp_parse_params(struct str s, struct smtp_param *params, size_t max,
    size_t *count_r, bool allow_utf8);

/*
 * MAIL FROM:<path> / RCPT TO:<path>: checks the keyword and the colon,
 * tolerates spaces after the colon (common, harmless), and returns the
 * rest starting at '<' in *rest. 0 or -1.
 */
int smtp_parse_mail_rcpt(struct str args, const char *keyword,
    struct str *rest);

#endif
