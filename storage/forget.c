/*
 * forget.c - store_forget(): erase a person (an address) or a company (a
 * domain) from the store, and the never-capture list that keeps them out
 *
 * In one erase transaction (purge.c): the addresses that match the target
 * (temp.forget_addr: participants, contacts, deal contacts, envelope
 * senders), the messages they took part in (temp.forget_msgs), each
 * either erased, when no other external party took part (kind 2), or
 * masked (kind 1); the other messages of their threads and the messages
 * the full-text index finds them named in are masked too when they hold
 * the bytes (kind 0).  Masking replaces every byte of the address, of the
 * display names only these addresses used, and for a domain of the
 * domain, by 'x' (same length, so the body offsets into the raw source and
 * the quote spans stay right) in the subject (and its key), headers JSON, snippet,
 * parser warnings, body, raw source and index row, and drops the
 * participant rows and envelope senders.  Then the contacts go (for a
 * domain, the accounts too), the SHA-256 of the target joins the
 * forgotten table, and the audit row says how much went, not what.  A
 * zstd dictionary (raw.c) trained from mail that held the target is
 * dropped, the frames made with it stored again without one.
 *
 * A thread under a legal hold is never changed: forget refuses when the
 * target took part in one, and masks nothing in one.  The never-capture
 * check (store_forgotten) runs when ingest or a rules apply would make a
 * contact: the address, its domain and each parent domain are hashed and
 * looked up.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <glib.h>

#include "store_int.h"

#define FORGET_NAME_MIN 4       /* bytes: shorter display names are not masked */
#define FORGET_MAX_DOMAINS 8    /* parent domains looked up for one address */

/* one run of store_forget */
struct forget {
	struct store *st;
	char *target;                /* lower case; the domain without its '@' */
	int domain;                  /* 1: TARGET is a domain */
	char **needles;              /* byte strings to mask, longest first */
	size_t n_needles;
	json_t *report;
};

/* sha256_hex - the SHA-256 of S as 64 hex digits (g_free), or NULL */
static char *sha256_hex(const char *s)
{
	return g_compute_checksum_for_string(G_CHECKSUM_SHA256, s, -1);
}

