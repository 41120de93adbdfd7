/*
 * test_view.c - unit tests of crmview's pieces: HTML and URL escaping, the
 * signed session cookie, proxy address matching, the redirect check after
 * login, and the store as crmview opens it: read-only (a write attempt
 * fails), users kept in it, search text that is never FTS5 syntax
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "../../viewer/view_int.h"

/* esc - html_esc of S as a new string */
static char *esc(const char *s, size_t n)
{
	struct vbuf b = { 0 };
	size_t len;

	html_esc_n(&b, s, n);
	return vbuf_take(&b, &len);
}

static void test_html_escape(void **state)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "<script>alert('x')</script>", "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" },
		{ "a & b \"c\"", "a &amp; b &quot;c&quot;" },
		{ "\"><img src=x onerror=alert(1)>", "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" },
		{ "tab\tand\nnewline", "tab\tand\nnewline" },
		{ "bell\a esc\x1b del\x7f", "bell\xef\xbf\xbd esc\xef\xbf\xbd del\xef\xbf\xbd" },
		{ "invoice\xe2\x80\xaetxt.exe", "invoice\xef\xbf\xbdtxt.exe" },   /* U+202E */
		{ "iso \xe9t\xe9", "iso \xef\xbf\xbdt\xef\xbf\xbd" },             /* not UTF-8 */
		{ "over\xc0\xaflong", "over\xef\xbf\xbd\xef\xbf\xbdlong" },
		{ "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac", "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *o = esc(cases[i].in, strlen(cases[i].in));

		assert_string_equal(o, cases[i].out);
		free(o);
	}
	/* a NUL inside the text is a control character too */
	char *o = esc("a\0b", 3);
	assert_string_equal(o, "a\xef\xbf\xbd" "b");
	free(o);
}

static void test_url_escape(void **state)
{
	struct vbuf b = { 0 };
	size_t len;
	char *s;

	(void)state;
	url_esc(&b, "a b&c=d/<\">\xc3\xa9");
	s = vbuf_take(&b, &len);
	assert_string_equal(s, "a%20b%26c%3Dd%2F%3C%22%3E%C3%A9");
	free(s);
}

static void test_buffer_cap(void **state)
{
	struct vbuf b = { 0 };
	static char chunk[1024 * 1024];

	(void)state;
	memset(chunk, 'x', sizeof chunk);
	for (int i = 0; i < 70; i++)
		vbuf_add(&b, chunk, sizeof chunk);
	assert_true(b.overflow);
	assert_true(b.len <= VIEW_MAX_BODY);
	vbuf_free(&b);
}

static void test_session_cookie(void **state)
{
	unsigned char key[crypto_auth_KEYBYTES], other[crypto_auth_KEYBYTES];
	char addr[256], fp[17], sid[VIEW_SID_LEN + 1], *tok, *bad;
	const char *name = "00112233445566778899aabbccddeeff";

	(void)state;
	assert_int_equal(sodium_init() >= 0, 1);
	randombytes_buf(key, sizeof key);
	randombytes_buf(other, sizeof other);
	tok = session_make(key, "alice@example.com", "0123456789abcdef", name, 2000000000);
	assert_non_null(tok);
	assert_int_equal(session_check(key, tok, 1900000000, addr, sizeof addr, fp, sizeof fp, sid), 0);
	assert_string_equal(addr, "alice@example.com");
	assert_string_equal(fp, "0123456789abcdef");
	assert_string_equal(sid, name);
	/* expired, another key, one byte changed, truncated, empty */
	assert_int_equal(session_check(key, tok, 2000000001, addr, sizeof addr, fp, sizeof fp, sid), -1);
	assert_int_equal(session_check(other, tok, 1900000000, addr, sizeof addr, fp, sizeof fp, sid), -1);
	bad = strdup(tok);
	bad[3] = bad[3] == 'A' ? 'B' : 'A';
	assert_int_equal(session_check(key, bad, 1900000000, addr, sizeof addr, fp, sizeof fp, sid), -1);
	bad[strlen(bad) - 2] = '\0';
	assert_int_equal(session_check(key, bad, 1900000000, addr, sizeof addr, fp, sizeof fp, sid), -1);
	assert_int_equal(session_check(key, "", 1900000000, addr, sizeof addr, fp, sizeof fp, sid), -1);
	assert_int_equal(session_check(key, ".", 1900000000, addr, sizeof addr, fp, sizeof fp, sid), -1);
	free(bad);
	free(tok);
}

