/*
 * dns_rr.c - see dns_rr.h.
 */
#include "core/common.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include "dns/dns_rr.h"

/*
 * RFC 2181 11 lets a label hold any octet, and SPF's test suite (RFC 7208
 * 7.1) expects an MX named "foo:bar/baz.example.com" to be looked up. What
 * a name read here may not hold is what would change its meaning where it
 * goes: a control byte (a line of our own in a queue file or a report,
 * a field in a log), a '.' inside a label (a second name) or a backslash
 * (an escape, to libunbound). Names used to deliver are checked further
 * as host names (mta_route_parse_mx()).
 */
static bool
dns_label_valid(const unsigned char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] < 0x21 || p[i] == 0x7f || p[i] == '.' ||
		    p[i] == '\\')
			return false;
	return true;
}

int
dns_name_text(const unsigned char *p, size_t len, char *out, size_t size)
{
	size_t i = 0, o = 0;

	if (size == 0)
		return -1;
	for (;;) {
		size_t l;

		if (i >= len)
			return -1;
		l = p[i++];
		if (l == 0)
			break;
		if (l > DNS_LABEL_MAX || i + l > len)
			return -1;	/* 0xc0 compression is not expected */
		if (!dns_label_valid(p + i, l))
			return -1;
		if (o && o + 1 < size)
			out[o++] = '.';
		if (o + l >= size)
			return -1;
		memcpy(out + o, p + i, l);
		ascii_lower_inplace(out + o, l);
		o += l;
		i += l;
		if (o > SMTP_DOMAIN_MAX)
			return -1;
	}
	out[o] = '\0';
	return (int)i;
}

int
dns_rr_mx(const unsigned char *p, size_t len, uint16_t *pref, char *name,
    size_t size)
{
	int n;

	if (len < 3)
		return -1;
	*pref = (uint16_t)(p[0] << 8 | p[1]);
	n = dns_name_text(p + 2, len - 2, name, size);
	return n < 0 || (size_t)n != len - 2 ? -1 : 0;
}

int
dns_rr_addr(int type, const unsigned char *p, size_t len, uint16_t port,
    struct sockaddr_storage *ss, socklen_t *sslen)
{
	memset(ss, 0, sizeof(*ss));
	if (type == DNS_TYPE_A && len == 4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, p, 4);
		*sslen = sizeof(*sin);
		return 0;
	}
	if (type == DNS_TYPE_AAAA && len == 16) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		memcpy(&sin6->sin6_addr, p, 16);
		*sslen = sizeof(*sin6);
		return 0;
	}
	return -1;
}

int
dns_rr_txt(const unsigned char *p, size_t len, struct buf *out)
{
	size_t i = 0;

	while (i < len) {
		size_t l = p[i++];

		if (i + l > len || buf_add(out, p + i, l) == -1)
			return -1;
		i += l;
	}
	return 0;
}