/* lower_dup - a lower-cased copy of S (free()), or NULL */
static char *lower_dup(const char *s)
{
	char *d = strdup(s);

	for (char *p = d; p && *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return d;
}

/*
 * hashes_json - the JSON array of the hashes that would forget ADDR: the
 * address, its domain and each parent domain that still has a dot.
 * Returns JSON text (free()), or NULL when memory runs out.
 */
static char *hashes_json(const char *addr)
{
	json_t *a = json_array();
	char *low = lower_dup(addr), *h, *out = NULL;
	const char *d = low ? strrchr(low, '@') : NULL;
	int n = 0;

	if (!a || !low)
		goto out;
	if ((h = sha256_hex(low))) {
		json_array_append_new(a, json_string(h));
		g_free(h);
	}
	for (d = d ? d + 1 : NULL; d && strchr(d, '.') && n < FORGET_MAX_DOMAINS; n++) {
		if ((h = sha256_hex(d))) {
			json_array_append_new(a, json_string(h));
			g_free(h);
		}
		d = strchr(d, '.') + 1;
	}
	out = json_dumps(a, JSON_COMPACT);
out:
	json_decref(a);
	free(low);
	return out;
}

/* store_forgotten - see store_int.h */
int store_forgotten(struct store *st, const char *addr, int *gone)
{
	sqlite3_stmt *s;
	char *json = hashes_json(addr);
	int rc;

	*gone = 0;
	if (!json)
		return store_fail(st, STORE_EINVAL, "%s: out of memory", st->path);
	s = store_stmt(st, S_FORGOTTEN_GET);
	if (!s) {
		free(json);
		return store_stmt_err(st);
	}
	sqlite3_bind_text(s, 1, json, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	*gone = rc == SQLITE_ROW;
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	free(json);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK
						     : store_sqlerr(st, rc, "reading the forgotten list");
}

/* ---- SQL functions for one run ---- */

/* matches - 1 when address A is the target, or (domain) in it or a subdomain of it */
static int matches(const struct forget *f, const char *a)
{
	const char *d;
	size_t dl, tl = strlen(f->target);

	if (!a)
		return 0;
	if (!f->domain)
		return strcasecmp(a, f->target) == 0;
	d = strrchr(a, '@');
	if (!d)
		return 0;
	dl = strlen(++d);
	return (dl == tl && strcasecmp(d, f->target) == 0) ||
	       (dl > tl && d[dl - tl - 1] == '.' && strcasecmp(d + dl - tl, f->target) == 0);
}

/* fn_match - SQL crm_forget_match(address) */
static void fn_match(sqlite3_context *c, int argc, sqlite3_value **v)
{
	(void)argc;
	sqlite3_result_int(c, matches(sqlite3_user_data(c), (const char *)sqlite3_value_text(v[0])));
}

/* fn_internal - SQL crm_internal(address) */
static void fn_internal(sqlite3_context *c, int argc, sqlite3_value **v)
{
	const struct forget *f = sqlite3_user_data(c);
	const char *a = (const char *)sqlite3_value_text(v[0]);

	(void)argc;
	sqlite3_result_int(c, a && store_is_internal(f->st, a));
}

/* functions - register (F) or drop (NULL) the two SQL functions */
static void functions(struct store *st, struct forget *f)
{
	int fl = SQLITE_UTF8 | SQLITE_DETERMINISTIC;

	sqlite3_create_function(st->db, "crm_forget_match", 1, fl, f, f ? fn_match : NULL, NULL, NULL);
	sqlite3_create_function(st->db, "crm_internal", 1, fl, f, f ? fn_internal : NULL, NULL, NULL);
}

/* ---- what the target touches ---- */

static const char find_sql[] =
	"CREATE TEMP TABLE forget_addr (address TEXT PRIMARY KEY);"
	"CREATE TEMP TABLE forget_msgs (id INTEGER PRIMARY KEY, kind INTEGER NOT NULL);"
	"INSERT OR IGNORE INTO temp.forget_addr"
	" SELECT address FROM participants WHERE crm_forget_match(address)"
	" UNION SELECT address FROM contacts WHERE crm_forget_match(address)"
	" UNION SELECT address FROM deal_contacts WHERE crm_forget_match(address)"
	" UNION SELECT lower(mail_from) FROM message_sources WHERE crm_forget_match(mail_from);"
	"INSERT OR IGNORE INTO temp.forget_msgs"
	" SELECT message_id, 1 FROM participants WHERE address IN (SELECT address FROM temp.forget_addr)"
	" UNION SELECT message_id, 1 FROM message_sources"
	"  WHERE lower(mail_from) IN (SELECT address FROM temp.forget_addr);"
	/* no other external party: the message goes */
	"UPDATE temp.forget_msgs SET kind = 2 WHERE NOT EXISTS (SELECT 1 FROM participants p"
	" WHERE p.message_id = forget_msgs.id AND p.address NOT IN (SELECT address FROM"
	" temp.forget_addr) AND NOT crm_internal(p.address));"
	/* the rest of their threads may quote them */
	"INSERT OR IGNORE INTO temp.forget_msgs SELECT id, 0 FROM messages WHERE thread_id IN"
	" (SELECT m.thread_id FROM messages m JOIN temp.forget_msgs f ON f.id = m.id)";

/* needles_sql - the strings to mask: addresses, names only they used, longest first */
static const char needles_sql[] =
	"SELECT n FROM (SELECT address AS n FROM temp.forget_addr"
	" UNION SELECT name FROM participants WHERE address IN (SELECT address FROM temp.forget_addr)"
	" UNION SELECT name FROM contacts WHERE address IN (SELECT address FROM temp.forget_addr))"
	" WHERE n IS NOT NULL AND length(CAST(n AS BLOB)) >= " G_STRINGIFY(FORGET_NAME_MIN)
	" AND n NOT IN (SELECT name FROM participants WHERE name IS NOT NULL AND address NOT IN"
	"  (SELECT address FROM temp.forget_addr))"
	" ORDER BY length(CAST(n AS BLOB)) DESC, n";

/* needle_add - keep a copy of N (N bytes) as a needle; 0 or -1 */
static int needle_add(struct forget *f, const char *n, size_t len)
{
	char **nv = realloc(f->needles, (f->n_needles + 1) * sizeof *nv);

	if (!nv)
		return -1;
	f->needles = nv;
	if (!(nv[f->n_needles] = strndup(n, len)))
		return -1;
	f->n_needles++;
	return 0;
}

/* needles_load - the needles of this run (and the domain itself for a domain) */
static int needles_load(struct forget *f)
{
	struct store *st = f->st;
	sqlite3_stmt *s = NULL;
	int rc;

	if (f->domain && needle_add(f, f->target, strlen(f->target)) < 0)
		return store_fail(st, STORE_EINVAL, "%s: out of memory", st->path);
	rc = sqlite3_prepare_v2(st->db, needles_sql, -1, &s, NULL);
	if (rc != SQLITE_OK)
		return store_sqlerr(st, rc, "finding what to mask");
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if (needle_add(f, (const char *)sqlite3_column_text(s, 0),
			       (size_t)sqlite3_column_bytes(s, 0)) < 0)
			break;
	sqlite3_finalize(s);
	if (rc == SQLITE_ROW)
		return store_fail(st, STORE_EINVAL, "%s: out of memory", st->path);
	return rc == SQLITE_DONE ? STORE_OK : store_sqlerr(st, rc, "finding what to mask");
}

/* fts_phrase - NEEDLE as one FTS5 phrase ("..." with '"' doubled); free() */
static char *fts_phrase(const char *needle)
{
	char *q = malloc(2 * strlen(needle) + 3), *p = q;

	if (!q)
		return NULL;
	*p++ = '"';
	for (const char *c = needle; *c; c++) {
		if (*c == '"')
			*p++ = '"';
		*p++ = *c;
	}
	*p++ = '"';
	*p = '\0';
	return q;
}

/* named_in - the messages whose index row holds a needle join the scan (kind 0) */
static int named_in(struct forget *f)
{
	struct store *st = f->st;
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(st->db, "INSERT OR IGNORE INTO temp.forget_msgs"
				    " SELECT rowid, 0 FROM fts WHERE fts MATCH ?1", -1, &s, NULL);

	if (rc != SQLITE_OK)
		return store_sqlerr(st, rc, "searching the index");
	rc = STORE_OK;
	for (size_t i = 0; rc == STORE_OK && i < f->n_needles; i++) {
		char *q = fts_phrase(f->needles[i]);

		if (!q)
			rc = store_fail(st, STORE_EINVAL, "%s: out of memory", st->path);
		else {
			sqlite3_bind_text(s, 1, q, -1, SQLITE_TRANSIENT);
			rc = store_step_done(st, s, "searching the index");
		}
		free(q);
	}
	sqlite3_finalize(s);
	return rc;
}

/*
 * held_check - EINVAL when the target took part in a thread under a legal
 * hold; the other held messages leave the scan (they are never changed)
 */
static int held_check(struct forget *f)
{
	struct store *st = f->st;
	char sql[1024];
	int64_t n = 0;
	int rc;

	snprintf(sql, sizeof sql, "SELECT coalesce(min(m.thread_id), 0) FROM temp.forget_msgs f"
		 " JOIN messages m ON m.id = f.id WHERE f.kind > 0 AND m.thread_id IN (%s)",
		 store_held_sql());
	rc = store_count(st, sql, &n);
	if (rc == STORE_OK && n)
		return store_fail(st, STORE_EINVAL, "thread %lld is under a legal hold: release it"
				  " (crmctl release) before forgetting", (long long)n);
	snprintf(sql, sizeof sql, "DELETE FROM temp.forget_msgs WHERE id IN (SELECT id FROM"
		 " messages WHERE thread_id IN (%s))", store_held_sql());
	if (rc == STORE_OK)
		rc = store_exec(st, sql);
	if (rc == STORE_OK && f->domain)
		rc = store_count(st, "SELECT count(*) FROM holds h JOIN accounts a ON a.id ="
				 " h.account_id WHERE crm_forget_match('x@' || a.domain)", &n);
	if (rc == STORE_OK && n)
		return store_fail(st, STORE_EINVAL, "account %s is under a legal hold: release it"
				  " (crmctl release) before forgetting", f->target);
	return rc;
}

/* ---- masking ---- */

/* mask - replace every needle in BUF (LEN bytes, ASCII case-insensitive) by 'x'; the count */
static size_t mask(const struct forget *f, char *buf, size_t len)
{
	size_t hits = 0;

	for (size_t i = 0; i < f->n_needles; i++) {
		size_t nl = strlen(f->needles[i]);
		int c0 = tolower((unsigned char)f->needles[i][0]);

		for (size_t p = 0; nl && p + nl <= len; p++) {
			if (tolower((unsigned char)buf[p]) != c0 ||
			    strncasecmp(buf + p, f->needles[i], nl) != 0)
				continue;
			memset(buf + p, 'x', nl);
			hits++;
			p += nl - 1;
		}
	}
	return hits;
}

/* mask_column - mask text column COL (a trusted name) of TABLE's row KEY = MID; *changed = 1 when it did */
static int mask_column(struct forget *f, const char *table, const char *col, const char *key,
		       int64_t mid, int *changed)
{
	struct store *st = f->st;
	sqlite3_stmt *s = NULL;
	char sql[256], *text = NULL;
	size_t len = 0;
	int rc;

	snprintf(sql, sizeof sql, "SELECT %s FROM %s WHERE %s = ?1", col, table, key);
	rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
	if (rc != SQLITE_OK)
		return store_sqlerr(st, rc, "reading text to mask");
	sqlite3_bind_int64(s, 1, mid);
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
		len = (size_t)sqlite3_column_bytes(s, 0);
		text = strndup((const char *)sqlite3_column_text(s, 0), len);
	}
	sqlite3_finalize(s);
	s = NULL;
	if (text && mask(f, text, len)) {
		*changed = 1;
		snprintf(sql, sizeof sql, "UPDATE %s SET %s = ?2 WHERE %s = ?1", table, col, key);
		rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
		if (rc == SQLITE_OK) {
			sqlite3_bind_int64(s, 1, mid);
			sqlite3_bind_text(s, 2, text, (int)len, SQLITE_STATIC);
			rc = store_step_done(st, s, "masking text");
		} else {
			rc = store_sqlerr(st, rc, "masking text");
		}
		sqlite3_finalize(s);
	} else {
		rc = STORE_OK;
	}
	free(text);
	return rc;
}

/*
 * mask_frame - mask the zstd frame in column COL (dictionary in DCOL, size
 * in SCOL) of TABLE's row KEY = MID; recompressed when it changed
 */
static int mask_frame(struct forget *f, const char *table, const char *col, const char *dcol,
		      const char *scol, const char *key, int64_t mid, int *changed)
{
	struct store *st = f->st;
	sqlite3_stmt *s = NULL;
	char sql[256], *text = NULL;
	const void *z = NULL;
	size_t len = 0, zlen = 0;
	int64_t dict = 0;
	int rc;

	snprintf(sql, sizeof sql, "SELECT %s, %s, %s FROM %s WHERE %s = ?1 AND %s IS NOT NULL",
		 col, dcol, scol, table, key, col);
	rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
	if (rc != SQLITE_OK)
		return store_sqlerr(st, rc, "reading a frame to mask");
	rc = STORE_OK;
	sqlite3_bind_int64(s, 1, mid);
	if (sqlite3_step(s) == SQLITE_ROW) {
		len = (size_t)sqlite3_column_int64(s, 2);
		text = store_zdecompress(st, sqlite3_column_blob(s, 0),
					 (size_t)sqlite3_column_bytes(s, 0), len,
					 sqlite3_column_int64(s, 1));
		if (!text)
			rc = store_fail(st, STORE_ECORRUPT, "%s: message %lld: %s cannot be read",
					st->path, (long long)mid, col);
	}
	sqlite3_finalize(s);
	s = NULL;
	if (rc == STORE_OK && text && mask(f, text, len)) {
		*changed = 1;
		rc = store_zcompress(st, text, len, &z, &zlen, &dict);
		snprintf(sql, sizeof sql, "UPDATE %s SET %s = ?2, %s = ?3 WHERE %s = ?1", table, col,
			 dcol, key);
		if (rc == STORE_OK && sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
			rc = store_sqlerr(st, sqlite3_errcode(st->db), "masking a frame");
		if (rc == STORE_OK) {
			sqlite3_bind_int64(s, 1, mid);
			sqlite3_bind_blob(s, 2, z, (int)zlen, SQLITE_STATIC);
			if (dict)
				sqlite3_bind_int64(s, 3, dict);
			rc = store_step_done(st, s, "masking a frame");
		}
		sqlite3_finalize(s);
	}
	free(text);
	return rc;
}

/* drop_people - the target's participant rows and envelope senders of MID go */
static int drop_people(struct store *st, int64_t mid, int *changed)
{
	int rc = store_run_id(st, "DELETE FROM participants WHERE message_id = ?1 AND address IN"
			      " (SELECT address FROM temp.forget_addr)", mid);

	*changed |= rc == STORE_OK && sqlite3_changes(st->db) > 0;
	/* the per-address status of a private thread (schema.c, version 8) */
	if (rc == STORE_OK)
		rc = store_exec(st, "DELETE FROM thread_people WHERE address IN"
				" (SELECT address FROM temp.forget_addr)");
	if (rc == STORE_OK)
		rc = store_run_id(st, "UPDATE message_sources SET mail_from = NULL WHERE message_id"
				  " = ?1 AND lower(mail_from) IN (SELECT address FROM temp.forget_addr)",
				  mid);
	*changed |= rc == STORE_OK && sqlite3_changes(st->db) > 0;
	return rc;
}

/* mask_message - mask one message that stays; *changed when anything did */
static int mask_message(struct forget *f, int64_t mid, int64_t tid, int *changed)
{
	static const char *const cols[] = { "subject", "subject_key", "snippet", "headers", "warnings",
					    "log_reason", "vis_reason" };
	struct store *st = f->st;
	struct store_msgtext before = { 0 }, after = { 0 };
	int rc = tid ? store_msgtext_load(st, mid, &before) : STORE_OK;

	*changed = 0;
	if (rc == STORE_OK)
		rc = drop_people(st, mid, changed);
	for (size_t i = 0; rc == STORE_OK && i < sizeof cols / sizeof cols[0]; i++)
		rc = mask_column(f, "messages", cols[i], "id", mid, changed);
	if (rc == STORE_OK && tid)	/* a reason may name a person ("open deals for ...") */
		rc = mask_column(f, "threads", "unassigned", "id", tid, changed);
	if (rc == STORE_OK && tid)
		rc = mask_column(f, "threads", "vis_reason", "id", tid, changed);
	if (rc == STORE_OK)
		rc = mask_frame(f, "messages", "body", "dict_id", "body_len", "id", mid, changed);
	if (rc == STORE_OK)
		rc = mask_frame(f, "raw", "data", "dict_id", "kept", "message_id", mid, changed);
	if (rc == STORE_OK && tid && *changed)
		rc = store_msgtext_load(st, mid, &after);
	if (rc == STORE_OK && tid && *changed)
		rc = store_msgtext_index(st, mid, &before, 1);
	if (rc == STORE_OK && tid && *changed)
		rc = store_msgtext_index(st, mid, &after, 0);
	if (rc == STORE_OK && tid && *changed)
		rc = store_run_id(st, "INSERT OR IGNORE INTO temp.erase_threads VALUES (?1)", tid);
	store_msgtext_free(&before);
	store_msgtext_free(&after);
	return rc;
}

/* ---- the report ---- */

/* msg_json - {"id", "thread", "date", "subject"} of message row S (columns 0..3) */
static json_t *msg_json(sqlite3_stmt *s)
{
	char when[32];
	time_t t = (time_t)sqlite3_column_int64(s, 2);
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(when, sizeof when, "%lld", (long long)t);
	return json_pack("{s:I, s:I, s:s, s:s}", "id", (json_int_t)sqlite3_column_int64(s, 0),
			 "thread", (json_int_t)sqlite3_column_int64(s, 1), "date", when,
			 "subject", sqlite3_column_text(s, 3) ? (const char *)sqlite3_column_text(s, 3) : "");
}

#define MSG_COLS "m.id, coalesce(m.thread_id, 0), m.date, m.subject"

/* strings - a JSON array of the first column SQL returns */
static json_t *strings(struct store *st, const char *sql)
{
	sqlite3_stmt *s = NULL;
	json_t *a = json_array();

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) == SQLITE_OK)
		while (sqlite3_step(s) == SQLITE_ROW)
			json_array_append_new(a, json_string((const char *)sqlite3_column_text(s, 0)));
	sqlite3_finalize(s);
	return a;
}

