/*
 * dmarc_record.c - DMARC records (RFC 7489 6.3) and organizational
 * domains (RFC 7489 3.2, via libpsl).
 */
#include "core/common.h"

#include <libpsl.h>

#include "dmarc/dmarc.h"

static int
dmarc_policy_value(struct str v, enum dmarc_policy *out)
{
	if (str_caseeq_cstr(v, "none"))
		*out = DMARC_POLICY_NONE;
	else if (str_caseeq_cstr(v, "quarantine"))
		*out = DMARC_POLICY_QUARANTINE;
	else if (str_caseeq_cstr(v, "reject"))
		*out = DMARC_POLICY_REJECT;
	else
		return -1;
	return 0;
}

static int
dmarc_align_value(struct str v, bool *strict)
{
	if (str_caseeq_cstr(v, "s"))
		*strict = true;
	else if (str_caseeq_cstr(v, "r"))
		*strict = false;
	else
		return -1;
	return 0;
}

/* What the tags said about p= and sp=: absent, valid or not. */
struct dmarc_seen {
	bool	p, p_bad, sp, sp_bad;
};

/*
 * One "tag=value" pair. RFC 7489 6.3: unknown tags are ignored, and a
 * bad value "discarded in favor of default values": a pct=abc no longer
 * throws away the whole record, p=reject with it. Bad p= and sp= are
 * noted for dmarc_record_parse().
 */
static void
dmarc_tag(struct str tag, struct str v, struct dmarc_record *rec,
    struct dmarc_seen *seen)
{
	uint64_t n;

	if (str_caseeq_cstr(tag, "p")) {
		seen->p = true;
		seen->p_bad = dmarc_policy_value(v, &rec->p) == -1;
	} else if (str_caseeq_cstr(tag, "sp")) {
		seen->sp = true;
		seen->sp_bad = dmarc_policy_value(v, &rec->sp) == -1;
	} else if (str_caseeq_cstr(tag, "pct")) {
		if (str_to_u64(v, 100, &n) == 0)
			rec->pct = (unsigned)n;
	} else if (str_caseeq_cstr(tag, "adkim")) {
		(void)dmarc_align_value(v, &rec->adkim_strict);
	} else if (str_caseeq_cstr(tag, "aspf")) {
		(void)dmarc_align_value(v, &rec->aspf_strict);
	} else if (str_caseeq_cstr(tag, "rua")) {
		str_copy(rec->rua, sizeof(rec->rua), str_sub(v, 0,
		    sizeof(rec->rua) - 1));
	}
}

int
dmarc_record_parse(struct str txt, struct dmarc_record *rec,
    const char **error_r)
{
	struct dmarc_seen seen = { 0 };
	bool first = true;
	struct str item, tag, v;
	long semi, eq;

	memset(rec, 0, sizeof(*rec));
	rec->pct = 100;
	while (str_trim(txt).len > 0) {
		semi = str_chr(txt, ';');
		item = str_trim(semi < 0 ? txt : str_make(txt.p, (size_t)semi));
		txt = semi < 0 ? str_sub(txt, txt.len, 0) :
		    str_sub(txt, (size_t)semi + 1, txt.len);
		if (item.len == 0)
			continue;
		eq = str_chr(item, '=');
		if (eq <= 0) {
			*error_r = "malformed tag";
			return -1;
		}
		tag = str_trim(str_make(item.p, (size_t)eq));
		v = str_trim(str_sub(item, (size_t)eq + 1, item.len));
		/* RFC 7489 6.4: "v=DMARC1" first, exactly. */
		if (first) {
			if (!str_eq(tag, STR_LIT("v")) ||
			    !str_eq(v, STR_LIT("DMARC1"))) {
				*error_r = "not a DMARC1 record";
				return -1;
			}
			first = false;
			continue;
		}
		dmarc_tag(tag, v, rec, &seen);
	}
	if (first) {
		*error_r = "empty record";
		return -1;
	}
	/*
	 * RFC 7489 6.6.3 step 6: no valid p=, or a bad sp=, makes the record
	 * unusable, unless rua= is there: then it is read as p=none.
	 */
	if (!seen.p || seen.p_bad || seen.sp_bad) {
		if (rec->rua[0] == '\0') {
			*error_r = "no valid p= (and no rua=)";
			return -1;
		}
		rec->p = rec->sp = DMARC_POLICY_NONE;
		return 0;
	}
	if (!seen.sp)
		rec->sp = rec->p;
	return 0;
}

int
dmarc_org_domain(const char *domain, char *out, size_t size)
{
	static const psl_ctx_t *psl;
	const char *reg;

	if (psl == NULL)
		psl = psl_latest(NULL);
	if (psl == NULL)
		psl = psl_builtin();
	reg = psl ? psl_registrable_domain(psl, domain) : NULL;
	/* A domain that is itself a public suffix is its own org domain. */
	return cstr_copy(out, size, reg ? reg : domain);
}
