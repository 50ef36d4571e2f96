/*
 * dns.c - see dns.h.
 */
#include "core/common.h"

#include <event2/event.h>
#include <sys/mman.h>
#include <unistd.h>
#include <unbound.h>

#include "core/fsutil.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/util.h"
#include "dns/dns.h"
#include "dns/dns_cache.h"

struct dns {
	struct ub_ctx	*ctx;
	struct event	*ev;
	struct event_base *base;
	struct dns_query *queries;	/* outstanding, freed by dns_free */
	struct dns_cache *cache;
};

struct dns_query {
	struct dns_query *prev, *next;
	struct dns	*dns;
	dns_cb		 cb;		/* NULL once cancelled */
	void		*arg;
	int		 rrtype;
	char		 name[256];	/* for the cache; "" if too long */
};

/*
 * The cache's clock: monotonic seconds, so that a wall clock set back
 * (a VM booting with a future time, then corrected) does not keep every
 * answer, NXDOMAIN for a _dmarc name included, for the size of the jump.
 */
static time_t
dns_clock(void)
{
	return (time_t)(util_now_ms() / 1000);
}

static void
dns_unlink(struct dns_query *q)
{
	if (q->prev)
		q->prev->next = q->next;
	else
		q->dns->queries = q->next;
	if (q->next)
		q->next->prev = q->prev;
}

static void
dns_on_fd(evutil_socket_t fd, short what, void *arg)
{
	struct dns *dns = arg;

	(void)fd;
	(void)what;
	ub_process(dns->ctx);
}

