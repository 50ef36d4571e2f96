/*
 * test_conn.c - conn's timeouts and its TLS start, both ends conns over
 * a socketpair, in plain text and under TLS (a self-signed pair made in
 * a temporary directory). Timeouts are whole seconds, so these take a
 * few seconds each: the read timeout is off while a slow peer reads a
 * long upload (the message body of the SMTP client), the read timer
 * restarts when the output has left, the socket under TLS keeps no
 * timeout of its own, a drained TLS output is no write timeout, a
 * shutdown during a handshake is at once, and a handshake failing
 * inside conn_start_tls*() is reported after it returns.
 */
#include "core/common.h"

#include <event2/event.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "net/conn.h"
#include "tls/tls.h"
#include "unit/unit.h"

#define CHUNK 16384

struct end {
	struct pair	*p;
	struct conn	*c;
	int		 fd;		/* before conn_new() */
	unsigned	 timeouts, closed, errors, ready;
	double		 timeout_at, closed_at, error_at;
	bool		 sink;		/* reads whatever comes */
	bool		 pump;		/* refills its output on DRAINED */
	bool		 slow;		/* a sink that reads on its timer only */
	bool		 on_timeout_close;	/* 421 and conn_shutdown() */
	bool		 in_call;	/* inside a conn call of the test */
	bool		 cb_in_call;	/* a callback came during one */
	size_t		 got;
};

