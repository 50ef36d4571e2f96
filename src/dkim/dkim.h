/*
 * dkim.h - DKIM signatures (RFC 6376) with rsa-sha256 and ed25519-sha256
 * (RFC 8463): the cryptographic core, without DNS and without network I/O
 * (the only file it reads is a signer's PEM key, in dkim_signer_load).
 *
 * A message is handed over in two parts: its header section (the bytes
 * before the empty line, CRLF line ends, our own headers included) and its
 * body, fed in chunks of any size to a body hasher. Both signing and
 * verification are pure functions of those bytes, a key and a time, so
 * they are unit-tested against the RFC examples and fuzzed.
 *
 * Signing (dkim_sign): relaxed/relaxed canonicalization, no l=, t= set,
 * a header list covering From, To, Cc, Subject, Date, Message-ID,
 * Reply-To, In-Reply-To, References, the MIME headers (each listed as many
 * times as it is present), with From over-signed (listed once more than
 * present) so nobody can add one. The field is folded at 78 columns.
 *
 * Verification (dkim_verify): one DKIM-Signature field against its key
 * record (the TXT at <s>._domainkey.<d>, fetched by the caller): both
 * algorithms, both canonicalizations, l=, x= (with a clock skew
 * allowance), t=, h= of the key, k=, t=s, p= empty (revoked). A testing
 * key (t=y) gives the computed result: the caller reads key->testing and
 * must then treat the message like unsigned mail (RFC 6376 3.6.1).
 *
 * The caller's loop, per DKIM-Signature field of a message:
 *	dkim_sig_parse(value) -> PERMERROR if it fails;
 *	fetch the TXT record, dkim_key_parse() -> PERMERROR/TEMPERROR;
 *	b = dkim_body_new_sig(&sig), dkim_body_update() over the body,
 *	dkim_body_final(&b, bh) (one hasher per distinct a=, c=, l=);
 *	dkim_verify(head, field, &sig, &key, bh, time(NULL), &why).
 *
 * Limits (hostile input): at most DKIM_TAGS_MAX tags per tag-list,
 * DKIM_HNAMES_MAX names in h=, DKIM_FIELDS_MAX header fields in a
 * message, RSA keys of 1024..8192 bits (RFC 8301 3.2).
 */
#ifndef FACTEUR_DKIM_H
#define FACTEUR_DKIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/buf.h"
#include "core/str.h"

typedef struct evp_pkey_st EVP_PKEY;

enum dkim_alg {
	DKIM_ALG_RSA_SHA256,
	DKIM_ALG_ED25519_SHA256,
	DKIM_ALG_RSA_SHA1,		/* verify only (RFC 8301: weak) */
};

enum dkim_canon {
	DKIM_CANON_SIMPLE,
	DKIM_CANON_RELAXED,
};

/* Results per RFC 8601 2.7.1. */
enum dkim_result {
	DKIM_PASS,
	DKIM_FAIL,		/* bad signature or body hash */
	DKIM_NEUTRAL,		/* for the caller; dkim_verify never says it */
	DKIM_POLICY,		/* syntax fine but refused: sha1, short key,
				 * x= past, t= far ahead */
	DKIM_TEMPERROR,		/* key lookup failed temporarily (caller) */
	DKIM_PERMERROR,		/* malformed signature or key, key revoked */
	DKIM_NONE,
};

/* Room for a base64 body hash and its NUL (SHA-256: 44 characters). */
#define DKIM_BH_SIZE		64
/* Our own bounds on hostile input; see the module comment. */
#define DKIM_TAGS_MAX		32
#define DKIM_HNAMES_MAX		512
#define DKIM_FIELDS_MAX		4096
/* RFC 8301 3.2: below 1024 bits is never valid; above 8192 is a DoS. */
#define DKIM_RSA_BITS_MIN	1024
#define DKIM_RSA_BITS_MAX	8192
/* Clock skew allowed past x= (RFC 6376 3.5 allows "some" leeway). */
#define DKIM_SKEW		300
/*
 * How far in the future t= may be before we refuse the signature (RFC
 * 6376 3.5: verifiers MAY): a day absorbs time-zone sized clock errors.
 */
#define DKIM_FUTURE_MAX		86400

/* A parsed DKIM-Signature field (RFC 6376 3.5). Slices point into it. */
struct dkim_sig {
	enum dkim_alg	 alg;
	enum dkim_canon	 hcanon, bcanon;
	char		 domain[256];	/* d= lowercase */
	char		 selector[256];	/* s= */
	char		 auid[512];	/* i=, or "@" d= */
	struct str	 h;		/* h= list as written */
	struct str	 b;		/* b= base64, may hold FWS */
	struct str	 bh;		/* bh= base64, may hold FWS */
	bool		 has_l;
	uint64_t	 l;
	bool		 has_t, has_x;
	uint64_t	 t, x;
};

