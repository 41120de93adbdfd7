/*
 * ingest.h - the one pipeline from raw bytes to the store
 *
 * crmctl import and crmilter's ingest worker both hand raw messages to an
 * ingest context: each is parsed (mail_parse), its direction decided, and
 * the records are written to the store in batches, one transaction each.
 * Past mail and live mail are therefore logged, threaded and associated the
 * same way.  (The rules engine will sit between parse and store here.)
 */
#ifndef CRM_INGEST_H
#define CRM_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "../common/common.h"
#include "../mail/mail.h"
#include "../storage/store.h"

#define INGEST_BATCH_MESSAGES 500
#define INGEST_BATCH_BYTES    (32u * 1024 * 1024)

struct ingest;

/* one message handed to the pipeline; everything is copied but env, which
 * must stay valid until the message is reported */
struct ingest_msg {
	const char *raw;
	size_t len;
	const char *origin;          /* file, "file:offset" or spool name */
	int64_t fallback_date;       /* envelope/arrival time, 0 = now */
	enum store_source source;
	const struct store_envelope *env; /* NULL for imported mail */
	int originated;              /* see store_direction_of(); -1 unknown */
	int truncated;               /* the caller cut the message */
};

/* what became of one message, reported through the callback */
struct ingest_outcome {
	const char *origin;
	const char *message_id;      /* NULL when parsing failed */
	enum store_direction direction;
	int64_t message_id_row;
	int64_t thread_id;
	int duplicate;
	const char *error;           /* non-NULL: this message failed */
};

typedef void (*ingest_report_fn)(const struct ingest_outcome *o, void *arg);

/*
 * ingest_open - open the store named by the configuration and load the
 * free-mail list.  report is called once per message after its batch is
 * written (or fails).  Returns 0, or a store_err class with err filled.
 * Free with ingest_close().
 */
int ingest_open(const struct conf *conf, ingest_report_fn report, void *arg,
		struct ingest **out, char *err, size_t errlen);

/*
 * ingest_add - parse one message and queue it; writes the batch when it is
 * full.  Returns 0, or a store_err class when writing a batch failed (the
 * batch is kept: ingest_flush() retries it).  A message that cannot be
 * parsed is reported failed and is not an error of the call.
 */
int ingest_add(struct ingest *in, const struct ingest_msg *msg, char *err, size_t errlen);

/* ingest_flush - write what is queued; 0 or a store_err class (queue kept) */
int ingest_flush(struct ingest *in, char *err, size_t errlen);

/* ingest_store - the open store, for reads by the caller */
struct store *ingest_store(struct ingest *in);

/* ingest_close - flush nothing, drop the queue, close the store; NULL is fine */
void ingest_close(struct ingest *in);

#endif
