/*
 * test_smtp_parse.c - command lines (CRLF rules, verbs), ESMTP parameters
 * and the MAIL FROM:/RCPT TO: prefix.
 */
#include "core/common.h"

#include "smtp/smtp_parse.h"
#include "unit/unit.h"

/* A line with its length given, so NULs can be part of the table. */
#define LINE(s) s, sizeof(s) - 1

static const struct {
	const char		*line;
	size_t			 len;
	enum smtp_parse_err	 err;
	enum smtp_verb		 verb;
	const char		*name, *args;
} line_cases[] = {
	{ LINE("HELO client.example\r\n"), SMTP_PARSE_OK, SMTP_VERB_HELO,
	    "HELO", "client.example" },
	{ LINE("ehlo client.example\r\n"), SMTP_PARSE_OK, SMTP_VERB_EHLO,
	    "ehlo", "client.example" },
	{ LINE("EhLo x\r\n"), SMTP_PARSE_OK, SMTP_VERB_EHLO, "EhLo", "x" },
	{ LINE("MAIL FROM:<a@b.test> SIZE=10\r\n"), SMTP_PARSE_OK,
	    SMTP_VERB_MAIL, "MAIL", "FROM:<a@b.test> SIZE=10" },
	{ LINE("RCPT TO:<a@b.test>\r\n"), SMTP_PARSE_OK, SMTP_VERB_RCPT,
	    "RCPT", "TO:<a@b.test>" },
	{ LINE("RCPT  TO:<x>\r\n"), SMTP_PARSE_OK, SMTP_VERB_RCPT, "RCPT",
	    " TO:<x>" },			/* one space eaten, not more */
	{ LINE("DATA\r\n"), SMTP_PARSE_OK, SMTP_VERB_DATA, "DATA", "" },
	{ LINE("DATA \r\n"), SMTP_PARSE_OK, SMTP_VERB_DATA, "DATA", "" },
	{ LINE("BDAT 100 LAST\r\n"), SMTP_PARSE_OK, SMTP_VERB_BDAT, "BDAT",
	    "100 LAST" },
	{ LINE("RSET\r\n"), SMTP_PARSE_OK, SMTP_VERB_RSET, "RSET", "" },
	{ LINE("NOOP anything\r\n"), SMTP_PARSE_OK, SMTP_VERB_NOOP, "NOOP",
	    "anything" },
	{ LINE("QUIT\r\n"), SMTP_PARSE_OK, SMTP_VERB_QUIT, "QUIT", "" },
	{ LINE("help\r\n"), SMTP_PARSE_OK, SMTP_VERB_HELP, "help", "" },
	{ LINE("VRFY user\r\n"), SMTP_PARSE_OK, SMTP_VERB_VRFY, "VRFY",
	    "user" },
	{ LINE("EXPN list\r\n"), SMTP_PARSE_OK, SMTP_VERB_EXPN, "EXPN",
	    "list" },
	{ LINE("STARTTLS\r\n"), SMTP_PARSE_OK, SMTP_VERB_STARTTLS, "STARTTLS",
	    "" },
	{ LINE("AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n"), SMTP_PARSE_OK,
	    SMTP_VERB_AUTH, "AUTH", "PLAIN AGFsaWNlAHNlY3JldA==" },
	{ LINE("XCLIENT ADDR=1.2.3.4\r\n"), SMTP_PARSE_OK, SMTP_VERB_UNKNOWN,
	    "XCLIENT", "ADDR=1.2.3.4" },
	{ LINE("HEL\r\n"), SMTP_PARSE_OK, SMTP_VERB_UNKNOWN, "HEL", "" },
	{ LINE("HELOO x\r\n"), SMTP_PARSE_OK, SMTP_VERB_UNKNOWN, "HELOO",
	    "x" },
	{ LINE("STARTTLSX\r\n"), SMTP_PARSE_OK, SMTP_VERB_UNKNOWN,
	    "STARTTLSX", "" },
	{ LINE("HELO caf\xc3\xa9\r\n"), SMTP_PARSE_OK, SMTP_VERB_HELO, "HELO",
	    "caf\xc3\xa9" },
	/* Line ends: RFC 5321 2.3.8. */
	{ LINE("QUIT\n"), SMTP_PARSE_ERR_BARE_LF, 0, NULL, NULL },
	{ LINE("\n"), SMTP_PARSE_ERR_BARE_LF, 0, NULL, NULL },
	{ LINE("QUIT\r"), SMTP_PARSE_ERR_BARE_CR, 0, NULL, NULL },
	{ LINE("QUIT"), SMTP_PARSE_ERR_BARE_CR, 0, NULL, NULL },
	{ LINE(""), SMTP_PARSE_ERR_BARE_CR, 0, NULL, NULL },
	{ LINE("QU\rIT\r\n"), SMTP_PARSE_ERR_BARE_CR, 0, NULL, NULL },
	{ LINE("QUIT\r\r\n"), SMTP_PARSE_ERR_BARE_CR, 0, NULL, NULL },
	{ LINE("\r\r\n"), SMTP_PARSE_ERR_BARE_CR, 0, NULL, NULL },
	{ LINE("QU\nIT\r\n"), SMTP_PARSE_ERR_BARE_LF, 0, NULL, NULL },
	{ LINE("RSET\nQUIT\r\n"), SMTP_PARSE_ERR_BARE_LF, 0, NULL, NULL },
	/* Two lines in one: never taken as one command. */
	{ LINE("NOOP\r\nQUIT\r\n"), SMTP_PARSE_ERR_BARE_CR, 0, NULL, NULL },
	{ LINE("QUIT\n\r\n"), SMTP_PARSE_ERR_BARE_LF, 0, NULL, NULL },
	{ LINE("QU\0IT\r\n"), SMTP_PARSE_ERR_NUL, 0, NULL, NULL },
	{ LINE("QUIT\0\r\n"), SMTP_PARSE_ERR_NUL, 0, NULL, NULL },
	{ LINE("\0\r\n"), SMTP_PARSE_ERR_NUL, 0, NULL, NULL },
	{ LINE("HELO a\0b\r\n"), SMTP_PARSE_ERR_NUL, 0, NULL, NULL },
	{ LINE("\r\n"), SMTP_PARSE_ERR_EMPTY, 0, NULL, NULL },
	/* Verb syntax. */
	{ LINE(" HELO x\r\n"), SMTP_PARSE_ERR_SYNTAX, 0, NULL, NULL },
	{ LINE(" \r\n"), SMTP_PARSE_ERR_SYNTAX, 0, NULL, NULL },
	{ LINE("HEL0 x\r\n"), SMTP_PARSE_ERR_SYNTAX, 0, NULL, NULL },
	{ LINE("X-FOO\r\n"), SMTP_PARSE_ERR_SYNTAX, 0, NULL, NULL },
	{ LINE("HELO\tx\r\n"), SMTP_PARSE_ERR_SYNTAX, 0, NULL, NULL },
	{ LINE("MAIL\tFROM:<>\r\n"), SMTP_PARSE_ERR_SYNTAX, 0, NULL, NULL },
	{ LINE("MAILFROM:<>\r\n"), SMTP_PARSE_ERR_SYNTAX, 0, NULL, NULL },
	{ LINE("QUIT:\r\n"), SMTP_PARSE_ERR_SYNTAX, 0, NULL, NULL },
	{ LINE("\xc3\xa9HLO x\r\n"), SMTP_PARSE_ERR_SYNTAX, 0, NULL, NULL },
};

