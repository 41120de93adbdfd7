/*
 * ingest.c - parse, decide and store messages in batches
 *
 * Each queued message keeps a private copy of its raw bytes and its parsed
 * record until its batch is written.  A failed batch write leaves the queue
 * intact so the caller can retry after a backoff; nothing is lost.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest.h"

struct queued {
	char *raw;
	size_t len;
	char *origin;
	struct mail_record *rec;
	struct store_item item;
};

struct ingest {
	struct store *store;
	ingest_report_fn report;
	void *arg;
	struct queued q[INGEST_BATCH_MESSAGES];
	struct store_result results[INGEST_BATCH_MESSAGES];
	size_t n;
	size_t bytes;
};

/* raw_mode - the store's raw mode for a configuration value */
static enum store_raw raw_mode(enum conf_raw r)
{
	switch (r) {
	case CONF_RAW_HEADERS: return STORE_RAW_HEADERS;
	case CONF_RAW_NONE:    return STORE_RAW_NONE;
	case CONF_RAW_FULL:    break;
	}
	return STORE_RAW_FULL;
}

/* ingest_open - see ingest.h */
int ingest_open(const struct conf *conf, ingest_report_fn report, void *arg,
		struct ingest **out, char *err, size_t errlen)
{
	struct store_opts opts = {
		.path = conf->database,
		.raw = raw_mode(conf->raw),
		.busy_timeout_ms = conf->busy_timeout_ms,
		.own_domains = (const char *const *)conf->domains.v,
		.n_own_domains = conf->domains.n,
	};
	mail_init();
	if (conf->freemail && mail_freemail_load(conf->freemail, err, errlen) < 0)
		return STORE_EINVAL;
	struct ingest *in = calloc(1, sizeof *in);
	if (!in) {
		snprintf(err, errlen, "out of memory");
		return STORE_EINVAL;
	}
	int rc = store_open(&opts, &in->store, err, errlen);
	if (rc != STORE_OK) {
		free(in);
		return rc;
	}
	in->report = report;
	in->arg = arg;
	*out = in;
	return STORE_OK;
}

/* report_failure - tell the caller one message could not be parsed */
static void report_failure(struct ingest *in, const char *origin, const char *why)
{
	struct ingest_outcome o = { .origin = origin, .error = why };
	if (in->report)
		in->report(&o, in->arg);
}

/* drop_queue - free every queued message */
static void drop_queue(struct ingest *in)
{
	for (size_t i = 0; i < in->n; i++) {
		free(in->q[i].raw);
		free(in->q[i].origin);
		mail_record_free(in->q[i].rec);
	}
	in->n = 0;
	in->bytes = 0;
}

/* ingest_flush - see ingest.h */
int ingest_flush(struct ingest *in, char *err, size_t errlen)
{
	if (in->n == 0)
		return STORE_OK;
	struct store_item items[INGEST_BATCH_MESSAGES];
	for (size_t i = 0; i < in->n; i++)
		items[i] = in->q[i].item;
	int rc = store_ingest(in->store, items, in->n, in->results, err, errlen);
	if (rc != STORE_OK)
		return rc;
	for (size_t i = 0; i < in->n && in->report; i++) {
		struct ingest_outcome o = {
			.origin = in->q[i].origin,
			.message_id = in->q[i].rec->message_id,
			.direction = in->q[i].item.direction,
			.message_id_row = in->results[i].message_id,
			.thread_id = in->results[i].thread_id,
			.duplicate = in->results[i].duplicate,
		};
		in->report(&o, in->arg);
	}
	drop_queue(in);
	return STORE_OK;
}

/* ingest_add - see ingest.h */
int ingest_add(struct ingest *in, const struct ingest_msg *msg, char *err, size_t errlen)
{
	if (in->n == INGEST_BATCH_MESSAGES || in->bytes + msg->len > INGEST_BATCH_BYTES) {
		int rc = ingest_flush(in, err, errlen);
		if (rc != STORE_OK)
			return rc;
	}
	struct mail_parse_opts popts = {
		.fallback_date = msg->fallback_date,
		.truncated = msg->truncated,
	};
	struct mail_record *rec = NULL;
	if (mail_parse(msg->raw, msg->len, &popts, &rec) < 0) {
		report_failure(in, msg->origin, msg->len ? "out of memory" : "empty message");
		return STORE_OK;
	}
	struct queued *q = &in->q[in->n];
	q->raw = malloc(msg->len ? msg->len : 1);
	q->origin = strdup(msg->origin ? msg->origin : "");
	if (!q->raw || !q->origin) {
		free(q->raw);
		free(q->origin);
		mail_record_free(rec);
		report_failure(in, msg->origin, "out of memory");
		return STORE_OK;
	}
	memcpy(q->raw, msg->raw, msg->len);
	q->len = msg->len;
	q->rec = rec;
	q->item = (struct store_item){
		.rec = rec,
		.raw = q->raw,
		.raw_len = q->len,
		.direction = store_direction_of(in->store, rec, msg->originated),
		.source = msg->source,
		.origin = q->origin,
		.env = msg->env,
	};
	in->n++;
	in->bytes += msg->len;
	return STORE_OK;
}

/* ingest_store - see ingest.h */
struct store *ingest_store(struct ingest *in)
{
	return in->store;
}

/* ingest_close - see ingest.h */
void ingest_close(struct ingest *in)
{
	if (!in)
		return;
	drop_queue(in);
	store_close(in->store);
	free(in);
}
