/*
 * test_config.c - the INI tokenizer (config_parse.c) and the loader and
 * value parsers (config.c). Loader tests write files under a mkdtemp dir.
 */
#include "core/common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <unistd.h>

#include "config/config.h"
#include "config/config_parse.h"
#include "core/buf.h"
#include "unit/unit.h"

/*
 * Runs the tokenizer over the whole input and renders what it returned as
 * text: "line:section.key=value|" per item, "line:!error|" per error (the
 * parser is resumed after an error, as config_load does).
 */
static void
config_render(const char *in, size_t len, struct buf *out)
{
	struct config_parser p;
	struct config_item it;
	const char *err;
	size_t guard = 0;
	int r;

	config_parser_init(&p, in, len);
	while ((r = config_parse_next(&p, &it, &err)) != 0) {
		if (guard++ > len) {
			CHECKF(false, "config_parse_next makes no progress");
			break;
		}
		if (r == -1)
			r = buf_addf(out, "%u:!%s|", p.line, err);
		else
			r = buf_addf(out, "%u:%.*s.%.*s=%.*s|", it.line,
			    (int)it.section.len, it.section.p,
			    (int)it.key.len, it.key.p, (int)it.value.len,
			    it.value.p);
		if (r != 0)
			CHECKF(false, "render buffer full");
	}
}

static const struct {
	const char	*in;
	const char	*want;
} parse_cases[] = {
	{ "", "" },
	{ "\n\n\n", "" },
	{ "; only a comment\n# another\n", "" },
	{ "[s]\nk = v\n", "2:s.k=v|" },
	{ "[s]\nk=v", "2:s.k=v|" },		/* no final newline */
	{ "[s]\r\nk = v\r\n", "2:s.k=v|" },		/* CRLF */
	{ "[s]\r\nk = v\r", "2:s.k=v|" },
	{ "\n\n[s]\n\n; c\nk = v\n\na = b\n", "6:s.k=v|8:s.a=b|" },
	{ "  [ spaced ]  \n  key  =  value with spaces  \n",
	    "2:spaced.key=value with spaces|" },
	{ "[s]\n\tk\t=\tv\t\n", "2:s.k=v|" },
	{ "[s]\nk =\n", "2:s.k=|" },			/* empty value */
	{ "[s]\nk = a = b\n", "2:s.k=a = b|" },	/* first '=' splits */
	{ "[s]\nk = v ; note\n", "2:s.k=v|" },
	{ "[s]\nk = v # note\n", "2:s.k=v|" },
	{ "[s]\nk = v\t#note\n", "2:s.k=v|" },
	{ "[s]\nk = a;b#c\n", "2:s.k=a;b#c|" },	/* not after space */
	{ "[s]\nk = a ; b ; c\n", "2:s.k=a|" },
	{ "[a]\nx = 1\n[b]\nx = 2\n", "2:a.x=1|4:b.x=2|" },
	{ "[A-b_c.9]\nKey.Name-1_x = v\n", "2:A-b_c.9.Key.Name-1_x=v|" },
	{ "[s]\nk = caf\xc3\xa9\n", "2:s.k=caf\xc3\xa9|" },
	/* Errors carry the line; parsing resumes on the next line. */
	{ "k = v\n", "1:!key outside of any [section]|" },
	{ "[s]\njunk\nk = v\n",
	    "2:!expected 'key = value' or '[section]'|3:s.k=v|" },
	{ "[s\nk = v\n", "1:!section header lacks its closing ']'|"
	    "2:!key outside of any [section]|" },
	{ "[s] ; c\n", "1:!section header lacks its closing ']'|" },
	{ "[]\n", "1:!empty section name|" },
	{ "[  ]\n", "1:!empty section name|" },
	{ "[a b]\n", "1:!bad character in section name|" },
	{ "[a/b]\n", "1:!bad character in section name|" },
	{ "[s]\n= v\n", "2:!empty key|" },
	{ "[s]\nk k = v\n", "2:!bad character in key|" },
	{ "[s]\nk$ = v\n", "2:!bad character in key|" },
	{ "[s]\n[bad\nk = v\n",
	    "2:!section header lacks its closing ']'|3:s.k=v|" },
	{ "[s]\nk = v\n\n\n[]\nx = y\n", "2:s.k=v|5:!empty section name|"
	    "6:s.x=y|" },
};

