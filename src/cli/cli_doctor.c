/*
 * cli_doctor.c - `facteur doctor [DOMAIN] [--ip IP]...`: checks, live,
 * what `facteur dns` asks to publish and what the server needs to be
 * reachable, and prints one line per check:
 *
 *	OK   what is right
 *	WARN what is not ideal — fix: how
 *	FAIL what is wrong — fix: how
 *
 * DNS goes through the configured [dns] resolver. The exit status is 1
 * when a check FAILs, else 0 (warnings allowed), so cron can run it. The
 * checks themselves are in cli_doctor_dns.c (MX, A/AAAA, SPF, DKIM,
 * DMARC, PTR), cli_doctor_tls.c (certificate) and cli_doctor_net.c
 * (listeners, relay self-test).
 */
#include "core/common.h"

#include <signal.h>
#include <stdarg.h>

#include "cli/cli.h"
#include "cli/cli_int.h"
#include "config/config.h"
#include "core/dname.h"

void
cli_doctor_say(struct cli_doctor *d, enum cli_doc_level level,
    const char *fix, const char *fmt, ...)
{
	static const char *const names[] = { "OK  ", "WARN", "FAIL" };
	va_list ap;

	printf("%s ", names[level]);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (level != CLI_DOC_OK && fix != NULL)
		printf(" \xe2\x80\x94 fix: %s", fix);	/* an em dash */
	putchar('\n');
	fflush(stdout);
	if (level == CLI_DOC_FAIL)
		d->fails++;
	else if (level == CLI_DOC_WARN)
		d->warns++;
}

static void
cli_doctor_domain(struct cli_doctor *d, const char *domain)
{
	char fix[512];

	if (!config_is_local_domain(d->cfg, domain, strlen(domain))) {
		snprintf(fix, sizeof(fix), "add it to [server] domains in %s",
		    d->cfg->path);
		cli_doctor_say(d, CLI_DOC_FAIL, fix, "domain %s: not one of "
		    "the [server] domains", domain);
	}
	cli_doctor_mx(d, domain);
	cli_doctor_spf(d, domain);
	cli_doctor_dkim(d, domain);
	cli_doctor_dmarc(d, domain);
}

static void
cli_doctor_run(struct cli_doctor *d, const char *domain)
{
	size_t i;

	cli_doctor_host_addrs(d);
	cli_doctor_ptr(d);
	for (i = 0; i < d->cfg->ndomains; i++)
		if (domain == NULL || strcasecmp(domain,
		    d->cfg->domains[i]) == 0)
			cli_doctor_domain(d, d->cfg->domains[i]);
	if (domain != NULL && !config_is_local_domain(d->cfg, domain,
	    strlen(domain)))
		cli_doctor_domain(d, domain);
	cli_doctor_cert(d);
	cli_doctor_listeners(d);
	cli_doctor_relay(d);
}

int
cli_doctor(const struct cli_args *a)
{
	struct cli_doctor d;
	struct config *cfg;
	const char *domain;
	char lower[256];

	memset(&d, 0, sizeof(d));
	if (cli_hostips_args(a->argc, a->argv, &domain, &d.ips) == -1 ||
	    (domain != NULL && (!dname_valid(domain, strlen(domain), 0) ||
	    cstr_copy(lower, sizeof(lower), domain) == -1))) {
		fprintf(stderr, "usage: facteur doctor [DOMAIN] [--ip IP]... "
		    "[-c FILE]\n");
		return 2;
	}
	if (domain != NULL) {
		ascii_lower_inplace(lower, strlen(lower));
		domain = lower;
	}
	if ((cfg = cli_load_config(a)) == NULL)
		return 1;
	/* A listener that hangs up must not kill the doctor (SIGPIPE). */
	signal(SIGPIPE, SIG_IGN);
	d.cfg = cfg;
	if ((d.res = cli_resolver_new(cfg)) == NULL) {
		config_free(&cfg);
		return 1;
	}
	cli_hostips_guess(&d.ips, cfg);
	cli_doctor_run(&d, domain);
	printf("%d problem%s, %d warning%s\n", d.fails, d.fails == 1 ? "" :
	    "s", d.warns, d.warns == 1 ? "" : "s");
	cli_resolver_free(&d.res);
	config_free(&cfg);
	return d.fails > 0 ? 1 : 0;
}
