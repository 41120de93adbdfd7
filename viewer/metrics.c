/*
 * metrics.c - GET /metrics: crmilter's numbers for Prometheus, in its text
 * exposition format (version 0.0.4)
 *
 * Public (view_int.h): metrics_check, page_metrics.  Served without login,
 * but only to the client addresses ViewerMetricsFrom lists (a CIDR list,
 * default loopback; "none" turns it off); anyone else gets 403.  Nothing
 * here names a person or a subject: counts, the skip rules' reasons (text
 * the admin wrote in the rules file), sizes and ages.  The numbers come
 * from the store (storage's store_status) and the spool directory (read
 * through milter/spool.c, which has no libmilter calls); whether crmilter
 * runs is left to crmctl status, since its pid file is in a directory the
 * viewer's user cannot read under the shipped units.  Every number is a
 * gauge: the totals are what the store holds, and they fall when mail is
 * purged (Retention), forgotten or skipped by a rules apply; a counter
 * that fell would read as a restart and spoil rate().
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <microhttpd.h>

#include "view_int.h"
#include "../milter/spool.h"

#define METRICS_CTYPE "text/plain; version=0.0.4; charset=utf-8"

/* metrics_check - every ViewerMetricsFrom entry parses; see view_int.h */
int metrics_check(const struct conf *c, char *err, size_t errlen)
{
	struct view_cidr cidr;
	unsigned line;

	for (size_t i = 0; i < c->viewer_metrics_from.n; i++) {
		const char *w = c->viewer_metrics_from.v[i];
		if (strcasecmp(w, "none") == 0 || cidr_parse(w, &cidr) == 0)
			continue;
		line = conf_key_line(c->path, "ViewerMetricsFrom", w);
		if (line)
			snprintf(err, errlen, "%s:%u: ViewerMetricsFrom: %s: expected an address,"
				 " ADDRESS/BITS or none", c->path, line, w);
		else
			snprintf(err, errlen, "%s: ViewerMetricsFrom: %s: expected an address,"
				 " ADDRESS/BITS or none", c->path ? c->path : "(defaults)", w);
		return -1;
	}
	return 0;
}

/* allowed - 1 when R's client is in ViewerMetricsFrom */
static int allowed(struct view_req *r)
{
	const struct conf *c = r->app->conf;
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	struct view_cidr cidr;

	for (size_t i = 0; ci && i < c->viewer_metrics_from.n; i++)
		if (cidr_parse(c->viewer_metrics_from.v[i], &cidr) == 0 &&
		    cidr_match(&cidr, ci->client_addr))
			return 1;
	return 0;
}

/* metric - the HELP and TYPE lines of NAME */
static void metric(struct vbuf *b, const char *name, const char *type, const char *help)
{
	vbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* sample - "NAME VALUE" from integer member KEY of O; nothing when it is null */
static void sample(struct vbuf *b, const char *name, json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (json_is_integer(v))
		vbuf_printf(b, "%s %lld\n", name, (long long)json_integer_value(v));
}

/* label_esc - S as a label value: backslash, double quote and newline escaped */
static void label_esc(struct vbuf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			vbuf_printf(b, "\\%c", *s);
		else if (*s == '\n')
			vbuf_puts(b, "\\n");
		else
			vbuf_add(b, s, 1);
	}
}

