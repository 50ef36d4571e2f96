/*
 * dkim_sign.c - our DKIM-Signature (RFC 6376 5): relaxed/relaxed, t=, no
 * l=, From over-signed, folded at 78 columns with CRLF TAB, b= last.
 *
 * The field is written once, up to "b=", and that text is what gets
 * hashed (RFC 6376 3.7: the b= value is empty while signing), so the
 * folding a verifier sees is exactly the folding that was signed.
 */
#include "core/common.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "auth/auth_sasl.h"
#include "dkim/dkim_int.h"

/*
 * RFC 6376 5.4.1's list, narrowed to what identifies a message. The
 * first five are over-signed (once more than present, absent included):
 * what a replay would add to mislead a reader (8.15). The others are
 * signed as present only: a later hop may add a missing Date or
 * Message-ID (sendmail and Exchange do) or MIME fields, which must not
 * break the signature (rspamd's defaults draw the same line).
 */
static const struct {
	const char	*name;
	bool		 oversign;
} dkim_sign_names[] = {
	{ "from", true }, { "to", true }, { "cc", true }, { "subject", true },
	{ "reply-to", true }, { "date", false }, { "message-id", false },
	{ "in-reply-to", false }, { "references", false },
	{ "mime-version", false }, { "content-type", false },
	{ "content-transfer-encoding", false }, { "content-id", false },
	{ "content-description", false },
};

/* Base64 of the longest signature, and its NUL. */
#define DKIM_B64_SIG_SIZE	((DKIM_SIGBYTES_MAX + 2) / 3 * 4 + 1)

struct dkim_fold {
	struct buf	*out;
	size_t		 col;	/* octets on the current line */
	int		 r;
};

int
dkim_crypto_sign(EVP_PKEY *pkey, enum dkim_alg alg,
    const unsigned char *digest, size_t dlen, struct buf *out)
{
	unsigned char sig[DKIM_SIGBYTES_MAX];
	size_t siglen = sizeof(sig);
	EVP_MD_CTX *mctx;
	EVP_PKEY_CTX *pctx;
	int ok = 0;

	if (alg == DKIM_ALG_ED25519_SHA256) {
		/* RFC 8463 3: PureEd25519 over the SHA-256 digest. */
		if ((mctx = EVP_MD_CTX_new()) != NULL)
			ok = EVP_DigestSignInit(mctx, NULL, NULL, NULL,
			    pkey) == 1 && EVP_DigestSign(mctx, sig, &siglen,
			    digest, dlen) == 1;
		EVP_MD_CTX_free(mctx);
	} else if ((pctx = EVP_PKEY_CTX_new(pkey, NULL)) != NULL) {
		/* RFC 6376 3.3.1: RSASSA-PKCS1-v1_5. */
		ok = EVP_PKEY_sign_init(pctx) == 1 &&
		    EVP_PKEY_CTX_set_rsa_padding(pctx,
		    RSA_PKCS1_PADDING) == 1 &&
		    EVP_PKEY_CTX_set_signature_md(pctx,
		    dkim_alg_md(alg)) == 1 &&
		    EVP_PKEY_sign(pctx, sig, &siglen, digest, dlen) == 1;
		EVP_PKEY_CTX_free(pctx);
	}
	ERR_clear_error();	/* the queue is shared with TLS */
	if (!ok)
		return -1;
	return buf_add(out, sig, siglen);
}

/* Breaks the line before tok if it would pass DKIM_LINE_MAX. */
static void
dkim_fold_add(struct dkim_fold *f, const char *tok, bool space)
{
	size_t len = strlen(tok);

	if (f->col + len + (space ? 1 : 0) > DKIM_LINE_MAX) {
		f->r |= buf_add(f->out, "\r\n\t", 3);	/* RFC 5322 2.2.3 */
		f->col = 1;
	} else if (space) {
		f->r |= buf_addc(f->out, ' ');
		f->col++;
	}
	f->r |= buf_adds(f->out, tok);
	f->col += len;
}

static void
dkim_fold_tagf(struct dkim_fold *f, const char *fmt, const char *v)
{
	char tok[320];
	int n = snprintf(tok, sizeof(tok), fmt, v);

	if (n < 0 || (size_t)n >= sizeof(tok))
		f->r = -1;
	else
		dkim_fold_add(f, tok, true);
}

/* RFC 6376 3.5 b=: FWS may go anywhere in the value. */
static void
dkim_fold_b64(struct dkim_fold *f, const char *v)
{
	size_t len = strlen(v), n;

	while (len > 0) {
		if (f->col >= DKIM_LINE_MAX) {
			f->r |= buf_add(f->out, "\r\n\t", 3);
			f->col = 1;
		}
		n = MIN(len, DKIM_LINE_MAX - f->col);
		f->r |= buf_add(f->out, v, n);
		f->col += n;
		v += n;
		len -= n;
	}
}

