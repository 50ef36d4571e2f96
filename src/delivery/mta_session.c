/*
 * mta_session.c - the SMTP client (RFC 5321 as the sender).
 *
 * One session is one connection to one address of a destination. It
 * greets with EHLO (HELO if refused), upgrades with STARTTLS whenever the
 * server offers it (opportunistic TLS, RFC 7435: the certificate is
 * checked and the result logged, but not required; a failed handshake is
 * retried once in plain text), and then carries jobs taken from its
 * destination, one transaction each, pipelined (RFC 2920) when offered.
 * It never sends 8-bit content to a server without 8BITMIME nor a UTF-8
 * envelope to one without SMTPUTF8: those recipients fail with a clear
 * reason instead. Every wait has the timeout of RFC 5321 4.5.3.2.
 */
#include "core/common.h"

#include <errno.h>
#include <event2/event.h>
#include <stdarg.h>
#include <unistd.h>

#include "auth/auth_sasl.h"
#include "config/config.h"
#include "core/log.h"
#include "core/util.h"
#include "delivery/mta_int.h"
#include "net/conn.h"
#include "queue/queue_file.h"
#include "server/server.h"
#include "smtp/smtp_data.h"

/* RFC 5321 4.5.3.2: how long each reply may take, in seconds. */
#define MTA_T_GREETING	300
#define MTA_T_COMMAND	300
#define MTA_T_DATA	120
#define MTA_T_BLOCK	180
#define MTA_T_DOT	600
#define MTA_BODY_CHUNK	32768	/* and twice that for the stuffed copy */
#define MTA_LINE_MAX	4096

enum mta_state {
	MS_CONNECT,
	MS_GREETING,
	MS_EHLO,
	MS_HELO,
	MS_STARTTLS,
	MS_TLS,
	MS_TLS_IMPLICIT,	/* port 465 relay: TLS from the first byte */
	MS_AUTH,
	MS_MAIL,
	MS_RCPT,
	MS_DATA,
	MS_BODY,
	MS_DOT,
	MS_RSET,
	MS_QUIT,
	MS_CLOSING,
};

struct mta_session {
	struct mta_session	*prev, *next;	/* mta->slist */
	struct mta		*mta;
	struct mta_dest		*dest;
	struct conn		*conn;
	char			 id[ID_LEN + 1];
	size_t			 addr;
	enum mta_state		 state;
	struct mta_reply	 reply;
	unsigned		 ext;
	unsigned long long	 maxsize;
	bool			 no_tls;	/* retrying after a TLS failure */
	unsigned		 delivered;	/* messages the peer took */
	bool			 tls_verified;
	struct mta_job		*job;
	size_t			 rcpt_reply;	/* RCPT replies read so far */
	size_t			 rcpt_sent;
	bool			 pipelined;
	bool			 mail_ok;
	size_t			 naccepted;
	int			 fd;		/* the message, during BODY */
	off_t			 pos, left;	/* next byte to read, bytes left */
	struct smtp_stuff	 stuff;		/* dot-stuffing state */
	char			 error[QUEUE_ERROR_MAX];
};

static void mta_session_free(struct mta_session *ms);
static void mta_session_next(struct mta_session *ms);
static void mta_session_connect(struct mta_session *ms);
static void mta_on_conn(void *arg, enum conn_event ev);

static const struct mta_addr *
mta_here(const struct mta_session *ms)
{
	return &ms->dest->addrs[ms->addr];
}

static void
mta_send(struct mta_session *ms, const char *fmt, ...) PRINTF_LIKE(2, 3);

static void
mta_send(struct mta_session *ms, const char *fmt, ...)
{
	char line[MTA_LINE_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line) - 2)
		n = (int)sizeof(line) - 3;
	line[n++] = '\r';
	line[n++] = '\n';
	conn_write(ms->conn, line, (size_t)n);
	explicit_bzero(line, sizeof(line));	/* it may hold AUTH PLAIN */
}

/* "mx.example[192.0.2.1] said: 550 5.1.1 ... (in reply to RCPT TO)". */
static void
mta_describe(struct mta_session *ms, const char *after, char *out,
    size_t size)
{
	char summary[MTA_REPLY_TEXT_MAX + 8];

	mta_reply_summary(&ms->reply, summary, sizeof(summary));
	util_fmt_cut(out, size, "%s[%s] said: %s (in reply to %s)",
	    mta_here(ms)->host, mta_here(ms)->ip, summary, after);
}

