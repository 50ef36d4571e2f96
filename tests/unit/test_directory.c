/*
 * test_directory.c - users, aliases and catch-alls: loading the two files
 * (with line-numbered errors), resolving recipients, and who may send as
 * which address.
 *
 * The files are written under a mkdtemp dir and loaded with a struct
 * config built by hand (only domains and data_dir matter). resolve_cases
 * and sender_cases run against one fixture, FIX_USERS + FIX_ALIASES.
 */
#include "core/common.h"

#include <errno.h>
#include <unistd.h>

#include "config/config.h"
#include "core/buf.h"
#include "directory/directory.h"
#include "unit/unit.h"

#define HASH "$y$j9T$salt$hash"

struct dir_tmp {
	char		 path[64];
	char		 dom1[32], dom2[32], dom3[32];
	char		*domains[4];
	struct config	 cfg;
};

/* Writes text (if not NULL) to DIR/name. */
static void
dir_tmp_write(const struct dir_tmp *t, const char *name, const char *text)
{
	char path[128];
	FILE *f;

	if (text == NULL)
		return;
	if (snprintf(path, sizeof(path), "%s/%s", t->path, name) >=
	    (int)sizeof(path))
		abort();
	f = fopen(path, "w");
	if (f == NULL || fwrite(text, 1, strlen(text), f) != strlen(text) ||
	    fclose(f) != 0) {
		CHECKF(false, "cannot write %s", path);
		abort();
	}
}

static void
dir_tmp_remove(struct dir_tmp *t)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/users", t->path);
	unlink(path);
	snprintf(path, sizeof(path), "%s/aliases", t->path);
	unlink(path);
	rmdir(t->path);
}

/*
 * Loads a directory from the two texts (NULL: no such file) for the
 * domains example.test, other.test and third.test. Errors go to errs
 * with the temporary directory's name cut out ("users:3: ...").
 */
static struct directory *
dir_load_text(const char *users, const char *aliases, struct buf *errs)
{
	struct dir_tmp t;
	struct directory *d;
	struct buf raw;
	const char *p, *hit;
	size_t plen;

	memset(&t, 0, sizeof(t));
	CHECK_EQ_INT(cstr_copy(t.path, sizeof(t.path),
	    "/tmp/facteur-test-directory.XXXXXX"), 0);
	if (mkdtemp(t.path) == NULL) {
		CHECKF(false, "mkdtemp: %s", strerror(errno));
		abort();
	}
	CHECK_EQ_INT(cstr_copy(t.dom1, sizeof(t.dom1), "example.test"), 0);
	CHECK_EQ_INT(cstr_copy(t.dom2, sizeof(t.dom2), "other.test"), 0);
	CHECK_EQ_INT(cstr_copy(t.dom3, sizeof(t.dom3), "third.test"), 0);
	t.domains[0] = t.dom1;
	t.domains[1] = t.dom2;
	t.domains[2] = t.dom3;
	t.domains[3] = NULL;
	t.cfg.domains = t.domains;
	t.cfg.ndomains = 3;
	t.cfg.data_dir = t.path;
	dir_tmp_write(&t, "users", users);
	dir_tmp_write(&t, "aliases", aliases);
	buf_init(&raw, 65536);
	d = directory_load(&t.cfg, &raw);
	/* The directory keeps nothing of cfg: it may go away now. */
	dir_tmp_remove(&t);
	memset(&t.cfg, 0, sizeof(t.cfg));
	buf_init(errs, 65536);
	p = buf_cstr(&raw);
	plen = strlen(t.path) + 1;
	while ((hit = strstr(p, t.path)) != NULL) {
		CHECK_EQ_INT(buf_add(errs, p, (size_t)(hit - p)), 0);
		p = hit + plen;
	}
	CHECK_EQ_INT(buf_adds(errs, p), 0);
	buf_release(&raw);
	return d;
}

/* ---- Loading ---- */

struct load_case {
	const char	*users;
	const char	*aliases;
	const char	*errors;	/* "": loads */
	size_t		 nusers;	/* on success */
};

#define E_USER "expected 'user@domain:hash'"
#define E_HASH "expected a crypt(3) hash ($y$..., $2b$...) after the address"
#define E_KEY "expected 'alias@ourdomain: target, ...' or '@ourdomain: target'"
#define E_TARGET "bad or missing target address"

