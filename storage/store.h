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
 * The store decides nothing about people: each item carries the decisions
 * of the rules engine (struct store_decision: logged or skipped, who
 * becomes a contact, accounts, deals, links, visibility) and the store
 * applies them, keeping with each the rule that made it (a row of the
 * rules table: file, line, text, hash).  An item without decisions is
 * logged, visible to the workspace, and makes no contact and no link.
 * A skipped message keeps only a metadata row (id, date, direction, size,
 * flags, why and by which rule) and its sources: no subject, body, raw
 * source or participants.  store_apply() re-applies the rules to stored
 * mail from its raw source.
 */
#ifndef CRM_STORE_H
#define CRM_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "../mail/mail.h"

#define STORE_SCHEMA_VERSION 8

struct store;

enum store_raw { STORE_RAW_FULL, STORE_RAW_HEADERS, STORE_RAW_NONE };

struct store_opts {
	const char *path;              /* database file */
	int readonly;                  /* SQLITE_OPEN_READONLY, no migration */
	enum store_raw raw;            /* how much raw source to keep */
	int busy_timeout_ms;           /* 0 means 5000 */
	const char *const *own_domains; /* internal domains (and their subdomains) */
	size_t n_own_domains;
	/* root only: a store that does not exist yet is created empty, 0640, owned by
	 * these (the service user), before SQLite opens it; its -wal and -shm follow */
	int owner_set;
	unsigned owner_uid, owner_gid;
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
	const char *reply_tag;         /* the tag of a ReplyAddress recipient (reply.c), or NULL */
};

/* the rule line that made a decision (a rules_prov copied by ingest/) */
struct store_rule {
	const char *file;
	unsigned line;
	const char *text;
	const char *hash;
};

/* the decisions about one external participant */
struct store_person {
	const char *addr;
	int capture;                   /* 1: make it a contact when it is none */
	int trusted;                   /* 0: unauthenticated: no contact made, updated or linked */
	const struct store_rule *capture_rule;
	const char *account;           /* account key (domain), NULL: none */
	const char *account_name;      /* NULL: the key */
	const struct store_rule *account_rule;
};

/* a deal, by key */
struct store_deal {
	const char *key;
	const struct store_rule *rule;
};

/* what the rules decided for one message; everything is borrowed */
struct store_decision {
	int skip;                      /* 1: keep only the metadata row */
	int marked_private;            /* [log] said "private" */
	const char *log_reason;
	const struct store_rule *log_rule;
	const struct store_person *people;
	size_t n_people;
	const struct store_deal *deals;
	size_t n_deals;
	const struct store_rule *single_open;  /* link the contact's one open deal */
	const struct store_rule *contacts_rule; /* link the thread to its contacts; NULL: none */
	const char *unassigned;        /* why nothing may be linked, or NULL */
	const char *inside;            /* "participants", "team:NAME", "workspace" */
	const char *outside;           /* "nothing", "metadata", "subject", "everything" */
	const char *visibility_reason;
	const struct store_rule *visibility_rule;
};

struct store_item {
	const struct mail_record *rec;
	const char *raw;               /* original bytes, for the raw table */
	size_t raw_len;
	const void *raw_z;             /* raw already compressed (store_zctx_compress), or NULL */
	size_t raw_zlen;
	int64_t raw_zdict;             /* the dictionary raw_z was made with (store_zdict_id) */
	enum store_direction direction;
	enum store_source source;
	const char *origin;            /* "file[:offset]" or spool file name */
	const struct store_envelope *env; /* NULL when none */
	const struct store_decision *dec; /* the rules' decisions; NULL: log, link nothing */
};

struct store_result {
	int64_t message_id;            /* messages.id */
	int64_t thread_id;             /* 0 for a skipped message */
	int duplicate;                 /* 1: the message was already stored */
	int skipped;                   /* 1: stored as a skipped metadata row */
	const char *skip_reason;       /* static: why the store itself skipped it
					  (STORE_DISCONNECTED_REASON); NULL: the rules' reason */
	const char *reply_note;        /* static: why the envelope's reply tag was
					  ignored; NULL: none, or honoured */
};

/*
 * store_reply_match - 1 when RCPT is REPLY_ADDRESS (ReplyAddress,
 * "local@domain") or "local+TAG@domain", case-insensitively, with *tag at
 * TAG inside RCPT ("" for the bare address); 0 when it is another address
 * or REPLY_ADDRESS is NULL; *taglen is TAG's length (it ends at the '@').
 * Needs no store: the milter asks it of every recipient.
 */
