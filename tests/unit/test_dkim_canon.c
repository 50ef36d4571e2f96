/*
 * test_dkim_canon.c - canonicalization (RFC 6376 3.4): header fields one
 * by one, and the streaming body hasher, whose output is checked against
 * the SHA-256 of the canonical text the table gives. Every body is also
 * fed one byte at a time and in pseudo-random chunks: the hash must not
 * depend on where the chunks end (a CRLF split across two, a WSP run).
 */
#include "core/common.h"

#include <openssl/evp.h>

#include "auth/auth_sasl.h"
#include "dkim/dkim_int.h"
#include "unit/unit.h"

#define B(s) s, sizeof(s) - 1
#define S DKIM_CANON_SIMPLE
#define R DKIM_CANON_RELAXED

struct hcanon_case {
	enum dkim_canon	 c;
	const char	*in;
	const char	*out;		/* with crlf */
};

static const struct hcanon_case hcanon_cases[] = {
	/* RFC 6376 3.4.5, the example's two fields. */
	{ R, "A: X\r\n", "a:X\r\n" },
	{ R, "B : Y\t\r\n\tZ  \r\n", "b:Y Z\r\n" },
	{ S, "A: X\r\n", "A: X\r\n" },
	{ S, "B : Y\t\r\n\tZ  \r\n", "B : Y\t\r\n\tZ  \r\n" },
	/* No line end given: one is added all the same. */
	{ S, "Subject: x", "Subject: x\r\n" },
	{ R, "Subject: x", "subject:x\r\n" },
	/* WSP runs, leading and trailing WSP, folds of every kind. */
	{ R, "Subject:  \t a \t\t b  \r\n", "subject:a b\r\n" },
	{ R, "Subject:\r\n a\r\n\r\n b\r\n", "subject:a b\r\n" },
	{ R, "SUBJECT:\r\n\r\n\t \r\n", "subject:\r\n" },
	{ R, "X-Empty:\r\n", "x-empty:\r\n" },
	{ R, "To:a,\r\n b\r\n", "to:a, b\r\n" },
	/* Case is kept in values, and 8-bit octets pass. */
	{ R, "Subject: Caf\xc3\xa9 OK\r\n", "subject:Caf\xc3\xa9 OK\r\n" },
	/* A lone CR is not a line end. */
	{ R, "X: a\rb\r\n", "x:a\rb\r\n" },
	/* LF-only folds, as in a mailbox file. */
	{ R, "X: a\n b\n", "x:a b\r\n" },
};

TEST(dkim_canon_headers)
{
	struct buf out;
	size_t i;

	buf_init(&out, 4096);
	for (i = 0; i < ARRAY_LEN(hcanon_cases); i++) {
		const struct hcanon_case *c = &hcanon_cases[i];

		buf_reset(&out);
		CHECK(dkim_canon_header(c->c, str_cstr(c->in), true, &out) ==
		    0);
		CHECK_EQ_MEM(buf_data(&out), buf_len(&out), c->out,
		    strlen(c->out));
	}
	/* The signature field is hashed without its CRLF (RFC 6376 3.7). */
	buf_reset(&out);
	CHECK(dkim_canon_header(R, STR_LIT("DKIM-Signature: a=1;\r\n b=\r\n"),
	    false, &out) == 0);
	CHECK_EQ_STR(buf_cstr(&out), "dkim-signature:a=1; b=");
	buf_reset(&out);
	CHECK(dkim_canon_header(S, STR_LIT("DKIM-Signature: b= \r\n"), false,
	    &out) == 0);
	CHECK_EQ_STR(buf_cstr(&out), "DKIM-Signature: b= ");
	/* Relaxed needs the colon. */
	CHECK(dkim_canon_header(R, STR_LIT("no colon\r\n"), true, &out) == -1);
	buf_release(&out);
}

struct bcanon_case {
	enum dkim_canon	 c;
	const char	*in;
	size_t		 inlen;
	const char	*out;		/* the canonical body */
	size_t		 outlen;
};

