/*
 * test_queue_env.c - the queue envelope's text format: format and parse
 * are inverses, and parse refuses every file it cannot read exactly.
 *
 * parse_cases is THE table of .env texts: each row gives the error parse
 * must report, or the canonical text format writes back for it.
 */
#include "core/common.h"

#include "core/buf.h"
#include "queue/queue_env.h"
#include "unit/unit.h"

/* Every field of a and b is the same. */
static void
env_check_equal(const struct queue_env *a, const struct queue_env *b,
    const char *what)
{
	size_t i;

	CHECKF(strcmp(a->qid, b->qid) == 0, "%s: qid \"%s\" / \"%s\"", what,
	    a->qid, b->qid);
	CHECKF(a->created == b->created, "%s: created %lld / %lld", what,
	    (long long)a->created, (long long)b->created);
	CHECKF(strcmp(a->from, b->from) == 0, "%s: from \"%s\" / \"%s\"",
	    what, a->from, b->from);
	CHECKF(strcmp(a->auth, b->auth) == 0, "%s: auth \"%s\" / \"%s\"",
	    what, a->auth, b->auth);
	CHECKF(a->flags == b->flags, "%s: flags %u / %u", what, a->flags,
	    b->flags);
	CHECKF(a->nrcpts == b->nrcpts, "%s: nrcpts %zu / %zu", what,
	    a->nrcpts, b->nrcpts);
	for (i = 0; i < a->nrcpts && i < b->nrcpts; i++) {
		const struct queue_rcpt *x = &a->rcpts[i], *y = &b->rcpts[i];

		CHECKF(strcmp(x->addr, y->addr) == 0, "%s: rcpt %zu addr "
		    "\"%s\" / \"%s\"", what, i, x->addr, y->addr);
		CHECKF(x->state == y->state, "%s: rcpt %zu state %d / %d",
		    what, i, (int)x->state, (int)y->state);
		CHECKF(x->attempts == y->attempts, "%s: rcpt %zu attempts "
		    "%u / %u", what, i, x->attempts, y->attempts);
		CHECKF(x->next_try == y->next_try, "%s: rcpt %zu next_try "
		    "%lld / %lld", what, i, (long long)x->next_try,
		    (long long)y->next_try);
		CHECKF(strcmp(x->error, y->error) == 0, "%s: rcpt %zu error "
		    "\"%s\" / \"%s\"", what, i, x->error, y->error);
	}
}

/* Formats env, parses the text back, compares; returns the text. */
static void
env_round_trip(const struct queue_env *env, struct buf *text,
    const char *what)
{
	struct queue_env back;
	const char *err = NULL;

	CHECKF(queue_env_format(env, text) == 0, "%s: format failed", what);
	if (queue_env_parse(buf_data(text), buf_len(text), &back, &err) != 0) {
		CHECKF(false, "%s: parse failed (%s) on:\n%s", what, err,
		    buf_cstr(text));
		return;
	}
	env_check_equal(env, &back, what);
	queue_env_release(&back);
}

static void
env_set_rcpt(struct queue_env *env, const char *addr,
    enum queue_rcpt_state state, unsigned attempts, time_t next_try,
    const char *error)
{
	struct queue_rcpt *r;

	queue_env_add_rcpt(env, addr, next_try);
	r = &env->rcpts[env->nrcpts - 1];
	r->state = state;
	r->attempts = attempts;
	CHECK_EQ_INT(cstr_copy(r->error, sizeof(r->error), error), 0);
}

