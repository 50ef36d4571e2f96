/*
 * pop3_job.c - the maildrop's disk work on the server's workq: at login,
 * locking, moving new/ to cur/ and listing (a directory of thousands of
 * files, or a slow disk, must not stall the other sessions); at QUIT, the
 * unlinks and the fsync of the UPDATE state.
 *
 * The job owns the maildrop while it runs. If the session goes first
 * (the client hung up), the job is forgotten: it still finishes, so a
 * QUIT that was received is carried out, then frees the maildrop, which
 * releases the lock.
 */
#include "core/common.h"

#include <limits.h>

#include "core/workq.h"
#include "pop3/pop3_int.h"

enum pop3_job_kind {
	POP3_JOB_OPEN,
	POP3_JOB_COMMIT,
};

struct pop3_job {
	enum pop3_job_kind	 kind;
	struct pop3_session	*s;
	struct workq_job	*wj;
	char			 data_dir[PATH_MAX];
	char			 user[SMTP_ADDR_TEXT_MAX];
	struct pop3_maildrop	*md;
	enum pop3_md_status	 status;	/* OPEN */
	int			 err;
	int			 rc;		/* COMMIT */
	struct pop3_md_commit	 result;
};

static void
pop3_job_work(void *arg)
{
	struct pop3_job *job = arg;

	if (job->kind == POP3_JOB_OPEN)
		job->status = pop3_maildrop_open(job->data_dir, job->user,
		    &job->md, &job->err);
	else
		job->rc = pop3_maildrop_commit(job->md, &job->result);
}

static void
pop3_job_free(void *arg)
{
	struct pop3_job *job = arg;

	pop3_maildrop_free(&job->md);
	free(job);
}

static void
pop3_job_done(void *arg)
{
	struct pop3_job *job = arg;
	struct pop3_session *s = job->s;

	s->job = NULL;
	if (s->state == POP3_STATE_CLOSING) {
		/* Closed meanwhile (a timeout): nobody to answer. */
		pop3_job_free(job);
		return;
	}
	if (job->kind == POP3_JOB_OPEN) {
		pop3_login_done(s, job->status, job->md, job->err);
		job->md = NULL;		/* the session's now */
	} else {
		/* Unlocked before "+OK": the client may come back at once. */
		pop3_maildrop_free(&job->md);
		pop3_update_done(s, job->rc, &job->result);
	}
	pop3_job_free(job);
}

/* The session's input is paused until the job is done. */
static void
pop3_job_submit(struct pop3_session *s, struct pop3_job *job)
{
	job->s = s;
	s->job = job;
	job->wj = workq_submit(server_workq(s->srv), pop3_job_work,
	    pop3_job_done, job);
}

void
pop3_job_open(struct pop3_session *s)
{
	struct pop3_job *job = xcalloc(1, sizeof(*job));

	job->kind = POP3_JOB_OPEN;
	cstr_copy(job->data_dir, sizeof(job->data_dir),
	    server_config(s->srv)->data_dir);
	cstr_copy(job->user, sizeof(job->user), s->user);
	pop3_job_submit(s, job);
}

void
pop3_job_commit(struct pop3_session *s)
{
	struct pop3_job *job = xcalloc(1, sizeof(*job));

	job->kind = POP3_JOB_COMMIT;
	job->md = s->md;
	s->md = NULL;
	pop3_job_submit(s, job);
}

void
pop3_job_forget(struct pop3_session *s)
{
	if (s->job == NULL)
		return;
	workq_forget(s->job->wj, pop3_job_free);
	s->job = NULL;
}
