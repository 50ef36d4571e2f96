/*
 * mta.c - see mta.h: the queue runner.
 *
 * An entry moves through: loaded or enqueued -> recipients due at the
 * tick -> jobs on destinations -> results -> envelope saved (a worker
 * thread) -> when no recipient is pending: report failures, remove.
 * An entry whose envelope is being saved is not scheduled: its state on
 * disk and in memory converge before anything else happens to it.
 */
#include "core/common.h"

#include <errno.h>
#include <event2/event.h>
#include <openssl/ssl.h>

#include "config/config.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "core/map.h"
#include "delivery/mta_int.h"
#include "dns/dns.h"
#include "queue/queue_store.h"
#include "server/server.h"

#define MTA_TICK_MS 1000
#define MTA_ROUTE_TTL 300
/* After a peer refused a session, how long its window does not grow. */
#define MTA_CAP_HOLD 300


const char *
mta_data_dir(const struct mta *mta)
{
	return server_config(mta->srv)->data_dir;
}

const char *
mta_hostname(const struct mta *mta)
{
	return server_config(mta->srv)->hostname;
}

bool
mta_is_relay(const struct mta *mta)
{
	return server_config(mta->srv)->relay_host != NULL;
}

static struct mta_entry *
mta_entry_new(struct mta *mta, struct queue_env *env)
{
	struct mta_entry *e = xcalloc(1, sizeof(*e));

	e->env = *env;
	memset(env, 0, sizeof(*env));
	e->busy = xcalloc(e->env.nrcpts ? e->env.nrcpts : 1, sizeof(bool));
	if (map_put(mta->index, e->env.qid, strlen(e->env.qid), e) != NULL)
		log_err("event=queue-duplicate-id qid=%s", e->env.qid);
	e->next = mta->entries;
	if (mta->entries)
		mta->entries->prev = e;
	mta->entries = e;
	return e;
}

void
mta_entry_free(struct mta *mta, struct mta_entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		mta->entries = e->next;
	if (e->next)
		e->next->prev = e->prev;
	if (map_get(mta->index, e->env.qid, strlen(e->env.qid)) == e)
		map_del(mta->index, e->env.qid, strlen(e->env.qid));
	queue_env_release(&e->env);
	free(e->busy);
	free(e);
}

struct mta_entry *
mta_entry_find(struct mta *mta, const char *qid)
{
	return map_get(mta->index, qid, strlen(qid));
}

static bool
mta_entry_all_sent(const struct mta_entry *e)
{
	size_t i;

	for (i = 0; i < e->env.nrcpts; i++)
		if (e->env.rcpts[i].state != QUEUE_RCPT_SENT)
			return false;
	return true;
}

static bool
mta_entry_complete(const struct mta_entry *e)
{
	size_t i;

	for (i = 0; i < e->env.nrcpts; i++)
		if (e->env.rcpts[i].state == QUEUE_RCPT_PENDING)
			return false;
	return true;
}

struct mta_bounce_wait {
	struct mta		*mta;
	char			 qid[ID_LEN + 1];
};

static void
mta_bounce_done(void *arg, int error)
{
	struct mta_bounce_wait *w = arg;
	struct mta_entry *e = mta_entry_find(w->mta, w->qid);

	if (e != NULL) {
		e->saving = false;
		if (error == 0) {
			e->env.flags |= QUEUE_FLAG_REPORTED;
			e->dirty = true;
			mta_entry_settle(w->mta, e);
		}
	}
	free(w);
}

/* No recipient pending: report the failures (if any), then remove. */
static void
mta_entry_finish(struct mta *mta, struct mta_entry *e)
{
	size_t i;
	bool failed = false;

	for (i = 0; i < e->env.nrcpts; i++)
		failed |= e->env.rcpts[i].state == QUEUE_RCPT_FAILED ||
		    e->env.rcpts[i].state == QUEUE_RCPT_EXPIRED;
	if (failed && !(e->env.flags & QUEUE_FLAG_REPORTED) &&
	    (!e->doomed || e->doom_bounce)) {
		struct mta_bounce_wait *w = xcalloc(1, sizeof(*w));

		w->mta = mta;
		cstr_copy(w->qid, sizeof(w->qid), e->env.qid);
		e->saving = true;
		bounce_send(mta, &e->env, BOUNCE_FAILED, mta_bounce_done, w);
		return;
	}
	mta_io_start(mta, e, true);
}

