/*
 * cidr.h - IP networks ("192.0.2.0/24", "2001:db8::/32", a bare address)
 * and the keys facteur uses to count clients: an IPv4 address, or the /64
 * an IPv6 address belongs to (one customer's allocation: counting single
 * IPv6 addresses would let a bot rotate through billions). Pure.
 */
#ifndef FACTEUR_CIDR_H
#define FACTEUR_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sockaddr;

struct cidr {
	int	 family;		/* AF_INET or AF_INET6 */
	uint8_t	 addr[16];
	unsigned prefix;
};

/* A configured list of networks ([bans] allowlist, [checks] skip). */
#define CIDR_LIST_MAX 32
struct cidr_list {
	struct cidr	 v[CIDR_LIST_MAX];
	size_t		 n;
};

/* Parses "ip[/len]"; 0 or -1. */
int cidr_parse(const char *s, size_t len, struct cidr *out);
/* Is the address (text) inside the network? */
bool cidr_contains(const struct cidr *net, const char *ip);
/* Is the address (text) inside one of the networks? */
bool cidr_list_contains(const struct cidr_list *l, const char *ip);
/* The counting key of an address (text): "a.b.c.d" or "x:x:x:x::/64". */
int cidr_client_key(const char *ip, char *out, size_t size);
/*
 * A peer's address as numeric text ("unknown" if it cannot be written),
 * and its port in *port when port is not NULL. IPv4 and IPv6.
 */
void cidr_sockaddr_text(const struct sockaddr *sa, char *out, size_t size,
    uint16_t *port);
/* 127.0.0.0/8 or ::1. */
bool cidr_sockaddr_is_loopback(const struct sockaddr *sa);

#endif