int store_reply_match(const char *reply_address, const char *rcpt, const char **tag,
		      size_t *taglen);


/*
 * store_open - open or create the store
 *
 * Creates the file and applies migrations unless opts->readonly.  Returns
 * STORE_OK and *out, or an error class with "PATH: reason" in err.  Close
 * with store_close().
 */
int store_open(const struct store_opts *opts, struct store **out, char *err, size_t errlen);

/*
 * store_checkpoint - copy every frame of the WAL into the database file and
 * truncate the WAL, through this connection (which still reads a WAL that
 * was deleted under it).  Returns STORE_OK, STORE_EBUSY when a reader kept
 * frames from being copied, or another class, with the reason in err.
 */
int store_checkpoint(struct store *st, char *err, size_t errlen);

/* store_close - finish statements and close; NULL is fine */
void store_close(struct store *st);

/* store_schema_version - PRAGMA user_version of the open store */
int store_schema_version(struct store *st);

/*
 * Compression of raw sources on other threads (raw.c): the writer's thread
 * takes a reference to the current dictionary (store_zdict_get: NULL when
 * there is none; store_zdict_dup takes another reference to one, on any
 * thread; put each back with store_zdict_put from any thread); any
 * thread with a context of its own (store_zctx_new / store_zctx_free)
 * compresses with it: store_zctx_compress returns a malloc'd frame and its
 * length, NULL when memory runs out.  The frame goes to store_ingest as
 * store_item.raw_z with raw_zdict = store_zdict_id(dict); the store uses it
 * when it keeps the whole raw source and that dictionary is still its own.
 */
struct store_zdict;
struct store_zctx;
struct store_zdict *store_zdict_dup(struct store_zdict *d);
struct store_zdict *store_zdict_get(struct store *st);
void store_zdict_put(struct store_zdict *d);
int64_t store_zdict_id(const struct store_zdict *d);
struct store_zctx *store_zctx_new(void);
void store_zctx_free(struct store_zctx *z);
void *store_zctx_compress(struct store_zctx *z, const struct store_zdict *d, const void *src,
			  size_t len, size_t *outlen);

/*
 * store_zdict_offer - an import's first messages make the dictionary:
 * while the store keeps whole raw sources and has no dictionary, it keeps
 * a copy of the first 8 KB of each of the N raw sources at SRCS (LENS
 * bytes each), and once it holds 100 (at most 1,000) trains the
 * dictionary from them in a transaction of its own, recompresses with it
 * the raw sources already stored, compresses with it from then on and
 * forgets the copies.  Offer each batch before store_ingest writes it.
 * Once a dictionary exists, or the mail was too uniform to make one,
 * offers are ignored (store_ingest trains later from what it holds).
 * The caller keeps SRCS.  Returns STORE_OK, also when nothing was
 * trained, or an error class with the reason in err (then this offer
 * was not taken: make it again).
 */
int store_zdict_offer(struct store *st, const char *const *srcs, const size_t *lens, size_t n,
		      char *err, size_t errlen);

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
 * store_direction_for - the same rule for a list of own domains, without a
 * store (crmctl rules explain)
 */
enum store_direction store_direction_for(const char *const *own, size_t n_own,
					 const struct mail_record *rec, int originated);

/*
 * store_ingest - write a batch in one transaction
 *
 * results must have room for n entries.  Returns STORE_OK, or an error
 * class with a message in err; on error the transaction is rolled back and
 * nothing of the batch is stored, so the caller may retry the same batch.
 */
int store_ingest(struct store *st, const struct store_item *items, size_t n,
		 struct store_result *results, char *err, size_t errlen);

/* ---- re-applying the rules to stored mail ---- */

/* one stored message handed to the decide callback of store_apply() */
struct store_stored {
	int64_t id;
	const char *msgid;
	enum store_direction direction;
	const char *raw;               /* the full raw source */
	size_t raw_len;
	const struct store_envelope *env; /* its envelope recipients */
};

/*
 * decide: parse M->raw and fill it->rec and it->dec, which must stay valid
 * until release(*priv, arg) is called; return 0, or -1 to leave the message
 * as it is (release is not called then).
 */
typedef int (*store_decide_fn)(const struct store_stored *m, struct store_item *it, void **priv,
			       void *arg);
