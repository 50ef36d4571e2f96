/*
 * test_dkim_sign.c - our signatures: the field's shape (what dkimpy and
 * opendkim are strict about: folding, h=, b= last), round trips through
 * our verifier for both algorithms, over-signing, key generation and
 * loading; then signatures made to order (x=, t=, l=, i= with t=s, c=,
 * short RSA keys, SHA-1) for each refusal of RFC 6376 6.1 and RFC 8301.
 */
#include "core/common.h"

#include <openssl/evp.h>
#include <unistd.h>

#include "auth/auth_sasl.h"
#include "core/fsutil.h"
#include "dkim/dkim_int.h"
#include "unit/test_dkim.h"
#include "unit/unit.h"

#define NOW 1700000000
#define ED_SEED "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A="
#define ED_KEY \
	"v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
#define ZERO32 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
#define ZERO20 "AAAAAAAAAAAAAAAAAAAAAAAAAAA="

#define MSG_PLAIN \
	"From: Alice <alice@football.example.com>\r\n" \
	"To: bob@example.net\r\n" \
	"Subject: hello\r\n" \
	"Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n" \
	"Message-ID: <1@football.example.com>\r\n" \
	"\r\n" \
	"Hello Bob.\r\n"

/* Folds, WSP runs, two To, a Cc, no space after a colon, 8-bit text. */
#define MSG_HARD \
	"Received: from a.example.net by mx.football.example.com\r\n" \
	"\twith ESMTPS; Tue, 14 Nov 2023 22:13:20 +0000\r\n" \
	"From:alice@football.example.com\r\n" \
	"To: Bob <bob@example.net>,\r\n" \
	"   Carol   <carol@example.net>\r\n" \
	"Cc: dave@example.net\r\n" \
	"To: erin@example.net\r\n" \
	"Subject: =?utf-8?q?caf=C3=A9?= \t and a subject long enough to be" \
	" folded\r\n   over  lines \r\n" \
	"MIME-Version: 1.0\r\n" \
	"Content-Type: text/plain; charset=utf-8\r\n" \
	"Content-Transfer-Encoding: 8bit\r\n" \
	"\r\n" \
	"Caf\xc3\xa9 cr\xc3\xa8me \xe2\x82\xac \xff\xfe\r\n" \
	"  trailing   spaces   \r\n" \
	"\r\n" \
	"\r\n"

#define MSG_EMPTY_BODY \
	"From: alice@football.example.com\r\n" \
	"Subject: nothing\r\n" \
	"\r\n"

static EVP_PKEY *
ed_private_key(void)
{
	struct buf seed;
	EVP_PKEY *pk;

	buf_init(&seed, 64);
	CHECK(dkim_b64_decode(STR_LIT(ED_SEED), &seed) == 0);
	pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL,
	    (const unsigned char *)buf_data(&seed), buf_len(&seed));
	buf_release(&seed);
	return pk;
}

static void
signer_ed(struct dkim_signer *s)
{
	memset(s, 0, sizeof(*s));
	cstr_copy(s->domain, sizeof(s->domain), "football.example.com");
	cstr_copy(s->selector, sizeof(s->selector), "brisbane");
	s->alg = DKIM_ALG_ED25519_SHA256;
	s->pkey = ed_private_key();
	CHECK(s->pkey != NULL);
}

static void
signer_rsa(struct dkim_signer *s)
{
	const char *why = "";

	CHECKF(dkim_signer_load(s, "Football.Example.COM", "rsa",
	    "tests/data/dkim/rsa.pem", &why) == 0, "load: %s", why);
	CHECK_EQ_STR(s->domain, "football.example.com");
	CHECK_EQ_INT(s->alg, DKIM_ALG_RSA_SHA256);
}

/* A message signed by s: the signature field, then msg. 0 or -1. */
static int
sign_msg(const struct dkim_signer *s, const char *msg, size_t len,
    struct buf *out)
{
	struct msg_parts m = msg_split(msg, len);
	struct dkim_body *b;
	char bh[DKIM_BH_SIZE];

	buf_reset(out);
	b = dkim_body_new(s->alg, DKIM_CANON_RELAXED, false, 0);
	dkim_body_update(b, m.body.p, m.body.len);
	CHECK(dkim_body_final(&b, bh, sizeof(bh)) == 0);
	if (dkim_sign(s, m.head.p, m.head.len, bh, NOW, out) == -1)
		return -1;
	CHECK(buf_add(out, msg, len) == 0);
	return 0;
}

