/*
 * mta.h - outbound delivery: the queue runner and its SMTP client.
 *
 * Queue entries (queue_env.h) are loaded at start and handed over by the
 * commit thread as they are accepted. Each due recipient is grouped by
 * destination domain (or sent to the [relay] smarthost); each destination
 * is routed through DNS (mta_route.c), and served by a window of SMTP
 * sessions (mta_session.c) that adapts to the backlog and to the peer,
 * from [delivery] initial_per_domain up to max_per_domain, within
 * [delivery] max_connections overall. A session carries many messages
 * and, per message, all its recipients of that domain in one transaction.
 *
 * Results: 2xx marks a recipient sent; 5xx fails it at once; 4xx and
 * connection or DNS problems retry with exponential backoff from
 * [queue] retry_min to retry_max, until [queue] max_age, when it expires.
 * Every change is saved durably before the entry moves on, so a restart
 * never sends to a recipient already marked sent. When an entry is done,
 * a failure report (RFC 3464, bounce.c) goes to its sender when that is
 * safe, and the entry is removed.
 */
#ifndef FACTEUR_MTA_H
#define FACTEUR_MTA_H

#include <stddef.h>

struct server;
struct queue_env;
struct mta;

struct mta *mta_new(struct server *srv);
void mta_free(struct mta **mta);
/* Takes ownership of a freshly committed entry. */
void mta_enqueue(struct mta *mta, struct queue_env *env);
/* Retries now: one entry (qid) or all (NULL). Returns entries touched. */
size_t mta_flush(struct mta *mta, const char *qid);
/* Removes an entry, bouncing it first when asked. 0, or -1 if unknown. */
int mta_delete(struct mta *mta, const char *qid, bool bounce);
/* Shutdown, first step: outbound sessions dropped, scheduling stops. */
void mta_stop(struct mta *mta);
/* Re-reads [delivery]/[relay] settings after a SIGHUP. */
void mta_reload(struct mta *mta);

#endif
