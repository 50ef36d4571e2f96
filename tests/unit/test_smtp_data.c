/*
 * test_smtp_data.c - the DATA/BDAT state machine.
 *
 * Three ways to get the same answer must agree on random input: the
 * machine fed all at once, the machine fed in chunks (one byte at a time
 * and random splits), and ref_data() below, a deliberately simple
 * reference that looks at the whole input at once. The smuggling cases
 * from RFC 5321 4.1.1.4 and the 2023 SMTP smuggling reports are spelled
 * out one by one.
 */
#include "core/common.h"

#include "core/limits.h"
#include "smtp/smtp_data.h"
#include "unit/unit.h"

/* What one run over an input produced. */
struct data_result {
	char		*out;
	size_t		 outlen;
	size_t		 consumed;
	unsigned	 flags;
	bool		 done;
};

static void
result_free(struct data_result *r)
{
	XFREE(&r->out);
}

/* ---- The reference: whole input at once, obviously correct ---- */

/* Appends one line's content (CRLF not included), after unstuffing. */
static void
ref_emit(struct data_result *r, const char *p, size_t n, bool unstuff)
{
	size_t i;

	if (unstuff && n > 0 && p[0] == '.') {
		p++;
		n--;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '\r')
			r->flags |= SMTP_DATA_BARE_CR;	/* bare */
		else if (c == '\n')
			r->flags |= SMTP_DATA_BARE_LF;	/* bare */
		else if (c == '\0')
			r->flags |= SMTP_DATA_NUL;
		else if (c >= 0x80)
			r->flags |= SMTP_DATA_8BIT;
	}
	if (n > SMTP_TEXT_LINE_MAX - 2)
		r->flags |= SMTP_DATA_LONG_LINE;
	memcpy(r->out + r->outlen, p, n);
	r->outlen += n;
}

/*
 * Splits the input at each CRLF, left to right. In DATA mode the first
 * line that is exactly "." ends the message (it is either the first line
 * or follows a CRLF, so this is <CRLF>.<CRLF>); every other line loses
 * one leading dot. What follows the last CRLF is an unfinished line: it is
 * emitted too, except a final CR, which might still become a CRLF.
 * finish: BDAT LAST, the final CR is emitted as well.
 */
static void
ref_data(enum smtp_data_mode mode, const char *in, size_t len, bool finish,
    struct data_result *r)
{
	bool dot = mode == SMTP_DATA_MODE_DATA;
	size_t pos = 0, e;

	memset(r, 0, sizeof(*r));
	r->out = xmalloc(len + 2);
	for (;;) {
		for (e = pos; e + 1 < len; e++)
			if (in[e] == '\r' && in[e + 1] == '\n')
				break;
		if (e + 1 >= len)
			break;			/* no CRLF after pos */
		if (dot && e - pos == 1 && in[pos] == '.') {
			r->done = true;
			r->consumed = e + 2;
			return;
		}
		ref_emit(r, in + pos, e - pos, dot);
		memcpy(r->out + r->outlen, "\r\n", 2);
		r->outlen += 2;
		pos = e + 2;
	}
	r->consumed = len;
	e = len;
	if (!finish && e > pos && in[e - 1] == '\r')
		e--;				/* held back */
	ref_emit(r, in + pos, e - pos, dot);
	if (finish && !dot && e > pos && in[e - 1] != '\r') {
		memcpy(r->out + r->outlen, "\r\n", 2);	/* line ended */
		r->outlen += 2;
	}
}

/* ---- The machine, fed in chunks ---- */

/* Tiny deterministic PRNG (xorshift64*), seeded per test. */
static uint64_t rng_state;

