/*
 * ingest.c - store_ingest(): write a batch of parsed messages in one
 * transaction
 *
 * Per item: dedupe on the Message-ID (or the synthetic id mail_parse made),
 * then for a new message its thread (thread.c), the messages row with the
 * zstd-compressed body, participants, attachments, source, raw source and
 * the FTS5 row; for a copy already stored only its source and envelope
 * recipients.  A message the rules skip is only a metadata row (decide.c),
 * and so is one whose internal participants are all disconnected mailboxes
 * (mailbox.c; the set is read once per batch, inside its transaction).
 * Then the rules' decisions (decide.c, contact.c).  At the end the
 * counts of every contact the batch touched are recomputed and the
 * transaction commits; any error rolls the whole batch back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

/* a growing string for the FTS participants column */
struct sbuf {
	char *p;
	size_t len, cap;
};

/* sbuf_add - append S and a space; 0, or -1 when memory runs out */
static int sbuf_add(struct sbuf *b, const char *s)
{
	size_t n = strlen(s);
	char *np;

	if (b->len + n + 2 > b->cap) {
		size_t cap = (b->cap ? b->cap * 2 : 256) + n + 2;

		np = realloc(b->p, cap);
		if (!np)
			return -1;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len++] = ' ';
	b->p[b->len] = '\0';
	return 0;
}

/* direction_name - the word stored for a direction */
static const char *direction_name(enum store_direction d)
{
	return d == STORE_OUTBOUND ? "outbound" : d == STORE_INTERNAL ? "internal" : "inbound";
}

/* set_str - add KEY: VALUE to OBJ when VALUE is not NULL */
static void set_str(json_t *obj, const char *key, const char *value)
{
	if (value)
		json_object_set_new(obj, key, json_string(value));
}

/*
 * headers_json - the decision headers as compact JSON text, or NULL when
 * there are none.  The caller frees the result with free().
 */
static char *headers_json(const struct mail_headers *h)
{
	json_t *o = json_object(), *a;
	char *s = NULL;
	size_t i;

	if (!o)
		return NULL;
	set_str(o, "list_id", h->list_id);
	set_str(o, "list_unsubscribe", h->list_unsubscribe);
	set_str(o, "precedence", h->precedence);
	set_str(o, "auto_submitted", h->auto_submitted);
	set_str(o, "x_auto_response_suppress", h->x_auto_response_suppress);
	set_str(o, "sensitivity", h->sensitivity);
	set_str(o, "thread_index", h->thread_index);
	set_str(o, "return_path", h->return_path);
	if (h->n_auth_results) {
		a = json_array();
		for (i = 0; i < h->n_auth_results; i++)
			if (h->auth_results[i])
				json_array_append_new(a, json_string(h->auth_results[i]));
		json_object_set_new(o, "auth_results", a);
	}
	if (json_object_size(o))
		s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return s;
}

/* quotes_json - "[[start,len],...]" or NULL when none; free() the result */
static char *quotes_json(const struct mail_record *rec)
{
	json_t *a;
	char *s;
	size_t i;

	if (!rec->n_quotes)
		return NULL;
	a = json_array();
	for (i = 0; i < rec->n_quotes; i++)
		json_array_append_new(a, json_pack("[I,I]", (json_int_t)rec->quotes[i].start,
						   (json_int_t)rec->quotes[i].len));
	s = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return s;
}

/* warnings_json - the parser warnings as a JSON array, or NULL; free() the result */
static char *warnings_json(const struct mail_record *rec)
{
	json_t *a;
	char *s;
	size_t i;

	if (!rec->n_warnings)
		return NULL;
	a = json_array();
	for (i = 0; i < rec->n_warnings; i++)
		if (rec->warnings[i])
			json_array_append_new(a, json_string(rec->warnings[i]));
	s = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return s;
}

/*
 * body_in_raw - 1 when the full raw source is kept and the body text is
 * the bytes right after the header block (plain text mail), so it need
 * not be stored twice: it is read back from raw at offset header_len
 */