/* deleted_list - the messages to erase, into the report and temp.erase_msgs */
static int deleted_list(struct forget *f)
{
	struct store *st = f->st;
	sqlite3_stmt *s = NULL;
	json_t *a = json_array();
	int rc = sqlite3_prepare_v2(st->db, "SELECT " MSG_COLS " FROM temp.forget_msgs f JOIN"
				    " messages m ON m.id = f.id WHERE f.kind = 2 ORDER BY m.date, m.id",
				    -1, &s, NULL);

	if (rc == SQLITE_OK)
		while ((rc = sqlite3_step(s)) == SQLITE_ROW)
			json_array_append_new(a, msg_json(s));
	sqlite3_finalize(s);
	json_object_set_new(f->report, "deleted", a);
	if (rc != SQLITE_DONE)
		return store_sqlerr(st, rc, "listing messages to erase");
	return store_exec(st, "INSERT INTO temp.erase_msgs SELECT id FROM temp.forget_msgs WHERE kind = 2");
}

/*
 * to_mask - the ids and threads of the messages that stay, date order, as
 * pairs in a new array (free()) of *n pairs; NULL with *n 0 when none
 */
static int64_t *to_mask(struct store *st, size_t *n, int *rc)
{
	sqlite3_stmt *s = NULL;
	int64_t *v = NULL, *nv;
	int r = sqlite3_prepare_v2(st->db, "SELECT f.id, coalesce(m.thread_id, 0) FROM"
				   " temp.forget_msgs f JOIN messages m ON m.id = f.id WHERE f.kind < 2"
				   " ORDER BY m.date, m.id", -1, &s, NULL);

	*n = 0;
	while (r == SQLITE_OK && (r = sqlite3_step(s)) == SQLITE_ROW) {
		if (!(nv = realloc(v, (*n + 1) * 2 * sizeof *nv)))
			break;
		v = nv;
		v[2 * *n] = sqlite3_column_int64(s, 0);
		v[2 * (*n)++ + 1] = sqlite3_column_int64(s, 1);
		r = SQLITE_OK;
	}
	sqlite3_finalize(s);
	*rc = r == SQLITE_DONE ? STORE_OK : r == SQLITE_ROW
		? store_fail(st, STORE_EINVAL, "%s: out of memory", st->path)
		: store_sqlerr(st, r, "listing messages to mask");
	return v;
}

