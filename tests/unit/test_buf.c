/*
 * test_buf.c - struct buf: the cap, the NUL safety net, growth, consume,
 * truncate, detach. Table-driven where the cases are data.
 */
#include "core/common.h"

#include "core/buf.h"
#include "unit/unit.h"

/* Checks the invariants buf.h promises after every operation. */
static void
buf_check_invariants(const struct buf *b, const char *what)
{
	CHECKF(b->len <= b->cap, "%s: len %zu > cap %zu", what, b->len,
	    b->cap);
	if (b->data != NULL) {
		CHECKF(b->len < b->alloc, "%s: len %zu, alloc %zu", what,
		    b->len, b->alloc);
		CHECKF(b->data[b->len] == '\0', "%s: not NUL-terminated",
		    what);
	} else {
		CHECKF(b->len == 0, "%s: no data but len %zu", what, b->len);
	}
	CHECKF(buf_data(b) != NULL, "%s: buf_data is NULL", what);
}

TEST(buf_init_is_empty)
{
	struct buf b;

	buf_init(&b, 10);
	CHECK_EQ_INT(buf_len(&b), 0);
	CHECK_EQ_STR(buf_data(&b), "");
	CHECK_EQ_STR(buf_cstr(&b), "");
	CHECK(b.data == NULL);
	buf_check_invariants(&b, "init");
	buf_reset(&b);		/* on a never-allocated buffer */
	buf_consume(&b, 5);
	buf_truncate(&b, 0);
	buf_check_invariants(&b, "ops on empty");
	buf_release(&b);
	CHECK_EQ_INT(b.cap, 10);
}

/* One append operation of a table-driven sequence. */
enum buf_op { OP_ADD, OP_ADDC, OP_ADDS, OP_ADDF, OP_CONSUME, OP_TRUNCATE,
    OP_RESET };

struct buf_step {
	enum buf_op	 op;
	const char	*arg;		/* bytes for add/adds/addf %s */
	size_t		 n;		/* length, or count */
	int		 want_rc;	/* for appends */
	const char	*want;		/* contents after the step */
};

struct buf_case {
	const char		*name;
	size_t			 cap;
	struct buf_step		 steps[8];
	size_t			 nsteps;
};

static const struct buf_case buf_cases[] = {
	{ "fill to the cap exactly", 5, {
		{ OP_ADD, "abc", 3, 0, "abc" },
		{ OP_ADD, "de", 2, 0, "abcde" },
		{ OP_ADDC, "f", 0, -1, "abcde" },
		{ OP_ADD, "", 0, 0, "abcde" },
	}, 4 },
	{ "over the cap leaves the buffer unchanged", 4, {
		{ OP_ADDS, "ab", 0, 0, "ab" },
		{ OP_ADDS, "cde", 0, -1, "ab" },
		{ OP_ADDF, "xyz", 0, -1, "ab" },
		{ OP_ADDS, "cd", 0, 0, "abcd" },
	}, 4 },
	{ "zero cap takes nothing but empty appends", 0, {
		{ OP_ADD, "", 0, 0, "" },
		{ OP_ADDC, "x", 0, -1, "" },
		{ OP_ADDF, "", 0, 0, "" },
		{ OP_ADDF, "x", 0, -1, "" },
	}, 4 },
	{ "consume then append", 10, {
		{ OP_ADDS, "hello world", 0, -1, "" },
		{ OP_ADDS, "helloworld", 0, 0, "helloworld" },
		{ OP_CONSUME, NULL, 5, 0, "world" },
		{ OP_ADDS, "12345", 0, 0, "world12345" },
		{ OP_CONSUME, NULL, 10, 0, "" },
		{ OP_ADDS, "x", 0, 0, "x" },
		{ OP_CONSUME, NULL, 99, 0, "" },
	}, 7 },
	{ "truncate", 16, {
		{ OP_ADDS, "abcdef", 0, 0, "abcdef" },
		{ OP_TRUNCATE, NULL, 10, 0, "abcdef" },
		{ OP_TRUNCATE, NULL, 6, 0, "abcdef" },
		{ OP_TRUNCATE, NULL, 2, 0, "ab" },
		{ OP_ADDC, "z", 0, 0, "abz" },
		{ OP_TRUNCATE, NULL, 0, 0, "" },
	}, 6 },
	{ "reset keeps working", 3, {
		{ OP_ADDS, "abc", 0, 0, "abc" },
		{ OP_RESET, NULL, 0, 0, "" },
		{ OP_ADDS, "xyz", 0, 0, "xyz" },
		{ OP_ADDC, "!", 0, -1, "xyz" },
	}, 4 },
};

