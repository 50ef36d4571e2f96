/*
 * test_pop3_parse.c - POP3 command lines (CRLF rules, keywords,
 * arguments), the message transfer encoding (LF to CRLF, byte-stuffing,
 * TOP) fed whole, byte by byte and in random splits against a simple
 * reference, and the Maildir name helpers (unique-id, W= size, flags).
 */
#include "core/common.h"

#include "pop3/pop3_parse.h"
#include "unit/unit.h"

/* A line with its length given, so NULs can be part of the table. */
#define LINE(s) s, sizeof(s) - 1

static const struct {
	const char		*line;
	size_t			 len;
	enum pop3_parse_err	 err;
	enum pop3_verb		 verb;
	const char		*name, *args;
} line_cases[] = {
	{ LINE("USER alice@example.test\r\n"), POP3_PARSE_OK, POP3_VERB_USER,
	    "USER", "alice@example.test" },
	{ LINE("user alice\r\n"), POP3_PARSE_OK, POP3_VERB_USER, "user",
	    "alice" },
	{ LINE("PASS pass with spaces \r\n"), POP3_PARSE_OK, POP3_VERB_PASS,
	    "PASS", "pass with spaces " },
	{ LINE("STAT\r\n"), POP3_PARSE_OK, POP3_VERB_STAT, "STAT", "" },
	{ LINE("LIST\r\n"), POP3_PARSE_OK, POP3_VERB_LIST, "LIST", "" },
	{ LINE("LIST 1\r\n"), POP3_PARSE_OK, POP3_VERB_LIST, "LIST", "1" },
	{ LINE("RETR 12\r\n"), POP3_PARSE_OK, POP3_VERB_RETR, "RETR", "12" },
	{ LINE("DELE 3\r\n"), POP3_PARSE_OK, POP3_VERB_DELE, "DELE", "3" },
	{ LINE("noop\r\n"), POP3_PARSE_OK, POP3_VERB_NOOP, "noop", "" },
	{ LINE("RSET\r\n"), POP3_PARSE_OK, POP3_VERB_RSET, "RSET", "" },
	{ LINE("TOP 1 10\r\n"), POP3_PARSE_OK, POP3_VERB_TOP, "TOP", "1 10" },
	{ LINE("UIDL\r\n"), POP3_PARSE_OK, POP3_VERB_UIDL, "UIDL", "" },
	{ LINE("CAPA\r\n"), POP3_PARSE_OK, POP3_VERB_CAPA, "CAPA", "" },
	{ LINE("STLS\r\n"), POP3_PARSE_OK, POP3_VERB_STLS, "STLS", "" },
	{ LINE("QUIT\r\n"), POP3_PARSE_OK, POP3_VERB_QUIT, "QUIT", "" },
	{ LINE("AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n"), POP3_PARSE_OK,
	    POP3_VERB_AUTH, "AUTH", "PLAIN AGFsaWNlAHNlY3JldA==" },
	{ LINE("APOP alice 0123\r\n"), POP3_PARSE_OK, POP3_VERB_UNKNOWN,
	    "APOP", "alice 0123" },
	{ LINE("TOPS 1\r\n"), POP3_PARSE_OK, POP3_VERB_UNKNOWN, "TOPS", "1" },
	{ LINE("TO 1\r\n"), POP3_PARSE_OK, POP3_VERB_UNKNOWN, "TO", "1" },
	{ LINE("XTND XMIT\r\n"), POP3_PARSE_OK, POP3_VERB_UNKNOWN, "XTND",
	    "XMIT" },
	{ LINE("PASS caf\xc3\xa9\r\n"), POP3_PARSE_OK, POP3_VERB_PASS, "PASS",
	    "caf\xc3\xa9" },
	/* Line ends, as SMTP (RFC 1939 3: CRLF). */
	{ LINE("QUIT\n"), POP3_PARSE_ERR_BARE_LF, 0, NULL, NULL },
	{ LINE("\n"), POP3_PARSE_ERR_BARE_LF, 0, NULL, NULL },
	{ LINE("QUIT\r"), POP3_PARSE_ERR_BARE_CR, 0, NULL, NULL },
	{ LINE("QUIT"), POP3_PARSE_ERR_BARE_CR, 0, NULL, NULL },
	{ LINE(""), POP3_PARSE_ERR_BARE_CR, 0, NULL, NULL },
	{ LINE("QU\rIT\r\n"), POP3_PARSE_ERR_BARE_CR, 0, NULL, NULL },
	{ LINE("QUIT\r\r\n"), POP3_PARSE_ERR_BARE_CR, 0, NULL, NULL },
	{ LINE("DELE 1\nQUIT\r\n"), POP3_PARSE_ERR_BARE_LF, 0, NULL, NULL },
	{ LINE("NOOP\r\nQUIT\r\n"), POP3_PARSE_ERR_BARE_CR, 0, NULL, NULL },
	{ LINE("PASS a\0b\r\n"), POP3_PARSE_ERR_NUL, 0, NULL, NULL },
	{ LINE("\0\r\n"), POP3_PARSE_ERR_NUL, 0, NULL, NULL },
	{ LINE("\r\n"), POP3_PARSE_ERR_EMPTY, 0, NULL, NULL },
	/* Keyword syntax. */
	{ LINE(" STAT\r\n"), POP3_PARSE_ERR_SYNTAX, 0, NULL, NULL },
	{ LINE("ST4T\r\n"), POP3_PARSE_ERR_SYNTAX, 0, NULL, NULL },
	{ LINE("LIST\t1\r\n"), POP3_PARSE_ERR_SYNTAX, 0, NULL, NULL },
	{ LINE("X-FOO\r\n"), POP3_PARSE_ERR_SYNTAX, 0, NULL, NULL },
	{ LINE("\xc3\xa9TAT\r\n"), POP3_PARSE_ERR_SYNTAX, 0, NULL, NULL },
};

