/*
 * spf_eval.c - check_host() (RFC 7208 4) on the event loop: the check's
 * life, record lookup and selection, the walk over terms, include and
 * redirect, the explanation of a fail, and the end. The mechanisms
 * themselves are in spf_mech.c; see spf_int.h for the machine.
 */
#include "core/common.h"

#include <netinet/in.h>
#include <time.h>

#include "dns/dns_rr.h"
#include "spf/spf_int.h"

static void spf_exp_start(struct spf_check *chk);

static const char *const spf_match_why[] = {
	[SPF_MECH_ALL] = "matched all",
	[SPF_MECH_INCLUDE] = "matched include",
	[SPF_MECH_A] = "matched a",
	[SPF_MECH_MX] = "matched mx",
	[SPF_MECH_PTR] = "matched ptr",
	[SPF_MECH_IP4] = "matched ip4",
	[SPF_MECH_IP6] = "matched ip6",
	[SPF_MECH_EXISTS] = "matched exists",
};

const char *
spf_result_name(enum spf_result result)
{
	static const char *const names[] = { "none", "neutral", "pass",
	    "fail", "softfail", "temperror", "permerror" };

	return (size_t)result < ARRAY_LEN(names) ? names[result] : "?";
}

struct spf_frame *
spf_top(struct spf_check *chk)
{
	return &chk->frames[chk->depth - 1];
}

static void
spf_frame_release(struct spf_frame *f)
{
	spf_record_release(&f->rec);
	XFREE(&f->text);
	f->textlen = 0;
	f->next = 0;
}

static void
spf_cancel_queries(struct spf_check *chk)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(chk->slots); i++)
		if (chk->slots[i].q != NULL) {
			dns_cancel(chk->slots[i].q);
			chk->slots[i].q = NULL;
		}
	chk->pending = 0;
}

static void
spf_check_free(struct spf_check *chk)
{
	spf_cancel_queries(chk);
	while (chk->depth > 0)
		spf_frame_release(&chk->frames[--chk->depth]);
	buf_release(&chk->work);
	free(chk->explanation);
	free(chk);
}

/*
 * The result is known. spf_on_answer() reports it when the callback
 * that got here unwinds: the stack above may still look at chk.
 */
static void
spf_finish(struct spf_check *chk, enum spf_result result)
{
	spf_cancel_queries(chk);
	while (chk->depth > 0)
		spf_frame_release(&chk->frames[--chk->depth]);
	chk->phase = SPF_PHASE_DONE;
	chk->result = result;
}

void
spf_query(struct spf_check *chk, size_t slot, const char *name, int rrtype)
{
	struct spf_slot *s = &chk->slots[slot];

	s->chk = chk;
	s->idx = slot;
	chk->pending++;
	s->q = dns_query(chk->dns, name, rrtype, spf_on_answer, s);
}

bool
spf_count_lookup(struct spf_check *chk)
{
	if (chk->term_counted)
		return true;
	chk->term_counted = true;
	/* RFC 7208 4.6.4: the 11th DNS-querying term is a permerror. */
	if (++chk->lookups <= SPF_LOOKUPS_MAX)
		return true;
	chk->why = "more than 10 DNS-querying terms (RFC 7208 4.6.4)";
	return false;
}

bool
spf_count_void(struct spf_check *chk, const struct dns_answer *ans)
{
	if (ans->status != DNS_NXDOMAIN && ans->status != DNS_NODATA)
		return true;
	/* RFC 7208 4.6.4: the third lookup answering nothing: permerror. */
	if (++chk->voids <= SPF_VOID_MAX)
		return true;
	chk->why = "more than 2 void DNS lookups (RFC 7208 4.6.4)";
	return false;
}

