/*
 * test_smtp_addr.c - the strict path parser.
 *
 * addr_cases below is THE table of relay tricks and edge cases: one row per
 * input, with the flags it is parsed under and the error it must give (or
 * the local part and domain it must produce). To cover a new trick, add a
 * row. Flags: S = SMTP_ADDR_STRICT, U = SMTP_ADDR_UTF8, N = NULL_OK,
 * P = POSTMASTER.
 */
#include "core/common.h"

#include "smtp/smtp_addr.h"
#include "unit/unit.h"

#define S SMTP_ADDR_STRICT
#define U SMTP_ADDR_UTF8
#define N SMTP_ADDR_NULL_OK
#define P SMTP_ADDR_POSTMASTER
#define ALL (S | U | N | P)

#define A10 "aaaaaaaaaa"
#define A64 A10 A10 A10 A10 A10 A10 "aaaa"
#define A65 A64 "a"
#define D10 "dddddddddd"
#define D60 D10 D10 D10 D10 D10 D10
#define L63 D60 "ddd"				/* the longest label */
/* 63.63.63.60 = 252 octets: "<a@" + 252 + ">" is exactly SMTP_PATH_MAX. */
#define D252 L63 "." L63 "." L63 "." D60
#define D255 L63 "." L63 "." L63 "." L63	/* SMTP_DOMAIN_MAX */
#define OK SMTP_ADDR_OK

struct addr_case {
	const char		*in;
	int			 flags;
	enum smtp_addr_err	 err;
	const char		*local;		/* on success */
	const char		*domain;	/* on success */
};

