/*
 * workq.c - see workq.h.
 */
#include "core/common.h"

#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/log.h"
#include "core/workq.h"

#define WORKQ_THREADS_MAX 16

struct workq_job {
	struct workq_job	*next;
	workq_work_fn		 work;
	workq_done_fn		 done;		/* NULL once forgotten */
	void			(*free_arg)(void *);
	void			*arg;
};

struct workq {
	pthread_t		 threads[WORKQ_THREADS_MAX];
	unsigned		 nthreads;
	pthread_mutex_t		 lock;
	pthread_cond_t		 cond;
	struct workq_job	*pending, **pending_tail;
	struct workq_job	*finished;
	bool			 stopping;
	int			 efd;
	struct event		*ev;
};

static void *
workq_thread(void *arg)
{
	struct workq *wq = arg;
	struct workq_job *job;
	uint64_t one = 1;
	bool wake;

	pthread_mutex_lock(&wq->lock);
	for (;;) {
		while (wq->pending == NULL && !wq->stopping)
			pthread_cond_wait(&wq->cond, &wq->lock);
		if ((job = wq->pending) == NULL)
			break;
		wq->pending = job->next;
		if (wq->pending == NULL)
			wq->pending_tail = &wq->pending;
		pthread_mutex_unlock(&wq->lock);
		job->work(job->arg);
		pthread_mutex_lock(&wq->lock);
		wake = wq->finished == NULL;
		job->next = wq->finished;
		wq->finished = job;
		/*
		 * Only the job that makes the list non-empty wakes the loop
		 * (the others are reaped with it), and outside the lock, so
		 * that threads finishing together do not queue on it behind
		 * a system call.
		 */
		if (wake) {
			pthread_mutex_unlock(&wq->lock);
			if (write(wq->efd, &one, sizeof(one)) < 0) {
				/* saturated counter: the loop is awake anyway */
			}
			pthread_mutex_lock(&wq->lock);
		}
	}
	pthread_mutex_unlock(&wq->lock);
	return NULL;
}

static void
workq_reap(struct workq *wq)
{
	struct workq_job *list, *job;

	pthread_mutex_lock(&wq->lock);
	list = wq->finished;
	wq->finished = NULL;
	pthread_mutex_unlock(&wq->lock);
	while ((job = list) != NULL) {
		list = job->next;
		if (job->done)
			job->done(job->arg);
		else if (job->free_arg)
			job->free_arg(job->arg);
		free(job);
	}
}

static void
workq_on_wake(evutil_socket_t fd, short what, void *arg)
{
	uint64_t n;

	(void)what;
	if (read(fd, &n, sizeof(n)) < 0) {
		/* EAGAIN: drained by an earlier wake-up */
	}
	workq_reap(arg);
}

struct workq *
workq_new(struct event_base *base, unsigned nthreads)
{
	struct workq *wq = xcalloc(1, sizeof(*wq));
	unsigned i;

	pthread_mutex_init(&wq->lock, NULL);
	pthread_cond_init(&wq->cond, NULL);
	wq->pending_tail = &wq->pending;
	wq->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (wq->efd == -1)
		fatal("eventfd: %s", strerror(errno));
	wq->ev = event_new(base, wq->efd, EV_READ | EV_PERSIST, workq_on_wake,
	    wq);
	if (wq->ev == NULL || event_add(wq->ev, NULL) == -1)
		fatal("workq: cannot register its event");
	wq->nthreads = MIN(MAX(nthreads, 1u), (unsigned)WORKQ_THREADS_MAX);
	for (i = 0; i < wq->nthreads; i++)
		if ((errno = pthread_create(&wq->threads[i], NULL,
		    workq_thread, wq)) != 0)
			fatal("workq: pthread_create: %s", strerror(errno));
	return wq;
}

void
workq_free(struct workq **wqp)
{
	struct workq *wq = *wqp;
	unsigned i;

	if (wq == NULL)
		return;
	pthread_mutex_lock(&wq->lock);
	wq->stopping = true;
	pthread_cond_broadcast(&wq->cond);
	pthread_mutex_unlock(&wq->lock);
	for (i = 0; i < wq->nthreads; i++)
		pthread_join(wq->threads[i], NULL);
	workq_reap(wq);
	event_free(wq->ev);
	close(wq->efd);
	pthread_mutex_destroy(&wq->lock);
	pthread_cond_destroy(&wq->cond);
	XFREE(wqp);
}

struct workq_job *
workq_submit(struct workq *wq, workq_work_fn work, workq_done_fn done,
    void *arg)
{
	struct workq_job *job = xcalloc(1, sizeof(*job));

	job->work = work;
	job->done = done;
	job->arg = arg;
	pthread_mutex_lock(&wq->lock);
	*wq->pending_tail = job;
	wq->pending_tail = &job->next;
	pthread_cond_signal(&wq->cond);
	pthread_mutex_unlock(&wq->lock);
	return job;
}

void
workq_forget(struct workq_job *job, void (*free_arg)(void *))
{
	job->done = NULL;
	job->free_arg = free_arg;
}