/*
 * RFC 6376 5.4.2: each name once per instance present, so all of them
 * are signed, and the over-signed ones once more (an absent instance
 * signs as empty). At most DKIM_HNAMES_MAX names, what our verifier (and
 * others) accept. -1 if the message has no From at all.
 */
static int
dkim_fold_hlist(struct dkim_fold *f, const struct dkim_fields *fields,
    struct buf *hlist)
{
	const char *names[DKIM_HNAMES_MAX];
	size_t i, k, n, count = 0;
	char tok[64];

	if (dkim_fields_count(fields, "from") == 0)
		return -1;
	for (i = 0; i < ARRAY_LEN(dkim_sign_names); i++) {
		n = dkim_fields_count(fields, dkim_sign_names[i].name) +
		    (dkim_sign_names[i].oversign ? 1 : 0);
		for (k = 0; k < n && count < ARRAY_LEN(names); k++)
			names[count++] = dkim_sign_names[i].name;
	}
	for (i = 0; i < count; i++) {
		snprintf(tok, sizeof(tok), "%s%s%c", i == 0 ? "h=" : "",
		    names[i], i + 1 == count ? ';' : ':');
		/* RFC 6376 3.5 h=: FWS may follow a colon. */
		dkim_fold_add(f, tok, i == 0);
		f->r |= buf_adds(hlist, names[i]);
		if (i + 1 < count)
			f->r |= buf_addc(hlist, ':');
	}
	return f->r;
}

/* The field up to and including "b=", as it is signed. */
static int
dkim_sign_field(struct dkim_fold *f, const struct dkim_signer *signer,
    const struct dkim_fields *fields, const char *bh, time_t now,
    struct buf *hlist)
{
	char t[32];

	f->r |= buf_adds(f->out, "DKIM-Signature:");
	f->col = strlen("DKIM-Signature:");
	dkim_fold_add(f, "v=1;", true);
	dkim_fold_tagf(f, "a=%s;", dkim_alg_name(signer->alg));
	dkim_fold_add(f, "c=relaxed/relaxed;", true);
	dkim_fold_tagf(f, "d=%s;", signer->domain);
	dkim_fold_tagf(f, "s=%s;", signer->selector);
	snprintf(t, sizeof(t), "%lld", (long long)now);
	dkim_fold_tagf(f, "t=%s;", t);
	if (dkim_fold_hlist(f, fields, hlist) == -1)
		return -1;
	dkim_fold_tagf(f, "bh=%s;", bh);
	dkim_fold_add(f, "b=", true);
	return f->r;
}

/* The signature over the header hash, base64 into b64. */
static int
dkim_sign_b(const struct dkim_signer *signer, struct dkim_fields *fields,
    struct str hlist, struct str field, char *b64, size_t size)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	struct buf sig;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int r = -1;

	buf_init(&sig, DKIM_SIGBYTES_MAX);
	if (md != NULL && EVP_DigestInit_ex(md, dkim_alg_md(signer->alg),
	    NULL) == 1 && dkim_hash_headers(md, fields, hlist,
	    DKIM_CANON_RELAXED, field) == 0 &&
	    EVP_DigestFinal_ex(md, digest, &dlen) == 1 &&
	    dkim_crypto_sign(signer->pkey, signer->alg, digest, dlen,
	    &sig) == 0)
		r = auth_b64_encode(buf_data(&sig), buf_len(&sig), b64, size);
	EVP_MD_CTX_free(md);
	buf_release(&sig);
	return r;
}

int
dkim_sign(const struct dkim_signer *signer, const char *head,
    size_t headlen, const char *bh, time_t now, struct buf *out)
{
	struct dkim_fields fields;
	struct buf field, hlist;
	struct dkim_fold f = { &field, 0, 0 };
	char b64[DKIM_B64_SIG_SIZE];
	int r = -1;

	if (signer->alg == DKIM_ALG_RSA_SHA1 || signer->pkey == NULL)
		return -1;	/* RFC 8301 3.1: never sign with SHA-1 */
	buf_init(&field, BUF_NOCAP);
	buf_init(&hlist, BUF_NOCAP);
	if (dkim_fields_init(&fields, head, headlen) == 0 &&
	    dkim_sign_field(&f, signer, &fields, bh, now, &hlist) == 0 &&
	    dkim_sign_b(signer, &fields, str_make(buf_data(&hlist),
	    buf_len(&hlist)), str_make(buf_data(&field), buf_len(&field)),
	    b64, sizeof(b64)) == 0) {
		dkim_fold_b64(&f, b64);
		f.r |= buf_add(&field, "\r\n", 2);
		if (f.r == 0)
			r = buf_add(out, buf_data(&field), buf_len(&field));
	}
	dkim_fields_release(&fields);
	buf_release(&field);
	buf_release(&hlist);
	return r;
}
