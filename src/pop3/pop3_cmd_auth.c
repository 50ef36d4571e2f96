/*
 * pop3_cmd_auth.c - logging in: USER and PASS (RFC 1939 7), AUTH with
 * SASL PLAIN (RFC 5034, RFC 4616), then locking and listing the maildrop.
 *
 * Credentials are accepted only under TLS (STLS or the pop3s listener),
 * or from a loopback client when [auth] plaintext_localhost = yes: the
 * rule SMTP AUTH follows. Elsewhere USER, PASS and AUTH get "-ERR [AUTH]"
 * (RFC 3206 5: a policy refusal), and CAPA does not list USER or SASL.
 *
 * Passwords are checked by auth_check.h, the same code and the same
 * brute-force accounting as SMTP AUTH: a worker thread, the dummy hash
 * for unknown users, [auth] failure_delay before a failure is told, one
 * event=auth-ok/auth-fail line with ip= and service=pop3; each failure
 * also counts towards max_errors. Then the maildrop is locked and listed
 * off the loop (pop3_job.c) before "+OK": a mailbox another session holds
 * gets "-ERR [IN-USE]" (RFC 2449 8.1.2) and the session stays in the
 * AUTHORIZATION state.
 *
 * APOP is not offered: it needs the password in clear on the server.
 */
#include "core/common.h"

#include <errno.h>

#include "auth/auth_check.h"
#include "auth/auth_sasl.h"
#include "core/cidr.h"
#include "core/log.h"
#include "net/conn.h"
#include "pop3/pop3_int.h"

bool
pop3_creds_allowed(struct pop3_session *s)
{
	return conn_is_tls(s->conn) ||
	    (server_config(s->srv)->auth_plaintext_localhost &&
	    cidr_sockaddr_is_loopback((const struct sockaddr *)&s->peer));
}

void
pop3_auth_cleanup(struct pop3_session *s)
{
	if (s->creds) {
		auth_creds_clear(s->creds);
		XFREE(&s->creds);
	}
	if (s->auth_check) {
		auth_check_cancel(s->auth_check);
		s->auth_check = NULL;
	}
	if (s->login != POP3_LOGIN_OPENING)
		s->login = POP3_LOGIN_NONE;
}

/* RFC 2595 2.2, RFC 3206 5: no credentials over an open channel. */
static bool
pop3_check_creds(struct pop3_session *s)
{
	if (pop3_creds_allowed(s))
		return true;
	pop3_auth_cleanup(s);
	pop3_refuse(s, "auth-needs-tls", "AUTH", "Credentials are accepted "
	    "only over TLS (STLS, or port 995)");
	return false;
}

static void
pop3_auth_done(void *arg, bool ok, const char *user, bool banned)
{
	struct pop3_session *s = arg;

	s->auth_check = NULL;
	if (s->state == POP3_STATE_CLOSING)
		return;
	if (!ok) {
		s->login = POP3_LOGIN_NONE;
		s->auth_failures++;
		/* RFC 3206 5 with AUTH-RESP-CODE: a credentials problem. */
		pop3_err(s, "AUTH", "Authentication failed");
		if (banned) {
			/* auth/ban.h: this client may not try any more. */
			pop3_close(s);
			return;
		}
		pop3_error(s);
		conn_resume(s->conn);
		return;
	}
	cstr_copy(s->user, sizeof(s->user), user);
	s->login = POP3_LOGIN_OPENING;
	pop3_job_open(s);
}

/* Hands the credentials (then wiped) to the checker; input waits. */
static void
pop3_auth_verify(struct pop3_session *s)
{
	s->login = POP3_LOGIN_CHECKING;
	conn_pause(s->conn);
	s->auth_check = auth_check_start(s->srv, s->id, s->client.ip, "pop3",
	    s->creds, pop3_auth_done, s);
	XFREE(&s->creds);		/* wiped by auth_check_start() */
}

static void
pop3_login_refused(struct pop3_session *s, enum pop3_md_status st, int err)
{
	if (st == POP3_MD_IN_USE) {
		log_sess(LOG_LEVEL_INFO, s->id, "event=maildrop-in-use ip=%s "
		    "user=%s", s->client.ip, log_qs(s->user));
		/* RFC 2449 8.1.2 */
		pop3_err(s, "IN-USE", "Mailbox locked by another POP3 session");
	} else {
		log_sess(LOG_LEVEL_ERR, s->id, "event=maildrop-error ip=%s "
		    "user=%s error=%s", s->client.ip, log_qs(s->user),
		    log_qs(strerror(err)));
		pop3_err(s, "SYS/TEMP", "Cannot open the mailbox, try again "
		    "later");
	}
	s->user[0] = '\0';
	pop3_error(s);
	conn_resume(s->conn);
}

void
pop3_login_done(struct pop3_session *s, enum pop3_md_status st,
    struct pop3_maildrop *md, int err)
{
	size_t count;
	uint64_t octets;

