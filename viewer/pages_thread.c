/*
 * pages_thread.c - one thread: every message in order with from/to/cc,
 * date, direction, its text body with quoted history folded, attachments
 * (name linked to its download, type, size; small images folded as
 * "N inline images"), and why the thread is here, in plain words (words.c):
 * who can read it, the records it is on and because of whom, why it is on
 * none; admins also see the rules (file:line, text) that decided.  A link
 * back to its first record tops the page; a private thread is marked so.
 *
 * Public (view_int.h): page_thread.  The body is shown as escaped text in
 * <pre>; HTML mail was turned to text by the parser and is never rendered.
 * Quoted spans (the parser's [start, length] byte ranges) are folded in
 * <details>, which needs no script.  Each view is written to the access
 * log with the thread id and the access level.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "view_int.h"

#define VIEW_SMALL_IMAGE (30 * 1024) /* bytes below which an image is folded as inline */

/* body_html - BODY with its QUOTES spans folded */
static void body_html(struct vbuf *b, json_t *body, json_t *quotes)
{
	const char *t = json_string_value(body);
	size_t len = json_string_length(body), pos = 0, i, st, n;
	json_t *q;

	vbuf_puts(b, "<div class=\"body\">");
	json_array_foreach(quotes, i, q) {
		st = (size_t)json_integer_value(json_array_get(q, 0));
		n = (size_t)json_integer_value(json_array_get(q, 1));
		if (!t || st < pos || st > len || n > len - st || n == 0)
			continue;
		if (st > pos) {
			vbuf_puts(b, "<pre>");
			html_esc_n(b, t + pos, st - pos);
			vbuf_puts(b, "</pre>");
		}
		vbuf_puts(b, "<details class=\"quote\"><summary>quoted text</summary><pre>");
		html_esc_n(b, t + st, n);
		vbuf_puts(b, "</pre></details>");
		pos = st + n;
	}
	if (t && pos < len) {
		vbuf_puts(b, "<pre>");
		html_esc_n(b, t + pos, len - pos);
		vbuf_puts(b, "</pre>");
	}
	vbuf_puts(b, "</div>");
}

/*
 * small_image - 1 when attachment A is an image under VIEW_SMALL_IMAGE
 * bytes: what signatures and letterheads carry, listed folded.  The store
 * keeps no Content-Disposition or Content-ID, so the type and size decide.
 */
static int small_image(json_t *a)
{
	const char *type = json_string_value(json_object_get(a, "content_type"));

	return type && strncmp(type, "image/", 6) == 0 &&
	       json_integer_value(json_object_get(a, "size")) < VIEW_SMALL_IMAGE;
}

/* attachment_li - one attachment: its name linked to its download, type, size */
static void attachment_li(struct vbuf *b, json_t *a, long long tid)
{
	vbuf_printf(b, "<li><a class=\"fname\" href=\"/threads/%lld/attachments/%lld\">", tid,
		    (long long)json_integer_value(json_object_get(a, "id")));
	if (json_string_length(json_object_get(a, "filename")))
		html_text(b, json_object_get(a, "filename"));
	else
		vbuf_puts(b, "(no name)");
	vbuf_puts(b, "</a> <span class=\"ctype\">");
	html_text(b, json_object_get(a, "content_type"));
	vbuf_puts(b, "</span> <span class=\"size\">");
	html_size(b, json_integer_value(json_object_get(a, "size")));
	vbuf_puts(b, "</span></li>");
}

/*
 * attachments_html - the attachment list of a message of thread TID
 * (names and types from mail: escaped), small images folded apart
 */
static void attachments_html(struct vbuf *b, json_t *atts, long long tid)
{
	size_t i, n_small = 0;
	json_t *a;

	if (json_is_integer(atts)) {
		if (json_integer_value(atts))
			vbuf_printf(b, "<p class=\"att\">%lld attachment(s)</p>",
				    (long long)json_integer_value(atts));
		return;
	}
	if (!json_array_size(atts))
		return;
	json_array_foreach(atts, i, a)
		n_small += (size_t)small_image(a);
	vbuf_puts(b, "<h4 class=\"att\">Attachments</h4>");
	if (n_small < json_array_size(atts)) {
		vbuf_puts(b, "<ul class=\"att\">");
		json_array_foreach(atts, i, a)
			if (!small_image(a))
				attachment_li(b, a, tid);
		vbuf_puts(b, "</ul>");
	}
	if (!n_small)
		return;
	vbuf_printf(b, "<details class=\"att-inline\"><summary>%zu inline image%s</summary>"
		    "<ul class=\"att\">", n_small, n_small == 1 ? "" : "s");
	json_array_foreach(atts, i, a)
		if (small_image(a))
			attachment_li(b, a, tid);
	vbuf_puts(b, "</ul></details>");
}