static void
record_of(const struct dkim_signer *s, struct buf *rec)
{
	buf_reset(rec);
	CHECK(dkim_key_record(s->pkey, s->alg, rec) == 0);
}

/* The signature field of a signed message, without its final CRLF. */
static struct str
first_field(const struct buf *msg)
{
	struct str field, value;

	CHECK(msg_sig_field(msg_split(buf_data(msg), buf_len(msg)).head, 0,
	    &field, &value));
	return dkim_strip_eol(field);
}

/* field with its folds ("CRLF TAB") taken out. */
static void
unfold(struct str field, struct buf *out)
{
	size_t i;

	buf_reset(out);
	for (i = 0; i < field.len; i++) {
		if (field.p[i] == '\r' && i + 2 < field.len &&
		    field.p[i + 1] == '\n' && field.p[i + 2] == '\t') {
			i += 2;
			continue;
		}
		CHECK(buf_addc(out, field.p[i]) == 0);
	}
}

/* RFC 5322 2.1.1, 2.2.3: lines of 78 at most, folds are CRLF TAB. */
static void
check_folding(struct str field)
{
	size_t i, col = 0, lines = 1;

	for (i = 0; i < field.len; i++) {
		if (field.p[i] == '\n') {
			CHECK(i > 0 && field.p[i - 1] == '\r');
			CHECK(i + 1 < field.len && field.p[i + 1] == '\t');
			lines++;
			col = 0;
			continue;
		}
		CHECK(field.p[i] != '\r' || (i + 1 < field.len &&
		    field.p[i + 1] == '\n'));
		if (field.p[i] != '\r')
			col++;
		CHECKF(col <= DKIM_LINE_MAX, "line %zu is longer than 78",
		    lines);
	}
}

TEST(dkim_sign_shape)
{
	static const char msg[] = MSG_PLAIN;
	struct dkim_signer s;
	struct dkim_sig sig;
	struct buf out, flat;
	struct str field;
	const char *why = "", *b;

	signer_ed(&s);
	buf_init(&out, BUF_NOCAP);
	buf_init(&flat, BUF_NOCAP);
	CHECK(sign_msg(&s, msg, sizeof(msg) - 1, &out) == 0);
	field = first_field(&out);
	check_folding(field);
	CHECK(memcmp(buf_data(&out) + field.len, "\r\nFrom: Alice", 13) == 0);
	unfold(field, &flat);
	CHECK(str_has_prefix_case(str_make(buf_data(&flat), buf_len(&flat)),
	    "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;"
	    "d=football.example.com;"));
	CHECK(strstr(buf_cstr(&flat), " s=brisbane;") != NULL);
	CHECK(strstr(buf_cstr(&flat), " t=1700000000;") != NULL);
	/*
	 * Each present field once, and From, To, Cc, Subject, Reply-To once
	 * more, present or not (RFC 6376 5.4.2, 8.15): none of those can be
	 * added; a Date or Message-ID a later hop adds can.
	 */
	CHECK(strstr(buf_cstr(&flat), " h=from:from:to:to:cc:subject:subject:"
	    "reply-to:date:message-id;") != NULL);
	CHECK(strstr(buf_cstr(&flat), "l=") == NULL);
	/* b= last, its value plain base64 of 64 octets. */
	b = strstr(buf_cstr(&flat), " b=");
	CHECK(b != NULL && strchr(b, ';') == NULL && strlen(b + 3) == 88);
	CHECK(dkim_sig_parse(str_sub(field, 15, field.len), &sig, &why) == 0);
	CHECK_EQ_STR(sig.auid, "@football.example.com");
	CHECK_EQ_INT(sig.t, NOW);
	buf_release(&out);
	buf_release(&flat);
	dkim_signer_release(&s);
}