/* The example of queue_env.h, byte for byte. */
TEST(queue_env_format_golden)
{
	struct queue_env env;
	struct buf text;

	queue_env_init(&env);
	CHECK_EQ_INT(cstr_copy(env.qid, sizeof(env.qid), "5f0c0e1a2b3c4d5e"),
	    0);
	env.created = 1795965739;
	CHECK_EQ_INT(cstr_copy(env.from, sizeof(env.from),
	    "alice@example.test"), 0);
	CHECK_EQ_INT(cstr_copy(env.auth, sizeof(env.auth),
	    "alice@example.test"), 0);
	env.flags = QUEUE_FLAG_8BITMIME | QUEUE_FLAG_SMTPUTF8;
	env_set_rcpt(&env, "bob@remote.example", QUEUE_RCPT_PENDING, 0,
	    1795965739, "451 4.7.1 greylisted, try again later");
	env_set_rcpt(&env, "carol@remote.example", QUEUE_RCPT_SENT, 2,
	    1795966000, "");
	buf_init(&text, 65536);
	CHECK_EQ_INT(queue_env_format(&env, &text), 0);
	CHECK_EQ_STR(buf_cstr(&text),
	    "facteur-queue 1\n"
	    "qid 5f0c0e1a2b3c4d5e\n"
	    "created 1795965739\n"
	    "from alice@example.test\n"
	    "auth alice@example.test\n"
	    "flags 8bitmime smtputf8\n"
	    "rcpt pending 0 1795965739 bob@remote.example\n"
	    "rcpt sent 2 1795966000 carol@remote.example\n"
	    "error 0 451 4.7.1 greylisted, try again later\n");
	buf_release(&text);
	queue_env_release(&env);
	CHECK(env.rcpts == NULL);
	CHECK_EQ_INT(env.nrcpts, 0);
}

/* Null sender, no auth, no flags: "from" alone, "auth -", "flags -". */
TEST(queue_env_format_null_sender)
{
	struct queue_env env;
	struct buf text;

	queue_env_init(&env);
	CHECK_EQ_INT(cstr_copy(env.qid, sizeof(env.qid), "0123456789abcdef"),
	    0);
	env.created = 0;
	queue_env_add_rcpt(&env, "postmaster@example.test", 5);
	buf_init(&text, 65536);
	CHECK_EQ_INT(queue_env_format(&env, &text), 0);
	CHECK_EQ_STR(buf_cstr(&text),
	    "facteur-queue 1\n"
	    "qid 0123456789abcdef\n"
	    "created 0\n"
	    "from\n"
	    "auth -\n"
	    "flags -\n"
	    "rcpt pending 0 5 postmaster@example.test\n");
	buf_release(&text);
	queue_env_release(&env);
}

/* Envelopes of every shape survive format then parse unchanged. */
TEST(queue_env_round_trip)
{
	static const struct {
		const char	*qid;
		time_t		 created;
		const char	*from;
		const char	*auth;
		unsigned	 flags;
	} heads[] = {
		{ "5f0c0e1a2b3c4d5e", 1795965739, "alice@example.test",
		    "alice@example.test",
		    QUEUE_FLAG_8BITMIME | QUEUE_FLAG_SMTPUTF8 },
		{ "0000000000000000", 0, "", "", 0 },
		{ "ffffffffffffffff", INT64_MAX / 2, "bounce@x.test", "",
		    QUEUE_FLAG_8BITMIME },
		{ "a", 1, "\"sp ace\"@example.test", "u@example.test",
		    QUEUE_FLAG_SMTPUTF8 },
		{ "q", 2, "jos\xc3\xa9@b\xc3\xbc" "cher.test", "",
		    QUEUE_FLAG_SMTPUTF8 },
	};
	static const struct {
		const char		*addr;
		enum queue_rcpt_state	 state;
		unsigned		 attempts;
		time_t			 next_try;
		const char		*error;
	} rcpts[] = {
		{ "bob@remote.example", QUEUE_RCPT_PENDING, 0, 1795965739, "" },
		{ "\"john smith\"@example.test", QUEUE_RCPT_PENDING, 1, 7,
		    "451 4.7.1 greylisted, try again later" },
		{ "carol@x.test", QUEUE_RCPT_SENT, 3, 0, "" },
		{ "dave@y.test", QUEUE_RCPT_FAILED, 1, 0,
		    "550 5.1.1 <dave@y.test>: no such user (here: ok)" },
		{ "erin@z.test", QUEUE_RCPT_EXPIRED, 1000000, INT64_MAX / 2,
		    "expired after 5 days: 421 4.4.2 timeout" },
		{ "\"a  b\"@example.test", QUEUE_RCPT_PENDING, 9, 9,
		    "  leading and trailing spaces  " },
		{ "f\xc3\xbcr@b\xc3\xbc" "cher.test", QUEUE_RCPT_PENDING, 0, 0,
		    "\xc3\xa9rror" },
	};
	size_t h, n, i;

	for (h = 0; h < ARRAY_LEN(heads); h++)
		for (n = 1; n <= ARRAY_LEN(rcpts); n++) {
			struct queue_env env;
			struct buf text;
			char what[64];

			queue_env_init(&env);
			CHECK_EQ_INT(cstr_copy(env.qid, sizeof(env.qid),
			    heads[h].qid), 0);
			env.created = heads[h].created;
			CHECK_EQ_INT(cstr_copy(env.from, sizeof(env.from),
			    heads[h].from), 0);
			CHECK_EQ_INT(cstr_copy(env.auth, sizeof(env.auth),
			    heads[h].auth), 0);
			env.flags = heads[h].flags;
			/* Rotate so each recipient is sometimes first. */
			for (i = 0; i < n; i++) {
				size_t k = (i + h) % ARRAY_LEN(rcpts);

				env_set_rcpt(&env, rcpts[k].addr,
				    rcpts[k].state, rcpts[k].attempts,
				    rcpts[k].next_try, rcpts[k].error);
			}
			snprintf(what, sizeof(what), "head %zu, %zu rcpts", h,
			    n);
			buf_init(&text, 1 << 20);
			env_round_trip(&env, &text, what);
			buf_release(&text);
			queue_env_release(&env);
		}
}

