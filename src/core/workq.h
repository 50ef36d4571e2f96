/*
 * workq.h - run slow, blocking work (password hashing) on a few threads
 * and get the result back on the event loop.
 *
 * work() runs on a worker thread and must only touch its argument; done()
 * runs later on the loop thread. A job whose owner went away is forgotten
 * with workq_forget(): work still runs, done() does not.
 */
#ifndef FACTEUR_WORKQ_H
#define FACTEUR_WORKQ_H

#include <stddef.h>

struct event_base;
struct workq;
struct workq_job;

typedef void (*workq_work_fn)(void *arg);
typedef void (*workq_done_fn)(void *arg);

struct workq *workq_new(struct event_base *base, unsigned nthreads);
/* Waits for queued jobs, runs their done callbacks, stops the threads. */
void workq_free(struct workq **wq);
struct workq_job *workq_submit(struct workq *wq, workq_work_fn work,
    workq_done_fn done, void *arg);
/* done() will not be called; arg is freed with free_arg after work(). */
void workq_forget(struct workq_job *job, void (*free_arg)(void *));

#endif
