/*
 * cli_int.h - declarations shared by the files of `facteur setup`,
 * `facteur dns` and `facteur doctor` (src/cli/cli_setup*.c, cli_dns*.c,
 * cli_doctor*.c, cli_hostip.c, cli_resolve.c, cli_spf_count.c).
 *
 * The host's addresses: given with --ip, else the concrete public
 * addresses of the [listen] lines, else the public addresses of this
 * machine's interfaces. Private, loopback and documentation ranges are
 * never guessed (RFC 1918, RFC 6890), only taken when given with --ip.
 *
 * The resolver: one blocking query at a time over the asynchronous DNS
 * module (dns/dns.h), each on the CLI's own event loop with a time limit:
 * a command line tool asks a few dozen questions, in order.
 */
#ifndef FACTEUR_CLI_INT_H
#define FACTEUR_CLI_INT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "core/buf.h"
#include "dns/dns.h"
#include "spf/spf.h"

struct config;

/* ----- the host's addresses (cli_hostip.c) ----- */

#define CLI_HOSTIPS_MAX 16

struct cli_hostips {
	struct sockaddr_storage	 ip[CLI_HOSTIPS_MAX];
	size_t			 n;
	const char		*source;	/* "--ip", "[listen]", ... */
};

/* Adds an address given as text (IPv4 or IPv6); 0, or -1 if invalid. */
int cli_hostips_add_text(struct cli_hostips *h, const char *text);
/* Adds ss unless present or full. */
void cli_hostips_add(struct cli_hostips *h, const struct sockaddr_storage *ss);
/* --ip, else public [listen] addresses, else public interface ones. */
void cli_hostips_guess(struct cli_hostips *h, const struct config *cfg);
bool cli_ip_is_public(const struct sockaddr_storage *ss);
bool cli_ip_eq(const struct sockaddr_storage *a,
    const struct sockaddr_storage *b);
/* "192.0.2.1" or "2001:db8::1" (no brackets). */
void cli_ip_text(const struct sockaddr_storage *ss, char *out, size_t size);
/* RFC 1035 3.5 / RFC 3596 2.5: "1.2.0.192.in-addr.arpa" etc. 0 or -1. */
int cli_ip_reverse_name(const struct sockaddr_storage *ss, char *out,
    size_t size);
/*
 * Parses "[DOMAIN] [--ip IP]..." (the arguments of dns and doctor):
 * *domain_r is NULL when not given. 0, or -1 after printing why.
 */
int cli_hostips_args(int argc, char **argv, const char **domain_r,
    struct cli_hostips *h);

/* ----- synchronous DNS for the CLI (cli_resolve.c) ----- */

struct cli_resolver;

/* Copies of one answer's rdata. */
struct cli_rrset {
	enum dns_status	 status;
	int		 count;
	unsigned char	**data;
	size_t		*len;
};

/* NULL after printing why (a bad [dns] resolver). */
struct cli_resolver *cli_resolver_new(const struct config *cfg);
void cli_resolver_free(struct cli_resolver **r);
/* One query, waited for (a timeout is DNS_TEMPFAIL). */
void cli_resolve(struct cli_resolver *r, const char *name, int rrtype,
    struct cli_rrset *out);
void cli_rrset_release(struct cli_rrset *rr);
/*
 * The TXT records of name starting with prefix (case-insensitive, then a
 * space, ';' or the end), each joined from its strings, one per line in
 * out. Returns how many, or -1 on a DNS failure (status in *status_r).
 */
int cli_resolve_txt(struct cli_resolver *r, const char *name,
    const char *prefix, struct buf *out, enum dns_status *status_r);
/* The SPF check of RFC 7208 for ip and sender; why_r static. */
enum spf_result cli_resolve_spf(struct cli_resolver *r,
    const struct spf_request *req, const char **why_r);

/* ----- records to publish (cli_dns.c, cli_dns_rr.c) ----- */

/* Prints every record domain needs; DKIM keys are read in data_dir. */
void cli_dns_print_domain(const struct config *cfg, const char *data_dir,
    const char *domain);
/* Prints the A/AAAA records of the mail host and the PTR of each IP. */
void cli_dns_print_host(const struct config *cfg,
    const struct cli_hostips *ips);
/* "v=spf1 mx -all" */
const char *cli_dns_spf_record(void);
/* "v=DMARC1; p=quarantine; rua=mailto:postmaster@DOMAIN" */
int cli_dns_dmarc_record(const char *domain, struct buf *out);
/* "v=TLSRPTv1; rua=mailto:postmaster@DOMAIN" */
int cli_dns_tlsrpt_record(const char *domain, struct buf *out);
/* The MTA-STS policy file (RFC 8461 3.2), CRLF line ends. */
int cli_dns_mtasts_policy(const char *mx_host, struct buf *out);
/* A policy id derived from its text: 16 hex digits. */
void cli_dns_mtasts_id(const char *policy, size_t len, char out[17]);

