/*
 * cli_setup.c - `facteur setup DOMAIN [--hostname H] [--user ADDRESS]
 * [--root DIR] [--ip IP]... [-c FILE]`: from a fresh machine to a server
 * ready to start. In order: a commented production config, the system
 * user, the data directory, DKIM keys (RSA and Ed25519), the first
 * mailbox and the postmaster/abuse aliases, a certificate (certbot's, or
 * a self-signed one meanwhile), the systemd unit; then the DNS records to
 * publish, as `facteur dns` prints them.
 *
 * Idempotent: each step first looks at what is there and says "ok: ...
 * already" when it is right, "created: ..." when it made it ("skipped:"
 * what it may not do, "todo:" what is left to the user). A file the
 * user changed (config, unit) is never overwritten ("kept: ..."), and
 * the later steps follow the config on disk, theirs or ours. --root DIR
 * puts every file below DIR (for packaging and tests): the files written
 * still name the system's paths, and no system user is created.
 */
#include "core/common.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_int.h"
#include "config/config.h"
#include "core/dname.h"
#include "core/fsutil.h"

#define CLI_SETUP_DATA_DIR	"/var/lib/facteur"
#define CLI_SETUP_SYSUSER	"facteur"
#define CLI_LE_LIVE		"/etc/letsencrypt/live"

