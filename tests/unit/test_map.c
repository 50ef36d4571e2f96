/*
 * test_map.c - the string-keyed hash map: put/get/del, overwrite, growth,
 * tombstones, iteration, and keys that are byte strings (NULs, lengths).
 *
 * map_steps is a table of operations run in order on one map, each with
 * the value it must return; the other tests check properties at scale.
 */
#include "core/common.h"

#include "core/map.h"
#include "unit/unit.h"

/* Values are small integers stored as pointers; 0 is NULL ("none"). */
#define V(n) ((void *)(uintptr_t)(n))
#define B(s) s, sizeof(s) - 1

enum map_op { PUT, GET, DEL, COUNT };

struct map_step {
	enum map_op	 op;
	const char	*key;
	size_t		 keylen;
	uintptr_t	 value;		/* for PUT */
	uintptr_t	 want;		/* returned value, or the count */
};

static const struct map_step map_steps[] = {
	{ COUNT, NULL, 0, 0, 0 },
	{ GET, B("missing"), 0, 0 },
	{ DEL, B("missing"), 0, 0 },
	{ PUT, B("alice"), 1, 0 },
	{ GET, B("alice"), 0, 1 },
	{ COUNT, NULL, 0, 0, 1 },
	/* Overwrite returns the previous value and keeps one entry. */
	{ PUT, B("alice"), 2, 1 },
	{ GET, B("alice"), 0, 2 },
	{ COUNT, NULL, 0, 0, 1 },
	/* Lookups are exact: case, prefixes, extensions differ. */
	{ GET, B("Alice"), 0, 0 },
	{ GET, B("alic"), 0, 0 },
	{ GET, B("alicex"), 0, 0 },
	{ PUT, B("bob"), 3, 0 },
	{ PUT, B("Bob"), 4, 0 },
	{ GET, B("bob"), 0, 3 },
	{ GET, B("Bob"), 0, 4 },
	{ COUNT, NULL, 0, 0, 3 },
	/* Delete returns the value; the key is gone, the others stay. */
	{ DEL, B("alice"), 0, 2 },
	{ GET, B("alice"), 0, 0 },
	{ DEL, B("alice"), 0, 0 },
	{ GET, B("bob"), 0, 3 },
	{ COUNT, NULL, 0, 0, 2 },
	/* A deleted key can come back. */
	{ PUT, B("alice"), 5, 0 },
	{ GET, B("alice"), 0, 5 },
	{ COUNT, NULL, 0, 0, 3 },
	/* Byte strings: the empty key, NULs, lengths. */
	{ PUT, B(""), 6, 0 },
	{ GET, B(""), 0, 6 },
	{ PUT, B("a\0b"), 7, 0 },
	{ PUT, B("a\0c"), 8, 0 },
	{ PUT, B("a"), 9, 0 },
	{ PUT, B("a\0"), 10, 0 },
	{ PUT, B("\0"), 11, 0 },
	{ PUT, B("\0\0"), 12, 0 },
	{ GET, B("a\0b"), 0, 7 },
	{ GET, B("a\0c"), 0, 8 },
	{ GET, B("a"), 0, 9 },
	{ GET, B("a\0"), 0, 10 },
	{ GET, B("\0"), 0, 11 },
	{ GET, B("\0\0"), 0, 12 },
	{ GET, B("\0\0\0"), 0, 0 },
	{ GET, B("a\0d"), 0, 0 },
	{ COUNT, NULL, 0, 0, 10 },
	{ DEL, B("a\0b"), 0, 7 },
	{ GET, B("a\0c"), 0, 8 },
	{ GET, B("a"), 0, 9 },
	/* Around the hash's 8-octet words. */
	{ PUT, B("12345678"), 13, 0 },
	{ PUT, B("12345678X"), 14, 0 },
	{ PUT, B("12345678Y"), 15, 0 },
	{ PUT, B("1234567"), 16, 0 },
	{ GET, B("12345678"), 0, 13 },
	{ GET, B("12345678X"), 0, 14 },
	{ GET, B("12345678Y"), 0, 15 },
	{ GET, B("1234567"), 0, 16 },
	{ GET, B("12345678Z"), 0, 0 },
	/* A NULL value is stored (and reads back as NULL). */
	{ PUT, B("null"), 0, 0 },
	{ COUNT, NULL, 0, 0, 14 },
	{ PUT, B("null"), 17, 0 },
	{ GET, B("null"), 0, 17 },
	{ COUNT, NULL, 0, 0, 14 },
	/* Binary octets. */
	{ PUT, B("\xff\xfe\x80\x01"), 18, 0 },
	{ GET, B("\xff\xfe\x80\x01"), 0, 18 },
	{ GET, B("\xff\xfe\x80\x02"), 0, 0 },
};

