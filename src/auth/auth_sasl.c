/*
 * auth_sasl.c - see auth_sasl.h.
 */
#include "core/common.h"

#include "auth/auth_sasl.h"

static int
b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int
auth_b64_decode(struct str in, struct buf *out)
{
	size_t i, pad = 0;
	int v[4], j;

	if (in.len == 1 && in.p[0] == '=')
		return 0;
	if (in.len == 0 || in.len % 4 != 0)
		return -1;
	if (in.p[in.len - 1] == '=')
		pad = in.p[in.len - 2] == '=' ? 2 : 1;
	for (i = 0; i < in.len; i += 4) {
		bool last = i + 4 == in.len;

		for (j = 0; j < 4; j++) {
			if (last && j >= 4 - (int)pad) {
				v[j] = 0;
				continue;
			}
			if ((v[j] = b64_value(in.p[i + (size_t)j])) < 0)
				return -1;
		}
		/* Non-canonical encodings (stray low bits) are refused. */
		if (last && ((pad == 1 && (v[2] & 3)) ||
		    (pad == 2 && (v[1] & 15))))
			return -1;
		if (buf_addc(out, (char)(v[0] << 2 | v[1] >> 4)) == -1 ||
		    (!(last && pad == 2) &&
		    buf_addc(out, (char)((v[1] & 15) << 4 | v[2] >> 2)) == -1) ||
		    (!(last && pad >= 1) &&
		    buf_addc(out, (char)((v[2] & 3) << 6 | v[3])) == -1))
			return -1;
	}
	return 0;
}

int
auth_b64_encode(const void *p, size_t len, char *out, size_t size)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *u = p;
	size_t i, o = 0;

	if (size < (len + 2) / 3 * 4 + 1)
		return -1;
	for (i = 0; i < len; i += 3) {
		unsigned n = (unsigned)u[i] << 16;

		if (i + 1 < len)
			n |= (unsigned)u[i + 1] << 8;
		if (i + 2 < len)
			n |= u[i + 2];
		out[o++] = tab[n >> 18 & 63];
		out[o++] = tab[n >> 12 & 63];
		out[o++] = i + 1 < len ? tab[n >> 6 & 63] : '=';
		out[o++] = i + 2 < len ? tab[n & 63] : '=';
	}
	out[o] = '\0';
	return 0;
}

/* A field of PLAIN/LOGIN into a fixed array: no NUL, not empty, fits. */
static int
auth_field(const char *p, size_t len, char *out, size_t size)
{
	if (len == 0 || memchr(p, '\0', len) != NULL)
		return -1;
	return str_copy(out, size, str_make(p, len));
}

int
auth_plain_parse(const char *p, size_t len, struct auth_creds *creds)
{
	const char *nul1 = memchr(p, '\0', len), *nul2;
	size_t zlen, clen;

	if (nul1 == NULL)
		return -1;
	zlen = (size_t)(nul1 - p);
	nul2 = memchr(nul1 + 1, '\0', len - zlen - 1);
	if (nul2 == NULL)
		return -1;
	clen = (size_t)(nul2 - nul1 - 1);
	if (auth_field(nul1 + 1, clen, creds->user, sizeof(creds->user)) ==
	    -1 || auth_field(nul2 + 1, len - zlen - clen - 2, creds->password,
	    sizeof(creds->password)) == -1)
		return -1;
	/* RFC 4616 2: authzid, if given, must be who we authenticate. */
	if (zlen > 0 && !str_caseeq(str_make(p, zlen), str_cstr(creds->user)))
		return -1;
	return 0;
}

int
auth_login_user(const char *p, size_t len, struct auth_creds *creds)
{
	return auth_field(p, len, creds->user, sizeof(creds->user));
}

int
auth_login_password(const char *p, size_t len, struct auth_creds *creds)
{
	return auth_field(p, len, creds->password, sizeof(creds->password));
}

void
auth_creds_clear(struct auth_creds *creds)
{
	explicit_bzero(creds, sizeof(*creds));
}