static uint64_t
rng_next(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

static size_t
rng_below(size_t n)
{
	return n ? (size_t)(rng_next() % n) : 0;
}

enum split { SPLIT_ONESHOT, SPLIT_BYTES, SPLIT_RANDOM };

/*
 * Feeds in to a fresh machine in chunks chosen by how; each call gets its
 * own output buffer of exactly chunk + 2 bytes, the documented need (so
 * ASan in `make SANITIZE=1` catches any overrun). Stops feeding once the
 * machine says the message ended, as the session does.
 */
static void
machine_run(enum smtp_data_mode mode, const char *in, size_t len,
    enum split how, bool finish, struct data_result *r)
{
	struct smtp_data d;
	size_t pos = 0;

	memset(r, 0, sizeof(*r));
	r->out = xmalloc(len + 2);
	smtp_data_init(&d, mode);
	while (pos < len && !d.done) {
		size_t chunk = len - pos, used, outn = 0;
		char *tmp;

		if (how == SPLIT_BYTES)
			chunk = 1;
		else if (how == SPLIT_RANDOM)
			chunk = 1 + rng_below(rng_below(4) == 0 ? 3 :
			    MIN(len - pos, (size_t)64));
		chunk = MIN(chunk, len - pos);
		tmp = xmalloc(chunk + 2);
		used = smtp_data_feed(&d, in + pos, chunk, tmp, &outn);
		CHECKF(used <= chunk, "consumed %zu of a %zu chunk", used,
		    chunk);
		CHECKF(outn <= chunk + 2, "wrote %zu for a %zu chunk", outn,
		    chunk);
		CHECKF(used == chunk || d.done, "stopped early without end");
		if (r->outlen + outn > len + 2) {
			CHECKF(false, "output longer than input");
			free(tmp);
			break;
		}
		memcpy(r->out + r->outlen, tmp, outn);
		r->outlen += outn;
		pos += used;
		free(tmp);
		if (used < chunk)
			break;
	}
	if (finish && !d.done) {
		char tail[2];
		size_t n = smtp_data_finish(&d, tail);

		CHECKF(n <= 2, "finish wrote %zu", n);
		memcpy(r->out + r->outlen, tail, n);
		r->outlen += n;
	}
	if (d.done) {
		size_t outn = 99;
		char tmp[4];

		/* After the end, nothing more is consumed. */
		CHECKF(smtp_data_feed(&d, "x\r\n", 3, tmp, &outn) == 0 &&
		    outn == 0, "feeding after the end consumed input");
	}
	r->consumed = pos;
	r->flags = d.flags;
	r->done = d.done;
}

/* Prints bytes with escapes for failure messages. */
static const char *
show(const char *p, size_t n)
{
	static char bufs[2][512];
	static int which;
	char *b = bufs[which++ & 1];
	size_t i, o = 0;

	for (i = 0; i < n && o + 8 < sizeof(bufs[0]); i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '\r')
			o += (size_t)snprintf(b + o, 8, "\\r");
		else if (c == '\n')
			o += (size_t)snprintf(b + o, 8, "\\n");
		else if (c < 0x20 || c >= 0x7f)
			o += (size_t)snprintf(b + o, 8, "\\x%02x", c);
		else
			b[o++] = (char)c;
	}
	if (i < n)
		o += (size_t)snprintf(b + o, 8, "...");
	b[o] = '\0';
	return b;
}

/* True when a and b agree; reports the first difference as a failure. */
static bool
result_same(const struct data_result *a, const struct data_result *b,
    const char *what, const char *in, size_t len)
{
	if (a->outlen == b->outlen && memcmp(a->out, b->out, a->outlen) == 0 &&
	    a->consumed == b->consumed && a->flags == b->flags &&
	    a->done == b->done)
		return true;
	CHECKF(false, "%s differ on input \"%s\" (%zu bytes):\n"
	    "    out \"%s\" vs \"%s\"\n    consumed %zu vs %zu, flags 0x%x vs "
	    "0x%x, done %d vs %d", what, show(in, len), len,
	    show(a->out, a->outlen), show(b->out, b->outlen), a->consumed,
	    b->consumed, a->flags, b->flags, a->done, b->done);
	return false;
}

/* Runs all three ways (plus two random splits) and compares them. */
static bool
check_all_ways(enum smtp_data_mode mode, const char *in, size_t len,
    bool finish)
{
	struct data_result ref, one, bytes, rnd1, rnd2;
	bool ok;

	ref_data(mode, in, len, finish, &ref);
	machine_run(mode, in, len, SPLIT_ONESHOT, finish, &one);
	machine_run(mode, in, len, SPLIT_BYTES, finish, &bytes);
	machine_run(mode, in, len, SPLIT_RANDOM, finish, &rnd1);
	machine_run(mode, in, len, SPLIT_RANDOM, finish, &rnd2);
	ok = result_same(&one, &ref, "one-shot and reference", in, len) &&
	    result_same(&bytes, &one, "byte-at-a-time and one-shot", in,
	    len) &&
	    result_same(&rnd1, &one, "random split and one-shot", in, len) &&
	    result_same(&rnd2, &one, "random split and one-shot", in, len);
	result_free(&ref);
	result_free(&one);
	result_free(&bytes);
	result_free(&rnd1);
	result_free(&rnd2);
	return ok;
}

