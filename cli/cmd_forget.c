/*
 * cmd_forget.c - crmctl forget, purge, hold, release, holds: erasure,
 * retention and legal holds
 *
 *   crmctl forget [--dry-run] [--json] ADDRESS|@DOMAIN
 *   crmctl purge [--dry-run] [--as-of DATE] [--force] [--json]
 *   crmctl hold THREAD_ID|ACCOUNT_DOMAIN
 *   crmctl release THREAD_ID|ACCOUNT_DOMAIN
 *   crmctl holds [--json]
 *
 * forget erases a person or a company (storage/forget.c); purge deletes
 * the mail older than Retention (storage/purge.c), which crmilter also
 * does once a day; --as-of computes the cutoff from DATE instead of now
 * (what a later purge will take).  A dry run prints what would go and
 * changes nothing.  Every change is audited with who made it: the Unix
 * user, and SUDO_USER when set ("alice (sudo root)").
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

/*
 * forget_usage - the synopsis of command NAME: on stdout when HELP was
 * asked for (returns CLI_OK), else on stderr (returns CLI_USAGE)
 */
static int forget_usage(const char *name, int help)
{
	FILE *f = help ? stdout : stderr;

	if (strcmp(name, "forget") == 0)
		fprintf(f, "usage: crmctl forget [--dry-run] [--json] ADDRESS|@DOMAIN\n");
	else if (strcmp(name, "purge") == 0)
		fprintf(f, "usage: crmctl purge [--dry-run] [--as-of DATE] [--force] [--json]\n");
	else if (strcmp(name, "holds") == 0)
		fprintf(f, "usage: crmctl holds [--json]\n");
	else
		fprintf(f, "usage: crmctl %s THREAD_ID|ACCOUNT_DOMAIN\n", name);
	return help ? CLI_OK : CLI_USAGE;
}

/*
 * options - --dry-run, --json and (purge) --as-of DATE and --force; optind
 * past them; 0, 1 for --help, or -1
 */
static int options(int argc, char **argv, int *dry_run, int *json, const char **as_of, int *force)
{
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "as-of", required_argument, NULL, 'a' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'n' && dry_run)
			*dry_run = 1;
		else if (c == 'j' && json)
			*json = 1;
		else if (c == 'a' && as_of)
			*as_of = optarg;
		else if (c == 'f' && force)
			*force = 1;
		else
			return c == 'h' ? 1 : -1;
	}
	return 0;
}

/* store_exit - print a store error; the exit status for it */
static int store_exit(int rc, const char *err)
{
	cli_error("%s", err);
	return rc == STORE_EINVAL ? CLI_USAGE : CLI_STORE;
}

/* print_msgs - one line per message of the report array A */
static void print_msgs(json_t *a)
{
	size_t i;
	json_t *m;

	json_array_foreach(a, i, m)
		printf("  message %-5lld thread %-5lld %s  %s\n",
		       (long long)json_integer_value(json_object_get(m, "id")),
		       (long long)json_integer_value(json_object_get(m, "thread")),
		       json_string_value(json_object_get(m, "date")),
		       json_string_value(json_object_get(m, "subject")));
}

/* print_forget - the report of store_forget as text */
static void print_forget(json_t *r)
{
	json_t *contacts = json_object_get(r, "contacts"), *accounts = json_object_get(r, "accounts");
	json_t *v;
	size_t i;
	int dry = json_is_true(json_object_get(r, "dry_run"));

	printf("forget %s%s\n", json_string_value(json_object_get(r, "target")),
	       dry ? ": dry run, nothing changed" : "");
	printf("contacts removed:  %zu\n", json_array_size(contacts));
	json_array_foreach(contacts, i, v)
		printf("  %s\n", json_string_value(v));
	printf("accounts removed:  %zu\n", json_array_size(accounts));
	json_array_foreach(accounts, i, v)
		printf("  %s\n", json_string_value(v));
	printf("messages deleted:  %zu\n", json_array_size(json_object_get(r, "deleted")));
	print_msgs(json_object_get(r, "deleted"));
	printf("threads deleted:   %lld\n",
	       (long long)json_integer_value(json_object_get(r, "threads")));
	printf("messages redacted: %zu (address and names masked in participants, headers,"
	       " body, raw source and index)\n", json_array_size(json_object_get(r, "redacted")));
	print_msgs(json_object_get(r, "redacted"));
	printf("%s on the never-capture list\n", dry ? "would be" : "now");
	if (json_is_true(json_object_get(r, "dictionary")))
		printf("the compression dictionary %s: the messages it compressed %s stored without"
		       " one until the next import trains a new one\n",
		       dry ? "holds these bytes and would be dropped" : "held these bytes and was dropped",
		       dry ? "would be" : "are");
}

/* cmd_forget - crmctl forget [--dry-run] [--json] ADDRESS|@DOMAIN */
int cmd_forget(struct cli *cli, int argc, char **argv)
{
	int dry = 0, json = 0, help, rc;
	char err[1024], me[256], *target;
	json_t *report = NULL;
	struct store *st;

	if ((help = options(argc, argv, &dry, &json, NULL, NULL)) != 0 || optind != argc - 1)
		return forget_usage(argv[0], help > 0);
	target = argv[optind][0] == '@' ? strdup(argv[optind]) : mail_addr_normalise(argv[optind]);
	if (!target) {
		cli_error("%s: expected an address or @domain", argv[optind]);
		return CLI_USAGE;
	}
	st = cli_open_store(cli, 0);
	if (!st) {
		free(target);
		return CLI_STORE;
	}
	rc = store_forget(st, target, dry, cli_who(me, sizeof me), &report, err, sizeof err);
	store_close(st);
	free(target);
	if (rc != STORE_OK)
		return store_exit(rc, err);
	if (json)
		cli_print_json(report);
	else {
		print_forget(report);
		json_decref(report);
	}
	return CLI_OK;
}

