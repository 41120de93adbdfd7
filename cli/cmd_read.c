/*
 * cmd_read.c - crmctl stats, threads, show, contacts, accounts
 *
 * Each command opens the store read-only, asks storage/ for a jansson value
 * and prints it either as indented JSON (--json, for scripts and tests) or
 * as plain text lines for people.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* read_opts - parse --json and the filters; returns -1 on a usage error, 1 for help */
struct read_args {
	int json;
	const char *account;
	const char *contact;
	int limit;
};

static int read_opts(int argc, char **argv, struct read_args *a, const char *usage)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "account", required_argument, NULL, 'a' },
		{ "contact", required_argument, NULL, 'C' },
		{ "limit", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;
	while ((ch = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (ch) {
		case 'j': a->json = 1; break;
		case 'a': a->account = optarg; break;
		case 'C': a->contact = optarg; break;
		case 'n': a->limit = atoi(optarg); break;
		case 'h': printf("usage: %s\n", usage); return 1;
		default: fprintf(stderr, "usage: %s\n", usage); return -1;
		}
	}
	return 0;
}

/* str - a string member of an object, or "" */
static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

/* num - an integer member of an object, or 0 */
static long long num(json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

/* day_time - "2025-03-04T10:00:00Z" shown as "2025-03-04 10:00" */
static const char *day_time(const char *iso, char *buf, size_t len)
{
	snprintf(buf, len, "%.10s %.5s", iso, strlen(iso) > 11 ? iso + 11 : "");
	return buf;
}

/* print_joined - the strings of an array separated by ", " */
static void print_joined(json_t *arr)
{
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
		printf("%s%s", i ? ", " : "", json_string_value(v) ? json_string_value(v) : "");
}

/* print_addrs - "label: Name <addr>, ..." when the array is not empty */
static void print_addrs(const char *label, json_t *arr)
{
	size_t i;
	json_t *a;
	if (json_array_size(arr) == 0)
		return;
	printf("    %s: ", label);
	json_array_foreach(arr, i, a) {
		const char *name = str(a, "name");
		if (*name)
			printf("%s%s <%s>", i ? ", " : "", name, str(a, "address"));
		else
			printf("%s%s", i ? ", " : "", str(a, "address"));
	}
	putchar('\n');
}

/* rule_where - "FILE:LINE: TEXT" of a provenance object {"file", "line", "text"} */
static const char *rule_where(json_t *rule, char *buf, size_t len)
{
	if (!json_is_object(rule))
		return "(no rule recorded)";
	snprintf(buf, len, "%s:%lld: %s", str(rule, "file"), num(rule, "line"), str(rule, "text"));
	return buf;
}

/* finish - print V as JSON or through the text printer; returns a CLI status */
static int finish(json_t *v, int json, void (*text)(json_t *), const char *err)
{
	if (!v) {
		cli_error("%s", err);
		return CLI_STORE;
	}
	if (json) {
		cli_print_json(v);
	} else {
		text(v);
		json_decref(v);
	}
	return CLI_OK;
}

/* open_read - open the store read-only; prints the error and returns NULL */
static struct store *open_read(struct cli *cli)
{
	return cli_open_store(cli, 1);
}

/* a read: the store's answer for the parsed arguments, or NULL with err */
typedef json_t *(*fetch_fn)(struct store *st, const struct read_args *a, char *err, size_t errlen);

/*
 * read_command - the shape of every list command: parse the options, open
 * the store read-only, fetch, print as JSON or text.  Returns a CLI status.
 */
static int read_command(struct cli *cli, int argc, char **argv, const char *usage,
			fetch_fn fetch, void (*text)(json_t *))
{
	struct read_args a = { 0 };
	int r = read_opts(argc, argv, &a, usage);
	if (r)
		return r > 0 ? CLI_OK : CLI_USAGE;
	struct store *st = open_read(cli);
	if (!st)
		return CLI_STORE;
	char err[512];
	int rc = finish(fetch(st, &a, err, sizeof err), a.json, text, err);
	store_close(st);
	return rc;
}

static void stats_text(json_t *v)
{
	const char *key;
	json_t *val;
	json_object_foreach(v, key, val)
		printf("%-18s %lld\n", key, (long long)json_integer_value(val));
}

/* fetch_stats - what the store answers for crmctl stats */
static json_t *fetch_stats(struct store *st, const struct read_args *a, char *err, size_t errlen)
{
	(void)a;
	return store_stats(st, err, errlen);
}

/* cmd_stats - crmctl stats [--json] */
int cmd_stats(struct cli *cli, int argc, char **argv)
{
	return read_command(cli, argc, argv, "crmctl stats [--json]", fetch_stats, stats_text);
}

static void threads_text(json_t *v)
{
	size_t i;
	json_t *t;
	char buf[32];
	json_array_foreach(v, i, t) {
		printf("%6lld  %s  %3lld  %s", num(t, "id"), day_time(str(t, "last_date"), buf, sizeof buf),
		       num(t, "messages"), str(t, "subject"));
		if (json_array_size(json_object_get(t, "accounts"))) {
			printf("  [");
			print_joined(json_object_get(t, "accounts"));
			printf("]");
		}
		putchar('\n');
	}
}

/* fetch_threads - what the store answers for crmctl threads */
static json_t *fetch_threads(struct store *st, const struct read_args *a, char *err, size_t errlen)
{
	struct store_thread_filter f = { .account = a->account, .contact = a->contact, .limit = a->limit };
	return store_threads(st, &f, err, errlen);
}

/* cmd_threads - crmctl threads [--account DOMAIN] [--contact ADDRESS] [--limit N] [--json] */
int cmd_threads(struct cli *cli, int argc, char **argv)
{
	return read_command(cli, argc, argv, "crmctl threads [--account DOMAIN] [--contact ADDRESS] [--limit N] [--json]", fetch_threads, threads_text);
}

static void message_text(json_t *m)
{
	char buf[32];
	json_t *from = json_object_get(m, "from");	/* an object, or null */
	if (!json_is_object(from))
		from = NULL;
	const char *dir = str(m, "direction");
	printf("\n%s  %-8s %s <%s>\n", day_time(str(m, "date"), buf, sizeof buf), dir,
	       from ? str(from, "name") : "", from ? str(from, "address") : "");
	print_addrs("to", json_object_get(m, "to"));
	print_addrs("cc", json_object_get(m, "cc"));
	print_addrs("bcc", json_object_get(m, "bcc"));
	printf("    subject: %s\n", str(m, "subject"));
	json_t *flags = json_object_get(m, "flags");
	if (json_array_size(flags)) {
		printf("    flags: ");
		print_joined(flags);
		putchar('\n');
	}
	size_t i;
	json_t *att;
	json_array_foreach(json_object_get(m, "attachments"), i, att)
		printf("    attachment: %s (%s, %lld bytes)\n", str(att, "filename"),
		       str(att, "content_type"), num(att, "size"));
	json_t *log = json_object_get(m, "log");
	char where[1024];
	if (json_is_object(log))
		printf("    %s: %s  [%s]\n", str(log, "status"), str(log, "reason"),
		       rule_where(json_object_get(log, "rule"), where, sizeof where));
	printf("    %s\n", str(m, "snippet"));
}

/* thread_why_text - the thread's visibility, unassigned reason and links with their rules */
static void thread_why_text(json_t *t)
{
	char where[1024];
	json_t *vis = json_object_get(t, "visibility");
	if (json_is_object(vis))
		printf("visibility: inside %s, outside %s  [%s]\n", str(vis, "inside"),
		       str(vis, "outside"), rule_where(json_object_get(vis, "rule"), where, sizeof where));
	if (json_is_string(json_object_get(t, "unassigned")))
		printf("unassigned: %s\n", str(t, "unassigned"));
	size_t i;
	json_t *l;
	json_array_foreach(json_object_get(t, "links"), i, l)
		printf("link: %s %s  [%s]\n", str(l, "kind"), str(l, "key"),
		       rule_where(json_object_get(l, "rule"), where, sizeof where));
}

static void thread_text(json_t *t)
{
	printf("thread %lld: %s\n", num(t, "id"), str(t, "subject"));
	printf("accounts: ");
	print_joined(json_object_get(t, "accounts"));
	printf("\ncontacts: ");
	print_joined(json_object_get(t, "contacts"));
	putchar('\n');
	thread_why_text(t);
	printf("messages: %zu\n", json_array_size(json_object_get(t, "messages")));
	size_t i;
	json_t *m;
	json_array_foreach(json_object_get(t, "messages"), i, m)
		message_text(m);
}

static void contact_text(json_t *c)
{
	char a[32], b[32];
	printf("contact:  %s\n", str(c, "address"));
	printf("name:     %s\n", str(c, "name"));
	printf("account:  %s\n", str(c, "account"));
	printf("seen:     %s .. %s\n", day_time(str(c, "first_seen"), a, sizeof a),
	       day_time(str(c, "last_seen"), b, sizeof b));
	printf("sent:     %lld\n", num(c, "sent"));
	printf("received: %lld\n", num(c, "received"));
	char where[1024];
	printf("captured: %s\n", rule_where(json_object_get(c, "captured_by"), where, sizeof where));
	printf("threads:  ");
	size_t i;
	json_t *t;
	json_array_foreach(json_object_get(c, "threads"), i, t)
		printf("%s%lld", i ? ", " : "", (long long)json_integer_value(t));
	putchar('\n');
}

/* cmd_show - crmctl show thread ID | crmctl show contact ADDRESS */
int cmd_show(struct cli *cli, int argc, char **argv)
{
	const char *usage = "crmctl show thread ID [--json] | crmctl show contact ADDRESS [--json]";
	struct read_args a = { 0 };
	int r = read_opts(argc, argv, &a, usage);
	if (r)
		return r > 0 ? CLI_OK : CLI_USAGE;
	if (argc - optind != 2) {
		fprintf(stderr, "usage: %s\n", usage);
		return CLI_USAGE;
	}
	const char *what = argv[optind], *key = argv[optind + 1];
	char *end;
	long long id = strtoll(key, &end, 10);
	int is_thread = strcmp(what, "thread") == 0;
	if ((!is_thread && strcmp(what, "contact") != 0) || (is_thread && (*end || id <= 0))) {
		fprintf(stderr, "usage: %s\n", usage);
		return CLI_USAGE;
	}
	struct store *st = open_read(cli);
	if (!st)
		return CLI_STORE;
	char err[512];
	int rc;
	if (is_thread) {
		rc = finish(store_thread(st, id, err, sizeof err), a.json, thread_text, err);
	} else {
		char *addr = mail_addr_normalise(key);
		rc = finish(store_contact(st, addr ? addr : key, err, sizeof err), a.json,
			    contact_text, err);
		free(addr);
	}
	store_close(st);
	return rc == CLI_STORE ? CLI_PARTIAL : rc;
}

static void contacts_text(json_t *v)
{
	size_t i;
	json_t *c;
	json_array_foreach(v, i, c)
		printf("%-36s %-16s sent %3lld  received %3lld  %s\n", str(c, "address"),
		       *str(c, "account") ? str(c, "account") : "-", num(c, "sent"),
		       num(c, "received"), str(c, "name"));
}

/* fetch_contacts - what the store answers for crmctl contacts */
static json_t *fetch_contacts(struct store *st, const struct read_args *a, char *err, size_t errlen)
{
	(void)a;
	return store_contacts(st, err, errlen);
}

/* cmd_contacts - crmctl contacts [--json] */
int cmd_contacts(struct cli *cli, int argc, char **argv)
{
	return read_command(cli, argc, argv, "crmctl contacts [--json]", fetch_contacts, contacts_text);
}

static void accounts_text(json_t *v)
{
	size_t i;
	json_t *c;
	char buf[32];
	json_array_foreach(v, i, c)
		printf("%-28s contacts %3lld  threads %3lld  last %s\n", str(c, "domain"),
		       num(c, "contacts"), num(c, "threads"),
		       day_time(str(c, "last_activity"), buf, sizeof buf));
}

/* fetch_accounts - what the store answers for crmctl accounts */
static json_t *fetch_accounts(struct store *st, const struct read_args *a, char *err, size_t errlen)
{
	(void)a;
	return store_accounts(st, err, errlen);
}

/* cmd_accounts - crmctl accounts [--json] */
int cmd_accounts(struct cli *cli, int argc, char **argv)
{
	return read_command(cli, argc, argv, "crmctl accounts [--json]", fetch_accounts, accounts_text);
}
