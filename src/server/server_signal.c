/*
 * server_signal.c - SIGHUP reload and the graceful stop on SIGTERM/SIGINT.
 *
 * Stop: close the listeners, ask every session to stop (sessions waiting
 * for a commit keep going until their 250 is sent; others get 421), then
 * leave the loop when none is left or after SERVER_STOP_GRACE_MS. The
 * commit thread is drained last, so every message it was given is on disk.
 */
#include "core/common.h"

#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "auth/ban.h"
#include "auth/rate.h"
#include "core/log.h"
#include "core/map.h"
#include "core/util.h"
#include "core/workq.h"
#include "delivery/mta.h"
#include "directory/directory.h"
#include "dkim/dkim_store.h"
#include "dns/dns.h"
#include "queue/commit.h"
#include "queue/queue_spare.h"
#include "server/control.h"
#include "server/server_int.h"
#include "tls/tls.h"

#define SERVER_STOP_GRACE_MS 10000
#define SERVER_STOP_POLL_MS 50

static bool
server_listen_changed(const struct config *a, const struct config *b)
{
	size_t k;

	for (k = 0; k < LISTEN_KIND_COUNT; k++)
		if (a->listen[k].count != b->listen[k].count ||
		    memcmp(a->listen[k].addrs, b->listen[k].addrs,
		    a->listen[k].count * sizeof(struct listen_addr)) != 0)
			return true;
	return false;
}

/* New sessions get the new certificate; running ones keep theirs. */
static void
server_reload_tls(struct server *srv)
{
	struct buf errors;
	SSL_CTX *ctx;

	buf_init(&errors, 4096);
	ctx = tls_ctx_load(srv->cfg, &errors);
	if (ctx == NULL) {
		log_err("event=tls-reload-failed error=%s",
		    log_qs(buf_cstr(&errors)));
	} else {
		tls_ctx_free(&srv->tls);
		srv->tls = ctx;
	}
	buf_release(&errors);
}

/*
 * New keys apply to the next message (signing reads the store then, on
 * the loop). A key file that cannot be read is skipped and logged; the
 * others load.
 */
static void
server_reload_dkim(struct server *srv)
{
	struct buf errors;

	buf_init(&errors, 64 * 1024);
	dkim_store_free(&srv->dkim);
	srv->dkim = dkim_store_load(srv->cfg->data_dir, &errors);
	if (buf_len(&errors))
		log_err("event=dkim-key-error errors=%s",
		    log_qs(buf_cstr(&errors)));
	buf_release(&errors);
}

static void
server_reload(struct server *srv)
{
	struct config *cfg;
	struct directory *dir;
	struct buf errors;

	buf_init(&errors, 64 * 1024);
	cfg = config_load(srv->cfg->path, &errors);
	dir = cfg ? directory_load(cfg, &errors) : NULL;
	if (cfg == NULL || dir == NULL) {
		log_err("event=reload-failed errors=%s",
		    log_qs(buf_cstr(&errors)));
		config_free(&cfg);
		buf_release(&errors);
		return;
	}
	buf_release(&errors);
	if (server_listen_changed(srv->cfg, cfg) ||
	    strcmp(srv->cfg->data_dir, cfg->data_dir) != 0 ||
	    strcmp(srv->cfg->hostname, cfg->hostname) != 0 ||
	    (srv->cfg->dns_resolver == NULL) != (cfg->dns_resolver == NULL) ||
	    (cfg->dns_resolver && strcmp(srv->cfg->dns_resolver,
	    cfg->dns_resolver) != 0))
		log_warn("event=reload-partial reason=\"listeners, data_dir, "
		    "hostname and [dns] resolver change only at restart\"");
	/* Listeners, data_dir, hostname, resolver: kept until a restart. */
	memcpy(cfg->listen, srv->cfg->listen, sizeof(cfg->listen));
	free(cfg->data_dir);
	cfg->data_dir = xstrdup(srv->cfg->data_dir);
	free(cfg->hostname);
	cfg->hostname = xstrdup(srv->cfg->hostname);
	free(cfg->dns_resolver);
	cfg->dns_resolver = srv->cfg->dns_resolver ?
	    xstrdup(srv->cfg->dns_resolver) : NULL;
	config_free(&srv->cfg);
	srv->cfg = cfg;
	directory_free(&srv->dir);
	srv->dir = dir;
	server_reload_tls(srv);
	mta_reload(srv->mta);
	server_reload_dkim(srv);
	ban_reconfigure(srv->bans, cfg);
	log_set_level((enum log_level)cfg->log_level);
	log_info("event=reload users=%zu domains=%zu",
	    directory_user_count(dir), cfg->ndomains);
}