TEST(map_steps_table)
{
	struct map *m = map_new();
	size_t i;

	for (i = 0; i < ARRAY_LEN(map_steps); i++) {
		const struct map_step *s = &map_steps[i];
		uintptr_t got = 0;

		switch (s->op) {
		case PUT:
			got = (uintptr_t)map_put(m, s->key, s->keylen,
			    V(s->value));
			break;
		case GET:
			got = (uintptr_t)map_get(m, s->key, s->keylen);
			break;
		case DEL:
			got = (uintptr_t)map_del(m, s->key, s->keylen);
			break;
		case COUNT:
			got = map_count(m);
			break;
		}
		CHECKF(got == s->want, "step %zu (op %d, key \"%.*s\"): got "
		    "%zu, want %zu", i, (int)s->op, (int)s->keylen,
		    s->key ? s->key : "", (size_t)got, (size_t)s->want);
	}
	map_free(&m, NULL);
	CHECK(m == NULL);
}

/* Lookups take a slice of a longer buffer, not a C string. */
TEST(map_slice_lookup)
{
	static const char line[] = "RCPT TO:<bob@example.test> SIZE=10";
	struct map *m = map_new();

	CHECK(map_put(m, "bob@example.test", 16, V(1)) == NULL);
	CHECK(map_get(m, line + 9, 16) == V(1));
	CHECK(map_get(m, line + 9, 15) == NULL);
	CHECK(map_get(m, line + 9, 17) == NULL);
	CHECK(map_del(m, line + 9, 16) == V(1));
	CHECK_EQ_INT(map_count(m), 0);
	map_free(&m, NULL);
}

/* The key is copied: the caller's buffer may change after put. */
TEST(map_key_is_copied)
{
	struct map *m = map_new();
	char key[16] = "volatile";
	const char *k = NULL;
	void *v = NULL;
	size_t pos = 0;

	CHECK(map_put(m, key, 8, V(1)) == NULL);
	memcpy(key, "changed!", 8);
	CHECK(map_get(m, "volatile", 8) == V(1));
	CHECK(map_get(m, key, 8) == NULL);
	CHECK_EQ_INT(map_next(m, &pos, &k, &v), 1);
	CHECK_EQ_STR(k, "volatile");	/* a NUL-terminated copy */
	CHECK(k != key);
	map_free(&m, NULL);
}

/* Key i of the scale tests: varied lengths, some NULs. */
static size_t
map_key(size_t i, char *out, size_t size)
{
	int n = snprintf(out, size, "key-%zu@domain%zu.test", i, i % 13);

	if (n < 0 || (size_t)n >= size)
		abort();
	if (i % 5 == 0)
		out[3] = '\0';		/* "key\0..." */
	return (size_t)n;
}

