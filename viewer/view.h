/*
 * view.h - crmview, the read-only web viewer and JSON API of the store
 *
 * view_start() starts an HTTP(S) server (libmicrohttpd, its own thread
 * pool) on the configured ViewerListen address.  Each worker thread opens
 * the store read-only on first use; every page and /api/ endpoint shows
 * the logged-in user only what each thread's visibility allows (storage's
 * store_view_* reads).  Users log in with the form (a signed session
 * cookie) or are named by a trusted proxy (ViewerAuth proxy).  Every
 * response carries strict security headers; only GET and HEAD, and POST on
 * /login, are served.  Reads are written to the access log (ViewerAccessLog,
 * or syslog): who opened which thread, when.
 */
#ifndef CRM_VIEW_H
#define CRM_VIEW_H

#include "../common/common.h"

struct view_server;

/*
 * view_start - check the store (it must open read-only and refuse a
 * write), load the session key and TLS files, and start serving CONF
 * (which must outlive the server).  Returns 0 and *out, or -1 with the
 * reason in err.  Stop with view_stop().
 */
int view_start(const struct conf *conf, struct view_server **out, char *err, size_t errlen);

/* view_port - the TCP port the server listens on (useful with port 0) */
unsigned view_port(const struct view_server *s);

/* view_stop - stop serving, close the access log, free; NULL is fine */
void view_stop(struct view_server *s);

#endif
