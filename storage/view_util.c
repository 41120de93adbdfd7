/*
 * view_util.c - helpers of the viewer's reads (view_int.h): the call
 * frame, statements bound to the user asking, column values as jansson
 * values, rules rows, and message bodies and snippets
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "view_int.h"

/* view_begin - start a call: error buffer, *out NULL, read transaction */
void view_begin(struct store *st, char *err, size_t errlen, json_t **out)
{
	if (err && errlen)
		err[0] = '\0';
	if (out)
		*out = NULL;
	st->err = err;
	st->errlen = errlen;
	sqlite3_exec(st->db, "BEGIN", NULL, NULL, NULL);
}

/* view_end - end the read transaction and the call; returns RC */
int view_end(struct store *st, int rc)
{
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
	st->err = NULL;
	st->errlen = 0;
	return rc;
}

/* view_prep - prepare SQL, bind :who, :team, :all from WHO; NULL with err set */
sqlite3_stmt *view_prep(struct store *st, const char *sql, const struct store_viewer *who)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL), i;

	if (rc != SQLITE_OK) {
		store_sqlerr(st, rc, "reading");
		sqlite3_finalize(s);
		return NULL;
	}
	if (!who)
		return s;
	if ((i = sqlite3_bind_parameter_index(s, ":who")))
		sqlite3_bind_text(s, i, who->address ? who->address : "", -1, SQLITE_TRANSIENT);
	if ((i = sqlite3_bind_parameter_index(s, ":team")) && who->team && *who->team)
		sqlite3_bind_text(s, i, sqlite3_mprintf("team:%s", who->team), -1, sqlite3_free);
	if ((i = sqlite3_bind_parameter_index(s, ":all")))
		sqlite3_bind_int(s, i, who->inside_all ? 1 : 0);
	return s;
}

/* view_done - 0 when RC is SQLITE_DONE, else the error reported and -1 */
int view_done(struct store *st, int rc)
{
	if (rc == SQLITE_DONE)
		return 0;
	store_sqlerr(st, rc == SQLITE_ROW ? SQLITE_ERROR : rc, "reading");
	return -1;
}

/* view_errclass - the class of the connection's last error (ECORRUPT when not SQL) */
int view_errclass(struct store *st)
{
	int c = store_class_of(sqlite3_extended_errcode(st->db));

	return c == STORE_OK ? STORE_ECORRUPT : c;
}

/* view_bind_id - bind :id */
void view_bind_id(sqlite3_stmt *s, int64_t id)
{
	int i = sqlite3_bind_parameter_index(s, ":id");

	if (i)
		sqlite3_bind_int64(s, i, id);
}

/* view_bind_page - bind :limit (1..STORE_VIEW_MAX_LIMIT) and :offset (capped) */
void view_bind_page(sqlite3_stmt *s, int limit, int offset)
{
	int i;

	if (limit < 1 || limit > STORE_VIEW_MAX_LIMIT)
		limit = limit < 1 ? 1 : STORE_VIEW_MAX_LIMIT;
	if (offset < 0 || offset > STORE_VIEW_MAX_OFFSET)
		offset = offset < 0 ? 0 : STORE_VIEW_MAX_OFFSET;
	if ((i = sqlite3_bind_parameter_index(s, ":limit")))
		sqlite3_bind_int(s, i, limit);
	if ((i = sqlite3_bind_parameter_index(s, ":offset")))
		sqlite3_bind_int(s, i, offset);
}