/* a session ends at logout, and is only its own user's */
static void test_sessions_end(void **state)
{
	char a[VIEW_SID_LEN + 1], b[VIEW_SID_LEN + 1];

	(void)state;
	assert_int_equal(sessions_start("alice@example.com", a), 0);
	assert_int_equal(sessions_start("alice@example.com", b), 0);
	assert_string_not_equal(a, b);
	assert_int_equal(sessions_touch(a, "alice@example.com"), 1);
	assert_int_equal(sessions_touch(a, "carol@example.com"), 0);	/* and it is gone */
	assert_int_equal(sessions_touch(a, "alice@example.com"), 0);
	assert_int_equal(sessions_touch(b, "alice@example.com"), 1);
	sessions_end(b);
	assert_int_equal(sessions_touch(b, "alice@example.com"), 0);
	assert_int_equal(sessions_touch("short", "alice@example.com"), 0);
}

/* five wrong passwords for one account from one address are free, then each
 * try waits; another address, and another account up to its own limit, go on */
static void test_throttle(void **state)
{
	(void)state;
	for (int i = 0; i < VIEW_FREE_TRIES_ACCOUNT; i++) {
		assert_int_equal(throttle_wait("192.0.2.1", "alice@example.com"), 0);
		throttle_failed("192.0.2.1", "alice@example.com");
	}
	assert_true(throttle_wait("192.0.2.1", "alice@example.com") > 0);
	assert_int_equal(throttle_wait("192.0.2.2", "alice@example.com"), 0);
	assert_int_equal(throttle_wait("192.0.2.1", "bob@example.com"), 0);
	for (int i = 0; i < VIEW_FREE_TRIES_CLIENT; i++)
		throttle_failed("192.0.2.3", i % 2 ? "x@example.com" : "y@example.com");
	assert_true(throttle_wait("192.0.2.3", "z@example.com") > 0);
	throttle_passed("192.0.2.1", "alice@example.com");
	assert_int_equal(throttle_wait("192.0.2.1", "alice@example.com"), 0);
	/* one check at a time from one address */
	int s = verify_enter("192.0.2.9");
	assert_true(s >= 0);
	assert_int_equal(verify_enter("192.0.2.9"), -2);
	int t = verify_enter("192.0.2.10");
	assert_true(t >= 0);
	verify_leave(s);
	verify_leave(t);
}

static void test_secret_fp(void **state)
{
	char a[17], b[17];

	(void)state;
	secret_fp("$argon2id$v=19$m=65536,t=2,p=1$aaaa$bbbb", a);
	secret_fp("$argon2id$v=19$m=65536,t=2,p=1$aaaa$bbbc", b);
	assert_int_equal(strlen(a), 16);
	assert_string_not_equal(a, b);
}

/* sa4 - a sockaddr of an IPv4 or IPv6 address */
static struct sockaddr_storage sa_of(const char *ip)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof ss);
	if (strchr(ip, ':')) {
		ss.ss_family = AF_INET6;
		inet_pton(AF_INET6, ip, &((struct sockaddr_in6 *)&ss)->sin6_addr);
	} else {
		ss.ss_family = AF_INET;
		inet_pton(AF_INET, ip, &((struct sockaddr_in *)&ss)->sin_addr);
	}
	return ss;
}

static void test_cidr(void **state)
{
	struct view_cidr c;
	struct sockaddr_storage s;

	(void)state;
	assert_int_equal(cidr_parse("192.0.2.0/24", &c), 0);
	s = sa_of("192.0.2.77");
	assert_int_equal(cidr_match(&c, (struct sockaddr *)&s), 1);
	s = sa_of("192.0.3.1");
	assert_int_equal(cidr_match(&c, (struct sockaddr *)&s), 0);
	s = sa_of("::ffff:192.0.2.9");
	assert_int_equal(cidr_match(&c, (struct sockaddr *)&s), 1);
	assert_int_equal(cidr_parse("10.1.2.3", &c), 0);
	s = sa_of("10.1.2.3");
	assert_int_equal(cidr_match(&c, (struct sockaddr *)&s), 1);
	s = sa_of("10.1.2.4");
	assert_int_equal(cidr_match(&c, (struct sockaddr *)&s), 0);
	assert_int_equal(cidr_parse("::1/128", &c), 0);
	s = sa_of("::1");
	assert_int_equal(cidr_match(&c, (struct sockaddr *)&s), 1);
	s = sa_of("127.0.0.1");
	assert_int_equal(cidr_match(&c, (struct sockaddr *)&s), 0);
	assert_int_equal(cidr_parse("10.0.0.0/33", &c), -1);
	assert_int_equal(cidr_parse("example.com", &c), -1);
	assert_int_equal(cidr_parse("10.0.0.0/", &c), -1);
}

