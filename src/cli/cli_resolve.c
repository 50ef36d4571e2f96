/*
 * cli_resolve.c - blocking DNS for the command line (see cli_int.h): one
 * query at a time through dns/dns.h on the CLI's own event loop, each
 * given up after CLI_RESOLVE_TIME seconds.
 */
#include "core/common.h"

#include <event2/event.h>

#include "cli/cli_int.h"
#include "config/config.h"
#include "core/log.h"
#include "dns/dns_rr.h"

#define CLI_RESOLVE_TIME	15
/* RFC 7208 4.6.4: at least 20 seconds for a whole SPF check. */
#define CLI_SPF_TIME		20
#define CLI_RR_MAX		64

struct cli_resolver {
	struct event_base	*base;
	struct dns		*dns;
	struct event		*timer;
	bool			 timed_out;
};

static void
cli_resolve_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct cli_resolver *r = arg;

	(void)fd;
	(void)what;
	r->timed_out = true;
	event_base_loopbreak(r->base);
}

struct cli_resolver *
cli_resolver_new(const struct config *cfg)
{
	struct cli_resolver *r = xcalloc(1, sizeof(*r));
	struct buf err;

	buf_init(&err, 4096);
	if ((r->base = event_base_new()) == NULL)
		fatal("event_base_new failed");
	r->dns = dns_new(r->base, cfg->dns_resolver, &err);
	if (r->dns == NULL) {
		fprintf(stderr, "facteur: %s", buf_cstr(&err));
		buf_release(&err);
		event_base_free(r->base);
		free(r);
		return NULL;
	}
	buf_release(&err);
	r->timer = evtimer_new(r->base, cli_resolve_timeout, r);
	if (r->timer == NULL)
		fatal("cannot make a timer");
	return r;
}

void
cli_resolver_free(struct cli_resolver **rp)
{
	struct cli_resolver *r = *rp;

	if (r == NULL)
		return;
	event_free(r->timer);
	dns_free(&r->dns);
	event_base_free(r->base);
	XFREE(rp);
}

/* Runs the loop until *done or the time limit; false on timeout. */
static bool
cli_resolver_wait(struct cli_resolver *r, const bool *done, int seconds)
{
	struct timeval limit = { seconds, 0 };

	r->timed_out = false;
	if (evtimer_add(r->timer, &limit) == -1)
		fatal("cannot set a timer");
	while (!*done && !r->timed_out)
		event_base_loop(r->base, EVLOOP_ONCE);
	evtimer_del(r->timer);
	return *done;
}

struct cli_query {
	struct cli_rrset	*out;
	bool			 done;
};

static void
cli_resolve_done(void *arg, const struct dns_answer *ans)
{
	struct cli_query *q = arg;
	struct cli_rrset *out = q->out;
	int i, n = MIN(ans->count, CLI_RR_MAX);

	out->status = ans->status;
	out->count = n;
	out->data = xcalloc((size_t)n + 1, sizeof(*out->data));
	out->len = xcalloc((size_t)n + 1, sizeof(*out->len));
	for (i = 0; i < n; i++) {
		out->data[i] = (unsigned char *)xmemdup0(ans->data[i],
		    (size_t)ans->len[i]);
		out->len[i] = (size_t)ans->len[i];
	}
	q->done = true;
}

void
cli_resolve(struct cli_resolver *r, const char *name, int rrtype,
    struct cli_rrset *out)
{
	struct cli_query q = { out, false };
	struct dns_query *dq;

	memset(out, 0, sizeof(*out));
	out->status = DNS_TEMPFAIL;
	dq = dns_query(r->dns, name, rrtype, cli_resolve_done, &q);
	if (!cli_resolver_wait(r, &q.done, CLI_RESOLVE_TIME))
		dns_cancel(dq);
}

void
cli_rrset_release(struct cli_rrset *rr)
{
	int i;

	for (i = 0; i < rr->count; i++)
		free(rr->data[i]);
	free(rr->data);
	free(rr->len);
	memset(rr, 0, sizeof(*rr));
}

/* prefix, then the end, a space or ';', in any case ("" takes all). */
static bool
cli_txt_has_prefix(const char *txt, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return n == 0 || (len >= n && strncasecmp(txt, prefix, n) == 0 &&
	    (len == n || txt[n] == ' ' || txt[n] == ';'));
}

int
cli_resolve_txt(struct cli_resolver *r, const char *name,
    const char *prefix, struct buf *out, enum dns_status *status_r)
{
	struct cli_rrset rr;
	struct buf one;
	int i, found = 0;

	cli_resolve(r, name, DNS_TYPE_TXT, &rr);
	*status_r = rr.status;
	if (rr.status == DNS_TEMPFAIL) {
		cli_rrset_release(&rr);
		return -1;
	}
	buf_init(&one, 65536);
	for (i = 0; i < rr.count; i++) {
		buf_reset(&one);
		if (dns_rr_txt(rr.data[i], rr.len[i], &one) == -1 ||
		    !cli_txt_has_prefix(buf_data(&one), buf_len(&one), prefix) ||
		    memchr(buf_data(&one), '\n', buf_len(&one)) != NULL)
			continue;
		if (buf_add(out, buf_data(&one), buf_len(&one)) == 0 &&
		    buf_addc(out, '\n') == 0)
			found++;
	}
	buf_release(&one);
	cli_rrset_release(&rr);
	return found;
}

struct cli_spf_wait {
	enum spf_result	 result;
	const char	*why;
	bool		 done;
};

static void
cli_resolve_spf_done(void *arg, enum spf_result result,
    const char *explanation, const char *why)
{
	struct cli_spf_wait *w = arg;

	(void)explanation;
	w->result = result;
	w->why = why;
	w->done = true;
}

enum spf_result
cli_resolve_spf(struct cli_resolver *r, const struct spf_request *req,
    const char **why_r)
{
	struct cli_spf_wait w = { SPF_TEMPERROR, "time limit reached", false };
	struct spf_check *chk;

	chk = spf_check_start(r->dns, req, cli_resolve_spf_done, &w);
	if (!cli_resolver_wait(r, &w.done, CLI_SPF_TIME)) {
		spf_check_cancel(chk);
		w.result = SPF_TEMPERROR;
		w.why = "time limit reached";
	}
	*why_r = w.why;
	return w.result;
}