static const struct addr_case addr_cases[] = {
	/* Plain addresses. */
	{ "<user@example.test>", 0, OK, "user", "example.test" },
	{ "<user@example.test>", ALL, OK, "user", "example.test" },
	{ "<first.last+tag@mx.example.test>", S, OK, "first.last+tag",
	    "mx.example.test" },
	{ "<USER@EXAMPLE.TEST>", S, OK, "USER", "example.test" },
	{ "<User@Sub.Example.Test>", 0, OK, "User", "sub.example.test" },
	{ "<user@xn--bcher-kva.example>", S, OK, "user",
	    "xn--bcher-kva.example" },
	{ "<a#b$c&d'e*f/g=h?i^j_k`l{m|n}o~p-q@example.test>", S, OK,
	    "a#b$c&d'e*f/g=h?i^j_k`l{m|n}o~p-q", "example.test" },

	/* '%' and '!' routing: refused in strict mode. */
	{ "<user%other.org@example.test>", S, SMTP_ADDR_ERR_RELAYCHAR },
	{ "<user%other.org@example.test>", S | U, SMTP_ADDR_ERR_RELAYCHAR },
	{ "<user%other.org@example.test>", 0, OK, "user%other.org",
	    "example.test" },
	{ "<other.org!user@example.test>", S, SMTP_ADDR_ERR_RELAYCHAR },
	{ "<other.org!user@example.test>", 0, OK, "other.org!user",
	    "example.test" },
	{ "<user%other.org>", 0, SMTP_ADDR_ERR_RELAYCHAR },
	{ "<other.org!user>", 0, SMTP_ADDR_ERR_RELAYCHAR },
	{ "<user%other.org>", P, SMTP_ADDR_ERR_RELAYCHAR },
	{ "<a%b@c%d@example.test>", S, SMTP_ADDR_ERR_RELAYCHAR },

	/* Source routes. */
	{ "<@a,@b:user@c>", 0, SMTP_ADDR_ERR_ROUTE },
	{ "<@a,@b:user@c>", ALL, SMTP_ADDR_ERR_ROUTE },
	{ "<@relay.test:user@example.test>", S, SMTP_ADDR_ERR_ROUTE },
	{ "<@example.test>", S, SMTP_ADDR_ERR_ROUTE },
	{ "<@>", S, SMTP_ADDR_ERR_ROUTE },

	/* A second '@'. */
	{ "<user@other.org@example.test>", S, SMTP_ADDR_ERR_RELAYCHAR },
	{ "<user@other.org@example.test>", 0, SMTP_ADDR_ERR_RELAYCHAR },
	{ "<a@b@c>", 0, SMTP_ADDR_ERR_RELAYCHAR },
	{ "<a b@c@example.test>", S, SMTP_ADDR_ERR_RELAYCHAR },
	{ "<\"user\"@other.org@example.test>", S, SMTP_ADDR_ERR_RELAYCHAR },
	{ "<user@@example.test>", S, SMTP_ADDR_ERR_RELAYCHAR },

	/* Quoted local parts. */
	{ "<\"user@other\"@example.test>", S, SMTP_ADDR_ERR_QUOTED },
	{ "<\"user@other\"@example.test>", 0, SMTP_ADDR_ERR_QUOTED },
	{ "<\"a%b\"@example.test>", S, SMTP_ADDR_ERR_QUOTED },
	{ "<\"a%b\"@example.test>", 0, SMTP_ADDR_ERR_QUOTED },
	{ "<\"a!b\"@example.test>", 0, SMTP_ADDR_ERR_QUOTED },
	{ "<\"a\\\"b\"@example.test>", 0, SMTP_ADDR_ERR_QUOTED },
	{ "<\"a\\@b\"@example.test>", 0, SMTP_ADDR_ERR_QUOTED },
	{ "<\"a\\\\b\"@example.test>", 0, SMTP_ADDR_ERR_QUOTED },
	{ "<\"a\tb\"@example.test>", 0, SMTP_ADDR_ERR_QUOTED },
	{ "<\"a\x7f" "b\"@example.test>", 0, SMTP_ADDR_ERR_QUOTED },
	{ "<\"\"@example.test>", 0, SMTP_ADDR_ERR_QUOTED },
	{ "<\"abc\"x@example.test>", 0, SMTP_ADDR_ERR_QUOTED },
	{ "<\"a\".\"b\"@example.test>", 0, SMTP_ADDR_ERR_QUOTED },
	{ "<\"abc\"@example.test>", S, OK, "abc", "example.test" },
	{ "<\"first.last\"@example.test>", S, OK, "first.last",
	    "example.test" },
	{ "<\"a b\"@example.test>", S, OK, "\"a b\"", "example.test" },
	{ "<\"a..b\"@example.test>", S, OK, "\"a..b\"", "example.test" },
	{ "<\".a\"@example.test>", S, OK, "\".a\"", "example.test" },
	{ "<\"us\xc3\xa9r\"@example.test>", 0, SMTP_ADDR_ERR_UTF8 },
	{ "<\"us\xc3\xa9r\"@example.test>", U, OK, "us\xc3\xa9r",
	    "example.test" },
	{ "<\"us\xc3r\"@example.test>", U, SMTP_ADDR_ERR_QUOTED },
	{ "<\"abc@example.test>", 0, SMTP_ADDR_ERR_SYNTAX },

	/* Address literals. */
	{ "<user@[127.0.0.1]>", 0, SMTP_ADDR_ERR_LITERAL },
	{ "<user@[127.0.0.1]>", ALL, SMTP_ADDR_ERR_LITERAL },
	{ "<user@[IPv6:::1]>", 0, SMTP_ADDR_ERR_LITERAL },
	{ "<user@[example.test]>", 0, SMTP_ADDR_ERR_LITERAL },
	{ "<user@127.0.0.1>", 0, SMTP_ADDR_ERR_DOMAIN },

	/* Trailing dot and other bad domains. */
	{ "<user@example.test.>", 0, SMTP_ADDR_ERR_TRAILING_DOT },
	{ "<user@example.test.>", ALL, SMTP_ADDR_ERR_TRAILING_DOT },
	{ "<user@example.test..>", 0, SMTP_ADDR_ERR_TRAILING_DOT },
	{ "<user@.>", 0, SMTP_ADDR_ERR_TRAILING_DOT },
	{ "<user@.example.test>", 0, SMTP_ADDR_ERR_DOMAIN },
	{ "<user@example..test>", 0, SMTP_ADDR_ERR_DOMAIN },
	{ "<user@localhost>", 0, SMTP_ADDR_ERR_DOMAIN },
	{ "<user@-bad.test>", 0, SMTP_ADDR_ERR_DOMAIN },
	{ "<user@bad-.test>", 0, SMTP_ADDR_ERR_DOMAIN },
	{ "<user@exa_mple.test>", 0, SMTP_ADDR_ERR_DOMAIN },
	{ "<user@ex%ample.test>", 0, SMTP_ADDR_ERR_DOMAIN },
	{ "<user@ex!ample.test>", 0, SMTP_ADDR_ERR_DOMAIN },
	{ "<user@example.test >", 0, SMTP_ADDR_ERR_DOMAIN },
	{ "<user@example.123>", 0, SMTP_ADDR_ERR_DOMAIN },
	{ "<user@>", 0, SMTP_ADDR_ERR_SYNTAX },

	/* Non-ASCII needs SMTPUTF8 (RFC 6531 3.3). */
	{ "<jos\xc3\xa9@example.test>", 0, SMTP_ADDR_ERR_UTF8 },
	{ "<jos\xc3\xa9@example.test>", S, SMTP_ADDR_ERR_UTF8 },
	{ "<jos\xc3\xa9@example.test>", U, OK, "jos\xc3\xa9",
	    "example.test" },
	{ "<jos\xc3\xa9@example.test>", S | U, OK, "jos\xc3\xa9",
	    "example.test" },
	{ "<jos\xc3@example.test>", U, SMTP_ADDR_ERR_SYNTAX },
	{ "<jos\xc0\xa9@example.test>", U, SMTP_ADDR_ERR_SYNTAX },
	{ "<\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.test>", U, OK,
	    "\xe7\x94\xa8\xe6\x88\xb7", "\xe4\xbe\x8b\xe5\xad\x90.test" },
	{ "<user@b\xc3\xbc" "cher.example>", 0, SMTP_ADDR_ERR_UTF8 },
	{ "<user@b\xc3\xbc" "cher.example>", U, OK, "user",
	    "b\xc3\xbc" "cher.example" },
	{ "<user@B\xc3\xbc" "CHER.Example>", U, OK, "user",
	    "b\xc3\xbc" "cher.example" },	/* ASCII lowercased only */
	{ "<user@b\xc3" "cher.example>", U, SMTP_ADDR_ERR_DOMAIN },
	{ "<user@example.test\xff>", U, SMTP_ADDR_ERR_DOMAIN },

	/* Postmaster (RFC 5321 4.1.1.3) and the null path. */
	{ "<postmaster>", P, OK, "postmaster", "" },
	{ "<Postmaster>", P, OK, "postmaster", "" },
	{ "<POSTMASTER>", P | S, OK, "postmaster", "" },
	{ "<postmaster>", 0, SMTP_ADDR_ERR_SYNTAX },
	{ "<postmaster>", N | S | U, SMTP_ADDR_ERR_SYNTAX },
	{ "<postmasterx>", P, SMTP_ADDR_ERR_SYNTAX },
	{ "<postmaster@example.test>", 0, OK, "postmaster",
	    "example.test" },
	{ "<>", 0, SMTP_ADDR_ERR_NULL },
	{ "<>", S | U | P, SMTP_ADDR_ERR_NULL },
	{ "<>", N, OK, "", "" },

	/* Lengths: RFC 5321 4.5.3.1. */
	{ "<" A64 "@example.test>", S, OK, A64, "example.test" },
	{ "<" A65 "@example.test>", S, SMTP_ADDR_ERR_TOOLONG },
	{ "<" A65 "@example.test>", 0, SMTP_ADDR_ERR_TOOLONG },
	{ "<\"" A10 A10 A10 A10 A10 A10 "aa\"@example.test>", 0, OK,
	    A10 A10 A10 A10 A10 A10 "aa", "example.test" },
	{ "<\"" A10 A10 A10 A10 A10 A10 "a a\"@example.test>", 0,
	    SMTP_ADDR_ERR_TOOLONG },		/* 65 with the quotes */
	{ "<a@" D252 ">", S, OK, "a", D252 },
	{ "<ab@" D252 ">", S, SMTP_ADDR_ERR_TOOLONG },	/* path 257 */
	{ "<" A64 "@" D252 ">", S, SMTP_ADDR_ERR_TOOLONG },

	/* Plain syntax errors. */
	{ "user@example.test", 0, SMTP_ADDR_ERR_SYNTAX },
	{ "<user@example.test", 0, SMTP_ADDR_ERR_SYNTAX },
	{ " <user@example.test>", 0, SMTP_ADDR_ERR_SYNTAX },
	{ "", 0, SMTP_ADDR_ERR_SYNTAX },
	{ "<", N, SMTP_ADDR_ERR_SYNTAX },
	{ "<user>", 0, SMTP_ADDR_ERR_SYNTAX },
	{ "<user>", ALL, SMTP_ADDR_ERR_SYNTAX },
	{ "<a..b@example.test>", 0, SMTP_ADDR_ERR_SYNTAX },
	{ "<.a@example.test>", 0, SMTP_ADDR_ERR_SYNTAX },
	{ "<a.@example.test>", 0, SMTP_ADDR_ERR_SYNTAX },
	{ "<a b@example.test>", 0, SMTP_ADDR_ERR_SYNTAX },
	{ "< user@example.test>", 0, SMTP_ADDR_ERR_SYNTAX },
	{ "<a(b)@example.test>", 0, SMTP_ADDR_ERR_SYNTAX },
	{ "<a,b@example.test>", 0, SMTP_ADDR_ERR_SYNTAX },
	{ "<a:b@example.test>", 0, SMTP_ADDR_ERR_SYNTAX },
	{ "<a<b@example.test>", 0, SMTP_ADDR_ERR_SYNTAX },
	{ "<u\"ser@example.test>", 0, SMTP_ADDR_ERR_SYNTAX },
	{ "<a\\b@example.test>", 0, SMTP_ADDR_ERR_SYNTAX },
};

