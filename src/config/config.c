/*
 * config.c - see config.h.
 *
 * One table lists every key: its section, name, type, default and where it
 * lands in struct config. Loading walks the file with config_parse_next(),
 * finds each key in the table and converts its value; errors are collected
 * (not just the first) so `facteur check-config` shows them all at once.
 */
#include "core/common.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "config/config_parse.h"
#include "core/dname.h"
#include "core/log.h"
#include "core/str.h"

enum config_type {
	CT_STRING,
	CT_PATH,
	CT_HOSTNAME,
	CT_DOMAINS,
	CT_SIZE,
	CT_UINT,
	CT_SECONDS,
	CT_MILLIS,
	CT_LISTEN,
	CT_LOGLEVEL,
	CT_BOOL,
	CT_DURATIONS,	/* a list, into ban_times */
	CT_CIDRS,	/* a list of networks, struct cidr_list */
	CT_ZONES,	/* a list of domain names */
};

struct config_key {
	const char	*section;
	const char	*key;
	enum config_type type;
	size_t		 offset;
	const char	*def;		/* default as text, NULL: none */
	uint64_t	 max;		/* for numbers: largest accepted */
};

#define OFF(f) offsetof(struct config, f)
#define LISTEN_OFF(k) (OFF(listen) + (k) * sizeof(struct listen_set))

