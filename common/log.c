/*
 * log.c - logging to stderr, syslog or a log file, and allocation that cannot fail
 *
 * Programs call log_open() once, and log_open_file() when a LogFile is set
 * (it then takes every line, in any mode).  msg_info/msg_warn/msg_debug log and return;
 * msg_fatal logs and exits 1 (start-up problems only); msg_panic logs and
 * aborts (a broken interface, i.e. a bug).  Messages are single lines.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

static const char *log_ident = "crmilter";
static int log_syslog;
static int log_verbose;
static int log_fd = -1;      /* LogFile, when set: every line goes there */

/* log_open - choose where messages go: syslog (FACILITY, a LOG_* value) or stderr */
void log_open(const char *ident, int use_syslog, int facility)
{
	log_ident = ident;
	log_syslog = use_syslog;
	if (use_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, facility);
}

/*
 * log_open_file - from now on every message goes to PATH, appended, one
 * line each with the time, the program and its pid, and the priority.
 * Called again (a reload, after logrotate moved the file) it opens PATH
 * anew in place of the file before.  A new file is made mode 0640 and,
 * when OWNER is not -1, given to OWNER:GROUP (the service user, so that
 * it can reopen it).  Returns 0, or -1 with errno set (nothing changes).
 */
int log_open_file(const char *path, uid_t owner, gid_t group)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0640);
	struct stat st;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	if (owner != (uid_t)-1 && st.st_uid != owner && fchown(fd, owner, group) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	if (log_fd < 0) {
		log_fd = fd;
		return 0;
	}
	/* dup2 swaps the file under log_fd at once: a thread writing now writes to one or the other */
	if (dup2(fd, log_fd) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	close(fd);
	return 0;
}

/*
 * log_syslog_reachable - 1 when a syslog daemon (or journald) listens on
 * /dev/log, else 0: without one syslog(3) drops every line silently
 */
int log_syslog_reachable(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = "/dev/log" };
	static const int types[] = { SOCK_DGRAM, SOCK_STREAM };
	int ok = 0;

	for (size_t i = 0; i < sizeof types / sizeof types[0] && !ok; i++) {
		int fd = socket(AF_UNIX, types[i] | SOCK_CLOEXEC, 0);

		ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
		if (fd >= 0)
			close(fd);
	}
	return ok;
}

/* priority_name - the word a LogFile line carries for PRIORITY */
static const char *priority_name(int priority)
{
	switch (priority) {
	case LOG_DEBUG: return "debug";
	case LOG_INFO: return "info";
	case LOG_WARNING: return "warning";
	case LOG_ERR: return "error";
	default: return "critical";
	}
}

/* log_file_line - one LogFile line: "TIME IDENT[PID]: PRIORITY: TEXT", written at once */
static void log_file_line(int priority, const char *text)
{
	char stamp[40], line[2300];
	struct timespec ts;
	struct tm tm;
	int n;

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S%z", &tm);
	n = snprintf(line, sizeof line, "%s %s[%ld]: %s: %s\n", stamp, log_ident, (long)getpid(),
		     priority_name(priority), text);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof line) {
		n = (int)sizeof line - 1;
		line[n - 1] = '\n';
	}
	if (write(log_fd, line, (size_t)n) < 0) {
		/* nowhere better to say it: the line is lost, the daemon goes on */
	}
}

/* log_set_verbose - enable msg_debug output */
void log_set_verbose(int verbose)
{
	log_verbose = verbose;
}

/* log_vemit - write one message at PRIORITY */
__attribute__((format(printf, 3, 0)))
static void log_vemit(int priority, const char *prefix, const char *fmt, va_list ap)
{
	char line[2048];

	if (log_fd < 0 && log_syslog) {
		vsyslog(priority, fmt, ap);
		return;
	}
	vsnprintf(line, sizeof line, fmt, ap);
	if (log_fd >= 0)
		log_file_line(priority, line);
	else
		fprintf(stderr, "%s: %s%s\n", log_ident, prefix, line);
}

void msg_info(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vemit(LOG_INFO, "", fmt, ap);
	va_end(ap);
}

void msg_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vemit(LOG_WARNING, "warning: ", fmt, ap);
	va_end(ap);
}

void msg_debug(const char *fmt, ...)
{
	if (!log_verbose)
		return;
	va_list ap;
	va_start(ap, fmt);
	log_vemit(LOG_DEBUG, "debug: ", fmt, ap);
	va_end(ap);
}

void msg_fatal(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vemit(LOG_ERR, "fatal: ", fmt, ap);
	va_end(ap);
	exit(1);
}

void msg_panic(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vemit(LOG_CRIT, "panic: ", fmt, ap);
	va_end(ap);
	abort();
}

/* xmalloc - malloc that panics on exhaustion; never returns NULL */
void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		msg_panic("out of memory allocating %zu bytes", n);
	return p;
}

/* xcalloc - zeroed xmalloc of n * size, overflow checked */
void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		msg_panic("out of memory allocating %zu x %zu bytes", n, size);
	return p;
}

/* xrealloc - realloc that panics on exhaustion */
void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		msg_panic("out of memory reallocating %zu bytes", n);
	return q;
}

/* xstrdup - strdup that panics on exhaustion */
char *xstrdup(const char *s)
{
	char *p = strdup(s);
	if (!p)
		msg_panic("out of memory copying a string");
	return p;
}

/* xstrndup - strndup that panics on exhaustion */
char *xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);
	if (!p)
		msg_panic("out of memory copying a string");
	return p;
}
