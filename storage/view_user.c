/*
 * view_user.c - the viewer's users (the users and teams tables of schema
 * version 1), the admin's list of internal mailboxes, and the write probe
 * that proves crmview's store handle is read-only
 *
 * Public: store_user_get, store_users, store_user_set, store_user_secret,
 * store_user_remove, store_view_mailboxes, store_view_write_probe
 * (store.h).  A user's login is its mailbox address (lower case); role is
 * "admin" or "member" (the schema's default "viewer" reads as member);
 * secret is the argon2id string that crmctl user passwd made.  The calls
 * that write (set, secret, remove) need a store opened read-write.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "view_int.h"

/* user_json - a users row at S (id, login, name, role, team, secret) */
static json_t *user_json(sqlite3_stmt *s, int with_secret)
{
	json_t *o = json_object();
	const char *role = (const char *)sqlite3_column_text(s, 3);

	json_object_set_new(o, "id", store_json_int(s, 0));
	json_object_set_new(o, "address", view_col_text(s, 1));
	json_object_set_new(o, "name", view_col_text(s, 2));
	json_object_set_new(o, "role", json_string(role && strcmp(role, "admin") == 0 ? "admin"
						   : "member"));
	json_object_set_new(o, "team", view_col_text(s, 4));
	if (with_secret)
		json_object_set_new(o, "secret", view_col_text(s, 5));
	else
		json_object_set_new(o, "password", json_boolean(sqlite3_column_type(s, 5) != SQLITE_NULL));
	return o;
}

#define SQL_USERS \
	"SELECT u.id, u.login, u.name, u.role, t.name, u.secret FROM users u" \
	" LEFT JOIN teams t ON t.id = u.team_id"

/* store_user_get - one user with its secret; see store.h */
int store_user_get(struct store *st, const char *address, json_t **out, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	int rc;

	view_begin(st, err, errlen, out);
	s = view_prep(st, SQL_USERS " WHERE u.login = ?1", NULL);
	if (!s)
		return view_end(st, view_errclass(st));
	sqlite3_bind_text(s, 1, address ? address : "", -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*out = user_json(s, 1);
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && view_done(st, rc) < 0)
		return view_end(st, view_errclass(st));
	return view_end(st, STORE_OK);
}

/* store_users - every user without secrets; see store.h */
int store_users(struct store *st, json_t **out, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	json_t *a;
	int rc;

	view_begin(st, err, errlen, out);
	s = view_prep(st, SQL_USERS " ORDER BY u.login", NULL);
	if (!s)
		return view_end(st, view_errclass(st));
	a = json_array();
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		json_array_append_new(a, user_json(s, 0));
	sqlite3_finalize(s);
	if (view_done(st, rc) < 0) {
		json_decref(a);
		return view_end(st, view_errclass(st));
	}
	*out = a;
	return view_end(st, STORE_OK);
}

/* write_begin - start a write call: error buffer and BEGIN IMMEDIATE */
static int write_begin(struct store *st, char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	st->err = err;
	st->errlen = errlen;
	return store_exec(st, "BEGIN IMMEDIATE");
}