/* Enough keys to grow many times; every one stays findable. */
TEST(map_many_keys)
{
	enum { N = 50000 };
	struct map *m = map_new();
	char key[64];
	size_t i, len;

	for (i = 0; i < N; i++) {
		len = map_key(i, key, sizeof(key));
		CHECKF(map_put(m, key, len, V(i + 1)) == NULL, "put %zu", i);
	}
	CHECK_EQ_INT(map_count(m), N);
	for (i = 0; i < N; i++) {
		len = map_key(i, key, sizeof(key));
		CHECKF(map_get(m, key, len) == V(i + 1), "get %zu", i);
	}
	/* Delete the odd ones, overwrite the even ones. */
	for (i = 0; i < N; i++) {
		len = map_key(i, key, sizeof(key));
		if (i % 2)
			CHECKF(map_del(m, key, len) == V(i + 1), "del %zu", i);
		else
			CHECKF(map_put(m, key, len, V(i + 2)) == V(i + 1),
			    "overwrite %zu", i);
	}
	CHECK_EQ_INT(map_count(m), N / 2);
	for (i = 0; i < N; i++) {
		len = map_key(i, key, sizeof(key));
		CHECKF(map_get(m, key, len) == (i % 2 ? NULL : V(i + 2)),
		    "get after del %zu", i);
	}
	map_free(&m, NULL);
}

/*
 * Put and delete in a loop: the tombstones left behind must be reused or
 * swept, or the table would fill with them and probing would never end
 * (the runner's timeout catches a hang).
 */
TEST(map_tombstone_reuse)
{
	struct map *m = map_new();
	char key[64];
	size_t i, len;

	/* One key, over and over. */
	for (i = 0; i < 100000; i++) {
		CHECK(map_put(m, B("same"), V(i + 1)) == NULL);
		CHECK(map_del(m, B("same")) == V(i + 1));
	}
	CHECK_EQ_INT(map_count(m), 0);
	CHECK(map_get(m, B("same")) == NULL);
	/* Always new keys, few alive at once. */
	for (i = 0; i < 200000; i++) {
		len = map_key(i, key, sizeof(key));
		CHECK(map_put(m, key, len, V(i + 1)) == NULL);
		if (i >= 3) {
			len = map_key(i - 3, key, sizeof(key));
			CHECK(map_del(m, key, len) == V(i - 2));
		}
	}
	CHECK_EQ_INT(map_count(m), 3);
	for (i = 200000 - 3; i < 200000; i++) {
		len = map_key(i, key, sizeof(key));
		CHECKF(map_get(m, key, len) == V(i + 1), "survivor %zu", i);
	}
	/* A lookup of a missing key still ends. */
	CHECK(map_get(m, B("never there")) == NULL);
	map_free(&m, NULL);
}

/* A key deleted then put again is found once, with the new value. */
TEST(map_tombstone_then_put)
{
	struct map *m = map_new();
	char key[64];
	size_t i, len, pos = 0, seen = 0;
	const char *k;
	void *v;

	for (i = 0; i < 7; i++) {
		len = map_key(i, key, sizeof(key));
		CHECK(map_put(m, key, len, V(i + 1)) == NULL);
	}
	for (i = 0; i < 7; i++) {
		len = map_key(i, key, sizeof(key));
		CHECK(map_del(m, key, len) == V(i + 1));
	}
	for (i = 0; i < 7; i++) {
		len = map_key(i, key, sizeof(key));
		CHECK(map_put(m, key, len, V(i + 100)) == NULL);
		CHECK(map_put(m, key, len, V(i + 200)) == V(i + 100));
	}
	CHECK_EQ_INT(map_count(m), 7);
	while (map_next(m, &pos, &k, &v))
		seen++;
	CHECK_EQ_INT(seen, 7);
	map_free(&m, NULL);
}