/* Many recipients, errors on some: still one line each, same order. */
TEST(queue_env_round_trip_many)
{
	struct queue_env env;
	struct buf text;
	char addr[64], error[64];
	size_t i;

	queue_env_init(&env);
	CHECK_EQ_INT(cstr_copy(env.qid, sizeof(env.qid), "manymanymanymany"),
	    0);
	for (i = 0; i < 2000; i++) {
		snprintf(addr, sizeof(addr), "user%zu@domain%zu.test", i,
		    i % 7);
		error[0] = '\0';
		if (i % 3 == 0)
			snprintf(error, sizeof(error), "451 try %zu", i);
		env_set_rcpt(&env, addr, (enum queue_rcpt_state)(i % 4),
		    (unsigned)i, (time_t)i * 60, error);
	}
	buf_init(&text, 1 << 20);
	env_round_trip(&env, &text, "2000 rcpts");
	buf_release(&text);
	queue_env_release(&env);
}

#define MAGIC "facteur-queue 1\n"
#define QID "qid 5f0c0e1a2b3c4d5e\n"
#define RCPT "rcpt pending 0 0 bob@x.test\n"
#define HEAD MAGIC QID "created 5\nfrom a@x.test\nauth -\nflags -\n"
/* The canonical text for HEAD with RCPT. */
#define CANON HEAD RCPT

#define E_TRUNC "truncated (no final line end)"
#define E_MAGIC "not a facteur queue file"
#define E_LINE "malformed line"
#define E_INCOMPLETE "incomplete envelope"

struct parse_case {
	const char	*in;
	const char	*err;		/* NULL: parses, and formats as want */
	const char	*want;
};

