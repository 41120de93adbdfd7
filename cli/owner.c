/*
 * owner.c - crmctl run as root keeps the store the service user's
 *
 * crmilter and crmview run as UserID (crmilter).  A store that crmctl,
 * run as root, created would be root's and 0644: crmilter could not write
 * it ("attempt to write a readonly database") and every local user could
 * read the company's mail.  So as root crmctl asks store_open() to create
 * a new store owned by UserID, mode 0640 (conf_store_owner; ingest_open
 * does the same for import and rules apply); SQLite, running as root,
 * gives the -wal and -shm it creates the database file's owner.  An
 * existing store owned by root while UserID exists gets a warning with the
 * chown to run.
 *
 * Public (cli.h): cli_store_owner.
 */
#include <sys/stat.h>

#include "cli.h"

/* cli_store_owner - see cli.h */
void cli_store_owner(const struct conf *conf, struct store_opts *opts)
{
	struct stat st;

	opts->owner_set = conf_store_owner(conf, &opts->owner_uid, &opts->owner_gid);
	if (opts->owner_set && !opts->readonly && lstat(conf->database, &st) == 0 &&
	    S_ISREG(st.st_mode) && st.st_uid == 0)
		cli_error("warning: %s is owned by root: crmilter and crmview (user %s) cannot"
			  " use it; run: chown %s: %s*", conf->database, conf->user, conf->user,
			  conf->database);
}
