/*
 * rate.c - see rate.h.
 */
#include "core/common.h"

#include <time.h>

#include "auth/rate.h"
#include "core/map.h"

#define RATE_SWEEP_KEYS 4096

struct rate_slot {
	time_t		 start;
	uint64_t	 count;
};

struct rate_table {
	struct map	*keys;
	unsigned	 window;
	time_t		 last_sweep;
};

struct rate_table *
rate_new(unsigned window_seconds)
{
	struct rate_table *t = xcalloc(1, sizeof(*t));

	t->keys = map_new();
	t->window = window_seconds ? window_seconds : 60;
	return t;
}

void
rate_free(struct rate_table **tp)
{
	if (*tp == NULL)
		return;
	map_free(&(*tp)->keys, free);
	XFREE(tp);
}

static void
rate_sweep(struct rate_table *t, time_t now)
{
	const char *key;
	void *v;
	size_t pos = 0;

	while (map_next(t->keys, &pos, &key, &v))
		if (now - ((struct rate_slot *)v)->start >= (time_t)t->window)
			free(map_del(t->keys, key, strlen(key)));
}

bool
rate_take(struct rate_table *t, const char *key, uint64_t n, uint64_t limit)
{
	struct rate_slot *s;
	time_t now = time(NULL);

	if (limit == 0)
		return true;
	if ((s = map_get(t->keys, key, strlen(key))) == NULL) {
		/* At most once a second: with many live keys a sweep frees
		 * little, and must not cost a walk per new key. */
		if (map_count(t->keys) >= RATE_SWEEP_KEYS &&
		    now != t->last_sweep) {
			t->last_sweep = now;
			rate_sweep(t, now);
		}
		s = xcalloc(1, sizeof(*s));
		s->start = now;
		map_put(t->keys, key, strlen(key), s);
	}
	if (now - s->start >= (time_t)t->window) {
		s->start = now;
		s->count = 0;
	}
	if (s->count + n > limit)
		return false;
	s->count += n;
	return true;
}
