/*
 * test_queue_pack.c - the entries of one commit batch in one file (a
 * pack, format 3), hard-linked under each entry's name: each name reads
 * its own envelope and message, records appended by one entry leave the
 * others' states alone (threads included), a torn record is written
 * over, a damaged index line makes only its entry and the one before it
 * unreadable, never another's message, a damaged tailstart cuts
 * nothing, and an entry goes with its name.
 */
#include "core/common.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fsutil.h"
#include "queue/queue_file.h"
#include "queue/queue_store.h"
#include "queue/queue_tail.h"
#include "queue/spool.h"
#include "unit/unit.h"

#define NPACK 3

static const char *const QIDS[NPACK] = {
	"0123456789abcdef", "fedcba9876543210", "00000000000000aa",
};
static const char *const BODIES[NPACK] = {
	"Subject: one\r\n\r\nfirst\r\n",
	"Subject: two\r\n\r\nsecond, longer\r\n",
	"Subject: three\r\n\r\n3\r\n",
};
static const char HEADERS[] = "Received: by test\r\n";

static void
path_of(const char *dir, const char *name, char *out, size_t size)
{
	snprintf(out, size, "%s/queue/%s", dir, name);
}

/* Queues the NPACK entries as one pack, as the commit thread does. */
static void
queue_pack(const char *dir, struct queue_env *envs)
{
	struct queue_pack_item items[NPACK];
	struct spool *sp[NPACK];
	struct durable_file pack, names[NPACK];
	char final[PATH_MAX];
	size_t i;

	for (i = 0; i < NPACK; i++) {
		queue_env_init(&envs[i]);
		cstr_copy(envs[i].qid, sizeof(envs[i].qid), QIDS[i]);
		envs[i].created = 1795965739;
		cstr_copy(envs[i].from, sizeof(envs[i].from), "a@example.test");
		queue_env_add_rcpt(&envs[i], "bob@remote.test", 1795965739);
		sp[i] = spool_new(dir);
		CHECK_EQ_INT(spool_write(sp[i], BODIES[i], strlen(BODIES[i])),
		    0);
		items[i] = (struct queue_pack_item){ &envs[i], HEADERS,
		    sizeof(HEADERS) - 1, sp[i] };
	}
	durable_init(&pack);
	CHECK_EQ_INT(queue_file_create_pack(dir, items, NPACK, &pack), 0);
	CHECK_EQ_INT(durable_sync(&pack), 0);
	for (i = 0; i < NPACK; i++) {
		CHECK_EQ_INT(queue_file_path(dir, QIDS[i], "msg", final,
		    sizeof(final)), 0);
		durable_link_to(&names[i], &pack, final);
		CHECK_EQ_INT(durable_sync(&names[i]), 0);
		CHECK_EQ_INT(durable_link(&names[i]), 0);
		durable_abort(&names[i]);	/* nothing: the pack's own */
	}
	durable_abort(&pack);
	for (i = 0; i < NPACK; i++)
		spool_free(&sp[i]);
}

static void
release(struct queue_env *envs)
{
	size_t i;

	for (i = 0; i < NPACK; i++)
		queue_env_release(&envs[i]);
}

static void
check_message(const char *dir, size_t i)
{
	char got[4096], want[256];
	off_t start = -1, size = -1;
	ssize_t n;
	int fd = queue_file_open(dir, QIDS[i], &start, &size);

	snprintf(want, sizeof(want), "%s%s", HEADERS, BODIES[i]);
	CHECK(fd != -1);
	if (fd == -1)
		return;
	n = pread(fd, got, (size_t)MIN(size, (off_t)sizeof(got)), start);
	close(fd);
	CHECK_EQ_INT(size, (off_t)strlen(want));
	CHECK_EQ_MEM(got, n > 0 ? (size_t)n : 0, want, strlen(want));
}

