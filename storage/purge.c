/*
 * purge.c - deleting mail for good: the retention purge (store_purge),
 * legal holds (store_hold, store_holds), and the erase steps that
 * store_forget() (forget.c) shares
 *
 * An erase runs in one transaction with PRAGMA secure_delete on, so the
 * pages it frees are zeroed.  The messages to delete are put in
 * temp.erase_msgs; store_erase_run() removes each one's full-text row
 * (the index is contentless: the row's values are rebuilt from what the
 * store keeps, store_msgtext_load), then the messages rows, which takes
 * their sources, raw source, participants and attachments with them
 * (ON DELETE CASCADE), then the threads left empty with their containers
 * and keys; the other threads touched are recounted, and so are the
 * contacts whose mail went.  store_erase_end() merges the index into one
 * segment (FTS5 'optimize', so no old segment keeps a deleted term),
 * commits, then store_erase_scrub() checkpoints the WAL with TRUNCATE and
 * runs VACUUM, so neither the file nor its -wal holds the old bytes.
 *
 * A purge deletes every message dated before a cutoff, logged or skipped,
 * except in threads under a legal hold: a hold on the thread itself, or on
 * an account the thread is linked to.  Each real purge writes an audit
 * row (crmilter finds the last one there, milter/purge.c); the file is
 * vacuumed only when something went.  A purge does not trust one reading
 * of the clock (purge_refusal): it refuses when the clock stamped the
 * latest mail days after its senders' Date headers, or when it would take
 * more than a tenth of the store at once, unless forced.  A purge keeps the zstd dictionary
 * (raw.c): it holds the fragments frequent in the mail it was trained
 * from, and replacing it means recompressing the whole store, which
 * forget does only when the dictionary holds the person forgotten.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store_int.h"

/* format_time - epoch T as "YYYY-MM-DDTHH:MM:SSZ" in BUF */
static const char *format_time(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "%lld", (long long)t);
	return buf;
}

/* prep - prepare SQL; NULL with the error reported */
static sqlite3_stmt *prep(struct store *st, const char *sql)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);

	if (rc != SQLITE_OK) {
		store_sqlerr(st, rc, "preparing a statement");
		sqlite3_finalize(s);
		return NULL;
	}
	return s;
}

/* store_run_id - run SQL (no rows) with ID bound as ?1; STORE_OK or a class */
int store_run_id(struct store *st, const char *sql, int64_t id)
{
	sqlite3_stmt *s = prep(st, sql);
	int rc;

	if (!s)
		return store_stmt_err(st);
	sqlite3_bind_int64(s, 1, id);
	rc = store_step_done(st, s, "erasing");
	sqlite3_finalize(s);
	return rc;
}

/* store_count - the integer the one-row query SQL returns in *out; STORE_OK or a class */
int store_count(struct store *st, const char *sql, int64_t *out)
{
	sqlite3_stmt *s = prep(st, sql);
	int rc;

	*out = 0;
	if (!s)
		return store_stmt_err(st);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : store_sqlerr(st, rc, "counting");
}

/* store_ids - the integers of column 0 of SQL in a new array (free()) of *n */
int store_ids(struct store *st, const char *sql, int64_t **ids, size_t *n)
{
	sqlite3_stmt *s = prep(st, sql);
	int64_t *nv;
	int rc = SQLITE_ROW;

	*ids = NULL;
	*n = 0;
	if (!s)
		return store_stmt_err(st);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (!(nv = realloc(*ids, (*n + 1) * sizeof *nv)))
			break;
		*ids = nv;
		nv[(*n)++] = sqlite3_column_int64(s, 0);
	}
	sqlite3_finalize(s);
	if (rc == SQLITE_DONE)
		return STORE_OK;
	return rc == SQLITE_ROW ? store_fail(st, STORE_EINVAL, "%s: out of memory", st->path)
				: store_sqlerr(st, rc, "listing rows");
}

