/*
 * dkim_canon.c - canonicalization (RFC 6376 3.4): one header field at a
 * time, and the body as a stream hashed on the fly with the l= limit.
 *
 * The body hasher never buffers the body. What it cannot decide yet it
 * holds back as counts: CRLFs that may turn out to be trailing empty
 * lines (3.4.3, 3.4.4 b), a WSP run that may end a line (3.4.4 a), a CR
 * that may start a CRLF in the next chunk. So any split of the input into
 * chunks hashes the same (fuzz/fuzz_dkim_canon.c checks it).
 */
#include "core/common.h"

#include <openssl/evp.h>

#include "auth/auth_sasl.h"
#include "core/log.h"
#include "dkim/dkim_int.h"

struct dkim_body {
	EVP_MD_CTX	*md;
	enum dkim_canon	 canon;
	bool		 has_limit;
	uint64_t	 limit;
	uint64_t	 len;		/* canonical octets so far */
	uint64_t	 crlfs;		/* held back: maybe trailing lines */
	bool		 cr;		/* held back: maybe half a CRLF */
	bool		 wsp;		/* relaxed, held back: a WSP run */
	bool		 content;	/* anything but CRLFs produced */
};

static bool
dkim_wsp(char c)
{
	return c == ' ' || c == '\t';
}

const void *
dkim_alg_md(enum dkim_alg alg)
{
	return alg == DKIM_ALG_RSA_SHA1 ? EVP_sha1() : EVP_sha256();
}

/* RFC 6376 3.4.2, for "name:value" without its line end. */
static int
dkim_canon_relaxed(struct str field, struct buf *out)
{
	long colon = str_chr(field, ':');
	struct str name, value;
	bool space = false, any = false;
	size_t i;
	int r = 0;

	if (colon < 0)
		return -1;
	/* Lowercase the name; no WSP before or after the colon. */
	name = dkim_trim_fws(str_make(field.p, (size_t)colon));
	for (i = 0; i < name.len; i++)
		r |= buf_addc(out, ascii_lower(name.p[i]));
	r |= buf_addc(out, ':');
	value = str_sub(field, (size_t)colon + 1, field.len);
	for (i = 0; i < value.len; i++) {
		char c = value.p[i];

		/* Unfold: line ends go, the WSP after them stays. */
		if (c == '\n' || (c == '\r' && i + 1 < value.len &&
		    value.p[i + 1] == '\n'))
			continue;
		/* A WSP run is one SP, none at the ends of the value. */
		if (dkim_wsp(c)) {
			space = any;
			continue;
		}
		if (space)
			r |= buf_addc(out, ' ');
		r |= buf_addc(out, c);
		space = false;
		any = true;
	}
	return r ? -1 : 0;
}

int
dkim_canon_header(enum dkim_canon c, struct str field, bool crlf,
    struct buf *out)
{
	int r;

	field = dkim_strip_eol(field);
	/* RFC 6376 3.4.1: simple is the field as it is. */
	if (c == DKIM_CANON_SIMPLE)
		r = buf_add(out, field.p, field.len);
	else
		r = dkim_canon_relaxed(field, out);
	if (r == 0 && crlf)
		r = buf_add(out, "\r\n", 2);
	return r;
}

struct dkim_body *
dkim_body_new(enum dkim_alg alg, enum dkim_canon canon, bool has_limit,
    uint64_t limit)
{
	struct dkim_body *b = xcalloc(1, sizeof(*b));

	b->md = EVP_MD_CTX_new();
	if (b->md == NULL || EVP_DigestInit_ex(b->md, dkim_alg_md(alg),
	    NULL) != 1)
		fatal("dkim: cannot set up the %s digest", dkim_alg_name(alg));
	b->canon = canon;
	b->has_limit = has_limit;
	b->limit = limit;
	return b;
}

struct dkim_body *
dkim_body_new_sig(const struct dkim_sig *sig)
{
	return dkim_body_new(sig->alg, sig->bcanon, sig->has_l, sig->l);
}

/* Canonical octets: counted, and hashed up to l= (RFC 6376 3.4.5). */
static void
dkim_body_emit(struct dkim_body *b, const char *p, size_t n)
{
	size_t take = n;

	if (b->has_limit)
		take = b->len >= b->limit ? 0 : (size_t)MIN((uint64_t)n,
		    b->limit - b->len);
	if (take > 0 && EVP_DigestUpdate(b->md, p, take) != 1)
		fatal("dkim: digest update failed");
	b->len += n;
}

