/*
 * dkim_key.c - the key record (RFC 6376 3.6.1) and its public key:
 * RSA from SubjectPublicKeyInfo DER, Ed25519 from the raw 32-octet key
 * (RFC 8463 4.2); and the record written back for a key. Pure but for
 * OpenSSL; fuzzed by fuzz_dkim_key, which checks the round trip.
 */
#include "core/common.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "auth/auth_sasl.h"
#include "dkim/dkim_int.h"

/* RFC 8032 5.1.5: an Ed25519 public key is 32 octets. */
#define DKIM_ED25519_KEY_LEN	32

static int
dkim_key_fail(const char **error_r, const char *why)
{
	*error_r = why;
	return -1;
}

/* An RSA key from all of der (at most DKIM_KEYBYTES_MAX), or NULL. */
static EVP_PKEY *
dkim_key_rsa(const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	EVP_PKEY *pk;

	pk = d2i_PUBKEY(NULL, &p, (long)len);
	if (pk == NULL || p != der + len) {
		EVP_PKEY_free(pk);
		/*
		 * Some records carry a bare RSAPublicKey (PKCS#1) instead of
		 * the SubjectPublicKeyInfo RFC 6376 3.6.1 asks for; common
		 * verifiers accept them, so do we.
		 */
		p = der;
		pk = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, (long)len);
		if (pk != NULL && p != der + len) {
			EVP_PKEY_free(pk);
			pk = NULL;
		}
	}
	if (pk != NULL && EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA) {
		EVP_PKEY_free(pk);
		pk = NULL;
	}
	return pk;
}

static int
dkim_key_p(struct dkim_key *key, struct str p, const char **error_r)
{
	const unsigned char *der;
	struct buf raw;

	/*
	 * RFC 6376 3.6.1 p=: "An empty value means that this public key
	 * has been revoked."
	 */
	if (p.len == 0) {
		key->revoked = true;
		return 0;
	}
	buf_init(&raw, DKIM_KEYBYTES_MAX);
	if (dkim_b64_decode(p, &raw) == -1) {
		buf_release(&raw);
		return dkim_key_fail(error_r, "bad p= base64");
	}
	der = (const unsigned char *)buf_data(&raw);
	if (key->alg == DKIM_ALG_ED25519_SHA256)
		key->pkey = buf_len(&raw) != DKIM_ED25519_KEY_LEN ? NULL :
		    EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, der,
		    buf_len(&raw));
	else
		key->pkey = dkim_key_rsa(der, buf_len(&raw));
	buf_release(&raw);
	if (key->pkey == NULL) {
		ERR_clear_error();	/* the queue is shared with TLS */
		return dkim_key_fail(error_r, key->alg ==
		    DKIM_ALG_ED25519_SHA256 ? "bad Ed25519 p= key" :
		    "bad RSA p= key");
	}
	return 0;
}

static int
dkim_key_k(struct dkim_key *key, struct str k, const char **error_r)
{
	if (str_caseeq_cstr(k, "rsa"))
		key->alg = DKIM_ALG_RSA_SHA256;
	else if (str_caseeq_cstr(k, "ed25519"))
		key->alg = DKIM_ALG_ED25519_SHA256;
	else
		return dkim_key_fail(error_r, "unknown k= key type");
	return 0;
}

/* The tags that need no key material, in the order that matters. */
static int
dkim_key_flags(struct dkim_key *key, const struct dkim_tags *tags,
    const char **error_r)
{
	const struct dkim_tag *t;

	/* RFC 6376 3.6.1 v=: if present, "DKIM1", and the first tag. */
	t = dkim_tags_find(tags, "v");
	if (t != NULL && (t != &tags->tag[0] ||
	    !str_eq(t->value, STR_LIT("DKIM1"))))
		return dkim_key_fail(error_r, "bad v= version");
	/* h=: hash algorithms allowed; absent means all. */
	if ((t = dkim_tags_find(tags, "h")) != NULL) {
		key->sha1_ok = dkim_list_has(t->value, "sha1");
		key->sha256_ok = dkim_list_has(t->value, "sha256");
	}
	if ((t = dkim_tags_find(tags, "k")) != NULL &&
	    dkim_key_k(key, t->value, error_r) == -1)
		return -1;
	/* s=: service types; "*" or "email" must be there to use it. */
	if ((t = dkim_tags_find(tags, "s")) != NULL &&
	    !dkim_list_has(t->value, "*") && !dkim_list_has(t->value, "email"))
		return dkim_key_fail(error_r, "key not for email (s=)");
	/* t=: flags; unknown ones are ignored. */
	if ((t = dkim_tags_find(tags, "t")) != NULL) {
		key->testing = dkim_list_has(t->value, "y");
		key->strict_i = dkim_list_has(t->value, "s");
	}
	return 0;
}

int
dkim_key_parse(struct str txt, struct dkim_key *key, const char **error_r)
{
	struct dkim_tags tags;
	const struct dkim_tag *p;

	memset(key, 0, sizeof(*key));
	key->alg = DKIM_ALG_RSA_SHA256;		/* RFC 6376 3.6.1 k= */
	key->sha1_ok = key->sha256_ok = true;
	if (dkim_tags_parse(txt, &tags, error_r) == -1 ||
	    dkim_key_flags(key, &tags, error_r) == -1)
		return -1;
	if ((p = dkim_tags_find(&tags, "p")) == NULL)
		return dkim_key_fail(error_r, "missing p= tag");
	return dkim_key_p(key, p->value, error_r);
}

void
dkim_key_release(struct dkim_key *key)
{
	EVP_PKEY_free(key->pkey);
	key->pkey = NULL;
}

/* The p= octets: SPKI DER for RSA, the raw key for Ed25519. */
static int
dkim_key_public(EVP_PKEY *pkey, enum dkim_alg alg, struct buf *der)
{
	unsigned char raw[64], *p = NULL;
	size_t rawlen = sizeof(raw);
	int n, r = -1;

	if (alg == DKIM_ALG_ED25519_SHA256) {
		/* RFC 8463 4.2: "the base64 encoding of the raw key". */
		if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_ED25519 &&
		    EVP_PKEY_get_raw_public_key(pkey, raw, &rawlen) == 1)
			r = buf_add(der, raw, rawlen);
	} else if (alg == DKIM_ALG_RSA_SHA256 &&
	    EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA &&
	    (n = i2d_PUBKEY(pkey, &p)) > 0) {
		/* RFC 6376 3.6.1 p=: SubjectPublicKeyInfo, DER, base64. */
		r = buf_add(der, p, (size_t)n);
		OPENSSL_free(p);
	}
	ERR_clear_error();
	return r;
}

int
dkim_key_record(EVP_PKEY *pkey, enum dkim_alg alg, struct buf *out)
{
	struct buf der;
	char *b64 = NULL;
	size_t size;
	int r = -1;

	buf_init(&der, DKIM_KEYBYTES_MAX);
	if (dkim_key_public(pkey, alg, &der) == 0) {
		size = (buf_len(&der) + 2) / 3 * 4 + 1;
		b64 = xmalloc(size);
		if (auth_b64_encode(buf_data(&der), buf_len(&der), b64,
		    size) == 0)
			r = buf_addf(out, "v=DKIM1; k=%s; p=%s", alg ==
			    DKIM_ALG_RSA_SHA256 ? "rsa" : "ed25519", b64);
	}
	free(b64);
	buf_release(&der);
	return r;
}
