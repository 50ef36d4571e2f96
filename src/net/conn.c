/*
 * conn.c - see conn.h.
 */
#include "core/common.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/ssl.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"
#include "net/conn.h"

/* Input we let libevent buffer before it stops reading the socket. */
#define CONN_READ_HIGH	(128 * 1024)
/* Longest line any protocol of ours accepts (AUTH, RFC 4954 4). */
#define CONN_LINE_MAX	16384

struct conn {
	struct event_base	*base;
	struct bufferevent	*bev;
	struct event		*kick;
	conn_cb			 cb;
	void			*arg;
	struct buf		 line;
	SSL			*ssl;
	bool			 discarding;	/* inside an over-long line */
	bool			 paused;
	bool			 closing;
	bool			 handshaking;
	bool			 connecting;
	bool			 failed;	/* report CONN_EV_ERROR next turn */
	bool			 starting_tls;	/* inside conn_start_tls*() */
	bool			 want_drain;	/* report CONN_EV_DRAINED */
	bool			 write_blocked;	/* see conn_write_blocked() */
	unsigned		 close_polls;
	unsigned		 rtimeout;	/* seconds, 0: none */
	unsigned		 wtimeout;
};

static void conn_on_read(struct bufferevent *bev, void *arg);
static void conn_on_write(struct bufferevent *bev, void *arg);
static void conn_on_event(struct bufferevent *bev, short what, void *arg);

/*
 * Closing: CONN_EV_CLOSED once everything written has left, including
 * what a TLS filter already passed to the socket bufferevent below it
 * (whose callbacks belong to the filter, so we poll it briefly).
 */
static void
conn_try_close(struct conn *c)
{
	struct bufferevent *under = bufferevent_get_underlying(c->bev);
	struct timeval tv = { 0, 10000 };

	/*
	 * No TLS session yet (a handshake that timed out or never began):
	 * what was written could only leave once a handshake we no longer
	 * wait for has finished, so the connection is not held for it.
	 */
	if (c->handshaking) {
		c->cb(c->arg, CONN_EV_CLOSED);
		return;
	}
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) != 0)
		return;		/* the write callback calls again */
	if (under && evbuffer_get_length(bufferevent_get_output(under)) != 0 &&
	    c->close_polls++ < 500) {
		event_add(c->kick, &tv);
		return;
	}
	c->cb(c->arg, CONN_EV_CLOSED);
}

static void
conn_on_kick(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)what;
	if (c->failed) {
		c->failed = false;
		c->cb(c->arg, CONN_EV_ERROR);
	}
	else if (c->closing)
		conn_try_close(c);
	else if (!c->paused)
		c->cb(c->arg, CONN_EV_READ);
}

/*
 * Also called each time the output has all left. A TLS filter's timers
 * are plain timers: libevent arms its write timer at each write and
 * when the handshake ends, and leaves it running once the output is
 * empty, where a socket's stops; setting the timeouts again disarms it.
 * It restarts the read timer too, on any connection: the wait for an
 * answer counts from when the request has left (RFC 5321 4.5.3.2.6: 10
 * minutes after the final dot, not after it was queued).
 */
static void
conn_apply_timeouts(struct conn *c)
{
	struct timeval rtv = { c->rtimeout, 0 }, wtv = { c->wtimeout, 0 };

	bufferevent_set_timeouts(c->bev, c->rtimeout ? &rtv : NULL,
	    c->wtimeout ? &wtv : NULL);
}

static void
conn_setup_bev(struct conn *c)
{
	struct bufferevent *under = bufferevent_get_underlying(c->bev);

	bufferevent_setcb(c->bev, conn_on_read, conn_on_write, conn_on_event,
	    c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, CONN_READ_HIGH);
	if (c->want_drain || c->write_blocked)
		bufferevent_setwatermark(c->bev, EV_WRITE, CONN_WRITE_LOW, 0);
	/*
	 * A TLS filter stops feeding the socket's buffer at this mark, so
	 * that what waits stays in the filter's own output, which
	 * conn_output_len() measures and the write watermark watches.
	 */
	if (under)
		bufferevent_setwatermark(under, EV_WRITE, 0, CONN_WRITE_LOW);
	/*
	 * The filter's timers alone count, from the handshake on: the
	 * socket's would keep the limits they had when TLS started
	 * (conn_set_timeout() sets the filter's), and would end a TLS
	 * session at the command timeout in the middle of DATA. They
	 * would also be kept alive by TLS records that carry no data.
	 */
	if (under)
		bufferevent_set_timeouts(under, NULL, NULL);
	if (c->paused || c->closing || c->write_blocked)
		bufferevent_disable(c->bev, EV_READ);
	else
		bufferevent_enable(c->bev, EV_READ);
	bufferevent_enable(c->bev, EV_WRITE);
	/* Last: setting them arms a filter's read timer if reading only. */
	conn_apply_timeouts(c);
}

