/*
 * smtp_int.h - what the files of the SMTP server session share.
 *
 * smtp_session.c holds the session core: lifecycle, the input loop that
 * feeds lines to the command table or bytes to the DATA/BDAT machine, and
 * the error and timeout policy. Each smtp_cmd_<verb>.c holds one verb's
 * check and act; smtp_reply.c formats replies; smtp_tx.c holds the mail
 * transaction (envelope, recipients, spool).
 */
#ifndef FACTEUR_SMTP_INT_H
#define FACTEUR_SMTP_INT_H

#include <netinet/in.h>

#include "config/config.h"
#include "core/buf.h"
#include "core/util.h"
#include "directory/directory.h"
#include "server/server.h"
#include "smtp/smtp.h"
#include "smtp/smtp_addr.h"
#include "smtp/smtp_data.h"
#include "smtp/smtp_parse.h"

struct conn;
struct event;
struct spool;
struct commit_job;

enum smtp_state {
	SMTP_STATE_GREETING,	/* waiting for the greeting delay */
	SMTP_STATE_CONNECTED,	/* greeted, no HELO/EHLO yet */
	SMTP_STATE_HELO,	/* HELO/EHLO done, no transaction */
	SMTP_STATE_MAIL,	/* MAIL accepted */
	SMTP_STATE_RCPT,	/* at least one RCPT accepted */
	SMTP_STATE_CLOSING,	/* final reply sent, flushing */
};

enum smtp_input {
	SMTP_INPUT_LINE,	/* commands */
	SMTP_INPUT_DATA,	/* after 354, until <CRLF>.<CRLF> */
	SMTP_INPUT_BDAT,	/* bdat_left more octets of a chunk */
};

struct smtp_rcpt {
	char		 addr[SMTP_ADDR_TEXT_MAX];	/* as given */
	struct dir_result targets;	/* local: resolved; remote: itself */
	bool		 remote;	/* relayed for an authenticated user */
};

/* Where an AUTH exchange stands (RFC 4954 4). */
enum smtp_auth_step {
	SMTP_AUTH_NONE,
	SMTP_AUTH_PLAIN,	/* 334 sent, waiting for the PLAIN response */
	SMTP_AUTH_LOGIN_USER,	/* 334 Username: sent */
	SMTP_AUTH_LOGIN_PASS,	/* 334 Password: sent */
	SMTP_AUTH_VERIFYING,	/* hash being checked off the loop */
};

struct auth_creds;
struct auth_check;

/* One mail transaction: MAIL to the end of DATA/BDAT LAST (RFC 5321 3.3). */
struct smtp_tx {
	char		 qid[ID_LEN + 1];
	char		 mail_from[SMTP_ADDR_TEXT_MAX];
	bool		 smtputf8;
	bool		 body_8bit;
	uint64_t	 declared_size;
	struct smtp_rcpt *rcpts;
	size_t		 nrcpts;
	size_t		 ntargets;	/* mailboxes and remote addresses */
	unsigned	 overshoot;	/* RCPTs past max_recipients */
	/* Receiving the content: our headers, then what the client sent. */
	struct buf	 headers;
	struct spool	*spool;
	struct smtp_data data;
	bool		 started;	/* DATA or first BDAT seen */
	bool		 too_big;
	bool		 io_error;
	int		 io_errno;
	bool		 bdat_failed;	/* an earlier chunk was refused */
	uint64_t	 bdat_left;
	bool		 bdat_last;
	uint64_t	 size;		/* message octets received */
	struct smtp_check *check;	/* message authentication */
};

struct smtp_session {
	struct server_client client;	/* first: the server's handle */
	struct server	*srv;
	struct conn	*conn;
	char		 id[ID_LEN + 1];
	enum listener_kind kind;
	struct sockaddr_storage peer;
	uint16_t	 port;
	enum smtp_state	 state;
	enum smtp_input	 input;
	char		 helo[SMTP_DOMAIN_MAX + 1];
	bool		 esmtp;
	bool		 checking;	/* smtp_check.c at work, input paused */
	bool		 peer_eof;	/* client half-closed during a commit */
	bool		 peer_gone;	/* connection broken during a commit */
	unsigned	 errors;
	unsigned	 junk;		/* NOOP, RSET, HELP, VRFY... */
	unsigned	 helos;		/* HELO and EHLO accepted */
	unsigned	 unknown_rcpts;	/* harvesting guard */
	unsigned	 messages;
	struct event	*greet_timer;
	bool		 greet_delayed;	/* the greeting delay still runs */
	struct smtp_dnsbl *dnsbl;
	struct commit_job *job;		/* a commit in flight */
	struct smtp_tx	 tx;
	/* Authentication (smtp_cmd_auth.c). */
	char		 auth_user[SMTP_ADDR_TEXT_MAX];	/* "" if none */
	enum smtp_auth_step auth_step;
	struct auth_creds *creds;
	struct auth_check *auth_check;	/* a password check in flight */
	unsigned	 auth_failures;
};

