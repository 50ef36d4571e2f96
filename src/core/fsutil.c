/*
 * fsutil.c - see fsutil.h.
 */
#include "core/common.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fsutil.h"
#include "core/str.h"

int
fs_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
fs_read_file(const char *path, struct buf *out)
{
	char chunk[16384];
	ssize_t n;
	int fd, saved;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return -1;
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || buf_add(out, chunk, (size_t)n) == -1) {
			saved = n < 0 ? errno : EFBIG;
			close(fd);
			errno = saved;
			return -1;
		}
	}
	close(fd);
	return 0;
}

int
fs_fsync_dir(const char *path)
{
	int fd, r, saved;

	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1)
		return -1;
	r = fsync(fd);
	saved = errno;
	close(fd);
	errno = saved;
	return r;
}

/* The directory part of path ("." when there is none). */
static int
fs_dirname(const char *path, char *out, size_t size)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return cstr_copy(out, size, ".");
	if (slash == path)
		return cstr_copy(out, size, "/");
	return str_copy(out, size, str_make(path, (size_t)(slash - path)));
}

int
fs_write_replace(const char *path, const void *data, size_t len, mode_t mode)
{
	char tmp[PATH_MAX];
	int fd, saved;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >=
	    (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/*
	 * Never through a file already there: the CLI runs this as root in
	 * directories the server's user owns, who could plant a symlink to
	 * /etc/shadow under the name. One left by a writer that died with
	 * our pid (or planted) is removed, not followed (unlink does not).
	 */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    mode);
	if (fd == -1 && errno == EEXIST && unlink(tmp) == 0)
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, mode);
	if (fd == -1)
		return -1;
	if (fs_write_all(fd, data, len) == -1 || fsync(fd) == -1) {
		saved = errno;
		close(fd);
		unlink(tmp);
		errno = saved;
		return -1;
	}
	if (close(fd) == -1 || rename(tmp, path) == -1) {
		saved = errno;
		unlink(tmp);
		errno = saved;
		return -1;
	}
	return 0;
}

int
fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	char dir[PATH_MAX];

	if (fs_dirname(path, dir, sizeof(dir)) == -1) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (fs_write_replace(path, data, len, mode) == -1)
		return -1;
	return fs_fsync_dir(dir);
}

int
fs_mkdir_p(const char *path, mode_t mode)
{
	char p[PATH_MAX], parent[PATH_MAX];
	struct stat st;
	size_t i, len;

	if (cstr_copy(p, sizeof(p), path) == -1) {
		errno = ENAMETOOLONG;
		return -1;
	}
	len = strlen(p);
	for (i = 1; i <= len; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		p[i] = '\0';
		if (stat(p, &st) == 0) {
			if (!S_ISDIR(st.st_mode)) {
				errno = ENOTDIR;
				return -1;
			}
		} else if (mkdir(p, mode) == -1 && errno != EEXIST) {
			return -1;
		} else if (fs_dirname(p, parent, sizeof(parent)) == -1 ||
		    fs_fsync_dir(parent) == -1) {
			return -1;
		}
		if (i < len)
			p[i] = '/';
	}
	return 0;
}

bool
fs_may_exist(const char *path)
{
	return access(path, F_OK) == 0 || errno != ENOENT;
}
