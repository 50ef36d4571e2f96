/*
 * smtpbench.c - the two load clients of the benchmark that smtp-source
 * cannot be: one that times each transaction, one that holds many idle
 * sessions. Built by bench/run into bench/work/bin/smtpbench; not part of
 * facteur.
 *
 *   smtpbench lat  HOST:PORT -s SESSIONS -m MESSAGES [-r RCPTS] [-l BYTES]
 *                  [-f FROM] [-t TO]
 *       Closed loop, like smtp-source: SESSIONS clients in parallel, each
 *       opens a connection per message (greeting, EHLO, MAIL, RCPT x RCPTS,
 *       DATA, the message, ".", QUIT), no pipelining, until MESSAGES were
 *       sent. Recipients are named like smtp-source's -r: "NTO" for
 *       N = RCPTS..2, then TO. The body is BYTES of 80-column lines.
 *       Prints one JSON object: count, errors, elapsed seconds, and the
 *       percentiles (ms) of "tx" (MAIL sent -> 250 after the dot received:
 *       the transaction, which includes the durable commit) and "conn"
 *       (connect() -> that 250: the whole session as a client sees it).
 *
 *   smtpbench idle HOST:PORT -n CONNECTIONS [-b ADDR,ADDR...] [-w SECONDS]
 *       Opens CONNECTIONS sessions (at most 256 connects in flight, source
 *       addresses taken in turn from -b), waits for each one's 220, prints
 *       {"greeted": N, "failed": N, "pending": N} once every connection
 *       is greeted or failed, or after SECONDS (default 20), then holds
 *       them all open until its standard input is closed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum state {
	ST_FREE, ST_CONNECTING, ST_GREETING, ST_EHLO, ST_MAIL, ST_RCPT,
	ST_DATA, ST_DOT, ST_QUIT, ST_IDLE
};

struct sess {
	int		 fd;
	enum state	 st;
	int		 rcpt_left;
	char		 in[4096];
	size_t		 inlen;
	const char	*out;		/* pending output */
	size_t		 outlen;
	char		 cmd[600];	/* storage for short commands */
	double		 t_conn, t_tx;
};

static struct sockaddr_in target;
static int epfd;
static const char *mail_from = "bench@client.test";
static const char *rcpt_to = "u@bench.test";
static int nrcpt = 1;
static char *message;		/* headers + body + ".\r\n" */
static size_t message_len;
static long to_start, done_ok, done_err;
static double *lat_tx, *lat_conn;
static size_t nlat;

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "smtpbench: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A non-negative decimal number, or exit. */
static long
num(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end != '\0' || v < 0)
		die("bad number '%s'", s);
	return v;
}

static void
parse_target(const char *s)
{
	char host[256];
	const char *colon = strrchr(s, ':');

	if (colon == NULL || (size_t)(colon - s) >= sizeof(host))
		die("bad HOST:PORT %s", s);
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	memset(&target, 0, sizeof(target));
	target.sin_family = AF_INET;
	target.sin_port = htons((uint16_t)num(colon + 1));
	if (inet_pton(AF_INET, host, &target.sin_addr) != 1)
		die("bad IPv4 address %s", host);
}

static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void
build_message(long length)
{
	size_t cap = (size_t)length + (size_t)length / 78 * 2 + 1024;
	size_t o = 0;
	long left = length;
	char date[64];
	time_t t = time(NULL);
	struct tm tm;

	message = malloc(cap);
	if (message == NULL)
		die("out of memory");
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000",
	    gmtime_r(&t, &tm));
	o += (size_t)snprintf(message + o, cap - o,
	    "From: <%s>\r\nTo: <%s>\r\nDate: %s\r\n"
	    "Message-Id: <%ld.%d@client.test>\r\nSubject: bench\r\n\r\n",
	    mail_from, rcpt_to, date, (long)t, (int)getpid());
	while (left > 0) {
		long n = left > 78 ? 78 : left;

		memset(message + o, 'X', (size_t)n);
		o += (size_t)n;
		memcpy(message + o, "\r\n", 2);
		o += 2;
		left -= n;
	}
	memcpy(message + o, ".\r\n", 3);
	o += 3;
	message_len = o;
}