/* The attempts of entry i's recipient, 9999 when it cannot be read. */
static unsigned
attempts(const char *dir, size_t i)
{
	struct queue_env got;
	unsigned n;

	if (queue_store_load(dir, QIDS[i], &got) == -1)
		return 9999;
	n = got.rcpts[0].attempts;
	CHECK_EQ_STR(got.qid, QIDS[i]);
	queue_env_release(&got);
	return n;
}

static void
save(const char *dir, struct queue_env *envs, size_t i, unsigned n, int want)
{
	envs[i].rcpts[0].attempts = n;
	CHECK_EQ_INT(queue_store_write(dir, &envs[i]), want);
}

static struct stat
stat_of(const char *dir, const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	path_of(dir, name, path, sizeof(path));
	memset(&st, 0, sizeof(st));
	if (stat(path, &st) == -1)
		st.st_nlink = 0;
	return st;
}

/* Bytes written over dir's queue/<name> at off. */
static void
put_at(const char *dir, const char *name, off_t off, const char *p,
    size_t len)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/queue/%s", dir, name);
	unit_put_at(path, off, p, len);
}

static void
count_one(void *arg, struct queue_env *env)
{
	(*(int *)arg)++;
	queue_env_release(env);
}

TEST(queue_pack_entries_share_one_file)
{
	char dir[] = "/tmp/facteur-test-pack.XXXXXX";
	struct queue_env envs[NPACK];
	struct buf errors;
	size_t i;
	int n = 0;

	unit_queue_dir(dir);
	queue_pack(dir, envs);
	for (i = 0; i < NPACK; i++) {
		CHECK_EQ_INT(attempts(dir, i), 0);
		check_message(dir, i);
	}
	{
		char a[32], b[32];

		snprintf(a, sizeof(a), "%s.msg", QIDS[0]);
		snprintf(b, sizeof(b), "%s.msg", QIDS[2]);
		CHECK_EQ_INT(stat_of(dir, a).st_nlink, NPACK);
		CHECK_EQ_INT(stat_of(dir, a).st_ino, stat_of(dir, b).st_ino);
	}
	/* Each entry's records are its own, interleaved in the one tail. */
	save(dir, envs, 1, 3, 0);
	save(dir, envs, 0, 5, 0);
	save(dir, envs, 1, 4, 0);
	CHECK_EQ_INT(attempts(dir, 0), 5);
	CHECK_EQ_INT(attempts(dir, 1), 4);
	CHECK_EQ_INT(attempts(dir, 2), 0);
	for (i = 0; i < NPACK; i++)
		check_message(dir, i);
	buf_init(&errors, BUF_NOCAP);
	CHECK_EQ_INT(queue_store_scan(dir, count_one, &n, &errors), NPACK);
	CHECK_EQ_INT(n, NPACK);
	CHECK_EQ_INT(buf_len(&errors), 0);
	/* Startup keeps the names, and tmp/ held nothing of the pack. */
	CHECK_EQ_INT(queue_file_cleanup(dir), 0);
	/* An entry goes with its name; the others stay whole. */
	CHECK_EQ_INT(queue_store_unlink(dir, QIDS[1], false), 0);
	CHECK_EQ_INT(attempts(dir, 1), 9999);
	CHECK_EQ_INT(attempts(dir, 0), 5);
	save(dir, envs, 2, 1, 0);
	CHECK_EQ_INT(attempts(dir, 2), 1);
	check_message(dir, 2);
	CHECK_EQ_INT(queue_store_remove(dir, QIDS[0]), 0);
	CHECK_EQ_INT(queue_store_remove(dir, QIDS[2]), 0);
	n = 0;
	CHECK_EQ_INT(queue_store_scan(dir, count_one, &n, &errors), 0);
	buf_release(&errors);
	release(envs);
	unit_rm_rf(dir);
}

