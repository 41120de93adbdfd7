/*
 * view.c - the viewer's reads: records tables, one record with its
 * timeline, one thread, unassigned threads, each filtered by what the
 * user asking may see
 *
 * Public: store_view_records, store_view_record, store_view_thread,
 * store_view_unassigned (store.h, "viewer reads").  Search is in
 * view_search.c, users and mailboxes in view_user.c; the helpers they share
 * are declared in view_int.h.
 *
 * Visibility is decided in SQL (view_int.h): VIEW_LEVEL(t) for a thread
 * and VIEW_MSG_LEVEL(t, m) for each of its messages, 0 hidden, 1 metadata,
 * 2 subject, 3 everything.  What is hidden is filtered out in the WHERE
 * clause of every query, so it is in no list, count, date or page; a
 * thread the user sees only in part is summarised from the messages he
 * may see.  Below "everything" the columns that would show more (subject,
 * snippet, body, attachment names, Bcc) are never read.  Every call runs
 * in one read transaction and works on a store opened read-only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "view_int.h"

#define VIEW_PEOPLE      8        /* participants in a thread summary */
#define VIEW_PEOPLE_SCAN 50       /* ...taken from the thread's first messages */
#define VIEW_DIRECTIONS  20       /* direction words in a thread summary */
#define VIEW_MAX_BODIES  (8u * 1024 * 1024) /* body bytes on one thread page */

/* ---- thread summaries ---- */

/*
 * the messages of thread :id with the user's level of each (lv), for a
 * thread he sees only in part: its summary is made of those with lv > 0.
 * (Named, not ?1: a named parameter before ?1 in the text would take
 * index 1 and be the same parameter.)
 */
#define SQL_SEEN \
	"(SELECT m.id, m.date, m.subject, m.direction, " VIEW_MSG_LEVEL("t", "m") " AS lv" \
	" FROM threads t JOIN messages m ON m.thread_id = t.id WHERE t.id = :id)"

/* the summary's direction words, people and last message, from the messages of M */
#define SQL_DIRS(m) \
	"SELECT direction FROM " m " ORDER BY date, id LIMIT " VIEW_STR(VIEW_DIRECTIONS)
#define SQL_PEOPLE(m) \
	"SELECT p.address, max(coalesce(p.name, '')), min(m.date) AS first, count(*) OVER ()" \
	" FROM (SELECT id, date FROM " m " ORDER BY date, id LIMIT " VIEW_STR(VIEW_PEOPLE_SCAN) \
	") m JOIN participants p ON p.message_id = m.id WHERE p.role IN ('from', 'to', 'cc')" \
	" GROUP BY p.address ORDER BY first, p.address LIMIT " VIEW_STR(VIEW_PEOPLE)
#define SQL_LAST(m) \
	"SELECT id, snippet, body, body_len, body_offset, quotes, dict_id FROM messages" \
	" WHERE id = (SELECT id FROM " m " ORDER BY date DESC, id DESC LIMIT 1)"

/* a whole thread's messages, and the messages of a thread seen in part */
#define SQL_ALL "(SELECT id, date, direction FROM messages WHERE thread_id = :id)"
#define SQL_SEEN_ANY "(SELECT * FROM " SQL_SEEN " WHERE lv > 0)"
#define SQL_SEEN_ALL "(SELECT * FROM " SQL_SEEN " WHERE lv = 3)"

/*
 * what a user who sees thread :id in part sees of it: (messages, first
 * date, last date, attachments, subject of the first message whose subject
 * he may see)
 */
#define SQL_SEEN_HEAD \
	"SELECT count(*), min(date), max(date), (SELECT count(*) FROM attachments a" \
	" WHERE a.message_id IN (SELECT id FROM " SQL_SEEN_ANY ")), (SELECT subject FROM " SQL_SEEN \
	" WHERE lv >= 2 ORDER BY date, id LIMIT 1) FROM " SQL_SEEN_ANY

/*
 * since when thread :id waits for us and for them, as the user sees it:
 * the thread's own figures unless he sees it only from the messages he
 * sent or received (not inside a thread that shows others nothing:
 * thread_people, schema.c)
 */
#define SQL_WAITS \
	"SELECT iif(p.thread_id IS NULL OR " VIEW_OPEN("t") ", t.wait_us, p.wait_us)," \
	" iif(p.thread_id IS NULL OR " VIEW_OPEN("t") ", t.wait_them, p.wait_them) FROM threads t" \
	" LEFT JOIN thread_people p ON p.address = :who AND p.thread_id = t.id WHERE t.id = :id"

/* statements reused for every summary of one call: whole threads, threads seen in part */
struct summ {
	sqlite3_stmt *waits;
	sqlite3_stmt *dirs, *people, *last;
	sqlite3_stmt *part_head, *part_dirs, *part_people, *part_last;
};

/* summ_open - prepare the summary statements for WHO; 0 or -1 (error reported) */
static int summ_open(struct store *st, struct summ *c, const struct store_viewer *who)
{
	memset(c, 0, sizeof *c);
	c->waits = view_prep(st, SQL_WAITS, who);
	c->dirs = view_prep(st, SQL_DIRS(SQL_ALL), NULL);
	c->people = view_prep(st, SQL_PEOPLE(SQL_ALL), NULL);
	c->last = view_prep(st, SQL_LAST(SQL_ALL), NULL);
	c->part_head = view_prep(st, SQL_SEEN_HEAD, who);
	c->part_dirs = view_prep(st, SQL_DIRS(SQL_SEEN_ANY), who);
	c->part_people = view_prep(st, SQL_PEOPLE(SQL_SEEN_ANY), who);
	c->part_last = view_prep(st, SQL_LAST(SQL_SEEN_ALL), who);
	return c->waits && c->dirs && c->people && c->last && c->part_head && c->part_dirs &&
	       c->part_people && c->part_last ? 0 : -1;
}

/* summ_close - finalize the summary statements */
static void summ_close(struct summ *c)
{
	sqlite3_finalize(c->waits);
	sqlite3_finalize(c->dirs);
	sqlite3_finalize(c->people);
	sqlite3_finalize(c->last);
	sqlite3_finalize(c->part_head);
	sqlite3_finalize(c->part_dirs);
	sqlite3_finalize(c->part_people);
	sqlite3_finalize(c->part_last);
}

/* summ_bind - reset S and bind thread TID as :id */
static sqlite3_stmt *summ_bind(sqlite3_stmt *s, int64_t tid)
{
	sqlite3_reset(s);
	view_bind_id(s, tid);
	return s;
}

/* summ_directions - "directions" of thread TID from statement S; 0 or -1 */
static int summ_directions(struct store *st, sqlite3_stmt *s, json_t *o, int64_t tid)
{
	json_t *a = json_array();
	int rc;

	summ_bind(s, tid);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		json_array_append_new(a, view_col_text(s, 0));
	json_object_set_new(o, "directions", a);
	return view_done(st, rc);
}

/* summ_people - "participants" and "participants_total" of thread TID from S; 0 or -1 */
static int summ_people(struct store *st, sqlite3_stmt *s, json_t *o, int64_t tid)
{
	json_t *a = json_array(), *p;
	int64_t total = 0;
	int rc;

	summ_bind(s, tid);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		p = json_object();
		json_object_set_new(p, "name", view_col_text(s, 1));
		json_object_set_new(p, "address", view_col_text(s, 0));
		json_array_append_new(a, p);
		total = sqlite3_column_int64(s, 3);
	}
	json_object_set_new(o, "participants", a);
	json_object_set_new(o, "participants_total", json_integer(total));
	return view_done(st, rc);
}

/* summ_waits - "waiting_for_us_since" and "waiting_for_them_since" of thread TID
 * (dates or null) from statement S; 0 or -1 */
