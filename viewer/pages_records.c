/*
 * pages_records.c - one record (account, contact or deal) with its fields,
 * its contacts and deals, and its timeline of threads, newest first (the
 * tables of records are pages_tables.c)
 *
 * Public (view_int.h): page_record, and view_paging, view_store_failed,
 * view_timeline and view_record_link (shared with the other pages).
 * Parameters: page (HTML) or limit and offset (API).  A bad value is a
 * 400; an unknown or hidden record a 404.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "view_int.h"

const struct view_kind view_kinds[3] = {
	{ "accounts", "Accounts", "account", "domain" },
	{ "contacts", "Contacts", "contact", "address" },
	{ "deals", "Deals", "deal", "key" },
};

/* view_paging - limit and offset from page (HTML) or limit/offset (API); -1 after a 400 */
int view_paging(struct view_req *r, int *limit, int *offset)
{
	long lim, off, pg;

	if (r->api) {
		lim = view_arg_int(r, "limit", VIEW_PAGE_SIZE, STORE_VIEW_MAX_LIMIT);
		off = lim < 0 ? -1 : view_arg_int(r, "offset", 0, STORE_VIEW_MAX_OFFSET);
		if (lim == 0 && off >= 0) {
			view_error(r, 400, "limit must be 1 or more.");
			return -1;
		}
	} else {
		pg = view_arg_int(r, "page", 1, STORE_VIEW_MAX_OFFSET / VIEW_PAGE_SIZE);
		lim = VIEW_PAGE_SIZE;
		off = pg < 0 ? -1 : pg == 0 ? 0 : (pg - 1) * VIEW_PAGE_SIZE;
	}
	if (lim < 0 || off < 0)
		return -1;
	*limit = (int)lim;
	*offset = (int)off;
	return 0;
}

/* view_store_failed - a store error: logged, 503 */
void view_store_failed(struct view_req *r, const char *err)
{
	msg_warn("%s", err);
	view_error(r, 503, "The store cannot be read right now.");
}

/* count_cell - a number cell */
static void count_cell(struct vbuf *b, json_t *v)
{
	vbuf_printf(b, "<td class=\"num\">%lld</td>", (long long)json_integer_value(v));
}

/* view_record_link - see view_int.h */
void view_record_link(struct vbuf *b, const char *kind, json_t *id, json_t *text, json_t *alt)
{
	vbuf_printf(b, "<a href=\"/%s/%lld\">", kind, (long long)json_integer_value(id));
	html_text(b, json_string_length(text) ? text : alt);
	vbuf_puts(b, "</a>");
}

