/*
 * test_dns_rr.c - reading rdata as a hostile DNS server sends it: names
 * whose labels hold a control byte, a space, a dot or a backslash are
 * refused, so that an MX or PTR name can never carry a line end, a second
 * name or an escape into a log, a query, the queue or a report; other
 * bytes pass (RFC 2181 11: SPF's test suite looks up "foo:bar/baz").
 */
#include "core/common.h"

#include "dns/dns_rr.h"
#include "unit/unit.h"

/* A wire-format name: length-prefixed labels, the root's 0 last. */
struct wire {
	const char	*p;
	size_t		 len;
};

#define WIRE(s) { (s), sizeof(s) - 1 }

TEST(dns_name_text_accepts_host_and_service_names)
{
	static const struct {
		struct wire	 in;
		const char	*want;
	} ok[] = {
		{ WIRE("\x02mx\x07" "example\x03" "com\x00"), "mx.example.com" },
		{ WIRE("\x02MX\x07" "Example\x03" "COM\x00"), "mx.example.com" },
		{ WIRE("\x06_dmarc\x07" "example\x03" "com\x00"),
		    "_dmarc.example.com" },
		{ WIRE("\x02s1\x0a_domainkey\x07" "example\x03" "com\x00"),
		    "s1._domainkey.example.com" },
		{ WIRE("\x06mx-1_a\x01" "9\x04test\x00"), "mx-1_a.9.test" },
		/* RFC 7208's suite, 7.1/2: an MX with ':' and '/'. */
		{ WIRE("\x0b" "foo:bar/baz\x07" "example\x03" "com\x00"),
		    "foo:bar/baz.example.com" },
		{ WIRE("\x00"), "" },				/* the root */
	};
	char out[256];
	size_t i;

	for (i = 0; i < ARRAY_LEN(ok); i++) {
		int n = dns_name_text((const unsigned char *)ok[i].in.p,
		    ok[i].in.len, out, sizeof(out));

		CHECKF(n == (int)ok[i].in.len, "case %zu: got %d", i, n);
		if (n >= 0)
			CHECK_EQ_STR(out, ok[i].want);
	}
}

TEST(dns_name_text_refuses_odd_bytes)
{
	static const struct wire bad[] = {
		WIRE("\x03" "a\nb\x04test\x00"),		/* LF */
		WIRE("\x03" "a\rb\x04test\x00"),		/* CR */
		WIRE("\x03" "a b\x04test\x00"),			/* space */
		WIRE("\x03" "a\\b\x04test\x00"),		/* backslash */
		WIRE("\x03" "a.b\x04test\x00"),			/* a dot */
		WIRE("\x03" "a\x00" "b\x04test\x00"),		/* NUL */
		WIRE("\x02" "a\x7f\x04test\x00"),		/* DEL */
		WIRE("\x04test\x03" "a\tb\x00"),		/* in a later label */
		/* The injection the MX name used to carry into the queue. */
		WIRE("\x21mx\nrcpt pending 0 0 victim@target\x08" "example\n"
		    "\x04test\x00"),
	};
	char out[256];
	uint16_t pref;
	unsigned char mx[300];
	size_t i;

	for (i = 0; i < ARRAY_LEN(bad); i++) {
		CHECKF(dns_name_text((const unsigned char *)bad[i].p,
		    bad[i].len, out, sizeof(out)) == -1, "case %zu: "
		    "accepted as \"%s\"", i, out);
		/* The same name as an MX exchange (RFC 1035 3.3.9). */
		mx[0] = 0;
		mx[1] = 10;
		memcpy(mx + 2, bad[i].p, bad[i].len);
		CHECKF(dns_rr_mx(mx, bad[i].len + 2, &pref, out,
		    sizeof(out)) == -1, "case %zu: MX accepted as \"%s\"", i,
		    out);
	}
}
