/*
 * cmd_rules.c - crmctl rules check | explain | apply
 *
 *   rules check [--strict] [FILE]  validate a rules file (default: RulesFile);
 *                             every error as FILE:LINE:COL: message, then
 *                             rules_lint()'s warnings (errors with --strict)
 *   rules explain [-r FILE] [--direction in|out] [--json] MESSAGE...
 *                             a dry run: every decision for each message
 *                             and the rule (file:line, text) that made it;
 *                             with the store at hand, a message whose
 *                             internal participants are all disconnected
 *                             mailboxes is skipped "disconnected mailbox"
 *   rules apply [--since DATE] [--dry-run] [--json]
 *                             re-evaluate stored mail from its raw source
 *                             and report every decision that changed
 */
#include <getopt.h>
#include <inttypes.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "../ingest/ingest.h"

#define EXPLAIN_MAX_MESSAGE (256u * 1024 * 1024)

/*
 * print_warnings - the lint warnings of R on stderr (against the Domains and,
 * when the store exists, its deals); returns how many, -1 without memory
 */
static int print_warnings(struct cli *cli, const struct rules *r)
{
	struct store *st = cli->conf.database && access(cli->conf.database, F_OK) == 0
				   ? cli_open_store(cli, 1) : NULL;
	char *w = NULL;
	int n = ingest_rules_lint(&cli->conf, r, st, &w);

	store_close(st);
	if (w)
		fprintf(stderr, "%s\n", w);
	free(w);
	return n;
}

