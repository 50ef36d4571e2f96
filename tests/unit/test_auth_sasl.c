/*
 * test_auth_sasl.c - strict base64 (RFC 4648 4), SASL PLAIN (RFC 4616)
 * and the LOGIN steps.
 *
 * b64_decode_cases and plain_cases are THE tables: one row per input, with
 * the result it must give. Inputs are byte strings (they hold NULs), so
 * each row carries its length through the B() macro.
 */
#include "core/common.h"

#include "auth/auth_sasl.h"
#include "core/buf.h"
#include "unit/unit.h"

/* A byte-string literal and its length, NULs included. */
#define B(s) s, sizeof(s) - 1

struct b64_case {
	const char	*in;
	size_t		 inlen;
	int		 rc;
	const char	*out;		/* on success */
	size_t		 outlen;
};

static const struct b64_case b64_decode_cases[] = {
	/* RFC 4648 10 (the empty string: see "=" and "" below). */
	{ B("Zg=="), 0, B("f") },
	{ B("Zm8="), 0, B("fo") },
	{ B("Zm9v"), 0, B("foo") },
	{ B("Zm9vYg=="), 0, B("foob") },
	{ B("Zm9vYmE="), 0, B("fooba") },
	{ B("Zm9vYmFy"), 0, B("foobar") },

	/* "=" alone is the empty response (RFC 4954 4); "" is refused. */
	{ B("="), 0, B("") },
	{ B(""), -1 },

	/* Binary, the whole alphabet's ends, NULs in the output. */
	{ B("AAECAwQF"), 0, B("\x00\x01\x02\x03\x04\x05") },
	{ B("//79"), 0, B("\xff\xfe\xfd") },
	{ B("+/+/"), 0, B("\xfb\xff\xbf") },
	{ B("AP8="), 0, B("\x00\xff") },
	{ B("AA=="), 0, B("\x00") },
	{ B("AAAA"), 0, B("\x00\x00\x00") },
	{ B("AHRlc3QAdGVzdA=="), 0, B("\0test\0test") },
	{ B("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo="), 0,
	    B("ABCDEFGHIJKLMNOPQRSTUVWXYZ") },

	/* Padding is required, and only at the end. */
	{ B("Zg"), -1 },
	{ B("Zg="), -1 },
	{ B("Zm8"), -1 },
	{ B("Zm9vYg"), -1 },
	{ B("Zg==Zg=="), -1 },
	{ B("Zm8=Zm9v"), -1 },
	{ B("Z==="), -1 },
	{ B("===="), -1 },
	{ B("=="), -1 },
	{ B("==="), -1 },
	{ B("=Zg="), -1 },
	{ B("Z=g="), -1 },
	{ B("Zm=v"), -1 },
	{ B("Zg=A"), -1 },
	{ B("A"), -1 },
	{ B("AB"), -1 },
	{ B("ABCDE"), -1 },

	/* Non-canonical: stray low bits before the padding. */
	{ B("Zh=="), -1 },
	{ B("Zv=="), -1 },
	{ B("Zm9="), -1 },
	{ B("Zm+="), -1 },
	{ B("AB=="), -1 },
	{ B("AAB="), -1 },
	{ B("AAE="), 0, B("\x00\x01") },
	{ B("AQ=="), 0, B("\x01") },

	/* No whitespace, no trailing garbage, no other alphabet. */
	{ B("Zm9v YmFy"), -1 },
	{ B(" Zm9v"), -1 },
	{ B("Zm9v "), -1 },
	{ B("Zm9v\r\n"), -1 },
	{ B("Zm9v\n"), -1 },
	{ B("Zm\r\n9v"), -1 },
	{ B("Zm9\tv"), -1 },
	{ B("Zm9vYg==x"), -1 },
	{ B("Zm9vYg==AAAA"), -1 },
	{ B("Zm9vYg==\0"), -1 },
	{ B("Zm\0v"), -1 },
	{ B("-_-_"), -1 },		/* base64url */
	{ B("Zm9v!A=="), -1 },
	{ B("Zm9\xc3\xa9"), -1 },
	{ B("Zm9\x80"), -1 },
	{ B("*"), -1 },
};