/* "IP" or "IP:PORT" or "[IPv6]:PORT" to unbound's "IP@PORT". */
static int
dns_fwd_spec(const char *resolver, char *out, size_t size)
{
	const char *colon = strrchr(resolver, ':');
	int n;

	if (resolver[0] == '[') {
		const char *close = strchr(resolver, ']');

		if (close == NULL)
			return -1;
		n = close[1] == ':' ? snprintf(out, size, "%.*s@%s",
		    (int)(close - resolver - 1), resolver + 1, close + 2) :
		    snprintf(out, size, "%.*s", (int)(close - resolver - 1),
		    resolver + 1);
	} else if (colon != NULL && strchr(resolver, ':') == colon) {
		n = snprintf(out, size, "%.*s@%s", (int)(colon - resolver),
		    resolver, colon + 1);
	} else {
		n = snprintf(out, size, "%s", resolver);
	}
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/*
 * libunbound answers some special-use names itself (RFC 6761: .test, the
 * reverse zones of 127/8, ::1 and private networks). We ask the configured
 * resolver instead:
 * it knows best, and tests serve .test there. These options exist only in
 * config-file form, so the file is an anonymous memory file.
 */
static const char dns_ub_conf[] =
    "server:\n"
    "  do-not-query-localhost: no\n"
    "  unblock-lan-zones: yes\n"
    "  insecure-lan-zones: yes\n"
    "  local-zone: \"test.\" nodefault\n"
    "  local-zone: \"127.in-addr.arpa.\" nodefault\n"
    "  local-zone: \"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
    "0.0.0.0.ip6.arpa.\" nodefault\n";

static int
dns_configure(struct ub_ctx *ctx)
{
	char path[64];
	int fd, r;

	fd = memfd_create("facteur-unbound.conf", MFD_CLOEXEC);
	if (fd == -1)
		return -1;
	if (fs_write_all(fd, dns_ub_conf, sizeof(dns_ub_conf) - 1) == -1) {
		close(fd);
		return -1;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	r = ub_ctx_config(ctx, path);
	close(fd);
	return r == 0 ? 0 : -1;
}

struct dns *
dns_new(struct event_base *base, const char *resolver, struct buf *err)
{
	struct dns *dns = xcalloc(1, sizeof(*dns));
	char fwd[128];
	int r;

	dns->cache = dns_cache_new();

	dns->ctx = ub_ctx_create();
	if (dns->ctx == NULL)
		fatal("ub_ctx_create failed");
	/* The resolver may be on loopback: tests run dnsmasq there. */
	if (dns_configure(dns->ctx) == -1)
		log_warn("event=dns-config-failed reason=\"special-use names "
		    "(.test, 127.in-addr.arpa) answered by libunbound\"");
	if (resolver != NULL) {
		if (dns_fwd_spec(resolver, fwd, sizeof(fwd)) == -1 ||
		    (r = ub_ctx_set_fwd(dns->ctx, fwd)) != 0) {
			r = buf_addf(err, "[dns] resolver = %s: invalid\n",
			    resolver);
			(void)r;
			dns_free(&dns);
			return NULL;
		}
	} else if ((r = ub_ctx_resolvconf(dns->ctx, NULL)) != 0) {
		r = buf_addf(err, "cannot read /etc/resolv.conf: %s\n",
		    ub_strerror(r));
		(void)r;
		dns_free(&dns);
		return NULL;
	}
	ub_ctx_async(dns->ctx, 1);
	dns->base = base;
	dns->ev = event_new(base, ub_fd(dns->ctx), EV_READ | EV_PERSIST,
	    dns_on_fd, dns);
	if (dns->ev == NULL || event_add(dns->ev, NULL) == -1)
		fatal("dns: cannot watch libunbound's descriptor");
	return dns;
}

void
dns_free(struct dns **dnsp)
{
	struct dns *dns = *dnsp;

	if (dns == NULL)
		return;
	if (dns->ev)
		event_free(dns->ev);
	ub_ctx_delete(dns->ctx);
	dns_cache_free(&dns->cache);
	while (dns->queries) {
		struct dns_query *q = dns->queries;

		dns->queries = q->next;
		free(q);
	}
	XFREE(dnsp);
}

static void
dns_on_result(void *arg, int err, struct ub_result *res)
{
	struct dns_query *q = arg;
	struct dns_answer ans;

	memset(&ans, 0, sizeof(ans));
	if (err == UB_SYNTAX)
		ans.status = DNS_NXDOMAIN;	/* not a DNS name: none such */
	else if (err != 0 || res == NULL || res->rcode == 2 /* SERVFAIL */ ||
	    (res->rcode != 0 && res->rcode != 3 /* NXDOMAIN */))
		ans.status = DNS_TEMPFAIL;
	else if (res->nxdomain)
		ans.status = DNS_NXDOMAIN;
	else if (!res->havedata)
		ans.status = DNS_NODATA;
	else
		ans.status = DNS_OK;
	ans.rrtype = q->rrtype;
	if (res != NULL) {
		ans.data = res->data;
		ans.len = res->len;
		while (ans.status == DNS_OK && res->data[ans.count] != NULL)
			ans.count++;
		ans.secure = res->secure;
		ans.bogus = res->bogus;
		ans.ttl = (uint32_t)res->ttl;
	}
	if (res != NULL && q->name[0])
		dns_cache_put(q->dns->cache, q->name, q->rrtype, &ans,
		    dns_clock());
	dns_unlink(q);
	if (q->cb)
		q->cb(q->arg, &ans);
	if (res != NULL)
		ub_resolve_free(res);
	free(q);
}

static void dns_start(struct dns_query *q);

/*
 * Runs fn(q) on the next loop turn. event_base_once() fails only when
 * libevent cannot allocate: fatal, as for any allocation (xmalloc.h);
 * carrying on would leave q's callback never called and its caller
 * waiting for ever (a session, a delivery, an SPF check).
 */
static void
dns_later(struct dns_query *q, event_callback_fn fn)
{
	struct timeval now = { 0, 0 };

	if (event_base_once(q->dns->base, -1, EV_TIMEOUT, fn, q, &now) == -1)
		fatal("dns: cannot schedule a query's answer");
}

/*
 * A cached answer, delivered on the next loop turn like any other (the
 * caller may not expect its callback inside dns_query()). Should it have
 * expired meanwhile, the question goes to libunbound after all.
 */
static void
dns_cached_later(evutil_socket_t fd, short what, void *arg)
{
	struct dns_query *q = arg;
	struct dns_answer ans;

	(void)fd;
	(void)what;
	if (q->cb && !dns_cache_get(q->dns->cache, q->name, q->rrtype,
	    dns_clock(), &ans)) {
		dns_start(q);
		return;
	}
	dns_unlink(q);
	if (q->cb)
		q->cb(q->arg, &ans);
	free(q);
}

/* A query libunbound refused to start fails on the next loop turn. */
static void
dns_fail_later(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	dns_on_result(arg, 1, NULL);
}

/*
 * A name longer than DNS allows (253 characters), or that libunbound
 * cannot write as one, cannot exist: NXDOMAIN, not a temporary failure.
 * A forger who makes "_dmarc." + his From: domain too long must not
 * turn the DMARC lookup into a temperror that is let through, nor a
 * DKIM key lookup with a huge selector into a 451.
 */
static void
dns_none_later(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	dns_on_result(arg, UB_SYNTAX, NULL);
}

struct dns_query *
dns_query(struct dns *dns, const char *name, int rrtype, dns_cb cb,
    void *arg)
{
	struct dns_query *q = xcalloc(1, sizeof(*q));
	struct dns_answer ans;

	q->dns = dns;
	q->cb = cb;
	q->arg = arg;
	q->rrtype = rrtype;
	if (cstr_copy(q->name, sizeof(q->name), name) == -1)
		q->name[0] = '\0';	/* no DNS name is that long: none */
	q->next = dns->queries;
	if (dns->queries)
		dns->queries->prev = q;
	dns->queries = q;
	if (q->name[0] && dns_cache_get(dns->cache, q->name, rrtype,
	    dns_clock(), &ans))
		dns_later(q, dns_cached_later);
	else
		dns_start(q);
	return q;
}

static void
dns_start(struct dns_query *q)
{
	size_t len = strlen(q->name);
	int id, r;

	if (len > 0 && q->name[len - 1] == '.')
		len--;
	if (len == 0 || len > DNS_NAME_TEXT_MAX ||
	    (r = ub_resolve_async(q->dns->ctx, q->name, q->rrtype,
	    1 /* IN */, q, dns_on_result, &id)) == UB_SYNTAX)
		dns_later(q, dns_none_later);
	else if (r != 0)
		dns_later(q, dns_fail_later);
}

void
dns_cancel(struct dns_query *q)
{
	q->cb = NULL;
	q->arg = NULL;
}

const char *
dns_status_name(enum dns_status status)
{
	static const char *const names[] = { "ok", "nodata", "nxdomain",
	    "tempfail" };

	return names[status];
}
