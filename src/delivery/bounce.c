/*
 * bounce.c - delivery status notifications (RFC 3464, RFC 3461 6.3):
 * a multipart/report sent from MAILER-DAEMON with the null sender, a
 * human-readable part, a message/delivery-status part with one block per
 * recipient reported, and the original message's headers. Two kinds: the
 * failure report (recipients failed or expired, "Action: failed") and
 * the delay warning (recipients still pending after [queue]
 * delay_warning, "Action: delayed", sent once per message).
 *
 * No report is sent for a message whose sender is null (never bounce a
 * bounce, RFC 5321 6.1) or was not authenticated: mail that reached the
 * queue without AUTH was forwarded from outside, its sender may be forged,
 * and a report to it would be backscatter.
 */
#include "core/common.h"

#include <errno.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "core/buf.h"
#include "core/log.h"
#include "delivery/mta_int.h"
#include "dkim/dkim_store.h"
#include "directory/directory.h"
#include "queue/commit.h"
#include "queue/queue_file.h"
#include "queue/spool.h"
#include "server/server.h"

#define BOUNCE_HEADERS_MAX (64 * 1024)

struct bounce_wait {
	void	(*done)(void *, int);
	void	*arg;
	char	 qid[ID_LEN + 1];
	enum bounce_kind kind;
};

/* The original's header section (up to a limit), CRLF line ends. */
static void
bounce_original_headers(struct mta *mta, const char *qid, struct buf *out)
{
	char chunk[BOUNCE_HEADERS_MAX];
	const char *end;
	off_t start, size;
	ssize_t n;
	int fd, r;

	if ((fd = queue_file_open(mta_data_dir(mta), qid, &start, &size)) == -1)
		return;
	n = pread(fd, chunk, (size_t)MIN(size, (off_t)sizeof(chunk) - 1),
	    start);
	close(fd);
	if (n <= 0)
		return;
	chunk[n] = '\0';
	end = strstr(chunk, "\r\n\r\n");
	r = buf_add(out, chunk, end ? (size_t)(end - chunk) + 2 : (size_t)n);
	(void)r;
}

/*
 * A recipient's last error as it goes into the report: its control
 * characters already became '?' where it was set (mta_job_result()) and
 * an envelope with any is not read back, but a CR or LF here would end
 * a header field of the report, so once more.
 */
static const char *
bounce_error(const struct queue_rcpt *r, char *out, size_t size)
{
	cstr_copy(out, size, r->error[0] ? r->error : "(no details)");
	cstr_unctrl(out);
	return out;
}

static bool
bounce_reported(const struct queue_rcpt *r, enum bounce_kind kind)
{
	if (kind == BOUNCE_DELAYED)
		return r->state == QUEUE_RCPT_PENDING;
	return r->state == QUEUE_RCPT_FAILED || r->state == QUEUE_RCPT_EXPIRED;
}

/*
 * RFC 3463: the status of a reported recipient, from its last error; a
 * delayed one is transient (4.x.x) whatever its error says.
 */
static void
bounce_status(const struct queue_rcpt *r, enum bounce_kind kind, char *out,
    size_t size)
{
	const char *p = r->error;

	if (kind == BOUNCE_DELAYED) {
		if (p[0] == '4' && p[1] == ' ' && p[2] == '4' && p[3] == '.')
			p += 2;
		if (p[0] == '4' && p[1] == '.' && ascii_isdigit(p[2]))
			snprintf(out, size, "%.*s", (int)MIN(strspn(p,
			    "0123456789."), size - 1), p);
		else
			snprintf(out, size, "4.0.0");
		return;
	}
	if (r->state == QUEUE_RCPT_EXPIRED) {
		snprintf(out, size, "4.4.7");	/* delivery time expired */
		return;
	}
	for (; *p; p++)
		if ((p[0] == '4' || p[0] == '5') && p[1] == '.' &&
		    ascii_isdigit(p[2]) && (p == r->error || p[-1] == ' ')) {
			size_t n = strspn(p, "0123456789.");

			snprintf(out, size, "%.*s", (int)MIN(n, size - 1), p);
			return;
		}
	snprintf(out, size, "5.0.0");
}

static int
bounce_text(struct mta *mta, const struct queue_env *env,
    enum bounce_kind kind, const char *bnd, struct buf *b)
{
	const struct config *cfg = server_config(mta->srv);
	char date[64], until[64], error[QUEUE_ERROR_MAX];
	size_t i;
	int r;

