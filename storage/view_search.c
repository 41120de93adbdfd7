/*
 * view_search.c - the viewer's full-text search (FTS5) over subject, body
 * and people, filtered by what the user may see, with highlighted snippets
 *
 * Public: store_view_search (store.h).  The user's text is never FTS5
 * syntax: each blank-separated word becomes one quoted phrase (quotes
 * doubled), all of them required.  Hits come newest message first (FTS5
 * rowid order, so a search stops after the page it needs and counts at
 * most STORE_VIEW_SEARCH_CAP hits).  Each hit is at the user's level of
 * its message (VIEW_MSG_LEVEL: in a thread he is not inside, only the
 * messages he sent or received are his in full); below everything it must
 * match in the columns that level shows: people for metadata, subject and
 * people for subject.  The index is contentless, so snippets
 * and highlights are made here from the stored text.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "view_int.h"

#define SEARCH_MAX_TEXT  512      /* bytes of the user's text */
#define SEARCH_MAX_WORDS 16
#define SEARCH_MAX_TERMS 32
#define SNIPPET_BEFORE   60       /* bytes of context before the first hit */
#define SNIPPET_BYTES    220      /* bytes of a snippet window */

/* the words of a query, lower-cased ASCII, for highlighting */
struct terms {
	char *v[SEARCH_MAX_TERMS];
	size_t len[SEARCH_MAX_TERMS];
	size_t n;
};

/* is_wordbyte - a byte that belongs to a token: ASCII letter or digit, or non-ASCII */
static int is_wordbyte(unsigned char c)
{
	return c >= 0x80 || isalnum(c);
}

/*
 * fts_query - TEXT as an FTS5 query: one quoted phrase per word that holds
 * a token, '"' doubled; terms gets the tokens.  Returns a new string
 * (sqlite3_free()) or NULL when there is no word (or no memory).
 */
static char *fts_query(const char *text, struct terms *terms)
{
	char *q = NULL, *w, *next;
	const char *p = text;
	size_t n, words = 0, i;
	int has;

	if (!text || strlen(text) > SEARCH_MAX_TEXT)
		return NULL;
	while (*p && words < SEARCH_MAX_WORDS) {
		while (*p && isspace((unsigned char)*p))
			p++;
		n = 0;
		while (p[n] && !isspace((unsigned char)p[n]))
			n++;
		if (!n)
			break;
		has = 0;
		for (i = 0; i < n; i++)
			has |= is_wordbyte((unsigned char)p[i]);
		if (has) {
			w = sqlite3_mprintf("%.*s", (int)n, p);
			/* %w doubles '"' the way an FTS5 string wants */
			next = w ? sqlite3_mprintf("%s%s\"%w\"", q ? q : "", q ? " " : "", w) : NULL;
			sqlite3_free(w);
			sqlite3_free(q);
			q = next;
			if (!q)
				return NULL;
			words++;
			for (i = 0; i < n && terms->n < SEARCH_MAX_TERMS;) {
				size_t j = i;

				while (j < n && is_wordbyte((unsigned char)p[j]))
					j++;
				if (j > i) {
					char *t = strndup(p + i, j - i);

					for (char *c = t; c && *c; c++)
						*c = (char)tolower((unsigned char)*c);
					if (t) {
						terms->v[terms->n] = t;
						terms->len[terms->n++] = j - i;
					}
				}
				i = j < n ? j + 1 : j;
			}
		}
		p += n;
	}
	return q;
}

/* terms_free - free the tokens */
static void terms_free(struct terms *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i]);
	t->n = 0;
}

/* match_at - length of the term matching TEXT at I (at a token start), 0 when none */
static size_t match_at(const struct terms *t, const char *text, size_t len, size_t i)
{
	if (i > 0 && is_wordbyte((unsigned char)text[i - 1]) && (unsigned char)text[i - 1] < 0x80)
		return 0;
	for (size_t k = 0; k < t->n; k++)
		if (t->len[k] <= len - i && strncasecmp(text + i, t->v[k], t->len[k]) == 0)
			return t->len[k];
	return 0;
}