static void
mta_set_timeout(struct mta_session *ms, unsigned seconds)
{
	conn_set_timeout(ms->conn, seconds);
}

/* The last step of a session, on a fresh turn of the loop. */
static void
mta_session_reap(evutil_socket_t fd, short what, void *arg)
{
	struct mta_session *ms = arg;
	struct mta_dest *dest = ms->dest;

	(void)fd;
	(void)what;
	if (ms->prev)
		ms->prev->next = ms->next;
	else
		ms->mta->slist = ms->next;
	if (ms->next)
		ms->next->prev = ms->prev;
	dest->sessions--;
	ms->mta->sessions--;
	free(ms);
	mta_dest_run(dest);
}

void
mta_session_abort_all(struct mta *mta)
{
	struct mta_session *ms, *next;

	for (ms = mta->slist; ms; ms = next) {
		next = ms->next;
		if (ms->job) {
			/* Results so far stay; the rest is tried next time. */
			ms->job->entry->inflight--;
			memset(ms->job->entry->busy, 0,
			    ms->job->entry->env.nrcpts * sizeof(bool));
			free(ms->job);
			ms->job = NULL;
		}
		if (ms->fd != -1)
			close(ms->fd);
		conn_free(&ms->conn);
		ms->dest->sessions--;
		free(ms);
	}
	mta->slist = NULL;
	mta->sessions = 0;
}

/*
 * The session is over. It may be inside one of its own callbacks, so the
 * memory goes on the next turn of the loop; from now on it does nothing.
 */
static void
mta_session_free(struct mta_session *ms)
{
	struct timeval now = { 0, 0 };

	if (ms->job)
		mta_job_finish(ms->mta, ms->job);
	ms->job = NULL;
	if (ms->fd != -1)
		close(ms->fd);
	ms->fd = -1;
	conn_free(&ms->conn);
	ms->state = MS_CLOSING;
	/* Out of memory, the session would never be reaped: fatal as any. */
	if (event_base_once(server_base(ms->mta->srv), -1, EV_TIMEOUT,
	    mta_session_reap, ms, &now) == -1)
		fatal("mta: cannot schedule the end of a session");
}

/* A TLS handshake failed: once more on this address, in plain text. */
static void
mta_session_retry_plain(struct mta_session *ms)
{
	log_info("event=mta-tls-failed sid=%s host=%s ip=%s", ms->id,
	    log_qs(mta_here(ms)->host), mta_here(ms)->ip);
	conn_free(&ms->conn);
	ms->no_tls = true;
	mta_session_connect(ms);
}

static void
mta_close(struct mta_session *ms)
{
	ms->state = MS_CLOSING;
	conn_shutdown(ms->conn);
}

/*
 * Other sessions of ms's destination that the peer let in (connected) and
 * that may still take a job; with same_addr, only those on ms's address.
 * Sessions still connecting do not count: when a host is down they all
 * fail, and none of them may stand for the others. Nor do sessions
 * saying goodbye: they take no more jobs.
 */
static unsigned
mta_session_others(const struct mta_session *ms, bool same_addr)
{
	const struct mta_session *s;
	unsigned n = 0;

	for (s = ms->mta->slist; s; s = s->next)
		if (s != ms && s->dest == ms->dest &&
		    s->state != MS_CONNECT && s->state != MS_QUIT &&
		    s->state != MS_CLOSING && (!same_addr || s->addr == ms->addr))
			n++;
	return n;
}

/*
 * This address did not work: the current job's open recipients retry
 * later; the next address is tried. When none is left, the jobs waiting
 * for this destination stay with its other sessions if some are at work
 * (the peer refused one connection too many), and are all deferred with
 * the last error if not.
 */