typedef void (*store_release_fn)(void *priv, void *arg);

/*
 * store_apply - re-apply the rules to logged messages dated SINCE or later
 * (0: all) that have their full raw source, and to the other messages of
 * their threads: re-log (a message now skipped loses its content),
 * re-capture, re-associate and re-set visibility, in one transaction.
 * With SINCE 0, contacts no rule captures any more are removed.  *changes
 * gets {"evaluated", "unchanged_raw_missing", "skipped_kept", "removed":
 * [lines], "added": [lines]}: the decisions before and after, each a line
 * naming its rule.  dry_run rolls everything back.  Returns STORE_OK or an
 * error class with err filled (nothing changed).
 */
int store_apply(struct store *st, int64_t since, int dry_run, store_decide_fn decide,
		store_release_fn release, void *arg, json_t **changes, char *err, size_t errlen);

/* ---- deals ---- */

/* one deal as imported (crmctl deals import) */
struct store_deal_row {
	const char *key;
	const char *name;
	const char *account;           /* account domain, or NULL */
	const char *const *contacts;   /* addresses */
	size_t n_contacts;
	int open;                      /* 1 open, 0 closed */
};

/*
 * store_deals_import - insert or update deals by key (name, account,
 * status, contacts replaced) in one transaction.  Returns STORE_OK or an
 * error class with err filled.
 */
int store_deals_import(struct store *st, const struct store_deal_row *rows, size_t n,
		       char *err, size_t errlen);

/* store_deals - array of {"key", "name", "account", "status", "contacts": [], "threads"} */
json_t *store_deals(struct store *st, char *err, size_t errlen);

/* ---- reads: each returns a new jansson value (json_decref) or NULL with err ---- */

struct store_thread_filter {
	const char *account;   /* account domain, or NULL */
	const char *contact;   /* contact address, or NULL */
	int limit;             /* 0: no limit */
	int offset;
};

/* store_stats - {"schema_version", "messages", "threads", "contacts", "accounts",
 *   "attachments", "participants", "raw_bytes", "raw_stored_bytes", "inbound",
 *   "outbound", "internal", "skipped", "deals", "unassigned"}: messages and
 *   directions count logged messages; skipped the metadata-only rows */
json_t *store_stats(struct store *st, char *err, size_t errlen);

/* store_threads - array of thread summaries, newest last_date first:
 *   {"id", "subject", "first_date", "last_date", "messages", "accounts": [domain],
 *    "contacts": [address]}; dates are "YYYY-MM-DDTHH:MM:SSZ"; threads
 *   left without a logged message are not listed */
json_t *store_threads(struct store *st, const struct store_thread_filter *f, char *err, size_t errlen);

/* store_thread - one thread with its messages in date order, or NULL (err
 *   "no thread ID") when absent:
 *   {"id", "subject", "first_date", "last_date", "accounts", "contacts", "deals",
 *    "visibility": {"inside", "outside", "reason", "rule"}, "unassigned",
 *    "links": [{"kind", "key", "rule"}],
 *    "messages": [{"id", "message_id", "date", "direction", "subject", "from",
 *      "to", "cc", "bcc", "envelope_rcpt", "flags": [names], "snippet", "body",
 *      "quotes": [[start, len]], "attachments": [{"filename", "content_type",
 *      "size", "sha256"}], "sources": [{"source", "origin"}], "in_reply_to",
 *      "parent", "log": {"status", "reason", "rule"}}]}   (addresses are
 *   {"name", "address"}; a rule is {"file", "line", "text", "hash"} or null) */
json_t *store_thread(struct store *st, int64_t id, char *err, size_t errlen);

/* store_contacts - array of {"address", "name", "account", "first_seen",
 *   "last_seen", "sent", "received", "threads"} sorted by address */
json_t *store_contacts(struct store *st, char *err, size_t errlen);

/* store_contact - one contact with "threads": [ids] and "captured_by": rule,
 *   or NULL (err "no contact ADDR") */
json_t *store_contact(struct store *st, const char *addr, char *err, size_t errlen);

/* store_accounts - array of {"domain", "name", "contacts", "threads",
 *   "last_activity"} sorted by domain */
json_t *store_accounts(struct store *st, char *err, size_t errlen);

