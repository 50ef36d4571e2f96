/*
 * mda_maildir.h - local delivery into a Maildir (the format of qmail,
 * Dovecot and mutt: https://cr.yp.to/proto/maildir.html).
 *
 * A delivery is split into steps so the commit thread can batch them and
 * share one fsync between many messages (see commit.h):
 *   mda_maildir_open()   create the Maildir if missing, open tmp/<unique>
 *   mda_maildir_write()  Return-Path, Delivered-To, then the message with
 *                        CRLF turned into LF (the Maildir convention)
 *   fdatasync(fd)        by the caller, batched
 *   mda_maildir_link()   rename tmp/<unique> to new/<unique>,S=<n>,W=<n>
 *   fsync(new/)          by the caller, once per directory per batch
 * mda_maildir_abort() undoes a delivery that did not reach the rename.
 * Unique names follow Dovecot: <sec>.M<usec>P<pid>Q<seq>.<host>; S= is the
 * file size and W= the size with CRLF line ends (what POP3 reports).
 */
#ifndef FACTEUR_MDA_MAILDIR_H
#define FACTEUR_MDA_MAILDIR_H

#include <limits.h>
#include <stddef.h>

struct spool;

struct mda_file {
	int	 fd;
	char	 tmp[PATH_MAX];
	char	 final[PATH_MAX];
	char	 newdir[PATH_MAX];
	size_t	 size;		/* bytes in the file */
	size_t	 vsize;		/* with CRLF line ends */
};

/* The Maildir of a mailbox address: data_dir/mail/<domain>/<local>. */
int mda_maildir_path(const char *data_dir, const char *mailbox, char *out,
    size_t size);
/* Creates cur/ new/ tmp/ (durably) if they do not exist. */
int mda_maildir_create(const char *maildir);

int mda_maildir_open(struct mda_file *f, const char *data_dir,
    const char *mailbox, const char *hostname);
int mda_maildir_write(struct mda_file *f, const char *return_path,
    const char *delivered_to, struct spool *sp);
int mda_maildir_link(struct mda_file *f);
void mda_maildir_abort(struct mda_file *f);
/* Closes the file after a successful link. */
void mda_maildir_close(struct mda_file *f);

#endif
