/*
 * dname.c - see dname.h.
 */
#include "core/common.h"

#include "core/dname.h"
#include "core/limits.h"
#include "core/str.h"

/* Length of the UTF-8 sequence at p (0 if invalid). RFC 3629 4. */
static size_t
utf8_seq(const unsigned char *p, size_t len)
{
	unsigned c = p[0];
	size_t n, i;
	unsigned cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

bool
utf8_valid(const char *p, size_t len)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t i = 0, n;

	while (i < len) {
		n = utf8_seq(u + i, len - i);
		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

static bool
dname_label_valid(const char *p, size_t len, int flags)
{
	bool utf8 = false;
	size_t i;

	if (len == 0 || len > DNS_LABEL_MAX)
		return false;
	if (p[0] == '-' || p[len - 1] == '-')
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c >= 0x80 && (flags & DNAME_ALLOW_UTF8)) {
			utf8 = true;
			continue;
		}
		if (!ascii_isalnum((char)c) && c != '-')
			return false;
	}
	return !utf8 || utf8_valid(p, len);
}

/* RFC 3696 2: a top-level domain is never all-numeric ("1.2.3.4"). */
static bool
dname_numeric_tld(const char *p, size_t len)
{
	size_t i = len;

	while (i > 0 && p[i - 1] != '.') {
		if (!ascii_isdigit(p[i - 1]))
			return false;
		i--;
	}
	return true;
}

bool
dname_valid(const char *p, size_t len, int flags)
{
	size_t start = 0, i, labels = 0;

	if (len == 0 || len > SMTP_DOMAIN_MAX)
		return false;
	for (i = 0; i <= len; i++) {
		if (i < len && p[i] != '.')
			continue;
		if (!dname_label_valid(p + start, i - start, flags))
			return false;
		labels++;
		start = i + 1;
	}
	if (!(flags & DNAME_SELECTOR) && dname_numeric_tld(p, len))
		return false;
	return labels >= 2 || (flags & DNAME_ALLOW_SINGLE);
}
