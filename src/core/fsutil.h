/*
 * fsutil.h - small file-system helpers with the durability rules facteur
 * lives by: a file that must survive a crash is written to a temporary
 * name, fsynced, renamed, and its directory fsynced (the order matters:
 * see docs/durability.md). All return 0 or -1 with errno set.
 */
#ifndef FACTEUR_FSUTIL_H
#define FACTEUR_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "core/buf.h"

/* Reads a whole file into out (which has a cap). */
int fs_read_file(const char *path, struct buf *out);
/* Writes data to path atomically and durably, with the given mode. */
int fs_write_atomic(const char *path, const void *data, size_t len,
    mode_t mode);
/*
 * The same without the directory fsync: the new name is not durable until
 * the caller fsyncs the directory (once for many files).
 */
int fs_write_replace(const char *path, const void *data, size_t len,
    mode_t mode);
/* fsync(2) on a directory by path. */
int fs_fsync_dir(const char *path);
/*
 * Creates path and missing parents with mode; each directory created is
 * made durable (its parent fsynced) before returning.
 */
int fs_mkdir_p(const char *path, mode_t mode);
/* write(2) until done, retrying EINTR. */
int fs_write_all(int fd, const void *data, size_t len);
/*
 * False only when path is known to be missing (ENOENT): a cleanup that
 * deletes what lacks a partner file must not act on an access() error.
 */
bool fs_may_exist(const char *path);

#endif
