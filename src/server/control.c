/*
 * control.c - see control.h.
 */
#include "core/common.h"

#include <errno.h>
#include <fcntl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <limits.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "auth/ban.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "delivery/mta.h"
#include "net/conn.h"
#include "queue/queue_store.h"
#include "server/control.h"
#include "server/server_int.h"

/*
 * An answer: room for the longest ban list (the ban file's own bound),
 * as much as the CLI reads.
 */
#define CONTROL_ANSWER_MAX	(16 * 1024 * 1024)
#define CONTROL_LINE_MAX 1024
/* How long the CLI waits for each part of an answer. */
#define CONTROL_WAIT_SECONDS 60
#define CONTROL_TIMEOUT 10

struct control {
	struct server		*srv;
	struct evconnlistener	*lev;
	struct event		*resume;	/* after running out of fds */
	char			 path[PATH_MAX];
};

struct control_client {
	struct control	*ctl;
	struct conn	*conn;
};

void
control_socket_path(const char *data_dir, char *out, size_t size)
{
	snprintf(out, size, "%s/control.sock", data_dir);
}

/*
 * sun_path holds 108 bytes, less than a data_dir may need; the socket is
 * reached through a descriptor of data_dir instead (/proc/self/fd/N/...).
 */
static int
control_sockaddr(const char *data_dir, struct sockaddr_un *sun, int *dirfd)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	*dirfd = open(data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*dirfd == -1)
		return -1;
	snprintf(sun->sun_path, sizeof(sun->sun_path),
	    "/proc/self/fd/%d/control.sock", *dirfd);
	return 0;
}

static void
control_queue_flush(struct control *ctl, struct str args, struct buf *out)
{
	char qid[ID_LEN + 1];
	size_t n;
	int r;

	if (args.len && (str_copy(qid, sizeof(qid), args) == -1 ||
	    !queue_store_valid_id(qid))) {
		r = buf_adds(out, "error not a queue id\n");
		(void)r;
		return;
	}
	n = mta_flush(ctl->srv->mta, args.len ? qid : NULL);
	if (args.len && n == 0)
		r = buf_addf(out, "error no queue entry %s\n", qid);
	else
		r = buf_addf(out, "ok %zu entr%s retried now\n", n,
		    n == 1 ? "y" : "ies");
	(void)r;
}

static void
control_queue_delete(struct control *ctl, struct str args, struct buf *out)
{
	struct str id, how = STR_NULL;
	char qid[ID_LEN + 1];
	int r;

	if (!str_take_word(&args, &id, ID_LEN) || str_copy(qid, sizeof(qid),
	    id) == -1 || !queue_store_valid_id(qid)) {
		r = buf_adds(out, "error not a queue id\n");
		(void)r;
		return;
	}
	str_skip_ws(&args);
	how = args;
	if (mta_delete(ctl->srv->mta, qid, str_eq(how, STR_LIT("bounce"))) ==
	    -1)
		r = buf_addf(out, "error no queue entry %s\n", qid);
	else
		r = buf_addf(out, "ok deleted %s%s\n", qid,
		    str_eq(how, STR_LIT("bounce")) ? ", sender notified" : "");
	(void)r;
}

static void
control_ban(struct control *ctl, struct str verb, struct str args,
    struct buf *out)
{
	struct str ip, secs;
	char text[64];
	uint64_t n = 0;
	int r = 0;

	if (str_eq(verb, STR_LIT("ban-list"))) {
		ban_list(ctl->srv->bans, out);
		return;
	}
	if (!str_take_word(&args, &ip, sizeof(text) - 1) ||
	    str_copy(text, sizeof(text), ip) == -1) {
		r = buf_adds(out, "error an IP address is needed\n");
	} else if (str_eq(verb, STR_LIT("ban-add"))) {
		str_skip_ws(&args);
		if (!str_take_word(&args, &secs, 20) ||
		    str_to_u64(secs, 10ull * 365 * 86400, &n) == -1 || n == 0 ||
		    ban_add(ctl->srv->bans, text, n) == -1)
			r = buf_adds(out, "error expected: ban-add IP SECONDS\n");
		else
			r = buf_addf(out, "ok %s banned for %llu s\n", text,
			    (unsigned long long)n);
	} else if (ban_del(ctl->srv->bans, text) == -1) {
		r = buf_addf(out, "error %s is not banned\n", text);
	} else {
		r = buf_addf(out, "ok %s unbanned\n", text);
	}
	(void)r;
}

/* One request line to its answer. */
static void
control_dispatch(struct control *ctl, struct str line, struct buf *out)
{
	struct str verb;
	int r = 0;

	line = str_trim(line);
	if (!str_take_word(&line, &verb, 32)) {
		r = buf_adds(out, "error empty request\n");
	} else if (str_eq(verb, STR_LIT("ping"))) {
		r = buf_adds(out, "ok facteur " FACTEUR_VERSION "\n");
	} else if (str_eq(verb, STR_LIT("queue-flush"))) {
		str_skip_ws(&line);
		control_queue_flush(ctl, line, out);
	} else if (str_eq(verb, STR_LIT("queue-delete"))) {
		str_skip_ws(&line);
		control_queue_delete(ctl, line, out);
	} else if (str_eq(verb, STR_LIT("ban-list")) ||
	    str_eq(verb, STR_LIT("ban-add")) ||
	    str_eq(verb, STR_LIT("ban-del"))) {
		str_skip_ws(&line);
		control_ban(ctl, verb, line, out);
	} else {
		r = buf_addf(out, "error unknown request %.*s\n",
		    (int)verb.len, verb.p);
	}
	(void)r;
}

