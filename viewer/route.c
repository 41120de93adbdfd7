/*
 * route.c - which page answers a path, and who may ask for it
 *
 * Public (view_int.h): view_route.  The stylesheet and the login page are
 * open to anyone; /metrics to the addresses ViewerMetricsFrom lists
 * (metrics.c); every other path needs a user (a page redirects to the
 * login form, the API answers 401).  /api/PATH is the JSON form of PATH.
 * Ids in paths are decimal, 1 to 18 digits, no leading zero; anything else
 * is a 404.  /threads/TID/attachments/AID is attachment row AID of thread
 * TID, its bytes (pages_attach.c), under /api/ too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "view_int.h"

/* id_after - the id in PATH after PREFIX ("/threads/"), 0 when PATH is not that */
static int64_t id_after(const char *path, const char *prefix)
{
	size_t n = strlen(prefix), i;
	int64_t id = 0;

	if (strncmp(path, prefix, n) != 0)
		return 0;
	path += n;
	if (path[0] < '1' || path[0] > '9')
		return 0;
	for (i = 0; path[i]; i++) {
		if (path[i] < '0' || path[i] > '9' || i >= 18)
			return 0;
		id = id * 10 + (path[i] - '0');
	}
	return id;
}

/* attachment_ids - TID and AID of "/threads/TID/attachments/AID"; 1, or 0 when P is not that */
static int attachment_ids(const char *p, int64_t *tid, int64_t *aid)
{
	static const char mid[] = "/attachments/";
	const char *slash;
	char head[48];

	if (strncmp(p, "/threads/", 9) != 0 || !(slash = strchr(p + 9, '/')) ||
	    (size_t)(slash - p) >= sizeof head || strncmp(slash, mid, sizeof mid - 1) != 0)
		return 0;
	memcpy(head, p, (size_t)(slash - p));
	head[slash - p] = '\0';
	*tid = id_after(head, "/threads/");
	*aid = id_after(slash, mid);
	return *tid && *aid;
}

/* to_login - a page asked for without a session: go to the login form, back after */
static void to_login(struct view_req *r)
{
	struct vbuf b = { 0 };
	size_t len;

	vbuf_puts(&b, "/login");
	if (safe_next(r->path) && strcmp(r->path, "/") != 0) {
		vbuf_puts(&b, "?next=");
		url_esc(&b, r->path);
	}
	r->status = 303;
	r->location = vbuf_take(&b, &len);
}

/* api_index - GET /api/: what there is */
static void api_index(struct view_req *r)
{
	json_t *o = json_pack("{s:[s,s,s,s,s,s,s,s,s,s,s,s]}", "endpoints", "/api/me",
			      "/api/accounts", "/api/accounts/ID", "/api/contacts",
			      "/api/contacts/ID", "/api/deals", "/api/deals/ID", "/api/threads/ID",
			      "/api/threads/ID/attachments/AID",
			      "/api/unassigned", "/api/search?q=WORDS", "/api/mailboxes");

	api_send(r, o);
}

/* route_user - the pages that need a user; P is the path without "/api" */
static void route_user(struct view_req *r, const char *p)
{
	static const struct {
		const char *list, *csv, *one;
		enum store_view_kind kind;
	} records[] = {
		{ "/accounts", "/accounts.csv", "/accounts/", STORE_VIEW_ACCOUNTS },
		{ "/contacts", "/contacts.csv", "/contacts/", STORE_VIEW_CONTACTS },
		{ "/deals", "/deals.csv", "/deals/", STORE_VIEW_DEALS },
	};
	int64_t id, aid;

	for (size_t i = 0; i < 3; i++) {
		if (strcmp(p, records[i].list) == 0) {
			page_records(r, records[i].kind);
			return;
		}
		if (strcmp(p, records[i].csv) == 0 && !r->api) {
			page_records_csv(r, records[i].kind);
			return;
		}
		if ((id = id_after(p, records[i].one))) {
			page_record(r, records[i].kind, id);
			return;
		}
	}
	if ((id = id_after(p, "/threads/")))
		page_thread(r, id);
	else if (attachment_ids(p, &id, &aid))
		page_attachment(r, id, aid);
	else if (strcmp(p, "/unassigned") == 0)
		page_unassigned(r);
	else if (strcmp(p, "/search") == 0)
		page_search(r);
	else if (strcmp(p, "/mailboxes") == 0 && r->user.admin)
		page_mailboxes(r);
	else if (strcmp(p, "/mailboxes") == 0)
		view_error(r, 403, "Only admins see the mailboxes.");
	else if (strcmp(p, "/me") == 0 && r->api)
		api_me(r);
	else if ((p[0] == '\0' || strcmp(p, "/") == 0) && r->api)
		api_index(r);
	else if (strcmp(p, "/") == 0) {
		r->status = 303;
		r->location = strdup("/accounts");
	} else
		view_error(r, 404, "There is no such page.");
}

/* view_route - answer R; see view_int.h */
void view_route(struct view_req *r)
{
	const char *p = r->path;
	int who;

	if (strcmp(p, "/static/style.css") == 0) {
		page_style(r);
		return;
	}
	if (strcmp(p, "/login") == 0) {
		if (strcmp(r->method, "POST") == 0)
			auth_login(r);
		else if (r->app->conf->viewer_auth == CONF_AUTH_PROXY)
			view_error(r, 404, "Log in through the proxy.");
		else
			page_login(r, 200, NULL);
		return;
	}
	if (strcmp(p, "/favicon.ico") == 0) {
		view_error(r, 404, "There is no icon.");
		return;
	}
	if (strcmp(p, "/metrics") == 0) {	/* no login: ViewerMetricsFrom decides */
		page_metrics(r);
		return;
	}
	if (strcmp(p, "/logout") == 0) {
		auth_logout(r);
		return;
	}
	who = auth_identify(r);
	if (who < 0)
		return;
	if (who == 0) {
		if (r->api)
			view_error(r, 401, "Log in first (POST /login, then send the cookie).");
		else
			to_login(r);
		return;
	}
	r->st = view_store(r);
	if (r->st)
		route_user(r, r->api ? p + 4 : p);
}
