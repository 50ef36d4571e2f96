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
#include "queue/queue_file.h"
#include "queue/spool.h"

#define QUEUE_COPY_CHUNK 65536
/*
 * A message file starts with this line, giving the length of the
 * envelope that follows it (as queued; a later .env overrides it), then
 * the message. Files queued before this header existed start with the
 * message: they have a .env.
 */
#define QUEUE_MSG_MAGIC "facteur-msg 1 "
#define QUEUE_MSG_MAGIC_LEN (sizeof(QUEUE_MSG_MAGIC) - 1)
#define QUEUE_MSG_DIGITS 10
#define QUEUE_MSG_HEAD_LEN (QUEUE_MSG_MAGIC_LEN + QUEUE_MSG_DIGITS + 1)

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

static int
queue_open(struct durable_file *f, const char *data_dir, const char *qid,
    const char *ext)
{
	int n;

	durable_init(f);
	n = snprintf(f->tmp, sizeof(f->tmp), "%s/queue/tmp/%s.%s", data_dir,
	    qid, ext);
	if (n < 0 || (size_t)n >= sizeof(f->tmp) ||
	    queue_file_path(data_dir, qid, ext, f->final,
	    sizeof(f->final)) == -1 ||
	    snprintf(f->dir, sizeof(f->dir), "%s/queue", data_dir) >=
	    (int)sizeof(f->dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	f->fd = open(f->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	return f->fd == -1 ? -1 : 0;
}

static int
queue_copy_spool(int fd, struct spool *sp)
{
	char chunk[QUEUE_COPY_CHUNK];
	size_t off = 0;
	ssize_t n;

	while ((n = spool_read(sp, off, chunk, sizeof(chunk))) > 0) {
		if (fs_write_all(fd, chunk, (size_t)n) == -1)
			return -1;
		off += (size_t)n;
	}
	return n < 0 ? -1 : 0;
}

int
queue_file_create(const char *data_dir, const struct queue_env *env,
    const char *headers, size_t headers_len, struct spool *sp,
    struct durable_file *file)
{
	char head[QUEUE_MSG_HEAD_LEN + 1];
	struct buf text;
	int r;

	if (queue_open(file, data_dir, env->qid, "msg") == -1)
		return -1;
	buf_init(&text, QUEUE_ENV_TEXT_MAX);
	if (queue_env_format(env, &text) == -1) {
		buf_release(&text);
		errno = EFBIG;
		return -1;
	}
	snprintf(head, sizeof(head), "%s%0*zu\n", QUEUE_MSG_MAGIC,
	    QUEUE_MSG_DIGITS, buf_len(&text));
	r = fs_write_all(file->fd, head, QUEUE_MSG_HEAD_LEN);
	if (r == 0)
		r = fs_write_all(file->fd, buf_data(&text), buf_len(&text));
	buf_release(&text);
	if (r == 0)
		r = fs_write_all(file->fd, headers, headers_len);
	if (r == 0)
		r = queue_copy_spool(file->fd, sp);
	return r;
}

/*
 * The envelope length given by the header line at the start of fd: 1,
 * 0 when the file has no header (queued by an older version), -1 with
 * errno (EINVAL: a header that does not parse).
 */
static int
queue_msg_head(int fd, size_t *envlen)
{
	char head[QUEUE_MSG_HEAD_LEN];
	ssize_t n;
	size_t i, v = 0;

	while ((n = pread(fd, head, sizeof(head), 0)) == -1 && errno == EINTR)
		continue;
	if (n < 0)
		return -1;
	if ((size_t)n < QUEUE_MSG_MAGIC_LEN ||
	    memcmp(head, QUEUE_MSG_MAGIC, QUEUE_MSG_MAGIC_LEN) != 0)
		return 0;
	if ((size_t)n != sizeof(head) || head[sizeof(head) - 1] != '\n') {
		errno = EINVAL;
		return -1;
	}
	for (i = QUEUE_MSG_MAGIC_LEN; i < QUEUE_MSG_MAGIC_LEN +
	    QUEUE_MSG_DIGITS; i++) {
		if (head[i] < '0' || head[i] > '9') {
			errno = EINVAL;
			return -1;
		}
		v = v * 10 + (size_t)(head[i] - '0');
	}
	if (v > QUEUE_ENV_TEXT_MAX) {
		errno = EINVAL;
		return -1;
	}
	*envlen = v;
	return 1;
}

static int
queue_msg_open(const char *data_dir, const char *qid)
{
	char path[PATH_MAX];

	if (queue_file_path(data_dir, qid, "msg", path, sizeof(path)) == -1)
		return -1;
	return open(path, O_RDONLY | O_CLOEXEC);
}

int
queue_file_open(const char *data_dir, const char *qid, off_t *size)
{
	struct stat st;
	size_t envlen = 0;
	off_t start;
	int fd, r;

	if ((fd = queue_msg_open(data_dir, qid)) == -1)
		return -1;
	if ((r = queue_msg_head(fd, &envlen)) == -1 || fstat(fd, &st) == -1)
		goto fail;
	start = r == 1 ? (off_t)(QUEUE_MSG_HEAD_LEN + envlen) : 0;
	if (start > st.st_size) {
		errno = EINVAL;
		goto fail;
	}
	if (start && lseek(fd, start, SEEK_SET) == -1)
		goto fail;
	*size = st.st_size - start;
	return fd;
fail:
	r = errno;
	close(fd);
	errno = r;
	return -1;
}

int
queue_file_read_env(const char *data_dir, const char *qid, struct buf *out)
{
	char chunk[QUEUE_COPY_CHUNK];
	size_t envlen, done = 0;
	ssize_t n = 0;
	int fd, r, saved;

	if ((fd = queue_msg_open(data_dir, qid)) == -1)
		return -1;
	r = queue_msg_head(fd, &envlen);
	if (r == 0) {
		errno = ENOENT;		/* an old file: its .env is the entry */
		r = -1;
	}
	while (r == 1 && done < envlen) {
		n = pread(fd, chunk, MIN(sizeof(chunk), envlen - done),
		    (off_t)(QUEUE_MSG_HEAD_LEN + done));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0 || buf_add(out, chunk, (size_t)n) == -1) {
			if (n >= 0)
				errno = n == 0 ? EINVAL : EFBIG;
			r = -1;
		}
		done += n > 0 ? (size_t)n : 0;
	}
	r = r == 1 ? 0 : r;
	saved = errno;
	close(fd);
	errno = saved;
	return r;
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

/* A .msg that is an entry by itself: it has the header. */
static bool
queue_msg_has_head(const char *path)
{
	size_t envlen;
	int fd, r;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return true;	/* cannot tell: keep it */
	r = queue_msg_head(fd, &envlen);
	close(fd);
	return r != 0;		/* a damaged header is quarantined later */
}

static bool
queue_is_orphan(const char *dir, const char *name, const char *path)
{
	size_t len = strlen(name);

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
	if (strcmp(name + len - 4, ".msg") == 0)
		return !queue_has(dir, name, len - 4, ".env") &&
		    !queue_has(dir, name, len - 4, ".env.bad") &&
		    !queue_msg_has_head(path);
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
