/*
 * fuzz_mta_reply.c - libFuzzer harness for mta_reply.c: a remote SMTP
 * server's replies, line by line, as the delivery client reads them. The
 * input is split at LF into lines fed in order; after each complete reply
 * the EHLO extension parser and the summary run on it. Checks: codes are
 * 200..599, the kept text is bounded and NUL-terminated, and the summary
 * holds no line break.
 */
#include "core/common.h"

#include "delivery/mta_reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_reply(const struct mta_reply *r)
{
	char summary[MTA_REPLY_TEXT_MAX + 16];
	unsigned long long max;

	if (r->code < 200 || r->code > 599 || r->textlen >= sizeof(r->text) ||
	    r->text[r->textlen] != '\0' || strnlen(r->enh, sizeof(r->enh)) ==
	    sizeof(r->enh))
		abort();
	(void)mta_reply_ehlo_ext(r, &max);
	mta_reply_summary(r, summary, sizeof(summary));
	if (strchr(summary, '\n') || strchr(summary, '\r'))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct str in = str_make((const char *)data, size);
	struct mta_reply r;
	int rc;

	mta_reply_init(&r);
	while (in.len) {
		long nl = str_chr(in, '\n');
		struct str line = str_make(in.p, nl < 0 ? in.len :
		    (size_t)nl + 1);

		in = str_sub(in, line.len, in.len);
		rc = mta_reply_feed(&r, line);
		if (rc == -1) {
			mta_reply_init(&r);
		} else if (rc == 1) {
			check_reply(&r);
			mta_reply_init(&r);
		}
	}
	return 0;
}
