/*
 * dns_cache.h - answers kept in the process for their TTL, so that the
 * lookups every message repeats (the sender's SPF record, its _dmarc
 * record, DKIM keys) cost a map lookup instead of a round trip through
 * libunbound's thread. Pure: no I/O, the clock is a parameter.
 *
 * Only definite answers are kept (records, NODATA, NXDOMAIN) and only
 * for min(TTL, DNS_CACHE_TTL_MAX) seconds; a TTL of 0 is not kept. When
 * DNS_CACHE_MAX entries are held, expired ones are dropped, and if that
 * is not enough the whole cache is emptied (cheap, rare, and a cache
 * miss only costs a query).
 */
#ifndef FACTEUR_DNS_CACHE_H
#define FACTEUR_DNS_CACHE_H

#include <time.h>

#include "dns/dns.h"

#define DNS_CACHE_MAX		4096
#define DNS_CACHE_TTL_MAX	3600
#define DNS_CACHE_RDATA_MAX	(16 * 1024)	/* larger answers not kept */

struct dns_cache;

struct dns_cache *dns_cache_new(void);
void dns_cache_free(struct dns_cache **c);
/* Keeps a copy of ans for name (any case) and rrtype, if it qualifies. */
void dns_cache_put(struct dns_cache *c, const char *name, int rrtype,
    const struct dns_answer *ans, time_t now);
/*
 * True when a fresh answer is kept: *ans points into the cache (valid
 * until the next put or free), its ttl is what remains of it.
 */
bool dns_cache_get(struct dns_cache *c, const char *name, int rrtype,
    time_t now, struct dns_answer *ans);
size_t dns_cache_count(const struct dns_cache *c);

#endif