TEST(auth_b64_decode_table)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(b64_decode_cases); i++) {
		const struct b64_case *c = &b64_decode_cases[i];
		struct buf out;
		int rc;

		buf_init(&out, 4096);
		rc = auth_b64_decode(str_make(c->in, c->inlen), &out);
		CHECKF(rc == c->rc, "case %zu \"%.*s\": got %d, want %d", i,
		    (int)c->inlen, c->in, rc, c->rc);
		if (rc == 0 && c->rc == 0)
			CHECKF(buf_len(&out) == c->outlen &&
			    memcmp(buf_data(&out), c->out, c->outlen) == 0,
			    "case %zu \"%.*s\": wrong output (%zu bytes)", i,
			    (int)c->inlen, c->in, buf_len(&out));
		buf_release(&out);
	}
}

/* Decoding appends: what the buffer held before stays. */
TEST(auth_b64_decode_appends)
{
	struct buf out;

	buf_init(&out, 64);
	CHECK_EQ_INT(buf_adds(&out, "x:"), 0);
	CHECK_EQ_INT(auth_b64_decode(STR_LIT("Zm9v"), &out), 0);
	CHECK_EQ_MEM(buf_data(&out), buf_len(&out), "x:foo", 5);
	buf_release(&out);
}

/* An output past the buffer's cap is refused, not truncated. */
TEST(auth_b64_decode_cap)
{
	static const struct {
		size_t	 cap;
		int	 rc;
	} cases[] = {
		{ 6, 0 }, { 5, -1 }, { 3, -1 }, { 0, -1 },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		struct buf out;
		int rc;

		buf_init(&out, cases[i].cap);
		rc = auth_b64_decode(STR_LIT("Zm9vYmFy"), &out);
		CHECKF(rc == cases[i].rc, "cap %zu: got %d, want %d",
		    cases[i].cap, rc, cases[i].rc);
		CHECK(buf_len(&out) <= cases[i].cap);
		buf_release(&out);
	}
}

static const struct {
	const char	*in;
	size_t		 inlen;
	const char	*want;
} b64_encode_cases[] = {
	/* RFC 4648 10. */
	{ B(""), "" },
	{ B("f"), "Zg==" },
	{ B("fo"), "Zm8=" },
	{ B("foo"), "Zm9v" },
	{ B("foob"), "Zm9vYg==" },
	{ B("fooba"), "Zm9vYmE=" },
	{ B("foobar"), "Zm9vYmFy" },
	/* Binary. */
	{ B("\x00"), "AA==" },
	{ B("\x00\xff"), "AP8=" },
	{ B("\xfb\xff\xbf"), "+/+/" },
	{ B("\xff\xfe\xfd"), "//79" },
	{ B("\0test\0test"), "AHRlc3QAdGVzdA==" },
};

TEST(auth_b64_encode_table)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(b64_encode_cases); i++) {
		char out[64];

		memset(out, 'X', sizeof(out));
		CHECKF(auth_b64_encode(b64_encode_cases[i].in,
		    b64_encode_cases[i].inlen, out, sizeof(out)) == 0,
		    "case %zu: encode failed", i);
		CHECKF(strcmp(out, b64_encode_cases[i].want) == 0,
		    "case %zu: got \"%s\", want \"%s\"", i, out,
		    b64_encode_cases[i].want);
	}
}

/* The output must fit with its NUL: exactly enough works, one less fails. */
TEST(auth_b64_encode_size)
{
	static const struct {
		size_t	 len;		/* of the input */
		size_t	 need;		/* 4 * ceil(len / 3) + 1 */
	} cases[] = {
		{ 0, 1 }, { 1, 5 }, { 2, 5 }, { 3, 5 }, { 4, 9 }, { 5, 9 },
		{ 6, 9 }, { 7, 13 }, { 30, 41 },
	};
	static const char in[32] = "abcdefghijklmnopqrstuvwxyz01234";
	char out[64];
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		memset(out, 'X', sizeof(out));
		CHECKF(auth_b64_encode(in, cases[i].len, out,
		    cases[i].need) == 0, "len %zu into %zu: refused",
		    cases[i].len, cases[i].need);
		CHECK_EQ_INT(strlen(out), cases[i].need - 1);
		memset(out, 'X', sizeof(out));
		CHECKF(auth_b64_encode(in, cases[i].len, out,
		    cases[i].need - 1) == -1, "len %zu into %zu: accepted",
		    cases[i].len, cases[i].need - 1);
		CHECKF(out[cases[i].need - 1] == 'X',
		    "len %zu: wrote past the size", cases[i].len);
	}
}

