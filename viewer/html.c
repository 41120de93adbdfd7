/*
 * html.c - the frame of every page (head, navigation, search box), error
 * pages, and the small pieces pages are made of: dates, people, rules,
 * direction arrows, sizes, highlighted text, pagers, the box a table
 * scrolls in
 *
 * Dates come from the store as UTC ("2025-03-01T15:35:00Z") and are shown
 * in ViewerTimeZone with its abbreviation ("2025-03-01 10:35 EST"); the
 * <time datetime> attribute keeps the UTC value, the JSON API too.
 *
 * Public (view_int.h): html_begin, html_end, view_error and the html_*
 * pieces.  Every value that came from mail goes through html_esc(); the
 * markup around it is constant text.  No script, no inline style: the
 * Content-Security-Policy allows neither.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "view_int.h"

/* nav_link - one navigation link, marked current when it is NAV */
static void nav_link(struct vbuf *b, const char *href, const char *label, const char *nav)
{
	vbuf_printf(b, "<a href=\"%s\"%s>%s</a>", href,
		    nav && strcmp(nav, label) == 0 ? " class=\"cur\" aria-current=\"page\"" : "", label);
}

/* html_begin - doctype, head, navigation; NAV names the current section */
void html_begin(struct view_req *r, const char *title, const char *nav)
{
	struct vbuf *b = &r->body;
	const char *q = nav ? view_arg(r, "q") : NULL;

	r->ctype = "text/html; charset=utf-8";
	vbuf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
		  "<meta name=\"referrer\" content=\"no-referrer\"><title>");
	html_esc(b, title);
	vbuf_puts(b, " \xc2\xb7 crmview</title><link rel=\"stylesheet\" href=\"/static/style.css\">"
		  "</head><body>\n<header class=\"top\"><a class=\"brand\" href=\"/accounts\">crmview</a>");
	if (r->authed) {
		vbuf_puts(b, "<nav>");
		nav_link(b, "/accounts", "Accounts", nav);
		nav_link(b, "/contacts", "Contacts", nav);
		nav_link(b, "/deals", "Deals", nav);
		nav_link(b, "/unassigned", "Unassigned", nav);
		if (r->user.admin)
			nav_link(b, "/mailboxes", "Mailboxes", nav);
		vbuf_puts(b, "</nav><form class=\"search\" action=\"/search\" method=\"get\" role=\"search\">"
			  "<input type=\"search\" name=\"q\" placeholder=\"Search mail\" aria-label=\"Search mail\"");
		if (q && nav && strcmp(nav, "Search") == 0) {
			vbuf_puts(b, " value=\"");
			html_esc(b, q);
			vbuf_puts(b, "\"");
		}
		vbuf_puts(b, "><button type=\"submit\">Search</button></form><span class=\"who\">");
		html_esc(b, r->user.address);
		vbuf_printf(b, " \xc2\xb7 %s", r->user.admin ? "admin" : "member");
		if (r->user.team[0]) {
			vbuf_puts(b, " \xc2\xb7 ");
			html_esc(b, r->user.team);
		}
		if (r->app->conf->viewer_auth == CONF_AUTH_FORM)
			vbuf_puts(b, " <a href=\"/logout\">Log out</a>");
		vbuf_puts(b, "</span>");
	}
	vbuf_puts(b, "</header>\n<main>\n");
}

/* html_end - close the page */
void html_end(struct view_req *r)
{
	vbuf_puts(&r->body, "\n</main></body></html>\n");
}

/* status_text - the reason phrase of an error status */
static const char *status_text(int status)
{
	switch (status) {
	case 400: return "Bad request";
	case 401: return "Not logged in";
	case 403: return "Forbidden";
	case 404: return "Not found";
	case 405: return "Method not allowed";
	case 413: return "Too large";
	case 414: return "Address too long";
	case 503: return "Unavailable";
	default: return "Error";
	}
}