static int body_in_raw(const struct store *st, const struct store_item *it)
{
	const struct mail_record *rec = it->rec;

	return st->raw == STORE_RAW_FULL && it->raw && rec->body_len > 0 &&
	       rec->header_len <= it->raw_len && it->raw_len - rec->header_len >= rec->body_len &&
	       memcmp(it->raw + rec->header_len, rec->body, rec->body_len) == 0;
}

/* bind_text - bind S (or NULL) as text, static: S must outlive the step */
static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i);
}

/*
 * message_insert - the messages row of a new message in thread TID.
 * Returns STORE_OK with its id in *mid, or an error class.
 */
static int message_insert(struct store *st, const struct store_item *it, int64_t tid, int64_t *mid)
{
	const struct mail_record *rec = it->rec;
	char *hdrs = headers_json(&rec->hdr), *quotes = quotes_json(rec);
	char *warn = warnings_json(rec);
	const void *z = NULL;
	size_t zlen = 0;
	int64_t dict = 0;
	int in_raw = body_in_raw(st, it), rc = STORE_OK;
	sqlite3_stmt *s;

	if (rec->body_len > 0 && !in_raw)
		rc = store_zcompress(st, rec->body, rec->body_len, &z, &zlen, &dict);
	if (rc != STORE_OK)
		goto out;
	s = store_stmt(st, S_MSG_INSERT);
	if (!s) {
		rc = store_class_of(sqlite3_errcode(st->db));
		goto out;
	}
	bind_text(s, 1, rec->message_id);
	sqlite3_bind_int64(s, 2, tid);
	sqlite3_bind_int64(s, 3, rec->date);
	bind_text(s, 4, rec->subject ? rec->subject : "");
	bind_text(s, 5, direction_name(it->direction));
	sqlite3_bind_int64(s, 6, (sqlite3_int64)rec->size);
	sqlite3_bind_int64(s, 7, rec->flags);
	if (z)
		sqlite3_bind_blob(s, 8, z, (int)zlen, SQLITE_STATIC);
	if (dict)
		sqlite3_bind_int64(s, 16, dict);
	sqlite3_bind_int64(s, 9, (sqlite3_int64)rec->body_len);
	if (in_raw)
		sqlite3_bind_int64(s, 10, (sqlite3_int64)rec->header_len);
	/* column 11, the snippet, stays NULL: reads rebuild it from the body
	 * with mail_snippet(), the parser's own rule, saving its bytes */
	bind_text(s, 12, quotes);
	bind_text(s, 13, rec->in_reply_to);
	bind_text(s, 14, hdrs);
	bind_text(s, 15, warn);
	rc = store_step_done(st, s, "inserting a message");
	sqlite3_clear_bindings(s);
	*mid = sqlite3_last_insert_rowid(st->db);
out:
	free(hdrs);
	free(quotes);
	free(warn);
	return rc;
}

/* part_insert - one participants row (ignored when already there) */
static int part_insert(struct store *st, int64_t mid, const char *role, const char *addr,
		       const char *name, size_t pos)
{
	sqlite3_stmt *s = store_stmt(st, S_PART_INSERT);

	if (!s)
		return store_class_of(sqlite3_errcode(st->db));
	sqlite3_bind_int64(s, 1, mid);
	bind_text(s, 2, role);
	bind_text(s, 3, addr);
	bind_text(s, 4, name && *name ? name : NULL);
	sqlite3_bind_int64(s, 5, (sqlite3_int64)pos);
	return store_step_done(st, s, "inserting a participant");
}

/*
 * parts_insert - the header participants of a new message; their names
 * and addresses are appended to PEOPLE for the FTS row
 */
static int parts_insert(struct store *st, const struct mail_record *rec, int64_t mid,
			struct sbuf *people)
{
	const struct { const char *role; const struct mail_addrs *list; } roles[] = {
		{ "from", &rec->from }, { "sender", &rec->sender }, { "reply-to", &rec->reply_to },
		{ "to", &rec->to }, { "cc", &rec->cc }, { "bcc", &rec->bcc },
	};
	const struct mail_addr *a;
	size_t r, i;
	int rc;