/* A crash while one entry appends: every entry reads its last state. */
TEST(queue_pack_torn_record_is_written_over)
{
	char dir[] = "/tmp/facteur-test-pack.XXXXXX";
	char name[32], junk[300];
	struct queue_env envs[NPACK];
	off_t end;

	unit_queue_dir(dir);
	queue_pack(dir, envs);
	snprintf(name, sizeof(name), "%s.msg", QIDS[2]);
	save(dir, envs, 0, 1, 0);
	save(dir, envs, 2, 2, 0);
	end = stat_of(dir, name).st_size;
	memset(junk, 'j', sizeof(junk));
	memcpy(junk, "facteur-env 0000000003 0000000200 ", 34);
	put_at(dir, name, end, junk, sizeof(junk));
	CHECK_EQ_INT(attempts(dir, 0), 1);
	CHECK_EQ_INT(attempts(dir, 2), 2);
	save(dir, envs, 1, 7, 0);
	CHECK(stat_of(dir, name).st_size < end + (off_t)sizeof(junk));
	CHECK_EQ_INT(attempts(dir, 0), 1);
	CHECK_EQ_INT(attempts(dir, 1), 7);
	CHECK_EQ_INT(attempts(dir, 2), 2);
	release(envs);
	unit_rm_rf(dir);
}

/* Offset digits of index line i, and of the header's tailstart. */
#define LINE_OFF(i)	(46 + 38 * (i) + 17)
#define TAIL_OFF	25

static void
read_at(const char *dir, const char *name, off_t off, char *p, size_t len)
{
	char path[PATH_MAX];
	int fd;

	path_of(dir, name, path, sizeof(path));
	fd = open(path, O_RDONLY);
	CHECK(fd != -1);
	CHECK_EQ_INT(pread(fd, p, len, off), (ssize_t)len);
	p[len] = '\0';
	close(fd);
}

/*
 * Damage in an index line makes its entry and the one before it
 * unreadable (quarantined), not the others; a line pointing at another
 * entry never gives that entry's message or envelope.
 */
TEST(queue_pack_damaged_index_line_is_one_entry)
{
	char dir[] = "/tmp/facteur-test-pack.XXXXXX";
	char from[PATH_MAX], to[PATH_MAX], save0[32], save2[32];
	const char *name = "0123456789abcdef.msg";
	struct queue_env envs[NPACK];
	struct buf errors;
	int n = 0;

	unit_queue_dir(dir);
	queue_pack(dir, envs);
	read_at(dir, name, LINE_OFF(0), save0, 20);
	read_at(dir, name, LINE_OFF(2), save2, 20);
	/* Not a number: entries 2 and 1 (which ends where 2 starts). */
	put_at(dir, name, LINE_OFF(2), "9x", 2);
	CHECK_EQ_INT(attempts(dir, 2), 9999);
	CHECK_EQ_INT(attempts(dir, 1), 9999);
	CHECK_EQ_INT(attempts(dir, 0), 0);
	check_message(dir, 0);
	/* A number past the records' start. */
	put_at(dir, name, LINE_OFF(2), "00000000000000099999", 20);
	CHECK_EQ_INT(attempts(dir, 2), 9999);
	/* Entry 2's line at entry 0: neither 2 nor 1 reads entry 0. */
	put_at(dir, name, LINE_OFF(2), save0, 20);
	CHECK_EQ_INT(attempts(dir, 2), 9999);
	CHECK_EQ_INT(attempts(dir, 1), 9999);
	CHECK_EQ_INT(attempts(dir, 0), 0);
	put_at(dir, name, LINE_OFF(2), save2, 20);
	for (n = 0; n < NPACK; n++)
		CHECK_EQ_INT(attempts(dir, (size_t)n), 0);
	/* Entry 0's line at entry 2: 0 is unreadable, 1 and 2 are not. */
	put_at(dir, name, LINE_OFF(0), save2, 20);
	CHECK_EQ_INT(attempts(dir, 0), 9999);
	CHECK_EQ_INT(attempts(dir, 1), 0);
	check_message(dir, 1);
	check_message(dir, 2);
	/* A name the pack does not list. */
	path_of(dir, name, from, sizeof(from));
	path_of(dir, "1111111111111111.msg", to, sizeof(to));
	CHECK_EQ_INT(link(from, to), 0);
	buf_init(&errors, BUF_NOCAP);
	n = 0;
	CHECK_EQ_INT(queue_store_scan(dir, count_one, &n, &errors), 2);
	CHECK(strstr(buf_cstr(&errors), QIDS[0]) != NULL);
	CHECK(strstr(buf_cstr(&errors), "1111111111111111") != NULL);
	CHECK_EQ_INT(stat_of(dir, "0123456789abcdef.msg.bad").st_nlink,
	    NPACK + 1);
	buf_release(&errors);
	release(envs);
	unit_rm_rf(dir);
}

