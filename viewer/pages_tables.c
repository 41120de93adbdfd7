/*
 * pages_tables.c - the records tables: accounts, contacts and deals as a
 * spreadsheet would show them, and the same view as a CSV download
 *
 * Public (view_int.h): page_records, page_records_csv.  Parameters, the
 * same for the page, the API and the download:
 *   q       a substring of any text column
 *   COLUMN  a substring of that column: name, domain (accounts), address
 *           (contacts), key (deals), account, status (deals)
 *   sort    up to three column names, comma-separated, the first the most
 *           significant: the columns' sort names below (also the older
 *           names domain and deals); the status columns waiting_us,
 *           waiting_them, last_in, last_out
 *   dir     asc or desc for each sort key in turn; a key without one gets
 *           its column's own (names and waits ascending, dates and counts
 *           descending)
 *   per     rows of a page: 1..500 (HTML; the API has limit and offset)
 *   page    which page (HTML)
 * A bad value is a 400.  The download holds every row of the view, in the
 * order of the page, counted and cut by the same visibility as the page;
 * one that would hold more than STORE_VIEW_MAX_ROWS is refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "view_int.h"

#define TABLE_PER_MAX   STORE_VIEW_MAX_LIMIT
#define TABLE_MATCH_MAX 200            /* bytes of a filter */

/* how a column's cell is written */
enum cell { CELL_NAME, CELL_SECOND, CELL_ACCOUNT, CELL_TEXT, CELL_DAY, CELL_COUNT, CELL_AGO };

/* one column of a records table */
struct column {
	const char *head;              /* its head */
	const char *item;              /* its key in the model's items and in the CSV head */
	const char *sort_name;         /* its sort= name */
	int sort;                      /* enum store_view_sort */
	int desc_first;                /* 1: a first click sorts it descending */
	int match;                     /* enum store_view_col, -1: no filter */
	const char *param;             /* the filter's parameter */
	enum cell cell;
};

#define COL_END { NULL, NULL, NULL, 0, 0, -1, NULL, CELL_TEXT }
/* the status of every kind of record (crmview(8)): waits shown as how long */
#define STATUS_COLS \
	{ "Waiting for us", "waiting_for_us_since", "waiting_us", STORE_SORT_WAIT_US, 0, -1, NULL, \
	  CELL_AGO }, \
	{ "Waiting for them", "waiting_for_them_since", "waiting_them", STORE_SORT_WAIT_THEM, 0, \
	  -1, NULL, CELL_AGO }, \
	{ "They wrote", "last_inbound", "last_in", STORE_SORT_LAST_IN, 1, -1, NULL, CELL_DAY }, \
	{ "We wrote", "last_outbound", "last_out", STORE_SORT_LAST_OUT, 1, -1, NULL, CELL_DAY },
static const struct column account_cols[] = {
	{ "Name", "name", "name", STORE_SORT_NAME, 0, STORE_COL_NAME, "name", CELL_NAME },
	{ "Domain", "domain", "domain", STORE_SORT_KEY, 0, STORE_COL_KEY, "domain", CELL_SECOND },
	STATUS_COLS
	{ "Last activity", "last_activity", "last", STORE_SORT_LAST, 1, -1, NULL, CELL_DAY },
	{ "Threads", "threads", "threads", STORE_SORT_THREADS, 1, -1, NULL, CELL_COUNT },
	{ "Open deals", "open_deals", "deals", STORE_SORT_DEALS, 1, -1, NULL, CELL_COUNT },
	COL_END
};
static const struct column contact_cols[] = {
	{ "Name", "name", "name", STORE_SORT_NAME, 0, STORE_COL_NAME, "name", CELL_NAME },
	{ "Address", "address", "address", STORE_SORT_KEY, 0, STORE_COL_KEY, "address",
	  CELL_SECOND },
	{ "Account", "account", "account", STORE_SORT_DOMAIN, 0, STORE_COL_ACCOUNT, "account",
	  CELL_ACCOUNT },
	STATUS_COLS
	{ "Last activity", "last_activity", "last", STORE_SORT_LAST, 1, -1, NULL, CELL_DAY },
	{ "Threads", "threads", "threads", STORE_SORT_THREADS, 1, -1, NULL, CELL_COUNT },
	{ "Open deals", "open_deals", "deals", STORE_SORT_DEALS, 1, -1, NULL, CELL_COUNT },
	COL_END
};
static const struct column deal_cols[] = {
	{ "Deal", "name", "name", STORE_SORT_NAME, 0, STORE_COL_NAME, "name", CELL_NAME },
	{ "Key", "key", "key", STORE_SORT_KEY, 0, STORE_COL_KEY, "key", CELL_SECOND },
	{ "Account", "account", "account", STORE_SORT_DOMAIN, 0, STORE_COL_ACCOUNT, "account",
	  CELL_ACCOUNT },
	{ "Status", "status", "status", STORE_SORT_DEALS, 0, STORE_COL_STATUS, "status",
	  CELL_TEXT },
	STATUS_COLS
	{ "Last activity", "last_activity", "last", STORE_SORT_LAST, 1, -1, NULL, CELL_DAY },
	{ "Threads", "threads", "threads", STORE_SORT_THREADS, 1, -1, NULL, CELL_COUNT },
	COL_END
};
#undef STATUS_COLS
#undef COL_END