	util_rfc5322_date(time(NULL), date, sizeof(date));
	util_rfc5322_date(env->created + (time_t)cfg->queue_max_age, until,
	    sizeof(until));
	r = buf_addf(b, "From: Mail Delivery System <MAILER-DAEMON@%s>\r\n"
	    "To: <%s>\r\nSubject: %s\r\n"
	    "Date: %s\r\nMessage-ID: <%s.%llx@%s>\r\n"
	    "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: multipart/report; report-type=delivery-status;\r\n"
	    "\tboundary=\"%s\"\r\n\r\n"
	    "This is a MIME-encapsulated message.\r\n\r\n--%s\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n\r\n"
	    "This is the mail system at %s.\r\n\r\n", mta_hostname(mta),
	    env->from, kind == BOUNCE_DELAYED ?
	    "Delayed Mail (still being retried)" :
	    "Undelivered Mail Returned to Sender", date, env->qid,
	    (unsigned long long)util_random_u64(), mta_hostname(mta), bnd, bnd,
	    mta_hostname(mta));
	if (kind == BOUNCE_DELAYED)
		r |= buf_addf(b, "Your message has not been delivered yet to "
		    "the recipients below.\r\nThis is only a warning: it will "
		    "be tried again until\r\n%s; you do not need to send it "
		    "again.\r\n\r\n", until);
	else
		r |= buf_adds(b, "Your message could not be delivered to one "
		    "or more recipients.\r\nThe reasons are below.\r\n\r\n");
	for (i = 0; i < env->nrcpts; i++)
		if (bounce_reported(&env->rcpts[i], kind))
			r |= buf_addf(b, "<%s>: %s%s\r\n", env->rcpts[i].addr,
			    env->rcpts[i].state == QUEUE_RCPT_EXPIRED ?
			    "delivery time expired; last error: " :
			    kind == BOUNCE_DELAYED ? "last error: " : "",
			    bounce_error(&env->rcpts[i], error, sizeof(error)));
	return r;
}

/* RFC 3464 2.2 and 2.3: per-message then per-recipient fields. */
static int
bounce_status_part(struct mta *mta, const struct queue_env *env,
    enum bounce_kind kind, const char *bnd, struct buf *b)
{
	const struct config *cfg = server_config(mta->srv);
	char date[64], until[64], status[16], error[QUEUE_ERROR_MAX];
	size_t i;
	int r;

	util_rfc5322_date(env->created, date, sizeof(date));
	util_rfc5322_date(env->created + (time_t)cfg->queue_max_age, until,
	    sizeof(until));
	r = buf_addf(b, "\r\n--%s\r\nContent-Type: message/delivery-status\r\n"
	    "\r\nReporting-MTA: dns; %s\r\nX-Facteur-Queue-ID: %s\r\n"
	    "Arrival-Date: %s\r\n", bnd, mta_hostname(mta), env->qid, date);
	for (i = 0; i < env->nrcpts; i++) {
		const struct queue_rcpt *rc = &env->rcpts[i];

		if (!bounce_reported(rc, kind))
			continue;
		bounce_status(rc, kind, status, sizeof(status));
		r |= buf_addf(b, "\r\nFinal-Recipient: rfc822; %s\r\n"
		    "Action: %s\r\nStatus: %s\r\n", rc->addr,
		    kind == BOUNCE_DELAYED ? "delayed" : "failed", status);
		if (rc->error[0])
			r |= buf_addf(b, "Diagnostic-Code: %s; %s\r\n",
			    ascii_isdigit(rc->error[0]) ? "smtp" : "x-facteur",
			    bounce_error(rc, error, sizeof(error)));
		/* RFC 3464 2.3.9: how long we keep trying. */
		if (kind == BOUNCE_DELAYED)
			r |= buf_addf(b, "Will-Retry-Until: %s\r\n", until);
	}
	return r;
}

/* The whole report; the human part lists each recipient's error. */
static int
bounce_build(struct mta *mta, const struct queue_env *env,
    enum bounce_kind kind, struct buf *b)
{
	char bnd[300];
	size_t mark;
	int r;

	snprintf(bnd, sizeof(bnd), "%s.%016llx/%s", env->qid,
	    (unsigned long long)util_random_u64(), mta_hostname(mta));
	r = bounce_text(mta, env, kind, bnd, b);
	r |= bounce_status_part(mta, env, kind, bnd, b);
	r |= buf_addf(b, "\r\n--%s\r\nContent-Type: text/rfc822-headers\r\n"
	    "\r\n", bnd);
	mark = buf_len(b);
	bounce_original_headers(mta, env->qid, b);
	if (buf_len(b) == mark)
		r |= buf_adds(b, "(the original message could not be read)\r\n");
	r |= buf_addf(b, "\r\n--%s--\r\n", bnd);
	return r;
}

