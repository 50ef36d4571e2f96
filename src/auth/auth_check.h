/*
 * auth_check.h - checking a user's password for any protocol (SMTP AUTH,
 * POP3), without stalling the event loop and without telling an attacker
 * anything.
 *
 * The hash is verified on a worker thread (yescrypt is slow on purpose).
 * An unknown user is checked against a dummy hash of the same cost, and a
 * failure is reported only after [auth] failure_delay, so neither the
 * timing nor the answer tells whether an account exists. Failures feed the
 * ban table (ban.h): the delay grows with them, a banned client is refused
 * even with the right password, and success makes the client trusted for
 * that account. Every outcome is one log line: event=auth-ok /
 * event=auth-fail with ip, user, service.
 */
#ifndef FACTEUR_AUTH_CHECK_H
#define FACTEUR_AUTH_CHECK_H

#include <stdbool.h>

struct server;
struct auth_creds;
struct auth_check;

/*
 * ok: the password is right; user: the account, lowercased; banned: the
 * client is banned (now or already): close the session after replying.
 */
typedef void (*auth_check_done)(void *arg, bool ok, const char *user,
    bool banned);

/*
 * Starts a check; creds are copied and wiped. done(arg, ...) is called
 * later, on the loop, unless auth_check_cancel() was called first.
 */
struct auth_check *auth_check_start(struct server *srv, const char *sid,
    const char *ip, const char *service, struct auth_creds *creds,
    auth_check_done done, void *arg);
void auth_check_cancel(struct auth_check *chk);

#endif