static const struct column *const kind_cols[] = { account_cols, contact_cols, deal_cols };

/* a table view: the store's query and the page size */
struct table {
	enum store_view_kind kind;
	const struct column *cols;
	struct store_view_query q;
	int per;
};

/* ---- parameters ---- */

/* col_by_sort - the column of T named NAME in sort=, or one with an older name; NULL */
static const struct column *col_by_sort(const struct table *t, const char *name, size_t len)
{
	/* the names of the first viewer: domain was the account, deals a deal's status */
	static const struct { const char *name; int sort; } older[] = {
		{ "domain", STORE_SORT_DOMAIN }, { "deals", STORE_SORT_DEALS },
	};
	const struct column *c;
	size_t i;

	for (c = t->cols; c->head; c++)
		if (strlen(c->sort_name) == len && memcmp(c->sort_name, name, len) == 0)
			return c;
	for (i = 0; i < sizeof older / sizeof older[0]; i++)
		if (strlen(older[i].name) == len && memcmp(older[i].name, name, len) == 0)
			for (c = t->cols; c->head; c++)
				if (c->sort == older[i].sort)
					return c;
	return NULL;
}

/* col_of_key - the column of T that sorts by KEY (the sort keys a table offers) */
static const struct column *col_of_key(const struct table *t, int key)
{
	const struct column *c;

	for (c = t->cols; c->head && c->sort != key; c++)
		;
	return c->head ? c : NULL;
}

/* parse_sort - sort= and dir= into T; -1 after a 400 */
static int parse_sort(struct view_req *r, struct table *t)
{
	const char *sort = view_arg(r, "sort"), *dir = view_arg(r, "dir"), *p, *e;
	const struct column *c;
	int n = 0, i;

	for (p = sort; p && *p; p = *e ? e + 1 : e) {
		e = p + strcspn(p, ",");
		c = col_by_sort(t, p, (size_t)(e - p));
		for (i = 0; c && i < n && t->q.sort[i].key != (enum store_view_sort)c->sort; i++)
			;
		if (!c || i < n || n == STORE_VIEW_MAX_SORT) {
			view_error(r, 400, !c ? "sort names the table's columns, comma-separated."
				   : "sort names a column once, three at most.");
			return -1;
		}
		t->q.sort[n].key = (enum store_view_sort)c->sort;
		t->q.sort[n++].desc = c->desc_first;
	}
	for (p = dir, i = 0; p && *p; p = *e ? e + 1 : e, i++) {
		e = p + strcspn(p, ",");
		if (i >= (n ? n : 1) || ((e - p != 3 || memcmp(p, "asc", 3) != 0) &&
					 (e - p != 4 || memcmp(p, "desc", 4) != 0))) {
			view_error(r, 400, "dir is asc or desc, one for each sort key.");
			return -1;
		}
		if (!n)
			t->q.sort[n++] = (struct store_view_sort_key){ STORE_SORT_LAST, 1 };
		t->q.sort[i].desc = e - p == 4;
	}
	if (!n)
		t->q.sort[n++] = (struct store_view_sort_key){ STORE_SORT_LAST, 1 };
	t->q.nsort = n;
	return 0;
}

