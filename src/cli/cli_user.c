/*
 * cli_user.c - `facteur user add|del|passwd|list`: the users file.
 *
 * Edits are made under a lock (data_dir/users.lock), written atomically
 * and durably, and the running server is told to reload (SIGHUP through
 * data_dir/facteur.pid). Comments and other lines are kept as they are.
 */
#include "core/common.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/file.h>
#include <termios.h>
#include <unistd.h>

#include "auth/auth_passwd.h"
#include "cli/cli.h"
#include "config/config.h"
#include "core/buf.h"
#include "core/priv.h"
#include "core/fsutil.h"
#include "delivery/mda_maildir.h"
#include "directory/directory.h"
#include "smtp/smtp_addr.h"

#define PASSWORD_MAX 1024
#define PASSWORD_MIN 8

/* Reads one line from stdin, without its line end; echo off on a tty. */
static int
cli_read_line(const char *prompt, char *out, size_t size)
{
	struct termios old, quiet;
	bool tty = isatty(STDIN_FILENO);
	size_t n;

	if (tty) {
		fprintf(stderr, "%s", prompt);
		tcgetattr(STDIN_FILENO, &old);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	if (fgets(out, (int)size, stdin) == NULL)
		out[0] = '\0';
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	n = strcspn(out, "\r\n");
	if (out[n] == '\0' && n == size - 1)
		return -1;	/* no line end: too long */
	out[n] = '\0';
	return 0;
}

static int
cli_get_password(char *out, size_t size)
{
	char again[PASSWORD_MAX];

	if (cli_read_line("New password: ", out, size) == -1) {
		fprintf(stderr, "facteur: password too long\n");
		return -1;
	}
	if (strlen(out) < PASSWORD_MIN) {
		fprintf(stderr, "facteur: the password needs at least %d "
		    "characters\n", PASSWORD_MIN);
		return -1;
	}
	if (!isatty(STDIN_FILENO))
		return 0;
	if (cli_read_line("Again: ", again, sizeof(again)) == -1 ||
	    strcmp(out, again) != 0) {
		explicit_bzero(again, sizeof(again));
		fprintf(stderr, "facteur: the passwords differ\n");
		return -1;
	}
	explicit_bzero(again, sizeof(again));
	return 0;
}

/* Validates ADDRESS: ours, strict syntax, usable as a directory name. */
static int
cli_user_address(const struct config *cfg, const char *arg, char *out,
    size_t size)
{
	struct smtp_addr a;

	if (strchr(arg, '"') != NULL ||
	    smtp_addr_parse(str_cstr(arg), SMTP_ADDR_STRICT, &a) !=
	    SMTP_ADDR_OK || smtp_addr_format(&a, out, size) == -1 ||
	    !directory_local_ok(a.local) || strchr(a.local, '+')) {
		fprintf(stderr, "facteur: '%s' is not a valid user address "
		    "(user@domain; no '+', '/', quotes or leading '-')\n", arg);
		return -1;
	}
	ascii_lower_inplace(out, strlen(out));
	if (!config_is_local_domain(cfg, a.domain, strlen(a.domain))) {
		fprintf(stderr, "facteur: %s is not one of the [server] "
		    "domains in %s\n", a.domain, cfg->path);
		return -1;
	}
	return 0;
}

/* The users file as lines; finds the line of address. */
struct cli_users {
	char	 path[PATH_MAX];
	struct buf text;
	int	 lock_fd;
};

static int
cli_users_open(struct cli_users *u, const struct config *cfg)
{
	char lock[PATH_MAX];

	buf_init(&u->text, 64 * 1024 * 1024);
	u->lock_fd = -1;
	if (fs_mkdir_p(cfg->data_dir, 0700) == -1 ||
	    directory_users_path(cfg->data_dir, u->path, sizeof(u->path)) ==
	    -1 || snprintf(lock, sizeof(lock), "%s/users.lock", cfg->data_dir)
	    >= (int)sizeof(lock)) {
		fprintf(stderr, "facteur: cannot use data_dir %s: %s\n",
		    cfg->data_dir, strerror(errno));
		return -1;
	}
	/* As root, in a directory the server's user owns: no symlink. */
	u->lock_fd = open(lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (u->lock_fd == -1 || flock(u->lock_fd, LOCK_EX) == -1 ||
	    (fs_read_file(u->path, &u->text) == -1 && errno != ENOENT)) {
		fprintf(stderr, "facteur: %s: %s\n", u->path, strerror(errno));
		return -1;
	}
	return 0;
}

static void
cli_users_close(struct cli_users *u)
{
	if (u->lock_fd != -1)
		close(u->lock_fd);
	buf_release(&u->text);
}

/* Offset and length of the line for address (with its LF), or -1. */
static long
cli_users_find(const struct cli_users *u, const char *address, size_t *len)
{
	const char *p = buf_data(&u->text), *end = p + buf_len(&u->text);
	size_t alen = strlen(address);

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);

		if (n > alen && p[alen] == ':' &&
		    str_caseeq(str_make(p, alen), str_cstr(address))) {
			*len = n;
			return (long)(p - buf_data(&u->text));
		}
		p += n;
	}
	return -1;
}