/* xorshift64: deterministic "random" bytes, the same on every run. */
static uint64_t
b64_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *state = x;
}

/* Encodes then decodes; the bytes must come back unchanged. */
static void
b64_round_trip(const unsigned char *p, size_t len)
{
	char enc[1024];
	struct buf dec;

	if (auth_b64_encode(p, len, enc, sizeof(enc)) != 0) {
		CHECKF(false, "len %zu: encode failed", len);
		return;
	}
	CHECK_EQ_INT(strlen(enc), (len + 2) / 3 * 4);
	buf_init(&dec, 1024);
	/* The empty string travels as "=" (RFC 4954 4). */
	CHECKF(auth_b64_decode(len ? str_cstr(enc) : STR_LIT("="), &dec) == 0,
	    "len %zu: \"%s\" does not decode", len, enc);
	CHECKF(buf_len(&dec) == len && memcmp(buf_data(&dec), p, len) == 0,
	    "len %zu: \"%s\" decodes to other bytes", len, enc);
	buf_release(&dec);
}

TEST(auth_b64_round_trip_random)
{
	unsigned char bytes[750];
	uint64_t state = 0x9e3779b97f4a7c15ULL;
	size_t len, i, round;

	for (round = 0; round < 8; round++)
		for (len = 0; len <= 200; len++) {
			for (i = 0; i < len; i++)
				bytes[i] = (unsigned char)b64_rand(&state);
			b64_round_trip(bytes, len);
		}
	for (i = 0; i < sizeof(bytes); i++)
		bytes[i] = (unsigned char)b64_rand(&state);
	b64_round_trip(bytes, sizeof(bytes));	/* encodes to 1000 */
}

TEST(auth_b64_round_trip_short_exhaustive)
{
	unsigned char b[2];
	unsigned v;

	for (v = 0; v < 256; v++) {
		b[0] = (unsigned char)v;
		b64_round_trip(b, 1);
	}
	for (v = 0; v < 65536; v++) {
		b[0] = (unsigned char)(v >> 8);
		b[1] = (unsigned char)v;
		b64_round_trip(b, 2);
	}
}

/*
 * Every final quantum "XY==" and "XYZ=": accepted exactly when the bits
 * the padding drops are zero, and then it re-encodes to itself (one
 * spelling per byte string).
 */
TEST(auth_b64_padding_canonical_exhaustive)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned x, y, z, accepted2 = 0, accepted1 = 0;
	char in[5], enc[8];

	for (x = 0; x < 64; x++)
		for (y = 0; y < 64; y++)
			for (z = 0; z < 65; z++) {
				struct buf out;
				bool want = z == 64 ? (y & 15) == 0 :
				    (z & 3) == 0;
				int rc;

				in[0] = tab[x];
				in[1] = tab[y];
				in[2] = z == 64 ? '=' : tab[z];
				in[3] = '=';
				in[4] = '\0';
				buf_init(&out, 16);
				rc = auth_b64_decode(str_make(in, 4), &out);
				CHECKF((rc == 0) == want, "\"%s\": got %d", in,
				    rc);
				if (rc == 0) {
					CHECK_EQ_INT(buf_len(&out),
					    z == 64 ? 1 : 2);
					CHECK_EQ_INT(auth_b64_encode(
					    buf_data(&out), buf_len(&out), enc,
					    sizeof(enc)), 0);
					CHECK_EQ_STR(enc, in);
					if (z == 64)
						accepted1++;
					else
						accepted2++;
				}
				buf_release(&out);
			}
	CHECK_EQ_INT(accepted1, 256);		/* every single byte */
	CHECK_EQ_INT(accepted2, 65536);		/* every pair */
}

