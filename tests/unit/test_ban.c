/*
 * test_ban.c - networks and client keys (core/cidr.c), per-minute
 * counters (auth/rate.c) and the ban table (auth/ban.c): thresholds,
 * repeat offences, the allowlist, trusted owners, growing delays, and
 * persistence across a "restart" (a new table from the same file).
 */
#include "core/common.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <stdlib.h>
#include <unistd.h>

#include "auth/ban.h"
#include "auth/rate.h"
#include "config/config.h"
#include "core/cidr.h"
#include "core/workq.h"
#include "unit/unit.h"

struct cidr_case {
	const char	*net;
	const char	*ip;
	bool		 in;
};

static const struct cidr_case cidr_cases[] = {
	{ "192.0.2.0/24", "192.0.2.200", true },
	{ "192.0.2.0/24", "192.0.3.1", false },
	{ "192.0.2.7", "192.0.2.7", true },
	{ "192.0.2.7", "192.0.2.8", false },
	{ "10.0.0.0/8", "10.255.255.255", true },
	{ "0.0.0.0/0", "203.0.113.1", true },
	{ "2001:db8::/32", "2001:db8:ffff::1", true },
	{ "2001:db8::/32", "2001:db9::1", false },
	{ "2001:db8:0:1::/64", "2001:db8:0:1:abcd::1", true },
	{ "127.0.0.0/8", "::ffff:127.0.0.5", true },	/* v4-mapped */
	{ "127.0.0.0/8", "::1", false },
	{ "::1", "::1", true },
	{ "192.0.2.0/25", "192.0.2.128", false },
	{ "192.0.2.0/25", "192.0.2.127", true },
};

TEST(cidr_contains_table)
{
	struct cidr net;
	size_t i;

	for (i = 0; i < ARRAY_LEN(cidr_cases); i++) {
		const struct cidr_case *c = &cidr_cases[i];

		CHECKF(cidr_parse(c->net, strlen(c->net), &net) == 0,
		    "parse %s", c->net);
		CHECKF(cidr_contains(&net, c->ip) == c->in, "%s in %s: got %d",
		    c->ip, c->net, !c->in);
	}
}

TEST(cidr_parse_refuses)
{
	static const char *const bad[] = { "", "1.2.3", "1.2.3.4/33",
	    "::1/129", "1.2.3.4/", "1.2.3.4/x", "host.example", "1.2.3.4/-1",
	    "1.2.3.4 /8" };
	struct cidr net;
	size_t i;

	for (i = 0; i < ARRAY_LEN(bad); i++)
		CHECKF(cidr_parse(bad[i], strlen(bad[i]), &net) == -1,
		    "accepted %s", bad[i]);
}

TEST(cidr_client_keys)
{
	char k[80];

	CHECK_EQ_INT(cidr_client_key("203.0.113.9", k, sizeof(k)), 0);
	CHECK_EQ_STR(k, "203.0.113.9");
	/* One IPv6 customer: its /64. */
	CHECK_EQ_INT(cidr_client_key("2001:db8:1:2:3:4:5:6", k, sizeof(k)),
	    0);
	CHECK_EQ_STR(k, "2001:db8:1:2::/64");
	CHECK_EQ_INT(cidr_client_key("2001:db8:1:2:ffff::1", k, sizeof(k)),
	    0);
	CHECK_EQ_STR(k, "2001:db8:1:2::/64");
	CHECK_EQ_INT(cidr_client_key("nonsense", k, sizeof(k)), -1);
}

TEST(rate_windows)
{
	struct rate_table *t = rate_new(60);
	int i;

	for (i = 0; i < 3; i++)
		CHECK(rate_take(t, "alice", 1, 3));
	CHECK(!rate_take(t, "alice", 1, 3));
	CHECK(rate_take(t, "bob", 3, 3));
	CHECK(!rate_take(t, "bob", 1, 3));
	CHECK(!rate_take(t, "carol", 4, 3));	/* never more than the limit */
	CHECK(rate_take(t, "carol", 1, 0));	/* 0: no limit */
	rate_free(&t);
	CHECK(t == NULL);
}

