/*
 * mta_reply.h - reading an SMTP server's replies, as a client. Pure.
 *
 * RFC 5321 4.2: a reply is one or more lines "ddd-text" ending with a
 * line "ddd text" (or just "ddd"), every line with the same code. The
 * parser is fed one line at a time (CRLF included or not) and keeps the
 * code, the enhanced status code of the first line (RFC 3463) and a
 * bounded copy of the text. Fuzzed by fuzz/fuzz_mta_reply.c.
 */
#ifndef FACTEUR_MTA_REPLY_H
#define FACTEUR_MTA_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#include "core/str.h"

#define MTA_REPLY_TEXT_MAX 2048
#define MTA_REPLY_LINES_MAX 100

struct mta_reply {
	int	 code;			/* 0 until the first line */
	char	 enh[16];		/* "5.1.1" or "" */
	char	 text[MTA_REPLY_TEXT_MAX];	/* lines joined by '\n' */
	size_t	 textlen;
	unsigned lines;
};

/* EHLO extensions we use (RFC 5321 4.1.1.1). */
#define MTA_EXT_PIPELINING	0x01
#define MTA_EXT_8BITMIME	0x02
#define MTA_EXT_SMTPUTF8	0x04
#define MTA_EXT_STARTTLS	0x08
#define MTA_EXT_SIZE		0x10
#define MTA_EXT_AUTH_PLAIN	0x20
#define MTA_EXT_ENHANCED	0x40

void mta_reply_init(struct mta_reply *r);
/* 1: the reply is complete; 0: more lines follow; -1: malformed. */
int mta_reply_feed(struct mta_reply *r, struct str line);
/* Extensions announced in an EHLO reply; *size_r gets SIZE's value. */
unsigned mta_reply_ehlo_ext(const struct mta_reply *r,
    unsigned long long *size_r);
/* "550 5.1.1 text" on one line, control characters replaced: for logs. */
void mta_reply_summary(const struct mta_reply *r, char *out, size_t size);

#endif
