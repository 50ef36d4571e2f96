/*
 * test_dkim_parse.c - the three parsers of hostile text: tag=value lists
 * (RFC 6376 3.2), DKIM-Signature fields (3.5) and key records (3.6.1,
 * RFC 8463 4.2). One table each: the input and what it must give.
 */
#include "core/common.h"

#include <openssl/evp.h>

#include "dkim/dkim_int.h"
#include "unit/unit.h"

struct tags_case {
	const char	*in;
	int		 rc;
	size_t		 n;
	const char	*names;		/* space-separated, on success */
	const char	*last;		/* the last tag's value */
};

static const struct tags_case tags_cases[] = {
	{ "", 0, 0, "", NULL },
	{ " \r\n\t ", 0, 0, "", NULL },
	{ "a=1", 0, 1, "a", "1" },
	{ "a=1;", 0, 1, "a", "1" },
	{ "a=1; ", 0, 1, "a", "1" },
	{ " a = 1 ; b=2;c=", 0, 3, "a b c", "" },
	/* FWS inside a value stays; around it goes. */
	{ "h=from : to;\r\n\tb= ab\r\n cd ", 0, 2, "h b", "ab\r\n cd" },
	{ "x_1=v;Z9=w", 0, 2, "x_1 Z9", "w" },
	{ "n=a=b=c", 0, 1, "n", "a=b=c" },
	{ "v=\xc3\xa9", 0, 1, "v", "\xc3\xa9" },
	/* Names: ALPHA *ALNUMPUNC, case-sensitive. */
	{ "A=1; a=2", 0, 2, "A a", "2" },
	{ "1a=1", -1 }, { "_a=1", -1 }, { "=1", -1 }, { "a-b=1", -1 },
	{ "a b=1", -1 }, { "a", -1 }, { "a;b=1", -1 },
	/* One ';' between tags, and no empty tag-spec. */
	{ "a=1;;b=2", -1 }, { ";a=1", -1 }, { "a=1; ;", -1 },
	/* RFC 6376 3.2: a duplicate voids the list. */
	{ "a=1; a=1", -1 }, { "p=; k=rsa; p=x", -1 },
	/* Controls and DEL are not VALCHAR. */
	{ "a=\x01", -1 }, { "a=x\x7fy", -1 }, { "a=x\ry", 0, 1, "a", "x\ry" },
	/* 32 tags fit, 33 do not. */
	{ "a0=;a1=;a2=;a3=;a4=;a5=;a6=;a7=;a8=;a9=;b0=;b1=;b2=;b3=;b4=;b5=;"
	    "b6=;b7=;b8=;b9=;c0=;c1=;c2=;c3=;c4=;c5=;c6=;c7=;c8=;c9=;d0=;d1=",
	    0, 32, NULL, "" },
	{ "a0=;a1=;a2=;a3=;a4=;a5=;a6=;a7=;a8=;a9=;b0=;b1=;b2=;b3=;b4=;b5=;"
	    "b6=;b7=;b8=;b9=;c0=;c1=;c2=;c3=;c4=;c5=;c6=;c7=;c8=;c9=;d0=;d1=;"
	    "d2=", -1 },
};

static void
check_tag_names(const struct dkim_tags *t, const char *names)
{
	struct str cur = str_cstr(names), w;
	size_t i = 0;

	while (str_skip_ws(&cur), str_take_word(&cur, &w, 64))
		CHECK(i < t->n && str_eq(t->tag[i++].name, w));
	CHECK_EQ_INT(i, t->n);
}

TEST(dkim_tags)
{
	struct dkim_tags t;
	const char *why;
	size_t i;

	for (i = 0; i < ARRAY_LEN(tags_cases); i++) {
		const struct tags_case *c = &tags_cases[i];
		why = NULL;
		CHECKF(dkim_tags_parse(str_cstr(c->in), &t, &why) ==
		    c->rc, "tags case %zu", i);
		if (c->rc == -1) {
			CHECK(why != NULL);
			continue;
		}
		CHECK_EQ_INT(t.n, c->n);
		if (c->names)
			check_tag_names(&t, c->names);
		if (c->last)
			CHECK_EQ_MEM(t.tag[t.n - 1].value.p,
			    t.tag[t.n - 1].value.len, c->last, strlen(c->last));
	}
}

