/*
 * open.c - opening and closing the store, its pragmas, the prepared
 * statement cache, SQLite error mapping, and the small questions about
 * addresses (internal?  direction of a message?)
 *
 * Public: store_open, store_close, store_schema_version, store_is_internal,
 * store_direction_of, store_strerror.  Private helpers for the rest of
 * storage/ are declared in store_int.h.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_int.h"

/* the SQL of every cached statement, indexed by enum stmt_id */
static const char *const stmt_sql[S_N] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_MSG_BY_MSGID] = "SELECT id, thread_id FROM messages WHERE msgid = ?1",
	[S_MSG_INSERT] =
		"INSERT INTO messages (msgid, thread_id, date, subject, direction, size, flags,"
		" body, dict_id, body_len, body_offset, snippet, quotes, in_reply_to, headers,"
		" warnings)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?16, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
	[S_SOURCE_INSERT] =
		"INSERT OR IGNORE INTO message_sources (message_id, source, origin, queue_id,"
		" mail_from, client_addr, client_name, auth_authen, daemon_name, arrival)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
	[S_RAW_INSERT] =
		"INSERT INTO raw (message_id, mode, size, kept, dict_id, data)"
		" VALUES (?1, ?2, ?3, ?5, ?6, ?4)",
	[S_PART_INSERT] =
		"INSERT OR IGNORE INTO participants (message_id, role, address, name, pos)"
		" VALUES (?1, ?2, ?3, ?4, ?5)",
	[S_ATT_INSERT] =
		"INSERT INTO attachments (message_id, filename, content_type, size, sha256)"
		" VALUES (?1, ?2, ?3, ?4, ?5)",
	[S_FTS_INSERT] = "INSERT INTO fts (rowid, subject, body, people) VALUES (?1, ?2, ?3, ?4)",
	[S_CONT_GET] = "SELECT thread_id, parent, message_id FROM message_ids WHERE msgid = ?1",
	[S_CONT_INSERT] =
		"INSERT INTO message_ids (msgid, thread_id, parent, message_id) VALUES (?1, ?2, ?3, ?4)",
	[S_CONT_SET_PARENT] = "UPDATE message_ids SET parent = ?2 WHERE msgid = ?1",
	[S_CONT_FILL] =
		"UPDATE message_ids SET message_id = ?2, thread_id = ?3, parent = ?4 WHERE msgid = ?1",
	[S_CONT_SET_THREAD] = "UPDATE message_ids SET thread_id = ?2 WHERE msgid = ?1",
	[S_KEY_GET] = "SELECT thread_id FROM thread_keys WHERE key = ?1",
	[S_KEY_INSERT] = "INSERT OR IGNORE INTO thread_keys (key, thread_id) VALUES (?1, ?2)",
	[S_THREAD_NEW] =
		"INSERT INTO threads (subject, norm_subject, first_date, last_date, messages)"
		" VALUES (?1, ?2, ?3, ?3, 0)",
	[S_THREAD_EARLIEST] =
		"SELECT subject FROM messages WHERE thread_id = ?1 ORDER BY date, id LIMIT 1",
	[S_THREAD_UPDATE] =
		"UPDATE threads SET subject = ?2, norm_subject = ?3,"
		" messages = (SELECT count(*) FROM messages WHERE thread_id = ?1),"
		" attachments = (SELECT count(*) FROM messages m JOIN attachments a"
		"  ON a.message_id = m.id WHERE m.thread_id = ?1),"
		" first_date = coalesce((SELECT min(date) FROM messages WHERE thread_id = ?1), first_date),"
		" last_date = coalesce((SELECT max(date) FROM messages WHERE thread_id = ?1), last_date),"
		" (last_in, last_out, wait_us, wait_them) = " STORE_SQL_THREAD_STATUS("?1")
		" WHERE id = ?1",
	[S_MERGE_MSGS] = "UPDATE messages SET thread_id = ?1 WHERE thread_id = ?2",
	[S_MERGE_CONTS] = "UPDATE message_ids SET thread_id = ?1 WHERE thread_id = ?2",
	[S_MERGE_KEYS] = "UPDATE thread_keys SET thread_id = ?1 WHERE thread_id = ?2",
	[S_MERGE_LINKS] = "UPDATE OR IGNORE links SET thread_id = ?1 WHERE thread_id = ?2",
	[S_MERGE_VIS] =
		"SELECT visibility, outside, vis_reason, vis_rule FROM threads"
		" WHERE id = ?1 AND vis_rule IS NOT NULL",
	[S_LINKS_DELETE] = "DELETE FROM links WHERE thread_id = ?1",
	[S_THREAD_DELETE] = "DELETE FROM threads WHERE id = ?1",
	[S_SUBJECT_THREADS] =
		"SELECT DISTINCT m.thread_id FROM messages m WHERE m.subject_key = ?1"
		" AND m.date BETWEEN ?2 - ?3 AND ?2 + ?3 AND m.thread_id IS NOT NULL"
		/* the later of the two (by date, then Message-ID) has no reference headers */
		" AND CASE WHEN (m.date, m.msgid) < (?2, ?4) THEN ?5 = 0 ELSE m.has_refs = 0 END"
		" AND EXISTS (SELECT 1 FROM participants p"
		"  WHERE p.message_id = m.id AND p.address IN (SELECT value FROM json_each(?6)))",
	[S_MSG_SUBJECT_KEY] = "UPDATE messages SET subject_key = ?2, has_refs = ?3 WHERE id = ?1",
	[S_CONTACT_GET] = "SELECT id, account_id FROM contacts WHERE address = ?1",
	[S_CONTACT_INSERT] =
		"INSERT INTO contacts (address, account_id, captured_by, capture_rule)"
		" VALUES (?1, ?2, ?3, ?4)",
	[S_CONTACT_SET_ACCOUNT] = "UPDATE contacts SET account_id = ?2 WHERE id = ?1",
	[S_ACCOUNT_INSERT] =
		"INSERT OR IGNORE INTO accounts (domain, name, rule_id) VALUES (?1, coalesce(?2, ?1), ?3)",
	[S_ACCOUNT_GET] = "SELECT id, name FROM accounts WHERE domain = ?1",
	[S_ACCOUNT_SET_NAME] = "UPDATE accounts SET name = ?2, rule_id = ?3 WHERE id = ?1",
	[S_ACCOUNT_DOMAIN] =
		"INSERT OR REPLACE INTO account_domains (domain, account_id) VALUES (?1, ?2)",
	[S_LINK_CONTACT] =
		"INSERT OR IGNORE INTO links (thread_id, contact_id, rule, rule_id) VALUES (?1, ?2, ?3, ?4)",
	[S_LINK_ACCOUNT] =
		"INSERT OR IGNORE INTO links (thread_id, account_id, rule, rule_id) VALUES (?1, ?2, ?3, ?4)",
	[S_LINK_DEAL] =
		"INSERT OR IGNORE INTO links (thread_id, deal_id, rule, rule_id) VALUES (?1, ?2, ?3, ?4)",
	[S_LINK_PAST_CONTACT] =
		"INSERT OR IGNORE INTO links (thread_id, contact_id, rule, rule_id)"
		" SELECT DISTINCT m.thread_id, ?2, ?3, ?4 FROM participants p"
		" JOIN messages m ON m.id = p.message_id WHERE p.address = ?1"
		" AND m.thread_id IS NOT NULL AND m.untrusted = 0",
	[S_LINK_PAST_ACCOUNT] =
		"INSERT OR IGNORE INTO links (thread_id, account_id, rule, rule_id)"
		" SELECT DISTINCT m.thread_id, ?2, ?3, ?4 FROM participants p"
		" JOIN messages m ON m.id = p.message_id WHERE p.address = ?1"
		" AND m.thread_id IS NOT NULL AND m.untrusted = 0",
	[S_THREADS_ASSIGNED] =
		"UPDATE threads SET unassigned = NULL WHERE unassigned IS NOT NULL"
		" AND unassigned NOT LIKE '% open deals for %' AND id IN (SELECT m.thread_id"
		" FROM participants p JOIN messages m ON m.id = p.message_id WHERE p.address = ?1"
		" AND m.untrusted = 0)",
	[S_RULE_INSERT] =
		"INSERT OR IGNORE INTO rules (file, line, hash, text) VALUES (?1, ?2, ?3, ?4)",
	[S_RULE_GET] = "SELECT id FROM rules WHERE file = ?1 AND line = ?2 AND hash = ?3",
	[S_DEAL_INSERT] =
		"INSERT OR IGNORE INTO deals (key, status, account_id, rule_id) VALUES (?1, 'open', ?2, ?3)",
	[S_DEAL_GET] = "SELECT id FROM deals WHERE key = ?1",
	[S_DEALS_OPEN_OF] =
		"SELECT d.id FROM deal_contacts c JOIN deals d ON d.id = c.deal_id"
		" WHERE c.address = ?1 AND d.status = 'open' ORDER BY d.id",
	[S_THREAD_VIS_GET] =
		"SELECT visibility, outside, vis_rule IS NOT NULL FROM threads WHERE id = ?1",
	[S_THREAD_VIS_SET] =
		"UPDATE threads SET visibility = ?2, outside = ?3, vis_reason = ?4, vis_rule = ?5"
		" WHERE id = ?1",
	[S_THREAD_LINKS] = "SELECT count(*), count(deal_id) FROM links WHERE thread_id = ?1",
	[S_THREAD_UNASSIGNED] = "UPDATE threads SET unassigned = ?2 WHERE id = ?1",
	[S_MSG_DECISION] =
		"UPDATE messages SET log = ?2, log_reason = ?3, log_rule = ?4, rule = ?5,"
		" visibility = ?6, outside = ?7, vis_reason = ?8, vis_rule = ?9, untrusted = ?10"
		" WHERE id = ?1",
	[S_MSG_SKIP_INSERT] =
		"INSERT INTO messages (msgid, thread_id, date, subject, direction, size, flags, log,"
		" log_reason, log_rule, rule, visibility, outside)"
		" VALUES (?1, NULL, ?2, '', ?3, ?4, ?5, 'skipped', ?6, ?7, ?8, 'participants', 'nothing')",
	[S_FORGOTTEN_GET] =
		"SELECT 1 FROM forgotten WHERE hash IN (SELECT value FROM json_each(?1)) LIMIT 1",
	[S_MERGE_HOLDS] = "UPDATE OR IGNORE holds SET thread_id = ?1 WHERE thread_id = ?2",
	[S_CONTACT_RECOUNT] =
		"UPDATE contacts SET sent = a.sent, received = a.received,"
		" first_seen = a.first, last_seen = a.last, name = coalesce(a.name, contacts.name)"
		" FROM (SELECT"
		"  count(DISTINCT CASE WHEN p.role = 'from' THEN p.message_id END) AS sent,"
		"  count(DISTINCT CASE WHEN p.role IN ('to', 'cc', 'bcc', 'envelope-rcpt')"
		"   THEN p.message_id END) AS received,"
		"  min(m.date) AS first, max(m.date) AS last,"
		/* the non-empty name of the latest (date, id): one pass, no sort */
		"  substr(max(CASE WHEN p.name <> '' THEN"
		"   printf('%020d%020d', m.date, m.id) || p.name END), 41) AS name"
		"  FROM participants p JOIN messages m ON m.id = p.message_id"
		"  WHERE p.address = (SELECT address FROM contacts WHERE id = ?1)) AS a"
		" WHERE contacts.id = ?1",
};

