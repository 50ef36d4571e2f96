/*
 * queue_env.c - see queue_env.h.
 */
#include "core/common.h"

#include "queue/queue_env.h"

static const char *const state_names[] = {
	[QUEUE_RCPT_PENDING] = "pending",
	[QUEUE_RCPT_SENT] = "sent",
	[QUEUE_RCPT_FAILED] = "failed",
	[QUEUE_RCPT_EXPIRED] = "expired",
};

const char *
queue_rcpt_state_name(enum queue_rcpt_state state)
{
	return state_names[state];
}

void
queue_env_init(struct queue_env *env)
{
	memset(env, 0, sizeof(*env));
}

void
queue_env_release(struct queue_env *env)
{
	free(env->rcpts);
	queue_env_init(env);
}

void
queue_env_add_rcpt(struct queue_env *env, const char *addr, time_t next_try)
{
	struct queue_rcpt *r;

	if (env->nrcpts == env->alloc) {
		env->alloc = env->alloc ? env->alloc * 2 : 4;
		env->rcpts = xreallocarray(env->rcpts, env->alloc,
		    sizeof(*env->rcpts));
	}
	r = &env->rcpts[env->nrcpts++];
	memset(r, 0, sizeof(*r));
	cstr_copy(r->addr, sizeof(r->addr), addr);
	r->state = QUEUE_RCPT_PENDING;
	r->next_try = next_try;
}

/* QUEUE_ENV_TEXT_MAX holds the largest envelope (queue_env.h). */
_Static_assert((uint64_t)QUEUE_RCPTS_MAX * (sizeof("rcpt expired 1000000 ") +
    20 + SMTP_ADDR_TEXT_MAX + sizeof("error 10000 ") + QUEUE_ERROR_MAX) +
    4096 < QUEUE_ENV_TEXT_MAX, "an envelope may not fit QUEUE_ENV_TEXT_MAX");

static bool
queue_text_ok(const char *s)
{
	for (; *s; s++)
		if (ascii_iscntrl(*s))
			return false;
	return true;
}

/*
 * An error text with its control characters as '?'. It is free text
 * (a remote host's reply, a host name from DNS) and only informs: a
 * CR or LF written as is would end the line, and what followed would
 * be read back as lines of the envelope, recipients included.
 */
static int
queue_add_text(struct buf *out, const char *s)
{
	size_t n;
	int r = 0;

	while (*s) {
		for (n = 0; s[n] && !ascii_iscntrl(s[n]); n++)
			;
		r |= buf_add(out, s, n);
		s += n;
		if (*s) {
			r |= buf_addc(out, '?');
			s++;
		}
	}
	return r;
}

int
queue_env_format(const struct queue_env *env, struct buf *out)
{
	size_t i;
	int r;

	/*
	 * The identifiers and addresses must read back as written: one with
	 * a control character (the parsers refuse them, so a bug) is
	 * refused rather than changed into another address.
	 */
	if (!queue_text_ok(env->qid) || !queue_text_ok(env->from) ||
	    !queue_text_ok(env->auth))
		return -1;
	for (i = 0; i < env->nrcpts; i++)
		if (!queue_text_ok(env->rcpts[i].addr))
			return -1;
	r = buf_addf(out, QUEUE_ENV_KEY_FMT "created %lld\nfrom%s%s\n"
	    "auth %s\nflags", env->qid, (long long)env->created,
	    env->from[0] ? " " : "", env->from, env->auth[0] ? env->auth :
	    "-");
	if (env->flags == 0)
		r |= buf_adds(out, " -");
	if (env->flags & QUEUE_FLAG_8BITMIME)
		r |= buf_adds(out, " 8bitmime");
	if (env->flags & QUEUE_FLAG_SMTPUTF8)
		r |= buf_adds(out, " smtputf8");
	if (env->flags & QUEUE_FLAG_WARNED)
		r |= buf_adds(out, " warned");
	if (env->flags & QUEUE_FLAG_REPORTED)
		r |= buf_adds(out, " reported");
	r |= buf_addc(out, '\n');
	for (i = 0; i < env->nrcpts; i++)
		r |= buf_addf(out, "rcpt %s %u %lld %s\n",
		    state_names[env->rcpts[i].state], env->rcpts[i].attempts,
		    (long long)env->rcpts[i].next_try, env->rcpts[i].addr);
	for (i = 0; i < env->nrcpts; i++)
		if (env->rcpts[i].error[0]) {
			r |= buf_addf(out, "error %zu ", i);
			r |= queue_add_text(out, env->rcpts[i].error);
			r |= buf_addc(out, '\n');
		}
	return r ? -1 : 0;
}

/* A printable value without control characters, into a fixed array. */
static int
queue_copy_text(struct str v, char *out, size_t size)
{
	size_t i;

	for (i = 0; i < v.len; i++)
		if (ascii_iscntrl(v.p[i]))
			return -1;
	return str_copy(out, size, v);
}

