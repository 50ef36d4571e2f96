/*
 * test_cli_dns.c - the pure helpers of `facteur dns` and `facteur doctor`:
 * the record texts, the MTA-STS policy and its id, which addresses are
 * public, reverse names, and the SPF lookup count (cli_spf_count.c) with
 * a table of records standing in for DNS.
 */
#include "core/common.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include "cli/cli_int.h"
#include "spf/spf_record.h"
#include "unit/unit.h"

TEST(cli_dns_records)
{
	struct buf b;

	buf_init(&b, 4096);
	CHECK_EQ_STR(cli_dns_spf_record(), "v=spf1 mx -all");
	CHECK_EQ_INT(cli_dns_dmarc_record("example.com", &b), 0);
	CHECK_EQ_STR(buf_cstr(&b), "v=DMARC1; p=quarantine; "
	    "rua=mailto:postmaster@example.com");
	buf_reset(&b);
	CHECK_EQ_INT(cli_dns_tlsrpt_record("example.com", &b), 0);
	CHECK_EQ_STR(buf_cstr(&b), "v=TLSRPTv1; rua=mailto:postmaster@example.com");
	buf_release(&b);
}

TEST(cli_dns_mtasts)
{
	char id[17], id2[17];
	struct buf b;

	buf_init(&b, 4096);
	CHECK_EQ_INT(cli_dns_mtasts_policy("mail.example.com", &b), 0);
	CHECK_EQ_STR(buf_cstr(&b), "version: STSv1\r\nmode: testing\r\n"
	    "mx: mail.example.com\r\nmax_age: 604800\r\n");
	/* The id: the first 8 bytes of the policy's SHA-256, in hex. */
	cli_dns_mtasts_id("abc", 3, id);
	CHECK_EQ_STR(id, "ba7816bf8f01cfea");
	cli_dns_mtasts_id(buf_data(&b), buf_len(&b), id);
	cli_dns_mtasts_id(buf_data(&b), buf_len(&b), id2);
	CHECK_EQ_STR(id, id2);
	CHECK_EQ_INT(strspn(id, "0123456789abcdef"), 16);
	buf_reset(&b);
	CHECK_EQ_INT(cli_dns_mtasts_policy("mx.example.com", &b), 0);
	cli_dns_mtasts_id(buf_data(&b), buf_len(&b), id2);
	CHECK(strcmp(id, id2) != 0);
	buf_release(&b);
}

static const struct {
	const char	*ip;
	bool		 public;
	const char	*reverse;
} cli_ip_cases[] = {
	{ "192.0.2.1", false, "1.2.0.192.in-addr.arpa" },	/* TEST-NET-1 */
	{ "198.51.100.7", false, "7.100.51.198.in-addr.arpa" },
	{ "203.0.113.255", false, "255.113.0.203.in-addr.arpa" },
	{ "127.0.0.1", false, "1.0.0.127.in-addr.arpa" },
	{ "10.1.2.3", false, NULL },
	{ "172.16.0.1", false, NULL },
	{ "172.31.255.255", false, NULL },
	{ "172.32.0.1", true, NULL },
	{ "192.168.1.1", false, NULL },
	{ "100.64.0.1", false, NULL },		/* CGN */
	{ "100.128.0.1", true, NULL },
	{ "169.254.1.1", false, NULL },
	{ "0.1.2.3", false, NULL },
	{ "224.0.0.1", false, NULL },
	{ "255.255.255.255", false, NULL },
	{ "198.18.0.1", false, NULL },
	{ "198.20.0.1", true, NULL },
	{ "8.8.8.8", true, "8.8.8.8.in-addr.arpa" },
	{ "93.184.216.34", true, "34.216.184.93.in-addr.arpa" },
	{ "2001:db8::1", false, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
	    "8.b.d.0.1.0.0.2.ip6.arpa" },
	{ "2a01:4f8:c17:1::25", true, "5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
	    "1.0.0.0.7.1.c.0.8.f.4.0.1.0.a.2.ip6.arpa" },
	{ "::1", false, NULL },
	{ "fe80::1", false, NULL },
	{ "fd00::1", false, NULL },
	{ "ff02::1", false, NULL },
	{ "::ffff:8.8.8.8", false, NULL },	/* mapped: not as IPv6 */
};

TEST(cli_ip_public_and_reverse)
{
	struct cli_hostips h;
	char rev[128], text[64];
	size_t i;

	for (i = 0; i < ARRAY_LEN(cli_ip_cases); i++) {
		memset(&h, 0, sizeof(h));
		CHECKF(cli_hostips_add_text(&h, cli_ip_cases[i].ip) == 0,
		    "%s does not parse", cli_ip_cases[i].ip);
		CHECK_EQ_INT(h.n, 1);
		CHECKF(cli_ip_is_public(&h.ip[0]) == cli_ip_cases[i].public,
		    "%s: public should be %d", cli_ip_cases[i].ip,
		    cli_ip_cases[i].public);
		cli_ip_text(&h.ip[0], text, sizeof(text));
		CHECK_EQ_STR(text, cli_ip_cases[i].ip);
		if (cli_ip_cases[i].reverse == NULL)
			continue;
		CHECK_EQ_INT(cli_ip_reverse_name(&h.ip[0], rev, sizeof(rev)),
		    0);
		CHECK_EQ_STR(rev, cli_ip_cases[i].reverse);
	}
}

