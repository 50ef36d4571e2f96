/*
 * cli.h - the facteur command line: `facteur VERB [-c FILE] [ARGS]`.
 *
 * Every verb takes -c FILE (or --config FILE) anywhere after the verb;
 * the default is /etc/facteur/facteur.conf. Errors go to stderr in plain
 * words; the exit status is 0 on success, 1 on a failure, 2 on bad usage.
 */
#ifndef FACTEUR_CLI_H
#define FACTEUR_CLI_H

struct config;

/* The verb's arguments with -c/--config taken out. */
struct cli_args {
	const char	*config_path;
	int		 argc;		/* positional arguments after the verb */
	char		**argv;
};

int cli_main(int argc, char **argv);

/* Loads the config or prints its errors; NULL on failure. */
struct config *cli_load_config(const struct cli_args *a);
/* Sends sig to the running server of this data_dir, if any: 1 sent, 0 not. */
int cli_signal_server(const struct config *cfg, int sig);

int cli_serve(const struct cli_args *a);
int cli_check_config(const struct cli_args *a);
int cli_user(const struct cli_args *a);
int cli_queue(const struct cli_args *a);
int cli_spf(const struct cli_args *a);
int cli_dkim(const struct cli_args *a);
/* Prints a DKIM TXT record in zone-file syntax, split into strings. */
void cli_dkim_print_record(const char *selector, const char *domain,
    const char *record);

#endif