static const struct load_case load_cases[] = {
	/* No files at all: an empty directory. */
	{ NULL, NULL, "", 0 },
	{ "", "", "", 0 },
	{ "alice@example.test:" HASH "\n", NULL, "", 1 },
	{ "alice@example.test:" HASH, NULL, "", 1 },	/* no final LF */
	{ "# users\n\n   \nalice@example.test: " HASH " \r\n"
	    "  # indented comment\r\nbob@other.test:$2b$10$x\r\n", NULL, "",
	    2 },
	{ "ALICE@EXAMPLE.TEST:" HASH "\n", NULL, "", 1 },

	/* Bad user lines, each with its line number. */
	{ "alice@example.test\n", NULL, "users:1: " E_USER "\n" },
	{ ":" HASH "\n", NULL, "users:1: " E_USER "\n" },
	{ "not an address:" HASH "\n", NULL, "users:1: " E_USER "\n" },
	{ "alice:" HASH "\n", NULL, "users:1: " E_USER "\n" },
	{ "user%x@example.test:" HASH "\n", NULL, "users:1: " E_USER "\n" },
	{ "a/b@example.test:" HASH "\n", NULL, "users:1: " E_USER "\n" },
	{ "\"a b\"@example.test:" HASH "\n", NULL, "users:1: " E_USER "\n" },
	{ "alice@example.test.:" HASH "\n", NULL, "users:1: " E_USER "\n" },
	{ "alice@example.test:\n", NULL, "users:1: " E_HASH "\n" },
	{ "alice@example.test:   \n", NULL, "users:1: " E_HASH "\n" },
	{ "alice@example.test:plaintext\n", NULL, "users:1: " E_HASH "\n" },
	{ "alice@example.test:" HASH "\n# c\n\nalice@Example.TEST:$y$2\n",
	    NULL, "users:4: user listed twice\n" },
	{ "ok@example.test:" HASH "\nbad\nok2@example.test:" HASH "\n\n"
	    "x@example.test:nohash\r\n", NULL,
	    "users:2: " E_USER "\nusers:5: " E_HASH "\n" },

	/* Aliases. */
	{ NULL, "a@example.test: alice@example.test\n", "", 0 },
	{ NULL, "# aliases\n\nA@Example.TEST : alice@example.test, "
	    "bob@example.test\tcarol@example.test,,\n@other.test: x@y.test\n",
	    "", 0 },
	{ NULL, "a@foreign.test: alice@example.test\n",
	    "aliases:1: " E_KEY "\n" },
	{ NULL, "@foreign.test: alice@example.test\n",
	    "aliases:1: " E_KEY "\n" },
	{ NULL, "@: alice@example.test\n", "aliases:1: " E_KEY "\n" },
	{ NULL, "no colon here\n", "aliases:1: " E_KEY "\n" },
	{ NULL, ": alice@example.test\n", "aliases:1: " E_KEY "\n" },
	{ NULL, "a@example.test:\n", "aliases:1: " E_TARGET "\n" },
	{ NULL, "a@example.test: , ,\n", "aliases:1: " E_TARGET "\n" },
	{ NULL, "a@example.test: not-an-address\n",
	    "aliases:1: " E_TARGET "\n" },
	{ NULL, "a@example.test: b@example.test, c@[192.0.2.1]\n",
	    "aliases:1: " E_TARGET "\n" },
	{ NULL, "a@example.test: b@example.test\n\nA@example.test: "
	    "c@example.test\n", "aliases:3: alias listed twice\n" },
	{ NULL, "@other.test: x@y.test\n@OTHER.test: z@y.test\n",
	    "aliases:2: alias listed twice\n" },
	/* Errors in both files are all reported. */
	{ "bad\n", "\n\nbad\n", "users:1: " E_USER "\naliases:3: " E_KEY "\n" },
};

TEST(directory_load_table)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(load_cases); i++) {
		const struct load_case *c = &load_cases[i];
		struct directory *d;
		struct buf errs;

		d = dir_load_text(c->users, c->aliases, &errs);
		CHECKF(strcmp(buf_cstr(&errs), c->errors) == 0, "case %zu: "
		    "errors\n%s\nwant\n%s", i, buf_cstr(&errs), c->errors);
		CHECKF((d != NULL) == (c->errors[0] == '\0'), "case %zu: "
		    "directory %s", i, d ? "loaded" : "refused");
		if (d != NULL)
			CHECKF(directory_user_count(d) == c->nusers,
			    "case %zu: %zu users, want %zu", i,
			    directory_user_count(d), c->nusers);
		directory_free(&d);
		CHECK(d == NULL);
		buf_release(&errs);
	}
}

