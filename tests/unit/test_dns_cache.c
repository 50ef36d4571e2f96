/*
 * test_dns_cache.c - the in-process DNS answer cache: what is kept, for
 * how long, under which key, and that it owns its copies.
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
	CHECK_EQ_INT(dns_cache_count(c), 0);	/* the expired one is gone */
	dns_cache_free(&c);
	CHECK(c == NULL);
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