static void
addr_check_case(const struct addr_case *c, size_t idx)
{
	struct smtp_addr addr;
	struct str cur = str_cstr(c->in), before = cur;
	enum smtp_addr_err err;

	err = smtp_addr_parse_path(&cur, c->flags, &addr);
	CHECKF(err == c->err, "case %zu <%s> flags 0x%x: got %s (%d), want %s "
	    "(%d)", idx, c->in, c->flags, smtp_addr_strerror(err), err,
	    smtp_addr_strerror(c->err), c->err);
	if (err != SMTP_ADDR_OK) {
		CHECKF(cur.p == before.p && cur.len == before.len,
		    "case %zu: cursor moved on error", idx);
		return;
	}
	if (c->err != SMTP_ADDR_OK)
		return;
	CHECKF(strcmp(addr.local, c->local) == 0, "case %zu %s: local \"%s\", "
	    "want \"%s\"", idx, c->in, addr.local, c->local);
	CHECKF(strcmp(addr.domain, c->domain) == 0, "case %zu %s: domain "
	    "\"%s\", want \"%s\"", idx, c->in, addr.domain, c->domain);
	CHECKF(cur.len == 0, "case %zu: %zu bytes left after '>'", idx,
	    cur.len);
	CHECKF(addr.null == (strcmp(c->in, "<>") == 0), "case %zu: null %d",
	    idx, addr.null);
}

