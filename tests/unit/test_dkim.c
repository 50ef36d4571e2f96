/*
 * test_dkim.c - DKIM on whole messages: the RFC 8463 appendix A example
 * (Ed25519 and RSA, keys and signatures as published), messages signed
 * by dkimpy (tests/data/dkim/, written by make-fixtures.py), our own
 * signatures verified back, tampering, and each refusal of RFC 6376 6.1
 * and RFC 8301. Tests run from the repository root.
 */
#include "core/common.h"

#include <openssl/evp.h>
#include <unistd.h>

#include "auth/auth_sasl.h"
#include "core/fsutil.h"
#include "dkim/dkim_int.h"
#include "unit/test_dkim.h"
#include "unit/unit.h"

/* RFC 8463 A.3: the signed message, both signatures. */
#define RFC8463_ED_FIELD \
	"DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;\r\n" \
	" d=football.example.com; i=@football.example.com;\r\n" \
	" q=dns/txt; s=brisbane; t=1528637909; h=from : to :\r\n" \
	" subject : date : message-id : from : subject : date;\r\n" \
	" bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n" \
	" b=/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11Bus\r\n" \
	" Fa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==\r\n"
#define RFC8463_RSA_FIELD \
	"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;\r\n" \
	" d=football.example.com; i=@football.example.com;\r\n" \
	" q=dns/txt; s=test; t=1528637909; h=from : to : subject :\r\n" \
	" date : message-id : from : subject : date;\r\n" \
	" bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n" \
	" b=F45dVWDfMbQDGHJFlXUNB2HKfbCeLRyhDXgFpEL8GwpsRe0IeIixNTe3\r\n" \
	" DhCVlUrSjV4BwcVcOF6+FF3Zo9Rpo1tFOeS9mPYQTnGdaSGsgeefOsk2Jz\r\n" \
	" dA+L10TeYt9BgDfQNZtKdN1WO//KgIqXP7OdEFE4LjFYNcUxZQ4FADY+8=\r\n"
#define RFC8463_HEAD \
	"From: Joe SixPack <joe@football.example.com>\r\n" \
	"To: Suzie Q <suzie@shopping.example.net>\r\n" \
	"Subject: Is dinner ready?\r\n" \
	"Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\n" \
	"Message-ID: <20030712040037.46341.5F8J@football.example.com>\r\n"
#define RFC8463_BODY \
	"Hi.\r\n\r\nWe lost the game.  Are you hungry yet?\r\n\r\nJoe.\r\n"
#define RFC8463_MSG \
	RFC8463_ED_FIELD RFC8463_RSA_FIELD RFC8463_HEAD "\r\n" RFC8463_BODY
#define RFC8463_T 1528637909

/* RFC 8463 A.2: the key records. */
#define RFC8463_ED_KEY \
	"v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
#define RFC8463_RSA_KEY "v=DKIM1; k=rsa; " \
	"p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWR" \
	"iGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/b" \
	"yYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKr" \
	"M3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K" \
	"4w3QIDAQAB"
/* RFC 8463 A.1 (RFC 8032 7.1 test 1): the Ed25519 private key. */
#define RFC8463_ED_SEED "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A="

/* The dkimpy fixtures' t= (make-fixtures.py). */
#define FIXTURE_T 1700000000
#define FIXTURE_DIR "tests/data/dkim/"

static EVP_PKEY *
rfc8463_private_key(void)
{
	struct buf seed;
	EVP_PKEY *pk;

	buf_init(&seed, 64);
	CHECK(dkim_b64_decode(STR_LIT(RFC8463_ED_SEED), &seed) == 0);
	pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL,
	    (const unsigned char *)buf_data(&seed), buf_len(&seed));
	CHECK(pk != NULL);
	buf_release(&seed);
	return pk;
}

TEST(dkim_rfc8463_verifies)
{
	static const char msg[] = RFC8463_MSG;

	CHECK_VERIFY(msg, sizeof(msg) - 1, 0, RFC8463_ED_KEY,
	    RFC8463_T + 60, DKIM_PASS);
	CHECK_VERIFY(msg, sizeof(msg) - 1, 1, RFC8463_RSA_KEY,
	    RFC8463_T + 60, DKIM_PASS);
	/* Years later: no x=, so still good. */
	CHECK_VERIFY(msg, sizeof(msg) - 1, 0, RFC8463_ED_KEY,
	    RFC8463_T + 10 * 365 * 86400, DKIM_PASS);
	/* Each key is for its own signature only. */
	CHECK_VERIFY(msg, sizeof(msg) - 1, 0, RFC8463_RSA_KEY, RFC8463_T,
	    DKIM_PERMERROR);
	CHECK_VERIFY(msg, sizeof(msg) - 1, 1, RFC8463_ED_KEY, RFC8463_T,
	    DKIM_PERMERROR);
}

