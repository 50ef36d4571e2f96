/*
 * queue_tail.h - an entry's later envelopes, appended to its .msg.
 *
 * After the message, a .msg of format 2 (queue_file.h) holds records:
 *   "facteur-env " seq(10 digits) " " length(10) " " crc(8 hex) "\n",
 *   then length bytes of envelope text (queue_env_format).
 * seq counts from 1, one more per record; crc is CRC-32 over the line up
 * to the crc, then over the text. The entry's envelope is the last
 * record of the run that checks, from the first one on.
 *
 * A record is written at the end of that run and fdatasynced before the
 * change counts. A crash during the write leaves bytes that fail the
 * checks (short, wrong crc, wrong seq), so the envelope is still the
 * previous one, and the next record goes over them. Postfix also updates
 * its queue files in place (it marks a recipient done by rewriting one
 * byte); this keeps every earlier state whole instead.
 *
 * These are pure functions over bytes; queue_file.c does the I/O.
 */
#ifndef FACTEUR_QUEUE_TAIL_H
#define FACTEUR_QUEUE_TAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define QUEUE_TAIL_MAGIC "facteur-env "
#define QUEUE_TAIL_MAGIC_LEN (sizeof(QUEUE_TAIL_MAGIC) - 1)
#define QUEUE_TAIL_HEAD_LEN 43
/*
 * The records may take this much; an update that would pass it goes to
 * a .env instead (queue_store.c), which then overrides them. Bounds what
 * a load reads, for an entry deferred a hundred times.
 */
#define QUEUE_TAIL_MAX (128 * 1024)

struct queue_tail {
	size_t		 end;		/* length of the run that checks */
	size_t		 text;		/* offset of its last record's text */
	size_t		 textlen;
	uint32_t	 seq;		/* the run's last number; 0: none */
	bool		 found;		/* text/textlen hold a record */
};

/* Finds the valid run at the start of p (the bytes after the message). */
void queue_tail_scan(const char *p, size_t len, struct queue_tail *t);
/*
 * The same, where text/textlen are the last record of the run whose text
 * starts with key: the records of a pack (queue_file.h) name their entry.
 */
void queue_tail_scan_key(const char *p, size_t len, const char *key,
    size_t keylen, struct queue_tail *t);
/* Appends record seq holding text to out. 0, or -1 when out is full. */
int queue_tail_record(struct buf *out, uint32_t seq, const char *text,
    size_t len);

#endif
