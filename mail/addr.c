/*
 * addr.c - addresses: normal form, machine senders, domains, free-mail list
 *
 * Public: mail_addr_normalise, mail_addr_is_automated,
 * mail_registrable_domain, mail_freemail_load, mail_is_freemail.
 * Private: mail_addrs_from_header (an address header into a deduplicated,
 * capped list) and mail_addrs_free.
 *
 * The free-mail list is a hash set swapped under a read/write lock, so any
 * number of threads may ask mail_is_freemail() while one reloads the list.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpsl.h>

#include "mail_int.h"

/* longest address we accept (RFC 5321 path limit, with room) */
#define ADDR_MAX 512
/* longest free-mail line we read */
#define FREEMAIL_LINE_MAX 1024

static pthread_rwlock_t freemail_lock = PTHREAD_RWLOCK_INITIALIZER;
static GHashTable *freemail_set;  /* lower-case domain -> itself; NULL: none */

/* addr_has_bad_char - 1 when S holds a space, control character or angle bracket */
static int addr_has_bad_char(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= ' ' || c == 0x7f || c == '<' || c == '>' || c == ',')
			return 1;
	}
	return 0;
}

/*
 * mail_addr_normalise - canonical bare address
 *
 * Accepts "a@b", " <a@b> ", "Name <a@b>" and "mailto:a@b".  Returns a new
 * string (free()) lower-cased (ASCII letters, local part included: mail
 * systems treat Dave@ and dave@ as one mailbox, and so must a CRM) with a
 * trailing dot dropped, or NULL when there is no usable local@domain.
 */
char *mail_addr_normalise(const char *s)
{
	const char *start, *end, *lt, *gt, *at;
	char *out;
	size_t n;

	if (s == NULL)
		return NULL;
	start = s;
	end = s + strlen(s);
	lt = strrchr(s, '<');
	if (lt != NULL && (gt = strchr(lt, '>')) != NULL) {
		start = lt + 1;
		end = gt;
	}
	while (start < end && g_ascii_isspace(*start))
		start++;
	while (end > start && g_ascii_isspace(end[-1]))
		end--;
	if (end - start > 7 && g_ascii_strncasecmp(start, "mailto:", 7) == 0)
		start += 7;
	while (end > start && end[-1] == '.')
		end--;
	n = (size_t)(end - start);
	if (n < 3 || n > ADDR_MAX || addr_has_bad_char(start, n))
		return NULL;
	at = memrchr(start, '@', n);
	if (at == NULL || at == start || at == end - 1)
		return NULL;
	out = malloc(n + 1);
	if (out == NULL)
		return NULL;
	memcpy(out, start, n);
	out[n] = '\0';
	for (char *p = out; *p; p++)
		*p = g_ascii_tolower(*p);
	return out;
}

/* local part names (lower case, '-', '_' and '.' removed) that are machines */
static const char *const automated_exact[] = {
	"noreply", "donotreply", "mailerdaemon", "postmaster", "nobody",
	"notification", "notifications", "notify", "alert", "alerts",
	"autoreply", "autoresponder", "autoconfirm", "daemon", "listserv",
	"majordomo", "mailman", "bounce", "bounces", "newsletter", "root",
	"mailer", "maildelivery", "mdaemon", "automailer", "noresponse",
	"unsubscribe", "devnull", NULL
};

/* prefixes of the squeezed local part that are machines */
static const char *const automated_prefix[] = {
	"noreply", "donotreply", "mailerdaemon", "bounce", "notification",
	"autoreply", "owner", NULL
};

/* suffixes of the raw lower-case local part that are machines (list software) */
static const char *const automated_suffix[] = {
	"-bounces", "-request", "-owner", "-noreply", "-no-reply", "+noreply",
	NULL
};