/* RSA's b= spans lines; each stays within 78. */
TEST(dkim_sign_shape_rsa)
{
	static const char msg[] = MSG_HARD;
	struct dkim_signer s;
	struct buf out, flat;
	struct str field;

	signer_rsa(&s);
	buf_init(&out, BUF_NOCAP);
	buf_init(&flat, BUF_NOCAP);
	CHECK(sign_msg(&s, msg, sizeof(msg) - 1, &out) == 0);
	field = first_field(&out);
	check_folding(field);
	unfold(field, &flat);
	CHECK(strstr(buf_cstr(&flat), "h=from:from:to:to:to:cc:cc:subject:"
	    "subject:reply-to:mime-version:content-type:"
	    "content-transfer-encoding;") != NULL);
	CHECK(strlen(strstr(buf_cstr(&flat), " b=") + 3) == 344);
	buf_release(&out);
	buf_release(&flat);
	dkim_signer_release(&s);
}

struct roundtrip_case {
	const char	*msg;
	size_t		 len;
	const char	*tamper_from, *tamper_to;	/* must then fail */
};

#define M(s) s, sizeof(s) - 1

static const struct roundtrip_case roundtrips[] = {
	{ M(MSG_PLAIN), "Bob.", "Bob!" },
	{ M(MSG_PLAIN), "Subject: hello", "Subject: hellO" },
	{ M(MSG_HARD), "cr\xc3\xa8me", "creme" },
	{ M(MSG_HARD), "erin@", "eve@" },
	{ M(MSG_HARD), "over  lines", "over  line" },
	{ M(MSG_HARD), "Carol", "Karol" },
	{ M(MSG_EMPTY_BODY), "\r\n\r\n", "\r\n\r\nx\r\n" },
	{ M(MSG_EMPTY_BODY), "nothing", "something" },
};

TEST(dkim_sign_roundtrip)
{
	struct dkim_signer signers[2];
	struct buf out, rec, t;
	size_t i, k;

	signer_ed(&signers[0]);
	signer_rsa(&signers[1]);
	buf_init(&out, BUF_NOCAP);
	buf_init(&rec, 4096);
	buf_init(&t, BUF_NOCAP);
	for (k = 0; k < 2; k++) {
		record_of(&signers[k], &rec);
		for (i = 0; i < ARRAY_LEN(roundtrips); i++) {
			const struct roundtrip_case *c = &roundtrips[i];

			CHECK(sign_msg(&signers[k], c->msg, c->len, &out) == 0);
			CHECK_VERIFY(buf_data(&out), buf_len(&out), 0,
			    buf_cstr(&rec), NOW + 5, DKIM_PASS);
			replace(buf_cstr(&out), c->tamper_from, c->tamper_to,
			    &t);
			CHECK_VERIFY(buf_data(&t), buf_len(&t), 0,
			    buf_cstr(&rec), NOW + 5, DKIM_FAIL);
		}
	}
	buf_release(&out);
	buf_release(&rec);
	buf_release(&t);
	dkim_signer_release(&signers[0]);
	dkim_signer_release(&signers[1]);
}

/* A Subject of 3000 octets over 40 lines, and a 40-recipient To. */
TEST(dkim_sign_long_headers)
{
	struct dkim_signer s;
	struct buf msg, out, rec;
	size_t i;

	signer_ed(&s);
	buf_init(&msg, BUF_NOCAP);
	buf_init(&out, BUF_NOCAP);
	buf_init(&rec, 4096);
	CHECK(buf_adds(&msg, "From: alice@football.example.com\r\n"
	    "Subject:") == 0);
	for (i = 0; i < 40; i++)
		CHECK(buf_addf(&msg, " %073zu\r\n", i) == 0);
	CHECK(buf_adds(&msg, "To: ") == 0);
	for (i = 0; i < 40; i++)
		CHECK(buf_addf(&msg, "%sr%zu@example.net", i ? ",\r\n\t" : "",
		    i) == 0);
	CHECK(buf_adds(&msg, "\r\n\r\nbody\r\n") == 0);
	CHECK(sign_msg(&s, buf_data(&msg), buf_len(&msg), &out) == 0);
	record_of(&s, &rec);
	CHECK_VERIFY(buf_data(&out), buf_len(&out), 0, buf_cstr(&rec), NOW,
	    DKIM_PASS);
	buf_release(&msg);
	buf_release(&out);
	buf_release(&rec);
	dkim_signer_release(&s);
}

struct oversign_case {
	const char		*from, *to;
	enum dkim_result	 want;
};

