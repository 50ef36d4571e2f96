/*
 * dns.h - asynchronous DNS on the event loop, through libunbound.
 *
 * Queries go to [dns] resolver (IP[:PORT]) when set, else to the servers
 * of /etc/resolv.conf. libunbound caches answers for their TTL and does
 * its own retries; its file descriptor is watched by the loop, so a slow
 * resolver never stalls a session. Tests point the resolver at a dnsmasq
 * on loopback (or a closed loopback port): no query leaves the machine.
 */
#ifndef FACTEUR_DNS_H
#define FACTEUR_DNS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"

struct event_base;
struct dns;
struct dns_query;

enum dns_status {
	DNS_OK,			/* records in data[] */
	DNS_NODATA,		/* the name exists, no record of that type */
	DNS_NXDOMAIN,		/* the name does not exist */
	DNS_TEMPFAIL,		/* SERVFAIL, timeout, unreachable resolver */
};

struct dns_answer {
	enum dns_status	 status;
	int		 rrtype;
	char		**data;		/* rdata blobs (libunbound's) */
	int		*len;
	int		 count;
	bool		 secure;	/* DNSSEC validated */
	bool		 bogus;
	uint32_t	 ttl;
};

typedef void (*dns_cb)(void *arg, const struct dns_answer *ans);

/* NULL with the reason in err. resolver: "IP", "IP:PORT" or NULL. */
struct dns *dns_new(struct event_base *base, const char *resolver,
    struct buf *err);
void dns_free(struct dns **dns);
/* Starts a query; cb is always called later, on the loop. */
struct dns_query *dns_query(struct dns *dns, const char *name, int rrtype,
    dns_cb cb, void *arg);
/* The callback of q will not be called (q is freed when it completes). */
void dns_cancel(struct dns_query *q);
const char *dns_status_name(enum dns_status status);

#endif
