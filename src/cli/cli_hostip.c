/*
 * cli_hostip.c - the mail host's own addresses, for `facteur dns` and
 * `facteur doctor` (see cli_int.h): given, configured or found on the
 * interfaces; which ones are public; their reverse names.
 */
#include "core/common.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include "cli/cli_int.h"
#include "config/config.h"

/*
 * Builds a sockaddr_storage from one address through memcpy: writing it
 * through a cast pointer and reading it as the storage type would break
 * the aliasing rules the optimiser relies on.
 */
static void
cli_ip_make(struct sockaddr_storage *ss, int family, const void *addr)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;

	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		memcpy(&sin.sin_addr, addr, sizeof(sin.sin_addr));
		memcpy(ss, &sin, sizeof(sin));
	} else {
		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		memcpy(&sin6.sin6_addr, addr, sizeof(sin6.sin6_addr));
		memcpy(ss, &sin6, sizeof(sin6));
	}
}

int
cli_hostips_add_text(struct cli_hostips *h, const char *text)
{
	struct sockaddr_storage ss;
	unsigned char a[16];

	if (inet_pton(AF_INET, text, a) == 1)
		cli_ip_make(&ss, AF_INET, a);
	else if (inet_pton(AF_INET6, text, a) == 1)
		cli_ip_make(&ss, AF_INET6, a);
	else
		return -1;
	cli_hostips_add(h, &ss);
	return 0;
}

bool
cli_ip_eq(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)a)->sin_addr,
		    &((const struct sockaddr_in *)b)->sin_addr, 4) == 0;
	return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
	    &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0;
}

void
cli_hostips_add(struct cli_hostips *h, const struct sockaddr_storage *ss)
{
	struct sockaddr_storage copy;
	size_t i;

	if (ss->ss_family != AF_INET && ss->ss_family != AF_INET6)
		return;
	for (i = 0; i < h->n; i++)
		if (cli_ip_eq(&h->ip[i], ss))
			return;
	if (h->n == CLI_HOSTIPS_MAX)
		return;
	/* Only the address: ports and scope ids do not matter here. */
	if (ss->ss_family == AF_INET)
		cli_ip_make(&copy, AF_INET,
		    &((const struct sockaddr_in *)ss)->sin_addr);
	else
		cli_ip_make(&copy, AF_INET6,
		    &((const struct sockaddr_in6 *)ss)->sin6_addr);
	h->ip[h->n++] = copy;
}

/* An IPv4 prefix that is not globally reachable (RFC 6890 2.2.2). */
struct cli_net4 {
	uint32_t	 net;
	unsigned	 bits;
};

static bool
cli_ip4_is_public(const unsigned char *a)
{
	static const struct cli_net4 special[] = {
		{ 0x00000000, 8 },	/* "this network" */
		{ 0x0a000000, 8 },	/* RFC 1918 */
		{ 0x64400000, 10 },	/* shared address space (CGN) */
		{ 0x7f000000, 8 },	/* loopback */
		{ 0xa9fe0000, 16 },	/* link local */
		{ 0xac100000, 12 },	/* RFC 1918 */
		{ 0xc0000000, 24 },	/* IETF protocol assignments */
		{ 0xc0000200, 24 },	/* TEST-NET-1 */
		{ 0xc0a80000, 16 },	/* RFC 1918 */
		{ 0xc6120000, 15 },	/* benchmarking */
		{ 0xc6336400, 24 },	/* TEST-NET-2 */
		{ 0xcb007100, 24 },	/* TEST-NET-3 */
		{ 0xe0000000, 3 },	/* multicast and reserved */
	};
	uint32_t v = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 |
	    (uint32_t)a[2] << 8 | a[3];
	size_t i;

	for (i = 0; i < ARRAY_LEN(special); i++)
		if ((v >> (32 - special[i].bits)) ==
		    (special[i].net >> (32 - special[i].bits)))
			return false;
	return true;
}