enum spf_step
spf_target(struct spf_check *chk, struct str spec, const char *domain,
    bool multi)
{
	const char *err;

	if (spec.len == 0) {
		cstr_copy(chk->target, sizeof(chk->target), domain);
		return SPF_STEP_MATCH;
	}
	if (spf_macro_uses(spec, 'p') && chk->ptr_state != SPF_PTR_KNOWN) {
		if (chk->ptr_state == SPF_PTR_RUNNING)
			return SPF_STEP_WAIT;
		/* RFC 7208 4.6.4: %{p}'s PTR lookup counts as well. */
		if (chk->phase == SPF_PHASE_TERMS &&
		    ++chk->lookups > SPF_LOOKUPS_MAX) {
			chk->why = "more than 10 DNS lookups, with %{p}";
			return SPF_STEP_PERMERROR;
		}
		spf_ptr_start(chk);
		return SPF_STEP_WAIT;
	}
	chk->mctx.domain = domain;
	chk->mctx.ptr = chk->ptr_state == SPF_PTR_KNOWN ?
	    spf_ptr_value(chk, domain) : NULL;
	if (spf_macro_expand(spec, &chk->mctx, 0, &chk->work, &err) == -1 ||
	    !spf_name_valid(buf_data(&chk->work), buf_len(&chk->work), multi))
		return SPF_STEP_NOMATCH;
	cstr_copy(chk->target, sizeof(chk->target), buf_cstr(&chk->work));
	return SPF_STEP_MATCH;
}

static void
spf_record_lookup(struct spf_check *chk)
{
	chk->op = SPF_OP_RECORD;
	spf_query(chk, 0, spf_top(chk)->domain, DNS_TYPE_TXT);
}

static bool
spf_frame_push(struct spf_check *chk, const char *domain)
{
	struct spf_frame *f;

	if (chk->depth == SPF_DEPTH_MAX) {
		chk->why = "includes nested too deep";
		return false;
	}
	f = &chk->frames[chk->depth++];
	memset(f, 0, sizeof(*f));
	cstr_copy(f->domain, sizeof(f->domain), domain);
	chk->term_counted = false;
	spf_record_lookup(chk);
	return true;
}

/* A fail at the top: fetch the explanation first if there is one. */
static void
spf_top_done(struct spf_check *chk, enum spf_result result)
{
	if (result == SPF_FAIL && chk->frames[0].rec.exp.p != NULL) {
		spf_exp_start(chk);
		return;
	}
	spf_finish(chk, result);
}

/*
 * The top frame's check_host() returned result. Pops it and applies
 * the result to the include that made it (RFC 7208 5.2); errors go all
 * the way up. True when the walk over terms goes on.
 */
static bool
spf_frame_done(struct spf_check *chk, enum spf_result result)
{
	struct spf_frame *parent;

	for (;;) {
		if (chk->depth == 1) {
			spf_top_done(chk, result);
			return false;
		}
		spf_frame_release(&chk->frames[--chk->depth]);
		parent = spf_top(chk);
		chk->term_counted = false;
		switch (result) {
		case SPF_PASS:
			/* The include matched: its qualifier decides. */
			chk->why = spf_match_why[SPF_MECH_INCLUDE];
			result = parent->rec.terms[parent->next].qual;
			break;
		case SPF_FAIL:
		case SPF_SOFTFAIL:
		case SPF_NEUTRAL:
			parent->next++;
			return true;
		case SPF_NONE:
			chk->why = "include: no SPF record at the target";
			result = SPF_PERMERROR;
			break;
		case SPF_TEMPERROR:
		case SPF_PERMERROR:
			break;
		}
	}
}

/* Applies a term's outcome. True when the walk goes on. */
static bool
spf_outcome(struct spf_check *chk, enum spf_step st)
{
	struct spf_frame *f = spf_top(chk);
	const struct spf_term *t;

	/* A waiting term runs again when its answer is in: counted once. */
	if (st == SPF_STEP_WAIT)
		return false;
	chk->term_counted = false;
	switch (st) {
	case SPF_STEP_NOMATCH:
		f->next++;
		return true;
	case SPF_STEP_MATCH:
		t = &f->rec.terms[f->next];
		chk->why = spf_match_why[t->mech];
		return spf_frame_done(chk, t->qual);
	case SPF_STEP_PERMERROR:
		return spf_frame_done(chk, SPF_PERMERROR);
	case SPF_STEP_TEMPERROR:
		return spf_frame_done(chk, SPF_TEMPERROR);
	case SPF_STEP_WAIT:
		break;
	}
	return false;
}

