/*
 * cli_spf.c - `facteur spf IP SENDER [HELO]`: run the SPF check (RFC
 * 7208) the server would run for a client, through the configured [dns]
 * resolver, and print "<result>[: explanation]". The sender may be ""
 * (a bounce): then the HELO name is checked (RFC 7208 2.4). The reason
 * for the result goes to stderr. Exit 0 whatever the result: it is an
 * answer, not a failure of the command. After CLI_SPF_TIME seconds the
 * check is given up as a temperror (RFC 7208 4.6.4: at least 20 s).
 */
#include "core/common.h"

#include <arpa/inet.h>
#include <event2/event.h>

#include "cli/cli.h"
#include "config/config.h"
#include "core/log.h"
#include "dns/dns.h"
#include "spf/spf.h"

#define CLI_SPF_TIME	20

struct cli_spf_state {
	struct event_base *base;
	struct spf_check *chk;
	enum spf_result	 result;
	char		*explanation;
	const char	*why;
};

static void
cli_spf_done(void *arg, enum spf_result result, const char *explanation,
    const char *why)
{
	struct cli_spf_state *st = arg;

	st->result = result;
	st->explanation = explanation ? xstrdup(explanation) : NULL;
	st->why = why;
	st->chk = NULL;
	event_base_loopbreak(st->base);
}

static void
cli_spf_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct cli_spf_state *st = arg;

	(void)fd;
	(void)what;
	spf_check_cancel(st->chk);
	st->chk = NULL;
	st->result = SPF_TEMPERROR;
	st->why = "time limit reached";
	event_base_loopbreak(st->base);
}

/* Built in typed locals and copied: no aliasing through casts. */
static int
cli_spf_ip(const char *text, struct sockaddr_storage *ss)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;

	memset(ss, 0, sizeof(*ss));
	memset(&sin, 0, sizeof(sin));
	memset(&sin6, 0, sizeof(sin6));
	if (inet_pton(AF_INET, text, &sin.sin_addr) == 1) {
		sin.sin_family = AF_INET;
		memcpy(ss, &sin, sizeof(sin));
		return 0;
	}
	if (inet_pton(AF_INET6, text, &sin6.sin6_addr) == 1) {
		sin6.sin6_family = AF_INET6;
		memcpy(ss, &sin6, sizeof(sin6));
		return 0;
	}
	return -1;
}

/* Runs one check on its own loop; 0, or -1 if DNS cannot be set up. */
static int
cli_spf_run(const struct config *cfg, struct spf_request *req,
    struct cli_spf_state *st)
{
	struct timeval limit = { CLI_SPF_TIME, 0 };
	struct event *timer;
	struct dns *dns;
	struct buf err;

	buf_init(&err, 4096);
	st->base = event_base_new();
	if (st->base == NULL)
		fatal("event_base_new failed");
	dns = dns_new(st->base, cfg->dns_resolver, &err);
	if (dns == NULL) {
		fprintf(stderr, "facteur spf: %s", buf_cstr(&err));
		buf_release(&err);
		event_base_free(st->base);
		return -1;
	}
	req->receiver = cfg->hostname;
	timer = evtimer_new(st->base, cli_spf_timeout, st);
	if (timer == NULL || evtimer_add(timer, &limit) == -1)
		fatal("cannot set a timer");
	st->chk = spf_check_start(dns, req, cli_spf_done, st);
	event_base_dispatch(st->base);
	event_free(timer);
	dns_free(&dns);
	event_base_free(st->base);
	buf_release(&err);
	return 0;
}

int
cli_spf(const struct cli_args *a)
{
	struct cli_spf_state st = { NULL, NULL, SPF_NONE, NULL, NULL };
	struct spf_request req;
	struct config *cfg;
	const char *at;
	int r;

	memset(&req, 0, sizeof(req));
	if (a->argc < 2 || a->argc > 3 || cli_spf_ip(a->argv[0],
	    &req.ip) == -1 || (a->argv[1][0] == '\0' && a->argc < 3)) {
		fprintf(stderr, "usage: facteur spf IP SENDER [HELO] "
		    "[-c FILE]\n  (SENDER may be \"\" for a bounce, then HELO "
		    "is needed)\n");
		return 2;
	}
	req.sender = a->argv[1];
	at = strrchr(req.sender, '@');
	req.helo = a->argc == 3 ? a->argv[2] : at ? at + 1 : req.sender;
	if ((cfg = cli_load_config(a)) == NULL)
		return 1;
	r = cli_spf_run(cfg, &req, &st);
	config_free(&cfg);
	if (r == -1)
		return 1;
	if (st.explanation != NULL)
		printf("%s: %s\n", spf_result_name(st.result), st.explanation);
	else
		printf("%s\n", spf_result_name(st.result));
	if (st.why != NULL)
		fprintf(stderr, "facteur spf: %s\n", st.why);
	free(st.explanation);
	return 0;
}
