/*
 * smtp.h - the SMTP server session (RFC 5321), as seen from the server.
 */
#ifndef FACTEUR_SMTP_H
#define FACTEUR_SMTP_H

#include <sys/socket.h>

#include "config/config.h"

struct server;

/* Starts a session on an accepted socket (takes ownership of fd). */
void smtp_session_start(struct server *srv, int fd, enum listener_kind kind,
    const struct sockaddr *peer, socklen_t peerlen);

#endif