/* ----- SPF lookup counting (cli_spf_count.c, pure) ----- */

/*
 * Fetches the SPF record of domain into out: 1 found, 0 none, -1 error.
 * The counter recurses through include: and redirect= with it.
 */
typedef int (*cli_spf_fetch_fn)(void *arg, const char *domain,
    struct buf *out);

/*
 * RFC 7208 4.6.4: counts the terms that cause DNS queries (include, a,
 * mx, ptr, exists, redirect) in record and, recursively, in the records
 * it includes or redirects to. Stops counting past SPF_LOOKUPS_MAX + 1
 * (so loops end). Terms whose domain holds a macro count once but are
 * not followed. -1 if record does not parse (why in *error_r).
 */
int cli_spf_count_lookups(const char *record, cli_spf_fetch_fn fetch,
    void *arg, const char **error_r);

/* ----- setup (cli_setup*.c) ----- */

struct cli_setup {
	char			 domain[256];	/* lowercase */
	char			 hostname[256];	/* mail.<domain> by default */
	char			 user[320];	/* the first mailbox */
	const char		*root;		/* "" without --root */
	char			 root_buf[PATH_MAX];
	const char		*config_path;	/* as the system sees it */
	struct cli_hostips	 ips;
	bool			 letsencrypt;	/* certbot's files exist */
	bool			 as_root;	/* may add users, chown */
	struct config		*cfg;		/* data_dir below root */
	int			 errors;
};

/* "created: ...", "ok: ... already", "kept: ...", "skipped: ...", ... */
void cli_setup_say(const char *word, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* An error: printed to stderr and counted. */
void cli_setup_error(struct cli_setup *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Creates the missing parents of path, mode 0755 (/etc/facteur). */
int cli_setup_parent(const char *path);
/* root + path into out; 0 or -1. */
int cli_setup_path(const struct cli_setup *s, const char *path, char *out,
    size_t size);
/*
 * Writes text to path unless the file is already right: absent, it is
 * created; equal to text, left alone; equal to old (what an earlier
 * setup wrote, now outdated), replaced; anything else is the user's and
 * kept. what names the file in the report.
 */
void cli_setup_file(struct cli_setup *s, const char *path, const char *text,
    const char *old, mode_t mode, const char *what);

void cli_setup_sysuser(struct cli_setup *s);
void cli_setup_data_dir(struct cli_setup *s);
void cli_setup_dkim(struct cli_setup *s);
void cli_setup_mailbox(struct cli_setup *s);
void cli_setup_aliases(struct cli_setup *s);
void cli_setup_tls(struct cli_setup *s);
/* certbot's deploy hook, and the copy of its files facteur can read. */
void cli_setup_certbot(struct cli_setup *s);
const char *cli_setup_tls_dir(void);
void cli_setup_owner(struct cli_setup *s);
void cli_setup_unit(struct cli_setup *s);
/* The systemd unit for a config path and data_dir (contrib/). */
int cli_setup_unit_text(const char *config_path, const char *data_dir,
    struct buf *out);

/* ----- doctor (cli_doctor*.c) ----- */

enum cli_doc_level {
	CLI_DOC_OK,
	CLI_DOC_WARN,
	CLI_DOC_FAIL,
};

struct cli_doctor {
	const struct config	*cfg;
	struct cli_resolver	*res;
	struct cli_hostips	 ips;		/* this host's addresses */
	struct cli_hostips	 dns_ips;	/* A/AAAA of the hostname */
	bool			 mx_missing;	/* for the SPF advice */
	bool			 addr_missing;	/* an IP without A/AAAA */
	int			 fails;
	int			 warns;
};

/* One line: "OK   what", "WARN what — fix: fix", "FAIL ...". */
void cli_doctor_say(struct cli_doctor *d, enum cli_doc_level level,
    const char *fix, const char *fmt, ...) __attribute__((format(printf,
    4, 5)));

void cli_doctor_host_addrs(struct cli_doctor *d);
void cli_doctor_ptr(struct cli_doctor *d);
void cli_doctor_mx(struct cli_doctor *d, const char *domain);
void cli_doctor_spf(struct cli_doctor *d, const char *domain);
void cli_doctor_dkim(struct cli_doctor *d, const char *domain);
void cli_doctor_dmarc(struct cli_doctor *d, const char *domain);
void cli_doctor_cert(struct cli_doctor *d);
void cli_doctor_listeners(struct cli_doctor *d);
void cli_doctor_relay(struct cli_doctor *d);

#endif
