/*
 * cmd_import.c - crmctl import: past mail into the store
 *
 * Reads every path (mbox, Maildir, message files, folders of them) through
 * the same ingest pipeline as the milter.  Importing the same mail again
 * adds nothing.  A message that fails is named with its file (and mbox
 * offset) and reason, and the run goes on.  Prints "imported N, duplicates
 * D, failed F" at the end; exit status 1 when anything failed.  The next
 * messages are parsed on the other cores while one is written (ingest_ahead).
 */
#include <getopt.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "../ingest/ingest.h"

#define IMPORT_RETRIES 10   /* store busy: retry a batch this many times */

struct import_counts {
	uint64_t imported, duplicates, failed, skipped;
	struct progress *progress;
	int verbose;
};

/* on_outcome - count one message and name it when it failed */
static void on_outcome(const struct ingest_outcome *o, void *arg)
{
	struct import_counts *c = arg;
	if (o->error) {
		c->failed++;
		progress_clear(c->progress);
		cli_error("%s: %s", o->origin, o->error);
	} else if (o->duplicate) {
		c->duplicates++;
	} else {
		c->imported++;
		if (c->verbose) {
			progress_clear(c->progress);
			fprintf(stderr, "%s: <%s> thread %" PRId64 "\n", o->origin, o->message_id,
				o->thread_id);
		}
	}
}

/*
 * with_retry - add MSG (NULL: write what is added), retrying while the
 * store is busy; returns the final store_err class.  A failed add did not
 * take MSG, so it is added again.
 */
static int with_retry(struct ingest_ahead *a, const struct ingest_msg *msg, char *err,
		      size_t errlen)
{
	int rc = STORE_OK;
	for (int attempt = 0; attempt <= IMPORT_RETRIES; attempt++) {
		rc = msg ? ingest_ahead_add(a, msg, err, errlen) : ingest_ahead_flush(a, err, errlen);
		if (rc != STORE_EBUSY)
			return rc;
		sleep(1);
	}
	return rc;
}

/*
 * parsers - the threads that parse ahead: one per core this process may
 * run on (its affinity: taskset, cgroups) but the writer's, at most 3
 */
static unsigned parsers(void)
{
	cpu_set_t set;
	long n = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set)
							      : sysconf(_SC_NPROCESSORS_ONLN);

	return n <= 1 ? 0 : n > 4 ? 3 : (unsigned)n - 1;
}

/* skipped_text - ", skipped N" for the summary, "" when nothing was (static) */
static const char *skipped_text(uint64_t n)
{
	static char buf[48];

	if (!n)
		return "";
	snprintf(buf, sizeof buf, ", skipped %" PRIu64, n);
	return buf;
}

/* name_skipped - say what under the path is not read, and count it */
static void name_skipped(const struct mail_source *src, struct import_counts *c)
{
	const char *const *v;
	size_t n = mail_source_skipped(src, &v);

	for (size_t i = 0; i < n; i++)
		cli_error("skipped %s", v[i]);
	c->skipped += n;
}

/* import_path - import everything under one path; returns a CLI_* status */
static int import_path(struct ingest_ahead *a, const char *path, struct import_counts *c)
{
	char err[1024], origin[4200];
	struct mail_source *src;
	struct mail_item item;
	int r;

	if (mail_source_open(path, &src, err, sizeof err) < 0) {
		progress_clear(c->progress);
		cli_error("%s", err);
		c->failed++;
		return CLI_PARTIAL;
	}
	name_skipped(src, c);
	while ((r = mail_source_next(src, &item, err, sizeof err)) != 0) {
		if (r < 0) {
			progress_clear(c->progress);
			cli_error("%s", err);
			c->failed++;
			continue;
		}
		if (item.offset >= 0)
			snprintf(origin, sizeof origin, "%s:%" PRId64, item.origin, item.offset);
		else
			snprintf(origin, sizeof origin, "%s", item.origin);
		if (!mail_looks_like_message(item.data, item.len)) {
			progress_clear(c->progress);
			cli_error("%s: not a mail message (no header field at the start)", origin);
			c->failed++;
			continue;
		}
		struct ingest_msg msg = {
			.raw = item.data, .len = item.len, .origin = origin,
			.fallback_date = item.envelope_date, .source = STORE_SRC_IMPORT,
			.originated = -1,
		};
		if (with_retry(a, &msg, err, sizeof err) != STORE_OK) {
			progress_clear(c->progress);
			cli_error("%s", err);
			mail_source_close(src);
			return CLI_STORE;
		}
		uint64_t done, total;
		mail_source_progress(src, &done, &total);
		progress_update(c->progress, c->imported + c->duplicates + c->failed, done, total);
	}
	mail_source_close(src);
	return CLI_OK;
}

/* print_rules_warnings - what crmctl rules check would warn about the rules
 * in use, on stderr: the import goes on, as crmilter does */
static void print_rules_warnings(struct cli *cli, struct ingest *in)
{
	struct rules *r = ingest_rules(in);
	char *w = NULL;

	if (ingest_rules_lint(&cli->conf, r, ingest_store(in), &w) > 0)
		fprintf(stderr, "%s\n", w);
	free(w);
	rules_unref(r);
}

/* cmd_import - crmctl import [-q] PATH... */
int cmd_import(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "quiet", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 },
	};
	int ch, quiet = 0;
	while ((ch = getopt_long(argc, argv, "hq", opts, NULL)) != -1) {
		if (ch == 'q') {
			quiet = 1;
		} else {
			fprintf(ch == 'h' ? stdout : stderr,
				"usage: crmctl import [-q] PATH...\n"
				"  PATH: an mbox file, a Maildir, a message file, or a folder of them\n"
				"  -q    no summary line\n");
			return ch == 'h' ? CLI_OK : CLI_USAGE;
		}
	}
	if (optind >= argc) {
		cli_error("import: no PATH given");
		return CLI_USAGE;
	}
	if (cli_need_domains(cli, "crmctl import") < 0)
		return CLI_USAGE;
	char err[1024];
	struct import_counts c = { .verbose = cli->verbose };
	struct ingest *in;
	int rc = ingest_open(&cli->conf, on_outcome, &c, &in, err, sizeof err);
	if (rc != STORE_OK) {
		cli_error("%s", err);
		return rc == STORE_EINVAL ? CLI_USAGE : CLI_STORE;
	}
	print_rules_warnings(cli, in);
	ingest_train_early(in);
	struct ingest_ahead *a;
	if (ingest_ahead_open(in, parsers(), &a, err, sizeof err) < 0) {
		cli_error("%s", err);
		ingest_close(in);
		return CLI_STORE;
	}
	c.progress = progress_new();
	int status = CLI_OK;
	for (int i = optind; i < argc && status != CLI_STORE; i++) {
		int r = import_path(a, argv[i], &c);
		if (r != CLI_OK)
			status = r;
	}
	if (status != CLI_STORE && with_retry(a, NULL, err, sizeof err) != STORE_OK) {
		cli_error("%s", err);
		status = CLI_STORE;
	}
	progress_free(c.progress);
	ingest_ahead_close(a);
	ingest_close(in);
	if (!quiet)
		printf("imported %" PRIu64 ", duplicates %" PRIu64 ", failed %" PRIu64 "%s\n",
		       c.imported, c.duplicates, c.failed, skipped_text(c.skipped));
	if (status == CLI_OK && c.failed)
		status = CLI_PARTIAL;
	return status;
}
