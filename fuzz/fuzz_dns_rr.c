/*
 * fuzz_dns_rr.c - libFuzzer harness for dns_rr.c: resource record data as
 * a hostile DNS server would send it. The first byte picks the record
 * type; the rest is the rdata. Checks: a name is NUL-terminated, lower
 * case, at most 255 octets, without a control byte, a space or a
 * backslash (dots only between labels); an MX parse consumes its whole
 * rdata; an address parse gives the right family.
 */
#include "core/common.h"

#include <sys/socket.h>

#include "core/buf.h"
#include "dns/dns_rr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_name(const char *name, size_t size)
{
	size_t len = strnlen(name, size), i;

	if (len == size || len > 255)
		abort();
	for (i = 0; i < len; i++)
		if ((name[i] >= 'A' && name[i] <= 'Z') ||
		    (unsigned char)name[i] < 0x21 || name[i] == 0x7f ||
		    name[i] == '\\' || (name[i] == '.' && (i == 0 ||
		    name[i - 1] == '.' || i + 1 == len)))
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[300];
	struct sockaddr_storage ss;
	socklen_t sslen;
	struct buf txt;
	uint16_t pref;

	if (size < 1)
		return 0;
	switch (data[0] % 4) {
	case 0:
		if (dns_name_text(data + 1, size - 1, name, sizeof(name)) >= 0)
			check_name(name, sizeof(name));
		break;
	case 1:
		if (dns_rr_mx(data + 1, size - 1, &pref, name, sizeof(name)) ==
		    0)
			check_name(name, sizeof(name));
		break;
	case 2:
		if (dns_rr_addr(data[0] & 4 ? DNS_TYPE_AAAA : DNS_TYPE_A,
		    data + 1, size - 1, 25, &ss, &sslen) == 0 &&
		    ss.ss_family != (data[0] & 4 ? AF_INET6 : AF_INET))
			abort();
		break;
	default:
		buf_init(&txt, 4096);
		if (dns_rr_txt(data + 1, size - 1, &txt) == 0 &&
		    buf_len(&txt) >= size)
			abort();	/* strings only shrink */
		buf_release(&txt);
		break;
	}
	return 0;
}
