/*
 * cli_doctor_dns.c - the doctor's checks of where mail goes: the A/AAAA
 * records of the mail host, the PTR of each of its addresses (forward-
 * confirmed, as receivers check it), each domain's MX (RFC 5321 5.1,
 * RFC 7505 null MX) and DMARC record (RFC 7489).
 */
#include "core/common.h"

#include <arpa/inet.h>

#include "cli/cli_int.h"
#include "config/config.h"
#include "dmarc/dmarc.h"
#include "dns/dns_rr.h"

/* "1.2.3.4, 2001:db8::1" */
static void
cli_doctor_ip_list(const struct cli_hostips *h, char *out, size_t size)
{
	char text[INET6_ADDRSTRLEN];
	size_t i, used = 0;
	int n;

	out[0] = '\0';
	for (i = 0; i < h->n && used < size; i++) {
		cli_ip_text(&h->ip[i], text, sizeof(text));
		n = snprintf(out + used, size - used, "%s%s", i ? ", " : "",
		    text);
		if (n < 0)
			break;
		used += (size_t)n;
	}
}

static bool
cli_doctor_has_ip(const struct cli_hostips *h,
    const struct sockaddr_storage *ss)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		if (cli_ip_eq(&h->ip[i], ss))
			return true;
	return false;
}

/* Adds the A or AAAA records of name to h; the DNS status. */
static enum dns_status
cli_doctor_lookup_addrs(struct cli_doctor *d, const char *name, int type,
    struct cli_hostips *h)
{
	struct sockaddr_storage ss;
	struct cli_rrset rr;
	enum dns_status st;
	socklen_t sslen;
	int i;

	cli_resolve(d->res, name, type, &rr);
	for (i = 0; i < rr.count; i++)
		if (dns_rr_addr(type, rr.data[i], rr.len[i], 0, &ss,
		    &sslen) == 0)
			cli_hostips_add(h, &ss);
	st = rr.status;
	cli_rrset_release(&rr);
	return st;
}

/* Each of our addresses must have its A/AAAA record. */
static void
cli_doctor_addrs_match(struct cli_doctor *d)
{
	const char *host = d->cfg->hostname;
	char text[INET6_ADDRSTRLEN], fix[512], list[512];
	size_t i;
	bool ok = true;

	for (i = 0; i < d->ips.n; i++) {
		if (cli_doctor_has_ip(&d->dns_ips, &d->ips.ip[i]))
			continue;
		cli_ip_text(&d->ips.ip[i], text, sizeof(text));
		snprintf(fix, sizeof(fix), "publish %s. IN %s %s", host,
		    d->ips.ip[i].ss_family == AF_INET ? "A" : "AAAA", text);
		cli_doctor_say(d, CLI_DOC_FAIL, fix, "a %s: no record for "
		    "%s (an address of this host, from %s)", host, text,
		    d->ips.source);
		d->addr_missing = true;
		ok = false;
	}
	cli_doctor_ip_list(&d->dns_ips, list, sizeof(list));
	if (ok)
		cli_doctor_say(d, CLI_DOC_OK, NULL, "a %s: %s", host, list);
}

void
cli_doctor_host_addrs(struct cli_doctor *d)
{
	const char *host = d->cfg->hostname;
	enum dns_status s4, s6;
	char fix[512], list[512];

	s4 = cli_doctor_lookup_addrs(d, host, DNS_TYPE_A, &d->dns_ips);
	s6 = cli_doctor_lookup_addrs(d, host, DNS_TYPE_AAAA, &d->dns_ips);
	snprintf(fix, sizeof(fix), "publish %s. IN A <address> ('facteur "
	    "dns --ip ADDRESS' prints it)", host);
	if (d->dns_ips.n == 0 && s4 == DNS_TEMPFAIL && s6 == DNS_TEMPFAIL)
		cli_doctor_say(d, CLI_DOC_FAIL, "check [dns] resolver and the "
		    "name servers of the zone", "a %s: DNS lookup failed",
		    host);
	else if (d->ips.n > 0)
		cli_doctor_addrs_match(d);
	else if (d->dns_ips.n == 0)
		cli_doctor_say(d, CLI_DOC_FAIL, fix, "a %s: no A or AAAA "
		    "record", host);
	else {
		d->ips = d->dns_ips;
		d->ips.source = "DNS";
		cli_doctor_ip_list(&d->dns_ips, list, sizeof(list));
		cli_doctor_say(d, CLI_DOC_WARN, "give them with --ip ADDRESS",
		    "a %s: %s; this host's own public addresses are unknown, "
		    "so the SPF and PTR checks use these", host, list);
	}
}

