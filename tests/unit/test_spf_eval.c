/*
 * test_spf_eval.c - the asynchronous contract of spf_check_start(): done
 * is never called from inside it, even when the result is known at once
 * (RFC 7208 4.3: none for a malformed domain), and spf_check_cancel()
 * with queries in flight stops everything and frees it all (checked by
 * LeakSanitizer in the SANITIZE build). DNS goes to a closed loopback
 * port: no test here needs a server or the network.
 */
#include "core/common.h"

#include <arpa/inet.h>
#include <event2/event.h>

#include "dns/dns.h"
#include "spf/spf.h"
#include "unit/unit.h"

#if defined(__SANITIZE_ADDRESS__)
#define SPF_TEST_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SPF_TEST_LSAN 1
#endif
#endif
#ifdef SPF_TEST_LSAN
#include <sanitizer/lsan_interface.h>
#endif

struct seen {
	int		 calls;
	enum spf_result	 result;
	bool		 starting;
	bool		 during_start;
};

static void
on_done(void *arg, enum spf_result result, const char *explanation,
    const char *why)
{
	struct seen *s = arg;

	s->calls++;
	s->result = result;
	s->during_start = s->during_start || s->starting;
	CHECK(explanation == NULL);
	CHECK(why != NULL);
}

static void
request(struct spf_request *req, const char *ip, const char *sender,
    const char *helo)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&req->ip;

	memset(req, 0, sizeof(*req));
	if (ip != NULL) {
		sin->sin_family = AF_INET;
		inet_pton(AF_INET, ip, &sin->sin_addr);
	}
	req->sender = sender;
	req->helo = helo;
	req->receiver = "mx.example.test";
}

/* Runs the loop until done was called or about two seconds passed. */
static void
run_until_done(struct event_base *base, struct seen *s)
{
	struct timeval tick = { 0, 10000 };
	int i;

	for (i = 0; i < 200 && s->calls == 0; i++) {
		event_base_loopexit(base, &tick);
		event_base_dispatch(base);
	}
}

static void
check_none_later(const char *ip, const char *sender, const char *helo)
{
	struct event_base *base = event_base_new();
	struct spf_request req;
	struct seen s = { 0, SPF_PASS, true, false };
	struct buf err;
	struct dns *dns;

	buf_init(&err, 1024);
	dns = dns_new(base, "127.0.0.1:9", &err);
	CHECK(dns != NULL);
	request(&req, ip, sender, helo);
	CHECK(spf_check_start(dns, &req, on_done, &s) != NULL);
	s.starting = false;
	CHECK_EQ_INT(s.calls, 0);
	run_until_done(base, &s);
	CHECKF(s.calls == 1 && !s.during_start, "%s %s: done called %d "
	    "times%s", sender, helo, s.calls, s.during_start ?
	    ", from inside spf_check_start" : "");
	CHECK_EQ_INT(s.result, SPF_NONE);
	dns_free(&dns);
	event_base_free(base);
	buf_release(&err);
}

TEST(spf_eval_none_is_later)
{
	check_none_later("192.0.2.1", "alice@bad..example", "h.example");
	check_none_later("192.0.2.1", "alice@localhost", "h.example");
	check_none_later("192.0.2.1", "alice@[192.0.2.1]", "h.example");
	check_none_later("192.0.2.1", "", "192.0.2.1");
	check_none_later("192.0.2.1", "alice@example.123", "h.example");
	check_none_later("192.0.2.1", "", "");
	check_none_later(NULL, "alice@example.test", "h.example");
}

TEST(spf_eval_cancel_in_flight)
{
	struct event_base *base = event_base_new();
	struct timeval tick = { 0, 50000 };
	struct spf_check *chk[3];
	struct spf_request req;
	struct seen s = { 0, SPF_PASS, false, false };
	struct buf err;
	struct dns *dns;
	size_t i;

	buf_init(&err, 1024);
	dns = dns_new(base, "127.0.0.1:9", &err);
	CHECK(dns != NULL);
	request(&req, "192.0.2.1", "alice@example.test", "h.example.test");
	for (i = 0; i < ARRAY_LEN(chk); i++)
		chk[i] = spf_check_start(dns, &req, on_done, &s);
	event_base_loopexit(base, &tick);
	event_base_dispatch(base);
	for (i = 0; i < ARRAY_LEN(chk); i++) {
		spf_check_cancel(chk[i]);
		chk[i] = NULL;		/* so a leak is unreachable */
	}
	spf_check_cancel(NULL);
	/* Answers arriving now must find no callback to call. */
	event_base_loopexit(base, &tick);
	event_base_dispatch(base);
	CHECK_EQ_INT(s.calls, 0);
	dns_free(&dns);
	event_base_free(base);
	buf_release(&err);
#ifdef SPF_TEST_LSAN
	CHECK_EQ_INT(__lsan_do_recoverable_leak_check(), 0);
#endif
}

TEST(spf_eval_result_names)
{
	CHECK_EQ_STR(spf_result_name(SPF_NONE), "none");
	CHECK_EQ_STR(spf_result_name(SPF_NEUTRAL), "neutral");
	CHECK_EQ_STR(spf_result_name(SPF_PASS), "pass");
	CHECK_EQ_STR(spf_result_name(SPF_FAIL), "fail");
	CHECK_EQ_STR(spf_result_name(SPF_SOFTFAIL), "softfail");
	CHECK_EQ_STR(spf_result_name(SPF_TEMPERROR), "temperror");
	CHECK_EQ_STR(spf_result_name(SPF_PERMERROR), "permerror");
}
