/*
 * common.h - included first by every facteur .c file.
 *
 * Feature macros, the standard headers nearly every file needs, a few
 * helpers small enough to be macros, and banned.h last.
 */
#ifndef FACTEUR_COMMON_H
#define FACTEUR_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "core/xmalloc.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define UNUSED __attribute__((unused))
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#define WARN_UNUSED __attribute__((warn_unused_result))
#define NORETURN __attribute__((noreturn))

/* Functions made static in production and visible to tests/unit/. */
#ifdef UNITTEST
#define STATIC_UNLESS_TEST
#else
#define STATIC_UNLESS_TEST static
#endif

#include "core/banned.h"

#endif
