/*
 * dkim_int.h - what the dkim_*.c files share and nobody else needs:
 * tag=value lists (RFC 6376 3.2), colon lists, base64 with folding white
 * space, header canonicalization (RFC 6376 3.4.1-2), header selection
 * (RFC 6376 5.4.2) and the hash of the header part (RFC 6376 3.7).
 *
 * Pure functions over bytes, except that the header hash feeds an OpenSSL
 * digest context. Tests include this header to reach the pieces.
 */
#ifndef FACTEUR_DKIM_INT_H
#define FACTEUR_DKIM_INT_H

#include "dkim/dkim.h"

typedef struct evp_md_ctx_st EVP_MD_CTX;

/* RFC 6376 5.4: the longest digest we use (SHA-256). */
#define DKIM_DIGEST_MAX		32
/* Our own: a decoded b= (RSA 8192 bits is 1024 octets). */
#define DKIM_SIGBYTES_MAX	(DKIM_RSA_BITS_MAX / 8)
/* Our own: a decoded p= (SPKI of an 8192-bit RSA key is ~1060 octets). */
#define DKIM_KEYBYTES_MAX	2048
/* RFC 5322 2.1.1: lines SHOULD be at most 78 characters. */
#define DKIM_LINE_MAX		78

/* One tag-spec. name and value are trimmed; raw keeps the FWS. */
struct dkim_tag {
	struct str	 name;
	struct str	 value;
	struct str	 raw;	/* from after '=' to ';' or the end */
};

struct dkim_tags {
	struct dkim_tag	 tag[DKIM_TAGS_MAX];
	size_t		 n;
};

/* RFC 6376 3.2; duplicates make the whole list invalid. 0 or -1. */
int dkim_tags_parse(struct str in, struct dkim_tags *tags,
    const char **error_r);
/* The tag named name (case-sensitive, RFC 6376 3.2), or NULL. */
const struct dkim_tag *dkim_tags_find(const struct dkim_tags *tags,
    const char *name);

/* Iterates a colon-separated list ("a : b:c"), items trimmed of FWS. */
struct dkim_list {
	struct str	 rest;
	bool		 done;
};

void dkim_list_init(struct dkim_list *l, struct str s);
bool dkim_list_next(struct dkim_list *l, struct str *item);
/* s, as a colon list, holds word (ASCII case-insensitive). */
bool dkim_list_has(struct str s, const char *word);

bool dkim_is_fws(char c);
struct str dkim_trim_fws(struct str s);
/* s without one final CRLF (or LF). */
struct str dkim_strip_eol(struct str s);
/* Base64 with FWS anywhere (RFC 6376 3.5 b=, bh=). 0, or -1 if empty. */
int dkim_b64_decode(struct str in, struct buf *out);

/*
 * Appends one header field ("name:value", a final line end ignored) in
 * canonical form (RFC 6376 3.4.1, 3.4.2), with a CRLF if crlf. 0 or -1.
 */
int dkim_canon_header(enum dkim_canon c, struct str field, bool crlf,
    struct buf *out);

/* The header fields of a section, for selection by h=. */
struct dkim_field {
	struct str	 name;
	struct str	 field;		/* "name:value" with its line end */
	bool		 used;
};

struct dkim_fields {
	struct dkim_field	*v;
	size_t			 n;
};

/* 0, or -1 if the section is malformed or has too many fields. */
int dkim_fields_init(struct dkim_fields *f, const char *head, size_t len);
void dkim_fields_release(struct dkim_fields *f);
/* How many fields are called name (case-insensitive). */
size_t dkim_fields_count(const struct dkim_fields *f, const char *name);

/*
 * Feeds md the fields named by hlist, each taken from the bottom up and
 * canonicalized (RFC 6376 5.4.2), then sig_field with its b= value
 * deleted, canonicalized, without a final CRLF (RFC 6376 3.7). Fields
 * already marked used are skipped. 0, or -1 if sig_field has no b=.
 */
int dkim_hash_headers(EVP_MD_CTX *md, struct dkim_fields *f,
    struct str hlist, enum dkim_canon c, struct str sig_field);

/* The digest of an algorithm, as an OpenSSL EVP_MD. */
const void *dkim_alg_md(enum dkim_alg alg);

/*
 * The signature primitive, over the header digest: RSASSA-PKCS1-v1_5 for
 * rsa-*, PureEd25519 over the SHA-256 digest for ed25519-sha256 (RFC 8463
 * 3). Appends the signature to out. 0 or -1.
 */
int dkim_crypto_sign(EVP_PKEY *pkey, enum dkim_alg alg,
    const unsigned char *digest, size_t dlen, struct buf *out);
/* 1 good signature, 0 bad. */
int dkim_crypto_verify(EVP_PKEY *pkey, enum dkim_alg alg,
    const unsigned char *digest, size_t dlen, const unsigned char *sig,
    size_t siglen);

#endif
