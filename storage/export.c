/*
 * export.c - crmctl export: every record of the store, streamed
 *
 * store_export() hands the records a filter selects to a callback one at a
 * time, as jansson objects of the documented schema "crmilter-export 1"
 * (crmilter-export(5)): first a header ("export": format, version,
 * filter, counts), then the rules, accounts, contacts, deals, threads,
 * messages and links, each section in id order.  store_export_raw() hands
 * the raw sources of the selected messages instead, for mbox.  Nothing is
 * gathered: each row is read, converted, handed over and freed, inside one
 * read transaction (so the export is one consistent snapshot) and with a
 * small page cache, so memory stays flat however big the store is.
 *
 * Selection: an entity filter (account, contact, deal, thread, mailbox)
 * picks threads; since/until pick messages by date, and a thread is
 * exported with its messages in the range when it has any.  Without an
 * entity filter the metadata rows of skipped messages (in no thread) are
 * exported too.  With any filter, the contacts, deals and links are those
 * of the exported threads, the accounts those of the exported threads,
 * contacts and deals; the rules are always those the exported records
 * reference.
 *
 * Public: store_export, store_export_raw (store.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "export_int.h"

#define EXPORT_FORMAT    "crmilter-export"
#define EXPORT_VERSION   1
/*
 * the memory of an export run: a small page cache, and a soft heap limit
 * (SQLite's, for the whole process, restored at the end) that makes it
 * spill to temporary files the lists a filter builds (the threads of a
 * date range: 27 MB in memory for 290,000 threads without it), so memory
 * does not grow with the store or the filter
 */
#define EXPORT_CACHE_PRAGMA "PRAGMA cache_size = -2048"
#define EXPORT_HEAP_LIMIT   (4 * 1024 * 1024)

/* the threads each entity filter picks; :key or :tid is bound */
#define SQL_ENT_ACCOUNT \
	"SELECT el.thread_id FROM links el JOIN accounts ea ON ea.id = el.account_id" \
	" WHERE ea.domain = :key OR ea.id IN (SELECT ed.account_id FROM account_domains ed" \
	" WHERE ed.domain = :key)"
#define SQL_ENT_CONTACT \
	"SELECT el.thread_id FROM links el JOIN contacts ec ON ec.id = el.contact_id" \
	" WHERE ec.address = :key"
#define SQL_ENT_DEAL \
	"SELECT el.thread_id FROM links el JOIN deals ek ON ek.id = el.deal_id WHERE ek.key = :key"
#define SQL_ENT_THREAD "SELECT et.id FROM threads et WHERE et.id = :tid"
#define SQL_ENT_MAILBOX \
	"SELECT em.thread_id FROM participants ep JOIN messages em ON em.id = ep.message_id" \
	" WHERE ep.address = :key AND em.thread_id IS NOT NULL"

/* sq - append formatted SQL to B */
static void sq(struct store_xsql *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sq(struct store_xsql *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->over)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, sizeof b->p - b->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof b->p - b->len)
		b->over = 1;
	else
		b->len += (size_t)n;
}

/* sq_reset - start a new query in q->b */
static struct store_xsql *sq_reset(struct store_xrun *q)
{
	q->b.len = 0;
	q->b.over = 0;
	q->b.p[0] = '\0';
	return &q->b;
}

/* c_thread - the condition on thread alias T of being exported */
static void c_thread(struct store_xrun *q, struct store_xsql *b, const char *t)
{
	sq(b, "%s.messages > 0", t);
	if (q->ent)
		sq(b, " AND %s.id IN (%s)", t, q->ent);
	if (q->dated)
		sq(b, " AND EXISTS (SELECT 1 FROM messages xm WHERE xm.thread_id = %s.id"
		   " AND xm.date >= :since AND xm.date < :until)", t);
}

/* c_xt - a SELECT of the exported thread ids */
static void c_xt(struct store_xrun *q, struct store_xsql *b)
{
	sq(b, "SELECT xt.id FROM threads xt WHERE ");
	c_thread(q, b, "xt");
}

