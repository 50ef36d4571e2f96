/*
 * mta_route.c - where a destination's mail goes (RFC 5321 5.1).
 *
 * MX records in preference order, equal preferences shuffled; no MX
 * record means the domain itself is the mail host (the implicit MX); a
 * null MX (RFC 7505: one record, preference 0, host ".") means the domain
 * takes no mail, a permanent failure; a domain that does not exist is a
 * permanent failure too, while a DNS error is temporary. Each MX host
 * gives its IPv6 then its IPv4 addresses, so both families are tried.
 * With a [relay] smarthost, its own addresses are the only route.
 */
#include "core/common.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <sys/random.h>

#include "config/config.h"
#include "core/dname.h"
#include "core/log.h"
#include "delivery/mta_int.h"
#include "dns/dns.h"
#include "dns/dns_rr.h"
#include "server/server.h"

struct mta_mx {
	uint16_t	 pref;
	uint32_t	 rnd;
	char		 name[256];
};

static void mta_route_addr_cb(void *arg, const struct dns_answer *ans);

static void
mta_route_fail(struct mta_dest *d, bool permanent, const char *fmt, ...)
    PRINTF_LIKE(3, 4);

static void
mta_route_fail(struct mta_dest *d, bool permanent, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->route_error, sizeof(d->route_error), fmt, ap);
	va_end(ap);
	d->route_permanent = permanent;
	d->route_state = MTA_ROUTE_FAILED;
	log_info("event=route-failed domain=%s permanent=%s error=%s",
	    log_qs(d->domain), permanent ? "yes" : "no",
	    log_qs(d->route_error));
	mta_dest_run(d);
}

static uint16_t
mta_route_port(const struct mta_dest *d)
{
	const struct config *cfg = server_config(d->mta->srv);

	return (uint16_t)(mta_is_relay(d->mta) ? cfg->relay_port :
	    cfg->delivery_port);
}

/* Queries A and AAAA for every MX host found. */
static void
mta_route_hosts(struct mta_dest *d)
{
	struct dns *dns = server_dns(d->mta->srv);
	size_t i;
	int v6;

	d->pending = (unsigned)(2 * d->nmx);
	for (i = 0; i < d->nmx; i++) {
		d->nfound[i][0] = d->nfound[i][1] = 0;
		for (v6 = 0; v6 <= 1; v6++) {
			struct mta_route_q *q = &d->rq[1 + 2 * i + (size_t)v6];

			q->dest = d;
			q->mx = (int)i;
			q->v6 = v6;
			d->queries[1 + 2 * i + (size_t)v6] = dns_query(dns,
			    d->mx[i], v6 ? DNS_TYPE_AAAA : DNS_TYPE_A,
			    mta_route_addr_cb, q);
		}
	}
}

static int
mta_mx_cmp(const void *a, const void *b)
{
	const struct mta_mx *x = a, *y = b;

	if (x->pref != y->pref)
		return x->pref < y->pref ? -1 : 1;
	return x->rnd < y->rnd ? -1 : x->rnd > y->rnd;
}

/*
 * From MX rdata to d->mx[], sorted; -1 if it is a null MX. A name that is
 * not a host name (RFC 5321 2.3.5: a fully-qualified domain name of LDH
 * labels) is skipped like one without an address: it is used as the TLS
 * name, in logs, and in the error text kept in the queue and reported to
 * the sender, so a hostile zone must not choose its bytes. When every
 * name is skipped the caller finds no usable MX, a temporary failure like
 * any other broken MX set (RFC 5321 5.1: reported as an error; the zone
 * may be fixed before the message expires).
 */
static int
mta_route_parse_mx(struct mta_dest *d, const struct dns_answer *ans)
{
	struct mta_mx mx[MTA_ROUTE_MX_MAX];
	size_t n = 0, i;
	int k;

	for (k = 0; k < ans->count && n < MTA_ROUTE_MX_MAX; k++) {
		if (dns_rr_mx((const unsigned char *)ans->data[k],
		    (size_t)ans->len[k], &mx[n].pref, mx[n].name,
		    sizeof(mx[n].name)) == -1) {
			log_info("event=mx-invalid domain=%s mx=(unreadable)",
			    log_qs(d->domain));
			continue;
		}
		/* RFC 7505 3: "." alone at preference 0 is a null MX. */
		if (mx[n].name[0] == '\0') {
			if (ans->count == 1)
				return -1;
			continue;
		}
		if (!dname_valid(mx[n].name, strlen(mx[n].name), 0)) {
			log_info("event=mx-invalid domain=%s mx=%s",
			    log_qs(d->domain), log_qs(mx[n].name));
			continue;
		}
		if (getrandom(&mx[n].rnd, sizeof(mx[n].rnd), 0) !=
		    sizeof(mx[n].rnd))
			mx[n].rnd = (uint32_t)k;
		n++;
	}
	qsort(mx, n, sizeof(mx[0]), mta_mx_cmp);
	for (i = 0; i < n; i++)
		cstr_copy(d->mx[i], sizeof(d->mx[i]), mx[i].name);
	d->nmx = n;
	return 0;
}

