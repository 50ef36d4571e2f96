/*
 * mime_hdr.h - message header fields (RFC 5322 2.2, 3.6) and address
 * lists (RFC 5322 3.4). Pure functions over bytes; fuzzed by
 * fuzz/fuzz_mime_hdr.c.
 *
 * The iterator walks the header section of a message, with CRLF or LF
 * line ends, and returns each field's name and raw value (folding kept).
 * It stops at the blank line, at the end of the input, or at a line that
 * is not a header field (then the section is malformed).
 *
 * mime_addr_list() extracts the addr-specs of an address-list value:
 * display names, comments (nested), quoted strings, angle brackets and
 * groups ("undisclosed-recipients:;") are understood; what is not an
 * address by RFC 5322 makes it fail rather than guess.
 */
#ifndef FACTEUR_MIME_HDR_H
#define FACTEUR_MIME_HDR_H

#include "core/str.h"
#include "smtp/smtp_addr.h"

struct mime_hdr_iter {
	struct str	 rest;
	bool		 done;
	size_t		 header_len;	/* octets of the section so far */
};

void mime_hdr_iter_init(struct mime_hdr_iter *it, const char *msg,
    size_t len);
/* 1: a field; 0: end of the header section; -1: malformed. */
int mime_hdr_next(struct mime_hdr_iter *it, struct str *name,
    struct str *value);

/* The addresses of value into out[0..max); count in *n. 0 or -1. */
int mime_addr_list(struct str value, struct smtp_addr *out, size_t max,
    size_t *n);

#endif