/* ---- monitoring (storage/status.c): crmctl status, crmview /metrics ---- */
/*
 * store_status - the store's side of the mail flow at time NOW (epoch s):
 *   {"path", "bytes" (database file + WAL), "schema_version", "logged",
 *    "skipped" (messages held: logged or private / skipped), "contacts",
 *    "threads_unassigned", "last_arrival" (epoch of the newest milter
 *    arrival, or null), "logged_hour", "skipped_hour", "logged_day",
 *    "skipped_day" (messages whose first milter copy arrived in the last
 *    3600 / 86400 s; imported mail is not counted), "skipped_by_reason":
 *    {"reason": count} ("" when the rule gave none)}.  Returns a new value
 *   (json_decref) or NULL with "PATH: reason" in err.
 */
json_t *store_status(struct store *st, int64_t now, char *err, size_t errlen);

/* ---- erasure and retention (storage/forget.c, storage/purge.c) ---- */
/*
 * Every call below that deletes runs in one transaction with
 * secure_delete on, removes the index rows it must, merges the full-text
 * index, writes an audit row (at, WHO, action, detail without the erased
 * data), commits, then truncates the WAL and VACUUMs the file, so no
 * page of the file holds what went.  A dry run rolls back and writes
 * nothing.  Each returns STORE_OK or an error class with err filled.
 */

/*
 * store_forget - erase TARGET, an address or "@domain" (with its
 * subdomains): its contacts (and for a domain its accounts); the messages
 * whose only external party it is (raw source, participants, attachments,
 * index rows; threads left empty); in the other messages it took part in
 * or is named in (same threads, or a full-text hit) the address, the
 * display names only it used and, for a domain, the domain are masked
 * with 'x' in participants (removed), sources, subject, headers, body,
 * raw source and index; then TARGET's SHA-256 joins the never-capture
 * list.  EINVAL for an own address, or when a thread involved is under a
 * legal hold.  *report: {"target", "kind", "contacts": [addresses],
 * "accounts": [domains], "deleted": [{"id", "thread", "date", "subject"}],
 * "threads", "redacted": [{...}], "dictionary": true when the zstd
 * dictionary held TARGET's bytes (it is dropped, its frames stored again
 * without one; the next ingest trains a new one), "dry_run"}.
 */
int store_forget(struct store *st, const char *target, int dry_run, const char *who,
		 json_t **report, char *err, size_t errlen);

/* store_purge flags */
#define STORE_PURGE_DRY_RUN 1u      /* count, change nothing */
#define STORE_PURGE_FORCE   2u      /* skip the checks below */
#define STORE_PURGE_CLOCK   4u      /* NOW is the system clock: check its skew against Date */
#define STORE_PURGE_CAP_PERCENT 10  /* of the store a purge may take without FORCE... */
#define STORE_PURGE_CAP_MIN     100 /* ...when it takes more than this many messages */

/*
 * store_purge - delete every message dated before BEFORE (epoch s), logged
 * or skipped, except those in threads under a legal hold (the thread, or
 * an account it is linked to); threads left empty go, contacts are
 * recounted.  Unless STORE_PURGE_FORCE, it deletes nothing and says why in
 * "refused" when (with STORE_PURGE_CLOCK) the latest mail arrived days
 * after the Date its senders wrote (the clock is ahead), or when it would
 * take more than STORE_PURGE_CAP_PERCENT of the messages (and more than
 * STORE_PURGE_CAP_MIN): one wrong reading of the clock must not empty the
 * store.  *report: {"before", "messages" (deleted, or that would be),
 * "threads", "held", "dry_run", "refused" (absent when it ran)}.
 */
int store_purge(struct store *st, int64_t now, int64_t before, unsigned flags, const char *who,
		json_t **report, char *err, size_t errlen);

/* store_purge_last - *at: the time of the last purge (audit), 0 when never */
int store_purge_last(struct store *st, int64_t *at, char *err, size_t errlen);

/*
 * store_hold - put TARGET (a thread id, or an account domain) under legal
 * hold, or with RELEASE take it off.  EINVAL when there is no such thread
 * or account, or when nothing changes (already held, not held).
 */
int store_hold(struct store *st, const char *target, int release, const char *who, char *err,
	       size_t errlen);

/* store_holds - *out: [{"kind": "thread"|"account", "target", "name", "at", "who",
 *   "threads"}] in the order they were made */
int store_holds(struct store *st, json_t **out, char *err, size_t errlen);

