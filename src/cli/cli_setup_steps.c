/*
 * cli_setup_steps.c - the steps of `facteur setup` after the config (see
 * cli_setup.c): system user, data directory, DKIM keys, first mailbox,
 * postmaster and abuse aliases, certificate, ownership. Each one looks
 * first and acts only on what is missing.
 */
#include "core/common.h"

#include <errno.h>
#include <ftw.h>
#include <openssl/evp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_int.h"
#include "config/config.h"
#include "core/fsutil.h"
#include "dkim/dkim_store.h"
#include "tls/tls.h"

/* Runs argv (no shell); its exit status, or -1. */
static int
cli_setup_run(const char *const argv[])
{
	pid_t pid = fork();
	int status;

	if (pid == -1)
		return -1;
	if (pid == 0) {
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) == -1)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void
cli_setup_sysuser(struct cli_setup *s)
{
	const char *name = s->cfg->user;
	const char *argv[] = { "useradd", "--system", "--home-dir",
	    s->cfg->data_dir, "--shell", "/usr/sbin/nologin", NULL, NULL };

	if (name == NULL) {
		cli_setup_say("skipped", "system user: the config sets no "
		    "[server] user");
		return;
	}
	if (!s->as_root) {
		cli_setup_say("skipped", "system user %s: %s; as root: useradd "
		    "--system --home-dir /var/lib/facteur --shell "
		    "/usr/sbin/nologin %s", name, s->root[0] ? "--root given" :
		    "not running as root", name);
		return;
	}
	if (getpwnam(name) != NULL) {
		cli_setup_say("ok", "system user %s already", name);
		return;
	}
	argv[6] = name;
	if (cli_setup_run(argv) != 0)
		cli_setup_error(s, "useradd %s failed", name);
	else
		cli_setup_say("created", "system user %s", name);
}

void
cli_setup_data_dir(struct cli_setup *s)
{
	const char *dir = s->cfg->data_dir;
	struct stat st;

	if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode)) {
		cli_setup_say("ok", "data directory %s already", dir);
		return;
	}
	/* Parents as usual (0755: /var/lib), data_dir itself private. */
	if (cli_setup_parent(dir) == -1 || fs_mkdir_p(dir, 0700) == -1 ||
	    chmod(dir, 0700) == -1)
		cli_setup_error(s, "cannot create %s: %s", dir,
		    strerror(errno));
	else
		cli_setup_say("created", "data directory %s", dir);
}

/* Makes one key: selector "rsa202607" or "ed202607" (year, month). */
static void
cli_setup_keygen(struct cli_setup *s, enum dkim_alg alg)
{
	char selector[32], path[PATH_MAX], dir[PATH_MAX];
	time_t now = time(NULL);
	EVP_PKEY *pkey;
	struct tm tm;

	gmtime_r(&now, &tm);
	snprintf(selector, sizeof(selector), "%s%04d%02d",
	    alg == DKIM_ALG_RSA_SHA256 ? "rsa" : "ed", tm.tm_year + 1900,
	    tm.tm_mon + 1);
	snprintf(dir, sizeof(dir), "%s/dkim/%s", s->cfg->data_dir, s->domain);
	if (dkim_store_path(s->cfg->data_dir, s->domain, selector, alg, path,
	    sizeof(path)) == -1 || fs_mkdir_p(dir, 0700) == -1) {
		cli_setup_error(s, "cannot create %s: %s", dir,
		    strerror(errno));
		return;
	}
	if ((pkey = dkim_keygen(alg)) == NULL)
		cli_setup_error(s, "DKIM key generation failed");
	else if (cli_dkim_write_key(path, pkey) == -1)
		cli_setup_error(s, "cannot write %s: %s", path,
		    strerror(errno));
	else
		cli_setup_say("created", "DKIM %s key %s (selector %s)",
		    dkim_alg_name(alg), path, selector);
	EVP_PKEY_free(pkey);
}

