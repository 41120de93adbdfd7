/*
 * conf.c - read crmilter.conf, the configuration shared by every program
 *
 * One "Key value" per line; '#' starts a comment, at the start of a line or
 * after a blank in a value (cut_comment); blank lines are ignored; keys are
 * case-insensitive.  A key of a list type (Domains,
 * InternalHosts, MilterPeers...) may repeat and its values add up; any other key given twice,
 * an unknown key or a bad value is an error "FILE:LINE: message".
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>
#include <sys/stat.h>

#include "common.h"

#ifndef CRM_DATADIR
#define CRM_DATADIR "/usr/local/share/crmilter"
#endif

#define CONF_MAX_FILE (1024 * 1024)
#define CONF_ZONEINFO "/usr/share/zoneinfo" /* the IANA zone files, unless TZDIR says */

/* T_PATH: a string that names a file; relative, it is taken from the folder
 * of the configuration file (CONF_DEFAULT_PATH's when there is none) */
enum conf_type { T_STRING, T_PATH, T_LIST, T_RAW, T_SIZE, T_MSEC, T_FACILITY, T_BOOL, T_AUTH,
		 T_DAYS, T_COUNT, T_ADDRESS, T_ZONE };

struct conf_key {
	const char *name;
	enum conf_type type;
	size_t offset;
	const char *def;        /* default, parsed like a file value; NULL: none */
};

#define K(name, type, field, def) { name, type, offsetof(struct conf, field), def }
static const struct conf_key conf_keys[] = {
	K("Database",        T_PATH,     database,         "/var/lib/crmilter/crmilter.db"),
	K("Socket",          T_STRING,   socket,           "local:/run/crmilter/crmilter.sock"),
	K("UserID",          T_STRING,   user,             "crmilter"),
	K("PidFile",         T_PATH,     pidfile,          "/run/crmilter/crmilter.pid"),
	K("SpoolDirectory",  T_PATH,     spool,            "/var/spool/crmilter"),
	K("RulesFile",       T_PATH,     rules,            "rules"),
	K("FreemailDomains", T_PATH,     freemail,         CRM_DATADIR "/freemail-domains.txt"),
	K("OriginatingName", T_STRING,   originating_name, "ORIGINATING"),
	K("ViewerListen",    T_STRING,   viewer_listen,    "127.0.0.1:8025"),
	K("ViewerTLSCert",   T_PATH,     viewer_tls_cert,  NULL),
	K("ViewerTLSKey",    T_PATH,     viewer_tls_key,   NULL),
	K("ViewerAuth",      T_AUTH,     viewer_auth,      "form"),
	K("ViewerProxyHeader", T_STRING, viewer_proxy_header, "X-Remote-User"),
	K("ViewerProxyAddresses", T_LIST, viewer_proxy_addresses, "127.0.0.1/32 ::1/128"),
	K("ViewerSessionKeyFile", T_PATH,   viewer_session_key, "/var/lib/crmilter/viewer.key"),
	K("ViewerAccessLog", T_PATH,     viewer_access_log, NULL),
	K("ViewerAdminsSeePrivate", T_BOOL, viewer_admins_see_private, "no"),
	K("ViewerMetricsFrom", T_LIST,   viewer_metrics_from, "127.0.0.0/8 ::1/128"),
	K("ViewerTimeZone",  T_ZONE,     viewer_time_zone, "UTC"),
	K("Domains",         T_LIST,     domains,          NULL),
	K("InternalHosts",   T_LIST,     internal_hosts,   "127.0.0.0/8 ::1/128"),
	K("MilterPeers",     T_LIST,     milter_peers,     "127.0.0.0/8 ::1/128"),
	K("MilterConnections", T_COUNT,  milter_connections, "256"),
	K("RawStorage",      T_RAW,      raw,              "full"),
	K("MaxMessageSize",  T_SIZE,     max_message_size, "25M"),
	K("MaxSpoolSize",    T_SIZE,     max_spool_size,   "1G"),
	K("BusyTimeout",     T_MSEC,     busy_timeout_ms,  "5000"),
	K("SyslogFacility",  T_FACILITY, syslog_facility,  "mail"),
	K("LogFile",         T_PATH,     log_file,         NULL),
	K("Retention",       T_DAYS,     retention_days,   "forever"),
	K("ReplyAddress",    T_ADDRESS,  reply_address,    NULL),
};
#define N_KEYS (sizeof conf_keys / sizeof conf_keys[0])