/* ---- PLAIN ---- */

/* U320: the longest user name, SMTP_ADDR_TEXT_MAX - 1 octets. */
#define U320							\
	"uuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuu" \
	"uuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuu" \
	"uuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuu" \
	"uuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuu" \
	"uuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuu"

struct plain_case {
	const char	*in;
	size_t		 inlen;
	int		 rc;
	const char	*user;		/* on success */
	const char	*password;
};

static const struct plain_case plain_cases[] = {
	/* authzid empty, or the authcid itself (in any case). */
	{ B("\0alice@example.test\0secret"), 0, "alice@example.test",
	    "secret" },
	{ B("alice@example.test\0alice@example.test\0secret"), 0,
	    "alice@example.test", "secret" },
	{ B("ALICE@Example.TEST\0alice@example.test\0secret"), 0,
	    "alice@example.test", "secret" },
	{ B("alice@example.test\0Alice@Example.Test\0secret"), 0,
	    "Alice@Example.Test", "secret" },
	{ B("\0alice\0pa ss word"), 0, "alice", "pa ss word" },
	{ B("\0alice\0p\xc3\xa4ss\xe2\x82\xac"), 0, "alice",
	    "p\xc3\xa4ss\xe2\x82\xac" },
	{ B("\0alice\0:\x01\x7f\xff"), 0, "alice", ":\x01\x7f\xff" },
	{ B("\0" U320 "\0pw"), 0, U320, "pw" },

	/* Acting as someone else is refused. */
	{ B("bob@example.test\0alice@example.test\0secret"), -1 },
	{ B("alice\0alicex\0secret"), -1 },
	{ B("alicex\0alice\0secret"), -1 },
	{ B("alice \0alice\0secret"), -1 },
	{ B("*\0alice\0secret"), -1 },

	/* Empty user or password. */
	{ B("\0\0secret"), -1 },
	{ B("\0alice\0"), -1 },
	{ B("\0\0"), -1 },
	{ B("alice\0\0secret"), -1 },

	/* Missing fields. */
	{ B(""), -1 },
	{ B("alice"), -1 },
	{ B("\0alice"), -1 },
	{ B("alice\0secret"), -1 },
	{ B("\0"), -1 },

	/* A NUL inside a field (a fourth field). */
	{ B("\0alice\0secret\0"), -1 },
	{ B("\0alice\0sec\0ret"), -1 },
	{ B("\0alice\0secret\0more\0"), -1 },

	/* Too long for the fixed arrays. */
	{ B("\0" U320 "u\0pw"), -1 },
};

static void
plain_check_case(const struct plain_case *c, size_t idx)
{
	struct auth_creds creds;
	int rc;

	memset(&creds, 0x55, sizeof(creds));
	rc = auth_plain_parse(c->in, c->inlen, &creds);
	CHECKF(rc == c->rc, "case %zu: got %d, want %d", idx, rc, c->rc);
	if (rc != 0 || c->rc != 0)
		return;
	CHECKF(strcmp(creds.user, c->user) == 0, "case %zu: user \"%s\", "
	    "want \"%s\"", idx, creds.user, c->user);
	CHECKF(strcmp(creds.password, c->password) == 0, "case %zu: "
	    "password \"%s\", want \"%s\"", idx, creds.password,
	    c->password);
}

TEST(auth_plain_table)
{
	size_t i;

	CHECK_EQ_INT(strlen(U320), SMTP_ADDR_TEXT_MAX - 1);
	for (i = 0; i < ARRAY_LEN(plain_cases); i++)
		plain_check_case(&plain_cases[i], i);
}

/* The password fills its array up to AUTH_PASSWORD_MAX - 1 octets. */
TEST(auth_plain_password_length)
{
	static const struct {
		size_t	 len;
		int	 rc;
	} cases[] = {
		{ 1, 0 }, { AUTH_PASSWORD_MAX - 1, 0 }, { AUTH_PASSWORD_MAX, -1 },
		{ AUTH_PASSWORD_MAX + 100, -1 },
	};
	char in[AUTH_PASSWORD_MAX + 200];
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		struct auth_creds creds;

		memcpy(in, "\0u\0", 3);
		memset(in + 3, 'p', cases[i].len);
		CHECKF(auth_plain_parse(in, 3 + cases[i].len, &creds) ==
		    cases[i].rc, "password of %zu octets", cases[i].len);
		if (cases[i].rc == 0)
			CHECK_EQ_INT(strlen(creds.password), cases[i].len);
	}
}

