/*
 * cmd_user.c - crmctl user: the people who may use crmview
 *
 *   crmctl user add ADDRESS [--role admin|member] [--team NAME] [--name TEXT]
 *   crmctl user passwd ADDRESS     password from the terminal (twice) or one stdin line
 *   crmctl user list [--json]
 *   crmctl user remove ADDRESS
 *
 * A user is an internal mailbox (an address in Domains) with a role and a
 * team.  Without --team, add takes the team of the rules file (RulesFile)
 * that lists the address, if one does; a team the rules file does not
 * define is accepted with a warning (no thread is visible to it).  The
 * password is stored as an argon2id string (libsodium crypto_pwhash_str,
 * interactive limits); a new password ends the user's crmview sessions.
 */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <sodium.h>

#include "cli.h"
#include "../ingest/ingest.h"
#include "../rules/rules.h"

#define PW_MIN 8
#define PW_MAX 200

/*
 * user_usage - the synopsis: on stdout when HELP was asked for (returns
 * CLI_OK), else on stderr (returns CLI_USAGE)
 */
static int user_usage(int help)
{
	fprintf(help ? stdout : stderr, "usage: crmctl user add ADDRESS [--role admin|member] [--team NAME] [--name TEXT]\n"
			"       crmctl user passwd ADDRESS\n"
			"       crmctl user list [--json]\n"
			"       crmctl user remove ADDRESS\n");
	return help ? CLI_OK : CLI_USAGE;
}

/* norm_address - lower-case ADDR in place; 0, or -1 after an error when it is no own mailbox */
static int norm_address(struct cli *cli, char *addr)
{
	const char *at = strrchr(addr, '@');

	for (char *p = addr; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (!at || at == addr || !at[1] || strlen(addr) > 254 || strpbrk(addr, " \t<>\"")) {
		cli_error("%s: not a mailbox address", addr);
		return -1;
	}
	if (cli->conf.domains.n && !conf_is_own_domain(&cli->conf, at + 1)) {
		cli_error("%s: not in the own domains (Domains): users are internal mailboxes", addr);
		return -1;
	}
	return 0;
}

/* rules_team_of - the rules file's team listing ADDR (new string), or NULL; *known: TEAM defined */
static char *rules_team_of(struct cli *cli, const char *addr, const char *team, int *known)
{
	struct rules *r = NULL;
	const struct rules_team *t;
	char err[4096], *found = NULL;
	size_t n = 0;

	*known = 0;
	if (ingest_load_rules(&cli->conf, &r, err, sizeof err) < 0)
		return NULL;
	t = rules_teams(r, &n);
	for (size_t i = 0; i < n; i++) {
		if (team && strcmp(t[i].name, team) == 0)
			*known = 1;
		for (size_t j = 0; j < t[i].n_members && !found; j++)
			if (strcasecmp(t[i].members[j], addr) == 0)
				found = strdup(t[i].name);
	}
	rules_unref(r);
	return found;
}

/* user_add - crmctl user add */
static int user_add(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "role", required_argument, NULL, 'r' }, { "team", required_argument, NULL, 't' },
		{ "name", required_argument, NULL, 'n' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *role = "member", *team = NULL, *name = NULL;
	char err[512], *from_rules = NULL;
	struct store *st;
	int c, known, rc;

	optind = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'r')
			role = optarg;
		else if (c == 't')
			team = optarg;
		else if (c == 'n')
			name = optarg;
		else
			return user_usage(c == 'h');
	}
	if (optind != argc - 1 || (strcmp(role, "admin") != 0 && strcmp(role, "member") != 0))
		return user_usage(0);
	if (norm_address(cli, argv[optind]) < 0)
		return CLI_USAGE;
	from_rules = rules_team_of(cli, argv[optind], team, &known);
	if (!team)
		team = from_rules;
	else if (!known)
		fprintf(stderr, "crmctl: warning: team '%s' is not defined in the rules file;"
			" no thread is visible to it\n", team);
	st = cli_open_store(cli, 0);
	if (!st) {
		free(from_rules);
		return CLI_STORE;
	}
	rc = store_user_set(st, argv[optind], role, team, name, err, sizeof err);
	store_close(st);
	if (rc != STORE_OK)
		cli_error("%s", err);
	else
		printf("user %s: %s%s%s\n", argv[optind], role, team ? ", team " : "", team ? team : "");
	free(from_rules);
	return rc == STORE_OK ? CLI_OK : rc == STORE_EINVAL ? CLI_USAGE : CLI_STORE;
}

