/*
 * thread.c - threading inside the ingest transaction
 *
 * JWZ with a table: message_ids holds one container per Message-ID seen or
 * referenced (a placeholder while its message is unknown), each in a
 * thread, with the msgid of its parent.  A new message M collects the
 * threads of the containers of its own id, its References and In-Reply-To,
 * of its Outlook Thread-Index key, and of the stored messages it joins by
 * subject; several threads merge into the oldest (lowest id), none makes
 * a new thread.  Parents: In-Reply-To when it holds exactly one id, else
 * the last References id; References chain their own containers, and an
 * In-Reply-To they do not name hangs under the last of them.  A parent
 * that would make a cycle is refused.
 *
 * Threads do not depend on the order mail arrives in: each rule is a
 * relation between two messages, and a thread is a connected set of
 * messages under them.  The relations: a shared id or Thread-Index key;
 * or, the subject fallback, the same subject key, at most 30 days apart,
 * an external participant in common, and no reference headers on the
 * later of the two by Date (a message without them finds the earlier
 * conversation it follows; one with them never looks back by subject).
 * Each arrival merges every thread it relates to, so the same messages
 * make the same threads whatever their order; only the thread ids (given
 * in order of arrival) differ.  Generic and placeholder subjects have no
 * subject key (store_subject_key) and never join threads.
 *
 * Entry points (store_int.h): store_thread_assign (before the message row
 * exists), store_thread_link_ids (after), store_thread_refresh,
 * store_thread_changed and store_threads_refresh, store_subject_key.
 */
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

/* stmt_err - the class of the connection's last error (after a failed prepare) */
static int stmt_err(struct store *st)
{
	int c = store_class_of(sqlite3_errcode(st->db));

	return c == STORE_OK ? STORE_EINVAL : c;
}

/*
 * container_get - look up the container of MSGID.  Returns STORE_OK with
 * *tid 0 when there is none; *parent (may be NULL) gets a copy of its
 * parent msgid, which the caller frees.
 */
static int container_get(struct store *st, const char *msgid, int64_t *tid, char **parent)
{
	sqlite3_stmt *s = store_stmt(st, S_CONT_GET);
	const unsigned char *p;
	int rc;

	*tid = 0;
	if (parent)
		*parent = NULL;
	if (!s)
		return stmt_err(st);
	sqlite3_bind_text(s, 1, msgid, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*tid = sqlite3_column_int64(s, 0);
		p = sqlite3_column_text(s, 1);
		if (parent && p && !(*parent = strdup((const char *)p)))
			rc = SQLITE_NOMEM;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_sqlerr(st, rc, "looking up a message id");
	return STORE_OK;
}

/* key_get - the thread of a Thread-Index key, 0 when unknown */
static int key_get(struct store *st, const char *key, int64_t *tid)
{
	sqlite3_stmt *s = store_stmt(st, S_KEY_GET);
	int rc;

	*tid = 0;
	if (!s)
		return stmt_err(st);
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*tid = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_sqlerr(st, rc, "looking up a thread key");
	return STORE_OK;
}

/* collect_id - add the thread of MSGID's container (if any) to T */
static int collect_id(struct store *st, const char *msgid, struct store_ids *t)
{
	int64_t tid = 0;
	int rc;

	if (!msgid || !*msgid)
		return STORE_OK;
	rc = container_get(st, msgid, &tid, NULL);
	if (rc == STORE_OK && tid)
		rc = store_ids_add(st, t, tid);
	return rc;
}

/* collect - the threads M is already connected to, by ids and Thread-Index key */
static int collect(struct store *st, const struct mail_record *rec, const char *key,
		   struct store_ids *t)
{
	int64_t tid = 0;
	size_t i;
	int rc;

	rc = collect_id(st, rec->message_id, t);
	for (i = 0; rc == STORE_OK && i < rec->n_references; i++)
		rc = collect_id(st, rec->references[i], t);
	if (rc == STORE_OK)
		rc = collect_id(st, rec->in_reply_to, t);
	if (rc == STORE_OK && key)
		rc = key_get(st, key, &tid);
	if (rc == STORE_OK && tid)
		rc = store_ids_add(st, t, tid);
	return rc;
}

/* run2 - run a statement that takes two integer parameters */
static int run2(struct store *st, enum stmt_id id, int64_t a, int64_t b, const char *what)
{
	sqlite3_stmt *s = store_stmt(st, id);

	if (!s)
		return stmt_err(st);
	sqlite3_bind_int64(s, 1, a);
	sqlite3_bind_int64(s, 2, b);
	return store_step_done(st, s, what);
}

/*
 * merge_visibility - narrow thread INTO by the visibility of thread FROM
 * (store_thread_narrow: the merged thread is the meet of both, so a merge
 * never shows either thread's messages to anyone who could not see them)
 */
static int merge_visibility(struct store *st, int64_t into, int64_t from)
{
	sqlite3_stmt *s = store_stmt(st, S_MERGE_VIS);
	char *in = NULL, *out = NULL, *why = NULL;
	int64_t rule = 0;
	int rc;

	if (!s)
		return stmt_err(st);
	sqlite3_bind_int64(s, 1, from);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		in = strdup((const char *)sqlite3_column_text(s, 0));
		out = strdup((const char *)sqlite3_column_text(s, 1));
		if (sqlite3_column_type(s, 2) != SQLITE_NULL)
			why = strdup((const char *)sqlite3_column_text(s, 2));
		rule = sqlite3_column_int64(s, 3);
	}
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		rc = in && out ? store_thread_narrow(st, into, in, out, why, rule)
			       : store_fail(st, STORE_EIO, "out of memory merging threads");
	else
		rc = rc == SQLITE_DONE ? STORE_OK : store_sqlerr(st, rc, "merging threads");
	free(in);
	free(out);
	free(why);
	return rc;
}

