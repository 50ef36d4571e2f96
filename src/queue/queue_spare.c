/*
 * queue_spare.c - see queue_spare.h. The pool is a set of stacks, one
 * per size in 4 KiB blocks, so that a writer finds the biggest spare
 * that its bytes fill (growing a file allocates, cutting one frees: the
 * discard this exists to avoid). A new spare waits in a FIFO until
 * queue/ is next fsynced (queue_spare_synced()): only then is its old
 * name's removal durable, and may its blocks take another entry's bytes.
 */
#include "core/common.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "queue/queue_spare.h"

#define SPARE_BLOCK	4096
#define SPARE_BUCKETS	(QUEUE_SPARE_MAX_FILE / SPARE_BLOCK + 1)

struct spare_slot {
	uint64_t	 id;		/* queue/tmp/spare.<id> */
	uint64_t	 gen;		/* when it was made (pool.gen) */
	uint32_t	 blocks;
	int		 next;		/* in its list: a bucket, waiting, free */
};

static struct {
	pthread_mutex_t		 lock;
	bool			 on;
	char			 dir[PATH_MAX];		/* <data_dir>/queue/tmp */
	char			 data_dir[PATH_MAX];
	struct spare_slot	 slot[QUEUE_SPARE_MAX_FILES];
	int			 head[SPARE_BUCKETS];	/* -1: empty */
	int			 wait_head, wait_tail;	/* not yet durable */
	int			 free;			/* unused slots */
	size_t			 files, bytes;		/* reserved ones too */
	uint64_t		 seq;			/* never wraps */
	uint64_t		 gen;			/* spares made */
} pool = { .lock = PTHREAD_MUTEX_INITIALIZER, .wait_head = -1, .wait_tail = -1 };

/* Fits: queue_spare_init() keeps room for the name in pool.dir. */
static void
spare_path(uint64_t id, char *out, size_t outsz)
{
	if (snprintf(out, outsz, "%s/spare.%llu", pool.dir,
	    (unsigned long long)id) >= (int)outsz)
		out[0] = '\0';
}

/* Slot i back to the free list (the pool's lock held). */
static void
spare_forget_locked(int i)
{
	pool.files--;
	pool.bytes -= (size_t)pool.slot[i].blocks * SPARE_BLOCK;
	pool.slot[i].next = pool.free;
	pool.free = i;
}

/* Every spare out of the pool, into ids (the pool's lock held). */
static size_t
spare_empty_locked(uint64_t *ids)
{
	size_t b, n = 0;
	int i;

	for (b = 0; b < SPARE_BUCKETS; b++) {
		while ((i = pool.head[b]) != -1) {
			pool.head[b] = pool.slot[i].next;
			ids[n++] = pool.slot[i].id;
			spare_forget_locked(i);
		}
	}
	while ((i = pool.wait_head) != -1) {
		pool.wait_head = pool.slot[i].next;
		ids[n++] = pool.slot[i].id;
		spare_forget_locked(i);
	}
	pool.wait_tail = -1;
	return n;
}

/*
 * In memory, a file's pages are freed for nothing, and a rename costs
 * more than the unlink it replaces (drains on tmpfs: 5 µs of I/O
 * threads per message with unlink, 7-10 with spares).
 */
static bool
spare_worth_it(const char *dir)
{
	struct statfs fs;

	return statfs(dir, &fs) == -1 || (fs.f_type != 0x01021994 &&
	    fs.f_type != 0x858458f6);	/* TMPFS_MAGIC, RAMFS_MAGIC */
}

void
queue_spare_init(const char *data_dir)
{
	size_t i;

	pthread_mutex_lock(&pool.lock);
	pool.on = snprintf(pool.dir, sizeof(pool.dir), "%s/queue/tmp",
	    data_dir) < (int)sizeof(pool.dir) - 32 && snprintf(pool.data_dir,
	    sizeof(pool.data_dir), "%s", data_dir) < (int)sizeof(pool.data_dir) &&
	    spare_worth_it(pool.dir);
	for (i = 0; i < SPARE_BUCKETS; i++)
		pool.head[i] = -1;
	for (i = 0; i < QUEUE_SPARE_MAX_FILES; i++)
		pool.slot[i].next = i + 1 < QUEUE_SPARE_MAX_FILES ?
		    (int)i + 1 : -1;
	pool.free = 0;
	pool.wait_head = pool.wait_tail = -1;
	pool.files = pool.bytes = 0;
	pthread_mutex_unlock(&pool.lock);
}

size_t
queue_spare_release(void)
{
	static uint64_t ids[QUEUE_SPARE_MAX_FILES];
	static pthread_mutex_t once = PTHREAD_MUTEX_INITIALIZER;
	char path[PATH_MAX];
	size_t i, n;

	/* ids is static (16 KB): one releaser at a time. */
	pthread_mutex_lock(&once);
	pthread_mutex_lock(&pool.lock);
	n = pool.on ? spare_empty_locked(ids) : 0;
	pthread_mutex_unlock(&pool.lock);
	for (i = 0; i < n; i++) {
		spare_path(ids[i], path, sizeof(path));
		unlink(path);
	}
	pthread_mutex_unlock(&once);
	return n;
}