struct conn *
conn_new(struct event_base *base, int fd, conn_cb cb, void *arg)
{
	struct conn *c = xcalloc(1, sizeof(*c));

	c->base = base;
	c->cb = cb;
	c->arg = arg;
	buf_init(&c->line, CONN_LINE_MAX);
	c->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	c->kick = event_new(base, -1, 0, conn_on_kick, c);
	if (c->bev == NULL || c->kick == NULL)
		fatal("conn: out of memory creating a connection");
	conn_setup_bev(c);
	return c;
}

struct conn *
conn_connect(struct event_base *base, const struct sockaddr *sa,
    socklen_t salen, conn_cb cb, void *arg)
{
	struct conn *c = xcalloc(1, sizeof(*c));

	c->base = base;
	c->cb = cb;
	c->arg = arg;
	c->connecting = true;
	c->want_drain = true;
	buf_init(&c->line, CONN_LINE_MAX);
	c->bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	c->kick = event_new(base, -1, 0, conn_on_kick, c);
	if (c->bev == NULL || c->kick == NULL)
		fatal("conn: out of memory creating a connection");
	conn_setup_bev(c);
	if (bufferevent_socket_connect(c->bev, sa, (int)salen) == -1) {
		/* Reported like any connection error, on the next turn. */
		c->connecting = false;
		event_active(c->kick, 0, 0);
		c->failed = true;
	}
	return c;
}

void
conn_free(struct conn **cp)
{
	struct conn *c = *cp;

	if (c == NULL)
		return;
	if (c->bev)
		bufferevent_free(c->bev);	/* frees the SSL too */
	event_free(c->kick);
	buf_release(&c->line);
	XFREE(cp);
}

void
conn_set_timeout(struct conn *c, unsigned seconds)
{
	conn_set_timeouts(c, seconds, seconds);
}

void
conn_set_timeouts(struct conn *c, unsigned rd, unsigned wr)
{
	c->rtimeout = rd;
	c->wtimeout = wr;
	conn_apply_timeouts(c);
}

/*
 * The handshake is over: CONN_EV_TLS_READY, once. A TLS filter whose
 * socket read brought the peer's Finished and its first command together
 * passes that command up before it reports BEV_EVENT_CONNECTED, so the
 * read callback ends the handshake too: a command read through TLS must
 * be judged as one sent over TLS (AUTH allowed, STARTTLS not offered).
 * The read itself then waits for the kick, as the TLS_READY handler may
 * have freed the connection.
 */
static void
conn_tls_ready(struct conn *c)
{
	c->handshaking = false;
	conn_apply_timeouts(c);		/* the write timer, re-armed */
	c->cb(c->arg, CONN_EV_TLS_READY);
}

static void
conn_on_read(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	if (c->handshaking && SSL_is_init_finished(c->ssl)) {
		event_active(c->kick, 0, 0);
		conn_tls_ready(c);
		return;
	}
	if (!c->paused && !c->closing)
		c->cb(c->arg, CONN_EV_READ);
}

static void
conn_on_write(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	if (c->closing) {
		conn_try_close(c);
		return;
	}
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		conn_apply_timeouts(c);
	if (c->write_blocked) {
		/* Down to CONN_WRITE_LOW: the client reads; read it again. */
		c->write_blocked = false;
		if (!c->want_drain)
			bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
		if (!c->paused) {
			bufferevent_enable(c->bev, EV_READ);
			event_active(c->kick, 0, 0);
		}
	}
	if (c->want_drain)
		c->cb(c->arg, CONN_EV_DRAINED);
}

