/*
 * ban.h - brute-force protection: who failed to log in, who is banned,
 * and how long the next wrong password has to wait.
 *
 * Per client (an IPv4 address, or the /64 of an IPv6 one): [bans]
 * max_failures failed logins within [bans] window ban it, for the first
 * of [bans] ban_times, then the next one at each repeat offence. A banned
 * client is refused at connect on every listener, and even a right
 * password is refused while the ban lasts. Each failure makes the next
 * answer slower (doubling, up to [bans] max_delay), on a timer, so other
 * sessions never wait.
 *
 * Per account: failures from many clients make logins to that account
 * slower too, but never lock its owner out: a client that logged in to
 * the account successfully within [bans] trust_period is trusted for it:
 * it is not slowed down by other clients' failures, and its own failures
 * on that account never ban it. The [bans] allowlist is never banned.
 *
 * Bans and trust survive restarts: data_dir/bans, rewritten on change
 * (off the loop).
 */
#ifndef FACTEUR_BAN_H
#define FACTEUR_BAN_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "core/buf.h"

struct config;
struct workq;
struct ban_table;

struct ban_table *ban_new(const struct config *cfg, struct workq *wq);
/* Shutdown: stop writing in the background (before the workers go). */
void ban_close(struct ban_table *t);
/* Writes what is left to write, then frees. */
void ban_free(struct ban_table **t);
/* A SIGHUP: new thresholds and allowlist; state is kept. */
void ban_reconfigure(struct ban_table *t, const struct config *cfg);

/* Is the client (text IP) banned now? *until_r when it is. */
bool ban_check(struct ban_table *t, const char *ip, time_t *until_r);

/* The outcome of a login; returns true when this failure banned ip. */
bool ban_failed(struct ban_table *t, const char *ip, const char *user);
void ban_succeeded(struct ban_table *t, const char *ip, const char *user);
/* How long to wait before answering a failed login (milliseconds). */
uint64_t ban_delay_ms(struct ban_table *t, const char *ip, const char *user,
    uint64_t base_ms);

/* Administration (`facteur ban ...` through the control socket). */
int ban_add(struct ban_table *t, const char *ip, uint64_t seconds);
int ban_del(struct ban_table *t, const char *ip);
void ban_list(struct ban_table *t, struct buf *out);

#endif
