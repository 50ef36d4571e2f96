/*
 * map.h - a string-keyed hash table (open addressing, linear probing).
 *
 * Keys are copied and owned by the map; values are opaque pointers the
 * caller owns (map_free can free them through a callback). Lookups take a
 * length so slices of a network line can be looked up without copying.
 * The hash is SipHash-like keyed at creation (random key) so a client
 * cannot choose keys that collide (e.g. per-IP counters).
 */
#ifndef FACTEUR_MAP_H
#define FACTEUR_MAP_H

#include <stddef.h>

struct map;

struct map *map_new(void);
void map_free(struct map **m, void (*free_value)(void *));
/* Sets key to value; returns the previous value or NULL. */
void *map_put(struct map *m, const char *key, size_t keylen, void *value);
void *map_get(const struct map *m, const char *key, size_t keylen);
/* Removes key; returns its value or NULL. */
void *map_del(struct map *m, const char *key, size_t keylen);
size_t map_count(const struct map *m);
/* Iteration: *pos starts at 0; returns 0 at the end. */
int map_next(const struct map *m, size_t *pos, const char **key_r,
    void **value_r);

#endif