/* PLAIN through its base64 wrapper, as the AUTH command sees it. */
TEST(auth_plain_from_base64)
{
	struct auth_creds creds;
	struct buf dec;

	buf_init(&dec, SMTP_AUTH_LINE_MAX);
	CHECK_EQ_INT(auth_b64_decode(STR_LIT("AHRlc3QAdGVzdA=="), &dec), 0);
	CHECK_EQ_INT(auth_plain_parse(buf_data(&dec), buf_len(&dec), &creds),
	    0);
	CHECK_EQ_STR(creds.user, "test");
	CHECK_EQ_STR(creds.password, "test");
	auth_creds_clear(&creds);
	buf_release_secret(&dec);
}

/* ---- LOGIN ---- */

static const struct {
	const char	*in;
	size_t		 inlen;
	int		 user_rc;	/* auth_login_user() */
	int		 password_rc;	/* auth_login_password() */
} login_cases[] = {
	{ B("alice@example.test"), 0, 0 },
	{ B("a"), 0, 0 },
	{ B("with space"), 0, 0 },
	{ B("caf\xc3\xa9"), 0, 0 },
	{ B(":\x01\x7f\xff"), 0, 0 },
	{ B(U320), 0, 0 },
	{ B(U320 "u"), -1, 0 },		/* too long for a user name only */
	{ B(""), -1, -1 },
	{ B("\0"), -1, -1 },
	{ B("ali\0ce"), -1, -1 },
	{ B("alice\0"), -1, -1 },
	{ B("\0alice"), -1, -1 },
};

TEST(auth_login_user_table)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(login_cases); i++) {
		struct auth_creds creds;
		int rc;

		memset(&creds, 0, sizeof(creds));
		rc = auth_login_user(login_cases[i].in, login_cases[i].inlen,
		    &creds);
		CHECKF(rc == login_cases[i].user_rc, "case %zu: got %d, want "
		    "%d", i, rc, login_cases[i].user_rc);
		if (rc == 0)
			CHECK_EQ_MEM(creds.user, strlen(creds.user),
			    login_cases[i].in, login_cases[i].inlen);
		CHECK_EQ_STR(creds.password, "");
	}
}

TEST(auth_login_password_table)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(login_cases); i++) {
		struct auth_creds creds;
		int rc;

		memset(&creds, 0, sizeof(creds));
		rc = auth_login_password(login_cases[i].in,
		    login_cases[i].inlen, &creds);
		CHECKF(rc == login_cases[i].password_rc, "case %zu: got %d, "
		    "want %d", i, rc, login_cases[i].password_rc);
		if (rc == 0)
			CHECK_EQ_MEM(creds.password, strlen(creds.password),
			    login_cases[i].in, login_cases[i].inlen);
		CHECK_EQ_STR(creds.user, "");
	}
}

/* The two steps fill their own fields, as a LOGIN exchange does. */
TEST(auth_login_sequence)
{
	struct auth_creds creds;

	memset(&creds, 0, sizeof(creds));
	CHECK_EQ_INT(auth_login_user(B("alice@example.test"), &creds), 0);
	CHECK_EQ_INT(auth_login_password(B("s3cret"), &creds), 0);
	CHECK_EQ_STR(creds.user, "alice@example.test");
	CHECK_EQ_STR(creds.password, "s3cret");
}

TEST(auth_creds_clear_wipes)
{
	struct auth_creds creds;
	size_t i;
	bool zero = true;

	CHECK_EQ_INT(auth_plain_parse(B("\0alice\0secret"), &creds), 0);
	auth_creds_clear(&creds);
	for (i = 0; i < sizeof(creds); i++)
		if (((const unsigned char *)&creds)[i] != 0)
			zero = false;
	CHECK(zero);
}