static int
buf_apply(struct buf *b, const struct buf_step *s)
{
	switch (s->op) {
	case OP_ADD:
		return buf_add(b, s->arg, s->n);
	case OP_ADDC:
		return buf_addc(b, s->arg[0]);
	case OP_ADDS:
		return buf_adds(b, s->arg);
	case OP_ADDF:
		return buf_addf(b, "%s", s->arg);
	case OP_CONSUME:
		buf_consume(b, s->n);
		return 0;
	case OP_TRUNCATE:
		buf_truncate(b, s->n);
		return 0;
	case OP_RESET:
		buf_reset(b);
		return 0;
	}
	return -2;
}

TEST(buf_table)
{
	size_t i, j;

	for (i = 0; i < ARRAY_LEN(buf_cases); i++) {
		const struct buf_case *c = &buf_cases[i];
		struct buf b;

		buf_init(&b, c->cap);
		for (j = 0; j < c->nsteps; j++) {
			const struct buf_step *s = &c->steps[j];
			int rc = buf_apply(&b, s);

			CHECKF(rc == s->want_rc, "%s, step %zu: rc %d, want %d",
			    c->name, j, rc, s->want_rc);
			CHECKF(buf_len(&b) == strlen(s->want) &&
			    memcmp(buf_data(&b), s->want, buf_len(&b)) == 0,
			    "%s, step %zu: got \"%s\", want \"%s\"", c->name, j,
			    buf_cstr(&b), s->want);
			buf_check_invariants(&b, c->name);
		}
		buf_release(&b);
	}
}

TEST(buf_binary_with_nuls)
{
	static const char bin[] = { 'a', '\0', 'b', '\0', '\0', (char)0xff };
	struct buf b;

	buf_init(&b, 64);
	CHECK_EQ_INT(buf_add(&b, bin, sizeof(bin)), 0);
	CHECK_EQ_MEM(buf_data(&b), buf_len(&b), bin, sizeof(bin));
	CHECK_EQ_INT(buf_addc(&b, '\0'), 0);
	CHECK_EQ_INT(buf_len(&b), sizeof(bin) + 1);
	buf_consume(&b, 1);
	CHECK_EQ_MEM(buf_data(&b), buf_len(&b), "\0b\0\0\xff\0", 6);
	buf_check_invariants(&b, "binary");
	buf_release(&b);
}

TEST(buf_grows_across_many_appends)
{
	struct buf b;
	size_t i;
	char *p;

	buf_init(&b, BUF_NOCAP);
	for (i = 0; i < 100000; i++) {
		if (buf_addc(&b, (char)('a' + i % 26)) != 0) {
			CHECKF(false, "append %zu failed", i);
			break;
		}
	}
	CHECK_EQ_INT(buf_len(&b), 100000);
	for (i = 0; i < buf_len(&b); i++)
		if (buf_data(&b)[i] != (char)('a' + i % 26)) {
			CHECKF(false, "byte %zu is '%c'", i, buf_data(&b)[i]);
			break;
		}
	buf_check_invariants(&b, "grown");
	/* One large append at once, past several doublings. */
	p = xmalloc(300000);
	memset(p, 'z', 300000);
	CHECK_EQ_INT(buf_add(&b, p, 300000), 0);
	CHECK_EQ_INT(buf_len(&b), 400000);
	CHECK_EQ_INT(buf_data(&b)[399999], 'z');
	buf_check_invariants(&b, "big append");
	free(p);
	buf_release(&b);
}

TEST(buf_huge_lengths_fail_cleanly)
{
	struct buf b;

	buf_init(&b, BUF_NOCAP);
	CHECK_EQ_INT(buf_adds(&b, "hello"), 0);
	/* Would overflow len + extra + 1 if the cap check were naive. */
	CHECK_EQ_INT(buf_add(&b, "x", SIZE_MAX), -1);
	CHECK_EQ_INT(buf_add(&b, "x", SIZE_MAX - 5), -1);
	CHECK_EQ_INT(buf_add(&b, "x", BUF_NOCAP), -1);
	CHECK_EQ_INT(buf_len(&b), 5);
	CHECK_EQ_STR(buf_cstr(&b), "hello");
	buf_check_invariants(&b, "huge");
	buf_release(&b);

	buf_init(&b, 8);
	CHECK_EQ_INT(buf_add(&b, "x", SIZE_MAX), -1);
	CHECK(b.data == NULL);	/* no allocation for a refused append */
	buf_release(&b);
}