/* squeeze_local - lower-case local part without '-', '_', '.', '+'-tag */
static void squeeze_local(const char *local, size_t n, char *out, size_t outlen)
{
	size_t j = 0;

	for (size_t i = 0; i < n && j + 1 < outlen; i++) {
		char c = g_ascii_tolower(local[i]);

		if (c == '+')
			break;
		if (c == '-' || c == '_' || c == '.')
			continue;
		out[j++] = c;
	}
	out[j] = '\0';
}

/*
 * mail_addr_is_automated - 1 for a machine's address, else 0
 *
 * Looks at the local part only: no-reply and its spellings, mailer-daemon,
 * postmaster, bounce addresses (also VERP "bounces+..."), notifications,
 * list software (-request, -bounces, owner-).  NULL or a malformed address
 * gives 0.
 */
int mail_addr_is_automated(const char *addr)
{
	char squeezed[128], lower[128];
	const char *at;
	size_t n;

	if (addr == NULL || (at = strrchr(addr, '@')) == NULL)
		at = addr ? addr + strlen(addr) : NULL;
	if (at == NULL || at == addr)
		return 0;
	if (*addr == '<')
		addr++;
	n = (size_t)(at - addr);
	if (n >= sizeof(lower))
		n = sizeof(lower) - 1;
	for (size_t i = 0; i < n; i++)
		lower[i] = g_ascii_tolower(addr[i]);
	lower[n] = '\0';
	squeeze_local(addr, n, squeezed, sizeof(squeezed));
	for (size_t i = 0; automated_exact[i]; i++)
		if (strcmp(squeezed, automated_exact[i]) == 0)
			return 1;
	for (size_t i = 0; automated_prefix[i]; i++)
		if (g_str_has_prefix(squeezed, automated_prefix[i]))
			return 1;
	for (size_t i = 0; automated_suffix[i]; i++)
		if (g_str_has_suffix(lower, automated_suffix[i]))
			return 1;
	return 0;
}

static const psl_ctx_t *psl_ctx;
static pthread_once_t psl_once = PTHREAD_ONCE_INIT;

/* psl_load - pick the built-in public suffix list, else the system one */
static void psl_load(void)
{
	psl_ctx = psl_builtin();
	if (psl_ctx == NULL)
		psl_ctx = psl_latest(NULL);
}

/* psl_get - the public suffix list (loaded once), or NULL when there is none */
static const psl_ctx_t *psl_get(void)
{
	pthread_once(&psl_once, psl_load);
	return psl_ctx;
}

/*
 * mail_registrable_domain - public suffix + 1 of a domain (libpsl)
 *
 * The input is lower-cased and a trailing dot dropped.  Returns a new
 * string (free()); when libpsl gives nothing (a public suffix itself, no
 * dot, no list) the lower-cased input is returned.  NULL only when domain
 * is NULL or memory runs out.
 */
char *mail_registrable_domain(const char *domain)
{
	const psl_ctx_t *psl;
	const char *reg = NULL;
	char *lower, *out;
	size_t n;

	if (domain == NULL)
		return NULL;
	lower = strdup(domain);
	if (lower == NULL)
		return NULL;
	for (char *p = lower; *p; p++)
		*p = g_ascii_tolower(*p);
	n = strlen(lower);
	while (n > 0 && lower[n - 1] == '.')
		lower[--n] = '\0';
	psl = psl_get();
	if (psl != NULL && strchr(lower, '.') != NULL)
		reg = psl_registrable_domain(psl, lower);
	if (reg == NULL || reg == lower)
		return lower;
	out = strdup(reg);
	free(lower);
	return out;
}

/* freemail_add_line - add one list line (comments and blanks ignored) */
static void freemail_add_line(GHashTable *set, char *line)
{
	char *hash = strchr(line, '#');
	char *s, *e;

	if (hash != NULL)
		*hash = '\0';
	s = line;
	while (*s && g_ascii_isspace(*s))
		s++;
	e = s + strlen(s);
	while (e > s && (g_ascii_isspace(e[-1]) || e[-1] == '.'))
		e--;
	*e = '\0';
	if (*s == '@')
		s++;
	if (*s == '\0')
		return;
	for (char *p = s; *p; p++)
		*p = g_ascii_tolower(*p);
	g_hash_table_add(set, g_strdup(s));
}