/* Replaces [off, off+len) with repl and saves the file. */
static int
cli_users_save(struct cli_users *u, long off, size_t len, const char *repl)
{
	struct buf out;
	int r;

	buf_init(&out, BUF_NOCAP);
	if (off < 0)
		off = (long)buf_len(&u->text);
	r = buf_add(&out, buf_data(&u->text), (size_t)off);
	if (off > 0 && buf_data(&u->text)[off - 1] != '\n' && repl[0])
		r |= buf_addc(&out, '\n');
	r |= buf_adds(&out, repl);
	r |= buf_add(&out, buf_data(&u->text) + off + len,
	    buf_len(&u->text) - (size_t)off - len);
	if (r == 0)
		r = fs_write_atomic(u->path, buf_data(&out), buf_len(&out),
		    0600);
	buf_release_secret(&out);
	if (r == -1)
		fprintf(stderr, "facteur: cannot write %s: %s\n", u->path,
		    strerror(errno));
	return r;
}

/* Saves address with a hash of password; a new user gets a Maildir. */
static int
cli_user_store(const struct config *cfg, struct cli_users *u,
    const char *address, const char *password, bool create)
{
	char hash[512], line[SMTP_ADDR_TEXT_MAX + 520], maildir[PATH_MAX];
	size_t len = 0;
	long off = cli_users_find(u, address, &len);

	if (auth_passwd_hash(password, hash, sizeof(hash)) == -1) {
		fprintf(stderr, "facteur: cannot hash the password\n");
		return -1;
	}
	snprintf(line, sizeof(line), "%s:%s\n", address, hash);
	if (cli_users_save(u, off, len, line) == -1)
		return -1;
	if (create && (mda_maildir_path(cfg->data_dir, address, maildir,
	    sizeof(maildir)) == -1 || mda_maildir_create(maildir) == -1)) {
		fprintf(stderr, "facteur: cannot create the Maildir of %s: "
		    "%s\n", address, strerror(errno));
		return -1;
	}
	return 0;
}

static int
cli_user_set(const struct config *cfg, struct cli_users *u,
    const char *address, bool create)
{
	char password[PASSWORD_MAX];
	size_t len = 0;
	long off = cli_users_find(u, address, &len);
	int r;

	if (create && off >= 0) {
		fprintf(stderr, "facteur: %s exists already (use 'facteur "
		    "user passwd')\n", address);
		return 1;
	}
	if (!create && off < 0) {
		fprintf(stderr, "facteur: no user %s\n", address);
		return 1;
	}
	r = cli_get_password(password, sizeof(password));
	if (r == 0)
		r = cli_user_store(cfg, u, address, password, create);
	explicit_bzero(password, sizeof(password));
	if (r == -1)
		return 1;
	printf("%s %s\n", create ? "added" : "changed the password of",
	    address);
	return 0;
}