static const struct bcanon_case bcanon_cases[] = {
	/* RFC 6376 3.4.5, the example's body. */
	{ R, B(" C \r\nD \t E\r\n\r\n\r\n"), B(" C\r\nD E\r\n") },
	{ S, B(" C \r\nD \t E\r\n\r\n\r\n"), B(" C \r\nD \t E\r\n") },
	/* Empty bodies: CRLF for simple, nothing for relaxed. */
	{ S, B(""), B("\r\n") },
	{ R, B(""), B("") },
	{ S, B("\r\n"), B("\r\n") },
	{ R, B("\r\n"), B("") },
	{ S, B("\r\n\r\n\r\n"), B("\r\n") },
	{ R, B("\r\n \r\n\t\r\n"), B("") },
	{ S, B(" \r\n"), B(" \r\n") },
	/* The last CRLF is added when missing. */
	{ S, B("abc"), B("abc\r\n") },
	{ R, B("abc"), B("abc\r\n") },
	/* A last line without CRLF is a line: no WSP at its end. */
	{ R, B("abc  "), B("abc\r\n") },
	{ R, B("abc \t"), B("abc\r\n") },
	{ R, B("a\r\n  "), B("a\r\n") },
	{ R, B("  "), B("") },
	/* Empty lines inside stay; only the trailing ones go. */
	{ S, B("a\r\n\r\n\r\nb\r\n\r\n"), B("a\r\n\r\n\r\nb\r\n") },
	{ R, B("\r\n\r\na\r\n"), B("\r\n\r\na\r\n") },
	{ R, B("a\r\n  \r\n\t\r\nb\r\n"), B("a\r\n\r\n\r\nb\r\n") },
	/* WSP: runs to one SP, none at line ends, leading kept as SP. */
	{ R, B("\t\tx  \t y\t\r\n"), B(" x y\r\n") },
	{ S, B("\t\tx  \t y\t\r\n"), B("\t\tx  \t y\t\r\n") },
	/* Lone CR and LF are text, in both. */
	{ S, B("a\rb\nc\r\n"), B("a\rb\nc\r\n") },
	{ R, B("a \r b\n\r\n"), B("a \r b\n\r\n") },
	{ R, B("a\r"), B("a\r\r\n") },
	{ S, B("\r"), B("\r\r\n") },
	{ R, B("a \r\r\n"), B("a \r\r\n") },
	/* 8-bit and NUL octets are plain text. */
	{ R, B("\xc3\xa9\0\xff  \xfe\r\n"), B("\xc3\xa9\0\xff \xfe\r\n") },
};

/* base64(SHA-256(p)). */
static void
sha256_b64(const char *p, size_t len, char *out, size_t size)
{
	unsigned char d[32];
	unsigned int dlen = 0;

	CHECK(EVP_Digest(p, len, d, &dlen, EVP_sha256(), NULL) == 1);
	CHECK(auth_b64_encode(d, dlen, out, size) == 0);
}

/*
 * The body hash of in fed in chunks: step 0 is one-shot, else
 * pseudo-random chunk sizes from 1 to step.
 */
static int
body_hash(enum dkim_canon c, bool has_l, uint64_t l, const char *in,
    size_t len, size_t step, char *out)
{
	struct dkim_body *b = dkim_body_new(DKIM_ALG_RSA_SHA256, c, has_l, l);
	size_t off = 0, n, seed = len + step;

	while (off < len) {
		seed = seed * 1103515245 + 12345;
		n = step == 0 ? len - off : 1 + (seed >> 8) % step;
		n = MIN(n, len - off);
		dkim_body_update(b, in + off, n);
		off += n;
	}
	dkim_body_update(b, in, 0);	/* empty chunks change nothing */
	return dkim_body_final(&b, out, DKIM_BH_SIZE);
}

TEST(dkim_canon_body)
{
	char want[DKIM_BH_SIZE], got[DKIM_BH_SIZE];
	size_t i, step;

	for (i = 0; i < ARRAY_LEN(bcanon_cases); i++) {
		const struct bcanon_case *c = &bcanon_cases[i];

		sha256_b64(c->out, c->outlen, want, sizeof(want));
		for (step = 0; step <= 7; step++) {
			CHECK(body_hash(c->c, false, 0, c->in, c->inlen, step,
			    got) == 0);
			CHECKF(strcmp(got, want) == 0, "case %zu step %zu: got "
			    "%s, want %s", i, step, got, want);
		}
	}
}