/* view_bind_filter - bind NAME to FILTER lower-cased (ASCII), NULL when empty */
void view_bind_filter(sqlite3_stmt *s, const char *name, const char *filter)
{
	int i = sqlite3_bind_parameter_index(s, name);
	char *f;

	if (!i || !filter || !*filter)
		return;
	f = strdup(filter);
	if (!f)
		return;
	for (char *p = f; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	sqlite3_bind_text(s, i, f, -1, free);
}

/* utf8_len - length of the valid UTF-8 sequence at P (N bytes left), 0 when invalid */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	size_t len, i;
	unsigned cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

/*
 * view_json_text - LEN bytes at P as a json string; bytes that are not
 * UTF-8 and NUL become U+FFFD, so mail text never turns into null
 */
json_t *view_json_text(const char *p, size_t len)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t i = 0, o = 0, n;
	char *buf;
	json_t *v;

	if (!p)
		return json_null();
	v = json_stringn(p, len);
	if (v)
		return v;
	buf = malloc(len * 3 + 1);
	if (!buf)
		return json_string("");
	while (i < len) {
		n = u[i] ? utf8_len(u + i, len - i) : 0;
		if (n) {
			memcpy(buf + o, p + i, n);
			o += n;
			i += n;
		} else {
			memcpy(buf + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		}
	}
	v = json_stringn(buf, o);
	free(buf);
	return v ? v : json_string("");
}

/* view_col_text - text column I, null when NULL */
json_t *view_col_text(sqlite3_stmt *s, int i)
{
	const char *p = (const char *)sqlite3_column_text(s, i);

	return p ? view_json_text(p, (size_t)sqlite3_column_bytes(s, i)) : json_null();
}

/*
 * rule_file - append to O as "file" the rules file FILE as WHO may see it:
 * whole for WHO->full_paths (admins) and for no WHO; else relative to
 * WHO->rules_base when it lies under it, or else its last component, so no
 * server path reaches a member
 */
static void rule_file(json_t *o, const struct store_viewer *who, const char *file)
{
	size_t n = who && who->rules_base ? strlen(who->rules_base) : 0;
	const char *shown = file, *slash;

	if (file && who && !who->full_paths) {
		while (n > 1 && who->rules_base[n - 1] == '/')
			n--;
		if (n && strncmp(file, who->rules_base, n) == 0 && file[n] == '/' && file[n + 1])
			shown = file + n + 1;
		else if ((slash = strrchr(file, '/')) && slash[1])
			shown = slash + 1;
	}
	json_object_set_new(o, "file", shown ? view_json_text(shown, strlen(shown)) : json_null());
}

/*
 * rule_text - append to O as "text" the rule TEXT as WHO may see it: for
 * members each @/PATH (a file of patterns) by its last component only
 */
static void rule_text(json_t *o, const struct store_viewer *who, const char *text)
{
	const char *p = text, *end, *last;
	char *out, *w;

	if (!text || !who || who->full_paths || !strstr(text, "@/") || !(out = malloc(strlen(text) + 1))) {
		json_object_set_new(o, "text", text ? view_json_text(text, strlen(text)) : json_null());
		return;
	}
	w = out;
	while (*p) {
		if (p[0] != '@' || p[1] != '/') {
			*w++ = *p++;
			continue;
		}
		for (end = p + 1, last = p + 1; *end && *end != ' ' && *end != '\t'; end++)
			if (*end == '/')
				last = end + 1;
		*w++ = '@';
		memcpy(w, last, (size_t)(end - last));
		w += end - last;
		p = end;
	}
	*w = '\0';
	json_object_set_new(o, "text", view_json_text(out, strlen(out)));
	free(out);
}

/* view_rule_json - a rules row as {"file", "line", "text", "hash"} for WHO, null for none */
json_t *view_rule_json(struct store *st, const struct store_viewer *who, int64_t id)
{
	sqlite3_stmt *s;
	json_t *o = NULL;

	if (id <= 0)
		return json_null();
	s = view_prep(st, "SELECT file, line, text, hash FROM rules WHERE id = ?1", NULL);
	if (!s)
		return json_null();
	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) == SQLITE_ROW) {
		o = json_object();
		rule_file(o, who, (const char *)sqlite3_column_text(s, 0));
		json_object_set_new(o, "line", store_json_int(s, 1));
		rule_text(o, who, (const char *)sqlite3_column_text(s, 2));
		json_object_set_new(o, "hash", view_col_text(s, 3));
	}
	sqlite3_finalize(s);
	return o ? o : json_null();
}

