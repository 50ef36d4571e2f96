/*
 * test_mime_hdr.c - the header-field iterator and mime_addr_list().
 *
 * hdr_cases: a message head and what the iterator returns, rendered as
 * "Name[value]" per field (CR and LF shown as \r and \n), then "=0" at the
 * end of the section or "=-1" on a malformed line, then "/N", the
 * header_len at that point. addr_list_cases: a From:/To: value and the
 * addresses it gives ("local@domain" joined by ","), or -1.
 */
#include "core/common.h"

#include "core/buf.h"
#include "mime/mime_hdr.h"
#include "unit/unit.h"

/* Appends s with CR and LF made visible. */
static void
hdr_render_str(struct buf *out, struct str s)
{
	size_t i;
	int r = 0;

	for (i = 0; i < s.len; i++)
		if (s.p[i] == '\r')
			r |= buf_adds(out, "\\r");
		else if (s.p[i] == '\n')
			r |= buf_adds(out, "\\n");
		else
			r |= buf_addc(out, s.p[i]);
	CHECKF(r == 0, "render buffer full");
}

/* Runs the iterator over the whole input and renders what it returned. */
static void
hdr_render(const char *in, size_t len, struct buf *out)
{
	struct mime_hdr_iter it;
	struct str name, value;
	size_t guard = 0;
	int r;

	mime_hdr_iter_init(&it, in, len);
	while ((r = mime_hdr_next(&it, &name, &value)) == 1) {
		if (guard++ > len) {
			CHECKF(false, "mime_hdr_next makes no progress");
			return;
		}
		CHECKF(name.p >= in && name.p + name.len <= in + len &&
		    value.p >= in && value.p + value.len <= in + len,
		    "field outside the input");
		hdr_render_str(out, name);
		CHECK_EQ_INT(buf_addc(out, '['), 0);
		hdr_render_str(out, value);
		CHECK_EQ_INT(buf_addc(out, ']'), 0);
	}
	CHECK_EQ_INT(buf_addf(out, "=%d/%zu", r, it.header_len), 0);
}

static const struct {
	const char	*in;
	const char	*want;
} hdr_cases[] = {
	{ "", "=0/0" },
	/* CRLF and LF line ends; the blank line ends the section. */
	{ "Subject: hi\r\nFrom: a@b.test\r\n\r\nbody: no\r\n",
	    "Subject[ hi\\r\\n]From[ a@b.test\\r\\n]=0/29" },
	{ "Subject: hi\nFrom: a@b.test\n\nbody: no\n",
	    "Subject[ hi\\n]From[ a@b.test\\n]=0/27" },
	{ "A: 1\r\nB: 2\n\r\nC: 3\r\n", "A[ 1\\r\\n]B[ 2\\n]=0/11" },
	{ "\r\nA: b\r\n", "=0/0" },
	{ "\nA: b\n", "=0/0" },
	/* The end of the input ends the section too, line end or not. */
	{ "A: b\r\n", "A[ b\\r\\n]=0/6" },
	{ "A: b", "A[ b]=0/4" },
	{ "A:", "A[]=0/2" },
	{ "A:\r\n\r\n", "A[\\r\\n]=0/4" },
	/* Folded fields: continuation lines start with a space or a tab. */
	{ "Subject: a\r\n b\r\n\tc\r\nTo: x\r\n\r\n",
	    "Subject[ a\\r\\n b\\r\\n\tc\\r\\n]To[ x\\r\\n]=0/27" },
	{ "Subject: a\n b\nTo: x\n\n", "Subject[ a\\n b\\n]To[ x\\n]=0/20" },
	{ "A: b\r\n \r\nC: d\r\n\r\n", "A[ b\\r\\n \\r\\n]C[ d\\r\\n]=0/15" },
	{ "A: b\r\n c", "A[ b\\r\\n c]=0/8" },
	{ "A:\r\n  b\r\n", "A[\\r\\n  b\\r\\n]=0/9" },
	/* Field names: every ftext octet, nothing else. */
	{ "X-!#$%&'*+-.^_`|~9/@<>[]: v\n",
	    "X-!#$%&'*+-.^_`|~9/@<>[][ v\\n]=0/28" },
	{ "Name:value\n", "Name[value\\n]=0/11" },
	{ "A: b: c\n", "A[ b: c\\n]=0/8" },
	/* Malformed lines stop the walk with -1. */
	{ "A: b\r\nnot a header\r\n\r\n", "A[ b\\r\\n]=-1/6" },
	{ "A b: c\r\n", "=-1/0" },
	{ "A : b\r\n", "=-1/0" },
	{ ": value\r\n", "=-1/0" },
	{ " continued: first\r\n", "=-1/0" },
	{ "\tA: b\r\n", "=-1/0" },
	{ "NoColon\r\n", "=-1/0" },
	{ "NoColon", "=-1/0" },
	{ "A\x7f: b\n", "=-1/0" },
	{ "A\x80: b\n", "=-1/0" },
	{ "\xc3\xa9: b\n", "=-1/0" },
	{ "A\x01: b\n", "=-1/0" },
	{ "\r", "=-1/0" },
	{ "\rA: b\n", "=-1/0" },
	{ "A: b\n\r", "A[ b\\n]=-1/5" },
	{ "A: b\n\rx\n\n", "A[ b\\n]=-1/5" },
	/* A bare CR is not a line end: it stays in the value. */
	{ "A: b\rC: d\r\n\r\n", "A[ b\\rC: d\\r\\n]=0/11" },
};

