/*
 * ban.c - see ban.h.
 */
#include "core/common.h"

#include <errno.h>
#include <limits.h>

#include "auth/ban.h"
#include "config/config.h"
#include "core/cidr.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "core/map.h"
#include "core/workq.h"

#define BAN_RING		64	/* failures remembered per key */
#define BAN_SWEEP_EVERY		1024	/* failures between clean-ups */
#define BAN_OFFENCE_MEMORY	(7 * 86400)	/* repeat offences count */
#define BAN_TRUST_REFRESH	86400	/* rewrite trust at most daily */
#define BAN_FILE_MAX		(16 * 1024 * 1024)

/* Recent failure times, a ring. */
struct ban_ring {
	time_t		 t[BAN_RING];
	unsigned	 n, head;
};

struct ban_client {
	struct ban_ring	 fails;
	time_t		 until;		/* banned until, 0 if not */
	unsigned	 offences;
	time_t		 last_ban;
};

struct ban_table {
	struct map	*clients;	/* client key -> struct ban_client */
	struct map	*accounts;	/* user -> struct ban_ring */
	struct map	*trust;		/* "key|user" -> time_t (uintptr) */
	/* Settings, copied: the config is replaced on SIGHUP. */
	uint64_t	 max_failures, window, trust_period;
	uint64_t	 account_failures, max_delay_ms;
	uint64_t	 ban_times[8];
	size_t		 nban_times;
	struct cidr_list allow;
	char		 path[PATH_MAX];
	struct workq	*wq;
	bool		 saving, dirty;
	bool		 closing;	/* shutdown: ban_free writes */
	unsigned long	 since_sweep;
};

static void
ban_ring_push(struct ban_ring *r, time_t now)
{
	r->t[r->head] = now;
	r->head = (r->head + 1) % BAN_RING;
	if (r->n < BAN_RING)
		r->n++;
}

static unsigned
ban_ring_count(const struct ban_ring *r, time_t since)
{
	unsigned i, c = 0;

	for (i = 0; i < r->n; i++)
		if (r->t[i] > since)
			c++;
	return c;
}

static bool
ban_allowed(const struct ban_table *t, const char *ip)
{
	return cidr_list_contains(&t->allow, ip);
}

static struct ban_client *
ban_client_get(struct ban_table *t, const char *key, bool create)
{
	struct ban_client *c = map_get(t->clients, key, strlen(key));

	if (c == NULL && create) {
		c = xcalloc(1, sizeof(*c));
		map_put(t->clients, key, strlen(key), c);
	}
	return c;
}

static bool
ban_trusted(struct ban_table *t, const char *key, const char *user,
    time_t now)
{
	char k[600];
	uintptr_t when;

	snprintf(k, sizeof(k), "%s|%s", key, user);
	when = (uintptr_t)map_get(t->trust, k, strlen(k));
	return when != 0 && (uint64_t)(now - (time_t)when) < t->trust_period;
}

/* The file: "ban KEY UNTIL OFFENCES LAST" and "trust KEY USER WHEN". */
static void
ban_format(struct ban_table *t, struct buf *out)
{
	time_t now = time(NULL);
	const char *key;
	void *v;
	size_t pos = 0;
	int r;

	r = buf_adds(out, "# facteur bans and trusted logins (see ban.h)\n");
	while (map_next(t->clients, &pos, &key, &v)) {
		struct ban_client *c = v;

		if (c->until > now || (c->offences && now - c->last_ban <
		    BAN_OFFENCE_MEMORY))
			r |= buf_addf(out, "ban %s %lld %u %lld\n", key,
			    (long long)c->until, c->offences,
			    (long long)c->last_ban);
	}
	pos = 0;
	while (map_next(t->trust, &pos, &key, &v))
		if ((uint64_t)(now - (time_t)(uintptr_t)v) < t->trust_period)
			r |= buf_addf(out, "trust %.*s %s %lld\n",
			    (int)strcspn(key, "|"), key, key + strcspn(key, "|") +
			    1, (long long)(uintptr_t)v);
	(void)r;	/* uncapped buffer */
}