TEST(smtp_parse_line_table)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(line_cases); i++) {
		struct smtp_cmd cmd;
		enum smtp_parse_err err;

		memset(&cmd, 0xa5, sizeof(cmd));
		err = smtp_parse_line(line_cases[i].line, line_cases[i].len,
		    &cmd);
		CHECKF(err == line_cases[i].err, "case %zu (%.*s): err %d, "
		    "want %d", i, (int)line_cases[i].len, line_cases[i].line,
		    err, line_cases[i].err);
		if (err != SMTP_PARSE_OK) {
			/* A refused line leaves an empty command. */
			CHECKF(cmd.verb == SMTP_VERB_UNKNOWN &&
			    cmd.name.len == 0 && cmd.args.len == 0,
			    "case %zu: command not cleared", i);
			continue;
		}
		if (line_cases[i].err != SMTP_PARSE_OK)
			continue;
		CHECKF(cmd.verb == line_cases[i].verb, "case %zu: verb %d, "
		    "want %d", i, cmd.verb, line_cases[i].verb);
		CHECKF(str_eq(cmd.name, str_cstr(line_cases[i].name)),
		    "case %zu: name \"%.*s\", want \"%s\"", i,
		    (int)cmd.name.len, cmd.name.p, line_cases[i].name);
		CHECKF(str_eq(cmd.args, str_cstr(line_cases[i].args)),
		    "case %zu: args \"%.*s\", want \"%s\"", i,
		    (int)cmd.args.len, cmd.args.p, line_cases[i].args);
		/* Slices point into the line, before its CRLF. */
		CHECKF(cmd.name.p == line_cases[i].line, "case %zu: name "
		    "does not point at the line", i);
		CHECKF(cmd.args.p >= line_cases[i].line && cmd.args.p +
		    cmd.args.len <= line_cases[i].line + line_cases[i].len - 2,
		    "case %zu: args outside the line", i);
	}
}