/* parse_table - T for KIND from R's parameters; -1 after a 400 */
static int parse_table(struct view_req *r, enum store_view_kind kind, struct table *t)
{
	const struct column *c;
	long per = 0, pg;

	memset(t, 0, sizeof *t);
	t->kind = t->q.kind = kind;
	t->cols = kind_cols[kind];
	t->q.filter = view_arg(r, "q");
	if (t->q.filter && strlen(t->q.filter) > TABLE_MATCH_MAX) {
		view_error(r, 400, "The filter is too long.");
		return -1;
	}
	for (c = t->cols; c->head; c++) {
		if (c->match < 0)
			continue;
		t->q.match[c->match] = view_arg(r, c->param);
		if (t->q.match[c->match] && strlen(t->q.match[c->match]) > TABLE_MATCH_MAX) {
			view_error(r, 400, "A column filter is too long.");
			return -1;
		}
	}
	if (parse_sort(r, t) < 0)
		return -1;
	if (r->api)
		return view_paging(r, &t->q.limit, &t->q.offset);
	per = view_arg_int(r, "per", VIEW_PAGE_SIZE, TABLE_PER_MAX);
	if (per == 0) {
		view_error(r, 400, "per is 1 to 500 rows.");
		return -1;
	}
	pg = per < 0 ? -1 : view_arg_int(r, "page", 1, STORE_VIEW_MAX_OFFSET / per);
	if (pg < 0)
		return -1;
	t->per = t->q.limit = (int)per;
	t->q.offset = pg == 0 ? 0 : (int)((pg - 1) * per);
	return 0;
}

/* ---- links that keep the view ---- */

/* param - "&amp;NAME=VALUE" (VALUE percent-encoded) when VALUE is set */
static void param(struct vbuf *b, const char *name, const char *value)
{
	if (!value || !*value)
		return;
	vbuf_printf(b, "&amp;%s=", name);
	url_esc(b, value);
}

/*
 * view_query - T's view as a query string (HTML-escaped, starting "?"):
 * its sort keys (KEY moved to the front with direction DESC when KEY >= 0),
 * filters, and page size unless FOR_CSV
 */
static void view_query(struct vbuf *b, const struct table *t, int key, int desc, int for_csv)
{
	const struct column *c;
	int i, n = 0;

	vbuf_puts(b, "?sort=");
	if (key >= 0)
		vbuf_puts(b, col_of_key(t, key)->sort_name), n++;
	for (i = 0; i < t->q.nsort && n < STORE_VIEW_MAX_SORT; i++)
		if ((int)t->q.sort[i].key != key)
			vbuf_printf(b, "%s%s", n++ ? "," : "",
				    col_of_key(t, t->q.sort[i].key)->sort_name);
	vbuf_puts(b, "&amp;dir=");
	n = 0;
	if (key >= 0)
		vbuf_puts(b, desc ? "desc" : "asc"), n++;
	for (i = 0; i < t->q.nsort && n < STORE_VIEW_MAX_SORT; i++)
		if ((int)t->q.sort[i].key != key)
			vbuf_printf(b, "%s%s", n++ ? "," : "", t->q.sort[i].desc ? "desc" : "asc");
	param(b, "q", t->q.filter);
	for (c = t->cols; c->head; c++)
		if (c->match >= 0)
			param(b, c->param, t->q.match[c->match]);
	if (!for_csv && t->per != VIEW_PAGE_SIZE)
		vbuf_printf(b, "&amp;per=%d", t->per);
}

/* sort_head - the head of column C: a link that sorts by it first */
static void sort_head(struct vbuf *b, const struct table *t, const struct column *c)
{
	int i, desc = c->desc_first;

	for (i = 0; i < t->q.nsort && (int)t->q.sort[i].key != c->sort; i++)
		;
	if (i == 0)
		desc = !t->q.sort[0].desc;     /* the first key again: the other way */
	vbuf_printf(b, "<th%s><a href=\"", i < t->q.nsort ? " class=\"sorted\"" : "");
	view_query(b, t, c->sort, desc, 0);
	vbuf_printf(b, "\">%s", c->head);
	if (i < t->q.nsort)
		vbuf_printf(b, " %s", t->q.sort[i].desc ? "\xe2\x96\xbe" : "\xe2\x96\xb4");
	if (i < t->q.nsort && t->q.nsort > 1)
		vbuf_printf(b, "<sup title=\"sort key %d\">%d</sup>", i + 1, i + 1);
	vbuf_puts(b, "</a></th>");
}

/* ---- the page ---- */

