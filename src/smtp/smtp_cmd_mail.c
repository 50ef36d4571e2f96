/*
 * smtp_cmd_mail.c - MAIL FROM (RFC 5321 4.1.1.2) and its parameters:
 * SIZE (RFC 1870), BODY (RFC 6152), SMTPUTF8 (RFC 6531), AUTH (RFC 4954 5).
 */
#include "core/common.h"

#include "auth/rate.h"
#include "core/log.h"
#include "smtp/smtp_int.h"

/* One MAIL parameter; false after replying with the refusal. */
static bool
smtp_mail_param(struct smtp_session *s, const struct smtp_param *p)
{
	const struct config *cfg = server_config(s->srv);
	uint64_t size;

	if (str_caseeq_cstr(p->key, "SIZE")) {
		/* RFC 1870 6: refuse early what we would refuse later. */
		if (p->value.p == NULL ||
		    str_to_u64(p->value, UINT64_MAX, &size) == -1) {
			smtp_refuse(s, "bad-syntax", 501, "5.5.4",
			    "Syntax: SIZE=<octets>");
			return false;
		}
		if (size > cfg->max_message_size) {
			smtp_refuse(s, "too-big", 552, "5.3.4", "Message size "
			    "exceeds fixed limit of %llu octets",
			    (unsigned long long)cfg->max_message_size);
			return false;
		}
		s->tx.declared_size = size;
	} else if (str_caseeq_cstr(p->key, "BODY")) {
		if (p->value.p == NULL ||
		    (!str_caseeq_cstr(p->value, "7BIT") &&
		    !str_caseeq_cstr(p->value, "8BITMIME"))) {
			smtp_refuse(s, "bad-syntax", 501, "5.5.4",
			    "Syntax: BODY=7BIT or BODY=8BITMIME");
			return false;
		}
		s->tx.body_8bit = str_caseeq_cstr(p->value, "8BITMIME");
	} else if (str_caseeq_cstr(p->key, "SMTPUTF8") && p->value.p == NULL) {
		s->tx.smtputf8 = true;
	} else if (str_caseeq_cstr(p->key, "AUTH")) {
		/* RFC 4954 5: from an unauthenticated client, ignored. */
	} else {
		smtp_refuse(s, "bad-param", 555, "5.5.4", "Unsupported "
		    "parameter %.*s", (int)MIN(p->key.len, 64), p->key.p);
		return false;
	}
	return true;
}

static bool
smtp_check_mail(struct smtp_session *s, struct str args,
    struct smtp_addr *addr)
{
	struct smtp_param params[SMTP_PARAMS_MAX];
	enum smtp_addr_err err;
	struct str rest;
	size_t n, i;

	if (smtp_parse_mail_rcpt(args, "FROM", &rest) == -1) {
		smtp_refuse(s, "bad-syntax", 501, "5.5.4",
		    "Syntax: MAIL FROM:<address>");
		return false;
	}
	err = smtp_addr_parse_path(&rest, SMTP_ADDR_NULL_OK | SMTP_ADDR_UTF8,
	    addr);
	if (err != SMTP_ADDR_OK) {
		smtp_refuse(s, "bad-sender", 501, "5.1.7", "Bad sender "
		    "address: %s", smtp_addr_strerror(err));
		return false;
	}
	if (smtp_parse_params(rest, params, ARRAY_LEN(params), &n, true) ==
	    -1 || (n > 0 && !s->esmtp)) {
		smtp_refuse(s, "bad-syntax", 555, "5.5.4",
		    "Bad MAIL parameters");
		return false;
	}
	for (i = 0; i < n; i++)
		if (!smtp_mail_param(s, &params[i]))
			return false;
	/* RFC 6531 3.4: non-ASCII addresses need SMTPUTF8. */
	if (addr->utf8 && !s->tx.smtputf8) {
		smtp_refuse(s, "bad-sender", 553, "5.6.7", "Non-ASCII sender "
		    "address requires SMTPUTF8");
		return false;
	}
	if (!smtp_policy_mail(s, addr))
		return false;
	if (s->auth_user[0] && !rate_take(server_user_messages(s->srv),
	    s->auth_user, 1, server_config(s->srv)->user_messages_per_minute)) {
		smtp_refuse(s, "rate-limit", 451, "4.7.1", "Too many messages "
		    "per minute for %s, try again later", s->auth_user);
		return false;
	}
	return true;
}

void
smtp_cmd_mail(struct smtp_session *s, struct str args)
{
	struct smtp_addr addr;

	if (s->state < SMTP_STATE_HELO) {
		smtp_refuse(s, "bad-sequence", 503, "5.5.1",
		    "Error: send HELO/EHLO first");
		return;
	}
	if (s->state >= SMTP_STATE_MAIL) {
		smtp_refuse(s, "bad-sequence", 503, "5.5.1",
		    "Error: nested MAIL command");
		return;
	}
	smtp_tx_reset(s);
	if (!smtp_check_mail(s, args, &addr)) {
		smtp_tx_reset(s);
		return;
	}
	smtp_addr_format(&addr, s->tx.mail_from, sizeof(s->tx.mail_from));
	util_random_id(s->tx.qid);
	s->state = SMTP_STATE_MAIL;
	log_sess(LOG_LEVEL_INFO, s->id, "event=mail ip=%s qid=%s from=%s "
	    "size=%llu user=%s", s->client.ip, s->tx.qid,
	    log_qs(s->tx.mail_from), (unsigned long long)s->tx.declared_size,
	    s->auth_user[0] ? log_qs(s->auth_user) : "-");
	smtp_check_spf(s);	/* SPF starts now, while the data comes */
	smtp_reply(s, 250, "2.1.0", "Ok");
}
