/*
 * test_queue_store.c - queue entries on disk: one .msg holding the
 * envelope as queued, the message and the later envelopes appended to
 * it (a torn one ignored and written over), a .env taking over when
 * they no longer fit, removal message first, the entries of older
 * versions (format 1, a headerless .msg and its .env) still read, and
 * what startup cleans.
 */
#include "core/common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/crc32.h"
#include "core/fsutil.h"
#include "queue/queue_file.h"
#include "queue/queue_store.h"
#include "queue/queue_tail.h"
#include "queue/spool.h"
#include "unit/unit.h"

#define QID "0123456789abcdef"
#define QID2 "fedcba9876543210"

static const char HEADERS[] = "Received: by test\r\n";
static const char BODY[] = "Subject: hi\r\n\r\nhello\r\n";

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
	off_t start = -1, size = -1;
	ssize_t n;
	int fd = queue_file_open(dir, qid, &start, &size);

	CHECK(fd != -1);
	if (fd == -1)
		return;
	n = pread(fd, got, (size_t)MIN(size, (off_t)sizeof(got)), start);
	close(fd);
	CHECK_EQ_INT(size, (off_t)strlen(want));
	CHECK_EQ_MEM(got, n > 0 ? (size_t)n : 0, want, strlen(want));
}

TEST(queue_entry_is_one_file)
{
	char dir[] = "/tmp/facteur-test-queue.XXXXXX";
	struct queue_env env, got;

	unit_queue_dir(dir);
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

	/* A state change is appended to the .msg, and the next load reads it. */
	env.rcpts[0].state = QUEUE_RCPT_SENT;
	CHECK_EQ_INT(queue_store_write(dir, &env), 0);
	CHECK(!exists(dir, QID ".env"));
	CHECK_EQ_INT(queue_store_load(dir, QID, &got), 0);
	CHECK_EQ_INT(got.rcpts[0].state, QUEUE_RCPT_SENT);
	CHECK_EQ_INT(got.rcpts[1].state, QUEUE_RCPT_PENDING);
	queue_env_release(&got);
	/* And the next one after it. */
	env.rcpts[1].attempts = 3;
	CHECK_EQ_INT(queue_store_save(dir, &env), 0);
	CHECK_EQ_INT(queue_store_load(dir, QID, &got), 0);
	CHECK_EQ_INT(got.rcpts[0].state, QUEUE_RCPT_SENT);
	CHECK_EQ_INT(got.rcpts[1].attempts, 3);
	queue_env_release(&got);
	check_message(dir, QID, "Received: by test\r\nSubject: hi\r\n\r\n"
	    "hello\r\n");

	CHECK_EQ_INT(queue_store_remove(dir, QID), 0);
	CHECK(!exists(dir, QID ".msg"));
	CHECK(!exists(dir, QID ".env"));
	CHECK_EQ_INT(queue_store_load(dir, QID, &got), -1);
	CHECK_EQ_INT(errno, ENOENT);
	/* Gone already (deleted by hand): ENOENT, which the runner accepts. */
	CHECK_EQ_INT(queue_store_unlink(dir, QID, true), -1);
	CHECK_EQ_INT(errno, ENOENT);
	queue_env_release(&env);
	unit_rm_rf(dir);
}

/* An entry queued before the header: a bare message and its .env. */
TEST(queue_reads_older_entries)
{
	char dir[] = "/tmp/facteur-test-queue.XXXXXX";
	struct queue_env env, got;
	struct buf text;

	unit_queue_dir(dir);
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
	/*
	 * The runner's removal of an entry it knows has no .env leaves one
	 * it did not know of: harmless, the next start removes it.
	 */
	put(dir, QID ".msg", BODY);
	put(dir, QID ".env", buf_cstr(&text));
	CHECK_EQ_INT(queue_store_unlink(dir, QID, false), 0);
	CHECK(!exists(dir, QID ".msg") && exists(dir, QID ".env"));
	CHECK_EQ_INT(queue_file_cleanup(dir), 1);
	CHECK(!exists(dir, QID ".env"));
	buf_release(&text);
	queue_env_release(&env);
	unit_rm_rf(dir);
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

	unit_queue_dir(dir);
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
	unit_rm_rf(dir);
}

TEST(queue_scan_quarantines_damaged_entries)
{
	char dir[] = "/tmp/facteur-test-queue.XXXXXX";
	struct queue_env env;
	struct buf errors;
	int n = 0;

	unit_queue_dir(dir);
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
	unit_rm_rf(dir);
}

static off_t
file_size(const char *dir, const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/queue/%s", dir, name);
	return stat(path, &st) == 0 ? st.st_size : -1;
}

/* Writes len bytes at off in a queue file, as a crash may leave them. */
/* Bytes written over dir's queue/<name> at off. */
static void
put_at(const char *dir, const char *name, off_t off, const char *p,
    size_t len)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/queue/%s", dir, name);
	unit_put_at(path, off, p, len);
}

