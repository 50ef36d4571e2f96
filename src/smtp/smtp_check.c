/*
 * smtp_check.c - message authentication at the end of a transaction.
 *
 * Inbound (the smtp listener, no AUTH): SPF for the MAIL FROM domain
 * (started as soon as MAIL is accepted, RFC 7208), DKIM verification of
 * up to SMTP_DKIM_SIGS_MAX signatures (RFC 6376), DMARC for the From:
 * domain (RFC 7489), and one Authentication-Results field (RFC 8601) with
 * our host name as authserv-id. A field already in the message that claims
 * our authserv-id is renamed, so nobody can forge our verdict. When DMARC
 * fails and the domain's policy says reject or quarantine, [dmarc]
 * decides: refuse with 550 5.7.1, file into the quarantine folder, or just
 * deliver.
 *
 * Outbound (authenticated users): the message is signed for its From:
 * domain with every key the domain has (RSA, and Ed25519 too when there
 * is such a key), once, here, before it is queued.
 *
 * Everything slow happens off the loop: DNS through libunbound, body
 * hashing on a worker thread. The session's input stays paused; when the
 * last piece is in, smtp_check_done() decides and hands over to commit.
 */
#include "core/common.h"

#include <event2/event.h>
#include <sys/random.h>
#include <time.h>

#include "config/config.h"
#include "core/cidr.h"
#include "core/log.h"
#include "core/workq.h"
#include "dkim/dkim.h"
#include "dkim/dkim_store.h"
#include "dmarc/dmarc.h"
#include "dns/dns.h"
#include "dns/dns_rr.h"
#include "mime/mime_hdr.h"
#include "net/conn.h"
#include "queue/spool.h"
#include "smtp/smtp_int.h"
#include "spf/spf.h"

#define SMTP_DKIM_SIGS_MAX	5
#define SMTP_CHECK_HEAD_MAX	(256 * 1024)
#define SMTP_CHECK_TIMEOUT	30
#define SMTP_BH_MAX		128

struct smtp_dkim_item {
	struct smtp_check	*chk;
	struct dkim_sig		 sig;
	char			*field;		/* the whole field, copied */
	size_t			 fieldlen;
	struct dns_query	*q;
	bool			 parsed;
	bool			 key_ok;
	bool			 key_tempfail;
	struct dkim_key		 key;
	char			 bh[SMTP_BH_MAX];
	uint64_t		 bodylen;	/* canonical, for its c= */
	enum dkim_result	 result;
	const char		*why;
};

struct smtp_check {
	struct smtp_session	*s;
	/* SPF, from MAIL on. */
	struct spf_check	*spf;
	bool			 spf_done;
	enum spf_result		 spf_result;
	char			 spf_domain[SMTP_DOMAIN_MAX + 1];
	bool			 spf_helo;	/* checked the HELO name */
	/* End of data. */
	bool			 started;
	unsigned		 pending;
	char			*head;		/* header section, copied */
	size_t			 headlen;
	size_t			 body_off;	/* in the spool */
	char			 from_domain[SMTP_DOMAIN_MAX + 1];
	bool			 from_ok;
	bool			 head_cut;	/* no end within what was read */
	const char		*from_bad;	/* why DMARC cannot judge From: */
	struct smtp_dkim_item	 dkim[SMTP_DKIM_SIGS_MAX];
	size_t			 ndkim;
	struct dmarc_lookup	*dmarc;
	bool			 dmarc_found;
	bool			 dmarc_temp;
	bool			 dmarc_org;
	struct dmarc_record	 dmarc_rec;
	struct workq_job	*hash_job;
	char			 sign_bh[SMTP_BH_MAX];	/* relaxed sha256 */
	struct event		*timer;
	bool			 timed_out;
};

/* The body hashing job: a worker thread reads the spool (the session
 * does not touch it while paused) and feeds every hasher. */
