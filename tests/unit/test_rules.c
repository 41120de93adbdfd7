/*
 * test_rules.c - unit tests of rules/: every condition, every section, the
 * built-in defaults, first match, provenance, errors and references
 *
 * Messages are small raw texts parsed with mail_parse(); our domain is
 * example.com.  A condition is tested by a first [log] rule
 * 'log "hit" if CONDITION': it holds when the decision's reason is "hit".
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../rules/rules.h"

/* outbound: alice -> dave (subdomain of acme.com), cc erin (acme.co.uk), with a PDF */
static const char m_out[] =
	"From: Alice <alice@example.com>\n"
	"To: Dave <dave@mail.acme.com>\n"
	"Cc: erin@acme.co.uk, info@acme.com\n"
	"Subject: Quote [DEAL-42] for Q3\n"
	"Message-ID: <out1@example.com>\n"
	"Date: Mon, 03 Mar 2025 10:00:00 +0000\n"
	"X-Spam-Flag: NO\n"
	"X-Deal-Id:  D-7 \n"
	"MIME-Version: 1.0\n"
	"Content-Type: multipart/mixed; boundary=b\n"
	"\n"
	"--b\n"
	"Content-Type: text/plain\n"
	"\n"
	"Here is the offer.\n"
	"--b\n"
	"Content-Type: application/pdf; name=\"offer.pdf\"\n"
	"Content-Disposition: attachment; filename=\"offer.pdf\"\n"
	"Content-Transfer-Encoding: base64\n"
	"\n"
	"JVBERi0xLjQK\n"
	"--b--\n";

/* inbound from dave with a trusted A-R (dkim pass for acme.com) and a forged one */
static const char m_in[] =
	"From: Dave <dave@mail.acme.com>\n"
	"To: alice@example.com\n"
	"Subject: Re: Quote\n"
	"Message-ID: <in1@acme.com>\n"
	"Date: Tue, 04 Mar 2025 10:00:00 +0000\n"
	"Authentication-Results: mx.example.com; dkim=pass (good) header.d=acme.com;\n"
	"  spf=fail smtp.mailfrom=x@evil.test; dmarc=none\n"
	"Authentication-Results: forger.test; dmarc=pass\n"
	"Sensitivity: Private\n"
	"\n"
	"Thanks.\n";

/* internal: alice -> bob */
static const char m_int[] =
	"From: alice@example.com\n"
	"To: bob@example.com\n"
	"Subject: Lunch\n"
	"Message-ID: <int1@example.com>\n"
	"Date: Tue, 04 Mar 2025 11:00:00 +0000\n"
	"\n"
	"Noon?\n";

/* internal - our domain is example.com */
static int internal(const char *addr, void *arg)
{
	const char *at = strrchr(addr, '@');

	(void)arg;
	return at && strcmp(at + 1, "example.com") == 0;
}

/* load - rules from TEXT, asserting they load */
static struct rules *load(const char *text)
{
	char err[4096] = "";
	struct rules *r = NULL;

	if (rules_load_text("t.rules", text, &r, err, sizeof err) < 0)
		fail_msg("rules do not load: %s", err);
	return r;
}

/* load_err - the errors of TEXT (which must not load) into ERR */
static void load_err(const char *text, char *err, size_t len)
{
	struct rules *r = NULL;

	assert_int_equal(rules_load_text("t.rules", text, &r, err, len), -1);
	assert_null(r);
}

/* eval - evaluate R on RAW with direction DIR and extra FLAGS; the record is in *rec */
static void eval(struct rules *r, const char *raw, enum rules_direction dir, unsigned flags,
		 struct rules_decision *d, struct mail_record **rec)
{
	struct rules_input in = { 0 };

	assert_int_equal(mail_parse(raw, strlen(raw), NULL, rec), 0);
	(*rec)->flags |= flags;
	in.rec = *rec;
	in.headers = raw;
	in.headers_len = (*rec)->header_len;
	in.direction = dir;
	in.is_internal = internal;
	assert_int_equal(rules_eval(r, &in, d), 0);
}

/* holds - does CONDITION hold for RAW (direction DIR, extra FLAGS)? */
static int holds(const char *defs, const char *cond, const char *raw, enum rules_direction dir,
		 unsigned flags)
{
	char text[2048];
	struct rules_decision d;
	struct mail_record *rec;
	struct rules *r;
	int hit;

	snprintf(text, sizeof text, "%s\n[log]\nlog \"hit\" if %s\n", defs ? defs : "", cond);
	r = load(text);
	eval(r, raw, dir, flags, &d, &rec);
	hit = d.log_reason && strcmp(d.log_reason, "hit") == 0;
	rules_decision_free(&d);
	mail_record_free(rec);
	rules_unref(r);
	return hit;
}

