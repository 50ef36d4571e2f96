/*
 * mda_maildir.h - local delivery into a Maildir (the format of qmail,
 * Dovecot and mutt: https://cr.yp.to/proto/maildir.html).
 *
 * A delivery is split into steps so the commit thread can batch them and
 * share one fsync between many messages (see commit.h):
 *   mda_maildir_open()   create the Maildir if missing, open tmp/<unique>
 *   mda_maildir_write()  Return-Path, Delivered-To, our headers, then the
 *                        message, CRLF turned into LF (the Maildir way);
 *                        sets the final name new/<unique>,S=<n>,W=<n>
 * then the commit thread syncs the file, renames it into new/ and fsyncs
 * new/ once per batch (durable.h).
 * Unique names follow Dovecot: <sec>.M<usec>P<pid>Q<seq>.<host>; S= is the
 * file size and W= the size with CRLF line ends (what POP3 reports).
 */
#ifndef FACTEUR_MDA_MAILDIR_H
#define FACTEUR_MDA_MAILDIR_H

#include <stddef.h>

#include "queue/durable.h"

struct spool;

/* The Maildir of a mailbox address: data_dir/mail/<domain>/<local>. */
int mda_maildir_path(const char *data_dir, const char *mailbox, char *out,
    size_t size);
/* Creates cur/ new/ tmp/ (durably) if they do not exist. */
int mda_maildir_create(const char *maildir);

/*
 * Removes files older than 36 hours from every tmp/ under data_dir/mail:
 * deliveries a crash interrupted (the Maildir rule). Returns the count.
 */
size_t mda_maildir_cleanup(const char *data_dir);

/* folder: NULL for the inbox, or a Maildir++ folder such as ".Junk". */
int mda_maildir_open(struct durable_file *f, const char *data_dir,
    const char *mailbox, const char *folder, const char *hostname);
int mda_maildir_write(struct durable_file *f, const char *return_path,
    const char *delivered_to, const char *headers, size_t headers_len,
    struct spool *sp);

#endif