struct smtp_hash_job {
	struct spool		*spool;
	size_t			 off;
	struct dkim_body	*hashers[SMTP_DKIM_SIGS_MAX + 1];
	char			 out[SMTP_DKIM_SIGS_MAX + 1][SMTP_BH_MAX];
	uint64_t		 len[SMTP_DKIM_SIGS_MAX + 1];
	size_t			 n;
	struct smtp_check	*chk;
};

static void smtp_check_step(struct smtp_check *chk);
static void smtp_hash_forgotten(void *arg);

/*
 * Inbound checks are for mail from other servers: not for our own users
 * (authenticated), and not for [checks] skip (by default loopback: local
 * scripts and a local webmail, for which SPF says nothing true; as
 * policyd-spf skips them).
 */
bool
smtp_check_wanted(const struct smtp_session *s)
{
	return s->kind == LISTEN_SMTP && s->auth_user[0] == '\0' &&
	    !cidr_list_contains(&server_config(s->srv)->check_skip,
	    s->client.ip);
}

static void
smtp_check_spf_done(void *arg, enum spf_result result, const char *exp,
    const char *why)
{
	struct smtp_check *chk = arg;

	(void)exp;
	chk->spf = NULL;
	chk->spf_done = true;
	chk->spf_result = result;
	log_sess(LOG_LEVEL_INFO, chk->s->id, "event=spf ip=%s domain=%s "
	    "result=%s why=%s", chk->s->client.ip, log_qs(chk->spf_domain),
	    spf_result_name(result), log_qs(why));
	if (chk->started && --chk->pending == 0)
		smtp_check_step(chk);
}

/* RFC 7208 2.4: MAIL FROM, or the HELO name for the null sender. */
void
smtp_check_spf(struct smtp_session *s)
{
	struct smtp_check *chk;
	struct spf_request req;
	const char *at = strrchr(s->tx.mail_from, '@');

	if (!smtp_check_wanted(s))
		return;
	chk = s->tx.check = xcalloc(1, sizeof(*chk));
	chk->s = s;
	chk->spf_helo = at == NULL;
	cstr_copy(chk->spf_domain, sizeof(chk->spf_domain), at ? at + 1 :
	    s->helo);
	ascii_lower_inplace(chk->spf_domain, strlen(chk->spf_domain));
	memset(&req, 0, sizeof(req));
	req.ip = s->peer;
	req.sender = s->tx.mail_from;
	req.helo = s->helo;
	req.domain = chk->spf_domain;
	req.receiver = server_config(s->srv)->hostname;
	chk->spf = spf_check_start(server_dns(s->srv), &req,
	    smtp_check_spf_done, chk);
}

void
smtp_check_free(struct smtp_check **chkp)
{
	struct smtp_check *chk = *chkp;
	size_t i;

	if (chk == NULL)
		return;
	if (chk->spf)
		spf_check_cancel(chk->spf);
	if (chk->dmarc)
		dmarc_lookup_cancel(chk->dmarc);
	if (chk->hash_job) {
		/* The worker still reads: it frees job and spool after. */
		workq_forget(chk->hash_job, smtp_hash_forgotten);
	}
	for (i = 0; i < chk->ndkim; i++) {
		if (chk->dkim[i].q)
			dns_cancel(chk->dkim[i].q);
		dkim_key_release(&chk->dkim[i].key);
		free(chk->dkim[i].field);
	}
	if (chk->timer)
		event_free(chk->timer);
	free(chk->head);
	XFREE(chkp);
}

/* Reads the header section out of the spool (a copy: DKIM needs the
 * original bytes even after forged A-R fields are renamed). */
static int
smtp_check_head(struct smtp_check *chk, struct spool *sp)
{
	size_t want = MIN(spool_size(sp), (size_t)SMTP_CHECK_HEAD_MAX), i;
	char *p = xmalloc(want + 1);
	ssize_t n = spool_read(sp, 0, p, want);

	if (n < 0) {
		free(p);
		return -1;
	}
	p[n] = '\0';
	/* The section ends at the first empty line (RFC 5322 2.1). */
	chk->headlen = (size_t)n;
	chk->body_off = spool_size(sp);
	if (n >= 2 && p[0] == '\r' && p[1] == '\n') {
		chk->headlen = 0;
		chk->body_off = 2;
	}
	chk->head_cut = spool_size(sp) > want;
	for (i = 0; i + 3 < (size_t)n; i++)
		if (memcmp(p + i, "\r\n\r\n", 4) == 0) {
			chk->headlen = i + 2;
			chk->body_off = i + 4;
			chk->head_cut = false;
			break;
		}
	chk->head = p;
	return 0;
}

