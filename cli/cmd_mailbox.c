/*
 * cmd_mailbox.c - crmctl disconnect, reconnect, mailboxes: stop and resume
 * logging one internal mailbox's mail
 *
 *   crmctl disconnect [--force] MAILBOX
 *   crmctl reconnect MAILBOX
 *   crmctl mailboxes [--json]
 *
 * From the moment a mailbox is disconnected, a new message is logged only
 * when at least one connected internal participant is on it; the others
 * become skipped metadata rows with the reason "disconnected mailbox"
 * (storage/mailbox.c), in crmilter from its next batch and in crmctl
 * import alike.  What was logged before stays.  MAILBOX must be in the own
 * domains (Domains) and known to the store (mail of it stored, or a row in
 * the mailboxes table or users); --force disconnects a mailbox before its
 * first message.  Each change is audited with who made it: the Unix user
 * running crmctl, and SUDO_USER when set ("alice (sudo root)").
 * Disconnecting or reconnecting twice changes nothing and says so.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* mailbox_usage - the synopsis of NAME on F; returns CLI_USAGE */
static int mailbox_usage(FILE *f, const char *name)
{
	if (strcmp(name, "disconnect") == 0)
		fprintf(f, "usage: crmctl disconnect [--force] MAILBOX\n");
	else if (strcmp(name, "reconnect") == 0)
		fprintf(f, "usage: crmctl reconnect MAILBOX\n");
	else
		fprintf(f, "usage: crmctl mailboxes [--json]\n");
	return CLI_USAGE;
}

/* conf_name - the configuration file's name for messages */
static const char *conf_name(const struct cli *cli)
{
	return cli->conf.path ? cli->conf.path : CONF_DEFAULT_PATH;
}

/*
 * mailbox_arg - ARG as a normalised address in an own domain: a new string
 * (free()), or NULL after printing why not
 */
static char *mailbox_arg(const struct cli *cli, const char *arg)
{
	char *addr = mail_addr_normalise(arg);
	const char *at = addr ? strrchr(addr, '@') : NULL;

	if (!at || at == addr || !at[1]) {
		cli_error("%s: not a mailbox address", arg);
	} else if (cli->conf.domains.n == 0) {
		cli_error("%s: no own domains in %s (Domains): cannot tell an internal mailbox",
			  addr, conf_name(cli));
	} else if (!conf_is_own_domain(&cli->conf, at + 1)) {
		cli_error("%s: not in the own domains (Domains in %s): only an internal mailbox"
			  " can be disconnected", addr, conf_name(cli));
	} else {
		return addr;
	}
	free(addr);
	return NULL;
}

/* day_time - "2026-11-26T18:40:12Z" shown as "2026-11-26 18:40:12"; "-" for NULL */
static const char *day_time(const char *iso, char *buf, size_t len)
{
	if (!iso)
		return "-";
	snprintf(buf, len, "%.10s %.8s", iso, strlen(iso) > 11 ? iso + 11 : "");
	return buf;
}

/* field - a string member of O, or "-" */
static const char *field(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "-";
}

/*
 * lookup - the store's row of ADDR into *row (json_decref), NULL when the
 * store knows nothing of it.  Returns CLI_OK or CLI_STORE after the error.
 */
static int lookup(struct store *st, const char *addr, json_t **row)
{
	char err[512];
	json_t *a;

	*row = NULL;
	if (store_mailboxes(st, addr, &a, err, sizeof err) != STORE_OK) {
		cli_error("%s", err);
		return CLI_STORE;
	}
	*row = json_incref(json_array_get(a, 0));
	json_decref(a);
	return CLI_OK;
}

/* report - what a disconnect or reconnect did to ROW's mailbox */
static void report(json_t *row, int connected, int changed)
{
	char buf[32];
	const char *since = day_time(json_string_value(json_object_get(row, "since")), buf,
				     sizeof buf);

	if (!changed)
		printf("%s: already %s since %s by %s; nothing changed\n", field(row, "address"),
		       connected ? "connected" : "disconnected", since, field(row, "by"));
	else if (connected)
		printf("%s: reconnected at %s by %s: its mail is logged again\n",
		       field(row, "address"), since, field(row, "by"));
	else
		printf("%s: disconnected at %s by %s: new mail is logged only when a connected"
		       " mailbox takes part; the %lld messages logged before stay\n",
		       field(row, "address"), since, field(row, "by"),
		       (long long)json_integer_value(json_object_get(row, "messages")));
}

