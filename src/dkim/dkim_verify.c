/*
 * dkim_verify.c - one DKIM-Signature against its key (RFC 6376 6.1):
 * what may refuse it before any cryptography (algorithm, key, times),
 * then the body hash, then the signature over the header hash.
 */
#include "core/common.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "dkim/dkim_int.h"

int
dkim_crypto_verify(EVP_PKEY *pkey, enum dkim_alg alg,
    const unsigned char *digest, size_t dlen, const unsigned char *sig,
    size_t siglen)
{
	EVP_MD_CTX *mctx;
	EVP_PKEY_CTX *pctx;
	int ok;

	if (alg == DKIM_ALG_ED25519_SHA256) {
		/* RFC 8463 3: PureEd25519 over the SHA-256 digest. */
		if ((mctx = EVP_MD_CTX_new()) == NULL)
			return 0;
		ok = EVP_DigestVerifyInit(mctx, NULL, NULL, NULL, pkey) == 1 &&
		    EVP_DigestVerify(mctx, sig, siglen, digest, dlen) == 1;
		EVP_MD_CTX_free(mctx);
	} else {
		/* RFC 6376 3.3.1: RSASSA-PKCS1-v1_5 (RFC 8017 8.2). */
		if ((pctx = EVP_PKEY_CTX_new(pkey, NULL)) == NULL)
			return 0;
		ok = EVP_PKEY_verify_init(pctx) == 1 &&
		    EVP_PKEY_CTX_set_rsa_padding(pctx,
		    RSA_PKCS1_PADDING) == 1 &&
		    EVP_PKEY_CTX_set_signature_md(pctx,
		    dkim_alg_md(alg)) == 1 &&
		    EVP_PKEY_verify(pctx, sig, siglen, digest, dlen) == 1;
		EVP_PKEY_CTX_free(pctx);
	}
	ERR_clear_error();	/* the queue is shared with TLS */
	return ok;
}

static enum dkim_result
dkim_refuse(enum dkim_result r, const char **why_r, const char *why)
{
	*why_r = why;
	return r;
}

/* The key against the signature (RFC 6376 6.1.2, RFC 8301). */
static enum dkim_result
dkim_check_key(const struct dkim_sig *sig, const struct dkim_key *key,
    const char **why_r)
{
	bool rsa_sig = sig->alg != DKIM_ALG_ED25519_SHA256;
	int bits;

	if (key->revoked || key->pkey == NULL)
		return dkim_refuse(DKIM_PERMERROR, why_r, "key revoked");
	if (rsa_sig != (key->alg == DKIM_ALG_RSA_SHA256))
		return dkim_refuse(DKIM_PERMERROR, why_r,
		    "key type does not match a=");
	if (!key->sha256_ok)
		return dkim_refuse(DKIM_PERMERROR, why_r,
		    "key h= does not allow sha256");
	if (rsa_sig) {
		bits = EVP_PKEY_get_bits(key->pkey);
		/* RFC 8301 3.2: "MUST NOT consider ... less than 1024". */
		if (bits < DKIM_RSA_BITS_MIN)
			return dkim_refuse(DKIM_POLICY, why_r,
			    "RSA key shorter than 1024 bits");
		if (bits > DKIM_RSA_BITS_MAX)
			return dkim_refuse(DKIM_POLICY, why_r,
			    "RSA key longer than 8192 bits");
	}
	return DKIM_PASS;
}

/* The i= domain equals d= (key flag t=s, RFC 6376 3.6.1). */
static bool
dkim_auid_exact(const struct dkim_sig *sig)
{
	const char *at = strrchr(sig->auid, '@');

	return at != NULL && str_caseeq(str_cstr(at + 1),
	    str_cstr(sig->domain));
}

/* Everything that refuses a signature before any hashing. */
static enum dkim_result
dkim_check(const struct dkim_sig *sig, const struct dkim_key *key,
    time_t now, const char **why_r)
{
	enum dkim_result r;
	uint64_t unow = now < 0 ? 0 : (uint64_t)now;

	/* RFC 8301 3.1: verifiers MUST NOT take SHA-1 as valid. */
	if (sig->alg == DKIM_ALG_RSA_SHA1)
		return dkim_refuse(DKIM_POLICY, why_r, "rsa-sha1 is refused");
	if ((r = dkim_check_key(sig, key, why_r)) != DKIM_PASS)
		return r;
	if (key->strict_i && !dkim_auid_exact(sig))
		return dkim_refuse(DKIM_PERMERROR, why_r,
		    "i= domain is not d= (key t=s)");
	/* RFC 6376 3.5 x=: expired, some leeway for clock skew. */
	if (sig->has_x && unow > sig->x + DKIM_SKEW)
		return dkim_refuse(DKIM_POLICY, why_r, "signature expired");
	/* RFC 6376 3.5 t=: verifiers MAY refuse a future timestamp. */
	if (sig->has_t && sig->t > unow + DKIM_FUTURE_MAX)
		return dkim_refuse(DKIM_POLICY, why_r,
		    "signature timestamp in the future");
	return DKIM_PASS;
}

