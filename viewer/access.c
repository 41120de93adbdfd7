/*
 * access.c - crmview's access log: one line per request, so that who
 * opened which thread, and when, can be answered later
 *
 * Public (view_int.h): access_open, access_log, access_close.  With
 * ViewerAccessLog the lines are appended to that file (created 0640),
 * else they go to syslog.  A line:
 *
 *   2025-03-01T14:02:03Z 127.0.0.1 alice@example.com "GET /threads/12" 200 5120 thread=12 access=everything
 *
 * The path is written with every byte outside printable ASCII, '"' and
 * '\' as \xHH, so a request cannot forge a line.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "view_int.h"

/* access_open - open ViewerAccessLog when set; 0 or -1 with err */
int access_open(struct view_app *app, char *err, size_t errlen)
{
	const char *path = app->conf->viewer_access_log;
	int fd;

	if (!path)
		return 0;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	app->access = fd >= 0 ? fdopen(fd, "a") : NULL;
	if (!app->access) {
		snprintf(err, errlen, "ViewerAccessLog %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return 0;
}

/* clean - S with unsafe bytes as \xHH into OUT (always terminated) */
static void clean(const char *s, char *out, size_t outlen)
{
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)s; p && *p && o + 5 < outlen; p++) {
		if (*p < 0x21 || *p > 0x7e || *p == '"' || *p == '\\')
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", *p);
		else
			out[o++] = (char)*p;
	}
	out[o] = '\0';
}

/* access_log - one line for the answered request R, BYTES of body */
void access_log(struct view_req *r, size_t bytes)
{
	char when[32], path[VIEW_MAX_URL + 64], user[300], method[40];
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	clean(r->path, path, sizeof path);
	clean(r->method, method, sizeof method);
	clean(r->authed ? r->user.address : "-", user, sizeof user);
	if (!r->app->access) {
		msg_info("%s %s \"%s %s\" %d %zu%s", r->client, user, method, path, r->status,
			 bytes, r->log_note);
		return;
	}
	pthread_mutex_lock(&r->app->lock);
	fprintf(r->app->access, "%s %s %s \"%s %s\" %d %zu%s\n", when, r->client, user, method,
		path, r->status, bytes, r->log_note);
	fflush(r->app->access);
	pthread_mutex_unlock(&r->app->lock);
}

/* access_close - close the access log file */
void access_close(struct view_app *app)
{
	if (app->access)
		fclose(app->access);
	app->access = NULL;
}