struct ban_save {
	struct ban_table *t;
	char		 path[PATH_MAX];
	struct buf	 text;
	int		 error;
};

static void ban_save(struct ban_table *t);

static void
ban_save_work(void *arg)
{
	struct ban_save *s = arg;

	if (fs_write_atomic(s->path, buf_data(&s->text), buf_len(&s->text),
	    0600) == -1)
		s->error = errno;
}

static void
ban_save_done(void *arg)
{
	struct ban_save *s = arg;

	if (s->error)
		log_err("event=bans-write-failed path=%s error=%s",
		    log_qs(s->path), log_qs(strerror(s->error)));
	s->t->saving = false;
	if (s->t->dirty && !s->t->closing)
		ban_save(s->t);
	buf_release(&s->text);
	free(s);
}

/* Durable, off the loop; one write at a time, the latest state last. */
static void
ban_save(struct ban_table *t)
{
	struct ban_save *s;

	if (t->saving || t->closing) {
		t->dirty = true;
		return;
	}
	s = xcalloc(1, sizeof(*s));
	s->t = t;
	cstr_copy(s->path, sizeof(s->path), t->path);
	buf_init(&s->text, BUF_NOCAP);
	ban_format(t, &s->text);
	t->saving = true;
	t->dirty = false;
	workq_submit(t->wq, ban_save_work, ban_save_done, s);
}

static void
ban_load_line(struct ban_table *t, struct str line)
{
	struct str kind, key, a, b, c;
	char k[128], u[512];
	uint64_t x, y, z;

	if (!str_take_word(&line, &kind, 8))
		return;
	str_skip_ws(&line);
	if (!str_take_word(&line, &key, sizeof(k) - 1) ||
	    str_copy(k, sizeof(k), key) == -1)
		return;
	str_skip_ws(&line);
	if (str_eq(kind, STR_LIT("ban")) && str_take_word(&line, &a, 20) &&
	    (str_skip_ws(&line), str_take_word(&line, &b, 10)) &&
	    (str_skip_ws(&line), str_take_word(&line, &c, 20)) &&
	    str_to_u64(a, INT64_MAX / 2, &x) == 0 &&
	    str_to_u64(b, 1000, &y) == 0 &&
	    str_to_u64(c, INT64_MAX / 2, &z) == 0) {
		struct ban_client *cl = ban_client_get(t, k, true);

		cl->until = (time_t)x;
		cl->offences = (unsigned)y;
		cl->last_ban = (time_t)z;
	} else if (str_eq(kind, STR_LIT("trust")) &&
	    str_take_word(&line, &a, sizeof(u) - 1) &&
	    (str_skip_ws(&line), str_take_word(&line, &b, 20)) &&
	    str_copy(u, sizeof(u), a) == 0 &&
	    str_to_u64(b, INT64_MAX / 2, &x) == 0) {
		char tk[700];

		snprintf(tk, sizeof(tk), "%s|%s", k, u);
		map_put(t->trust, tk, strlen(tk), (void *)(uintptr_t)x);
	}
}

static void
ban_load(struct ban_table *t)
{
	struct buf text;
	struct str rest;

	buf_init(&text, BAN_FILE_MAX);
	if (fs_read_file(t->path, &text) == -1 && errno != ENOENT)
		log_err("event=bans-read-failed path=%s error=%s",
		    log_qs(t->path), log_qs(strerror(errno)));
	rest = str_make(buf_data(&text), buf_len(&text));
	while (rest.len) {
		long nl = str_chr(rest, '\n');
		struct str line = str_make(rest.p, nl < 0 ? rest.len :
		    (size_t)nl);

		rest = str_sub(rest, line.len + 1, rest.len);
		if (line.len && line.p[0] != '#')
			ban_load_line(t, line);
	}
	buf_release(&text);
}

void
ban_reconfigure(struct ban_table *t, const struct config *cfg)
{
	t->max_failures = MAX(cfg->ban_max_failures, 1u);
	t->window = cfg->ban_window;
	t->trust_period = cfg->ban_trust_period;
	t->account_failures = MAX(cfg->ban_account_failures, 1u);
	t->max_delay_ms = cfg->ban_max_delay_ms;
	memcpy(t->ban_times, cfg->ban_times, sizeof(t->ban_times));
	t->nban_times = cfg->nban_times;
	t->allow = cfg->ban_allow;
}

