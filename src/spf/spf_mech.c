/*
 * spf_mech.c - the mechanisms of RFC 7208 5 and their DNS answers: a
 * (5.3), mx (5.4), ptr and the validated names behind %{p} (5.5), ip4
 * and ip6 (5.6), exists (5.7). "all" matches; include is spf_eval.c's.
 *
 * DNS errors stop the check with temperror (RFC 7208 5), except for PTR
 * lookups, where an error only means no validated name (5.5). NXDOMAIN
 * or an empty answer is a void lookup (4.6.4) and no match.
 */
#include "core/common.h"

#include "core/log.h"
#include "dns/dns_rr.h"
#include "spf/spf_int.h"

static const struct spf_term *
spf_cur_term(struct spf_check *chk)
{
	struct spf_frame *f = spf_top(chk);

	return &f->rec.terms[f->next];
}

static size_t
spf_addr_len(const struct spf_check *chk)
{
	return chk->mctx.family == AF_INET6 ? 16 : 4;
}

/* RFC 7208 5.3: A for an IPv4 client, AAAA for an IPv6 one. */
static int
spf_addr_type(const struct spf_check *chk)
{
	return chk->mctx.family == AF_INET6 ? DNS_TYPE_AAAA : DNS_TYPE_A;
}

/* One of the addresses in ans is in the client's network of bits. */
static bool
spf_rr_match(const struct spf_check *chk, const struct dns_answer *ans,
    unsigned bits)
{
	size_t alen = spf_addr_len(chk);
	int k;

	for (k = 0; ans->status == DNS_OK && k < ans->count; k++)
		if ((size_t)ans->len[k] == alen && spf_cidr_match(chk->mctx.ip,
		    (const unsigned char *)ans->data[k], alen, bits))
			return true;
	return false;
}

static unsigned
spf_term_bits(const struct spf_check *chk, const struct spf_term *t)
{
	return chk->mctx.family == AF_INET6 ? t->cidr6 : t->cidr4;
}

/* RFC 7208 5.6: an address of the other family never matches. */
static enum spf_step
spf_mech_ip(struct spf_check *chk, const struct spf_term *t)
{
	int family = t->mech == SPF_MECH_IP6 ? AF_INET6 : AF_INET;

	if (family != chk->mctx.family)
		return SPF_STEP_NOMATCH;
	return spf_cidr_match(chk->mctx.ip, t->addr, spf_addr_len(chk),
	    spf_term_bits(chk, t)) ? SPF_STEP_MATCH : SPF_STEP_NOMATCH;
}

/* RFC 7208 5.5: a validated name equal to or under the target. */
static enum spf_step
spf_mech_ptr(struct spf_check *chk)
{
	size_t tlen = strlen(chk->target), i, n;

	if (chk->ptr_state != SPF_PTR_KNOWN) {
		if (chk->ptr_state == SPF_PTR_UNKNOWN)
			spf_ptr_start(chk);
		return SPF_STEP_WAIT;
	}
	for (i = 0; i < chk->nvalidated; i++) {
		const char *v = chk->validated[i];

		n = strlen(v);
		if (n >= tlen && strcasecmp(v + n - tlen, chk->target) == 0 &&
		    (n == tlen || v[n - tlen - 1] == '.'))
			return SPF_STEP_MATCH;
	}
	return SPF_STEP_NOMATCH;
}

/* a, mx, ptr, exists: a counted term with a target name. */
static enum spf_step
spf_mech_dns(struct spf_check *chk, const struct spf_term *t)
{
	enum spf_step st;

	if (!spf_count_lookup(chk))
		return SPF_STEP_PERMERROR;
	st = spf_target(chk, t->domain, spf_top(chk)->domain, false);
	if (st != SPF_STEP_MATCH)
		return st;	/* a malformed target matches nothing */
	switch (t->mech) {
	case SPF_MECH_A:
		chk->op = SPF_OP_ADDR;
		spf_query(chk, 0, chk->target, spf_addr_type(chk));
		break;
	case SPF_MECH_EXISTS:
		/* RFC 7208 5.7: A, even when the client is IPv6. */
		chk->op = SPF_OP_EXISTS;
		spf_query(chk, 0, chk->target, DNS_TYPE_A);
		break;
	case SPF_MECH_MX:
		chk->op = SPF_OP_MX;
		spf_query(chk, 0, chk->target, DNS_TYPE_MX);
		break;
	default:
		return spf_mech_ptr(chk);
	}
	return SPF_STEP_WAIT;
}