/* RFC 6376 6.1.3 step 4: the body hash, compared decoded. */
static bool
dkim_bh_match(const struct dkim_sig *sig, const char *bh)
{
	struct buf want, got;
	bool eq;

	buf_init(&want, DKIM_DIGEST_MAX);
	buf_init(&got, DKIM_DIGEST_MAX);
	eq = dkim_b64_decode(sig->bh, &want) == 0 &&
	    dkim_b64_decode(str_cstr(bh), &got) == 0 &&
	    buf_len(&want) == buf_len(&got) &&
	    CRYPTO_memcmp(buf_data(&want), buf_data(&got), buf_len(&got)) == 0;
	buf_release(&want);
	buf_release(&got);
	return eq;
}

/* The sig field is the signer's future: h= can never pick it. */
static void
dkim_fields_skip(struct dkim_fields *f, struct str sig_field)
{
	struct str want = dkim_strip_eol(sig_field);
	size_t i;

	for (i = 0; i < f->n; i++)
		if (f->v[i].field.p == sig_field.p) {
			f->v[i].used = true;
			return;
		}
	for (i = 0; i < f->n; i++)
		if (str_eq(dkim_strip_eol(f->v[i].field), want)) {
			f->v[i].used = true;
			return;
		}
}

/* The header hash of RFC 6376 3.7, into digest. 0 or -1. */
static int
dkim_header_digest(const char *head, size_t headlen, struct str sig_field,
    const struct dkim_sig *sig, unsigned char *digest, unsigned int *dlen)
{
	struct dkim_fields f;
	EVP_MD_CTX *md;
	int r = -1;

	if (dkim_fields_init(&f, head, headlen) == -1) {
		dkim_fields_release(&f);
		return -1;
	}
	dkim_fields_skip(&f, sig_field);
	md = EVP_MD_CTX_new();
	if (md != NULL && EVP_DigestInit_ex(md, dkim_alg_md(sig->alg),
	    NULL) == 1 && dkim_hash_headers(md, &f, sig->h, sig->hcanon,
	    sig_field) == 0 && EVP_DigestFinal_ex(md, digest, dlen) == 1)
		r = 0;
	EVP_MD_CTX_free(md);
	dkim_fields_release(&f);
	return r;
}

enum dkim_result
dkim_verify(const char *head, size_t headlen, struct str sig_field,
    const struct dkim_sig *sig, const struct dkim_key *key, const char *bh,
    time_t now, const char **why_r)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	struct buf b;
	enum dkim_result r;

	if ((r = dkim_check(sig, key, now, why_r)) != DKIM_PASS)
		return r;
	if (!dkim_bh_match(sig, bh))
		return dkim_refuse(DKIM_FAIL, why_r, "body hash mismatch");
	if (dkim_header_digest(head, headlen, sig_field, sig, digest,
	    &dlen) == -1)
		return dkim_refuse(DKIM_PERMERROR, why_r,
		    "malformed header section or signature field");
	buf_init(&b, DKIM_SIGBYTES_MAX);
	if (dkim_b64_decode(sig->b, &b) == -1) {
		buf_release(&b);
		return dkim_refuse(DKIM_PERMERROR, why_r, "bad b= signature");
	}
	r = dkim_crypto_verify(key->pkey, sig->alg, digest, dlen,
	    (const unsigned char *)buf_data(&b), buf_len(&b)) ? DKIM_PASS :
	    DKIM_FAIL;
	buf_release(&b);
	*why_r = r == DKIM_PASS ? "signature verified" : "signature mismatch";
	return r;
}

const char *
dkim_result_name(enum dkim_result r)
{
	/* RFC 8601 2.7.1 result names. */
	switch (r) {
	case DKIM_PASS:		return "pass";
	case DKIM_FAIL:		return "fail";
	case DKIM_NEUTRAL:	return "neutral";
	case DKIM_POLICY:	return "policy";
	case DKIM_TEMPERROR:	return "temperror";
	case DKIM_PERMERROR:	return "permerror";
	case DKIM_NONE:		return "none";
	}
	return "none";
}

const char *
dkim_alg_name(enum dkim_alg alg)
{
	switch (alg) {
	case DKIM_ALG_RSA_SHA256:	return "rsa-sha256";
	case DKIM_ALG_ED25519_SHA256:	return "ed25519-sha256";
	case DKIM_ALG_RSA_SHA1:		return "rsa-sha1";
	}
	return "unknown";
}
