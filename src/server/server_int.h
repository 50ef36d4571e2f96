/*
 * server_int.h - the server's state, shared by server.c (lifecycle),
 * server_listen.c (sockets, accept, connection limits) and
 * server_signal.c (signals, reload, graceful stop).
 */
#ifndef FACTEUR_SERVER_INT_H
#define FACTEUR_SERVER_INT_H

#include <limits.h>

#include "server/server.h"

struct evconnlistener;
struct map;
struct workq;
struct mta;
struct control;
struct dns;
struct dkim_store;
struct ban_table;
struct rate_table;

struct server_listener {
	struct server_listener	*next;
	struct server		*srv;
	struct evconnlistener	*lev;
	struct event		*resume;	/* after running out of fds */
	enum listener_kind	 kind;
	char			 text[64];
};

struct server {
	struct config		*cfg;
	struct directory	*dir;
	struct commit		*commit;
	struct workq		*workq;		/* hashing, queue writes */
	struct mta		*mta;		/* outbound delivery */
	struct control		*control;	/* the CLI's socket */
	struct dns		*dns;		/* libunbound, async */
	struct dkim_store	*dkim;		/* signing keys */
	struct ban_table	*bans;
	struct rate_table	*conn_rate;	/* connections per client */
	struct rate_table	*msg_rate;	/* messages per user */
	struct rate_table	*rcpt_rate;	/* recipients per user */
	char			*dummy_hash;	/* for unknown users */
	struct event_base	*base;
	SSL_CTX			*tls;
	struct server_listener	*listeners;
	struct server_client	*clients;
	size_t			 nclients;
	struct map		*per_ip;	/* client key -> count of clients */
	struct event		*sig_term, *sig_int, *sig_hup;
	struct event		*stop_timer;
	uint64_t		 stop_deadline;
	bool			 stopping;
	char			 pidfile[PATH_MAX];
};

struct server *server_new(struct config *cfg);
size_t server_clients_from(const struct server *srv, const char *ip);

/* server_listen.c */
void server_listen_all(struct server *srv);
void server_listen_close(struct server *srv);
/*
 * A listener's accept() failed: logs it, and when out of descriptors or
 * memory disables lev for a second (resume, a timer, enables it again).
 */
void server_accept_failed(struct evconnlistener *lev, struct event *resume,
    const char *name);

/* server_signal.c */
void server_signals_block(void);
void server_signals_init(struct server *srv);
void server_shutdown(struct server *srv);

#endif
