/*
 * pop3_cmd_msg.c - the TRANSACTION commands on messages (RFC 1939 5 and
 * 7): STAT, LIST, UIDL, RETR, TOP, DELE.
 *
 * Message numbers and sizes are the maildrop's, fixed for the session; a
 * message marked deleted is "no such message" to every command but DELE,
 * which says it is already deleted (RFC 1939 5).
 */
#include "core/common.h"

#include <errno.h>

#include "core/log.h"
#include "pop3/pop3_int.h"

/* Splits args into min..max words; responds on failure. */
static bool
pop3_args(struct pop3_session *s, struct str args, struct str *argv,
    size_t min, size_t max, size_t *argc_r, const char *syntax)
{
	if (pop3_parse_args(args, argv, max, argc_r) == 0 && *argc_r >= min)
		return true;
	pop3_refuse(s, "bad-syntax", NULL, "Syntax: %s", syntax);
	return false;
}

/* A message-number argument naming a message not deleted. */
static bool
pop3_msg_arg(struct pop3_session *s, struct str arg, uint64_t *n_r)
{
	if (pop3_parse_number(arg, UINT32_MAX, n_r) == -1) {
		pop3_refuse(s, "bad-syntax", NULL, "Invalid message number");
		return false;
	}
	if (!pop3_maildrop_valid(s->md, *n_r)) {
		pop3_refuse(s, "no-such-message", NULL, "No such message");
		return false;
	}
	return true;
}

/* DELE's argument: a deleted message is said to be one (RFC 1939 5). */
static bool
pop3_dele_arg(struct pop3_session *s, struct str arg, uint64_t *n_r)
{
	if (pop3_parse_number(arg, UINT32_MAX, n_r) == 0 &&
	    pop3_maildrop_deleted(s->md, *n_r)) {
		pop3_refuse(s, "no-such-message", NULL, "Message %llu already "
		    "deleted", (unsigned long long)*n_r);
		return false;
	}
	return pop3_msg_arg(s, arg, n_r);
}

void
pop3_cmd_stat(struct pop3_session *s, struct str args)
{
	struct str argv[1];
	uint64_t octets;
	size_t argc, count;

	if (!pop3_args(s, args, argv, 0, 0, &argc, "STAT"))
		return;
	pop3_maildrop_stat(s->md, &count, &octets);
	/* RFC 1939 5: "+OK nn mm", nothing else on the line. */
	pop3_ok(s, "%zu %llu", count, (unsigned long long)octets);
}

/* LIST and UIDL: one message, or all of them in a multi-line response. */
static void
pop3_listing(struct pop3_session *s, struct str args,
    enum pop3_stream_kind kind, const char *syntax)
{
	struct str argv[1];
	uint64_t n, octets;
	size_t argc, count;

	if (!pop3_args(s, args, argv, 0, 1, &argc, syntax))
		return;
	if (argc == 1) {
		if (!pop3_msg_arg(s, argv[0], &n))
			return;
		if (kind == POP3_STREAM_LIST)
			pop3_ok(s, "%llu %llu", (unsigned long long)n,
			    (unsigned long long)pop3_maildrop_size(s->md, n));
		else
			pop3_ok(s, "%llu %s", (unsigned long long)n,
			    pop3_maildrop_uid(s->md, n));
		return;
	}
	pop3_maildrop_stat(s->md, &count, &octets);
	if (kind == POP3_STREAM_LIST)
		pop3_ok(s, "%zu messages (%llu octets)", count,
		    (unsigned long long)octets);
	else
		pop3_ok(s, "Unique-ids follow");
	pop3_stream_list(s, kind);
}

void
pop3_cmd_list(struct pop3_session *s, struct str args)
{
	pop3_listing(s, args, POP3_STREAM_LIST, "LIST [msg]");
}

/* RFC 1939 7: the unique-id is the Maildir unique name (pop3_parse.h). */
void
pop3_cmd_uidl(struct pop3_session *s, struct str args)
{
	pop3_listing(s, args, POP3_STREAM_UIDL, "UIDL [msg]");
}

/* Opens message n; responds on failure. */
static int
pop3_open_msg(struct pop3_session *s, uint64_t n)
{
	int fd = pop3_maildrop_open_msg(s->md, n);

	if (fd != -1)
		return fd;
	log_sess(LOG_LEVEL_ERR, s->id, "event=maildrop-error ip=%s user=%s "
	    "msg=%llu error=%s", s->client.ip, log_qs(s->user),
	    (unsigned long long)n, log_qs(strerror(errno)));
	pop3_err(s, "SYS/TEMP", "Cannot read message %llu",
	    (unsigned long long)n);
	return -1;
}

void
pop3_cmd_retr(struct pop3_session *s, struct str args)
{
	struct str argv[1];
	size_t argc;
	uint64_t n;
	int fd;

	if (!pop3_args(s, args, argv, 1, 1, &argc, "RETR msg") ||
	    !pop3_msg_arg(s, argv[0], &n) || (fd = pop3_open_msg(s, n)) == -1)
		return;
	log_sess(LOG_LEVEL_INFO, s->id, "event=retr ip=%s user=%s msg=%llu "
	    "uid=%s size=%llu", s->client.ip, log_qs(s->user),
	    (unsigned long long)n, log_qs(pop3_maildrop_uid(s->md, n)),
	    (unsigned long long)pop3_maildrop_size(s->md, n));
	pop3_ok(s, "%llu octets", (unsigned long long)pop3_maildrop_size(s->md,
	    n));
	pop3_stream_msg(s, n, fd, POP3_XFER_ALL);
}

/* RFC 1939 7: the headers, the empty line, then n lines of the body. */
void
pop3_cmd_top(struct pop3_session *s, struct str args)
{
	struct str argv[2];
	size_t argc;
	uint64_t n, lines;
	int fd;

	if (!pop3_args(s, args, argv, 2, 2, &argc, "TOP msg lines") ||
	    !pop3_msg_arg(s, argv[0], &n))
		return;
	if (pop3_parse_number(argv[1], POP3_XFER_ALL - 1, &lines) == -1) {
		pop3_refuse(s, "bad-syntax", NULL, "Invalid number of lines");
		return;
	}
	if ((fd = pop3_open_msg(s, n)) == -1)
		return;
	pop3_ok(s, "Top of message follows");
	pop3_stream_msg(s, n, fd, lines);
}

void
pop3_cmd_dele(struct pop3_session *s, struct str args)
{
	struct str argv[1];
	size_t argc;
	uint64_t n;

	if (!pop3_args(s, args, argv, 1, 1, &argc, "DELE msg") ||
	    !pop3_dele_arg(s, argv[0], &n))
		return;
	/* RFC 1939 5: only marked; the UPDATE state removes it. */
	pop3_maildrop_dele(s->md, n);
	log_sess(LOG_LEVEL_INFO, s->id, "event=dele ip=%s user=%s msg=%llu "
	    "uid=%s", s->client.ip, log_qs(s->user), (unsigned long long)n,
	    log_qs(pop3_maildrop_uid(s->md, n)));
	pop3_ok(s, "Message %llu deleted", (unsigned long long)n);
}
