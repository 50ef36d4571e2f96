/*
 * mta_io.c - the queue runner's envelope saves and removals, done in
 * rounds on the queue's own I/O threads (mta_int.h).
 */
#include "core/common.h"

#include <errno.h>
#include <event2/event.h>
#include <string.h>

#include "core/log.h"
#include "core/workq.h"
#include "delivery/mta_int.h"
#include "server/server.h"
#include "queue/queue_spare.h"
#include "queue/queue_store.h"

/*
 * Batches in flight at once, each on its own thread of the queue's I/O
 * pool (not the shared worker pool, whose threads are sized for CPU work
 * like password hashing). Retiring a delivered entry is an unlink (two
 * for an entry whose states outgrew its .msg into a .env), and an
 * unlink mostly waits: freeing the file's blocks on a filesystem
 * mounted with "discard" issues a synchronous discard to the device. On
 * the bench machine one thread unlinks 17,700 files/s, eight 40,500/s;
 * see docs/performance.md, Outbound. Entries never have two operations
 * in flight, so batches do not overlap.
 */
#define MTA_IO_PARALLEL 8
#define MTA_IO_BATCH 8		/* operations that start a round at once */
#define MTA_IO_DELAY_US 1000	/* else the first waits this long */
/*
 * Envelope saves and removals go to the queue's I/O threads in batches,
 * like the inbound commit: one round saves (appends the envelope to its
 * .msg and fdatasyncs it, or writes a .env: queue_store.h) or unlinks
 * every entry of the batch, then fsyncs queue/ once if a .env was
 * renamed; what is asked while MTA_IO_PARALLEL rounds run waits for the
 * next one. A copy of the envelope travels with a save.
 */
struct mta_io {
	struct mta_io		*next;
	char			 qid[ID_LEN + 1];
	struct queue_env	 env;		/* for a save */
	bool			 remove;
	bool			 env_file;	/* a .env may exist */
	int			 error;
};

struct mta_io_batch {
	struct mta		*mta;
	char			 data_dir[PATH_MAX];
	struct mta_io		*list;
};

static void
mta_io_run(const char *data_dir, struct mta_io *list)
{
	struct mta_io *io;
	bool any = false;
	uint64_t spares;
	int r;

	for (io = list; io; io = io->next) {
		r = io->remove ? queue_store_unlink(data_dir, io->qid,
		    io->env_file) : queue_store_write(data_dir, &io->env);
		io->error = r == -1 ? errno : 0;
		/* A failed save may have left one too. */
		io->env_file |= !io->remove && r != 0;
		any |= r == 1 && !io->remove;	/* a .env renamed */
	}
	/*
	 * Only saves need queue/ fsynced. A removal that a crash undoes
	 * brings the entry back as last saved: the recipients sent since
	 * are sent again (the duplicate of the window between a remote 250
	 * and the removal), a reported one is removed at the first tick.
	 * Postfix does not fsync the directory after deleting a queue file
	 * either. The .msg goes first and the journal keeps the order, so
	 * a crash can leave a .env alone (removed at startup), never a
	 * .msg without its later envelope.
	 */
	spares = queue_spare_gen();
	if (any && queue_store_sync(data_dir) == -1) {
		r = errno;
		for (io = list; io; io = io->next)
			if (io->error == 0)
				io->error = r;
	} else if (any) {
		/* The removals before it are durable: their spares usable. */
		queue_spare_synced(spares);
	}
}

static void
mta_io_work(void *arg)
{
	struct mta_io_batch *b = arg;

	mta_io_run(b->data_dir, b->list);
}

static void
mta_io_free_list(struct mta_io *io)
{
	struct mta_io *next;

	for (; io; io = next) {
		next = io->next;
		queue_env_release(&io->env);
		free(io);
	}
}

static void
mta_io_result(struct mta *mta, struct mta_io *io)
{
	struct mta_entry *e = mta_entry_find(mta, io->qid);

	if (io->remove && io->error == ENOENT)
		io->error = 0;		/* gone already (by hand): done */
	if (io->error)
		log_err("event=queue-write-failed qid=%s error=%s", io->qid,
		    log_qs(strerror(io->error)));
	if (e == NULL)
		return;
	e->saving = false;
	e->env_file |= io->env_file;
	if (io->error) {
		/* Tried again at the next tick (a removal) or change. */
		if (!io->remove)
			e->dirty = true;
		return;
	}
	if (io->remove) {
		log_info("event=queue-removed qid=%s", io->qid);
		mta_entry_free(mta, e);
	} else {
		mta_entry_settle(mta, e);
		mta_entry_go(mta, e);
	}
}