/* The PTR names of ss; -1 (DNS failure), else how many. */
static int
cli_doctor_ptr_names(struct cli_doctor *d, const struct sockaddr_storage *ss,
    char *first, size_t size, bool *ours)
{
	char rev[128], name[256];
	struct cli_rrset rr;
	int i, n = 0;

	*ours = false;
	first[0] = '\0';
	if (cli_ip_reverse_name(ss, rev, sizeof(rev)) == -1)
		return -1;
	cli_resolve(d->res, rev, DNS_TYPE_PTR, &rr);
	if (rr.status == DNS_TEMPFAIL) {
		cli_rrset_release(&rr);
		return -1;
	}
	for (i = 0; i < rr.count; i++) {
		if (dns_name_text(rr.data[i], rr.len[i], name, sizeof(name)) <
		    0)
			continue;
		if (n++ == 0)
			cstr_copy(first, size, name);
		if (strcasecmp(name, d->cfg->hostname) == 0)
			*ours = true;
	}
	cli_rrset_release(&rr);
	return n;
}

static void
cli_doctor_ptr_one(struct cli_doctor *d, const struct sockaddr_storage *ss)
{
	const char *host = d->cfg->hostname;
	char text[INET6_ADDRSTRLEN], first[256], fix[512];
	bool ours;
	int n;

	cli_ip_text(ss, text, sizeof(text));
	snprintf(fix, sizeof(fix), "ask the provider of %s to set its "
	    "reverse DNS (PTR) to %s", text, host);
	n = cli_doctor_ptr_names(d, ss, first, sizeof(first), &ours);
	if (n == -1)
		cli_doctor_say(d, CLI_DOC_FAIL, "check [dns] resolver", "ptr %s: "
		    "DNS lookup failed", text);
	else if (n == 0)
		cli_doctor_say(d, CLI_DOC_FAIL, fix, "ptr %s: no PTR record; "
		    "many receivers refuse mail from such addresses", text);
	else if (!ours)
		cli_doctor_say(d, CLI_DOC_FAIL, fix, "ptr %s: is %s, not %s",
		    text, first, host);
	else if (!cli_doctor_has_ip(&d->dns_ips, ss)) {
		snprintf(fix, sizeof(fix), "publish %s. IN %s %s", host,
		    ss->ss_family == AF_INET ? "A" : "AAAA", text);
		cli_doctor_say(d, CLI_DOC_FAIL, fix, "ptr %s: %s, but %s does "
		    "not resolve back to %s", text, host, host, text);
	} else
		cli_doctor_say(d, CLI_DOC_OK, NULL, "ptr %s: %s "
		    "(forward-confirmed)", text, host);
}

void
cli_doctor_ptr(struct cli_doctor *d)
{
	size_t i;

	if (d->ips.n == 0) {
		cli_doctor_say(d, CLI_DOC_WARN, "give them with --ip ADDRESS",
		    "ptr: this host's addresses are unknown, reverse DNS not "
		    "checked");
		return;
	}
	for (i = 0; i < d->ips.n; i++)
		cli_doctor_ptr_one(d, &d->ips.ip[i]);
}

/* Reads the MX set: names into list, whether ours is there, null MX. */
static void
cli_doctor_mx_read(struct cli_doctor *d, const struct cli_rrset *rr,
    struct buf *list, bool *ours, bool *null_mx)
{
	char name[256];
	uint16_t pref;
	int i, r = 0;

	*ours = *null_mx = false;
	for (i = 0; i < rr->count; i++) {
		if (dns_rr_mx(rr->data[i], rr->len[i], &pref, name,
		    sizeof(name)) == -1)
			continue;
		if (name[0] == '\0')
			*null_mx = true;
		if (strcasecmp(name, d->cfg->hostname) == 0)
			*ours = true;
		r |= buf_addf(list, "%s%u %s", buf_len(list) ? ", " : "",
		    pref, name[0] ? name : ".");
	}
	(void)r;	/* a cut list is still a fine message */
}