/*
 * c_message - the condition on message alias M of being exported.  The
 * unary '+' keeps the planner off the thread and date indexes: rows then
 * come in id order from the table itself, with no sort of every row (and
 * its raw source) in a temporary b-tree first.
 */
static void c_message(struct store_xrun *q, struct store_xsql *b, const char *m)
{
	if (q->ent)
		sq(b, "+%s.thread_id IN (%s) AND ", m, q->ent);
	sq(b, "+%s.date >= :since AND +%s.date < :until", m, m);
}

/* c_link - the condition on link alias L: a link of an exported thread */
static void c_link(struct store_xrun *q, struct store_xsql *b, const char *l)
{
	if (!q->filtered) {
		sq(b, "1");
		return;
	}
	sq(b, "+%s.thread_id IN (", l);	/* '+': in id order, unsorted (c_message) */
	c_xt(q, b);
	sq(b, ")");
}

/* c_linked - ALIAS.id is the LCOL of a link of an exported thread (or no filter) */
static void c_linked(struct store_xrun *q, struct store_xsql *b, const char *alias,
		     const char *lcol)
{
	if (!q->filtered) {
		sq(b, "1");
		return;
	}
	sq(b, "%s.id IN (SELECT xl.%s FROM links xl WHERE xl.thread_id IN (", alias, lcol);
	c_xt(q, b);
	sq(b, "))");
}

/* c_account - the condition on account alias A: linked, or of an exported contact or deal */
static void c_account(struct store_xrun *q, struct store_xsql *b, const char *a)
{
	if (!q->filtered) {
		sq(b, "1");
		return;
	}
	sq(b, "(");
	c_linked(q, b, a, "account_id");
	sq(b, " OR %s.id IN (SELECT xc.account_id FROM contacts xc WHERE ", a);
	c_linked(q, b, "xc", "contact_id");
	sq(b, ") OR %s.id IN (SELECT xd.account_id FROM deals xd WHERE ", a);
	c_linked(q, b, "xd", "deal_id");
	sq(b, "))");
}

/* c_rule_ids - a compound SELECT of every rule id the exported records reference */
static void c_rule_ids(struct store_xrun *q, struct store_xsql *b)
{
	sq(b, "SELECT m.log_rule FROM messages m WHERE ");
	c_message(q, b, "m");
	sq(b, " UNION SELECT m.vis_rule FROM messages m WHERE ");
	c_message(q, b, "m");
	sq(b, " UNION SELECT t.vis_rule FROM threads t WHERE ");
	c_thread(q, b, "t");
	sq(b, " UNION SELECT l.rule_id FROM links l WHERE ");
	c_link(q, b, "l");
	sq(b, " UNION SELECT c.capture_rule FROM contacts c WHERE ");
	c_linked(q, b, "c", "contact_id");
	sq(b, " UNION SELECT a.rule_id FROM accounts a WHERE ");
	c_account(q, b, "a");
	sq(b, " UNION SELECT d.rule_id FROM deals d WHERE ");
	c_linked(q, b, "d", "deal_id");
}

/* bind_named - bind :key, :tid, :since and :until where S has them */
static void bind_named(struct store_xrun *q, sqlite3_stmt *s)
{
	int i;

	if ((i = sqlite3_bind_parameter_index(s, ":key")))
		sqlite3_bind_text(s, i, q->key ? q->key : "", -1, SQLITE_STATIC);
	if ((i = sqlite3_bind_parameter_index(s, ":tid")))
		sqlite3_bind_int64(s, i, q->f->thread);
	if ((i = sqlite3_bind_parameter_index(s, ":since")))
		sqlite3_bind_int64(s, i, q->f->has_since ? q->f->since : INT64_MIN);
	if ((i = sqlite3_bind_parameter_index(s, ":until")))
		sqlite3_bind_int64(s, i, q->f->has_until ? q->f->until : INT64_MAX);
}

