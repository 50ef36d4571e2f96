/*
 * smtp_cmd_auth.c - AUTH (RFC 4954).
 */
#include "core/common.h"

#include "smtp/smtp_int.h"

void
smtp_cmd_auth(struct smtp_session *s, struct str args)
{
	(void)args;
	smtp_refuse(s, "no-auth", 502, "5.5.1", "Error: authentication not "
	    "enabled");
}
