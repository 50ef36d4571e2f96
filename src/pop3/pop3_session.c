/*
 * pop3_session.c - the POP3 server session core (RFC 1939).
 *
 * A session is driven by its connection's events. Input is processed in a
 * loop until it runs out or the session pauses (a password check, the
 * maildrop's disk work, a multi-line response being streamed) or closes:
 * lines go through pop3_parse_line() to the command table, or to the SASL
 * exchange while one is under way. Every refusal counts towards
 * [limits] max_errors. The idle timeout is [limits] pop3_timeout: RFC
 * 1939 3 wants at least 10 minutes, and a session that times out never
 * enters the UPDATE state, so it deletes nothing.
 */
#include "core/common.h"

#include "core/cidr.h"
#include "core/log.h"
#include "net/conn.h"
#include "pop3/pop3_int.h"

#define ST(state) (1u << (state))
#define IN_AUTH ST(POP3_STATE_AUTH)
#define IN_TRANS ST(POP3_STATE_TRANS)

struct pop3_cmd_def {
	void		(*fn)(struct pop3_session *, struct str);
	unsigned	 states;	/* where the command is valid */
};

/* RFC 1939 4-7, RFC 2449 5, RFC 2595 4, RFC 5034 4. */
static const struct pop3_cmd_def pop3_cmds[POP3_VERB_COUNT] = {
	[POP3_VERB_USER] = { pop3_cmd_user, IN_AUTH },
	[POP3_VERB_PASS] = { pop3_cmd_pass, IN_AUTH },
	[POP3_VERB_AUTH] = { pop3_cmd_auth, IN_AUTH },
	[POP3_VERB_STLS] = { pop3_cmd_stls, IN_AUTH },
	[POP3_VERB_CAPA] = { pop3_cmd_capa, IN_AUTH | IN_TRANS },
	[POP3_VERB_QUIT] = { pop3_cmd_quit, IN_AUTH | IN_TRANS },
	[POP3_VERB_STAT] = { pop3_cmd_stat, IN_TRANS },
	[POP3_VERB_LIST] = { pop3_cmd_list, IN_TRANS },
	[POP3_VERB_UIDL] = { pop3_cmd_uidl, IN_TRANS },
	[POP3_VERB_RETR] = { pop3_cmd_retr, IN_TRANS },
	[POP3_VERB_TOP] = { pop3_cmd_top, IN_TRANS },
	[POP3_VERB_DELE] = { pop3_cmd_dele, IN_TRANS },
	[POP3_VERB_NOOP] = { pop3_cmd_noop, IN_TRANS },
	[POP3_VERB_RSET] = { pop3_cmd_rset, IN_TRANS },
};

static void pop3_on_conn(void *arg, enum conn_event ev);

void
pop3_session_free(struct pop3_session *s)
{
	pop3_stream_abort(s);
	pop3_auth_cleanup(s);
	pop3_job_forget(s);
	pop3_maildrop_free(&s->md);	/* unlocks; deletes nothing */
	conn_free(&s->conn);
	server_client_remove(s->srv, &s->client);
	log_sess(LOG_LEVEL_INFO, s->id, "event=disconnect ip=%s user=%s "
	    "retrieved=%u errors=%u", s->client.ip,
	    s->user[0] ? log_qs(s->user) : "-", s->retrieved, s->errors);
	free(s);
}

void
pop3_close(struct pop3_session *s)
{
	if (s->state == POP3_STATE_CLOSING)
		return;
	s->state = POP3_STATE_CLOSING;
	conn_shutdown(s->conn);
}

/* Counts a refused command; too many and the client is shown the door. */
void
pop3_error(struct pop3_session *s)
{
	if (++s->errors < server_config(s->srv)->max_errors ||
	    s->state == POP3_STATE_CLOSING)
		return;
	log_sess(LOG_LEVEL_INFO, s->id, "event=too-many-errors ip=%s errors=%u",
	    s->client.ip, s->errors);
	pop3_auth_cleanup(s);
	pop3_err(s, NULL, "Too many errors, closing the connection");
	pop3_close(s);
}

