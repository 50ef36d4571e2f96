/*
 * test_fsutil.c - fs_write_replace() never writes through what already
 * sits under its temporary name: the CLI runs it as root in directories
 * the server's user owns, who could plant a symlink there.
 */
#include "core/common.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fsutil.h"
#include "unit/unit.h"

static void
read_back(const char *path, const char *want)
{
	struct buf b;

	buf_init(&b, 4096);
	CHECK_EQ_INT(fs_read_file(path, &b), 0);
	CHECK_EQ_STR(buf_cstr(&b), want);
	buf_release(&b);
}

TEST(fs_write_replace_does_not_follow_a_planted_symlink)
{
	char dir[] = "/tmp/facteur-test-fs.XXXXXX";
	char path[PATH_MAX], tmp[PATH_MAX + 32], victim[PATH_MAX];
	struct stat st;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/users", dir);
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	CHECK_EQ_INT(fs_write_replace(victim, "secret\n", 7, 0600), 0);
	CHECK_EQ_INT(symlink(victim, tmp), 0);

	CHECK_EQ_INT(fs_write_replace(path, "new\n", 4, 0600), 0);
	read_back(path, "new\n");
	read_back(victim, "secret\n");		/* not written through */
	CHECK(lstat(path, &st) == 0 && S_ISREG(st.st_mode));
	CHECK(lstat(tmp, &st) == -1 && errno == ENOENT);

	/* A stale temporary file (a writer with our pid died) is no bar. */
	CHECK_EQ_INT(fs_write_replace(victim, "stale\n", 6, 0600), 0);
	CHECK_EQ_INT(rename(victim, tmp), 0);
	CHECK_EQ_INT(fs_write_replace(path, "newer\n", 6, 0600), 0);
	read_back(path, "newer\n");
	unlink(path);
	rmdir(dir);
}
