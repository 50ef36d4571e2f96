/*
 * auth_passwd.h - password hashes in crypt(3) format via libxcrypt.
 *
 * New hashes are yescrypt ("$y$"), the format Debian uses for /etc/shadow
 * and Dovecot reads ({CRYPT} scheme), so the users file can be shared.
 * Verification accepts whatever libxcrypt supports (yescrypt, bcrypt
 * "$2b$", sha512-crypt "$6$") and compares in constant time.
 */
#ifndef FACTEUR_AUTH_PASSWD_H
#define FACTEUR_AUTH_PASSWD_H

#include <stdbool.h>
#include <stddef.h>

/* Writes a new yescrypt hash of password into out; 0 or -1. */
int auth_passwd_hash(const char *password, char *out, size_t size);
/* True when password matches hash. Slow on purpose (tens of ms). */
bool auth_passwd_verify(const char *password, const char *hash);

#endif
