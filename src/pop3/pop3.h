/*
 * pop3.h - the POP3 server session (RFC 1939), as seen from the server:
 * the pop3 listener (STLS, RFC 2595) and the pop3s listener (implicit TLS,
 * RFC 8314 3) both start one per accepted connection.
 */
#ifndef FACTEUR_POP3_H
#define FACTEUR_POP3_H

#include <sys/socket.h>

#include "config/config.h"

struct server;

/* Starts a session on an accepted socket (takes ownership of fd). */
void pop3_session_start(struct server *srv, int fd, enum listener_kind kind,
    const struct sockaddr *peer, socklen_t peerlen);

#endif