/* ---- Spelled-out cases ---- */

#define IN(s) s, sizeof(s) - 1

static const struct {
	const char	*in;
	size_t		 len;
	bool		 done;
	const char	*out;		/* message as stored */
	size_t		 outlen;
	size_t		 consumed;
	unsigned	 flags;
	const char	*what;
} data_cases[] = {
	{ IN("Subject: x\r\n\r\nbody\r\n.\r\n"), true,
	    IN("Subject: x\r\n\r\nbody\r\n"), 23, 0, "plain message" },
	{ IN(".\r\n"), true, IN(""), 3, 0, "empty message" },
	{ IN("\r\n.\r\n"), true, IN("\r\n"), 5, 0, "one empty line" },
	{ IN("a\r\n.\r\nMAIL FROM:<x@y.test>\r\n"), true, IN("a\r\n"), 6, 0,
	    "stops right after the end; the rest is commands" },
	{ IN("..x\r\n.\r\n"), true, IN(".x\r\n"), 8, 0, "unstuff ..x" },
	{ IN("a\r\n..\r\n.\r\n"), true, IN("a\r\n.\r\n"), 10, 0,
	    "a stuffed lone dot is a line of one dot" },
	{ IN("a\r\n...\r\n.\r\n"), true, IN("a\r\n..\r\n"), 11, 0,
	    "only one dot is removed" },
	{ IN(".x\r\n.\r\n"), true, IN("x\r\n"), 7, 0,
	    "a lone leading dot is dropped too (RFC 5321 4.5.2)" },
	{ IN("a.\r\n.b\r\n.\r\n"), true, IN("a.\r\nb\r\n"), 11, 0,
	    "dots elsewhere stay" },
	{ IN(".\r\n.\r\n"), true, IN(""), 3, 0, "end at the very start" },
	/* SMTP smuggling: none of these end the message. */
	{ IN("a\n.\nb\r\n.\r\n"), true, IN("a\n.\nb\r\n"), 10,
	    SMTP_DATA_BARE_LF, "<LF>.<LF>" },
	{ IN("a\r.\rb\r\n.\r\n"), true, IN("a\r.\rb\r\n"), 10,
	    SMTP_DATA_BARE_CR, "<CR>.<CR>" },
	{ IN("a\n.\r\nb\r\n.\r\n"), true, IN("a\n.\r\nb\r\n"), 11,
	    SMTP_DATA_BARE_LF, "<LF>.<CRLF>" },
	{ IN("a\r\n.\nb\r\n.\r\n"), true, IN("a\r\n\nb\r\n"), 11,
	    SMTP_DATA_BARE_LF, "<CRLF>.<LF> (dot unstuffed, LF bare)" },
	{ IN("a\r.\r\nb\r\n.\r\n"), true, IN("a\r.\r\nb\r\n"), 11,
	    SMTP_DATA_BARE_CR, "<CR>.<CRLF>" },
	{ IN("a\r\n.\rb\r\n.\r\n"), true, IN("a\r\n\rb\r\n"), 11,
	    SMTP_DATA_BARE_CR, "<CRLF>.<CR>" },
	{ IN("a\r\r\n.\r\n"), true, IN("a\r\r\n"), 7, SMTP_DATA_BARE_CR,
	    "<CR><CRLF>.<CRLF> still ends: the last CRLF is real" },
	{ IN("a\n\r\n.\r\n"), true, IN("a\n\r\n"), 7, SMTP_DATA_BARE_LF,
	    "<LF><CRLF>.<CRLF> ends" },
	{ IN("a\n.\n"), false, IN("a\n.\n"), 4, SMTP_DATA_BARE_LF,
	    "<LF>.<LF> alone: still waiting" },
	{ IN("a\r.\r"), false, IN("a\r."), 4, SMTP_DATA_BARE_CR,
	    "<CR>.<CR> alone: last CR held" },
	{ IN(".\n"), false, IN("\n"), 2, SMTP_DATA_BARE_LF,
	    ".<LF> at the start" },
	{ IN(".\r"), false, IN(""), 2, 0, ".<CR> at the start: held" },
	{ IN("a\r\n."), false, IN("a\r\n"), 4, 0, "dot held" },
	{ IN("a\r\n.\r"), false, IN("a\r\n"), 5, 0, "dot-CR held" },
	{ IN("a\r"), false, IN("a"), 2, 0, "CR held" },
	{ IN("\r\r\r"), false, IN("\r\r"), 3, SMTP_DATA_BARE_CR,
	    "only the last CR held" },
	{ IN("a\0b\r\n.\r\n"), true, IN("a\0b\r\n"), 8, SMTP_DATA_NUL,
	    "NUL" },
	{ IN("caf\xc3\xa9\r\n.\r\n"), true, IN("caf\xc3\xa9\r\n"), 10,
	    SMTP_DATA_8BIT, "8bit" },
};

