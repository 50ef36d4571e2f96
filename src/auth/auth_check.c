/*
 * auth_check.c - see auth_check.h.
 */
#include "core/common.h"

#include <event2/event.h>

#include "auth/auth_check.h"
#include "auth/auth_passwd.h"
#include "auth/auth_sasl.h"
#include "auth/ban.h"
#include "config/config.h"
#include "core/log.h"
#include "core/util.h"
#include "core/workq.h"
#include "directory/directory.h"
#include "server/server.h"

struct auth_check {
	struct server		*srv;
	struct auth_creds	 creds;		/* password wiped after use */
	char			 hash[256];
	char			 sid[ID_LEN + 1];
	char			 ip[64];
	char			 service[16];
	bool			 exists;
	bool			 ok;
	bool			 banned;
	bool			 cancelled;
	struct workq_job	*job;
	struct event		*timer;
	auth_check_done		 done;
	void			*arg;
};

static void
auth_check_free(struct auth_check *chk)
{
	if (chk->timer)
		event_free(chk->timer);
	explicit_bzero(chk, sizeof(*chk));
	free(chk);
}

static void
auth_check_work(void *arg)
{
	struct auth_check *chk = arg;

	/* A banned client gets no answer from the hash: no free guesses. */
	chk->ok = !chk->banned && auth_passwd_verify(chk->creds.password,
	    chk->hash) && chk->exists;
	explicit_bzero(chk->creds.password, sizeof(chk->creds.password));
}

static void
auth_check_forgotten(void *arg)
{
	auth_check_free(arg);
}

static void
auth_check_report(evutil_socket_t fd, short what, void *arg)
{
	struct auth_check *chk = arg;

	(void)fd;
	(void)what;
	chk->done(chk->arg, chk->ok, chk->creds.user, chk->banned);
	auth_check_free(chk);
}

static void
auth_check_verified(void *arg)
{
	struct auth_check *chk = arg;
	struct ban_table *bans = server_bans(chk->srv);
	uint64_t ms = server_config(chk->srv)->auth_failure_delay_ms;
	struct timeval tv;

	chk->job = NULL;
	ascii_lower_inplace(chk->creds.user, strlen(chk->creds.user));
	/* Banned while the hash was being checked: that guess is void. */
	if (!chk->banned && ban_check(bans, chk->ip, NULL)) {
		chk->banned = true;
		chk->ok = false;
	}
	if (chk->ok) {
		log_sess(LOG_LEVEL_INFO, chk->sid, "event=auth-ok ip=%s user=%s "
		    "service=%s", chk->ip, log_qs(chk->creds.user),
		    chk->service);
		ban_succeeded(bans, chk->ip, chk->creds.user);
		auth_check_report(-1, 0, chk);
		return;
	}
	if (ban_failed(bans, chk->ip, chk->creds.user))
		chk->banned = true;
	ms = ban_delay_ms(bans, chk->ip, chk->creds.user, ms);
	log_sess(LOG_LEVEL_INFO, chk->sid, "event=auth-fail ip=%s user=%s "
	    "service=%s delay_ms=%llu%s", chk->ip, log_qs(chk->creds.user),
	    chk->service, (unsigned long long)ms,
	    chk->banned ? " banned=yes" : "");
	/* The same delay whether or not the user exists. */
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	chk->timer = evtimer_new(server_base(chk->srv), auth_check_report,
	    chk);
	evtimer_add(chk->timer, &tv);
}

struct auth_check *
auth_check_start(struct server *srv, const char *sid, const char *ip,
    const char *service, struct auth_creds *creds, auth_check_done done,
    void *arg)
{
	struct auth_check *chk = xcalloc(1, sizeof(*chk));
	const char *hash = directory_user_hash(server_directory(srv),
	    creds->user);

	chk->srv = srv;
	chk->creds = *creds;
	auth_creds_clear(creds);
	chk->exists = hash != NULL;
	cstr_copy(chk->hash, sizeof(chk->hash), hash ? hash :
	    server_dummy_hash(srv));
	cstr_copy(chk->sid, sizeof(chk->sid), sid);
	cstr_copy(chk->ip, sizeof(chk->ip), ip);
	cstr_copy(chk->service, sizeof(chk->service), service);
	chk->done = done;
	chk->arg = arg;
	chk->banned = ban_check(server_bans(srv), ip, NULL);
	chk->job = workq_submit(server_workq(srv), auth_check_work,
	    auth_check_verified, chk);
	return chk;
}

void
auth_check_cancel(struct auth_check *chk)
{
	if (chk->job) {
		/* The worker still holds it: freed when it is done. */
		workq_forget(chk->job, auth_check_forgotten);
		return;
	}
	auth_check_free(chk);
}