static const struct oversign_case oversigns[] = {
	/* From is over-signed: none can be added, above or below. */
	{ "\r\nFrom: Alice", "\r\nFrom: mallory@evil.example\r\nFrom: Alice",
	    DKIM_FAIL },
	{ "\r\n\r\nHello", "\r\nFrom: mallory@evil.example\r\n\r\nHello",
	    DKIM_FAIL },
	/* A present To is signed; one more To changes the picked one. */
	{ "\r\n\r\nHello", "\r\nTo: mallory@evil.example\r\n\r\nHello",
	    DKIM_FAIL },
	/* Names absent when signing are signed as absent (8.15). */
	{ "\r\n\r\nHello", "\r\nCc: someone@example.net\r\n\r\nHello",
	    DKIM_FAIL },
	{ "\r\n\r\nHello", "\r\nReply-To: m@evil.example\r\n\r\nHello",
	    DKIM_FAIL },
	/* A second Subject above the signed one. */
	{ "\r\nFrom: Alice", "\r\nSubject: pay now\r\nFrom: Alice",
	    DKIM_FAIL },
	/* A later hop may add what was missing, outside the five. */
	{ "\r\n\r\nHello", "\r\nIn-Reply-To: <x@y>\r\n\r\nHello",
	    DKIM_PASS },
	{ "\r\nFrom: Alice", "\r\nX-Spam: no\r\nFrom: Alice", DKIM_PASS },
	/* Order among different names is free; relaxed case too. */
	{ "Subject: hello\r\n", "SUBJECT:hello \r\n", DKIM_PASS },
};

TEST(dkim_sign_oversigned_from)
{
	static const char msg[] = MSG_PLAIN;
	struct dkim_signer s;
	struct buf out, rec, t;
	size_t i;

	signer_ed(&s);
	buf_init(&out, BUF_NOCAP);
	buf_init(&rec, 4096);
	buf_init(&t, BUF_NOCAP);
	record_of(&s, &rec);
	CHECK(sign_msg(&s, msg, sizeof(msg) - 1, &out) == 0);
	for (i = 0; i < ARRAY_LEN(oversigns); i++) {
		replace(buf_cstr(&out), oversigns[i].from, oversigns[i].to, &t);
		CHECK_VERIFY(buf_data(&t), buf_len(&t), 0, buf_cstr(&rec), NOW,
		    oversigns[i].want);
	}
	buf_release(&out);
	buf_release(&rec);
	buf_release(&t);
	dkim_signer_release(&s);
}

/* Signing a signed message: both signatures hold (RSA after Ed25519). */
TEST(dkim_sign_twice)
{
	static const char msg[] = MSG_HARD;
	struct dkim_signer ed, rsa;
	struct buf once, twice, rec_ed, rec_rsa;

	signer_ed(&ed);
	signer_rsa(&rsa);
	buf_init(&once, BUF_NOCAP);
	buf_init(&twice, BUF_NOCAP);
	buf_init(&rec_ed, 4096);
	buf_init(&rec_rsa, 4096);
	record_of(&ed, &rec_ed);
	record_of(&rsa, &rec_rsa);
	CHECK(sign_msg(&ed, msg, sizeof(msg) - 1, &once) == 0);
	CHECK(sign_msg(&rsa, buf_data(&once), buf_len(&once), &twice) == 0);
	CHECK_VERIFY(buf_data(&twice), buf_len(&twice), 0, buf_cstr(&rec_rsa),
	    NOW, DKIM_PASS);
	CHECK_VERIFY(buf_data(&twice), buf_len(&twice), 1, buf_cstr(&rec_ed),
	    NOW, DKIM_PASS);
	buf_release(&once);
	buf_release(&twice);
	buf_release(&rec_ed);
	buf_release(&rec_rsa);
	dkim_signer_release(&ed);
	dkim_signer_release(&rsa);
}