static int summ_waits(struct store *st, sqlite3_stmt *s, json_t *o, int64_t tid)
{
	int rc = sqlite3_step(summ_bind(s, tid));

	json_object_set_new(o, "waiting_for_us_since",
			    rc == SQLITE_ROW ? store_json_date(s, 0) : json_null());
	json_object_set_new(o, "waiting_for_them_since",
			    rc == SQLITE_ROW ? store_json_date(s, 1) : json_null());
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 0 : view_done(st, rc);
}

/* summ_snippet - "snippet" of the last message of thread TID from S; 0 or -1 */
static int summ_snippet(struct store *st, sqlite3_stmt *s, json_t *o, int64_t tid)
{
	char *text;
	int rc;

	rc = sqlite3_step(summ_bind(s, tid));
	if (rc != SQLITE_ROW) {
		json_object_set_new(o, "snippet", json_null());
		return view_done(st, rc);
	}
	text = view_snippet_of(st, s);
	json_object_set_new(o, "snippet", text ? json_string(text) : json_null());
	free(text);
	sqlite3_reset(s);
	return 0;
}

/*
 * part_head - what the user sees of thread TID, seen in part (SQL_SEEN_HEAD
 * at S): "subject", "first_date", "last_date", "messages" and, when ATTS,
 * "attachments" into O; 0 or -1
 */
static int part_head(struct store *st, sqlite3_stmt *s, json_t *o, int64_t tid, int atts)
{
	int rc = sqlite3_step(summ_bind(s, tid));

	if (rc != SQLITE_ROW)
		return view_done(st, rc == SQLITE_DONE ? SQLITE_ERROR : rc);
	json_object_set_new(o, "subject", view_col_text(s, 4));
	json_object_set_new(o, "first_date", store_json_date(s, 1));
	json_object_set_new(o, "last_date", store_json_date(s, 2));
	json_object_set_new(o, "messages", store_json_int(s, 0));
	if (atts)
		json_object_set_new(o, "attachments", store_json_int(s, 3));
	sqlite3_reset(s);
	return 0;
}

/* summary_part - the summary of thread TID seen in part into O; 0 or -1 */
static int summary_part(struct store *st, struct summ *c, json_t *o, int64_t tid)
{
	return part_head(st, c->part_head, o, tid, 1) < 0 ||
	       summ_directions(st, c->part_dirs, o, tid) < 0 ||
	       summ_people(st, c->part_people, o, tid) < 0 ||
	       summ_snippet(st, c->part_last, o, tid) < 0 ? -1 : 0;
}

/* summary_whole - the summary of thread TID at one LEVEL from the row at S into O; 0 or -1 */
static int summary_whole(struct store *st, struct summ *c, sqlite3_stmt *s, json_t *o,
			 int64_t tid, int level)
{
	json_object_set_new(o, "subject", level >= VIEW_SUBJECT ? view_col_text(s, 1) : json_null());
	json_object_set_new(o, "first_date", store_json_date(s, 2));
	json_object_set_new(o, "last_date", store_json_date(s, 3));
	json_object_set_new(o, "messages", store_json_int(s, 4));
	json_object_set_new(o, "attachments", store_json_int(s, 9));
	if (summ_directions(st, c->dirs, o, tid) < 0 || summ_people(st, c->people, o, tid) < 0)
		return -1;
	if (level < VIEW_EVERYTHING) {
		json_object_set_new(o, "snippet", json_null());
		return 0;
	}
	return summ_snippet(st, c->last, o, tid);
}

/*
 * summary - the summary of the thread row at S (columns: id, subject,
 * first_date, last_date, messages, unassigned, level, -, -, attachments,
 * open); NULL on error
 */
