/*
 * http.c - crmview's HTTP side on libmicrohttpd: start and stop, the
 * request handler (method, size and parameter checks, the login form
 * body), each worker's read-only store, and the headers every response
 * carries
 *
 * Public: view_start, view_port, view_stop (view.h); view_arg,
 * view_arg_int, view_store (view_int.h).  Requests are served by a pool of
 * VIEW_THREADS threads; each opens its own store handle, read-only, on
 * first use.  Paths are unescaped by url_unescape(), which never makes a
 * NUL byte, so a path or parameter cannot be cut short.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <microhttpd.h>

#include "view_int.h"

struct view_server {
	struct MHD_Daemon *d;
	struct view_app app;
	char *cert, *key;              /* TLS files' contents */
	unsigned port;
};

/* the viewer's Content-Security-Policy; a download's adds "sandbox" */
#define VIEW_CSP "default-src 'none'; style-src 'self'; img-src 'self';" \
	" form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

/* the headers of every response (the CSP first) */
static const char *const strict_headers[][2] = {
	{ "Content-Security-Policy", VIEW_CSP },
	{ "X-Content-Type-Options", "nosniff" },
	{ "Referrer-Policy", "no-referrer" },
	{ "X-Frame-Options", "DENY" },
	{ "Cross-Origin-Opener-Policy", "same-origin" },
	{ "Cross-Origin-Resource-Policy", "same-origin" },
	{ "Cache-Control", "no-store" },
};

/* hexval - value of a hex digit, -1 when not one */
static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* url_unescape - %XX decoding in place that leaves %00 and bad escapes as they are */
static size_t url_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	char *r = s, *w = s;
	int hi, lo;

	(void)cls;
	(void)c;
	while (*r) {
		if (r[0] == '%' && (hi = hexval(r[1])) >= 0 && (lo = hexval(r[2])) >= 0 &&
		    (hi || lo)) {
			*w++ = (char)(hi * 16 + lo);
			r += 3;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
	return (size_t)(w - s);
}

/* arg_ok - a parameter value is short, UTF-8 and free of control characters */
static int arg_ok(const char *v, size_t n)
{
	if (n > VIEW_MAX_ARG || strlen(v) != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			return 0;
	return utf8_valid(v, n);
}

/* count_arg - MHD_get_connection_values_n iterator: count, and check each value */
static enum MHD_Result count_arg(void *cls, enum MHD_ValueKind kind, const char *key,
				 size_t key_size, const char *value, size_t value_size)
{
	int *bad = cls;

	(void)kind;
	bad[0]++;
	if (key_size > 64 || strlen(key) != key_size || (value && !arg_ok(value, value_size)))
		bad[1] = 1;
	return MHD_YES;
}

/* view_arg - query parameter NAME (checked in check_args), or NULL */
const char *view_arg(struct view_req *r, const char *name)
{
	const char *v = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);

	return v && *v ? v : NULL;
}

/* view_arg_int - a number parameter; see view_int.h */
long view_arg_int(struct view_req *r, const char *name, long def, long max)
{
	const char *v = view_arg(r, name);
	long n = 0;

	if (!v)
		return def;
	for (const char *p = v; *p; p++) {
		if (*p < '0' || *p > '9' || p - v >= 9 || n * 10 + (*p - '0') > max) {
			view_error(r, 400, "A number parameter is malformed or too large.");
			return -1;
		}
		n = n * 10 + (*p - '0');
	}
	return n;
}

/* close_store - pthread key destructor: a worker's store */
static void close_store(void *p)
{
	store_close(p);
}

/* open_store - a read-only handle on the configured store; NULL with err */
static struct store *open_store(const struct conf *c, char *err, size_t errlen)
{
	struct store_opts o = {
		.path = c->database, .readonly = 1, .busy_timeout_ms = c->busy_timeout_ms,
		.own_domains = (const char *const *)c->domains.v, .n_own_domains = c->domains.n,
	};
	struct store *st = NULL;

	if (store_open(&o, &st, err, errlen) != STORE_OK)
		return NULL;
	/* every worker maps the same file: the OS keeps one copy of the pages */
	store_view_tune(st, VIEW_MMAP_BYTES, VIEW_CACHE_KIB);
	return st;
}

/* view_store - this worker's store; see view_int.h */
struct store *view_store(struct view_req *r)
{
	struct store *st = pthread_getspecific(r->app->store_key);
	char err[512];

	if (st)
		return st;
	st = open_store(r->app->conf, err, sizeof err);
	if (!st) {
		msg_warn("%s", err);
		view_error(r, 503, "The store cannot be read right now.");
		return NULL;
	}
	pthread_setspecific(r->app->store_key, st);
	return st;
}

/* client_addr - the client's address as text into r->client */
static void client_addr(struct view_req *r)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	if (!sockaddr_text(sa, r->client, sizeof r->client))
		snprintf(r->client, sizeof r->client, "-");
}