void
spf_term_finish(struct spf_check *chk, enum spf_step st)
{
	if (spf_outcome(chk, st))
		spf_run(chk);
}

/* RFC 7208 5.2: include starts a check_host() of its own. */
static enum spf_step
spf_include(struct spf_check *chk, const struct spf_term *t)
{
	enum spf_step st;

	if (!spf_count_lookup(chk))
		return SPF_STEP_PERMERROR;
	st = spf_target(chk, t->domain, spf_top(chk)->domain, true);
	if (st == SPF_STEP_NOMATCH) {
		/* Malformed: check_host() is none (4.3), so permerror. */
		chk->why = "include: malformed domain";
		return SPF_STEP_PERMERROR;
	}
	if (st != SPF_STEP_MATCH)
		return st;
	return spf_frame_push(chk, chk->target) ? SPF_STEP_WAIT :
	    SPF_STEP_PERMERROR;
}

/*
 * No mechanism matched: redirect= (RFC 7208 6.1), else neutral (4.7).
 * True when the walk goes on.
 */
static bool
spf_end_of_record(struct spf_check *chk, struct spf_frame *f)
{
	enum spf_step st;

	if (f->rec.redirect.p == NULL) {
		chk->why = "no mechanism matched";
		return spf_frame_done(chk, SPF_NEUTRAL);
	}
	if (!spf_count_lookup(chk))
		return spf_frame_done(chk, SPF_PERMERROR);
	st = spf_target(chk, f->rec.redirect, f->domain, true);
	if (st == SPF_STEP_WAIT)
		return false;
	if (st != SPF_STEP_MATCH) {
		if (st == SPF_STEP_NOMATCH)
			chk->why = "redirect: malformed domain";
		return spf_frame_done(chk, SPF_PERMERROR);
	}
	/* The target's record replaces this one, exp= included. */
	spf_frame_release(f);
	cstr_copy(f->domain, sizeof(f->domain), chk->target);
	f->redirected = true;
	chk->term_counted = false;
	spf_record_lookup(chk);
	return false;
}

void
spf_run(struct spf_check *chk)
{
	while (chk->phase == SPF_PHASE_TERMS) {
		struct spf_frame *f = spf_top(chk);
		const struct spf_term *t;
		enum spf_step st;

		if (f->next == f->rec.nterms) {
			if (!spf_end_of_record(chk, f))
				return;
			continue;
		}
		t = &f->rec.terms[f->next];
		st = t->mech == SPF_MECH_INCLUDE ? spf_include(chk, t) :
		    spf_mech_eval(chk, t);
		if (!spf_outcome(chk, st))
			return;
	}
}

void
spf_resume(struct spf_check *chk)
{
	if (chk->phase == SPF_PHASE_EXP)
		spf_exp_start(chk);
	else
		spf_run(chk);
}

/*
 * RFC 7208 4.5: of the TXT records, exactly one may start "v=spf1".
 * 1 with f->text set, 0 for none, -1 (permerror) with chk->why.
 */
static int
spf_record_select(struct spf_check *chk, const struct dns_answer *ans,
    struct spf_frame *f)
{
	int k, r;

	for (k = 0; ans->status == DNS_OK && k < ans->count; k++) {
		r = spf_txt_join((const unsigned char *)ans->data[k],
		    (size_t)ans->len[k], &chk->work);
		if (r == -1 || !spf_record_is_spf1(buf_data(&chk->work),
		    buf_len(&chk->work)))
			continue;
		if (f->text != NULL) {
			chk->why = "more than one SPF record";
			return -1;
		}
		if (r == 1) {
			chk->why = "SPF record longer than 4 KB";
			return -1;
		}
		f->text = xmemdup0(buf_data(&chk->work), buf_len(&chk->work));
		f->textlen = buf_len(&chk->work);
	}
	return f->text != NULL;
}

