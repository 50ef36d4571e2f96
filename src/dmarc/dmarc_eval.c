/*
 * dmarc_eval.c - identifier alignment and the policy to apply
 * (RFC 7489 3.1, 6.6). Pure.
 */
#include "core/common.h"

#include "dmarc/dmarc.h"

/* RFC 7489 3.1.1/3.1.2: strict is equality, relaxed same org domain. */
static bool
dmarc_aligned(const char *a, const char *b, bool strict)
{
	char oa[256], ob[256];

	if (a == NULL || b == NULL || a[0] == '\0')
		return false;
	if (strcasecmp(a, b) == 0)
		return true;
	if (strict)
		return false;
	if (dmarc_org_domain(a, oa, sizeof(oa)) == -1 ||
	    dmarc_org_domain(b, ob, sizeof(ob)) == -1)
		return false;
	return strcasecmp(oa, ob) == 0;
}

static enum dmarc_policy
dmarc_weaker(enum dmarc_policy p)
{
	return p == DMARC_POLICY_REJECT ? DMARC_POLICY_QUARANTINE :
	    DMARC_POLICY_NONE;
}

void
dmarc_evaluate(const struct dmarc_record *rec, bool org_record,
    const struct dmarc_input *in, unsigned rnd, struct dmarc_outcome *out)
{
	size_t i;

	memset(out, 0, sizeof(*out));
	out->spf_aligned = in->spf_pass && dmarc_aligned(in->spf_domain,
	    in->from_domain, rec->aspf_strict);
	for (i = 0; i < in->ndkim && !out->dkim_aligned; i++)
		out->dkim_aligned = dmarc_aligned(in->dkim_pass_domains[i],
		    in->from_domain, rec->adkim_strict);
	/* RFC 7489 6.6.2: pass if either identifier passes and aligns. */
	out->result = out->spf_aligned || out->dkim_aligned ?
	    DMARC_RESULT_PASS : DMARC_RESULT_FAIL;
	if (out->result == DMARC_RESULT_FAIL && in->spf_temperror &&
	    dmarc_aligned(in->spf_domain, in->from_domain, rec->aspf_strict))
		out->result = DMARC_RESULT_TEMPERROR;
	for (i = 0; i < in->ndkim_temp && out->result == DMARC_RESULT_FAIL;
	    i++)
		if (dmarc_aligned(in->dkim_temp_domains[i], in->from_domain,
		    rec->adkim_strict))
			out->result = DMARC_RESULT_TEMPERROR;
	/* RFC 7489 6.3: sp= applies to subdomains of the org domain. */
	out->policy = org_record ? rec->sp : rec->p;
	out->applied = out->result == DMARC_RESULT_PASS ? DMARC_POLICY_NONE :
	    out->policy;
	/* RFC 7489 6.6.4: outside pct, the next weaker policy applies. */
	if (out->applied != DMARC_POLICY_NONE && rnd >= rec->pct)
		out->applied = dmarc_weaker(out->applied);
}

const char *
dmarc_result_name(enum dmarc_result r)
{
	static const char *const names[] = { "none", "pass", "fail",
	    "temperror", "permerror" };

	return names[r];
}

const char *
dmarc_policy_name(enum dmarc_policy p)
{
	static const char *const names[] = { "none", "quarantine", "reject" };

	return names[p];
}
