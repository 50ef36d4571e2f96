/*
 * spf_record.h - the SPF record grammar (RFC 7208 4.5, 4.6, 5, 6, 12).
 * Pure functions, fuzzed by fuzz/fuzz_spf_record.c.
 *
 * spf_record_parse() reads one "v=spf1 ..." record into its terms. Any
 * syntax error anywhere in the record makes the whole check a permerror
 * (RFC 7208 4.6), so every term is parsed, and every macro-string checked
 * (spf_macro.h), before the first one is evaluated. Terms hold slices of
 * the record text, which must outlive the parsed record.
 *
 * What is refused: unknown mechanisms, a qualifier without a mechanism,
 * "all" with an argument, include/exists without a domain-spec, a
 * domain-spec whose last label is not a valid toplabel nor a macro (4.8:
 * "a:example.com:8080", "a:1.2.3.4"), CIDR lengths with leading zeros or
 * too large, ip4 addresses with leading zeros, redirect= or exp= given
 * twice (6), c/r/t macros outside explanations (7.2), any byte that is
 * not printable ASCII, and more than SPF_TERMS_MAX directives. Unknown
 * modifiers are checked, then ignored (6).
 */
#ifndef FACTEUR_SPF_RECORD_H
#define FACTEUR_SPF_RECORD_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/str.h"
#include "spf/spf.h"

/* Our own: the longest record looked at (a TXT record's strings joined). */
#define SPF_RECORD_MAX		4096
/*
 * Our own: directives per record; more is a permerror. Real records stay
 * far below (4 KB of 16-byte "ip4:" terms is 256), and it bounds the
 * memory of one check: at most 11 records are open at once (4.6.4).
 */
#define SPF_TERMS_MAX		256
/* RFC 7208 4.6.4: DNS-querying terms per check, and void lookups. */
#define SPF_LOOKUPS_MAX		10
#define SPF_VOID_MAX		2
/* RFC 7208 4.6.4: MX names per "mx" (more: permerror), PTR names used. */
#define SPF_MX_MAX		10
#define SPF_PTR_MAX		10

enum spf_mech {
	SPF_MECH_ALL,
	SPF_MECH_INCLUDE,
	SPF_MECH_A,
	SPF_MECH_MX,
	SPF_MECH_PTR,
	SPF_MECH_IP4,
	SPF_MECH_IP6,
	SPF_MECH_EXISTS,
};

struct spf_term {
	enum spf_mech	 mech;
	enum spf_result	 qual;		/* RFC 7208 4.6.2: '+' by default */
	struct str	 domain;	/* domain-spec; len 0: <domain> */
	unsigned	 cidr4;		/* a, mx, ip4: 0..32, default 32 */
	unsigned	 cidr6;		/* a, mx, ip6: 0..128, default 128 */
	unsigned char	 addr[16];	/* ip4 (first 4 bytes), ip6 */
};

struct spf_record {
	struct spf_term	*terms;		/* directives, in record order */
	size_t		 nterms;
	size_t		 alloc;
	struct str	 redirect;	/* .p == NULL when absent */
	struct str	 exp;		/* .p == NULL when absent */
};

/* RFC 7208 4.5: "v=spf1" (any case) then a space or the end. */
bool spf_record_is_spf1(const char *p, size_t len);
/*
 * Parses a whole record into rec (which the caller then releases, even
 * on failure). 0, or -1 with a static reason in *error_r: a permerror.
 */
int spf_record_parse(struct spf_record *rec, const char *p, size_t len,
    const char **error_r);
void spf_record_release(struct spf_record *rec);

/*
 * TXT rdata to one string (RFC 7208 3.3: character-strings joined with
 * nothing between), at most SPF_RECORD_MAX bytes into out (which must
 * hold that much). 0, 1 when cut at the limit, -1 for malformed rdata.
 */
int spf_txt_join(const unsigned char *p, size_t len, struct buf *out);

/* The first bits of two addresses of alen bytes (4 or 16) are equal. */
bool spf_cidr_match(const unsigned char *a, const unsigned char *b,
    size_t alen, unsigned bits);
/* RFC 7208 4.6.1 dotted quad, each qnum without leading zeros. */
bool spf_parse_ip4(struct str s, unsigned char out[4]);
const char *spf_mech_name(enum spf_mech mech);

#endif
