/*
 * pages_misc.c - the other pages: unassigned threads with their reason,
 * search with highlighted snippets, the admins' mailboxes, the login
 * form, and the stylesheet
 *
 * Public (view_int.h): page_unassigned, page_search, page_mailboxes,
 * page_login, page_style.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "view_int.h"

/* page_unassigned - GET /unassigned: threads no rule could place */
void page_unassigned(struct view_req *r)
{
	char err[512];
	json_t *m;
	int limit, offset;

	if (view_paging(r, &limit, &offset) < 0)
		return;
	if (store_view_unassigned(r->st, &r->who, limit, offset, &m, err, sizeof err) != STORE_OK) {
		view_store_failed(r, err);
		return;
	}
	if (r->api) {
		api_send(r, m);
		return;
	}
	html_begin(r, "Unassigned", "Unassigned");
	vbuf_printf(&r->body, "<h1>Unassigned <span class=\"count\">%lld</span></h1>"
		    "<p class=\"intro\">Conversations no rule could place on an account, deal or"
		    " contact, each with the reason.</p>",
		    (long long)json_integer_value(json_object_get(m, "total")));
	view_timeline(r, json_object_get(m, "items"), 1);
	html_pager(r, "/unassigned", m);
	html_end(r);
	json_decref(m);
}

/* a search: the store's query, and what its filters name */
struct search {
	struct store_search_query q;
	const char *dir;               /* in, out, internal (the parameter) */
	const char *since, *until;     /* YYYY-MM-DD (the parameters) */
	json_t *on;                    /* the record of q.record_id (its page model), or NULL */
};


/* search_query - "?q=...&FILTERS" of S (HTML-escaped), to which "page=" can be added */
static void search_query(struct vbuf *b, const struct search *s)
{
	vbuf_puts(b, "/search?q=");
	url_esc(b, s->q.text);
	if (s->q.record_id)
		vbuf_printf(b, "&amp;%s=%lld", view_kinds[s->q.record_kind].word,
			    (long long)s->q.record_id);
	if (s->since) {
		vbuf_puts(b, "&amp;since=");
		url_esc(b, s->since);
	}
	if (s->until) {
		vbuf_puts(b, "&amp;until=");
		url_esc(b, s->until);
	}
	if (s->dir)
		vbuf_printf(b, "&amp;direction=%s", s->dir);
	if (s->q.attachment)
		vbuf_puts(b, "&amp;attachment=1");
}

/* search_form - the words and the filters, as they stand */
static void search_form(struct vbuf *b, const struct search *s)
{
	static const char *const dirs[][2] = { { "", "any direction" }, { "in", "inbound" },
					       { "out", "outbound" }, { "internal", "internal" } };
	const char *dir = s->dir ? s->dir : "";
	size_t i;

	vbuf_puts(b, "<form class=\"filter search-filters\" method=\"get\" action=\"/search\">"
		  "<input type=\"text\" name=\"q\" aria-label=\"Words\" value=\"");
	html_esc(b, s->q.text);
	vbuf_puts(b, "\"> <label>from <input type=\"text\" name=\"since\" size=\"10\""
		  " placeholder=\"YYYY-MM-DD\" value=\"");
	html_esc(b, s->since);
	vbuf_puts(b, "\"></label> <label>to <input type=\"text\" name=\"until\" size=\"10\""
		  " placeholder=\"YYYY-MM-DD\" value=\"");
	html_esc(b, s->until);
	vbuf_puts(b, "\"></label> <select name=\"direction\" aria-label=\"Direction\">");
	for (i = 0; i < 4; i++)
		vbuf_printf(b, "<option value=\"%s\"%s>%s</option>", dirs[i][0],
			    strcmp(dir, dirs[i][0]) == 0 ? " selected" : "", dirs[i][1]);
	vbuf_printf(b, "</select> <label><input type=\"checkbox\" name=\"attachment\" value=\"1\"%s>"
		    " has an attachment</label>", s->q.attachment ? " checked" : "");
	if (s->on) {
		vbuf_printf(b, "<input type=\"hidden\" name=\"%s\" value=\"%lld\"> <span class=\"on\">"
			    "on the %s ", view_kinds[s->q.record_kind].word,
			    (long long)s->q.record_id, view_kinds[s->q.record_kind].word);
		view_record_link(b, view_kinds[s->q.record_kind].path, json_object_get(s->on, "id"),
				 json_object_get(s->on, "name"),
				 json_object_get(s->on, view_kinds[s->q.record_kind].key));
		vbuf_puts(b, "</span>");
	}
	vbuf_puts(b, " <button type=\"submit\">Search</button></form>");
}

