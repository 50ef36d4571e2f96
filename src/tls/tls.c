/*
 * tls.c - see tls.h.
 */
#include "core/common.h"

#include <errno.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "tls/tls.h"

/* TLS 1.2 suites: ECDHE key exchange and AEAD only (RFC 9325 4.2). */
#define TLS_CIPHERS_12 "ECDHE-ECDSA-AES128-GCM-SHA256:" \
	"ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:" \
	"ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:" \
	"ECDHE-RSA-CHACHA20-POLY1305"
#define TLS_SELFSIGNED_DAYS 3650

static void
tls_err(struct buf *err, const char *what)
{
	unsigned long e = ERR_get_error();
	char detail[256] = "";
	int r;

	if (e)
		ERR_error_string_n(e, detail, sizeof(detail));
	ERR_clear_error();
	r = buf_addf(err, "%s%s%s\n", what, detail[0] ? ": " : "", detail);
	(void)r;
}

void
tls_selfsigned_paths(const char *data_dir, char *key, char *cert,
    size_t size)
{
	snprintf(key, size, "%s/tls/selfsigned.key", data_dir);
	snprintf(cert, size, "%s/tls/selfsigned.crt", data_dir);
}

static X509 *
tls_make_cert(EVP_PKEY *pkey, const char *hostname)
{
	X509 *x = X509_new();
	X509_NAME *name;
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	char san[300];

	if (x == NULL)
		return NULL;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), (long)(time(NULL) & 0x7fffffff));
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400L * TLS_SELFSIGNED_DAYS);
	X509_set_pubkey(x, pkey);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)hostname, -1, -1, 0);
	X509_set_issuer_name(x, name);
	snprintf(san, sizeof(san), "DNS:%s", hostname);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san);
	if (ext == NULL || !X509_add_ext(x, ext, -1) ||
	    !X509_sign(x, pkey, EVP_sha256())) {
		X509_EXTENSION_free(ext);
		X509_free(x);
		return NULL;
	}
	X509_EXTENSION_free(ext);
	return x;
}

/* PEM-encodes into memory, then writes the file atomically. */
static int
tls_write_pem(const char *path, EVP_PKEY *pkey, X509 *x)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	long len;
	int r = -1;

	if (bio == NULL)
		return -1;
	if ((pkey ? PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL,
	    NULL) : PEM_write_bio_X509(bio, x)) == 1) {
		len = BIO_get_mem_data(bio, &data);
		r = fs_write_atomic(path, data, (size_t)len, 0600);
	}
	BIO_free(bio);
	return r;
}

int
tls_selfsigned_make(const char *hostname, const char *keypath,
    const char *certpath, struct buf *err)
{
	EVP_PKEY *pkey = EVP_RSA_gen(2048);
	X509 *x = pkey ? tls_make_cert(pkey, hostname) : NULL;
	int r = -1;

	if (x == NULL) {
		tls_err(err, "cannot make a self-signed certificate");
	} else if (tls_write_pem(keypath, pkey, NULL) == -1 ||
	    tls_write_pem(certpath, NULL, x) == -1) {
		if (buf_addf(err, "cannot write %s: %s\n", certpath,
		    strerror(errno)) == -1)
			r = -1;
	} else {
		r = 0;
	}
	X509_free(x);
	EVP_PKEY_free(pkey);
	return r;
}

/* Finds or makes the self-signed pair; the paths are written to key/cert. */
static int
tls_selfsigned(const struct config *cfg, char *key, char *cert, size_t size,
    struct buf *err)
{
	char dir[PATH_MAX];

	tls_selfsigned_paths(cfg->data_dir, key, cert, size);
	if (access(key, R_OK) == 0 && access(cert, R_OK) == 0)
		return 0;
	snprintf(dir, sizeof(dir), "%s/tls", cfg->data_dir);
	if (fs_mkdir_p(dir, 0700) == -1) {
		int r = buf_addf(err, "cannot create %s: %s\n", dir,
		    strerror(errno));
		(void)r;
		return -1;
	}
	log_warn("event=tls-selfsigned cert=%s reason=\"no [tls] cert/key in "
	    "the configuration; clients will not trust this certificate\"",
	    log_qs(cert));
	return tls_selfsigned_make(cfg->hostname, key, cert, err);
}

static void
tls_ctx_defaults(SSL_CTX *ctx)
{
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_cipher_list(ctx, TLS_CIPHERS_12);
	SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE |
	    SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"facteur",
	    7);
	SSL_CTX_set_timeout(ctx, 3600);
	/* Keep buffers small: thousands of idle TLS sessions add up. */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
}

SSL_CTX *
tls_ctx_load(const struct config *cfg, struct buf *err)
{
	char key[PATH_MAX], cert[PATH_MAX];
	SSL_CTX *ctx;

	if (cfg->tls_cert != NULL) {
		cstr_copy(key, sizeof(key), cfg->tls_key);
		cstr_copy(cert, sizeof(cert), cfg->tls_cert);
	} else if (tls_selfsigned(cfg, key, cert, sizeof(key), err) == -1) {
		return NULL;
	}
	ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL) {
		tls_err(err, "SSL_CTX_new failed");
		return NULL;
	}
	tls_ctx_defaults(ctx);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		tls_err(err, cert);
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		tls_err(err, key);
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

void
tls_ctx_free(SSL_CTX **ctx)
{
	SSL_CTX_free(*ctx);
	*ctx = NULL;
}
