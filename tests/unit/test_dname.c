/*
 * test_dname.c - domain syntax (dname_valid) and UTF-8 validation.
 */
#include "core/common.h"

#include "core/dname.h"
#include "core/limits.h"
#include "unit/unit.h"

#define L10 "abcdefghij"
#define L63 L10 L10 L10 L10 L10 L10 "abc"	/* a 63-octet label */
#define L64 L63 "d"

#define S DNAME_ALLOW_SINGLE
#define U DNAME_ALLOW_UTF8

static const struct {
	const char	*name;
	int		 flags;
	bool		 valid;
} dname_cases[] = {
	{ "example.test", 0, true },
	{ "mx1.example.test", 0, true },
	{ "EXAMPLE.Test", 0, true },
	{ "a.b", 0, true },
	{ "3com.example", 0, true },		/* RFC 1123 leading digit */
	{ "123.example", 0, true },
	{ "a-b.example", 0, true },
	{ "a--b.example", 0, true },
	{ "xn--bcher-kva.example", 0, true },	/* A-label: plain LDH */
	{ "example.xn--p1ai", 0, true },
	{ "example.a1", 0, true },
	{ L63 ".example", 0, true },
	{ L64 ".example", 0, false },		/* label > 63 */
	{ "", 0, false },
	{ "", S, false },
	{ ".", 0, false },
	{ ".", S, false },
	{ "localhost", 0, false },		/* single label */
	{ "localhost", S, true },
	{ "example.test.", 0, false },		/* trailing dot */
	{ "example.test.", S, false },
	{ ".example.test", 0, false },
	{ "example..test", 0, false },
	{ "-example.test", 0, false },
	{ "example-.test", 0, false },
	{ "example.-test", 0, false },
	{ "example.test-", 0, false },
	{ "exa_mple.test", 0, false },
	{ "exa mple.test", 0, false },
	{ "example.test ", 0, false },
	{ "exa%mple.test", 0, false },
	{ "exa@mple.test", 0, false },
	{ "[127.0.0.1]", 0, false },
	{ "1.2.3.4", 0, false },		/* all-numeric TLD */
	{ "1.2.3.4", S, false },
	{ "example.123", 0, false },
	{ "1234", S, false },
	/* A DKIM selector is a prefix, not a domain: Google's are digits. */
	{ "20230601", S | DNAME_SELECTOR, true },
	{ "1.2.3.4", S | DNAME_SELECTOR, true },
	{ "2023-", S | DNAME_SELECTOR, false },
	{ "b\xc3\xbc" "cher.example", 0, false },	/* U-label, no flag */
	{ "b\xc3\xbc" "cher.example", U, true },
	{ "\xe4\xbe\x8b\xe3\x81\x88.\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88",
	    U, true },
	{ "b\xc3" "cher.example", U, false },	/* truncated sequence */
	{ "b\xff" "cher.example", U, false },
	{ "b\xc0\xbc" "cher.example", U, false },	/* overlong */
	{ "\xc3\xbc-.example", U, false },	/* still no trailing hyphen */
	{ "-\xc3\xbc.example", U, false },
	{ "\xc3\xbc", U | S, true },
	{ "\xc3\xbc", U, false },
};

TEST(dname_table)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(dname_cases); i++) {
		const char *n = dname_cases[i].name;
		bool got = dname_valid(n, strlen(n), dname_cases[i].flags);

		CHECKF(got == dname_cases[i].valid, "dname_valid(\"%s\", 0x%x) "
		    "= %d, want %d", n, dname_cases[i].flags, got,
		    dname_cases[i].valid);
	}
}

/* Builds a name of exactly len octets from labels of at most 63. */
static size_t
dname_build(char *out, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		out[i] = i % 64 == 63 ? '.' : (char)('a' + i % 26);
	if (len >= 2 && out[len - 1] == '.') {
		out[len - 2] = '.';
		out[len - 1] = 'a';
	}
	out[len] = '\0';
	return len;
}

TEST(dname_total_length)
{
	char name[400];

	/* 63.63.63.63 is 255 octets: the largest valid name. */
	CHECK_EQ_INT(strlen(L63 "." L63 "." L63 "." L63), 255);
	CHECK(dname_valid(L63 "." L63 "." L63 "." L63, 255, 0));
	/* 63.63.63.62.a is 256 octets, every label valid: too long. */
	CHECK(!dname_valid(L63 "." L63 "." L63 "." L10 L10 L10 L10 L10 L10
	    "ab.a", 256, 0));
	CHECK_EQ_INT(dname_build(name, SMTP_DOMAIN_MAX), 255);
	CHECK(dname_valid(name, SMTP_DOMAIN_MAX, 0));
	dname_build(name, SMTP_DOMAIN_MAX + 1);
	CHECK(!dname_valid(name, SMTP_DOMAIN_MAX + 1, 0));
	dname_build(name, 300);
	CHECK(!dname_valid(name, 300, 0));
}

