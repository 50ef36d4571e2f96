/*
 * queue_env.h - the envelope of a queued message, and its text format.
 * Pure functions (fuzzed by fuzz/fuzz_queue_env.c).
 *
 * A queue entry is <qid>.msg in data_dir/queue/: a header line, this
 * envelope as queued, then the message as it will be sent (CRLF line
 * ends); see queue_file.h. An entry exists when its .msg exists. The
 * first change to a recipient's state writes <qid>.env, which from then
 * on is the envelope; every change rewrites it atomically (write, fsync,
 * rename, fsync dir), so after a crash the queue resumes exactly where it
 * was and a delivered recipient is never sent again.
 *
 * Format, one item a line, the address last so it may hold spaces:
 *   facteur-queue 1
 *   qid 5f0c0e1a2b3c4d5e
 *   created 1795965739
 *   from alice@example.test          ("from" alone for the null sender)
 *   auth alice@example.test          ("auth -" when not authenticated)
 *   flags 8bitmime smtputf8 warned   ("flags -" when none; "warned":
 *                                     the delay warning was sent,
 *                                     "reported": the failure report)
 *   rcpt pending 0 1795965739 bob@remote.example
 *   error 0 451 4.7.1 greylisted, try again later
 * "rcpt" fields: state, attempts, next attempt (unix time), address.
 * "error N text" is the last error of recipient N (0-based), with any
 * control character written as '?': free text never ends its line early.
 */
#ifndef FACTEUR_QUEUE_ENV_H
#define FACTEUR_QUEUE_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "core/buf.h"
#include "core/util.h"
#include "smtp/smtp_addr.h"

#define QUEUE_ERROR_MAX 512
/*
 * How every formatted envelope begins, with its qid: records in a pack
 * name their entry by it (queue_file.h).
 */
#define QUEUE_ENV_KEY_FMT "facteur-queue 1\nqid %s\n"
#define QUEUE_ENV_KEY_LEN (sizeof("facteur-queue 1\nqid \n") - 1 + ID_LEN)
/* Recipients of one entry: SMTP refuses more targets in a transaction. */
#define QUEUE_RCPTS_MAX 10000
/*
 * A formatted envelope: room for QUEUE_RCPTS_MAX recipients of the longest
 * address, each with an error of the longest text, so that no envelope
 * accepted can fail to be saved (it would be retried forever).
 */
#define QUEUE_ENV_TEXT_MAX (16 * 1024 * 1024)

enum queue_rcpt_state {
	QUEUE_RCPT_PENDING,	/* to be tried (again) */
	QUEUE_RCPT_SENT,	/* accepted by the next hop or delivered */
	QUEUE_RCPT_FAILED,	/* permanent failure, bounced */
	QUEUE_RCPT_EXPIRED,	/* too old, bounced */
};

#define QUEUE_FLAG_8BITMIME	0x01
#define QUEUE_FLAG_SMTPUTF8	0x02
#define QUEUE_FLAG_WARNED	0x04	/* the delay warning was sent */
#define QUEUE_FLAG_REPORTED	0x08	/* the failure report was sent */

struct queue_rcpt {
	char			 addr[SMTP_ADDR_TEXT_MAX];
	enum queue_rcpt_state	 state;
	unsigned		 attempts;
	time_t			 next_try;
	char			 error[QUEUE_ERROR_MAX];
};

struct queue_env {
	char			 qid[ID_LEN + 1];
	time_t			 created;
	char			 from[SMTP_ADDR_TEXT_MAX];
	char			 auth[SMTP_ADDR_TEXT_MAX];	/* "" if none */
	unsigned		 flags;
	struct queue_rcpt	*rcpts;
	size_t			 nrcpts;
	size_t			 alloc;		/* room in rcpts */
};

void queue_env_init(struct queue_env *env);
void queue_env_release(struct queue_env *env);
/* Appends a pending recipient. */
void queue_env_add_rcpt(struct queue_env *env, const char *addr,
    time_t next_try);
/*
 * 0, or -1 when out is full or an identifier or address holds a control
 * character (which no parser lets in: refused, not rewritten).
 */
int queue_env_format(const struct queue_env *env, struct buf *out);
/* 0, or -1 with a static reason in *error_r. */
int queue_env_parse(const char *p, size_t len, struct queue_env *env,
    const char **error_r);
const char *queue_rcpt_state_name(enum queue_rcpt_state state);

#endif