/* view_timeline - the timeline table of a record (or the unassigned page) */
void view_timeline(struct view_req *r, json_t *items, int with_reason)
{
	struct vbuf *b = &r->body;
	const char *access;
	size_t i;
	json_t *t;
	long long n;

	html_grid_begin(b, "timeline");
	vbuf_printf(b, "<thead><tr><th>Last</th><th>Dir</th>"
		    "<th>Conversation</th><th>People</th><th class=\"num\">Msgs</th>"
		    "<th class=\"num\" title=\"attachments\">Att.</th>%s</tr></thead><tbody>\n",
		    with_reason ? "<th>Why unassigned</th>" : "");
	json_array_foreach(items, i, t) {
		access = json_string_value(json_object_get(t, "access"));
		vbuf_puts(b, "<tr><td class=\"date\">");
		html_day(b, json_object_get(t, "last_date"));
		vbuf_puts(b, "</td><td class=\"arrows\">");
		html_arrows(b, json_object_get(t, "directions"));
		vbuf_printf(b, "</td><td class=\"conv\"><a href=\"/threads/%lld\">",
			    (long long)json_integer_value(json_object_get(t, "id")));
		if (json_is_string(json_object_get(t, "subject")))
			html_text(b, json_object_get(t, "subject"));
		else
			vbuf_puts(b, "<span class=\"hidden\">(subject not shown)</span>");
		vbuf_puts(b, "</a>");
		if (access && strcmp(access, "everything") != 0)
			vbuf_printf(b, " <span class=\"badge\">%s only</span>", access);
		if (json_is_string(json_object_get(t, "waiting_for_us_since"))) {
			vbuf_puts(b, " <span class=\"badge waiting\">waiting for us, ");
			html_ago(b, json_object_get(t, "waiting_for_us_since"));
			vbuf_puts(b, "</span>");
		} else if (json_is_string(json_object_get(t, "waiting_for_them_since")))
			vbuf_puts(b, " <span class=\"badge\">waiting for them</span>");
		if (json_string_length(json_object_get(t, "snippet"))) {
			vbuf_puts(b, "<div class=\"snip\">");
			html_text(b, json_object_get(t, "snippet"));
			vbuf_puts(b, "</div>");
		}
		vbuf_puts(b, "</td><td class=\"people\">");
		html_people_short(b, json_object_get(t, "participants"));
		n = json_integer_value(json_object_get(t, "participants_total")) -
		    (long long)json_array_size(json_object_get(t, "participants"));
		if (n > 0)
			vbuf_printf(b, " <span class=\"more\">+%lld</span>", n);
		vbuf_puts(b, "</td>");
		count_cell(b, json_object_get(t, "messages"));
		n = json_integer_value(json_object_get(t, "attachments"));
		if (n)
			vbuf_printf(b, "<td class=\"num att\" title=\"attachments\">%lld</td>", n);
		else
			vbuf_puts(b, "<td></td>");
		if (with_reason) {
			vbuf_puts(b, "<td class=\"why\">");
			words_unassigned(b, json_object_get(t, "unassigned"), r->user.admin);
			vbuf_puts(b, "</td>");
		}
		vbuf_puts(b, "</tr>\n");
	}
	html_grid_end(b);
	if (!json_array_size(items))
		vbuf_puts(b, "<p class=\"empty\">No conversations.</p>");
}

/*
 * deal_status - after a deal in a side list: its last activity, and for an
 * open one whether it waits for our reply or has been still for
 * VIEW_STALE_DAYS or more (its "activity"; nothing for a contact)
 */
static void deal_status(struct vbuf *b, json_t *deal)
{
	const char *status = json_string_value(json_object_get(deal, "status"));
	json_t *st = json_object_get(deal, "activity"), *last;

	if (!json_is_object(st))
		return;
	last = json_object_get(st, "last_activity");
	vbuf_puts(b, "<div class=\"deal-status\">");
	if (json_is_string(last)) {
		vbuf_puts(b, "last activity ");
		html_ago(b, last);
		vbuf_puts(b, " ago");
	} else
		vbuf_puts(b, "no conversation yet");
	if (status && strcmp(status, "open") == 0) {
		if (json_is_string(json_object_get(st, "waiting_for_us_since")))
			vbuf_puts(b, " <span class=\"badge waiting\">waiting for our reply</span>");
		else if (html_days_since(json_string_value(last)) >= VIEW_STALE_DAYS)
			vbuf_puts(b, " <span class=\"badge stale\">stale</span>");
	}
	vbuf_puts(b, "</div>");
}

/* side_list - a titled list of linked records (contacts or deals) */
static void side_list(struct vbuf *b, const char *title, const char *kind, json_t *list,
		      const char *key)
{
	size_t i;
	json_t *it;

	vbuf_printf(b, "<section class=\"side\"><h2>%s <span class=\"count\">%zu</span></h2><ul>",
		    title, json_array_size(list));
	json_array_foreach(list, i, it) {
		vbuf_puts(b, "<li>");
		if (json_is_integer(json_object_get(it, "id")))
			view_record_link(b, kind, json_object_get(it, "id"), json_object_get(it, "name"),
				    json_object_get(it, key));
		else
			html_text(b, json_object_get(it, key));
		if (json_string_length(json_object_get(it, "name")) && strcmp(key, "key") != 0) {
			vbuf_puts(b, " <span class=\"addr\">");
			html_text(b, json_object_get(it, key));
			vbuf_puts(b, "</span>");
		}
		if (json_is_string(json_object_get(it, "status"))) {
			vbuf_puts(b, " <span class=\"badge\">");
			html_text(b, json_object_get(it, "status"));
			vbuf_puts(b, "</span>");
		}
		deal_status(b, it);
		vbuf_puts(b, "</li>");
	}
	if (!json_array_size(list))
		vbuf_puts(b, "<li class=\"empty\">none</li>");
	vbuf_puts(b, "</ul></section>");
}

