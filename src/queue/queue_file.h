/*
 * queue_file.h - queue entries on disk (see queue_env.h for the format).
 *
 * Creating an entry is done by the commit thread, batched like Maildir
 * deliveries: queue_file_create() writes tmp/<qid>.msg and tmp/<qid>.env
 * as two durable files whose final names are in data_dir/queue/; the .env
 * comes second so it is renamed last.
 */
#ifndef FACTEUR_QUEUE_FILE_H
#define FACTEUR_QUEUE_FILE_H

#include "queue/durable.h"
#include "queue/queue_env.h"

struct spool;

/* files[0] gets the message, files[1] the envelope. 0 or -1 with errno. */
int queue_file_create(const char *data_dir, const struct queue_env *env,
    const char *headers, size_t headers_len, struct spool *sp,
    struct durable_file files[2]);
/*
 * At startup, before anything runs: empties queue/tmp/ and removes .msg
 * files whose .env never made it (a crash between the two renames).
 * Returns how many files went.
 */
size_t queue_file_cleanup(const char *data_dir);
/* Paths of an entry's files. */
int queue_file_path(const char *data_dir, const char *qid, const char *ext,
    char *out, size_t size);

#endif
