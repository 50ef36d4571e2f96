/*
 * config_parse.c - see config_parse.h.
 */
#include "core/common.h"

#include "config/config_parse.h"
#include "core/limits.h"

void
config_parser_init(struct config_parser *p, const char *data, size_t len)
{
	p->rest = str_make(data, len);
	p->section = STR_NULL;
	p->line = 0;
	p->on_section = NULL;
	p->arg = NULL;
}

static bool
config_key_char(char c)
{
	return ascii_isalnum(c) || c == '_' || c == '-' || c == '.';
}

/* Cuts an inline comment: ';' or '#' preceded by whitespace. */
static struct str
config_strip_comment(struct str v)
{
	size_t i;

	if (v.len && (v.p[0] == ';' || v.p[0] == '#'))
		return str_make(v.p, 0);	/* "key = ; note": empty */
	for (i = 1; i < v.len; i++)
		if ((v.p[i] == ';' || v.p[i] == '#') &&
		    (v.p[i - 1] == ' ' || v.p[i - 1] == '\t'))
			return str_trim(str_make(v.p, i));
	return v;
}

/* Takes one line off p->rest (without its LF or CRLF). */
static int
config_next_line(struct config_parser *p, struct str *line,
    const char **error_r)
{
	long nl = str_chr(p->rest, '\n');
	size_t len = nl < 0 ? p->rest.len : (size_t)nl;

	p->line++;
	*line = str_make(p->rest.p, len);
	p->rest = str_sub(p->rest, nl < 0 ? len : len + 1, p->rest.len);
	if (line->len && line->p[line->len - 1] == '\r')
		line->len--;
	if (line->len > CONFIG_LINE_MAX) {
		*error_r = "line too long";
		return -1;
	}
	if (str_chr(*line, '\0') >= 0) {
		*error_r = "NUL byte in line";
		return -1;
	}
	return 0;
}

static int
config_parse_section(struct config_parser *p, struct str line,
    const char **error_r)
{
	struct str name;
	size_t i;

	if (line.p[line.len - 1] != ']') {
		*error_r = "section header lacks its closing ']'";
		return -1;
	}
	name = str_trim(str_sub(line, 1, line.len - 2));
	if (name.len == 0) {
		*error_r = "empty section name";
		return -1;
	}
	for (i = 0; i < name.len; i++)
		if (!config_key_char(name.p[i])) {
			*error_r = "bad character in section name";
			return -1;
		}
	p->section = name;
	if (p->on_section)
		p->on_section(p->arg, name, p->line);
	return 0;
}

static int
config_parse_pair(struct config_parser *p, struct str line,
    struct config_item *item, const char **error_r)
{
	long eq = str_chr(line, '=');
	size_t i;

	if (eq < 0) {
		*error_r = "expected 'key = value' or '[section]'";
		return -1;
	}
	if (p->section.p == NULL) {
		*error_r = "key outside of any [section]";
		return -1;
	}
	item->key = str_trim(str_make(line.p, (size_t)eq));
	if (item->key.len == 0) {
		*error_r = "empty key";
		return -1;
	}
	for (i = 0; i < item->key.len; i++)
		if (!config_key_char(item->key.p[i])) {
			*error_r = "bad character in key";
			return -1;
		}
	item->value = config_strip_comment(
	    str_trim(str_sub(line, (size_t)eq + 1, line.len)));
	item->section = p->section;
	item->line = p->line;
	return 1;
}

int
config_parse_next(struct config_parser *p, struct config_item *item,
    const char **error_r)
{
	struct str line;

	while (p->rest.len > 0) {
		if (config_next_line(p, &line, error_r) == -1)
			return -1;
		line = str_trim(line);
		if (line.len == 0 || line.p[0] == ';' || line.p[0] == '#')
			continue;
		if (line.p[0] == '[') {
			if (config_parse_section(p, line, error_r) == -1)
				return -1;
			continue;
		}
		return config_parse_pair(p, line, item, error_r);
	}
	return 0;
}
