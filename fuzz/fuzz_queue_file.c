/*
 * fuzz_queue_file.c - libFuzzer harness for the readers and the record
 * writer of queue_file.c and queue_pack.c: the input is a .msg of any
 * format (a pack included), written to a private directory and opened as
 * entry QID, as after a crash or a damaged disk.
 *
 * Whatever the bytes: the message found lies within the file; in a pack
 * the envelope read is QID's (it starts with QID's key), never another
 * entry's; and once a record is appended (0 returned), the envelope read
 * back is that record.
 */
#include "core/common.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fsutil.h"
#include "queue/queue_file.h"

#define QID "0123456789abcdef"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *
fuzz_dir(void)
{
	static char dir[64];
	char sub[96];

	if (dir[0] == '\0') {
		snprintf(dir, sizeof(dir), "%s/fuzz-queue.XXXXXX",
		    access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
		if (mkdtemp(dir) == NULL)
			abort();
		snprintf(sub, sizeof(sub), "%s/queue/tmp", dir);
		if (fs_mkdir_p(sub, 0700) == -1)
			abort();
	}
	return dir;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char text[] = "facteur-queue 1\nqid " QID "\ncreated 1\n";
	const char *dir = fuzz_dir();
	bool pack = size >= 14 && memcmp(data, "facteur-msg 3 ", 14) == 0;
	char path[PATH_MAX];
	off_t start, len;
	struct stat st;
	struct buf env;
	int fd, r;

	if (queue_file_path(dir, QID, "msg", path, sizeof(path)) == -1 ||
	    fs_write_atomic(path, (const char *)data, size, 0600) == -1)
		abort();
	if ((fd = queue_file_open(dir, QID, &start, &len)) != -1) {
		if (fstat(fd, &st) == -1 || start < 0 || len < 0 ||
		    start > st.st_size || len > st.st_size - start)
			abort();
		close(fd);
	}
	buf_init(&env, BUF_NOCAP);
	if (queue_file_read_env(dir, QID, &env) == 0 && pack &&
	    (buf_len(&env) < 36 || memcmp(buf_data(&env), text, 36) != 0))
		abort();
	r = queue_file_append_env(dir, QID, text, sizeof(text) - 1);
	buf_reset(&env);
	if (r == 0 && (queue_file_read_env(dir, QID, &env) != 0 ||
	    buf_len(&env) != sizeof(text) - 1 ||
	    memcmp(buf_data(&env), text, sizeof(text) - 1) != 0))
		abort();
	buf_release(&env);
	return 0;
}