/* mask_all - mask the messages that stay; the changed ones are reported */
static int mask_all(struct forget *f)
{
	struct store *st = f->st;
	sqlite3_stmt *r = NULL;
	json_t *a = json_array();
	size_t n = 0;
	int rc, changed;
	int64_t *v = to_mask(st, &n, &rc);

	json_object_set_new(f->report, "redacted", a);
	if (rc == STORE_OK && sqlite3_prepare_v2(st->db, "SELECT " MSG_COLS " FROM messages m"
						 " WHERE m.id = ?1", -1, &r, NULL) != SQLITE_OK)
		rc = store_sqlerr(st, sqlite3_errcode(st->db), "listing messages to mask");
	for (size_t i = 0; rc == STORE_OK && i < n; i++) {
		rc = mask_message(f, v[2 * i], v[2 * i + 1], &changed);
		if (rc != STORE_OK || !changed)
			continue;
		sqlite3_reset(r);
		sqlite3_bind_int64(r, 1, v[2 * i]);
		if (sqlite3_step(r) == SQLITE_ROW)
			json_array_append_new(a, msg_json(r));
	}
	sqlite3_finalize(r);
	free(v);
	return rc;
}

/* ---- contacts, accounts, the list ---- */

/* people_go - contacts, deal contacts and (domain) accounts of the target go */
static int people_go(struct forget *f)
{
	struct store *st = f->st;
	int rc;

	json_object_set_new(f->report, "contacts", strings(st, "SELECT address FROM contacts WHERE"
		" address IN (SELECT address FROM temp.forget_addr) ORDER BY address"));
	json_object_set_new(f->report, "accounts", f->domain ? strings(st, "SELECT domain FROM"
		" accounts WHERE crm_forget_match('x@' || domain) ORDER BY domain") : json_array());
	rc = store_exec(st, "DELETE FROM contacts WHERE address IN (SELECT address FROM temp.forget_addr);"
			"DELETE FROM deal_contacts WHERE address IN (SELECT address FROM temp.forget_addr)");
	if (rc != STORE_OK || !f->domain)
		return rc;
	return store_exec(st,
		"CREATE TEMP TABLE forget_accounts AS SELECT id FROM accounts"
		" WHERE crm_forget_match('x@' || domain);"
		"UPDATE deals SET account_id = NULL WHERE account_id IN (SELECT id FROM temp.forget_accounts);"
		"UPDATE contacts SET account_id = NULL WHERE account_id IN"
		" (SELECT id FROM temp.forget_accounts);"
		"DELETE FROM account_domains WHERE crm_forget_match('x@' || domain) OR account_id IN"
		" (SELECT id FROM temp.forget_accounts);"
		"DELETE FROM accounts WHERE id IN (SELECT id FROM temp.forget_accounts);"
		"DROP TABLE temp.forget_accounts");
}