/* set_state - disconnect (CONNECTED 0) or reconnect ADDR in ST; returns a CLI status */
static int set_state(struct store *st, const char *addr, int connected, int force)
{
	char who[300], err[512];
	json_t *row = NULL;
	int rc, changed = 0;

	rc = lookup(st, addr, &row);
	if (rc != CLI_OK)
		return rc;
	if (!row && (connected || !force)) {
		cli_error("%s: unknown mailbox: no stored mail has it and it is in no mailbox or"
			  " user list; check the address%s", addr,
			  connected ? "" : ", or use --force to disconnect it before its first message");
		return CLI_USAGE;
	}
	json_decref(row);
	cli_who(who, sizeof who);
	if (store_mailbox_set(st, addr, connected, who, &changed, err, sizeof err) != STORE_OK) {
		cli_error("%s", err);
		return CLI_STORE;
	}
	rc = lookup(st, addr, &row);
	if (rc == CLI_OK && row)
		report(row, connected, changed);
	json_decref(row);
	return rc;
}

/* mailbox_change - crmctl disconnect|reconnect: parse, check, change */
static int mailbox_change(struct cli *cli, int argc, char **argv, int connected)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct store *st;
	char *addr;
	int c, force = 0, rc;

	optind = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'f' && !connected)
			force = 1;
		else if (c == 'h') {
			mailbox_usage(stdout, argv[0]);
			return CLI_OK;
		} else
			return mailbox_usage(stderr, argv[0]);
	}
	if (optind != argc - 1)
		return mailbox_usage(stderr, argv[0]);
	addr = mailbox_arg(cli, argv[optind]);
	if (!addr)
		return CLI_USAGE;
	st = cli_open_store(cli, 0);
	rc = st ? set_state(st, addr, connected, force) : CLI_STORE;
	store_close(st);
	free(addr);
	return rc;
}

/* cmd_disconnect - crmctl disconnect [--force] MAILBOX */
int cmd_disconnect(struct cli *cli, int argc, char **argv)
{
	return mailbox_change(cli, argc, argv, 0);
}

/* cmd_reconnect - crmctl reconnect MAILBOX */
int cmd_reconnect(struct cli *cli, int argc, char **argv)
{
	return mailbox_change(cli, argc, argv, 1);
}

/* mailboxes_text - one line a mailbox under a header */
static void mailboxes_text(json_t *a)
{
	char buf[32];
	size_t i;
	json_t *m;

	printf("%-36s %-12s %-19s %-20s %s\n", "MAILBOX", "STATE", "SINCE", "BY", "MESSAGES");
	json_array_foreach(a, i, m)
		printf("%-36s %-12s %-19s %-20s %lld\n", field(m, "address"), field(m, "state"),
		       day_time(json_string_value(json_object_get(m, "since")), buf, sizeof buf),
		       field(m, "by"), (long long)json_integer_value(json_object_get(m, "messages")));
}

/* cmd_mailboxes - crmctl mailboxes [--json] */
int cmd_mailboxes(struct cli *cli, int argc, char **argv)
{
	int json = argc == 2 && strcmp(argv[1], "--json") == 0;
	struct store *st;
	char err[512];
	json_t *a;
	int rc;

	if (argc == 2 && strcmp(argv[1], "--help") == 0) {
		mailbox_usage(stdout, argv[0]);
		return CLI_OK;
	}
	if (argc > 2 || (argc == 2 && !json))
		return mailbox_usage(stderr, argv[0]);
	st = cli_open_store(cli, 1);
	if (!st)
		return CLI_STORE;
	rc = store_mailboxes(st, NULL, &a, err, sizeof err);
	store_close(st);
	if (rc != STORE_OK) {
		cli_error("%s", err);
		return CLI_STORE;
	}
	if (json) {
		cli_print_json(a);
		return CLI_OK;
	}
	mailboxes_text(a);
	json_decref(a);
	return CLI_OK;
}