/* Work in flight or input left: an EOF must wait for them. */
static bool
pop3_busy(struct pop3_session *s)
{
	return s->job != NULL || s->auth_check != NULL ||
	    s->stream.kind != POP3_STREAM_NONE || conn_input_len(s->conn) > 0;
}

/*
 * The server stops: say so and close, unless the maildrop's disk work is
 * in flight (its end closes the session). A response half sent is cut at
 * once: without its final ".", the client knows it is incomplete, and a
 * client that reads slowly does not hold the stop up.
 */
static void
pop3_stop(struct server_client *cl)
{
	struct pop3_session *s = (struct pop3_session *)cl;

	if (s->job != NULL) {
		s->stopping = true;
		return;
	}
	if (s->stream.kind != POP3_STREAM_NONE) {
		pop3_session_free(s);
		return;
	}
	if (s->state == POP3_STATE_CLOSING)
		return;
	pop3_auth_cleanup(s);
	pop3_err(s, "SYS/TEMP", "Server shutting down, try again later");
	pop3_close(s);
}

void
pop3_session_start(struct server *srv, int fd, enum listener_kind kind,
    const struct sockaddr *peer, socklen_t peerlen)
{
	const struct config *cfg = server_config(srv);
	struct pop3_session *s = xcalloc(1, sizeof(*s));

	s->srv = srv;
	s->kind = kind;
	s->stream.fd = -1;
	util_random_id(s->id);
	memcpy(&s->peer, peer, MIN((size_t)peerlen, sizeof(s->peer)));
	cidr_sockaddr_text(peer, s->client.ip, sizeof(s->client.ip),
	    &s->port);
	s->client.stop = pop3_stop;
	server_client_add(srv, &s->client);
	s->conn = conn_new(server_base(srv), fd, pop3_on_conn, s);
	conn_set_timeout(s->conn, (unsigned)cfg->pop3_timeout);
	log_sess(LOG_LEVEL_INFO, s->id, "event=connect ip=%s port=%u "
	    "listener=%s", s->client.ip, s->port, listener_name(kind));
	/* RFC 8314 3: implicit TLS from the first byte; greeting after. */
	if (kind == LISTEN_POP3S && conn_start_tls(s->conn,
	    server_tls_ctx(srv)) == -1) {
		log_sess(LOG_LEVEL_ERR, s->id, "event=tls-error ip=%s "
		    "error=\"cannot start TLS\"", s->client.ip);
		pop3_session_free(s);
		return;
	}
	/* RFC 1939 4; no APOP timestamp, as APOP is not offered. */
	pop3_ok(s, "%s POP3 facteur ready", cfg->hostname);
}

static void
pop3_on_eof(struct pop3_session *s)
{
	if (pop3_busy(s)) {
		/* Answer what was sent (a QUIT, maybe), then close. */
		s->peer_eof = true;
		return;
	}
	pop3_session_free(s);
}

static void
pop3_on_conn(void *arg, enum conn_event ev)
{
	struct pop3_session *s = arg;

	switch (ev) {
	case CONN_EV_READ:
		pop3_process_input(s);
		break;
	case CONN_EV_DRAINED:
		pop3_stream_pump(s);
		break;
	case CONN_EV_TIMEOUT:
		log_sess(LOG_LEVEL_INFO, s->id, "event=timeout ip=%s",
		    s->client.ip);
		if (s->stream.kind == POP3_STREAM_NONE)
			pop3_err(s, NULL, "Disconnected for inactivity");
		pop3_stream_abort(s);
		pop3_close(s);
		break;
	case CONN_EV_EOF:
		pop3_on_eof(s);
		break;
	case CONN_EV_ERROR:
		if (!conn_is_tls(s->conn) && conn_tls_version(s->conn))
			log_sess(LOG_LEVEL_INFO, s->id, "event=tls-failed ip=%s",
			    s->client.ip);
		pop3_session_free(s);
		break;
	case CONN_EV_CLOSED:
		pop3_session_free(s);
		break;
	case CONN_EV_TLS_READY:
		log_sess(LOG_LEVEL_INFO, s->id, "event=tls ip=%s version=%s "
		    "cipher=%s", s->client.ip, conn_tls_version(s->conn),
		    conn_tls_cipher(s->conn));
		break;
	case CONN_EV_CONNECTED:
		break;		/* a client-side event, not ours */
	}
}