/* smtp_session.c */
void smtp_session_free(struct smtp_session *s);
/* Waiting for a check or a commit: the session must outlive its client. */
bool smtp_busy(const struct smtp_session *s);
/* A command that moves nothing forward: see smtp_cmd_misc.c. */
void smtp_junk(struct smtp_session *s);
void smtp_close(struct smtp_session *s);
void smtp_error(struct smtp_session *s);
bool smtp_input_pending(struct smtp_session *s);
void smtp_process_input(struct smtp_session *s);

/* smtp_reply.c: one reply; text may hold "\n" for multi-line replies. */
void smtp_reply(struct smtp_session *s, int code, const char *enh,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Logs event=reject with the reply, then sends it and counts an error. */
void smtp_refuse(struct smtp_session *s, const char *event, int code,
    const char *enh, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* The same without counting an error: the client did nothing wrong. */
void smtp_decline(struct smtp_session *s, const char *event, int code,
    const char *enh, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* smtp_tx.c */
void smtp_tx_reset(struct smtp_session *s);
int smtp_tx_begin_content(struct smtp_session *s);
void smtp_tx_write(struct smtp_session *s, const char *p, size_t len);
void smtp_tx_finish(struct smtp_session *s);

/* The verbs: each checks, replies on failure, and acts. */
void smtp_cmd_helo(struct smtp_session *s, struct str args);
void smtp_cmd_ehlo(struct smtp_session *s, struct str args);
void smtp_cmd_mail(struct smtp_session *s, struct str args);
void smtp_cmd_rcpt(struct smtp_session *s, struct str args);
void smtp_cmd_data(struct smtp_session *s, struct str args);
void smtp_cmd_bdat(struct smtp_session *s, struct str args);
void smtp_cmd_rset(struct smtp_session *s, struct str args);
void smtp_cmd_noop(struct smtp_session *s, struct str args);
void smtp_cmd_quit(struct smtp_session *s, struct str args);
void smtp_cmd_help(struct smtp_session *s, struct str args);
void smtp_cmd_vrfy(struct smtp_session *s, struct str args);
void smtp_cmd_starttls(struct smtp_session *s, struct str args);
void smtp_cmd_auth(struct smtp_session *s, struct str args);

/* smtp_cmd_auth.c */
bool smtp_auth_offered(struct smtp_session *s);
bool smtp_auth_allowed_here(struct smtp_session *s);
void smtp_auth_response(struct smtp_session *s, struct str line);
void smtp_auth_cleanup(struct smtp_session *s);

/* smtp_policy.c: relay and sender rules for this session. */
bool smtp_policy_mail(struct smtp_session *s, const struct smtp_addr *from);
/* End of content: loop detection, and From: ownership when authed. */
bool smtp_policy_content(struct smtp_session *s);

/* smtp_session.c: greet once the delay and the blocklists are done. */
void smtp_greet_ready(struct smtp_session *s);

/* smtp_dnsbl.c */
struct smtp_dnsbl;
void smtp_dnsbl_start(struct smtp_session *s);
bool smtp_dnsbl_pending(const struct smtp_session *s);
const char *smtp_dnsbl_listed(const struct smtp_session *s);
void smtp_dnsbl_free(struct smtp_session *s);

/* smtp_check.c: SPF/DKIM/DMARC on inbound mail, DKIM signing outbound. */
struct smtp_check;
bool smtp_check_wanted(const struct smtp_session *s);
void smtp_check_spf(struct smtp_session *s);
bool smtp_check_begin(struct smtp_session *s);
void smtp_check_free(struct smtp_check **chk);
/* smtp_tx.c: after the checks; ok false means already refused. */
void smtp_tx_checked(struct smtp_session *s, bool ok, const char *folder);

/* smtp_cmd_data.c: the DATA and BDAT input modes. */
void smtp_data_input(struct smtp_session *s);
void smtp_bdat_input(struct smtp_session *s);

#endif