/* store_strerror - a short name for an error class ("busy", "full"...) */
const char *store_strerror(int err);

/* ---- export (storage/export.c): crmctl export, schema "crmilter-export 1" ---- */

/* what an export selects: at most one entity filter (threads), and dates (messages) */
struct store_export_filter {
	const char *account;           /* threads linked to this account (any of its domains) */
	const char *contact;           /* threads linked to this contact address */
	const char *deal;              /* threads linked to this deal key */
	const char *mailbox;           /* threads this address takes part in */
	int64_t thread;                /* this thread; 0: none */
	int has_since, has_until;
	int64_t since, until;          /* messages with since <= date < until (epoch s) */
};

/* a record for the writer: TYPE is "export" (the header), "rule", "account",
 *   "contact", "deal", "thread", "message" or "link", REC the record as
 *   crmilter-export(5) documents it (borrowed); return 0 to go on */
typedef int (*store_export_fn)(const char *type, json_t *rec, void *arg);

/* one message's raw source, for mbox; everything is borrowed */
struct store_export_raw {
	int64_t id;                    /* messages.id */
	const char *message_id;
	int64_t date;
	const char *mail_from;         /* the MTA's MAIL FROM, else Return-Path, else From; "" none */
	const char *mode;              /* "full", "headers" (data: the header block), "none" */
	const char *data;              /* the kept bytes, or NULL */
	size_t len;
	uint64_t size;                 /* bytes of the original message */
};
typedef int (*store_export_raw_fn)(const struct store_export_raw *m, void *arg);

/*
 * store_export - hand FN the header, then every selected rule, account,
 * contact, deal, thread, message and link, in that order, each section by
 * id, one record at a time (memory does not grow with the store), from one
 * read snapshot.  Returns STORE_OK, or an error class with err filled
 * (STORE_EIO when FN returned non-zero).
 */
int store_export(struct store *st, const struct store_export_filter *f, store_export_fn fn,
		 void *arg, char *err, size_t errlen);

/*
 * store_export_raw - hand HEAD the header, then FN the raw source of every
 * selected logged message by id (skipped messages have none).  Returns as
 * store_export().
 */
int store_export_raw(struct store *st, const struct store_export_filter *f, store_export_fn head,
		     store_export_raw_fn fn, void *arg, char *err, size_t errlen);

/* ---- viewer reads (storage/view.c): what one user may see ---- */
/*
 * Every call takes the user asking (struct store_viewer) and applies each
 * thread's visibility, message by message: the user is inside a thread as
 * a whole when it is visible to the workspace or to the user's team
 * ("team:NAME"), or shows outsiders everything (or inside_all); otherwise
 * he sees in full the messages he sent or received (From, To, Cc, Bcc,
 * envelope recipient; never Sender or Reply-To), and the others at what
 * threads.outside allows: "nothing" (not in any list, count, search or
 * record), "metadata" (dates, directions, participants, counts), "subject"
 * (metadata and subjects), "everything".  A thread seen in part is
 * summarised from the messages he sees.  Each thread and message in a
 * result carries "access": "metadata" | "subject" | "everything" (a
 * thread: the best of its messages), and holds nothing more.  Accounts,
 * contacts and deals are listed when one of their threads is visible to
 * the user or when they have no thread at all.  Each call returns STORE_OK
 * with *out a new value (json_decref), or *out NULL when the thing asked
 * for does not exist or is hidden from the user; else an error class with
 * err filled.  Dates are "YYYY-MM-DDTHH:MM:SSZ".
 */
struct store_viewer {
	const char *address;           /* the user's mailbox, lower case */
	const char *team;              /* the user's team name, or NULL */
	int inside_all;                /* 1: inside every thread */
	int full_paths;                /* 1: rules files by their full path (admins) */
	const char *rules_base;        /* else shown relative to this folder, or by name */
};

enum store_view_kind { STORE_VIEW_ACCOUNTS, STORE_VIEW_CONTACTS, STORE_VIEW_DEALS };
/* the sort keys of a records table: DOMAIN is an account's domain, else the
 * account's; DEALS the open deals, a deal's status; KEY the domain, address
 * or deal key */
enum store_view_sort { STORE_SORT_NAME, STORE_SORT_DOMAIN, STORE_SORT_LAST, STORE_SORT_THREADS,
		       STORE_SORT_DEALS, STORE_SORT_KEY, STORE_SORT_LAST_IN, STORE_SORT_LAST_OUT,
		       STORE_SORT_WAIT_US, STORE_SORT_WAIT_THEM, STORE_SORT_N };