/* listed - the target's hash joins the never-capture list */
static int listed(struct forget *f)
{
	struct store *st = f->st;
	sqlite3_stmt *s = NULL;
	char *h = sha256_hex(f->target);
	int rc = sqlite3_prepare_v2(st->db, "INSERT OR IGNORE INTO forgotten (hash, kind, at)"
				    " VALUES (?1, ?2, ?3)", -1, &s, NULL);

	if (rc == SQLITE_OK && h) {
		sqlite3_bind_text(s, 1, h, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, f->domain ? "domain" : "address", -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 3, (sqlite3_int64)time(NULL));
		rc = store_step_done(st, s, "adding to the forgotten list");
	} else {
		rc = h ? store_sqlerr(st, rc, "adding to the forgotten list")
		       : store_fail(st, STORE_EINVAL, "%s: out of memory", st->path);
	}
	sqlite3_finalize(s);
	g_free(h);
	return rc;
}

/* held_dicts - the ids of the compression dictionaries holding a needle (max 8), their count */
static size_t held_dicts(struct forget *f, int64_t *ids, size_t max)
{
	sqlite3_stmt *s = NULL;
	size_t n = 0;
	char *copy;

	if (sqlite3_prepare_v2(f->st->db, "SELECT id, dict FROM zdicts ORDER BY id", -1, &s,
			       NULL) != SQLITE_OK)
		return 0;
	while (n < max && sqlite3_step(s) == SQLITE_ROW) {
		size_t len = (size_t)sqlite3_column_bytes(s, 1);

		copy = malloc(len + 1);
		if (copy) {
			memcpy(copy, sqlite3_column_blob(s, 1), len);
			if (mask(f, copy, len) > 0)
				ids[n++] = sqlite3_column_int64(s, 0);
		}
		free(copy);
	}
	sqlite3_finalize(s);
	return n;
}