TEST(smtp_data_cases)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(data_cases); i++) {
		struct data_result r;

		machine_run(SMTP_DATA_MODE_DATA, data_cases[i].in,
		    data_cases[i].len, SPLIT_ONESHOT, false, &r);
		CHECKF(r.done == data_cases[i].done, "%s: done %d",
		    data_cases[i].what, r.done);
		CHECKF(r.outlen == data_cases[i].outlen &&
		    memcmp(r.out, data_cases[i].out, r.outlen) == 0,
		    "%s: out \"%s\", want \"%s\"", data_cases[i].what,
		    show(r.out, r.outlen), show(data_cases[i].out,
		    data_cases[i].outlen));
		CHECKF(r.consumed == data_cases[i].consumed, "%s: consumed %zu,"
		    " want %zu", data_cases[i].what, r.consumed,
		    data_cases[i].consumed);
		CHECKF(r.flags == data_cases[i].flags, "%s: flags 0x%x, want "
		    "0x%x", data_cases[i].what, r.flags, data_cases[i].flags);
		result_free(&r);
		/* And the same through the reference and every split. */
		check_all_ways(SMTP_DATA_MODE_DATA, data_cases[i].in,
		    data_cases[i].len, false);
	}
}

/* The end marker split at every possible place across two chunks. */
TEST(smtp_data_end_split_everywhere)
{
	static const char msg[] = "line one\r\n..stuffed\r\n\r\n.\r\nQUIT\r\n";
	size_t len = sizeof(msg) - 1, cut;

	for (cut = 0; cut <= len; cut++) {
		struct smtp_data d;
		char out[sizeof(msg) + 4];
		size_t n1 = 0, n2 = 0, c1, c2 = 0;

		smtp_data_init(&d, SMTP_DATA_MODE_DATA);
		c1 = smtp_data_feed(&d, msg, cut, out, &n1);
		if (!d.done)
			c2 = smtp_data_feed(&d, msg + c1, len - c1, out + n1,
			    &n2);
		CHECKF(d.done, "cut %zu: no end", cut);
		CHECKF(c1 + c2 == len - 6, "cut %zu: consumed %zu", cut,
		    c1 + c2);
		CHECK_EQ_MEM(out, n1 + n2, "line one\r\n.stuffed\r\n\r\n", 22);
		CHECK_EQ_INT(d.flags, 0);
	}
}