static const struct config_key config_keys[] = {
	{ "server", "hostname", CT_HOSTNAME, OFF(hostname), NULL, 0 },
	{ "server", "domains", CT_DOMAINS, OFF(domains), NULL, 0 },
	{ "server", "data_dir", CT_PATH, OFF(data_dir), "/var/lib/facteur", 0 },
	{ "server", "max_message_size", CT_SIZE, OFF(max_message_size),
	    "25M", 1ull << 31 },
	{ "server", "log_level", CT_LOGLEVEL, OFF(log_level), "info", 0 },
	{ "server", "user", CT_STRING, OFF(user), NULL, 0 },
	{ "server", "run_as_root", CT_BOOL, OFF(run_as_root), "no", 0 },

	{ "listen", "smtp", CT_LISTEN, LISTEN_OFF(LISTEN_SMTP), NULL, 0 },
	{ "listen", "submission", CT_LISTEN, LISTEN_OFF(LISTEN_SUBMISSION),
	    NULL, 0 },
	{ "listen", "submissions", CT_LISTEN, LISTEN_OFF(LISTEN_SUBMISSIONS),
	    NULL, 0 },
	{ "listen", "pop3", CT_LISTEN, LISTEN_OFF(LISTEN_POP3), NULL, 0 },
	{ "listen", "pop3s", CT_LISTEN, LISTEN_OFF(LISTEN_POP3S), NULL, 0 },

	{ "limits", "max_recipients", CT_UINT, OFF(max_recipients), "100",
	    100000 },
	{ "limits", "max_errors", CT_UINT, OFF(max_errors), "10", 1000 },
	{ "limits", "max_junk_commands", CT_UINT, OFF(max_junk_commands),
	    "100", 1000000000 },
	{ "limits", "max_connections", CT_UINT, OFF(max_connections), "2000",
	    1000000 },
	{ "limits", "max_connections_per_ip", CT_UINT,
	    OFF(max_connections_per_ip), "20", 1000000 },
	{ "limits", "command_timeout", CT_SECONDS, OFF(command_timeout), "5m",
	    86400 },
	{ "limits", "data_timeout", CT_SECONDS, OFF(data_timeout), "5m",
	    86400 },
	{ "limits", "greeting_delay", CT_MILLIS, OFF(greeting_delay_ms), "0",
	    60000 },
	{ "limits", "pop3_timeout", CT_SECONDS, OFF(pop3_timeout), "10m",
	    86400 },

	{ "limits", "connections_per_minute", CT_UINT,
	    OFF(connections_per_minute), "120", 1000000 },
	{ "limits", "max_unknown_recipients", CT_UINT,
	    OFF(max_unknown_recipients), "5", 100000 },
	{ "limits", "user_messages_per_minute", CT_UINT,
	    OFF(user_messages_per_minute), "60", 1000000 },
	{ "limits", "user_recipients_per_minute", CT_UINT,
	    OFF(user_recipients_per_minute), "300", 1000000 },

	{ "bans", "max_failures", CT_UINT, OFF(ban_max_failures), "5", 64 },
	{ "bans", "window", CT_SECONDS, OFF(ban_window), "10m", 7 * 86400 },
	{ "bans", "ban_times", CT_DURATIONS, OFF(ban_times), "15m 1h 1d 1w",
	    0 },
	{ "bans", "allowlist", CT_CIDRS, OFF(ban_allow), "", 0 },
	{ "bans", "action", CT_STRING, OFF(ban_action), "reply", 0 },
	{ "bans", "trust_period", CT_SECONDS, OFF(ban_trust_period), "30d",
	    365 * 86400 },
	{ "bans", "account_failures", CT_UINT, OFF(ban_account_failures),
	    "10", 100000 },
	{ "bans", "max_delay", CT_MILLIS, OFF(ban_max_delay_ms), "30s",
	    60000 },

	{ "checks", "skip", CT_CIDRS, OFF(check_skip), "127.0.0.0/8 ::1", 0 },

	{ "dnsbl", "zones", CT_ZONES, OFF(dnsbl_zones), "", 0 },

	{ "tls", "cert", CT_PATH, OFF(tls_cert), NULL, 0 },
	{ "tls", "key", CT_PATH, OFF(tls_key), NULL, 0 },

	{ "auth", "mx", CT_BOOL, OFF(auth_on_mx), "no", 0 },
	{ "auth", "plaintext_localhost", CT_BOOL,
	    OFF(auth_plaintext_localhost), "no", 0 },
	{ "auth", "failure_delay", CT_MILLIS, OFF(auth_failure_delay_ms), "2s",
	    60000 },

	{ "submission", "check_from", CT_BOOL, OFF(submission_check_from),
	    "yes", 0 },

	{ "dns", "resolver", CT_STRING, OFF(dns_resolver), NULL, 0 },

	{ "dmarc", "reject_action", CT_STRING, OFF(dmarc_reject_action),
	    "reject", 0 },
	{ "dmarc", "quarantine_folder", CT_STRING,
	    OFF(dmarc_quarantine_folder), "Junk", 0 },

	{ "delivery", "port", CT_UINT, OFF(delivery_port), "25", 65535 },
	{ "delivery", "max_connections", CT_UINT,
	    OFF(delivery_max_connections), "100", 10000 },
	{ "delivery", "initial_per_domain", CT_UINT,
	    OFF(delivery_initial_per_domain), "5", 1000 },
	{ "delivery", "max_per_domain", CT_UINT, OFF(delivery_max_per_domain),
	    "20", 1000 },
	{ "delivery", "connect_timeout", CT_SECONDS,
	    OFF(delivery_connect_timeout), "30s", 600 },

	{ "queue", "max_age", CT_SECONDS, OFF(queue_max_age), "5d",
	    60 * 86400 },
	{ "queue", "retry_min", CT_SECONDS, OFF(queue_retry_min), "5m",
	    86400 },
	{ "queue", "retry_max", CT_SECONDS, OFF(queue_retry_max), "4h",
	    7 * 86400 },
	{ "queue", "delay_warning", CT_SECONDS, OFF(queue_delay_warning),
	    "4h", 60 * 86400 },

	{ "relay", "host", CT_HOSTNAME, OFF(relay_host), NULL, 0 },
	{ "relay", "port", CT_UINT, OFF(relay_port), "587", 65535 },
	{ "relay", "user", CT_STRING, OFF(relay_user), NULL, 0 },
	{ "relay", "password_file", CT_PATH, OFF(relay_password_file), NULL,
	    0 },
	{ "relay", "tls_verify", CT_BOOL, OFF(relay_tls_verify), "yes", 0 },
};

