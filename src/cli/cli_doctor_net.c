/*
 * cli_doctor_net.c - the doctor's checks over the network, from this
 * machine: every [listen] address answers with its greeting (SMTP 220,
 * RFC 5321 4.2; POP3 +OK, RFC 1939 4), over TLS for the implicit-TLS
 * listeners (RFC 8314 3), and the smtp listener refuses to relay mail
 * from a stranger to a stranger (RFC 5321 3.6, 7.1).
 *
 * Blocking sockets with time limits: one connection at a time.
 */
#include "core/common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli/cli_int.h"
#include "config/config.h"

#define CLI_NET_TIME	10	/* seconds per read or write */
#define CLI_NET_LINE	512

struct cli_conn {
	int		 fd;
	SSL_CTX		*ctx;
	SSL		*ssl;
	char		 buf[CLI_NET_LINE * 4];
	size_t		 len;
};

/* A wildcard listen address means "here": connect to loopback. */
static void
cli_conn_target(const struct listen_addr *la, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	*ss = la->ss;
	if (ss->ss_family == AF_INET && sin->sin_addr.s_addr == INADDR_ANY)
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else if (ss->ss_family == AF_INET6 &&
	    IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr))
		sin6->sin6_addr = in6addr_loopback;
}

static void
cli_conn_close(struct cli_conn *c)
{
	if (c->ssl != NULL) {
		SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	SSL_CTX_free(c->ctx);
	if (c->fd != -1)
		close(c->fd);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

/* TLS from the first byte; the certificate is judged elsewhere. */
static int
cli_conn_tls(struct cli_conn *c, const char *host)
{
	c->ctx = SSL_CTX_new(TLS_client_method());
	if (c->ctx == NULL || (c->ssl = SSL_new(c->ctx)) == NULL)
		return -1;
	SSL_set_verify(c->ssl, SSL_VERIFY_NONE, NULL);
	SSL_set_tlsext_host_name(c->ssl, host);
	if (SSL_set_fd(c->ssl, c->fd) != 1 || SSL_connect(c->ssl) != 1)
		return -1;
	return 0;
}

/* 0, or -1 with a reason. */
static int
cli_conn_open(struct cli_conn *c, const struct sockaddr_storage *ss,
    bool tls, const char *host, unsigned extra_wait, const char **why_r)
{
	struct timeval tv = { CLI_NET_TIME + extra_wait, 0 };
	socklen_t len = ss->ss_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);

	memset(c, 0, sizeof(*c));
	c->fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd == -1 || setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv)) == -1 || setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO,
	    &tv, sizeof(tv)) == -1 ||
	    connect(c->fd, (const struct sockaddr *)ss, len) == -1) {
		*why_r = strerror(errno);
		return -1;
	}
	if (tls && cli_conn_tls(c, host) == -1) {
		*why_r = "TLS handshake failed";
		return -1;
	}
	return 0;
}

static ssize_t
cli_conn_read(struct cli_conn *c, char *p, size_t size)
{
	int n;

	if (c->ssl == NULL)
		return read(c->fd, p, size);
	n = SSL_read(c->ssl, p, (int)MIN(size, (size_t)INT_MAX));
	return n > 0 ? n : -1;
}

/* One line without its CRLF into out; 0, or -1 (closed, timeout). */
static int
cli_conn_line(struct cli_conn *c, char *out, size_t size)
{
	char *nl;
	size_t len;
	ssize_t n;

	while ((nl = memchr(c->buf, '\n', c->len)) == NULL) {
		if (c->len == sizeof(c->buf))
			return -1;
		n = cli_conn_read(c, c->buf + c->len, sizeof(c->buf) - c->len);
		if (n <= 0)
			return -1;
		c->len += (size_t)n;
	}
	len = (size_t)(nl - c->buf);
	/* Without its CR; a longer line than out is cut, for display. */
	memcpy(out, c->buf, MIN(len, size - 1));
	out[MIN(len, size - 1)] = '\0';
	out[strcspn(out, "\r")] = '\0';
	c->len -= len + 1;
	memmove(c->buf, nl + 1, c->len);
	return 0;
}

/* The last line of an SMTP reply (continuations skipped, RFC 5321 4.2). */
static int
cli_conn_reply(struct cli_conn *c, char *out, size_t size)
{
	do {
		if (cli_conn_line(c, out, size) == -1)
			return -1;
	} while (strlen(out) > 3 && out[3] == '-');
	return 0;
}