/*
 * Parses the value of a DKIM-Signature field (after the colon; a final
 * CRLF is allowed). Checks every rule of RFC 6376 3.5 that needs no key:
 * required tags, v=1, known a= and c=, h= lists "from", i= within d=,
 * x= after t=, bh= the size of the hash. 0, or -1 with a static reason.
 */
int dkim_sig_parse(struct str value, struct dkim_sig *sig,
    const char **error_r);

/* A parsed key record (RFC 6376 3.6.1). */
struct dkim_key {
	enum dkim_alg	 alg;		/* k=: RSA_SHA256 stands for "rsa" */
	bool		 revoked;	/* p= empty */
	bool		 testing;	/* t=y */
	bool		 strict_i;	/* t=s: i= domain must equal d= */
	bool		 sha1_ok, sha256_ok;	/* from h= (both if absent) */
	EVP_PKEY	*pkey;		/* NULL if revoked */
};

/*
 * Parses a key record (the TXT strings joined). p= is an RSA
 * SubjectPublicKeyInfo (an RSAPublicKey is accepted too, as deployed) or
 * the raw 32-byte Ed25519 key (RFC 8463 4.2). A record with s= not
 * covering email is refused. 0 (release the key), or -1 with a reason.
 */
int dkim_key_parse(struct str txt, struct dkim_key *key,
    const char **error_r);
void dkim_key_release(struct dkim_key *key);

/* Streaming body hash with canonicalization and an optional l= limit. */
struct dkim_body;
struct dkim_body *dkim_body_new(enum dkim_alg alg, enum dkim_canon canon,
    bool has_limit, uint64_t limit);
/* The hasher a signature asks for: its a=, its body c= and its l=. */
struct dkim_body *dkim_body_new_sig(const struct dkim_sig *sig);
void dkim_body_update(struct dkim_body *b, const char *p, size_t len);
/*
 * Writes the base64 body hash into out (DKIM_BH_SIZE); frees b. -1 when
 * the canonical body is shorter than l= (RFC 6376 3.5: l= MUST NOT be
 * larger; out is then "", which matches no bh=) or out is too small.
 */
int dkim_body_final(struct dkim_body **b, char *out, size_t size);
/* The same, and the canonical body's whole length (past l=) in *len_r. */
int dkim_body_final_len(struct dkim_body **b, char *out, size_t size,
    uint64_t *len_r);

/*
 * Verifies one signature. head: the whole header section, CRLF ends.
 * sig_field: the full DKIM-Signature field being verified, as it appears
 * in head (name, colon, value, folding; a final CRLF is ignored). It is
 * found in head by address, else by content, and is never selected by h=
 * itself. bh: the body hash computed with dkim_body_* for sig's
 * parameters. why_r gets a static reason.
 */
enum dkim_result dkim_verify(const char *head, size_t headlen,
    struct str sig_field, const struct dkim_sig *sig,
    const struct dkim_key *key, const char *bh, time_t now,
    const char **why_r);

/* A private key for signing, loaded from a PEM file. */
struct dkim_signer {
	char		 domain[256];
	char		 selector[64];
	enum dkim_alg	 alg;
	EVP_PKEY	*pkey;
};

/*
 * Loads a PEM private key (PKCS#8 or traditional; no passphrase) for
 * d=domain, s=selector; the algorithm follows the key type. RSA keys
 * under 1024 bits are refused (RFC 8301 3.2). 0, or -1 with a reason.
 */
int dkim_signer_load(struct dkim_signer *signer, const char *domain,
    const char *selector, const char *pem_path, const char **error_r);
void dkim_signer_release(struct dkim_signer *signer);

/*
 * Appends a complete "DKIM-Signature: ..." field (folded, CRLF-ended) to
 * out. head: header section of the message to sign; bh: its relaxed body
 * hash for the signer's algorithm. -1 if head is malformed, has no From
 * (RFC 6376 5.4: From MUST be signed), or the key fails.
 */
int dkim_sign(const struct dkim_signer *signer, const char *head,
    size_t headlen, const char *bh, time_t now, struct buf *out);

/* Key generation for `facteur dkim keygen`: RSA 2048 or Ed25519. */
EVP_PKEY *dkim_keygen(enum dkim_alg alg);
/* Appends the private key as PKCS#8 PEM ("BEGIN PRIVATE KEY"). 0 or -1. */
int dkim_key_pem(EVP_PKEY *pkey, struct buf *out);
/*
 * Appends the TXT record: "v=DKIM1; k=rsa; p=<base64 SPKI DER>" or
 * "v=DKIM1; k=ed25519; p=<base64 raw key>" (RFC 8463 4.2). 0 or -1.
 */
int dkim_key_record(EVP_PKEY *pkey, enum dkim_alg alg, struct buf *out);

const char *dkim_result_name(enum dkim_result r);
const char *dkim_alg_name(enum dkim_alg alg);

#endif
