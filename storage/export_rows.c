/*
 * export_rows.c - the records of crmctl export, one row at a time
 *
 * Each function turns one row of an export query (export.c) into the
 * record crmilter-export(5) documents: rules, accounts, contacts, deals,
 * threads, links and messages (with their participants, body, attachments
 * and sources, read by the run's per-row statements).  A record is a new
 * jansson value the caller frees; NULL means the store could not be read,
 * with the reason in err.  Dates are "YYYY-MM-DDTHH:MM:SSZ" (UTC); a rule
 * is named by its id in the rules table.
 *
 * Private API (export_int.h): store_xrow_*, store_xrows_prepare,
 * store_xrows_finish, store_xset, store_xrecord.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "export_int.h"

/* rdone - STORE_OK when a step loop ended with SQLITE_DONE, else the error reported */
static int rdone(struct store_xrun *q, int rc)
{
	if (rc == SQLITE_DONE)
		return STORE_OK;
	return q->err_class = store_sqlerr(q->st, rc, "exporting");
}

/* j_parsed - JSON text column I parsed, or a new EMPTY (object/array) when NULL or bad */
static json_t *j_parsed(sqlite3_stmt *s, int i, int object)
{
	const char *p = (const char *)sqlite3_column_text(s, i);
	json_t *v = p ? json_loads(p, JSON_DECODE_ANY, NULL) : NULL;

	if (v && (object ? json_is_object(v) : json_is_array(v)))
		return v;
	json_decref(v);
	return object ? json_object() : json_array();
}

/* store_xset - O[KEY] = V, taking its reference; see export_int.h */
void store_xset(json_t *o, const char *key, json_t *v)
{
	json_object_set_new(o, key, v ? v : json_null());
}

/* store_xrecord - a new object {"type": TYPE}; see export_int.h */
json_t *store_xrecord(const char *type)
{
	json_t *o = json_object();

	store_xset(o, "type", json_string(type));
	return o;
}

/* decision - {KEY: column A, "reason": column A + 1, "rule": column A + 2} */
static json_t *decision(sqlite3_stmt *s, int a, const char *key)
{
	json_t *o = json_object();

	store_xset(o, key, store_json_text(s, a));
	store_xset(o, "reason", store_json_text(s, a + 1));
	store_xset(o, "rule", store_json_id(s, a + 2));
	return o;
}

/* visibility - {"inside": column A, "outside": A + 1, "reason": A + 2, "rule": A + 3} */
static json_t *visibility(sqlite3_stmt *s, int a)
{
	json_t *o = json_object();

	store_xset(o, "inside", store_json_text(s, a));
	store_xset(o, "outside", store_json_text(s, a + 1));
	store_xset(o, "reason", store_json_text(s, a + 2));
	store_xset(o, "rule", store_json_id(s, a + 3));
	return o;
}

