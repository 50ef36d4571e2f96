/*
 * smtp_tx.c - the mail transaction: from MAIL to the end of the content,
 * and the hand-over of a complete message to the commit thread.
 */
#include "core/common.h"

#include <errno.h>
#include <limits.h>
#include <time.h>

#include "core/buf.h"
#include "core/log.h"
#include "net/conn.h"
#include "queue/commit.h"
#include "queue/queue_env.h"
#include "queue/spool.h"
#include "smtp/smtp_int.h"

/* Our own header lines (Received:, later DKIM-Signature:) fit in this. */
#define SMTP_TX_HEADERS_MAX (64 * 1024)

void
smtp_tx_reset(struct smtp_session *s)
{
	size_t i;

	/* First: a check may hold the spool (it frees it if so). */
	smtp_check_free(&s->tx.check);
	for (i = 0; i < s->tx.nrcpts; i++)
		dir_result_free(&s->tx.rcpts[i].targets);
	free(s->tx.rcpts);
	spool_free(&s->tx.spool);
	buf_release(&s->tx.headers);
	memset(&s->tx, 0, sizeof(s->tx));
	buf_init(&s->tx.headers, SMTP_TX_HEADERS_MAX);
	s->input = SMTP_INPUT_LINE;
}

/* RFC 3848 and RFC 6531 3.7.3: the "with" keyword of Received:. */
static const char *
smtp_tx_protocol(struct smtp_session *s)
{
	static const char *const names[2][2] = {
		{ "ESMTP", "ESMTPS" }, { "UTF8SMTP", "UTF8SMTPS" },
	};

	static const char *const authed[2][2] = {
		{ "ESMTPA", "ESMTPSA" }, { "UTF8SMTPA", "UTF8SMTPSA" },
	};

	if (!s->esmtp)
		return "SMTP";
	if (s->auth_user[0])
		return authed[s->tx.smtputf8][conn_is_tls(s->conn)];
	return names[s->tx.smtputf8][conn_is_tls(s->conn)];
}

/* RFC 5321 4.4: our trace header, first line of the stored message. */
static int
smtp_tx_received(struct smtp_session *s, struct buf *b)
{
	const struct config *cfg = server_config(s->srv);
	char date[64];
	int r;

	util_rfc5322_date(time(NULL), date, sizeof(date));
	r = buf_addf(b, "Received: from %s (%s%s%s)\r\n", s->helo,
	    s->peer.ss_family == AF_INET6 ? "[IPv6:" : "[", s->client.ip,
	    "]");
	if (conn_is_tls(s->conn))
		r |= buf_addf(b, "\t(using %s with cipher %s)\r\n",
		    conn_tls_version(s->conn), conn_tls_cipher(s->conn));
	r |= buf_addf(b, "\tby %s (facteur) with %s id %s", cfg->hostname,
	    smtp_tx_protocol(s), s->tx.qid);
	/* One recipient only, as Postfix does: others stay private. */
	if (s->tx.nrcpts == 1)
		r |= buf_addf(b, "\r\n\tfor <%s>", s->tx.rcpts[0].addr);
	r |= buf_addf(b, "; %s\r\n", date);
	return r;
}

int
smtp_tx_begin_content(struct smtp_session *s)
{
	const struct config *cfg = server_config(s->srv);
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s/queue/tmp", cfg->data_dir);
	s->tx.spool = spool_new(dir);
	s->tx.started = true;
	conn_set_timeout(s->conn, (unsigned)cfg->data_timeout);
	return smtp_tx_received(s, &s->tx.headers);
}

/* Message octets: stored until the limit, counted after it. */
void
smtp_tx_write(struct smtp_session *s, const char *p, size_t len)
{
	uint64_t max = server_config(s->srv)->max_message_size;

	s->tx.size += len;
	if (s->tx.size > max)
		s->tx.too_big = true;
	if (s->tx.too_big || s->tx.io_error || len == 0)
		return;
	if (spool_write(s->tx.spool, p, len) == -1) {
		s->tx.io_error = true;
		s->tx.io_errno = errno;
	}
}

