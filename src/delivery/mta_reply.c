/*
 * mta_reply.c - see mta_reply.h.
 */
#include "core/common.h"

#include "delivery/mta_reply.h"

void
mta_reply_init(struct mta_reply *r)
{
	memset(r, 0, sizeof(*r));
}

/* RFC 3463 2: class "." subject "." detail, with 1-3 digit parts. */
static size_t
mta_enh_len(struct str t)
{
	size_t i = 0, part, dots = 0;

	if (t.len < 5 || (t.p[0] != '2' && t.p[0] != '4' && t.p[0] != '5') ||
	    t.p[1] != '.')
		return 0;
	i = 2;
	for (dots = 1; dots <= 2; dots++) {
		for (part = 0; i < t.len && ascii_isdigit(t.p[i]); i++)
			part++;
		if (part == 0 || part > 3)
			return 0;
		if (dots == 1 && (i >= t.len || t.p[i++] != '.'))
			return 0;
	}
	return i == t.len || t.p[i] == ' ' ? i : 0;
}

static void
mta_reply_add_text(struct mta_reply *r, struct str t)
{
	size_t i;

	if (r->textlen && r->textlen + 1 < sizeof(r->text))
		r->text[r->textlen++] = '\n';
	for (i = 0; i < t.len && r->textlen + 1 < sizeof(r->text); i++)
		r->text[r->textlen++] = (unsigned char)t.p[i] < 0x20 ||
		    t.p[i] == 0x7f ? '?' : t.p[i];
	r->text[r->textlen] = '\0';
}

int
mta_reply_feed(struct mta_reply *r, struct str line)
{
	int code;
	bool last;
	struct str text;
	size_t n;

	if (line.len && line.p[line.len - 1] == '\n')
		line.len--;
	if (line.len && line.p[line.len - 1] == '\r')
		line.len--;
	if (line.len < 3 || !ascii_isdigit(line.p[0]) ||
	    !ascii_isdigit(line.p[1]) || !ascii_isdigit(line.p[2]) ||
	    line.p[0] < '2' || line.p[0] > '5' ||
	    (line.len > 3 && line.p[3] != ' ' && line.p[3] != '-'))
		return -1;
	code = (line.p[0] - '0') * 100 + (line.p[1] - '0') * 10 +
	    (line.p[2] - '0');
	if ((r->code && code != r->code) || ++r->lines > MTA_REPLY_LINES_MAX)
		return -1;
	r->code = code;
	last = line.len == 3 || line.p[3] == ' ';
	text = str_sub(line, 4, line.len);
	if (r->lines == 1 && (n = mta_enh_len(text)) > 0) {
		str_copy(r->enh, sizeof(r->enh), str_make(text.p, n));
		/* Enhanced codes must agree with the reply's class. */
		if (r->enh[0] != line.p[0])
			r->enh[0] = '\0';
	}
	mta_reply_add_text(r, text);
	return last ? 1 : 0;
}

unsigned
mta_reply_ehlo_ext(const struct mta_reply *r, unsigned long long *size_r)
{
	struct str rest = str_make(r->text, r->textlen), line, word;
	unsigned ext = 0;
	uint64_t v;
	bool first = true;

	*size_r = 0;
	while (rest.len) {
		long nl = str_chr(rest, '\n');

		line = str_make(rest.p, nl < 0 ? rest.len : (size_t)nl);
		rest = str_sub(rest, line.len + 1, rest.len);
		if (first) {		/* the greeting line: the host name */
			first = false;
			continue;
		}
		if (!str_take_word(&line, &word, 64))
			continue;
		if (str_caseeq_cstr(word, "PIPELINING"))
			ext |= MTA_EXT_PIPELINING;
		else if (str_caseeq_cstr(word, "8BITMIME"))
			ext |= MTA_EXT_8BITMIME;
		else if (str_caseeq_cstr(word, "SMTPUTF8"))
			ext |= MTA_EXT_SMTPUTF8;
		else if (str_caseeq_cstr(word, "STARTTLS"))
			ext |= MTA_EXT_STARTTLS;
		else if (str_caseeq_cstr(word, "ENHANCEDSTATUSCODES"))
			ext |= MTA_EXT_ENHANCED;
		else if (str_caseeq_cstr(word, "SIZE")) {
			ext |= MTA_EXT_SIZE;
			str_skip_ws(&line);
			if (str_to_u64(line, UINT64_MAX, &v) == 0)
				*size_r = v;
		} else if (str_caseeq_cstr(word, "AUTH")) {
			while (str_skip_ws(&line), str_take_word(&line, &word,
			    64))
				if (str_caseeq_cstr(word, "PLAIN"))
					ext |= MTA_EXT_AUTH_PLAIN;
		}
	}
	return ext;
}

void
mta_reply_summary(const struct mta_reply *r, char *out, size_t size)
{
	size_t i;

	snprintf(out, size, "%03d %s", r->code, r->text);
	for (i = 0; out[i]; i++)
		if (out[i] == '\n')
			out[i] = ' ';
}