	for (r = 0; r < sizeof roles / sizeof roles[0]; r++) {
		for (i = 0; i < roles[r].list->n; i++) {
			a = &roles[r].list->v[i];
			if (!a->addr || !*a->addr)
				continue;
			rc = part_insert(st, mid, roles[r].role, a->addr, a->name, i);
			if (rc != STORE_OK)
				return rc;
			if ((a->name && sbuf_add(people, a->name) < 0) || sbuf_add(people, a->addr) < 0)
				return store_fail(st, STORE_EINVAL, "%s: out of memory", st->path);
		}
	}
	return STORE_OK;
}

/*
 * env_rcpts_insert - the envelope recipients of one copy, role
 * envelope-rcpt; *added (may be NULL) counts the rows that were new
 */
static int env_rcpts_insert(struct store *st, const struct store_envelope *env, int64_t mid,
			    struct sbuf *people, int *added)
{
	size_t i;
	int rc;

	for (i = 0; env && i < env->n_rcpts; i++) {
		if (!env->rcpts[i] || !*env->rcpts[i])
			continue;
		rc = part_insert(st, mid, "envelope-rcpt", env->rcpts[i], NULL, i);
		if (rc != STORE_OK)
			return rc;
		if (added)
			*added += sqlite3_changes(st->db);
		if (people && sbuf_add(people, env->rcpts[i]) < 0)
			return store_fail(st, STORE_EINVAL, "%s: out of memory", st->path);
	}
	return STORE_OK;
}

/* atts_insert - the attachments rows of a new message */
static int atts_insert(struct store *st, const struct mail_record *rec, int64_t mid)
{
	const struct mail_attachment *a;
	sqlite3_stmt *s;
	size_t i;
	int rc;

	for (i = 0; i < rec->n_attachments; i++) {
		a = &rec->attachments[i];
		s = store_stmt(st, S_ATT_INSERT);
		if (!s)
			return store_class_of(sqlite3_errcode(st->db));
		sqlite3_bind_int64(s, 1, mid);
		bind_text(s, 2, a->filename);
		bind_text(s, 3, a->content_type);
		sqlite3_bind_int64(s, 4, (sqlite3_int64)a->size);
		bind_text(s, 5, a->sha256[0] ? a->sha256 : NULL);
		rc = store_step_done(st, s, "inserting an attachment");
		if (rc != STORE_OK)
			return rc;
	}
	return STORE_OK;
}

/* source_insert - the message_sources row of this copy, when new */
static int source_insert(struct store *st, const struct store_item *it, int64_t mid)
{
	const struct store_envelope *e = it->env;
	sqlite3_stmt *s = store_stmt(st, S_SOURCE_INSERT);

	if (!s)
		return store_class_of(sqlite3_errcode(st->db));
	sqlite3_bind_int64(s, 1, mid);
	bind_text(s, 2, it->source == STORE_SRC_MILTER ? "milter" : "import");
	bind_text(s, 3, it->origin ? it->origin : "");
	if (e) {
		bind_text(s, 4, e->queue_id);
		bind_text(s, 5, e->mail_from);
		bind_text(s, 6, e->client_addr);
		bind_text(s, 7, e->client_name);
		bind_text(s, 8, e->auth_authen);
		bind_text(s, 9, e->daemon_name);
		if (e->arrival)
			sqlite3_bind_int64(s, 10, e->arrival);
	}
	return store_step_done(st, s, "inserting a message source");
}

/* raw_insert - the raw row: what store_opts.raw keeps, zstd-compressed */
static int raw_insert(struct store *st, const struct store_item *it, int64_t mid)
{
	static const char *const mode[] = { "full", "headers", "none" };
	size_t keep = 0, zlen = 0;
	const void *z = NULL;
	int64_t dict = 0;
	sqlite3_stmt *s;
	int rc;

	if (it->raw && st->raw == STORE_RAW_FULL)
		keep = it->raw_len;
	else if (it->raw && st->raw == STORE_RAW_HEADERS)
		keep = it->rec->header_len < it->raw_len ? it->rec->header_len : it->raw_len;
	if (keep && it->raw_z && keep == it->raw_len && it->raw_zdict &&
	    it->raw_zdict == store_zdict_id(st->zdict)) {
		z = it->raw_z;	/* compressed on a parsing thread with this dictionary */
		zlen = it->raw_zlen;
		dict = it->raw_zdict;
	} else if (keep) {
		rc = store_zcompress(st, it->raw, keep, &z, &zlen, &dict);
		if (rc != STORE_OK)
			return rc;
	}
	s = store_stmt(st, S_RAW_INSERT);
	if (!s)
		return store_class_of(sqlite3_errcode(st->db));
	sqlite3_bind_int64(s, 1, mid);
	bind_text(s, 2, mode[st->raw <= STORE_RAW_NONE ? st->raw : STORE_RAW_NONE]);
	sqlite3_bind_int64(s, 3, it->raw ? (sqlite3_int64)it->raw_len : (sqlite3_int64)it->rec->size);
	if (z)
		sqlite3_bind_blob(s, 4, z, (int)zlen, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, (sqlite3_int64)keep);
	if (dict)
		sqlite3_bind_int64(s, 6, dict);
	rc = store_step_done(st, s, "inserting the raw source");
	sqlite3_clear_bindings(s);
	return rc;
}

