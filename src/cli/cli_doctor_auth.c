/*
 * cli_doctor_auth.c - the doctor's checks of what makes receivers trust
 * the domain's mail: the SPF record (RFC 7208: exactly one, at most 10
 * DNS lookups, and it authorizes this host's addresses, evaluated by the
 * server's own SPF code) and a DKIM record (RFC 6376 3.6) for every
 * signing key on disk, holding that key.
 */
#include "core/common.h"

#include <arpa/inet.h>
#include <limits.h>
#include <openssl/evp.h>

#include "cli/cli_int.h"
#include "config/config.h"
#include "dkim/dkim_store.h"
#include "spf/spf_record.h"

/* cli_spf_fetch_fn over the doctor's resolver: exactly one record. */
static int
cli_doctor_spf_fetch(void *arg, const char *domain, struct buf *out)
{
	struct cli_doctor *d = arg;
	enum dns_status st;
	struct buf recs;
	int n, r = 0;

	buf_init(&recs, 65536);
	n = cli_resolve_txt(d->res, domain, "v=spf1", &recs, &st);
	if (n == 1)
		r = buf_add(out, buf_data(&recs), strcspn(buf_cstr(&recs),
		    "\n")) == 0 ? 1 : -1;
	buf_release(&recs);
	return n == -1 ? -1 : r;
}

/* SPF of domain for each host address, with postmaster@domain. */
static bool
cli_doctor_spf_hosts(struct cli_doctor *d, const char *domain)
{
	char sender[300], text[INET6_ADDRSTRLEN], fix[512];
	struct spf_request req;
	enum spf_result res;
	const char *why;
	size_t i;
	bool ok = true;

	snprintf(sender, sizeof(sender), "postmaster@%s", domain);
	for (i = 0; i < d->ips.n; i++) {
		memset(&req, 0, sizeof(req));
		req.ip = d->ips.ip[i];
		req.sender = sender;
		req.helo = d->cfg->hostname;
		req.receiver = d->cfg->hostname;
		res = cli_resolve_spf(d->res, &req, &why);
		if (res == SPF_PASS)
			continue;
		cli_ip_text(&d->ips.ip[i], text, sizeof(text));
		if (d->mx_missing)
			snprintf(fix, sizeof(fix), "publish the MX record "
			    "above: \"mx\" authorizes the MX hosts");
		else if (d->addr_missing)
			snprintf(fix, sizeof(fix), "publish the A/AAAA "
			    "records above: \"mx\" authorizes the addresses "
			    "of the MX hosts");
		else
			snprintf(fix, sizeof(fix), "add \"mx\" (or \"%s:%s\") "
			    "to the record, before its \"all\"",
			    d->ips.ip[i].ss_family == AF_INET ? "ip4" : "ip6",
			    text);
		cli_doctor_say(d, CLI_DOC_FAIL, fix, "spf %s: %s for %s, not "
		    "pass (%s)", domain, spf_result_name(res), text,
		    why ? why : "no reason given");
		ok = false;
	}
	return ok;
}

/* The record passes for every address the doctor knows for this host. */
static void
cli_doctor_spf_pass(struct cli_doctor *d, const char *domain,
    const char *record, int lookups)
{
	if (d->ips.source != NULL && strcmp(d->ips.source, "DNS") == 0)
		/* "mx" authorizes exactly what DNS gave: proves little. */
		cli_doctor_say(d, CLI_DOC_WARN, "give them with --ip ADDRESS",
		    "spf %s: \"%s\" passes for the addresses DNS gives for "
		    "%s; this host's own are unknown", domain, record,
		    d->cfg->hostname);
	else
		cli_doctor_say(d, CLI_DOC_OK, NULL, "spf %s: \"%s\" passes "
		    "for this host (%d DNS lookup%s)", domain, record, lookups,
		    lookups == 1 ? "" : "s");
}

void
cli_doctor_spf(struct cli_doctor *d, const char *domain)
{
	char fix[512];
	enum dns_status st;
	const char *why;
	struct buf recs;
	int n, lookups = 0;

	snprintf(fix, sizeof(fix), "publish %s. IN TXT \"%s\"", domain,
	    cli_dns_spf_record());
	buf_init(&recs, 65536);
	n = cli_resolve_txt(d->res, domain, "v=spf1", &recs, &st);
	buf_truncate(&recs, n > 0 ? strcspn(buf_cstr(&recs), "\n") : 0);
	if (n == -1)
		cli_doctor_say(d, CLI_DOC_FAIL, "check [dns] resolver",
		    "spf %s: DNS lookup failed", domain);
	else if (n == 0)
		cli_doctor_say(d, CLI_DOC_FAIL, fix, "spf %s: no SPF record",
		    domain);
	else if (n > 1)	/* RFC 7208 4.5: two records are a permerror */
		cli_doctor_say(d, CLI_DOC_FAIL, "merge them into one record",
		    "spf %s: %d SPF records", domain, n);
	else if ((lookups = cli_spf_count_lookups(buf_cstr(&recs),
	    cli_doctor_spf_fetch, d, &why)) == -1)
		cli_doctor_say(d, CLI_DOC_FAIL, fix, "spf %s: \"%s\" does not "
		    "parse (%s)", domain, buf_cstr(&recs), why);
	else if (lookups > SPF_LOOKUPS_MAX)	/* RFC 7208 4.6.4 */
		cli_doctor_say(d, CLI_DOC_FAIL, "replace includes by ip4:/ip6: "
		    "terms", "spf %s: needs %d DNS lookups, more than %d "
		    "(a permerror)", domain, lookups, SPF_LOOKUPS_MAX);
	else if (d->cfg->relay_host)
		/* This host's addresses are not where the mail comes from. */
		cli_doctor_say(d, CLI_DOC_WARN, "add the term the smarthost's "
		    "provider documents (usually \"include:...\")",
		    "spf %s: \"%s\"; mail leaves through the smarthost %s, "
		    "whose addresses this check does not know", domain,
		    buf_cstr(&recs), d->cfg->relay_host);
	else if (d->ips.n == 0)
		cli_doctor_say(d, CLI_DOC_WARN, "give them with --ip ADDRESS",
		    "spf %s: \"%s\"; this host's addresses are unknown, not "
		    "evaluated", domain, buf_cstr(&recs));
	else if (cli_doctor_spf_hosts(d, domain))
		cli_doctor_spf_pass(d, domain, buf_cstr(&recs), lookups);
	buf_release(&recs);
}

