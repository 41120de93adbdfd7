/*
 * view_attach.c - one attachment's bytes for crmview's downloads, behind
 * the same visibility as the thread page
 *
 * Public (store.h): store_view_attachment, store_attachment_free.  The
 * store keeps attachments' names, types, sizes and hashes, never their
 * bytes: those are in the message's raw source.  So a download reads the
 * attachments row with the user's level of its message (VIEW_MSG_LEVEL,
 * view_int.h), and only at "everything" decompresses the raw source and
 * has the mail module parse it again for the part at the row's position
 * (mail_attachment_bytes), whose size and sha256 must be the row's.
 * Nothing is read above STORE_VIEW_ATTACH_MAX.
 */
#include <stdlib.h>
#include <string.h>

#include "view_int.h"

/*
 * the row, its position in its message, the user's level of the message
 * and of the thread, and what the raw table keeps
 */
#define SQL_ATTACHMENT \
	"SELECT a.id, a.message_id, a.filename, a.content_type, a.size, a.sha256," \
	" (SELECT count(*) FROM attachments b WHERE b.message_id = a.message_id AND b.id <= a.id)," \
	" " VIEW_MSG_LEVEL("t", "m") ", " VIEW_LEVEL("t") ", r.mode, r.kept, r.data, r.dict_id" \
	" FROM attachments a JOIN messages m ON m.id = a.message_id" \
	" JOIN threads t ON t.id = m.thread_id LEFT JOIN raw r ON r.message_id = m.id" \
	" WHERE a.id = :aid AND t.id = :id AND t.messages > 0"

/* col_dup - text column I of S as a new string, NULL when NULL */
static char *col_dup(sqlite3_stmt *s, int i)
{
	const char *t = (const char *)sqlite3_column_text(s, i);

	return t ? strdup(t) : NULL;
}

/*
 * part_bytes - the bytes of A (index, size set) from the raw source at
 * columns 9-12 of S, checked against SHA (may be NULL): A's state and
 * data set; -1 when memory runs out
 */
static int part_bytes(struct store *st, sqlite3_stmt *s, struct store_attachment *a,
		      const char *sha)
{
	const char *mode = (const char *)sqlite3_column_text(s, 9);
	size_t kept = (size_t)sqlite3_column_int64(s, 10);
	struct mail_part_bytes pb;
	char *raw;
	int rc;

	if (!mode || strcmp(mode, "full") != 0 || sqlite3_column_type(s, 11) == SQLITE_NULL ||
	    kept == 0) {
		a->state = STORE_ATTACH_NOT_KEPT;
		return 0;
	}
	if (kept > STORE_VIEW_ATTACH_MAX || a->size > STORE_VIEW_ATTACH_MAX) {
		a->state = STORE_ATTACH_TOO_LARGE;
		return 0;
	}
	raw = store_zdecompress(st, sqlite3_column_blob(s, 11), (size_t)sqlite3_column_bytes(s, 11),
				kept, sqlite3_column_int64(s, 12));
	if (!raw) {
		a->state = STORE_ATTACH_CHANGED;
		return 0;
	}
	rc = mail_attachment_bytes(raw, kept, (size_t)a->index - 1, &pb);
	free(raw);
	if (rc < 0)
		return -1;
	if (rc > 0 || pb.len != a->size || (sha && strcmp(sha, pb.sha256) != 0)) {
		free(pb.data);
		a->state = STORE_ATTACH_CHANGED;
		return 0;
	}
	a->data = pb.data;
	a->len = pb.len;
	a->state = STORE_ATTACH_OK;
	return 0;
}

/* attachment_of - the record of the row at S, NULL when memory runs out */
static struct store_attachment *attachment_of(struct store *st, sqlite3_stmt *s)
{
	struct store_attachment *a = calloc(1, sizeof *a);
	int level = sqlite3_column_int(s, 7);

	if (!a)
		return NULL;
	a->id = sqlite3_column_int64(s, 0);
	a->message_id = sqlite3_column_int64(s, 1);
	a->size = (uint64_t)sqlite3_column_int64(s, 4);
	a->index = sqlite3_column_int(s, 6);
	a->access = view_level_name(level);
	a->thread_access = view_level_name(sqlite3_column_int(s, 8));
	if (level < VIEW_EVERYTHING) {
		a->state = STORE_ATTACH_HIDDEN;
		return a;
	}
	a->filename = col_dup(s, 2);
	a->content_type = col_dup(s, 3);
	if ((sqlite3_column_type(s, 3) != SQLITE_NULL && !a->content_type) ||
	    (sqlite3_column_type(s, 2) != SQLITE_NULL && !a->filename) ||
	    part_bytes(st, s, a, (const char *)sqlite3_column_text(s, 5)) < 0) {
		store_attachment_free(a);
		return NULL;
	}
	return a;
}

/* store_view_attachment - one attachment for a download; see store.h */
int store_view_attachment(struct store *st, const struct store_viewer *who, int64_t tid,
			  int64_t aid, struct store_attachment **out, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	int rc, i;

	*out = NULL;
	view_begin(st, err, errlen, NULL);
	s = view_prep(st, SQL_ATTACHMENT, who);
	if (!s)
		return view_end(st, view_errclass(st));
	view_bind_id(s, tid);
	if ((i = sqlite3_bind_parameter_index(s, ":aid")))
		sqlite3_bind_int64(s, i, aid);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && sqlite3_column_int(s, 7) > 0) {
		*out = attachment_of(st, s);
		if (!*out) {
			sqlite3_finalize(s);
			return view_end(st, store_fail(st, STORE_EINVAL, "%s: out of memory", st->path));
		}
		(*out)->thread_id = tid;
	}
	sqlite3_finalize(s);
	if (rc == SQLITE_ROW || view_done(st, rc) == 0)
		return view_end(st, STORE_OK);
	return view_end(st, view_errclass(st));
}

/* store_attachment_free - free A and its bytes */
void store_attachment_free(struct store_attachment *a)
{
	if (!a)
		return;
	free(a->filename);
	free(a->content_type);
	free(a->data);
	free(a);
}