#define STORE_VIEW_MAX_LIMIT  500      /* items per page */
#define STORE_VIEW_MAX_OFFSET 100000
#define STORE_VIEW_MAX_ROWS   100000   /* rows of one download (store_view_records_each) */
#define STORE_VIEW_MAX_SORT   3        /* sort keys of a records table */
#define STORE_VIEW_SEARCH_CAP 1000     /* search hits counted at most */

/* the filterable columns of a records table: the name shown (an account's or
 * contact's name, else its domain or address; a deal's name, else its key),
 * the domain, address or key, the account (name or domain), a deal's status */
enum store_view_col { STORE_COL_NAME, STORE_COL_KEY, STORE_COL_ACCOUNT, STORE_COL_STATUS,
		      STORE_COL_N };

struct store_view_query {
	enum store_view_kind kind;
	const char *filter;            /* substring of name, domain, address, key; NULL: all */
	const char *match[STORE_COL_N];        /* per column: a substring, any case; NULL: all */
	struct store_view_sort_key {
		enum store_view_sort key;
		int desc;
	} sort[STORE_VIEW_MAX_SORT];   /* the first nsort, most significant first */
	int nsort;                     /* 0: last activity, newest first */
	int limit, offset;             /* limit 1..STORE_VIEW_MAX_LIMIT */
};

/* store_view_records - {"kind", "total", "offset", "limit", "items": [...]}: accounts
 *   {"id", "name", "domain", "threads", "last_activity", "open_deals"}, contacts
 *   {"id", "name", "address", "account", "account_id", "threads", "last_activity",
 *   "open_deals"}, deals {"id", "key", "name", "status", "account", "account_id",
 *   "threads", "last_activity"}, each with the status "last_inbound",
 *   "last_outbound", "waiting_for_us_since", "waiting_for_them_since" (dates
 *   or null: the last inbound and outbound message; the oldest wait of its
 *   threads whose last exchange is inbound, outbound: crmview(8), STATUS);
 *   counts, dates and status over what the user sees of his visible threads */
int store_view_records(struct store *st, const struct store_viewer *who,
		       const struct store_view_query *q, json_t **out, char *err, size_t errlen);

/*
 * store_view_records_each - the rows of a records table one at a time, as
 *   store_view_records' items, to FN with ARG and the total the query
 *   matches; q->limit may go up to STORE_VIEW_MAX_ROWS.  ROW is freed when
 *   FN returns (json_incref to keep it); FN returns 0 to go on, else the
 *   walk stops there (still STORE_OK).  Returns STORE_OK or an error class.
 */
typedef int (*store_view_row_fn)(void *arg, int64_t total, json_t *row);
int store_view_records_each(struct store *st, const struct store_viewer *who,
			    const struct store_view_query *q, store_view_row_fn fn, void *arg,
			    char *err, size_t errlen);

/* store_view_record - one account, contact or deal by id with its fields, its
 *   contacts and deals (each deal with its "activity"), its "activity"
 *   {"last_activity", "last_inbound", "last_outbound", "waiting_for_us_since",
 *   "waiting_for_them_since"} (as store_view_records' status, over what the
 *   user sees), and "timeline": {"total", "offset", "limit", "items":
 *   [thread summaries]}, newest first.  A thread summary is {"id", "access",
 *   "subject", "first_date", "last_date", "messages", "directions": [words,
 *   date order, at most 20], "participants": [{"name", "address"}] (from, to,
 *   cc; at most 8), "participants_total" (both among its first 50 messages), "attachments" (count),
 *   "waiting_for_us_since", "waiting_for_them_since" (as the user sees it), "snippet"
 *   (the last message's; everything only), "unassigned"} */
int store_view_record(struct store *st, const struct store_viewer *who, enum store_view_kind kind,
		      int64_t id, int limit, int offset, json_t **out, char *err, size_t errlen);

/* store_view_thread - one thread: summary fields, "offset", "limit" (of its
 *   messages, in date order), "visibility": {"inside", "outside",
 *   "reason", "rule"}, "links": [{"kind", "id", "key", "name", "rule", "captured_by"}],
 *   "items": the messages the user sees, in date order, each at its own level
 *   {"id", "access", "date", "direction", "from", "to", "cc", "attachments" (count
 *   below everything), "log": {"status", "reason", "rule"}} and, by level,
 *   "subject"; "bcc", "flags", "body", "quotes", "attachments": [{"id" (the row:
 *   store_view_attachment), "filename", "content_type", "size"}].  A rule's "file" is whole only for full_paths. */
