/*
 * cli.c - verb dispatch, option parsing, and helpers shared by the verbs.
 */
#include "core/common.h"

#include <errno.h>
#include <signal.h>
#include <sys/types.h>

#include "cli/cli.h"
#include "config/config.h"
#include "core/buf.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "server/server.h"

struct cli_verb {
	const char	*name;
	int		(*fn)(const struct cli_args *);
	const char	*usage;
	const char	*help;
};

static int cli_help(const struct cli_args *a);

static const struct cli_verb cli_verbs[] = {
	{ "serve", cli_serve, "serve [-c FILE]",
	    "run the server in the foreground, logging to stderr" },
	{ "check-config", cli_check_config, "check-config [-c FILE]",
	    "validate the configuration, users and aliases" },
	{ "user", cli_user, "user add|del|passwd|list [-c FILE] [ADDRESS]",
	    "manage mailbox users (password read from stdin if not a tty)" },
	{ "queue", cli_queue, "queue list|show|flush|delete [ID] [--bounce]",
	    "look at and act on outbound mail waiting for delivery" },
	{ "dkim", cli_dkim, "dkim keygen DOMAIN [--selector S] [--algorithm "
	    "rsa|ed25519] | dkim show [DOMAIN]",
	    "make a DKIM signing key / print the TXT records to publish" },
	{ "spf", cli_spf, "spf IP SENDER [HELO]", "the SPF check (RFC 7208)" },
	{ "ban", cli_ban, "ban list | ban add IP [--for DURATION] | ban del IP",
	    "the running server's brute-force bans" },
	{ "setup", cli_setup, "setup DOMAIN [--hostname H] [--user ADDRESS]",
	    "config, keys, first user, unit, DNS records (also --ip, --root)" },
	{ "dns", cli_dns, "dns [DOMAIN] [--ip IP]...",
	    "print every DNS record the domains need, ready to paste" },
	{ "doctor", cli_doctor, "doctor [DOMAIN] [--ip IP]...",
	    "check DNS, certificate and listeners live; exit 1 on a problem" },
	{ "help", cli_help, "help", "this list" },
};

static int
cli_help(const struct cli_args *a)
{
	size_t i;

	(void)a;
	printf("facteur %s - a self-hosted mail server\n\n"
	    "usage: facteur VERB [-c FILE] [ARGS]\n\n", FACTEUR_VERSION);
	for (i = 0; i < ARRAY_LEN(cli_verbs); i++)
		printf("  facteur %-44s %s\n", cli_verbs[i].usage,
		    cli_verbs[i].help);
	printf("\n  -c FILE, --config FILE   configuration file (default "
	    "%s)\n  --version                print the version\n",
	    CONFIG_DEFAULT_PATH);
	return 0;
}

/* Takes -c FILE, --config FILE, --config=FILE out of argv. */
static int
cli_parse(int argc, char **argv, struct cli_args *a)
{
	int i;

	a->config_path = CONFIG_DEFAULT_PATH;
	a->argv = xcalloc((size_t)argc + 1, sizeof(char *));
	a->argc = 0;
	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 ||
		    strcmp(argv[i], "--config") == 0) {
			if (i + 1 >= argc) {
				fprintf(stderr, "facteur: %s needs a file\n",
				    argv[i]);
				return -1;
			}
			a->config_path = argv[++i];
		} else if (strncmp(argv[i], "--config=", 9) == 0) {
			a->config_path = argv[i] + 9;
		} else {
			a->argv[a->argc++] = argv[i];
		}
	}
	return 0;
}

int
cli_main(int argc, char **argv)
{
	struct cli_args a;
	size_t i;
	int r;

	log_init(LOG_LEVEL_INFO);
	if (argc < 2) {
		cli_help(NULL);
		return 2;
	}
	if (strcmp(argv[1], "--version") == 0 ||
	    strcmp(argv[1], "version") == 0) {
		printf("facteur %s\n", FACTEUR_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return cli_help(NULL);
	for (i = 0; i < ARRAY_LEN(cli_verbs); i++) {
		if (strcmp(argv[1], cli_verbs[i].name) != 0)
			continue;
		if (cli_parse(argc - 2, argv + 2, &a) == -1) {
			free(a.argv);
			return 2;
		}
		r = cli_verbs[i].fn(&a);
		free(a.argv);
		return r;
	}
	fprintf(stderr, "facteur: unknown verb '%s' (try 'facteur help')\n",
	    argv[1]);
	return 2;
}

struct config *
cli_load_config(const struct cli_args *a)
{
	struct config *cfg;
	struct buf errors;

	buf_init(&errors, 64 * 1024);
	cfg = config_load(a->config_path, &errors);
	if (cfg == NULL)
		fprintf(stderr, "%s", buf_cstr(&errors));
	buf_release(&errors);
	return cfg;
}

int
cli_signal_server(const struct config *cfg, int sig)
{
	char path[4096];
	struct buf b;
	uint64_t pid;
	int r = 0;

	snprintf(path, sizeof(path), "%s/facteur.pid", cfg->data_dir);
	buf_init(&b, 64);
	if (fs_read_file(path, &b) == 0 &&
	    str_to_u64(str_trim(str_make(buf_data(&b),
	    strcspn(buf_data(&b), "\n"))), INT32_MAX, &pid) == 0 &&
	    pid > 1 && kill((pid_t)pid, sig) == 0)
		r = 1;
	buf_release(&b);
	return r;
}

int
cli_serve(const struct cli_args *a)
{
	struct config *cfg;

	if (a->argc != 0) {
		fprintf(stderr, "usage: facteur serve [-c FILE]\n");
		return 2;
	}
	if ((cfg = cli_load_config(a)) == NULL)
		return 1;
	return server_run(cfg);
}