void
cli_setup_say(const char *word, const char *fmt, ...)
{
	va_list ap;

	printf("%s: ", word);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

void
cli_setup_error(struct cli_setup *s, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "facteur setup: error: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	s->errors++;
}

int
cli_setup_path(const struct cli_setup *s, const char *path, char *out,
    size_t size)
{
	int n = snprintf(out, size, "%s%s", s->root, path);

	return n < 0 || (size_t)n >= size ? -1 : 0;
}

int
cli_setup_parent(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');

	if (slash == NULL || slash == path)
		return 0;
	if (str_copy(dir, sizeof(dir), str_make(path, (size_t)(slash -
	    path))) == -1) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return fs_mkdir_p(dir, 0755);
}

void
cli_setup_file(struct cli_setup *s, const char *path, const char *text,
    const char *old, mode_t mode, const char *what)
{
	struct buf cur;
	bool exists;

	buf_init(&cur, CONFIG_FILE_MAX);
	exists = fs_read_file(path, &cur) == 0;
	if (!exists && errno != ENOENT)
		cli_setup_error(s, "cannot read %s: %s", path, strerror(errno));
	else if (exists && strcmp(buf_cstr(&cur), text) == 0)
		cli_setup_say("ok", "%s %s already", what, path);
	else if (exists && (old == NULL || strcmp(buf_cstr(&cur), old) != 0))
		cli_setup_say("kept", "%s %s: it differs from what setup "
		    "writes, so it is yours and stays as it is", what, path);
	else if (cli_setup_parent(path) == -1 ||
	    fs_write_atomic(path, text, strlen(text), mode) == -1)
		cli_setup_error(s, "cannot write %s: %s", path,
		    strerror(errno));
	else
		cli_setup_say(exists ? "updated" : "created", "%s %s", what,
		    path);
	buf_release(&cur);
}

/* The [tls] section: certbot's files, or how to get them. */
static int
cli_setup_config_tls(const struct cli_setup *s, bool le, struct buf *b)
{
	if (le)
		return buf_addf(b, "[tls]\n"
		    "; copies of certbot's files, readable by [server] user; "
		    "certbot's deploy\n; hook (%s) refreshes them\n"
		    "; and sends the SIGHUP that loads a renewed certificate\n"
		    "cert = %s/fullchain.pem\nkey = %s/privkey.pem\n",
		    "/etc/letsencrypt/renewal-hooks/deploy/facteur",
		    cli_setup_tls_dir(), cli_setup_tls_dir());
	return buf_addf(b, "[tls]\n"
	    "; No certificate yet: facteur uses a self-signed one from "
	    "data_dir/tls/.\n"
	    "; Get a real one:  certbot certonly --standalone -d %s\n"
	    "; then run 'facteur setup %s' again: it switches to these two "
	    "lines.\n"
	    ";cert = %s/fullchain.pem\n;key = %s/privkey.pem\n",
	    s->hostname, s->domain, cli_setup_tls_dir(), cli_setup_tls_dir());
}

/* "key = value", then "; comment" in column 40 when there is one. */
static int
cli_setup_kv(struct buf *b, const char *key, const char *value,
    const char *comment)
{
	char line[512];

	snprintf(line, sizeof(line), "%s = %s", key, value);
	if (comment == NULL)
		return buf_addf(b, "%s\n", line);
	return buf_addf(b, "%-38s ; %s\n", line, comment);
}

static int
cli_setup_config_server(const struct cli_setup *s, struct buf *b)
{
	int r;

	r = buf_adds(b, "[server]\n");
	r |= cli_setup_kv(b, "hostname", s->hostname, "the name in DNS: MX, "
	    "A/AAAA and PTR");
	r |= cli_setup_kv(b, "domains", s->domain, "space-separated: mail for "
	    "these is ours");
	r |= cli_setup_kv(b, "data_dir", CLI_SETUP_DATA_DIR, "users, aliases, "
	    "Maildirs, queue, keys");
	r |= cli_setup_kv(b, "user", CLI_SETUP_SYSUSER, "started as root, "
	    "facteur drops to this user");
	r |= cli_setup_kv(b, "max_message_size", "25M", NULL);
	r |= cli_setup_kv(b, "log_level", "info", NULL);
	r |= buf_adds(b, "\n[listen]\n");
	r |= cli_setup_kv(b, "smtp", "0.0.0.0:25 [::]:25", "other servers "
	    "deliver here (MX)");
	r |= cli_setup_kv(b, "submission", "0.0.0.0:587 [::]:587", "mail "
	    "clients send: STARTTLS + AUTH");
	r |= cli_setup_kv(b, "submissions", "0.0.0.0:465 [::]:465", "mail "
	    "clients send: implicit TLS + AUTH");
	r |= cli_setup_kv(b, "pop3s", "0.0.0.0:995 [::]:995", "mail clients "
	    "read: POP3 over TLS");
	return r;
}

static int
cli_setup_config_text(const struct cli_setup *s, bool le, struct buf *b)
{
	int r;

	r = buf_addf(b, "; %s - facteur's configuration,\n"
	    "; written by 'facteur setup %s'.\n"
	    "; Every key is documented in README.md (\"Configuration "
	    "reference\").\n"
	    "; Edit freely: setup never overwrites a file you changed.\n"
	    "; Check it with:  facteur check-config -c %s\n\n",
	    s->config_path, s->domain, s->config_path);
	r |= cli_setup_config_server(s, b);
	r |= buf_adds(b, "\n[limits]\n");
	r |= cli_setup_kv(b, "max_recipients", "100", NULL);
	r |= cli_setup_kv(b, "max_connections", "2000", NULL);
	r |= cli_setup_kv(b, "max_connections_per_ip", "20", NULL);
	r |= cli_setup_kv(b, "greeting_delay", "0", "e.g. 3s: refuses bots "
	    "that talk first");
	r |= buf_adds(b, "\n");
	r |= cli_setup_config_tls(s, le, b);
	r |= buf_adds(b, "\n[auth]\n");
	r |= cli_setup_kv(b, "mx", "no", "no AUTH on port 25: bots guess "
	    "there");
	r |= cli_setup_kv(b, "failure_delay", "2s", NULL);
	r |= buf_adds(b, "\n[submission]\n");
	r |= cli_setup_kv(b, "check_from", "yes", "From: must be the sender's "
	    "own address");
	return r;
}

static void
cli_setup_config(struct cli_setup *s)
{
	char path[PATH_MAX];
	struct buf now, other;

	buf_init(&now, CONFIG_FILE_MAX);
	buf_init(&other, CONFIG_FILE_MAX);
	if (cli_setup_path(s, s->config_path, path, sizeof(path)) == -1 ||
	    cli_setup_config_text(s, s->letsencrypt, &now) == -1 ||
	    cli_setup_config_text(s, !s->letsencrypt, &other) == -1)
		cli_setup_error(s, "config path or text too long");
	else
		/* A config setup wrote before certbot ran is ours to update. */
		cli_setup_file(s, path, buf_cstr(&now), s->letsencrypt ?
		    buf_cstr(&other) : NULL, 0644, "config");
	buf_release(&other);
	buf_release(&now);
}

/* Loads the config on disk; data_dir moves below the root. */
static int
cli_setup_load(struct cli_setup *s)
{
	char path[PATH_MAX], dir[PATH_MAX];
	struct cli_args a;

	memset(&a, 0, sizeof(a));
	if (cli_setup_path(s, s->config_path, path, sizeof(path)) == -1)
		return -1;
	a.config_path = path;
	if ((s->cfg = cli_load_config(&a)) == NULL)
		return -1;
	if (cli_setup_path(s, s->cfg->data_dir, dir, sizeof(dir)) == -1)
		return -1;
	free(s->cfg->data_dir);
	s->cfg->data_dir = xstrdup(dir);
	if (!config_is_local_domain(s->cfg, s->domain, strlen(s->domain))) {
		fprintf(stderr, "facteur setup: %s is yours and does not list "
		    "%s: add it to [server] domains, then run setup again\n",
		    path, s->domain);
		return -1;
	}
	return 0;
}

/* certbot's pair for the host name, under the root. */
static bool
cli_setup_find_letsencrypt(const struct cli_setup *s)
{
	char live[PATH_MAX], dir[PATH_MAX], cert[PATH_MAX], key[PATH_MAX];

	if (snprintf(live, sizeof(live), "%s/%s", CLI_LE_LIVE, s->hostname) >=
	    (int)sizeof(live) || cli_setup_path(s, live, dir, sizeof(dir)) ==
	    -1 || snprintf(cert, sizeof(cert), "%s/fullchain.pem", dir) >=
	    (int)sizeof(cert) || snprintf(key, sizeof(key), "%s/privkey.pem",
	    dir) >= (int)sizeof(key))
		return false;
	return access(cert, R_OK) == 0 && access(key, R_OK) == 0;
}

/* The value of option argv[*i], which moves past it; NULL if none. */
static const char *
cli_setup_opt(const struct cli_args *a, int *i, const char *name)
{
	if (strcmp(a->argv[*i], name) != 0 || *i + 1 >= a->argc)
		return NULL;
	return a->argv[++*i];
}

/* Copies a lowercase name and checks it; 0 or -1. */
static int
cli_setup_name(char *out, size_t size, const char *in)
{
	if (cstr_copy(out, size, in) == -1 || !dname_valid(out, strlen(out),
	    0)) {
		fprintf(stderr, "facteur: '%s' is not a domain name\n", in);
		return -1;
	}
	ascii_lower_inplace(out, strlen(out));
	return 0;
}

static int
cli_setup_args(const struct cli_args *a, struct cli_setup *s)
{
	const char *host = NULL, *user = NULL, *root = "", *v;
	char mail[300];
	int i;

	for (i = 0; i < a->argc; i++) {
		if ((v = cli_setup_opt(a, &i, "--hostname")) != NULL)
			host = v;
		else if ((v = cli_setup_opt(a, &i, "--user")) != NULL)
			user = v;
		else if ((v = cli_setup_opt(a, &i, "--root")) != NULL)
			root = v;
		else if ((v = cli_setup_opt(a, &i, "--ip")) != NULL) {
			if (cli_hostips_add_text(&s->ips, v) == -1)
				return -1;
		} else if (a->argv[i][0] != '-' && s->domain[0] == '\0') {
			if (cli_setup_name(s->domain, sizeof(s->domain),
			    a->argv[i]) == -1)
				return -1;
		} else
			return -1;
	}
	if (s->domain[0] == '\0' || cstr_copy(s->root_buf,
	    sizeof(s->root_buf), root) == -1)
		return -1;
	/* "/tmp/r/" and "/tmp/r" are one root; "/" is none. */
	while (s->root_buf[0] && s->root_buf[strlen(s->root_buf) - 1] == '/')
		s->root_buf[strlen(s->root_buf) - 1] = '\0';
	s->root = s->root_buf;
	s->config_path = a->config_path;
	if (s->root[0] && s->config_path[0] != '/') {
		fprintf(stderr, "facteur: with --root, -c needs an absolute "
		    "path\n");
		return -1;
	}
	if (user != NULL)
		cstr_copy(s->user, sizeof(s->user), user);
	else if (snprintf(s->user, sizeof(s->user), "postmaster@%s",
	    s->domain) >= (int)sizeof(s->user))
		return -1;
	ascii_lower_inplace(s->user, strlen(s->user));
	if (host == NULL && snprintf(mail, sizeof(mail), "mail.%s",
	    s->domain) >= (int)sizeof(mail))
		return -1;
	return cli_setup_name(s->hostname, sizeof(s->hostname), host ? host :
	    mail);
}

static void
cli_setup_next(const struct cli_setup *s)
{
	printf("\nnext steps:\n"
	    "  1. publish the DNS records below, then check them: facteur "
	    "doctor %s\n", s->domain);
	if (!s->letsencrypt)
		printf("  2. get a certificate: certbot certonly --standalone "
		    "-d %s\n     then run 'facteur setup %s' again\n",
		    s->hostname, s->domain);
	printf("  %d. start facteur: systemctl daemon-reload && systemctl "
	    "enable --now facteur\n", s->letsencrypt ? 2 : 3);
	printf("  %d. open ports 25, 465, 587 and 995 in the firewall\n\n",
	    s->letsencrypt ? 3 : 4);
}

int
cli_setup(const struct cli_args *a)
{
	struct cli_setup s;

	memset(&s, 0, sizeof(s));
	if (cli_setup_args(a, &s) == -1) {
		fprintf(stderr, "usage: facteur setup DOMAIN [--hostname "
		    "HOST] [--user ADDRESS] [--root DIR] [--ip IP]... "
		    "[-c FILE]\n");
		return 2;
	}
	umask(022);
	s.as_root = geteuid() == 0 && s.root[0] == '\0';
	s.letsencrypt = cli_setup_find_letsencrypt(&s);
	cli_setup_config(&s);
	if (cli_setup_load(&s) == -1) {
		fprintf(stderr, "facteur setup: stopped at the config\n");
		config_free(&s.cfg);
		return 1;
	}
	cli_setup_sysuser(&s);
	cli_setup_data_dir(&s);
	cli_setup_dkim(&s);
	cli_setup_mailbox(&s);
	cli_setup_aliases(&s);
	cli_setup_certbot(&s);
	cli_setup_tls(&s);
	cli_setup_owner(&s);
	cli_setup_unit(&s);
	cli_setup_next(&s);
	cli_hostips_guess(&s.ips, s.cfg);
	cli_dns_print_domain(s.cfg, s.cfg->data_dir, s.domain);
	printf("\n");
	cli_dns_print_host(s.cfg, &s.ips);
	config_free(&s.cfg);
	return s.errors > 0 ? 1 : 0;
}