/* highlights - [[start, length]] of every term in TEXT */
static json_t *highlights(const struct terms *t, const char *text)
{
	json_t *a = json_array(), *h;
	size_t len = text ? strlen(text) : 0, m;

	for (size_t i = 0; i < len; i += m ? m : 1) {
		m = match_at(t, text, len, i);
		if (m) {
			h = json_array();
			json_array_append_new(h, json_integer((json_int_t)i));
			json_array_append_new(h, json_integer((json_int_t)m));
			json_array_append_new(a, h);
		}
	}
	return a;
}

/*
 * window - a snippet of BODY around its first term: about SNIPPET_BYTES,
 * cut on character boundaries, white space collapsed, "…" where cut.
 * Returns a new string, or NULL when no term is in BODY (or no memory).
 */
static char *window(const struct terms *t, const char *body)
{
	size_t len = strlen(body), first = len, start, end, o = 0;
	char *out;
	int space = 0;

	for (size_t i = 0; i < len && first == len; i++)
		if (match_at(t, body, len, i))
			first = i;
	if (first == len)
		return NULL;
	start = first > SNIPPET_BEFORE ? first - SNIPPET_BEFORE : 0;
	while (start > 0 && ((unsigned char)body[start] & 0xc0) == 0x80)
		start--;
	end = start + SNIPPET_BYTES < len ? start + SNIPPET_BYTES : len;
	while (end < len && ((unsigned char)body[end] & 0xc0) == 0x80)
		end++;
	out = malloc(end - start + 8);
	if (!out)
		return NULL;
	if (start > 0)
		o += (size_t)sprintf(out, "\xe2\x80\xa6");
	for (size_t i = start; i < end; i++) {
		if (isspace((unsigned char)body[i])) {
			space = o > 0;
			continue;
		}
		if (space)
			out[o++] = ' ';
		space = 0;
		out[o++] = body[i];
	}
	if (end < len)
		o += (size_t)sprintf(out + o, "\xe2\x80\xa6");
	out[o] = '\0';
	return out;
}

/* people_line - "From NAME <ADDR>; To ...; Cc ..." of message MID (metadata hits) */
static char *people_line(struct store *st, int64_t mid)
{
	sqlite3_stmt *s = view_prep(st, "SELECT role, name, address FROM participants"
				    " WHERE message_id = ?1 AND role IN ('from', 'to', 'cc')"
				    " ORDER BY role = 'from' DESC, role DESC, pos LIMIT 20", NULL);
	char *line = NULL, *next, prev[8] = "";
	const char *role, *name, *label;

	if (!s)
		return NULL;
	sqlite3_bind_int64(s, 1, mid);
	while (sqlite3_step(s) == SQLITE_ROW) {
		role = (const char *)sqlite3_column_text(s, 0);
		name = (const char *)sqlite3_column_text(s, 1);
		label = strcmp(role, prev) == 0 ? NULL : strcmp(role, "from") == 0 ? "From "
			: strcmp(role, "to") == 0 ? "To " : "Cc ";
		next = sqlite3_mprintf("%s%s%s%s%s<%s>", line ? line : "",
				       line ? (label ? "; " : ", ") : "", label ? label : "",
				       name ? name : "", name && *name ? " " : "",
				       (const char *)sqlite3_column_text(s, 2));
		sqlite3_free(line);
		line = next;
		snprintf(prev, sizeof prev, "%s", role);
		if (!line)
			break;
	}
	sqlite3_finalize(s);
	next = strdup(line ? line : "");
	sqlite3_free(line);
	return next;
}