TEST(config_parse_table)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(parse_cases); i++) {
		struct buf out;

		buf_init(&out, 4096);
		config_render(parse_cases[i].in, strlen(parse_cases[i].in),
		    &out);
		CHECKF(strcmp(buf_cstr(&out), parse_cases[i].want) == 0,
		    "case %zu: got \"%s\", want \"%s\"", i, buf_cstr(&out),
		    parse_cases[i].want);
		buf_release(&out);
	}
}

TEST(config_parse_nul_byte)
{
	static const char in[] = "[s]\nk = a\0b\nx = y\n";
	struct buf out;

	buf_init(&out, 4096);
	config_render(in, sizeof(in) - 1, &out);
	CHECK_EQ_STR(buf_cstr(&out), "2:!NUL byte in line|3:s.x=y|");
	buf_release(&out);
}

/* A line of exactly CONFIG_LINE_MAX octets is fine, one more is not. */
TEST(config_parse_line_length)
{
	static const size_t lens[] = { CONFIG_LINE_MAX, CONFIG_LINE_MAX + 1 };
	size_t i;

	for (i = 0; i < ARRAY_LEN(lens); i++) {
		struct buf in, out;
		size_t n;

		buf_init(&in, BUF_NOCAP);
		buf_init(&out, BUF_NOCAP);
		CHECK_EQ_INT(buf_adds(&in, "[s]\nk = "), 0);
		for (n = 4; n < lens[i]; n++)
			CHECK_EQ_INT(buf_addc(&in, 'v'), 0);
		/* The CR of a CRLF does not count toward the limit. */
		CHECK_EQ_INT(buf_adds(&in, "\r\nx = y\n"), 0);
		config_render(buf_data(&in), buf_len(&in), &out);
		if (i == 0)
			CHECKF(strncmp(buf_cstr(&out), "2:s.k=vvv", 9) == 0 &&
			    strstr(buf_cstr(&out), "|3:s.x=y|") != NULL,
			    "max line refused: %.40s", buf_cstr(&out));
		else
			CHECK_EQ_STR(buf_cstr(&out),
			    "2:!line too long|3:s.x=y|");
		buf_release(&in);
		buf_release(&out);
	}
}

/* Slices point into the input, and the section outlives its line. */
TEST(config_parse_slices_point_into_input)
{
	static const char in[] = "[main]\na = 1\n\nb = 2\n";
	struct config_parser p;
	struct config_item it;
	const char *err = NULL;

	config_parser_init(&p, in, sizeof(in) - 1);
	CHECK_EQ_INT(config_parse_next(&p, &it, &err), 1);
	CHECK(it.key.p == in + 7);
	CHECK(it.value.p == in + 11);
	CHECK(it.section.p == in + 1);
	CHECK_EQ_INT(it.line, 2);
	CHECK_EQ_INT(config_parse_next(&p, &it, &err), 1);
	CHECK_EQ_MEM(it.key.p, it.key.len, "b", 1);
	CHECK_EQ_MEM(it.section.p, it.section.len, "main", 4);
	CHECK_EQ_INT(it.line, 4);
	CHECK_EQ_INT(config_parse_next(&p, &it, &err), 0);
	/* And stays at the end. */
	CHECK_EQ_INT(config_parse_next(&p, &it, &err), 0);
	CHECK(err == NULL);
}

/* Feeding the parser one line at a time by hand gives the same lines. */
TEST(config_parse_line_numbers_many)
{
	struct buf in, out, want;
	unsigned i;

	buf_init(&in, BUF_NOCAP);
	buf_init(&out, BUF_NOCAP);
	buf_init(&want, BUF_NOCAP);
	CHECK_EQ_INT(buf_adds(&in, "[s]\n"), 0);
	for (i = 2; i <= 500; i++) {
		if (i % 3 == 0)
			CHECK_EQ_INT(buf_adds(&in, "# comment\n"), 0);
		else if (i % 3 == 1)
			CHECK_EQ_INT(buf_adds(&in, "\r\n"), 0);
		else {
			CHECK_EQ_INT(buf_addf(&in, "k%u = %u\n", i, i), 0);
			CHECK_EQ_INT(buf_addf(&want, "%u:s.k%u=%u|", i, i, i),
			    0);
		}
	}
	config_render(buf_data(&in), buf_len(&in), &out);
	CHECK_EQ_STR(buf_cstr(&out), buf_cstr(&want));
	buf_release(&in);
	buf_release(&out);
	buf_release(&want);
}