static unsigned
load_attempts(const char *dir)
{
	struct queue_env got;
	unsigned n;

	if (queue_store_load(dir, QID, &got) == -1)
		return 9999;
	n = got.rcpts[1].attempts;
	queue_env_release(&got);
	return n;
}

/*
 * A crash while appending leaves part of a record: the load reads the
 * state before it, and the next save goes over those bytes.
 */
TEST(queue_torn_update_is_ignored_then_overwritten)
{
	char dir[] = "/tmp/facteur-test-queue.XXXXXX";
	static const char *const torn[] = {
		"facteur-env 0000000002 00000",		/* a short line */
		"facteur-env 0000000002 0000000009 00000000\nfacteur-q",
		"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0",
	};
	struct queue_env env;
	off_t end;
	size_t i;

	unit_queue_dir(dir);
	make_env(&env, QID);
	queue_one(dir, &env);
	env.rcpts[1].attempts = 1;
	CHECK_EQ_INT(queue_store_write(dir, &env), 0);
	end = file_size(dir, QID ".msg");
	for (i = 0; i < ARRAY_LEN(torn); i++) {
		put_at(dir, QID ".msg", end, torn[i], i == 2 ? 24 :
		    strlen(torn[i]));
		CHECK_EQ_INT(load_attempts(dir), 1);
		check_message(dir, QID, "Received: by test\r\nSubject: hi"
		    "\r\n\r\nhello\r\n");
	}
	/*
	 * Torn bytes longer than the record written next: they are cut,
	 * so only the new record follows the run.
	 */
	{
		char junk[4096];

		memset(junk, 'j', sizeof(junk));
		put_at(dir, QID ".msg", end, junk, sizeof(junk));
		env.rcpts[1].attempts = 8;
		CHECK_EQ_INT(queue_store_write(dir, &env), 0);
		CHECK_EQ_INT(load_attempts(dir), 8);
		CHECK(file_size(dir, QID ".msg") < end + 1024);
		put_at(dir, QID ".msg", end, "X", 1);	/* record 2 damaged */
		CHECK_EQ_INT(load_attempts(dir), 1);
	}
	/* A whole record whose text a crash changed: the crc tells. */
	env.rcpts[1].attempts = 2;
	CHECK_EQ_INT(queue_store_write(dir, &env), 0);
	CHECK_EQ_INT(load_attempts(dir), 2);
	put_at(dir, QID ".msg", file_size(dir, QID ".msg") - 2, "X", 1);
	CHECK_EQ_INT(load_attempts(dir), 1);
	/* The next save replaces the damaged record (same number). */
	env.rcpts[1].attempts = 5;
	CHECK_EQ_INT(queue_store_write(dir, &env), 0);
	CHECK_EQ_INT(load_attempts(dir), 5);
	env.rcpts[1].attempts = 6;
	CHECK_EQ_INT(queue_store_write(dir, &env), 0);
	CHECK_EQ_INT(load_attempts(dir), 6);
	CHECK(!exists(dir, QID ".env"));
	queue_env_release(&env);
	unit_rm_rf(dir);
}

/* Past QUEUE_TAIL_MAX a .env takes over, and keeps every later state. */
TEST(queue_full_tail_moves_to_env)
{
	char dir[] = "/tmp/facteur-test-queue.XXXXXX";
	struct queue_env env;
	unsigned i;
	int r = 0;

	unit_queue_dir(dir);
	make_env(&env, QID);
	memset(env.rcpts[0].error, 'e', sizeof(env.rcpts[0].error) - 1);
	queue_one(dir, &env);
	for (i = 1; i < 1000 && (r = queue_store_write(dir, &env)) == 0; i++)
		env.rcpts[1].attempts = i;
	CHECK_EQ_INT(r, 1);
	CHECK(i > 10);
	CHECK(exists(dir, QID ".env"));
	CHECK(file_size(dir, QID ".msg") < QUEUE_TAIL_MAX + 4096);
	CHECK_EQ_INT(load_attempts(dir), i - 1);
	/* Room or not, the .env now gets every change. */
	env.rcpts[0].error[0] = '\0';
	env.rcpts[1].attempts = 4242;
	CHECK_EQ_INT(queue_store_write(dir, &env), 1);
	CHECK_EQ_INT(load_attempts(dir), 4242);
	CHECK_EQ_INT(queue_file_cleanup(dir), 0);
	CHECK_EQ_INT(queue_store_remove(dir, QID), 0);
	CHECK(!exists(dir, QID ".msg") && !exists(dir, QID ".env"));
	queue_env_release(&env);
	unit_rm_rf(dir);
}