/* ---- the text of a stored message, as its index row holds it ---- */

/* text_add - append S (N bytes) and a space to *buf; 0 or -1 (no memory) */
static int text_add(char **buf, size_t *len, const char *s, size_t n)
{
	char *nb = realloc(*buf, *len + n + 2);

	if (!nb)
		return -1;
	memcpy(nb + *len, s, n);
	*len += n;
	nb[(*len)++] = ' ';
	nb[*len] = '\0';
	*buf = nb;
	return 0;
}

/*
 * people_of - the people column of message MID as ingest.c builds it:
 * name and address of each header participant in role order, then the
 * envelope recipients.  STORE_OK with *out (free()), or a class.
 */
static int people_of(struct store *st, int64_t mid, char **out)
{
	sqlite3_stmt *s = prep(st, "SELECT address, name FROM participants WHERE message_id = ?1"
			       " ORDER BY CASE role WHEN 'from' THEN 0 WHEN 'sender' THEN 1"
			       " WHEN 'reply-to' THEN 2 WHEN 'to' THEN 3 WHEN 'cc' THEN 4"
			       " WHEN 'bcc' THEN 5 ELSE 6 END, pos, address");
	size_t len = 0;
	int rc, bad = 0;

	*out = NULL;
	if (!s)
		return store_stmt_err(st);
	sqlite3_bind_int64(s, 1, mid);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && !bad) {
		if (sqlite3_column_type(s, 1) != SQLITE_NULL)
			bad |= text_add(out, &len, (const char *)sqlite3_column_text(s, 1),
					(size_t)sqlite3_column_bytes(s, 1));
		bad |= text_add(out, &len, (const char *)sqlite3_column_text(s, 0),
				(size_t)sqlite3_column_bytes(s, 0));
	}
	sqlite3_finalize(s);
	if (bad)
		return store_fail(st, STORE_EINVAL, "%s: out of memory", st->path);
	return rc == SQLITE_DONE ? STORE_OK : store_sqlerr(st, rc, "reading participants");
}

/* raw_text - the raw source of MID decompressed (free()), *len its size; NULL when none */
static char *raw_text(struct store *st, int64_t mid, size_t *len)
{
	sqlite3_stmt *s = prep(st, "SELECT kept, data, dict_id FROM raw WHERE message_id = ?1"
			       " AND data IS NOT NULL");
	char *raw = NULL;

	*len = 0;
	if (!s)
		return NULL;
	sqlite3_bind_int64(s, 1, mid);
	if (sqlite3_step(s) == SQLITE_ROW) {
		*len = (size_t)sqlite3_column_int64(s, 0);
		raw = store_zdecompress(st, sqlite3_column_blob(s, 1),
					(size_t)sqlite3_column_bytes(s, 1), *len,
					sqlite3_column_int64(s, 2));
	}
	sqlite3_finalize(s);
	return raw;
}

/* body_of - the body text of the message row at S (columns body, body_len, body_offset, dict_id) */
static int body_of(struct store *st, sqlite3_stmt *s, int64_t mid, struct store_msgtext *t)
{
	size_t len = (size_t)sqlite3_column_int64(s, 2), rlen = 0;
	char *raw;

	t->body_len = len;
	if (len == 0)
		return STORE_OK;
	if (sqlite3_column_type(s, 3) == SQLITE_NULL) {
		t->body = store_zdecompress(st, sqlite3_column_blob(s, 1),
					    (size_t)sqlite3_column_bytes(s, 1), len,
					    sqlite3_column_int64(s, 4));
	} else {
		size_t off = (size_t)sqlite3_column_int64(s, 3);

		raw = raw_text(st, mid, &rlen);
		if (raw && off <= rlen && rlen - off >= len) {
			t->body = malloc(len + 1);
			if (t->body) {
				memcpy(t->body, raw + off, len);
				t->body[len] = '\0';
			}
		}
		free(raw);
	}
	if (!t->body)
		return store_fail(st, STORE_ECORRUPT, "%s: message %lld: body cannot be read",
				  st->path, (long long)mid);
	return STORE_OK;
}

