/*
 * pop3_parse.h - POP3 command lines, message transfer encoding and
 * Maildir file names. Pure functions over bytes: no sockets, no files, no
 * allocation, no logging (fuzz/fuzz_pop3_parse.c, tests/unit).
 *
 * Command lines (RFC 1939 3, RFC 2449 3): "KEYWORD[ SP args]" CRLF.
 * pop3_parse_line() takes one raw line as read from the wire, its LF
 * included, and refuses what SMTP refuses too: a bare LF or CR, a NUL. The
 * length limits (RFC 2449 4) are the session's business (limits.h), as
 * they are known before the line ends.
 *
 * Message transfer (RFC 1939 3 and 7): Maildir files hold LF line ends
 * (delivery turned each CRLF into LF and kept any other CR); on the wire
 * every LF becomes CRLF again, which gives back the exact octets that
 * were received and the ",W=" size delivery computed, a line starting
 * with "." gets a second ".", and ".CRLF" ends the response. struct
 * pop3_xfer does that chunk by chunk, so a message is never held whole in
 * memory, and stops after the headers and n body lines for TOP.
 *
 * Maildir names (https://cr.yp.to/proto/maildir.html): the unique part
 * runs up to the first ',' (Dovecot's ",S=<size>,W=<vsize>" fields) or
 * ':' (":2,<flags>"); it survives the move from new/ to cur/ and every
 * flag change, so it is the POP3 unique-id (RFC 1939 7).
 */
#ifndef FACTEUR_POP3_PARSE_H
#define FACTEUR_POP3_PARSE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/limits.h"
#include "core/str.h"

enum pop3_verb {
	POP3_VERB_UNKNOWN,
	POP3_VERB_USER,
	POP3_VERB_PASS,
	POP3_VERB_QUIT,
	POP3_VERB_STAT,
	POP3_VERB_LIST,
	POP3_VERB_RETR,
	POP3_VERB_DELE,
	POP3_VERB_NOOP,
	POP3_VERB_RSET,
	POP3_VERB_TOP,
	POP3_VERB_UIDL,
	POP3_VERB_CAPA,
	POP3_VERB_STLS,
	POP3_VERB_AUTH,
	POP3_VERB_COUNT
};

enum pop3_parse_err {
	POP3_PARSE_OK,
	POP3_PARSE_ERR_BARE_LF,		/* line ends in LF without CR */
	POP3_PARSE_ERR_BARE_CR,		/* CR not followed by LF */
	POP3_PARSE_ERR_NUL,
	POP3_PARSE_ERR_EMPTY,
	POP3_PARSE_ERR_SYNTAX,		/* keyword not letters */
};

struct pop3_cmd {
	enum pop3_verb	 verb;
	struct str	 name;		/* the keyword as sent */
	struct str	 args;		/* after the first space, may be empty */
};

enum pop3_parse_err pop3_parse_line(const char *line, size_t len,
    struct pop3_cmd *cmd);
const char *pop3_verb_name(enum pop3_verb verb);

/*
 * Splits args at spaces into at most max words (runs of spaces and a
 * trailing space are tolerated). 0, or -1 when there are more than max.
 */
int pop3_parse_args(struct str args, struct str *argv, size_t max,
    size_t *argc_r);
/* Decimal digits only (no sign, no space), at most max. 0 or -1. */
int pop3_parse_number(struct str s, uint64_t max, uint64_t *out);

/* pop3_xfer body limit meaning "the whole message" (RETR). */
#define POP3_XFER_ALL		UINT64_MAX
/* Output room pop3_xfer_chunk() needs for len input octets. */
#define POP3_XFER_OUT_MAX(len)	(2 * (size_t)(len))
/* Output room pop3_xfer_end() needs: CRLF "." CRLF. */
#define POP3_XFER_END_MAX	5

struct pop3_xfer {
	uint64_t	 lines_left;	/* body lines TOP still sends */
	size_t		 line_len;	/* octets of the current line so far */
	bool		 bol;		/* at the start of a line */
	bool		 body;		/* past the empty line after headers */
	bool		 done;		/* TOP: the limit is reached */
};

/* body_lines: POP3_XFER_ALL for RETR, n for "TOP msg n". */
void pop3_xfer_init(struct pop3_xfer *x, uint64_t body_lines);
/*
 * Converts len octets of the file into out (room: POP3_XFER_OUT_MAX(len))
 * and returns how many it wrote. Each LF becomes CRLF and a line starting
 * with '.' gets one more. Once x->done, input is ignored.
 */
size_t pop3_xfer_chunk(struct pop3_xfer *x, const char *in, size_t len,
    char *out);
/* Ends the response: CRLF if the last line had none, then ".CRLF". */
size_t pop3_xfer_end(struct pop3_xfer *x, char *out);
/*
 * The size on the wire (without stuffing, RFC 1939 11) of len octets of
 * a file: one more octet per LF. Chunks add up.
 */
uint64_t pop3_crlf_size(const char *in, size_t len);

/*
 * The unique-id of a Maildir file name: its unique part when that is 1 to
 * POP3_UID_MAX octets in 0x21-0x7E (RFC 1939 7), else a printable prefix
 * of it, '-' and a 64-bit hash of it in hex. out holds POP3_UID_MAX + 1
 * octets; returns the length.
 */
size_t pop3_uid_from_name(const char *name, size_t len, char *out);
/* The ",W=<n>" size of a Maildir name (Dovecot's; ours). 0 or -1. */
int pop3_name_vsize(const char *name, size_t len, uint64_t *vsize_r);
/*
 * The name a file from new/ gets in cur/: ":2," appended (no flags yet)
 * unless it already has an info part. 0, or -1 if out is too small.
 */
int pop3_name_for_cur(const char *name, char *out, size_t size);
/*
 * The name with flag (an ASCII letter) added to its ":2," flags, kept
 * sorted as Maildir wants (":2,<flag>" appended to a name without an info
 * part). 1 changed, 0 the flag was there or the info part is not ":2,"
 * (out holds the name unchanged), -1 out too small.
 */
int pop3_name_add_flag(const char *name, char flag, char *out, size_t size);

#endif
