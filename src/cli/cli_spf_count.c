/*
 * cli_spf_count.c - how many DNS-querying terms an SPF check of a record
 * may need (RFC 7208 4.6.4: more than 10 is a permerror for every
 * receiver), following include: and redirect= through a fetch function.
 * Pure: no DNS of its own, unit-tested with a table of records.
 */
#include "core/common.h"

#include "cli/cli_int.h"
#include "spf/spf_record.h"

/* Nested records followed at most (each costs a lookup anyway). */
#define CLI_SPF_DEPTH_MAX	(SPF_LOOKUPS_MAX + 1)

struct cli_spf_counter {
	cli_spf_fetch_fn fetch;
	void		*arg;
	int		 count;
};

static int cli_spf_count_record(struct cli_spf_counter *c,
    const char *record, int depth, const char **error_r);

/* Counts the record found at domain (a literal name, no macro). */
static void
cli_spf_follow(struct cli_spf_counter *c, struct str domain, int depth)
{
	char name[256];
	const char *why;
	struct buf rec;

	if (c->count > SPF_LOOKUPS_MAX || depth >= CLI_SPF_DEPTH_MAX ||
	    str_chr(domain, '%') >= 0 ||
	    str_copy(name, sizeof(name), domain) == -1)
		return;
	buf_init(&rec, SPF_RECORD_MAX);
	if (c->fetch(c->arg, name, &rec) == 1)
		(void)cli_spf_count_record(c, buf_cstr(&rec), depth + 1, &why);
	buf_release(&rec);
}

static int
cli_spf_count_record(struct cli_spf_counter *c, const char *record,
    int depth, const char **error_r)
{
	struct spf_record rec;
	bool has_all = false;
	size_t i;

	if (spf_record_parse(&rec, record, strlen(record), error_r) == -1) {
		spf_record_release(&rec);
		return -1;
	}
	for (i = 0; i < rec.nterms; i++) {
		const struct spf_term *t = &rec.terms[i];

		switch (t->mech) {
		case SPF_MECH_INCLUDE:
			c->count++;
			cli_spf_follow(c, t->domain, depth);
			break;
		case SPF_MECH_A:
		case SPF_MECH_MX:
		case SPF_MECH_PTR:
		case SPF_MECH_EXISTS:
			c->count++;
			break;
		case SPF_MECH_ALL:
			has_all = true;
			break;
		default:
			break;
		}
	}
	/* RFC 7208 6.1: redirect= is ignored when the record has "all". */
	if (rec.redirect.p != NULL && !has_all) {
		c->count++;
		cli_spf_follow(c, rec.redirect, depth);
	}
	spf_record_release(&rec);
	return 0;
}

int
cli_spf_count_lookups(const char *record, cli_spf_fetch_fn fetch, void *arg,
    const char **error_r)
{
	struct cli_spf_counter c = { fetch, arg, 0 };

	if (cli_spf_count_record(&c, record, 0, error_r) == -1)
		return -1;
	return c.count;
}