/* raw spans from '=' to ';': what dkim_strip_b deletes. */
TEST(dkim_tags_raw)
{
	static const char in[] = "a=1; b= x \r\n y ; c=2";
	const struct dkim_tag *b;
	struct dkim_tags t;
	const char *why;

	CHECK(dkim_tags_parse(STR_LIT(in), &t, &why) == 0);
	CHECK((b = dkim_tags_find(&t, "b")) != NULL);
	CHECK(b->raw.p == in + 7 && b->raw.len == 8);
	CHECK_EQ_MEM(b->value.p, b->value.len, "x \r\n y", 6);
	CHECK(dkim_tags_find(&t, "B") == NULL);
	CHECK(dkim_tags_find(&t, "") == NULL);
	/* A NUL is no VALCHAR either. */
	CHECK(dkim_tags_parse(str_make("a=x\0y", 5), &t, &why) == -1);
}

TEST(dkim_lists)
{
	struct dkim_list l;
	struct str item;
	static const char *const want[] = { "from", "to", "", "x y" };
	size_t n = 0;

	dkim_list_init(&l, STR_LIT(" from :\r\n\tto::x y "));
	while (dkim_list_next(&l, &item)) {
		CHECK(n < ARRAY_LEN(want) && str_eq(item, str_cstr(want[n])));
		n++;
	}
	CHECK_EQ_INT(n, 4);
	CHECK(!dkim_list_next(&l, &item));
	CHECK(dkim_list_has(STR_LIT("sha1 : SHA256"), "sha256"));
	CHECK(!dkim_list_has(STR_LIT("sha2567"), "sha256"));
	CHECK(!dkim_list_has(STR_LIT(""), "sha256"));
}

TEST(dkim_b64_fws)
{
	struct buf out;

	buf_init(&out, 64);
	CHECK(dkim_b64_decode(STR_LIT(" Zm9v\r\n\tYm Fy "), &out) == 0);
	CHECK_EQ_STR(buf_cstr(&out), "foobar");
	buf_reset(&out);
	CHECK(dkim_b64_decode(STR_LIT("Zm9vYg = ="), &out) == 0);
	CHECK_EQ_STR(buf_cstr(&out), "foob");
	buf_reset(&out);
	CHECK(dkim_b64_decode(STR_LIT(""), &out) == -1);
	CHECK(dkim_b64_decode(STR_LIT(" \r\n "), &out) == -1);
	CHECK(dkim_b64_decode(STR_LIT("="), &out) == -1);
	CHECK(dkim_b64_decode(STR_LIT("Zm9"), &out) == -1);
	CHECK(dkim_b64_decode(STR_LIT("Zm9v!"), &out) == -1);
}

#define BH32 "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8="
#define BH20 "uoq1oCgLlTqpdDX/iUbLy7J1Wic="
#define SIG_MIN(rest) "v=1; a=rsa-sha256; d=example.com; s=sel; " \
	"h=From:To; bh=" BH32 "; b=AAAA" rest

struct sig_case {
	const char	*in;
	int		 rc;
};