static void
mta_session_failed(struct mta_session *ms, const char *why)
{
	/* Refused before any transaction, while this address takes others:
	 * the peer limits us (a failed transaction, even the first, or a
	 * queued file we cannot read, says nothing of the kind). */
	bool throttled = ms->delivered == 0 && ms->job == NULL;
	size_t i;

	cstr_copy(ms->error, sizeof(ms->error), why);
	log_info("event=mta-fail sid=%s domain=%s host=%s ip=%s error=%s",
	    ms->id, log_qs(ms->dest->domain), log_qs(mta_here(ms)->host),
	    mta_here(ms)->ip, log_qs(why));
	if (ms->job) {
		for (i = 0; i < ms->job->nrcpts; i++)
			mta_job_result(ms->mta, ms->job, i, 451, "4.4.2", why);
		mta_job_finish(ms->mta, ms->job);
		ms->job = NULL;
	}
	if (ms->fd != -1) {
		close(ms->fd);
		ms->fd = -1;
	}
	conn_free(&ms->conn);
	if (throttled)
		mta_dest_throttled(ms->dest, mta_session_others(ms, true));
	if (++ms->addr < ms->dest->naddrs) {
		ms->no_tls = false;
		mta_session_connect(ms);
		return;
	}
	if (mta_session_others(ms, false) == 0)
		mta_dest_fail_all(ms->dest, false, "4.4.1", why);
	mta_session_free(ms);
}

static void
mta_session_connect(struct mta_session *ms)
{
	const struct mta_addr *a = mta_here(ms);

	ms->state = MS_CONNECT;
	mta_reply_init(&ms->reply);
	ms->conn = conn_connect(server_base(ms->mta->srv),
	    (const struct sockaddr *)&a->ss, a->sslen, mta_on_conn, ms);
	mta_set_timeout(ms, (unsigned)server_config(ms->mta->srv)->
	    delivery_connect_timeout);
	log_debug("event=mta-connect sid=%s domain=%s host=%s ip=%s", ms->id,
	    log_qs(ms->dest->domain), log_qs(a->host), a->ip);
}

void
mta_session_start(struct mta_dest *dest)
{
	struct mta_session *ms = xcalloc(1, sizeof(*ms));

	ms->mta = dest->mta;
	ms->dest = dest;
	ms->fd = -1;
	util_random_id(ms->id);
	ms->next = ms->mta->slist;
	if (ms->next)
		ms->next->prev = ms;
	ms->mta->slist = ms;
	dest->sessions++;
	ms->mta->sessions++;
	mta_session_connect(ms);
}

/* 8-bit and UTF-8 rules, and the server's SIZE: all before MAIL. */
static const char *
mta_job_refusal(struct mta_session *ms, off_t size)
{
	const struct queue_env *env = &ms->job->entry->env;

	if ((env->flags & QUEUE_FLAG_SMTPUTF8) &&
	    !(ms->ext & MTA_EXT_SMTPUTF8))
		return "5.6.7 the receiving server does not support SMTPUTF8, "
		    "needed for this message's addresses";
	if ((env->flags & QUEUE_FLAG_8BITMIME) &&
	    !(ms->ext & MTA_EXT_8BITMIME))
		return "5.6.3 the receiving server does not support 8BITMIME; "
		    "the message was not sent to avoid corrupting it";
	if ((ms->ext & MTA_EXT_SIZE) && ms->maxsize &&
	    (unsigned long long)size > ms->maxsize)
		return "5.3.4 the message is larger than the receiving server "
		    "accepts";
	return NULL;
}

static void
mta_send_rcpt(struct mta_session *ms, size_t i)
{
	const struct queue_env *env = &ms->job->entry->env;

	mta_send(ms, "RCPT TO:<%s>", env->rcpts[ms->job->rcpts[i]].addr);
}

/*
 * Opens the message and sends MAIL (and, pipelining, RCPTs and DATA).
 * False when the job ended here (unreadable, or refused before sending:
 * its results are set) and the caller moves on to the next one.
 */