/* RSA for every receiver, Ed25519 besides it (RFC 8463 recommends both). */
void
cli_setup_dkim(struct cli_setup *s)
{
	static const enum dkim_alg algs[] = { DKIM_ALG_RSA_SHA256,
	    DKIM_ALG_ED25519_SHA256 };
	const struct dkim_signer *have[DKIM_SIGNERS_MAX];
	struct dkim_store *st;
	struct buf errors;
	size_t i, j, n;

	buf_init(&errors, 64 * 1024);
	st = dkim_store_load(s->cfg->data_dir, &errors);
	if (buf_len(&errors) > 0)
		cli_setup_error(s, "%.*s", (int)strcspn(buf_cstr(&errors),
		    "\n"), buf_cstr(&errors));
	n = dkim_store_signers(st, s->domain, have, ARRAY_LEN(have));
	for (i = 0; i < ARRAY_LEN(algs); i++) {
		for (j = 0; j < n && have[j]->alg != algs[i]; j++)
			continue;
		if (j < n)
			cli_setup_say("ok", "DKIM %s key for %s already "
			    "(selector %s)", dkim_alg_name(algs[i]), s->domain,
			    have[j]->selector);
		else
			cli_setup_keygen(s, algs[i]);
	}
	dkim_store_free(&st);
	buf_release(&errors);
}

void
cli_setup_tls(struct cli_setup *s)
{
	char key[PATH_MAX], cert[PATH_MAX], dir[PATH_MAX];
	struct buf err;

	if (s->cfg->tls_cert != NULL) {
		if (cli_setup_path(s, s->cfg->tls_cert, cert, sizeof(cert)) ==
		    0 && access(cert, R_OK) == 0)
			cli_setup_say("ok", "certificate %s already", cert);
		else
			cli_setup_error(s, "[tls] cert %s cannot be read",
			    s->cfg->tls_cert);
		return;
	}
	tls_selfsigned_paths(s->cfg->data_dir, key, cert, sizeof(key));
	if (access(key, R_OK) == 0 && access(cert, R_OK) == 0) {
		cli_setup_say("ok", "self-signed certificate %s already", cert);
		return;
	}
	snprintf(dir, sizeof(dir), "%s/tls", s->cfg->data_dir);
	buf_init(&err, 4096);
	if (fs_mkdir_p(dir, 0700) == -1)
		cli_setup_error(s, "cannot create %s: %s", dir,
		    strerror(errno));
	else if (tls_selfsigned_make(s->cfg->hostname, key, cert, &err) == -1)
		cli_setup_error(s, "%.*s", (int)strcspn(buf_cstr(&err), "\n"),
		    buf_cstr(&err));
	else
		cli_setup_say("created", "self-signed certificate %s for %s, "
		    "until certbot's is there", cert, s->cfg->hostname);
	buf_release(&err);
}

/* nftw(3) has no argument for its callback: the owner step's state. */
static uid_t cli_owner_uid;
static gid_t cli_owner_gid;
static size_t cli_owner_changed, cli_owner_failed;

static int
cli_setup_owner_one(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)flag;
	(void)ftw;
	if (st->st_uid == cli_owner_uid && st->st_gid == cli_owner_gid)
		return 0;
	if (lchown(path, cli_owner_uid, cli_owner_gid) == -1)
		cli_owner_failed++;
	else
		cli_owner_changed++;
	return 0;
}

/* Everything under data_dir belongs to [server] user (as root only). */
void
cli_setup_owner(struct cli_setup *s)
{
	const char *dir = s->cfg->data_dir, *name = s->cfg->user;
	struct passwd *pw;

	if (!s->as_root || name == NULL)
		return;
	if ((pw = getpwnam(name)) == NULL) {
		cli_setup_error(s, "no system user %s to own %s", name, dir);
		return;
	}
	cli_owner_uid = pw->pw_uid;
	cli_owner_gid = pw->pw_gid;
	cli_owner_changed = cli_owner_failed = 0;
	if (nftw(dir, cli_setup_owner_one, 16, FTW_PHYS) == -1 ||
	    cli_owner_failed > 0)
		cli_setup_error(s, "cannot give %s to %s: %s", dir, name,
		    strerror(errno));
	else if (cli_owner_changed == 0)
		cli_setup_say("ok", "%s owned by %s already", dir, name);
	else
		cli_setup_say("updated", "owner of %zu files in %s set to %s",
		    cli_owner_changed, dir, name);
}