TEST(mime_hdr_iter_table)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(hdr_cases); i++) {
		struct buf out;

		buf_init(&out, 4096);
		hdr_render(hdr_cases[i].in, strlen(hdr_cases[i].in), &out);
		CHECKF(strcmp(buf_cstr(&out), hdr_cases[i].want) == 0,
		    "case %zu: got \"%s\", want \"%s\"", i, buf_cstr(&out),
		    hdr_cases[i].want);
		buf_release(&out);
	}
}

/* A NUL is not ftext; in a value, it is the caller's business. */
TEST(mime_hdr_iter_nul)
{
	static const char in1[] = "A\0: b\n";
	static const char in2[] = "A: b\0c\nD: e\n\n";
	struct buf out;

	buf_init(&out, 4096);
	hdr_render(in1, sizeof(in1) - 1, &out);
	CHECK_EQ_STR(buf_cstr(&out), "=-1/0");
	buf_reset(&out);
	hdr_render(in2, sizeof(in2) - 1, &out);
	CHECK_EQ_MEM(buf_data(&out), buf_len(&out),
	    "A[ b\0c\\n]D[ e\\n]=0/12", 21);
	buf_release(&out);
}

/* Once the section has ended (or failed), the iterator stays ended. */
TEST(mime_hdr_iter_stays_done)
{
	static const char *const ins[] = {
		"A: b\r\n\r\nC: d\r\n", "A: b\r\nbad\r\nC: d\r\n", "",
		"A: b",
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(ins); i++) {
		struct mime_hdr_iter it;
		struct str name, value;
		int r, k;

		mime_hdr_iter_init(&it, ins[i], strlen(ins[i]));
		while ((r = mime_hdr_next(&it, &name, &value)) == 1)
			;
		for (k = 0; k < 3; k++)
			CHECKF(mime_hdr_next(&it, &name, &value) == 0,
			    "case %zu: call %d after the end is not 0", i, k);
	}
}

/* The header section of a realistic message, then the From: value. */
TEST(mime_hdr_find_from)
{
	static const char msg[] =
	    "Received: from mx.example.test (mx.example.test [192.0.2.1])\r\n"
	    "\tby mail.example.test with ESMTPS id 1234\r\n"
	    "From: \"Alice Example\" <alice@example.test>\r\n"
	    "To: bob@example.test,\r\n"
	    " carol@example.test\r\n"
	    "Subject: =?utf-8?q?caf=C3=A9?=\r\n"
	    "\r\n"
	    "From: body@example.test\r\n";
	struct mime_hdr_iter it;
	struct str name, value, from = STR_NULL, to = STR_NULL;
	struct smtp_addr addrs[4];
	size_t n, fields = 0;
	int r;

	mime_hdr_iter_init(&it, msg, sizeof(msg) - 1);
	while ((r = mime_hdr_next(&it, &name, &value)) == 1) {
		fields++;
		if (str_caseeq_cstr(name, "from"))
			from = value;
		else if (str_caseeq_cstr(name, "to"))
			to = value;
	}
	CHECK_EQ_INT(r, 0);
	CHECK_EQ_INT(fields, 4);
	CHECK_EQ_INT(mime_addr_list(from, addrs, ARRAY_LEN(addrs), &n), 0);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_STR(addrs[0].local, "alice");
	CHECK_EQ_STR(addrs[0].domain, "example.test");
	CHECK_EQ_INT(mime_addr_list(to, addrs, ARRAY_LEN(addrs), &n), 0);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_STR(addrs[0].local, "bob");
	CHECK_EQ_STR(addrs[1].local, "carol");
}

