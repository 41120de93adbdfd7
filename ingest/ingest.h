/*
 * ingest.h - the one pipeline from raw bytes to the store
 *
 * crmctl import and crmilter's ingest worker both hand raw messages to an
 * ingest context: each is parsed (mail_parse), its direction decided, and
 * the rules evaluated (rules_eval: logged or skipped, contacts, accounts,
 * deals, visibility, each decision with its rule), and the records and
 * decisions are written to the store in batches, one transaction each.
 * Past mail and live mail are therefore logged, threaded and associated the
 * same way.
 *
 * Rules: ingest_open() loads the configuration's RulesFile (see
 * ingest_load_rules: a file that is set, or was read before, never gives way
 * to the built-in rules).  A reload (ingest_reload_rules, or a new
 * ingest_open in the same process, as crmilter does after SIGHUP) builds
 * the new rules, validates them and swaps them in; a bad file keeps the
 * rules in use and its errors ("FILE:LINE:COL: message") are logged.
 */
#ifndef CRM_INGEST_H
#define CRM_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "../common/common.h"
#include "../mail/mail.h"
#include "../storage/store.h"
#include "../rules/rules.h"

#define INGEST_BATCH_MESSAGES 500
#define INGEST_BATCH_BYTES    (6u * 1024 * 1024)

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
	int skipped;                 /* 1: the rules skipped it (metadata row only), or
					every internal participant is a disconnected mailbox */
	const char *skip_reason;     /* why, when skipped ("bounce", STORE_DISCONNECTED_REASON);
					may be NULL */
	const char *reply_note;      /* why its reply tag was ignored (store_result); may be NULL */
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
 * ingest_add - parse one message and queue it; writes the batch first when
 * it is full.  Returns 0, or a store_err class when writing the batch
 * failed: the batch is kept and MSG was not queued, so the same call can be
 * made again.  A message that cannot be parsed is reported failed and is
 * not an error of the call.
 */
int ingest_add(struct ingest *in, const struct ingest_msg *msg, char *err, size_t errlen);

/*
 * Parsing ahead: crmctl import reads messages in order and one thread
 * writes the store, while GMime's parse, a third of the work, needs no
 * store.  An ingest_ahead parses the next messages on WORKERS threads and
 * queues them in the order they were added, so the store ends as with
 * ingest_add alone.  At most INGEST_AHEAD_SLOTS messages, and
 * INGEST_AHEAD_BYTES of them unless one is larger, are held (copied).
 *
 * ingest_ahead_open - start WORKERS threads (0: parse on the caller's
 * thread, as ingest_add does) for IN, which must outlive it.  Returns 0, or
 * -1 with ERR set (no memory, no thread).  Free with ingest_ahead_close().
 *
 * ingest_ahead_add - copy MSG in; when the ring is full, first queue the
 * oldest message (waiting for its parse).  Returns 0 when MSG was taken, or
 * the store_err class of a failed batch write: then MSG was not taken, and
 * the same call can be made again.
 *
 * ingest_ahead_flush - queue every message added and write the batch; 0 or
 * a store_err class (nothing is lost: call it again).
 *
 * ingest_ahead_close - stop the threads and drop what is not written.
 */
#define INGEST_AHEAD_SLOTS (INGEST_BATCH_MESSAGES + 64)
#define INGEST_AHEAD_BYTES (4u * 1024 * 1024)
struct ingest_ahead;
int ingest_ahead_open(struct ingest *in, unsigned workers, struct ingest_ahead **out, char *err,
		      size_t errlen);
int ingest_ahead_add(struct ingest_ahead *a, const struct ingest_msg *msg, char *err,
		     size_t errlen);
int ingest_ahead_flush(struct ingest_ahead *a, char *err, size_t errlen);
void ingest_ahead_close(struct ingest_ahead *a);

/*
 * ingest_train_early - have a store that has no compression dictionary
 * train it from the first batch this ingest writes, before that batch is
 * compressed (store_zdict_offer), rather than from the messages it holds
 * after its first 1,000.  For bulk imports: a milter's batches are small.
 */
void ingest_train_early(struct ingest *in);

/* ingest_flush - write what is queued; 0 or a store_err class (queue kept) */
int ingest_flush(struct ingest *in, char *err, size_t errlen);

/* ingest_store - the open store, for reads by the caller */
struct store *ingest_store(struct ingest *in);

/* ingest_close - flush nothing, drop the queue, close the store; NULL is fine */
void ingest_close(struct ingest *in);

/*
 * ingest_load_rules - the rules CONF names: its RulesFile; the built-in
 * rules only when RulesFile is not set and its default (rules, next to
 * crmilter.conf) does not exist.  A RulesFile that is set but missing or
 * unreadable is an error.  Returns 0 and *out (rules_unref()), or -1 with
 * every error in err.
 */
int ingest_load_rules(const struct conf *conf, struct rules **out, char *err, size_t errlen);

/*
 * ingest_rules_lint - rules_lint() of R against CONF's Domains and, when ST
 * is given, the deals imported into it.  Returns the number of warnings
 * and *out (free(); NULL when none), or -1 when memory runs out.
 */
int ingest_rules_lint(const struct conf *conf, const struct rules *r, struct store *st,
		      char **out);

/*
 * ingest_rules_describe - "FILE, sha256 HEX, N rules" (or that the built-in
 * rules are in force) into BUF, for logs and crmctl status; returns BUF
 */
const char *ingest_rules_describe(const struct rules *r, char *buf, size_t len);

/*
 * ingest_reload_rules - load the rules file again: build, validate, swap.
 * Returns 0; or -1 with the errors in err, and the rules in use are kept.
 * Safe to call from another thread than the one adding messages.
 */
int ingest_reload_rules(struct ingest *in, char *err, size_t errlen);

/* ingest_rules - the rules in use, with a reference (rules_unref() it) */
struct rules *ingest_rules(struct ingest *in);

/* a dry run of the pipeline on one message (crmctl rules explain) */
struct ingest_eval {
	struct mail_record *rec;
	enum store_direction direction;
	struct rules_decision dec;
};

/*
 * ingest_evaluate - parse RAW and evaluate RULES on it, as ingest_add
 * would; own domains from CONF; originated as in struct ingest_msg (-1:
 * judged from From).  Returns 0 and fills *out (ingest_eval_free()), or -1
 * with err filled.
 */
int ingest_evaluate(const struct conf *conf, struct rules *rules, const char *raw, size_t len,
		    int originated, struct ingest_eval *out, char *err, size_t errlen);
void ingest_eval_free(struct ingest_eval *e);

/*
 * ingest_apply - re-apply the rules in use to stored mail (store_apply):
 * every logged message dated SINCE or later (0: all) is parsed again from
 * its raw source and evaluated.  *changes as store_apply().  Returns a
 * store_err class with err filled on error.
 */
int ingest_apply(struct ingest *in, int64_t since, int dry_run, json_t **changes, char *err,
		 size_t errlen);

#endif