static const struct parse_case parse_cases[] = {
	/* Canonical texts come back byte for byte. */
	{ CANON, NULL, CANON },
	{ MAGIC QID "created 5\nfrom\nauth -\nflags -\n" RCPT, NULL,
	    MAGIC QID "created 5\nfrom\nauth -\nflags -\n" RCPT },
	{ MAGIC QID "created 5\nfrom a@x.test\nauth a@x.test\n"
	    "flags 8bitmime smtputf8\n" RCPT "rcpt sent 2 9 c@y.test\n"
	    "rcpt failed 1 9 \"d e\"@y.test\nrcpt expired 7 9 f@y.test\n"
	    "error 2 550 5.1.1 no such user\nerror 3 too old\n", NULL,
	    MAGIC QID "created 5\nfrom a@x.test\nauth a@x.test\n"
	    "flags 8bitmime smtputf8\n" RCPT "rcpt sent 2 9 c@y.test\n"
	    "rcpt failed 1 9 \"d e\"@y.test\nrcpt expired 7 9 f@y.test\n"
	    "error 2 550 5.1.1 no such user\nerror 3 too old\n" },

	/* Optional lines default; order, case and repeats are tolerated. */
	{ MAGIC QID RCPT, NULL, MAGIC QID "created 0\nfrom\nauth -\n"
	    "flags -\n" RCPT },
	{ MAGIC RCPT QID, NULL, MAGIC QID "created 0\nfrom\nauth -\n"
	    "flags -\n" RCPT },
	{ MAGIC "QID q\nRCPT PENDING 0 0 bob@x.test\n", NULL, MAGIC
	    "qid q\ncreated 0\nfrom\nauth -\nflags -\n" RCPT },
	{ MAGIC QID RCPT "flags smtputf8\nflags 8BITMIME -\n", NULL, MAGIC
	    QID "created 0\nfrom\nauth -\nflags 8bitmime smtputf8\n" RCPT },
	{ MAGIC QID RCPT "flags warned 8bitmime\n", NULL, MAGIC QID
	    "created 0\nfrom\nauth -\nflags 8bitmime warned\n" RCPT },
	{ MAGIC QID RCPT "flags reported warned\n", NULL, MAGIC QID
	    "created 0\nfrom\nauth -\nflags warned reported\n" RCPT },
	{ MAGIC QID RCPT "flags\n", NULL, MAGIC QID "created 0\nfrom\n"
	    "auth -\nflags -\n" RCPT },
	{ MAGIC QID RCPT "flags  smtputf8\t8bitmime \n", NULL, MAGIC QID
	    "created 0\nfrom\nauth -\nflags 8bitmime smtputf8\n" RCPT },
	{ MAGIC QID RCPT "error 0 first\nerror 0 second\n", NULL, MAGIC QID
	    "created 0\nfrom\nauth -\nflags -\n" RCPT "error 0 second\n" },
	{ MAGIC QID RCPT "error 0 \n", NULL, MAGIC QID "created 0\nfrom\n"
	    "auth -\nflags -\n" RCPT },
	/* An error text that is not printable is replaced, not refused. */
	{ MAGIC QID RCPT "error 0 bad\x01text\n", NULL, MAGIC QID
	    "created 0\nfrom\nauth -\nflags -\n" RCPT
	    "error 0 (unprintable error)\n" },
	/* The address is the rest of the line: spaces and all. */
	{ MAGIC QID "rcpt pending 0 0 \"a b\"@x.test\n", NULL, MAGIC QID
	    "created 0\nfrom\nauth -\nflags -\n"
	    "rcpt pending 0 0 \"a b\"@x.test\n" },
	{ MAGIC QID "from \"s p\"@x.test\n" RCPT, NULL, MAGIC QID
	    "created 0\nfrom \"s p\"@x.test\nauth -\nflags -\n" RCPT },
	{ MAGIC QID "rcpt pending 1000000 4611686018427387903 b@x.test\n",
	    NULL, MAGIC QID "created 0\nfrom\nauth -\nflags -\n"
	    "rcpt pending 1000000 4611686018427387903 b@x.test\n" },

	/* The magic line, exactly. */
	{ "", E_INCOMPLETE },
	{ QID RCPT, E_MAGIC },
	{ "facteur-queue 2\n" QID RCPT, E_MAGIC },
	{ "facteur-queue 1 \n" QID RCPT, E_MAGIC },
	{ "facteur-queue 1\r\n" QID RCPT, E_MAGIC },
	{ "Facteur-Queue 1\n" QID RCPT, E_MAGIC },
	{ "\n" MAGIC QID RCPT, E_MAGIC },
	{ "facteur-queue 1", E_TRUNC },

	/* A truncated last line (a torn write) is never half-read. */
	{ MAGIC QID "rcpt pending 0 0 bob@x.tes", E_TRUNC },
	{ MAGIC QID RCPT "error 0 451 greylis", E_TRUNC },
	{ MAGIC QID RCPT "e", E_TRUNC },

	/* Missing essentials. */
	{ MAGIC, E_INCOMPLETE },
	{ MAGIC QID, E_INCOMPLETE },
	{ MAGIC RCPT, E_INCOMPLETE },
	{ MAGIC "qid\n" RCPT, E_INCOMPLETE },
	{ HEAD, E_INCOMPLETE },

	/* Unknown keys, bad separators. */
	{ MAGIC QID RCPT "color blue\n", E_LINE },
	{ MAGIC QID RCPT "\n", E_LINE },
	{ MAGIC QID RCPT " qid x\n", E_LINE },
	{ MAGIC QID RCPT "qid\tx\n", E_LINE },
	{ MAGIC QID RCPT "created  5\n", E_LINE },
	{ MAGIC QID RCPT "averyveryverylongkey x\n", E_LINE },

	/* Bad values. */
	{ MAGIC QID RCPT "created -5\n", E_LINE },
	{ MAGIC QID RCPT "created 5x\n", E_LINE },
	{ MAGIC QID RCPT "created\n", E_LINE },
	{ MAGIC QID RCPT "created 4611686018427387904\n", E_LINE },
	{ MAGIC QID RCPT "created 99999999999999999999\n", E_LINE },
	{ MAGIC QID RCPT "flags binarymime\n", E_LINE },
	{ MAGIC "qid 5f0c0e1a2b3c4d5e0\n" RCPT, E_LINE },	/* 17 */

	/* Recipients: state, attempts, next try, address. */
	{ MAGIC QID "rcpt waiting 0 0 b@x.test\n", E_LINE },
	{ MAGIC QID "rcpt pendingx 0 0 b@x.test\n", E_LINE },
	{ MAGIC QID "rcpt pending 0 0\n", E_LINE },
	{ MAGIC QID "rcpt pending 0 0 \n", E_LINE },
	{ MAGIC QID "rcpt pending 0\n", E_LINE },
	{ MAGIC QID "rcpt\n", E_LINE },
	{ MAGIC QID "rcpt pending  0 0 b@x.test\n", E_LINE },
	{ MAGIC QID "rcpt pending -1 0 b@x.test\n", E_LINE },
	{ MAGIC QID "rcpt pending 1000001 0 b@x.test\n", E_LINE },
	{ MAGIC QID "rcpt pending x 0 b@x.test\n", E_LINE },
	{ MAGIC QID "rcpt pending 0 -1 b@x.test\n", E_LINE },
	{ MAGIC QID "rcpt pending 0 4611686018427387904 b@x.test\n", E_LINE },
	{ MAGIC QID "rcpt pending\t0 0 b@x.test\n", E_LINE },

	/* Control characters in addresses and the qid. */
	{ MAGIC QID "rcpt pending 0 0 b\x01@x.test\n", E_LINE },
	{ MAGIC QID "rcpt pending 0 0 b@x.test\r\n", E_LINE },
	{ MAGIC QID "rcpt pending 0 0 b\t@x.test\n", E_LINE },
	{ MAGIC QID "rcpt pending 0 0 b\x7f@x.test\n", E_LINE },
	{ MAGIC QID "rcpt pending 0 0 b\x1b[31m@x.test\n", E_LINE },
	{ MAGIC QID "from a\x01@x.test\n" RCPT, E_LINE },
	{ MAGIC QID "from a@x.test\r\n" RCPT, E_LINE },
	{ MAGIC QID "auth a\x7f@x.test\n" RCPT, E_LINE },
	{ MAGIC "qid 5f0c\r\n" RCPT, E_LINE },

	/* Errors name an existing recipient, after its line. */
	{ MAGIC QID RCPT "error 1 nobody\n", E_LINE },
	{ MAGIC QID "error 0 too early\n" RCPT, E_LINE },
	{ MAGIC QID RCPT "error -1 x\n", E_LINE },
	{ MAGIC QID RCPT "error x y\n", E_LINE },
	{ MAGIC QID RCPT "error 0\n", E_LINE },
	{ MAGIC QID RCPT "error 10001 x\n", E_LINE },
	{ MAGIC QID RCPT "error 99999999999 x\n", E_LINE },
};

