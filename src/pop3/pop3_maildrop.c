/*
 * pop3_maildrop.c - see pop3_maildrop.h.
 */
#include "core/common.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/limits.h"
#include "delivery/mda_maildir.h"
#include "pop3/pop3_maildrop.h"
#include "pop3/pop3_parse.h"

struct pop3_msg {
	char		*name;		/* file name in cur/ (or new/) */
	uint64_t	 size;		/* octets with CRLF line ends */
	uint64_t	 time;		/* leading seconds of the name */
	bool		 in_new;	/* could not be moved to cur/ */
	bool		 deleted;	/* DELE, until RSET or QUIT */
	bool		 seen;		/* RETR'd whole */
	char		 uid[POP3_UID_MAX + 1];
};

struct pop3_maildrop {
	char		 cur[PATH_MAX];	/* the paths of cur/ and new/ */
	char		 new[PATH_MAX];
	int		 lock_fd;
	int		 cur_fd;
	int		 new_fd;
	struct pop3_msg	*msgs;
	size_t		 n;
	size_t		 alloc;
};

static struct pop3_maildrop *
md_new(void)
{
	struct pop3_maildrop *md = xcalloc(1, sizeof(*md));

	md->lock_fd = md->cur_fd = md->new_fd = -1;
	return md;
}

void
pop3_maildrop_free(struct pop3_maildrop **mdp)
{
	struct pop3_maildrop *md = *mdp;
	size_t i;

	if (md == NULL)
		return;
	for (i = 0; i < md->n; i++)
		free(md->msgs[i].name);
	free(md->msgs);
	if (md->cur_fd != -1)
		close(md->cur_fd);
	if (md->new_fd != -1)
		close(md->new_fd);
	if (md->lock_fd != -1)
		close(md->lock_fd);	/* releases the flock */
	XFREE(mdp);
}

/* Paths of the Maildir's parts; creates the Maildir if it is missing. */
static int
md_paths(struct pop3_maildrop *md, const char *data_dir, const char *user,
    char *lock, size_t locksize)
{
	char maildir[PATH_MAX];

	if (mda_maildir_path(data_dir, user, maildir, sizeof(maildir)) == -1 ||
	    snprintf(md->cur, sizeof(md->cur), "%s/cur", maildir) >=
	    (int)sizeof(md->cur) ||
	    snprintf(md->new, sizeof(md->new), "%s/new", maildir) >=
	    (int)sizeof(md->new) ||
	    snprintf(lock, locksize, "%s/%s", maildir, POP3_MD_LOCK_NAME) >=
	    (int)locksize) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (access(md->cur, F_OK) == -1 || access(md->new, F_OK) == -1)
		return mda_maildir_create(maildir);
	return 0;
}

/* RFC 1939 4: exclusive access, without waiting for it. */
static enum pop3_md_status
md_lock(struct pop3_maildrop *md, const char *lock)
{
	md->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (md->lock_fd == -1)
		return POP3_MD_ERROR;
	if (flock(md->lock_fd, LOCK_EX | LOCK_NB) == -1)
		return errno == EWOULDBLOCK ? POP3_MD_IN_USE : POP3_MD_ERROR;
	return POP3_MD_OK;
}

static uint64_t
md_name_time(const char *name)
{
	uint64_t t = 0;

	for (; ascii_isdigit(*name) && t < UINT64_MAX / 10 - 10; name++)
		t = t * 10 + (uint64_t)(*name - '0');
	return t;
}

/* Counts the wire size of a file without ",W=" (not written by us). */
static int
md_count_size(int dirfd, const char *name, uint64_t *size_r)
{
	char *chunk = xmalloc(POP3_CHUNK);
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t r = -1;

	*size_r = 0;
	if (fd != -1) {
		while ((r = read(fd, chunk, POP3_CHUNK)) > 0)
			*size_r += pop3_crlf_size(chunk, (size_t)r);
		close(fd);
	}
	free(chunk);
	return r == 0 ? 0 : -1;
}

/* Appends name (in cur/, or in new/ when in_new) to the list. */
static void
md_add(struct pop3_maildrop *md, const char *name, bool in_new)
{
	size_t len = strlen(name);
	struct pop3_msg *m;
	uint64_t size;

	if (pop3_name_vsize(name, len, &size) == -1 &&
	    md_count_size(in_new ? md->new_fd : md->cur_fd, name, &size) == -1)
		return;		/* gone or unreadable: not listed */
	if (md->n == md->alloc) {
		md->alloc = md->alloc ? md->alloc * 2 : 64;
		md->msgs = xreallocarray(md->msgs, md->alloc,
		    sizeof(*md->msgs));
	}
	m = &md->msgs[md->n++];
	memset(m, 0, sizeof(*m));
	m->name = xstrdup(name);
	m->size = size;
	m->time = md_name_time(name);
	m->in_new = in_new;
	pop3_uid_from_name(name, len, m->uid);
}