struct ban_table *
ban_new(const struct config *cfg, struct workq *wq)
{
	struct ban_table *t = xcalloc(1, sizeof(*t));

	t->clients = map_new();
	t->accounts = map_new();
	t->trust = map_new();
	t->wq = wq;
	snprintf(t->path, sizeof(t->path), "%s/bans", cfg->data_dir);
	ban_reconfigure(t, cfg);
	ban_load(t);
	return t;
}

void
ban_close(struct ban_table *t)
{
	t->closing = true;
}

void
ban_free(struct ban_table **tp)
{
	struct ban_table *t = *tp;
	struct buf text;

	if (t == NULL)
		return;
	if (t->dirty) {
		/* The loop and the workers are gone: a last, direct write. */
		buf_init(&text, BUF_NOCAP);
		ban_format(t, &text);
		if (fs_write_atomic(t->path, buf_data(&text), buf_len(&text),
		    0600) == -1)
			log_err("event=bans-write-failed path=%s error=%s",
			    log_qs(t->path), log_qs(strerror(errno)));
		buf_release(&text);
	}
	map_free(&t->clients, free);
	map_free(&t->accounts, free);
	map_free(&t->trust, NULL);
	XFREE(tp);
}

bool
ban_check(struct ban_table *t, const char *ip, time_t *until_r)
{
	char key[80];
	struct ban_client *c;

	if (cidr_client_key(ip, key, sizeof(key)) == -1 ||
	    ban_allowed(t, ip) || (c = ban_client_get(t, key, false)) == NULL)
		return false;
	if (c->until <= time(NULL))
		return false;
	if (until_r)
		*until_r = c->until;
	return true;
}

/*
 * Forgets clients with no ban and no recent failure, and accounts with no
 * recent failure (bounded memory: a bot trying a million user names must
 * not keep a million rings).
 */
static void
ban_sweep(struct ban_table *t, time_t now)
{
	const char *key;
	void *v;
	size_t pos = 0;

	if (++t->since_sweep < BAN_SWEEP_EVERY)
		return;
	t->since_sweep = 0;
	while (map_next(t->clients, &pos, &key, &v)) {
		struct ban_client *c = v;

		if (c->until < now && now - c->last_ban > BAN_OFFENCE_MEMORY &&
		    ban_ring_count(&c->fails, now - (time_t)t->window) == 0)
			free(map_del(t->clients, key, strlen(key)));
	}
	pos = 0;
	while (map_next(t->accounts, &pos, &key, &v))
		if (ban_ring_count(v, now - (time_t)t->window) == 0)
			free(map_del(t->accounts, key, strlen(key)));
}

static void
ban_account_failed(struct ban_table *t, const char *user, time_t now)
{
	struct ban_ring *r = map_get(t->accounts, user, strlen(user));

	if (r == NULL) {
		r = xcalloc(1, sizeof(*r));
		map_put(t->accounts, user, strlen(user), r);
	}
	ban_ring_push(r, now);
}

static void
ban_impose(struct ban_table *t, const char *key, struct ban_client *c,
    time_t now)
{
	size_t i;

	if (now - c->last_ban > BAN_OFFENCE_MEMORY)
		c->offences = 0;
	i = MIN((size_t)c->offences, t->nban_times - 1);
	c->until = now + (time_t)t->ban_times[i];
	c->offences++;
	c->last_ban = now;
	memset(&c->fails, 0, sizeof(c->fails));
	log_info("event=ban ip=%s until=%lld offences=%u seconds=%llu", key,
	    (long long)c->until, c->offences,
	    (unsigned long long)t->ban_times[i]);
	ban_save(t);
}

