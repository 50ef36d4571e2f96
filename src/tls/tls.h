/*
 * tls.h - OpenSSL server contexts: loading, defaults, self-signed fallback.
 *
 * Defaults (RFC 8996, RFC 9325): TLS 1.2 and 1.3 only; for 1.2 only AEAD
 * ciphers with forward secrecy; the server's cipher order; no compression;
 * no renegotiation; session resumption through tickets and a session cache.
 * The certificate file is a full chain PEM (leaf first), as Let's Encrypt
 * writes fullchain.pem.
 *
 * Without [tls] cert/key, a self-signed certificate for the hostname is
 * made once under data_dir/tls/ (and a loud warning logged): enough for
 * tests and `make run`, never for production.
 *
 * Reload: tls_ctx_load() builds a fresh context; sessions keep the one
 * they started with (OpenSSL reference counts it), new ones get the new.
 */
#ifndef FACTEUR_TLS_H
#define FACTEUR_TLS_H

#include "core/buf.h"

struct config;
typedef struct ssl_ctx_st SSL_CTX;

/* A server context for cfg; NULL with the reason appended to err. */
SSL_CTX *tls_ctx_load(const struct config *cfg, struct buf *err);
void tls_ctx_free(SSL_CTX **ctx);
/* Writes a self-signed key and certificate for hostname; 0 or -1. */
int tls_selfsigned_make(const char *hostname, const char *keypath,
    const char *certpath, struct buf *err);
/* The paths facteur uses for its self-signed pair under data_dir. */
void tls_selfsigned_paths(const char *data_dir, char *key, char *cert,
    size_t size);

#endif
