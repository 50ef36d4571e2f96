/*
 * test_spf_record.c - the SPF record grammar (spf_record.c): which
 * records parse and which are a permerror, what each term holds, CIDR
 * lengths, address matching, TXT string joining.
 */
#include "core/common.h"

#include <arpa/inet.h>

#include "spf/spf_record.h"
#include "unit/unit.h"

static const struct {
	const char	*text;
	bool		 ok;
} record_cases[] = {
	/* Valid records. */
	{ "v=spf1", true },
	{ "v=spf1 ", true },
	{ "v=spf1 -all", true },
	{ "V=SPF1 +ALL", true },
	{ "v=spf1  a   mx  -all  ", true },		/* 1*SP, trailing SP */
	{ "v=spf1 a:example.com/24//64 -all", true },
	{ "v=spf1 a/24 a//64 a/0 a//0 mx/32//128", true },
	{ "v=spf1 mx:%{d}/27", true },
	{ "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 ~all", true },
	{ "v=spf1 ip4:0.0.0.0/0 ip6:::/0", true },
	{ "v=spf1 ip6:::1 ip6:::ffff:1.2.3.4 ip6:2001:DB8::CB01/128", true },
	{ "v=spf1 include:_spf.example.com ?all", true },
	{ "v=spf1 exists:%{ir}.%{l1r-}.lp._spf.%{d2} -all", true },
	{ "v=spf1 -exists:%{i}.%{s1}.100/86400.rate.%{d}", true },
	{ "v=spf1 -mx:%%%_/.Clara.de/27", true },
	{ "v=spf1 ptr ptr:example.com -all", true },
	{ "v=spf1 redirect=_spf.example.com", true },
	{ "v=spf1 -all exp=explain._spf.%{d}", true },
	{ "v=spf1 -all moo=bar foo.bar-baz_1=%{c}", true },	/* ignored */
	{ "v=spf1 -all moo=", true },
	{ "v=spf1 a:mail.example.com.", true },		/* trailing dot */
	{ "v=spf1 a:e14.example.x-y", true },		/* toplabel with '-' */
	{ "v=spf1 a:example.1a", true },
	{ "v=spf1 a:%{d}", true },
	{ "v=spf1 a:foo%-", true },			/* ends with a macro */
	{ "v=spf1 a:macro%%percent%_%_space%-url-space.example.com", true },
	{ "v=spf1 exists:%{l2r+-}.user.%{d2}", true },
	{ "v=spf1 a=b", true },				/* modifier "a" */

	/* Not a v=spf1 record at all (RFC 7208 4.5). */
	{ "", false },
	{ "v=spf10", false },
	{ "v=spf1x -all", false },
	{ "spf1 -all", false },
	{ "v=spf1\t-all", false },

	/* Syntax errors: permerror (RFC 7208 4.6). */
	{ "v=spf1 moo", false },
	{ "v=spf1 =a", false },
	{ "v=spf1 -", false },
	{ "v=spf1 +-all", false },
	{ "v=spf1 all:foo", false },
	{ "v=spf1 -all:3030", false },
	{ "v=spf1 -all\t", false },
	{ "v=spf1 -all\r", false },
	{ "v=spf1 a:ctrl.example.com\rptr -all", false },
	{ "v=spf1 ip4:192.0.2.5\n include:x.example.com ~all", false },
	{ "v=spf1 a:example.com:8080", false },
	{ "v=spf1 a:com", false },
	{ "v=spf1 a:com.", false },
	{ "v=spf1 a:1.2.3.4", false },
	{ "v=spf1 a:example.-com", false },
	{ "v=spf1 a:example.com-", false },
	{ "v=spf1 a:example.com,", false },
	{ "v=spf1 a:", false },
	{ "v=spf1 a:%{d}x", false },
	{ "v=spf1 a:%{d}.", false },
	{ "v=spf1 include", false },
	{ "v=spf1 include:", false },
	{ "v=spf1 exists", false },
	{ "v=spf1 ptr/24", false },
	{ "v=spf1 a/33", false },
	{ "v=spf1 a//129", false },
	{ "v=spf1 a/024", false },
	{ "v=spf1 a/24/", false },
	{ "v=spf1 mx:example.com/64", false },
	{ "v=spf1 ip4", false },
	{ "v=spf1 ip4:", false },
	{ "v=spf1 ip4:192.0.2.256", false },
	{ "v=spf1 ip4:192.0.02.1", false },
	{ "v=spf1 ip4:1.2.3", false },
	{ "v=spf1 ip4:1.2.3.4.5", false },
	{ "v=spf1 ip4:1.2.3.4/", false },
	{ "v=spf1 ip4:1.2.3.4//24", false },
	{ "v=spf1 ip4:1.2.3.4/33", false },
	{ "v=spf1 ip4:1.2.3.4/08", false },
	{ "v=spf1 ip4:example.com", false },
	{ "v=spf1 ip6:2001:db8:ZZZZ::", false },
	{ "v=spf1 ip6:::1/129", false },
	{ "v=spf1 ip6:1.2.3.4", false },
	{ "v=spf1 ip6:::1//64", false },
	{ "v=spf1 redirect=a.example redirect=b.example", false },
	{ "v=spf1 exp=a.example exp=b.example -all", false },
	{ "v=spf1 redirect=", false },
	{ "v=spf1 exp=", false },
	{ "v=spf1 redirect=com", false },
	{ "v=spf1 a:%{z}.example.com", false },
	{ "v=spf1 a:%{d0}.example.com", false },
	{ "v=spf1 a:%{d", false },
	{ "v=spf1 a:%{d}}.example.com", true },	/* '}' is a literal */
	{ "v=spf1 a:100%.example.com", false },
	{ "v=spf1 -exists:%(ir).sbl.example.com ?all", false },
	{ "v=spf1 exists:foo%.sbl.example.com ?all", false },
	{ "v=spf1 exists:%{c}.example.com", false },	/* c r t: exp only */
	{ "v=spf1 -all exp=%{r}.example.com", false },
	{ "v=spf1 a:%{t}.example.com", false },
	{ "v=spf1 a:ex\x01" "ample.com", false },
	{ "v=spf1 a:ex\xc3\xa4mple.com", false },	/* 7-bit only */
	{ "v=spf1 \x80" "a:example.net -all", false },
	{ "v=spf1 a:example.net \x96" "all", false },
	{ "v=spf1 moo=%", false },			/* checked first */
	{ "v=spf1 1moo=bar", false },
};