static void
sess_close(struct sess *s)
{
	if (s->fd != -1) {
		epoll_ctl(epfd, EPOLL_CTL_DEL, s->fd, NULL);
		close(s->fd);
	}
	s->fd = -1;
	s->st = ST_FREE;
	s->inlen = 0;
	s->outlen = 0;
}

static int
sess_connect(struct sess *s, const struct in_addr *bind_addr)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT };
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (bind_addr) {
		struct sockaddr_in b = { .sin_family = AF_INET,
		    .sin_addr = *bind_addr };

		setsockopt(fd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, &one,
		    sizeof(one));
		if (bind(fd, (struct sockaddr *)&b, sizeof(b)) == -1) {
			close(fd);
			return -1;
		}
	}
	if (connect(fd, (struct sockaddr *)&target, sizeof(target)) == -1 &&
	    errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	s->fd = fd;
	s->st = ST_CONNECTING;
	s->inlen = s->outlen = 0;
	s->t_conn = now();
	ev.data.ptr = s;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == -1)
		die("epoll_ctl: %s", strerror(errno));
	return 0;
}

/* Queues output and tries to write it at once; -1 on a dead socket. */
static int
sess_send(struct sess *s, const char *p, size_t len)
{
	ssize_t n;

	s->out = p;
	s->outlen = len;
	while (s->outlen > 0) {
		n = write(s->fd, s->out, s->outlen);
		if (n < 0) {
			if (errno == EAGAIN)
				return 0;
			if (errno == EINTR)
				continue;
			return -1;
		}
		s->out += n;
		s->outlen -= (size_t)n;
	}
	return 0;
}

static int
sess_sendf(struct sess *s, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(s->cmd, sizeof(s->cmd), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(s->cmd))
		die("command too long");
	return sess_send(s, s->cmd, (size_t)n);
}

static int
sess_send_rcpt(struct sess *s)
{
	int k = s->rcpt_left--;

	if (k > 1)
		return sess_sendf(s, "RCPT TO:<%d%s>\r\n", k, rcpt_to);
	return sess_sendf(s, "RCPT TO:<%s>\r\n", rcpt_to);
}

/* One complete reply (final line) with its code: advance. -1 = failed. */
static int
sess_reply(struct sess *s, int code)
{
	double t;

	switch (s->st) {
	case ST_GREETING:
		if (code != 220)
			return -1;
		s->st = ST_EHLO;
		return sess_sendf(s, "EHLO client.test\r\n");
	case ST_EHLO:
		if (code != 250)
			return -1;
		s->st = ST_MAIL;
		s->t_tx = now();
		return sess_sendf(s, "MAIL FROM:<%s>\r\n", mail_from);
	case ST_MAIL:
		if (code != 250)
			return -1;
		s->st = ST_RCPT;
		s->rcpt_left = nrcpt;
		return sess_send_rcpt(s);
	case ST_RCPT:
		if (code != 250)
			return -1;
		if (s->rcpt_left > 0)
			return sess_send_rcpt(s);
		s->st = ST_DATA;
		return sess_sendf(s, "DATA\r\n");
	case ST_DATA:
		if (code != 354)
			return -1;
		s->st = ST_DOT;
		return sess_send(s, message, message_len);
	case ST_DOT:
		if (code != 250)
			return -1;
		t = now();
		lat_tx[nlat] = (t - s->t_tx) * 1000;
		lat_conn[nlat] = (t - s->t_conn) * 1000;
		nlat++;
		done_ok++;
		s->st = ST_QUIT;
		return sess_sendf(s, "QUIT\r\n");
	case ST_QUIT:
		return 1;	/* done with this connection */
	default:
		return -1;
	}
}