TEST(queue_env_parse_table)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(parse_cases); i++) {
		const struct parse_case *c = &parse_cases[i];
		struct queue_env env;
		const char *err = NULL;
		struct buf out;
		int rc;

		rc = queue_env_parse(c->in, strlen(c->in), &env, &err);
		if (c->err != NULL) {
			CHECKF(rc == -1, "case %zu: accepted, want \"%s\"", i,
			    c->err);
			CHECKF(rc == 0 || (err != NULL &&
			    strcmp(err, c->err) == 0), "case %zu: error "
			    "\"%s\", want \"%s\"", i, err ? err : "(null)",
			    c->err);
			CHECKF(env.rcpts == NULL && env.nrcpts == 0,
			    "case %zu: envelope not released on error", i);
			if (rc == 0)
				queue_env_release(&env);
			continue;
		}
		if (rc != 0) {
			CHECKF(false, "case %zu: refused (%s)", i, err);
			continue;
		}
		buf_init(&out, 65536);
		CHECK_EQ_INT(queue_env_format(&env, &out), 0);
		CHECKF(strcmp(buf_cstr(&out), c->want) == 0, "case %zu: "
		    "formats as\n%s\nwant\n%s", i, buf_cstr(&out), c->want);
		buf_release(&out);
		queue_env_release(&env);
	}
}