/* search_records - the records whose name holds the words TEXT (page 1, no other filter) */
static void search_records(struct vbuf *b, json_t *records, const char *text)
{
	const char *kind;
	json_t *list, *it;
	size_t i;
	int k;

	for (k = 0; k < 3; k++) {
		list = json_object_get(records, view_kinds[k].path);
		if (!json_array_size(json_object_get(list, "items")))
			continue;
		kind = view_kinds[k].path;
		vbuf_printf(b, "<p class=\"records\">%s: ", view_kinds[k].title);
		json_array_foreach(json_object_get(list, "items"), i, it) {
			if (i)
				vbuf_puts(b, ", ");
			view_record_link(b, kind, json_object_get(it, "id"),
					 json_object_get(it, "name"), json_object_get(it, view_kinds[k].key));
		}
		if (json_integer_value(json_object_get(list, "total")) > (json_int_t)i) {
			vbuf_printf(b, " <a href=\"/%s?q=", kind);
			url_esc(b, text);
			vbuf_printf(b, "\">all %lld</a>",
				    (long long)json_integer_value(json_object_get(list, "total")));
		}
		vbuf_puts(b, "</p>");
	}
}

/* search_hit - one thread's newest hit H */
static void search_hit(struct vbuf *b, json_t *h)
{
	const char *access = json_string_value(json_object_get(h, "access"));
	long long n = json_integer_value(json_object_get(h, "hits"));

	vbuf_puts(b, "<li><div class=\"hit-head\">");
	html_day(b, json_object_get(h, "date"));
	vbuf_printf(b, " <span class=\"dir\">%s</span> <a href=\"/threads/%lld#m%lld\">",
		    html_arrow(json_string_value(json_object_get(h, "direction"))),
		    (long long)json_integer_value(json_object_get(h, "thread")),
		    (long long)json_integer_value(json_object_get(h, "message")));
	if (json_is_string(json_object_get(h, "subject")))
		html_marked(b, json_object_get(h, "subject"), json_object_get(h, "subject_highlights"));
	else
		vbuf_puts(b, "<span class=\"hidden\">(subject not shown)</span>");
	vbuf_puts(b, "</a> <span class=\"from\">");
	html_person(b, json_object_get(h, "from"));
	vbuf_puts(b, "</span>");
	if (n > 1)
		vbuf_printf(b, " <span class=\"more\">%lld messages match</span>", n);
	if (access && strcmp(access, "everything") != 0)
		vbuf_printf(b, " <span class=\"badge\">%s only</span>", access);
	vbuf_puts(b, "</div><div class=\"snip\">");
	html_marked(b, json_object_get(h, "snippet"), json_object_get(h, "highlights"));
	vbuf_puts(b, "</div></li>\n");
}

/* search_html - the results page of S (M: the store's answer, NULL: no words) */
static void search_html(struct view_req *r, const struct search *s, json_t *m)
{
	struct vbuf *b = &r->body, base = { 0 };
	json_t *items = json_object_get(m, "items"), *h;
	size_t i, len;
	char *bp;

	html_begin(r, "Search", "Search");
	vbuf_puts(b, "<h1>Search</h1>");
	search_form(b, s);
	if (!s->q.text || !m) {
		vbuf_puts(b, "<p class=\"intro\">Search subjects, bodies and people, and the names"
			  " of records. Every word must match.</p>");
		html_end(r);
		return;
	}
	search_records(b, json_object_get(m, "records"), s->q.text);
	vbuf_printf(b, "<p class=\"meta\">%s%lld conversation(s), %lld message(s) for <q>",
		    json_is_true(json_object_get(m, "capped")) ? "more than " : "",
		    (long long)json_integer_value(json_object_get(m, "total")),
		    (long long)json_integer_value(json_object_get(m, "hits")));
	html_esc(b, s->q.text);
	vbuf_puts(b, "</q></p><ol class=\"hits\">");
	json_array_foreach(items, i, h)
		search_hit(b, h);
	vbuf_puts(b, "</ol>");
	if (!json_array_size(items))
		vbuf_puts(b, "<p class=\"empty\">Nothing found.</p>");
	search_query(&base, s);
	bp = vbuf_take(&base, &len);
	html_pager(r, bp, m);
	free(bp);
	html_end(r);
}