/* Reads and handles every complete reply; 1 = connection finished. */
static int
sess_read(struct sess *s)
{
	ssize_t n;
	char *nl;
	int r;

	for (;;) {
		n = read(s->fd, s->in + s->inlen, sizeof(s->in) - 1 - s->inlen);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n <= 0)
			return s->st == ST_QUIT ? 1 : -1;
		s->inlen += (size_t)n;
		s->in[s->inlen] = '\0';
		while ((nl = memchr(s->in, '\n', s->inlen)) != NULL) {
			size_t linelen = (size_t)(nl - s->in) + 1;
			bool final = linelen >= 4 && s->in[3] != '-';
			int code = (int)strtol(s->in, NULL, 10);

			memmove(s->in, nl + 1, s->inlen - linelen);
			s->inlen -= linelen;
			if (!final)
				continue;
			r = sess_reply(s, code);
			if (r != 0)
				return r;
		}
		if (s->inlen >= sizeof(s->in) - 1)
			return -1;
	}
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of a sorted array. */
static double
pct(const double *v, size_t n, double p)
{
	size_t k;

	if (n == 0)
		return 0;
	k = (size_t)(p / 100.0 * (double)n + 0.999999);
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

static int
run_lat(int nsess, long nmsg)
{
	struct sess *ss = calloc((size_t)nsess, sizeof(*ss));
	struct epoll_event evs[256];
	double t0, elapsed;
	int i, n, active = 0;

	lat_tx = calloc((size_t)nmsg, sizeof(double));
	lat_conn = calloc((size_t)nmsg, sizeof(double));
	if (ss == NULL || lat_tx == NULL || lat_conn == NULL)
		die("out of memory");
	to_start = nmsg;
	t0 = now();
	for (i = 0; i < nsess; i++) {
		ss[i].fd = -1;
		if (to_start > 0) {
			if (sess_connect(&ss[i], NULL) == -1)
				die("connect: %s", strerror(errno));
			to_start--;
			active++;
		}
	}
	while (active > 0) {
		n = epoll_wait(epfd, evs, 256, 30000);
		if (n == 0)
			die("no progress for 30 s (%ld ok, %ld errors)",
			    done_ok, done_err);
		for (i = 0; i < n; i++) {
			struct sess *s = evs[i].data.ptr;
			int r = 0;

			if (s->st == ST_CONNECTING) {
				int err = 0;
				socklen_t l = sizeof(err);

				if (!(evs[i].events & (EPOLLOUT | EPOLLERR |
				    EPOLLHUP)))
					continue;
				getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &l);
				if (err != 0) {
					r = -1;
				} else {
					struct epoll_event ev = {
					    .events = EPOLLIN, .data.ptr = s };

					s->st = ST_GREETING;
					epoll_ctl(epfd, EPOLL_CTL_MOD, s->fd, &ev);
				}
			}
			if (r == 0 && s->outlen > 0 &&
			    (evs[i].events & EPOLLOUT)) {
				r = sess_send(s, s->out, s->outlen);
			}
			if (r == 0 && (evs[i].events & (EPOLLIN | EPOLLHUP |
			    EPOLLERR)))
				r = sess_read(s);
			if (r == 0) {
				struct epoll_event ev = { .events = EPOLLIN |
				    (s->outlen ? EPOLLOUT : 0), .data.ptr = s };

				epoll_ctl(epfd, EPOLL_CTL_MOD, s->fd, &ev);
				continue;
			}
			if (r < 0)
				done_err++;
			sess_close(s);
			active--;
			if (to_start > 0) {
				if (sess_connect(s, NULL) == -1)
					die("connect: %s", strerror(errno));
				to_start--;
				active++;
			}
		}
	}
	elapsed = now() - t0;
	qsort(lat_tx, nlat, sizeof(double), cmp_double);
	qsort(lat_conn, nlat, sizeof(double), cmp_double);
	printf("{\"count\": %ld, \"errors\": %ld, \"elapsed\": %.4f, "
	    "\"tx_p50\": %.3f, \"tx_p90\": %.3f, \"tx_p99\": %.3f, "
	    "\"tx_max\": %.3f, \"conn_p50\": %.3f, \"conn_p99\": %.3f}\n",
	    done_ok, done_err, elapsed, pct(lat_tx, nlat, 50),
	    pct(lat_tx, nlat, 90), pct(lat_tx, nlat, 99),
	    nlat ? lat_tx[nlat - 1] : 0, pct(lat_conn, nlat, 50),
	    pct(lat_conn, nlat, 99));
	return done_err ? 1 : 0;
}