TEST(dkim_rfc8463_body_hash)
{
	static const char body[] = RFC8463_BODY;
	struct dkim_body *b;
	char bh[DKIM_BH_SIZE];

	b = dkim_body_new(DKIM_ALG_ED25519_SHA256, DKIM_CANON_RELAXED, false,
	    0);
	dkim_body_update(b, body, sizeof(body) - 1);
	CHECK_EQ_INT(dkim_body_final(&b, bh, sizeof(bh)), 0);
	CHECK_EQ_STR(bh, "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=");
	CHECK(b == NULL);
}

/*
 * Ed25519 is deterministic: our signing path over the RFC's data with
 * the RFC's private key must give the RFC's b= exactly.
 */
TEST(dkim_rfc8463_ed25519_sign_matches)
{
	static const char head[] = RFC8463_HEAD;
	static const char field[] = RFC8463_ED_FIELD;
	struct dkim_fields f;
	struct buf sig;
	unsigned char digest[32];
	unsigned int dlen = 0;
	char b64[128];
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY *pk = rfc8463_private_key();

	buf_init(&sig, 256);
	CHECK(dkim_fields_init(&f, head, sizeof(head) - 1) == 0);
	CHECK(EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1);
	CHECK(dkim_hash_headers(md, &f, STR_LIT("from : to : subject : "
	    "date : message-id : from : subject : date"), DKIM_CANON_RELAXED,
	    STR_LIT(field)) == 0);
	CHECK(EVP_DigestFinal_ex(md, digest, &dlen) == 1);
	CHECK(dkim_crypto_sign(pk, DKIM_ALG_ED25519_SHA256, digest, dlen,
	    &sig) == 0);
	CHECK(auth_b64_encode(buf_data(&sig), buf_len(&sig), b64,
	    sizeof(b64)) == 0);
	CHECK_EQ_STR(b64, "/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D"
	    "11BusFa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==");
	dkim_fields_release(&f);
	buf_release(&sig);
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pk);
}

struct tamper_case {
	const char		*from, *to;
	enum dkim_result	 ed, rsa;	/* each signature's result */
};

/* Edits of the RFC 8463 message, and what both signatures say then. */
static const struct tamper_case rfc8463_tampers[] = {
	{ "Joe.\r\n", "Jim.\r\n", DKIM_FAIL, DKIM_FAIL },
	{ "dinner ready", "lunch ready", DKIM_FAIL, DKIM_FAIL },
	{ "Message-ID: <2003", "Message-ID: <2004", DKIM_FAIL, DKIM_FAIL },
	/* A second From or Subject above: h= lists them twice. */
	{ "From: Joe", "From: mallory@evil.example\r\nFrom: Joe", DKIM_FAIL,
	    DKIM_FAIL },
	{ "From: Joe", "Subject: Urgent\r\nFrom: Joe", DKIM_FAIL, DKIM_FAIL },
	/* Below the originals, the bottom-up rule signs the new one. */
	{ "Date:", "From: mallory@evil.example\r\nDate:",
	    DKIM_FAIL, DKIM_FAIL },
	/* A signature field edited outside b=: only that one breaks. */
	{ "t=1528637909", "t=1528637910", DKIM_FAIL, DKIM_PASS },
	{ "s=test; t=1528637909", "s=test;  t=1528637909",
	    DKIM_PASS, DKIM_PASS },
	{ " b=F45d", " b= F45d", DKIM_PASS, DKIM_PASS },
	{ " b=F45d", " b=F45e", DKIM_PASS, DKIM_FAIL },
	/* What relaxed/relaxed allows. */
	{ "X", "X", DKIM_PASS, DKIM_PASS },
	{ "From: Joe", "X-Extra: not signed\r\nFrom: Joe",
	    DKIM_PASS, DKIM_PASS },
	{ "Subject: Is", "SUBJECT:   Is", DKIM_PASS, DKIM_PASS },
	{ "dinner ready?\r\n", "dinner\r\n  ready?  \r\n",
	    DKIM_PASS, DKIM_PASS },
	{ "the game.  Are", "the game. \t Are", DKIM_PASS, DKIM_PASS },
	{ "Joe.\r\n", "Joe.  \r\n\r\n\r\n", DKIM_PASS, DKIM_PASS },
	{ "Hi.\r\n", "Hi.\t\r\n", DKIM_PASS, DKIM_PASS },
	/* But not a new line, nor a space where there was none. */
	{ "Hi.\r\n", "Hi.\r\n\r\n", DKIM_FAIL, DKIM_FAIL },
	{ "Hi.", "Hi .", DKIM_FAIL, DKIM_FAIL },
};

