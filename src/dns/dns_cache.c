/*
 * dns_cache.c - see dns_cache.h.
 */
#include "core/common.h"

#include "core/map.h"
#include "core/str.h"
#include "dns/dns_cache.h"

struct dns_cached {
	time_t		 expires;
	size_t		 size;		/* counted in dns_cache.bytes */
	struct dns_answer ans;		/* data/len point into the copies */
	char		**data;
	int		*len;
};

struct dns_cache {
	struct map	*map;		/* "rrtype/name" -> struct dns_cached */
	size_t		 bytes;		/* the sizes of the entries */
};

static void
dns_cached_free(void *v)
{
	struct dns_cached *e = v;
	int i;

	if (e == NULL)
		return;
	for (i = 0; i < e->ans.count; i++)
		free(e->data[i]);
	free(e->data);
	free(e->len);
	free(e);
}

struct dns_cache *
dns_cache_new(void)
{
	struct dns_cache *c = xcalloc(1, sizeof(*c));

	c->map = map_new();
	return c;
}

void
dns_cache_free(struct dns_cache **cp)
{
	if (*cp == NULL)
		return;
	map_free(&(*cp)->map, dns_cached_free);
	XFREE(cp);
}

size_t
dns_cache_count(const struct dns_cache *c)
{
	return map_count(c->map);
}

size_t
dns_cache_bytes(const struct dns_cache *c)
{
	return c->bytes;
}

/* Frees an entry taken out of the map (NULL: none) and uncounts it. */
static void
dns_cache_drop(struct dns_cache *c, struct dns_cached *e)
{
	if (e == NULL)
		return;
	c->bytes -= e->size;
	dns_cached_free(e);
}

/* "16/example.com": DNS names compare without case (RFC 4343). */
static int
dns_cache_key(const char *name, int rrtype, char *out, size_t size)
{
	size_t n = strlen(name);
	int w;

	while (n > 0 && name[n - 1] == '.')
		n--;
	w = snprintf(out, size, "%d/%.*s", rrtype, (int)n, name);
	if (w < 0 || (size_t)w >= size)
		return -1;
	ascii_lower_inplace(out, (size_t)w);
	return w;
}

static bool
dns_cache_full(const struct dns_cache *c, size_t size)
{
	return map_count(c->map) >= DNS_CACHE_MAX ||
	    c->bytes + size > DNS_CACHE_BYTES_MAX;
}

/* Room for one more entry of size bytes: the expired go, else all. */
static void
dns_cache_make_room(struct dns_cache *c, size_t size, time_t now)
{
	const char *key;
	void *v;
	size_t pos = 0;

	while (map_next(c->map, &pos, &key, &v))
		if (((struct dns_cached *)v)->expires <= now)
			dns_cache_drop(c, map_del(c->map, key, strlen(key)));
	if (dns_cache_full(c, size)) {
		map_free(&c->map, dns_cached_free);
		c->map = map_new();
		c->bytes = 0;
	}
}

/* What an entry holds in memory, roughly: the copies and their arrays. */
static size_t
dns_cached_size(size_t klen, int count, size_t rdata)
{
	return sizeof(struct dns_cached) + klen + 1 + ((size_t)count + 1) *
	    (sizeof(char *) + sizeof(int)) + rdata + (size_t)count;
}

void
dns_cache_put(struct dns_cache *c, const char *name, int rrtype,
    const struct dns_answer *ans, time_t now)
{
	char key[300];
	struct dns_cached *e;
	size_t total = 0, size;
	int i, klen;

	if (ans->status == DNS_TEMPFAIL || ans->ttl == 0 || ans->bogus ||
	    ans->count < 0 || (klen = dns_cache_key(name, rrtype, key,
	    sizeof(key))) == -1)
		return;
	for (i = 0; i < ans->count; i++)
		total += (size_t)MAX(ans->len[i], 0);
	if (total > DNS_CACHE_RDATA_MAX)
		return;
	/* The answer it replaces (a get may have found it expired). */
	dns_cache_drop(c, map_del(c->map, key, (size_t)klen));
	size = dns_cached_size((size_t)klen, ans->count, total);
	if (dns_cache_full(c, size))
		dns_cache_make_room(c, size, now);
	e = xcalloc(1, sizeof(*e));
	e->expires = now + (time_t)MIN(ans->ttl, DNS_CACHE_TTL_MAX);
	e->size = size;
	e->ans = *ans;
	e->data = xcalloc((size_t)ans->count + 1, sizeof(char *));
	e->len = xcalloc((size_t)ans->count + 1, sizeof(int));
	for (i = 0; i < ans->count; i++) {
		e->len[i] = MAX(ans->len[i], 0);
		e->data[i] = xmalloc((size_t)e->len[i] + 1);
		memcpy(e->data[i], ans->data[i], (size_t)e->len[i]);
	}
	e->ans.data = e->data;
	e->ans.len = e->len;
	c->bytes += size;
	dns_cache_drop(c, map_put(c->map, key, (size_t)klen, e));
}

bool
dns_cache_get(struct dns_cache *c, const char *name, int rrtype,
    time_t now, struct dns_answer *ans)
{
	char key[300];
	struct dns_cached *e;
	int klen = dns_cache_key(name, rrtype, key, sizeof(key));

	/*
	 * An expired entry stays (put reclaims it): the caller may still
	 * hold an answer this cache returned, which must stay valid until
	 * the next put, as the header says.
	 */
	if (klen == -1 || (e = map_get(c->map, key, (size_t)klen)) == NULL ||
	    e->expires <= now)
		return false;
	*ans = e->ans;
	ans->ttl = (uint32_t)(e->expires - now);
	return true;
}
