/*
 * dns_rr.h - reading resource record data (RFC 1035 3.3) as libunbound
 * hands it over: one rdata blob per record, names in uncompressed wire
 * format. Pure functions: fuzzed by fuzz/fuzz_dns_rr.c.
 */
#ifndef FACTEUR_DNS_RR_H
#define FACTEUR_DNS_RR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/buf.h"
#include "core/limits.h"

#define DNS_TYPE_A	1
#define DNS_TYPE_PTR	12
#define DNS_TYPE_MX	15
#define DNS_TYPE_TXT	16
#define DNS_TYPE_AAAA	28
#define DNS_TYPE_TLSA	52

/*
 * A wire-format name at p[0..len) to dotted text, lowercased, without the
 * trailing dot ("" for the root). Returns octets consumed, or -1, also
 * for a label with a control byte, a space, a '.' or a backslash: the
 * text is one name, without an escape or a line end (callers that need a
 * host name check it: mta_route_parse_mx()).
 */
int dns_name_text(const unsigned char *p, size_t len, char *out,
    size_t size);
/* MX rdata (RFC 1035 3.3.9): preference and exchange name. 0 or -1. */
int dns_rr_mx(const unsigned char *p, size_t len, uint16_t *pref,
    char *name, size_t size);
/* A or AAAA rdata to a socket address with the given port. 0 or -1. */
int dns_rr_addr(int type, const unsigned char *p, size_t len, uint16_t port,
    struct sockaddr_storage *ss, socklen_t *sslen);
/* TXT rdata: its character-strings concatenated (RFC 7208 3.3). */
int dns_rr_txt(const unsigned char *p, size_t len, struct buf *out);

#endif