/* view_error - an error answer: a small page, or {"error", "status"} under /api/ */
void view_error(struct view_req *r, int status, const char *message)
{
	char title[64];

	vbuf_free(&r->body);
	r->status = status;
	if (r->api) {
		api_send(r, json_pack("{s:s,s:i}", "error", message, "status", status));
		r->status = status;
		return;
	}
	snprintf(title, sizeof title, "%d %s", status, status_text(status));
	html_begin(r, title, NULL);
	vbuf_puts(&r->body, "<section class=\"error\"><h1>");
	html_esc(&r->body, title);
	vbuf_puts(&r->body, "</h1><p>");
	html_esc(&r->body, message);
	vbuf_puts(&r->body, "</p><p><a href=\"/accounts\">Back to the records</a></p></section>");
	html_end(r);
}

/*
 * html_zone_init - the pages' time zone: ZONE (ViewerTimeZone, checked by
 * conf_load) for every localtime_r() to come.
 *
 * Set once here, at start, before the worker threads exist, and never
 * again: TZ is process-wide state, and setenv() while another thread reads
 * the environment (localtime_r, getenv) is a race, so no request may set it.
 * glibc's localtime_r is MT-safe once TZ is fixed: it reads the zone loaded
 * by tzset() under its own lock.  Computing offsets ourselves would mean
 * reading TZif files and their POSIX TZ footers: the C library does that
 * well already.  The rest of the process sees the zone too; only log.c
 * uses local time, and its stamps carry their offset (%z).
 */
void html_zone_init(const char *zone)
{
	setenv("TZ", zone && *zone ? zone : "UTC", 1);
	tzset();
}

/* iso_utc - the ISO "YYYY-MM-DDTHH:MM:SS[Z]" date S (UTC) into *T; 0, or -1 when it is none */
static int iso_utc(const char *s, time_t *t)
{
	struct tm tm = { 0 };
	const char *end = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;

	if (!end || (*end && strcmp(end, "Z") != 0))
		return -1;
	*t = timegm(&tm);
	return 0;
}

/*
 * html_local_time - the ISO "YYYY-MM-DDTHH:MM:SSZ" date S (UTC) as "YYYY-MM-DD
 * HH:MM ZONE" (HM) or "YYYY-MM-DD" in the pages' zone into OUT (LEN bytes);
 * 0, or -1 when S is no such date (OUT untouched)
 */
int html_local_time(const char *s, int hm, char *out, size_t len)
{
	struct tm tm;
	time_t t;

	if (iso_utc(s, &t) < 0)
		return -1;
	if (!localtime_r(&t, &tm) ||
	    !strftime(out, len, hm ? "%Y-%m-%d %H:%M %Z" : "%Y-%m-%d", &tm))
		return -1;
	return 0;
}

/* html_date - "YYYY-MM-DD HH:MM ZONE" of a date value in the pages' zone ("" for null) */
void html_date(struct vbuf *b, json_t *date)
{
	const char *s = json_string_value(date);
	char when[64];

	if (!s || strlen(s) < 16)
		return;
	if (html_local_time(s, 1, when, sizeof when) < 0)	/* not ISO: as it came */
		snprintf(when, sizeof when, "%.10s %.5s", s, s + 11);
	vbuf_printf(b, "<time datetime=\"%.20s\">", s);
	html_esc(b, when);
	vbuf_puts(b, "</time>");
}

/* html_day - "YYYY-MM-DD" of a date value in the pages' zone, the time and zone as its title */
void html_day(struct vbuf *b, json_t *date)
{
	const char *s = json_string_value(date);
	char day[16], when[64];

	if (!s || strlen(s) < 10)
		return;
	if (html_local_time(s, 0, day, sizeof day) < 0 || html_local_time(s, 1, when, sizeof when) < 0) {
		vbuf_printf(b, "<time datetime=\"%.20s\">%.10s</time>", s, s);
		return;
	}
	vbuf_printf(b, "<time datetime=\"%.20s\" title=\"", s);
	html_esc(b, when);
	vbuf_printf(b, "\">%s</time>", day);
}