/* hit_json - one search hit: message MID at LEVEL; NULL on error */
static json_t *hit_json(struct store *st, const struct terms *t, int64_t mid, int level)
{
	sqlite3_stmt *s = view_prep(st, "SELECT m.id, m.snippet, m.body, m.body_len, m.body_offset,"
				    " m.quotes, m.dict_id, m.thread_id, m.date, m.direction, m.subject,"
				    " (SELECT name FROM participants WHERE message_id = m.id AND"
				    "  role = 'from' ORDER BY pos LIMIT 1), (SELECT address FROM"
				    " participants WHERE message_id = m.id AND role = 'from'"
				    " ORDER BY pos LIMIT 1) FROM messages m WHERE m.id = ?1", NULL);
	json_t *o = NULL, *from;
	char *text = NULL, *body;

	if (!s)
		return NULL;
	sqlite3_bind_int64(s, 1, mid);
	if (sqlite3_step(s) != SQLITE_ROW)
		goto out;
	o = json_object();
	json_object_set_new(o, "thread", store_json_int(s, 7));
	json_object_set_new(o, "message", json_integer(mid));
	json_object_set_new(o, "date", store_json_date(s, 8));
	json_object_set_new(o, "direction", view_col_text(s, 9));
	json_object_set_new(o, "access", json_string(view_level_name(level)));
	if (level >= VIEW_SUBJECT) {
		json_object_set_new(o, "subject", view_col_text(s, 10));
		json_object_set_new(o, "subject_highlights",
				    highlights(t, (const char *)sqlite3_column_text(s, 10)));
	} else {
		json_object_set_new(o, "subject", json_null());
	}
	from = json_object();
	json_object_set_new(from, "name", view_col_text(s, 11));
	json_object_set_new(from, "address", view_col_text(s, 12));
	json_object_set_new(o, "from", from);
	if (level >= VIEW_EVERYTHING) {
		body = view_body_of(st, mid, s, 2);
		text = body ? window(t, body) : NULL;
		free(body);
		if (!text)
			text = view_snippet_of(st, s);
	} else if (level == VIEW_METADATA) {
		text = people_line(st, mid);
	}
	json_object_set_new(o, "snippet", view_json_text(text ? text : "", text ? strlen(text) : 0));
	json_object_set_new(o, "highlights", highlights(t, text));
	free(text);
out:
	sqlite3_finalize(s);
	return o;
}

/* still_matches - 1 when message MID matches Q within the columns LEVEL shows */
static int still_matches(sqlite3_stmt *v, const char *q, int64_t mid, int level)
{
	char *cq = sqlite3_mprintf("%s : (%s)", level == VIEW_METADATA ? "{people}"
				   : "{subject people}", q);
	int rc;

	if (!cq)
		return 0;
	sqlite3_reset(v);
	sqlite3_bind_text(v, 1, cq, -1, sqlite3_free);
	sqlite3_bind_int64(v, 2, mid);
	rc = sqlite3_step(v);
	sqlite3_reset(v);
	return rc == SQLITE_ROW;
}

/* the newest messages that match, and the filters, as FTS5 finds them */
#define SQL_SEARCH \
	"SELECT fts.rowid, m.thread_id, " VIEW_MSG_LEVEL("t", "m") " FROM fts JOIN messages m" \
	" ON m.id = fts.rowid JOIN threads t ON t.id = m.thread_id" \
	" WHERE fts MATCH :q AND t.messages > 0" \
	" AND (:rid IS NULL OR EXISTS (SELECT 1 FROM links l WHERE l.thread_id = t.id" \
	"  AND CASE :rkind WHEN 0 THEN l.account_id WHEN 1 THEN l.contact_id" \
	"  ELSE l.deal_id END = :rid))" \
	" AND (:since IS NULL OR m.date >= :since) AND (:until IS NULL OR m.date < :until)" \
	" AND (:dir IS NULL OR m.direction = :dir)" \
	" AND (:att IS NULL OR EXISTS (SELECT 1 FROM attachments a WHERE a.message_id = m.id))" \
	" ORDER BY fts.rowid DESC"

