/*
 * cli_dns_rr.c - the text of the records `facteur dns` asks a domain to
 * publish, and the MTA-STS policy. Pure functions (OpenSSL only for the
 * policy id), unit-tested.
 */
#include "core/common.h"

#include <openssl/evp.h>

#include "cli/cli_int.h"

/* How long senders cache the MTA-STS policy: one week (RFC 8461 3.2). */
#define CLI_MTASTS_MAX_AGE	604800

const char *
cli_dns_spf_record(void)
{
	/*
	 * RFC 7208 5.4: "mx" authorizes the hosts of the domain's MX
	 * records, which is where facteur sends from; "-all" fails the rest.
	 */
	return "v=spf1 mx -all";
}

int
cli_dns_dmarc_record(const char *domain, struct buf *out)
{
	/*
	 * RFC 7489 6.3: p=quarantine asks receivers to treat failing mail
	 * as suspicious; rua= gets the aggregate reports. A report address
	 * in the same domain needs no authorization record (7.1).
	 */
	return buf_addf(out, "v=DMARC1; p=quarantine; rua=mailto:postmaster@%s",
	    domain);
}

int
cli_dns_tlsrpt_record(const char *domain, struct buf *out)
{
	/* RFC 8460 3: where senders report TLS failures to. */
	return buf_addf(out, "v=TLSRPTv1; rua=mailto:postmaster@%s", domain);
}

int
cli_dns_mtasts_policy(const char *mx_host, struct buf *out)
{
	/*
	 * RFC 8461 3.2: key/value lines ending in CRLF. "testing": senders
	 * report failures (TLS-RPT) but still deliver; switch to "enforce"
	 * once the reports are clean.
	 */
	return buf_addf(out, "version: STSv1\r\nmode: testing\r\nmx: %s\r\n"
	    "max_age: %d\r\n", mx_host, CLI_MTASTS_MAX_AGE);
}

void
cli_dns_mtasts_id(const char *policy, size_t len, char out[17])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int i;

	/*
	 * RFC 8461 3.1: id= (1 to 32 alphanumerics) must change whenever
	 * the policy does; a digest of the policy does exactly that, and
	 * stays the same from one run of `facteur dns` to the next.
	 */
	if (EVP_Digest(policy, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen < 8)
		memset(md, 0, 8);
	for (i = 0; i < 8; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[16] = '\0';
}
