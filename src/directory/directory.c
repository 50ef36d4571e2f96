/*
 * directory.c - see directory.h.
 */
#include "core/common.h"

#include <errno.h>

#include "config/config.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "core/map.h"
#include "directory/directory.h"

struct directory {
	struct map	*users;		/* "local@domain" -> hash (char *) */
	struct map	*aliases;	/* "local@domain" or "@domain" -> char ** */
	char		**domains;	/* copy of the config's, lowercase */
	size_t		 ndomains;
};

/* A target list is a NULL-terminated array of lowercase addresses. */
static void
dir_free_targets(void *p)
{
	char **t = p;
	size_t i;

	for (i = 0; t && t[i]; i++)
		free(t[i]);
	free(t);
}

int
directory_users_path(const char *data_dir, char *out, size_t size)
{
	int n = snprintf(out, size, "%s/users", data_dir);

	return n < 0 || (size_t)n >= size ? -1 : 0;
}

int
directory_aliases_path(const char *data_dir, char *out, size_t size)
{
	int n = snprintf(out, size, "%s/aliases", data_dir);

	return n < 0 || (size_t)n >= size ? -1 : 0;
}

bool
directory_local_ok(const char *local)
{
	/* A leading '-' would read as an option to shell tools. */
	return local[0] != '\0' && local[0] != '.' && local[0] != '"' &&
	    local[0] != '-' && strchr(local, '/') == NULL;
}

/* Parses and lowercases a config-file address; "" on error. */
static int
dir_parse_addr(struct str s, char *out, size_t size)
{
	struct smtp_addr a;

	if (smtp_addr_parse(s, SMTP_ADDR_STRICT, &a) != SMTP_ADDR_OK ||
	    smtp_addr_format(&a, out, size) == -1)
		return -1;
	ascii_lower_inplace(out, strlen(out));
	return 0;
}

static void
dir_error(struct buf *errors, const char *path, unsigned line,
    const char *msg)
{
	int r = buf_addf(errors, "%s:%u: %s\n", path, line, msg);

	(void)r;	/* a full error buffer keeps the first errors */
}

/* Iterates over the meaningful lines of a file: 1, or 0 at the end. */
static int
dir_next_line(struct str *rest, struct str *line, unsigned *lineno)
{
	while (rest->len) {
		long nl = str_chr(*rest, '\n');
		size_t len = nl < 0 ? rest->len : (size_t)nl;

		*line = str_trim(str_make(rest->p, len));
		*rest = str_sub(*rest, nl < 0 ? len : len + 1, rest->len);
		(*lineno)++;
		if (line->len && line->p[line->len - 1] == '\r')
			line->len--;
		if (line->len == 0 || line->p[0] == '#')
			continue;
		return 1;
	}
	return 0;
}

static int
dir_load_users(struct directory *d, const char *path, struct buf *errors)
{
	char addr[SMTP_ADDR_TEXT_MAX];
	struct buf text;
	struct str rest, line, hash;
	unsigned lineno = 0;
	size_t before = buf_len(errors);
	long colon;
	void *prev;

	buf_init(&text, 64 * 1024 * 1024);
	if (fs_read_file(path, &text) == -1 && errno != ENOENT) {
		dir_error(errors, path, 0, strerror(errno));
		buf_release(&text);
		return -1;
	}
	rest = str_make(buf_data(&text), buf_len(&text));
	while (dir_next_line(&rest, &line, &lineno)) {
		colon = str_chr(line, ':');
		if (colon <= 0 || dir_parse_addr(str_make(line.p,
		    (size_t)colon), addr, sizeof(addr)) == -1 ||
		    !directory_local_ok(addr)) {
			dir_error(errors, path, lineno,
			    "expected 'user@domain:hash'");
			continue;
		}
		hash = str_trim(str_sub(line, (size_t)colon + 1, line.len));
		if (hash.len == 0 || hash.p[0] != '$') {
			dir_error(errors, path, lineno, "expected a crypt(3) "
			    "hash ($y$..., $2b$...) after the address");
			continue;
		}
		if ((prev = map_put(d->users, addr, strlen(addr),
		    xmemdup0(hash.p, hash.len))) != NULL) {
			free(prev);
			dir_error(errors, path, lineno, "user listed twice");
		}
	}
	buf_release(&text);
	return buf_len(errors) == before ? 0 : -1;
}

