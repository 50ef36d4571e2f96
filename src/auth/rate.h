/*
 * rate.h - fixed-window counters: "at most N events per minute per key"
 * (connections per client, messages and recipients per authenticated
 * user). A window of one minute is coarse but cheap and enough to stop a
 * bot or a stolen account from spraying; memory is bounded by dropping
 * stale keys.
 */
#ifndef FACTEUR_RATE_H
#define FACTEUR_RATE_H

#include <stdbool.h>
#include <stdint.h>

struct rate_table;

struct rate_table *rate_new(unsigned window_seconds);
void rate_free(struct rate_table **t);
/*
 * Counts n events for key if that keeps it within limit in the current
 * window: true (counted) or false (over the limit, nothing counted).
 * limit 0 means no limit.
 */
bool rate_take(struct rate_table *t, const char *key, uint64_t n,
    uint64_t limit);

#endif