/* The error buffer is appended to, and a full one keeps the first errors. */
TEST(directory_load_errors_capped)
{
	struct buf text, errs;
	struct directory *d;
	size_t i;

	buf_init(&text, BUF_NOCAP);
	for (i = 0; i < 5000; i++)
		CHECK_EQ_INT(buf_adds(&text, "bad line\n"), 0);
	d = dir_load_text(buf_cstr(&text), NULL, &errs);
	CHECK(d == NULL);
	CHECK(strncmp(buf_cstr(&errs), "users:1: " E_USER "\nusers:2: ",
	    strlen("users:1: " E_USER "\nusers:2: ")) == 0);
	buf_release(&errs);
	buf_release(&text);
}

/* ---- Resolution ---- */

#define FIX_USERS							\
	"alice@example.test:" HASH "\n"					\
	"bob@example.test:" HASH "\n"					\
	"carol@example.test:" HASH "\n"					\
	"john.smith@example.test:" HASH "\n"				\
	"dave@other.test:" HASH "\n"					\
	"erin@other.test:" HASH "\n"

#define FIX_ALIASES							\
	"postmaster@example.test: alice@example.test\n"			\
	"team@example.test: alice@example.test, bob@example.test, "	\
	    "Alice@Example.Test\n"					\
	"both@example.test: team@example.test, alice@example.test, "	\
	    "bob@example.test\n"					\
	"carol@example.test: carol@example.test, carol@remote.example\n" \
	"self@example.test: self@example.test\n"			\
	"fwd@example.test: someone@remote.example\n"			\
	"mixed@example.test: bob@example.test, x@remote.example, "	\
	    "X@Remote.Example\n"					\
	"chain1@example.test: chain2@example.test\n"			\
	"chain2@example.test: chain3@example.test\n"			\
	"chain3@example.test: bob@example.test\n"			\
	"loopa@example.test: loopb@example.test\n"			\
	"loopb@example.test: loopa@example.test\n"			\
	"loopc@example.test: loopd@example.test, alice@example.test\n"	\
	"loopd@example.test: loopc@example.test\n"			\
	"d1@example.test: d2@example.test\n"				\
	"d2@example.test: d3@example.test\n"				\
	"d3@example.test: d4@example.test\n"				\
	"d4@example.test: d5@example.test\n"				\
	"d5@example.test: d6@example.test\n"				\
	"d6@example.test: d7@example.test\n"				\
	"d7@example.test: d8@example.test\n"				\
	"d8@example.test: alice@example.test\n"				\
	"o0@example.test: d1@example.test\n"				\
	"broken@example.test: ghost@example.test\n"			\
	"half@example.test: ghost@example.test, carol@other.test, "	\
	    "bob@example.test\n"					\
	"sales@example.test: bob@example.test\n"			\
	"alice+vip@example.test: carol@example.test\n"			\
	"john.smith@example.test: john.smith@example.test, "		\
	    "bob@example.test\n"					\
	"@other.test: dave@other.test\n"				\
	"info@other.test: erin@other.test\n"				\
	"@third.test: team@example.test\n"

/* Shared by the resolution and sender tests. */
static struct directory *
dir_fixture(void)
{
	struct directory *d;
	struct buf errs;

	d = dir_load_text(FIX_USERS, FIX_ALIASES, &errs);
	CHECKF(d != NULL, "fixture refused:\n%s", buf_cstr(&errs));
	buf_release(&errs);
	if (d == NULL)
		abort();
	return d;
}

struct resolve_case {
	const char	*local;
	const char	*domain;
	enum dir_status	 status;
	const char	*want;	/* "addr L|R" joined by ",": local/remote */
};

