/*
 * priv.h - giving up root for good.
 *
 * facteur starts as root only to bind ports 25/465/587/110/995 and read
 * its certificate and keys; then it becomes [server] user (a system user
 * that owns data_dir) with no way back: supplementary groups dropped,
 * real/effective/saved ids all changed, and the drop verified by trying
 * to get root back (which must fail). Without [server] user it refuses to
 * run as root unless [server] run_as_root = yes (development). The CLI
 * verbs that write into data_dir drop to the same user, so every file
 * there belongs to it.
 */
#ifndef FACTEUR_PRIV_H
#define FACTEUR_PRIV_H

#include <stdbool.h>
#include <sys/types.h>

struct config;

struct priv_user {
	uid_t	 uid;
	gid_t	 gid;
	char	 name[64];
};

/* Looks up name; 0 or -1 (no such user). */
int priv_lookup(const char *name, struct priv_user *u);
/*
 * Whether this process must drop privileges: true (and *u filled) when
 * running as root with [server] user. As root without it, -1 unless
 * run_as_root, with a reason in *why_r.
 */
int priv_plan(const struct config *cfg, struct priv_user *u, bool *drop_r,
    const char **why_r);
/*
 * Gives data_dir to u: when its top is not u's yet (first start after an
 * install or a change of user), the whole tree is walked once; after
 * that every file is created by u and nothing is walked. Returns the
 * entries changed, or -1.
 */
long priv_own_data_dir(const char *path, const struct priv_user *u);
/* The drop itself; fatal on any failure. */
void priv_drop(const struct priv_user *u);
/* For the CLI: drops to [server] user when run as root. 0 or -1. */
int priv_drop_for_cli(const struct config *cfg);

#endif