static const struct sig_case sig_cases[] = {
	{ SIG_MIN(""), 0 },
	{ SIG_MIN(";"), 0 },
	{ SIG_MIN("; c=relaxed/relaxed; i=joe@sub.example.com; l=10; "
	    "q=dns/txt; t=1; x=2; z=From:foo"), 0 },
	{ SIG_MIN("; unknown=whatever; i=@EXAMPLE.COM"), 0 },
	{ SIG_MIN("\r\n"), 0 },
	/* Required tags (RFC 6376 3.5). */
	{ "a=rsa-sha256; d=example.com; s=sel; h=from; bh=" BH32 "; b=AAAA",
	    -1 },
	{ "v=1; d=example.com; s=sel; h=from; bh=" BH32 "; b=AAAA", -1 },
	{ "v=1; a=rsa-sha256; s=sel; h=from; bh=" BH32 "; b=AAAA", -1 },
	{ "v=1; a=rsa-sha256; d=example.com; h=from; bh=" BH32 "; b=AAAA",
	    -1 },
	{ "v=1; a=rsa-sha256; d=example.com; s=sel; bh=" BH32 "; b=AAAA",
	    -1 },
	{ "v=1; a=rsa-sha256; d=example.com; s=sel; h=from; b=AAAA", -1 },
	{ "v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=" BH32, -1 },
	/* v=, a=, c=, q= values. */
	{ "v=2; a=rsa-sha256; d=example.com; s=sel; h=from; bh=" BH32
	    "; b=AAAA", -1 },
	{ "v=1; a=rsa-sha512; d=example.com; s=sel; h=from; bh=" BH32
	    "; b=AAAA", -1 },
	{ SIG_MIN("; c=relaxed/strict"), -1 },
	{ SIG_MIN("; c=relaxed/"), -1 },
	{ SIG_MIN("; c="), -1 },
	{ SIG_MIN("; q=http/well-known"), -1 },
	/* d= and s= are domain names. */
	{ "v=1; a=rsa-sha256; d=com; s=sel; h=from; bh=" BH32 "; b=AAAA",
	    -1 },
	{ "v=1; a=rsa-sha256; d=exa mple.com; s=sel; h=from; bh=" BH32
	    "; b=AAAA", -1 },
	{ "v=1; a=rsa-sha256; d=example.com; s=se..l; h=from; bh=" BH32
	    "; b=AAAA", -1 },
	/* h= must list From (RFC 6376 5.4), only field names. */
	{ "v=1; a=rsa-sha256; d=example.com; s=sel; h=to:subject; bh=" BH32
	    "; b=AAAA", -1 },
	{ "v=1; a=rsa-sha256; d=example.com; s=sel; h=from:; bh=" BH32
	    "; b=AAAA", -1 },
	{ "v=1; a=rsa-sha256; d=example.com; s=sel; h=from:x y; bh=" BH32
	    "; b=AAAA", -1 },
	/* i= within d= (RFC 6376 3.5). */
	{ SIG_MIN("; i=joe@example.org"), -1 },
	{ SIG_MIN("; i=joe@badexample.com"), -1 },
	{ SIG_MIN("; i=joe"), -1 },
	{ SIG_MIN("; i=@"), -1 },
	/* Numbers: l= any u64, t= and x= 12 digits, x= after t=. */
	{ SIG_MIN("; l=18446744073709551615"), 0 },
	{ SIG_MIN("; l=18446744073709551616"), -1 },
	{ SIG_MIN("; l=-1"), -1 },
	{ SIG_MIN("; l="), -1 },
	{ SIG_MIN("; t=999999999999"), 0 },
	{ SIG_MIN("; t=1000000000000"), -1 },
	{ SIG_MIN("; t=1x"), -1 },
	{ SIG_MIN("; t=5; x=5"), -1 },
	{ SIG_MIN("; t=5; x=4"), -1 },
	/* bh= decodes to the digest's size; b= to something. */
	{ "v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=" BH20
	    "; b=AAAA", -1 },
	{ "v=1; a=rsa-sha1; d=example.com; s=sel; h=from; bh=" BH20
	    "; b=AAAA", 0 },
	{ "v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=2jUSOH9N\r\n "
	    "htVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=; b=AA\r\n\tAA", 0 },
	{ "v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=" BH32
	    "; b=", -1 },
	{ "v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=" BH32
	    "; b=A!AA", -1 },
	/* Tag-list errors surface. */
	{ SIG_MIN("; v=1"), -1 },
	{ SIG_MIN("; ;"), -1 },
};

TEST(dkim_sig_parse_cases)
{
	struct dkim_sig sig;
	const char *why;
	size_t i;

	for (i = 0; i < ARRAY_LEN(sig_cases); i++) {
		why = NULL;
		CHECKF(dkim_sig_parse(str_cstr(sig_cases[i].in), &sig, &why) ==
		    sig_cases[i].rc, "sig case %zu (%s)", i,
		    why ? why : "ok");
		if (sig_cases[i].rc == -1)
			CHECK(why != NULL);
	}
}

