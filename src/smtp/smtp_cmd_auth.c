/*
 * smtp_cmd_auth.c - AUTH (RFC 4954) with SASL PLAIN (RFC 4616) and LOGIN.
 *
 * Offered and accepted only under TLS (RFC 4954 4 and 14: 538 otherwise),
 * except from a loopback client when [auth] plaintext_localhost = yes; on
 * the submission listeners always, on the smtp (MX) listener only with
 * [auth] mx = yes, since bots guess passwords there.
 *
 * The password check (auth_check.h) runs off the loop while the
 * session's input is paused, so other sessions never wait; an unknown
 * user and a wrong password look the same, in time and in reply.
 *
 * SCRAM-SHA-256 (RFC 7677) is not offered: it needs a second, SCRAM-only
 * credential per user (salted StoredKey/ServerKey) that yescrypt hashes
 * cannot provide, and under mandatory TLS it protects little more than
 * PLAIN does. See docs/security.md.
 */
#include "core/common.h"

#include "auth/auth_check.h"
#include "auth/auth_sasl.h"
#include "core/cidr.h"
#include "core/log.h"
#include "net/conn.h"
#include "smtp/smtp_int.h"

/* AUTH exists on this listener at all. */
bool
smtp_auth_allowed_here(struct smtp_session *s)
{
	return s->kind == LISTEN_SUBMISSION || s->kind == LISTEN_SUBMISSIONS ||
	    (s->kind == LISTEN_SMTP && server_config(s->srv)->auth_on_mx);
}

/* AUTH is advertised now: allowed here and the channel is fit for it. */
bool
smtp_auth_offered(struct smtp_session *s)
{
	if (!smtp_auth_allowed_here(s) || s->auth_user[0])
		return false;
	return conn_is_tls(s->conn) ||
	    (server_config(s->srv)->auth_plaintext_localhost &&
	    cidr_sockaddr_is_loopback((const struct sockaddr *)&s->peer));
}

void
smtp_auth_cleanup(struct smtp_session *s)
{
	if (s->creds) {
		auth_creds_clear(s->creds);
		XFREE(&s->creds);
	}
	if (s->auth_check) {
		auth_check_cancel(s->auth_check);
		s->auth_check = NULL;
	}
	s->auth_step = SMTP_AUTH_NONE;
}

static void
smtp_auth_done(void *arg, bool ok, const char *user, bool banned)
{
	struct smtp_session *s = arg;

	s->auth_check = NULL;
	s->auth_step = SMTP_AUTH_NONE;
	if (ok) {
		cstr_copy(s->auth_user, sizeof(s->auth_user), user);
		smtp_reply(s, 235, "2.7.0", "Authentication successful");
	} else {
		s->auth_failures++;
		smtp_reply(s, 535, "5.7.8", "Authentication credentials "
		    "invalid");
		if (banned) {
			/* auth/ban.h: this client may not try any more. */
			smtp_reply(s, 421, "4.7.0", "%s Your address is "
			    "temporarily blocked", server_config(s->srv)->
			    hostname);
			smtp_close(s);
			return;
		}
		smtp_error(s);
	}
	conn_resume(s->conn);
}

/* Hands the credentials (then wiped) to the checker; input waits. */
static void
smtp_auth_verify(struct smtp_session *s)
{
	s->auth_step = SMTP_AUTH_VERIFYING;
	conn_pause(s->conn);
	s->auth_check = auth_check_start(s->srv, s->id, s->client.ip,
	    listener_name(s->kind), s->creds, smtp_auth_done, s);
	XFREE(&s->creds);		/* wiped by auth_check_start() */
}

/* Decodes one base64 SASL response into out; replies on failure. */
static bool
smtp_auth_decode(struct smtp_session *s, struct str b64, struct buf *out)
{
	if (b64.len == 1 && b64.p[0] == '*') {
		/* RFC 4954 4: the client cancels; we answer 501. */
		smtp_auth_cleanup(s);
		smtp_refuse(s, "auth-cancelled", 501, "5.0.0",
		    "Authentication cancelled");
		return false;
	}
	if (auth_b64_decode(b64, out) == -1) {
		smtp_auth_cleanup(s);
		smtp_refuse(s, "auth-syntax", 501, "5.5.2",
		    "Cannot decode the response (base64)");
		return false;
	}
	return true;
}

