/*
 * map.c - see map.h.
 */
#include "core/common.h"

#include <sys/random.h>

#include "core/map.h"

struct map_slot {
	char	*key;		/* NULL: empty; MAP_TOMB: deleted */
	size_t	 keylen;
	uint64_t hash;
	void	*value;
};

struct map {
	struct map_slot	*slots;
	size_t		 nslots;	/* power of two */
	size_t		 count;
	size_t		 used;		/* count + tombstones */
	uint64_t	 k0, k1;
};

static char map_tomb_marker;
#define MAP_TOMB (&map_tomb_marker)

/* A keyed 64-bit hash (a round of SipHash-1-3 style mixing per word). */
#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND do {							\
	v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);	\
	v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;				\
	v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;				\
	v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);	\
} while (0)

static uint64_t
map_hash(const struct map *m, const char *p, size_t len)
{
	uint64_t v0 = m->k0 ^ 0x736f6d6570736575ULL;
	uint64_t v1 = m->k1 ^ 0x646f72616e646f6dULL;
	uint64_t v2 = m->k0 ^ 0x6c7967656e657261ULL;
	uint64_t v3 = m->k1 ^ 0x7465646279746573ULL;
	uint64_t w, b = (uint64_t)len << 56;
	size_t i = 0, j;

	for (; i + 8 <= len; i += 8) {
		memcpy(&w, p + i, 8);
		v3 ^= w;
		SIPROUND;
		v0 ^= w;
	}
	for (j = 0; i + j < len; j++)
		b |= (uint64_t)(unsigned char)p[i + j] << (8 * j);
	v3 ^= b;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

struct map *
map_new(void)
{
	struct map *m = xcalloc(1, sizeof(*m));

	m->nslots = 16;
	m->slots = xcalloc(m->nslots, sizeof(*m->slots));
	if (getrandom(&m->k0, sizeof(m->k0), 0) != sizeof(m->k0) ||
	    getrandom(&m->k1, sizeof(m->k1), 0) != sizeof(m->k1))
		m->k0 = (uint64_t)(uintptr_t)m, m->k1 = 0x9e3779b97f4a7c15ULL;
	return m;
}

void
map_free(struct map **mp, void (*free_value)(void *))
{
	struct map *m = *mp;
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->nslots; i++) {
		if (m->slots[i].key == NULL || m->slots[i].key == MAP_TOMB)
			continue;
		free(m->slots[i].key);
		if (free_value)
			free_value(m->slots[i].value);
	}
	free(m->slots);
	XFREE(mp);
}

static struct map_slot *
map_find(const struct map *m, const char *key, size_t keylen, uint64_t h)
{
	size_t mask = m->nslots - 1, i = (size_t)h & mask;
	struct map_slot *s;

	for (;; i = (i + 1) & mask) {
		s = &m->slots[i];
		if (s->key == NULL)
			return NULL;
		if (s->key != MAP_TOMB && s->hash == h && s->keylen == keylen &&
		    memcmp(s->key, key, keylen) == 0)
			return s;
	}
}

static void
map_grow(struct map *m)
{
	struct map_slot *old = m->slots;
	size_t oldn = m->nslots, i, mask, j;

	/* Double when live keys fill a quarter; else just drop tombstones. */
	if ((m->count + 1) * 4 > m->nslots)
		m->nslots *= 2;
	m->slots = xcalloc(m->nslots, sizeof(*m->slots));
	mask = m->nslots - 1;
	for (i = 0; i < oldn; i++) {
		if (old[i].key == NULL || old[i].key == MAP_TOMB)
			continue;
		for (j = (size_t)old[i].hash & mask; m->slots[j].key;
		    j = (j + 1) & mask)
			;
		m->slots[j] = old[i];
	}
	m->used = m->count;
	free(old);
}

void *
map_put(struct map *m, const char *key, size_t keylen, void *value)
{
	uint64_t h = map_hash(m, key, keylen);
	struct map_slot *s = map_find(m, key, keylen, h);
	size_t mask, i;
	void *prev;

	if (s != NULL) {
		prev = s->value;
		s->value = value;
		return prev;
	}
	if ((m->used + 1) * 2 > m->nslots)
		map_grow(m);
	mask = m->nslots - 1;
	for (i = (size_t)h & mask; m->slots[i].key != NULL &&
	    m->slots[i].key != MAP_TOMB; i = (i + 1) & mask)
		;
	if (m->slots[i].key == NULL)
		m->used++;
	m->slots[i] = (struct map_slot){ xmemdup0(key, keylen), keylen, h,
	    value };
	m->count++;
	return NULL;
}

void *
map_get(const struct map *m, const char *key, size_t keylen)
{
	struct map_slot *s = map_find(m, key, keylen, map_hash(m, key, keylen));

	return s ? s->value : NULL;
}

void *
map_del(struct map *m, const char *key, size_t keylen)
{
	struct map_slot *s = map_find(m, key, keylen, map_hash(m, key, keylen));
	void *v;

	if (s == NULL)
		return NULL;
	v = s->value;
	free(s->key);
	s->key = MAP_TOMB;
	s->value = NULL;
	m->count--;
	return v;
}

size_t
map_count(const struct map *m)
{
	return m->count;
}

int
map_next(const struct map *m, size_t *pos, const char **key_r,
    void **value_r)
{
	for (; *pos < m->nslots; (*pos)++) {
		struct map_slot *s = &m->slots[*pos];

		if (s->key == NULL || s->key == MAP_TOMB)
			continue;
		*key_r = s->key;
		*value_r = s->value;
		(*pos)++;
		return 1;
	}
	return 0;
}