TEST(dname_uses_len_not_nul)
{
	/* Only the first len octets are the name. */
	CHECK(dname_valid("example.test.garbage", 12, 0));
	CHECK(dname_valid("example.test", 11, 0));	/* "example.tes" */
	CHECK(!dname_valid("example.t\0st", 12, 0));	/* NUL inside */
	CHECK(!dname_valid("example.", 8, 0));
	CHECK(!dname_valid(NULL, 0, S));
}

static const struct {
	const char	*bytes;
	size_t		 len;
	bool		 valid;
	const char	*what;
} utf8_cases[] = {
	{ "", 0, true, "empty" },
	{ "plain ascii", 11, true, "ascii" },
	{ "\0", 1, true, "NUL is U+0000" },
	{ "\x7f", 1, true, "DEL" },
	{ "\xc2\x80", 2, true, "U+0080" },
	{ "\xdf\xbf", 2, true, "U+07FF" },
	{ "\xe0\xa0\x80", 3, true, "U+0800" },
	{ "\xef\xbf\xbf", 3, true, "U+FFFF" },
	{ "\xed\x9f\xbf", 3, true, "U+D7FF" },
	{ "\xee\x80\x80", 3, true, "U+E000" },
	{ "\xf0\x90\x80\x80", 4, true, "U+10000" },
	{ "\xf4\x8f\xbf\xbf", 4, true, "U+10FFFF" },
	{ "caf\xc3\xa9", 5, true, "cafe" },
	{ "\x80", 1, false, "lone continuation" },
	{ "\xbf", 1, false, "lone continuation" },
	{ "\xc0\x80", 2, false, "overlong NUL" },
	{ "\xc1\xbf", 2, false, "overlong 2-byte" },
	{ "\xe0\x80\x80", 3, false, "overlong 3-byte" },
	{ "\xe0\x9f\xbf", 3, false, "overlong U+07FF" },
	{ "\xf0\x80\x80\x80", 4, false, "overlong 4-byte" },
	{ "\xf0\x8f\xbf\xbf", 4, false, "overlong U+FFFF" },
	{ "\xed\xa0\x80", 3, false, "surrogate U+D800" },
	{ "\xed\xbf\xbf", 3, false, "surrogate U+DFFF" },
	{ "\xf4\x90\x80\x80", 4, false, "U+110000" },
	{ "\xf5\x80\x80\x80", 4, false, "F5 lead" },
	{ "\xf8\x88\x80\x80\x80", 5, false, "5-byte form" },
	{ "\xfe", 1, false, "FE" },
	{ "\xff", 1, false, "FF" },
	{ "\xc3", 1, false, "truncated 2-byte" },
	{ "\xe2\x82", 2, false, "truncated 3-byte" },
	{ "\xf0\x9f\x98", 3, false, "truncated 4-byte" },
	{ "\xc3\x28", 2, false, "bad continuation" },
	{ "\xe2\x28\xa1", 3, false, "bad 2nd of 3" },
	{ "\xe2\x82\x28", 3, false, "bad 3rd of 3" },
	{ "a\xc3\xa9\xc3", 4, false, "valid then truncated" },
};

TEST(utf8_valid_table)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(utf8_cases); i++)
		CHECKF(utf8_valid(utf8_cases[i].bytes, utf8_cases[i].len) ==
		    utf8_cases[i].valid, "utf8_valid: %s: got %d, want %d",
		    utf8_cases[i].what, !utf8_cases[i].valid,
		    utf8_cases[i].valid);
}

/* Encodes cp the textbook way; 0 for surrogates and > U+10FFFF. */
static size_t
utf8_encode(unsigned cp, unsigned char *out)
{
	if (cp < 0x80) {
		out[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (unsigned char)(0xc0 | (cp >> 6));
		out[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (unsigned char)(0xe0 | (cp >> 12));
		out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (unsigned char)(0xf0 | (cp >> 18));
	out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Every code point round-trips; the surrogates are refused. */
TEST(utf8_valid_every_code_point)
{
	unsigned char b[4];
	unsigned cp;
	size_t n;
	bool want;

	for (cp = 0; cp <= 0x10ffff; cp++) {
		n = utf8_encode(cp, b);
		want = !(cp >= 0xd800 && cp <= 0xdfff);
		if (utf8_valid((const char *)b, n) != want) {
			CHECKF(false, "U+%04X: got %d, want %d", cp, !want,
			    want);
			return;
		}
		/* Any strict prefix of a multi-byte form is invalid. */
		if (n > 1 && utf8_valid((const char *)b, n - 1)) {
			CHECKF(false, "U+%04X: prefix accepted", cp);
			return;
		}
	}
}

/* All two-byte strings: valid exactly when the textbook rules say so. */
TEST(utf8_valid_all_pairs)
{
	unsigned a, c;
	unsigned char b[2];
	bool want;

	for (a = 0; a < 256; a++)
		for (c = 0; c < 256; c++) {
			b[0] = (unsigned char)a;
			b[1] = (unsigned char)c;
			if (a < 0x80)
				want = c < 0x80;
			else
				want = a >= 0xc2 && a <= 0xdf &&
				    (c & 0xc0) == 0x80;
			if (utf8_valid((const char *)b, 2) != want) {
				CHECKF(false, "%02x %02x: got %d, want %d", a,
				    c, !want, want);
				return;
			}
		}
}
