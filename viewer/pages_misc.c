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

/* search_html - the results page */
static void search_html(struct view_req *r, const char *q, json_t *m)
{
	struct vbuf *b = &r->body, base = { 0 };
	json_t *items = json_object_get(m, "items"), *h;
	size_t i, len;
	char *bp;

	html_begin(r, "Search", "Search");
	vbuf_puts(b, "<h1>Search</h1>");
	if (!q || !m) {
		vbuf_puts(b, "<p class=\"intro\">Search subjects, bodies and people. Every word must"
			  " match.</p>");
		html_end(r);
		return;
	}
	vbuf_printf(b, "<p class=\"meta\">%s%lld result(s) for <q>",
		    json_is_true(json_object_get(m, "capped")) ? "more than " : "",
		    (long long)json_integer_value(json_object_get(m, "total")));
	html_esc(b, q);
	vbuf_puts(b, "</q></p><ol class=\"hits\">");
	json_array_foreach(items, i, h) {
		const char *access = json_string_value(json_object_get(h, "access"));

		vbuf_puts(b, "<li><div class=\"hit-head\">");
		html_day(b, json_object_get(h, "date"));
		vbuf_printf(b, " <span class=\"dir\">%s</span> <a href=\"/threads/%lld#m%lld\">",
			    html_arrow(json_string_value(json_object_get(h, "direction"))),
			    (long long)json_integer_value(json_object_get(h, "thread")),
			    (long long)json_integer_value(json_object_get(h, "message")));
		if (json_is_string(json_object_get(h, "subject")))
			html_marked(b, json_object_get(h, "subject"),
				    json_object_get(h, "subject_highlights"));
		else
			vbuf_puts(b, "<span class=\"hidden\">(subject not shown)</span>");
		vbuf_puts(b, "</a> <span class=\"from\">");
		html_person(b, json_object_get(h, "from"));
		vbuf_puts(b, "</span>");
		if (access && strcmp(access, "everything") != 0)
			vbuf_printf(b, " <span class=\"badge\">%s only</span>", access);
		vbuf_puts(b, "</div><div class=\"snip\">");
		html_marked(b, json_object_get(h, "snippet"), json_object_get(h, "highlights"));
		vbuf_puts(b, "</div></li>\n");
	}
	vbuf_puts(b, "</ol>");
	if (!json_array_size(items))
		vbuf_puts(b, "<p class=\"empty\">Nothing found.</p>");
	vbuf_puts(&base, "/search?q=");
	url_esc(&base, q);
	bp = vbuf_take(&base, &len);
	html_pager(r, bp, m);
	free(bp);
	html_end(r);
}

/* page_search - GET /search?q=WORDS */
void page_search(struct view_req *r)
{
	const char *q = view_arg(r, "q");
	char err[512];
	json_t *m = NULL;
	int limit, offset;

	if (view_paging(r, &limit, &offset) < 0)
		return;
	if (q && store_view_search(r->st, &r->who, q, limit, offset, &m, err, sizeof err) !=
	    STORE_OK) {
		view_store_failed(r, err);
		return;
	}
	if (r->api) {
		if (!m)
			view_error(r, 400, "q needs at least one word.");
		else
			api_send(r, m);
		return;
	}
	search_html(r, q, m);
	json_decref(m);
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