static const char *const listener_names[LISTEN_KIND_COUNT] = {
	"smtp", "submission", "submissions", "pop3", "pop3s",
};

const char *
listener_name(enum listener_kind kind)
{
	return listener_names[kind];
}

/* Numbers with an optional unit. Units are a table so both parsers agree. */
struct unit {
	const char	*suffix;
	uint64_t	 mult;
};

static int
parse_with_units(const char *s, const struct unit *units, size_t nunits,
    uint64_t scale_max, uint64_t *out)
{
	struct str v = str_cstr(s), num;
	uint64_t n, mult = 1;
	size_t i = 0, u;

	while (i < v.len && ascii_isdigit(v.p[i]))
		i++;
	num = str_make(v.p, i);
	if (str_to_u64(num, UINT64_MAX, &n) == -1)
		return -1;
	if (i < v.len) {
		for (u = 0; u < nunits; u++)
			if (str_caseeq_cstr(str_sub(v, i, v.len),
			    units[u].suffix))
				break;
		if (u == nunits)
			return -1;
		mult = units[u].mult;
	}
	if (mult && n > scale_max / mult)
		return -1;
	*out = n * mult;
	return 0;
}

int
config_parse_size(const char *s, uint64_t *out)
{
	static const struct unit units[] = {
		{ "K", 1024 }, { "M", 1024 * 1024 },
		{ "G", 1024ull * 1024 * 1024 },
	};

	return parse_with_units(s, units, ARRAY_LEN(units), UINT64_MAX, out);
}

int
config_parse_duration(const char *s, uint64_t *out_seconds)
{
	static const struct unit units[] = {
		{ "s", 1 }, { "m", 60 }, { "h", 3600 }, { "d", 86400 },
		{ "w", 7 * 86400 },
	};

	return parse_with_units(s, units, ARRAY_LEN(units), UINT64_MAX,
	    out_seconds);
}

static int
config_parse_millis(const char *s, uint64_t *out)
{
	static const struct unit units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 },
	};

	return parse_with_units(s, units, ARRAY_LEN(units), UINT64_MAX, out);
}