int store_view_thread(struct store *st, const struct store_viewer *who, int64_t id,
		      int limit, int offset, json_t **out, char *err, size_t errlen);

/* ---- attachment downloads (storage/view_attach.c) ---- */

#define STORE_VIEW_ATTACH_MAX (64u * 1024 * 1024) /* bytes of raw source read, and of an attachment */

/* what a download of one attachment may give the user asking */
enum store_attach_state {
	STORE_ATTACH_OK,         /* data holds the bytes */
	STORE_ATTACH_HIDDEN,     /* the user sees the message below "everything": no bytes */
	STORE_ATTACH_NOT_KEPT,   /* the store keeps no full raw source of the message */
	STORE_ATTACH_TOO_LARGE,  /* raw source or attachment above STORE_VIEW_ATTACH_MAX */
	STORE_ATTACH_CHANGED,    /* the raw source no longer gives the part the row describes */
};

struct store_attachment {
	int64_t id, thread_id, message_id;
	int index;                     /* 1-based position among its message's attachments */
	const char *access;            /* the user's level of the message: "metadata"... (static) */
	const char *thread_access;     /* ...and of the thread */
	enum store_attach_state state;
	char *filename;                /* "everything" only, else NULL; may be NULL */
	char *content_type;            /* as stored ("type/subtype"), "everything" only */
	uint64_t size;                 /* as stored */
	unsigned char *data;           /* STORE_ATTACH_OK: the decoded bytes */
	size_t len;
};

/*
 * store_view_attachment - attachment row AID of thread TID as WHO may
 * download it: *out NULL when there is no such attachment in that thread,
 * or the user may see neither the thread nor its message (as
 * store_view_thread); else a new record (store_attachment_free) whose
 * state says whether data holds the bytes.  The bytes are the part's,
 * found by parsing the message's raw source again (mail_attachment_bytes,
 * by its position among the message's attachments) and checked against
 * the row's size and sha256.  Returns STORE_OK or an error class with err.
 */
int store_view_attachment(struct store *st, const struct store_viewer *who, int64_t tid,
			  int64_t aid, struct store_attachment **out, char *err, size_t errlen);

/* store_attachment_free - free A and its bytes; NULL is fine */
void store_attachment_free(struct store_attachment *a);

/* store_view_unassigned - {"total", "offset", "limit", "items": [summaries]}: the
 *   visible threads no rule could place, newest first, each with "unassigned" */
int store_view_unassigned(struct store *st, const struct store_viewer *who, int limit,
			  int offset, json_t **out, char *err, size_t errlen);

/* what a search looks for: words, and filters that narrow it (0, NULL: any) */
struct store_search_query {
	const char *text;              /* words, never FTS5 syntax */
	enum store_view_kind record_kind;      /* the thread is on this record... */
	int64_t record_id;                     /* ...0: on any */
	int64_t since, until;          /* the message's date: since <= date < until */
	const char *direction;         /* "inbound", "outbound" or "internal" */
	int attachment;                /* 1: a message with an attachment the user may see */
	int limit, offset;             /* of the threads */
};

/* store_view_search - full text over subject, body and people, by thread,
 *   newest first: {"query", "total" (threads), "hits" (messages), "capped",
 *   "offset", "limit", "items": [{"thread", "hits", "message", "date",
 *   "direction", "access", "subject", "from", "snippet", "highlights":
 *   [[start, length]] (bytes of snippet)}]}, each item the thread's newest
 *   hit.  A hit counts only in the columns the user may see (metadata:
 *   people; subject: subject and people); the attachment filter takes only
 *   messages the user sees in full.  *out is NULL when TEXT holds no word.
 *   Counting stops after STORE_VIEW_SEARCH_CAP messages ("capped"). */
int store_view_search(struct store *st, const struct store_viewer *who,
		      const struct store_search_query *q, json_t **out, char *err, size_t errlen);

/* store_view_names - the records whose name, domain, address or key holds
 *   TEXT (any case), among those the records tables show WHO: {"accounts",
 *   "contacts", "deals"}, each {"total", "items": [{"id", "name", "domain" |
 *   "address" | "key"}]}, the first LIMIT by name.  An empty TEXT matches
 *   no record.  Returns STORE_OK or an error class. */
