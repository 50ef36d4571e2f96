/*
 * test_workq.c - every job's done() runs on the loop, once, however the
 * threads finish: a worker wakes the loop only when its finished list was
 * empty, so jobs that finish together must all be reaped by one wake-up.
 */
#include "core/common.h"

#include <event2/event.h>
#include <stdatomic.h>

#include "core/workq.h"
#include "unit/unit.h"

#define JOBS 20000

struct count {
	atomic_uint	 worked;
	unsigned	 done;
	unsigned	 twice;
	unsigned char	 seen[JOBS];
	struct event_base *base;
};

struct job {
	struct count	*c;
	unsigned	 i;
};

static void
job_work(void *arg)
{
	struct job *j = arg;

	atomic_fetch_add(&j->c->worked, 1);
}

static void
job_done(void *arg)
{
	struct job *j = arg;

	if (j->c->seen[j->i]++)
		j->c->twice++;
	if (++j->c->done == JOBS)
		event_base_loopbreak(j->c->base);
	free(j);
}

static void
on_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopbreak(arg);
}

TEST(workq_every_done_runs_once)
{
	static struct count c;
	struct timeval limit = { 30, 0 };
	struct event *timeout;
	struct workq *wq;
	unsigned i;

	c.base = event_base_new();
	CHECK(c.base != NULL);
	wq = workq_new(c.base, 8);
	timeout = evtimer_new(c.base, on_timeout, c.base);
	evtimer_add(timeout, &limit);
	for (i = 0; i < JOBS; i++) {
		struct job *j = xcalloc(1, sizeof(*j));

		j->c = &c;
		j->i = i;
		workq_submit(wq, job_work, job_done, j);
	}
	event_base_dispatch(c.base);
	CHECK_EQ_INT(c.done, JOBS);	/* not stopped by the 30 s limit */
	CHECK_EQ_INT(atomic_load(&c.worked), JOBS);
	CHECK_EQ_INT(c.twice, 0);
	workq_free(&wq);
	CHECK(wq == NULL);
	event_free(timeout);
	event_base_free(c.base);
}

/* workq_free() waits for what is queued and runs its done callbacks. */
TEST(workq_free_reaps_pending_jobs)
{
	static struct count c;
	struct workq *wq;
	unsigned i;

	c.base = event_base_new();
	wq = workq_new(c.base, 2);
	for (i = 0; i < 1000; i++) {
		struct job *j = xcalloc(1, sizeof(*j));

		j->c = &c;
		j->i = i;
		workq_submit(wq, job_work, job_done, j);
	}
	workq_free(&wq);
	CHECK_EQ_INT(c.done, 1000);
	CHECK_EQ_INT(c.twice, 0);
	event_base_free(c.base);
}