/* search_day - the parameter NAME (YYYY-MM-DD, a day in the pages' zone) as the
 * epoch of its midnight, or of the next one (NEXT); 0 absent; -1 after a 400 */
static int64_t search_day(struct view_req *r, const char *name, const char **text, int next)
{
	const char *v = view_arg(r, name);
	struct tm tm = { 0 };
	char end;
	time_t t;

	*text = v && *v ? v : NULL;
	if (!*text)
		return 0;
	if (strlen(v) != 10 || sscanf(v, "%4d-%2d-%2d%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
				       &end) != 3 || tm.tm_mon < 1 || tm.tm_mon > 12 ||
	    tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_year < 1970) {
		view_error(r, 400, "since and until are days: YYYY-MM-DD.");
		return -1;
	}
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	tm.tm_mday += next;
	tm.tm_isdst = -1;
	t = mktime(&tm);
	if (t == (time_t)-1) {
		view_error(r, 400, "since and until are days: YYYY-MM-DD.");
		return -1;
	}
	return (int64_t)t;
}

/* search_params - S from R's parameters; -1 after a 400 (or the 404 of a record filter) */
static int search_params(struct view_req *r, struct search *s)
{
	static const char *const dirs[][2] = { { "in", "inbound" }, { "out", "outbound" },
					       { "internal", "internal" } };
	const char *att = view_arg(r, "attachment");
	char err[512];
	long id;
	int k, n = 0;

	if (view_paging(r, &s->q.limit, &s->q.offset) < 0)
		return -1;
	s->q.text = view_arg(r, "q");
	if ((s->q.since = search_day(r, "since", &s->since, 0)) < 0 ||
	    (s->q.until = search_day(r, "until", &s->until, 1)) < 0)
		return -1;
	s->dir = view_arg(r, "direction");
	if (s->dir && !*s->dir)
		s->dir = NULL;
	for (k = 0; s->dir && k < 3 && strcmp(s->dir, dirs[k][0]) != 0; k++)
		;
	if (s->dir && k == 3) {
		view_error(r, 400, "direction is in, out or internal.");
		return -1;
	}
	s->q.direction = s->dir ? dirs[k][1] : NULL;
	if (att && strcmp(att, "1") != 0 && *att) {
		view_error(r, 400, "attachment is 1 or absent.");
		return -1;
	}
	s->q.attachment = att && *att;
	for (k = 0; k < 3; k++) {
		id = view_arg_int(r, view_kinds[k].word, 0, INT64_MAX / 2);
		if (id < 0)
			return -1;
		if (id && n++) {
			view_error(r, 400, "A search takes one record: account, contact or deal.");
			return -1;
		}
		if (id) {
			s->q.record_kind = (enum store_view_kind)k;
			s->q.record_id = id;
		}
	}
	if (!s->q.record_id)
		return 0;
	/* a record the user may not see is no filter: it does not exist */
	if (store_view_record(r->st, &r->who, s->q.record_kind, s->q.record_id, 1, 0, &s->on, err,
			      sizeof err) != STORE_OK) {
		view_store_failed(r, err);
		return -1;
	}
	if (!s->on) {
		view_error(r, 404, "There is no such record.");
		return -1;
	}
	return 0;
}

