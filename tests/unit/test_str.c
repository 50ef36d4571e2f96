/*
 * test_str.c - slices, cursor helpers, str_to_u64, str_copy and the ASCII
 * helpers. Table-driven.
 */
#include "core/common.h"

#include "core/str.h"
#include "unit/unit.h"

TEST(str_make_and_cstr)
{
	struct str s = str_cstr("abc"), n = str_cstr(NULL);
	struct str lit = STR_LIT("hello");

	CHECK_EQ_INT(s.len, 3);
	CHECK_EQ_INT(n.len, 0);
	CHECK(n.p == NULL);
	CHECK_EQ_INT(lit.len, 5);
	CHECK_EQ_MEM(lit.p, lit.len, "hello", 5);
	s = str_make("xyz", 2);
	CHECK_EQ_MEM(s.p, s.len, "xy", 2);
	CHECK(STR_NULL.p == NULL && STR_NULL.len == 0);
}

TEST(str_eq_table)
{
	static const struct {
		const char	*a, *b;
		bool		 eq, caseeq;
	} cases[] = {
		{ "", "", true, true },
		{ "a", "a", true, true },
		{ "a", "A", false, true },
		{ "MAIL", "mail", false, true },
		{ "mail", "mai", false, false },
		{ "mai", "mail", false, false },
		{ "a[", "A{", false, false },	/* only A-Z fold */
		{ "@", "`", false, false },
		{ "\xc9", "\xe9", false, false },	/* not Latin-1 */
		{ "x-y_z", "X-Y_Z", false, true },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		struct str a = str_cstr(cases[i].a), b = str_cstr(cases[i].b);

		CHECKF(str_eq(a, b) == cases[i].eq, "str_eq(\"%s\", \"%s\")",
		    cases[i].a, cases[i].b);
		CHECKF(str_caseeq(a, b) == cases[i].caseeq,
		    "str_caseeq(\"%s\", \"%s\")", cases[i].a, cases[i].b);
		CHECKF(str_caseeq_cstr(a, cases[i].b) == cases[i].caseeq,
		    "str_caseeq_cstr(\"%s\", \"%s\")", cases[i].a, cases[i].b);
	}
	/* Empty slices with a NULL pointer compare equal to "". */
	CHECK(str_eq(STR_NULL, str_cstr("")));
	CHECK(str_caseeq(STR_NULL, STR_LIT("")));
	/* Embedded NULs are compared, not treated as ends. */
	CHECK(!str_eq(str_make("a\0b", 3), str_make("a\0c", 3)));
	CHECK(str_eq(str_make("a\0b", 3), str_make("a\0b", 3)));
}

TEST(str_has_prefix_case_table)
{
	static const struct {
		const char	*s, *prefix;
		bool		 want;
	} cases[] = {
		{ "FROM:<x>", "from:", true },
		{ "from:<x>", "FROM:", true },
		{ "FRO", "FROM", false },
		{ "anything", "", true },
		{ "", "", true },
		{ "", "a", false },
		{ "TO:<x>", "FROM:", false },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++)
		CHECKF(str_has_prefix_case(str_cstr(cases[i].s),
		    cases[i].prefix) == cases[i].want,
		    "str_has_prefix_case(\"%s\", \"%s\")", cases[i].s,
		    cases[i].prefix);
}

TEST(str_chr_rchr)
{
	static const struct {
		const char	*s;
		char		 c;
		long		 first, last;
	} cases[] = {
		{ "", 'a', -1, -1 },
		{ "a", 'a', 0, 0 },
		{ "abcabc", 'c', 2, 5 },
		{ "abcabc", 'x', -1, -1 },
		{ "a:b:c", ':', 1, 3 },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		struct str s = str_cstr(cases[i].s);

		CHECKF(str_chr(s, cases[i].c) == cases[i].first,
		    "str_chr(\"%s\", '%c') = %ld", cases[i].s, cases[i].c,
		    str_chr(s, cases[i].c));
		CHECKF(str_rchr(s, cases[i].c) == cases[i].last,
		    "str_rchr(\"%s\", '%c') = %ld", cases[i].s, cases[i].c,
		    str_rchr(s, cases[i].c));
	}
	CHECK_EQ_INT(str_chr(STR_NULL, 'a'), -1);
	CHECK_EQ_INT(str_rchr(STR_NULL, 'a'), -1);
	/* The slice bounds count, not the NUL. */
	CHECK_EQ_INT(str_chr(str_make("ab\0cd", 5), 'd'), 4);
	CHECK_EQ_INT(str_chr(str_make("abcd", 2), 'c'), -1);
	CHECK_EQ_INT(str_rchr(str_make("abcd", 2), 'c'), -1);
	CHECK_EQ_INT(str_chr(str_make("ab\0cd", 5), '\0'), 2);
}

