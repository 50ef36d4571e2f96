/*
 * dkim_headers.c - the header half of the signed data (RFC 6376 3.7):
 * the fields named by h=, picked from the bottom up (5.4.2), then the
 * DKIM-Signature field itself with its b= value deleted. Shared by
 * signing and verification so both hash exactly the same bytes.
 */
#include "core/common.h"

#include <openssl/evp.h>

#include "dkim/dkim_int.h"
#include "mime/mime_hdr.h"

int
dkim_fields_init(struct dkim_fields *f, const char *head, size_t len)
{
	struct mime_hdr_iter it;
	struct str name, value;
	size_t alloc = 0;
	int r;

	f->v = NULL;
	f->n = 0;
	mime_hdr_iter_init(&it, head, len);
	while ((r = mime_hdr_next(&it, &name, &value)) == 1) {
		if (f->n == DKIM_FIELDS_MAX)
			return -1;
		if (f->n == alloc) {
			alloc = alloc ? alloc * 2 : 32;
			f->v = xreallocarray(f->v, alloc, sizeof(*f->v));
		}
		f->v[f->n].name = name;
		f->v[f->n].field = str_make(name.p,
		    (size_t)(value.p + value.len - name.p));
		f->v[f->n].used = false;
		f->n++;
	}
	return r == 0 ? 0 : -1;
}

void
dkim_fields_release(struct dkim_fields *f)
{
	XFREE(&f->v);
	f->n = 0;
}

size_t
dkim_fields_count(const struct dkim_fields *f, const char *name)
{
	size_t i, n = 0;

	for (i = 0; i < f->n; i++)
		if (str_caseeq_cstr(f->v[i].name, name))
			n++;
	return n;
}

/*
 * RFC 6376 5.4.2: the last instance not yet used; none left means the
 * null string, which is what makes over-signing work.
 */
static struct dkim_field *
dkim_fields_pick(struct dkim_fields *f, struct str name)
{
	size_t i;

	for (i = f->n; i > 0; i--) {
		struct dkim_field *x = &f->v[i - 1];

		if (!x->used && str_caseeq(x->name, name)) {
			x->used = true;
			return x;
		}
	}
	return NULL;
}

static int
dkim_hash_field(EVP_MD_CTX *md, enum dkim_canon c, struct str field,
    bool crlf)
{
	struct buf canon;
	int r;

	buf_init(&canon, BUF_NOCAP);
	r = dkim_canon_header(c, field, crlf, &canon);
	if (r == 0 && EVP_DigestUpdate(md, buf_data(&canon),
	    buf_len(&canon)) != 1)
		r = -1;
	buf_release(&canon);
	return r;
}

/*
 * RFC 6376 3.7: the b= value "including all surrounding whitespace" is
 * deleted; the tag name and '=' stay. The tags are those of the value,
 * so a "b=" inside another tag's value is never taken for it.
 */
static int
dkim_strip_b(struct str field, struct buf *out)
{
	struct dkim_tags tags;
	const struct dkim_tag *b;
	const char *error;
	long colon = str_chr(field, ':');
	size_t off, end;

	if (colon < 0 || dkim_tags_parse(str_sub(field, (size_t)colon + 1,
	    field.len), &tags, &error) == -1 ||
	    (b = dkim_tags_find(&tags, "b")) == NULL)
		return -1;
	off = (size_t)(b->raw.p - field.p);
	end = off + b->raw.len;
	if (buf_add(out, field.p, off) == -1 ||
	    buf_add(out, field.p + end, field.len - end) == -1)
		return -1;
	return 0;
}

int
dkim_hash_headers(EVP_MD_CTX *md, struct dkim_fields *f, struct str hlist,
    enum dkim_canon c, struct str sig_field)
{
	struct dkim_list l;
	struct dkim_field *x;
	struct str name;
	struct buf stripped;
	int r = 0;

	dkim_list_init(&l, hlist);
	while (r == 0 && dkim_list_next(&l, &name))
		if ((x = dkim_fields_pick(f, name)) != NULL)
			r = dkim_hash_field(md, c, x->field, true);
	if (r == -1)
		return -1;
	buf_init(&stripped, BUF_NOCAP);
	r = dkim_strip_b(dkim_strip_eol(sig_field), &stripped);
	/* RFC 6376 3.7: hashed last, without the final CRLF. */
	if (r == 0)
		r = dkim_hash_field(md, c, str_make(buf_data(&stripped),
		    buf_len(&stripped)), false);
	buf_release(&stripped);
	return r;
}
