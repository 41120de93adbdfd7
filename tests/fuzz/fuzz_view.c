/*
 * fuzz_view.c - fuzz target: crmview's request handling, from the raw
 * HTTP request to the page, on a small read-only store, with no network
 *
 * crmview's access handler (viewer/http.c: method, size and parameter
 * checks, the login form body) is static and takes libmicrohttpd's
 * connection object, so this file includes http.c and serves each input
 * through a libmicrohttpd daemon of its own that has no listening socket:
 * the input is written into one end of a socketpair(2) handed to the
 * daemon with MHD_add_connection() (as from 127.0.0.1), the daemon is run
 * in this thread (MHD_run, which never blocks: both ends are here) until it
 * closes the connection, and the answer is read back.  So everything after the socket is fuzzed: libmicrohttpd's
 * parsing, url_unescape(), the checks in handle(), view_route(), the
 * session cookie (session_check) or proxy header, the login form, every
 * page and /api/ endpoint and their parameters (page, limit, offset, q,
 * sort, dir, next), rendered from the store.
 *
 * The input is a raw HTTP request.  A leading "~" serves it with
 * ViewerAuth proxy (admins see private) from a trusted address, "~~" from
 * an untrusted one; else with the login form.  "@alice@" (a member of
 * team sales), "@bob@" (admin), "@carol@" (no password), "@mallory@" (no
 * such user) and "@old@" (alice, expired) are replaced by signed session
 * cookie values; alice's and bob's password is "secret".
 *
 * The store is made once per process in the scratch folder: every message
 * of tests/corpora/mail and tests/corpora/scenario/mail ingested with the
 * scenario's rules, and the users above; the viewer opens it read-only.
 * A response holding "<script" (an escaping failure) aborts, and so does a
 * 5xx status from crmview (its answers carry Content-Security-Policy;
 * libmicrohttpd's own, e.g. 505 for HTTP/0.1, do not): the store is sound,
 * so a 5xx means a request broke a query.
 * Fixtures are found under $CRM_TOP, else FUZZ_TOP (set by the Makefile).
 * FUZZ_VIEW_DEBUG=1 prints each response to stderr.
 */
#include "../../viewer/http.c"	/* handle(), url_unescape(), completed() */

#include <dirent.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include "../../ingest/ingest.h"
#include "fuzz.h"

#ifndef FUZZ_TOP
#define FUZZ_TOP "."
#endif

#define MAX_REQUEST (256 * 1024)
#define MAX_KEEP    (4 * 1024 * 1024)   /* bytes of a response kept for the checks */

/* one configuration of the viewer and its daemon */
struct server {
	struct conf conf;
	struct view_app app;
	struct MHD_Daemon *d;
};

static struct server form, proxy;

/* the session cookie values substituted into requests */
static struct { const char *mark; char *value; } tokens[] = {
	{ "@alice@", NULL }, { "@bob@", NULL }, { "@carol@", NULL }, { "@mallory@", NULL },
	{ "@old@", NULL },
};
#define N_TOKENS (sizeof tokens / sizeof tokens[0])

/* top - the top of the source tree */
static const char *top(void)
{
	const char *t = getenv("CRM_TOP");
	return t && *t ? t : FUZZ_TOP;
}

/* die - a harness problem, not a finding */
static _Noreturn void die(const char *what, const char *why)
{
	fprintf(stderr, "fuzz_view: %s: %s\n", what, why);
	abort();
}

/* ingest_dir - every file of DIR (under the top) into IN, in name order */
static void ingest_dir(struct ingest *in, const char *dir)
{
	char path[4200], err[512];
	struct dirent **names;
	int n;

	snprintf(path, sizeof path, "%s/%s", top(), dir);
	n = scandir(path, &names, NULL, alphasort);
	if (n < 0)
		die(path, "cannot list (set CRM_TOP)");
	for (int i = 0; i < n; i++) {
		size_t len;
		char *raw;

		int hidden = names[i]->d_name[0] == '.';

		snprintf(path, sizeof path, "%s/%s/%s", top(), dir, names[i]->d_name);
		free(names[i]);
		if (hidden || !(raw = read_file(path, 1 << 24, &len)))
			continue;
		struct ingest_msg m = { .raw = raw, .len = len, .origin = path,
					.source = STORE_SRC_IMPORT, .originated = -1 };
		if (ingest_add(in, &m, err, sizeof err) != 0)
			die(path, err);
		free(raw);
	}
	free(names);
}

