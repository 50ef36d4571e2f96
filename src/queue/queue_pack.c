/*
 * queue_pack.c - several queue entries in one file (queue_file.h,
 * format 3 in queue_file_int.h): writing one, and finding an entry in
 * it. Bytes from disk are checked before they are used: an index line
 * that points anywhere but at its own entry makes that entry unreadable
 * (quarantined by the scan), never another entry's message or envelope.
 */
#include "core/common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fsutil.h"
#include "core/str.h"
#include "queue/queue_file.h"
#include "queue/queue_file_int.h"
#include "queue/spool.h"

bool
queue_file_can_link(const char *data_dir)
{
	char a[PATH_MAX], b[PATH_MAX + 8];
	bool ok;
	int fd;

	if (snprintf(a, sizeof(a), "%s/queue/tmp/link-test.%ld", data_dir,
	    (long)getpid()) >= (int)sizeof(a))
		return false;
	snprintf(b, sizeof(b), "%s.2", a);
	if ((fd = open(a, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) == -1)
		return false;
	close(fd);
	ok = link(a, b) == 0;
	unlink(b);
	unlink(a);
	return ok;
}

/*
 * The pack's header line (first) and index, for entries whose envelopes
 * are texts, and in *size the pack's length (its records' start): -1
 * with errno EINVAL when a qid is not one of ours.
 */
static int
queue_pack_index(const struct queue_pack_item *items, size_t n,
    const struct buf *texts, struct buf *out, off_t *size)
{
	off_t first = QUEUE_MSG_HEAD2_LEN + (off_t)(n * QUEUE_PACK_LINE_LEN);
	off_t off = first;
	size_t i;
	int r;

	for (i = 0; i < n; i++) {
		if (strlen(items[i].env->qid) != ID_LEN) {
			errno = EINVAL;
			return -1;
		}
		off += QUEUE_MSG_HEAD2_LEN + (off_t)buf_len(&texts[i]) +
		    (off_t)(items[i].headers_len + spool_size(items[i].spool));
	}
	*size = off;
	r = buf_addf(out, "%s3 %0*zu %0*lld\n", QUEUE_MSG_MAGIC,
	    QUEUE_MSG_DIGITS, n, QUEUE_MSG_LEN_DIGITS, (long long)off);
	for (i = 0, off = first; i < n; i++) {
		r |= buf_addf(out, "%s %0*lld\n", items[i].env->qid,
		    QUEUE_MSG_LEN_DIGITS, (long long)off);
		off += QUEUE_MSG_HEAD2_LEN + (off_t)buf_len(&texts[i]) +
		    (off_t)(items[i].headers_len + spool_size(items[i].spool));
	}
	if (r != 0)
		errno = EFBIG;
	return r != 0 ? -1 : 0;
}

int
queue_file_create_pack(const char *data_dir,
    const struct queue_pack_item *items, size_t n, struct durable_file *file)
{
	struct buf *texts = xcalloc(n, sizeof(*texts));
	struct buf index;
	size_t i, ok = 0;
	off_t size = 0;
	int opened = -1, r = 0;

	durable_init(file);
	buf_init(&index, QUEUE_MSG_HEAD2_LEN + QUEUE_PACK_MAX *
	    QUEUE_PACK_LINE_LEN + 1);
	if (n < 2 || n > QUEUE_PACK_MAX) {
		errno = EINVAL;
		r = -1;
	}
	for (; ok < n && r == 0; ok++)
		r = queue_env_text(items[ok].env, &texts[ok]);
	if (r == 0)
		r = queue_pack_index(items, n, texts, &index, &size);
	if (r == 0 && (opened = queue_open(file, data_dir, items[0].env->qid,
	    "pack", size)) == -1)
		r = -1;
	if (r == 0)
		r = fs_write_all(file->fd, buf_data(&index), buf_len(&index));
	for (i = 0; i < n && r == 0; i++)
		r = queue_write_entry(file->fd, &texts[i], items[i].headers,
		    items[i].headers_len, items[i].spool);
	if (opened != -1)
		r = queue_written(file, opened, size, r);
	for (i = 0; i < ok; i++)
		buf_release(&texts[i]);
	buf_release(&index);
	free(texts);
	return r;
}

/* The offset in index line p, or -1 when the line is not one. */
static off_t
queue_pack_offset(const char *p)
{
	uint64_t off;

	if (p[ID_LEN] != ' ' || p[QUEUE_PACK_LINE_LEN - 1] != '\n' ||
	    str_to_u64(str_make(p + ID_LEN + 1, QUEUE_MSG_LEN_DIGITS),
	    INT64_MAX / 2, &off) == -1)
		return -1;
	return (off_t)off;
}

/* Where qid's entry is and where it must end, and the last entry's. */
struct queue_pack_pos {
	off_t	 at;
	off_t	 end;
	off_t	 last;
};

/*
 * Finds qid in the index (count lines at p; tail, the records' start)
 * and fills pos. The entries follow one another, so qid's must end
 * where the next line says the next one starts (or at tail): a damaged
 * line makes its entry and the one before it unreadable, no other. -1
 * when qid is not listed or its lines do not hold together; pos->last is
 * -1 when the last line does not parse.
 */
static int
queue_pack_find(const char *p, size_t count, off_t tail, const char *qid,
    struct queue_pack_pos *pos)
{
	off_t first = (off_t)(QUEUE_MSG_HEAD2_LEN + count *
	    QUEUE_PACK_LINE_LEN);
	size_t i;

	pos->last = queue_pack_offset(p + (count - 1) * QUEUE_PACK_LINE_LEN);
	for (i = 0; i < count; i++)
		if (memcmp(p + i * QUEUE_PACK_LINE_LEN, qid, ID_LEN) == 0)
			break;
	if (i == count || (pos->at = queue_pack_offset(p + i *
	    QUEUE_PACK_LINE_LEN)) < first || pos->at >= tail)
		return -1;
	pos->end = i + 1 < count ? queue_pack_offset(p + (i + 1) *
	    QUEUE_PACK_LINE_LEN) : tail;
	return pos->end > pos->at && pos->end <= tail ? 0 : -1;
}

/* len bytes at off: from the file's first n bytes in p, else pread. */
static int
queue_head_bytes(int fd, const char *p, size_t n, char *dst, size_t len,
    off_t off)
{
	if (off >= 0 && (size_t)off <= n && len <= n - (size_t)off) {
		memcpy(dst, p + off, len);
		return 0;
	}
	return queue_pread_exact(fd, dst, len, off);
}

/*
 * Reads the entry's header line at at (and, with key, the envelope's
 * start, which must be key) into h: 0 when it parses as format 2 and
 * ends exactly at end.
 */
static int
queue_pack_entry(int fd, const char *p, size_t n, off_t at, off_t end,
    const char *key, struct queue_head *h)
{
	char head[QUEUE_MSG_HEAD2_LEN + QUEUE_ENV_KEY_LEN];
	size_t len = QUEUE_MSG_HEAD2_LEN + (key ? QUEUE_ENV_KEY_LEN : 0);

	if (queue_head_bytes(fd, p, n, head, len, at) == -1 ||
	    queue_head_line(head, len, h) == -1)
		return -1;
	/* at < end: no overflow. The message is the rest, to the byte. */
	if (h->version != 2 || (uint64_t)(end - at) < h->envlen +
	    QUEUE_MSG_HEAD2_LEN || (uint64_t)(end - at) - h->envlen -
	    QUEUE_MSG_HEAD2_LEN != (uint64_t)h->msglen ||
	    (key && (h->envlen < QUEUE_ENV_KEY_LEN ||
	    memcmp(head + QUEUE_MSG_HEAD2_LEN, key, QUEUE_ENV_KEY_LEN) != 0))) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

int
queue_pack_head(int fd, const char *p, size_t n, const char *qid,
    struct queue_head *h)
{
	char key[QUEUE_ENV_KEY_LEN + 1];
	struct queue_pack_pos pos = { 0 };
	size_t count = h->envlen;
	off_t tail = h->msglen;

	if (count < 2 || count > QUEUE_PACK_MAX || strlen(qid) != ID_LEN ||
	    n < QUEUE_MSG_HEAD2_LEN + count * QUEUE_PACK_LINE_LEN ||
	    queue_pack_find(p + QUEUE_MSG_HEAD2_LEN, count, tail, qid,
	    &pos) == -1) {
		errno = EINVAL;
		return -1;
	}
	snprintf(key, sizeof(key), QUEUE_ENV_KEY_FMT, qid);
	if (queue_pack_entry(fd, p, n, pos.at, pos.end, key, h) == -1)
		return -1;
	h->start += pos.at;
	h->tail_at = tail;
	h->pack = true;
	h->pack_last = pos.last;
	return 0;
}

int
queue_pack_check_tail(int fd, const struct queue_head *h)
{
	struct queue_head last;

	if (h->pack_last < 0 || h->pack_last >= h->tail_at) {
		errno = EINVAL;
		return -1;
	}
	return queue_pack_entry(fd, NULL, 0, h->pack_last, h->tail_at, NULL,
	    &last);
}

int
queue_pack_lock(int fd)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

	while (fcntl(fd, F_OFD_SETLKW, &fl) == -1)
		if (errno != EINTR)
			return -1;
	return 0;
}