static bool
mta_transaction(struct mta_session *ms)
{
	const struct queue_env *env = &ms->job->entry->env;
	char size[32];
	const char *why;
	off_t msgsize;
	size_t i;

	if ((ms->fd = queue_file_open(mta_data_dir(ms->mta), env->qid,
	    &ms->pos, &msgsize)) == -1) {
		for (i = 0; i < ms->job->nrcpts; i++)
			mta_job_result(ms->mta, ms->job, i, 451, "4.3.0",
			    "cannot read the queued message");
		return false;
	}
	ms->left = msgsize;
	if ((why = mta_job_refusal(ms, msgsize)) != NULL) {
		for (i = 0; i < ms->job->nrcpts; i++)
			mta_job_result(ms->mta, ms->job, i, 554, NULL, why);
		return false;
	}
	ms->rcpt_reply = ms->rcpt_sent = ms->naccepted = 0;
	ms->mail_ok = false;
	ms->pipelined = (ms->ext & MTA_EXT_PIPELINING) != 0;
	size[0] = '\0';
	if (ms->ext & MTA_EXT_SIZE)	/* RFC 1870 */
		snprintf(size, sizeof(size), " SIZE=%lld",
		    (long long)msgsize);
	mta_send(ms, "MAIL FROM:<%s>%s%s%s", env->from, size,
	    (env->flags & QUEUE_FLAG_8BITMIME) ? " BODY=8BITMIME" : "",
	    (env->flags & QUEUE_FLAG_SMTPUTF8) ? " SMTPUTF8" : "");
	if (ms->pipelined) {
		for (i = 0; i < ms->job->nrcpts; i++)
			mta_send_rcpt(ms, i);
		ms->rcpt_sent = ms->job->nrcpts;
		mta_send(ms, "DATA");
	}
	ms->state = MS_MAIL;
	mta_set_timeout(ms, MTA_T_COMMAND);
	return true;
}

/*
 * Takes the next job, or says goodbye. A loop, not a recursion through
 * mta_transaction(): thousands of jobs refused before sending (too big,
 * 8-bit for a 7-bit server) must not grow the stack.
 */
static void
mta_session_next(struct mta_session *ms)
{
	do {
		if (ms->fd != -1) {
			close(ms->fd);
			ms->fd = -1;
		}
		if (ms->job) {
			mta_job_finish(ms->mta, ms->job);
			ms->job = NULL;
		}
		if (server_stopping(ms->mta->srv) ||
		    (ms->job = mta_dest_take(ms->dest)) == NULL) {
			mta_send(ms, "QUIT");
			ms->state = MS_QUIT;
			mta_set_timeout(ms, MTA_T_COMMAND);
			return;
		}
	} while (!mta_transaction(ms));
}

/* Sends message data until the output buffer is comfortably full. */
static void
mta_body_pump(struct mta_session *ms)
{
	char chunk[MTA_BODY_CHUNK], out[2 * MTA_BODY_CHUNK];
	const char *end;
	ssize_t n;

	while (conn_output_len(ms->conn) < CONN_WRITE_LOW) {
		/* The entry's later envelopes follow the message. */
		n = ms->left > 0 ? pread(ms->fd, chunk, (size_t)MIN(ms->left,
		    (off_t)sizeof(chunk)), ms->pos) : 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || (n == 0 && ms->left > 0)) {
			mta_session_failed(ms, "cannot read the queued message");
			return;
		}
		ms->pos += n;
		ms->left -= n;
		if (n == 0) {
			/* RFC 5321 4.1.1.4: the end of data indication. */
			end = smtp_data_stuff_end(&ms->stuff);
			conn_write(ms->conn, end, strlen(end));
			close(ms->fd);
			ms->fd = -1;
			ms->state = MS_DOT;
			/*
			 * RFC 5321 4.5.3.2.6: 10 minutes for the reply, from
			 * when the dot has left (conn restarts the read timer
			 * when the output empties); the last blocks still
			 * have 3 minutes each to go out.
			 */
			conn_set_timeouts(ms->conn, MTA_T_DOT, MTA_T_BLOCK);
			break;
		}
		conn_write(ms->conn, out,
		    smtp_data_stuff(&ms->stuff, chunk, (size_t)n, out));
	}
}

