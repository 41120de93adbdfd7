/*
 * apply.c - store_apply(): re-apply the rules to stored mail after an edit
 *
 * In one transaction: the decisions of the store are written down as
 * sorted lines (a snapshot), the threads in scope lose their links,
 * visibility and unassigned reason (with no SINCE, every contact too),
 * every message of those threads is handed, with its raw source, to the
 * caller's decide callback in date order, twice: the first pass applies
 * each message's own decisions (a message now skipped loses its content:
 * participants, attachments, raw source, index row; it keeps only its
 * metadata row), the second its people, links, deals and visibility.
 * Then a second snapshot; the lines that differ are the report.  A dry run
 * rolls everything back.
 *
 * A thread with a logged message whose full raw source is not kept is out
 * of scope: its decisions cannot be made again and stay as they are.
 * Skipped messages have no raw source and stay skipped (a later import of
 * the same mail finds them stored: re-logging them is not supported yet).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store_int.h"

/* the decisions of the store as one line each (snapshot) */
#define SQL_RULE(col) "coalesce(" col ".file || ':' || " col ".line, 'default')"
static const char snapshot_sql[] =
	"INSERT INTO temp.%s (line)"
	" SELECT 'message <' || m.msgid || '>: ' || m.log || coalesce(' \"' || m.log_reason || '\"', '')"
	"  || ' by ' || " SQL_RULE("r") " FROM messages m LEFT JOIN rules r ON r.id = m.log_rule"
	" UNION ALL SELECT 'contact ' || c.address || coalesce(' (account ' || a.domain || ')', '')"
	"  || ' captured by ' || coalesce(r.file || ':' || r.line, c.captured_by)"
	"  FROM contacts c LEFT JOIN accounts a ON a.id = c.account_id"
	"  LEFT JOIN rules r ON r.id = c.capture_rule"
	" UNION ALL SELECT 'account ' || a.domain || ' \"' || coalesce(a.name, '') || '\"'"
	"  FROM accounts a"
	" UNION ALL SELECT 'thread ' || t.id || ' \"' || t.subject || '\": '"
	"  || CASE WHEN l.account_id IS NOT NULL THEN 'account ' || a.domain"
	"   WHEN l.contact_id IS NOT NULL THEN 'contact ' || c.address ELSE 'deal ' || d.key END"
	"  || ' by ' || " SQL_RULE("r")
	"  FROM links l JOIN threads t ON t.id = l.thread_id"
	"  LEFT JOIN accounts a ON a.id = l.account_id LEFT JOIN contacts c ON c.id = l.contact_id"
	"  LEFT JOIN deals d ON d.id = l.deal_id LEFT JOIN rules r ON r.id = l.rule_id"
	" UNION ALL SELECT 'thread ' || t.id || ' \"' || t.subject || '\": visibility '"
	"  || t.visibility || '/' || t.outside || ' by ' || " SQL_RULE("r")
	"  FROM threads t LEFT JOIN rules r ON r.id = t.vis_rule WHERE t.messages > 0"
	" UNION ALL SELECT 'thread ' || t.id || ' \"' || t.subject || '\": unassigned: ' || t.unassigned"
	"  FROM threads t WHERE t.messages > 0 AND t.unassigned IS NOT NULL";

/* snapshot - the decision lines into temp table NAME */
static int snapshot(struct store *st, const char *name)
{
	char sql[sizeof snapshot_sql + 64];
	int rc;

	snprintf(sql, sizeof sql, "CREATE TEMP TABLE %s (line TEXT NOT NULL)", name);
	rc = store_exec(st, sql);
	snprintf(sql, sizeof sql, snapshot_sql, name);
	return rc == STORE_OK ? store_exec(st, sql) : rc;
}

/*
 * scope - temp table apply_threads: threads with a logged message dated
 * SINCE or later, without those holding a message whose raw is not full
 */
static int scope(struct store *st, int64_t since)
{
	char sql[1024];

	snprintf(sql, sizeof sql,
		 "CREATE TEMP TABLE apply_threads (id INTEGER PRIMARY KEY);"
		 "INSERT INTO temp.apply_threads SELECT DISTINCT thread_id FROM messages"
		 " WHERE thread_id IS NOT NULL AND log <> 'skipped' AND date >= %lld;"
		 "DELETE FROM temp.apply_threads WHERE id IN (SELECT m.thread_id FROM messages m"
		 " LEFT JOIN raw r ON r.message_id = m.id WHERE m.thread_id IS NOT NULL AND"
		 " (r.mode IS NOT 'full' OR r.kept <> r.size))",
		 (long long)since);
	return store_exec(st, sql);
}

