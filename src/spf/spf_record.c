/*
 * spf_record.c - see spf_record.h.
 */
#include "core/common.h"

#include <arpa/inet.h>

#include "spf/spf_macro.h"
#include "spf/spf_record.h"

static const struct {
	const char	*name;
	enum spf_mech	 mech;
} spf_mechs[] = {
	{ "all", SPF_MECH_ALL },
	{ "include", SPF_MECH_INCLUDE },
	{ "a", SPF_MECH_A },
	{ "mx", SPF_MECH_MX },
	{ "ptr", SPF_MECH_PTR },
	{ "ip4", SPF_MECH_IP4 },
	{ "ip6", SPF_MECH_IP6 },
	{ "exists", SPF_MECH_EXISTS },
};

const char *
spf_mech_name(enum spf_mech mech)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(spf_mechs); i++)
		if (spf_mechs[i].mech == mech)
			return spf_mechs[i].name;
	return "?";
}

bool
spf_record_is_spf1(const char *p, size_t len)
{
	/* RFC 7208 4.5: "v=spf10" is not ours; ABNF strings ignore case. */
	return len >= 6 && str_caseeq(str_make(p, 6), STR_LIT("v=spf1")) &&
	    (len == 6 || p[6] == ' ');
}

/* "0", or 1..3 digits without a leading zero, at most max. */
static bool
spf_parse_num(struct str s, unsigned max, unsigned *out)
{
	uint64_t v;

	if (s.len == 0 || s.len > 3 || (s.len > 1 && s.p[0] == '0'))
		return false;
	if (str_to_u64(s, max, &v) == -1)
		return false;
	*out = (unsigned)v;
	return true;
}

bool
spf_parse_ip4(struct str s, unsigned char out[4])
{
	size_t i, start = 0, n = 0;
	unsigned v;

	/* RFC 7208 4.6.1 qnum: 0-255, no leading zero, exactly four. */
	for (i = 0; i <= s.len; i++) {
		if (i < s.len && s.p[i] != '.')
			continue;
		if (n == 4 || !spf_parse_num(str_sub(s, start, i - start),
		    255, &v))
			return false;
		out[n++] = (unsigned char)v;
		start = i + 1;
	}
	return n == 4;
}

static bool
spf_parse_ip6(struct str s, unsigned char out[16])
{
	char tmp[64];

	if (s.len == 0 || str_copy(tmp, sizeof(tmp), s) == -1)
		return false;
	return inet_pton(AF_INET6, tmp, out) == 1;
}