static void
mta_after_ehlo(struct mta_session *ms)
{
	const struct config *cfg = server_config(ms->mta->srv);
	char plain[1200], b64[1700];
	int n;

	if ((ms->ext & MTA_EXT_STARTTLS) && !conn_is_tls(ms->conn) &&
	    !ms->no_tls) {
		mta_send(ms, "STARTTLS");
		ms->state = MS_STARTTLS;
		return;
	}
	if (mta_is_relay(ms->mta) && !conn_is_tls(ms->conn)) {
		mta_session_failed(ms, "the relay host offers no TLS; "
		    "refusing to send credentials and mail in clear text");
		return;
	}
	if (mta_is_relay(ms->mta) && cfg->relay_user) {
		if (!(ms->ext & MTA_EXT_AUTH_PLAIN)) {
			mta_session_failed(ms, "the relay host does not offer "
			    "AUTH PLAIN");
			return;
		}
		n = snprintf(plain, sizeof(plain), "%c%s%c%s", 0,
		    cfg->relay_user, 0, ms->mta->relay_password);
		auth_b64_encode(plain, n > 0 ? (size_t)n : 0, b64, sizeof(b64));
		explicit_bzero(plain, sizeof(plain));
		mta_send(ms, "AUTH PLAIN %s", b64);
		explicit_bzero(b64, sizeof(b64));
		ms->state = MS_AUTH;
		return;
	}
	mta_session_next(ms);
}

static void
mta_on_greeting(struct mta_session *ms, char *err, size_t errsize)
{
	if (ms->reply.code / 100 != 2) {
		mta_describe(ms, "the greeting", err, errsize);
		mta_session_failed(ms, err);
		return;
	}
	mta_send(ms, "EHLO %s", mta_hostname(ms->mta));
	ms->state = MS_EHLO;
}

static void
mta_on_ehlo(struct mta_session *ms, char *err, size_t errsize)
{
	if (ms->reply.code / 100 == 2) {
		ms->ext = mta_reply_ehlo_ext(&ms->reply, &ms->maxsize);
		mta_after_ehlo(ms);
		return;
	}
	if (ms->state == MS_EHLO && ms->reply.code / 100 == 5) {
		/* RFC 5321 3.2: an old server; HELO and no extensions. */
		mta_send(ms, "HELO %s", mta_hostname(ms->mta));
		ms->state = MS_HELO;
		return;
	}
	mta_describe(ms, ms->state == MS_EHLO ? "EHLO" : "HELO", err, errsize);
	mta_session_failed(ms, err);
}

static void
mta_on_starttls(struct mta_session *ms)
{
	size_t pending;

	if (ms->reply.code != 220) {
		ms->no_tls = true;	/* offered but refused: go on plain */
		mta_after_ehlo(ms);
		return;
	}
	/*
	 * Plaintext after the 220 was sent before TLS, maybe by a man in
	 * the middle: never read as the server's words inside TLS (RFC
	 * 3207 4.2); conn_start_tls_client() drops it.
	 */
	if ((pending = conn_input_len(ms->conn)) != 0)
		log_warn("event=mta-starttls-injection sid=%s host=%s ip=%s "
		    "discarded=%zu", ms->id, log_qs(mta_here(ms)->host),
		    mta_here(ms)->ip, pending);
	if (conn_start_tls_client(ms->conn, ms->mta->tls, mta_here(ms)->host)
	    == -1) {
		mta_session_failed(ms, "cannot start TLS");
		return;
	}
	ms->state = MS_TLS;
}

static void
mta_on_auth(struct mta_session *ms, char *err, size_t errsize)
{
	if (ms->reply.code / 100 == 2) {
		mta_session_next(ms);
		return;
	}
	mta_describe(ms, "AUTH", err, errsize);
	log_err("event=relay-auth-failed host=%s error=%s",
	    log_qs(mta_here(ms)->host), log_qs(err));
	mta_session_failed(ms, err);
}

/* Records a failure for every recipient still open in the job. */
static void
mta_job_all(struct mta_session *ms, const char *err, bool accepted_only)
{
	size_t i;

	for (i = 0; i < ms->job->nrcpts; i++)
		if (!accepted_only || ms->job->accepted[i])
			mta_job_result(ms->mta, ms->job, i, ms->reply.code,
			    ms->reply.enh, err);
}

static void
mta_after_rcpts(struct mta_session *ms)
{
	if (ms->pipelined) {
		ms->state = MS_DATA;	/* DATA went out with the RCPTs */
		mta_set_timeout(ms, MTA_T_DATA);
		return;
	}
	if (ms->naccepted == 0) {
		mta_send(ms, "RSET");
		ms->state = MS_RSET;
		return;
	}
	mta_send(ms, "DATA");
	ms->state = MS_DATA;
	mta_set_timeout(ms, MTA_T_DATA);
}

