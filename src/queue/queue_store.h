/*
 * queue_store.h - reading, rewriting and removing queue entries on disk.
 * Blocking file I/O: the server calls these from worker threads or at
 * startup, the CLI directly.
 *
 * An entry's state changes are appended to its .msg and fdatasynced
 * (queue_tail.h). When they no longer fit there (or the entry is of an
 * older format) they go to a .env in the only safe order: the new
 * envelope is written to <qid>.env.tmp.<pid> in queue/, fsynced, renamed
 * over the old one, and queue/ is fsynced; from then on the .env is the
 * envelope. Removing an entry unlinks the message first (the entry is
 * gone), then any envelope.
 */
#ifndef FACTEUR_QUEUE_STORE_H
#define FACTEUR_QUEUE_STORE_H

#include "core/buf.h"
#include "queue/queue_env.h"

/* Calls fn for each entry in data_dir/queue (sorted by id). */
typedef void (*queue_store_fn)(void *arg, struct queue_env *env);
/*
 * Corrupt envelopes are renamed to <id>.env.bad (<id>.msg.bad for an
 * entry without .env) and reported in errors; entries with an .env.bad
 * are left alone.
 */
int queue_store_scan(const char *data_dir, queue_store_fn fn, void *arg,
    struct buf *errors);
/* Reads one entry; 0 or -1 (errno ENOENT when there is none). */
int queue_store_load(const char *data_dir, const char *qid,
    struct queue_env *env);
/* Durably replaces the envelope of env->qid. 0 or -1 with errno. */
int queue_store_save(const char *data_dir, const struct queue_env *env);
/* Removes the entry (message first) and fsyncs queue/. */
int queue_store_remove(const char *data_dir, const char *qid);
/*
 * The same two without the fsync of queue/, for a batch of changes made
 * durable together by one queue_store_sync() (the outbound runner).
 * queue_store_write() returns 0 when the change is durable (appended to
 * the .msg), 1 when it went to a .env whose name queue_store_sync() must
 * make durable, -1 with errno. queue_store_unlink() leaves the .env
 * alone unless env_file: on a busy queue, looking for a file that an
 * entry never had costs a quarter of the unlink of its .msg (an orphan
 * .env is harmless and goes at the next start, queue_file_cleanup()).
 */
int queue_store_write(const char *data_dir, const struct queue_env *env);
int queue_store_unlink(const char *data_dir, const char *qid, bool env_file);
int queue_store_sync(const char *data_dir);
/* True when qid has the shape of our ids (no path tricks). */
bool queue_store_valid_id(const char *qid);

#endif
