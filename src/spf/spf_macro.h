/*
 * spf_macro.h - SPF macro-strings (RFC 7208 7) and the names they make.
 * Pure functions, fuzzed by fuzz/fuzz_spf_macro.c.
 *
 * A macro-string is literal text with "%{" letter [digits] ["r"]
 * [delimiters] "}" macros and the escapes "%%" "%_" "%-". Letters:
 * s l o d i p v h (anywhere) and c r t (explanations only, 7.2); an
 * uppercase letter URL-encodes its expansion (7.3). Expansion of a
 * domain-spec keeps the result a usable name: one trailing dot dropped,
 * and leading labels removed until it fits in 253 octets (7.3), however
 * long the input; an explanation is cut at SPF_EXPLAIN_MAX octets and
 * its control characters replaced by '?', as it may end up in an SMTP
 * reply.
 */
#ifndef FACTEUR_SPF_MACRO_H
#define FACTEUR_SPF_MACRO_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/str.h"

/* RFC 7208 7.3: a domain name in text form, without the trailing dot. */
#define SPF_NAME_MAX		253
/* Our own: the window a domain expansion is built in (> SPF_NAME_MAX). */
#define SPF_EXPAND_MAX		512
/* Our own: explanations are cut there (RFC 7208 6.2 allows limits). */
#define SPF_EXPLAIN_MAX		400

/* An explain-string (RFC 7208 6.2): spaces and c r t allowed. */
#define SPF_MACRO_EXP		0x01

enum spf_tok_kind {
	SPF_TOK_LITERAL,	/* text: a run of literal bytes */
	SPF_TOK_ESCAPE,		/* text: "%%", "%_" or "%-" */
	SPF_TOK_MACRO,		/* "%{...}" */
};

struct spf_macro_tok {
	enum spf_tok_kind kind;
	struct str	 text;		/* the token as written */
	char		 letter;	/* lowercase */
	bool		 upper;		/* URL-encode the expansion */
	bool		 reverse;	/* the "r" transformer */
	size_t		 parts;		/* the digit transformer; 0: all */
	struct str	 delims;	/* len 0: "." */
};

/* The values macros expand to (RFC 7208 7.2). */
struct spf_macro_ctx {
	const char	*sender;	/* s: local-part@domain */
	const char	*domain;	/* d: the <domain> being checked */
	const char	*helo;		/* h */
	const char	*receiver;	/* r; NULL: "unknown" */
	const char	*ptr;		/* p; NULL: "unknown" */
	int		 family;	/* AF_INET or AF_INET6 */
	unsigned char	 ip[16];	/* i, c, v */
	long long	 now;		/* t */
};

/* Takes one token off *cur: 1, 0 at the end, -1 with *error_r. */
int spf_macro_next(struct str *cur, int flags, struct spf_macro_tok *tok,
    const char **error_r);
/* The whole string is a valid macro-string: 0 or -1 with *error_r. */
int spf_macro_check(struct str s, int flags, const char **error_r);
/* s (valid) holds a macro of that lowercase letter. */
bool spf_macro_uses(struct str s, char letter);
/* RFC 7208 4.6.1 toplabel: alphanumerics and '-', not all digits. */
bool spf_toplabel_valid(struct str label);
/*
 * RFC 7208 4.8: a domain-spec ends with a macro, or with "." toplabel
 * and maybe one more dot. s must be a valid macro-string.
 */
bool spf_domain_end_valid(struct str s);
/*
 * Expands s into out (reset first; cap at least SPF_EXPAND_MAX + 1).
 * Without SPF_MACRO_EXP the result is a domain-spec's target name, cut
 * per RFC 7208 7.3; it may still be malformed: see spf_name_valid().
 * 0, or -1 with *error_r (a syntax error, or no name was left).
 */
int spf_macro_expand(struct str s, const struct spf_macro_ctx *ctx,
    int flags, struct buf *out, const char **error_r);

/*
 * A name we may query: 1..SPF_NAME_MAX octets, labels of 1..63 octets
 * of printable ASCII or SP ("%_" makes spaces), but not '\', which
 * libunbound would read as an escape; two labels at least when multi
 * (RFC 7208 4.3).
 */
bool spf_name_valid(const char *p, size_t len, bool multi);
/* The reverse-lookup name of an address: "4.3.2.1.in-addr.arpa". */
int spf_reverse_name(int family, const unsigned char *ip, char *out,
    size_t size);

#endif