static void
mta_route_mx_cb(void *arg, const struct dns_answer *ans)
{
	struct mta_route_q *q = arg;
	struct mta_dest *d = q->dest;

	d->queries[0] = NULL;
	switch (ans->status) {
	case DNS_TEMPFAIL:
		mta_route_fail(d, false, "DNS error looking up the MX records "
		    "of %s (temporary)", d->domain);
		return;
	case DNS_NXDOMAIN:
		mta_route_fail(d, true, "domain %s does not exist (DNS "
		    "NXDOMAIN)", d->domain);
		return;
	case DNS_NODATA:
		/* RFC 5321 5.1: no MX, the domain is its own mail host. */
		cstr_copy(d->mx[0], sizeof(d->mx[0]), d->domain);
		d->nmx = 1;
		break;
	case DNS_OK:
		if (mta_route_parse_mx(d, ans) == -1) {
			mta_route_fail(d, true, "domain %s accepts no mail "
			    "(null MX, RFC 7505) 5.1.10", d->domain);
			return;
		}
		if (d->nmx == 0) {
			mta_route_fail(d, false, "no usable MX record for %s",
			    d->domain);
			return;
		}
		break;
	}
	mta_route_hosts(d);
}

/* All address lookups are in: MX order, IPv6 before IPv4 per host. */
static void
mta_route_assemble(struct mta_dest *d)
{
	const char *self = mta_hostname(d->mta);
	size_t i, j;
	int v6;

	d->naddrs = 0;
	for (i = 0; i < d->nmx; i++) {
		if (!mta_is_relay(d->mta) && strcasecmp(d->mx[i], self) == 0) {
			mta_route_fail(d, true, "mail for %s loops back to "
			    "myself (MX %s) 5.4.6", d->domain, d->mx[i]);
			return;
		}
		for (v6 = 1; v6 >= 0; v6--)
			for (j = 0; j < d->nfound[i][v6] &&
			    d->naddrs < MTA_ROUTE_ADDRS_MAX; j++)
				d->addrs[d->naddrs++] = d->found[i][v6][j];
	}
	if (d->naddrs == 0) {
		mta_route_fail(d, false, "no address found for the mail "
		    "hosts of %s", d->domain);
		return;
	}
	d->route_state = MTA_ROUTE_READY;
	d->route_time = time(NULL);
	log_debug("event=route domain=%s mx=%zu addrs=%zu first=%s",
	    log_qs(d->domain), d->nmx, d->naddrs, d->addrs[0].ip);
	mta_dest_run(d);
}

static void
mta_route_addr_cb(void *arg, const struct dns_answer *ans)
{
	struct mta_route_q *q = arg;
	struct mta_dest *d = q->dest;
	size_t *n = &d->nfound[q->mx][q->v6];
	int k;

	d->queries[1 + 2 * q->mx + q->v6] = NULL;
	for (k = 0; ans->status == DNS_OK && k < ans->count && *n < 4; k++) {
		struct mta_addr *a = &d->found[q->mx][q->v6][*n];

		if (dns_rr_addr(ans->rrtype, (const unsigned char *)
		    ans->data[k], (size_t)ans->len[k], mta_route_port(d),
		    &a->ss, &a->sslen) == -1)
			continue;
		cstr_copy(a->host, sizeof(a->host), d->mx[q->mx]);
		inet_ntop(a->ss.ss_family, a->ss.ss_family == AF_INET6 ?
		    (void *)&((struct sockaddr_in6 *)&a->ss)->sin6_addr :
		    (void *)&((struct sockaddr_in *)&a->ss)->sin_addr, a->ip,
		    sizeof(a->ip));
		(*n)++;
	}
	if (--d->pending == 0)
		mta_route_assemble(d);
}

void
mta_route_start(struct mta_dest *d)
{
	const struct config *cfg = server_config(d->mta->srv);

	d->route_state = MTA_ROUTE_RESOLVING;
	if (d->relay && !mta_is_relay(d->mta)) {
		/*
		 * Queued for the smarthost, which a reload removed: not a
		 * domain to look up (its NXDOMAIN bounced them). Deferred,
		 * they are scheduled again by their own domains.
		 */
		mta_route_fail(d, false, "[relay] host was removed by a "
		    "reload; retried by destination domain");
		return;
	}
	if (mta_is_relay(d->mta)) {
		cstr_copy(d->mx[0], sizeof(d->mx[0]), cfg->relay_host);
		d->nmx = 1;
		mta_route_hosts(d);
		return;
	}
	d->rq[0].dest = d;
	d->rq[0].mx = -1;
	d->queries[0] = dns_query(server_dns(d->mta->srv), d->domain, DNS_TYPE_MX,
	    mta_route_mx_cb, &d->rq[0]);
}

void
mta_route_cancel(struct mta_dest *d)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(d->queries); i++)
		if (d->queries[i]) {
			dns_cancel(d->queries[i]);
			d->queries[i] = NULL;
		}
}
