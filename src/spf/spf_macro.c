/*
 * spf_macro.c - see spf_macro.h.
 */
#include "core/common.h"

#include <arpa/inet.h>

#include "core/limits.h"
#include "spf/spf_macro.h"

/* RFC 7208 7.1 macro-literal (%x21-24 / %x26-7E), and SP in explanations. */
static bool
spf_literal_ok(char c, int flags)
{
	unsigned char u = (unsigned char)c;

	if (u == ' ')
		return (flags & SPF_MACRO_EXP) != 0;
	return u >= 0x21 && u <= 0x7e && u != '%';
}

/* RFC 7208 7.1 delimiter. */
static bool
spf_delim_ok(char c)
{
	return c != '\0' && strchr(".-+,/_=", c) != NULL;
}

/* RFC 7208 7.2: c, r and t are for explanations only. */
static bool
spf_letter_ok(char c, int flags)
{
	if (c == 'c' || c == 'r' || c == 't')
		return (flags & SPF_MACRO_EXP) != 0;
	return c != '\0' && strchr("slodiphv", c) != NULL;
}

/* "%{" letter *DIGIT [ "r" ] *delimiter "}", after the "%{". */
static int
spf_macro_body(struct str *cur, int flags, struct spf_macro_tok *tok,
    const char **error_r)
{
	size_t i = 2, digits = 0;

	if (i >= cur->len || !spf_letter_ok(ascii_lower(cur->p[i]), flags)) {
		*error_r = "invalid macro letter";
		return -1;
	}
	tok->letter = ascii_lower(cur->p[i]);
	tok->upper = cur->p[i] != tok->letter;
	for (i++; i < cur->len && ascii_isdigit(cur->p[i]); i++, digits++)
		/* More parts than there are means all of them (7.3). */
		tok->parts = MIN(tok->parts * 10 + (size_t)(cur->p[i] - '0'),
		    (size_t)SPF_EXPAND_MAX);
	if (digits > 0 && tok->parts == 0) {
		*error_r = "macro transformer of zero parts";
		return -1;
	}
	if (i < cur->len && ascii_lower(cur->p[i]) == 'r') {
		tok->reverse = true;
		i++;
	}
	tok->delims.p = cur->p + i;
	while (i < cur->len && spf_delim_ok(cur->p[i]))
		i++;
	tok->delims.len = (size_t)(cur->p + i - tok->delims.p);
	if (i >= cur->len || cur->p[i] != '}') {
		*error_r = "unterminated or invalid macro";
		return -1;
	}
	tok->kind = SPF_TOK_MACRO;
	tok->text = str_sub(*cur, 0, i + 1);
	return 0;
}

int
spf_macro_next(struct str *cur, int flags, struct spf_macro_tok *tok,
    const char **error_r)
{
	size_t i;

	memset(tok, 0, sizeof(*tok));
	if (cur->len == 0)
		return 0;
	if (cur->p[0] != '%') {
		for (i = 0; i < cur->len && cur->p[i] != '%'; i++)
			if (!spf_literal_ok(cur->p[i], flags)) {
				*error_r = "invalid character";
				return -1;
			}
		tok->kind = SPF_TOK_LITERAL;
		tok->text = str_sub(*cur, 0, i);
	} else if (cur->len >= 2 && (cur->p[1] == '%' || cur->p[1] == '_' ||
	    cur->p[1] == '-')) {
		tok->kind = SPF_TOK_ESCAPE;
		tok->text = str_sub(*cur, 0, 2);
	} else if (cur->len >= 2 && cur->p[1] == '{') {
		if (spf_macro_body(cur, flags, tok, error_r) == -1)
			return -1;
	} else {
		/* RFC 7208 7.1: any other '%' is a syntax error. */
		*error_r = "'%' not followed by '{', '%', '_' or '-'";
		return -1;
	}
	*cur = str_sub(*cur, tok->text.len, SIZE_MAX);
	return 1;
}

int
spf_macro_check(struct str s, int flags, const char **error_r)
{
	struct spf_macro_tok tok;
	int r;

	while ((r = spf_macro_next(&s, flags, &tok, error_r)) == 1)
		;
	return r;
}