/* Every known verb's name parses back to the verb, in any case. */
TEST(smtp_verb_names_round_trip)
{
	int v;

	for (v = 1; v < SMTP_VERB_COUNT; v++) {
		const char *name = smtp_verb_name((enum smtp_verb)v);
		char line[32], lower[32];
		struct smtp_cmd cmd;
		size_t i;
		int n;

		CHECKF(name[0] != '\0', "verb %d has no name", v);
		n = snprintf(line, sizeof(line), "%s\r\n", name);
		CHECK_EQ_INT(smtp_parse_line(line, (size_t)n, &cmd),
		    SMTP_PARSE_OK);
		CHECKF(cmd.verb == (enum smtp_verb)v, "%s: verb %d", name,
		    cmd.verb);
		for (i = 0; i <= (size_t)n; i++)
			lower[i] = ascii_lower(line[i]);
		CHECK_EQ_INT(smtp_parse_line(lower, (size_t)n, &cmd),
		    SMTP_PARSE_OK);
		CHECKF(cmd.verb == (enum smtp_verb)v, "%s: verb %d", lower,
		    cmd.verb);
	}
	CHECK_EQ_STR(smtp_verb_name(SMTP_VERB_UNKNOWN), "");
	CHECK_EQ_STR(smtp_verb_name(SMTP_VERB_COUNT), "");
	CHECK_EQ_STR(smtp_verb_name((enum smtp_verb)1000), "");
	CHECK_EQ_STR(smtp_verb_name(SMTP_VERB_STARTTLS), "STARTTLS");
}

/* The line is read only within len: no reading past it. */
TEST(smtp_parse_line_respects_len)
{
	static const char buf[] = "QUIT\r\nNOOP\r\n";
	struct smtp_cmd cmd;

	CHECK_EQ_INT(smtp_parse_line(buf, 6, &cmd), SMTP_PARSE_OK);
	CHECK_EQ_INT(cmd.verb, SMTP_VERB_QUIT);
	CHECK_EQ_INT(smtp_parse_line(buf, 5, &cmd), SMTP_PARSE_ERR_BARE_CR);
	CHECK_EQ_INT(smtp_parse_line(buf, 0, &cmd), SMTP_PARSE_ERR_BARE_CR);
}

