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
    struct durable_file files[2])
{
	struct buf text;
	int r;

	durable_init(&files[1]);
	if (queue_open(&files[0], data_dir, env->qid, "msg") == -1 ||
	    fs_write_all(files[0].fd, headers, headers_len) == -1 ||
	    queue_copy_spool(files[0].fd, sp) == -1 ||
	    queue_open(&files[1], data_dir, env->qid, "env") == -1)
		return -1;
	buf_init(&text, BUF_NOCAP);
	r = queue_env_format(env, &text);
	if (r == 0)
		r = fs_write_all(files[1].fd, buf_data(&text), buf_len(&text));
	buf_release(&text);
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

static size_t
queue_clean_orphans(const char *data_dir)
{
	char dir[PATH_MAX], path[PATH_MAX];
	struct dirent *e;
	size_t n = 0, len;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/queue", data_dir);
	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		len = strlen(e->d_name);
		/* An envelope rewrite a crash interrupted (fs_write_atomic). */
		if (strstr(e->d_name, ".env.tmp.") != NULL &&
		    snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) <
		    (int)sizeof(path) && unlink(path) == 0) {
			n++;
			continue;
		}
		if (len < 5 || strcmp(e->d_name + len - 4, ".msg") != 0 ||
		    snprintf(path, sizeof(path), "%s/%.*s.env", dir,
		    (int)(len - 4), e->d_name) >= (int)sizeof(path) ||
		    access(path, F_OK) == 0)
			continue;
		/* An unreadable envelope was kept aside: keep its message. */
		if (snprintf(path, sizeof(path), "%s/%.*s.env.bad", dir,
		    (int)(len - 4), e->d_name) < (int)sizeof(path) &&
		    access(path, F_OK) == 0)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) <
		    (int)sizeof(path) && unlink(path) == 0)
			n++;
	}
	closedir(d);
	return n;
}

size_t
queue_file_cleanup(const char *data_dir)
{
	return queue_clean_tmp(data_dir) + queue_clean_orphans(data_dir);
}