static void
mta_on_mail(struct mta_session *ms, char *err, size_t errsize)
{
	ms->mail_ok = ms->reply.code / 100 == 2;
	if (!ms->mail_ok) {
		mta_describe(ms, "MAIL FROM", err, errsize);
		mta_job_all(ms, err, false);
		if (!ms->pipelined) {
			mta_send(ms, "RSET");
			ms->state = MS_RSET;
			return;
		}
	}
	if (!ms->pipelined) {
		mta_send_rcpt(ms, 0);
		ms->rcpt_sent = 1;
	}
	ms->state = MS_RCPT;
}

static void
mta_on_rcpt(struct mta_session *ms, char *err, size_t errsize)
{
	size_t i = ms->rcpt_reply++;

	if (ms->mail_ok && ms->reply.code / 100 == 2) {
		ms->job->accepted[i] = true;
		ms->naccepted++;
	} else if (ms->mail_ok) {
		mta_describe(ms, "RCPT TO", err, errsize);
		mta_job_result(ms->mta, ms->job, i, ms->reply.code,
		    ms->reply.enh, err);
	}
	if (ms->rcpt_reply < ms->job->nrcpts) {
		if (!ms->pipelined)
			mta_send_rcpt(ms, ms->rcpt_sent++);
		return;
	}
	mta_after_rcpts(ms);
}

static void
mta_on_data(struct mta_session *ms, char *err, size_t errsize)
{
	if (ms->reply.code == 354 && (!ms->mail_ok || ms->naccepted == 0)) {
		/* RFC 2920 3.1: DATA got through anyway: send an empty end. */
		conn_write(ms->conn, ".\r\n", 3);
		ms->state = MS_DOT;
		ms->naccepted = 0;
		return;
	}
	if (ms->reply.code != 354 && ms->reply.code / 100 != 4 &&
	    ms->reply.code / 100 != 5) {
		/*
		 * RFC 5321 4.3.2: DATA gets 354, 4xx or 5xx. A 2xx would
		 * have marked the recipients sent with no message sent: a
		 * peer out of step (an extra reply earlier) or broken. Its
		 * replies cannot be trusted: the job is deferred, the
		 * session dropped.
		 */
		mta_describe(ms, "DATA, where only 354 lets the message go",
		    err, errsize);
		mta_session_failed(ms, err);
		return;
	}
	if (ms->reply.code != 354) {
		if (ms->mail_ok && ms->naccepted) {
			mta_describe(ms, "DATA", err, errsize);
			mta_job_all(ms, err, true);
		}
		mta_send(ms, "RSET");
		ms->state = MS_RSET;
		return;
	}
	ms->state = MS_BODY;
	smtp_stuff_init(&ms->stuff);
	/*
	 * RFC 5321 4.5.3.2.5: 3 minutes for each block to be sent, which
	 * the write timeout counts from each write that moves. The server
	 * says nothing until the final dot: a read timeout here would cap
	 * the whole upload, however fast it goes.
	 */
	conn_set_timeouts(ms->conn, 0, MTA_T_BLOCK);
	mta_body_pump(ms);
}

static void
mta_on_dot(struct mta_session *ms, char *err, size_t errsize)
{
	char ok[MTA_REPLY_TEXT_MAX + 300];

	if (ms->naccepted == 0) {	/* the empty end after a stray 354 */
		mta_send(ms, "RSET");
		ms->state = MS_RSET;
		return;
	}
	mta_describe(ms, "end of data", ms->reply.code / 100 == 2 ? ok : err,
	    ms->reply.code / 100 == 2 ? sizeof(ok) : errsize);
	mta_job_all(ms, ms->reply.code / 100 == 2 ? ok : err, true);
	if (ms->reply.code / 100 == 2) {
		ms->delivered++;
		mta_dest_delivered(ms->dest);
	}
	mta_session_next(ms);
}

