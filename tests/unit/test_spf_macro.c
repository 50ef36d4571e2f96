/*
 * test_spf_macro.c - SPF macro expansion (spf_macro.c): the examples of
 * RFC 7208 7.4, the other letters, escapes, URL encoding, truncation of
 * long names (7.3), syntax errors, name validity, reverse names.
 */
#include "core/common.h"

#include <arpa/inet.h>

#include "spf/spf_macro.h"
#include "unit/unit.h"

#define EXP SPF_MACRO_EXP
#define ERR NULL

/* RFC 7208 7.4: the sender, the client addresses and the PTR name. */
static void
ctx_rfc(struct spf_macro_ctx *ctx, const char *ip)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->sender = "strong-bad@email.example.com";
	ctx->domain = "email.example.com";
	ctx->helo = "mx.example.org";
	ctx->receiver = "example.net";
	ctx->ptr = "mx.example.org";
	ctx->now = 1234567890;
	ctx->family = strchr(ip, ':') ? AF_INET6 : AF_INET;
	inet_pton(ctx->family, ip, ctx->ip);
}

static const struct {
	const char	*in;
	const char	*ip;
	int		 flags;
	const char	*want;		/* ERR: a syntax error */
} macro_cases[] = {
	/* RFC 7208 7.4, first table. */
	{ "%{s}", "192.0.2.3", 0, "strong-bad@email.example.com" },
	{ "%{o}", "192.0.2.3", 0, "email.example.com" },
	{ "%{d}", "192.0.2.3", 0, "email.example.com" },
	{ "%{d4}", "192.0.2.3", 0, "email.example.com" },
	{ "%{d3}", "192.0.2.3", 0, "email.example.com" },
	{ "%{d2}", "192.0.2.3", 0, "example.com" },
	{ "%{d1}", "192.0.2.3", 0, "com" },
	{ "%{dr}", "192.0.2.3", 0, "com.example.email" },
	{ "%{d2r}", "192.0.2.3", 0, "example.email" },
	{ "%{l}", "192.0.2.3", 0, "strong-bad" },
	{ "%{l-}", "192.0.2.3", 0, "strong.bad" },
	{ "%{lr}", "192.0.2.3", 0, "strong-bad" },
	{ "%{lr-}", "192.0.2.3", 0, "bad.strong" },
	{ "%{l1r-}", "192.0.2.3", 0, "strong" },
	/* RFC 7208 7.4, second table. */
	{ "%{ir}.%{v}._spf.%{d2}", "192.0.2.3", 0,
	    "3.2.0.192.in-addr._spf.example.com" },
	{ "%{lr-}.lp._spf.%{d2}", "192.0.2.3", 0,
	    "bad.strong.lp._spf.example.com" },
	{ "%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", "192.0.2.3", 0,
	    "bad.strong.lp.3.2.0.192.in-addr._spf.example.com" },
	{ "%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", "192.0.2.3", 0,
	    "3.2.0.192.in-addr.strong.lp._spf.example.com" },
	{ "%{d2}.trusted-domains.example.net", "192.0.2.3", 0,
	    "example.com.trusted-domains.example.net" },
	{ "%{ir}.%{v}._spf.%{d2}", "2001:db8::cb01", 0,
	    "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2."
	    "ip6._spf.example.com" },

	/* The other letters. */
	{ "%{i}", "192.0.2.3", 0, "192.0.2.3" },
	{ "%{i}", "2001:db8::cb01", 0,
	    "2.0.0.1.0.d.b.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.c.b.0.1" },
	{ "%{i}", "::ffff:192.0.2.3", 0,
	    "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.f.f.f.f.c.0.0.0.0.2.0.3" },
	{ "%{v}", "2001:db8::cb01", 0, "ip6" },
	{ "%{p}", "192.0.2.3", 0, "mx.example.org" },
	{ "%{p2}", "192.0.2.3", 0, "example.org" },
	{ "%{h}", "192.0.2.3", 0, "mx.example.org" },
	{ "%{c}", "192.0.2.3", EXP, "192.0.2.3" },
	{ "%{c}", "2001:db8::cb01", EXP, "2001:db8::cb01" },
	{ "%{r}", "192.0.2.3", EXP, "example.net" },
	{ "%{t}", "192.0.2.3", EXP, "1234567890" },
	{ "%{c} is queried as %{ir}.%{v}.arpa", "192.168.218.40", EXP,
	    "192.168.218.40 is queried as 40.218.168.192.in-addr.arpa" },

	/* Transformers and delimiters. */
	{ "%{d99999999999999999999}", "192.0.2.3", 0, "email.example.com" },
	{ "%{d01}", "192.0.2.3", 0, "com" },
	{ "%{dR}", "192.0.2.3", 0, "com.example.email" },
	{ "%{ir.}", "192.0.2.3", 0, "3.2.0.192" },
	{ "%{o1r}", "192.0.2.3", 0, "email" },
	{ "%{s-}", "192.0.2.3", 0, "strong.bad@email.example.com" },
	{ "%{s=}", "192.0.2.3", 0, "strong-bad@email.example.com" },
	{ "%{d2r.-+,/_=}", "192.0.2.3", 0, "example.email" },
	{ "%{l2r+-}.user.%{d2}", "192.0.2.3", 0,
	    "bad.strong.user.example.com" },

	/* Escapes. */
	{ "a%%b%_c%-d.example.com", "192.0.2.3", 0,
	    "a%b c%20d.example.com" },
	{ "%%%_/.Clara.de", "192.0.2.3", 0, "% /.Clara.de" },
	{ "a%%b%_c%-d", "192.0.2.3", EXP, "a%b c%20d" },

	/* Uppercase letters are URL-encoded (RFC 7208 7.3). */
	{ "%{S}", "192.0.2.3", 0, "strong-bad%40email.example.com" },
	{ "%{D2}", "192.0.2.3", 0, "example.com" },
	{ "%{C}", "2001:db8::cb01", EXP, "2001%3Adb8%3A%3Acb01" },

	/* One trailing dot goes from names, not from explanations. */
	{ "%{d}.", "192.0.2.3", 0, "email.example.com" },
	{ "This is a test.", "192.0.2.3", EXP, "This is a test." },

	/* Syntax errors (RFC 7208 7.1). */
	{ "%", "192.0.2.3", 0, ERR },
	{ "a%", "192.0.2.3", EXP, ERR },
	{ "%x", "192.0.2.3", 0, ERR },
	{ "%(ir).sbl.example.com", "192.0.2.3", 0, ERR },
	{ "%{", "192.0.2.3", 0, ERR },
	{ "%{d", "192.0.2.3", 0, ERR },
	{ "%{d2", "192.0.2.3", 0, ERR },
	{ "%{}", "192.0.2.3", 0, ERR },
	{ "%{z}", "192.0.2.3", EXP, ERR },
	{ "%{a}.example.com", "192.0.2.3", 0, ERR },
	{ "%{d0}", "192.0.2.3", 0, ERR },
	{ "%{d00}", "192.0.2.3", 0, ERR },
	{ "%{drr}", "192.0.2.3", 0, ERR },
	{ "%{d2x}", "192.0.2.3", 0, ERR },
	{ "%{d r}", "192.0.2.3", EXP, ERR },
	{ "%{c}", "192.0.2.3", 0, ERR },		/* exp only (7.2) */
	{ "%{r}", "192.0.2.3", 0, ERR },
	{ "%{t}", "192.0.2.3", 0, ERR },
	{ "a b", "192.0.2.3", 0, ERR },			/* SP: exp only */
	{ "a\x01" "b", "192.0.2.3", EXP, ERR },
	{ "caf\xc3\xa9", "192.0.2.3", EXP, ERR },
};

