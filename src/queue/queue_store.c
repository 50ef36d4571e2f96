/*
 * queue_store.c - see queue_store.h.
 */
#include "core/common.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include "core/fsutil.h"
#include "queue/queue_file.h"
#include "queue/queue_spare.h"
#include "queue/queue_store.h"

bool
queue_store_valid_id(const char *qid)
{
	size_t i;

	for (i = 0; qid[i]; i++)
		if (!((qid[i] >= '0' && qid[i] <= '9') ||
		    (qid[i] >= 'a' && qid[i] <= 'f')))
			return false;
	return i == ID_LEN;
}

int
queue_store_load(const char *data_dir, const char *qid,
    struct queue_env *env)
{
	char path[PATH_MAX];
	const char *why;
	struct buf text;
	int r;

	if (!queue_store_valid_id(qid)) {
		errno = ENOENT;
		return -1;
	}
	if (queue_file_path(data_dir, qid, "env", path, sizeof(path)) == -1)
		return -1;
	buf_init(&text, QUEUE_ENV_TEXT_MAX);
	/*
	 * The .env once written, else the last envelope the .msg holds. A
	 * .msg whose header is damaged (or of a later format) makes the
	 * entry unreadable even with a .env: it is kept aside, not sent.
	 */
	r = fs_read_file(path, &text);
	if (r == -1 && errno == ENOENT) {
		buf_reset(&text);
		r = queue_file_read_env(data_dir, qid, &text);
	} else if (r == 0 && queue_file_check(data_dir, qid) == -1 &&
	    errno == EINVAL) {
		r = -1;
	}
	if (r == 0 && (r = queue_env_parse(buf_data(&text), buf_len(&text),
	    env, &why)) == -1)
		errno = EINVAL;
	if (r == 0 && strcmp(env->qid, qid) != 0) {
		queue_env_release(env);
		errno = EINVAL;
		r = -1;
	}
	buf_release(&text);
	return r;
}

static int
queue_id_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The ids of the entries (their .msg files) in data_dir/queue, sorted. */
static char **
queue_store_ids(const char *data_dir, size_t *n)
{
	char dir[PATH_MAX];
	struct dirent *e;
	char **ids = NULL;
	DIR *d;
	size_t len;

	*n = 0;
	snprintf(dir, sizeof(dir), "%s/queue", data_dir);
	if ((d = opendir(dir)) == NULL)
		return NULL;
	while ((e = readdir(d)) != NULL) {
		len = strlen(e->d_name);
		if (len != ID_LEN + 4 || strcmp(e->d_name + ID_LEN, ".msg"))
			continue;
		ids = xreallocarray(ids, *n + 1, sizeof(*ids));
		ids[(*n)++] = xstrndup(e->d_name, ID_LEN);
	}
	closedir(d);
	if (*n)
		qsort(ids, *n, sizeof(*ids), queue_id_cmp);
	return ids;
}

/* True unless the file is known to be missing. */
static bool
queue_store_exists(const char *data_dir, const char *qid, const char *ext)
{
	char path[PATH_MAX];

	if (queue_file_path(data_dir, qid, ext, path, sizeof(path)) == -1)
		return true;
	return fs_may_exist(path);
}

/*
 * Moves a bad envelope aside, so an operator can look at it: the .env,
 * or the .msg when its own copy is the bad one (an entry without .env).
 */
static void
queue_store_quarantine(const char *data_dir, const char *qid,
    struct buf *errors)
{
	const char *ext = queue_store_exists(data_dir, qid, "env") ? "env" :
	    "msg";
	char from[PATH_MAX], to[PATH_MAX + 8];
	int r;

	if (queue_file_path(data_dir, qid, ext, from, sizeof(from)) == -1)
		return;
	snprintf(to, sizeof(to), "%s.bad", from);
	r = rename(from, to);
	r = buf_addf(errors, "%s: unreadable envelope%s%s.bad\n", from,
	    r == 0 ? ", moved to ." : "", r == 0 ? ext : "");
	(void)r;
}

int
queue_store_scan(const char *data_dir, queue_store_fn fn, void *arg,
    struct buf *errors)
{
	struct queue_env env;
	size_t n, i;
	char **ids = queue_store_ids(data_dir, &n);
	int count = 0;

	for (i = 0; i < n; i++) {
		/* Its envelope was kept aside: the operator decides. */
		if (queue_store_exists(data_dir, ids[i], "env.bad")) {
			free(ids[i]);
			continue;
		}
		if (queue_store_load(data_dir, ids[i], &env) == -1) {
			/*
			 * Gone while it was read (`queue list` beside the
			 * server: retired, maybe its file a spare written
			 * over): left the queue, not damaged.
			 */
			if (errno != ENOENT && queue_store_exists(data_dir,
			    ids[i], "msg"))
				queue_store_quarantine(data_dir, ids[i],
				    errors);
		} else {
			fn(arg, &env);
			count++;
		}
		free(ids[i]);
	}
	free(ids);
	return count;
}

int
queue_store_write(const char *data_dir, const struct queue_env *env)
{
	char path[PATH_MAX];
	struct buf text;
	int r;

	if (queue_file_path(data_dir, env->qid, "env", path, sizeof(path)) ==
	    -1)
		return -1;
	buf_init(&text, QUEUE_ENV_TEXT_MAX);
	r = queue_env_format(env, &text);
	if (r == -1)
		errno = EFBIG;
	/* Once there is a .env it overrides the .msg: it takes the rest. */
	else if (fs_may_exist(path) || (r = queue_file_append_env(data_dir,
	    env->qid, buf_data(&text), buf_len(&text))) == 1)
		r = fs_write_replace(path, buf_data(&text), buf_len(&text),
		    0600) == -1 ? -1 : 1;
	buf_release(&text);
	return r;
}

int
queue_store_unlink(const char *data_dir, const char *qid, bool env_file)
{
	char env[PATH_MAX], msg[PATH_MAX];
	int r;

	if (!queue_store_valid_id(qid) ||
	    queue_file_path(data_dir, qid, "env", env, sizeof(env)) == -1 ||
	    queue_file_path(data_dir, qid, "msg", msg, sizeof(msg)) == -1) {
		errno = ENOENT;
		return -1;
	}
	/*
	 * The .msg first: once it is gone the entry is. The other order
	 * would let a crash leave the .msg alone, whose own envelope says
	 * that every recipient is pending, sent ones included.
	 */
	if ((r = queue_spare_put(data_dir, msg)) == -1)
		r = unlink(msg);	/* not kept (any reason): freed */
	if (r == -1 && errno != ENOENT)
		return -1;
	if (env_file && unlink(env) == -1 && errno != ENOENT)
		return -1;
	if (r == -1)
		errno = ENOENT;		/* already gone (by hand) */
	return r;
}

int
queue_store_sync(const char *data_dir)
{
	char dir[PATH_MAX];

	if (snprintf(dir, sizeof(dir), "%s/queue", data_dir) >=
	    (int)sizeof(dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return fs_fsync_dir(dir);
}

int
queue_store_save(const char *data_dir, const struct queue_env *env)
{
	int r = queue_store_write(data_dir, env);

	return r == 1 ? queue_store_sync(data_dir) : r;
}

int
queue_store_remove(const char *data_dir, const char *qid)
{
	if (queue_store_unlink(data_dir, qid, true) == -1)
		return -1;
	return queue_store_sync(data_dir);
}