TEST(spf_record_table)
{
	struct spf_record rec;
	const char *err;
	size_t i;
	int r;

	for (i = 0; i < ARRAY_LEN(record_cases); i++) {
		const char *t = record_cases[i].text;

		err = NULL;
		r = spf_record_parse(&rec, t, strlen(t), &err);
		CHECKF((r == 0) == record_cases[i].ok, "\"%s\": got %s (%s), "
		    "want %s", t, r == 0 ? "ok" : "error", err ? err : "-",
		    record_cases[i].ok ? "ok" : "error");
		CHECKF(r == 0 || err != NULL, "\"%s\": no reason", t);
		spf_record_release(&rec);
	}
}

TEST(spf_record_terms)
{
	static const char text[] = "v=spf1 -a:example.com/24//64 ~mx "
	    "?ip4:192.0.2.1/31 +ip6:2001:db8::/32 include:x.example "
	    "exists:%{i}.x.example ptr all redirect=r.example "
	    "exp=e.example unknown=x";
	static const unsigned char v4[4] = { 192, 0, 2, 1 };
	unsigned char v6[16];
	struct spf_record rec;
	const struct spf_term *t;
	const char *err = NULL;

	CHECK_EQ_INT(spf_record_parse(&rec, text, strlen(text), &err), 0);
	CHECK_EQ_INT(rec.nterms, 8);
	if (rec.nterms != 8) {
		spf_record_release(&rec);
		return;
	}
	t = rec.terms;
	CHECK_EQ_INT(t[0].mech, SPF_MECH_A);
	CHECK_EQ_INT(t[0].qual, SPF_FAIL);
	CHECK_EQ_MEM(t[0].domain.p, t[0].domain.len, "example.com", 11);
	CHECK_EQ_INT(t[0].cidr4, 24);
	CHECK_EQ_INT(t[0].cidr6, 64);
	CHECK_EQ_INT(t[1].mech, SPF_MECH_MX);
	CHECK_EQ_INT(t[1].qual, SPF_SOFTFAIL);
	CHECK_EQ_INT(t[1].domain.len, 0);
	CHECK_EQ_INT(t[1].cidr4, 32);
	CHECK_EQ_INT(t[1].cidr6, 128);
	CHECK_EQ_INT(t[2].mech, SPF_MECH_IP4);
	CHECK_EQ_INT(t[2].qual, SPF_NEUTRAL);
	CHECK_EQ_INT(t[2].cidr4, 31);
	CHECK(memcmp(t[2].addr, v4, 4) == 0);
	CHECK_EQ_INT(t[3].mech, SPF_MECH_IP6);
	CHECK_EQ_INT(t[3].qual, SPF_PASS);
	CHECK_EQ_INT(t[3].cidr6, 32);
	inet_pton(AF_INET6, "2001:db8::", v6);
	CHECK(memcmp(t[3].addr, v6, 16) == 0);
	CHECK_EQ_INT(t[4].mech, SPF_MECH_INCLUDE);
	CHECK_EQ_MEM(t[4].domain.p, t[4].domain.len, "x.example", 9);
	CHECK_EQ_INT(t[5].mech, SPF_MECH_EXISTS);
	CHECK_EQ_MEM(t[5].domain.p, t[5].domain.len, "%{i}.x.example", 14);
	CHECK_EQ_INT(t[6].mech, SPF_MECH_PTR);
	CHECK_EQ_INT(t[6].domain.len, 0);
	CHECK_EQ_INT(t[7].mech, SPF_MECH_ALL);
	CHECK_EQ_MEM(rec.redirect.p, rec.redirect.len, "r.example", 9);
	CHECK_EQ_MEM(rec.exp.p, rec.exp.len, "e.example", 9);
	spf_record_release(&rec);
}