/*
 * A damaged tailstart in the header line: the last entry is unreadable,
 * and no save cuts the file there (it would destroy entries): the
 * states go to .env files until it is repaired.
 */
TEST(queue_pack_damaged_tailstart_cuts_nothing)
{
	char dir[] = "/tmp/facteur-test-pack.XXXXXX";
	const char *name = "0123456789abcdef.msg";
	char tail[32], bad[32];
	struct queue_env envs[NPACK];
	off_t size;
	int d;

	unit_queue_dir(dir);
	queue_pack(dir, envs);
	save(dir, envs, 1, 2, 0);
	read_at(dir, name, TAIL_OFF, tail, 20);
	for (d = -5; d <= 5; d += 10) {
		snprintf(bad, sizeof(bad), "%020lld",
		    strtoll(tail, NULL, 10) + d);
		put_at(dir, name, TAIL_OFF, bad, 20);
		size = stat_of(dir, name).st_size;
		CHECK_EQ_INT(attempts(dir, 2), 9999);
		save(dir, envs, 0, 3, 1);
		CHECK_EQ_INT(stat_of(dir, name).st_size, size);
		CHECK_EQ_INT(attempts(dir, 0), 3);
		check_message(dir, 0);
	}
	put_at(dir, name, TAIL_OFF, tail, 20);
	CHECK_EQ_INT(attempts(dir, 1), 2);
	CHECK_EQ_INT(attempts(dir, 2), 0);
	check_message(dir, 2);
	release(envs);
	unit_rm_rf(dir);
}

struct saver {
	const char		*dir;
	struct queue_env	*env;
	int			 failures;
};

#define SAVES 40

static void *
saver_run(void *arg)
{
	struct saver *sv = arg;
	unsigned i;

	for (i = 1; i <= SAVES; i++) {
		sv->env->rcpts[0].attempts = i;
		if (queue_store_write(sv->dir, sv->env) != 0)
			sv->failures++;
	}
	return NULL;
}

/* Threads saving different entries of one pack lose no record. */
TEST(queue_pack_concurrent_saves_keep_every_record)
{
	char dir[] = "/tmp/facteur-test-pack.XXXXXX";
	char path[PATH_MAX], tail[32];
	struct queue_env envs[NPACK];
	struct saver sv[NPACK];
	pthread_t th[NPACK];
	struct queue_tail t;
	struct buf file;
	size_t i;

	unit_queue_dir(dir);
	queue_pack(dir, envs);
	for (i = 0; i < NPACK; i++) {
		sv[i] = (struct saver){ dir, &envs[i], 0 };
		CHECK_EQ_INT(pthread_create(&th[i], NULL, saver_run, &sv[i]),
		    0);
	}
	for (i = 0; i < NPACK; i++) {
		pthread_join(th[i], NULL);
		CHECK_EQ_INT(sv[i].failures, 0);
		CHECK_EQ_INT(attempts(dir, i), SAVES);
		check_message(dir, i);
	}
	path_of(dir, "00000000000000aa.msg", path, sizeof(path));
	buf_init(&file, BUF_NOCAP);
	CHECK_EQ_INT(fs_read_file(path, &file), 0);
	read_at(dir, "00000000000000aa.msg", TAIL_OFF, tail, 20);
	queue_tail_scan(buf_data(&file) + strtoll(tail, NULL, 10),
	    buf_len(&file) - (size_t)strtoll(tail, NULL, 10), &t);
	CHECK_EQ_INT(t.seq, NPACK * SAVES);
	CHECK_EQ_INT(t.end, buf_len(&file) - (size_t)strtoll(tail, NULL, 10));
	buf_release(&file);
	release(envs);
	unit_rm_rf(dir);
}

