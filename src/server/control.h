/*
 * control.h - the control socket: how `facteur queue flush`, `queue
 * delete` (and later `ban ...`) talk to the running server.
 *
 * A Unix socket at data_dir/control.sock, mode 0600 in a 0700 directory:
 * only facteur's own user (and root) can reach it. One request per
 * connection: a single line "verb [args]", answered by lines ending with
 * "ok [text]" or "error text".
 */
#ifndef FACTEUR_CONTROL_H
#define FACTEUR_CONTROL_H

#include "core/buf.h"

struct server;
struct control;

struct control *control_new(struct server *srv);
void control_free(struct control **ctl);

/* Client side (the CLI): sends request, appends the answer. 0 or -1. */
int control_request(const char *data_dir, const char *request,
    struct buf *answer);
void control_socket_path(const char *data_dir, char *out, size_t size);

#endif
