/*
 * xmalloc.h - allocation that never returns NULL.
 *
 * Running out of memory is fatal: nothing useful can be done, and mail that
 * was acknowledged is already fsynced. This removes a whole class of error
 * paths from the rest of the code (as Postfix's mymalloc and OpenSMTPD's
 * xmalloc do). Sizes are checked for multiplication overflow.
 */
#ifndef FACTEUR_XMALLOC_H
#define FACTEUR_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t len);
/* Copies len bytes and appends a NUL; s may contain NULs. */
char *xmemdup0(const void *s, size_t len);

/* Frees *pp and sets it to NULL. */
#define XFREE(pp) do { free(*(pp)); *(pp) = NULL; } while (0)

#endif