void
cli_doctor_mx(struct cli_doctor *d, const char *domain)
{
	char fix[512];
	struct cli_rrset rr;
	struct buf list;
	bool ours, null_mx;

	snprintf(fix, sizeof(fix), "publish %s. IN MX 10 %s.", domain,
	    d->cfg->hostname);
	cli_resolve(d->res, domain, DNS_TYPE_MX, &rr);
	buf_init(&list, 400);
	cli_doctor_mx_read(d, &rr, &list, &ours, &null_mx);
	if (rr.status == DNS_TEMPFAIL)
		cli_doctor_say(d, CLI_DOC_FAIL, "check [dns] resolver and the "
		    "name servers of the zone", "mx %s: DNS lookup failed",
		    domain);
	else if (rr.status == DNS_NXDOMAIN)
		cli_doctor_say(d, CLI_DOC_FAIL, "register the domain and "
		    "publish its zone", "mx %s: the domain does not exist",
		    domain);
	else if (buf_len(&list) == 0)
		cli_doctor_say(d, CLI_DOC_FAIL, fix, "mx %s: no MX record",
		    domain);
	else if (null_mx)	/* RFC 7505 3: "this domain accepts no mail" */
		cli_doctor_say(d, CLI_DOC_FAIL, fix, "mx %s: a null MX says "
		    "the domain receives no mail", domain);
	else if (!ours)
		cli_doctor_say(d, CLI_DOC_FAIL, fix, "mx %s: %s, not %s",
		    domain, buf_cstr(&list), d->cfg->hostname);
	else
		cli_doctor_say(d, CLI_DOC_OK, NULL, "mx %s: %s", domain,
		    buf_cstr(&list));
	d->mx_missing = !ours;
	buf_release(&list);
	cli_rrset_release(&rr);
}

/* _dmarc.<domain>, else _dmarc.<organizational domain> (RFC 7489 6.6.3). */
static int
cli_doctor_dmarc_find(struct cli_doctor *d, const char *domain,
    struct buf *recs, char *where, size_t size)
{
	enum dns_status st;
	char org[256];
	int n;

	snprintf(where, size, "_dmarc.%s", domain);
	n = cli_resolve_txt(d->res, where, "v=DMARC1", recs, &st);
	if (n != 0 || dmarc_org_domain(domain, org, sizeof(org)) == -1 ||
	    strcasecmp(org, domain) == 0)
		return n;
	snprintf(where, size, "_dmarc.%s", org);
	return cli_resolve_txt(d->res, where, "v=DMARC1", recs, &st);
}

void
cli_doctor_dmarc(struct cli_doctor *d, const char *domain)
{
	struct dmarc_record rec;
	char where[300], fix[512];
	const char *why;
	struct buf recs, want;
	int n, r;

	buf_init(&recs, 65536);
	buf_init(&want, 512);
	r = cli_dns_dmarc_record(domain, &want);
	snprintf(fix, sizeof(fix), "publish _dmarc.%s. IN TXT \"%s\"", domain,
	    r == 0 ? buf_cstr(&want) : "v=DMARC1; p=quarantine");
	n = cli_doctor_dmarc_find(d, domain, &recs, where, sizeof(where));
	buf_truncate(&recs, n > 0 ? strcspn(buf_cstr(&recs), "\n") : 0);
	if (n == -1)
		cli_doctor_say(d, CLI_DOC_FAIL, "check [dns] resolver",
		    "dmarc %s: DNS lookup failed", domain);
	else if (n == 0)
		cli_doctor_say(d, CLI_DOC_FAIL, fix, "dmarc %s: no DMARC "
		    "record", domain);
	else if (n > 1)	/* RFC 7489 6.6.3: then no policy applies */
		cli_doctor_say(d, CLI_DOC_FAIL, "keep only one", "dmarc %s: "
		    "%d records at %s", domain, n, where);
	else if (dmarc_record_parse(str_make(buf_data(&recs), buf_len(&recs)),
	    &rec, &why) == -1)
		cli_doctor_say(d, CLI_DOC_FAIL, fix, "dmarc %s: %s is unusable "
		    "(%s)", domain, where, why);
	else if (rec.p == DMARC_POLICY_NONE)
		cli_doctor_say(d, CLI_DOC_WARN, "use p=quarantine once the "
		    "reports show your mail passes", "dmarc %s: p=none asks "
		    "receivers to do nothing about forgeries", domain);
	else
		cli_doctor_say(d, CLI_DOC_OK, NULL, "dmarc %s: p=%s at %s",
		    domain, dmarc_policy_name(rec.p), where);
	buf_release(&want);
	buf_release(&recs);
}