/* store_msgtext_load - see store_int.h */
int store_msgtext_load(struct store *st, int64_t mid, struct store_msgtext *t)
{
	sqlite3_stmt *s = prep(st, "SELECT subject, body, body_len, body_offset, dict_id, quotes"
			       " FROM messages WHERE id = ?1");
	int rc;

	memset(t, 0, sizeof *t);
	if (!s)
		return store_stmt_err(st);
	sqlite3_bind_int64(s, 1, mid);
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(s);
		return rc == SQLITE_DONE ? store_fail(st, STORE_EINVAL, "%s: no message %lld",
						      st->path, (long long)mid)
					 : store_sqlerr(st, rc, "reading a message");
	}
	t->subject = strdup((const char *)sqlite3_column_text(s, 0));
	if (sqlite3_column_type(s, 5) != SQLITE_NULL)
		t->quotes = strdup((const char *)sqlite3_column_text(s, 5));
	rc = t->subject ? body_of(st, s, mid, t) : STORE_EINVAL;
	sqlite3_finalize(s);
	if (rc == STORE_OK)
		rc = people_of(st, mid, &t->people);
	if (rc != STORE_OK)
		store_msgtext_free(t);
	return rc;
}

/* store_msgtext_free - free what a msgtext holds */
void store_msgtext_free(struct store_msgtext *t)
{
	free(t->subject);
	free(t->body);
	free(t->quotes);
	free(t->people);
	memset(t, 0, sizeof *t);
}

/*
 * unquoted - the body without its quoted spans (the QUOTES JSON
 * [[start, len], ...]), as ingest.c indexes it: a new string and *len,
 * or NULL when memory runs out
 */
static char *unquoted(const struct store_msgtext *t, size_t *len)
{
	json_t *q = t->quotes ? json_loads(t->quotes, 0, NULL) : NULL;
	size_t i, n = json_array_size(q), pos = 0, start, end;
	char *out = malloc(t->body_len + 1);

	*len = 0;
	for (i = 0; out && i <= n; i++) {
		json_t *sp = json_array_get(q, i);

		start = i < n ? (size_t)json_integer_value(json_array_get(sp, 0)) : t->body_len;
		end = i < n ? start + (size_t)json_integer_value(json_array_get(sp, 1)) : t->body_len;
		if (start > t->body_len)
			start = t->body_len;
		if (end > t->body_len)
			end = t->body_len;
		if (start > pos) {
			memcpy(out + *len, t->body + pos, start - pos);
			*len += start - pos;
		}
		if (end > pos)
			pos = end;
	}
	if (out)
		out[*len] = '\0';
	json_decref(q);
	return out;
}

/* store_msgtext_index - see store_int.h */
int store_msgtext_index(struct store *st, int64_t mid, const struct store_msgtext *t, int del)
{
	sqlite3_stmt *s = prep(st, del ? "INSERT INTO fts (fts, rowid, subject, body, people)"
				   " VALUES ('delete', ?1, ?2, ?3, ?4)"
				 : "INSERT INTO fts (rowid, subject, body, people) VALUES (?1, ?2, ?3, ?4)");
	size_t len = 0;
	char *text = t->body ? unquoted(t, &len) : strdup("");
	int rc;

	if (!s || !text) {
		sqlite3_finalize(s);
		free(text);
		return s ? store_fail(st, STORE_EINVAL, "%s: out of memory", st->path)
			 : store_stmt_err(st);
	}
	sqlite3_bind_int64(s, 1, mid);
	sqlite3_bind_text(s, 2, t->subject ? t->subject : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, text, (int)len, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, t->people ? t->people : "", -1, SQLITE_STATIC);
	rc = store_step_done(st, s, del ? "removing a message from the index"
				      : "indexing a message");
	sqlite3_finalize(s);
	free(text);
	return rc;
}