TEST(smtp_addr_table)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(addr_cases); i++)
		addr_check_case(&addr_cases[i], i);
}

/* The table's long rows are as long as their comments say. */
TEST(smtp_addr_table_lengths)
{
	CHECK_EQ_INT(strlen(A64), SMTP_LOCAL_MAX);
	CHECK_EQ_INT(strlen(L63), 63);
	CHECK_EQ_INT(strlen(D252), 252);
	CHECK_EQ_INT(strlen(D255), SMTP_DOMAIN_MAX);
	CHECK_EQ_INT(strlen("<a@" D252 ">"), SMTP_PATH_MAX);
}

/* Every refusal in the table that is a routing trick is flagged as one. */
TEST(smtp_addr_trick_classification)
{
	static const struct {
		enum smtp_addr_err	 err;
		bool			 trick;
	} cases[] = {
		{ SMTP_ADDR_OK, false },
		{ SMTP_ADDR_ERR_SYNTAX, false },
		{ SMTP_ADDR_ERR_TOOLONG, false },
		{ SMTP_ADDR_ERR_ROUTE, true },
		{ SMTP_ADDR_ERR_LITERAL, true },
		{ SMTP_ADDR_ERR_RELAYCHAR, true },
		{ SMTP_ADDR_ERR_QUOTED, true },
		{ SMTP_ADDR_ERR_UTF8, false },
		{ SMTP_ADDR_ERR_DOMAIN, false },
		{ SMTP_ADDR_ERR_TRAILING_DOT, true },
		{ SMTP_ADDR_ERR_NULL, false },
	};
	size_t i, j;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		const char *s = smtp_addr_strerror(cases[i].err);

		CHECKF(smtp_addr_err_is_trick(cases[i].err) == cases[i].trick,
		    "err %d: is_trick %d", cases[i].err, !cases[i].trick);
		CHECKF(s != NULL && s[0] != '\0', "err %d: no text",
		    cases[i].err);
		/* Each error has its own text. */
		for (j = 0; j < i; j++)
			CHECKF(strcmp(s, smtp_addr_strerror(cases[j].err)) != 0,
			    "errors %d and %d share \"%s\"", cases[i].err,
			    cases[j].err, s);
	}
	CHECK(smtp_addr_strerror((enum smtp_addr_err)99) != NULL);
}