TEST(pop3_parse_line_table)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(line_cases); i++) {
		struct pop3_cmd cmd;
		enum pop3_parse_err err;

		memset(&cmd, 0xa5, sizeof(cmd));
		err = pop3_parse_line(line_cases[i].line, line_cases[i].len,
		    &cmd);
		CHECKF(err == line_cases[i].err, "case %zu (%.*s): err %d, "
		    "want %d", i, (int)line_cases[i].len, line_cases[i].line,
		    err, line_cases[i].err);
		if (err != POP3_PARSE_OK) {
			CHECKF(cmd.verb == POP3_VERB_UNKNOWN &&
			    cmd.name.len == 0 && cmd.args.len == 0,
			    "case %zu: command not cleared", i);
			continue;
		}
		if (line_cases[i].err != POP3_PARSE_OK)
			continue;
		CHECKF(cmd.verb == line_cases[i].verb, "case %zu: verb %d, "
		    "want %d", i, cmd.verb, line_cases[i].verb);
		CHECKF(str_eq(cmd.name, str_cstr(line_cases[i].name)),
		    "case %zu: name \"%.*s\", want \"%s\"", i,
		    (int)cmd.name.len, cmd.name.p, line_cases[i].name);
		CHECKF(str_eq(cmd.args, str_cstr(line_cases[i].args)),
		    "case %zu: args \"%.*s\", want \"%s\"", i,
		    (int)cmd.args.len, cmd.args.p, line_cases[i].args);
		CHECKF(cmd.args.p >= line_cases[i].line && cmd.args.p +
		    cmd.args.len <= line_cases[i].line + line_cases[i].len - 2,
		    "case %zu: args outside the line", i);
	}
}