bool
spf_macro_uses(struct str s, char letter)
{
	struct spf_macro_tok tok;
	const char *err;

	while (spf_macro_next(&s, SPF_MACRO_EXP, &tok, &err) == 1)
		if (tok.kind == SPF_TOK_MACRO && tok.letter == letter)
			return true;
	return false;
}

/*
 * RFC 7208 4.6.1 toplabel: ( *alphanum ALPHA *alphanum ) /
 * ( 1*alphanum "-" *( alphanum / "-" ) alphanum ).
 */
bool
spf_toplabel_valid(struct str s)
{
	bool alpha = false, hyphen = false;
	size_t i;

	if (s.len == 0 || !ascii_isalnum(s.p[0]) ||
	    !ascii_isalnum(s.p[s.len - 1]))
		return false;
	for (i = 0; i < s.len; i++) {
		if (s.p[i] == '-')
			hyphen = true;
		else if (ascii_isalpha(s.p[i]))
			alpha = true;
		else if (!ascii_isdigit(s.p[i]))
			return false;
	}
	return alpha || hyphen;
}

bool
spf_domain_end_valid(struct str s)
{
	struct spf_macro_tok tok, last;
	const char *err;
	long dot;

	memset(&last, 0, sizeof(last));
	while (spf_macro_next(&s, SPF_MACRO_EXP, &tok, &err) == 1)
		last = tok;
	/* domain-end = ( "." toplabel [ "." ] ) / macro-expand */
	if (last.text.len == 0)
		return false;
	if (last.kind != SPF_TOK_LITERAL)
		return true;
	s = last.text;
	if (s.p[s.len - 1] == '.')
		s.len--;
	dot = str_rchr(s, '.');
	return dot >= 0 && spf_toplabel_valid(str_sub(s, (size_t)dot + 1,
	    SIZE_MAX));
}

/* Where expanded bytes go: a domain window, or a capped explanation. */
struct spf_out {
	struct buf	*b;
	int		 flags;
	bool		 skipping;	/* inside a label dropped whole */
};

/*
 * RFC 7208 7.3: a name longer than 253 octets loses labels on the left.
 * Dropping them as soon as the window is full gives the same name as
 * dropping them at the end, with bounded memory for any input.
 */
static void
spf_out_drop_label(struct spf_out *o)
{
	long dot = str_chr(str_make(buf_data(o->b), buf_len(o->b)), '.');

	if (dot >= 0) {
		buf_consume(o->b, (size_t)dot + 1);
		return;
	}
	buf_reset(o->b);
	o->skipping = true;
}

static int
spf_out_byte(struct spf_out *o, char c)
{
	if (o->flags & SPF_MACRO_EXP) {
		if (buf_len(o->b) >= SPF_EXPLAIN_MAX)
			return 0;	/* cut, on purpose */
		if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f)
			c = '?';
		return buf_addc(o->b, c);
	}
	if (!o->skipping && buf_len(o->b) >= SPF_EXPAND_MAX)
		spf_out_drop_label(o);
	if (o->skipping) {
		o->skipping = c != '.';
		return 0;
	}
	return buf_addc(o->b, c);
}

static int
spf_out_add(struct spf_out *o, const char *p, size_t len, bool urlenc)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];
		int r;

		/* RFC 7208 7.3: escape all but RFC 3986 2.3 "unreserved". */
		if (!urlenc || ascii_isalnum((char)c) || c == '-' ||
		    c == '.' || c == '_' || c == '~')
			r = spf_out_byte(o, (char)c);
		else if ((r = spf_out_byte(o, '%')) == 0 &&
		    (r = spf_out_byte(o, hex[c >> 4])) == 0)
			r = spf_out_byte(o, hex[c & 15]);
		if (r == -1)
			return -1;
	}
	return 0;
}