/* A table over a scratch data_dir, with a real loop and workers. */
struct ban_fixture {
	char		 dir[64];
	struct config	 cfg;
	struct event_base *base;
	struct workq	*wq;
	struct ban_table *t;
};

static void
ban_fixture_init(struct ban_fixture *fx, const char *allow)
{
	memset(fx, 0, sizeof(*fx));
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/facteur-test-ban.XXXXXX");
	CHECK(mkdtemp(fx->dir) != NULL);
	fx->cfg.data_dir = fx->dir;
	fx->cfg.ban_max_failures = 3;
	fx->cfg.ban_window = 600;
	fx->cfg.ban_times[0] = 900;
	fx->cfg.ban_times[1] = 3600;
	fx->cfg.nban_times = 2;
	fx->cfg.ban_trust_period = 86400;
	fx->cfg.ban_account_failures = 2;
	fx->cfg.ban_max_delay_ms = 8000;
	if (allow)
		CHECK(cidr_parse(allow, strlen(allow), &fx->cfg.ban_allow.v[
		    fx->cfg.ban_allow.n++]) == 0);
	fx->base = event_base_new();
	fx->wq = workq_new(fx->base, 1);
	fx->t = ban_new(&fx->cfg, fx->wq);
}

/* Flushes writes and frees the table (a clean stop). */
static void
ban_fixture_stop(struct ban_fixture *fx)
{
	ban_close(fx->t);
	workq_free(&fx->wq);
	ban_free(&fx->t);
	event_base_free(fx->base);
}

static void
ban_fixture_release(struct ban_fixture *fx)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/bans", fx->dir);
	unlink(path);
	rmdir(fx->dir);
}

TEST(ban_threshold_and_repeat)
{
	struct ban_fixture fx;
	time_t until;

	ban_fixture_init(&fx, NULL);
	CHECK(!ban_failed(fx.t, "198.51.100.7", "alice@example.test"));
	CHECK(!ban_failed(fx.t, "198.51.100.7", "bob@example.test"));
	CHECK(!ban_check(fx.t, "198.51.100.7", NULL));
	CHECK(ban_failed(fx.t, "198.51.100.7", "carol@example.test"));
	CHECK(ban_check(fx.t, "198.51.100.7", &until));
	CHECK(until > time(NULL) + 800 && until <= time(NULL) + 900);
	CHECK(!ban_check(fx.t, "198.51.100.8", NULL));
	/* IPv6: the whole /64 is one client. */
	CHECK(!ban_failed(fx.t, "2001:db8:1:2::1", "a@example.test"));
	CHECK(!ban_failed(fx.t, "2001:db8:1:2::2", "a@example.test"));
	CHECK(ban_failed(fx.t, "2001:db8:1:2::3", "a@example.test"));
	CHECK(ban_check(fx.t, "2001:db8:1:2:dead::beef", NULL));
	CHECK(!ban_check(fx.t, "2001:db8:1:3::1", NULL));
	/* A second offence gets the second duration. */
	CHECK_EQ_INT(ban_del(fx.t, "198.51.100.7"), 0);
	CHECK(!ban_check(fx.t, "198.51.100.7", NULL));
	CHECK_EQ_INT(ban_add(fx.t, "198.51.100.7", 60), 0);
	CHECK(ban_check(fx.t, "198.51.100.7", &until));
	CHECK(until <= time(NULL) + 60);
	ban_fixture_stop(&fx);
	ban_fixture_release(&fx);
}

TEST(ban_allowlist_and_trust)
{
	struct ban_fixture fx;
	int i;

	ban_fixture_init(&fx, "192.0.2.0/24");
	for (i = 0; i < 10; i++)
		CHECK(!ban_failed(fx.t, "192.0.2.50", "alice@example.test"));
	CHECK(!ban_check(fx.t, "192.0.2.50", NULL));
	/* The owner logged in from here: typos never ban it. */
	ban_succeeded(fx.t, "203.0.113.5", "alice@example.test");
	for (i = 0; i < 10; i++)
		CHECK(!ban_failed(fx.t, "203.0.113.5", "alice@example.test"));
	CHECK(!ban_check(fx.t, "203.0.113.5", NULL));
	/* ...but another account's failures from there still count. */
	CHECK(!ban_failed(fx.t, "203.0.113.5", "bob@example.test"));
	CHECK(!ban_failed(fx.t, "203.0.113.5", "bob@example.test"));
	CHECK(ban_failed(fx.t, "203.0.113.5", "bob@example.test"));
	ban_fixture_stop(&fx);
	ban_fixture_release(&fx);
}