/* reset - the threads in scope lose their links and visibility; all contacts go when !SINCE */
static int reset(struct store *st, int64_t since)
{
	int rc = store_exec(st,
		"DELETE FROM links WHERE thread_id IN (SELECT id FROM temp.apply_threads);"
		"UPDATE threads SET visibility = 'workspace', outside = 'everything', vis_reason = NULL,"
		" vis_rule = NULL, unassigned = NULL WHERE id IN (SELECT id FROM temp.apply_threads)");

	if (rc == STORE_OK && since == 0)
		rc = store_exec(st, "DELETE FROM links WHERE contact_id IS NOT NULL; DELETE FROM contacts");
	return rc;
}

/* env_of - the envelope recipients of MID as an envelope (caller frees rcpts and strings) */
static int env_of(struct store *st, int64_t mid, struct store_envelope *env, char ***rcpts)
{
	sqlite3_stmt *s = NULL;
	size_t n = 0;
	char **v = NULL, **nv;
	int rc = sqlite3_prepare_v2(st->db, "SELECT address FROM participants WHERE message_id = ?1"
				    " AND role = 'envelope-rcpt' ORDER BY pos, address", -1, &s, NULL);

	if (rc != SQLITE_OK)
		return store_sqlerr(st, rc, "reading envelope recipients");
	sqlite3_bind_int64(s, 1, mid);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		nv = realloc(v, (n + 1) * sizeof *nv);
		if (!nv)
			break;
		v = nv;
		v[n] = strdup((const char *)sqlite3_column_text(s, 0));
		if (v[n])
			n++;
	}
	sqlite3_finalize(s);
	*env = (struct store_envelope){ .rcpts = (const char *const *)v, .n_rcpts = n };
	*rcpts = v;
	return rc == SQLITE_DONE ? STORE_OK : store_sqlerr(st, rc, "reading envelope recipients");
}

/* free_strings - free N strings and their array */
static void free_strings(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* run_mid - run SQL bound with MID as ?1 */
static int run_mid(struct store *st, const char *sql, int64_t mid)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);

	if (rc != SQLITE_OK)
		return store_sqlerr(st, rc, "preparing a re-apply statement");
	sqlite3_bind_int64(s, 1, mid);
	rc = store_step_done(st, s, "re-applying the rules");
	sqlite3_finalize(s);
	return rc;
}

/* strip - a logged message the rules now skip keeps only its metadata row */
static int strip(struct store *st, const struct store_item *it, int64_t mid, int64_t tid)
{
	static const char *const sql[] = {
		"DELETE FROM participants WHERE message_id = ?1",
		"DELETE FROM attachments WHERE message_id = ?1",
		"DELETE FROM raw WHERE message_id = ?1",
		"UPDATE message_ids SET message_id = NULL WHERE message_id = ?1",
		"UPDATE messages SET thread_id = NULL, subject = '', subject_key = NULL, body = NULL,"
		" dict_id = NULL, body_len = 0, body_offset = NULL, snippet = NULL, quotes = NULL,"
		" in_reply_to = NULL, headers = NULL, warnings = NULL, vis_reason = NULL, vis_rule = NULL"
		" WHERE id = ?1",
	};
	int rc = store_fts_delete(st, it, mid);

	for (size_t i = 0; rc == STORE_OK && i < sizeof sql / sizeof sql[0]; i++)
		rc = run_mid(st, sql[i], mid);
	if (rc == STORE_OK)
		rc = store_message_decision(st, it, mid);
	if (rc == STORE_OK)
		rc = run_mid(st, "UPDATE messages SET visibility = 'participants', outside = 'nothing'"
			     " WHERE id = ?1", mid);
	return rc == STORE_OK ? store_thread_refresh(st, tid) : rc;
}

/* counts of one run */
struct tally {
	int64_t evaluated, failed;
};

/*
 * one_message - decide one stored message (row at S) and apply: in PASS 1
 * its own decisions (log, skip, trust), in pass 2 people, links, deals and
 * visibility.  Two passes, so that a link to a past thread never comes
 * from a message whose own new decision says it links nobody.
 */
