/*
 * mailbox.c - disconnecting and reconnecting internal mailboxes, and the
 * check that keeps a disconnected mailbox's new mail out of the store
 *
 * Public: store_mailbox_set, store_mailboxes, store_mailbox_disconnected_only
 * (store.h).  Private to storage/: store_mailbox_load, store_mailbox_unload,
 * store_mailbox_skip (store_int.h), which store_ingest() uses once per
 * batch: the disconnected set is read inside the batch's transaction, so a
 * running crmilter follows `crmctl disconnect` from its next batch on,
 * without a restart.
 *
 * The rule: a new message is logged only when at least one of its internal
 * participants (From, To, Cc, Bcc and envelope recipients in the own
 * domains) is a connected mailbox.  A message whose internal participants
 * are all disconnected is stored as a skipped metadata row with the reason
 * STORE_DISCONNECTED_REASON; a message with no internal participant at all
 * is not concerned.  Mail stored before stays as it is.
 *
 * State lives in the mailboxes table (address, state 'connected' or
 * 'disconnected', changed); a mailbox without a row is connected.  Every
 * change writes an audit row (at, who, action "disconnect" or "reconnect",
 * detail = the address) in the same transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "store_int.h"

/* store_mailbox_unload - forget the disconnected set of the last batch */
void store_mailbox_unload(struct store *st)
{
	for (size_t i = 0; i < st->n_disconnected; i++)
		free(st->disconnected[i]);
	free(st->disconnected);
	st->disconnected = NULL;
	st->n_disconnected = 0;
}

/* set_add - append a copy of ADDR to the disconnected set; 0, or -1 out of memory */
static int set_add(struct store *st, const char *addr)
{
	char **nv = realloc(st->disconnected, (st->n_disconnected + 1) * sizeof *nv);

	if (!nv)
		return -1;
	st->disconnected = nv;
	nv[st->n_disconnected] = strdup(addr);
	if (!nv[st->n_disconnected])
		return -1;
	st->n_disconnected++;
	return 0;
}

/*
 * store_mailbox_load - read the disconnected mailboxes into st (replacing
 * what was there).  Returns STORE_OK, or an error class with st->err
 * filled (the set is then empty).  store_mailbox_unload() frees it.
 */
int store_mailbox_load(struct store *st)
{
	sqlite3_stmt *s = NULL;
	int rc;

	store_mailbox_unload(st);
	rc = sqlite3_prepare_v2(st->db, "SELECT address FROM mailboxes WHERE state = 'disconnected'",
				-1, &s, NULL);
	if (rc != SQLITE_OK)
		return store_sqlerr(st, rc, "reading the disconnected mailboxes");
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *a = (const char *)sqlite3_column_text(s, 0);

		if (a && set_add(st, a) < 0) {
			sqlite3_finalize(s);
			store_mailbox_unload(st);
			return store_fail(st, STORE_EINVAL, "%s: out of memory", st->path);
		}
	}
	if (rc != SQLITE_DONE) {
		rc = store_sqlerr(st, rc, "reading the disconnected mailboxes");
		store_mailbox_unload(st);
	} else {
		rc = STORE_OK;
	}
	sqlite3_finalize(s);
	return rc;
}

/* is_disconnected - 1 when ADDR is in the loaded set */
static int is_disconnected(const struct store *st, const char *addr)
{
	for (size_t i = 0; i < st->n_disconnected; i++)
		if (strcasecmp(st->disconnected[i], addr) == 0)
			return 1;
	return 0;
}

/* tally - count ADDR when it is internal: *internal, and *connected when not disconnected */
static void tally(const struct store *st, const char *addr, size_t *internal, size_t *connected)
{
	if (!addr || !*addr || !store_is_internal(st, addr))
		return;
	(*internal)++;
	if (!is_disconnected(st, addr))
		(*connected)++;
}

/* only_disconnected - 1 when REC and ENV have internal participants, none of them connected */
static int only_disconnected(const struct store *st, const struct mail_record *rec,
			     const struct store_envelope *env)
{
	const struct mail_addrs *lists[] = { &rec->from, &rec->to, &rec->cc, &rec->bcc };
	size_t internal = 0, connected = 0;

	if (st->n_disconnected == 0)
		return 0;
	for (size_t l = 0; l < sizeof lists / sizeof lists[0]; l++)
		for (size_t i = 0; i < lists[l]->n; i++)
			tally(st, lists[l]->v[i].addr, &internal, &connected);
	for (size_t i = 0; env && i < env->n_rcpts; i++)
		tally(st, env->rcpts[i], &internal, &connected);
	return internal > 0 && connected == 0;
}

