/*
 * smtp_cmd_starttls.c - STARTTLS (RFC 3207).
 */
#include "core/common.h"

#include "smtp/smtp_int.h"

void
smtp_cmd_starttls(struct smtp_session *s, struct str args)
{
	(void)args;
	smtp_refuse(s, "no-tls", 502, "5.5.1", "Error: TLS not available");
}
