/*
 * test_dns_cache.c - the in-process DNS answer cache: what is kept, for
 * how long, under which key, that it owns its copies, and that its
 * entries and bytes stay bounded.
 */
#include "core/common.h"

#include "dns/dns_cache.h"
#include "unit/unit.h"

static struct dns_answer
answer(enum dns_status st, uint32_t ttl, char **data, int *len, int count)
{
	struct dns_answer a = { .status = st, .rrtype = 16, .data = data,
	    .len = len, .count = count, .ttl = ttl };

	return a;
}

TEST(dns_cache_keeps_a_copy_for_its_ttl)
{
	struct dns_cache *c = dns_cache_new();
	char txt[] = "\x0bv=spf1 -all", *data[] = { txt, NULL };
	int len[] = { (int)sizeof(txt) - 1 };
	struct dns_answer a = answer(DNS_OK, 300, data, len, 1), got;

	dns_cache_put(c, "Sender.Example.", 16, &a, 1000);
	memset(txt, 'x', sizeof(txt) - 1);		/* ours, not the caller's */
	CHECK(dns_cache_get(c, "sender.example", 16, 1000, &got));
	CHECK_EQ_INT(got.status, DNS_OK);
	CHECK_EQ_INT(got.count, 1);
	CHECK_EQ_INT(got.len[0], 12);
	CHECK(memcmp(got.data[0], "\x0bv=spf1 -all", 12) == 0);
	CHECK_EQ_INT(got.ttl, 300);
	CHECK(dns_cache_get(c, "SENDER.example", 16, 1299, &got));
	CHECK_EQ_INT(got.ttl, 1);
	CHECK(!dns_cache_get(c, "sender.example", 16, 1300, &got));
	CHECK(!dns_cache_get(c, "sender.example", 1, 1000, &got));	/* A */
	dns_cache_free(&c);
	CHECK(c == NULL);
}

/*
 * An answer get returned stays valid until the next put, even when a
 * later get finds the entry expired (it used to free it there); the put
 * that follows reclaims it.
 */
TEST(dns_cache_get_of_expired_frees_nothing)
{
	struct dns_cache *c = dns_cache_new();
	char txt[] = "\x0bv=spf1 -all", *data[] = { txt, NULL };
	int len[] = { (int)sizeof(txt) - 1 };
	struct dns_answer a = answer(DNS_OK, 10, data, len, 1), got, again;
	size_t bytes;

	dns_cache_put(c, "sender.example", 16, &a, 1000);
	bytes = dns_cache_bytes(c);
	CHECK(bytes > 12);
	CHECK(dns_cache_get(c, "sender.example", 16, 1009, &got));
	CHECK(!dns_cache_get(c, "sender.example", 16, 1010, &again));
	CHECK_EQ_INT(dns_cache_count(c), 1);
	CHECK(memcmp(got.data[0], "\x0bv=spf1 -all", 12) == 0);
	CHECK_EQ_INT(dns_cache_bytes(c), bytes);
	/* A put of the same name replaces it, counted once. */
	dns_cache_put(c, "sender.example", 16, &a, 1010);
	CHECK_EQ_INT(dns_cache_count(c), 1);
	CHECK_EQ_INT(dns_cache_bytes(c), bytes);
	dns_cache_free(&c);
}

TEST(dns_cache_what_is_not_kept)
{
	struct dns_cache *c = dns_cache_new();
	struct dns_answer a, got;
	char big[DNS_CACHE_RDATA_MAX + 1], *data[] = { big, NULL };
	int len[] = { (int)sizeof(big) };

	a = answer(DNS_TEMPFAIL, 300, NULL, NULL, 0);
	dns_cache_put(c, "a.example", 16, &a, 0);
	a = answer(DNS_OK, 0, NULL, NULL, 0);		/* TTL 0 */
	dns_cache_put(c, "b.example", 16, &a, 0);
	a = answer(DNS_NODATA, 300, NULL, NULL, 0);
	a.bogus = true;					/* DNSSEC bogus */
	dns_cache_put(c, "c.example", 16, &a, 0);
	memset(big, 'a', sizeof(big));
	a = answer(DNS_OK, 300, data, len, 1);		/* too large */
	dns_cache_put(c, "d.example", 16, &a, 0);
	CHECK_EQ_INT(dns_cache_count(c), 0);
	CHECK(!dns_cache_get(c, "a.example", 16, 0, &got));
	/* Negative answers with a TTL are kept: NXDOMAIN, NODATA. */
	a = answer(DNS_NXDOMAIN, 60, NULL, NULL, 0);
	dns_cache_put(c, "gone.example", 16, &a, 0);
	CHECK(dns_cache_get(c, "gone.example", 16, 59, &got));
	CHECK_EQ_INT(got.status, DNS_NXDOMAIN);
	/* A long TTL is capped. */
	a = answer(DNS_NODATA, 86400, NULL, NULL, 0);
	dns_cache_put(c, "long.example", 16, &a, 0);
	CHECK(dns_cache_get(c, "long.example", 16, 0, &got));
	CHECK_EQ_INT(got.ttl, DNS_CACHE_TTL_MAX);
	dns_cache_free(&c);
}