/*
 * store_mailbox_skip - 1 when item IT must be skipped because its internal
 * participants are all disconnected mailboxes (the set loaded by
 * store_mailbox_load), else 0
 */
int store_mailbox_skip(const struct store *st, const struct store_item *it)
{
	return it->rec && only_disconnected(st, it->rec, it->env);
}

/* store_mailbox_disconnected_only - see store.h */
int store_mailbox_disconnected_only(struct store *st, const struct mail_record *rec,
				    const struct store_envelope *env, char *err, size_t errlen)
{
	int rc, skip;

	if (err && errlen)
		err[0] = '\0';
	st->err = err;
	st->errlen = errlen;
	rc = store_mailbox_load(st);
	skip = rc == STORE_OK ? only_disconnected(st, rec, env) : -1;
	store_mailbox_unload(st);
	st->err = NULL;
	st->errlen = 0;
	return skip;
}

/* state_of - *connected 1 when ADDR has no row or a connected one, else 0 */
static int state_of(struct store *st, const char *addr, int *connected)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(st->db, "SELECT state FROM mailboxes WHERE address = ?1", -1, &s,
				    NULL);

	*connected = 1;
	if (rc != SQLITE_OK)
		return store_sqlerr(st, rc, "reading a mailbox");
	sqlite3_bind_text(s, 1, addr, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*connected = strcmp((const char *)sqlite3_column_text(s, 0), "disconnected") != 0;
	sqlite3_finalize(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK
						     : store_sqlerr(st, rc, "reading a mailbox");
}

/* run - prepare SQL, bind ?1..?3 (text A, B, C) and ?4 (integer AT), step once, finalize */
static int run(struct store *st, const char *sql, const char *a, const char *b, const char *c,
	       int64_t at, const char *what)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);

	if (rc != SQLITE_OK)
		return store_sqlerr(st, rc, what);
	sqlite3_bind_text(s, 1, a, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, b, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, c, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, at);
	rc = store_step_done(st, s, what);
	sqlite3_finalize(s);
	return rc;
}

/* change - set ADDR's state and write the audit row by WHO, both at the same time */
static int change(struct store *st, const char *addr, int connected, const char *who)
{
	int64_t at = (int64_t)time(NULL);
	int rc;

	rc = run(st, "INSERT INTO mailboxes (address, state, changed) VALUES (?1, ?2, ?4)"
		 " ON CONFLICT (address) DO UPDATE SET state = excluded.state,"
		 " changed = excluded.changed", addr, connected ? "connected" : "disconnected",
		 NULL, at, "changing a mailbox");
	if (rc == STORE_OK)
		rc = run(st, "INSERT INTO audit (at, who, action, detail) VALUES (?4, ?2, ?3, ?1)",
			 addr, who, connected ? "reconnect" : "disconnect", at, "writing the audit");
	return rc;
}

