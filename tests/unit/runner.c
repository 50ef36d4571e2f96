/*
 * runner.c - runs every registered unit test in a forked child with a
 * timeout and prints "N passed, N failed" last. Arguments filter tests by
 * substring of their name.
 */
#include "core/common.h"

#include <signal.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit/unit.h"

#define UNIT_MAX 1024
#define UNIT_TIMEOUT 60

struct unit_test {
	const char	*name;
	const char	*file;
	unit_fn		 fn;
};

static struct unit_test tests[UNIT_MAX];
static size_t ntests;
int unit_failures;

void
unit_register(const char *name, const char *file, unit_fn fn)
{
	if (ntests == UNIT_MAX)
		abort();
	tests[ntests++] = (struct unit_test){ name, file, fn };
}

void
unit_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "  %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	unit_failures++;
}

static bool
unit_selected(const struct unit_test *t, int argc, char **argv)
{
	int i;

	if (argc < 2)
		return true;
	for (i = 1; i < argc; i++)
		if (strstr(t->name, argv[i]) || strstr(t->file, argv[i]))
			return true;
	return false;
}

static bool
unit_run_one(const struct unit_test *t)
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		alarm(UNIT_TIMEOUT);
		t->fn();
		fflush(stderr);
		_exit(unit_failures ? 1 : 0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return false;
	if (WIFSIGNALED(status))
		fprintf(stderr, "  killed by signal %d%s\n", WTERMSIG(status),
		    WTERMSIG(status) == SIGALRM ? " (timeout)" : "");
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int
main(int argc, char **argv)
{
	size_t i, passed = 0, failed = 0;

	for (i = 0; i < ntests; i++) {
		if (!unit_selected(&tests[i], argc, argv))
			continue;
		if (unit_run_one(&tests[i])) {
			passed++;
			printf("ok   %s\n", tests[i].name);
		} else {
			failed++;
			printf("FAIL %s (%s)\n", tests[i].name, tests[i].file);
		}
	}
	printf("%zu passed, %zu failed\n", passed, failed);
	return failed ? 1 : 0;
}
