/*
 * smtp_session.c - the SMTP server session core (RFC 5321).
 *
 * A session is driven by its connection's events. Input is processed in a
 * loop until it runs out or the session pauses (a commit in flight) or
 * closes: lines go through smtp_parse_line() to the command table; in DATA
 * and BDAT modes bytes go to smtp_cmd_data.c. Every reply goes through
 * smtp_reply.c; every refusal counts towards max_errors.
 */
#include "core/common.h"

#include <event2/event.h>

#include "core/cidr.h"
#include "core/log.h"
#include "net/conn.h"
#include "queue/commit.h"
#include "smtp/smtp_int.h"

/* RFC 2920 3.1: commands after which the client must wait for our reply. */
#define CMD_LAST_IN_GROUP	0x01

struct smtp_cmd_def {
	void		(*fn)(struct smtp_session *, struct str);
	unsigned	 flags;
};

static const struct smtp_cmd_def smtp_cmds[SMTP_VERB_COUNT] = {
	[SMTP_VERB_HELO] = { smtp_cmd_helo, CMD_LAST_IN_GROUP },
	[SMTP_VERB_EHLO] = { smtp_cmd_ehlo, CMD_LAST_IN_GROUP },
	[SMTP_VERB_MAIL] = { smtp_cmd_mail, 0 },
	[SMTP_VERB_RCPT] = { smtp_cmd_rcpt, 0 },
	[SMTP_VERB_DATA] = { smtp_cmd_data, CMD_LAST_IN_GROUP },
	[SMTP_VERB_BDAT] = { smtp_cmd_bdat, 0 },
	[SMTP_VERB_RSET] = { smtp_cmd_rset, 0 },
	[SMTP_VERB_NOOP] = { smtp_cmd_noop, 0 },
	[SMTP_VERB_QUIT] = { smtp_cmd_quit, 0 },
	[SMTP_VERB_HELP] = { smtp_cmd_help, 0 },
	[SMTP_VERB_VRFY] = { smtp_cmd_vrfy, 0 },
	[SMTP_VERB_EXPN] = { smtp_cmd_vrfy, 0 },
	[SMTP_VERB_STARTTLS] = { smtp_cmd_starttls, 0 },
	[SMTP_VERB_AUTH] = { smtp_cmd_auth, 0 },
};

static void smtp_on_conn(void *arg, enum conn_event ev);

void
smtp_session_free(struct smtp_session *s)
{
	if (s->job)
		commit_forget(s->job);	/* the mail is still delivered */
	smtp_auth_cleanup(s);
	smtp_dnsbl_free(s);
	smtp_tx_reset(s);
	buf_release(&s->tx.headers);
	if (s->greet_timer)
		event_free(s->greet_timer);
	conn_free(&s->conn);
	server_client_remove(s->srv, &s->client);
	log_sess(LOG_LEVEL_INFO, s->id, "event=disconnect ip=%s messages=%u "
	    "errors=%u", s->client.ip, s->messages, s->errors);
	free(s);
}

bool
smtp_busy(const struct smtp_session *s)
{
	return s->job != NULL || s->checking;
}

void
smtp_close(struct smtp_session *s)
{
	if (s->state == SMTP_STATE_CLOSING)
		return;
	s->state = SMTP_STATE_CLOSING;
	if (s->greet_timer)
		evtimer_del(s->greet_timer);	/* no 220 after a 421 */
	conn_shutdown(s->conn);
}

/* Counts a refused command; too many and the client is shown the door. */
void
smtp_error(struct smtp_session *s)
{
	const struct config *cfg = server_config(s->srv);

	if (++s->errors < cfg->max_errors || s->state == SMTP_STATE_CLOSING)
		return;
	log_sess(LOG_LEVEL_INFO, s->id, "event=too-many-errors ip=%s errors=%u",
	    s->client.ip, s->errors);
	smtp_reply(s, 421, "4.7.0", "%s Error: too many errors",
	    cfg->hostname);
	smtp_close(s);
}

bool
smtp_input_pending(struct smtp_session *s)
{
	return conn_input_len(s->conn) > 0;
}

static void
smtp_greet(struct smtp_session *s)
{
	s->state = SMTP_STATE_CONNECTED;
	smtp_reply(s, 220, NULL, "%s ESMTP facteur",
	    server_config(s->srv)->hostname);
}

void
smtp_greet_ready(struct smtp_session *s)
{
	const char *zone;

	if (s->state != SMTP_STATE_GREETING || s->greet_delayed ||
	    smtp_dnsbl_pending(s))
		return;
	if ((zone = smtp_dnsbl_listed(s)) != NULL) {
		smtp_refuse(s, "dnsbl", 554, "5.7.1", "Service unavailable; "
		    "client [%s] blocked using %s", s->client.ip, zone);
		smtp_close(s);
		return;
	}
	smtp_greet(s);
}

static void
smtp_on_greet_timer(evutil_socket_t fd, short what, void *arg)
{
	struct smtp_session *s = arg;

	(void)fd;
	(void)what;
	s->greet_delayed = false;
	smtp_greet_ready(s);
}