/* ---- the erase steps ---- */

/* store_erase_begin - see store_int.h */
int store_erase_begin(struct store *st)
{
	int rc = store_exec(st, "PRAGMA secure_delete = ON");

	if (rc == STORE_OK)
		rc = store_exec(st, "BEGIN IMMEDIATE");
	if (rc == STORE_OK)
		rc = store_exec(st, "CREATE TEMP TABLE erase_msgs (id INTEGER PRIMARY KEY);"
				"CREATE TEMP TABLE erase_threads (id INTEGER PRIMARY KEY);"
				"CREATE TEMP TABLE erase_contacts (id INTEGER PRIMARY KEY)");
	return rc;
}

/* unindex - remove the index rows of the messages to erase (those in a thread have one) */
static int unindex(struct store *st)
{
	sqlite3_stmt *s = prep(st, "SELECT e.id FROM temp.erase_msgs e JOIN messages m"
			       " ON m.id = e.id WHERE m.thread_id IS NOT NULL");
	struct store_msgtext t;
	int rc = STORE_OK, r;

	if (!s)
		return store_stmt_err(st);
	while (rc == STORE_OK && (r = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t mid = sqlite3_column_int64(s, 0);

		rc = store_msgtext_load(st, mid, &t);
		if (rc == STORE_OK)
			rc = store_msgtext_index(st, mid, &t, 1);
		store_msgtext_free(&t);
	}
	if (rc == STORE_OK && r != SQLITE_DONE)
		rc = store_sqlerr(st, r, "listing messages to erase");
	sqlite3_finalize(s);
	return rc;
}

/* threads_tidy - threads left empty go with their containers and keys; the others are recounted */
static int threads_tidy(struct store *st, int64_t *deleted)
{
	sqlite3_stmt *s = prep(st, "SELECT e.id, EXISTS (SELECT 1 FROM messages m WHERE"
			       " m.thread_id = e.id) FROM temp.erase_threads e");
	int rc = STORE_OK, r;

	if (!s)
		return store_stmt_err(st);
	while (rc == STORE_OK && (r = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t tid = sqlite3_column_int64(s, 0);

		if (sqlite3_column_int(s, 1)) {
			rc = store_thread_refresh(st, tid);
			continue;
		}
		rc = store_run_id(st, "DELETE FROM message_ids WHERE thread_id = ?1", tid);
		if (rc == STORE_OK)
			rc = store_run_id(st, "DELETE FROM thread_keys WHERE thread_id = ?1", tid);
		if (rc == STORE_OK)
			rc = store_run_id(st, "DELETE FROM threads WHERE id = ?1", tid);
		(*deleted)++;
	}
	if (rc == STORE_OK && r != SQLITE_DONE)
		rc = store_sqlerr(st, r, "tidying threads");
	sqlite3_finalize(s);
	return rc;
}

/* recount - the contacts that lost mail get their counts from what is left */
static int recount(struct store *st)
{
	sqlite3_stmt *s = prep(st, "SELECT id FROM temp.erase_contacts");
	sqlite3_stmt *u;
	int rc = STORE_OK, r;

	if (!s)
		return store_stmt_err(st);
	while (rc == STORE_OK && (r = sqlite3_step(s)) == SQLITE_ROW) {
		u = store_stmt(st, S_CONTACT_RECOUNT);
		if (!u) {
			rc = store_stmt_err(st);
			break;
		}
		sqlite3_bind_int64(u, 1, sqlite3_column_int64(s, 0));
		rc = store_step_done(st, u, "counting a contact's messages");
	}
	if (rc == STORE_OK && r != SQLITE_DONE)
		rc = store_sqlerr(st, r, "counting contacts");
	sqlite3_finalize(s);
	return rc;
}

/* store_erase_run - see store_int.h */
int store_erase_run(struct store *st, int64_t *messages, int64_t *threads)
{
	int rc = store_count(st, "SELECT count(*) FROM temp.erase_msgs", messages);

	*threads = 0;
	if (rc == STORE_OK)
		rc = unindex(st);
	if (rc == STORE_OK)
		rc = store_exec(st,
			"INSERT OR IGNORE INTO temp.erase_threads SELECT thread_id FROM messages"
			" WHERE id IN (SELECT id FROM temp.erase_msgs) AND thread_id IS NOT NULL;"
			"INSERT OR IGNORE INTO temp.erase_contacts SELECT c.id FROM contacts c"
			" WHERE c.address IN (SELECT address FROM participants WHERE message_id IN"
			" (SELECT id FROM temp.erase_msgs));"
			"DELETE FROM messages WHERE id IN (SELECT id FROM temp.erase_msgs)");
	if (rc == STORE_OK)
		rc = threads_tidy(st, threads);
	if (rc == STORE_OK)
		rc = recount(st);
	return rc;
}

/* store_audit - an audit row ACTION with DETAIL by WHO, now; STORE_OK or a class */
int store_audit(struct store *st, const char *who, const char *action, const char *detail)
{
	sqlite3_stmt *s = prep(st, "INSERT INTO audit (at, who, action, detail) VALUES (?1, ?2, ?3, ?4)");
	int rc;

	if (!s)
		return store_stmt_err(st);
	sqlite3_bind_int64(s, 1, (sqlite3_int64)time(NULL));
	sqlite3_bind_text(s, 2, who ? who : "unknown", -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, action, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, detail, -1, SQLITE_STATIC);
	rc = store_step_done(st, s, "writing the audit");
	sqlite3_finalize(s);
	return rc;
}

/* store_erase_end - see store_int.h */
int store_erase_end(struct store *st, int rc, int commit, int scrub)
{
	if (rc == STORE_OK && commit)
		rc = store_exec(st, "INSERT INTO fts (fts) VALUES ('optimize')");
	if (rc == STORE_OK && commit)
		rc = store_exec(st, "COMMIT");
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_exec(st->db, "DROP TABLE IF EXISTS temp.erase_msgs;"
		     " DROP TABLE IF EXISTS temp.erase_threads;"
		     " DROP TABLE IF EXISTS temp.erase_contacts", NULL, NULL, NULL);
	if (rc == STORE_OK && commit && scrub && (rc = store_erase_scrub(st)) != STORE_OK &&
	    st->err) {
		char was[512];

		snprintf(was, sizeof was, "%s", st->err);
		store_fail(st, rc, "the erase is committed, but cleaning the file failed: %s;"
			   " run the command again when the store is idle", was);
	}
	return rc;	/* secure_delete stays on: this connection erased, it may erase again */
}

/*
 * store_erase_scrub - after an erase has committed: the WAL is written
 * back and truncated, VACUUM rebuilds the file without free pages, and
 * the WAL it wrote is truncated too.  A reader in the middle of a read
 * (crmview) can keep a checkpoint from truncating the WAL; its pages are
 * then overwritten by the next writes and truncated at a later erase.
 * Returns STORE_OK or an error class (the erase itself stays committed).
 */
int store_erase_scrub(struct store *st)
{
	int rc = store_exec(st, "PRAGMA wal_checkpoint(TRUNCATE)");

	if (rc == STORE_OK)
		rc = store_exec(st, "VACUUM");
	if (rc == STORE_OK)
		rc = store_exec(st, "PRAGMA wal_checkpoint(TRUNCATE)");
	return rc;
}

/* ---- legal holds ---- */

/* held threads: on hold themselves or linked to an account on hold */
#define HELD_THREADS \
	"SELECT thread_id FROM holds WHERE thread_id IS NOT NULL UNION SELECT l.thread_id" \
	" FROM links l JOIN holds h ON h.account_id = l.account_id"

/* store_held_sql - see store_int.h */
const char *store_held_sql(void)
{
	return HELD_THREADS;
}

/* hold_target - the thread (*tid) or account (*aid) TARGET names; EINVAL when none */
static int hold_target(struct store *st, const char *target, int64_t *tid, int64_t *aid)
{
	int digits = *target && strspn(target, "0123456789") == strlen(target);
	sqlite3_stmt *s = prep(st, digits ? "SELECT id FROM threads WHERE id = ?1" :
				    "SELECT id FROM accounts WHERE domain = lower(?1) UNION"
				    " SELECT account_id FROM account_domains WHERE domain = lower(?1)"
				    " LIMIT 1");
	int rc;

	*tid = *aid = 0;
	if (!s)
		return store_stmt_err(st);
	sqlite3_bind_text(s, 1, target, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*(digits ? tid : aid) = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_sqlerr(st, rc, "looking up a hold");
	if (!*tid && !*aid)
		return store_fail(st, STORE_EINVAL, "%s: no %s %s", st->path,
				  digits ? "thread" : "account", target);
	return STORE_OK;
}

/* hold_change - put TID or AID on hold (or release it); EINVAL when that changes nothing */
static int hold_change(struct store *st, const char *target, int64_t tid, int64_t aid,
		       int release, const char *who)
{
	sqlite3_stmt *s = prep(st, release ? "DELETE FROM holds WHERE thread_id IS ?1 AND account_id IS ?2"
				   : "INSERT OR IGNORE INTO holds (thread_id, account_id, at, who)"
				     " VALUES (?1, ?2, ?3, ?4)");
	char detail[512];
	int rc;

	if (!s)
		return store_stmt_err(st);
	if (tid)
		sqlite3_bind_int64(s, 1, tid);
	if (aid)
		sqlite3_bind_int64(s, 2, aid);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)time(NULL));
	sqlite3_bind_text(s, 4, who ? who : "unknown", -1, SQLITE_STATIC);
	rc = store_step_done(st, s, "changing a hold");
	sqlite3_finalize(s);
	if (rc == STORE_OK && sqlite3_changes(st->db) == 0)
		return store_fail(st, STORE_EINVAL, "%s %s is %s on hold", tid ? "thread" : "account",
				  target, release ? "not" : "already");
	snprintf(detail, sizeof detail, "%s %s", tid ? "thread" : "account", target);
	return rc == STORE_OK ? store_audit(st, who, release ? "release" : "hold", detail) : rc;
}

/* store_hold - see store.h */
int store_hold(struct store *st, const char *target, int release, const char *who, char *err,
	       size_t errlen)
{
	int64_t tid = 0, aid = 0;
	int rc = store_write_begin(st, err, errlen);

	if (rc == STORE_OK)
		rc = store_exec(st, "BEGIN IMMEDIATE");
	if (rc == STORE_OK)
		rc = hold_target(st, target, &tid, &aid);
	if (rc == STORE_OK)
		rc = hold_change(st, target, tid, aid, release, who);
	if (rc == STORE_OK)
		rc = store_exec(st, "COMMIT");
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return store_write_end(st, rc);
}

/* store_holds - see store.h */
int store_holds(struct store *st, json_t **out, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	char when[32];
	int rc;

	*out = json_array();
	st->err = err;
	st->errlen = errlen;
	s = prep(st, "SELECT CASE WHEN h.thread_id IS NULL THEN 'account' ELSE 'thread' END,"
		 " coalesce(h.thread_id, a.domain), coalesce(t.subject, a.name), h.at, h.who,"
		 " CASE WHEN h.thread_id IS NULL THEN (SELECT count(DISTINCT l.thread_id) FROM links l"
		 "  WHERE l.account_id = h.account_id) ELSE 1 END"
		 " FROM holds h LEFT JOIN threads t ON t.id = h.thread_id"
		 " LEFT JOIN accounts a ON a.id = h.account_id ORDER BY h.at, h.id");
	if (!s) {
		json_decref(*out);
		*out = NULL;
		return store_write_end(st, store_stmt_err(st));
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		json_array_append_new(*out, json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}",
			"kind", (const char *)sqlite3_column_text(s, 0),
			"target", (const char *)sqlite3_column_text(s, 1),
			"name", sqlite3_column_text(s, 2) ? (const char *)sqlite3_column_text(s, 2) : "",
			"at", format_time(sqlite3_column_int64(s, 3), when, sizeof when),
			"who", (const char *)sqlite3_column_text(s, 4),
			"threads", (json_int_t)sqlite3_column_int64(s, 5)));
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		json_decref(*out);
		*out = NULL;
		return store_write_end(st, store_sqlerr(st, rc, "listing holds"));
	}
	return store_write_end(st, STORE_OK);
}