static const struct resolve_case resolve_cases[] = {
	/* Users, in any case. */
	{ "alice", "example.test", DIR_OK, "alice@example.test L" },
	{ "ALICE", "Example.TEST", DIR_OK, "alice@example.test L" },
	/* A user whose alias also copies its mail to another. */
	{ "john.smith", "example.test", DIR_OK,
	    "john.smith@example.test L,bob@example.test L" },
	{ "dave", "other.test", DIR_OK, "dave@other.test L" },
	/* Aliases, deduplicated in order of first appearance. */
	{ "postmaster", "example.test", DIR_OK, "alice@example.test L" },
	{ "Postmaster", "EXAMPLE.test", DIR_OK, "alice@example.test L" },
	{ "team", "example.test", DIR_OK,
	    "alice@example.test L,bob@example.test L" },
	{ "both", "example.test", DIR_OK,
	    "alice@example.test L,bob@example.test L" },
	{ "mixed", "example.test", DIR_OK,
	    "bob@example.test L,x@remote.example R" },
	/* An alias naming itself is also the user of that name. */
	{ "carol", "example.test", DIR_OK,
	    "carol@example.test L,carol@remote.example R" },
	{ "self", "example.test", DIR_UNKNOWN, "" },
	/* Foreign targets are kept, as remote. */
	{ "fwd", "example.test", DIR_OK, "someone@remote.example R" },
	/* Chains, loops, the depth limit. */
	{ "chain1", "example.test", DIR_OK, "bob@example.test L" },
	{ "chain3", "example.test", DIR_OK, "bob@example.test L" },
	{ "loopa", "example.test", DIR_UNKNOWN, "" },
	{ "loopb", "example.test", DIR_UNKNOWN, "" },
	{ "loopc", "example.test", DIR_OK, "alice@example.test L" },
	{ "loopd", "example.test", DIR_OK, "alice@example.test L" },
	{ "d1", "example.test", DIR_OK, "alice@example.test L" },  /* 8 */
	{ "o0", "example.test", DIR_UNKNOWN, "" },		    /* 9 */
	/* Targets that lead nowhere are dropped; the rest are kept. */
	{ "broken", "example.test", DIR_UNKNOWN, "" },
	{ "half", "example.test", DIR_OK,
	    "dave@other.test L,bob@example.test L" },
	/* Sub-addressing: u+tag@d is u@d, user or alias. */
	{ "alice+tag", "example.test", DIR_OK, "alice@example.test L" },
	{ "Alice+Tag", "example.test", DIR_OK, "alice@example.test L" },
	{ "alice+", "example.test", DIR_OK, "alice@example.test L" },
	{ "alice+a+b", "example.test", DIR_OK, "alice@example.test L" },
	{ "sales+q3", "example.test", DIR_OK, "bob@example.test L" },
	{ "team+x", "example.test", DIR_OK,
	    "alice@example.test L,bob@example.test L" },
	{ "alice+vip", "example.test", DIR_OK, "carol@example.test L,"
	    "carol@remote.example R" },		/* full alias first */
	{ "+tag", "example.test", DIR_UNKNOWN, "" },
	{ "nobody+tag", "example.test", DIR_UNKNOWN, "" },
	{ "nobody+tag", "other.test", DIR_OK, "dave@other.test L" },
	/* Catch-alls take what nothing else does, never a real user. */
	{ "anything", "other.test", DIR_OK, "dave@other.test L" },
	{ "erin", "other.test", DIR_OK, "erin@other.test L" },
	{ "info", "other.test", DIR_OK, "erin@other.test L" },
	{ "x", "third.test", DIR_OK,
	    "alice@example.test L,bob@example.test L" },
	{ "nobody", "example.test", DIR_UNKNOWN, "" },
	/* Not ours, or not a mailbox name. */
	{ "alice", "foreign.test", DIR_FOREIGN, "" },
	{ "alice", "example.test.evil", DIR_FOREIGN, "" },
	{ "alice", "", DIR_FOREIGN, "" },
	{ "\"alice\"", "example.test", DIR_UNKNOWN, "" },
	{ "\"a b\"", "example.test", DIR_UNKNOWN, "" },
};

static void
dir_render(const struct dir_result *res, struct buf *out)
{
	size_t i;

	for (i = 0; i < res->n; i++)
		CHECK_EQ_INT(buf_addf(out, "%s%s %c", i ? "," : "",
		    res->v[i].addr, res->v[i].local ? 'L' : 'R'), 0);
}

TEST(directory_resolve_table)
{
	struct directory *d = dir_fixture();
	size_t i;

	for (i = 0; i < ARRAY_LEN(resolve_cases); i++) {
		const struct resolve_case *c = &resolve_cases[i];
		struct dir_result res;
		enum dir_status st;
		struct buf out;

		memset(&res, 0x55, sizeof(res));
		st = directory_resolve(d, c->local, c->domain, &res);
		buf_init(&out, 4096);
		dir_render(&res, &out);
		CHECKF(st == c->status && strcmp(buf_cstr(&out), c->want) == 0,
		    "case %zu %s@%s: got %d \"%s\", want %d \"%s\"", i,
		    c->local, c->domain, (int)st, buf_cstr(&out),
		    (int)c->status, c->want);
		if (st != DIR_OK)
			CHECKF(res.n == 0 && res.v == NULL, "case %zu: result "
			    "not empty on failure", i);
		buf_release(&out);
		dir_result_free(&res);
		CHECK(res.v == NULL && res.n == 0);
	}
	directory_free(&d);
}