/* "t1, t2 t3" -> NULL-terminated lowercase list; NULL on a bad target. */
static char **
dir_parse_targets(struct str s)
{
	char addr[SMTP_ADDR_TEXT_MAX];
	char **list = NULL;
	size_t n = 0, i;

	for (;;) {
		size_t j = 0;

		while (s.len && (s.p[0] == ',' || s.p[0] == ' ' ||
		    s.p[0] == '\t'))
			s = str_sub(s, 1, s.len);
		if (s.len == 0)
			break;
		while (j < s.len && s.p[j] != ',' && s.p[j] != ' ' &&
		    s.p[j] != '\t')
			j++;
		if (n == ALIAS_TARGETS_MAX ||
		    dir_parse_addr(str_make(s.p, j), addr, sizeof(addr)) == -1)
			goto bad;
		list = xreallocarray(list, n + 2, sizeof(*list));
		list[n++] = xstrdup(addr);
		list[n] = NULL;
		s = str_sub(s, j, s.len);
	}
	if (n > 0)
		return list;
bad:
	for (i = 0; i < n; i++)
		free(list[i]);
	free(list);
	return NULL;
}

static int
dir_alias_key(struct directory *d, struct str key, char *out, size_t size)
{
	if (key.len > 1 && key.p[0] == '@') {
		/* "@domain": a catch-all; the domain must be ours. */
		char dom[SMTP_DOMAIN_MAX + 1];

		if (str_copy(dom, sizeof(dom), str_sub(key, 1, key.len)) == -1)
			return -1;
		ascii_lower_inplace(dom, strlen(dom));
		if (!directory_is_local_domain(d, dom))
			return -1;
		return snprintf(out, size, "@%s", dom) < (int)size ? 0 : -1;
	}
	if (dir_parse_addr(key, out, size) == -1)
		return -1;
	return directory_is_local_domain(d, strchr(out, '@') + 1) ? 0 : -1;
}

static int
dir_load_aliases(struct directory *d, const char *path, struct buf *errors)
{
	char key[SMTP_ADDR_TEXT_MAX + 1];
	struct buf text;
	struct str rest, line;
	unsigned lineno = 0;
	size_t before = buf_len(errors);
	char **targets;
	long colon;

	buf_init(&text, 64 * 1024 * 1024);
	if (fs_read_file(path, &text) == -1 && errno != ENOENT) {
		dir_error(errors, path, 0, strerror(errno));
		buf_release(&text);
		return -1;
	}
	rest = str_make(buf_data(&text), buf_len(&text));
	while (dir_next_line(&rest, &line, &lineno)) {
		colon = str_chr(line, ':');
		if (colon <= 0 || dir_alias_key(d, str_trim(str_make(line.p,
		    (size_t)colon)), key, sizeof(key)) == -1) {
			dir_error(errors, path, lineno, "expected "
			    "'alias@ourdomain: target, ...' or '@ourdomain: "
			    "target'");
			continue;
		}
		targets = dir_parse_targets(str_sub(line, (size_t)colon + 1,
		    line.len));
		if (targets == NULL) {
			dir_error(errors, path, lineno,
			    "bad or missing target address");
			continue;
		}
		if ((targets = map_put(d->aliases, key, strlen(key),
		    targets)) != NULL) {
			dir_free_targets(targets);
			dir_error(errors, path, lineno, "alias listed twice");
		}
	}
	buf_release(&text);
	return buf_len(errors) == before ? 0 : -1;
}