static int
parse_port(struct str s, uint16_t *port)
{
	uint64_t v;

	if (str_to_u64(s, 65535, &v) == -1 || v == 0)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

int
config_parse_listen_addr(const char *s, size_t len, struct listen_addr *out)
{
	struct str in = str_make(s, len), host;
	char hostbuf[INET6_ADDRSTRLEN];
	long colon;
	uint16_t port;

	memset(out, 0, sizeof(*out));
	if (str_copy(out->text, sizeof(out->text), in) == -1)
		return -1;
	if (in.len && in.p[0] == '[') {
		long close = str_chr(in, ']');

		if (close < 0 || (size_t)close + 1 >= in.len ||
		    in.p[close + 1] != ':')
			return -1;
		host = str_sub(in, 1, (size_t)close - 1);
		colon = close + 1;
	} else {
		colon = str_rchr(in, ':');
		if (colon < 0)
			return -1;
		host = str_make(in.p, (size_t)colon);
	}
	if (parse_port(str_sub(in, (size_t)colon + 1, in.len), &port) == -1 ||
	    str_copy(hostbuf, sizeof(hostbuf), host) == -1)
		return -1;
	if (in.p[0] == '[') {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->ss;

		if (inet_pton(AF_INET6, hostbuf, &sin6->sin6_addr) != 1)
			return -1;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		out->sslen = sizeof(*sin6);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&out->ss;

		if (inet_pton(AF_INET, hostbuf, &sin->sin_addr) != 1)
			return -1;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		out->sslen = sizeof(*sin);
	}
	return 0;
}

/* Makes a path absolute against the current directory. */
static char *
config_abs_path(const char *v)
{
	char cwd[PATH_MAX];
	struct buf b;

	if (v[0] == '/')
		return xstrdup(v);
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return xstrdup(v);
	buf_init(&b, PATH_MAX);
	if (v[0] == '.' && v[1] == '/')
		v += 2;
	if (buf_addf(&b, "%s/%s", cwd, v) == -1) {
		buf_release(&b);
		return xstrdup(v);
	}
	return buf_detach(&b, NULL);
}

static void
config_free_domains(char ***domains)
{
	char **d;

	if (*domains == NULL)
		return;
	for (d = *domains; *d; d++)
		free(*d);
	XFREE(domains);
}

static const char *
config_set_domains(struct config *cfg, const char *v)
{
	struct str cur = str_cstr(v), word;
	char **list = NULL;
	size_t n = 0, i;

	while (str_skip_ws(&cur), cur.len) {
		if (!str_take_word(&cur, &word, SMTP_DOMAIN_MAX) ||
		    !dname_valid(word.p, word.len, 0)) {
			for (i = 0; i < n; i++)
				free(list[i]);
			free(list);
			return "not a list of valid domain names";
		}
		list = xreallocarray(list, n + 2, sizeof(*list));
		list[n] = xmemdup0(word.p, word.len);
		ascii_lower_inplace(list[n], word.len);
		list[++n] = NULL;
	}
	if (n == 0)
		return "at least one domain is required";
	config_free_domains(&cfg->domains);
	cfg->domains = list;
	cfg->ndomains = n;
	return NULL;
}

static const char *
config_set_listen(struct listen_set *set, const char *v)
{
	struct str cur = str_cstr(v), word;

	set->count = 0;
	while (str_skip_ws(&cur), cur.len) {
		if (set->count == LISTEN_ADDRS_MAX)
			return "too many addresses";
		if (!str_take_word(&cur, &word, 64) ||
		    config_parse_listen_addr(word.p, word.len,
		    &set->addrs[set->count]) == -1)
			return "expected IPv4:PORT or [IPv6]:PORT addresses";
		set->count++;
	}
	return NULL;
}

static const char *
config_set_number(const struct config_key *k, uint64_t *dst, const char *v)
{
	int r;

	switch (k->type) {
	case CT_SIZE:
		r = config_parse_size(v, dst);
		break;
	case CT_SECONDS:
		r = config_parse_duration(v, dst);
		break;
	case CT_MILLIS:
		r = config_parse_millis(v, dst);
		break;
	default:
		r = str_to_u64(str_cstr(v), UINT64_MAX, dst);
		break;
	}
	if (r == -1)
		return "not a valid number (units: K M G for sizes, "
		    "s m h d for durations)";
	if (k->max && *dst > k->max)
		return "value too large";
	return NULL;
}

/* A longer ban would pass time_t's range in ban.c: 10 years is for ever. */
#define CONFIG_BAN_TIME_MAX (10 * 366 * 86400ULL)

static const char *
config_set_durations(struct config *cfg, const char *v)
{
	struct str cur = str_cstr(v), word;
	char one[32];
	size_t n = 0;

	while (str_skip_ws(&cur), cur.len) {
		if (n == ARRAY_LEN(cfg->ban_times) ||
		    !str_take_word(&cur, &word, sizeof(one) - 1) ||
		    str_copy(one, sizeof(one), word) == -1 ||
		    config_parse_duration(one, &cfg->ban_times[n]) == -1 ||
		    cfg->ban_times[n] == 0 ||
		    cfg->ban_times[n] > CONFIG_BAN_TIME_MAX)
			return "expected up to 8 durations of at most 10 "
			    "years, e.g. 15m 1h 1d";
		n++;
	}
	if (n == 0)
		return "at least one duration is required";
	cfg->nban_times = n;
	return NULL;
}

static const char *
config_set_cidrs(struct cidr_list *l, const char *v)
{
	struct str cur = str_cstr(v), word;
	size_t n = 0;

	while (str_skip_ws(&cur), cur.len) {
		if (n == CIDR_LIST_MAX || !str_take_word(&cur, &word, 64) ||
		    cidr_parse(word.p, word.len, &l->v[n]) == -1)
			return "expected up to 32 networks, e.g. 192.0.2.0/24 "
			    "2001:db8::/32";
		n++;
	}
	l->n = n;
	return NULL;
}

static const char *
config_set_zones(char ***dst, const char *v)
{
	struct str cur = str_cstr(v), word;
	char **list = NULL;
	size_t n = 0, i;

	while (str_skip_ws(&cur), cur.len) {
		if (n == 8 || !str_take_word(&cur, &word, SMTP_DOMAIN_MAX) ||
		    !dname_valid(word.p, word.len, 0)) {
			for (i = 0; i < n; i++)
				free(list[i]);
			free(list);
			return "expected up to 8 DNS zone names";
		}
		list = xreallocarray(list, n + 2, sizeof(*list));
		list[n++] = xmemdup0(word.p, word.len);
		list[n] = NULL;
	}
	config_free_domains(dst);
	*dst = list;
	return NULL;
}

static const char *
config_set_bool(bool *dst, const char *v)
{
	if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 ||
	    strcmp(v, "on") == 0 || strcmp(v, "1") == 0)
		*dst = true;
	else if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0 ||
	    strcmp(v, "off") == 0 || strcmp(v, "0") == 0)
		*dst = false;
	else
		return "expected yes or no";
	return NULL;
}

