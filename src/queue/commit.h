/*
 * commit.h - making an accepted message durable, off the event loop, with
 * group commit.
 *
 * The promise (README "Never lose mail"): a 250 after DATA is sent only
 * once the message is on disk, fsynced, file and directory. The session
 * hands a finished message to commit_submit() and stops reading from its
 * client; one I/O thread takes every message submitted so far as a batch:
 *   1. writes each file (Maildir tmp/, the queue entry's .msg) for
 *      every message of the batch, the small queue entries together in
 *      packs (queue_file.h);
 *   2. fdatasyncs them all (the file system commits its journal once for
 *      the lot);
 *   3. renames each into place (Maildir new/, queue/), or links its pack
 *      under the queue entry's name;
 *   4. fsyncs each directory touched, once per batch;
 * and then reports every message of the batch back to the event loop,
 * where the sessions send their 250s (or a 451/452 if a step failed: then
 * nothing of that message was made visible, except in the rare case of a
 * rename or directory fsync failing half-way, which gives a duplicate on
 * retry, never a loss). The more clients commit at once, the more messages
 * share each fsync; a lone client pays one round, like any other server.
 */
#ifndef FACTEUR_COMMIT_H
#define FACTEUR_COMMIT_H

#include <stddef.h>

struct event_base;
struct spool;
struct commit;
struct commit_job;

struct queue_env;

/* Counters for logs and the benchmark: batches and fsync calls made. */
struct commit_stats {
	unsigned long	 batches;
	unsigned long	 messages;
	unsigned long	 fsyncs;
};

/* What to make durable. Everything here belongs to the job. */
struct commit_msg {
	char		*headers;	/* ours (Received...), CRLF, first */
	size_t		 headers_len;
	struct spool	*spool;		/* then the message as received */
	char		*return_path;	/* envelope sender, "" for <> */
	char		**mailboxes;	/* local users' addresses */
	size_t		 nmailboxes;
	char		*folder;	/* Maildir++ folder (".Junk") or NULL */
	struct queue_env *queue;	/* remote recipients, or NULL */
};

/* error: 0, or an errno value (ENOSPC -> 452, others -> 451). */
typedef void (*commit_done_fn)(void *arg, int error);

struct commit *commit_new(struct event_base *base, const char *data_dir,
    const char *hostname);
/*
 * Waits for the jobs in flight, runs their callbacks, stops the thread;
 * the final counters go to stats_r when it is not NULL.
 */
void commit_free(struct commit **c, struct commit_stats *stats_r);

/* Takes ownership of msg's contents (and clears msg). */
struct commit_job *commit_submit(struct commit *c, struct commit_msg *msg,
    commit_done_fn done, void *arg);
/*
 * Called on the loop for every committed message that has a queue entry,
 * which it takes over (the outbound runner: mta_enqueue).
 */
void commit_set_queue_hook(struct commit *c,
    void (*hook)(void *arg, struct queue_env *env), void *arg);
/* The caller (a closing session) no longer wants the callback. */
void commit_forget(struct commit_job *job);
size_t commit_in_flight(const struct commit *c);
void commit_msg_release(struct commit_msg *msg);


void commit_get_stats(struct commit *c, struct commit_stats *out);

#endif
