/*
 * spool.h - the bytes of one message being received.
 *
 * Held in memory up to SPOOL_MEM_MAX, then moved to an anonymous file
 * (O_TMPFILE, or an unlinked temporary) under the spool directory, so a
 * thousand clients sending 25 MB each do not need 25 GB of memory. The
 * spool is scratch space: durability comes later, when the commit step
 * copies it into Maildirs or the queue and fsyncs those.
 *
 * Writes happen on the event loop (page-cache writes, no fsync); reads
 * happen on the commit thread after the session handed the spool over.
 * The content is the message as received (CRLF line ends), with our
 * Received: header first.
 */
#ifndef FACTEUR_SPOOL_H
#define FACTEUR_SPOOL_H

#include <stddef.h>
#include <sys/types.h>

struct spool;

struct spool *spool_new(const char *dir);
void spool_free(struct spool **sp);
/* Appends; -1 with errno on an I/O error (e.g. ENOSPC, EFBIG). */
int spool_write(struct spool *sp, const void *p, size_t len);
size_t spool_size(const struct spool *sp);
/* Drops the content, keeps the spool for another message. */
void spool_reset(struct spool *sp);
/* Reads up to len bytes at off into dst: the count, 0 at the end, or -1. */
ssize_t spool_read(struct spool *sp, size_t off, char *dst, size_t len);
/* Overwrites len bytes at off (same length: never grows). 0 or -1. */
int spool_overwrite(struct spool *sp, size_t off, const void *p,
    size_t len);
/* The whole content when it is in memory, else NULL. */
const char *spool_mem(const struct spool *sp);

#endif
