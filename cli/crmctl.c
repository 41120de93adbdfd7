/*
 * crmctl.c - the ops command line: global options and command dispatch
 *
 * crmctl [-c FILE] [-v] COMMAND [ARGS...]; every command lives in its own
 * cmd_*.c file and takes --help.
 */
#include <getopt.h>
#include <stdarg.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

struct command {
	const char *name;
	int (*run)(struct cli *, int, char **);
	const char *summary;
};

static const struct command commands[] = {
	{ "import",   cmd_import,   "import PATH...         import mbox, Maildir, .eml files or folders" },
	{ "stats",    cmd_stats,    "stats [--json]         counts of what the store holds" },
	{ "threads",  cmd_threads,  "threads [--account DOMAIN] [--contact ADDRESS] [--json]" },
	{ "show",     cmd_show,     "show thread ID | show contact ADDRESS [--json]" },
	{ "contacts", cmd_contacts, "contacts [--json]      every contact with its account and counts" },
	{ "accounts", cmd_accounts, "accounts [--json]      every account with its contacts and threads" },
	{ "parse",    cmd_parse,    "parse [--json] PATH... what the parser makes of messages (stores nothing)" },
	{ "spool",    cmd_spool,    "spool status [--json] | spool retry [NAME...]  crmilter's spool" },
	{ "status",   cmd_status,   "status [--json] [--warn-age D] [--crit-age D]  health check (Nagios exit codes)" },
	{ "rules",    cmd_rules,    "rules check [FILE] | explain MESSAGE... | apply [--since DATE] [--dry-run]" },
	{ "deals",    cmd_deals,    "deals import FILE.csv | deals [--json]  deals for association" },
	{ "user",     cmd_user,     "user add ADDRESS [--role R] [--team T] | passwd | list | remove  crmview's users" },
	{ "export",   cmd_export,   "export --format json|jsonl|csv|mbox [FILTER] [--since D] [--until D] [-o PATH]" },
	{ "disconnect", cmd_disconnect, "disconnect [--force] MAILBOX  stop logging a mailbox's mail from now on" },
	{ "reconnect", cmd_reconnect, "reconnect MAILBOX      log a disconnected mailbox's mail again" },
	{ "mailboxes", cmd_mailboxes, "mailboxes [--json]     internal mailboxes: state, since, by whom, messages" },
	{ "forget",   cmd_forget,   "forget [--dry-run] ADDRESS|@DOMAIN  erase a person or company, never capture again" },
	{ "purge",    cmd_purge,    "purge [--dry-run] [--as-of DATE] [--force]  delete mail older than Retention (not held)" },
	{ "hold",     cmd_hold,     "hold THREAD_ID|ACCOUNT_DOMAIN  legal hold: purge keeps it" },
	{ "release",  cmd_release,  "release THREAD_ID|ACCOUNT_DOMAIN  end a legal hold" },
	{ "holds",    cmd_holds,    "holds [--json]         the legal holds" },
};

/* usage - print the synopsis to F */
static void usage(FILE *f)
{
	fprintf(f, "usage: crmctl [-c FILE] [-v] COMMAND [ARGS...]\n"
		   "\n"
		   "  -c FILE   configuration file (default " CONF_DEFAULT_PATH ")\n"
		   "  -v        verbose\n"
		   "  -V        print the version and exit\n"
		   "  -h        this help; 'crmctl COMMAND --help' for a command\n"
		   "\ncommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(f, "  %s\n", commands[i].summary);
}

/* cli_who - see cli.h */
const char *cli_who(char *buf, size_t len)
{
	const struct passwd *pw = getpwuid(getuid());
	const char *sudo = getenv("SUDO_USER");
	char uid[32];

	snprintf(uid, sizeof uid, "uid %u", (unsigned)getuid());
	const char *me = pw && pw->pw_name ? pw->pw_name : uid;
	if (sudo && *sudo && strcmp(sudo, me) != 0)
		snprintf(buf, len, "%s (sudo %s)", sudo, me);
	else
		snprintf(buf, len, "%s", me);
	return buf;
}

/* cli_error - see cli.h */
void cli_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("crmctl: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* cli_need_domains - see cli.h */
int cli_need_domains(const struct cli *cli, const char *what)
{
	if (cli->conf.domains.n)
		return 0;
	cli_error("%s: Domains is not set: %s cannot tell the company's mail from the "
		  "world's; set Domains to the company's own domains (crmilter.conf(5))",
		  cli->conf.path ? cli->conf.path : CONF_DEFAULT_PATH, what);
	return -1;
}

/* cli_open_store - see cli.h */
struct store *cli_open_store(struct cli *cli, int readonly)
{
	char err[512];
	struct store *st;
	struct store_opts opts = {
		.path = cli->conf.database,
		.readonly = readonly,
		.busy_timeout_ms = cli->conf.busy_timeout_ms,
		.own_domains = (const char *const *)cli->conf.domains.v,
		.n_own_domains = cli->conf.domains.n,
	};
	cli_store_owner(&cli->conf, &opts);
	if (store_open(&opts, &st, err, sizeof err) != STORE_OK) {
		cli_error("%s", err);
		return NULL;
	}
	return st;
}

/* cli_print_json - see cli.h */
void cli_print_json(json_t *v)
{
	json_dumpf(v, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(v);
}

/* wants_help - 1 when a command's options (ARGV[1..], up to "--") ask for its help */
static int wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	struct cli cli = { 0 };
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	log_open("crmctl", 0, 0);
	while ((c = getopt_long(argc, argv, "+c:vVh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': cli.conf_path = optarg; break;
		case 'v': cli.verbose = 1; log_set_verbose(1); break;
		case 'V': printf("crmctl %s\n", CRM_VERSION); return CLI_OK;
		case 'h': usage(stdout); return CLI_OK;
		default: usage(stderr); return CLI_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return CLI_USAGE;
	}
	int cmd_index = optind;
	const char *name = argv[cmd_index];
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		if (strcmp(name, commands[i].name) != 0)
			continue;
		char err[1024];
		if (wants_help(argc - cmd_index, argv + cmd_index)) {
			conf_defaults(&cli.conf);	/* help reads no configuration */
		} else if (conf_load(cli.conf_path, &cli.conf, err, sizeof err) < 0) {
			cli_error("%s", err);
			return CLI_USAGE;
		}
		optind = 0;	/* glibc: rescan from scratch; argv[0] is the command */
		int rc = commands[i].run(&cli, argc - cmd_index, argv + cmd_index);
		conf_free(&cli.conf);
		return rc;
	}
	cli_error("unknown command '%s'; see crmctl --help", name);
	return CLI_USAGE;
}
