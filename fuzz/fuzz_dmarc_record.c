/*
 * fuzz_dmarc_record.c - libFuzzer harness for dmarc_record.c: a _dmarc TXT
 * record from anywhere. Checks: an accepted record has known policies, a
 * pct of 0..100 and a NUL-terminated rua; a refused one gives a reason;
 * and evaluation on it never fails whatever the inputs.
 */
#include "core/common.h"

#include "dmarc/dmarc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *dkim[] = { "example.com", "news.example.com" };
	struct dmarc_record rec;
	struct dmarc_outcome out;
	struct dmarc_input in = { "news.example.com", true,
	    "bounce.example.com", dkim, 2 };
	const char *why = NULL;

	if (dmarc_record_parse(str_make((const char *)data, size), &rec,
	    &why) == -1) {
		if (why == NULL)
			abort();
		return 0;
	}
	if (rec.p > DMARC_POLICY_REJECT || rec.sp > DMARC_POLICY_REJECT ||
	    rec.pct > 100 || strnlen(rec.rua, sizeof(rec.rua)) ==
	    sizeof(rec.rua))
		abort();
	dmarc_evaluate(&rec, size & 1, &in, (unsigned)(size % 100), &out);
	if (out.result != DMARC_RESULT_PASS || out.applied !=
	    DMARC_POLICY_NONE)
		abort();	/* DKIM d= is the From domain: a pass, always */
	return 0;
}