TEST(config_parse_size_table)
{
	static const struct {
		const char	*in;
		int		 rc;
		uint64_t	 want;
	} cases[] = {
		{ "0", 0, 0 },
		{ "1000", 0, 1000 },
		{ "1K", 0, 1024 },
		{ "1k", 0, 1024 },
		{ "25M", 0, 25u * 1024 * 1024 },
		{ "25m", 0, 25u * 1024 * 1024 },
		{ "2G", 0, 2ull << 30 },
		{ "18446744073709551615", 0, UINT64_MAX },
		{ "17179869183G", 0, 17179869183ull << 30 },
		{ "17179869184G", -1, 0 },	/* 2^64: overflow */
		{ "18446744073709551615K", -1, 0 },
		{ "18446744073709551616", -1, 0 },
		{ "", -1, 0 },
		{ "M", -1, 0 },
		{ "1.5M", -1, 0 },
		{ "-1", -1, 0 },
		{ "+1", -1, 0 },
		{ "1 M", -1, 0 },
		{ " 1M", -1, 0 },
		{ "1MB", -1, 0 },
		{ "1T", -1, 0 },
		{ "1s", -1, 0 },
		{ "0x10", -1, 0 },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		uint64_t out = 777;
		int rc = config_parse_size(cases[i].in, &out);

		CHECKF(rc == cases[i].rc, "config_parse_size(\"%s\"): rc %d",
		    cases[i].in, rc);
		if (rc == 0)
			CHECKF(out == cases[i].want, "config_parse_size(\"%s\")"
			    " = %llu, want %llu", cases[i].in,
			    (unsigned long long)out,
			    (unsigned long long)cases[i].want);
	}
}

TEST(config_parse_duration_table)
{
	static const struct {
		const char	*in;
		int		 rc;
		uint64_t	 want;
	} cases[] = {
		{ "0", 0, 0 },
		{ "30", 0, 30 },
		{ "30s", 0, 30 },
		{ "5m", 0, 300 },
		{ "5M", 0, 300 },
		{ "2h", 0, 7200 },
		{ "1d", 0, 86400 },
		{ "1w", 0, 604800 },
		{ "", -1, 0 },
		{ "m", -1, 0 },
		{ "5x", -1, 0 },
		{ "5ms", -1, 0 },
		{ "1.5h", -1, 0 },
		{ "5 m", -1, 0 },
		{ "5mm", -1, 0 },
		{ "-5m", -1, 0 },
		{ "30500568904943664w", -1, 0 },	/* overflow */
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		uint64_t out = 777;
		int rc = config_parse_duration(cases[i].in, &out);

		CHECKF(rc == cases[i].rc, "config_parse_duration(\"%s\"): rc "
		    "%d", cases[i].in, rc);
		if (rc == 0)
			CHECKF(out == cases[i].want, "config_parse_duration("
			    "\"%s\") = %llu, want %llu", cases[i].in,
			    (unsigned long long)out,
			    (unsigned long long)cases[i].want);
	}
}

