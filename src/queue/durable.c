/*
 * durable.c - see durable.h.
 */
#include "core/common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "queue/durable.h"

void
durable_init(struct durable_file *f)
{
	f->fd = -1;
	f->tmp[0] = f->final[0] = f->dir[0] = '\0';
	f->link_only = false;
}

void
durable_link_to(struct durable_file *f, const struct durable_file *to,
    const char *final)
{
	durable_init(f);
	f->link_only = true;
	memcpy(f->tmp, to->tmp, sizeof(f->tmp));
	memcpy(f->dir, to->dir, sizeof(f->dir));
	snprintf(f->final, sizeof(f->final), "%s", final);
}

void
durable_start(struct durable_file *f)
{
	if (f->fd != -1 &&
	    sync_file_range(f->fd, 0, 0, SYNC_FILE_RANGE_WRITE) == -1) {
		/* only a hint: the fdatasync that follows decides */
	}
}

int
durable_sync(struct durable_file *f)
{
	return f->link_only ? 0 : fdatasync(f->fd);
}

int
durable_link(struct durable_file *f)
{
	if (f->link_only) {
		if (link(f->tmp, f->final) == -1)
			return -1;
		f->tmp[0] = '\0';
		return 0;
	}
	if (rename(f->tmp, f->final) == -1)
		return -1;
	f->tmp[0] = '\0';
	close(f->fd);
	f->fd = -1;
	return 0;
}

void
durable_abort(struct durable_file *f)
{
	if (f->fd != -1)
		close(f->fd);
	f->fd = -1;
	if (f->tmp[0] && !f->link_only)
		unlink(f->tmp);
	f->tmp[0] = '\0';
}