/*
 * merge - move everything of thread FROM into thread INTO and delete FROM:
 * messages, containers, Thread-Index keys, links (a link INTO already has
 * is dropped), and FROM's visibility (merge_visibility).  INTO's counts
 * are recomputed later by store_thread_refresh.
 */
static int merge(struct store *st, int64_t into, int64_t from)
{
	int rc;

	rc = run2(st, S_MERGE_MSGS, into, from, "merging threads");
	if (rc == STORE_OK)
		rc = run2(st, S_MERGE_CONTS, into, from, "merging threads");
	if (rc == STORE_OK)
		rc = run2(st, S_MERGE_KEYS, into, from, "merging threads");
	if (rc == STORE_OK)
		rc = run2(st, S_MERGE_LINKS, into, from, "merging threads");
	if (rc == STORE_OK)
		rc = merge_visibility(st, into, from);
	if (rc == STORE_OK)	/* a legal hold follows its thread (purge.c) */
		rc = run2(st, S_MERGE_HOLDS, into, from, "merging threads");
	if (rc == STORE_OK)
		rc = run2(st, S_LINKS_DELETE, from, 0, "merging threads");
	if (rc == STORE_OK)
		rc = run2(st, S_THREAD_DELETE, from, 0, "merging threads");
	return rc;
}

/* addr_external - 1 when A holds an address that is not internal */
static int addr_external(const struct store *st, const char *a)
{
	return a && *a && !store_is_internal(st, a);
}

/*
 * store_subject_key - the key a message joins threads by subject: its
 * normalised subject, or NULL when that is generic or a placeholder
 * (mail_subject_is_generic) or memory runs out.  The caller frees it.
 */
char *store_subject_key(const char *subject)
{
	char *norm = mail_subject_normalise(subject ? subject : "");

	if (norm && mail_subject_is_generic(norm)) {
		free(norm);
		norm = NULL;
	}
	return norm;
}

/*
 * external_json - a JSON array of the item's external addresses (header
 * addresses and envelope recipients), for json_each; an address that is
 * not UTF-8 is left out (jansson refuses it).  NULL when memory runs out;
 * the caller frees it.
 */
static char *external_json(const struct store *st, const struct store_item *it)
{
	const struct mail_record *rec = it->rec;
	const struct mail_addrs *lists[] = { &rec->from, &rec->sender, &rec->reply_to,
					     &rec->to, &rec->cc, &rec->bcc };
	json_t *a = json_array();
	char *out = NULL;
	size_t l, i;

	if (!a)
		return NULL;
	for (l = 0; l < sizeof lists / sizeof lists[0]; l++)
		for (i = 0; i < lists[l]->n; i++)
			if (addr_external(st, lists[l]->v[i].addr))
				json_array_append_new(a, json_string(lists[l]->v[i].addr));
	for (i = 0; it->env && i < it->env->n_rcpts; i++)
		if (addr_external(st, it->env->rcpts[i]))
			json_array_append_new(a, json_string(it->env->rcpts[i]));
	out = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return out;
}

