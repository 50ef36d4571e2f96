/*
 * cli_doctor_tls.c - the doctor's certificate check: the leaf of [tls]
 * cert (or of the self-signed pair facteur makes without one) is valid
 * now, for 14 more days, for the host name (RFC 6125, as senders with
 * MTA-STS and mail clients check it), signed by someone else than itself,
 * and goes with the private key.
 */
#include "core/common.h"

#include <errno.h>
#include <limits.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli_int.h"
#include "config/config.h"
#include "tls/tls.h"

#define CLI_CERT_WARN_DAYS 14

/* "2026-01-31", or "?" */
static void
cli_doctor_cert_date(const ASN1_TIME *t, char *out, size_t size)
{
	struct tm tm;

	if (ASN1_TIME_to_tm(t, &tm) != 1 ||
	    strftime(out, size, "%Y-%m-%d", &tm) == 0)
		cstr_copy(out, size, "?");
}

static bool
cli_doctor_key_matches(X509 *x, const char *keypath)
{
	EVP_PKEY *key = NULL;
	BIO *bio = BIO_new_file(keypath, "r");
	bool ok;

	if (bio != NULL)
		key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	ok = key != NULL && X509_check_private_key(x, key) == 1;
	EVP_PKEY_free(key);
	BIO_free(bio);
	return ok;
}

/* Validity, name, issuer and key of the leaf x; its worst finding. */
static void
cli_doctor_cert_judge(struct cli_doctor *d, X509 *x, const char *cert,
    const char *key)
{
	const char *host = d->cfg->hostname;
	const ASN1_TIME *end = X509_get0_notAfter(x);
	time_t soon = time(NULL) + CLI_CERT_WARN_DAYS * 86400;
	char until[32], fix[600];

	cli_doctor_cert_date(end, until, sizeof(until));
	snprintf(fix, sizeof(fix), "certbot certonly --standalone -d %s, "
	    "then set [tls] cert and key (facteur setup does)", host);
	if (X509_cmp_current_time(X509_get0_notBefore(x)) > 0)
		cli_doctor_say(d, CLI_DOC_FAIL, fix, "tls %s: not valid yet "
		    "(is the clock right?)", cert);
	else if (X509_cmp_current_time(end) < 0)
		cli_doctor_say(d, CLI_DOC_FAIL, "certbot renew, then "
		    "systemctl reload facteur", "tls %s: expired on %s", cert,
		    until);
	else if (X509_check_host(x, host, strlen(host), 0, NULL) != 1)
		cli_doctor_say(d, CLI_DOC_FAIL, fix, "tls %s: not valid for "
		    "%s", cert, host);
	else if (!cli_doctor_key_matches(x, key))
		cli_doctor_say(d, CLI_DOC_FAIL, "set [tls] key to the key of "
		    "this certificate", "tls %s: %s is not its private key",
		    cert, key);
	else if (X509_cmp_time(end, &soon) < 0)
		cli_doctor_say(d, CLI_DOC_WARN, "certbot renew (and check "
		    "that its timer runs)", "tls %s: expires on %s", cert,
		    until);
	else if (X509_check_issued(x, x) == X509_V_OK)
		cli_doctor_say(d, CLI_DOC_WARN, fix, "tls %s: self-signed, "
		    "mail clients and MTA-STS senders will not trust it", cert);
	else
		cli_doctor_say(d, CLI_DOC_OK, NULL, "tls %s: valid for %s until "
		    "%s", cert, host, until);
}

void
cli_doctor_cert(struct cli_doctor *d)
{
	char key[PATH_MAX], cert[PATH_MAX], fix[600];
	bool self = d->cfg->tls_cert == NULL;
	BIO *bio;
	X509 *x = NULL;

	if (self)
		tls_selfsigned_paths(d->cfg->data_dir, key, cert, sizeof(key));
	else {
		cstr_copy(cert, sizeof(cert), d->cfg->tls_cert);
		cstr_copy(key, sizeof(key), d->cfg->tls_key);
	}
	if ((bio = BIO_new_file(cert, "r")) != NULL)
		x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	snprintf(fix, sizeof(fix), "certbot certonly --standalone -d %s, "
	    "then set [tls] cert and key (facteur setup does)",
	    d->cfg->hostname);
	if (x == NULL && self)
		cli_doctor_say(d, CLI_DOC_WARN, fix, "tls: no [tls] cert and no "
		    "self-signed one yet (facteur serve makes it)");
	else if (x == NULL)
		cli_doctor_say(d, CLI_DOC_FAIL, "check [tls] cert", "tls %s: "
		    "%s", cert, access(cert, R_OK) == -1 ? strerror(errno) :
		    "not a PEM certificate");
	else
		cli_doctor_cert_judge(d, x, cert, key);
	X509_free(x);
}