static void mta_io_kick(struct mta *mta);

static void
mta_io_done(void *arg)
{
	struct mta_io_batch *b = arg;
	struct mta *mta = b->mta;
	struct mta_io *io;

	/* Still counted as running: what the results ask joins one round. */
	for (io = b->list; io; io = io->next)
		mta_io_result(mta, io);
	mta_io_free_list(b->list);
	free(b);
	mta->io_running--;
	mta_io_kick(mta);
}

/* Hands what waits to an I/O thread, if one may run. */
static void
mta_io_submit(struct mta *mta)
{
	struct mta_io_batch *b;

	if (mta->io_running >= MTA_IO_PARALLEL || mta->io_queue == NULL ||
	    server_stopping(mta->srv))
		return;	/* stopping: mta_free() writes the rest itself */
	b = xcalloc(1, sizeof(*b));
	b->mta = mta;
	cstr_copy(b->data_dir, sizeof(b->data_dir), mta_data_dir(mta));
	b->list = mta->io_queue;
	mta->io_queue = NULL;
	mta->io_queued = 0;
	mta->io_tail = &mta->io_queue;
	mta->io_running++;
	workq_submit(mta->iowq, mta_io_work, mta_io_done, b);
}

static void
mta_on_io_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	mta_io_submit(arg);
}

/*
 * Wait for a few operations rather than wake a thread for each: a drain
 * retires thousands of entries a second, and a thread wake-up (and its
 * report) costs about what an unlink does. A woken thread also tends to
 * run at once on the loop's CPU, delaying the next MAIL that the loop was
 * about to send. So a round starts once MTA_IO_BATCH operations wait, or
 * MTA_IO_DELAY_US after the first: a save or removal is at most that much
 * later, and nothing waits on it but the entry itself.
 */
static void
mta_io_kick(struct mta *mta)
{
	static const struct timeval delay = { 0, MTA_IO_DELAY_US };

	if (mta->io_queue == NULL || server_stopping(mta->srv))
		return;	/* stopping: mta_free() writes the rest itself */
	if (mta->io_queued >= MTA_IO_BATCH) {
		mta_io_submit(mta);
		return;
	}
	if (!evtimer_pending(mta->io_timer, NULL))
		evtimer_add(mta->io_timer, &delay);
}

void
mta_io_start(struct mta *mta, struct mta_entry *e, bool remove)
{
	struct mta_io *io = xcalloc(1, sizeof(*io));

	io->remove = remove;
	io->env_file = e->env_file;
	cstr_copy(io->qid, sizeof(io->qid), e->env.qid);
	if (!remove) {
		io->env = e->env;
		io->env.alloc = e->env.nrcpts;
		io->env.rcpts = xreallocarray(NULL, e->env.nrcpts,
		    sizeof(*e->env.rcpts));
		memcpy(io->env.rcpts, e->env.rcpts,
		    e->env.nrcpts * sizeof(*e->env.rcpts));
	}
	e->saving = true;
	e->dirty = false;
	*mta->io_tail = io;
	mta->io_tail = &io->next;
	mta->io_queued++;
	mta_io_kick(mta);
}

/*
 * The report is durable (or was not needed). The entry is saved with
 * "reported" before it goes, so that a crash before the removal does not
 * make the report again; if the report could not be stored, the entry
 * stays and the next tick tries again.
 */

void
mta_io_init(struct mta *mta)
{
	mta->io_tail = &mta->io_queue;
	mta->iowq = workq_new(server_base(mta->srv), MTA_IO_PARALLEL);
	mta->io_timer = evtimer_new(server_base(mta->srv), mta_on_io_timer,
	    mta);
	if (mta->io_timer == NULL)
		fatal("mta: cannot create the I/O timer");
}

void
mta_io_end(struct mta *mta)
{
	struct mta_io *io;

	workq_free(&mta->iowq);		/* the rounds in flight end here */
	/* Only now: the rounds that ended above kicked (mta_io_done()). */
	event_free(mta->io_timer);
	/* Asked after the last worker round (the server was stopping). */
	if (mta->io_queue == NULL)
		return;
	mta_io_run(mta_data_dir(mta), mta->io_queue);
	for (io = mta->io_queue; io; io = io->next)
		mta_io_result(mta, io);
	mta_io_free_list(mta->io_queue);
	mta->io_queue = NULL;
}
