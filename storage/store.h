/*
 * store.h - the SQLite store: schema, ingest, threading, contacts, reads
 *
 * The only module that holds SQL.  store_open() opens (and creates or
 * migrates) the database in WAL mode with foreign keys and a busy timeout.
 * store_ingest() writes a batch of parsed messages in one transaction:
 * dedupe, raw source (zstd), participants, attachments, threading (JWZ
 * containers, Thread-Index, guarded subject fallback), contacts, accounts,
 * thread links and the FTS5 index.  The read calls return jansson values
 * for crmctl and crmview to print; a store opened read-only never writes.
 *
 * Until the rules engine lands, the default policy decides: every message
 * is logged; external addresses of outbound mail become contacts unless
 * automated, free-mail domains make no accounts, and nobody on bulk mail,
 * bounces or auto-replies becomes a contact.
 */
#ifndef CRM_STORE_H
#define CRM_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "../mail/mail.h"

#define STORE_SCHEMA_VERSION 1

struct store;

enum store_raw { STORE_RAW_FULL, STORE_RAW_HEADERS, STORE_RAW_NONE };

struct store_opts {
	const char *path;              /* database file */
	int readonly;                  /* SQLITE_OPEN_READONLY, no migration */
	enum store_raw raw;            /* how much raw source to keep */
	int busy_timeout_ms;           /* 0 means 5000 */
	const char *const *own_domains; /* internal domains (and their subdomains) */
	size_t n_own_domains;
};

/* error classes: what a caller does next depends on them */
enum store_err {
	STORE_OK = 0,
	STORE_EBUSY,      /* locked by another writer: retry later */
	STORE_EFULL,      /* disk or database full: retry later */
	STORE_EREADONLY,  /* file or directory not writable: retry later */
	STORE_ECORRUPT,   /* not a database, or damaged: needs an admin */
	STORE_EIO,        /* other I/O error, missing file: retry later */
	STORE_EINVAL,     /* bad argument or data: a bug or a bad message */
};

enum store_direction { STORE_INBOUND, STORE_OUTBOUND, STORE_INTERNAL };
enum store_source { STORE_SRC_IMPORT, STORE_SRC_MILTER };

/* what the MTA told the milter; absent for imported mail */
struct store_envelope {
	const char *mail_from;
	const char *const *rcpts;      /* every RCPT TO, normalised */
	size_t n_rcpts;
	const char *queue_id;
	const char *client_addr;
	const char *client_name;
	const char *auth_authen;
	const char *daemon_name;
	int64_t arrival;
};

struct store_item {
	const struct mail_record *rec;
	const char *raw;               /* original bytes, for the raw table */
	size_t raw_len;
	enum store_direction direction;
	enum store_source source;
	const char *origin;            /* "file[:offset]" or spool file name */
	const struct store_envelope *env; /* NULL when none */
};

struct store_result {
	int64_t message_id;            /* messages.id */
	int64_t thread_id;
	int duplicate;                 /* 1: the message was already stored */
};

/*
 * store_open - open or create the store
 *
 * Creates the file and applies migrations unless opts->readonly.  Returns
 * STORE_OK and *out, or an error class with "PATH: reason" in err.  Close
 * with store_close().
 */
int store_open(const struct store_opts *opts, struct store **out, char *err, size_t errlen);

/* store_close - finish statements and close; NULL is fine */
void store_close(struct store *st);

/* store_schema_version - PRAGMA user_version of the open store */
int store_schema_version(struct store *st);

/*
 * store_is_internal - 1 when ADDR (normalised) is in an own domain, else 0
 */
int store_is_internal(const struct store *st, const char *addr);

/*
 * store_direction_of - direction of a message
 *
 * originated: 1 when our side sent it (authenticated client, originating
 * daemon, internal host), 0 when it came from outside, -1 when unknown
 * (imported mail: judged by whether From is internal).  Mail whose every
 * participant is internal is STORE_INTERNAL whatever originated says.
 */
enum store_direction store_direction_of(const struct store *st, const struct mail_record *rec,
					int originated);

/*
 * store_ingest - write a batch in one transaction
 *
 * results must have room for n entries.  Returns STORE_OK, or an error
 * class with a message in err; on error the transaction is rolled back and
 * nothing of the batch is stored, so the caller may retry the same batch.
 */
int store_ingest(struct store *st, const struct store_item *items, size_t n,
		 struct store_result *results, char *err, size_t errlen);

/* ---- reads: each returns a new jansson value (json_decref) or NULL with err ---- */

struct store_thread_filter {
	const char *account;   /* account domain, or NULL */
	const char *contact;   /* contact address, or NULL */
	int limit;             /* 0: no limit */
	int offset;
};

/* store_stats - {"schema_version", "messages", "threads", "contacts", "accounts",
 *   "attachments", "participants", "raw_bytes", "raw_stored_bytes", "inbound",
 *   "outbound", "internal"} */
json_t *store_stats(struct store *st, char *err, size_t errlen);

/* store_threads - array of thread summaries, newest last_date first:
 *   {"id", "subject", "first_date", "last_date", "messages", "accounts": [domain],
 *    "contacts": [address]}; dates are "YYYY-MM-DDTHH:MM:SSZ" */
json_t *store_threads(struct store *st, const struct store_thread_filter *f, char *err, size_t errlen);

/* store_thread - one thread with its messages in date order, or NULL (err
 *   "no thread ID") when absent:
 *   {"id", "subject", "first_date", "last_date", "accounts", "contacts",
 *    "messages": [{"id", "message_id", "date", "direction", "subject", "from",
 *      "to", "cc", "bcc", "envelope_rcpt", "flags": [names], "snippet", "body",
 *      "quotes": [[start, len]], "attachments": [{"filename", "content_type",
 *      "size", "sha256"}], "sources": [{"source", "origin"}], "in_reply_to",
 *      "parent"}]}   (addresses are {"name", "address"}) */
json_t *store_thread(struct store *st, int64_t id, char *err, size_t errlen);

/* store_contacts - array of {"address", "name", "account", "first_seen",
 *   "last_seen", "sent", "received", "threads"} sorted by address */
json_t *store_contacts(struct store *st, char *err, size_t errlen);

/* store_contact - one contact with "threads": [ids], or NULL (err "no contact ADDR") */
json_t *store_contact(struct store *st, const char *addr, char *err, size_t errlen);

/* store_accounts - array of {"domain", "name", "contacts", "threads",
 *   "last_activity"} sorted by domain */
json_t *store_accounts(struct store *st, char *err, size_t errlen);

/* store_strerror - a short name for an error class ("busy", "full"...) */
const char *store_strerror(int err);

#endif