TEST(config_parse_listen_addr_table)
{
	static const struct {
		const char	*in;
		int		 rc;
		int		 family;
		unsigned	 port;
		const char	*host;	/* as inet_ntop prints it */
	} cases[] = {
		{ "127.0.0.1:25", 0, AF_INET, 25, "127.0.0.1" },
		{ "0.0.0.0:587", 0, AF_INET, 587, "0.0.0.0" },
		{ "192.0.2.1:65535", 0, AF_INET, 65535, "192.0.2.1" },
		{ "127.0.0.1:1", 0, AF_INET, 1, "127.0.0.1" },
		{ "[::1]:25", 0, AF_INET6, 25, "::1" },
		{ "[::]:465", 0, AF_INET6, 465, "::" },
		{ "[2001:db8::1]:2525", 0, AF_INET6, 2525, "2001:db8::1" },
		{ "[::ffff:127.0.0.1]:25", 0, AF_INET6, 25,
		    "::ffff:127.0.0.1" },
		{ "127.0.0.1:0", -1, 0, 0, NULL },
		{ "127.0.0.1:65536", -1, 0, 0, NULL },
		{ "127.0.0.1:", -1, 0, 0, NULL },
		{ "127.0.0.1", -1, 0, 0, NULL },
		{ ":25", -1, 0, 0, NULL },
		{ "", -1, 0, 0, NULL },
		{ "localhost:25", -1, 0, 0, NULL },
		{ "127.0.0.1:25x", -1, 0, 0, NULL },
		{ "127.0.0.1:-25", -1, 0, 0, NULL },
		{ "127.0.0.1: 25", -1, 0, 0, NULL },
		{ "127.0.0.1:+25", -1, 0, 0, NULL },
		{ "1.2.3:25", -1, 0, 0, NULL },
		{ "256.0.0.1:25", -1, 0, 0, NULL },
		{ "::1:25", -1, 0, 0, NULL },
		{ "[::1]25", -1, 0, 0, NULL },
		{ "[::1]:", -1, 0, 0, NULL },
		{ "[::1]", -1, 0, 0, NULL },
		{ "[::1:25", -1, 0, 0, NULL },
		{ "[]:25", -1, 0, 0, NULL },
		{ "[127.0.0.1]:25", -1, 0, 0, NULL },
		{ "[::1]:25:25", -1, 0, 0, NULL },
		{ "[", -1, 0, 0, NULL },
		{ "[]", -1, 0, 0, NULL },
		{ "]:", -1, 0, 0, NULL },
		/* 63 octets fit in text[], 68 do not. */
		{ "[0000:0000:0000:0000:0000:ffff:255.255.255.255]:"
		    "000000000000025", 0, AF_INET6, 25,
		    "::ffff:255.255.255.255" },
		{ "[0000:0000:0000:0000:0000:ffff:255.255.255.255]:"
		    "00000000000000000025", -1, 0, 0, NULL },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		struct listen_addr a;
		char host[INET6_ADDRSTRLEN] = "";
		int rc = config_parse_listen_addr(cases[i].in,
		    strlen(cases[i].in), &a);

		CHECKF(rc == cases[i].rc, "listen_addr(\"%s\"): rc %d, want %d",
		    cases[i].in, rc, cases[i].rc);
		if (rc != 0 || cases[i].rc != 0)
			continue;
		CHECK_EQ_STR(a.text, cases[i].in);
		CHECKF(a.ss.ss_family == cases[i].family,
		    "listen_addr(\"%s\"): family %d", cases[i].in,
		    a.ss.ss_family);
		if (a.ss.ss_family == AF_INET) {
			struct sockaddr_in *sin = (struct sockaddr_in *)&a.ss;

			CHECK_EQ_INT(a.sslen, sizeof(*sin));
			CHECK_EQ_INT(ntohs(sin->sin_port), cases[i].port);
			inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		} else {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a.ss;

			CHECK_EQ_INT(a.sslen, sizeof(*s6));
			CHECK_EQ_INT(ntohs(s6->sin6_port), cases[i].port);
			inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		}
		CHECK_EQ_STR(host, cases[i].host);
	}
	{
		/* The length decides, not a NUL. */
		struct listen_addr a;

		CHECK_EQ_INT(config_parse_listen_addr("127.0.0.1:25 junk", 12,
		    &a), 0);
		CHECK_EQ_STR(a.text, "127.0.0.1:25");
	}
}

/* ---- config_load, on real files ---- */

struct tmpdir {
	char	path[64];
};

static void
tmpdir_make(struct tmpdir *t)
{
	CHECK_EQ_INT(cstr_copy(t->path, sizeof(t->path),
	    "/tmp/facteur-test-config.XXXXXX"), 0);
	if (mkdtemp(t->path) == NULL) {
		CHECKF(false, "mkdtemp: %s", strerror(errno));
		abort();
	}
}

static void
tmpdir_remove(struct tmpdir *t)
{
	char cmd[128];

	/* Only the files this test wrote: conf and big. */
	snprintf(cmd, sizeof(cmd), "%s/facteur.conf", t->path);
	unlink(cmd);
	rmdir(t->path);
}

/* Writes text to DIR/facteur.conf and returns its path in out. */
static void
tmpdir_write(const struct tmpdir *t, const char *text, size_t len,
    char *out, size_t outsize)
{
	FILE *f;

	if (snprintf(out, outsize, "%s/facteur.conf", t->path) >=
	    (int)outsize)
		abort();
	f = fopen(out, "w");
	if (f == NULL || fwrite(text, 1, len, f) != len || fclose(f) != 0) {
		CHECKF(false, "cannot write %s", out);
		abort();
	}
}

