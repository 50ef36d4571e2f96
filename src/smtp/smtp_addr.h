/*
 * smtp_addr.h - strict parsing of RFC 5321 paths and addresses. Pure.
 *
 * The parser accepts only what a legitimate client sends and names each
 * trick it refuses, because an address that two programs read differently
 * is how relays get opened:
 *  - source routes "<@a,@b:u@c>" (RFC 5321 4.1.1.3 says to ignore them; we
 *    refuse them: no modern client sends one);
 *  - address literals "u@[1.2.3.4]" (RFC 5321 4.1.3): never ours;
 *  - '%' and '!' in a local part, and a second '@' ("u%x@us", "x!u@us",
 *    "u@x@us"), the old routing syntaxes, when SMTP_ADDR_STRICT is given;
 *  - quoted local parts holding '@', '%', '!', '\\' escapes or controls;
 *  - a trailing dot or any other invalid domain (see dname.h);
 *  - non-ASCII without SMTPUTF8 (RFC 6531 3.3).
 * A quoted local part whose content is a plain dot-atom is unquoted
 * ("\"abc\"@x" is "abc@x", RFC 5321 4.1.2), so there is one spelling.
 * Fuzzed by fuzz/fuzz_smtp_addr.c.
 */
#ifndef FACTEUR_SMTP_ADDR_H
#define FACTEUR_SMTP_ADDR_H

#include "core/limits.h"
#include "core/str.h"

#define SMTP_ADDR_NULL_OK	0x01	/* "<>" allowed (reverse-path) */
#define SMTP_ADDR_UTF8		0x02	/* SMTPUTF8 in effect */
#define SMTP_ADDR_POSTMASTER	0x04	/* "<postmaster>" allowed (RCPT) */
#define SMTP_ADDR_STRICT	0x08	/* refuse % ! in local parts */

enum smtp_addr_err {
	SMTP_ADDR_OK,
	SMTP_ADDR_ERR_SYNTAX,
	SMTP_ADDR_ERR_TOOLONG,
	SMTP_ADDR_ERR_ROUTE,
	SMTP_ADDR_ERR_LITERAL,
	SMTP_ADDR_ERR_RELAYCHAR,
	SMTP_ADDR_ERR_QUOTED,
	SMTP_ADDR_ERR_UTF8,
	SMTP_ADDR_ERR_DOMAIN,
	SMTP_ADDR_ERR_TRAILING_DOT,
	SMTP_ADDR_ERR_NULL,		/* "<>" where not allowed */
};

struct smtp_addr {
	char	 local[SMTP_LOCAL_MAX + 1];	/* as sent (maybe quoted) */
	char	 domain[SMTP_DOMAIN_MAX + 1];	/* lowercased */
	bool	 null;				/* the null path "<>" */
	bool	 utf8;				/* non-ASCII somewhere */
	bool	 postmaster_only;		/* "<postmaster>" form */
};

/*
 * Parses "<path>" at the start of *cur and advances past '>'. Leading
 * spaces are not skipped. The text after '>' (parameters) stays in *cur.
 */
enum smtp_addr_err smtp_addr_parse_path(struct str *cur, int flags,
    struct smtp_addr *addr);
/* Parses a whole "local@domain" (no brackets), as found in config files. */
enum smtp_addr_err smtp_addr_parse(struct str s, int flags,
    struct smtp_addr *addr);
const char *smtp_addr_strerror(enum smtp_addr_err err);
/* True for the refusals that are relay tricks rather than plain typos. */
bool smtp_addr_err_is_trick(enum smtp_addr_err err);

/* Writes "local@domain" ("" for the null path); -1 if it does not fit. */
int smtp_addr_format(const struct smtp_addr *addr, char *out, size_t size);

#define SMTP_ADDR_TEXT_MAX (SMTP_LOCAL_MAX + 1 + SMTP_DOMAIN_MAX + 1)

#endif