struct directory *
directory_load(const struct config *cfg, struct buf *errors)
{
	struct directory *d = xcalloc(1, sizeof(*d));
	char path[4096];
	int r = 0;
	size_t i;

	d->users = map_new();
	d->aliases = map_new();
	d->ndomains = cfg->ndomains;
	d->domains = xcalloc(cfg->ndomains + 1, sizeof(char *));
	for (i = 0; i < cfg->ndomains; i++)
		d->domains[i] = xstrdup(cfg->domains[i]);
	if (directory_users_path(cfg->data_dir, path, sizeof(path)) == 0)
		r |= dir_load_users(d, path, errors);
	if (directory_aliases_path(cfg->data_dir, path, sizeof(path)) == 0)
		r |= dir_load_aliases(d, path, errors);
	if (r != 0)
		directory_free(&d);
	return d;
}

void
directory_free(struct directory **dp)
{
	struct directory *d = *dp;
	size_t i;

	if (d == NULL)
		return;
	map_free(&d->users, free);
	map_free(&d->aliases, dir_free_targets);
	for (i = 0; i < d->ndomains; i++)
		free(d->domains[i]);
	free(d->domains);
	XFREE(dp);
}

bool
directory_is_local_domain(const struct directory *d, const char *domain)
{
	size_t i;

	for (i = 0; i < d->ndomains; i++)
		if (str_caseeq(str_cstr(domain), str_cstr(d->domains[i])))
			return true;
	return false;
}

size_t
directory_user_count(const struct directory *d)
{
	return map_count(d->users);
}

const char *
directory_user_hash(const struct directory *d, const char *address)
{
	char key[SMTP_ADDR_TEXT_MAX];

	if (cstr_copy(key, sizeof(key), address) == -1)
		return NULL;
	ascii_lower_inplace(key, strlen(key));
	return map_get(d->users, key, strlen(key));
}

/* Resolution state: the result being built and the aliases being expanded. */
struct dir_walk {
	const struct directory	*d;
	struct dir_result	*res;
	const char		*stack[ALIAS_DEPTH_MAX + 1];
	size_t			 depth;
	unsigned		 budget;	/* expansions left */
};

static void
dir_add_target(struct dir_walk *w, const char *addr, bool local)
{
	size_t i;

	for (i = 0; i < w->res->n; i++)
		if (strcmp(w->res->v[i].addr, addr) == 0)
			return;
	if (w->res->n == ALIAS_TARGETS_MAX)
		return;
	w->res->v = xreallocarray(w->res->v, w->res->n + 1,
	    sizeof(*w->res->v));
	if (cstr_copy(w->res->v[w->res->n].addr, SMTP_ADDR_TEXT_MAX, addr)
	    == 0)
		w->res->v[w->res->n++].local = local;
}

static bool
dir_on_stack(const struct dir_walk *w, const char *key)
{
	size_t i;

	for (i = 0; i < w->depth; i++)
		if (strcmp(w->stack[i], key) == 0)
			return true;
	return false;
}

static bool dir_walk_addr(struct dir_walk *w, const char *addr);

static bool
dir_expand(struct dir_walk *w, const char *key, char **targets)
{
	bool any = false;
	size_t i;

	if (w->depth == ALIAS_DEPTH_MAX || w->budget == 0)
		return false;
	w->budget--;
	w->stack[w->depth++] = key;
	for (i = 0; targets[i]; i++)
		any |= dir_walk_addr(w, targets[i]);
	w->depth--;
	return any;
}

/* Looks key up as alias (unless being expanded) then as user. */
static int
dir_lookup(struct dir_walk *w, const char *key)
{
	char **targets;

	if (!dir_on_stack(w, key) &&
	    (targets = map_get(w->d->aliases, key, strlen(key))) != NULL)
		return dir_expand(w, key, targets) ? 1 : 0;
	if (map_get(w->d->users, key, strlen(key)) != NULL) {
		dir_add_target(w, key, true);
		return 1;
	}
	return -1;
}