static void
mta_on_reply(struct mta_session *ms)
{
	char err[QUEUE_ERROR_MAX];

	switch (ms->state) {
	case MS_GREETING:
		mta_on_greeting(ms, err, sizeof(err));
		break;
	case MS_EHLO:
	case MS_HELO:
		mta_on_ehlo(ms, err, sizeof(err));
		break;
	case MS_STARTTLS:
		mta_on_starttls(ms);
		break;
	case MS_AUTH:
		mta_on_auth(ms, err, sizeof(err));
		break;
	case MS_MAIL:
		mta_on_mail(ms, err, sizeof(err));
		break;
	case MS_RCPT:
		mta_on_rcpt(ms, err, sizeof(err));
		break;
	case MS_DATA:
		mta_on_data(ms, err, sizeof(err));
		break;
	case MS_DOT:
		mta_on_dot(ms, err, sizeof(err));
		break;
	case MS_RSET:
		mta_session_next(ms);
		break;
	case MS_QUIT:
		mta_close(ms);
		break;
	default:
		mta_session_failed(ms, "unexpected reply from the server");
		break;
	}
}

static void
mta_on_read(struct mta_session *ms)
{
	struct str line;
	int r;

	while (ms->state != MS_CLOSING && ms->conn &&
	    (r = conn_read_line(ms->conn, MTA_LINE_MAX, &line)) != 0) {
		if (r == -1 || (r = mta_reply_feed(&ms->reply, line)) == -1) {
			mta_session_failed(ms, "malformed reply from the "
			    "server");
			return;
		}
		if (r == 1) {
			mta_on_reply(ms);
			mta_reply_init(&ms->reply);
		}
	}
}

static void
mta_on_tls(struct mta_session *ms)
{
	ms->tls_verified = conn_tls_verified(ms->conn);
	log_info("event=mta-tls sid=%s host=%s ip=%s version=%s cipher=%s "
	    "verified=%s", ms->id, log_qs(mta_here(ms)->host), mta_here(ms)->ip,
	    conn_tls_version(ms->conn), conn_tls_cipher(ms->conn),
	    ms->tls_verified ? "yes" : "no");
	/* Credentials go to the smarthost: its certificate must verify. */
	if (mta_is_relay(ms->mta) && !ms->tls_verified &&
	    server_config(ms->mta->srv)->relay_tls_verify) {
		mta_session_failed(ms, "the relay host's certificate does not "
		    "verify ([relay] tls_verify)");
		return;
	}
	if (ms->state == MS_TLS_IMPLICIT) {
		ms->state = MS_GREETING;
		return;
	}
	/* RFC 3207 4.2: start over with EHLO inside TLS. */
	mta_send(ms, "EHLO %s", mta_hostname(ms->mta));
	ms->state = MS_EHLO;
	mta_set_timeout(ms, MTA_T_COMMAND);
}

static void
mta_on_conn(void *arg, enum conn_event ev)
{
	struct mta_session *ms = arg;

	switch (ev) {
	case CONN_EV_CONNECTED:
		ms->state = MS_GREETING;
		mta_set_timeout(ms, MTA_T_GREETING);
		if (mta_is_relay(ms->mta) &&
		    server_config(ms->mta->srv)->relay_port == 465) {
			/* RFC 8314 3: implicit TLS, then the greeting. */
			ms->state = MS_TLS_IMPLICIT;
			if (conn_start_tls_client(ms->conn, ms->mta->tls,
			    mta_here(ms)->host) == -1)
				mta_session_failed(ms, "cannot start TLS");
		}
		break;
	case CONN_EV_READ:
		mta_on_read(ms);
		break;
	case CONN_EV_DRAINED:
		if (ms->state == MS_BODY)
			mta_body_pump(ms);
		break;
	case CONN_EV_TLS_READY:
		mta_on_tls(ms);
		break;
	case CONN_EV_CLOSED:
		mta_session_free(ms);
		break;
	case CONN_EV_TIMEOUT:
		mta_session_failed(ms, ms->state == MS_CONNECT ?
		    "connection timed out" : ms->state == MS_BODY ?
		    "timeout sending the message (the server stopped "
		    "reading)" : "timeout waiting for the server");
		break;
	case CONN_EV_EOF:
	case CONN_EV_ERROR:
		if (ms->state == MS_QUIT) {
			mta_session_free(ms);
		} else if (ms->state == MS_TLS && !ms->no_tls &&
		    !mta_is_relay(ms->mta)) {
			mta_session_retry_plain(ms);
		} else {
			mta_session_failed(ms, ms->state == MS_CONNECT ?
			    "connection refused or unreachable" :
			    "connection lost");
		}
		break;
	}
}