static void test_safe_next(void **state)
{
	(void)state;
	assert_int_equal(safe_next("/threads/12"), 1);
	assert_int_equal(safe_next("/search?q=a"), 1);
	assert_int_equal(safe_next("//evil.example/"), 0);
	assert_int_equal(safe_next("/\\evil.example"), 0);
	assert_int_equal(safe_next("https://evil.example/"), 0);
	assert_int_equal(safe_next("/x\r\nSet-Cookie: a=b"), 0);
	assert_int_equal(safe_next("/login"), 0);
	assert_int_equal(safe_next(""), 0);
	assert_int_equal(safe_next(NULL), 0);
}

/* conf_text - load TEXT as a config file; the result of conf_load */
static int conf_text(const char *text, struct conf *c, char *err, size_t errlen)
{
	char path[] = "/tmp/test_view_conf.XXXXXX";
	int fd = mkstemp(path), rc;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	rc = conf_load(path, c, err, errlen);
	unlink(path);
	return rc;
}

static void test_viewer_conf(void **state)
{
	struct conf c;
	char err[512];

	(void)state;
	conf_defaults(&c);
	assert_string_equal(c.viewer_listen, "127.0.0.1:8025");
	assert_int_equal(c.viewer_auth, CONF_AUTH_FORM);
	assert_int_equal(c.viewer_admins_see_private, 0);
	assert_null(c.viewer_tls_cert);
	assert_null(c.viewer_access_log);
	assert_string_equal(c.viewer_proxy_header, "X-Remote-User");
	assert_int_equal(c.viewer_proxy_addresses.n, 2);
	conf_free(&c);
	assert_int_equal(conf_text("ViewerAuth proxy\nViewerAdminsSeePrivate yes\n"
				   "ViewerProxyAddresses 10.0.0.0/8\nViewerTLSCert /c.pem\n", &c, err,
				   sizeof err), 0);
	assert_int_equal(c.viewer_auth, CONF_AUTH_PROXY);
	assert_int_equal(c.viewer_admins_see_private, 1);
	assert_int_equal(c.viewer_proxy_addresses.n, 1);
	assert_string_equal(c.viewer_proxy_addresses.v[0], "10.0.0.0/8");
	assert_string_equal(c.viewer_tls_cert, "/c.pem");
	conf_free(&c);
	assert_int_equal(conf_text("\nViewerAuth magic\n", &c, err, sizeof err), -1);
	assert_non_null(strstr(err, ":2: expected form or proxy"));
	assert_int_equal(conf_text("ViewerAdminsSeePrivate maybe\n", &c, err, sizeof err), -1);
	assert_non_null(strstr(err, ":1: expected yes or no"));
}

/* ---- the store as crmview opens it ---- */

