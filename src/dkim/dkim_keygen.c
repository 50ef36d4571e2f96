/*
 * dkim_keygen.c - private keys: new ones for `facteur dkim keygen` and
 * their PEM form, and the signer's key from its file (the TXT record of a
 * key is written by dkim_key.c, next to the code that reads it).
 */
#include "core/common.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "core/dname.h"
#include "dkim/dkim_int.h"

/* RFC 8301 3.2: signers SHOULD use at least 2048 bits. */
#define DKIM_KEYGEN_RSA_BITS	2048

EVP_PKEY *
dkim_keygen(enum dkim_alg alg)
{
	EVP_PKEY *pk = NULL;

	if (alg == DKIM_ALG_RSA_SHA256)
		pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA",
		    (size_t)DKIM_KEYGEN_RSA_BITS);
	else if (alg == DKIM_ALG_ED25519_SHA256)
		pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	ERR_clear_error();
	return pk;
}

int
dkim_key_pem(EVP_PKEY *pkey, struct buf *out)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *p;
	long n;
	int r = -1;

	if (bio != NULL && PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0,
	    NULL, NULL) == 1 && (n = BIO_get_mem_data(bio, &p)) > 0)
		r = buf_add(out, p, (size_t)n);
	BIO_free(bio);
	ERR_clear_error();
	return r;
}

/* Never prompt for a passphrase on a terminal: keys have none. */
static int
dkim_no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

static EVP_PKEY *
dkim_read_pem(const char *path, const char **error_r)
{
	struct stat st;
	EVP_PKEY *pk;
	FILE *fp;
	int fd;

	/*
	 * Read as root at startup, in a directory the server's user owns:
	 * a symlink planted there must not hand root's other keys over, nor
	 * a FIFO hang the start or the loop at a reload.
	 */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1 || fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (fp = fdopen(fd, "r")) == NULL) {
		if (fd != -1)
			close(fd);
		*error_r = "cannot open the key file (not a regular file?)";
		return NULL;
	}
	pk = PEM_read_PrivateKey(fp, NULL, dkim_no_passphrase, NULL);
	fclose(fp);
	ERR_clear_error();
	if (pk == NULL)
		*error_r = "not a PEM private key without passphrase";
	return pk;
}

/* The algorithm a key signs with, or -1 with a reason. */
static int
dkim_signer_alg(EVP_PKEY *pk, enum dkim_alg *alg, const char **error_r)
{
	int bits;

	switch (EVP_PKEY_get_base_id(pk)) {
	case EVP_PKEY_ED25519:
		*alg = DKIM_ALG_ED25519_SHA256;
		return 0;
	case EVP_PKEY_RSA:
		*alg = DKIM_ALG_RSA_SHA256;
		bits = EVP_PKEY_get_bits(pk);
		/* RFC 8301 3.2: signers MUST use 1024 bits at least. */
		if (bits >= DKIM_RSA_BITS_MIN && bits <= DKIM_RSA_BITS_MAX)
			return 0;
		*error_r = "RSA key size not within 1024..8192 bits";
		return -1;
	default:
		*error_r = "key is neither RSA nor Ed25519";
		return -1;
	}
}

int
dkim_signer_load(struct dkim_signer *signer, const char *domain,
    const char *selector, const char *pem_path, const char **error_r)
{
	memset(signer, 0, sizeof(*signer));
	if (!dname_valid(domain, strlen(domain), 0) ||
	    cstr_copy(signer->domain, sizeof(signer->domain), domain) == -1) {
		*error_r = "bad signing domain";
		return -1;
	}
	ascii_lower_inplace(signer->domain, strlen(signer->domain));
	/* RFC 6376 3.1: a selector is a sequence of DNS labels. */
	if (!dname_valid(selector, strlen(selector), DNAME_ALLOW_SINGLE |
	    DNAME_SELECTOR) ||
	    cstr_copy(signer->selector, sizeof(signer->selector),
	    selector) == -1) {
		*error_r = "bad selector";
		return -1;
	}
	if ((signer->pkey = dkim_read_pem(pem_path, error_r)) == NULL)
		return -1;
	if (dkim_signer_alg(signer->pkey, &signer->alg, error_r) == -1) {
		dkim_signer_release(signer);
		return -1;
	}
	return 0;
}

void
dkim_signer_release(struct dkim_signer *signer)
{
	EVP_PKEY_free(signer->pkey);
	signer->pkey = NULL;
}