/* bind_opt - bind NAME to V unless V is 0 (then it stays NULL: no filter) */
static void bind_opt(sqlite3_stmt *s, const char *name, int64_t v)
{
	if (v)
		sqlite3_bind_int64(s, sqlite3_bind_parameter_index(s, name), v);
}

/* the threads a search found: the newest hit of each, and its count */
struct found {
	int64_t thread, message;
	int level, hits;
};

/* found_add - one more hit (message MID of thread TID at LEVEL) into F (N so far; the
 * caller leaves room for one more thread) */
static void found_add(struct found *f, size_t *n, int64_t tid, int64_t mid, int level)
{
	size_t i;

	for (i = 0; i < *n && f[i].thread != tid; i++)
		;
	if (i < *n) {
		f[i].hits++;
		return;
	}
	f[i] = (struct found){ tid, mid, level, 1 };
	(*n)++;
}

/* search_walk - the hits of Q (FTS query FQ) the user may see into F; *capped; SQLite's rc */
static int search_walk(struct store *st, const struct store_viewer *who,
		       const struct store_search_query *q, const char *fq, struct found *f,
		       size_t *n, int *capped)
{
	sqlite3_stmt *s = view_prep(st, SQL_SEARCH, who), *v = NULL;
	int rc = SQLITE_ERROR, level, seen = 0;
	int64_t mid;

	v = s ? view_prep(st, "SELECT 1 FROM fts WHERE fts MATCH ?1 AND rowid = ?2", NULL) : NULL;
	if (s && v) {
		sqlite3_bind_text(s, sqlite3_bind_parameter_index(s, ":q"), fq, -1, SQLITE_STATIC);
		bind_opt(s, ":rid", q->record_id);
		sqlite3_bind_int(s, sqlite3_bind_parameter_index(s, ":rkind"), (int)q->record_kind);
		bind_opt(s, ":since", q->since);
		bind_opt(s, ":until", q->until);
		bind_opt(s, ":att", q->attachment);
		if (q->direction)
			sqlite3_bind_text(s, sqlite3_bind_parameter_index(s, ":dir"), q->direction,
					  -1, SQLITE_STATIC);
		while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			level = sqlite3_column_int(s, 2);
			mid = sqlite3_column_int64(s, 0);
			if (level <= VIEW_HIDDEN || (q->attachment && level < VIEW_EVERYTHING))
				continue;
			if (level < VIEW_EVERYTHING && !still_matches(v, fq, mid, level))
				continue;
			if (seen++ >= STORE_VIEW_SEARCH_CAP) {
				*capped = 1;
				break;
			}
			found_add(f, n, sqlite3_column_int64(s, 1), mid, level);
		}
	}
	sqlite3_finalize(s);
	sqlite3_finalize(v);
	return *capped ? SQLITE_DONE : rc;
}

/* store_view_search - full-text search as the user may see it; see store.h */
int store_view_search(struct store *st, const struct store_viewer *who,
		      const struct store_search_query *q, json_t **out, char *err, size_t errlen)
{
	struct terms t = { 0 };
	struct found *f;
	size_t n = 0, i, hits = 0;
	int capped = 0, limit = q->limit, offset = q->offset < 0 ? 0 : q->offset, rc;
	json_t *items, *h;
	char *fq;

	view_begin(st, err, errlen, out);
	if (limit < 1 || limit > STORE_VIEW_MAX_LIMIT)
		limit = limit < 1 ? 1 : STORE_VIEW_MAX_LIMIT;
	fq = fts_query(q->text, &t);
	if (!fq) {
		terms_free(&t);
		return view_end(st, STORE_OK);
	}
	f = calloc(STORE_VIEW_SEARCH_CAP, sizeof *f);
	rc = f ? search_walk(st, who, q, fq, f, &n, &capped) : SQLITE_NOMEM;
	if (view_done(st, rc) < 0) {
		free(f);
		sqlite3_free(fq);
		terms_free(&t);
		return view_end(st, view_errclass(st));
	}
	items = json_array();
	for (i = 0; i < n; i++) {
		hits += (size_t)f[i].hits;
		if (i < (size_t)offset || i >= (size_t)offset + (size_t)limit)
			continue;
		h = hit_json(st, &t, f[i].message, f[i].level);
		if (h) {
			json_object_set_new(h, "hits", json_integer(f[i].hits));
			json_array_append_new(items, h);
		}
	}
	*out = json_object();
	json_object_set_new(*out, "query", view_json_text(q->text, strlen(q->text)));
	json_object_set_new(*out, "total", json_integer((json_int_t)n));
	json_object_set_new(*out, "hits", json_integer((json_int_t)hits));
	json_object_set_new(*out, "capped", json_boolean(capped));
	json_object_set_new(*out, "offset", json_integer(offset));
	json_object_set_new(*out, "limit", json_integer(limit));
	json_object_set_new(*out, "items", items);
	free(f);
	sqlite3_free(fq);
	terms_free(&t);
	return view_end(st, STORE_OK);
}