/* cell - column C of the item IT of table T */
static void cell(struct vbuf *b, const struct table *t, const struct column *c, json_t *it)
{
	json_t *v = json_object_get(it, c->item);
	json_t *second = json_object_get(it, view_kinds[t->kind].key);
	const char *name;

	switch (c->cell) {
	case CELL_NAME:
		vbuf_puts(b, "<td>");
		view_record_link(b, view_kinds[t->kind].path, json_object_get(it, "id"), v, second);
		break;
	case CELL_SECOND:
		/* a record named by its domain (an automatic account), or without a
		 * name, shows the domain, address or key once: as the name */
		vbuf_puts(b, "<td>");
		name = json_string_value(json_object_get(it, "name"));
		if (name && *name && strcasecmp(name, json_string_value(v) ? json_string_value(v) : "")
		    != 0)
			html_text(b, v);
		break;
	case CELL_ACCOUNT:
		vbuf_puts(b, "<td>");
		if (json_is_integer(json_object_get(it, "account_id")))
			view_record_link(b, "accounts", json_object_get(it, "account_id"), v, NULL);
		break;
	case CELL_TEXT:
		vbuf_puts(b, "<td>");
		html_text(b, v);
		break;
	case CELL_DAY:
		vbuf_puts(b, "<td class=\"date\">");
		html_day(b, v);
		break;
	case CELL_AGO:
		vbuf_puts(b, "<td class=\"date\">");
		html_ago(b, v);
		break;
	case CELL_COUNT:
		vbuf_printf(b, "<td class=\"num\">%lld", (long long)json_integer_value(v));
		break;
	}
	vbuf_puts(b, "</td>");
}

/* filter_form - the any-column filter, the page size, the clear and download links */
static void filter_form(struct vbuf *b, const struct table *t)
{
	static const int sizes[] = { 25, 50, 100, 200, 500 };
	const struct column *c;
	int i, any = t->q.filter != NULL;

	vbuf_printf(b, "<form id=\"filters\" class=\"filter\" method=\"get\" action=\"/%s\">",
		    view_kinds[t->kind].path);
	vbuf_puts(b, "<input type=\"hidden\" name=\"sort\" value=\"");
	for (i = 0; i < t->q.nsort; i++)
		vbuf_printf(b, "%s%s", i ? "," : "", col_of_key(t, t->q.sort[i].key)->sort_name);
	vbuf_puts(b, "\"><input type=\"hidden\" name=\"dir\" value=\"");
	for (i = 0; i < t->q.nsort; i++)
		vbuf_printf(b, "%s%s", i ? "," : "", t->q.sort[i].desc ? "desc" : "asc");
	vbuf_puts(b, "\">");
	vbuf_puts(b, "<input type=\"text\" name=\"q\" placeholder=\"Filter\" "
		  "aria-label=\"Filter every column\" value=\"");
	html_esc(b, t->q.filter);
	vbuf_puts(b, "\"> <label>Rows <select name=\"per\">");
	for (i = 0; i < (int)(sizeof sizes / sizeof sizes[0]); i++) {
		/* a size typed into the address keeps its place among the offered ones */
		if (t->per < sizes[i] && (i == 0 || t->per > sizes[i - 1]))
			vbuf_printf(b, "<option selected>%d</option>", t->per);
		vbuf_printf(b, "<option%s>%d</option>", sizes[i] == t->per ? " selected" : "",
			    sizes[i]);
	}
	vbuf_puts(b, "</select></label> <button type=\"submit\">Filter</button>");
	for (c = t->cols; c->head; c++)
		any |= c->match >= 0 && t->q.match[c->match];
	if (any)
		vbuf_puts(b, " <a href=\"?\">clear</a>");
	vbuf_printf(b, " <a class=\"csv\" download href=\"/%s.csv", view_kinds[t->kind].path);
	view_query(b, t, -1, 0, 1);
	vbuf_puts(b, "\">Download CSV</a></form>");
}

/* filter_row - the second head row: a filter box under each text column */
static void filter_row(struct vbuf *b, const struct table *t)
{
	const struct column *c;

	vbuf_puts(b, "<tr class=\"filters\">");
	for (c = t->cols; c->head; c++) {
		if (c->match < 0) {
			vbuf_puts(b, "<td></td>");
			continue;
		}
		vbuf_printf(b, "<td><input form=\"filters\" type=\"text\" name=\"%s\" "
			    "aria-label=\"Filter %s\" placeholder=\"%s\" value=\"", c->param, c->head,
			    c->head);
		html_esc(b, t->q.match[c->match]);
		vbuf_puts(b, "\"></td>");
	}
	vbuf_puts(b, "</tr>");
}