/* A regular file worth listing (Maildir ignores names starting '.'). */
static bool
md_is_msg(int dirfd, const struct dirent *e)
{
	struct stat st;

	if (e->d_name[0] == '.')
		return false;
	if (e->d_type == DT_REG)
		return true;
	if (e->d_type != DT_UNKNOWN)
		return false;
	return fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(st.st_mode);
}

static int
md_scan_cur(struct pop3_maildrop *md)
{
	DIR *d = opendir(md->cur);
	struct dirent *e;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (md_is_msg(md->cur_fd, e))
			md_add(md, e->d_name, false);
	closedir(d);
	return 0;
}

/* new/<name> -> cur/<name>:2, without ever replacing a file in cur/. */
static int
md_move(struct pop3_maildrop *md, const char *name, const char *to)
{
	if (renameat2(md->new_fd, name, md->cur_fd, to, RENAME_NOREPLACE) ==
	    0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	/* A file system without RENAME_NOREPLACE: check, then rename. */
	if (faccessat(md->cur_fd, to, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		errno = EEXIST;
		return -1;
	}
	return renameat(md->new_fd, name, md->cur_fd, to);
}

static int
md_scan_new(struct pop3_maildrop *md)
{
	DIR *d = opendir(md->new);
	char to[NAME_MAX + 1];
	struct dirent *e;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (!md_is_msg(md->new_fd, e))
			continue;
		/* Served from new/ if it cannot move; not at all if gone. */
		if (pop3_name_for_cur(e->d_name, to, sizeof(to)) == -1)
			md_add(md, e->d_name, true);
		else if (md_move(md, e->d_name, to) == 0)
			md_add(md, to, false);
		else if (errno != ENOENT)
			md_add(md, e->d_name, true);
	}
	closedir(d);
	return 0;
}

/*
 * Names compared with their digit runs as numbers: in one second,
 * "M7030P12Q1" (7030 us) comes before "M12000P12Q2", in delivery order.
 */
static int
md_natcmp(const char *a, const char *b)
{
	while (*a && *b) {
		if (ascii_isdigit(*a) && ascii_isdigit(*b)) {
			size_t la, lb;

			while (*a == '0' && ascii_isdigit(a[1]))
				a++;
			while (*b == '0' && ascii_isdigit(b[1]))
				b++;
			la = strspn(a, "0123456789");
			lb = strspn(b, "0123456789");
			if (la != lb)
				return la < lb ? -1 : 1;
			if (memcmp(a, b, la) != 0)
				return memcmp(a, b, la) < 0 ? -1 : 1;
			a += la;
			b += lb;
			continue;
		}
		if (*a != *b)
			return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
		a++;
		b++;
	}
	return *a ? 1 : *b ? -1 : 0;
}

static int
md_cmp(const void *a, const void *b)
{
	const struct pop3_msg *x = a, *y = b;

	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	return md_natcmp(x->name, y->name);
}

enum pop3_md_status
pop3_maildrop_open(const char *data_dir, const char *user,
    struct pop3_maildrop **md_r, int *errno_r)
{
	struct pop3_maildrop *md = md_new();
	enum pop3_md_status st = POP3_MD_ERROR;
	char lock[PATH_MAX];

	*md_r = NULL;
	*errno_r = 0;
	if (md_paths(md, data_dir, user, lock, sizeof(lock)) == -1 ||
	    (st = md_lock(md, lock)) != POP3_MD_OK)
		goto fail;
	st = POP3_MD_ERROR;
	md->cur_fd = open(md->cur, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	md->new_fd = open(md->new, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	/* cur/ first: what new/ holds is then moved and listed once. */
	if (md->cur_fd == -1 || md->new_fd == -1 || md_scan_cur(md) == -1 ||
	    md_scan_new(md) == -1)
		goto fail;
	if (md->n > 1)
		qsort(md->msgs, md->n, sizeof(*md->msgs), md_cmp);
	*md_r = md;
	return POP3_MD_OK;
fail:
	*errno_r = errno;
	pop3_maildrop_free(&md);
	return st;
}

size_t
pop3_maildrop_count(const struct pop3_maildrop *md)
{
	return md->n;
}

void
pop3_maildrop_stat(const struct pop3_maildrop *md, size_t *count_r,
    uint64_t *octets_r)
{
	size_t i;

	*count_r = 0;
	*octets_r = 0;
	for (i = 0; i < md->n; i++) {
		if (md->msgs[i].deleted)
			continue;
		(*count_r)++;
		*octets_r += md->msgs[i].size;
	}
}

bool
pop3_maildrop_valid(const struct pop3_maildrop *md, uint64_t n)
{
	return n >= 1 && n <= md->n && !md->msgs[n - 1].deleted;
}

bool
pop3_maildrop_deleted(const struct pop3_maildrop *md, uint64_t n)
{
	return n >= 1 && n <= md->n && md->msgs[n - 1].deleted;
}

uint64_t
pop3_maildrop_size(const struct pop3_maildrop *md, uint64_t n)
{
	return md->msgs[n - 1].size;
}

const char *
pop3_maildrop_uid(const struct pop3_maildrop *md, uint64_t n)
{
	return md->msgs[n - 1].uid;
}

void
pop3_maildrop_dele(struct pop3_maildrop *md, uint64_t n)
{
	md->msgs[n - 1].deleted = true;
}

void
pop3_maildrop_rset(struct pop3_maildrop *md)
{
	size_t i;

	for (i = 0; i < md->n; i++)
		md->msgs[i].deleted = false;
}

void
pop3_maildrop_seen(struct pop3_maildrop *md, uint64_t n)
{
	md->msgs[n - 1].seen = true;
}

/* A file of cur/ renamed by someone else (flags): found by unique-id. */
static int
md_relocate(struct pop3_maildrop *md, struct pop3_msg *m)
{
	char uid[POP3_UID_MAX + 1];
	DIR *d;
	struct dirent *e;
	int r = -1;

	if (m->in_new || (d = opendir(md->cur)) == NULL)
		return -1;
	while (r == -1 && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		pop3_uid_from_name(e->d_name, strlen(e->d_name), uid);
		if (strcmp(uid, m->uid) != 0)
			continue;
		free(m->name);
		m->name = xstrdup(e->d_name);
		r = 0;
	}
	closedir(d);
	if (r == -1)
		errno = ENOENT;
	return r;
}

static int
md_dirfd(const struct pop3_maildrop *md, const struct pop3_msg *m)
{
	return m->in_new ? md->new_fd : md->cur_fd;
}

int
pop3_maildrop_open_msg(struct pop3_maildrop *md, uint64_t n)
{
	struct pop3_msg *m = &md->msgs[n - 1];
	int flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW, fd;

	fd = openat(md_dirfd(md, m), m->name, flags);
	if (fd == -1 && errno == ENOENT && md_relocate(md, m) == 0)
		fd = openat(md_dirfd(md, m), m->name, flags);
	return fd;
}

/* Unlinks a marked file; one that is already gone counts as removed. */
static int
md_unlink(struct pop3_maildrop *md, struct pop3_msg *m)
{
	if (unlinkat(md_dirfd(md, m), m->name, 0) == 0)
		return 0;
	if (errno != ENOENT)
		return -1;
	if (md_relocate(md, m) == 0 &&
	    unlinkat(md_dirfd(md, m), m->name, 0) == -1)
		return errno == ENOENT ? 0 : -1;
	return 0;
}

/* Best effort: a flag is a courtesy to MUAs, not part of POP3. */
static void
md_flag_seen(struct pop3_maildrop *md, struct pop3_msg *m)
{
	char to[NAME_MAX + 1];

	if (m->in_new || pop3_name_add_flag(m->name, 'S', to, sizeof(to)) != 1)
		return;
	if (renameat(md->cur_fd, m->name, md->cur_fd, to) == -1 &&
	    errno == ENOENT && md_relocate(md, m) == 0 &&
	    pop3_name_add_flag(m->name, 'S', to, sizeof(to)) == 1)
		(void)renameat(md->cur_fd, m->name, md->cur_fd, to);
}

int
pop3_maildrop_commit(struct pop3_maildrop *md, struct pop3_md_commit *r)
{
	bool from_new = false;
	size_t i;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < md->n; i++) {
		struct pop3_msg *m = &md->msgs[i];

		if (!m->deleted) {
			if (m->seen)
				md_flag_seen(md, m);
			r->left++;
		} else if (md_unlink(md, m) == 0) {
			r->deleted++;
			from_new |= m->in_new;
		} else {
			r->failed++;
			r->left++;
		}
	}
	/* RFC 1939 6: what QUIT removed must stay removed after a crash. */
	if (r->deleted && (fsync(md->cur_fd) == -1 ||
	    (from_new && fsync(md->new_fd) == -1)))
		r->failed++;
	return r->failed ? -1 : 0;
}
