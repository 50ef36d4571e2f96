/*
 * buf.h - the one growable byte buffer, with a hard cap.
 *
 * Invariants:
 *  - data is always NUL-terminated at data[len] (a safety net; no code may
 *    rely on it for binary content, which may hold NULs);
 *  - len never exceeds cap; an append that would pass cap fails with -1 and
 *    leaves the buffer unchanged, because hostile input triggers it and the
 *    caller must answer with a clean protocol error (idea from curl's dynbuf);
 *  - allocation failure is fatal (see xmalloc.h).
 *
 * An embedded buffer is set up with buf_init() and torn down with
 * buf_release(); buf_reset() empties it and keeps the memory.
 */
#ifndef FACTEUR_BUF_H
#define FACTEUR_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char	*data;
	size_t	 len;
	size_t	 alloc;
	size_t	 cap;	/* maximum len */
};

#define BUF_NOCAP ((size_t)-1 / 2)

void buf_init(struct buf *b, size_t cap);
void buf_release(struct buf *b);
void buf_reset(struct buf *b);
/* Wipes the contents (secrets) before releasing. */
void buf_release_secret(struct buf *b);

__attribute__((warn_unused_result))
int buf_add(struct buf *b, const void *p, size_t len);
__attribute__((warn_unused_result))
int buf_addc(struct buf *b, char c);
__attribute__((warn_unused_result))
int buf_adds(struct buf *b, const char *s);
__attribute__((warn_unused_result, format(printf, 2, 3)))
int buf_addf(struct buf *b, const char *fmt, ...);
__attribute__((warn_unused_result))
int buf_vaddf(struct buf *b, const char *fmt, va_list ap);

/* Removes the first n bytes. */
void buf_consume(struct buf *b, size_t n);
/* Shortens to len (len <= b->len). */
void buf_truncate(struct buf *b, size_t len);
/* Hands the storage to the caller (NUL-terminated) and resets b. */
char *buf_detach(struct buf *b, size_t *len_r);

static inline size_t buf_len(const struct buf *b) { return b->len; }
static inline const char *buf_data(const struct buf *b)
{ return b->data ? b->data : ""; }
/* A C string view, valid until the next change. */
static inline const char *buf_cstr(const struct buf *b) { return buf_data(b); }

#endif