/* A NUL anywhere in a value is a control character. */
TEST(queue_env_parse_nul)
{
	static const char in1[] = MAGIC QID "rcpt pending 0 0 b\0@x.test\n";
	static const char in2[] = MAGIC "qid 5f\0c\n" RCPT;
	static const char in3[] = MAGIC QID RCPT "error 0 a\0b\n";
	struct queue_env env;
	const char *err = NULL;

	CHECK_EQ_INT(queue_env_parse(in1, sizeof(in1) - 1, &env, &err), -1);
	CHECK_EQ_STR(err, E_LINE);
	CHECK_EQ_INT(queue_env_parse(in2, sizeof(in2) - 1, &env, &err), -1);
	CHECK_EQ_STR(err, E_LINE);
	CHECK_EQ_INT(queue_env_parse(in3, sizeof(in3) - 1, &env, &err), 0);
	CHECK_EQ_STR(env.rcpts[0].error, "(unprintable error)");
	queue_env_release(&env);
}

/* Parsed fields land where the header says. */
TEST(queue_env_parse_fields)
{
	static const char in[] = MAGIC "qid 5f0c0e1a2b3c4d5e\n"
	    "created 1795965739\nfrom alice@example.test\nauth -\n"
	    "flags 8bitmime\nrcpt pending 0 1795965739 bob@remote.example\n"
	    "rcpt failed 3 17 \"x y\"@remote.example\n"
	    "error 1 550 5.1.1 unknown\n";
	struct queue_env env;
	const char *err = NULL;

	CHECK_EQ_INT(queue_env_parse(in, sizeof(in) - 1, &env, &err), 0);
	CHECK_EQ_STR(env.qid, "5f0c0e1a2b3c4d5e");
	CHECK_EQ_INT(env.created, 1795965739);
	CHECK_EQ_STR(env.from, "alice@example.test");
	CHECK_EQ_STR(env.auth, "");
	CHECK_EQ_INT(env.flags, QUEUE_FLAG_8BITMIME);
	CHECK_EQ_INT(env.nrcpts, 2);
	CHECK_EQ_STR(env.rcpts[0].addr, "bob@remote.example");
	CHECK_EQ_INT(env.rcpts[0].state, QUEUE_RCPT_PENDING);
	CHECK_EQ_INT(env.rcpts[0].attempts, 0);
	CHECK_EQ_INT(env.rcpts[0].next_try, 1795965739);
	CHECK_EQ_STR(env.rcpts[0].error, "");
	CHECK_EQ_STR(env.rcpts[1].addr, "\"x y\"@remote.example");
	CHECK_EQ_INT(env.rcpts[1].state, QUEUE_RCPT_FAILED);
	CHECK_EQ_INT(env.rcpts[1].attempts, 3);
	CHECK_EQ_INT(env.rcpts[1].next_try, 17);
	CHECK_EQ_STR(env.rcpts[1].error, "550 5.1.1 unknown");
	queue_env_release(&env);
}

/* Fixed arrays: the longest address and error fit, one more does not. */
TEST(queue_env_parse_lengths)
{
	static const struct {
		const char	*prefix;
		size_t		 len;
		int		 rc;
	} cases[] = {
		{ MAGIC QID "rcpt pending 0 0 ", SMTP_ADDR_TEXT_MAX - 1, 0 },
		{ MAGIC QID "rcpt pending 0 0 ", SMTP_ADDR_TEXT_MAX, -1 },
		{ MAGIC QID RCPT "from ", SMTP_ADDR_TEXT_MAX - 1, 0 },
		{ MAGIC QID RCPT "from ", SMTP_ADDR_TEXT_MAX, -1 },
		{ MAGIC QID RCPT "auth ", SMTP_ADDR_TEXT_MAX - 1, 0 },
		{ MAGIC QID RCPT "auth ", SMTP_ADDR_TEXT_MAX, -1 },
		/* Too long an error is replaced, like an unprintable one. */
		{ MAGIC QID RCPT "error 0 ", QUEUE_ERROR_MAX - 1, 0 },
		{ MAGIC QID RCPT "error 0 ", QUEUE_ERROR_MAX, 0 },
		{ MAGIC RCPT "qid ", ID_LEN, 0 },
		{ MAGIC RCPT "qid ", ID_LEN + 1, -1 },
	};
	size_t i, k;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		struct queue_env env;
		const char *err = NULL;
		struct buf in;
		int rc;

		buf_init(&in, BUF_NOCAP);
		CHECK_EQ_INT(buf_adds(&in, cases[i].prefix), 0);
		for (k = 0; k < cases[i].len; k++)
			CHECK_EQ_INT(buf_addc(&in, 'a'), 0);
		CHECK_EQ_INT(buf_adds(&in, "\n"), 0);
		rc = queue_env_parse(buf_data(&in), buf_len(&in), &env, &err);
		CHECKF(rc == cases[i].rc, "case %zu: got %d (%s), want %d", i,
		    rc, rc ? err : "ok", cases[i].rc);
		if (rc == 0 && strncmp(cases[i].prefix, MAGIC QID RCPT "error",
		    strlen(MAGIC QID RCPT "error")) == 0)
			CHECK_EQ_INT(strlen(env.rcpts[0].error),
			    cases[i].len < QUEUE_ERROR_MAX ? cases[i].len :
			    strlen("(unprintable error)"));
		if (rc == 0)
			queue_env_release(&env);
		buf_release(&in);
	}
}