/* LONG_LINE: 998 octets of text are fine, 999 are not (RFC 5321). */
TEST(smtp_data_long_lines)
{
	static const struct {
		size_t		 text;		/* octets of 'a' */
		const char	*prefix;
		const char	*suffix;	/* before the CRLF */
		unsigned	 flags;
	} cases[] = {
		{ 998, "", "", 0 },
		{ 999, "", "", SMTP_DATA_LONG_LINE },
		{ 997, ".", "", 0 },		/* stuffed dot is free */
		{ 998, ".", "", 0 },
		{ 999, ".", "", SMTP_DATA_LONG_LINE },
		{ 997, "", "\r", SMTP_DATA_BARE_CR },
		/* A bare CR is an octet of the line like any other. */
		{ 998, "", "\r", SMTP_DATA_BARE_CR | SMTP_DATA_LONG_LINE },
		{ 997, "\r", "", SMTP_DATA_BARE_CR },
		{ 998, "\r", "", SMTP_DATA_BARE_CR | SMTP_DATA_LONG_LINE },
		{ 998, "", "\n", SMTP_DATA_BARE_LF | SMTP_DATA_LONG_LINE },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		char in[1100];
		size_t n = 0;
		struct data_result r;

		n += (size_t)snprintf(in, sizeof(in), "x\r\n%s",
		    cases[i].prefix);
		memset(in + n, 'a', cases[i].text);
		n += cases[i].text;
		n += (size_t)snprintf(in + n, sizeof(in) - n, "%s\r\nshort\r\n"
		    ".\r\n", cases[i].suffix);
		machine_run(SMTP_DATA_MODE_DATA, in, n, SPLIT_ONESHOT, false,
		    &r);
		CHECKF(r.flags == cases[i].flags, "case %zu (%zu + \"%s\" + "
		    "\"%s\"): flags 0x%x, want 0x%x", i, cases[i].text,
		    show(cases[i].prefix, strlen(cases[i].prefix)),
		    show(cases[i].suffix, strlen(cases[i].suffix)), r.flags,
		    cases[i].flags);
		CHECK(r.done);
		result_free(&r);
		check_all_ways(SMTP_DATA_MODE_DATA, in, n, false);
	}
}

/*
 * BDAT: no dots, no end; lines are still checked; finish flushes a CR, or
 * ends a last line left without CRLF (a bare CR is refused anyway).
 */
TEST(smtp_data_bdat)
{
	static const struct {
		const char	*in;
		size_t		 len;
		const char	*out;		/* after finish */
		size_t		 outlen;
		unsigned	 flags;
	} cases[] = {
		{ IN("a\r\n.\r\nb\r\n"), IN("a\r\n.\r\nb\r\n"), 0 },
		{ IN(".\r\n"), IN(".\r\n"), 0 },
		{ IN("..x\r\n"), IN("..x\r\n"), 0 },
		{ IN("a\r\nlast"), IN("a\r\nlast\r\n"), 0 },
		{ IN("a\nb"), IN("a\nb\r\n"), SMTP_DATA_BARE_LF },
		{ IN("a\n"), IN("a\n\r\n"), SMTP_DATA_BARE_LF },
		{ IN("a\r"), IN("a\r"), SMTP_DATA_BARE_CR },
		{ IN("a\rb"), IN("a\rb\r\n"), SMTP_DATA_BARE_CR },
		{ IN("\xff\0"), IN("\xff\0\r\n"), SMTP_DATA_8BIT | SMTP_DATA_NUL },
		{ IN(""), IN(""), 0 },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		struct smtp_data d;
		char out[64];
		size_t n = 0, o, c;

		smtp_data_init(&d, SMTP_DATA_MODE_BDAT);
		c = smtp_data_feed(&d, cases[i].in, cases[i].len, out, &n);
		CHECK_EQ_INT(c, cases[i].len);
		o = n;
		o += smtp_data_finish(&d, out + o);
		CHECK(!d.done);
		CHECKF(o == cases[i].outlen && memcmp(out, cases[i].out, o) ==
		    0, "bdat %zu: out \"%s\", want \"%s\"", i, show(out, o),
		    show(cases[i].out, cases[i].outlen));
		CHECKF(d.flags == cases[i].flags, "bdat %zu: flags 0x%x, want "
		    "0x%x", i, d.flags, cases[i].flags);
		check_all_ways(SMTP_DATA_MODE_BDAT, cases[i].in, cases[i].len,
		    true);
		check_all_ways(SMTP_DATA_MODE_BDAT, cases[i].in, cases[i].len,
		    false);
	}
	/* A CRLF split across two BDAT chunks is one CRLF. */
	{
		struct smtp_data d;
		char out[8];
		size_t n1, n2;

		smtp_data_init(&d, SMTP_DATA_MODE_BDAT);
		CHECK_EQ_INT(smtp_data_feed(&d, "a\r", 2, out, &n1), 2);
		CHECK_EQ_INT(smtp_data_feed(&d, "\nb", 2, out + n1, &n2), 2);
		CHECK_EQ_MEM(out, n1 + n2, "a\r\nb", 4);
		CHECK_EQ_INT(d.flags, 0);
	}
}

