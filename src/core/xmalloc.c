/*
 * xmalloc.c - see xmalloc.h.
 */
#include "core/common.h"

#include <errno.h>

#include "core/log.h"

void *
xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (p == NULL)
		fatal("out of memory allocating %zu bytes", size);
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		fatal("out of memory allocating %zu*%zu bytes", n, size);
	return p;
}

void *
xreallocarray(void *p, size_t n, size_t size)
{
	void *q;

	if (size != 0 && n > SIZE_MAX / size)
		fatal("allocation size overflow: %zu*%zu", n, size);
	q = realloc(p, n * size != 0 ? n * size : 1);
	if (q == NULL)
		fatal("out of memory reallocating %zu bytes", n * size);
	return q;
}

char *
xstrdup(const char *s)
{
	return xmemdup0(s, strlen(s));
}

char *
xstrndup(const char *s, size_t len)
{
	return xmemdup0(s, strnlen(s, len));
}

char *
xmemdup0(const void *s, size_t len)
{
	char *p;

	if (len == SIZE_MAX)
		fatal("allocation size overflow");
	p = xmalloc(len + 1);
	if (len)
		memcpy(p, s, len);
	p[len] = '\0';
	return p;
}