/*
 * The one domain of the From: field, for DMARC (RFC 7489 6.6.1). A From:
 * that DMARC cannot judge is a way around it (a second From: of a bank
 * above a genuine signed message: DKIM picks the lower one): from_bad
 * says why, and mail from other servers is refused for it. No From: at
 * all shows no one to impersonate: judged none.
 */
static void
smtp_check_from(struct smtp_check *chk)
{
	struct smtp_addr addrs[8];
	struct mime_hdr_iter it;
	struct str name, value, from = STR_NULL;
	size_t n, i, count = 0;

	mime_hdr_iter_init(&it, chk->head, chk->headlen);
	while (mime_hdr_next(&it, &name, &value) == 1)
		if (str_caseeq_cstr(name, "From")) {
			from = value;
			count++;
		}
	if (chk->head_cut) {
		chk->from_bad = "header section larger than 256 KB";
		return;
	}
	if (count > 1) {
		chk->from_bad = "more than one From: field";
		return;
	}
	if (count == 0)
		return;
	if (mime_addr_list(from, addrs, ARRAY_LEN(addrs), &n) == -1 ||
	    n == 0) {
		chk->from_bad = "unreadable From: field";
		return;
	}
	for (i = 1; i < n; i++)
		if (strcmp(addrs[i].domain, addrs[0].domain) != 0) {
			chk->from_bad = "From: addresses in more than one "
			    "domain";
			return;
		}
	cstr_copy(chk->from_domain, sizeof(chk->from_domain),
	    addrs[0].domain);
	chk->from_ok = true;
}

static void
smtp_check_key_cb(void *arg, const struct dns_answer *ans)
{
	struct smtp_dkim_item *it = arg;
	struct smtp_check *chk = it->chk;
	struct buf txt;
	const char *why;
	int k;

	it->q = NULL;
	if (ans->status == DNS_TEMPFAIL) {
		it->key_tempfail = true;
	} else if (ans->status == DNS_OK) {
		/* RFC 6376 3.6.2.2: the strings of one TXT record joined. */
		for (k = 0; k < ans->count && !it->key_ok; k++) {
			buf_init(&txt, 8192);
			if (dns_rr_txt((const unsigned char *)ans->data[k],
			    (size_t)ans->len[k], &txt) == 0 &&
			    dkim_key_parse(str_make(buf_data(&txt),
			    buf_len(&txt)), &it->key, &why) == 0)
				it->key_ok = true;
			else
				it->why = "unusable key record";
			buf_release(&txt);
		}
	} else {
		it->why = "no key record";
	}
	if (--chk->pending == 0)
		smtp_check_step(chk);
}

/* Every DKIM-Signature field (up to a limit) parsed, its key fetched. */
static void
smtp_check_dkim_start(struct smtp_check *chk)
{
	struct mime_hdr_iter it;
	struct str name, value;
	char qname[600];

	mime_hdr_iter_init(&it, chk->head, chk->headlen);
	while (chk->ndkim < SMTP_DKIM_SIGS_MAX &&
	    mime_hdr_next(&it, &name, &value) == 1) {
		struct smtp_dkim_item *d;

		if (!str_caseeq_cstr(name, "DKIM-Signature"))
			continue;
		d = &chk->dkim[chk->ndkim++];
		d->chk = chk;
		d->fieldlen = (size_t)(value.p + value.len - name.p);
		d->field = xmemdup0(name.p, d->fieldlen);
		d->result = DKIM_PERMERROR;
		if (dkim_sig_parse(str_make(d->field + (value.p - name.p),
		    value.len), &d->sig, &d->why) == -1)
			continue;
		d->parsed = true;
		snprintf(qname, sizeof(qname), "%s._domainkey.%s",
		    d->sig.selector, d->sig.domain);
		chk->pending++;
		d->q = dns_query(server_dns(chk->s->srv), qname, DNS_TYPE_TXT,
		    smtp_check_key_cb, d);
	}
}