#define OUT RULES_OUTBOUND
#define IN  RULES_INBOUND
#define INT RULES_INTERNAL

static void test_direction_tests(void **state)
{
	(void)state;
	assert_true(holds(NULL, "outbound", m_out, OUT, 0));
	assert_false(holds(NULL, "outbound", m_in, IN, 0));
	assert_true(holds(NULL, "inbound", m_in, IN, 0));
	assert_true(holds(NULL, "internal", m_int, INT, 0));
	assert_false(holds(NULL, "internal", m_out, OUT, 0));
}

static void test_flag_tests(void **state)
{
	(void)state;
	assert_true(holds(NULL, "bounce", m_in, IN, MAIL_BOUNCE));
	assert_false(holds(NULL, "bounce", m_in, IN, MAIL_BULK));
	assert_true(holds(NULL, "auto-reply", m_in, IN, MAIL_AUTOREPLY));
	assert_false(holds(NULL, "auto-reply", m_in, IN, 0));
	assert_true(holds(NULL, "bulk", m_in, IN, MAIL_BULK));
	assert_false(holds(NULL, "bulk", m_in, IN, MAIL_BOUNCE));
}

static void test_address_tests(void **state)
{
	(void)state;
	assert_true(holds(NULL, "from alice@example.com", m_out, OUT, 0));
	assert_true(holds(NULL, "from ALICE@Example.com", m_out, OUT, 0));
	assert_false(holds(NULL, "from dave@mail.acme.com", m_out, OUT, 0));
	assert_true(holds(NULL, "to acme.com", m_out, OUT, 0));            /* subdomain */
	assert_true(holds(NULL, "to @acme.com", m_out, OUT, 0));
	assert_false(holds(NULL, "to acme.co.uk", m_out, OUT, 0));         /* that one is cc */
	assert_true(holds(NULL, "cc acme.co.uk", m_out, OUT, 0));
	assert_false(holds(NULL, "bcc acme.co.uk", m_out, OUT, 0));
	assert_true(holds(NULL, "participant /^erin@/", m_out, OUT, 0));
	assert_true(holds(NULL, "participant nobody@x.org erin@acme.co.uk", m_out, OUT, 0));
	assert_true(holds(NULL, "external", m_out, OUT, 0));
	assert_false(holds(NULL, "external", m_int, INT, 0));
	assert_false(holds(NULL, "external example.com", m_out, OUT, 0));
	assert_true(holds(NULL, "mailbox alice@example.com", m_out, OUT, 0));
	assert_false(holds(NULL, "mailbox acme.com", m_out, OUT, 0));
	assert_true(holds("list roles = /^(info|sales)@/", "external @roles", m_out, OUT, 0));
	assert_false(holds("list roles = /^(info|sales)@/", "from @roles", m_out, OUT, 0));
	assert_true(holds("team sales = bob@example.com alice@example.com", "mailbox @team:sales",
			  m_out, OUT, 0));
	assert_false(holds("team sales = bob@example.com", "mailbox @team:sales", m_out, OUT, 0));
	assert_true(holds(NULL, "to @automated", m_out, OUT, 0) == 0);
}

static void test_file_list(void **state)
{
	char path[] = "/tmp/test_rules_list.XXXXXX", text[256];
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_true(write(fd, "# domains\nfoo.test\n@acme.co.uk\n/^nomatch$/\n", 43) == 43);
	close(fd);
	snprintf(text, sizeof text, "list free = @%s", path);
	assert_true(holds(text, "cc @free", m_out, OUT, 0));
	snprintf(text, sizeof text, "participant @%s", path);
	assert_true(holds(NULL, text, m_out, OUT, 0));
	assert_false(holds(NULL, text, m_int, INT, 0));
	unlink(path);
}