/* The session's client went away or must go: say why, once. */
static void
smtp_stop(struct server_client *cl)
{
	struct smtp_session *s = (struct smtp_session *)cl;

	if (smtp_busy(s) || s->state == SMTP_STATE_CLOSING)
		return;		/* replies after its commit, then closes */
	smtp_reply(s, 421, "4.3.2", "%s Service shutting down, try again "
	    "later", server_config(s->srv)->hostname);
	smtp_close(s);
}

void
smtp_session_start(struct server *srv, int fd, enum listener_kind kind,
    const struct sockaddr *peer, socklen_t peerlen)
{
	const struct config *cfg = server_config(srv);
	struct smtp_session *s = xcalloc(1, sizeof(*s));
	struct timeval tv;

	s->srv = srv;
	s->kind = kind;
	util_random_id(s->id);
	memcpy(&s->peer, peer, MIN((size_t)peerlen, sizeof(s->peer)));
	cidr_sockaddr_text(peer, s->client.ip, sizeof(s->client.ip),
	    &s->port);
	s->client.stop = smtp_stop;
	smtp_tx_reset(s);
	server_client_add(srv, &s->client);
	s->conn = conn_new(server_base(srv), fd, smtp_on_conn, s);
	conn_set_timeout(s->conn, (unsigned)cfg->command_timeout);
	log_sess(LOG_LEVEL_INFO, s->id, "event=connect ip=%s port=%u "
	    "listener=%s", s->client.ip, s->port, listener_name(kind));
	/* RFC 8314 3: implicit TLS from the first byte; greeting after. */
	if (kind == LISTEN_SUBMISSIONS && conn_start_tls(s->conn,
	    server_tls_ctx(srv)) == -1) {
		log_sess(LOG_LEVEL_ERR, s->id, "event=tls-error ip=%s "
		    "error=\"cannot start TLS\"", s->client.ip);
		smtp_session_free(s);
		return;
	}
	/* Early talkers are bots: they get refused (smtp_process_input). */
	s->state = SMTP_STATE_GREETING;
	if (cfg->greeting_delay_ms > 0 && kind == LISTEN_SMTP) {
		s->greet_delayed = true;
		tv.tv_sec = (time_t)(cfg->greeting_delay_ms / 1000);
		tv.tv_usec = (suseconds_t)(cfg->greeting_delay_ms % 1000) *
		    1000;
		s->greet_timer = evtimer_new(server_base(srv),
		    smtp_on_greet_timer, s);
		evtimer_add(s->greet_timer, &tv);
	}
	smtp_dnsbl_start(s);
	smtp_greet_ready(s);
}

static void
smtp_on_conn(void *arg, enum conn_event ev)
{
	struct smtp_session *s = arg;
	const struct config *cfg = server_config(s->srv);

	switch (ev) {
	case CONN_EV_READ:
		smtp_process_input(s);
		break;
	case CONN_EV_TIMEOUT:
		log_sess(LOG_LEVEL_INFO, s->id, "event=timeout ip=%s",
		    s->client.ip);
		/*
		 * Input is paused while busy: this is the write timeout of a
		 * client that does not read its replies. Nobody to reply to:
		 * free when the check or commit is done.
		 */
		if (smtp_busy(s)) {
			s->peer_gone = true;
			break;
		}
		smtp_reply(s, 421, "4.4.2", "%s Error: timeout exceeded",
		    cfg->hostname);
		smtp_close(s);
		break;
	case CONN_EV_EOF:
		if (smtp_busy(s)) {
			/* Reply after the commit, then read what is left. */
			s->peer_eof = true;
			break;
		}
		smtp_session_free(s);
		break;
	case CONN_EV_ERROR:
		if (!conn_is_tls(s->conn) && conn_tls_version(s->conn))
			log_sess(LOG_LEVEL_INFO, s->id, "event=tls-failed ip=%s",
			    s->client.ip);
		if (smtp_busy(s)) {
			/* Nobody to reply to: free when the commit is done. */
			s->peer_gone = true;
			break;
		}
		smtp_session_free(s);
		break;
	case CONN_EV_CLOSED:
		/*
		 * After conn_shutdown() every event comes as CLOSED, a write
		 * error too: none will follow, so a busy session must be
		 * freed by its completion.
		 */
		if (smtp_busy(s))
			s->peer_gone = true;
		else
			smtp_session_free(s);
		break;
	case CONN_EV_CONNECTED:
	case CONN_EV_DRAINED:
		break;		/* client-side events, not ours */
	case CONN_EV_TLS_READY:
		log_sess(LOG_LEVEL_INFO, s->id, "event=tls ip=%s version=%s "
		    "cipher=%s", s->client.ip, conn_tls_version(s->conn),
		    conn_tls_cipher(s->conn));
		break;
	}
}

