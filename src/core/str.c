/*
 * str.c - see str.h.
 */
#include "core/common.h"

#include "core/str.h"

struct str
str_make(const char *p, size_t len)
{
	return (struct str){ p, len };
}

struct str
str_cstr(const char *s)
{
	return (struct str){ s, s ? strlen(s) : 0 };
}

bool
str_eq(struct str a, struct str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

bool
str_caseeq(struct str a, struct str b)
{
	size_t i;

	if (a.len != b.len)
		return false;
	for (i = 0; i < a.len; i++)
		if (ascii_lower(a.p[i]) != ascii_lower(b.p[i]))
			return false;
	return true;
}

bool
str_caseeq_cstr(struct str a, const char *s)
{
	return str_caseeq(a, str_cstr(s));
}

bool
str_has_prefix_case(struct str a, const char *prefix)
{
	size_t n = strlen(prefix);

	return a.len >= n && str_caseeq(str_make(a.p, n), str_make(prefix, n));
}

long
str_chr(struct str s, char c)
{
	const char *q = s.len ? memchr(s.p, c, s.len) : NULL;

	return q ? (long)(q - s.p) : -1;
}

long
str_rchr(struct str s, char c)
{
	size_t i;

	for (i = s.len; i > 0; i--)
		if (s.p[i - 1] == c)
			return (long)(i - 1);
	return -1;
}

struct str
str_sub(struct str s, size_t off, size_t len)
{
	if (off > s.len)
		off = s.len;
	if (len > s.len - off)
		len = s.len - off;
	return str_make(s.p + off, len);
}

static bool
is_ws(char c)
{
	return c == ' ' || c == '\t';
}

struct str
str_trim(struct str s)
{
	while (s.len && is_ws(s.p[0])) {
		s.p++;
		s.len--;
	}
	while (s.len && is_ws(s.p[s.len - 1]))
		s.len--;
	return s;
}

bool
str_take_char(struct str *cur, char c)
{
	if (cur->len == 0 || cur->p[0] != c)
		return false;
	cur->p++;
	cur->len--;
	return true;
}

bool
str_take_case(struct str *cur, const char *word)
{
	size_t n = strlen(word);

	if (!str_has_prefix_case(*cur, word))
		return false;
	cur->p += n;
	cur->len -= n;
	return true;
}

bool
str_take_word(struct str *cur, struct str *out, size_t max)
{
	size_t i = 0;

	while (i < cur->len && !is_ws(cur->p[i]))
		i++;
	if (i == 0 || i > max)
		return false;
	*out = str_make(cur->p, i);
	cur->p += i;
	cur->len -= i;
	return true;
}

size_t
str_skip_ws(struct str *cur)
{
	size_t n = 0;

	while (cur->len && is_ws(cur->p[0])) {
		cur->p++;
		cur->len--;
		n++;
	}
	return n;
}

int
str_to_u64(struct str s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (s.len == 0 || s.len > 20)
		return -1;
	for (i = 0; i < s.len; i++) {
		unsigned d;

		if (!ascii_isdigit(s.p[i]))
			return -1;
		d = (unsigned)(s.p[i] - '0');
		if (d > max || v > (max - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int
str_copy(char *dst, size_t dstsize, struct str s)
{
	if (dstsize == 0)
		return -1;
	if (s.len >= dstsize) {
		dst[0] = '\0';
		return -1;
	}
	if (s.len)
		memcpy(dst, s.p, s.len);
	dst[s.len] = '\0';
	return 0;
}

int
cstr_copy(char *dst, size_t dstsize, const char *src)
{
	return str_copy(dst, dstsize, str_cstr(src));
}

void
ascii_lower_inplace(char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		s[i] = ascii_lower(s[i]);
}

void
cstr_unctrl(char *s)
{
	for (; *s; s++)
		if (ascii_iscntrl(*s))
			*s = '?';
}
