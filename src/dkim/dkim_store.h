/*
 * dkim_store.h - the signing keys on disk and in memory.
 *
 * Keys live in data_dir/dkim/<domain>/<selector>.<alg>.key (PEM, 0600),
 * <alg> being "rsa" or "ed25519", as `facteur dkim keygen` writes them.
 * They are loaded at start and on SIGHUP. A domain with keys of both
 * algorithms is dual-signed (RFC 8463 recommends it: receivers that do
 * not know Ed25519 still see the RSA signature).
 */
#ifndef FACTEUR_DKIM_STORE_H
#define FACTEUR_DKIM_STORE_H

#include <stddef.h>

#include "core/buf.h"
#include "dkim/dkim.h"

#define DKIM_SIGNERS_MAX 4

struct dkim_store;

/* Never NULL; unreadable keys are reported in errors and skipped. */
struct dkim_store *dkim_store_load(const char *data_dir, struct buf *errors);
void dkim_store_free(struct dkim_store **store);
/* The signers for domain (RSA first); returns how many. */
size_t dkim_store_signers(const struct dkim_store *store, const char *domain,
    const struct dkim_signer **out, size_t max);
size_t dkim_store_count(const struct dkim_store *store);
/*
 * The signers for mail From: domain: its own keys, or else those of its
 * organizational domain (d= is then the parent, which DMARC's relaxed
 * alignment accepts: MAILER-DAEMON@mail.example.com signed by example.com).
 */
size_t dkim_store_for_from(const struct dkim_store *store,
    const char *from_domain, const struct dkim_signer **out, size_t max);
/*
 * Signs a whole message held in memory (bounces): appends the signature
 * fields to out. 0, or -1 when there is nothing to sign with.
 */
int dkim_store_sign_mem(const struct dkim_store *store,
    const char *from_domain, const char *msg, size_t len, struct buf *out);
/* data_dir/dkim/<domain>/<selector>.<alg>.key */
int dkim_store_path(const char *data_dir, const char *domain,
    const char *selector, enum dkim_alg alg, char *out, size_t size);
/* Calls fn for every key of domain (for `facteur dkim show`, `dns`). */
void dkim_store_each(const struct dkim_store *store, const char *domain,
    void (*fn)(void *arg, const struct dkim_signer *s), void *arg);

#endif