static void
smtp_check_dmarc_cb(void *arg, bool found, bool temperror,
    const struct dmarc_record *rec, bool org_record)
{
	struct smtp_check *chk = arg;

	chk->dmarc = NULL;
	chk->dmarc_found = found;
	chk->dmarc_temp = temperror;
	chk->dmarc_org = org_record;
	if (found)
		chk->dmarc_rec = *rec;
	if (--chk->pending == 0)
		smtp_check_step(chk);
}

static void
smtp_hash_work(void *arg)
{
	struct smtp_hash_job *job = arg;
	char chunk[65536];
	size_t off = job->off, i;
	ssize_t n;

	while ((n = spool_read(job->spool, off, chunk, sizeof(chunk))) > 0) {
		for (i = 0; i < job->n; i++)
			dkim_body_update(job->hashers[i], chunk, (size_t)n);
		off += (size_t)n;
	}
	for (i = 0; i < job->n; i++)
		dkim_body_final_len(&job->hashers[i], job->out[i],
		    sizeof(job->out[i]), &job->len[i]);
}

/* A job whose session went away: the spool is its to free. */
static void
smtp_hash_forgotten(void *arg)
{
	struct smtp_hash_job *job = arg;

	spool_free(&job->spool);
	free(job);
}

static void
smtp_hash_done(void *arg)
{
	struct smtp_hash_job *job = arg;
	struct smtp_check *chk = job->chk;
	size_t i, h = 0;

	chk->hash_job = NULL;
	chk->s->tx.spool = job->spool;		/* back to the session */
	for (i = 0; i < chk->ndkim; i++)
		if (chk->dkim[i].parsed) {
			chk->dkim[i].bodylen = job->len[h];
			cstr_copy(chk->dkim[i].bh, SMTP_BH_MAX, job->out[h++]);
		}
	if (h < job->n)
		cstr_copy(chk->sign_bh, sizeof(chk->sign_bh), job->out[h]);
	free(job);
	if (--chk->pending == 0)
		smtp_check_step(chk);
}

/* One pass over the body for every hash needed; sign: also ours. */
static void
smtp_check_hash_start(struct smtp_check *chk, bool sign)
{
	struct smtp_hash_job *job = xcalloc(1, sizeof(*job));
	size_t i;

	for (i = 0; i < chk->ndkim; i++) {
		const struct dkim_sig *sig = &chk->dkim[i].sig;

		if (chk->dkim[i].parsed)
			job->hashers[job->n++] = dkim_body_new(sig->alg,
			    sig->bcanon, sig->has_l, sig->l);
	}
	if (sign)	/* relaxed/sha256: the same for RSA and Ed25519 */
		job->hashers[job->n++] = dkim_body_new(DKIM_ALG_RSA_SHA256,
		    DKIM_CANON_RELAXED, false, 0);
	if (job->n == 0) {
		free(job);
		return;
	}
	job->spool = chk->s->tx.spool;
	chk->s->tx.spool = NULL;		/* the worker's, for now */
	job->off = chk->body_off;
	job->chk = chk;
	chk->pending++;
	chk->hash_job = workq_submit(server_workq(chk->s->srv), smtp_hash_work,
	    smtp_hash_done, job);
}

/*
 * RFC 8601 2.2: the authserv-id, after any folding whitespace and
 * comments (a forger starts the value with a fold or a "(x)" so that a
 * plain trim finds nothing to compare).
 */