/* read_line - one line of stdin without its newline (echo off on a terminal); 0 or -1 */
static int read_line(const char *prompt, char *buf, size_t len)
{
	struct termios old, quiet;
	int tty = isatty(STDIN_FILENO), ok;

	if (tty) {
		fprintf(stderr, "%s", prompt);
		tcgetattr(STDIN_FILENO, &old);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	ok = fgets(buf, (int)len, stdin) != NULL;
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fprintf(stderr, "\n");
	}
	if (!ok)
		return -1;
	buf[strcspn(buf, "\r\n")] = '\0';
	return 0;
}

/* user_passwd - crmctl user passwd */
static int user_passwd(struct cli *cli, int argc, char **argv)
{
	char pw[PW_MAX + 2], again[PW_MAX + 2], hash[crypto_pwhash_STRBYTES], err[512];
	struct store *st;
	int rc;

	if (argc != 2)
		return user_usage(0);
	if (norm_address(cli, argv[1]) < 0)
		return CLI_USAGE;
	if (sodium_init() < 0) {
		cli_error("libsodium cannot start");
		return CLI_PARTIAL;
	}
	if (read_line("New password: ", pw, sizeof pw) < 0 ||
	    (isatty(STDIN_FILENO) && read_line("Again: ", again, sizeof again) < 0)) {
		cli_error("no password given");
		return CLI_USAGE;
	}
	rc = CLI_USAGE;
	if (isatty(STDIN_FILENO) && strcmp(pw, again) != 0)
		cli_error("the passwords differ");
	else if (strlen(pw) < PW_MIN || strlen(pw) > PW_MAX)
		cli_error("a password has %d to %d characters", PW_MIN, PW_MAX);
	else if (crypto_pwhash_str(hash, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
				   crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		cli_error("out of memory hashing the password");
	else
		rc = CLI_OK;
	sodium_memzero(pw, sizeof pw);
	sodium_memzero(again, sizeof again);
	if (rc != CLI_OK)
		return rc;
	st = cli_open_store(cli, 0);
	if (!st)
		return CLI_STORE;
	rc = store_user_secret(st, argv[1], hash, err, sizeof err);
	store_close(st);
	if (rc != STORE_OK) {
		cli_error("%s", err);
		return rc == STORE_EINVAL ? CLI_USAGE : CLI_STORE;
	}
	printf("password of %s set\n", argv[1]);
	return CLI_OK;
}

/* user_list - crmctl user list [--json] */
static int user_list(struct cli *cli, int argc, char **argv)
{
	int json = argc == 2 && strcmp(argv[1], "--json") == 0;
	struct store *st;
	char err[512];
	json_t *a, *u;
	size_t i;
	int rc;

	if (argc > 2 || (argc == 2 && !json))
		return user_usage(0);
	st = cli_open_store(cli, 1);
	if (!st)
		return CLI_STORE;
	rc = store_users(st, &a, err, sizeof err);
	store_close(st);
	if (rc != STORE_OK) {
		cli_error("%s", err);
		return CLI_STORE;
	}
	if (json) {
		cli_print_json(a);
		return CLI_OK;
	}
	json_array_foreach(a, i, u)
		printf("%-32s %-7s %-12s %s\n", json_string_value(json_object_get(u, "address")),
		       json_string_value(json_object_get(u, "role")),
		       json_string_value(json_object_get(u, "team")) ?
		       json_string_value(json_object_get(u, "team")) : "-",
		       json_is_true(json_object_get(u, "password")) ? "password set" : "no password");
	json_decref(a);
	return CLI_OK;
}

/* user_remove - crmctl user remove ADDRESS */
static int user_remove(struct cli *cli, int argc, char **argv)
{
	struct store *st;
	char err[512];
	int rc;

	if (argc != 2)
		return user_usage(0);
	for (char *p = argv[1]; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	st = cli_open_store(cli, 0);
	if (!st)
		return CLI_STORE;
	rc = store_user_remove(st, argv[1], err, sizeof err);
	store_close(st);
	if (rc != STORE_OK) {
		cli_error("%s", err);
		return rc == STORE_EINVAL ? CLI_USAGE : CLI_STORE;
	}
	printf("user %s removed\n", argv[1]);
	return CLI_OK;
}

/* cmd_user - crmctl user SUBCOMMAND */
int cmd_user(struct cli *cli, int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return user_usage(1);
	if (argc < 2)
		return user_usage(0);
	if (strcmp(argv[1], "add") == 0)
		return user_add(cli, argc - 1, argv + 1);
	if (strcmp(argv[1], "passwd") == 0)
		return user_passwd(cli, argc - 1, argv + 1);
	if (strcmp(argv[1], "list") == 0)
		return user_list(cli, argc - 1, argv + 1);
	if (strcmp(argv[1], "remove") == 0)
		return user_remove(cli, argc - 1, argv + 1);
	return user_usage(0);
}