int store_view_names(struct store *st, const struct store_viewer *who, const char *text,
		     int limit, json_t **out, char *err, size_t errlen);

/* store_view_mailboxes - every internal mailbox (the mailboxes table, users,
 *   and own-domain participants): [{"address", "name", "state", "messages",
 *   "role", "team"}] sorted by address (for admins) */
int store_view_mailboxes(struct store *st, json_t **out, char *err, size_t errlen);

/* store_view_tune - for a reader that serves many requests: map up to MMAP_BYTES
 *   of the file into memory and keep a page cache of CACHE_KIB KiB.  Returns
 *   STORE_OK or an error class. */
int store_view_tune(struct store *st, int64_t mmap_bytes, int cache_kib);

/* store_view_write_probe - try to write the store (a row in audit, rolled
 *   back); crmview refuses to run unless this fails.  Returns the class of
 *   the failure (STORE_EREADONLY for a read-only handle), or STORE_OK when
 *   the write went through. */
int store_view_write_probe(struct store *st);

/* ---- viewer users (storage/view.c; the users and teams tables) ---- */

/* store_user_get - {"id", "address", "name", "role", "team", "secret"} of user
 *   ADDRESS (secret: the argon2id string or null); *out NULL when none */
int store_user_get(struct store *st, const char *address, json_t **out, char *err, size_t errlen);

/* store_users - [{"address", "name", "role", "team", "password": bool}] by address */
int store_users(struct store *st, json_t **out, char *err, size_t errlen);

/* store_user_set - add user ADDRESS or change it: ROLE ("admin", "member"), TEAM
 *   (a team name, NULL: none, created when new), NAME (NULL: keep).  Writes. */
int store_user_set(struct store *st, const char *address, const char *role, const char *team,
		   const char *name, char *err, size_t errlen);

/* store_user_secret - set the password hash (argon2id string) of ADDRESS; EINVAL when
 *   there is no such user.  Writes. */
int store_user_secret(struct store *st, const char *address, const char *secret, char *err,
		      size_t errlen);

/* store_user_remove - remove user ADDRESS; EINVAL when there is none.  Writes. */
int store_user_remove(struct store *st, const char *address, char *err, size_t errlen);

/* ---- disconnected mailboxes (storage/mailbox.c) ---- */
/*
 * A new message is logged only when at least one of its internal
 * participants (From, To, Cc, Bcc, envelope recipients in the own domains)
 * is a connected mailbox; one whose internal participants are all
 * disconnected is stored by store_ingest() as a skipped metadata row with
 * this reason.  store_ingest() reads the state once per batch, so a running
 * crmilter follows a change without a restart.  Mail stored before, and
 * store_apply(), are not affected.
 */
#define STORE_DISCONNECTED_REASON "disconnected mailbox"

/* store_mailbox_set - disconnect (CONNECTED 0) or reconnect (1) mailbox ADDR
 *   (normalised) and write an audit row {at: now, who: WHO, action:
 *   "disconnect" | "reconnect", detail: ADDR}, in one transaction.  *changed
 *   is 0 when it already was in that state (nothing written).  Returns
 *   STORE_OK, or an error class with err filled.  Writes. */
int store_mailbox_set(struct store *st, const char *addr, int connected, const char *who,
		      int *changed, char *err, size_t errlen);

/* store_mailboxes - the mailboxes (the mailboxes table, crmview users and
 *   own-domain participants), or only ADDR when not NULL (an empty array when
 *   the store knows nothing of it): [{"address", "state", "since" (date of
 *   the last change or null), "by" (who made it, or null), "messages"
 *   (logged messages it takes part in)}] by address.  Returns STORE_OK with
 *   *out (json_decref), or an error class with err filled. */
int store_mailboxes(struct store *st, const char *addr, json_t **out, char *err, size_t errlen);

/* store_mailbox_disconnected_only - 1 when REC (and ENV, may be NULL) has
 *   internal participants and all are disconnected mailboxes, so that
 *   store_ingest() would skip it now; 0 when not; -1 with err filled on a
 *   store error (crmctl rules explain) */
int store_mailbox_disconnected_only(struct store *st, const struct mail_record *rec,
				    const struct store_envelope *env, char *err, size_t errlen);

#endif
