/*
 * fuzz_rules.c - fuzz target: the rules file parser and compiler
 * (rules_load), then the evaluator (rules_eval) on fixture messages
 *
 * The input is written as a rules file into the scratch folder, next to
 * the two list files of tests/rules/ (good-domains.txt, bad-list.txt), so
 * "@./good-domains.txt" and "@bad-list.txt" resolve as they do in the
 * tests.  A file that does not load must say why (err non-empty, no
 * rules); one that loads is queried (count, policy, teams) and evaluated
 * on a fixed set of parsed messages from tests/corpora (outbound,
 * inbound, internal with an attached message, auto-reply, newsletter,
 * bounce, attachments, Authentication-Results, a deal header), each in
 * its own direction and one in all three, with envelope recipients, and
 * every field of each decision is read.
 *
 * Fixtures are found under $CRM_TOP, else FUZZ_TOP (the tree it was built
 * from, set by the Makefile).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/common.h"
#include "../../rules/rules.h"
#include "fuzz.h"

#ifndef FUZZ_TOP
#define FUZZ_TOP "."
#endif

/* one fixture message, parsed once */
struct fixture {
	const char *file;              /* under the top of the tree */
	enum rules_direction dir;
	char *raw;
	size_t len;
	struct mail_record *rec;
};

static struct fixture fixtures[] = {
	{ "tests/corpora/mail/001-acme-q3-forecast.eml", RULES_OUTBOUND, NULL, 0, NULL },
	{ "tests/corpora/mail/002-acme-q3-reply-dave.eml", RULES_INBOUND, NULL, 0, NULL },
	{ "tests/corpora/mail/005-acme-q3-grace-attachments.eml", RULES_INBOUND, NULL, 0, NULL },
	{ "tests/corpora/mail/009-internal-forward-rfc822.eml", RULES_INTERNAL, NULL, 0, NULL },
	{ "tests/corpora/mail/024-initech-out-of-office.eml", RULES_INBOUND, NULL, 0, NULL },
	{ "tests/corpora/mail/031-newsletter-bigshop.eml", RULES_INBOUND, NULL, 0, NULL },
	{ "tests/corpora/mail/032-list-post-milter-users.eml", RULES_INBOUND, NULL, 0, NULL },
	{ "tests/corpora/mail/034-bounce-dsn.eml", RULES_INBOUND, NULL, 0, NULL },
	{ "tests/corpora/mail/039-sales-pricelist-bcc.eml", RULES_OUTBOUND, NULL, 0, NULL },
	{ "tests/corpora/scenario/mail/01-deal-renewal-proposal.eml", RULES_OUTBOUND, NULL, 0, NULL },
	{ "tests/corpora/scenario/mail/11-spoofed-dave.eml", RULES_INBOUND, NULL, 0, NULL },
	{ "tests/corpora/scenario/mail/15-private-dinner.eml", RULES_OUTBOUND, NULL, 0, NULL },
	{ "tests/corpora/scenario/mail/16-globex-rollout-header.eml", RULES_INBOUND, NULL, 0, NULL },
};
#define N_FIXTURES (sizeof fixtures / sizeof fixtures[0])

static const char *const rcpts[] = { "alice@example.com", "sales@example.com", "dave@acme.com" };

/* top - the top of the source tree */
static const char *top(void)
{
	const char *t = getenv("CRM_TOP");
	return t && *t ? t : FUZZ_TOP;
}

/* is_internal - our domain is example.com (and its subdomains) */
static int is_internal(const char *addr, void *arg)
{
	const char *at = strrchr(addr, '@');
	size_t n;

	(void)arg;
	if (!at)
		return 0;
	n = strlen(at + 1);
	return strcmp(at + 1, "example.com") == 0 ||
	       (n > 12 && strcmp(at + 1 + n - 12, ".example.com") == 0);
}

/* copy_list - copy tests/rules/NAME into the scratch folder */
static void copy_list(const char *name)
{
	char src[4200], dst[4200];
	size_t len;
	char *text;

	snprintf(src, sizeof src, "%s/tests/rules/%s", top(), name);
	snprintf(dst, sizeof dst, "%s/%s", fuzz_dir(), name);
	text = read_file(src, 1 << 20, &len);
	if (!text) {
		fprintf(stderr, "fuzz_rules: %s: cannot read (set CRM_TOP)\n", src);
		abort();
	}
	fuzz_put_file(dst, text, len);
	free(text);
}

/* setup - parse the fixtures and place the list files, once per process */
static void setup(void)
{
	static int done;
	char path[4200];

	if (done)
		return;
	done = 1;
	mail_init();
	copy_list("good-domains.txt");
	copy_list("bad-list.txt");
	for (size_t i = 0; i < N_FIXTURES; i++) {
		struct fixture *f = &fixtures[i];
		struct mail_parse_opts opts = { .fallback_date = 1700000000 };

		snprintf(path, sizeof path, "%s/%s", top(), f->file);
		f->raw = read_file(path, 1 << 24, &f->len);
		if (!f->raw || mail_parse(f->raw, f->len, &opts, &f->rec) < 0) {
			fprintf(stderr, "fuzz_rules: %s: cannot read or parse (set CRM_TOP)\n", path);
			abort();
		}
	}
}

