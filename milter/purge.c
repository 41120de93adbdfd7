/*
 * purge.c - the daily retention purge of crmilter
 *
 * The ingest worker calls milter_purge_maybe() between batches.  At most
 * once an hour (PURGE_CHECK_S) it looks whether Retention is set and the
 * last purge (the newest 'purge' row of the audit table, whoever ran it)
 * is a day (PURGE_EVERY_S) old or more; then it opens the store on a
 * connection of its own and runs store_purge() for the mail older than
 * Retention, which also vacuums the file.  The worker is apart from the
 * milter callbacks, so a long purge only delays ingestion: mail flows into
 * the spool meanwhile.  A failure is logged and tried again at the next
 * check.  One reading of the clock decides nothing alone: the store
 * refuses a purge when the clock is earlier than its newest arrival, or
 * when the purge would take more than a tenth of the mail (store_purge;
 * crmctl purge --force overrides), and a last purge dated in the future
 * (a clock that was ahead) does not hold purging back.
 */
#include <inttypes.h>
#include <time.h>

#include "milter_int.h"
#include "../storage/store.h"

#define PURGE_CHECK_S 3600      /* look at most this often */
#define PURGE_EVERY_S 86400     /* purge when the last one is this old */

static time_t last_check;       /* the worker thread's own: no lock */

/* purge_run - open the store of CONF and purge if a day has passed; logs what it did */
static void purge_run(const struct conf *conf, time_t now)
{
	struct store_opts opts = {
		.path = conf->database,
		.busy_timeout_ms = conf->busy_timeout_ms,
		.own_domains = (const char *const *)conf->domains.v,
		.n_own_domains = conf->domains.n,
	};
	struct store *st = NULL;
	json_t *report = NULL;
	int64_t last = 0;
	char err[1024], when[32];
	int rc = store_open(&opts, &st, err, sizeof err);

	if (rc == STORE_OK)
		rc = store_purge_last(st, &last, err, sizeof err);
	if (rc == STORE_OK && last > (int64_t)now + PURGE_EVERY_S) {
		/* written by a clock that was ahead: waiting for it would stop purging for good */
		msg_warn("retention purge: the last purge is dated %s, after now: the clock was or is"
			 " wrong; purging goes on, each run checked against the store",
			 format_utc(last, when, sizeof when));
		last = 0;
	}
	if (rc == STORE_OK && now - last >= PURGE_EVERY_S)
		rc = store_purge(st, (int64_t)now, (int64_t)now - (int64_t)conf->retention_days * 86400,
				 STORE_PURGE_CLOCK, "crmilter", &report, err, sizeof err);
	store_close(st);
	if (rc != STORE_OK) {
		msg_warn("retention purge: store %s: %s; trying again later", store_strerror(rc), err);
		return;
	}
	if (report && json_object_get(report, "refused"))
		msg_warn("retention purge (Retention %dd) refused, nothing deleted: %s; checked again"
			 " within the hour", conf->retention_days,
			 json_string_value(json_object_get(report, "refused")));
	else if (report)
		msg_info("retention purge (Retention %dd): %" PRId64 " messages and %" PRId64
			 " threads dated before %s deleted; %" PRId64 " kept on hold",
			 conf->retention_days,
			 (int64_t)json_integer_value(json_object_get(report, "messages")),
			 (int64_t)json_integer_value(json_object_get(report, "threads")),
			 json_string_value(json_object_get(report, "before")),
			 (int64_t)json_integer_value(json_object_get(report, "held")));
	json_decref(report);
}

/* milter_purge_maybe - see milter_int.h */
void milter_purge_maybe(void)
{
	time_t now = time(NULL);
	struct milter_cfg *cfg;

	if (last_check && now - last_check < PURGE_CHECK_S)
		return;
	last_check = now;
	cfg = milter_cfg_get();
	if (cfg->conf.retention_days > 0 && cfg->conf.database)
		purge_run(&cfg->conf, now);
	milter_cfg_put(cfg);
}