/* ---- the purge ---- */

/* purge_pick - the messages dated before BEFORE outside held threads; *held counts the others */
static int purge_pick(struct store *st, int64_t before, int64_t *held)
{
	char sql[1024];
	int rc;

	snprintf(sql, sizeof sql, "INSERT INTO temp.erase_msgs SELECT id FROM messages WHERE"
		 " date < %lld AND (thread_id IS NULL OR thread_id NOT IN (" HELD_THREADS "))",
		 (long long)before);
	rc = store_exec(st, sql);
	snprintf(sql, sizeof sql, "SELECT count(*) FROM messages WHERE date < %lld AND"
		 " thread_id IN (" HELD_THREADS ")", (long long)before);
	return rc == STORE_OK ? store_count(st, sql, held) : rc;
}

#define STORE_STR_(x) #x
#define STORE_STR(x) STORE_STR_(x)

/* the latest milter arrivals whose skew is looked at, and the skew that is too much */
#define PURGE_SKEW_SAMPLE 51
#define PURGE_SKEW_MAX    (2 * 86400)

/* int64_cmp - qsort order of int64_t */
static int int64_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/*
 * clock_skew - how far this host's clock was ahead of the senders' when
 * the latest mail arrived: the median of arrival minus Date over the last
 * PURGE_SKEW_SAMPLE messages crmilter stored (by id, not by arrival: a
 * clock that was ahead dates its arrivals ahead too), their own Date
 * readable.  *skew 0 when there are none.  STORE_OK or a class.
 */