TEST(dkim_sign_refuses)
{
	static const char no_from[] = "To: bob@example.net\r\n\r\nhi\r\n";
	static const char bad[] = "From: a@example.org\r\nnot a header\r\n";
	struct dkim_signer s;
	struct buf out;

	signer_ed(&s);
	buf_init(&out, BUF_NOCAP);
	/* RFC 6376 5.4: From MUST be signed; nothing to sign here. */
	CHECK_EQ_INT(dkim_sign(&s, no_from, sizeof(no_from) - 1, ZERO32, NOW,
	    &out), -1);
	CHECK_EQ_INT(dkim_sign(&s, bad, sizeof(bad) - 1, ZERO32, NOW, &out),
	    -1);
	CHECK_EQ_INT(dkim_sign(&s, "", 0, ZERO32, NOW, &out), -1);
	CHECK_EQ_INT(buf_len(&out), 0);
	/* RFC 8301 3.1: never SHA-1. */
	s.alg = DKIM_ALG_RSA_SHA1;
	CHECK_EQ_INT(dkim_sign(&s, MSG_PLAIN, 40, ZERO32, NOW, &out), -1);
	/* A key of the wrong type for the algorithm. */
	s.alg = DKIM_ALG_RSA_SHA256;
	CHECK_EQ_INT(dkim_sign(&s, MSG_PLAIN, sizeof(MSG_PLAIN) - 1, ZERO32,
	    NOW, &out), -1);
	CHECK_EQ_INT(buf_len(&out), 0);
	buf_release(&out);
	dkim_signer_release(&s);
}

/*
 * A message signed with a field the test writes: tags is everything but
 * bh= and b=. bh= follows the tags' a=, c= and l=; b= is computed the
 * way dkim_sign does it.
 */
static void
resign(EVP_PKEY *pk, const char *tags, const char *msg, struct buf *out)
{
	struct msg_parts m = msg_split(msg, strlen(msg));
	struct buf probe, sig;
	struct dkim_fields f;
	struct dkim_sig s;
	struct dkim_body *b;
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	char bh[DKIM_BH_SIZE], b64[2048];
	const char *why = "";
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	buf_init(&probe, BUF_NOCAP);
	buf_init(&sig, 2048);
	buf_reset(out);
	CHECK(buf_addf(&probe, "%s; bh=%s; b=AAAA", tags,
	    strstr(tags, "rsa-sha1") ? ZERO20 : ZERO32) == 0);
	CHECKF(dkim_sig_parse(str_make(buf_data(&probe), buf_len(&probe)),
	    &s, &why) == 0, "resign: %s", why);
	b = dkim_body_new_sig(&s);
	dkim_body_update(b, m.body.p, m.body.len);
	CHECK(dkim_body_final(&b, bh, sizeof(bh)) == 0);
	CHECK(buf_addf(out, "DKIM-Signature: %s;\r\n\tbh=%s;\r\n\tb=", tags,
	    bh) == 0);
	CHECK(dkim_fields_init(&f, m.head.p, m.head.len) == 0);
	CHECK(EVP_DigestInit_ex(md, dkim_alg_md(s.alg), NULL) == 1);
	CHECK(dkim_hash_headers(md, &f, s.h, s.hcanon,
	    str_make(buf_data(out), buf_len(out))) == 0);
	CHECK(EVP_DigestFinal_ex(md, digest, &dlen) == 1);
	CHECK(dkim_crypto_sign(pk, s.alg, digest, dlen, &sig) == 0);
	CHECK(auth_b64_encode(buf_data(&sig), buf_len(&sig), b64,
	    sizeof(b64)) == 0);
	CHECK(buf_addf(out, "%s\r\n%s", b64, msg) == 0);
	dkim_fields_release(&f);
	EVP_MD_CTX_free(md);
	buf_release(&probe);
	buf_release(&sig);
}

#define ED_TAGS "v=1; a=ed25519-sha256; d=football.example.com; s=brisbane"

struct policy_case {
	const char		*tags;		/* after ED_TAGS */
	const char		*key;		/* NULL: ED_KEY */
	const char		*from, *to;	/* an edit after signing */
	time_t			 now;
	enum dkim_result	 want;
};