/* Every known verb's name parses back to the verb, in any case. */
TEST(pop3_verb_names_round_trip)
{
	int v;

	for (v = 1; v < POP3_VERB_COUNT; v++) {
		const char *name = pop3_verb_name((enum pop3_verb)v);
		struct pop3_cmd cmd;
		char line[32];
		int n;

		n = snprintf(line, sizeof(line), "%s\r\n", name);
		CHECK(pop3_parse_line(line, (size_t)n, &cmd) == POP3_PARSE_OK);
		CHECK_EQ_INT(cmd.verb, v);
		ascii_lower_inplace(line, (size_t)n);
		CHECK(pop3_parse_line(line, (size_t)n, &cmd) == POP3_PARSE_OK);
		CHECK_EQ_INT(cmd.verb, v);
	}
	CHECK_EQ_STR(pop3_verb_name(POP3_VERB_COUNT), "");
}

TEST(pop3_parse_args_split)
{
	struct str argv[2];
	size_t argc = 99;

	CHECK(pop3_parse_args(STR_LIT(""), argv, 2, &argc) == 0);
	CHECK_EQ_INT(argc, 0);
	CHECK(pop3_parse_args(STR_LIT("  "), argv, 2, &argc) == 0);
	CHECK_EQ_INT(argc, 0);
	CHECK(pop3_parse_args(STR_LIT("1"), argv, 2, &argc) == 0);
	CHECK_EQ_INT(argc, 1);
	CHECK(str_eq(argv[0], STR_LIT("1")));
	CHECK(pop3_parse_args(STR_LIT("12 345 "), argv, 2, &argc) == 0);
	CHECK_EQ_INT(argc, 2);
	CHECK(str_eq(argv[0], STR_LIT("12")));
	CHECK(str_eq(argv[1], STR_LIT("345")));
	CHECK(pop3_parse_args(STR_LIT("1  2"), argv, 2, &argc) == 0);
	CHECK(str_eq(argv[1], STR_LIT("2")));
	CHECK(pop3_parse_args(STR_LIT("1 2 3"), argv, 2, &argc) == -1);
	CHECK_EQ_INT(argc, 0);
	CHECK(pop3_parse_args(STR_LIT("1"), argv, 0, &argc) == -1);
}

TEST(pop3_parse_number_cases)
{
	uint64_t n = 0;

	CHECK(pop3_parse_number(STR_LIT("1"), 100, &n) == 0 && n == 1);
	CHECK(pop3_parse_number(STR_LIT("0"), 100, &n) == 0 && n == 0);
	CHECK(pop3_parse_number(STR_LIT("007"), 100, &n) == 0 && n == 7);
	CHECK(pop3_parse_number(STR_LIT("100"), 100, &n) == 0 && n == 100);
	CHECK(pop3_parse_number(STR_LIT("101"), 100, &n) == -1);
	CHECK(pop3_parse_number(STR_LIT(""), 100, &n) == -1);
	CHECK(pop3_parse_number(STR_LIT("+1"), 100, &n) == -1);
	CHECK(pop3_parse_number(STR_LIT("-1"), 100, &n) == -1);
	CHECK(pop3_parse_number(STR_LIT("1 "), 100, &n) == -1);
	CHECK(pop3_parse_number(STR_LIT("0x1"), 100, &n) == -1);
	CHECK(pop3_parse_number(STR_LIT("99999999999999999999999"),
	    UINT64_MAX, &n) == -1);
}

/* ---- Transfer encoding ---- */

/* Runs the machine over in, split at the given sizes (0: all at once). */
static size_t
xfer_run(const char *in, size_t len, uint64_t lines, const size_t *splits,
    size_t nsplits, char *out)
{
	struct pop3_xfer x;
	size_t off = 0, o = 0, i = 0;

	pop3_xfer_init(&x, lines);
	while (off < len) {
		size_t n = len - off;

		if (i < nsplits && splits[i] < n)
			n = splits[i];
		i++;
		o += pop3_xfer_chunk(&x, in + off, n, out + o);
		off += n;
	}
	return o + pop3_xfer_end(&x, out + o);
}

