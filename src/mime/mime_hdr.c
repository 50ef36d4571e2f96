/*
 * mime_hdr.c - see mime_hdr.h.
 */
#include "core/common.h"

#include "core/buf.h"
#include "mime/mime_hdr.h"

#define MIME_VALUE_MAX 16384

void
mime_hdr_iter_init(struct mime_hdr_iter *it, const char *msg, size_t len)
{
	it->rest = str_make(msg, len);
	it->done = false;
	it->header_len = 0;
}

/* Length of the physical line at s (with its line end). */
static size_t
mime_line_len(struct str s)
{
	long nl = str_chr(s, '\n');

	return nl < 0 ? s.len : (size_t)nl + 1;
}

static bool
mime_field_name_char(char c)
{
	/* RFC 5322 3.6.8: ftext is %d33-57 / %d59-126. */
	return (unsigned char)c >= 33 && (unsigned char)c <= 126 && c != ':';
}

int
mime_hdr_next(struct mime_hdr_iter *it, struct str *name, struct str *value)
{
	size_t len, i, total;
	struct str line;

	if (it->done || it->rest.len == 0)
		return 0;
	len = mime_line_len(it->rest);
	line = str_make(it->rest.p, len);
	if (line.p[0] == '\n' || (line.len >= 2 && line.p[0] == '\r' &&
	    line.p[1] == '\n')) {
		it->done = true;	/* the blank line ends the section */
		return 0;
	}
	for (i = 0; i < line.len && mime_field_name_char(line.p[i]); i++)
		;
	if (i == 0 || i >= line.len || line.p[i] != ':') {
		it->done = true;
		return -1;
	}
	*name = str_make(line.p, i);
	/* Continuation lines start with a space or a tab (RFC 5322 2.2.3). */
	total = len;
	while (total < it->rest.len && (it->rest.p[total] == ' ' ||
	    it->rest.p[total] == '\t'))
		total += mime_line_len(str_sub(it->rest, total, it->rest.len));
	*value = str_make(line.p + i + 1, total - i - 1);
	it->rest = str_sub(it->rest, total, it->rest.len);
	it->header_len += total;
	return 1;
}

/*
 * Copies value without comments and line ends, whitespace collapsed to
 * single spaces outside quoted strings. -1 on unbalanced quotes/comments.
 */
static int
mime_strip_cfws(struct str v, struct buf *out)
{
	int depth = 0, r = 0;
	bool quoted = false, space = false;
	size_t i;

	for (i = 0; i < v.len; i++) {
		char c = v.p[i];

		if (quoted) {
			if (c == '\\' && i + 1 < v.len) {
				/* An escaped CR or LF goes with its '\\'. */
				c = v.p[++i];
				if (c != '\r' && c != '\n')
					r |= buf_addc(out, '\\');
			} else if (c == '"') {
				quoted = false;
			}
			if (c != '\r' && c != '\n')
				r |= buf_addc(out, c);
			continue;
		}
		if (depth > 0) {
			if (c == '\\')
				i++;
			else if (c == '(')
				depth++;
			else if (c == ')')
				depth--;
			continue;
		}
		if (c == '(') {
			depth++;
			space = true;
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			space = true;
			continue;
		}
		if (space && buf_len(out) > 0)
			r |= buf_addc(out, ' ');
		space = false;
		if (c == '"')
			quoted = true;
		r |= buf_addc(out, c);
	}
	return quoted || depth > 0 || r ? -1 : 0;
}

/* Splits at top-level c (outside quotes and angle brackets). */
static long
mime_find_top(struct str s, char c)
{
	bool quoted = false;
	int angle = 0;
	size_t i;

	for (i = 0; i < s.len; i++) {
		if (quoted) {
			if (s.p[i] == '\\')
				i++;
			else if (s.p[i] == '"')
				quoted = false;
		} else if (s.p[i] == c && angle == 0) {
			return (long)i;
		} else if (s.p[i] == '"') {
			quoted = true;
		} else if (s.p[i] == '<') {
			angle++;
		} else if (s.p[i] == '>') {
			angle--;
		}
	}
	return -1;
}

/* One mailbox: "addr-spec" or "[phrase] <addr-spec>". */
static int
mime_mailbox(struct str m, struct smtp_addr *out)
{
	const int flags = SMTP_ADDR_UTF8;
	long lt;

	m = str_trim(m);	/* before: lt indexes the trimmed m */
	lt = mime_find_top(m, '<');
	if (lt >= 0) {
		if (m.p[m.len - 1] != '>')
			return -1;
		m = str_trim(str_sub(m, (size_t)lt + 1, m.len - (size_t)lt - 2));
	}
	return smtp_addr_parse(m, flags, out) == SMTP_ADDR_OK ? 0 : -1;
}

static int
mime_add_mailboxes(struct str list, struct smtp_addr *out, size_t max,
    size_t *n)
{
	while (str_trim(list).len > 0) {
		long comma = mime_find_top(list, ',');
		struct str m = comma < 0 ? list : str_make(list.p,
		    (size_t)comma);

		if (str_trim(m).len > 0) {	/* obs-mbox-list allows ",," */
			if (*n == max || mime_mailbox(m, &out[*n]) == -1)
				return -1;
			(*n)++;
		}
		if (comma < 0)
			break;
		list = str_sub(list, (size_t)comma + 1, list.len);
	}
	return 0;
}

/* One top-level item of an address-list: a group or a mailbox. */
static int
mime_list_item(struct str *s, struct smtp_addr *out, size_t max, size_t *n)
{
	long comma = mime_find_top(*s, ','), colon = mime_find_top(*s, ':');
	long semi;
	struct str item;

	if (colon >= 0 && (comma < 0 || colon < comma)) {
		/* A group: "display-name: [mailbox-list] ;" (RFC 5322 3.4). */
		semi = mime_find_top(*s, ';');
		if (semi < colon)
			return -1;
		item = str_sub(*s, (size_t)colon + 1, (size_t)(semi - colon - 1));
		*s = str_trim(str_sub(*s, (size_t)semi + 1, s->len));
		if (s->len && s->p[0] == ',')
			*s = str_sub(*s, 1, s->len);
		return mime_add_mailboxes(item, out, max, n);
	}
	item = comma < 0 ? *s : str_make(s->p, (size_t)comma);
	*s = comma < 0 ? str_sub(*s, s->len, 0) : str_sub(*s, (size_t)comma + 1,
	    s->len);
	return mime_add_mailboxes(item, out, max, n);
}

int
mime_addr_list(struct str value, struct smtp_addr *out, size_t max,
    size_t *n)
{
	struct buf clean;
	struct str s;
	int r = 0;

	*n = 0;
	buf_init(&clean, MIME_VALUE_MAX);
	if (mime_strip_cfws(value, &clean) == -1) {
		buf_release(&clean);
		return -1;
	}
	s = str_make(buf_data(&clean), buf_len(&clean));
	while (r == 0 && str_trim(s).len > 0)
		r = mime_list_item(&s, out, max, n);
	buf_release(&clean);
	return r;
}