static void test_text_tests(void **state)
{
	(void)state;
	assert_true(holds(NULL, "subject \"[deal-42]\"", m_out, OUT, 0));  /* case-insensitive */
	assert_true(holds(NULL, "subject /DEAL-\\d+/", m_out, OUT, 0));
	assert_false(holds(NULL, "subject /deal-\\d+/", m_out, OUT, 0));  /* no i flag */
	assert_true(holds(NULL, "subject /deal-\\d+/i", m_out, OUT, 0));
	assert_true(holds(NULL, "header X-Spam-Flag /^no$/i", m_out, OUT, 0));
	assert_false(holds(NULL, "header X-Spam-Flag /^yes/i", m_out, OUT, 0));
	assert_true(holds(NULL, "header x-deal-id", m_out, OUT, 0));       /* present */
	assert_false(holds(NULL, "header X-Other", m_out, OUT, 0));
	assert_true(holds(NULL, "header Authentication-Results forger", m_in, IN, 0)); /* 2nd one */
	assert_true(holds(NULL, "header Authentication-Results /spf=fail/", m_in, IN, 0)); /* unfolded */
	assert_true(holds(NULL, "attachment offer.pdf", m_out, OUT, 0));
	assert_true(holds(NULL, "attachment /\\.pdf$/", m_out, OUT, 0));
	assert_true(holds(NULL, "attachment", m_out, OUT, 0));
	assert_false(holds(NULL, "attachment", m_in, IN, 0));
	assert_true(holds(NULL, "attachment-type application/pdf", m_out, OUT, 0));
	assert_false(holds(NULL, "attachment-type image/", m_out, OUT, 0));
}

static void test_size(void **state)
{
	(void)state;
	assert_true(holds(NULL, "size > 100", m_out, OUT, 0));
	assert_true(holds(NULL, "size <1k", m_out, OUT, 0));
	assert_false(holds(NULL, "size > 10M", m_out, OUT, 0));
	assert_true(holds(NULL, "size >= 1", m_out, OUT, 0));
	assert_false(holds(NULL, "size <= 10", m_out, OUT, 0));
}

static void test_auth(void **state)
{
	(void)state;
	/* nothing is trusted without "trust authserv" */
	assert_false(holds(NULL, "auth dkim=pass", m_in, IN, 0));
	assert_true(holds("trust authserv mx.example.com", "auth dkim=pass", m_in, IN, 0));
	assert_true(holds("trust authserv mx.example.com", "auth spf=fail", m_in, IN, 0));
	assert_false(holds("trust authserv mx.example.com", "auth dmarc=pass", m_in, IN, 0));
	assert_true(holds("trust authserv forger.test", "auth dmarc=pass", m_in, IN, 0));
	/* dkim passed for acme.com, From is mail.acme.com: aligned */
	assert_true(holds("trust authserv mx.example.com", "auth aligned", m_in, IN, 0));
	assert_false(holds(NULL, "auth aligned", m_in, IN, 0));
}

static void test_not_and(void **state)
{
	(void)state;
	assert_true(holds(NULL, "not inbound", m_out, OUT, 0));
	assert_false(holds(NULL, "not outbound", m_out, OUT, 0));
	assert_true(holds(NULL, "outbound and to acme.com and not bulk", m_out, OUT, 0));
	assert_false(holds(NULL, "outbound and to acme.com and bulk", m_out, OUT, 0));
}

/* ---- sections ---- */

static void test_builtin_log(void **state)
{
	struct rules *r = load("");
	struct rules_decision d;
	struct mail_record *rec;

	(void)state;
	eval(r, m_out, OUT, 0, &d, &rec);
	assert_int_equal(d.log, RULES_LOG);
	assert_string_equal(d.log_reason, "conversation");
	assert_string_equal(d.log_rule->file, RULES_BUILTIN_FILE);
	assert_string_equal(d.log_rule->text, "log \"conversation\"");
	assert_int_equal(strlen(d.log_rule->hash), 16);
	rules_decision_free(&d);
	mail_record_free(rec);
	eval(r, m_int, INT, 0, &d, &rec);
	assert_int_equal(d.log, RULES_SKIP);
	assert_string_equal(d.log_reason, "internal only");
	assert_int_equal(d.n_people, 0);
	rules_decision_free(&d);
	mail_record_free(rec);
	const unsigned flags[] = { MAIL_BULK, MAIL_AUTOREPLY, MAIL_BOUNCE };
	const char *why[] = { "mailing list", "auto-submitted", "bounce" };
	for (int i = 0; i < 3; i++) {
		eval(r, m_in, IN, flags[i], &d, &rec);
		assert_int_equal(d.log, RULES_SKIP);
		assert_string_equal(d.log_reason, why[i]);
		rules_decision_free(&d);
		mail_record_free(rec);
	}
	/* Sensitivity: Private marks private; visibility follows */
	eval(r, m_in, IN, 0, &d, &rec);
	assert_int_equal(d.log, RULES_PRIVATE);
	assert_int_equal(d.inside, RULES_INSIDE_PARTICIPANTS);
	assert_int_equal(d.outside, RULES_SEE_NOTHING);
	assert_ptr_equal(d.visibility_rule, d.log_rule);
	rules_decision_free(&d);
	mail_record_free(rec);
	rules_unref(r);
}