/* After '>', the rest of the line (parameters) is left in the cursor. */
TEST(smtp_addr_cursor_keeps_params)
{
	static const struct {
		const char	*in;
		int		 flags;
		const char	*rest;
	} cases[] = {
		{ "<user@example.test> SIZE=100", 0, " SIZE=100" },
		{ "<> BODY=8BITMIME", N, " BODY=8BITMIME" },
		{ "<postmaster> NOTIFY=NEVER", P, " NOTIFY=NEVER" },
		{ "<user@example.test>>", 0, ">" },
		{ "<\"a>b\"@example.test> X=1", 0, " X=1" },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		struct smtp_addr addr;
		struct str cur = str_cstr(cases[i].in);

		CHECK_EQ_INT(smtp_addr_parse_path(&cur, cases[i].flags, &addr),
		    SMTP_ADDR_OK);
		CHECKF(str_eq(cur, str_cstr(cases[i].rest)), "%s: rest "
		    "\"%.*s\", want \"%s\"", cases[i].in, (int)cur.len, cur.p,
		    cases[i].rest);
	}
}

TEST(smtp_addr_flags_set)
{
	struct smtp_addr addr;
	struct str cur;

	cur = STR_LIT("<jos\xc3\xa9@example.test>");
	CHECK_EQ_INT(smtp_addr_parse_path(&cur, U, &addr), SMTP_ADDR_OK);
	CHECK(addr.utf8);
	CHECK(!addr.null && !addr.postmaster_only);
	cur = STR_LIT("<user@example.test>");
	CHECK_EQ_INT(smtp_addr_parse_path(&cur, U, &addr), SMTP_ADDR_OK);
	CHECK(!addr.utf8);
	cur = STR_LIT("<Postmaster>");
	CHECK_EQ_INT(smtp_addr_parse_path(&cur, P, &addr), SMTP_ADDR_OK);
	CHECK(addr.postmaster_only);
	CHECK(!addr.null);
	cur = STR_LIT("<>");
	CHECK_EQ_INT(smtp_addr_parse_path(&cur, N, &addr), SMTP_ADDR_OK);
	CHECK(addr.null);
	CHECK(!addr.postmaster_only);
	CHECK_EQ_STR(addr.local, "");
	CHECK_EQ_STR(addr.domain, "");
}

/* NUL bytes are never part of an address. */
TEST(smtp_addr_nul_bytes)
{
	static const struct {
		const char	*in;
		size_t		 len;
	} cases[] = {
		{ "<us\0er@example.test>", 20 },
		{ "<user@exa\0mple.test>", 20 },
		{ "<\"us\0er\"@example.test>", 22 },
		{ "<user@example.test\0>", 20 },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		struct smtp_addr addr;
		struct str cur = str_make(cases[i].in, cases[i].len);
		enum smtp_addr_err err = smtp_addr_parse_path(&cur, 0, &addr);

		CHECKF(err != SMTP_ADDR_OK, "case %zu: NUL accepted", i);
	}
}

/* smtp_addr_parse: the bare "local@domain" form used by config files. */
TEST(smtp_addr_parse_bare)
{
	static const struct {
		const char		*in;
		int			 flags;
		enum smtp_addr_err	 err;
	} cases[] = {
		{ "user@example.test", 0, OK },
		{ "User@EXAMPLE.test", S, OK },
		{ "", 0, SMTP_ADDR_ERR_SYNTAX },
		{ "user", 0, SMTP_ADDR_ERR_SYNTAX },
		{ "@example.test", 0, SMTP_ADDR_ERR_SYNTAX },
		{ "<user@example.test>", 0, SMTP_ADDR_ERR_SYNTAX },
		{ "a@b@example.test", 0, SMTP_ADDR_ERR_RELAYCHAR },
		{ "a%b@example.test", S, SMTP_ADDR_ERR_RELAYCHAR },
		{ "user@[10.0.0.1]", 0, SMTP_ADDR_ERR_LITERAL },
		{ "user@example.test.", 0, SMTP_ADDR_ERR_TRAILING_DOT },
		{ "a@" D255, 0, OK },
		{ "a@" D255 "d", 0, SMTP_ADDR_ERR_TOOLONG },
		{ "a@" D255 ".x", 0, SMTP_ADDR_ERR_TOOLONG },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		struct smtp_addr addr;
		enum smtp_addr_err err = smtp_addr_parse(str_cstr(cases[i].in),
		    cases[i].flags, &addr);

		CHECKF(err == cases[i].err, "smtp_addr_parse(\"%s\", 0x%x): "
		    "%s, want %s", cases[i].in, cases[i].flags,
		    smtp_addr_strerror(err), smtp_addr_strerror(cases[i].err));
	}
}