/* A remote recipient goes to the queue entry, created on first use. */
static void
smtp_tx_add_remote(struct smtp_session *s, struct commit_msg *msg,
    const char *addr)
{
	struct queue_env *env = msg->queue;
	size_t i;

	if (env == NULL) {
		env = msg->queue = xcalloc(1, sizeof(*env));
		queue_env_init(env);
		cstr_copy(env->qid, sizeof(env->qid), s->tx.qid);
		env->created = time(NULL);
		cstr_copy(env->from, sizeof(env->from), s->tx.mail_from);
		cstr_copy(env->auth, sizeof(env->auth), s->auth_user);
		if (s->tx.body_8bit || (s->tx.data.flags & SMTP_DATA_8BIT))
			env->flags |= QUEUE_FLAG_8BITMIME;
		if (s->tx.smtputf8)
			env->flags |= QUEUE_FLAG_SMTPUTF8;
	}
	for (i = 0; i < env->nrcpts; i++)
		if (strcmp(env->rcpts[i].addr, addr) == 0)
			return;
	queue_env_add_rcpt(env, addr, env->created);
}

/* The refusal for a complete message, or false if it is acceptable. */
static bool
smtp_tx_refuse_content(struct smtp_session *s)
{
	const char *why = smtp_data_strerror(s->tx.data.flags &
	    ~SMTP_DATA_8BIT);

	if (s->tx.too_big) {
		smtp_refuse(s, "too-big", 552, "5.3.4", "Message size exceeds "
		    "fixed limit of %llu octets", (unsigned long long)
		    server_config(s->srv)->max_message_size);
		return true;
	}
	if (why != NULL) {
		smtp_refuse(s, "bad-content", 550, "5.6.0", "Message refused: "
		    "%s", why);
		return true;
	}
	if (s->tx.io_error) {
		smtp_refuse(s, "io-error", s->tx.io_errno == ENOSPC ? 452 : 451,
		    s->tx.io_errno == ENOSPC ? "4.3.1" : "4.3.0", "Error: "
		    "cannot store the message: %s", strerror(s->tx.io_errno));
		return true;
	}
	return false;
}

/* The distinct local mailboxes of all recipients, and the remote ones. */
static void
smtp_tx_targets(struct smtp_session *s, struct commit_msg *msg)
{
	size_t i, j, k;

	for (i = 0; i < s->tx.nrcpts; i++) {
		const struct dir_result *t = &s->tx.rcpts[i].targets;

		for (j = 0; j < t->n; j++) {
			if (!t->v[j].local) {
				smtp_tx_add_remote(s, msg, t->v[j].addr);
				continue;
			}
			for (k = 0; k < msg->nmailboxes; k++)
				if (strcmp(msg->mailboxes[k], t->v[j].addr) == 0)
					break;
			if (k < msg->nmailboxes)
				continue;
			msg->mailboxes = xreallocarray(msg->mailboxes,
			    msg->nmailboxes + 1, sizeof(char *));
			msg->mailboxes[msg->nmailboxes++] =
			    xstrdup(t->v[j].addr);
		}
	}
}

