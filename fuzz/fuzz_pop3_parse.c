/*
 * fuzz_pop3_parse.c - libFuzzer harness for pop3_parse.c. The input is
 * taken, in turn, as a command line (pop3_parse_line, then its arguments
 * and numbers), as a message file sent by RETR or TOP (pop3_xfer, whole
 * and split at an input-chosen point), and as a Maildir file name
 * (unique-id, W= size, flags). Besides crashes, it aborts when a
 * documented guarantee fails: CRLF only at the end of a command, no bare
 * LF on the wire, the same output however the file is split, a
 * unique-id of 1 to 70 printable octets that flags do not change.
 */
#include "core/common.h"

#include "core/limits.h"
#include "pop3/pop3_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* s lies within [lo, lo + len). */
static void
within(struct str s, const char *lo, size_t len)
{
	if (s.len == 0)
		return;
	if (s.p < lo || s.p + s.len > lo + len)
		abort();
}

static void
check_line(const char *line, size_t size)
{
	struct str argv[4];
	struct pop3_cmd cmd;
	uint64_t n;
	size_t argc, i, j;

	if (pop3_parse_line(line, size, &cmd) != POP3_PARSE_OK)
		return;
	/* RFC 1939 3: CRLF at the end and nowhere else, no NUL. */
	if (size < 3 || line[size - 2] != '\r' || line[size - 1] != '\n')
		abort();
	for (i = 0; i + 2 < size; i++)
		if (line[i] == '\r' || line[i] == '\n' || line[i] == '\0')
			abort();
	if (cmd.name.p != line || cmd.name.len == 0)
		abort();
	within(cmd.args, line, size - 2);
	for (i = 0; i < cmd.name.len; i++)
		if (!ascii_isalpha(cmd.name.p[i]))
			abort();
	if (cmd.verb >= POP3_VERB_COUNT || (cmd.verb != POP3_VERB_UNKNOWN &&
	    !str_caseeq_cstr(cmd.name, pop3_verb_name(cmd.verb))))
		abort();
	if (pop3_parse_args(cmd.args, argv, ARRAY_LEN(argv), &argc) == -1) {
		if (argc != 0)
			abort();
		return;
	}
	for (i = 0; i < argc; i++) {
		within(argv[i], cmd.args.p, cmd.args.len);
		if (argv[i].len == 0)
			abort();
		for (j = 0; j < argv[i].len; j++)
			if (argv[i].p[j] == ' ')
				abort();
		if (pop3_parse_number(argv[i], UINT32_MAX, &n) == 0 &&
		    n > UINT32_MAX)
			abort();
	}
}

/* Converts in, split at cut; returns the output length. */
static size_t
xfer(const char *in, size_t len, uint64_t lines, size_t cut, char *out)
{
	struct pop3_xfer x;
	size_t o;

	pop3_xfer_init(&x, lines);
	o = pop3_xfer_chunk(&x, in, cut, out);
	o += pop3_xfer_chunk(&x, in + cut, len - cut, out + o);
	return o + pop3_xfer_end(&x, out + o);
}

static void
check_xfer(const char *in, size_t len, uint64_t lines, size_t cut)
{
	size_t room = POP3_XFER_OUT_MAX(len) + POP3_XFER_END_MAX, a, b, i;
	size_t lf_in = 0, lf_out = 0;
	char *one = xmalloc(room), *two = xmalloc(room);

	a = xfer(in, len, lines, len, one);
	b = xfer(in, len, lines, cut, two);
	if (a != b || memcmp(one, two, a) != 0 || a > room || a < 3 ||
	    memcmp(one + a - 3, ".\r\n", 3) != 0)
		abort();
	if (a > 3 && (a < 5 || one[a - 5] != '\r' || one[a - 4] != '\n'))
		abort();
	for (i = 0; i < a; i++) {
		if (one[i] != '\n')
			continue;
		lf_out++;
		if (i == 0 || one[i - 1] != '\r')
			abort();	/* a bare LF on the wire */
	}
	for (i = 0; i < len; i++)
		lf_in += in[i] == '\n';
	/* RETR: every line of the file, one more if the last had no LF. */
	if (lines == POP3_XFER_ALL && lf_out != lf_in + 1 +
	    (len > 0 && in[len - 1] != '\n'))
		abort();
	free(one);
	free(two);
}

static void
check_name(const char *data, size_t size)
{
	char uid[POP3_UID_MAX + 1], uid2[POP3_UID_MAX + 1];
	char name[300], cur[300], flagged[300];
	uint64_t v;
	size_t n, i;

	n = pop3_uid_from_name(data, size, uid);
	if (n < 1 || n > POP3_UID_MAX || strlen(uid) != n)
		abort();
	for (i = 0; i < n; i++)
		if ((unsigned char)uid[i] < 0x21 ||
		    (unsigned char)uid[i] > 0x7e)
			abort();
	(void)pop3_name_vsize(data, size, &v);
	if (size >= 200 || memchr(data, '\0', size) != NULL ||
	    memchr(data, ':', size) != NULL)
		return;
	memcpy(name, data, size);
	name[size] = '\0';
	/* new/ -> cur/ and a flag keep the unique-id. */
	if (pop3_name_for_cur(name, cur, sizeof(cur)) == -1 ||
	    pop3_name_add_flag(cur, 'S', flagged, sizeof(flagged)) != 1 ||
	    strcmp(flagged + strlen(flagged) - 4, ":2,S") != 0 ||
	    pop3_name_add_flag(flagged, 'S', cur, sizeof(cur)) != 0)
		abort();
	pop3_uid_from_name(flagged, strlen(flagged), uid2);
	if (strcmp(uid, uid2) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	uint64_t lines = POP3_XFER_ALL;
	size_t cut = 0;

	check_line(p, size);
	check_name(p, size);
	if (size >= 2) {
		/* Two octets choose the TOP limit and the split point. */
		if (data[0] < 0x80)
			lines = data[0] % 8;
		cut = data[1] % (size - 1);
		check_xfer(p + 2, size - 2, lines, MIN(cut, size - 2));
	}
	return 0;
}