/* has_refs - 1 when the record has any reference header */
static int has_refs(const struct mail_record *rec)
{
	return rec->n_references > 0 || rec->n_in_reply_to > 0 ||
	       (rec->in_reply_to && *rec->in_reply_to);
}

/*
 * collect_subject - the subject fallback: add to T the thread of every
 * stored message N with subject key SKEY, dated at most 30 days from the
 * item, sharing an external participant with it, where the later of the
 * two (by date, then Message-ID) has no reference headers.  The relation
 * is the same seen from either message, so it does not matter which of
 * them came first.
 */
static int collect_subject(struct store *st, const struct store_item *it, const char *skey,
			   struct store_ids *t)
{
	char *people = external_json(st, it);
	sqlite3_stmt *s;
	int rc = STORE_OK, r;

	if (!people)
		return store_fail(st, STORE_EINVAL, "%s: out of memory", st->path);
	s = store_stmt(st, S_SUBJECT_THREADS);
	if (!s) {
		free(people);
		return stmt_err(st);
	}
	sqlite3_bind_text(s, 1, skey, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, it->rec->date);
	sqlite3_bind_int64(s, 3, STORE_FALLBACK_WINDOW);
	sqlite3_bind_text(s, 4, it->rec->message_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 5, has_refs(it->rec));
	sqlite3_bind_text(s, 6, people, -1, SQLITE_STATIC);
	while (rc == STORE_OK && (r = sqlite3_step(s)) == SQLITE_ROW)
		rc = store_ids_add(st, t, sqlite3_column_int64(s, 0));
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc == STORE_OK && r != SQLITE_DONE)
		rc = store_sqlerr(st, r, "matching threads by subject");
	free(people);
	return rc;
}

/* thread_new - a new, empty thread; store_thread_refresh fills it in */
static int thread_new(struct store *st, const struct mail_record *rec, const char *norm,
		      int64_t *tid)
{
	sqlite3_stmt *s = store_stmt(st, S_THREAD_NEW);
	int rc;

	if (!s)
		return stmt_err(st);
	sqlite3_bind_text(s, 1, rec->subject ? rec->subject : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, norm ? norm : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, rec->date);
	rc = store_step_done(st, s, "creating a thread");
	*tid = sqlite3_last_insert_rowid(st->db);
	return rc;
}

/* key_insert - remember the Thread-Index key of thread TID */
static int key_insert(struct store *st, const char *key, int64_t tid)
{
	sqlite3_stmt *s = store_stmt(st, S_KEY_INSERT);

	if (!s)
		return stmt_err(st);
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, tid);
	return store_step_done(st, s, "storing a thread key");
}

/*
 * store_thread_assign - choose the thread of a new message (merging the
 * threads it connects), and record its Thread-Index key.  Returns
 * STORE_OK with *tid, or an error class.
 */
int store_thread_assign(struct store *st, const struct store_item *it, int64_t *tid)
{
	const struct mail_record *rec = it->rec;
	char *key = mail_thread_index_key(rec->hdr.thread_index);
	char *norm = mail_subject_normalise(rec->subject ? rec->subject : "");
	char *skey = store_subject_key(rec->subject);
	struct store_ids t = { 0 };
	size_t i;
	int rc;

	*tid = 0;
	rc = collect(st, rec, key, &t);
	if (rc == STORE_OK && skey)
		rc = collect_subject(st, it, skey, &t);
	if (rc == STORE_OK && t.n == 0)
		rc = thread_new(st, rec, norm, tid);
	if (rc == STORE_OK && t.n > 0) {
		store_ids_sort(&t);
		*tid = t.v[0];
		for (i = 1; rc == STORE_OK && i < t.n; i++)
			rc = merge(st, *tid, t.v[i]);
	}
	if (rc == STORE_OK && key)
		rc = key_insert(st, key, *tid);
	store_ids_free(&t);
	free(key);
	free(norm);
	free(skey);
	return rc;
}