/* The entries share QUEUE_TAIL_MAX; past it every state goes to a .env. */
TEST(queue_pack_full_tail_moves_to_env)
{
	char dir[] = "/tmp/facteur-test-pack.XXXXXX";
	struct queue_env envs[NPACK];
	unsigned i;
	int r = 0;

	unit_queue_dir(dir);
	queue_pack(dir, envs);
	memset(envs[0].rcpts[0].error, 'e', sizeof(envs[0].rcpts[0].error) - 1);
	for (i = 1; i < 1000 && (r = queue_store_write(dir, &envs[0])) == 0;
	    i++)
		envs[0].rcpts[0].attempts = i;
	CHECK_EQ_INT(r, 1);
	CHECK_EQ_INT(attempts(dir, 0), i - 1);
	/* A smaller record may still fit, then it is appended. */
	envs[1].rcpts[0].attempts = 3;
	r = queue_store_write(dir, &envs[1]);
	CHECK(r == 0 || r == 1);
	CHECK_EQ_INT(attempts(dir, 1), 3);
	CHECK_EQ_INT(attempts(dir, 2), 0);
	CHECK_EQ_INT(queue_file_cleanup(dir), 0);
	CHECK_EQ_INT(queue_store_remove(dir, QIDS[0]), 0);
	CHECK_EQ_INT(queue_store_remove(dir, QIDS[1]), 0);
	CHECK_EQ_INT(attempts(dir, 2), 0);
	check_message(dir, 2);
	release(envs);
	unit_rm_rf(dir);
}

/*
 * Damage in the middle of the records (not a torn last one): a save of
 * any entry must not cut there, which would take the later states of the
 * others (sent recipients sent again); it goes to a .env.
 */
TEST(queue_pack_damaged_middle_record_cuts_nothing)
{
	char dir[] = "/tmp/facteur-test-pack.XXXXXX";
	const char *name = "0123456789abcdef.msg";
	char path[PATH_MAX], x;
	struct queue_env envs[NPACK];
	struct buf file;
	const char *second;
	off_t size, at;

	unit_queue_dir(dir);
	queue_pack(dir, envs);
	save(dir, envs, 0, 1, 0);
	save(dir, envs, 1, 2, 0);
	save(dir, envs, 2, 3, 0);
	path_of(dir, name, path, sizeof(path));
	buf_init(&file, BUF_NOCAP);
	CHECK_EQ_INT(fs_read_file(path, &file), 0);
	second = memmem(buf_data(&file), buf_len(&file), "facteur-env ", 12);
	CHECK(second != NULL);
	second = memmem(second + 1, buf_len(&file) - (size_t)(second + 1 -
	    buf_data(&file)), "facteur-env ", 12);
	CHECK(second != NULL);
	at = (off_t)(second - buf_data(&file)) + 60;
	x = buf_data(&file)[at];
	put_at(dir, name, at, x == 'Z' ? "Y" : "Z", 1);
	CHECK_EQ_INT(attempts(dir, 1), 0);	/* back to the queued state */
	CHECK_EQ_INT(attempts(dir, 2), 0);
	size = stat_of(dir, name).st_size;
	save(dir, envs, 0, 5, 1);		/* a .env, nothing cut */
	CHECK_EQ_INT(stat_of(dir, name).st_size, size);
	CHECK_EQ_INT(attempts(dir, 0), 5);
	put_at(dir, name, at, &x, 1);		/* repaired: all there */
	CHECK_EQ_INT(attempts(dir, 1), 2);
	CHECK_EQ_INT(attempts(dir, 2), 3);
	buf_release(&file);
	release(envs);
	unit_rm_rf(dir);
}
