/*
 * pop3_stream.c - multi-line responses sent a piece at a time (RFC 1939
 * 3): RETR and TOP from the message file, LIST and UIDL from the list.
 *
 * A piece is written only while the connection holds less than
 * CONN_WRITE_LOW octets of output; then the stream waits for
 * CONN_EV_DRAINED. A RETR of a large message thus reads POP3_CHUNK octets
 * of the file at a time, converts them (pop3_xfer: CRLF, byte-stuffing)
 * and never holds the message in memory, and a slow client costs the
 * loop nothing while it waits. Input is paused meanwhile, so pipelined
 * commands (RFC 2449 6.6) run in order once the response is complete.
 */
#include "core/common.h"

#include <errno.h>
#include <unistd.h>

#include "core/log.h"
#include "net/conn.h"
#include "pop3/pop3_int.h"

/* Listing lines written per piece. */
#define POP3_LIST_BATCH 512

static void
pop3_stream_finish(struct pop3_session *s, bool complete)
{
	struct pop3_stream *st = &s->stream;

	if (complete && st->kind == POP3_STREAM_MSG && st->whole) {
		pop3_maildrop_seen(s->md, st->msg);
		s->retrieved++;
	}
	if (st->fd != -1)
		close(st->fd);
	free(st->in);
	free(st->out);
	memset(st, 0, sizeof(*st));
	st->fd = -1;
}

void
pop3_stream_abort(struct pop3_session *s)
{
	if (s->stream.kind != POP3_STREAM_NONE)
		pop3_stream_finish(s, false);
}

/* One chunk of the file: 1 done, 0 more to come, -1 read error. */
static int
pop3_stream_msg_step(struct pop3_session *s)
{
	struct pop3_stream *st = &s->stream;
	ssize_t n;
	size_t o;

	do
		n = read(st->fd, st->in, POP3_CHUNK);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return -1;
	if (n > 0) {
		o = pop3_xfer_chunk(&st->xfer, st->in, (size_t)n, st->out);
		conn_write(s->conn, st->out, o);
	}
	if (n > 0 && !st->xfer.done)
		return 0;
	o = pop3_xfer_end(&st->xfer, st->out);
	conn_write(s->conn, st->out, o);
	return 1;
}

/* RFC 1939 5: one "n size" or "n uid" line per message not deleted. */
static int
pop3_stream_list_step(struct pop3_session *s)
{
	struct pop3_stream *st = &s->stream;
	uint64_t count = pop3_maildrop_count(s->md);
	unsigned lines = 0;

	for (; lines < POP3_LIST_BATCH && st->next <= count; st->next++) {
		if (!pop3_maildrop_valid(s->md, st->next))
			continue;
		if (st->kind == POP3_STREAM_LIST)
			pop3_raw(s, "%llu %llu\r\n",
			    (unsigned long long)st->next, (unsigned long long)
			    pop3_maildrop_size(s->md, st->next));
		else
			pop3_raw(s, "%llu %s\r\n", (unsigned long long)st->next,
			    pop3_maildrop_uid(s->md, st->next));
		lines++;
	}
	if (st->next <= count)
		return 0;
	pop3_raw(s, ".\r\n");
	return 1;
}

void
pop3_stream_pump(struct pop3_session *s)
{
	struct pop3_stream *st = &s->stream;
	int r;

	while (st->kind != POP3_STREAM_NONE &&
	    conn_output_len(s->conn) < CONN_WRITE_LOW) {
		r = st->kind == POP3_STREAM_MSG ? pop3_stream_msg_step(s) :
		    pop3_stream_list_step(s);
		if (r == 0)
			continue;
		if (r == -1) {
			/* Too late for -ERR: no final ".", the client knows. */
			log_sess(LOG_LEVEL_ERR, s->id, "event=retr-error ip=%s "
			    "user=%s msg=%llu error=%s", s->client.ip,
			    log_qs(s->user), (unsigned long long)st->msg,
			    log_qs(strerror(errno)));
			pop3_stream_finish(s, false);
			pop3_close(s);
			return;
		}
		pop3_stream_finish(s, true);
		conn_resume(s->conn);
	}
}

static void
pop3_stream_begin(struct pop3_session *s)
{
	/* From now on the pump waits for CONN_EV_DRAINED. */
	conn_want_drain(s->conn);
	conn_pause(s->conn);
	pop3_stream_pump(s);
}

void
pop3_stream_msg(struct pop3_session *s, uint64_t n, int fd,
    uint64_t body_lines)
{
	struct pop3_stream *st = &s->stream;

	st->kind = POP3_STREAM_MSG;
	st->fd = fd;
	st->msg = n;
	st->whole = body_lines == POP3_XFER_ALL;
	pop3_xfer_init(&st->xfer, body_lines);
	st->in = xmalloc(POP3_CHUNK);
	st->out = xmalloc(POP3_XFER_OUT_MAX(POP3_CHUNK) + POP3_XFER_END_MAX);
	pop3_stream_begin(s);
}

void
pop3_stream_list(struct pop3_session *s, enum pop3_stream_kind kind)
{
	struct pop3_stream *st = &s->stream;

	st->kind = kind;
	st->next = 1;
	pop3_stream_begin(s);
}
