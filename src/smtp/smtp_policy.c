/*
 * smtp_policy.c - who may send what through this session: the relay rule
 * and the sender rules for authenticated users.
 *
 * Never an open relay: without AUTH, a session may only send to our own
 * domains (checked in smtp_cmd_rcpt.c); on the submission listeners MAIL
 * needs AUTH first. An authenticated user may only use their own
 * addresses, in the envelope (MAIL FROM) and in the From: header, so a
 * stolen or shared account cannot forge a colleague.
 */
#include "core/common.h"

#include "core/log.h"
#include "mime/mime_hdr.h"
#include "queue/spool.h"
#include "smtp/smtp_int.h"

/* The header section we read to check From: (larger is refused). */
#define SMTP_HEADER_SCAN_MAX (256 * 1024)
#define SMTP_FROM_ADDRS_MAX 16
/* RFC 5321 6.3: "normally at least 100 Received entries". */
#define SMTP_HOPS_MAX 100

bool
smtp_policy_mail(struct smtp_session *s, const struct smtp_addr *from)
{
	char addr[SMTP_ADDR_TEXT_MAX];
	bool submission = s->kind == LISTEN_SUBMISSION ||
	    s->kind == LISTEN_SUBMISSIONS;

	if (submission && s->auth_user[0] == '\0') {
		/* RFC 6409 4.3: the MSA requires authentication. */
		smtp_refuse(s, "auth-required", 530, "5.7.0",
		    "Authentication required");
		return false;
	}
	if (s->auth_user[0] == '\0')
		return true;
	if (from->null) {
		smtp_refuse(s, "sender-denied", 553, "5.7.1", "Sender address "
		    "rejected: the null sender is reserved for bounces");
		return false;
	}
	smtp_addr_format(from, addr, sizeof(addr));
	if (!directory_sender_allowed(server_directory(s->srv), addr,
	    s->auth_user)) {
		smtp_refuse(s, "sender-denied", 553, "5.7.1", "Sender address "
		    "rejected: <%s> does not belong to %s", addr, s->auth_user);
		return false;
	}
	return true;
}

/* The first bytes of the message, in memory (spilled spools are read). */
static const char *
smtp_policy_head(struct spool *sp, char **copy, size_t *len)
{
	const char *mem = spool_mem(sp);
	ssize_t n;

	*copy = NULL;
	*len = MIN(spool_size(sp), (size_t)SMTP_HEADER_SCAN_MAX);
	if (mem != NULL)
		return mem;
	*copy = xmalloc(*len + 1);
	n = spool_read(sp, 0, *copy, *len);
	if (n < 0)
		return NULL;
	*len = (size_t)n;
	return *copy;
}

/*
 * Checks every address of the message's one From: field. cut: p holds
 * only the first SMTP_HEADER_SCAN_MAX octets of a longer message.
 */
static const char *
smtp_policy_from_field(struct smtp_session *s, const char *p, size_t len,
    bool cut)
{
	struct smtp_addr addrs[SMTP_FROM_ADDRS_MAX];
	char addr[SMTP_ADDR_TEXT_MAX];
	struct mime_hdr_iter it;
	struct str name, value, from = STR_NULL;
	size_t n, i, count = 0;
	int r;

	mime_hdr_iter_init(&it, p, len);
	while ((r = mime_hdr_next(&it, &name, &value)) == 1)
		if (str_caseeq_cstr(name, "From")) {
			from = value;
			count++;
		}
	if (r == -1)
		return "malformed header section";
	/* A second From: could hide past what was read: refused too. */
	if (cut && !it.done)
		return "header section larger than 256 KB";
	/* RFC 5322 3.6: exactly one From: field. */
	if (count != 1)
		return count ? "more than one From: header" :
		    "no From: header";
	if (mime_addr_list(from, addrs, ARRAY_LEN(addrs), &n) == -1 || n == 0)
		return "unreadable From: header";
	for (i = 0; i < n; i++) {
		smtp_addr_format(&addrs[i], addr, sizeof(addr));
		if (!directory_sender_allowed(server_directory(s->srv), addr,
		    s->auth_user))
			return "From: header address does not belong to you";
	}
	return NULL;
}

/* RFC 5321 6.3: a mail loop shows as a pile of Received: fields. */
static unsigned
smtp_policy_hops(const char *p, size_t len)
{
	struct mime_hdr_iter it;
	struct str name, value;
	unsigned hops = 0;

	mime_hdr_iter_init(&it, p, len);
	while (mime_hdr_next(&it, &name, &value) == 1)
		if (str_caseeq_cstr(name, "Received"))
			hops++;
	return hops;
}

bool
smtp_policy_content(struct smtp_session *s)
{
	const char *p, *why = NULL;
	char *copy;
	size_t len;
	unsigned hops;

	p = smtp_policy_head(s->tx.spool, &copy, &len);
	if (p == NULL) {
		free(copy);
		smtp_refuse(s, "io-error", 451, "4.3.0",
		    "Error: cannot read the message back");
		return false;
	}
	hops = smtp_policy_hops(p, len) + 1;	/* with ours */
	if (hops > SMTP_HOPS_MAX) {
		free(copy);
		smtp_refuse(s, "loop", 554, "5.4.6", "Message refused: too "
		    "many hops (%u Received: fields), mail loop?", hops);
		return false;
	}
	if (s->auth_user[0] && server_config(s->srv)->submission_check_from)
		why = smtp_policy_from_field(s, p, len,
		    len < spool_size(s->tx.spool));
	free(copy);
	if (why == NULL)
		return true;
	smtp_refuse(s, "from-denied", 550, "5.7.1", "Message refused: %s "
	    "(authenticated as %s)", why, s->auth_user);
	return false;
}
