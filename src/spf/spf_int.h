/*
 * spf_int.h - what spf_eval.c (check_host() itself: records, include,
 * redirect, exp, the end) and spf_mech.c (the mechanisms and their DNS
 * answers) share. Not for use outside src/spf/.
 *
 * One struct spf_check runs one check_host() (RFC 7208 4) as a state
 * machine: a stack of frames, one per record being evaluated (the check
 * itself, then one per include; a redirect replaces its frame), and at
 * most one term in progress, whose DNS queries (up to 10 at once for the
 * MX or PTR names of a term) sit in slots[]. Every callback lands in
 * spf_on_answer(), which dispatches on chk->op, and, once the result is
 * known (phase DONE), calls done and frees the check: nothing deeper in
 * the stack ever frees it.
 */
#ifndef FACTEUR_SPF_INT_H
#define FACTEUR_SPF_INT_H

#include "core/buf.h"
#include "dns/dns.h"
#include "spf/spf.h"
#include "spf/spf_macro.h"
#include "spf/spf_record.h"

/* Includes and redirects are counted lookups: this depth is never hit. */
#define SPF_DEPTH_MAX		(SPF_LOOKUPS_MAX + 2)
#define SPF_FANOUT_MAX		MAX(SPF_MX_MAX, SPF_PTR_MAX)
/* Our own: sender (64 + 1 + 255, RFC 5321 4.5.3.1) and HELO lengths. */
#define SPF_SENDER_MAX		320

enum spf_step {
	SPF_STEP_NOMATCH,
	SPF_STEP_MATCH,
	SPF_STEP_WAIT,		/* DNS in flight: a callback resumes */
	SPF_STEP_PERMERROR,
	SPF_STEP_TEMPERROR,
};

enum spf_phase {
	SPF_PHASE_TERMS,
	SPF_PHASE_EXP,		/* fetching the explanation of a fail */
	SPF_PHASE_DONE,
};

enum spf_op {
	SPF_OP_NONE,		/* only waiting to report the result */
	SPF_OP_RECORD,		/* TXT of the top frame's domain */
	SPF_OP_ADDR,		/* "a": A or AAAA of the target */
	SPF_OP_EXISTS,		/* "exists": A of the target */
	SPF_OP_MX,		/* "mx": MX of the target */
	SPF_OP_MX_ADDR,		/* "mx": A or AAAA of each MX host */
	SPF_OP_PTR,		/* PTR of the client address */
	SPF_OP_PTR_ADDR,	/* A or AAAA of each PTR name */
	SPF_OP_EXP,		/* TXT of the exp= target */
};

enum spf_ptr_state {
	SPF_PTR_UNKNOWN,
	SPF_PTR_RUNNING,
	SPF_PTR_KNOWN,		/* validated[] is filled (maybe empty) */
};

struct spf_frame {
	char		 domain[SPF_NAME_MAX + 1];
	char		*text;		/* the record, owned; rec points in */
	size_t		 textlen;	/* it may hold NULs: a permerror */
	struct spf_record rec;
	size_t		 next;		/* the term under evaluation */
	bool		 redirected;	/* RFC 7208 6.1: none is permerror */
};

struct spf_check;

struct spf_slot {
	struct spf_check *chk;
	struct dns_query *q;		/* NULL when idle */
	size_t		  idx;		/* which host of a fan-out */
};

/* One MX host or PTR name of the term in progress. */
struct spf_host {
	char		 name[SPF_NAME_MAX + 1];
	enum dns_status	 status;
	bool		 match;
};

struct spf_check {
	struct dns	*dns;
	spf_done	 done;
	void		*arg;

	struct spf_macro_ctx mctx;	/* points at the copies below */
	char		 sender[SPF_SENDER_MAX + 1];
	char		 helo[SPF_NAME_MAX + 1];
	char		 receiver[SPF_NAME_MAX + 1];
	char		 pvalue[SPF_NAME_MAX + 1];

	enum spf_phase	 phase;
	enum spf_op	 op;
	unsigned	 lookups;	/* RFC 7208 4.6.4 */
	unsigned	 voids;
	bool		 term_counted;	/* the current term's lookup is */
	struct spf_frame frames[SPF_DEPTH_MAX];
	size_t		 depth;

	char		 target[SPF_NAME_MAX + 1];
	struct spf_slot	 slots[SPF_FANOUT_MAX];
	unsigned	 pending;
	struct spf_host	 hosts[SPF_FANOUT_MAX];
	size_t		 nhosts;

	/* RFC 7208 5.5: the client's validated names, found once. */
	enum spf_ptr_state ptr_state;
	char		 validated[SPF_PTR_MAX][SPF_NAME_MAX + 1];
	size_t		 nvalidated;

	enum spf_result	 result;
	const char	*why;
	char		*explanation;
	struct buf	 work;		/* expansions, TXT text */
};

/* spf_eval.c */
struct spf_frame *spf_top(struct spf_check *chk);
void spf_run(struct spf_check *chk);
void spf_resume(struct spf_check *chk);
/* Applies the outcome of an asynchronous term, then goes on. */
void spf_term_finish(struct spf_check *chk, enum spf_step st);
void spf_query(struct spf_check *chk, size_t slot, const char *name,
    int rrtype);
void spf_on_answer(void *arg, const struct dns_answer *ans);
bool spf_count_lookup(struct spf_check *chk);
bool spf_count_void(struct spf_check *chk, const struct dns_answer *ans);
/*
 * Expands spec (or copies <domain> when it is empty) into chk->target.
 * WAIT when %{p} needs the PTR lookup first, NOMATCH when the result
 * is no valid name (multi: two labels at least), MATCH when it is one.
 */
enum spf_step spf_target(struct spf_check *chk, struct str spec,
    const char *domain, bool multi);

/* spf_mech.c */
enum spf_step spf_mech_eval(struct spf_check *chk,
    const struct spf_term *t);
void spf_mech_answer(struct spf_check *chk, struct spf_slot *s,
    const struct dns_answer *ans);
/* Starts finding validated names (5.5); spf_resume() when known. */
void spf_ptr_start(struct spf_check *chk);
/* RFC 7208 7.3: the %{p} value for a domain (validated names known). */
const char *spf_ptr_value(struct spf_check *chk, const char *domain);

#endif