struct pair {
	struct event_base *base;
	struct end	 a, b;
	double		 t0;
	char		 dir[64];
	SSL_CTX		*sctx, *cctx;
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
since(struct pair *p, double t)
{
	return t - p->t0;
}

static void
end_pump(struct end *e)
{
	char chunk[CHUNK];

	memset(chunk, 'x', sizeof(chunk));
	while (conn_output_len(e->c) < CONN_WRITE_LOW)
		conn_write(e->c, chunk, sizeof(chunk));
}

static void
on_end(void *arg, enum conn_event ev)
{
	struct end *e = arg;
	size_t n;

	if (e->in_call)
		e->cb_in_call = true;
	switch (ev) {
	case CONN_EV_READ:
		if (e->sink) {
			n = conn_input_len(e->c);
			conn_drain(e->c, n);
			e->got += n;
			if (e->slow && n > 0)	/* not on a resume's kick */
				conn_pause(e->c);
		}
		break;
	case CONN_EV_DRAINED:
		if (e->pump)
			end_pump(e);
		break;
	case CONN_EV_TLS_READY:
		e->ready++;
		if (e->p->a.ready && e->p->b.ready)
			event_base_loopbreak(e->p->base);
		break;
	case CONN_EV_TIMEOUT:
		if (e->timeouts++ == 0)
			e->timeout_at = now();
		if (e->on_timeout_close) {
			conn_printf(e->c, "421 4.4.2 timeout\r\n");
			conn_shutdown(e->c);
			break;
		}
		event_base_loopbreak(e->p->base);
		break;
	case CONN_EV_CLOSED:
		e->closed++;
		e->closed_at = now();
		conn_free(&e->c);
		event_base_loopbreak(e->p->base);
		break;
	case CONN_EV_EOF:
	case CONN_EV_ERROR:
		if (e->errors++ == 0)
			e->error_at = now();
		event_base_loopbreak(e->p->base);
		break;
	case CONN_EV_CONNECTED:
		break;
	}
}

/* Runs the loop for at most seconds (or until a callback breaks it). */
static void
run(struct pair *p, double seconds)
{
	struct timeval tv = { (time_t)seconds,
	    (suseconds_t)((seconds - (double)(time_t)seconds) * 1e6) };

	event_base_loopexit(p->base, &tv);
	event_base_dispatch(p->base);
}

static void
pair_init(struct pair *p, bool conns)
{
	int sv[2];

	memset(p, 0, sizeof(*p));
	p->base = event_base_new();
	CHECK(p->base != NULL);
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
	p->a.p = p->b.p = p;
	p->a.fd = sv[0];
	p->b.fd = sv[1];
	if (conns) {
		p->a.c = conn_new(p->base, p->a.fd, on_end, &p->a);
		p->b.c = conn_new(p->base, p->b.fd, on_end, &p->b);
	}
}

static void
pair_release(struct pair *p)
{
	char path[128];

	conn_free(&p->a.c);
	conn_free(&p->b.c);
	SSL_CTX_free(p->sctx);
	SSL_CTX_free(p->cctx);
	if (p->dir[0]) {
		snprintf(path, sizeof(path), "%s/key.pem", p->dir);
		unlink(path);
		snprintf(path, sizeof(path), "%s/cert.pem", p->dir);
		unlink(path);
		rmdir(p->dir);
	}
	event_base_free(p->base);
}

/* A server and a client context that trusts anything. */
static void
pair_tls_contexts(struct pair *p)
{
	char key[128], cert[128];
	struct buf err;

	snprintf(p->dir, sizeof(p->dir), "/tmp/facteur-test-conn-XXXXXX");
	CHECK(mkdtemp(p->dir) != NULL);
	snprintf(key, sizeof(key), "%s/key.pem", p->dir);
	snprintf(cert, sizeof(cert), "%s/cert.pem", p->dir);
	buf_init(&err, 1024);
	CHECK(tls_selfsigned_make("mail.example.test", key, cert, &err) == 0);
	buf_release(&err);
	p->sctx = SSL_CTX_new(TLS_server_method());
	CHECK(SSL_CTX_use_certificate_chain_file(p->sctx, cert) == 1);
	CHECK(SSL_CTX_use_PrivateKey_file(p->sctx, key, SSL_FILETYPE_PEM) ==
	    1);
	p->cctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_verify(p->cctx, SSL_VERIFY_NONE, NULL);
}

/* Both ends in TLS, a the server; the timeouts of each set after. */
static void
pair_tls(struct pair *p)
{
	pair_tls_contexts(p);
	CHECK(conn_start_tls(p->a.c, p->sctx) == 0);
	CHECK(conn_start_tls_client(p->b.c, p->cctx, "mail.example.test") ==
	    0);
	run(p, 10);
	CHECK(p->a.ready == 1 && p->b.ready == 1);
}

static void
on_slow_tick(evutil_socket_t fd, short what, void *arg)
{
	struct end *e = arg;

	(void)fd;
	(void)what;
	if (e->c)
		conn_resume(e->c);
}

/*
 * A writes as fast as b reads, b reading a burst every 200 ms: with no
 * read timeout and a write timeout of 1 s, an upload of any length goes
 * on (the SMTP client sending a body, RFC 5321 4.5.3.2.5); a reader that
 * stops is a write timeout, 1 s after the last progress.
 */
static void
slow_reader(bool tls)
{
	struct timeval tick = { 0, 200000 };
	struct event *ev;
	struct pair p;
	size_t before;

	pair_init(&p, true);
	if (tls)
		pair_tls(&p);
	p.b.sink = p.b.slow = true;
	conn_pause(p.b.c);
	ev = event_new(p.base, -1, EV_PERSIST, on_slow_tick, &p.b);
	event_add(ev, &tick);
	p.a.pump = true;
	conn_want_drain(p.a.c);
	conn_set_timeouts(p.a.c, 0, 1);
	end_pump(&p.a);
	p.t0 = now();
	run(&p, 2.5);
	CHECKF(p.a.timeouts == 0, "timeout after %.2f s",
	    since(&p, p.a.timeout_at));
	/* Paced by b: a pumps without end, the socket buffers are full. */
	CHECKF(p.b.got >= 8 * 4096, "%zu read", p.b.got);
	event_del(ev);
	before = p.b.got;
	p.t0 = now();
	run(&p, 5);
	CHECK_EQ_INT(p.a.timeouts, 1);
	CHECKF(since(&p, p.a.timeout_at) < 3, "timeout after %.2f s",
	    since(&p, p.a.timeout_at));
	CHECK(p.b.got - before <= 4 * CONN_WRITE_LOW);	/* one burst */
	event_free(ev);
	pair_release(&p);
}

TEST(conn_slow_reader_no_read_timeout)
{
	slow_reader(false);
}

TEST(conn_slow_reader_no_read_timeout_tls)
{
	slow_reader(true);
}

static void
on_write_tick(evutil_socket_t fd, short what, void *arg)
{
	struct end *e = arg;

	(void)fd;
	(void)what;
	conn_write(e->c, "ping", 4);
}

/*
 * The read timer counts from when the output has left, not from when
 * the timeout was set: the wait for an answer starts with the request
 * (RFC 5321 4.5.3.2.6, 10 minutes after the final dot has gone).
 */
static void
read_timer_restarts(bool tls)
{
	struct timeval at = { 0, 600000 };
	struct event *ev;
	struct pair p;
	double t;

	pair_init(&p, true);
	if (tls)
		pair_tls(&p);
	p.b.sink = true;
	ev = evtimer_new(p.base, on_write_tick, &p.a);
	evtimer_add(ev, &at);
	conn_set_timeout(p.a.c, 1);
	p.t0 = now();
	run(&p, 5);
	CHECK_EQ_INT(p.a.timeouts, 1);
	t = since(&p, p.a.timeout_at);
	CHECKF(t >= 1.45 && t < 2.5, "timeout after %.2f s", t);
	CHECK_EQ_INT(p.b.got, 4);
	event_free(ev);
	pair_release(&p);
}

TEST(conn_read_timer_restarts_when_output_leaves)
{
	read_timer_restarts(false);
}

TEST(conn_read_timer_restarts_when_output_leaves_tls)
{
	read_timer_restarts(true);
}

/*
 * Under TLS only the TLS layer's timers count: the socket below kept the
 * timeouts it had when TLS started, and cut the session at the command
 * timeout in the middle of DATA.
 */
TEST(conn_tls_socket_keeps_no_timeout_of_its_own)
{
	struct pair p;
	double t;

	pair_init(&p, true);
	conn_set_timeout(p.a.c, 1);	/* as a session before STARTTLS */
	pair_tls(&p);
	conn_set_timeout(p.a.c, 2);	/* then as in DATA */
	p.t0 = now();
	run(&p, 5);
	CHECK_EQ_INT(p.a.timeouts, 1);
	t = since(&p, p.a.timeout_at);
	CHECKF(t >= 1.9 && t < 3, "timeout after %.2f s", t);
	pair_release(&p);
}

/*
 * A TLS layer leaves its write timer running once all is written: a
 * peer slower to answer than the write timeout (but within the read
 * timeout) was taken for a stuck write.
 */
TEST(conn_tls_drained_output_is_no_write_timeout)
{
	struct pair p;
	double t;

	pair_init(&p, true);
	pair_tls(&p);
	p.b.sink = true;
	conn_set_timeouts(p.a.c, 2, 1);
	p.t0 = now();
	conn_write(p.a.c, "ping", 4);
	run(&p, 5);
	CHECK_EQ_INT(p.b.got, 4);
	CHECK_EQ_INT(p.a.timeouts, 1);
	t = since(&p, p.a.timeout_at);
	CHECKF(t >= 1.9 && t < 3, "timeout after %.2f s", t);
	pair_release(&p);
}

/*
 * A client that never begins the handshake: the read timeout ends it,
 * and the 421 written then cannot leave before a handshake, so
 * CONN_EV_CLOSED comes at once, not after a second timeout.
 */
TEST(conn_tls_shutdown_during_handshake_is_at_once)
{
	struct pair p;
	double t;

	pair_init(&p, false);
	pair_tls_contexts(&p);
	p.a.c = conn_new(p.base, p.a.fd, on_end, &p.a);
	conn_set_timeout(p.a.c, 1);
	CHECK(conn_start_tls(p.a.c, p.sctx) == 0);
	p.a.on_timeout_close = true;
	p.t0 = now();
	run(&p, 5);
	CHECK_EQ_INT(p.a.timeouts, 1);
	CHECK_EQ_INT(p.a.closed, 1);
	t = since(&p, p.a.timeout_at);
	CHECKF(t >= 0.9 && t < 2, "timeout after %.2f s", t);
	t = p.a.closed_at - p.a.timeout_at;
	CHECKF(t < 0.5, "closed %.2f s after the timeout", t);
	close(p.b.fd);
	pair_release(&p);
}

/*
 * A handshake that fails at once (here: a client allowed no protocol
 * version) fails inside conn_start_tls_client(): the error used to reach
 * the owner from inside the call, which freed the conn that the call
 * then went on using. It comes on the next turn of the loop.
 */
TEST(conn_tls_failure_at_start_reported_after_the_call)
{
	struct pair p;

	pair_init(&p, true);
	pair_tls_contexts(&p);
	SSL_CTX_set_min_proto_version(p.cctx, TLS1_3_VERSION);
	SSL_CTX_set_max_proto_version(p.cctx, TLS1_2_VERSION);
	p.b.in_call = true;
	CHECK(conn_start_tls_client(p.b.c, p.cctx, "mail.example.test") ==
	    0);
	p.b.in_call = false;
	CHECK(!p.b.cb_in_call);
	CHECK_EQ_INT(p.b.errors, 0);
	run(&p, 2);
	CHECK_EQ_INT(p.b.errors, 1);
	pair_release(&p);
}