/* html_days_since - whole days from the ISO UTC date S to now, -1 when S is no such date */
long html_days_since(const char *s)
{
	time_t t, now = time(NULL);

	if (iso_utc(s, &t) < 0)
		return -1;
	return now > t ? (long)((now - t) / 86400) : 0;
}

/* html_ago - how long ago a date value was ("3 days", "under a day"), the date as
 * its title; nothing for null */
void html_ago(struct vbuf *b, json_t *date)
{
	const char *s = json_string_value(date);
	long days = html_days_since(s);
	char when[64];

	if (days < 0)
		return;
	if (html_local_time(s, 1, when, sizeof when) < 0)
		snprintf(when, sizeof when, "%.20s", s);
	vbuf_printf(b, "<time datetime=\"%.20s\" title=\"", s);
	html_esc(b, when);
	if (days == 0)
		vbuf_puts(b, "\">under a day</time>");
	else
		vbuf_printf(b, "\">%ld day%s</time>", days, days == 1 ? "" : "s");
}

/* html_text - an escaped string value, nothing for null */
void html_text(struct vbuf *b, json_t *s)
{
	if (json_is_string(s))
		html_esc_n(b, json_string_value(s), json_string_length(s));
}

/* html_person - "Name <address>" or the address alone */
void html_person(struct vbuf *b, json_t *p)
{
	const char *name = json_string_value(json_object_get(p, "name"));

	if (name && *name) {
		vbuf_puts(b, "<span class=\"name\">");
		html_esc(b, name);
		vbuf_puts(b, "</span> <span class=\"addr\">&lt;");
		html_text(b, json_object_get(p, "address"));
		vbuf_puts(b, "&gt;</span>");
	} else {
		vbuf_puts(b, "<span class=\"addr\">");
		html_text(b, json_object_get(p, "address"));
		vbuf_puts(b, "</span>");
	}
}

/* html_people - a comma-separated list of people */
void html_people(struct vbuf *b, json_t *list)
{
	size_t i;
	json_t *p;

	json_array_foreach(list, i, p) {
		if (i)
			vbuf_puts(b, ", ");
		html_person(b, p);
	}
}

/* html_people_short - names (addresses where there is none), the address as a tooltip */
void html_people_short(struct vbuf *b, json_t *list)
{
	const char *name;
	size_t i;
	json_t *p;

	json_array_foreach(list, i, p) {
		name = json_string_value(json_object_get(p, "name"));
		vbuf_puts(b, i ? ", <span title=\"" : "<span title=\"");
		html_text(b, json_object_get(p, "address"));
		vbuf_puts(b, "\">");
		if (name && *name)
			html_esc(b, name);
		else
			html_text(b, json_object_get(p, "address"));
		vbuf_puts(b, "</span>");
	}
}

/* html_marked - string S with the [start, length] spans of HL in <mark> */
void html_marked(struct vbuf *b, json_t *s, json_t *hl)
{
	const char *t = json_string_value(s);
	size_t len = json_string_length(s), pos = 0, i, st, n;
	json_t *h;

	if (!t)
		return;
	json_array_foreach(hl, i, h) {
		st = (size_t)json_integer_value(json_array_get(h, 0));
		n = (size_t)json_integer_value(json_array_get(h, 1));
		if (st < pos || st > len || n > len - st)
			continue;
		html_esc_n(b, t + pos, st - pos);
		vbuf_puts(b, "<mark>");
		html_esc_n(b, t + st, n);
		vbuf_puts(b, "</mark>");
		pos = st + n;
	}
	html_esc_n(b, t + pos, len - pos);
}