TEST(buf_addf_formats)
{
	static const struct {
		size_t		 cap;
		const char	*prefix;
		int		 num;
		const char	*word;
		int		 want_rc;
		const char	*want;
	} cases[] = {
		{ 100, "", 42, "x", 0, "42-x" },
		{ 100, "ab", -7, "", 0, "ab-7-" },
		{ 5, "", 12, "ab", 0, "12-ab" },	/* exactly the cap */
		{ 5, "", 12, "abc", -1, "" },		/* one past */
		{ 6, "a", 12, "abc", -1, "a" },
		{ 7, "a", 12, "abc", 0, "a12-abc" },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		struct buf b;
		int rc;

		buf_init(&b, cases[i].cap);
		if (buf_adds(&b, cases[i].prefix) != 0)
			CHECKF(false, "case %zu: prefix refused", i);
		rc = buf_addf(&b, "%d-%s", cases[i].num, cases[i].word);
		CHECKF(rc == cases[i].want_rc, "case %zu: rc %d, want %d", i,
		    rc, cases[i].want_rc);
		CHECKF(strcmp(buf_cstr(&b), cases[i].want) == 0,
		    "case %zu: got \"%s\", want \"%s\"", i, buf_cstr(&b),
		    cases[i].want);
		CHECK_EQ_INT(buf_len(&b), strlen(cases[i].want));
		buf_check_invariants(&b, "addf");
		buf_release(&b);
	}
}

TEST(buf_addf_long_output)
{
	struct buf b;
	char big[5000];

	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	buf_init(&b, BUF_NOCAP);
	CHECK_EQ_INT(buf_adds(&b, "start:"), 0);
	CHECK_EQ_INT(buf_addf(&b, "%s|%s", big, big), 0);
	CHECK_EQ_INT(buf_len(&b), 6 + 4999 * 2 + 1);
	CHECK_EQ_MEM(buf_data(&b), 6, "start:", 6);
	CHECK_EQ_INT(buf_data(&b)[6 + 4999], '|');
	buf_check_invariants(&b, "long addf");
	buf_release(&b);
}

TEST(buf_reset_keeps_memory)
{
	struct buf b;
	const char *before;
	size_t alloc;

	buf_init(&b, 1000);
	CHECK_EQ_INT(buf_adds(&b, "some text"), 0);
	before = b.data;
	alloc = b.alloc;
	buf_reset(&b);
	CHECK(b.data == before);
	CHECK_EQ_INT(b.alloc, alloc);
	CHECK_EQ_INT(buf_len(&b), 0);
	CHECK_EQ_STR(buf_cstr(&b), "");
	buf_release(&b);
	CHECK(b.data == NULL);
	CHECK_EQ_INT(b.len, 0);
	CHECK_EQ_INT(b.alloc, 0);
	CHECK_EQ_INT(b.cap, 1000);
}

TEST(buf_detach)
{
	struct buf b;
	size_t len = 99;
	char *p;

	buf_init(&b, 50);
	CHECK_EQ_INT(buf_adds(&b, "owned"), 0);
	p = buf_detach(&b, &len);
	CHECK_EQ_STR(p, "owned");
	CHECK_EQ_INT(len, 5);
	free(p);
	CHECK(b.data == NULL);
	CHECK_EQ_INT(buf_len(&b), 0);
	CHECK_EQ_INT(b.cap, 50);
	/* The buffer is usable again, with the same cap. */
	CHECK_EQ_INT(buf_adds(&b, "again"), 0);
	buf_release(&b);

	/* An empty buffer still hands back an allocated "". */
	buf_init(&b, 0);
	p = buf_detach(&b, NULL);
	CHECK(p != NULL);
	CHECK_EQ_STR(p, "");
	free(p);
}

TEST(buf_release_secret)
{
	struct buf b;

	buf_init(&b, 100);
	CHECK_EQ_INT(buf_adds(&b, "hunter2"), 0);
	buf_release_secret(&b);
	CHECK(b.data == NULL);
	CHECK_EQ_INT(buf_len(&b), 0);
	CHECK_EQ_INT(b.cap, 100);
	buf_release_secret(&b);	/* twice, and on an empty buffer */
	CHECK_EQ_INT(buf_adds(&b, "again"), 0);
	buf_release_secret(&b);
}

TEST(buf_consume_many_small)
{
	static const char digits[] = "0123456789";
	struct buf b;
	size_t i;

	buf_init(&b, 256);
	CHECK_EQ_INT(buf_adds(&b, digits), 0);
	for (i = 1; i <= 10; i++) {
		buf_consume(&b, 1);
		CHECK_EQ_INT(buf_len(&b), 10 - i);
		CHECK_EQ_STR(buf_cstr(&b), digits + i);
		buf_check_invariants(&b, "consume");
	}
	buf_release(&b);
}