TEST(dkim_rfc8463_tampered)
{
	static const char msg[] = RFC8463_MSG "X";
	struct buf t;
	size_t i;

	buf_init(&t, BUF_NOCAP);
	for (i = 0; i < ARRAY_LEN(rfc8463_tampers); i++) {
		const struct tamper_case *c = &rfc8463_tampers[i];

		replace(msg, c->from, c->to, &t);
		buf_truncate(&t, buf_len(&t) - 1);	/* the "X" marker */
		CHECK_VERIFY(buf_data(&t), buf_len(&t), 0, RFC8463_ED_KEY,
		    RFC8463_T, c->ed);
		CHECK_VERIFY(buf_data(&t), buf_len(&t), 1, RFC8463_RSA_KEY,
		    RFC8463_T, c->rsa);
	}
	buf_release(&t);
}

struct key_case {
	const char		*key;
	enum dkim_result	 want;
};

/* The RFC 8463 Ed25519 signature against variants of its key record. */
static const struct key_case rfc8463_key_cases[] = {
	{ "k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
	    DKIM_PASS },
	{ "v=DKIM1; k=ed25519; t=y; h=sha256; s=email; n=note; "
	    "p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=", DKIM_PASS },
	/* i= is @football.example.com: t=s holds. */
	{ "k=ed25519; t=s; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
	    DKIM_PASS },
	/* RFC 6376 3.6.1: revoked, hash not allowed, wrong type. */
	{ "v=DKIM1; k=ed25519; p=", DKIM_PERMERROR },
	{ "k=ed25519; h=sha1; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
	    DKIM_PERMERROR },
	{ "p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=", DKIM_PERMERROR },
	{ "k=ed25519; s=tlsrpt; "
	    "p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=", DKIM_PERMERROR },
	/* Another Ed25519 key: a good key that did not sign. */
	{ "k=ed25519; p=PUAXw+hDiVqStwqnTRt+vJyYLM8uxJaMwM1V8Sr0Zgw=",
	    DKIM_FAIL },
};

TEST(dkim_rfc8463_key_records)
{
	static const char msg[] = RFC8463_MSG;
	size_t i;

	for (i = 0; i < ARRAY_LEN(rfc8463_key_cases); i++)
		CHECK_VERIFY(msg, sizeof(msg) - 1, 0,
		    rfc8463_key_cases[i].key, RFC8463_T,
		    rfc8463_key_cases[i].want);
}

TEST(dkim_rfc8463_times)
{
	static const char msg[] = RFC8463_MSG;

	/* t= a bit ahead of our clock is skew; a day and more is not. */
	CHECK_VERIFY(msg, sizeof(msg) - 1, 0, RFC8463_ED_KEY,
	    RFC8463_T - 3600, DKIM_PASS);
	CHECK_VERIFY(msg, sizeof(msg) - 1, 0, RFC8463_ED_KEY,
	    RFC8463_T - DKIM_FUTURE_MAX, DKIM_PASS);
	CHECK_VERIFY(msg, sizeof(msg) - 1, 0, RFC8463_ED_KEY,
	    RFC8463_T - DKIM_FUTURE_MAX - 1, DKIM_POLICY);
}

/* The signature field is found by content when not given in place. */
TEST(dkim_verify_field_copy)
{
	static const char msg[] = RFC8463_MSG;
	static const char field[] = RFC8463_ED_FIELD;
	struct msg_parts m = msg_split(msg, sizeof(msg) - 1);
	struct dkim_sig sig;
	struct dkim_key key;
	const char *why = "";
	char *copy = xstrdup(field);

	CHECK(dkim_sig_parse(str_cstr(strchr(copy, ':') + 1), &sig,
	    &why) == 0);
	CHECK(dkim_key_parse(STR_LIT(RFC8463_ED_KEY), &key, &why) == 0);
	CHECK_EQ_INT(dkim_verify(m.head.p, m.head.len, str_cstr(copy), &sig,
	    &key, "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=", RFC8463_T,
	    &why), DKIM_PASS);
	CHECK_EQ_STR(why, "signature verified");
	/* A wrong body hash fails before any signature check. */
	CHECK_EQ_INT(dkim_verify(m.head.p, m.head.len, str_cstr(copy), &sig,
	    &key, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", RFC8463_T,
	    &why), DKIM_FAIL);
	CHECK_EQ_STR(why, "body hash mismatch");
	dkim_key_release(&key);
	free(copy);
}

