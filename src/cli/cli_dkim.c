/*
 * cli_dkim.c - `facteur dkim keygen DOMAIN [--selector S]
 * [--algorithm rsa|ed25519]` and `facteur dkim show [DOMAIN]`.
 *
 * keygen writes data_dir/dkim/<domain>/<selector>.<alg>.key (0600, never
 * over an existing key) and prints the TXT record to publish, split into
 * strings of at most 255 octets as DNS requires (RFC 1035 3.3.14, RFC 6376
 * 3.6.2.2), in zone-file syntax.
 */
#include "core/common.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <signal.h>
#include <unistd.h>

#include "cli/cli.h"
#include "config/config.h"
#include "core/buf.h"
#include "core/priv.h"
#include "core/dname.h"
#include "core/fsutil.h"
#include "dkim/dkim.h"
#include "dkim/dkim_store.h"

#define DKIM_TXT_CHUNK 255

/* name. IN TXT ( "..." "..." ) with strings of at most 255 octets. */
void
cli_dkim_print_record(const char *selector, const char *domain,
    const char *record)
{
	size_t len = strlen(record), off;

	printf("%s._domainkey.%s. IN TXT (", selector, domain);
	for (off = 0; off < len; off += DKIM_TXT_CHUNK)
		printf("\n    \"%.*s\"", (int)MIN((size_t)DKIM_TXT_CHUNK,
		    len - off), record + off);
	printf(" )\n");
}

int
cli_dkim_write_key(const char *path, EVP_PKEY *pkey)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	long len;
	int fd, r = -1;

	if (bio == NULL || PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0,
	    NULL, NULL) != 1) {
		BIO_free(bio);
		return -1;
	}
	len = BIO_get_mem_data(bio, &data);
	/* O_EXCL: a key in use is never overwritten by mistake. */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd != -1) {
		r = fs_write_all(fd, data, (size_t)len) == 0 && fsync(fd) == 0 ?
		    0 : -1;
		close(fd);
		if (r == -1)
			unlink(path);
	}
	BIO_free(bio);
	return r;
}

struct cli_keygen {
	const char	*domain;
	const char	*selector;
	enum dkim_alg	 alg;
};

static int
cli_dkim_keygen_args(const struct cli_args *a, struct cli_keygen *k)
{
	int i;

	k->selector = "facteur";
	k->alg = DKIM_ALG_RSA_SHA256;
	k->domain = NULL;
	for (i = 1; i < a->argc; i++) {
		if (strcmp(a->argv[i], "--selector") == 0 && i + 1 < a->argc)
			k->selector = a->argv[++i];
		else if (strcmp(a->argv[i], "--algorithm") == 0 &&
		    i + 1 < a->argc && strcmp(a->argv[i + 1], "rsa") == 0)
			k->alg = DKIM_ALG_RSA_SHA256, i++;
		else if (strcmp(a->argv[i], "--algorithm") == 0 &&
		    i + 1 < a->argc && strcmp(a->argv[i + 1], "ed25519") == 0)
			k->alg = DKIM_ALG_ED25519_SHA256, i++;
		else if (a->argv[i][0] != '-' && k->domain == NULL)
			k->domain = a->argv[i];
		else
			return -1;
	}
	if (k->domain == NULL || !dname_valid(k->domain, strlen(k->domain),
	    0) || !dname_valid(k->selector, strlen(k->selector),
	    DNAME_ALLOW_SINGLE | DNAME_SELECTOR))
		return -1;
	return 0;
}

