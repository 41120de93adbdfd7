/*
 * deals.c - deals as ops import them (crmctl deals import): key, name,
 * account, contacts, open or closed; and the list of deals
 *
 * A deal is found by its key.  Importing again updates name, account and
 * status and replaces its contacts, so the CSV stays the source of truth.
 * Deals also appear when a rule finds an unknown key (a subject tag): they
 * are created open, with no name, by that rule (decide.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

/* prep - prepare SQL or report; NULL on error */
static sqlite3_stmt *prep(struct store *st, const char *sql)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);

	if (rc != SQLITE_OK) {
		store_sqlerr(st, rc, "preparing a deals statement");
		sqlite3_finalize(s);
		return NULL;
	}
	return s;
}

/* deal_upsert - insert or update one deal; *id gets its id */
static int deal_upsert(struct store *st, const struct store_deal_row *r, int64_t aid, int64_t *id)
{
	sqlite3_stmt *s = prep(st, "INSERT INTO deals (key, name, account_id, status)"
			       " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (key) DO UPDATE SET"
			       " name = excluded.name, account_id = excluded.account_id,"
			       " status = excluded.status RETURNING id");
	int rc;

	if (!s)
		return store_stmt_err(st);
	sqlite3_bind_text(s, 1, r->key, -1, SQLITE_STATIC);
	if (r->name && *r->name)
		sqlite3_bind_text(s, 2, r->name, -1, SQLITE_STATIC);
	if (aid)
		sqlite3_bind_int64(s, 3, aid);
	sqlite3_bind_text(s, 4, r->open ? "open" : "closed", -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	*id = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? STORE_OK : store_sqlerr(st, rc, "importing a deal");
}

/* deal_contacts - replace the contacts of deal ID */
static int deal_contacts(struct store *st, int64_t id, const struct store_deal_row *r)
{
	sqlite3_stmt *del = prep(st, "DELETE FROM deal_contacts WHERE deal_id = ?1");
	sqlite3_stmt *ins = prep(st, "INSERT OR IGNORE INTO deal_contacts (deal_id, address)"
				 " VALUES (?1, lower(?2))");
	int rc = del && ins ? STORE_OK : store_stmt_err(st);

	if (rc == STORE_OK) {
		sqlite3_bind_int64(del, 1, id);
		rc = store_step_done(st, del, "replacing a deal's contacts");
	}
	for (size_t i = 0; rc == STORE_OK && i < r->n_contacts; i++) {
		sqlite3_reset(ins);
		sqlite3_bind_int64(ins, 1, id);
		sqlite3_bind_text(ins, 2, r->contacts[i], -1, SQLITE_STATIC);
		rc = store_step_done(st, ins, "adding a deal's contact");
	}
	sqlite3_finalize(del);
	sqlite3_finalize(ins);
	return rc;
}

/* store_deals_import - see store.h */
int store_deals_import(struct store *st, const struct store_deal_row *rows, size_t n,
		       char *err, size_t errlen)
{
	int64_t aid, id = 0;
	int rc;

	rc = store_write_begin(st, err, errlen);
	if (rc == STORE_OK)
		rc = store_exec(st, "BEGIN IMMEDIATE");
	for (size_t i = 0; rc == STORE_OK && i < n; i++) {
		aid = 0;
		if (rows[i].account && *rows[i].account)
			rc = store_account_ensure(st, rows[i].account, NULL, NULL, &aid);
		if (rc == STORE_OK)
			rc = deal_upsert(st, &rows[i], aid, &id);
		if (rc == STORE_OK)
			rc = deal_contacts(st, id, &rows[i]);
	}
	if (rc == STORE_OK)
		rc = store_exec(st, "COMMIT");
	if (rc != STORE_OK && !sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return store_write_end(st, rc);
}

/* store_deals - see store.h */
json_t *store_deals(struct store *st, char *err, size_t errlen)
{
	sqlite3_stmt *s, *c;
	json_t *a = json_array(), *o, *people;

	if (err && errlen)
		err[0] = '\0';
	st->err = err;
	st->errlen = errlen;
	s = prep(st, "SELECT d.id, d.key, d.name, a.domain, d.status,"
		 " (SELECT count(*) FROM links l WHERE l.deal_id = d.id)"
		 " FROM deals d LEFT JOIN accounts a ON a.id = d.account_id ORDER BY d.key");
	c = prep(st, "SELECT address FROM deal_contacts WHERE deal_id = ?1 ORDER BY address");
	while (s && c && sqlite3_step(s) == SQLITE_ROW) {
		o = json_object();
		people = json_array();
		sqlite3_reset(c);
		sqlite3_bind_int64(c, 1, sqlite3_column_int64(s, 0));
		while (sqlite3_step(c) == SQLITE_ROW)
			json_array_append_new(people, json_string((const char *)sqlite3_column_text(c, 0)));
		json_object_set_new(o, "key", json_string((const char *)sqlite3_column_text(s, 1)));
		json_object_set_new(o, "name", sqlite3_column_text(s, 2) ?
			json_string((const char *)sqlite3_column_text(s, 2)) : json_null());
		json_object_set_new(o, "account", sqlite3_column_text(s, 3) ?
			json_string((const char *)sqlite3_column_text(s, 3)) : json_null());
		json_object_set_new(o, "status", json_string((const char *)sqlite3_column_text(s, 4)));
		json_object_set_new(o, "contacts", people);
		json_object_set_new(o, "threads", json_integer(sqlite3_column_int64(s, 5)));
		json_array_append_new(a, o);
	}
	if (!s || !c) {
		json_decref(a);
		a = NULL;
	}
	sqlite3_finalize(s);
	sqlite3_finalize(c);
	st->err = NULL;
	st->errlen = 0;
	return a;
}