/* RFC 4871 erratum 1376: the two empty-body hashes, as published. */
TEST(dkim_canon_empty_body_hashes)
{
	char got[DKIM_BH_SIZE];

	CHECK(body_hash(S, false, 0, "", 0, 0, got) == 0);
	CHECK_EQ_STR(got, "frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY=");
	CHECK(body_hash(R, false, 0, "", 0, 0, got) == 0);
	CHECK_EQ_STR(got, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
}

/* l= counts canonical octets (RFC 6376 3.4.5); more than the body fails. */
TEST(dkim_canon_body_length)
{
	static const char body[] = "Hi  there \r\nsecond\r\n\r\n";
	char want[DKIM_BH_SIZE], got[DKIM_BH_SIZE];
	size_t step;

	/* Relaxed canonical: "Hi there\r\nsecond\r\n", 18 octets. */
	for (step = 0; step <= 3; step++) {
		sha256_b64("Hi th", 5, want, sizeof(want));
		CHECK(body_hash(R, true, 5, B(body), step, got) == 0);
		CHECK_EQ_STR(got, want);
		sha256_b64("", 0, want, sizeof(want));
		CHECK(body_hash(R, true, 0, B(body), step, got) == 0);
		CHECK_EQ_STR(got, want);
		sha256_b64("Hi there\r\nsecond\r\n", 18, want, sizeof(want));
		CHECK(body_hash(R, true, 18, B(body), step, got) == 0);
		CHECK_EQ_STR(got, want);
		CHECK(body_hash(R, true, 19, B(body), step, got) == -1);
		CHECK_EQ_STR(got, "");
		/* Simple: "Hi  there \r\nsecond\r\n", 20 octets. */
		CHECK(body_hash(S, true, 20, B(body), step, got) == 0);
		CHECK(body_hash(S, true, 21, B(body), step, got) == -1);
	}
	/* Simple's empty body is one CRLF: l=2 holds, l=3 does not. */
	CHECK(body_hash(S, true, 2, "", 0, 0, got) == 0);
	CHECK(body_hash(S, true, 3, "", 0, 0, got) == -1);
	CHECK(body_hash(R, true, 1, "", 0, 0, got) == -1);
}

/* A long run of CRLFs held back, then text: all of them come out. */
TEST(dkim_canon_body_many_crlfs)
{
	struct buf in, canon;
	char want[DKIM_BH_SIZE], got[DKIM_BH_SIZE];
	size_t i;

	buf_init(&in, BUF_NOCAP);
	buf_init(&canon, BUF_NOCAP);
	for (i = 0; i < 1000; i++)
		CHECK(buf_add(&in, "\r\n", 2) == 0);
	CHECK(buf_add(&in, "x", 1) == 0);
	CHECK(buf_add(&canon, buf_data(&in), buf_len(&in)) == 0);
	CHECK(buf_add(&canon, "\r\n", 2) == 0);
	for (i = 0; i < 1000; i++)
		CHECK(buf_add(&in, " \r\n", 3) == 0);
	sha256_b64(buf_data(&canon), buf_len(&canon), want, sizeof(want));
	CHECK(body_hash(R, false, 0, buf_data(&in), buf_len(&in), 0, got) ==
	    0);
	CHECK_EQ_STR(got, want);
	CHECK(body_hash(R, false, 0, buf_data(&in), buf_len(&in), 5, got) ==
	    0);
	CHECK_EQ_STR(got, want);
	buf_release(&in);
	buf_release(&canon);
}

/* rsa-sha1 bodies hash with SHA-1 (erratum 1376's values). */
TEST(dkim_canon_sha1)
{
	struct dkim_body *b = dkim_body_new(DKIM_ALG_RSA_SHA1, S, false, 0);
	char got[DKIM_BH_SIZE];

	CHECK(dkim_body_final(&b, got, sizeof(got)) == 0);
	CHECK_EQ_STR(got, "uoq1oCgLlTqpdDX/iUbLy7J1Wic=");
	b = dkim_body_new(DKIM_ALG_RSA_SHA1, R, false, 0);
	CHECK(dkim_body_final(&b, got, 4) == -1);	/* no room */
	CHECK_EQ_STR(got, "");
}
