/*
 * test_dmarc_record.c - DMARC records (RFC 7489 6.3, 6.6.3): a bad value
 * of a minor tag falls back to its default instead of discarding the
 * record (and its p=reject); no valid p= (or a bad sp=) is no policy,
 * unless rua= is there, then p=none.
 */
#include "core/common.h"

#include "dmarc/dmarc.h"
#include "unit/unit.h"

#define NONE DMARC_POLICY_NONE
#define QUAR DMARC_POLICY_QUARANTINE
#define REJ DMARC_POLICY_REJECT

static const struct {
	const char		*txt;
	int			 rc;
	enum dmarc_policy	 p, sp;
	unsigned		 pct;
	bool			 adkim_strict, aspf_strict;
} cases[] = {
	{ "v=DMARC1; p=reject", 0, REJ, REJ, 100, false, false },
	{ "v=DMARC1;p=quarantine;sp=none;pct=20", 0, QUAR, NONE, 20, false,
	    false },
	{ "v=DMARC1; p=reject; adkim=s; aspf=s", 0, REJ, REJ, 100, true,
	    true },
	/* Bad minor values: their defaults, the policy kept. */
	{ "v=DMARC1; p=reject; pct=abc", 0, REJ, REJ, 100, false, false },
	{ "v=DMARC1; p=reject; pct=101", 0, REJ, REJ, 100, false, false },
	{ "v=DMARC1; p=reject; adkim=x; aspf=s", 0, REJ, REJ, 100, false,
	    true },
	{ "v=DMARC1; p=reject; fo=9; unknown=1", 0, REJ, REJ, 100, false,
	    false },
	/* No valid p= or a bad sp=: none with rua=, else no record. */
	{ "v=DMARC1; p=bogus; rua=mailto:d@example.com", 0, NONE, NONE, 100,
	    false, false },
	{ "v=DMARC1; rua=mailto:d@example.com", 0, NONE, NONE, 100, false,
	    false },
	{ "v=DMARC1; p=reject; sp=bad; rua=mailto:d@example.com", 0, NONE,
	    NONE, 100, false, false },
	{ "v=DMARC1; p=bogus", -1 },
	{ "v=DMARC1", -1 },
	{ "v=DMARC1; p=reject; sp=bad", -1 },
	/* Not DMARC1 records. */
	{ "v=DMARC10; p=reject", -1 },
	{ "p=reject; v=DMARC1", -1 },
	{ "", -1 },
};

TEST(dmarc_record_table)
{
	struct dmarc_record rec;
	const char *why;
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		int rc = dmarc_record_parse(str_cstr(cases[i].txt), &rec, &why);

		CHECKF(rc == cases[i].rc, "case %zu \"%s\": rc %d", i,
		    cases[i].txt, rc);
		if (rc != 0 || cases[i].rc != 0)
			continue;
		CHECKF(rec.p == cases[i].p && rec.sp == cases[i].sp &&
		    rec.pct == cases[i].pct &&
		    rec.adkim_strict == cases[i].adkim_strict &&
		    rec.aspf_strict == cases[i].aspf_strict,
		    "case %zu \"%s\": p %d sp %d pct %u adkim %d aspf %d", i,
		    cases[i].txt, rec.p, rec.sp, rec.pct, rec.adkim_strict,
		    rec.aspf_strict);
	}
}
