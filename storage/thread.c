/*
 * thread.c - threading inside the ingest transaction
 *
 * JWZ with a table: message_ids holds one container per Message-ID seen or
 * referenced (a placeholder while its message is unknown), each in a
 * thread, with the msgid of its parent.  A new message M collects the
 * threads of the containers of its own id, its References and In-Reply-To,
 * and of its Outlook Thread-Index key; several threads merge into the
 * oldest (lowest id), none makes a new thread, unless M has no reference
 * headers at all and the guarded subject fallback finds one.  Parents:
 * In-Reply-To when it holds exactly one id, else the last References id;
 * References also chain their own containers.  A parent that would make a
 * cycle is refused.
 *
 * Entry points (store_int.h): store_thread_assign (before the message row
 * exists), store_thread_link_ids (after), store_thread_refresh.
 */
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

/* a small set of thread ids */
struct tset {
	int64_t *v;
	size_t n, cap;
};

/* tset_add - add ID unless present; 0, or -1 when memory runs out */
static int tset_add(struct tset *t, int64_t id)
{
	size_t i;
	int64_t *nv;

	for (i = 0; i < t->n; i++)
		if (t->v[i] == id)
			return 0;
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 8;
		nv = realloc(t->v, t->cap * sizeof *nv);
		if (!nv)
			return -1;
		t->v = nv;
	}
	t->v[t->n++] = id;
	return 0;
}

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
static int collect_id(struct store *st, const char *msgid, struct tset *t)
{
	int64_t tid = 0;
	int rc;

	if (!msgid || !*msgid)
		return STORE_OK;
	rc = container_get(st, msgid, &tid, NULL);
	if (rc == STORE_OK && tid && tset_add(t, tid) < 0)
		rc = store_fail(st, STORE_EINVAL, "%s: out of memory", st->path);
	return rc;
}

/* collect - the threads M is already connected to, by ids and Thread-Index key */
static int collect(struct store *st, const struct mail_record *rec, const char *key,
		   struct tset *t)
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
	if (rc == STORE_OK && tid && tset_add(t, tid) < 0)
		rc = store_fail(st, STORE_EINVAL, "%s: out of memory", st->path);
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

/* thread_has_addr - 1 when ADDR took part in thread TID, 0 if not, -1 on error */
static int thread_has_addr(struct store *st, int64_t tid, const char *addr)
{
	sqlite3_stmt *s = store_stmt(st, S_THREAD_HAS_ADDR);
	int rc;

	if (!s)
		return -1;
	sqlite3_bind_text(s, 1, addr, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, tid);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	store_sqlerr(st, rc, "matching a thread by subject");
	return -1;
}

/*
 * shares_external - 1 when thread TID has an external participant of the
 * item (header addresses or envelope recipients), 0 if not, -1 on error
 */
static int shares_external(struct store *st, const struct store_item *it, int64_t tid)
{
	const struct mail_record *rec = it->rec;
	const struct mail_addrs *lists[] = { &rec->from, &rec->sender, &rec->reply_to,
					     &rec->to, &rec->cc, &rec->bcc };
	size_t l, i;
	int r;

	for (l = 0; l < sizeof lists / sizeof lists[0]; l++)
		for (i = 0; i < lists[l]->n; i++)
			if (addr_external(st, lists[l]->v[i].addr) &&
			    (r = thread_has_addr(st, tid, lists[l]->v[i].addr)) != 0)
				return r;
	for (i = 0; it->env && i < it->env->n_rcpts; i++)
		if (addr_external(st, it->env->rcpts[i]) &&
		    (r = thread_has_addr(st, tid, it->env->rcpts[i])) != 0)
			return r;
	return 0;
}

/*
 * subject_fallback - for a message without reference headers: the most
 * recent thread with the same (non-generic) normalised subject, an external
 * participant in common and activity within 30 days.  *tid 0 when none.
 */
static int subject_fallback(struct store *st, const struct store_item *it, const char *norm,
			    int64_t *tid)
{
	struct tset cand = { 0 };
	sqlite3_stmt *s;
	size_t i;
	int rc = STORE_OK, r;

	*tid = 0;
	if (!norm || !*norm || mail_subject_is_generic(norm))
		return STORE_OK;
	s = store_stmt(st, S_FALLBACK_CANDIDATES);
	if (!s)
		return stmt_err(st);
	sqlite3_bind_text(s, 1, norm, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, it->rec->date);
	sqlite3_bind_int64(s, 3, STORE_FALLBACK_WINDOW);
	while ((r = sqlite3_step(s)) == SQLITE_ROW)
		if (tset_add(&cand, sqlite3_column_int64(s, 0)) < 0)
			break;
	sqlite3_reset(s);
	if (r != SQLITE_DONE)
		rc = r == SQLITE_ROW ? store_fail(st, STORE_EINVAL, "%s: out of memory", st->path)
				     : store_sqlerr(st, r, "matching a thread by subject");
	for (i = 0; rc == STORE_OK && i < cand.n; i++) {
		r = shares_external(st, it, cand.v[i]);
		if (r < 0)
			rc = stmt_err(st);
		else if (r > 0) {
			*tid = cand.v[i];
			break;
		}
	}
	free(cand.v);
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

/* has_refs - 1 when the record has any reference header */
static int has_refs(const struct mail_record *rec)
{
	return rec->n_references > 0 || rec->n_in_reply_to > 0 ||
	       (rec->in_reply_to && *rec->in_reply_to);
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

/* cmp_id - qsort order of thread ids */
static int cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
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
	struct tset t = { 0 };
	size_t i;
	int rc;

	*tid = 0;
	rc = collect(st, rec, key, &t);
	if (rc == STORE_OK && t.n == 0 && !has_refs(rec))
		rc = subject_fallback(st, it, norm, tid);
	if (rc == STORE_OK && t.n == 0 && *tid == 0)
		rc = thread_new(st, rec, norm, tid);
	if (rc == STORE_OK && t.n > 0) {
		qsort(t.v, t.n, sizeof *t.v, cmp_id);
		*tid = t.v[0];
		for (i = 1; rc == STORE_OK && i < t.n; i++)
			rc = merge(st, *tid, t.v[i]);
	}
	if (rc == STORE_OK && key)
		rc = key_insert(st, key, *tid);
	free(t.v);
	free(key);
	free(norm);
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

/*
 * store_thread_link_ids - the containers of a new message MID in thread
 * TID: one per References id (chained in order), one for In-Reply-To, and
 * its own, filled in when it was a placeholder.  Returns STORE_OK or an
 * error class.
 */
int store_thread_link_ids(struct store *st, const struct mail_record *rec, int64_t mid, int64_t tid)
{
	const char *own = rec->message_id, *prev = NULL, *parent = NULL;
	size_t i;
	int rc = STORE_OK;

	for (i = 0; rc == STORE_OK && i < rec->n_references; i++) {
		if (!rec->references[i] || !*rec->references[i] || !strcmp(rec->references[i], own))
			continue;
		rc = ensure_ref(st, rec->references[i], tid, prev);
		prev = rec->references[i];
	}
	if (rc == STORE_OK && rec->in_reply_to && *rec->in_reply_to &&
	    strcmp(rec->in_reply_to, own) != 0)
		rc = ensure_ref(st, rec->in_reply_to, tid, NULL);
	if (rec->n_in_reply_to == 1 && rec->in_reply_to && *rec->in_reply_to)
		parent = rec->in_reply_to;
	else
		parent = prev;
	if (rc == STORE_OK)
		rc = own_container(st, own, parent, mid, tid);
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
