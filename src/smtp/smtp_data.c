/*
 * smtp_data.c - see smtp_data.h.
 */
#include "core/common.h"

#include "core/limits.h"
#include "smtp/smtp_data.h"

enum {
	ST_BOL,		/* at the beginning of a line (after CRLF) */
	ST_DOT,		/* "." at the beginning of a line */
	ST_DOT_CR,	/* ".\r" at the beginning of a line */
	ST_TEXT,	/* inside a line */
	ST_CR,		/* "\r" inside a line, held back until we see LF */
};

void
smtp_data_init(struct smtp_data *d, enum smtp_data_mode mode)
{
	memset(d, 0, sizeof(*d));
	d->mode = mode;
	d->state = ST_BOL;
}

/* An ordinary octet of text: track flags and line length. */
static void
smtp_data_text(struct smtp_data *d, unsigned char c, char *out, size_t *o)
{
	if (c == '\n')
		d->flags |= SMTP_DATA_BARE_LF;
	else if (c == '\0')
		d->flags |= SMTP_DATA_NUL;
	else if (c >= 0x80)
		d->flags |= SMTP_DATA_8BIT;
	/* RFC 5321 4.5.3.1.6: 1000 octets with CRLF, so 998 of text. */
	if (++d->linelen > SMTP_TEXT_LINE_MAX - 2)
		d->flags |= SMTP_DATA_LONG_LINE;
	out[(*o)++] = (char)c;
	d->state = ST_TEXT;
}

/* The CR held back in ST_CR or ST_DOT_CR turned out to be bare. */
static void
smtp_data_bare_cr(struct smtp_data *d, char *out, size_t *o)
{
	d->flags |= SMTP_DATA_BARE_CR;
	if (++d->linelen > SMTP_TEXT_LINE_MAX - 2)
		d->flags |= SMTP_DATA_LONG_LINE;
	out[(*o)++] = '\r';
	d->state = ST_TEXT;
}

static void
smtp_data_crlf(struct smtp_data *d, char *out, size_t *o)
{
	out[(*o)++] = '\r';
	out[(*o)++] = '\n';
	d->linelen = 0;
	d->state = ST_BOL;
}

/* One input octet; returns false when it ends the message. */
static bool
smtp_data_step(struct smtp_data *d, unsigned char c, char *out, size_t *o)
{
	switch (d->state) {
	case ST_BOL:
		if (c == '.' && d->mode == SMTP_DATA_MODE_DATA) {
			d->state = ST_DOT;	/* RFC 5321 4.5.2 */
			return true;
		}
		/* FALLTHROUGH */
	case ST_TEXT:
		if (c == '\r')
			d->state = ST_CR;
		else
			smtp_data_text(d, c, out, o);
		return true;
	case ST_DOT:
		if (c == '\r')
			d->state = ST_DOT_CR;
		else
			smtp_data_text(d, c, out, o);	/* stuffed dot gone */
		return true;
	case ST_DOT_CR:
		if (c == '\n') {
			d->done = true;		/* <CRLF>.<CRLF> */
			return false;
		}
		smtp_data_bare_cr(d, out, o);
		return smtp_data_step(d, c, out, o);
	case ST_CR:
		if (c == '\n') {
			smtp_data_crlf(d, out, o);
			return true;
		}
		smtp_data_bare_cr(d, out, o);
		return smtp_data_step(d, c, out, o);
	}
	return true;
}

size_t
smtp_data_feed(struct smtp_data *d, const char *in, size_t inlen, char *out,
    size_t *outlen_r)
{
	size_t i, o = 0;

	for (i = 0; i < inlen && !d->done; i++) {
		if (!smtp_data_step(d, (unsigned char)in[i], out, &o)) {
			i++;
			break;
		}
	}
	*outlen_r = o;
	return i;
}

size_t
smtp_data_finish(struct smtp_data *d, char *out)
{
	size_t o = 0;

	if (d->state == ST_CR)
		smtp_data_bare_cr(d, out, &o);
	else if (d->state == ST_TEXT && d->mode == SMTP_DATA_MODE_BDAT)
		smtp_data_crlf(d, out, &o);	/* the last line ends */
	return o;
}

const char *
smtp_data_strerror(unsigned flags)
{
	if (flags & SMTP_DATA_NUL)
		return "message contains a NUL octet";
	if (flags & (SMTP_DATA_BARE_LF | SMTP_DATA_BARE_CR))
		return "message contains a bare CR or LF; lines must end "
		    "with CRLF (RFC 5321 2.3.8)";
	if (flags & SMTP_DATA_LONG_LINE)
		return "message has a line longer than 998 characters "
		    "(RFC 5322 2.1.1)";
	return NULL;
}

/*
 * RFC 5321 4.5.2, the sender's side of transparency: a dot that begins a
 * line is doubled. Whole lines are copied with memchr/memcpy, not a byte
 * at a time (this runs for every byte the SMTP client sends).
 */
void
smtp_stuff_init(struct smtp_stuff *s)
{
	s->bol = true;
	s->cr = false;
	s->crlf = true;
}

size_t
smtp_data_stuff(struct smtp_stuff *s, const char *in, size_t inlen,
    char *out)
{
	const char *p = in, *end = in + inlen, *nl;
	char *o = out;
	size_t n;

	if (inlen == 0)
		return 0;
	while (p < end) {
		if (s->bol && *p == '.')
			*o++ = '.';
		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl != NULL ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		memcpy(o, p, n);
		o += n;
		p += n;
		s->bol = nl != NULL;
	}
	s->crlf = in[inlen - 1] == '\n' &&
	    (inlen >= 2 ? in[inlen - 2] == '\r' : s->cr);
	s->cr = in[inlen - 1] == '\r';
	return (size_t)(o - out);
}

const char *
smtp_data_stuff_end(const struct smtp_stuff *s)
{
	return s->crlf ? ".\r\n" : "\r\n.\r\n";
}