TEST(spf_macro_table)
{
	struct spf_macro_ctx ctx;
	const char *err;
	struct buf b;
	size_t i;
	int r;

	buf_init(&b, SPF_EXPAND_MAX + 1);
	for (i = 0; i < ARRAY_LEN(macro_cases); i++) {
		ctx_rfc(&ctx, macro_cases[i].ip);
		err = NULL;
		r = spf_macro_expand(str_cstr(macro_cases[i].in), &ctx,
		    macro_cases[i].flags, &b, &err);
		if (macro_cases[i].want == ERR) {
			CHECKF(r == -1 && err != NULL, "\"%s\": got \"%s\", "
			    "want a syntax error", macro_cases[i].in,
			    buf_cstr(&b));
			CHECK_EQ_INT(spf_macro_check(str_cstr(
			    macro_cases[i].in), macro_cases[i].flags, &err),
			    -1);
			continue;
		}
		CHECKF(r == 0, "\"%s\": error %s", macro_cases[i].in, err);
		CHECK_EQ_STR(buf_cstr(&b), macro_cases[i].want);
	}
	buf_release(&b);
}

/* RFC 7208 4.3: no local-part is "postmaster"; p and r may be unknown. */
TEST(spf_macro_defaults)
{
	struct spf_macro_ctx ctx;
	const char *err;
	struct buf b;

	buf_init(&b, SPF_EXPAND_MAX + 1);
	ctx_rfc(&ctx, "192.0.2.3");
	ctx.sender = "@example.net";
	ctx.ptr = NULL;
	ctx.receiver = NULL;
	CHECK_EQ_INT(spf_macro_expand(STR_LIT("%{l}.%{o}.%{p}"), &ctx, 0, &b,
	    &err), 0);
	CHECK_EQ_STR(buf_cstr(&b), "postmaster.example.net.unknown");
	CHECK_EQ_INT(spf_macro_expand(STR_LIT("%{r}"), &ctx, EXP, &b, &err),
	    0);
	CHECK_EQ_STR(buf_cstr(&b), "unknown");
	/* The upper-macro case of the RFC 7208 test suite. */
	ctx.sender = "~jack&jill=up-a_b3.c@e8.example.com";
	CHECK_EQ_INT(spf_macro_expand(STR_LIT("http://example.com/why.html?"
	    "l=%{L}"), &ctx, EXP, &b, &err), 0);
	CHECK_EQ_STR(buf_cstr(&b), "http://example.com/why.html?l="
	    "~jack%26jill%3Dup-a_b3.c");
	/* Explanations: control characters from values become '?'. */
	ctx.helo = "a\r\nb";
	CHECK_EQ_INT(spf_macro_expand(STR_LIT("%{h}"), &ctx, EXP, &b, &err),
	    0);
	CHECK_EQ_STR(buf_cstr(&b), "a??b");
	buf_release(&b);
}

