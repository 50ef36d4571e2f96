/*
 * smtp_cmd_ehlo.c - HELO and EHLO (RFC 5321 4.1.1.1), and the extensions
 * we announce.
 *
 * The name a client gives is recorded (Received:, logs) but never trusted:
 * RFC 5321 4.1.4 forbids refusing a session because it does not match the
 * client's address. We only require something printable.
 */
#include "core/common.h"

#include "core/log.h"
#include "net/conn.h"
#include "smtp/smtp_int.h"

static bool
smtp_helo_ok(struct str name)
{
	size_t i;

	if (name.len == 0 || name.len > SMTP_DOMAIN_MAX)
		return false;
	for (i = 0; i < name.len; i++)
		if ((unsigned char)name.p[i] <= 0x20 ||
		    (unsigned char)name.p[i] >= 0x7f)
			return false;
	return true;
}

static bool
smtp_do_helo(struct smtp_session *s, struct str args, bool esmtp)
{
	struct str name = str_trim(args);

	/*
	 * A refused HELO/EHLO changes nothing: resetting first left a
	 * session in the MAIL or RCPT state with an empty transaction, whose
	 * DATA was then answered 250 with nothing stored.
	 */
	if (!smtp_helo_ok(name)) {
		smtp_refuse(s, "bad-helo", 501, "5.5.4", "Syntax: %s hostname",
		    esmtp ? "EHLO" : "HELO");
		return false;
	}
	if (s->tx.nrcpts || s->state == SMTP_STATE_MAIL) {
		/* RFC 5321 4.1.4: HELO/EHLO resets the transaction. */
		smtp_tx_reset(s);
	}
	str_copy(s->helo, sizeof(s->helo), name);
	s->esmtp = esmtp;
	s->state = SMTP_STATE_HELO;
	log_sess(LOG_LEVEL_INFO, s->id, "event=helo ip=%s helo=%s esmtp=%s",
	    s->client.ip, log_qs(s->helo), esmtp ? "yes" : "no");
	return true;
}

/*
 * After the reply. A greeting resets the transaction: EHLO, MAIL, RCPT,
 * EHLO... would move nothing forward for ever. Two are needed (before
 * and after STARTTLS, RFC 3207 4.2); the others count as junk commands.
 */
static void
smtp_helo_junk(struct smtp_session *s)
{
	if (++s->helos > 2)
		smtp_junk(s);
}

void
smtp_cmd_helo(struct smtp_session *s, struct str args)
{
	if (!smtp_do_helo(s, args, false))
		return;
	smtp_reply(s, 250, NULL, "%s", server_config(s->srv)->hostname);
	smtp_helo_junk(s);
}

void
smtp_cmd_ehlo(struct smtp_session *s, struct str args)
{
	const struct config *cfg = server_config(s->srv);
	char ext[1024];
	int n;

	if (!smtp_do_helo(s, args, true))
		return;
	n = snprintf(ext, sizeof(ext),
	    "%s\n"
	    "PIPELINING\n"		/* RFC 2920 */
	    "SIZE %llu\n"		/* RFC 1870 */
	    "8BITMIME\n"		/* RFC 6152 */
	    "ENHANCEDSTATUSCODES\n"	/* RFC 2034 */
	    "SMTPUTF8\n"		/* RFC 6531 */
	    "%s"			/* RFC 3207 */
	    "%s"			/* RFC 4954 */
	    "CHUNKING",			/* RFC 3030 */
	    cfg->hostname, (unsigned long long)cfg->max_message_size,
	    s->kind != LISTEN_SUBMISSIONS && !conn_is_tls(s->conn) ?
	    "STARTTLS\n" : "",
	    smtp_auth_offered(s) ? "AUTH PLAIN LOGIN\n" : "");
	if (n < 0 || (size_t)n >= sizeof(ext))
		fatal("EHLO reply does not fit");
	smtp_reply(s, 250, NULL, "%s", ext);
	smtp_helo_junk(s);
}