/* Loads text as a config file; errors (without the dir prefix) to errs. */
static struct config *
load_text(const char *text, struct buf *errs)
{
	struct tmpdir t;
	char path[128];
	struct config *cfg;

	tmpdir_make(&t);
	tmpdir_write(&t, text, strlen(text), path, sizeof(path));
	buf_init(errs, 65536);
	cfg = config_load(path, errs);
	tmpdir_remove(&t);
	return cfg;
}

#define BASE_CONF							\
	"[server]\n"							\
	"hostname = MX.Example.TEST\n"					\
	"domains = Example.TEST other.test\n"				\
	"[listen]\n"							\
	"smtp = 127.0.0.1:2525\n"

TEST(config_load_minimal_with_defaults)
{
	struct buf errs;
	struct config *cfg = load_text(BASE_CONF, &errs);

	CHECKF(cfg != NULL, "errors: %s", buf_cstr(&errs));
	if (cfg == NULL)
		return;
	CHECK_EQ_INT(buf_len(&errs), 0);
	CHECK_EQ_STR(cfg->hostname, "mx.example.test");
	CHECK_EQ_INT(cfg->ndomains, 2);
	CHECK_EQ_STR(cfg->domains[0], "example.test");
	CHECK_EQ_STR(cfg->domains[1], "other.test");
	CHECK(cfg->domains[2] == NULL);
	CHECK(config_is_local_domain(cfg, "EXAMPLE.test", 12));
	CHECK(config_is_local_domain(cfg, "other.test", 10));
	CHECK(!config_is_local_domain(cfg, "example.tes", 11));
	CHECK(!config_is_local_domain(cfg, "evil.test", 9));
	CHECK_EQ_INT(cfg->listen[LISTEN_SMTP].count, 1);
	CHECK_EQ_STR(cfg->listen[LISTEN_SMTP].addrs[0].text,
	    "127.0.0.1:2525");
	CHECK_EQ_INT(cfg->listen[LISTEN_SUBMISSION].count, 0);
	/* Defaults from the key table. */
	CHECK_EQ_STR(cfg->data_dir, "/var/lib/facteur");
	CHECK_EQ_INT(cfg->max_message_size, 25u * 1024 * 1024);
	CHECK_EQ_INT(cfg->log_level, 1);
	CHECK_EQ_INT(cfg->max_recipients, 100);
	CHECK_EQ_INT(cfg->max_errors, 10);
	CHECK_EQ_INT(cfg->max_connections, 2000);
	CHECK_EQ_INT(cfg->max_connections_per_ip, 20);
	CHECK_EQ_INT(cfg->command_timeout, 300);
	CHECK_EQ_INT(cfg->data_timeout, 300);
	CHECK_EQ_INT(cfg->greeting_delay_ms, 0);
	CHECK_EQ_INT(cfg->pop3_timeout, POP3_TIMEOUT_DEFAULT);
	/* Postfix's: 5 sessions per destination at first, up to 20. */
	CHECK_EQ_INT(cfg->delivery_initial_per_domain, 5);
	CHECK_EQ_INT(cfg->delivery_max_per_domain, 20);
	CHECK_EQ_INT(cfg->delivery_max_connections, 100);
	CHECK(cfg->tls_cert == NULL && cfg->tls_key == NULL);
	CHECK(cfg->path != NULL);
	config_free(&cfg);
	CHECK(cfg == NULL);
	config_free(&cfg);	/* NULL is fine */
	buf_release(&errs);
	CHECK_EQ_STR(listener_name(LISTEN_SMTP), "smtp");
	CHECK_EQ_STR(listener_name(LISTEN_POP3S), "pop3s");
}