/*
 * leads_to - 1 when walking up from FROM (bounded) reaches TARGET, or the
 * walk is too long to tell; 0 when it ends; -1 on error
 */
static int leads_to(struct store *st, const char *from, const char *target)
{
	char *cur = from ? strdup(from) : NULL, *next = NULL;
	int64_t tid;
	int steps, r = 0;

	if (from && !cur)
		return -1;
	for (steps = 0; cur; steps++) {
		if (strcmp(cur, target) == 0 || steps >= STORE_MAX_PARENT_WALK) {
			r = 1;
			break;
		}
		if (container_get(st, cur, &tid, &next) != STORE_OK) {
			r = -1;
			break;
		}
		free(cur);
		cur = next;
		next = NULL;
	}
	free(cur);
	return r;
}

/* safe_parent - PARENT when making it MSGID's parent makes no cycle, else NULL */
static const char *safe_parent(struct store *st, const char *msgid, const char *parent, int *rc)
{
	int r;

	if (!parent || !*parent || strcmp(parent, msgid) == 0)
		return NULL;
	r = leads_to(st, parent, msgid);
	if (r < 0)
		*rc = stmt_err(st);
	return r == 0 ? parent : NULL;
}

/* bind_opt - bind text or NULL */
static void bind_opt(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i);
}

/* container_insert - a new container (MID 0: placeholder) */
static int container_insert(struct store *st, const char *msgid, int64_t tid, const char *parent,
			    int64_t mid)
{
	sqlite3_stmt *s = store_stmt(st, S_CONT_INSERT);

	if (!s)
		return stmt_err(st);
	sqlite3_bind_text(s, 1, msgid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, tid);
	bind_opt(s, 3, parent);
	if (mid)
		sqlite3_bind_int64(s, 4, mid);
	return store_step_done(st, s, "storing a message id");
}

/* container_move - put the container of MSGID in thread TID */
static int container_move(struct store *st, const char *msgid, int64_t tid)
{
	sqlite3_stmt *s = store_stmt(st, S_CONT_SET_THREAD);

	if (!s)
		return stmt_err(st);
	sqlite3_bind_text(s, 1, msgid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, tid);
	return store_step_done(st, s, "moving a message id");
}

/*
 * ensure_ref - make sure the referenced MSGID has a container in TID; give
 * it PARENT when it has none yet and no cycle follows
 */
static int ensure_ref(struct store *st, const char *msgid, int64_t tid, const char *parent)
{
	char *old = NULL;
	const char *p;
	int64_t cur = 0;
	sqlite3_stmt *s;
	int rc;

	rc = container_get(st, msgid, &cur, &old);
	if (rc != STORE_OK)
		return rc;
	p = safe_parent(st, msgid, parent, &rc);
	if (rc == STORE_OK && !cur)
		rc = container_insert(st, msgid, tid, p, 0);
	else if (rc == STORE_OK && cur != tid)
		rc = container_move(st, msgid, tid);
	if (rc == STORE_OK && cur && !old && p) {
		s = store_stmt(st, S_CONT_SET_PARENT);
		if (!s) {
			rc = stmt_err(st);
		} else {
			sqlite3_bind_text(s, 1, msgid, -1, SQLITE_STATIC);
			sqlite3_bind_text(s, 2, p, -1, SQLITE_STATIC);
			rc = store_step_done(st, s, "linking a message id");
		}
	}
	free(old);
	return rc;
}

/* own_container - the container of the message itself: filled or created */
static int own_container(struct store *st, const char *msgid, const char *parent, int64_t mid,
			 int64_t tid)
{
	char *old = NULL;
	const char *p;
	int64_t cur = 0;
	sqlite3_stmt *s;
	int rc;

	rc = container_get(st, msgid, &cur, &old);
	if (rc != STORE_OK)
		return rc;
	p = safe_parent(st, msgid, parent, &rc);
	if (rc == STORE_OK && !p)
		p = old;
	if (rc == STORE_OK && !cur) {
		rc = container_insert(st, msgid, tid, p, mid);
	} else if (rc == STORE_OK) {
		s = store_stmt(st, S_CONT_FILL);
		if (!s) {
			rc = stmt_err(st);
		} else {
			sqlite3_bind_text(s, 1, msgid, -1, SQLITE_STATIC);
			sqlite3_bind_int64(s, 2, mid);
			sqlite3_bind_int64(s, 3, tid);
			bind_opt(s, 4, p);
			rc = store_step_done(st, s, "storing a message id");
		}
	}
	free(old);
	return rc;
}

