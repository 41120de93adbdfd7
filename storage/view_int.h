/*
 * view_int.h - private to storage/view*.c: the visibility SQL of the
 * viewer's reads and the helpers they share (view_util.c)
 *
 * Who sees what (crmview(8), WHO SEES WHAT).  The macros below are SQL for
 * the user bound to the named parameters :who (the user's address), :team
 * ("team:NAME" or NULL) and :all (1: inside every thread).  Levels: 0
 * nothing, 1 metadata, 2 subject, 3 everything.
 *
 *  - The user is inside thread t as a whole (VIEW_OPEN) when t is visible
 *    to the workspace or to the user's team, or shows outsiders everything,
 *    or :all.  Every message of t is then at level 3.
 *  - Otherwise each message m is at level 3 when the user sent or received
 *    it (VIEW_DELIVERED: From, To, Cc, Bcc or envelope recipient; never
 *    Sender, Reply-To or any other header, which an outside sender writes
 *    and which deliver nothing), and at t.outside's level when not.  So an
 *    outsider who adds a colleague to a reply in a private thread shows him
 *    that reply, and nothing earlier.
 *  - A thread's level for the user (VIEW_LEVEL) is the best level of its
 *    messages; it is in a list when that is above 0.  A thread the user
 *    sees only in part (level 3, not open) is summarised from the messages
 *    he may see: their count, dates, subject, people and snippet
 *    (view.c), and placed in a timeline by the last of them
 *    (VIEW_THREAD_DATE).
 */
#ifndef CRM_VIEW_INT_H
#define CRM_VIEW_INT_H

#include "store_int.h"

enum { VIEW_HIDDEN = 0, VIEW_METADATA = 1, VIEW_SUBJECT = 2, VIEW_EVERYTHING = 3 };

#define VIEW_STR_(x) #x
#define VIEW_STR(x) VIEW_STR_(x)

/* the participant roles that deliver a message: the only ones that let anyone in */
#define VIEW_ROLES "('from', 'to', 'cc', 'bcc', 'envelope-rcpt')"

/* VIEW_OPEN(t): the user is inside thread row t as a whole */
#define VIEW_OPEN(t) \
	"(:all OR " t ".outside = 'everything' OR " t ".visibility = 'workspace'" \
	" OR " t ".visibility = :team)"

/* VIEW_OUTSIDE(t): the level of thread row t for those not inside */
#define VIEW_OUTSIDE(t) \
	"(CASE " t ".outside WHEN 'nothing' THEN 0 WHEN 'metadata' THEN 1 WHEN 'subject' THEN 2" \
	" ELSE 3 END)"

/*
 * VIEW_DELIVERED(m): the user sent or received message row m.  The role
 * is a filter ("+"), not an index term: one seek of participants_address
 * (address, message_id) and its roles beats five seeks, one per role.
 */
#define VIEW_DELIVERED(m) \
	"EXISTS (SELECT 1 FROM participants vp WHERE vp.message_id = " m ".id" \
	" AND +vp.role IN " VIEW_ROLES " AND vp.address = :who)"

/* VIEW_TAKES_PART(t): the user sent or received a message of thread row t */
#define VIEW_TAKES_PART(t) \
	"EXISTS (SELECT 1 FROM messages vm CROSS JOIN participants vp ON vp.message_id = vm.id" \
	" WHERE vm.thread_id = " t ".id AND +vp.role IN " VIEW_ROLES " AND vp.address = :who)"

/* VIEW_LEVEL(t): the best level of thread row t's messages */
#define VIEW_LEVEL(t) \
	"(CASE WHEN " VIEW_OPEN(t) " OR " VIEW_TAKES_PART(t) " THEN 3 ELSE " VIEW_OUTSIDE(t) " END)"

/* VIEW_MSG_LEVEL(t, m): the level of message row m of thread row t */
#define VIEW_MSG_LEVEL(t, m) \
	"(CASE WHEN " VIEW_OPEN(t) " OR " VIEW_DELIVERED(m) " THEN 3 ELSE " VIEW_OUTSIDE(t) " END)"

/*
 * VIEW_VISIBLE(t) is VIEW_LEVEL(t) > 0, cheaper: a thread that shows
 * others something needs no look at its participants
 */
#define VIEW_VISIBLE(t) \
	"(" t ".outside IN ('everything', 'subject', 'metadata') OR " VIEW_OPEN(t) \
	" OR " VIEW_TAKES_PART(t) ")"

/*
 * VIEW_THREAD_DATE(t): the date of the last message of thread row t the
 * user may see, NULL when he sees none: the thread's own last date unless
 * he sees it only in part
 */
#define VIEW_THREAD_DATE(t) \
	"(CASE WHEN " t ".outside IN ('everything', 'subject', 'metadata') OR " VIEW_OPEN(t) \
	" THEN " t ".last_date ELSE (SELECT vm.date FROM messages vm WHERE vm.thread_id = " t ".id" \
	" AND " VIEW_DELIVERED("vm") " ORDER BY vm.date DESC LIMIT 1) END)"

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
void view_bind_filter(sqlite3_stmt *s, const char *name, const char *filter);

/* text columns as JSON strings, always valid UTF-8 (other columns: store_json_*, store_int.h) */
json_t *view_json_text(const char *p, size_t len);
json_t *view_col_text(sqlite3_stmt *s, int i);

/* view_rule_json - {"file", "line", "text", "hash"} of rules row ID, null for 0;
 * "file" as WHO may see it (view_util.c) */
json_t *view_rule_json(struct store *st, const struct store_viewer *who, int64_t id);

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

/*
 * view_reply.c: the "reply" object of a message on the thread page, read
 * only for messages shown in full:
 * {"message_id", "references": [root first, the message last],
 *  "reply_to": [Reply-To addresses], "tag": reply tag}
 *   view_reply_open - the key and statements; 0, or -1 with the error set
 *   view_reply_add - set "reply" on M for messages row MID (nothing when
 *     it has gone); 0 or -1
 *   view_reply_close - finalize, wipe the key (also after a failed open)
 */
struct view_reply {
	unsigned char key[32];
	sqlite3_stmt *msgid, *parent, *reply_to;
};
int view_reply_open(struct store *st, struct view_reply *r);
int view_reply_add(struct store *st, struct view_reply *r, json_t *m, int64_t mid);
void view_reply_close(struct view_reply *r);

#endif
