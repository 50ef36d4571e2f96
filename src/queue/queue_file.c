/*
 * queue_file.c - see queue_file.h.
 */
#include "core/common.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fsutil.h"
#include "core/str.h"
#include "queue/queue_file.h"
#include "queue/queue_file_int.h"
#include "queue/queue_spare.h"
#include "queue/queue_tail.h"
#include "queue/spool.h"

#define QUEUE_COPY_CHUNK 65536
int
queue_file_path(const char *data_dir, const char *qid, const char *ext,
    char *out, size_t size)
{
	int n = snprintf(out, size, "%s/queue/%s.%s", data_dir, qid, ext);

	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int
queue_open(struct durable_file *f, const char *data_dir, const char *qid,
    const char *ext, off_t size)
{
	int n;

	durable_init(f);
	if (queue_file_path(data_dir, qid, ext, f->final,
	    sizeof(f->final)) == -1 ||
	    snprintf(f->dir, sizeof(f->dir), "%s/queue", data_dir) >=
	    (int)sizeof(f->dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* Over a retired entry's file when there is one (queue_spare.h). */
	if ((f->fd = queue_spare_take(data_dir, size, f->tmp,
	    sizeof(f->tmp))) != -1)
		return 1;
	n = snprintf(f->tmp, sizeof(f->tmp), "%s/queue/tmp/%s.%s", data_dir,
	    qid, ext);
	if (n < 0 || (size_t)n >= sizeof(f->tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	f->fd = open(f->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	return f->fd == -1 ? -1 : 0;
}

/*
 * After size bytes were written by queue_open()'s caller: a spare is cut
 * to them (it may have held more). A full disk gives the spares' blocks
 * back at the end of the commit batch (commit_run_batch()).
 */
int
queue_written(struct durable_file *f, int opened, off_t size, int r)
{
	return r == 0 && opened == 1 ? queue_spare_cut(f->fd, size) : r;
}

/* Copies the spool, which must hold size bytes (the header says so). */
static int
queue_copy_spool(int fd, struct spool *sp, size_t size)
{
	char chunk[QUEUE_COPY_CHUNK];
	size_t off = 0;
	ssize_t n;

	while ((n = spool_read(sp, off, chunk, sizeof(chunk))) > 0) {
		if (fs_write_all(fd, chunk, (size_t)n) == -1)
			return -1;
		off += (size_t)n;
	}
	if (n == 0 && off != size)
		errno = EIO;
	return n < 0 || off != size ? -1 : 0;
}

/* A format 2 entry without records: header line, envelope, message. */
int
queue_write_entry(int fd, const struct buf *text, const char *headers,
    size_t headers_len, struct spool *sp)
{
	char head[QUEUE_MSG_HEAD2_LEN + 1];
	unsigned long long msglen = headers_len + spool_size(sp);

	snprintf(head, sizeof(head), "%s2 %0*zu %0*llu\n", QUEUE_MSG_MAGIC,
	    QUEUE_MSG_DIGITS, buf_len(text), QUEUE_MSG_LEN_DIGITS, msglen);
	if (fs_write_all(fd, head, QUEUE_MSG_HEAD2_LEN) == -1 ||
	    fs_write_all(fd, buf_data(text), buf_len(text)) == -1 ||
	    fs_write_all(fd, headers, headers_len) == -1)
		return -1;
	return queue_copy_spool(fd, sp, msglen - headers_len);
}

/* Formats env into text: -1 with errno EFBIG when it cannot be. */
int
queue_env_text(const struct queue_env *env, struct buf *text)
{
	buf_init(text, QUEUE_ENV_TEXT_MAX);
	if (queue_env_format(env, text) == -1) {
		errno = EFBIG;
		return -1;
	}
	return 0;
}

int
queue_file_create(const char *data_dir, const struct queue_env *env,
    const char *headers, size_t headers_len, struct spool *sp,
    struct durable_file *file)
{
	struct buf text;
	off_t size;
	int opened, r = -1;

	durable_init(file);
	if (queue_env_text(env, &text) == 0) {
		size = QUEUE_MSG_HEAD2_LEN + (off_t)buf_len(&text) +
		    (off_t)(headers_len + spool_size(sp));
		if ((opened = queue_open(file, data_dir, env->qid, "msg",
		    size)) != -1)
			r = queue_written(file, opened, size, queue_write_entry(
			    file->fd, &text, headers, headers_len, sp));
	}
	buf_release(&text);
	return r;
}

/*
 * Parses a header line (the start of a file, or of an entry in a pack)
 * into h: 0, or -1 with errno (EINVAL: a header that does not parse, or
 * a format this version does not know). Bytes without one are
 * h->version 0. Format 3 has format 2's layout: its count is in envlen,
 * its tailstart in msglen.
 */
int
queue_head_line(const char *head, size_t n, struct queue_head *h)
{
	const char *p = head + QUEUE_MSG_MAGIC_LEN;
	uint64_t envlen, msglen = 0;
	bool ok;

	memset(h, 0, sizeof(*h));
	if (n < QUEUE_MSG_MAGIC_LEN ||
	    memcmp(head, QUEUE_MSG_MAGIC, QUEUE_MSG_MAGIC_LEN) != 0)
		return 0;
	/* A later format is kept for the version that wrote it. */
	if (n < QUEUE_MSG_MAGIC_LEN + 2 || p[0] < '1' || p[0] > '3' ||
	    p[1] != ' ') {
		errno = EINVAL;
		return -1;
	}
	h->version = p[0] - '0';
	p += 2;
	h->start = h->version == 1 ? QUEUE_MSG_HEAD1_LEN : QUEUE_MSG_HEAD2_LEN;
	/* Bytes from disk: lengths are bounded, never trusted to fit. */
	ok = n >= (size_t)h->start && str_to_u64(str_make(p,
	    QUEUE_MSG_DIGITS), QUEUE_ENV_TEXT_MAX, &envlen) == 0;
	if (ok && h->version >= 2) {
		ok = p[QUEUE_MSG_DIGITS] == ' ' && str_to_u64(str_make(p +
		    QUEUE_MSG_DIGITS + 1, QUEUE_MSG_LEN_DIGITS), INT64_MAX / 2,
		    &msglen) == 0;
		p += QUEUE_MSG_LEN_DIGITS + 1;
	}
	if (!ok || p[QUEUE_MSG_DIGITS] != '\n') {
		errno = EINVAL;
		return -1;
	}
	h->envlen = (size_t)envlen;
	h->start += (off_t)envlen;
	h->msglen = (off_t)msglen;
	h->tail_at = h->start + h->msglen;
	return 0;
}

/* pread of exactly len bytes at off: 0, or -1 (EINVAL when short). */
int
queue_pread_exact(int fd, void *p, size_t len, off_t off)
{
	ssize_t n;

	while ((n = pread(fd, p, len, off)) == -1 && errno == EINTR)
		continue;
	if (n >= 0 && (size_t)n != len)
		errno = EINVAL;
	return n >= 0 && (size_t)n == len ? 0 : -1;
}

/*
 * Reads the header line at the start of fd, the entry qid's in a pack,
 * into h: 0, or -1 with errno as queue_head_line().
 */
static int
queue_msg_head(int fd, const char *qid, struct queue_head *h)
{
	char head[QUEUE_HEAD_READ];
	ssize_t n;

	memset(h, 0, sizeof(*h));
	while ((n = pread(fd, head, sizeof(head), 0)) == -1 && errno == EINTR)
		continue;
	if (n < 0 || queue_head_line(head, (size_t)n, h) == -1)
		return -1;
	return h->version == 3 ? queue_pack_head(fd, head, (size_t)n, qid,
	    h) : 0;
}

/*
 * Opens <qid>.msg with flags and reads its header into h, with the
 * message's length for every format: -1 with errno (EINVAL when the
 * header or the file's size does not fit).
 */
static int
queue_msg_open(const char *data_dir, const char *qid, int flags,
    struct queue_head *h, struct stat *st)
{
	char path[PATH_MAX];
	int fd, saved;

	if (queue_file_path(data_dir, qid, "msg", path, sizeof(path)) == -1)
		return -1;
	if ((fd = open(path, flags | O_CLOEXEC)) == -1)
		return -1;
	if (queue_msg_head(fd, qid, h) == -1 || fstat(fd, st) == -1)
		goto fail;
	if (h->version != 2) {
		h->msglen = st->st_size - h->start;
		h->tail_at = st->st_size;
	}
	/* Each bounded by INT64_MAX / 2 (queue_head_line): no overflow. */
	if (h->msglen < 0 || h->start > h->tail_at ||
	    h->msglen > h->tail_at - h->start || h->tail_at > st->st_size) {
		errno = EINVAL;
		goto fail;
	}
	return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/*
 * Appends len bytes of fd at off to out; EINVAL when the file is short,
 * unless to_eof (the records: a writer may cut them meanwhile).
 */
static int
queue_pread_buf(int fd, off_t off, size_t len, struct buf *out,
    bool to_eof)
{
	char chunk[QUEUE_COPY_CHUNK];
	ssize_t n;

	while (len > 0) {
		n = pread(fd, chunk, MIN(sizeof(chunk), len), off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == 0 && to_eof)
			break;
		if (n <= 0 || buf_add(out, chunk, (size_t)n) == -1) {
			if (n >= 0)
				errno = n == 0 ? EINVAL : EFBIG;
			return -1;
		}
		off += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * The records after a format 2 message (h) into tail, and their run; in
 * a pack, t's text is the last one that names qid.
 */
static int
queue_msg_tail(int fd, const char *qid, const struct queue_head *h,
    const struct stat *st, struct buf *tail, struct queue_tail *t)
{
	char key[QUEUE_ENV_KEY_LEN + 1];
	off_t at = h->tail_at;
	int n;

	if (queue_pread_buf(fd, at, (size_t)MIN(st->st_size - at,
	    (off_t)QUEUE_TAIL_MAX), tail, true) == -1)
		return -1;
	if (!h->pack) {
		queue_tail_scan(buf_data(tail), buf_len(tail), t);
		return 0;
	}
	n = snprintf(key, sizeof(key), QUEUE_ENV_KEY_FMT, qid);
	queue_tail_scan_key(buf_data(tail), buf_len(tail), key, (size_t)n, t);
	return 0;
}

/* Releases what a reader or writer of a .msg held; keeps errno. */
static int
queue_msg_close(int fd, struct buf *tail, int r)
{
	int saved = errno;

	buf_release(tail);
	close(fd);
	errno = saved;
	return r;
}

bool
queue_file_still(const char *data_dir, const char *qid, int fd)
{
	char path[PATH_MAX];
	struct stat a, b;

	/* A spare never takes a qid's name back: same inode, same file. */
	return queue_file_path(data_dir, qid, "msg", path, sizeof(path)) == 0 &&
	    fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino &&
	    a.st_dev == b.st_dev;
}

int
queue_file_open(const char *data_dir, const char *qid, off_t *start,
    off_t *size)
{
	struct queue_head h;
	struct stat st;
	int fd;

	/*
	 * The size is checked here (queue_msg_open), not found short while
	 * sending: a damaged entry fails its own job, not the connection.
	 */
	if ((fd = queue_msg_open(data_dir, qid, O_RDONLY, &h, &st)) == -1)
		return -1;
	*start = h.start;
	*size = h.msglen;
	return fd;
}

int
queue_file_check(const char *data_dir, const char *qid)
{
	struct queue_head h;
	struct stat st;
	int fd;

	if ((fd = queue_msg_open(data_dir, qid, O_RDONLY, &h, &st)) == -1)
		return -1;
	close(fd);
	return 0;
}

int
queue_file_read_env(const char *data_dir, const char *qid, struct buf *out)
{
	struct queue_tail t = { 0 };
	struct queue_head h;
	struct stat st;
	struct buf tail;
	int fd, r = 0;

	if ((fd = queue_msg_open(data_dir, qid, O_RDONLY, &h, &st)) == -1)
		return -1;
	buf_init(&tail, QUEUE_TAIL_MAX);
	if (h.version == 0) {
		errno = ENOENT;		/* an old file: its .env is the entry */
		r = -1;
	} else if (h.version == 2) {
		r = queue_msg_tail(fd, qid, &h, &st, &tail, &t);
	}
	/* The last update if there is one, else the envelope as queued. */
	if (r == 0 && t.found)
		r = buf_add(out, buf_data(&tail) + t.text, t.textlen) == -1 ?
		    (errno = EFBIG, -1) : 0;
	else if (r == 0)
		r = queue_pread_buf(fd, h.start - (off_t)h.envlen, h.envlen,
		    out, false);
	return queue_msg_close(fd, &tail, r);
}

static int
queue_pwrite_all(int fd, const char *p, size_t len, off_t off)
{
	ssize_t n;

	while (len > 0) {
		if ((n = pwrite(fd, p, len, off)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		off += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Writes record rec at offset at of fd (file size size) and makes it
 * durable: 0, 1 when a .env must take over, -1 with errno.
 */
static int
queue_tail_put(int fd, off_t at, off_t size, const struct buf *rec)
{
	int r, saved;

	/*
	 * Bytes after the run fail the checks (a record a crash tore):
	 * cut them, so that nothing but the new record follows the run.
	 * The message before it is never written. fdatasync covers the
	 * file's size as well as the record.
	 */
	r = (size > at && ftruncate(fd, at) == -1) ||
	    queue_pwrite_all(fd, buf_data(rec), buf_len(rec), at) == -1 ||
	    fdatasync(fd) == -1 ? -1 : 0;
	/*
	 * A failed write or sync may leave the record readable in the page
	 * cache but not on disk: a later record written after it would be
	 * durable yet unreachable (the scan stops at this one). Cut it
	 * again; if even that fails, a .env takes this and every later
	 * state, and overrides the records.
	 */
	if (r == -1) {
		saved = errno;
		r = ftruncate(fd, at) == -1 ? 1 : -1;
		errno = saved;
	}
	return r;
}

int
queue_file_append_env(const char *data_dir, const char *qid,
    const char *text, size_t len)
{
	struct queue_tail t;
	struct queue_head h;
	struct stat st;
	struct buf tail;
	int fd, r = 1;
	off_t at;

	if ((fd = queue_msg_open(data_dir, qid, O_RDWR, &h, &st)) == -1)
		return -1;
	buf_init(&tail, QUEUE_TAIL_MAX);
	if (h.version != 2)
		goto done;		/* an older format: a .env it is */
	/*
	 * A pack's entries share its records: one writer at a time, and the
	 * size read again as the last one left it. A pack that cannot be
	 * locked, or whose records do not start where its last entry ends
	 * (a damaged header line: a cut there would destroy entries), takes
	 * no record: a .env does.
	 */
	if (h.pack && (queue_pack_lock(fd) == -1 || fstat(fd, &st) == -1 ||
	    queue_pack_check_tail(fd, &h) == -1))
		goto done;
	if (queue_msg_tail(fd, qid, &h, &st, &tail, &t) == -1) {
		r = -1;
		goto done;
	}
	if (t.end + QUEUE_TAIL_HEAD_LEN + len > QUEUE_TAIL_MAX)
		goto done;		/* full: a .env takes over */
	/*
	 * A crash tears the last record only. A record that starts after
	 * the bytes that fail the checks means damage in the middle: in a
	 * pack, cutting there would take the later states of every entry
	 * (recipients sent again, reports made twice). A .env takes this
	 * entry's states instead, and the others keep theirs.
	 */
	if (h.pack && buf_len(&tail) > t.end + 1 &&
	    memmem(buf_data(&tail) + t.end + 1, buf_len(&tail) - t.end - 1,
	    QUEUE_TAIL_MAGIC, QUEUE_TAIL_MAGIC_LEN) != NULL)
		goto done;
	at = h.tail_at + (off_t)t.end;
	buf_reset(&tail);
	if (queue_tail_record(&tail, t.seq + 1, text, len) == -1) {
		errno = EFBIG;
		r = -1;
		goto done;
	}
	r = queue_tail_put(fd, at, st.st_size, &tail);
done:
	return queue_msg_close(fd, &tail, r);
}

static size_t
queue_clean_tmp(const char *data_dir)
{
	char dir[PATH_MAX], path[PATH_MAX];
	struct dirent *e;
	size_t n = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/queue/tmp", data_dir);
	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.' && snprintf(path, sizeof(path),
		    "%s/%s", dir, e->d_name) < (int)sizeof(path) &&
		    unlink(path) == 0)
			n++;
	closedir(d);
	return n;
}

/*
 * True when dir holds the first stemlen bytes of name followed by ext,
 * or when that cannot be told: only a file known to be missing makes
 * another one an orphan.
 */
static bool
queue_has(const char *dir, const char *name, size_t stemlen,
    const char *ext)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%.*s%s", dir, (int)stemlen,
	    name, ext) >= (int)sizeof(path))
		return true;
	return fs_may_exist(path);
}

/* A .msg that is an entry by itself (qid's): it has the header. */
static bool
queue_msg_has_head(const char *path, const char *qid)
{
	struct queue_head h;
	int fd, r;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return true;	/* cannot tell: keep it */
	r = queue_msg_head(fd, qid, &h);
	close(fd);
	return r == -1 || h.version != 0;	/* damaged: quarantined later */
}

static bool
queue_is_orphan(const char *dir, const char *name, const char *path)
{
	size_t len = strlen(name);
	char qid[ID_LEN + 1] = "";

	/* An envelope rewrite a crash interrupted (fs_write_atomic). */
	if (strstr(name, ".env.tmp.") != NULL)
		return true;
	if (len < 5)
		return false;
	/* A removal unlinks the .msg first: the .env is what is left. */
	if (strcmp(name + len - 4, ".env") == 0)
		return !queue_has(dir, name, len - 4, ".msg");
	/*
	 * An older version renamed the .msg, then the .env: a crash
	 * between the two left a headerless .msg alone. An unreadable
	 * envelope kept aside (.env.bad) keeps its message.
	 */
	if (len - 4 == ID_LEN)
		memcpy(qid, name, ID_LEN);	/* the rest is zeros */
	if (strcmp(name + len - 4, ".msg") == 0)
		return !queue_has(dir, name, len - 4, ".env") &&
		    !queue_has(dir, name, len - 4, ".env.bad") &&
		    !queue_msg_has_head(path, qid);
	return false;
}

static size_t
queue_clean_orphans(const char *data_dir)
{
	char dir[PATH_MAX], path[PATH_MAX];
	struct dirent *e;
	size_t n = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/queue", data_dir);
	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.' && snprintf(path, sizeof(path),
		    "%s/%s", dir, e->d_name) < (int)sizeof(path) &&
		    queue_is_orphan(dir, e->d_name, path) && unlink(path) == 0)
			n++;
	closedir(d);
	return n;
}

size_t
queue_file_cleanup(const char *data_dir)
{
	return queue_clean_tmp(data_dir) + queue_clean_orphans(data_dir);
}