/* The reference: line by line, whole input at once. */
static size_t
xfer_ref(const char *in, size_t len, uint64_t lines, char *out)
{
	size_t o = 0, start = 0, end;
	bool body = false;

	while (start < len) {
		const char *nl = memchr(in + start, '\n', len - start);
		size_t clen;

		end = nl ? (size_t)(nl - in) : len;
		clen = end - start;
		if (body && lines != POP3_XFER_ALL && lines-- == 0)
			break;
		if (clen > 0 && in[start] == '.')
			out[o++] = '.';
		memcpy(out + o, in + start, clen);
		o += clen;
		out[o++] = '\r';
		out[o++] = '\n';
		if (!body && clen == 0) {
			body = true;
			if (lines == 0)
				break;
		}
		start = end + 1;
	}
	memcpy(out + o, ".\r\n", 3);
	return o + 3;
}

static const struct {
	const char	*in;
	uint64_t	 lines;
	const char	*out;
} xfer_cases[] = {
	{ "", POP3_XFER_ALL, ".\r\n" },
	{ "a\n", POP3_XFER_ALL, "a\r\n.\r\n" },
	{ "a", POP3_XFER_ALL, "a\r\n.\r\n" },
	/* Delivery made each CRLF a LF: a CR left is the client's own. */
	{ "a\r\n", POP3_XFER_ALL, "a\r\r\n.\r\n" },
	{ "a\r", POP3_XFER_ALL, "a\r\r\n.\r\n" },
	{ "a\rb\n", POP3_XFER_ALL, "a\rb\r\n.\r\n" },
	{ ".\n", POP3_XFER_ALL, "..\r\n.\r\n" },
	{ ".a\n..b\nc.\n", POP3_XFER_ALL, "..a\r\n...b\r\nc.\r\n.\r\n" },
	{ "S: x\n\n.\n", POP3_XFER_ALL, "S: x\r\n\r\n..\r\n.\r\n" },
	{ "\n\n", POP3_XFER_ALL, "\r\n\r\n.\r\n" },
	{ "caf\xc3\xa9\n", POP3_XFER_ALL, "caf\xc3\xa9\r\n.\r\n" },
	/* TOP: headers, the empty line, then n body lines. */
	{ "A: 1\nB: 2\n\nl1\nl2\nl3\n", 0, "A: 1\r\nB: 2\r\n\r\n.\r\n" },
	{ "A: 1\nB: 2\n\nl1\nl2\nl3\n", 2,
	    "A: 1\r\nB: 2\r\n\r\nl1\r\nl2\r\n.\r\n" },
	{ "A: 1\n\nl1\nl2\n", 9, "A: 1\r\n\r\nl1\r\nl2\r\n.\r\n" },
	{ "A: 1\n\nl1", 1, "A: 1\r\n\r\nl1\r\n.\r\n" },
	{ "A: 1\n\n.l1\nl2\n", 1, "A: 1\r\n\r\n..l1\r\n.\r\n" },
	/* A line holding a CR is not the empty line ending the headers. */
	{ "A: 1\n\r\nB: 2\n\nl1\n", 0,
	    "A: 1\r\n\r\r\nB: 2\r\n\r\n.\r\n" },
	{ "A: 1\nB: 2\n", 0, "A: 1\r\nB: 2\r\n.\r\n" },
	{ "\nbody\n", 0, "\r\n.\r\n" },
};

TEST(pop3_xfer_cases)
{
	char out[256];
	size_t i, n;

	for (i = 0; i < ARRAY_LEN(xfer_cases); i++) {
		const char *in = xfer_cases[i].in;

		n = xfer_run(in, strlen(in), xfer_cases[i].lines, NULL, 0, out);
		CHECK_EQ_MEM(out, n, xfer_cases[i].out,
		    strlen(xfer_cases[i].out));
		n = xfer_ref(in, strlen(in), xfer_cases[i].lines, out);
		CHECKF(n == strlen(xfer_cases[i].out) &&
		    memcmp(out, xfer_cases[i].out, n) == 0,
		    "case %zu: the reference disagrees", i);
	}
}