static const struct {
	const char	*term;
	const char	*domain;	/* the domain-spec left */
	unsigned	 cidr4;
	unsigned	 cidr6;
} cidr_cases[] = {
	{ "a", "", 32, 128 },
	{ "a/0", "", 0, 128 },
	{ "a//0", "", 32, 0 },
	{ "a/32//128", "", 32, 128 },
	{ "mx:x.example/9", "x.example", 9, 128 },
	{ "a:%{d}/24//64", "%{d}", 24, 64 },
	{ "A:foo:bar.com/16//48", "foo:bar.com", 16, 48 },
	{ "mx:%{d}//97", "%{d}", 32, 97 },
	{ "a:x.example//1", "x.example", 32, 1 },
	{ "-mx:%%%_/.Clara.de/27", "%%%_/.Clara.de", 27, 128 },
};

TEST(spf_record_cidr)
{
	char text[128];
	struct spf_record rec;
	const char *err = NULL;
	size_t i;

	for (i = 0; i < ARRAY_LEN(cidr_cases); i++) {
		snprintf(text, sizeof(text), "v=spf1 %s", cidr_cases[i].term);
		if (spf_record_parse(&rec, text, strlen(text), &err) != 0 ||
		    rec.nterms != 1) {
			CHECKF(false, "\"%s\": %s", text, err);
			spf_record_release(&rec);
			continue;
		}
		CHECKF(str_eq(rec.terms[0].domain,
		    str_cstr(cidr_cases[i].domain)), "\"%s\": got domain "
		    "\"%.*s\"", text, (int)rec.terms[0].domain.len,
		    rec.terms[0].domain.len ? rec.terms[0].domain.p : "");
		CHECK_EQ_INT(rec.terms[0].cidr4, cidr_cases[i].cidr4);
		CHECK_EQ_INT(rec.terms[0].cidr6, cidr_cases[i].cidr6);
		spf_record_release(&rec);
	}
}

TEST(spf_record_terms_max)
{
	struct spf_record rec;
	const char *err = NULL;
	struct buf b;
	size_t i;

	buf_init(&b, SPF_RECORD_MAX);
	CHECK(buf_adds(&b, "v=spf1") == 0);
	for (i = 0; i < SPF_TERMS_MAX; i++)
		CHECK(buf_adds(&b, " a") == 0);
	CHECK(buf_adds(&b, " moo=ignored") == 0);
	CHECK_EQ_INT(spf_record_parse(&rec, buf_data(&b), buf_len(&b), &err),
	    0);
	CHECK_EQ_INT(rec.nterms, SPF_TERMS_MAX);
	spf_record_release(&rec);
	CHECK(buf_adds(&b, " -all") == 0);
	CHECK_EQ_INT(spf_record_parse(&rec, buf_data(&b), buf_len(&b), &err),
	    -1);
	spf_record_release(&rec);
	buf_release(&b);
}

/* RFC 7208 3.1: a NUL inside a record is no character of the grammar. */
TEST(spf_record_nul)
{
	static const char text[] = "v=spf1 a:foo.example.com\0 -all";
	struct spf_record rec;
	const char *err = NULL;

	CHECK_EQ_INT(spf_record_parse(&rec, text, sizeof(text) - 1, &err), -1);
	spf_record_release(&rec);
	CHECK_EQ_INT(spf_record_parse(&rec, text, 24, &err), 0);
	spf_record_release(&rec);
}