static const char *
config_set_loglevel(int *dst, const char *v)
{
	static const char *const names[] = { "debug", "info", "warn", "err" };
	size_t i;

	for (i = 0; i < ARRAY_LEN(names); i++)
		if (strcmp(v, names[i]) == 0) {
			*dst = (int)i;
			return NULL;
		}
	return "expected debug, info, warn or err";
}

/* Sets one key from its text; a static error string or NULL. */
static const char *
config_set(struct config *cfg, const struct config_key *k, const char *v)
{
	void *dst = (char *)cfg + k->offset;

	switch (k->type) {
	case CT_STRING:
	case CT_PATH:
	case CT_HOSTNAME:
		if (*v == '\0')
			return "empty value";
		if (k->type == CT_HOSTNAME && !dname_valid(v, strlen(v), 0))
			return "not a valid fully qualified host name";
		free(*(char **)dst);
		*(char **)dst = k->type == CT_PATH ? config_abs_path(v) :
		    xstrdup(v);
		if (k->type == CT_HOSTNAME)
			ascii_lower_inplace(*(char **)dst, strlen(v));
		return NULL;
	case CT_DOMAINS:
		return config_set_domains(cfg, v);
	case CT_LISTEN:
		return config_set_listen(dst, v);
	case CT_LOGLEVEL:
		return config_set_loglevel(dst, v);
	case CT_BOOL:
		return config_set_bool(dst, v);
	case CT_DURATIONS:
		return config_set_durations(cfg, v);
	case CT_CIDRS:
		return config_set_cidrs(dst, v);
	case CT_ZONES:
		return config_set_zones(dst, v);
	default:
		return config_set_number(k, dst, v);
	}
}

static const struct config_key *
config_find_key(struct str section, struct str key, bool *section_known)
{
	size_t i;

	*section_known = false;
	for (i = 0; i < ARRAY_LEN(config_keys); i++) {
		if (!str_caseeq_cstr(section, config_keys[i].section))
			continue;
		*section_known = true;
		if (str_caseeq_cstr(key, config_keys[i].key))
			return &config_keys[i];
	}
	return NULL;
}

static void
config_defaults(struct config *cfg)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(config_keys); i++)
		if (config_keys[i].def != NULL &&
		    config_set(cfg, &config_keys[i], config_keys[i].def))
			fatal("bad built-in default for %s",
			    config_keys[i].key);
}

static void
config_error(struct buf *errors, const char *path, unsigned line,
    const char *fmt, ...) PRINTF_LIKE(4, 5);

static void
config_error(struct buf *errors, const char *path, unsigned line,
    const char *fmt, ...)
{
	va_list ap;
	int r;

	if (line)
		r = buf_addf(errors, "%s:%u: ", path, line);
	else
		r = buf_addf(errors, "%s: ", path);
	va_start(ap, fmt);
	r |= buf_vaddf(errors, fmt, ap);
	va_end(ap);
	r |= buf_addc(errors, '\n');
	(void)r;	/* a full error buffer still holds the first errors */
}

