/*
 * smtp_cmd_starttls.c - STARTTLS (RFC 3207).
 *
 * After our 220, every byte the client sent before the handshake is
 * thrown away (RFC 3207 4: at this point there must not be any pending
 * plaintext), so a man in the middle cannot inject commands that would run
 * inside the encrypted session (the CVE-2011-0411 class). The session
 * then forgets everything it learnt in plain text (RFC 3207 4.2): HELO
 * name, transaction, authentication.
 */
#include "core/common.h"

#include "core/log.h"
#include "net/conn.h"
#include "smtp/smtp_int.h"

void
smtp_cmd_starttls(struct smtp_session *s, struct str args)
{
	size_t pending;

	if (args.len) {
		smtp_refuse(s, "bad-syntax", 501, "5.5.4", "Syntax: STARTTLS");
		return;
	}
	if (conn_is_tls(s->conn)) {
		smtp_refuse(s, "bad-sequence", 503, "5.5.1",
		    "Error: TLS already active");
		return;
	}
	if (server_tls_ctx(s->srv) == NULL || s->kind == LISTEN_SUBMISSIONS) {
		smtp_refuse(s, "no-tls", 502, "5.5.1", "Error: TLS not "
		    "available");
		return;
	}
	if (!s->esmtp) {
		smtp_refuse(s, "bad-sequence", 503, "5.5.1",
		    "Error: send EHLO first");
		return;
	}
	smtp_reply(s, 220, "2.0.0", "Ready to start TLS");
	pending = conn_input_len(s->conn);
	if (pending) {
		log_sess(LOG_LEVEL_WARN, s->id, "event=starttls-injection "
		    "ip=%s discarded=%zu", s->client.ip, pending);
		conn_discard_input(s->conn);
	}
	if (conn_start_tls(s->conn, server_tls_ctx(s->srv)) == -1) {
		log_sess(LOG_LEVEL_ERR, s->id, "event=tls-error ip=%s "
		    "error=\"cannot start TLS\"", s->client.ip);
		smtp_close(s);
		return;
	}
	smtp_tx_reset(s);
	smtp_auth_cleanup(s);
	s->auth_user[0] = '\0';
	s->helo[0] = '\0';
	s->esmtp = false;
	s->state = SMTP_STATE_CONNECTED;
}
