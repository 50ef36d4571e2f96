/*
 * test_pop3_maildrop.c - a real Maildir in a temporary directory: the
 * lock against a second session of the same process, new/ moved to cur/,
 * sizes from ",W=" or counted, numbering by arrival, DELE only at commit,
 * nothing deleted without a commit, files renamed by another program.
 */
#include "core/common.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fsutil.h"
#include "pop3/pop3_maildrop.h"
#include "unit/unit.h"

struct fixture {
	char	 data[128];
	char	 maildir[256];
};

static void
path_of(const struct fixture *fx, const char *rel, char *out, size_t size)
{
	snprintf(out, size, "%s/%s", fx->maildir, rel);
}

static void
put(const struct fixture *fx, const char *rel, const char *content)
{
	char path[512];

	path_of(fx, rel, path, sizeof(path));
	if (fs_write_atomic(path, content, strlen(content), 0600) == -1)
		unit_fail(__FILE__, __LINE__, "cannot write %s", path);
}

static bool
exists(const struct fixture *fx, const char *rel)
{
	char path[512];

	path_of(fx, rel, path, sizeof(path));
	return access(path, F_OK) == 0;
}

static size_t
count_dir(const struct fixture *fx, const char *sub)
{
	char path[512];
	struct dirent *e;
	size_t n = 0;
	DIR *d;

	path_of(fx, sub, path, sizeof(path));
	if ((d = opendir(path)) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

#define OLD "1700000000.M1P1Q2.host,S=15,W=18"
#define NEW "1700000001.M1P1Q1.host,S=15,W=18"
#define FOREIGN "1700000002.M5P5Q5.other"

static void
fixture_init(struct fixture *fx)
{
	char dir[300];

	snprintf(fx->data, sizeof(fx->data), "/tmp/facteur-unit-XXXXXX");
	if (mkdtemp(fx->data) == NULL)
		abort();
	snprintf(fx->maildir, sizeof(fx->maildir),
	    "%s/mail/example.test/alice", fx->data);
	snprintf(dir, sizeof(dir), "%s/cur", fx->maildir);
	fs_mkdir_p(dir, 0700);
	snprintf(dir, sizeof(dir), "%s/new", fx->maildir);
	fs_mkdir_p(dir, 0700);
	snprintf(dir, sizeof(dir), "%s/tmp", fx->maildir);
	fs_mkdir_p(dir, 0700);
	snprintf(dir, sizeof(dir), "%s/cur/.hidden-dir", fx->maildir);
	fs_mkdir_p(dir, 0700);
	put(fx, "new/" NEW, "Subject: x\n\nhi\n");
	put(fx, "cur/" OLD ":2,S", "Subject: y\n\nyo\n");
	put(fx, "cur/" FOREIGN ":2,", "x\ny\n");	/* no W=: counted */
	put(fx, "cur/.dotfile", "ignored\n");
}

static void
fixture_release(struct fixture *fx)
{
	char cmd[200];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->data);
	if (system(cmd) != 0)
		unit_fail(__FILE__, __LINE__, "cannot remove %s", fx->data);
}

static struct pop3_maildrop *
open_ok(const struct fixture *fx)
{
	struct pop3_maildrop *md = NULL;
	int err = 0;

	CHECK_EQ_INT(pop3_maildrop_open(fx->data, "alice@example.test", &md,
	    &err), POP3_MD_OK);
	CHECK_EQ_INT(err, 0);
	return md;
}

TEST(pop3_maildrop_list_and_move)
{
	struct pop3_maildrop *md;
	struct fixture fx;
	uint64_t octets;
	size_t count;

	fixture_init(&fx);
	md = open_ok(&fx);
	if (md == NULL)
		return;
	CHECK_EQ_INT(pop3_maildrop_count(md), 3);
	pop3_maildrop_stat(md, &count, &octets);
	CHECK_EQ_INT(count, 3);
	CHECK_EQ_INT(octets, 18 + 18 + 6);
	/* By arrival: the name's seconds. */
	CHECK_EQ_STR(pop3_maildrop_uid(md, 1), "1700000000.M1P1Q2.host");
	CHECK_EQ_STR(pop3_maildrop_uid(md, 2), "1700000001.M1P1Q1.host");
	CHECK_EQ_STR(pop3_maildrop_uid(md, 3), "1700000002.M5P5Q5.other");
	CHECK_EQ_INT(pop3_maildrop_size(md, 3), 6);
	/* new/ went to cur/ with an empty info part. */
	CHECK(!exists(&fx, "new/" NEW));
	CHECK(exists(&fx, "cur/" NEW ":2,"));
	CHECK(!pop3_maildrop_valid(md, 0));
	CHECK(!pop3_maildrop_valid(md, 4));
	pop3_maildrop_free(&md);
	CHECK(md == NULL);
	CHECK_EQ_INT(count_dir(&fx, "cur"), 3);
	fixture_release(&fx);
}

/* flock belongs to the open file description: same process, locked. */
TEST(pop3_maildrop_lock)
{
	struct pop3_maildrop *md, *md2 = NULL;
	struct fixture fx;
	int err = 0;

	fixture_init(&fx);
	md = open_ok(&fx);
	CHECK_EQ_INT(pop3_maildrop_open(fx.data, "alice@example.test", &md2,
	    &err), POP3_MD_IN_USE);
	CHECK(md2 == NULL);
	pop3_maildrop_free(&md);
	md2 = open_ok(&fx);
	pop3_maildrop_free(&md2);
	fixture_release(&fx);
}

TEST(pop3_maildrop_dele_rset_commit)
{
	struct pop3_md_commit r;
	struct pop3_maildrop *md;
	struct fixture fx;
	uint64_t octets;
	size_t count;

	fixture_init(&fx);
	md = open_ok(&fx);
	pop3_maildrop_dele(md, 1);
	CHECK(!pop3_maildrop_valid(md, 1));
	CHECK(pop3_maildrop_deleted(md, 1));
	pop3_maildrop_stat(md, &count, &octets);
	CHECK_EQ_INT(count, 2);
	pop3_maildrop_rset(md);
	CHECK(pop3_maildrop_valid(md, 1));
	/* Without a commit (a dropped connection), nothing goes. */
	pop3_maildrop_dele(md, 1);
	pop3_maildrop_free(&md);
	CHECK(exists(&fx, "cur/" OLD ":2,S"));

	md = open_ok(&fx);
	pop3_maildrop_dele(md, 1);
	pop3_maildrop_seen(md, 2);
	CHECK_EQ_INT(pop3_maildrop_commit(md, &r), 0);
	CHECK_EQ_INT(r.deleted, 1);
	CHECK_EQ_INT(r.failed, 0);
	CHECK_EQ_INT(r.left, 2);
	pop3_maildrop_free(&md);
	CHECK(!exists(&fx, "cur/" OLD ":2,S"));
	CHECK(exists(&fx, "cur/" NEW ":2,S"));	/* RETR'd: seen */
	CHECK(exists(&fx, "cur/" FOREIGN ":2,"));
	CHECK_EQ_INT(count_dir(&fx, "cur"), 2);
	fixture_release(&fx);
}

/* Another program renames a file (its flags) during the session. */
TEST(pop3_maildrop_follows_renames)
{
	struct pop3_md_commit r;
	struct pop3_maildrop *md;
	struct fixture fx;
	char from[512], to[512], buf[32];
	ssize_t n;
	int fd;

	fixture_init(&fx);
	md = open_ok(&fx);
	path_of(&fx, "cur/" OLD ":2,S", from, sizeof(from));
	path_of(&fx, "cur/" OLD ":2,RS", to, sizeof(to));
	CHECK(rename(from, to) == 0);
	fd = pop3_maildrop_open_msg(md, 1);
	CHECK(fd != -1);
	n = read(fd, buf, sizeof(buf));
	CHECK_EQ_MEM(buf, (size_t)n, "Subject: y\n\nyo\n", 15);
	close(fd);
	path_of(&fx, "cur/" FOREIGN ":2,", from, sizeof(from));
	path_of(&fx, "cur/" FOREIGN ":2,T", to, sizeof(to));
	CHECK(rename(from, to) == 0);
	pop3_maildrop_dele(md, 3);
	CHECK_EQ_INT(pop3_maildrop_commit(md, &r), 0);
	CHECK_EQ_INT(r.deleted, 1);
	CHECK(!exists(&fx, "cur/" FOREIGN ":2,T"));
	pop3_maildrop_free(&md);
	fixture_release(&fx);
}

/* A user whose Maildir does not exist yet gets an empty one. */
TEST(pop3_maildrop_creates_missing)
{
	struct pop3_maildrop *md = NULL;
	struct fixture fx;
	int err = 0;

	fixture_init(&fx);
	CHECK_EQ_INT(pop3_maildrop_open(fx.data, "bob@example.test", &md,
	    &err), POP3_MD_OK);
	if (md)
		CHECK_EQ_INT(pop3_maildrop_count(md), 0);
	pop3_maildrop_free(&md);
	CHECK_EQ_INT(pop3_maildrop_open(fx.data, "no-at-sign", &md, &err),
	    POP3_MD_ERROR);
	CHECK(md == NULL);
	fixture_release(&fx);
}