/* people_row - "<dt>LABEL</dt><dd>people</dd>" when LIST is not empty */
static void people_row(struct vbuf *b, const char *label, json_t *list)
{
	if (!json_array_size(list))
		return;
	vbuf_printf(b, "<dt>%s</dt><dd>", label);
	html_people(b, list);
	vbuf_puts(b, "</dd>");
}

/*
 * reply_links - Reply and Reply all (mailto.c) under a message shown in
 * full; a message shown in part offers none
 */
static void reply_links(struct view_req *r, json_t *m)
{
	struct vbuf *b = &r->body, u = { 0 };

	if (!json_is_object(json_object_get(m, "reply")))
		return;
	vbuf_puts(b, "<p class=\"reply\">");
	for (int all = 0; all < 2; all++) {
		u.len = 0;
		mailto_reply(r, &u, m, all);
		vbuf_puts(b, all ? " <a class=\"mailto\" href=\"" : "<a class=\"mailto\" href=\"");
		html_esc_n(b, u.p, u.len);
		vbuf_puts(b, all ? "\">Reply all</a>" : "\">Reply</a>");
	}
	vbuf_free(&u);
	vbuf_puts(b, "</p>");
}

/* message_html - one message of thread TID (to an admin: with the rule that logged it) */
static void message_html(struct view_req *r, json_t *m, long long tid)
{
	struct vbuf *b = &r->body;
	const char *dir = json_string_value(json_object_get(m, "direction"));
	json_t *log = json_object_get(m, "log"), *flags = json_object_get(m, "flags"), *f;
	size_t i;

	vbuf_printf(b, "<article class=\"msg %s\" id=\"m%lld\"><header><span class=\"dir\">%s %s</span> ",
		    dir ? dir : "", (long long)json_integer_value(json_object_get(m, "id")),
		    html_arrow(dir), dir ? dir : "");
	html_date(b, json_object_get(m, "date"));
	json_array_foreach(flags, i, f) {
		vbuf_puts(b, " <span class=\"badge\">");
		html_text(b, f);
		vbuf_puts(b, "</span>");
	}
	vbuf_puts(b, "</header>");
	if (json_is_string(json_object_get(m, "subject"))) {
		vbuf_puts(b, "<h3>");
		html_text(b, json_object_get(m, "subject"));
		vbuf_puts(b, "</h3>");
	}
	vbuf_puts(b, "<dl class=\"hdrs\"><dt>From</dt><dd>");
	if (json_is_object(json_object_get(m, "from")))
		html_person(b, json_object_get(m, "from"));
	vbuf_puts(b, "</dd>");
	people_row(b, "To", json_object_get(m, "to"));
	people_row(b, "Cc", json_object_get(m, "cc"));
	people_row(b, "Bcc", json_object_get(m, "bcc"));
	vbuf_puts(b, "</dl>");
	if (json_is_string(json_object_get(m, "body")))
		body_html(b, json_object_get(m, "body"), json_object_get(m, "quotes"));
	else if (json_is_true(json_object_get(m, "body_omitted")))
		vbuf_puts(b, "<p class=\"hidden\">(body not shown: this page is long enough)</p>");
	else
		vbuf_puts(b, "<p class=\"hidden\">(content not shown to you)</p>");
	attachments_html(b, json_object_get(m, "attachments"), tid);
	vbuf_puts(b, "<p class=\"log\">");
	html_text(b, json_object_get(log, "status"));
	if (json_string_length(json_object_get(log, "reason"))) {
		vbuf_puts(b, " (");
		html_text(b, json_object_get(log, "reason"));
		vbuf_puts(b, ")");
	}
	if (r->user.admin) {
		vbuf_puts(b, " by ");
		html_rule(b, json_object_get(log, "rule"));
	}
	vbuf_puts(b, "</p>");
	reply_links(r, m);
	vbuf_puts(b, "</article>\n");
}