static const struct policy_case policies[] = {
	/* Plain: simple/simple by default, h= needs only From. */
	{ "; h=from", NULL, NULL, NULL, NOW, DKIM_PASS },
	{ "; c=simple/simple; h=from:subject", NULL, "Subject: hello",
	    "Subject:  hello", NOW, DKIM_FAIL },
	{ "; c=relaxed/relaxed; h=from:subject", NULL, "Subject: hello",
	    "Subject:  hello", NOW, DKIM_PASS },
	{ "; c=relaxed; h=from", NULL, "Bob.", "Bob. ", NOW, DKIM_FAIL },
	{ "; c=simple/relaxed; h=from", NULL, "Bob.", "Bob. ", NOW,
	    DKIM_PASS },
	/* Unknown tags are ignored (RFC 6376 3.2). */
	{ "; h=from; zz=top; q=dns/txt", NULL, NULL, NULL, NOW, DKIM_PASS },
	/* x=: expired, with DKIM_SKEW of leeway. */
	{ "; h=from; t=1699990000; x=1699999000", NULL, NULL, NULL, NOW,
	    DKIM_POLICY },
	{ "; h=from; t=1699990000; x=1699999800", NULL, NULL, NULL, NOW,
	    DKIM_PASS },
	{ "; h=from; x=1700003600", NULL, NULL, NULL, NOW, DKIM_PASS },
	/* t= far in the future. */
	{ "; h=from; t=1700090000", NULL, NULL, NULL, NOW, DKIM_POLICY },
	{ "; h=from; t=1700003600", NULL, NULL, NULL, NOW, DKIM_PASS },
	/* l=: what follows may change; a body shorter than l= fails. */
	{ "; h=from; l=12", NULL, "Bob.\r\n", "Bob.\r\nP.S. buy now\r\n",
	    NOW, DKIM_PASS },
	{ "; h=from; l=0", NULL, "Hello Bob.", "Anything", NOW, DKIM_PASS },
	{ "; h=from; l=12", NULL, "Hello", "Hallo", NOW, DKIM_FAIL },
	{ "; h=from; l=12", NULL, "Bob.\r\n", "Bob", NOW, DKIM_FAIL },
	/* i= in a subdomain of d=, unless the key says t=s. */
	{ "; h=from; i=alice@mail.football.example.com", NULL, NULL, NULL,
	    NOW, DKIM_PASS },
	{ "; h=from; i=alice@mail.football.example.com",
	    ED_KEY "; t=s", NULL, NULL, NOW, DKIM_PERMERROR },
	{ "; h=from; i=alice@FOOTBALL.example.com", ED_KEY "; t=s:y", NULL,
	    NULL, NOW, DKIM_PASS },
	/* Over-signing an absent field: it may not appear. */
	{ "; h=from:reply-to", NULL, NULL, NULL, NOW, DKIM_PASS },
	{ "; h=from:reply-to", NULL, "\r\n\r\n",
	    "\r\nReply-To: x@evil.example\r\n\r\n", NOW, DKIM_FAIL },
	/* A name listed more often than present counts as empty. */
	{ "; h=to:to:to:from:from", NULL, NULL, NULL, NOW, DKIM_PASS },
	/* h= may sign other signatures, never the one being verified. */
	{ "; h=from:dkim-signature", NULL, NULL, NULL, NOW, DKIM_PASS },
};

TEST(dkim_verify_policies)
{
	EVP_PKEY *pk = ed_private_key();
	struct buf tags, signed_msg, t;
	enum dkim_result r;
	const char *why;
	size_t i;

	buf_init(&tags, BUF_NOCAP);
	buf_init(&signed_msg, BUF_NOCAP);
	buf_init(&t, BUF_NOCAP);
	for (i = 0; i < ARRAY_LEN(policies); i++) {
		const struct policy_case *c = &policies[i];
		const char *key = c->key ? c->key : ED_KEY;

		buf_reset(&tags);
		CHECK(buf_addf(&tags, ED_TAGS "%s", c->tags) == 0);
		resign(pk, buf_cstr(&tags), MSG_PLAIN, &signed_msg);
		if (c->from != NULL)
			replace(buf_cstr(&signed_msg), c->from, c->to, &t);
		else
			CHECK(buf_add(&t, buf_data(&signed_msg),
			    buf_len(&signed_msg)) == 0);
		r = verify_msg(buf_data(&t), buf_len(&t), 0, key, c->now,
		    &why);
		CHECKF(r == c->want, "policy case %zu: got %s (%s)", i,
		    dkim_result_name(r), why);
		buf_reset(&t);
	}
	buf_release(&tags);
	buf_release(&signed_msg);
	buf_release(&t);
	EVP_PKEY_free(pk);
}