/* names_ref - 1 when MSGID is one of the record's References ids */
static int names_ref(const struct mail_record *rec, const char *msgid)
{
	for (size_t i = 0; i < rec->n_references; i++)
		if (rec->references[i] && strcmp(rec->references[i], msgid) == 0)
			return 1;
	return 0;
}

/* subject_key_set - record message MID's subject key and whether it has reference headers */
static int subject_key_set(struct store *st, const struct mail_record *rec, int64_t mid)
{
	sqlite3_stmt *s = store_stmt(st, S_MSG_SUBJECT_KEY);
	char *skey;
	int rc;

	if (!s)
		return stmt_err(st);
	skey = store_subject_key(rec->subject);
	sqlite3_bind_int64(s, 1, mid);
	bind_opt(s, 2, skey);
	sqlite3_bind_int(s, 3, has_refs(rec));
	rc = store_step_done(st, s, "storing a subject key");
	free(skey);
	return rc;
}

/*
 * store_thread_link_ids - the containers of a new message MID in thread
 * TID: one per References id (chained in order), one for In-Reply-To
 * (under the last References id when they do not name it, as JWZ
 * appends it to them), and its own, filled in when it was a placeholder;
 * and the message's subject key.  Returns STORE_OK or an error class.
 */
int store_thread_link_ids(struct store *st, const struct mail_record *rec, int64_t mid, int64_t tid)
{
	const char *own = rec->message_id, *prev = NULL, *parent = NULL;
	const char *irt = rec->in_reply_to;
	size_t i;
	int rc = STORE_OK;

	for (i = 0; rc == STORE_OK && i < rec->n_references; i++) {
		if (!rec->references[i] || !*rec->references[i] || !strcmp(rec->references[i], own))
			continue;
		rc = ensure_ref(st, rec->references[i], tid, prev);
		prev = rec->references[i];
	}
	if (rc == STORE_OK && irt && *irt && strcmp(irt, own) != 0)
		rc = ensure_ref(st, irt, tid,
				rec->n_in_reply_to == 1 && !names_ref(rec, irt) ? prev : NULL);
	if (rec->n_in_reply_to == 1 && irt && *irt)
		parent = irt;
	else
		parent = prev;
	if (rc == STORE_OK)
		rc = own_container(st, own, parent, mid, tid);
	if (rc == STORE_OK)
		rc = subject_key_set(st, rec, mid);
	return rc;
}

/*
 * store_thread_refresh - recompute a thread's subject (its earliest
 * message's), normalised subject, message count and first/last dates
 */
int store_thread_refresh(struct store *st, int64_t tid)
{
	sqlite3_stmt *s = store_stmt(st, S_THREAD_EARLIEST);
	char *subject = NULL, *norm = NULL;
	int rc;

	if (!s)
		return stmt_err(st);
	sqlite3_bind_int64(s, 1, tid);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		subject = strdup((const char *)sqlite3_column_text(s, 0));
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		rc = store_sqlerr(st, rc, "reading a thread");
		goto out;
	}
	norm = mail_subject_normalise(subject ? subject : "");
	s = store_stmt(st, S_THREAD_UPDATE);
	if (!s) {
		rc = stmt_err(st);
		goto out;
	}
	sqlite3_bind_int64(s, 1, tid);
	sqlite3_bind_text(s, 2, subject ? subject : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, norm ? norm : "", -1, SQLITE_STATIC);
	rc = store_step_done(st, s, "updating a thread");
out:
	free(subject);
	free(norm);
	return rc;
}

/* store_thread_changed - see store_int.h */
int store_thread_changed(struct store *st, int64_t tid)
{
	return store_ids_add(st, &st->changed, tid);
}

/* store_threads_refresh - see store_int.h */
int store_threads_refresh(struct store *st)
{
	int rc = STORE_OK;

	store_ids_sort(&st->changed);
	for (size_t i = 0; rc == STORE_OK && i < st->changed.n; i++)
		rc = store_thread_refresh(st, st->changed.v[i]);
	st->changed.n = 0;
	return rc;
}