static int
config_read_file(const char *path, struct buf *out, struct buf *errors)
{
	char chunk[8192];
	ssize_t n;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		config_error(errors, path, 0, "cannot open: %s",
		    strerror(errno));
		return -1;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		if (buf_add(out, chunk, (size_t)n) == -1) {
			config_error(errors, path, 0, "file too large");
			r = -1;
			break;
		}
	if (n < 0) {
		config_error(errors, path, 0, "read: %s", strerror(errno));
		r = -1;
	}
	close(fd);
	return r;
}

struct config_load_ctx {
	struct config	*cfg;
	struct buf	*errors;
};

static void
config_on_section(void *arg, struct str name, unsigned line)
{
	struct config_load_ctx *ctx = arg;
	size_t i;

	for (i = 0; i < ARRAY_LEN(config_keys); i++)
		if (str_caseeq_cstr(name, config_keys[i].section))
			return;
	config_error(ctx->errors, ctx->cfg->path, line,
	    "unknown section [%.*s]", (int)name.len, name.p);
}

static void
config_apply_item(struct config *cfg, const struct config_item *it,
    struct buf *errors, unsigned char *seen)
{
	const struct config_key *k;
	char *value;
	const char *err;
	bool section_known;

	k = config_find_key(it->section, it->key, &section_known);
	if (k == NULL && section_known) {
		config_error(errors, cfg->path, it->line,
		    "unknown key '%.*s' in [%.*s]", (int)it->key.len,
		    it->key.p, (int)it->section.len, it->section.p);
		return;
	}
	if (k == NULL)
		return;		/* reported at its header (config_on_section) */
	if (seen[k - config_keys]++)
		config_error(errors, cfg->path, it->line,
		    "[%s] %s set twice", k->section, k->key);
	value = xmemdup0(it->value.p, it->value.len);
	err = config_set(cfg, k, value);
	if (err)
		config_error(errors, cfg->path, it->line, "[%s] %s = %s: %s",
		    k->section, k->key, log_qs(value), err);
	free(value);
}

/* Cross-key checks once the whole file is read. */
static bool
config_was_set(const unsigned char *seen, const char *key)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(config_keys); i++)
		if (strcmp(config_keys[i].key, key) == 0 &&
		    strcmp(config_keys[i].section, "server") == 0)
			return seen[i] != 0;
	return false;
}

