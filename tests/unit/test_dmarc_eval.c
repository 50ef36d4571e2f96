/*
 * test_dmarc_eval.c - dmarc_evaluate(): alignment, pct, and temperror
 * when an aligned check could not be made (but never for an unaligned
 * one, which a forger controls).
 */
#include "core/common.h"

#include "dmarc/dmarc.h"
#include "unit/unit.h"

struct eval_case {
	const char	*from;
	bool		 spf_pass, spf_temp;
	const char	*spf_domain;
	const char	*dkim_pass;	/* NULL: none */
	const char	*dkim_temp;	/* NULL: none */
	enum dmarc_result want;
	enum dmarc_policy applied;
};

static const struct eval_case eval_cases[] = {
	/* Nothing passes: fail, policy applied. */
	{ "bank.test", false, false, "evil.test", NULL, NULL,
	    DMARC_RESULT_FAIL, DMARC_POLICY_REJECT },
	/* Aligned SPF pass (relaxed: same organizational domain). */
	{ "bank.test", true, false, "mail.bank.test", NULL, NULL,
	    DMARC_RESULT_PASS, DMARC_POLICY_NONE },
	/* Aligned DKIM pass. */
	{ "bank.test", false, false, "evil.test", "bank.test", NULL,
	    DMARC_RESULT_PASS, DMARC_POLICY_NONE },
	/* SPF could not be checked for the From's own domain: temperror. */
	{ "bank.test", false, true, "bank.test", NULL, NULL,
	    DMARC_RESULT_TEMPERROR, DMARC_POLICY_REJECT },
	/* ... but not for somebody else's domain. */
	{ "bank.test", false, true, "evil.test", NULL, NULL,
	    DMARC_RESULT_FAIL, DMARC_POLICY_REJECT },
	/* A DKIM key lookup that timed out, aligned: temperror. */
	{ "bank.test", false, false, "evil.test", NULL, "bank.test",
	    DMARC_RESULT_TEMPERROR, DMARC_POLICY_REJECT },
	/* A forger's own slow DNS (d=evil.test) earns nothing. */
	{ "bank.test", false, false, "evil.test", NULL, "evil.test",
	    DMARC_RESULT_FAIL, DMARC_POLICY_REJECT },
	/* A pass wins over a temperror. */
	{ "bank.test", false, true, "bank.test", "bank.test", NULL,
	    DMARC_RESULT_PASS, DMARC_POLICY_NONE },
};

TEST(dmarc_eval_table)
{
	struct dmarc_record rec = { .p = DMARC_POLICY_REJECT,
	    .sp = DMARC_POLICY_REJECT, .pct = 100 };
	struct dmarc_outcome out;
	size_t i;

	for (i = 0; i < ARRAY_LEN(eval_cases); i++) {
		const struct eval_case *c = &eval_cases[i];
		const char *pass[1] = { c->dkim_pass }, *temp[1] = {
		    c->dkim_temp };
		struct dmarc_input in = {
			.from_domain = c->from, .spf_pass = c->spf_pass,
			.spf_domain = c->spf_domain, .spf_temperror =
			c->spf_temp, .dkim_pass_domains = pass, .ndkim =
			c->dkim_pass != NULL, .dkim_temp_domains = temp,
			.ndkim_temp = c->dkim_temp != NULL,
		};

		dmarc_evaluate(&rec, false, &in, 0, &out);
		CHECKF(out.result == c->want, "case %zu: result %s, want %s",
		    i, dmarc_result_name(out.result),
		    dmarc_result_name(c->want));
		CHECKF(out.applied == c->applied, "case %zu: applied %s", i,
		    dmarc_policy_name(out.applied));
	}
}

TEST(dmarc_eval_pct_and_strict)
{
	struct dmarc_record rec = { .p = DMARC_POLICY_REJECT,
	    .sp = DMARC_POLICY_NONE, .pct = 50, .aspf_strict = true };
	struct dmarc_input in = { .from_domain = "bank.test", .spf_pass = true,
	    .spf_domain = "mail.bank.test" };
	struct dmarc_outcome out;

	/* Strict SPF alignment: a subdomain does not align. */
	dmarc_evaluate(&rec, false, &in, 10, &out);
	CHECK_EQ_INT(out.result, DMARC_RESULT_FAIL);
	CHECK_EQ_INT(out.applied, DMARC_POLICY_REJECT);
	/* Outside pct: the next weaker policy. */
	dmarc_evaluate(&rec, false, &in, 60, &out);
	CHECK_EQ_INT(out.applied, DMARC_POLICY_QUARANTINE);
	/* A record found at the organizational domain: sp= applies. */
	dmarc_evaluate(&rec, true, &in, 10, &out);
	CHECK_EQ_INT(out.applied, DMARC_POLICY_NONE);
}