/* A local part too long to be a key is unknown, not truncated. */
TEST(directory_resolve_long_local)
{
	struct directory *d = dir_fixture();
	struct dir_result res;
	char local[400];

	memset(local, 'a', sizeof(local) - 1);
	local[sizeof(local) - 1] = '\0';
	CHECK_EQ_INT(directory_resolve(d, local, "other.test", &res),
	    DIR_UNKNOWN);
	CHECK_EQ_INT(res.n, 0);
	dir_result_free(&res);
	directory_free(&d);
}

/* Wide aliases: every target once, up to ALIAS_TARGETS_MAX. */
TEST(directory_resolve_wide_alias)
{
	struct buf users, aliases, errs;
	struct directory *d;
	struct dir_result res;
	size_t i;

	buf_init(&users, BUF_NOCAP);
	buf_init(&aliases, BUF_NOCAP);
	CHECK_EQ_INT(buf_adds(&aliases, "all@example.test:"), 0);
	for (i = 0; i < 300; i++) {
		CHECK_EQ_INT(buf_addf(&users, "u%zu@example.test:" HASH "\n",
		    i), 0);
		/* Each user twice, once in upper case. */
		CHECK_EQ_INT(buf_addf(&aliases, " u%zu@example.test, "
		    "U%zu@EXAMPLE.TEST,", i, i), 0);
	}
	CHECK_EQ_INT(buf_adds(&aliases, "\n"), 0);
	d = dir_load_text(buf_cstr(&users), buf_cstr(&aliases), &errs);
	CHECKF(d != NULL, "refused: %s", buf_cstr(&errs));
	if (d != NULL) {
		CHECK_EQ_INT(directory_resolve(d, "all", "example.test", &res),
		    DIR_OK);
		CHECK_EQ_INT(res.n, 300);
		CHECK_EQ_STR(res.v[299].addr, "u299@example.test");
		dir_result_free(&res);
	}
	directory_free(&d);
	buf_release(&errs);
	buf_release(&users);
	buf_release(&aliases);
}

/* ---- Sending rights ---- */

struct sender_case {
	const char	*address;
	const char	*user;
	bool		 allowed;
};

static const struct sender_case sender_cases[] = {
	/* One's own address, in any case, with any +tag. */
	{ "alice@example.test", "alice@example.test", true },
	{ "ALICE@Example.Test", "alice@example.test", true },
	{ "alice@example.test", "Alice@EXAMPLE.test", true },
	{ "alice+tag@example.test", "alice@example.test", true },
	{ "Alice+Tag@example.test", "alice@example.test", true },
	{ "alice+a+b@example.test", "alice@example.test", true },
	{ "dave@other.test", "dave@other.test", true },
	/* Aliases that lead to the user, directly or chained. */
	{ "postmaster@example.test", "alice@example.test", true },
	{ "team@example.test", "alice@example.test", true },
	{ "team@example.test", "bob@example.test", true },
	{ "team+x@example.test", "bob@example.test", true },
	{ "both@example.test", "bob@example.test", true },
	{ "chain1@example.test", "bob@example.test", true },
	{ "chain2@example.test", "bob@example.test", true },
	{ "d1@example.test", "alice@example.test", true },
	{ "loopc@example.test", "alice@example.test", true },
	{ "loopd@example.test", "alice@example.test", true },
	{ "sales+q3@example.test", "bob@example.test", true },
	{ "info@other.test", "erin@other.test", true },
	{ "carol@example.test", "carol@example.test", true },
	{ "alice+vip@example.test", "carol@example.test", true },
	/* ...and not to anyone else. */
	{ "team@example.test", "carol@example.test", false },
	{ "chain1@example.test", "alice@example.test", false },
	{ "postmaster@example.test", "bob@example.test", false },
	{ "loopa@example.test", "alice@example.test", false },
	{ "o0@example.test", "alice@example.test", false },	/* 9 deep */
	{ "fwd@example.test", "alice@example.test", false },
	/* Another user's address, even one whose mail is copied to us. */
	{ "john.smith@example.test", "bob@example.test", false },
	{ "john.smith@example.test", "john.smith@example.test", true },
	{ "bob@example.test", "alice@example.test", false },
	/* A sub-address that is an alias of its own follows its own rule. */
	{ "alice+vip@example.test", "alice@example.test", false },
	{ "bob+tag@example.test", "alice@example.test", false },
	{ "alice@other.test", "alice@example.test", false },
	{ "alice@example.test.evil", "alice@example.test", false },
	{ "xalice@example.test", "alice@example.test", false },
	{ "alice@example.test", "alice+tag@example.test", false },
	/* Never through a catch-all. */
	{ "anything@other.test", "dave@other.test", false },
	{ "x@third.test", "alice@example.test", false },
	{ "@other.test", "dave@other.test", false },
	{ "@third.test", "alice@example.test", false },
	{ "+tag@other.test", "dave@other.test", false },
	/* Not addresses. */
	{ "alice", "alice", false },
	{ "", "", false },
	{ "", "alice@example.test", false },
};

