/*
 * cmd_spool.c - crmctl spool: what waits in crmilter's spool, and replay
 *
 *   crmctl spool status [--json]   counts and bytes of new/ (waiting for the
 *                                  store), failed/ (each with its reason) and
 *                                  tmp/ (being received)
 *   crmctl spool retry [NAME...]   move failed messages (all, or the named
 *                                  ones) back to new/; the running daemon
 *                                  ingests them within seconds
 *
 * The spool format and its reading live in milter/spool.c (no libmilter).
 * Exit status: 0, 1 when a named message could not be retried, 2 usage,
 * 3 when the spool cannot be opened.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "../milter/spool.h"

/* spool_usage - print the synopsis */
static void spool_usage(FILE *f)
{
	fprintf(f, "usage: crmctl spool status [--json]\n"
		   "       crmctl spool retry [NAME...]\n");
}

/* open_spool - the configured spool, or NULL after printing why */
static struct spool *open_spool(struct cli *cli)
{
	char err[1024];
	struct spool *sp;
	if (spool_open(cli->conf.spool, 0, &sp, err, sizeof err) < 0) {
		cli_error("%s", err);
		return NULL;
	}
	return sp;
}

/* area_json - {"messages", "bytes", "oldest"} of one area, with "files" for failed/ */
static json_t *area_json(struct spool *sp, enum spool_area area, int *ok)
{
	char err[1024], when[32], reason[1024];
	struct spool_list l;
	json_t *o = json_object();
	if (spool_list(sp, area, &l, err, sizeof err) < 0) {
		cli_error("%s", err);
		*ok = 0;
		return o;
	}
	uint64_t bytes = 0;
	int64_t oldest = 0;
	for (size_t i = 0; i < l.n; i++) {
		bytes += l.sizes[i];
		if (!oldest || l.mtimes[i] < oldest)
			oldest = l.mtimes[i];
	}
	json_object_set_new(o, "messages", json_integer((json_int_t)l.n));
	json_object_set_new(o, "bytes", json_integer((json_int_t)bytes));
	json_object_set_new(o, "oldest", oldest ? json_string(format_utc(oldest, when, sizeof when))
						: json_null());
	if (area == SPOOL_FAILED) {
		json_t *files = json_array();
		for (size_t i = 0; i < l.n; i++) {
			json_t *f = json_object();
			json_object_set_new(f, "name", json_string(l.names[i]));
			json_object_set_new(f, "bytes", json_integer((json_int_t)l.sizes[i]));
			json_object_set_new(f, "reason",
					    json_string(spool_reason(sp, l.names[i], reason, sizeof reason)));
			json_array_append_new(files, f);
		}
		json_object_set_new(o, "files", files);
	}
	spool_list_free(&l);
	return o;
}

/* status - crmctl spool status */
static int status(struct cli *cli, int json)
{
	struct spool *sp = open_spool(cli);
	if (!sp)
		return CLI_STORE;
	int ok = 1;
	json_t *root = json_object();
	json_object_set_new(root, "spool", json_string(spool_dir(sp)));
	json_object_set_new(root, "new", area_json(sp, SPOOL_NEW, &ok));
	json_object_set_new(root, "failed", area_json(sp, SPOOL_FAILED, &ok));
	json_object_set_new(root, "tmp", area_json(sp, SPOOL_TMP, &ok));
	spool_close(sp);
	if (json) {
		cli_print_json(root);
		return ok ? CLI_OK : CLI_STORE;
	}
	printf("spool %s\n", json_string_value(json_object_get(root, "spool")));
	static const char *const areas[] = { "new", "failed", "tmp" };
	static const char *const what[] = { "waiting for the store", "could not be ingested",
					    "being received" };
	for (size_t i = 0; i < 3; i++) {
		json_t *a = json_object_get(root, areas[i]);
		json_t *old = json_object_get(a, "oldest");
		printf("%-7s %6" JSON_INTEGER_FORMAT " messages %12" JSON_INTEGER_FORMAT " bytes  %s%s%s\n",
		       areas[i], json_integer_value(json_object_get(a, "messages")),
		       json_integer_value(json_object_get(a, "bytes")), what[i],
		       json_is_string(old) ? ", oldest " : "",
		       json_is_string(old) ? json_string_value(old) : "");
	}
	size_t idx;
	json_t *f;
	json_array_foreach(json_object_get(json_object_get(root, "failed"), "files"), idx, f)
		printf("failed/%s: %s\n", json_string_value(json_object_get(f, "name")),
		       json_string_value(json_object_get(f, "reason")));
	json_decref(root);
	return ok ? CLI_OK : CLI_STORE;
}

/* retry - crmctl spool retry [NAME...] */
static int retry(struct cli *cli, int argc, char **argv)
{
	char err[1024];
	struct spool *sp = open_spool(cli);
	if (!sp)
		return CLI_STORE;
	int rc = CLI_OK;
	size_t moved = 0;
	if (argc == 0) {
		struct spool_list l;
		if (spool_list(sp, SPOOL_FAILED, &l, err, sizeof err) < 0) {
			cli_error("%s", err);
			spool_close(sp);
			return CLI_STORE;
		}
		for (size_t i = 0; i < l.n; i++) {
			if (spool_retry(sp, l.names[i]) == 0) {
				moved++;
			} else {
				cli_error("failed/%s: %m", l.names[i]);
				rc = CLI_PARTIAL;
			}
		}
		spool_list_free(&l);
	}
	for (int i = 0; i < argc; i++) {
		const char *name = strncmp(argv[i], "failed/", 7) == 0 ? argv[i] + 7 : argv[i];
		if (spool_retry(sp, name) == 0) {
			moved++;
		} else {
			cli_error("failed/%s: %m", name);
			rc = CLI_PARTIAL;
		}
	}
	spool_close(sp);
	printf("moved %zu message%s back to new/\n", moved, moved == 1 ? "" : "s");
	return rc;
}

/* cmd_spool - see cli.h */
int cmd_spool(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, json = 0;
	while ((c = getopt_long(argc, argv, "+jh", longopts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'h': spool_usage(stdout); return CLI_OK;
		default: spool_usage(stderr); return CLI_USAGE;
		}
	}
	if (optind >= argc) {
		spool_usage(stderr);
		return CLI_USAGE;
	}
	const char *sub = argv[optind++];
	if (strcmp(sub, "status") == 0) {
		while ((c = getopt_long(argc, argv, "jh", longopts, NULL)) != -1) {
			if (c == 'j')
				json = 1;
			else if (c == 'h') {
				spool_usage(stdout);
				return CLI_OK;
			} else {
				spool_usage(stderr);
				return CLI_USAGE;
			}
		}
		if (optind < argc) {
			spool_usage(stderr);
			return CLI_USAGE;
		}
		return status(cli, json);
	}
	if (strcmp(sub, "retry") == 0)
		return retry(cli, argc - optind, argv + optind);
	cli_error("spool: unknown subcommand '%s'", sub);
	spool_usage(stderr);
	return CLI_USAGE;
}