/* QUEUE_RCPTS_MAX recipients are fine, one more is refused. */
TEST(queue_env_parse_rcpts_max)
{
	struct queue_env env;
	const char *err = NULL;
	struct buf in;
	size_t i;

	buf_init(&in, BUF_NOCAP);
	CHECK_EQ_INT(buf_adds(&in, MAGIC QID), 0);
	for (i = 0; i < QUEUE_RCPTS_MAX; i++)
		CHECK_EQ_INT(buf_addf(&in, "rcpt pending 0 0 u%zu@x.test\n", i),
		    0);
	CHECK_EQ_INT(buf_adds(&in, "error 9999 last one\n"), 0);
	CHECK_EQ_INT(queue_env_parse(buf_data(&in), buf_len(&in), &env, &err),
	    0);
	CHECK_EQ_INT(env.nrcpts, QUEUE_RCPTS_MAX);
	CHECK_EQ_STR(env.rcpts[QUEUE_RCPTS_MAX - 1].error, "last one");
	queue_env_release(&env);
	CHECK_EQ_INT(buf_adds(&in, "rcpt pending 0 0 one@too.many\n"), 0);
	CHECK_EQ_INT(queue_env_parse(buf_data(&in), buf_len(&in), &env, &err),
	    -1);
	CHECK_EQ_STR(err, E_LINE);
	buf_release(&in);
}

/* A full output buffer makes format fail, not write half an envelope. */
TEST(queue_env_format_full)
{
	struct queue_env env;
	struct buf text;

	queue_env_init(&env);
	CHECK_EQ_INT(cstr_copy(env.qid, sizeof(env.qid), "q"), 0);
	queue_env_add_rcpt(&env, "bob@x.test", 0);
	buf_init(&text, 20);
	CHECK_EQ_INT(queue_env_format(&env, &text), -1);
	buf_release(&text);
	queue_env_release(&env);
}

TEST(queue_env_add_rcpt_and_names)
{
	static const struct {
		enum queue_rcpt_state	 state;
		const char		*name;
	} names[] = {
		{ QUEUE_RCPT_PENDING, "pending" },
		{ QUEUE_RCPT_SENT, "sent" },
		{ QUEUE_RCPT_FAILED, "failed" },
		{ QUEUE_RCPT_EXPIRED, "expired" },
	};
	struct queue_env env;
	size_t i;

	for (i = 0; i < ARRAY_LEN(names); i++)
		CHECK_EQ_STR(queue_rcpt_state_name(names[i].state),
		    names[i].name);
	queue_env_init(&env);
	queue_env_add_rcpt(&env, "a@x.test", 10);
	queue_env_add_rcpt(&env, "b@x.test", 20);
	CHECK_EQ_INT(env.nrcpts, 2);
	CHECK_EQ_STR(env.rcpts[1].addr, "b@x.test");
	CHECK_EQ_INT(env.rcpts[1].state, QUEUE_RCPT_PENDING);
	CHECK_EQ_INT(env.rcpts[1].attempts, 0);
	CHECK_EQ_INT(env.rcpts[1].next_try, 20);
	CHECK_EQ_STR(env.rcpts[1].error, "");
	queue_env_release(&env);
}