static void
spf_record_answer(struct spf_check *chk, const struct dns_answer *ans)
{
	struct spf_frame *f = spf_top(chk);
	enum spf_result result = SPF_PERMERROR;

	/* RFC 7208 4.4: a DNS error is a temperror, NXDOMAIN is none. */
	if (ans->status == DNS_TEMPFAIL) {
		chk->why = "DNS error looking up the SPF record";
		result = SPF_TEMPERROR;
	} else {
		switch (spf_record_select(chk, ans, f)) {
		case 1:
			if (spf_record_parse(&f->rec, f->text, f->textlen,
			    &chk->why) == 0) {
				spf_run(chk);
				return;
			}
			break;
		case 0:
			chk->why = f->redirected ? "redirect: no SPF record "
			    "at the target" : "no SPF record";
			/* RFC 7208 6.1: none after a redirect is permerror. */
			result = f->redirected ? SPF_PERMERROR : SPF_NONE;
			break;
		}
	}
	if (spf_frame_done(chk, result))
		spf_run(chk);
}

/* RFC 7208 6.2: exp= names a TXT record holding the explanation. */
static void
spf_exp_start(struct spf_check *chk)
{
	struct spf_frame *f = &chk->frames[0];
	enum spf_step st;

	chk->phase = SPF_PHASE_EXP;
	st = spf_target(chk, f->rec.exp, f->domain, false);
	if (st == SPF_STEP_WAIT)
		return;
	if (st != SPF_STEP_MATCH) {
		spf_finish(chk, SPF_FAIL);
		return;
	}
	chk->op = SPF_OP_EXP;
	spf_query(chk, 0, chk->target, DNS_TYPE_TXT);
}

static void
spf_exp_answer(struct spf_check *chk, const struct dns_answer *ans)
{
	struct spf_frame *f = &chk->frames[0];
	const char *err;
	struct str text;
	char *copy;

	/* Any error, or not exactly one record: no explanation (6.2). */
	if (ans->status != DNS_OK || ans->count != 1 ||
	    spf_txt_join((const unsigned char *)ans->data[0],
	    (size_t)ans->len[0], &chk->work) != 0) {
		spf_finish(chk, SPF_FAIL);
		return;
	}
	copy = xmemdup0(buf_data(&chk->work), buf_len(&chk->work));
	text = str_make(copy, buf_len(&chk->work));
	if (spf_macro_uses(text, 'p') && chk->ptr_state != SPF_PTR_KNOWN) {
		/* Known names first; then this all runs again. */
		free(copy);
		spf_ptr_start(chk);
		return;
	}
	chk->mctx.domain = f->domain;
	chk->mctx.ptr = chk->ptr_state == SPF_PTR_KNOWN ?
	    spf_ptr_value(chk, f->domain) : NULL;
	if (spf_macro_expand(text, &chk->mctx, SPF_MACRO_EXP, &chk->work,
	    &err) == 0)
		chk->explanation = xmemdup0(buf_data(&chk->work),
		    buf_len(&chk->work));
	free(copy);
	spf_finish(chk, SPF_FAIL);
}

void
spf_on_answer(void *arg, const struct dns_answer *ans)
{
	struct spf_slot *s = arg;
	struct spf_check *chk = s->chk;

	s->q = NULL;
	chk->pending--;
	switch (chk->op) {
	case SPF_OP_NONE:
		break;
	case SPF_OP_RECORD:
		spf_record_answer(chk, ans);
		break;
	case SPF_OP_EXP:
		spf_exp_answer(chk, ans);
		break;
	default:
		spf_mech_answer(chk, s, ans);
		break;
	}
	if (chk->phase == SPF_PHASE_DONE) {
		chk->done(chk->arg, chk->result, chk->explanation, chk->why);
		spf_check_free(chk);
	}
}

/* The client address, IPv4-mapped IPv6 read as the IPv4 it is. */
static bool
spf_request_ip(struct spf_check *chk, const struct sockaddr_storage *ss)
{
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

	if (ss->ss_family == AF_INET) {
		chk->mctx.family = AF_INET;
		memcpy(chk->mctx.ip, &sin->sin_addr, 4);
		return true;
	}
	if (ss->ss_family != AF_INET6)
		return false;
	if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
		chk->mctx.family = AF_INET;
		memcpy(chk->mctx.ip, sin6->sin6_addr.s6_addr + 12, 4);
		return true;
	}
	chk->mctx.family = AF_INET6;
	memcpy(chk->mctx.ip, sin6->sin6_addr.s6_addr, 16);
	return true;
}

