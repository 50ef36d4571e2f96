/*
 * queue_file.h - queue entries on disk (see queue_env.h for the envelope).
 *
 * An entry is one file, data_dir/queue/<qid>.msg:
 *   "facteur-msg 2 " + the envelope's length in 10 digits + " " + the
 *   message's in 20 + "\n", the envelope as queued (queue_env_format),
 *   the message, then the envelope's later states (queue_tail.h).
 * When those would pass QUEUE_TAIL_MAX, or the entry is of an older
 * format, its later states go to <qid>.env (queue_store.h), which then
 * overrides what the .msg holds. Format 1 ("facteur-msg 1 " + envelope
 * length, the message to the end) has no room for states after it;
 * files queued before the header existed have none: their .env is their
 * envelope.
 *
 * Creating an entry is done by the commit thread, batched like Maildir
 * deliveries: queue_file_create() writes tmp/<qid>.msg as a durable file
 * whose final name is in data_dir/queue/. One file, one rename: an entry
 * appears whole or not at all.
 *
 * A pack holds the small entries of one commit batch in one file
 * (format 3), hard-linked as the <qid>.msg of each: the entry is its
 * name, found in the pack's index, with records that name it. Removing
 * an entry unlinks its name as for any other; the file, its blocks and
 * its inode go with the last one. On ext4 that turns most of a removal's
 * cost (freeing the inode and its blocks, and a discard) into one per
 * pack (docs/performance.md, "Outbound").
 */
#ifndef FACTEUR_QUEUE_FILE_H
#define FACTEUR_QUEUE_FILE_H

#include <sys/types.h>

#include "core/buf.h"
#include "queue/durable.h"
#include "queue/queue_env.h"

struct spool;

/*
 * A pack lists at most this many entries, of messages of at most
 * QUEUE_PACK_MSG_MAX octets: an entry deferred for days keeps the whole
 * file, at most 4 MB, alive until it goes.
 */
#define QUEUE_PACK_MAX		64
#define QUEUE_PACK_MSG_MAX	(64 * 1024)

struct queue_pack_item {
	const struct queue_env	*env;
	const char		*headers;
	size_t			 headers_len;
	struct spool		*spool;
};

/* Writes the entry (headers, then the spool) to file. 0 or -1 + errno. */
int queue_file_create(const char *data_dir, const struct queue_env *env,
    const char *headers, size_t headers_len, struct spool *sp,
    struct durable_file *file);
/*
 * Writes the n entries (2 to QUEUE_PACK_MAX) as one pack, tmp/<first
 * qid>.pack; each entry's name is then a link to it (durable.h). 0 or -1
 * with errno.
 */
int queue_file_create_pack(const char *data_dir,
    const struct queue_pack_item *items, size_t n,
    struct durable_file *file);
/*
 * True when queue/ takes hard links (not every file system does): packs
 * are written only then.
 */
bool queue_file_can_link(const char *data_dir);
/*
 * Opens <qid>.msg for reading its message with pread(): it starts at
 * *start and is *size bytes long (what follows is not the message).
 * -1 with errno.
 */
int queue_file_open(const char *data_dir, const char *qid, off_t *start,
    off_t *size);
/*
 * True when fd, opened by queue_file_open(), is still qid's file: read
 * by a process other than the server (`facteur queue show`), an entry
 * retired meanwhile may have become a spare written over by another
 * (queue_spare.h), and what was read is then not qid's.
 */
bool queue_file_still(const char *data_dir, const char *qid, int fd);
/* 0 when <qid>.msg's header and size are sound; -1 with errno. */
int queue_file_check(const char *data_dir, const char *qid);
/*
 * Appends the envelope held in <qid>.msg (its last state) to out. -1
 * with errno: ENOENT when there is no .msg or it has no header (an older
 * entry), EINVAL when it is damaged.
 */
int queue_file_read_env(const char *data_dir, const char *qid,
    struct buf *out);
/*
 * Appends the envelope text as the entry's new state and fdatasyncs: 0
 * once durable, 1 when the .msg has no room for it (full, or an older
 * format: the caller writes a .env), -1 with errno.
 */
int queue_file_append_env(const char *data_dir, const char *qid,
    const char *text, size_t len);
/*
 * At startup, before anything runs: empties queue/tmp/, removes
 * interrupted envelope rewrites, .env files whose .msg is gone (a crash
 * between the two unlinks of a removal) and headerless .msg files of an
 * older version whose .env never made it. Returns how many files went.
 */
size_t queue_file_cleanup(const char *data_dir);
/* Paths of an entry's files. */
int queue_file_path(const char *data_dir, const char *qid, const char *ext,
    char *out, size_t size);

#endif
