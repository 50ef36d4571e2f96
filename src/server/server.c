/*
 * server.c - see server.h.
 */
#include "core/common.h"

#include <errno.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/auth_passwd.h"
#include "auth/ban.h"
#include "auth/rate.h"
#include "core/cidr.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "core/map.h"
#include "core/priv.h"
#include "core/util.h"
#include "core/workq.h"
#include "delivery/mda_maildir.h"
#include "dkim/dkim_store.h"
#include "delivery/mta.h"
#include "directory/directory.h"
#include "dns/dns.h"
#include "queue/commit.h"
#include "queue/queue_file.h"
#include "queue/queue_spare.h"
#include "server/control.h"
#include "server/server.h"
#include "server/server_int.h"
#include "smtp/smtp.h"
#include "tls/tls.h"

struct server *
server_new(struct config *cfg)
{
	struct server *srv = xcalloc(1, sizeof(*srv));

	srv->cfg = cfg;
	srv->per_ip = map_new();
	srv->base = event_base_new();
	if (srv->base == NULL)
		fatal("event_base_new failed");
	return srv;
}

const struct config *
server_config(const struct server *srv)
{
	return srv->cfg;
}

const struct directory *
server_directory(const struct server *srv)
{
	return srv->dir;
}

struct commit *
server_commit(struct server *srv)
{
	return srv->commit;
}

struct event_base *
server_base(struct server *srv)
{
	return srv->base;
}

SSL_CTX *
server_tls_ctx(struct server *srv)
{
	return srv->tls;
}

struct workq *
server_workq(struct server *srv)
{
	return srv->workq;
}

struct dns *
server_dns(struct server *srv)
{
	return srv->dns;
}

struct ban_table *
server_bans(struct server *srv)
{
	return srv->bans;
}

struct rate_table *
server_user_messages(struct server *srv)
{
	return srv->msg_rate;
}

struct rate_table *
server_user_recipients(struct server *srv)
{
	return srv->rcpt_rate;
}

const struct dkim_store *
server_dkim(const struct server *srv)
{
	return srv->dkim;
}

const char *
server_dummy_hash(const struct server *srv)
{
	return srv->dummy_hash;
}

bool
server_stopping(const struct server *srv)
{
	return srv->stopping;
}

/*
 * What max_connections_per_ip counts: the address, or its /64 for IPv6,
 * as bans and the connection rate do (cidr_client_key). Counted by full
 * address, one /64 could hold every connection of the server.
 */
static void
server_client_key(const char *ip, char *key, size_t size)
{
	if (cidr_client_key(ip, key, size) == -1)
		cstr_copy(key, size, ip);
}

void
server_client_add(struct server *srv, struct server_client *cl)
{
	char key[80];
	uintptr_t n;

	server_client_key(cl->ip, key, sizeof(key));
	n = (uintptr_t)map_get(srv->per_ip, key, strlen(key));
	map_put(srv->per_ip, key, strlen(key), (void *)(n + 1));
	cl->prev = NULL;
	cl->next = srv->clients;
	if (srv->clients)
		srv->clients->prev = cl;
	srv->clients = cl;
	srv->nclients++;
}

void
server_client_remove(struct server *srv, struct server_client *cl)
{
	char key[80];
	uintptr_t n;

	server_client_key(cl->ip, key, sizeof(key));
	n = (uintptr_t)map_get(srv->per_ip, key, strlen(key));
	if (n <= 1)
		map_del(srv->per_ip, key, strlen(key));
	else
		map_put(srv->per_ip, key, strlen(key), (void *)(n - 1));
	if (cl->prev)
		cl->prev->next = cl->next;
	else
		srv->clients = cl->next;
	if (cl->next)
		cl->next->prev = cl->prev;
	srv->nclients--;
}

size_t
server_clients_from(const struct server *srv, const char *ip)
{
	char key[80];

	server_client_key(ip, key, sizeof(key));
	return (size_t)(uintptr_t)map_get(srv->per_ip, key, strlen(key));
}

/* Makes the directories facteur writes to; they must be private. */
/*
 * One server per data_dir: a second one (other ports, same directory)
 * would empty queue/tmp/ and Maildir tmp/ files under the first one's
 * commits at its startup cleanup, and both would deliver the same queue.
 * The lock is held until the process exits; its descriptor is inherited
 * by nothing (O_CLOEXEC).
 */
static void
server_lock_data_dir(const struct config *cfg)
{
	char path[PATH_MAX];
	int fd;

	if (snprintf(path, sizeof(path), "%s/facteur.lock", cfg->data_dir) >=
	    (int)sizeof(path))
		fatal("data_dir path too long");
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1)
		fatal("cannot open %s: %s", path, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) == -1)
		fatal(errno == EWOULDBLOCK ? "another facteur is serving %s "
		    "(%s is locked)" : "cannot lock %s (%s)", cfg->data_dir,
		    path);
}

static void
server_prepare_data_dir(const struct config *cfg)
{
	static const char *const subdirs[] = { "", "/mail", "/queue",
	    "/queue/tmp", "/tls" };
	char path[PATH_MAX];
	size_t i;

	umask(077);
	for (i = 0; i < ARRAY_LEN(subdirs); i++) {
		snprintf(path, sizeof(path), "%s%s", cfg->data_dir, subdirs[i]);
		if (fs_mkdir_p(path, 0700) == -1)
			fatal("cannot create %s: %s", path, strerror(errno));
	}
	if (access(cfg->data_dir, W_OK) == -1)
		fatal("data_dir %s is not writable: %s", cfg->data_dir,
		    strerror(errno));
	server_lock_data_dir(cfg);
}

