/*
 * unit.h - the unit-test framework: register with TEST(), assert with
 * CHECK()/CHECK_EQ_STR()/CHECK_EQ_INT(). Each test runs in its own forked
 * process with a timeout (tests/unit/runner.c), so a crash or hang fails
 * one test, not the run. Failures print "file:line: got X, want Y".
 */
#ifndef FACTEUR_UNIT_H
#define FACTEUR_UNIT_H

#include "core/common.h"

#include <sys/types.h>

typedef void (*unit_fn)(void);
void unit_register(const char *name, const char *file, unit_fn fn);
void unit_fail(const char *file, int line, const char *fmt, ...)
    PRINTF_LIKE(3, 4);
extern int unit_failures;

/* unit_fs.c: a mkdtemp() data_dir with queue/tmp/ in it (tmpl filled). */
void unit_queue_dir(char *tmpl);
void unit_rm_rf(const char *dir);
/* pwrite()s len bytes of p at off into the existing file path. */
void unit_put_at(const char *path, off_t off, const void *p, size_t len);

#define TEST(name)							\
	static void test_##name(void);					\
	__attribute__((constructor)) static void reg_##name(void)	\
	{ unit_register(#name, __FILE__, test_##name); }		\
	static void test_##name(void)

#define CHECK(cond) do {						\
	if (!(cond))							\
		unit_fail(__FILE__, __LINE__, "check failed: %s", #cond); \
} while (0)

#define CHECKF(cond, ...) do {						\
	if (!(cond))							\
		unit_fail(__FILE__, __LINE__, __VA_ARGS__);		\
} while (0)

#define CHECK_EQ_INT(got, want) do {					\
	long long g_ = (long long)(got), w_ = (long long)(want);	\
	if (g_ != w_)							\
		unit_fail(__FILE__, __LINE__, "%s: got %lld, want %lld", \
		    #got, g_, w_);					\
} while (0)

#define CHECK_EQ_STR(got, want) do {					\
	const char *g_ = (got), *w_ = (want);				\
	if (g_ == NULL || w_ == NULL ? g_ != w_ : strcmp(g_, w_) != 0)	\
		unit_fail(__FILE__, __LINE__, "%s: got \"%s\", want \"%s\"", \
		    #got, g_ ? g_ : "(null)", w_ ? w_ : "(null)");	\
} while (0)

#define CHECK_EQ_MEM(gp, gl, wp, wl) do {				\
	size_t gl_ = (gl), wl_ = (wl);					\
	if (gl_ != wl_ || memcmp((gp), (wp), gl_) != 0)			\
		unit_fail(__FILE__, __LINE__, "%s: got \"%.*s\" (%zu), " \
		    "want \"%.*s\" (%zu)", #gp, (int)gl_, (const char *)(gp), \
		    gl_, (int)wl_, (const char *)(wp), wl_);		\
} while (0)

#endif
