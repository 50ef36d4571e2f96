/*
 * unit_fs.c - file helpers the unit tests share (unit.h).
 */
#include "core/common.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/fsutil.h"
#include "unit/unit.h"

void
unit_queue_dir(char *tmpl)
{
	char path[PATH_MAX];

	CHECK(mkdtemp(tmpl) != NULL);
	snprintf(path, sizeof(path), "%s/queue/tmp", tmpl);
	CHECK_EQ_INT(fs_mkdir_p(path, 0700), 0);
}

void
unit_rm_rf(const char *dir)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK_EQ_INT(system(cmd), 0);
}

void
unit_put_at(const char *path, off_t off, const void *p, size_t len)
{
	int fd = open(path, O_WRONLY);

	CHECK(fd != -1);
	CHECK_EQ_INT(pwrite(fd, p, len, off), (ssize_t)len);
	close(fd);
}