static void
control_client_free(struct control_client *cl)
{
	conn_free(&cl->conn);
	free(cl);
}

static void
control_on_conn(void *arg, enum conn_event ev)
{
	struct control_client *cl = arg;
	struct buf out;
	struct str line;
	int r;

	if (ev == CONN_EV_CLOSED || ev == CONN_EV_EOF ||
	    ev == CONN_EV_ERROR || ev == CONN_EV_TIMEOUT) {
		control_client_free(cl);
		return;
	}
	if (ev != CONN_EV_READ)
		return;
	r = conn_read_line(cl->conn, CONTROL_LINE_MAX, &line);
	if (r == 0)
		return;
	buf_init(&out, CONTROL_ANSWER_MAX);
	if (r == -1) {
		r = buf_adds(&out, "error request too long\n");
		(void)r;
	} else {
		log_info("event=control request=%s", log_q(line.p,
		    line.len ? line.len - 1 : 0));
		control_dispatch(cl->ctl, str_make(line.p, line.len ?
		    line.len - 1 : 0), &out);
	}
	conn_write(cl->conn, buf_data(&out), buf_len(&out));
	buf_release(&out);
	conn_shutdown(cl->conn);
}

static void
control_on_accept(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct control *ctl = arg;
	struct control_client *cl = xcalloc(1, sizeof(*cl));

	(void)lev;
	(void)sa;
	(void)salen;
	evutil_make_socket_nonblocking(fd);
	cl->ctl = ctl;
	cl->conn = conn_new(server_base(ctl->srv), fd, control_on_conn, cl);
	conn_set_timeout(cl->conn, CONTROL_TIMEOUT);
}

static void
control_on_resume(evutil_socket_t fd, short what, void *arg)
{
	struct control *ctl = arg;

	(void)fd;
	(void)what;
	evconnlistener_enable(ctl->lev);
}

static void
control_on_accept_error(struct evconnlistener *lev, void *arg)
{
	struct control *ctl = arg;

	server_accept_failed(lev, ctl->resume, "control");
}

struct control *
control_new(struct server *srv)
{
	struct control *ctl = xcalloc(1, sizeof(*ctl));
	struct sockaddr_un sun;
	int fd, dirfd;

	ctl->srv = srv;
	control_socket_path(server_config(srv)->data_dir, ctl->path,
	    sizeof(ctl->path));
	unlink(ctl->path);	/* a stale one from a crash */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1 || control_sockaddr(server_config(srv)->data_dir, &sun,
	    &dirfd) == -1 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) ==
	    -1 || chmod(ctl->path, 0600) == -1 || listen(fd, 16) == -1)
		fatal("control socket %s: %s", ctl->path, strerror(errno));
	close(dirfd);
	ctl->lev = evconnlistener_new(server_base(srv), control_on_accept,
	    ctl, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
	ctl->resume = evtimer_new(server_base(srv), control_on_resume, ctl);
	if (ctl->lev == NULL || ctl->resume == NULL)
		fatal("control socket: evconnlistener_new failed");
	evconnlistener_set_error_cb(ctl->lev, control_on_accept_error);
	return ctl;
}

void
control_free(struct control **ctlp)
{
	struct control *ctl = *ctlp;

	if (ctl == NULL)
		return;
	evconnlistener_free(ctl->lev);
	event_free(ctl->resume);
	unlink(ctl->path);
	XFREE(ctlp);
}

int
control_request(const char *data_dir, const char *request,
    struct buf *answer)
{
	struct timeval wait = { CONTROL_WAIT_SECONDS, 0 };
	struct sockaddr_un sun;
	char chunk[4096];
	ssize_t n;
	int fd, dirfd = -1, r = 0;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	/* Bounds a connect to a server whose backlog is full, and sends. */
	if (fd != -1 && setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &wait,
	    sizeof(wait)) == -1) {
		/* then it waits as before */
	}
	if (fd == -1 || control_sockaddr(data_dir, &sun, &dirfd) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    fs_write_all(fd, request, strlen(request)) == -1 ||
	    fs_write_all(fd, "\n", 1) == -1) {
		if (fd != -1)
			close(fd);
		if (dirfd != -1)
			close(dirfd);
		return -1;
	}
	close(dirfd);
	/* A server whose loop is stuck must not hang the CLI (or a cron). */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait,
	    sizeof(wait)) == -1) {
		/* then it waits as before */
	}
	while ((n = read(fd, chunk, sizeof(chunk))) > 0 ||
	    (n == -1 && errno == EINTR))
		if (n > 0 && buf_add(answer, chunk, (size_t)n) == -1)
			break;
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		r = buf_addf(answer, "\nerror the server did not answer "
		    "within %ld s\n", (long)wait.tv_sec) == -1 ? -1 : 0;
	else if (n < 0)
		r = -1;
	close(fd);
	return r;
}
