/*
 * durable.h - a file on its way to being durable, as the commit thread
 * handles it: written under a temporary name, fdatasynced, renamed to its
 * final name, and its directory fsynced (see commit.h for the batching).
 * Producers (mda_maildir.c, queue_file.c) open and fill it; the commit
 * thread syncs, links and aborts it.
 */
#ifndef FACTEUR_DURABLE_H
#define FACTEUR_DURABLE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

struct durable_file {
	int	 fd;		/* -1 when closed */
	char	 tmp[PATH_MAX];	/* where it is written */
	char	 final[PATH_MAX];	/* where it goes ("" until known) */
	char	 dir[PATH_MAX];	/* final's directory, fsynced after */
	bool	 link_only;	/* tmp is another's: link it, no more */
};

void durable_init(struct durable_file *f);
/*
 * Makes f a second name for a file that another durable_file writes and
 * syncs (a pack): durable_sync() has nothing to do, durable_link() makes
 * a hard link, durable_abort() leaves the file to its owner.
 */
void durable_link_to(struct durable_file *f, const struct durable_file *to,
    const char *final);
/*
 * Starts writing the file's data to the device without waiting (a hint,
 * errors ignored: durable_sync() is what makes it durable).
 */
void durable_start(struct durable_file *f);
/* fdatasync: 0 or -1 with errno. */
int durable_sync(struct durable_file *f);
/* rename(tmp, final) and close: 0 or -1 with errno. */
int durable_link(struct durable_file *f);
/* Closes and removes the temporary file, if any. */
void durable_abort(struct durable_file *f);

#endif
