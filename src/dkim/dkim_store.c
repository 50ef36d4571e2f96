/*
 * dkim_store.c - see dkim_store.h.
 */
#include "core/common.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <time.h>
#include <unistd.h>
#include <openssl/evp.h>

#include "core/map.h"
#include "dkim/dkim_store.h"
#include "dmarc/dmarc.h"

struct dkim_domain_keys {
	struct dkim_signer	 s[DKIM_SIGNERS_MAX];
	size_t			 n;
};

struct dkim_store {
	struct map	*domains;	/* domain -> struct dkim_domain_keys */
	size_t		 count;
};

int
dkim_store_path(const char *data_dir, const char *domain,
    const char *selector, enum dkim_alg alg, char *out, size_t size)
{
	int n = snprintf(out, size, "%s/dkim/%s/%s.%s.key", data_dir, domain,
	    selector, alg == DKIM_ALG_ED25519_SHA256 ? "ed25519" : "rsa");

	return n < 0 || (size_t)n >= size ? -1 : 0;
}

static void
dkim_domain_free(void *p)
{
	struct dkim_domain_keys *k = p;
	size_t i;

	for (i = 0; k && i < k->n; i++)
		dkim_signer_release(&k->s[i]);
	free(k);
}

/* "<selector>.<rsa|ed25519>.key" -> selector and algorithm. */
static int
dkim_key_name(const char *name, char *selector, size_t size,
    enum dkim_alg *alg)
{
	size_t len = strlen(name);
	const char *dot;

	if (len < 5 || strcmp(name + len - 4, ".key") != 0)
		return -1;
	len -= 4;
	dot = memrchr(name, '.', len);
	if (dot == NULL || dot == name)
		return -1;
	if ((size_t)(name + len - dot - 1) == 3 && strncmp(dot + 1, "rsa",
	    3) == 0)
		*alg = DKIM_ALG_RSA_SHA256;
	else if ((size_t)(name + len - dot - 1) == 7 &&
	    strncmp(dot + 1, "ed25519", 7) == 0)
		*alg = DKIM_ALG_ED25519_SHA256;
	else
		return -1;
	return str_copy(selector, size, str_make(name, (size_t)(dot - name)));
}

/*
 * Keeps RSA first: the signature every receiver checks. -1 when the
 * domain has DKIM_SIGNERS_MAX keys already (the key is released).
 */
static int
dkim_store_add(struct dkim_store *st, const struct dkim_signer *signer)
{
	struct dkim_domain_keys *k = map_get(st->domains, signer->domain,
	    strlen(signer->domain));

	if (k == NULL) {
		k = xcalloc(1, sizeof(*k));
		map_put(st->domains, signer->domain, strlen(signer->domain),
		    k);
	}
	if (k->n == DKIM_SIGNERS_MAX) {
		EVP_PKEY_free(signer->pkey);
		return -1;
	}
	k->s[k->n++] = *signer;
	if (signer->alg == DKIM_ALG_RSA_SHA256 && k->n > 1 &&
	    k->s[0].alg != DKIM_ALG_RSA_SHA256) {
		k->s[k->n - 1] = k->s[0];
		k->s[0] = *signer;
	}
	st->count++;
	return 0;
}

/*
 * Keys are read as root, in directories the server's user owns: neither
 * dkim/ nor dkim/<domain>/ may be a symlink to someone else's keys (the
 * key files themselves are opened with O_NOFOLLOW, dkim_keygen.c).
 */
static DIR *
dkim_opendir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d;

	if (fd == -1)
		return NULL;
	if ((d = fdopendir(fd)) == NULL)
		close(fd);
	return d;
}

static void
dkim_store_domain(struct dkim_store *st, const char *dir, const char *domain,
    struct buf *errors)
{
	char path[PATH_MAX], selector[64];
	struct dkim_signer signer;
	enum dkim_alg alg;
	struct dirent *e;
	const char *why;
	DIR *d;
	int r;