/* strings - the text column 0 of every row of S bound with ID; NULL on error */
static json_t *strings(struct store_xrun *q, sqlite3_stmt *s, int64_t id)
{
	json_t *a = json_array();
	int rc;

	sqlite3_reset(s);
	sqlite3_bind_int64(s, 1, id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		json_array_append_new(a, store_json_text(s, 0));
	if (rdone(q, rc) != STORE_OK) {
		json_decref(a);
		return NULL;
	}
	return a;
}

/* store_xrow_rule - {"type": "rule", "id", "file", "line", "text", "hash"} */
json_t *store_xrow_rule(struct store_xrun *q, sqlite3_stmt *s)
{
	json_t *o = store_xrecord("rule");

	store_xset(o, "id", store_json_id(s, 0));
	store_xset(o, "file", store_json_text(s, 1));
	store_xset(o, "line", store_json_id(s, 2));
	store_xset(o, "text", store_json_text(s, 3));
	store_xset(o, "hash", store_json_text(s, 4));
	return o;
}

/* store_xrow_account - {"type": "account", "id", "domain", "name", "domains", "rule"} */
json_t *store_xrow_account(struct store_xrun *q, sqlite3_stmt *s)
{
	json_t *o = store_xrecord("account");
	json_t *d = strings(q, q->s_domains, sqlite3_column_int64(s, 0));

	if (!d) {
		json_decref(o);
		return NULL;
	}
	store_xset(o, "id", store_json_id(s, 0));
	store_xset(o, "domain", store_json_text(s, 1));
	store_xset(o, "name", store_json_text(s, 2));
	store_xset(o, "domains", d);
	store_xset(o, "rule", store_json_id(s, 3));
	return o;
}

/* store_xrow_contact - {"type": "contact", "id", "address", "name", "account", ...} */
json_t *store_xrow_contact(struct store_xrun *q, sqlite3_stmt *s)
{
	json_t *o = store_xrecord("contact");

	store_xset(o, "id", store_json_id(s, 0));
	store_xset(o, "address", store_json_text(s, 1));
	store_xset(o, "name", store_json_text(s, 2));
	store_xset(o, "account", store_json_text(s, 3));
	store_xset(o, "first_seen", store_json_date(s, 4));
	store_xset(o, "last_seen", store_json_date(s, 5));
	store_xset(o, "sent", store_json_id(s, 6));
	store_xset(o, "received", store_json_id(s, 7));
	store_xset(o, "capture_rule", store_json_id(s, 8));
	return o;
}

/* store_xrow_deal - {"type": "deal", "id", "key", "name", "account", "status",
 * "contacts", "rule"} */
json_t *store_xrow_deal(struct store_xrun *q, sqlite3_stmt *s)
{
	json_t *o = store_xrecord("deal");
	json_t *c = strings(q, q->s_deal_contacts, sqlite3_column_int64(s, 0));

	if (!c) {
		json_decref(o);
		return NULL;
	}
	store_xset(o, "id", store_json_id(s, 0));
	store_xset(o, "key", store_json_text(s, 1));
	store_xset(o, "name", store_json_text(s, 2));
	store_xset(o, "account", store_json_text(s, 3));
	store_xset(o, "status", store_json_text(s, 4));
	store_xset(o, "contacts", c);
	store_xset(o, "rule", store_json_id(s, 5));
	return o;
}

/* store_xrow_thread - {"type": "thread", "id", "subject", dates, "messages",
 * "visibility", "unassigned"} */
json_t *store_xrow_thread(struct store_xrun *q, sqlite3_stmt *s)
{
	json_t *o = store_xrecord("thread");

	store_xset(o, "id", store_json_id(s, 0));
	store_xset(o, "subject", store_json_text(s, 1));
	store_xset(o, "first_date", store_json_date(s, 2));
	store_xset(o, "last_date", store_json_date(s, 3));
	store_xset(o, "messages", store_json_id(s, 4));
	store_xset(o, "visibility", visibility(s, 5));
	store_xset(o, "unassigned", store_json_text(s, 9));
	return o;
}

/* store_xrow_link - {"type": "link", "id", "thread", "kind", "key", "rule"} */
json_t *store_xrow_link(struct store_xrun *q, sqlite3_stmt *s)
{
	json_t *o = store_xrecord("link");

	store_xset(o, "id", store_json_id(s, 0));
	store_xset(o, "thread", store_json_id(s, 1));
	store_xset(o, "kind", store_json_text(s, 2));
	store_xset(o, "key", store_json_text(s, 3));
	store_xset(o, "rule", store_json_id(s, 4));
	return o;
}

/* ---- messages ---- */

enum {
	MC_ID, MC_THREAD, MC_MSGID, MC_DATE, MC_DIR, MC_SUBJECT, MC_SIZE, MC_FLAGS,
	MC_LOG, MC_VIS = MC_LOG + 3, MC_UNTRUSTED = MC_VIS + 4, MC_IRT, MC_PARENT, MC_HEADERS,
	MC_BODY, MC_DICT, MC_BODY_LEN, MC_BODY_OFF, MC_QUOTES, MC_WARNINGS, MC_RAW_MODE,
	MC_RAW_SIZE, MC_RAW_KEPT,
};

/*
 * raw_of - the kept raw bytes of message MID, decompressed: a new buffer
 * (free()) of *len bytes, or NULL when there are none or they cannot be read
 */
static char *raw_of(struct store_xrun *q, int64_t mid, size_t *len)
{
	sqlite3_stmt *s = q->s_raw;
	char *raw = NULL;

	*len = 0;
	sqlite3_reset(s);
	sqlite3_bind_int64(s, 1, mid);
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 1) != SQLITE_NULL) {
		*len = (size_t)sqlite3_column_int64(s, 0);
		raw = store_zdecompress(q->st, sqlite3_column_blob(s, 1),
					(size_t)sqlite3_column_bytes(s, 1), *len,
					sqlite3_column_int64(s, 2));
	}
	sqlite3_reset(s);
	return raw;
}