/*
 * reframe - every frame of TABLE made with dictionary DICT is decompressed
 * and stored again without a dictionary (KEY, COL, SIZE: its columns)
 */
static int reframe(struct store *st, const char *table, const char *key, const char *col,
		   const char *size, int64_t dict)
{
	sqlite3_stmt *s = NULL, *u = NULL;
	int64_t *ids = NULL;
	size_t n = 0;
	char sql[256];
	int rc;

	snprintf(sql, sizeof sql, "SELECT %s, %s, %s FROM %s WHERE %s = ?1 AND dict_id = ?2",
		 key, col, size, table, key);
	rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
	snprintf(sql, sizeof sql, "UPDATE %s SET %s = ?2, dict_id = NULL WHERE %s = ?1", table, col,
		 key);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(st->db, sql, -1, &u, NULL);
	snprintf(sql, sizeof sql, "SELECT %s FROM %s WHERE dict_id = %lld", key, table, (long long)dict);
	if (rc != SQLITE_OK) {
		rc = store_sqlerr(st, rc, "recompressing");
		goto out;
	}
	rc = store_ids(st, sql, &ids, &n);
	for (size_t i = 0; rc == STORE_OK && i < n; i++) {
		const void *z = NULL;
		size_t zlen = 0;
		int64_t none = 0;
		char *text = NULL;

		sqlite3_reset(s);
		sqlite3_bind_int64(s, 1, ids[i]);
		sqlite3_bind_int64(s, 2, dict);
		if (sqlite3_step(s) == SQLITE_ROW)
			text = store_zdecompress(st, sqlite3_column_blob(s, 1),
						 (size_t)sqlite3_column_bytes(s, 1),
						 (size_t)sqlite3_column_int64(s, 2), dict);
		if (!text) {
			rc = store_fail(st, STORE_ECORRUPT, "%s: %s %lld: frame cannot be read",
					st->path, table, (long long)ids[i]);
			break;
		}
		rc = store_zcompress(st, text, (size_t)sqlite3_column_int64(s, 2), &z, &zlen, &none);
		free(text);
		if (rc != STORE_OK)
			break;
		sqlite3_reset(u);
		sqlite3_bind_int64(u, 1, ids[i]);
		sqlite3_bind_blob(u, 2, z, (int)zlen, SQLITE_STATIC);
		rc = store_step_done(st, u, "recompressing");
	}
out:
	free(ids);
	sqlite3_finalize(s);
	sqlite3_finalize(u);
	return rc;
}