/* After results or a save: save again if needed, else finish if done. */
void
mta_entry_settle(struct mta *mta, struct mta_entry *e)
{
	/* Stopping: mta_free() saves what changed, synchronously. */
	if (e->saving || e->inflight || server_stopping(mta->srv))
		return;
	/*
	 * Every recipient sent: remove the entry without saving its final
	 * state first. Dying between the save and the removal would leave
	 * the same thing on disk as dying before the save: the recipients
	 * sent since the last save are sent again (the duplicate SMTP
	 * accepts to never lose mail). Failures are saved first, so that a
	 * report is never made twice.
	 */
	if (e->dirty && !mta_entry_all_sent(e)) {
		mta_io_start(mta, e, false);
		return;
	}
	if (mta_entry_complete(e))
		mta_entry_finish(mta, e);
}

/* Exponential backoff: retry_min, doubled per attempt, up to retry_max. */
static time_t
mta_backoff(const struct config *cfg, unsigned attempts)
{
	uint64_t d = cfg->queue_retry_min;

	while (attempts-- > 1 && d < cfg->queue_retry_max)
		d *= 2;
	return (time_t)MIN(d, cfg->queue_retry_max);
}

/*
 * Seconds since the entry was queued; 0 when the clock went back past
 * it (a step of NTP, a resumed VM), where the difference cast to
 * unsigned made every temporary failure an expiry.
 */
static uint64_t
mta_entry_age(const struct mta_entry *e, time_t now)
{
	return now > e->env.created ? (uint64_t)(now - e->env.created) : 0;
}

void
mta_job_result(struct mta *mta, struct mta_job *job, size_t i, int code,
    const char *enh, const char *text)
{
	const struct config *cfg = server_config(mta->srv);
	struct queue_rcpt *r = &job->entry->env.rcpts[job->rcpts[i]];
	time_t now = time(NULL);
	const char *what;

	if (job->done[i])
		return;
	job->done[i] = true;
	r->attempts++;
	if (code >= 200 && code < 300) {
		r->state = QUEUE_RCPT_SENT;
		r->error[0] = '\0';
		what = "sent";
	} else {
		snprintf(r->error, sizeof(r->error), "%s%s%s", text,
		    enh && enh[0] && !strstr(text, enh) ? " " : "",
		    enh && enh[0] && !strstr(text, enh) ? enh : "");
		/*
		 * The text holds what remote hosts and DNS said; it becomes
		 * a line of the envelope and of the failure report, where
		 * a CR or LF would start a line of their choosing.
		 */
		cstr_unctrl(r->error);
		if (code >= 500) {
			r->state = QUEUE_RCPT_FAILED;
			what = "failed";
		} else if (mta_entry_age(job->entry, now) >=
		    cfg->queue_max_age) {
			r->state = QUEUE_RCPT_EXPIRED;
			what = "expired";
		} else {
			r->next_try = now + mta_backoff(cfg, r->attempts);
			what = "deferred";
		}
	}
	job->entry->dirty = true;
	log_info("event=%s qid=%s to=%s attempts=%u reply=%s", what,
	    job->entry->env.qid, log_qs(r->addr), r->attempts,
	    log_qs(code >= 200 && code < 300 ? text : r->error));
}

void
mta_job_finish(struct mta *mta, struct mta_job *job)
{
	struct mta_entry *e = job->entry;
	size_t i;

	for (i = 0; i < job->nrcpts; i++) {
		if (!job->done[i])
			mta_job_result(mta, job, i, 451, "4.4.2",
			    "delivery interrupted");
		e->busy[job->rcpts[i]] = false;
	}
	e->inflight--;
	free(job);
	mta_entry_settle(mta, e);
}