/* wait_field - a "waiting" entry of a record's status: since when and how long, or "no" */
static void wait_field(struct vbuf *b, const char *head, json_t *since)
{
	vbuf_printf(b, "<dt>%s</dt><dd>", head);
	if (json_is_string(since)) {
		vbuf_puts(b, "<strong class=\"waiting\">");
		html_ago(b, since);
		vbuf_puts(b, "</strong>, since ");
		html_date(b, since);
	} else
		vbuf_puts(b, "no");
	vbuf_puts(b, "</dd>");
}

/*
 * status_fields - the record's status at a glance (its "activity", see
 * store_view_record): who owes a reply and since when, when each side last
 * wrote, and how long since either did
 */
static void status_fields(struct vbuf *b, json_t *status)
{
	json_t *in = json_object_get(status, "last_inbound");
	json_t *out = json_object_get(status, "last_outbound");
	json_t *last = !json_is_string(out) ? in : !json_is_string(in) ? out
		       : strcmp(json_string_value(in), json_string_value(out)) > 0 ? in : out;

	wait_field(b, "Waiting for our reply", json_object_get(status, "waiting_for_us_since"));
	wait_field(b, "Waiting for their reply", json_object_get(status, "waiting_for_them_since"));
	vbuf_puts(b, "<dt>They last wrote</dt><dd>");
	html_date(b, in);
	vbuf_puts(b, "</dd><dt>We last wrote</dt><dd>");
	html_date(b, out);
	vbuf_puts(b, "</dd><dt>Last contact</dt><dd>");
	if (json_is_string(last)) {
		html_ago(b, last);
		vbuf_puts(b, " ago");
	} else
		vbuf_puts(b, "never");
	vbuf_puts(b, "</dd>");
}

/* record_fields - the definition list of a record's own fields */
static void record_fields(struct vbuf *b, enum store_view_kind kind, json_t *m)
{
	json_t *acc = json_object_get(m, "account");
	size_t i;
	json_t *d;

	vbuf_puts(b, "<dl class=\"fields\">");
	if (kind == STORE_VIEW_ACCOUNTS) {
		vbuf_puts(b, "<dt>Domains</dt><dd>");
		json_array_foreach(json_object_get(m, "domains"), i, d) {
			if (i)
				vbuf_puts(b, ", ");
			html_text(b, json_object_get(d, "domain"));
		}
		vbuf_puts(b, "</dd>");
	}
	if (kind == STORE_VIEW_CONTACTS) {
		vbuf_puts(b, "<dt>Address</dt><dd>");
		html_text(b, json_object_get(m, "address"));
		vbuf_puts(b, "</dd>");
	}
	if (kind == STORE_VIEW_DEALS) {
		vbuf_puts(b, "<dt>Key</dt><dd>");
		html_text(b, json_object_get(m, "key"));
		vbuf_puts(b, "</dd><dt>Status</dt><dd>");
		html_text(b, json_object_get(m, "status"));
		vbuf_puts(b, "</dd>");
	}
	if (kind != STORE_VIEW_ACCOUNTS) {
		vbuf_puts(b, "<dt>Account</dt><dd>");
		if (json_is_object(acc))
			view_record_link(b, "accounts", json_object_get(acc, "id"),
				    json_object_get(acc, "name"), json_object_get(acc, "domain"));
		else
			vbuf_puts(b, "none");
		vbuf_puts(b, "</dd>");
	}
	status_fields(b, json_object_get(m, "activity"));
	vbuf_puts(b, "<dt>Last activity</dt><dd>");
	html_date(b, json_object_get(m, "last_activity"));
	vbuf_printf(b, "</dd><dt>Threads</dt><dd>%lld</dd><dt>%s</dt><dd>",
		    (long long)json_integer_value(json_object_get(m, "threads")),
		    kind == STORE_VIEW_CONTACTS ? "Captured by" : "Made by");
	html_rule(b, json_object_get(m, kind == STORE_VIEW_CONTACTS ? "captured_by" : "rule"));
	vbuf_puts(b, "</dd></dl>");
}

