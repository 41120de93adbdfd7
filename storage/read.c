/*
 * read.c - the read calls: stats, threads, one thread, contacts, accounts
 *
 * Each returns a new jansson value (the caller json_decref()s it) or NULL
 * with "PATH: reason" in err.  They work on a read-only store and run
 * inside one read transaction, so a value never mixes two states of the
 * store.  Orders are deterministic (ties broken by id) because tests and
 * exports compare output exactly.  Dates are "YYYY-MM-DDTHH:MM:SSZ".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store_int.h"

/* begin_read - start a call: error buffer and read transaction */
static void begin_read(struct store *st, char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	st->err = err;
	st->errlen = errlen;
	sqlite3_exec(st->db, "BEGIN", NULL, NULL, NULL);
}

/* end_read - finish a call; returns V */
static json_t *end_read(struct store *st, json_t *v)
{
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
	st->err = NULL;
	st->errlen = 0;
	return v;
}

/* rprep - prepare a read statement; NULL with the error reported */
static sqlite3_stmt *rprep(struct store *st, const char *sql)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);

	if (rc != SQLITE_OK) {
		store_sqlerr(st, rc, "reading");
		sqlite3_finalize(s);
		return NULL;
	}
	return s;
}

/* rdone - 1 when a step loop ended well, else report the error and 0 */
static int rdone(struct store *st, int rc)
{
	if (rc == SQLITE_DONE)
		return 1;
	store_sqlerr(st, rc, "reading");
	return 0;
}

/* store_stats - counts of everything; see store.h */
json_t *store_stats(struct store *st, char *err, size_t errlen)
{
	static const char *const keys[] = {
		"messages", "threads", "contacts", "accounts", "attachments", "participants",
		"raw_bytes", "raw_stored_bytes", "inbound", "outbound", "internal", "skipped",
		"deals", "unassigned",
	};
	sqlite3_stmt *s;
	json_t *o = NULL;
	size_t i;
	int rc;

	begin_read(st, err, errlen);
	s = rprep(st, "SELECT (SELECT count(*) FROM messages WHERE log <> 'skipped'),"
		  " (SELECT count(*) FROM threads WHERE messages > 0),"
		  " (SELECT count(*) FROM contacts), (SELECT count(*) FROM accounts),"
		  " (SELECT count(*) FROM attachments), (SELECT count(*) FROM participants),"
		  " (SELECT coalesce(sum(size), 0) FROM raw),"
		  " (SELECT coalesce(sum(length(data)), 0) FROM raw),"
		  " (SELECT count(*) FROM messages WHERE direction = 'inbound' AND log <> 'skipped'),"
		  " (SELECT count(*) FROM messages WHERE direction = 'outbound' AND log <> 'skipped'),"
		  " (SELECT count(*) FROM messages WHERE direction = 'internal' AND log <> 'skipped'),"
		  " (SELECT count(*) FROM messages WHERE log = 'skipped'),"
		  " (SELECT count(*) FROM deals),"
		  " (SELECT count(*) FROM threads WHERE messages > 0 AND unassigned IS NOT NULL)");
	if (!s)
		goto out;
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		rdone(st, rc == SQLITE_DONE ? SQLITE_ERROR : rc);
		goto out;
	}
	o = json_object();
	json_object_set_new(o, "schema_version", json_integer(store_schema_version(st)));
	for (i = 0; i < sizeof keys / sizeof keys[0]; i++)
		json_object_set_new(o, keys[i], store_json_int(s, (int)i));
out:
	sqlite3_finalize(s);
	return end_read(st, o);
}

