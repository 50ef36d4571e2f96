/*
 * dkim_sig.c - the DKIM-Signature field (RFC 6376 3.5): its tags checked
 * one by one, then against each other. Pure; fuzzed by fuzz_dkim_sig.
 */
#include "core/common.h"

#include "core/dname.h"
#include "dkim/dkim_int.h"

/* RFC 6376 3.5: t= and x= are at most 12 digits. */
#define DKIM_TIME_MAX	999999999999ull

struct dkim_sig_tag {
	const char	*name;
	const char	*missing;	/* the error if absent, or NULL */
	int		(*parse)(struct dkim_sig *, struct str, const char **);
};

static int
dkim_sig_fail(const char **error_r, const char *why)
{
	*error_r = why;
	return -1;
}

static int
dkim_sig_v(struct dkim_sig *sig, struct str v, const char **error_r)
{
	(void)sig;
	/* RFC 6376 3.5: "This tag MUST have the value "1"". */
	return str_eq(v, STR_LIT("1")) ? 0 :
	    dkim_sig_fail(error_r, "v= is not 1");
}

static int
dkim_sig_a(struct dkim_sig *sig, struct str v, const char **error_r)
{
	if (str_caseeq_cstr(v, "rsa-sha256"))
		sig->alg = DKIM_ALG_RSA_SHA256;
	else if (str_caseeq_cstr(v, "ed25519-sha256"))
		sig->alg = DKIM_ALG_ED25519_SHA256;
	else if (str_caseeq_cstr(v, "rsa-sha1"))
		sig->alg = DKIM_ALG_RSA_SHA1;	/* refused later: RFC 8301 */
	else
		return dkim_sig_fail(error_r, "unknown a= algorithm");
	return 0;
}

static int
dkim_canon_word(struct str w, enum dkim_canon *c)
{
	if (str_caseeq_cstr(w, "simple"))
		*c = DKIM_CANON_SIMPLE;
	else if (str_caseeq_cstr(w, "relaxed"))
		*c = DKIM_CANON_RELAXED;
	else
		return -1;
	return 0;
}

static int
dkim_sig_c(struct dkim_sig *sig, struct str v, const char **error_r)
{
	long slash = str_chr(v, '/');

	/* RFC 6376 3.5: "c=relaxed" is relaxed headers, simple body. */
	if (slash < 0) {
		sig->bcanon = DKIM_CANON_SIMPLE;
		if (dkim_canon_word(v, &sig->hcanon) == 0)
			return 0;
	} else if (dkim_canon_word(str_make(v.p, (size_t)slash),
	    &sig->hcanon) == 0 && dkim_canon_word(str_sub(v,
	    (size_t)slash + 1, v.len), &sig->bcanon) == 0) {
		return 0;
	}
	return dkim_sig_fail(error_r, "unknown c= canonicalization");
}

static int
dkim_sig_d(struct dkim_sig *sig, struct str v, const char **error_r)
{
	if (!dname_valid(v.p, v.len, 0) ||
	    str_copy(sig->domain, sizeof(sig->domain), v) == -1)
		return dkim_sig_fail(error_r, "bad d= domain");
	ascii_lower_inplace(sig->domain, v.len);
	return 0;
}

static int
dkim_sig_s(struct dkim_sig *sig, struct str v, const char **error_r)
{
	/* RFC 6376 3.1: selector = sub-domain *( "." sub-domain ). */
	if (!dname_valid(v.p, v.len, DNAME_ALLOW_SINGLE | DNAME_SELECTOR) ||
	    str_copy(sig->selector, sizeof(sig->selector), v) == -1)
		return dkim_sig_fail(error_r, "bad s= selector");
	return 0;
}

/* A header field name: RFC 5322 3.6.8 ftext. */
static bool
dkim_field_name(struct str n)
{
	size_t i;

	for (i = 0; i < n.len; i++)
		if ((unsigned char)n.p[i] < 33 || (unsigned char)n.p[i] > 126 ||
		    n.p[i] == ':')
			return false;
	return n.len > 0;
}

static int
dkim_sig_h(struct dkim_sig *sig, struct str v, const char **error_r)
{
	struct dkim_list l;
	struct str name;
	size_t n = 0;
	bool from = false;

	dkim_list_init(&l, v);
	while (dkim_list_next(&l, &name)) {
		if (!dkim_field_name(name))
			return dkim_sig_fail(error_r, "bad h= field name");
		if (++n > DKIM_HNAMES_MAX)
			return dkim_sig_fail(error_r, "too many h= names");
		from |= str_caseeq_cstr(name, "from");
	}
	/* RFC 6376 5.4: "The From header field MUST be signed". */
	if (!from)
		return dkim_sig_fail(error_r, "h= does not include From");
	sig->h = v;
	return 0;
}

static int
dkim_sig_i(struct dkim_sig *sig, struct str v, const char **error_r)
{
	if (str_rchr(v, '@') < 0 ||
	    str_copy(sig->auid, sizeof(sig->auid), v) == -1)
		return dkim_sig_fail(error_r, "bad i= identity");
	return 0;
}

static int
dkim_sig_l(struct dkim_sig *sig, struct str v, const char **error_r)
{
	if (str_to_u64(v, UINT64_MAX, &sig->l) == -1)
		return dkim_sig_fail(error_r, "bad l= length");
	sig->has_l = true;
	return 0;
}