static const char *
smtp_parse_strerror(enum smtp_parse_err err)
{
	switch (err) {
	case SMTP_PARSE_ERR_BARE_LF:
		return "bare <LF> received; end lines with <CR><LF>";
	case SMTP_PARSE_ERR_BARE_CR:
		return "bare <CR> received; end lines with <CR><LF>";
	case SMTP_PARSE_ERR_NUL:
		return "NUL octet in command";
	default:
		return "syntax error, command unrecognized";
	}
}

/*
 * RFC 2920 3.1: a client may only pipeline once it has seen PIPELINING,
 * and never past a command that must end a group. A client sending the
 * message before our 354, or talking before our EHLO reply, is a bot.
 */
static bool
smtp_sync_error(struct smtp_session *s, unsigned flags)
{
	if (!smtp_input_pending(s))
		return false;
	if (s->esmtp && !(flags & CMD_LAST_IN_GROUP))
		return false;
	return true;
}

static void
smtp_handle_line(struct smtp_session *s, struct str line)
{
	const struct smtp_cmd_def *def;
	enum smtp_parse_err err;
	struct smtp_cmd cmd;

	err = smtp_parse_line(line.p, line.len, &cmd);
	if (err != SMTP_PARSE_OK) {
		smtp_refuse(s, "bad-command", 500, "5.5.2", "Error: %s",
		    smtp_parse_strerror(err));
		return;
	}
	if (line.len > SMTP_CMD_LINE_MAX && cmd.verb != SMTP_VERB_AUTH) {
		/* RFC 5321 4.5.3.1.4; only AUTH may be longer (RFC 4954 4). */
		smtp_refuse(s, "line-too-long", 500, "5.5.2",
		    "Error: line too long (512 octets at most)");
		return;
	}
	def = &smtp_cmds[cmd.verb];
	if (def->fn == NULL) {
		smtp_refuse(s, "unknown-command", 500, "5.5.1",
		    "Error: command not recognized");
		return;
	}
	if (cmd.verb != SMTP_VERB_QUIT && cmd.verb != SMTP_VERB_STARTTLS &&
	    cmd.verb != SMTP_VERB_BDAT && smtp_sync_error(s, def->flags)) {
		smtp_refuse(s, "pipelining", 554, "5.5.0", "Error: SMTP "
		    "protocol synchronization (%s sent before our reply)",
		    cmd.verb == SMTP_VERB_DATA ? "message" : "command");
		conn_discard_input(s->conn);
		smtp_close(s);
		return;
	}
	def->fn(s, cmd.args);
}

/*
 * RFC 5321 4.5.3.1.4: 512 octets for a command line; RFC 4954 4 lets
 * AUTH lines and SASL responses be longer. Known before the line ends, so
 * a long line is refused as soon as it passes the limit.
 */
static size_t
smtp_line_max(struct smtp_session *s)
{
	char head[5];

	if (s->auth_step != SMTP_AUTH_NONE)
		return SMTP_AUTH_LINE_MAX;
	if (conn_copyout(s->conn, head, sizeof(head)) == sizeof(head) &&
	    str_caseeq(str_make(head, sizeof(head)), STR_LIT("AUTH ")))
		return SMTP_AUTH_LINE_MAX;
	return SMTP_CMD_LINE_MAX;
}

void
smtp_process_input(struct smtp_session *s)
{
	struct str line;
	bool secret;
	int r;

	if (s->state == SMTP_STATE_GREETING) {
		smtp_refuse(s, "early-talker", 554, "5.5.0", "Error: you "
		    "talked before the greeting");
		conn_discard_input(s->conn);
		smtp_close(s);
		return;
	}
	while (s->state != SMTP_STATE_CLOSING && !conn_paused(s->conn) &&
	    !conn_write_blocked(s->conn)) {
		if (s->input == SMTP_INPUT_DATA) {
			if (conn_input_len(s->conn) == 0)
				return;
			smtp_data_input(s);
			continue;
		}
		if (s->input == SMTP_INPUT_BDAT) {
			if (conn_input_len(s->conn) == 0 && s->tx.bdat_left)
				return;
			smtp_bdat_input(s);
			continue;
		}
		r = conn_read_line(s->conn, smtp_line_max(s), &line);
		if (r == 0) {
			if (s->peer_eof)
				smtp_close(s);
			return;
		}
		if (r == -1 && s->auth_step != SMTP_AUTH_NONE) {
			/* RFC 4954 4: and the exchange is over. */
			smtp_auth_cleanup(s);
			smtp_refuse(s, "line-too-long", 500, "5.5.6",
			    "Authentication Exchange line is too long");
			continue;
		}
		if (r == -1) {
			/* RFC 5321 4.5.3.1.4 */
			smtp_refuse(s, "line-too-long", 500, "5.5.2",
			    "Error: line too long (512 octets at most)");
			continue;
		}
		/* AUTH lines carry secrets: wiped once handled. */
		secret = s->auth_step != SMTP_AUTH_NONE ||
		    str_has_prefix_case(line, "AUTH");
		if (s->auth_step != SMTP_AUTH_NONE)
			smtp_auth_response(s, line);
		else
			smtp_handle_line(s, line);
		if (secret)
			conn_wipe_line(s->conn);
	}
}