/*
 * dicts_drop - the zstd dictionaries trained from mail that held the
 * target go: every frame made with one is stored again without a
 * dictionary, then its row is deleted.  Compression goes on without one
 * until the next ingest batch trains a new dictionary from the mail that
 * is left (raw.c), which recompresses these frames with it.
 */
static int dicts_drop(struct forget *f, const int64_t *ids, size_t n)
{
	struct store *st = f->st;
	int rc = STORE_OK;

	store_zdict_drop(st);          /* store_zcompress now makes plain frames */
	st->dict_retry_at = 0;
	for (size_t i = 0; rc == STORE_OK && i < n; i++) {
		rc = reframe(st, "raw", "message_id", "data", "kept", ids[i]);
		if (rc == STORE_OK)
			rc = reframe(st, "messages", "id", "body", "body_len", ids[i]);
		if (rc == STORE_OK)
			rc = store_run_id(st, "DELETE FROM zdicts WHERE id = ?1", ids[i]);
		for (size_t d = 0; d < st->n_ddicts; d++)	/* an id may come back: forget it */
			if (st->ddicts[d].id == ids[i])
				st->ddicts[d].id = -1;
	}
	return rc;
}

/* dictionary - report (and unless DRY_RUN drop) the dictionaries that hold the target */
static int dictionary(struct forget *f, int dry_run)
{
	int64_t ids[8];
	size_t n = held_dicts(f, ids, 8);

	json_object_set_new(f->report, "dictionary", json_boolean(n > 0));
	return n && !dry_run ? dicts_drop(f, ids, n) : STORE_OK;
}