/* Global unicast (2000::/3) minus documentation (RFC 3849). */
static bool
cli_ip6_is_public(const unsigned char *a)
{
	static const unsigned char doc[4] = { 0x20, 0x01, 0x0d, 0xb8 };

	return (a[0] & 0xe0) == 0x20 && memcmp(a, doc, 4) != 0;
}

bool
cli_ip_is_public(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return cli_ip4_is_public((const unsigned char *)
		    &((const struct sockaddr_in *)ss)->sin_addr);
	if (ss->ss_family == AF_INET6)
		return cli_ip6_is_public(((const struct sockaddr_in6 *)ss)->
		    sin6_addr.s6_addr);
	return false;
}

void
cli_ip_text(const struct sockaddr_storage *ss, char *out, size_t size)
{
	const void *a = ss->ss_family == AF_INET ?
	    (const void *)&((const struct sockaddr_in *)ss)->sin_addr :
	    (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr;

	if (inet_ntop(ss->ss_family, a, out, (socklen_t)size) == NULL)
		cstr_copy(out, size, "?");
}

int
cli_ip_reverse_name(const struct sockaddr_storage *ss, char *out,
    size_t size)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *a;
	struct buf b;
	int i, r = 0;

	buf_init(&b, size > 0 ? size - 1 : 0);
	if (ss->ss_family == AF_INET) {
		/* RFC 1035 3.5: the octets in reverse order. */
		a = (const unsigned char *)
		    &((const struct sockaddr_in *)ss)->sin_addr;
		r = buf_addf(&b, "%u.%u.%u.%u.in-addr.arpa", a[3], a[2], a[1],
		    a[0]);
	} else {
		/* RFC 3596 2.5: every nibble, lowest first. */
		a = ((const struct sockaddr_in6 *)ss)->sin6_addr.s6_addr;
		for (i = 15; i >= 0; i--)
			r |= buf_addf(&b, "%c.%c.", hex[a[i] & 15],
			    hex[a[i] >> 4]);
		r |= buf_adds(&b, "ip6.arpa");
	}
	if (r == 0)
		r = cstr_copy(out, size, buf_cstr(&b));
	buf_release(&b);
	return r == 0 ? 0 : -1;
}

static void
cli_hostips_from_listen(struct cli_hostips *h, const struct config *cfg)
{
	size_t k, i;

	for (k = 0; k < LISTEN_KIND_COUNT; k++)
		for (i = 0; i < cfg->listen[k].count; i++)
			if (cli_ip_is_public(&cfg->listen[k].addrs[i].ss))
				cli_hostips_add(h, &cfg->listen[k].addrs[i].ss);
}

static void
cli_hostips_from_interfaces(struct cli_hostips *h)
{
	struct ifaddrs *list, *i;

	if (getifaddrs(&list) == -1)
		return;
	for (i = list; i != NULL; i = i->ifa_next)
		if (i->ifa_addr != NULL && (i->ifa_addr->sa_family ==
		    AF_INET || i->ifa_addr->sa_family == AF_INET6) &&
		    cli_ip_is_public((struct sockaddr_storage *)i->ifa_addr))
			cli_hostips_add(h, (struct sockaddr_storage *)
			    i->ifa_addr);
	freeifaddrs(list);
}

void
cli_hostips_guess(struct cli_hostips *h, const struct config *cfg)
{
	if (h->n > 0) {
		h->source = "--ip";
		return;
	}
	cli_hostips_from_listen(h, cfg);
	if (h->n > 0) {
		h->source = "[listen]";
		return;
	}
	cli_hostips_from_interfaces(h);
	h->source = h->n > 0 ? "this machine's interfaces" : NULL;
}

int
cli_hostips_args(int argc, char **argv, const char **domain_r,
    struct cli_hostips *h)
{
	int i;

	*domain_r = NULL;
	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--ip") == 0 && i + 1 < argc) {
			if (cli_hostips_add_text(h, argv[++i]) == -1) {
				fprintf(stderr, "facteur: '%s' is not an IP "
				    "address\n", argv[i]);
				return -1;
			}
		} else if (argv[i][0] != '-' && *domain_r == NULL) {
			*domain_r = argv[i];
		} else {
			return -1;
		}
	}
	return 0;
}
