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
struct evp_pkey_st;

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
int cli_ban(const struct cli_args *a);
int cli_setup(const struct cli_args *a);
int cli_dns(const struct cli_args *a);
int cli_doctor(const struct cli_args *a);
/* Prints a DKIM TXT record in zone-file syntax, split into strings. */
void cli_dkim_print_record(const char *selector, const char *domain,
    const char *record);
/* Writes a new private key file (0600, never over an existing one). */
int cli_dkim_write_key(const char *path, struct evp_pkey_st *pkey);
/*
 * Adds a mailbox user with this password and creates its Maildir, as
 * `facteur user add` does. 0, 1 if the user exists, -1 (error printed).
 */
int cli_user_add(const struct config *cfg, const char *address,
    const char *password);

#endif
