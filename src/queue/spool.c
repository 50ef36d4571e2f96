/*
 * spool.c - see spool.h.
 */
#include "core/common.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fsutil.h"
#include "core/limits.h"
#include "queue/spool.h"

struct spool {
	struct buf	 mem;
	int		 fd;		/* -1 while in memory */
	size_t		 size;
	char		*dir;
};

struct spool *
spool_new(const char *dir)
{
	struct spool *sp = xcalloc(1, sizeof(*sp));

	buf_init(&sp->mem, SPOOL_MEM_MAX);
	sp->fd = -1;
	sp->dir = xstrdup(dir);
	return sp;
}

void
spool_free(struct spool **spp)
{
	struct spool *sp = *spp;

	if (sp == NULL)
		return;
	if (sp->fd != -1)
		close(sp->fd);
	buf_release(&sp->mem);
	free(sp->dir);
	XFREE(spp);
}

void
spool_reset(struct spool *sp)
{
	if (sp->fd != -1) {
		close(sp->fd);
		sp->fd = -1;
	}
	buf_reset(&sp->mem);
	sp->size = 0;
}

/* An anonymous file: nothing to clean up after a crash. */
static int
spool_open_file(const char *dir)
{
	char path[PATH_MAX];
	int fd;

	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd != -1 || (errno != EOPNOTSUPP && errno != EISDIR &&
	    errno != EINVAL))
		return fd;
	if (snprintf(path, sizeof(path), "%s/spool.XXXXXX", dir) >=
	    (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = mkostemp(path, O_CLOEXEC);
	if (fd != -1)
		unlink(path);
	return fd;
}

static int
spool_spill(struct spool *sp)
{
	int fd = spool_open_file(sp->dir);

	if (fd == -1)
		return -1;
	if (fs_write_all(fd, buf_data(&sp->mem), buf_len(&sp->mem)) == -1) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	sp->fd = fd;
	buf_release(&sp->mem);
	return 0;
}

int
spool_write(struct spool *sp, const void *p, size_t len)
{
	if (sp->fd == -1) {
		if (buf_add(&sp->mem, p, len) == 0) {
			sp->size += len;
			return 0;
		}
		if (spool_spill(sp) == -1)
			return -1;
	}
	if (fs_write_all(sp->fd, p, len) == -1)
		return -1;
	sp->size += len;
	return 0;
}

size_t
spool_size(const struct spool *sp)
{
	return sp->size;
}

const char *
spool_mem(const struct spool *sp)
{
	return sp->fd == -1 ? buf_data(&sp->mem) : NULL;
}

ssize_t
spool_read(struct spool *sp, size_t off, char *dst, size_t len)
{
	ssize_t n;

	if (off >= sp->size)
		return 0;
	len = MIN(len, sp->size - off);
	if (sp->fd == -1) {
		memcpy(dst, buf_data(&sp->mem) + off, len);
		return (ssize_t)len;
	}
	do {
		n = pread(sp->fd, dst, len, (off_t)off);
	} while (n < 0 && errno == EINTR);
	return n;
}

int
spool_overwrite(struct spool *sp, size_t off, const void *p, size_t len)
{
	ssize_t n;

	if (off > sp->size || len > sp->size - off)
		return -1;
	if (sp->fd == -1) {
		memcpy(sp->mem.data + off, p, len);
		return 0;
	}
	do {
		n = pwrite(sp->fd, p, len, (off_t)off);
	} while (n < 0 && errno == EINTR);
	return n == (ssize_t)len ? 0 : -1;
}