/*
 * cmd_purge - crmctl purge [--dry-run] [--as-of DATE] [--force] [--json]:
 * exits 1 when the store refused (a clock earlier than the newest arrival,
 * or more than a tenth of the store at once), which --force overrides
 */
int cmd_purge(struct cli *cli, int argc, char **argv)
{
	int dry = 0, json = 0, force = 0, help, rc;
	const char *as_of = NULL, *refused;
	int64_t now = (int64_t)time(NULL);
	unsigned flags;
	char err[1024], me[256];
	json_t *report = NULL;
	struct store *st;

	if ((help = options(argc, argv, &dry, &json, &as_of, &force)) != 0 || optind != argc)
		return forget_usage(argv[0], help > 0);
	if (as_of && parse_date(as_of, &now) < 0) {
		cli_error("--as-of %s: expected YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ", as_of);
		return CLI_USAGE;
	}
	if (cli->conf.retention_days == 0) {
		printf("Retention is forever: nothing to purge\n");
		return CLI_OK;
	}
	st = cli_open_store(cli, 0);
	if (!st)
		return CLI_STORE;
	flags = (dry ? STORE_PURGE_DRY_RUN : 0) | (force ? STORE_PURGE_FORCE : 0) |
		(as_of ? 0 : STORE_PURGE_CLOCK);
	rc = store_purge(st, now, now - (int64_t)cli->conf.retention_days * 86400, flags,
			 cli_who(me, sizeof me), &report, err, sizeof err);
	store_close(st);
	if (rc != STORE_OK)
		return store_exit(rc, err);
	refused = json_string_value(json_object_get(report, "refused"));
	if (json) {
		cli_print_json(report);
		return refused ? CLI_PARTIAL : CLI_OK;
	}
	printf("Retention %dd: messages dated before %s\n", cli->conf.retention_days,
	       json_string_value(json_object_get(report, "before")));
	long long m = json_integer_value(json_object_get(report, "messages"));
	long long t = json_integer_value(json_object_get(report, "threads"));
	long long h = json_integer_value(json_object_get(report, "held"));
	if (refused) {
		cli_error("purge refused, nothing deleted: %s", refused);
		json_decref(report);
		return CLI_PARTIAL;
	}
	printf("%s %lld message%s and %lld thread%s; %lld message%s kept on hold\n",
	       dry ? "would delete" : "deleted", m, m == 1 ? "" : "s", t, t == 1 ? "" : "s", h,
	       h == 1 ? "" : "s");
	json_decref(report);
	return CLI_OK;
}

/* hold_or_release - crmctl hold|release TARGET */
static int hold_or_release(struct cli *cli, int argc, char **argv, int release)
{
	char err[1024], me[256];
	struct store *st;
	const char *t;
	int help, rc;

	if ((help = options(argc, argv, NULL, NULL, NULL, NULL)) != 0 || optind != argc - 1)
		return forget_usage(argv[0], help > 0);
	t = argv[optind];
	st = cli_open_store(cli, 0);
	if (!st)
		return CLI_STORE;
	rc = store_hold(st, t, release, cli_who(me, sizeof me), err, sizeof err);
	store_close(st);
	if (rc != STORE_OK)
		return store_exit(rc, err);
	printf("%s %s %s\n", strspn(t, "0123456789") == strlen(t) ? "thread" : "account", t,
	       release ? "released" : "is on hold");
	return CLI_OK;
}

/* cmd_hold - crmctl hold THREAD_ID|ACCOUNT_DOMAIN */
int cmd_hold(struct cli *cli, int argc, char **argv)
{
	return hold_or_release(cli, argc, argv, 0);
}

/* cmd_release - crmctl release THREAD_ID|ACCOUNT_DOMAIN */
int cmd_release(struct cli *cli, int argc, char **argv)
{
	return hold_or_release(cli, argc, argv, 1);
}

/* cmd_holds - crmctl holds [--json] */
int cmd_holds(struct cli *cli, int argc, char **argv)
{
	int json = 0, help, rc;
	char err[1024];
	json_t *holds = NULL, *h;
	struct store *st;
	size_t i;

	if ((help = options(argc, argv, NULL, &json, NULL, NULL)) != 0 || optind != argc)
		return forget_usage(argv[0], help > 0);
	st = cli_open_store(cli, 1);
	if (!st)
		return CLI_STORE;
	rc = store_holds(st, &holds, err, sizeof err);
	store_close(st);
	if (rc != STORE_OK)
		return store_exit(rc, err);
	if (json) {
		cli_print_json(holds);
		return CLI_OK;
	}
	json_array_foreach(holds, i, h)
		printf("%-8s %-20s %4lld thread%s  %s  %s  %s\n",
		       json_string_value(json_object_get(h, "kind")),
		       json_string_value(json_object_get(h, "target")),
		       (long long)json_integer_value(json_object_get(h, "threads")),
		       json_integer_value(json_object_get(h, "threads")) == 1 ? " " : "s",
		       json_string_value(json_object_get(h, "at")),
		       json_string_value(json_object_get(h, "who")),
		       json_string_value(json_object_get(h, "name")));
	json_decref(holds);
	return CLI_OK;
}