static void
bounce_committed(void *arg, int error)
{
	struct bounce_wait *w = arg;

	if (error)
		log_err("event=bounce-failed qid=%s error=%s", w->qid,
		    log_qs(strerror(error)));
	else
		log_info("event=%s qid=%s", w->kind == BOUNCE_DELAYED ?
		    "delay-warning" : "bounce", w->qid);
	w->done(w->arg, error);
	free(w);
}

/* Where the report goes: the sender's mailbox here, or the queue. */
static void
bounce_route(struct mta *mta, const struct queue_env *env,
    struct commit_msg *msg, const char *bqid)
{
	const struct directory *dir = server_directory(mta->srv);
	struct dir_result res = { 0 };
	char local[SMTP_LOCAL_MAX + 1];
	const char *at = strrchr(env->from, '@');
	size_t i;

	if (at && str_copy(local, sizeof(local), str_make(env->from,
	    (size_t)(at - env->from))) == 0 &&
	    directory_resolve(dir, local, at + 1, &res) == DIR_OK) {
		for (i = 0; i < res.n; i++) {
			if (!res.v[i].local)
				continue;
			msg->mailboxes = xreallocarray(msg->mailboxes,
			    msg->nmailboxes + 1, sizeof(char *));
			msg->mailboxes[msg->nmailboxes++] =
			    xstrdup(res.v[i].addr);
		}
		dir_result_free(&res);
		if (msg->nmailboxes)
			return;
	}
	msg->queue = xcalloc(1, sizeof(*msg->queue));
	queue_env_init(msg->queue);
	cstr_copy(msg->queue->qid, sizeof(msg->queue->qid), bqid);
	msg->queue->created = time(NULL);
	if (env->flags & QUEUE_FLAG_SMTPUTF8)
		msg->queue->flags |= QUEUE_FLAG_SMTPUTF8;
	queue_env_add_rcpt(msg->queue, env->from, msg->queue->created);
}

void
bounce_send(struct mta *mta, const struct queue_env *env,
    enum bounce_kind kind, void (*done)(void *, int), void *arg)
{
	struct commit_msg msg = { 0 };
	struct bounce_wait *w;
	char dir[PATH_MAX], bqid[ID_LEN + 1];
	struct buf text, sig;

	if (env->from[0] == '\0' || env->auth[0] == '\0') {
		log_info("event=bounce-suppressed qid=%s reason=%s kind=%s",
		    env->qid, env->from[0] ? "unauthenticated-sender" :
		    "null-sender", kind == BOUNCE_DELAYED ? "delayed" :
		    "failed");
		done(arg, 0);
		return;
	}
	buf_init(&text, BUF_NOCAP);
	if (bounce_build(mta, env, kind, &text) == -1) {
		log_err("event=bounce-failed qid=%s error=\"cannot build\"",
		    env->qid);
		buf_release(&text);
		done(arg, EINVAL);
		return;
	}
	/* Reports are signed like user mail (RFC 6376; DMARC alignment). */
	buf_init(&sig, 64 * 1024);
	if (dkim_store_sign_mem(server_dkim(mta->srv), mta_hostname(mta),
	    buf_data(&text), buf_len(&text), &sig) == 0)
		msg.headers = buf_detach(&sig, &msg.headers_len);
	buf_release(&sig);
	snprintf(dir, sizeof(dir), "%s/queue/tmp", mta_data_dir(mta));
	msg.spool = spool_new(dir);
	if (spool_write(msg.spool, buf_data(&text), buf_len(&text)) == -1) {
		int saved = errno;

		log_err("event=bounce-failed qid=%s error=%s", env->qid,
		    log_qs(strerror(saved)));
		buf_release(&text);
		commit_msg_release(&msg);
		done(arg, saved);
		return;
	}
	buf_release(&text);
	msg.return_path = xstrdup("");
	util_random_id(bqid);
	bounce_route(mta, env, &msg, bqid);
	w = xcalloc(1, sizeof(*w));
	w->done = done;
	w->arg = arg;
	w->kind = kind;
	cstr_copy(w->qid, sizeof(w->qid), env->qid);
	commit_submit(server_commit(mta->srv), &msg, bounce_committed, w);
}
