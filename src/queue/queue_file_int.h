/*
 * queue_file_int.h - what queue_file.c (entries of one file) and
 * queue_pack.c (entries sharing a pack) share: the header lines and the
 * I/O helpers. Not for other modules: they use queue_file.h.
 *
 * A message file starts with a header line giving the length of the
 * envelope that follows it (as queued), then the message:
 *   format 1: "facteur-msg 1 " envlen(10 digits) "\n", the message to the
 *             end of the file (later envelopes in a .env);
 *   format 2: "facteur-msg 2 " envlen(10) " " msglen(20) "\n", the
 *             message, then the later envelopes (queue_tail.h).
 * Files queued before the header existed start with the message: they
 * have a .env. New entries are written in format 2, or 3:
 *   format 3, a pack (queue_file.h): "facteur-msg 3 " count(10) " "
 *             tailstart(20) "\n", then count index lines, qid(16) " "
 *             offset(20) "\n", in the order of the entries; at each
 *             offset a format 2 entry without records (header line,
 *             envelope, message), the first right after the index, each
 *             next one where the previous one ends, tailstart where the
 *             last one ends; from there the records of all of them, each
 *             naming its entry.
 */
#ifndef FACTEUR_QUEUE_FILE_INT_H
#define FACTEUR_QUEUE_FILE_INT_H

#include <stdbool.h>
#include <sys/types.h>

#include "core/buf.h"
#include "queue/durable.h"
#include "queue/queue_env.h"

struct spool;

#define QUEUE_MSG_MAGIC "facteur-msg "
#define QUEUE_MSG_MAGIC_LEN (sizeof(QUEUE_MSG_MAGIC) - 1)
#define QUEUE_MSG_DIGITS 10
#define QUEUE_MSG_LEN_DIGITS 20
#define QUEUE_MSG_HEAD1_LEN (QUEUE_MSG_MAGIC_LEN + 2 + QUEUE_MSG_DIGITS + 1)
#define QUEUE_MSG_HEAD2_LEN (QUEUE_MSG_HEAD1_LEN + QUEUE_MSG_LEN_DIGITS + 1)
#define QUEUE_PACK_LINE_LEN (ID_LEN + 1 + QUEUE_MSG_LEN_DIGITS + 1)
/*
 * What a reader takes from the start of a .msg in one pread: the header
 * line, and for a pack its whole index and the first entries' headers.
 */
#define QUEUE_HEAD_READ \
	(QUEUE_MSG_HEAD2_LEN * 2 + QUEUE_PACK_MAX * QUEUE_PACK_LINE_LEN + 1024)

/* What the header line of a .msg says (of the entry's, in a pack). */
struct queue_head {
	int		 version;	/* 0: none (an older entry), 1 or 2 */
	size_t		 envlen;	/* the envelope as queued */
	off_t		 start;		/* the message's first byte */
	off_t		 msglen;	/* its length (format 2) */
	off_t		 tail_at;	/* where its records start */
	bool		 pack;		/* format 3: they name their entry */
	off_t		 pack_last;	/* the pack's last entry */
};

/* queue_file.c */
/*
 * Opens f for size bytes that become queue/<qid>.<ext>: a spare
 * (queue_spare.h) when one fits (1), else a new tmp/<qid>.<ext> (0);
 * -1 with errno.
 */
int queue_open(struct durable_file *f, const char *data_dir,
    const char *qid, const char *ext, off_t size);
/* r, the writing's result, once queue_open()'s size bytes are written. */
int queue_written(struct durable_file *f, int opened, off_t size, int r);
/* A format 2 entry without records: header line, envelope, message. */
int queue_write_entry(int fd, const struct buf *text, const char *headers,
    size_t headers_len, struct spool *sp);
/* Formats env into text (initialised here): -1 with errno EFBIG. */
int queue_env_text(const struct queue_env *env, struct buf *text);
/*
 * Parses a header line (the start of a file, or of an entry in a pack)
 * into h: 0, or -1 with errno (EINVAL: a header that does not parse, or
 * a format this version does not know). Bytes without one are
 * h->version 0. Format 3 has format 2's layout: its count is in envlen,
 * its tailstart in msglen.
 */
int queue_head_line(const char *head, size_t n, struct queue_head *h);
/* pread of exactly len bytes at off: 0, or -1 (EINVAL when short). */
int queue_pread_exact(int fd, void *p, size_t len, off_t off);

/* queue_pack.c */
/*
 * h holds a pack's header line, p the file's first n bytes: finds qid's
 * entry through the index, checks that it is where the index says and
 * is qid's, and makes h describe it (h->pack). -1 with errno EINVAL.
 */
int queue_pack_head(int fd, const char *p, size_t n, const char *qid,
    struct queue_head *h);
/*
 * Before records are cut or appended: checks that the pack's records
 * start where its last entry ends, so that a damaged header cannot make
 * a writer cut into entries. 0, or -1 with errno EINVAL.
 */
int queue_pack_check_tail(int fd, const struct queue_head *h);
/*
 * Locks the pack for writing its records: one writer at a time, among
 * threads and processes (an open file description lock). 0 or -1.
 */
int queue_pack_lock(int fd);

#endif
