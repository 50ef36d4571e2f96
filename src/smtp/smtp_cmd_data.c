/*
 * smtp_cmd_data.c - DATA (RFC 5321 4.1.1.4) and BDAT (RFC 3030), and the
 * two input modes that read the message content.
 *
 * Content is always read to its end, even when the message will be
 * refused (too big, bad line endings): the bytes of a refused message are
 * never taken as commands.
 */
#include "core/common.h"

#include "core/log.h"
#include "net/conn.h"
#include "queue/spool.h"
#include "smtp/smtp_int.h"

#define SMTP_DATA_CHUNK 65536

/* Scratch space for unstuffed output; the loop is single-threaded. */
static char smtp_data_out[SMTP_DATA_CHUNK + 2];

static bool
smtp_check_content_start(struct smtp_session *s, const char *verb)
{
	if (s->state < SMTP_STATE_MAIL) {
		smtp_refuse(s, "bad-sequence", 503, "5.5.1",
		    "Error: need MAIL command");
		return false;
	}
	if (s->state < SMTP_STATE_RCPT || s->tx.nrcpts == 0) {
		/* RFC 5321 3.3: no valid recipients. */
		smtp_refuse(s, "bad-sequence", 554, "5.5.1",
		    "Error: no valid recipients");
		return false;
	}
	if (s->tx.started && strcmp(verb, "DATA") == 0) {
		/* RFC 3030 2: DATA may not follow BDAT. */
		smtp_refuse(s, "bad-sequence", 503, "5.5.1",
		    "Error: DATA after BDAT");
		return false;
	}
	return true;
}

void
smtp_cmd_data(struct smtp_session *s, struct str args)
{
	if (args.len) {
		smtp_refuse(s, "bad-syntax", 501, "5.5.4", "Syntax: DATA");
		return;
	}
	if (!smtp_check_content_start(s, "DATA"))
		return;
	if (smtp_tx_begin_content(s) == -1) {
		smtp_refuse(s, "io-error", 451, "4.3.0",
		    "Error: cannot store the message now");
		smtp_tx_reset(s);
		s->state = SMTP_STATE_HELO;
		return;
	}
	smtp_data_init(&s->tx.data, SMTP_DATA_MODE_DATA);
	s->input = SMTP_INPUT_DATA;
	smtp_reply(s, 354, NULL, "End data with <CR><LF>.<CR><LF>");
}

/* Feeds one chunk of input to the DATA machine. */
void
smtp_data_input(struct smtp_session *s)
{
	const char *p;
	size_t n, used, out;

	n = conn_peek(s->conn, &p);
	n = MIN(n, (size_t)SMTP_DATA_CHUNK);
	used = smtp_data_feed(&s->tx.data, p, n, smtp_data_out, &out);
	smtp_tx_write(s, smtp_data_out, out);
	conn_drain(s->conn, used);
	if (s->tx.data.done)
		smtp_tx_finish(s);
}

/* RFC 3030 2: "BDAT" SP chunk-size [ SP end-marker ]. */
static int
smtp_parse_bdat(struct str args, uint64_t *size, bool *last)
{
	struct str word;

	if (!str_take_word(&args, &word, 20) ||
	    str_to_u64(word, UINT64_MAX / 2, size) == -1)
		return -1;
	*last = false;
	str_skip_ws(&args);
	if (args.len == 0)
		return 0;
	if (!str_take_word(&args, &word, 4) || !str_caseeq_cstr(word, "LAST"))
		return -1;
	*last = true;
	str_skip_ws(&args);
	return args.len == 0 ? 0 : -1;
}

void
smtp_cmd_bdat(struct smtp_session *s, struct str args)
{
	uint64_t size;
	bool last, ok;

	if (smtp_parse_bdat(args, &size, &last) == -1) {
		/* Without a size we cannot find the next command: hang up. */
		smtp_refuse(s, "bad-syntax", 501, "5.5.4",
		    "Syntax: BDAT size [LAST]");
		smtp_close(s);
		return;
	}
	if (!s->esmtp) {
		/* CHUNKING is an extension: only offered after EHLO. */
		smtp_refuse(s, "bad-sequence", 503, "5.5.1",
		    "Error: send EHLO first");
		ok = false;
	} else {
		ok = smtp_check_content_start(s, "BDAT");
	}
	if (ok && !s->tx.started) {
		smtp_tx_begin_content(s);	/* an error shows at the end */
		smtp_data_init(&s->tx.data, SMTP_DATA_MODE_BDAT);
	}
	/* A refused chunk is still read (RFC 3030 2); bdat_failed marks it. */
	s->tx.bdat_failed = !ok;
	s->tx.bdat_left = size;
	s->tx.bdat_last = last;
	s->input = SMTP_INPUT_BDAT;
}

static void
smtp_bdat_chunk_done(struct smtp_session *s)
{
	size_t n;

	s->input = SMTP_INPUT_LINE;
	if (s->tx.bdat_failed) {
		/* The refusal was sent already, when the command was seen. */
		return;
	}
	if (s->tx.bdat_last) {
		n = smtp_data_finish(&s->tx.data, smtp_data_out);
		smtp_tx_write(s, smtp_data_out, n);
		smtp_tx_finish(s);
		return;
	}
	if (s->tx.too_big) {
		smtp_tx_finish(s);	/* refuses with 552, resets */
		return;
	}
	smtp_reply(s, 250, "2.0.0", "Ok: %llu octets received",
	    (unsigned long long)s->tx.size);
}

/* Reads the octets of the current BDAT chunk. */
void
smtp_bdat_input(struct smtp_session *s)
{
	const char *p;
	size_t n, out;

	if (s->tx.bdat_left > 0) {
		n = conn_peek(s->conn, &p);
		n = (size_t)MIN((uint64_t)MIN(n, (size_t)SMTP_DATA_CHUNK),
		    s->tx.bdat_left);
		if (!s->tx.bdat_failed) {
			smtp_data_feed(&s->tx.data, p, n, smtp_data_out, &out);
			smtp_tx_write(s, smtp_data_out, out);
		}
		conn_drain(s->conn, n);
		s->tx.bdat_left -= n;
	}
	if (s->tx.bdat_left == 0)
		smtp_bdat_chunk_done(s);
}