/*
 * mail_freemail_load - read the free-mail list from PATH and install it
 *
 * Returns 0, or -1 with "PATH: reason" in err (the old list stays).
 */
int mail_freemail_load(const char *path, char *err, size_t errlen)
{
	char line[FREEMAIL_LINE_MAX];
	GHashTable *set, *old;
	FILE *fp;

	fp = fopen(path, "r");
	if (fp == NULL) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	set = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	while (fgets(line, sizeof(line), fp) != NULL)
		freemail_add_line(set, line);
	if (ferror(fp)) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s: read error", path);
		fclose(fp);
		g_hash_table_destroy(set);
		return -1;
	}
	fclose(fp);
	pthread_rwlock_wrlock(&freemail_lock);
	old = freemail_set;
	freemail_set = set;
	pthread_rwlock_unlock(&freemail_lock);
	if (old != NULL)
		g_hash_table_destroy(old);
	return 0;
}

/*
 * mail_is_freemail - 1 when DOMAIN (or its registrable domain) is on the
 * loaded free-mail list, else 0 (also when no list is loaded).
 */
int mail_is_freemail(const char *domain)
{
	char buf[256], *reg = NULL;
	size_t n;
	int hit = 0;

	if (domain == NULL || *domain == '\0')
		return 0;
	n = strlen(domain);
	if (n >= sizeof(buf))
		return 0;
	for (size_t i = 0; i <= n; i++)
		buf[i] = g_ascii_tolower(domain[i]);
	while (n > 0 && buf[n - 1] == '.')
		buf[--n] = '\0';
	pthread_rwlock_rdlock(&freemail_lock);
	if (freemail_set != NULL) {
		hit = g_hash_table_contains(freemail_set, buf);
		if (!hit && (reg = mail_registrable_domain(buf)) != NULL)
			hit = g_hash_table_contains(freemail_set, reg);
	}
	pthread_rwlock_unlock(&freemail_lock);
	free(reg);
	return hit;
}

/* ---- address lists of a parsed message ---- */

/* addrs_push - append a copy; 0 when added, 1 when a duplicate, -1 when full */
static int addrs_push(struct mail_addrs *out, char *addr, const char *name)
{
	struct mail_addr *a;

	for (size_t i = 0; i < out->n; i++)
		if (g_ascii_strcasecmp(out->v[i].addr, addr) == 0) {
			if (out->v[i].name == NULL && name != NULL)
				out->v[i].name = g_strdup(name);
			return 1;
		}
	if (out->n >= MAIL_MAX_ADDRS)
		return -1;
	out->v = g_renew(struct mail_addr, out->v, out->n + 1);
	a = &out->v[out->n++];
	a->addr = g_strdup(addr);
	a->name = name ? g_strdup(name) : NULL;
	a->domain = strchr(a->addr, '@') + 1;
	return 0;
}

/* clean_name - trimmed, one-line, valid UTF-8 copy of a display name, or NULL */
static char *clean_name(const char *name)
{
	char *s;

	if (name == NULL)
		return NULL;
	s = mail_unfold(name, MAIL_MAX_HEADER_VALUE);
	if (*s == '\0') {
		g_free(s);
		return NULL;
	}
	return s;
}

/* add_list - add every mailbox of LIST (groups flattened) to OUT */
static void add_list(struct mail_ctx *ctx, const char *hname, InternetAddressList *list,
		     struct mail_addrs *out, int depth, int *full)
{
	int n = internet_address_list_length(list);

	for (int i = 0; i < n && !*full; i++) {
		InternetAddress *ia = internet_address_list_get_address(list, i);

		if (INTERNET_ADDRESS_IS_GROUP(ia)) {
			InternetAddressList *members =
				internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia));