/* Formatting, and every accepted row formats and parses back the same. */
TEST(smtp_addr_format_round_trip)
{
	char out[SMTP_ADDR_TEXT_MAX], path[SMTP_ADDR_TEXT_MAX + 2];
	struct smtp_addr a, b;
	struct str cur;
	size_t i;
	int n;

	for (i = 0; i < ARRAY_LEN(addr_cases); i++) {
		const struct addr_case *c = &addr_cases[i];

		if (c->err != SMTP_ADDR_OK)
			continue;
		cur = str_cstr(c->in);
		if (smtp_addr_parse_path(&cur, c->flags, &a) != SMTP_ADDR_OK)
			continue;	/* reported by smtp_addr_table */
		CHECKF(smtp_addr_format(&a, out, sizeof(out)) == 0,
		    "case %zu: format failed", i);
		n = snprintf(path, sizeof(path), "<%s>", out);
		cur = str_make(path, (size_t)n);
		CHECKF(smtp_addr_parse_path(&cur, c->flags, &b) ==
		    SMTP_ADDR_OK, "case %zu: %s does not parse back", i, path);
		CHECKF(strcmp(a.local, b.local) == 0 &&
		    strcmp(a.domain, b.domain) == 0 && a.null == b.null &&
		    a.postmaster_only == b.postmaster_only,
		    "case %zu: %s parses back differently", i, path);
	}

	cur = STR_LIT("<User@Example.TEST>");
	CHECK_EQ_INT(smtp_addr_parse_path(&cur, 0, &a), SMTP_ADDR_OK);
	CHECK_EQ_INT(smtp_addr_format(&a, out, sizeof(out)), 0);
	CHECK_EQ_STR(out, "User@example.test");
	CHECK_EQ_INT(smtp_addr_format(&a, out, 18), 0);
	CHECK_EQ_INT(smtp_addr_format(&a, out, 17), -1);	/* no room */
	cur = STR_LIT("<>");
	CHECK_EQ_INT(smtp_addr_parse_path(&cur, N, &a), SMTP_ADDR_OK);
	CHECK_EQ_INT(smtp_addr_format(&a, out, sizeof(out)), 0);
	CHECK_EQ_STR(out, "");
	CHECK_EQ_INT(smtp_addr_format(&a, out, 1), 0);
	cur = STR_LIT("<postmaster>");
	CHECK_EQ_INT(smtp_addr_parse_path(&cur, P, &a), SMTP_ADDR_OK);
	CHECK_EQ_INT(smtp_addr_format(&a, out, sizeof(out)), 0);
	CHECK_EQ_STR(out, "postmaster");
	cur = STR_LIT("<" A64 "@" D252 ">");
	CHECK_EQ_INT(smtp_addr_parse_path(&cur, 0, &a),
	    SMTP_ADDR_ERR_TOOLONG);
}

/* Feeding a path one byte more at a time: only the full one parses. */
TEST(smtp_addr_prefixes_never_parse)
{
	static const char *const paths[] = {
		"<user@example.test>",
		"<\"a b\"@example.test>",
		"<postmaster>",
	};
	size_t i, n;

	for (i = 0; i < ARRAY_LEN(paths); i++) {
		size_t len = strlen(paths[i]);

		for (n = 0; n < len; n++) {
			struct smtp_addr addr;
			struct str cur = str_make(paths[i], n);

			CHECKF(smtp_addr_parse_path(&cur, ALL, &addr) !=
			    SMTP_ADDR_OK, "prefix %zu of %s parsed", n,
			    paths[i]);
		}
	}
}