static int
cli_conn_send(struct cli_conn *c, const char *line)
{
	size_t len = strlen(line);

	if (c->ssl != NULL)
		return SSL_write(c->ssl, line, (int)len) == (int)len ? 0 : -1;
	return send(c->fd, line, len, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

static bool
cli_kind_tls(enum listener_kind kind)
{
	return kind == LISTEN_SUBMISSIONS || kind == LISTEN_POP3S;
}

static bool
cli_kind_pop3(enum listener_kind kind)
{
	return kind == LISTEN_POP3 || kind == LISTEN_POP3S;
}

static void
cli_doctor_listen_one(struct cli_doctor *d, enum listener_kind kind,
    const struct listen_addr *la)
{
	char line[CLI_NET_LINE];
	struct sockaddr_storage ss;
	struct cli_conn c;
	const char *why = "no greeting", *fix = "start facteur (systemctl "
	    "start facteur; journalctl -u facteur says why it stopped)";
	bool ok = false;

	cli_conn_target(la, &ss);
	if (cli_conn_open(&c, &ss, cli_kind_tls(kind), d->cfg->hostname,
	    kind == LISTEN_SMTP ? (unsigned)(d->cfg->greeting_delay_ms /
	    1000 + 1) : 0, &why) == 0 && cli_conn_line(&c, line,
	    sizeof(line)) == 0) {
		ok = cli_kind_pop3(kind) ? strncmp(line, "+OK", 3) == 0 :
		    strncmp(line, "220", 3) == 0;
		why = line;
		fix = "look at the server's log (journalctl -u facteur)";
	}
	if (ok)
		cli_doctor_say(d, CLI_DOC_OK, NULL, "listen %s %s: %s",
		    listener_name(kind), la->text, line);
	else
		cli_doctor_say(d, CLI_DOC_FAIL, fix, "listen %s %s: %s",
		    listener_name(kind), la->text, why);
	cli_conn_close(&c);
}

void
cli_doctor_listeners(struct cli_doctor *d)
{
	size_t k, i;

	if (d->cfg->listen[LISTEN_SMTP].count == 0)
		cli_doctor_say(d, CLI_DOC_FAIL, "add [listen] smtp = "
		    "0.0.0.0:25 [::]:25", "listen smtp: not configured, other "
		    "servers cannot deliver mail here");
	for (k = 0; k < LISTEN_KIND_COUNT; k++)
		for (i = 0; i < d->cfg->listen[k].count; i++)
			cli_doctor_listen_one(d, (enum listener_kind)k,
			    &d->cfg->listen[k].addrs[i]);
}

/* Sends line, reads the reply's last line; its code, or -1. */
static int
cli_doctor_cmd(struct cli_conn *c, const char *line, char *reply,
    size_t size)
{
	if ((line != NULL && cli_conn_send(c, line) == -1) ||
	    cli_conn_reply(c, reply, size) == -1 || !ascii_isdigit(reply[0]))
		return -1;
	return reply[0] - '0';
}

/*
 * MAIL from and RCPT to addresses in a reserved domain (RFC 2606): no
 * real mail can result. A 2xx to the RCPT is an open relay.
 */
static void
cli_doctor_relay_talk(struct cli_doctor *d, struct cli_conn *c,
    const char *where)
{
	char reply[CLI_NET_LINE] = "", ehlo[300];
	int code;

	snprintf(ehlo, sizeof(ehlo), "EHLO %s\r\n", d->cfg->hostname);
	if (cli_doctor_cmd(c, NULL, reply, sizeof(reply)) != 2 ||
	    cli_doctor_cmd(c, ehlo, reply, sizeof(reply)) != 2 ||
	    cli_doctor_cmd(c, "MAIL FROM:<doctor@example.invalid>\r\n",
	    reply, sizeof(reply)) != 2) {
		cli_doctor_say(d, CLI_DOC_WARN, "look at the server's log",
		    "relay %s: test not run, the session ended early: %s",
		    where, reply);
		return;
	}
	code = cli_doctor_cmd(c, "RCPT TO:<relay-test@example.invalid>\r\n",
	    reply, sizeof(reply));
	if (code == 5)
		cli_doctor_say(d, CLI_DOC_OK, NULL, "relay %s: refused for "
		    "strangers: %s", where, reply);
	else if (code == 2)
		cli_doctor_say(d, CLI_DOC_FAIL, "stop the server now: it "
		    "forwards anyone's mail anywhere", "relay %s: OPEN RELAY, "
		    "a stranger's mail for a stranger was accepted: %s", where,
		    reply);
	else
		cli_doctor_say(d, CLI_DOC_WARN, "a relay attempt should get a "
		    "permanent 5xx", "relay %s: answered %s", where,
		    code == -1 ? "nothing" : reply);
	(void)cli_doctor_cmd(c, "QUIT\r\n", reply, sizeof(reply));
}

void
cli_doctor_relay(struct cli_doctor *d)
{
	const struct listen_set *set = &d->cfg->listen[LISTEN_SMTP];
	struct sockaddr_storage ss;
	struct cli_conn c;
	const char *why;

	if (set->count == 0)
		return;
	cli_conn_target(&set->addrs[0], &ss);
	if (cli_conn_open(&c, &ss, false, d->cfg->hostname,
	    (unsigned)(d->cfg->greeting_delay_ms / 1000 + 1), &why) == -1)
		cli_doctor_say(d, CLI_DOC_WARN, "start facteur", "relay %s: "
		    "test not run (%s)", set->addrs[0].text, why);
	else
		cli_doctor_relay_talk(d, &c, set->addrs[0].text);
	cli_conn_close(&c);
}