TEST(smtp_data_strerror)
{
	CHECK(smtp_data_strerror(0) == NULL);
	CHECK(smtp_data_strerror(SMTP_DATA_8BIT) == NULL);
	CHECK(smtp_data_strerror(SMTP_DATA_NUL) != NULL);
	CHECK(smtp_data_strerror(SMTP_DATA_BARE_LF) != NULL);
	CHECK(smtp_data_strerror(SMTP_DATA_BARE_CR) != NULL);
	CHECK(smtp_data_strerror(SMTP_DATA_LONG_LINE) != NULL);
	/* NUL is named first when several problems are present. */
	CHECK(smtp_data_strerror(SMTP_DATA_NUL | SMTP_DATA_BARE_LF) ==
	    smtp_data_strerror(SMTP_DATA_NUL));
}

/* ---- Random inputs ---- */

/* Biased toward the bytes that matter: '.', CR, LF. */
static size_t
random_input(char *buf, size_t max)
{
	static const unsigned char alphabet[] = {
		'.', '.', '.', '\r', '\r', '\r', '\r', '\n', '\n', '\n',
		'a', 'a', 0x80, '\0',
	};
	size_t len = rng_below(max + 1), i = 0;

	while (i < len) {
		/* Sometimes a long run, to reach the line-length limit. */
		if (rng_below(200) == 0) {
			size_t run = MIN(len - i, 990 + rng_below(20));

			memset(buf + i, 'a', run);
			i += run;
		} else if (rng_below(8) == 0 && len - i >= 2) {
			memcpy(buf + i, "\r\n", 2);	/* real line ends */
			i += 2;
		} else if (rng_below(16) == 0 && len - i >= 5) {
			memcpy(buf + i, "\r\n.\r\n", 5);	/* an end */
			i += 5;
		} else {
			buf[i++] = (char)alphabet[rng_below(sizeof(alphabet))];
		}
	}
	return len;
}

TEST(smtp_data_random_vs_reference)
{
	static char buf[3000];
	size_t iter, failures = 0, ended = 0;

	rng_state = 0x9e3779b97f4a7c15ull;
	for (iter = 0; iter < 20000 && failures < 3; iter++) {
		size_t len = random_input(buf, iter % 4 ? 40 : sizeof(buf));

		if (!check_all_ways(SMTP_DATA_MODE_DATA, buf, len, false))
			failures++;
		if (len >= 3 && memmem(buf, len, "\r\n.\r\n", 5) != NULL)
			ended++;
	}
	/* The generator does reach the interesting paths. */
	CHECKF(ended > 2000, "only %zu inputs had an end marker", ended);
}

TEST(smtp_data_random_bdat_vs_reference)
{
	static char buf[3000];
	size_t iter, failures = 0;

	rng_state = 0x2545f4914f6cdd1dull;
	for (iter = 0; iter < 5000 && failures < 3; iter++) {
		size_t len = random_input(buf, iter % 4 ? 40 : sizeof(buf));

		if (!check_all_ways(SMTP_DATA_MODE_BDAT, buf, len, iter & 1))
			failures++;
	}
}

/* Exhaustive: every string up to 7 bytes over { . CR LF a }. */
TEST(smtp_data_exhaustive_short)
{
	static const char alpha[] = { '.', '\r', '\n', 'a' };
	char in[7];
	size_t len, k, code, total;

	rng_state = 42;
	for (len = 0; len <= 7; len++) {
		total = 1;
		for (k = 0; k < len; k++)
			total *= ARRAY_LEN(alpha);
		for (code = 0; code < total; code++) {
			size_t c = code;

			for (k = 0; k < len; k++) {
				in[k] = alpha[c % ARRAY_LEN(alpha)];
				c /= ARRAY_LEN(alpha);
			}
			if (!check_all_ways(SMTP_DATA_MODE_DATA, in, len,
			    false))
				return;
		}
	}
}

/* ---- Dot-stuffing, the client's side ---- */

/* The obvious way: a byte at a time. */
static size_t
ref_stuff(const char *in, size_t n, bool *bol, char *out)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		if (*bol && in[i] == '.')
			out[o++] = '.';
		out[o++] = in[i];
		*bol = in[i] == '\n';
	}
	return o;
}