/* %{i}: dotted quad, or 32 dotted nibbles for IPv6 (RFC 7208 7.3). */
static struct str
spf_value_ip(const struct spf_macro_ctx *ctx, char *tmp, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;

	if (ctx->family != AF_INET6) {
		snprintf(tmp, size, "%u.%u.%u.%u", ctx->ip[0], ctx->ip[1],
		    ctx->ip[2], ctx->ip[3]);
		return str_cstr(tmp);
	}
	for (i = 0; i < 16 && o + 4 <= size; i++) {
		tmp[o++] = hex[ctx->ip[i] >> 4];
		tmp[o++] = '.';
		tmp[o++] = hex[ctx->ip[i] & 15];
		tmp[o++] = '.';
	}
	return str_make(tmp, o ? o - 1 : 0);
}

static struct str
spf_value_local(const char *sender)
{
	const char *at = strrchr(sender, '@');

	/* RFC 7208 4.3: no local-part means "postmaster". */
	if (at == NULL || at == sender)
		return STR_LIT("postmaster");
	return str_make(sender, (size_t)(at - sender));
}

static struct str
spf_or_unknown(const char *s)
{
	return s != NULL ? str_cstr(s) : STR_LIT("unknown");
}

static const char *
spf_nonnull(const char *s)
{
	return s != NULL ? s : "";
}

/* RFC 7208 7.2: what a macro letter stands for. */
static struct str
spf_value(const struct spf_macro_ctx *ctx, char letter, char *tmp,
    size_t size)
{
	const char *sender = spf_nonnull(ctx->sender), *at;

	tmp[0] = '\0';
	switch (letter) {
	case 's':
		return str_cstr(sender);
	case 'l':
		return spf_value_local(sender);
	case 'o':
		at = strrchr(sender, '@');
		return str_cstr(at != NULL ? at + 1 : sender);
	case 'd':
		return str_cstr(spf_nonnull(ctx->domain));
	case 'i':
		return spf_value_ip(ctx, tmp, size);
	case 'p':
		return spf_or_unknown(ctx->ptr);
	case 'v':
		return ctx->family == AF_INET6 ? STR_LIT("ip6") :
		    STR_LIT("in-addr");
	case 'h':
		return str_cstr(spf_nonnull(ctx->helo));
	case 'c':
		if (inet_ntop(ctx->family == AF_INET6 ? AF_INET6 : AF_INET,
		    ctx->ip, tmp, (socklen_t)size) == NULL)
			tmp[0] = '\0';
		return str_cstr(tmp);
	case 'r':
		return spf_or_unknown(ctx->receiver);
	case 't':
		snprintf(tmp, size, "%lld", ctx->now);
		return str_cstr(tmp);
	}
	return STR_NULL;
}

static bool
spf_is_delim(char c, struct str delims)
{
	return delims.len == 0 ? c == '.' : str_chr(delims, c) >= 0;
}

static size_t
spf_part_count(struct str v, struct str delims)
{
	size_t i, n = 1;

	for (i = 0; i < v.len; i++)
		if (spf_is_delim(v.p[i], delims))
			n++;
	return n;
}

/* The part starting at *pos, walking left to right. */
static struct str
spf_part_next(struct str v, struct str delims, size_t *pos)
{
	size_t start = *pos, end = start;

	while (end < v.len && !spf_is_delim(v.p[end], delims))
		end++;
	*pos = end + 1;
	return str_make(v.p + start, end - start);
}

/* The part ending at *pos, walking right to left. */
static struct str
spf_part_prev(struct str v, struct str delims, size_t *pos)
{
	size_t end = *pos, start = end;

	while (start > 0 && !spf_is_delim(v.p[start - 1], delims))
		start--;
	*pos = start > 0 ? start - 1 : 0;
	return str_make(v.p + start, end - start);
}

/*
 * RFC 7208 7.3: split on the delimiters, reverse with "r", keep the
 * rightmost N parts, join them with ".". Walking the parts backwards
 * when reversed, the kept ones are the last N met either way.
 */
static int
spf_expand_macro(struct spf_out *o, const struct spf_macro_tok *tok,
    struct str v)
{
	size_t n = spf_part_count(v, tok->delims), keep, k, pos;
	struct str part;