static struct mta_dest *
mta_dest_get(struct mta *mta, const char *domain)
{
	const struct config *cfg = server_config(mta->srv);
	struct mta_dest *d;

	for (d = mta->dests; d; d = d->next)
		if (strcmp(d->domain, domain) == 0)
			return d;
	d = xcalloc(1, sizeof(*d));
	d->mta = mta;
	cstr_copy(d->domain, sizeof(d->domain), domain);
	d->relay = strcmp(domain, MTA_RELAY_DEST) == 0;
	d->jobs_tail = &d->jobs;
	d->window = (unsigned)MIN(cfg->delivery_initial_per_domain,
	    cfg->delivery_max_per_domain);
	d->next = mta->dests;
	mta->dests = d;
	return d;
}

struct mta_job *
mta_dest_take(struct mta_dest *dest)
{
	struct mta_job *job = dest->jobs;

	if (job == NULL)
		return NULL;
	dest->jobs = job->next;
	if (dest->jobs == NULL)
		dest->jobs_tail = &dest->jobs;
	dest->njobs--;
	job->next = NULL;
	return job;
}

void
mta_dest_fail_all(struct mta_dest *dest, bool permanent, const char *enh,
    const char *text)
{
	struct mta_job *job;
	size_t i;

	while ((job = mta_dest_take(dest)) != NULL) {
		for (i = 0; i < job->nrcpts; i++)
			mta_job_result(dest->mta, job, i, permanent ? 550 : 451,
			    enh, text);
		mta_job_finish(dest->mta, job);
	}
}

void
mta_dest_run(struct mta_dest *dest)
{
	struct mta *mta = dest->mta;
	const struct config *cfg = server_config(mta->srv);
	time_t now = time(NULL);

	if (dest->njobs == 0)
		return;
	if (dest->route_state == MTA_ROUTE_READY && dest->sessions == 0 &&
	    now - dest->route_time > MTA_ROUTE_TTL)
		dest->route_state = MTA_ROUTE_NONE;
	/* The smarthost went in a reload: not its cached addresses either. */
	if (dest->relay && dest->route_state == MTA_ROUTE_READY &&
	    !mta_is_relay(mta))
		dest->route_state = MTA_ROUTE_NONE;
	switch (dest->route_state) {
	case MTA_ROUTE_NONE:
		mta_route_start(dest);
		return;
	case MTA_ROUTE_RESOLVING:
		return;
	case MTA_ROUTE_FAILED:
		dest->route_state = MTA_ROUTE_NONE;	/* fresh next time */
		mta_dest_fail_all(dest, dest->route_permanent,
		    dest->route_permanent ? "5.1.2" : "4.4.3",
		    dest->route_error);
		return;
	case MTA_ROUTE_READY:
		break;
	}
	while (dest->njobs > dest->sessions && dest->sessions < dest->window &&
	    mta->sessions < cfg->delivery_max_connections)
		mta_session_start(dest);
}

/*
 * How many sessions a destination gets, adapted to what it takes, as
 * Postfix's queue manager does (its initial_destination_concurrency,
 * destination_concurrency_limit and feedback). A destination starts at
 * [delivery] initial_per_domain sessions. Each message delivered while
 * that window is in full use and more mail waits is a credit; a window's
 * worth of credits opens one more session, up to max_per_domain. Mail
 * that trickles in never grows it: one message needs one session.
 */
void
mta_dest_delivered(struct mta_dest *dest)
{
	const struct config *cfg = server_config(dest->mta->srv);

	if ((dest->capped_at != 0 &&
	    time(NULL) - dest->capped_at < MTA_CAP_HOLD) ||
	    dest->sessions < dest->window ||
	    dest->njobs == 0 || dest->window >= cfg->delivery_max_per_domain ||
	    ++dest->credit < dest->window)
		return;
	dest->credit = 0;
	dest->window++;
	log_debug("event=mta-concurrency domain=%s window=%u reason=backlog",
	    log_qs(dest->domain), dest->window);
	mta_dest_run(dest);
}

/*
 * The peer refused or dropped a session before its first transaction
 * (greeting, EHLO, STARTTLS) while it holds `held` other sessions on the
 * same address: it has had enough of us (receivers limit the
 * connections of one client, often with a 421 at the greeting). The
 * window drops to the sessions it took and does not grow for
 * MTA_CAP_HOLD: no refused connection every few messages to probe again.
 * It is forgotten with the destination, once nothing waits for it.
 */