static void
smtp_tx_done(void *arg, int error)
{
	struct smtp_session *s = arg;
	const struct config *cfg = server_config(s->srv);

	s->job = NULL;
	/*
	 * Stored, so it will be delivered, even when the client cannot be
	 * told: the log says so (acked=no), and the client will send it
	 * again (a duplicate, never a loss).
	 */
	if (error == 0) {
		s->messages++;
		s->junk = 0;	/* as Postfix: a delivery is progress */
		log_sess(LOG_LEVEL_INFO, s->id, "event=accepted ip=%s qid=%s "
		    "from=%s nrcpt=%zu size=%llu%s", s->client.ip, s->tx.qid,
		    log_qs(s->tx.mail_from), s->tx.nrcpts,
		    (unsigned long long)s->tx.size, s->peer_gone ||
		    s->state == SMTP_STATE_CLOSING ? " acked=no" : "");
	}
	if (s->peer_gone) {
		smtp_session_free(s);
		return;
	}
	/* A 421 went out (the session is closing): no 250 after it. */
	if (s->state == SMTP_STATE_CLOSING) {
		smtp_tx_reset(s);
		return;
	}
	if (error == 0) {
		smtp_reply(s, 250, "2.0.0", "Ok: queued as %s", s->tx.qid);
	} else {
		log_sess(LOG_LEVEL_WARN, s->id, "event=commit-failed ip=%s "
		    "qid=%s error=%s", s->client.ip, s->tx.qid,
		    log_qs(strerror(error)));
		smtp_reply(s, error == ENOSPC ? 452 : 451, error == ENOSPC ?
		    "4.3.1" : "4.3.0", "Error: cannot store the message now, "
		    "try again later");
	}
	smtp_tx_reset(s);
	s->state = SMTP_STATE_HELO;
	conn_set_timeout(s->conn, (unsigned)cfg->command_timeout);
	if (server_stopping(s->srv)) {
		smtp_reply(s, 421, "4.3.2", "%s Service shutting down",
		    cfg->hostname);
		smtp_close(s);
		return;
	}
	conn_resume(s->conn);
}

static void
smtp_tx_log_deliveries(struct smtp_session *s, const struct commit_msg *msg)
{
	size_t i;

	for (i = 0; i < msg->nmailboxes; i++)
		log_sess(LOG_LEVEL_INFO, s->id, "event=deliver qid=%s to=%s",
		    s->tx.qid, log_qs(msg->mailboxes[i]));
	for (i = 0; msg->queue && i < msg->queue->nrcpts; i++)
		log_sess(LOG_LEVEL_INFO, s->id, "event=queue qid=%s to=%s",
		    s->tx.qid, log_qs(msg->queue->rcpts[i].addr));
}

/* Hands the message to the commit thread; input waits for the 250. */
static void
smtp_tx_commit(struct smtp_session *s, const char *folder)
{
	struct commit_msg msg = { 0 };

	smtp_tx_targets(s, &msg);
	smtp_tx_log_deliveries(s, &msg);
	msg.spool = s->tx.spool;
	s->tx.spool = NULL;
	msg.headers = buf_detach(&s->tx.headers, &msg.headers_len);
	msg.return_path = xstrdup(s->tx.mail_from);
	msg.folder = folder ? xstrdup(folder) : NULL;
	conn_pause(s->conn);
	s->job = commit_submit(server_commit(s->srv), &msg, smtp_tx_done, s);
}

void
smtp_tx_checked(struct smtp_session *s, bool ok, const char *folder)
{
	s->checking = false;
	if (s->peer_gone) {
		smtp_session_free(s);
		return;
	}
	/* Closing (a 421 was sent): the client will not see a 250. */
	if (s->state == SMTP_STATE_CLOSING) {
		smtp_tx_reset(s);
		return;
	}
	if (ok) {
		smtp_tx_commit(s, folder);
		return;
	}
	smtp_tx_reset(s);
	s->state = SMTP_STATE_HELO;
	conn_resume(s->conn);
}

/*
 * End of DATA or BDAT LAST: refuse the content, or check it (SPF, DKIM,
 * DMARC, signing: smtp_check.c) and hand it to the commit thread.
 */
void
smtp_tx_finish(struct smtp_session *s)
{
	s->input = SMTP_INPUT_LINE;
	conn_set_timeout(s->conn,
	    (unsigned)server_config(s->srv)->command_timeout);
	if (smtp_tx_refuse_content(s) || !smtp_policy_content(s)) {
		smtp_tx_reset(s);
		s->state = SMTP_STATE_HELO;
		return;
	}
	/* Set first: the checks may be done before smtp_check_begin returns. */
	s->checking = true;
	if (smtp_check_begin(s))
		return;
	s->checking = false;
	smtp_tx_commit(s, NULL);
}