/* ---- mime_addr_list ---- */

#define ADDRS_MAX 8

struct addr_list_case {
	const char	*in;
	size_t		 max;		/* 0: ADDRS_MAX */
	int		 rc;
	const char	*want;		/* on success */
};

static const struct addr_list_case addr_list_cases[] = {
	/* Single mailboxes in every spelling. */
	{ "a@b.test", 0, 0, "a@b.test" },
	{ " a@b.test\r\n", 0, 0, "a@b.test" },
	{ "<a@b.test>", 0, 0, "a@b.test" },
	{ " < a@b.test > ", 0, 0, "a@b.test" },
	{ "Name <a@b.test>", 0, 0, "a@b.test" },
	{ "Two Words <a@b.test>", 0, 0, "a@b.test" },
	{ "\"Quoted, Name\" <a@b.test>", 0, 0, "a@b.test" },
	{ "\"Quoted <not@this.test>\" <a@b.test>", 0, 0, "a@b.test" },
	{ "\"With \\\"escapes\\\" inside\" <a@b.test>", 0, 0, "a@b.test" },
	{ "\"x:y;z\" <a@b.test>", 0, 0, "a@b.test" },
	{ "a@b.test (comment)", 0, 0, "a@b.test" },
	{ "a@b.test (comment (nested))", 0, 0, "a@b.test" },
	{ "a@b.test (with \\) escaped paren)", 0, 0, "a@b.test" },
	{ "(lead) a@b.test", 0, 0, "a@b.test" },
	{ "Name (c) <a@b.test> (d)", 0, 0, "a@b.test" },
	{ "<a@b.test (inside)>", 0, 0, "a@b.test" },
	{ "(a, b: c;) a@b.test", 0, 0, "a@b.test" },
	{ "A@B.TEST", 0, 0, "A@b.test" },	/* domain lowercased only */
	{ "\"a b\"@x.test", 0, 0, "\"a b\"@x.test" },
	{ "\"abc\"@x.test", 0, 0, "abc@x.test" },
	{ "J\xc3\xb6rg <j@b.test>", 0, 0, "j@b.test" },
	{ "j\xc3\xb6@b\xc3\xbc.test", 0, 0, "j\xc3\xb6@b\xc3\xbc.test" },
	{ " Alice\r\n <a@b.test>\r\n", 0, 0, "a@b.test" },
	{ "\tAlice\t<a@b.test>\t", 0, 0, "a@b.test" },

	/*
	 * Lists, with every spelling after a comma too. (A mailbox after a
	 * comma was read with the '<' index of its untrimmed text: "Bob
	 * <bob@x.test>" gave "ob@x.test", so a user ob@ could pass the From:
	 * check with bob@'s address.)
	 */
	{ "a@b.test, c@d.test", 0, 0, "a@b.test,c@d.test" },
	{ "a@b.test,c@d.test", 0, 0, "a@b.test,c@d.test" },
	{ "Alice <alice@x.test>, Bob <bob@x.test>", 0, 0,
	    "alice@x.test,bob@x.test" },
	{ "a@x.test, Bob <bob@x.test>", 0, 0, "a@x.test,bob@x.test" },
	{ "a@x.test,Bob <bob@x.test>", 0, 0, "a@x.test,bob@x.test" },
	{ "a@x.test,\r\n  Bob Example <bob@x.test>", 0, 0,
	    "a@x.test,bob@x.test" },
	{ "a@x.test, \"Bob, Jr\" <bob@x.test>", 0, 0, "a@x.test,bob@x.test" },
	{ "a@x.test, (c) Bob <bob@x.test>", 0, 0, "a@x.test,bob@x.test" },
	{ "a@x.test, <bob@x.test>", 0, 0, "a@x.test,bob@x.test" },
	{ "a@x.test, c@x.test, d@x.test", 0, 0, "a@x.test,c@x.test,d@x.test" },

	/* Groups (RFC 5322 3.4). */
	{ "undisclosed-recipients:;", 0, 0, "" },
	{ "undisclosed-recipients: ;", 0, 0, "" },
	{ "Undisclosed recipients:;", 0, 0, "" },
	{ "grp: a@b.test, c@d.test;", 0, 0, "a@b.test,c@d.test" },
	{ "grp:a@b.test;", 0, 0, "a@b.test" },
	{ "grp: Alice <a@b.test>, Bob <bob@d.test>;", 0, 0,
	    "a@b.test,bob@d.test" },
	{ "\"Quoted: grp\": a@b.test;", 0, 0, "a@b.test" },
	{ "a@b.test, grp: c@d.test;, e@f.test", 0, 0,
	    "a@b.test,c@d.test,e@f.test" },
	{ "g1: a@b.test;, g2: c@d.test;", 0, 0, "a@b.test,c@d.test" },
	{ "g1:;, a@b.test", 0, 0, "a@b.test" },
	{ "grp: a@b.test; (comment)", 0, 0, "a@b.test" },

	/* obs-addr-list / obs-mbox-list: empty elements (RFC 5322 4.4). */
	{ "a@b.test,, c@d.test", 0, 0, "a@b.test,c@d.test" },
	{ ",a@b.test,", 0, 0, "a@b.test" },
	{ " , , a@b.test", 0, 0, "a@b.test" },
	{ "grp: , a@b.test,, ;", 0, 0, "a@b.test" },
	{ "", 0, 0, "" },
	{ " \r\n", 0, 0, "" },
	{ ",", 0, 0, "" },

	/*
	 * A quoted-pair escaping CR or LF (obs-qp, RFC 5322 4.1) is dropped
	 * whole: its '\\' used to stay in the working copy and escape the
	 * closing quote, hiding boss@ in a display name.
	 */
	{ "\"x\\\r\" <boss@b.test>, \"y\\\"z\" <ok@b.test>", 0, 0,
	    "boss@b.test,ok@b.test" },
	{ "\"x\\\n\" <boss@b.test>, \"y\\\"z\" <ok@b.test>", 0, 0,
	    "boss@b.test,ok@b.test" },
	{ "\"x\\\r\" <boss@b.test>", 0, 0, "boss@b.test" },
	{ "\"x\\\r\n y\" <boss@b.test>", 0, 0, "boss@b.test" },
	{ "\"x\\\r\" <\\\">, \"<T@b.test>", 0, -1 },

	/* Unbalanced quotes, comments, brackets. */
	{ "\"unbalanced <a@b.test>", 0, -1 },
	{ "Name\" <a@b.test>", 0, -1 },
	{ "(unbalanced a@b.test", 0, -1 },
	{ "a@b.test (x (y)", 0, -1 },
	{ "a@b.test (x \\)", 0, -1 },
	{ "a@b.test)", 0, -1 },
	{ "Name <a@b.test", 0, -1 },
	{ "Name a@b.test>", 0, -1 },
	{ "Name <<a@b.test>>", 0, -1 },
	{ "\"a@b.test", 0, -1 },
	{ "a@b.test, \"c@d.test", 0, -1 },

	/* More addresses than room. */
	{ "a@b.test, c@d.test", 1, -1 },
	{ "a@b.test, c@d.test", 2, 0, "a@b.test,c@d.test" },
	{ "grp: a@b.test, c@d.test;", 1, -1 },
	{ "a@b.test, grp: c@d.test;", 1, -1 },
	{ "a@b.test", 1, 0, "a@b.test" },
	{ "g:;", 1, 0, "" },

	/* Garbage and what RFC 5322 does not call an address. */
	{ "garbage", 0, -1 },
	{ "two words", 0, -1 },
	{ "@", 0, -1 },
	{ "@@@", 0, -1 },
	{ "<>", 0, -1 },
	{ "Name <>", 0, -1 },
	{ "a@", 0, -1 },
	{ "@b.test", 0, -1 },
	{ "a@b@c.test", 0, -1 },
	{ "a@b.test c@d.test", 0, -1 },
	{ "a@b.test; c@d.test", 0, -1 },
	{ "a@b.test <c@d.test> e", 0, -1 },
	{ "Name <a@b.test> trailing", 0, -1 },
	{ "Name <a@b.test> <c@d.test>", 0, -1 },
	{ "<@route.test:a@b.test>", 0, -1 },
	{ "a@[192.0.2.1]", 0, -1 },
	{ "a@b.test.", 0, -1 },
	{ "a(c)@b.test", 0, -1 },
	{ "grp: a@b.test", 0, -1 },		/* no ';' */
	{ "grp; a@b.test:", 0, -1 },
	{ "g1: g2: a@b.test;;", 0, -1 },
	{ "a@b.test, c", 0, -1 },
	{ "Bob Example", 0, -1 },
	{ "a\x01" "b@c.test", 0, -1 },
};