/*
 * unquoted - the body without its quoted history (which the quoted
 * messages index themselves): a new string, or NULL when there are no
 * quotes (use the body) or memory runs out (*oom set)
 */
static char *unquoted(const struct mail_record *rec, size_t *len, int *oom)
{
	size_t i, pos = 0, start, end;
	char *out;

	*oom = 0;
	if (!rec->n_quotes || !rec->body)
		return NULL;
	out = malloc(rec->body_len + 1);
	if (!out) {
		*oom = 1;
		return NULL;
	}
	*len = 0;
	for (i = 0; i <= rec->n_quotes; i++) {
		start = i < rec->n_quotes ? rec->quotes[i].start : rec->body_len;
		end = i < rec->n_quotes ? start + rec->quotes[i].len : rec->body_len;
		if (start > rec->body_len)
			start = rec->body_len;
		if (end > rec->body_len)
			end = rec->body_len;
		if (start > pos) {
			memcpy(out + *len, rec->body + pos, start - pos);
			*len += start - pos;
		}
		if (end > pos)
			pos = end;
	}
	out[*len] = '\0';
	return out;
}

/*
 * fts_insert - the full-text row of a new message (rowid = messages.id):
 * subject, body without quoted history, participants
 */
static int fts_insert(struct store *st, const struct mail_record *rec, int64_t mid,
		      const char *people)
{
	sqlite3_stmt *s = store_stmt(st, S_FTS_INSERT);
	size_t len = rec->body_len;
	int oom, rc;
	char *text = unquoted(rec, &len, &oom);

	if (oom)
		return store_fail(st, STORE_EINVAL, "%s: out of memory", st->path);
	if (!s) {
		free(text);
		return store_class_of(sqlite3_errcode(st->db));
	}
	sqlite3_bind_int64(s, 1, mid);
	bind_text(s, 2, rec->subject ? rec->subject : "");
	sqlite3_bind_text(s, 3, text ? text : rec->body ? rec->body : "", (int)len, SQLITE_STATIC);
	bind_text(s, 4, people ? people : "");
	rc = store_step_done(st, s, "indexing a message");
	sqlite3_clear_bindings(s);
	free(text);
	return rc;
}

/*
 * people_text - the participants column of a message's FTS row, built as
 * parts_insert() and env_rcpts_insert() build it.  0, or -1 (no memory).
 */
static int people_text(const struct mail_record *rec, const struct store_envelope *env,
		       struct sbuf *b)
{
	const struct mail_addrs *lists[] = { &rec->from, &rec->sender, &rec->reply_to, &rec->to,
					     &rec->cc, &rec->bcc };
	const struct mail_addr *a;

	for (size_t l = 0; l < sizeof lists / sizeof lists[0]; l++)
		for (size_t i = 0; i < lists[l]->n; i++) {
			a = &lists[l]->v[i];
			if (!a->addr || !*a->addr)
				continue;
			if ((a->name && sbuf_add(b, a->name) < 0) || sbuf_add(b, a->addr) < 0)
				return -1;
		}
	for (size_t i = 0; env && i < env->n_rcpts; i++)
		if (env->rcpts[i] && *env->rcpts[i] && sbuf_add(b, env->rcpts[i]) < 0)
			return -1;
	return 0;
}