TEST(config_load_every_key)
{
	struct buf errs;
	struct config *cfg = load_text(
	    "; full example\n"
	    "[server]\n"
	    "hostname = mx.example.test\n"
	    "domains = example.test\n"
	    "data_dir = /srv/facteur ; absolute\n"
	    "max_message_size = 10M\n"
	    "log_level = debug\n"
	    "[listen]\n"
	    "smtp = 0.0.0.0:25 [::]:25\n"
	    "submission = 127.0.0.1:587\n"
	    "submissions = [::1]:465\n"
	    "pop3 = 127.0.0.1:110\n"
	    "pop3s = 127.0.0.1:995\n"
	    "[limits]\n"
	    "max_recipients = 50\n"
	    "max_errors = 3\n"
	    "max_connections = 10\n"
	    "max_connections_per_ip = 2\n"
	    "command_timeout = 1m\n"
	    "data_timeout = 1h\n"
	    "greeting_delay = 2s\n"
	    "pop3_timeout = 15m\n"
	    "[tls]\n"
	    "cert = /etc/ssl/cert.pem\n"
	    "key = /etc/ssl/key.pem\n"
	    "[auth]\n"
	    "mx = yes\n"
	    "plaintext_localhost = on\n"
	    "failure_delay = 500ms\n"
	    "[submission]\n"
	    "check_from = no\n"
	    "[dns]\n"
	    "resolver = 127.0.0.1\n", &errs);

	CHECKF(cfg != NULL, "errors: %s", buf_cstr(&errs));
	if (cfg == NULL)
		return;
	CHECK_EQ_STR(cfg->data_dir, "/srv/facteur");
	CHECK(cfg->auth_on_mx);
	CHECK(cfg->auth_plaintext_localhost);
	CHECK_EQ_INT(cfg->auth_failure_delay_ms, 500);
	CHECK(!cfg->submission_check_from);
	CHECK_EQ_INT(cfg->max_message_size, 10u * 1024 * 1024);
	CHECK_EQ_INT(cfg->log_level, 0);
	CHECK_EQ_INT(cfg->listen[LISTEN_SMTP].count, 2);
	CHECK_EQ_INT(cfg->listen[LISTEN_SMTP].addrs[1].ss.ss_family,
	    AF_INET6);
	CHECK_EQ_INT(cfg->listen[LISTEN_SUBMISSION].count, 1);
	CHECK_EQ_INT(cfg->listen[LISTEN_SUBMISSIONS].count, 1);
	CHECK_EQ_INT(cfg->listen[LISTEN_POP3].count, 1);
	CHECK_EQ_INT(cfg->listen[LISTEN_POP3S].count, 1);
	CHECK_EQ_INT(cfg->max_recipients, 50);
	CHECK_EQ_INT(cfg->max_errors, 3);
	CHECK_EQ_INT(cfg->max_connections, 10);
	CHECK_EQ_INT(cfg->max_connections_per_ip, 2);
	CHECK_EQ_INT(cfg->command_timeout, 60);
	CHECK_EQ_INT(cfg->data_timeout, 3600);
	CHECK_EQ_INT(cfg->greeting_delay_ms, 2000);
	CHECK_EQ_INT(cfg->pop3_timeout, 900);
	CHECK_EQ_STR(cfg->tls_cert, "/etc/ssl/cert.pem");
	CHECK_EQ_STR(cfg->tls_key, "/etc/ssl/key.pem");
	CHECK_EQ_STR(cfg->dns_resolver, "127.0.0.1");
	config_free(&cfg);
	buf_release(&errs);
}

TEST(config_load_relative_paths)
{
	static const struct {
		const char	*value;
		const char	*suffix;
	} cases[] = {
		{ "spool", "/spool" },
		{ "./spool", "/spool" },
		{ "a/b", "/a/b" },
	};
	char cwd[4096], conf[512], want[4200];
	size_t i;

	if (getcwd(cwd, sizeof(cwd)) == NULL) {
		CHECKF(false, "getcwd: %s", strerror(errno));
		return;
	}
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		struct buf errs;
		struct config *cfg;

		snprintf(conf, sizeof(conf), BASE_CONF "[server]\n"
		    "data_dir = %s\n", cases[i].value);
		/* A second [server] header is fine: sections may reopen. */
		cfg = load_text(conf, &errs);
		CHECKF(cfg != NULL, "%s: errors: %s", cases[i].value,
		    buf_cstr(&errs));
		if (cfg == NULL) {
			buf_release(&errs);
			continue;
		}
		snprintf(want, sizeof(want), "%s%s", cwd, cases[i].suffix);
		CHECK_EQ_STR(cfg->data_dir, want);
		config_free(&cfg);
		buf_release(&errs);
	}
}

/*
 * Each bad file gives NULL and errors naming the file and the line. The
 * want strings are matched after the "<dir>/facteur.conf" prefix.
 */