/* Fixture files: a message and the key record that verifies it. */
struct fixture {
	const char		*eml;
	const char		*key;
	enum dkim_result	 want;
};

static const struct fixture fixtures[] = {
	{ "dkimpy-rsa-relaxed-relaxed.eml", "rsa.txt", DKIM_PASS },
	{ "dkimpy-rsa-simple-simple.eml", "rsa.txt", DKIM_PASS },
	{ "dkimpy-rsa-relaxed-simple.eml", "rsa.txt", DKIM_PASS },
	{ "dkimpy-rsa-simple-relaxed.eml", "rsa.txt", DKIM_PASS },
	{ "dkimpy-ed-relaxed-relaxed.eml", "ed25519.txt", DKIM_PASS },
	{ "dkimpy-ed-simple-simple.eml", "ed25519.txt", DKIM_PASS },
	{ "dkimpy-ed-relaxed-simple.eml", "ed25519.txt", DKIM_PASS },
	{ "dkimpy-ed-simple-relaxed.eml", "ed25519.txt", DKIM_PASS },
	{ "dkimpy-rsa-length.eml", "rsa.txt", DKIM_PASS },
	/* RFC 8301 3.1: a good rsa-sha1 signature is refused. */
	{ "dkimpy-rsa-sha1.eml", "rsa.txt", DKIM_POLICY },
};

static void
read_fixture(const char *name, struct buf *out)
{
	char path[256];

	snprintf(path, sizeof(path), FIXTURE_DIR "%s", name);
	buf_reset(out);
	CHECKF(fs_read_file(path, out) == 0, "cannot read %s", path);
}

/* A key file holds one line. */
static void
read_key(const char *name, struct buf *out)
{
	read_fixture(name, out);
	while (buf_len(out) > 0 && buf_data(out)[buf_len(out) - 1] == '\n')
		buf_truncate(out, buf_len(out) - 1);
}

TEST(dkim_dkimpy_fixtures)
{
	struct buf msg, key, t;
	size_t i;

	buf_init(&msg, 1 << 20);
	buf_init(&key, 8192);
	buf_init(&t, BUF_NOCAP);
	for (i = 0; i < ARRAY_LEN(fixtures); i++) {
		const struct fixture *f = &fixtures[i];

		read_fixture(f->eml, &msg);
		read_key(f->key, &key);
		CHECK_VERIFY(buf_data(&msg), buf_len(&msg), 0, buf_data(&key),
		    FIXTURE_T + 60, f->want);
		if (f->want != DKIM_PASS)
			continue;
		/* The body, a signed header, each breaks it. */
		replace(buf_data(&msg), "Bonjour", "Bonsoir", &t);
		CHECK_VERIFY(buf_data(&t), buf_len(&t), 0, buf_data(&key),
		    FIXTURE_T, DKIM_FAIL);
		replace(buf_data(&msg), "Quarterly", "Quarterlx", &t);
		CHECK_VERIFY(buf_data(&t), buf_len(&t), 0, buf_data(&key),
		    FIXTURE_T, DKIM_FAIL);
		replace(buf_data(&msg), "dave@", "eve@", &t);
		CHECK_VERIFY(buf_data(&t), buf_len(&t), 0, buf_data(&key),
		    FIXTURE_T, DKIM_FAIL);
		/* An unsigned header may change. */
		replace(buf_data(&msg), "X-Mailer:facteur", "X-Mailer: other",
		    &t);
		CHECK_VERIFY(buf_data(&t), buf_len(&t), 0, buf_data(&key),
		    FIXTURE_T, DKIM_PASS);
	}
	buf_release(&msg);
	buf_release(&key);
	buf_release(&t);
}

/* l=96: what follows the signed part may change, the signed part not. */
TEST(dkim_dkimpy_length)
{
	struct buf msg, key, t;

	buf_init(&msg, 1 << 20);
	buf_init(&key, 8192);
	buf_init(&t, BUF_NOCAP);
	read_fixture("dkimpy-rsa-length.eml", &msg);
	read_key("rsa.txt", &key);
	CHECK(buf_add(&msg, "Appended by a list\r\n", 20) == 0);
	CHECK_VERIFY(buf_data(&msg), buf_len(&msg), 0, buf_data(&key),
	    FIXTURE_T, DKIM_PASS);
	/* The body cut short of l=. */
	replace(buf_data(&msg), "Ren\xc3\xa9" "e\r\n\r\n\r\nAppended by a "
	    "list\r\n", "", &t);
	CHECK_VERIFY(buf_data(&t), buf_len(&t), 0, buf_data(&key),
	    FIXTURE_T, DKIM_FAIL);
	buf_release(&msg);
	buf_release(&key);
	buf_release(&t);
}
