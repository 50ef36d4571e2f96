/*
 * cli_queue.c - `facteur queue list|show|flush|delete`.
 *
 * list and show read the queue files directly (they work with the server
 * stopped); flush and delete go through the running server's control
 * socket, so its in-memory state stays right. A silent delete with the
 * server stopped removes the files directly.
 */
#include "core/common.h"

#include <errno.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "config/config.h"
#include "core/buf.h"
#include "core/priv.h"
#include "queue/queue_file.h"
#include "queue/queue_store.h"
#include "server/control.h"

static void
cli_age(time_t created, char *out, size_t size)
{
	long s = (long)(time(NULL) - created);

	if (s < 120)
		snprintf(out, size, "%lds", s);
	else if (s < 7200)
		snprintf(out, size, "%ldm", s / 60);
	else if (s < 172800)
		snprintf(out, size, "%ldh", s / 3600);
	else
		snprintf(out, size, "%ldd", s / 86400);
}

static void
cli_print_rcpts(const struct queue_env *env)
{
	char when[32];
	size_t i;

	for (i = 0; i < env->nrcpts; i++) {
		const struct queue_rcpt *r = &env->rcpts[i];

		when[0] = '\0';
		if (r->state == QUEUE_RCPT_PENDING && r->next_try > time(NULL))
			snprintf(when, sizeof(when), " next in %lds",
			    (long)(r->next_try - time(NULL)));
		printf("    %-8s %s (attempts %u%s)%s%s\n",
		    queue_rcpt_state_name(r->state), r->addr, r->attempts, when,
		    r->error[0] ? "\n             last error: " : "", r->error);
	}
}

static void
cli_list_one(void *arg, struct queue_env *env)
{
	char age[32];

	(*(size_t *)arg)++;
	cli_age(env->created, age, sizeof(age));
	printf("%s  age %-4s  from <%s>%s%s\n", env->qid, age, env->from,
	    env->auth[0] ? "  user " : "", env->auth);
	cli_print_rcpts(env);
	queue_env_release(env);
}

static int
cli_queue_list(const struct config *cfg)
{
	struct buf errors;
	size_t n = 0;

	buf_init(&errors, 64 * 1024);
	queue_store_scan(cfg->data_dir, cli_list_one, &n, &errors);
	fputs(buf_cstr(&errors), stderr);
	buf_release(&errors);
	printf("%zu message%s in the queue\n", n, n == 1 ? "" : "s");
	return 0;
}

/* The envelope, then the message's header section. */
static int
cli_queue_show(const struct config *cfg, const char *qid)
{
	struct queue_env env;
	char chunk[65536];
	const char *end;
	off_t start, size;
	ssize_t n;
	int fd;

	if (queue_store_load(cfg->data_dir, qid, &env) == -1) {
		fprintf(stderr, "facteur: no queue entry %s%s\n", qid,
		    errno == EINVAL ? " (unreadable envelope)" : "");
		return 1;
	}
	cli_list_one(&(size_t){ 0 }, &env);
	if ((fd = queue_file_open(cfg->data_dir, qid, &start,
	    &size)) != -1) {
		n = pread(fd, chunk, (size_t)MIN(size,
		    (off_t)sizeof(chunk) - 1), start);
		if (n > 0 && !queue_file_still(cfg->data_dir, qid, fd)) {
			close(fd);
			fprintf(stderr, "facteur: %s left the queue while it "
			    "was read\n", qid);
			return 1;
		}
		close(fd);
		if (n > 0) {
			chunk[n] = '\0';
			end = strstr(chunk, "\r\n\r\n");
			printf("\n%.*s", (int)(end ? end - chunk + 2 : n), chunk);
		}
	}
	return 0;
}

static int
cli_control(const struct config *cfg, const char *request)
{
	struct buf answer;
	int r;

	buf_init(&answer, 1024 * 1024);
	if (control_request(cfg->data_dir, request, &answer) == -1) {
		fprintf(stderr, "facteur: the server is not running (no "
		    "control socket in %s)\n", cfg->data_dir);
		buf_release(&answer);
		return 1;
	}
	r = strncmp(buf_cstr(&answer), "ok", 2) == 0 ? 0 : 1;
	fputs(buf_cstr(&answer), r ? stderr : stdout);
	buf_release(&answer);
	return r;
}

static int
cli_queue_delete(const struct config *cfg, const char *qid, bool bounce)
{
	char request[128];
	struct buf answer;
	int r;

	if (!queue_store_valid_id(qid)) {
		fprintf(stderr, "facteur: '%s' is not a queue id\n", qid);
		return 1;
	}
	snprintf(request, sizeof(request), "queue-delete %s %s", qid,
	    bounce ? "bounce" : "silent");
	buf_init(&answer, 4096);
	if (control_request(cfg->data_dir, request, &answer) == 0) {
		r = strncmp(buf_cstr(&answer), "ok", 2) == 0 ? 0 : 1;
		fputs(buf_cstr(&answer), r ? stderr : stdout);
		buf_release(&answer);
		return r;
	}
	buf_release(&answer);
	if (bounce) {
		fprintf(stderr, "facteur: --bounce needs the running server\n");
		return 1;
	}
	if (queue_store_remove(cfg->data_dir, qid) == -1) {
		fprintf(stderr, "facteur: no queue entry %s\n", qid);
		return 1;
	}
	printf("ok deleted %s\n", qid);
	return 0;
}

static int
cli_queue_usage(void)
{
	fprintf(stderr, "usage: facteur queue list [-c FILE]\n"
	    "       facteur queue show ID\n"
	    "       facteur queue flush [ID]\n"
	    "       facteur queue delete ID [--bounce | --silent]\n");
	return 2;
}

int
cli_queue(const struct cli_args *a)
{
	const char *op = a->argc > 0 ? a->argv[0] : "";
	char request[128];
	struct config *cfg;
	int r;

	if (!((strcmp(op, "list") == 0 && a->argc == 1) ||
	    (strcmp(op, "show") == 0 && a->argc == 2) ||
	    (strcmp(op, "flush") == 0 && a->argc <= 2) ||
	    (strcmp(op, "delete") == 0 && (a->argc == 2 || (a->argc == 3 &&
	    (strcmp(a->argv[2], "--bounce") == 0 ||
	    strcmp(a->argv[2], "--silent") == 0))))))
		return cli_queue_usage();
	if ((cfg = cli_load_config(a)) == NULL)
		return 1;
	/* Files in data_dir belong to [server] user, never to root. */
	if (priv_drop_for_cli(cfg) == -1) {
		config_free(&cfg);
		return 1;
	}
	if (strcmp(op, "list") == 0) {
		r = cli_queue_list(cfg);
	} else if (strcmp(op, "show") == 0) {
		r = cli_queue_show(cfg, a->argv[1]);
	} else if (strcmp(op, "flush") == 0) {
		snprintf(request, sizeof(request), "queue-flush %s",
		    a->argc == 2 ? a->argv[1] : "");
		r = cli_control(cfg, request);
	} else {
		r = cli_queue_delete(cfg, a->argv[1], a->argc == 3 &&
		    strcmp(a->argv[2], "--bounce") == 0);
	}
	config_free(&cfg);
	return r;
}
