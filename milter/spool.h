/*
 * spool.h - the durable spool between the milter callbacks and the store
 *
 * A Maildir-style directory: a message is written into tmp/ while the MTA
 * streams it, fsync'ed, renamed into new/ and the directory fsync'ed; only
 * then does the milter accept it.  The ingest worker drains new/ and
 * deletes each file once its batch is committed to the store; a file that
 * cannot be ingested moves to failed/ with NAME.reason beside it, where
 * `crmctl spool status` shows it and `crmctl spool retry` moves it back.
 *
 * One spool file holds one message and its envelope:
 *
 *     CRMSPOOL1 <20-digit offset of the envelope block>\n
 *     <the message, byte for byte as rebuilt from the milter protocol>
 *     <envelope block: "key value\n" lines>
 *
 * The envelope comes last because it is complete only at end of message;
 * the offset in the first line is written in place just before the fsync.
 * Values escape bytes below 0x20, 0x7f and '%' as %XX.  Keys: queue-id,
 * mail-from, rcpt (one per recipient), client-addr, client-name,
 * auth-authen, daemon-name, message-id, arrival (epoch seconds), size
 * (bytes the MTA sent), originated (1/0/-1), truncated, headers-only.
 * Unknown keys are ignored, so the format can grow.
 *
 * This file uses no libmilter call: crmctl links it for `crmctl spool`.
 */
#ifndef CRM_SPOOL_H
#define CRM_SPOOL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SPOOL_MAGIC      "CRMSPOOL1 "
#define SPOOL_HEAD_LEN   31          /* magic + 20 digits + '\n' */
#define SPOOL_MAX_FILE   ((size_t)2 << 30)  /* a file larger than this is refused */
#define SPOOL_MAX_RCPTS  100000

enum spool_area { SPOOL_TMP, SPOOL_NEW, SPOOL_FAILED };

struct spool;
struct spool_file;

/* the envelope of one spooled message; strings may be NULL when unknown */
struct spool_env {
	const char *queue_id;
	const char *mail_from;
	const char *const *rcpts;
	size_t n_rcpts;
	const char *client_addr;
	const char *client_name;
	const char *auth_authen;
	const char *daemon_name;
	const char *message_id;
	int64_t arrival;
	uint64_t size;              /* bytes the MTA sent */
	int originated;             /* 1 our side sent it, 0 not, -1 unknown */
	int truncated;              /* the spool holds only the start of the body */
	int headers_only;           /* the spool holds only the header */
	const char *reply_tag;      /* the ReplyAddress tag taken out of the recipients, or NULL */
};

/* one spooled message read back: env and raw point into buf */
struct spool_msg {
	char *buf;
	size_t buf_len;
	const char *raw;
	size_t raw_len;
	struct spool_env env;
	const char **rcpt_v;        /* owned array behind env.rcpts */
};

/* one directory listing, sorted by name (= arrival order) */
struct spool_list {
	char **names;
	uint64_t *sizes;
	int64_t *mtimes;
	size_t n;
};

/*
 * spool_open - open the spool at DIR; with create, make DIR, tmp/, new/ and
 * failed/ (mode 0750) when missing.  Returns 0 and *out (free with
 * spool_close), or -1 with "DIR: reason" in err.
 */
int spool_open(const char *dir, int create, struct spool **out, char *err, size_t errlen);

/* spool_close - close the spool; NULL is fine */
void spool_close(struct spool *sp);

/* spool_dir - the spool's directory */
const char *spool_dir(const struct spool *sp);

/*
 * spool_lock - take the spool's exclusive lock (DIR/.lock) for the life of
 * the process, so that two daemons never share a spool.  Returns 0, or -1
 * with err filled (another process holds it, or the file cannot be opened).
 */
int spool_lock(struct spool *sp, char *err, size_t errlen);

/* spool_chown - give DIR and its areas (and the lock file) to uid:gid; 0 or -1 (errno) */
int spool_chown(struct spool *sp, uid_t uid, gid_t gid);

/* spool_clean_tmp - remove what a previous run left in tmp/; returns how many */
size_t spool_clean_tmp(struct spool *sp);

/* ---- writing (the milter callbacks) ---- */

