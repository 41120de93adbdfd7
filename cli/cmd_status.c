/*
 * cmd_status.c - crmctl status: is crmilter well?  For a person, and for a
 * monitoring system as a Nagios-style check
 *
 *   crmctl status [--json] [--warn-age DURATION] [--crit-age DURATION]
 *
 * Gathers, without writing anything: whether crmilter runs (its PidFile,
 * a live process named crmilter), the spool (messages waiting in new/ and
 * the age of the oldest: the ingest lag; failed/; tmp/), and the store's
 * numbers (storage's store_status: messages logged and skipped in the last
 * hour and day by milter arrival, totals, contacts, unassigned threads,
 * size, schema version), and the rules: RulesFile's (count, sha256) beside
 * those crmilter put in force (its note in the spool).  The first line of the plain output is a plugin
 * line, "CRMILTER OK - ... | perfdata", and the exit status follows the
 * plugin convention: 0 OK, 1 WARNING (spool lagging past --warn-age,
 * messages in failed/, a rules file that does not load or is not the one in
 * force), 2 CRITICAL (crmilter not running, spool lagging past --crit-age,
 * no Domains, store damaged), 3 UNKNOWN (something could not be read,
 * or bad arguments).  The durations default to 5m and 30m.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "../ingest/ingest.h"
#include "../milter/spool.h"

enum { ST_OK = 0, ST_WARNING = 1, ST_CRITICAL = 2, ST_UNKNOWN = 3 };
static const char *const state_name[] = { "OK", "WARNING", "CRITICAL", "UNKNOWN" };

#define STATUS_WARN_AGE 300        /* seconds: the worker normally drains new/ in seconds */
#define STATUS_CRIT_AGE 1800

struct status_opts {
	int json;
	int64_t warn_age, crit_age;
};

/* the verdict being built: the worst state and the problems found */
struct verdict {
	int state;
	json_t *problems;              /* [{"state", "text"}] */
};

/* status_usage - print the synopsis */
static void status_usage(FILE *f)
{
	fprintf(f, "usage: crmctl status [--json] [--warn-age DURATION] [--crit-age DURATION]\n"
		   "  DURATION: seconds, or a number with s, m, h or d (defaults 5m and 30m)\n"
		   "  exit: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN\n");
}

/* rank - how bad a state is when two combine: UNKNOWN is below CRITICAL */
static int rank(int state)
{
	return state == ST_CRITICAL ? 3 : state == ST_UNKNOWN ? 2 : state;
}