/* rules_check - crmctl rules check [--strict] [FILE] */
static int rules_check(struct cli *cli, int argc, char **argv)
{
	int strict = argc > 1 && strcmp(argv[1], "--strict") == 0;
	const char *path = argc > 1 + strict ? argv[1 + strict] : NULL;
	char err[65536];
	struct rules *r;
	int warned;

	if (argc > 2 + strict || (path && path[0] == '-' && path[1])) {
		fprintf(stderr, "usage: crmctl rules check [--strict] [FILE]\n");
		return CLI_USAGE;
	}
	if ((path ? rules_load(path, &r, err, sizeof err)
		  : ingest_load_rules(&cli->conf, &r, err, sizeof err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return CLI_PARTIAL;
	}
	warned = print_warnings(cli, r);
	if (rules_path(r))
		printf("%s: ok, %zu rules, sha256 %s%s\n", rules_path(r), rules_count(r),
		       rules_sha256(r), warned > 0 ? strict ? ": warnings are errors (--strict)"
							 : ", with warnings" : "");
	else
		printf("%s: absent: the built-in rules are in force (RulesFile is not set)\n",
		       cli->conf.rules);
	rules_unref(r);
	if (warned < 0) {
		cli_error("out of memory");
		return CLI_PARTIAL;
	}
	if (warned > 0 && strict)
		return CLI_PARTIAL;
	return CLI_OK;
}

/* prov_json - {"file", "line", "text", "hash"} or null */
static json_t *prov_json(const struct rules_prov *p)
{
	if (!p)
		return json_null();
	return json_pack("{s:s, s:i, s:s, s:s}", "file", p->file, "line", (int)p->line, "text",
			 p->text, "hash", p->hash);
}

/* opt_str - a json string, or null */
static json_t *opt_str(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* person_json - one participant's decisions */
static json_t *person_json(const struct rules_person *p)
{
	json_t *o = json_object();

	json_object_set_new(o, "address", json_string(p->addr));
	json_object_set_new(o, "capture", json_boolean(p->capture));
	json_object_set_new(o, "trusted", json_boolean(p->trusted));
	json_object_set_new(o, "why", opt_str(p->why));
	json_object_set_new(o, "rule", prov_json(p->capture_rule));
	json_object_set_new(o, "account", opt_str(p->account));
	json_object_set_new(o, "account_name", opt_str(p->account_name));
	json_object_set_new(o, "account_rule", prov_json(p->account_rule));
	return o;
}

/* explain_json - every decision of E as one object */
static json_t *explain_json(const char *file, const struct ingest_eval *e)
{
	const struct rules_decision *d = &e->dec;
	json_t *o = json_object(), *people = json_array(), *deals = json_array();

	json_object_set_new(o, "file", json_string(file));
	json_object_set_new(o, "message_id", json_string(e->rec->message_id));
	json_object_set_new(o, "direction", json_string(rules_direction_name(d->direction)));
	json_object_set_new(o, "log", json_pack("{s:s, s:o, s:o}", "decision", rules_log_name(d->log),
						"reason", opt_str(d->log_reason), "rule",
						prov_json(d->log_rule)));
	for (size_t i = 0; i < d->n_people; i++)
		json_array_append_new(people, person_json(&d->people[i]));
	json_object_set_new(o, "people", people);
	for (size_t i = 0; i < d->n_deals; i++)
		json_array_append_new(deals, json_pack("{s:s, s:o}", "key", d->deals[i].key, "rule",
						       prov_json(d->deals[i].rule)));
	json_object_set_new(o, "deals", deals);
	json_object_set_new(o, "single_open", prov_json(d->single_open));
	json_object_set_new(o, "contacts_rule", prov_json(d->contacts_rule));
	json_object_set_new(o, "unassigned", opt_str(d->unassigned));
	if (d->log != RULES_SKIP)
		json_object_set_new(o, "visibility",
				    json_pack("{s:s, s:o, s:s, s:o, s:o}", "inside",
					      rules_inside_name(d->inside), "team", opt_str(d->team),
					      "outside", rules_level_name(d->outside), "reason",
					      opt_str(d->visibility_reason), "rule",
					      prov_json(d->visibility_rule)));
	else
		json_object_set_new(o, "visibility", json_null());
	return o;
}

/* by - "  [FILE:LINE] TEXT" of a rule */
static void by(const struct rules_prov *p)
{
	if (p)
		printf("  [%s:%u] %s", p->file, p->line, p->text);
	putchar('\n');
}

/* explain_people - the capture and account lines */
static void explain_people(const struct rules_decision *d)
{
	for (size_t i = 0; i < d->n_people; i++) {
		const struct rules_person *p = &d->people[i];

		printf("capture     %s: %s (%s)", p->addr, p->capture ? "captured" : "not captured",
		       p->why ? p->why : "");
		by(p->capture_rule);
		printf("account     %s: %s%s%s%s", p->addr, p->account ? p->account : "none",
		       p->account_name ? " \"" : "", p->account_name ? p->account_name : "",
		       p->account_name ? "\"" : "");
		by(p->account_rule);
	}
}

/* explain_text - every decision of E, one line each */
static void explain_text(const char *file, const struct ingest_eval *e)
{
	const struct rules_decision *d = &e->dec;

	printf("message     %s <%s>\n", file, e->rec->message_id);
	printf("direction   %s\n", rules_direction_name(d->direction));
	printf("log         %s%s%s%s", rules_log_name(d->log), d->log_reason ? " \"" : "",
	       d->log_reason ? d->log_reason : "", d->log_reason ? "\"" : "");
	by(d->log_rule);
	if (d->log == RULES_SKIP)
		return;
	explain_people(d);
	for (size_t i = 0; i < d->n_deals; i++) {
		printf("deal        %s", d->deals[i].key);
		by(d->deals[i].rule);
	}
	if (d->single_open) {
		printf("deal        the one open deal of a contact, if exactly one");
		by(d->single_open);
	}
	if (d->contacts_rule && d->n_people) {
		printf("link        the thread's contacts and their accounts");
		by(d->contacts_rule);
	}
	if (d->unassigned)
		printf("unassigned  %s\n", d->unassigned);
	printf("visibility  inside %s%s%s, others see %s%s%s%s", rules_inside_name(d->inside),
	       d->team ? " " : "", d->team ? d->team : "", rules_level_name(d->outside),
	       d->visibility_reason ? " (" : "", d->visibility_reason ? d->visibility_reason : "",
	       d->visibility_reason ? ")" : "");
	by(d->visibility_rule);
}

/*
 * explain_mailboxes - what the store adds to the rules (crmctl disconnect):
 * a message whose internal participants are all disconnected mailboxes is
 * skipped.  ST NULL (no store yet): nothing added.
 */
static void explain_mailboxes(struct store *st, const char *file, struct ingest_eval *e)
{
	char err[512];
	int d;

	if (!st || e->dec.log == RULES_SKIP)
		return;
	d = store_mailbox_disconnected_only(st, e->rec, NULL, err, sizeof err);
	if (d < 0)
		cli_error("%s: %s (disconnected mailboxes not checked)", file, err);
	if (d > 0) {
		e->dec.log = RULES_SKIP;
		e->dec.log_reason = STORE_DISCONNECTED_REASON;
		e->dec.log_rule = NULL;
	}
}

/* explain_one - evaluate one message file and print its decisions */
static int explain_one(struct cli *cli, struct rules *r, struct store *st, const char *file,
		       int originated, int json, json_t *all)
{
	char err[1024];
	struct ingest_eval e;
	size_t len;
	char *raw = read_file(file, EXPLAIN_MAX_MESSAGE, &len);

	if (!raw) {
		cli_error("%s: %s", file, read_file_error(errno));
		return CLI_PARTIAL;
	}
	if (ingest_evaluate(&cli->conf, r, raw, len, originated, &e, err, sizeof err) < 0) {
		cli_error("%s: %s", file, err);
		free(raw);
		return CLI_PARTIAL;
	}
	explain_mailboxes(st, file, &e);
	if (json)
		json_array_append_new(all, explain_json(file, &e));
	else
		explain_text(file, &e);
	ingest_eval_free(&e);
	free(raw);
	return CLI_OK;
}

/* rules_explain - crmctl rules explain [-r FILE] [--direction in|out] [--json] MESSAGE... */
static int rules_explain(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "direction", required_argument, NULL, 'd' },
		{ "rules", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *usage = "usage: crmctl rules explain [-r RULES] [--direction in|out] [--json]"
			    " MESSAGE...\n";
	const char *file = NULL;
	int ch, json = 0, originated = -1, status = CLI_OK;
	char err[65536];
	struct store *st;
	struct rules *r;
	json_t *all;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "d:r:jh", opts, NULL)) != -1) {
		if (ch == 'd' && (strcmp(optarg, "in") == 0 || strcmp(optarg, "out") == 0))
			originated = strcmp(optarg, "out") == 0;
		else if (ch == 'r')
			file = optarg;
		else if (ch == 'j')
			json = 1;
		else {
			fputs(usage, ch == 'h' ? stdout : stderr);
			return ch == 'h' ? CLI_OK : CLI_USAGE;
		}
	}
	if (optind >= argc) {
		fputs(usage, stderr);
		return CLI_USAGE;
	}
	if (cli_need_domains(cli, "crmctl rules explain") < 0)
		return CLI_USAGE;
	mail_init();
	if (cli->conf.freemail && mail_freemail_load(cli->conf.freemail, err, sizeof err) < 0)
		cli_error("%s (free-mail domains unknown)", err);
	if ((file ? rules_load(file, &r, err, sizeof err) : ingest_load_rules(&cli->conf, &r, err,
									      sizeof err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return CLI_USAGE;
	}
	/* the disconnected mailboxes, when there is a store to ask */
	st = cli->conf.database && access(cli->conf.database, F_OK) == 0 ? cli_open_store(cli, 1)
									 : NULL;
	all = json_array();
	for (int i = optind; i < argc; i++) {
		if (i > optind && !json)
			putchar('\n');
		if (explain_one(cli, r, st, argv[i], originated, json, all) != CLI_OK)
			status = CLI_PARTIAL;
	}
	if (json)
		cli_print_json(json_array_size(all) == 1 ? json_incref(json_array_get(all, 0)) : json_incref(all));
	json_decref(all);
	store_close(st);
	rules_unref(r);
	return status;
}

/* apply_text - the changed decisions, then a summary line */
static void apply_text(json_t *v, int dry_run)
{
	json_t *rem = json_object_get(v, "removed"), *add = json_object_get(v, "added"), *l;
	size_t i;

	json_array_foreach(rem, i, l)
		printf("- %s\n", json_string_value(l));
	json_array_foreach(add, i, l)
		printf("+ %s\n", json_string_value(l));
	printf("%s%lld messages evaluated, %zu decisions removed, %zu added%s\n",
	       dry_run ? "dry run: " : "", (long long)json_integer_value(json_object_get(v, "evaluated")),
	       json_array_size(rem), json_array_size(add), dry_run ? "; nothing changed" : "");
}

/* rules_apply - crmctl rules apply [--since DATE] [--dry-run] [--json] */
static int rules_apply(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "since", required_argument, NULL, 's' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *usage = "usage: crmctl rules apply [--since YYYY-MM-DD] [--dry-run] [--json]\n";
	int ch, dry = 0, json = 0, rc;
	int64_t since = 0;
	char err[65536];
	struct ingest *in;
	json_t *changes;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "s:njh", opts, NULL)) != -1) {
		if (ch == 's' && parse_date(optarg, &since) == 0)
			continue;
		if (ch == 'n' || ch == 'j') {
			*(ch == 'n' ? &dry : &json) = 1;
			continue;
		}
		fputs(usage, ch == 'h' ? stdout : stderr);
		return ch == 'h' ? CLI_OK : CLI_USAGE;
	}
	if (optind < argc) {
		fputs(usage, stderr);
		return CLI_USAGE;
	}
	if (cli_need_domains(cli, "crmctl rules apply") < 0)
		return CLI_USAGE;
	rc = ingest_open(&cli->conf, NULL, NULL, &in, err, sizeof err);
	if (rc != STORE_OK) {
		fprintf(stderr, "%s\n", err);
		return rc == STORE_EINVAL ? CLI_USAGE : CLI_STORE;
	}
	rc = ingest_apply(in, since, dry, &changes, err, sizeof err);
	ingest_close(in);
	if (rc != STORE_OK) {
		cli_error("%s", err);
		return CLI_STORE;
	}
	if (json)
		cli_print_json(changes);
	else {
		apply_text(changes, dry);
		json_decref(changes);
	}
	return CLI_OK;
}

/* cmd_rules - crmctl rules check|explain|apply ... */
int cmd_rules(struct cli *cli, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "check") == 0)
		return rules_check(cli, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "explain") == 0)
		return rules_explain(cli, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "apply") == 0)
		return rules_apply(cli, argc - 1, argv + 1);
	fprintf(argc >= 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr,
		"usage: crmctl rules check [--strict] [FILE]\n"
		"       crmctl rules explain [-r RULES] [--direction in|out] [--json] MESSAGE...\n"
		"       crmctl rules apply [--since YYYY-MM-DD] [--dry-run] [--json]\n"
		"see crmilter-rules(5)\n");
	return argc >= 2 && strcmp(argv[1], "--help") == 0 ? CLI_OK : CLI_USAGE;
}
