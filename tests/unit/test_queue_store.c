/*
 * test_queue_store.c - queue entries on disk: one .msg holding the
 * envelope as queued and the message, a later .env overriding that
 * envelope, removal message first, the entries of older versions (a
 * headerless .msg and its .env) still read, and what startup cleans.
 */
#include "core/common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fsutil.h"
#include "queue/queue_file.h"
#include "queue/queue_store.h"
#include "queue/spool.h"
#include "unit/unit.h"

#define QID "0123456789abcdef"
#define QID2 "fedcba9876543210"

static const char HEADERS[] = "Received: by test\r\n";
static const char BODY[] = "Subject: hi\r\n\r\nhello\r\n";

static void
make_dirs(char *dir)
{
	char path[PATH_MAX];

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/queue/tmp", dir);
	CHECK_EQ_INT(fs_mkdir_p(path, 0700), 0);
}

static void
make_env(struct queue_env *env, const char *qid)
{
	queue_env_init(env);
	cstr_copy(env->qid, sizeof(env->qid), qid);
	env->created = 1795965739;
	cstr_copy(env->from, sizeof(env->from), "alice@example.test");
	queue_env_add_rcpt(env, "bob@remote.test", 1795965739);
	queue_env_add_rcpt(env, "carol@remote.test", 1795965739);
}

/* Queues env with BODY, as the commit thread does (without the syncs). */
static void
queue_one(const char *dir, const struct queue_env *env)
{
	struct durable_file f;
	struct spool *sp = spool_new(dir);

	CHECK_EQ_INT(spool_write(sp, BODY, sizeof(BODY) - 1), 0);
	durable_init(&f);
	CHECK_EQ_INT(queue_file_create(dir, env, HEADERS, sizeof(HEADERS) - 1,
	    sp, &f), 0);
	CHECK_EQ_INT(durable_link(&f), 0);
	spool_free(&sp);
}

static bool
exists(const char *dir, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/queue/%s", dir, name);
	return access(path, F_OK) == 0;
}

static void
put(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/queue/%s", dir, name);
	CHECK_EQ_INT(fs_write_atomic(path, text, strlen(text), 0600), 0);
}

/* The message as queue_file_open() gives it to the SMTP client. */
static void
check_message(const char *dir, const char *qid, const char *want)
{
	char got[4096];
	off_t size = -1;
	ssize_t n;
	int fd = queue_file_open(dir, qid, &size);

	CHECK(fd != -1);
	if (fd == -1)
		return;
	n = read(fd, got, sizeof(got));
	close(fd);
	CHECK_EQ_INT(size, (off_t)strlen(want));
	CHECK_EQ_MEM(got, n > 0 ? (size_t)n : 0, want, strlen(want));
}

static void
rm_rf(const char *dir)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK_EQ_INT(system(cmd), 0);
}

TEST(queue_entry_is_one_file)
{
	char dir[] = "/tmp/facteur-test-queue.XXXXXX";
	struct queue_env env, got;

	make_dirs(dir);
	make_env(&env, QID);
	queue_one(dir, &env);
	CHECK(exists(dir, QID ".msg"));
	CHECK(!exists(dir, QID ".env"));
	CHECK_EQ_INT(queue_store_load(dir, QID, &got), 0);
	CHECK_EQ_STR(got.from, "alice@example.test");
	CHECK_EQ_INT(got.nrcpts, 2);
	CHECK_EQ_STR(got.rcpts[1].addr, "carol@remote.test");
	queue_env_release(&got);
	check_message(dir, QID, "Received: by test\r\nSubject: hi\r\n\r\n"
	    "hello\r\n");

	/* A state change goes to .env, which the next load reads. */
	env.rcpts[0].state = QUEUE_RCPT_SENT;
	CHECK_EQ_INT(queue_store_save(dir, &env), 0);
	CHECK(exists(dir, QID ".env"));
	CHECK_EQ_INT(queue_store_load(dir, QID, &got), 0);
	CHECK_EQ_INT(got.rcpts[0].state, QUEUE_RCPT_SENT);
	queue_env_release(&got);
	check_message(dir, QID, "Received: by test\r\nSubject: hi\r\n\r\n"
	    "hello\r\n");

	CHECK_EQ_INT(queue_store_remove(dir, QID), 0);
	CHECK(!exists(dir, QID ".msg"));
	CHECK(!exists(dir, QID ".env"));
	CHECK_EQ_INT(queue_store_load(dir, QID, &got), -1);
	CHECK_EQ_INT(errno, ENOENT);
	/* Gone already (deleted by hand): ENOENT, which the runner accepts. */
	CHECK_EQ_INT(queue_store_unlink(dir, QID), -1);
	CHECK_EQ_INT(errno, ENOENT);
	queue_env_release(&env);
	rm_rf(dir);
}

