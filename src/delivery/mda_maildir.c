/*
 * mda_maildir.c - see mda_maildir.h.
 */
#include "core/common.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fsutil.h"
#include "core/str.h"
#include "delivery/mda_maildir.h"
#include "queue/spool.h"

#define MDA_CHUNK 65536

static atomic_ulong mda_seq;

int
mda_maildir_path(const char *data_dir, const char *mailbox, char *out,
    size_t size)
{
	const char *at = strrchr(mailbox, '@');
	int n;

	if (at == NULL)
		return -1;
	n = snprintf(out, size, "%s/mail/%s/%.*s", data_dir, at + 1,
	    (int)(at - mailbox), mailbox);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

int
mda_maildir_create(const char *maildir)
{
	static const char *const subdirs[] = { "tmp", "new", "cur" };
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i < ARRAY_LEN(subdirs); i++) {
		if (snprintf(path, sizeof(path), "%s/%s", maildir,
		    subdirs[i]) >= (int)sizeof(path)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		if (fs_mkdir_p(path, 0700) == -1)
			return -1;
	}
	return 0;
}

/* The host part of a unique name: '/' and ':' are escaped, as Dovecot does. */
static void
mda_host_part(const char *hostname, char *out, size_t size)
{
	size_t o = 0;

	for (; *hostname && o + 5 < size; hostname++) {
		if (*hostname == '/' || *hostname == ':') {
			snprintf(out + o, 5, "\\%03o", *hostname);
			o += 4;
		} else {
			out[o++] = *hostname;
		}
	}
	out[o] = '\0';
}

int
mda_maildir_open(struct durable_file *f, const char *data_dir,
    const char *mailbox, const char *folder, const char *hostname)
{
	char maildir[PATH_MAX], host[256];
	struct timespec ts;
	size_t len;
	int n;

	durable_init(f);
	if (mda_maildir_path(data_dir, mailbox, maildir, sizeof(maildir))
	    == -1) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* Maildir++: a folder is a Maildir named ".<name>" in the inbox. */
	len = strlen(maildir);
	if (folder != NULL && snprintf(maildir + len, sizeof(maildir) - len,
	    "/%s", folder) >= (int)(sizeof(maildir) - len)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	n = snprintf(f->dir, sizeof(f->dir), "%s/new", maildir);
	if (n < 0 || (size_t)n >= sizeof(f->dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (access(f->dir, F_OK) == -1 && mda_maildir_create(maildir) == -1)
		return -1;
	clock_gettime(CLOCK_REALTIME, &ts);
	mda_host_part(hostname, host, sizeof(host));
	n = snprintf(f->tmp, sizeof(f->tmp), "%s/tmp/%lld.M%ldP%ldQ%lu.%s",
	    maildir, (long long)ts.tv_sec, ts.tv_nsec / 1000, (long)getpid(),
	    atomic_fetch_add(&mda_seq, 1) + 1, host);
	if (n < 0 || (size_t)n >= sizeof(f->tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	f->fd = open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	return f->fd == -1 ? -1 : 0;
}

/*
 * Appends LF-converted content to out: each CR before an LF is dropped.
 * Runs between CRs are copied whole (memchr): this is the hot loop of
 * local delivery. A CR at the end of a chunk waits for the next one.
 */
static void
mda_crlf_to_lf(const char *p, size_t len, bool *pending_cr, struct buf *out,
    size_t *lines)
{
	const char *end = p + len, *cr, *q;
	int r = 0;

	while (p < end) {
		if (*pending_cr) {
			*pending_cr = false;
			if (*p != '\n')
				r |= buf_addc(out, '\r');	/* a bare CR stays */
		}
		cr = memchr(p, '\r', (size_t)(end - p));
		q = cr ? cr : end;
		r |= buf_add(out, p, (size_t)(q - p));
		for (; p < q; p++)
			if ((p = memchr(p, '\n', (size_t)(q - p))) == NULL)
				break;
			else
				(*lines)++;
		p = q;
		if (cr != NULL) {
			*pending_cr = true;
			p = cr + 1;
		}
	}
	(void)r;	/* out has room: at most len + 1 bytes per call */
}

/* The name in new/: the unique part of tmp/ plus the two sizes. */
static int
mda_final_name(struct durable_file *f, size_t size, size_t vsize)
{
	const char *base = strrchr(f->tmp, '/') + 1;
	int n;

	n = snprintf(f->final, sizeof(f->final), "%s/%s,S=%zu,W=%zu", f->dir,
	    base, size, vsize);
	if (n < 0 || (size_t)n >= sizeof(f->final)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int
mda_maildir_write(struct durable_file *f, const char *return_path,
    const char *delivered_to, const char *headers, size_t headers_len,
    struct spool *sp)
{
	char chunk[MDA_CHUNK];
	struct buf out;
	size_t off = 0, lines = 0, size = 0;
	bool pending_cr = false;
	ssize_t n;
	int r = -1;

	buf_init(&out, MDA_CHUNK * 4);
	/* RFC 5321 4.4: Return-Path is added by the final delivery. */
	if (buf_addf(&out, "Return-Path: <%s>\nDelivered-To: %s\n",
	    return_path, delivered_to) == -1)
		goto out;
	lines = 2;
	mda_crlf_to_lf(headers, headers_len, &pending_cr, &out, &lines);
	for (;;) {
		n = spool_read(sp, off, chunk, sizeof(chunk));
		if (n < 0)
			goto out;
		if (n == 0 && pending_cr && buf_addc(&out, '\r') == -1)
			goto out;
		if (n > 0)
			mda_crlf_to_lf(chunk, (size_t)n, &pending_cr, &out,
			    &lines);
		if (fs_write_all(f->fd, buf_data(&out), buf_len(&out)) == -1)
			goto out;
		size += buf_len(&out);
		buf_reset(&out);
		if (n == 0)
			break;
		off += (size_t)n;
	}
	r = mda_final_name(f, size, size + lines);
out:
	buf_release(&out);
	return r;
}

#define MDA_TMP_MAX_AGE (36 * 3600)

/* Unlinks old regular files in dir; returns how many. */
static size_t
mda_clean_tmp(const char *dir, time_t now)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct stat st;
	char path[PATH_MAX];
	size_t n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || snprintf(path, sizeof(path), "%s/%s",
		    dir, e->d_name) >= (int)sizeof(path))
			continue;
		if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		    now - st.st_mtime > MDA_TMP_MAX_AGE && unlink(path) == 0)
			n++;
	}
	closedir(d);
	return n;
}

/* Calls fn on each subdirectory of dir. */
static size_t
mda_each_subdir(const char *dir, size_t (*fn)(const char *, time_t),
    time_t now)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[PATH_MAX];
	size_t n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.' && snprintf(path, sizeof(path),
		    "%s/%s", dir, e->d_name) < (int)sizeof(path))
			n += fn(path, now);
	closedir(d);
	return n;
}

static size_t
mda_clean_maildir(const char *maildir, time_t now)
{
	char tmp[PATH_MAX];

	if (snprintf(tmp, sizeof(tmp), "%s/tmp", maildir) >= (int)sizeof(tmp))
		return 0;
	return mda_clean_tmp(tmp, now);
}

static size_t
mda_clean_domain(const char *domain_dir, time_t now)
{
	return mda_each_subdir(domain_dir, mda_clean_maildir, now);
}

size_t
mda_maildir_cleanup(const char *data_dir)
{
	char mail[PATH_MAX];

	if (snprintf(mail, sizeof(mail), "%s/mail", data_dir) >=
	    (int)sizeof(mail))
		return 0;
	return mda_each_subdir(mail, mda_clean_domain, time(NULL));
}