/* Iteration visits every live key exactly once, with its value. */
TEST(map_iteration_visits_each_once)
{
	static const size_t sizes[] = { 0, 1, 2, 15, 16, 17, 1000, 5000 };
	size_t t;

	for (t = 0; t < ARRAY_LEN(sizes); t++) {
		size_t n = sizes[t], i, pos = 0, visits = 0;
		struct map *m = map_new();
		unsigned char *seen = xcalloc(n + 1, 1);
		char key[64];
		const char *k;
		void *v;

		for (i = 0; i < n; i++)
			CHECK(map_put(m, key, map_key(i, key, sizeof(key)),
			    V(i + 1)) == NULL);
		/* Delete every third key: tombstones are skipped. */
		for (i = 0; i < n; i += 3)
			CHECK(map_del(m, key, map_key(i, key, sizeof(key))) ==
			    V(i + 1));
		while (map_next(m, &pos, &k, &v)) {
			uintptr_t idx = (uintptr_t)v - 1;

			visits++;
			if (idx >= n) {
				CHECKF(false, "size %zu: bad value %zu", n,
				    (size_t)idx);
				continue;
			}
			CHECKF(idx % 3 != 0, "size %zu: deleted key %zu "
			    "visited", n, (size_t)idx);
			CHECKF(seen[idx] == 0, "size %zu: key %zu visited "
			    "twice", n, (size_t)idx);
			seen[idx] = 1;
			/* The key given is the key stored (up to a NUL). */
			map_key(idx, key, sizeof(key));
			CHECKF(strcmp(k, key) == 0, "size %zu: key %zu is "
			    "\"%s\"", n, (size_t)idx, k);
		}
		CHECK_EQ_INT(visits, map_count(m));
		CHECK_EQ_INT(visits, n - (n + 2) / 3);
		for (i = 0; i < n; i++)
			CHECKF(seen[i] == (i % 3 != 0), "size %zu: key %zu "
			    "seen %d", n, i, seen[i]);
		/* At the end it stays at the end. */
		CHECK_EQ_INT(map_next(m, &pos, &k, &v), 0);
		free(seen);
		map_free(&m, NULL);
	}
}

static size_t freed_sum;

static void
map_count_free(void *p)
{
	freed_sum += (uintptr_t)p;
}

/* map_free hands every live value (not deleted ones) to the callback. */
TEST(map_free_callback)
{
	struct map *m = map_new(), *none = NULL;
	size_t i, want = 0;
	char key[64];

	for (i = 1; i <= 100; i++)
		CHECK(map_put(m, key, map_key(i, key, sizeof(key)), V(i)) ==
		    NULL);
	for (i = 1; i <= 100; i++) {
		if (i % 4 == 0)
			CHECK(map_del(m, key, map_key(i, key, sizeof(key))) ==
			    V(i));
		else
			want += i;
	}
	freed_sum = 0;
	map_free(&m, map_count_free);
	CHECK_EQ_INT(freed_sum, want);
	CHECK(m == NULL);
	map_free(&none, map_count_free);	/* NULL is fine */
	map_free(&m, map_count_free);		/* and again */
	CHECK_EQ_INT(freed_sum, want);
}

/* Owned values: the map frees them with free(). */
TEST(map_free_owned_values)
{
	struct map *m = map_new();
	char key[64];
	size_t i;

	for (i = 0; i < 300; i++)
		CHECK(map_put(m, key, map_key(i, key, sizeof(key)),
		    xstrdup("value")) == NULL);
	free(map_put(m, key, map_key(0, key, sizeof(key)), xstrdup("new")));
	free(map_del(m, key, map_key(1, key, sizeof(key))));
	CHECK_EQ_STR(map_get(m, key, map_key(0, key, sizeof(key))), "new");
	map_free(&m, free);
}

/* Two maps hash with different keys but agree on contents. */
TEST(map_two_maps_independent)
{
	struct map *a = map_new(), *b = map_new();
	char key[64];
	size_t i, len;

	for (i = 0; i < 1000; i++) {
		len = map_key(i, key, sizeof(key));
		CHECK(map_put(a, key, len, V(i + 1)) == NULL);
		if (i % 2)
			CHECK(map_put(b, key, len, V(i + 7)) == NULL);
	}
	for (i = 0; i < 1000; i++) {
		len = map_key(i, key, sizeof(key));
		CHECK(map_get(a, key, len) == V(i + 1));
		CHECK(map_get(b, key, len) == (i % 2 ? V(i + 7) : NULL));
	}
	map_free(&a, NULL);
	map_free(&b, NULL);
}