/* store_metrics - the gauges the store answers */
static void store_metrics(struct vbuf *b, json_t *st)
{
	json_t *reasons = json_object_get(st, "skipped_by_reason"), *n;
	const char *reason;

	metric(b, "crmilter_messages_logged", "gauge",
	       "Messages the rules logged (logged or private) held in the store.");
	sample(b, "crmilter_messages_logged", st, "logged");
	metric(b, "crmilter_messages_skipped", "gauge",
	       "Messages the rules skipped (kept as metadata only) held in the store, by the skip"
	       " rule's reason.");
	json_object_foreach(reasons, reason, n) {
		vbuf_puts(b, "crmilter_messages_skipped{reason=\"");
		label_esc(b, reason);
		vbuf_printf(b, "\"} %lld\n", (long long)json_integer_value(n));
	}
	metric(b, "crmilter_contacts", "gauge", "Contacts the capture rules created, held in the store.");
	sample(b, "crmilter_contacts", st, "contacts");
	metric(b, "crmilter_threads_unassigned", "gauge",
	       "Threads no rule could place on an account, deal or contact.");
	sample(b, "crmilter_threads_unassigned", st, "threads_unassigned");
	metric(b, "crmilter_last_arrival_timestamp_seconds", "gauge",
	       "When crmilter received the newest message in the store (Unix time).");
	sample(b, "crmilter_last_arrival_timestamp_seconds", st, "last_arrival");
	metric(b, "crmilter_store_bytes", "gauge", "Size of the store: database file and WAL.");
	sample(b, "crmilter_store_bytes", st, "bytes");
	metric(b, "crmilter_store_schema_version", "gauge", "Schema version of the store.");
	sample(b, "crmilter_store_schema_version", st, "schema_version");
}

/* spool_metrics - the spool's gauges; a comment line instead when it cannot be read */
static void spool_metrics(struct vbuf *b, const char *dir, int64_t now)
{
	char err[1024];
	struct spool *sp = NULL;
	long long waiting, wbytes, failed, fbytes;
	int64_t oldest, foldest;

	if (spool_open(dir, 0, &sp, err, sizeof err) < 0 ||
	    (spool_count(sp, SPOOL_NEW, &waiting, &wbytes, &oldest, err, sizeof err) < 0 ||
	     spool_count(sp, SPOOL_FAILED, &failed, &fbytes, &foldest, err, sizeof err) < 0)) {
		if (sp)
			spool_close(sp);
		msg_warn("/metrics: spool %s", err);
		vbuf_puts(b, "# the spool cannot be read: see the log\n");
		return;
	}
	spool_close(sp);
	metric(b, "crmilter_spool_messages", "gauge",
	       "Messages in the spool's new/, received and waiting for the store.");
	vbuf_printf(b, "crmilter_spool_messages %lld\n", waiting);
	metric(b, "crmilter_spool_bytes", "gauge", "Bytes of the messages in the spool's new/.");
	vbuf_printf(b, "crmilter_spool_bytes %lld\n", wbytes);
	metric(b, "crmilter_spool_oldest_age_seconds", "gauge",
	       "Age of the oldest message waiting in new/ (the ingest lag); 0 when none waits.");
	vbuf_printf(b, "crmilter_spool_oldest_age_seconds %lld\n",
		    oldest && now > oldest ? (long long)(now - oldest) : 0LL);
	metric(b, "crmilter_spool_failed_messages", "gauge",
	       "Messages in the spool's failed/ that could not be ingested (crmctl spool retry).");
	vbuf_printf(b, "crmilter_spool_failed_messages %lld\n", failed);
}

/* page_metrics - GET /metrics; see view_int.h */
void page_metrics(struct view_req *r)
{
	const struct conf *c = r->app->conf;
	int64_t now = (int64_t)time(NULL);
	char err[1024];
	json_t *st;

	if (!allowed(r)) {
		r->status = 403;
		r->ctype = "text/plain; charset=utf-8";
		vbuf_puts(&r->body, "403 Forbidden: this address may not read /metrics"
			  " (ViewerMetricsFrom)\n");
		return;
	}
	r->st = view_store(r);
	if (!r->st)
		return;
	st = store_status(r->st, now, err, sizeof err);
	if (!st) {
		view_store_failed(r, err);
		return;
	}
	r->ctype = METRICS_CTYPE;
	store_metrics(&r->body, st);
	spool_metrics(&r->body, c->spool, now);
	json_decref(st);
}