/* xprep - prepare the built query and bind the filter; NULL with the error reported */
static sqlite3_stmt *xprep(struct store_xrun *q)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (q->b.over) {
		store_fail(q->st, STORE_EINVAL, "%s: export query too long", q->st->path);
		return NULL;
	}
	rc = sqlite3_prepare_v2(q->st->db, q->b.p, -1, &s, NULL);
	if (rc != SQLITE_OK) {
		store_sqlerr(q->st, rc, "preparing the export");
		sqlite3_finalize(s);
		return NULL;
	}
	bind_named(q, s);
	return s;
}

/* failed - the error class of the last failure on the connection (EINVAL when none) */
static int failed(struct store_xrun *q)
{
	int cls = store_class_of(sqlite3_errcode(q->st->db));

	return cls == STORE_OK ? STORE_EINVAL : cls;
}

/* xdone - STORE_OK when a step loop ended with SQLITE_DONE, else the error reported */
static int xdone(struct store_xrun *q, int rc)
{
	if (rc == SQLITE_DONE)
		return STORE_OK;
	return q->err_class = store_sqlerr(q->st, rc, "exporting");
}

/* ---- the sections ---- */

/*
 * section - run the built query and hand every row, made a record by ROW,
 * to FN.  Returns STORE_OK, an error class with err filled, or STORE_EIO
 * when FN asked to stop.
 */
static int section(struct store_xrun *q, const char *type, store_xrow_fn row,
		   store_export_fn fn, void *arg)
{
	sqlite3_stmt *s = xprep(q);
	json_t *r;
	int rc = STORE_OK, step;

	if (!s)
		return failed(q);
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		r = row(q, s);
		if (!r) {
			rc = q->err_class ? q->err_class : STORE_ECORRUPT;
			break;
		}
		if (fn(type, r, arg) != 0)
			rc = store_fail(q->st, STORE_EIO, "export stopped by its writer");
		json_decref(r);
		if (rc != STORE_OK)
			break;
	}
	if (rc == STORE_OK)
		rc = xdone(q, step);
	sqlite3_finalize(s);
	return rc;
}

/* ---- the run ---- */

/* filter_json - the filter as given, for the header */
static json_t *filter_json(const struct store_export_filter *f)
{
	json_t *o = json_object();
	time_t t;
	struct tm tm;
	char buf[48];

	store_xset(o, "account", f->account ? json_string(f->account) : NULL);
	store_xset(o, "contact", f->contact ? json_string(f->contact) : NULL);
	store_xset(o, "deal", f->deal ? json_string(f->deal) : NULL);
	store_xset(o, "thread", f->thread ? json_integer(f->thread) : NULL);
	store_xset(o, "mailbox", f->mailbox ? json_string(f->mailbox) : NULL);
	for (int i = 0; i < 2; i++) {
		int has = i ? f->has_until : f->has_since;

		t = (time_t)(i ? f->until : f->since);
		if (has && gmtime_r(&t, &tm) &&
		    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm) > 0)
			store_xset(o, i ? "until" : "since", json_string(buf));
		else
			store_xset(o, i ? "until" : "since", has ? json_integer(i ? f->until : f->since) : NULL);
	}
	return o;
}

/* counts - {"rules", "accounts", "contacts", "deals", "threads", "messages",
 * "skipped", "links"} of what the run exports; NULL on error */
