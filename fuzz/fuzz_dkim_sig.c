/*
 * fuzz_dkim_sig.c - libFuzzer harness for the DKIM-Signature parser
 * (dkim_sig.c, dkim_tags.c) and, behind it, the whole header half of
 * verification (dkim_headers.c, dkim_verify.c).
 *
 * Input: the field value, then optionally a NUL and more header fields to
 * put in the message. The tag list must hold slices of the input with
 * valid names and no duplicates; an accepted signature must satisfy every
 * rule dkim_sig_parse promises (d= lowercase, i= within d=, h= names
 * From, x= after t=, bh= of the digest's size). It is then verified
 * against a fixed Ed25519 key inside a message made of the extra fields,
 * a From and itself: no result may be PASS (nobody has the private key),
 * and hashing the headers twice must give the same digest.
 */
#include "core/common.h"

#include <openssl/evp.h>

#include "dkim/dkim_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* RFC 8463 A.2. */
#define FUZZ_KEY \
	"v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="

static void
within(struct str s, const char *lo, size_t len)
{
	if (s.len && (s.p < lo || s.p + s.len > lo + len))
		abort();
}

static void
check_tags(const char *in, size_t len)
{
	struct dkim_tags t;
	const char *why = NULL;
	size_t i, j;

	if (dkim_tags_parse(str_make(in, len), &t, &why) == -1) {
		if (why == NULL)
			abort();
		return;
	}
	if (t.n > DKIM_TAGS_MAX)
		abort();
	for (i = 0; i < t.n; i++) {
		within(t.tag[i].name, in, len);
		within(t.tag[i].raw, in, len);
		if (t.tag[i].name.len == 0 || !ascii_isalpha(t.tag[i].name.p[0]))
			abort();
		/* value is raw without FWS at its ends. */
		if (t.tag[i].value.len > t.tag[i].raw.len ||
		    (t.tag[i].value.len && (t.tag[i].value.p <
		    t.tag[i].raw.p || dkim_is_fws(t.tag[i].value.p[0]))))
			abort();
		if (memchr(t.tag[i].raw.p, ';', t.tag[i].raw.len) != NULL)
			abort();
		for (j = 0; j < i; j++)
			if (str_eq(t.tag[i].name, t.tag[j].name))
				abort();
	}
}

static bool
in_domain(const char *auid, const char *d)
{
	const char *at = strrchr(auid, '@');
	size_t al, dl = strlen(d);

	if (at == NULL)
		return false;
	al = strlen(at + 1);
	return (al == dl || (al > dl && at[1 + al - dl - 1] == '.')) &&
	    strcasecmp(at + 1 + al - dl, d) == 0;
}

static void
check_sig(const struct dkim_sig *sig, const char *in, size_t len)
{
	struct buf bh;
	size_t i;

	for (i = 0; sig->domain[i]; i++)
		if (sig->domain[i] != ascii_lower(sig->domain[i]))
			abort();
	if (i == 0 || sig->selector[0] == '\0' ||
	    !in_domain(sig->auid, sig->domain))
		abort();
	within(sig->h, in, len);
	within(sig->b, in, len);
	within(sig->bh, in, len);
	if (!dkim_list_has(sig->h, "from"))
		abort();
	if (sig->has_t && sig->has_x && sig->x <= sig->t)
		abort();
	buf_init(&bh, 64);
	if (dkim_b64_decode(sig->bh, &bh) != 0 || buf_len(&bh) !=
	    (sig->alg == DKIM_ALG_RSA_SHA1 ? 20u : 32u))
		abort();
	buf_release(&bh);
}

/* The header digest, as dkim_verify computes it. */
static void
header_digest(const char *head, size_t len, struct str field,
    const struct dkim_sig *sig, unsigned char *out, unsigned int *olen)
{
	struct dkim_fields f;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	size_t i;

	*olen = 0;
	if (dkim_fields_init(&f, head, len) == -1)
		abort();	/* we built it well-formed */
	for (i = 0; i < f.n; i++)
		if (f.v[i].field.p == field.p)
			f.v[i].used = true;
	if (md == NULL || EVP_DigestInit_ex(md, dkim_alg_md(sig->alg),
	    NULL) != 1 || dkim_hash_headers(md, &f, sig->h, sig->hcanon,
	    field) != 0 || EVP_DigestFinal_ex(md, out, olen) != 1)
		abort();
	EVP_MD_CTX_free(md);
	dkim_fields_release(&f);
}

static void
check_verify(const struct dkim_sig *sig, const char *in, size_t len,
    const char *extra, size_t extralen)
{
	static struct dkim_key key;
	static bool loaded;
	unsigned char d1[EVP_MAX_MD_SIZE], d2[EVP_MAX_MD_SIZE];
	unsigned int l1, l2;
	struct buf head;
	struct str field;
	const char *why = NULL;
	size_t off;

	if (!loaded && dkim_key_parse(STR_LIT(FUZZ_KEY), &key, &why) != 0)
		abort();
	loaded = true;
	buf_init(&head, BUF_NOCAP);
	if (buf_add(&head, extra, extralen) == -1 ||
	    buf_adds(&head, "From: a@example.com\r\n") == -1)
		abort();
	off = buf_len(&head);
	if (buf_adds(&head, "DKIM-Signature:") == -1 ||
	    buf_add(&head, in, len) == -1 || buf_adds(&head, "\r\n") == -1)
		abort();
	field = str_make(buf_data(&head) + off, buf_len(&head) - off);
	header_digest(buf_data(&head), buf_len(&head), field, sig, d1, &l1);
	header_digest(buf_data(&head), buf_len(&head), field, sig, d2, &l2);
	if (l1 != l2 || memcmp(d1, d2, l1) != 0)
		abort();
	if (dkim_verify(buf_data(&head), buf_len(&head), field, sig, &key,
	    "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=", 1528637909,
	    &why) == DKIM_PASS || why == NULL)
		abort();
	buf_release(&head);
}

/* Line ends in the value only as folds: CRLF then WSP. */
static bool
clean_value(const char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((p[i] == '\r' && (i + 2 >= len || p[i + 1] != '\n' ||
		    (p[i + 2] != ' ' && p[i + 2] != '\t'))) ||
		    (p[i] == '\n' && (i == 0 || p[i - 1] != '\r')))
			return false;
	return true;
}

/* The extra fields must be a clean header section to build on. */
static bool
clean_extra(const char *p, size_t len)
{
	struct dkim_fields f;
	bool ok = dkim_fields_init(&f, p, len) == 0 && (len == 0 ||
	    p[len - 1] == '\n');

	if (ok && f.n > 0)
		ok = (size_t)(f.v[f.n - 1].field.p + f.v[f.n - 1].field.len -
		    p) == len;
	dkim_fields_release(&f);
	return ok;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data, *nul;
	size_t len = size, extralen = 0;
	struct dkim_sig sig;
	const char *why = NULL;

	if ((nul = memchr(in, '\0', size)) != NULL) {
		len = (size_t)(nul - in);
		extralen = size - len - 1;
	}
	check_tags(in, len);
	if (dkim_sig_parse(str_make(in, len), &sig, &why) == -1) {
		if (why == NULL)
			abort();
		return 0;
	}
	check_sig(&sig, in, len);
	/* A value with a bare line end is not a field: skip those. */
	if (clean_value(in, len) && clean_extra(nul ? nul + 1 : "", extralen))
		check_verify(&sig, in, len, nul ? nul + 1 : "", extralen);
	return 0;
}