TEST(cli_hostips_list)
{
	struct cli_hostips h;
	char rev[20];
	int i;

	memset(&h, 0, sizeof(h));
	CHECK_EQ_INT(cli_hostips_add_text(&h, "mail.example.com"), -1);
	CHECK_EQ_INT(cli_hostips_add_text(&h, "1.2.3.04"), -1);
	CHECK_EQ_INT(cli_hostips_add_text(&h, "192.0.2.1"), 0);
	CHECK_EQ_INT(cli_hostips_add_text(&h, "192.0.2.1"), 0);	/* dup */
	CHECK_EQ_INT(cli_hostips_add_text(&h, "2001:DB8::1"), 0);
	CHECK_EQ_INT(cli_hostips_add_text(&h, "2001:db8:0::1"), 0);
	CHECK_EQ_INT(h.n, 2);
	CHECK(!cli_ip_eq(&h.ip[0], &h.ip[1]));
	/* A name that does not fit is refused, not cut. */
	CHECK_EQ_INT(cli_ip_reverse_name(&h.ip[1], rev, sizeof(rev)), -1);
	for (i = 0; i < 40; i++) {
		char ip[32];

		snprintf(ip, sizeof(ip), "198.51.100.%d", i);
		CHECK_EQ_INT(cli_hostips_add_text(&h, ip), 0);
	}
	CHECK_EQ_INT(h.n, CLI_HOSTIPS_MAX);
}

/* A zone of SPF records for the counter. */
static const struct {
	const char	*domain;
	const char	*record;
} cli_spf_zone[] = {
	{ "one.test", "v=spf1 ip4:192.0.2.0/24 -all" },
	{ "two.test", "v=spf1 a mx -all" },
	{ "nested.test", "v=spf1 include:two.test include:one.test ~all" },
	{ "loop.test", "v=spf1 include:loop.test -all" },
	{ "nine.test", "v=spf1 a:1.test a:2.test a:3.test a:4.test a:5.test "
	    "a:6.test a:7.test a:8.test a:9.test -all" },
	{ "broken.test", "v=spf1 moo" },
};

static int
cli_spf_zone_fetch(void *arg, const char *domain, struct buf *out)
{
	size_t i;

	(*(int *)arg)++;
	for (i = 0; i < ARRAY_LEN(cli_spf_zone); i++)
		if (strcmp(domain, cli_spf_zone[i].domain) == 0)
			return buf_adds(out, cli_spf_zone[i].record) == 0 ? 1 :
			    -1;
	return 0;
}

static const struct {
	const char	*record;
	int		 lookups;
} cli_spf_cases[] = {
	{ "v=spf1 -all", 0 },
	{ "v=spf1 mx -all", 1 },
	{ "v=spf1 ip4:192.0.2.1 ip6:2001:db8::/32 -all", 0 },
	{ "v=spf1 a mx ptr exists:%{i}.e.test -all", 4 },
	{ "v=spf1 include:one.test -all", 1 },
	{ "v=spf1 include:nested.test -all", 5 },
	{ "v=spf1 include:missing.test -all", 1 },
	{ "v=spf1 include:broken.test -all", 1 },
	{ "v=spf1 mx include:nine.test -all", 11 },
	{ "v=spf1 redirect=two.test", 3 },
	{ "v=spf1 -all redirect=two.test", 0 },	/* RFC 7208 6.1: ignored */
	{ "v=spf1 include:%{d}.test -all", 1 },	/* macros not followed */
	{ "v=spf1 include:loop.test", SPF_LOOKUPS_MAX + 1 },
};

TEST(cli_spf_count)
{
	const char *why;
	size_t i;
	int fetches = 0, n;

	for (i = 0; i < ARRAY_LEN(cli_spf_cases); i++) {
		n = cli_spf_count_lookups(cli_spf_cases[i].record,
		    cli_spf_zone_fetch, &fetches, &why);
		CHECKF(n == cli_spf_cases[i].lookups, "%s: got %d lookups, "
		    "want %d", cli_spf_cases[i].record, n,
		    cli_spf_cases[i].lookups);
	}
	CHECK_EQ_INT(cli_spf_count_lookups("v=spf1 a:", cli_spf_zone_fetch,
	    &fetches, &why), -1);
	CHECK_EQ_INT(cli_spf_count_lookups("spf1 -all", cli_spf_zone_fetch,
	    &fetches, &why), -1);
	/* A loop stops once the count passes the limit. */
	fetches = 0;
	(void)cli_spf_count_lookups("v=spf1 include:loop.test",
	    cli_spf_zone_fetch, &fetches, &why);
	CHECK(fetches <= SPF_LOOKUPS_MAX + 1);
}