static int
dkim_sig_q(struct dkim_sig *sig, struct str v, const char **error_r)
{
	(void)sig;
	/* RFC 6376 3.5: dns/txt is the only method defined. */
	return dkim_list_has(v, "dns/txt") ? 0 :
	    dkim_sig_fail(error_r, "q= without dns/txt");
}

static int
dkim_sig_t(struct dkim_sig *sig, struct str v, const char **error_r)
{
	if (str_to_u64(v, DKIM_TIME_MAX, &sig->t) == -1)
		return dkim_sig_fail(error_r, "bad t= timestamp");
	sig->has_t = true;
	return 0;
}

static int
dkim_sig_x(struct dkim_sig *sig, struct str v, const char **error_r)
{
	if (str_to_u64(v, DKIM_TIME_MAX, &sig->x) == -1)
		return dkim_sig_fail(error_r, "bad x= expiry");
	sig->has_x = true;
	return 0;
}

/* Decodes to 1..max octets; *n gets the count. */
static int
dkim_b64_len(struct str v, size_t max, size_t *n)
{
	struct buf raw;
	int r;

	buf_init(&raw, max);
	r = dkim_b64_decode(v, &raw);
	*n = buf_len(&raw);
	buf_release(&raw);
	return r;
}

static int
dkim_sig_bh(struct dkim_sig *sig, struct str v, const char **error_r)
{
	size_t n, want = sig->alg == DKIM_ALG_RSA_SHA1 ? 20 : 32;

	if (dkim_b64_len(v, DKIM_DIGEST_MAX, &n) == -1 || n != want)
		return dkim_sig_fail(error_r, "bad bh= body hash");
	sig->bh = v;
	return 0;
}

static int
dkim_sig_b(struct dkim_sig *sig, struct str v, const char **error_r)
{
	size_t n;

	if (dkim_b64_len(v, DKIM_SIGBYTES_MAX, &n) == -1)
		return dkim_sig_fail(error_r, "bad b= signature");
	sig->b = v;
	return 0;
}

/* In dependency order: a= before bh=, d= before i=. */
static const struct dkim_sig_tag dkim_sig_tags[] = {
	{ "v", "missing v= tag", dkim_sig_v },
	{ "a", "missing a= tag", dkim_sig_a },
	{ "c", NULL, dkim_sig_c },
	{ "d", "missing d= tag", dkim_sig_d },
	{ "s", "missing s= tag", dkim_sig_s },
	{ "h", "missing h= tag", dkim_sig_h },
	{ "i", NULL, dkim_sig_i },
	{ "l", NULL, dkim_sig_l },
	{ "q", NULL, dkim_sig_q },
	{ "t", NULL, dkim_sig_t },
	{ "x", NULL, dkim_sig_x },
	{ "bh", "missing bh= tag", dkim_sig_bh },
	{ "b", "missing b= tag", dkim_sig_b },
};

/* RFC 6376 3.5 i=: its domain is d= or a subdomain of it. */
static bool
dkim_auid_in_domain(const char *auid, const char *domain)
{
	struct str a = str_cstr(auid), d = str_cstr(domain), ad;

	ad = str_sub(a, (size_t)str_rchr(a, '@') + 1, a.len);
	if (str_caseeq(ad, d))
		return true;
	return ad.len > d.len && ad.p[ad.len - d.len - 1] == '.' &&
	    str_caseeq(str_sub(ad, ad.len - d.len, d.len), d);
}

/* What no single tag can say. */
static int
dkim_sig_check(struct dkim_sig *sig, const char **error_r)
{
	int n;

	if (sig->auid[0] == '\0') {
		/* RFC 6376 3.5 i=: the default is "@" d=. */
		n = snprintf(sig->auid, sizeof(sig->auid), "@%s", sig->domain);
		if (n < 0 || (size_t)n >= sizeof(sig->auid))
			return dkim_sig_fail(error_r, "d= too long");
	} else if (!dkim_auid_in_domain(sig->auid, sig->domain)) {
		return dkim_sig_fail(error_r, "i= is not within d=");
	}
	/* RFC 6376 3.5 x=: "MUST be greater than the value of the t= tag". */
	if (sig->has_t && sig->has_x && sig->x <= sig->t)
		return dkim_sig_fail(error_r, "x= is not after t=");
	return 0;
}

int
dkim_sig_parse(struct str value, struct dkim_sig *sig, const char **error_r)
{
	struct dkim_tags tags;
	const struct dkim_tag *t;
	size_t i;

	memset(sig, 0, sizeof(*sig));
	sig->hcanon = sig->bcanon = DKIM_CANON_SIMPLE;	/* RFC 6376 3.5 c= */
	if (dkim_tags_parse(dkim_strip_eol(value), &tags, error_r) == -1)
		return -1;
	/* Unknown tags are ignored (RFC 6376 3.2). */
	for (i = 0; i < ARRAY_LEN(dkim_sig_tags); i++) {
		t = dkim_tags_find(&tags, dkim_sig_tags[i].name);
		if (t == NULL && dkim_sig_tags[i].missing != NULL)
			return dkim_sig_fail(error_r, dkim_sig_tags[i].missing);
		if (t != NULL && dkim_sig_tags[i].parse(sig, t->value,
		    error_r) == -1)
			return -1;
	}
	return dkim_sig_check(sig, error_r);
}
