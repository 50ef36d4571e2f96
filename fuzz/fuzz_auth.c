/*
 * fuzz_auth.c - libFuzzer harness for auth_sasl.c.
 *
 * The input is taken three ways:
 *  - as a base64 line: auth_b64_decode() must accept exactly the strict,
 *    canonical encodings (checked against a small reference validator),
 *    and an accepted line must re-encode to itself; the decoded bytes then
 *    go through auth_plain_parse() as an AUTH PLAIN response would;
 *  - as raw bytes for auth_plain_parse() and the LOGIN steps, whose
 *    verdicts are checked against a reference reading of RFC 4616 2;
 *  - as bytes to encode: the encoding must decode back to them.
 * Any disagreement aborts.
 */
#include "core/common.h"

#include "auth/auth_sasl.h"
#include "core/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_B64_MAX 16384

static bool
ref_b64_char(char c)
{
	return ascii_isalnum(c) || c == '+' || c == '/';
}

static unsigned
ref_b64_value(char c)
{
	const char *tab =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	return (unsigned)(strchr(tab, c) - tab);
}

/* RFC 4648 4, strictly: the one spelling of some byte string, or "=". */
static bool
ref_b64_valid(const char *p, size_t len)
{
	size_t i, pad = 0;

	if (len == 1 && p[0] == '=')
		return true;
	if (len == 0 || len % 4 != 0)
		return false;
	if (p[len - 1] == '=')
		pad = p[len - 2] == '=' ? 2 : 1;
	for (i = 0; i < len - pad; i++)
		if (!ref_b64_char(p[i]))
			return false;
	/* The bits the padding drops must be zero. */
	if (pad == 1 && (ref_b64_value(p[len - 2]) & 3) != 0)
		return false;
	if (pad == 2 && (ref_b64_value(p[len - 3]) & 15) != 0)
		return false;
	return true;
}

/* RFC 4616 2 with facteur's rule: authzid empty or the authcid itself. */
static int
ref_plain(const char *p, size_t len, struct str *user, struct str *pass)
{
	const char *n1 = memchr(p, '\0', len), *n2;
	struct str zid;

	if (len == 0 || n1 == NULL)
		return -1;
	n2 = memchr(n1 + 1, '\0', len - (size_t)(n1 - p) - 1);
	if (n2 == NULL)
		return -1;
	zid = str_make(p, (size_t)(n1 - p));
	*user = str_make(n1 + 1, (size_t)(n2 - n1 - 1));
	*pass = str_make(n2 + 1, len - (size_t)(n2 + 1 - p));
	if (user->len == 0 || user->len >= SMTP_ADDR_TEXT_MAX ||
	    pass->len == 0 || pass->len >= AUTH_PASSWORD_MAX ||
	    memchr(pass->p, '\0', pass->len) != NULL)
		return -1;
	if (zid.len > 0 && !str_caseeq(zid, *user))
		return -1;
	return 0;
}

/* auth_plain_parse() agrees with the reference, field for field. */
static void
check_plain(const char *p, size_t len)
{
	struct auth_creds creds;
	struct str user, pass;
	int rc, want;

	rc = auth_plain_parse(p, len, &creds);
	want = ref_plain(p, len, &user, &pass);
	if (rc != want)
		abort();
	if (rc == 0 && (!str_eq(str_cstr(creds.user), user) ||
	    !str_eq(str_cstr(creds.password), pass)))
		abort();
	auth_creds_clear(&creds);
}

/* A LOGIN step takes 1..size-1 octets without a NUL, verbatim. */
static void
check_login(const char *p, size_t len)
{
	struct auth_creds creds;
	bool nul = len > 0 && memchr(p, '\0', len) != NULL;
	int want_user, want_pass;

	want_user = len == 0 || nul || len >= sizeof(creds.user) ? -1 : 0;
	want_pass = len == 0 || nul || len >= sizeof(creds.password) ? -1 : 0;
	memset(&creds, 0, sizeof(creds));
	if (auth_login_user(p, len, &creds) != want_user ||
	    auth_login_password(p, len, &creds) != want_pass)
		abort();
	if ((want_user == 0 && !str_eq(str_cstr(creds.user),
	    str_make(p, len))) || (want_pass == 0 &&
	    !str_eq(str_cstr(creds.password), str_make(p, len))))
		abort();
	auth_creds_clear(&creds);
}

static void
check_decode(const char *p, size_t len)
{
	static char enc[FUZZ_B64_MAX / 3 * 4 + 8];
	struct buf out;
	int rc;

	buf_init(&out, FUZZ_B64_MAX);
	rc = auth_b64_decode(str_make(p, len), &out);
	if ((rc == 0) != ref_b64_valid(p, len))
		abort();
	if (rc == 0) {
		if (buf_len(&out) != (len == 1 ? 0 : len / 4 * 3 -
		    (p[len - 1] == '=') - (p[len - 2] == '=')))
			abort();
		/* One spelling per byte string: it encodes back to itself. */
		if (auth_b64_encode(buf_data(&out), buf_len(&out), enc,
		    sizeof(enc)) != 0)
			abort();
		if (!str_eq(str_cstr(enc), len == 1 ? STR_LIT("") :
		    str_make(p, len)))
			abort();
		check_plain(buf_data(&out), buf_len(&out));
	}
	buf_release_secret(&out);
}

static void
check_encode(const char *p, size_t len)
{
	static char enc[FUZZ_B64_MAX / 3 * 4 + 8];
	size_t need = (len + 2) / 3 * 4 + 1;
	struct buf out;

	if (need > sizeof(enc))
		return;
	if (auth_b64_encode(p, len, enc, need - 1) != -1 ||
	    auth_b64_encode(p, len, enc, need) != 0 || strlen(enc) != need - 1)
		abort();
	buf_init(&out, FUZZ_B64_MAX);
	if (auth_b64_decode(len ? str_cstr(enc) : STR_LIT("="), &out) != 0 ||
	    !str_eq(str_make(buf_data(&out), buf_len(&out)), str_make(p, len)))
		abort();
	buf_release(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;

	if (size > FUZZ_B64_MAX)
		return 0;
	check_decode(in, size);
	check_plain(in, size);
	check_login(in, size);
	check_encode(in, size);
	return 0;
}