static json_t *summary(struct store *st, struct summ *c, sqlite3_stmt *s)
{
	int64_t tid = sqlite3_column_int64(s, 0);
	int level = sqlite3_column_int(s, 6), open = sqlite3_column_int(s, 10);
	json_t *o = json_object();
	int rc;

	json_object_set_new(o, "id", json_integer(tid));
	json_object_set_new(o, "access", json_string(view_level_name(level)));
	json_object_set_new(o, "unassigned", view_col_text(s, 5));
	rc = level >= VIEW_EVERYTHING && !open ? summary_part(st, c, o, tid)
					       : summary_whole(st, c, s, o, tid, level);
	if (rc == 0)
		rc = summ_waits(st, c->waits, o, tid);
	if (rc < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/*
 * page_of - {"total", "offset", "limit", "items"} of thread summaries for
 * WHO from S, whose rows are (id, subject, first, last, messages,
 * unassigned, level, total, latest last date, attachments, open); *last
 * gets that latest date (0: no row); NULL on error
 */
static json_t *page_of(struct store *st, const struct store_viewer *who, sqlite3_stmt *s,
		       int limit, int offset, int64_t *last)
{
	struct summ c;
	json_t *o = NULL, *items = json_array(), *t;
	int64_t total = 0;
	int rc = SQLITE_DONE;

	*last = 0;
	if (summ_open(st, &c, who) < 0)
		goto out;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		total = sqlite3_column_int64(s, 7);
		*last = sqlite3_column_int64(s, 8);
		t = summary(st, &c, s);
		if (!t)
			break;
		json_array_append_new(items, t);
	}
	if (rc != SQLITE_ROW && view_done(st, rc) == 0) {
		o = json_object();
		json_object_set_new(o, "total", json_integer(total));
		json_object_set_new(o, "offset", json_integer(offset));
		json_object_set_new(o, "limit", json_integer(limit));
		json_object_set_new(o, "items", items);
		items = NULL;
	}
out:
	summ_close(&c);
	json_decref(items);
	return o;
}

/* ---- records tables ---- */

/* the aggregate status figures, after N, of rows (d, li, lo, wu, wt) of SQL_UNSHOWN_FIGURES */
#define SQL_FIGURES_OF(n) \
	n ", max(d) AS last, max(li) AS li, max(lo) AS lo, min(wu) AS wu, min(wt) AS wt"

/* the larger of two values, either NULL, and the smaller */
#define SQL_MAXN(a, b) "coalesce(max(" a ", " b "), " a ", " b ")"
#define SQL_MINN(a, b) "coalesce(min(" a ", " b "), " a ", " b ")"

/*
 * what the user sees of the threads not shown to everyone that he may see
 * something of, as rows (tid, d: the last date, li, lo: the last inbound
 * and outbound, wu, wt: waiting for us, for them since).  Of those he is
 * inside (VIEW_OPEN of such a thread: :all or its team; threads_hidden)
 * the thread's own figures; of the others, those of the messages he sent
 * or received (thread_people, schema.c: his rows together, without a look
 * at the threads).
 */
#define SQL_USER_HIDDEN \
	"(SELECT thread_id AS tid, last AS d, last_in AS li, last_out AS lo, wait_us AS wu," \
	"  wait_them AS wt FROM thread_people WHERE address = :who AND NOT :all" \
	"  AND visibility IS NOT :team" \
	" UNION ALL SELECT id, last_date, last_in, last_out, wait_us, wait_them FROM threads" \
	"  INDEXED BY threads_hidden WHERE visibility = :team AND NOT :all" \
	"  AND outside = 'nothing' AND visibility <> 'workspace' AND messages > 0" \
	" UNION ALL SELECT id, last_date, last_in, last_out, wait_us, wait_them FROM threads" \
	"  INDEXED BY threads_hidden WHERE :all AND outside = 'nothing'" \
	"  AND visibility <> 'workspace' AND messages > 0)"

/*
 * SQL_UNSHOWN_FIGURES(col, cond): the rows of SQL_USER_HIDDEN for each link
 * row l that COND keeps and that is not shown to everyone, with id: the
 * record (link column COL).  Led by the user's threads, not the record's:
 * a busy account has tens of thousands of links.
 */
#define SQL_UNSHOWN_FIGURES(col, cond) \
	"SELECT h.tid, l." col " AS id, h.d, h.li, h.lo, h.wu, h.wt FROM " SQL_USER_HIDDEN " h" \
	" CROSS JOIN links l ON l.thread_id = h.tid AND " cond " AND NOT l.shown"

/*
 * the visible threads of each record of table T (link column COL): (id,
 * n: count, last: the last date the user may see, li, lo, wu, wt: the
 * status figures of SQL_UNSHOWN_FIGURES over them).  The record's own row
 * carries them for its links shown to everyone (shown_*, schema.c); the
 * others are read once each (materialized).
 */
#define SQL_VISIBLE_PER(T, col) \
	"(WITH nd AS MATERIALIZED (" SQL_UNSHOWN_FIGURES(col, "l." col " IS NOT NULL") ")," \
	" u AS (SELECT id, " SQL_FIGURES_OF("count(d) AS n") " FROM nd WHERE d IS NOT NULL" \
	" GROUP BY id)" \
	" SELECT r.id, r.shown_n + coalesce(u.n, 0) AS n, " SQL_MAXN("r.shown_last", "u.last") \
	" AS last, " SQL_MAXN("r.shown_li", "u.li") " AS li, " SQL_MAXN("r.shown_lo", "u.lo") \
	" AS lo, " SQL_MINN("r.shown_wu", "u.wu") " AS wu, " SQL_MINN("r.shown_wt", "u.wt") \
	" AS wt FROM " T " r LEFT JOIN u ON u.id = r.id)"

/* a per-column filter: the lower-cased substring PARAM (NULL: all) is in TEXT, any case */
#define SQL_MATCH(param, text) \
	" AND (" param " IS NULL OR instr(lower(coalesce(" text ", '')), " param ") > 0)"
/* the account column's filter: its name or its domain */
#define SQL_MATCH_ACCOUNT \
	" AND (:fa IS NULL OR instr(lower(coalesce(a.name, '')), :fa) > 0" \
	"  OR instr(coalesce(a.domain, ''), :fa) > 0)"

/* a deal d is visible: one of its threads is, or it has none */
#define SQL_DEAL_VISIBLE VIEW_RECORD_VISIBLE("deal_id", "d.id")

/* the status columns of a records row, after its total */
#define SQL_STATUS_COLS "x.li, x.lo, x.wu, x.wt"

#define SQL_ACCOUNTS \
	"SELECT a.id, a.name, a.domain, x.n, x.last, (SELECT count(*) FROM deals d" \
	"  WHERE d.account_id = a.id AND d.status = 'open' AND " SQL_DEAL_VISIBLE ")," \
	" count(*) OVER (), " SQL_STATUS_COLS " FROM accounts a" \
	" LEFT JOIN " SQL_VISIBLE_PER("accounts", "account_id") " x" \
	" ON x.id = a.id WHERE (x.n > 0 OR NOT EXISTS (SELECT 1 FROM links l" \
	"  WHERE l.account_id = a.id)) AND (:f IS NULL OR instr(lower(coalesce(a.name, '')), :f) > 0" \
	"  OR instr(a.domain, :f) > 0)" \
	SQL_MATCH(":fn", "coalesce(nullif(a.name, ''), a.domain)") SQL_MATCH(":fk", "a.domain")

#define SQL_CONTACTS \
	"SELECT c.id, c.name, c.address, a.domain, c.account_id, x.n, x.last," \
	" (SELECT count(*) FROM deal_contacts dc JOIN deals d ON d.id = dc.deal_id" \
	"  WHERE dc.address = c.address AND d.status = 'open' AND " SQL_DEAL_VISIBLE ")," \
	" count(*) OVER (), " SQL_STATUS_COLS " FROM contacts c" \
	" LEFT JOIN accounts a ON a.id = c.account_id" \
	" LEFT JOIN " SQL_VISIBLE_PER("contacts", "contact_id") " x ON x.id = c.id" \
	" WHERE (x.n > 0 OR NOT EXISTS (SELECT 1 FROM links l WHERE l.contact_id = c.id))" \
	" AND (:f IS NULL OR instr(lower(coalesce(c.name, '')), :f) > 0 OR instr(c.address, :f) > 0)" \
	SQL_MATCH(":fn", "coalesce(nullif(c.name, ''), c.address)") SQL_MATCH(":fk", "c.address") \
	SQL_MATCH_ACCOUNT

#define SQL_DEALS \
	"SELECT d.id, d.key, d.name, d.status, a.domain, d.account_id, x.n, x.last," \
	" count(*) OVER (), " SQL_STATUS_COLS " FROM deals d" \
	" LEFT JOIN accounts a ON a.id = d.account_id" \
	" LEFT JOIN " SQL_VISIBLE_PER("deals", "deal_id") " x ON x.id = d.id" \
	" WHERE (x.n > 0 OR NOT EXISTS (SELECT 1 FROM links l WHERE l.deal_id = d.id))" \
	" AND (:f IS NULL OR instr(lower(coalesce(d.name, '')), :f) > 0 OR instr(lower(d.key), :f) > 0" \
	"  OR instr(coalesce(a.domain, ''), :f) > 0)" \
	SQL_MATCH(":fn", "coalesce(nullif(d.name, ''), d.key)") SQL_MATCH(":fk", "d.key") \
	SQL_MATCH_ACCOUNT SQL_MATCH(":fs", "d.status")

/* the ORDER BY term of each sort, per kind (a whitelist: never user text) */
static const char *const sort_sql[3][STORE_SORT_N] = {
	{ "lower(coalesce(a.name, a.domain))", "a.domain", "x.last", "coalesce(x.n, 0)", "6",
	  "a.domain", "x.li", "x.lo", "x.wu", "x.wt" },
	{ "lower(coalesce(nullif(c.name, ''), c.address))", "a.domain", "x.last", "coalesce(x.n, 0)",
	  "8", "c.address", "x.li", "x.lo", "x.wu", "x.wt" },
	{ "lower(coalesce(d.name, d.key))", "a.domain", "x.last", "coalesce(x.n, 0)", "d.status",
	  "lower(d.key)", "x.li", "x.lo", "x.wu", "x.wt" },
};
static const char *const id_sql[3] = { "a.id", "c.id", "d.id" };

/* status_set - the status figures of a row from column C on into O (see store.h) */
static void status_set(json_t *o, sqlite3_stmt *s, int c)
{
	json_object_set_new(o, "last_inbound", store_json_date(s, c));
	json_object_set_new(o, "last_outbound", store_json_date(s, c + 1));
	json_object_set_new(o, "waiting_for_us_since", store_json_date(s, c + 2));
	json_object_set_new(o, "waiting_for_them_since", store_json_date(s, c + 3));
}

/* record_row - one item of a records table from the row at S */
static json_t *record_row(enum store_view_kind kind, sqlite3_stmt *s)
{
	static const int status_col[3] = { 7, 9, 9 };
	json_t *o = json_object();

	status_set(o, s, status_col[kind]);
	json_object_set_new(o, "id", store_json_int(s, 0));
	if (kind == STORE_VIEW_ACCOUNTS) {
		json_object_set_new(o, "name", view_col_text(s, 1));
		json_object_set_new(o, "domain", view_col_text(s, 2));
		json_object_set_new(o, "threads", store_json_int(s, 3));
		json_object_set_new(o, "last_activity", store_json_date(s, 4));
		json_object_set_new(o, "open_deals", store_json_int(s, 5));
	} else if (kind == STORE_VIEW_CONTACTS) {
		json_object_set_new(o, "name", view_col_text(s, 1));
		json_object_set_new(o, "address", view_col_text(s, 2));
		json_object_set_new(o, "account", view_col_text(s, 3));
		json_object_set_new(o, "account_id", store_json_id(s, 4));
		json_object_set_new(o, "threads", store_json_int(s, 5));
		json_object_set_new(o, "last_activity", store_json_date(s, 6));
		json_object_set_new(o, "open_deals", store_json_int(s, 7));
	} else {
		json_object_set_new(o, "key", view_col_text(s, 1));
		json_object_set_new(o, "name", view_col_text(s, 2));
		json_object_set_new(o, "status", view_col_text(s, 3));
		json_object_set_new(o, "account", view_col_text(s, 4));
		json_object_set_new(o, "account_id", store_json_id(s, 5));
		json_object_set_new(o, "threads", store_json_int(s, 6));
		json_object_set_new(o, "last_activity", store_json_date(s, 7));
	}
	return o;
}

/* records_sql - the query of Q: its kind's base, the sort keys, the page; NULL when bad */
static char *records_sql(const struct store_view_query *q)
{
	static const char *const base[3] = { SQL_ACCOUNTS, SQL_CONTACTS, SQL_DEALS };
	unsigned k = (unsigned)q->kind, si;
	char *order, *sql;
	int i, n = q->nsort ? q->nsort : 1;

	if (k > STORE_VIEW_DEALS || q->nsort < 0 || q->nsort > STORE_VIEW_MAX_SORT)
		return NULL;
	order = sqlite3_mprintf("%s", "");
	for (i = 0; order && i < n; i++) {
		si = q->nsort ? (unsigned)q->sort[i].key : STORE_SORT_LAST;
		sql = si >= STORE_SORT_N ? NULL :
		      sqlite3_mprintf("%s%s %s NULLS LAST, ", order, sort_sql[k][si],
				      !q->nsort || q->sort[i].desc ? "DESC" : "ASC");
		sqlite3_free(order);
		order = sql;
	}
	sql = order ? sqlite3_mprintf("%s ORDER BY %s%s LIMIT :limit OFFSET :offset", base[k],
				      order, id_sql[k]) : NULL;
	sqlite3_free(order);
	return sql;
}

/* records_walk - run Q's rows through FN (see store_view_records_each); inside view_begin */
static int records_walk(struct store *st, const struct store_viewer *who,
			const struct store_view_query *q, int max_limit, store_view_row_fn fn,
			void *arg)
{
	static const int total_col[3] = { 6, 8, 8 };
	static const char *const col_param[STORE_COL_N] = { ":fn", ":fk", ":fa", ":fs" };
	char *sql = records_sql(q);
	sqlite3_stmt *s;
	json_t *row;
	int rc = SQLITE_DONE, i, stop = 0;

	if (!sql || q->limit < 1 || q->limit > max_limit || q->offset < 0 ||
	    q->offset > STORE_VIEW_MAX_OFFSET) {
		sqlite3_free(sql);
		return store_fail(st, STORE_EINVAL, "bad records query");
	}
	s = view_prep(st, sql, who);
	sqlite3_free(sql);
	if (!s)
		return view_errclass(st);
	view_bind_filter(s, ":f", q->filter);
	for (i = 0; i < STORE_COL_N; i++)
		view_bind_filter(s, col_param[i], q->match[i]);
	sqlite3_bind_int(s, sqlite3_bind_parameter_index(s, ":limit"), q->limit);
	sqlite3_bind_int(s, sqlite3_bind_parameter_index(s, ":offset"), q->offset);
	while (!stop && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		row = record_row(q->kind, s);
		stop = fn(arg, sqlite3_column_int64(s, total_col[q->kind]), row);
		json_decref(row);
	}
	sqlite3_finalize(s);
	if (!stop && view_done(st, rc) < 0)
		return view_errclass(st);
	return STORE_OK;
}

/* store_view_records_each - see store.h */
int store_view_records_each(struct store *st, const struct store_viewer *who,
			    const struct store_view_query *q, store_view_row_fn fn, void *arg,
			    char *err, size_t errlen)
{
	view_begin(st, err, errlen, NULL);
	return view_end(st, records_walk(st, who, q, STORE_VIEW_MAX_ROWS, fn, arg));
}

/* a page of a records table being gathered */
struct records_page {
	json_t *items;
	int64_t total;
};

/* page_row - store_view_row_fn: ROW onto the page ARG */
static int page_row(void *arg, int64_t total, json_t *row)
{
	struct records_page *p = arg;

	p->total = total;
	json_array_append(p->items, row);
	return 0;
}

/* store_view_records - a records table; see store.h */
int store_view_records(struct store *st, const struct store_viewer *who,
		       const struct store_view_query *q, json_t **out, char *err, size_t errlen)
{
	static const char *const kinds[3] = { "accounts", "contacts", "deals" };
	struct records_page p = { json_array(), 0 };
	int rc;

	view_begin(st, err, errlen, out);
	rc = records_walk(st, who, q, STORE_VIEW_MAX_LIMIT, page_row, &p);
	if (rc != STORE_OK) {
		json_decref(p.items);
		return view_end(st, rc);
	}
	/* past the last page: no row tells the total */
	if (json_array_size(p.items) == 0 && q->offset > 0) {
		struct store_view_query q0 = *q;

		q0.offset = 0;
		q0.limit = 1;
		rc = records_walk(st, who, &q0, STORE_VIEW_MAX_LIMIT, page_row, &p);
		json_array_clear(p.items);
		if (rc != STORE_OK) {
			json_decref(p.items);
			return view_end(st, rc);
		}
	}
	*out = json_object();
	json_object_set_new(*out, "kind", json_string(kinds[q->kind]));
	json_object_set_new(*out, "total", json_integer(p.total));
	json_object_set_new(*out, "offset", json_integer(q->offset));
	json_object_set_new(*out, "limit", json_integer(q->limit));
	json_object_set_new(*out, "items", p.items);
	return view_end(st, STORE_OK);
}

/* ---- one record ---- */

/*
 * A record's timeline.  The links whose thread shows everyone something
 * (l.shown) carry the date the user sees; the record's row counts them and
 * holds the newest date (shown_n, shown_last), the newest are read from
 * the index links_COL_time alone.  The others, few, are those the user
 * may see something of, dated by what he sees (SQL_UNSHOWN_FIGURES).  A
 * page is the newest of both.
 */
#define SQL_SHOWN_STATS(T) "SELECT shown_n, shown_last FROM " T " WHERE id = :id"
#define SQL_SHOWN_NEWEST(col) \
	"SELECT l.thread_id, l.last_date FROM links l INDEXED BY links_" col "_time" \
	" WHERE l." col "_id = :id AND l.shown ORDER BY l.last_date DESC, l.thread_id DESC" \
	" LIMIT :limit + :offset"
#define SQL_UNSHOWN(col) \
	"SELECT tid, d FROM (" SQL_UNSHOWN_FIGURES(col "_id", "l." col "_id = :id") ")"

/* one thread as a summary row (see summary()) */
#define SQL_SUMMARY_ROW \
	"SELECT t.id, t.subject, t.first_date, t.last_date, t.messages, t.unassigned, " \
	VIEW_LEVEL("t") ", 0, 0, t.attachments, " VIEW_OPEN("t") " FROM threads t WHERE t.id = :id"

/* a visible thread of a record and the last date the user may see of it */
struct dated {
	int64_t date, tid;
};

/* the threads of a record the user sees */
struct record_view {
	int64_t total;                 /* how many */
	int64_t last;                  /* the newest date among them, 0: none */
	struct dated *v;               /* enough of the newest for the page, newest first */
	size_t n, cap;
};

/* dated_cmp - newest first, then the higher thread id (qsort) */
static int dated_cmp(const void *x, const void *y)
{
	const struct dated *a = x, *b = y;

	if (a->date != b->date)
		return a->date < b->date ? 1 : -1;
	return a->tid < b->tid ? 1 : a->tid > b->tid ? -1 : 0;
}

/* dated_add - append (TID, DATE) to RV; 0 or -1 (no memory) */
static int dated_add(struct record_view *rv, int64_t tid, int64_t date)
{
	struct dated *nv;

	if (rv->n == rv->cap) {
		rv->cap = rv->cap ? rv->cap * 2 : 128;
		nv = realloc(rv->v, rv->cap * sizeof *nv);
		if (!nv)
			return -1;
		rv->v = nv;
	}
	rv->v[rv->n++] = (struct dated){ date, tid };
	return 0;
}

/*
 * add_rows - run S (bound to the record ID and the page) and add its rows
 * (thread id, date or NULL: not seen) to RV; with COUNT each row seen
 * counts in RV's total and last.  0 or -1.
 */
static int add_rows(struct store *st, sqlite3_stmt *s, int64_t id, int limit, int offset,
		    struct record_view *rv, int count)
{
	int rc = SQLITE_ERROR;
	int64_t d;

	if (!s)
		return -1;
	view_bind_id(s, id);
	view_bind_page(s, limit, offset);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (sqlite3_column_type(s, 1) == SQLITE_NULL)
			continue;
		d = sqlite3_column_int64(s, 1);
		if (dated_add(rv, sqlite3_column_int64(s, 0), d) < 0) {
			rc = SQLITE_NOMEM;
			break;
		}
		if (count) {
			rv->total++;
			rv->last = d > rv->last ? d : rv->last;
		}
	}
	sqlite3_finalize(s);
	return view_done(st, rc);
}