TEST(directory_sender_allowed_table)
{
	struct directory *d = dir_fixture();
	size_t i;

	for (i = 0; i < ARRAY_LEN(sender_cases); i++) {
		const struct sender_case *c = &sender_cases[i];
		bool got = directory_sender_allowed(d, c->address, c->user);

		CHECKF(got == c->allowed, "case %zu: %s as <%s>: got %d, "
		    "want %d", i, c->user, c->address, got, c->allowed);
	}
	directory_free(&d);
}

/* ---- Lookups and helpers ---- */

TEST(directory_user_hash_and_domains)
{
	struct directory *d;
	struct buf errs;

	d = dir_load_text("alice@example.test: $y$one\n"
	    "Bob@Other.Test:$2b$two\n", NULL, &errs);
	CHECKF(d != NULL, "refused: %s", buf_cstr(&errs));
	buf_release(&errs);
	if (d == NULL)
		return;
	CHECK_EQ_STR(directory_user_hash(d, "alice@example.test"), "$y$one");
	CHECK_EQ_STR(directory_user_hash(d, "ALICE@EXAMPLE.TEST"), "$y$one");
	CHECK_EQ_STR(directory_user_hash(d, "bob@other.test"), "$2b$two");
	CHECK(directory_user_hash(d, "carol@example.test") == NULL);
	CHECK(directory_user_hash(d, "alice") == NULL);
	CHECK(directory_user_hash(d, "") == NULL);
	CHECK(directory_is_local_domain(d, "example.test"));
	CHECK(directory_is_local_domain(d, "EXAMPLE.Test"));
	CHECK(directory_is_local_domain(d, "third.test"));
	CHECK(!directory_is_local_domain(d, "example.tes"));
	CHECK(!directory_is_local_domain(d, "sub.example.test"));
	CHECK(!directory_is_local_domain(d, ""));
	CHECK_EQ_INT(directory_user_count(d), 2);
	directory_free(&d);
	directory_free(&d);		/* NULL is fine */
}

TEST(directory_local_ok_table)
{
	static const struct {
		const char	*local;
		bool		 ok;
	} cases[] = {
		{ "alice", true },
		{ "john.smith", true },
		{ "a+tag", true },
		{ "a.", true },
		{ "", false },
		{ ".alice", false },
		{ "..", false },
		{ "a/b", false },
		{ "/", false },
		{ "\"a b\"", false },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++)
		CHECKF(directory_local_ok(cases[i].local) == cases[i].ok,
		    "\"%s\": got %d", cases[i].local, !cases[i].ok);
}

TEST(directory_paths)
{
	char out[32];

	CHECK_EQ_INT(directory_users_path("/var/facteur", out, sizeof(out)),
	    0);
	CHECK_EQ_STR(out, "/var/facteur/users");
	CHECK_EQ_INT(directory_aliases_path("/var/facteur", out, sizeof(out)),
	    0);
	CHECK_EQ_STR(out, "/var/facteur/aliases");
	/* Exactly full (31 octets and the NUL) fits; one more does not. */
	CHECK_EQ_INT(directory_users_path("/abcdefghijklmnopqrstuvwx", out,
	    sizeof(out)), 0);
	CHECK_EQ_INT(strlen(out), sizeof(out) - 1);
	CHECK_EQ_INT(directory_users_path("/abcdefghijklmnopqrstuvwxy", out,
	    sizeof(out)), -1);
	CHECK_EQ_INT(directory_aliases_path("/abcdefghijklmnopqrstuv", out,
	    sizeof(out)), 0);
	CHECK_EQ_INT(strlen(out), sizeof(out) - 1);
	CHECK_EQ_INT(directory_aliases_path("/abcdefghijklmnopqrstuvw", out,
	    sizeof(out)), -1);
}
