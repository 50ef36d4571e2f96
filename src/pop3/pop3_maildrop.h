/*
 * pop3_maildrop.h - a user's Maildir as one POP3 session sees it
 * (RFC 1939 3-6): locked, listed once, numbered, marked, committed.
 *
 * Lock (RFC 1939 4: "an exclusive-access lock on the maildrop"): flock(2)
 * on data_dir/mail/<domain>/<local>/facteur-pop3.lock, taken without
 * waiting. flock locks belong to an open file description, not to a
 * process, so one lock serves both cases: a second session in this
 * process (each open() makes its own description) and another process.
 * The kernel drops it when the descriptor closes, so a crash cannot leave
 * a mailbox locked; the file itself stays, empty and harmless. Delivery
 * never takes it: Maildir delivery is lock-free by design.
 *
 * new/ -> cur/: at open, every file of new/ is renamed into cur/ with an
 * empty ":2," info part, before anything is listed, as Dovecot's POP3
 * server does. The session then has one stable path per message, and a
 * message is "seen" by the POP3 client from the moment it is listed. A
 * message RETR'd in full gets the S (seen) flag at QUIT, for MUAs that
 * read the same Maildir. The move is not fsynced: after a crash a file is
 * either in new/ or in cur/, with the same unique name and unique-id.
 *
 * Numbering and sizes: messages are sorted by arrival (the seconds that
 * start a Maildir name, then the name) and numbered from 1 for the whole
 * session; mail delivered meanwhile shows in the next session. Sizes are
 * on-the-wire sizes with CRLF line ends, read from ",W=" in the name
 * (written by delivery) or, for files without it, counted once at open.
 *
 * DELE only marks; pop3_maildrop_commit() (the UPDATE state, RFC 1939 6)
 * unlinks the marked files and fsyncs cur/, so a message QUIT removed
 * does not come back after a crash. A session that ends without QUIT
 * frees its maildrop and deletes nothing.
 *
 * pop3_maildrop_open() and pop3_maildrop_commit() scan, rename, unlink
 * and fsync: run them off the event loop (the session uses the workq).
 */
#ifndef FACTEUR_POP3_MAILDROP_H
#define FACTEUR_POP3_MAILDROP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pop3_maildrop;

enum pop3_md_status {
	POP3_MD_OK,
	POP3_MD_IN_USE,		/* another POP3 session holds the lock */
	POP3_MD_ERROR,		/* see *errno_r */
};

/* The lock file's name inside the Maildir. */
#define POP3_MD_LOCK_NAME "facteur-pop3.lock"

/*
 * Locks and lists the Maildir of user ("local@domain") under data_dir,
 * creating it if missing. Blocking.
 */
enum pop3_md_status pop3_maildrop_open(const char *data_dir,
    const char *user, struct pop3_maildrop **md_r, int *errno_r);
/* Unlocks and frees; deletes nothing. */
void pop3_maildrop_free(struct pop3_maildrop **md);

/* Messages numbered in this session, those marked deleted included. */
size_t pop3_maildrop_count(const struct pop3_maildrop *md);
/* Messages not marked deleted, and their octets (STAT, RFC 1939 5). */
void pop3_maildrop_stat(const struct pop3_maildrop *md, size_t *count_r,
    uint64_t *octets_r);
/* n (from 1) names a message of this session not marked deleted. */
bool pop3_maildrop_valid(const struct pop3_maildrop *md, uint64_t n);
bool pop3_maildrop_deleted(const struct pop3_maildrop *md, uint64_t n);
/* For a valid n: its size with CRLF line ends, its unique-id. */
uint64_t pop3_maildrop_size(const struct pop3_maildrop *md, uint64_t n);
const char *pop3_maildrop_uid(const struct pop3_maildrop *md, uint64_t n);

/* Marks a valid n deleted (DELE). */
void pop3_maildrop_dele(struct pop3_maildrop *md, uint64_t n);
/* Unmarks every message (RSET). */
void pop3_maildrop_rset(struct pop3_maildrop *md);
/* A valid n was RETR'd whole: the S flag is added at commit. */
void pop3_maildrop_seen(struct pop3_maildrop *md, uint64_t n);

/*
 * Opens a valid n for reading: a descriptor, or -1 with errno. A file
 * another program renamed in cur/ (its flags) is found by unique-id.
 */
int pop3_maildrop_open_msg(struct pop3_maildrop *md, uint64_t n);

struct pop3_md_commit {
	size_t	 deleted;	/* marked files now gone */
	size_t	 failed;	/* marked files that could not be removed */
	size_t	 left;		/* messages left in the maildrop */
};

/*
 * The UPDATE state (RFC 1939 6): unlinks the marked files, flags the
 * seen ones, fsyncs the directories. 0, or -1 if some marked file could
 * not be removed (r says how many). Blocking.
 */
int pop3_maildrop_commit(struct pop3_maildrop *md, struct pop3_md_commit *r);

#endif