/* respond - queue R's answer with the strict headers; returns MHD's result */
static enum MHD_Result respond(struct view_req *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	size_t len;
	char *body;

	if (r->body.overflow) {
		vbuf_free(&r->body);
		r->status = 500;
		r->ctype = "text/plain; charset=utf-8";
		vbuf_puts(&r->body, "500 response too large\n");
	}
	body = vbuf_take(&r->body, &len);
	resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	for (size_t i = r->sandbox ? 1 : 0; i < sizeof strict_headers / sizeof strict_headers[0]; i++)
		MHD_add_response_header(resp, strict_headers[i][0], strict_headers[i][1]);
	if (r->sandbox)
		MHD_add_response_header(resp, "Content-Security-Policy", VIEW_CSP "; sandbox");
	if (r->disposition)
		MHD_add_response_header(resp, "Content-Disposition", r->disposition);
	if (r->app->tls)
		MHD_add_response_header(resp, "Strict-Transport-Security", "max-age=31536000");
	MHD_add_response_header(resp, "Content-Type",
				r->ctype ? r->ctype : "text/html; charset=utf-8");
	if (r->cookie)
		MHD_add_response_header(resp, "Set-Cookie", r->cookie);
	if (r->retry_after[0])
		MHD_add_response_header(resp, "Retry-After", r->retry_after);
	if (r->location)
		MHD_add_response_header(resp, "Location", r->location);
	if (r->allow)
		MHD_add_response_header(resp, "Allow", r->allow);
	ret = MHD_queue_response(r->conn, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	access_log(r, len);
	return ret;
}

/* per-connection state of a POST */
struct post {
	struct vbuf body;
	int too_big;
};

/* handle - libmicrohttpd's access handler: checks, then the route */
static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **con_cls)
{
	struct view_req r = { .app = cls, .conn = conn, .method = method, .path = url,
			      .status = 200 };
	int is_post = strcmp(method, "POST") == 0, args[2] = { 0, 0 };
	struct post *p = *con_cls;
	enum MHD_Result ret;

	(void)version;
	if (is_post && !p) {
		p = calloc(1, sizeof *p);
		*con_cls = p;
		return p ? MHD_YES : MHD_NO;
	}
	if (is_post && *upload_size) {
		if (p->body.len + *upload_size > VIEW_MAX_POST)
			p->too_big = 1;
		else
			vbuf_add(&p->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	client_addr(&r);
	r.api = strncmp(url, "/api/", 5) == 0 || strcmp(url, "/api") == 0;
	MHD_get_connection_values_n(conn, MHD_GET_ARGUMENT_KIND, count_arg, args);
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 &&
	    !(is_post && strcmp(url, "/login") == 0)) {
		r.allow = strcmp(url, "/login") == 0 ? "GET, HEAD, POST" : "GET, HEAD";
		view_error(&r, 405, "Only GET and HEAD are served here.");
	} else if (strlen(url) > VIEW_MAX_URL) {
		view_error(&r, 414, "The address is too long.");
	} else if (url[0] != '/' || strstr(url, "%00") || strstr(url, "//") ||
		   strstr(url, "/.") || strchr(url, '\\')) {
		view_error(&r, 400, "The address is malformed.");
	} else if (args[0] > VIEW_MAX_ARGS || args[1]) {
		view_error(&r, 400, "A parameter is too long, malformed or one too many.");
	} else if (p && p->too_big) {
		view_error(&r, 413, "The form is too large.");
	} else {
		if (p) {
			r.post = p->body.p ? p->body.p : "";
			r.post_len = p->body.len;
		}
		view_route(&r);
	}
	ret = respond(&r);
	free(r.cookie);
	free(r.location);
	free(r.disposition);
	return ret;
}

/* completed - free a connection's POST state */
static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct post *p = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (p) {
		vbuf_free(&p->body);
		free(p);
		*con_cls = NULL;
	}
}

/* parse_listen - "ADDR:PORT", "[ADDR6]:PORT" into SS; 0 or -1 */
static int parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
	char host[128];
	const char *colon;
	char *end;
	long port;

	memset(ss, 0, sizeof *ss);
	if (s[0] == '[') {
		colon = strstr(s, "]:");
		if (!colon || (size_t)(colon - s - 1) >= sizeof host)
			return -1;
		memcpy(host, s + 1, (size_t)(colon - s - 1));
		host[colon - s - 1] = '\0';
		colon++;
	} else {
		colon = strrchr(s, ':');
		if (!colon || (size_t)(colon - s) >= sizeof host)
			return -1;
		memcpy(host, s, (size_t)(colon - s));
		host[colon - s] = '\0';
	}
	port = strtol(colon + 1, &end, 10);
	if (*end || port < 0 || port > 65535 || end == colon + 1)
		return -1;
	if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		*len = sizeof *a4;
		return 0;
	}
	if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*len = sizeof *a6;
		return 0;
	}
	return -1;
}

