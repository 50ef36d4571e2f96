/*
 * smtp_cmd_rcpt.c - RCPT TO (RFC 5321 4.1.1.3): who we accept mail for.
 *
 * Unknown users of our domains are refused here, never accepted and
 * bounced later (backscatter). A recipient in another domain is accepted
 * only from an authenticated user (it goes to the queue); for everyone
 * else it is refused: we are never an open relay. Address tricks are
 * refused by the strict parser (smtp_addr.h) with 5.7.1, so they read as
 * policy, not as typos; the domain is compared in lower case, exactly.
 */
#include "core/common.h"

#include "auth/rate.h"
#include "core/limits.h"
#include "core/log.h"
#include "queue/queue_env.h"
#include "smtp/smtp_int.h"

/* One address alone always fits: a 452 for it would be retried for days. */
_Static_assert(ALIAS_TARGETS_MAX <= QUEUE_RCPTS_MAX,
    "an alias may expand past what a queue entry holds");

/*
 * RFC 5321 4.5.3.1.10: 452, the client sends the rest later. Not an
 * error: a client that pipelines more recipients than the limit would
 * reach max_errors and lose the transaction (and again at each retry).
 * Past an overshoot no client needs, it is one (Postfix's
 * smtpd_recipient_overshoot_limit).
 */
static void
smtp_rcpt_overshoot(struct smtp_session *s)
{
	if (++s->tx.overshoot > SMTP_RCPT_OVERSHOOT_MAX)
		smtp_refuse(s, "too-many-recipients", 452, "4.5.3",
		    "Error: too many recipients");
	else
		smtp_decline(s, "too-many-recipients", 452, "4.5.3",
		    "Error: too many recipients");
}

static bool
smtp_check_rcpt(struct smtp_session *s, struct str args,
    struct smtp_addr *addr)
{
	const struct config *cfg = server_config(s->srv);
	struct smtp_param params[SMTP_PARAMS_MAX];
	enum smtp_addr_err err;
	struct str rest;
	size_t n;
	int flags = SMTP_ADDR_POSTMASTER | SMTP_ADDR_STRICT;

	if (s->state < SMTP_STATE_MAIL) {
		smtp_refuse(s, "bad-sequence", 503, "5.5.1",
		    "Error: need MAIL command");
		return false;
	}
	if (s->tx.started) {
		smtp_refuse(s, "bad-sequence", 503, "5.5.1",
		    "Error: message content already started");
		return false;
	}
	if (smtp_parse_mail_rcpt(args, "TO", &rest) == -1) {
		smtp_refuse(s, "bad-syntax", 501, "5.5.4",
		    "Syntax: RCPT TO:<address>");
		return false;
	}
	if (s->tx.smtputf8)
		flags |= SMTP_ADDR_UTF8;
	err = smtp_addr_parse_path(&rest, flags, addr);
	if (err != SMTP_ADDR_OK && smtp_addr_err_is_trick(err)) {
		smtp_refuse(s, "relay-trick", 550, "5.7.1", "Recipient "
		    "address rejected: %s", smtp_addr_strerror(err));
		return false;
	}
	if (err == SMTP_ADDR_ERR_UTF8) {
		smtp_refuse(s, "bad-recipient", 553, "5.6.7", "Non-ASCII "
		    "recipient address requires SMTPUTF8");
		return false;
	}
	if (err != SMTP_ADDR_OK) {
		smtp_refuse(s, "bad-recipient", 501, "5.1.3", "Bad recipient "
		    "address syntax: %s", smtp_addr_strerror(err));
		return false;
	}
	/* We offer no RCPT extension (no DSN): any parameter is unknown. */
	if (smtp_parse_params(rest, params, ARRAY_LEN(params), &n, true) ==
	    -1 || n > 0) {
		smtp_refuse(s, "bad-param", 555, "5.5.4",
		    "Unsupported RCPT parameters");
		return false;
	}
	if (s->auth_user[0] && !rate_take(server_user_recipients(s->srv),
	    s->auth_user, 1, cfg->user_recipients_per_minute)) {
		/* A stolen account cannot spray: [limits] per minute. */
		smtp_refuse(s, "rate-limit", 451, "4.7.1", "Too many "
		    "recipients per minute for %s, try again later",
		    s->auth_user);
		return false;
	}
	if (s->tx.nrcpts >= cfg->max_recipients) {
		smtp_rcpt_overshoot(s);
		return false;
	}
	return true;
}

/* Where the mail goes; false after replying with the refusal. */
static bool
smtp_resolve_rcpt(struct smtp_session *s, struct smtp_addr *addr,
    struct dir_result *res)
{
	const struct config *cfg = server_config(s->srv);
	const char *domain = addr->postmaster_only ? cfg->domains[0] :
	    addr->domain;

	switch (directory_resolve(server_directory(s->srv), addr->local,
	    domain, res)) {
	case DIR_OK:
		return true;
	case DIR_FOREIGN:
		if (s->auth_user[0]) {
			/* Relayed for an authenticated user: the queue. */
			res->v = xcalloc(1, sizeof(*res->v));
			res->n = 1;
			smtp_addr_format(addr, res->v[0].addr,
			    sizeof(res->v[0].addr));
			return true;
		}
		smtp_refuse(s, "relay-denied", 554, "5.7.1", "<%s@%s>: Relay "
		    "access denied", addr->local, addr->domain);
		return false;
	case DIR_UNKNOWN:
		break;
	}
	smtp_refuse(s, "unknown-user", 550, "5.1.1", "<%s@%s>: Recipient "
	    "address rejected: user unknown", addr->local, domain);
	/* Guessing addresses (directory harvesting): hang up on it. */
	if (cfg->max_unknown_recipients && ++s->unknown_rcpts >=
	    cfg->max_unknown_recipients && s->state != SMTP_STATE_CLOSING) {
		log_sess(LOG_LEVEL_INFO, s->id, "event=harvest ip=%s "
		    "unknown=%u", s->client.ip, s->unknown_rcpts);
		smtp_reply(s, 421, "4.7.0", "%s Error: too many unknown "
		    "recipients", cfg->hostname);
		smtp_close(s);
	}
	return false;
}

void
smtp_cmd_rcpt(struct smtp_session *s, struct str args)
{
	struct smtp_addr addr;
	struct dir_result res;
	struct smtp_rcpt *r;

	if (!smtp_check_rcpt(s, args, &addr) ||
	    !smtp_resolve_rcpt(s, &addr, &res))
		return;
	if (s->tx.ntargets + res.n > QUEUE_RCPTS_MAX) {
		/* Aliases expand: what one queue entry can hold. */
		dir_result_free(&res);
		smtp_rcpt_overshoot(s);
		return;
	}
	s->tx.ntargets += res.n;
	s->tx.rcpts = xreallocarray(s->tx.rcpts, s->tx.nrcpts + 1,
	    sizeof(*s->tx.rcpts));
	r = &s->tx.rcpts[s->tx.nrcpts++];
	smtp_addr_format(&addr, r->addr, sizeof(r->addr));
	r->targets = res;
	s->state = SMTP_STATE_RCPT;
	log_sess(LOG_LEVEL_INFO, s->id, "event=rcpt ip=%s qid=%s to=%s "
	    "targets=%zu", s->client.ip, s->tx.qid, log_qs(r->addr), res.n);
	smtp_reply(s, 250, "2.1.5", "Ok");
}
