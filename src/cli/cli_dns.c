/*
 * cli_dns.c - `facteur dns [DOMAIN] [--ip IP]...`: every DNS record a
 * domain served by facteur needs, in zone-file syntax (RFC 1035 5.1),
 * ready to paste: MX, SPF, DKIM, DMARC, TLS-RPT, MTA-STS (with its policy
 * file), the SRV records mail clients look for (RFC 6186, RFC 8314), then
 * the A/AAAA records of the mail host and the PTR of each of its
 * addresses. Without DOMAIN: every [server] domains entry. `facteur
 * setup` ends with the same output, `facteur doctor` checks it live.
 */
#include "core/common.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include "cli/cli.h"
#include "cli/cli_int.h"
#include "config/config.h"
#include "core/dname.h"
#include "dkim/dkim_store.h"

/* A service for RFC 6186 / RFC 8314 SRV records, and its listener. */
struct cli_srv {
	const char		*service;
	enum listener_kind	 kind;
	unsigned		 priority;	/* implicit TLS first */
	bool			 listener;	/* false: no such service */
};

static const struct cli_srv cli_srvs[] = {
	{ "_submissions", LISTEN_SUBMISSIONS, 0, true },
	{ "_submission", LISTEN_SUBMISSION, 10, true },
	{ "_pop3s", LISTEN_POP3S, 0, true },
	{ "_pop3", LISTEN_POP3, 10, true },
	{ "_imaps", LISTEN_SMTP, 0, false },
	{ "_imap", LISTEN_SMTP, 0, false },
};

static void
cli_dns_print_txt(const char *name, const char *text)
{
	printf("%s. IN TXT \"%s\"\n", name, text);
}

static void
cli_dns_print_dkim_one(void *arg, const struct dkim_signer *s)
{
	struct buf rec;
	int *count = arg;

	buf_init(&rec, 8192);
	if (dkim_key_record(s->pkey, s->alg, &rec) == 0) {
		cli_dkim_print_record(s->selector, s->domain, buf_cstr(&rec));
		(*count)++;
	}
	buf_release(&rec);
}

static void
cli_dns_print_dkim(const char *data_dir, const char *domain)
{
	struct dkim_store *st;
	struct buf errors;
	int count = 0;

	printf("\n; DKIM (RFC 6376): the public half of each signing key of "
	    "%s.\n", domain);
	buf_init(&errors, 64 * 1024);
	st = dkim_store_load(data_dir, &errors);
	fputs(buf_cstr(&errors), stderr);
	dkim_store_each(st, domain, cli_dns_print_dkim_one, &count);
	if (count == 0)
		printf("; (no key yet: make one with 'facteur dkim keygen %s', "
		    "or run 'facteur setup %s')\n", domain, domain);
	dkim_store_free(&st);
	buf_release(&errors);
}

/* Each line of text (CRLF or LF ends) as a zone-file comment. */
static void
cli_dns_print_commented(const char *text)
{
	size_t n;

	while (*text != '\0') {
		n = strcspn(text, "\r\n");
		printf(";   %.*s\n", (int)n, text);
		text += n;
		if (*text == '\r')
			text++;
		if (*text == '\n')
			text++;
	}
}

static void
cli_dns_print_policy(const char *domain, const char *mx_host)
{
	struct buf b;
	char id[17], name[300];
	int r;

	buf_init(&b, 4096);
	r = cli_dns_tlsrpt_record(domain, &b);
	printf("\n; TLS reporting (RFC 8460): senders report TLS trouble with "
	    "this server.\n");
	snprintf(name, sizeof(name), "_smtp._tls.%s", domain);
	if (r == 0)
		cli_dns_print_txt(name, buf_cstr(&b));
	buf_reset(&b);
	if (cli_dns_mtasts_policy(mx_host, &b) == -1) {
		buf_release(&b);
		return;
	}
	cli_dns_mtasts_id(buf_data(&b), buf_len(&b), id);
	printf("\n; MTA-STS (RFC 8461): senders insist on TLS with %s.\n"
	    "; facteur serves no HTTPS: put the policy below at\n"
	    ";   https://mta-sts.%s/.well-known/mta-sts.txt\n"
	    "; on a web server with a valid certificate for mta-sts.%s, then "
	    "publish\n; this record. Its id changes whenever the policy "
	    "does.\n", mx_host, domain, domain);
	printf("_mta-sts.%s. IN TXT \"v=STSv1; id=%s\"\n", domain, id);
	printf("; the policy file (its lines end in CRLF):\n");
	cli_dns_print_commented(buf_cstr(&b));
	buf_release(&b);
}

static unsigned
cli_dns_listen_port(const struct config *cfg, enum listener_kind kind)
{
	const struct listen_set *set = &cfg->listen[kind];
	const struct sockaddr_storage *ss;

	if (set->count == 0)
		return 0;
	ss = &set->addrs[0].ss;
	return ntohs(ss->ss_family == AF_INET6 ?
	    ((const struct sockaddr_in6 *)ss)->sin6_port :
	    ((const struct sockaddr_in *)ss)->sin_port);
}