/* strings_of - the text column 0 of every row of SQL bound with ID, as an array */
static json_t *strings_of(struct store *st, const char *sql, int64_t id)
{
	sqlite3_stmt *s = rprep(st, sql);
	json_t *a;
	int rc;

	if (!s)
		return NULL;
	a = json_array();
	sqlite3_bind_int64(s, 1, id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		json_array_append_new(a, sqlite3_column_type(s, 0) == SQLITE_INTEGER
						 ? store_json_int(s, 0) : store_json_text(s, 0));
	sqlite3_finalize(s);
	if (!rdone(st, rc)) {
		json_decref(a);
		return NULL;
	}
	return a;
}

#define SQL_THREAD_ACCOUNTS \
	"SELECT a.domain FROM links l JOIN accounts a ON a.id = l.account_id" \
	" WHERE l.thread_id = ?1 ORDER BY a.domain, a.id"
#define SQL_THREAD_CONTACTS \
	"SELECT c.address FROM links l JOIN contacts c ON c.id = l.contact_id" \
	" WHERE l.thread_id = ?1 ORDER BY c.address, c.id"

/*
 * thread_summary - {"id", "subject", "first_date", "last_date", "messages",
 * "accounts", "contacts"} of the row at S (columns id, subject, first,
 * last, messages); NULL on error
 */
static json_t *thread_summary(struct store *st, sqlite3_stmt *s, int with_count)
{
	int64_t id = sqlite3_column_int64(s, 0);
	json_t *o = json_object(), *acc, *con;

	json_object_set_new(o, "id", json_integer(id));
	json_object_set_new(o, "subject", store_json_text(s, 1));
	json_object_set_new(o, "first_date", store_json_date(s, 2));
	json_object_set_new(o, "last_date", store_json_date(s, 3));
	if (with_count)
		json_object_set_new(o, "messages", store_json_int(s, 4));
	acc = strings_of(st, SQL_THREAD_ACCOUNTS, id);
	con = acc ? strings_of(st, SQL_THREAD_CONTACTS, id) : NULL;
	if (!acc || !con) {
		json_decref(acc);
		json_decref(o);
		return NULL;
	}
	json_object_set_new(o, "accounts", acc);
	json_object_set_new(o, "contacts", con);
	return o;
}

/* store_threads - thread summaries, newest first; see store.h */
json_t *store_threads(struct store *st, const struct store_thread_filter *f, char *err,
		      size_t errlen)
{
	char sql[1024];
	sqlite3_stmt *s;
	json_t *a = NULL, *t;
	int rc, n = 1;

	begin_read(st, err, errlen);
	snprintf(sql, sizeof sql,
		 "SELECT t.id, t.subject, t.first_date, t.last_date, t.messages FROM threads t"
		 " WHERE t.messages > 0%s%s ORDER BY t.last_date DESC, t.id DESC LIMIT ?3 OFFSET ?4",
		 f && f->account ? " AND t.id IN (SELECT l.thread_id FROM links l JOIN accounts a"
				   " ON a.id = l.account_id WHERE a.domain = ?1 OR a.id IN"
				   " (SELECT account_id FROM account_domains WHERE domain = ?1))" : "",
		 f && f->contact ? " AND t.id IN (SELECT l.thread_id FROM links l JOIN contacts c"
				   " ON c.id = l.contact_id WHERE c.address = ?2)" : "");
	s = rprep(st, sql);
	if (!s)
		goto out;
	if (f && f->account)
		sqlite3_bind_text(s, n, f->account, -1, SQLITE_STATIC);
	if (f && f->contact)
		sqlite3_bind_text(s, 2, f->contact, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, f && f->limit > 0 ? f->limit : -1);
	sqlite3_bind_int(s, 4, f && f->offset > 0 ? f->offset : 0);
	a = json_array();
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		t = thread_summary(st, s, 1);
		if (!t)
			break;
		json_array_append_new(a, t);
	}
	if (rc != SQLITE_ROW ? !rdone(st, rc) : 1) {
		json_decref(a);
		a = NULL;
	}
out:
	sqlite3_finalize(s);
	return end_read(st, a);
}

/* body_from_raw - the body kept only in the raw source: LEN bytes at OFF */
static json_t *body_from_raw(struct store *st, int64_t mid, size_t off, size_t len)
{
	sqlite3_stmt *s = rprep(st, "SELECT kept, data, dict_id FROM raw WHERE message_id = ?1");
	char *raw = NULL;
	json_t *v = NULL;
	size_t size;

	if (!s)
		return NULL;
	sqlite3_bind_int64(s, 1, mid);
	if (sqlite3_step(s) == SQLITE_ROW) {
		size = (size_t)sqlite3_column_int64(s, 0);
		raw = size >= off && size - off >= len ? store_zdecompress(st, sqlite3_column_blob(s, 1),
						      (size_t)sqlite3_column_bytes(s, 1), size,
						      sqlite3_column_int64(s, 2)) : NULL;
		if (raw)
			v = json_stringn(raw + off, len);
	}
	sqlite3_finalize(s);
	free(raw);
	if (!v)
		store_fail(st, STORE_ECORRUPT, "%s: message %lld: body cannot be read", st->path,
			   (long long)mid);
	return v;
}