/* Renders addrs as "local@domain" joined by ",". */
static void
addr_list_render(const struct smtp_addr *addrs, size_t n, struct buf *out)
{
	char text[SMTP_ADDR_TEXT_MAX];
	size_t i;

	for (i = 0; i < n; i++) {
		CHECK_EQ_INT(smtp_addr_format(&addrs[i], text, sizeof(text)),
		    0);
		CHECK_EQ_INT(buf_addf(out, "%s%s", i ? "," : "", text), 0);
	}
}

TEST(mime_addr_list_table)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(addr_list_cases); i++) {
		const struct addr_list_case *c = &addr_list_cases[i];
		struct smtp_addr addrs[ADDRS_MAX];
		size_t n = 999, max = c->max ? c->max : ADDRS_MAX;
		struct buf out;
		int rc;

		rc = mime_addr_list(str_cstr(c->in), addrs, max, &n);
		CHECKF(rc == c->rc, "case %zu \"%s\": got %d, want %d", i,
		    c->in, rc, c->rc);
		CHECKF(n <= max, "case %zu: n %zu > max %zu", i, n, max);
		if (rc != 0 || c->rc != 0)
			continue;
		buf_init(&out, 4096);
		addr_list_render(addrs, n, &out);
		CHECKF(strcmp(buf_cstr(&out), c->want) == 0, "case %zu "
		    "\"%s\": got \"%s\", want \"%s\"", i, c->in,
		    buf_cstr(&out), c->want);
		buf_release(&out);
	}
}