/*
 * write_link - "Write": a mailto: link to the record's people (a contact's
 * address, an account's or deal's contacts), a deal's name as the subject
 */
static void write_link(struct view_req *r, enum store_view_kind kind, json_t *m)
{
	struct vbuf *b = &r->body, u = { 0 };
	json_t *one = NULL, *people = json_object_get(m, "contacts");

	if (kind == STORE_VIEW_CONTACTS) {
		one = json_array();
		json_array_append(one, json_object_get(m, "address"));
		people = one;
	}
	if (!json_array_size(people)) {
		json_decref(one);
		return;
	}
	mailto_write(r, &u, people, "address", kind == STORE_VIEW_DEALS
		     ? json_string_value(json_object_get(m, "name")) : NULL);
	vbuf_puts(b, "<p class=\"write\"><a class=\"mailto\" href=\"");
	html_esc_n(b, u.p, u.len);
	vbuf_puts(b, "\">Write</a></p>");
	vbuf_free(&u);
	json_decref(one);
}

/* record_html - one record page from its model M */
static void record_html(struct view_req *r, enum store_view_kind kind, json_t *m)
{
	struct vbuf *b = &r->body;
	json_t *name = json_object_get(m, "name"), *key = json_object_get(m, view_kinds[kind].key);
	json_t *tl = json_object_get(m, "timeline");
	char base[64];

	html_begin(r, json_string_length(name) ? json_string_value(name) : json_string_value(key),
		   view_kinds[kind].title);
	vbuf_printf(b, "<p class=\"crumbs\"><a href=\"/%s\">%s</a></p><h1>", view_kinds[kind].path,
		    view_kinds[kind].title);
	html_text(b, json_string_length(name) ? name : key);
	vbuf_puts(b, " <small>");
	html_text(b, key);
	vbuf_puts(b, "</small></h1>");
	write_link(r, kind, m);
	vbuf_printf(b, "<form class=\"filter\" method=\"get\" action=\"/search\">"
		    "<input type=\"hidden\" name=\"%s\" value=\"%lld\"><input type=\"text\" "
		    "name=\"q\" aria-label=\"Search this record\" placeholder=\"Search its "
		    "conversations\"> <button type=\"submit\">Search</button></form>",
		    view_kinds[kind].word, (long long)json_integer_value(json_object_get(m, "id")));
	vbuf_puts(b, "<div class=\"record\"><div class=\"main\">");
	record_fields(b, kind, m);
	vbuf_printf(b, "<h2>Timeline <span class=\"count\">%lld</span></h2>",
		    (long long)json_integer_value(json_object_get(tl, "total")));
	view_timeline(r, json_object_get(tl, "items"), 0);
	snprintf(base, sizeof base, "/%s/%lld", view_kinds[kind].path,
		 (long long)json_integer_value(json_object_get(m, "id")));
	html_pager(r, base, tl);
	vbuf_puts(b, "</div><aside>");
	if (kind != STORE_VIEW_CONTACTS)
		side_list(b, "Contacts", "contacts", json_object_get(m, "contacts"), "address");
	if (kind != STORE_VIEW_DEALS)
		side_list(b, "Deals", "deals", json_object_get(m, "deals"), "key");
	vbuf_puts(b, "</aside></div>");
	html_end(r);
}

/* page_record - GET /accounts/ID, /contacts/ID, /deals/ID (and /api/...) */
void page_record(struct view_req *r, enum store_view_kind kind, int64_t id)
{
	char err[512];
	json_t *m;
	int limit, offset;

	if (view_paging(r, &limit, &offset) < 0)
		return;
	if (store_view_record(r->st, &r->who, kind, id, limit, offset, &m, err, sizeof err) !=
	    STORE_OK) {
		view_store_failed(r, err);
		return;
	}
	if (!m) {
		view_error(r, 404, "There is no such record.");
		return;
	}
	if (r->api)
		api_send(r, m);
	else {
		record_html(r, kind, m);
		json_decref(m);
	}
}