	s->login = POP3_LOGIN_NONE;
	if (s->stopping) {
		pop3_maildrop_free(&md);
		pop3_err(s, "SYS/TEMP", "Server shutting down, try again "
		    "later");
		pop3_close(s);
		return;
	}
	if (st != POP3_MD_OK) {
		pop3_login_refused(s, st, err);
		return;
	}
	s->md = md;
	s->state = POP3_STATE_TRANS;
	pop3_maildrop_stat(md, &count, &octets);
	log_sess(LOG_LEVEL_INFO, s->id, "event=login ip=%s user=%s "
	    "messages=%zu octets=%llu tls=%s", s->client.ip, log_qs(s->user),
	    count, (unsigned long long)octets, conn_is_tls(s->conn) ? "yes" :
	    "no");
	pop3_ok(s, "Logged in, %zu messages (%llu octets)", count,
	    (unsigned long long)octets);
	conn_resume(s->conn);
}

void
pop3_cmd_user(struct pop3_session *s, struct str args)
{
	if (!pop3_check_creds(s))
		return;
	s->creds = xcalloc(1, sizeof(*s->creds));
	args = str_trim(args);
	if (auth_login_user(args.p, args.len, s->creds) == -1) {
		pop3_auth_cleanup(s);
		pop3_refuse(s, "bad-syntax", NULL, "Syntax: USER name");
		return;
	}
	/* RFC 1939 7 allows "-ERR" for an unknown name: that would tell. */
	pop3_ok(s, "Send your password");
}

void
pop3_cmd_pass(struct pop3_session *s, struct str args)
{
	if (!pop3_check_creds(s))
		return;
	if (s->creds == NULL) {
		pop3_refuse(s, "bad-sequence", NULL, "Send USER first");
		return;
	}
	/* RFC 1939 7: spaces belong to the password, which is one argument. */
	if (auth_login_password(args.p, args.len, s->creds) == -1) {
		pop3_auth_cleanup(s);
		pop3_refuse(s, "bad-syntax", NULL, "Syntax: PASS password");
		return;
	}
	pop3_auth_verify(s);
}

/* One base64 PLAIN response, initial or on its own line (RFC 5034 4). */
static void
pop3_sasl_feed(struct pop3_session *s, struct str b64)
{
	struct buf decoded;
	int r;

	if (b64.len == 1 && b64.p[0] == '*') {
		/* RFC 5034 4: the client cancels; the server says -ERR. */
		pop3_auth_cleanup(s);
		pop3_refuse(s, "auth-cancelled", NULL, "Authentication "
		    "cancelled");
		return;
	}
	buf_init(&decoded, AUTH_PASSWORD_MAX * 2 + SMTP_ADDR_TEXT_MAX * 2);
	r = auth_b64_decode(b64, &decoded);
	if (r == 0)
		r = auth_plain_parse(buf_data(&decoded), buf_len(&decoded),
		    s->creds);
	buf_release_secret(&decoded);
	if (r == -1) {
		pop3_auth_cleanup(s);
		pop3_refuse(s, "auth-syntax", NULL, "Malformed authentication "
		    "response");
		return;
	}
	pop3_auth_verify(s);
}

void
pop3_sasl_response(struct pop3_session *s, struct str line)
{
	/* The response line, checked like a command, without its CRLF. */
	if (line.len < 2 || line.p[line.len - 2] != '\r' ||
	    memchr(line.p, '\0', line.len) != NULL ||
	    memchr(line.p, '\r', line.len - 2) != NULL) {
		pop3_auth_cleanup(s);
		pop3_refuse(s, "auth-syntax", NULL, "Malformed authentication "
		    "response");
		return;
	}
	pop3_sasl_feed(s, str_make(line.p, line.len - 2));
}

void
pop3_cmd_auth(struct pop3_session *s, struct str args)
{
	struct str argv[2];
	size_t argc;

	if (pop3_parse_args(args, argv, ARRAY_LEN(argv), &argc) == -1) {
		pop3_refuse(s, "bad-syntax", NULL, "Syntax: AUTH mechanism "
		    "[initial-response]");
		return;
	}
	if (!pop3_check_creds(s))
		return;
	if (argc == 0) {
		/* Not in RFC 5034, but clients still ask this way. */
		pop3_ok(s, "Mechanisms follow");
		pop3_raw(s, "PLAIN\r\n.\r\n");
		return;
	}
	if (!str_caseeq_cstr(argv[0], "PLAIN")) {
		pop3_refuse(s, "bad-mechanism", NULL, "Unsupported "
		    "authentication mechanism");
		return;
	}
	s->creds = xcalloc(1, sizeof(*s->creds));
	if (argc == 1) {
		/* RFC 5034 4: an empty challenge. */
		s->login = POP3_LOGIN_SASL;
		pop3_raw(s, "+ \r\n");
		return;
	}
	pop3_sasl_feed(s, argv[1]);
}