/* Expected params rendered as "KEY=VALUE KEY2 ..." (no '=' when NULL). */
static const struct {
	const char	*in;
	bool		 utf8;
	size_t		 max;
	int		 rc;
	const char	*want;
} param_cases[] = {
	{ "", false, 16, 0, "" },
	{ "   ", false, 16, 0, "" },
	{ "SIZE=1000", false, 16, 0, "SIZE=1000" },
	{ "SIZE=1000 BODY=8BITMIME", false, 16, 0, "SIZE=1000 BODY=8BITMIME" },
	{ "  SIZE=1000   BODY=7BIT  ", false, 16, 0, "SIZE=1000 BODY=7BIT" },
	{ "SIZE=1\tBODY=7BIT", false, 16, 0, "SIZE=1 BODY=7BIT" },
	{ "SMTPUTF8", false, 16, 0, "SMTPUTF8" },
	{ "SMTPUTF8 SIZE=5", false, 16, 0, "SMTPUTF8 SIZE=5" },
	{ "X-VENDOR-1=a", false, 16, 0, "X-VENDOR-1=a" },
	{ "1X=y", false, 16, 0, "1X=y" },
	{ "ENVID=<a+20b>", false, 16, 0, "ENVID=<a+20b>" },
	{ "A=!~", false, 16, 0, "A=!~" },
	{ "A=b", false, 1, 0, "A=b" },
	{ "A=b C=d", false, 1, -1, "" },	/* too many */
	{ "A B C", false, 2, -1, "" },
	{ "A B C", false, 3, 0, "A B C" },
	{ "A", false, 0, -1, "" },
	{ "", false, 0, 0, "" },
	{ "SIZE=", false, 16, -1, "" },		/* empty value */
	{ "=1000", false, 16, -1, "" },		/* empty key */
	{ "-SIZE=1", false, 16, -1, "" },	/* '-' first */
	{ "SI_ZE=1", false, 16, -1, "" },
	{ "SI.ZE=1", false, 16, -1, "" },
	{ "SIZE=1=2", false, 16, -1, "" },	/* '=' in value */
	{ "A=b\x7f", false, 16, -1, "" },
	{ "A=b\x01", false, 16, -1, "" },
	{ "A=b\r", false, 16, -1, "" },
	{ "A=\xc3\xa9", false, 16, -1, "" },
	{ "A=\xc3\xa9", true, 16, 0, "A=\xc3\xa9" },
	{ "\xc3\xa9=a", true, 16, -1, "" },	/* never in keywords */
	{ "OK=1 BAD_=1", false, 16, -1, "" },
};

TEST(smtp_parse_params_table)
{
	size_t i, j;

	for (i = 0; i < ARRAY_LEN(param_cases); i++) {
		struct smtp_param params[16];
		size_t count = 99;
		char got[256];
		size_t o = 0;
		int rc;

		rc = smtp_parse_params(str_cstr(param_cases[i].in), params,
		    param_cases[i].max, &count, param_cases[i].utf8);
		CHECKF(rc == param_cases[i].rc, "params \"%s\": rc %d, want %d",
		    param_cases[i].in, rc, param_cases[i].rc);
		if (rc != 0) {
			CHECKF(count == 0, "params \"%s\": count %zu on error",
			    param_cases[i].in, count);
			continue;
		}
		got[0] = '\0';
		for (j = 0; j < count; j++) {
			int n;

			if (params[j].value.p)
				n = snprintf(got + o, sizeof(got) - o,
				    "%s%.*s=%.*s", j ? " " : "",
				    (int)params[j].key.len, params[j].key.p,
				    (int)params[j].value.len,
				    params[j].value.p);
			else
				n = snprintf(got + o, sizeof(got) - o,
				    "%s%.*s", j ? " " : "",
				    (int)params[j].key.len, params[j].key.p);
			o += (size_t)n;
		}
		CHECKF(strcmp(got, param_cases[i].want) == 0,
		    "params \"%s\": got \"%s\", want \"%s\"",
		    param_cases[i].in, got, param_cases[i].want);
	}
}