/* lint_count - rules_lint's count for TEXT against example.com and KEYS */
static int lint_count(const char *text, const char *const *keys, size_t n_keys)
{
	static const char *const own[] = { "example.com" };
	struct rules_lint_ctx ctx = { own, 1, keys, n_keys };
	struct rules *r = load(text);
	char *w = NULL;
	int n = rules_lint(r, &ctx, &w);

	if (n > 0)
		assert_non_null(w);
	free(w);
	rules_unref(r);
	return n;
}

/* the deal check reads a pattern's first capture: escapes, classes and
 * non-capturing groups do not fool it */
static void test_lint_deal_capture(void **state)
{
	static const char *const keys[] = { "101", "DEAL-7" };

	(void)state;
	assert_int_equal(lint_count("[associate]\ndeal subject /\\[(DEAL-\\d+)\\]/\n", keys + 0, 1), 1);
	assert_int_equal(lint_count("[associate]\ndeal subject /\\[(DEAL-\\d+)\\]/\n", keys, 2), 0);
	assert_int_equal(lint_count("[associate]\ndeal subject /(?:re: )?\\[DEAL-(\\d+)\\]/\n", keys, 1), 0);
	assert_int_equal(lint_count("[associate]\ndeal subject /[(]x[)](\\d+)/\n", keys, 1), 0);
	assert_int_equal(lint_count("[associate]\ndeal subject /\\(([a-z]+)\\)/\n", keys, 1), 1);
	assert_int_equal(lint_count("[associate]\ndeal subject /#\\d+/\n", keys, 1), 1);
	assert_int_equal(lint_count("[associate]\ndeal subject /deal-\\d+/i\n", keys + 1, 1), 0);
	/* a near miss of an own domain, and an own subdomain */
	assert_int_equal(lint_count("[log]\nskip \"x\" if from @exampel.com\n", NULL, 0), 1);
	assert_int_equal(lint_count("[log]\nskip \"x\" if from @eu.example.com\n", NULL, 0), 0);
}

static void test_first_match_and_file_rules(void **state)
{
	struct rules *r = load("# ours\n[log]\nlog \"internal too\" if internal\n"
			       "skip \"never reached\" if internal\n");
	struct rules_decision d;
	struct mail_record *rec;

	(void)state;
	assert_int_equal(rules_count(r), 2);
	/* sha256sum of the text, as the log and crmctl status show it */
	assert_string_equal(rules_sha256(r),
			    "0166bcbd2d069f1aadfe988e1ecc53f74e7b28850f25275719f55c92e3edfd0d");
	eval(r, m_int, INT, 0, &d, &rec);
	assert_int_equal(d.log, RULES_LOG);
	assert_string_equal(d.log_reason, "internal too");
	assert_string_equal(d.log_rule->file, "t.rules");
	assert_int_equal(d.log_rule->line, 3);
	assert_string_equal(d.log_rule->text, "log \"internal too\" if internal");
	rules_decision_free(&d);
	mail_record_free(rec);
	rules_unref(r);
}

/* person_of - the decision about ADDR */
static const struct rules_person *person_of(const struct rules_decision *d, const char *addr)
{
	for (size_t i = 0; i < d->n_people; i++)
		if (strcmp(d->people[i].addr, addr) == 0)
			return &d->people[i];
	fail_msg("no participant %s", addr);
	return NULL;
}

