/*
 * status.c - what the store says about the mail flow, for monitoring:
 * crmctl status (a Nagios-style check) and crmview's /metrics
 *
 * Public (store.h): store_status.  One read transaction, so the numbers
 * never mix two states of the store.  "Recent" means received by crmilter
 * recently: a message counts in the last hour or day by the arrival time
 * of its first milter copy (message_sources.arrival, the time crmilter
 * spooled it), never by its Date header, which can be days off, absurd or
 * missing; imported mail has no arrival and counts only in the totals.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "store_int.h"

/*
 * Each query reads only what it counts (schema 5's partial indexes): the
 * totals count the smallest index, the recent figures walk the milter
 * arrivals of the last day (message_sources_arrival), and the skipped
 * messages come from messages_skipped.  Logged = all - skipped: a skipped
 * message is in no thread (thread_id NULL, ingest and apply alike).
 */
#define SQL_TOTALS \
	"SELECT (SELECT count(*) FROM messages)," \
	" (SELECT count(*) FROM contacts)," \
	" (SELECT count(*) FROM threads WHERE messages > 0 AND unassigned IS NOT NULL)," \
	" (SELECT max(arrival) FROM message_sources WHERE source = 'milter')"

/*
 * logged and skipped among the messages first received since ?1 (hour)
 * and ?2 (day): those with a milter copy since ?2, whose first copy is
 * that recent too (a message crmilter saw again today counts on its first day)
 */
#define SQL_RECENT \
	"SELECT coalesce(sum(m.log <> 'skipped' AND r.first >= ?1), 0)," \
	" coalesce(sum(m.log = 'skipped' AND r.first >= ?1), 0)," \
	" coalesce(sum(m.log <> 'skipped'), 0), coalesce(sum(m.log = 'skipped'), 0)" \
	" FROM (SELECT s.message_id, (SELECT min(f.arrival) FROM message_sources f" \
	"   WHERE f.message_id = s.message_id AND f.source = 'milter') AS first" \
	"  FROM message_sources s INDEXED BY message_sources_arrival" \
	"  WHERE s.source = 'milter' AND s.arrival >= ?2" \
	"  GROUP BY s.message_id) AS r" \
	" JOIN messages m ON m.id = r.message_id WHERE r.first >= ?2"

/* skipped messages by the reason their rule gave ("" when it gave none) */
#define SQL_REASONS \
	"SELECT coalesce(log_reason, ''), count(*) FROM messages INDEXED BY messages_skipped" \
	" WHERE thread_id IS NULL AND log = 'skipped' GROUP BY 1 ORDER BY 1"

/* file_bytes - size of PATH, or 0 when it is missing */
static json_int_t file_bytes(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? (json_int_t)sb.st_size : 0;
}

/* store_bytes - the database file and its write-ahead log */
static json_int_t store_bytes(const char *path)
{
	char wal[4096];

	if ((size_t)snprintf(wal, sizeof wal, "%s-wal", path) >= sizeof wal)
		return file_bytes(path);
	return file_bytes(path) + file_bytes(wal);
}

/*
 * row_into - run SQL (binding ?1 and ?2 to A and B), and set KEYS[i] of O
 * to column i of its one row (NULL columns become null).  Returns 0, or -1
 * with the error reported into st->err.
 */
static int row_into(struct store *st, const char *sql, int64_t a, int64_t b, json_t *o,
		    const char *const *keys, int n)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);

	if (rc == SQLITE_OK) {
		if (sqlite3_bind_parameter_count(s) >= 2) {
			sqlite3_bind_int64(s, 1, a);
			sqlite3_bind_int64(s, 2, b);
		}
		rc = sqlite3_step(s);
	}
	if (rc != SQLITE_ROW) {
		store_sqlerr(st, rc == SQLITE_DONE ? SQLITE_ERROR : rc, "reading status");
		sqlite3_finalize(s);
		return -1;
	}
	for (int i = 0; i < n; i++)
		json_object_set_new(o, keys[i], sqlite3_column_type(s, i) == SQLITE_NULL
					    ? json_null() : json_integer(sqlite3_column_int64(s, i)));
	sqlite3_finalize(s);
	return 0;
}

/* reasons_json - {"reason": count} of the skipped messages (*total: their sum), or NULL with st->err */
static json_t *reasons_json(struct store *st, json_int_t *total)
{
	sqlite3_stmt *s = NULL;
	json_t *o;
	int rc = sqlite3_prepare_v2(st->db, SQL_REASONS, -1, &s, NULL);

	if (rc != SQLITE_OK) {
		store_sqlerr(st, rc, "reading status");
		sqlite3_finalize(s);
		return NULL;
	}
	o = json_object();
	*total = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *reason = (const char *)sqlite3_column_text(s, 0);
		json_int_t n = (json_int_t)sqlite3_column_int64(s, 1);
		*total += n;
		/* a reason that is not UTF-8 cannot be a JSON key: jansson refuses it */
		if (json_object_set_new(o, reason ? reason : "", json_integer(n)) < 0)
			json_object_set_new(o, "?", json_integer(n));
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		store_sqlerr(st, rc, "reading status");
		json_decref(o);
		return NULL;
	}
	return o;
}

/* store_status - see store.h */
json_t *store_status(struct store *st, int64_t now, char *err, size_t errlen)
{
	static const char *const totals[] = {
		"logged", "contacts", "threads_unassigned", "last_arrival",
	};
	static const char *const recent[] = {
		"logged_hour", "skipped_hour", "logged_day", "skipped_day",
	};
	json_t *o = json_object(), *reasons = NULL;
	json_int_t skipped = 0;

	if (err && errlen)
		err[0] = '\0';
	st->err = err;
	st->errlen = errlen;
	sqlite3_exec(st->db, "BEGIN", NULL, NULL, NULL);
	json_object_set_new(o, "path", json_string(st->path));
	json_object_set_new(o, "bytes", json_integer(store_bytes(st->path)));
	json_object_set_new(o, "schema_version", json_integer(store_schema_version(st)));
	/* "logged" holds every message until the skipped ones are known */
	if (row_into(st, SQL_TOTALS, 0, 0, o, totals, 4) < 0 ||
	    row_into(st, SQL_RECENT, now - 3600, now - 86400, o, recent, 4) < 0 ||
	    !(reasons = reasons_json(st, &skipped))) {
		json_decref(o);
		o = NULL;
	} else {
		json_object_set_new(o, "logged", json_integer(json_integer_value(
							 json_object_get(o, "logged")) - skipped));
		json_object_set_new(o, "skipped", json_integer(skipped));
		json_object_set_new(o, "skipped_by_reason", reasons);
	}
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
	st->err = NULL;
	st->errlen = 0;
	return o;
}