static void
conn_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	if (c->starting_tls) {
		/*
		 * The handshake failed inside conn_start_tls*(), from the
		 * bufferevent_enable() of conn_setup_bev(): reported on the
		 * next turn, as the caller does not expect its callback
		 * (which may free the conn) before the call returns.
		 */
		c->failed = true;
		event_active(c->kick, 0, 0);
		return;
	}
	if (what & BEV_EVENT_CONNECTED) {
		if (c->connecting) {
			c->connecting = false;
			c->cb(c->arg, CONN_EV_CONNECTED);
			return;
		}
		if (c->handshaking)
			conn_tls_ready(c);
		return;
	}
	if (c->closing) {
		c->cb(c->arg, CONN_EV_CLOSED);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT)
		c->cb(c->arg, CONN_EV_TIMEOUT);
	else if (what & BEV_EVENT_EOF)
		c->cb(c->arg, CONN_EV_EOF);
	else
		c->cb(c->arg, CONN_EV_ERROR);
}

/*
 * A line ends at LF; the caller checks that a CR came before it (RFC 5321
 * 2.3.8) and refuses the line otherwise. A line longer than max is dropped
 * up to its LF, even when the rest arrives later.
 */
int
conn_read_line(struct conn *c, size_t max, struct str *line)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	size_t len = evbuffer_get_length(in), n;
	struct evbuffer_ptr p;

	if (c->discarding) {
		p = evbuffer_search(in, "\n", 1, NULL);
		if (p.pos < 0) {
			evbuffer_drain(in, len);
			return 0;
		}
		evbuffer_drain(in, (size_t)p.pos + 1);
		c->discarding = false;
		len = evbuffer_get_length(in);
	}
	p = evbuffer_search(in, "\n", 1, NULL);
	if (p.pos < 0) {
		if (len <= max)
			return 0;
		evbuffer_drain(in, len);	/* too long, no end yet */
		c->discarding = true;
		return -1;
	}
	n = (size_t)p.pos + 1;
	if (n > max || n > CONN_LINE_MAX) {
		evbuffer_drain(in, n);
		return -1;
	}
	buf_reset(&c->line);
	if (buf_add(&c->line, evbuffer_pullup(in, (ev_ssize_t)n), n) == -1)
		return -1;
	evbuffer_drain(in, n);
	*line = str_make(buf_data(&c->line), buf_len(&c->line));
	return 1;
}

size_t
conn_copyout(struct conn *c, char *dst, size_t n)
{
	ev_ssize_t r = evbuffer_copyout(bufferevent_get_input(c->bev), dst,
	    n);

	return r > 0 ? (size_t)r : 0;
}

void
conn_wipe_line(struct conn *c)
{
	if (c->line.data)
		explicit_bzero(c->line.data, c->line.alloc);
	buf_reset(&c->line);
}

size_t
conn_peek(struct conn *c, const char **p)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct evbuffer_iovec v;

	if (evbuffer_peek(in, -1, NULL, &v, 1) < 1 || v.iov_len == 0)
		return 0;
	*p = v.iov_base;
	return v.iov_len;
}

void
conn_drain(struct conn *c, size_t n)
{
	evbuffer_drain(bufferevent_get_input(c->bev), n);
}

size_t
conn_input_len(struct conn *c)
{
	return evbuffer_get_length(bufferevent_get_input(c->bev));
}

void
conn_discard_input(struct conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);

	evbuffer_drain(in, evbuffer_get_length(in));
	c->discarding = false;
}

void
conn_write(struct conn *c, const void *p, size_t len)
{
	bufferevent_write(c->bev, p, len);
}

void
conn_printf(struct conn *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	evbuffer_add_vprintf(bufferevent_get_output(c->bev), fmt, ap);
	va_end(ap);
}

size_t
conn_output_len(struct conn *c)
{
	return evbuffer_get_length(bufferevent_get_output(c->bev));
}

void
conn_want_drain(struct conn *c)
{
	c->want_drain = true;
	bufferevent_setwatermark(c->bev, EV_WRITE, CONN_WRITE_LOW, 0);
}

