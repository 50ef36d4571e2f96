/*
 * dname.h - domain name syntax, shared by the address parser, the config
 * and DNS code. Pure functions.
 *
 * A valid domain here is what RFC 5321 4.1.2 calls Domain: dot-separated
 * LDH labels (RFC 1035 2.3.1, RFC 1123 2.1 allows a leading digit), each
 * 1..63 octets, no leading or trailing hyphen, total <= 255 octets, no
 * trailing dot (it would make a second spelling of the same domain), at
 * least two labels unless DNAME_ALLOW_SINGLE. With DNAME_ALLOW_UTF8 a label
 * may also hold UTF-8 (RFC 6531 3.3, U-labels), checked for well-formed
 * UTF-8 only; A-labels ("xn--") are treated as plain LDH. The last label
 * may not be all digits (RFC 3696 2: no such top-level domain) unless
 * DNAME_SELECTOR: a DKIM selector is a prefix, not a domain, and Google
 * signs with s=20230601.
 */
#ifndef FACTEUR_DNAME_H
#define FACTEUR_DNAME_H

#include <stdbool.h>
#include <stddef.h>

#define DNAME_ALLOW_SINGLE	0x01
#define DNAME_ALLOW_UTF8	0x02
#define DNAME_SELECTOR		0x04

bool dname_valid(const char *p, size_t len, int flags);
/* Well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
bool utf8_valid(const char *p, size_t len);

#endif