/* write_end - commit when RC is STORE_OK, else roll back; returns the result */
static int write_end(struct store *st, int rc)
{
	if (rc == STORE_OK)
		rc = store_exec(st, "COMMIT");
	if (rc != STORE_OK && !sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	st->err = NULL;
	st->errlen = 0;
	return rc;
}

/* run - prepare SQL, bind up to 4 texts (NULL binds NULL), step; returns a class */
static int run(struct store *st, const char *sql, const char *a, const char *b, const char *c,
	       const char *d)
{
	const char *v[4] = { a, b, c, d };
	sqlite3_stmt *s = view_prep(st, sql, NULL);
	int rc;

	if (!s)
		return view_errclass(st);
	for (int i = 0; i < 4 && i < sqlite3_bind_parameter_count(s); i++)
		if (v[i])
			sqlite3_bind_text(s, i + 1, v[i], -1, SQLITE_STATIC);
	rc = store_step_done(st, s, "writing a user");
	sqlite3_finalize(s);
	return rc;
}

/* store_user_set - add or change a user; see store.h */
int store_user_set(struct store *st, const char *address, const char *role, const char *team,
		   const char *name, char *err, size_t errlen)
{
	int rc = write_begin(st, err, errlen);

	if (rc == STORE_OK && (!address || !strchr(address, '@') || !role ||
			       (strcmp(role, "admin") != 0 && strcmp(role, "member") != 0)))
		rc = store_fail(st, STORE_EINVAL, "a user needs an address and a role (admin, member)");
	if (rc == STORE_OK && team)
		rc = run(st, "INSERT OR IGNORE INTO teams (name) VALUES (?1)", team, NULL, NULL, NULL);
	if (rc == STORE_OK)
		rc = run(st, "INSERT INTO users (login, role, team_id, name)"
			 " VALUES (?1, ?2, (SELECT id FROM teams WHERE name = ?3), ?4)"
			 " ON CONFLICT (login) DO UPDATE SET role = excluded.role,"
			 " team_id = excluded.team_id, name = coalesce(excluded.name, users.name)",
			 address, role, team, name);
	return write_end(st, rc);
}

/* changes_or_missing - EINVAL "no user ADDRESS" when the last statement changed nothing */
static int changes_or_missing(struct store *st, int rc, const char *address)
{
	if (rc == STORE_OK && sqlite3_changes(st->db) == 0)
		rc = store_fail(st, STORE_EINVAL, "no user %s (add it with: crmctl user add)", address);
	return rc;
}

/* store_user_secret - set a user's password hash; see store.h */
int store_user_secret(struct store *st, const char *address, const char *secret, char *err,
		      size_t errlen)
{
	int rc = write_begin(st, err, errlen);

	if (rc == STORE_OK)
		rc = run(st, "UPDATE users SET secret = ?2 WHERE login = ?1", address, secret, NULL,
			 NULL);
	return write_end(st, changes_or_missing(st, rc, address));
}

/* store_user_remove - remove a user; see store.h */
int store_user_remove(struct store *st, const char *address, char *err, size_t errlen)
{
	int rc = write_begin(st, err, errlen);

	if (rc == STORE_OK)
		rc = run(st, "UPDATE mailboxes SET user_id = NULL WHERE user_id ="
			 " (SELECT id FROM users WHERE login = ?1)", address, NULL, NULL, NULL);
	if (rc == STORE_OK)
		rc = run(st, "DELETE FROM users WHERE login = ?1", address, NULL, NULL, NULL);
	return write_end(st, changes_or_missing(st, rc, address));
}

/* own_sql - "address LIKE ?n OR ..." for the own domains, binding from index 1 */
static char *own_sql(const struct store *st)
{
	char *sql = sqlite3_mprintf("0"), *next;

	for (size_t i = 0; sql && i < st->n_own; i++) {
		next = sqlite3_mprintf("%s OR address LIKE ?%d OR address LIKE ?%d", sql,
				       (int)(2 * i + 1), (int)(2 * i + 2));
		sqlite3_free(sql);
		sql = next;
	}
	return sql;
}

/* store_view_mailboxes - the internal mailboxes; see store.h */
int store_view_mailboxes(struct store *st, json_t **out, char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;
	char *own = own_sql(st), *sql;
	json_t *a, *o;
	int rc;

	view_begin(st, err, errlen, out);
	sql = own ? sqlite3_mprintf(
		"WITH own(addr) AS (SELECT address FROM mailboxes UNION SELECT login FROM users"
		" UNION SELECT DISTINCT address FROM participants WHERE %s)"
		" SELECT o.addr, coalesce(mb.name, u.name), coalesce(mb.state, 'connected'),"
		" (SELECT count(DISTINCT message_id) FROM participants p WHERE p.address = o.addr),"
		" u.role, tm.name FROM own o LEFT JOIN mailboxes mb ON mb.address = o.addr"
		" LEFT JOIN users u ON u.login = o.addr"
		" LEFT JOIN teams tm ON tm.id = coalesce(u.team_id, mb.team_id) ORDER BY o.addr",
		own) : NULL;
	sqlite3_free(own);
	s = sql ? view_prep(st, sql, NULL) : NULL;
	sqlite3_free(sql);
	if (!s)
		return view_end(st, view_errclass(st));
	for (size_t i = 0; i < st->n_own; i++) {
		sqlite3_bind_text(s, (int)(2 * i + 1), sqlite3_mprintf("%%@%s", st->own[i]), -1,
				  sqlite3_free);
		sqlite3_bind_text(s, (int)(2 * i + 2), sqlite3_mprintf("%%.%s", st->own[i]), -1,
				  sqlite3_free);
	}
	a = json_array();
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		o = json_object();
		json_object_set_new(o, "address", view_col_text(s, 0));
		json_object_set_new(o, "name", view_col_text(s, 1));
		json_object_set_new(o, "state", view_col_text(s, 2));
		json_object_set_new(o, "messages", store_json_int(s, 3));
		json_object_set_new(o, "role", sqlite3_column_type(s, 4) == SQLITE_NULL ? json_null()
				    : json_string(strcmp((const char *)sqlite3_column_text(s, 4),
							 "admin") == 0 ? "admin" : "member"));
		json_object_set_new(o, "team", view_col_text(s, 5));
		json_array_append_new(a, o);
	}
	sqlite3_finalize(s);
	if (view_done(st, rc) < 0) {
		json_decref(a);
		return view_end(st, view_errclass(st));
	}
	*out = a;
	return view_end(st, STORE_OK);
}

/* store_view_write_probe - try a write (rolled back); the class of its failure */
int store_view_write_probe(struct store *st)
{
	int rc = sqlite3_exec(st->db, "SAVEPOINT crmview_probe;"
			      " INSERT INTO audit (at, who, action) VALUES (0, 'crmview', 'probe')",
			      NULL, NULL, NULL);

	sqlite3_exec(st->db, "ROLLBACK TO crmview_probe; RELEASE crmview_probe", NULL, NULL, NULL);
	return store_class_of(rc);
}