/* body - the text body of the message row at S; NULL (err filled) when unreadable */
static json_t *body(struct store_xrun *q, sqlite3_stmt *s)
{
	int64_t mid = sqlite3_column_int64(s, MC_ID);
	size_t len = (size_t)sqlite3_column_int64(s, MC_BODY_LEN), off, rlen;
	char *text = NULL;
	json_t *v = NULL;

	if (len == 0)
		return json_string("");
	if (sqlite3_column_type(s, MC_BODY_OFF) != SQLITE_NULL) {
		off = (size_t)sqlite3_column_int64(s, MC_BODY_OFF);
		text = raw_of(q, mid, &rlen);
		if (text && rlen >= off && rlen - off >= len)
			v = json_stringn(text + off, len);
	} else {
		text = store_zdecompress(q->st, sqlite3_column_blob(s, MC_BODY),
					 (size_t)sqlite3_column_bytes(s, MC_BODY), len,
					 sqlite3_column_int64(s, MC_DICT));
		v = text ? json_stringn(text, len) : NULL;
	}
	free(text);
	if (!v)
		q->err_class = store_fail(q->st, STORE_ECORRUPT, "%s: message %lld: body cannot be read",
				       q->st->path, (long long)mid);
	return v;
}

/* participants - [{"role", "address", "name"}] of message MID, header order; NULL on error */
static json_t *participants(struct store_xrun *q, int64_t mid)
{
	sqlite3_stmt *s = q->s_parts;
	json_t *a = json_array(), *o;
	int rc;

	sqlite3_reset(s);
	sqlite3_bind_int64(s, 1, mid);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		o = json_object();
		store_xset(o, "role", store_json_text(s, 0));
		store_xset(o, "address", store_json_text(s, 1));
		store_xset(o, "name", store_json_text(s, 2));
		json_array_append_new(a, o);
	}
	if (rdone(q, rc) != STORE_OK) {
		json_decref(a);
		return NULL;
	}
	return a;
}

/* attachments - [{"filename", "content_type", "size", "sha256"}]; NULL on error */
static json_t *attachments(struct store_xrun *q, int64_t mid)
{
	sqlite3_stmt *s = q->s_atts;
	json_t *a = json_array(), *o;
	int rc;

	sqlite3_reset(s);
	sqlite3_bind_int64(s, 1, mid);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		o = json_object();
		store_xset(o, "filename", store_json_text(s, 0));
		store_xset(o, "content_type", store_json_text(s, 1));
		store_xset(o, "size", store_json_id(s, 2));
		store_xset(o, "sha256", store_json_text(s, 3));
		json_array_append_new(a, o);
	}
	if (rdone(q, rc) != STORE_OK) {
		json_decref(a);
		return NULL;
	}
	return a;
}

/* sources - [{"source", "origin", envelope...}] of message MID; NULL on error */
static json_t *sources(struct store_xrun *q, int64_t mid)
{
	static const char *const keys[] = {
		"source", "origin", "queue_id", "mail_from", "client_addr", "client_name",
		"auth_authen", "daemon_name",
	};
	sqlite3_stmt *s = q->s_srcs;
	json_t *a = json_array(), *o;
	int rc;

	sqlite3_reset(s);
	sqlite3_bind_int64(s, 1, mid);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		o = json_object();
		for (int i = 0; i < 8; i++)
			store_xset(o, keys[i], store_json_text(s, i));
		store_xset(o, "arrival", store_json_date(s, 8));
		json_array_append_new(a, o);
	}
	if (rdone(q, rc) != STORE_OK) {
		json_decref(a);
		return NULL;
	}
	return a;
}

/* raw_info - {"mode", "size", "kept"} of the raw row, null when there is none */
static json_t *raw_info(sqlite3_stmt *s)
{
	json_t *o;

	if (sqlite3_column_type(s, MC_RAW_MODE) == SQLITE_NULL)
		return json_null();
	o = json_object();
	store_xset(o, "mode", store_json_text(s, MC_RAW_MODE));
	store_xset(o, "size", store_json_id(s, MC_RAW_SIZE));
	store_xset(o, "kept", store_json_id(s, MC_RAW_KEPT));
	return o;
}

