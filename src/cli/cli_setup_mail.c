/*
 * cli_setup_mail.c - the mail steps of `facteur setup`: the first mailbox
 * user (its password read from stdin when stdin is not a terminal, else
 * generated and printed once) and the two addresses every mail domain
 * must answer, postmaster (RFC 5321 4.5.1) and abuse (RFC 2142 2), as
 * aliases of that user unless they exist already.
 */
#include "core/common.h"

#include <errno.h>
#include <limits.h>
#include <sys/random.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_int.h"
#include "config/config.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "directory/directory.h"

#define CLI_PW_MIN	8
#define CLI_PW_MAX	1024
/* Generated: 20 characters of 5 bits, 100 bits, grouped by five. */
#define CLI_PW_CHARS	20

static void
cli_setup_password_make(char *out, size_t size)
{
	/* 32 characters nobody confuses: no 0/o, 1/l. */
	static const char alphabet[] = "abcdefghijkmnpqrstuvwxyz23456789";
	unsigned char rnd[CLI_PW_CHARS];
	size_t i, o = 0;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		fatal("getrandom failed");
	for (i = 0; i < CLI_PW_CHARS && o + 2 < size; i++) {
		if (i > 0 && i % 5 == 0)
			out[o++] = '-';
		out[o++] = alphabet[rnd[i] & 31];
	}
	out[o] = '\0';
	explicit_bzero(rnd, sizeof(rnd));
}

/* 1 generated, 0 read from stdin, -1 unusable (too short or long). */
static int
cli_setup_password(char *out, size_t size)
{
	size_t n;

	if (!isatty(STDIN_FILENO) && fgets(out, (int)size, stdin) != NULL) {
		n = strcspn(out, "\r\n");
		if (out[n] == '\0' && n == size - 1)
			return -1;
		out[n] = '\0';
		if (n > 0)
			return n >= CLI_PW_MIN ? 0 : -1;
	}
	cli_setup_password_make(out, size);
	return 1;
}

static void
cli_setup_mailbox_add(struct cli_setup *s)
{
	char password[CLI_PW_MAX];
	int made, r;

	made = cli_setup_password(password, sizeof(password));
	if (made == -1)
		cli_setup_error(s, "the password on stdin needs %d to %d "
		    "characters", CLI_PW_MIN, CLI_PW_MAX - 1);
	else if ((r = cli_user_add(s->cfg, s->user, password)) == -1)
		s->errors++;	/* cli_user_add said why */
	else if (r == 1)
		cli_setup_say("ok", "mailbox user %s already", s->user);
	else {
		cli_setup_say("created", "mailbox user %s", s->user);
		if (made)
			printf("         its password: %s\n         (shown "
			    "once; change it with 'facteur user passwd %s')\n",
			    password, s->user);
	}
	explicit_bzero(password, sizeof(password));
}

void
cli_setup_mailbox(struct cli_setup *s)
{
	struct directory *dir;
	struct buf errors;

	buf_init(&errors, 64 * 1024);
	dir = directory_load(s->cfg, &errors);
	if (dir == NULL)
		cli_setup_error(s, "%.*s", (int)strcspn(buf_cstr(&errors),
		    "\n"), buf_cstr(&errors));
	else if (directory_user_hash(dir, s->user) != NULL)
		cli_setup_say("ok", "mailbox user %s already", s->user);
	else
		cli_setup_mailbox_add(s);
	directory_free(&dir);
	buf_release(&errors);
}

/* Appends the lines of add to the aliases file, atomically. */
static int
cli_setup_aliases_write(struct cli_setup *s, const struct buf *add)
{
	char path[PATH_MAX];
	struct buf text;
	int r = -1;

	buf_init(&text, 64 * 1024 * 1024);
	if (directory_aliases_path(s->cfg->data_dir, path, sizeof(path)) ==
	    -1 || (fs_read_file(path, &text) == -1 && errno != ENOENT))
		goto out;
	if (buf_len(&text) > 0 && buf_data(&text)[buf_len(&text) - 1] != '\n'
	    && buf_addc(&text, '\n') == -1)
		goto out;
	if (buf_add(&text, buf_data(add), buf_len(add)) == 0)
		r = fs_write_atomic(path, buf_data(&text), buf_len(&text),
		    0600);
out:
	if (r == -1)
		cli_setup_error(s, "cannot write the aliases in %s: %s",
		    s->cfg->data_dir, strerror(errno));
	buf_release(&text);
	return r;
}

void
cli_setup_aliases(struct cli_setup *s)
{
	static const char *const names[] = { "postmaster", "abuse" };
	bool missing[ARRAY_LEN(names)];
	struct dir_result res;
	struct directory *dir;
	struct buf errors, add;
	size_t i;
	int r = 0;

	buf_init(&errors, 64 * 1024);
	buf_init(&add, 4096);
	dir = directory_load(s->cfg, &errors);
	for (i = 0; dir != NULL && i < ARRAY_LEN(names); i++) {
		missing[i] = directory_resolve(dir, names[i], s->domain,
		    &res) != DIR_OK;
		if (!missing[i]) {
			dir_result_free(&res);
			cli_setup_say("ok", "%s@%s delivered already",
			    names[i], s->domain);
		} else
			r |= buf_addf(&add, "%s@%s: %s\n", names[i],
			    s->domain, s->user);
	}
	/* A directory that does not load was reported at the mailbox. */
	if (dir != NULL && r == 0 && buf_len(&add) > 0 &&
	    cli_setup_aliases_write(s, &add) == 0)
		for (i = 0; i < ARRAY_LEN(names); i++)
			if (missing[i])
				cli_setup_say("created", "alias %s@%s -> %s",
				    names[i], s->domain, s->user);
	directory_free(&dir);
	buf_release(&errors);
	buf_release(&add);
}
