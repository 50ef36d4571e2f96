/*
 * test_dkim.h - helpers shared by the DKIM tests: a message split into
 * header section and body, its n-th DKIM-Signature, and a verifier's
 * whole job for one signature with the key record in hand.
 */
#ifndef FACTEUR_TEST_DKIM_H
#define FACTEUR_TEST_DKIM_H

#include "dkim/dkim_int.h"
#include "mime/mime_hdr.h"
#include "unit/unit.h"

struct msg_parts {
	struct str	 head;
	struct str	 body;
};

/* The header section (with its last CRLF) and the body. */
static inline struct msg_parts
msg_split(const char *p, size_t len)
{
	const char *blank = memmem(p, len, "\r\n\r\n", 4);
	struct msg_parts m;

	if (blank == NULL) {
		m.head = str_make(p, len);
		m.body = str_make(p + len, 0);
	} else {
		m.head = str_make(p, (size_t)(blank - p) + 2);
		m.body = str_make(blank + 4, len - m.head.len - 2);
	}
	return m;
}

/* The idx-th DKIM-Signature of head: the whole field and its value. */
static inline bool
msg_sig_field(struct str head, size_t idx, struct str *field,
    struct str *value)
{
	struct mime_hdr_iter it;
	struct str name;

	mime_hdr_iter_init(&it, head.p, head.len);
	while (mime_hdr_next(&it, &name, value) == 1) {
		if (!str_caseeq_cstr(name, "DKIM-Signature") || idx-- > 0)
			continue;
		*field = str_make(name.p, (size_t)(value->p + value->len -
		    name.p));
		return true;
	}
	return false;
}

/* What a verifier does for one signature, key record in hand. */
static inline enum dkim_result
verify_msg(const char *msg, size_t len, size_t idx, const char *txt,
    time_t now, const char **why)
{
	struct msg_parts m = msg_split(msg, len);
	struct str field, value;
	struct dkim_sig sig;
	struct dkim_key key;
	struct dkim_body *b;
	char bh[DKIM_BH_SIZE];
	enum dkim_result r;

	*why = "no such signature";
	if (!msg_sig_field(m.head, idx, &field, &value))
		return DKIM_NONE;
	if (dkim_sig_parse(value, &sig, why) == -1 ||
	    dkim_key_parse(str_cstr(txt), &key, why) == -1)
		return DKIM_PERMERROR;
	b = dkim_body_new_sig(&sig);
	dkim_body_update(b, m.body.p, m.body.len);
	(void)dkim_body_final(&b, bh, sizeof(bh));
	r = dkim_verify(m.head.p, m.head.len, field, &sig, &key, bh, now, why);
	dkim_key_release(&key);
	return r;
}

#define CHECK_VERIFY(msg, len, idx, txt, now, want) do {		\
	const char *why_ = "";						\
	enum dkim_result r_ = verify_msg((msg), (len), (idx), (txt),	\
	    (now), &why_);						\
	CHECKF(r_ == (want), "verify: got %s (%s), want %s",		\
	    dkim_result_name(r_), why_, dkim_result_name(want));	\
} while (0)

/* msg with the first occurrence of from replaced by to (out != msg). */
static inline void
replace(const char *msg, const char *from, const char *to, struct buf *out)
{
	const char *at = strstr(msg, from);

	buf_reset(out);
	CHECKF(at != NULL, "\"%s\" not found", from);
	if (at == NULL)
		return;
	CHECK(buf_add(out, msg, (size_t)(at - msg)) == 0);
	CHECK(buf_adds(out, to) == 0);
	CHECK(buf_adds(out, at + strlen(from)) == 0);
}

#endif