TEST(str_sub_clamps)
{
	static const struct {
		const char	*s;
		size_t		 off, len;
		const char	*want;
	} cases[] = {
		{ "hello", 0, 5, "hello" },
		{ "hello", 1, 3, "ell" },
		{ "hello", 2, 100, "llo" },
		{ "hello", 5, 1, "" },
		{ "hello", 6, 1, "" },
		{ "hello", SIZE_MAX, SIZE_MAX, "" },
		{ "hello", 1, SIZE_MAX, "ello" },
		{ "", 0, 0, "" },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		struct str in = str_cstr(cases[i].s);
		struct str got = str_sub(in, cases[i].off, cases[i].len);

		CHECKF(str_eq(got, str_cstr(cases[i].want)),
		    "str_sub(\"%s\", %zu, %zu) = \"%.*s\", want \"%s\"",
		    cases[i].s, cases[i].off, cases[i].len, (int)got.len,
		    got.p, cases[i].want);
		CHECKF(got.p >= in.p && got.p + got.len <= in.p + in.len,
		    "str_sub(\"%s\", %zu, %zu) out of bounds", cases[i].s,
		    cases[i].off, cases[i].len);
	}
}

TEST(str_trim_table)
{
	static const struct {
		const char	*s, *want;
	} cases[] = {
		{ "", "" },
		{ "   ", "" },
		{ " \t a b \t ", "a b" },
		{ "x", "x" },
		{ "\tx", "x" },
		{ "x\t", "x" },
		{ "\r x \n", "\r x \n" },	/* only space and tab */
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		struct str got = str_trim(str_cstr(cases[i].s));

		CHECKF(str_eq(got, str_cstr(cases[i].want)),
		    "str_trim(\"%s\") = \"%.*s\", want \"%s\"", cases[i].s,
		    (int)got.len, got.p, cases[i].want);
	}
}

TEST(str_take_char_and_case)
{
	struct str cur = STR_LIT("MAIL FROM:<x>");

	CHECK(!str_take_char(&cur, 'm'));
	CHECK_EQ_INT(cur.len, 13);
	CHECK(str_take_char(&cur, 'M'));
	CHECK_EQ_MEM(cur.p, cur.len, "AIL FROM:<x>", 12);
	CHECK(!str_take_case(&cur, "ailx"));
	CHECK_EQ_INT(cur.len, 12);
	CHECK(str_take_case(&cur, "ail "));
	CHECK(str_take_case(&cur, "from"));
	CHECK(str_take_char(&cur, ':'));
	CHECK_EQ_MEM(cur.p, cur.len, "<x>", 3);
	CHECK(!str_take_case(&cur, "<x>>"));
	CHECK(str_take_case(&cur, "<X>"));
	CHECK_EQ_INT(cur.len, 0);
	CHECK(!str_take_char(&cur, '\0'));	/* never reads past the end */
	CHECK(str_take_case(&cur, ""));
}

