/*
 * auth.c - who is asking: the login form and its signed session cookie,
 * or a user header from a trusted proxy (ViewerAuth proxy)
 *
 * Public (view_int.h): auth_init, auth_identify, auth_login, auth_logout,
 * session_make, session_check, secret_fp, cidr_parse, cidr_match,
 * safe_next.  A session cookie is base64url("2|EXPIRES|FP|SID|ADDRESS") "."
 * base64url(HMAC-SHA512-256 of it) with the key of ViewerSessionKeyFile
 * (libsodium crypto_auth); FP identifies the user's password hash, so a
 * new password or a removed user ends every session.  The cookie is
 * HttpOnly, SameSite=Strict, Secure under TLS, and names a session the
 * server holds (session.c): logout, age and idleness end it there, whatever
 * the cookie says.  Passwords are argon2id strings (crmctl user passwd),
 * checked under session.c's throttling and fair share of the
 * VIEW_MAX_VERIFY checks; an unknown address costs the same check as a
 * known one.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <microhttpd.h>

#include "view_int.h"

#define KEY_MIN 32                 /* bytes of a session key file */

/* load_key - the session key from PATH, created (0600) when missing; 0 or -1 */
static int load_key(struct view_app *app, const char *path, char *err, size_t errlen)
{
	unsigned char fresh[KEY_MIN];
	size_t len = 0;
	char *data = read_file(path, 64 * 1024, &len);
	int fd;

	if (!data && errno == ENOENT) {
		randombytes_buf(fresh, sizeof fresh);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 || write(fd, fresh, sizeof fresh) != (ssize_t)sizeof fresh ||
		    fsync(fd) < 0) {
			snprintf(err, errlen, "%s: cannot create the session key: %s (make one:"
				 " head -c 32 /dev/urandom > %s; chmod 600 %s)", path,
				 strerror(errno), path, path);
			if (fd >= 0)
				close(fd);
			return -1;
		}
		close(fd);
		msg_info("created session key %s", path);
		crypto_generichash(app->key, sizeof app->key, fresh, sizeof fresh, NULL, 0);
		sodium_memzero(fresh, sizeof fresh);
		return 0;
	}
	if (!data) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (len < KEY_MIN) {
		snprintf(err, errlen, "%s: a session key needs at least %d bytes", path, KEY_MIN);
		sodium_memzero(data, len);
		free(data);
		return -1;
	}
	crypto_generichash(app->key, sizeof app->key, (unsigned char *)data, len, NULL, 0);
	sodium_memzero(data, len);
	free(data);
	return 0;
}

/* auth_init - libsodium, the session key, a dummy hash, the proxy list; 0 or -1 */
int auth_init(struct view_app *app, char *err, size_t errlen)
{
	const struct conf *c = app->conf;
	char pw[32];

	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium cannot start");
		return -1;
	}
	if (c->viewer_auth == CONF_AUTH_PROXY) {
		app->proxies = calloc(c->viewer_proxy_addresses.n + 1, sizeof *app->proxies);
		if (!app->proxies)
			return -1;
		for (size_t i = 0; i < c->viewer_proxy_addresses.n; i++)
			if (cidr_parse(c->viewer_proxy_addresses.v[i], &app->proxies[i]) < 0) {
				snprintf(err, errlen, "ViewerProxyAddresses: %s: expected an address"
					 " or ADDRESS/BITS", c->viewer_proxy_addresses.v[i]);
				return -1;
			}
		app->n_proxies = c->viewer_proxy_addresses.n;
		return 0;
	}
	randombytes_buf(pw, sizeof pw);
	if (crypto_pwhash_str(app->dummy_hash, pw, sizeof pw, crypto_pwhash_OPSLIMIT_INTERACTIVE,
			      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
		snprintf(err, errlen, "out of memory hashing a password");
		return -1;
	}
	return load_key(app, c->viewer_session_key, err, errlen);
}

/* secret_fp - 16 hex digits of BLAKE2b of the password hash */
void secret_fp(const char *secret, char out[17])
{
	unsigned char h[8];

	crypto_generichash(h, sizeof h, (const unsigned char *)(secret ? secret : ""),
			   secret ? strlen(secret) : 0, NULL, 0);
	sodium_bin2hex(out, 17, h, sizeof h);
}