static json_t *counts(struct store_xrun *q)
{
	static const char *const keys[] = {
		"rules", "accounts", "contacts", "deals", "threads", "messages", "skipped", "links",
	};
	struct store_xsql *b = sq_reset(q);
	sqlite3_stmt *s;
	json_t *o = NULL;
	int rc;

	sq(b, "SELECT (SELECT count(*) FROM rules r WHERE r.id IN (");
	c_rule_ids(q, b);
	sq(b, ")), (SELECT count(*) FROM accounts a WHERE ");
	c_account(q, b, "a");
	sq(b, "), (SELECT count(*) FROM contacts c WHERE ");
	c_linked(q, b, "c", "contact_id");
	sq(b, "), (SELECT count(*) FROM deals d WHERE ");
	c_linked(q, b, "d", "deal_id");
	sq(b, "), (SELECT count(*) FROM threads t WHERE ");
	c_thread(q, b, "t");
	sq(b, "), (SELECT count(*) FROM messages m WHERE ");
	c_message(q, b, "m");
	sq(b, "), (SELECT count(*) FROM messages m WHERE m.thread_id IS NULL AND ");
	c_message(q, b, "m");
	sq(b, "), (SELECT count(*) FROM links l WHERE ");
	c_link(q, b, "l");
	sq(b, ")");
	if (!(s = xprep(q)))
		return NULL;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		o = json_object();
		for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
			store_xset(o, keys[i], store_json_id(s, (int)i));
	} else {
		xdone(q, rc == SQLITE_DONE ? SQLITE_ERROR : rc);
	}
	sqlite3_finalize(s);
	return o;
}

/* header - hand {"type": "export", "format", "version", "schema_version",
 * "filter", "counts"} to FN; STORE_OK or an error class */
static int header(struct store_xrun *q, store_export_fn fn, void *arg)
{
	json_t *o, *c = counts(q);
	int rc = STORE_OK;

	if (!c)
		return failed(q);
	o = store_xrecord("export");
	store_xset(o, "format", json_string(EXPORT_FORMAT));
	store_xset(o, "version", json_integer(EXPORT_VERSION));
	store_xset(o, "schema_version", json_integer(store_schema_version(q->st)));
	store_xset(o, "filter", filter_json(q->f));
	store_xset(o, "counts", c);
	if (fn("export", o, arg) != 0)
		rc = store_fail(q->st, STORE_EIO, "export stopped by its writer");
	json_decref(o);
	return rc;
}

/*
 * begin - check the filter, start the read transaction with a small cache
 * and prepare the per-row statements.  Returns STORE_OK or an error class.
 */
static int begin(struct store_xrun *q, struct store *st, const struct store_export_filter *f,
		 char *err, size_t errlen)
{
	const struct { const char *key; const char *sql; } ents[] = {
		{ f->account, SQL_ENT_ACCOUNT }, { f->contact, SQL_ENT_CONTACT },
		{ f->deal, SQL_ENT_DEAL }, { f->mailbox, SQL_ENT_MAILBOX },
		{ f->thread ? "" : NULL, SQL_ENT_THREAD },
	};
	int n = 0, rc;

	memset(q, 0, sizeof *q);
	q->st = st;
	q->f = f;
	q->heap_limit = -1;
	st->err = err;
	st->errlen = errlen;
	if (err && errlen)
		err[0] = '\0';
	for (size_t i = 0; i < sizeof ents / sizeof ents[0]; i++) {
		if (!ents[i].key)
			continue;
		n++;
		q->ent = ents[i].sql;
		q->key = ents[i].key;
	}
	if (n > 1)
		return store_fail(st, STORE_EINVAL, "export: at most one of account, contact, deal,"
				  " thread and mailbox");
	q->dated = f->has_since || f->has_until;
	q->filtered = q->ent || q->dated;
	rc = store_exec(st, EXPORT_CACHE_PRAGMA);
	if (rc == STORE_OK) {
		q->heap_limit = sqlite3_soft_heap_limit64(EXPORT_HEAP_LIMIT);
		rc = store_exec(st, "BEGIN");
	}
	if (rc == STORE_OK)
		rc = store_xrows_prepare(q);
	return rc;
}

/* end - finish the statements and the read transaction; returns RC */
static int end(struct store_xrun *q, int rc)
{
	store_xrows_finish(q);
	if (!sqlite3_get_autocommit(q->st->db))
		sqlite3_exec(q->st->db, "COMMIT", NULL, NULL, NULL);
	sqlite3_exec(q->st->db, STORE_CACHE_PRAGMA, NULL, NULL, NULL);
	if (q->heap_limit >= 0)
		sqlite3_soft_heap_limit64(q->heap_limit);
	q->st->err = NULL;
	q->st->errlen = 0;
	return rc;
}