/* store_class_of - the store_err class of an SQLite result code */
int store_class_of(int sqlite_rc)
{
	switch (sqlite_rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return STORE_OK;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return STORE_EBUSY;
	case SQLITE_FULL:
		return STORE_EFULL;
	case SQLITE_READONLY:
		return STORE_EREADONLY;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return STORE_ECORRUPT;
	case SQLITE_IOERR:
	case SQLITE_CANTOPEN:
		return STORE_EIO;
	default:
		return STORE_EINVAL;
	}
}

/*
 * store_fail - write a formatted message into the running call's error
 * buffer.  Returns cls, so callers can "return store_fail(...)".
 */
int store_fail(struct store *st, int cls, const char *fmt, ...)
{
	va_list ap;

	if (st->err && st->errlen) {
		va_start(ap, fmt);
		vsnprintf(st->err, st->errlen, fmt, ap);
		va_end(ap);
	}
	return cls;
}

/*
 * store_sqlerr - report an SQLite failure as "PATH: WHAT: message".
 * Returns the error class of rc.
 */
int store_sqlerr(struct store *st, int rc, const char *what)
{
	const char *msg = st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc);
	int cls = store_class_of(rc);

	if (cls == STORE_OK)
		cls = STORE_EINVAL;
	return store_fail(st, cls, "%s: %s: %s", st->path, what, msg);
}