bool
spf_cidr_match(const unsigned char *a, const unsigned char *b, size_t alen,
    unsigned bits)
{
	size_t whole = bits / 8;
	unsigned rest = bits % 8;
	unsigned char mask;

	if (bits > alen * 8)
		return false;
	if (memcmp(a, b, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	mask = (unsigned char)(0xff << (8 - rest));
	return ((a[whole] ^ b[whole]) & mask) == 0;
}

/* A domain-spec: a valid macro-string with a valid end (RFC 7208 4.8). */
static int
spf_domain_spec(struct str s, const char **error_r)
{
	if (s.len == 0) {
		*error_r = "empty domain-spec";
		return -1;
	}
	if (spf_macro_check(s, 0, error_r) == -1)
		return -1;
	if (!spf_domain_end_valid(s)) {
		*error_r = "domain-spec does not end with a toplabel";
		return -1;
	}
	return 0;
}

/*
 * Takes "/N" (slashes == 1) or "//N" (2) off the end of *s when it ends
 * that way: 1, 0 when it does not, -1 when N is not a valid length.
 */
static int
spf_take_cidr(struct str *s, size_t slashes, unsigned max, unsigned *out)
{
	size_t i = s->len, k;

	while (i > 0 && ascii_isdigit(s->p[i - 1]))
		i--;
	if (i == s->len || i < slashes)
		return 0;
	for (k = 1; k <= slashes; k++)
		if (s->p[i - k] != '/')
			return 0;
	if (!spf_parse_num(str_sub(*s, i, s->len - i), max, out))
		return -1;
	s->len = i - slashes;
	return 1;
}

/*
 * RFC 7208 5.3, 5.4: [ ":" domain-spec ] [ "/" cidr4 ] [ "//" cidr6 ],
 * read from the right, since a domain-spec may itself hold '/'.
 */
static int
spf_dual_cidr(struct str *rest, struct spf_term *t, const char **error_r)
{
	if (spf_take_cidr(rest, 2, 128, &t->cidr6) == -1 ||
	    spf_take_cidr(rest, 1, 32, &t->cidr4) == -1) {
		*error_r = "invalid CIDR length";
		return -1;
	}
	return 0;
}

/* ":" domain-spec, required or optional. */
static int
spf_mech_domain(struct str rest, bool required, struct spf_term *t,
    const char **error_r)
{
	if (rest.len == 0 && !required)
		return 0;
	if (rest.len == 0 || rest.p[0] != ':') {
		*error_r = required ? "mechanism needs a domain-spec" :
		    "invalid mechanism argument";
		return -1;
	}
	t->domain = str_sub(rest, 1, rest.len - 1);
	return spf_domain_spec(t->domain, error_r);
}

/* RFC 7208 5.6: "ip4:" network [ "/" cidr ] and the same for ip6. */
static int
spf_mech_ip(struct str rest, struct spf_term *t, const char **error_r)
{
	bool v6 = t->mech == SPF_MECH_IP6;
	long slash;
	int r = 0;

	if (rest.len == 0 || rest.p[0] != ':') {
		*error_r = "ip4/ip6 needs an address";
		return -1;
	}
	rest = str_sub(rest, 1, rest.len - 1);
	slash = str_chr(rest, '/');
	if (slash >= 0) {
		struct str len = str_sub(rest, (size_t)slash + 1, SIZE_MAX);

		r = spf_parse_num(len, v6 ? 128 : 32, v6 ? &t->cidr6 :
		    &t->cidr4) ? 0 : -1;
		rest.len = (size_t)slash;
	}
	if (r == -1) {
		*error_r = "invalid CIDR length";
		return -1;
	}
	if (v6 ? !spf_parse_ip6(rest, t->addr) :
	    !spf_parse_ip4(rest, t->addr)) {
		*error_r = v6 ? "invalid ip6 address" : "invalid ip4 address";
		return -1;
	}
	return 0;
}

/* The mechanism's arguments, after its name (RFC 7208 5). */
static int
spf_mech_args(struct str rest, struct spf_term *t, const char **error_r)
{
	switch (t->mech) {
	case SPF_MECH_ALL:
		if (rest.len == 0)
			return 0;
		*error_r = "\"all\" takes no argument";
		return -1;
	case SPF_MECH_INCLUDE:
	case SPF_MECH_EXISTS:
		return spf_mech_domain(rest, true, t, error_r);
	case SPF_MECH_PTR:
		return spf_mech_domain(rest, false, t, error_r);
	case SPF_MECH_A:
	case SPF_MECH_MX:
		if (spf_dual_cidr(&rest, t, error_r) == -1)
			return -1;
		return spf_mech_domain(rest, false, t, error_r);
	case SPF_MECH_IP4:
	case SPF_MECH_IP6:
		return spf_mech_ip(rest, t, error_r);
	}
	return -1;
}

static int
spf_qualifier(char c, enum spf_result *qual)
{
	/* RFC 7208 4.6.2. */
	switch (c) {
	case '+':
		*qual = SPF_PASS;
		return 1;
	case '-':
		*qual = SPF_FAIL;
		return 1;
	case '~':
		*qual = SPF_SOFTFAIL;
		return 1;
	case '?':
		*qual = SPF_NEUTRAL;
		return 1;
	}
	*qual = SPF_PASS;
	return 0;
}

static struct spf_term *
spf_record_add(struct spf_record *rec)
{
	if (rec->nterms == rec->alloc) {
		rec->alloc = rec->alloc ? rec->alloc * 2 : 8;
		rec->terms = xreallocarray(rec->terms, rec->alloc,
		    sizeof(*rec->terms));
	}
	return &rec->terms[rec->nterms++];
}

static int
spf_parse_mech(struct spf_record *rec, struct str t, const char **error_r)
{
	struct spf_term m;
	size_t n, i, skip;

	memset(&m, 0, sizeof(m));
	m.cidr4 = 32;
	m.cidr6 = 128;
	skip = (size_t)spf_qualifier(t.p[0], &m.qual);
	t = str_sub(t, skip, SIZE_MAX);
	for (n = 0; n < t.len && ascii_isalnum(t.p[n]); n++)
		;
	for (i = 0; i < ARRAY_LEN(spf_mechs); i++)
		if (str_caseeq_cstr(str_sub(t, 0, n), spf_mechs[i].name))
			break;
	if (i == ARRAY_LEN(spf_mechs)) {
		*error_r = "unknown mechanism";
		return -1;
	}
	m.mech = spf_mechs[i].mech;
	if (spf_mech_args(str_sub(t, n, SIZE_MAX), &m, error_r) == -1)
		return -1;
	if (rec->nterms == SPF_TERMS_MAX) {
		*error_r = "more than 256 directives";
		return -1;
	}
	*spf_record_add(rec) = m;
	return 0;
}

/* RFC 7208 6: redirect= and exp= at most once each; others ignored. */
static int
spf_parse_modifier(struct spf_record *rec, struct str name, struct str value,
    const char **error_r)
{
	struct str *slot = NULL;

	if (str_caseeq_cstr(name, "redirect"))
		slot = &rec->redirect;
	else if (str_caseeq_cstr(name, "exp"))
		slot = &rec->exp;
	if (slot == NULL)
		return spf_macro_check(value, SPF_MACRO_EXP, error_r);
	if (slot->p != NULL) {
		*error_r = "redirect= or exp= given twice";
		return -1;
	}
	if (spf_domain_spec(value, error_r) == -1)
		return -1;
	*slot = value;
	return 0;
}

/* RFC 7208 12: name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ). */
static size_t
spf_modifier_name_len(struct str t)
{
	size_t n;

	if (t.len == 0 || !ascii_isalpha(t.p[0]))
		return 0;
	for (n = 1; n < t.len; n++)
		if (!ascii_isalnum(t.p[n]) && t.p[n] != '-' &&
		    t.p[n] != '_' && t.p[n] != '.')
			break;
	return n;
}

static int
spf_parse_term(struct spf_record *rec, struct str t, const char **error_r)
{
	size_t n = spf_modifier_name_len(t);

	if (n > 0 && n < t.len && t.p[n] == '=')
		return spf_parse_modifier(rec, str_sub(t, 0, n),
		    str_sub(t, n + 1, SIZE_MAX), error_r);
	return spf_parse_mech(rec, t, error_r);
}

int
spf_record_parse(struct spf_record *rec, const char *p, size_t len,
    const char **error_r)
{
	struct str cur;

	memset(rec, 0, sizeof(*rec));
	if (!spf_record_is_spf1(p, len)) {
		*error_r = "not a v=spf1 record";
		return -1;
	}
	/* RFC 7208 4.6.1: terms = *( 1*SP ( directive / modifier ) ). */
	cur = str_make(p + 6, len - 6);
	while (cur.len > 0) {
		long sp = str_chr(cur, ' ');
		size_t tlen = sp < 0 ? cur.len : (size_t)sp;

		if (tlen > 0 && spf_parse_term(rec, str_sub(cur, 0, tlen),
		    error_r) == -1)
			return -1;
		cur = str_sub(cur, tlen + (sp < 0 ? 0 : 1), SIZE_MAX);
	}
	return 0;
}

void
spf_record_release(struct spf_record *rec)
{
	XFREE(&rec->terms);
	memset(rec, 0, sizeof(*rec));
}

int
spf_txt_join(const unsigned char *p, size_t len, struct buf *out)
{
	size_t i = 0;

	buf_reset(out);
	while (i < len) {
		size_t l = p[i++], room;

		if (i + l > len)
			return -1;
		room = SPF_RECORD_MAX - buf_len(out);
		if (buf_add(out, p + i, MIN(l, room)) == -1)
			return -1;
		if (l > room)
			return 1;
		i += l;
	}
	return 0;
}