static int clock_skew(struct store *st, int64_t *skew)
{
	int64_t v[PURGE_SKEW_SAMPLE], any = 0;
	size_t n = 0;
	sqlite3_stmt *s;
	int rc;

	*skew = 0;
	rc = store_count(st, "SELECT EXISTS (SELECT 1 FROM message_sources INDEXED BY"
			 " message_sources_arrival WHERE source = 'milter')", &any);
	if (rc != STORE_OK || !any)
		return rc;
	s = prep(st, "SELECT s.arrival - m.date FROM message_sources s JOIN messages m"
		 " ON m.id = s.message_id WHERE s.source = 'milter' AND s.arrival IS NOT NULL"
		 " AND (m.flags & ?1) = 0 ORDER BY s.message_id DESC"
		 " LIMIT " STORE_STR(PURGE_SKEW_SAMPLE));
	if (!s)
		return store_stmt_err(st);
	sqlite3_bind_int64(s, 1, MAIL_BAD_DATE);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && n < PURGE_SKEW_SAMPLE)
		v[n++] = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return store_sqlerr(st, rc, "reading the latest arrivals");
	if (n) {
		qsort(v, n, sizeof *v, int64_cmp);
		*skew = v[n / 2];
	}
	return STORE_OK;
}

/*
 * purge_refusal - why a purge at NOW (FLAGS) of the PICKED messages (in
 * temp.erase_msgs) must not run, into WHY; "" when it may.  Unless
 * STORE_PURGE_FORCE: with STORE_PURGE_CLOCK, a clock that stamped the
 * latest mail days after its senders' Date headers is ahead (clock_skew);
 * and a purge that takes more than STORE_PURGE_CAP_PERCENT of the store
 * (and more than STORE_PURGE_CAP_MIN messages) is what a clock far ahead
 * does.  Returns STORE_OK or an error class.
 */