/* An entry queued before the header: a bare message and its .env. */
TEST(queue_reads_older_entries)
{
	char dir[] = "/tmp/facteur-test-queue.XXXXXX";
	struct queue_env env, got;
	struct buf text;

	make_dirs(dir);
	make_env(&env, QID);
	buf_init(&text, BUF_NOCAP);
	CHECK_EQ_INT(queue_env_format(&env, &text), 0);
	put(dir, QID ".msg", BODY);
	put(dir, QID ".env", buf_cstr(&text));
	CHECK_EQ_INT(queue_store_load(dir, QID, &got), 0);
	CHECK_EQ_INT(got.nrcpts, 2);
	queue_env_release(&got);
	check_message(dir, QID, BODY);
	CHECK_EQ_INT(queue_file_cleanup(dir), 0);
	CHECK(exists(dir, QID ".msg"));
	CHECK_EQ_INT(queue_store_remove(dir, QID), 0);
	CHECK(!exists(dir, QID ".msg") && !exists(dir, QID ".env"));
	buf_release(&text);
	queue_env_release(&env);
	rm_rf(dir);
}

static void
count_one(void *arg, struct queue_env *env)
{
	(*(int *)arg)++;
	queue_env_release(env);
}

TEST(queue_startup_cleanup)
{
	char dir[] = "/tmp/facteur-test-queue.XXXXXX";
	struct queue_env env;

	make_dirs(dir);
	make_env(&env, QID);
	queue_one(dir, &env);			/* an entry: stays */
	put(dir, QID2 ".env", "facteur-queue 1\n");	/* removal cut short */
	put(dir, "aaaaaaaaaaaaaaaa.msg", BODY);	/* old, .env never came */
	put(dir, "bbbbbbbbbbbbbbbb.msg", BODY);	/* old, envelope kept aside */
	put(dir, "bbbbbbbbbbbbbbbb.env.bad", "junk");
	put(dir, QID ".env.tmp.123", "half");	/* rewrite cut short */
	put(dir, "tmp/" QID2 ".msg", "half");	/* commit cut short */
	CHECK_EQ_INT(queue_file_cleanup(dir), 4);
	CHECK(exists(dir, QID ".msg"));
	CHECK(!exists(dir, QID2 ".env"));
	CHECK(!exists(dir, "aaaaaaaaaaaaaaaa.msg"));
	CHECK(exists(dir, "bbbbbbbbbbbbbbbb.msg"));
	CHECK(!exists(dir, QID ".env.tmp.123"));
	CHECK(!exists(dir, "tmp/" QID2 ".msg"));
	queue_env_release(&env);
	rm_rf(dir);
}

TEST(queue_scan_quarantines_damaged_entries)
{
	char dir[] = "/tmp/facteur-test-queue.XXXXXX";
	struct queue_env env;
	struct buf errors;
	int n = 0;

	make_dirs(dir);
	make_env(&env, QID);
	queue_one(dir, &env);
	/* A header that does not parse, no .env: kept aside as .msg.bad. */
	put(dir, "cccccccccccccccc.msg", "facteur-msg 1 00000x0012\nabc");
	/* A header whose length runs past the end. */
	put(dir, "dddddddddddddddd.msg", "facteur-msg 1 0000009999\nabc");
	/* A quarantined envelope: its entry is left to the operator. */
	put(dir, "bbbbbbbbbbbbbbbb.msg", BODY);
	put(dir, "bbbbbbbbbbbbbbbb.env.bad", "junk");
	buf_init(&errors, BUF_NOCAP);
	CHECK_EQ_INT(queue_store_scan(dir, count_one, &n, &errors), 1);
	CHECK_EQ_INT(n, 1);
	CHECK(exists(dir, "cccccccccccccccc.msg.bad"));
	CHECK(exists(dir, "dddddddddddddddd.msg.bad"));
	CHECK(exists(dir, "bbbbbbbbbbbbbbbb.msg"));
	CHECKF(strstr(buf_cstr(&errors), "moved to .msg.bad") != NULL, "%s",
	    buf_cstr(&errors));
	buf_release(&errors);
	queue_env_release(&env);
	rm_rf(dir);
}