static struct str
smtp_check_authserv_id(struct str v)
{
	size_t i = 0, start, depth = 0;

	while (i < v.len) {
		char c = v.p[i];

		if (depth > 0 && c == '\\' && i + 1 < v.len)
			i++;
		else if (c == '(')
			depth++;
		else if (c == ')' && depth > 0)
			depth--;
		else if (depth == 0 && c != ' ' && c != '\t' && c != '\r' &&
		    c != '\n')
			break;
		i++;
	}
	start = i;
	while (i < v.len && !strchr("; \t\r\n(", v.p[i]))
		i++;
	return str_make(v.p + start, i - start);
}

/*
 * RFC 8601 5: a field claiming our authserv-id that came with the message
 * is forged. It is renamed in place (same length), so the user's filters
 * never trust it, and the message is otherwise untouched.
 */
static void
smtp_check_rename_forged(struct smtp_check *chk)
{
	static const char renamed[] = "X-Dropped-Auth-Results";
	const char *ours = server_config(chk->s->srv)->hostname;
	struct mime_hdr_iter it;
	struct str name, value, id;

	mime_hdr_iter_init(&it, chk->head, chk->headlen);
	while (mime_hdr_next(&it, &name, &value) == 1) {
		if (!str_caseeq_cstr(name, "Authentication-Results"))
			continue;
		id = smtp_check_authserv_id(value);
		if (!str_caseeq_cstr(id, ours))
			continue;
		if (spool_overwrite(chk->s->tx.spool, (size_t)(name.p -
		    chk->head), renamed, sizeof(renamed) - 1) == 0)
			log_sess(LOG_LEVEL_INFO, chk->s->id, "event=forged-"
			    "auth-results ip=%s", chk->s->client.ip);
	}
}

/* DNS work that has not answered counts as a temporary error. */
static void
smtp_check_on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct smtp_check *chk = arg;
	size_t i;

	(void)fd;
	(void)what;
	chk->timed_out = true;
	log_sess(LOG_LEVEL_WARN, chk->s->id, "event=check-timeout ip=%s "
	    "pending=%u", chk->s->client.ip, chk->pending);
	if (chk->spf) {
		spf_check_cancel(chk->spf);
		chk->spf = NULL;
		chk->spf_done = true;
		chk->spf_result = SPF_TEMPERROR;
		chk->pending--;
	}
	if (chk->dmarc) {
		dmarc_lookup_cancel(chk->dmarc);
		chk->dmarc = NULL;
		chk->dmarc_temp = true;
		chk->pending--;
	}
	for (i = 0; i < chk->ndkim; i++)
		if (chk->dkim[i].q) {
			dns_cancel(chk->dkim[i].q);
			chk->dkim[i].q = NULL;
			chk->dkim[i].key_tempfail = true;
			chk->pending--;
		}
	/* A body hash still running is local work: it will finish. */
	if (chk->pending == 0)
		smtp_check_step(chk);
}

/*
 * End of data: returns true when checks were started (the session then
 * waits for smtp_check_step), false when there is nothing to do.
 */
bool
smtp_check_begin(struct smtp_session *s)
{
	struct smtp_check *chk = s->tx.check;
	struct timeval tv = { SMTP_CHECK_TIMEOUT, 0 };
	const struct dkim_signer *signers[DKIM_SIGNERS_MAX];
	bool inbound = smtp_check_wanted(s), sign = false;

	if (!inbound && s->auth_user[0] == '\0')
		return false;
	if (chk == NULL) {
		chk = s->tx.check = xcalloc(1, sizeof(*chk));
		chk->s = s;
	}
	if (smtp_check_head(chk, s->tx.spool) == -1)
		return false;
	smtp_check_from(chk);
	if (!inbound)
		sign = chk->from_ok && dkim_store_for_from(server_dkim(s->srv),
		    chk->from_domain, signers, DKIM_SIGNERS_MAX) > 0;
	if (!inbound && !sign)
		return false;
	chk->started = true;
	chk->pending = 1;	/* ours, dropped at the end of this function */
	if (inbound) {
		if (chk->spf && !chk->spf_done)
			chk->pending++;
		smtp_check_dkim_start(chk);
		if (chk->from_ok) {
			chk->pending++;
			chk->dmarc = dmarc_lookup_start(server_dns(s->srv),
			    chk->from_domain, smtp_check_dmarc_cb, chk);
		}
		smtp_check_rename_forged(chk);
	}
	smtp_check_hash_start(chk, sign);
	chk->timer = evtimer_new(server_base(s->srv), smtp_check_on_timeout,
	    chk);
	evtimer_add(chk->timer, &tv);
	conn_pause(s->conn);
	if (--chk->pending == 0)
		smtp_check_step(chk);
	return true;
}