TEST(spf_record_is_spf1)
{
	CHECK(spf_record_is_spf1("v=spf1", 6));
	CHECK(spf_record_is_spf1("v=spf1 -all", 11));
	CHECK(spf_record_is_spf1("V=Spf1 ", 7));
	CHECK(!spf_record_is_spf1("v=spf10", 7));
	CHECK(!spf_record_is_spf1("v=spf", 5));
	CHECK(!spf_record_is_spf1("v=spf1\t", 7));
	CHECK(!spf_record_is_spf1(" v=spf1", 7));
	CHECK(!spf_record_is_spf1("spf2.0/pra", 10));
}

TEST(spf_record_cidr_match)
{
	unsigned char a[16], b[16];

	inet_pton(AF_INET, "192.0.2.3", a);
	inet_pton(AF_INET, "192.0.2.2", b);
	CHECK(spf_cidr_match(a, b, 4, 31));
	CHECK(!spf_cidr_match(a, b, 4, 32));
	CHECK(spf_cidr_match(a, b, 4, 0));
	CHECK(!spf_cidr_match(a, b, 4, 33));
	inet_pton(AF_INET, "192.0.3.3", b);
	CHECK(spf_cidr_match(a, b, 4, 23));
	CHECK(!spf_cidr_match(a, b, 4, 24));
	inet_pton(AF_INET6, "2001:db8::1", a);
	inet_pton(AF_INET6, "2001:db8::", b);
	CHECK(spf_cidr_match(a, b, 16, 127));
	CHECK(!spf_cidr_match(a, b, 16, 128));
	CHECK(spf_cidr_match(a, a, 16, 128));
	inet_pton(AF_INET6, "2001:db9::", b);
	CHECK(spf_cidr_match(a, b, 16, 31));
	CHECK(!spf_cidr_match(a, b, 16, 32));
}

TEST(spf_record_ip4)
{
	unsigned char ip[4];

	CHECK(spf_parse_ip4(STR_LIT("0.0.0.0"), ip));
	CHECK(spf_parse_ip4(STR_LIT("255.255.255.255"), ip));
	CHECK(ip[0] == 255 && ip[3] == 255);
	CHECK(!spf_parse_ip4(STR_LIT("256.0.0.0"), ip));
	CHECK(!spf_parse_ip4(STR_LIT("01.0.0.0"), ip));
	CHECK(!spf_parse_ip4(STR_LIT("1.0.0."), ip));
	CHECK(!spf_parse_ip4(STR_LIT(".1.0.0.0"), ip));
	CHECK(!spf_parse_ip4(STR_LIT("1..0.0"), ip));
	CHECK(!spf_parse_ip4(STR_LIT("1.2.3.4.5"), ip));
	CHECK(!spf_parse_ip4(STR_LIT("1.2.3.4 "), ip));
	CHECK(!spf_parse_ip4(STR_LIT("1234.2.3.4"), ip));
}

TEST(spf_record_txt_join)
{
	static const unsigned char two[] = "\x08v=spf1 a\x05 -all";
	static const unsigned char empty[] = "\x00\x00";
	static const unsigned char bad[] = "\x09v=spf1 a";
	static unsigned char big[18 * 256];	/* 18 x 255: over 4 KB */
	struct buf b;
	size_t i;

	buf_init(&b, SPF_RECORD_MAX);
	CHECK_EQ_INT(spf_txt_join(two, sizeof(two) - 1, &b), 0);
	CHECK_EQ_STR(buf_cstr(&b), "v=spf1 a -all");
	CHECK_EQ_INT(spf_txt_join(empty, 2, &b), 0);
	CHECK_EQ_INT(buf_len(&b), 0);
	CHECK_EQ_INT(spf_txt_join(bad, sizeof(bad) - 1, &b), -1);
	for (i = 0; i < sizeof(big); i += 256) {
		big[i] = 255;
		memset(big + i + 1, 'a', 255);
	}
	CHECK_EQ_INT(spf_txt_join(big, sizeof(big), &b), 1);
	CHECK_EQ_INT(buf_len(&b), SPF_RECORD_MAX);
	CHECK_EQ_INT(spf_txt_join(big, 16 * 256, &b), 0);
	CHECK_EQ_INT(buf_len(&b), 16 * 255);
	buf_release(&b);
}
