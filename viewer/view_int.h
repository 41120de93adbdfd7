/*
 * view_int.h - private to viewer/: the server, one request, output
 * buffers and escaping, sessions, pages and the API
 *
 * A request goes: http.c (method, size and parameter checks, who is
 * asking: auth.c) -> route.c (which page) -> a page_*() function that
 * reads one model from the store (a jansson value, storage's
 * store_view_*) and either dumps it as JSON (api.c) or renders it as HTML
 * (html.c and pages_*.c) -> http.c (headers, access log: access.c).
 */
#ifndef CRM_VIEW_INT_H
#define CRM_VIEW_INT_H

#include <pthread.h>
#include <sys/socket.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <sodium.h>

#include "view.h"
#include "../storage/store.h"

#define VIEW_MAX_URL       1024     /* bytes of a request path */
#define VIEW_MAX_ARGS      16       /* query parameters */
#define VIEW_MAX_ARG       512      /* bytes of one parameter value */
#define VIEW_MAX_POST      4096     /* bytes of the login form */
#define VIEW_MAX_BODY      (64u * 1024 * 1024) /* bytes of one response */
#define VIEW_PAGE_SIZE     50       /* rows of an HTML table page */
#define VIEW_STALE_DAYS    30       /* an open deal this long without mail is stale */
#define VIEW_SESSION_HOURS 12
#define VIEW_SESSION_MAX_AGE (VIEW_SESSION_HOURS * 3600) /* s after login, whatever the cookie says */
#define VIEW_SESSION_IDLE  3600     /* s without a request that end a session */
#define VIEW_SESSIONS_MAX  4096     /* sessions held; the longest idle one gives way */
#define VIEW_SID_LEN       32       /* hex digits of a session's random name */
#define VIEW_COOKIE        "crmview"
#define VIEW_MAX_VERIFY    2        /* password checks at once (argon2id is heavy) */
#define VIEW_VERIFY_WAIT   5        /* s a login waits for a free check before 503 */
#define VIEW_FREE_TRIES_ACCOUNT 5   /* wrong passwords for one account from one address */
#define VIEW_FREE_TRIES_CLIENT  20  /* wrong passwords from one address, any account */
#define VIEW_THROTTLE_FIRST 5       /* s: the first wait after the free tries */
#define VIEW_THROTTLE_MAX  60       /* s: the longest wait between tries */
#define VIEW_THROTTLE_FORGET 900    /* s after which a failure no longer counts */
#define VIEW_STRIKES_MAX   4096     /* failure records held; the oldest gives way */
#define VIEW_PER_CLIENT_CONNECTIONS 32 /* open connections from one address */
#define VIEW_CONNECTIONS   1024     /* open connections in all */
#define VIEW_IDLE_TIMEOUT  10       /* s a connection may send nothing */
#define VIEW_THREADS       4        /* worker threads */
#define VIEW_MMAP_BYTES    (16LL << 30) /* of the store mapped by each worker */
#define VIEW_CACHE_KIB     65536    /* page cache of each worker */

/* ---- output buffer (buf.c) ---- */

struct vbuf {
	char *p;
	size_t len, cap;
	int overflow;                  /* 1: VIEW_MAX_BODY reached, output incomplete */
};

