/*
 * config_parse.h - a pure INI tokenizer (no I/O, no allocation).
 *
 * Syntax: "[section]" lines, "key = value" lines, blank lines, comments
 * starting with ';' or '#' at the start of a line or after whitespace inside
 * a value ("a = b ; note"). Keys are [A-Za-z0-9_.-]+. Values are trimmed. A
 * line longer than CONFIG_LINE_MAX, a NUL byte, a key outside a section or
 * anything else is an error with its line number. Fuzzed by
 * fuzz/fuzz_config.c.
 */
#ifndef FACTEUR_CONFIG_PARSE_H
#define FACTEUR_CONFIG_PARSE_H

#include "core/str.h"

struct config_parser {
	struct str	 rest;		/* unparsed input */
	struct str	 section;	/* current section name */
	unsigned	 line;		/* number of the last line read */
	/* Optional: called for every section header, empty or not. */
	void		(*on_section)(void *arg, struct str name,
			    unsigned line);
	void		*arg;
};

struct config_item {
	struct str	 section;
	struct str	 key;
	struct str	 value;
	unsigned	 line;
};

void config_parser_init(struct config_parser *p, const char *data,
    size_t len);
/*
 * 1: *item filled; 0: end of input; -1: syntax error, *error_r is a static
 * string and p->line its line.
 */
int config_parse_next(struct config_parser *p, struct config_item *item,
    const char **error_r);

#endif