TEST(str_take_word_table)
{
	static const struct {
		const char	*in;
		size_t		 max;
		bool		 ok;
		const char	*word, *rest;
	} cases[] = {
		{ "abc def", 10, true, "abc", " def" },
		{ "abc\tdef", 10, true, "abc", "\tdef" },
		{ "abc", 3, true, "abc", "" },
		{ "abcd", 3, false, NULL, "abcd" },
		{ "abc", 0, false, NULL, "abc" },
		{ " abc", 10, false, NULL, " abc" },
		{ "", 10, false, NULL, "" },
		{ "a\rb c", 10, true, "a\rb", " c" },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		struct str cur = str_cstr(cases[i].in), w = STR_NULL;
		bool ok = str_take_word(&cur, &w, cases[i].max);

		CHECKF(ok == cases[i].ok, "str_take_word(\"%s\", %zu) = %d",
		    cases[i].in, cases[i].max, ok);
		if (ok && cases[i].word)
			CHECKF(str_eq(w, str_cstr(cases[i].word)),
			    "word \"%.*s\", want \"%s\"", (int)w.len, w.p,
			    cases[i].word);
		CHECKF(str_eq(cur, str_cstr(cases[i].rest)),
		    "case %zu: rest \"%.*s\", want \"%s\"", i, (int)cur.len,
		    cur.p, cases[i].rest);
	}
}

TEST(str_skip_ws)
{
	struct str cur = STR_LIT(" \t  x y");

	CHECK_EQ_INT(str_skip_ws(&cur), 4);
	CHECK_EQ_MEM(cur.p, cur.len, "x y", 3);
	CHECK_EQ_INT(str_skip_ws(&cur), 0);
	cur = STR_LIT("   ");
	CHECK_EQ_INT(str_skip_ws(&cur), 3);
	CHECK_EQ_INT(cur.len, 0);
	CHECK_EQ_INT(str_skip_ws(&cur), 0);
}

TEST(str_to_u64_table)
{
	static const struct {
		const char	*in;
		uint64_t	 max;
		int		 rc;
		uint64_t	 want;
	} cases[] = {
		{ "0", UINT64_MAX, 0, 0 },
		{ "7", UINT64_MAX, 0, 7 },
		{ "0042", UINT64_MAX, 0, 42 },
		{ "18446744073709551615", UINT64_MAX, 0, UINT64_MAX },
		{ "18446744073709551616", UINT64_MAX, -1, 0 },
		{ "18446744073709551620", UINT64_MAX, -1, 0 },
		{ "99999999999999999999", UINT64_MAX, -1, 0 },
		{ "184467440737095516150", UINT64_MAX, -1, 0 },
		{ "100", 100, 0, 100 },
		{ "101", 100, -1, 0 },
		{ "1000", 100, -1, 0 },
		{ "65535", 65535, 0, 65535 },
		{ "65536", 65535, -1, 0 },
		{ "0", 0, 0, 0 },
		{ "1", 0, -1, 0 },
		/* A single digit larger than max (max - d must not wrap). */
		{ "9", 5, -1, 0 },
		{ "6", 5, -1, 0 },
		{ "5", 5, 0, 5 },
		{ "19", 15, -1, 0 },
		{ "15", 15, 0, 15 },
		{ "", UINT64_MAX, -1, 0 },
		{ "-1", UINT64_MAX, -1, 0 },
		{ "+1", UINT64_MAX, -1, 0 },
		{ " 1", UINT64_MAX, -1, 0 },
		{ "1 ", UINT64_MAX, -1, 0 },
		{ "1a", UINT64_MAX, -1, 0 },
		{ "0x10", UINT64_MAX, -1, 0 },
		{ "1.5", UINT64_MAX, -1, 0 },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		uint64_t out = 12345;
		int rc = str_to_u64(str_cstr(cases[i].in), cases[i].max, &out);

		CHECKF(rc == cases[i].rc, "str_to_u64(\"%s\", max %llu): rc %d,"
		    " want %d", cases[i].in, (unsigned long long)cases[i].max,
		    rc, cases[i].rc);
		if (rc == 0)
			CHECKF(out == cases[i].want, "str_to_u64(\"%s\"): got "
			    "%llu, want %llu", cases[i].in,
			    (unsigned long long)out,
			    (unsigned long long)cases[i].want);
		else
			CHECKF(out == 12345, "str_to_u64(\"%s\") wrote %llu on "
			    "failure", cases[i].in, (unsigned long long)out);
		if (rc == 0)
			CHECKF(out <= cases[i].max, "str_to_u64(\"%s\") = %llu "
			    "> max %llu", cases[i].in, (unsigned long long)out,
			    (unsigned long long)cases[i].max);
	}
	/* Not NUL-terminated: the slice length decides. */
	{
		uint64_t out = 0;

		CHECK_EQ_INT(str_to_u64(str_make("123abc", 3), 1000, &out), 0);
		CHECK_EQ_INT(out, 123);
	}
}