static const struct { const char *name; int value; } facilities[] = {
	{ "mail", LOG_MAIL }, { "daemon", LOG_DAEMON }, { "user", LOG_USER },
	{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 },
	{ "local3", LOG_LOCAL3 }, { "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
	{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
};

/* list_add - append a copy of WORD to a list */
static void list_add(struct conf_list *l, const char *word, size_t len)
{
	l->v = xrealloc(l->v, (l->n + 1) * sizeof *l->v);
	l->v[l->n++] = xstrndup(word, len);
}

/* list_free - free a list's strings and array */
static void list_free(struct conf_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* valid_domain - letters, digits, '-', '.', at least one dot, no empty label */
static int valid_domain(const char *d)
{
	if (!*d || *d == '.' || strstr(d, "..") || d[strlen(d) - 1] == '.' || !strchr(d, '.'))
		return 0;
	for (const char *p = d; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.')
			return 0;
	return 1;
}

/* parse_list - split a value on commas and spaces into l; NULL or an error */
static const char *parse_list(const char *key, const char *value, struct conf_list *l)
{
	const char *p = value;
	while (*p) {
		while (*p == ',' || isspace((unsigned char)*p))
			p++;
		size_t n = strcspn(p, ", \t");
		if (n == 0)
			break;
		list_add(l, p, n);
		char *w = l->v[l->n - 1];
		if (strcasecmp(key, "Domains") == 0) {
			for (char *c = w; *c; c++)
				*c = (char)tolower((unsigned char)*c);
			if (!valid_domain(w))
				return "not a domain name";
		}
		p += n;
	}
	return NULL;
}

/* parse_days - "forever", "Nd", "Nw" or "Ny" (365 days) into *days (0: forever); NULL or an error */
static const char *parse_days(const char *value, int *days)
{
	char *end;
	unsigned long n;

	if (strcasecmp(value, "forever") == 0) {
		*days = 0;
		return NULL;
	}
	n = strtoul(value, &end, 10);
	if (!isdigit((unsigned char)*value) || end == value || !*end || end[1] ||
	    !strchr("dwyDWY", *end) || n == 0 || n > 36500)
		return "expected forever, or days, weeks or years such as 730d, 12w or 2y";
	n *= tolower((unsigned char)*end) == 'w' ? 7 : tolower((unsigned char)*end) == 'y' ? 365 : 1;
	if (n > 36500)
		return "expected at most 100 years";
	*days = (int)n;
	return NULL;
}

/*
 * parse_address - VALUE as a lower-cased "local@domain" into *out: the
 * local part letters, digits, '.', '-' and '_' (no '+': it starts a tag),
 * the domain as Domains wants it; NULL or an error
 */
static const char *parse_address(const char *value, char **out)
{
	const char *at = strchr(value, '@');
	char *a;

	if (!at || at == value || at - value > 64 || strchr(at + 1, '@'))
		return "expected an address such as crm-reply@example.com";
	for (const char *p = value; p < at; p++)
		if (!isalnum((unsigned char)*p) && !strchr(".-_", *p))
			return "the local part may hold letters, digits, '.', '-' and '_' only";
	a = xstrdup(value);
	for (char *c = a; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	if (!valid_domain(a + (at - value) + 1)) {
		free(a);
		return "not a domain name after '@'";
	}
	free(*out);
	*out = a;
	return NULL;
}

/*
 * parse_zone - an IANA time zone name (America/New_York, UTC) into *field
 * when it names a zone file: under TZDIR (CONF_ZONEINFO when unset), a
 * regular file that starts with the TZif magic, as the C library will load
 * it.  "UTC" needs no file (it is also a POSIX TZ string).  A name with a
 * leading '/', a ".." part or other than letters, digits and "/_+-." is
 * refused before any file is opened.  NULL or an error message.
 */
static const char *parse_zone(const char *value, char **field)
{
	const char *dir = getenv("TZDIR");
	char path[4096], magic[4];
	struct stat sb;
	int fd, ok;

	if (*value == '/' || strstr(value, "..") || strspn(value,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/_+-.") != strlen(value))
		return "expected an IANA time zone name such as America/New_York or UTC";
	if (strcmp(value, "UTC") != 0) {
		if (!dir || !*dir)
			dir = CONF_ZONEINFO;
		if (snprintf(path, sizeof path, "%s/%s", dir, value) >= (int)sizeof path)
			return "time zone name too long";
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0 && errno == ELOOP)	/* zoneinfo links (US/Eastern) are fine: follow */
			fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return "not a time zone: no such zone file under " CONF_ZONEINFO
			       " (or TZDIR); expected a name such as America/New_York or UTC";
		ok = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) &&
		     read(fd, magic, sizeof magic) == (ssize_t)sizeof magic &&
		     memcmp(magic, "TZif", 4) == 0;
		close(fd);
		if (!ok)
			return "not a time zone: the file is not a zone file (TZif)";
	}
	free(*field);
	*field = xstrdup(value);
	return NULL;
}

/* set_value - parse VALUE for key K into c; returns NULL or an error message */
static const char *set_value(struct conf *c, const struct conf_key *k, const char *value)
{
	void *field = (char *)c + k->offset;
	uint64_t size;

	switch (k->type) {
	case T_STRING:
	case T_PATH:
		free(*(char **)field);
		*(char **)field = xstrdup(value);
		return NULL;
	case T_LIST:
		return parse_list(k->name, value, field);
	case T_RAW:
		if (strcasecmp(value, "full") == 0)
			*(enum conf_raw *)field = CONF_RAW_FULL;
		else if (strcasecmp(value, "headers") == 0)
			*(enum conf_raw *)field = CONF_RAW_HEADERS;
		else if (strcasecmp(value, "none") == 0)
			*(enum conf_raw *)field = CONF_RAW_NONE;
		else
			return "expected full, headers or none";
		return NULL;
	case T_SIZE:
		if (parse_size(value, &size) < 0)
			return "expected a size such as 25M, 512k or 1G";
		*(uint64_t *)field = size;
		return NULL;
	case T_MSEC:
		if (parse_size(value, &size) < 0 || size > 3600000)
			return "expected milliseconds (0 to 3600000)";
		*(int *)field = (int)size;
		return NULL;
	case T_FACILITY:
		for (size_t i = 0; i < sizeof facilities / sizeof facilities[0]; i++)
			if (strcasecmp(value, facilities[i].name) == 0) {
				*(int *)field = facilities[i].value;
				return NULL;
			}
		return "expected mail, daemon, user or local0..local7";
	case T_BOOL:
		if (strcasecmp(value, "yes") == 0 || strcasecmp(value, "true") == 0)
			*(int *)field = 1;
		else if (strcasecmp(value, "no") == 0 || strcasecmp(value, "false") == 0)
			*(int *)field = 0;
		else
			return "expected yes or no";
		return NULL;
	case T_AUTH:
		if (strcasecmp(value, "form") == 0)
			*(enum conf_viewer_auth *)field = CONF_AUTH_FORM;
		else if (strcasecmp(value, "proxy") == 0)
			*(enum conf_viewer_auth *)field = CONF_AUTH_PROXY;
		else
			return "expected form or proxy";
		return NULL;
	case T_DAYS:
		return parse_days(value, field);
	case T_ADDRESS:
		return parse_address(value, field);
	case T_COUNT:
		if (parse_size(value, &size) < 0 || size < 1 || size > 65536 || !isdigit((unsigned char)value[strlen(value) - 1]))
			return "expected a number from 1 to 65536";
		*(int *)field = (int)size;
		return NULL;
	case T_ZONE:
		return parse_zone(value, field);
	}
	msg_panic("conf: key type %d", (int)k->type);
}

/* find_key - the key table entry for NAME, or NULL */
static const struct conf_key *find_key(const char *name)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (strcasecmp(conf_keys[i].name, name) == 0)
			return &conf_keys[i];
	return NULL;
}

/* defaults - every key at its default, paths still as written */
static void defaults(struct conf *c)
{
	memset(c, 0, sizeof *c);
	for (size_t i = 0; i < N_KEYS; i++)
		if (conf_keys[i].def && set_value(c, &conf_keys[i], conf_keys[i].def))
			msg_panic("conf: bad default for %s", conf_keys[i].name);
}

/*
 * resolve_paths - make every relative T_PATH value of C absolute, taken from
 * the folder of FILE (the configuration file, as given; made absolute through
 * the current directory, so that a daemon that leaves it still finds them);
 * that folder into c->dir
 */
static void resolve_paths(struct conf *c, const char *file)
{
	const char *slash = strrchr(file, '/');
	char *dir = slash ? xstrndup(file, slash == file ? 1 : (size_t)(slash - file)) : xstrdup(".");
	char *abs = realpath(dir, NULL);

	if (abs) {
		free(dir);
		dir = abs;
	}
	c->dir = dir;
	for (size_t i = 0; i < N_KEYS; i++) {
		char **field = (char **)((char *)c + conf_keys[i].offset);
		if (conf_keys[i].type != T_PATH || !*field || (*field)[0] == '/' || !(*field)[0])
			continue;
		char *full = xmalloc(strlen(dir) + strlen(*field) + 2);
		sprintf(full, "%s/%s", dir, *field);
		free(*field);
		*field = full;
	}
}

/* conf_defaults - every key at its default */
void conf_defaults(struct conf *c)
{
	defaults(c);
	resolve_paths(c, CONF_DEFAULT_PATH);
}

/* conf_free - release every string and list */
void conf_free(struct conf *c)
{
	for (size_t i = 0; i < N_KEYS; i++) {
		void *field = (char *)c + conf_keys[i].offset;
		if (conf_keys[i].type == T_STRING || conf_keys[i].type == T_PATH ||
		    conf_keys[i].type == T_ADDRESS || conf_keys[i].type == T_ZONE) {
			free(*(char **)field);
			*(char **)field = NULL;
		} else if (conf_keys[i].type == T_LIST) {
			list_free(field);
		}
	}
	free(c->path);
	c->path = NULL;
	free(c->dir);
	c->dir = NULL;
}

/*
 * cut_comment - end VALUE where a comment starts: a '#' at its start or after
 * a blank, as in opendkim.conf ("Domains example.com  # ours"); the blanks
 * before it go too.  A '#' inside a word stays ("/srv/mail#1").
 */
static void cut_comment(char *value)
{
	char *p = value;

	while ((p = strchr(p, '#')) != NULL && p != value && !isspace((unsigned char)p[-1]))
		p++;
	if (!p)
		return;
	while (p > value && isspace((unsigned char)p[-1]))
		p--;
	*p = '\0';
}

/* parse_line - apply one line; returns NULL or an error (NAME filled for messages) */
static const char *parse_line(struct conf *c, char *line, unsigned char *seen)
{
	char *p = line;
	while (isspace((unsigned char)*p))
		p++;
	char *end = p + strlen(p);
	while (end > p && isspace((unsigned char)end[-1]))
		*--end = '\0';
	if (*p == '\0' || *p == '#')
		return NULL;
	char *key = p;
	while (*p && !isspace((unsigned char)*p))
		p++;
	if (*p)
		*p++ = '\0';
	while (isspace((unsigned char)*p))
		p++;
	cut_comment(p);
	const struct conf_key *k = find_key(key);
	if (!k)
		return "unknown key";
	if (*p == '\0')
		return "missing value";
	size_t idx = (size_t)(k - conf_keys);
	if (seen[idx] && k->type != T_LIST)
		return "key given twice";
	if (!seen[idx] && k->type == T_LIST)
		list_free((struct conf_list *)((char *)c + k->offset));
	seen[idx] = 1;
	return set_value(c, k, p);
}

/* conf_load - see common.h */
int conf_load(const char *path, struct conf *out, char *err, size_t errlen)
{
	int explicit = path != NULL;
	size_t len;
	char *text;
	struct conf c;
	unsigned char seen[N_KEYS] = { 0 };

	if (!path)
		path = CONF_DEFAULT_PATH;
	text = read_file(path, CONF_MAX_FILE, &len);
	if (!text) {
		if (!explicit && errno == ENOENT) {
			conf_defaults(out);
			return 0;
		}
		snprintf(err, errlen, "%s: %s", path, read_file_error(errno));
		return -1;
	}
	if (memchr(text, '\0', len)) {
		snprintf(err, errlen, "%s: contains a NUL byte: not a text file", path);
		free(text);
		return -1;
	}
	defaults(&c);
	unsigned lineno = 0;
	for (char *line = text, *next; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		char *orig = xstrdup(line);	/* parse_line cuts the line up */
		const char *e = parse_line(&c, line, seen);
		if (e) {
			char *shown = orig + strspn(orig, " \t");
			shown[strcspn(shown, "\r")] = '\0';
			snprintf(err, errlen, "%s:%u: %s: %s", path, lineno, e, shown);
			free(orig);
			conf_free(&c);
			free(text);
			return -1;
		}
		free(orig);
	}
	free(text);
	resolve_paths(&c, path);
	c.rules_given = seen[find_key("RulesFile") - conf_keys];
	c.path = xstrdup(path);
	*out = c;
	return 0;
}

/* conf_key_line - see common.h */
unsigned conf_key_line(const char *path, const char *key, const char *word)
{
	FILE *f = path ? fopen(path, "r") : NULL;
	size_t klen = strlen(key);
	char line[4096];
	unsigned n = 0, found = 0;

	if (!f)
		return 0;
	while (!found && fgets(line, sizeof line, f)) {
		const char *p = line + strspn(line, " \t");
		n++;
		if (strncasecmp(p, key, klen) == 0 && strstr(p + klen, word))
			found = n;
	}
	fclose(f);
	return found;
}

/* conf_is_own_domain - DOMAIN equals an own domain or ends in ".OWN" */
int conf_is_own_domain(const struct conf *c, const char *domain)
{
	size_t dl = strlen(domain);
	for (size_t i = 0; i < c->domains.n; i++) {
		const char *own = c->domains.v[i];
		size_t ol = strlen(own);
		if (dl == ol && strcasecmp(domain, own) == 0)
			return 1;
		if (dl > ol && domain[dl - ol - 1] == '.' && strcasecmp(domain + dl - ol, own) == 0)
			return 1;
	}
	return 0;
}
