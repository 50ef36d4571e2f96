/*
 * config.h - facteur's configuration: loading, validation, defaults.
 *
 * The file is INI (see config_parse.h). Every key is described once, in the
 * table in config.c, which drives parsing, validation, defaults and
 * `facteur check-config`; README.md documents the same keys. Errors name
 * the file and line ("facteur.conf:12: [server] max_message_size: ...").
 * Relative paths are taken from the current directory at load time and
 * stored absolute.
 */
#ifndef FACTEUR_CONFIG_H
#define FACTEUR_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/buf.h"
#include "core/cidr.h"
#include "core/limits.h"

#define CONFIG_DEFAULT_PATH "/etc/facteur/facteur.conf"

enum listener_kind {
	LISTEN_SMTP,		/* MX role, port 25 */
	LISTEN_SUBMISSION,	/* 587, STARTTLS */
	LISTEN_SUBMISSIONS,	/* 465, implicit TLS */
	LISTEN_POP3,		/* 110, STLS */
	LISTEN_POP3S,		/* 995, implicit TLS */
	LISTEN_KIND_COUNT
};

struct listen_addr {
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	char			 text[64];	/* as written, for logs */
};

struct listen_set {
	struct listen_addr	 addrs[LISTEN_ADDRS_MAX];
	size_t			 count;
};

struct config {
	char		*path;

	/* [server] */
	char		*hostname;
	char		**domains;	/* lowercase, NULL-terminated */
	size_t		 ndomains;
	char		*data_dir;
	uint64_t	 max_message_size;
	int		 log_level;	/* enum log_level */
	char		*user;		/* drop privileges to this user */
	bool		 run_as_root;	/* development only */

	/* [listen] */
	struct listen_set listen[LISTEN_KIND_COUNT];

	/* [limits] */
	uint64_t	 max_recipients;
	uint64_t	 max_errors;
	uint64_t	 max_junk_commands;	/* NOOP, RSET, HELP, VRFY */
	uint64_t	 max_connections;
	uint64_t	 max_connections_per_ip;
	uint64_t	 command_timeout;	/* seconds */
	uint64_t	 data_timeout;		/* seconds */
	uint64_t	 greeting_delay_ms;
	uint64_t	 pop3_timeout;		/* seconds */

	/* [tls] */
	char		*tls_cert;
	char		*tls_key;

	uint64_t	 connections_per_minute;	/* per IP, 0: no limit */
	uint64_t	 max_unknown_recipients;	/* per session */
	uint64_t	 user_messages_per_minute;	/* authenticated */
	uint64_t	 user_recipients_per_minute;

	/* [bans] brute-force protection */
	uint64_t	 ban_max_failures;
	uint64_t	 ban_window;		/* seconds */
	uint64_t	 ban_times[8];		/* seconds, per repeat offence */
	size_t		 nban_times;
	struct cidr_list ban_allow;		/* never banned */
	char		*ban_action;		/* reply | close */
	uint64_t	 ban_trust_period;	/* seconds */
	uint64_t	 ban_account_failures;
	uint64_t	 ban_max_delay_ms;

	/* [checks] clients whose mail gets no SPF/DKIM/DMARC check */
	struct cidr_list check_skip;

	/* [dnsbl] */
	char		**dnsbl_zones;		/* NULL-terminated, may be NULL */

	/* [auth] */
	bool		 auth_on_mx;		/* offer AUTH on smtp too */
	bool		 auth_plaintext_localhost;
	uint64_t	 auth_failure_delay_ms;

	/* [submission] */
	bool		 submission_check_from;	/* header From: is theirs */

	/* [dns] */
	char		*dns_resolver;

	/* [dmarc] what a failing message gets when its domain says reject */
	char		*dmarc_reject_action;	/* reject|quarantine|none */
	char		*dmarc_quarantine_folder;	/* "Junk", "INBOX" */

	/* [delivery] */
	uint64_t	 delivery_port;		/* 25; tests use another */
	uint64_t	 delivery_max_connections;
	uint64_t	 delivery_initial_per_domain;	/* window at start */
	uint64_t	 delivery_max_per_domain;	/* ...and its limit */
	uint64_t	 delivery_connect_timeout;	/* seconds */

	/* [queue] */
	uint64_t	 queue_max_age;		/* seconds */
	uint64_t	 queue_retry_min;	/* seconds */
	uint64_t	 queue_retry_max;	/* seconds */
	uint64_t	 queue_delay_warning;	/* seconds, 0: never */

	/* [relay]: a smarthost for all outbound mail */
	char		*relay_host;
	uint64_t	 relay_port;
	char		*relay_user;
	char		*relay_password_file;
	bool		 relay_tls_verify;	/* certificate must verify */
};

/*
 * Loads and validates path into a new config. NULL on error, with every
 * problem found appended to errors (one per line, "file:line: message").
 */
struct config *config_load(const char *path, struct buf *errors);
void config_free(struct config **cfg);

const char *listener_name(enum listener_kind kind);
bool config_is_local_domain(const struct config *cfg, const char *domain,
    size_t len);

/* Helpers shared with the CLI: "25M" -> bytes, "5m" -> seconds. */
int config_parse_size(const char *s, uint64_t *out);
int config_parse_duration(const char *s, uint64_t *out_seconds);
/* "127.0.0.1:25", "[::1]:25": 0 or -1. */
int config_parse_listen_addr(const char *s, size_t len,
    struct listen_addr *out);

#endif