/* check_store - the store opens read-only and refuses a write; 0 or -1 with err */
static int check_store(const struct conf *c, char *err, size_t errlen)
{
	struct store *st = open_store(c, err, errlen);
	int rc;

	if (!st)
		return -1;
	rc = store_view_write_probe(st);
	store_close(st);
	if (rc == STORE_OK) {
		snprintf(err, errlen, "%s: the store accepted a write: crmview refuses to run",
			 c->database);
		return -1;
	}
	return 0;
}

/* load_tls - read the certificate and key files into S; 0 or -1 with err */
static int load_tls(struct view_server *s, const struct conf *c, char *err, size_t errlen)
{
	size_t len;

	if (!c->viewer_tls_cert && !c->viewer_tls_key)
		return 0;
	if (!c->viewer_tls_cert || !c->viewer_tls_key) {
		snprintf(err, errlen, "%s: ViewerTLSCert and ViewerTLSKey go together",
			 c->path ? c->path : "crmilter.conf");
		return -1;
	}
	s->cert = read_file(c->viewer_tls_cert, 1024 * 1024, &len);
	if (!s->cert) {
		snprintf(err, errlen, "%s: %s", c->viewer_tls_cert, strerror(errno));
		return -1;
	}
	s->key = read_file(c->viewer_tls_key, 1024 * 1024, &len);
	if (!s->key) {
		snprintf(err, errlen, "%s: %s", c->viewer_tls_key, strerror(errno));
		return -1;
	}
	if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		snprintf(err, errlen, "this libmicrohttpd has no TLS support");
		return -1;
	}
	s->app.tls = 1;
	return 0;
}

/* view_start - check, load and serve; see view.h */
int view_start(const struct conf *conf, struct view_server **out, char *err, size_t errlen)
{
	struct view_server *s = calloc(1, sizeof *s);
	struct sockaddr_storage ss;
	socklen_t sslen;
	const union MHD_DaemonInfo *di;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;

	*out = NULL;
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->app.conf = conf;
	s->app.conf_dir = conf->dir;
	pthread_mutex_init(&s->app.lock, NULL);
	pthread_key_create(&s->app.store_key, close_store);
	if (parse_listen(conf->viewer_listen, &ss, &sslen) < 0) {
		snprintf(err, errlen, "ViewerListen %s: expected ADDRESS:PORT or [ADDRESS6]:PORT",
			 conf->viewer_listen);
		goto fail;
	}
	if (metrics_check(conf, err, errlen) < 0 ||
	    check_store(conf, err, errlen) < 0 || load_tls(s, conf, err, errlen) < 0 ||
	    auth_init(&s->app, err, errlen) < 0 || access_open(&s->app, err, errlen) < 0)
		goto fail;
	html_zone_init(conf->viewer_time_zone);	/* before MHD starts the worker threads */
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (s->app.tls)
		flags |= MHD_USE_TLS;
	s->d = MHD_start_daemon(flags, 0, NULL, NULL, handle, &s->app,
				MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				MHD_OPTION_THREAD_POOL_SIZE, (unsigned)VIEW_THREADS,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)VIEW_CONNECTIONS,
				MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)VIEW_PER_CLIENT_CONNECTIONS,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)VIEW_IDLE_TIMEOUT,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
				MHD_OPTION_UNESCAPE_CALLBACK, url_unescape, NULL,
				MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
				s->app.tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, s->cert,
				MHD_OPTION_HTTPS_MEM_KEY, s->key,
				MHD_OPTION_END);
	if (!s->d) {
		snprintf(err, errlen, "cannot listen on %s: %s", conf->viewer_listen,
			 strerror(errno));
		goto fail;
	}
	di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	s->port = di ? di->port : 0;
	*out = s;
	return 0;
fail:
	view_stop(s);
	return -1;
}

/* view_port - the port listened on */
unsigned view_port(const struct view_server *s)
{
	return s ? s->port : 0;
}

/* view_stop - stop and free */
void view_stop(struct view_server *s)
{
	if (!s)
		return;
	if (s->d)
		MHD_stop_daemon(s->d);
	access_close(&s->app);
	free(s->app.proxies);
	free(s->cert);
	free(s->key);
	sodium_memzero(s->app.key, sizeof s->app.key);
	pthread_key_delete(s->app.store_key);
	pthread_mutex_destroy(&s->app.lock);
	free(s);
}