/* The one record found for s: its key must be the one on disk. */
static void
cli_doctor_dkim_judge(struct cli_doctor *d, const struct dkim_signer *s,
    const char *name, const char *record, const char *fix)
{
	char path[PATH_MAX];
	struct dkim_key key;
	const char *why;

	if (dkim_store_path(d->cfg->data_dir, s->domain, s->selector, s->alg,
	    path, sizeof(path)) == -1)
		cstr_copy(path, sizeof(path), "the key file");
	if (dkim_key_parse(str_cstr(record), &key, &why) == -1) {
		cli_doctor_say(d, CLI_DOC_FAIL, fix, "dkim %s: unusable (%s)",
		    name, why);
		return;
	}
	if (key.revoked)
		cli_doctor_say(d, CLI_DOC_FAIL, fix, "dkim %s: the key is "
		    "revoked (empty p=)", name);
	else if (EVP_PKEY_eq(key.pkey, s->pkey) != 1)
		cli_doctor_say(d, CLI_DOC_FAIL, fix, "dkim %s: does not match "
		    "the key in %s", name, path);
	else if (!key.sha256_ok)	/* RFC 6376 3.6.1: h= */
		cli_doctor_say(d, CLI_DOC_FAIL, fix, "dkim %s: h= does not "
		    "allow sha256, the only hash facteur signs with: receivers "
		    "will fail every signature", name);
	else if (key.testing)	/* RFC 6376 3.6.1: t=y */
		cli_doctor_say(d, CLI_DOC_WARN, "remove t=y", "dkim %s: t=y, "
		    "receivers treat signed mail as unsigned", name);
	else
		cli_doctor_say(d, CLI_DOC_OK, NULL, "dkim %s: matches the %s "
		    "key on disk", name, dkim_alg_name(s->alg));
	dkim_key_release(&key);
}

/* One key on disk against its record. */
static void
cli_doctor_dkim_one(struct cli_doctor *d, const struct dkim_signer *s)
{
	char name[400], fix[1024];
	enum dns_status st;
	struct buf recs;
	int n;

	snprintf(name, sizeof(name), "%s._domainkey.%s", s->selector,
	    s->domain);
	snprintf(fix, sizeof(fix), "publish the record 'facteur dns %s' "
	    "prints for %s", s->domain, name);
	buf_init(&recs, 65536);
	n = cli_resolve_txt(d->res, name, "", &recs, &st);
	buf_truncate(&recs, n > 0 ? strcspn(buf_cstr(&recs), "\n") : 0);
	if (n == -1)
		cli_doctor_say(d, CLI_DOC_FAIL, "check [dns] resolver",
		    "dkim %s: DNS lookup failed", name);
	else if (n == 0)
		cli_doctor_say(d, CLI_DOC_FAIL, fix, "dkim %s: no record",
		    name);
	else if (n > 1)
		cli_doctor_say(d, CLI_DOC_FAIL, fix, "dkim %s: %d records, "
		    "receivers may pick any", name, n);
	else
		cli_doctor_dkim_judge(d, s, name, buf_cstr(&recs), fix);
	buf_release(&recs);
}

void
cli_doctor_dkim(struct cli_doctor *d, const char *domain)
{
	const struct dkim_signer *signers[DKIM_SIGNERS_MAX];
	struct dkim_store *st;
	struct buf errors;
	char fix[512];
	size_t i, n;

	buf_init(&errors, 64 * 1024);
	st = dkim_store_load(d->cfg->data_dir, &errors);
	fputs(buf_cstr(&errors), stderr);
	n = dkim_store_signers(st, domain, signers, ARRAY_LEN(signers));
	if (n == 0) {
		snprintf(fix, sizeof(fix), "facteur dkim keygen %s (or "
		    "facteur setup %s), then publish its record", domain,
		    domain);
		cli_doctor_say(d, CLI_DOC_FAIL, fix, "dkim %s: no signing key "
		    "in %s/dkim/%s/: mail leaves unsigned", domain,
		    d->cfg->data_dir, domain);
	}
	for (i = 0; i < n; i++)
		cli_doctor_dkim_one(d, signers[i]);
	dkim_store_free(&st);
	buf_release(&errors);
}