void
mta_dest_throttled(struct mta_dest *dest, unsigned held)
{
	if (held == 0)
		return;		/* down, not throttling: the retry rules */
	dest->capped_at = time(NULL);
	dest->credit = 0;
	if (dest->window <= held)
		return;
	dest->window = held;
	log_info("event=mta-concurrency domain=%s window=%u reason=refused",
	    log_qs(dest->domain), dest->window);
}

/* The delay warning is stored (or was not needed): remember it was sent. */
static void
mta_warn_done(void *arg, int error)
{
	struct mta_bounce_wait *w = arg;
	struct mta_entry *e = mta_entry_find(w->mta, w->qid);

	if (e != NULL) {
		e->saving = false;
		if (error == 0) {
			e->env.flags |= QUEUE_FLAG_WARNED;
			e->dirty = true;
		} else {
			/*
			 * Not again at every tick (a full disk, a mailbox
			 * that refuses it), which also kept the entry from
			 * being scheduled at all: delivery goes on, and the
			 * warning is tried again a retry later.
			 */
			e->warn_retry = time(NULL) + (time_t)server_config(
			    w->mta->srv)->queue_retry_min;
		}
		mta_entry_settle(w->mta, e);
	}
	free(w);
}

/*
 * Once per message, when recipients are still pending [queue]
 * delay_warning after it was queued: tell the sender it is late but not
 * lost (RFC 3464 "delayed"). Like failure reports, only to a sender who
 * authenticated. Returns true when a warning is on its way.
 */
static bool
mta_entry_warn(struct mta *mta, struct mta_entry *e, time_t now)
{
	const struct config *cfg = server_config(mta->srv);
	struct mta_bounce_wait *w;

	if (cfg->queue_delay_warning == 0 || (e->env.flags &
	    QUEUE_FLAG_WARNED) || e->saving || e->doomed ||
	    now < e->warn_retry ||
	    mta_entry_age(e, now) < cfg->queue_delay_warning ||
	    mta_entry_complete(e))
		return false;
	w = xcalloc(1, sizeof(*w));
	w->mta = mta;
	cstr_copy(w->qid, sizeof(w->qid), e->env.qid);
	e->saving = true;
	bounce_send(mta, &e->env, BOUNCE_DELAYED, mta_warn_done, w);
	return true;
}

/* Groups an entry's due recipients into jobs, one per destination. */
static size_t
mta_schedule_entry(struct mta *mta, struct mta_entry *e, time_t now)
{
	struct mta_job *jobs[MTA_JOB_RCPTS_MAX];
	const char *doms[MTA_JOB_RCPTS_MAX];
	size_t njobs = 0, i, j;

	for (i = 0; i < e->env.nrcpts; i++) {
		struct queue_rcpt *r = &e->env.rcpts[i];
		const char *at = strrchr(r->addr, '@');
		const char *dom = mta_is_relay(mta) ? MTA_RELAY_DEST :
		    at ? at + 1 : "";

		if (r->state != QUEUE_RCPT_PENDING || e->busy[i] ||
		    r->next_try > now)
			continue;
		for (j = 0; j < njobs; j++)
			if (strcasecmp(doms[j], dom) == 0 &&
			    jobs[j]->nrcpts < MTA_JOB_RCPTS_MAX)
				break;
		if (j == njobs) {
			if (njobs == ARRAY_LEN(jobs))
				break;	/* the rest at the next tick */
			jobs[njobs] = xcalloc(1, sizeof(struct mta_job));
			jobs[njobs]->entry = e;
			doms[njobs++] = dom;
		}
		jobs[j]->rcpts[jobs[j]->nrcpts++] = i;
		e->busy[i] = true;
	}
	for (j = 0; j < njobs; j++) {
		char dom[256];
		struct mta_dest *d;

		cstr_copy(dom, sizeof(dom), doms[j]);
		ascii_lower_inplace(dom, strlen(dom));
		d = mta_dest_get(mta, dom);
		*d->jobs_tail = jobs[j];
		d->jobs_tail = &jobs[j]->next;
		d->njobs++;
		e->inflight++;
	}
	return njobs;
}