struct fx {
	char dir[64], path[128];
};

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	struct store_opts o = { 0 };
	struct store *st;
	char err[512];

	snprintf(f->dir, sizeof f->dir, "/tmp/test_view.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof f->path, "%s/store.db", f->dir);
	o.path = f->path;
	assert_int_equal(store_open(&o, &st, err, sizeof err), STORE_OK);
	assert_int_equal(store_user_set(st, "alice@example.com", "member", "sales", NULL, err,
					sizeof err), STORE_OK);
	store_close(st);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;
	char cmd[200];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* open_ro - the store read-only, as crmview opens it */
static struct store *open_ro(struct fx *f)
{
	struct store_opts o = { .path = f->path, .readonly = 1 };
	struct store *st = NULL;
	char err[512];

	assert_int_equal(store_open(&o, &st, err, sizeof err), STORE_OK);
	return st;
}

static void test_readonly_write_fails(void **state)
{
	struct fx *f = *state;
	struct store_opts o = { .path = f->path };
	struct store *st = open_ro(f), *rw;
	char err[512];
	json_t *u;

	/* every write through the read-only handle fails, and changes nothing */
	assert_int_equal(store_view_write_probe(st), STORE_EREADONLY);
	assert_int_equal(store_user_set(st, "mallory@example.com", "admin", NULL, NULL, err,
					sizeof err), STORE_EREADONLY);
	assert_int_equal(store_user_secret(st, "alice@example.com", "x", err, sizeof err),
			 STORE_EREADONLY);
	assert_int_equal(store_user_get(st, "mallory@example.com", &u, err, sizeof err), STORE_OK);
	assert_null(u);
	store_close(st);
	/* the same probe through a read-write handle does write (and rolls back) */
	assert_int_equal(store_open(&o, &rw, err, sizeof err), STORE_OK);
	assert_int_equal(store_view_write_probe(rw), STORE_OK);
	store_close(rw);
}

static void test_users(void **state)
{
	struct fx *f = *state;
	struct store_opts o = { .path = f->path };
	struct store *st;
	char err[512];
	json_t *u;

	assert_int_equal(store_open(&o, &st, err, sizeof err), STORE_OK);
	assert_int_equal(store_user_secret(st, "alice@example.com", "$argon2id$x", err, sizeof err),
			 STORE_OK);
	assert_int_equal(store_user_secret(st, "nobody@example.com", "$argon2id$x", err, sizeof err),
			 STORE_EINVAL);
	assert_int_equal(store_user_set(st, "bob@example.com", "root", NULL, NULL, err, sizeof err),
			 STORE_EINVAL);
	assert_int_equal(store_user_set(st, "alice@example.com", "admin", NULL, "Alice", err,
					sizeof err), STORE_OK);
	assert_int_equal(store_user_get(st, "alice@example.com", &u, err, sizeof err), STORE_OK);
	assert_string_equal(json_string_value(json_object_get(u, "role")), "admin");
	assert_true(json_is_null(json_object_get(u, "team")));
	assert_string_equal(json_string_value(json_object_get(u, "secret")), "$argon2id$x");
	assert_string_equal(json_string_value(json_object_get(u, "name")), "Alice");
	json_decref(u);
	assert_int_equal(store_user_remove(st, "alice@example.com", err, sizeof err), STORE_OK);
	assert_int_equal(store_user_remove(st, "alice@example.com", err, sizeof err), STORE_EINVAL);
	store_close(st);
}

static void test_search_text_is_never_syntax(void **state)
{
	static const char *const texts[] = {
		"\"", "\"\"\"", "a\" OR \"b", "NEAR(a b)", "subject:x", "{subject}: x", "*", "a*",
		"^start", "AND", "a - b", "(", ")", "a OR", "\xe6\x97\xa5\xe6\x9c\xac",
		"x' ; DROP TABLE users; --",
	};
	struct fx *f = *state;
	struct store *st = open_ro(f);
	struct store_viewer who = { .address = "alice@example.com", .team = "sales" };
	char err[512];
	json_t *r;

	struct store_search_query q = { .limit = 10 };

	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		q.text = texts[i];
		assert_int_equal(store_view_search(st, &who, &q, &r, err, sizeof err), STORE_OK);
		json_decref(r);
	}
	/* no word at all: no search */
	q.text = "  !!! ";
	assert_int_equal(store_view_search(st, &who, &q, &r, err, sizeof err), STORE_OK);
	assert_null(r);
	store_close(st);
}

static void test_unknown_ids(void **state)
{
	struct fx *f = *state;
	struct store *st = open_ro(f);
	struct store_viewer who = { .address = "alice@example.com" };
	char err[512];
	json_t *r = json_true();

	assert_int_equal(store_view_thread(st, &who, 42, 10, 0, &r, err, sizeof err), STORE_OK);
	assert_null(r);
	for (int k = STORE_VIEW_ACCOUNTS; k <= STORE_VIEW_DEALS; k++) {
		assert_int_equal(store_view_record(st, &who, (enum store_view_kind)k, 7, 10, 0, &r, err,
						   sizeof err), STORE_OK);
		assert_null(r);
	}
	store_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_html_escape),
		cmocka_unit_test(test_url_escape),
		cmocka_unit_test(test_buffer_cap),
		cmocka_unit_test(test_session_cookie),
		cmocka_unit_test(test_sessions_end),
		cmocka_unit_test(test_throttle),
		cmocka_unit_test(test_secret_fp),
		cmocka_unit_test(test_cidr),
		cmocka_unit_test(test_safe_next),
		cmocka_unit_test(test_viewer_conf),
		cmocka_unit_test_setup_teardown(test_readonly_write_fails, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_users, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_search_text_is_never_syntax, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_unknown_ids, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