static int
run_idle(long nconn, const char *binds, double wait_s)
{
	struct sess *ss = calloc((size_t)nconn, sizeof(*ss));
	struct in_addr addrs[64];
	struct epoll_event evs[256];
	size_t naddrs = 0;
	long opened = 0, inflight = 0, greeted = 0, failed = 0;
	double deadline;
	char *list, *tok, *save = NULL, c;
	int i, n;

	if (ss == NULL)
		die("out of memory");
	if (binds) {
		list = strdup(binds);
		for (tok = strtok_r(list, ",", &save); tok && naddrs < 64;
		    tok = strtok_r(NULL, ",", &save))
			if (inet_pton(AF_INET, tok, &addrs[naddrs]) == 1)
				naddrs++;
	}
	deadline = now() + wait_s;
	while (greeted + failed < nconn && now() < deadline) {
		while (opened < nconn && inflight < 256) {
			struct sess *s = &ss[opened];

			s->fd = -1;
			if (sess_connect(s, naddrs ? &addrs[opened %
			    (long)naddrs] : NULL) == -1) {
				failed++;
			} else {
				inflight++;
			}
			opened++;
		}
		n = epoll_wait(epfd, evs, 256, 100);
		for (i = 0; i < n; i++) {
			struct sess *s = evs[i].data.ptr;
			struct epoll_event ev = { .events = EPOLLIN,
			    .data.ptr = s };
			ssize_t r;

			if (s->st == ST_CONNECTING) {
				int err = 0;
				socklen_t l = sizeof(err);

				getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &l);
				if (err != 0) {
					sess_close(s);
					inflight--;
					failed++;
					continue;
				}
				s->st = ST_GREETING;
				epoll_ctl(epfd, EPOLL_CTL_MOD, s->fd, &ev);
				continue;
			}
			if (s->st != ST_GREETING) {
				/* an idle session that the server closed */
				if (s->st == ST_IDLE) {
					r = read(s->fd, s->in, sizeof(s->in));
					if (r <= 0) {
						sess_close(s);
						greeted--;
						failed++;
					}
				}
				continue;
			}
			r = read(s->fd, s->in + s->inlen,
			    sizeof(s->in) - 1 - s->inlen);
			if (r <= 0) {
				sess_close(s);
				inflight--;
				failed++;
				continue;
			}
			s->inlen += (size_t)r;
			if (memchr(s->in, '\n', s->inlen)) {
				inflight--;
				if (strncmp(s->in, "220", 3) == 0) {
					s->st = ST_IDLE;
					greeted++;
				} else {
					sess_close(s);
					failed++;
				}
			}
		}
	}
	printf("{\"greeted\": %ld, \"failed\": %ld, \"pending\": %ld}\n",
	    greeted, failed, nconn - greeted - failed);
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: smtpbench lat HOST:PORT -s SESSIONS -m "
	    "MESSAGES [-r RCPTS] [-l BYTES] [-f FROM] [-t TO]\n"
	    "       smtpbench idle HOST:PORT -n CONNECTIONS [-b ADDR,...] "
	    "[-w SECONDS]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *mode, *binds = NULL;
	long nmsg = 100, length = 1024, nconn = 100;
	double wait_s = 20;
	int nsess = 1, opt;

	if (argc < 3)
		usage();
	mode = argv[1];
	parse_target(argv[2]);
	optind = 3;
	while ((opt = getopt(argc, argv, "s:m:r:l:f:t:n:b:w:")) != -1) {
		switch (opt) {
		case 's': nsess = (int)num(optarg); break;
		case 'm': nmsg = num(optarg); break;
		case 'r': nrcpt = (int)num(optarg); break;
		case 'l': length = num(optarg); break;
		case 'f': mail_from = optarg; break;
		case 't': rcpt_to = optarg; break;
		case 'n': nconn = num(optarg); break;
		case 'b': binds = optarg; break;
		case 'w': wait_s = atof(optarg); break;
		default: usage();
		}
	}
	if (nsess < 1 || nmsg < 1 || nrcpt < 1 || length < 0 || nconn < 1)
		usage();
	raise_nofile();
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd == -1)
		die("epoll_create1: %s", strerror(errno));
	if (strcmp(mode, "lat") == 0) {
		build_message(length);
		return run_lat(nsess, nmsg);
	}
	if (strcmp(mode, "idle") == 0)
		return run_idle(nconn, binds, wait_s);
	usage();
}
