/*
 * fuzz_queue_env.c - libFuzzer harness for queue_env.c: the whole input
 * as a .env file.
 *
 * A refused file must leave the envelope released and give a reason. An
 * accepted one must hold what queue_env.h promises (a qid, recipients,
 * known states, no control characters in addresses), and must survive
 * format then parse unchanged: parse(format(e)) is e field for field, and
 * formatting that again gives the same text (one file, one spelling).
 */
#include "core/common.h"

#include "core/buf.h"
#include "queue/queue_env.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_text(const char *s, size_t size)
{
	size_t len = strnlen(s, size), i;

	if (len == size)
		abort();		/* not terminated */
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			abort();
}

static void
check_env(const struct queue_env *e)
{
	size_t i;

	if (e->qid[0] == '\0' || e->nrcpts == 0 || e->rcpts == NULL ||
	    e->nrcpts > QUEUE_RCPTS_MAX || e->created < 0 ||
	    (e->flags & ~(unsigned)(QUEUE_FLAG_8BITMIME |
	    QUEUE_FLAG_SMTPUTF8)) != 0)
		abort();
	check_text(e->qid, sizeof(e->qid));
	check_text(e->from, sizeof(e->from));
	check_text(e->auth, sizeof(e->auth));
	for (i = 0; i < e->nrcpts; i++) {
		const struct queue_rcpt *r = &e->rcpts[i];

		if (r->addr[0] == '\0' || r->state > QUEUE_RCPT_EXPIRED ||
		    r->attempts > 1000000 || r->next_try < 0)
			abort();
		check_text(r->addr, sizeof(r->addr));
		check_text(r->error, sizeof(r->error));
		if (queue_rcpt_state_name(r->state) == NULL)
			abort();
	}
}

static void
check_same(const struct queue_env *a, const struct queue_env *b)
{
	size_t i;

	if (strcmp(a->qid, b->qid) != 0 || a->created != b->created ||
	    strcmp(a->from, b->from) != 0 || strcmp(a->auth, b->auth) != 0 ||
	    a->flags != b->flags || a->nrcpts != b->nrcpts)
		abort();
	for (i = 0; i < a->nrcpts; i++) {
		const struct queue_rcpt *x = &a->rcpts[i], *y = &b->rcpts[i];

		if (strcmp(x->addr, y->addr) != 0 || x->state != y->state ||
		    x->attempts != y->attempts || x->next_try != y->next_try ||
		    strcmp(x->error, y->error) != 0)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct queue_env env, again;
	struct buf text1, text2;
	const char *err = NULL;

	if (queue_env_parse((const char *)data, size, &env, &err) != 0) {
		if (err == NULL || err[0] == '\0' || env.rcpts != NULL ||
		    env.nrcpts != 0)
			abort();
		return 0;
	}
	check_env(&env);

	buf_init(&text1, BUF_NOCAP);
	buf_init(&text2, BUF_NOCAP);
	if (queue_env_format(&env, &text1) != 0)
		abort();
	err = NULL;
	if (queue_env_parse(buf_data(&text1), buf_len(&text1), &again,
	    &err) != 0)
		abort();
	check_same(&env, &again);
	if (queue_env_format(&again, &text2) != 0 ||
	    buf_len(&text1) != buf_len(&text2) ||
	    memcmp(buf_data(&text1), buf_data(&text2), buf_len(&text1)) != 0)
		abort();
	/* The canonical text starts with the magic line. */
	if (buf_len(&text1) < 16 ||
	    memcmp(buf_data(&text1), "facteur-queue 1\n", 16) != 0)
		abort();
	buf_release(&text1);
	buf_release(&text2);
	queue_env_release(&again);
	queue_env_release(&env);
	return 0;
}