static int
queue_parse_rcpt(struct str v, struct queue_env *env)
{
	struct str state, attempts, next;
	uint64_t a, n;
	size_t s;

	if (env->nrcpts == QUEUE_RCPTS_MAX ||
	    !str_take_word(&v, &state, 16) || !str_take_char(&v, ' ') ||
	    !str_take_word(&v, &attempts, 10) || !str_take_char(&v, ' ') ||
	    !str_take_word(&v, &next, 20) || !str_take_char(&v, ' ') ||
	    str_to_u64(attempts, 1000000, &a) == -1 ||
	    str_to_u64(next, INT64_MAX / 2, &n) == -1)
		return -1;
	for (s = 0; s < ARRAY_LEN(state_names); s++)
		if (str_caseeq_cstr(state, state_names[s]))
			break;
	if (s == ARRAY_LEN(state_names) || v.len == 0)
		return -1;
	queue_env_add_rcpt(env, "", (time_t)n);
	if (queue_copy_text(v, env->rcpts[env->nrcpts - 1].addr,
	    SMTP_ADDR_TEXT_MAX) == -1)
		return -1;
	env->rcpts[env->nrcpts - 1].state = (enum queue_rcpt_state)s;
	env->rcpts[env->nrcpts - 1].attempts = (unsigned)a;
	return 0;
}

static int
queue_parse_error(struct str v, struct queue_env *env)
{
	struct str idx;
	uint64_t i;

	if (!str_take_word(&v, &idx, 10) || !str_take_char(&v, ' ') ||
	    str_to_u64(idx, QUEUE_RCPTS_MAX, &i) == -1 || i >= env->nrcpts)
		return -1;
	if (queue_copy_text(v, env->rcpts[i].error, QUEUE_ERROR_MAX) == -1)
		str_copy(env->rcpts[i].error, QUEUE_ERROR_MAX,
		    STR_LIT("(unprintable error)"));
	return 0;
}

static int
queue_parse_flags(struct str v, struct queue_env *env)
{
	struct str w;

	while (str_skip_ws(&v), v.len) {
		if (!str_take_word(&v, &w, 16))
			return -1;
		if (str_caseeq_cstr(w, "8bitmime"))
			env->flags |= QUEUE_FLAG_8BITMIME;
		else if (str_caseeq_cstr(w, "smtputf8"))
			env->flags |= QUEUE_FLAG_SMTPUTF8;
		else if (str_caseeq_cstr(w, "warned"))
			env->flags |= QUEUE_FLAG_WARNED;
		else if (str_caseeq_cstr(w, "reported"))
			env->flags |= QUEUE_FLAG_REPORTED;
		else if (!str_caseeq_cstr(w, "-"))
			return -1;
	}
	return 0;
}

static int
queue_parse_line(struct str key, struct str v, struct queue_env *env)
{
	uint64_t t;

	if (str_caseeq_cstr(key, "qid"))
		return queue_copy_text(v, env->qid, sizeof(env->qid));
	if (str_caseeq_cstr(key, "created")) {
		if (str_to_u64(v, INT64_MAX / 2, &t) == -1)
			return -1;
		env->created = (time_t)t;
		return 0;
	}
	if (str_caseeq_cstr(key, "from"))
		return queue_copy_text(v, env->from, sizeof(env->from));
	if (str_caseeq_cstr(key, "auth"))
		return str_caseeq_cstr(v, "-") ? 0 : queue_copy_text(v,
		    env->auth, sizeof(env->auth));
	if (str_caseeq_cstr(key, "flags"))
		return queue_parse_flags(v, env);
	if (str_caseeq_cstr(key, "rcpt"))
		return queue_parse_rcpt(v, env);
	if (str_caseeq_cstr(key, "error"))
		return queue_parse_error(v, env);
	return -1;
}

int
queue_env_parse(const char *p, size_t len, struct queue_env *env,
    const char **error_r)
{
	struct str rest = str_make(p, len), line, key;
	bool first = true;

	queue_env_init(env);
	while (rest.len) {
		long nl = str_chr(rest, '\n');

		if (nl < 0) {
			*error_r = "truncated (no final line end)";
			goto bad;
		}
		line = str_make(rest.p, (size_t)nl);
		rest = str_sub(rest, (size_t)nl + 1, rest.len);
		if (first) {
			if (!str_eq(line, STR_LIT("facteur-queue 1"))) {
				*error_r = "not a facteur queue file";
				goto bad;
			}
			first = false;
			continue;
		}
		key = line;
		if (!str_take_word(&line, &key, 16) || (line.len &&
		    !str_take_char(&line, ' ')) ||
		    queue_parse_line(key, line, env) == -1) {
			*error_r = "malformed line";
			goto bad;
		}
	}
	if (first || env->qid[0] == '\0' || env->nrcpts == 0) {
		*error_r = "incomplete envelope";
		goto bad;
	}
	return 0;
bad:
	queue_env_release(env);
	return -1;
}