			if (members != NULL && depth < 4)
				add_list(ctx, hname, members, out, depth + 1, full);
		} else if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
			const char *raw = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
			char *addr = mail_addr_normalise(raw);
			char *name;

			if (addr == NULL) {
				char *shown = mail_unfold(raw ? raw : "", 80);

				mail_warn(ctx->rec, "%s: dropped an entry without a usable address: \"%s\"",
					  hname, shown);
				g_free(shown);
				continue;
			}
			name = clean_name(internet_address_get_name(ia));
			if (addrs_push(out, addr, name) < 0) {
				mail_warn(ctx->rec, "%s: more than %d addresses, the rest dropped",
					  hname, MAIL_MAX_ADDRS);
				*full = 1;
			}
			g_free(name);
			free(addr);
		}
	}
}

/*
 * strip_comments - copy of an address header value without RFC 5322
 * comments (nested, with quoted pairs); quoted strings are kept.  Used
 * when GMime cannot read the value with its comments.  Returns g_free().
 */
static char *strip_comments(const char *s)
{
	GString *g = g_string_sized_new(strlen(s) + 1);
	int depth = 0, quoted = 0;

	for (; *s; s++) {
		if (*s == '\\' && s[1] != '\0') {
			if (depth == 0) {
				g_string_append_c(g, s[0]);
				g_string_append_c(g, s[1]);
			}
			s++;
		} else if (quoted) {
			g_string_append_c(g, *s);
			if (*s == '"')
				quoted = 0;
		} else if (*s == '(') {
			depth++;
		} else if (*s == ')' && depth > 0) {
			if (--depth == 0)
				g_string_append_c(g, ' ');
		} else if (depth == 0) {
			if (*s == '"')
				quoted = 1;
			g_string_append_c(g, *s);
		}
	}
	return g_string_free(g, FALSE);
}

/* parse_list - GMime's reading of an address value, retried without comments; NULL or a list (unref) */
static InternetAddressList *parse_list(struct mail_ctx *ctx, const char *text)
{
	InternetAddressList *list = internet_address_list_parse(ctx->options, text);
	char *bare;

	if (list != NULL && internet_address_list_length(list) > 0)
		return list;
	if (strchr(text, '(') == NULL)
		return list;
	bare = strip_comments(text);
	if (list != NULL)
		g_object_unref(list);
	list = internet_address_list_parse(ctx->options, bare);
	g_free(bare);
	return list;
}

/*
 * mail_addrs_from_header - every NAME header of the message into OUT
 *
 * Raw 8-bit values are decoded with the message's charset first, encoded
 * words by GMime.  Entries without a usable address are dropped with a
 * warning; duplicates are merged; the list is capped at MAIL_MAX_ADDRS.
 */
void mail_addrs_from_header(struct mail_ctx *ctx, const char *name, struct mail_addrs *out)
{
	GMimeHeaderList *hl;
	int count, full = 0;

	if (ctx->message == NULL)
		return;
	hl = g_mime_object_get_header_list(GMIME_OBJECT(ctx->message));
	count = g_mime_header_list_get_count(hl);
	for (int i = 0; i < count && !full; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
		InternetAddressList *list;
		const char *raw;
		char *text;

		if (g_ascii_strcasecmp(g_mime_header_get_name(h), name) != 0)
			continue;
		raw = g_mime_header_get_raw_value(h);
		if (raw == NULL)
			continue;
		text = mail_header_to_utf8(raw, ctx->charset);
		list = parse_list(ctx, text);
		if (list != NULL) {
			add_list(ctx, name, list, out, 0, &full);
			g_object_unref(list);
		}
		g_free(text);
	}
}

/* mail_addrs_free - free the entries of an address list (not the struct) */
void mail_addrs_free(struct mail_addrs *a)
{
	for (size_t i = 0; i < a->n; i++) {
		g_free(a->v[i].name);
		g_free(a->v[i].addr);
	}
	g_free(a->v);
	a->v = NULL;
	a->n = 0;
}
