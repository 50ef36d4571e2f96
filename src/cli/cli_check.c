/*
 * cli_check.c - `facteur check-config`: validate everything the server
 * would load, say exactly what is wrong (file:line), and warn about what
 * is legal but probably a mistake.
 */
#include "core/common.h"

#include "cli/cli.h"
#include "config/config.h"
#include "core/buf.h"
#include "directory/directory.h"
#include "tls/tls.h"

static int
cli_check_warnings(const struct config *cfg, const struct directory *dir)
{
	struct dir_result res;
	int warnings = 0;
	size_t i;

	for (i = 0; i < cfg->ndomains; i++) {
		/* RFC 5321 4.5.1: postmaster must exist for every domain. */
		if (directory_resolve(dir, "postmaster", cfg->domains[i],
		    &res) == DIR_OK) {
			dir_result_free(&res);
			continue;
		}
		printf("warning: no postmaster@%s: add an alias such as "
		    "'postmaster@%s: you@%s' to %s/aliases\n",
		    cfg->domains[i], cfg->domains[i], cfg->domains[i],
		    cfg->data_dir);
		warnings++;
	}
	if (cfg->listen[LISTEN_SMTP].count == 0) {
		printf("warning: no [listen] smtp: this server will not "
		    "receive mail from other servers\n");
		warnings++;
	}
	return warnings;
}

int
cli_check_config(const struct cli_args *a)
{
	struct config *cfg;
	struct directory *dir;
	struct buf errors;
	int warnings;

	if ((cfg = cli_load_config(a)) == NULL)
		return 1;
	buf_init(&errors, 64 * 1024);
	dir = directory_load(cfg, &errors);
	if (dir == NULL) {
		fprintf(stderr, "%s", buf_cstr(&errors));
		buf_release(&errors);
		config_free(&cfg);
		return 1;
	}
	/* A configured certificate must load (no self-signed is made here). */
	if (cfg->tls_cert != NULL) {
		SSL_CTX *ctx = tls_ctx_load(cfg, &errors);

		if (ctx == NULL) {
			fprintf(stderr, "%s: [tls]: %s", cfg->path,
			    buf_cstr(&errors));
			directory_free(&dir);
			buf_release(&errors);
			config_free(&cfg);
			return 1;
		}
		tls_ctx_free(&ctx);
	}
	warnings = cli_check_warnings(cfg, dir);
	printf("%s: ok (%zu domain%s, %zu user%s, %d warning%s)\n",
	    a->config_path, cfg->ndomains, cfg->ndomains == 1 ? "" : "s",
	    directory_user_count(dir), directory_user_count(dir) == 1 ? "" :
	    "s", warnings, warnings == 1 ? "" : "s");
	directory_free(&dir);
	buf_release(&errors);
	config_free(&cfg);
	return 0;
}