/* b64 - base64url of N bytes; new string or NULL */
static char *b64(const unsigned char *p, size_t n)
{
	size_t len = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	char *s = malloc(len);

	if (s)
		sodium_bin2base64(s, len, p, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return s;
}

/* session_make - a signed cookie value; see view_int.h */
char *session_make(const unsigned char *key, const char *address, const char *fp,
		   const char *sid, int64_t expires)
{
	unsigned char mac[crypto_auth_BYTES];
	char payload[512], *a, *m, *tok = NULL;
	int n = snprintf(payload, sizeof payload, "2|%lld|%s|%s|%s", (long long)expires, fp, sid,
			 address);

	if (n < 0 || (size_t)n >= sizeof payload)
		return NULL;
	crypto_auth(mac, (unsigned char *)payload, (size_t)n, key);
	a = b64((unsigned char *)payload, (size_t)n);
	m = b64(mac, sizeof mac);
	if (a && m && (tok = malloc(strlen(a) + strlen(m) + 2)))
		sprintf(tok, "%s.%s", a, m);
	free(a);
	free(m);
	return tok;
}

/* session_check - verify a cookie value; see view_int.h */
int session_check(const unsigned char *key, const char *token, int64_t now, char *address,
		  size_t alen, char *fp, size_t fplen, char *sid)
{
	unsigned char payload[512], mac[crypto_auth_BYTES + 1];
	size_t plen = 0, mlen = 0;
	const char *dot, *end;
	char *p, *q;
	long long exp;

	if (!token || strlen(token) > 1024 || !(dot = strchr(token, '.')))
		return -1;
	if (sodium_base642bin(payload, sizeof payload - 1, token, (size_t)(dot - token), NULL,
			      &plen, &end, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    end != dot ||
	    sodium_base642bin(mac, sizeof mac, dot + 1, strlen(dot + 1), NULL, &mlen, &end,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 || *end ||
	    mlen != crypto_auth_BYTES || crypto_auth_verify(mac, payload, plen, key) != 0)
		return -1;
	payload[plen] = '\0';
	p = (char *)payload;
	if (strncmp(p, "2|", 2) != 0)
		return -1;
	exp = strtoll(p + 2, &q, 10);
	/* q: "|FP(16)|SID(32)|ADDRESS" */
	if (q == p + 2 || *q != '|' || exp <= now || strlen(q + 1) < 18 + VIEW_SID_LEN ||
	    q[17] != '|' || q[18 + VIEW_SID_LEN] != '|')
		return -1;
	if (fplen < 17 || strlen(q + 19 + VIEW_SID_LEN) >= alen || !q[19 + VIEW_SID_LEN])
		return -1;
	memcpy(fp, q + 1, 16);
	fp[16] = '\0';
	memcpy(sid, q + 18, VIEW_SID_LEN);
	sid[VIEW_SID_LEN] = '\0';
	strcpy(address, q + 19 + VIEW_SID_LEN);
	return 0;
}

/* cidr_parse - "ADDR" or "ADDR/BITS" into OUT; 0 or -1 */
int cidr_parse(const char *s, struct view_cidr *out)
{
	char host[64];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	char *end;
	long bits;

	if (n >= sizeof host)
		return -1;
	memcpy(host, s, n);
	host[n] = '\0';
	memset(out, 0, sizeof *out);
	if (inet_pton(AF_INET, host, out->addr) == 1)
		out->family = AF_INET, out->bits = 32;
	else if (inet_pton(AF_INET6, host, out->addr) == 1)
		out->family = AF_INET6, out->bits = 128;
	else
		return -1;
	if (slash) {
		bits = strtol(slash + 1, &end, 10);
		if (*end || end == slash + 1 || bits < 0 || bits > (long)out->bits)
			return -1;
		out->bits = (unsigned)bits;
	}
	return 0;
}

/* cidr_match - 1 when SA is inside C (v4-mapped v6 addresses count as v4) */
int cidr_match(const struct view_cidr *c, const struct sockaddr *sa)
{
	const unsigned char *a;
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	unsigned full, rest;

	if (!sa)
		return 0;
	if (sa->sa_family == AF_INET) {
		if (c->family != AF_INET)
			return 0;
		a = (const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr;
	} else if (sa->sa_family == AF_INET6) {
		a = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
		if (c->family == AF_INET) {
			if (memcmp(a, mapped, 12) != 0)
				return 0;
			a += 12;
		}
	} else {
		return 0;
	}
	full = c->bits / 8;
	rest = c->bits % 8;
	if (memcmp(a, c->addr, full) != 0)
		return 0;
	return !rest || ((a[full] ^ c->addr[full]) & (0xff << (8 - rest)) & 0xff) == 0;
}

/* safe_next - a local path: "/" then printable ASCII, no "//", no backslash */
int safe_next(const char *n)
{
	if (!n || n[0] != '/' || n[1] == '/' || strlen(n) > 512 || strncmp(n, "/login", 6) == 0)
		return 0;
	for (const char *p = n; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f || *p == '\\')
			return 0;
	return 1;
}

/* set_user - fill r->user and r->who from a users value U; 1 or 0 when unusable */
static int set_user(struct view_req *r, json_t *u)
{
	const char *team = json_string_value(json_object_get(u, "team"));
	const char *name = json_string_value(json_object_get(u, "name"));
	const char *addr = json_string_value(json_object_get(u, "address"));

	if (!addr || strlen(addr) >= sizeof r->user.address)
		return 0;
	snprintf(r->user.address, sizeof r->user.address, "%s", addr);
	snprintf(r->user.name, sizeof r->user.name, "%s", name ? name : "");
	snprintf(r->user.team, sizeof r->user.team, "%s", team ? team : "");
	r->user.admin = strcmp(json_string_value(json_object_get(u, "role")), "admin") == 0;
	r->who.address = r->user.address;
	r->who.team = r->user.team[0] ? r->user.team : NULL;
	r->who.inside_all = r->user.admin && r->app->conf->viewer_admins_see_private;
	r->who.full_paths = r->user.admin;
	r->who.rules_base = r->app->conf_dir;
	r->authed = 1;
	return 1;
}

/* lookup - the users value of ADDRESS, or NULL (a 503 is set when the store fails) */
static json_t *lookup(struct view_req *r, const char *address)
{
	char err[256];
	json_t *u = NULL;

	r->st = view_store(r);
	if (!r->st)
		return NULL;
	if (store_user_get(r->st, address, &u, err, sizeof err) != STORE_OK) {
		msg_warn("%s", err);
		view_error(r, 503, "The store cannot be read right now.");
		return NULL;
	}
	return u;
}

/* identify_proxy - the proxy's user header, from a trusted address only */
static int identify_proxy(struct view_req *r)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const char *h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
						    r->app->conf->viewer_proxy_header);
	char addr[256];
	size_t i, trusted = 0;
	json_t *u;
	int ok;

	for (i = 0; i < r->app->n_proxies && !trusted; i++)
		trusted = cidr_match(&r->app->proxies[i], ci ? ci->client_addr : NULL);
	if (!trusted) {
		view_error(r, 403, "This viewer answers only its proxy.");
		return -1;
	}
	if (!h || !*h || strlen(h) >= sizeof addr || !strchr(h, '@')) {
		view_error(r, 401, "The proxy named no user.");
		return -1;
	}
	for (i = 0; h[i]; i++)
		addr[i] = (char)tolower((unsigned char)h[i]);
	addr[i] = '\0';
	u = lookup(r, addr);
	if (!u) {
		if (r->status == 200)
			view_error(r, 403, "This user may not use the viewer.");
		return -1;
	}
	ok = set_user(r, u);
	json_decref(u);
	return ok;
}

/* auth_identify - who is asking; 1 authed, 0 not logged in, -1 answered (error) */
int auth_identify(struct view_req *r)
{
	const char *cookie;
	char addr[256], fp[17], cur[17], sid[VIEW_SID_LEN + 1];
	json_t *u;
	int ok;

	if (r->app->conf->viewer_auth == CONF_AUTH_PROXY)
		return identify_proxy(r);
	cookie = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, VIEW_COOKIE);
	if (!cookie || session_check(r->app->key, cookie, (int64_t)time(NULL), addr, sizeof addr,
				     fp, sizeof fp, sid) < 0 || !sessions_touch(sid, addr))
		return 0;
	u = lookup(r, addr);
	if (!u)
		return r->status == 200 ? 0 : -1;
	secret_fp(json_string_value(json_object_get(u, "secret")), cur);
	ok = json_string_value(json_object_get(u, "secret")) && sodium_memcmp(cur, fp, 16) == 0 &&
	     set_user(r, u);
	json_decref(u);
	return ok;
}

/* hexdig - value of a hex digit, -1 when not one */
static int hexdig(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* form_value - the urlencoded field NAME of BODY, decoded into OUT; 0 or -1 */
static int form_value(const char *body, const char *name, char *out, size_t outlen)
{
	size_t nl = strlen(name), o = 0;
	const char *p = body;
	int hi, lo;
	char c;

	while (p && *p) {
		if (strncmp(p, name, nl) == 0 && p[nl] == '=') {
			for (p += nl + 1; *p && *p != '&'; p++) {
				c = *p == '+' ? ' ' : *p;
				if (c == '%') {
					hi = hexdig(p[1]);
					lo = hi < 0 ? -1 : hexdig(p[2]);
					if (lo < 0 || (hi == 0 && lo == 0))
						return -1;
					c = (char)(hi * 16 + lo);
					p += 2;
				}
				if (o + 1 >= outlen)
					return -1;
				out[o++] = c;
			}
			out[o] = '\0';
			return 0;
		}
		p = strchr(p, '&');
		if (p)
			p++;
	}
	return -1;
}

/*
 * same_origin - the form was posted from this server's own page: the
 * browser's Sec-Fetch-Site says same-origin (or none: typed), or, from a
 * browser without it, an Origin naming this server ("null", which the
 * no-referrer policy makes browsers send, only when Sec-Fetch-Site vouches)
 */
static int same_origin(struct view_req *r)
{
	const char *site = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Sec-Fetch-Site");
	const char *origin = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Origin");
	const char *host = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Host");
	const char *scheme = r->app->tls ? "https://" : "http://";

	if (site)
		return strcmp(site, "same-origin") == 0 || strcmp(site, "none") == 0;
	if (!origin)
		return 1;
	return host && strncmp(origin, scheme, strlen(scheme)) == 0 &&
	       strcmp(origin + strlen(scheme), host) == 0;
}

/* check_password - argon2id verify for CLIENT: 1 ok, 0 no, -1 no check free
 * (503), -2 CLIENT has one running (429) */
static int check_password(const char *client, const char *hash, const char *pw)
{
	int slot = verify_enter(client), ok;

	if (slot < 0)
		return slot;
	ok = crypto_pwhash_str_verify(hash, pw, strlen(pw)) == 0;
	verify_leave(slot);
	return ok;
}

/* too_soon - answer 429 with Retry-After: WAIT seconds */
static void too_soon(struct view_req *r, int64_t wait)
{
	snprintf(r->retry_after, sizeof r->retry_after, "%lld", (long long)wait);
	snprintf(r->log_note, sizeof r->log_note, " login=throttled");
	view_error(r, 429, "Too many wrong passwords from here: wait a minute, then try again.");
}

/* auth_login - POST /login: check the password, set the cookie, go on */
void auth_login(struct view_req *r)
{
	char addr[256], pw[256], next[520], fp[17], sid[VIEW_SID_LEN + 1];
	const char *secret = NULL;
	json_t *u = NULL;
	int64_t wait;
	char *tok;
	int ok;

	if (r->app->conf->viewer_auth == CONF_AUTH_PROXY) {
		view_error(r, 404, "Log in through the proxy.");
		return;
	}
	if (!same_origin(r)) {
		view_error(r, 403, "The login form came from another site.");
		return;
	}
	if (form_value(r->post, "address", addr, sizeof addr) < 0 ||
	    form_value(r->post, "password", pw, sizeof pw) < 0 || !addr[0]) {
		page_login(r, 400, "Give your address and password.");
		return;
	}
	if (form_value(r->post, "next", next, sizeof next) < 0 || !safe_next(next))
		snprintf(next, sizeof next, "/accounts");
	for (char *c = addr; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	wait = throttle_wait(r->client, addr);
	if (wait > 0) {
		too_soon(r, wait);
		goto out;
	}
	u = lookup(r, addr);
	if (!u && r->status != 200)
		goto out;
	if (u)
		secret = json_string_value(json_object_get(u, "secret"));
	ok = check_password(r->client, secret ? secret : r->app->dummy_hash, pw);
	if (ok == -2) {
		too_soon(r, 1);
		goto out;
	}
	if (ok < 0) {
		view_error(r, 503, "Too many logins at once; try again in a moment.");
		goto out;
	}
	if (!ok || !secret || !set_user(r, u)) {
		throttle_failed(r->client, addr);
		snprintf(r->log_note, sizeof r->log_note, " login=failed");
		page_login(r, 401, "Wrong address or password.");
		goto out;
	}
	throttle_passed(r->client, addr);
	secret_fp(secret, fp);
	sessions_start(r->user.address, sid);
	tok = session_make(r->app->key, r->user.address, fp, sid,
			   (int64_t)time(NULL) + VIEW_SESSION_HOURS * 3600);
	if (!tok || asprintf(&r->cookie, VIEW_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict;"
			     " Max-Age=%d%s", tok, VIEW_SESSION_HOURS * 3600,
			     r->app->tls ? "; Secure" : "") < 0) {
		r->cookie = NULL;
		view_error(r, 500, "Out of memory.");
	} else {
		r->status = 303;
		r->location = strdup(next);
		snprintf(r->log_note, sizeof r->log_note, " login=ok");
	}
	free(tok);
out:
	sodium_memzero(pw, sizeof pw);
	json_decref(u);
}

/* auth_logout - end the session on the server, clear the cookie, go to the login page */
void auth_logout(struct view_req *r)
{
	const char *cookie = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, VIEW_COOKIE);
	char addr[256], fp[17], sid[VIEW_SID_LEN + 1];

	if (cookie && session_check(r->app->key, cookie, (int64_t)time(NULL), addr, sizeof addr, fp,
				    sizeof fp, sid) == 0)
		sessions_end(sid);
	if (asprintf(&r->cookie, VIEW_COOKIE "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0%s",
		     r->app->tls ? "; Secure" : "") < 0)
		r->cookie = NULL;
	r->status = 303;
	r->location = strdup("/login");
}
