/*
 * log.c - logging to stderr or syslog, and allocation that cannot fail
 *
 * Programs call log_open() once.  msg_info/msg_warn/msg_debug log and return;
 * msg_fatal logs and exits 1 (start-up problems only); msg_panic logs and
 * aborts (a broken interface, i.e. a bug).  Messages are single lines.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "common.h"

static const char *log_ident = "crmilter";
static int log_syslog;
static int log_verbose;

/* log_open - choose where messages go; facility is a LOG_* facility */
void log_open(const char *ident, int use_syslog, int facility)
{
	log_ident = ident;
	log_syslog = use_syslog;
	if (use_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, facility);
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
	if (log_syslog) {
		vsyslog(priority, fmt, ap);
		return;
	}
	char line[2048];
	vsnprintf(line, sizeof line, fmt, ap);
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