/* prov - read a provenance; it must name a file, a line and a rule text */
static unsigned prov(const struct rules_prov *p)
{
	if (!p)
		return 0;
	if (!p->file || !p->text || !p->hash || p->line == 0 || strlen(p->hash) != 16)
		abort();	/* every decision names the rule that made it */
	return fuzz_consume_str(p->file) ^ p->line ^ fuzz_consume_str(p->text) ^
	       fuzz_consume_str(p->hash);
}

/* touch - read every field of decision D */
static unsigned touch(const struct rules_decision *d)
{
	unsigned h = (unsigned)d->direction ^ (unsigned)d->log ^ (unsigned)d->inside ^
		     (unsigned)d->outside;

	if (!d->log_rule || (d->log != RULES_SKIP && !d->visibility_rule))
		abort();	/* the built-in rules close [log] and [visibility] (not run when skipped) */
	h ^= fuzz_consume_str(d->log_reason) ^ prov(d->log_rule);
	h ^= fuzz_consume_str(rules_log_name(d->log)) ^ fuzz_consume_str(rules_inside_name(d->inside));
	h ^= fuzz_consume_str(rules_level_name(d->outside));
	for (size_t i = 0; i < d->n_people; i++) {
		const struct rules_person *p = &d->people[i];
		h ^= fuzz_consume_str(p->addr) ^ (unsigned)p->capture ^ (unsigned)p->trusted;
		h ^= fuzz_consume_str(p->why) ^ prov(p->capture_rule);
		h ^= fuzz_consume_str(p->account) ^ fuzz_consume_str(p->account_name);
		h ^= prov(p->account_rule);
	}
	for (size_t i = 0; i < d->n_deals; i++)
		h ^= fuzz_consume_str(d->deals[i].key) ^ prov(d->deals[i].rule);
	h ^= prov(d->single_open) ^ prov(d->contacts_rule) ^ fuzz_consume_str(d->unassigned);
	h ^= fuzz_consume_str(d->team) ^ fuzz_consume_str(d->visibility_reason);
	h ^= prov(d->visibility_rule);
	if (d->inside == RULES_INSIDE_TEAM && !d->team)
		abort();	/* a team visibility names its team */
	return h;
}

/* eval_one - evaluate R on fixture F in direction DIR */
static unsigned eval_one(struct rules *r, const struct fixture *f, enum rules_direction dir)
{
	struct rules_input in = {
		.rec = f->rec, .headers = f->raw, .headers_len = f->rec->header_len,
		.direction = dir, .rcpts = rcpts, .n_rcpts = sizeof rcpts / sizeof rcpts[0],
		.is_internal = is_internal,
	};
	struct rules_decision d;
	unsigned h;

	if (rules_eval(r, &in, &d) < 0)
		abort();	/* only out of memory fails */
	if (d.rules != r)
		abort();	/* the decision holds the rules that made it */
	h = touch(&d);
	rules_decision_free(&d);
	return h;
}

/* LLVMFuzzerInitialize - see fuzz.h */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setup();
	return 0;
}

/* LLVMFuzzerTestOneInput - see fuzz.h */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[4200], err[8192];
	struct rules *r = NULL;
	unsigned h = 0;
	size_t nteams;

	setup();
	snprintf(path, sizeof path, "%s/fuzz.rules", fuzz_dir());
	fuzz_put_file(path, data, size);
	err[0] = '\0';
	if (rules_load(path, &r, err, sizeof err) < 0) {
		if (r || !err[0])
			abort();	/* a file that does not load says why, and gives no rules */
		fuzz_sink ^= fuzz_consume_str(err);
		return 0;
	}
	h ^= fuzz_consume_str(rules_path(r)) ^ (unsigned)rules_count(r);
	h ^= fuzz_consume_str(rules_policy_name(rules_policy(r)));
	const struct rules_team *teams = rules_teams(r, &nteams);
	for (size_t i = 0; i < nteams; i++) {
		h ^= fuzz_consume_str(teams[i].name);
		for (size_t j = 0; j < teams[i].n_members; j++)
			h ^= fuzz_consume_str(teams[i].members[j]);
	}
	for (size_t i = 0; i < N_FIXTURES; i++)
		h ^= eval_one(r, &fixtures[i], fixtures[i].dir);
	h ^= eval_one(r, &fixtures[0], RULES_INBOUND) ^ eval_one(r, &fixtures[0], RULES_INTERNAL);
	rules_unref(r);
	fuzz_sink ^= h;
	return 0;
}