/* problem - record a problem of STATE; the verdict becomes at least as bad */
static void problem(struct verdict *v, int state, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void problem(struct verdict *v, int state, const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	json_array_append_new(v->problems, json_pack("{s:s,s:s}", "state", state_name[state],
						     "text", text));
	if (rank(state) > rank(v->state))
		v->state = state;
}

/* parse_duration - "90", "90s", "5m", "2h", "1d" into seconds; 0 or -1 */
static int parse_duration(const char *s, int64_t *out)
{
	char *end;
	long long n;
	int64_t unit = 1;

	errno = 0;
	n = strtoll(s, &end, 10);
	if (end == s || errno || n < 0)
		return -1;
	if (*end && end[1])
		return -1;
	switch (*end) {
	case '\0': case 's': unit = 1; break;
	case 'm': unit = 60; break;
	case 'h': unit = 3600; break;
	case 'd': unit = 86400; break;
	default: return -1;
	}
	if (n > INT64_MAX / unit / 2)
		return -1;
	*out = (int64_t)n * unit;
	return 0;
}

/* human - seconds as "45 s", "12 min", "5 h", "3 d" into buf; returns buf */
static const char *human(int64_t s, char *buf, size_t len)
{
	if (s < 120)
		snprintf(buf, len, "%" PRId64 " s", s);
	else if (s < 2 * 3600)
		snprintf(buf, len, "%" PRId64 " min", s / 60);
	else if (s < 2 * 86400)
		snprintf(buf, len, "%" PRId64 " h", s / 3600);
	else
		snprintf(buf, len, "%" PRId64 " d", s / 86400);
	return buf;
}

/* daemon_json - {"pidfile", "running", "pid"[, "error"]} of crmilter, a new value; problems into V */
static json_t *daemon_json(struct cli *cli, struct verdict *v)
{
	const char *path = cli->conf.pidfile;
	json_t *o = json_object();
	long pid = 0;
	int r;

	json_object_set_new(o, "pidfile", path ? json_string(path) : json_null());
	if (!path || !*path) {
		json_object_set_new(o, "running", json_null());
		problem(v, ST_UNKNOWN, "no PidFile in %s: cannot tell whether crmilter runs",
			cli->conf.path ? cli->conf.path : CONF_DEFAULT_PATH);
		return o;
	}
	r = pidfile_check(path, "crmilter", &pid);
	int e = errno;
	json_object_set_new(o, "running", r < 0 ? json_null() : json_boolean(r == 1));
	json_object_set_new(o, "pid", pid ? json_integer(pid) : json_null());
	if (r < 0) {
		json_object_set_new(o, "error", json_sprintf("%s: %s", path, strerror(e)));
		problem(v, ST_UNKNOWN, "pid file %s: %s", path, strerror(e));
	} else if (r == 0 && pid) {
		problem(v, ST_CRITICAL, "crmilter is not running (pid file %s names %ld, which is"
			" not crmilter)", path, pid);
	} else if (r == 0) {
		problem(v, ST_CRITICAL, "crmilter is not running (no pid file %s)", path);
	}
	return o;
}

/*
 * spool_json - {"directory", "waiting", "waiting_bytes", "oldest_age",
 * "failed", "receiving"} (oldest_age: seconds, null when nothing waits), a
 * new value; when the spool cannot be read {"directory", "error"}.  Problems into V
 */
static json_t *spool_json(struct cli *cli, const struct status_opts *opt, int64_t now,
			  struct verdict *v)
{
	char err[1024], a[32], b[32];
	json_t *o = json_object();
	json_int_t waiting, wbytes, failed, fbytes, tmp, tbytes;
	int64_t oldest, foldest, toldest;
	struct spool *sp;

	json_object_set_new(o, "directory", json_string(cli->conf.spool));
	if (spool_open(cli->conf.spool, 0, &sp, err, sizeof err) < 0) {
		json_object_set_new(o, "error", json_string(err));
		problem(v, ST_UNKNOWN, "spool %s", err);
		return o;
	}
	if (spool_count(sp, SPOOL_NEW, &waiting, &wbytes, &oldest, err, sizeof err) < 0 ||
	    spool_count(sp, SPOOL_FAILED, &failed, &fbytes, &foldest, err, sizeof err) < 0 ||
	    spool_count(sp, SPOOL_TMP, &tmp, &tbytes, &toldest, err, sizeof err) < 0) {
		spool_close(sp);
		json_object_set_new(o, "error", json_string(err));
		problem(v, ST_UNKNOWN, "spool %s", err);
		return o;
	}
	spool_close(sp);
	int64_t age = oldest ? (now > oldest ? now - oldest : 0) : -1;
	json_object_set_new(o, "waiting", json_integer(waiting));
	json_object_set_new(o, "waiting_bytes", json_integer(wbytes));
	json_object_set_new(o, "oldest_age", age >= 0 ? json_integer(age) : json_null());
	json_object_set_new(o, "failed", json_integer(failed));
	json_object_set_new(o, "receiving", json_integer(tmp));
	if (age >= opt->warn_age) {
		int crit = age >= opt->crit_age;
		problem(v, crit ? ST_CRITICAL : ST_WARNING, "spool backing up: %" JSON_INTEGER_FORMAT
			" message%s waiting, the oldest for %s (%s at %s)", waiting,
			waiting == 1 ? "" : "s", human(age, a, sizeof a), crit ? "critical" : "warning",
			human(crit ? opt->crit_age : opt->warn_age, b, sizeof b));
	}
	if (failed)
		problem(v, ST_WARNING, "%" JSON_INTEGER_FORMAT " message%s in failed/ (crmctl spool"
			" status; crmctl spool retry)", failed, failed == 1 ? "" : "s");
	return o;
}

/* in_force_json - {"file", "sha256", "rules", "since"} of the rules crmilter
 * last put in force (its note in the spool), or null; a new value */
static json_t *in_force_json(const char *spool)
{
	char buf[8192], file[4096], sha[65];
	long long since;
	size_t count;

	if (spool_state_read(spool, SPOOL_RULES_STATE, buf, sizeof buf) < 0 ||
	    sscanf(buf, "%4095[^\n]\n%64[0-9a-f]\n%zu\n%lld", file, sha, &count, &since) != 4)
		return json_null();
	return json_pack("{s:o,s:s,s:I,s:I}", "file", strcmp(file, "-") ? json_string(file)
							      : json_null(),
			 "sha256", sha, "rules", (json_int_t)count, "since", (json_int_t)since);
}

/*
 * rules_json - the rules crmilter.conf names, {"file" (null: built-in),
 * "sha256", "rules", "in_force"} or {"file", "error", "in_force"}: a new
 * value.  Problems into V: no Domains, a rules file that does not load, a
 * running crmilter whose rules in force differ from the file's.
 */
static json_t *rules_json(struct cli *cli, int running, struct verdict *v)
{
	char err[65536];
	struct rules *r;
	json_t *o = json_object(), *now = in_force_json(cli->conf.spool);
	const char *sha = json_string_value(json_object_get(now, "sha256"));

	if (!cli->conf.domains.n)
		problem(v, ST_CRITICAL, "Domains is not set in %s: crmilter refuses to start",
			cli->conf.path ? cli->conf.path : CONF_DEFAULT_PATH);
	if (ingest_load_rules(&cli->conf, &r, err, sizeof err) < 0) {
		err[strcspn(err, "\n")] = '\0';
		json_object_set_new(o, "file", json_string(cli->conf.rules));
		json_object_set_new(o, "error", json_string(err));
		problem(v, ST_WARNING, "rules: %s (crmctl rules check): crmilter %s", err,
			running ? "keeps the rules in force; a restart fails" : "cannot start");
	} else {
		json_object_set_new(o, "file", rules_path(r) ? json_string(rules_path(r)) : json_null());
		json_object_set_new(o, "sha256", json_string(rules_sha256(r)));
		json_object_set_new(o, "rules", json_integer((json_int_t)rules_count(r)));
		if (running && sha && strcmp(sha, rules_sha256(r)) != 0)
			problem(v, ST_WARNING, "crmilter has older rules in force (sha256 %.12s...): "
				"reload it (SIGHUP) to apply %s", sha,
				rules_path(r) ? rules_path(r) : "the built-in rules");
		rules_unref(r);
	}
	json_object_set_new(o, "in_force", running ? now : (json_decref(now), json_null()));
	return o;
}

/* store_json - store_status of the configured store, or {"path", "error"}: a new value; problems into V */
static json_t *store_json(struct cli *cli, int64_t now, struct verdict *v)
{
	char err[1024];
	struct store *st;
	json_t *o;
	struct store_opts opts = {
		.path = cli->conf.database,
		.readonly = 1,
		.busy_timeout_ms = cli->conf.busy_timeout_ms,
	};
	int rc = store_open(&opts, &st, err, sizeof err);

	if (rc == STORE_OK) {
		o = store_status(st, now, err, sizeof err);
		store_close(st);
		if (o)
			return o;
		rc = STORE_EIO;
	}
	o = json_pack("{s:s,s:s}", "path", cli->conf.database, "error", err);
	problem(v, rc == STORE_ECORRUPT ? ST_CRITICAL : ST_UNKNOWN, "store %s", err);
	return o;
}

/* num - integer member KEY of O, -1 when absent or null */
static json_int_t num(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_integer(v) ? json_integer_value(v) : -1;
}

/* first_line - "CRMILTER STATE - text | perfdata" */
static void first_line(json_t *root, const struct status_opts *opt)
{
	json_t *sp = json_object_get(root, "spool"), *st = json_object_get(root, "store");
	json_t *problems = json_object_get(root, "problems"), *p;
	json_int_t lag = num(root, "lag");
	size_t i;
	char a[32];

	printf("CRMILTER %s - ", json_string_value(json_object_get(root, "state")));
	if (json_array_size(problems) == 0)
		printf("crmilter running, %" JSON_INTEGER_FORMAT " waiting, %" JSON_INTEGER_FORMAT
		       " failed, lag %s", num(sp, "waiting"), num(sp, "failed"),
		       human(lag, a, sizeof a));
	json_array_foreach(problems, i, p)
		printf("%s%s", i ? "; " : "", json_string_value(json_object_get(p, "text")));
	printf(" |");
	if (num(sp, "waiting") >= 0)
		printf(" waiting=%" JSON_INTEGER_FORMAT " failed=%" JSON_INTEGER_FORMAT
		       " lag=%" JSON_INTEGER_FORMAT "s;%" PRId64 ";%" PRId64, num(sp, "waiting"),
		       num(sp, "failed"), lag, opt->warn_age, opt->crit_age);
	if (num(st, "logged_hour") >= 0)
		printf(" logged_hour=%" JSON_INTEGER_FORMAT " skipped_hour=%" JSON_INTEGER_FORMAT
		       " store=%" JSON_INTEGER_FORMAT "B", num(st, "logged_hour"),
		       num(st, "skipped_hour"), num(st, "bytes"));
	printf("\n");
}

/* print_rules - "rules:" lines: the file's, and crmilter's in force when they differ */
static void print_rules(json_t *r)
{
	json_t *now = json_object_get(r, "in_force");
	const char *file = json_string_value(json_object_get(r, "file"));
	const char *sha = json_string_value(json_object_get(r, "sha256"));
	const char *in_sha = json_string_value(json_object_get(now, "sha256"));
	char when[32];

	if (json_object_get(r, "error"))
		printf("rules:      %s\n", json_string_value(json_object_get(r, "error")));
	else if (file)
		printf("rules:      %s, %" JSON_INTEGER_FORMAT " rules, sha256 %s\n", file,
		       num(r, "rules"), sha);
	else
		printf("rules:      the built-in rules (no rules file)\n");
	if (!in_sha)
		return;
	format_utc(num(now, "since"), when, sizeof when);
	if (sha && strcmp(sha, in_sha) == 0)
		printf("in force:   the same, since %s UTC\n", when);
	else
		printf("in force:   %s, %" JSON_INTEGER_FORMAT " rules, sha256 %s, since %s UTC\n",
		       json_string_value(json_object_get(now, "file")) ?
		       json_string_value(json_object_get(now, "file")) : "the built-in rules",
		       num(now, "rules"), in_sha, when);
}

/* print_plain - the plugin line, then one line per subject for a person */
static void print_plain(json_t *root, const struct status_opts *opt)
{
	json_t *d = json_object_get(root, "crmilter"), *sp = json_object_get(root, "spool");
	json_t *st = json_object_get(root, "store"), *reasons, *n;
	const char *key;
	char a[32], b[32], c[32];
	int sep = 0;

	first_line(root, opt);
	if (json_object_get(d, "error"))
		printf("crmilter:   unknown: %s\n", json_string_value(json_object_get(d, "error")));
	else if (json_is_true(json_object_get(d, "running")))
		printf("crmilter:   running, pid %" JSON_INTEGER_FORMAT " (pid file %s)\n",
		       num(d, "pid"), json_string_value(json_object_get(d, "pidfile")));
	else if (json_is_null(json_object_get(d, "running")))
		printf("crmilter:   unknown (no PidFile)\n");
	else
		printf("crmilter:   not running\n");
	print_rules(json_object_get(root, "rules"));
	if (json_object_get(sp, "error")) {
		printf("spool:      %s\n", json_string_value(json_object_get(sp, "error")));
	} else {
		printf("spool:      %" JSON_INTEGER_FORMAT " waiting (%" JSON_INTEGER_FORMAT " bytes), %"
		       JSON_INTEGER_FORMAT " failed, %" JSON_INTEGER_FORMAT " being received in %s\n",
		       num(sp, "waiting"), num(sp, "waiting_bytes"), num(sp, "failed"),
		       num(sp, "receiving"), json_string_value(json_object_get(sp, "directory")));
		printf("lag:        %s (the oldest message waiting; warning at %s, critical at %s)\n",
		       human(num(root, "lag"), a, sizeof a), human(opt->warn_age, b, sizeof b),
		       human(opt->crit_age, c, sizeof c));
	}
	if (json_object_get(st, "error")) {
		printf("store:      %s\n", json_string_value(json_object_get(st, "error")));
		return;
	}
	printf("last hour:  %" JSON_INTEGER_FORMAT " logged, %" JSON_INTEGER_FORMAT " skipped\n",
	       num(st, "logged_hour"), num(st, "skipped_hour"));
	printf("last day:   %" JSON_INTEGER_FORMAT " logged, %" JSON_INTEGER_FORMAT " skipped\n",
	       num(st, "logged_day"), num(st, "skipped_day"));
	printf("total:      %" JSON_INTEGER_FORMAT " logged, %" JSON_INTEGER_FORMAT " skipped, %"
	       JSON_INTEGER_FORMAT " contacts, %" JSON_INTEGER_FORMAT " threads unassigned\n",
	       num(st, "logged"), num(st, "skipped"), num(st, "contacts"),
	       num(st, "threads_unassigned"));
	reasons = json_object_get(st, "skipped_by_reason");
	if (json_object_size(reasons)) {
		printf("skipped:   ");
		json_object_foreach(reasons, key, n) {
			printf("%s %s %" JSON_INTEGER_FORMAT, sep ? "," : "", *key ? key : "(no reason)",
			       json_integer_value(n));
			sep = 1;
		}
		printf("\n");
	}
	if (num(st, "last_arrival") > 0)
		printf("last mail:  %s UTC (received by crmilter)\n",
		       format_utc(num(st, "last_arrival"), a, sizeof a));
	printf("store:      %s, %" JSON_INTEGER_FORMAT " bytes, schema version %" JSON_INTEGER_FORMAT
	       "\n", json_string_value(json_object_get(st, "path")), num(st, "bytes"),
	       num(st, "schema_version"));
}

/* run_status - gather, judge, print; returns the plugin exit status */
static int run_status(struct cli *cli, const struct status_opts *opt)
{
	struct verdict v = { ST_OK, json_array() };
	int64_t now = (int64_t)time(NULL);
	json_t *root = json_object(), *sp;

	json_t *d = daemon_json(cli, &v);
	json_object_set_new(root, "crmilter", d);
	json_object_set_new(root, "rules", rules_json(cli, json_is_true(json_object_get(d, "running")),
						      &v));
	sp = spool_json(cli, opt, now, &v);
	json_object_set_new(root, "spool", sp);
	json_object_set_new(root, "lag", json_integer(num(sp, "oldest_age") > 0
						       ? num(sp, "oldest_age") : 0));
	json_object_set_new(root, "store", store_json(cli, now, &v));
	json_object_set_new(root, "thresholds", json_pack("{s:I,s:I}", "warn_age",
							  (json_int_t)opt->warn_age, "crit_age",
							  (json_int_t)opt->crit_age));
	json_object_set_new(root, "problems", v.problems);
	json_object_set_new(root, "state", json_string(state_name[v.state]));
	json_object_set_new(root, "exit", json_integer(v.state));
	if (opt->json)
		cli_print_json(json_incref(root));
	else
		print_plain(root, opt);
	json_decref(root);
	return v.state;
}

/* cmd_status - see cli.h */
int cmd_status(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "warn-age", required_argument, NULL, 'w' },
		{ "crit-age", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct status_opts opt = { 0, STATUS_WARN_AGE, STATUS_CRIT_AGE };
	int c;

	while ((c = getopt_long(argc, argv, "jw:c:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'j': opt.json = 1; break;
		case 'w':
		case 'c':
			if (parse_duration(optarg, c == 'w' ? &opt.warn_age : &opt.crit_age) < 0) {
				cli_error("status: --%s %s: expected seconds or a number with s, m,"
					  " h or d", c == 'w' ? "warn-age" : "crit-age", optarg);
				return ST_UNKNOWN;
			}
			break;
		case 'h': status_usage(stdout); return CLI_OK;
		default: status_usage(stderr); return ST_UNKNOWN;
		}
	}
	if (optind < argc) {
		status_usage(stderr);
		return ST_UNKNOWN;
	}
	if (opt.warn_age > opt.crit_age) {
		cli_error("status: --warn-age is longer than --crit-age");
		return ST_UNKNOWN;
	}
	return run_status(cli, &opt);
}
