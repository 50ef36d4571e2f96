/*
 * cli_ban.c - `facteur ban list|add|del`: the running server's bans
 * (auth/ban.h), through its control socket.
 */
#include "core/common.h"

#include "cli/cli.h"
#include "config/config.h"
#include "core/buf.h"
#include "core/cidr.h"
#include "server/control.h"

#define BAN_DEFAULT_SECONDS 86400

static int
cli_ban_usage(void)
{
	fprintf(stderr, "usage: facteur ban list [-c FILE]\n"
	    "       facteur ban add IP [--for DURATION]   (default 1d)\n"
	    "       facteur ban del IP\n");
	return 2;
}

static int
cli_ban_request(const struct config *cfg, const char *request)
{
	struct buf answer;
	int r;

	buf_init(&answer, 16 * 1024 * 1024);
	if (control_request(cfg->data_dir, request, &answer) == -1) {
		fprintf(stderr, "facteur: the server is not running (no control "
		    "socket in %s)\n", cfg->data_dir);
		buf_release(&answer);
		return 1;
	}
	r = strstr(buf_cstr(&answer), "\nerror") || strncmp(buf_cstr(&answer),
	    "error", 5) == 0 ? 1 : 0;
	fputs(buf_cstr(&answer), r ? stderr : stdout);
	buf_release(&answer);
	return r;
}

/* Builds the request; -1 on bad usage. */
static int
cli_ban_parse(const struct cli_args *a, char *req, size_t size)
{
	const char *op = a->argc ? a->argv[0] : "";
	uint64_t secs = BAN_DEFAULT_SECONDS;
	struct cidr net;

	if (strcmp(op, "list") == 0 && a->argc == 1)
		return snprintf(req, size, "ban-list") < (int)size ? 0 : -1;
	if (a->argc < 2 || cidr_parse(a->argv[1], strlen(a->argv[1]), &net) ==
	    -1 || strchr(a->argv[1], '/'))
		return -1;
	if (strcmp(op, "del") == 0 && a->argc == 2)
		return snprintf(req, size, "ban-del %s", a->argv[1]) <
		    (int)size ? 0 : -1;
	if (strcmp(op, "add") != 0 || (a->argc != 2 && (a->argc != 4 ||
	    strcmp(a->argv[2], "--for") != 0 ||
	    config_parse_duration(a->argv[3], &secs) == -1 || secs == 0)))
		return -1;
	return snprintf(req, size, "ban-add %s %llu", a->argv[1],
	    (unsigned long long)secs) < (int)size ? 0 : -1;
}

int
cli_ban(const struct cli_args *a)
{
	struct config *cfg;
	char req[256];
	int r;

	if (cli_ban_parse(a, req, sizeof(req)) == -1)
		return cli_ban_usage();
	if ((cfg = cli_load_config(a)) == NULL)
		return 1;
	r = cli_ban_request(cfg, req);
	config_free(&cfg);
	return r;
}
