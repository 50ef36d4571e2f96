/*
 * queue_tail.c - see queue_tail.h.
 */
#include "core/common.h"

#include "core/crc32.h"
#include "core/str.h"
#include "queue/queue_tail.h"

/* The part of the line the crc covers: magic, seq, length and spaces. */
#define QUEUE_TAIL_CRC_AT (QUEUE_TAIL_MAGIC_LEN + 10 + 1 + 10 + 1)

/* 8 lowercase hex digits at p, or -1. */
static int64_t
queue_tail_hex(const char *p)
{
	int64_t v = 0;
	size_t i;

	for (i = 0; i < 8; i++) {
		if (p[i] >= '0' && p[i] <= '9')
			v = v * 16 + (p[i] - '0');
		else if (p[i] >= 'a' && p[i] <= 'f')
			v = v * 16 + (p[i] - 'a' + 10);
		else
			return -1;
	}
	return v;
}

/* The length of a record at p that checks and is number seq, or 0. */
static size_t
queue_tail_check(const char *p, size_t len, uint32_t seq)
{
	const char *h = p;
	uint64_t n, textlen;
	int64_t crc;

	if (len < QUEUE_TAIL_HEAD_LEN ||
	    memcmp(h, QUEUE_TAIL_MAGIC, QUEUE_TAIL_MAGIC_LEN) != 0)
		return 0;
	h += QUEUE_TAIL_MAGIC_LEN;
	if (str_to_u64(str_make(h, 10), UINT32_MAX, &n) == -1 || n != seq ||
	    str_to_u64(str_make(h + 11, 10), len - QUEUE_TAIL_HEAD_LEN,
	    &textlen) == -1 || (crc = queue_tail_hex(h + 22)) < 0 ||
	    h[10] != ' ' || h[21] != ' ' || h[30] != '\n')
		return 0;
	if (crc32_update(crc32_update(0, p, QUEUE_TAIL_CRC_AT),
	    p + QUEUE_TAIL_HEAD_LEN, (size_t)textlen) != (uint32_t)crc)
		return 0;
	return QUEUE_TAIL_HEAD_LEN + (size_t)textlen;
}

void
queue_tail_scan_key(const char *p, size_t len, const char *key,
    size_t keylen, struct queue_tail *t)
{
	size_t n;

	memset(t, 0, sizeof(*t));
	while (t->seq < UINT32_MAX &&
	    (n = queue_tail_check(p + t->end, len - t->end, t->seq + 1)) > 0) {
		if (key == NULL || (n - QUEUE_TAIL_HEAD_LEN >= keylen &&
		    memcmp(p + t->end + QUEUE_TAIL_HEAD_LEN, key, keylen) ==
		    0)) {
			t->text = t->end + QUEUE_TAIL_HEAD_LEN;
			t->textlen = n - QUEUE_TAIL_HEAD_LEN;
			t->found = true;
		}
		t->end += n;
		t->seq++;
	}
}

void
queue_tail_scan(const char *p, size_t len, struct queue_tail *t)
{
	queue_tail_scan_key(p, len, NULL, 0, t);
}

int
queue_tail_record(struct buf *out, uint32_t seq, const char *text,
    size_t len)
{
	char head[QUEUE_TAIL_HEAD_LEN + 1];
	uint32_t crc;

	if (len > 9999999999ull)
		return -1;
	snprintf(head, sizeof(head), "%s%010u %010zu ", QUEUE_TAIL_MAGIC,
	    (unsigned)seq, len);
	crc = crc32_update(crc32_update(0, head, QUEUE_TAIL_CRC_AT), text, len);
	snprintf(head + QUEUE_TAIL_CRC_AT, sizeof(head) - QUEUE_TAIL_CRC_AT,
	    "%08x\n", (unsigned)crc);
	if (buf_add(out, head, QUEUE_TAIL_HEAD_LEN) == -1)
		return -1;
	if (buf_add(out, text, len) == -1) {
		buf_truncate(out, buf_len(out) - QUEUE_TAIL_HEAD_LEN);
		return -1;
	}
	return 0;
}
