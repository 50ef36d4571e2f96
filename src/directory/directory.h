/*
 * directory.h - who exists: users, aliases and catch-alls of our domains.
 *
 * Loaded from data_dir/users ("address:crypt-hash" a line) and
 * data_dir/aliases ("alias@domain: target, target"; "@domain: target" is a
 * catch-all) at start and on SIGHUP; a bad file keeps the old directory and
 * says why, with line numbers. Addresses are compared in lower case.
 *
 * Resolution of a recipient, in order (as Postfix's virtual maps do):
 *   1. an alias for the full address;
 *   2. a user with the full address;
 *   3. the same two without a "+tag" (sub-addressing: u+tag@d -> u@d);
 *   4. the catch-all "@domain".
 * Alias targets are resolved again (up to ALIAS_DEPTH_MAX); an alias that
 * names itself means "also the user of that name". Targets in foreign
 * domains are kept as remote addresses (forwarding, via the queue). The
 * result is deduplicated, so two aliases leading to one mailbox give one
 * copy.
 */
#ifndef FACTEUR_DIRECTORY_H
#define FACTEUR_DIRECTORY_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "smtp/smtp_addr.h"

struct config;
struct directory;

struct dir_target {
	char	 addr[SMTP_ADDR_TEXT_MAX];	/* lowercase local@domain */
	bool	 local;				/* a user's mailbox here */
};

struct dir_result {
	struct dir_target *v;
	size_t		 n;
};

enum dir_status {
	DIR_OK,
	DIR_UNKNOWN,		/* our domain, nobody by that name */
	DIR_FOREIGN,		/* not one of our domains */
};

/* NULL on error, errors appended ("path:line: message"). */
struct directory *directory_load(const struct config *cfg,
    struct buf *errors);
void directory_free(struct directory **dir);

/* Resolves local@domain; fills res (caller frees with dir_result_free). */
enum dir_status directory_resolve(const struct directory *dir,
    const char *local, const char *domain, struct dir_result *res);
void dir_result_free(struct dir_result *res);

/* The user's password hash, or NULL (address in any case). */
const char *directory_user_hash(const struct directory *dir,
    const char *address);
bool directory_is_local_domain(const struct directory *dir,
    const char *domain);
size_t directory_user_count(const struct directory *dir);
/*
 * May user send as address? Yes for the user's own address, its
 * sub-addresses (user+tag@domain, unless that is an alias of its own),
 * and aliases naming the user (directly or through other aliases); never
 * another user's address, even through an alias that copies its mail to
 * this user, and never through a catch-all, which would give everyone
 * every address of the domain. Case-insensitive.
 */
bool directory_sender_allowed(const struct directory *dir,
    const char *address, const char *user);

/* Paths of the two files for a data_dir, written into out. */
int directory_users_path(const char *data_dir, char *out, size_t size);
int directory_aliases_path(const char *data_dir, char *out, size_t size);
/* A local part safe as a mailbox directory name (no '/', no leading '.'). */
bool directory_local_ok(const char *local);

#endif