static const char *
pop3_parse_strerror(enum pop3_parse_err err)
{
	switch (err) {
	case POP3_PARSE_ERR_BARE_LF:
		return "Bare <LF> received; end lines with <CR><LF>";
	case POP3_PARSE_ERR_BARE_CR:
		return "Bare <CR> received; end lines with <CR><LF>";
	case POP3_PARSE_ERR_NUL:
		return "NUL octet in command";
	default:
		return "Syntax error, command unrecognized";
	}
}

static void
pop3_handle_line(struct pop3_session *s, struct str line)
{
	const struct pop3_cmd_def *def;
	enum pop3_parse_err err;
	struct pop3_cmd cmd;

	err = pop3_parse_line(line.p, line.len, &cmd);
	if (err != POP3_PARSE_OK) {
		pop3_refuse(s, "bad-command", NULL, "%s",
		    pop3_parse_strerror(err));
		return;
	}
	if (line.len > POP3_CMD_LINE_MAX && cmd.verb != POP3_VERB_AUTH &&
	    cmd.verb != POP3_VERB_PASS) {
		/* RFC 2449 4; credentials may be longer (limits.h). */
		pop3_refuse(s, "line-too-long", NULL, "Line too long");
		return;
	}
	/* RFC 1939 7: PASS only right after USER. */
	if (cmd.verb != POP3_VERB_PASS)
		pop3_auth_cleanup(s);
	def = &pop3_cmds[cmd.verb];
	if (def->fn == NULL) {
		pop3_refuse(s, "unknown-command", NULL, "Unknown command");
		return;
	}
	if (!(def->states & ST(s->state))) {
		pop3_refuse(s, "bad-sequence", NULL, "Command not valid in "
		    "this state");
		return;
	}
	def->fn(s, cmd.args);
}

/*
 * RFC 2449 4: 255 octets for a command line; lines carrying credentials
 * may be longer (limits.h). Known before the line ends, so a long line is
 * refused as soon as it passes the limit.
 */
static size_t
pop3_line_max(struct pop3_session *s)
{
	char head[5];

	if (s->login == POP3_LOGIN_SASL)
		return POP3_AUTH_LINE_MAX;
	if (conn_copyout(s->conn, head, sizeof(head)) == sizeof(head) &&
	    (str_caseeq(str_make(head, sizeof(head)), STR_LIT("AUTH ")) ||
	    str_caseeq(str_make(head, sizeof(head)), STR_LIT("PASS "))))
		return POP3_AUTH_LINE_MAX;
	return POP3_CMD_LINE_MAX;
}

/* The line held a password or a SASL response: wiped once handled. */
static bool
pop3_line_secret(struct pop3_session *s, struct str line)
{
	return s->login == POP3_LOGIN_SASL || str_has_prefix_case(line,
	    "PASS") || str_has_prefix_case(line, "AUTH");
}

void
pop3_process_input(struct pop3_session *s)
{
	struct str line;
	bool secret;
	int r;

	while (s->state != POP3_STATE_CLOSING && !conn_paused(s->conn) &&
	    !conn_write_blocked(s->conn)) {
		r = conn_read_line(s->conn, pop3_line_max(s), &line);
		if (r == 0) {
			if (s->peer_eof)
				pop3_close(s);
			return;
		}
		if (r == -1) {
			pop3_auth_cleanup(s);
			pop3_refuse(s, "line-too-long", NULL, "Line too long");
			continue;
		}
		secret = pop3_line_secret(s, line);
		if (s->login == POP3_LOGIN_SASL)
			pop3_sasl_response(s, line);
		else
			pop3_handle_line(s, line);
		if (secret)
			conn_wipe_line(s->conn);
	}
}