/*
 * store_stmt - the cached statement ID, prepared on first use, reset and
 * unbound.  Returns NULL with st->err set when it cannot be prepared (the
 * caller then returns store_sqlerr-style class via store_class_of of the
 * connection's last error).  The store keeps ownership.
 */
sqlite3_stmt *store_stmt(struct store *st, enum stmt_id id)
{
	sqlite3_stmt *s = st->stmt[id];
	int rc;

	if (s) {
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
		return s;
	}
	rc = sqlite3_prepare_v3(st->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &s, NULL);
	if (rc != SQLITE_OK) {
		store_sqlerr(st, rc, "preparing a statement");
		return NULL;
	}
	st->stmt[id] = s;
	return s;
}

/*
 * store_step_done - run a statement that returns no rows.  Returns
 * STORE_OK, or the error class with "PATH: WHAT: reason" in st->err.
 */
int store_step_done(struct store *st, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		return STORE_OK;
	return store_sqlerr(st, rc, what);
}

/* store_exec - run SQL text (no results).  Returns STORE_OK or an error class. */
int store_exec(struct store *st, const char *sql)
{
	int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? STORE_OK : store_sqlerr(st, rc, "executing SQL");
}

/* store_domain_of - the domain part of an address ("" when none); points into addr */
const char *store_domain_of(const char *addr)
{
	const char *at = addr ? strrchr(addr, '@') : NULL;

	return at ? at + 1 : "";
}