/* table_html - the page of table T from its model M */
static void table_html(struct view_req *r, const struct table *t, json_t *m)
{
	struct vbuf *b = &r->body, base = { 0 };
	const struct column *c;
	json_t *items = json_object_get(m, "items"), *it;
	size_t i, len;
	char *bp;

	html_begin(r, view_kinds[t->kind].title, view_kinds[t->kind].title);
	vbuf_printf(b, "<h1>%s <span class=\"count\">%lld</span></h1>", view_kinds[t->kind].title,
		    (long long)json_integer_value(json_object_get(m, "total")));
	filter_form(b, t);
	html_grid_begin(b, NULL);
	vbuf_puts(b, "<thead><tr>");
	for (c = t->cols; c->head; c++)
		sort_head(b, t, c);
	vbuf_puts(b, "</tr>");
	filter_row(b, t);
	vbuf_puts(b, "</thead><tbody>\n");
	json_array_foreach(items, i, it) {
		vbuf_puts(b, "<tr>");
		for (c = t->cols; c->head; c++)
			cell(b, t, c, it);
		vbuf_puts(b, "</tr>\n");
	}
	html_grid_end(b);
	if (!json_array_size(items))
		vbuf_puts(b, "<p class=\"empty\">Nothing here.</p>");
	vbuf_printf(&base, "/%s", view_kinds[t->kind].path);
	view_query(&base, t, -1, 0, 0);
	bp = vbuf_take(&base, &len);
	html_pager(r, bp, m);
	free(bp);
	html_end(r);
}

/* page_records - GET /accounts, /contacts, /deals (and /api/...); see view_int.h */
void page_records(struct view_req *r, enum store_view_kind kind)
{
	struct table t;
	char err[512];
	json_t *m;

	if (parse_table(r, kind, &t) < 0)
		return;
	if (store_view_records(r->st, &r->who, &t.q, &m, err, sizeof err) != STORE_OK) {
		view_store_failed(r, err);
		return;
	}
	if (r->api)
		api_send(r, m);
	else {
		table_html(r, &t, m);
		json_decref(m);
	}
}

/* ---- the download ---- */

/* a download being written */
struct csv_out {
	const struct table *t;
	struct vbuf *b;
	int64_t rows, total;
};

/* csv_put - csv_field's writer: onto the vbuf ARG */
static void csv_put(void *arg, const char *p, size_t n)
{
	vbuf_add(arg, p, n);
}

/* csv_value - one field from V: text guarded against formulas, numbers, empty for null */
static void csv_value(struct vbuf *b, json_t *v)
{
	if (json_is_string(v))
		csv_field(json_string_value(v), json_string_length(v), CSV_FORMULA_GUARD, csv_put,
			  b);
	else if (json_is_integer(v))
		vbuf_printf(b, "%lld", (long long)json_integer_value(v));
}

/* csv_row - store_view_row_fn: one CRLF-terminated row; stops when the view is too big */
static int csv_row(void *arg, int64_t total, json_t *row)
{
	struct csv_out *o = arg;
	const struct column *c;

	o->total = total;
	if (total > STORE_VIEW_MAX_ROWS)
		return 1;
	csv_value(o->b, json_object_get(row, "id"));
	for (c = o->t->cols; c->head; c++) {
		vbuf_puts(o->b, ",");
		csv_value(o->b, json_object_get(row, c->item));
	}
	vbuf_puts(o->b, "\r\n");
	o->rows++;
	return 0;
}

/* page_records_csv - GET /accounts.csv, /contacts.csv, /deals.csv; see view_int.h */
void page_records_csv(struct view_req *r, enum store_view_kind kind)
{
	struct table t;
	struct csv_out o = { &t, &r->body, 0, 0 };
	const struct column *c;
	char err[512];

	if (parse_table(r, kind, &t) < 0)
		return;
	t.q.limit = STORE_VIEW_MAX_ROWS;
	t.q.offset = 0;
	/* Excel reads a CSV as UTF-8 only after this byte order mark */
	vbuf_puts(&r->body, "\xef\xbb\xbfid");
	for (c = t.cols; c->head; c++)
		vbuf_printf(&r->body, ",%s", c->item);
	vbuf_puts(&r->body, "\r\n");
	if (store_view_records_each(r->st, &r->who, &t.q, csv_row, &o, err, sizeof err) !=
	    STORE_OK) {
		vbuf_free(&r->body);
		view_store_failed(r, err);
		return;
	}
	if (o.total > STORE_VIEW_MAX_ROWS) {
		vbuf_free(&r->body);
		view_error(r, 400, "This view holds more rows than one download takes (100000): "
			   "narrow it with a filter.");
		return;
	}
	r->ctype = "text/csv; charset=utf-8";
	r->disposition = strdup(kind == STORE_VIEW_ACCOUNTS ? "attachment; filename=\"accounts.csv\""
				: kind == STORE_VIEW_CONTACTS ? "attachment; filename=\"contacts.csv\""
				: "attachment; filename=\"deals.csv\"");
	snprintf(r->log_note, sizeof r->log_note, " download=%s.csv rows=%lld", view_kinds[kind].path,
		 (long long)o.rows);
}
