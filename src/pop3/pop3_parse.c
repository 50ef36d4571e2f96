/*
 * pop3_parse.c - see pop3_parse.h.
 */
#include "core/common.h"

#include "pop3/pop3_parse.h"

static const char *const pop3_verbs[POP3_VERB_COUNT] = {
	[POP3_VERB_UNKNOWN] = "",
	[POP3_VERB_USER] = "USER",
	[POP3_VERB_PASS] = "PASS",
	[POP3_VERB_QUIT] = "QUIT",
	[POP3_VERB_STAT] = "STAT",
	[POP3_VERB_LIST] = "LIST",
	[POP3_VERB_RETR] = "RETR",
	[POP3_VERB_DELE] = "DELE",
	[POP3_VERB_NOOP] = "NOOP",
	[POP3_VERB_RSET] = "RSET",
	[POP3_VERB_TOP] = "TOP",
	[POP3_VERB_UIDL] = "UIDL",
	[POP3_VERB_CAPA] = "CAPA",
	[POP3_VERB_STLS] = "STLS",
	[POP3_VERB_AUTH] = "AUTH",
};

const char *
pop3_verb_name(enum pop3_verb verb)
{
	return verb < POP3_VERB_COUNT ? pop3_verbs[verb] : "";
}

/* RFC 1939 3: commands end in CRLF; a bare CR or LF is not a line end. */
static enum pop3_parse_err
pop3_check_line_end(const char *line, size_t *len)
{
	size_t n = *len, i;

	if (n == 0 || line[n - 1] != '\n')
		return POP3_PARSE_ERR_BARE_CR;	/* caller passes whole lines */
	if (n < 2 || line[n - 2] != '\r')
		return POP3_PARSE_ERR_BARE_LF;
	n -= 2;
	for (i = 0; i < n; i++) {
		if (line[i] == '\0')
			return POP3_PARSE_ERR_NUL;
		if (line[i] == '\r')
			return POP3_PARSE_ERR_BARE_CR;
		if (line[i] == '\n')
			return POP3_PARSE_ERR_BARE_LF;
	}
	*len = n;
	return POP3_PARSE_OK;
}

enum pop3_parse_err
pop3_parse_line(const char *line, size_t len, struct pop3_cmd *cmd)
{
	enum pop3_parse_err err;
	struct str cur;
	size_t i, v;

	memset(cmd, 0, sizeof(*cmd));
	if ((err = pop3_check_line_end(line, &len)) != POP3_PARSE_OK)
		return err;
	if (len == 0)
		return POP3_PARSE_ERR_EMPTY;
	cur = str_make(line, len);
	/* RFC 1939 3: a case-insensitive keyword, then a single space. */
	for (i = 0; i < cur.len && cur.p[i] != ' '; i++)
		if (!ascii_isalpha(cur.p[i]))
			return POP3_PARSE_ERR_SYNTAX;
	if (i == 0)
		return POP3_PARSE_ERR_SYNTAX;
	cmd->name = str_make(cur.p, i);
	cmd->args = str_sub(cur, i < cur.len ? i + 1 : i, cur.len);
	cmd->verb = POP3_VERB_UNKNOWN;
	for (v = 1; v < POP3_VERB_COUNT; v++)
		if (str_caseeq_cstr(cmd->name, pop3_verbs[v]))
			cmd->verb = (enum pop3_verb)v;
	return POP3_PARSE_OK;
}

int
pop3_parse_args(struct str args, struct str *argv, size_t max,
    size_t *argc_r)
{
	size_t n = 0, i;

	*argc_r = 0;
	for (;;) {
		while (args.len && args.p[0] == ' ')
			args = str_sub(args, 1, args.len);
		if (args.len == 0)
			break;
		if (n == max)
			return -1;
		for (i = 0; i < args.len && args.p[i] != ' '; i++)
			continue;
		argv[n++] = str_make(args.p, i);
		args = str_sub(args, i, args.len);
	}
	*argc_r = n;
	return 0;
}

int
pop3_parse_number(struct str s, uint64_t max, uint64_t *out)
{
	return str_to_u64(s, max, out);
}

void
pop3_xfer_init(struct pop3_xfer *x, uint64_t body_lines)
{
	memset(x, 0, sizeof(*x));
	x->lines_left = body_lines;
	x->bol = true;
	/* "TOP msg 0": the headers and the empty line, nothing more. */
}