static void
server_write_pidfile(struct server *srv)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());

	snprintf(srv->pidfile, sizeof(srv->pidfile), "%s/facteur.pid",
	    srv->cfg->data_dir);
	if (fs_write_atomic(srv->pidfile, buf, (size_t)n, 0600) == -1)
		log_warn("event=pidfile-failed path=%s error=%s",
		    log_qs(srv->pidfile), log_qs(strerror(errno)));
}

/* What a crash may leave behind: never visible, safe to remove. */
static void
server_cleanup_leftovers(const struct config *cfg)
{
	size_t maildir = mda_maildir_cleanup(cfg->data_dir);
	size_t queue = queue_file_cleanup(cfg->data_dir);

	if (maildir || queue)
		log_info("event=cleanup maildir_tmp=%zu queue_tmp=%zu", maildir,
		    queue);
}

/* A message with remote recipients is on disk: the runner takes it. */
static void
server_on_queued(void *arg, struct queue_env *env)
{
	mta_enqueue(arg, env);
}

/*
 * Each session holds a descriptor (two while it spools a large message),
 * as do outbound sessions, DNS and the files being committed. A shell or
 * a supervisor other than systemd often leaves the soft limit at 1024
 * while the hard one is far higher: take the hard limit, and say when
 * even that is short of max_connections (accepting then pauses, see
 * server_on_accept_error()).
 */
static void
server_raise_nofile(const struct config *cfg)
{
	rlim_t want = (rlim_t)(cfg->max_connections * 2 +
	    cfg->delivery_max_connections + 256);
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1 &&
		    getrlimit(RLIMIT_NOFILE, &rl) == -1)
			return;
	}
	if (rl.rlim_cur < want)
		log_warn("event=nofile-low limit=%llu wanted=%llu "
		    "max_connections=%llu", (unsigned long long)rl.rlim_cur,
		    (unsigned long long)want,
		    (unsigned long long)cfg->max_connections);
}

static void
server_make_dummy_hash(struct server *srv)
{
	char password[ID_LEN + 1], hash[256];

	util_random_id(password);
	if (auth_passwd_hash(password, hash, sizeof(hash)) == -1)
		fatal("cannot compute a password hash (libxcrypt)");
	srv->dummy_hash = xstrdup(hash);
}

/* Root is needed up to here (ports, keys); from here on, never again. */
static void
server_drop_privileges(const struct config *cfg, const struct priv_user *u)
{
	long changed = priv_own_data_dir(cfg->data_dir, u);

	if (changed == -1)
		fatal("cannot give %s to %s: %s", cfg->data_dir, u->name,
		    strerror(errno));
	priv_drop(u);
	log_info("event=privileges-dropped user=%s uid=%ld chowned=%ld",
	    u->name, (long)u->uid, changed);
}

int
server_run(struct config *cfg)
{
	struct server *srv = server_new(cfg);
	struct priv_user user;
	struct buf errors;
	const char *why;
	bool drop;

	log_set_level((enum log_level)cfg->log_level);
	signal(SIGPIPE, SIG_IGN);
	/*
	 * SIGHUP, SIGTERM and SIGINT wait until their handlers exist
	 * (server_signals_init): a reload asked during start-up (a
	 * certificate renewal hook, a log rotation) must not kill us. The
	 * threads started meanwhile keep them blocked, so they reach the
	 * loop's thread.
	 */
	server_signals_block();
	if (priv_plan(cfg, &user, &drop, &why) == -1)
		fatal("%s", why);
	server_prepare_data_dir(cfg);
	buf_init(&errors, 64 * 1024);
	srv->dir = directory_load(cfg, &errors);
	if (srv->dir == NULL)
		fatal("cannot load users/aliases:\n%s", buf_cstr(&errors));
	srv->tls = tls_ctx_load(cfg, &errors);
	if (srv->tls == NULL)
		fatal("TLS: %s", buf_cstr(&errors));
	srv->dns = dns_new(srv->base, cfg->dns_resolver, &errors);
	if (srv->dns == NULL)
		fatal("DNS: %s", buf_cstr(&errors));
	srv->dkim = dkim_store_load(cfg->data_dir, &errors);
	if (buf_len(&errors))
		log_err("event=dkim-key-error errors=%s",
		    log_qs(buf_cstr(&errors)));
	buf_release(&errors);
	server_make_dummy_hash(srv);
	server_raise_nofile(cfg);
	server_listen_all(srv);
	if (drop)
		server_drop_privileges(cfg, &user);
	server_cleanup_leftovers(cfg);
	queue_spare_init(cfg->data_dir);
	srv->commit = commit_new(srv->base, cfg->data_dir, cfg->hostname);
	srv->workq = workq_new(srv->base, 2);
	srv->bans = ban_new(cfg, srv->workq);
	srv->conn_rate = rate_new(60);
	srv->msg_rate = rate_new(60);
	srv->rcpt_rate = rate_new(60);
	srv->mta = mta_new(srv);
	commit_set_queue_hook(srv->commit, server_on_queued, srv->mta);
	srv->control = control_new(srv);
	server_signals_init(srv);
	server_write_pidfile(srv);
	log_info("event=start version=%s hostname=%s domains=%zu users=%zu "
	    "dkim_keys=%zu data_dir=%s", FACTEUR_VERSION, cfg->hostname,
	    cfg->ndomains, directory_user_count(srv->dir),
	    dkim_store_count(srv->dkim), log_qs(cfg->data_dir));
	event_base_dispatch(srv->base);
	server_shutdown(srv);
	return 0;
}