/*
 * record_threads - what the user sees of record ID (KIND): the total, the
 * newest date, and at least its OFFSET + LIMIT newest threads in order,
 * into RV (free RV->v); 0 or -1
 */
static int record_threads(struct store *st, const struct store_viewer *who, int kind, int64_t id,
			  int limit, int offset, struct record_view *rv)
{
	static const char *const stats[3] = {
		SQL_SHOWN_STATS("accounts"), SQL_SHOWN_STATS("contacts"), SQL_SHOWN_STATS("deals"),
	};
	static const char *const newest[3] = {
		SQL_SHOWN_NEWEST("account"), SQL_SHOWN_NEWEST("contact"), SQL_SHOWN_NEWEST("deal"),
	};
	static const char *const unshown[3] = {
		SQL_UNSHOWN("account"), SQL_UNSHOWN("contact"), SQL_UNSHOWN("deal"),
	};
	sqlite3_stmt *s = view_prep(st, stats[kind], NULL);
	int rc;

	memset(rv, 0, sizeof *rv);
	if (!s)
		return -1;
	view_bind_id(s, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		rv->total = sqlite3_column_int64(s, 0);
		rv->last = sqlite3_column_int64(s, 1);
		rc = SQLITE_DONE;
	}
	sqlite3_finalize(s);
	if (view_done(st, rc) < 0 ||
	    add_rows(st, view_prep(st, newest[kind], NULL), id, limit, offset, rv, 0) < 0 ||
	    add_rows(st, view_prep(st, unshown[kind], who), id, limit, offset, rv, 1) < 0)
		return -1;
	if (rv->n > 1)	/* a record without threads has no array at all */
		qsort(rv->v, rv->n, sizeof *rv->v, dated_cmp);
	return 0;
}