/* own_domains_copy - lower-cased copies of the own domains; 0 or -1 (no memory) */
static int own_domains_copy(struct store *st, const struct store_opts *o)
{
	size_t i;
	char *p;

	if (o->n_own_domains == 0)
		return 0;
	st->own = calloc(o->n_own_domains, sizeof *st->own);
	if (!st->own)
		return -1;
	for (i = 0; i < o->n_own_domains; i++) {
		if (!o->own_domains[i])
			continue;
		st->own[st->n_own] = strdup(o->own_domains[i]);
		if (!st->own[st->n_own])
			return -1;
		for (p = st->own[st->n_own]; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		st->n_own++;
	}
	return 0;
}

/*
 * shm_hint - after a read-only open failed as read-only: when the reason is
 * that this user cannot make PATH-shm (SQLite's readers of a WAL store need
 * it) in a folder it cannot write, say so after the error in st->err
 */
static void shm_hint(struct store *st)
{
	char shm[4200], dir[4200], *slash;
	size_t n;

	snprintf(shm, sizeof shm, "%s-shm", st->path);
	snprintf(dir, sizeof dir, "%s", st->path);
	slash = strrchr(dir, '/');
	if (slash == dir)
		dir[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		snprintf(dir, sizeof dir, ".");
	if (!st->err || access(shm, F_OK) == 0 || access(dir, W_OK) == 0)
		return;
	n = strlen(st->err);
	snprintf(st->err + n, st->errlen - n,
		 " (a reader makes %s, and user %u cannot write the folder %s: give the folder"
		 " to the user the store belongs to)", shm, (unsigned)geteuid(), dir);
}

/*
 * apply_pragmas - foreign keys, durability (synchronous FULL: the milter
 * deletes its spool file once a batch commits), cache, page size, WAL and
 * the busy timeout.  Returns STORE_OK or an error class.
 */
static int apply_pragmas(struct store *st, int busy_ms)
{
	int rc;

	sqlite3_busy_timeout(st->db, busy_ms > 0 ? busy_ms : 5000);
	rc = store_exec(st, "PRAGMA foreign_keys = ON");
	if (rc == STORE_OK)
		rc = store_exec(st, "PRAGMA synchronous = FULL");
	if (rc == STORE_OK)
		rc = store_exec(st, STORE_CACHE_PRAGMA);
	/* 8 KiB pages pack the ~1 KiB compressed rows better; only a new file takes it */
	if (rc == STORE_OK && !st->readonly)
		rc = store_exec(st, "PRAGMA page_size = 8192");
	if (rc == STORE_OK && !st->readonly)
		rc = store_exec(st, "PRAGMA journal_mode = WAL");
	return rc;
}

/*
 * sidecar_modes - give PATH-wal and PATH-shm the database file's mode again
 *
 * SQLite creates -wal and -shm with the mode of the database file.  When
 * they were made while the file was read-only (an admin's chmod 0444), they
 * stay read-only after the file is writable again, and every write fails
 * with "attempt to write a readonly database" until someone fixes them by
 * hand.  Only our own files are changed, and only when the database file
 * itself is writable.
 */
static void sidecar_modes(const char *path)
{
	static const char *const suffix[] = { "-wal", "-shm" };
	struct stat db, sc;
	char side[4096];

	if (stat(path, &db) < 0 || access(path, W_OK) < 0)
		return;
	for (size_t i = 0; i < 2; i++) {
		if ((size_t)snprintf(side, sizeof side, "%s%s", path, suffix[i]) >= sizeof side)
			return;
		if (stat(side, &sc) == 0 && sc.st_uid == geteuid() &&
		    (sc.st_mode & 0777) != (db.st_mode & 0777))
			(void)chmod(side, db.st_mode & 0777);
	}
}

/*
 * create_owned - as root with OPTS->owner_set, create the store file that
 * does not exist yet, empty, mode 0640, owned by the service user: a store
 * root made would be root's and world-readable, and crmilter could not
 * write it.  SQLite, run as root, gives the -wal and -shm the database
 * file's owner.  Returns STORE_OK (also when the file exists or nothing is
 * to be done) or an error class with err set.
 */
static int create_owned(const struct store_opts *opts, char *err, size_t errlen)
{
	int fd;

	if (!opts->owner_set || opts->readonly || geteuid() != 0)
		return STORE_OK;
	fd = open(opts->path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (fd < 0)
		return STORE_OK;	/* it exists (or cannot be made: sqlite3_open says why) */
	if (fchown(fd, (uid_t)opts->owner_uid, (gid_t)opts->owner_gid) < 0 || fchmod(fd, 0640) < 0) {
		if (err && errlen)
			snprintf(err, errlen, "%s: cannot give the new store to uid %u: %s", opts->path,
				 opts->owner_uid, strerror(errno));
		close(fd);
		unlink(opts->path);
		return STORE_EIO;
	}
	close(fd);
	return STORE_OK;
}

/* store_open - open or create the store; see store.h */
int store_open(const struct store_opts *opts, struct store **out, char *err, size_t errlen)
{
	struct store *st = NULL;
	int flags, rc = STORE_EINVAL;

	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	if (!opts || !opts->path || !*opts->path) {
		if (err && errlen)
			snprintf(err, errlen, "store: no database path");
		return STORE_EINVAL;
	}
	st = calloc(1, sizeof *st);
	if (!st || !(st->path = strdup(opts->path)) || own_domains_copy(st, opts) < 0) {
		if (err && errlen)
			snprintf(err, errlen, "%s: out of memory", opts->path);
		goto fail;
	}
	st->err = err;
	st->errlen = errlen;
	st->readonly = opts->readonly;
	st->raw = opts->raw;
	flags = st->readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	if (!st->readonly)
		sidecar_modes(st->path);
	if ((rc = create_owned(opts, err, errlen)) != STORE_OK)
		goto fail;
	rc = sqlite3_open_v2(st->path, &st->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		rc = store_sqlerr(st, rc, "cannot open");
		goto fail;
	}
	sqlite3_extended_result_codes(st->db, 1);
	rc = apply_pragmas(st, opts->busy_timeout_ms);
	if (rc == STORE_OK)
		rc = store_migrate(st);
	if (rc == STORE_EREADONLY && st->readonly)
		shm_hint(st);
	if (rc == STORE_OK && !st->readonly)
		rc = store_zdict_load(st);
	if (rc != STORE_OK)
		goto fail;
	st->err = NULL;
	st->errlen = 0;
	*out = st;
	return STORE_OK;
fail:
	if (st)
		st->err = NULL;
	store_close(st);
	return rc;
}

/* store_checkpoint - see store.h */
int store_checkpoint(struct store *st, char *err, size_t errlen)
{
	int busy = 0, logged = 0, done = 0, rc;

	st->err = err;
	st->errlen = errlen;
	rc = sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, &logged, &done);
	busy = rc == SQLITE_OK && logged >= 0 && done < logged;
	rc = rc != SQLITE_OK ? store_sqlerr(st, rc, "checkpoint")
	     : busy ? store_fail(st, STORE_EBUSY, "%s: checkpoint: %d of %d WAL frames copied",
				 st->path, done, logged) : STORE_OK;
	st->err = NULL;
	st->errlen = 0;
	return rc;
}

/* store_close - finish statements and close; NULL is fine */
void store_close(struct store *st)
{
	size_t i;

	if (!st)
		return;
	for (i = 0; i < S_N; i++)
		sqlite3_finalize(st->stmt[i]);
	sqlite3_close(st->db);
	store_zfree(st);
	store_rule_cache_clear(st);
	store_ids_free(&st->touched);
	store_ids_free(&st->changed);
	for (i = 0; i < st->n_own; i++)
		free(st->own[i]);
	free(st->own);
	free(st->path);
	free(st);
}

/* store_schema_version - PRAGMA user_version of the open store, -1 on error */
int store_schema_version(struct store *st)
{
	sqlite3_stmt *s = NULL;
	int v = -1;

	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* domain_in_list - 1 when DOMAIN equals one of OWN or is a subdomain of one */
static int domain_in_list(const char *const *own, size_t n, const char *domain)
{
	size_t i, dl = strlen(domain), ol;

	for (i = 0; i < n; i++) {
		if (!own[i])
			continue;
		ol = strlen(own[i]);
		if (dl == ol && strcasecmp(domain, own[i]) == 0)
			return 1;
		if (dl > ol && domain[dl - ol - 1] == '.' &&
		    strcasecmp(domain + dl - ol, own[i]) == 0)
			return 1;
	}
	return 0;
}

/* addr_is_own - 1 when ADDR is in one of OWN (or a subdomain), else 0 */
static int addr_is_own(const char *const *own, size_t n, const char *addr)
{
	const char *d = store_domain_of(addr);

	return *d && domain_in_list(own, n, d);
}

/* store_is_internal - 1 when ADDR is in an own domain (or a subdomain), else 0 */
int store_is_internal(const struct store *st, const char *addr)
{
	return addr_is_own((const char *const *)st->own, st->n_own, addr);
}

/* all_internal - 1 when LIST has no external address; *seen counts addresses */
static int all_internal(const char *const *own, size_t n, const struct mail_addrs *list,
			size_t *seen)
{
	size_t i;

	for (i = 0; i < list->n; i++) {
		if (!list->v[i].addr)
			continue;
		(*seen)++;
		if (!addr_is_own(own, n, list->v[i].addr))
			return 0;
	}
	return 1;
}

/* store_direction_for - direction of a message for a list of own domains; see store.h */
enum store_direction store_direction_for(const char *const *own, size_t n,
					 const struct mail_record *rec, int originated)
{
	size_t seen = 0;

	if (all_internal(own, n, &rec->from, &seen) && all_internal(own, n, &rec->to, &seen) &&
	    all_internal(own, n, &rec->cc, &seen) && all_internal(own, n, &rec->bcc, &seen) &&
	    seen > 0)
		return STORE_INTERNAL;
	if (originated == 1)
		return STORE_OUTBOUND;
	if (originated == 0)
		return STORE_INBOUND;
	if (rec->from.n > 0 && rec->from.v[0].addr && addr_is_own(own, n, rec->from.v[0].addr))
		return STORE_OUTBOUND;
	return STORE_INBOUND;
}

/* store_direction_of - direction of a message; see store.h */
enum store_direction store_direction_of(const struct store *st, const struct mail_record *rec,
					int originated)
{
	return store_direction_for((const char *const *)st->own, st->n_own, rec, originated);
}

/* store_strerror - a short name for an error class */
const char *store_strerror(int err)
{
	switch (err) {
	case STORE_OK:
		return "ok";
	case STORE_EBUSY:
		return "busy";
	case STORE_EFULL:
		return "full";
	case STORE_EREADONLY:
		return "read-only";
	case STORE_ECORRUPT:
		return "corrupt";
	case STORE_EIO:
		return "i/o error";
	default:
		return "invalid";
	}
}

/* store_write_begin - see store_int.h */
int store_write_begin(struct store *st, char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	st->err = err;
	st->errlen = errlen;
	st->touched.n = 0;
	st->changed.n = 0;
	store_rule_cache_clear(st);
	if (st->readonly)
		return store_fail(st, STORE_EREADONLY, "%s: store opened read-only", st->path);
	return STORE_OK;
}

/* store_write_end - see store_int.h */
int store_write_end(struct store *st, int rc)
{
	store_rule_cache_clear(st);
	st->touched.n = 0;
	st->changed.n = 0;
	st->err = NULL;
	st->errlen = 0;
	return rc;
}
