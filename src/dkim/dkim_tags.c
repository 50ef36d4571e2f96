/*
 * dkim_tags.c - the tag=value lists of RFC 6376 3.2, shared by the
 * DKIM-Signature field and the key record, plus colon lists and base64
 * with folding white space. Pure; fuzzed through fuzz_dkim_sig and
 * fuzz_dkim_key.
 */
#include "core/common.h"

#include "auth/auth_sasl.h"
#include "dkim/dkim_int.h"

/*
 * FWS (RFC 5322 3.2.2) is WSP with optional CRLF folds. A field value
 * cannot hold a line end that is not a fold (the header iterator ends the
 * field there), and a TXT record holds none, so any CR or LF is taken as
 * part of FWS: the grammar's distinction buys nothing here.
 */
bool
dkim_is_fws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

struct str
dkim_trim_fws(struct str s)
{
	while (s.len && dkim_is_fws(s.p[0])) {
		s.p++;
		s.len--;
	}
	while (s.len && dkim_is_fws(s.p[s.len - 1]))
		s.len--;
	return s;
}

struct str
dkim_strip_eol(struct str s)
{
	if (s.len && s.p[s.len - 1] == '\n') {
		s.len--;
		if (s.len && s.p[s.len - 1] == '\r')
			s.len--;
	}
	return s;
}

static void
dkim_skip_fws(struct str *cur)
{
	while (cur->len && dkim_is_fws(cur->p[0])) {
		cur->p++;
		cur->len--;
	}
}

/* RFC 6376 3.2: ALNUMPUNC = ALPHA / DIGIT / "_". */
static bool
dkim_alnumpunc(char c)
{
	return ascii_isalnum(c) || c == '_';
}

/*
 * RFC 6376 3.2: VALCHAR = %x21-3A / %x3C-7E, with FWS between runs.
 * Octets above 0x7E are let through: RFC 8616 allows UTF-8 in i=.
 */
static bool
dkim_valchar(char c)
{
	unsigned char u = (unsigned char)c;

	return (u >= 0x21 && u != ';' && u != 0x7f) || dkim_is_fws(c);
}

/* One tag-spec at *cur, which is left at the ';' or the end. */
static int
dkim_tag_spec(struct str *cur, struct dkim_tag *tag, const char **error_r)
{
	size_t i = 0;

	/* RFC 6376 3.2: tag-name = ALPHA *ALNUMPUNC. */
	if (cur->len == 0 || !ascii_isalpha(cur->p[0])) {
		*error_r = "bad tag name";
		return -1;
	}
	while (i < cur->len && dkim_alnumpunc(cur->p[i]))
		i++;
	tag->name = str_make(cur->p, i);
	*cur = str_sub(*cur, i, cur->len);
	dkim_skip_fws(cur);
	if (!str_take_char(cur, '=')) {
		*error_r = "tag without '='";
		return -1;
	}
	for (i = 0; i < cur->len && cur->p[i] != ';'; i++) {
		if (!dkim_valchar(cur->p[i])) {
			*error_r = "bad character in tag value";
			return -1;
		}
	}
	tag->raw = str_make(cur->p, i);
	tag->value = dkim_trim_fws(tag->raw);
	*cur = str_sub(*cur, i, cur->len);
	return 0;
}

/* The tag called name among the first n, or NULL. */
static const struct dkim_tag *
dkim_tags_lookup(const struct dkim_tags *tags, size_t n, struct str name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (str_eq(tags->tag[i].name, name))
			return &tags->tag[i];
	return NULL;
}

int
dkim_tags_parse(struct str in, struct dkim_tags *tags, const char **error_r)
{
	struct str cur = in;
	struct dkim_tag *t;

	tags->n = 0;
	for (;;) {
		/* RFC 6376 3.2: a final ';' (and FWS after it) is allowed. */
		dkim_skip_fws(&cur);
		if (cur.len == 0)
			return 0;
		if (tags->n == DKIM_TAGS_MAX) {
			*error_r = "too many tags";
			return -1;
		}
		t = &tags->tag[tags->n];
		if (dkim_tag_spec(&cur, t, error_r) == -1)
			return -1;
		/* RFC 6376 3.2: a duplicate makes the whole list invalid. */
		if (dkim_tags_lookup(tags, tags->n, t->name) != NULL) {
			*error_r = "duplicate tag";
			return -1;
		}
		tags->n++;
		if (!str_take_char(&cur, ';'))
			return 0;
	}
}

const struct dkim_tag *
dkim_tags_find(const struct dkim_tags *tags, const char *name)
{
	return dkim_tags_lookup(tags, tags->n, str_cstr(name));
}

void
dkim_list_init(struct dkim_list *l, struct str s)
{
	l->rest = s;
	l->done = false;
}

bool
dkim_list_next(struct dkim_list *l, struct str *item)
{
	long colon;

	if (l->done)
		return false;
	colon = str_chr(l->rest, ':');
	if (colon < 0) {
		*item = dkim_trim_fws(l->rest);
		l->done = true;
		return true;
	}
	*item = dkim_trim_fws(str_make(l->rest.p, (size_t)colon));
	l->rest = str_sub(l->rest, (size_t)colon + 1, l->rest.len);
	return true;
}

bool
dkim_list_has(struct str s, const char *word)
{
	struct dkim_list l;
	struct str item;

	dkim_list_init(&l, s);
	while (dkim_list_next(&l, &item))
		if (str_caseeq_cstr(item, word))
			return true;
	return false;
}

int
dkim_b64_decode(struct str in, struct buf *out)
{
	struct buf packed;
	size_t i;
	int r = 0;

	/* RFC 6376 3.5 b=: "Whitespace is ignored in this value". */
	buf_init(&packed, in.len);
	for (i = 0; i < in.len; i++)
		if (!dkim_is_fws(in.p[i]))
			r |= buf_addc(&packed, in.p[i]);
	/* auth_b64_decode takes a lone "=" for empty: not here. */
	if (r == 0 && buf_len(&packed) > 1)
		r = auth_b64_decode(str_make(buf_data(&packed),
		    buf_len(&packed)), out);
	else
		r = -1;
	buf_release(&packed);
	return r;
}