/*
 * page_of_threads - {"total", "offset", "limit", "items"} of the summaries
 * of threads V[OFFSET..OFFSET+LIMIT) (of N) for WHO; NULL on error
 */
static json_t *page_of_threads(struct store *st, const struct store_viewer *who,
			       const struct dated *v, size_t n, int limit, int offset)
{
	sqlite3_stmt *row = view_prep(st, SQL_SUMMARY_ROW, who);
	struct summ c;
	json_t *o = NULL, *items = json_array(), *t = NULL;
	size_t i = 0;
	int rc;

	if (!row || summ_open(st, &c, who) < 0)
		goto out;
	for (i = (size_t)offset; i < n && i < (size_t)offset + (size_t)limit; i++) {
		sqlite3_reset(row);
		view_bind_id(row, v[i].tid);
		rc = sqlite3_step(row);
		t = rc == SQLITE_ROW ? summary(st, &c, row) : NULL;
		if (!t) {
			view_done(st, rc == SQLITE_DONE ? SQLITE_ERROR : rc);
			break;
		}
		json_array_append_new(items, t);
	}
	if (i >= n || i >= (size_t)offset + (size_t)limit) {
		o = json_object();
		json_object_set_new(o, "total", json_integer((json_int_t)n));
		json_object_set_new(o, "offset", json_integer(offset));
		json_object_set_new(o, "limit", json_integer(limit));
		json_object_set_new(o, "items", items);
		items = NULL;
	}
out:
	if (row)
		summ_close(&c);
	sqlite3_finalize(row);
	json_decref(items);
	return o;
}

/* date_of - epoch T as a date value, null for 0 */
static json_t *date_of(struct store *st, int64_t t)
{
	sqlite3_stmt *s = t ? view_prep(st, "SELECT ?1", NULL) : NULL;
	json_t *v = NULL;

	if (s) {
		sqlite3_bind_int64(s, 1, t);
		if (sqlite3_step(s) == SQLITE_ROW)
			v = store_json_date(s, 0);
		sqlite3_finalize(s);
	}
	return v ? v : json_null();
}

/*
 * timeline - "timeline" of record ID, newest first, and the record's
 * "threads" and "last_activity" over the threads the user sees
 * (record_threads); 0 or -1
 */
static int timeline(struct store *st, const struct store_viewer *who, json_t *o, int kind,
		    int64_t id, int limit, int offset)
{
	struct record_view rv;
	json_t *page;

	if (limit < 1 || limit > STORE_VIEW_MAX_LIMIT)
		limit = limit < 1 ? 1 : STORE_VIEW_MAX_LIMIT;
	if (offset < 0 || offset > STORE_VIEW_MAX_OFFSET)
		offset = offset < 0 ? 0 : STORE_VIEW_MAX_OFFSET;
	if (record_threads(st, who, kind, id, limit, offset, &rv) < 0) {
		free(rv.v);
		return -1;
	}
	page = page_of_threads(st, who, rv.v, rv.n, limit, offset);
	free(rv.v);
	if (!page)
		return -1;
	json_object_set_new(page, "total", json_integer(rv.total));
	json_object_set_new(o, "threads", json_integer(rv.total));
	json_object_set_new(o, "last_activity", rv.last ? date_of(st, rv.last) : json_null());
	json_object_set_new(o, "timeline", page);
	return 0;
}

/*
 * the status of one record (:id) of table T (link column K_id): what the
 * user sees of its threads as one row (last, li, lo, wu, wt) of
 * SQL_VISIBLE_PER, from the record's own figures for the links shown to
 * everyone (shown_*) and its other links the user may see
 */
#define SQL_STATUS_OF(T, K) \
	"SELECT " SQL_MAXN("r.shown_last", "x.last") ", " SQL_MAXN("r.shown_li", "x.li") ", " \
	SQL_MAXN("r.shown_lo", "x.lo") ", " SQL_MINN("r.shown_wu", "x.wu") ", " \
	SQL_MINN("r.shown_wt", "x.wt") " FROM " T " r, (SELECT " SQL_FIGURES_OF("0") " FROM (" \
	SQL_UNSHOWN_FIGURES(K "_id", "l." K "_id = :id") ")) x WHERE r.id = :id"

/*
 * status_of - "activity" of record ID of KIND into O: {"last_activity",
 * "last_inbound", "last_outbound", "waiting_for_us_since",
 * "waiting_for_them_since"} (dates or null) over what WHO sees; 0 or -1
 */