/* h=dkim-signature picks another signature above, not itself. */
TEST(dkim_verify_signs_other_signature)
{
	static const char msg[] = "DKIM-Signature: v=1; a=rsa-sha256; "
	    "d=other.example; s=x; h=from; bh=" ZERO32 "; b=AAAA\r\n"
	    MSG_PLAIN;
	EVP_PKEY *pk = ed_private_key();
	struct buf out, t;

	buf_init(&out, BUF_NOCAP);
	buf_init(&t, BUF_NOCAP);
	resign(pk, ED_TAGS "; h=from:dkim-signature", msg, &out);
	CHECK_VERIFY(buf_data(&out), buf_len(&out), 0, ED_KEY, NOW,
	    DKIM_PASS);
	replace(buf_cstr(&out), "d=other.example", "d=other.example.net",
	    &t);
	CHECK_VERIFY(buf_data(&t), buf_len(&t), 0, ED_KEY, NOW, DKIM_FAIL);
	buf_release(&out);
	buf_release(&t);
	EVP_PKEY_free(pk);
}

static EVP_PKEY *
rsa_key_of(size_t bits)
{
	EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", bits);

	CHECK(pk != NULL);
	return pk;
}

#define RSA_TAGS "v=1; d=football.example.com; s=test; h=from; a="

/* RFC 8301 3.1 and 3.2: SHA-1, and RSA keys under 1024 bits. */
TEST(dkim_verify_rsa_policies)
{
	EVP_PKEY *small = rsa_key_of(512), *ok = rsa_key_of(1024);
	struct buf out, rec;

	buf_init(&out, BUF_NOCAP);
	buf_init(&rec, 4096);
	CHECK(dkim_key_record(small, DKIM_ALG_RSA_SHA256, &rec) == 0);
	resign(small, RSA_TAGS "rsa-sha256", MSG_PLAIN, &out);
	CHECK_VERIFY(buf_data(&out), buf_len(&out), 0, buf_cstr(&rec), NOW,
	    DKIM_POLICY);
	buf_reset(&rec);
	CHECK(dkim_key_record(ok, DKIM_ALG_RSA_SHA256, &rec) == 0);
	resign(ok, RSA_TAGS "rsa-sha256", MSG_PLAIN, &out);
	CHECK_VERIFY(buf_data(&out), buf_len(&out), 0, buf_cstr(&rec), NOW,
	    DKIM_PASS);
	resign(ok, RSA_TAGS "rsa-sha1", MSG_PLAIN, &out);
	CHECK_VERIFY(buf_data(&out), buf_len(&out), 0, buf_cstr(&rec), NOW,
	    DKIM_POLICY);
	/* Ed25519 a= with an RSA key. */
	resign(ok, RSA_TAGS "rsa-sha256", MSG_PLAIN, &out);
	replace(buf_cstr(&out), "a=rsa-sha256", "a=ed25519-sha256", &rec);
	CHECK_VERIFY(buf_data(&rec), buf_len(&rec), 0, ED_KEY, NOW,
	    DKIM_FAIL);
	buf_release(&out);
	buf_release(&rec);
	EVP_PKEY_free(small);
	EVP_PKEY_free(ok);
}

/* keygen -> PEM file -> signer -> sign -> verify with the record. */
static void
keygen_roundtrip(enum dkim_alg alg, const char *kword)
{
	static const char msg[] = MSG_HARD;
	char path[] = "/tmp/facteur-dkim-XXXXXX";
	struct dkim_signer s;
	struct dkim_key key;
	struct buf pem, rec, out;
	const char *why = "";
	EVP_PKEY *pk = dkim_keygen(alg);
	int fd;

	CHECK(pk != NULL);
	buf_init(&pem, 16384);
	buf_init(&rec, 4096);
	buf_init(&out, BUF_NOCAP);
	CHECK(dkim_key_pem(pk, &pem) == 0);
	CHECK(strncmp(buf_cstr(&pem), "-----BEGIN PRIVATE KEY-----\n",
	    28) == 0);
	CHECK(dkim_key_record(pk, alg, &rec) == 0);
	CHECK(str_has_prefix_case(str_make(buf_data(&rec), buf_len(&rec)),
	    "v=DKIM1; k="));
	CHECK(rec.data != NULL && strncmp(rec.data + 11, kword,
	    strlen(kword)) == 0);
	CHECK(dkim_key_parse(str_make(buf_data(&rec), buf_len(&rec)), &key,
	    &why) == 0);
	CHECK_EQ_INT(key.alg, alg);
	dkim_key_release(&key);
	fd = mkstemp(path);
	CHECK(fd != -1 && fs_write_all(fd, buf_data(&pem), buf_len(&pem)) ==
	    0);
	close(fd);
	CHECKF(dkim_signer_load(&s, "football.example.com", "sel2024",
	    path, &why) == 0, "load: %s", why);
	unlink(path);
	CHECK_EQ_INT(s.alg, alg);
	CHECK(sign_msg(&s, msg, sizeof(msg) - 1, &out) == 0);
	CHECK_VERIFY(buf_data(&out), buf_len(&out), 0, buf_cstr(&rec), NOW,
	    DKIM_PASS);
	dkim_signer_release(&s);
	EVP_PKEY_free(pk);
	buf_release(&pem);
	buf_release(&rec);
	buf_release(&out);
}

