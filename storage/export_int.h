/*
 * export_int.h - private to storage/export.c and storage/export_rows.c:
 * one export run, and the records made from its rows
 *
 * export.c builds the queries of a run (what a filter selects) and hands
 * the records over; export_rows.c turns one row of each query into the
 * record crmilter-export(5) documents, with the run's per-row statements.
 * Nothing else includes this file.
 */
#ifndef CRM_EXPORT_INT_H
#define CRM_EXPORT_INT_H

#include "store_int.h"

#define EXPORT_SQL_MAX 16384            /* the longest query built (the counts) */

/* a query being built; over is set when it does not fit */
struct store_xsql {
	char p[EXPORT_SQL_MAX];
	size_t len;
	int over;
};

/* one export run */
struct store_xrun {
	struct store *st;
	const struct store_export_filter *f;
	const char *ent;           /* SQL of the threads the entity filter picks, or NULL */
	const char *key;           /* what :key is bound to */
	int dated;                 /* since or until given */
	int err_class;             /* the class of the last failure reported in err */
	int filtered;              /* an entity or date filter is given */
	int64_t heap_limit;        /* the process's soft heap limit before, or -1: untouched */
	struct store_xsql b;
	/* per-row statements, prepared once */
	sqlite3_stmt *s_domains, *s_deal_contacts, *s_parts, *s_atts, *s_srcs, *s_raw;
};

/* the columns of the messages query, in the order store_xrow_message() reads them */
#define SQL_MESSAGE_COLUMNS \
	"m.id, m.thread_id, m.msgid, m.date, m.direction, m.subject, m.size, m.flags," \
	" m.log, m.log_reason, m.log_rule, m.visibility, m.outside, m.vis_reason, m.vis_rule," \
	" m.untrusted, m.in_reply_to, c.parent, m.headers, m.body, m.dict_id, m.body_len," \
	" m.body_offset, m.quotes, m.warnings, r.mode, r.size, r.kept"

/* a row of a section's query made a record: a new value, or NULL with err filled */
typedef json_t *(*store_xrow_fn)(struct store_xrun *q, sqlite3_stmt *s);

/* the records of each section (columns: see the queries in export.c) */
json_t *store_xrow_rule(struct store_xrun *q, sqlite3_stmt *s);
json_t *store_xrow_account(struct store_xrun *q, sqlite3_stmt *s);
json_t *store_xrow_contact(struct store_xrun *q, sqlite3_stmt *s);
json_t *store_xrow_deal(struct store_xrun *q, sqlite3_stmt *s);
json_t *store_xrow_thread(struct store_xrun *q, sqlite3_stmt *s);
json_t *store_xrow_message(struct store_xrun *q, sqlite3_stmt *s);
json_t *store_xrow_link(struct store_xrun *q, sqlite3_stmt *s);

/* store_xrows_prepare - the per-row statements of Q; STORE_OK or an error class */
int store_xrows_prepare(struct store_xrun *q);

/* store_xrows_finish - finalize them; NULL ones are fine */
void store_xrows_finish(struct store_xrun *q);

/* store_xset - O[KEY] = V, taking V's reference (NULL: null) */
void store_xset(json_t *o, const char *key, json_t *v);

/* store_xrecord - a new object {"type": TYPE} */
json_t *store_xrecord(const char *type);

#endif
