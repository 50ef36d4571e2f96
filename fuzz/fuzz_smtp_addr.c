/*
 * fuzz_smtp_addr.c - libFuzzer harness for smtp_addr.c.
 *
 * Input: one byte of flags (its low four bits are SMTP_ADDR_*), then the
 * path. Aborts when an accepted address breaks a promise of smtp_addr.h
 * (no routing characters in strict mode, a valid lowercase domain, ASCII
 * only without SMTPUTF8...) or when it does not survive a round trip
 * through smtp_addr_format() and back: one address, one spelling.
 */
#include "core/common.h"

#include "core/dname.h"
#include "smtp/smtp_addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
has_non_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return true;
	return false;
}

static void
check_accepted(const struct smtp_addr *a, int flags)
{
	size_t llen = strnlen(a->local, sizeof(a->local));
	size_t dlen = strnlen(a->domain, sizeof(a->domain));
	size_t i;

	if (llen == sizeof(a->local) || dlen == sizeof(a->domain))
		abort();
	if (llen > SMTP_LOCAL_MAX || dlen > SMTP_DOMAIN_MAX)
		abort();
	if (a->null) {
		if (!(flags & SMTP_ADDR_NULL_OK) || llen || dlen)
			abort();
		return;
	}
	if (a->postmaster_only) {
		if (!(flags & SMTP_ADDR_POSTMASTER) ||
		    strcmp(a->local, "postmaster") != 0 || dlen)
			abort();
		return;
	}
	if (llen == 0 || dlen == 0)
		abort();
	if (!dname_valid(a->domain, dlen, flags & SMTP_ADDR_UTF8 ?
	    DNAME_ALLOW_UTF8 : 0))
		abort();
	for (i = 0; i < dlen; i++)
		if (a->domain[i] >= 'A' && a->domain[i] <= 'Z')
			abort();
	/* Never a second '@'; never '%' or '!' in strict mode. */
	if (strchr(a->local, '@') != NULL)
		abort();
	if ((flags & SMTP_ADDR_STRICT) &&
	    (strchr(a->local, '%') != NULL || strchr(a->local, '!') != NULL))
		abort();
	if (!(flags & SMTP_ADDR_UTF8) &&
	    (has_non_ascii(a->local) || has_non_ascii(a->domain)))
		abort();
	if (a->utf8 != (has_non_ascii(a->local) || has_non_ascii(a->domain)))
		abort();
}

/*
 * Format, re-parse with the same flags (as a path, or bare as with
 * smtp_addr_parse()), and compare.
 */
static void
check_round_trip(const struct smtp_addr *a, int flags, bool as_path)
{
	char text[SMTP_ADDR_TEXT_MAX], path[SMTP_ADDR_TEXT_MAX + 2];
	struct smtp_addr b;
	struct str cur;
	int n;

	if (smtp_addr_format(a, text, sizeof(text)) != 0)
		abort();
	if (as_path) {
		n = snprintf(path, sizeof(path), "<%s>", text);
		if (n < 0 || (size_t)n >= sizeof(path))
			abort();
		cur = str_make(path, (size_t)n);
		if (smtp_addr_parse_path(&cur, flags, &b) != SMTP_ADDR_OK)
			abort();
	} else {
		cur = str_cstr(text);
		if (smtp_addr_parse(cur, flags, &b) != SMTP_ADDR_OK)
			abort();
		cur.len = 0;
	}
	if (cur.len != 0 || strcmp(a->local, b.local) != 0 ||
	    strcmp(a->domain, b.domain) != 0 || a->null != b.null ||
	    a->postmaster_only != b.postmaster_only)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_addr addr;
	enum smtp_addr_err err;
	struct str in, cur;
	int flags;

	if (size < 1)
		return 0;
	flags = data[0] & (SMTP_ADDR_NULL_OK | SMTP_ADDR_UTF8 |
	    SMTP_ADDR_POSTMASTER | SMTP_ADDR_STRICT);
	in = str_make((const char *)data + 1, size - 1);

	cur = in;
	err = smtp_addr_parse_path(&cur, flags, &addr);
	if (smtp_addr_strerror(err) == NULL)
		abort();
	(void)smtp_addr_err_is_trick(err);
	if (err == SMTP_ADDR_OK) {
		size_t used = (size_t)(cur.p - in.p);

		if (cur.p < in.p || used < 2 || used + cur.len != in.len ||
		    used > SMTP_PATH_MAX || in.p[0] != '<' ||
		    in.p[used - 1] != '>')
			abort();
		check_accepted(&addr, flags);
		check_round_trip(&addr, flags, true);
	} else if (cur.p != in.p || cur.len != in.len) {
		abort();	/* the cursor moves only on success */
	}

	/* The bare form, as in config files. */
	if (smtp_addr_parse(in, flags, &addr) == SMTP_ADDR_OK) {
		check_accepted(&addr, flags & ~(SMTP_ADDR_NULL_OK |
		    SMTP_ADDR_POSTMASTER));
		check_round_trip(&addr, flags, false);
	}
	return 0;
}