/* A format 1 entry (queued by the previous version) updates by .env. */
TEST(queue_format1_entry_updates_by_env)
{
	char dir[] = "/tmp/facteur-test-queue.XXXXXX";
	char head[64];
	struct queue_env env;
	struct buf text, file;

	unit_queue_dir(dir);
	make_env(&env, QID);
	buf_init(&text, BUF_NOCAP);
	buf_init(&file, BUF_NOCAP);
	CHECK_EQ_INT(queue_env_format(&env, &text), 0);
	snprintf(head, sizeof(head), "facteur-msg 1 %010zu\n", buf_len(&text));
	CHECK_EQ_INT(buf_adds(&file, head), 0);
	CHECK_EQ_INT(buf_add(&file, buf_data(&text), buf_len(&text)), 0);
	CHECK_EQ_INT(buf_adds(&file, BODY), 0);
	put(dir, QID ".msg", buf_cstr(&file));
	CHECK_EQ_INT(load_attempts(dir), 0);
	check_message(dir, QID, BODY);
	env.rcpts[1].attempts = 7;
	CHECK_EQ_INT(queue_store_write(dir, &env), 1);
	CHECK(exists(dir, QID ".env"));
	CHECK_EQ_INT(load_attempts(dir), 7);
	check_message(dir, QID, BODY);
	buf_release(&file);
	buf_release(&text);
	queue_env_release(&env);
	unit_rm_rf(dir);
}

TEST(queue_damaged_format2_header_is_quarantined)
{
	char dir[] = "/tmp/facteur-test-queue.XXXXXX";
	struct buf errors;
	int n = 0;

	unit_queue_dir(dir);
	/* The message's length runs past the end of the file. */
	put(dir, "cccccccccccccccc.msg", "facteur-msg 2 0000000000 "
	    "00000000000000009999\nabc");
	/* An unknown format. */
	put(dir, "dddddddddddddddd.msg", "facteur-msg 3 0000000000\nabc");
	/* A length that would overflow a 64-bit integer. */
	put(dir, "eeeeeeeeeeeeeeee.msg", "facteur-msg 2 0000000000 "
	    "99999999999999999999\nabc");
	/* A damaged header beside a .env: parked, the .env kept aside. */
	put(dir, "ffffffffffffffff.msg", "facteur-msg 2 00000x0000 "
	    "00000000000000000003\nabc");
	put(dir, "ffffffffffffffff.env", "facteur-queue 1\n");
	buf_init(&errors, BUF_NOCAP);
	CHECK_EQ_INT(queue_file_cleanup(dir), 0);
	CHECK_EQ_INT(queue_store_scan(dir, count_one, &n, &errors), 0);
	CHECK(exists(dir, "cccccccccccccccc.msg.bad"));
	CHECK(exists(dir, "dddddddddddddddd.msg.bad"));
	CHECK(exists(dir, "eeeeeeeeeeeeeeee.msg.bad"));
	CHECK(exists(dir, "ffffffffffffffff.msg"));
	CHECK(exists(dir, "ffffffffffffffff.env.bad"));
	/* Kept for the operator: startup removes neither. */
	CHECK_EQ_INT(queue_file_cleanup(dir), 0);
	CHECK(exists(dir, "ffffffffffffffff.msg"));
	buf_release(&errors);
	unit_rm_rf(dir);
}

/* The record format, byte for byte: what another tool would parse. */
TEST(queue_tail_record_format)
{
	struct queue_tail t;
	struct buf b;
	uint32_t crc;
	char want[64];

	CHECK_EQ_INT(crc32_update(0, "123456789", 9), 0xcbf43926u);
	crc = crc32_update(0, "facteur-env 0000000001 0000000003 ", 34);
	crc = crc32_update(crc, "abc", 3);
	snprintf(want, sizeof(want), "facteur-env 0000000001 0000000003 "
	    "%08x\nabc", (unsigned)crc);
	buf_init(&b, BUF_NOCAP);
	CHECK_EQ_INT(queue_tail_record(&b, 1, "abc", 3), 0);
	CHECK_EQ_STR(buf_cstr(&b), want);
	CHECK_EQ_INT(queue_tail_record(&b, 2, "de", 2), 0);
	CHECK_EQ_INT(buf_adds(&b, "garbage"), 0);
	queue_tail_scan(buf_data(&b), buf_len(&b), &t);
	CHECK_EQ_INT(t.seq, 2);
	CHECK_EQ_INT(t.end, 2 * QUEUE_TAIL_HEAD_LEN + 5);
	CHECK_EQ_MEM(buf_data(&b) + t.text, t.textlen, "de", 2);
	/* Out of order: record 2 first is no record. */
	buf_reset(&b);
	CHECK_EQ_INT(queue_tail_record(&b, 2, "de", 2), 0);
	queue_tail_scan(buf_data(&b), buf_len(&b), &t);
	CHECK_EQ_INT(t.seq, 0);
	CHECK_EQ_INT(t.end, 0);
	/* Cut anywhere, a record is not one. */
	buf_reset(&b);
	CHECK_EQ_INT(queue_tail_record(&b, 1, "abc", 3), 0);
	for (size_t i = 0; i < buf_len(&b); i++) {
		queue_tail_scan(buf_data(&b), i, &t);
		CHECK_EQ_INT(t.seq, 0);
	}
	buf_release(&b);
}