/*
 * store_fts_delete - remove the FTS row of message MID (contentless: the
 * row's values are rebuilt from the parsed item).  STORE_OK or a class.
 */
int store_fts_delete(struct store *st, const struct store_item *it, int64_t mid)
{
	const struct mail_record *rec = it->rec;
	struct sbuf people = { 0 };
	sqlite3_stmt *s = NULL;
	size_t len = rec->body_len;
	int oom = 0, rc;
	char *text = unquoted(rec, &len, &oom);

	if (oom || people_text(rec, it->env, &people) < 0) {
		rc = store_fail(st, STORE_EINVAL, "%s: out of memory", st->path);
		goto out;
	}
	rc = sqlite3_prepare_v2(st->db, "INSERT INTO fts (fts, rowid, subject, body, people)"
				" VALUES ('delete', ?1, ?2, ?3, ?4)", -1, &s, NULL);
	if (rc != SQLITE_OK) {
		rc = store_sqlerr(st, rc, "preparing an index delete");
		goto out;
	}
	sqlite3_bind_int64(s, 1, mid);
	bind_text(s, 2, rec->subject ? rec->subject : "");
	sqlite3_bind_text(s, 3, text ? text : rec->body ? rec->body : "", (int)len, SQLITE_STATIC);
	bind_text(s, 4, people.p ? people.p : "");
	rc = store_step_done(st, s, "removing a message from the index");
out:
	sqlite3_finalize(s);
	free(text);
	free(people.p);
	return rc;
}

/* find_message - the id and thread of a stored Message-ID; *mid 0 when absent */
static int find_message(struct store *st, const char *msgid, int64_t *mid, int64_t *tid)
{
	sqlite3_stmt *s = store_stmt(st, S_MSG_BY_MSGID);
	int rc;

	*mid = *tid = 0;
	if (!s)
		return store_class_of(sqlite3_errcode(st->db));
	bind_text(s, 1, msgid);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*mid = sqlite3_column_int64(s, 0);
		*tid = sqlite3_column_int64(s, 1);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_sqlerr(st, rc, "looking up a message");
	return STORE_OK;
}

/* ingest_skipped - a new message the rules skip: its metadata row and source */
static int ingest_skipped(struct store *st, const struct store_item *it, struct store_result *res)
{
	int64_t mid = 0;
	int rc = store_skip_insert(st, it, &mid);

	if (rc == STORE_OK)
		rc = source_insert(st, it, mid);
	res->message_id = mid;
	res->thread_id = 0;
	res->duplicate = 0;
	res->skipped = 1;
	return rc;
}

/*
 * ingest_disconnected - a new message whose internal participants are all
 * disconnected mailboxes (mailbox.c): skipped, whatever the rules said
 */
static int ingest_disconnected(struct store *st, const struct store_item *it,
			       struct store_result *res)
{
	struct store_decision d = { .skip = 1, .log_reason = STORE_DISCONNECTED_REASON };
	struct store_item skipped = *it;
	int rc;

	skipped.dec = &d;
	rc = ingest_skipped(st, &skipped, res);
	res->skip_reason = STORE_DISCONNECTED_REASON;
	return rc;
}

/*
 * ingest_new - everything a message not seen before writes.  A reply tag
 * that stands for an In-Reply-To (store_reply_parent) is written as one:
 * IT is then read through a copy of its record that has it.
 */
