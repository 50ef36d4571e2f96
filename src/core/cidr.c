/*
 * cidr.c - see cidr.h.
 */
#include "core/common.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include "core/cidr.h"

static int
cidr_addr(const char *s, int *family, uint8_t out[16])
{
	if (inet_pton(AF_INET, s, out) == 1) {
		*family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, out) == 1) {
		*family = AF_INET6;
		return 0;
	}
	return -1;
}

int
cidr_parse(const char *s, size_t len, struct cidr *out)
{
	char text[INET6_ADDRSTRLEN + 8];
	struct str in = str_make(s, len);
	long slash = str_chr(in, '/');
	uint64_t prefix;
	unsigned max;

	memset(out, 0, sizeof(*out));
	if (str_copy(text, sizeof(text), slash < 0 ? in : str_make(s,
	    (size_t)slash)) == -1 || cidr_addr(text, &out->family,
	    out->addr) == -1)
		return -1;
	max = out->family == AF_INET ? 32 : 128;
	out->prefix = max;
	if (slash >= 0) {
		if (str_to_u64(str_sub(in, (size_t)slash + 1, in.len), max,
		    &prefix) == -1)
			return -1;
		out->prefix = (unsigned)prefix;
	}
	return 0;
}

static bool
cidr_match_bits(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;

	if (memcmp(a, b, full) != 0)
		return false;
	return rest == 0 || ((a[full] ^ b[full]) & (0xff << (8 - rest))) == 0;
}

bool
cidr_contains(const struct cidr *net, const char *ip)
{
	uint8_t addr[16];
	int family;

	if (cidr_addr(ip, &family, addr) == -1)
		return false;
	/* An IPv4-mapped IPv6 address is its IPv4 address. */
	if (family == AF_INET6 && net->family == AF_INET &&
	    memcmp(addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) {
		memmove(addr, addr + 12, 4);
		family = AF_INET;
	}
	return family == net->family && cidr_match_bits(addr, net->addr,
	    net->prefix);
}

int
cidr_client_key(const char *ip, char *out, size_t size)
{
	uint8_t addr[16];
	char text[INET6_ADDRSTRLEN];
	int family;

	if (cidr_addr(ip, &family, addr) == -1)
		return -1;
	if (family == AF_INET)
		return cstr_copy(out, size, ip);
	memset(addr + 8, 0, 8);		/* the /64 */
	if (inet_ntop(AF_INET6, addr, text, sizeof(text)) == NULL)
		return -1;
	return snprintf(out, size, "%s/64", text) < (int)size ? 0 : -1;
}

bool
cidr_list_contains(const struct cidr_list *l, const char *ip)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (cidr_contains(&l->v[i], ip))
			return true;
	return false;
}

void
cidr_sockaddr_text(const struct sockaddr *sa, char *out, size_t size,
    uint16_t *port)
{
	const struct sockaddr_in6 *sin6 = (const void *)sa;
	const struct sockaddr_in *sin = (const void *)sa;
	const void *addr = sa->sa_family == AF_INET6 ?
	    (const void *)&sin6->sin6_addr : (const void *)&sin->sin_addr;

	if (port != NULL)
		*port = ntohs(sa->sa_family == AF_INET6 ? sin6->sin6_port :
		    sin->sin_port);
	if (inet_ntop(sa->sa_family, addr, out, (socklen_t)size) == NULL)
		cstr_copy(out, size, "unknown");
}

bool
cidr_sockaddr_is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)sa;

		return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)sa;

		return IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr);
	}
	return false;
}