/* html_rule - a rule as FILE:LINE and its text, or "built-in default" for null */
void html_rule(struct vbuf *b, json_t *rule)
{
	if (!json_is_object(rule)) {
		vbuf_puts(b, "<span class=\"rule\">default (no rule)</span>");
		return;
	}
	vbuf_puts(b, "<span class=\"rule\"><span class=\"where\">");
	html_text(b, json_object_get(rule, "file"));
	vbuf_printf(b, ":%lld</span> <code>",
		    (long long)json_integer_value(json_object_get(rule, "line")));
	html_text(b, json_object_get(rule, "text"));
	vbuf_puts(b, "</code></span>");
}

/* html_arrow - the arrow of a direction: outbound -> , inbound <- , internal <-> */
const char *html_arrow(const char *d)
{
	if (d && strcmp(d, "outbound") == 0)
		return "\xe2\x86\x92";
	if (d && strcmp(d, "inbound") == 0)
		return "\xe2\x86\x90";
	return "\xe2\x86\x94";
}

/* html_arrows - one arrow per message direction, with a title */
void html_arrows(struct vbuf *b, json_t *dirs)
{
	size_t i;
	json_t *d;

	vbuf_puts(b, "<span class=\"dirs\">");
	json_array_foreach(dirs, i, d) {
		const char *w = json_string_value(d);
		const char *cls = w && strcmp(w, "outbound") == 0 ? "out"
				  : w && strcmp(w, "inbound") == 0 ? "in" : "int";

		vbuf_printf(b, "<span class=\"%s\" title=\"%s\">%s</span>", cls, cls, html_arrow(w));
	}
	vbuf_puts(b, "</span>");
}

/* html_size - N bytes as "812 B", "12.3 kB", "4.1 MB" */
void html_size(struct vbuf *b, json_int_t n)
{
	if (n < 1000)
		vbuf_printf(b, "%lld B", (long long)n);
	else if (n < 1000 * 1000)
		vbuf_printf(b, "%.1f kB", (double)n / 1000);
	else
		vbuf_printf(b, "%.1f MB", (double)n / 1e6);
}

/*
 * html_pager - "previous · rows A-B of N · next" for a page value with
 * total, offset, limit; BASE is the page's path and constant query, to
 * which "page=" is added
 */
void html_pager(struct view_req *r, const char *base, json_t *page)
{
	long long total = json_integer_value(json_object_get(page, "total"));
	long long off = json_integer_value(json_object_get(page, "offset"));
	long long lim = json_integer_value(json_object_get(page, "limit"));
	long long pg = lim ? off / lim + 1 : 1, pages = lim ? (total + lim - 1) / lim : 1;
	struct vbuf *b = &r->body;
	const char *sep = strchr(base, '?') ? "&amp;" : "?";

	if (total <= lim && off == 0)
		return;
	vbuf_puts(b, "<nav class=\"pager\">");
	if (pg > 1) {
		vbuf_puts(b, "<a rel=\"prev\" href=\"");
		vbuf_puts(b, base);
		vbuf_printf(b, "%spage=%lld\">\xe2\x80\xb9 previous</a> ", sep, pg - 1);
	}
	vbuf_printf(b, "<span>page %lld of %lld</span>", pg, pages ? pages : 1);
	if (pg < pages) {
		vbuf_puts(b, " <a rel=\"next\" href=\"");
		vbuf_puts(b, base);
		vbuf_printf(b, "%spage=%lld\">next \xe2\x80\xba</a>", sep, pg + 1);
	}
	vbuf_puts(b, "</nav>");
}

/*
 * html_grid_begin - open a table.grid (with class CLS too unless NULL) in a
 * div.scroll: on a narrow screen the table scrolls sideways in that box,
 * never the page; the caller writes the thead and opens the tbody
 */
void html_grid_begin(struct vbuf *b, const char *cls)
{
	vbuf_printf(b, "<div class=\"scroll\"><table class=\"grid%s%s\">", cls ? " " : "",
		    cls ? cls : "");
}

/* html_grid_end - close the tbody, the table and its scroll box */
void html_grid_end(struct vbuf *b)
{
	vbuf_puts(b, "</tbody></table></div>");
}