static const struct {
	const char	*args;
	const char	*keyword;
	int		 rc;
	const char	*rest;
} mail_rcpt_cases[] = {
	{ "FROM:<a@b.test>", "FROM", 0, "<a@b.test>" },
	{ "from:<a@b.test>", "FROM", 0, "<a@b.test>" },
	{ "From:<>", "FROM", 0, "<>" },
	{ "FROM: <a@b.test>", "FROM", 0, "<a@b.test>" },
	{ "FROM:  \t<a@b.test>", "FROM", 0, "<a@b.test>" },
	{ "FROM:<a@b.test> SIZE=10", "FROM", 0, "<a@b.test> SIZE=10" },
	{ "TO:<a@b.test>", "TO", 0, "<a@b.test>" },
	{ "to:<postmaster>", "TO", 0, "<postmaster>" },
	{ "FROM :<a@b.test>", "FROM", -1, NULL },
	{ "FROM<a@b.test>", "FROM", -1, NULL },
	{ "FROM:a@b.test", "FROM", -1, NULL },
	{ "FROM:", "FROM", -1, NULL },
	{ "FROM: ", "FROM", -1, NULL },
	{ "FROM", "FROM", -1, NULL },
	{ "", "FROM", -1, NULL },
	{ " FROM:<a@b.test>", "FROM", -1, NULL },
	{ "TO:<a@b.test>", "FROM", -1, NULL },
	{ "FROM:<a@b.test>", "TO", -1, NULL },
	{ "FROMX:<a@b.test>", "FROM", -1, NULL },
	{ "FRO:<a@b.test>", "FROM", -1, NULL },
	{ "TO::<a@b.test>", "TO", -1, NULL },
};

TEST(smtp_parse_mail_rcpt_table)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(mail_rcpt_cases); i++) {
		struct str rest = STR_LIT("untouched");
		int rc = smtp_parse_mail_rcpt(str_cstr(mail_rcpt_cases[i].args),
		    mail_rcpt_cases[i].keyword, &rest);

		CHECKF(rc == mail_rcpt_cases[i].rc, "mail_rcpt(\"%s\", %s): rc "
		    "%d, want %d", mail_rcpt_cases[i].args,
		    mail_rcpt_cases[i].keyword, rc, mail_rcpt_cases[i].rc);
		if (rc == 0 && mail_rcpt_cases[i].rest)
			CHECKF(str_eq(rest, str_cstr(mail_rcpt_cases[i].rest)),
			    "mail_rcpt(\"%s\"): rest \"%.*s\", want \"%s\"",
			    mail_rcpt_cases[i].args, (int)rest.len, rest.p,
			    mail_rcpt_cases[i].rest);
		if (rc != 0)
			CHECKF(str_eq(rest, STR_LIT("untouched")),
			    "mail_rcpt(\"%s\"): rest written on error",
			    mail_rcpt_cases[i].args);
	}
}

/* A whole command through the three parsers, as the session will do. */
TEST(smtp_parse_mail_pipeline)
{
	static const char line[] = "MAIL FROM:<a@b.test> SIZE=12 BODY=8BITMIME"
	    "\r\n";
	struct smtp_cmd cmd;
	struct str rest, params_text;
	struct smtp_param params[4];
	size_t n;

	CHECK_EQ_INT(smtp_parse_line(line, sizeof(line) - 1, &cmd),
	    SMTP_PARSE_OK);
	CHECK_EQ_INT(cmd.verb, SMTP_VERB_MAIL);
	CHECK_EQ_INT(smtp_parse_mail_rcpt(cmd.args, "FROM", &rest), 0);
	CHECK_EQ_INT(str_chr(rest, '>'), 9);
	params_text = str_sub(rest, 10, rest.len);
	CHECK_EQ_INT(smtp_parse_params(params_text, params, ARRAY_LEN(params),
	    &n, false), 0);
	CHECK_EQ_INT(n, 2);
	CHECK(str_eq(params[0].key, STR_LIT("SIZE")));
	CHECK(str_eq(params[0].value, STR_LIT("12")));
	CHECK(str_eq(params[1].key, STR_LIT("BODY")));
	CHECK(str_eq(params[1].value, STR_LIT("8BITMIME")));
}