static void test_capture(void **state)
{
	struct rules *r = load("[capture]\nalways ceo@acme.co.uk erin@acme.co.uk\nnever mail.acme.com\n");
	struct rules_decision d;
	struct mail_record *rec;

	(void)state;
	eval(r, m_out, OUT, 0, &d, &rec);
	assert_int_equal(d.n_people, 3);
	assert_false(person_of(&d, "dave@mail.acme.com")->capture);         /* never */
	assert_int_equal(person_of(&d, "dave@mail.acme.com")->capture_rule->line, 3);
	assert_true(person_of(&d, "erin@acme.co.uk")->capture);             /* always */
	assert_false(person_of(&d, "info@acme.com")->capture == 0);         /* policy sent */
	rules_decision_free(&d);
	mail_record_free(rec);
	eval(r, m_in, IN, 0, &d, &rec);
	assert_false(person_of(&d, "dave@mail.acme.com")->capture);
	rules_decision_free(&d);
	mail_record_free(rec);
	rules_unref(r);
	/* policy none and sent-and-received; @automated from the built-in rules */
	r = load("[capture]\npolicy sent-and-received\n");
	eval(r, m_in, IN, 0, &d, &rec);
	assert_true(person_of(&d, "dave@mail.acme.com")->capture);
	rules_decision_free(&d);
	mail_record_free(rec);
	rules_unref(r);
	r = load("[capture]\npolicy none\n");
	eval(r, m_out, OUT, 0, &d, &rec);
	assert_false(person_of(&d, "erin@acme.co.uk")->capture);
	assert_string_equal(person_of(&d, "erin@acme.co.uk")->capture_rule->text, "policy none");
	rules_decision_free(&d);
	mail_record_free(rec);
	eval(r, m_out, OUT, MAIL_BULK, &d, &rec);
	assert_int_equal(d.log, RULES_SKIP);
	rules_decision_free(&d);
	mail_record_free(rec);
	rules_unref(r);
}

static void test_require_auth(void **state)
{
	struct rules *r = load("trust authserv mx.example.com\n[capture]\npolicy sent-and-received\n"
			       "require-auth dmarc\n");
	struct rules_decision d;
	struct mail_record *rec;

	(void)state;
	eval(r, m_in, IN, 0, &d, &rec);   /* dmarc=none: spoofed as far as we know */
	assert_false(person_of(&d, "dave@mail.acme.com")->capture);
	assert_false(person_of(&d, "dave@mail.acme.com")->trusted);
	assert_non_null(d.unassigned);
	rules_decision_free(&d);
	mail_record_free(rec);
	rules_unref(r);
	r = load("trust authserv mx.example.com\n[capture]\npolicy sent-and-received\n"
		 "require-auth aligned\n");
	eval(r, m_in, IN, 0, &d, &rec);   /* aligned dkim */
	assert_true(person_of(&d, "dave@mail.acme.com")->capture);
	assert_true(person_of(&d, "dave@mail.acme.com")->trusted);
	rules_decision_free(&d);
	mail_record_free(rec);
	rules_unref(r);
}

static void test_associate(void **state)
{
	struct rules *r = load("[associate]\naccount \"Acme Corp\" = acme.com acme.co.uk\n"
			       "deal header X-Nothing\ndeal subject /\\[(DEAL-\\d+)\\]/\n"
			       "deal header X-Deal-Id\n");
	struct rules_decision d;
	struct mail_record *rec;
	const struct rules_person *p;

	(void)state;
	eval(r, m_out, OUT, 0, &d, &rec);
	p = person_of(&d, "dave@mail.acme.com");
	assert_string_equal(p->account, "acme.com");
	assert_string_equal(p->account_name, "Acme Corp");
	assert_int_equal(p->account_rule->line, 2);
	assert_string_equal(person_of(&d, "erin@acme.co.uk")->account, "acme.com");
	assert_int_equal(d.n_deals, 1);
	assert_string_equal(d.deals[0].key, "DEAL-42");
	assert_int_equal(d.deals[0].rule->line, 4);
	assert_string_equal(d.contacts_rule->text, "contacts");
	assert_null(d.unassigned);
	rules_decision_free(&d);
	mail_record_free(rec);
	rules_unref(r);
	r = load("[associate]\ndeal header X-Deal-Id\ndeal single-open\n");
	eval(r, m_out, OUT, 0, &d, &rec);
	assert_string_equal(d.deals[0].key, "D-7");                     /* trimmed */
	assert_string_equal(person_of(&d, "erin@acme.co.uk")->account, "acme.co.uk"); /* auto */
	rules_decision_free(&d);
	mail_record_free(rec);
	eval(r, m_in, IN, 0, &d, &rec);
	assert_int_equal(d.n_deals, 0);
	assert_non_null(d.single_open);
	rules_decision_free(&d);
	mail_record_free(rec);
	rules_unref(r);
}

