/*
 * common.h - configuration, logging and small helpers shared by every program
 *
 * crmilter, crmctl and crmview read one configuration file, crmilter.conf: one
 * "Key value" per line, '#' comments, like opendkim.conf.  conf_load() parses it
 * into a struct conf; every key has a default, so a missing file is only an
 * error when the user named it with -c.
 *
 * Logging goes to stderr (foreground, command line) or syslog (daemon), chosen
 * once with log_open().  msg_warn() logs and goes on; msg_fatal() logs and
 * exits(1) and is only for start-up; msg_panic() is for broken interfaces.
 */
#ifndef CRM_COMMON_H
#define CRM_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>
#include <sys/types.h>

#define CRM_VERSION "0.1.0"
#define CONF_DEFAULT_PATH "/etc/crmilter/crmilter.conf"

/* how much of each message the store keeps as raw source */
enum conf_raw { CONF_RAW_FULL, CONF_RAW_HEADERS, CONF_RAW_NONE };

/* how crmview knows who is asking */
enum conf_viewer_auth { CONF_AUTH_FORM, CONF_AUTH_PROXY };

/* a list of strings from one config value (comma or space separated) */
struct conf_list {
	char **v;
	size_t n;
};

struct conf {
	char *path;                  /* the file read, or NULL for defaults */
	char *dir;                   /* its folder, absolute (CONF_DEFAULT_PATH's for
				      * defaults): relative paths are taken from it */
	char *database;              /* Database: SQLite store path */
	char *socket;                /* Socket: milter socket spec */
	char *user;                  /* UserID: service user */
	char *pidfile;               /* PidFile */
	char *spool;                 /* SpoolDirectory */
	char *rules;                 /* RulesFile (absolute: see conf_load) */
	int rules_given;             /* RulesFile was set in the file: it must exist */
	char *freemail;              /* FreemailDomains: file, one domain a line */
	char *originating_name;      /* OriginatingName: {daemon_name} of outbound */
	char *viewer_listen;         /* ViewerListen: addr:port */
	char *viewer_tls_cert;       /* ViewerTLSCert: PEM file, NULL: plain HTTP */
	char *viewer_tls_key;        /* ViewerTLSKey: PEM file */
	enum conf_viewer_auth viewer_auth; /* ViewerAuth: form | proxy */
	char *viewer_proxy_header;   /* ViewerProxyHeader: user header set by the proxy */
	struct conf_list viewer_proxy_addresses; /* ViewerProxyAddresses: CIDR list */
	char *viewer_session_key;    /* ViewerSessionKeyFile: cookie signing key */
	char *viewer_access_log;     /* ViewerAccessLog: file, NULL: syslog */
	int viewer_admins_see_private; /* ViewerAdminsSeePrivate: yes | no */
	struct conf_list viewer_metrics_from; /* ViewerMetricsFrom: CIDR list that may scrape /metrics */
	char *viewer_time_zone;      /* ViewerTimeZone: IANA zone the pages show times in (UTC) */
	struct conf_list domains;    /* Domains: own domains */
	struct conf_list internal_hosts; /* InternalHosts: CIDR list */
	struct conf_list milter_peers; /* MilterPeers: CIDR list of TCP peers that may connect */
	int milter_connections;      /* MilterConnections: milter connections at once */
	enum conf_raw raw;           /* RawStorage: full | headers | none */
	uint64_t max_message_size;   /* MaxMessageSize: bytes (k, M, G suffix) */
	uint64_t max_spool_size;     /* MaxSpoolSize: bytes */
	int busy_timeout_ms;         /* BusyTimeout: milliseconds */
	int syslog_facility;         /* SyslogFacility: mail, local0..7, daemon */
	char *log_file;              /* LogFile: log lines go here instead (NULL: syslog or stderr) */
	int retention_days;          /* Retention: keep mail this many days; 0: forever */
	char *reply_address;         /* ReplyAddress: local@domain whose +TAG forms
					place replies on threads (reply.c); NULL: none */
};

/*
 * conf_load - read a configuration file into *out
 *
 * path NULL means CONF_DEFAULT_PATH, which may be absent (defaults apply);
 * a path given explicitly must exist.  Every key that names a file
 * (Database, RulesFile, SpoolDirectory...) comes back absolute: a relative
 * value is taken from the configuration file's folder.  Returns 0 on success.  On error returns
 * -1, writes "FILE:LINE: message" into err, and leaves *out untouched.  The
 * caller frees the result with conf_free().
 */