/* view_quotes_of - the stored quote spans at column I, [] when none or bad */
json_t *view_quotes_of(sqlite3_stmt *s, int i)
{
	const char *p = (const char *)sqlite3_column_text(s, i);
	json_t *v = p ? json_loads(p, 0, NULL) : NULL;

	if (v && !json_is_array(v)) {
		json_decref(v);
		v = NULL;
	}
	return v ? v : json_array();
}

/* body_from_raw - LEN bytes at OFF of message MID's raw source; new string or NULL */
static char *body_from_raw(struct store *st, int64_t mid, size_t off, size_t len)
{
	sqlite3_stmt *s = view_prep(st, "SELECT kept, data, dict_id FROM raw WHERE message_id = ?1",
				    NULL);
	char *raw = NULL, *body = NULL;
	size_t kept;

	if (!s)
		return NULL;
	sqlite3_bind_int64(s, 1, mid);
	if (sqlite3_step(s) == SQLITE_ROW) {
		kept = (size_t)sqlite3_column_int64(s, 0);
		if (kept >= off && kept - off >= len)
			raw = store_zdecompress(st, sqlite3_column_blob(s, 1),
						(size_t)sqlite3_column_bytes(s, 1), kept,
						sqlite3_column_int64(s, 2));
	}
	sqlite3_finalize(s);
	if (raw && (body = malloc(len + 1))) {
		memcpy(body, raw + off, len);
		body[len] = '\0';
	}
	free(raw);
	return body;
}

/* view_body_of - the text body of message MID; see view_int.h */
char *view_body_of(struct store *st, int64_t mid, sqlite3_stmt *s, int c)
{
	size_t len = (size_t)sqlite3_column_int64(s, c + 1);
	char *text, *body;

	if (len == 0)
		return strdup("");
	if (sqlite3_column_type(s, c + 2) != SQLITE_NULL)
		body = body_from_raw(st, mid, (size_t)sqlite3_column_int64(s, c + 2), len);
	else {
		text = store_zdecompress(st, sqlite3_column_blob(s, c),
					 (size_t)sqlite3_column_bytes(s, c), len,
					 sqlite3_column_int64(s, c + 4));
		body = text ? malloc(len + 1) : NULL;
		if (body) {
			memcpy(body, text, len);
			body[len] = '\0';
		}
		free(text);
	}
	if (!body)
		store_fail(st, STORE_ECORRUPT, "%s: message %lld: body cannot be read", st->path,
			   (long long)mid);
	return body;
}

/* view_snippet_of - the stored snippet, or one rebuilt from body and quotes */
char *view_snippet_of(struct store *st, sqlite3_stmt *s)
{
	struct mail_span *spans;
	json_t *quotes;
	char *body, *text;
	size_t n;

	if (sqlite3_column_type(s, 1) != SQLITE_NULL)
		return strdup((const char *)sqlite3_column_text(s, 1));
	body = view_body_of(st, sqlite3_column_int64(s, 0), s, 2);
	if (!body)
		return NULL;
	quotes = view_quotes_of(s, 5);
	n = json_array_size(quotes);
	spans = calloc(n ? n : 1, sizeof *spans);
	text = NULL;
	if (spans) {
		for (size_t i = 0; i < n; i++) {
			json_t *q = json_array_get(quotes, i);

			spans[i].start = (size_t)json_integer_value(json_array_get(q, 0));
			spans[i].len = (size_t)json_integer_value(json_array_get(q, 1));
		}
		text = mail_snippet(body, strlen(body), spans, n);
	}
	free(spans);
	json_decref(quotes);
	free(body);
	return text;
}

/* store_view_tune - memory-mapped reads and a larger page cache; see store.h */
int store_view_tune(struct store *st, int64_t mmap_bytes, int cache_kib)
{
	char sql[128];

	snprintf(sql, sizeof sql, "PRAGMA mmap_size = %lld; PRAGMA cache_size = -%d",
		 (long long)mmap_bytes, cache_kib);
	return store_class_of(sqlite3_exec(st->db, sql, NULL, NULL, NULL));
}

/* view_level_name - the name of an access level */
const char *view_level_name(int level)
{
	static const char *const names[] = { "nothing", "metadata", "subject", "everything" };

	return names[level < 0 ? 0 : level > 3 ? 3 : level];
}