static int
cli_dkim_keygen(const struct config *cfg, const struct cli_keygen *k)
{
	char path[PATH_MAX], dir[PATH_MAX], domain[256];
	struct buf rec;
	EVP_PKEY *pkey;
	int r = 1;

	cstr_copy(domain, sizeof(domain), k->domain);
	ascii_lower_inplace(domain, strlen(domain));
	if (!config_is_local_domain(cfg, domain, strlen(domain)))
		fprintf(stderr, "facteur: warning: %s is not one of the "
		    "[server] domains\n", domain);
	snprintf(dir, sizeof(dir), "%s/dkim/%s", cfg->data_dir, domain);
	if (dkim_store_path(cfg->data_dir, domain, k->selector, k->alg, path,
	    sizeof(path)) == -1 || fs_mkdir_p(dir, 0700) == -1) {
		fprintf(stderr, "facteur: cannot create %s: %s\n", dir,
		    strerror(errno));
		return 1;
	}
	if ((pkey = dkim_keygen(k->alg)) == NULL) {
		fprintf(stderr, "facteur: key generation failed\n");
		return 1;
	}
	buf_init(&rec, 8192);
	if (cli_dkim_write_key(path, pkey) == -1)
		fprintf(stderr, "facteur: cannot write %s: %s\n", path,
		    errno == EEXIST ? "a key with this selector and algorithm "
		    "exists already (choose another --selector)" :
		    strerror(errno));
	else if (dkim_key_record(pkey, k->alg, &rec) == -1)
		fprintf(stderr, "facteur: cannot encode the public key\n");
	else {
		printf("; %s key written to %s\n; publish this record in the "
		    "DNS zone of %s:\n", dkim_alg_name(k->alg), path, domain);
		cli_dkim_print_record(k->selector, domain, buf_cstr(&rec));
		r = 0;
	}
	buf_release(&rec);
	EVP_PKEY_free(pkey);
	if (r == 0 && cli_signal_server(cfg, SIGHUP) == 1)
		printf("; the running server now signs with it\n");
	return r;
}

static void
cli_dkim_show_one(void *arg, const struct dkim_signer *s)
{
	struct buf rec;

	(void)arg;
	buf_init(&rec, 8192);
	if (dkim_key_record(s->pkey, s->alg, &rec) == 0)
		cli_dkim_print_record(s->selector, s->domain, buf_cstr(&rec));
	buf_release(&rec);
}

static int
cli_dkim_show(const struct config *cfg, const char *domain)
{
	struct dkim_store *st;
	struct buf errors;
	size_t i;

	buf_init(&errors, 64 * 1024);
	st = dkim_store_load(cfg->data_dir, &errors);
	fputs(buf_cstr(&errors), stderr);
	for (i = 0; i < cfg->ndomains; i++)
		if (domain == NULL || strcasecmp(domain, cfg->domains[i]) == 0)
			dkim_store_each(st, cfg->domains[i], cli_dkim_show_one,
			    NULL);
	if (domain != NULL && !config_is_local_domain(cfg, domain,
	    strlen(domain)))
		dkim_store_each(st, domain, cli_dkim_show_one, NULL);
	dkim_store_free(&st);
	buf_release(&errors);
	return 0;
}

int
cli_dkim(const struct cli_args *a)
{
	struct cli_keygen k;
	struct config *cfg;
	const char *op = a->argc ? a->argv[0] : "";
	int r;

	if ((strcmp(op, "keygen") == 0 && cli_dkim_keygen_args(a, &k) == -1) ||
	    (strcmp(op, "show") == 0 && a->argc > 2) ||
	    (strcmp(op, "keygen") != 0 && strcmp(op, "show") != 0)) {
		fprintf(stderr, "usage: facteur dkim keygen DOMAIN [--selector "
		    "S] [--algorithm rsa|ed25519] [-c FILE]\n"
		    "       facteur dkim show [DOMAIN] [-c FILE]\n");
		return 2;
	}
	if ((cfg = cli_load_config(a)) == NULL)
		return 1;
	/* Files in data_dir belong to [server] user, never to root. */
	if (priv_drop_for_cli(cfg) == -1) {
		config_free(&cfg);
		return 1;
	}
	r = strcmp(op, "keygen") == 0 ? cli_dkim_keygen(cfg, &k) :
	    cli_dkim_show(cfg, a->argc == 2 ? a->argv[1] : NULL);
	config_free(&cfg);
	return r;
}