static int purge_refusal(struct store *st, int64_t now, unsigned flags, int64_t picked,
			 char *why, size_t len)
{
	int64_t total = 0, skew = 0;
	char t1[32];
	int rc;

	why[0] = '\0';
	if (flags & STORE_PURGE_FORCE)
		return STORE_OK;
	rc = store_count(st, "SELECT count(*) FROM messages", &total);
	if (rc == STORE_OK && (flags & STORE_PURGE_CLOCK))
		rc = clock_skew(st, &skew);
	if (rc != STORE_OK)
		return rc;
	if (skew > PURGE_SKEW_MAX)
		snprintf(why, len, "the clock looks %lld days ahead: the latest mail arrived that long"
			 " after the Date its senders wrote; check the clock (%s), then run crmctl purge"
			 " --force", (long long)(skew / 86400), format_time(now, t1, sizeof t1));
	else if (picked > STORE_PURGE_CAP_MIN && picked * 100 > total * STORE_PURGE_CAP_PERCENT)
		snprintf(why, len, "it would delete %lld of the %lld messages (%lld%%), more than %d%%"
			 " at once: check the clock (%s) and Retention, then run crmctl purge --force",
			 (long long)picked, (long long)total, (long long)(picked * 100 / total),
			 STORE_PURGE_CAP_PERCENT, format_time(now, t1, sizeof t1));
	return STORE_OK;
}