/* Resolves one lowercase address; true if it led anywhere. */
static bool
dir_walk_addr(struct dir_walk *w, const char *addr)
{
	char base[SMTP_ADDR_TEXT_MAX], catchall[SMTP_ADDR_TEXT_MAX + 1];
	const char *at = strrchr(addr, '@'), *plus;
	char **targets;
	int r;

	if (at == NULL || !directory_is_local_domain(w->d, at + 1)) {
		dir_add_target(w, addr, false);
		return true;
	}
	if ((r = dir_lookup(w, addr)) >= 0)
		return r == 1;
	plus = memchr(addr, '+', (size_t)(at - addr));
	if (plus != NULL && plus != addr && snprintf(base, sizeof(base),
	    "%.*s%s", (int)(plus - addr), addr, at) < (int)sizeof(base) &&
	    (r = dir_lookup(w, base)) >= 0)
		return r == 1;
	snprintf(catchall, sizeof(catchall), "%s", at);
	if (!dir_on_stack(w, catchall) && (targets = map_get(w->d->aliases,
	    catchall, strlen(catchall))) != NULL)
		return dir_expand(w, catchall, targets);
	return false;
}

enum dir_status
directory_resolve(const struct directory *d, const char *local,
    const char *domain, struct dir_result *res)
{
	char addr[SMTP_ADDR_TEXT_MAX];
	struct dir_walk w = { .d = d, .res = res,
	    .budget = ALIAS_TARGETS_MAX * 4 };

	res->v = NULL;
	res->n = 0;
	if (!directory_is_local_domain(d, domain))
		return DIR_FOREIGN;
	if (local[0] == '"' || snprintf(addr, sizeof(addr), "%s@%s", local,
	    domain) >= (int)sizeof(addr))
		return DIR_UNKNOWN;
	ascii_lower_inplace(addr, strlen(addr));
	if (!dir_walk_addr(&w, addr) || res->n == 0) {
		dir_result_free(res);
		return DIR_UNKNOWN;
	}
	return DIR_OK;
}

void
dir_result_free(struct dir_result *res)
{
	XFREE(&res->v);
	res->n = 0;
}

/* Does the alias key expand (not via catch-alls) to user? */
static bool
dir_alias_reaches(const struct directory *d, const char *key,
    const char *user, unsigned depth, unsigned *budget)
{
	char **targets = map_get(d->aliases, key, strlen(key));
	size_t i;

	if (targets == NULL || depth == ALIAS_DEPTH_MAX)
		return false;
	for (i = 0; targets[i] && *budget > 0; i++, (*budget)--)
		if (strcmp(targets[i], user) == 0 ||
		    (strcmp(targets[i], key) != 0 &&
		    dir_alias_reaches(d, targets[i], user, depth + 1, budget)))
			return true;
	return false;
}

bool
directory_sender_allowed(const struct directory *d, const char *address,
    const char *user)
{
	char addr[SMTP_ADDR_TEXT_MAX], u[SMTP_ADDR_TEXT_MAX];
	char base[SMTP_ADDR_TEXT_MAX];
	const char *at, *plus;
	unsigned budget;

	/* "@domain" is the catch-all's key, never a sender. */
	if (cstr_copy(addr, sizeof(addr), address) == -1 ||
	    cstr_copy(u, sizeof(u), user) == -1 ||
	    (at = strrchr(addr, '@')) == NULL || at == addr)
		return false;
	ascii_lower_inplace(addr, strlen(addr));
	ascii_lower_inplace(u, strlen(u));
	if (strcmp(addr, u) == 0)
		return true;
	/*
	 * A user's address is theirs alone: "bob@d: bob@d, archive@d" gives
	 * archive a copy of bob's mail, not the right to write as bob.
	 */
	if (map_get(d->users, addr, strlen(addr)) != NULL)
		return false;
	/* A wide alias graph cannot make one check run away. */
	budget = ALIAS_TARGETS_MAX * 4;
	if (dir_alias_reaches(d, addr, u, 0, &budget))
		return true;
	/* alice+orders@d that is an alias of its own follows its own rule. */
	if (map_get(d->aliases, addr, strlen(addr)) != NULL)
		return false;
	plus = memchr(addr, '+', (size_t)(at - addr));
	if (plus == NULL || plus == addr || snprintf(base, sizeof(base),
	    "%.*s%s", (int)(plus - addr), addr, at) >= (int)sizeof(base))
		return false;
	return strcmp(base, u) == 0 || dir_alias_reaches(d, base, u, 0,
	    &budget);
}
