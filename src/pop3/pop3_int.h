/*
 * pop3_int.h - what the files of the POP3 server session share.
 *
 * pop3_session.c holds the session core: lifecycle, the input loop that
 * feeds lines to the command table, the error and timeout policy.
 * pop3_reply.c formats responses; pop3_cmd_auth.c holds USER, PASS and
 * AUTH and the login; pop3_cmd_msg.c the commands on messages (STAT LIST
 * UIDL RETR TOP DELE); pop3_cmd_misc.c CAPA, STLS, NOOP, RSET and QUIT
 * with the UPDATE state; pop3_stream.c sends multi-line responses a piece
 * at a time; pop3_job.c runs the maildrop's disk work on the workq.
 *
 * States (RFC 1939 3): AUTHORIZATION until a login succeeds and the
 * maildrop is locked, TRANSACTION, then UPDATE after QUIT. While a
 * password is checked, the maildrop opened or committed, or a multi-line
 * response streamed, input is paused: pipelined commands (RFC 2449 6.6)
 * wait in the connection's buffer and run in order afterwards.
 */
#ifndef FACTEUR_POP3_INT_H
#define FACTEUR_POP3_INT_H

#include <netinet/in.h>

#include "config/config.h"
#include "core/util.h"
#include "pop3/pop3.h"
#include "pop3/pop3_maildrop.h"
#include "pop3/pop3_parse.h"
#include "server/server.h"
#include "smtp/smtp_addr.h"

struct conn;
struct auth_creds;
struct auth_check;
struct pop3_job;

enum pop3_state {
	POP3_STATE_AUTH,	/* AUTHORIZATION (RFC 1939 4) */
	POP3_STATE_TRANS,	/* TRANSACTION (RFC 1939 5) */
	POP3_STATE_UPDATE,	/* UPDATE: the commit runs (RFC 1939 6) */
	POP3_STATE_CLOSING,	/* last response sent, flushing */
};

/* Where a login stands, in the AUTHORIZATION state. */
enum pop3_login {
	POP3_LOGIN_NONE,
	POP3_LOGIN_SASL,	/* "+ " sent, waiting for the response */
	POP3_LOGIN_CHECKING,	/* the password is being checked */
	POP3_LOGIN_OPENING,	/* the maildrop is being locked and listed */
};

enum pop3_stream_kind {
	POP3_STREAM_NONE,
	POP3_STREAM_MSG,	/* RETR, TOP: a file, converted */
	POP3_STREAM_LIST,	/* LIST: "n size" lines */
	POP3_STREAM_UIDL,	/* UIDL: "n uid" lines */
};

/* A multi-line response being sent (pop3_stream.c). */
struct pop3_stream {
	enum pop3_stream_kind kind;
	int		 fd;		/* the message file, or -1 */
	uint64_t	 msg;		/* its number */
	bool		 whole;		/* RETR (not TOP): flag it seen */
	struct pop3_xfer xfer;
	char		*in;		/* POP3_CHUNK octets read */
	char		*out;		/* their conversion */
	uint64_t	 next;		/* listings: next message number */
};

struct pop3_session {
	struct server_client client;	/* first: the server's handle */
	struct server	*srv;
	struct conn	*conn;
	char		 id[ID_LEN + 1];
	enum listener_kind kind;
	struct sockaddr_storage peer;
	uint16_t	 port;
	enum pop3_state	 state;
	enum pop3_login	 login;
	char		 user[SMTP_ADDR_TEXT_MAX];	/* once logged in */
	struct auth_creds *creds;	/* USER given, or AUTH under way */
	struct auth_check *auth_check;	/* a password check in flight */
	struct pop3_job	*job;		/* maildrop work in flight */
	struct pop3_maildrop *md;	/* TRANSACTION: ours, locked */
	struct pop3_stream stream;
	bool		 peer_eof;	/* the client closed its side */
	bool		 stopping;	/* the server stops: close when idle */
	unsigned	 errors;
	unsigned	 auth_failures;
	unsigned	 retrieved;	/* RETR sent whole */
};

/* pop3_session.c */
void pop3_session_free(struct pop3_session *s);
void pop3_close(struct pop3_session *s);
void pop3_error(struct pop3_session *s);
void pop3_process_input(struct pop3_session *s);

/*
 * pop3_reply.c. Response codes (RFC 2449 8, RFC 3206) go in brackets
 * after "-ERR " when code is not NULL; client text never reaches the wire
 * unfiltered.
 */
void pop3_ok(struct pop3_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void pop3_err(struct pop3_session *s, const char *code, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));
/* Logs event=reject with the response, sends it, counts an error. */
void pop3_refuse(struct pop3_session *s, const char *reason,
    const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Writes a multi-line response's line as is (the caller built it). */
void pop3_raw(struct pop3_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The commands: each checks, responds on failure, and acts. */
void pop3_cmd_user(struct pop3_session *s, struct str args);
void pop3_cmd_pass(struct pop3_session *s, struct str args);
void pop3_cmd_auth(struct pop3_session *s, struct str args);
void pop3_cmd_quit(struct pop3_session *s, struct str args);
void pop3_cmd_stat(struct pop3_session *s, struct str args);
void pop3_cmd_list(struct pop3_session *s, struct str args);
void pop3_cmd_uidl(struct pop3_session *s, struct str args);
void pop3_cmd_retr(struct pop3_session *s, struct str args);
void pop3_cmd_top(struct pop3_session *s, struct str args);
void pop3_cmd_dele(struct pop3_session *s, struct str args);
void pop3_cmd_noop(struct pop3_session *s, struct str args);
void pop3_cmd_rset(struct pop3_session *s, struct str args);
void pop3_cmd_capa(struct pop3_session *s, struct str args);
void pop3_cmd_stls(struct pop3_session *s, struct str args);

/* pop3_cmd_auth.c */
/* Credentials may be sent now: under TLS, or loopback if allowed. */
bool pop3_creds_allowed(struct pop3_session *s);
void pop3_sasl_response(struct pop3_session *s, struct str line);
void pop3_auth_cleanup(struct pop3_session *s);
/* pop3_job.c calls these when the maildrop work is done. */
void pop3_login_done(struct pop3_session *s, enum pop3_md_status st,
    struct pop3_maildrop *md, int err);

/* pop3_cmd_misc.c */
void pop3_update_done(struct pop3_session *s, int rc,
    const struct pop3_md_commit *r);

/* pop3_stream.c */
void pop3_stream_msg(struct pop3_session *s, uint64_t n, int fd,
    uint64_t body_lines);
void pop3_stream_list(struct pop3_session *s, enum pop3_stream_kind kind);
/* More output fits (CONN_EV_DRAINED): send the next pieces. */
void pop3_stream_pump(struct pop3_session *s);
/* Drops a stream in progress (the connection is going). */
void pop3_stream_abort(struct pop3_session *s);

/* pop3_job.c: the maildrop's disk work, off the loop. */
void pop3_job_open(struct pop3_session *s);
void pop3_job_commit(struct pop3_session *s);
/* The session goes: the job finishes alone and frees its maildrop. */
void pop3_job_forget(struct pop3_session *s);

#endif