/* Every value 0..999 against every max 0..120: the result is never > max. */
TEST(str_to_u64_exhaustive_small)
{
	char text[8];
	uint64_t v, max, out;
	int n;

	for (max = 0; max <= 120; max++)
		for (v = 0; v < 1000; v++) {
			n = snprintf(text, sizeof(text), "%llu",
			    (unsigned long long)v);
			out = 0;
			if (str_to_u64(str_make(text, (size_t)n), max, &out) ==
			    0) {
				if (v > max || out != v) {
					CHECKF(false, "\"%s\" max %llu "
					    "gave %llu",
					    text, (unsigned long long)max,
					    (unsigned long long)out);
					return;
				}
			} else if (v <= max) {
				CHECKF(false, "\"%s\" max %llu refused", text,
				    (unsigned long long)max);
				return;
			}
		}
}

TEST(str_copy_table)
{
	static const struct {
		const char	*in;
		size_t		 size;
		int		 rc;
		const char	*want;
	} cases[] = {
		{ "abc", 4, 0, "abc" },
		{ "abc", 3, -1, "" },
		{ "abc", 10, 0, "abc" },
		{ "", 1, 0, "" },
		{ "a", 1, -1, "" },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		char dst[16];
		int rc;

		memset(dst, 'X', sizeof(dst));
		rc = str_copy(dst, cases[i].size, str_cstr(cases[i].in));
		CHECKF(rc == cases[i].rc, "str_copy(\"%s\", %zu): rc %d",
		    cases[i].in, cases[i].size, rc);
		CHECK_EQ_STR(dst, cases[i].want);
		CHECKF(dst[cases[i].size] == 'X', "str_copy(\"%s\", %zu) wrote "
		    "past dstsize", cases[i].in, cases[i].size);

		memset(dst, 'X', sizeof(dst));
		rc = cstr_copy(dst, cases[i].size, cases[i].in);
		CHECKF(rc == cases[i].rc, "cstr_copy(\"%s\", %zu): rc %d",
		    cases[i].in, cases[i].size, rc);
		CHECK_EQ_STR(dst, cases[i].want);
	}
	{
		char dst[1] = { 'X' };

		CHECK_EQ_INT(str_copy(dst, 0, STR_LIT("a")), -1);
		CHECK_EQ_INT(dst[0], 'X');	/* size 0: nothing written */
	}
	{
		char dst[8];

		/* Embedded NULs are copied as bytes. */
		CHECK_EQ_INT(str_copy(dst, sizeof(dst), str_make("a\0b", 3)),
		    0);
		CHECK_EQ_MEM(dst, 4, "a\0b\0", 4);
	}
}

TEST(ascii_helpers)
{
	int c;

	for (c = 0; c < 256; c++) {
		char ch = (char)c;
		bool upper = c >= 'A' && c <= 'Z', lower = c >= 'a' && c <= 'z';
		bool digit = c >= '0' && c <= '9';

		CHECKF(ascii_lower(ch) == (upper ? (char)(c + 32) : ch),
		    "ascii_lower(0x%02x)", c);
		CHECKF(ascii_isdigit(ch) == digit, "ascii_isdigit(0x%02x)", c);
		CHECKF(ascii_isalpha(ch) == (upper || lower),
		    "ascii_isalpha(0x%02x)", c);
		CHECKF(ascii_isalnum(ch) == (upper || lower || digit),
		    "ascii_isalnum(0x%02x)", c);
	}
	{
		char s[] = "MiXeD-Case.EXAMPLE\xc9";

		ascii_lower_inplace(s, 4);
		CHECK_EQ_STR(s, "mixeD-Case.EXAMPLE\xc9");
		ascii_lower_inplace(s, strlen(s));
		CHECK_EQ_STR(s, "mixed-case.example\xc9");
	}
}