/* audit_row - the audit row: counts only, never the target */
static int audit_row(struct forget *f, const char *who, int64_t msgs, int64_t threads)
{
	char detail[256];
	size_t c = json_array_size(json_object_get(f->report, "contacts"));
	size_t a = json_array_size(json_object_get(f->report, "accounts"));
	size_t r = json_array_size(json_object_get(f->report, "redacted"));

	snprintf(detail, sizeof detail, "forgot %s: %zu contact%s, %zu account%s, %lld message%s"
		 " and %lld thread%s deleted, %zu message%s redacted", f->domain ? "a domain" :
		 "an address", c, c == 1 ? "" : "s", a, a == 1 ? "" : "s", (long long)msgs,
		 msgs == 1 ? "" : "s", (long long)threads, threads == 1 ? "" : "s", r,
		 r == 1 ? "" : "s");
	return store_audit(f->st, who, "forget", detail);
}

/* ---- the call ---- */

/* target_parse - F's target from TARGET; EINVAL for a malformed or own one */
static int target_parse(struct store *st, struct forget *f, const char *target)
{
	const char *at = strrchr(target, '@');
	char probe[512];

	f->domain = target[0] == '@';
	f->target = lower_dup(f->domain ? target + 1 : target);
	if (!f->target)
		return store_fail(st, STORE_EINVAL, "%s: out of memory", st->path);
	if (!at || (!f->domain && at == target) || !at[1] || !strchr(at + 1, '.') ||
	    strlen(target) > 254 || strpbrk(target, " \t<>\"(),;") || (f->domain && strchr(f->target, '@')))
		return store_fail(st, STORE_EINVAL, "%s: expected an address or @domain", target);
	snprintf(probe, sizeof probe, "x@%s", at + 1);
	if (store_is_internal(st, probe))
		return store_fail(st, STORE_EINVAL, "%s is in an own domain: forget erases people"
				  " outside the company", target);
	return STORE_OK;
}

/* forget_run - every step inside the erase transaction */
static int forget_run(struct forget *f, const char *who, int dry_run)
{
	struct store *st = f->st;
	int64_t msgs = 0, threads = 0;
	int rc = store_exec(st, find_sql);

	if (rc == STORE_OK)
		rc = needles_load(f);
	if (rc == STORE_OK)
		rc = named_in(f);
	if (rc == STORE_OK)
		rc = held_check(f);
	if (rc == STORE_OK)
		rc = deleted_list(f);
	if (rc == STORE_OK)
		rc = mask_all(f);
	if (rc == STORE_OK)
		rc = store_erase_run(st, &msgs, &threads);
	if (rc == STORE_OK)
		rc = people_go(f);
	if (rc == STORE_OK)
		rc = listed(f);
	json_object_set_new(f->report, "threads", json_integer(threads));
	if (rc == STORE_OK)
		rc = dictionary(f, dry_run);
	if (rc == STORE_OK && !dry_run)
		rc = audit_row(f, who, msgs, threads);
	return rc;
}

/* store_forget - see store.h */
int store_forget(struct store *st, const char *target, int dry_run, const char *who,
		 json_t **report, char *err, size_t errlen)
{
	struct forget f = { .st = st };
	int rc = store_write_begin(st, err, errlen);

	*report = NULL;
	f.report = json_object();
	if (rc == STORE_OK)
		rc = target_parse(st, &f, target ? target : "");
	if (rc == STORE_OK) {
		json_object_set_new(f.report, "target", f.domain ? json_sprintf("@%s", f.target)
							       : json_string(f.target));
		json_object_set_new(f.report, "kind", json_string(f.domain ? "domain" : "address"));
		json_object_set_new(f.report, "dry_run", json_boolean(dry_run));
		functions(st, &f);
		rc = store_erase_begin(st);
		if (rc == STORE_OK)
			rc = forget_run(&f, who, dry_run);
		rc = store_erase_end(st, rc, !dry_run, 1);
		sqlite3_exec(st->db, "DROP TABLE IF EXISTS temp.forget_addr;"
			     " DROP TABLE IF EXISTS temp.forget_msgs", NULL, NULL, NULL);
		functions(st, NULL);
	}
	if (rc == STORE_OK)
		*report = f.report;
	else
		json_decref(f.report);
	for (size_t i = 0; i < f.n_needles; i++)
		free(f.needles[i]);
	free(f.needles);
	free(f.target);
	return store_write_end(st, rc);
}