static int one_message(struct store *st, sqlite3_stmt *s, int pass, store_decide_fn decide,
		       store_release_fn release, void *arg, struct tally *t)
{
	int64_t mid = sqlite3_column_int64(s, 0), tid = sqlite3_column_int64(s, 3);
	const char *dir = (const char *)sqlite3_column_text(s, 2);
	struct store_envelope env;
	struct store_item it = { 0 };
	void *priv = NULL;
	char **rcpts = NULL;
	char *raw;
	int rc;

	raw = store_zdecompress(st, sqlite3_column_blob(s, 5), (size_t)sqlite3_column_bytes(s, 5),
				(size_t)sqlite3_column_int64(s, 4), sqlite3_column_int64(s, 6));
	if (!raw)
		return store_fail(st, STORE_ECORRUPT, "%s: message %lld: raw source cannot be read",
				  st->path, (long long)mid);
	rc = env_of(st, mid, &env, &rcpts);
	struct store_stored m = {
		.id = mid, .msgid = (const char *)sqlite3_column_text(s, 1),
		.direction = strcmp(dir, "outbound") == 0 ? STORE_OUTBOUND :
			     strcmp(dir, "internal") == 0 ? STORE_INTERNAL : STORE_INBOUND,
		.raw = raw, .raw_len = (size_t)sqlite3_column_int64(s, 4), .env = &env,
	};
	if (rc == STORE_OK && decide(&m, &it, &priv, arg) < 0) {
		t->failed += pass == 1;
	} else if (rc == STORE_OK) {
		t->evaluated += pass == 1;
		if (pass == 1 && it.dec && it.dec->skip)
			rc = strip(st, &it, mid, tid);
		else if (pass == 1)
			rc = store_message_decision(st, &it, mid);
		else if (!it.dec || !it.dec->skip)
			rc = store_decision_apply(st, &it, mid, tid);
		release(priv, arg);
	}
	free_strings(rcpts, env.n_rcpts);
	free(raw);
	return rc;
}

/* scope_ids - the ids of the messages of the threads in scope, in date order */
static int scope_ids(struct store *st, int64_t **ids, size_t *n)
{
	sqlite3_stmt *s = NULL;
	int64_t *nv;
	int rc = sqlite3_prepare_v2(st->db,
		"SELECT id FROM messages WHERE thread_id IN (SELECT id FROM temp.apply_threads)"
		" ORDER BY date, id", -1, &s, NULL);

	*ids = NULL;
	*n = 0;
	if (rc != SQLITE_OK)
		return store_sqlerr(st, rc, "listing messages to re-apply");
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		nv = realloc(*ids, (*n + 1) * sizeof *nv);
		if (!nv)
			break;
		*ids = nv;
		nv[(*n)++] = sqlite3_column_int64(s, 0);
	}
	sqlite3_finalize(s);
	if (rc == SQLITE_DONE)
		return STORE_OK;
	return rc == SQLITE_ROW ? store_fail(st, STORE_EINVAL, "%s: out of memory", st->path)
				: store_sqlerr(st, rc, "listing messages to re-apply");
}

/* replay - every message of the threads in scope, in date order, in two passes */
static int replay(struct store *st, store_decide_fn decide, store_release_fn release, void *arg,
		  struct tally *t)
{
	sqlite3_stmt *s = NULL;
	int64_t *ids;
	size_t n, i;
	int src, pass, rc = scope_ids(st, &ids, &n);

	if (rc != STORE_OK)
		return rc;
	src = sqlite3_prepare_v2(st->db,
		"SELECT m.id, m.msgid, m.direction, m.thread_id, r.kept, r.data, r.dict_id"
		" FROM messages m JOIN raw r ON r.message_id = m.id WHERE m.id = ?1", -1, &s, NULL);
	if (src != SQLITE_OK)
		rc = store_sqlerr(st, src, "reading a message to re-apply");
	for (pass = 1; pass <= 2; pass++) {
		for (i = 0; rc == STORE_OK && i < n; i++) {
			sqlite3_reset(s);
			sqlite3_bind_int64(s, 1, ids[i]);
			src = sqlite3_step(s);
			if (src == SQLITE_ROW)
				rc = one_message(st, s, pass, decide, release, arg, t);
			else if (src != SQLITE_DONE)
				rc = store_sqlerr(st, src, "reading a message to re-apply");
		}
	}
	sqlite3_finalize(s);
	free(ids);
	return rc;
}

