/*
 * priv.c - see priv.h. The recipe is OpenSMTPD's (dispatcher.c): drop
 * supplementary groups, setresgid, setresuid, then check.
 */
#include "core/common.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <ftw.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "core/priv.h"

int
priv_lookup(const char *name, struct priv_user *u)
{
	struct passwd pw, *res = NULL;
	char buf[4096];

	if (getpwnam_r(name, &pw, buf, sizeof(buf), &res) != 0 || res == NULL)
		return -1;
	u->uid = pw.pw_uid;
	u->gid = pw.pw_gid;
	return cstr_copy(u->name, sizeof(u->name), name);
}

int
priv_plan(const struct config *cfg, struct priv_user *u, bool *drop_r,
    const char **why_r)
{
	*drop_r = false;
	if (geteuid() != 0)
		return 0;	/* already unprivileged: nothing to give up */
	if (cfg->user == NULL) {
		if (cfg->run_as_root)
			return 0;
		*why_r = "refusing to run as root: set [server] user = facteur "
		    "(a system user owning data_dir), or [server] run_as_root "
		    "= yes for development";
		return -1;
	}
	if (priv_lookup(cfg->user, u) == -1) {
		*why_r = "[server] user does not exist (create it with "
		    "useradd --system, or run facteur setup)";
		return -1;
	}
	if (u->uid == 0) {
		*why_r = "[server] user must not be root";
		return -1;
	}
	*drop_r = true;
	return 0;
}

static const struct priv_user *priv_tree_user;
static long priv_tree_changed;
static long priv_tree_failed;

static int
priv_tree_fix(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)flag;
	(void)ftw;
	if (st->st_uid == priv_tree_user->uid &&
	    st->st_gid == priv_tree_user->gid)
		return 0;
	if (lchown(path, priv_tree_user->uid, priv_tree_user->gid) == 0)
		priv_tree_changed++;
	else if (priv_tree_failed++ == 0)
		/* Said once: the server will meet it as EACCES later. */
		log_warn("event=chown-failed path=%s error=%s", log_qs(path),
		    log_qs(strerror(errno)));
	return 0;
}

static long
priv_walk(const char *path, const struct priv_user *u)
{
	long before = priv_tree_changed;

	priv_tree_user = u;
	if (nftw(path, priv_tree_fix, 32, FTW_PHYS | FTW_MOUNT) == -1)
		return -1;
	return priv_tree_changed - before;
}

static bool
priv_owned(const char *path, const struct priv_user *u)
{
	struct stat st;

	return lstat(path, &st) == 0 && st.st_uid == u->uid &&
	    st.st_gid == u->gid;
}

/* Hands over each entry of dir that is not u's yet, with its subtree. */
static int
priv_own_children(const char *dir, const struct priv_user *u)
{
	char child[PATH_MAX];
	struct dirent *e;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
		    snprintf(child, sizeof(child), "%s/%s", dir, e->d_name) >=
		    (int)sizeof(child) || priv_owned(child, u))
			continue;
		priv_walk(child, u);
	}
	closedir(d);
	return 0;
}

long
priv_own_data_dir(const char *path, const struct priv_user *u)
{
	/*
	 * What root may make inside directories that are u's already: a
	 * queue/tmp/ removed by hand, a self-signed certificate in tls/.
	 */
	static const char *const inner[] = { "queue", "tls" };
	char dir[PATH_MAX];
	size_t i;

	priv_tree_changed = 0;
	/* A top that is not u's: first start, or a new user: all of it. */
	if (!priv_owned(path, u))
		return priv_walk(path, u);
	/* Else only the subtrees root just made (tls/, a new dkim key...). */
	if (priv_own_children(path, u) == -1)
		return -1;
	for (i = 0; i < ARRAY_LEN(inner); i++)
		if (snprintf(dir, sizeof(dir), "%s/%s", path, inner[i]) <
		    (int)sizeof(dir) && priv_owned(dir, u))
			priv_own_children(dir, u);
	return priv_tree_changed;
}

void
priv_drop(const struct priv_user *u)
{
	uid_t r, e, s;
	gid_t rg, eg, sg;

	if (setgroups(1, &u->gid) == -1)
		fatal("setgroups: %s", strerror(errno));
	if (setresgid(u->gid, u->gid, u->gid) == -1)
		fatal("setresgid(%ld): %s", (long)u->gid, strerror(errno));
	if (setresuid(u->uid, u->uid, u->uid) == -1)
		fatal("setresuid(%ld): %s", (long)u->uid, strerror(errno));
	/* No way back: all three ids changed, and root cannot be regained. */
	if (getresuid(&r, &e, &s) == -1 || r != u->uid || e != u->uid ||
	    s != u->uid || getresgid(&rg, &eg, &sg) == -1 || rg != u->gid ||
	    eg != u->gid || sg != u->gid)
		fatal("privilege drop did not stick");
	if (setuid(0) != -1 || seteuid(0) != -1)
		fatal("privilege drop is reversible: refusing to run");
}

int
priv_drop_for_cli(const struct config *cfg)
{
	struct priv_user u;
	const char *why;
	bool drop;

	if (geteuid() != 0 || cfg->user == NULL)
		return 0;
	if (priv_plan(cfg, &u, &drop, &why) == -1) {
		fprintf(stderr, "facteur: %s\n", why);
		return -1;
	}
	if (drop) {
		if (fs_mkdir_p(cfg->data_dir, 0700) == -1 ||
		    priv_own_data_dir(cfg->data_dir, &u) == -1)
			fprintf(stderr, "facteur: cannot give %s to %s: %s\n",
			    cfg->data_dir, u.name, strerror(errno));
		priv_drop(&u);
	}
	return 0;
}