/* store_purge - see store.h */
int store_purge(struct store *st, int64_t now, int64_t before, unsigned flags, const char *who,
		json_t **report, char *err, size_t errlen)
{
	int64_t msgs = 0, threads = 0, held = 0;
	int dry_run = (flags & STORE_PURGE_DRY_RUN) != 0;
	char when[32], detail[256], why[512] = "";
	int rc = store_write_begin(st, err, errlen);

	*report = NULL;
	if (rc == STORE_OK)
		rc = store_erase_begin(st);
	if (rc == STORE_OK)
		rc = purge_pick(st, before, &held);
	if (rc == STORE_OK)
		rc = store_count(st, "SELECT count(*) FROM temp.erase_msgs", &msgs);
	if (rc == STORE_OK)
		rc = purge_refusal(st, now, flags, msgs, why, sizeof why);
	if (rc == STORE_OK && !why[0])
		rc = store_erase_run(st, &msgs, &threads);
	format_time(before, when, sizeof when);
	snprintf(detail, sizeof detail, "purged %lld message%s and %lld thread%s dated before %s;"
		 " %lld kept on hold", (long long)msgs, msgs == 1 ? "" : "s", (long long)threads,
		 threads == 1 ? "" : "s", when, (long long)held);
	if (rc == STORE_OK && !dry_run && !why[0])
		rc = store_audit(st, who, "purge", detail);
	rc = store_erase_end(st, rc, !dry_run && !why[0], msgs > 0);
	if (rc == STORE_OK)
		*report = json_pack("{s:s, s:I, s:I, s:I, s:b, s:s*}", "before", when,
				    "messages", (json_int_t)msgs, "threads", (json_int_t)threads,
				    "held", (json_int_t)held, "dry_run", dry_run,
				    "refused", why[0] ? why : NULL);
	return store_write_end(st, rc);
}

/* store_purge_last - see store.h */
int store_purge_last(struct store *st, int64_t *at, char *err, size_t errlen)
{
	int rc;

	st->err = err;
	st->errlen = errlen;
	rc = store_count(st, "SELECT coalesce(max(at), 0) FROM audit WHERE action = 'purge'", at);
	return store_write_end(st, rc);
}