static void
server_stop_check(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

	(void)fd;
	(void)what;
	if (srv->nclients == 0 || util_now_ms() >= srv->stop_deadline)
		event_base_loopbreak(srv->base);
}

static void
server_begin_stop(struct server *srv)
{
	struct server_client *cl, *next;
	struct timeval tv = { 0, SERVER_STOP_POLL_MS * 1000 };

	if (srv->stopping)
		return;
	srv->stopping = true;
	log_info("event=stopping clients=%zu", srv->nclients);
	server_listen_close(srv);
	for (cl = srv->clients; cl; cl = next) {
		next = cl->next;	/* stop() may unlink cl */
		cl->stop(cl);
	}
	srv->stop_deadline = util_now_ms() + SERVER_STOP_GRACE_MS;
	srv->stop_timer = event_new(srv->base, -1, EV_PERSIST,
	    server_stop_check, srv);
	event_add(srv->stop_timer, &tv);
}

static void
server_on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct server *srv = arg;

	(void)what;
	if (sig == SIGHUP)
		server_reload(srv);
	else
		server_begin_stop(srv);
}

static void
server_signals_mask(int how)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (pthread_sigmask(how, &set, NULL) != 0)
		fatal("cannot mask signals");
}

void
server_signals_block(void)
{
	server_signals_mask(SIG_BLOCK);
}

void
server_signals_init(struct server *srv)
{
	srv->sig_term = evsignal_new(srv->base, SIGTERM, server_on_signal,
	    srv);
	srv->sig_int = evsignal_new(srv->base, SIGINT, server_on_signal, srv);
	srv->sig_hup = evsignal_new(srv->base, SIGHUP, server_on_signal, srv);
	if (!srv->sig_term || !srv->sig_int || !srv->sig_hup ||
	    evsignal_add(srv->sig_term, NULL) || evsignal_add(srv->sig_int,
	    NULL) || evsignal_add(srv->sig_hup, NULL))
		fatal("cannot install signal handlers");
	server_signals_mask(SIG_UNBLOCK);	/* what came meanwhile, now */
}

void
server_shutdown(struct server *srv)
{
	struct commit_stats st;

	/* Every message handed over is made durable before we go. */
	control_free(&srv->control);
	mta_stop(srv->mta);
	ban_close(srv->bans);
	commit_free(&srv->commit, &st);
	workq_free(&srv->workq);
	mta_free(&srv->mta);
	queue_spare_end();	/* its I/O threads and the commit's are gone */
	ban_free(&srv->bans);
	rate_free(&srv->conn_rate);
	rate_free(&srv->msg_rate);
	rate_free(&srv->rcpt_rate);
	dns_free(&srv->dns);
	dkim_store_free(&srv->dkim);
	tls_ctx_free(&srv->tls);
	free(srv->dummy_hash);
	log_info("event=stop clients_left=%zu batches=%lu messages=%lu "
	    "fsyncs=%lu", srv->nclients, st.batches, st.messages, st.fsyncs);
	unlink(srv->pidfile);
	server_listen_close(srv);
	if (srv->stop_timer)
		event_free(srv->stop_timer);
	event_free(srv->sig_term);
	event_free(srv->sig_int);
	event_free(srv->sig_hup);
	directory_free(&srv->dir);
	map_free(&srv->per_ip, NULL);
	event_base_free(srv->base);
	config_free(&srv->cfg);
	free(srv);
}
