/*
 * fuzz_spf_record.c - libFuzzer harness for spf_record.c: the input as
 * an SPF record, then as TXT rdata to join. Aborts when a parsed record
 * breaks a promise of spf_record.h: a slice outside the input, a CIDR
 * length out of range, a domain-spec that is not a valid macro-string
 * with a valid end, a record accepted that is not "v=spf1", or a joined
 * TXT string longer than the limit.
 */
#include "core/common.h"

#include "spf/spf_macro.h"
#include "spf/spf_record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
within(struct str s, const char *lo, size_t len)
{
	if (s.len == 0)
		return;
	if (s.p < lo || s.p + s.len > lo + len)
		abort();
}

static void
check_spec(struct str s, const char *in, size_t size)
{
	const char *err;

	within(s, in, size);
	if (s.len == 0 || spf_macro_check(s, 0, &err) != 0 ||
	    !spf_domain_end_valid(s))
		abort();
}

static void
check_term(const struct spf_term *t, const char *in, size_t size)
{
	if (t->cidr4 > 32 || t->cidr6 > 128)
		abort();
	if (t->qual != SPF_PASS && t->qual != SPF_FAIL &&
	    t->qual != SPF_SOFTFAIL && t->qual != SPF_NEUTRAL)
		abort();
	switch (t->mech) {
	case SPF_MECH_INCLUDE:
	case SPF_MECH_EXISTS:
		check_spec(t->domain, in, size);
		break;
	case SPF_MECH_A:
	case SPF_MECH_MX:
	case SPF_MECH_PTR:
		if (t->domain.len > 0)
			check_spec(t->domain, in, size);
		break;
	default:
		if (t->domain.len != 0)
			abort();
		break;
	}
}

static void
check_record(const char *in, size_t size)
{
	struct spf_record rec;
	const char *err = NULL;
	size_t i;

	if (spf_record_parse(&rec, in, size, &err) == 0) {
		if (!spf_record_is_spf1(in, size))
			abort();
		for (i = 0; i < rec.nterms; i++)
			check_term(&rec.terms[i], in, size);
		if (rec.redirect.p != NULL)
			check_spec(rec.redirect, in, size);
		if (rec.exp.p != NULL)
			check_spec(rec.exp, in, size);
	} else if (err == NULL) {
		abort();
	}
	spf_record_release(&rec);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf b;
	int r;

	check_record((const char *)data, size);
	buf_init(&b, SPF_RECORD_MAX);
	r = spf_txt_join(data, size, &b);
	if (buf_len(&b) > SPF_RECORD_MAX || (r == 1 &&
	    buf_len(&b) != SPF_RECORD_MAX))
		abort();
	buf_release(&b);
	return 0;
}