int
cli_user_add(const struct config *cfg, const char *arg, const char *password)
{
	char address[SMTP_ADDR_TEXT_MAX];
	struct cli_users u;
	size_t len;
	int r;

	if (cli_user_address(cfg, arg, address, sizeof(address)) == -1)
		return -1;
	if (cli_users_open(&u, cfg) == -1)
		r = -1;
	else if (cli_users_find(&u, address, &len) >= 0)
		r = 1;
	else
		r = cli_user_store(cfg, &u, address, password, true);
	cli_users_close(&u);
	return r;
}

static int
cli_user_del(const struct config *cfg, struct cli_users *u,
    const char *address)
{
	size_t len;
	long off = cli_users_find(u, address, &len);

	if (off < 0) {
		fprintf(stderr, "facteur: no user %s\n", address);
		return 1;
	}
	if (cli_users_save(u, off, len, "") == -1)
		return 1;
	printf("deleted %s (its mail stays in %s/mail/)\n", address,
	    cfg->data_dir);
	return 0;
}

static void
cli_user_list(const struct cli_users *u)
{
	struct str rest = str_make(buf_data(&u->text), buf_len(&u->text));

	while (rest.len) {
		long nl = str_chr(rest, '\n');
		struct str line = str_make(rest.p, nl < 0 ? rest.len :
		    (size_t)nl);
		long colon = str_chr(line, ':');

		rest = str_sub(rest, line.len + 1, rest.len);
		line = str_trim(line);
		if (line.len == 0 || line.p[0] == '#' || colon < 0)
			continue;
		printf("%.*s\n", (int)colon, line.p);
	}
}

static int
cli_user_run(const struct config *cfg, const char *op, const char *arg)
{
	char address[SMTP_ADDR_TEXT_MAX];
	struct cli_users u;
	int r = 1;

	if (arg && cli_user_address(cfg, arg, address, sizeof(address)) == -1)
		return 1;
	if (cli_users_open(&u, cfg) == -1) {
		cli_users_close(&u);
		return 1;
	}
	if (strcmp(op, "list") == 0) {
		cli_user_list(&u);
		r = 0;
	} else if (strcmp(op, "add") == 0) {
		r = cli_user_set(cfg, &u, address, true);
	} else if (strcmp(op, "passwd") == 0) {
		r = cli_user_set(cfg, &u, address, false);
	} else {
		r = cli_user_del(cfg, &u, address);
	}
	cli_users_close(&u);
	if (r == 0 && strcmp(op, "list") != 0 && cli_signal_server(cfg,
	    SIGHUP) == 1)
		printf("the running server reloads its users\n");
	return r;
}

int
cli_user(const struct cli_args *a)
{
	static const char *const ops[] = { "add", "del", "passwd", "list" };
	struct config *cfg;
	const char *op = a->argc > 0 ? a->argv[0] : "";
	bool known = false, list;
	size_t i;
	int r;

	for (i = 0; i < ARRAY_LEN(ops); i++)
		known |= strcmp(op, ops[i]) == 0;
	list = strcmp(op, "list") == 0;
	if (!known || a->argc != (list ? 1 : 2)) {
		fprintf(stderr, "usage: facteur user add|del|passwd ADDRESS "
		    "[-c FILE]\n       facteur user list [-c FILE]\n");
		return 2;
	}
	if ((cfg = cli_load_config(a)) == NULL)
		return 1;
	/* Files in data_dir belong to [server] user, never to root. */
	if (priv_drop_for_cli(cfg) == -1) {
		config_free(&cfg);
		return 1;
	}
	r = cli_user_run(cfg, op, list ? NULL : a->argv[1]);
	config_free(&cfg);
	return r;
}