/* One step of the exchange with a decoded response. */
static void
smtp_auth_step(struct smtp_session *s, const char *p, size_t len)
{
	int r = -1;

	if (s->auth_step == SMTP_AUTH_PLAIN) {
		r = auth_plain_parse(p, len, s->creds);
	} else if (s->auth_step == SMTP_AUTH_LOGIN_USER) {
		if (auth_login_user(p, len, s->creds) == 0) {
			s->auth_step = SMTP_AUTH_LOGIN_PASS;
			smtp_reply(s, 334, NULL, "UGFzc3dvcmQ6"); /* Password: */
			return;
		}
	} else if (s->auth_step == SMTP_AUTH_LOGIN_PASS) {
		r = auth_login_password(p, len, s->creds);
	}
	if (r == -1) {
		smtp_auth_cleanup(s);
		smtp_refuse(s, "auth-syntax", 501, "5.5.2",
		    "Malformed authentication response");
		return;
	}
	smtp_auth_verify(s);
}

/* A base64 response (initial or on its own line): decode, then step. */
static void
smtp_auth_feed(struct smtp_session *s, struct str b64)
{
	struct buf decoded;

	buf_init(&decoded, AUTH_PASSWORD_MAX * 2 + SMTP_ADDR_TEXT_MAX * 2);
	if (smtp_auth_decode(s, b64, &decoded))
		smtp_auth_step(s, buf_data(&decoded), buf_len(&decoded));
	buf_release_secret(&decoded);
}

void
smtp_auth_response(struct smtp_session *s, struct str line)
{
	/* The response line, without its CRLF (checked like a command). */
	if (line.len < 2 || line.p[line.len - 2] != '\r' ||
	    memchr(line.p, '\0', line.len) != NULL) {
		smtp_auth_cleanup(s);
		smtp_refuse(s, "auth-syntax", 501, "5.5.2",
		    "Malformed authentication response");
		return;
	}
	smtp_auth_feed(s, str_make(line.p, line.len - 2));
}

static bool
smtp_check_auth(struct smtp_session *s)
{
	if (!smtp_auth_allowed_here(s)) {
		smtp_refuse(s, "auth-unavailable", 502, "5.5.1",
		    "Error: authentication not available here");
		return false;
	}
	if (!s->esmtp) {
		smtp_refuse(s, "bad-sequence", 503, "5.5.1",
		    "Error: send EHLO first");
		return false;
	}
	if (s->auth_user[0]) {
		smtp_refuse(s, "bad-sequence", 503, "5.5.1",
		    "Error: already authenticated");
		return false;
	}
	if (s->state >= SMTP_STATE_MAIL) {
		/* RFC 4954 4: not during a mail transaction. */
		smtp_refuse(s, "bad-sequence", 503, "5.5.1",
		    "Error: AUTH not allowed in a mail transaction");
		return false;
	}
	if (!smtp_auth_offered(s)) {
		smtp_refuse(s, "auth-needs-tls", 538, "5.7.11", "Encryption "
		    "required for requested authentication mechanism");
		return false;
	}
	return true;
}

void
smtp_cmd_auth(struct smtp_session *s, struct str args)
{
	struct str mech, initial = STR_NULL;

	if (!smtp_check_auth(s))
		return;
	if (!str_take_word(&args, &mech, 20)) {
		smtp_refuse(s, "bad-syntax", 501, "5.5.4",
		    "Syntax: AUTH mechanism [initial-response]");
		return;
	}
	str_skip_ws(&args);
	if (args.len)
		initial = args;
	if (str_caseeq_cstr(mech, "PLAIN"))
		s->auth_step = SMTP_AUTH_PLAIN;
	else if (str_caseeq_cstr(mech, "LOGIN"))
		s->auth_step = SMTP_AUTH_LOGIN_USER;
	else {
		smtp_refuse(s, "bad-mechanism", 504, "5.5.4",
		    "Unrecognized authentication type");
		return;
	}
	s->creds = xcalloc(1, sizeof(*s->creds));
	if (initial.p == NULL) {
		smtp_reply(s, 334, NULL, "%s", s->auth_step == SMTP_AUTH_PLAIN ?
		    "" : "VXNlcm5hbWU6");	/* Username: */
		return;
	}
	smtp_auth_feed(s, initial);
}
