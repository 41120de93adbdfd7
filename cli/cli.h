/*
 * cli.h - private to cli/: the crmctl commands and what they share
 *
 * Every command is a function taking the shared context and its own
 * arguments (argv[0] is the command name) and returning the process exit
 * status: CLI_OK, CLI_PARTIAL (the command ran but something failed),
 * CLI_USAGE (bad arguments or configuration) or CLI_STORE (store error).
 */
#ifndef CRM_CLI_H
#define CRM_CLI_H

#include "../common/common.h"
#include "../storage/store.h"

enum { CLI_OK = 0, CLI_PARTIAL = 1, CLI_USAGE = 2, CLI_STORE = 3 };

struct cli {
	const char *conf_path;   /* -c FILE, or NULL for the default */
	struct conf conf;
	int verbose;
};

/* cli_open_store - open the configured store; NULL after printing the error */
struct store *cli_open_store(struct cli *cli, int readonly);

/*
 * cli_store_owner - as root, OPTS (for CONF's store) create a store that
 * does not exist yet owned by UserID, 0640, so that crmilter can write it;
 * a warning about an existing store owned by root (owner.c)
 */
void cli_store_owner(const struct conf *conf, struct store_opts *opts);

/* cli_print_json - print a value indented, then a newline; takes the reference */
void cli_print_json(json_t *v);

/* cli_who - the Unix user running crmctl (with SUDO_USER when set) into BUF; returns BUF */
const char *cli_who(char *buf, size_t len);

/*
 * cli_need_domains - 0 when the configuration names the company's Domains;
 * else -1, after saying that WHAT ("crmctl import") cannot work without them
 */
int cli_need_domains(const struct cli *cli, const char *what);

/* cli_error - print "crmctl: message" on stderr */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* the commands */
int cmd_import(struct cli *cli, int argc, char **argv);
int cmd_stats(struct cli *cli, int argc, char **argv);
int cmd_threads(struct cli *cli, int argc, char **argv);
int cmd_show(struct cli *cli, int argc, char **argv);
int cmd_contacts(struct cli *cli, int argc, char **argv);
int cmd_accounts(struct cli *cli, int argc, char **argv);
int cmd_parse(struct cli *cli, int argc, char **argv);
int cmd_spool(struct cli *cli, int argc, char **argv);
int cmd_rules(struct cli *cli, int argc, char **argv);
int cmd_deals(struct cli *cli, int argc, char **argv);
int cmd_user(struct cli *cli, int argc, char **argv);
int cmd_export(struct cli *cli, int argc, char **argv);
/* cmd_status returns a monitoring plugin's status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN */
int cmd_status(struct cli *cli, int argc, char **argv);
int cmd_disconnect(struct cli *cli, int argc, char **argv);
int cmd_reconnect(struct cli *cli, int argc, char **argv);
int cmd_mailboxes(struct cli *cli, int argc, char **argv);
int cmd_forget(struct cli *cli, int argc, char **argv);
int cmd_purge(struct cli *cli, int argc, char **argv);
int cmd_hold(struct cli *cli, int argc, char **argv);
int cmd_release(struct cli *cli, int argc, char **argv);
int cmd_holds(struct cli *cli, int argc, char **argv);

/* progress - a one-line progress display on a terminal, silent elsewhere */
struct progress;
struct progress *progress_new(void);
void progress_update(struct progress *p, uint64_t count, uint64_t done, uint64_t total);
void progress_clear(struct progress *p);
void progress_free(struct progress *p);

#endif
