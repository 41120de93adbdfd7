/*
 * api.c - the JSON API: each page's model sent as JSON (jansson)
 *
 * Public (view_int.h): api_send, api_me.  Every page under /api/ answers
 * with the very value its HTML page is rendered from (the store_view_*
 * results), so the API shows exactly what the page shows.  '<', '>' and
 * '&' are written as \u003c, \u003e and \u0026 (they can only occur
 * inside strings), so no mail text reads as markup even if a client
 * ignores the Content-Type.
 */
#include <stdlib.h>
#include <string.h>

#include "view_int.h"

/* api_send - R's answer is V as JSON; takes the reference */
void api_send(struct view_req *r, json_t *v)
{
	char *s = v ? json_dumps(v, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;

	json_decref(v);
	r->ctype = "application/json";
	vbuf_free(&r->body);
	if (!s) {
		r->status = 500;
		vbuf_puts(&r->body, "{\"error\":\"out of memory\",\"status\":500}");
		return;
	}
	for (const char *p = s; *p; p++) {
		if (*p == '<')
			vbuf_puts(&r->body, "\\u003c");
		else if (*p == '>')
			vbuf_puts(&r->body, "\\u003e");
		else if (*p == '&')
			vbuf_puts(&r->body, "\\u0026");
		else
			vbuf_add(&r->body, p, 1);
	}
	vbuf_puts(&r->body, "\n");
	free(s);
}

/* api_me - the user asking */
void api_me(struct view_req *r)
{
	api_send(r, json_pack("{s:s,s:s,s:s?,s:b}", "address", r->user.address, "role",
			      r->user.admin ? "admin" : "member", "team",
			      r->user.team[0] ? r->user.team : NULL, "inside_every_thread",
			      r->who.inside_all));
}