int conf_load(const char *path, struct conf *out, char *err, size_t errlen);

/* conf_defaults - fill *out with every default; free with conf_free() */
void conf_defaults(struct conf *out);

/* conf_free - release what conf_load() or conf_defaults() allocated */
void conf_free(struct conf *c);

/*
 * conf_is_own_domain - is DOMAIN (lower case) one of the own domains or a
 * subdomain of one?  Returns 1 or 0.
 */
int conf_is_own_domain(const struct conf *c, const char *domain);

/*
 * conf_key_line - the number of the line of PATH that sets KEY with WORD
 * in its value, to name it in a FILE:LINE error about a value that only a
 * later check refuses; 0 when the file cannot be read or has no such line
 */
unsigned conf_key_line(const char *path, const char *key, const char *word);

/* logging */
void log_open(const char *ident, int use_syslog, int facility);
int log_open_file(const char *path, uid_t owner, gid_t group);
int log_syslog_reachable(void);
void log_set_verbose(int verbose);
void msg_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void msg_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void msg_panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* allocation that cannot fail: on exhaustion msg_panic (used outside milter callbacks) */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/*
 * read_file - read a whole file into a NUL-terminated buffer
 *
 * Refuses files larger than max bytes (EFBIG) and anything but a regular
 * file (EINVAL): a FIFO, a device or a folder named by mistake fails at
 * once instead of hanging the caller (the open does not wait for a
 * writer).  Returns the buffer (free with free()) and its length in *len,
 * or NULL with errno set; read_file_error() words the failure.
 */
char *read_file(const char *path, size_t max, size_t *len);

/* read_file_error - ERR of a failed read_file in words ("not a regular file"...) */
const char *read_file_error(int err);

/*
 * read_fd - the same for the file open on FD, whose fstat() is ST (the caller
 * has checked what it needed to): EINVAL when not a regular file, EFBIG over
 * max.  FD stays open.
 */
struct stat;
char *read_fd(int fd, const struct stat *st, size_t max, size_t *len);

/* sockaddr_text - the IPv4 or IPv6 address of SA as text into BUF (at least
 * INET6_ADDRSTRLEN bytes); returns BUF, or NULL for another family or none */
struct sockaddr;
const char *sockaddr_text(const struct sockaddr *sa, char *buf, size_t len);

/* parse_size - "10M", "512k", "1G", "1234" into bytes; returns 0 or -1 */
int parse_size(const char *s, uint64_t *out);

/* parse_date - "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SS[Z]" (UTC) to epoch; 0 or -1 */
int parse_date(const char *s, int64_t *out);

/*
 * conf_store_owner - when running as root and C's UserID names a user that
 * is not root: 1 and that user's *uid and *gid (the owner a store root
 * creates must have, so that crmilter can write it); else 0
 */
int conf_store_owner(const struct conf *c, unsigned *uid, unsigned *gid);

/*
 * csv_field - S (LEN bytes) as one CSV field (RFC 4180), handed to PUT in
 * pieces: quoted when it holds a comma, quote, CR or LF, quotes doubled.
 * With CSV_FORMULA_GUARD a field that starts with = + - @ TAB or CR is
 * quoted with a ' before it, so that a spreadsheet shows it as text
 * instead of running it (untrusted mail names a record).  Cannot fail.
 */
#define CSV_FORMULA_GUARD 1u
typedef void (*csv_put_fn)(void *arg, const char *p, size_t n);
void csv_field(const char *s, size_t len, unsigned flags, csv_put_fn put, void *arg);

/* format_utc - epoch to "YYYY-MM-DD HH:MM:SS" UTC into buf (at least 20 bytes) */
const char *format_utc(int64_t t, char *buf, size_t len);

/*
 * pidfile_check - does the pid file PATH name a running process called
 * NAME (checked in /proc/PID/comm where /proc is mounted)?  Returns 1
 * (running, *pid set), 0 (the file is missing, *pid 0, or names a process
 * that is gone or is another program: stale, *pid its number), or -1 with
 * errno set when the file cannot be read or holds no pid (pidfile.c).
 */
int pidfile_check(const char *path, const char *name, long *pid);

#endif
