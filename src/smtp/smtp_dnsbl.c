/*
 * smtp_dnsbl.c - DNS blocklists on the smtp listener ([dnsbl] zones).
 *
 * The client's address is looked up in each zone (RFC 5782 2.1: the
 * reversed IPv4 octets, or reversed IPv6 nibbles, under the zone) while
 * the greeting waits; a listed client gets "554 5.7.1 ... blocked using
 * <zone>" instead of "220" (RFC 5321 3.1: 554 at the greeting means no
 * service here) and is disconnected. A zone that does not answer within
 * SMTP_DNSBL_WAIT counts as "not listed": a slow blocklist must not stop
 * the mail.
 */
#include "core/common.h"

#include <arpa/inet.h>
#include <event2/event.h>

#include "core/log.h"
#include "dns/dns.h"
#include "dns/dns_rr.h"
#include "smtp/smtp_int.h"

#define SMTP_DNSBL_ZONES_MAX	8
#define SMTP_DNSBL_WAIT		5

struct smtp_dnsbl_q {
	struct smtp_dnsbl	*bl;
	struct dns_query	*q;
	char			 zone[SMTP_DOMAIN_MAX + 1];	/* a copy:
					   a reload frees the config */
};

struct smtp_dnsbl {
	struct smtp_session	*s;
	struct smtp_dnsbl_q	 qs[SMTP_DNSBL_ZONES_MAX];
	unsigned		 pending;
	char			 listed[SMTP_DOMAIN_MAX + 1];
	struct event		*timer;
};

/* "2.0.0.127" for 127.0.0.2; nibbles for IPv6 (RFC 5782 2.4). */
static int
smtp_dnsbl_name(const struct sockaddr_storage *ss, const char *zone,
    char *out, size_t size)
{
	const unsigned char *b;
	size_t o = 0, i;

	if (ss->ss_family == AF_INET) {
		b = (const unsigned char *)&((const struct sockaddr_in *)ss)->
		    sin_addr;
		return snprintf(out, size, "%u.%u.%u.%u.%s", b[3], b[2], b[1],
		    b[0], zone) < (int)size ? 0 : -1;
	}
	b = (const unsigned char *)&((const struct sockaddr_in6 *)ss)->
	    sin6_addr;
	for (i = 16; i > 0 && o + 4 < size; i--) {
		snprintf(out + o, size - o, "%x.%x.", b[i - 1] & 15,
		    b[i - 1] >> 4);
		o += 4;
	}
	return snprintf(out + o, size - o, "%s", zone) < (int)(size - o) ?
	    0 : -1;
}

static void
smtp_dnsbl_finish(struct smtp_dnsbl *bl)
{
	struct smtp_session *s = bl->s;

	if (bl->listed[0])
		log_sess(LOG_LEVEL_INFO, s->id, "event=dnsbl-listed ip=%s "
		    "zone=%s", s->client.ip, bl->listed);
	smtp_greet_ready(s);
}

static void
smtp_dnsbl_cb(void *arg, const struct dns_answer *ans)
{
	struct smtp_dnsbl_q *q = arg;
	struct smtp_dnsbl *bl = q->bl;
	int k;

	q->q = NULL;
	/*
	 * RFC 5782 2.3: listed means an A record in 127.0.0.0/8. But
	 * 127.255.255.0/24 is what large lists (Spamhaus) answer to say the
	 * query itself is refused (e.g. through a public resolver): an
	 * error about us, not a verdict on the client.
	 */
	for (k = 0; ans->status == DNS_OK && k < ans->count; k++) {
		const unsigned char *a = (const unsigned char *)ans->data[k];

		if (ans->len[k] != 4 || a[0] != 127)
			continue;
		if (a[1] == 255 && a[2] == 255) {
			log_warn("event=dnsbl-error zone=%s code=127.255.255.%u "
			    "hint=\"the list refuses our queries: use a "
			    "resolver of your own\"", log_qs(q->zone), a[3]);
			continue;
		}
		if (bl->listed[0] == '\0')
			cstr_copy(bl->listed, sizeof(bl->listed), q->zone);
	}
	if (--bl->pending == 0)
		smtp_dnsbl_finish(bl);
}

static void
smtp_dnsbl_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct smtp_dnsbl *bl = arg;
	size_t i;

	(void)fd;
	(void)what;
	for (i = 0; i < SMTP_DNSBL_ZONES_MAX; i++)
		if (bl->qs[i].q) {
			dns_cancel(bl->qs[i].q);
			bl->qs[i].q = NULL;
		}
	if (bl->pending) {
		bl->pending = 0;
		smtp_dnsbl_finish(bl);
	}
}

void
smtp_dnsbl_start(struct smtp_session *s)
{
	char *const *zones = server_config(s->srv)->dnsbl_zones;
	struct timeval tv = { SMTP_DNSBL_WAIT, 0 };
	struct smtp_dnsbl *bl;
	char name[600];
	size_t i;

	if (zones == NULL || zones[0] == NULL || s->kind != LISTEN_SMTP)
		return;
	bl = s->dnsbl = xcalloc(1, sizeof(*bl));
	bl->s = s;
	for (i = 0; zones[i] && i < SMTP_DNSBL_ZONES_MAX; i++) {
		if (smtp_dnsbl_name(&s->peer, zones[i], name, sizeof(name))
		    == -1)
			continue;
		bl->qs[i].bl = bl;
		cstr_copy(bl->qs[i].zone, sizeof(bl->qs[i].zone), zones[i]);
		bl->pending++;
		bl->qs[i].q = dns_query(server_dns(s->srv), name, DNS_TYPE_A,
		    smtp_dnsbl_cb, &bl->qs[i]);
	}
	bl->timer = evtimer_new(server_base(s->srv), smtp_dnsbl_timeout, bl);
	evtimer_add(bl->timer, &tv);
}

bool
smtp_dnsbl_pending(const struct smtp_session *s)
{
	return s->dnsbl != NULL && s->dnsbl->pending > 0;
}

const char *
smtp_dnsbl_listed(const struct smtp_session *s)
{
	return s->dnsbl != NULL && s->dnsbl->listed[0] ? s->dnsbl->listed :
	    NULL;
}

void
smtp_dnsbl_free(struct smtp_session *s)
{
	struct smtp_dnsbl *bl = s->dnsbl;
	size_t i;

	if (bl == NULL)
		return;
	for (i = 0; i < SMTP_DNSBL_ZONES_MAX; i++)
		if (bl->qs[i].q)
			dns_cancel(bl->qs[i].q);
	if (bl->timer)
		event_free(bl->timer);
	XFREE(&s->dnsbl);
}
