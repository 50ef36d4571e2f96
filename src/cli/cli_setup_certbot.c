/*
 * cli_setup_certbot.c - the Let's Encrypt part of `facteur setup`.
 *
 * facteur runs as [server] user once its ports are bound, and certbot
 * keeps private keys readable by root only: a renewed certificate could
 * not be loaded on SIGHUP. So setup installs certbot's deploy hook (the
 * same script as contrib/certbot-deploy-hook), which copies each new
 * certificate to /etc/facteur/tls/ owned by that user and sends the
 * SIGHUP; when certbot's files are already there, setup makes the first
 * copy itself. The config then points at /etc/facteur/tls/.
 */
#include "core/common.h"

#include <errno.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_int.h"
#include "config/config.h"
#include "core/buf.h"
#include "core/fsutil.h"
#include "core/priv.h"

#define CLI_HOOK_PATH	"/etc/letsencrypt/renewal-hooks/deploy/facteur"
#define CLI_TLS_DIR	"/etc/facteur/tls"
#define CLI_LE_LIVE	"/etc/letsencrypt/live"

static const char cli_certbot_hook[] =
    "#!/bin/sh\n"
    "# certbot deploy hook installed by 'facteur setup': copy a new\n"
    "# certificate where facteur (running as its own user) can read it,\n"
    "# then load it with SIGHUP (no session is dropped).\n"
    "set -eu\n"
    ": \"${RENEWED_LINEAGE:?run by certbot, which sets RENEWED_LINEAGE}\"\n"
    "user=${FACTEUR_USER:-facteur}\n"
    "install -d -o \"$user\" -g \"$user\" -m 700 " CLI_TLS_DIR "\n"
    "install -o \"$user\" -g \"$user\" -m 600 \"$RENEWED_LINEAGE/fullchain.pem\""
    " " CLI_TLS_DIR "/fullchain.pem.new\n"
    "install -o \"$user\" -g \"$user\" -m 600 \"$RENEWED_LINEAGE/privkey.pem\""
    " " CLI_TLS_DIR "/privkey.pem.new\n"
    "mv " CLI_TLS_DIR "/fullchain.pem.new " CLI_TLS_DIR "/fullchain.pem\n"
    "mv " CLI_TLS_DIR "/privkey.pem.new " CLI_TLS_DIR "/privkey.pem\n"
    "pkill -HUP -x facteur || true\n";

const char *
cli_setup_tls_dir(void)
{
	return CLI_TLS_DIR;
}

/* One of certbot's files into /etc/facteur/tls, owned by the user. */
static void
cli_setup_copy_cert(struct cli_setup *s, const char *name,
    const struct priv_user *u)
{
	char from[PATH_MAX], to[PATH_MAX], rel[PATH_MAX];
	struct buf data;

	snprintf(rel, sizeof(rel), "%s/%s/%s", CLI_LE_LIVE, s->hostname, name);
	buf_init(&data, 1024 * 1024);
	if (cli_setup_path(s, rel, from, sizeof(from)) == -1 ||
	    fs_read_file(from, &data) == -1) {
		cli_setup_error(s, "cannot read %s: %s", rel, strerror(errno));
		buf_release(&data);
		return;
	}
	snprintf(rel, sizeof(rel), "%s/%s", CLI_TLS_DIR, name);
	if (cli_setup_path(s, rel, to, sizeof(to)) == 0) {
		cli_setup_file(s, to, buf_cstr(&data), NULL, 0600,
		    "certificate copy");
		/* lchown: a file kept as it was may be a planted symlink. */
		if (u != NULL && lchown(to, u->uid, u->gid) == -1)
			cli_setup_error(s, "chown %s: %s", to, strerror(errno));
	}
	buf_release_secret(&data);
}

void
cli_setup_certbot(struct cli_setup *s)
{
	char hook[PATH_MAX], dir[PATH_MAX];
	struct priv_user u, *up = NULL;

	if (cli_setup_path(s, CLI_HOOK_PATH, hook, sizeof(hook)) == -1 ||
	    cli_setup_parent(hook) == -1) {
		cli_setup_error(s, "cannot create the directory of %s",
		    CLI_HOOK_PATH);
		return;
	}
	cli_setup_file(s, hook, cli_certbot_hook, NULL, 0755,
	    "certbot deploy hook");
	if (!s->letsencrypt)
		return;
	if (s->as_root && s->cfg->user && priv_lookup(s->cfg->user, &u) == 0)
		up = &u;
	if (cli_setup_path(s, CLI_TLS_DIR, dir, sizeof(dir)) == -1 ||
	    fs_mkdir_p(dir, 0700) == -1 || (up && chown(dir, up->uid,
	    up->gid) == -1)) {
		cli_setup_error(s, "cannot prepare %s: %s", CLI_TLS_DIR,
		    strerror(errno));
		return;
	}
	cli_setup_copy_cert(s, "fullchain.pem", up);
	cli_setup_copy_cert(s, "privkey.pem", up);
}
