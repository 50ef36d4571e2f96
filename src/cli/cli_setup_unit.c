/*
 * cli_setup_unit.c - the systemd unit `facteur setup` installs: the text
 * of contrib/facteur.service (a test checks they are the same), with the
 * config path and data_dir of this setup. Installed as
 * <root>/etc/systemd/system/facteur.service, never over a unit the user
 * changed.
 */
#include "core/common.h"

#include <limits.h>
#include <sys/stat.h>

#include "cli/cli_int.h"
#include "config/config.h"

#define CLI_UNIT_PATH	"/etc/systemd/system/facteur.service"
#define CLI_UNIT_BIN	"/usr/local/sbin/facteur"

/* contrib/facteur.service with @CONFIG@ and @DATA_DIR@ for the paths. */
static const char cli_unit_template[] =
    "# facteur.service - systemd unit for facteur, a self-hosted"
    " mail server.\n"
    "# `facteur setup` installs it as"
    " /etc/systemd/system/facteur.service.\n"
    "#\n"
    "# facteur starts as root, binds ports 25/465/587/995, reads its\n"
    "# certificate and keys, then drops to the [server] user of its"
    " config by\n"
    "# itself: no AmbientCapabilities, and the bounding set below is"
    " all root\n"
    "# may keep. Everything it writes lives in /var/lib/facteur.\n"
    "#\n"
    "#   systemctl daemon-reload && systemctl enable --now facteur\n"
    "#   systemctl reload facteur        # config, users, aliases,"
    " certificate\n"
    "#   journalctl -u facteur           # its log (one line per"
    " event)\n"
    "\n"
    "[Unit]\n"
    "Description=facteur mail server (SMTP, submission, POP3)\n"
    "After=network-online.target\n"
    "Wants=network-online.target\n"
    "\n"
    "[Service]\n"
    "Type=simple\n"
    "ExecStartPre=/usr/local/sbin/facteur check-config -c @CONFIG@\n"
    "ExecStart=/usr/local/sbin/facteur serve -c @CONFIG@\n"
    "ExecReload=/bin/kill -HUP $MAINPID\n"
    "Restart=on-failure\n"
    "RestartSec=5s\n"
    "TimeoutStopSec=30s\n"
    "LimitNOFILE=65536\n"
    "UMask=0077\n"
    "\n"
    "# Hardening (systemd.exec(5)).\n"
    "NoNewPrivileges=yes\n"
    "CapabilityBoundingSet=CAP_NET_BIND_SERVICE CAP_SETUID"
    " CAP_SETGID CAP_CHOWN CAP_DAC_READ_SEARCH\n"
    "ProtectSystem=strict\n"
    "ReadWritePaths=@DATA_DIR@\n"
    "ProtectHome=yes\n"
    "PrivateTmp=yes\n"
    "PrivateDevices=yes\n"
    "ProtectKernelTunables=yes\n"
    "ProtectKernelModules=yes\n"
    "ProtectKernelLogs=yes\n"
    "ProtectControlGroups=yes\n"
    "ProtectClock=yes\n"
    "ProtectHostname=yes\n"
    "ProtectProc=invisible\n"
    "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6\n"
    "RestrictNamespaces=yes\n"
    "RestrictRealtime=yes\n"
    "RestrictSUIDSGID=yes\n"
    "LockPersonality=yes\n"
    "MemoryDenyWriteExecute=yes\n"
    "SystemCallArchitectures=native\n"
    "\n"
    "[Install]\n"
    "WantedBy=multi-user.target\n";

int
cli_setup_unit_text(const char *config_path, const char *data_dir,
    struct buf *out)
{
	const char *p = cli_unit_template, *at;
	int r = 0;

	while ((at = strchr(p, '@')) != NULL) {
		r |= buf_add(out, p, (size_t)(at - p));
		if (strncmp(at, "@CONFIG@", 8) == 0) {
			r |= buf_adds(out, config_path);
			p = at + 8;
		} else if (strncmp(at, "@DATA_DIR@", 10) == 0) {
			r |= buf_adds(out, data_dir);
			p = at + 10;
		} else {
			r |= buf_addc(out, '@');
			p = at + 1;
		}
	}
	r |= buf_adds(out, p);
	return r;
}

void
cli_setup_unit(struct cli_setup *s)
{
	char path[PATH_MAX], bin[PATH_MAX];
	struct buf text;
	struct stat st;

	buf_init(&text, 64 * 1024);
	/* The data_dir as the system sees it: the config's, root removed. */
	if (cli_setup_path(s, CLI_UNIT_PATH, path, sizeof(path)) == -1 ||
	    cli_setup_unit_text(s->config_path, s->cfg->data_dir +
	    strlen(s->root), &text) == -1)
		cli_setup_error(s, "unit path or text too long");
	else
		cli_setup_file(s, path, buf_cstr(&text), NULL, 0644,
		    "systemd unit");
	buf_release(&text);
	if (cli_setup_path(s, CLI_UNIT_BIN, bin, sizeof(bin)) == 0 &&
	    stat(bin, &st) == -1)
		cli_setup_say("todo", "install facteur as %s for the unit "
		    "(make && install -m 755 build/facteur %s)", bin,
		    CLI_UNIT_BIN);
}