TEST(dkim_sig_parse_fields)
{
	struct dkim_sig sig;
	const char *why = "";

	CHECK(dkim_sig_parse(STR_LIT("v=1; a=Ed25519-SHA256; c=relaxed; "
	    "d=Mail.Example.COM; s=2024a.sel; h=from : to; bh=" BH32 "; "
	    "b=AA AA; l=7; t=100; x=200; i=a.b@x.Mail.Example.COM"), &sig,
	    &why) == 0);
	CHECK_EQ_INT(sig.alg, DKIM_ALG_ED25519_SHA256);
	CHECK_EQ_INT(sig.hcanon, DKIM_CANON_RELAXED);
	CHECK_EQ_INT(sig.bcanon, DKIM_CANON_SIMPLE);
	CHECK_EQ_STR(sig.domain, "mail.example.com");
	CHECK_EQ_STR(sig.selector, "2024a.sel");
	CHECK_EQ_STR(sig.auid, "a.b@x.Mail.Example.COM");
	CHECK_EQ_MEM(sig.h.p, sig.h.len, "from : to", 9);
	CHECK_EQ_MEM(sig.b.p, sig.b.len, "AA AA", 5);
	CHECK(sig.has_l && sig.l == 7 && sig.has_t && sig.t == 100 &&
	    sig.has_x && sig.x == 200);
	/* Google's selectors are all digits: a prefix, not a domain. */
	CHECK(dkim_sig_parse(STR_LIT("v=1; a=rsa-sha256; d=gmail.com; "
	    "s=20230601; h=From:To; bh=" BH32 "; b=AAAA"), &sig, &why) == 0);
	CHECK_EQ_STR(sig.selector, "20230601");
	/* The defaults: simple/simple, i= "@" d=, no l=, t=, x=. */
	CHECK(dkim_sig_parse(STR_LIT(SIG_MIN("")), &sig, &why) == 0);
	CHECK_EQ_INT(sig.hcanon, DKIM_CANON_SIMPLE);
	CHECK_EQ_INT(sig.bcanon, DKIM_CANON_SIMPLE);
	CHECK_EQ_STR(sig.auid, "@example.com");
	CHECK(!sig.has_l && !sig.has_t && !sig.has_x);
	CHECK(dkim_sig_parse(STR_LIT(SIG_MIN("; c=simple/relaxed")), &sig,
	    &why) == 0);
	CHECK_EQ_INT(sig.hcanon, DKIM_CANON_SIMPLE);
	CHECK_EQ_INT(sig.bcanon, DKIM_CANON_RELAXED);
}

/* RFC 8463 A.2, and an RSA SubjectPublicKeyInfo of 1024 bits. */
#define ED_P "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
#define RSA_P "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3i" \
	"dY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC" \
	"/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+" \
	"2kryOTIKT+l/K4w3QIDAQAB"
/* The same key as a bare RSAPublicKey (PKCS#1), as some publish it. */
#define RSA_PKCS1_P "MIGJAoGBAOQeU5CgFPNZGIazlXo2k/eJ1jpaTTxrmqF1HrDLlt04pv" \
	"aMtCJj8nXoliLRC/H9vJjMI1vdb3XLcW60AIN/PBD8EL97/y4GwJH7LPUvGP48vqUe" \
	"+owqszesbiGy1PlCO8c70/OjFnJVgvMF87YR4Lcincb7aSvI5MgpP6X8rjDdAgMBAAE="
/* The Ed25519 key wrapped in a SubjectPublicKeyInfo: not RFC 8463. */
#define ED_SPKI_P "MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="

struct key_case {
	const char	*in;
	int		 rc;
	enum dkim_alg	 alg;
	const char	*flags;	/* R revoked, T testing, S strict, 1 sha1,
				 * 2 sha256 */
};