/* Every split point, and one byte at a time: the same output. */
TEST(pop3_xfer_split_everywhere)
{
	static const size_t ones[64] = { [0 ... 63] = 1 };
	char whole[256], split[256];
	size_t i, at, n, m;

	for (i = 0; i < ARRAY_LEN(xfer_cases); i++) {
		const char *in = xfer_cases[i].in;
		size_t len = strlen(in);

		n = xfer_run(in, len, xfer_cases[i].lines, NULL, 0, whole);
		for (at = 1; at < len; at++) {
			m = xfer_run(in, len, xfer_cases[i].lines, &at, 1,
			    split);
			CHECKF(m == n && memcmp(whole, split, n) == 0,
			    "case %zu split at %zu", i, at);
		}
		m = xfer_run(in, len, xfer_cases[i].lines, ones,
		    ARRAY_LEN(ones), split);
		CHECKF(m == n && memcmp(whole, split, n) == 0,
		    "case %zu byte by byte", i);
	}
}

/* Random messages of the bytes that matter, random splits, vs ref. */
TEST(pop3_xfer_random_vs_reference)
{
	static const char alphabet[] = ".\r\nab\n.";
	char in[300], got[700], want[700];
	size_t splits[16];
	unsigned seed = 12345;
	int iter;

	for (iter = 0; iter < 20000; iter++) {
		size_t len = (size_t)(rand_r(&seed) % (int)sizeof(in)), i, n, m;
		uint64_t lines = rand_r(&seed) % 4 == 0 ? POP3_XFER_ALL :
		    (uint64_t)(rand_r(&seed) % 5);

		for (i = 0; i < len; i++)
			in[i] = alphabet[rand_r(&seed) %
			    (int)(sizeof(alphabet) - 1)];
		for (i = 0; i < ARRAY_LEN(splits); i++)
			splits[i] = (size_t)(rand_r(&seed) % 40) + 1;
		m = xfer_ref(in, len, lines, want);
		n = xfer_run(in, len, lines, splits, ARRAY_LEN(splits), got);
		CHECKF(n == m && memcmp(got, want, n) == 0, "iteration %d "
		    "(len %zu, lines %llu): got %zu octets, want %zu", iter,
		    len, (unsigned long long)lines, n, m);
		CHECK(n <= POP3_XFER_OUT_MAX(len) + POP3_XFER_END_MAX);
		if (lines != POP3_XFER_ALL)
			continue;
		/* The size on the wire: the output less stuffing and end. */
		m = pop3_crlf_size(in, len / 2) +
		    pop3_crlf_size(in + len / 2, len - len / 2);
		for (i = 0, n = 0; i < len; i++)
			n += in[i] == '\n';
		CHECKF(m == len + n, "iteration %d: size %zu, want %zu", iter,
		    m, len + n);
		if (unit_failures)
			return;
	}
}

/* What delivery stores (mda_maildir.c): each CRLF becomes LF. */
static size_t
to_maildir(const char *in, size_t len, char *out)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++)
		if (!(in[i] == '\r' && i + 1 < len && in[i + 1] == '\n'))
			out[o++] = in[i];
	return o;
}

/* What a client reads: the response less its ".CRLF", unstuffed. */
static size_t
from_wire(const char *in, size_t len, char *out)
{
	size_t i, o = 0;
	bool bol = true;

	len -= 3;
	for (i = 0; i < len; i++) {
		if (!(bol && in[i] == '.'))
			out[o++] = in[i];
		bol = in[i] == '\n';
	}
	return o;
}