/*
 * An entry's due recipients sent now, not at the next tick: a new
 * entry, or one whose save ended after a flush made it due (the flush's
 * scheduling passed it by while it was being saved).
 */
void
mta_entry_go(struct mta *mta, struct mta_entry *e)
{
	struct mta_dest *d;

	if (e->saving || e->doomed || server_stopping(mta->srv) ||
	    mta_schedule_entry(mta, e, time(NULL)) == 0)
		return;
	for (d = mta->dests; d; d = d->next)
		mta_dest_run(d);
}

/* Destinations with nothing left to do are forgotten. */
static void
mta_dests_gc(struct mta *mta)
{
	struct mta_dest **dp = &mta->dests, *d;

	while ((d = *dp) != NULL) {
		if (d->njobs == 0 && d->sessions == 0 &&
		    d->route_state != MTA_ROUTE_RESOLVING) {
			*dp = d->next;
			free(d);
		} else {
			dp = &d->next;
		}
	}
}

static void
mta_schedule(struct mta *mta)
{
	struct mta_entry *e, *next;
	struct mta_dest *d;
	time_t now = time(NULL);

	if (server_stopping(mta->srv))
		return;
	for (e = mta->entries; e; e = next) {
		next = e->next;
		/* Done already (e.g. loaded after a crash before removal). */
		if (e->doomed || (!e->saving && !e->inflight &&
		    mta_entry_complete(e)))
			mta_entry_settle(mta, e);
		else if (!e->saving && !mta_entry_warn(mta, e, now))
			mta_schedule_entry(mta, e, now);
	}
	for (d = mta->dests; d; d = d->next)
		mta_dest_run(d);
	mta_dests_gc(mta);
}

static void
mta_on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	mta_schedule(arg);
}

static void
mta_load_one(void *arg, struct queue_env *env)
{
	/* Entries already final (a crash before removal) finish at the
	 * first tick, like any other. Whether its state is in a .env is
	 * not told: its removal unlinks both. */
	mta_entry_new(arg, env)->env_file = true;
}

static SSL_CTX *
mta_tls_client_ctx(void)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL)
		fatal("cannot create the TLS client context");
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_default_verify_paths(ctx);
	/* Opportunistic (RFC 7435): verify, record, but do not fail. */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	return ctx;
}

static void
mta_read_relay_password(struct mta *mta)
{
	const struct config *cfg = server_config(mta->srv);
	struct buf b;

	explicit_bzero(mta->relay_password, sizeof(mta->relay_password));
	if (cfg->relay_password_file == NULL)
		return;
	buf_init(&b, sizeof(mta->relay_password) - 1);
	if (fs_read_file(cfg->relay_password_file, &b) == -1)
		log_err("event=relay-password-unreadable path=%s error=%s",
		    log_qs(cfg->relay_password_file), log_qs(strerror(errno)));
	else
		str_copy(mta->relay_password, sizeof(mta->relay_password),
		    str_make(buf_data(&b), strcspn(buf_data(&b), "\r\n")));
	buf_release_secret(&b);
}

struct mta *
mta_new(struct server *srv)
{
	struct mta *mta = xcalloc(1, sizeof(*mta));
	struct timeval tv = { 0, MTA_TICK_MS * 1000 };
	struct buf errors;
	int n;

	mta->srv = srv;
	mta->index = map_new();
	mta_io_init(mta);
	mta->tls = mta_tls_client_ctx();
	mta_read_relay_password(mta);
	buf_init(&errors, 64 * 1024);
	n = queue_store_scan(mta_data_dir(mta), mta_load_one, mta, &errors);
	if (buf_len(&errors))
		log_err("event=queue-corrupt errors=%s",
		    log_qs(buf_cstr(&errors)));
	buf_release(&errors);
	log_info("event=queue-loaded entries=%d", n);
	mta->tick = event_new(server_base(srv), -1, EV_PERSIST, mta_on_tick,
	    mta);
	event_add(mta->tick, &tv);
	return mta;
}

