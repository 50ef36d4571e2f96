/*
 * server_listen.c - listening sockets, accept, connection limits.
 *
 * Sockets are opened before anything else (and before a privilege drop),
 * one per configured address. At accept, the total and per-IP limits are
 * checked first: a client over a limit gets "421" and the door, without a
 * session being created (RFC 5321 3.8 allows 421 at any time).
 */
#include "core/common.h"

#include <errno.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "auth/ban.h"
#include "auth/rate.h"
#include "core/cidr.h"
#include "core/log.h"
#include "pop3/pop3.h"
#include "server/server_int.h"
#include "smtp/smtp.h"

#define LISTEN_BACKLOG 1024

static int
server_bind(const struct listen_addr *a)
{
	int fd, one = 1;

	fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (a->ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&a->ss, a->sslen) == -1 ||
	    listen(fd, LISTEN_BACKLOG) == -1) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* Best effort: the socket is fresh, a short reply fits its buffer. */
static void
server_refuse_fd(int fd, const char *hostname, const char *why)
{
	char line[512];
	int n = snprintf(line, sizeof(line), "421 4.7.0 %s %s\r\n", hostname,
	    why);

	if (n > 0 && write(fd, line, (size_t)MIN((size_t)n, sizeof(line))) <
	    0) {
		/* the client is gone already */
	}
	close(fd);
}

/*
 * A banned client is refused on every listener: with 421 where a plain
 * text reply makes sense ([bans] action = reply), or by closing (implicit
 * TLS listeners, or action = close).
 */
static bool
server_refuse_banned(struct server *srv, struct server_listener *l, int fd,
    const char *ip)
{
	time_t until;
	bool tls = l->kind == LISTEN_SUBMISSIONS || l->kind == LISTEN_POP3S;
	bool pop3 = l->kind == LISTEN_POP3;

	if (!ban_check(srv->bans, ip, &until))
		return false;
	log_info("event=ban-refused ip=%s listener=%s until=%lld", ip,
	    l->text, (long long)until);
	if (tls || strcmp(srv->cfg->ban_action, "close") == 0) {
		close(fd);
	} else if (pop3) {
		static const char msg[] = "-ERR [SYS/TEMP] your address is "
		    "temporarily blocked\r\n";

		if (write(fd, msg, sizeof(msg) - 1) < 0) {
			/* gone already */
		}
		close(fd);
	} else {
		server_refuse_fd(fd, srv->cfg->hostname, "Your address is "
		    "temporarily blocked");
	}
	return true;
}

static void
server_on_accept(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct server_listener *l = arg;
	struct server *srv = l->srv;
	const struct config *cfg = srv->cfg;
	char ip[64], key[80];

	(void)lev;
	cidr_sockaddr_text(sa, ip, sizeof(ip), NULL);
	if (srv->stopping) {
		server_refuse_fd(fd, cfg->hostname, "Service shutting down");
		return;
	}
	if (srv->nclients >= cfg->max_connections) {
		log_info("event=refuse-connection ip=%s listener=%s "
		    "reason=too-many-connections", ip, l->text);
		server_refuse_fd(fd, cfg->hostname, "Too many connections, "
		    "try again later");
		return;
	}
	if (server_refuse_banned(srv, l, fd, ip))
		return;
	if (cidr_client_key(ip, key, sizeof(key)) == 0 &&
	    !rate_take(srv->conn_rate, key, 1, cfg->connections_per_minute)) {
		log_info("event=refuse-connection ip=%s listener=%s "
		    "reason=connection-rate", ip, l->text);
		server_refuse_fd(fd, cfg->hostname, "Too many connections per "
		    "minute from your address, try again later");
		return;
	}
	if (server_clients_from(srv, ip) >= cfg->max_connections_per_ip) {
		log_info("event=refuse-connection ip=%s listener=%s "
		    "reason=too-many-connections-from-ip", ip, l->text);
		server_refuse_fd(fd, cfg->hostname, "Too many connections "
		    "from your address, try again later");
		return;
	}
	evutil_make_socket_nonblocking(fd);
	if (l->kind == LISTEN_POP3 || l->kind == LISTEN_POP3S)
		pop3_session_start(srv, fd, l->kind, sa, (socklen_t)salen);
	else
		smtp_session_start(srv, fd, l->kind, sa, (socklen_t)salen);
}

static void
server_on_resume(evutil_socket_t fd, short what, void *arg)
{
	struct server_listener *l = arg;

	(void)fd;
	(void)what;
	log_info("event=accept-resumed listener=%s", l->text);
	evconnlistener_enable(l->lev);
}

void
server_accept_failed(struct evconnlistener *lev, struct event *resume,
    const char *name)
{
	static const struct timeval pause = { 1, 0 };
	int error = errno;

	log_warn("event=accept-error listener=%s error=%s", name,
	    log_qs(strerror(error)));
	/*
	 * Out of descriptors or memory: the connection stays in the
	 * backlog and the socket readable, so retrying at once would spin
	 * the loop (and the log) until something closes. Stop accepting on
	 * this listener for a second; the kernel keeps the backlog.
	 */
	if (error == EMFILE || error == ENFILE || error == ENOBUFS ||
	    error == ENOMEM) {
		evconnlistener_disable(lev);
		/* No timer (out of memory too): keep accepting, spinning. */
		if (evtimer_add(resume, &pause) == -1)
			evconnlistener_enable(lev);
	}
}

static void
server_on_accept_error(struct evconnlistener *lev, void *arg)
{
	struct server_listener *l = arg;

	server_accept_failed(lev, l->resume, l->text);
}

static void
server_listen_one(struct server *srv, enum listener_kind kind,
    const struct listen_addr *a)
{
	struct server_listener *l = xcalloc(1, sizeof(*l));
	int fd = server_bind(a);

	if (fd == -1)
		fatal("cannot listen on %s (%s): %s", a->text,
		    listener_name(kind), strerror(errno));
	l->srv = srv;
	l->kind = kind;
	snprintf(l->text, sizeof(l->text), "%s/%s", listener_name(kind),
	    a->text);
	l->lev = evconnlistener_new(srv->base, server_on_accept, l,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
	if (l->lev == NULL)
		fatal("evconnlistener_new failed for %s", a->text);
	evconnlistener_set_error_cb(l->lev, server_on_accept_error);
	if ((l->resume = evtimer_new(srv->base, server_on_resume, l)) == NULL)
		fatal("evtimer_new failed for %s", a->text);
	l->next = srv->listeners;
	srv->listeners = l;
	log_info("event=listen listener=%s addr=%s", listener_name(kind),
	    a->text);
}

void
server_listen_all(struct server *srv)
{
	const struct config *cfg = srv->cfg;
	size_t k, i;

	for (k = 0; k < LISTEN_KIND_COUNT; k++)
		for (i = 0; i < cfg->listen[k].count; i++)
			server_listen_one(srv, (enum listener_kind)k,
			    &cfg->listen[k].addrs[i]);
}

void
server_listen_close(struct server *srv)
{
	struct server_listener *l;

	while ((l = srv->listeners) != NULL) {
		srv->listeners = l->next;
		evconnlistener_free(l->lev);
		event_free(l->resume);
		free(l);
	}
}