/*
 * RETR gives back the octets SMTP received, whatever CRs they hold: the
 * transfer encoding is the exact inverse of delivery's.
 */
TEST(pop3_xfer_inverts_delivery)
{
	static const char *const tokens[] = { "\r\n", "\r", ".", "a", "\r\n.",
	    "\r\n\r\n", ".\r\n" };
	char msg[400], file[400], wire[900], back[900];
	unsigned seed = 777;
	int iter;

	for (iter = 0; iter < 20000; iter++) {
		size_t len = 0, n, m;
		int k = rand_r(&seed) % 40;

		while (k-- > 0) {
			const char *t = tokens[rand_r(&seed) %
			    (int)ARRAY_LEN(tokens)];

			memcpy(msg + len, t, strlen(t));
			len += strlen(t);
		}
		/* A message as SMTP hands it over ends with CRLF. */
		memcpy(msg + len, "\r\n", 2);
		len += 2;
		n = to_maildir(msg, len, file);
		m = xfer_run(file, n, POP3_XFER_ALL, NULL, 0, wire);
		m = from_wire(wire, m, back);
		CHECKF(m == len && memcmp(back, msg, len) == 0, "iteration %d: "
		    "%zu octets back, %zu sent", iter, m, len);
		/* And ",W=" (the size LIST reports) is what was sent. */
		CHECK_EQ_INT(pop3_crlf_size(file, n), len);
		if (unit_failures)
			return;
	}
}

/* ---- Maildir names ---- */

TEST(pop3_uid_from_maildir_names)
{
	static const char *const same[] = {
		"1790000000.M123456P4242Q1.mail.example.test,S=100,W=104",
		"1790000000.M123456P4242Q1.mail.example.test,S=100,W=104:2,",
		"1790000000.M123456P4242Q1.mail.example.test,S=100,W=104:2,S",
		"1790000000.M123456P4242Q1.mail.example.test,W=104:2,FS",
		"1790000000.M123456P4242Q1.mail.example.test:2,RS",
	};
	char uid[POP3_UID_MAX + 1];
	size_t i, n;

	/* Stable across new/ -> cur/, flags and size fields. */
	for (i = 0; i < ARRAY_LEN(same); i++) {
		n = pop3_uid_from_name(same[i], strlen(same[i]), uid);
		CHECK_EQ_STR(uid,
		    "1790000000.M123456P4242Q1.mail.example.test");
		CHECK_EQ_INT(n, strlen(uid));
	}
	n = pop3_uid_from_name("abc", 3, uid);
	CHECK_EQ_STR(uid, "abc");
}

/* RFC 1939 7: 1 to 70 octets in 0x21-0x7E, whatever the name. */
static void
check_uid_ok(const char *name, char *uid)
{
	size_t n = pop3_uid_from_name(name, strlen(name), uid), i;

	CHECKF(n >= 1 && n <= POP3_UID_MAX && n == strlen(uid),
	    "uid of \"%s\": length %zu", name, n);
	for (i = 0; i < n; i++)
		CHECKF(uid[i] >= 0x21 && uid[i] <= 0x7e, "uid of \"%s\": octet "
		    "%zu is 0x%02x", name, i, (unsigned char)uid[i]);
}

TEST(pop3_uid_odd_names)
{
	char a[POP3_UID_MAX + 1], b[POP3_UID_MAX + 1], name[300];
	char c[POP3_UID_MAX + 1];

	/* A host name long enough to pass 70: prefix and hash, stable. */
	snprintf(name, sizeof(name), "1790000000.M1P2Q3.%0200d,S=1:2,S", 7);
	check_uid_ok(name, a);
	CHECK_EQ_INT(strlen(a), POP3_UID_MAX);
	CHECK(strncmp(a, "1790000000.M1P2Q3.000", 21) == 0);
	snprintf(name, sizeof(name), "1790000000.M1P2Q3.%0200d,W=5", 7);
	check_uid_ok(name, b);
	CHECK_EQ_STR(a, b);
	snprintf(name, sizeof(name), "1790000000.M1P2Q3.%0200d,W=5", 8);
	check_uid_ok(name, c);
	CHECK(strcmp(a, c) != 0);
	/* Unprintable octets and odd starts still give a valid uid. */
	check_uid_ok("caf\xc3\xa9 with space:2,S", a);
	CHECK(strncmp(a, "caf-", 4) == 0);
	check_uid_ok(",S=5:2,", a);
	check_uid_ok(":2,S", b);
	check_uid_ok(" ", a);
	check_uid_ok("x", a);
	CHECK_EQ_STR(a, "x");
}