static const struct {
	const char	*text;
	const char	*want[3];	/* substrings of the error text */
} load_error_cases[] = {
	{ BASE_CONF "bogus = 1\n",
	    { ":6: unknown key 'bogus' in [listen]\n" } },
	{ BASE_CONF "[nosuch]\nx = 1\n",
	    { ":6: unknown section [nosuch]\n" } },
	{ BASE_CONF "[empty]\n",
	    { ":6: unknown section [empty]\n" } },
	{ BASE_CONF "smtp = 127.0.0.1:25\n",
	    { ":6: [listen] smtp set twice\n" } },
	{ BASE_CONF "[server]\nmax_message_size = 3G\n",
	    { ":7: [server] max_message_size = 3G: value too large\n" } },
	{ BASE_CONF "[server]\nmax_message_size = lots\n",
	    { ":7: [server] max_message_size = lots: not a valid number" } },
	{ BASE_CONF "[limits]\nmax_recipients = 100001\n",
	    { ":7: [limits] max_recipients = 100001: value too large\n" } },
	{ BASE_CONF "[limits]\ncommand_timeout = 2d\n",
	    { ":7: [limits] command_timeout = 2d: value too large\n" } },
	{ BASE_CONF "[limits]\ngreeting_delay = 61s\n",
	    { ":7: [limits] greeting_delay = 61s: value too large\n" } },
	{ BASE_CONF "[server]\nlog_level = loud\n",
	    { ":7: [server] log_level = loud: expected debug" } },
	{ BASE_CONF "[tls]\ncert =\n",
	    { ":7: [tls] cert = \"\": empty value\n" } },
	{ "[server]\nhostname = localhost\ndomains = example.test\n"
	    "[listen]\nsmtp = 127.0.0.1:25\n",
	    { ":2: [server] hostname = localhost: not a valid fully "
	      "qualified host name\n" } },
	{ "[server]\nhostname = mx.example.test\ndomains = ok.test bad_.test\n"
	    "[listen]\nsmtp = 127.0.0.1:25\n",
	    { ":3: [server] domains = \"ok.test bad_.test\": not a list of "
	      "valid domain names\n" } },
	{ "[server]\nhostname = mx.example.test\n"
	    "[listen]\nsmtp = 127.0.0.1:25\n",
	    { ": [server] domains is required\n" } },
	{ "[server]\nhostname = mx.example.test\ndomains = example.test\n",
	    { ": [listen]: no listener configured" } },
	{ BASE_CONF "pop3 = localhost:110\n",
	    { ":6: [listen] pop3 = localhost:110: expected IPv4:PORT" } },
	{ BASE_CONF "[tls]\ncert = /c.pem\n",
	    { ": [tls] cert and key must be set together\n" } },
	{ BASE_CONF "[tls]\nkey = /k.pem\n",
	    { ": [tls] cert and key must be set together\n" } },
	{ BASE_CONF "[delivery]\nmax_per_domain = 0\n",
	    { ": [delivery] max_connections, initial_per_domain and "
	      "max_per_domain must be at least 1\n" } },
	{ BASE_CONF "[delivery]\ninitial_per_domain = 0\n",
	    { "initial_per_domain and max_per_domain must be at least 1\n" } },
	{ BASE_CONF "[bans]\nban_times = 1h 99999999999d\n",
	    { "[bans] ban_times = \"1h 99999999999d\": expected up to 8 "
	      "durations of at most 10 years" } },
	{ BASE_CONF "[limits]\ndata_timeout = 0\n",
	    { ": [limits] command_timeout, data_timeout and pop3_timeout "
	      "must be at least 1s\n" } },
	/* Several problems: all are reported, each with its line. */
	{ "[server]\nhostname = mx.example.test\njunk line\n"
	    "domains = example.test\n[listen]\nsmtp = 127.0.0.1:25\n"
	    "nope = 1\n[]\n",
	    { ":3: expected 'key = value' or '[section]'\n",
	      ":7: unknown key 'nope' in [listen]\n",
	      ":8: empty section name\n" } },
	{ "orphan = 1\n" BASE_CONF,
	    { ":1: key outside of any [section]\n" } },
	/* Values from the file are quoted in errors: no log forging. */
	{ BASE_CONF "[server]\nlog_level = x\" event=evil\n",
	    { ":7: [server] log_level = \"x\\\" event=evil\": expected" } },
};