/*
 * spool_begin - start a new file in tmp/; HINT (the queue id, or NULL) is
 * made part of the name.  Returns 0 and *out, or -1 with err filled.
 */
int spool_begin(struct spool *sp, const char *hint, struct spool_file **out,
		char *err, size_t errlen);

/*
 * spool_write - append message bytes (buffered).  Returns 0, or -1 when
 * writing failed: the file is then marked bad, later writes do nothing and
 * spool_commit() fails.
 */
int spool_write(struct spool_file *f, const void *data, size_t len);

/* spool_written - message bytes appended so far */
uint64_t spool_written(const struct spool_file *f);

/*
 * spool_commit - append the envelope, write the offset, fsync, rename into
 * new/ and fsync new/.  Frees f whatever happens.  Returns 0 (the message is
 * durable; its name is copied into name) or -1 with err filled (the tmp
 * file is removed).
 */
int spool_commit(struct spool_file *f, const struct spool_env *env, char *name, size_t namelen,
		 char *err, size_t errlen);

/* spool_abandon - remove the tmp file and free f; NULL is fine */
void spool_abandon(struct spool_file *f);

/* ---- reading and moving (the worker, crmctl) ---- */

/* spool_list - the files of one area (no .reason files); 0, or -1 with err. Free with spool_list_free */
int spool_list(struct spool *sp, enum spool_area area, struct spool_list *out, char *err, size_t errlen);

/* spool_list_free - free a listing */
void spool_list_free(struct spool_list *l);

/*
 * spool_count - how many files of area A are still there once listed, their
 * bytes, and the oldest one's mtime (0: none).  0, or -1 with err
 */
int spool_count(struct spool *sp, enum spool_area a, long long *files, long long *bytes,
		int64_t *oldest, char *err, size_t errlen);

/*
 * spool_read - read and check one file of AREA.  Returns 0 and *out (free
 * with spool_msg_free), or -1 with the reason in err: the file is missing
 * (errno ENOENT) or is not a spool file (errno EINVAL), or another I/O
 * error (errno set).
 */
int spool_read(struct spool *sp, enum spool_area area, const char *name, struct spool_msg *out,
	       char *err, size_t errlen);

/* spool_msg_free - free what spool_read filled; a zeroed msg is fine */
void spool_msg_free(struct spool_msg *m);

/* spool_done - the message is in the store: remove new/NAME; 0 or -1 (errno) */
int spool_done(struct spool *sp, const char *name);

/*
 * spool_fail - move new/NAME to failed/NAME and write REASON (one line) to
 * failed/NAME.reason.  Returns 0 or -1 (errno).
 */
int spool_fail(struct spool *sp, const char *name, const char *reason);

/* spool_retry - move failed/NAME back into new/ and remove its reason; 0 or -1 (errno) */
int spool_retry(struct spool *sp, const char *name);

/*
 * spool_state_write - replace the spool's state note NAME (a file in the
 * spool folder beside new/, such as SPOOL_RULES_STATE) with TEXT, whole or
 * not at all (written aside, then renamed).  Returns 0, or -1 (errno).
 */
int spool_state_write(struct spool *sp, const char *name, const char *text);

/*
 * spool_state_read - the note NAME of the spool in DIR into buf (at most
 * len - 1 bytes, NUL-terminated); crmctl reads what crmilter wrote.
 * Returns 0, or -1 (errno; ENOENT when crmilter never wrote it).
 */
int spool_state_read(const char *dir, const char *name, char *buf, size_t len);

/* the rules crmilter has in force: "FILE\nSHA256\nCOUNT\nSINCE\n" (FILE
 * "-" for the built-in rules; SINCE in seconds since the epoch) */
#define SPOOL_RULES_STATE "rules-in-force"

/* spool_reason - the reason kept for failed/NAME into buf ("" when none); returns buf */
const char *spool_reason(struct spool *sp, const char *name, char *buf, size_t len);

/* spool_bytes - bytes held in new/ and failed/, as counted by this process */
uint64_t spool_bytes(const struct spool *sp);

/* spool_recount - count new/ and failed/ again from the disk; returns the total */
uint64_t spool_recount(struct spool *sp);

/* spool_area_name - "tmp", "new" or "failed" */
const char *spool_area_name(enum spool_area area);

#endif