static void test_visibility(void **state)
{
	struct rules *r = load("team sales = alice@example.com\n[visibility]\n"
			       "private \"hr\" if participant hr@example.com\n"
			       "team sales subject if mailbox @team:sales\n");
	struct rules_decision d;
	struct mail_record *rec;

	(void)state;
	eval(r, m_out, OUT, 0, &d, &rec);
	assert_int_equal(d.inside, RULES_INSIDE_TEAM);
	assert_string_equal(d.team, "sales");
	assert_int_equal(d.outside, RULES_SEE_SUBJECT);
	assert_int_equal(d.visibility_rule->line, 4);
	rules_decision_free(&d);
	mail_record_free(rec);
	rules_unref(r);
	r = load("[log]\nlog if inbound\n[visibility]\nparticipants metadata if marked-private\n");
	eval(r, m_in, IN, 0, &d, &rec);      /* the file's log rule wins: not private */
	assert_int_equal(d.log, RULES_LOG);
	assert_int_equal(d.inside, RULES_INSIDE_WORKSPACE);
	assert_int_equal(d.outside, RULES_SEE_EVERYTHING);
	assert_string_equal(d.visibility_rule->file, RULES_BUILTIN_FILE);
	rules_decision_free(&d);
	mail_record_free(rec);
	rules_unref(r);
}

/* inbound from an outsider naming a sales colleague only in Sender and Reply-To */
static const char m_in_named[] =
	"From: Paula <paula@payroll-partner.de>\n"
	"Sender: alice@example.com\n"
	"Reply-To: alice@example.com\n"
	"To: hr@example.com\n"
	"Subject: Re: Salary review\n"
	"Message-ID: <named1@payroll-partner.de>\n"
	"Date: Tue, 04 Mar 2025 10:00:00 +0000\n"
	"\n"
	"Hello.\n";

/*
 * in [visibility] only the delivery roles are participants: Sender and
 * Reply-To, which an outside sender writes, choose nobody's team (elsewhere
 * they still count)
 */
static void test_visibility_delivery_roles(void **state)
{
	struct rules *r = load("team sales = alice@example.com\n[visibility]\n"
			       "workspace if mailbox @team:sales\n"
			       "workspace if participant alice@example.com\n"
			       "private \"others\"\n");
	struct rules_decision d;
	struct mail_record *rec;

	(void)state;
	eval(r, m_in_named, IN, 0, &d, &rec);
	assert_int_equal(d.inside, RULES_INSIDE_PARTICIPANTS);
	assert_int_equal(d.outside, RULES_SEE_NOTHING);
	assert_int_equal(d.visibility_rule->line, 5);
	rules_decision_free(&d);
	mail_record_free(rec);
	rules_unref(r);
	/* the same tests in [log] still see Sender and Reply-To */
	assert_true(holds(NULL, "participant alice@example.com", m_in_named, IN, 0));
	assert_true(holds("team sales = alice@example.com", "mailbox @team:sales", m_in_named, IN, 0));
}

static void test_errors(void **state)
{
	char err[4096];

	(void)state;
	load_err("[log]\nskip if subject /a(/\nfrob\n[nope]\n", err, sizeof err);
	assert_string_equal(err,
		"t.rules:2:20: bad regex /a(/: missing closing parenthesis at offset 2\n"
		"t.rules:3:1: unknown rule 'frob' in [log]: expected log, skip, private\n"
		"t.rules:4:1: unknown section [nope]: use [log], [capture], [associate] or [visibility]");
	load_err("log\n", err, sizeof err);
	assert_string_equal(err, "t.rules:1:1: 'log' outside a section: start one with [log],"
			    " [capture], [associate] or [visibility]");
	load_err("[log]\nlog if marked-private\n", err, sizeof err);
	assert_string_equal(err, "t.rules:2:8: marked-private is decided by [log]: use it in a later section");
}

static void test_refs(void **state)
{
	struct rules *r = load("");
	struct rules_decision d;
	struct mail_record *rec;

	(void)state;
	eval(r, m_out, OUT, 0, &d, &rec);
	rules_unref(r);                   /* the decision still holds the rules */
	assert_string_equal(d.log_rule->text, "log \"conversation\"");
	rules_decision_free(&d);
	mail_record_free(rec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_direction_tests),
		cmocka_unit_test(test_flag_tests),
		cmocka_unit_test(test_address_tests),
		cmocka_unit_test(test_file_list),
		cmocka_unit_test(test_text_tests),
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_auth),
		cmocka_unit_test(test_not_and),
		cmocka_unit_test(test_builtin_log),
		cmocka_unit_test(test_first_match_and_file_rules),
		cmocka_unit_test(test_lint_deal_capture),
		cmocka_unit_test(test_capture),
		cmocka_unit_test(test_require_auth),
		cmocka_unit_test(test_associate),
		cmocka_unit_test(test_visibility),
		cmocka_unit_test(test_visibility_delivery_roles),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_refs),
	};

	mail_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
