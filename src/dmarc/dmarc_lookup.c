/*
 * dmarc_lookup.c - finding the DMARC record of a From domain (RFC 7489
 * 6.6.3): _dmarc.<domain>, else _dmarc.<organizational domain>. A name
 * with several DMARC records, or none that parses, has no policy.
 */
#include "core/common.h"

#include "core/buf.h"
#include "dmarc/dmarc.h"
#include "dns/dns.h"
#include "dns/dns_rr.h"

struct dmarc_lookup {
	struct dns		*dns;
	struct dns_query	*q;
	char			 domain[256];
	char			 org[256];
	bool			 at_org;
	dmarc_lookup_done	 done;
	void			*arg;
};

static void dmarc_lookup_cb(void *arg, const struct dns_answer *ans);

static void
dmarc_lookup_query(struct dmarc_lookup *l, const char *domain)
{
	char name[300];

	snprintf(name, sizeof(name), "_dmarc.%s", domain);
	l->q = dns_query(l->dns, name, DNS_TYPE_TXT, dmarc_lookup_cb, l);
}

/* RFC 7489 6.6.3: "v=DMARC1" then a separator, not "v=DMARC10". */
static bool
dmarc_is_record(struct str txt)
{
	return str_has_prefix_case(txt, "v=DMARC1") && (txt.len == 8 ||
	    txt.p[8] == ';' || txt.p[8] == ' ' || txt.p[8] == '\t');
}

/* Exactly one v=DMARC1 record that parses. */
static int
dmarc_pick(const struct dns_answer *ans, struct dmarc_record *rec)
{
	struct buf txt;
	const char *why;
	int k, found = 0;

	for (k = 0; k < ans->count; k++) {
		buf_init(&txt, 4096);
		if (dns_rr_txt((const unsigned char *)ans->data[k],
		    (size_t)ans->len[k], &txt) == 0 &&
		    dmarc_is_record(str_make(buf_data(&txt),
		    buf_len(&txt)))) {
			if (++found == 1 && dmarc_record_parse(str_make(
			    buf_data(&txt), buf_len(&txt)), rec, &why) == -1)
				found = 2;	/* unusable: no policy */
		}
		buf_release(&txt);
	}
	return found == 1 ? 0 : -1;
}

static void
dmarc_lookup_cb(void *arg, const struct dns_answer *ans)
{
	struct dmarc_lookup *l = arg;
	struct dmarc_record rec;

	l->q = NULL;
	if (ans->status == DNS_TEMPFAIL) {
		l->done(l->arg, false, true, NULL, l->at_org);
		free(l);
		return;
	}
	if (ans->status == DNS_OK && dmarc_pick(ans, &rec) == 0) {
		l->done(l->arg, true, false, &rec, l->at_org);
		free(l);
		return;
	}
	if (!l->at_org && strcmp(l->domain, l->org) != 0) {
		l->at_org = true;
		dmarc_lookup_query(l, l->org);
		return;
	}
	l->done(l->arg, false, false, NULL, l->at_org);
	free(l);
}

struct dmarc_lookup *
dmarc_lookup_start(struct dns *dns, const char *from_domain,
    dmarc_lookup_done done, void *arg)
{
	struct dmarc_lookup *l = xcalloc(1, sizeof(*l));

	l->dns = dns;
	l->done = done;
	l->arg = arg;
	cstr_copy(l->domain, sizeof(l->domain), from_domain);
	ascii_lower_inplace(l->domain, strlen(l->domain));
	if (dmarc_org_domain(l->domain, l->org, sizeof(l->org)) == -1)
		cstr_copy(l->org, sizeof(l->org), l->domain);
	dmarc_lookup_query(l, l->domain);
	return l;
}

void
dmarc_lookup_cancel(struct dmarc_lookup *l)
{
	if (l->q)
		dns_cancel(l->q);
	free(l);
}