void vbuf_add(struct vbuf *b, const char *s, size_t n);
void vbuf_puts(struct vbuf *b, const char *s);
void vbuf_printf(struct vbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void vbuf_free(struct vbuf *b);
/* vbuf_adopt - B (emptied first) becomes the N bytes at P, malloc()ed with a NUL after them */
void vbuf_adopt(struct vbuf *b, char *p, size_t n);
/* vbuf_take - the text (NUL-terminated, malloc'd) and its length; B is emptied */
char *vbuf_take(struct vbuf *b, size_t *len);

/*
 * html_esc_n / html_esc - append text escaped for HTML text and quoted
 * attributes: & < > " ' as entities; bytes that are not UTF-8, C0 controls
 * (but tab and newline), DEL, and bidirectional overrides become U+FFFD
 */
void html_esc_n(struct vbuf *b, const char *s, size_t n);
void html_esc(struct vbuf *b, const char *s);
/* utf8_valid - 1 when N bytes at S are UTF-8, else 0 */
int utf8_valid(const char *s, size_t n);
/* url_esc - append S percent-encoded for a query value */
void url_esc(struct vbuf *b, const char *s);

/* ---- the server and one request ---- */

struct view_cidr {
	int family;                    /* AF_INET, AF_INET6 */
	unsigned char addr[16];
	unsigned bits;
};

struct view_app {
	const struct conf *conf;
	const char *conf_dir;          /* the config file's folder (conf->dir): rules files shown relative to it */
	unsigned char key[crypto_auth_KEYBYTES]; /* session cookie key */
	char dummy_hash[crypto_pwhash_STRBYTES]; /* verified for unknown users */
	int tls;
	struct view_cidr *proxies;
	size_t n_proxies;
	pthread_key_t store_key;       /* each worker's read-only store */
	pthread_mutex_t lock;          /* access log */
	FILE *access;                  /* access log, or NULL: syslog */
};

/* the user asking */
struct view_user {
	char address[256];
	char name[256];
	char team[128];
	int admin;
	char fp[17];                   /* fingerprint of the password hash */
};

struct view_req {
	struct view_app *app;
	struct MHD_Connection *conn;
	const char *method;
	const char *path;              /* unescaped path, no query */
	int api;                       /* path under /api/ */
	int authed;                    /* user is set */
	struct view_user user;
	struct store_viewer who;       /* user as storage's filter */
	struct store *st;
	char client[64];               /* client address */
	const char *post;              /* the login form body, or NULL */
	size_t post_len;
	/* the response */
	int status;
	const char *ctype;
	struct vbuf body;
	char *cookie;                  /* Set-Cookie value, or NULL */
	char retry_after[24];          /* Retry-After value, or "" */
	char *location;                /* Location (redirects), or NULL */
	const char *allow;             /* Allow (405), or NULL */
	char *disposition;             /* Content-Disposition (downloads), or NULL */
	int sandbox;                   /* 1: the CSP adds "sandbox" (downloads) */
	char log_note[160];            /* " thread=ID access=LEVEL" for the access log */
};

/* ---- http.c ---- */

/* view_arg - query parameter NAME or NULL (checked: UTF-8, size, no controls) */
const char *view_arg(struct view_req *r, const char *name);
/* view_arg_int - NAME as 0..max, DEF when absent; -1 when malformed (a 400 is set) */
long view_arg_int(struct view_req *r, const char *name, long def, long max);
/* view_store - this worker's store, opened read-only on first use; NULL after a 503 */
struct store *view_store(struct view_req *r);

/* ---- route.c ---- */

/* view_route - answer R (status, body...) by its method and path */
void view_route(struct view_req *r);

/* ---- auth.c ---- */

int auth_init(struct view_app *app, char *err, size_t errlen);
/* auth_identify - set r->user from the cookie or the proxy header; 1 authed, 0 not */
int auth_identify(struct view_req *r);
/* auth_login - the POST /login */
void auth_login(struct view_req *r);
/* auth_logout - GET /logout: clear the cookie, to the login page */
void auth_logout(struct view_req *r);

/*
 * session_make - a cookie value for ADDRESS whose password hash has
 * fingerprint FP, for the server's session SID, valid until EXPIRES:
 * base64url("2|EXPIRES|FP|SID|ADDRESS") "." base64url(HMAC).  Returns a new
 * string (free()) or NULL.
 */
char *session_make(const unsigned char *key, const char *address, const char *fp,
		   const char *sid, int64_t expires);
/*
 * session_check - verify TOKEN at time NOW: 0 with the address, fingerprint
 * and session name (sid: VIEW_SID_LEN + 1 bytes) copied out, -1 when forged,
 * malformed or expired.  The session itself is sessions_touch()'s to judge.
 */
int session_check(const unsigned char *key, const char *token, int64_t now, char *address,
		  size_t alen, char *fp, size_t fplen, char *sid);

/* ---- server-side sessions and login throttling (session.c) ---- */

/* view_mono - monotonic seconds (the clock of sessions and throttling) */
int64_t view_mono(void);
/* sessions_start - a new session for ADDRESS, its name into SID; returns 0 */
int sessions_start(const char *address, char sid[VIEW_SID_LEN + 1]);
/* sessions_touch - 1 when SID is a session of ADDRESS still in force (its
 * idle time starts again), 0 when it never was or has ended */
int sessions_touch(const char *sid, const char *address);
/* sessions_end - end session SID (logout); an unknown SID is fine */
void sessions_end(const char *sid);
/* throttle_wait - seconds a login for ACCOUNT from CLIENT must still wait; 0: go */
int64_t throttle_wait(const char *client, const char *account);
/* throttle_failed / throttle_passed - a wrong password, a good login */
void throttle_failed(const char *client, const char *account);
void throttle_passed(const char *client, const char *account);
/*
 * verify_enter - a slot for one password check from CLIENT: waits up to
 * VIEW_VERIFY_WAIT s for one of the VIEW_MAX_VERIFY.  Returns the slot, -1
 * when none came free, -2 when CLIENT has a check running already.
 */
int verify_enter(const char *client);
/* verify_leave - give SLOT back (a negative one is fine) */
void verify_leave(int slot);
/* secret_fp - 16 hex digits identifying a password hash (sessions end when it changes) */
void secret_fp(const char *secret, char out[17]);
/* cidr_parse / cidr_match - "192.0.2.0/24", "::1/128"; 0 or -1 / 1 or 0 */
int cidr_parse(const char *s, struct view_cidr *out);
int cidr_match(const struct view_cidr *c, const struct sockaddr *sa);
/* safe_next - 1 when N is a local path to redirect to after login */
int safe_next(const char *n);

/* ---- access.c ---- */

int access_open(struct view_app *app, char *err, size_t errlen);
void access_log(struct view_req *r, size_t bytes);
void access_close(struct view_app *app);

/* ---- html.c: page frame and pieces ---- */

void html_begin(struct view_req *r, const char *title, const char *nav);
void html_end(struct view_req *r);
/* view_error - a complete error page (or JSON error under /api/) with STATUS */
void view_error(struct view_req *r, int status, const char *message);
/* html_local_time - ISO UTC date S as "YYYY-MM-DD HH:MM ZONE" (HM) or
 * "YYYY-MM-DD" in the pages' zone into OUT; 0, or -1 when S is no such date */
int html_local_time(const char *s, int hm, char *out, size_t len);
/* html_zone_init - TZ set to ZONE (ViewerTimeZone) once, before the worker threads */
void html_zone_init(const char *zone);
void html_date(struct vbuf *b, json_t *date);     /* "2025-03-01 09:02 EST" in ViewerTimeZone */
void html_day(struct vbuf *b, json_t *date);      /* "2025-03-01" there, the time as its title */
void html_ago(struct vbuf *b, json_t *date);      /* "3 days" (ago), the time as its title */
long html_days_since(const char *iso);            /* whole days since, -1 when not a date */
void html_text(struct vbuf *b, json_t *s);        /* escaped string value, "" for null */
void html_person(struct vbuf *b, json_t *p);      /* Name <addr> */
void html_people(struct vbuf *b, json_t *list);   /* comma separated */
void html_people_short(struct vbuf *b, json_t *list); /* names, addresses as tooltips */
void html_marked(struct vbuf *b, json_t *s, json_t *hl); /* text with <mark> spans */
void html_rule(struct vbuf *b, json_t *rule);     /* file:line "text" */
void html_arrows(struct vbuf *b, json_t *dirs);   /* direction arrows */
void html_pager(struct view_req *r, const char *base, json_t *page);
void html_size(struct vbuf *b, json_int_t n);     /* 12.3 kB */
/* html_grid_begin / html_grid_end - a table.grid (CLASS added) in its scroll box */
void html_grid_begin(struct vbuf *b, const char *cls);
void html_grid_end(struct vbuf *b);
const char *html_arrow(const char *direction);

/* ---- mailto.c: Reply, Reply all and Write links ---- */

/*
 * mailto_reply - append the mailto: URI of a reply to message M of the
 * thread model (one shown in full: it has "reply"), to its sender or, with
 * ALL, to everyone on it; the user's own address left out.  Not escaped
 * for HTML: the caller puts it through html_esc.
 */
void mailto_reply(struct view_req *r, struct vbuf *b, json_t *m, int all);
/*
 * mailto_write - append the mailto: URI of a new message to PEOPLE (a list
 * of strings, or of objects whose KEY is the address), with SUBJECT (may
 * be NULL)
 */
void mailto_write(struct view_req *r, struct vbuf *b, json_t *people, const char *key,
		  const char *subject);

/* ---- words.c: why a thread is where it is, in plain words (ADMIN: with the rules) ---- */

void words_visibility(struct vbuf *b, json_t *vis, int admin);
void words_link(struct vbuf *b, json_t *link, int admin);
void words_unassigned(struct vbuf *b, json_t *reason, int admin);
/* words_private - 1 when visibility VIS shows people not inside nothing */
int words_private(json_t *vis);

/* ---- api.c ---- */

/* api_send - R's body is V as JSON (<, >, & escaped); takes the reference */
void api_send(struct view_req *r, json_t *v);
/* api_me - GET /api/me */
void api_me(struct view_req *r);

/* ---- pages ---- */

/* view_paging - limit and offset from page (HTML) or limit/offset (API); -1 after a 400 */
int view_paging(struct view_req *r, int *limit, int *offset);
/* view_timeline - a table of thread summaries (WITH_REASON: why unassigned) */
void view_timeline(struct view_req *r, json_t *items, int with_reason);
/* view_store_failed - a store error: logged, answered 503 */
void view_store_failed(struct view_req *r, const char *err);

/* the words of each record kind (enum store_view_kind): its path ("accounts"),
 * title ("Accounts"), singular ("account": a search's filter) and key field
 * ("domain", "address", "key") (pages_records.c) */
struct view_kind {
	const char *path, *title, *word, *key;
};
extern const struct view_kind view_kinds[3];

/* view_record_link - <a href="/KIND/ID">TEXT</a>, ALT when TEXT is empty (pages_records.c) */
void view_record_link(struct vbuf *b, const char *kind, json_t *id, json_t *text, json_t *alt);

/* page_records - GET /accounts, /contacts, /deals: a table page (pages_tables.c) */
void page_records(struct view_req *r, enum store_view_kind kind);
/* page_records_csv - GET /accounts.csv, ...: every row of the same view as CSV (pages_tables.c) */
void page_records_csv(struct view_req *r, enum store_view_kind kind);
void page_record(struct view_req *r, enum store_view_kind kind, int64_t id);
void page_thread(struct view_req *r, int64_t id);
/* page_attachment - GET /threads/TID/attachments/AID: the attachment's bytes (pages_attach.c) */
void page_attachment(struct view_req *r, int64_t tid, int64_t aid);
void page_unassigned(struct view_req *r);
void page_search(struct view_req *r);
void page_mailboxes(struct view_req *r);
void page_login(struct view_req *r, int status, const char *message);
void page_style(struct view_req *r);

/* ---- metrics.c: GET /metrics for Prometheus, no login, ViewerMetricsFrom only ---- */

/* metrics_check - every ViewerMetricsFrom entry is an address, a CIDR range or
 * "none"; 0, or -1 with err filled (start-up) */
int metrics_check(const struct conf *c, char *err, size_t errlen);
/* page_metrics - GET /metrics: 403 for an address not listed, else the numbers */
void page_metrics(struct view_req *r);

/* the stylesheet, made from viewer/static/style.css at build time */
extern const unsigned char view_style_css[];
extern const size_t view_style_css_len;

#endif