static void
repeat(char *out, size_t n, char c)
{
	memset(out, c, n);
	out[n] = '\0';
}

/* Appends s to the string in out[size], which must have room. */
static void
append(char *out, size_t size, const char *s)
{
	size_t have = strlen(out), n = strlen(s);

	if (have + n >= size)
		abort();
	memcpy(out + have, s, n + 1);
}

/* RFC 7208 7.3: labels on the left go until the name fits 253 octets. */
TEST(spf_macro_truncation)
{
	char spec[4096], want[512];
	struct spf_macro_ctx ctx;
	const char *err = NULL;
	struct buf b;
	size_t i;

	buf_init(&b, SPF_EXPAND_MAX + 1);
	ctx_rfc(&ctx, "192.168.218.40");
	/* The domain-name-truncation case of the RFC 7208 test suite. */
	ctx.sender = "test@somewhat.long.exp.example.com";
	CHECK_EQ_INT(spf_macro_expand(STR_LIT("foobar.%{o}.%{o}.%{o}.%{o}."
	    "%{o}.%{o}.%{o}.%{o}.example.com"), &ctx, 0, &b, &err), 0);
	want[0] = '\0';
	for (i = 0; i < 8; i++)
		append(want, sizeof(want), "somewhat.long.exp.example.com.");
	append(want, sizeof(want), "example.com");
	CHECK_EQ_STR(buf_cstr(&b), want);
	CHECK(buf_len(&b) <= SPF_NAME_MAX);
	/* Labels far longer than the window are dropped whole. */
	for (i = 1; i < 3000; i += 299) {
		repeat(spec, i, 'a');
		append(spec, sizeof(spec), ".example.com");
		CHECK_EQ_INT(spf_macro_expand(str_cstr(spec), &ctx, 0, &b,
		    &err), 0);
		CHECK_EQ_STR(buf_cstr(&b), i <= SPF_NAME_MAX - 12 ? spec :
		    "example.com");
	}
	/* Nothing left once the last label alone is too long. */
	repeat(spec, 300, 'a');
	CHECK_EQ_INT(spf_macro_expand(str_cstr(spec), &ctx, 0, &b, &err), -1);
	repeat(spec, 3000, 'a');
	CHECK_EQ_INT(spf_macro_expand(str_cstr(spec), &ctx, 0, &b, &err), -1);
	/* Many macros: bounded output, a valid name in the end. */
	spec[0] = '\0';
	for (i = 0; i < 400; i++)
		append(spec, sizeof(spec), "%{S}.");
	append(spec, sizeof(spec), "example.com");
	CHECK_EQ_INT(spf_macro_expand(str_cstr(spec), &ctx, 0, &b, &err), 0);
	CHECK(buf_len(&b) <= SPF_NAME_MAX);
	CHECK(spf_name_valid(buf_data(&b), buf_len(&b), true));
	/* Explanations are cut, not truncated by labels. */
	repeat(spec, 1000, 'x');
	CHECK_EQ_INT(spf_macro_expand(str_cstr(spec), &ctx, EXP, &b, &err), 0);
	CHECK_EQ_INT(buf_len(&b), SPF_EXPLAIN_MAX);
	buf_release(&b);
}