/* body_json - the text body of the message row at S (columns 7..9, 13) */
static json_t *body_json(struct store *st, sqlite3_stmt *s, int64_t mid)
{
	size_t len = (size_t)sqlite3_column_int64(s, 8);
	char *text;
	json_t *v;

	if (len == 0)
		return json_string("");
	if (sqlite3_column_type(s, 9) != SQLITE_NULL)
		return body_from_raw(st, mid, (size_t)sqlite3_column_int64(s, 9), len);
	text = store_zdecompress(st, sqlite3_column_blob(s, 7), (size_t)sqlite3_column_bytes(s, 7),
				 len, sqlite3_column_int64(s, 13));
	v = text ? json_stringn(text, len) : NULL;
	free(text);
	if (!v)
		store_fail(st, STORE_ECORRUPT, "%s: message %lld: body cannot be read", st->path,
			   (long long)mid);
	return v;
}

/*
 * snippet_json - the snippet of the message row at S (column 6), or when
 * it was not stored, rebuilt from BODY and QUOTES (json values) with the
 * parser's rule, mail_snippet()
 */
static json_t *snippet_json(sqlite3_stmt *s, json_t *body, json_t *quotes)
{
	struct mail_span *spans;
	size_t i, n = json_array_size(quotes);
	char *text;
	json_t *v;

	if (sqlite3_column_type(s, 6) != SQLITE_NULL)
		return store_json_text(s, 6);
	spans = calloc(n ? n : 1, sizeof *spans);
	if (!spans)
		return NULL;
	for (i = 0; i < n; i++) {
		spans[i].start = (size_t)json_integer_value(json_array_get(json_array_get(quotes, i), 0));
		spans[i].len = (size_t)json_integer_value(json_array_get(json_array_get(quotes, i), 1));
	}
	text = mail_snippet(json_string_value(body), json_string_length(body), spans, n);
	v = text ? json_string(text) : NULL;
	free(text);
	free(spans);
	return v;
}

/* quotes_of - the stored quote spans (JSON text at column I), [] when none */
static json_t *quotes_of(sqlite3_stmt *s, int i)
{
	const unsigned char *p = sqlite3_column_text(s, i);
	json_t *v = p ? json_loads((const char *)p, 0, NULL) : NULL;

	return v ? v : json_array();
}

/* addr_json - {"name", "address"} of the participants row at S */
static json_t *addr_json(sqlite3_stmt *s)
{
	json_t *o = json_object();

	json_object_set_new(o, "name", store_json_text(s, 1));
	json_object_set_new(o, "address", store_json_text(s, 2));
	return o;
}

/* add_participants - "from" (first From, or null), "to", "cc", "bcc", "envelope_rcpt" */
static int add_participants(struct store *st, json_t *m, int64_t mid)
{
	static const char *const roles[] = { "to", "cc", "bcc", "envelope-rcpt" };
	static const char *const keys[] = { "to", "cc", "bcc", "envelope_rcpt" };
	sqlite3_stmt *s = rprep(st, "SELECT role, name, address FROM participants"
				" WHERE message_id = ?1 ORDER BY pos, address");
	json_t *lists[4], *from = NULL;
	const char *role;
	size_t i;
	int rc;

	if (!s)
		return -1;
	for (i = 0; i < 4; i++)
		lists[i] = json_array();
	sqlite3_bind_int64(s, 1, mid);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		role = (const char *)sqlite3_column_text(s, 0);
		if (!from && strcmp(role, "from") == 0)
			from = addr_json(s);
		for (i = 0; i < 4; i++)
			if (strcmp(role, roles[i]) == 0)
				json_array_append_new(lists[i], addr_json(s));
	}
	sqlite3_finalize(s);
	json_object_set_new(m, "from", from ? from : json_null());
	for (i = 0; i < 4; i++)
		json_object_set_new(m, keys[i], lists[i]);
	return rdone(st, rc) ? 0 : -1;
}

/* add_attachments - "attachments": [{"filename", "content_type", "size", "sha256"}] */
static int add_attachments(struct store *st, json_t *m, int64_t mid)
{
	sqlite3_stmt *s = rprep(st, "SELECT filename, content_type, size, sha256 FROM attachments"
				" WHERE message_id = ?1 ORDER BY id");
	json_t *a, *o;
	int rc;

	if (!s)
		return -1;
	a = json_array();
	sqlite3_bind_int64(s, 1, mid);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		o = json_object();
		json_object_set_new(o, "filename", store_json_text(s, 0));
		json_object_set_new(o, "content_type", store_json_text(s, 1));
		json_object_set_new(o, "size", store_json_int(s, 2));
		json_object_set_new(o, "sha256", store_json_text(s, 3));
		json_array_append_new(a, o);
	}
	sqlite3_finalize(s);
	json_object_set_new(m, "attachments", a);
	return rdone(st, rc) ? 0 : -1;
}

