/*
 * store_int.h - private to storage/: the store handle, the prepared
 * statement cache, and the helpers the storage files share
 *
 * Nothing outside storage/ includes this file.  Every SQL statement the
 * ingest path runs lives in the table stmt_sql[] (open.c), is prepared once
 * on first use with SQLITE_PREPARE_PERSISTENT and kept in struct store.
 */
#ifndef CRM_STORE_INT_H
#define CRM_STORE_INT_H

#include <sqlite3.h>
#include <zstd.h>

#include "store.h"

/* the cached statements; their SQL is in stmt_sql[] in open.c */
enum stmt_id {
	S_BEGIN,
	S_COMMIT,
	S_MSG_BY_MSGID,
	S_MSG_INSERT,
	S_SOURCE_INSERT,
	S_RAW_INSERT,
	S_PART_INSERT,
	S_ATT_INSERT,
	S_FTS_INSERT,
	S_CONT_GET,
	S_CONT_INSERT,
	S_CONT_SET_PARENT,
	S_CONT_FILL,
	S_CONT_SET_THREAD,
	S_KEY_GET,
	S_KEY_INSERT,
	S_THREAD_NEW,
	S_THREAD_EARLIEST,
	S_THREAD_UPDATE,
	S_MERGE_MSGS,
	S_MERGE_CONTS,
	S_MERGE_KEYS,
	S_MERGE_LINKS,
	S_MERGE_VIS,                 /* the visibility a merged thread brings */
	S_LINKS_DELETE,
	S_THREAD_DELETE,
	S_SUBJECT_THREADS,           /* threads a message joins by subject (thread.c) */
	S_MSG_SUBJECT_KEY,
	S_CONTACT_GET,
	S_CONTACT_INSERT,
	S_CONTACT_SET_ACCOUNT,
	S_ACCOUNT_INSERT,
	S_ACCOUNT_GET,
	S_ACCOUNT_SET_NAME,
	S_ACCOUNT_DOMAIN,
	S_LINK_CONTACT,
	S_LINK_ACCOUNT,
	S_LINK_DEAL,
	S_LINK_PAST_CONTACT,
	S_LINK_PAST_ACCOUNT,
	S_CONTACT_RECOUNT,
	S_THREADS_ASSIGNED,
	S_RULE_INSERT,
	S_RULE_GET,
	S_DEAL_INSERT,
	S_DEAL_GET,
	S_DEALS_OPEN_OF,
	S_THREAD_VIS_GET,
	S_THREAD_VIS_SET,
	S_THREAD_LINKS,
	S_THREAD_UNASSIGNED,
	S_MSG_DECISION,
	S_MSG_SKIP_INSERT,
	S_FORGOTTEN_GET,             /* forget.c */
	S_MERGE_HOLDS,               /* purge.c: holds follow a merged thread */
	S_N
};

/* the page cache of a connection (export runs with a smaller one) */
#define STORE_CACHE_PRAGMA "PRAGMA cache_size = -16000"

/* the 30 days of the subject fallback, in seconds */
#define STORE_FALLBACK_WINDOW (30 * 24 * 3600)

/* how far a parent chain is walked looking for a cycle */
#define STORE_MAX_PARENT_WALK 1000

/* a rules row looked up in this transaction */
struct store_rule_cached {
	char *file, *hash;
	unsigned line;
	int64_t id;
};
#define STORE_RULE_CACHE 64

/* a loaded decompression dictionary */
struct store_ddict {
	int64_t id;                  /* zdicts.id */
	ZSTD_DDict *d;
};

/*
 * a growing list of row ids (ids.c)
 *   store_ids_add - append ID; STORE_OK, or the class of running out of
 *     memory (reported through ST)
 *   store_ids_sort - sort ascending and drop repeats
 *   store_ids_free - free the list and empty it
 */
struct store_ids {
	int64_t *v;
	size_t n, cap;
};
int store_ids_add(struct store *st, struct store_ids *ids, int64_t id);
void store_ids_sort(struct store_ids *ids);
void store_ids_free(struct store_ids *ids);

struct store {
	sqlite3 *db;
	char *path;
	int readonly;
	enum store_raw raw;
	char **own;                  /* own domains, lower case */
	size_t n_own;
	sqlite3_stmt *stmt[S_N];     /* prepared on first use */
	ZSTD_CCtx *zc;
	ZSTD_DCtx *zd;
	void *zbuf;                  /* compression output, grown as needed */
	size_t zcap;
	struct store_zdict *zdict;   /* current dictionary (this store's reference), or NULL */
	struct store_ddict *ddicts;  /* dictionaries loaded for reading */
	size_t n_ddicts;
	int64_t dict_retry_at;       /* train again at this many messages */
	struct store_samples *offered; /* raw sources offered to train the first dictionary */
	int offer_done;              /* that training was made (or came to nothing) */
	struct store_rule_cached *rcache; /* rules rows of this transaction */
	size_t n_rcache;
	struct store_ids touched;    /* contacts a batch touched */
	struct store_ids changed;    /* threads a batch changed (store_thread_changed) */
	char **disconnected;         /* disconnected mailboxes, read per batch (mailbox.c) */
	size_t n_disconnected;
	char *err;                   /* error buffer of the running call */
	size_t errlen;
};