TEST(ban_delays_grow_but_not_for_the_owner)
{
	struct ban_fixture fx;

	ban_fixture_init(&fx, NULL);
	CHECK_EQ_INT(ban_delay_ms(fx.t, "198.51.100.1", "a@x.test", 100), 100);
	ban_failed(fx.t, "198.51.100.1", "a@x.test");
	ban_failed(fx.t, "198.51.100.1", "a@x.test");
	CHECK_EQ_INT(ban_delay_ms(fx.t, "198.51.100.1", "a@x.test", 100), 200);
	/* The account is under attack from elsewhere: slower for strangers. */
	ban_failed(fx.t, "198.51.100.2", "a@x.test");
	CHECK(ban_delay_ms(fx.t, "198.51.100.3", "a@x.test", 100) > 100);
	CHECK(ban_delay_ms(fx.t, "198.51.100.3", "a@x.test", 100) <= 8000);
	/* The trusted owner is not slowed down by the attack. */
	ban_succeeded(fx.t, "203.0.113.9", "a@x.test");
	CHECK_EQ_INT(ban_delay_ms(fx.t, "203.0.113.9", "a@x.test", 100), 100);
	ban_fixture_stop(&fx);
	ban_fixture_release(&fx);
}

TEST(ban_survives_restart)
{
	struct ban_fixture fx;
	struct ban_table *again;
	struct workq *wq;
	struct event_base *base;

	ban_fixture_init(&fx, NULL);
	ban_failed(fx.t, "198.51.100.9", "a@x.test");
	ban_failed(fx.t, "198.51.100.9", "a@x.test");
	CHECK(ban_failed(fx.t, "198.51.100.9", "a@x.test"));
	ban_succeeded(fx.t, "203.0.113.1", "owner@x.test");
	ban_fixture_stop(&fx);
	base = event_base_new();
	wq = workq_new(base, 1);
	again = ban_new(&fx.cfg, wq);
	CHECK(ban_check(again, "198.51.100.9", NULL));
	/* Trust came back too: the owner's typos still do not count. */
	CHECK(!ban_failed(again, "203.0.113.1", "owner@x.test"));
	CHECK(!ban_failed(again, "203.0.113.1", "owner@x.test"));
	CHECK(!ban_failed(again, "203.0.113.1", "owner@x.test"));
	ban_close(again);
	workq_free(&wq);
	ban_free(&again);
	event_base_free(base);
	ban_fixture_release(&fx);
}

TEST(cidr_sockaddr_text_and_loopback)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_port = htons(2525) };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6,
	    .sin6_port = htons(587) };
	char ip[64];
	uint16_t port = 0;

	inet_pton(AF_INET, "127.3.4.5", &sin.sin_addr);
	cidr_sockaddr_text((struct sockaddr *)&sin, ip, sizeof(ip), &port);
	CHECK_EQ_STR(ip, "127.3.4.5");
	CHECK_EQ_INT(port, 2525);
	CHECK(cidr_sockaddr_is_loopback((struct sockaddr *)&sin));
	inet_pton(AF_INET, "192.0.2.1", &sin.sin_addr);
	CHECK(!cidr_sockaddr_is_loopback((struct sockaddr *)&sin));

	inet_pton(AF_INET6, "::1", &sin6.sin6_addr);
	cidr_sockaddr_text((struct sockaddr *)&sin6, ip, sizeof(ip), &port);
	CHECK_EQ_STR(ip, "::1");
	CHECK_EQ_INT(port, 587);
	CHECK(cidr_sockaddr_is_loopback((struct sockaddr *)&sin6));
	inet_pton(AF_INET6, "2001:db8::1", &sin6.sin6_addr);
	cidr_sockaddr_text((struct sockaddr *)&sin6, ip, sizeof(ip), NULL);
	CHECK_EQ_STR(ip, "2001:db8::1");
	CHECK(!cidr_sockaddr_is_loopback((struct sockaddr *)&sin6));
}
