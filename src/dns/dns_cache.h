/*
 * dns_cache.h - answers kept in the process for their TTL, so that the
 * lookups every message repeats (the sender's SPF record, its _dmarc
 * record, DKIM keys) cost a map lookup instead of a round trip through
 * libunbound's thread. Pure: no I/O, the clock is a parameter.
 *
 * Only definite answers are kept (records, NODATA, NXDOMAIN) and only
 * for min(TTL, DNS_CACHE_TTL_MAX) seconds; a TTL of 0 is not kept. When
 * DNS_CACHE_MAX entries are held, or an answer would take the memory
 * held past DNS_CACHE_BYTES_MAX, expired ones are dropped, and if that
 * is not enough the whole cache is emptied (cheap, rare unless someone
 * floods it, and a cache miss only costs a query). get reports an expired
 * entry as a miss without freeing it (a put of the same name, or one
 * that needs room, reclaims it), so an answer get returned earlier stays
 * valid until the next put.
 */
#ifndef FACTEUR_DNS_CACHE_H
#define FACTEUR_DNS_CACHE_H

#include <time.h>

#include "dns/dns.h"

#define DNS_CACHE_MAX		4096
#define DNS_CACHE_TTL_MAX	3600
#define DNS_CACHE_RDATA_MAX	(16 * 1024)	/* larger answers not kept */
/*
 * Our own: the entry count alone would let 4096 answers of 16 KiB (64
 * MiB) be held for an hour, by anyone who serves a large wildcard TXT
 * and sends mail naming random subdomains of it (SPF, DKIM keys). The
 * answers every message repeats are far smaller: 8 MiB keeps thousands.
 */
#define DNS_CACHE_BYTES_MAX	(8 * 1024 * 1024)

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
/* Memory held by the entries, as counted against DNS_CACHE_BYTES_MAX. */
size_t dns_cache_bytes(const struct dns_cache *c);

#endif