static int ingest_new(struct store *st, const struct store_item *in, struct store_result *res)
{
	struct sbuf people = { 0 };
	struct store_item tagged;
	struct mail_record rec;
	const struct store_item *it = in;
	char *parent = NULL;
	int64_t mid = 0, tid = 0;
	int rc;

	if (it->dec && it->dec->skip)
		return ingest_skipped(st, it, res);
	if (store_mailbox_skip(st, it))
		return ingest_disconnected(st, it, res);
	rc = store_reply_parent(st, in, &parent, &res->reply_note);
	if (rc == STORE_OK && parent) {
		rec = *in->rec;
		rec.in_reply_to = parent;
		rec.n_in_reply_to = 1;
		tagged = *in;
		tagged.rec = &rec;
		it = &tagged;
	}
	if (rc == STORE_OK)
		rc = store_thread_assign(st, it, &tid);
	if (rc == STORE_OK)
		rc = message_insert(st, it, tid, &mid);
	if (rc == STORE_OK)
		rc = store_message_decision(st, it, mid);
	if (rc == STORE_OK)
		rc = store_thread_link_ids(st, it->rec, mid, tid);
	if (rc == STORE_OK)
		rc = parts_insert(st, it->rec, mid, &people);
	if (rc == STORE_OK)
		rc = env_rcpts_insert(st, it->env, mid, &people, NULL);
	if (rc == STORE_OK)
		rc = atts_insert(st, it->rec, mid);
	if (rc == STORE_OK)
		rc = source_insert(st, it, mid);
	if (rc == STORE_OK)
		rc = raw_insert(st, it, mid);
	if (rc == STORE_OK)
		rc = fts_insert(st, it->rec, mid, people.p);
	if (rc == STORE_OK)
		rc = store_thread_changed(st, tid);
	res->message_id = mid;
	res->thread_id = tid;
	res->duplicate = 0;
	res->skipped = 0;
	free(people.p);
	free(parent);
	return rc;
}

/* ingest_one - one item: dedupe, then a new message or another copy of one */
static int ingest_one(struct store *st, const struct store_item *it, size_t idx,
		      struct store_result *res)
{
	int64_t mid = 0, tid = 0;
	int rc, added = 0;

	res->skip_reason = NULL;
	res->reply_note = NULL;
	if (!it->rec || !it->rec->message_id || !*it->rec->message_id)
		return store_fail(st, STORE_EINVAL, "%s: item %zu: record without a message id",
				  st->path, idx);
	rc = find_message(st, it->rec->message_id, &mid, &tid);
	if (rc != STORE_OK)
		return rc;
	if (!mid) {
		rc = ingest_new(st, it, res);
		added = 1;
	} else {
		res->message_id = mid;
		res->thread_id = tid;
		res->duplicate = 1;
		res->skipped = tid == 0;
		rc = source_insert(st, it, mid);
		/* a skipped message keeps no participants */
		if (rc == STORE_OK && tid)
			rc = env_rcpts_insert(st, it->env, mid, NULL, &added);
		/* a new recipient may now see the message (thread_people, schema.c) */
		if (rc == STORE_OK && added)
			rc = store_thread_changed(st, tid);
	}
	/* a copy that brought no new participant changes no contact */
	if (rc == STORE_OK && added && res->thread_id)
		rc = store_decision_apply(st, it, res->message_id, res->thread_id);
	return rc;
}

/* run_stmt - run one of the transaction statements */
static int run_stmt(struct store *st, enum stmt_id id, const char *what)
{
	sqlite3_stmt *s = store_stmt(st, id);

	if (!s)
		return store_class_of(sqlite3_errcode(st->db));
	return store_step_done(st, s, what);
}

/* store_ingest - write a batch in one transaction; see store.h */
int store_ingest(struct store *st, const struct store_item *items, size_t n,
		 struct store_result *results, char *err, size_t errlen)
{
	size_t i;
	int rc;

	rc = store_write_begin(st, err, errlen);
	if (rc != STORE_OK)
		goto out;
	if (n > 0 && (!items || !results)) {
		rc = store_fail(st, STORE_EINVAL, "%s: ingest without items or results", st->path);
		goto out;
	}
	rc = store_zdict_maybe_train(st);
	if (rc == STORE_OK)
		rc = run_stmt(st, S_BEGIN, "starting a transaction");
	if (rc == STORE_OK)
		rc = store_mailbox_load(st);	/* the disconnected mailboxes, once a batch */
	for (i = 0; rc == STORE_OK && i < n; i++)
		rc = ingest_one(st, &items[i], i, &results[i]);
	if (rc == STORE_OK)
		rc = store_threads_refresh(st);
	if (rc == STORE_OK)
		rc = store_contacts_recount(st);
	if (rc == STORE_OK)
		rc = run_stmt(st, S_COMMIT, "committing");
	if (rc != STORE_OK && !sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
out:
	store_mailbox_unload(st);
	return store_write_end(st, rc);
}