/* Exactly max addresses fit; one more is refused. */
TEST(mime_addr_list_max)
{
	struct smtp_addr addrs[ADDRS_MAX];
	struct buf in;
	size_t i, n;

	buf_init(&in, 4096);
	for (i = 0; i < ADDRS_MAX; i++)
		CHECK_EQ_INT(buf_addf(&in, "%sU%zu <u%zu@x.test>", i ? ", " :
		    "", i, i), 0);
	CHECK_EQ_INT(mime_addr_list(str_make(buf_data(&in), buf_len(&in)),
	    addrs, ADDRS_MAX, &n), 0);
	CHECK_EQ_INT(n, ADDRS_MAX);
	CHECK_EQ_STR(addrs[ADDRS_MAX - 1].local, "u7");
	CHECK_EQ_INT(buf_adds(&in, ", one@too.many"), 0);
	CHECK_EQ_INT(mime_addr_list(str_make(buf_data(&in), buf_len(&in)),
	    addrs, ADDRS_MAX, &n), -1);
	buf_release(&in);
}

/* A value longer than the module's 16 KiB working copy is refused. */
TEST(mime_addr_list_huge_value)
{
	struct smtp_addr addrs[ADDRS_MAX];
	struct buf in;
	size_t n;

	buf_init(&in, BUF_NOCAP);
	CHECK_EQ_INT(buf_adds(&in, "\""), 0);
	while (buf_len(&in) < 20000)
		CHECK_EQ_INT(buf_adds(&in, "display name "), 0);
	CHECK_EQ_INT(buf_adds(&in, "\" <a@b.test>"), 0);
	CHECK_EQ_INT(mime_addr_list(str_make(buf_data(&in), buf_len(&in)),
	    addrs, ADDRS_MAX, &n), -1);
	/* Long comments are dropped while copying: those are fine. */
	buf_reset(&in);
	CHECK_EQ_INT(buf_adds(&in, "a@b.test ("), 0);
	while (buf_len(&in) < 20000)
		CHECK_EQ_INT(buf_adds(&in, "comment "), 0);
	CHECK_EQ_INT(buf_adds(&in, ")"), 0);
	CHECK_EQ_INT(mime_addr_list(str_make(buf_data(&in), buf_len(&in)),
	    addrs, ADDRS_MAX, &n), 0);
	CHECK_EQ_INT(n, 1);
	buf_release(&in);
}

/* The value slice need not be NUL-terminated: only len bytes are read. */
TEST(mime_addr_list_slice)
{
	static const char in[] = "a@b.test, c@d.testXYZ";
	struct smtp_addr addrs[ADDRS_MAX];
	size_t n;

	CHECK_EQ_INT(mime_addr_list(str_make(in, sizeof(in) - 4), addrs,
	    ADDRS_MAX, &n), 0);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_STR(addrs[1].domain, "d.test");
}
