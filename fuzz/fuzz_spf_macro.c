/*
 * fuzz_spf_macro.c - libFuzzer harness for spf_macro.c.
 *
 * Input: one byte of flags (bit 0: an explanation, bit 1: IPv6, bit 2:
 * no PTR name), 16 bytes of client address, then the sender and the
 * macro-string, split at the first newline. Aborts when expansion and
 * the syntax check disagree, when a name comes out longer than 253
 * octets, when an explanation passes its limit or holds a control
 * character, or when spf_name_valid() accepts a name with a trailing
 * dot or one libunbound would read differently ('\').
 */
#include "core/common.h"

#include <sys/socket.h>

#include "spf/spf_macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_output(const struct buf *b, int flags)
{
	const char *p = buf_data(b);
	size_t len = buf_len(b), i;

	if (flags & SPF_MACRO_EXP) {
		if (len > SPF_EXPLAIN_MAX)
			abort();
		for (i = 0; i < len; i++)
			if ((unsigned char)p[i] < 0x20 ||
			    (unsigned char)p[i] >= 0x7f)
				abort();
		return;
	}
	if (len > SPF_NAME_MAX)
		abort();
	/* One trailing dot is dropped; a name with two is malformed. */
	if (spf_name_valid(p, len, false) && (p[len - 1] == '.' ||
	    memchr(p, '\\', len) != NULL))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spf_macro_ctx ctx;
	const char *err = NULL, *nl;
	char *sender;
	struct str s;
	struct buf b;
	int flags, r, c;

	if (size < 17)
		return 0;
	flags = data[0] & 1 ? SPF_MACRO_EXP : 0;
	memset(&ctx, 0, sizeof(ctx));
	ctx.family = data[0] & 2 ? AF_INET6 : AF_INET;
	memcpy(ctx.ip, data + 1, 16);
	s = str_make((const char *)data + 17, size - 17);
	nl = memchr(s.p, '\n', s.len);
	sender = xmemdup0(s.p, nl ? (size_t)(nl - s.p) : 0);
	if (nl != NULL)
		s = str_sub(s, (size_t)(nl - s.p) + 1, SIZE_MAX);
	ctx.sender = sender;
	ctx.domain = "example.com";
	ctx.helo = "mx.example.org";
	ctx.receiver = data[0] & 4 ? NULL : "mail.example.net";
	ctx.ptr = data[0] & 4 ? NULL : "mx.example.org";
	ctx.now = 1400000000;
	buf_init(&b, SPF_EXPAND_MAX + 1);
	r = spf_macro_expand(s, &ctx, flags, &b, &err);
	c = spf_macro_check(s, flags, &err);
	/* A syntax error is one either way; only names may fail after. */
	if (c == -1 ? r != -1 : (r == -1 && (flags & SPF_MACRO_EXP)))
		abort();
	if (r == 0)
		check_output(&b, flags);
	(void)spf_macro_uses(s, 'p');
	(void)spf_domain_end_valid(s);
	buf_release(&b);
	free(sender);
	return 0;
}