/* add_sources - "sources": [{"source", "origin"}] sorted by source and origin */
static int add_sources(struct store *st, json_t *m, int64_t mid)
{
	sqlite3_stmt *s = rprep(st, "SELECT source, origin FROM message_sources"
				" WHERE message_id = ?1 ORDER BY source, origin");
	json_t *a, *o;
	int rc;

	if (!s)
		return -1;
	a = json_array();
	sqlite3_bind_int64(s, 1, mid);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		o = json_object();
		json_object_set_new(o, "source", store_json_text(s, 0));
		json_object_set_new(o, "origin", store_json_text(s, 1));
		json_array_append_new(a, o);
	}
	sqlite3_finalize(s);
	json_object_set_new(m, "sources", a);
	return rdone(st, rc) ? 0 : -1;
}

#define SQL_THREAD_MESSAGES \
	"SELECT m.id, m.msgid, m.date, m.direction, m.subject, m.flags, m.snippet," \
	" m.body, m.body_len, m.body_offset, m.quotes, m.in_reply_to, c.parent, m.dict_id," \
	" m.log, m.log_reason, m.log_rule, m.visibility, m.outside, m.vis_reason, m.vis_rule" \
	" FROM messages m LEFT JOIN message_ids c ON c.msgid = m.msgid" \
	" WHERE m.thread_id = ?1 ORDER BY m.date, m.id"

/* rule_json - {"file", "line", "text", "hash"} of rules row ID, null when none */
static json_t *rule_json(struct store *st, int64_t id)
{
	sqlite3_stmt *s;
	json_t *o = NULL;

	if (!id)
		return json_null();
	s = rprep(st, "SELECT file, line, text, hash FROM rules WHERE id = ?1");
	if (!s)
		return json_null();
	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) == SQLITE_ROW) {
		o = json_object();
		json_object_set_new(o, "file", store_json_text(s, 0));
		json_object_set_new(o, "line", store_json_int(s, 1));
		json_object_set_new(o, "text", store_json_text(s, 2));
		json_object_set_new(o, "hash", store_json_text(s, 3));
	}
	sqlite3_finalize(s);
	return o ? o : json_null();
}

/* decision_json - {KEY: column A, "reason": column B, "rule": rules row of column C} */
static json_t *decision_json(struct store *st, sqlite3_stmt *s, int a, int b, int c, const char *key)
{
	json_t *o = json_object();

	json_object_set_new(o, key, store_json_text(s, a));
	json_object_set_new(o, "reason", store_json_text(s, b));
	json_object_set_new(o, "rule", rule_json(st, sqlite3_column_int64(s, c)));
	return o;
}

/* visibility_json - {"inside", "outside", "reason", "rule"} from columns I..I+3 */
static json_t *visibility_json(struct store *st, sqlite3_stmt *s, int i)
{
	json_t *o = json_object();

	json_object_set_new(o, "inside", store_json_text(s, i));
	json_object_set_new(o, "outside", store_json_text(s, i + 1));
	json_object_set_new(o, "reason", store_json_text(s, i + 2));
	json_object_set_new(o, "rule", rule_json(st, sqlite3_column_int64(s, i + 3)));
	return o;
}

