/*
 * conn.h - one client connection: buffered, capped, timed I/O.
 *
 * This wraps a libevent bufferevent, so that session code never calls
 * libevent itself (as ioev.h does for OpenSMTPD). It offers:
 *  - line reading with a hard cap checked before the line end is found: a
 *    longer line is discarded up to its LF and reported once, so a client
 *    cannot make us buffer without limit (RFC 5321 4.5.3.1.4);
 *  - raw reading (DATA, BDAT) by peeking at contiguous input chunks;
 *  - pausing input while a command waits for slow work (fsync), and
 *    resuming with a deferred kick so buffered input is processed again;
 *  - pausing it too while replies pile up unread (conn_write_blocked);
 *  - a read timeout (the peer silent) and a write timeout (output that
 *    does not move), reported as CONN_EV_TIMEOUT;
 *  - conn_shutdown(): stop reading, flush what is written, then close and
 *    report CONN_EV_CLOSED exactly once (the owner frees itself then);
 *  - TLS: a server-side handshake on an existing connection (STARTTLS) or
 *    from the first byte (implicit TLS), see tls/tls.h.
 */
#ifndef FACTEUR_CONN_H
#define FACTEUR_CONN_H

#include <stdarg.h>
#include <stddef.h>
#include <sys/socket.h>

#include "core/str.h"

struct event_base;
struct conn;
typedef struct ssl_ctx_st SSL_CTX;

enum conn_event {
	CONN_EV_READ,		/* input is available (or a resume kick) */
	CONN_EV_EOF,		/* the client closed its side */
	CONN_EV_TIMEOUT,	/* read or write timeout, see conn_set_timeouts */
	CONN_EV_ERROR,		/* socket or TLS error */
	CONN_EV_TLS_READY,	/* handshake done */
	CONN_EV_CLOSED,		/* after conn_shutdown(): gone, free owner */
	CONN_EV_CONNECTED,	/* conn_connect(): the socket is connected */
	CONN_EV_DRAINED,	/* output fell below CONN_WRITE_LOW */
};

/* Output buffered before a writer should wait for CONN_EV_DRAINED. */
#define CONN_WRITE_LOW (64 * 1024)

typedef void (*conn_cb)(void *arg, enum conn_event ev);

/* Takes ownership of fd. */
struct conn *conn_new(struct event_base *base, int fd, conn_cb cb,
    void *arg);
/* Connects to sa (non-blocking); CONN_EV_CONNECTED or CONN_EV_ERROR. */
struct conn *conn_connect(struct event_base *base, const struct sockaddr *sa,
    socklen_t salen, conn_cb cb, void *arg);
/* Closes at once, without flushing and without CONN_EV_CLOSED. */
void conn_free(struct conn **c);

/* The same limit for reading and for writing (0: none). */
void conn_set_timeout(struct conn *c, unsigned seconds);
/*
 * rd: seconds of silence from the peer, counted from the last input or
 * from the moment our output last emptied, whichever is later (the
 * wait for an answer starts when the request has left); wr: seconds a
 * write may go without progress, counted only while output waits. 0:
 * none. Under TLS they apply to the TLS stream: a handshake gets rd (a
 * peer that never begins it is cut then), and TLS records that carry
 * no data do not count as input.
 */
void conn_set_timeouts(struct conn *c, unsigned rd, unsigned wr);

/*
 * 1: *line holds one line with its LF, valid until the next read call;
 * 0: no complete line yet; -1: the line passed max and was discarded.
 */
int conn_read_line(struct conn *c, size_t max, struct str *line);
/* Copies up to n bytes of pending input without consuming them. */
size_t conn_copyout(struct conn *c, char *dst, size_t n);
/* Zeroes the last line read (it held a secret). */
void conn_wipe_line(struct conn *c);
/* The first contiguous chunk of input (0 if none). */
size_t conn_peek(struct conn *c, const char **p);
void conn_drain(struct conn *c, size_t n);
size_t conn_input_len(struct conn *c);
/* Drops every byte received and not yet read (RFC 3207 4). */
void conn_discard_input(struct conn *c);

void conn_write(struct conn *c, const void *p, size_t len);
void conn_printf(struct conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
size_t conn_output_len(struct conn *c);
/*
 * Reports CONN_EV_DRAINED on a server connection too, for a writer that
 * streams (POP3 RETR): write while conn_output_len() < CONN_WRITE_LOW,
 * then wait. (Under TLS, what the TLS layer queues below is capped too,
 * so the whole stream never piles up there.)
 */
void conn_want_drain(struct conn *c);
/*
 * True while CONN_WRITE_LOW octets of output wait for the client: a
 * command loop stops there, and input is no longer read, until the
 * client has read them; then CONN_EV_READ comes again. A client that
 * sends commands without reading their replies would otherwise make
 * us queue replies without limit (HELP: 20 octets out per octet in).
 */
bool conn_write_blocked(struct conn *c);

void conn_pause(struct conn *c);
void conn_resume(struct conn *c);
bool conn_paused(const struct conn *c);
/*
 * See above; while a TLS handshake has not finished, CONN_EV_CLOSED
 * comes on the next turn, without a flush: nothing can leave before it.
 */
void conn_shutdown(struct conn *c);

/*
 * Starts a server-side TLS handshake; CONN_EV_TLS_READY or _ERROR, never
 * from inside the call. Input not yet read is dropped first: it came in
 * plaintext after the STARTTLS exchange (RFC 3207 4). -1 (nothing
 * changed) when no SSL can be made.
 */
int conn_start_tls(struct conn *c, SSL_CTX *ctx);
/*
 * Starts a client-side handshake as conn_start_tls() does, with SNI and
 * host name checking armed; the handshake does not fail on a bad
 * certificate (opportunistic TLS, RFC 7435): conn_tls_verified() tells
 * afterwards.
 */
int conn_start_tls_client(struct conn *c, SSL_CTX *ctx, const char *host);
bool conn_tls_verified(const struct conn *c);
bool conn_is_tls(const struct conn *c);
/* "TLSv1.3" and "TLS_AES_256_GCM_SHA384", or NULL when not TLS. */
const char *conn_tls_version(const struct conn *c);
const char *conn_tls_cipher(const struct conn *c);

#endif