TEST(dkim_keygen_ed25519)
{
	struct buf rec;
	EVP_PKEY *pk = dkim_keygen(DKIM_ALG_ED25519_SHA256);

	keygen_roundtrip(DKIM_ALG_ED25519_SHA256, "ed25519; p=");
	/* RFC 8463 4.2: p= is the raw 32-octet key, 44 base64 chars. */
	buf_init(&rec, 4096);
	CHECK(dkim_key_record(pk, DKIM_ALG_ED25519_SHA256, &rec) == 0);
	CHECK_EQ_INT(buf_len(&rec), strlen("v=DKIM1; k=ed25519; p=") + 44);
	/* The record names the key's real type, or nothing. */
	buf_reset(&rec);
	CHECK(dkim_key_record(pk, DKIM_ALG_RSA_SHA256, &rec) == -1);
	CHECK(dkim_keygen(DKIM_ALG_RSA_SHA1) == NULL);
	buf_release(&rec);
	EVP_PKEY_free(pk);
}

TEST(dkim_keygen_rsa)
{
	keygen_roundtrip(DKIM_ALG_RSA_SHA256, "rsa; p=MIIBIjANBgkqhkiG9w0B");
}

struct load_case {
	const char	*domain, *selector, *path;
};

static const struct load_case bad_loads[] = {
	{ "football.example.com", "s", "tests/data/dkim/missing.pem" },
	{ "football.example.com", "s", "tests/data/dkim/rsa.txt" },
	{ "not a domain", "s", "tests/data/dkim/rsa.pem" },
	{ "localhost", "s", "tests/data/dkim/rsa.pem" },
	{ "football.example.com", "bad selector", "tests/data/dkim/rsa.pem" },
	{ "football.example.com", "", "tests/data/dkim/rsa.pem" },
	{ "football.example.com", "a-selector-longer-than-the-sixty-four-"
	    "octets-of-struct-dkim-signer", "tests/data/dkim/rsa.pem" },
};

TEST(dkim_signer_load_refuses)
{
	struct dkim_signer s;
	const char *why;
	size_t i;

	for (i = 0; i < ARRAY_LEN(bad_loads); i++) {
		why = NULL;
		CHECKF(dkim_signer_load(&s, bad_loads[i].domain,
		    bad_loads[i].selector, bad_loads[i].path, &why) == -1,
		    "load case %zu", i);
		CHECK(why != NULL && s.pkey == NULL);
	}
	CHECK(dkim_signer_load(&s, "example.org", "ed",
	    "tests/data/dkim/ed25519.pem", &why) == 0);
	CHECK_EQ_INT(s.alg, DKIM_ALG_ED25519_SHA256);
	dkim_signer_release(&s);
	CHECK(s.pkey == NULL);
}

TEST(dkim_names)
{
	CHECK_EQ_STR(dkim_result_name(DKIM_PASS), "pass");
	CHECK_EQ_STR(dkim_result_name(DKIM_FAIL), "fail");
	CHECK_EQ_STR(dkim_result_name(DKIM_NEUTRAL), "neutral");
	CHECK_EQ_STR(dkim_result_name(DKIM_POLICY), "policy");
	CHECK_EQ_STR(dkim_result_name(DKIM_TEMPERROR), "temperror");
	CHECK_EQ_STR(dkim_result_name(DKIM_PERMERROR), "permerror");
	CHECK_EQ_STR(dkim_result_name(DKIM_NONE), "none");
	CHECK_EQ_STR(dkim_alg_name(DKIM_ALG_RSA_SHA256), "rsa-sha256");
	CHECK_EQ_STR(dkim_alg_name(DKIM_ALG_ED25519_SHA256),
	    "ed25519-sha256");
	CHECK_EQ_STR(dkim_alg_name(DKIM_ALG_RSA_SHA1), "rsa-sha1");
}