/* Stuffs in, cut at random, into exact-size buffers (ASan sees overruns). */
static size_t
stuff_split(const char *in, size_t n, char *out, struct smtp_stuff *st)
{
	size_t i = 0, o = 0;

	smtp_stuff_init(st);
	while (i < n) {
		size_t k = 1 + rng_below(n - i);
		char *tmp = xmalloc(2 * k);
		size_t w = smtp_data_stuff(st, in + i, k, tmp);

		memcpy(out + o, tmp, w);
		free(tmp);
		o += w;
		i += k;
	}
	return o;
}

TEST(smtp_data_stuff_cases)
{
	static const struct { const char *in, *out, *end; } cases[] = {
		{ "", "", ".\r\n" },
		{ ".", "..", "\r\n.\r\n" },
		{ "a.b\r\n", "a.b\r\n", ".\r\n" },
		{ ".a\r\n..b\r\nc.\r\n.\r\n", "..a\r\n...b\r\nc.\r\n..\r\n",
		    ".\r\n" },
		/* After a bare LF too: no lenient receiver sees an end. */
		{ "\n.\n.", "\n..\n..", "\r\n.\r\n" },
		{ "a\n", "a\n", "\r\n.\r\n" },
		{ "\r.\r\n", "\r.\r\n", ".\r\n" },	/* CR alone starts nothing */
	};
	struct smtp_stuff st;
	char out[64];
	size_t i, n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		smtp_stuff_init(&st);
		n = smtp_data_stuff(&st, cases[i].in, strlen(cases[i].in), out);
		CHECK_EQ_MEM(out, n, cases[i].out, strlen(cases[i].out));
		CHECK_EQ_STR(smtp_data_stuff_end(&st), cases[i].end);
	}
	/* CRLF split over two chunks, one byte each. */
	smtp_stuff_init(&st);
	n = smtp_data_stuff(&st, "x\r", 2, out);
	CHECK_EQ_STR(smtp_data_stuff_end(&st), "\r\n.\r\n");
	n = smtp_data_stuff(&st, "\n", 1, out);
	CHECK_EQ_STR(smtp_data_stuff_end(&st), ".\r\n");
	n = smtp_data_stuff(&st, ".", 1, out);
	CHECK_EQ_MEM(out, n, "..", 2);
}

/*
 * Random input, cut at random, against the reference; and the round trip:
 * any bytes, stuffed and ended as the client ends them, read back through
 * the server's machine to their very end (never earlier), and CRLF text
 * comes back unchanged.
 */
TEST(smtp_data_stuff_random_and_round_trip)
{
	static char in[3000], want[6000], got[6000], wire[6005], back[6010];
	size_t iter, n, wn, gn, len, bn, used;
	struct smtp_stuff st;
	const char *end;
	bool bol;

	rng_state = 0x5851f42d4c957f2dull;
	for (iter = 0; iter < 5000; iter++) {
		struct smtp_data d;

		len = random_input(in, iter % 4 ? 40 : sizeof(in));
		bol = true;
		wn = ref_stuff(in, len, &bol, want);
		gn = stuff_split(in, len, got, &st);
		CHECK_EQ_MEM(got, gn, want, wn);
		end = smtp_data_stuff_end(&st);
		memcpy(got + gn, end, strlen(end));
		smtp_data_init(&d, SMTP_DATA_MODE_DATA);
		used = smtp_data_feed(&d, got, gn + strlen(end), back, &bn);
		CHECKF(d.done && used == gn + strlen(end),
		    "iteration %zu: the end was not where it was sent", iter);
	}
	for (iter = 0; iter < 5000; iter++) {
		struct smtp_data d;

		for (len = 0, n = rng_below(30); n > 0; n--) {
			size_t k = rng_below(8);

			while (k-- > 0)
				in[len++] = rng_below(3) ? '.' : 'a';
			memcpy(in + len, "\r\n", 2);
			len += 2;
		}
		wn = stuff_split(in, len, wire, &st);
		end = smtp_data_stuff_end(&st);
		CHECK_EQ_STR(end, ".\r\n");
		memcpy(wire + wn, end, 3);
		smtp_data_init(&d, SMTP_DATA_MODE_DATA);
		used = smtp_data_feed(&d, wire, wn + 3, back, &bn);
		CHECK(d.done);
		CHECK_EQ_INT(used, wn + 3);
		CHECK_EQ_MEM(back, bn, in, len);
	}
}