enum spf_step
spf_mech_eval(struct spf_check *chk, const struct spf_term *t)
{
	switch (t->mech) {
	case SPF_MECH_ALL:
		return SPF_STEP_MATCH;
	case SPF_MECH_IP4:
	case SPF_MECH_IP6:
		return spf_mech_ip(chk, t);
	case SPF_MECH_A:
	case SPF_MECH_MX:
	case SPF_MECH_PTR:
	case SPF_MECH_EXISTS:
		return spf_mech_dns(chk, t);
	case SPF_MECH_INCLUDE:
		break;
	}
	return SPF_STEP_PERMERROR;
}

/* The answer to a term's own query (a, exists, mx): error or void. */
static bool
spf_answer_failed(struct spf_check *chk, const struct dns_answer *ans,
    enum spf_step *st)
{
	if (ans->status == DNS_TEMPFAIL) {
		chk->why = "DNS error during a mechanism";
		*st = SPF_STEP_TEMPERROR;
		return true;
	}
	if (!spf_count_void(chk, ans)) {
		*st = SPF_STEP_PERMERROR;
		return true;
	}
	return false;
}

static void
spf_hosts_query(struct spf_check *chk, enum spf_op op)
{
	size_t i;

	chk->op = op;
	for (i = 0; i < chk->nhosts; i++)
		spf_query(chk, i, chk->hosts[i].name, spf_addr_type(chk));
}

/*
 * RFC 7208 5.4: the MX names, at most 10 of them (4.6.4: more is a
 * permerror), then each one's addresses.
 */
static enum spf_step
spf_mx_names(struct spf_check *chk, const struct dns_answer *ans)
{
	struct spf_host *h;
	uint16_t pref;
	int k;

	if (ans->count > SPF_MX_MAX) {
		chk->why = "more than 10 MX records (RFC 7208 4.6.4)";
		return SPF_STEP_PERMERROR;
	}
	chk->nhosts = 0;
	for (k = 0; ans->status == DNS_OK && k < ans->count; k++) {
		h = &chk->hosts[chk->nhosts];
		memset(h, 0, sizeof(*h));
		/* A null MX (RFC 7505) or an odd name has no address. */
		if (dns_rr_mx((const unsigned char *)ans->data[k],
		    (size_t)ans->len[k], &pref, h->name,
		    sizeof(h->name)) == 0 &&
		    spf_name_valid(h->name, strlen(h->name), false))
			chk->nhosts++;
	}
	if (chk->nhosts == 0)
		return SPF_STEP_NOMATCH;
	spf_hosts_query(chk, SPF_OP_MX_ADDR);
	return SPF_STEP_WAIT;
}

/* Every MX host answered: an error anywhere stops the term (5). */
static enum spf_step
spf_mx_hosts_done(struct spf_check *chk)
{
	bool match = false;
	size_t i;

	for (i = 0; i < chk->nhosts; i++) {
		if (chk->hosts[i].status == DNS_TEMPFAIL) {
			chk->why = "DNS error looking up an MX host";
			return SPF_STEP_TEMPERROR;
		}
		match = match || chk->hosts[i].match;
	}
	return match ? SPF_STEP_MATCH : SPF_STEP_NOMATCH;
}

void
spf_ptr_start(struct spf_check *chk)
{
	char name[80];

	chk->ptr_state = SPF_PTR_RUNNING;
	chk->op = SPF_OP_PTR;
	if (spf_reverse_name(chk->mctx.family, chk->mctx.ip, name,
	    sizeof(name)) == -1)
		fatal("spf: reverse name does not fit");
	spf_query(chk, 0, name, DNS_TYPE_PTR);
}