static void
cli_dns_print_srv(const struct config *cfg, const char *domain)
{
	unsigned port;
	size_t i;

	printf("\n; Mail clients (RFC 6186, RFC 8314 5.1): where to send and "
	    "read mail.\n; \"0 0 0 .\" says a service is not offered "
	    "(RFC 2782).\n");
	for (i = 0; i < ARRAY_LEN(cli_srvs); i++) {
		port = cli_srvs[i].listener ? cli_dns_listen_port(cfg,
		    cli_srvs[i].kind) : 0;
		if (port == 0)
			printf("%s._tcp.%s. IN SRV 0 0 0 .\n",
			    cli_srvs[i].service, domain);
		else
			printf("%s._tcp.%s. IN SRV %u 1 %u %s.\n",
			    cli_srvs[i].service, domain,
			    cli_srvs[i].priority, port, cfg->hostname);
	}
	printf("; Thunderbird also tries https://autoconfig.%s/ and Outlook\n"
	    "; https://autodiscover.%s/: facteur serves neither. Without "
	    "them,\n; enter %s and the ports above by hand.\n", domain, domain,
	    cfg->hostname);
}

void
cli_dns_print_domain(const struct config *cfg, const char *data_dir,
    const char *domain)
{
	struct buf b;
	char name[300];

	printf("; ---- %s: mail served by %s\n", domain, cfg->hostname);
	printf("\n; MX (RFC 5321 5.1): mail for %s goes to %s.\n", domain,
	    cfg->hostname);
	printf("%s. IN MX 10 %s.\n", domain, cfg->hostname);
	printf("\n; SPF (RFC 7208): only the MX hosts send mail from %s.\n",
	    domain);
	if (cfg->relay_host)
		printf("; But mail leaves through the smarthost %s ([relay] "
		    "host), from its\n; provider's addresses: add the term "
		    "its provider documents (usually\n; \"include:...\") "
		    "before \"-all\", or receivers fail every message.\n",
		    cfg->relay_host);
	cli_dns_print_txt(domain, cli_dns_spf_record());
	cli_dns_print_dkim(data_dir, domain);
	buf_init(&b, 4096);
	printf("\n; DMARC (RFC 7489): mail failing SPF and DKIM is "
	    "quarantined;\n; daily reports go to postmaster@%s.\n", domain);
	snprintf(name, sizeof(name), "_dmarc.%s", domain);
	if (cli_dns_dmarc_record(domain, &b) == 0)
		cli_dns_print_txt(name, buf_cstr(&b));
	buf_release(&b);
	cli_dns_print_policy(domain, cfg->hostname);
	cli_dns_print_srv(cfg, domain);
}

static void
cli_dns_print_addrs(const struct config *cfg, const struct cli_hostips *ips)
{
	char text[INET6_ADDRSTRLEN];
	size_t i;

	printf("\n; ---- the mail host %s (in the zone that holds it)\n",
	    cfg->hostname);
	if (ips->n == 0) {
		printf("; Its public address was not found (give it with "
		    "'--ip ADDRESS'):\n; %s. IN A <IPv4 address of this "
		    "server>\n; %s. IN AAAA <IPv6 address of this server>\n",
		    cfg->hostname, cfg->hostname);
		return;
	}
	printf("; Addresses from %s.\n", ips->source ? ips->source : "--ip");
	for (i = 0; i < ips->n; i++) {
		cli_ip_text(&ips->ip[i], text, sizeof(text));
		printf("%s. IN %s %s\n", cfg->hostname,
		    ips->ip[i].ss_family == AF_INET ? "A" : "AAAA", text);
	}
}

void
cli_dns_print_host(const struct config *cfg, const struct cli_hostips *ips)
{
	char rev[128];
	size_t i;

	cli_dns_print_addrs(cfg, ips);
	printf("\n; Reverse DNS: not in your zone. Ask the provider of each "
	    "address to set\n; its PTR to %s (receivers check that it "
	    "matches the A/AAAA records).\n", cfg->hostname);
	if (ips->n == 0)
		printf("; <address>.in-addr.arpa. IN PTR %s.\n", cfg->hostname);
	for (i = 0; i < ips->n; i++)
		if (cli_ip_reverse_name(&ips->ip[i], rev, sizeof(rev)) == 0)
			printf("%s. IN PTR %s.\n", rev, cfg->hostname);
}

static int
cli_dns_usage(void)
{
	fprintf(stderr, "usage: facteur dns [DOMAIN] [--ip IP]... "
	    "[-c FILE]\n");
	return 2;
}

int
cli_dns(const struct cli_args *a)
{
	struct cli_hostips ips;
	struct config *cfg;
	const char *domain;
	char lower[256];
	size_t i;

	memset(&ips, 0, sizeof(ips));
	if (cli_hostips_args(a->argc, a->argv, &domain, &ips) == -1)
		return cli_dns_usage();
	if (domain != NULL && (!dname_valid(domain, strlen(domain), 0) ||
	    cstr_copy(lower, sizeof(lower), domain) == -1)) {
		fprintf(stderr, "facteur: '%s' is not a domain name\n", domain);
		return 2;
	}
	if (domain != NULL) {
		ascii_lower_inplace(lower, strlen(lower));
		domain = lower;
	}
	if ((cfg = cli_load_config(a)) == NULL)
		return 1;
	if (domain != NULL && !config_is_local_domain(cfg, domain,
	    strlen(domain)))
		fprintf(stderr, "facteur: warning: %s is not one of the "
		    "[server] domains in %s\n", domain, cfg->path);
	cli_hostips_guess(&ips, cfg);
	for (i = 0; i < cfg->ndomains; i++)
		if (domain == NULL || strcasecmp(domain, cfg->domains[i]) == 0)
			cli_dns_print_domain(cfg, cfg->data_dir,
			    cfg->domains[i]);
	if (domain != NULL && !config_is_local_domain(cfg, domain,
	    strlen(domain)))
		cli_dns_print_domain(cfg, cfg->data_dir, domain);
	printf("\n");
	cli_dns_print_host(cfg, &ips);
	config_free(&cfg);
	return 0;
}
