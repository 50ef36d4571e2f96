/*
 * server.h - the running daemon: event loop, listeners, connection limits,
 * signals, and the shared state sessions reach through it (configuration,
 * directory, commit thread). `facteur serve` is server_run().
 *
 * Signals: SIGTERM/SIGINT stop gracefully (listeners closed, sessions
 * waiting for a commit get their reply, others get 421, nothing
 * acknowledged is lost); SIGHUP reloads the configuration, users and
 * aliases (a bad file keeps the old state and logs why).
 */
#ifndef FACTEUR_SERVER_H
#define FACTEUR_SERVER_H

#include <stdbool.h>
#include <sys/socket.h>

#include "config/config.h"

struct server;
struct directory;
struct commit;
struct workq;
struct dns;
struct ban_table;
struct rate_table;
struct dkim_store;
struct event_base;
typedef struct ssl_ctx_st SSL_CTX;

/*
 * Every live session links one of these into the server, so the server
 * can count connections per client (an IPv4 address or an IPv6 /64) and
 * tell sessions to stop.
 */
struct server_client {
	struct server_client	*prev, *next;
	char			 ip[64];	/* numeric, for limits and logs */
	void			(*stop)(struct server_client *cl);
};

int server_run(struct config *cfg);

const struct config *server_config(const struct server *srv);
const struct directory *server_directory(const struct server *srv);
struct commit *server_commit(struct server *srv);
struct event_base *server_base(struct server *srv);
SSL_CTX *server_tls_ctx(struct server *srv);
struct workq *server_workq(struct server *srv);
/* The asynchronous resolver ([dns] resolver), shared by every module. */
struct dns *server_dns(struct server *srv);
/* Brute-force bans (auth/ban.h). */
struct ban_table *server_bans(struct server *srv);
/* Per-minute counters: messages and recipients of authenticated users. */
struct rate_table *server_user_messages(struct server *srv);
struct rate_table *server_user_recipients(struct server *srv);
/* DKIM signing keys (data_dir/dkim), reloaded on SIGHUP. */
const struct dkim_store *server_dkim(const struct server *srv);
/* A real hash of a random password: unknown users cost the same time. */
const char *server_dummy_hash(const struct server *srv);
bool server_stopping(const struct server *srv);

void server_client_add(struct server *srv, struct server_client *cl);
void server_client_remove(struct server *srv, struct server_client *cl);

#endif