static void
smtp_check_dkim_results(struct smtp_check *chk)
{
	size_t i;

	for (i = 0; i < chk->ndkim; i++) {
		struct smtp_dkim_item *d = &chk->dkim[i];

		if (!d->parsed)
			continue;
		if (d->key_tempfail) {
			d->result = DKIM_TEMPERROR;
			d->why = "key lookup failed";
		} else if (!d->key_ok) {
			d->result = DKIM_PERMERROR;
		} else {
			d->result = dkim_verify(chk->head, chk->headlen,
			    str_make(d->field, d->fieldlen), &d->sig, &d->key,
			    d->bh, time(NULL), &d->why);
		}
		/*
		 * RFC 6376 8.2: content appended past l= still verifies. A
		 * replayed signed message with a new part would pass, and
		 * align for DMARC: such a signature is not honoured.
		 */
		if (d->result == DKIM_PASS && d->sig.has_l &&
		    d->bodylen > d->sig.l) {
			d->result = DKIM_POLICY;
			d->why = "l= leaves part of the body unsigned";
		}
		log_sess(LOG_LEVEL_INFO, chk->s->id, "event=dkim ip=%s d=%s "
		    "s=%s result=%s why=%s testing=%s", chk->s->client.ip,
		    d->sig.domain, d->sig.selector, dkim_result_name(d->result),
		    log_qs(d->why ? d->why : "-"), d->key_ok && d->key.testing ?
		    "yes" : "no");
	}
}

static void
smtp_check_dmarc_eval(struct smtp_check *chk, struct dmarc_outcome *out)
{
	const char *pass[SMTP_DKIM_SIGS_MAX], *temp[SMTP_DKIM_SIGS_MAX];
	struct dmarc_input in = { 0 };
	uint32_t rnd = 0;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (!chk->from_ok) {
		out->result = DMARC_RESULT_PERMERROR;
		return;
	}
	if (chk->dmarc_temp) {
		out->result = DMARC_RESULT_TEMPERROR;
		return;
	}
	if (!chk->dmarc_found) {
		out->result = DMARC_RESULT_NONE;
		return;
	}
	in.from_domain = chk->from_domain;
	in.spf_pass = chk->spf_done && chk->spf_result == SPF_PASS;
	in.spf_domain = chk->spf_domain;
	in.spf_temperror = chk->spf_done && chk->spf_result == SPF_TEMPERROR;
	/*
	 * RFC 6376 3.6.1: a key in testing mode (t=y) must not make a
	 * message count as signed: its pass does not count for DMARC.
	 */
	for (i = 0; i < chk->ndkim; i++)
		if (chk->dkim[i].result == DKIM_PASS &&
		    !chk->dkim[i].key.testing)
			pass[in.ndkim++] = chk->dkim[i].sig.domain;
		else if (chk->dkim[i].result == DKIM_TEMPERROR)
			temp[in.ndkim_temp++] = chk->dkim[i].sig.domain;
	in.dkim_pass_domains = pass;
	in.dkim_temp_domains = temp;
	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		rnd = 0;
	dmarc_evaluate(&chk->dmarc_rec, chk->dmarc_org, &in, rnd % 100, out);
	log_sess(LOG_LEVEL_INFO, chk->s->id, "event=dmarc ip=%s from=%s "
	    "result=%s policy=%s applied=%s", chk->s->client.ip,
	    chk->from_domain, dmarc_result_name(out->result),
	    dmarc_policy_name(out->policy), dmarc_policy_name(out->applied));
}