static void
config_validate(struct config *cfg, struct buf *errors,
    const unsigned char *seen)
{
	char host[256];
	size_t i, n = 0;

	if (cfg->domains == NULL && !config_was_set(seen, "domains"))
		config_error(errors, cfg->path, 0,
		    "[server] domains is required");
	if (cfg->hostname == NULL && !config_was_set(seen, "hostname")) {
		if (gethostname(host, sizeof(host)) == 0 &&
		    dname_valid(host, strnlen(host, sizeof(host)), 0))
			cfg->hostname = xstrdup(host);
		else
			config_error(errors, cfg->path, 0, "[server] hostname "
			    "is required (this machine's name is not a fully "
			    "qualified domain name)");
	}
	for (i = 0; i < LISTEN_KIND_COUNT; i++)
		n += cfg->listen[i].count;
	if (n == 0)
		config_error(errors, cfg->path, 0,
		    "[listen]: no listener configured (e.g. smtp = 0.0.0.0:25)");
	if ((cfg->tls_cert == NULL) != (cfg->tls_key == NULL))
		config_error(errors, cfg->path, 0,
		    "[tls] cert and key must be set together");
	if ((cfg->relay_user == NULL) != (cfg->relay_password_file == NULL))
		config_error(errors, cfg->path, 0,
		    "[relay] user and password_file must be set together");
	if (cfg->relay_user != NULL && cfg->relay_host == NULL)
		config_error(errors, cfg->path, 0,
		    "[relay] user needs [relay] host");
	if (cfg->delivery_port == 0 || cfg->relay_port == 0)
		config_error(errors, cfg->path, 0, "a port cannot be 0");
	/* 0 would be no timeout: a client could hold a session forever. */
	if (cfg->command_timeout == 0 || cfg->data_timeout == 0 ||
	    cfg->pop3_timeout == 0)
		config_error(errors, cfg->path, 0, "[limits] command_timeout, "
		    "data_timeout and pop3_timeout must be at least 1s");
	if (cfg->delivery_max_connections == 0 ||
	    cfg->delivery_initial_per_domain == 0 ||
	    cfg->delivery_max_per_domain == 0)
		config_error(errors, cfg->path, 0, "[delivery] max_connections, "
		    "initial_per_domain and max_per_domain must be at least 1");
	if (strcmp(cfg->ban_action, "reply") != 0 &&
	    strcmp(cfg->ban_action, "close") != 0)
		config_error(errors, cfg->path, 0, "[bans] action must be reply "
		    "(421 at connect) or close (silent)");
	if (strcmp(cfg->dmarc_reject_action, "reject") != 0 &&
	    strcmp(cfg->dmarc_reject_action, "quarantine") != 0 &&
	    strcmp(cfg->dmarc_reject_action, "none") != 0)
		config_error(errors, cfg->path, 0, "[dmarc] reject_action must "
		    "be reject, quarantine or none");
	if (strspn(cfg->dmarc_quarantine_folder, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") !=
	    strlen(cfg->dmarc_quarantine_folder))
		config_error(errors, cfg->path, 0, "[dmarc] quarantine_folder "
		    "must be a plain folder name (letters, digits, _ and -), "
		    "or INBOX");
	if (cfg->queue_retry_min == 0 ||
	    cfg->queue_retry_min > cfg->queue_retry_max)
		config_error(errors, cfg->path, 0, "[queue] retry_min must be "
		    "at least 1s and at most retry_max");
}

struct config *
config_load(const char *path, struct buf *errors)
{
	struct config *cfg = xcalloc(1, sizeof(*cfg));
	unsigned char seen[ARRAY_LEN(config_keys)] = { 0 };
	struct config_load_ctx ctx = { cfg, errors };
	struct config_parser p;
	struct config_item it;
	struct buf text;
	const char *err;
	size_t before = buf_len(errors);
	int r;

	cfg->path = xstrdup(path);
	config_defaults(cfg);
	buf_init(&text, CONFIG_FILE_MAX);
	if (config_read_file(path, &text, errors) == -1)
		goto out;
	config_parser_init(&p, buf_data(&text), buf_len(&text));
	p.on_section = config_on_section;
	p.arg = &ctx;
	while ((r = config_parse_next(&p, &it, &err)) != 0) {
		if (r == -1) {
			config_error(errors, path, p.line, "%s", err);
			continue;
		}
		config_apply_item(cfg, &it, errors, seen);
	}
	config_validate(cfg, errors, seen);
out:
	buf_release(&text);
	if (buf_len(errors) != before)
		config_free(&cfg);
	return cfg;
}

void
config_free(struct config **cfgp)
{
	struct config *cfg = *cfgp;
	size_t i;

	if (cfg == NULL)
		return;
	for (i = 0; i < ARRAY_LEN(config_keys); i++) {
		const struct config_key *k = &config_keys[i];

		if (k->type == CT_STRING || k->type == CT_PATH ||
		    k->type == CT_HOSTNAME)
			free(*(char **)((char *)cfg + k->offset));
	}
	config_free_domains(&cfg->domains);
	config_free_domains(&cfg->dnsbl_zones);
	free(cfg->path);
	XFREE(cfgp);
}

bool
config_is_local_domain(const struct config *cfg, const char *domain,
    size_t len)
{
	size_t i;

	for (i = 0; i < cfg->ndomains; i++)
		if (str_caseeq(str_make(domain, len),
		    str_cstr(cfg->domains[i])))
			return true;
	return false;
}