/*
 * RFC 7208 2.4: a null sender is "postmaster@" HELO; 4.3: a sender
 * without a local-part gets "postmaster". -1 if it does not fit.
 */
static int
spf_request_sender(struct spf_check *chk, const struct spf_request *req)
{
	const char *s = req->sender != NULL ? req->sender : "";
	const char *at = strrchr(s, '@');
	int n;

	if (s[0] == '\0')
		n = snprintf(chk->sender, sizeof(chk->sender), "postmaster@%s",
		    req->helo != NULL ? req->helo : "");
	else if (at == NULL)
		n = snprintf(chk->sender, sizeof(chk->sender), "postmaster@%s",
		    s);
	else
		n = snprintf(chk->sender, sizeof(chk->sender), "%s%s",
		    at == s ? "postmaster" : "", s);
	return n < 0 || (size_t)n >= sizeof(chk->sender) ? -1 : 0;
}

/* Fills the check from req: returns <domain>, or NULL with chk->why. */
static const char *
spf_request_copy(struct spf_check *chk, const struct spf_request *req)
{
	const char *domain = req->domain;

	if (!spf_request_ip(chk, &req->ip)) {
		chk->why = "no client IP address";
		return NULL;
	}
	cstr_copy(chk->helo, sizeof(chk->helo), req->helo ? req->helo : "");
	cstr_copy(chk->receiver, sizeof(chk->receiver),
	    req->receiver ? req->receiver : "");
	if (spf_request_sender(chk, req) == -1) {
		chk->why = "sender too long";
		return NULL;
	}
	if (domain == NULL)
		domain = strrchr(chk->sender, '@') + 1;
	chk->mctx.sender = chk->sender;
	chk->mctx.helo = chk->helo;
	chk->mctx.receiver = chk->receiver[0] ? chk->receiver : NULL;
	chk->mctx.now = (long long)time(NULL);
	return domain;
}

/*
 * RFC 7208 4.3: a malformed <domain>, or one that is not a fully
 * qualified name (one label, a domain literal, a numeric TLD), gives none.
 */
static bool
spf_domain_ok(const char *domain, char *out, size_t size)
{
	struct str d = str_cstr(domain);
	long dot;

	if (d.len > 0 && d.p[d.len - 1] == '.')
		d.len--;		/* the root's dot changes nothing */
	dot = str_rchr(d, '.');
	return spf_name_valid(d.p, d.len, true) && dot >= 0 &&
	    spf_toplabel_valid(str_sub(d, (size_t)dot + 1, SIZE_MAX)) &&
	    str_copy(out, size, d) == 0;
}

/*
 * A result known before any lookup still has to come later: a name
 * libunbound cannot parse gets its (failed) answer on the next loop
 * turn, and no packet is sent for it.
 */
static void
spf_report_later(struct spf_check *chk, enum spf_result result)
{
	spf_finish(chk, result);
	chk->op = SPF_OP_NONE;
	spf_query(chk, 0, "..", DNS_TYPE_TXT);
}

struct spf_check *
spf_check_start(struct dns *dns, const struct spf_request *req,
    spf_done done, void *arg)
{
	struct spf_check *chk = xcalloc(1, sizeof(*chk));
	char domain[SPF_NAME_MAX + 1];
	const char *d;

	chk->dns = dns;
	chk->done = done;
	chk->arg = arg;
	buf_init(&chk->work, SPF_RECORD_MAX);
	d = spf_request_copy(chk, req);
	if (d != NULL && !spf_domain_ok(d, domain, sizeof(domain))) {
		chk->why = "malformed domain (RFC 7208 4.3)";
		d = NULL;
	}
	if (d == NULL)
		spf_report_later(chk, SPF_NONE);
	else
		spf_frame_push(chk, domain);
	return chk;
}

void
spf_check_cancel(struct spf_check *chk)
{
	if (chk != NULL)
		spf_check_free(chk);
}