/* Non-empty lines are coming: the CRLFs held back were not trailing. */
static void
dkim_body_flush_crlfs(struct dkim_body *b)
{
	static const char crlfs[] = "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n";
	uint64_t n;

	while (b->crlfs > 0) {
		n = MIN(b->crlfs, (uint64_t)(sizeof(crlfs) - 1) / 2);
		dkim_body_emit(b, crlfs, (size_t)n * 2);
		b->crlfs -= n;
	}
}

/* Octets that are neither line ends nor (relaxed) WSP. */
static void
dkim_body_text(struct dkim_body *b, const char *p, size_t n)
{
	dkim_body_flush_crlfs(b);
	if (b->wsp) {
		dkim_body_emit(b, " ", 1);	/* RFC 6376 3.4.4 a */
		b->wsp = false;
	}
	dkim_body_emit(b, p, n);
	b->content = true;
}

static void
dkim_body_crlf(struct dkim_body *b)
{
	b->wsp = false;		/* RFC 6376 3.4.4 a: no WSP at line ends */
	b->crlfs++;
}

/* Length of the run of plain text at p: up to a CR, or a WSP if relaxed. */
static size_t
dkim_body_run(const struct dkim_body *b, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] == '\r' || (b->canon == DKIM_CANON_RELAXED &&
		    dkim_wsp(p[i])))
			break;
	return i;
}

void
dkim_body_update(struct dkim_body *b, const char *p, size_t len)
{
	size_t i = 0, run;

	if (len > 0 && b->cr) {
		b->cr = false;
		if (p[0] == '\n') {
			dkim_body_crlf(b);
			i = 1;
		} else {
			dkim_body_text(b, "\r", 1);
		}
	}
	while (i < len) {
		if (p[i] == '\r') {
			if (i + 1 == len) {
				b->cr = true;	/* the LF may be next chunk's */
				return;
			}
			if (p[i + 1] == '\n') {
				dkim_body_crlf(b);
				i += 2;
			} else {
				dkim_body_text(b, p + i, 1);
				i++;
			}
		} else if (b->canon == DKIM_CANON_RELAXED && dkim_wsp(p[i])) {
			b->wsp = true;
			i++;
		} else {
			run = dkim_body_run(b, p + i, len - i);
			dkim_body_text(b, p + i, run);
			i += run;
		}
	}
}

int
dkim_body_final(struct dkim_body **bp, char *out, size_t size)
{
	return dkim_body_final_len(bp, out, size, NULL);
}

int
dkim_body_final_len(struct dkim_body **bp, char *out, size_t size,
    uint64_t *len_r)
{
	struct dkim_body *b = *bp;
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	int r = 0;

	if (b->cr) {
		b->cr = false;
		dkim_body_text(b, "\r", 1);
	}
	/*
	 * A last line without CRLF is a line too: its final WSP run goes
	 * (3.4.4 a), then the CRLF is added (3.4.4 b). Verifiers differ on
	 * this one case (dkimpy keeps one SP; OpenDKIM 2.11 drops the WSP
	 * but adds no CRLF); SMTP mail always ends in CRLF, so it never
	 * meets it.
	 */
	b->wsp = false;
	/*
	 * RFC 6376 3.4.3: trailing empty lines go, and the body ends with one
	 * CRLF (an empty body is CRLF). 3.4.4 b: the same, but an empty body
	 * stays empty (RFC 4871 erratum 1376).
	 */
	if (b->content || b->canon == DKIM_CANON_SIMPLE)
		dkim_body_emit(b, "\r\n", 2);
	if (EVP_DigestFinal_ex(b->md, digest, &dlen) != 1)
		fatal("dkim: digest final failed");
	if (len_r != NULL)
		*len_r = b->len;
	if (b->has_limit && b->len < b->limit)
		r = -1;		/* RFC 6376 3.5: l= MUST NOT be larger */
	else
		r = auth_b64_encode(digest, dlen, out, size);
	if (r == -1 && size > 0)
		out[0] = '\0';
	EVP_MD_CTX_free(b->md);
	XFREE(bp);
	return r;
}
