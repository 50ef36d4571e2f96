/*
 * dmarc.h - DMARC (RFC 7489): policy records, organizational domains,
 * identifier alignment and the policy to apply.
 *
 * dmarc_record_parse() and dmarc_evaluate() are pure (fuzzed and unit
 * tested); dmarc_lookup_start() discovers the record asynchronously:
 * _dmarc.<From domain>, then, if there is none, _dmarc.<organizational
 * domain> (RFC 7489 6.6.3), the organizational domain coming from the
 * Public Suffix List (libpsl).
 */
#ifndef FACTEUR_DMARC_H
#define FACTEUR_DMARC_H

#include <stdbool.h>
#include <stddef.h>

#include "core/str.h"

struct dns;
struct dmarc_lookup;

enum dmarc_policy {
	DMARC_POLICY_NONE,
	DMARC_POLICY_QUARANTINE,
	DMARC_POLICY_REJECT,
};

struct dmarc_record {
	enum dmarc_policy p;
	enum dmarc_policy sp;		/* = p unless given */
	unsigned	 pct;		/* 0..100, default 100 */
	bool		 adkim_strict;
	bool		 aspf_strict;
	char		 rua[256];	/* as published, for the report */
};

/* 0, or -1 with a static reason (the record is then ignored). */
int dmarc_record_parse(struct str txt, struct dmarc_record *rec,
    const char **error_r);

/* The registrable (organizational) domain of domain, lowercase. */
int dmarc_org_domain(const char *domain, char *out, size_t size);

enum dmarc_result {
	DMARC_RESULT_NONE,		/* no policy published */
	DMARC_RESULT_PASS,
	DMARC_RESULT_FAIL,
	DMARC_RESULT_TEMPERROR,
	DMARC_RESULT_PERMERROR,
};

/* What authenticated the message, for alignment. */
struct dmarc_input {
	const char	*from_domain;	/* RFC5322.From, lowercase */
	bool		 spf_pass;
	const char	*spf_domain;	/* MAIL FROM domain (or HELO) */
	const char	**dkim_pass_domains;	/* d= of passing signatures */
	size_t		 ndkim;
	/* Checks that could not be made (DNS trouble), for temperror. */
	bool		 spf_temperror;
	const char	**dkim_temp_domains;	/* d= of temperror signatures */
	size_t		 ndkim_temp;
};

struct dmarc_outcome {
	enum dmarc_result result;
	enum dmarc_policy policy;	/* what the owner asks for */
	enum dmarc_policy applied;	/* after pct sampling */
	bool		 spf_aligned;
	bool		 dkim_aligned;
};

/*
 * RFC 7489 3.1 (alignment), 6.6.2 (result), 6.6.4 (sp for subdomains,
 * pct sampling with the next weaker policy). org_record: the record came
 * from the organizational domain, not the From domain itself. rnd: a
 * random number 0..99 for pct. A message that does not pass, but whose
 * aligned SPF or DKIM check could not be made (a DNS timeout), gets
 * temperror, not fail: its policy is not applied on a guess. Unaligned
 * checks do not count, so a forger cannot earn a temperror with a slow
 * DNS server of his own.
 */
void dmarc_evaluate(const struct dmarc_record *rec, bool org_record,
    const struct dmarc_input *in, unsigned rnd, struct dmarc_outcome *out);

/*
 * found: a usable record was found (rec filled); temperror: DNS trouble.
 * org_record: it came from the organizational domain.
 */
typedef void (*dmarc_lookup_done)(void *arg, bool found, bool temperror,
    const struct dmarc_record *rec, bool org_record);

struct dmarc_lookup *dmarc_lookup_start(struct dns *dns,
    const char *from_domain, dmarc_lookup_done done, void *arg);
void dmarc_lookup_cancel(struct dmarc_lookup *l);

const char *dmarc_result_name(enum dmarc_result r);
const char *dmarc_policy_name(enum dmarc_policy p);

#endif
