/*
 * fuzz_mime_hdr.c - libFuzzer harness for mime_hdr.c.
 *
 * Input: one byte of mode (bit 0: 0 = a header section, 1 = one address
 * list value; bits 1-3: the room for addresses, 1..8), then the text.
 *
 * The iterator must return consecutive fields that stay inside the input,
 * with an ftext name, a value whose inner line ends are all folds, and a
 * header_len that counts them; once ended it stays ended. Every value (or
 * the whole text) then goes through mime_addr_list(): each address it
 * returns must be valid, survive smtp_addr_format() and re-parsing, and
 * the list written back as "a, b, c" must read the same. When the value
 * has no quotes, escapes or comments, each address must also appear in it
 * as a whole token: a list may not invent or trim an address.
 */
#include "core/common.h"

#include "core/dname.h"
#include "mime/mime_hdr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ADDRS_MAX 8

static void
within(struct str s, const char *lo, size_t len)
{
	if (s.len && (s.p < lo || s.p + s.len > lo + len))
		abort();
}

static bool
ftext(char c)
{
	return (unsigned char)c >= 33 && (unsigned char)c <= 126 && c != ':';
}

/* What may touch an address in a list: space, folds, , < > : ; */
static bool
token_edge(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ',' ||
	    c == '<' || c == '>' || c == ':' || c == ';';
}

/* text occurs in v, case-insensitively, between token edges. */
static bool
has_token(struct str v, const char *text)
{
	size_t n = strlen(text), i;

	for (i = 0; n && i + n <= v.len; i++)
		if (str_caseeq(str_make(v.p + i, n), str_make(text, n)) &&
		    (i == 0 || token_edge(v.p[i - 1])) &&
		    (i + n == v.len || token_edge(v.p[i + n])))
			return true;
	return false;
}

static void
check_addr(const struct smtp_addr *a, char *text, size_t size)
{
	struct smtp_addr b;
	size_t dlen = strnlen(a->domain, sizeof(a->domain));

	if (a->null || a->postmaster_only || a->local[0] == '\0' || dlen == 0 ||
	    dlen > SMTP_DOMAIN_MAX || !dname_valid(a->domain, dlen,
	    DNAME_ALLOW_UTF8))
		abort();
	if (smtp_addr_format(a, text, size) != 0 ||
	    smtp_addr_parse(str_cstr(text), SMTP_ADDR_UTF8, &b) !=
	    SMTP_ADDR_OK || strcmp(a->local, b.local) != 0 ||
	    strcmp(a->domain, b.domain) != 0)
		abort();
}

static void
check_addr_list(struct str v, size_t max)
{
	struct smtp_addr addrs[FUZZ_ADDRS_MAX], again[FUZZ_ADDRS_MAX];
	char text[SMTP_ADDR_TEXT_MAX];
	static char list[FUZZ_ADDRS_MAX * (SMTP_ADDR_TEXT_MAX + 2)];
	size_t n = 999, n2 = 999, i, used = 0;
	bool plain;
	int rc;

	rc = mime_addr_list(v, addrs, max, &n);
	if (rc != 0 && rc != -1)
		abort();
	if (rc == -1)
		return;
	if (n > max)
		abort();
	plain = str_chr(v, '"') < 0 && str_chr(v, '\\') < 0 &&
	    str_chr(v, '(') < 0;
	for (i = 0; i < n; i++) {
		int w;

		check_addr(&addrs[i], text, sizeof(text));
		if (plain && !has_token(v, text))
			abort();
		w = snprintf(list + used, sizeof(list) - used, "%s%s",
		    i ? ", " : "", text);
		if (w < 0 || (size_t)w >= sizeof(list) - used)
			abort();
		used += (size_t)w;
	}
	/* Written back plainly, the list reads the same. */
	if (mime_addr_list(str_make(list, used), again, max, &n2) != 0 ||
	    n2 != n)
		abort();
	for (i = 0; i < n; i++)
		if (strcmp(addrs[i].local, again[i].local) != 0 ||
		    strcmp(addrs[i].domain, again[i].domain) != 0)
			abort();
}

static void
check_fields(const char *in, size_t len, size_t max)
{
	struct mime_hdr_iter it;
	struct str name, value;
	size_t calls = 0, i, before, end;
	int r;

	mime_hdr_iter_init(&it, in, len);
	for (;;) {
		before = it.header_len;
		r = mime_hdr_next(&it, &name, &value);
		if (r != 1)
			break;
		if (++calls > len)
			abort();		/* no progress */
		within(name, in, len);
		within(value, in, len);
		/* Fields are consecutive: "name:value", then the next. */
		if (name.p != in + before || name.len == 0 ||
		    value.p != name.p + name.len + 1 || value.p[-1] != ':')
			abort();
		for (i = 0; i < name.len; i++)
			if (!ftext(name.p[i]))
				abort();
		end = (size_t)(value.p + value.len - in);
		if (it.header_len != end || end <= before)
			abort();
		/* Inner line ends are folds; the value ends a line. */
		for (i = 0; i + 1 < value.len; i++)
			if (value.p[i] == '\n' && value.p[i + 1] != ' ' &&
			    value.p[i + 1] != '\t')
				abort();
		if (end != len && (value.len == 0 ||
		    value.p[value.len - 1] != '\n'))
			abort();
		if (end < len && (in[end] == ' ' || in[end] == '\t'))
			abort();		/* a fold left behind */
		check_addr_list(value, max);
	}
	if (r != 0 && r != -1)
		abort();
	if (it.header_len != before || it.header_len > len)
		abort();
	/* The section ends at the input's end or at a blank line. */
	if (r == 0 && it.header_len != len && in[it.header_len] != '\n' &&
	    !(it.header_len + 1 < len && in[it.header_len] == '\r' &&
	    in[it.header_len + 1] == '\n'))
		abort();
	/* Once ended, it stays ended. */
	if (mime_hdr_next(&it, &name, &value) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data + 1;
	size_t max;

	if (size < 1)
		return 0;
	max = 1 + ((size_t)(data[0] >> 1) & 7);
	if (data[0] & 1)
		check_addr_list(str_make(in, size - 1), max);
	else
		check_fields(in, size - 1, max);
	return 0;
}