static int status_of(struct store *st, const struct store_viewer *who, int kind, int64_t id,
		     json_t *o)
{
	static const char *const sql[3] = {
		SQL_STATUS_OF("accounts", "account"), SQL_STATUS_OF("contacts", "contact"),
		SQL_STATUS_OF("deals", "deal"),
	};
	sqlite3_stmt *s = view_prep(st, sql[kind], who);
	json_t *status;
	int rc;

	if (!s)
		return -1;
	view_bind_id(s, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		status = json_object();
		json_object_set_new(status, "last_activity", store_json_date(s, 0));
		status_set(status, s, 1);
		json_object_set_new(o, "activity", status);
	}
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : view_done(st, rc) < 0 ? -1 : 0;
}

/* deals_status - the "activity" of each deal in the list DEALS ({"id", ...}); 0 or -1 */
static int deals_status(struct store *st, const struct store_viewer *who, json_t *deals)
{
	json_t *d;
	size_t i;

	json_array_foreach(deals, i, d)
		if (status_of(st, who, STORE_VIEW_DEALS,
			      json_integer_value(json_object_get(d, "id")), d) < 0)
			return -1;
	return 0;
}

/* list_of - the rows of SQL (bound with :id and the user) as objects named by KEYS */
static json_t *list_of(struct store *st, const struct store_viewer *who, const char *sql,
		       int64_t id, const char *const *keys, int n)
{
	sqlite3_stmt *s = view_prep(st, sql, who);
	json_t *a, *o;
	int rc;

	if (!s)
		return NULL;
	view_bind_id(s, id);
	a = json_array();
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		o = json_object();
		for (int i = 0; i < n; i++)
			json_object_set_new(o, keys[i], sqlite3_column_type(s, i) == SQLITE_INTEGER
					    ? store_json_int(s, i) : view_col_text(s, i));
		json_array_append_new(a, o);
	}
	sqlite3_finalize(s);
	if (view_done(st, rc) < 0) {
		json_decref(a);
		return NULL;
	}
	return a;
}

/* a contact c is visible: one of its threads is, or it has none */
#define SQL_CONTACT_VISIBLE VIEW_RECORD_VISIBLE("contact_id", "c.id")

static const char *const contact_keys[] = { "id", "address", "name" };
static const char *const deal_keys[] = { "id", "key", "name", "status" };

/* account_fields - the fields, contacts and deals of account ID into O */
static int account_fields(struct store *st, const struct store_viewer *who, json_t *o, int64_t id)
{
	static const char *const dom_keys[] = { "domain" };
	json_t *doms, *contacts, *deals;

	doms = list_of(st, who, "SELECT domain FROM account_domains WHERE account_id = :id"
		       " ORDER BY domain", id, dom_keys, 1);
	contacts = list_of(st, who, "SELECT c.id, c.address, c.name FROM contacts c"
			   " WHERE c.account_id = :id AND " SQL_CONTACT_VISIBLE
			   " ORDER BY c.address", id, contact_keys, 3);
	deals = list_of(st, who, "SELECT d.id, d.key, d.name, d.status FROM deals d"
			" WHERE d.account_id = :id AND " SQL_DEAL_VISIBLE " ORDER BY d.key", id,
			deal_keys, 4);
	json_object_set_new(o, "domains", doms ? doms : json_array());
	json_object_set_new(o, "contacts", contacts ? contacts : json_array());
	json_object_set_new(o, "deals", deals ? deals : json_array());
	return doms && contacts && deals && deals_status(st, who, deals) == 0 ? 0 : -1;
}

/* contact_fields - the deals of contact ID (by its address) into O */
static int contact_fields(struct store *st, const struct store_viewer *who, json_t *o, int64_t id)
{
	json_t *deals = list_of(st, who, "SELECT d.id, d.key, d.name, d.status FROM contacts c"
				" JOIN deal_contacts dc ON dc.address = c.address JOIN deals d"
				" ON d.id = dc.deal_id WHERE c.id = :id AND " SQL_DEAL_VISIBLE
				" ORDER BY d.key", id, deal_keys, 4);

	json_object_set_new(o, "deals", deals ? deals : json_array());
	return deals && deals_status(st, who, deals) == 0 ? 0 : -1;
}

/* deal_fields - the contacts of deal ID into O (address, and the contact's id when one) */
static int deal_fields(struct store *st, const struct store_viewer *who, json_t *o, int64_t id)
{
	static const char *const keys[] = { "address", "id", "name" };
	json_t *people = list_of(st, who, "SELECT dc.address, c.id, c.name FROM deal_contacts dc"
				 " LEFT JOIN contacts c ON c.address = dc.address"
				 " AND " SQL_CONTACT_VISIBLE " WHERE dc.deal_id = :id"
				 " ORDER BY dc.address", id, keys, 3);

	json_object_set_new(o, "contacts", people ? people : json_array());
	return people ? 0 : -1;
}

/* the record's own row, visible to the user */
static const char *const record_sql[3] = {
	"SELECT a.id, a.name, a.domain, a.rule_id FROM accounts a WHERE a.id = :id"
	" AND " VIEW_RECORD_VISIBLE("account_id", "a.id"),
	"SELECT c.id, c.name, c.address, c.capture_rule, a.id, a.domain, a.name FROM contacts c"
	" LEFT JOIN accounts a ON a.id = c.account_id WHERE c.id = :id AND " SQL_CONTACT_VISIBLE,
	"SELECT d.id, d.name, d.key, d.rule_id, a.id, a.domain, a.name, d.status FROM deals d"
	" LEFT JOIN accounts a ON a.id = d.account_id WHERE d.id = :id AND " SQL_DEAL_VISIBLE,
};

/* record_head - the record's own fields from the row at S into O, for WHO */
static void record_head(struct store *st, const struct store_viewer *who, enum store_view_kind kind,
			sqlite3_stmt *s, json_t *o)
{
	static const char *const names[3] = { "account", "contact", "deal" };
	static const char *const keyname[3] = { "domain", "address", "key" };
	json_t *acc;

	json_object_set_new(o, "kind", json_string(names[kind]));
	json_object_set_new(o, "id", store_json_int(s, 0));
	json_object_set_new(o, "name", view_col_text(s, 1));
	json_object_set_new(o, keyname[kind], view_col_text(s, 2));
	json_object_set_new(o, kind == STORE_VIEW_CONTACTS ? "captured_by" : "rule",
			    view_rule_json(st, who, sqlite3_column_int64(s, 3)));
	if (kind == STORE_VIEW_ACCOUNTS)
		return;
	acc = json_null();
	if (sqlite3_column_type(s, 4) != SQLITE_NULL) {
		acc = json_object();
		json_object_set_new(acc, "id", store_json_int(s, 4));
		json_object_set_new(acc, "domain", view_col_text(s, 5));
		json_object_set_new(acc, "name", view_col_text(s, 6));
	}
	json_object_set_new(o, "account", acc);
	if (kind == STORE_VIEW_DEALS)
		json_object_set_new(o, "status", view_col_text(s, 7));
}

/* store_view_record - one record with its timeline; see store.h */
int store_view_record(struct store *st, const struct store_viewer *who, enum store_view_kind kind,
		      int64_t id, int limit, int offset, json_t **out, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	json_t *o;
	int rc;

	view_begin(st, err, errlen, out);
	if ((unsigned)kind > STORE_VIEW_DEALS)
		return view_end(st, store_fail(st, STORE_EINVAL, "bad record kind"));
	s = view_prep(st, record_sql[kind], who);
	if (!s)
		return view_end(st, view_errclass(st));
	view_bind_id(s, id);
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(s);
		return view_end(st, view_done(st, rc) < 0 ? view_errclass(st) : STORE_OK);
	}
	o = json_object();
	record_head(st, who, kind, s, o);
	sqlite3_finalize(s);
	rc = kind == STORE_VIEW_ACCOUNTS ? account_fields(st, who, o, id)
		     : kind == STORE_VIEW_CONTACTS ? contact_fields(st, who, o, id)
		     : deal_fields(st, who, o, id);
	if (rc == 0)
		rc = status_of(st, who, kind, id, o);
	if (rc == 0)
		rc = timeline(st, who, o, kind, id, limit, offset);
	if (rc < 0) {
		json_decref(o);
		return view_end(st, view_errclass(st));
	}
	*out = o;
	return view_end(st, STORE_OK);
}