/* store_mailbox_set - see store.h */
int store_mailbox_set(struct store *st, const char *addr, int connected, const char *who,
		      int *changed, char *err, size_t errlen)
{
	int rc, cur = 1;

	*changed = 0;
	rc = store_write_begin(st, err, errlen);
	if (rc == STORE_OK && (!addr || !*addr || !who || !*who))
		rc = store_fail(st, STORE_EINVAL, "%s: a mailbox change needs an address and who",
				st->path);
	if (rc == STORE_OK)
		rc = store_exec(st, "BEGIN IMMEDIATE");
	if (rc == STORE_OK)
		rc = state_of(st, addr, &cur);
	if (rc == STORE_OK && cur != !!connected) {
		*changed = 1;
		rc = change(st, addr, !!connected, who);
	}
	if (rc == STORE_OK)
		rc = store_exec(st, "COMMIT");
	if (rc != STORE_OK && !sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	if (rc != STORE_OK)
		*changed = 0;
	return store_write_end(st, rc);
}

/* ---- the list ---- */

/* the columns of a listed mailbox; the own(addr) table is put in front */
#define MAILBOX_COLUMNS \
	" SELECT o.addr, coalesce(mb.state, 'connected'), mb.changed," \
	" (SELECT a.who FROM audit a WHERE a.detail = o.addr" \
	"  AND a.action IN ('disconnect', 'reconnect') ORDER BY a.at DESC, a.id DESC LIMIT 1)," \
	" (SELECT count(*) FROM messages m WHERE m.log <> 'skipped' AND m.id IN" \
	"  (SELECT p.message_id FROM participants p WHERE p.address = o.addr))" \
	" FROM own o LEFT JOIN mailboxes mb ON mb.address = o.addr ORDER BY o.addr"

/* one mailbox ?1, when the store knows it */
#define MAILBOX_ONE \
	"WITH own(addr) AS (SELECT ?1 WHERE EXISTS (SELECT 1 FROM mailboxes WHERE address = ?1)" \
	" OR EXISTS (SELECT 1 FROM users WHERE login = ?1)" \
	" OR EXISTS (SELECT 1 FROM participants WHERE address = ?1))" MAILBOX_COLUMNS

/*
 * list_sql - the SQL of the whole list: the mailboxes table, crmview's
 * users and every participant in an own domain (address LIKE ?2, ?3...).
 * Returns a string to sqlite3_free(), or NULL when memory runs out.
 */
static char *list_sql(const struct store *st)
{
	char *own = sqlite3_mprintf("0"), *next, *sql;

	for (size_t i = 0; own && i < st->n_own; i++) {
		next = sqlite3_mprintf("%s OR address LIKE ?%d OR address LIKE ?%d", own,
				       (int)(2 * i + 2), (int)(2 * i + 3));
		sqlite3_free(own);
		own = next;
	}
	if (!own)
		return NULL;
	sql = sqlite3_mprintf("WITH own(addr) AS (SELECT address FROM mailboxes UNION SELECT login"
			      " FROM users UNION SELECT address FROM participants WHERE %s)"
			      MAILBOX_COLUMNS, own);
	sqlite3_free(own);
	return sql;
}

/* iso_json - epoch seconds as "YYYY-MM-DDTHH:MM:SSZ", null for a NULL column I */
static json_t *iso_json(sqlite3_stmt *s, int i)
{
	time_t t = (time_t)sqlite3_column_int64(s, i);
	struct tm tm;
	char buf[32];

	if (sqlite3_column_type(s, i) == SQLITE_NULL || !gmtime_r(&t, &tm))
		return json_null();
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

/* text_json - text column I as a string, null when NULL */
static json_t *text_json(sqlite3_stmt *s, int i)
{
	const char *v = (const char *)sqlite3_column_text(s, i);

	return v ? json_string(v) : json_null();
}

/* row_json - one listed mailbox */
static json_t *row_json(sqlite3_stmt *s)
{
	json_t *o = json_object();

	json_object_set_new(o, "address", text_json(s, 0));
	json_object_set_new(o, "state", text_json(s, 1));
	json_object_set_new(o, "since", iso_json(s, 2));
	json_object_set_new(o, "by", text_json(s, 3));
	json_object_set_new(o, "messages", json_integer(sqlite3_column_int64(s, 4)));
	return o;
}

/* prepare_list - *out: the statement listing ADDR (or every mailbox), bound; STORE_OK or a class */
static int prepare_list(struct store *st, const char *addr, sqlite3_stmt **out)
{
	char *sql = addr ? NULL : list_sql(st);
	int rc;

	*out = NULL;
	if (!addr && !sql)
		return store_fail(st, STORE_EINVAL, "%s: out of memory", st->path);
	rc = sqlite3_prepare_v2(st->db, addr ? MAILBOX_ONE : sql, -1, out, NULL);
	sqlite3_free(sql);
	if (rc != SQLITE_OK) {
		sqlite3_finalize(*out);
		*out = NULL;
		return store_sqlerr(st, rc, "listing mailboxes");
	}
	if (addr)
		sqlite3_bind_text(*out, 1, addr, -1, SQLITE_STATIC);
	for (size_t i = 0; !addr && i < st->n_own; i++) {
		sqlite3_bind_text(*out, (int)(2 * i + 2), sqlite3_mprintf("%%@%s", st->own[i]), -1,
				  sqlite3_free);
		sqlite3_bind_text(*out, (int)(2 * i + 3), sqlite3_mprintf("%%.%s", st->own[i]), -1,
				  sqlite3_free);
	}
	return STORE_OK;
}

/* store_mailboxes - see store.h */
int store_mailboxes(struct store *st, const char *addr, json_t **out, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	json_t *a;
	int rc;

	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	st->err = err;
	st->errlen = errlen;
	sqlite3_exec(st->db, "BEGIN", NULL, NULL, NULL);
	rc = prepare_list(st, addr, &s);
	if (rc != STORE_OK)
		goto out;
	a = json_array();
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		json_array_append_new(a, row_json(s));
	rc = rc == SQLITE_DONE ? STORE_OK : store_sqlerr(st, rc, "listing mailboxes");
	sqlite3_finalize(s);
	if (rc == STORE_OK)
		*out = a;
	else
		json_decref(a);
out:
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
	st->err = NULL;
	st->errlen = 0;
	return rc;
}