/* store_export - every selected record, streamed to FN; see store.h */
int store_export(struct store *st, const struct store_export_filter *f, store_export_fn fn,
		 void *arg, char *err, size_t errlen)
{
	struct store_xrun *q = calloc(1, sizeof *q);
	struct store_xsql *b;
	int rc;

	if (!q) {
		if (err && errlen)
			snprintf(err, errlen, "%s: out of memory", st->path);
		return STORE_EINVAL;
	}
	rc = begin(q, st, f, err, errlen);
	if (rc == STORE_OK)
		rc = header(q, fn, arg);
	if (rc == STORE_OK) {
		b = sq_reset(q);
		sq(b, "SELECT r.id, r.file, r.line, r.text, r.hash FROM rules r WHERE r.id IN (");
		c_rule_ids(q, b);
		sq(b, ") ORDER BY r.id");
		rc = section(q, "rule", store_xrow_rule, fn, arg);
	}
	if (rc == STORE_OK) {
		b = sq_reset(q);
		sq(b, "SELECT a.id, a.domain, a.name, a.rule_id FROM accounts a WHERE ");
		c_account(q, b, "a");
		sq(b, " ORDER BY a.id");
		rc = section(q, "account", store_xrow_account, fn, arg);
	}
	if (rc == STORE_OK) {
		b = sq_reset(q);
		sq(b, "SELECT c.id, c.address, c.name, a.domain, c.first_seen, c.last_seen, c.sent,"
		   " c.received, c.capture_rule FROM contacts c LEFT JOIN accounts a"
		   " ON a.id = c.account_id WHERE ");
		c_linked(q, b, "c", "contact_id");
		sq(b, " ORDER BY c.id");
		rc = section(q, "contact", store_xrow_contact, fn, arg);
	}
	if (rc == STORE_OK) {
		b = sq_reset(q);
		sq(b, "SELECT d.id, d.key, d.name, a.domain, d.status, d.rule_id FROM deals d"
		   " LEFT JOIN accounts a ON a.id = d.account_id WHERE ");
		c_linked(q, b, "d", "deal_id");
		sq(b, " ORDER BY d.id");
		rc = section(q, "deal", store_xrow_deal, fn, arg);
	}
	if (rc == STORE_OK) {
		b = sq_reset(q);
		sq(b, "SELECT t.id, t.subject, t.first_date, t.last_date, t.messages, t.visibility,"
		   " t.outside, t.vis_reason, t.vis_rule, t.unassigned FROM threads t WHERE ");
		c_thread(q, b, "t");
		sq(b, " ORDER BY t.id");
		rc = section(q, "thread", store_xrow_thread, fn, arg);
	}
	if (rc == STORE_OK) {
		b = sq_reset(q);
		sq(b, "SELECT " SQL_MESSAGE_COLUMNS " FROM messages m"
		   " LEFT JOIN message_ids c ON c.msgid = m.msgid"
		   " LEFT JOIN raw r ON r.message_id = m.id WHERE ");
		c_message(q, b, "m");
		sq(b, " ORDER BY m.id");
		rc = section(q, "message", store_xrow_message, fn, arg);
	}
	if (rc == STORE_OK) {
		b = sq_reset(q);
		sq(b, "SELECT l.id, l.thread_id, CASE WHEN l.account_id IS NOT NULL THEN 'account'"
		   " WHEN l.contact_id IS NOT NULL THEN 'contact' ELSE 'deal' END,"
		   " coalesce(a.domain, c.address, d.key), l.rule_id FROM links l"
		   " LEFT JOIN accounts a ON a.id = l.account_id"
		   " LEFT JOIN contacts c ON c.id = l.contact_id"
		   " LEFT JOIN deals d ON d.id = l.deal_id WHERE ");
		c_link(q, b, "l");
		sq(b, " ORDER BY l.id");
		rc = section(q, "link", store_xrow_link, fn, arg);
	}
	rc = end(q, rc);
	free(q);
	return rc;
}