bool
conn_write_blocked(struct conn *c)
{
	if (conn_output_len(c) < CONN_WRITE_LOW)
		return false;
	if (!c->write_blocked) {
		c->write_blocked = true;
		bufferevent_setwatermark(c->bev, EV_WRITE, CONN_WRITE_LOW, 0);
		bufferevent_disable(c->bev, EV_READ);
	}
	return true;
}

void
conn_pause(struct conn *c)
{
	c->paused = true;
	bufferevent_disable(c->bev, EV_READ);
}

void
conn_resume(struct conn *c)
{
	if (!c->paused || c->closing)
		return;
	c->paused = false;
	if (!c->write_blocked)
		bufferevent_enable(c->bev, EV_READ);
	/* Input may already be buffered: process it without waiting. */
	event_active(c->kick, 0, 0);
}

bool
conn_paused(const struct conn *c)
{
	return c->paused;
}

void
conn_shutdown(struct conn *c)
{
	if (c->closing)
		return;
	c->closing = true;
	bufferevent_disable(c->bev, EV_READ);
	/*
	 * A write timeout (a client that stopped reading) left writing
	 * disabled: without it the output never drains and nothing would
	 * ever report CONN_EV_CLOSED. The next write timeout does.
	 */
	bufferevent_enable(c->bev, EV_WRITE);
	/* CONN_EV_CLOSED comes from the write callback or this kick. */
	event_active(c->kick, 0, 0);
}

/*
 * Puts a TLS filter over the connection. Input still buffered is
 * plaintext that came after the STARTTLS exchange, which a man in the
 * middle may have injected: it is never read as part of the TLS stream
 * (RFC 3207 4; callers that log it discard it first).
 */
static void
conn_tls_filter(struct conn *c, SSL *ssl, enum bufferevent_ssl_state state)
{
	struct bufferevent *tls;

	conn_discard_input(c);
	/*
	 * A failure here is out of memory. It also leaves unknown whether
	 * libevent freed the SSL and the socket's bufferevent (it does on
	 * some of its failure paths, not on others): nothing safe to go
	 * on with, so fatal as any allocation failure (core/xmalloc.h).
	 */
	tls = bufferevent_openssl_filter_new(c->base, c->bev, ssl, state,
	    BEV_OPT_CLOSE_ON_FREE);
	if (tls == NULL)
		fatal("conn: out of memory creating a TLS filter");
	/* A client that closes without close_notify is an EOF, not an error. */
	bufferevent_openssl_set_allow_dirty_shutdown(tls, 1);
	c->bev = tls;
	c->ssl = ssl;
	c->handshaking = true;
	c->starting_tls = true;
	conn_setup_bev(c);
	c->starting_tls = false;
}

int
conn_start_tls(struct conn *c, SSL_CTX *ctx)
{
	SSL *ssl = SSL_new(ctx);

	if (ssl == NULL)
		return -1;
	conn_tls_filter(c, ssl, BUFFEREVENT_SSL_ACCEPTING);
	return 0;
}

int
conn_start_tls_client(struct conn *c, SSL_CTX *ctx, const char *host)
{
	SSL *ssl = SSL_new(ctx);

	if (ssl == NULL)
		return -1;
	/* RFC 6066 3: SNI; RFC 6125: the name the certificate must match. */
	SSL_set_tlsext_host_name(ssl, host);
	SSL_set1_host(ssl, host);
	conn_tls_filter(c, ssl, BUFFEREVENT_SSL_CONNECTING);
	return 0;
}

bool
conn_tls_verified(const struct conn *c)
{
	X509 *peer;
	bool ok;

	if (c->ssl == NULL || c->handshaking)
		return false;
	peer = SSL_get1_peer_certificate(c->ssl);
	ok = peer != NULL && SSL_get_verify_result(c->ssl) == X509_V_OK;
	X509_free(peer);
	return ok;
}

bool
conn_is_tls(const struct conn *c)
{
	return c->ssl != NULL && !c->handshaking;
}

const char *
conn_tls_version(const struct conn *c)
{
	return c->ssl ? SSL_get_version(c->ssl) : NULL;
}

const char *
conn_tls_cipher(const struct conn *c)
{
	return c->ssl ? SSL_get_cipher_name(c->ssl) : NULL;
}