/* lines - the lines of temp table A not in B, sorted, as a JSON array */
static json_t *lines(struct store *st, const char *a, const char *b)
{
	char sql[256];
	sqlite3_stmt *s = NULL;
	json_t *arr = json_array();

	snprintf(sql, sizeof sql, "SELECT line FROM temp.%s EXCEPT SELECT line FROM temp.%s ORDER BY 1",
		 a, b);
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return arr;
	while (sqlite3_step(s) == SQLITE_ROW)
		json_array_append_new(arr, json_string((const char *)sqlite3_column_text(s, 0)));
	sqlite3_finalize(s);
	return arr;
}

/* tidy - after a full run: accounts nobody uses any more go */
static int tidy(struct store *st, int64_t since)
{
	if (since)
		return STORE_OK;
	return store_exec(st, "DELETE FROM accounts WHERE id NOT IN (SELECT account_id FROM contacts"
			  " WHERE account_id IS NOT NULL) AND id NOT IN (SELECT account_id FROM links"
			  " WHERE account_id IS NOT NULL) AND id NOT IN (SELECT account_id FROM deals"
			  " WHERE account_id IS NOT NULL)");
}

/* audit - an audit row for a real run */
static int audit(struct store *st, int64_t since, json_t *report)
{
	char detail[256];
	sqlite3_stmt *s = NULL;
	int rc;

	snprintf(detail, sizeof detail, "since %lld: %zu decisions removed, %zu added",
		 (long long)since, json_array_size(json_object_get(report, "removed")),
		 json_array_size(json_object_get(report, "added")));
	rc = sqlite3_prepare_v2(st->db, "INSERT INTO audit (at, who, action, detail)"
				" VALUES (?1, 'crmctl', 'rules apply', ?2)", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return store_sqlerr(st, rc, "writing the audit");
	sqlite3_bind_int64(s, 1, (sqlite3_int64)time(NULL));
	sqlite3_bind_text(s, 2, detail, -1, SQLITE_STATIC);
	rc = store_step_done(st, s, "writing the audit");
	sqlite3_finalize(s);
	return rc;
}

/* store_apply - see store.h */
int store_apply(struct store *st, int64_t since, int dry_run, store_decide_fn decide,
		store_release_fn release, void *arg, json_t **changes, char *err, size_t errlen)
{
	struct tally t = { 0 };
	json_t *report = NULL;
	int rc;

	*changes = NULL;
	rc = store_write_begin(st, err, errlen);
	if (rc != STORE_OK)
		goto out;
	rc = store_exec(st, "BEGIN IMMEDIATE");
	if (rc == STORE_OK)
		rc = snapshot(st, "apply_before");
	if (rc == STORE_OK)
		rc = scope(st, since);
	if (rc == STORE_OK)
		rc = reset(st, since);
	if (rc == STORE_OK)
		rc = replay(st, decide, release, arg, &t);
	if (rc == STORE_OK)
		rc = store_contacts_recount(st);
	if (rc == STORE_OK)
		rc = tidy(st, since);
	if (rc == STORE_OK)
		rc = snapshot(st, "apply_after");
	if (rc == STORE_OK) {
		report = json_pack("{s:I, s:I, s:o, s:o}", "evaluated", (json_int_t)t.evaluated,
				   "failed", (json_int_t)t.failed,
				   "removed", lines(st, "apply_before", "apply_after"),
				   "added", lines(st, "apply_after", "apply_before"));
		if (!report)
			rc = store_fail(st, STORE_EINVAL, "%s: out of memory", st->path);
	}
	if (rc == STORE_OK && !dry_run)
		rc = audit(st, since, report);
	if (rc == STORE_OK && !dry_run)
		rc = store_exec(st, "COMMIT");
	if ((rc != STORE_OK || dry_run) && !sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_exec(st->db, "DROP TABLE IF EXISTS temp.apply_before; DROP TABLE IF EXISTS"
		     " temp.apply_after; DROP TABLE IF EXISTS temp.apply_threads", NULL, NULL, NULL);
	if (rc == STORE_OK)
		*changes = report;
	else
		json_decref(report);
out:
	return store_write_end(st, rc);
}
