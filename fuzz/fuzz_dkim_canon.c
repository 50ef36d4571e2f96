/*
 * fuzz_dkim_canon.c - libFuzzer harness for canonicalization
 * (dkim_canon.c).
 *
 * Input: one byte of mode (bit 0: relaxed; bit 1: an l= limit; bits 2-7:
 * the largest chunk size), two bytes of l= when bit 1 is set, then the
 * body. The streaming hasher fed in one piece, byte by byte, and in
 * pseudo-random chunks must give one and the same hash, and that hash
 * must be the SHA-256 of what a plain, whole-buffer reference reading of
 * RFC 6376 3.4.3/3.4.4 produces (cut at l=; refused when shorter). The
 * body is also taken as a header field: relaxed header canonicalization
 * must be idempotent and leave no WSP runs and no LF but the last.
 */
#include "core/common.h"

#include <openssl/evp.h>

#include "auth/auth_sasl.h"
#include "dkim/dkim_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* RFC 6376 3.4.3 and 3.4.4 on the whole body, the obvious way. */
static void
ref_canon(bool relaxed, const char *p, size_t len, struct buf *out)
{
	size_t i, j;

	for (i = 0; i < len; i = j) {
		j = i + 1;
		if (!relaxed || !wsp(p[i])) {
			if (buf_addc(out, p[i]) == -1)
				abort();
			continue;
		}
		/* A WSP run: gone before a CRLF or the end, else one SP. */
		while (j < len && wsp(p[j]))
			j++;
		if (j < len && !(j + 1 < len && p[j] == '\r' &&
		    p[j + 1] == '\n') && buf_addc(out, ' ') == -1)
			abort();
	}
	/* Trailing CRLFs go; one ends the body (relaxed: unless empty). */
	while (buf_len(out) >= 2 && memcmp(buf_data(out) + buf_len(out) - 2,
	    "\r\n", 2) == 0)
		buf_truncate(out, buf_len(out) - 2);
	if ((!relaxed || buf_len(out) > 0) && buf_add(out, "\r\n", 2) == -1)
		abort();
}

static int
ref_hash(bool relaxed, bool has_l, uint64_t l, const char *p, size_t len,
    char *out)
{
	unsigned char d[32];
	unsigned int dlen = 0;
	struct buf c;
	size_t n;

	buf_init(&c, BUF_NOCAP);
	ref_canon(relaxed, p, len, &c);
	if (has_l && buf_len(&c) < l) {
		buf_release(&c);
		out[0] = '\0';
		return -1;
	}
	n = has_l ? (size_t)MIN(l, (uint64_t)buf_len(&c)) : buf_len(&c);
	if (EVP_Digest(buf_data(&c), n, d, &dlen, EVP_sha256(), NULL) != 1 ||
	    auth_b64_encode(d, dlen, out, DKIM_BH_SIZE) != 0)
		abort();
	buf_release(&c);
	return 0;
}

static int
stream_hash(bool relaxed, bool has_l, uint64_t l, const char *p, size_t len,
    size_t maxchunk, uint32_t seed, char *out)
{
	struct dkim_body *b = dkim_body_new(DKIM_ALG_ED25519_SHA256,
	    relaxed ? DKIM_CANON_RELAXED : DKIM_CANON_SIMPLE, has_l, l);
	size_t off = 0, n;

	while (off < len) {
		seed = seed * 1103515245u + 12345u;
		n = maxchunk == 0 ? len - off : 1 + (seed >> 8) % maxchunk;
		n = MIN(n, len - off);
		dkim_body_update(b, p + off, n);
		off += n;
	}
	return dkim_body_final(&b, out, DKIM_BH_SIZE);
}

static void
check_header(const char *p, size_t len)
{
	struct buf once, twice;
	struct str v;
	size_t i;

	buf_init(&once, BUF_NOCAP);
	buf_init(&twice, BUF_NOCAP);
	if (dkim_canon_header(DKIM_CANON_RELAXED, str_make(p, len), true,
	    &once) == 0) {
		if (dkim_canon_header(DKIM_CANON_RELAXED, str_make(
		    buf_data(&once), buf_len(&once)), true, &twice) != 0 ||
		    !str_eq(str_make(buf_data(&once), buf_len(&once)),
		    str_make(buf_data(&twice), buf_len(&twice))))
			abort();
		/* The value: no WSP runs, no WSP at its ends, CRLF last. */
		v = str_make(buf_data(&once), buf_len(&once));
		v = str_sub(v, (size_t)str_chr(v, ':') + 1, v.len);
		if (v.len < 2 || memcmp(v.p + v.len - 2, "\r\n", 2) != 0)
			abort();
		v.len -= 2;
		if (v.len && (wsp(v.p[0]) || wsp(v.p[v.len - 1])))
			abort();
		for (i = 0; i + 1 < v.len; i++)
			if (wsp(v.p[i]) && wsp(v.p[i + 1]))
				abort();
		if (memchr(v.p, '\n', v.len) != NULL)
			abort();
	} else if (memchr(p, ':', len) != NULL) {
		abort();
	}
	buf_release(&once);
	buf_release(&twice);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char one[DKIM_BH_SIZE], bytes[DKIM_BH_SIZE], chunks[DKIM_BH_SIZE];
	char ref[DKIM_BH_SIZE];
	const char *p;
	bool relaxed, has_l;
	uint64_t l = 0;
	size_t len, maxchunk;
	int r;

	if (size < 1)
		return 0;
	relaxed = data[0] & 1;
	has_l = data[0] & 2;
	maxchunk = 1 + (data[0] >> 2);
	p = (const char *)data + 1;
	len = size - 1;
	if (has_l) {
		if (len < 2)
			return 0;
		l = (uint64_t)data[1] << 8 | data[2];
		p += 2;
		len -= 2;
	}
	r = stream_hash(relaxed, has_l, l, p, len, 0, 0, one);
	if (stream_hash(relaxed, has_l, l, p, len, 1, 0, bytes) != r ||
	    stream_hash(relaxed, has_l, l, p, len, maxchunk, (uint32_t)size,
	    chunks) != r || ref_hash(relaxed, has_l, l, p, len, ref) != r ||
	    strcmp(one, bytes) != 0 || strcmp(one, chunks) != 0 ||
	    strcmp(one, ref) != 0)
		abort();
	check_header(p, len);
	return 0;
}
