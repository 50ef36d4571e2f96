/*
 * smtp_addr.c - see smtp_addr.h.
 *
 * Grammar (RFC 5321 4.1.2, RFC 6531 3.3):
 *   Path       = "<" [ A-d-l ":" ] Mailbox ">"
 *   Mailbox    = Local-part "@" ( Domain / address-literal )
 *   Local-part = Dot-string / Quoted-string
 *   Dot-string = Atom *("." Atom)
 */
#include "core/common.h"

#include "core/dname.h"
#include "smtp/smtp_addr.h"

/* RFC 5322 3.2.3 atext, minus the routing characters when strict. */
static bool
smtp_atext(unsigned char c, int flags)
{
	if (c >= 0x80)
		return (flags & SMTP_ADDR_UTF8) != 0;
	if (ascii_isalnum((char)c))
		return true;
	if ((c == '%' || c == '!') && (flags & SMTP_ADDR_STRICT))
		return false;
	return strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL && c != '\0';
}

/* A dot-string: atoms separated by single dots. */
static bool
smtp_dot_string(struct str s, int flags)
{
	size_t i;

	if (s.len == 0 || s.p[0] == '.' || s.p[s.len - 1] == '.')
		return false;
	for (i = 0; i < s.len; i++) {
		if (s.p[i] == '.') {
			if (s.p[i - 1] == '.')
				return false;
			continue;
		}
		if (!smtp_atext((unsigned char)s.p[i], flags))
			return false;
	}
	return !(flags & SMTP_ADDR_UTF8) || utf8_valid(s.p, s.len);
}

static bool
smtp_has_non_ascii(struct str s)
{
	size_t i;

	for (i = 0; i < s.len; i++)
		if ((unsigned char)s.p[i] >= 0x80)
			return true;
	return false;
}

/*
 * Quoted-string local part. Refuses escapes and the characters that could
 * turn into routing after unquoting. Content that is a dot-string is
 * returned unquoted.
 */
static enum smtp_addr_err
smtp_parse_quoted(struct str q, int flags, struct smtp_addr *addr)
{
	struct str in = str_sub(q, 1, q.len - 2);
	size_t i;

	for (i = 0; i < in.len; i++) {
		unsigned char c = (unsigned char)in.p[i];

		if (c == '@' || c == '%' || c == '!' || c == '\\' || c == '"' ||
		    c < 0x20 || c == 0x7f)
			return SMTP_ADDR_ERR_QUOTED;
		if (c >= 0x80 && !(flags & SMTP_ADDR_UTF8))
			return SMTP_ADDR_ERR_UTF8;
	}
	if (in.len == 0 || ((flags & SMTP_ADDR_UTF8) && !utf8_valid(in.p,
	    in.len)))
		return SMTP_ADDR_ERR_QUOTED;
	if (smtp_dot_string(in, flags))
		q = in;
	if (str_copy(addr->local, sizeof(addr->local), q) == -1)
		return SMTP_ADDR_ERR_TOOLONG;
	return SMTP_ADDR_OK;
}

static enum smtp_addr_err
smtp_parse_local(struct str local, int flags, struct smtp_addr *addr)
{
	if (local.len == 0)
		return SMTP_ADDR_ERR_SYNTAX;
	if (smtp_has_non_ascii(local) && !(flags & SMTP_ADDR_UTF8))
		return SMTP_ADDR_ERR_UTF8;
	if (local.len > SMTP_LOCAL_MAX)
		return SMTP_ADDR_ERR_TOOLONG;
	if (local.p[0] == '"') {
		if (local.len < 2 || local.p[local.len - 1] != '"')
			return SMTP_ADDR_ERR_QUOTED;
		return smtp_parse_quoted(local, flags, addr);
	}
	if (!smtp_dot_string(local, flags)) {
		if ((flags & SMTP_ADDR_STRICT) && (str_chr(local, '%') >= 0 ||
		    str_chr(local, '!') >= 0))
			return SMTP_ADDR_ERR_RELAYCHAR;
		return SMTP_ADDR_ERR_SYNTAX;
	}
	if (str_copy(addr->local, sizeof(addr->local), local) == -1)
		return SMTP_ADDR_ERR_TOOLONG;
	return SMTP_ADDR_OK;
}

static enum smtp_addr_err
smtp_parse_domain(struct str d, int flags, struct smtp_addr *addr)
{
	if (d.len == 0)
		return SMTP_ADDR_ERR_SYNTAX;
	if (d.p[0] == '[')
		return SMTP_ADDR_ERR_LITERAL;
	if (str_chr(d, '@') >= 0)
		return SMTP_ADDR_ERR_RELAYCHAR;
	if (d.p[d.len - 1] == '.')
		return SMTP_ADDR_ERR_TRAILING_DOT;
	if (smtp_has_non_ascii(d) && !(flags & SMTP_ADDR_UTF8))
		return SMTP_ADDR_ERR_UTF8;
	if (d.len > SMTP_DOMAIN_MAX)
		return SMTP_ADDR_ERR_TOOLONG;
	if (!dname_valid(d.p, d.len, flags & SMTP_ADDR_UTF8 ?
	    DNAME_ALLOW_UTF8 : 0))
		return SMTP_ADDR_ERR_DOMAIN;
	if (str_copy(addr->domain, sizeof(addr->domain), d) == -1)
		return SMTP_ADDR_ERR_TOOLONG;
	ascii_lower_inplace(addr->domain, d.len);
	return SMTP_ADDR_OK;
}