/* message_json - one message of store_thread() from the row at S; NULL on error */
static json_t *message_json(struct store *st, sqlite3_stmt *s)
{
	int64_t mid = sqlite3_column_int64(s, 0);
	json_t *m = json_object(), *body, *quotes, *snippet;

	json_object_set_new(m, "id", json_integer(mid));
	json_object_set_new(m, "message_id", store_json_text(s, 1));
	json_object_set_new(m, "date", store_json_date(s, 2));
	json_object_set_new(m, "direction", store_json_text(s, 3));
	json_object_set_new(m, "subject", store_json_text(s, 4));
	if (add_participants(st, m, mid) < 0)
		goto fail;
	json_object_set_new(m, "flags", store_json_flags((unsigned)sqlite3_column_int64(s, 5)));
	body = body_json(st, s, mid);
	if (!body)
		goto fail;
	quotes = quotes_of(s, 10);
	snippet = snippet_json(s, body, quotes);
	json_object_set_new(m, "snippet", snippet ? snippet : json_null());
	json_object_set_new(m, "body", body);
	json_object_set_new(m, "quotes", quotes);
	if (add_attachments(st, m, mid) < 0 || add_sources(st, m, mid) < 0)
		goto fail;
	json_object_set_new(m, "in_reply_to", store_json_text(s, 11));
	json_object_set_new(m, "parent", store_json_text(s, 12));
	json_object_set_new(m, "log", decision_json(st, s, 14, 15, 16, "status"));
	json_object_set_new(m, "visibility", visibility_json(st, s, 17));
	return m;
fail:
	json_decref(m);
	return NULL;
}

/* thread_messages - the "messages" array of thread ID; NULL on error */
static json_t *thread_messages(struct store *st, int64_t id)
{
	sqlite3_stmt *s = rprep(st, SQL_THREAD_MESSAGES);
	json_t *a, *m;
	int rc;

	if (!s)
		return NULL;
	a = json_array();
	sqlite3_bind_int64(s, 1, id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		m = message_json(st, s);
		if (!m)
			break;
		json_array_append_new(a, m);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW ? !rdone(st, rc) : 1) {
		json_decref(a);
		return NULL;
	}
	return a;
}

#define SQL_THREAD_LINKS \
	"SELECT CASE WHEN l.account_id IS NOT NULL THEN 'account'" \
	"  WHEN l.contact_id IS NOT NULL THEN 'contact' ELSE 'deal' END," \
	" coalesce(a.domain, c.address, d.key), l.rule_id FROM links l" \
	" LEFT JOIN accounts a ON a.id = l.account_id LEFT JOIN contacts c ON c.id = l.contact_id" \
	" LEFT JOIN deals d ON d.id = l.deal_id WHERE l.thread_id = ?1 ORDER BY 1, 2"

/* thread_links - "links": [{"kind", "key", "rule"}] of thread ID */
static json_t *thread_links(struct store *st, int64_t id)
{
	sqlite3_stmt *s = rprep(st, SQL_THREAD_LINKS);
	json_t *a, *o;
	int rc;

	if (!s)
		return NULL;
	a = json_array();
	sqlite3_bind_int64(s, 1, id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		o = json_object();
		json_object_set_new(o, "kind", store_json_text(s, 0));
		json_object_set_new(o, "key", store_json_text(s, 1));
		json_object_set_new(o, "rule", rule_json(st, sqlite3_column_int64(s, 2)));
		json_array_append_new(a, o);
	}
	sqlite3_finalize(s);
	if (!rdone(st, rc)) {
		json_decref(a);
		return NULL;
	}
	return a;
}

/* thread_decisions - "deals", "visibility", "unassigned" and "links" of thread ID into O */
static int thread_decisions(struct store *st, json_t *o, int64_t id)
{
	sqlite3_stmt *s = rprep(st, "SELECT visibility, outside, vis_reason, vis_rule, unassigned"
				" FROM threads WHERE id = ?1");
	json_t *deals, *links;
	int rc;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		json_object_set_new(o, "visibility", visibility_json(st, s, 0));
		json_object_set_new(o, "unassigned", store_json_text(s, 4));
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW)
		return rdone(st, rc) ? -1 : -1;
	deals = strings_of(st, "SELECT d.key FROM links l JOIN deals d ON d.id = l.deal_id"
			   " WHERE l.thread_id = ?1 ORDER BY d.key", id);
	links = deals ? thread_links(st, id) : NULL;
	if (!links) {
		json_decref(deals);
		return -1;
	}
	json_object_set_new(o, "deals", deals);
	json_object_set_new(o, "links", links);
	return 0;
}

/* store_thread - one thread with its messages; see store.h */
json_t *store_thread(struct store *st, int64_t id, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	json_t *o = NULL, *msgs;
	int rc;

	begin_read(st, err, errlen);
	s = rprep(st, "SELECT id, subject, first_date, last_date, messages FROM threads"
		  " WHERE id = ?1");
	if (!s)
		goto out;
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE)
		store_fail(st, STORE_EINVAL, "no thread %lld", (long long)id);
	else if (rc != SQLITE_ROW)
		rdone(st, rc);
	else
		o = thread_summary(st, s, 0);
	if (o && thread_decisions(st, o, id) < 0) {
		json_decref(o);
		o = NULL;
	}
	msgs = o ? thread_messages(st, id) : NULL;
	if (o && !msgs) {
		json_decref(o);
		o = NULL;
	} else if (o) {
		json_object_set_new(o, "messages", msgs);
	}