/* A line ended: count it for TOP (RFC 1939 7). */
static void
pop3_xfer_eol(struct pop3_xfer *x)
{
	if (x->body) {
		if (x->lines_left != POP3_XFER_ALL && --x->lines_left == 0)
			x->done = true;
	} else if (x->line_len == 0) {
		/* The empty line after the headers. */
		x->body = true;
		if (x->lines_left == 0)
			x->done = true;
	}
	x->bol = true;
	x->line_len = 0;
}

size_t
pop3_xfer_chunk(struct pop3_xfer *x, const char *in, size_t len, char *out)
{
	size_t i, o = 0;

	for (i = 0; i < len && !x->done; i++) {
		char c = in[i];

		/* RFC 1939 3: byte-stuff a line that starts with '.'. */
		if (x->bol && c == '.')
			out[o++] = '.';
		if (c == '\n') {
			out[o++] = '\r';
			out[o++] = '\n';
			pop3_xfer_eol(x);
			continue;
		}
		out[o++] = c;
		x->bol = false;
		x->line_len++;
	}
	return o;
}

size_t
pop3_xfer_end(struct pop3_xfer *x, char *out)
{
	size_t o = 0;

	if (!x->bol) {
		/* The file did not end with a line end: the wire needs one. */
		out[o++] = '\r';
		out[o++] = '\n';
		x->bol = true;
	}
	memcpy(out + o, ".\r\n", 3);
	return o + 3;
}

uint64_t
pop3_crlf_size(const char *in, size_t len)
{
	uint64_t n = len;
	size_t i;

	for (i = 0; i < len; i++)
		n += in[i] == '\n';
	return n;
}

/* The unique part of a Maildir name: up to the first ',' or ':'. */
static size_t
pop3_name_base(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < len && name[i] != ',' && name[i] != ':'; i++)
		continue;
	return i;
}

static bool
pop3_uid_char(char c)
{
	return (unsigned char)c >= 0x21 && (unsigned char)c <= 0x7e;
}

/* FNV-1a, 64 bits: only a tie-breaker for odd names, not a defence. */
static uint64_t
pop3_hash(const char *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

size_t
pop3_uid_from_name(const char *name, size_t len, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t base = pop3_name_base(name, len), keep, i;
	uint64_t h;

	for (i = 0; i < base && pop3_uid_char(name[i]); i++)
		continue;
	if (base > 0 && i == base && base <= POP3_UID_MAX) {
		memcpy(out, name, base);
		out[base] = '\0';
		return base;
	}
	/* Too long or unprintable: a readable prefix and a hash of it all. */
	if (base == 0)
		for (base = 0; base < len && name[base] != ':'; base++)
			continue;
	keep = MIN(i, (size_t)POP3_UID_MAX - 17);
	memcpy(out, name, keep);
	out[keep++] = '-';
	h = pop3_hash(name, base);
	for (i = 0; i < 16; i++)
		out[keep++] = hex[(h >> (60 - 4 * i)) & 15];
	out[keep] = '\0';
	return keep;
}

int
pop3_name_vsize(const char *name, size_t len, uint64_t *vsize_r)
{
	size_t i, j;

	for (i = 0; i < len && name[i] != ':'; i++) {
		if (name[i] != ',' || i + 3 > len || name[i + 1] != 'W' ||
		    name[i + 2] != '=')
			continue;
		for (j = i + 3; j < len && name[j] != ',' && name[j] != ':';
		    j++)
			continue;
		return str_to_u64(str_make(name + i + 3, j - i - 3),
		    UINT64_MAX / 2, vsize_r);
	}
	return -1;
}

int
pop3_name_for_cur(const char *name, char *out, size_t size)
{
	int n;

	if (strchr(name, ':') != NULL)
		n = snprintf(out, size, "%s", name);
	else
		n = snprintf(out, size, "%s:2,", name);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

int
pop3_name_add_flag(const char *name, char flag, char *out, size_t size)
{
	const char *info = strstr(name, ":2,");
	size_t len = strlen(name), at;

	if (len >= size)
		return -1;
	memcpy(out, name, len + 1);
	if (info == NULL && strchr(name, ':') == NULL) {
		/* A name in cur/ without an info part yet. */
		if (len + 5 > size)
			return -1;
		memcpy(out + len, ":2,", 3);
		out[len + 3] = flag;
		out[len + 4] = '\0';
		return 1;
	}
	if (info == NULL || strchr(info + 3, flag) != NULL)
		return 0;
	if (len + 2 > size)
		return -1;
	/* Maildir flags are kept in ASCII order. */
	for (at = (size_t)(info - name) + 3; at < len && name[at] < flag; at++)
		continue;
	memmove(out + at + 1, out + at, len - at + 1);
	out[at] = flag;
	return 1;
}