TEST(pop3_name_vsize_cases)
{
	uint64_t v = 0;

	CHECK(pop3_name_vsize(LINE("1.M1P1Q1.h,S=100,W=104"), &v) == 0);
	CHECK_EQ_INT(v, 104);
	CHECK(pop3_name_vsize(LINE("1.M1P1Q1.h,W=7,S=5:2,S"), &v) == 0);
	CHECK_EQ_INT(v, 7);
	CHECK(pop3_name_vsize(LINE("1.M1P1Q1.h,S=100:2,W=3"), &v) == -1);
	CHECK(pop3_name_vsize(LINE("1.M1P1Q1.h,S=100"), &v) == -1);
	CHECK(pop3_name_vsize(LINE("1.M1P1Q1.h,W="), &v) == -1);
	CHECK(pop3_name_vsize(LINE("1.M1P1Q1.h,W=1x"), &v) == -1);
	CHECK(pop3_name_vsize(LINE("1.M1P1Q1.h,W"), &v) == -1);
	CHECK(pop3_name_vsize(LINE("1.M1P1Q1.hW=5"), &v) == -1);
	CHECK(pop3_name_vsize(LINE(""), &v) == -1);
}

TEST(pop3_name_flags)
{
	char out[64];

	CHECK(pop3_name_for_cur("1.M1P1Q1.h,S=1", out, sizeof(out)) == 0);
	CHECK_EQ_STR(out, "1.M1P1Q1.h,S=1:2,");
	CHECK(pop3_name_for_cur("1.M1P1Q1.h:2,S", out, sizeof(out)) == 0);
	CHECK_EQ_STR(out, "1.M1P1Q1.h:2,S");
	CHECK(pop3_name_for_cur("1.M1P1Q1.h", out, 12) == -1);

	CHECK(pop3_name_add_flag("a:2,", 'S', out, sizeof(out)) == 1);
	CHECK_EQ_STR(out, "a:2,S");
	CHECK(pop3_name_add_flag("a:2,FR", 'S', out, sizeof(out)) == 1);
	CHECK_EQ_STR(out, "a:2,FRS");
	CHECK(pop3_name_add_flag("a:2,FT", 'S', out, sizeof(out)) == 1);
	CHECK_EQ_STR(out, "a:2,FST");
	CHECK(pop3_name_add_flag("a:2,T", 'S', out, sizeof(out)) == 1);
	CHECK_EQ_STR(out, "a:2,ST");
	CHECK(pop3_name_add_flag("a:2,RS", 'S', out, sizeof(out)) == 0);
	CHECK_EQ_STR(out, "a:2,RS");
	CHECK(pop3_name_add_flag("a", 'S', out, sizeof(out)) == 1);
	CHECK_EQ_STR(out, "a:2,S");
	CHECK(pop3_name_add_flag("a:1,xyz", 'S', out, sizeof(out)) == 0);
	CHECK_EQ_STR(out, "a:1,xyz");
	CHECK(pop3_name_add_flag("a:2,", 'S', out, 5) == -1);
	CHECK(pop3_name_add_flag("a:2,", 'S', out, 6) == 1);
	CHECK(pop3_name_add_flag("a", 'S', out, 5) == -1);
}