/* store_xrow_message - one message record (see crmilter-export(5)); NULL on error */
json_t *store_xrow_message(struct store_xrun *q, sqlite3_stmt *s)
{
	int64_t mid = sqlite3_column_int64(s, MC_ID);
	json_t *o = store_xrecord("message"), *v;

	store_xset(o, "id", store_json_id(s, MC_ID));
	store_xset(o, "thread", store_json_id(s, MC_THREAD));
	store_xset(o, "message_id", store_json_text(s, MC_MSGID));
	store_xset(o, "date", store_json_date(s, MC_DATE));
	store_xset(o, "direction", store_json_text(s, MC_DIR));
	store_xset(o, "subject", store_json_text(s, MC_SUBJECT));
	store_xset(o, "size", store_json_id(s, MC_SIZE));
	store_xset(o, "flags", store_json_flags((unsigned)sqlite3_column_int64(s, MC_FLAGS)));
	store_xset(o, "log", decision(s, MC_LOG, "status"));
	store_xset(o, "visibility", visibility(s, MC_VIS));
	store_xset(o, "untrusted", json_boolean(sqlite3_column_int(s, MC_UNTRUSTED)));
	store_xset(o, "in_reply_to", store_json_text(s, MC_IRT));
	store_xset(o, "parent", store_json_text(s, MC_PARENT));
	store_xset(o, "headers", j_parsed(s, MC_HEADERS, 1));
	if (!(v = participants(q, mid)))
		goto fail;
	store_xset(o, "participants", v);
	if (!(v = body(q, s)))
		goto fail;
	store_xset(o, "body", v);
	store_xset(o, "quotes", j_parsed(s, MC_QUOTES, 0));
	if (!(v = attachments(q, mid)))
		goto fail;
	store_xset(o, "attachments", v);
	if (!(v = sources(q, mid)))
		goto fail;
	store_xset(o, "sources", v);
	store_xset(o, "raw", raw_info(s));
	store_xset(o, "warnings", j_parsed(s, MC_WARNINGS, 0));
	return o;
fail:
	json_decref(o);
	return NULL;
}

/* store_xrows_prepare - the per-row statements; see export_int.h */
int store_xrows_prepare(struct store_xrun *q)
{
	static const char *const sql[] = {
		"SELECT domain FROM account_domains WHERE account_id = ?1 ORDER BY domain",
		"SELECT address FROM deal_contacts WHERE deal_id = ?1 ORDER BY address",
		"SELECT role, address, name FROM participants WHERE message_id = ?1 ORDER BY"
		" CASE role WHEN 'from' THEN 0 WHEN 'sender' THEN 1 WHEN 'reply-to' THEN 2"
		" WHEN 'to' THEN 3 WHEN 'cc' THEN 4 WHEN 'bcc' THEN 5 ELSE 6 END, pos, address",
		"SELECT filename, content_type, size, sha256 FROM attachments WHERE message_id = ?1"
		" ORDER BY id",
		"SELECT source, origin, queue_id, mail_from, client_addr, client_name, auth_authen,"
		" daemon_name, arrival FROM message_sources WHERE message_id = ?1"
		" ORDER BY source, origin",
		"SELECT kept, data, dict_id FROM raw WHERE message_id = ?1",
	};
	sqlite3_stmt **out[] = { &q->s_domains, &q->s_deal_contacts, &q->s_parts, &q->s_atts,
				 &q->s_srcs, &q->s_raw };

	int rc;

	for (size_t i = 0; i < sizeof out / sizeof out[0]; i++) {
		rc = sqlite3_prepare_v2(q->st->db, sql[i], -1, out[i], NULL);
		if (rc != SQLITE_OK)
			return q->err_class = store_sqlerr(q->st, rc, "preparing the export");
	}
	return STORE_OK;
}

/* store_xrows_finish - finalize the per-row statements; see export_int.h */
void store_xrows_finish(struct store_xrun *q)
{
	sqlite3_stmt *all[] = { q->s_domains, q->s_deal_contacts, q->s_parts, q->s_atts,
				q->s_srcs, q->s_raw };

	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		sqlite3_finalize(all[i]);
}
