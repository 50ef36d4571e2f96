/*
 * queue_spare.h - the files of retired queue entries, kept for reuse.
 *
 * Freeing a file's blocks is what makes a removal dear: on a file system
 * mounted with "discard" (ext4 then discards at once and waits), about
 * 40-50 µs of CPU per file on the bench machine, against 4 µs for a name
 * or an empty file (docs/performance.md, Outbound). The runner therefore
 * renames the last name of a retired entry's file into queue/tmp/ as a
 * spare, and the commit thread writes the next small entry or pack over
 * a spare instead of creating a file, as PostgreSQL recycles its WAL
 * segments. Nothing reads a spare: it has no name in queue/, and
 * queue/tmp/ is emptied at startup. The pool is bounded (files and
 * bytes); past it, or for a big file, a removal is an unlink as before.
 *
 * A removal is not synced (docs/durability.md): until queue/ is fsynced,
 * a crash may bring the old name back. So a new spare is not given to a
 * writer before the next fsync of queue/ that started after it was made
 * (queue_spare_gen() before that fsync, queue_spare_synced() after): an
 * entry a crash brings back always has its own bytes.
 *
 * One pool per process, for the data_dir given to queue_spare_init();
 * without it (the CLI, unit tests that do not ask) every call declines.
 * Thread-safe: the runner's I/O threads put, the commit thread takes.
 */
#ifndef FACTEUR_QUEUE_SPARE_H
#define FACTEUR_QUEUE_SPARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define QUEUE_SPARE_MAX_FILES	4096
#define QUEUE_SPARE_MAX_BYTES	(64L * 1024 * 1024)
#define QUEUE_SPARE_MAX_FILE	(1024L * 1024)	/* bigger ones are freed */

/* Starts an empty pool for data_dir (whose queue/tmp/ was emptied). */
void queue_spare_init(const char *data_dir);
/* Frees every spare and stops keeping them (at exit, in tests). */
void queue_spare_end(void);
/*
 * path is the last name of a retired queue file of data_dir: moves it
 * into the pool. 0 when it is there (path is gone), -1 when it was not
 * taken (no pool, pool full, another name still links the file, too
 * big: errno 0) or the rename failed (errno): the caller unlinks path.
 */
int queue_spare_put(const char *data_dir, const char *path);
/*
 * A spare of data_dir to write size bytes over without freeing blocks
 * (one of at most that many blocks): its path in out, open for writing
 * at offset 0 (fd returned), out of the pool. -1 when there is none.
 * The writer cuts it to its new length (queue_spare_cut()).
 */
int queue_spare_take(const char *data_dir, off_t size, char *out,
    size_t outsz);
/* Before an fsync of queue/: the spares it will make durable. */
uint64_t queue_spare_gen(void);
/* After it succeeded, with what queue_spare_gen() said: they may be taken. */
void queue_spare_synced(uint64_t gen);
/* After writing len bytes over a spare: drops what the old file had past. */
int queue_spare_cut(int fd, off_t len);
/* Frees every spare (the disk is full: their blocks are wanted). */
size_t queue_spare_release(void);
/* Spares held, and their bytes (for logs and tests). */
void queue_spare_count(size_t *files, size_t *bytes);

#endif
