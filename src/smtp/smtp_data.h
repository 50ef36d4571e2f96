/*
 * smtp_data.h - the DATA/BDAT byte state machine. Pure.
 *
 * RFC 5321 4.1.1.4: the message ends with the sequence <CRLF>.<CRLF>, and
 * nothing else: a line of one dot after a bare LF or CR ("<LF>.<LF>",
 * "<CR>.<CR>", "<LF>.<CRLF>"...) is not an end, so an SMTP smuggling
 * attack can never make us see a second message where the next server in
 * the chain sees one. RFC 5321 4.5.2: a leading dot is removed from every
 * other line (dot-unstuffing). DATA starts at the beginning of a line.
 *
 * The machine is fed chunks of any size, one byte or megabytes, and gives
 * the same result (tested against a reference implementation and fuzzed in
 * fuzz/fuzz_smtp_data.c). It writes the unstuffed message to out, which
 * must have room for inlen + 2 bytes (a CR held back from the previous
 * chunk may be released). It never stops early on bad input: it records
 * what it saw in flags, and the session refuses the message once the end
 * has been read, so the rest of a bad message is never taken as commands.
 *
 * In SMTP_DATA_MODE_BDAT (RFC 3030) there is no dot processing and no end
 * marker (the chunk length frames it); lines are still checked, and a
 * last line without CRLF gets one from smtp_data_finish() (RFC 5322 2.1:
 * lines end with CRLF; Postfix adds it too), so what is stored is what a
 * POP3 client is told it will get, and what DATA would have carried.
 */
#ifndef FACTEUR_SMTP_DATA_H
#define FACTEUR_SMTP_DATA_H

#include <stdbool.h>
#include <stddef.h>

#define SMTP_DATA_BARE_LF	0x01
#define SMTP_DATA_BARE_CR	0x02
#define SMTP_DATA_LONG_LINE	0x04	/* > 998 octets before CRLF */
#define SMTP_DATA_NUL		0x08
#define SMTP_DATA_8BIT		0x10	/* some octet >= 0x80 */

enum smtp_data_mode {
	SMTP_DATA_MODE_DATA,
	SMTP_DATA_MODE_BDAT,
};

struct smtp_data {
	enum smtp_data_mode mode;
	int		 state;
	unsigned	 flags;
	size_t		 linelen;	/* octets since the last CRLF */
	bool		 done;		/* DATA: <CRLF>.<CRLF> seen */
};

void smtp_data_init(struct smtp_data *d, enum smtp_data_mode mode);
/*
 * Consumes up to inlen bytes of in (stops right after the end marker) and
 * appends the message bytes to out. Returns the number of bytes consumed;
 * *outlen_r is set to the number written.
 */
size_t smtp_data_feed(struct smtp_data *d, const char *in, size_t inlen,
    char *out, size_t *outlen_r);
/* BDAT LAST: flushes a held-back CR, or ends the last line; 2 bytes. */
size_t smtp_data_finish(struct smtp_data *d, char *out);
/* A static reason for the first problem in flags, or NULL. */
const char *smtp_data_strerror(unsigned flags);
/*
 * The other direction, for the SMTP client (RFC 5321 4.5.2): the message
 * is copied with every dot that begins a line doubled. A line begins
 * after any LF, bare or not, so that no receiver, strict or lenient about
 * bare LFs, can see an end of data inside the message.
 */
struct smtp_stuff {
	bool		 bol;	/* at the start of a line */
	bool		 cr;	/* the last byte was CR */
	bool		 crlf;	/* what was copied is empty or ends with CRLF */
};

void smtp_stuff_init(struct smtp_stuff *s);
/* Copies in to out, which needs room for 2 * inlen bytes; returns the
 * number of bytes written. Chunks of any size give the same result. */
size_t smtp_data_stuff(struct smtp_stuff *s, const char *in, size_t inlen,
    char *out);
/*
 * The end of data to send after the message: ".\r\n" when it ended with
 * CRLF (or was empty), else "\r\n.\r\n" (RFC 5321 4.1.1.4: a message
 * whose last line lacks CRLF, even one ending in a bare LF, must still
 * end with <CRLF>.<CRLF>).
 */
const char *smtp_data_stuff_end(const struct smtp_stuff *s);

#endif