TEST(dns_cache_replaces_and_stays_bounded)
{
	struct dns_cache *c = dns_cache_new();
	struct dns_answer a = answer(DNS_NODATA, 10, NULL, NULL, 0), got;
	char name[64];
	int i;

	dns_cache_put(c, "x.example", 16, &a, 0);
	a = answer(DNS_NXDOMAIN, 10, NULL, NULL, 0);
	dns_cache_put(c, "x.example", 16, &a, 0);
	CHECK(dns_cache_get(c, "x.example", 16, 0, &got));
	CHECK_EQ_INT(got.status, DNS_NXDOMAIN);
	CHECK_EQ_INT(dns_cache_count(c), 1);
	for (i = 0; i < DNS_CACHE_MAX * 2 + 5; i++) {
		snprintf(name, sizeof(name), "n%d.example", i);
		dns_cache_put(c, name, 16, &a, 0);
		CHECK(dns_cache_count(c) <= DNS_CACHE_MAX);
	}
	dns_cache_free(&c);
}

/*
 * The bytes held are capped, not only the entries: 4096 answers of 16 KiB
 * would be 64 MiB, which anyone serving a large wildcard TXT could make
 * us hold for an hour through SPF or DKIM lookups of random names.
 */
TEST(dns_cache_bytes_are_bounded)
{
	struct dns_cache *c = dns_cache_new();
	static char big[DNS_CACHE_RDATA_MAX];
	char *data[] = { big, NULL }, name[64];
	int len[] = { (int)sizeof(big) };
	struct dns_answer a = answer(DNS_OK, 3600, data, len, 1), got;
	size_t fit = 0;
	int i;

	memset(big, 't', sizeof(big));
	for (i = 0; i < DNS_CACHE_MAX; i++) {
		snprintf(name, sizeof(name), "r%d.wild.example", i);
		dns_cache_put(c, name, 16, &a, 0);
		CHECK(dns_cache_bytes(c) <= DNS_CACHE_BYTES_MAX);
		fit = MAX(fit, dns_cache_count(c));
	}
	CHECK(fit >= DNS_CACHE_BYTES_MAX / (DNS_CACHE_RDATA_MAX + 1024) - 1);
	CHECK(fit <= DNS_CACHE_BYTES_MAX / DNS_CACHE_RDATA_MAX);
	/* The last one put is there. */
	CHECK(dns_cache_get(c, name, 16, 0, &got));
	CHECK_EQ_INT(got.len[0], DNS_CACHE_RDATA_MAX);
	dns_cache_free(&c);
}

/* Room is made from the expired entries first, the fresh ones stay. */
TEST(dns_cache_full_drops_expired_first)
{
	struct dns_cache *c = dns_cache_new();
	static char big[DNS_CACHE_RDATA_MAX];
	char *data[] = { big, NULL }, name[64];
	int len[] = { (int)sizeof(big) };
	struct dns_answer a = answer(DNS_OK, 60, data, len, 1), got;
	struct dns_answer small = answer(DNS_NODATA, 3600, NULL, NULL, 0);
	int i, n = 0;

	memset(big, 't', sizeof(big));
	dns_cache_put(c, "keep.example", 16, &small, 0);
	/* Short-lived large answers up to the budget. */
	for (i = 0; dns_cache_bytes(c) + 2 * DNS_CACHE_RDATA_MAX <
	    DNS_CACHE_BYTES_MAX; i++) {
		snprintf(name, sizeof(name), "r%d.wild.example", i);
		dns_cache_put(c, name, 16, &a, 0);
		n++;
	}
	CHECK_EQ_INT(dns_cache_count(c), (size_t)n + 1);
	/* Past their TTL, more of them: the expired go, keep.example stays. */
	for (i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "s%d.wild.example", i);
		dns_cache_put(c, name, 16, &a, 100);
	}
	CHECK(dns_cache_get(c, "keep.example", 16, 100, &got));
	CHECK_EQ_INT(got.status, DNS_NODATA);
	CHECK_EQ_INT(dns_cache_count(c), 5);
	CHECK(dns_cache_get(c, "s3.wild.example", 16, 100, &got));
	dns_cache_free(&c);
}
