/*
 * str.h - non-owning byte slices and bounded parsing helpers.
 *
 * A struct str points into someone else's buffer: parsers return slices of
 * the line they were given instead of copying, and never rely on a NUL.
 * Cursor helpers (str_*_take) advance the cursor only on success and take a
 * maximum length per token, so a parser cannot run past what it was given.
 */
#ifndef FACTEUR_STR_H
#define FACTEUR_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct str {
	const char	*p;
	size_t		 len;
};

#define STR_LIT(s) ((struct str){ (s), sizeof(s) - 1 })
#define STR_NULL ((struct str){ NULL, 0 })

struct str str_make(const char *p, size_t len);
struct str str_cstr(const char *s);

bool str_eq(struct str a, struct str b);
bool str_caseeq(struct str a, struct str b);
bool str_caseeq_cstr(struct str a, const char *s);
bool str_has_prefix_case(struct str a, const char *prefix);
/* Index of the first c in s, or -1. */
long str_chr(struct str s, char c);
long str_rchr(struct str s, char c);
struct str str_sub(struct str s, size_t off, size_t len);
struct str str_trim(struct str s);

/* Cursor helpers: consume from *cur, advancing it only on success. */
bool str_take_char(struct str *cur, char c);
bool str_take_case(struct str *cur, const char *word);
/* Takes 1..max bytes up to (not including) a space/tab or the end. */
bool str_take_word(struct str *cur, struct str *out, size_t max);
/* Skips spaces and tabs; returns how many. */
size_t str_skip_ws(struct str *cur);

/* Decimal, no sign, no spaces, no overflow past max: 0 or -1. */
int str_to_u64(struct str s, uint64_t max, uint64_t *out);

/* Copies into a fixed array with the NUL; -1 (and dst = "") if too long. */
int str_copy(char *dst, size_t dstsize, struct str s);
/* strlcpy-like with the truncation reported: 0 or -1. */
int cstr_copy(char *dst, size_t dstsize, const char *src);

/* ASCII-only case folding: locale-independent on purpose. */
static inline char ascii_lower(char c)
{ return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c; }
static inline bool ascii_isdigit(char c) { return c >= '0' && c <= '9'; }
static inline bool ascii_isalpha(char c)
{ return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static inline bool ascii_isalnum(char c)
{ return ascii_isalpha(c) || ascii_isdigit(c); }
static inline bool ascii_iscntrl(char c)
{ return (unsigned char)c < 0x20 || c == 0x7f; }
void ascii_lower_inplace(char *s, size_t len);
/*
 * Replaces control characters (C0 and DEL: CR, LF, TAB, ...) with '?' in
 * the string s: text from the network about to go into a line of ours.
 */
void cstr_unctrl(char *s);

#endif