/* ---- records by name ---- */

/* the records whose name or key holds :f (lower-cased), visible as the tables show them */
#define SQL_NAMED(table, a, key, col) \
	"SELECT " a ".id, " a ".name, " a "." key ", count(*) OVER () FROM " table " " a \
	" WHERE (instr(lower(coalesce(" a ".name, '')), :f) > 0 OR instr(lower(" a "." key "), :f) > 0)" \
	" AND " VIEW_RECORD_VISIBLE(col, a ".id") \
	" ORDER BY lower(coalesce(nullif(" a ".name, ''), " a "." key ")), " a ".id LIMIT :limit"

/* named_of - {"total", "items": [{"id", "name", KEY}]} of the statement S; NULL on error */
static json_t *named_of(struct store *st, sqlite3_stmt *s, const char *key)
{
	json_t *items = json_array(), *it;
	int64_t total = 0;
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		it = json_object();
		json_object_set_new(it, "id", store_json_int(s, 0));
		json_object_set_new(it, "name", view_col_text(s, 1));
		json_object_set_new(it, key, view_col_text(s, 2));
		json_array_append_new(items, it);
		total = sqlite3_column_int64(s, 3);
	}
	if (view_done(st, rc) < 0) {
		json_decref(items);
		return NULL;
	}
	return json_pack("{s:I,s:o}", "total", (json_int_t)total, "items", items);
}

/* store_view_names - records by name; see store.h */
int store_view_names(struct store *st, const struct store_viewer *who, const char *text,
		     int limit, json_t **out, char *err, size_t errlen)
{
	static const char *const sql[3] = {
		SQL_NAMED("accounts", "a", "domain", "account_id"),
		SQL_NAMED("contacts", "c", "address", "contact_id"),
		SQL_NAMED("deals", "d", "key", "deal_id"),
	};
	static const char *const kinds[3] = { "accounts", "contacts", "deals" };
	static const char *const keys[3] = { "domain", "address", "key" };
	sqlite3_stmt *s;
	json_t *o, *part;

	view_begin(st, err, errlen, out);
	o = json_object();
	for (int k = 0; k < 3; k++) {
		s = view_prep(st, sql[k], who);
		if (!s) {
			json_decref(o);
			return view_end(st, view_errclass(st));
		}
		view_bind_filter(s, ":f", text);
		sqlite3_bind_int(s, sqlite3_bind_parameter_index(s, ":limit"),
				 limit < 1 ? 1 : limit > STORE_VIEW_MAX_LIMIT ? STORE_VIEW_MAX_LIMIT
				 : limit);
		part = named_of(st, s, keys[k]);
		sqlite3_finalize(s);
		if (!part) {
			json_decref(o);
			return view_end(st, view_errclass(st));
		}
		json_object_set_new(o, kinds[k], part);
	}
	*out = o;
	return view_end(st, STORE_OK);
}