/* page_search - GET /search?q=WORDS[&FILTERS] */
void page_search(struct view_req *r)
{
	struct search s = { 0 };
	char err[512];
	json_t *m = NULL, *names;

	if (search_params(r, &s) < 0)
		goto out;
	if (s.q.text && store_view_search(r->st, &r->who, &s.q, &m, err, sizeof err) != STORE_OK) {
		view_store_failed(r, err);
		goto out;
	}
	/* the records named by the words: on the first page of a search over everything */
	if (m && !s.q.record_id && !s.q.offset && strlen(s.q.text) <= 200) {
		if (store_view_names(r->st, &r->who, s.q.text, 5, &names, err, sizeof err) !=
		    STORE_OK) {
			view_store_failed(r, err);
			goto out;
		}
		json_object_set_new(m, "records", names);
	}
	if (!r->api)
		search_html(r, &s, m);
	else if (!m)
		view_error(r, 400, "q needs at least one word.");
	else {
		api_send(r, m);
		m = NULL;
	}
out:
	json_decref(m);
	json_decref(s.on);
}

/* page_mailboxes - GET /mailboxes (admins): internal mailboxes and their state */
void page_mailboxes(struct view_req *r)
{
	struct vbuf *b = &r->body;
	char err[512];
	json_t *m, *mb;
	size_t i;

	if (store_view_mailboxes(r->st, &m, err, sizeof err) != STORE_OK) {
		view_store_failed(r, err);
		return;
	}
	if (r->api) {
		api_send(r, m);
		return;
	}
	html_begin(r, "Mailboxes", "Mailboxes");
	vbuf_printf(b, "<h1>Mailboxes <span class=\"count\">%zu</span></h1>", json_array_size(m));
	html_grid_begin(b, NULL);
	vbuf_puts(b, "<thead><tr><th>Mailbox</th><th>Name</th><th>State</th>"
		    "<th class=\"num\">Messages logged</th><th>Viewer role</th><th>Team</th></tr>"
		    "</thead><tbody>\n");
	json_array_foreach(m, i, mb) {
		const char *state = json_string_value(json_object_get(mb, "state"));

		vbuf_puts(b, "<tr><td>");
		html_text(b, json_object_get(mb, "address"));
		vbuf_puts(b, "</td><td>");
		html_text(b, json_object_get(mb, "name"));
		vbuf_printf(b, "</td><td><span class=\"state %s\">",
			    state && strcmp(state, "connected") == 0 ? "on" : "off");
		html_text(b, json_object_get(mb, "state"));
		vbuf_printf(b, "</span></td><td class=\"num\">%lld</td><td>",
			    (long long)json_integer_value(json_object_get(mb, "messages")));
		html_text(b, json_object_get(mb, "role"));
		vbuf_puts(b, "</td><td>");
		html_text(b, json_object_get(mb, "team"));
		vbuf_puts(b, "</td></tr>\n");
	}
	html_grid_end(b);
	html_end(r);
	json_decref(m);
}

/* page_login - the login form, with MESSAGE (NULL: none) and STATUS */
void page_login(struct view_req *r, int status, const char *message)
{
	struct vbuf *b = &r->body;
	const char *next = view_arg(r, "next");

	vbuf_free(b);
	r->status = status;
	r->authed = 0;
	if (r->api) {
		view_error(r, status == 200 ? 400 : status, message ? message : "POST /login");
		return;
	}
	html_begin(r, "Log in", NULL);
	vbuf_puts(b, "<section class=\"login\"><h1>Log in</h1>");
	if (message) {
		vbuf_puts(b, "<p class=\"error\" role=\"alert\">");
		html_esc(b, message);
		vbuf_puts(b, "</p>");
	}
	vbuf_puts(b, "<form method=\"post\" action=\"/login\">"
		  "<label>Mailbox address <input type=\"email\" name=\"address\" required"
		  " autocomplete=\"username\" autofocus></label>"
		  "<label>Password <input type=\"password\" name=\"password\" required"
		  " autocomplete=\"current-password\"></label>");
	if (safe_next(next)) {
		vbuf_puts(b, "<input type=\"hidden\" name=\"next\" value=\"");
		html_esc(b, next);
		vbuf_puts(b, "\">");
	}
	vbuf_puts(b, "<button type=\"submit\">Log in</button></form>"
		  "<p class=\"intro\">Users are set up with <code>crmctl user add</code> and"
		  " <code>crmctl user passwd</code>.</p></section>");
	html_end(r);
}

/* page_style - the stylesheet (cacheable: it holds nothing private) */
void page_style(struct view_req *r)
{
	r->ctype = "text/css; charset=utf-8";
	vbuf_add(&r->body, (const char *)view_style_css, view_style_css_len);
}
