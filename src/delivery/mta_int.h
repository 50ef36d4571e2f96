/*
 * mta_int.h - what the outbound delivery files share: mta.c (entries,
 * scheduling, results), mta_route.c (DNS), mta_session.c (the SMTP
 * client) and bounce.c (failure reports).
 */
#ifndef FACTEUR_MTA_INT_H
#define FACTEUR_MTA_INT_H

#include <limits.h>
#include <sys/socket.h>
#include <time.h>

#include "delivery/mta.h"
#include "delivery/mta_reply.h"
#include "queue/queue_env.h"

struct conn;
struct dns_query;
struct map;
struct mta_io;
struct event;
typedef struct ssl_ctx_st SSL_CTX;

#define MTA_ROUTE_ADDRS_MAX	16
#define MTA_ROUTE_MX_MAX	8
#define MTA_JOB_RCPTS_MAX	100
/* The destination of every job while [relay] host is set. */
#define MTA_RELAY_DEST		"[relay]"

/* One queued message, as the runner sees it. */
struct mta_entry {
	struct mta_entry	*prev, *next;
	struct queue_env	 env;
	unsigned		 inflight;	/* jobs being delivered */
	bool			*busy;		/* per recipient: in a job */
	bool			 saving;	/* envelope write under way */
	bool			 dirty;		/* changed since last save */
	bool			 doomed;	/* delete asked: finish then go */
	bool			 doom_bounce;
	bool			 env_file;	/* may have a .env */
	time_t			 warn_retry;	/* a warning failed: not before */
};

/* Some recipients of one entry for one destination: one transaction. */
struct mta_job {
	struct mta_job		*next;
	struct mta_entry	*entry;
	size_t			 rcpts[MTA_JOB_RCPTS_MAX];
	size_t			 nrcpts;
	bool			 accepted[MTA_JOB_RCPTS_MAX];	/* RCPT 2xx */
	bool			 done[MTA_JOB_RCPTS_MAX];	/* result set */
};

struct mta_addr {
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	char			 host[256];	/* the MX name, for TLS */
	char			 ip[64];
};

/* One DNS question of a route resolution: which MX, which family. */
struct mta_route_q {
	struct mta_dest		*dest;
	int			 mx;		/* -1: the MX query itself */
	int			 v6;
};

enum mta_route_state {
	MTA_ROUTE_NONE,
	MTA_ROUTE_RESOLVING,
	MTA_ROUTE_READY,
	MTA_ROUTE_FAILED,
};

/* A destination: a recipient domain, or the smarthost. */
struct mta_dest {
	struct mta_dest		*next;
	struct mta		*mta;
	char			 domain[256];
	bool			 relay;		/* MTA_RELAY_DEST */
	struct mta_job		*jobs, **jobs_tail;
	size_t			 njobs;
	unsigned		 sessions;
	unsigned		 window;	/* sessions allowed at once */
	unsigned		 credit;	/* deliveries toward window + 1 */
	time_t			 capped_at;	/* the peer refused one, then */
	enum mta_route_state	 route_state;
	struct mta_addr		 addrs[MTA_ROUTE_ADDRS_MAX];
	size_t			 naddrs;
	time_t			 route_time;
	char			 route_error[256];
	bool			 route_permanent;
	/* Resolution in progress (mta_route.c). */
	unsigned		 pending;
	struct dns_query	*queries[1 + 2 * MTA_ROUTE_MX_MAX];
	struct mta_route_q	 rq[1 + 2 * MTA_ROUTE_MX_MAX];
	char			 mx[MTA_ROUTE_MX_MAX][256];
	size_t			 nmx;
	struct mta_addr		 found[MTA_ROUTE_MX_MAX][2][4];
	size_t			 nfound[MTA_ROUTE_MX_MAX][2];
};

struct mta {
	struct server		*srv;
	struct mta_entry	*entries;
	struct map		*index;		/* qid -> entry */
	struct mta_io		*io_queue, **io_tail;	/* next batch */
	unsigned		 io_queued;	/* operations in io_queue */
	unsigned		 io_running;	/* batches on iowq */
	struct event		*io_timer;	/* starts a small batch */
	struct workq		*iowq;		/* queue file I/O threads */
	struct mta_dest		*dests;
	unsigned		 sessions;	/* all destinations */
	struct mta_session	*slist;		/* live sessions */
	struct event		*tick;
	SSL_CTX			*tls;		/* client context */
	char			 relay_password[512];
};

/* mta.c */
struct mta_entry *mta_entry_find(struct mta *mta, const char *qid);
void mta_entry_free(struct mta *mta, struct mta_entry *e);
/* After results or a save: save again if needed, else finish if done. */
void mta_entry_settle(struct mta *mta, struct mta_entry *e);
/* Its due recipients to their destinations now, not at the next tick. */
void mta_entry_go(struct mta *mta, struct mta_entry *e);
void mta_job_result(struct mta *mta, struct mta_job *job, size_t i,
    int code, const char *enh, const char *text);
void mta_job_finish(struct mta *mta, struct mta_job *job);
void mta_dest_run(struct mta_dest *dest);
void mta_dest_delivered(struct mta_dest *dest);
void mta_dest_throttled(struct mta_dest *dest, unsigned held);
struct mta_job *mta_dest_take(struct mta_dest *dest);
void mta_dest_fail_all(struct mta_dest *dest, bool permanent,
    const char *enh, const char *text);

/* mta_io.c: saves and removals in rounds on the queue's I/O threads */
void mta_io_init(struct mta *mta);
/* Saves (remove false) or removes e's entry; e->saving until done. */
void mta_io_start(struct mta *mta, struct mta_entry *e, bool remove);
/* Waits for the rounds in flight and does what is left, synchronously. */
void mta_io_end(struct mta *mta);
const char *mta_data_dir(const struct mta *mta);
const char *mta_hostname(const struct mta *mta);
bool mta_is_relay(const struct mta *mta);

/* mta_route.c: fills dest->addrs, then calls mta_dest_run(). */
void mta_route_start(struct mta_dest *dest);
void mta_route_cancel(struct mta_dest *dest);

/* mta_session.c */
struct mta_session;
void mta_session_start(struct mta_dest *dest);
/* Shutdown: every session dropped now (its recipients stay pending). */
void mta_session_abort_all(struct mta *mta);

/*
 * bounce.c: a delivery status notification to the sender of env, made
 * durable like any message: BOUNCE_FAILED reports the recipients that
 * failed or expired, BOUNCE_DELAYED (the delay warning) those still
 * pending. done(arg, 0) is called once it is stored (or at once when no
 * report is sent: null sender, or a sender who did not authenticate,
 * whose address may be forged), done(arg, errno) when it could not be.
 */
enum bounce_kind {
	BOUNCE_FAILED,
	BOUNCE_DELAYED,
};

void bounce_send(struct mta *mta, const struct queue_env *env,
    enum bounce_kind kind, void (*done)(void *arg, int error), void *arg);

#endif
