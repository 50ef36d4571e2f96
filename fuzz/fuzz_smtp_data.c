/*
 * fuzz_smtp_data.c - libFuzzer harness for smtp_data.c, the end-of-DATA
 * decision that SMTP smuggling attacks target.
 *
 * Input: a 4-byte header, then the bytes sent after DATA (or BDAT).
 *   byte 0, bit 0: BDAT mode; bit 1: call smtp_data_finish() at the end
 *   bytes 1-3: chunk sizes, used in turn: (b % 32) + 1
 * The payload is fed once in one call, once in those chunks and once a
 * byte at a time; all three must agree on output, consumed bytes, flags
 * and end, or the harness aborts. Each call gets an output buffer of
 * exactly inlen + 2 bytes, the documented need, so ASan sees any overrun.
 * Independently of the machine, it also checks where the message must end
 * (at the first <CRLF>.<CRLF>, or a first line of ".") and that BDAT
 * passes bytes through untouched (but a CRLF that BDAT LAST adds to an
 * unended last line).
 *
 * The client's side, smtp_data_stuff(): the payload, stuffed in the
 * chunks above and ended as the SMTP client ends it, must read back
 * through the machine to its very end, never earlier (our client cannot
 * be made to smuggle), and, for CRLF-only text, as the same bytes.
 */
#include "core/common.h"

#include "smtp/smtp_data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HEADER 4

struct run {
	char		*out;
	size_t		 outlen;
	size_t		 consumed;
	unsigned	 flags;
	bool		 done;
};

static void
run_feed(enum smtp_data_mode mode, bool finish, const char *in, size_t len,
    const uint8_t *sizes, size_t nsizes, struct run *r)
{
	struct smtp_data d;
	size_t pos = 0, k = 0;

	r->out = xmalloc(len + 2);
	r->outlen = 0;
	smtp_data_init(&d, mode);
	while (pos < len && !d.done) {
		size_t chunk = nsizes ? (size_t)(sizes[k++ % nsizes] % 32) + 1 :
		    len - pos, used, outn = 0;
		char *tmp;

		chunk = MIN(chunk, len - pos);
		tmp = xmalloc(chunk + 2);
		used = smtp_data_feed(&d, in + pos, chunk, tmp, &outn);
		if (used > chunk || outn > chunk + 2 ||
		    (used < chunk && !d.done) ||
		    r->outlen + outn > len + 2)
			abort();
		memcpy(r->out + r->outlen, tmp, outn);
		r->outlen += outn;
		pos += used;
		free(tmp);
		if (used < chunk)
			break;
	}
	if (finish && !d.done) {
		char last[2];
		size_t n = smtp_data_finish(&d, last);

		if (n > 2)
			abort();
		memcpy(r->out + r->outlen, last, n);
		r->outlen += n;
	}
	r->consumed = pos;
	r->flags = d.flags;
	r->done = d.done;
}

static void
same(const struct run *a, const struct run *b)
{
	if (a->outlen != b->outlen || memcmp(a->out, b->out, a->outlen) != 0 ||
	    a->consumed != b->consumed || a->flags != b->flags ||
	    a->done != b->done)
		abort();
}

/* True when BDAT LAST must end the input's last line with a CRLF. */
static bool
bdat_unended(const char *in, size_t len)
{
	return len > 0 && in[len - 1] != '\r' && !(len >= 2 &&
	    in[len - 2] == '\r' && in[len - 1] == '\n');
}

/* Where <CRLF>.<CRLF> first ends the message, or 0 if it does not. */
static size_t
expected_end(const char *in, size_t len)
{
	const char *p;

	if (len >= 3 && memcmp(in, ".\r\n", 3) == 0)
		return 3;
	p = memmem(in, len, "\r\n.\r\n", 5);
	return p ? (size_t)(p - in) + 5 : 0;
}

static void
stuff_round_trip(const char *in, size_t len, const uint8_t *sizes)
{
	char *wire = xmalloc(2 * len + 5), *back = xmalloc(2 * len + 7);
	size_t pos = 0, k = 0, n = 0, used, outn;
	struct smtp_data d;
	struct smtp_stuff st;
	const char *end;

	smtp_stuff_init(&st);
	while (pos < len) {
		size_t chunk = (size_t)(sizes[k++ % 3] % 32) + 1, w;
		char *tmp;

		chunk = MIN(chunk, len - pos);	/* MIN evaluates twice */
		tmp = xmalloc(2 * chunk);
		w = smtp_data_stuff(&st, in + pos, chunk, tmp);
		if (w < chunk || w > 2 * chunk)
			abort();
		memcpy(wire + n, tmp, w);
		free(tmp);
		n += w;
		pos += chunk;
	}
	/* As mta_body_pump() ends it. */
	end = smtp_data_stuff_end(&st);
	memcpy(wire + n, end, strlen(end));
	n += strlen(end);
	smtp_data_init(&d, SMTP_DATA_MODE_DATA);
	used = smtp_data_feed(&d, wire, n, back, &outn);
	if (!d.done || used != n)
		abort();
	if (!(d.flags & (SMTP_DATA_BARE_CR | SMTP_DATA_BARE_LF)) &&
	    (outn != len + (strlen(end) == 3 ? 0 : 2) ||
	    memcmp(back, in, len) != 0))
		abort();
	free(wire);
	free(back);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t one[] = { 0 };
	enum smtp_data_mode mode;
	struct run whole, chunks, bytes;
	const char *in;
	size_t len, end;
	bool finish;

	if (size < HEADER)
		return 0;
	mode = data[0] & 1 ? SMTP_DATA_MODE_BDAT : SMTP_DATA_MODE_DATA;
	finish = (data[0] & 2) != 0;
	in = (const char *)data + HEADER;
	len = size - HEADER;

	run_feed(mode, finish, in, len, NULL, 0, &whole);
	run_feed(mode, finish, in, len, data + 1, 3, &chunks);
	run_feed(mode, finish, in, len, one, 1, &bytes);
	same(&whole, &chunks);
	same(&whole, &bytes);
	stuff_round_trip(in, len, data + 1);

	if (mode == SMTP_DATA_MODE_BDAT) {
		/*
		 * No dot processing, no end: bytes pass through unchanged,
		 * and finish ends a last line that has no CRLF (but a CR).
		 */
		if (whole.done || whole.consumed != len)
			abort();
		if (finish && (whole.outlen != len + 2 * bdat_unended(in,
		    len) || memcmp(whole.out, in, len) != 0 ||
		    memcmp(whole.out + len, "\r\n", whole.outlen - len) != 0))
			abort();
		/* Without finish, only a final CR may be held back. */
		if (!finish && (whole.outlen != len - (len && in[len - 1] ==
		    '\r') || memcmp(whole.out, in, whole.outlen) != 0))
			abort();
	} else {
		end = expected_end(in, len);
		if (whole.done != (end != 0))
			abort();
		if (whole.consumed != (end ? end : len))
			abort();
		if (whole.outlen > whole.consumed)
			abort();
	}
	free(whole.out);
	free(chunks.out);
	free(bytes.out);
	return 0;
}