/*
 * RFC 8601 2.2: a property value is a token or a quoted-string. The HELO
 * name is whatever the client said: anything else than a plain domain is
 * quoted, so that "x;dmarc=pass" cannot add a verdict of its own.
 */
static int
smtp_check_authres_value(struct buf *b, const char *v)
{
	static const char plain[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_";
	int r = 0;

	if (v[0] != '\0' && v[strspn(v, plain)] == '\0')
		return buf_adds(b, v);
	r |= buf_addc(b, '"');
	for (; *v; v++) {
		if ((unsigned char)*v < 0x20 || *v == 0x7f)
			continue;
		if (*v == '"' || *v == '\\')
			r |= buf_addc(b, '\\');
		r |= buf_addc(b, *v);
	}
	r |= buf_addc(b, '"');
	return r;
}

/*
 * The first base64 characters of b= (up to size - 1), without the folding
 * whitespace b= may hold: printing its bytes as they are put the
 * sender's CRLF, and the bytes after a short b=, into our field.
 */
static void
smtp_check_b_prefix(struct str b, char *out, size_t size)
{
	size_t i, o = 0;

	for (i = 0; i < b.len && o + 1 < size; i++)
		if (ascii_isalnum(b.p[i]) || b.p[i] == '+' || b.p[i] == '/' ||
		    b.p[i] == '=')
			out[o++] = b.p[i];
	out[o] = '\0';
}

/* RFC 8601 2.2: "authserv-id; method=result props; ..." */
static int
smtp_check_authres(struct smtp_check *chk, const struct dmarc_outcome *dm,
    struct buf *b)
{
	const struct config *cfg = server_config(chk->s->srv);
	char bpre[9];
	size_t i, n = 0;
	int r;

	r = buf_addf(b, "Authentication-Results: %s;", cfg->hostname);
	for (i = 0; i < chk->ndkim; i++) {
		const struct smtp_dkim_item *d = &chk->dkim[i];

		if (!d->parsed) {
			r |= buf_adds(b, "\r\n\tdkim=permerror (bad signature "
			    "field);");
			n++;
			continue;
		}
		/* header.b: the first 8 characters tell signatures apart. */
		smtp_check_b_prefix(d->sig.b, bpre, sizeof(bpre));
		r |= buf_addf(b, "\r\n\tdkim=%s header.d=%s header.s=%s "
		    "header.a=%s header.b=%s;", dkim_result_name(d->result),
		    d->sig.domain, d->sig.selector, dkim_alg_name(d->sig.alg),
		    bpre);
		n++;
	}
	if (n == 0)
		r |= buf_adds(b, "\r\n\tdkim=none;");
	r |= buf_addf(b, "\r\n\tspf=%s smtp.%s=",
	    spf_result_name(chk->spf_done ? chk->spf_result : SPF_NONE),
	    chk->spf_helo ? "helo" : "mailfrom");
	r |= smtp_check_authres_value(b, chk->spf_domain);
	r |= buf_addc(b, ';');
	if (dm->result == DMARC_RESULT_NONE || !chk->from_ok)
		r |= buf_addf(b, "\r\n\tdmarc=%s%s%s\r\n",
		    dmarc_result_name(dm->result), chk->from_ok ?
		    " header.from=" : "", chk->from_ok ? chk->from_domain : "");
	else
		r |= buf_addf(b, "\r\n\tdmarc=%s (p=%s) header.from=%s\r\n",
		    dmarc_result_name(dm->result), dmarc_policy_name(dm->policy),
		    chk->from_domain);
	return r;
}

/* Outbound: one DKIM-Signature per key of the From domain. */
static int
smtp_check_sign(struct smtp_check *chk, struct buf *b)
{
	const struct dkim_signer *signers[DKIM_SIGNERS_MAX];
	size_t n, i;
	int r = 0;

	n = dkim_store_for_from(server_dkim(chk->s->srv), chk->from_domain,
	    signers, DKIM_SIGNERS_MAX);
	for (i = 0; i < n && chk->sign_bh[0]; i++) {
		if (dkim_sign(signers[i], chk->head, chk->headlen, chk->sign_bh,
		    time(NULL), b) == -1) {
			log_sess(LOG_LEVEL_ERR, chk->s->id, "event=dkim-sign-"
			    "failed d=%s s=%s", signers[i]->domain,
			    signers[i]->selector);
			r = -1;
			continue;
		}
		log_sess(LOG_LEVEL_INFO, chk->s->id, "event=dkim-signed d=%s "
		    "s=%s a=%s", signers[i]->domain, signers[i]->selector,
		    dkim_alg_name(signers[i]->alg));
	}
	return r;
}

/* New header fields go above the ones we already have (Received:). */
static void
smtp_check_prepend(struct smtp_session *s, struct buf *fields)
{
	int r;

	if (buf_len(fields) == 0)
		return;
	r = buf_add(fields, buf_data(&s->tx.headers), buf_len(&s->tx.headers));
	if (r == 0) {
		buf_reset(&s->tx.headers);
		r = buf_add(&s->tx.headers, buf_data(fields), buf_len(fields));
	}
	(void)r;	/* both capped alike: our own fields are small */
}

/* The DMARC policy's consequence; false when the message was refused. */
static bool
smtp_check_decide(struct smtp_check *chk, const struct dmarc_outcome *dm,
    const char **folder)
{
	const struct config *cfg = server_config(chk->s->srv);
	const char *action = "none";

	*folder = NULL;
	if (chk->from_bad != NULL && chk->s->auth_user[0] == '\0') {
		/* RFC 7489 6.6.1: typically rejected; Gmail does. */
		smtp_refuse(chk->s, "dmarc-from", 550, "5.7.1", "Message "
		    "rejected: %s (RFC 5322 3.6: one From: field, which "
		    "DMARC checks)", chk->from_bad);
		return false;
	}
	if (dm->result == DMARC_RESULT_TEMPERROR &&
	    dm->applied != DMARC_POLICY_NONE) {
		/* Neither applied nor ignored: the sender tries again. */
		smtp_refuse(chk->s, "dmarc-temperror", 451, "4.4.3",
		    "Temporary DNS failure while checking the DMARC policy "
		    "of %s, try again later", chk->from_domain);
		return false;
	}
	if (dm->result != DMARC_RESULT_FAIL)
		return true;
	if (dm->applied == DMARC_POLICY_REJECT)
		action = cfg->dmarc_reject_action;
	else if (dm->applied == DMARC_POLICY_QUARANTINE)
		action = "quarantine";
	if (strcmp(action, "reject") == 0) {
		/* RFC 7489 6.7: reject at the end of DATA, with 5.7.1. */
		smtp_refuse(chk->s, "dmarc", 550, "5.7.1", "Message rejected: "
		    "it fails the DMARC policy of %s", chk->from_domain);
		return false;
	}
	if (strcmp(action, "quarantine") == 0 &&
	    strcmp(cfg->dmarc_quarantine_folder, "INBOX") != 0)
		*folder = cfg->dmarc_quarantine_folder;
	return true;
}

static void
smtp_check_step(struct smtp_check *chk)
{
	struct smtp_session *s = chk->s;
	struct dmarc_outcome dm;
	struct buf fields;
	const char *folder = NULL;
	char junk[128];
	bool ok = true;

	if (chk->pending != 0 || !chk->started)
		return;
	chk->started = false;
	buf_init(&fields, 64 * 1024);
	if (smtp_check_wanted(s)) {
		smtp_check_dkim_results(chk);
		smtp_check_dmarc_eval(chk, &dm);
		if (smtp_check_authres(chk, &dm, &fields) == 0)
			ok = smtp_check_decide(chk, &dm, &folder);
	} else {
		smtp_check_sign(chk, &fields);
	}
	if (ok)
		smtp_check_prepend(s, &fields);
	buf_release(&fields);
	if (folder)
		snprintf(junk, sizeof(junk), ".%s", folder);
	smtp_tx_checked(s, ok, folder ? junk : NULL);
}
