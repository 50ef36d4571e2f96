/*
 * test_mda_maildir.c - local delivery files: CRLF becomes LF exactly (a
 * CR not followed by LF stays, even across the 64 KB chunks the writer
 * reads), the delivery headers come first, and the S= and W= sizes in
 * the final name are right.
 */
#include "core/common.h"

#include <stdlib.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fsutil.h"
#include "delivery/mda_maildir.h"
#include "queue/spool.h"
#include "unit/unit.h"

/* The reference: drop every CR that precedes an LF. */
static void
crlf_to_lf_ref(const char *p, size_t len, struct buf *out)
{
	size_t i;
	int r = 0;

	for (i = 0; i < len; i++)
		if (!(p[i] == '\r' && i + 1 < len && p[i + 1] == '\n'))
			r |= buf_addc(out, p[i]);
	CHECK_EQ_INT(r, 0);
}

static void
check_delivery(const char *dir, const char *body, size_t len)
{
	static const char head[] = "X-Ours: 1\r\n";
	struct durable_file f;
	struct spool *sp = spool_new(dir);
	struct buf in, want, got;
	char sizes[64];
	size_t i, lines = 0;
	int r;

	buf_init(&in, BUF_NOCAP);
	buf_init(&want, BUF_NOCAP);
	buf_init(&got, BUF_NOCAP);
	CHECK_EQ_INT(spool_write(sp, body, len), 0);
	CHECK_EQ_INT(mda_maildir_open(&f, dir, "u@example.test", NULL,
	    "mail.example.test"), 0);
	CHECK_EQ_INT(mda_maildir_write(&f, "s@x.test", "u@example.test", head,
	    sizeof(head) - 1, sp), 0);
	r = buf_adds(&in, "Return-Path: <s@x.test>\r\nDelivered-To: "
	    "u@example.test\r\n");
	r |= buf_add(&in, head, sizeof(head) - 1);
	r |= buf_add(&in, body, len);
	CHECK_EQ_INT(r, 0);
	crlf_to_lf_ref(buf_data(&in), buf_len(&in), &want);
	CHECK_EQ_INT(durable_sync(&f), 0);
	CHECK_EQ_INT(durable_link(&f), 0);
	CHECK_EQ_INT(fs_read_file(f.final, &got), 0);
	CHECK_EQ_MEM(buf_data(&got), buf_len(&got), buf_data(&want),
	    buf_len(&want));
	for (i = 0; i < buf_len(&want); i++)
		lines += buf_data(&want)[i] == '\n';
	snprintf(sizes, sizeof(sizes), ",S=%zu,W=%zu", buf_len(&want),
	    buf_len(&want) + lines);
	CHECKF(strstr(f.final, sizes) != NULL, "%s lacks %s", f.final, sizes);
	unlink(f.final);
	spool_free(&sp);
	buf_release(&in);
	buf_release(&want);
	buf_release(&got);
}

TEST(mda_crlf_to_lf_exact)
{
	static const char *const cases[] = {
		"", "a", "\r", "\n", "\r\n", "\r\r\n", "a\rb\r\n", "\n\r",
		"line\r\nline\r\n", "x\r", "\r\n\r\n.\r\n",
	};
	char dir[] = "/tmp/facteur-test-mda.XXXXXX";
	size_t i;

	CHECK(mkdtemp(dir) != NULL);
	for (i = 0; i < ARRAY_LEN(cases); i++)
		check_delivery(dir, cases[i], strlen(cases[i]));
}

/* Big bodies cross the writer's 64 KB chunks and the spool's spill. */
TEST(mda_crlf_to_lf_random_chunks)
{
	static const char alphabet[] = "ab\r\n\r\n.";
	char dir[] = "/tmp/facteur-test-mda.XXXXXX";
	size_t len, i, round;
	char *body;

	CHECK(mkdtemp(dir) != NULL);
	srand(7);
	for (round = 0; round < 12; round++) {
		len = (size_t)(rand() % 300000);
		body = xmalloc(len + 1);
		for (i = 0; i < len; i++)
			body[i] = alphabet[rand() % (int)(sizeof(alphabet) - 1)];
		/* A CR right at a 64 KB boundary. */
		if (len > 65537)
			body[65535] = '\r', body[65536] = '\n';
		check_delivery(dir, body, len);
		free(body);
	}
}