/* why_html - why the thread is here, in words: visibility, links, unassigned (ADMIN: the rules) */
static void why_html(struct vbuf *b, json_t *t, int admin)
{
	json_t *l;
	size_t i;

	vbuf_puts(b, "<section class=\"why\"><h2>Why it is here</h2><ul><li class=\"vis\">");
	words_visibility(b, json_object_get(t, "visibility"), admin);
	vbuf_puts(b, "</li>");
	json_array_foreach(json_object_get(t, "links"), i, l) {
		vbuf_puts(b, "<li class=\"link\">");
		words_link(b, l, admin);
		vbuf_puts(b, "</li>");
	}
	if (json_string_length(json_object_get(t, "unassigned"))) {
		vbuf_puts(b, "<li class=\"unassigned\">Not on any record: ");
		words_unassigned(b, json_object_get(t, "unassigned"), admin);
		vbuf_puts(b, "</li>");
	}
	vbuf_puts(b, "</ul></section>");
}

/*
 * back_link - "<- Acme" to the thread's first linked account, else deal,
 * else contact; nothing for a thread on no record
 */
static void back_link(struct vbuf *b, json_t *links)
{
	static const char *const order[] = { "account", "deal", "contact" };
	const char *kind, *label;
	size_t i;
	json_t *l;

	for (size_t k = 0; k < 3; k++)
		json_array_foreach(links, i, l) {
			kind = json_string_value(json_object_get(l, "kind"));
			if (!kind || strcmp(kind, order[k]) != 0)
				continue;
			label = json_string_length(json_object_get(l, "name"))
				? json_string_value(json_object_get(l, "name"))
				: json_string_value(json_object_get(l, "key"));
			vbuf_printf(b, "<nav class=\"back\"><a href=\"/%ss/%lld\" rel=\"up\">"
				    "\xe2\x86\x90 ", kind,
				    (long long)json_integer_value(json_object_get(l, "id")));
			html_esc(b, label ? label : "");
			vbuf_puts(b, "</a></nav>");
			return;
		}
}

/* thread_html - the thread page from its model T */
static void thread_html(struct view_req *r, json_t *t)
{
	struct vbuf *b = &r->body;
	json_t *subject = json_object_get(t, "subject"), *m;
	const char *access = json_string_value(json_object_get(t, "access"));
	char base[48];
	size_t i;

	html_begin(r, json_is_string(subject) ? json_string_value(subject) : "Thread", NULL);
	back_link(b, json_object_get(t, "links"));
	vbuf_puts(b, "<h1>");
	if (json_is_string(subject))
		html_text(b, subject);
	else
		vbuf_puts(b, "<span class=\"hidden\">(subject not shown)</span>");
	if (words_private(json_object_get(t, "visibility")))
		vbuf_puts(b, " <span class=\"badge private\" title=\"Only the people inside can see"
			  " this thread; nobody else sees even that it exists\">Private</span>");
	vbuf_puts(b, "</h1><p class=\"meta\">");
	vbuf_printf(b, "%lld message(s) \xc2\xb7 ",
		    (long long)json_integer_value(json_object_get(t, "messages")));
	html_date(b, json_object_get(t, "first_date"));
	vbuf_puts(b, " \xe2\x80\x93 ");
	html_date(b, json_object_get(t, "last_date"));
	if (access && strcmp(access, "everything") != 0)
		vbuf_printf(b, " <span class=\"badge\">you see %s only</span>", access);
	vbuf_puts(b, "</p>");
	why_html(b, t, r->user.admin);
	json_array_foreach(json_object_get(t, "items"), i, m)
		message_html(r, m, (long long)json_integer_value(json_object_get(t, "id")));
	snprintf(base, sizeof base, "/threads/%lld",
		 (long long)json_integer_value(json_object_get(t, "id")));
	json_object_set_new(t, "total", json_integer(json_integer_value(json_object_get(t, "messages"))));
	html_pager(r, base, t);
	html_end(r);
}

/* page_thread - GET /threads/ID (and /api/threads/ID) */
void page_thread(struct view_req *r, int64_t id)
{
	char err[512];
	json_t *t;
	int limit, offset;

	if (view_paging(r, &limit, &offset) < 0)
		return;
	if (store_view_thread(r->st, &r->who, id, limit, offset, &t, err, sizeof err) != STORE_OK) {
		view_store_failed(r, err);
		return;
	}
	if (!t) {
		snprintf(r->log_note, sizeof r->log_note, " thread=%lld access=none", (long long)id);
		view_error(r, 404, "There is no such thread.");
		return;
	}
	snprintf(r->log_note, sizeof r->log_note, " thread=%lld access=%s", (long long)id,
		 json_string_value(json_object_get(t, "access")));
	if (r->api)
		api_send(r, t);
	else {
		thread_html(r, t);
		json_decref(t);
	}
}