out:
	sqlite3_finalize(s);
	return end_read(st, o);
}

#define SQL_CONTACTS \
	"SELECT c.id, c.address, c.name, a.domain, c.first_seen, c.last_seen, c.sent," \
	" c.received, (SELECT count(*) FROM links l WHERE l.contact_id = c.id), c.capture_rule" \
	" FROM contacts c LEFT JOIN accounts a ON a.id = c.account_id"

/* contact_json - a contact row at S; "threads" is the count of linked threads */
static json_t *contact_json(sqlite3_stmt *s)
{
	json_t *o = json_object();

	json_object_set_new(o, "address", store_json_text(s, 1));
	json_object_set_new(o, "name", store_json_text(s, 2));
	json_object_set_new(o, "account", store_json_text(s, 3));
	json_object_set_new(o, "first_seen", store_json_date(s, 4));
	json_object_set_new(o, "last_seen", store_json_date(s, 5));
	json_object_set_new(o, "sent", store_json_int(s, 6));
	json_object_set_new(o, "received", store_json_int(s, 7));
	json_object_set_new(o, "threads", store_json_int(s, 8));
	return o;
}

/* store_contacts - every contact, sorted by address; see store.h */
json_t *store_contacts(struct store *st, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	json_t *a = NULL;
	int rc;

	begin_read(st, err, errlen);
	s = rprep(st, SQL_CONTACTS " ORDER BY c.address, c.id");
	if (!s)
		goto out;
	a = json_array();
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		json_array_append_new(a, contact_json(s));
	if (!rdone(st, rc)) {
		json_decref(a);
		a = NULL;
	}
out:
	sqlite3_finalize(s);
	return end_read(st, a);
}

/* store_contact - one contact with its thread ids; see store.h */
json_t *store_contact(struct store *st, const char *addr, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	json_t *o = NULL, *threads;
	int rc;

	begin_read(st, err, errlen);
	s = rprep(st, SQL_CONTACTS " WHERE c.address = ?1");
	if (!s)
		goto out;
	sqlite3_bind_text(s, 1, addr ? addr : "", -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		store_fail(st, STORE_EINVAL, "no contact %s", addr ? addr : "");
		goto out;
	}
	if (rc != SQLITE_ROW) {
		rdone(st, rc);
		goto out;
	}
	o = contact_json(s);
	threads = strings_of(st, "SELECT thread_id FROM links WHERE contact_id = ?1"
			     " ORDER BY thread_id", sqlite3_column_int64(s, 0));
	if (!threads) {
		json_decref(o);
		o = NULL;
		goto out;
	}
	json_object_set_new(o, "threads", threads);
	json_object_set_new(o, "captured_by", rule_json(st, sqlite3_column_int64(s, 9)));
out:
	sqlite3_finalize(s);
	return end_read(st, o);
}

/* store_accounts - every account, sorted by domain; see store.h */
json_t *store_accounts(struct store *st, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	json_t *a = NULL, *o;
	int rc;

	begin_read(st, err, errlen);
	s = rprep(st, "SELECT a.domain, a.name,"
		  " (SELECT count(*) FROM contacts c WHERE c.account_id = a.id),"
		  " (SELECT count(*) FROM links l WHERE l.account_id = a.id),"
		  " (SELECT max(t.last_date) FROM links l JOIN threads t ON t.id = l.thread_id"
		  "  WHERE l.account_id = a.id)"
		  " FROM accounts a ORDER BY a.domain, a.id");
	if (!s)
		goto out;
	a = json_array();
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		o = json_object();
		json_object_set_new(o, "domain", store_json_text(s, 0));
		json_object_set_new(o, "name", store_json_text(s, 1));
		json_object_set_new(o, "contacts", store_json_int(s, 2));
		json_object_set_new(o, "threads", store_json_int(s, 3));
		json_object_set_new(o, "last_activity", store_json_date(s, 4));
		json_array_append_new(a, o);
	}
	if (!rdone(st, rc)) {
		json_decref(a);
		a = NULL;
	}
out:
	sqlite3_finalize(s);
	return end_read(st, a);
}