/*
 * An error text is free text from remote hosts and DNS (an MX name): a
 * line end in it must not become a line of the envelope. Before, an MX
 * name holding "\nrcpt pending 0 0 x@y\nerror 0 " added a recipient at
 * the next load (a malformed last line made the entry unreadable
 * instead). The control characters are written as '?' and the
 * recipients read back are exactly the ones written.
 */
TEST(queue_env_error_cannot_add_lines)
{
	static const char *const errors[] = {
		/* As mta_describe() made it from a hostile MX name. */
		("mx\nrcpt pending 0 0 victim@target.example\nerror 0 x.test"
		    "[192.0.2.1] said: 451 4.7.1 later (in reply to RCPT TO)"),
		"mx\nrcpt pending 0 0 victim@target.example\n[192.0.2.1] said",
		"x\r\nrcpt pending 0 0 victim@target.example",
		"\nerror 0 forged",
		"\n",
		"tab\there, bell\a, del\x7f, esc\x1b",
	};
	static const char *const want[] = {
		("mx?rcpt pending 0 0 victim@target.example?error 0 x.test"
		    "[192.0.2.1] said: 451 4.7.1 later (in reply to RCPT TO)"),
		"mx?rcpt pending 0 0 victim@target.example?[192.0.2.1] said",
		"x??rcpt pending 0 0 victim@target.example",
		"?error 0 forged",
		"?",
		"tab?here, bell?, del?, esc?",
	};
	struct queue_env env, back;
	struct buf text;
	const char *err = NULL;
	size_t i;

	for (i = 0; i < ARRAY_LEN(errors); i++) {
		queue_env_init(&env);
		CHECK_EQ_INT(cstr_copy(env.qid, sizeof(env.qid),
		    "5f0c0e1a2b3c4d5e"), 0);
		CHECK_EQ_INT(cstr_copy(env.from, sizeof(env.from),
		    "alice@example.test"), 0);
		env_set_rcpt(&env, "bob@remote.example", QUEUE_RCPT_PENDING,
		    1, 7, errors[i]);
		env_set_rcpt(&env, "carol@remote.example", QUEUE_RCPT_SENT,
		    1, 0, "");
		buf_init(&text, 1 << 20);
		CHECK_EQ_INT(queue_env_format(&env, &text), 0);
		CHECKF(queue_env_parse(buf_data(&text), buf_len(&text), &back,
		    &err) == 0, "case %zu: parse failed (%s) on:\n%s", i, err,
		    buf_cstr(&text));
		if (back.nrcpts > 0) {
			CHECK_EQ_INT(back.nrcpts, 2);
			CHECK_EQ_STR(back.rcpts[0].addr, "bob@remote.example");
			CHECK_EQ_STR(back.rcpts[0].error, want[i]);
			CHECK_EQ_STR(back.rcpts[1].addr,
			    "carol@remote.example");
			CHECK_EQ_INT(back.rcpts[1].state, QUEUE_RCPT_SENT);
			CHECK_EQ_STR(back.rcpts[1].error, "");
		}
		queue_env_release(&back);
		buf_release(&text);
		queue_env_release(&env);
	}
}

/*
 * Addresses and identifiers must read back as written: one with a
 * control character (no parser lets one in) is refused, not rewritten
 * into another address.
 */
TEST(queue_env_format_refuses_control_in_addresses)
{
	static const char *const bad[] = { "a\nb@x.test", "a\rb@x.test",
	    "a\tb@x.test", "a\x7f@x.test" };
	struct queue_env env;
	struct buf text;
	size_t i;
	int field;

	for (i = 0; i < ARRAY_LEN(bad); i++)
		for (field = 0; field < 4; field++) {
			queue_env_init(&env);
			CHECK_EQ_INT(cstr_copy(env.qid, sizeof(env.qid), "q"),
			    0);
			queue_env_add_rcpt(&env, "ok@x.test", 0);
			if (field == 0)
				cstr_copy(env.from, sizeof(env.from), bad[i]);
			else if (field == 1)
				cstr_copy(env.auth, sizeof(env.auth), bad[i]);
			else if (field == 2)
				queue_env_add_rcpt(&env, bad[i], 0);
			else
				cstr_copy(env.qid, sizeof(env.qid), "q\n");
			buf_init(&text, 1 << 20);
			CHECKF(queue_env_format(&env, &text) == -1,
			    "field %d, \"%s\": formatted", field, bad[i]);
			buf_release(&text);
			queue_env_release(&env);
		}
}
