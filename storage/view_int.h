/*
 * view_int.h - private to storage/view*.c: the visibility SQL of the
 * viewer's reads and the helpers they share (view_util.c)
 *
 * VIEW_LEVEL(t) is what the user bound to the named parameters :who (the
 * user's address), :team ("team:NAME" or NULL) and :all (1: inside every
 * thread) may see of thread row t: 0 nothing, 1 metadata, 2 subject,
 * 3 everything.  The user is inside when the thread is visible to the
 * workspace or to the user's team, or when the user's address is one of
 * its participants; inside sees everything, outside what t.outside says.
 */
#ifndef CRM_VIEW_INT_H
#define CRM_VIEW_INT_H

#include "store_int.h"

enum { VIEW_HIDDEN = 0, VIEW_METADATA = 1, VIEW_SUBJECT = 2, VIEW_EVERYTHING = 3 };

#define VIEW_STR_(x) #x
#define VIEW_STR(x) VIEW_STR_(x)

#define VIEW_LEVEL(t) \
	"(CASE WHEN :all OR " t ".outside = 'everything' OR " t ".visibility = 'workspace'" \
	" OR " t ".visibility = :team OR EXISTS (SELECT 1 FROM messages vm CROSS JOIN participants vp" \
	" ON vp.message_id = vm.id WHERE vm.thread_id = " t ".id AND vp.address = :who)" \
	" THEN 3 WHEN " t ".outside = 'subject' THEN 2 WHEN " t ".outside = 'metadata' THEN 1" \
	" ELSE 0 END)"

/*
 * VIEW_VISIBLE(t) is VIEW_LEVEL(t) > 0, cheaper: a thread that shows
 * others something needs no look at its participants
 */
#define VIEW_VISIBLE(t) \
	"(" t ".outside IN ('everything', 'subject', 'metadata') OR :all" \
	" OR " t ".visibility = 'workspace' OR " t ".visibility = :team" \
	" OR EXISTS (SELECT 1 FROM messages vm CROSS JOIN participants vp" \
	" ON vp.message_id = vm.id WHERE vm.thread_id = " t ".id AND vp.address = :who))"

/*
 * VIEW_LINK_VISIBLE(l): link row l leads to a visible thread.  A link
 * carries whether its thread shows everyone something (l.shown, kept by
 * the schema's triggers); only the other threads need a closer look.
 */
#define VIEW_LINK_VISIBLE(l) \
	"(" l ".shown OR EXISTS (SELECT 1 FROM threads vt WHERE vt.id = " l ".thread_id" \
	" AND vt.messages > 0 AND " VIEW_VISIBLE("vt") "))"

/* record ID (an SQL expression) with link column COL is visible: one of its
 * threads is, or it has no thread at all */
#define VIEW_RECORD_VISIBLE(col, id) \
	"(EXISTS (SELECT 1 FROM links vl WHERE vl." col " = " id " AND " VIEW_LINK_VISIBLE("vl") ")" \
	" OR NOT EXISTS (SELECT 1 FROM links vl2 WHERE vl2." col " = " id "))"

/* a call's frame: error buffer, *out NULL, one read transaction */
void view_begin(struct store *st, char *err, size_t errlen, json_t **out);
int view_end(struct store *st, int rc);

/* view_prep - prepare SQL and bind the user WHO (NULL: none); NULL with err set */
sqlite3_stmt *view_prep(struct store *st, const char *sql, const struct store_viewer *who);

/* view_done - 0 when a step loop ended with SQLITE_DONE, else report and -1 */
int view_done(struct store *st, int rc);

/* view_errclass - the error class of the store's last failure */
int view_errclass(struct store *st);

/* binding the named parameters :id, :limit, :offset, :f (lower-cased filter) */
void view_bind_id(sqlite3_stmt *s, int64_t id);
void view_bind_page(sqlite3_stmt *s, int limit, int offset);
void view_bind_filter(sqlite3_stmt *s, const char *filter);

/* text columns as JSON strings, always valid UTF-8 (other columns: store_json_*, store_int.h) */
json_t *view_json_text(const char *p, size_t len);
json_t *view_col_text(sqlite3_stmt *s, int i);

/* view_rule_json - {"file", "line", "text", "hash"} of rules row ID, null for 0 */
json_t *view_rule_json(struct store *st, int64_t id);

/* view_quotes_of - the quote spans stored as JSON text in column I ([] when none) */
json_t *view_quotes_of(sqlite3_stmt *s, int i);

/*
 * view_body_of - the text body of message MID from the row at S, whose
 * columns from C are body, body_len, body_offset, quotes, dict_id.
 * Returns a new NUL-terminated string (free()), or NULL with err set.
 */
char *view_body_of(struct store *st, int64_t mid, sqlite3_stmt *s, int c);

/* view_snippet_of - the snippet of the row (id, snippet, body, body_len,
 * body_offset, quotes, dict_id) at S: stored, or rebuilt; new string or NULL */
char *view_snippet_of(struct store *st, sqlite3_stmt *s);

/* view_level_name - "metadata", "subject", "everything" ("nothing" for 0) */
const char *view_level_name(int level);

#endif