/* ---- raw sources, for mbox ---- */

/* the envelope sender: the MTA's, else Return-Path, else the first From, else "" */
#define SQL_MAIL_FROM \
	"coalesce((SELECT s.mail_from FROM message_sources s WHERE s.message_id = m.id" \
	" AND s.mail_from IS NOT NULL ORDER BY s.source, s.origin LIMIT 1)," \
	" CASE WHEN json_valid(m.headers) THEN json_extract(m.headers, '$.return_path') END," \
	" (SELECT p.address FROM participants p WHERE p.message_id = m.id AND p.role = 'from'" \
	" ORDER BY p.pos LIMIT 1), '')"

/* raw_rows - hand every selected logged message's raw source to FN */
static int raw_rows(struct store_xrun *q, store_export_raw_fn fn, void *arg)
{
	struct store_xsql *b = sq_reset(q);
	struct store_export_raw m;
	sqlite3_stmt *s;
	char *data;
	int rc = STORE_OK, step;

	sq(b, "SELECT m.id, m.msgid, m.date, " SQL_MAIL_FROM ", coalesce(r.mode, 'none'),"
	   " coalesce(r.size, m.size), r.kept, r.data, r.dict_id FROM messages m"
	   " LEFT JOIN raw r ON r.message_id = m.id WHERE m.thread_id IS NOT NULL AND ");
	c_message(q, b, "m");
	sq(b, " ORDER BY m.id");
	if (!(s = xprep(q)))
		return failed(q);
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&m, 0, sizeof m);
		m.id = sqlite3_column_int64(s, 0);
		m.message_id = (const char *)sqlite3_column_text(s, 1);
		m.date = sqlite3_column_int64(s, 2);
		m.mail_from = (const char *)sqlite3_column_text(s, 3);
		m.mode = (const char *)sqlite3_column_text(s, 4);
		m.size = (uint64_t)sqlite3_column_int64(s, 5);
		m.len = (size_t)sqlite3_column_int64(s, 6);
		data = NULL;
		if (sqlite3_column_type(s, 7) != SQLITE_NULL && m.len > 0) {
			data = store_zdecompress(q->st, sqlite3_column_blob(s, 7),
						 (size_t)sqlite3_column_bytes(s, 7), m.len,
						 sqlite3_column_int64(s, 8));
			if (!data) {
				rc = store_fail(q->st, STORE_ECORRUPT, "%s: message %lld: raw source"
						" cannot be read", q->st->path, (long long)m.id);
				break;
			}
		}
		m.data = data;
		if (!data)
			m.len = 0;
		if (fn(&m, arg) != 0)
			rc = store_fail(q->st, STORE_EIO, "export stopped by its writer");
		free(data);
		if (rc != STORE_OK)
			break;
	}
	if (rc == STORE_OK)
		rc = xdone(q, step);
	sqlite3_finalize(s);
	return rc;
}

/* store_export_raw - the header, then the raw source of every selected message; see store.h */
int store_export_raw(struct store *st, const struct store_export_filter *f, store_export_fn head,
		     store_export_raw_fn fn, void *arg, char *err, size_t errlen)
{
	struct store_xrun *q = calloc(1, sizeof *q);
	int rc;

	if (!q) {
		if (err && errlen)
			snprintf(err, errlen, "%s: out of memory", st->path);
		return STORE_EINVAL;
	}
	rc = begin(q, st, f, err, errlen);
	if (rc == STORE_OK)
		rc = header(q, head, arg);
	if (rc == STORE_OK)
		rc = raw_rows(q, fn, arg);
	rc = end(q, rc);
	free(q);
	return rc;
}