/* ---- unassigned ---- */

/*
 * one page of SQL's (id, last_date) rows as summary rows: the sort and the
 * counts work on small rows, the page's threads are read after
 */
#define SQL_PAGE(sql) \
	"SELECT t.id, t.subject, t.first_date, t.last_date, t.messages, t.unassigned, " \
	VIEW_LEVEL("t") ", p.total, p.latest, t.attachments, " VIEW_OPEN("t") " FROM (SELECT id," \
	" last_date, count(*) OVER () AS total, max(last_date) OVER () AS latest FROM (" sql ")" \
	" LIMIT :limit OFFSET :offset) p JOIN threads t ON t.id = p.id" \
	" ORDER BY p.last_date DESC, p.id DESC"

/* the visible unassigned threads, by the last date the user may see */
#define SQL_UNASSIGNED \
	"SELECT id, last_date FROM (SELECT t.id, " VIEW_THREAD_DATE("t") " AS last_date" \
	" FROM threads t WHERE t.unassigned IS NOT NULL AND t.messages > 0)" \
	" WHERE last_date IS NOT NULL ORDER BY last_date DESC, id DESC"

/* store_view_unassigned - threads no rule could place; see store.h */
int store_view_unassigned(struct store *st, const struct store_viewer *who, int limit,
			  int offset, json_t **out, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	int64_t last;

	view_begin(st, err, errlen, out);
	s = view_prep(st, SQL_PAGE(SQL_UNASSIGNED), who);
	if (!s)
		return view_end(st, view_errclass(st));
	view_bind_page(s, limit, offset);
	*out = page_of(st, who, s, limit, offset, &last);
	sqlite3_finalize(s);
	if (*out && offset > 0 && json_array_size(json_object_get(*out, "items")) == 0) {
		s = view_prep(st, "SELECT count(*) FROM (" SQL_UNASSIGNED ")", who);
		if (s && sqlite3_step(s) == SQLITE_ROW)
			json_object_set_new(*out, "total", store_json_int(s, 0));
		sqlite3_finalize(s);
	}
	return view_end(st, *out ? STORE_OK : view_errclass(st));
}

/* ---- one thread ---- */

/* add_people - "from" (first, or null), "to", "cc" and, when BCC, "bcc" of message MID */
static int add_people(struct store *st, sqlite3_stmt *s, json_t *m, int64_t mid, int bcc)
{
	static const char *const roles[] = { "to", "cc", "bcc" };
	json_t *lists[3], *from = NULL, *p;
	const char *role;
	int rc;

	for (int i = 0; i < 3; i++)
		lists[i] = json_array();
	sqlite3_reset(s);
	sqlite3_bind_int64(s, 1, mid);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		role = (const char *)sqlite3_column_text(s, 0);
		p = json_object();
		json_object_set_new(p, "name", view_col_text(s, 1));
		json_object_set_new(p, "address", view_col_text(s, 2));
		if (!from && role && strcmp(role, "from") == 0) {
			from = p;
			continue;
		}
		for (int i = 0; i < 3; i++)
			if (role && strcmp(role, roles[i]) == 0) {
				json_array_append(lists[i], p);
				break;
			}
		json_decref(p);
	}
	json_object_set_new(m, "from", from ? from : json_null());
	json_object_set_new(m, "to", lists[0]);
	json_object_set_new(m, "cc", lists[1]);
	if (bcc)
		json_object_set_new(m, "bcc", lists[2]);
	else
		json_decref(lists[2]);
	return view_done(st, rc);
}

/* add_attachments - "attachments" of message MID: a list (FULL) or a count */
static int add_attachments(struct store *st, sqlite3_stmt *s, json_t *m, int64_t mid, int full)
{
	json_t *a = json_array(), *o;
	int rc;

	sqlite3_reset(s);
	sqlite3_bind_int64(s, 1, mid);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (!full) {
			json_array_append_new(a, json_null());
			continue;
		}
		o = json_object();
		json_object_set_new(o, "id", store_json_int(s, 3));
		json_object_set_new(o, "filename", view_col_text(s, 0));
		json_object_set_new(o, "content_type", view_col_text(s, 1));
		json_object_set_new(o, "size", store_json_int(s, 2));
		json_array_append_new(a, o);
	}
	if (full) {
		json_object_set_new(m, "attachments", a);
	} else {
		json_object_set_new(m, "attachments", json_integer((json_int_t)json_array_size(a)));
		json_decref(a);
	}
	return view_done(st, rc);
}

/* statements of one thread page */
struct tctx {
	const struct store_viewer *who;
	sqlite3_stmt *msgs, *people, *atts;
	struct view_reply reply;
	size_t body_bytes;             /* body text put on the page so far */
};

/* message_of - one message of a thread page at LEVEL from the row at C->msgs */
static json_t *message_of(struct store *st, struct tctx *c, int level)
{
	sqlite3_stmt *s = c->msgs;
	int64_t mid = sqlite3_column_int64(s, 0);
	int full = level >= VIEW_EVERYTHING;
	json_t *m = json_object(), *log;
	size_t blen;
	char *body;

	json_object_set_new(m, "id", json_integer(mid));
	json_object_set_new(m, "access", json_string(view_level_name(level)));
	json_object_set_new(m, "date", store_json_date(s, 1));
	json_object_set_new(m, "direction", view_col_text(s, 2));
	if (level >= VIEW_SUBJECT)
		json_object_set_new(m, "subject", view_col_text(s, 3));
	if (add_people(st, c->people, m, mid, full) < 0 ||
	    add_attachments(st, c->atts, m, mid, full) < 0)
		goto fail;
	log = json_object();
	json_object_set_new(log, "status", view_col_text(s, 10));
	json_object_set_new(log, "reason", view_col_text(s, 11));
	json_object_set_new(log, "rule", view_rule_json(st, c->who, sqlite3_column_int64(s, 12)));
	json_object_set_new(m, "log", log);
	if (!full)
		return m;
	if (view_reply_add(st, &c->reply, m, mid) < 0)
		goto fail;
	json_object_set_new(m, "flags", store_json_flags((unsigned)sqlite3_column_int64(s, 4)));
	blen = (size_t)sqlite3_column_int64(s, 6);
	if (c->body_bytes + blen > VIEW_MAX_BODIES) {
		json_object_set_new(m, "body", json_null());
		json_object_set_new(m, "body_omitted", json_true());
		json_object_set_new(m, "quotes", json_array());
		return m;
	}
	body = view_body_of(st, mid, s, 5);
	if (!body)
		goto fail;
	c->body_bytes += blen;
	json_object_set_new(m, "body", view_json_text(body, strlen(body)));
	free(body);
	json_object_set_new(m, "quotes", view_quotes_of(s, 8));
	return m;
fail:
	json_decref(m);
	return NULL;
}

/*
 * thread_items - "items": LIMIT of the messages of thread TID that WHO may
 * see, from OFFSET, each at its own level (VIEW_MSG_LEVEL); 0 or -1
 */
