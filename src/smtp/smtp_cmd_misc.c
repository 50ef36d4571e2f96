/*
 * smtp_cmd_misc.c - RSET, NOOP, QUIT, HELP, VRFY and EXPN (RFC 5321 4.1.1).
 */
#include "core/common.h"

#include "smtp/smtp_int.h"

/*
 * After the reply. Commands that move nothing forward, past [limits]
 * max_junk_commands in a session (until a message is delivered), each
 * count as an error: one every few minutes would otherwise hold a
 * connection slot for ever (Postfix's smtpd_junk_command_limit, same
 * default).
 */
void
smtp_junk(struct smtp_session *s)
{
	if (++s->junk > server_config(s->srv)->max_junk_commands)
		smtp_error(s);
}

void
smtp_cmd_rset(struct smtp_session *s, struct str args)
{
	if (args.len) {
		smtp_refuse(s, "bad-syntax", 501, "5.5.4", "Syntax: RSET");
		return;
	}
	smtp_tx_reset(s);
	if (s->state > SMTP_STATE_HELO)
		s->state = SMTP_STATE_HELO;
	smtp_reply(s, 250, "2.0.0", "Ok");
	smtp_junk(s);
}

void
smtp_cmd_noop(struct smtp_session *s, struct str args)
{
	(void)args;		/* RFC 5321 4.1.1.9: a parameter is ignored */
	smtp_reply(s, 250, "2.0.0", "Ok");
	smtp_junk(s);
}

void
smtp_cmd_quit(struct smtp_session *s, struct str args)
{
	(void)args;
	smtp_reply(s, 221, "2.0.0", "Bye");
	smtp_close(s);
}

void
smtp_cmd_help(struct smtp_session *s, struct str args)
{
	(void)args;
	smtp_reply(s, 214, "2.0.0", "Commands: HELO EHLO MAIL RCPT DATA BDAT "
	    "RSET NOOP QUIT HELP VRFY\nSee RFC 5321 and facteur's README");
	smtp_junk(s);
}

/*
 * RFC 5321 3.5.3: 252 when we will not verify; answering 250/550 here
 * would let anyone list our users.
 */
void
smtp_cmd_vrfy(struct smtp_session *s, struct str args)
{
	if (str_trim(args).len == 0) {
		smtp_refuse(s, "bad-syntax", 501, "5.5.4", "Syntax: VRFY "
		    "address");
		return;
	}
	smtp_reply(s, 252, "2.5.0", "Cannot verify the user, but will accept "
	    "mail for valid recipients");
	smtp_junk(s);
}