static void
spf_ptr_known(struct spf_check *chk)
{
	size_t i;

	chk->nvalidated = 0;
	for (i = 0; i < chk->nhosts; i++)
		if (chk->hosts[i].match)
			cstr_copy(chk->validated[chk->nvalidated++],
			    sizeof(chk->validated[0]), chk->hosts[i].name);
	chk->ptr_state = SPF_PTR_KNOWN;
	spf_resume(chk);
}

/*
 * RFC 7208 5.5: the first 10 PTR names, each then confirmed by an
 * address lookup giving back the client's address. A DNS error here
 * only means no name is validated.
 */
static void
spf_ptr_names(struct spf_check *chk, const struct dns_answer *ans)
{
	int k;

	chk->nhosts = 0;
	if (chk->phase == SPF_PHASE_TERMS && !spf_count_void(chk, ans)) {
		chk->ptr_state = SPF_PTR_KNOWN;
		spf_term_finish(chk, SPF_STEP_PERMERROR);
		return;
	}
	for (k = 0; ans->status == DNS_OK && k < MIN(ans->count,
	    SPF_PTR_MAX); k++) {
		struct spf_host *h = &chk->hosts[chk->nhosts];

		memset(h, 0, sizeof(*h));
		if (dns_name_text((const unsigned char *)ans->data[k],
		    (size_t)ans->len[k], h->name, sizeof(h->name)) > 0 &&
		    spf_name_valid(h->name, strlen(h->name), false))
			chk->nhosts++;
	}
	if (chk->nhosts == 0) {
		spf_ptr_known(chk);
		return;
	}
	spf_hosts_query(chk, SPF_OP_PTR_ADDR);
}

const char *
spf_ptr_value(struct spf_check *chk, const char *domain)
{
	size_t dlen = strlen(domain), i, n;
	const char *best = NULL;

	/* RFC 7208 7.3: <domain> itself, else a subdomain, else any. */
	for (i = 0; i < chk->nvalidated; i++) {
		const char *v = chk->validated[i];

		n = strlen(v);
		if (strcasecmp(v, domain) == 0)
			return v;
		if (best == NULL && n > dlen && v[n - dlen - 1] == '.' &&
		    strcasecmp(v + n - dlen, domain) == 0)
			best = v;
	}
	if (best == NULL && chk->nvalidated > 0)
		best = chk->validated[0];
	return best;
}

void
spf_mech_answer(struct spf_check *chk, struct spf_slot *s,
    const struct dns_answer *ans)
{
	struct spf_host *h = &chk->hosts[s->idx];
	enum spf_step st;

	switch (chk->op) {
	case SPF_OP_ADDR:
	case SPF_OP_EXISTS:
	case SPF_OP_MX:
		if (spf_answer_failed(chk, ans, &st))
			break;
		if (chk->op == SPF_OP_MX)
			st = spf_mx_names(chk, ans);
		else if (chk->op == SPF_OP_ADDR)
			st = spf_rr_match(chk, ans, spf_term_bits(chk,
			    spf_cur_term(chk))) ? SPF_STEP_MATCH :
			    SPF_STEP_NOMATCH;
		else
			st = ans->status == DNS_OK && ans->count > 0 ?
			    SPF_STEP_MATCH : SPF_STEP_NOMATCH;
		break;
	case SPF_OP_MX_ADDR:
		h->status = ans->status;
		h->match = spf_rr_match(chk, ans, spf_term_bits(chk,
		    spf_cur_term(chk)));
		if (chk->pending > 0)
			return;
		st = spf_mx_hosts_done(chk);
		break;
	case SPF_OP_PTR:
		spf_ptr_names(chk, ans);
		return;
	case SPF_OP_PTR_ADDR:
		h->match = spf_rr_match(chk, ans, (unsigned)(8 *
		    spf_addr_len(chk)));
		if (chk->pending == 0)
			spf_ptr_known(chk);
		return;
	default:
		return;
	}
	if (st != SPF_STEP_WAIT)
		spf_term_finish(chk, st);
}
