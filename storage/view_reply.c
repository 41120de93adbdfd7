/*
 * view_reply.c - what a Reply link on the thread page needs of a message:
 * its Message-ID, the References a reply carries, whom a reply goes to,
 * and its reply tag (reply.c)
 *
 * For view.c (view_int.h): view_reply_open, view_reply_add,
 * view_reply_close.  References are the message's ancestors as the
 * container table holds them (root first, at most VIEW_REPLY_REFS) and the
 * message itself: RFC 5322's rule, read from what threading kept rather
 * than from headers the store does not keep.
 */
#include <stdlib.h>
#include <string.h>

#include "view_int.h"

#define VIEW_REPLY_REFS 10 /* ancestors named in References, the nearest ones */

/* view_reply_open - see view_int.h */
int view_reply_open(struct store *st, struct view_reply *r)
{
	memset(r, 0, sizeof *r);
	if (store_reply_key(st, r->key) != STORE_OK)
		return -1;
	r->msgid = view_prep(st, "SELECT msgid FROM messages WHERE id = ?1", NULL);
	r->parent = view_prep(st, "SELECT parent FROM message_ids WHERE msgid = ?1", NULL);
	r->reply_to = view_prep(st, "SELECT address FROM participants WHERE message_id = ?1"
				" AND role = 'reply-to' ORDER BY pos, address", NULL);
	if (!r->msgid || !r->parent || !r->reply_to) {
		view_reply_close(r);
		return -1;
	}
	return 0;
}

/* view_reply_close - see view_int.h */
void view_reply_close(struct view_reply *r)
{
	sqlite3_finalize(r->msgid);
	sqlite3_finalize(r->parent);
	sqlite3_finalize(r->reply_to);
	explicit_bzero(r->key, sizeof r->key);
	memset(r, 0, sizeof *r);
}

/* text_of - the first column of S's next row as a string, NULL at the end */
static json_t *text_of(sqlite3_stmt *s, int *rc)
{
	*rc = sqlite3_step(s);
	if (*rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
		return json_string((const char *)sqlite3_column_text(s, 0));
	return NULL;
}

/* references - ID and its nearest ancestors into REFS, root first; 0 or -1 */
static int references(struct store *st, struct view_reply *r, const char *id, json_t *refs)
{
	json_t *cur = json_string(id), *up;
	int rc = SQLITE_DONE, n = 0;

	json_array_append(refs, cur);
	while (cur && n++ < VIEW_REPLY_REFS) {
		sqlite3_reset(r->parent);
		sqlite3_bind_text(r->parent, 1, json_string_value(cur), -1, SQLITE_TRANSIENT);
		up = text_of(r->parent, &rc);
		json_decref(cur);
		cur = NULL;
		if (!up)
			break;
		if (json_array_size(refs) > VIEW_REPLY_REFS ||
		    !strcmp(json_string_value(up), id)) {
			json_decref(up);	/* a cycle the container table refused to make */
			break;
		}
		json_array_insert(refs, 0, up);
		cur = up;
	}
	json_decref(cur);
	sqlite3_reset(r->parent);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : view_done(st, rc);
}

/* view_reply_add - see view_int.h */
int view_reply_add(struct store *st, struct view_reply *r, json_t *m, int64_t mid)
{
	json_t *o, *id, *to, *a;
	char tag[STORE_REPLY_TAG_MAX];
	int rc;

	sqlite3_reset(r->msgid);
	sqlite3_bind_int64(r->msgid, 1, mid);
	id = text_of(r->msgid, &rc);
	sqlite3_reset(r->msgid);
	if (!id)
		return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : view_done(st, rc);
	o = json_object();
	json_object_set_new(o, "message_id", id);
	json_object_set_new(o, "references", json_array());
	if (references(st, r, json_string_value(id), json_object_get(o, "references")) < 0) {
		json_decref(o);
		return -1;
	}
	to = json_array();
	sqlite3_reset(r->reply_to);
	sqlite3_bind_int64(r->reply_to, 1, mid);
	while ((a = text_of(r->reply_to, &rc)))
		json_array_append_new(to, a);
	sqlite3_reset(r->reply_to);
	json_object_set_new(o, "reply_to", to);
	store_reply_tag_of(r->key, mid, tag);
	json_object_set_new(o, "tag", json_string(tag));
	json_object_set_new(m, "reply", o);
	return rc == SQLITE_DONE ? 0 : view_done(st, rc);
}
