/*
 * spf.h - the Sender Policy Framework check (RFC 7208), asynchronous,
 * over the project's DNS module (dns/dns.h).
 *
 * check_host() for the MAIL FROM domain (or the HELO name when the sender
 * is null, RFC 7208 2.4): every mechanism (all include a mx ptr ip4 ip6
 * exists), the modifiers redirect and exp, macros (RFC 7208 7), the limit
 * of 10 DNS-querying terms and of 2 void lookups (4.6.4), and results
 * none / neutral / pass / fail / softfail / temperror / permerror.
 * Record parsing and macro expansion are pure functions (spf_record.h,
 * spf_macro.h); spf_eval.c and spf_mech.c run check_host() on the loop.
 *
 * Limits (RFC 7208 4.6.4, 5.4, 5.5): 10 DNS-querying terms per check,
 * includes and redirects included (this also bounds their depth and
 * breaks include loops), 2 void lookups, 10 MX names, 10 PTR names,
 * records of at most 4 KB. The time limit of 4.6.4 (at least 20 s, then
 * temperror) is the caller's: it cancels the check and decides.
 */
#ifndef FACTEUR_SPF_H
#define FACTEUR_SPF_H

#include <sys/socket.h>

struct dns;
struct spf_check;

enum spf_result {
	SPF_NONE,
	SPF_NEUTRAL,
	SPF_PASS,
	SPF_FAIL,
	SPF_SOFTFAIL,
	SPF_TEMPERROR,
	SPF_PERMERROR,
};

struct spf_request {
	struct sockaddr_storage	 ip;		/* the client's address */
	const char		*sender;	/* local@domain; "" when null */
	const char		*helo;		/* as the client gave it */
	/* The domain to check; NULL: the sender's, or HELO's if null. */
	const char		*domain;
	const char		*receiver;	/* our host name (%{r}) */
};

/*
 * explanation: for a fail, the exp= text if any (expanded), else NULL;
 * why: a short static description of how the result came about.
 * The check is freed when done returns: do not cancel it from done.
 */
typedef void (*spf_done)(void *arg, enum spf_result result,
    const char *explanation, const char *why);

/* Copies what it needs from req; done is always called later. */
struct spf_check *spf_check_start(struct dns *dns,
    const struct spf_request *req, spf_done done, void *arg);
/* Stops every query in flight and frees chk; done will not be called. */
void spf_check_cancel(struct spf_check *chk);
const char *spf_result_name(enum spf_result result);

#endif