	keep = tok->parts == 0 || tok->parts > n ? n : tok->parts;
	pos = tok->reverse ? v.len : 0;
	for (k = 0; k < n; k++) {
		part = tok->reverse ? spf_part_prev(v, tok->delims, &pos) :
		    spf_part_next(v, tok->delims, &pos);
		if (k < n - keep)
			continue;
		if (k > n - keep && spf_out_add(o, ".", 1, false) == -1)
			return -1;
		if (spf_out_add(o, part.p, part.len, tok->upper) == -1)
			return -1;
	}
	return 0;
}

static int
spf_expand_tok(struct spf_out *o, const struct spf_macro_tok *tok,
    const struct spf_macro_ctx *ctx)
{
	char tmp[80];

	switch (tok->kind) {
	case SPF_TOK_LITERAL:
		return spf_out_add(o, tok->text.p, tok->text.len, false);
	case SPF_TOK_ESCAPE:
		/* RFC 7208 7.1: "%%" "%", "%_" a space, "%-" "%20". */
		if (tok->text.p[1] == '%')
			return spf_out_add(o, "%", 1, false);
		if (tok->text.p[1] == '_')
			return spf_out_add(o, " ", 1, false);
		return spf_out_add(o, "%20", 3, false);
	case SPF_TOK_MACRO:
		return spf_expand_macro(o, tok, spf_value(ctx, tok->letter,
		    tmp, sizeof(tmp)));
	}
	return -1;
}

/* RFC 7208 7.3: one trailing dot goes, then labels on the left. */
static int
spf_name_finish(struct spf_out *o, const char **error_r)
{
	struct buf *b = o->b;

	if (o->skipping) {
		*error_r = "expanded name is one overlong label";
		return -1;
	}
	if (buf_len(b) > 0 && buf_data(b)[buf_len(b) - 1] == '.')
		buf_truncate(b, buf_len(b) - 1);
	while (buf_len(b) > SPF_NAME_MAX) {
		long dot = str_chr(str_make(buf_data(b), buf_len(b)), '.');

		if (dot < 0) {
			*error_r = "expanded name is one overlong label";
			return -1;
		}
		buf_consume(b, (size_t)dot + 1);
	}
	return 0;
}

int
spf_macro_expand(struct str s, const struct spf_macro_ctx *ctx, int flags,
    struct buf *out, const char **error_r)
{
	struct spf_out o = { out, flags, false };
	struct spf_macro_tok tok;
	int r;

	buf_reset(out);
	while ((r = spf_macro_next(&s, flags, &tok, error_r)) == 1)
		if (spf_expand_tok(&o, &tok, ctx) == -1) {
			*error_r = "expansion too long";
			return -1;
		}
	if (r == -1)
		return -1;
	if (flags & SPF_MACRO_EXP)
		return 0;
	return spf_name_finish(&o, error_r);
}

bool
spf_name_valid(const char *p, size_t len, bool multi)
{
	size_t i, label = 0, labels = 1;

	if (len == 0 || len > SPF_NAME_MAX)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
			labels++;
			continue;
		}
		if (c < 0x20 || c > 0x7e || c == '\\' ||
		    ++label > DNS_LABEL_MAX)
			return false;
	}
	return label > 0 && (!multi || labels >= 2);
}

int
spf_reverse_name(int family, const unsigned char *ip, char *out,
    size_t size)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	int i, n;

	if (family == AF_INET) {
		n = snprintf(out, size, "%u.%u.%u.%u.in-addr.arpa", ip[3],
		    ip[2], ip[1], ip[0]);
		return n < 0 || (size_t)n >= size ? -1 : 0;
	}
	if (size < 64 + sizeof("ip6.arpa"))
		return -1;
	for (i = 15; i >= 0; i--) {
		out[o++] = hex[ip[i] & 15];
		out[o++] = '.';
		out[o++] = hex[ip[i] >> 4];
		out[o++] = '.';
	}
	memcpy(out + o, "ip6.arpa", sizeof("ip6.arpa"));
	return 0;
}