TEST(config_load_errors)
{
	size_t i, j;

	for (i = 0; i < ARRAY_LEN(load_error_cases); i++) {
		struct buf errs;
		struct config *cfg = load_text(load_error_cases[i].text, &errs);

		CHECKF(cfg == NULL, "case %zu: loaded a bad config", i);
		config_free(&cfg);
		CHECKF(buf_len(&errs) > 0, "case %zu: no error text", i);
		CHECKF(strstr(buf_cstr(&errs), "/facteur.conf") ==
		    buf_cstr(&errs) + strlen("/tmp/facteur-test-config.XXXXXX"),
		    "case %zu: errors do not start with the path: %s", i,
		    buf_cstr(&errs));
		for (j = 0; j < ARRAY_LEN(load_error_cases[i].want) &&
		    load_error_cases[i].want[j] != NULL; j++)
			CHECKF(strstr(buf_cstr(&errs),
			    load_error_cases[i].want[j]) != NULL,
			    "case %zu: want \"%s\" in:\n%s", i,
			    load_error_cases[i].want[j], buf_cstr(&errs));
		buf_release(&errs);
	}
}

TEST(config_load_missing_file)
{
	static const char want[] = "/nonexistent/facteur/test.conf: "
	    "cannot open: No such file or directory\n";
	struct buf errs;
	struct config *cfg;

	buf_init(&errs, 4096);
	cfg = config_load("/nonexistent/facteur/test.conf", &errs);
	CHECK(cfg == NULL);
	CHECK_EQ_STR(buf_cstr(&errs), want);
	buf_release(&errs);
}

TEST(config_load_too_large)
{
	struct tmpdir t;
	char path[128];
	struct buf text, errs;
	struct config *cfg;

	buf_init(&text, BUF_NOCAP);
	CHECK_EQ_INT(buf_adds(&text, BASE_CONF), 0);
	while (buf_len(&text) <= CONFIG_FILE_MAX)
		CHECK_EQ_INT(buf_adds(&text, "; padding padding padding\n"), 0);
	tmpdir_make(&t);
	tmpdir_write(&t, buf_data(&text), buf_len(&text), path, sizeof(path));
	buf_init(&errs, 4096);
	cfg = config_load(path, &errs);
	CHECK(cfg == NULL);
	CHECKF(strstr(buf_cstr(&errs), ": file too large\n") != NULL,
	    "got: %s", buf_cstr(&errs));
	tmpdir_remove(&t);
	buf_release(&text);
	buf_release(&errs);
}

/* Errors are appended: earlier contents of the buffer are kept. */
TEST(config_load_appends_errors)
{
	struct buf errs;
	struct config *cfg;

	buf_init(&errs, 4096);
	CHECK_EQ_INT(buf_adds(&errs, "earlier\n"), 0);
	cfg = config_load("/nonexistent/x.conf", &errs);
	CHECK(cfg == NULL);
	CHECK_EQ_INT(strncmp(buf_cstr(&errs), "earlier\n/nonexistent/", 21),
	    0);
	buf_release(&errs);
}

TEST(config_load_listen_limits)
{
	struct buf conf, errs;
	struct config *cfg;
	size_t i;

	/* LISTEN_ADDRS_MAX addresses are fine, one more is not. */
	for (i = 0; i < 2; i++) {
		size_t n, want = LISTEN_ADDRS_MAX + i;

		buf_init(&conf, BUF_NOCAP);
		CHECK_EQ_INT(buf_adds(&conf, "[server]\nhostname = "
		    "mx.example.test\ndomains = example.test\n[listen]\n"
		    "smtp ="), 0);
		for (n = 0; n < want; n++)
			CHECK_EQ_INT(buf_addf(&conf, " 127.0.0.1:%zu",
			    1000 + n), 0);
		CHECK_EQ_INT(buf_addc(&conf, '\n'), 0);
		cfg = load_text(buf_cstr(&conf), &errs);
		if (i == 0) {
			CHECKF(cfg != NULL, "errors: %s", buf_cstr(&errs));
			if (cfg)
				CHECK_EQ_INT(cfg->listen[LISTEN_SMTP].count,
				    LISTEN_ADDRS_MAX);
		} else {
			CHECK(cfg == NULL);
			CHECKF(strstr(buf_cstr(&errs), ":5: [listen] smtp = ")
			    != NULL && strstr(buf_cstr(&errs),
			    ": too many addresses\n") != NULL, "got: %s",
			    buf_cstr(&errs));
		}
		config_free(&cfg);
		buf_release(&conf);
		buf_release(&errs);
	}
}