/* open.c */
sqlite3_stmt *store_stmt(struct store *st, enum stmt_id id);
int store_sqlerr(struct store *st, int rc, const char *what);
int store_fail(struct store *st, int cls, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int store_class_of(int sqlite_rc);
int store_step_done(struct store *st, sqlite3_stmt *s, const char *what);
int store_exec(struct store *st, const char *sql);
const char *store_domain_of(const char *addr);

/* schema.c */
int store_migrate(struct store *st);

/* raw.c */
int store_zcompress(struct store *st, const void *src, size_t len, const void **out,
		    size_t *outlen, int64_t *dict_id);
char *store_zdecompress(struct store *st, const void *z, size_t zlen, size_t want, int64_t dict_id);
int store_zdict_load(struct store *st);
int store_zdict_maybe_train(struct store *st);
void store_zfree(struct store *st);
/* store_zdict_drop - compress without a dictionary from now on (its reference put) */
void store_zdict_drop(struct store *st);

/*
 * STORE_SQL_THREAD_STATUS(tid): the row (last_in, last_out, wait_us,
 * wait_them) of thread TID (an SQL expression) from its messages: the
 * dates of the last inbound and the last outbound message; waiting for us
 * since the first inbound message after the last outbound one, for them
 * since the first outbound after the last inbound (NULL: not waiting).
 * Internal mail counts for neither side.  Used by store_thread_refresh
 * and by the migration that added these columns (schema.c).
 */
#define STORE_SQL_THREAD_STATUS(tid) \
	"(SELECT x.li, x.lo," \
	" (SELECT min(m.date) FROM messages m WHERE m.thread_id = " tid \
	"  AND m.direction = 'inbound' AND (x.lo IS NULL OR m.date > x.lo))," \
	" (SELECT min(m.date) FROM messages m WHERE m.thread_id = " tid \
	"  AND m.direction = 'outbound' AND (x.li IS NULL OR m.date > x.li))" \
	" FROM (SELECT max(CASE WHEN direction = 'inbound' THEN date END) AS li," \
	"  max(CASE WHEN direction = 'outbound' THEN date END) AS lo FROM messages" \
	"  WHERE thread_id = " tid ") x)"

/* thread.c */
int store_thread_assign(struct store *st, const struct store_item *it, int64_t *tid);
int store_thread_link_ids(struct store *st, const struct mail_record *rec, int64_t mid, int64_t tid);
int store_thread_refresh(struct store *st, int64_t tid);
char *store_subject_key(const char *subject);

/*
 * store_thread_changed - remember that thread TID gained a message or a
 * participant in this batch; store_threads_refresh then refreshes each
 * such thread once (store_thread_refresh), before the batch commits.  Its
 * counts, dates and status read every message of the thread, so
 * refreshing it after each message cost a busy list thread O(n^2).  Until
 * then the thread's row (and the links' copies of it) lag its messages;
 * nothing in a batch reads them.  Both return STORE_OK or an error class.
 */
int store_thread_changed(struct store *st, int64_t tid);
int store_threads_refresh(struct store *st);

/* contact.c: contacts, accounts and links as the rules decided */
int store_stmt_err(struct store *st);
int store_contacts_apply(struct store *st, const struct store_item *it, int64_t tid);
int store_contacts_recount(struct store *st);
int store_account_ensure(struct store *st, const char *key, const char *name,
			 const struct store_rule *rule, int64_t *id);
int store_link(struct store *st, enum stmt_id id, int64_t tid, int64_t target,
	       const struct store_rule *rule);

/*
 * reply.c
 *   store_reply_key - the store's reply key into KEY; STORE_OK or an error
 *     class (a store without one is an error)
 *   store_reply_tag_of - the tag of messages row ID under KEY, "r<ID>.<MAC>"
 *   store_reply_parent - the Message-ID (malloc'd, into *msgid) that
 * stands in for IT's In-Reply-To: the message its envelope's reply tag
 * names, when the tag is this store's, IT is not inbound and has no
 * In-Reply-To or References of its own; else NULL, with *note (static)
 * saying why a tag was ignored.  Returns STORE_OK or an error class.
 */
#define STORE_REPLY_MAC_HEX 16      /* hex digits of the MAC kept in a tag (64 bits) */
#define STORE_REPLY_TAG_MAX 48      /* bytes of a tag and its NUL */
int store_reply_key(struct store *st, unsigned char key[32]);
void store_reply_tag_of(const unsigned char key[32], int64_t id, char out[STORE_REPLY_TAG_MAX]);
int store_reply_parent(struct store *st, const struct store_item *it, char **msgid,
		       const char **note);

/* ingest.c */
int store_fts_delete(struct store *st, const struct store_item *it, int64_t mid);

/*
 * purge.c: erasing messages for good (forget.c shares it).  Every call
 * returns STORE_OK or an error class with st->err filled.
 *   store_msgtext_load - MID's subject, body, quotes and people as its index
 *     row holds them, into *t (free with store_msgtext_free)
 *   store_msgtext_index - insert T as MID's index row, or with DEL remove it
 *   store_erase_begin - secure_delete on, BEGIN IMMEDIATE, the empty temp
 *     tables erase_msgs (messages to delete), erase_threads (threads to
 *     recount or drop), erase_contacts (contacts to recount)
 *   store_erase_run - delete the messages in temp.erase_msgs with their
 *     index rows; *messages and *threads (dropped) get the counts
 *   store_erase_end - merge the index and COMMIT when RC is STORE_OK and
 *     COMMIT is set (else roll back), drop the temp tables, with SCRUB
 *     store_erase_scrub.  Returns RC or the new error.
 *   store_erase_scrub - wal_checkpoint(TRUNCATE), VACUUM, again TRUNCATE
 *   store_audit - an audit row (now, WHO, ACTION, DETAIL)
 *   store_run_id - run SQL with ?1 = ID; store_count - the one integer SQL gives
 *   store_ids - column 0 of SQL as a new int64_t array (free()) of *n
 *   store_held_sql - SQL text of the ids of the threads under a legal hold
 */
struct store_msgtext {
	char *subject;
	char *body;                  /* NULL when empty */
	size_t body_len;
	char *quotes;                /* JSON [[start, len], ...] or NULL */
	char *people;                /* names and addresses, space separated */
};
int store_msgtext_load(struct store *st, int64_t mid, struct store_msgtext *t);
void store_msgtext_free(struct store_msgtext *t);
int store_msgtext_index(struct store *st, int64_t mid, const struct store_msgtext *t, int del);
int store_erase_begin(struct store *st);
int store_erase_run(struct store *st, int64_t *messages, int64_t *threads);
int store_erase_end(struct store *st, int rc, int commit, int scrub);
int store_erase_scrub(struct store *st);
int store_audit(struct store *st, const char *who, const char *action, const char *detail);
int store_run_id(struct store *st, const char *sql, int64_t id);
int store_count(struct store *st, const char *sql, int64_t *out);
int store_ids(struct store *st, const char *sql, int64_t **ids, size_t *n);
const char *store_held_sql(void);

/*
 * forget.c: the never-capture list.  *gone 1 when ADDR, its domain or a
 * parent domain was forgotten (by SHA-256); STORE_OK or an error class.
 */
int store_forgotten(struct store *st, const char *addr, int *gone);

/* mailbox.c: the disconnected set of one batch */
int store_mailbox_load(struct store *st);
void store_mailbox_unload(struct store *st);
int store_mailbox_skip(const struct store *st, const struct store_item *it);

/* decide.c: rule rows, deals, visibility, unassigned, the message's own decisions */
int store_rule_id(struct store *st, const struct store_rule *r, int64_t *id);
void store_rule_name(const struct store_rule *r, char *buf, size_t len);
int store_decision_apply(struct store *st, const struct store_item *it, int64_t mid, int64_t tid);
int store_message_decision(struct store *st, const struct store_item *it, int64_t mid);
int store_skip_insert(struct store *st, const struct store_item *it, int64_t *mid);
void store_rule_cache_clear(struct store *st);
int store_thread_narrow(struct store *st, int64_t tid, const char *inside, const char *outside,
			const char *reason, int64_t rule_id);

/*
 * json.c: result columns as JSON (new references).  _epoch: seconds as
 * "YYYY-MM-DDTHH:MM:SSZ"; _date: the same from column I, null when NULL;
 * _text: null when NULL or not UTF-8; _int: the integer (0 for NULL); _id:
 * null when NULL; _flags: the names of the MAIL_* bits set in F, an array
 */
json_t *store_json_epoch(int64_t t);
json_t *store_json_date(sqlite3_stmt *s, int i);
json_t *store_json_text(sqlite3_stmt *s, int i);
json_t *store_json_int(sqlite3_stmt *s, int i);
json_t *store_json_id(sqlite3_stmt *s, int i);
json_t *store_json_flags(unsigned f);

/*
 * store_write_begin - start one write call (ingest, apply...): errors go to
 * ERR, the per-call state (contacts touched, rule cache) starts empty.
 * Returns STORE_OK, or STORE_EREADONLY with err filled for a read-only
 * store.  store_write_end() ends every call and returns RC unchanged.
 */
int store_write_begin(struct store *st, char *err, size_t errlen);
int store_write_end(struct store *st, int rc);

#endif