bool
ban_failed(struct ban_table *t, const char *ip, const char *user)
{
	time_t now = time(NULL);
	struct ban_client *c;
	char key[80];

	if (cidr_client_key(ip, key, sizeof(key)) == -1)
		return false;
	ban_sweep(t, now);
	/* The owner mistyping from a known place: neither counts. */
	if (ban_trusted(t, key, user, now))
		return false;
	ban_account_failed(t, user, now);
	if (ban_allowed(t, ip))
		return false;
	c = ban_client_get(t, key, true);
	if (c->until > now)
		return true;	/* already banned: not a new offence */
	ban_ring_push(&c->fails, now);
	if (ban_ring_count(&c->fails, now - (time_t)t->window) <
	    t->max_failures)
		return false;
	ban_impose(t, key, c, now);
	return true;
}

void
ban_succeeded(struct ban_table *t, const char *ip, const char *user)
{
	char key[80], k[600];
	time_t now = time(NULL), before;

	if (cidr_client_key(ip, key, sizeof(key)) == -1)
		return;
	snprintf(k, sizeof(k), "%s|%s", key, user);
	before = (time_t)(uintptr_t)map_get(t->trust, k, strlen(k));
	map_put(t->trust, k, strlen(k), (void *)(uintptr_t)now);
	if (now - before > BAN_TRUST_REFRESH)
		ban_save(t);
}

uint64_t
ban_delay_ms(struct ban_table *t, const char *ip, const char *user,
    uint64_t base_ms)
{
	time_t now = time(NULL), since = now - (time_t)t->window;
	struct ban_client *c;
	struct ban_ring *r;
	uint64_t d = base_ms;
	unsigned n;
	char key[80];

	if (cidr_client_key(ip, key, sizeof(key)) == -1 || ban_allowed(t, ip))
		return base_ms;
	/* Doubling with each recent failure of this client... */
	if ((c = ban_client_get(t, key, false)) != NULL &&
	    (n = ban_ring_count(&c->fails, since)) > 1)
		d = base_ms << MIN(n - 1, 16u);
	/* ...and of this account, beyond a threshold, unless trusted. */
	if (!ban_trusted(t, key, user, now) &&
	    (r = map_get(t->accounts, user, strlen(user))) != NULL &&
	    (n = ban_ring_count(r, since)) >= t->account_failures)
		d = MAX(d, base_ms << MIN(n - t->account_failures + 1, 16u));
	return MIN(d, MAX(t->max_delay_ms, base_ms));
}

int
ban_add(struct ban_table *t, const char *ip, uint64_t seconds)
{
	struct ban_client *c;
	char key[80];

	if (cidr_client_key(ip, key, sizeof(key)) == -1)
		return -1;
	c = ban_client_get(t, key, true);
	c->until = time(NULL) + (time_t)seconds;
	c->last_ban = time(NULL);
	c->offences++;
	log_info("event=ban ip=%s until=%lld offences=%u seconds=%llu "
	    "by=admin", key, (long long)c->until, c->offences,
	    (unsigned long long)seconds);
	ban_save(t);
	return 0;
}

int
ban_del(struct ban_table *t, const char *ip)
{
	struct ban_client *c;
	char key[80];

	if (cidr_client_key(ip, key, sizeof(key)) == -1 ||
	    (c = ban_client_get(t, key, false)) == NULL)
		return -1;
	free(map_del(t->clients, key, strlen(key)));
	log_info("event=unban ip=%s by=admin", key);
	ban_save(t);
	return 0;
}

void
ban_list(struct ban_table *t, struct buf *out)
{
	time_t now = time(NULL);
	const char *key;
	void *v;
	size_t pos = 0, n = 0;
	int r = 0;

	size_t cut = 0;

	while (map_next(t->clients, &pos, &key, &v)) {
		struct ban_client *c = v;

		if (c->until <= now)
			continue;
		/* Keep room for the last line: a cut list must say so. */
		if (cut || out->cap - buf_len(out) < 512 || buf_addf(out,
		    "%s banned for %lld s more (offence %u)\n", key,
		    (long long)(c->until - now), c->offences) == -1)
			cut++;
		n++;
	}
	if (cut)
		r = buf_addf(out, "error %zu of the %zu banned not listed (the "
		    "answer is full)\n", cut, n);
	else
		r = buf_addf(out, "ok %zu banned\n", n);
	(void)r;
}
