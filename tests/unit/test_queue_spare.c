/*
 * test_queue_spare.c - retired queue files kept for reuse (queue_spare.h):
 * a retired entry's file becomes a spare only when nothing else links it
 * and it is small; a writer gets the biggest spare its bytes fill and
 * cuts it to them, so that an entry written over a bigger one reads
 * exactly its own bytes; the pool is bounded and belongs to one
 * data_dir; a full disk gives the spares back.
 */
#include "core/common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "queue/queue_file.h"
#include "queue/queue_spare.h"
#include "queue/queue_store.h"
#include "queue/spool.h"
#include "unit/unit.h"

#define QID "0123456789abcdef"
#define QID2 "fedcba9876543210"

static const char HEADERS[] = "Received: by test\r\n";

/*
 * A file of len bytes at dir/queue/name, allocated (4 KiB at least, so
 * that no file system keeps it inline, without blocks; ext4 counts the
 * blocks of delayed allocation before any sync).
 */
static void
make_file(const char *dir, const char *name, size_t len)
{
	char path[PATH_MAX], *p = xmalloc(len);
	int fd;

	memset(p, 'x', len);
	snprintf(path, sizeof(path), "%s/queue/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd != -1);
	CHECK_EQ_INT(write(fd, p, len), (ssize_t)len);
	close(fd);
	free(p);
}

static bool
exists(const char *dir, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/queue/%s", dir, name);
	return access(path, F_OK) == 0;
}

static int
put(const char *dir, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/queue/%s", dir, name);
	return queue_spare_put(dir, path);
}

static size_t
spares(void)
{
	size_t files, bytes;

	queue_spare_count(&files, &bytes);
	return files;
}

/*
 * The pool is off on tmpfs (nothing to save there): the tests work in
 * /var/tmp, on disk on Debian; said loudly when it is not.
 */
static bool
on_disk(const char *dir)
{
	struct statfs fs;

	if (statfs(dir, &fs) == 0 && fs.f_type != 0x01021994)
		return true;
	fprintf(stderr, "  SKIPPED: %s is on tmpfs, where facteur keeps no "
	    "spares\n", dir);
	return false;
}

/*
 * A data_dir from tmpl with a pool for it: false (the dir removed, the
 * test skipped) when it is on tmpfs.
 */
static bool
pool_dir(char *tmpl)
{
	unit_queue_dir(tmpl);
	if (!on_disk(tmpl)) {
		unit_rm_rf(tmpl);
		return false;
	}
	queue_spare_init(tmpl);
	return true;
}

/* As a commit's fsync of queue/ does: the spares so far may be taken. */
static void
synced(void)
{
	queue_spare_synced(queue_spare_gen());
}

TEST(queue_spare_kept_then_taken_by_size)
{
	char dir[] = "/var/tmp/facteur-test-spare.XXXXXX", path[PATH_MAX];
	int fd;

	if (!pool_dir(dir))
		return;
	make_file(dir, QID ".msg", 6000);		/* two blocks */
	CHECK_EQ_INT(put(dir, QID ".msg"), 0);
	CHECK(!exists(dir, QID ".msg"));
	CHECK(exists(dir, "tmp/spare.1"));
	CHECK_EQ_INT(spares(), 1);
	/*
	 * Not before queue/ is fsynced: a crash could bring the entry's
	 * name back, and its blocks must then still be its own.
	 */
	CHECK_EQ_INT(queue_spare_take(dir, 9000, path, sizeof(path)), -1);
	synced();
	/* One block's worth would cut it (freeing a block): not given. */
	CHECK_EQ_INT(queue_spare_take(dir, 100, path, sizeof(path)), -1);
	fd = queue_spare_take(dir, 9000, path, sizeof(path));
	CHECK(fd != -1);
	CHECK(strstr(path, "/queue/tmp/spare.1") != NULL);
	CHECK_EQ_INT(spares(), 0);
	CHECK_EQ_INT(queue_spare_take(dir, 9000, path, sizeof(path)), -1);
	close(fd);
	queue_spare_end();
	unit_rm_rf(dir);
}

/*
 * An fsync of queue/ publishes the spares made before it started, not
 * those made while it ran: their removal may not be in it.
 */
TEST(queue_spare_published_by_a_later_fsync_only)
{
	char dir[] = "/var/tmp/facteur-test-spare.XXXXXX", path[PATH_MAX];
	uint64_t before;
	int fd;

	if (!pool_dir(dir))
		return;
	make_file(dir, QID ".msg", 4096);
	before = queue_spare_gen();			/* an fsync starts */
	CHECK_EQ_INT(put(dir, QID ".msg"), 0);		/* meanwhile */
	queue_spare_synced(before);			/* it ends */
	CHECK_EQ_INT(queue_spare_take(dir, 4096, path, sizeof(path)), -1);
	make_file(dir, QID2 ".msg", 4096);
	before = queue_spare_gen();			/* covers the first */
	CHECK_EQ_INT(put(dir, QID2 ".msg"), 0);
	queue_spare_synced(before);
	fd = queue_spare_take(dir, 4096, path, sizeof(path));
	CHECK(fd != -1 && strstr(path, "/spare.1") != NULL);
	close(fd);
	CHECK_EQ_INT(queue_spare_take(dir, 4096, path, sizeof(path)), -1);
	synced();
	fd = queue_spare_take(dir, 4096, path, sizeof(path));
	CHECK(fd != -1 && strstr(path, "/spare.2") != NULL);
	close(fd);
	queue_spare_end();
	unit_rm_rf(dir);
}

TEST(queue_spare_declines_what_it_must_not_keep)
{
	char dir[] = "/var/tmp/facteur-test-spare.XXXXXX";
	char other[] = "/var/tmp/facteur-test-spare.XXXXXX";
	char a[PATH_MAX], b[PATH_MAX];
	int fd;

	unit_queue_dir(dir);
	unit_queue_dir(other);
	make_file(dir, QID ".msg", 4096);
	/* No pool yet (the CLI): declined, errno 0, the file left. */
	CHECK_EQ_INT(put(dir, QID ".msg"), -1);
	CHECK_EQ_INT(errno, 0);
	CHECK(exists(dir, QID ".msg"));
	if (!on_disk(dir))
		goto done;
	queue_spare_init(dir);
	/* Another data_dir's file. */
	make_file(other, QID ".msg", 4096);
	CHECK_EQ_INT(put(other, QID ".msg"), -1);
	CHECK(exists(other, QID ".msg"));
	/* Another name links it (a pack's entry not yet retired). */
	snprintf(a, sizeof(a), "%s/queue/" QID ".msg", dir);
	snprintf(b, sizeof(b), "%s/queue/" QID2 ".msg", dir);
	CHECK_EQ_INT(link(a, b), 0);
	CHECK_EQ_INT(put(dir, QID ".msg"), -1);
	CHECK_EQ_INT(errno, 0);
	CHECK(exists(dir, QID ".msg"));
	CHECK_EQ_INT(unlink(b), 0);
	/* Bigger than QUEUE_SPARE_MAX_FILE (one block allocated). */
	snprintf(b, sizeof(b), "%s/queue/big.msg", dir);
	fd = open(b, O_WRONLY | O_CREAT, 0600);
	CHECK_EQ_INT(pwrite(fd, "x", 1, QUEUE_SPARE_MAX_FILE), 1);
	close(fd);
	CHECK_EQ_INT(put(dir, "big.msg"), -1);
	CHECK(exists(dir, "big.msg"));
	/* Gone already: lstat()'s errno. */
	CHECK_EQ_INT(put(dir, "gone.msg"), -1);
	CHECK_EQ_INT(errno, ENOENT);
	CHECK_EQ_INT(spares(), 0);
	CHECK_EQ_INT(put(dir, QID ".msg"), 0);
	CHECK_EQ_INT(spares(), 1);
done:
	queue_spare_end();
	unit_rm_rf(dir);
	unit_rm_rf(other);
}

TEST(queue_spare_pool_is_bounded_and_released)
{
	char dir[] = "/var/tmp/facteur-test-spare.XXXXXX", name[32];
	size_t i, files, bytes;

	if (!pool_dir(dir))
		return;
	for (i = 0; i <= QUEUE_SPARE_MAX_FILES; i++) {
		snprintf(name, sizeof(name), "%zu.msg", i);
		make_file(dir, name, 4096);
		CHECK_EQ_INT(put(dir, name), i < QUEUE_SPARE_MAX_FILES ? 0 : -1);
	}
	CHECK(exists(dir, name));		/* the last one: declined */
	queue_spare_count(&files, &bytes);
	CHECK_EQ_INT(files, QUEUE_SPARE_MAX_FILES);
	CHECK_EQ_INT(bytes, QUEUE_SPARE_MAX_FILES * 4096);
	CHECK_EQ_INT(queue_spare_release(), QUEUE_SPARE_MAX_FILES);
	CHECK_EQ_INT(spares(), 0);
	CHECK(!exists(dir, "tmp/spare.1"));
	CHECK(!exists(dir, "tmp/spare.4096"));
	queue_spare_end();
	unit_rm_rf(dir);
}

/* Queues qid with body, as the commit thread does (without the syncs). */
static void
queue_body(const char *dir, const char *qid, const char *body)
{
	struct queue_env env;
	struct durable_file f;
	struct spool *sp = spool_new(dir);

	queue_env_init(&env);
	cstr_copy(env.qid, sizeof(env.qid), qid);
	env.created = 1795965739;
	cstr_copy(env.from, sizeof(env.from), "alice@example.test");
	queue_env_add_rcpt(&env, "bob@remote.test", 1795965739);
	CHECK_EQ_INT(spool_write(sp, body, strlen(body)), 0);
	CHECK_EQ_INT(queue_file_create(dir, &env, HEADERS, sizeof(HEADERS) - 1,
	    sp, &f), 0);
	CHECK_EQ_INT(durable_sync(&f), 0);
	CHECK_EQ_INT(durable_link(&f), 0);
	spool_free(&sp);
	queue_env_release(&env);
}

/*
 * An entry written over a bigger retired one reads its own bytes, and
 * its file ends where it does (records are appended at the end).
 */
TEST(queue_spare_entry_written_over_a_bigger_one)
{
	char dir[] = "/var/tmp/facteur-test-spare.XXXXXX";
	char *big = xmalloc(7001), got[8192];
	off_t start, size;
	struct stat st;
	struct queue_env env;
	ssize_t n;
	int fd;

	if (!pool_dir(dir))
		goto done;
	memset(big, 'b', 7000);
	big[7000] = '\0';
	queue_body(dir, QID, big);		/* two blocks */
	CHECK_EQ_INT(queue_store_unlink(dir, QID, false), 0);
	CHECK_EQ_INT(spares(), 1);
	synced();
	/* 4.2 KB, two blocks too, less than what the spare holds */
	memcpy(big, "Subject: small\r\n\r\n", 18);
	memset(big + 18, '.', 4200);
	memcpy(big + 4218, "\r\n", 3);
	queue_body(dir, QID2, big);
	CHECK_EQ_INT(spares(), 0);		/* written over the spare */
	CHECK(!exists(dir, "tmp/spare.1"));
	CHECK_EQ_INT(queue_store_load(dir, QID2, &env), 0);
	CHECK_EQ_STR(env.rcpts[0].addr, "bob@remote.test");
	queue_env_release(&env);
	fd = queue_file_open(dir, QID2, &start, &size);
	CHECK(fd != -1);
	n = pread(fd, got, sizeof(got), start);
	CHECK_EQ_INT(n, size);
	CHECK(n > 4096 && memcmp(got + n - 6, "....\r\n", 6) == 0);
	CHECK_EQ_INT(fstat(fd, &st), 0);
	CHECK_EQ_INT(st.st_size, start + size);	/* nothing of the old file */
	close(fd);
done:
	queue_spare_end();
	free(big);
	unit_rm_rf(dir);
}