void
mta_free(struct mta **mtap)
{
	struct mta *mta = *mtap;
	struct mta_dest *d;

	if (mta == NULL)
		return;
	mta_session_abort_all(mta);
	event_free(mta->tick);
	mta_io_end(mta);
	for (d = mta->dests; d; d = d->next)
		mta_route_cancel(d);
	while (mta->entries) {
		if (mta->entries->dirty && queue_store_save(mta_data_dir(mta),
		    &mta->entries->env) == -1)
			log_err("event=queue-write-failed qid=%s error=%s",
			    mta->entries->env.qid, log_qs(strerror(errno)));
		mta_entry_free(mta, mta->entries);
	}
	while ((d = mta->dests) != NULL) {
		struct mta_job *job;

		mta->dests = d->next;
		while ((job = mta_dest_take(d)) != NULL)
			free(job);	/* its recipients stay pending on disk */
		free(d);
	}
	map_free(&mta->index, NULL);
	SSL_CTX_free(mta->tls);
	explicit_bzero(mta->relay_password, sizeof(mta->relay_password));
	XFREE(mtap);
}

void
mta_enqueue(struct mta *mta, struct queue_env *env)
{
	struct mta_entry *e = mta_entry_new(mta, env);

	free(env);
	/* Not mta_schedule(): a backlog must not be walked per message. */
	mta_entry_go(mta, e);
}

size_t
mta_flush(struct mta *mta, const char *qid)
{
	struct mta_entry *e;
	size_t i, n = 0;

	for (e = mta->entries; e; e = e->next) {
		if (qid && strcmp(e->env.qid, qid) != 0)
			continue;
		for (i = 0; i < e->env.nrcpts; i++)
			if (e->env.rcpts[i].state == QUEUE_RCPT_PENDING)
				e->env.rcpts[i].next_try = 0;
		n++;
	}
	mta_schedule(mta);
	return n;
}

/*
 * The jobs of e that wait for a session go without a word (e is being
 * deleted by the administrator: its recipients failed with that
 * reason). One in a transaction already is not called back.
 */
static void
mta_drop_jobs(struct mta *mta, struct mta_entry *e)
{
	struct mta_job **jp, *job, *dropped = NULL;
	struct mta_dest *d;
	size_t i;

	for (d = mta->dests; d; d = d->next) {
		for (jp = &d->jobs; (job = *jp) != NULL;) {
			if (job->entry != e) {
				jp = &job->next;
				continue;
			}
			*jp = job->next;
			d->njobs--;
			job->next = dropped;
			dropped = job;
		}
		d->jobs_tail = jp;	/* the list's last next pointer */
	}
	/* Finished once off every list: finishing may settle the entry. */
	while ((job = dropped) != NULL) {
		dropped = job->next;
		for (i = 0; i < job->nrcpts; i++)
			job->done[i] = true;
		mta_job_finish(mta, job);
	}
}

int
mta_delete(struct mta *mta, const char *qid, bool bounce)
{
	struct mta_entry *e = mta_entry_find(mta, qid);
	size_t i;

	if (e == NULL)
		return -1;
	for (i = 0; i < e->env.nrcpts; i++)
		if (e->env.rcpts[i].state == QUEUE_RCPT_PENDING) {
			e->env.rcpts[i].state = QUEUE_RCPT_FAILED;
			cstr_copy(e->env.rcpts[i].error, QUEUE_ERROR_MAX,
			    "deleted from the queue by the administrator");
		}
	e->doomed = true;
	e->doom_bounce = bounce;
	/*
	 * No report wanted: say so on disk, so that an entry a crash brings
	 * back (its removal was not yet durable) is not reported then.
	 */
	if (!bounce)
		e->env.flags |= QUEUE_FLAG_REPORTED;
	e->dirty = true;	/* saved before the report and the removal */
	log_info("event=queue-delete qid=%s bounce=%s", qid, bounce ? "yes" :
	    "no");
	mta_drop_jobs(mta, e);	/* may settle it */
	mta_entry_settle(mta, e);
	return 0;
}

void
mta_stop(struct mta *mta)
{
	mta_session_abort_all(mta);
}

void
mta_reload(struct mta *mta)
{
	mta_read_relay_password(mta);
}
