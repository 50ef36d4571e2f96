/*
 * fuzz_config.c - libFuzzer harness for config_parse.c: the whole input as
 * a config file, config_parse_next() until the end, resuming after errors
 * as config_load() does. Aborts if an item breaks the documented syntax or
 * points outside the input, or if the parser stops making progress.
 */
#include "core/common.h"

#include "config/config_parse.h"
#include "core/limits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
within(struct str s, const char *lo, size_t len)
{
	if (s.len == 0)
		return;
	if (s.p < lo || s.p + s.len > lo + len)
		abort();
}

static void
check_name(struct str s)
{
	size_t i;

	if (s.len == 0)
		abort();
	for (i = 0; i < s.len; i++)
		if (!ascii_isalnum(s.p[i]) && s.p[i] != '_' && s.p[i] != '-' &&
		    s.p[i] != '.')
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct config_parser p;
	struct config_item it;
	const char *err;
	size_t calls = 0, lines = 1, i;
	unsigned last = 0;
	int r;

	for (i = 0; i < size; i++)
		if (in[i] == '\n')
			lines++;
	config_parser_init(&p, in, size);
	while ((r = config_parse_next(&p, &it, &err)) != 0) {
		if (++calls > lines)
			abort();		/* no progress */
		if (p.line < last || p.line > lines)
			abort();
		last = p.line;
		if (r == -1) {
			if (err == NULL || err[0] == '\0')
				abort();
			continue;
		}
		if (r != 1 || it.line != p.line)
			abort();
		within(it.section, in, size);
		within(it.key, in, size);
		within(it.value, in, size);
		check_name(it.section);
		check_name(it.key);
		if (it.value.len > CONFIG_LINE_MAX)
			abort();
		if (it.value.len > 0 &&
		    (it.value.p[0] == ' ' || it.value.p[0] == '\t' ||
		    it.value.p[it.value.len - 1] == ' ' ||
		    it.value.p[it.value.len - 1] == '\t'))
			abort();
		for (i = 0; i < it.value.len; i++)
			if (it.value.p[i] == '\n' || it.value.p[i] == '\0')
				abort();
	}
	if (p.rest.len != 0)
		abort();
	return 0;
}
