/*
 * fuzz_queue_tail.c - libFuzzer harness for queue_tail.c: the whole
 * input as the bytes after a queued message.
 *
 * The run found must lie within the input, hold seq records whose last
 * text lies within it, and be stable: scanning the run alone finds the
 * same. A record appended at the end of the run (as queue_file.c does,
 * once it has cut what followed) must be found next, with its text
 * intact; with what followed left after it (a writer that did not
 * cut), the scan still reaches it. A keyed scan (a pack's records name
 * their entry) covers the same run, and what it finds starts with the
 * key and is one of the run's records.
 */
#include "core/common.h"

#include "core/buf.h"
#include "queue/queue_tail.h"

/* A pack's records name their entry: the key of one (queue_env.h). */
#define KEY "facteur-queue 1\nqid 0123456789abcdef\n"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	struct queue_tail t, again;
	size_t textlen = MIN(size, 64);
	struct buf b;

	queue_tail_scan(p, size, &t);
	if (t.end > size || (t.seq == 0) != (t.end == 0) ||
	    (t.seq && (t.text < QUEUE_TAIL_HEAD_LEN ||
	    t.text + t.textlen != t.end)) ||
	    t.end < (size_t)t.seq * QUEUE_TAIL_HEAD_LEN)
		abort();
	queue_tail_scan(p, t.end, &again);
	if (memcmp(&t, &again, sizeof(t)) != 0)
		abort();
	queue_tail_scan_key(p, size, KEY, sizeof(KEY) - 1, &again);
	if (again.end != t.end || again.seq != t.seq || (again.found &&
	    (again.textlen < sizeof(KEY) - 1 || again.text + again.textlen >
	    t.end || memcmp(p + again.text, KEY, sizeof(KEY) - 1) != 0)) ||
	    (again.found && !t.found))
		abort();

	buf_init(&b, BUF_NOCAP);
	if (buf_add(&b, p, t.end) != 0 ||
	    queue_tail_record(&b, t.seq + 1, p + size - textlen, textlen) != 0)
		abort();
	queue_tail_scan(buf_data(&b), buf_len(&b), &again);
	if (again.seq != t.seq + 1 || again.end != buf_len(&b) ||
	    again.textlen != textlen || memcmp(buf_data(&b) + again.text,
	    p + size - textlen, textlen) != 0)
		abort();
	if (size > t.end && buf_add(&b, p + t.end, size - t.end) != 0)
		abort();
	queue_tail_scan(buf_data(&b), buf_len(&b), &again);
	if (again.seq < t.seq + 1 || again.end < t.end + QUEUE_TAIL_HEAD_LEN +
	    textlen)
		abort();
	buf_release(&b);
	return 0;
}