/* Finds the '@' that ends the local part, skipping a quoted string. */
static long
smtp_find_at(struct str s)
{
	size_t i = 0;

	if (s.len && s.p[0] == '"') {
		for (i = 1; i < s.len && s.p[i] != '"'; i++)
			if (s.p[i] == '\\')
				i++;
		if (i >= s.len)
			return -1;
	}
	for (; i < s.len; i++)
		if (s.p[i] == '@')
			return (long)i;
	return -1;
}

/* Finds the '>' that ends a path, skipping quoted strings. */
static long
smtp_find_close(struct str s)
{
	bool quoted = false;
	size_t i;

	for (i = 0; i < s.len; i++) {
		if (quoted && s.p[i] == '\\')
			i++;
		else if (s.p[i] == '"')
			quoted = !quoted;
		else if (!quoted && s.p[i] == '>')
			return (long)i;
	}
	return -1;
}

enum smtp_addr_err
smtp_addr_parse(struct str s, int flags, struct smtp_addr *addr)
{
	enum smtp_addr_err err;
	long at;

	memset(addr, 0, sizeof(*addr));
	if (s.len == 0)
		return SMTP_ADDR_ERR_SYNTAX;
	at = smtp_find_at(s);
	if (at < 0)
		return str_chr(s, '%') >= 0 || str_chr(s, '!') >= 0 ?
		    SMTP_ADDR_ERR_RELAYCHAR : SMTP_ADDR_ERR_SYNTAX;
	err = smtp_parse_local(str_make(s.p, (size_t)at), flags, addr);
	if (err == SMTP_ADDR_OK)
		err = smtp_parse_domain(str_sub(s, (size_t)at + 1, s.len),
		    flags, addr);
	/* A second '@' after a bad local part is still the relay trick. */
	if (err == SMTP_ADDR_ERR_SYNTAX &&
	    str_chr(str_sub(s, (size_t)at + 1, s.len), '@') >= 0)
		err = SMTP_ADDR_ERR_RELAYCHAR;
	addr->utf8 = smtp_has_non_ascii(s);
	return err;
}

enum smtp_addr_err
smtp_addr_parse_path(struct str *cur, int flags, struct smtp_addr *addr)
{
	struct str in = *cur, inner;
	enum smtp_addr_err err;
	long close;

	memset(addr, 0, sizeof(*addr));
	if (!str_take_char(&in, '<'))
		return SMTP_ADDR_ERR_SYNTAX;
	close = smtp_find_close(in);
	if (close < 0)
		return SMTP_ADDR_ERR_SYNTAX;
	if ((size_t)close + 2 > SMTP_PATH_MAX)
		return SMTP_ADDR_ERR_TOOLONG;
	inner = str_make(in.p, (size_t)close);
	if (inner.len == 0) {
		if (!(flags & SMTP_ADDR_NULL_OK))
			return SMTP_ADDR_ERR_NULL;
		addr->null = true;
	} else if (inner.p[0] == '@') {
		return SMTP_ADDR_ERR_ROUTE;
	} else if ((flags & SMTP_ADDR_POSTMASTER) &&
	    str_caseeq_cstr(inner, "postmaster")) {
		/* RFC 5321 4.1.1.3: "<Postmaster>" must be accepted. */
		memcpy(addr->local, "postmaster", sizeof("postmaster"));
		addr->postmaster_only = true;
	} else if ((err = smtp_addr_parse(inner, flags, addr)) !=
	    SMTP_ADDR_OK) {
		return err;
	}
	*cur = str_sub(in, (size_t)close + 1, in.len);
	return SMTP_ADDR_OK;
}

const char *
smtp_addr_strerror(enum smtp_addr_err err)
{
	switch (err) {
	case SMTP_ADDR_OK:
		return "ok";
	case SMTP_ADDR_ERR_SYNTAX:
		return "address syntax error";
	case SMTP_ADDR_ERR_TOOLONG:
		return "address too long";
	case SMTP_ADDR_ERR_ROUTE:
		return "source routes are not accepted";
	case SMTP_ADDR_ERR_LITERAL:
		return "address literals are not accepted";
	case SMTP_ADDR_ERR_RELAYCHAR:
		return "'%', '!' and extra '@' routing is not accepted";
	case SMTP_ADDR_ERR_QUOTED:
		return "quoted local part not accepted";
	case SMTP_ADDR_ERR_UTF8:
		return "non-ASCII address without SMTPUTF8";
	case SMTP_ADDR_ERR_DOMAIN:
		return "invalid domain name";
	case SMTP_ADDR_ERR_TRAILING_DOT:
		return "domain with a trailing dot is not accepted";
	case SMTP_ADDR_ERR_NULL:
		return "null address not allowed here";
	}
	return "address error";
}

bool
smtp_addr_err_is_trick(enum smtp_addr_err err)
{
	return err == SMTP_ADDR_ERR_ROUTE || err == SMTP_ADDR_ERR_LITERAL ||
	    err == SMTP_ADDR_ERR_RELAYCHAR || err == SMTP_ADDR_ERR_QUOTED ||
	    err == SMTP_ADDR_ERR_TRAILING_DOT;
}

int
smtp_addr_format(const struct smtp_addr *addr, char *out, size_t size)
{
	int n;

	if (addr->null)
		n = snprintf(out, size, "%s", "");
	else if (addr->postmaster_only)
		n = snprintf(out, size, "%s", addr->local);
	else
		n = snprintf(out, size, "%s@%s", addr->local, addr->domain);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}
