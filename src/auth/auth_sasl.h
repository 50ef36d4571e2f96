/*
 * auth_sasl.h - SASL PLAIN (RFC 4616) and LOGIN, and strict base64
 * (RFC 4648 4). Pure functions: fuzzed by fuzz/fuzz_auth.c.
 *
 * Credentials are secrets: callers wipe them with auth_creds_clear() as
 * soon as they are used.
 */
#ifndef FACTEUR_AUTH_SASL_H
#define FACTEUR_AUTH_SASL_H

#include "core/buf.h"
#include "core/str.h"
#include "smtp/smtp_addr.h"

#define AUTH_PASSWORD_MAX 1024

struct auth_creds {
	char	 user[SMTP_ADDR_TEXT_MAX];
	char	 password[AUTH_PASSWORD_MAX];
};

/*
 * Decodes base64 with padding, no whitespace, no trailing garbage; "="
 * alone is the empty string (RFC 4954 4). 0 or -1.
 */
int auth_b64_decode(struct str in, struct buf *out);
/* Encodes into out (NUL-terminated); -1 if it does not fit. */
int auth_b64_encode(const void *p, size_t len, char *out, size_t size);

/*
 * PLAIN: authzid NUL authcid NUL passwd (RFC 4616 2). An authzid other
 * than empty or the authcid itself is refused: nobody may act as someone
 * else. 0 or -1.
 */
int auth_plain_parse(const char *p, size_t len, struct auth_creds *creds);
/* LOGIN steps: a user name or a password, no NUL inside. 0 or -1. */
int auth_login_user(const char *p, size_t len, struct auth_creds *creds);
int auth_login_password(const char *p, size_t len, struct auth_creds *creds);
void auth_creds_clear(struct auth_creds *creds);

#endif