static const struct key_case key_cases[] = {
	{ "v=DKIM1; k=rsa; p=" RSA_P, 0, DKIM_ALG_RSA_SHA256, "12" },
	{ "p=" RSA_P, 0, DKIM_ALG_RSA_SHA256, "12" },
	{ "p=" RSA_PKCS1_P, 0, DKIM_ALG_RSA_SHA256, "12" },
	{ "v=DKIM1; k=ed25519; p=" ED_P, 0, DKIM_ALG_ED25519_SHA256, "12" },
	{ "k=ED25519; p=" ED_P ";", 0, DKIM_ALG_ED25519_SHA256, "12" },
	/* TXT strings joined with spaces; FWS in p= is ignored. */
	{ "k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6"
	    "NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutA "
	    "CDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYL "
	    "zBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB", 0, DKIM_ALG_RSA_SHA256,
	    "12" },
	/* RFC 6376 3.6.1 p= empty: revoked, still a valid record. */
	{ "v=DKIM1; p=", 0, DKIM_ALG_RSA_SHA256, "R12" },
	{ "k=ed25519; p= ", 0, DKIM_ALG_ED25519_SHA256, "R12" },
	/* h=, t=, s= lists; unknown entries ignored. */
	{ "h=sha256; p=" ED_P "; k=ed25519", 0, DKIM_ALG_ED25519_SHA256,
	    "2" },
	{ "h=sha1; p=" RSA_P, 0, DKIM_ALG_RSA_SHA256, "1" },
	{ "h=sha512 : sha256; p=" RSA_P, 0, DKIM_ALG_RSA_SHA256, "2" },
	{ "h=md5; p=" RSA_P, 0, DKIM_ALG_RSA_SHA256, "" },
	{ "t=y; p=" RSA_P, 0, DKIM_ALG_RSA_SHA256, "T12" },
	{ "t=s:y:q; p=" RSA_P, 0, DKIM_ALG_RSA_SHA256, "TS12" },
	{ "t=s; p=" RSA_P, 0, DKIM_ALG_RSA_SHA256, "S12" },
	{ "t=yes; p=" RSA_P, 0, DKIM_ALG_RSA_SHA256, "12" },
	{ "s=email; p=" RSA_P, 0, DKIM_ALG_RSA_SHA256, "12" },
	{ "s=*; p=" RSA_P, 0, DKIM_ALG_RSA_SHA256, "12" },
	{ "s=tlsrpt:email; p=" RSA_P, 0, DKIM_ALG_RSA_SHA256, "12" },
	{ "n=a note; g=*; p=" RSA_P, 0, DKIM_ALG_RSA_SHA256, "12" },
	/* Refused records. */
	{ "s=tlsrpt; p=" RSA_P, -1 },
	{ "k=rsa; p=" RSA_P "; v=DKIM1", -1 },	/* v= not first */
	{ "v=DKIM2; p=" RSA_P, -1 },
	{ "v=dkim1; p=" RSA_P, -1 },
	{ "k=dsa; p=" RSA_P, -1 },
	{ "k=rsa", -1 },
	{ "", -1 },
	{ "p=" RSA_P "; p=", -1 },
	{ "p=!!!!", -1 },
	{ "p=AAAA", -1 },
	{ "k=rsa; p=" ED_P, -1 },
	{ "k=ed25519; p=" RSA_P, -1 },
	{ "k=ed25519; p=" ED_SPKI_P, -1 },
	{ "k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHUQ==", -1 },
	/* An Ed25519 SPKI under k=rsa is not an RSA key. */
	{ "k=rsa; p=" ED_SPKI_P, -1 },
	/* Trailing octets after the DER. */
	{ "p=" "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3i"
	    "dY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC"
	    "/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+"
	    "2kryOTIKT+l/K4w3QIDAQABAA==", -1 },
};

static bool
has_flag(const char *flags, char f)
{
	return strchr(flags, f) != NULL;
}

TEST(dkim_key_records)
{
	struct dkim_key key;
	const char *why;
	size_t i;

	for (i = 0; i < ARRAY_LEN(key_cases); i++) {
		const struct key_case *c = &key_cases[i];

		why = NULL;
		CHECKF(dkim_key_parse(str_cstr(c->in), &key, &why) == c->rc,
		    "key case %zu (%s)", i, why ? why : "ok");
		if (c->rc == -1) {
			CHECK(why != NULL && key.pkey == NULL);
			continue;
		}
		CHECK_EQ_INT(key.alg, c->alg);
		CHECK_EQ_INT(key.revoked, has_flag(c->flags, 'R'));
		CHECK_EQ_INT(key.pkey == NULL, has_flag(c->flags, 'R'));
		CHECK_EQ_INT(key.testing, has_flag(c->flags, 'T'));
		CHECK_EQ_INT(key.strict_i, has_flag(c->flags, 'S'));
		CHECK_EQ_INT(key.sha1_ok, has_flag(c->flags, '1'));
		CHECK_EQ_INT(key.sha256_ok, has_flag(c->flags, '2'));
		if (key.pkey && key.alg == DKIM_ALG_RSA_SHA256)
			CHECK_EQ_INT(EVP_PKEY_get_bits(key.pkey), 1024);
		dkim_key_release(&key);
		CHECK(key.pkey == NULL);
		dkim_key_release(&key);		/* twice is harmless */
	}
}