/* cheap_hash - an argon2id string of PW at the lowest cost (the fuzzer logs in often) */
static void cheap_hash(char out[crypto_pwhash_STRBYTES], const char *pw)
{
	if (crypto_pwhash_str(out, pw, strlen(pw), crypto_pwhash_OPSLIMIT_MIN,
			      crypto_pwhash_MEMLIMIT_MIN) != 0)
		die("crypto_pwhash_str", "out of memory");
}

/* make_store - the fixture store and its users */
static void make_store(const struct conf *c)
{
	char err[512], alice[crypto_pwhash_STRBYTES], bob[crypto_pwhash_STRBYTES];
	struct store_opts o = { .path = c->database };
	struct ingest *in;
	struct store *st;

	if (ingest_open(c, NULL, NULL, &in, err, sizeof err) != 0)
		die("ingest_open", err);
	ingest_dir(in, "tests/corpora/mail");
	ingest_dir(in, "tests/corpora/scenario/mail");
	if (ingest_flush(in, err, sizeof err) != 0)
		die("ingest_flush", err);
	ingest_close(in);
	cheap_hash(alice, "secret");
	cheap_hash(bob, "secret");
	if (store_open(&o, &st, err, sizeof err) != STORE_OK ||
	    store_user_set(st, "alice@example.com", "member", "sales", "Alice", err, sizeof err) ||
	    store_user_secret(st, "alice@example.com", alice, err, sizeof err) ||
	    store_user_set(st, "bob@example.com", "admin", NULL, "Bob", err, sizeof err) ||
	    store_user_secret(st, "bob@example.com", bob, err, sizeof err) ||
	    store_user_set(st, "carol@example.com", "member", NULL, NULL, err, sizeof err))
		die("users", err);
	store_close(st);
	/* the cookies: a session needs the fingerprint of the user's password hash */
	char fa[17], fb[17], fc[17];
	int64_t later = (int64_t)time(NULL) + 86400 * 365;
	secret_fp(alice, fa);
	secret_fp(bob, fb);
	secret_fp(NULL, fc);
	/* ... and a session the server holds (mallory's too: the user check must stop him) */
	char sa[VIEW_SID_LEN + 1], sb[VIEW_SID_LEN + 1], sc[VIEW_SID_LEN + 1], sm[VIEW_SID_LEN + 1];
	sessions_start("alice@example.com", sa);
	sessions_start("bob@example.com", sb);
	sessions_start("carol@example.com", sc);
	sessions_start("mallory@example.com", sm);
	tokens[0].value = session_make(form.app.key, "alice@example.com", fa, sa, later);
	tokens[1].value = session_make(form.app.key, "bob@example.com", fb, sb, later);
	tokens[2].value = session_make(form.app.key, "carol@example.com", fc, sc, later);
	tokens[3].value = session_make(form.app.key, "mallory@example.com", fa, sm, later);
	tokens[4].value = session_make(form.app.key, "alice@example.com", fa, sa, 1000000000);
	for (size_t i = 0; i < N_TOKENS; i++)
		if (!tokens[i].value)
			die("session_make", "failed");
}

/* server_start - S with the configuration TEXT; its daemon has no socket */
static void server_start(struct server *s, const char *text)
{
	char path[4200], err[512];

	snprintf(path, sizeof path, "%s/%s.conf", fuzz_dir(), s == &form ? "form" : "proxy");
	fuzz_put_file(path, text, strlen(text));
	if (conf_load(path, &s->conf, err, sizeof err) < 0)
		die(path, err);
	s->app.conf = &s->conf;
	pthread_mutex_init(&s->app.lock, NULL);
	pthread_key_create(&s->app.store_key, close_store);
	if (auth_init(&s->app, err, sizeof err) < 0 || access_open(&s->app, err, sizeof err) < 0)
		die("auth_init", err);
	cheap_hash(s->app.dummy_hash, "no such user");
	s->d = MHD_start_daemon(MHD_USE_NO_LISTEN_SOCKET, 0, NULL, NULL, handle, &s->app,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
				MHD_OPTION_UNESCAPE_CALLBACK, url_unescape, NULL,
				MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
				MHD_OPTION_END);
	if (!s->d)
		die("MHD_start_daemon", strerror(errno));
}