void
queue_spare_end(void)
{
	queue_spare_release();
	pthread_mutex_lock(&pool.lock);
	pool.on = false;
	pthread_mutex_unlock(&pool.lock);
}

/* A slot for a spare of blocks, or -1 when the pool is full. */
static int
spare_reserve(uint32_t blocks)
{
	int i;

	pthread_mutex_lock(&pool.lock);
	if (pool.free == -1 || pool.bytes + (size_t)blocks * SPARE_BLOCK >
	    (size_t)QUEUE_SPARE_MAX_BYTES) {
		pthread_mutex_unlock(&pool.lock);
		return -1;
	}
	i = pool.free;
	pool.free = pool.slot[i].next;
	pool.slot[i].id = ++pool.seq;
	pool.slot[i].blocks = blocks;
	pool.files++;
	pool.bytes += (size_t)blocks * SPARE_BLOCK;
	pthread_mutex_unlock(&pool.lock);
	return i;
}

/*
 * A reserved slot: kept, it waits for queue/'s next fsync (its rename
 * done, gen counts it); else back to the free list.
 */
static void
spare_settle(int i, bool kept)
{
	struct spare_slot *s = &pool.slot[i];

	pthread_mutex_lock(&pool.lock);
	if (kept) {
		s->gen = ++pool.gen;
		s->next = -1;
		if (pool.wait_tail == -1)
			pool.wait_head = i;
		else
			pool.slot[pool.wait_tail].next = i;
		pool.wait_tail = i;
	} else {
		spare_forget_locked(i);
	}
	pthread_mutex_unlock(&pool.lock);
}

uint64_t
queue_spare_gen(void)
{
	uint64_t g;

	pthread_mutex_lock(&pool.lock);
	g = pool.gen;
	pthread_mutex_unlock(&pool.lock);
	return g;
}

void
queue_spare_synced(uint64_t gen)
{
	struct spare_slot *s;
	int i;

	pthread_mutex_lock(&pool.lock);
	while (pool.on && (i = pool.wait_head) != -1 &&
	    pool.slot[i].gen <= gen) {
		s = &pool.slot[i];
		if ((pool.wait_head = s->next) == -1)
			pool.wait_tail = -1;
		s->next = pool.head[s->blocks];
		pool.head[s->blocks] = i;
	}
	pthread_mutex_unlock(&pool.lock);
}

int
queue_spare_put(const char *data_dir, const char *path)
{
	char spare[PATH_MAX];
	struct stat st;
	uint32_t blocks;
	bool on;
	int i;

	pthread_mutex_lock(&pool.lock);
	on = pool.on && strcmp(pool.data_dir, data_dir) == 0;
	pthread_mutex_unlock(&pool.lock);
	errno = 0;
	if (!on)
		return -1;
	if (lstat(path, &st) == -1)
		return -1;
	/*
	 * One link: every other entry of its pack is retired, and nothing
	 * reads a retired entry (the runner retires it once no delivery or
	 * report holds it). Two retirements racing on the last two names
	 * both see two links and both unlink: a spare missed, no harm.
	 */
	blocks = (uint32_t)(((uint64_t)st.st_blocks * 512 + SPARE_BLOCK - 1) /
	    SPARE_BLOCK);
	if (!S_ISREG(st.st_mode) || st.st_nlink != 1 || blocks == 0 ||
	    st.st_size > QUEUE_SPARE_MAX_FILE || blocks >= SPARE_BUCKETS ||
	    (i = spare_reserve(blocks)) == -1) {
		errno = 0;
		return -1;
	}
	spare_path(pool.slot[i].id, spare, sizeof(spare));
	if (rename(path, spare) == -1) {
		int e = errno;

		spare_settle(i, false);
		errno = e;
		return -1;
	}
	spare_settle(i, true);
	return 0;
}

int
queue_spare_take(const char *data_dir, off_t size, char *out, size_t outsz)
{
	size_t b, need = (size_t)((size + SPARE_BLOCK - 1) / SPARE_BLOCK);
	int fd, i = -1;

	pthread_mutex_lock(&pool.lock);
	if (pool.on && strcmp(pool.data_dir, data_dir) == 0 && size > 0)
		for (b = MIN(need, SPARE_BUCKETS - 1); b > 0 && i == -1; b--)
			if ((i = pool.head[b]) != -1)
				pool.head[b] = pool.slot[i].next;
	pthread_mutex_unlock(&pool.lock);
	if (i == -1)
		return -1;
	spare_path(pool.slot[i].id, out, outsz);
	spare_settle(i, false);		/* the caller's now */
	fd = open(out, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1)
		unlink(out);
	return fd;
}

int
queue_spare_cut(int fd, off_t len)
{
	int r;

	while ((r = ftruncate(fd, len)) == -1 && errno == EINTR)
		;
	return r;
}

void
queue_spare_count(size_t *files, size_t *bytes)
{
	pthread_mutex_lock(&pool.lock);
	*files = pool.files;
	*bytes = pool.bytes;
	pthread_mutex_unlock(&pool.lock);
}
