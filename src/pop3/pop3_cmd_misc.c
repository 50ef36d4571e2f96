/*
 * pop3_cmd_misc.c - CAPA (RFC 2449 5), STLS (RFC 2595 4), NOOP, RSET and
 * QUIT with the UPDATE state (RFC 1939 5 and 6).
 */
#include "core/common.h"

#include "core/log.h"
#include "net/conn.h"
#include "pop3/pop3_int.h"

static bool
pop3_stls_offered(struct pop3_session *s)
{
	return s->state == POP3_STATE_AUTH && !conn_is_tls(s->conn) &&
	    s->kind == LISTEN_POP3 && server_tls_ctx(s->srv) != NULL;
}

/*
 * RFC 2449 6: what this session offers now. USER and SASL only where
 * credentials may be sent (pop3_cmd_auth.c), STLS only before TLS; a
 * client asks again after STLS (RFC 2595 4).
 */
void
pop3_cmd_capa(struct pop3_session *s, struct str args)
{
	bool login = s->state == POP3_STATE_AUTH && pop3_creds_allowed(s);

	(void)args;
	pop3_ok(s, "Capability list follows");
	pop3_raw(s, "TOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\n"
	    "PIPELINING\r\n");
	if (login)
		pop3_raw(s, "USER\r\nSASL PLAIN\r\n");
	if (pop3_stls_offered(s))
		pop3_raw(s, "STLS\r\n");
	pop3_raw(s, "IMPLEMENTATION facteur\r\n.\r\n");
}

/*
 * RFC 2595 4: after "+OK", every byte the client sent before the
 * handshake is thrown away, so a man in the middle cannot inject commands
 * that would run inside the encrypted session; whatever was said in plain
 * text (a USER name) is forgotten.
 */
void
pop3_cmd_stls(struct pop3_session *s, struct str args)
{
	size_t pending;

	if (args.len) {
		pop3_refuse(s, "bad-syntax", NULL, "Syntax: STLS");
		return;
	}
	if (conn_is_tls(s->conn)) {
		pop3_refuse(s, "bad-sequence", NULL, "TLS already active");
		return;
	}
	if (!pop3_stls_offered(s)) {
		pop3_refuse(s, "no-tls", NULL, "TLS not available");
		return;
	}
	pop3_ok(s, "Begin TLS negotiation");
	pending = conn_input_len(s->conn);
	if (pending) {
		log_sess(LOG_LEVEL_WARN, s->id, "event=stls-injection ip=%s "
		    "discarded=%zu", s->client.ip, pending);
		conn_discard_input(s->conn);
	}
	pop3_auth_cleanup(s);
	if (conn_start_tls(s->conn, server_tls_ctx(s->srv)) == -1) {
		log_sess(LOG_LEVEL_ERR, s->id, "event=tls-error ip=%s "
		    "error=\"cannot start TLS\"", s->client.ip);
		pop3_close(s);
	}
}

void
pop3_cmd_noop(struct pop3_session *s, struct str args)
{
	(void)args;
	pop3_ok(s, "Ok");
}

void
pop3_cmd_rset(struct pop3_session *s, struct str args)
{
	uint64_t octets;
	size_t count;

	if (str_trim(args).len) {
		pop3_refuse(s, "bad-syntax", NULL, "Syntax: RSET");
		return;
	}
	pop3_maildrop_rset(s->md);
	pop3_maildrop_stat(s->md, &count, &octets);
	pop3_ok(s, "Maildrop has %zu messages (%llu octets)", count,
	    (unsigned long long)octets);
}

/*
 * RFC 1939 4: QUIT before a login ends the session; RFC 1939 6: after
 * one it enters the UPDATE state, where the marked messages are removed
 * (off the loop, pop3_job.c) before the final response.
 */
void
pop3_cmd_quit(struct pop3_session *s, struct str args)
{
	(void)args;
	if (s->state == POP3_STATE_AUTH) {
		pop3_ok(s, "%s POP3 facteur signing off",
		    server_config(s->srv)->hostname);
		pop3_close(s);
		return;
	}
	s->state = POP3_STATE_UPDATE;
	conn_pause(s->conn);
	pop3_job_commit(s);
}

void
pop3_update_done(struct pop3_session *s, int rc,
    const struct pop3_md_commit *r)
{
	log_sess(LOG_LEVEL_INFO, s->id, "event=quit ip=%s user=%s deleted=%zu "
	    "failed=%zu left=%zu retrieved=%u", s->client.ip, log_qs(s->user),
	    r->deleted, r->failed, r->left, s->retrieved);
	if (rc == 0)
		pop3_ok(s, "%s POP3 facteur signing off (%zu messages left)",
		    server_config(s->srv)->hostname, r->left);
	else
		pop3_err(s, "SYS/TEMP", "Some deleted messages not removed");
	pop3_close(s);
}