TEST(spf_macro_uses)
{
	CHECK(spf_macro_uses(STR_LIT("%{p}"), 'p'));
	CHECK(spf_macro_uses(STR_LIT("x.%{P2r}.y"), 'p'));
	CHECK(!spf_macro_uses(STR_LIT("%%{p}"), 'p'));
	CHECK(!spf_macro_uses(STR_LIT("%{d}.p.example"), 'p'));
	CHECK(!spf_macro_uses(STR_LIT("%{p"), 'p'));
}

TEST(spf_macro_domain_end)
{
	CHECK(spf_domain_end_valid(STR_LIT("example.com")));
	CHECK(spf_domain_end_valid(STR_LIT("example.com.")));
	CHECK(spf_domain_end_valid(STR_LIT("%{d}")));
	CHECK(spf_domain_end_valid(STR_LIT("x%_")));
	CHECK(spf_domain_end_valid(STR_LIT("%{d}.com")));
	CHECK(spf_domain_end_valid(STR_LIT("a.b-1")));
	CHECK(spf_domain_end_valid(STR_LIT("a.1-1")));
	CHECK(!spf_domain_end_valid(STR_LIT("com")));
	CHECK(spf_domain_end_valid(STR_LIT(".com.")));
	CHECK(!spf_domain_end_valid(STR_LIT("a.123")));
	CHECK(!spf_domain_end_valid(STR_LIT("a.-b")));
	CHECK(!spf_domain_end_valid(STR_LIT("a.b-")));
	CHECK(!spf_domain_end_valid(STR_LIT("a.b..")));
	CHECK(!spf_domain_end_valid(STR_LIT("%{d}x")));
	CHECK(!spf_domain_end_valid(STR_LIT("%{d}.")));
	CHECK(!spf_domain_end_valid(STR_LIT("example.com:8080")));
	CHECK(!spf_domain_end_valid(STR_LIT("")));
}

#define L63 "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabc"

TEST(spf_macro_name_valid)
{
#define N253 L63 "." L63 "." L63 "." "abcdefghijabcdefghijabcdefghij" \
	    "abcdefghijabcdefghijabcdefghija"

	CHECK_EQ_INT(strlen(N253), 253);
	CHECK(spf_name_valid(N253, 253, true));
	CHECK(!spf_name_valid(N253 "x", 254, true));
	CHECK(spf_name_valid("a.b", 3, true));
	CHECK(spf_name_valid("a b.c", 5, true));	/* %_ makes spaces */
	CHECK(!spf_name_valid("a", 1, true));
	CHECK(spf_name_valid("a", 1, false));
	CHECK(!spf_name_valid("", 0, false));
	CHECK(!spf_name_valid("a..b", 4, false));
	CHECK(!spf_name_valid(".a", 2, false));
	CHECK(!spf_name_valid("a.", 2, false));
	CHECK(spf_name_valid(L63 ".b", 65, true));
	CHECK(!spf_name_valid(L63 "x.b", 66, true));
	CHECK(!spf_name_valid("a\\b.c", 5, true));
	CHECK(!spf_name_valid("a\x01.c", 4, true));
	CHECK(!spf_name_valid("caf\xc3\xa9.c", 7, true));
}

TEST(spf_macro_reverse_name)
{
	unsigned char ip[16];
	char out[128];

	inet_pton(AF_INET, "192.0.2.3", ip);
	CHECK_EQ_INT(spf_reverse_name(AF_INET, ip, out, sizeof(out)), 0);
	CHECK_EQ_STR(out, "3.2.0.192.in-addr.arpa");
	inet_pton(AF_INET6, "2001:db8::cb01", ip);
	CHECK_EQ_INT(spf_reverse_name(AF_INET6, ip, out, sizeof(out)), 0);
	CHECK_EQ_STR(out, "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
	    "8.b.d.0.1.0.0.2.ip6.arpa");
	CHECK_EQ_INT(spf_reverse_name(AF_INET6, ip, out, 40), -1);
}