	if ((d = dkim_opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (dkim_key_name(e->d_name, selector, sizeof(selector), &alg)
		    == -1 || snprintf(path, sizeof(path), "%s/%s", dir,
		    e->d_name) >= (int)sizeof(path))
			continue;
		if (dkim_signer_load(&signer, domain, selector, path, &why) ==
		    -1) {
			r = buf_addf(errors, "%s: %s\n", path, why);
			(void)r;
			continue;
		}
		if (signer.alg != alg) {
			r = buf_addf(errors, "%s: the key type does not match "
			    "the file name\n", path);
			(void)r;
			dkim_signer_release(&signer);
			continue;
		}
		if (dkim_store_add(st, &signer) == -1) {
			r = buf_addf(errors, "%s: not used, the domain has %d "
			    "keys already\n", path, DKIM_SIGNERS_MAX);
			(void)r;
		}
	}
	closedir(d);
}

struct dkim_store *
dkim_store_load(const char *data_dir, struct buf *errors)
{
	struct dkim_store *st = xcalloc(1, sizeof(*st));
	char root[PATH_MAX], dir[PATH_MAX], domain[256];
	struct dirent *e;
	DIR *d;

	st->domains = map_new();
	snprintf(root, sizeof(root), "%s/dkim", data_dir);
	if ((d = dkim_opendir(root)) == NULL)
		return st;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || cstr_copy(domain, sizeof(domain),
		    e->d_name) == -1 || snprintf(dir, sizeof(dir), "%s/%s",
		    root, e->d_name) >= (int)sizeof(dir))
			continue;
		ascii_lower_inplace(domain, strlen(domain));
		dkim_store_domain(st, dir, domain, errors);
	}
	closedir(d);
	return st;
}

void
dkim_store_free(struct dkim_store **stp)
{
	struct dkim_store *st = *stp;

	if (st == NULL)
		return;
	map_free(&st->domains, dkim_domain_free);
	XFREE(stp);
}

size_t
dkim_store_signers(const struct dkim_store *st, const char *domain,
    const struct dkim_signer **out, size_t max)
{
	char key[256];
	struct dkim_domain_keys *k;
	size_t i;

	if (cstr_copy(key, sizeof(key), domain) == -1)
		return 0;
	ascii_lower_inplace(key, strlen(key));
	k = map_get(st->domains, key, strlen(key));
	for (i = 0; k && i < k->n && i < max; i++)
		out[i] = &k->s[i];
	return k ? MIN(k->n, max) : 0;
}

size_t
dkim_store_count(const struct dkim_store *st)
{
	return st->count;
}

void
dkim_store_each(const struct dkim_store *st, const char *domain,
    void (*fn)(void *arg, const struct dkim_signer *s), void *arg)
{
	const struct dkim_signer *s[DKIM_SIGNERS_MAX];
	size_t n = dkim_store_signers(st, domain, s, DKIM_SIGNERS_MAX), i;

	for (i = 0; i < n; i++)
		fn(arg, s[i]);
}

size_t
dkim_store_for_from(const struct dkim_store *st, const char *from_domain,
    const struct dkim_signer **out, size_t max)
{
	char org[256];
	size_t n = dkim_store_signers(st, from_domain, out, max);

	if (n > 0 || dmarc_org_domain(from_domain, org, sizeof(org)) == -1 ||
	    strcasecmp(org, from_domain) == 0)
		return n;
	return dkim_store_signers(st, org, out, max);
}

int
dkim_store_sign_mem(const struct dkim_store *st, const char *from_domain,
    const char *msg, size_t len, struct buf *out)
{
	const struct dkim_signer *s[DKIM_SIGNERS_MAX];
	const char *end = memmem(msg, len, "\r\n\r\n", 4);
	size_t n, i, headlen = end ? (size_t)(end - msg) + 2 : len;
	size_t body = end ? headlen + 2 : len;
	struct dkim_body *b;
	char bh[128];
	int r = 0;

	n = dkim_store_for_from(st, from_domain, s, DKIM_SIGNERS_MAX);
	if (n == 0)
		return -1;
	b = dkim_body_new(DKIM_ALG_RSA_SHA256, DKIM_CANON_RELAXED, false, 0);
	dkim_body_update(b, msg + body, len - body);
	dkim_body_final(&b, bh, sizeof(bh));
	/* One key that fails must not cost the message the other's. */
	for (i = 0; i < n; i++)
		if (dkim_sign(s[i], msg, headlen, bh, time(NULL), out) == 0)
			r++;
	return r > 0 ? 0 : -1;
}