static int thread_items(struct store *st, const struct store_viewer *who, json_t *o, int64_t tid,
			int limit, int offset)
{
	struct tctx c = { .who = who };
	json_t *a = json_array(), *m;
	int rc = SQLITE_ERROR;

	c.msgs = view_prep(st, "SELECT * FROM (SELECT m.id, m.date, m.direction, m.subject, m.flags,"
			   " m.body, m.body_len, m.body_offset, m.quotes, m.dict_id, m.log, m.log_reason,"
			   " m.log_rule, " VIEW_MSG_LEVEL("t", "m") " AS lv FROM threads t JOIN messages m"
			   " ON m.thread_id = t.id WHERE t.id = :id) WHERE lv > 0 ORDER BY date, id"
			   " LIMIT :limit OFFSET :offset", who);
	c.people = view_prep(st, "SELECT role, name, address FROM participants WHERE message_id = ?1"
			     " AND role IN ('from', 'to', 'cc', 'bcc') ORDER BY pos, address", NULL);
	c.atts = view_prep(st, "SELECT filename, content_type, size, id FROM attachments"
			   " WHERE message_id = ?1 ORDER BY id", NULL);
	if (c.msgs && c.people && c.atts && view_reply_open(st, &c.reply) == 0) {
		view_bind_id(c.msgs, tid);
		view_bind_page(c.msgs, limit, offset);
		while ((rc = sqlite3_step(c.msgs)) == SQLITE_ROW) {
			m = message_of(st, &c, sqlite3_column_int(c.msgs, 13));
			if (!m)
				break;
			json_array_append_new(a, m);
		}
	}
	sqlite3_finalize(c.msgs);
	sqlite3_finalize(c.people);
	sqlite3_finalize(c.atts);
	view_reply_close(&c.reply);
	json_object_set_new(o, "items", a);
	return rc == SQLITE_ROW ? -1 : view_done(st, rc);
}

/*
 * the contact a link came through: for an account, the first contact of the
 * account linked to the same thread; for a deal, the first contact of the
 * deal linked to it (so the page can say "because Bob Jones is in it")
 */
#define SQL_LINK_VIA \
	"(SELECT v.id FROM links lv JOIN contacts v ON v.id = lv.contact_id" \
	" WHERE lv.thread_id = l.thread_id AND (v.account_id = l.account_id OR EXISTS" \
	" (SELECT 1 FROM deal_contacts dc WHERE dc.deal_id = l.deal_id AND dc.address = v.address))" \
	" ORDER BY v.address LIMIT 1)"

/*
 * thread_links - "links": [{"kind", "id", "key", "name", "rule",
 * "captured_by", "via"}], "via" ({"name", "address"}) for an account or
 * deal link that came through a contact of the thread; 0 or -1
 */
static int thread_links(struct store *st, const struct store_viewer *who, json_t *o, int64_t tid)
{
	sqlite3_stmt *s = view_prep(st,
		"SELECT CASE WHEN l.account_id IS NOT NULL THEN 'account'"
		"  WHEN l.contact_id IS NOT NULL THEN 'contact' ELSE 'deal' END,"
		" coalesce(l.account_id, l.contact_id, l.deal_id), coalesce(a.domain, c.address, d.key),"
		" coalesce(a.name, c.name, d.name), l.rule_id, c.capture_rule, v.name, v.address"
		" FROM links l LEFT JOIN accounts a ON a.id = l.account_id"
		" LEFT JOIN contacts c ON c.id = l.contact_id LEFT JOIN deals d ON d.id = l.deal_id"
		" LEFT JOIN contacts v ON l.contact_id IS NULL AND v.id = " SQL_LINK_VIA
		" WHERE l.thread_id = ?1 ORDER BY 1, 3", NULL);
	json_t *a = json_array(), *l, *via;
	int rc = SQLITE_ERROR;

	if (s) {
		sqlite3_bind_int64(s, 1, tid);
		while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			l = json_object();
			json_object_set_new(l, "kind", view_col_text(s, 0));
			json_object_set_new(l, "id", store_json_int(s, 1));
			json_object_set_new(l, "key", view_col_text(s, 2));
			json_object_set_new(l, "name", view_col_text(s, 3));
			json_object_set_new(l, "rule", view_rule_json(st, who, sqlite3_column_int64(s, 4)));
			if (sqlite3_column_type(s, 5) != SQLITE_NULL)
				json_object_set_new(l, "captured_by",
						    view_rule_json(st, who, sqlite3_column_int64(s, 5)));
			if (sqlite3_column_type(s, 7) != SQLITE_NULL) {
				via = json_object();
				json_object_set_new(via, "name", view_col_text(s, 6));
				json_object_set_new(via, "address", view_col_text(s, 7));
				json_object_set_new(l, "via", via);
			}
			json_array_append_new(a, l);
		}
	}
	sqlite3_finalize(s);
	json_object_set_new(o, "links", a);
	return view_done(st, rc);
}

/* thread_head - the header fields of thread TID seen in part by WHO into O; 0 or -1 */
static int thread_head(struct store *st, const struct store_viewer *who, json_t *o, int64_t tid)
{
	sqlite3_stmt *s = view_prep(st, SQL_SEEN_HEAD, who);
	int rc = s ? part_head(st, s, o, tid, 0) : -1;

	sqlite3_finalize(s);
	return rc;
}

/* store_view_thread - one thread at the user's level; see store.h */
int store_view_thread(struct store *st, const struct store_viewer *who, int64_t id,
		      int limit, int offset, json_t **out, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	json_t *o, *vis;
	int rc, level, part;

	view_begin(st, err, errlen, out);
	s = view_prep(st, "SELECT t.id, t.subject, t.first_date, t.last_date, t.messages,"
		      " t.unassigned, " VIEW_LEVEL("t") ", t.visibility, t.outside, t.vis_reason,"
		      " t.vis_rule, " VIEW_OPEN("t") " FROM threads t WHERE t.id = :id"
		      " AND t.messages > 0", who);
	if (!s)
		return view_end(st, view_errclass(st));
	view_bind_id(s, id);
	rc = sqlite3_step(s);
	level = rc == SQLITE_ROW ? sqlite3_column_int(s, 6) : 0;
	if (rc != SQLITE_ROW || level <= 0) {
		sqlite3_finalize(s);
		return view_end(st, rc == SQLITE_ROW || view_done(st, rc) == 0 ? STORE_OK
				: view_errclass(st));
	}
	part = level >= VIEW_EVERYTHING && !sqlite3_column_int(s, 11);
	o = json_object();
	json_object_set_new(o, "id", store_json_int(s, 0));
	json_object_set_new(o, "access", json_string(view_level_name(level)));
	json_object_set_new(o, "subject", level >= VIEW_SUBJECT ? view_col_text(s, 1) : json_null());
	json_object_set_new(o, "first_date", store_json_date(s, 2));
	json_object_set_new(o, "last_date", store_json_date(s, 3));
	json_object_set_new(o, "messages", store_json_int(s, 4));
	json_object_set_new(o, "unassigned", view_col_text(s, 5));
	json_object_set_new(o, "offset", json_integer(offset));
	json_object_set_new(o, "limit", json_integer(limit));
	vis = json_object();
	json_object_set_new(vis, "inside", view_col_text(s, 7));
	json_object_set_new(vis, "outside", view_col_text(s, 8));
	json_object_set_new(vis, "reason", view_col_text(s, 9));
	json_object_set_new(vis, "rule", view_rule_json(st, who, sqlite3_column_int64(s, 10)));
	json_object_set_new(o, "visibility", vis);
	sqlite3_finalize(s);
	if ((part && thread_head(st, who, o, id) < 0) || thread_links(st, who, o, id) < 0 ||
	    thread_items(st, who, o, id, limit, offset) < 0) {
		json_decref(o);
		return view_end(st, view_errclass(st));
	}
	*out = o;
	return view_end(st, STORE_OK);
}