/* setup - the store, both servers and their read-only store handles, once */
static void setup(void)
{
	static int done;
	char text[8192], base[6000], err[512];
	const char *dir;

	if (done)
		return;
	done = 1;
	dir = fuzz_dir();
	snprintf(base, sizeof base,
		 "Database %s/store.db\nDomains example.com\nRulesFile %s/tests/corpora/scenario/rules\n"
		 "FreemailDomains %s/contrib/freemail-domains.txt\n"
		 "ViewerSessionKeyFile %s/session.key\nViewerAccessLog /dev/null\n",
		 dir, top(), top(), dir);
	server_start(&form, base);
	snprintf(text, sizeof text, "%sViewerAuth proxy\nViewerAdminsSeePrivate yes\n", base);
	server_start(&proxy, text);
	make_store(&form.conf);
	/* the store as crmview checks it at start: read-only, a write refused */
	if (check_store(&form.conf, err, sizeof err) < 0)
		die("check_store", err);
	/* each server's read-only handle is opened now, not inside the first input */
	struct view_req r1 = { .app = &form.app }, r2 = { .app = &proxy.app };
	if (!view_store(&r1) || !view_store(&r2))
		die("view_store", "the store does not open read-only");
	vbuf_free(&r1.body);
	vbuf_free(&r2.body);
}

/* expand - the request DATA with the @user@ marks replaced; a new buffer, *len */
static char *expand(const uint8_t *data, size_t size, size_t *len)
{
	struct vbuf b = { 0 };
	size_t i = 0, k;

	while (i < size) {
		for (k = 0; k < N_TOKENS; k++) {
			size_t n = strlen(tokens[k].mark);
			if (size - i >= n && memcmp(data + i, tokens[k].mark, n) == 0) {
				vbuf_puts(&b, tokens[k].value);
				i += n;
				break;
			}
		}
		if (k == N_TOKENS)
			vbuf_add(&b, (const char *)data + i++, 1);
	}
	return vbuf_take(&b, len);	/* "" when empty */
}

/* serve - feed REQ to daemon D as one connection from ADDR; the answer, NUL-terminated */
static char *serve(struct MHD_Daemon *d, const char *req, size_t len, const char *addr,
		   size_t *outlen)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(40000) };
	struct vbuf out = { 0 };
	char buf[65536];
	size_t sent = 0;
	int sv[2], eof = 0, shut = 0;
	struct timespec t0, t;

	inet_pton(AF_INET, addr, &sin.sin_addr);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0)
		die("socketpair", strerror(errno));
	if (MHD_add_connection(d, sv[1], (const struct sockaddr *)&sin, sizeof sin) != MHD_YES)
		die("MHD_add_connection", strerror(errno));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!eof) {
		if (sent < len) {
			ssize_t w = send(sv[0], req + sent, len - sent, MSG_NOSIGNAL);
			if (w > 0)
				sent += (size_t)w;
			else if (errno != EAGAIN && errno != EINTR)
				sent = len;	/* the daemon closed: read what it said */
		}
		if (sent == len && !shut) {
			shutdown(sv[0], SHUT_WR);	/* the whole request is there */
			shut = 1;
		}
		MHD_run(d);
		for (;;) {
			ssize_t n = recv(sv[0], buf, sizeof buf, 0);
			if (n > 0 && out.len < MAX_KEEP)
				vbuf_add(&out, buf, (size_t)n);
			if (n > 0)
				continue;
			eof = n == 0 || (errno != EAGAIN && errno != EINTR);
			break;
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 60)
			die("serve", "the daemon did not answer in 60 s");
	}
	close(sv[0]);
	MHD_run(d);	/* frees the closed connection now, within this input */
	return vbuf_take(&out, outlen);	/* NUL-terminated, "" when empty */
}

/* LLVMFuzzerInitialize - see fuzz.h */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setup();
	return 0;
}

/* LLVMFuzzerTestOneInput - see fuzz.h */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct server *s = &form;
	const char *addr = "127.0.0.1";
	size_t len, outlen;
	char *req, *out;

	if (size > MAX_REQUEST)
		return 0;
	setup();
	if (size > 0 && data[0] == '~') {
		s = &proxy;
		data++, size--;
		if (size > 0 && data[0] == '~') {
			addr = "192.0.2.1";
			data++, size--;
		}
	}
	req = expand(data, size, &len);
	out = serve(s->d, req, len, addr, &outlen);
	if (getenv("FUZZ_VIEW_DEBUG"))
		fprintf(stderr, "---- response (%zu bytes)\n%.*s\n", outlen,
			(int)(outlen > 3000 ? 3000 : outlen), out);
	if (strcasestr(out, "<script"))
		abort();	/* something reached the page unescaped */
	if ((strncmp(out, "HTTP/1.1 5", 10) == 0 || strncmp(out, "HTTP/1.0 5", 10) == 0) &&
	    strstr(out, "\r\nContent-Security-Policy: "))
		abort();	/* crmview's 5xx (not libmicrohttpd's): a request broke a query */
	fuzz_sink ^= fuzz_consume(out, outlen);
	free(req);
	free(out);
	return 0;
}
